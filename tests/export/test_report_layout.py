"""The daily plot's layout, measured as drawn (matplotlib's window extents, px): its treatment labels,
note markers, legend, bars and spasm line cover none of one another. Each store is a real one made
here; the plot is read where the report draws it (the PDF's page, the HTML's picture)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import gaps
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.transforms import Bbox

from spasmwatch.export.store_source import StoreSource
from spasmwatch.report import html, plots
from spasmwatch.report.data import ReportData, gather
from spasmwatch.report.pages import page_summary
from spasmwatch.report.plots import NOTE_COLOR, TREAT_COLOR
from spasmwatch.store import Store

DAY = 86400.0
H = 3600.0
D0 = datetime(2024, 3, 4, tzinfo=timezone.utc).timestamp()
DAILY_TITLE = "Clusters and spasm-like events per day"


def _data(db: Path, days: int) -> ReportData:
    source = StoreSource.open(db)
    try:
        return gather(source, None, D0, D0 + days * DAY, timezone.utc, D0 + days * DAY)
    finally:
        source.close()


@contextmanager
def _daily_plots(data: ReportData) -> Iterator[list[Axes]]:
    """The daily plot as the PDF draws it (page 1 or a page of its own) and as the HTML's picture
    (at the PNG's dpi), drawn."""
    with plots.as_typed():
        figs = [*page_summary(data), html.daily_figure(data)]
    try:
        for f in figs:
            f.canvas.draw()
        yield [ax for f in figs for ax in f.axes if ax.get_title().startswith(DAILY_TITLE)]
    finally:
        for f in figs:
            plt.close(f)


def _labels(ax: Axes) -> list[tuple[str, Bbox]]:
    return [(t.get_text(), t.get_window_extent()) for t in ax.texts if t.get_visible() and t.get_color() == TREAT_COLOR]


def _bars(ax: Axes) -> list[Bbox]:
    """The clusters' and false alarms' bars that have a height."""
    return [p.get_window_extent() for c in ax.containers for p in c.patches if p.get_height() > 0]  # type: ignore[attr-defined]


def _spasm_points(ax: Axes) -> tuple[np.ndarray, float]:
    """The spasm line (on the plot's twin axes) as px points: its markers and its segments sampled
    every px or so; and the markers' radius (px)."""
    (twin,) = [a for a in ax.figure.axes if a is not ax and a.get_shared_x_axes().joined(a, ax)]
    (line,) = twin.lines
    xy = line.get_transform().transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
    pts = [xy[k] for k in range(len(xy)) if np.isfinite(xy[k]).all()]
    for a, b in zip(xy, xy[1:], strict=False):
        if np.isfinite(a).all() and np.isfinite(b).all():  # a gap (a day of no data) breaks the line
            n = int(np.hypot(*(b - a))) + 2
            pts += list(np.linspace(a, b, n))
    return np.array(pts).reshape(-1, 2), line.get_markersize() / 2 * ax.figure.dpi / 72


def _hit(box: Bbox, pts: np.ndarray, r: float) -> bool:
    """Whether a point of ``pts`` (radius ``r``) is inside ``box``."""
    x, y = pts[:, 0], pts[:, 1]
    return bool(((x > box.x0 - r) & (x < box.x1 + r) & (y > box.y0 - r) & (y < box.y1 + r)).any())


def _notes(ax: Axes) -> list[Bbox]:
    return [ln.get_window_extent() for ln in ax.lines if to_hex(ln.get_color()) == NOTE_COLOR]


def _covered(ax: Axes) -> list[tuple[str, str]]:
    """What a treatment label of ``ax`` covers: a bar, the spasm line, a note's marker."""
    pts, r = _spasm_points(ax)
    out = []
    for said, box in _labels(ax):
        out += [(said, "bar")] * any(box.overlaps(b) for b in _bars(ax))
        out += [(said, "spasm line")] * _hit(box, pts, r)
        out += [(said, "note")] * any(box.overlaps(n) for n in _notes(ax))
    return out


def _two_year_store(db: Path) -> None:
    """The band worn the first 2 days of 730; a cluster of 5 every 10 days; a note every 30 days; the
    long tests' treatments: vigabatrin started on day 5, prednisolone on day 10 and tapered daily
    by 0.25 mg/day for 120 days, vigabatrin raised on days 60 and 63."""
    gaps.build(db, D0, 2 * DAY, clusters=tuple((k * 10 * DAY + 7 * H, 5) for k in range(73)))
    with Store(db) as store:
        for k in range(24):
            store.add_note(D0 + k * 30 * DAY + 10 * H, "video", f"video {k}", gaps.DEVICE, "parent")
        store.add_treatment(D0 + 5 * DAY + 9 * H, "vigabatrin", "start", 50.0, "mg/kg/day", None, "parent")
        store.add_treatment(D0 + 10 * DAY + 8 * H, "prednisolone", "start", 40.0, "mg/day", None, "parent")
        for i in range(120):
            store.add_treatment(D0 + (11 + i) * DAY + 8 * H, "prednisolone", "change", 40.0 - 0.25 * (i + 1), "mg/day", None, "parent")
        store.add_treatment(D0 + 60 * DAY + 9 * H, "vigabatrin", "change", 100.0, "mg/kg/day", None, "parent")
        store.add_treatment(D0 + 63 * DAY + 9 * H, "vigabatrin", "change", 150.0, "mg/kg/day", None, "parent")


@pytest.fixture(scope="module")
def drawn(course_db: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[ReportData, list[Axes]]]]:
    """The course's fortnight and the 2-year store, each with its daily plots drawn (_daily_plots),
    for the tests that only read them: drawn once, not by each of the four (this file: 32 s of CPU
    -> 14 s, 117 s -> 43 s at load 12-17)."""
    db = tmp_path_factory.mktemp("two_years") / "s.db"
    _two_year_store(db)
    course, two_years = _data(course_db[0], 14), _data(db, 730)
    with _daily_plots(course) as course_daily, _daily_plots(two_years) as two_years_daily:
        yield [(course, course_daily), (two_years, two_years_daily)]


def test_a_treatment_label_covers_no_bar_and_no_spasm_point(drawn: list[tuple[ReportData, list[Axes]]]) -> None:
    """Review: the daily plot's treatment labels hang from its top as long as their text, and the
    spasm line's axis ran to its highest day: in the course's plot 'vigabatrin start 50 mg/kg/day'
    lay across the spasm line, and on a 2-year plot the labels across its points and the bars.
    Now the bars and the line are drawn low enough under every label (the plot's scales raised), in
    the PDF's plot and the HTML's picture; every label is still drawn. Old code: the course's
    'vigabatrin start 50 mg/kg/day' over the spasm line."""
    wants = ({"vigabatrin start 50 mg/kg/day", "vigabatrin change 100 mg/kg/day"},
             {"vigabatrin start 50 mg/kg/day", "prednisolone tapered 40 -> 10 mg/day in 120 steps"})  # fmt: skip
    for (data, daily), want in zip(drawn, wants, strict=True):
        assert len(daily) == 2
        for ax in daily:
            assert want <= {s for s, _ in _labels(ax)}, _labels(ax)
            assert _covered(ax) == [], (len(data.days), _covered(ax))
            assert _bars(ax) and len(_spasm_points(ax)[0])


def test_a_treatment_label_covers_no_note_marker(tmp_path: Path) -> None:
    """Review: a treatment label as long as the plot is high (a long drug name, the HTML's picture
    made as high as the label needs) ran down over the note markers along the plot's foot: here a
    video filmed 3 h after the start, its marker under the start's label. Now a label that reaches
    the notes' row goes beside their markers (a start however far, as beside another label), in
    the PDF's plot and the HTML's picture. Old code: the label over the video's marker in the
    PDF's plot (a page of its own)."""
    db = tmp_path / "s.db"
    gaps.build(db, D0, 7 * DAY)  # worn all week: no day's 'no data' mark
    drug = "prednisolone oral solution (Prednisolon-ratiopharm 5 mg/ml, the hospital's own)"
    with Store(db) as store:
        store.add_treatment(D0 + 3 * DAY + 8 * H, drug, "start", 40.0, "mg/day", None, "parent")
        store.add_note(D0 + 3 * DAY + 11 * H, "video", "video taken", gaps.DEVICE, "parent")
    data = _data(db, 7)
    said = f"{drug} start 40 mg/day"
    with _daily_plots(data) as daily:
        for ax in daily:
            labels = _labels(ax)
            assert [s for s, _ in labels] == [said], labels
            assert [(s, n) for s, box in labels for n in _notes(ax) if box.overlaps(n)] == [], ax.figure.get_size_inches()


def test_the_legend_covers_no_marker_bar_or_text(drawn: list[tuple[ReportData, list[Axes]]]) -> None:
    """Review: on a 2-year plot the legend, upper right inside the plot, lay over the spasm line's
    markers (the line's axis ran to its highest day, 5 events, at the plot's top; the twin axes'
    markers drawn through the legend's box). Now the legend is in a row above the plot, under its
    title: it covers no marker, bar, note or text of the plot, nor the title, and is inside the
    figure; in the course's plot too. Old code: the 2-year legend over spasm markers."""
    for data, daily in drawn:
        for ax in daily:
            legend = ax.get_legend().get_window_extent()
            pts, r = _spasm_points(ax)
            assert not _hit(legend, pts, r), len(data.days)
            assert not [b for b in [*_bars(ax), *_notes(ax)] if legend.overlaps(b)], len(data.days)
            assert not [t.get_text() for t in ax.texts if t.get_visible() and legend.overlaps(t.get_window_extent())]
            assert not legend.overlaps(ax.title.get_window_extent())
            fig = ax.figure.bbox
            assert fig.x0 <= legend.x0 and legend.x1 <= fig.x1 and fig.y0 <= legend.y0 and legend.y1 <= fig.y1


def test_a_long_label_over_the_bars_takes_the_page_s_empty_half(tmp_path: Path) -> None:
    """The PDF's page of its own draws the daily plot in its upper half; a start's label of a long
    drug name (300 pt, turned) over the bars left them 0.12 of its height, the page's lower half
    empty. Now the plot goes down the page as far as its labels need for DAILY_DATA_MIN_SHARE of
    its height under them (to DAILY_PLOT_BOTTOM at most), and the bars are drawn there, under the
    label. Old code: the label's foot at 0.12 of the plot's height."""
    from spasmwatch.report.consts import DAILY_DATA_MIN_SHARE
    from spasmwatch.report.pages import A4, DAILY_PAGE_BOX

    db = tmp_path / "s.db"
    gaps.build(db, D0, 7 * DAY, clusters=tuple((k * DAY + 7 * H, 6) for k in range(7)))
    drug = "prednisolone oral solution (Prednisolon-ratiopharm 5 mg/ml, the hospital's own)"
    with Store(db) as store:
        store.add_treatment(D0 + 3 * DAY + 8 * H, drug, "start", 40.0, "mg/day", None, "parent")
    with _daily_plots(_data(db, 7)) as daily:
        ax = daily[0]
        assert tuple(ax.figure.get_size_inches()) == A4  # the PDF's page of its own
        assert ax.get_position().height > DAILY_PAGE_BOX[3]
        ((said, box),) = _labels(ax)
        plot = ax.get_window_extent()
        assert (box.y0 - plot.y0) / plot.height >= DAILY_DATA_MIN_SHARE - 0.01, (box, plot)
        assert _covered(ax) == []


def _line_segments(ax: Axes) -> list[list[Bbox]]:
    """Each treatment's dashed line as drawn: its segments (a gap where it is broken) as px boxes,
    as wide as drawn, from foot to top."""
    out = []
    for ln in ax.lines:
        if to_hex(ln.get_color()) == TREAT_COLOR and ln.get_linestyle() == "--":
            xy = ln.get_transform().transform(np.column_stack([ln.get_xdata(), ln.get_ydata()]))
            half = ln.get_linewidth() / 2 * ax.figure.dpi / 72
            cut = np.flatnonzero(~np.isfinite(xy).all(axis=1))
            finite = [part[np.isfinite(part).all(axis=1)] for part in np.split(xy, cut)]
            parts = [p for p in finite if len(p) > 1]
            out.append([Bbox([[p[0, 0] - half, p[:, 1].min()], [p[0, 0] + half, p[:, 1].max()]]) for p in parts])
    return out


def _treatment_lines(ax: Axes) -> list[Bbox]:
    """The treatments' dashed lines as px boxes, as wide as drawn, from their foot to their top."""
    return [Bbox.union(parts) for parts in _line_segments(ax)]


def test_a_treatment_label_crosses_no_treatment_line(drawn: list[tuple[ReportData, list[Axes]]]) -> None:
    """Review: on a 2-year plot a day is under a px, and 'vigabatrin start 50 mg/kg/day' (day 5)
    lay across prednisolone's dashed line (its start on day 10), which then read as vigabatrin's.
    Now a label goes beside every treatment line as beside another label, in the PDF's plot and
    the HTML's picture; every start is still drawn. Old code: the 2-year vigabatrin start's label
    over prednisolone's line."""
    wants = ({"vigabatrin start 50 mg/kg/day", "vigabatrin change 100 mg/kg/day"},
             {"vigabatrin start 50 mg/kg/day", "prednisolone start 40 mg/day"})  # fmt: skip
    for (data, daily), want in zip(drawn, wants, strict=True):
        for ax in daily:
            lines = _treatment_lines(ax)
            assert len(lines) >= 2
            assert want <= {s for s, _ in _labels(ax)}, _labels(ax)
            crossed = [(s, round(ln.x0, 1)) for s, box in _labels(ax) for ln in lines if box.x0 < ln.x1 and ln.x0 < box.x1]
            assert crossed == [], (len(data.days), crossed)


def _many_changes_store(db: Path) -> None:
    """The 2-year store, and two drugs more started after prednisolone: topiramate on day 12,
    pyridoxine on day 13."""
    _two_year_store(db)
    with Store(db) as store:
        store.add_treatment(D0 + 12 * DAY + 9 * H, "topiramate", "start", 5.0, "mg/kg/day", None, "parent")
        store.add_treatment(D0 + 13 * DAY + 9 * H, "pyridoxine", "start", 30.0, "mg/kg/day", None, "parent")


# Each label of the 2-year stores, and when its line is (s from D0; a run's: its first step)
OWN_LINE = {"vigabatrin start 50 mg/kg/day": 5 * DAY + 9 * H, "prednisolone start 40 mg/day": 10 * DAY + 8 * H,
            "prednisolone tapered 40 -> 10 mg/day in 120 steps": 11 * DAY + 8 * H,
            "topiramate start 5 mg/kg/day": 12 * DAY + 9 * H, "pyridoxine start 30 mg/kg/day": 13 * DAY + 9 * H,
            "vigabatrin change 100 mg/kg/day": 60 * DAY + 9 * H, "vigabatrin change 150 mg/kg/day": 63 * DAY + 9 * H}  # fmt: skip


def test_a_moved_treatment_label_sits_beside_no_other_treatment_line(tmp_path: Path, drawn: list[tuple[ReportData, list[Axes]]]) -> None:
    """Review: on a 2-year plot (a day under a px) a label moved off its line went right past the
    lines beside it and was put 1 px past the next, as a label beside its own: the taper's label,
    kept over its span however far it went, 1.0 px right of vigabatrin's day-63 line in the HTML's
    picture, and 'pyridoxine start' there in the PDF's, both read as that line's; 'vigabatrin
    start' 1.0 px right of the taper's line. Now a label is nearer to its own line than to any
    other, or TREATMENT_LABEL_CLEAR_PT from every other, in the PDF's plot and the HTML's picture;
    every start and the taper still drawn. Old code: those three 1.0 px from another's line."""
    from spasmwatch.report.consts import TREATMENT_LABEL_CLEAR_PT

    db = tmp_path / "s.db"
    _many_changes_store(db)
    must = {"vigabatrin start 50 mg/kg/day", "prednisolone start 40 mg/day", "prednisolone tapered 40 -> 10 mg/day in 120 steps"}
    many = _data(db, 730)
    with _daily_plots(many) as many_daily:
        for (data, daily), want in ((drawn[1], must), ((many, many_daily), must | {"topiramate start 5 mg/kg/day", "pyridoxine start 30 mg/kg/day"})):
            for ax in daily:
                clear = TREATMENT_LABEL_CLEAR_PT * ax.figure.dpi / 72
                lines, near = _treatment_lines(ax), []
                assert want <= {s for s, _ in _labels(ax)}, _labels(ax)
                for said, box in _labels(ax):
                    x = ax.transData.transform((OWN_LINE[said] / DAY - 0.5, 0))[0]
                    (own,) = [ln for ln in lines if abs((ln.x0 + ln.x1) / 2 - x) < 0.5]
                    gap = {ln.x0: max(ln.x0 - box.x1, box.x0 - ln.x1) for ln in lines}
                    # a line drawn over its own (a day on): one line as drawn
                    others = [ln.x0 for ln in lines if ln.x0 >= own.x1 or ln.x1 <= own.x0]
                    near += [(said, round(gap[o], 1)) for o in others if gap[o] < min(clear, gap[own.x0])]
                assert near == [], (len(data.treatments), ax.figure.get_size_inches(), near)


def test_a_note_marker_sits_on_no_bar_and_no_spasm_point(drawn: list[tuple[ReportData, list[Axes]]]) -> None:
    """Review: the notes' markers were drawn at 3 % of the plot's height, on the feet of the red
    bars of the days they were written on (the course's video of day 1, its medication note of
    day 7; a 2-year plot's video on a cluster's day). Now they are drawn in a row of their own
    under the bars' and the line's zero, in the PDF's plot and the HTML's picture. Old code: the
    course's markers over its bars."""
    for data, daily in drawn:
        for ax in daily:
            notes = _notes(ax)
            assert len(notes) == len(data.notes)
            pts, r = _spasm_points(ax)
            on_bars = [(round(n.x0), round(n.y0)) for n in notes if any(n.overlaps(b) for b in _bars(ax))]
            assert on_bars == [], (len(data.days), on_bars)
            assert not [n for n in notes if _hit(n, pts, r)], len(data.days)
            plot = ax.get_window_extent()
            assert all(plot.y0 <= n.y0 and n.y1 <= plot.y1 for n in notes)  # still inside the plot


def test_the_spasm_line_runs_through_no_mark_of_a_day_of_few_hours(tmp_path: Path) -> None:
    """Review: a day of 2 h monitored, no cluster and 4 spasm-like events between days of 20 has
    its 'under 12.0 h monitored' mark standing on its empty bar, and the spasm line, down to 4 and
    up again, ran through it. Now the mark stands on the higher of its bar and the line over its
    column, the line's scale raised to leave it room, in the PDF's plot and the HTML's picture.
    Old code: the line through the mark."""
    from spasmwatch.report.text import FEW_HOURS

    db = tmp_path / "s.db"
    gaps.build(db, D0, 7 * DAY, gaps=((3 * DAY + 2 * H, 4 * DAY),), spasms=tuple(3 * DAY + H + k * 60 for k in range(4)),
               clusters=tuple((k * DAY + 7 * H, 20) for k in range(7) if k != 3))  # fmt: skip
    data = _data(db, 7)
    assert [d.spasms for d in data.days] == [20, 20, 20, 4, 20, 20, 20]
    with _daily_plots(data) as daily:
        for ax in daily:
            pts, r = _spasm_points(ax)
            (mark,) = [t.get_window_extent() for t in ax.texts if t.get_text() == FEW_HOURS]
            assert not _hit(mark, pts, r), (mark, ax.figure.get_size_inches())
            assert not [b for b in _bars(ax) if b.overlaps(mark)]
            assert ax.get_window_extent().y1 >= mark.y1  # inside the plot


def test_a_note_marker_lies_on_no_treatment_line(tmp_path: Path) -> None:
    """Review: a note written as a treatment was entered (a video of the first dose, filmed at once;
    a medication note with a dose change) had its marker in the notes' row on the treatment's dashed
    line, which ran down through the row to the plot's foot. Now the lines run from the data's zero
    (the bars' feet) up, over the notes' row, in the PDF's plot and the HTML's picture; each note's
    marker is still at its time. Old code: both markers on their lines."""
    db = tmp_path / "s.db"
    gaps.build(db, D0, 7 * DAY, clusters=tuple((k * DAY + 7 * H, 3) for k in range(7)))
    with Store(db) as store:
        store.add_treatment(D0 + 2 * DAY + 8 * H, "vigabatrin", "start", 50.0, "mg/kg/day", None, "parent")
        store.add_note(D0 + 2 * DAY + 8 * H + 60, "video", "first dose", gaps.DEVICE, "parent")
        store.add_treatment(D0 + 5 * DAY + 20 * H, "vigabatrin", "change", 100.0, "mg/kg/day", None, "parent")
        store.add_note(D0 + 5 * DAY + 20 * H, "medication", "dose raised", gaps.DEVICE, "parent")
    data = _data(db, 7)
    with _daily_plots(data) as daily:
        for ax in daily:
            notes, lines = _notes(ax), _treatment_lines(ax)
            assert len(notes) == 2 and len(lines) == 2
            # each marker at its line's time: the case is what it says
            assert all(abs((n.x0 + n.x1) / 2 - (ln.x0 + ln.x1) / 2) < 1 for n, ln in zip(notes, sorted(lines, key=lambda b: b.x0), strict=True))
            on = [(round(n.x0), round(ln.y0)) for n in notes for ln in lines if n.overlaps(ln)]
            assert on == [], (ax.figure.get_size_inches(), on)
            zero, top = ax.transData.transform((0, 0))[1], ax.get_window_extent().y1
            assert all(abs(ln.y0 - zero) < 1 and abs(ln.y1 - top) < 1 for ln in lines), (zero, top, lines)


def test_a_fortnight_with_a_drug_started_keeps_its_daily_plot_on_page_1(tmp_path: Path) -> None:
    """Review ('more reports get a page for the plot'): since a treatment label over the bars needs
    DAILY_DATA_MIN_SHARE of the plot's height under it, a fortnight with one drug started, the
    commonest follow-up, had its plot 38 px too low on page 1 and put it on a page of its own: page
    1's lower 0.4 blank, and page 2's lower half. Page 1 kept 0.09 of its height (1.05 in) over the
    plot for its title and legend, which take 0.03. Now the plot is on page 1, its label over the
    bars with the share under it, its title under the page's text and its dates above the foot.
    Old code: 2 pages."""
    from spasmwatch.report.pages import A4, PAGE_FOOT_H

    db = tmp_path / "s.db"
    gaps.build(db, D0, 14 * DAY, clusters=tuple((k * DAY + 7 * H, 4 + k % 5) for k in range(14)))
    with Store(db) as store:
        store.add_treatment(D0 + 7 * DAY + 8 * H, "vigabatrin", "start", 50.0, "mg/kg/day", None, "parent")
    with plots.as_typed():
        figs = page_summary(_data(db, 14))
    try:
        assert len(figs) == 1
        (page,) = figs
        page.canvas.draw()
        (ax,) = [ax for ax in page.axes if ax.get_title().startswith(DAILY_TITLE)]
        assert plots.texts_inside(ax) and [s for s, _ in _labels(ax)] == ["vigabatrin start 50 mg/kg/day"]
        assert _covered(ax) == []
        title, texts = ax.title.get_window_extent(), [t.get_window_extent() for t in page.texts if t.get_text().strip()]
        assert title.y1 < min(t.y0 for t in texts), (title, min(t.y0 for t in texts))  # under the page's text
        dates = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
        assert min(d.y0 for d in dates) > PAGE_FOOT_H * A4[1] * page.dpi
    finally:
        for f in figs:
            plt.close(f)


@pytest.mark.parametrize("days", [14, 45])
def test_a_treatment_line_runs_through_no_mark_of_a_day(tmp_path: Path, days: int) -> None:
    """Review: up to DAILY_DATES_MAX days each day of no data is marked 'no data' in its column, and
    a day of a few hours 'under 12.0 h monitored' over its bar; a treatment entered on such a day
    near its middle had its dashed line, the plot's height, drawn through the mark. Now the line
    stops under the mark and goes on over it, in the PDF's plot and the HTML's picture, on a
    fortnight's and a 45-day plot (a day 14 px, as wide as a mark); the marks are drawn, the line
    still from the data's zero to the top. Old code: both lines through both marks."""
    from spasmwatch.report.text import FEW_HOURS, NO_DATA

    db = tmp_path / "s.db"
    gaps.build(db, D0, days * DAY, gaps=((3 * DAY, 4 * DAY), (6 * DAY + 2 * H, 7 * DAY)),
               clusters=tuple((k * DAY + 7 * H, 3) for k in range(days) if k != 3))  # fmt: skip
    with Store(db) as store:
        store.add_treatment(D0 + 3 * DAY + 12 * H, "vigabatrin", "start", 50.0, "mg/kg/day", None, "parent")
        store.add_treatment(D0 + 6 * DAY + 12 * H + 600, "vigabatrin", "change", 100.0, "mg/kg/day", None, "parent")
    with _daily_plots(_data(db, days)) as daily:
        for ax in daily:
            marks = [(t.get_text(), t.get_window_extent()) for t in ax.texts if t.get_text() in (FEW_HOURS, NO_DATA)]
            assert sorted(s for s, _ in marks) == [NO_DATA, FEW_HOURS], marks
            lines = _line_segments(ax)
            assert len(lines) == 2
            crossed = [(s, round(seg.x0)) for s, box in marks for parts in lines for seg in parts if seg.overlaps(box)]
            assert crossed == [], (ax.figure.get_size_inches(), crossed)
            # each line beside its mark (the case is what it says), from the data's zero to the top
            assert all(any(box.x0 < seg.x1 and seg.x0 < box.x1 for _, box in marks) for parts in lines for seg in parts)
            zero, top = ax.transData.transform((0, 0))[1], ax.get_window_extent().y1
            assert all(abs(min(b.y0 for b in parts) - zero) < 1 and abs(max(b.y1 for b in parts) - top) < 1 for parts in lines)
