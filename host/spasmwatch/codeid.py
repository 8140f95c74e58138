"""Which code runs: a digest of the Python sources, since the version says nothing (0.1.0 whatever
the code). ``spasmwatch evaluate`` writes it with its scores; the daemon takes it at its start and
reports it in /api/status (``code``), so ``spasmwatch status`` can tell a daemon still running the
code it started from after an upgrade (``pip install -U``, ``git pull``) put other code in its
place, and reads the installed code again every ``CODE_CHECK_S`` (``installed_code``) to tell the
web page (``code_changed``); ``spasmwatch --version`` prints it (docs/host.md, "Upgrading spasmwatch
while it runs")."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import spasmwatch
import swcore
from spasmwatch import __version__

# Hex digits of the digest a person is shown (--version, status): 48 bits, no two versions alike
# in practice; the full 64 are in /api/status and evaluate's --json.
SHORT_HEX = 12
# s: the most --version waits for 'git describe' (a checkout on a slow SD card answers in ~10 ms;
# a hung git, a network file system, must not hang --version).
GIT_DESCRIBE_S = 2.0


def source_sha256(roots: Sequence[Path] = ()) -> str:
    """One sha256 of the Python sources under ``roots`` (default: the packages this process runs,
    spasmwatch's and swcore's, the band's detector and its thresholds, which the host imports):
    each .py file's path under its root and its bytes, in path order. Any change of code or a
    threshold gives another digest. Measured: 5-13 ms for the 191 files (2.4 MB) with the files
    in the page cache."""
    roots = roots or [Path(spasmwatch.__file__).parent, Path(swcore.__file__).parent]
    return files_sha256((f, f"{root.name}/{f.relative_to(root).as_posix()}") for root in roots for f in sorted(root.rglob("*.py")))


def files_sha256(files: Iterable[tuple[Path, str]]) -> str:
    """One sha256 of ``files``, (local file, its name in the digest), in the order given
    (``named_sha256`` of each file's ``content_sha256``)."""
    return named_sha256((name, content_sha256(f.read_bytes())) for f, name in files)


def content_sha256(data: bytes, crlf_as_lf: bool = False) -> bytes:
    """A file's part of ``named_sha256``: the sha256 of its bytes. ``crlf_as_lf``: each CRLF read as
    LF (the firmware's: MicroPython compiles both alike, and a Windows checkout of a commit has CRLF
    where this computer's has LF)."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n") if crlf_as_lf else data).digest()


def named_sha256(named: Iterable[tuple[str, bytes]]) -> str:
    """One sha256 of files given as (name, ``content_sha256``), in the order given: each name and
    its content's digest. ``source_sha256`` and the firmware's build id (fwbuild.py) both, apart
    from the reading: the firmware's files in git's history (fwhistory.py) digest as on a disk."""
    h = hashlib.sha256()
    for name, digest in named:
        h.update(f"{name}\0".encode())
        h.update(digest)
    return h.hexdigest()


@cache
def running_code() -> str:
    """The digest of the code this process runs, read once: the daemon takes it at its start (an
    upgrade under it removes its files, docs/host.md; it imports none of them again, and only reads
    them, ``installed_code``, to compare)."""
    return source_sha256()


def installed_code() -> str | None:
    """The digest of the code installed now where this process's packages were imported from
    (``source_sha256`` read again: an upgrade under a running daemon wrote other files there), or
    None while it cannot be read whole (pip removing one version's files and writing the next's)."""
    try:
        return source_sha256()
    except OSError:
        return None


def short(digest: str) -> str:
    """The part of a digest a person is shown."""
    return digest[:SHORT_HEX]


def version_line() -> str:
    """``spasmwatch --version``: the version, the code's digest, and ``git describe`` when spasmwatch
    runs from a git checkout (its ``host/spasmwatch``)."""
    described = git_describe(Path(spasmwatch.__file__).parent)
    git = f", git {described}" if described else ""
    return f"spasmwatch {__version__} (code {short(running_code())}{git})"


def git_describe(package: Path) -> str | None:
    """``git describe --always --dirty`` of the checkout whose ``host/spasmwatch`` is ``package``;
    None when it is not one (an installed package: a venv inside another repository is not
    described as that repository), git is absent, or git fails or hangs."""
    root = package.parent.parent
    if package.parent.name != "host" or not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty", "--tags"],
                              capture_output=True, text=True, timeout=GIT_DESCRIBE_S, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None
