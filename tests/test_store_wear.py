"""What a band's streamed records cost the disk (an SD card, written all night): WAL pages per commit, syncs.

The daemon commits each record as it comes, an epoch and a STATUS every 10 s; every page a commit
dirties is a 4 KB WAL frame written. Counted with the checkpoints off, so the WAL only grows:
(its growth) / (page + frame header). An event's commit syncs the disk (synchronous=FULL) unless the
daemon's (lazy); an epoch's and a STATUS's once a minute (``SyncedCommits``).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.store import Store, StoreError
from spasmwatch.store.store import DEVICE_SEEN_EVERY_S, LAZY_SYNC_EVERY_S
from spasmwatch.store.walsync import CHECKPOINT_FRAMES
from synthetic import spasm_record

DEV = "SW-0001"
T0 = 1_700_000_000.0
WARM = 300  # records first: the tables and indexes past their first pages, as a store a night old
N = 200
HANG_S = 20.0  # real s before a wait on the store's sync thread is given up: a hang guard, not a bound
# The pages one placed epoch's commit must dirty: its table leaf, its key index, its (device, wall_t)
# index, and a share of the splits (measured 3.3; it was 6.1 while each epoch was written unplaced,
# then placed by an UPDATE in the same transaction, and moved the device's last_seen).
EPOCH_PAGES_MAX = 3.6
EVENT_PAGES_MAX = 5.6  # measured 5.3 (9.0 before): the events table has two indexes more (by seq, by wall_t)
STATUS_PAGES_MAX = 2.6  # its table leaf, its (device, time) index leaf: measured 2.3 (3.1 while each moved the device's last_seen)


def epoch(t_ms: int, boot: int = 1) -> dict[str, Any]:
    return {"type": "activity", "boot": boot, "t_ms": t_ms, "activity": 12, "breath": 40, "off_body": 0, "worn": 1}


def frames(db: Path, st: Store) -> int:
    wal = db.with_name(db.name + "-wal")
    page = int(st._conn.execute("PRAGMA page_size").fetchone()[0])  # type: ignore[union-attr]
    return (wal.stat().st_size - 32) // (page + 24)  # a WAL header, then frames of a header and a page


def per_record(tmp: Path, add: Any) -> float:
    """WAL pages per record ``add`` stores, on a store holding WARM of them."""
    db = tmp / "sw.db"
    with Store(db) as st:
        st._walsync.checkpoint_if_due = lambda: None  # type: ignore[method-assign]  (the store's own checkpoints off)
        st.add_sync(DEV, 1, 0, T0)
        for i in range(WARM):
            add(st, i)
        f0 = frames(db, st)
        for i in range(WARM, WARM + N):
            add(st, i)
        return (frames(db, st) - f0) / N


def test_a_streamed_epoch_is_written_placed_in_few_pages(tmp_path: Path) -> None:
    pages = per_record(tmp_path, lambda st, i: st.add_activity(DEV, [epoch(10_000 * i)], T0 + 10 * i))
    assert pages <= EPOCH_PAGES_MAX, f"{pages:.2f} WAL pages per epoch"
    with Store(tmp_path / "sw.db") as st:
        got = [(r.wall_t, r.t_ms) for r in st.activity(DEV)]
    assert got == [(T0 + t_ms / 1000, t_ms) for t_ms in range(0, 10_000 * (WARM + N), 10_000)]  # placed as before


def test_a_streamed_event_is_written_placed_in_few_pages(tmp_path: Path) -> None:
    pages = per_record(tmp_path, lambda st, i: st.add_events(DEV, [spasm_record(i, 10_000 * i)], T0 + 10 * i))
    assert pages <= EVENT_PAGES_MAX, f"{pages:.2f} WAL pages per event"
    with Store(tmp_path / "sw.db") as st:
        assert [e.wall_t for e in st.events(DEV)] == [T0 + 10 * i for i in range(WARM + N)]


def test_records_of_a_boot_with_no_sync_stay_unplaced_until_one_comes(tmp_path: Path) -> None:
    with Store(tmp_path / "sw.db") as st:
        st.add_activity(DEV, [epoch(10_000 * i, boot=2) for i in range(3)], T0)
        st.add_events(DEV, [spasm_record(0, 5_000) | {"boot": 2}], T0)
        assert [r.wall_t for r in st.activity(DEV)] == [] and [e.wall_t for e in st.events(DEV)] == [None]
        st.add_sync(DEV, 2, 20_000, T0 + 100)
        assert [r.wall_t for r in st.activity(DEV)] == [T0 + 80, T0 + 90, T0 + 100]
        assert [e.wall_t for e in st.events(DEV)] == [T0 + 85]


def test_a_status_is_written_in_few_pages(tmp_path: Path) -> None:
    status = {"battery_pct": 80, "worn": 1, "log_fill_pct": 1, "flags": 0, "errors": 0, "boot": 1, "uptime_s": 0, "next_seq": 0}
    pages = per_record(tmp_path, lambda st, i: st.add_status(DEV, T0 + 10 * i, status | {"uptime_s": 10 * i}))
    assert pages <= STATUS_PAGES_MAX, f"{pages:.2f} WAL pages per STATUS"


def test_the_last_seen_of_a_streaming_band_is_at_most_a_minute_old(tmp_path: Path) -> None:
    with Store(tmp_path / "sw.db") as st:
        st.upsert_device(DEV, name="crib", wall_s=T0 + 5)  # a connect: to the second
        assert st.devices()[0].last_seen_wall_s == T0 + 5
        seen = set()
        for i in range(1, 60):
            st.add_activity(DEV, [epoch(10_000 * i)], T0 + 10 * i)
            last = st.devices()[0].last_seen_wall_s
            assert T0 + 10 * i - DEVICE_SEEN_EVERY_S < last <= T0 + 10 * i
            seen.add(last)
        assert len(seen - {T0 + 5}) == 59 * 10 // DEVICE_SEEN_EVERY_S  # moved once a minute, not at each record
        st.add_status(DEV, T0 + 5, {"battery_pct": 80, "boot": 1})  # an older time never moves it back
        assert st.devices()[0].last_seen_wall_s == max(seen)


class SyncedCommits:
    """The commits SQLite runs on ``st``'s connection at ``synchronous=FULL`` (each one a WAL fsync:
    an SD card's erase block rewritten for a few hundred bytes) and at NORMAL (none: the OS writes
    the WAL out in bulk, a later FULL commit or checkpoint syncs it), read from the statements the
    connection runs (its trace): its level as the open set it, then each PRAGMA synchronous run.
    ``synced`` counts only those that wrote a row (``total_changes`` moved since their BEGIN): one
    that wrote none writes no WAL frame and syncs nothing (a check of the clock that moved nothing)."""

    def __init__(self, st: Store) -> None:
        conn = st._conn
        assert conn is not None
        self._conn = conn
        self.full = int(conn.execute("PRAGMA synchronous").fetchone()[0]) == 2  # (2: FULL)
        self.synced = self.lazy = self._began = 0
        conn.set_trace_callback(self.saw)

    def saw(self, sql: str) -> None:
        said = sql.strip().upper()
        if said.startswith("PRAGMA SYNCHRONOUS"):
            self.full = said.replace(" ", "").endswith("=FULL")
        elif said.startswith("BEGIN"):
            self._began = self._conn.total_changes
        elif said == "COMMIT":
            wrote = self._conn.total_changes != self._began
            self.synced, self.lazy = self.synced + (self.full and wrote), self.lazy + (not self.full)


STATUS = {"battery_pct": 80, "worn": 1, "log_fill_pct": 1, "flags": 0, "errors": 0, "boot": 1, "uptime_s": 0, "next_seq": 0}


class WalSyncs:
    """The real os.fsync (outfile.sync_file's), counted by the file it reaches and the thread that
    made it; ``hold``: those of other threads wait until ``released`` (the store's sync thread
    stalled, as on a slow disk); ``fail``: theirs fail as a failing disk's do (EIO)."""

    def __init__(self, monkeypatch: Any, hold: bool = False, fail: bool = False) -> None:
        self.made: list[tuple[str, bool]] = []  # (file, on the calling thread)
        self.one = threading.Event()
        self.released = threading.Event()
        if not hold:
            self.released.set()
        real = os.fsync

        def fsync(fd: int) -> None:
            if threading.current_thread() is not threading.main_thread():
                self.released.wait(HANG_S)
                if fail:
                    self.one.set()
                    raise OSError(errno.EIO, os.strerror(errno.EIO))
            real(fd)
            self.made.append((os.readlink(f"/proc/self/fd/{fd}"), threading.current_thread() is threading.main_thread()))
            self.one.set()

        monkeypatch.setattr(os, "fsync", fsync)

    def wait(self) -> None:
        assert self.one.wait(HANG_S), "no fsync made"


def test_streamed_epochs_and_status_sync_the_disk_once_a_minute_not_at_each_commit(tmp_path: Path, monkeypatch: Any) -> None:
    """Found by review (an SD card's night): each epoch and STATUS, one every 10 s, was its own FULL
    commit, 424 fsyncs an hour of an idle band (bench/sdcard.py). Neither is held by the band once
    sent, but a power cut takes the daemon down longer than the minute they may lose: one WAL sync
    a minute bounds it (LAZY_SYNC_EVERY_S); a kill -9 loses none (the next test). Found by
    bench/slow_disk.py: that sync was a FULL commit, made on the daemon's event loop, which served
    nothing for as long as the fsync took (1 s on a slow SD card): now the store's sync thread
    makes it, the commit a lazy one."""
    db = tmp_path / "sw.db"
    now = [0.0]
    with Store(db) as st:
        st._clock = lambda: now[0]
        st.add_sync(DEV, 1, 0, T0)  # (synced, at 0 s of the clock)
        seen = SyncedCommits(st)
        for i in range(100):  # 1000 s of a band within a minute of that: none synced
            st.add_activity(DEV, [epoch(10_000 * i)], T0 + 10 * i)
            st.add_status(DEV, T0 + 10 * i, STATUS | {"uptime_s": 10 * i})
        assert (seen.synced, seen.lazy) == (0, 200)
        now[0] += LAZY_SYNC_EVERY_S - 0.001
        st.add_activity(DEV, [epoch(1_000_000)], T0 + 1000)
        syncs = WalSyncs(monkeypatch)
        now[0] += 0.001  # a minute since the last synced commit: the next one has the WAL synced, the one after not
        st.add_status(DEV, T0 + 1000, STATUS | {"uptime_s": 1000})
        st.add_activity(DEV, [epoch(1_010_000)], T0 + 1010)
        assert (seen.synced, seen.lazy) == (0, 203)  # (before: 1, 202: the minute's commit a FULL one)
        syncs.wait()
        assert syncs.made == [(f"{db}-wal", False)]  # by the store's thread, not the committing one
        assert len(list(st.activity(DEV))) == 102 and len(list(st.status_history(DEV))) == 101


def test_a_synced_commit_that_writes_nothing_does_not_put_the_lazy_commits_sync_off(tmp_path: Path, monkeypatch: Any) -> None:
    """Found moving the daemon's sync points to lazy commits (h51f): at each band sync the daemon
    checks the band's syncs against the clock (``place_on_clock``, ``place_by_links``), a FULL
    transaction that most often finds nothing to write. SQLite syncs no WAL for a commit that wrote
    no page, yet it counted as the lazy commits' sync (``_synced_s``): such checks less than a
    minute apart, and the epochs' WAL was never synced by the store's thread."""
    db = tmp_path / "sw.db"
    now = [0.0]
    with Store(db) as st:
        st._clock = lambda: now[0]
        st.add_sync(DEV, 1, 0, T0, "host-boot", 100.0)  # (synced, at 0 s of the clock)
        syncs = WalSyncs(monkeypatch)
        for i in range(1, 7):  # epochs 10 s apart, each followed by a check that finds no step
            now[0] = 10.0 * i
            st.add_activity(DEV, [epoch(10_000 * i)], T0 + 10 * i)
            assert st.place_on_clock(DEV, "host-boot", T0 - 100.0, 1.0) == []
        syncs.wait()  # (before: none, each check taken for a sync)
        assert syncs.made == [(f"{db}-wal", False)]


def test_the_wal_is_checkpointed_by_the_stores_thread_not_by_the_commit_that_fills_it(tmp_path: Path, monkeypatch: Any) -> None:
    """Found by bench/slow_disk.py: SQLite's auto-checkpoint (past 1000 WAL pages, ~50 min of a
    band) ran on the commit that crossed it, two fsyncs (the WAL, the database file) on the daemon's
    event loop. Now the store's sync thread makes it: held here (stalled in a sync, as on a slow
    disk), the commits past CHECKPOINT_FRAMES leave the database file as it was until it goes on."""
    db = tmp_path / "sw.db"
    now = [0.0]
    with Store(db) as st:
        st._clock = lambda: now[0]
        st.add_sync(DEV, 1, 0, T0)
        syncs = WalSyncs(monkeypatch, hold=True)
        now[0] += LAZY_SYNC_EVERY_S
        st.add_activity(DEV, [epoch(0)], T0)  # its minute's sync: the store's thread held in it
        file = db.read_bytes()
        for i in range(1, 60):  # ~1100 WAL pages, past CHECKPOINT_FRAMES
            st.add_activity(DEV, [epoch(10_000 * (200 * i + k)) for k in range(200)], T0 + 2000 * i)
        assert frames(db, st) > CHECKPOINT_FRAMES
        assert db.read_bytes() == file  # (before: checkpointed by the commit that crossed it)
        syncs.released.set()
        st._walsync.sync().result(HANG_S)  # (after the checkpoint, in the order asked)
        assert db.read_bytes() != file
        assert len(list(st.activity(DEV))) == 1 + 59 * 200


# A checkpoint under way on the sync thread's connection, held in its statement (its trace) as a
# disk stalled in it would hold it, while the store, shut by a fault, is opened again (``reopen``,
# the daemon's worker thread: ``WalSync.take_over``). The script's output, its exit status: 0.
_REOPEN_UNDER_CHECKPOINT = """
import logging, sys, threading
from pathlib import Path
from spasmwatch.store import Store, StoreError
logging.basicConfig(stream=sys.stdout, format="%(message)s")
st = Store(Path(sys.argv[1]))
ws = st._walsync
inside, go = threading.Event(), threading.Event()
def held(sql):
    if "wal_checkpoint" in sql:
        inside.set()
        # (the old take_over's close waited for it here, the reopen held by the checkpoint)
        print("checkpoint let go", go.wait(10), flush=True)
ws._conn.set_trace_callback(held)
ws._ask(ws._checkpoint)
assert inside.wait(20)
st.shut(StoreError("found damaged"))
print("reopened", st.reopen(), flush=True)
go.set()
ws.sync().result(20)
st.add_sync("SW-0001", 1, 0, 1_700_000_000.0)
print("closed", st.close(20), flush=True)
"""


def test_a_reopen_under_a_checkpoint_leaves_the_connection_to_the_checkpoint_and_opens_its_own_after(tmp_path: Path) -> None:
    """Found by review h51: ``take_over`` closed the sync thread's connection from the reopening
    thread, under the checkpoint the thread ran on it: SQLite's close waited for the checkpoint (the
    reopen held as long: 'checkpoint let go False'), then freed the connection under its statement
    (a process crashed by it: SIGSEGV, seen outside the store). The close and the open are the
    thread's own jobs now, in their order: the reopen waits TAKE_OVER_WAIT_S at most for them and
    goes on, the checkpoint ends on its connection, the next one opened after it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", _REOPEN_UNDER_CHECKPOINT, str(tmp_path / "sw.db")],
                         capture_output=True, env=env, timeout=60)  # fmt: skip
    lines = out.stdout.decode().splitlines()
    assert out.returncode == 0, (out.returncode, lines, out.stderr.decode()[-2000:])
    assert lines == [
        f"{tmp_path / 'sw.db'}: its sync thread is busy (a slow disk): its checkpoints' connection opened after",
        "reopened True",
        "checkpoint let go True",
        "closed True",
    ]


def test_synced_later_has_the_wal_synced_by_the_stores_thread_or_at_the_end_of_the_transaction_it_is_asked_in(tmp_path: Path, monkeypatch: Any) -> None:
    """The daemon's transitions (``Daemon._transition``): a lazy commit, then ``synced_later``, whose
    future its push waits for. The store's thread makes the sync (held here: the future not done
    until it is); asked inside a transaction (a merge's transitions, in the cluster's lazy one), the
    sync is that transaction's at its end, on its thread, as a ``transaction()`` there."""
    db = tmp_path / "sw.db"
    with Store(db) as st:
        st._clock = lambda: 0.0
        st.add_sync(DEV, 1, 0, T0)
        syncs = WalSyncs(monkeypatch, hold=True)
        st.add_events(DEV, [spasm_record(0, 45_000)], T0 + 45, lazy=True)
        on_disk = st.synced_later()
        assert not on_disk.done() and syncs.made == []
        syncs.released.set()
        on_disk.result(HANG_S)
        assert syncs.made == [(f"{db}-wal", False)]
        with st.transaction(lazy=True):
            st.add_events(DEV, [spasm_record(1, 50_000)], T0 + 50, lazy=True)
            inside = st.synced_later()
            assert not inside.done()
        assert inside.done() and syncs.made == [(f"{db}-wal", False), (f"{db}-wal", True)]
        with pytest.raises(ValueError), st.transaction(lazy=True):
            rolled_back = st.synced_later()
            raise ValueError("a write that failed")
        assert isinstance(rolled_back.exception(), StoreError)


def test_an_event_and_every_other_write_is_synced_at_its_commit_among_lazy_epochs(tmp_path: Path) -> None:
    """An event stored by default (``add_events``: 'spasmwatch store', an import) commits at FULL,
    whatever came before, and syncs the lazy epochs' WAL frames with it; the daemon asks for a lazy
    one (its band holds the event: the test below, and docs/store.md "Guarantees")."""
    with Store(tmp_path / "sw.db") as st:
        st._clock = lambda: 0.0
        st.add_sync(DEV, 1, 0, T0)
        seen = SyncedCommits(st)
        for i in range(5):
            st.add_activity(DEV, [epoch(10_000 * i)], T0 + 10 * i)
        before = seen.synced
        st.add_events(DEV, [spasm_record(0, 45_000)], T0 + 45)
        assert seen.synced == before + 1 and seen.full
        st.upsert_device(DEV, name="crib", wall_s=T0 + 46)
        assert seen.synced == before + 2
        st.add_activity(DEV, [epoch(50_000)], T0 + 50)
        assert seen.synced == before + 2 and not seen.full  # (lazy again: synced a moment ago)


_WRITER = """
import sys, time
from spasmwatch.store import Store
st = Store(sys.argv[1])
st.add_sync("SW-0001", 1, 0, 1_700_000_000.0)
for i in range(50):
    st.add_activity("SW-0001", [{"boot": 1, "t_ms": 10_000 * i, "activity": 1, "breath": 40, "off_body": 0, "worn": 1}], 1_700_000_000.0 + 10 * i)
print("stored", flush=True)
time.sleep(600)
"""


def test_lazy_commits_outlive_the_daemon_killed(tmp_path: Path) -> None:
    """A commit at NORMAL is in the WAL file when it returns (the OS holds it): a process killed
    (SIGKILL: no close, no checkpoint) loses none; only the machine losing power may lose the last
    minute's (the test above)."""
    db = tmp_path / "sw.db"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.Popen([sys.executable, "-c", _WRITER, str(db)], stdout=subprocess.PIPE, env=env)
    try:
        assert p.stdout is not None and p.stdout.readline() == b"stored\n"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    with Store(db) as st:
        assert [r.t_ms for r in st.activity(DEV)] == [10_000 * i for i in range(50)]


def test_a_lazy_transaction_holding_a_write_that_syncs_has_the_wal_synced_at_its_end(tmp_path: Path, monkeypatch: Any) -> None:
    """The daemon's cluster row is a lazy commit, and a merge's transitions (an alert and its kept
    push, each a ``transaction()``, which must be on disk before the push goes) are savepoints inside
    it: SQLite takes no new synchronous level inside a transaction, so the store syncs the WAL itself
    after that commit, and only then (the row's own ``upsert_cluster`` is as lazy as the transaction).
    The real os.fsync, counted by the file it reaches."""
    db = tmp_path / "sw.db"
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    with Store(db) as st:
        st._clock = lambda: 0.0
        st.add_sync(DEV, 1, 0, T0)
        seen = SyncedCommits(st)
        monkeypatch.setattr(os, "fsync", fsync)
        with st.transaction(lazy=True):  # methods' own writes inside: as lazy as it is
            st.add_events(DEV, [spasm_record(0, 45_000)], T0 + 45)
            st.upsert_cluster(DEV, "k1", T0 + 45, T0 + 46, 1, None, None, False, wall_s=T0 + 46)
        assert (seen.synced, seen.lazy, synced) == (0, 1, [])
        with st.transaction(lazy=True):
            st.add_events(DEV, [spasm_record(1, 50_000)], T0 + 50, lazy=True)
            with st.transaction():  # as Daemon._transition's
                st.add_note(T0 + 50, "note", "a write that syncs")
        assert (seen.synced, seen.lazy, synced) == (0, 2, [f"{db}-wal"])
        assert [e.seq for e in st.events(DEV)] == [0, 1] and len(list(st.notes())) == 1
