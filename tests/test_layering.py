"""The layering rules docs/engineering.md ("Layout") states, read from the source's imports (every
import statement, function-level ones too): a rule broken shows here, not on a board's heap or in a
command that starts the daemon's parts to replay a file."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
HOST = ROOT / "host" / "spasmwatch"
# What swcore may import: built into MicroPython and CPython alike, and micropython in compat.py
# behind a try. Not machine, bluetooth, band or sim: the detector core runs unchanged in the host.
PORTABLE = {"array", "struct", "swcore"}
# The host parts the daemon is built on. None imports the daemon's side (HOST_UPPER): replay and
# evaluate run on them without it, and a change up there cannot reach them.
HOST_LOWER = ("analysis", "io", "store", "transport")
HOST_UPPER = {"daemon", "alerts", "commands", "config", "cli", "firstrun", "export", "report"}
# The band's code, as flashed but for swcore.
BAND = sorted([FIRMWARE / "main.py", *(FIRMWARE / "band").glob("*.py")])
# The firmware's packages: the host runs band/ and sim/ under micropython only, never imports them.
FIRMWARE_PACKAGES = {p.name for p in FIRMWARE.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}


def imports(path: Path) -> set[str]:
    """The dotted names ``path`` imports; ``from a import b`` gives ``a`` and ``a.b``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import (the rules below read absolute ones)"
            names.add(node.module or "")
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", sorted((FIRMWARE / "swcore").glob("*.py")), ids=_rel)
def test_the_shared_core_imports_no_hardware_nor_either_sides_code(path: Path) -> None:
    allowed = PORTABLE | ({"micropython"} if path.name == "compat.py" else set())
    bad = {n for n in imports(path) if n.split(".")[0] not in allowed}
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: swcore runs unchanged on the band and the host"


def forgotten(paths: list[Path]) -> set[str]:
    """The modules the band drops once used (band.app._forget's arguments): start-up-only code."""
    calls = [n for p in paths for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, ast.Call)]
    named = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "_forget"]
    return {a.value for c in named for a in c.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}


@pytest.mark.parametrize("path", BAND, ids=_rel)
def test_the_bands_resident_code_imports_the_protocols_wire_half_only(path: Path) -> None:
    """swcore/protocol.py is the host's: its decoders and commands stay off the band's heap all night
    (docs/protocol.md). A start-up-only module may read it, both dropped once used (band/bootlink.py)."""
    if not {n for n in imports(path) if n == "swcore.protocol" or n.startswith("swcore.protocol.")}:
        return
    dropped = forgotten(BAND)
    assert "swcore.protocol" in dropped and f"band.{path.stem}" in dropped, f"{_rel(path)} keeps swcore.protocol on the heap"


@pytest.mark.parametrize("path", sorted(HOST.rglob("*.py")), ids=_rel)
def test_the_host_imports_of_the_firmware_only_swcore(path: Path) -> None:
    bad = {n for n in imports(path) if n.split(".")[0] in FIRMWARE_PACKAGES - {"swcore"}}
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: band/ and sim/ run under micropython only"


@pytest.mark.parametrize("path", sorted(p for part in HOST_LOWER for p in (HOST / part).rglob("*.py")), ids=_rel)
def test_the_parts_under_the_daemon_import_nothing_of_its_side(path: Path) -> None:
    bad = {n for n in imports(path) if n.startswith("spasmwatch.") and n.split(".")[1] in HOST_UPPER}
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: {path.relative_to(HOST).parts[0]}/ lies under the daemon"


# The daemon's side but not the daemon: the daemon runs them, 'report' and 'export' run them without
# one. They import nothing of daemon/: what they share with it (the clock, this computer's zone, the
# words for local times) lies beside it, in clock.py, which until 2026-12-07 was daemon/clock.py:
# report/text.py, export/ and alerts/ each loaded daemon/ and its thresholds for their times' words.
BESIDE_THE_DAEMON = ("alerts", "export", "report")
# Imports of daemon/ these may make, each for its reason: a local channel's command is started with
# the stop signals the daemon blocks in every thread set back to their default (alerts/channels/_proc.py):
# which signals those are is the daemon's stop machinery's to say.
DAEMON_IMPORTS_BESIDE = {"alerts/channels/_proc.py": {"spasmwatch.daemon.stopping", "spasmwatch.daemon.stopping.STOP_SIGNALS"}}


@pytest.mark.parametrize("path", sorted(p for part in BESIDE_THE_DAEMON for p in (HOST / part).rglob("*.py")), ids=_rel)
def test_the_parts_beside_the_daemon_import_nothing_of_it(path: Path) -> None:
    named = {n for n in imports(path) if n == "spasmwatch.daemon" or n.startswith("spasmwatch.daemon.")}
    bad = named - DAEMON_IMPORTS_BESIDE.get(path.relative_to(HOST).as_posix(), set())
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: {path.relative_to(HOST).parts[0]}/ lies beside the daemon, not on it"


# The package's own helpers, beside every part (errors.py, private.py, clock.py, ...): every module at
# its top but the daemon side's (cli.py, config.py, firstrun.py) and ``python -m``'s entry.
HELPERS = sorted(p for p in HOST.glob("*.py") if p.stem not in HOST_UPPER and not p.stem.startswith("__"))


@pytest.mark.parametrize("path", HELPERS, ids=_rel)
def test_the_packages_helpers_import_only_each_other(path: Path) -> None:
    """Each part may import a helper, so a helper imports no part: clock.py that read daemon/consts.py
    put the daemon under every export, report and alert again."""
    helpers = {p.stem for p in HELPERS}
    bad = {n for n in imports(path) if n.startswith("spasmwatch.") and n.split(".")[1] not in helpers}
    bad -= {"spasmwatch.__version__"}  # the package's own, in its __init__.py
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: a helper every part may import imports no part"


def test_each_import_of_the_daemon_allowed_beside_it_is_made() -> None:
    """An allowance no longer used would let a new import of the same name in unseen."""
    unused = {f: sorted(names - imports(HOST / f)) for f, names in DAEMON_IMPORTS_BESIDE.items() if names - imports(HOST / f)}
    assert unused == {}, f"allowed but no longer imported: {unused}"



# What the daemon's side loads and a replay of a file needs none of: its I/O stacks (the web
# server's, Bluetooth's, MQTT's, SQLite) and its parts.
DAEMON_SIDE = ("aiohttp", "bleak", "paho", "sqlite3", "spasmwatch.store", "spasmwatch.transport", "spasmwatch.alerts",
               "spasmwatch.daemon.daemon", "spasmwatch.daemon.session", "spasmwatch.daemon.http")  # fmt: skip
REPLAY_LOADS = """
import contextlib, io, sys
from spasmwatch.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["replay", sys.argv[1], "--jsonl"]) == 0
print("\\n".join(sorted(sys.modules)))
"""


def test_a_replay_of_a_file_loads_nothing_of_the_daemons_side(tmp_path: Path) -> None:
    """The CLI imports the named command's module alone (cli.py) and replay is built on analysis/
    and io/: a replay of a file loads none of the daemon's stacks (0.16 s of imports, cli.py)."""
    csv = tmp_path / "still.csv"
    csv.write_text("t,ax,ay,az,gx,gy,gz\n" + "".join(f"{i / 50:.2f},0,0,1,0,0,0\n" for i in range(50 * 30)))
    out = subprocess.run([sys.executable, "-c", REPLAY_LOADS, str(csv)], capture_output=True, text=True, check=True)
    loaded = out.stdout.split()
    assert "spasmwatch.commands.replay" in loaded and "spasmwatch.analysis.pipeline" in loaded, out.stdout
    assert [m for m in loaded if m in DAEMON_SIDE or m.startswith(tuple(d + "." for d in DAEMON_SIDE))] == []
