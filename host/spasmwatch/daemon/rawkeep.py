"""Raw recording never costs the events: a free-space reserve kept for the store, and a band's raw
paused (not its session) when its file cannot be written (docs/host.md "Raw samples"); and old raw
files deleted after ``[daemon] raw_keep_days``, except those near a cluster or a note.

Raw is 105 MB a day a band at 100 Hz; the store, which holds what matters, 1.4 MB. Raw stops
while its file system has less than the reserve free, and starts again with some margin above it;
the gap it leaves in a ``.swraw`` file is a jump in sample indexes, which replay fills and reports.
Without pruning a family that turned raw on was left, after some weeks, with the oldest raw and
none of the newest: the reserve paused raw for good.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.api import Msg
from spasmwatch.errors import InputError
from spasmwatch.store import Store, StoreError

log = logging.getLogger(__name__)

MB = 1_000_000  # bytes (the unit of raw_reserve_mb and of what status says)
DAY_S = 86400.0  # the unit of raw_keep_days


@dataclass(frozen=True)
class RawPause:
    """Why a band's raw recording is paused, for the status (``why`` reads after "paused: ")."""

    since: float  # wall s
    why: str
    # ``why`` as a page word and its values (docs/web.md "Texts the daemon words"): sizes in bytes,
    # which the page writes in the family's language
    msg: Msg


def size_text(n_bytes: float) -> str:
    """412 MB, 1 GB, 1.5 GB, 0.3 MB: as a family reads a disk's size (a short raw file is no "0 MB")."""
    if n_bytes >= 1000 * MB:
        return f"{n_bytes / (1000 * MB):.1f}".removesuffix(".0") + " GB"
    if n_bytes < 10 * MB:
        return f"{n_bytes / MB:.1f}".removesuffix(".0") + " MB"
    return f"{n_bytes / MB:.0f} MB"


def existing(folder: Path) -> Path:
    """``folder`` or its nearest existing parent (the raw folder is made at the first record)."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def mount_point(folder: Path) -> str:
    """The mount point of the file system holding ``folder`` (/home, /): what a family can free."""
    p = existing(folder).resolve()
    while not os.path.ismount(p) and p.parent != p:
        p = p.parent
    return str(p)


class DiskReserve:
    """The raw folder's free space against the reserve, read at most every ``RAW_DISK_CHECK_S`` of
    the injected monotonic clock; pausing and resuming each log one line."""

    def __init__(self, folder: Path, reserve_mb: float, mono: Callable[[], float], wall: Callable[[], float], keep_days: float = 0.0) -> None:
        self.folder = folder
        self.reserve_mb = reserve_mb  # may be changed while running; read at the next check
        self.keep_days = keep_days  # [daemon] raw_keep_days, for the pause's advice
        self.mono, self.wall = mono, wall
        self.paused: RawPause | None = None
        self.checks = 0  # free-space reads so far (statvfs calls)
        self._checked: float | None = None  # mono s of the latest read

    def room(self) -> bool:
        """True while raw may grow: not paused, as of the latest read (a new one when due)."""
        if self.reserve_mb <= 0:
            if self.paused is not None:
                self._resume("no reserve is kept ([daemon] raw_reserve_mb = 0)")
            return True
        now = self.mono()
        if self._checked is None or now - self._checked >= K.RAW_DISK_CHECK_S:
            self._checked = now
            free = self._free_bytes()
            if free is not None:
                self._check(free)
        return self.paused is None

    def _free_bytes(self) -> int | None:
        """Free bytes for an unprivileged writer (statvfs f_bavail), None when it cannot be read
        (the state stays as it was: a write that fails pauses its band by itself)."""
        self.checks += 1
        try:
            return shutil.disk_usage(existing(self.folder)).free
        except OSError as e:
            log.debug("free space of %s not read: %s", self.folder, e)
            return None

    def _check(self, free: int) -> None:
        reserve = self.reserve_mb * MB
        if self.paused is None and free < reserve:
            mount = mount_point(self.folder)
            why = f"{size_text(free)} free on {mount}, keeping {size_text(reserve)} for events"
            self.paused = RawPause(self.wall(), why, {"key": "low_disk", "args": {"free": free, "mount": mount, "keep": round(reserve)}})
            log.warning("raw recording paused: %s (the store's events, alarms and status go on; "
                        "it starts again at %s free; %s)", why, size_text(reserve + K.RAW_RESUME_MARGIN_MB * MB), self._advice())  # fmt: skip
        elif self.paused is not None and free >= reserve + K.RAW_RESUME_MARGIN_MB * MB:
            self._resume(f"{size_text(free)} free on {mount_point(self.folder)}")

    def _advice(self) -> str:
        """What frees room for raw: the pause waits for it, and deletes nothing itself."""
        if self.keep_days > 0:
            return f"raw files are deleted {self.keep_days:g} days after their last sample: a smaller [daemon] raw_keep_days frees more"
        return "every raw file is kept: set [daemon] raw_keep_days to delete old ones"

    def _resume(self, why: str) -> None:
        assert self.paused is not None
        log.info("raw recording resumed: %s (paused %.0f min)", why, (self.wall() - self.paused.since) / 60)
        self.paused = None


# --- pruning: [daemon] raw_keep_days ----------------------------------------------------------


@dataclass(frozen=True)
class RawSpan:
    """When a raw file's samples are (wall s)."""

    start: float  # its first whole chunk's first sample (the header's start without a chunk)
    end: float  # after its last whole chunk's last sample, or the file's last change when later


def raw_span(path: str, mtime: float) -> RawSpan:
    """From the header, the good chunks and the dating records (``RawReader.outline``: one walk, no sample
    array made, 0.09 s for a day's file). The end is never before the
    file's last change (``mtime``): a file dated by a host clock that was wrong at its first record
    (a Raspberry Pi without a clock battery, before NTP) but written since is not old.
    InputError for a file that is no readable raw file."""
    from spasmwatch.io.rawfile import RawReader  # numpy: not for 'spasmwatch status', which takes size_text

    r = RawReader(path)
    dating, span = r.outline()  # (its dating records: the band's measured rate), one walk
    first, end = span or (r.header.index_origin, r.header.index_origin)
    return RawSpan(dating.wall_at(first), max(dating.wall_at(end), mtime))


@dataclass(frozen=True)
class RawKept:
    """The raw folder after a pruning pass, for the status."""

    files: int
    bytes: int
    keep_days: float  # 0: nothing is deleted
    t: float  # wall s of the pass


class RawInUse:
    """The raw files the daemon has open, shared with the pruning thread. A file is marked open
    and deleted under one lock, so a pass never deletes a file the daemon has just decided to
    append to (a band back after weeks, the same boot); the loop waits at most one unlink."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()

    def add(self, path: str) -> None:
        with self._lock:
            self._paths.add(path)

    def discard(self, path: str) -> None:
        with self._lock:
            self._paths.discard(path)

    def __contains__(self, path: str) -> bool:
        with self._lock:
            return path in self._paths

    def unlink_unless_open(self, path: str) -> bool:
        """Deleted (True), or left because the daemon has it open (False); OSError as unlink's."""
        with self._lock:
            if path in self._paths:
                return False
            os.unlink(path)
            return True


@dataclass(frozen=True)
class _Old:
    path: str
    size: int
    span: RawSpan


class RawPruner:
    """Deletes whole ``*.swraw`` files of ``folder`` whose newest sample (and last change) is more
    than ``keep_days`` old; 0 deletes nothing. Never a file the daemon has open (``in_use``), nor
    one within RAW_KEEP_MARGIN_S of a cluster (whatever its label: a false alarm's raw is what tunes
    the detector) or near a caregiver's note of any band in the store at ``store_path``: those are
    the stretches a doctor or researcher asks for. Nothing is deleted while the store cannot be
    read to tell. ``run`` is one pass, for a worker thread: the store is read on a read-only
    connection of its own, and an OSError is logged, the file tried again at the next pass."""

    def __init__(self, folder: Path, keep_days: float, store_path: Path, wall: Callable[[], float], in_use: RawInUse) -> None:
        self.folder, self.keep_days, self.store_path = folder, keep_days, store_path
        self.wall, self.in_use = wall, in_use
        self.kept: RawKept | None = None  # after the latest pass (None: none yet)
        self._spans: dict[str, tuple[int, float, RawSpan]] = {}  # path -> (size, mtime, span): headers read once

    def run(self) -> list[str]:
        """One pass; the files it deleted."""
        now = self.wall()
        files = self._files()
        if files is None:
            return []
        deleted: list[_Old] = []
        if self.keep_days > 0:
            old = list(self._old(files, now - self.keep_days * DAY_S))
            free = self._unprotected(old)
            deleted = self._delete(free)
            if deleted:
                self._log(deleted, len(old) - len(free))
        gone = {d.path for d in deleted}
        self._spans = {p: v for p, v in self._spans.items() if p in files and p not in gone}
        left = [st for p, st in files.items() if p not in gone]
        self.kept = RawKept(len(left), sum(st.st_size for st in left), self.keep_days, now)
        return [d.path for d in deleted]

    def _files(self) -> dict[str, os.stat_result] | None:
        """The folder's raw files (regular files only: a symlink is someone's own arrangement)."""
        try:
            with os.scandir(self.folder) as it:
                entries = [e for e in it if e.name.endswith(".swraw") and e.is_file(follow_symlinks=False)]
            return {os.fspath(self.folder / e.name): e.stat(follow_symlinks=False) for e in entries}
        except FileNotFoundError:
            return {}  # no raw yet (the folder is made at the first record)
        except OSError as e:
            log.warning("raw files not pruned: cannot list %s: %s; tried again in %.0f min", self.folder, e, K.RAW_PRUNE_EVERY_S / 60)
            return None

    def _old(self, files: dict[str, os.stat_result], cutoff: float) -> Iterator[_Old]:
        for path, st in sorted(files.items(), key=lambda kv: kv[1].st_mtime):
            if st.st_mtime >= cutoff or path in self.in_use:
                continue  # written since the cutoff (most files: no header read), or being written
            span = self._span(path, st)
            if span is not None and span.end < cutoff:
                yield _Old(path, st.st_size, span)

    def _span(self, path: str, st: os.stat_result) -> RawSpan | None:
        """Its span, read once per size and last change; None (kept) when it cannot be read."""
        known = self._spans.get(path)
        if known is not None and known[:2] == (st.st_size, st.st_mtime):
            return known[2]
        try:
            span = raw_span(path, st.st_mtime)
        except (InputError, OSError) as e:  # not a raw file we can date: kept, as all we cannot tell
            log.debug("raw file %s kept: %s", path, e)
            return None
        self._spans[path] = (st.st_size, st.st_mtime, span)
        return span

    def _unprotected(self, old: list[_Old]) -> list[_Old]:
        if not old:
            return []
        try:
            with Store.open_readonly(self.store_path) as store:
                return [f for f in old if not _near_cluster_or_note(store, f.span)]
        except StoreError as e:
            log.warning("%d raw file(s) past %g days not deleted: the store could not be read for their clusters and notes (%s); "
                        "tried again in %.0f min", len(old), self.keep_days, e, K.RAW_PRUNE_EVERY_S / 60)  # fmt: skip
            return []

    def _delete(self, files: list[_Old]) -> list[_Old]:
        deleted, failed = [], []
        for f in files:
            try:
                if self.in_use.unlink_unless_open(f.path):
                    deleted.append(f)
            except FileNotFoundError:
                pass  # gone already (moved or deleted by hand)
            except OSError as e:
                failed.append(f"{f.path}: {e.strerror or e}")
        if failed:
            log.warning("%d old raw file(s) not deleted (%s); tried again in %.0f min", len(failed), "; ".join(failed[:3]), K.RAW_PRUNE_EVERY_S / 60)
        return deleted

    def _log(self, deleted: list[_Old], protected: int) -> None:
        """The one line of a pass that deleted something."""
        more = f"; {protected} as old kept for a cluster or note" if protected else ""
        log.info("raw recording: deleted %d file(s) older than %g days, %s freed (%s)%s", len(deleted), self.keep_days,
                 size_text(sum(f.size for f in deleted)), ", ".join(os.path.basename(f.path) for f in deleted[:5])
                 + (", ..." if len(deleted) > 5 else ""), more)  # fmt: skip


def _near_cluster_or_note(store: Store, span: RawSpan) -> bool:
    """A cluster within RAW_KEEP_MARGIN_S of the span, or a note from RAW_KEEP_MARGIN_S before it to
    RAW_NOTE_BEFORE_S after it (a note tells what came before it), of any band: a doctor asking for a
    night wants every band's raw, and two bands are rare."""
    m = K.RAW_KEEP_MARGIN_S
    if list(store.clusters(None, span.start - m, span.end + m)):
        return True
    return bool(list(store.notes(span.start - m, span.end + K.RAW_NOTE_BEFORE_S)))
