"""The one table every export writes: its columns, types, units and meanings.

Exports are "long": one row per thing that happened (a spasm, a cluster, a
wake or sleep onset, a caregiver note, a treatment change, a span the band was
not worn or not heard from, a range of lost events), ordered by onset,
with the columns that do not apply to a kind left empty (null / ``n/a``).
The sidecars, the Parquet schema metadata and docs/exports.md are written
from this list, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("spasm", "cluster", "wake", "sleep", "note", "treatment", "not_worn", "disconnected", "lost")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "str", "float", "int"; "timestamp": TIMESTAMPS' (Parquet only)
    units: str | None
    description: str
    # Text as a family or a clinician typed it (a note, a video's file name, a drug, a name): what a
    # spreadsheet could take for a formula (formats.spreadsheet_text). Never a number, a time, an id
    # or one of a fixed set of words.
    free_text: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("onset_utc", "str", None, "Wall time of the onset, UTC, ISO 8601 with milliseconds (e.g. 2024-03-05T06:12:40.125Z)."),
    Column("onset_s", "float", "s", "Seconds from the export's recording start (see the sidecar's RecordingStartUTC): --since, or the first row, rounded down to the whole second."),
    Column("duration_s", "float", "s", "Duration: spasm onset to end; cluster first onset to last spasm end; 0 for instantaneous rows (wake, sleep, note, treatment); not_worn, disconnected: the span; lost: from the stored event before the lost ones to the one after."),
    Column("kind", "str", None, "spasm | cluster | wake | sleep | note | treatment | not_worn (the band said it was off the baby) | disconnected (nothing heard from the band: out of range, off, restarting; its spasm events still arrive by backfill, its wear is unknown) | lost (events the band logged that the host never got)."),
    Column("device", "str", None, "Band id; empty for treatments and notes not tied to a band."),
    Column("boot", "int", None, "spasm: band boot counter when the event was logged."),
    Column("seq", "int", None, "spasm: the band's event sequence number (unique per band); lost: the first lost one."),
    Column("confidence", "int", None, "spasm: the detector's confidence, 1-100; 0: not given (counted as a full spasm)."),
    Column("peak_rate_dps", "float", "deg/s", "spasm: peak trunk angular rate."),
    Column("peak_angle_deg", "float", "deg", "spasm: peak trunk posture change (0 for a match)."),
    Column("matched", "int", None, "spasm: 1 for a match of the band's cluster counter (a movement shaped like the full spasms of its cluster: counted in a cluster, towards its alarm only beside two alike full spasms), else 0."),
    Column("alike", "int", None, "spasm: 1 when the band found this full spasm shaped like one up to 40 s before it (an alike pair: the matches of its cluster then count towards the alarm), else 0."),
    Column("cluster_id", "int", None, "cluster: the store's cluster id."),
    Column("count", "int", None, "cluster: number of spasms counted in the cluster; lost: number of events lost (seq to seq + count - 1)."),
    Column("alert_utc", "str", None, "cluster: when the live system raised the alarm (third spasm), UTC ISO 8601."),
    Column("post_wake_s", "float", "s", "cluster: seconds from the last wake onset to the cluster start; empty when no wake onset was seen."),
    Column("label", "str", None, "cluster: caregiver's label, confirmed | false_alarm; empty when not labelled."),
    Column("note_kind", "str", None, "note: video | medication | note."),
    Column("text", "str", None, "note: the caregiver's text; treatment: its note (treatment add --note), empty without one.", free_text=True),
    Column("drug", "str", None, "treatment: medication name (e.g. vigabatrin, ACTH, prednisolone).", free_text=True),
    Column("dose", "float", None, "treatment: dose, in the unit of the 'unit' column."),
    Column("unit", "str", None, "treatment: dose unit as entered (e.g. mg/kg/day, IU/m2/day).", free_text=True),
    Column("action", "str", None, "treatment: start | change | stop."),
    Column("by", "str", None, "note, treatment: who recorded it (note --by, treatment add --by); cluster: who gave its label (clusters --label --by, the web page); empty when not given.", free_text=True),
)

# Parquet only: each UTC time column again as an Arrow timestamp (ms, UTC), after every column above,
# so a reader of the files written before them (by name or by position) finds what it found. The
# text formats keep the one string column: their readers parse ISO 8601 themselves, JSON has no
# time type. Researcher review (2026-12-07): pandas/pyarrow users wrote to_datetime for each.
TIMESTAMPS: tuple[Column, ...] = (
    Column("onset_time", "timestamp", None, "onset_utc as a timestamp (ms, UTC): the same instant, typed for pandas, pyarrow, R arrow."),
    Column("alert_time", "timestamp", None, "alert_utc as a timestamp (ms, UTC): the same instant, typed for pandas, pyarrow, R arrow."),
)
TIMESTAMP_OF = {"onset_time": "onset_utc", "alert_time": "alert_utc"}  # each typed column's string column

NAMES = tuple(c.name for c in COLUMNS)
FREE_TEXT = frozenset(c.name for c in COLUMNS if c.free_text)
