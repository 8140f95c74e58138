"""Where a band's times fall on the host's wall clock: placing its boots' events and epochs.

A band counts ms since its boot. Each boot is placed by its own time syncs (``syncs``); a boot no
sync reached, through the band's boot links (``boot_links``, BOOTLINK records) from the nearest boot
that has one; a sync made on a host clock stepped since, at its instant on today's clock
(``stepped_s``). Every placing (``Store.wall_time``, the events and epochs stored) reads the one SQL
expression ``_sync_pick`` builds, so exports, reports and the live analysis agree. The functions
here run inside the store's transactions (``c``); ``Store`` (store.py) is their one caller.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from spasmwatch.store.rows import BootMarks, Linked, Replaced

# A band boot no time sync reached is placed through at most this many of the band's boot links
# (links) from the nearest boot that has a sync: each link adds its error (a few ms measured, up to
# seconds estimated) and the band re-sends only its last 16 at a connect (firmware), so a longer run of
# boots no host reached has lost its first links anyway; it bounds the walk too (2 indexed reads a link).
LINK_HOPS_MAX = 16


def _sync_pick(device: str, boot: str, t: str) -> str:
    """THE wall time of band ms ``t`` of ``boot`` (SQL expressions) from the sync points of that boot:
    the latest at or before it, else the first after (NULL without a sync). A sync made on a host
    clock stepped since counts at its instant on today's clock (``stepped_s``, schema v9). A boot
    with no sync of its own is read through its anchor (``anchor``): ``boot`` the anchor's, ``t``
    shifted by it. Every placing (``wall_time``, events, epochs) is this expression."""

    def one(cond: str, order: str) -> str:
        return (
            f"(SELECT s.wall_s + coalesce(s.stepped_s, 0.0) + (({t}) - s.band_ms) / 1000.0 FROM syncs s WHERE s.device = {device} "
            f"AND s.boot = {boot} AND s.band_ms {cond} ({t}) ORDER BY s.band_ms {order} LIMIT 1)"
        )

    return f"coalesce({one('<=', 'DESC')}, {one('>', 'ASC')})"


def _place_sql(table: str, tcol: str, placed_too: bool = False) -> str:
    """Place band boot :boot's rows that have no wall time yet by its anchor (boot :via's syncs, band
    ms + :shift); ``placed_too``: also those it now places elsewhere (only the rows that move are
    written, and counted)."""
    pick = _sync_pick(":device", ":via", f"{table}.{tcol} + :shift")
    which = f"wall_t IS NOT {pick}" if placed_too else "wall_t IS NULL"
    return f"UPDATE {table} SET wall_t = {pick} WHERE device = :device AND boot = :boot AND {which}"


TIME_COL = {"events": "onset_ms", "activity": "t_ms"}  # the band ms a row of each table is placed by


def insert_placed_sql(table: str, cols: Sequence[str]) -> str:
    """INSERT OR IGNORE of a row (named parameters: :device, each of ``cols``, :received) placed
    as it is written, by its boot's anchor (:via, :shift; :via NULL: not placed, wall_t NULL).
    A row written unplaced and then placed by ``place_boot`` in the same transaction dirtied two
    more pages (its index entries at wall_t NULL and in the unplaced index, written then deleted):
    6.1 WAL pages per 10 s epoch, the SD card's main wear (docs/host.md "A night's cost")."""
    pick = _sync_pick(":device", ":via", f":{TIME_COL[table]} + :shift")
    names = ", ".join(f":{k}" for k in cols)
    return (f"INSERT OR IGNORE INTO {table}(device, {', '.join(cols)}, received_wall_s, wall_t) "
            f"VALUES (:device, {names}, :received, {pick})")  # fmt: skip


_PLACE_EVENTS = _place_sql("events", TIME_COL["events"])
_PLACE_ACTIVITY = _place_sql("activity", TIME_COL["activity"])
_REPLACE_EVENTS = _place_sql("events", TIME_COL["events"], placed_too=True)
_REPLACE_ACTIVITY = _place_sql("activity", TIME_COL["activity"], placed_too=True)
WALL_TIME = "SELECT " + _sync_pick(":device", ":via", ":t + :shift")


@dataclass(frozen=True)
class Anchor:
    """Where a band boot's ms are placed from: band ms m of it is band ms m + ``shift_ms`` of boot
    ``via``, which has syncs, within +-``err_ms`` (``hops`` boot links away; 0: its own syncs)."""

    via: int
    shift_ms: int
    err_ms: int
    hops: int


def has_sync(c: sqlite3.Connection, device: str, boot: int) -> bool:
    return c.execute("SELECT 1 FROM syncs WHERE device = ? AND boot = ? LIMIT 1", (device, boot)).fetchone() is not None


# ms: a link's prev_ms is u32 (the band's clock modulo 2^32, 49.7 days), while the syncs of a boot
# the host synced are stored unwrapped (the session's BandClock). The boot ended at the link's
# prev_ms or a checkpoint period after it (a watchdog's 9 s more: band/bootlink.py), so never
# before its latest sync but by that: prev_ms is read on the first lap not more than this before
# that sync (an hour, as the session's BAND_CLOCK_SLACK_MS). A boot with no sync keeps its ms as
# the band sent them (its events were never unwrapped either), so its link's too. The session reads
# an older boot's u32 records on a lap not past this either (``older_on_lap``, by ``boot_marks``).
PREV_END_SLACK_MS = 3_600_000
_LAP_MS = 1 << 32
_PREV_END = (
    f"(prev_ms + {_LAP_MS} * max(0, CAST((coalesce((SELECT max(s.band_ms) FROM syncs s WHERE s.device = boot_links.device "
    f"AND s.boot = boot_links.prev_boot), 0) - {PREV_END_SLACK_MS} - prev_ms + {_LAP_MS - 1}) / {_LAP_MS} AS INTEGER)))"
)


def _links_of(c: sqlite3.Connection, device: str, boot: int) -> list[tuple[int, int, int]]:
    """(the other boot, shift ms, err ms) of each boot link of ``boot``: its band ms m is the other's
    m + shift. A link says boot ``prev_boot``'s ms ``prev_ms`` was ``gap_ms`` before boot ``boot``'s 0
    (prev_ms on the lap of prev_boot's syncs: ``_PREV_END``)."""
    back = c.execute(f"SELECT prev_boot, {_PREV_END} + gap_ms, err_ms FROM boot_links WHERE device = ? AND boot = ?", (device, boot))
    out = [(int(b), int(d), int(e)) for b, d, e in back]
    ahead = c.execute(f"SELECT boot, {_PREV_END} + gap_ms, err_ms FROM boot_links WHERE device = ? AND prev_boot = ?", (device, boot))
    return out + [(int(b), -int(d), int(e)) for b, d, e in ahead]


def anchor(c: sqlite3.Connection, device: str, boot: int) -> Anchor | None:
    """Where ``boot``'s band ms are placed from: its own syncs; else, through the band's boot links,
    the nearest boot that has syncs, either way (fewest links; of those, the least error, then the
    later boot), offsets and errors summed; None within LINK_HOPS_MAX links: not placed."""
    if has_sync(c, device, boot):
        return Anchor(boot, 0, 0, 0)
    seen = {boot}
    frontier = [(boot, 0, 0)]
    for hops in range(1, LINK_HOPS_MAX + 1):
        reached: list[tuple[int, int, int]] = []
        for b, shift, err in frontier:
            for other, d_shift, d_err in _links_of(c, device, b):
                if other not in seen:
                    seen.add(other)
                    reached.append((other, shift + d_shift, err + d_err))
        synced = [r for r in reached if has_sync(c, device, r[0])]
        if synced:
            via, shift, err = min(synced, key=lambda r: (r[2], -r[0]))
            return Anchor(via, shift, err, hops)
        if not reached:
            return None
        frontier = reached
    return None


def unsynced_near(c: sqlite3.Connection, device: str, boots: Iterable[int]) -> list[int]:
    """``boots`` and the boots linked to them through boots with no sync of their own (within
    LINK_HOPS_MAX links): those whose anchor a new sync or link of ``boots`` may change."""
    out = sorted(set(boots))
    seen = set(out)
    frontier = list(out)
    for _ in range(LINK_HOPS_MAX):
        reached = [o for b in frontier for o, _, _ in _links_of(c, device, b) if o not in seen and not has_sync(c, device, o)]
        seen.update(reached)
        out.extend(reached)
        frontier = reached
    return out


def links_near(c: sqlite3.Connection, device: str, boots: Iterable[int]) -> list[tuple[int, int]]:
    """(boot, prev_boot) of the band's boot links within LINK_HOPS_MAX links of ``boots``, newest first."""
    found: set[tuple[int, int]] = set()
    seen = set(boots)
    frontier = list(seen)
    for _ in range(LINK_HOPS_MAX):
        reached: list[int] = []
        for b in frontier:
            for boot, prev in c.execute("SELECT boot, prev_boot FROM boot_links WHERE device = ?1 AND (boot = ?2 OR prev_boot = ?2)", (device, b)):
                found.add((int(boot), int(prev)))
                other = int(prev) if boot == b else int(boot)
                if other not in seen:
                    seen.add(other)
                    reached.append(other)
        frontier = reached
    return sorted(found, reverse=True)


def boot_marks(c: sqlite3.Connection, device: str, boot: int, seq: int | None) -> BootMarks | None:
    """``Store.boot_marks``: ``boot``'s latest sync, and the onset of its stored event at ``seq`` or
    the next one after it; None when the boot has no sync (its ms are stored as the band sent them)."""
    sync = c.execute(
        "SELECT band_ms, wall_s + coalesce(stepped_s, 0.0) FROM syncs WHERE device = ? AND boot = ? ORDER BY band_ms DESC LIMIT 1",
        (device, boot),
    ).fetchone()
    if sync is None:
        return None
    after = None if seq is None else c.execute(
        "SELECT onset_ms FROM events WHERE device = ? AND boot = ? AND seq >= ? ORDER BY seq LIMIT 1", (device, boot, seq)
    ).fetchone()  # fmt: skip
    return BootMarks(int(sync[0]), float(sync[1]), None if after is None else int(after[0]))


# A sync's offset of the host's wall over its since-boot reading, on the clock as it reads now (the
# expression of the index syncs_offset, schema v16, as it is written there: SQLite uses the index for it alone).
SYNC_OFFSET = "(wall_s + coalesce(stepped_s, 0.0) - host_boot_s)"
# The index's ranges of ``stepped_syncs`` reach this part of the offsets compared (~1.8e9 s) inside the
# tolerance: a few thousand float steps (2.2e-16 of it each) past any rounding of the exact test, which
# then decides, so they hold every sync it keeps (2 ms at today's offsets, against a tolerance of seconds).
_RANGE_SLACK = 1e-12
_OUTSIDE = f"SELECT rowid FROM syncs WHERE device = ? AND host_boot = ? AND {SYNC_OFFSET} {{}} ?"


def stepped_syncs(device: str, host_boot: str, offset_s: float, tolerance_s: float) -> tuple[str, tuple[object, ...]]:
    """The WHERE clause (and its values) of ``device``'s syncs made in computer boot ``host_boot`` whose
    offset (``SYNC_OFFSET``) differs from ``offset_s`` by over ``tolerance_s``: made on a wall stepped
    since. Read by the index syncs_offset, below and above the offset (the syncs near it, all of them as
    a rule, are not read); ``Store.place_on_clock`` read all of the band's syncs of the computer boot
    until schema v16 (17.7 ms a sync at 50,000 kept: docs/host.md, bench/sync_growth.py). (Two ranges
    in one IN: an OR of them was read by a scan of the table once SQLite had statistics, ANALYZE.)"""
    slack = (abs(offset_s) + tolerance_s) * _RANGE_SLACK
    ranges = f"{_OUTSIDE.format('<')} UNION ALL {_OUTSIDE.format('>')}"
    low, high = offset_s - tolerance_s + slack, offset_s + tolerance_s - slack
    return f"rowid IN ({ranges}) AND abs(? - {SYNC_OFFSET}) > ?", (device, host_boot, low, device, host_boot, high, offset_s, tolerance_s)


# ``_own_sync``'s read of one sync, by the primary key (device, boot, band_ms): at or before the band
# ms (<=, DESC), or after it (>, ASC).
_OWN_SYNC = (
    "SELECT wall_s + coalesce(stepped_s, 0.0) + (:t - band_ms) / 1000.0, band_ms, host_boot FROM syncs "
    "WHERE device = :device AND boot = :boot AND band_ms {} :t ORDER BY band_ms {} LIMIT 1"
)


def _own_sync(c: sqlite3.Connection, device: str, boot: int, t_ms: int) -> tuple[float, int, str | None] | None:
    """The wall time of ``boot``'s band ms ``t_ms`` by its own syncs (the latest at or before it, else
    the first after, as ``_sync_pick``), the band ms of the sync that places it and that sync's computer
    boot; None: no sync of its own. Two reads of one row each (until 2026-12-07 one read sorted all of
    the boot's syncs, at each sync of a band with boot links: ``Store.place_by_links``)."""
    p = {"device": device, "boot": boot, "t": t_ms}
    r = c.execute(_OWN_SYNC.format("<=", "DESC"), p).fetchone() or c.execute(_OWN_SYNC.format(">", "ASC"), p).fetchone()
    return None if r is None else (float(r[0]), int(r[1]), r[2])


def relink(
    c: sqlite3.Connection, device: str, boot: int, prev: int, tolerance_s: float, drift_ppm: float, moved: dict[int, float]
) -> list[Replaced]:
    """``Store.place_by_links`` for the link of ``boot`` to ``prev``: when the two boots' own syncs
    disagree with it, the older boot re-dated through it, and with it every boot of the band synced
    in the same computer boot as the older one's sync (one clock, stepped by as much), and every
    other band's boot synced there on that sync's footing (``_others_on_footing``); what moved, by
    band and boot (nothing when they agree)."""
    row = c.execute(f"SELECT {_PREV_END}, gap_ms, err_ms FROM boot_links WHERE device = ? AND boot = ?", (device, boot)).fetchone()
    prev_ms, gap_ms, err_ms = (int(x) for x in row)
    end, start = _own_sync(c, device, prev, prev_ms), _own_sync(c, device, boot, 0)
    if end is None or start is None:
        return []
    off_s = start[0] - (end[0] + gap_ms / 1000.0)  # > 0: by its own syncs, ``boot`` starts later than the link says
    band_s = (prev_ms - end[1] + gap_ms + start[1]) / 1000.0
    if abs(off_s) <= tolerance_s + err_ms / 1000.0 + abs(band_s) * drift_ppm * 1e-6:
        return []
    latest = "SELECT max(rowid) FROM syncs WHERE device = ? AND boot = ?"
    prev_first = c.execute(latest, (device, prev)).fetchone()[0] < c.execute(latest, (device, boot)).fetchone()[0]
    (older, old_sync, newer, step) = (prev, end, start, off_s) if prev_first else (boot, start, end, -off_s)
    if old_sync[2] is not None and old_sync[2] == newer[2]:
        return []  # both placed by syncs of one computer boot: no step across a restart (part 1's, if any)
    # The older boot's syncs of the newer one's computer boot were placed by part 1 (place_on_clock)
    # already; the band's other boots synced on the older one's clock (its computer boot) were
    # synced on the clock stepped since as well: left, their own links to it would disagree now.
    others, on_footing = _others_on_footing(c, device, older, old_sync[1], tolerance_s)
    which = "device = ? AND ((boot = ? AND (host_boot IS NULL OR ? IS NULL OR host_boot != ?)) OR host_boot = ?)"
    params = (device, older, newer[2], newer[2], old_sync[2])
    boots = sorted({int(b) for (b,) in c.execute(f"SELECT DISTINCT boot FROM syncs WHERE {which}", params)})
    if not c.execute(f"UPDATE syncs SET stepped_s = coalesce(stepped_s, 0.0) + ? WHERE {which}", (step, *params)).rowcount:
        return []
    if others:
        c.execute(f"UPDATE syncs SET stepped_s = coalesce(stepped_s, 0.0) + ? WHERE {_ON_FOOTING}", (step, *on_footing))
    return [placed_again(c, dev, b, step, moved) for dev, b in [(device, b) for b in boots] + others]


# The syncs of the other bands (than ?) made in computer boot ? with the wall ? s over its
# since-boot reading, to within ? s: on one clock.
_ON_FOOTING = f"device != ? AND host_boot = ? AND abs({SYNC_OFFSET} - ?) <= ?"


def _others_on_footing(
    c: sqlite3.Connection, device: str, boot: int, band_ms: int, tolerance_s: float
) -> tuple[list[tuple[str, int]], tuple[str, str, float, float]]:
    """The other bands' boots with syncs made on the clock of ``device``'s sync of ``boot`` at
    ``band_ms`` (one computer boot, one offset of the wall over its since-boot reading): the step
    part 2 finds in that clock is theirs too, and a sync on another footing (moved already, by a
    step found through its own band's link) is not. Those (band, boot)s and ``_ON_FOOTING``'s values."""
    r = c.execute(f"SELECT host_boot, {SYNC_OFFSET} FROM syncs WHERE device = ? AND boot = ? AND band_ms = ?", (device, boot, band_ms)).fetchone()
    key = (device, str(r[0]), float(r[1] or 0.0), tolerance_s)
    if r[1] is None:
        return [], key  # a sync with no since-boot reading: its clock is not known to be any other's
    rows = c.execute(f"SELECT DISTINCT device, boot FROM syncs WHERE {_ON_FOOTING} ORDER BY device, boot", key)
    return [(str(d), int(b)) for d, b in rows], key


def place_boot(c: sqlite3.Connection, device: str, boot: int, anew: bool, moved: dict[int, float]) -> Linked | None:
    """Place ``boot``'s rows that have no wall time by its anchor; ``anew``: those placed before
    elsewhere too (each event that moves is added to ``moved``: id -> how far). What changed, or
    None (no anchor, or nothing changed)."""
    a = anchor(c, device, boot)
    if a is None:
        return None
    p = {"device": device, "boot": boot, "via": a.via, "shift": a.shift_ms}
    events = int(c.execute(_PLACE_EVENTS, p).rowcount)
    epochs = int(c.execute(_PLACE_ACTIVITY, p).rowcount)
    moved_events = moved_epochs = 0
    if anew:
        placed = "SELECT id, wall_t FROM events WHERE device = ? AND boot = ?"
        was = dict(c.execute(placed, (device, boot)).fetchall())
        moved_events = int(c.execute(_REPLACE_EVENTS, p).rowcount)
        moved_epochs = int(c.execute(_REPLACE_ACTIVITY, p).rowcount)
        if moved_events:
            moved.update({int(i): float(t) - float(was[i]) for i, t in c.execute(placed, (device, boot)) if t != was.get(i)})
    if not (events or epochs or moved_events or moved_epochs):
        return None
    return Linked(device, boot, a.via, a.hops, a.err_ms / 1000.0, events, epochs, moved_events, moved_epochs)


def placed_again(c: sqlite3.Connection, device: str, boot: int, step_s: float, moved: dict[int, float]) -> Replaced:
    """``boot``'s rows placed again after its syncs moved by ``step_s`` (``place_boot``, anew): what moved."""
    hit = place_boot(c, device, boot, True, moved)
    return Replaced(device, boot, step_s, 0 if hit is None else hit.moved_events, 0 if hit is None else hit.moved_epochs, 0)


def carry(c: sqlite3.Connection, device: str, replaced: list[Replaced], moved: dict[int, float], same_s: float) -> list[Replaced]:
    """``replaced``, the band boots placed again from their moved syncs (each with its step), and the
    boots placed through the band's links from them, placed again with them (by their anchor's
    step); the stored clusters whose events all moved by one amount to within ``same_s`` (``moved``)
    moved too, counted by the band boot of their first event. ``Store.place_on_clock``'s and
    ``place_by_links``' end."""
    steps = {r.boot: r.step_s for r in replaced}
    out = list(replaced)
    for b in unsynced_near(c, device, steps):
        linked = None if b in steps else place_boot(c, device, b, True, moved)
        if linked is not None:
            out.append(Replaced(device, b, steps.get(linked.via, 0.0), linked.moved_events, linked.moved_epochs, 0))
    shifted = move_clusters(c, device, sorted(r.boot for r in out), moved, same_s)
    return [replace(r, clusters=shifted.get(r.boot, 0)) for r in out]


def place_near(c: sqlite3.Connection, device: str, boots: Iterable[int]) -> list[Linked]:
    """Place anew ``boots`` and the boots placed through links from them (``unsynced_near``), and
    move the stored clusters whose events all moved by one amount; what changed, by boot."""
    moved: dict[int, float] = {}
    out = [r for b in unsynced_near(c, device, boots) if (r := place_boot(c, device, b, True, moved)) is not None]
    if moved:
        move_clusters(c, device, sorted({r.boot for r in out}), moved)
    return out


# s: a move under this is none (float noise of the placing); by default, moves this close are one.
_SAME_MOVE_S = 0.001


def move_clusters(
    c: sqlite3.Connection, device: str, boots: Sequence[int], moved: Mapping[int, float], same_s: float = _SAME_MOVE_S
) -> dict[int, int]:
    """Move each stored cluster with events of ``device``'s ``boots`` whose events all moved by one
    amount to within ``same_s`` (``moved``: event id -> how far; an event not in it stayed) by its
    first event's move; returns how many moved, by the band boot of their first event. A cluster
    that mixes moves is left as it is: a rebuild redoes it.

    A clock step re-dates each sync to the clock as it reads now, so each moves by the step plus
    its own reading's error (``SYNC_OFFSET``: the wall and the since-boot seconds are two reads,
    ms apart on a loaded machine, seconds at the fault campaign's 60x): the events of one cluster
    placed by two syncs (a reconnect in it) move that far apart. ``same_s``, the tolerance that
    tells a sync on a stepped clock from one on today's, takes them for the one step they are: a
    cluster left 772 s from its events was met by the daemon's rebuild as a second cluster
    (bench/faults.py). Its end and alert time are off by that error until the rebuild rewrites them."""
    members: dict[int, list[tuple[int, int]]] = {}
    touched = (
        "SELECT ce2.cluster_id FROM cluster_events ce2 JOIN events e2 ON e2.id = ce2.event_id "
        f"WHERE e2.device = ? AND e2.boot IN ({', '.join('?' * len(boots))})"
    )
    for cid, eid, boot in c.execute(
        "SELECT ce.cluster_id, e.id, e.boot FROM cluster_events ce JOIN events e ON e.id = ce.event_id "
        f"WHERE ce.cluster_id IN ({touched}) ORDER BY e.wall_t, e.id",
        (device, *boots),
    ):
        members.setdefault(int(cid), []).append((int(eid), int(boot)))
    out: dict[int, int] = {}
    for cid, evs in members.items():
        d = [moved.get(eid, 0.0) for eid, _ in evs]
        if max(d) - min(d) > same_s or abs(d[0]) <= _SAME_MOVE_S:
            continue
        c.execute(
            "UPDATE clusters SET start_t = start_t + ?1, end_t = end_t + ?1, alert_t = alert_t + ?1 WHERE id = ?2", (d[0], cid)
        )
        out[evs[0][1]] = out.get(evs[0][1], 0) + 1
    return out
