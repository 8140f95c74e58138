"""Recovering a damaged store: every row that can still be read, copied into a new one.

A store damaged on disk (a bad sector, a file cut short by a full disk or a copy, a page
overwritten: SQLite's "database disk image is malformed") is refused by the daemon, which never
writes into it. ``recover(path)`` reads it through a read-only connection, table by table in
rowid order, steps over the rowids it cannot read (a damaged page), and writes what it read into
a fresh file built at the damaged file's schema version (so the usual migrations bring it up to
date, data steps included). The damaged file is then kept beside it under a new name, never
deleted, and the new file takes its place.

The rowid pass reaches a row only down its table's b-tree: every row under a damaged *interior*
page is out of its reach, and a child pointer damaged into another page's number fails no read
(SQLite reads the page it names instead: the rows under the one it named are lost without an
error). So the copy's pages are then read directly (pagescan.py): the table leaf pages no b-tree or
freelist reaches are decoded, and a page's rows go through the same insert (ON CONFLICT DO NOTHING) into
the one table they fit, among those whose b-tree is damaged, when their rowids are among those the
rowid pass did not keep. What
remains lost: the rows of a damaged leaf page, a row spilling onto overflow pages whose chain is
broken, a page whose rows would fit two damaged tables (not guessed), every page when the
freelist is damaged (a page it would have named may hold deleted rows) or the WAL cannot be
checkpointed into the copy, and all of it when the first page (header, schema) is damaged.
A row read off a cell that a write cut short left zeros in (pagescan.cut_rows: SQLite reads it
without an error, its values past the cut zeros) is left out, and said.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spasmwatch import private
from spasmwatch.store import _db, pagescan, shape
from spasmwatch.store._db import SQLITE_MAGIC, StoreError, start_again
from spasmwatch.store.schema import APPLICATION_ID, MIGRATIONS, NOT_KNOWN, STORE_ID_VERSION

# The largest rowid SQLite gives (2**63 - 1): the end of a table's key space.
MAX_ROWID = 2**63 - 1
SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Skipped:
    """Rowids ``first``..``last`` of ``table`` that could not be read (``last`` None: to the end)."""

    table: str
    first: int
    last: int | None


@dataclass
class Recovered:
    """What ``recover`` did: rows copied per table, the rowid ranges stepped over, the kept file."""

    kept: Path
    rows: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    found: dict[str, int] = field(default_factory=dict)  # rows the rowid pass did not keep, read off the pages
    scan: pagescan.Scanned | None = None  # what reading the pages met (None: not read)
    devices_remade: int = 0  # devices rows lost but named by kept rows: remade with the id alone
    links_dropped: int = 0  # cluster_events rows whose cluster or event was lost
    id_remade: bool = False  # the damaged file's store id could not be read: the new store has a new one
    # Rows read that break a constraint of the new store's table, by table, their rowids (None: read
    # off the pages): ``refused`` of a table whose SQL in the file is not this version's (a CHECK
    # widened by hand, a newer version's rows): kept in the old file alone; ``misread`` of one whose
    # SQL is (SQLite held its rows to it): another table's rows, read through a damaged pointer.
    refused: dict[str, list[int | None]] = field(default_factory=dict)
    misread: dict[str, list[int | None]] = field(default_factory=dict)
    # The file's columns added by hand ('column mine of table events', shape.read): the new store, this
    # version's, has none to copy them into; their values are in the kept file alone.
    columns_left: list[str] = field(default_factory=list)
    # The file's columns each row needs that it lacks (dropped by hand), by table: column -> the value
    # put in each row, the one this version takes as not known (schema.NOT_KNOWN: events.confidence 0).
    filled: dict[str, dict[str, int]] = field(default_factory=dict)
    # Rows read off cells a write cut short left zeros in (pagescan.cut_rows: values past the cut zeros),
    # by table, their rowids: not kept (a device 'band\x00\x00\x00\x00', an event at 1970).
    cut: dict[str, list[int]] = field(default_factory=dict)

    def not_kept(self, table: str, rowid: int | None, changed: frozenset[str]) -> None:
        """A row of ``table`` read that broke a constraint: in ``refused`` or ``misread`` (``changed``:
        the tables whose SQL in the file is not this version's)."""
        (self.refused if table in changed else self.misread).setdefault(table, []).append(rowid)


def damaged_name(path: Path, stamp: str) -> Path:
    """Where the damaged file is kept: ``spasmwatch.db.damaged-20261205-0931``."""
    return path.with_name(f"{path.name}.damaged-{stamp}")


def recover(path: Path, stamp: str) -> Recovered:
    """Copy what can be read of ``path`` into a new store at ``path``; the old file is kept as
    ``damaged_name(path, stamp)``. The caller holds the daemon lock (no daemon writes meanwhile)."""
    if not path.is_file():
        raise StoreError(f"{path}: no spasmwatch store here")
    kept = damaged_name(path, stamp)
    if kept.exists():
        raise StoreError(f"{kept}: exists already (a recovery a minute ago?): wait a minute and run it again")
    fresh, copy = path.with_name(path.name + ".recovering"), path.with_name(path.name + ".reading")
    for p in (fresh, copy):
        remove_with_sides(p)  # what an interrupted recovery left: never the store itself
    try:
        readable_copy(path, copy)
        private.create_file(fresh)  # the baby's data: 0600 before SQLite writes it (not the umask's)
        src = sqlite3.connect(copy, isolation_level=None)
        try:
            version = _version(src, path)
            dst = sqlite3.connect(fresh, isolation_level=None)
            try:
                result = _copy(src, dst, path, version, kept, copy)
            finally:
                dst.close()
        finally:
            src.close()
        _db.connect(fresh, readonly=False).conn.close()  # migrated to the current schema, WAL
    except BaseException as e:
        remove_with_sides(fresh)  # nothing recovered: no half-made store left beside the file (it was, empty)
        if isinstance(e, OSError | sqlite3.OperationalError | StoreError) and _no_room(e):
            raise _no_room_said(path, e) from e
        raise
    finally:
        remove_with_sides(copy)  # (a half-written one too: on a full disk it held the last free space)
    for side in SIDE_FILES:  # a WAL belongs with its file: kept together
        if Path(str(path) + side).exists():
            os.replace(str(path) + side, str(kept) + side)
    os.replace(path, kept)
    os.replace(fresh, path)
    return result


def _no_room(e: BaseException) -> bool:
    """Whether ``e`` says a file could not grow: a full disk (ENOSPC, SQLite's 'database or disk is
    full'), a quota (EDQUOT) or a file size limit (EFBIG)."""
    if isinstance(e, OSError):
        return e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    return "disk is full" in str(e)


def _no_room_said(path: Path, e: BaseException) -> StoreError:
    """The error of a recovery that ran out of room: what it needs (a copy of the file and its WAL,
    read from, and the new store, at most as large)."""
    size = _db.needed_bytes(path)
    why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return StoreError(
        f"{path}: the recovery could not write beside it ({why}): is the disk full? It needs about {2 * size / 1e6:.1f} MB "
        f"free in {path.parent} (a copy of the file to read from, and the new store). Nothing was changed: the store was left as it "
        "was, and nothing of the recovery was left beside it; make room and run it again"
    )


def readable_copy(path: Path, copy: Path) -> None:
    """``path`` (and its WAL) copied to ``copy``, a file cut short extended with zeros to the size
    its header gives: SQLite refuses every read of a file shorter than its header says ('database
    disk image is malformed', even of the first page), and reads the pages of an extended one up
    to the missing ones, which are then damaged pages like any other. Copied on disk, not through
    memory: a year's store is a few hundred MB."""
    _private_copy(path, copy)
    size = header_size(path)
    if copy.stat().st_size < size:
        os.truncate(copy, size)
    if Path(str(path) + "-wal").exists():
        _private_copy(Path(str(path) + "-wal"), Path(str(copy) + "-wal"))


def _private_copy(src: Path, dst: Path) -> None:
    """``src``'s bytes into a new ``dst`` made 0600 first (private.py): copyfile keeps the mode of a
    file it writes into, and made one at the umask's (0644: other accounts could read the copy)."""
    private.create_file(dst)
    shutil.copyfile(src, dst)


def header_size(path: Path) -> int:
    """The size of the file at ``path`` by its SQLite header (``_header_size``; 0: it gives none)."""
    with open(path, "rb") as f:
        return _header_size(f.read(100))


def _header_size(head: bytes) -> int:
    """The file's size by its SQLite header (page size x page count; 0 when it gives none). Only a
    header SQLite itself would trust gives one: its magic string, and its page count valid (the
    change counter equal to the version-valid-for number). Found with a file of random bytes:
    their "size" was terabytes, and the copy's extension to it failed with a traceback (EFBIG),
    where the file system did not make it a sparse file of that size."""
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC) or head[24:28] != head[92:96]:
        return 0
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    return page * int.from_bytes(head[28:32], "big")


def _version(src: sqlite3.Connection, path: Path) -> int:
    """The damaged file's schema version, from its first page (unreadable: nothing to go by)."""
    try:
        app_id = int(src.execute("PRAGMA application_id").fetchone()[0])
        version = int(src.execute("PRAGMA user_version").fetchone()[0])
        src.execute("SELECT name FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as e:
        raise StoreError(
            f"{path}: its first pages cannot be read ({e}): spasmwatch cannot recover it; the file was left as it is. {start_again(path)}"
        ) from e
    if version <= len(MIGRATIONS):  # (a header set back by hand: as far as its tables went, shape.py)
        _not_newer(src, path, version)
        version = max(version, shape.reached(shape.of(src)))
    if app_id != APPLICATION_ID or not 1 <= version <= len(MIGRATIONS):
        raise StoreError(f"{path}: not a spasmwatch store this version can recover (schema version {version}); left as it is")
    return version


def _not_newer(src: sqlite3.Connection, path: Path, version: int) -> None:
    """StoreNewer for a newer spasmwatch's store whose header was set back (``_db.check_set_back``):
    rebuilt at this version, its newer columns and tables were dropped."""
    try:
        _db.check_set_back(src, path, version)
    except sqlite3.DatabaseError:  # (its marker's page damaged: no newer marker to go by)
        pass


def _copy(src: sqlite3.Connection, dst: sqlite3.Connection, path: Path, version: int, kept: Path, copy: Path) -> Recovered:
    gone = shape.unkeepable(src, version)
    if gone:  # found by review: a dropped events.onset_ms put a store without a single event in the store's place
        raise StoreError(f"{path}: {_db.no_recovery_hint(path, gone)}. Nothing was changed: the store was left as it was")
    filled: dict[str, dict[str, int]] = {}
    for table, column in shape.needed_gone(src, version):
        filled.setdefault(table, {})[column] = NOT_KNOWN[table, column].value
    _db.made_at_version(dst, version)  # the same tables and columns as the damaged file
    result = Recovered(kept, columns_left=shape.read(src)[1], filled=filled)
    tables = [r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    changed = frozenset(n for t, n, _ in shape.of(src) - shape.of(dst) if t == "table")
    cut = pagescan.cut_rows(copy, page_tables(src))
    dst.execute("BEGIN")
    kept_ids: dict[str, list[list[int]]] = {}  # by table, the rowids of the rows kept, in runs
    for table in tables:
        # Those the file has: a table or column dropped by hand (shape.unproven) is left empty, as its step makes it.
        have = {shape.folded(str(r[1])) for r in src.execute(f"PRAGMA table_info({table})")}  # (names are case-blind)
        info = dst.execute(f"PRAGMA table_info({table})").fetchall()
        cols = [r[1] for r in info if shape.folded(r[1]) in have]
        if not cols:
            continue
        fill = filled.get(table, {})
        n, runs = 0, kept_ids.setdefault(table, [])
        for rowid, row in readable(src, table, cols, result.skipped):
            if cut.holds(table, rowid, cols, row):
                result.cut.setdefault(table, []).append(rowid)
                continue
            added = _insert(dst, table, [*cols, *fill], (*row, *fill.values()))
            if added is None and cut.headless(table, rowid):
                result.cut.setdefault(table, []).append(rowid)
            elif added is None:
                result.not_kept(table, rowid, changed)
            elif added:
                n += 1
                _note_kept(runs, rowid)
        result.rows[table] = n
    # Every time (recover runs on a damaged store alone), not only when the rowid pass stepped over
    # something: a child pointer damaged into another page's number fails no read, SQLite reads that
    # page instead, and the rows under the page it named were lost without a word.
    _scan_pages(src, dst, copy, result, kept_ids, changed)
    result.devices_remade = remake_devices(dst)
    result.links_dropped = dst.execute(
        "DELETE FROM cluster_events WHERE cluster_id NOT IN (SELECT id FROM clusters) OR event_id NOT IN (SELECT id FROM events)"
    ).rowcount
    result.id_remade = not _keep_id(src, dst, version)
    _db.mark(dst, version)  # (as the steps declare it, whatever of the damaged file's row could be read)
    dst.execute("COMMIT")
    return result


def _keep_id(src: sqlite3.Connection, dst: sqlite3.Connection, version: int) -> bool:
    """The recovered store keeps the damaged one's id in place of the one its schema step made (its
    row was ignored as a duplicate): the daemon's record knows its store by it (known.py). False: the
    id could not be read (its page damaged), the new one is left, and the caller records it as the
    daemon's ('store recover'); so too when a store of ``version`` (by its tables) from store ids on has
    none (its table dropped, its row deleted, by hand: until the review of 2026-12-06 the new id was
    left unrecorded, and the daemon refused the recovered store as a different one). A store from
    before ids has none to keep (True): it gets its id as it is migrated, and the daemon takes it as it
    took the damaged one (known._different)."""
    try:
        found = _db.store_id(src)
    except sqlite3.DatabaseError:
        return False
    if found is not None:
        dst.execute("UPDATE store_identity SET id = ?", (found,))
    return found is not None or version < STORE_ID_VERSION


def _insert(dst: sqlite3.Connection, table: str, cols: list[str], row: Sequence[object]) -> int | None:
    """One row into the new store (1), unless a row with its rowid alias or unique key is there (0);
    None: it breaks a CHECK or NOT NULL of the table (``Recovered.not_kept``). Until the review of
    2026-12-06 INSERT OR IGNORE dropped those too, without a word ('nothing was unreadable')."""
    try:
        return int(dst.execute(_insert_sql(table, tuple(cols)), tuple(row)).rowcount)
    except sqlite3.IntegrityError:
        return None


@functools.cache
def _insert_sql(table: str, cols: tuple[str, ...]) -> str:
    """The INSERT of ``_insert``, written once per table (it is called for every row recovered). ON
    CONFLICT DO NOTHING skips a row whose key is there alone, not one that breaks a CHECK."""
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) ON CONFLICT DO NOTHING"


def _scan_pages(
    src: sqlite3.Connection, dst: sqlite3.Connection, copy: Path, result: Recovered, kept_ids: dict[str, list[list[int]]],
    changed: frozenset[str],
) -> None:
    """The rows the rowid pass did not keep (``kept_ids``: by table, the rowids it kept) that are
    intact on leaf pages it cannot reach (under a damaged interior page, or one a damaged pointer no
    longer names), read off the file's pages (pagescan.py) into the new store."""
    result.scan = pagescan.Scanned()
    try:  # the pages in the copy's WAL are newer than the file's: written into it first
        busy, frames, done = src.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        why = f"{done} of its {frames} WAL frames" if busy or frames != done else ""
    except sqlite3.DatabaseError as e:
        why = str(e)
    if why:
        result.scan.refused = f"its WAL could not be written into it ({why})"
        return
    tables = page_tables(src, kept_ids)
    names = {t.name: [c.name for c in t.columns] for t in tables}
    have = {name: frozenset(str(r[1]) for r in dst.execute(f"PRAGMA table_info({name})")) for name in kept_ids}
    for table, row in pagescan.orphan_rows(copy, tables, result.scan):
        fill = result.filled.get(table, {})
        cols, values = _of_new_store(have[table], names[table], row)
        kept = _insert(dst, table, [*cols, *fill], (*values, *fill.values()))
        if kept is None:
            result.not_kept(table, None, changed)
        result.found[table] = result.found.get(table, 0) + (kept or 0)


def page_tables(src: sqlite3.Connection, kept_ids: dict[str, list[list[int]]] | None = None) -> list[pagescan.Table]:
    """Every table of the file on ``src`` (sqlite_schema too) for pagescan.py, the rowids each wants
    those ``kept_ids`` leaves out (a table it does not name: none wanted; also 'store restore', carry.py)."""
    tables = []
    for name, root in [("sqlite_schema", 1), *src.execute("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'")]:
        info = src.execute(f"PRAGMA table_info({name})").fetchall()
        wanted = _not_kept(kept_ids[shape.folded(name)]) if kept_ids and shape.folded(name) in kept_ids else None
        tables.append(pagescan.Table(shape.folded(name), int(root), pagescan.columns(info), wanted))
    return tables


def _of_new_store(have: frozenset[str], cols: list[str], row: Sequence[object]) -> tuple[list[str], list[object]]:
    """The columns ``cols`` of a row read off the file's pages (``row``, its values in their order)
    that the new store's table has (``have``), and their values: one added by hand is not copied (named
    in ``Recovered.columns_left``), as in the rowid pass. Until the review of 2026-12-06's host changes
    it was: 'table events has no column named mine', recover ended in a traceback."""
    kept = [(c, v) for c, v in zip(cols, row) if shape.folded(c) in have]
    return [c for c, _ in kept], [v for _, v in kept]


def _note_kept(runs: list[list[int]], rowid: int) -> None:
    """``rowid`` into ``runs`` ([first, last] of rowids kept): the next of the last run, or a new run."""
    if runs and runs[-1][1] + 1 == rowid:
        runs[-1][1] = rowid
    else:
        runs.append([rowid, rowid])


def _not_kept(runs: list[list[int]]) -> tuple[tuple[int, int | None], ...]:
    """The rowids from 1 on that ``runs`` leave out, as ranges in order (the last one to the end)."""
    out: list[tuple[int, int | None]] = []
    nxt = 1
    for first, last in sorted(runs):  # (in order but for a page SQLite was sent to by a damaged pointer)
        if first > nxt:
            out.append((nxt, first - 1))
        nxt = max(nxt, last + 1)
    out.append((nxt, None))
    return tuple(out)


def readable(
    src: sqlite3.Connection, table: str, cols: list[str], skipped: list[Skipped], after: int = 0
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """(rowid, values) of the rows of ``table`` past rowid ``after`` that can be read, in rowid
    order; the ranges that cannot, in ``skipped`` (also 'store restore', carry.py)."""
    # rowid >= (not > the last read): SQLite seeks a '>' to the last rowid itself first, on its
    # page, and a damaged page just before would make the first row after it unreadable too.
    select = f"SELECT rowid, {', '.join(cols)} FROM {table} WHERE rowid >= ? ORDER BY rowid"
    start = after + 1  # rowids start at 1 in every table here
    while True:
        try:
            for row in src.execute(select, (start,)):  # row by row: all before a bad page is kept
                # From after the highest read, not the last: a child pointer damaged into an earlier
                # leaf's number sends the read back to lower rowids, and going on from there met the
                # damage after them again, for ever.
                start = max(start, row[0] + 1)
                yield int(row[0]), tuple(row[1:])
            return
        except sqlite3.DatabaseError:
            pass
        # Python's sqlite3 steps one row ahead of the row it hands on: the step that failed may be
        # the one past the next row, which then reads alone (LIMIT 1 steps no further).
        row = _alone(src, select, start)
        if row is not None:
            start = row[0] + 1
            yield row
            continue
        at = _seek(src, table, start)
        if at is None:  # nothing after it to read
            return
        # Seeking there fails (a damaged page), or it works but that row is unreadable itself:
        # the search for the next readable rowid starts past it.
        nxt = _next_readable(src, table, start - 1 if at is False else int(at))
        _note_skip(skipped, Skipped(table, start, None if nxt is None else nxt - 1))
        if nxt is None:
            return
        start = nxt


def _alone(src: sqlite3.Connection, select: str, start: int) -> tuple[int, tuple[object, ...]] | None:
    """The first row from rowid ``start`` on read by itself (None: it cannot be read, or none is left)."""
    try:
        cur = src.execute(select + " LIMIT 1", (start,))
        try:
            row = cur.fetchone()
        finally:
            cur.close()  # no statement left open: the page scan checkpoints the copy's WAL
    except sqlite3.DatabaseError:
        return None
    return None if row is None else (int(row[0]), tuple(row[1:]))


def _note_skip(skipped: list[Skipped], s: Skipped) -> None:
    """Add ``s`` to ``skipped``, one range with the one before when they touch."""
    if skipped and skipped[-1].table == s.table and skipped[-1].last == s.first - 1:
        s = Skipped(s.table, skipped.pop().first, s.last)
    skipped.append(s)


def _next_readable(src: sqlite3.Connection, table: str, last: int) -> int | None:
    """The first rowid after ``last`` from which ``table`` reads again (None: none found).

    Seeking to a rowid on a damaged page fails, to one past it works: the step grows until a
    seek works, then halves back to the first rowid that does."""
    bad, step = last, 1
    while True:
        probe = min(last + step, MAX_ROWID)
        found = _seek(src, table, probe)
        if found is not False:
            break
        if probe == MAX_ROWID:
            return None
        bad, step = probe, step * 2
    good = probe  # seeking here works; at ``bad`` it failed
    while good - bad > 1:
        mid = (bad + good) // 2
        if _seek(src, table, mid) is False:
            bad = mid
        else:
            good = mid
    first = _seek(src, table, good)
    return first if isinstance(first, int) else None


def _seek(src: sqlite3.Connection, table: str, at: int) -> int | None | bool:
    """The first rowid >= ``at`` (None: no more rows), or False when that read fails."""
    try:
        r = src.execute(f"SELECT rowid FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1", (at,)).fetchone()
    except sqlite3.DatabaseError:
        return False
    return None if r is None else int(r[0])


# The kept rows that name a band, and the time column that says when it was seen.
_NAMING = (
    ("events", "received_wall_s"), ("activity", "received_wall_s"), ("status", "received_wall_s"), ("syncs", "wall_s"),
    ("lost", "wall_s"), ("clusters", "updated_wall_s"), ("boot_links", "received_wall_s"),
)  # fmt: skip


def remake_devices(dst: sqlite3.Connection) -> int:
    """A devices row for each band the kept rows name but whose own row was lost (the rows that
    name it need one): its id, first and last seen from the kept rows' times. Only the tables of
    the damaged file's schema version are read (boot_links: schema v11)."""
    present = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    union = " UNION ALL ".join(f"SELECT device, {t} AS t FROM {table}" for table, t in _NAMING if table in present)
    named = dst.execute(
        f"SELECT device, min(t), max(t) FROM ({union}) WHERE device NOT IN (SELECT device_id FROM devices) GROUP BY device"
    ).fetchall()
    for device, first, last in named:
        dst.execute("INSERT INTO devices (device_id, first_seen_wall_s, last_seen_wall_s) VALUES (?, ?, ?)", (device, first, last))
    return len(named)


def remove_with_sides(path: Path) -> None:
    """``path`` and its side files (WAL, shared memory, journal), those that are there."""
    for p in [path, *(Path(str(path) + side) for side in SIDE_FILES)]:
        if p.exists():
            p.unlink()
