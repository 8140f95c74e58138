"""Which code runs (codeid.py): what 'spasmwatch --version' says of a git checkout, and of an
installed package."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from spasmwatch.codeid import git_describe


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_describe_names_a_checkouts_commit_and_never_another_repositorys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout (host/spasmwatch in a repository): its commit, dirty once a file changes. A package
    installed in a venv that lies inside another repository (.venv in a project) is not described
    as that repository's. No git on PATH: no description, no error."""
    package = tmp_path / "host" / "spasmwatch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    _git(tmp_path, "tag", "v9.9.9")
    assert git_describe(package) == "v9.9.9"
    (package / "__init__.py").write_text("# changed\n")
    assert git_describe(package) == "v9.9.9-dirty"
    installed = tmp_path / ".venv" / "lib" / "python3" / "site-packages" / "spasmwatch"
    installed.mkdir(parents=True)
    assert git_describe(installed) is None
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert git_describe(package) is None
