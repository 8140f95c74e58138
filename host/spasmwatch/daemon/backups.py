"""The daemon's daily copies of its store (store/backup.py; docs/store.md "Backups"): one made when
the newest is BACKUP_EVERY_S old, rotated after it passed its check, skipped (logged, shown in the
status) when it would leave less free space than BACKUP_RESERVE_MB or cannot be made. Before the
first, the pages the daemon's open left unread are read through (``Store.unread``: docs/store.md
"The daemon's start")."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from spasmwatch.daemon import consts as K
from spasmwatch.store import Store, StoreError
from spasmwatch.store import backup as B
from spasmwatch.daemon.rawkeep import size_text

log = logging.getLogger(__name__)
# What is done with a store the read after the daemon's start found damaged, as its error says it.
READ_AFTER_START_DONE = "found by the read of its pages after the daemon's start; nothing more is written to it"


class StoreBackups:
    def __init__(self, store: Store, keep_days: int, wall: Callable[[], float], reserve_mb: float = K.BACKUP_RESERVE_MB) -> None:
        self.store = store
        self.keep_days = keep_days  # [daemon] backup_keep_days (0: none made)
        self.wall = wall
        self.reserve_mb = reserve_mb
        self.latest: B.Backup | None = None  # the newest copy as the latest pass found or made it
        self.files, self.bytes = 0, 0  # the copies kept, as of the latest pass
        self.error: str | None = None  # why the latest due copy was not made (None: it was, or none was due)
        self.error_since: float | None = None  # wall s of the first pass that failed so
        # The store itself found damaged by the latest pass (its copy not sound, or the read of what
        # its open left unread: store/backup.py ``store_damage``): the daemon shuts it
        # (Daemon._backup_pass). None: not found so.
        self.found_damaged: StoreError | None = None
        self._compress_said: str | None = None  # why the latest pass could not compress an older copy (None: it could)
        self._stopping = B.Stop()  # set by the daemon's stop: a copy under way ends at its next step

    def stop(self) -> None:
        """A copy under way (in its worker thread) ends within a step, its partial file deleted; none is made after."""
        self._stopping.set()

    def run(self) -> B.Backup | None:
        """One pass (in a worker thread): the pages the open left unread read through (``_read_unread``),
        then a copy when one is due; the copy made, or None."""
        self.found_damaged = None
        if self.store.open_error is not None or self._stopping.is_set():
            return None  # (a store the daemon does not open is not copied: damaged, another's, newer)
        if self.store.unread and not self._read_unread():
            return None  # (found damaged: shut by the daemon; or the stop)
        if self.keep_days <= 0:
            return None
        path = self.store.path
        now = self.wall()
        have = B.listed(path)
        self._seen(have)
        # (A copy dated ahead of the clock, a clock set back since, is no reason to wait a year.)
        if have and abs(now - have[-1].made_s) < K.BACKUP_EVERY_S:
            self._compress()  # (what a stop or a full disk left plain)
            return None
        try:
            short = B.short_of_room(path, self.reserve_mb)
        except OSError as e:
            return self._failed(f"the store's size or free space could not be read ({e})", now)
        if short is not None:
            need, free = short
            return self._failed(
                f"free space is short on {path.parent}: {size_text(free)} free, a copy takes up to {size_text(need)} and "
                f"{self.reserve_mb:g} MB are left for the store (BACKUP_RESERVE_MB)", now)  # fmt: skip
        try:
            made = B.make(path, now, self._stopping)
        except B.Stopped:
            log.info("the store's backup was stopped with the daemon, before it was done: nothing kept of it (made again after the start)")
            return None
        except StoreError as e:
            self.found_damaged = e if e.damaged else None
            return self._failed(str(e), now)
        gone = B.rotate(path, self.keep_days, K.BACKUP_KEEP_WEEKS)  # (only now: the new copy passed its check)
        if self.error is not None:
            log.warning("the store's backup was made again (%s), the last one that failed said: %s", made.path, self.error)
        log.info("store backup %s made (%s)%s", made.path, size_text(made.size), f"; {len(gone)} older one(s) deleted" if gone else "")
        self.error = self.error_since = None
        self._compress()
        return made

    def _compress(self) -> None:
        """The copies kept but the newest compressed (store/backup.py ``compress_older``); one that cannot
        be (a full disk) stays plain, said (a warning when it is news), and is tried again at the next
        pass; a stop leaves it plain."""
        try:
            for b in B.compress_older(self.store.path, self._stopping):
                log.info("store backup %s compressed (%s)", b.path, size_text(b.size))
        except B.Stopped:
            log.info("the compression of an older store backup was stopped with the daemon: that copy stays plain until the next pass")
        except (OSError, sqlite3.Error) as e:  # (sqlite3: its latest event could not be read)
            said = f"an older store backup could not be compressed ({e}): it stays as it was, tried again in {K.BACKUP_CHECK_S:g} s"
            log.log(logging.WARNING if said != self._compress_said else logging.DEBUG, "%s", said)
            self._compress_said = said
        else:
            self._compress_said = None
        self._seen(B.listed(self.store.path))

    def _read_unread(self) -> bool:
        """The pages of the store its open left unread (_db.READ_AFTER_START) read through; whether they
        are sound (else ``found_damaged``), False too when the daemon's stop ended the read."""
        t = time.monotonic()
        try:
            self.found_damaged = B.store_damage(self.store.path, self._stopping, READ_AFTER_START_DONE)
        except B.Stopped:
            return False  # (read again at the next start)
        if self.found_damaged is not None:
            return False
        self.store.unread = False
        log.info("the store's epochs and STATUS rows, left unread by its open, read through: sound (%.1f s)", time.monotonic() - t)
        return True

    def _seen(self, have: list[B.Backup]) -> None:
        self.latest = have[-1] if have else None
        self.files, self.bytes = len(have), sum(b.size for b in have)

    def _failed(self, why: str, now: float) -> B.Backup | None:
        """A due copy not made: logged as a warning when it is news (the next pass, an hour later, says
        it again at DEBUG), shown by the status until one is made. None: no copy (``run``'s answer)."""
        if why != self.error:
            log.warning("no backup of the store was made: %s (tried again in %g s; the copies kept are not deleted)", why, K.BACKUP_CHECK_S)
        else:
            log.debug("no backup of the store was made: %s", why)
        self.error = why
        self.error_since = self.error_since or now
        return None

    def status(self) -> dict[str, object]:
        """/api/status "backups": the copies kept, why the latest due one was not made, and why no copy was
        kept before this daemon's open migrated the store (store.Store.upgrade_copy_not_kept)."""
        return {"keep_days": self.keep_days, "latest": None if self.latest is None else self.latest.made_s,
                "latest_path": None if self.latest is None else str(self.latest.path), "files": self.files,
                "bytes": self.bytes, "error": self.error, "since": self.error_since,
                "upgrade_copy_error": self.store.upgrade_copy_not_kept}  # fmt: skip
