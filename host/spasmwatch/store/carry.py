"""What the host alone saved after a backup, carried into it as 'spasmwatch store restore' puts it
back (docs/store.md "Backups").

A band sends again the events its flash still holds; the notes, treatments, labels,
acknowledgements (alert transitions), epochs and STATUS rows the host wrote after the copy are in
the file the restore replaces alone. ``carry`` reads them from it, as 'store recover' reads a
damaged store (table by table, row by row, stepping over the rowids it cannot read:
recover.readable), into the copy about to take the store's place. The file is read where it is,
read-only, unless it is cut short (shorter than its header says: SQLite reads none of it), when a
copy extended with zeros is read (recover.readable_copy): a copy of a year's store is 350 MB more on
a disk the restore has just put the backup's copy on.

"After the backup" is by rowid: a row written after the copy takes an id past every row of its table
in it (SQLite gives the largest + 1; these tables are never pruned), whatever time it carries (a
treatment typed today, dated the day it started). A row the backup holds already (every column but
its id equal; an epoch by its key) is not carried again. A label's or alert's cluster is found in the
backup by its key (device, key: the same cluster the daemon finds again from the re-sent events);
one made after the backup is carried too, without its events (the daemon links them as the band
sends them again). A band first seen after the backup gets its devices row again, by id
(recover.remake_devices). Nothing here may fail a restore: a file that cannot be read at all is said
so, and nothing is carried.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from spasmwatch.store import pagescan, shape
from spasmwatch.store._db import reading_uri
from spasmwatch.store.recover import Skipped, header_size, page_tables, readable, readable_copy, remake_devices, remove_with_sides

# The tables carried, in this order (the alerts' and labels' clusters are carried as they need them).
CARRIED = ("status", "activity", "notes", "treatments", "alerts", "labels")
# Those whose rows name a cluster (clusters.id), found again in the backup by its (device, key).
_NAMES_CLUSTER = ("alerts", "labels")
READING_SUFFIX = ".carrying"  # the copy of a replaced file cut short read from: removed after, and by the next try


@dataclass
class Carried:
    """What ``carry`` did: rows carried per table (those with any), clusters and bands carried for them,
    the rowid ranges that could not be read, rows read but not carried, and why nothing was (error)."""

    rows: dict[str, int] = field(default_factory=dict)
    clusters: int = 0  # clusters made after the backup, carried for their alerts or labels
    devices: int = 0  # bands first seen after the backup: their row made again, by id
    skipped: list[Skipped] = field(default_factory=list)
    # by table: rows read but not carried (their cluster could not be read, or a constraint of the backup's table refused them)
    dropped: dict[str, int] = field(default_factory=dict)
    # by table: the rowids of rows read off cells a write cut short left zeros in (pagescan.cut_rows): not carried
    cut: dict[str, list[int]] = field(default_factory=dict)
    error: str | None = None  # the replaced file could not be read, or the copy written: nothing carried


def carry(replaced: Path, into: Path) -> Carried:
    """The rows of ``replaced`` written after the backup ``into`` was made, written into ``into`` in
    one transaction (nothing on an error). Never raises for what it meets in either file."""
    result = Carried()
    copy = into.with_name(into.name + READING_SUFFIX)
    try:
        remove_with_sides(copy)  # an interrupted try's
        source = replaced
        if replaced.stat().st_size < header_size(replaced):
            readable_copy(replaced, copy)
            source = copy
        src = sqlite3.connect(reading_uri(source), uri=True, isolation_level=None)
        try:
            dst = sqlite3.connect(into, isolation_level=None)
            try:
                _carry_all(src, dst, source, result)
            finally:
                dst.close()
        finally:
            src.close()
    except (OSError, sqlite3.Error) as e:  # (rolled back: the backup as it was)
        return Carried(error=f"{replaced} could not be read, or the rows written ({e})")
    finally:
        remove_with_sides(copy)
    return result


# Names folded (shape.folded): SQLite's are case-blind, a table made again by hand as NOTES is notes.
def _tables(conn: sqlite3.Connection) -> set[str]:
    return {shape.folded(str(r[0])) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [shape.folded(str(r[1])) for r in conn.execute(f"PRAGMA table_info({table})")]


def _carry_all(src: sqlite3.Connection, dst: sqlite3.Connection, source: Path, result: Carried) -> None:
    have, want = _tables(src), _tables(dst)  # (a file of another schema version: what both have)
    carried = [t for t in CARRIED if t in have and t in want]
    after = {t: int(dst.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0]) for t in carried}
    # The cells cut mid-write among those read: the rows carried, and the clusters they name (any: few).
    cut = pagescan.cut_rows(source, [t for t in page_tables(src) if t.name in {*carried, "clusters"}], after)
    clusters = _Clusters(src, dst, cut, result)
    dst.execute("BEGIN")
    try:
        for table in carried:
            _carry_table(src, dst, table, after[table], clusters, cut, result)
        result.devices = remake_devices(dst)
        dst.execute("COMMIT")
    except BaseException:
        dst.execute("ROLLBACK")
        raise
    result.rows = {t: n for t, n in result.rows.items() if n}


def _carry_table(
    src: sqlite3.Connection, dst: sqlite3.Connection, table: str, after: int, clusters: _Clusters, cut: pagescan.Cut, result: Carried
) -> None:
    """The rows of ``table`` past rowid ``after`` (the backup's last) read from ``src`` into ``dst``."""
    ours = set(_columns(src, table))
    cols = [c for c in _columns(dst, table) if c in ours]
    insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) ON CONFLICT DO NOTHING"
    # (IS: NULLs equal; the tables' own indexes on time and cluster serve it)
    same = f"SELECT 1 FROM {table} WHERE " + " AND ".join(f"{c} IS ?" for c in cols if c != "id") + " LIMIT 1"
    at = cols.index("cluster_id") if table in _NAMES_CLUSTER and "cluster_id" in cols else None
    n = 0
    for rowid, found in readable(src, table, cols, result.skipped, after):
        if cut.holds(table, rowid, cols, found):
            result.cut.setdefault(table, []).append(rowid)
            continue
        row = list(found)
        cluster = row[at] if at is not None else None
        if at is not None and isinstance(cluster, int):  # (NULL: a band's alert, of no cluster)
            row[at] = clusters.mapped(cluster)
            if row[at] is None:
                result.dropped[table] = result.dropped.get(table, 0) + 1
                continue
        if dst.execute(same, [v for c, v in zip(cols, row) if c != "id"]).fetchone() is not None:
            continue  # the backup holds it already
        try:
            n += int(dst.execute(insert, row).rowcount)
        except sqlite3.IntegrityError:  # (a CHECK or NOT NULL of the backup's own table)
            if cut.headless(table, rowid):  # (its record's header cut: NULLs)
                result.cut.setdefault(table, []).append(rowid)
            else:
                result.dropped[table] = result.dropped.get(table, 0) + 1
    result.rows[table] = n


class _Clusters:
    """The backup's cluster id for a cluster id of the replaced file, by the cluster's (device, key);
    a cluster the backup lacks carried into it (its row alone: the daemon links its events as the band
    sends them again). None: its row cannot be read in the replaced file (or was cut mid-write)."""

    def __init__(self, src: sqlite3.Connection, dst: sqlite3.Connection, cut: pagescan.Cut, result: Carried) -> None:
        self.src, self.dst, self.cut, self.result = src, dst, cut, result
        self.known: dict[int, int | None] = {}

    def mapped(self, cluster_id: int) -> int | None:
        if cluster_id not in self.known:
            self.known[cluster_id] = self._find(cluster_id)
        return self.known[cluster_id]

    def _find(self, cluster_id: int) -> int | None:
        ours = set(_columns(self.src, "clusters"))
        cols = [c for c in _columns(self.dst, "clusters") if c in ours and c != "id"]
        try:
            row = self.src.execute(f"SELECT {', '.join(cols)} FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
        except sqlite3.DatabaseError:  # (its page damaged)
            return None
        if row is None or self.cut.holds("clusters", cluster_id, cols, row):
            return None
        values = dict(zip(cols, row))
        there = self.dst.execute("SELECT id FROM clusters WHERE device = ? AND key = ?", (values["device"], values["key"])).fetchone()
        if there is not None:
            return int(there[0])
        cur = self.dst.execute(f"INSERT INTO clusters ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", row)
        self.result.clusters += 1
        return int(cur.lastrowid or 0)
