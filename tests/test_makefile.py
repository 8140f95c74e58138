"""The Makefile's two entry points install what each needs (README "Quick start"): 'make demo'
everything into .venv and nothing else, 'make test' also the system packages and tools the tests
use for real. Read with 'make -n' (prints the commands, runs none) on a virtualenv path not made."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
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


def test_an_unfit_python_is_named_before_anything_is_installed(tmp_path: Path) -> None:
    """A family's review: Ubuntu 22.04's Python 3.10 failed inside pip ('requires a different Python')
    and a Debian python3 without python3-venv inside venv ('ensurepip is not available'). The check runs
    first with the very Python the venv is made from, and refuses with what to do."""
    plan = _plan("demo", tmp_path / "venv").splitlines()
    assert plan.index("python3 tools/check-python") < next(i for i, line in enumerate(plan) if "-m venv" in line), plan
    ok = subprocess.run([sys.executable, "tools/check-python"], cwd=ROOT, capture_output=True, text=True)
    assert (ok.returncode, ok.stderr) == (0, "")
    old = subprocess.run([sys.executable, "tools/check-python", "--need", "99.0"], cwd=ROOT, capture_output=True, text=True)
    have = "%d.%d" % sys.version_info[:2]
    assert old.returncode == 1 and f"needs Python 99.0 or newer; {sys.executable} is Python {have}" in old.stderr, old.stderr
    assert "make demo PYTHON=" in old.stderr


def test_the_python_check_asks_what_pyproject_asks() -> None:
    """tools/check-python cannot read pyproject.toml (tomllib is 3.11's, and it must run on any Python):
    its NEED is pyproject's requires-python, written again, and held to it here."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    need = re.search(r"^NEED = \((\d+), (\d+)\)$", (ROOT / "tools/check-python").read_text(), re.M)
    assert need is not None and requires == f">={need[1]}.{need[2]}", requires
