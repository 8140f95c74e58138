"""Exports for researchers: events, clusters, sleep/wake, notes and treatments of
one device and time range as CSV, JSON Lines, Parquet, EDF+ annotations or BIDS
events.tsv (docs/exports.md). The store is opened read-only and streamed."""

from __future__ import annotations

from pathlib import Path

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
    t0, stream = relative(rows(source, q), start)
    return export(fmt, out, stream, Meta(q, t0, from_first_row=start is None), progress), t0
