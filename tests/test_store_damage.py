"""A store damaged on disk (a page overwritten, a file cut short): refused before anything is
written to it, said with the way out, and 'spasmwatch store recover' keeps every row that can
still be read, and the damaged file beside the new one (docs/store.md, "A damaged store")."""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from spasmwatch.daemon.lock import one_daemon
from spasmwatch.store import SCHEMA_VERSION, KnownStores, Store, StoreError
from spasmwatch.store import backup, schema

DEV = "band0001"
N = 3000


def _events(first: int, n: int) -> list[dict[str, int]]:
    return [dict(seq=s, boot=1, onset_ms=s * 1000, duration_ms=900, peak_rate_mrads=1, peak_angle_mrad=1,
                 confidence=90, flags=0) for s in range(first, first + n)]  # fmt: skip


def _store(path: Path) -> None:
    with Store(path) as st:
        st.upsert_device(DEV, name="crib", wall_s=1.7e9)
        st.add_sync(DEV, 1, 0, 1.7e9)
        st.add_events(DEV, _events(0, N))
        st.add_note(1.7e9 + 5, "video", "filmed the cluster")
    assert not Path(f"{path}-wal").exists()  # the last close checkpointed: the damage below is all there is


def _damage_an_events_page(path: Path) -> int:
    """Overwrite a leaf page of the events table in the middle of the file, as a bad sector would;
    returns its number."""
    return damage_a_leaf_of(path, "events")


def damage_a_leaf_of(path: Path, table: str) -> int:
    """Overwrite the middle leaf page of ``table``, as a bad sector would; returns its number."""
    c = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    pages = [r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]
    size = int(c.execute("PRAGMA page_size").fetchone()[0])
    c.close()
    with open(path, "r+b") as f:
        f.seek((pages[len(pages) // 2] - 1) * size)
        f.write(b"\xde\xad\xbe\xef" * (size // 4))
    return int(pages[len(pages) // 2])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=120)


def test_a_store_with_a_damaged_page_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Found by the fault audit: the daemon opened a store with a page overwritten in its middle
    without a word and wrote to it; reads failed later ('database disk image is malformed')."""
    data = tmp_path / "data"
    data.mkdir()
    path = data / "spasmwatch.db"
    _store(path)
    _damage_an_events_page(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"spasmwatch\.db: the store is damaged .*'spasmwatch store recover --db ") as refused:
        Store(path)
    assert refused.value.damaged
    # The daemon's way (it monitors without the store, tests/daemon/test_cli.py): opened, refused, tried
    # again (until 2026-12-05 'spasmwatch run' exited 2 here, and no band was monitored).
    with Store.may_fail(path) as store:
        assert store.open_error is not None and store.open_error.damaged and f"'spasmwatch store recover --db {path}'" in str(store.open_error)
        assert not store.reopen() and not store.reopen()
        with pytest.raises(StoreError, match="the store is damaged") as call:
            store.add_note(0.0, "note", "x")
        assert call.value.damaged
    assert path.read_bytes() == before  # nothing written to it
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def _lose_a_write_of_the_last_events_page(path: Path) -> None:
    """Events added with the last write of their page lost (an SD card that acknowledged it and lost
    it at a power cut): the page as it was before, sound in itself, its events' index entries there.
    quick_check reads every page and finds nothing; a read of those events by time finds them gone."""
    def last_leaf() -> tuple[int, int]:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
            sql = "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY path DESC LIMIT 1"  # (its rightmost)
            return int(c.execute(sql).fetchone()[0]), int(c.execute("PRAGMA page_size").fetchone()[0])

    page, size = last_leaf()
    with open(path, "rb") as f:
        f.seek((page - 1) * size)
        old = f.read(size)
    with Store(path) as st:
        st.add_events(DEV, _events(N, 2))
    assert last_leaf() == (page, size)  # (on that page)
    with open(path, "r+b") as f:
        f.seek((page - 1) * size)
        f.write(old)


def test_a_store_shut_for_damage_a_call_found_is_not_opened_again_while_it_is_still_there(tmp_path: Path) -> None:
    """Found by review: the damage a call finds may be one the open's quick_check does not look for:
    a table page whose last write was lost leaves index entries for rows it no longer holds (quick_check
    checks each b-tree, not an index against its table). The daemon's try again (``reopen``, every
    STORE_RETRY_S) read the file through with quick_check and opened it: it wrote into the damaged
    file again, cleared the fault ("can open its events file again"), until the next read of those
    rows shut it again, every minute. A store shut so is tried again with the full integrity_check."""
    path = tmp_path / "spasmwatch.db"
    _store(path)
    _lose_a_write_of_the_last_events_page(path)
    with Store.may_fail(path) as store:
        assert store.open_error is None  # the open's quick_check finds nothing
        with pytest.raises(StoreError, match="malformed") as call:
            list(store.events(DEV, since=1.7e9))  # the events by time: their rows are not there
        assert call.value.damaged
        store.shut(call.value)  # (the daemon's)
        before = path.read_bytes()
        assert not store.reopen() and store.open_error is not None and store.open_error.damaged
        assert "wrong # of entries in index" in str(store.open_error), store.open_error
        assert path.read_bytes() == before


def test_a_store_shut_in_a_transaction_commits_nothing_of_it(tmp_path: Path) -> None:
    """``Store.shut`` (the daemon's, for a file a call found damaged) inside a transaction: a later
    write in it is refused, the transaction is rolled back at its end (not committed into the file),
    and the store then refuses every call, its ``reopen`` trying again."""
    path = tmp_path / "spasmwatch.db"
    _store(path)
    found = StoreError(f"{path}: database disk image is malformed", damaged=True)
    with Store(path) as store:
        with pytest.raises(StoreError, match="malformed"), store.transaction():
            store.add_note(1.7e9 + 6, "note", "written before the damage was found")
            store.shut(found)
            store.add_note(1.7e9 + 7, "note", "after")
        with pytest.raises(StoreError, match="malformed") as call:
            store.notes()
        assert call.value.damaged and store.open_error is found
        assert store.reopen()  # (this file is sound: the try again opens it)
        assert [n.text for n in store.notes()] == ["filmed the cluster"]


def test_a_call_while_the_store_is_tried_again_is_refused_at_once_not_held_by_the_try(tmp_path: Path) -> None:
    """Found by review: ``reopen`` (the daemon's try again, in a worker thread) held the store's lock
    across the whole open, which reads every page (seconds for a large store on an SD card, every
    STORE_RETRY_S): each call of the event loop meanwhile (every record a band sends, the ticker's
    transitions) waited for it, and no alarm went out until the try ended. Here a try is held by a
    real SQLite lock another connection has on the file; a call made meanwhile must be refused
    before that lock goes, not after."""
    path = tmp_path / "spasmwatch.db"
    Store(path).close()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as blocker:
        blocker.execute("PRAGMA journal_mode = DELETE")
        blocker.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # a newer store: not opened
        with Store.may_fail(path) as store:
            assert store.open_error is not None
            blocker.execute("BEGIN EXCLUSIVE")  # the try's read of the file waits for this
            trying = threading.Thread(target=store.reopen)
            trying.start()
            for _ in range(1000):  # until the try has the file open (and waits for the lock)
                if _open_fds(path) >= 2:
                    break
                time.sleep(0.01)
            assert _open_fds(path) >= 2
            released = threading.Event()
            answered: list[bool] = []

            def call() -> None:
                with contextlib.suppress(StoreError):
                    store.devices()
                answered.append(not released.is_set())

            caller = threading.Thread(target=call)
            caller.start()
            caller.join(timeout=3.0)
            released.set()
            blocker.execute("ROLLBACK")
            caller.join()
            trying.join()
            assert answered == [True]  # refused while the try went on (old code: only once it ended)
            assert not store.reopen() and "newer" in str(store.open_error)


def _open_fds(path: Path) -> int:
    """How many of this process's file descriptors are open on ``path``."""
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == str(path.resolve()))


def test_a_damaged_store_with_its_wal_is_refused_without_the_wal_written_into_it(tmp_path: Path) -> None:
    """Found with the daemon that tries a store again while it cannot open it: a damaged store with
    its WAL beside it (a copy, a power cut) was refused on the read-write connection, which wrote the
    WAL into the damaged file as it closed (SQLite checkpoints at the last close) and deleted the
    WAL, at every start. Now it is read through on a read-only connection first: both as they were."""
    live, path = tmp_path / "live.db", tmp_path / "spasmwatch.db"
    with Store(live) as st:
        st.add_sync(DEV, 1, 0, 1.7e9)
        st.add_events(DEV, _events(0, N))
        st.integrity_check()
        with contextlib.closing(sqlite3.connect(live)) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        st.add_events(DEV, _events(N, 100))  # in the WAL alone
        shutil.copyfile(live, path)
        shutil.copyfile(f"{live}-wal", f"{path}-wal")
    _damage_an_events_page(path)
    db, wal = path.read_bytes(), Path(f"{path}-wal").read_bytes()
    assert len(wal) > 0
    for _ in range(2):  # the start, and the daemon's try again
        with pytest.raises(StoreError, match="the store is damaged") as refused:
            Store(path)
        assert refused.value.damaged
    assert path.read_bytes() == db and Path(f"{path}-wal").read_bytes() == wal


def test_recover_of_a_file_that_is_no_database_says_the_way_on_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    """Found with the daemon that runs on a store it cannot open (its push says 'run spasmwatch
    store recover'): on random bytes recover said only that it cannot, and left an empty
    'spasmwatch.db.recovering' beside the file. Now it says how to start again without the file
    and leaves nothing behind but its lock; the file is as it was."""
    path = tmp_path / "spasmwatch.db"
    path.write_bytes(random.Random(11).randbytes(20_000))
    before = path.read_bytes()
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 2 and "its first pages cannot be read (file is not a database)" in r.stderr, r.stderr
    assert f"move it aside (mv {path} {path}.unreadable)" in r.stderr and "a new store" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spasmwatch.db", "spasmwatch.db.lock"]
    assert path.read_bytes() == before


def test_check_of_a_file_that_is_no_database_says_the_way_on_recover_takes(tmp_path: Path) -> None:
    """Found by the hostile-input review: 'store check' of random bytes said to run 'store recover',
    which then refused the file ('its first pages cannot be read'): now check says recover cannot,
    and the way on recover gives."""
    path = tmp_path / "spasmwatch.db"
    path.write_bytes(random.Random(11).randbytes(20_000))
    r = _cli("store", "check", "--db", str(path))
    assert r.returncode == 1 and "store recover" not in r.stdout, r.stdout
    assert "spasmwatch cannot recover it (not an SQLite file)" in r.stdout, r.stdout
    assert f"move it aside (mv {path} {path}.unreadable)" in r.stdout and "a new store" in r.stdout, r.stdout


@pytest.mark.parametrize("backups", [False, True], ids=["no-backup", "backups"])
def test_check_and_recover_of_an_empty_file_say_it_holds_no_store(tmp_path: Path, backups: bool) -> None:
    """Found by the CLI input audit: a store file cut to 0 bytes (a copy onto a full disk) was
    'spasmwatch.db: ok', exit 0, by 'store check', and 'ok, not damaged: nothing to recover' by
    'store recover' (SQLite reads it as an empty database); 'events' refused it. The daemon's store
    never has 0 bytes: said so, exit 1, with its latest backup's way back when there is one."""
    path = tmp_path / "spasmwatch.db"
    if backups:
        with Store(path) as st:
            st.add_sync("dev-1", 1, 0, 1000.0)
        backup.make(path, time.time())
    path.write_bytes(b"")
    before = sorted(p.name for p in tmp_path.iterdir())
    for action in ("check", "recover"):
        r = _cli("store", action, "--db", str(path))
        assert r.returncode == 1 and r.stdout.startswith(f"{path}: an empty file (0 bytes), not a spasmwatch store"), r.stdout + r.stderr
        assert ("--from latest' puts back the latest" in r.stdout) is backups, r.stdout
    assert path.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made or moved


def test_recover_of_a_file_that_is_no_database_moves_its_wal_aside_with_it(tmp_path: Path) -> None:
    """Found by review: recover's way on for a file whose first pages cannot be read named the file
    alone (mv spasmwatch.db spasmwatch.db.unreadable); its WAL, left beside the new store's empty
    file, was deleted by SQLite as the daemon opened it: what 'sqlite3 .recover' could still take
    from it was gone. Now it names the WAL too; followed, the WAL stays beside the moved file."""
    path = tmp_path / "spasmwatch.db"
    path.write_bytes(random.Random(11).randbytes(20_000))
    wal = Path(f"{path}-wal")
    wal.write_bytes(random.Random(12).randbytes(8_272))
    kept = wal.read_bytes()
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 2 and f"mv {path}-wal {path}.unreadable-wal" in r.stderr, r.stderr
    path.rename(f"{path}.unreadable")  # the way on, as it says
    wal.rename(f"{path}.unreadable-wal")
    Store(path).close()  # the daemon's new store
    assert Path(f"{path}.unreadable-wal").read_bytes() == kept


def test_recover_keeps_every_readable_row_and_the_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "spasmwatch.db"
    _store(path)
    with Store(path) as st:
        made = st.store_id
    _damage_an_events_page(path)
    damaged = path.read_bytes()
    check = _cli("store", "check", "--db", str(path))
    assert check.returncode == 1 and "damaged" in check.stdout and f"'spasmwatch store recover --db {path}'" in check.stdout, check.stdout
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    # The new store and the copy read from are the user's alone from their first byte (private.py):
    # the new one was made at the umask's 0644, then "tightened" with a warning about an old store.
    assert "readable by other accounts" not in r.stderr and path.stat().st_mode & 0o777 == 0o600, r.stderr
    (kept,) = tmp_path.glob("spasmwatch.db.damaged-*[0-9]")
    assert kept.read_bytes() == damaged and f"kept as {kept}" in r.stdout
    assert r.stdout.count("could not read: events rows") == 1 and "notes: 1" in r.stdout, r.stdout  # one run, said once
    assert _cli("store", "check", "--db", str(path)).stdout == f"{path}: ok\n"
    with Store(path) as st:
        assert st.schema_version == SCHEMA_VERSION and st.integrity_check() == "ok"
        assert made is not None and st.store_id == made  # the same store: the daemon's record knows it by its id (known.py)
        seqs = [e.seq for e in st.events(DEV)]
        lost = sorted(set(range(N)) - set(seqs))
        # one page of events lost, no more (a 4 KiB page holds under 200 of these rows), in one run
        assert 0 < len(lost) < 200 and lost == list(range(lost[0], lost[-1] + 1)), lost
        assert [n.text for n in st.notes()] == ["filmed the cluster"] and st.devices()[0].name == "crib"
        # the band is asked for the lost ones again: while its flash holds them, they come back
        assert st.next_backfill_seq(DEV) == lost[0]
        assert st.add_events(DEV, _events(0, N)) == len(lost)


def test_a_store_cut_short_is_recovered_up_to_where_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "spasmwatch.db"
    _store(path)
    # A copy or a full disk cut it short, at a page's end: a leaf cut inside keeps the rows written last
    # (SQLite fills a page from its end), after a gap; where a cut at 2/3 of the bytes fell hung on the
    # file's page count (v16's two pages more put it inside an events leaf: seqs to 1414, then 1477-1502).
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        page = int(c.execute("PRAGMA page_size").fetchone()[0])
    os.truncate(path, path.stat().st_size // page * 2 // 3 * page)
    with pytest.raises(StoreError, match=r"malformed.*'spasmwatch store recover --db "):
        Store(path)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    with Store(path) as st:
        seqs = [e.seq for e in st.events(DEV)]
        assert 0 < len(seqs) < N and seqs == list(range(len(seqs)))  # what the file still held, from the start
        assert st.next_backfill_seq(DEV) == len(seqs)
        # its marker as its version's steps declare it, whether or not the cut left the damaged file's row
        marker = (SCHEMA_VERSION, schema.readable_by(SCHEMA_VERSION), schema.writable_by(SCHEMA_VERSION))
        assert st._one("SELECT version, readable_by, writable_by FROM compat") == marker


def test_a_store_whose_id_cannot_be_read_is_recovered_as_the_daemons_own(tmp_path: Path) -> None:
    """The daemon, told by the open that its store is damaged, says 'spasmwatch store recover'. Its
    id's page among the damaged ones (in a store as made, among the file's last pages: one cut short
    by a few pages loses it): the recovered store has a new id. Old code: the daemon then refused its own,
    recovered store as a different one ('another disk mounted there?'), history gone from view."""
    path = tmp_path / "disk" / "spasmwatch.db"
    with Store.may_fail(path, KnownStores.default()) as st:  # opened the daemon's way: recorded with its id
        assert st.open_error is None
        st.add_note(1.7e9, "note", "the family's history")
    _, size, root = _layout(path, "store_identity")
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        after = {r[0] for r in c.execute("SELECT name FROM dbstat WHERE pageno > ?", (root,))}
    # (only the later steps' tables and indexes and the schema's own page follow it)
    assert after <= {"zones", "compat", "clusters_device_start", "syncs_offset", "mutes", "sqlite_autoindex_mutes_1", "sqlite_schema"}, after
    _overwrite(path, size, root)
    with Store.may_fail(path, KnownStores.default()) as st:
        assert isinstance(st.open_error, StoreError) and f"'spasmwatch store recover --db {path}'" in str(st.open_error), st.open_error
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert "its store id could not be read" in r.stdout and f"{path}: recorded as the daemon's store with its new id" in r.stdout, r.stdout
    with Store.may_fail(path, KnownStores.default()) as st:
        assert st.open_error is None, st.open_error
        assert [n.text for n in st.notes()] == ["the family's history"]


def test_a_damaged_store_read_by_an_export_says_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "spasmwatch.db"
    _store(path)
    _damage_an_events_page(path)
    with Store.open_readonly(path) as st, pytest.raises(StoreError, match="malformed.*" + re.escape(f"'spasmwatch store recover --db {path}'")):
        list(st.events(DEV))


def test_recover_waits_for_the_daemon_to_stop(tmp_path: Path) -> None:
    path = tmp_path / "spasmwatch.db"
    _store(path)
    _damage_an_events_page(path)
    before = path.read_bytes()
    with one_daemon(path):
        r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 2 and "another spasmwatch daemon is using" in r.stderr, r.stderr
    assert path.read_bytes() == before and not list(tmp_path.glob("*.damaged-*"))


def test_recover_on_a_disk_too_full_for_its_copy_says_so_and_leaves_nothing_beside_the_store(tmp_path: Path) -> None:
    """The disk full is the kernel's refusal: recover runs under a file size limit of half the store
    (RLIMIT_FSIZE; Python ignores SIGXFSZ, so the write past it fails with EFBIG, as one on a full
    disk fails with ENOSPC). Found by review: it ended in a traceback and left its half-written copy
    (spasmwatch.db.reading) beside the store, holding the disk's last free space for the daemon."""
    path = tmp_path / "spasmwatch.db"
    _store(path)
    _damage_an_events_page(path)
    before, limit = path.read_bytes(), path.stat().st_size // 2

    def little_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    r = subprocess.run([sys.executable, "-m", "spasmwatch", "store", "recover", "--db", str(path)],
                       capture_output=True, text=True, timeout=120, preexec_fn=little_room)  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"{path}: the recovery could not write" in r.stderr and "is the disk full?" in r.stderr, r.stderr
    assert "the store was left as it was" in r.stderr, r.stderr
    assert path.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if ".reading" in p.name or ".recovering" in p.name or ".damaged" in p.name]


def test_recover_leaves_a_sound_store_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "spasmwatch.db"
    _store(path)
    before = path.read_bytes()
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0 and r.stdout == f"{path}: ok, not damaged: nothing to recover\n", r.stdout + r.stderr
    assert path.read_bytes() == before and not list(tmp_path.glob("*.damaged-*"))


# --- rows under a damaged interior page: found by reading the file's pages ---------------------
# The b-tree is walked here with a few lines of its own (not the scanner under test), from the
# table's rootpage in sqlite_schema, so each damage lands on the same page on every run.

BIG = 50_000  # events: two levels of interior pages in the events table (4 KiB pages, ~70 rows a leaf)


def _varint(b: bytes, i: int) -> tuple[int, int]:
    v = 0
    for k in range(9):
        c = b[i + k]
        if k == 8:
            return (v << 8) | c, i + 9
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, i + k + 1
    raise AssertionError("unreachable")


def _page(data: bytes, size: int, n: int) -> tuple[bytes, int]:
    """Page ``n``'s bytes and where its b-tree header starts (after the file header on page 1)."""
    return data[(n - 1) * size : n * size], 100 if n == 1 else 0


def _children(data: bytes, size: int, n: int) -> list[int]:
    page, h = _page(data, size, n)
    assert page[h] == 0x05, f"page {n} is not a table interior page"
    cells = int.from_bytes(page[h + 3 : h + 5], "big")
    ptrs = [int.from_bytes(page[h + 12 + 2 * i : h + 14 + 2 * i], "big") for i in range(cells)]
    return [int.from_bytes(page[p : p + 4], "big") for p in ptrs] + [int.from_bytes(page[h + 8 : h + 12], "big")]


def _leaf_rowids(data: bytes, size: int, n: int) -> list[int]:
    page, h = _page(data, size, n)
    assert page[h] == 0x0D, f"page {n} is not a table leaf page"
    cells = int.from_bytes(page[h + 3 : h + 5], "big")
    out = []
    for i in range(cells):
        _, at = _varint(page, int.from_bytes(page[h + 8 + 2 * i : h + 10 + 2 * i], "big"))
        out.append(_varint(page, at)[0])
    return out


def _leaves(data: bytes, size: int, n: int) -> list[int]:
    """The leaf pages under page ``n``, in rowid order."""
    page, h = _page(data, size, n)
    return [n] if page[h] == 0x0D else [leaf for c in _children(data, size, n) for leaf in _leaves(data, size, c)]


def _layout(path: Path, table: str) -> tuple[bytes, int, int]:
    """The file's bytes, its page size and ``table``'s root page."""
    c = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    root = int(c.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0])
    c.close()
    data = path.read_bytes()
    return data, int.from_bytes(data[16:18], "big"), root


def _overwrite(path: Path, size: int, *pages: int) -> None:
    with open(path, "r+b") as f:
        for n in pages:
            f.seek((n - 1) * size)
            f.write(b"\xde\xad\xbe\xef" * (size // 4))


def _exact(path: Path, table: str) -> list[tuple[tuple[str, object], ...]]:
    """Every row of ``table`` with each value's Python type: 1700000000.0 is not 1700000000."""
    c = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    rows = [tuple((type(v).__name__, v) for v in r) for r in c.execute(f"SELECT * FROM {table} ORDER BY rowid")]
    c.close()
    return rows


def _big_store(path: Path) -> None:
    with Store(path) as st:
        st.upsert_device(DEV, name="crib", wall_s=1.7e9)
        st.add_sync(DEV, 1, 0, 1.7e9)
        for first in range(0, BIG, 10_000):
            st.add_events(DEV, _events(first, 10_000), received_wall_s=1.7e9 + first / 3)
        st.add_note(1.7e9 + 5, "video", "filmed the cluster")
    assert not Path(f"{path}-wal").exists()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sound 50k-event store, made once: each test damages a copy of it."""
    path = tmp_path_factory.mktemp("big") / "spasmwatch.db"
    _big_store(path)
    return path


def _copy_of(big: Path, tmp_path: Path) -> Path:
    path = tmp_path / "spasmwatch.db"
    path.write_bytes(big.read_bytes())
    return path


def _interior_below_root(data: bytes, size: int, root: int) -> int:
    """An interior page of the tree that is not its root (the tree has two levels of them)."""
    below = [c for c in _children(data, size, root) if _page(data, size, c)[0][0] == 0x05]
    assert below, "the events table has one interior level only: make BIG larger"
    return below[len(below) // 2]


def test_rows_under_a_damaged_interior_page_are_found_by_reading_the_pages(big_store: Path, tmp_path: Path) -> None:
    """The rowid pass reaches no row under a damaged interior page (until 2026-12-05 recover lost
    every one of them, ~25k of these 50k events, though each was intact on its leaf page): the
    leaf pages no b-tree reaches are read directly, and their rows placed by their columns."""
    path = _copy_of(big_store, tmp_path)
    original = _exact(path, "events")
    data, size, root = _layout(path, "events")
    interior = _interior_below_root(data, size, root)
    under = [r for leaf in _leaves(data, size, interior) for r in _leaf_rowids(data, size, leaf)]
    assert len(under) > 1000
    _overwrite(path, size, interior)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    # what the rowid pass reads (every events row but those under the page), and what the pages add
    assert f"  events: {BIG} ({len(under)} found by reading the file's pages)" in r.stdout, r.stdout
    assert f"could not read: events rows {under[0]} to " in r.stdout and "among these" in r.stdout, r.stdout
    assert "not guessed" not in r.stdout and "could not be decoded" not in r.stdout, r.stdout
    assert _exact(path, "events") == original  # every value as it was, of its type
    with Store(path) as st:
        assert st.integrity_check() == "ok" and [n.text for n in st.notes()] == ["filmed the cluster"]
        assert st.next_backfill_seq(DEV) == BIG


def test_rows_read_off_the_pages_of_a_table_with_a_column_added_by_hand_are_kept(big_store: Path, tmp_path: Path) -> None:
    """As above, events with a column added by hand (every open keeps such a store since 2026-12-06,
    so a damaged one may have it): the rows read off the pages go into the new store without that
    column, as the rowid pass's do, and recover names it as not kept (exit 1). Found by the review of
    2026-12-06's host changes: the page pass inserted the file's columns, 'mine' among them, into this
    version's table: 'table events has no column named mine', a traceback, the store left damaged."""
    path = _copy_of(big_store, tmp_path)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute("ALTER TABLE events ADD COLUMN mine TEXT")  # (the table's SQL alone: no row is rewritten)
    original = _exact(path, "events")
    data, size, root = _layout(path, "events")
    interior = _interior_below_root(data, size, root)
    under = [r for leaf in _leaves(data, size, interior) for r in _leaf_rowids(data, size, leaf)]
    _overwrite(path, size, interior)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"  events: {BIG} ({len(under)} found by reading the file's pages)" in r.stdout, r.stdout
    assert "column mine of table events" in r.stdout, r.stdout
    assert _exact(path, "events") == [row[:-1] for row in original]  # every value as it was, but the column added by hand


def test_a_damaged_leaf_page_loses_its_own_rows_and_no_more(tmp_path: Path) -> None:
    """Python's sqlite3 steps one row ahead of the row it hands on: the step onto a damaged page
    failed while the row before it was read, and the rowid pass took that row for unreadable
    (until 2026-12-05 it lost the last row of the page before the damaged one too)."""
    path = tmp_path / "spasmwatch.db"
    _store(path)
    data, size, _ = _layout(path, "events")
    page = _damage_an_events_page(path)
    on_page = _leaf_rowids(data, size, page)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert f"could not read: events rows {on_page[0]} to {on_page[-1]} (a damaged page)" in r.stdout, r.stdout
    with Store(path) as st:
        kept = {e.seq for e in st.events(DEV)}
    assert len(kept) == N - len(on_page) and not kept & {i - 1 for i in on_page}  # seq = id - 1 here


def test_a_damaged_leaf_under_a_damaged_interior_page_loses_its_own_rows_only(big_store: Path, tmp_path: Path) -> None:
    path = _copy_of(big_store, tmp_path)
    original = _exact(path, "events")
    data, size, root = _layout(path, "events")
    interior = _interior_below_root(data, size, root)
    leaves = _leaves(data, size, interior)
    leaf = leaves[len(leaves) // 3]
    on_leaf = set(_leaf_rowids(data, size, leaf))
    _overwrite(path, size, interior, leaf)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert f"  events: {BIG - len(on_leaf)} (" in r.stdout, r.stdout
    assert _exact(path, "events") == [row for row in original if row[0][1] not in on_leaf]


OUTBOX = 400  # rows: 4 KiB pages hold 2-12 of them, so the outbox table has leaves under an interior page


def _payload(i: int) -> str:
    """Every other payload longer than a page: its row spills onto an overflow page."""
    return f"payload-{i:05d}:" + ("x" * 5000 if i % 2 else "y" * 300)


def test_rows_deleted_before_the_damage_are_not_brought_back(tmp_path: Path) -> None:
    """The outbox deletes a row once its receiver acknowledged it: the pages that held them go to
    the freelist with their bytes in place. A damaged interior page of the outbox sends the scan
    to its leaf pages; the freelist's are left alone, so no acknowledged notification comes back."""
    path = tmp_path / "spasmwatch.db"
    with Store(path) as st:
        st.upsert_device(DEV, name="crib", wall_s=1.7e9)
        for i in range(OUTBOX):
            st.keep_outgoing("mqtt", f"k{i:05d}", DEV, _payload(i), 1.7e9 + i, i % 3, limit=OUTBOX)
        # Debian's SQLite zeroes what a delete frees (SECURE_DELETE); python.org's and most others
        # leave the bytes in place, as here: the case the scan must not bring back.
        assert st._conn is not None
        st._conn.execute("PRAGMA secure_delete = OFF")
        assert st.forget_outgoing("mqtt", [f"k{i:05d}" for i in range(100, 300)]) == 200
    original = _exact(path, "outbox")
    data, size, root = _layout(path, "outbox")
    assert len(original) == 200 and data[32:36] != b"\0\0\0\0"  # a freelist ...
    assert b"payload-00150:" in data and b"payload-00151:" in data  # ... still holding deleted rows
    _overwrite(path, size, root)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert "  outbox: 200 (200 found by reading the file's pages)" in r.stdout, r.stdout
    assert "not guessed" not in r.stdout and "could not be decoded" not in r.stdout, r.stdout
    assert _exact(path, "outbox") == original


def test_a_store_copied_with_its_wal_is_scanned_with_the_wal_written_into_it(big_store: Path, tmp_path: Path) -> None:
    """A store left with a WAL (a crash, a copy of a running daemon's files): the pages in the WAL
    are newer than the file's, so they are written into the copy before its pages are read; the
    scan is not refused, and every row is kept, the WAL's too. (It does not tell a scan of the
    file alone from one after the checkpoint: here both find the same rows.)"""
    live = tmp_path / "live" / "spasmwatch.db"
    live.parent.mkdir()
    live.write_bytes(big_store.read_bytes())
    path = tmp_path / "spasmwatch.db"
    with Store(live) as st:
        st.add_events(DEV, _events(BIG, 5000), received_wall_s=1.8e9)  # in the WAL only, till the close
        path.write_bytes(live.read_bytes())
        Path(f"{path}-wal").write_bytes(Path(f"{live}-wal").read_bytes())
    assert Path(f"{path}-wal").stat().st_size > 0
    original = _exact(path, "events")
    assert len(original) == BIG + 5000
    data, size, root = _layout(big_store, "events")  # the file before the WAL: its left interior page is not in it
    left = _children(data, size, root)[0]
    assert _page(data, size, left)[0][0] == 0x05
    _overwrite(path, size, left)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert f"  events: {BIG + 5000} (" in r.stdout and "were not read" not in r.stdout, r.stdout
    assert _exact(path, "events") == original


def test_with_its_freelist_damaged_no_page_is_read_and_it_says_why(big_store: Path, tmp_path: Path) -> None:
    """A page the freelist would have named may hold deleted rows: no page is read, and recover says so."""
    path = _copy_of(big_store, tmp_path)
    data, size, root = _layout(path, "events")
    interior = _interior_below_root(data, size, root)
    under = [r for leaf in _leaves(data, size, interior) for r in _leaf_rowids(data, size, leaf)]
    _overwrite(path, size, interior)
    with open(path, "r+b") as f:
        f.seek(36)  # the header's freelist page count: three more than its trunk pages list
        f.write((int.from_bytes(data[36:40], "big") + 3).to_bytes(4, "big"))
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert f"  events: {BIG - len(under)}\n" in r.stdout, r.stdout
    assert "its pages were not read one by one for the rows under a damaged page: its freelist is damaged" in r.stdout, r.stdout


def test_rows_under_a_child_pointer_damaged_into_another_leaf_are_found_though_nothing_failed_to_read(
    big_store: Path, tmp_path: Path
) -> None:
    """A child pointer of an interior page damaged into the number of the next leaf (a flipped bit of a
    page number names another page of the file, most often a leaf): SQLite reads that leaf twice and
    the one the pointer named never, and no read fails, so the rowid pass steps over nothing. Until
    2026-12-05 the page scan ran only when it had stepped over something: that leaf's rows were lost
    and recover said 'nothing was unreadable'. The scan now runs for every damaged store and seeks the
    rowids the rowid pass did not keep."""
    path = _copy_of(big_store, tmp_path)
    original = _exact(path, "events")
    data, size, root = _layout(path, "events")
    interior = _interior_below_root(data, size, root)
    kids = _children(data, size, interior)
    lost, twice = kids[1], kids[2]
    assert _page(data, size, lost)[0][0] == _page(data, size, twice)[0][0] == 0x0D
    on_lost = _leaf_rowids(data, size, lost)
    page, _ = _page(data, size, interior)
    ptr = int.from_bytes(page[12 + 2 : 12 + 4], "big")  # the second cell: its child is kids[1]
    with open(path, "r+b") as f:
        f.seek((interior - 1) * size + ptr)
        f.write(twice.to_bytes(4, "big"))
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert f"  events: {BIG} ({len(on_lost)} found by reading the file's pages)" in r.stdout, r.stdout
    assert _exact(path, "events") == original


def test_rows_under_a_child_pointer_damaged_into_another_table_s_leaf_are_found(tmp_path: Path) -> None:
    """The events root's right-most child pointer damaged into the number of an activity leaf: SQLite
    reads activity rows for events (the insert drops them: NOT NULL) and fails no read. The page scan
    finds the events leaf the pointer named, and reads it for events: both trees are taken for
    damaged, as either one's pointer may name the page they share (until 2026-12-05: the rowid pass
    stepped over nothing, so no page was read, and the events walk came first and was taken for
    sound; that leaf's events were lost and recover said 'nothing was unreadable')."""
    path = tmp_path / "spasmwatch.db"
    with Store(path) as st:
        st.upsert_device(DEV, name="crib", wall_s=1.7e9)
        st.add_sync(DEV, 1, 0, 1.7e9)
        st.add_events(DEV, _events(0, N), received_wall_s=1.7e9)
        st.add_activity(DEV, [dict(boot=1, t_ms=10_000 * k, activity=12, breath=40, off_body=0, worn=1) for k in range(N)],
                        received_wall_s=1.7e9)  # fmt: skip
    original = {t: _exact(path, t) for t in ("events", "activity")}
    data, size, events_root = _layout(path, "events")
    activity_root = _layout(path, "activity")[2]
    named = _children(data, size, events_root)[-1]
    foreign = _children(data, size, activity_root)[-1]
    on_named = _leaf_rowids(data, size, named)
    assert _page(data, size, foreign)[0][0] == 0x0D
    with open(path, "r+b") as f:
        f.seek((events_root - 1) * size + 8)  # the interior page header's right-most child
        f.write(foreign.to_bytes(4, "big"))
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert f"  events: {N} ({len(on_named)} found by reading the file's pages)" in r.stdout, r.stdout
    assert "row(s) read through a damaged page that break its constraints" in r.stdout and "NOT KEPT" not in r.stdout, r.stdout
    assert {t: _exact(path, t) for t in ("events", "activity")} == original


def test_a_freelist_entry_damaged_into_a_live_page_brings_no_deleted_row_back(tmp_path: Path) -> None:
    """A freelist trunk's entry damaged into the number of a live outbox leaf: the freelist still
    counts whole, the page it named (a freed leaf, its deleted rows in place) is on no list and in
    no tree, and the outbox's b-tree reaches a page the freelist lists. A freelist and a tree that
    claim one page cannot both be right: no page is read, as for a freelist that does not count
    whole. (With the page scan seeking every rowid the rowid pass did not keep, the deleted rows on
    that freed leaf came back into the outbox: notifications their receiver had acknowledged.)"""
    path = tmp_path / "spasmwatch.db"
    with Store(path) as st:
        st.upsert_device(DEV, name="crib", wall_s=1.7e9)
        for i in range(OUTBOX):
            st.keep_outgoing("mqtt", f"k{i:05d}", DEV, f"payload-{i:05d}:" + "y" * 300, 1.7e9 + i, i % 3, limit=OUTBOX)
        assert st._conn is not None
        st._conn.execute("PRAGMA secure_delete = OFF")
        assert st.forget_outgoing("mqtt", [f"k{i:05d}" for i in range(100, 300)]) == 200
    original = _exact(path, "outbox")
    data, size, root = _layout(path, "outbox")
    trunk = int.from_bytes(data[32:36], "big")
    page, _ = _page(data, size, trunk)
    listed = [int.from_bytes(page[8 + 4 * i : 12 + 4 * i], "big") for i in range(int.from_bytes(page[4:8], "big"))]
    freed = [n for n in listed if _page(data, size, n)[0][0] == 0x0D and _leaf_rowids(data, size, n)]
    assert freed, "no freed outbox leaf with its rows in place on the first trunk"
    live = _leaves(data, size, root)[0]
    with open(path, "r+b") as f:
        f.seek((trunk - 1) * size + 8 + 4 * listed.index(freed[0]))
        f.write(live.to_bytes(4, "big"))
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert _exact(path, "outbox") == original, r.stdout
    assert "its pages were not read one by one for the rows under a damaged page: its freelist is damaged" in r.stdout, r.stdout


def test_a_child_pointer_sent_back_to_an_earlier_leaf_before_a_damaged_page_does_not_read_forever(
    big_store: Path, tmp_path: Path
) -> None:
    """An interior page's fourth child pointer damaged into its first child's number, and the fifth
    child (a leaf) overwritten: SQLite's rowid-ordered read goes on from the third leaf to the first
    one again (rowids lower than it has read) and fails at the fifth. The rowid pass went on from
    after the last rowid it had read, back in the first leaf's: it read the same leaves again and
    failed at the same page, for ever (until 2026-12-05 recover never ended). It goes on from after
    the highest it has read; the leaf the pointer named is read off the pages."""
    path = _copy_of(big_store, tmp_path)
    original = _exact(path, "events")
    data, size, root = _layout(path, "events")
    interior = _interior_below_root(data, size, root)
    kids = _children(data, size, interior)
    assert all(_page(data, size, k)[0][0] == 0x0D for k in kids[:5])
    on_broken = set(_leaf_rowids(data, size, kids[4]))
    page, _ = _page(data, size, interior)
    ptr = int.from_bytes(page[12 + 2 * 3 : 12 + 2 * 4], "big")  # the fourth cell: its child is kids[3]
    with open(path, "r+b") as f:
        f.seek((interior - 1) * size + ptr)
        f.write(kids[0].to_bytes(4, "big"))
    _overwrite(path, size, kids[4])
    r = subprocess.run([sys.executable, "-m", "spasmwatch", "store", "recover", "--db", str(path)],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"  events: {BIG - len(on_broken)} (" in r.stdout, r.stdout
    assert _exact(path, "events") == [row for row in original if row[0][1] not in on_broken]


def test_recover_does_not_say_nothing_was_unreadable_beside_rows_it_left_out(tmp_path: Path) -> None:
    """Review: with the page scan run for every damaged store, a recover that stepped over no rowid
    but found rows on the pages that it could not decode or place said both 'N row(s) ... left out'
    and 'nothing was unreadable'. Old code: both lines."""
    from spasmwatch.commands.store import _told
    from spasmwatch.store.pagescan import Scanned
    from spasmwatch.store.recover import Recovered

    kept = tmp_path / "spasmwatch.db.damaged-20261205-1400"
    for scan, left_out in ((Scanned(pages=3, unplaced=2), True), (Scanned(pages=3, unreadable=1), True),
                           (Scanned(refused="its freelist is damaged"), True), (Scanned(pages=3), False), (None, False)):  # fmt: skip
        said = _told(tmp_path / "spasmwatch.db", Recovered(kept, rows={"events": 10}, scan=scan))
        assert ("nothing was unreadable" in said) is not left_out, said


def _tear_a_page(path: Path, table: str, kept_bytes: int) -> int:
    """A leaf page of ``table`` in the middle of the file written only up to ``kept_bytes`` (a power cut
    during its write: the sectors after it as a fresh block reads, zeros); returns its number. The page's
    cells lie at its end (written there first): those past the cut are zeros, one may be cut across."""
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        pages = [r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]
        size = int(c.execute("PRAGMA page_size").fetchone()[0])
    page = int(pages[len(pages) // 2])
    with open(path, "r+b") as f:
        f.seek((page - 1) * size + kept_bytes)
        f.write(b"\x00" * (size - kept_bytes))
    return page


@pytest.mark.parametrize("kept_bytes", [2048, 3072])
def test_recover_keeps_no_row_of_zeros_from_a_page_cut_mid_write(tmp_path: Path, kept_bytes: int) -> None:
    """Review: a page cut mid-write read as rows of zeros: SQLite reads a cell cut across with the
    values past the cut as zeros (a device 'band\\x00\\x00\\x00\\x00', times 0.0), and recover wrote them
    as real events (a band of that name remade for them). Old code: an event of device 'band\\0\\0\\0\\0'
    (cut at 2048) or one at 1970 (3072), and 'nothing was unreadable'."""
    path = tmp_path / "spasmwatch.db"
    _store(path)
    _tear_a_page(path, "events", kept_bytes)
    r = _cli("store", "recover", "--db", str(path))
    assert r.returncode == 0, r.stderr
    with Store(path) as st:
        events = st.events(DEV)
        assert [d.device_id for d in st.devices()] == [DEV]
        lost = sorted(set(range(N)) - {e.seq for e in events})
        assert 0 < len(lost) < 200 and lost == list(range(lost[0], lost[-1] + 1)), lost  # the torn page's, no more
        assert all(e.received_wall_s > 1.6e9 and e.wall_t is not None and e.wall_t >= 1.7e9 for e in events)
        assert st.next_backfill_seq(DEV) == lost[0]
        (all_events,) = st._one("SELECT count(*) FROM events")
    assert all_events == N - len(lost)  # (no event of another device either)
    said = re.search(r"events: (\d+) row\(s\) on a page cut mid-write \(zeros from the cut on\): left out \((rowid \d+; )?\d+ whose rowid was cut too\)", r.stdout)
    assert said is not None and 0 < int(said.group(1)) <= len(lost), r.stdout
    assert "nothing was unreadable" not in r.stdout and "read through a damaged pointer" not in r.stdout, r.stdout


def _damage_the_page_of(path: Path, table: str) -> None:
    """Overwrite ``table``'s root page (its only page in a test store) as a bad sector would."""
    c = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    root = int(c.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0])
    size = int(c.execute("PRAGMA page_size").fetchone()[0])
    c.close()
    _overwrite(path, size, root)


def test_a_note_or_treatment_reads_its_own_table_not_every_page_and_the_daemon_still_refuses_the_store(tmp_path: Path) -> None:
    """'spasmwatch note' and 'treatment add' write one row of their table: their open reads that
    table's pages and the schema's (quick_check(TABLE)), not every page of the store, which took them
    as long as the daemon's open (2.7-3.5 s on a year's store, bench/store_open.py). Old code: refused here, the
    events page it never writes read through. The daemon's open still reads every page and refuses it."""
    path = tmp_path / "spasmwatch.db"
    _store(path)
    _damage_an_events_page(path)
    note = _cli("note", "filmed again", "--db", str(path))
    assert note.returncode == 0, note.stdout + note.stderr
    treatment = _cli("treatment", "add", "vigabatrin", "--action", "start", "--db", str(path))
    assert treatment.returncode == 0, treatment.stdout + treatment.stderr
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        assert [r[0] for r in c.execute("SELECT text FROM notes ORDER BY id")] == ["filmed the cluster", "filmed again"]
        assert [r[0] for r in c.execute("SELECT drug FROM treatments")] == ["vigabatrin"]
    with pytest.raises(StoreError, match="the store is damaged") as refused:
        Store(path)
    assert refused.value.damaged


def _with_status_rows(path: Path) -> None:
    """``_store``'s, and a day and a half of STATUS rows a minute (a few leaf pages of them)."""
    _store(path)
    with Store(path) as st, st.transaction():
        for k in range(2000):
            st.add_status(DEV, 1.7e9 + k * 60, {"battery_pct": 80, "worn": 1, "boot": 1})


def test_the_daemons_open_leaves_the_epochs_and_status_rows_unread_and_reads_the_rest_first(tmp_path: Path) -> None:
    """The daemon's open (``later``) reads every table but the epochs and STATUS rows (98.5% of a year's
    pages; read through after its start: tests/daemon/test_store_start_read.py) before anything is
    written: a damaged STATUS page opens, left ``unread``; a damaged events page (what its start reads
    and writes) is refused as before, nothing written. Old code: the STATUS page refused too, every
    page read first (2.7-3.5 s of a year's store, bench/store_open.py)."""
    path = tmp_path / "spasmwatch.db"
    _with_status_rows(path)
    damage_a_leaf_of(path, "status")
    with Store(path, later=True) as st:
        assert st.unread and st.open_error is None and [n.text for n in st.notes()] == ["filmed the cluster"]
    with pytest.raises(StoreError, match="the store is damaged"):
        Store(path)  # (any other open: every page read first)
    events = tmp_path / "events" / "spasmwatch.db"
    _with_status_rows(events)
    damage_a_leaf_of(events, "events")
    before = events.read_bytes()
    with pytest.raises(StoreError, match="the store is damaged") as refused:
        Store(events, later=True)
    assert refused.value.damaged and events.read_bytes() == before


def test_the_daemons_open_of_a_store_it_writes_into_itself_reads_every_page_first(tmp_path: Path) -> None:
    """A store the open writes into (here migrated from a lowered header) is read through first by the
    daemon's open too, as a note's is (``_db._settled``)."""
    path = tmp_path / "spasmwatch.db"
    _with_status_rows(path)
    damage_a_leaf_of(path, "status")
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="the store is damaged"):
        Store(path, later=True)
    assert path.read_bytes() == before


@pytest.mark.parametrize("table, command", [("notes", ("note", "x")), ("treatments", ("treatment", "add", "ACTH", "--action", "start"))])
def test_a_note_or_treatment_is_refused_by_a_store_whose_table_of_it_is_damaged(tmp_path: Path, table: str, command: tuple[str, ...]) -> None:
    path = tmp_path / "spasmwatch.db"
    _store(path)
    with Store(path) as st:
        st.add_treatment(1.7e9, "vigabatrin", "start")
    _damage_the_page_of(path, table)
    before = path.read_bytes()
    refused = _cli(*command, "--db", str(path))
    assert refused.returncode != 0 and "the store is damaged" in refused.stderr, refused.stdout + refused.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("edit", ["PRAGMA user_version = 1", "CREATE TRIGGER by_hand AFTER INSERT ON notes BEGIN SELECT 1; END"])
def test_a_note_on_a_store_its_open_writes_into_itself_reads_every_page_first(tmp_path: Path, edit: str) -> None:
    """A store the open writes into before the note (migrated, its header set right, an object added
    by hand dropped: _db._settle) writes other tables than notes: read through as the daemon's open
    reads it, and refused, nothing written."""
    path = tmp_path / "spasmwatch.db"
    _store(path)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute(edit)
    _damage_an_events_page(path)
    before = path.read_bytes()
    refused = _cli("note", "x", "--db", str(path))
    assert refused.returncode != 0 and "the store is damaged" in refused.stderr, refused.stdout + refused.stderr
    assert path.read_bytes() == before


# Files given as the store by a slip of --db, with what each is said to be (_db.other_file_said).
NOT_STORES = {
    "rec.csv": (b"t,ax,ay,az\n0.00,0.012,-0.031,9.806\n0.01,0.013,-0.030,9.807\n", "a text file"),
    "notes.txt": ("bébé a bien dormi\n".encode(), "a text file"),
    "photo.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16, "a PNG image"),
}


def _cli_in(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point with its config and data folders under ``home`` ('store adopt' records there)."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"), SPASMWATCH_DATA_DIR=str(home / "data"))
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("name", NOT_STORES)
@pytest.mark.parametrize("command", [("events",), ("store", "check"), ("store", "recover"), ("store", "adopt"), ("note", "fed")], ids=" ".join)
def test_a_file_that_is_no_store_given_as_the_store_is_said_as_the_wrong_file_and_left_as_it_was(
    tmp_path: Path, name: str, command: tuple[str, ...]
) -> None:
    """Found by the CLI input audit: 'events --db rec.csv' (a CSV, a text, a PNG) said to move the
    file aside and start the daemon to make a new store, as for a store damaged at its start, and
    'store adopt' and 'note' made it 0600 before refusing it. Now each says the file is no store,
    what it is, that --db names the wrong file, and leaves it as it was, its mode too, with nothing
    beside it."""
    folder = tmp_path / "files"
    folder.mkdir()
    path = folder / name
    content, what = NOT_STORES[name]
    path.write_bytes(content)
    path.chmod(0o644)
    r = _cli_in(tmp_path, *command, "--db", str(path))
    said = r.stdout + r.stderr
    assert r.returncode in (1, 2) and "Traceback" not in said, said
    assert f"{path}: not a spasmwatch store: {what}, not an SQLite database; the file was left untouched" in said, said
    assert "--db names the wrong file" in said, said
    assert "move it aside" not in said and ".unreadable" not in said and "recover --db" not in said, said
    assert path.read_bytes() == content and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in folder.iterdir()] == [name]  # no lock, WAL or index beside it
