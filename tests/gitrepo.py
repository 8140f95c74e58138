"""Real git repositories for tests (a checkout's history: spasmwatch/fwhistory.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# A uid no account of a test machine has: the owner of a checkout that is not this process's.
OTHER_UID = 54321


def git(repo: Path, *args: str) -> str:
    """``git args`` in ``repo``, with an identity and LF kept as committed (whatever this machine's config)."""
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "core.autocrlf=false", *args], capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def init(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")


def commit(repo: Path, message: str, *paths: str) -> str:
    """``paths`` in ``repo`` (default: everything) committed; the commit's id."""
    git(repo, "add", *(paths or ["-A"]))
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def owned_by_another(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``repo`` owned by another user than this process's, so git refuses it (its safe.directory
    check, "detected dubious ownership"), with git's global config this test's own (empty: no
    safe.directory of this machine's allows it). As root the checkout's top directory is given to
    OTHER_UID (git looks at its owner); a user cannot give a file away, so elsewhere git is told to
    take every repository for another's (GIT_TEST_ASSUME_DIFFERENT_OWNER, the switch of git's own
    test of the check): git's own refusal and words either way."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(repo.parent / "gitconfig-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    if os.geteuid() == 0:
        os.chown(repo, OTHER_UID, OTHER_UID)
    else:
        monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
