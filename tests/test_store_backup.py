"""The store's own backups (store/backup.py, daemon/backups.py, 'store backups' / 'store restore'):
real SQLite files on disk, a writer committing while the copy is made, the daemon's pass on an
injected wall clock (docs/store.md "Backups")."""

from __future__ import annotations

import contextlib
import re
import datetime as dt
import logging
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spasmwatch.commands._daemon import hm
from spasmwatch.commands.status import backup_lines
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.backups import StoreBackups
from spasmwatch.daemon.lock import one_daemon
from spasmwatch.daemon.rawkeep import size_text
from spasmwatch.store import Store, StoreError, _db
from spasmwatch.store import backup as B
from spasmwatch.store.schema import SCHEMA_VERSION

DEV = "band0001"
DAY = 86400.0
T0 = dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.timezone.utc).timestamp()  # a Monday, 03:00 UTC


def _events(first: int, n: int) -> list[dict[str, int]]:
    return [dict(seq=s, boot=1, onset_ms=s * 1000, duration_ms=900, peak_rate_mrads=1, peak_angle_mrad=1,
                 confidence=90, flags=0) for s in range(first, first + n)]  # fmt: skip


def _store(path: Path, n: int = 100) -> Store:
    st = Store(path)
    st.upsert_device(DEV, name="crib", wall_s=T0)
    st.add_sync(DEV, 1, 0, T0)
    st.add_events(DEV, _events(0, n))
    return st


def _seqs(path: Path) -> list[int]:
    with contextlib.closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as c:
        return [r[0] for r in c.execute("SELECT seq FROM events ORDER BY seq")]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=120)


def test_a_copy_made_while_the_daemon_writes_holds_every_commit_and_nothing_uncommitted(tmp_path: Path) -> None:
    """The copy is the store as of its last commit: rows committed into the WAL (not checkpointed) are
    in it, a write transaction under way on the daemon's connection is not, and the writer goes on
    (its transaction commits after the copy). The copy is a file of its own (no WAL), 0600."""
    path = tmp_path / "spasmwatch.db"
    with _store(path) as st:
        assert Path(f"{path}-wal").stat().st_size > 0  # the 100 events are in the WAL
        conn = st._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO events(device, boot, seq, onset_ms, duration_ms, peak_rate_mrads, peak_angle_mrad, confidence, flags, "
                     "received_wall_s) VALUES (?, 1, 999, 0, 900, 1, 1, 90, 0, 0)", (DEV,))  # fmt: skip
        made = B.make(path, T0)
        conn.execute("COMMIT")
        st.add_events(DEV, _events(100, 5))  # the writer goes on
    assert _seqs(made.path) == list(range(100))
    assert _seqs(path) == [*range(105), 999]
    assert made.path.name == "20261102T030000Z.db" and made.path.parent == tmp_path / "spasmwatch.db.backups"
    assert not Path(f"{made.path}-wal").exists() and oct(made.path.stat().st_mode & 0o777) == "0o600"
    assert B.listed(path) == [made]


def test_a_damaged_store_makes_no_copy_and_the_copies_kept_stay(tmp_path: Path) -> None:
    """A store with a page overwritten (a bad sector): the copy's quick_check fails, so nothing is
    renamed into the backups folder (no partial file left) and the copy kept before is untouched.
    The store itself is read through then, and said damaged (the daemon shuts it: tests/daemon/test_faults.py
    ``..._found_by_its_daily_copy_...``)."""
    path = tmp_path / "spasmwatch.db"
    _store(path, 3000).close()
    good = B.make(path, T0)
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        pages = [r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno")]
        size = int(c.execute("PRAGMA page_size").fetchone()[0])
    with open(path, "r+b") as f:
        f.seek((pages[len(pages) // 2] - 1) * size)
        f.write(b"\xde\xad\xbe\xef" * (size // 4))
    with pytest.raises(StoreError, match=r"the store is damaged .*found by its daily copy, none made in .*spasmwatch store recover") as e:
        B.make(path, T0 + DAY)
    assert e.value.damaged
    assert [p.name for p in B.folder(path).iterdir()] == [good.path.name]


def test_a_store_changed_by_hand_while_the_daemon_runs_makes_no_copy(tmp_path: Path) -> None:
    """events.onset_ms dropped by hand while the daemon has the store open (its open checked it
    before): every page is sound, but the daemon's next open refuses it and no restore could use the
    copy. Not made: the copies kept from before the change stay the newest."""
    path = tmp_path / "spasmwatch.db"
    with _store(path) as st:
        good = B.make(path, T0)
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
            c.execute("ALTER TABLE events DROP COLUMN onset_ms")
        with pytest.raises(StoreError, match="refused as damaged: .*no spasmwatch schema version"):
            B.make(path, T0 + DAY)
        assert st.store_id is not None
    assert B.listed(path) == [good]


@pytest.mark.parametrize("mount_point", [False, True], ids=["folder-gone", "empty-mount-point"])
def test_a_store_on_a_disk_unmounted_while_the_daemon_runs_makes_nothing_where_it_was(tmp_path: Path, mount_point: bool) -> None:
    """The store's disk unmounted under a running daemon (synthetic.unmount): no copy, and no folder
    made where the store was (its parents neither): one there would hide the disk's own folder when
    it is mounted again (docs/store.md "A store on a disk not mounted yet")."""
    from synthetic import unmount

    path = tmp_path / "disk" / "spasmwatch.db"
    with _store(path) as st:
        mount = unmount(path, empty_mount_point=mount_point)
        with pytest.raises(StoreError, match="no backup made"):
            B.make(path, T0)
        assert sorted(p.name for p in tmp_path.iterdir()) == [*(["disk"] if mount_point else []), "disk.disk"]
        assert not mount_point or list(path.parent.iterdir()) == []
        mount()
        assert st.store_id is not None


def test_rotation_keeps_the_newest_of_the_latest_days_and_weeks(tmp_path: Path) -> None:
    """40 daily copies (and a second one on the last day): 7 days kept, the newest of each, plus the
    newest of the 4 latest ISO weeks (two of them among the 7 days): 9 files. Counted by days that
    have a copy, not back from now."""
    path = tmp_path / "spasmwatch.db"
    _store(path).close()
    B.make(path, T0)
    for k in range(40):
        (B.folder(path) / (dt.datetime.fromtimestamp(T0 + k * DAY, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + ".db")).write_bytes(b"")
    B.make(path, T0 + 39 * DAY + 3600)
    B.rotate(path, 7, 4)
    kept = [dt.datetime.fromtimestamp(b.made_s, dt.timezone.utc) for b in B.listed(path)]
    # T0 is Monday 2 Nov; day 39 is Friday 11 Dec. Weeks: 16-22 Nov (Sun 22), 23-29 Nov (Sun 29), then the 7 days 5-11 Dec.
    assert [(d.day, d.hour) for d in kept] == [(22, 3), (29, 3), (5, 3), (6, 3), (7, 3), (8, 3), (9, 3), (10, 3), (11, 4)]


class _Wall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_the_daemon_s_pass_makes_a_copy_a_day_and_skips_when_free_space_is_short(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """On an injected wall clock: a copy at the first pass, none at the next hour's, one again a day
    later (BACKUP_EVERY_S), rotated to keep_days. A reserve over the free space: no copy, a warning
    once (then DEBUG), the status says why; the copies kept stay."""
    path = tmp_path / "spasmwatch.db"
    wall = _Wall(T0)
    with _store(path) as st:
        keeper = StoreBackups(st, 2, wall, reserve_mb=0)  # (not this machine's free space)
        assert keeper.run() is not None
        wall.t += K.BACKUP_CHECK_S
        assert keeper.run() is None and keeper.files == 1
        for _ in range(3):
            wall.t += K.BACKUP_EVERY_S
            assert keeper.run() is not None
        assert keeper.files == 2  # 2 days (the newest of their week among them)
        status = keeper.status()
        assert status["error"] is None and status["latest"] == wall.t, status
        short = StoreBackups(st, 2, wall, reserve_mb=B.free_bytes(path) / 1e6 + 1)
        with caplog.at_level(logging.DEBUG, logger="spasmwatch.daemon.backups"):
            for _ in range(2):
                wall.t += K.BACKUP_EVERY_S
                assert short.run() is None
        warned = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 1 and "free space is short" in warned[0].getMessage(), caplog.text
        assert "free space is short" in str(short.status()["error"]) and short.files == 2
        said = backup_lines({"backups": short.status()})
        assert len(said) == 1 and said[0].startswith("STORE BACKUP NOT MADE since ") and "free space is short" in said[0], said
        assert backup_lines({"backups": keeper.status()}) == [f"store backups: 2 kept ({size_text(keeper.bytes)}), the latest made "
                                                              f"{hm(wall.t - 2 * K.BACKUP_EVERY_S)} ('spasmwatch store backups' lists them)"]
        assert backup_lines({}) == [] and backup_lines({"backups": StoreBackups(st, 0, wall).status()}) == [
            "store backups: off ([daemon] backup_keep_days = 0)"]


def test_restore_puts_a_copy_back_keeps_the_file_there_and_is_refused_while_a_daemon_runs(tmp_path: Path) -> None:
    """'store restore --from latest': the store holds the copy's events, the file that was there is
    kept beside it with the events saved after the copy, and it opens as the daemon's store. Refused
    (nothing changed) while the daemon's lock is held."""
    path = tmp_path / "spasmwatch.db"
    with _store(path) as st:
        B.make(path, T0)
        st.add_events(DEV, _events(100, 20))
    listed = _cli("store", "backups", "--db", str(path))
    assert listed.returncode == 0 and "20261102T030000Z.db" in listed.stdout, listed.stdout + listed.stderr
    with one_daemon(path):
        r = _cli("store", "restore", "--db", str(path), "--from", "latest")
    assert r.returncode != 0 and "another spasmwatch daemon is using" in r.stderr, r.stdout + r.stderr
    assert _seqs(path) == list(range(120))
    r = _cli("store", "restore", "--db", str(path), "--from", "20261102T030000Z.db")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _seqs(path) == list(range(100))
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("spasmwatch.db.replaced-") and not p.name.endswith(("-wal", "-shm"))]
    assert _seqs(aside) == list(range(120)) and str(aside) in r.stdout, r.stdout
    with Store(path) as st:  # the daemon's open (migrate, id) takes it
        assert st.next_backfill_seq(DEV) == 100


def test_a_running_daemon_makes_its_first_copy_at_start_and_restore_waits_for_its_stop(tmp_path: Path) -> None:
    """'spasmwatch run' in a process of its own (a simulated band that no band answers for): its first
    pass makes a copy, /api/status 'backups' and 'store backups' name it; 'store restore' is refused
    while it runs, nothing changed; stopped, the restore puts it back."""
    import os

    from daemonproc import api_status, one_band_config, status_once_up, stopped
    from servers import free_port

    port, data = free_port(), tmp_path / "data"
    config = one_band_config(tmp_path / "config.toml", data, port)
    store = data / "spasmwatch.db"
    proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path)))  # fmt: skip
    try:
        status = status_once_up(proc, port)
        for _ in range(300):  # the first pass runs in a worker thread at start (asked again, not timed)
            if status["backups"]["files"]:
                break
            time.sleep(0.1)
            status = api_status(port) or status
        backups = status["backups"]
        assert backups["files"] == 1 and backups["error"] is None and backups["keep_days"] == K.BACKUP_KEEP_DAYS, backups
        [made] = B.listed(store)
        assert backups["latest_path"] == str(made.path)
        listed = _cli("store", "backups", "--config", str(config))
        assert listed.returncode == 0 and made.name in listed.stdout, listed.stdout + listed.stderr
        refused = _cli("store", "restore", "--config", str(config), "--from", "latest")
        assert refused.returncode != 0 and "another spasmwatch daemon is using" in refused.stderr, refused.stderr
        assert not [p for p in data.iterdir() if ".replaced-" in p.name]
    finally:
        log = stopped(proc)
    assert proc.returncode == 0, log
    assert f"store backup {made.path} made" in log, log
    restored = _cli("store", "restore", "--config", str(config), "--from", "latest")
    assert restored.returncode == 0 and "restored from" in restored.stdout, restored.stdout + restored.stderr


def test_restore_refuses_a_copy_that_is_not_a_sound_store_and_changes_nothing(tmp_path: Path) -> None:
    """A file that is not a spasmwatch store, one whose page is overwritten, and a name no backup has:
    each refused with the reason, the store left as it was and nothing kept aside."""
    path = tmp_path / "spasmwatch.db"
    _store(path).close()
    before = path.read_bytes()
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as c:
        c.execute("CREATE TABLE t(x)")
    torn = tmp_path / "torn.db"
    torn.write_bytes(before[: len(before) // 2] + b"\xde\xad" * (len(before) // 4))
    for source, said in ((other, "not a spasmwatch store"), (torn, "cannot be read as a sound store"), (tmp_path / "nope", "no such backup")):
        r = _cli("store", "restore", "--db", str(path), "--from", str(source))
        assert r.returncode != 0 and said in r.stderr and "nothing was restored" in r.stderr, (source, r.stderr)
    assert path.read_bytes() == before and not [p for p in tmp_path.iterdir() if ".replaced-" in p.name or ".restoring" in p.name]


def test_restore_refuses_a_copy_of_a_newer_schema_this_version_may_not_write(tmp_path: Path) -> None:
    """Found by the hostile-input review: a copy made by a newer spasmwatch (put back to this one
    since) passed the check and was put in place; the command then said 'store schema version N,
    newer than this spasmwatch's ... (the store was left untouched)', exit 2, the store replaced by
    one the daemon refuses to start on. Now refused before anything moves, naming the copy."""
    path, newer = tmp_path / "spasmwatch.db", tmp_path / "newer.db"
    _store(path).close()
    _store(newer).close()
    with contextlib.closing(sqlite3.connect(newer)) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # no marker: that version's alone
    before = path.read_bytes()
    r = _cli("store", "restore", "--db", str(path), "--from", str(newer))
    assert r.returncode == 2 and f"{newer}: store schema version {SCHEMA_VERSION + 1}, newer than this spasmwatch's" in r.stderr, r.stderr
    assert "nothing was restored" in r.stderr and "left untouched" not in r.stderr, r.stderr
    assert path.read_bytes() == before and not [p for p in tmp_path.iterdir() if ".replaced-" in p.name or ".restoring" in p.name]


def _filled(path: Path, n: int) -> None:
    """``n`` notes of 100 kB into the store at ``path`` (SQL: longer than a caregiver may type), for its size alone."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute("BEGIN")
        c.executemany("INSERT INTO notes (wall_s, kind, text) VALUES (?, 'note', ?)", ((T0 + i, f"{i} " + "x" * 100_000) for i in range(n)))
        c.execute("COMMIT")


def _damage_page(path: Path, table: str) -> None:
    """A leaf page in the middle of ``table`` overwritten (a bad sector), in the file itself."""
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        pages = [r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]
        size = int(c.execute("PRAGMA page_size").fetchone()[0])
    with open(path, "r+b") as f:
        f.seek((pages[len(pages) // 2] - 1) * size)
        f.write(b"\xde\xad\xbe\xef" * (size // 4))


def _notes(path: Path) -> list[tuple[int, str]]:
    with contextlib.closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as c:
        return [(int(r[0]), str(r[1])) for r in c.execute("SELECT id, text FROM notes ORDER BY id")]


def _notes_past_a_backup(tmp_path: Path, n: int) -> Path:
    """A store with a note before its backup and ``n`` notes of ~120 bytes after it (pages of notes to damage)."""
    path = tmp_path / "spasmwatch.db"
    with _store(path) as st:
        st.add_note(T0, "note", "before the backup")
        B.make(path, T0)
        for i in range(n):
            st.add_note(T0 + i, "note", f"after the backup {i:04d} " + "x" * 100)
    return path


def test_restore_carries_what_can_be_read_of_a_damaged_file_once(tmp_path: Path) -> None:
    """A note before the backup, 2000 after it, then a leaf page of notes overwritten (the store damaged:
    the reason to restore). 'store restore' puts the backup back and carries the notes written after it
    that can be read, says the rowids it could not read, and exits 0. Restored again from the same
    backup (the replaced file now the restored store): the same notes carried, none twice. A replaced
    file that cannot be read at all (its first page gone) fails no restore: nothing carried, said so.
    One cut short (a quarter of its pages gone): the notes before the cut are carried (read from a
    copy extended to its header's size, then removed), the rest said unreadable."""
    path = _notes_past_a_backup(tmp_path, 2000)
    _damage_page(path, "notes")
    r = _cli("store", "restore", "--db", str(path), "--from", "latest")
    assert r.returncode == 0, r.stdout + r.stderr
    kept = _notes(path)
    assert kept[0] == (1, "before the backup") and 1900 < len(kept) < 2001, len(kept)
    assert len({text for _, text in kept}) == len(kept)
    assert f"saved after the backup and carried into it: {len(kept) - 1} notes" in r.stdout, r.stdout
    assert "could not read: notes rows " in r.stdout, r.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".restoring", ".carrying"))]
    again = B.restore(path, B.listed(path)[-1].path, "again")
    assert again.carried is not None and again.carried.rows == {"notes": len(kept) - 1} and not again.carried.skipped, again.carried
    assert _notes(path) == kept
    assert again.replaced is not None
    with open(again.replaced, "r+b") as f:  # the header and schema page gone
        f.write(b"\x00" * 4096)
    Path(f"{again.replaced}-wal").unlink(missing_ok=True)
    path.rename(tmp_path / "moved.db")
    again.replaced.rename(path)
    torn = B.restore(path, B.listed(path)[-1].path, "torn")
    assert torn.carried is not None and torn.carried.error is not None and not torn.carried.rows, torn.carried
    assert _notes(path) == kept[:1]
    assert torn.replaced is not None
    moved = tmp_path / "moved.db"  # the store with every note carried, its file cut short (a copy that ran out of room)
    with contextlib.closing(sqlite3.connect(moved)) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = moved.stat().st_size
    with open(moved, "r+b") as f:
        f.truncate(size * 3 // 4 // 4096 * 4096)  # (at a page's end)
    path.rename(tmp_path / "torn.db")
    moved.rename(path)
    short = B.restore(path, B.listed(path)[-1].path, "short")
    assert short.carried is not None and short.carried.error is None and short.carried.skipped, short.carried
    again_kept = _notes(path)
    assert 0 < short.carried.rows["notes"] < len(kept) - 1 and again_kept[0] == kept[0], short.carried
    assert len(again_kept) == 1 + short.carried.rows["notes"] and set(again_kept) <= set(kept)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".restoring", ".carrying"))]


def test_a_daemon_stopped_during_its_copy_stops_at_once_and_leaves_no_partial_file(tmp_path: Path) -> None:
    """'spasmwatch run' on a 150 MB store (notes of 100 kB: its first copy takes a second or more),
    stopped (SIGTERM, as systemd does) as soon as the copy's partial file appears: the copy ends at its
    next step (COPY_STEP_PAGES), the daemon exits 0 with no copy made and no partial file left, and says
    so. Until 2026-12-06 the copy was one step: the stop waited for it to end, and the copy was made."""
    import os

    from daemonproc import one_band_config, status_once_up, stopped
    from servers import free_port

    port, data = free_port(), tmp_path / "data"
    config = one_band_config(tmp_path / "config.toml", data, port)
    data.mkdir()
    store = data / "spasmwatch.db"
    _store(store).close()
    _filled(store, 1500)
    partial = B.folder(store) / B.PARTIAL
    proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path)))  # fmt: skip
    try:
        status_once_up(proc, port)
        for _ in range(20_000):  # the first pass runs in a worker thread at start (looked for, not timed)
            if partial.exists() or B.listed(store):
                break
            time.sleep(0.005)
        assert partial.exists(), "the copy was not seen under way"
    finally:
        log = stopped(proc)
    assert proc.returncode == 0, log
    assert "the store's backup was stopped with the daemon, before it was done" in log and "store backup" not in log, log
    assert list(B.folder(store).iterdir()) == []


class _StopAfter(B.Stop):
    """A stop set at the ``at``-th look of the copy (after a step: 1 is the first), or never (None);
    ``between``: called at the first look (a write committed between two steps)."""

    def __init__(self, at: int | None = None, between: Callable[[], object] = lambda: None) -> None:
        super().__init__()
        self.at, self.between, self.looks = at, between, 0

    def raise_if_set(self) -> None:
        self.looks += 1
        if self.looks == 1:
            self.between()
        if self.looks == self.at:
            self.set()
        super().raise_if_set()


class _StopInCheck(B.Stop):
    """A stop set from inside the copy's quick_check, once it runs (its first SQLite instructions)."""

    @contextlib.contextmanager
    def interrupting(self, conn: sqlite3.Connection) -> Iterator[None]:
        with super().interrupting(conn):
            conn.set_progress_handler(lambda: self.set() or 0, 1)
            yield


def test_a_copy_in_steps_holds_its_snapshot_and_a_stop_ends_it_in_the_copy_or_its_check(tmp_path: Path) -> None:
    """A store of 10 MB: the copy takes several steps of COPY_STEP_PAGES. Events committed by the
    daemon's connection between two steps are not in the copy (it is the store as of its start, one
    read transaction) and do not start it again (it ends). A stop set after the first step, or while
    the check runs (quick_check interrupted), ends it with Stopped: no partial file, the copy made
    before the only one listed."""
    path = tmp_path / "spasmwatch.db"
    with _store(path) as st:
        _filled(path, 100)
        writer = _StopAfter(between=lambda: st.add_events(DEV, _events(100, 5)))
        made = B.make(path, T0, writer)
        assert _seqs(made.path) == list(range(100)) and _seqs(path) == list(range(105))
        with contextlib.closing(sqlite3.connect(f"{made.path.as_uri()}?mode=ro", uri=True)) as c:
            steps = -(-int(c.execute("PRAGMA page_count").fetchone()[0]) // B.COPY_STEP_PAGES)
        assert steps >= 3 and writer.looks >= steps, (steps, writer.looks)  # one look after each step (and one before the rename)
        for stop in (_StopAfter(at=1), _StopInCheck()):
            with pytest.raises(B.Stopped) as e:
                B.make(path, T0 + DAY, stop)
            assert [p.name for p in B.folder(path).iterdir()] == [made.path.name], stop
        assert "interrupted" in str(e.value.__context__)  # the check ended by SQLite's interrupt, not run to its end


def _cut_a_page(path: Path, table: str, kept_bytes: int) -> None:
    """A leaf page in the middle of ``table`` written only up to ``kept_bytes`` (a power cut during its
    write: the rest zeros, as a fresh block reads)."""
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        pages = [r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]
        size = int(c.execute("PRAGMA page_size").fetchone()[0])
    with open(path, "r+b") as f:
        f.seek((pages[len(pages) // 2] - 1) * size + kept_bytes)
        f.write(b"\x00" * (size - kept_bytes))


@pytest.mark.parametrize("kept_bytes", [1000, 2048, 3000])
def test_restore_carries_no_note_of_zeros_from_a_page_cut_mid_write(tmp_path: Path, kept_bytes: int) -> None:
    """Review: a page of the replaced file cut mid-write read as notes whose text ends in NULs where the
    cut fell (SQLite reads the bytes past it as zeros), and 'store restore' carried them as the family's
    notes. Old code: a note 'after the backup 0123 xxx\\x00\\x00...' carried, nothing said."""
    path = _notes_past_a_backup(tmp_path, 400)
    written = {text for _, text in _notes(path)}
    _cut_a_page(path, "notes", kept_bytes)
    r = _cli("store", "restore", "--db", str(path), "--from", "latest")
    assert r.returncode == 0, r.stdout + r.stderr
    kept = _notes(path)
    assert {text for _, text in kept} <= written and 350 < len(kept) < 400, [t for _, t in kept if t not in written][:3]
    said = re.search(r"  NOT CARRIED: notes: (\d+) row\(s\) on a page cut mid-write \(zeros from the cut on\): left out", r.stdout)
    assert said is not None and len(kept) + int(said.group(1)) <= 401, r.stdout


def test_older_copies_are_compressed_once_a_newer_one_passed_its_check_and_restore_reads_them(tmp_path: Path) -> None:
    """The newest copy stays a plain SQLite file ('--from latest'); each older one is compressed (gzip)
    by the pass that made a newer one, its latest event's time in its name, which 'store backups' says
    of it without decompressing it. 'store restore --from NAME' of a compressed copy puts back what it
    held. Old code: every copy kept plain, the store's size each (a year's 11: 3.9 GB)."""
    path = tmp_path / "spasmwatch.db"
    wall = _Wall(T0)
    with _store(path) as st:
        keeper = StoreBackups(st, 7, wall, reserve_mb=0)  # (not this machine's free space)
        first = keeper.run()
        assert first is not None and not first.compressed
        st.add_events(DEV, _events(100, 20))
        wall.t += K.BACKUP_EVERY_S
        newest = keeper.run()
        assert newest is not None
        st.add_events(DEV, _events(120, 5))
    older, latest = B.listed(path)
    assert latest == newest and not latest.compressed and latest.path.name == latest.path.stem + ".db"
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        upto = c.execute("SELECT max(wall_t) FROM events WHERE seq < 100").fetchone()[0]
    stamp = dt.datetime.fromtimestamp(upto, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    assert older.compressed and older.path.name == f"20261102T030000Z.upto-{stamp}.db.gz", older
    assert older.made_s == first.made_s and older.latest_event_s == int(upto) and older.size < first.size / 2, (older, first)
    assert not first.path.exists() and sorted(p.name for p in B.folder(path).iterdir()) == sorted([older.path.name, latest.name])
    assert oct(older.path.stat().st_mode & 0o777) == "0o600"
    assert keeper.files == 2 and keeper.bytes == older.size + latest.size
    listed = _cli("store", "backups", "--db", str(path))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    line = next(x for x in listed.stdout.splitlines() if older.path.name in x)
    assert "(gzip)" in line and f"latest event {time.strftime('%Y-%m-%d %H:%M', time.localtime(upto))}" in line, listed.stdout
    r = _cli("store", "restore", "--db", str(path), "--from", older.path.name)
    assert r.returncode == 0 and f"restored from {older.path}" in r.stdout, r.stdout + r.stderr
    assert _seqs(path) == list(range(100))  # the copy's events (the bands send the rest again)


@pytest.mark.parametrize("asked", [2, 60])  # while it is compressed; while it is read back
def test_a_compression_cut_short_never_takes_the_plain_copys_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asked: int) -> None:
    """Stopped while an older copy is compressed or read back: the plain copy stays as it was and
    nothing of the compressed one is left (the next pass compresses it). A compressed copy cut short
    (a copy of it that stopped) is refused by 'store restore', nothing changed."""
    monkeypatch.setattr(B, "CHUNK_BYTES", 4096)  # (a few dozen chunks of this small store)
    path = tmp_path / "spasmwatch.db"
    with _store(path, n=3000) as st:
        plain = B.make(path, T0)
        B.make(path, T0 + DAY)
        st.add_events(DEV, _events(3000, 5))
    before = plain.path.read_bytes()
    with pytest.raises(B.Stopped):
        B.compress_older(path, _StopAfter(at=asked))
    assert [b.path for b in B.listed(path)] == [plain.path, plain.path.with_name("20261103T030000Z.db")]
    assert plain.path.read_bytes() == before and not (B.folder(path) / B.PARTIAL_GZ).exists()
    [packed] = B.compress_older(path)
    cut = tmp_path / "cut.db.gz"
    cut.write_bytes(packed.path.read_bytes()[: packed.size // 2])
    store_before = path.read_bytes()
    r = _cli("store", "restore", "--db", str(path), "--from", str(cut))
    assert r.returncode != 0 and "could not be copied into place" in r.stderr and "nothing was changed" in r.stderr, r.stdout + r.stderr
    assert path.read_bytes() == store_before and not [p for p in tmp_path.iterdir() if ".replaced-" in p.name or ".restoring" in p.name]


def test_the_copy_before_an_upgrade_tells_its_bytes_each_step_then_its_check_and_is_synced_as_it_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start review h48: the daemon's start tells systemd the copy advances (daemon/notify.py Starting), by
    the bytes copied after each step, growing to the store's, then the copy's check; the copy is written
    to disk every COPY_SYNC_PAGES (here 2 steps' worth), not in one flush at its end that tells nothing
    (35 s for a year's store on an SD card). Old code: no progress, one sync at the end."""
    path = tmp_path / "spasmwatch.db"
    with _store(path):
        _filled(path, 100)  # (10 MB: 3 steps)
    synced: list[Path] = []
    real_sync = B.sync_file
    monkeypatch.setattr(B, "sync_file", lambda p: (synced.append(p), real_sync(p))[1])
    monkeypatch.setattr(B, "COPY_SYNC_PAGES", 2 * B.COPY_STEP_PAGES)
    told: list[tuple[str, int, int]] = []
    copy = B.before_upgrade(path, SCHEMA_VERSION, lambda step, done, total: told.append((step, done, total)))
    with contextlib.closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as c:
        pages, page = (int(c.execute(f"PRAGMA {p}").fetchone()[0]) for p in ("page_count", "page_size"))
    copying = [(done, total) for step, done, total in told if step == _db.COPYING]
    steps = -(-pages // B.COPY_STEP_PAGES)
    assert len(copying) == steps >= 3 and copying[-1] == (pages * page, pages * page), copying
    assert [d for d, _ in copying] == sorted({d for d, _ in copying}), "bytes copied grow at each step"
    assert told[len(copying)] == (_db.CHECKING_COPY, 0, copy.stat().st_size) and {s for s, _, _ in told[len(copying):]} == {_db.CHECKING_COPY}
    partial = B.folder(path) / B.PARTIAL_BEFORE_UPGRADE
    assert synced == [partial] * ((steps * B.COPY_STEP_PAGES) // B.COPY_SYNC_PAGES) + [partial], synced  # (during the copy, then before its rename)


def test_a_check_tells_the_bytes_it_reads_while_it_reads_and_nothing_while_stalled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """quick_check is one SQLite instruction (no progress handler inside it before SQLite 3.43): its
    progress is this process's reads (/proc/self/io), told when they grew. A read stalled on its disk
    reads nothing: nothing told after the beginning, so systemd's start timeout ends a stuck start."""
    monkeypatch.setattr(_db, "READ_LOOK_S", 0.02)
    big = tmp_path / "big"
    big.write_bytes(b"x" * (20 << 20))
    told: list[tuple[str, int, int]] = []
    with _db.reading(lambda *t: told.append(t), _db.CHECKING, 20 << 20), open(big, "rb", buffering=0) as f:
        while f.read(1 << 20):
            time.sleep(0.01)
    assert len(told) >= 3 and told[0] == (_db.CHECKING, 0, 20 << 20) and told[-1][1] > 0, told
    assert [d for _, d, _ in told] == sorted(d for _, d, _ in told) and all(d <= 20 << 20 for _, d, _ in told)
    told.clear()
    with _db.reading(lambda *t: told.append(t), _db.CHECKING, 20 << 20):
        time.sleep(0.3)  # (fifteen looks, nothing read)
    assert told == [(_db.CHECKING, 0, 20 << 20)]


def test_a_compressed_backup_given_as_the_store_says_how_to_read_it_not_to_start_again(tmp_path: Path) -> None:
    """Found by the CLI input audit: 'spasmwatch events --db spasmwatch.db.backups/X.db.gz' (an older
    daily backup, compressed by the daemon) said 'not an SQLite file ... move it aside (mv ...
    .unreadable) and start the daemon: it makes a new store': a family's backup to be set aside as
    unreadable. It is said to be a compressed copy, with the ways to read it and to put it back."""
    path = tmp_path / "spasmwatch.db"
    with _store(path):
        B.make(path, T0)
        B.make(path, T0 + DAY)
    [packed] = B.compress_older(path)
    before = packed.path.read_bytes()
    r = _cli("events", "--db", str(packed.path), "--since", "3650d")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"{packed.path}: a compressed copy of a store (gzip: the daemon keeps its older daily backups so), not a store to open" in r.stderr
    assert f"'gunzip -k {packed.path}'" in r.stderr and f"'spasmwatch store restore --from {packed.path}'" in r.stderr, r.stderr
    assert ".unreadable" not in r.stderr and "start the daemon" not in r.stderr, r.stderr
    check = _cli("store", "check", "--db", str(packed.path))  # 'is my backup sound?': not 'damaged'
    assert check.returncode == 1 and check.stdout.startswith(f"{packed.path}: a compressed copy of a store"), check.stdout + check.stderr
    assert "damaged" not in check.stdout and ".unreadable" not in check.stdout, check.stdout
    assert packed.path.read_bytes() == before
