"""Exports for researchers: events, clusters, sleep/wake, notes and treatments of
one device and time range as CSV, JSON Lines, Parquet, EDF+ annotations or BIDS
events.tsv (docs/exports.md). The store is opened read-only and streamed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import timedelta, tzinfo
from pathlib import Path

from spasmwatch.clock import offset_changes
from spasmwatch.export import edfheader
from spasmwatch.export.coverage import BEFORE_HEARD, Segment, coverage, heard_and_slept, in_range, recorded, silent_to_now
from spasmwatch.export.formats import FORMATS, ExportError, Meta, Progress, describe, edf_zone, export, names_bands
from spasmwatch.export.rows import Source
from spasmwatch.export.timeline import Query, iso, parse_iso, relative, rows

__all__ = ["FORMATS", "Exported", "ExportError", "Meta", "Query", "describe", "export", "iso", "parse_iso", "relative", "rows", "run_export"]


@dataclass(frozen=True)
class Exported:
    rows: int
    silent: list[Segment]  # the bands' silences up to the export's time from when each was last heard (coverage.silent_to_now)
    # EDF+ only: the recording start, unix s, its zone, and the zone's UTC offset changes within the file
    # (clock.offset_changes): the header's wall time is the start's, its onsets seconds from it.
    start: float | None = None
    zone: tzinfo | None = None
    changes: list[tuple[float, timedelta, timedelta]] = field(default_factory=list)
    bands_named: bool = False  # EDF+ only: each annotation of a band ends with its id (formats.names_bands)


def run_export(
    source: Source,
    q: Query,
    fmt: str,
    out: Path,
    start: float | None,
    progress: Progress | None = None,
    participant: str | None = None,
    zone: tzinfo | None = None,
) -> Exported:
    """Export ``q`` from ``source`` to ``out``.

    ``start`` is the recording start (usually --since); None takes the first row's time.
    ``participant``: BIDS only, the participant_id ('sub-01', export/participants.py).
    ``zone``: EDF+ only, the zone of the header's start wall time (None: this computer's).
    """
    # One read of the epochs gives the coverage rows, the sidecar's hours and the sleep/wake rows
    # (a read each took twice as long: 2 s of a year's export); without sleep/wake, no estimate.
    now = time.time()  # one end of data for the rows and the silences found among them
    if {"wake", "sleep"} & set(q.kinds):
        heard, found = heard_and_slept(source, q.device, q.since, q.until, now)
    else:
        heard, found = recorded(source, q.device, q.since, q.until, now), []
    segs = in_range(heard, q.since, q.until)
    silent = silent_to_now(heard, q.until, now)
    t0, stream = relative(rows(source, q, segs, found), start)
    # A silence's row starts at --since when the band was last heard before it (its note says when).
    rows_silent = frozenset((s.device, iso(max(s.t, q.since))) for s in silent)
    meta = Meta(q, t0, from_first_row=start is None, participant=participant, zone=zone, silent=rows_silent)
    # The hours of the range the sidecar states: from its start (the recording start without --since).
    meta = replace(meta, coverage=coverage(source, q.device, _coverage_start(meta, segs), q.until, segs))
    n = export(fmt, out, stream, meta, progress)
    if fmt != "edf" or t0 is None:
        return Exported(n, silent)
    zone = edf_zone(meta)
    return Exported(n, silent, t0, zone, offset_changes(zone, t0, t0 + edfheader.duration_s(out)), names_bands(meta))


def _coverage_start(meta: Meta, segs: list[Segment]) -> float:
    """Where the sidecar's hours start: the range's start; with neither --since nor a row, where
    the first band was first heard (the query's start is then 1970: 'BeforeFirstHeardHours' read
    as 56 years)."""
    if meta.range_start is not None:
        return meta.range_start
    return min((s.end for s in segs if s.kind == BEFORE_HEARD), default=meta.query.since)
