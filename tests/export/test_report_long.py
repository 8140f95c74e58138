"""The pediatrician report over long periods (a year or two) and odd data: its pages stay readable."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import gaps
import matplotlib.pyplot as plt
from cli_runner import run_cli

from spasmwatch.export.store_source import StoreSource
from spasmwatch.report.consts import ACTOGRAM_DAYS_PER_PAGE
from spasmwatch.report.data import gather
from spasmwatch.report.pages import page_actogram
from spasmwatch.report.plots import NOT_MONITORED

DAY = 86400.0
D0 = datetime(2024, 3, 4, tzinfo=timezone.utc).timestamp()
H = 3600.0


def _pdf_pages(pdf: Path) -> list[str]:
    """Each page's text (poppler's pdftotext), its whitespace one space."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    run = [subprocess.run(["pdftotext", "-f", str(k), "-l", str(k), str(pdf), "-"], capture_output=True, text=True, check=True) for k in range(1, n + 1)]
    return [" ".join(r.stdout.split()) for r in run]


def _day(k: int) -> str:
    return f"{datetime.fromtimestamp(D0 + k * DAY, timezone.utc):%a %Y-%m-%d}"


def test_a_two_year_actogram_goes_over_pages_each_titled_with_its_days(tmp_path: Path) -> None:
    """Hostile review: a 2-year report put the actogram's 730 day rows on one page, each under a
    pixel high: no day, cluster or night could be read. Now it goes over pages of
    ACTOGRAM_DAYS_PER_PAGE days, each titled with its dates, its unmonitored hours hatched and its
    clusters marked on their own days. The band is worn the first 2 days; a cluster comes every 10
    days (sent later by backfill: counted, on unmonitored days). Old code: one actogram page, no
    'Sleep by day' title."""
    db = tmp_path / "s.db"
    n = 730
    gaps.build(db, D0, 2 * DAY, clusters=tuple((k * 10 * DAY + 7 * H, 5) for k in range(n // 10)))
    out = tmp_path / "r.pdf"
    args = ("--since", "2024-03-04", "--until", f"{datetime.fromtimestamp(D0 + n * DAY, timezone.utc):%Y-%m-%d}", "--tz", "UTC")
    assert run_cli("report", "--db", str(db), "--out", str(out), *args) == 0
    titles = [m.group(0) for page in _pdf_pages(out) if (m := re.search(r"Sleep by day \(\d+/\d+\): \S+ \S+ to \S+ \S+", page))]
    first = range(0, n, ACTOGRAM_DAYS_PER_PAGE)
    pages = len(first)
    assert pages == 14  # 13 pages of 56 days and one of 2
    assert titles == [f"Sleep by day ({k + 1}/{pages}): {_day(a)} to {_day(min(n, a + ACTOGRAM_DAYS_PER_PAGE) - 1)}" for k, a in enumerate(first)]
    source = StoreSource.open(db)
    try:
        data = gather(source, None, D0, D0 + n * DAY, timezone.utc, D0 + n * DAY)
    finally:
        source.close()
    figs = page_actogram(data)
    try:
        for fig, a in zip(figs, first, strict=True):
            (ax,) = fig.axes
            rows = set(range(a, min(n, a + ACTOGRAM_DAYS_PER_PAGE)))
            hatched = {round(p.get_y() + p.get_height() / 2) for p in ax.patches if p.get_gid() == NOT_MONITORED}
            assert hatched == rows - {0, 1}, a  # every day of its own but the 2 worn, none of another page's
            ticks = {round(float(ln.get_ydata()[0])) for ln in ax.lines if ln.get_marker() == "|"}  # type: ignore[arg-type]
            assert ticks == {r for r in rows if r % 10 == 0}, a
            assert [t.get_text() for t in ax.get_yticklabels()] == [_day(r) for r in sorted(rows)]
            # every row as high as on a full page
            assert abs(ax.get_position().height / len(rows) - figs[0].axes[0].get_position().height / ACTOGRAM_DAYS_PER_PAGE) < 1e-9
    finally:
        for f in figs:
            plt.close(f)


def test_a_short_report_s_actogram_is_one_page_as_before(tmp_path: Path) -> None:
    """A report of up to ACTOGRAM_DAYS_PER_PAGE days keeps its one actogram page as it was: no
    page title, the plot over the page's height (0.16, 0.06, 0.8, 0.88), a row a day."""
    db = tmp_path / "s.db"
    gaps.build(db, D0, 14 * DAY, clusters=((7 * H, 5),))
    source = StoreSource.open(db)
    try:
        for days in (14, ACTOGRAM_DAYS_PER_PAGE):
            data = gather(source, None, D0, D0 + days * DAY, timezone.utc, D0 + 100 * DAY)
            (fig,) = page_actogram(data)
            try:
                (ax,) = fig.axes
                assert not fig.texts
                assert tuple(round(v, 6) for v in ax.get_position().bounds) == (0.16, 0.06, 0.8, 0.88)
                assert [t.get_text() for t in ax.get_yticklabels()] == [_day(k) for k in range(days)]
            finally:
                plt.close(fig)
    finally:
        source.close()
