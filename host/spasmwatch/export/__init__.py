"""Exports for researchers: events, clusters, sleep/wake, notes and treatments of
one device and time range as CSV, JSON Lines, Parquet, EDF+ annotations or BIDS
events.tsv (docs/exports.md). The store is opened read-only and streamed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from spasmwatch.export.coverage import coverage, spans
from spasmwatch.export.formats import FORMATS, ExportError, Meta, Progress, describe, export
from spasmwatch.export.rows import Source
from spasmwatch.export.timeline import Query, iso, parse_iso, relative, rows

__all__ = ["FORMATS", "ExportError", "Meta", "Query", "describe", "export", "iso", "parse_iso", "relative", "rows", "run_export"]


def run_export(
    source: Source, q: Query, fmt: str, out: Path, start: float | None, progress: Progress | None = None
) -> tuple[int, float | None]:
    """Export ``q`` from ``source`` to ``out``; returns (rows written, recording start).

    ``start`` is the recording start (usually --since); None takes the first row's time.
    """
    # One pass over the epochs gives the coverage rows and the sidecar's hours (two took twice as long).
    segs = spans(source, q.device, q.since, q.until)
    t0, stream = relative(rows(source, q, segs), start)
    meta = Meta(q, t0, from_first_row=start is None)
    # The hours of the range the sidecar states: from its start (the recording start without --since).
    meta = replace(meta, coverage=coverage(source, q.device, meta.range_start or q.since, q.until, segs))
    return export(fmt, out, stream, meta, progress), t0
