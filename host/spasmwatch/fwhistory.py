"""Whether a band's firmware that is not this computer's is older or newer: read from git's history.

A band whose build id (fwbuild.py) is not the one of this computer's firmware tree was told to be
flashed with it, even when it ran a newer firmware (flashed from another, newer checkout: the advice
downgraded it). Where spasmwatch runs from a git checkout (the usual install: README), the build ids
of the firmware tree at the commits of its history tell the two apart: a band's build found in
HEAD's history is older (flash it); found only in commits outside it (a fetched origin/main not yet
merged, another branch, HEAD checked out at an older commit) it is newer (update this computer's
spasmwatch, not the band). Each distinct firmware tree (its own object id, ``<commit>:firmware``) is
hashed once, with the rules of ``fwbuild.files``, its blobs read through one ``git cat-file --batch``
process. A checkout git refuses (owned by another user: its safe.directory check) is said once in
the log with git's fix, never overridden. docs/firmware.md, "Build id".
"""

from __future__ import annotations

import hashlib
import logging
import re
import subprocess
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Literal

from spasmwatch import fwbuild
from spasmwatch.errors import ConfigError

Age = Literal["older", "newer"]

log = logging.getLogger(__name__)

# Distinct firmware trees hashed per look, newest first: where the band's build is not among them,
# its age is not told (the words stay "flash it"). This checkout had 166 in 2,208 commits on
# 2026-12-07, all hashed in ~0.5 s (the blobs of one tree are mostly the tree before's, each hashed
# once); a band is flashed from a recent commit, and a history 30 times this one's is still a few s
# of one core in a worker thread at a connection.
TREES_MAX = 5000
# s: the most one look waits for git (a checkout on a slow SD card, a network file system, a hung
# git); past it, the look is given up and the age not told.
GIT_S = 60.0
# (firmware tree, HEAD, refs, band build) looks kept: a few bands, each at a few builds over a checkout's life.
LOOKS_KEPT = 64
# Git's modes of the entries a firmware tree's listing takes: files (plain, executable) and trees.
_FILE_MODES = (b"100644", b"100755")
_TREE_MODE = b"40000"


# git's fix in its refusal of a checkout another user owns (git 2.39: "fatal: detected dubious
# ownership in repository at '<dir>'", then the command on a line of its own after a tab).
_SAFE_DIRECTORY = re.compile(r"^\s*(git config --global --add safe\.directory .+?)\s*$", re.MULTILINE)
# str(firmware dir) -> git's fix, while git refuses its checkout (``refused``).
_REFUSED: dict[str, str] = {}


class _GitFailed(Exception):
    """Git failed, ended or was stopped at GIT_S mid-look: the age is not told."""


def firmware_age(firmware_dir: Path, band_build: str | None) -> Age | None:
    """Whether ``band_build`` (a band's build id, fwbuild.build_of; None: it has none) is older or
    newer than the firmware in ``firmware_dir``, a git checkout's. None when it cannot be told: not
    a checkout, git absent or failing, git refusing a checkout another user owns (logged once, with
    git's fix: ``refused``), the build not found within TREES_MAX trees (a band flashed
    from a changed copy of a tree, from a checkout whose commits this one never fetched). A band
    without a build id is older: every firmware since build ids (2026-12-07) has one. Blocks on git:
    the daemon calls it in a worker thread. Kept per (HEAD, the refs' commits, band build): the same
    band at each connection is one ``git rev-parse``, and a ``git fetch`` (refs moved, HEAD not) is
    looked at again."""
    if band_build is None:
        return "older"
    try:
        prefix, head, refs = _checkout(firmware_dir)
        return _age(firmware_dir, prefix, head, refs, band_build)
    except (OSError, subprocess.SubprocessError, _GitFailed, ValueError):
        return None


def _checkout(firmware_dir: Path) -> tuple[str, str, str]:
    """The firmware directory's path in its checkout (``firmware/``), HEAD's commit and a digest of
    the commits every ref names (``--all``: a fetch moves them, not HEAD), in one git call."""
    done = subprocess.run(["git", "-C", str(firmware_dir), "rev-parse", "--show-prefix", "HEAD", "--all"],
                          capture_output=True, text=True, timeout=GIT_S, check=False)  # fmt: skip
    lines = done.stdout.split("\n")
    if done.returncode != 0 or len(lines) < 2 or not lines[1]:
        _refusal(firmware_dir, done.stderr)
        raise _GitFailed(done.stderr.strip())
    _allowed(firmware_dir)
    return lines[0], lines[1], hashlib.sha256("\n".join(lines[2:]).encode()).hexdigest()


def refused(firmware_dir: Path) -> str | None:
    """While git refuses the checkout of ``firmware_dir`` (owned by another user than this process's:
    git's safe.directory check) as of the latest look, git's fix, the command that allows it; None
    otherwise."""
    return _REFUSED.get(str(firmware_dir))


def _refusal(firmware_dir: Path, stderr: str) -> None:
    """Logged once while it lasts: git refuses the checkout, and its fix (in its message). Not
    overridden here (``-c safe.directory``): a checkout another user can write runs code as this one."""
    fix = _SAFE_DIRECTORY.search(stderr)
    if fix is None or _REFUSED.get(str(firmware_dir)) == fix[1]:
        return
    _REFUSED[str(firmware_dir)] = fix[1]
    log.warning("git refuses to read the checkout of %s: it is owned by another user than this one (git's "
                "safe.directory check), so whether a band's firmware is older or newer than this computer's is not "
                "told (the words say to flash it, which may take a newer one back). To let git read it, run as this "
                "user: %s", firmware_dir, fix[1])  # fmt: skip


def _allowed(firmware_dir: Path) -> None:
    if _REFUSED.pop(str(firmware_dir), None) is not None:
        log.info("git reads the checkout of %s now: a band's firmware is told older or newer again", firmware_dir)


@lru_cache(maxsize=LOOKS_KEPT)
def _age(firmware_dir: Path, prefix: str, head: str, refs: str, band_build: str) -> Age | None:
    """``firmware_age`` at commit ``head``: HEAD's history first, newest first, then the commits of
    every ref outside it (``refs``: their digest, a key of the looks kept). A look that failed
    raises (not kept: the next look tries again)."""
    with _Objects(firmware_dir) as objects:
        seen: set[str] = set()  # firmware trees hashed (their object ids)
        sides: tuple[tuple[Age, list[str]], ...] = (("older", [head]), ("newer", ["--all", "--not", head]))
        for age, revs in sides:
            for commit in objects.commits(revs):
                tree = objects.tree_id(f"{commit}:{prefix}")
                if tree is None or tree in seen:
                    continue
                if len(seen) == TREES_MAX:
                    return None  # and not "newer": the build may be deeper in HEAD's history
                seen.add(tree)
                if objects.build(tree) == band_build:
                    return age
    return None


class _Objects:
    """Git's objects read through one ``git cat-file --batch``, and ``git rev-list``s, all stopped
    at GIT_S from the start of the look (a hung git)."""

    def __init__(self, firmware_dir: Path) -> None:
        self._dir = str(firmware_dir)
        self._procs: list[subprocess.Popen[bytes]] = []
        self._batch = self._start("cat-file", "--batch")
        self._digests: dict[str, bytes] = {}  # blob id -> fwbuild.source_digest of its bytes
        self._timer = threading.Timer(GIT_S, self._stop)
        self._timer.daemon = True
        self._timer.start()

    def __enter__(self) -> _Objects:
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self._stop()

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["git", "-C", self._dir, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        self._procs.append(proc)
        return proc

    def _stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()

    def commits(self, revs: list[str]) -> Iterator[str]:
        """``git rev-list revs``, newest first, read as it comes (a look that finds the band's build
        early reads no more of a long history)."""
        proc = self._start("rev-list", *revs)
        out = _pipe(proc.stdout)
        for line in out:
            yield line.decode().strip()
        if proc.wait() != 0:
            raise _GitFailed(f"git rev-list {' '.join(revs)}: exit {proc.returncode}")

    def tree_id(self, name: str) -> str | None:
        """The object id of tree ``name`` (``<commit>:firmware/``); None where the commit has none."""
        found = self._header(name)
        if found is None:
            return None
        oid, kind, size = found
        self._content(size)  # (a tree read twice at most: here and in ``build``, its first time)
        return oid if kind == b"tree" else None

    def build(self, tree: str) -> str | None:
        """The build id of firmware tree ``tree`` as fwbuild.build_id would make it from its files;
        None where fwbuild.files finds no whole firmware (no main.py, a package missing) or the tree
        holds what a checkout would not read as a plain file (a link, a submodule, a directory
        named .py)."""
        blobs: dict[str, str] = {}  # band path -> blob id
        if not self._list(tree, "", blobs):
            return None
        try:
            paths = fwbuild.sources(blobs, tree)
        except ConfigError:
            return None
        return fwbuild.digested((p, self._digest(blobs[p])) for p in paths)

    def _list(self, tree: str, under: str, blobs: dict[str, str]) -> bool:
        """The files of ``tree`` (at ``under``, '' or 'band/...') into ``blobs``: the top level and
        fwbuild.PACKAGES' trees, as fwbuild.files walks them. False at an entry a build cannot take."""
        for mode, name, oid in _entries(self._object(tree, b"tree"), len(tree) // 2):
            path = under + name
            if mode == _TREE_MODE:
                if (under or name in fwbuild.PACKAGES) and name != "__pycache__":
                    if name.endswith(".py") or not self._list(oid, path + "/", blobs):
                        return False
            elif mode in _FILE_MODES:
                blobs[path] = oid
            elif under or name in fwbuild.TOP_LEVEL:
                return False
        return True

    def _digest(self, blob: str) -> bytes:
        if blob not in self._digests:
            self._digests[blob] = fwbuild.source_digest(self._object(blob, b"blob"))
        return self._digests[blob]

    def _object(self, oid: str, kind: bytes) -> bytes:
        found = self._header(oid)
        if found is None or found[1] != kind:
            raise _GitFailed(f"{oid}: not a {kind.decode()} ({found})")
        return self._content(found[2])

    def _header(self, name: str) -> tuple[str, bytes, int] | None:
        """Ask the batch for ``name``: (object id, type, size), or None where there is no such object."""
        stdin, stdout = _pipe(self._batch.stdin), _pipe(self._batch.stdout)
        try:
            stdin.write(name.encode() + b"\n")
            stdin.flush()
        except (OSError, ValueError) as e:  # stopped at GIT_S: its pipe closed
            raise _GitFailed(f"git cat-file: {e}") from e
        fields = stdout.readline().split()
        if not fields:
            raise _GitFailed("git cat-file ended")
        if len(fields) != 3:
            return None  # "<name> missing" (or ambiguous): no such object
        return fields[0].decode(), fields[1], int(fields[2])

    def _content(self, size: int) -> bytes:
        data = _pipe(self._batch.stdout).read(size + 1)  # and the LF after it
        if len(data) != size + 1:
            raise _GitFailed("git cat-file ended mid-object")
        return data[:size]


def _pipe(pipe: IO[bytes] | None) -> IO[bytes]:
    if pipe is None:
        raise _GitFailed("no pipe")
    return pipe


def _entries(tree: bytes, id_bytes: int) -> Iterator[tuple[bytes, str, str]]:
    """(mode, name, object id) of each entry of a tree object's bytes: ``<mode> <name>\\0<id>``, the
    id raw, ``id_bytes`` long (20, SHA-1; 32 in a SHA-256 repository)."""
    i = 0
    while i < len(tree):
        space = tree.index(b" ", i)
        nul = tree.index(b"\0", space)
        yield tree[i:space], tree[space + 1 : nul].decode(), tree[nul + 1 : nul + 1 + id_bytes].hex()
        i = nul + 1 + id_bytes
