"""Raw recording never costs the events: a free-space reserve kept for the store, and a band's raw
paused (not its session) when its file cannot be written (docs/host.md "Raw samples").

Raw is 105 MB a day a band at 100 Hz; the store, which holds what matters, 1.4 MB. Raw stops
while its file system has less than the reserve free, and starts again with some margin above it;
the gap it leaves in a ``.swraw`` file is a jump in sample indexes, which replay fills and reports.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spasmwatch.daemon import consts as K

log = logging.getLogger(__name__)

MB = 1_000_000  # bytes (the unit of raw_reserve_mb and of what status says)


@dataclass(frozen=True)
class RawPause:
    """Why a band's raw recording is paused, for the status (``why`` reads after "paused: ")."""

    since: float  # wall s
    why: str


def size_text(n_bytes: float) -> str:
    """412 MB, 1 GB, 1.5 GB: as a family reads a disk's size."""
    if n_bytes >= 1000 * MB:
        return f"{n_bytes / (1000 * MB):.1f}".removesuffix(".0") + " GB"
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

    def __init__(self, folder: Path, reserve_mb: float, mono: Callable[[], float], wall: Callable[[], float]) -> None:
        self.folder = folder
        self.reserve_mb = reserve_mb  # may be changed while running; read at the next check
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
            why = f"{size_text(free)} free on {mount_point(self.folder)}, keeping {size_text(reserve)} for events"
            self.paused = RawPause(self.wall(), why)
            log.warning("raw recording paused: %s (the store's events, alarms and status go on; "
                        "it starts again at %s free)", why, size_text(reserve + K.RAW_RESUME_MARGIN_MB * MB))  # fmt: skip
        elif self.paused is not None and free >= reserve + K.RAW_RESUME_MARGIN_MB * MB:
            self._resume(f"{size_text(free)} free on {mount_point(self.folder)}")

    def _resume(self, why: str) -> None:
        assert self.paused is not None
        log.info("raw recording resumed: %s (paused %.0f min)", why, (self.wall() - self.paused.since) / 60)
        self.paused = None
