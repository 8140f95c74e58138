"""The firmware on MicroPython older than the unix port's (every board's min_micropython is 1.22)
and on a 32-bit build, whose small ints end at 2^30 - 1 as an ESP32's do (the unix port's at
2^62 - 1): MicroPython's official WebAssembly port under node (tools/mpwasm, docs/firmware.md),
at the oldest builds there are. The tests are the unix port's, run there unchanged.

Before 1.23.0 the port has asyncio's C core but not its package, so there the modules that
import asyncio (band.ble, band.app and the simulator) cannot load: those builds run the shared
core, the flash log, the IMU drivers and the bias rule; 1.23.0 runs the whole app on the
simulated hardware (no central: the port has no sockets, tools/mpwasm/lib/socket.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from sim_central import FIRMWARE, ROOT, run_mp
from test_band_bias import test_a_kept_bias_counts_as_one_still_block_on_cpython_and_micropython as bias_seed_rule
from test_band_imu_raw import test_a_band_up_for_months_keeps_its_events_and_raw_indexes as band_up_for_months
from test_band_imu_raw import test_imu_drivers_decode_a_fifo_without_allocating as drivers_decode_without_allocating
from test_band_imu_raw import test_per_sample_path_allocates_nothing as per_sample_path_allocates_nothing
from test_band_log import test_recovery_survives_random_damage as log_recovery_survives_damage
from test_detector_twin import _mpy_run, _write_samples, busy, signal, twin

sys.path.insert(0, str(ROOT))
from tools import mpwasm  # noqa: E402

# The oldest build with the asyncio package: the whole app loads there.
APP_BUILD = "mp-1.23.0"


def _command(version: str) -> list[str]:
    try:
        return mpwasm.command(version)
    except mpwasm.Missing as e:
        pytest.fail(str(e))


@pytest.fixture(params=mpwasm.OLD_BUILDS)
def old_mp(request: pytest.FixtureRequest) -> list[str]:
    return _command(request.param)


@pytest.fixture
def app_mp() -> list[str]:
    return _command(APP_BUILD)


LOAD = r'''
import json, sys
out = {"version": sys.version, "asyncio": True, "compile": {}, "import": {}}
try:
    import asyncio
except ImportError:
    out["asyncio"] = False
for path in sys.argv[2:]:
    try:
        with open(path) as f:
            compile(f.read(), path, "exec")
    except Exception as e:
        out["compile"][path] = "%s: %s" % (type(e).__name__, e)
for name in sys.argv[1].split(","):
    try:
        __import__(name)
    except Exception as e:
        out["import"][name] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(out))
'''


def test_every_firmware_file_compiles_and_every_module_loads(old_mp: list[str], tmp_path: Path) -> None:
    """main.py (it needs a board's ``machine``) and the simulator compile; every band/ and swcore/
    module imports, but for the asyncio package the port lacks before 1.23.0."""
    files = sorted(FIRMWARE.glob("*.py")) + sorted(FIRMWARE.glob("*/*.py"))
    modules = ["%s.%s" % (p.parent.name, p.stem) for p in files if p.parent.name in ("band", "swcore") and p.stem != "__init__"]
    assert len(modules) >= 18 and (FIRMWARE / "main.py") in files
    out = json.loads(run_mp(old_mp, tmp_path / "load.py", LOAD, ",".join(modules), *map(str, files)))
    assert out["compile"] == {}, out["version"]
    failed = out["import"]
    if out["asyncio"]:
        assert failed == {}, out["version"]
    else:
        assert all(why == "ImportError: no module named 'asyncio'" for why in failed.values()), (out["version"], failed)
        assert not [m for m in failed if m.startswith("swcore.")]
        assert set(failed) <= {"band.ble", "band.app", "band.startup"}, failed


def _case(case: str) -> tuple[float, bool, tuple[np.ndarray, np.ndarray]]:
    if case == "busy-50Hz":  # handling, rocking, crying and clusters: every state, the counter's matches
        return 50.0, True, busy(50.0, True)
    rate, gyro = (100.0, True) if case == "gyro-100Hz" else (52.0, False)
    a, g = signal(rate, 0 if gyro else 1)
    return rate, gyro, (a, g if gyro else np.zeros_like(g))


@pytest.mark.parametrize("case", ["gyro-100Hz", "accel-52Hz", "busy-50Hz"])
def test_detector_matches_the_twin_with_the_heap_locked(old_mp: list[str], repo_root: Path, tmp_path: Path, case: str) -> None:
    """Found here: on MicroPython 1.22 and 1.23 the detector's angle clamp, (1 << 30) // kq, was a
    heap int on a 32-bit board (the result of heap-int arithmetic stayed one before 1.24, however
    small), so every sample of every movement allocated (-lim) and did big-int arithmetic. The
    unix port's ints are 64-bit: its heap-locked tests could not see it."""
    rate, gyro, (a, g) = _case(case)
    path = tmp_path / "samples.txt"
    _write_samples(path, a, g)
    got = _mpy_run(old_mp, repo_root, path, rate, gyro, heap_locked=True)
    assert got[0], "no spasm found: the comparison would be vacuous"
    assert bool(got[2]) == gyro, "with a gyro the cluster counter's matches are compared too"
    assert got == twin(a, g, rate, gyro, 3001)


def test_event_log_recovers_from_damage(old_mp: list[str], tmp_path: Path) -> None:
    log_recovery_survives_damage(old_mp, tmp_path)


def test_imu_drivers_decode_without_allocating(old_mp: list[str], tmp_path: Path) -> None:
    drivers_decode_without_allocating(old_mp, tmp_path)


def test_kept_gyro_bias_rule(old_mp: list[str], tmp_path: Path) -> None:
    bias_seed_rule(old_mp, tmp_path)


@pytest.mark.parametrize("raw", ["raw", "noraw"])
def test_app_per_sample_path_allocates_nothing(app_mp: list[str], many_spasms_csv: Path, tmp_path: Path, raw: str) -> None:
    """The band's whole per-sample path (App._process) with the heap locked, on 1.23 and 32-bit:
    it raised MemoryError at the first spasm before the fix above."""
    per_sample_path_allocates_nothing(app_mp, many_spasms_csv, tmp_path, raw)


def test_a_band_up_for_months(app_mp: list[str], many_spasms_csv: Path, tmp_path: Path) -> None:
    """The index shift and the RAW count's laps where small ints really end at 2^30 - 1."""
    band_up_for_months(app_mp, many_spasms_csv, tmp_path)
