"""Fixtures for firmware tests: simulated recordings (the `micropython` binary fixture is tests/conftest.py's)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _simulated(tmp: Path, name: str, **kw: Any) -> tuple[Path, dict[str, Any]]:
    from spasmwatch.sim import Scenario, simulate, write_recording

    path = tmp / (name + ".csv")
    write_recording(simulate(Scenario(**kw)), path)
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    return path, truth


@pytest.fixture(scope="session")
def flashed_fw(micropython: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The firmware as ``spasmwatch flash`` writes it to a board (band/ and swcore/ as .mpy), plus sim/."""
    from sim_central import flashed_firmware

    return flashed_firmware(micropython, tmp_path_factory.mktemp("flashed"))


@pytest.fixture(scope="session")
def night_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One simulated hour of night sleep at 50 Hz with one cluster of spasms."""
    return _simulated(
        tmp_path_factory.mktemp("rec"), "night", kind="night", duration_s=3600, rate_hz=50, clusters=1, cluster_size=(8, 12), seed=5
    )


@pytest.fixture(scope="session")
def morning_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """15 simulated minutes: asleep, waking, a cluster within minutes (50 Hz)."""
    return _simulated(tmp_path_factory.mktemp("rec"), "morning", kind="morning", duration_s=900, rate_hz=50, seed=3)


@pytest.fixture(scope="session")
def many_spasms_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hand-made: a supine baby breathing with 14 idealised spasms 8 s apart (50 Hz, 150 s)."""
    from sim_central import write_csv
    from synthetic import supine

    t, acc, gyro = supine(rate_hz=50, duration_s=150, spasms=tuple(15.0 + 8 * i for i in range(14)), seed=2)
    return write_csv(tmp_path_factory.mktemp("rec") / "many.csv", t, acc, gyro)


@pytest.fixture(scope="session")
def overruns_then_calm_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """many_spasms_csv's 14 spasms (15-119 s), then calm breathing to 250 s: with a slow flash
    (--flash-stall-ms), overruns then two minutes without any."""
    from sim_central import write_csv
    from synthetic import supine

    t, acc, gyro = supine(rate_hz=50, duration_s=250, spasms=tuple(15.0 + 8 * i for i in range(14)), seed=2)
    return write_csv(tmp_path_factory.mktemp("rec") / "calm.csv", t, acc, gyro)
