"""Real git repositories for tests (a checkout's history: spasmwatch/fwhistory.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path


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
