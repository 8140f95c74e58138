"""The store's WAL syncs and checkpoints, made by a thread of their own (docs/store.md "Guarantees").

A lazy commit (``Store._tx``) leaves its WAL frames unsynced; once a minute the store asks for the WAL
file's fsync (and the daemon for each alert's transition, its push waiting for it: ``Store.synced_later``),
and a commit that leaves the WAL past CHECKPOINT_FRAMES asks for a checkpoint. Both were made by the committing thread, the daemon's event loop, which served
nothing meanwhile: an SD card's fsync takes up to seconds (docs/host.md "A slow disk under the event
loop"). The commits stay the writer's, in its order; this thread only syncs: an fsync reaches every
write made to the file before it started, so what was committed before ``sync`` is on disk once its
future is done. One thread makes them, in the order asked.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from spasmwatch import outfile
from spasmwatch.store import _db

log = logging.getLogger(__name__)

# WAL frames past which a checkpoint is asked for: SQLite's own auto-checkpoint's default
# (wal_autocheckpoint, pages), turned off on the store's connection as it ran on the commit that
# crossed it, two fsyncs (the WAL, the database file) on the committing thread.
CHECKPOINT_FRAMES = 1000
# The WAL file's layout (sqlite.org/fileformat2.html, 4.1): a header, then frames of a header and a page.
_WAL_HEADER, _FRAME_HEADER = 32, 24
# s a store's open waits at most for its sync thread to open the checkpoints' connection
# (``take_over``): at once but behind a sync or checkpoint under way; past it (a disk stalled in
# one) the open goes on and the thread opens it in turn.
TAKE_OVER_WAIT_S = 1.0


def sync_wal(path: Path) -> None:
    """The WAL file of the store at ``path`` synced, as a commit at synchronous=FULL syncs it (fsync
    reaches the file's writes through any of its descriptors). A sync that fails raises, naming the
    file: what was committed is in the file, not known to be on the disk."""
    wal = f"{path}-wal"
    try:
        outfile.sync_file(Path(wal))
    except OSError as e:
        raise _db.StoreError(f"{wal}: committed, but its sync to the disk failed: {e}") from e


class WalSync:
    """The WAL syncs and checkpoints of the store at ``path``, in a thread started at the first ask.
    ``writable``: whether the store is open and not shut (a damaged file gets no checkpoint:
    ``Store._close_shut``)."""

    def __init__(self, path: Path, writable: Callable[[], bool]) -> None:
        self.path = path
        self._writable = writable
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._checkpoint_asked = False
        self._limit = -1  # the WAL's bytes past CHECKPOINT_FRAMES (``take_over``)
        self._conn: sqlite3.Connection | None = None  # the checkpoints' own (``take_over``)

    def take_over(self, conn: sqlite3.Connection) -> None:
        """The checkpoints of the writer's connection ``conn`` made here: its auto-checkpoint off, and
        its WAL cut back to CHECKPOINT_FRAMES' size at each restart (journal_size_limit: SQLite
        truncates it at the first commit after one), so that the file's size tells when one is due
        without reading the ``-shm`` index (a file SQLite holds POSIX locks on: a descriptor of ours
        closed on it would drop them all, this process's, and another's open would truncate it under
        this one's map: SIGBUS)."""
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
        self._limit = _WAL_HEADER + CHECKPOINT_FRAMES * (page + _FRAME_HEADER)
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute(f"PRAGMA journal_size_limit = {self._limit}")
        # Opened for the store's life, used by the thread alone: one opened and closed at each
        # checkpoint left its file descriptor open (SQLite keeps a closed connection's descriptor
        # while another of the process holds locks on the file, for the next open to take): one
        # more open file after the first checkpoint, seen by the soak test as a leak (review h50).
        # Closed and opened again by the thread, in order with its jobs: closed from here (a reopen's
        # worker) under a checkpoint under way, SQLite's close waited for it (the reopen held as
        # long), then freed the connection under its statement (SIGSEGV seen; review h51).
        opened: Future[None] = Future()
        self._ask(lambda: self._open_conn(opened))
        try:
            opened.result(TAKE_OVER_WAIT_S)
        except TimeoutError:
            log.warning("%s: its sync thread is busy (a slow disk): its checkpoints' connection opened after", self.path)

    def _open_conn(self, opened: Future[None]) -> None:
        """The thread's connection (``take_over``) closed and opened again; one that fails to open
        leaves none (no checkpoint until the next ``take_over``)."""
        try:
            self._close_conn()
            self._conn = sqlite3.connect(_db.writing_uri(self.path), uri=True, isolation_level=None,
                                         timeout=_db.BUSY_TIMEOUT_S, check_same_thread=False)  # fmt: skip
            self._conn.execute("PRAGMA schema_version").fetchone()  # (a read: its WAL opened now, not at the first checkpoint)
        except sqlite3.Error as e:
            log.warning("%s: its checkpoints' connection did not open: %s", self.path, e)
        finally:
            opened.set_result(None)

    def sync(self) -> Future[None]:
        """The WAL file synced by the thread: done once what was committed before this call is on
        disk; its exception, a StoreError (logged too), when the sync failed."""
        done: Future[None] = Future()

        def job() -> None:
            try:
                sync_wal(self.path)
            except _db.StoreError as e:
                log.warning("%s", e)
                done.set_exception(e)
            else:
                done.set_result(None)

        self._ask(job)
        return done

    def checkpoint_if_due(self) -> None:
        """A checkpoint asked for when the WAL holds more than CHECKPOINT_FRAMES (its file grew past
        their size since its last restart: ``take_over``), and none is asked already."""
        if self._limit < 0 or self._checkpoint_asked:
            return
        try:
            due = os.stat(f"{self.path}-wal").st_size > self._limit
        except OSError:  # (no WAL: nothing to checkpoint)
            return
        if due:
            self._checkpoint_asked = True
            self._ask(self._checkpoint)

    def close(self, wait_s: float | None = None) -> bool:
        """No more jobs after those asked, waited for at most ``wait_s`` (None: for ever): whether
        they are done. The store's close comes after (its connection the last one: SQLite
        checkpoints the WAL into the file and removes it). One held past ``wait_s`` by a stalled
        disk is left to the process's end (a daemon thread: the WAL as after a kill)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(wait_s)
            if thread.is_alive():
                return False
        self._close_conn()
        return True

    def _close_conn(self) -> None:
        """Its connection closed; a shut store's (damaged: ``writable`` false) without a checkpoint
        (``_db.close_unchecked``): the last connection's close checkpoints the WAL into the file, and
        this one, kept open past the writer's shut close, was the last (test_faults' damaged stores)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._writable():
            conn.close()
        else:
            _db.close_unchecked(conn, self.path)

    def _ask(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(self._jobs,), name="store-walsync", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    @staticmethod
    def _run(jobs: queue.SimpleQueue[Callable[[], None] | None]) -> None:
        while (job := jobs.get()) is not None:
            job()

    def _checkpoint(self) -> None:
        """PASSIVE: copies what no reader needs, never waits for the writer (the event loop's
        commits go on meanwhile); on its own connection (``take_over``; SQLite's rule: one thread's
        at a time), closed by ``close`` before the writer's, whose close removes the WAL."""
        try:
            if self._writable() and self._conn is not None:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as e:
            log.warning("%s: its checkpoint failed (tried again past the next commit): %s", self.path, e)
        finally:
            self._checkpoint_asked = False
