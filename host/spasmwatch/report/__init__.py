"""The pediatrician report (PDF and HTML): spasms and clusters per day, their times of day
and after waking, sleep by night, notes and treatments, and the trend since each treatment
started. A screening log, not a diagnosis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from pathlib import Path

from spasmwatch.errors import SpasmwatchError
from spasmwatch.export.rows import Source
from spasmwatch.outfile import check_writable, whole_path
from spasmwatch.report.data import ReportData, gather


def write_report(
    source: Source,
    device: str | None,
    since: float,
    until: float,
    tz: tzinfo,
    out: Path,
    unplaced: Sequence[tuple[str, int, int]] = (),
    patient: str | None = None,
    names: Mapping[str, str] | None = None,
    zones: Sequence[tuple[float, str]] = (),
    held: Sequence[str] = (),
) -> ReportData:
    """Gather and write the report; the format follows ``out``'s suffix (.pdf or .html). ``unplaced``:
    (device, boot, spasm events) of each boot no time sync placed (``Store.unplaced_events``), which
    the report says are on no day. ``patient``: who it is about, printed on every page. ``names``:
    device -> the band's name in the family's config (``commands.summary.band_names``). ``zones``: the
    zones the daemon ran in over the range (``Store.zones``), said when not ``tz`` alone. ``held``: how
    the range given was held to the store's data (``commands.report.held_to_data``), said in the summary."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise SpasmwatchError(f"{out}: the report is written as .pdf or .html")
    # A folder that does not exist is refused, not made (until 2026-12-06 it was, as a typo's
    # folder where nobody looks), as export, evaluate and truth refuse it; one that is a file too.
    check_writable(out, "--out")
    if out.exists() and not _is_report(out, suffix):
        # found by the docs run: '--out report.pdf' replaced whatever PDF had that name (a letter)
        raise SpasmwatchError(f"{out}: exists and is not an earlier spasmwatch report: not written over (choose another --out)")
    data = gather(source, device, since, until, tz)
    data.unplaced = list(unplaced)
    data.patient = patient
    data.names = dict(names or {})
    data.zones = list(zones)
    data.held = list(held)
    # Whole or not at all: ^C or a full disk during the write left a cut file, which the next
    # run refused to write over (no Creator in it: "not an earlier spasmwatch report").
    with whole_path(out, "the report") as part:
        if suffix == ".pdf":
            from spasmwatch.report.pages import write_pdf

            write_pdf(data, part)
        else:
            from spasmwatch.report.html import write_html

            write_html(data, part)
    return data


def _is_report(out: Path, suffix: str) -> bool:
    """Whether the file at ``out`` is one a report wrote: the PDF's Info (Creator, near its end)
    or the HTML's title."""
    try:
        with open(out, "rb") as f:
            head = f.read(1 << 16)
            f.seek(max(0, out.stat().st_size - (1 << 16)))
            tail = f.read()
    except OSError:
        return True  # nothing readable to keep: the write says what is wrong
    if not head:
        return True
    if suffix == ".pdf":
        return b"/Creator (spasmwatch)" in head + tail
    from html import escape

    from spasmwatch.report.text import TITLE

    return f"<title>{escape(TITLE)}</title>".encode() in head


__all__ = ["ReportData", "write_report"]
