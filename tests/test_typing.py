"""The host package is mypy --strict clean (configuration in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path


def test_host_package_is_mypy_strict_clean(repo_root: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=repo_root, capture_output=True, text=True, timeout=900, check=False
    )
    assert res.returncode == 0, res.stdout + res.stderr
