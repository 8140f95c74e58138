"""The pediatrician report (PDF and HTML): spasms and clusters per day, their times of day
and after waking, sleep by night, notes and treatments, and the trend since each treatment
started. A screening log, not a diagnosis."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from spasmwatch.errors import SpasmwatchError
from spasmwatch.export.rows import Source
from spasmwatch.report.data import ReportData, gather


def write_report(source: Source, device: str | None, since: float, until: float, tz: tzinfo, out: Path) -> ReportData:
    """Gather and write the report; the format follows ``out``'s suffix (.pdf or .html)."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise SpasmwatchError(f"{out}: the report is written as .pdf or .html")
    data = gather(source, device, since, until, tz)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".pdf":
            from spasmwatch.report.pages import write_pdf

            write_pdf(data, out)
        else:
            from spasmwatch.report.html import write_html

            write_html(data, out)
    except OSError as exc:
        raise SpasmwatchError(f"{out}: cannot write the report: {exc.strerror or exc}") from exc
    return data


__all__ = ["ReportData", "write_report"]
