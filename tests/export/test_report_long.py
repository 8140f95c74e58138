"""The pediatrician report over long periods (a year or two) and odd data: its pages stay readable."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import gaps
import matplotlib.pyplot as plt
from cli_runner import run_cli

from spasmwatch.export.rows import Tables, TreatmentRow
from spasmwatch.export.store_source import StoreSource
from spasmwatch.report import write_report
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


def _taper(n: int = 120) -> list[TreatmentRow]:
    """Vigabatrin started on day 5 and raised on day 60; prednisolone started on day 10 at 40 mg/day
    and tapered by 0.25 mg/day a day over ``n`` days to 10."""
    return [
        TreatmentRow(1, D0 + 5 * DAY + 9 * H, "vigabatrin", 50.0, "mg/kg/day", "start"),
        TreatmentRow(2, D0 + 10 * DAY + 8 * H, "prednisolone", 40.0, "mg/day", "start"),
        *[TreatmentRow(3 + i, D0 + (11 + i) * DAY + 8 * H, "prednisolone", 40.0 - 0.25 * (i + 1), "mg/day", "change") for i in range(n)],
        TreatmentRow(200, D0 + 60 * DAY + 9 * H, "vigabatrin", 100.0, "mg/kg/day", "change"),
    ]


def test_a_daily_taper_is_said_as_one_line_under_the_per_day_table(tmp_path: Path) -> None:
    """Hostile review: the HTML report's per-day table was followed by every treatment change of the
    report in full: a daily prednisolone taper of 120 changes was a paragraph of 120 dates and doses
    nobody reads at a glance. Now a drug's dose steps in one direction, one after another, are said
    as one ('prednisolone tapered 39.75 -> 10 mg/day in 120 steps', with its first and last), the
    other changes (here vigabatrin's, in the taper's days) by their day, as the PDF's pages say their
    own days' part of it (the same words, text.changes_line). Old code: 120 'prednisolone change'."""
    out = tmp_path / "r.html"
    write_report(Tables(treatment_rows=_taper()), None, D0, D0 + 150 * DAY, timezone.utc, out)
    page = " ".join(out.read_text(encoding="utf-8").split())
    want = (f"Treatment changes on these days: {_day(5)} 09:00 vigabatrin start 50 mg/kg/day; {_day(10)} 08:00 prednisolone start "
            f"40 mg/day; {_day(11)} 08:00 to {_day(130)} 08:00 prednisolone tapered 39.75 -&gt; 10 mg/day in 120 steps; "
            f"{_day(60)} 09:00 vigabatrin change 100 mg/kg/day.")  # fmt: skip
    assert want in page, re.findall(r"Treatment changes on these days: [^<]*", page)
    pdf = tmp_path / "r.pdf"
    write_report(Tables(treatment_rows=_taper()), None, D0, D0 + 150 * DAY, timezone.utc, pdf)
    per_day = [p for p in _pdf_pages(pdf) if p.startswith("Per day")]
    assert len(per_day) == 3
    for p in per_day:
        assert "prednisolone change" not in p
        assert len(re.findall(r"prednisolone tapered [\d.]+ -> [\d.]+ mg/day in \d+ steps", p)) == 1, p
    steps = [int(s) for p in per_day for s in re.findall(r"prednisolone tapered [\d.]+ -> [\d.]+ mg/day in (\d+) steps", p)]
    assert sum(steps) == 120
