"""The Makefile's two entry points install what each needs (README "Quick start"): 'make demo'
everything into .venv and nothing else, 'make test' also the system packages and tools the tests
use for real. Read with 'make -n' (prints the commands, runs none) on a virtualenv path not made."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_WIDE = ("tools/install-system-deps", "npm ci", "tools/install-bids-validator")


def _plan(target: str, venv: Path) -> str:
    return subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_demo_installs_into_the_virtualenv_only(tmp_path: Path) -> None:
    """Found by the docs run (family): README says 'make demo' "installs everything into .venv", and it
    ran tools/install-system-deps first (sudo apt-get install chromium, mosquitto, nodejs, npm, systemd:
    the tests' packages, which the demo never uses; no sudo, no demo), then npm ci and the BIDS validator."""
    venv = tmp_path / "venv"
    demo = _plan("demo", venv)
    assert [step for step in SYSTEM_WIDE if step in demo] == [], demo
    assert "pip install --quiet -e '.[dev]'" in demo and f"{venv}/bin/spasmwatch demo" in demo, demo
    test = _plan("test", venv)
    assert all(step in test for step in SYSTEM_WIDE) and "pip install --quiet -e '.[dev]'" in test, test


def test_the_researchers_targets_install_into_the_virtualenv_only(tmp_path: Path) -> None:
    """README's researchers run 'make heldout' and 'make heldout3' (and 'make check', 'make bench'):
    Python and the two simulators only, and each also needed sudo for the tests' Debian packages."""
    for target in ("heldout", "heldout3", "check", "bench"):
        plan = _plan(target, tmp_path / "venv")
        assert [step for step in SYSTEM_WIDE if step in plan] == [], (target, plan)
