"""The store's schema as a list of migration steps.

``MIGRATIONS[i]`` takes a database from ``PRAGMA user_version`` i to i + 1.
A released step never changes (a test pins their hashes): a schema change is
a new step appended at the end. Each step runs in the same transaction as the
``user_version`` bump, so a kill during a migration leaves the old version.

Times: ``*_ms`` are band milliseconds since the band's boot ``boot``;
``wall_t`` / ``wall_s`` / ``*_wall_s`` are float unix seconds on the host.
``boot`` and ``seq`` columns hold the band's numbers plus the offsets of its
log life (``log_lives``; 0 until the band's flash was first seen erased).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

# 'SPSW': marks the file as a spasmwatch store (PRAGMA application_id).
APPLICATION_ID = 0x53505357

_V1_BAND_DATA = """
CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    name TEXT, address TEXT, transport TEXT, board TEXT, firmware TEXT,
    first_seen_wall_s REAL NOT NULL,
    last_seen_wall_s REAL NOT NULL
);
CREATE TABLE syncs (
    device TEXT NOT NULL REFERENCES devices(device_id),
    boot INTEGER NOT NULL,
    band_ms INTEGER NOT NULL,
    wall_s REAL NOT NULL,
    PRIMARY KEY (device, boot, band_ms)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device_id),
    boot INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    onset_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    peak_rate_mrads INTEGER NOT NULL,
    peak_angle_mrad INTEGER NOT NULL,
    confidence INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    wall_t REAL,
    received_wall_s REAL NOT NULL,
    UNIQUE (device, boot, seq)
);
CREATE INDEX events_wall ON events(wall_t);
CREATE INDEX events_device_wall ON events(device, wall_t);
CREATE INDEX events_device_seq ON events(device, seq);
CREATE INDEX events_unplaced ON events(device, boot) WHERE wall_t IS NULL;
CREATE TABLE activity (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device_id),
    boot INTEGER NOT NULL,
    t_ms INTEGER NOT NULL,
    activity INTEGER NOT NULL,
    breath INTEGER NOT NULL,
    off_body INTEGER NOT NULL,
    worn INTEGER NOT NULL,
    wall_t REAL,
    received_wall_s REAL NOT NULL,
    UNIQUE (device, boot, t_ms)
);
CREATE INDEX activity_device_wall ON activity(device, wall_t);
CREATE INDEX activity_unplaced ON activity(device, boot) WHERE wall_t IS NULL;
CREATE TABLE status (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device_id),
    received_wall_s REAL NOT NULL,
    battery_pct INTEGER, worn INTEGER, log_fill_pct INTEGER, flags INTEGER,
    errors INTEGER, boot INTEGER, uptime_s INTEGER, next_seq INTEGER
);
CREATE INDEX status_device_wall ON status(device, received_wall_s);
CREATE TABLE lost (
    device TEXT NOT NULL REFERENCES devices(device_id),
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    wall_s REAL NOT NULL,
    PRIMARY KEY (device, first_seq, last_seq)
);
CREATE TABLE clusters (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device_id),
    key TEXT NOT NULL,
    start_t REAL NOT NULL,
    end_t REAL NOT NULL,
    count INTEGER NOT NULL,
    alert_t REAL,
    post_wake_s REAL,
    closed INTEGER NOT NULL,
    updated_wall_s REAL NOT NULL,
    UNIQUE (device, key)
);
CREATE INDEX clusters_start ON clusters(start_t);
CREATE TABLE cluster_events (
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES events(id),
    PRIMARY KEY (cluster_id, event_id)
);
"""

_V2_CAREGIVER = """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    cluster_id INTEGER REFERENCES clusters(id),
    device TEXT,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    wall_s REAL NOT NULL,
    text TEXT NOT NULL,
    channels TEXT NOT NULL,
    by TEXT
);
CREATE INDEX alerts_wall ON alerts(wall_s);
CREATE INDEX alerts_identity ON alerts(device, kind, cluster_id);
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id),
    label TEXT NOT NULL CHECK (label IN ('confirmed', 'false_alarm')),
    by TEXT,
    wall_s REAL NOT NULL
);
CREATE INDEX labels_cluster ON labels(cluster_id);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    wall_s REAL NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('video', 'medication', 'note')),
    text TEXT NOT NULL,
    device TEXT,
    by TEXT
);
CREATE INDEX notes_wall ON notes(wall_s);
CREATE TABLE treatments (
    id INTEGER PRIMARY KEY,
    wall_s REAL NOT NULL,
    drug TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('start', 'stop', 'change')),
    dose REAL,
    unit TEXT,
    note TEXT,
    by TEXT
);
CREATE INDEX treatments_wall ON treatments(wall_s);
"""

# A band whose flash was erased counts boots from 1 and seqs from 0 again: each
# such "log life" gets offsets that map its numbers past everything stored
# (host = band + offset), so (device, boot, seq) and the syncs stay unique.
_V3_LOG_LIVES = """
CREATE TABLE log_lives (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device_id),
    since_wall_s REAL NOT NULL,
    boot_offset INTEGER NOT NULL,
    seq_offset INTEGER NOT NULL,
    UNIQUE (device, boot_offset, seq_offset)
);
"""

# The rate a band's IMU samples at, as the band reports it (protocol INFO; NULL
# until known): exports and reports size its epochs by it.
#
# A record arriving under a key already stored with other fields (a band's log
# restarted in a way the log lives did not catch, a firmware bug) is not dropped:
# the stored one stays, the newcomer is kept here, as the protocol fields in JSON.
_V4_CONFLICTS = """
ALTER TABLE devices ADD COLUMN rate_hz REAL;
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device_id),
    kind TEXT NOT NULL CHECK (kind IN ('event', 'activity')),
    record TEXT NOT NULL,
    received_wall_s REAL NOT NULL,
    UNIQUE (device, kind, record)
);
"""

# The alert engine's id of the alert a transition belongs to (the id pages, the API and
# ``spasmwatch ack`` use): a restarted daemon goes on after the largest, and an alarm it
# carries on keeps its id, so an old page or command cannot reach another alert.
# NULL in rows stored before this step.
_V5_ALERT_IDS = """
ALTER TABLE alerts ADD COLUMN alert_id INTEGER;
"""

# Notifications a channel handed on that their receiver had not acknowledged yet (MQTT events
# paho still held), kept so that a daemon stopped before the broker answered does not lose
# them: the next start sends them again, under the same key. A row goes once acknowledged.
#
# The latest state a channel published per band and topic (MQTT's retained alert): a restart
# re-says one that cannot turn an alarm on, so a CLOSED the broker never had does not leave
# Home Assistant's alarm on (an open alarm is the restore's to re-say).
_V6_OUTBOX = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    device TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_t REAL NOT NULL,
    urgency INTEGER NOT NULL,
    kept_wall_s REAL NOT NULL,
    UNIQUE (channel, key)
);
CREATE TABLE retained (
    channel TEXT NOT NULL,
    device TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    wall_s REAL NOT NULL,
    PRIMARY KEY (channel, device, topic)
);
"""

# The daily summary ([alerts] daily_summary) each band was sent, by local day (ISO date): a daemon
# restarted after the summary's time on the same day does not send it again.
_V7_SUMMARIES = """
CREATE TABLE summaries (
    device TEXT NOT NULL,
    day TEXT NOT NULL,
    sent_wall_s REAL NOT NULL,
    PRIMARY KEY (device, day)
);
"""

# The notification channels whose latest delivery failed (the alert dispatcher's ``failing``), by
# the name they are configured under: the first failure in a row (when, why). A restarted daemon
# shows them still failing (the page's banner, ``spasmwatch status``, Home Assistant's sensor)
# until they deliver again; a row goes with the channel's next good delivery.
_V8_CHANNELS_FAILING = """
CREATE TABLE channels_failing (
    channel TEXT PRIMARY KEY,
    since_wall_s REAL NOT NULL,
    error TEXT NOT NULL
);
"""

# What a sync point was made on, beside the host's wall clock: the computer's boot (``host_boot``,
# Linux's boot id) and its since-boot seconds then (``host_boot_s``, CLOCK_BOOTTIME on the wall's
# scale), which the wall's steps do not move; and the step of the host's wall found since the sync
# was made (``stepped_s``): the sync's instant on the clock as it reads now is wall_s + stepped_s,
# and its boot's band times are placed from there. ``wall_s`` stays the stamp it was made with.
# NULL in rows stored before this step (and on a computer that gives no since-boot reading):
# placed by wall_s, as before.
_V9_SYNC_HOST_BOOT = """
ALTER TABLE syncs ADD COLUMN host_boot TEXT;
ALTER TABLE syncs ADD COLUMN host_boot_s REAL;
ALTER TABLE syncs ADD COLUMN stepped_s REAL;
"""

# A band's clusters by start: the status page's "last cluster" (Store.latest_cluster, at each of its
# polls) read the newest as a sort of all the band's clusters, their labels looked up for each
# (2.2 ms at 1,000 clusters, on the loop that carries the alarms); by this index it reads one.
_V10_CLUSTERS_BY_DEVICE = """
CREATE INDEX clusters_device_start ON clusters(device, start_t);
"""

# How the band's boots follow one another (protocol BOOTLINK, sent by the boot after a reset, not
# after a power-up): band boot ``prev_boot``'s ms ``prev_ms`` was ``gap_ms`` ms before boot ``boot``'s
# ms 0, within +-``err_ms``; ``cause`` (1 hard reset, 2 watchdog, 3 soft, 4 deep sleep, 5 read as a
# power-on with the RTC kept: a brown-out) and ``flags``
# (0x01: the gap measured by a counter that ran through the reset) as the band sent them. Boots in
# host numbers, as everywhere. A boot no time sync reached is placed through these from the nearest
# boot that has one (Store.wall_time). A link re-delivered with other numbers is kept aside in
# ``link_conflicts``, as ``conflicts`` keeps events (whose CHECK on kind SQLite changes only by
# copying the table: a dropped table's free pages then took later events' rows in the file's middle).
_V11_BOOT_LINKS = """
CREATE TABLE boot_links (
    device TEXT NOT NULL REFERENCES devices(device_id),
    boot INTEGER NOT NULL,
    prev_boot INTEGER NOT NULL,
    cause INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    prev_ms INTEGER NOT NULL,
    gap_ms INTEGER NOT NULL,
    err_ms INTEGER NOT NULL,
    received_wall_s REAL NOT NULL,
    PRIMARY KEY (device, boot)
);
CREATE INDEX boot_links_prev ON boot_links(device, prev_boot);
CREATE TABLE link_conflicts (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device_id),
    record TEXT NOT NULL,
    received_wall_s REAL NOT NULL,
    UNIQUE (device, record)
);
"""

# The store's identity: a random id made once, as the store is made (or as an older one first opens
# with this step), and kept by everything that moves the store whole (a copy, a backup, 'store recover').
# The daemon records it beside the store's path (store/known.py), so that a different spasmwatch store
# found at that path (another disk mounted there, a card reformatted and set up again) is not taken as
# this daemon's history. One row (``one`` = 1).
_V12_STORE_ID = """
CREATE TABLE store_identity (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    id TEXT NOT NULL
);
INSERT INTO store_identity (one, id) VALUES (1, lower(hex(randomblob(16))));
"""

# The time zone the daemon words the family's local times in (its daily summary's day, quiet hours, the
# alerts' HH:MM; ``clock.zone_name``), from ``since_wall_s`` on: a row at a daemon's start when
# it differs from the latest, and at a change while it runs (a box whose TZ or /etc/localtime changed,
# a family that travelled with it). Stores from before this step have none: their zone is not known.
# The report and 'summary' say when their span has more than one, or another than their own.
_V13_ZONES = """
CREATE TABLE zones (
    id INTEGER PRIMARY KEY,
    since_wall_s REAL NOT NULL,
    zone TEXT NOT NULL
);
"""

# The settings a failing channel failed under (``alerts.channels.base.fingerprint``: a hash, not the
# settings, which hold tokens and ntfy topics): a channel whose settings changed since (a new ntfy
# server, a fixed URL) is not shown failing at the next start, only as changed and not tested
# (Dispatcher.changed). NULL in rows kept before this step: the settings are not known, shown failing.
_V14_FAILING_FINGERPRINT = """
ALTER TABLE channels_failing ADD COLUMN fingerprint TEXT;
"""

# The store's marker (docs/store.md "Schema versions"): the oldest spasmwatch schema version that may
# read the store as it is (``readable_by``) and the oldest that may write it (``writable_by``), so
# that an older spasmwatch (a package rolled back, a clinic's older release) opens a store a newer
# one migrated when the steps since only added what it does not use. Written by each migration from
# this step on (``_db.mark``), never by a write, with the ``version`` it was written for: a store whose
# user_version moved without it (a step that did not mark, a version set by hand) has none. Its name
# and columns never change: every later version reads it this way before it knows anything else of
# the store. One row (``one`` = 1).
_V15_MARKER = """
CREATE TABLE compat (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    version INTEGER NOT NULL,
    readable_by INTEGER NOT NULL,
    writable_by INTEGER NOT NULL
);
"""

# Cluster ids are never given twice (AUTOINCREMENT): late events that join two clusters delete the
# later one's row (Store.merge_clusters), and SQLite gave the highest id, once its row was gone, to
# the next cluster stored: the daemon's alert engine still held the retired cluster's closed alert
# under it, which took the new cluster's spasms for its own (AlertEngine.forget_retired). SQLite makes
# no column AUTOINCREMENT in place: the table is made again in the step's transaction, its rows kept
# aside (a temporary table, outside the file), the table dropped and made again, every row put back
# with its id (sqlite_sequence then starts at the largest), its indexes made again. Dropped first, so
# that the table and its indexes take the pages it freed again: a copy made beside it left them free,
# and the band's later events filled them in the file's middle (a store cut short then lost earlier
# events than its end: test_store_damage). The tables that refer to it (cluster_events, alerts,
# labels) name it as before; foreign keys are off while steps run and checked before the commit
# (_db.migrate), and columns added to it by hand are added again with their values (_db._run_step).
#
# The syncs by their offset on the clock as it reads now (placing.SYNC_OFFSET, the same expression):
# Store.place_on_clock, at each sync, looked for syncs made on a wall stepped since by reading all
# of the band's syncs of the computer boot (17.7 ms a sync at 50,000 kept, a year of a band that
# never reboots); by this index it reads those outside today's offset alone, none as a rule.
_V16_CLUSTER_IDS = """
CREATE TEMP TABLE clusters_v15 AS SELECT id, device, key, start_t, end_t, count, alert_t, post_wake_s, closed, updated_wall_s FROM clusters;
DROP TABLE clusters;
CREATE TABLE clusters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL REFERENCES devices(device_id),
    key TEXT NOT NULL,
    start_t REAL NOT NULL,
    end_t REAL NOT NULL,
    count INTEGER NOT NULL,
    alert_t REAL,
    post_wake_s REAL,
    closed INTEGER NOT NULL,
    updated_wall_s REAL NOT NULL,
    UNIQUE (device, key)
);
INSERT INTO clusters (id, device, key, start_t, end_t, count, alert_t, post_wake_s, closed, updated_wall_s)
    SELECT id, device, key, start_t, end_t, count, alert_t, post_wake_s, closed, updated_wall_s FROM temp.clusters_v15 ORDER BY id;
DROP TABLE temp.clusters_v15;
CREATE INDEX clusters_start ON clusters(start_t);
CREATE INDEX clusters_device_start ON clusters(device, start_t);
CREATE INDEX syncs_offset ON syncs(device, host_boot, (wall_s + coalesce(stepped_s, 0.0) - host_boot_s));
"""

# The mute of a band's notices ('spasmwatch mute', the page's End mute now), kept so that a daemon
# restarted within it (a crash, an upgrade, a reboot) holds them still, where it forgot it and the band
# pushed again: ``until_wall_s``, its end as it stands (lengthened or shortened: the new end; lifted: when
# it was), ``by`` who set it (NULL: not said), ``since_wall_s`` when it began (set while none held) and
# ``set_wall_s`` when its end was last set. A held notice's row names the end its hold had then
# (``engine.reason_held_until``): one set again since moved it (``Daemon._tell_by``). One row a band, the
# latest mute: one set after the last ended starts it anew. Restored at a start while its end is ahead.
_V17_MUTES = """
CREATE TABLE mutes (
    device TEXT PRIMARY KEY,
    since_wall_s REAL NOT NULL,
    until_wall_s REAL NOT NULL,
    by TEXT,
    set_wall_s REAL NOT NULL
);
"""

class Step(NamedTuple):
    """One migration step and what it declares of the spasmwatch of the version before it.

    ``readers``: that version reads the store after the step as it did before (the step only added
    tables or nullable columns it does not read, or an index). ``writers`` (implies ``readers``): that
    version may write it too: what it leaves out of the step's additions (NULL in a new column, no row
    in a new table) the newer versions take as "not known", and nothing it writes must be kept in step
    with what it does not know. A step that changes what an older version reads or must write (a
    column it reads renamed, a NOT NULL column, numbers stored another way, a table to keep in step)
    declares False, and the store's marker moves up to itself."""

    sql: str
    readers: bool
    writers: bool


STEPS: list[Step] = [
    Step(_V1_BAND_DATA, readers=False, writers=False),  # the store made
    Step(_V2_CAREGIVER, readers=True, writers=True),
    Step(_V3_LOG_LIVES, readers=True, writers=False),  # an older writer stores an erased band's numbers without the offsets
    Step(_V4_CONFLICTS, readers=False, writers=False),  # devices.rate_hz: v3 read devices by SELECT *
    Step(_V5_ALERT_IDS, readers=True, writers=True),  # NULL alert_id: a row from before the ids
    Step(_V6_OUTBOX, readers=True, writers=True),
    Step(_V7_SUMMARIES, readers=True, writers=True),
    Step(_V8_CHANNELS_FAILING, readers=True, writers=True),
    Step(_V9_SYNC_HOST_BOOT, readers=False, writers=False),  # syncs' columns: v8 read syncs by SELECT *; placed by stepped_s
    Step(_V10_CLUSTERS_BY_DEVICE, readers=True, writers=True),  # an index
    Step(_V11_BOOT_LINKS, readers=True, writers=False),  # an older writer keeps no links: boots placed through them left unplaced
    Step(_V12_STORE_ID, readers=True, writers=True),
    Step(_V13_ZONES, readers=True, writers=False),  # an older daemon records no zone: its time would be taken as the last one recorded
    Step(_V14_FAILING_FINGERPRINT, readers=True, writers=True),  # NULL fingerprint: settings not known, shown failing
    Step(_V15_MARKER, readers=True, writers=True),  # a table written by migrations alone
    Step(_V16_CLUSTER_IDS, readers=True, writers=True),  # the same columns; SQLite itself keeps ids unique for any writer
    Step(_V17_MUTES, readers=True, writers=True),  # an older daemon keeps its mutes in memory, as before: no row, none restored
]  # fmt: skip
MIGRATIONS: list[str] = [s.sql for s in STEPS]
SCHEMA_VERSION = len(MIGRATIONS)
# The first schema version whose stores hold their id (``store_identity``).
STORE_ID_VERSION = MIGRATIONS.index(_V12_STORE_ID) + 1
# The first schema version whose stores hold the daemon's zones (``zones``).
ZONES_VERSION = MIGRATIONS.index(_V13_ZONES) + 1
# The first schema version whose stores hold the marker (``compat``), and the first spasmwatch that
# reads one: every one before refuses any store newer than itself.
MARKER_VERSION = MIGRATIONS.index(_V15_MARKER) + 1
# The oldest schema a read-only open reads as it is (``_db._require_current``), older ones being
# refused until the daemon migrates them: each step after it only added a table that a reader takes
# as empty in an older store (v13's zones: not known, ``Store.zones``; v15's marker: read in newer stores alone),
# a column or an index no reader reads (v14, v16's syncs_offset), or made a table again as it was but
# for how SQLite numbers new rows (v16's clusters: ids read alike). From v13 to the zone review
# (2026-12-06) a reader refused v12 stores, nothing it reads changed: a copy sent to the clinic, the
# family's store just after an upgrade while the old daemon still ran. A step that changes what a
# reader reads moves it up to itself.
READABLE_FROM_VERSION = STORE_ID_VERSION
# The current version's tables a read-write open makes again, empty, when one was dropped or changed (by
# hand, a tool): they hold no record of the baby's, only what the daemon keeps of its channels and its marker,
# which the next delivery or open writes again: at worst a daily summary sent twice (summaries), a
# channel failing shown so at its next failed delivery (channels_failing), a state re-said at its next
# change (retained), the pushes not yet delivered not sent again (outbox: a store recover would make it
# empty too), the marker re-written (compat), a mute forgotten at the next start, as before v17 (mutes).
# Any other table dropped held what the store is for (events, notes, zones...): the store is damaged
# (``_db._settle``; docs/store.md).
REMADE_EMPTY = frozenset({"summaries", "channels_failing", "retained", "outbox", "compat", "mutes"})


class NotKnown(NamedTuple):
    value: int
    means: str  # what this version takes it as, in words


# The NOT NULL columns that have a value this version already takes as "not known", by (table, column):
# what 'store recover' puts in each row of a file whose table lost the column (dropped by hand): the
# rows are kept, and the value says honestly that it is not known. No other needed column has one (a
# made-up time, duration or state would be read as the band's): a file without one of those is refused
# by every open with the real way out (_db.no_recovery_hint). Until the review of 2026-12-06 recover
# refused events.confidence too, while every open named recover: the daemon never opened the store again.
NOT_KNOWN = {
    # the detector gives 1 to 100 (swcore.detector.confidence); clusters.Spasm: 0, not given, counts as a full spasm
    ("events", "confidence"): NotKnown(0, "'not given' (counted as a full spasm, as from a band that sends no confidence)"),
}



def readable_by(version: int) -> int:
    """The oldest spasmwatch schema version that may read a store at ``version`` (its marker): the
    version before each step back from it that declares ``readers``, never below MARKER_VERSION (no
    spasmwatch before it reads a marker)."""
    return _oldest(version, lambda s: s.readers)


def writable_by(version: int) -> int:
    """The oldest spasmwatch schema version that may write a store at ``version``: as ``readable_by``,
    by the steps' ``writers``."""
    return _oldest(version, lambda s: s.writers)


def _oldest(version: int, additive: Callable[[Step], bool]) -> int:
    oldest = version
    while oldest > MARKER_VERSION and additive(STEPS[oldest - 1]):  # (STEPS[i] takes a store from i to i + 1)
        oldest -= 1
    return oldest
