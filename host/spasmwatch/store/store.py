"""The daemon's SQLite store: band records, clusters, alerts and caregiver entries.

Threads: one connection shared behind a lock, so the asyncio daemon and a web
server thread may call the same ``Store``. Range queries return iterators
that read through their own read-only connection, opened at the first
``next()`` and closed when the iterator is exhausted, closed or collected:
they see one consistent snapshot, stream (``fetchmany``), never block the
writer (WAL), and may be consumed in any thread.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
import platformdirs

from spasmwatch.store import _db, placing
from spasmwatch.store._db import StoreError
from spasmwatch.store.known import Checked, KnownStores, vanished
from spasmwatch.store.schema import ZONES_VERSION
from spasmwatch.store.walsync import WalSync, sync_wal
from spasmwatch.store.rows import (
    ALERT_END_STATES,
    LABELS,
    STATUS_FIELDS,
    TREATMENT_ACTIONS,
    ActivityRow,
    AlertRow,
    BootMarks,
    ClusterRow,
    DeviceRow,
    EventRow,
    FieldError,
    LabelRow,
    LogLife,
    LostRange,
    NoteRow,
    FailingRow,
    MuteRow,
    OutgoingRow,
    Replaced,
    RetainedRow,
    StatusRow,
    SyncRow,
    TreatmentRow,
    BootLinkRow,
    Linked,
    check_note,
    check_note_length,
    normalise_drug,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Row = tuple[Any, ...]
STREAM_BATCH = 512
# epochs: ``activity_chunks`` reads a band's epochs this many at a time (a week's, 1.2 MB of columns):
# held whole, a year's epochs took a report to 151 MB of RSS (docs/web.md); far fewer, numpy's calls
# per chunk and the sleep/wake estimate's overlap (its 10 min window) would cost more than the work.
ACTIVITY_CHUNK = 1 << 16
# s: a band's devices.last_seen_wall_s moves on with its streamed records at most this often (a
# connect, upsert_device, moves it to the second). Moved at every record it was one more 4 KB WAL
# page in each commit, an epoch and a STATUS every 10 s all night (1 of a STATUS's 2.2 pages):
# written and synced to an SD card. What reads it (the latest band of a name) needs no finer.
DEVICE_SEEN_EVERY_S = 60.0
# s: a band's epochs and STATUS rows (``add_activity``, ``add_status``: one every 10 s each) are committed
# at synchronous=NORMAL, and the WAL synced at least this often (a FULL commit syncs the frames before
# it; else the store's sync thread, walsync.py, asked by the lazy commit a minute past the last sync).
# Each was its own FULL commit, a WAL fsync every 5 s all night, 424 an hour of an idle band: on an
# SD card an erase block rewritten for a few hundred bytes (bench/sdcard.py, docs/host.md "Running from
# an SD card"). The band keeps neither once sent (docs/protocol.md): a power cut may lose this much of
# them, against the minutes the host then lies dark; a killed daemon none (the OS holds its writes).
# STATUS rows already accept it (docs/store.md "STATUS rows"). Every other write syncs at its commit,
# but the daemon's events and cluster rows (``lazy`` of ``add_events``, ``transaction``): the band keeps
# its events in flash and sends again what a power cut took from the store; the alarm's transition syncs them.
LAZY_SYNC_EVERY_S = 60.0

DATA_DIR_ENV = "SPASMWATCH_DATA_DIR"
DB_NAME = "spasmwatch.db"

_EVENT_COLS = (
    "boot",
    "seq",
    "onset_ms",
    "duration_ms",
    "peak_rate_mrads",
    "peak_angle_mrad",
    "confidence",
    "flags",
)
_ACTIVITY_COLS = ("boot", "t_ms", "activity", "breath", "off_body", "worn")


_LINK_COLS = ("boot", "prev_boot", "cause", "flags", "prev_ms", "gap_ms", "err_ms")
_EVENT_SELECT = "SELECT id, device, " + ", ".join(_EVENT_COLS) + ", wall_t, received_wall_s FROM events"
_ACTIVITY_SELECT = "SELECT id, device, " + ", ".join(_ACTIVITY_COLS) + ", wall_t, received_wall_s FROM activity"
# An epoch's columns that coverage and the sleep/wake estimate read (``Store.activity_chunks``);
# worn: the verdict as ``analysis.sleepwake.counts_worn`` takes it (worn, or unknown at a boot on an
# epoch not off the body); activity: held to
# +-ACTIVITY_LIMIT (below)
ACTIVITY_COLUMNS = np.dtype([("wall_t", "f8"), ("activity", "i8"), ("off_body", "?"), ("worn", "?")])
# An epoch's active samples as ``activity_chunks`` reads them, at most this many either way: the
# column takes any integer, a band sends a u16, and x 4 (packed below) a stored 2^61 went past
# int64, a float that numpy refused (no report, no page). Any rate's share of an epoch is far below.
ACTIVITY_LIMIT = 2**40  # samples
# ... read as two: each column read is a Python object an epoch (0.2 µs), the three integers one
_ACTIVITY_CODED = np.dtype([("wall_t", "f8"), ("code", "i8")])
# An epoch's worn verdict as ``analysis.sleepwake.counts_worn`` takes it, in SQL
_COUNTS_WORN = "(worn != 0 AND NOT (worn = -1 AND off_body != 0))"
_ACTIVITY_CODED_SELECT = (
    f"SELECT wall_t, MAX(MIN(activity, {ACTIVITY_LIMIT}), {-ACTIVITY_LIMIT}) * 4 + (off_body != 0) * 2 + {_COUNTS_WORN} FROM activity"
)
# The latest of a band's placed epochs ending in [?, ?] whose epoch before it (by wall_t, id) ends
# more than a gap before it starts, or is not worn, or is not in that span (the span's first): a
# search of activity_device_wall read backwards, its rows 1 µs each (a day's 10 ms), not stopped at
# the first found (SQLite's LEAD holds the span). Each epoch's start is its end less its length, and
# the gap is computed as export/sleep.py's _decisions computes it (the same float operations).
_RUN_START = f"""SELECT wall_t FROM (
    SELECT wall_t, LEAD(wall_t) OVER w AS before_t, LEAD({_COUNTS_WORN}) OVER w AS before_worn FROM activity
    WHERE device = ?1 AND wall_t IS NOT NULL AND wall_t >= ?2 AND wall_t <= ?3 WINDOW w AS (ORDER BY wall_t DESC, id DESC))
WHERE before_t IS NULL OR (wall_t - ?4) - ((before_t - ?4) + ?4) > ?5 OR NOT before_worn LIMIT 1"""


def _latest_label(col: str) -> str:
    """``col`` of the cluster's latest label, a subquery of a SELECT on clusters. One per column:
    a CTE of each cluster's latest label, joined once, read every label for each query (EXPLAIN
    QUERY PLAN: a scan of labels; 10-30x slower on 1000 labelled clusters), and these two are
    each a search of the labels_cluster index."""
    return f"(SELECT {col} FROM labels l WHERE l.cluster_id = clusters.id ORDER BY l.id DESC LIMIT 1)"


_CLUSTER_SELECT = (
    "SELECT id, device, key, start_t, end_t, count, alert_t, post_wake_s, closed, updated_wall_s, "
    f"{_latest_label('label')}, {_latest_label('by')} FROM clusters"
)
# The band's cluster that started last: by the index clusters_device_start, read backwards (schema v10).
_LATEST_CLUSTER = " WHERE device = ? ORDER BY start_t DESC, id DESC LIMIT 1"
_ALERT_SELECT = "SELECT id, cluster_id, device, kind, state, wall_s, text, channels, by, alert_id FROM alerts"
_OUTGOING_SELECT = "SELECT id, channel, key, device, payload, created_t, urgency, kept_wall_s FROM outbox"
_NOTE_SELECT = "SELECT id, wall_s, kind, text, device, by FROM notes"
_TREATMENT_SELECT = "SELECT id, wall_s, drug, action, dose, unit, note, by FROM treatments"


_LIFE_SELECT = "SELECT device, since_wall_s, boot_offset, seq_offset FROM log_lives"
_LIFE_LATEST = " WHERE device = ? ORDER BY id DESC LIMIT 1"


def _life(device: str, r: Row | None) -> LogLife:
    """A log_lives row; no row: the first life, numbered as the band numbers it."""
    return LogLife(device, None, 0, 0) if r is None else LogLife(*r)


@dataclass(frozen=True)
class _Held:
    """What the store holds of a device, in host numbers."""

    seq_end: int  # one past the highest seq stored or marked lost (0: none)
    max_boot: int | None  # the highest boot with a sync, event or epoch
    boot_ms: int | None  # the latest band ms known of the band's current boot number


def _held(c: sqlite3.Connection, device: str, host_boot: int) -> _Held:
    seq = c.execute(
        "SELECT max(s) FROM (SELECT max(seq) AS s FROM events WHERE device = ?1 "
        "UNION ALL SELECT max(last_seq) FROM lost WHERE device = ?1)",
        (device,),
    ).fetchone()[0]
    boot = c.execute(
        "SELECT max(b) FROM (SELECT max(boot) AS b FROM syncs WHERE device = ?1 "
        "UNION ALL SELECT max(boot) FROM events WHERE device = ?1 UNION ALL SELECT max(boot) FROM activity WHERE device = ?1)",
        (device,),
    ).fetchone()[0]
    ms = c.execute(
        "SELECT max(m) FROM (SELECT max(band_ms) AS m FROM syncs WHERE device = ?1 AND boot = ?2 "
        "UNION ALL SELECT max(onset_ms) FROM events WHERE device = ?1 AND boot = ?2 "
        "UNION ALL SELECT max(t_ms) FROM activity WHERE device = ?1 AND boot = ?2)",
        (device, host_boot),
    ).fetchone()[0]
    return _Held(0 if seq is None else int(seq) + 1, None if boot is None else int(boot), None if ms is None else int(ms))


def _new_offsets(cur: LogLife, held: _Held, boot: int, next_seq: int, band_ms: int, erased: bool) -> tuple[int, int] | None:
    """(boot_offset, seq_offset) of a new life, or None while the band's numbers fit the current one.

    The band's seq never goes back and its boot count only grows; its clock only grows
    within a boot. A band counting below what the store holds was erased (or its
    state reset); a rebooted band (boot + 1, seq going on) stays in its life.
    """
    seq_reset = erased or next_seq + cur.seq_offset < held.seq_end
    host_boot = boot + cur.boot_offset
    boot_reused = held.max_boot is not None and (
        host_boot < held.max_boot
        # The same boot number again: a restarted log means a reboot; a clock behind one seen means one too.
        or (host_boot == held.max_boot and (seq_reset or (held.boot_ms is not None and band_ms < held.boot_ms)))
    )
    # The band's current boot becomes the store's highest + 1 (also after its u16 count
    # wrapped to 0), its seq 0 the highest held + 1.
    boot_offset = held.max_boot + 1 - boot if boot_reused and held.max_boot is not None else cur.boot_offset
    seq_offset = held.seq_end if seq_reset else cur.seq_offset
    return None if (boot_offset, seq_offset) == (cur.boot_offset, cur.seq_offset) else (boot_offset, seq_offset)


@functools.cache
def _columns(row_type: type) -> str:
    """The columns a row dataclass is read from, by its fields' names. Never ``SELECT *``: a store of a
    newer schema that this version may read or write (its marker, docs/store.md "Schema versions")
    may have columns more, which a ``SELECT *`` handed on as fields more (a TypeError); an INSERT
    names its columns for the same reason."""
    return ", ".join(f.name for f in dataclasses.fields(row_type))


def _event_row(r: Row) -> EventRow:
    return EventRow(*r)


def _activity_row(r: Row) -> ActivityRow:
    i, device, boot, t_ms, activity, breath, off_body, worn, wall_t, received = r
    return ActivityRow(i, device, boot, t_ms, activity, breath, bool(off_body), worn, wall_t, received)


def _set_cluster_events(c: sqlite3.Connection, cid: int, event_ids: Sequence[int], held: AbstractSet[int] | None) -> None:
    """Cluster ``cid``'s events are ``event_ids`` (duplicates are one); ``held``: what its rows are
    now, if known, so that only the ones gone are deleted and only the new ones inserted."""
    if held is None:
        c.execute("DELETE FROM cluster_events WHERE cluster_id = ?", (cid,))
        new: Iterable[int] = event_ids
    else:
        keep = set(event_ids)
        c.executemany("DELETE FROM cluster_events WHERE cluster_id = ? AND event_id = ?", [(cid, e) for e in held - keep])
        new = keep.difference(held)
    c.executemany("INSERT OR IGNORE INTO cluster_events(cluster_id, event_id) VALUES (?, ?)", [(cid, e) for e in new])


def _cluster_row(r: Row) -> ClusterRow:
    i, device, key, start_t, end_t, count, alert_t, post_wake_s, closed, updated, label, label_by = r
    return ClusterRow(i, device, key, start_t, end_t, count, alert_t, post_wake_s, bool(closed), updated, label, label_by)


def _alert_row(r: Row) -> AlertRow:
    i, cluster_id, device, kind, state, wall_s, text, channels, by, alert_id = r
    return AlertRow(i, cluster_id, device, kind, state, wall_s, text, tuple(json.loads(channels)), by, alert_id)


def _where(device: str | None = None, *bounds: tuple[str, str, float | None]) -> tuple[str, list[Any]]:
    """WHERE clause from a device and ``(column, op, value)`` bounds (None values skipped)."""
    conds: list[str] = []
    params: list[Any] = []
    if device is not None:
        conds.append("device = ?")
        params.append(device)
    for col, op, value in bounds:
        if value is not None:
            conds.append(f"{col} {op} ?")
            params.append(value)
    return (" WHERE " + " AND ".join(conds) if conds else ""), params


def _range(col: str, since: float | None, until: float | None, device: str | None = None) -> tuple[str, list[Any]]:
    """WHERE clause for ``since <= col < until`` (either end open) and a device."""
    return _where(device, (col, ">=", since), (col, "<", until))


def _unpack(coded: np.ndarray, out: np.ndarray) -> None:
    """``_ACTIVITY_CODED_SELECT``'s rows ``coded`` into ``out`` (as many ``ACTIVITY_COLUMNS``)."""
    code = coded["code"]
    out["wall_t"], out["activity"], out["off_body"], out["worn"] = coded["wall_t"], code >> 2, (code & 2) != 0, (code & 1) != 0


def _activity_query(
    device: str | None, since: float | None, until: float | None, select: str = _ACTIVITY_SELECT
) -> tuple[str, list[Any]]:
    """``activity``'s SQL: the placed epochs ending in [since, until), in time order."""
    where, params = _range("wall_t", since, until, device)
    where += (" AND" if where else " WHERE") + " wall_t IS NOT NULL"
    if device is None:
        # Every epoch's band is in devices (its foreign key): the same rows, read by the one index,
        # (device, wall_t), a band at a time; without it SQLite scanned the whole table, a year's
        # epochs for the page's 14 days (docs/web.md).
        where += " AND device IN (SELECT device_id FROM devices)"
    return select + where + " ORDER BY wall_t, id", params


def _ints(rec: Mapping[str, Any], cols: Sequence[str], what: str) -> tuple[int, ...]:
    out = []
    for c in cols:
        if c not in rec:
            raise ValueError(f"{what} record without field {c!r}")
        try:
            out.append(int(rec[c]))
        except (TypeError, ValueError):
            raise ValueError(f"{what} record field {c!r}: {rec[c]!r} is not an integer") from None
    return tuple(out)


def _placed_params(device: str, cols: Sequence[str], record: Sequence[int], now: float, a: placing.Anchor | None) -> dict[str, Any]:
    """``placing.insert_placed_sql``'s parameters for ``record`` (``cols``' values, its boot first)."""
    via, shift = (None, 0) if a is None else (a.via, a.shift_ms)
    return {"device": device, **dict(zip(cols, record, strict=True)), "received": now, "via": via, "shift": shift}


def _keep_conflicts(
    c: sqlite3.Connection, table: str, cols: Sequence[str], what: str, values: list[tuple[Any, ...]], keys: int = 2
) -> None:
    """Set aside each of ``values`` (device, *cols, received) that its key's stored row (device and
    the first ``keys`` of ``cols``) contradicts."""
    select = f"SELECT {', '.join(cols)} FROM {table} WHERE device = ?" + "".join(f" AND {k} = ?" for k in cols[:keys])
    for v in values:
        fields = v[1:-1]
        stored = c.execute(select, v[: keys + 1]).fetchone()
        if stored is None or tuple(stored) == fields:
            continue
        record = json.dumps(dict(zip(cols, fields)))
        # A link's conflicts have a table of their own (schema v11), without a kind.
        into = "link_conflicts" if what == "bootlink" else "conflicts"
        keep = ("INSERT OR IGNORE INTO link_conflicts(device, record, received_wall_s) VALUES (?, ?, ?)", (v[0], record, v[-1])) if what == "bootlink" else (
            "INSERT OR IGNORE INTO conflicts(device, kind, record, received_wall_s) VALUES (?, ?, ?, ?)", (v[0], what, record, v[-1]))
        if c.execute(*keep).rowcount:
            key = " ".join(f"{k} {x}" for k, x in zip(cols[:keys], v[1:]))
            log.warning(
                "%s: %s %s came with other fields than the one stored; the stored one is kept, "
                "the new one set aside in the store's %s table: %s", v[0], what, key, into, record,
            )


def _finite(name: str, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise FieldError(name, f"{name} must be a finite number, got {value!r}")
    return value


def _texts(table: str, **fields: object) -> None:
    """ValueError naming the first of ``fields`` that is not a non-empty string."""
    for name, v in fields.items():
        if not isinstance(v, str) or not v:
            raise ValueError(f"{table}: {name} must be a non-empty string, got {v!r}")


class Store:
    """The spasmwatch database. ``Store(path)`` creates or migrates it; see docs/store.md."""

    def __init__(
        self,
        path: Path,
        *,
        _readonly: bool = False,
        _unopened: StoreError | None = None,
        known: KnownStores | None = None,
        claim: Callable[[], None] | None = None,
        _checked: Checked | None = None,
        makes: bool = True,
        writes: tuple[str, ...] = (),
        later: bool = False,
        progress: _db.Progress | None = None,
    ) -> None:
        """``makes`` False: the store must be there (a command found it): the open makes no folder and no
        file, and one gone since it was found (its disk unmounted) is a StoreError, not a new, empty store.
        ``writes``: the only tables the caller writes into ('spasmwatch note': notes): the open reads
        those through, not every page, when it writes nothing itself (_db._check_sound). ``later`` (the
        daemon's start): the open leaves the epochs and STATUS rows unread (_db.READ_AFTER_START) when it
        writes nothing itself, ``unread`` then True: the caller reads them through after. ``progress``: told
        the long steps of its migration as they advance (_db.connect: the daemon's start tells systemd)."""
        self.path = Path(path)
        self.readonly = _readonly
        self._makes = makes
        self._writes = writes
        # The pages of _db.READ_AFTER_START were not read at the open (``later``): the daemon reads them
        # through after its start (daemon/backups.py), and sets this False once it has.
        self.unread = False
        # Why no copy of the store was kept before this process migrated it (_db.Opened.not_kept): said by
        # the daemon's status until its restart (daemon/backups.py). None: kept, or no migration.
        self.upgrade_copy_not_kept: str | None = None
        self._lock = threading.RLock()
        # Why it is not open (``may_fail``): every call raises it, ``reopen`` tries again.
        self.open_error = _unopened
        # A call found the file damaged (``shut``): ``reopen`` checks it with integrity_check, as
        # what a call finds may be what the open's quick_check does not look for (_db._check_sound).
        self._found_damaged = False
        self._known, self._claim = known, claim
        # The lazy commits' clock (s, monotonic; a test's own) and the time of the latest synced commit;
        # the connection set to synchronous=NORMAL now, if any (a new one is FULL: _db.connect).
        self._clock: Callable[[], float] = time.monotonic
        self._synced_s = -math.inf
        self._normal: sqlite3.Connection | None = None
        # A transaction() that is not lazy was made inside the lazy one under way, or ``synced_later``
        # asked in it: synced at its end (``_tx``), those futures done then.
        self._owed = False
        self._owed_done: list[Future[None]] = []
        # The lazy commits' sync a minute and the checkpoints, off the committing thread (the daemon's loop).
        self._walsync = WalSync(self.path, lambda: self._conn is not None and self.open_error is None)
        self._conn: sqlite3.Connection | None = None if _unopened else self._connect(checked=_checked, later=later, progress=progress)

    @classmethod
    def open_readonly(cls, path: Path) -> Store:
        """For exports and CLI readers: nothing this object does can change the file."""
        return cls(path, _readonly=True)

    @classmethod
    def may_fail(
        cls,
        path: Path,
        known: KnownStores | None = None,
        claim: Callable[[], None] | None = None,
        checked: Checked | None = None,
        later: bool = False,
        progress: _db.Progress | None = None,
    ) -> Store:
        """``Store(path)``, or when it cannot be opened (damaged, newer, not this account's to open,
        an I/O error, a folder not writable, or ``known`` and not there: ``_connect``) a store not
        open: ``open_error`` says why, every call raises a StoreError saying it, and ``reopen`` tries
        again. The daemon monitors without its store rather than not at all (docs/store.md "A store
        that cannot be opened"). ``checked``: what ``known.check(path)`` found just before (the
        daemon's start, which asks it to know whether to make the store's folder and take its lock
        now), taken as this open's check rather than asked again; None: asked as it opens. ``later``,
        ``progress``: ``Store``'s."""
        if checked is not None and checked.missing is not None:
            return cls(path, _unopened=checked.missing, known=known, claim=claim)
        try:
            return cls(path, known=known, claim=claim, _checked=checked, later=later, progress=progress)
        except StoreError as e:
            return cls(path, _unopened=e, known=known, claim=claim)

    def _connect(
        self, thorough: bool = False, checked: Checked | None = None, later: bool = False, progress: _db.Progress | None = None
    ) -> sqlite3.Connection:
        """The connection, made (``_db.connect``). ``known`` (the daemon's): a store opened before that
        is not there now (its disk not mounted yet) is a StoreMissing, not made again empty, a
        different store there is a DifferentStore, not written into (``checked``: it was asked just
        before), and a store opened is recorded with its id; ``claim`` (the daemon's lock beside the
        store) is called first. The check's reads of the record and the file's id are the open's
        (``unpin`` and ``remember`` read the record again only to write it). ``later``: ``Store``'s (the
        first open's alone: a try again, in a worker thread, reads every page); ``progress`` too (a try again
        comes after the daemon's READY: no start timeout runs)."""
        if self._known is not None and checked is None:
            checked = self._known.check(self.path)
        if checked is not None and checked.missing is not None:
            raise checked.missing
        if checked is None and not self._makes:
            checked = Checked(None)  # (found by the caller: as a check that found it there)
        makes = checked is None or checked.makes
        try:  # (never made where the record, or the check, says a store is: its disk may have gone since)
            if self._claim is not None:
                self._claim()  # (the lock beside the store: its folder gone since the check is the store's, below)
            unpinned = None if self._known is None or checked is None else self._known.unpin(self.path, checked)
            conn, found, self.unread, not_kept = _db.connect(
                self.path, self.readonly, thorough, makes=makes, writes=self._writes, later=later, progress=progress
            )
            self.upgrade_copy_not_kept = not_kept or self.upgrade_copy_not_kept  # (a later open migrates nothing: kept)
            if not self.readonly:  # (checkpoints are _walsync's: SQLite's own ran on the committing thread)
                self._walsync.take_over(conn)
        except StoreError as e:
            if checked is not None and (gone := vanished(self.path, checked)) is not None:
                raise gone from e
            raise
        if self._known is not None:
            try:  # (on this connection: the file may have changed since the check, or its id not been read then)
                self._known.remember(
                    self.path, _db.store_id(conn), _db.before_ids(found), unpinned, checked, bands=_db.band_ids(conn)
                )
            except BaseException:
                conn.close()
                raise
        return conn

    def reopen(self) -> bool:
        """Try again to open a store ``may_fail`` could not open (never one ``close`` closed); whether
        it is open now. The open (it reads every page: seconds for a large store on an SD card) is
        made outside the lock, so that calls meanwhile (the daemon's event loop, while this runs in
        a worker thread) are refused at once rather than held; only the connection it made is put
        in under the lock, and closed instead when a ``close`` came meanwhile."""
        with self._lock:
            if self.open_error is None:
                return self._conn is not None  # open, or closed for good
        try:
            conn = self._connect(thorough=self._found_damaged)
        except StoreError as e:
            with self._lock:
                if self._conn is None and self.open_error is not None:  # (not closed meanwhile)
                    self.open_error = e
            return False
        with self._lock:
            if self._conn is None and self.open_error is not None:
                self._conn, self.open_error, self._found_damaged = conn, None, False
                return True
        conn.close()  # closed meanwhile (or opened by another try): not opened again
        return self._conn is not None and self.open_error is None

    def shut(self, e: StoreError) -> None:
        """Use the open store no more: ``e`` (a call found the file damaged) is its ``open_error``
        from now on, as for one ``may_fail`` could not open: every call raises it, ``reopen`` tries
        again (reading it through first with integrity_check, so a damaged file stays refused). A transaction under way
        is rolled back, not committed, and the connection closed at its end (``_tx``)."""
        with self._lock:
            if self._conn is not None and self.open_error is None:
                self.open_error, self._found_damaged = e, True
                if not self._conn.in_transaction:
                    self._close_shut()

    def _close_shut(self) -> None:
        """Close a shut store's connection without a checkpoint (``_db.close_unchecked``)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _db.close_unchecked(conn, self.path)

    @staticmethod
    def default_path() -> Path:
        """``$SPASMWATCH_DATA_DIR/spasmwatch.db``, else the platform's user data dir."""
        env = os.environ.get(DATA_DIR_ENV)
        folder = Path(env) if env else Path(platformdirs.user_data_dir("spasmwatch"))
        return folder / DB_NAME

    # --- lifecycle ----------------------------------------------------------------
    def close(self, wait_s: float | None = None) -> bool:
        """Closed for good (``reopen`` opens it no more); whether it was. ``wait_s``: how long (s) to
        wait at most for a call under way in another thread (a worker's, hung on a stalled disk,
        holding the store's lock), past which the connection is left to it and to the process's
        end: False. What it had committed is in the file, what it had not is rolled back as after a
        crash (WAL). The daemon's exit (daemon/main.py): it waited for ever, until systemd's kill
        (tests/daemon/test_stop_while_store_call_hangs.py). The sync thread's jobs first, within
        the same ``wait_s`` (``WalSync.close``)."""
        end = None if wait_s is None else time.monotonic() + wait_s
        self._walsync.close(wait_s)
        if not self._lock.acquire(timeout=-1 if end is None else max(0.0, end - time.monotonic())):
            return False
        try:
            self.open_error = None  # closed for good: not opened again (reopen)
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        finally:
            self._lock.release()
        return True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _live_conn(self) -> sqlite3.Connection:
        if self._conn is None or self.open_error is not None:  # (not None: shut in a transaction)
            e = self.open_error
            raise StoreError(f"{self.path}: store is closed") if e is None else StoreError(str(e), damaged=e.damaged)
        return self._conn

    @contextmanager
    def transaction(self, lazy: bool = False) -> Iterator[None]:
        """The writes made inside it (by this thread, through this object) are committed together at
        its end, or none of them: each method's own transaction joins it as a savepoint (one that
        fails is undone alone, and raises as it would). What must not be on disk without the
        other: an alert's transition and the pushes it sends (``Daemon._transition``: a kill
        between two commits left an alarm stored as sent and nothing kept to send; docs/alerts.md).
        ``lazy``: as ``_tx``'s; a ``transaction()`` that is not lazy inside a lazy one is synced at the
        outer one's end (``_tx``: a transition and its kept push, in a cluster's merge)."""
        with self._tx(lazy, syncs=not lazy):
            yield

    @contextmanager
    def _tx(self, lazy: bool = False, syncs: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none (inside ``transaction``: a savepoint of it).
        On disk when it returns, unless ``lazy`` (a band's epoch, STATUS, the daemon's events and cluster
        rows, transitions, forgets): then in the WAL file, synced with the next synced commit, or within
        LAZY_SYNC_EVERY_S by ``_walsync``'s thread (the committing one, the daemon's event loop, waits for
        no disk; ``synced_later`` asks it at once). ``syncs`` (a ``transaction()`` that is not lazy) inside
        a lazy one has the WAL synced after the outer commit: SQLite takes no new synchronous level
        inside a transaction. A method's own write inside one (``upsert_cluster``) is as lazy as it is."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only")
        with self._lock:
            conn = self._live_conn()
            if conn.in_transaction:  # only ours: the lock is held across a transaction, and reads open none
                self._owed = self._owed or syncs
                with self._savepoint(conn):
                    yield conn
                return
            try:
                synced, self._owed, self._owed_done = self._synced(conn, lazy), False, []
                conn.execute("BEGIN IMMEDIATE")
                _db.check_writable(conn, self.path)  # (migrated meanwhile by a newer version: its marker decides)
                changes = conn.total_changes
                yield conn
                self._live_conn()  # shut meanwhile (``shut``): nothing more committed into the file
                conn.execute("COMMIT")
                # A commit that wrote no row wrote no WAL frame, so SQLite synced nothing: not the lazy
                # commits' sync (a check of the clock at each band sync that finds nothing to move).
                synced = synced and conn.total_changes != changes
                if not synced and self._owed:
                    synced = self._sync_wal()
                if synced or self._clock() - self._synced_s >= LAZY_SYNC_EVERY_S:
                    self._synced_s = self._clock()
                    if not synced:  # a lazy one a minute past the last sync: the WAL synced by its thread
                        self._walsync.sync()
                self._walsync.checkpoint_if_due()
            except BaseException as e:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                err = self._translate(e)
                self._settle_owed(err if isinstance(err, StoreError) else StoreError(f"{self.path}: not committed: {e!r}"))
                raise err from e
            else:
                self._settle_owed(None)
            finally:
                if self.open_error is not None:
                    self._close_shut()

    def _sync_wal(self) -> bool:
        """The WAL file synced on this thread (``walsync.sync_wal``): True."""
        sync_wal(self.path)
        return True

    def synced_later(self) -> Future[None]:
        """What was committed so far synced to the disk by the store's sync thread (``_walsync``), not
        the calling one (the daemon's event loop, which a synced commit held for the disk's fsync, up
        to seconds on an SD card): done once it is on disk, its exception a StoreError (the sync
        failed). Inside a transaction: once that one is committed and synced at its end, on the
        committing thread (``_owed``: a transition in a cluster's merge), its exception its failure."""
        with self._lock:
            conn = self._live_conn()
            if conn.in_transaction:  # (only ours: as in _tx)
                done: Future[None] = Future()
                self._owed = True
                self._owed_done.append(done)
                return done
            self._synced_s = self._clock()
            return self._walsync.sync()

    def _settle_owed(self, e: StoreError | None) -> None:
        """The futures of ``synced_later`` asked inside the transaction that ended: done, or ``e``."""
        owed, self._owed_done = self._owed_done, []
        for done in owed:
            if e is None:
                done.set_result(None)
            else:
                done.set_exception(e)

    def _synced(self, conn: sqlite3.Connection, lazy: bool) -> bool:
        """Whether the commit to come on ``conn`` syncs the disk (synchronous=FULL; else NORMAL, which in
        WAL mode keeps the file whole and each commit through a process crash, not a power cut): every
        one but a ``lazy`` one (synced within LAZY_SYNC_EVERY_S by ``_walsync``: ``_tx``)."""
        full = not lazy
        if full == (self._normal is conn):  # (a pragma only when the level changes: a new connection is FULL)
            conn.execute(f"PRAGMA synchronous = {'FULL' if full else 'NORMAL'}")
            self._normal = None if full else conn
        return full

    @contextmanager
    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[None]:
        """A write inside ``transaction``: undone alone when it fails (SQLite may have rolled the whole
        transaction back already, on a full disk: then there is nothing left to undo)."""
        try:
            conn.execute("SAVEPOINT tx")
            yield
            conn.execute("RELEASE tx")
        except BaseException as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO tx")
                conn.execute("RELEASE tx")
            raise self._translate(e) from e

    def _translate(self, e: BaseException) -> BaseException:
        if isinstance(e, sqlite3.IntegrityError):
            return ValueError(f"store: {e}")  # the caller's data broke a constraint
        if isinstance(e, sqlite3.Error):
            return self._error(e)
        return e

    def _error(self, e: sqlite3.Error) -> StoreError:
        """``e`` naming the file; a damaged file's also the way out (found by the fault audit: an
        export said only 'database disk image is malformed')."""
        return StoreError(f"{self.path}: {e}{_db.damage_hint(e, self.path)}", damaged=_db.is_damage(e))

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            try:
                row: Row | None = self._live_conn().execute(sql, params).fetchone()
            except sqlite3.Error as e:
                raise self._translate(e) from e
            return row

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Small results only (bounded by design: devices, open alerts, one cluster's events)."""
        with self._lock:
            try:
                return list(self._live_conn().execute(sql, params))
            except sqlite3.Error as e:
                raise self._translate(e) from e

    def _stream(self, queries: Sequence[tuple[str, Sequence[Any]]], make: Callable[[Row], T]) -> Iterator[T]:
        """Rows of ``queries`` in turn, read in one snapshot on a private read-only connection."""
        self._live_conn()  # a closed store fails at the call, not at the first next()
        return self._stream_gen([(q, list(p)) for q, p in queries], make)

    def _reader(self) -> sqlite3.Connection:
        """A private read-only connection (a long read holds neither the store's lock nor its writer)."""
        uri = _db.reading_uri(self.path)
        try:
            return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=_db.BUSY_TIMEOUT_S)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open for reading: {e}") from e

    def _stream_gen(self, queries: list[tuple[str, list[Any]]], make: Callable[[Row], T]) -> Iterator[T]:
        conn = self._reader()
        try:
            conn.execute("BEGIN")  # one snapshot across the queries
            for sql, params in queries:
                cur = conn.execute(sql, params)
                while batch := cur.fetchmany(STREAM_BATCH):
                    for r in batch:
                        yield make(r)
        except sqlite3.Error as e:
            raise self._error(e) from e
        finally:
            conn.close()

    # --- devices --------------------------------------------------------------------
    def _touch_device(self, c: sqlite3.Connection, device: str, wall_s: float, every_s: float = DEVICE_SEEN_EVERY_S) -> None:
        """The band known, its last_seen moved on to ``wall_s`` when that is ``every_s`` past it."""
        c.execute(
            "INSERT INTO devices(device_id, first_seen_wall_s, last_seen_wall_s) VALUES (?, ?, ?) "
            "ON CONFLICT(device_id) DO UPDATE SET last_seen_wall_s = excluded.last_seen_wall_s "
            "WHERE excluded.last_seen_wall_s >= last_seen_wall_s + ? AND excluded.last_seen_wall_s > last_seen_wall_s",
            (device, wall_s, wall_s, every_s),
        )

    def upsert_device(
        self,
        device_id: str,
        name: str | None = None,
        address: str | None = None,
        transport: str | None = None,
        board: str | None = None,
        firmware: str | None = None,
        wall_s: float | None = None,
        rate_hz: float | None = None,
        lazy: bool = False,
    ) -> None:
        """Record a band; a field passed as None keeps its stored value. ``lazy``: the daemon's, at
        each connect (``_tx``; its next connect writes it again)."""
        now = time.time() if wall_s is None else wall_s
        with self._tx(lazy) as c:
            self._touch_device(c, device_id, now, 0.0)  # a connect: to the second
            c.execute(
                "UPDATE devices SET name = coalesce(?, name), address = coalesce(?, address), "
                "transport = coalesce(?, transport), board = coalesce(?, board), "
                "firmware = coalesce(?, firmware), rate_hz = coalesce(?, rate_hz) WHERE device_id = ?",
                (name, address, transport, board, firmware, _finite("rate_hz", rate_hz), device_id),
            )

    def devices(self) -> list[DeviceRow]:
        return [DeviceRow(*r) for r in self._all(f"SELECT {_columns(DeviceRow)} FROM devices ORDER BY device_id")]

    def band_id(self, device: str) -> str | None:
        """The device id of band ``device``: its id, or the name it advertised (the config's
        ``[[bands]] name``, what 'status' shows first), whatever the case; None if neither, or a
        name two bands have. 'mute' took the name and the store's readers only the id."""
        rows = self._all("SELECT device_id, name FROM devices ORDER BY device_id")
        if any(r[0] == device for r in rows):
            return device
        named = [r[0] for r in rows if r[1] is not None and r[1].casefold() == device.casefold()]
        return named[0] if len(named) == 1 else None

    def unknown_device(self, device: str, where: str = "the store") -> str | None:
        """None if the store holds band ``device`` (its id or its name: band_id); else why not,
        naming the bands it does hold (a typo must not file a note, or list and export nothing, as
        if the band had seen nothing)."""
        if self.band_id(device) is not None:
            return None
        known = [f"{r[0]} ({r[1]})" if r[1] else r[0] for r in self._all("SELECT device_id, name FROM devices ORDER BY device_id")]
        return f"no band {device!r} in {where}; " + (f"it holds {', '.join(known)}" if known else "it holds no band yet")

    # --- time ----------------------------------------------------------------------
    def add_sync(
        self,
        device: str,
        boot: int,
        band_ms: int,
        wall_s: float,
        host_boot: str | None = None,
        host_boot_s: float | None = None,
        lazy: bool = False,
    ) -> list[Linked]:
        """A TIME_SYNC point; places this boot's events and epochs that had no wall time. The boot's
        first sync also places anew its rows placed through the band's boot links before, and the
        boots placed through links from it (a nearer anchor now): returns what that changed, by boot
        (this boot's own rows that only got their first wall time are not in it).

        ``host_boot``, ``host_boot_s``: the computer's boot and its since-boot seconds at ``wall_s``
        (the daemon clock's ``since_boot``), which let ``place_on_clock`` tell later that the wall
        was stepped since; None: placed by ``wall_s`` for good, as before schema v9.

        ``lazy``: the daemon's (``_tx``): a power cut may lose it with the last minute's commits, the
        rows placed by it after it with it (the WAL comes back as a prefix), and the band's next
        connect makes one again; a push waits for its transition's sync, which takes it to disk first."""
        if (host_boot is None) != (host_boot_s is None):
            raise ValueError(f"syncs: host_boot and host_boot_s come together, got {host_boot!r} and {host_boot_s!r}")
        _finite("syncs: host_boot_s", host_boot_s)
        with self._tx(lazy) as c:
            self._touch_device(c, device, wall_s)
            first = not placing.has_sync(c, device, boot)
            c.execute(
                "INSERT INTO syncs(device, boot, band_ms, wall_s, host_boot, host_boot_s) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(device, boot, band_ms) DO UPDATE SET wall_s = excluded.wall_s, "
                "host_boot = excluded.host_boot, host_boot_s = excluded.host_boot_s, stepped_s = NULL",
                (device, boot, band_ms, wall_s, host_boot, host_boot_s),
            )
            if not first:
                placing.place_boot(c, device, boot, False, {})
                return []
            changed = placing.place_near(c, device, [boot])
        return [r for r in changed if r.boot != boot or r.moved_events or r.moved_epochs]

    def syncs(self, device: str) -> list[SyncRow]:
        rows = self._all(f"SELECT {_columns(SyncRow)} FROM syncs WHERE device = ? ORDER BY boot, band_ms", (device,))
        return [SyncRow(*r) for r in rows]

    def place_on_clock(self, device: str, host_boot: str, offset_s: float, tolerance_s: float) -> list[Replaced]:
        """The host's wall reads ``offset_s`` more than its since-boot seconds now, in computer boot
        ``host_boot``. ``device``'s syncs made in that boot whose offset differs from it by over
        ``tolerance_s`` were made on a wall stepped since: each is re-dated to today's clock
        (``stepped_s``; its ``wall_s`` stays the stamp it was made with), its band boot's events
        and epochs are placed again from there, and so are those of the boots placed through the
        band's boot links from it; each stored cluster whose events all moved by one amount (to
        within ``tolerance_s``: each sync moves by the step and its own reading's error) moves with
        them (start, end, alert time); one that mixes moved and unmoved events is left to the live
        analysis's rebuild. Syncs of another computer boot (it rebooted since: nothing links
        the two boots' readings) or stored without a reading are left alone. Returns what moved, by
        band boot (the rows placed from a re-dated sync; those placed from one made since the step
        stay); nothing when no sync differs."""
        _texts("syncs", host_boot=host_boot)
        _finite("syncs: offset_s", offset_s)
        stepped, which = placing.stepped_syncs(device, host_boot, offset_s, tolerance_s)
        with self._tx() as c:
            steps: dict[int, list[float]] = {}
            for boot, step in c.execute(f"SELECT boot, ? - {placing.SYNC_OFFSET} FROM syncs WHERE {stepped}", (offset_s, *which)):
                steps.setdefault(int(boot), []).append(float(step))
            if not steps:
                return []
            c.execute(f"UPDATE syncs SET stepped_s = ? - (wall_s - host_boot_s) WHERE {stepped}", (offset_s, *which))
            moved: dict[int, float] = {}
            out = [placing.placed_again(c, device, b, max(s, key=abs), moved) for b, s in sorted(steps.items())]
            return placing.carry(c, device, out, moved, tolerance_s)  # the boots placed through links from them too

    def place_by_links(self, device: str, boots: Iterable[int], tolerance_s: float, drift_ppm: float) -> list[Replaced]:
        """Check the band's boot links within LINK_HOPS_MAX of ``boots`` whose two boots both have
        syncs: placed by their own syncs, the older boot's end and the newer one's start lie apart
        from what the link says by over ``tolerance_s`` + its error + ``drift_ppm`` of the band
        time between the two syncs used: the syncs of the boot whose latest sync was stored first,
        made in another computer boot than the other's (or without a reading), were made on a host
        clock stepped since, across a computer restart. They are re-dated through the link
        (``stepped_s``, as ``place_on_clock``), and so are the band's syncs of the computer boot of
        the one that placed that boot's end (one clock: its other boots move by as much), and the
        other bands' syncs made on that clock (the computer's step is theirs too); those boots'
        rows and those placed through links from them placed again, clusters moved with them.
        Newest link first, so a step found at the end of a chain carries down it. Returns what
        moved, by band and boot (the step: how far it moved), ``device``'s first."""
        _finite("place_by_links: tolerance_s", tolerance_s)
        with self._tx() as c:
            found: list[Replaced] = []
            moved: dict[int, float] = {}
            for boot, prev in placing.links_near(c, device, boots):
                found += placing.relink(c, device, boot, prev, tolerance_s, drift_ppm, moved)
            out: list[Replaced] = []
            for dev in dict.fromkeys(r.device for r in found):
                out += placing.carry(c, dev, [r for r in found if r.device == dev], moved, tolerance_s)
        return out

    def wall_time(self, device: str, boot: int, t_ms: int) -> float | None:
        """Wall seconds of band time ``t_ms`` of ``boot``: by its own syncs, else through the band's
        boot links from the nearest boot that has syncs (``placing.anchor``); None when neither places it."""
        with self._lock:
            try:
                c = self._live_conn()
                a = placing.anchor(c, device, boot)
                if a is None:
                    return None
                r = c.execute(placing.WALL_TIME, {"device": device, "via": a.via, "t": t_ms, "shift": a.shift_ms}).fetchone()
            except sqlite3.Error as e:
                raise self._translate(e) from e
        return None if r is None or r[0] is None else float(r[0])

    def boot_anchor(self, device: str, boot: int) -> Linked | None:
        """How ``boot`` is placed (``via``, ``hops``, ``err_s``; hops 0: its own syncs), None when it
        is not: what the daemon says of a boot placed through links. Counts left 0."""
        with self._lock:
            try:
                a = placing.anchor(self._live_conn(), device, boot)
            except sqlite3.Error as e:
                raise self._translate(e) from e
        return None if a is None else Linked(device, boot, a.via, a.hops, a.err_ms / 1000.0, 0, 0, 0, 0)

    def boot_marks(self, device: str, boot: int, seq: int | None = None) -> BootMarks | None:
        """What puts a u32 band ms of an older boot ``boot`` on its lap (``BootMarks``: its latest sync,
        the onset of its stored event at ``seq`` or the next one after it); None: ``boot`` has no sync."""
        with self._lock:
            try:
                return placing.boot_marks(self._live_conn(), device, boot, seq)
            except sqlite3.Error as e:
                raise self._translate(e) from e

    # --- band boot links -------------------------------------------------------------
    def add_boot_link(self, device: str, rec: Mapping[str, Any], received_wall_s: float | None = None) -> list[Linked]:
        """Store a BOOTLINK record (protocol dict, host boot numbers): band boot ``prev_boot``'s ms
        ``prev_ms`` was ``gap_ms`` before boot ``boot``'s ms 0, within +-``err_ms``. Idempotent by
        (device, boot): one re-delivered with other numbers keeps the stored one and goes to
        ``conflicts``. A new link places the boots with no sync of their own that it reaches (their
        rows that had no wall time, and anew those placed through a farther link); returns what
        changed, by boot (nothing for a link stored already)."""
        now = time.time() if received_wall_s is None else received_wall_s
        link = _ints(rec, _LINK_COLS, "bootlink")
        boot, prev_boot, *_, prev_ms, gap_ms, err_ms = link
        for name, v in (("prev_ms", prev_ms), ("gap_ms", gap_ms), ("err_ms", err_ms)):
            if v < 0:
                raise FieldError(name, f"bootlink record field {name!r}: {v} is negative")
        if prev_boot == boot:
            raise FieldError("prev_boot", f"bootlink record: boot {boot} linked to itself")
        values = (device, *link, now)
        with self._tx() as c:
            self._touch_device(c, device, now)
            cols = ", ".join(_LINK_COLS)
            if not c.execute(f"INSERT OR IGNORE INTO boot_links(device, {cols}, received_wall_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values).rowcount:
                _keep_conflicts(c, "boot_links", _LINK_COLS, "bootlink", [values], keys=1)
                return []
            return placing.place_near(c, device, [boot, prev_boot])

    def boot_links(self, device: str) -> list[BootLinkRow]:
        return [BootLinkRow(*r) for r in self._all(f"SELECT {_columns(BootLinkRow)} FROM boot_links WHERE device = ? ORDER BY boot", (device,))]

    def linked_events(self, device: str | None = None) -> list[Linked]:
        """Each band boot whose events are placed through the band's boot links (no sync of its own):
        its anchor, error and how many of its events are placed (``events``; the epoch and move
        counts are left 0), which exports and the report mention."""
        w, p = _where(device)
        own = "EXISTS (SELECT 1 FROM syncs s WHERE s.device = events.device AND s.boot = events.boot)"
        sql = "SELECT device, boot, count(*) FROM events" + w + (" AND" if w else " WHERE") + f" wall_t IS NOT NULL AND NOT {own}"
        out: list[Linked] = []
        for dev, boot, n in self._all(sql + " GROUP BY device, boot ORDER BY device, boot", p):
            a = self.boot_anchor(str(dev), int(boot))
            if a is not None:
                out.append(replace(a, events=int(n)))
        return out

    # --- events ----------------------------------------------------------------------
    def add_events(self, device: str, rows: Iterable[Mapping[str, Any]], received_wall_s: float | None = None, lazy: bool = False) -> int:
        """Store EVENT records (protocol dicts); returns how many were new.

        Idempotent by (device, boot, seq); one transaction for the batch. ``lazy``: the daemon's,
        for records its band still holds (``_tx``; docs/store.md "Guarantees").
        """
        return self._add_records("events", _EVENT_COLS, "event", device, rows, received_wall_s, lazy=lazy)

    def conflicts(self, device: str | None = None) -> list[tuple[str, str, dict[str, int], float]]:
        """Records that came under a stored key with other fields, as (device, kind, record,
        received wall s): the stored record was kept, these set aside (never dropped). Events and
        epochs first, then boot links (kind ``bootlink``), each in the order they came."""
        w, p = _where(device)
        rows = self._all("SELECT device, kind, record, received_wall_s FROM conflicts" + w + " ORDER BY id", p)
        rows += self._all("SELECT device, 'bootlink', record, received_wall_s FROM link_conflicts" + w + " ORDER BY id", p)
        return [(r[0], r[1], json.loads(r[2]), float(r[3])) for r in rows]

    def events(self, device: str | None = None, since: float | None = None, until: float | None = None) -> Iterator[EventRow]:
        """Events with ``since <= wall_t < until`` in wall time order.

        With no time bounds, events not yet placed (``wall_t`` None) follow, by boot and seq.
        """
        where, params = _range("wall_t", since, until, device)
        queries: list[tuple[str, Sequence[Any]]] = [
            (_EVENT_SELECT + where + (" AND" if where else " WHERE") + " wall_t IS NOT NULL ORDER BY wall_t, id", params)
        ]
        if since is None and until is None:
            w, p = _where(device)
            queries.append((_EVENT_SELECT + w + (" AND" if w else " WHERE") + " wall_t IS NULL ORDER BY device, boot, seq", p))
        return self._stream(queries, _event_row)

    def unplaced_events(self, device: str | None = None) -> list[tuple[str, int, int]]:
        """(device, boot, events) for each boot whose events no sync has placed (``wall_t`` NULL:
        a boot that never got a time sync), which a ranged query leaves out."""
        w, p = _where(device)
        sql = "SELECT device, boot, COUNT(*) FROM events" + w + (" AND" if w else " WHERE") + " wall_t IS NULL"
        sql += " GROUP BY device, boot ORDER BY device, boot"
        return [(str(r[0]), int(r[1]), int(r[2])) for r in self._all(sql, p)]

    def count_events(
        self, device: str | None = None, since: float | None = None, until: float | None = None, without_flags: int = 0
    ) -> int:
        """Stored events (placed on the wall clock when a range is given), leaving out those
        with any of ``without_flags`` set in EVENT.flags."""
        where, params = _range("wall_t", since, until, device)
        if without_flags:
            where += (" AND" if where else " WHERE") + " (flags & ?) = 0"
            params.append(without_flags)
        r = self._one("SELECT count(*) FROM events" + where, params)
        return int(r[0]) if r else 0

    def event_ids_at(self, device: str, onsets: Iterable[float], tol_s: float = 0.0005) -> list[int | None]:
        """The event id whose wall onset is within ``tol_s`` of each onset (None if none):
        links the analysis' spasms (wall times) back to stored events."""
        out: list[int | None] = []
        for t in onsets:
            r = self._one(
                "SELECT id FROM events WHERE device = ? AND wall_t BETWEEN ? AND ? ORDER BY abs(wall_t - ?) LIMIT 1",
                (device, t - tol_s, t + tol_s, t),
            )
            out.append(None if r is None else int(r[0]))
        return out

    # --- backfill bookkeeping -----------------------------------------------------------
    def next_backfill_seq(self, device: str) -> int:
        """The first seq missing after the contiguous run (events and lost ranges) from the current
        log life's first seq (0 for the first life). From the life's first, not from the lowest
        held: the first events of a connection the store refused (a disk gone, then back) were
        never asked for again. Seqs the band no longer had are lost ranges by then (``mark_lost``)."""
        with self._lock:
            cur = self.log_life(device).seq_offset  # an erased log's holes are never asked for again
            while True:
                after_lost = self._one("SELECT max(last_seq) + 1 FROM lost WHERE device = ? AND first_seq <= ? AND last_seq >= ?", (device, cur, cur))
                if after_lost is not None and after_lost[0] is not None:
                    cur = int(after_lost[0])
                    continue
                if self._one("SELECT 1 FROM events WHERE device = ? AND seq = ?", (device, cur)) is None:
                    return cur
                cur = self._end_of_run(device, cur)

    def _end_of_run(self, device: str, seq: int) -> int:
        """The first seq missing from the events after ``seq`` (which is stored)."""
        r = self._one(
            "SELECT e.seq + 1 FROM events e WHERE e.device = ?1 AND e.seq >= ?2 AND NOT EXISTS "
            "(SELECT 1 FROM events n WHERE n.device = ?1 AND n.seq = e.seq + 1) ORDER BY e.seq LIMIT 1",
            (device, seq),
        )
        assert r is not None  # the largest stored seq always qualifies
        return int(r[0])

    def mark_lost(self, device: str, first_seq: int, last_seq: int, wall_s: float | None = None) -> None:
        """Seqs the band no longer holds (LOGINFO gap): not asked for again. Empty range: no-op."""
        if last_seq < first_seq:
            return
        now = time.time() if wall_s is None else wall_s
        with self._tx() as c:
            self._touch_device(c, device, now)
            c.execute("INSERT OR IGNORE INTO lost(device, first_seq, last_seq, wall_s) VALUES (?, ?, ?, ?)", (device, first_seq, last_seq, now))

    def lost_ranges(self, device: str) -> list[LostRange]:
        rows = self._all(f"SELECT {_columns(LostRange)} FROM lost WHERE device = ? ORDER BY first_seq, last_seq", (device,))
        return [LostRange(*r) for r in rows]

    # --- log lives (a band's flash erased) -------------------------------------------------
    def log_life(self, device: str) -> LogLife:
        """The device's current log life (offsets 0 until its flash was seen erased)."""
        return _life(device, self._one(_LIFE_SELECT + _LIFE_LATEST, (device,)))

    def log_lives(self, device: str) -> list[LogLife]:
        """Every life started after an erase, oldest first (the first life has no row)."""
        return [LogLife(*r) for r in self._all(_LIFE_SELECT + " WHERE device = ? ORDER BY id", (device,))]

    def check_log_life(
        self, device: str, boot: int, next_seq: int, band_ms: int, wall_s: float, erased: bool = False
    ) -> tuple[LogLife, bool]:
        """The log life of a band saying (in its own numbers) boot ``boot``, ``next_seq``, clock
        ``band_ms`` now; starts a new one when these show its log or boot counter restarted
        (or ``erased``: the band refused a BACKFILL as past its log). Returns (life, started)."""
        with self._tx() as c:
            cur = _life(device, c.execute(_LIFE_SELECT + _LIFE_LATEST, (device,)).fetchone())
            held = _held(c, device, boot + cur.boot_offset)
            offsets = _new_offsets(cur, held, boot, next_seq, band_ms, erased)
            if offsets is None:
                return cur, False
            self._touch_device(c, device, wall_s)
            c.execute(
                "INSERT INTO log_lives(device, since_wall_s, boot_offset, seq_offset) VALUES (?, ?, ?, ?)",
                (device, wall_s, *offsets),
            )
        return LogLife(device, wall_s, *offsets), True

    # --- activity epochs -------------------------------------------------------------------
    def add_activity(self, device: str, rows: Iterable[Mapping[str, Any]], received_wall_s: float | None = None) -> int:
        """Store ACTIVITY records; idempotent by (device, boot, t_ms); returns how many were new."""
        return self._add_records("activity", _ACTIVITY_COLS, "activity", device, rows, received_wall_s, lazy=True)

    def _add_records(
        self,
        table: str,
        cols: Sequence[str],
        what: str,
        device: str,
        rows: Iterable[Mapping[str, Any]],
        received_wall_s: float | None,
        lazy: bool,
    ) -> int:
        """INSERT OR IGNORE protocol records (``cols`` of each, as ints; the first two are the
        key) into ``table`` in one transaction, placed in wall time as they are written (a boot's
        rows stored before it was placed were placed when it was: ``add_sync``, ``add_boot_link``);
        returns how many were new. One that differs from the record stored under its key is
        kept in ``conflicts``. ``lazy``: its commit may leave the disk's sync to a later one (``_tx``)."""
        now = time.time() if received_wall_s is None else received_wall_s
        records = [_ints(r, cols, what) for r in rows]
        values = [(device, *r, now) for r in records]
        if not values:
            return 0
        with self._tx(lazy) as c:
            self._touch_device(c, device, now)
            before = c.total_changes
            anchors = {boot: placing.anchor(c, device, boot) for boot in {r[0] for r in records}}
            params = [_placed_params(device, cols, r, now, anchors[r[0]]) for r in records]
            c.executemany(placing.insert_placed_sql(table, cols), params)
            new = c.total_changes - before
            if new < len(values):  # a re-delivery, or a record differing from the stored one
                _keep_conflicts(c, table, cols, what, values)
        return new

    def activity(self, device: str | None = None, since: float | None = None, until: float | None = None) -> Iterator[ActivityRow]:
        """Epochs whose end ``wall_t`` is in [since, until), in time order (placed ones only)."""
        return self._stream([_activity_query(device, since, until)], _activity_row)

    def activity_chunks(self, device: str, since: float, until: float) -> Iterator[np.ndarray]:
        """``activity(device, since, until)``'s epochs as numpy arrays of ``ACTIVITY_COLUMNS``, each of
        ``ACTIVITY_CHUNK`` epochs but the last, read in one snapshot: a year's 3 million epochs as row
        objects (``activity``), then export rows, cost 2.6 µs an epoch; read into arrays, 0.6 µs
        (bench/dayscost.py), and a chunk at a time, a year's take the memory of a week's."""
        self._live_conn()  # a closed store fails at the call, as the other reads do
        sql, params = _activity_query(device, since, until, _ACTIVITY_CODED_SELECT)
        return self._chunks_gen(sql, params)

    def _chunks_gen(self, sql: str, params: list[Any]) -> Iterator[np.ndarray]:
        conn = self._reader()
        try:
            conn.execute("BEGIN")  # one snapshot, however long the caller takes over each chunk
            cur, out, k = conn.execute(sql, params), np.empty(ACTIVITY_CHUNK, ACTIVITY_COLUMNS), 0
            while batch := cur.fetchmany(min(STREAM_BATCH, len(out) - k)):
                _unpack(np.array(batch, _ACTIVITY_CODED), out[k : k + len(batch)])
                k += len(batch)
                if k == len(out):
                    yield out
                    out, k = np.empty(ACTIVITY_CHUNK, ACTIVITY_COLUMNS), 0
            if k:
                yield out[:k]
        except sqlite3.Error as e:
            raise self._error(e) from e
        finally:
            conn.close()

    def activity_next_to(self, device: str, t: float, before: bool) -> ActivityRow | None:
        """The band's last placed epoch ending before ``t`` (``before``), else its first ending at or
        after it: what an export's coverage reads beyond its range, so a disconnection or a not-worn
        span that crosses the range's start or end is seen (one indexed row, however long ago)."""
        op, order = ("<", "DESC") if before else (">=", "ASC")
        sql = f"{_ACTIVITY_SELECT} WHERE device = ? AND wall_t {op} ? ORDER BY wall_t {order}, id {order} LIMIT 1"
        r = self._one(sql, (device, t))
        return _activity_row(r) if r is not None else None

    def activity_run_start(self, device: str, since: float, until: float, epoch_s: float, gap_s: float) -> float | None:
        """The end ``wall_t`` of the latest of the band's placed epochs (of ``epoch_s`` each) ending in
        [since, until] that begins a run: the epoch before it ends more than ``gap_s`` before it starts,
        is not worn (``analysis.sleepwake.counts_worn``), or ends before ``since``; None: no epoch
        ends in it. Where the sleep/wake estimate starts afresh (export/sleep.py)."""
        r = self._one(_RUN_START, (device, since, until, epoch_s, gap_s))
        return float(r[0]) if r is not None else None

    def event_time_next_to(self, device: str, seq: int, before: bool) -> float | None:
        """Wall time of the band's placed event with the highest seq below ``seq`` (``before``), else
        the lowest above it: the times a lost seq range lies between (seqs grow with time)."""
        op, order = ("<", "DESC") if before else (">", "ASC")
        sql = f"SELECT wall_t FROM events WHERE device = ? AND seq {op} ? AND wall_t IS NOT NULL ORDER BY seq {order} LIMIT 1"
        r = self._one(sql, (device, seq))
        return float(r[0]) if r is not None else None

    # --- status ----------------------------------------------------------------------
    def add_status(self, device: str, wall_s: float, rec: Mapping[str, Any]) -> int:
        """Keep a STATUS record (protocol dict; missing fields stored as NULL); returns its id."""
        vals = [None if rec.get(c) is None else int(rec[c]) for c in STATUS_FIELDS]
        with self._tx(lazy=True) as c:
            self._touch_device(c, device, wall_s)
            cur = c.execute(
                "INSERT INTO status(device, received_wall_s, " + ", ".join(STATUS_FIELDS) + ") "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device, wall_s, *vals),
            )
            return int(cur.lastrowid or 0)

    def latest_status(self, device: str) -> StatusRow | None:
        r = self._one(f"SELECT {_columns(StatusRow)} FROM status WHERE device = ? ORDER BY received_wall_s DESC, id DESC LIMIT 1", (device,))
        return None if r is None else StatusRow(*r)

    def status_history(self, device: str, since: float | None = None, until: float | None = None) -> Iterator[StatusRow]:
        where, params = _range("received_wall_s", since, until, device)
        return self._stream([(f"SELECT {_columns(StatusRow)} FROM status" + where + " ORDER BY received_wall_s, id", params)], lambda r: StatusRow(*r))

    # --- clusters ----------------------------------------------------------------------
    def upsert_cluster(
        self,
        device: str,
        key: str,
        start_t: float,
        end_t: float,
        count: int,
        alert_t: float | None,
        post_wake_s: float | None,
        closed: bool,
        event_ids: Sequence[int] | None = None,
        wall_s: float | None = None,
        held_ids: AbstractSet[int] | None = None,
    ) -> int:
        """Create or update the cluster ``(device, key)``; returns its id.

        ``key`` is the caller's stable identity (the same cluster after a
        restart gets the same key). ``event_ids`` replaces the cluster's
        events when given; None keeps them. ``held_ids``: the events the
        cluster's row holds now, when the caller knows (it wrote them): only
        the difference is written, so a cluster grown by one spasm costs one
        row, not its whole list again (bench/cluster_growth.py).
        """
        for name, v in (("start_t", start_t), ("end_t", end_t), ("alert_t", alert_t), ("post_wake_s", post_wake_s)):
            _finite(name, v)
        now = time.time() if wall_s is None else wall_s
        with self._tx() as c:
            self._touch_device(c, device, now)
            c.execute(
                "INSERT INTO clusters(device, key, start_t, end_t, count, alert_t, post_wake_s, closed, updated_wall_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(device, key) DO UPDATE SET "
                "start_t = excluded.start_t, end_t = excluded.end_t, count = excluded.count, "
                "alert_t = excluded.alert_t, post_wake_s = excluded.post_wake_s, closed = excluded.closed, "
                "updated_wall_s = excluded.updated_wall_s",
                (device, key, start_t, end_t, count, alert_t, post_wake_s, int(closed), now),
            )
            cid = int(c.execute("SELECT id FROM clusters WHERE device = ? AND key = ?", (device, key)).fetchone()[0])
            if event_ids is not None:
                _set_cluster_events(c, cid, event_ids, held_ids)
        return cid

    def merge_clusters(self, device: str, into: int, retired: Sequence[int]) -> int:
        """Clusters ``retired`` of ``device`` turned out to be part of cluster ``into`` (late events
        joined them, docs/host.md "Live analysis"): their rows and event lists go, their alert
        history and labels are kept, as ``into``'s (the alerts were about that cluster). An event
        is then in one cluster at most. Returns how many rows went; ``into`` itself is never one."""
        gone = [i for i in retired if i != into]
        if not gone:
            return 0
        q = ", ".join("?" * len(gone))
        with self._tx() as c:
            if c.execute("SELECT 1 FROM clusters WHERE id = ? AND device = ?", (into, device)).fetchone() is None:
                raise KeyError(into)
            for table in ("alerts", "labels"):
                c.execute(f"UPDATE {table} SET cluster_id = ? WHERE cluster_id IN ({q})", (into, *gone))
            c.execute(f"DELETE FROM cluster_events WHERE cluster_id IN ({q})", gone)
            cur = c.execute(f"DELETE FROM clusters WHERE device = ? AND id IN ({q})", (device, *gone))
            return cur.rowcount

    def cluster(self, cluster_id: int) -> ClusterRow | None:
        r = self._one(_CLUSTER_SELECT + " WHERE id = ?", (cluster_id,))
        return None if r is None else _cluster_row(r)

    def latest_cluster(self, device: str) -> ClusterRow | None:
        """The device's cluster that started last (the status page's "last cluster")."""
        r = self._one(_CLUSTER_SELECT + _LATEST_CLUSTER, (device,))
        return None if r is None else _cluster_row(r)

    def clusters(self, device: str | None = None, since: float | None = None, until: float | None = None) -> Iterator[ClusterRow]:
        """Clusters overlapping [since, until), by start time."""
        where, params = _where(device, ("end_t", ">=", since), ("start_t", "<", until))
        return self._stream([(_CLUSTER_SELECT + where + " ORDER BY start_t, id", params)], _cluster_row)

    def cluster_events(self, cluster_id: int) -> list[EventRow]:
        rows = self._all(
            _EVENT_SELECT + " WHERE id IN (SELECT event_id FROM cluster_events WHERE cluster_id = ?) ORDER BY wall_t, id",
            (cluster_id,),
        )
        return [_event_row(r) for r in rows]

    # --- alerts ------------------------------------------------------------------------
    def add_alert(
        self,
        cluster_id: int | None,
        device: str | None,
        kind: str,
        state: str,
        wall_s: float,
        text: str,
        channels: Sequence[str] = (),
        by: str | None = None,
        alert_id: int | None = None,
    ) -> AlertRow:
        """Record one state transition of the alert engine's alert ``alert_id`` (and where it was sent / who acted)."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO alerts(cluster_id, device, kind, state, wall_s, text, channels, by, alert_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cluster_id, device, kind, state, wall_s, text, json.dumps(list(channels)), by, alert_id),
            )
            aid = int(cur.lastrowid or 0)
        return AlertRow(aid, cluster_id, device, kind, state, wall_s, text, tuple(channels), by, alert_id)

    def move_alert(self, device: str, cluster_id: int, alert_id: int, to: int) -> int:
        """The rows of alert ``alert_id`` of ``device``'s cluster ``cluster_id`` put under ``to``: an
        alarm carried on under a new id (its stored one taken by an alert of this run: a late open,
        docs/store.md) has one history. How many rows moved."""
        with self._tx() as c:
            sql = "UPDATE alerts SET alert_id = ? WHERE device = ? AND cluster_id = ? AND alert_id = ?"
            return int(c.execute(sql, (to, device, cluster_id, alert_id)).rowcount)

    def claim_alert(self, device: str, alert_id: int, cluster_id: int) -> int:
        """The rows of alert ``alert_id`` of ``device`` stored under no cluster put under cluster
        ``cluster_id``: a chain's heads-up (WARNING) stored before the chain had a row, now its
        cluster's (docs/alerts.md "Wiring"), so its history is one cluster's (``move_alert`` moves it
        whole). How many rows."""
        with self._tx() as c:
            sql = "UPDATE alerts SET cluster_id = ? WHERE device = ? AND alert_id = ? AND cluster_id IS NULL"
            return int(c.execute(sql, (cluster_id, device, alert_id)).rowcount)

    def last_alert_id(self) -> int:
        """The largest alert id stored, for a restarted engine to go on after. Rows from before
        schema v5 carry none; their row ids stand in (an engine made at most one alert per row)."""
        r = self._one("SELECT max(coalesce(alert_id, id)) FROM alerts")
        return int(r[0]) if r is not None and r[0] is not None else 0

    def alert(self, alert_id: int) -> AlertRow | None:
        r = self._one(_ALERT_SELECT + " WHERE id = ?", (alert_id,))
        return None if r is None else _alert_row(r)

    def alerts(self, device: str | None = None, since: float | None = None, until: float | None = None) -> Iterator[AlertRow]:
        """Every transition in [since, until), in the order they happened."""
        where, params = _range("wall_s", since, until, device)
        return self._stream([(_ALERT_SELECT + where + " ORDER BY wall_s, id", params)], _alert_row)

    def cluster_alerts(self, device: str, cluster_ids: Sequence[int]) -> list[AlertRow]:
        """Every transition of the alerts of these clusters, whenever stamped, in the order they were
        stored: a host clock stepped since moves a cluster (``place_on_clock``) but not the wall
        times its alert rows were written at."""
        marks = ", ".join("?" * len(cluster_ids))
        sql = _ALERT_SELECT + f" WHERE device = ? AND cluster_id IN ({marks}) ORDER BY id"
        return [_alert_row(r) for r in self._all(sql, (device, *cluster_ids))]

    def alert_state(self, device: str, alert_id: int, cluster_id: int | None = None) -> str | None:
        """The state of the latest transition stored for the alert engine's ``alert_id`` of
        ``device``; with none under it, of the alarm of ``device``'s cluster ``cluster_id`` (when
        given: an alarm carried on under a new id took its rows with it, ``move_alert``; rows from
        before schema v5 have no id). None: none stored."""
        r = self._one("SELECT state FROM alerts WHERE device = ? AND alert_id = ? ORDER BY id DESC LIMIT 1", (device, alert_id))
        if r is None and cluster_id is not None:
            sql = "SELECT state FROM alerts WHERE device = ? AND cluster_id = ? AND kind = 'cluster' ORDER BY id DESC LIMIT 1"
            r = self._one(sql, (device, cluster_id))
        return None if r is None else str(r[0])

    def alert_acked_t(self, device: str, alert_id: int) -> float | None:
        """When the alert engine's ``alert_id`` of ``device`` was last acknowledged (its latest row
        with ``by``), or None: never. A band alert's ack leaves its state as it was: a kept push of it
        made before is not sent late (``outbox.why_not_resend``)."""
        r = self._one("SELECT max(wall_s) FROM alerts WHERE device = ? AND alert_id = ? AND by IS NOT NULL", (device, alert_id))
        return None if r is None or r[0] is None else float(r[0])

    def alert_acked_by(self, alert_id: int) -> str | None:
        """Who first acknowledged the alert engine's alert ``alert_id`` (its first row with ``by``, as
        the engine keeps the first: a second ack changes nothing), or None: nobody. An ack of it once
        over names them (``Daemon.ack``): its closing row has no ``by``. A cluster's alarm is its own,
        not its WARNING's (whose ack row it may follow): only rows after its ALARM count, as the
        engine's ``acked_by`` starts again at the alarm."""
        alarm = "SELECT max(id) FROM alerts WHERE alert_id = ? AND state = 'ALARM' AND by IS NULL"
        sql = f"SELECT by FROM alerts WHERE alert_id = ? AND by IS NOT NULL AND id > coalesce(({alarm}), 0) ORDER BY id LIMIT 1"
        r = self._one(sql, (alert_id, alert_id))
        return None if r is None else str(r[0])

    def latest_alert(self, alert_id: int) -> AlertRow | None:
        """The latest transition stored of the alert engine's alert ``alert_id``, of any band, or
        None: none (an ack of an alert over is told from one never made, ``Daemon.ack``)."""
        r = self._one(_ALERT_SELECT + " WHERE alert_id = ? ORDER BY id DESC LIMIT 1", (alert_id,))
        return None if r is None else _alert_row(r)

    def alert_history(self, device: str, alert_id: int) -> list[AlertRow]:
        """Every transition stored of the alert engine's alert ``alert_id`` of ``device``, in the
        order they were stored (a restarted daemon reads a band alert's raise and its ack)."""
        return [_alert_row(r) for r in self._all(_ALERT_SELECT + " WHERE device = ? AND alert_id = ? ORDER BY id", (device, alert_id))]

    def latest_alert_t(self, device: str, kind: str, state: str, before: float | None = None) -> float | None:
        """When an alert of ``device``'s ``kind`` last moved to ``state`` (an acknowledgement, a row
        with ``by``, is none), before ``before`` when given, or None: never. A daemon's once-per-boot
        notice asks it whether this boot had it already (before a restart) or an earlier one did."""
        sql = "SELECT max(wall_s) FROM alerts WHERE device = ? AND kind = ? AND state = ? AND by IS NULL"
        params: tuple[Any, ...] = (device, kind, state)
        if before is not None:
            sql, params = sql + " AND wall_s < ?", (*params, before)
        r = self._one(sql, params)
        return None if r is None or r[0] is None else float(r[0])

    def latest_alert_id(self, device: str, kind: str) -> int | None:
        """The alert engine's id of ``device``'s latest alert of ``kind`` (its latest row's), or None:
        none, or stored before schema v5. A restarted daemon reads its history (``alert_history``)."""
        sql = "SELECT alert_id FROM alerts WHERE device = ? AND kind = ? ORDER BY id DESC LIMIT 1"
        r = self._one(sql, (device, kind))
        return None if r is None or r[0] is None else int(r[0])

    def open_alerts(self, device: str | None = None) -> list[AlertRow]:
        """The latest transition of each alert (device, kind, cluster) not in an end state."""
        ends = ", ".join(f"'{s}'" for s in ALERT_END_STATES)
        sql = (
            _ALERT_SELECT + " WHERE id IN (SELECT max(id) FROM alerts GROUP BY device, kind, cluster_id) "
            f"AND upper(state) NOT IN ({ends})"
        )
        params: list[Any] = []
        if device is not None:
            sql += " AND device = ?"
            params.append(device)
        return [_alert_row(r) for r in self._all(sql + " ORDER BY wall_s, id", params)]

    # --- outbox: notifications handed on, not yet acknowledged ---------------------------------
    def keep_outgoing(
        self, channel: str, key: str, device: str, payload: str, created_t: float, urgency: int, limit: int
    ) -> list[str]:
        """Keep one notification of ``channel`` until ``forget_outgoing``; a key kept already stays as
        it was. At most ``limit`` per channel: beyond it the least urgent go, oldest first; returns
        the keys that went (the new one among them if it is the least urgent and all others are more)."""
        _texts("outbox", channel=channel, key=key, device=device, payload=payload)
        if isinstance(urgency, bool) or not isinstance(urgency, int):
            raise ValueError(f"outbox: urgency must be an integer, got {urgency!r}")
        if limit < 1:
            raise ValueError(f"outbox: limit must be at least 1, got {limit!r}")
        _finite("outbox: created_t", created_t)
        if self._one("SELECT 1 FROM outbox WHERE channel = ? AND key = ?", (channel, key)) is not None:
            # The send's keep after the dispatcher's: no commit. It was a synced one that wrote nothing,
            # so synced nothing either, yet it put the lazy commits' next sync a minute off (``_tx``).
            return []
        with self._tx() as c:
            c.execute(
                "INSERT INTO outbox(channel, key, device, payload, created_t, urgency, kept_wall_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(channel, key) DO NOTHING",
                (channel, key, device, payload, created_t, urgency, time.time()),
            )
            over = int(c.execute("SELECT count(*) FROM outbox WHERE channel = ?", (channel,)).fetchone()[0]) - limit
            if over <= 0:
                return []
            gone = c.execute(
                "SELECT id, key FROM outbox WHERE channel = ? ORDER BY urgency, id LIMIT ?", (channel, over)
            ).fetchall()
            c.executemany("DELETE FROM outbox WHERE id = ?", [(r[0],) for r in gone])
        return [str(r[1]) for r in gone]

    def outgoing(self, channel: str) -> list[OutgoingRow]:
        """What ``channel`` keeps, in the order it was kept (bounded by ``keep_outgoing``'s limit)."""
        return [OutgoingRow(*r) for r in self._all(_OUTGOING_SELECT + " WHERE channel = ? ORDER BY id", (channel,))]

    def forget_outgoing(self, channel: str, keys: Iterable[str]) -> int:
        """The receiver acknowledged these: nothing to send again. Returns how many went. A lazy
        commit (``_tx``): it was a synced one on the daemon's event loop after each push taken; a
        power cut may lose the last minute's, whose pushes the next start sends again (with the same
        key, if still true: outbox.py ``why_not_resend``), never one lost."""
        with self._tx(lazy=True) as c:
            cur = c.executemany("DELETE FROM outbox WHERE channel = ? AND key = ?", [(channel, k) for k in keys])
            return int(cur.rowcount)

    def keep_retained(self, channel: str, device: str, topic: str, payload: str) -> None:
        """The latest state ``channel`` published for ``device`` on ``topic`` (replaces the one before)."""
        _texts("retained", channel=channel, device=device, topic=topic, payload=payload)
        with self._tx() as c:
            c.execute(
                "INSERT INTO retained(channel, device, topic, payload, wall_s) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(channel, device, topic) DO UPDATE SET payload = excluded.payload, wall_s = excluded.wall_s",
                (channel, device, topic, payload, time.time()),
            )

    def forget_retained(self, channel: str, device: str) -> int:
        """What ``channel`` kept for ``device`` (a band taken out of the config: a restart must not
        re-say its state and bring it back to Home Assistant). Returns the rows removed."""
        with self._tx() as c:
            return int(c.execute("DELETE FROM retained WHERE channel = ? AND device = ?", (channel, device)).rowcount)

    def kept_retained(self, channel: str) -> list[RetainedRow]:
        """One row per band and topic ``channel`` published on."""
        sql = "SELECT channel, device, topic, payload, wall_s FROM retained WHERE channel = ? ORDER BY device, topic"
        return [RetainedRow(*r) for r in self._all(sql, (channel,))]

    # --- daily summaries ----------------------------------------------------------------------
    def claim_summary(self, device: str, day: str, wall_s: float) -> bool:
        """Record that ``device``'s daily summary of local ``day`` (ISO date) goes out now; False when
        one was recorded already (an earlier run of the daemon sent it: not again)."""
        _texts("summaries", device=device, day=day)
        _finite("summaries: wall_s", wall_s)
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO summaries(device, day, sent_wall_s) VALUES (?, ?, ?) ON CONFLICT(device, day) DO NOTHING",
                (device, day, wall_s),
            )
            return int(cur.rowcount) == 1

    # --- mutes ------------------------------------------------------------------------------------
    def keep_mute(self, device: str, until_wall_s: float, by: str | None, wall_s: float) -> None:
        """``device``'s notices muted until ``until_wall_s``, set at ``wall_s`` by ``by`` (None: not
        said): one set while the last holds (lengthened, shortened) keeps when it began; one set after
        it ended begins anew. Durable (a synced commit): a restart within it holds the notices still."""
        _texts("mutes", device=device)
        _finite("mutes: until_wall_s", until_wall_s)
        _finite("mutes: wall_s", wall_s)
        with self._tx() as c:
            c.execute(
                "INSERT INTO mutes(device, since_wall_s, until_wall_s, by, set_wall_s) VALUES (?, ?, ?, ?, ?) ON CONFLICT(device) DO UPDATE SET"
                " since_wall_s = CASE WHEN mutes.until_wall_s > excluded.set_wall_s THEN mutes.since_wall_s ELSE excluded.since_wall_s END,"
                " until_wall_s = excluded.until_wall_s, by = excluded.by, set_wall_s = excluded.set_wall_s",
                (device, wall_s, until_wall_s, by, wall_s),
            )

    def end_mute(self, device: str, wall_s: float) -> bool:
        """``device``'s mute lifted at ``wall_s`` (its end is then); False when none held then."""
        _finite("mutes: wall_s", wall_s)
        with self._tx() as c:
            sql = "UPDATE mutes SET until_wall_s = ?, set_wall_s = ? WHERE device = ? AND until_wall_s > ?"
            return int(c.execute(sql, (wall_s, wall_s, device, wall_s)).rowcount) == 1

    def mute(self, device: str) -> MuteRow | None:
        """``device``'s latest mute, ended or not, or None: never muted since schema v17."""
        r = self._one(f"SELECT {_columns(MuteRow)} FROM mutes WHERE device = ?", (device,))
        return None if r is None else MuteRow(*r)

    # --- time zones -------------------------------------------------------------------------------
    def record_zone(self, wall_s: float, zone: str) -> str | None:
        """The daemon words local times in ``zone`` from ``wall_s`` on. Returns the zone it replaces
        ('' for the first one a store records), or None (nothing written) when ``zone`` is the one
        recorded last: a restart in the same zone adds no row."""
        _texts("zones", zone=zone)
        _finite("zones: since_wall_s", wall_s)
        with self._tx() as c:
            last = c.execute("SELECT zone FROM zones ORDER BY since_wall_s DESC, id DESC LIMIT 1").fetchone()
            if last is not None and last[0] == zone:
                return None
            c.execute("INSERT INTO zones(since_wall_s, zone) VALUES (?, ?)", (wall_s, zone))
            return "" if last is None else str(last[0])

    def zones(self, since: float, until: float) -> list[tuple[float, str]]:
        """(since_wall_s, zone) of each zone the daemon was in over [since, until), in time order:
        the one recorded last before ``since`` (it was in it then), and each recorded in the span.
        None recorded: [] (a store from before schema v13, or no daemon run on it since; one read
        as it is, ``schema.READABLE_FROM_VERSION``, has no table for them)."""
        if self.schema_version < ZONES_VERSION:
            return []
        rows = self._all("SELECT since_wall_s, zone FROM zones WHERE since_wall_s < ? ORDER BY since_wall_s, id", (until,))
        before = [i for i, r in enumerate(rows) if r[0] <= since]
        return [(float(r[0]), str(r[1])) for r in rows[before[-1] if before else 0 :]]

    def first_data(self, device: str | None = None) -> float | None:
        """The earliest wall time of anything a report shows (an epoch, an event, a cluster, a note,
        a treatment) of ``device`` (None: any band), None when there is none; each table read by an
        index, so a year's store answers at once. A report's range is held to it (commands/report)."""
        return self._data_at("MIN", device)

    def last_data(self, device: str | None = None) -> float | None:
        """The latest wall time of anything a report shows (``first_data``'s rows), None for none."""
        return self._data_at("MAX", device)

    def _data_at(self, agg: str, device: str | None) -> float | None:
        """``first_data`` (``agg`` MIN) or ``last_data`` (MAX)."""
        bands = [device] if device is not None else [d.device_id for d in self.devices()]
        found = [
            r[0]
            for band in bands
            for col, table in (("wall_t", "activity"), ("wall_t", "events"), ("start_t", "clusters"))
            if (r := self._one(f"SELECT {agg}({col}) FROM {table} WHERE device = ?", (band,))) is not None and r[0] is not None
        ]
        # Notes about no band are every band's (Store.notes); treatments are the child's
        notes = f"SELECT {agg}(wall_s) FROM notes" + ("" if device is None else " WHERE device IS NULL OR device = ?")
        for sql, params in ((notes, () if device is None else (device,)), (f"SELECT {agg}(wall_s) FROM treatments", ())):
            if (r := self._one(sql, params)) is not None and r[0] is not None:
                found.append(r[0])
        if not found:
            return None
        return float(min(found) if agg == "MIN" else max(found))

    # --- notification channels failing ----------------------------------------------------------
    def keep_failing(self, channel: str, since_wall_s: float, error: str, fingerprint: str | None = None) -> None:
        """``channel``'s delivery failed, under the settings of ``fingerprint``: kept until
        ``forget_failing``. One kept already stays as it was (the first failure in a row is what
        the family is shown)."""
        _texts("channels_failing", channel=channel)
        if not isinstance(error, str):
            raise ValueError(f"channels_failing: error must be a string, got {error!r}")
        _finite("channels_failing: since_wall_s", since_wall_s)
        with self._tx() as c:
            c.execute(
                "INSERT INTO channels_failing(channel, since_wall_s, error, fingerprint) VALUES (?, ?, ?, ?) ON CONFLICT(channel) DO NOTHING",
                (channel, since_wall_s, error, fingerprint),
            )

    def forget_failing(self, channel: str) -> bool:
        """``channel`` delivered again (or is no longer configured); False when it was not kept."""
        with self._tx() as c:
            return int(c.execute("DELETE FROM channels_failing WHERE channel = ?", (channel,)).rowcount) == 1

    def failing_channels(self) -> list[FailingRow]:
        """The channels kept failing, by name."""
        sql = "SELECT channel, since_wall_s, error, fingerprint FROM channels_failing ORDER BY channel"
        return [FailingRow(*r) for r in self._all(sql)]

    # --- a channel renamed -----------------------------------------------------------------------
    def rename_channel(self, old: str, new: str) -> int:
        """Move what is kept under channel ``old`` to ``new`` (an ntfy channel called after its
        topic until 2026-12-05): its outbox (resent under ``new``), retained states, failing
        record (its error's mentions of ``old`` too) and the alerts' channel lists. A row ``new``
        has already (the same key, band and topic) wins; the old one goes, except a failing record:
        the earlier of the two is the first failure in a row. Returns the rows moved."""
        _texts("rename_channel", old=old, new=new)
        moved = 0
        with self._tx() as c:
            earlier = "(SELECT since_wall_s FROM channels_failing WHERE channel = ?)"  # NULL: none kept, nothing goes
            c.execute(f"DELETE FROM channels_failing WHERE channel = ? AND since_wall_s > {earlier}", (new, old))
            for table in ("outbox", "retained", "channels_failing"):
                moved += int(c.execute(f"UPDATE OR IGNORE {table} SET channel = ? WHERE channel = ?", (new, old)).rowcount)
                c.execute(f"DELETE FROM {table} WHERE channel = ?", (old,))
            c.execute("UPDATE channels_failing SET error = replace(error, ?, ?) WHERE channel = ?", (old, new, new))
            # alerts.channels is a JSON list: the quoted name, as json.dumps wrote it, is one element.
            q_old, q_new = json.dumps(old), json.dumps(new)
            moved += int(c.execute("UPDATE alerts SET channels = replace(channels, ?, ?) WHERE instr(channels, ?) > 0", (q_old, q_new, q_old)).rowcount)
        return moved

    # --- labels, notes, treatments -----------------------------------------------------------
    def label_cluster(self, cluster_id: int, label: str, by: str | None, wall_s: float) -> LabelRow:
        """Label a cluster (history kept; the latest counts). ValueError / KeyError."""
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
        with self._tx() as c:
            if c.execute("SELECT 1 FROM clusters WHERE id = ?", (cluster_id,)).fetchone() is None:
                raise KeyError(cluster_id)
            cur = c.execute("INSERT INTO labels(cluster_id, label, by, wall_s) VALUES (?, ?, ?, ?)", (cluster_id, label, by, wall_s))
            lid = int(cur.lastrowid or 0)
        return LabelRow(lid, cluster_id, label, by, wall_s)

    def label_of(self, cluster_id: int) -> LabelRow | None:
        r = self._one(f"SELECT {_columns(LabelRow)} FROM labels WHERE cluster_id = ? ORDER BY id DESC LIMIT 1", (cluster_id,))
        return None if r is None else LabelRow(*r)

    def labels(self, cluster_id: int) -> list[LabelRow]:
        return [LabelRow(*r) for r in self._all(f"SELECT {_columns(LabelRow)} FROM labels WHERE cluster_id = ? ORDER BY id", (cluster_id,))]

    def add_note(self, wall_s: float, kind: str, text: str, device: str | None = None, by: str | None = None) -> NoteRow:
        text = check_note(kind, text)  # trimmed here, so 'spasmwatch note' and the web API keep the same text
        # A note filed under a band the store never saw would be in no export or report of it.
        if device is not None and (why := self.unknown_device(device)) is not None:
            raise FieldError("device", why)
        device = None if device is None else self.band_id(device)  # filed under its id, named or not
        with self._tx() as c:
            cur = c.execute("INSERT INTO notes(wall_s, kind, text, device, by) VALUES (?, ?, ?, ?, ?)", (wall_s, kind, text, device, by))
            nid = int(cur.lastrowid or 0)
        return NoteRow(nid, wall_s, kind, text, device, by)

    def notes(self, since: float | None = None, until: float | None = None, device: str | None = None) -> Iterator[NoteRow]:
        """Notes in [since, until); with ``device``, that band's and those about no band."""
        where, params = _range("wall_s", since, until)
        if device is not None:
            where += (" AND" if where else " WHERE") + " (device IS NULL OR device = ?)"
            params.append(device)
        return self._stream([(_NOTE_SELECT + where + " ORDER BY wall_s, id", params)], lambda r: NoteRow(*r))

    def add_treatment(
        self,
        wall_s: float,
        drug: str,
        action: str,
        dose: float | None = None,
        unit: str | None = None,
        note: str | None = None,
        by: str | None = None,
    ) -> TreatmentRow:
        """A treatment change; common drug names are written one way (``acth`` -> ``ACTH``)."""
        name = normalise_drug(drug)
        if action not in TREATMENT_ACTIONS:
            raise ValueError(f"treatment action must be one of {', '.join(TREATMENT_ACTIONS)}, got {action!r}")
        if dose is not None and (_finite("dose", dose) or 0.0) < 0:
            raise FieldError("dose", f"dose must not be negative, got {dose:g}")
        if dose is not None and not (unit or "").strip():  # "vigabatrin change 100" reads as mg, or mg/kg/day
            raise FieldError("unit", f"dose {dose:g} needs its unit (e.g. mg/kg/day, IU/m2/day)")
        note = (note or "").strip() or None  # kept as a caregiver note is: trimmed, a blank one is none
        unit = (unit or "").strip() or None
        if note is not None:
            check_note_length(note, "note")  # printed in 'treatment list', the report and the exports, as a note is
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO treatments(wall_s, drug, action, dose, unit, note, by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (wall_s, name, action, dose, unit, note, by),
            )
            tid = int(cur.lastrowid or 0)
        return TreatmentRow(tid, wall_s, name, action, dose, unit, note, by)

    def treatments(self, since: float | None = None, until: float | None = None) -> Iterator[TreatmentRow]:
        where, params = _range("wall_s", since, until)
        return self._stream([(_TREATMENT_SELECT + where + " ORDER BY wall_s, id", params)], lambda r: TreatmentRow(*r))

    # --- maintenance ---------------------------------------------------------------------
    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"`` for a sound file."""
        rows = self._all("PRAGMA integrity_check")
        return "\n".join(str(r[0]) for r in rows)

    @property
    def store_id(self) -> str | None:
        """The id made with the store (schema.STORE_ID_VERSION): the daemon's record tells its store from
        a different one at the same path by it (known.py). None only in a store opened read-only that
        is not migrated yet."""
        with self._lock:
            try:
                return _db.store_id(self._live_conn())
            except sqlite3.Error as e:
                raise self._translate(e) from e

    @property
    def schema_version(self) -> int:
        r = self._one("PRAGMA user_version")
        return int(r[0]) if r else 0
