"""The report as a multi-page A4 PDF (matplotlib PdfPages) and as figures for the HTML."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from spasmwatch.report import plots, text  # noqa: E402
from spasmwatch.report.consts import ACTOGRAM_DAYS_PER_PAGE  # noqa: E402
from spasmwatch.report.data import ReportData  # noqa: E402

# Rows of a table that fit an A4 page at 8 pt; more go on further pages.
LOG_ROWS_PER_PAGE = 60
# ... of the per-day table, under its two lines of notes: the table ran off the page (an 89-day
# report's last 27 days, the treatment's weeks, were not in the PDF).
DAY_ROWS_PER_PAGE = 56
DAY_WIDTHS = [0.15, 0.14, 0.15, 0.08, 0.14, 0.11, 0.22]  # its columns' (text.DAY_HEADER)
# ... of the cluster table, under its note that 'after waking' is estimated (four lines): 60 rows
# ran into the page's foot (the test of that note).
CLUSTER_ROWS_PER_PAGE = 54
# The fraction of a table's width (the page's 0.86) one character of its 8 pt text takes, the cell's
# padding (matplotlib's Cell.PAD, a tenth of it) included: measured, '2026-10-25 02:30 CEST' (21
# characters) is 133 px of the 711 px table, 0.0099 a character with the padding; a little over it.
TABLE_CHAR_W = 0.0105
# ... and one character of free text (a note) in its last column, which is shortened to fit: measured,
# a note of prose takes 0.0083-0.0085 of the table's width a character; a little over it for capitals
# and the cell's padding. Its characters were a fixed 48 in the cluster table, made for the notes'
# width with one band: with two, 'video 06:40: video taken of [...]' ran past the table's edge.
FREE_TEXT_CHAR_W = 0.0095
# ... and the least width of that column (0.15 of the table: 15 characters, a note's first words):
# the other columns grow to their longest text, and a band's [[bands]] label is free text ('Mila's
# band in the nursery upstairs (the spare one)'): the notes' width went below zero, a ValueError
# and no report (hostile review). The widest column gives up what the notes need, its texts shortened.
FREE_TEXT_MIN_W = 0.15

A4 = (8.27, 11.69)
# A table page's measures, as fractions of the A4 page's height (8 pt text, matplotlib's table):
# one row, measured 0.01426; the gap from the top of the table's axes to its first row, measured
# 0.0176; and the page's foot, which a table must end above (the tests' bar). The rows a page holds
# are those that fit under its notes: counted under two lines of notes, a per-day table under five
# notes (11 lines) ran its last rows below the foot (doctor review).
TABLE_ROW_H = 0.0143
TABLE_TOP_GAP = 0.018
PAGE_FOOT_H = 0.03
# A table page's notes: their top, size (pt) and wrap width (characters), and the axes' top under them
NOTES_TOP, NOTES_PT, NOTES_WIDTH = 0.945, 8.0, 105
# The least height (fraction of the A4 page, 0.1: 1.2 in) of page 1's daily plot, under the summary;
# with less it goes on a page of its own. Its legend took 3 lines at 7 pt (0.4 in) in its upper
# right (a row above it, under its title, since 2026-12-07): 0.1 left its bars as much again. A family's fortnight of two bands, a zone change and a
# treatment left it 0.064 (bars and legend one smear), and three drugs started, a third band and
# unplaced events left it below zero: a ValueError, no report (doctor review). It goes there too when
# its texts do not fit in it (``plots.texts_inside``): the course of tests/export/course.py leaves it
# 0.125, and its treatment labels ran 41 px below it into its date labels (hostile review).
DAILY_PLOT_MIN_H = 0.1
# The height (fraction of the A4 page) page 1 keeps over its daily plot for the plot's title and
# legend row, measured 0.030 (0.35 in) from the plot's top to the title's, and a line of 8 pt (0.014)
# between the page's text and the title. It kept 0.09 (1.05 in), the title's alone and more before
# the legend's row: a fortnight of one drug started, its label over the bars needing 0.4 of the
# plot's height under it (DAILY_DATA_MIN_SHARE), was 38 px short and went on a page of its own,
# page 1's lower 0.4 and page 2's lower half left blank (review: more reports got a page for it).
DAILY_TITLE_H = 0.045
# The top and the height of a page of a long report's actogram (figure fractions): under the page's
# title and the plot's own two lines of title, its date labels and the time axis above the foot.
ACTOGRAM_BOX_TOP, ACTOGRAM_BOX_H = 0.90, 0.83
# Where the daily plot is put on a page of its own (figure fractions: left, bottom, width, height):
# the upper half, its rotated date labels under it.
DAILY_PAGE_BOX = (0.1, 0.5, 0.8, 0.42)
# The lowest a daily plot's foot goes on a page (figure fraction): room under it for its turned date
# labels and the page's foot.
DAILY_PLOT_BOTTOM = 0.15


def _wrapped(lines: Sequence[str], width: int) -> list[str]:
    """``lines`` wrapped at ``width`` characters (an empty one kept)."""
    return [part for line in lines for part in textwrap.wrap(line, width) or [""]]


def _line_h(size: float) -> float:
    """The height of a line of ``size`` pt text, as a fraction of the page's."""
    return size * 1.45 / 72 / A4[1]


def _lines(fig: Figure, y: float, lines: list[str], size: float = 9, width: int = 105, **kw: object) -> float:
    """Write wrapped lines from height y (figure fraction) down; returns the y below them."""
    for part in _wrapped(lines, width):
        fig.text(0.07, y, part, fontsize=size, va="top", **kw)  # type: ignore[arg-type]
        y -= _line_h(size)
    return y


def _table_top(notes: Sequence[str]) -> float:
    """The top of a table page's axes, under its notes."""
    return min(0.93, NOTES_TOP - len(_wrapped(notes, NOTES_WIDTH)) * _line_h(NOTES_PT) - 0.015)


def _rows_that_fit(notes: Sequence[str]) -> int:
    """The rows of a table (its header not counted) that fit above the page's foot under ``notes``."""
    return max(1, int((_table_top(notes) - TABLE_TOP_GAP - PAGE_FOOT_H) / TABLE_ROW_H) - 1)


class _Flow:
    """Text written down A4 pages from the top, going on to a new page above the page's foot: page
    1's summary and trends were written down the page whatever their number, and a fortnight of
    three drugs started, three given from before and three bands ran below the paper's edge
    (doctor review)."""

    def __init__(self) -> None:
        self.figs = [plt.figure(figsize=A4)]
        self.y = 0.965

    @property
    def fig(self) -> Figure:
        return self.figs[-1]

    def lines(self, lines: list[str], size: float = 9, width: int = 105, gap: float = 0.0, **kw: object) -> None:
        """Wrapped lines, ``gap`` below the last (figure fraction)."""
        self.y -= gap
        for part in _wrapped(lines, width):
            if self.y - _line_h(size) < PAGE_FOOT_H + 0.02:  # the foot's line, and a margin above it
                self.figs.append(plt.figure(figsize=A4))
                self.y = 0.965
            self.fig.text(0.07, self.y, part, fontsize=size, va="top", **kw)  # type: ignore[arg-type]
            self.y -= _line_h(size)


def page_summary(data: ReportData) -> list[Figure]:
    """Page 1 (and the pages its text goes on to), with the daily plot under its text; or, where
    the text leaves it under DAILY_PLOT_MIN_H, on a page of its own."""
    flow = _Flow()
    flow.fig.text(0.07, flow.y, text.TITLE, fontsize=17, weight="bold", va="top")
    flow.y = 0.935
    flow.lines([text.patient_line(data)], 10, 100, weight="bold")
    flow.lines([text.subtitle(data)], 8, 130, color="#555555")
    warn = textwrap.wrap(text.DISCLAIMER, 110)
    box = flow.fig.text(0.07, flow.y - 0.008, "\n".join(warn), fontsize=8.5, va="top", color="#7b241c")
    box.set_bbox({"facecolor": "#fdedec", "edgecolor": "#c0392b", "boxstyle": "round,pad=0.5"})
    # Below the box: its lines (8.5 pt at matplotlib's 1.2 line spacing) and its padding.
    flow.lines(["Summary"], 11, gap=0.035 + len(warn) * 8.5 * 1.2 / 72 / A4[1], weight="bold")
    flow.lines(text.summary(data))
    flow.lines(["Since each treatment started"], 11, gap=0.01, weight="bold")
    flow.lines(text.trend_lines(data))
    flow.lines(["What the band cannot see"], 11, gap=0.01, weight="bold")
    flow.lines([text.LIMITS], 8, 125)
    room = flow.y - DAILY_TITLE_H - DAILY_PLOT_BOTTOM
    if room >= DAILY_PLOT_MIN_H:
        ax = flow.fig.add_axes((0.1, DAILY_PLOT_BOTTOM, 0.8, room))
        plots.plot_daily(ax, data)
        # Its treatment labels run down from its top as long as their text: a low plot's ran into
        # its date labels (the course's, 0.125 of the page: hostile review); then on a page of its own.
        # Measured as drawn: a drug's emoji measured unreplaced warned of its missing glyph.
        plots.draw_drawable(flow.fig)
        if plots.texts_inside(ax):
            return flow.figs
        for drawn in flow.fig.axes[flow.fig.axes.index(ax) :]:
            flow.fig.delaxes(drawn)  # the plot and its twin (the events' axis)
    return [*flow.figs, _daily_page(data)]


def _daily_page(data: ReportData) -> Figure:
    """The daily plot on a page of its own, in its upper half (DAILY_PAGE_BOX); lower, down to
    DAILY_PLOT_BOTTOM, when its texts need more height (``plots.texts_over``: a long label over the
    bars or the spasm line needs DAILY_DATA_MIN_SHARE of the height under it, where they are drawn)."""
    fig = plt.figure(figsize=A4)
    plots.plot_daily(ax := fig.add_axes(DAILY_PAGE_BOX), data)
    plots.draw_drawable(fig)
    over = plots.texts_over(ax)
    if over > 1:
        left, bottom, width, height = DAILY_PAGE_BOX
        low = max(DAILY_PLOT_BOTTOM, bottom - (over + 2) / fig.dpi / A4[1])
        for drawn in fig.axes[:]:
            fig.delaxes(drawn)  # the plot and its twin (the events' axis)
        plots.plot_daily(fig.add_axes((left, low, width, height + bottom - low)), data)
    return fig


def page_actogram(data: ReportData) -> list[Figure]:
    """The actogram, on one page up to ACTOGRAM_DAYS_PER_PAGE days; a longer one over pages titled
    with their dates ('Sleep by day (2/14): ...'), each day's row as high as on the first."""
    chunks = plots.actogram_rows(data)
    if len(chunks) == 1:
        fig = plt.figure(figsize=A4)
        plots.plot_actogram(fig.add_axes((0.16, 0.06, 0.8, 0.88)), data)
        return [fig]
    figs = []
    for k, rows in enumerate(chunks):
        fig = plt.figure(figsize=A4)
        fig.text(0.07, 0.965, f"Sleep by day ({k + 1}/{len(chunks)}): {text.days_said(data, rows)}", fontsize=12, weight="bold", va="top")
        high = ACTOGRAM_BOX_H * len(rows) / ACTOGRAM_DAYS_PER_PAGE  # the last page's rows as high as the others'
        plots.plot_actogram(fig.add_axes((0.16, ACTOGRAM_BOX_TOP - high, 0.8, high)), data, rows)
        figs.append(fig)
    return figs


def page_clusters(data: ReportData) -> Figure:
    fig, axes = plt.subplots(3, 1, figsize=A4)
    plots.plot_time_of_day(axes[0], data)
    plots.plot_post_wake(axes[1], data)
    plots.plot_size_duration(axes[2], data)
    fig.tight_layout(pad=2.5)
    return fig


def _table_page(
    title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: list[float], notes: Sequence[str] = ()
) -> Figure:
    fig = plt.figure(figsize=A4)
    fig.text(0.07, 0.965, title, fontsize=12, weight="bold", va="top")
    _lines(fig, NOTES_TOP, list(notes), NOTES_PT, NOTES_WIDTH)
    ax = fig.add_axes((0.07, 0.05, 0.86, _table_top(notes) - 0.05))
    ax.axis("off")
    if rows:
        tab = ax.table(cellText=[list(r) for r in rows], colLabels=list(header), colWidths=widths, loc="upper left", cellLoc="left")
        tab.auto_set_font_size(False)
        tab.set_fontsize(8)
    else:
        ax.text(0, 1, "(none)", va="top")
    return fig


def _cluster_widths(data: ReportData) -> list[float]:
    """Column widths of text.cluster_header(data): a band column takes from the notes'."""
    return [0.18, 0.1, 0.08, 0.1, 0.12, 0.12, 0.3] if len(data.bands) > 1 else [0.18, 0.08, 0.1, 0.12, 0.12, 0.4]


def _fitted(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: list[float]) -> tuple[list[tuple[str, ...]], list[float]]:
    """``rows`` with their last column (free text) shortened to fit it (FREE_TEXT_CHAR_W), and the
    column widths: every other column as wide as its longest text, its header's included, taken
    from the last. A time in the hour the clocks go back names its
    zone (``text.at``: '2026-10-25 02:30 CEST'): in the column sized for a bare one it ran into the
    next (zone review); a band's id ('nursery-0001') in the column sized for a name ran into the
    count beside it, 'nursery-00018' (doctor review)."""
    fitted = [max([w] + [len(r[j]) * TABLE_CHAR_W for r in (header, *rows)]) for j, w in enumerate(widths[:-1])]
    over = sum(fitted) - (sum(widths) - FREE_TEXT_MIN_W)
    if over > 0:  # the notes keep FREE_TEXT_MIN_W: the widest column (a band's long name) gives it up
        j = max(range(len(fitted)), key=fitted.__getitem__)
        fitted[j] -= over
        rows = [(*r[:j], _cut(r[j], int(fitted[j] / TABLE_CHAR_W)), *r[j + 1 :]) for r in rows]
    fitted.append(widths[-1] - (sum(fitted) - sum(widths[:-1])))
    keep = int(fitted[-1] / FREE_TEXT_CHAR_W)
    return [(*r[:-1], textwrap.shorten(r[-1], keep)) for r in rows], fitted


def _cut(s: str, chars: int) -> str:
    """``s`` in at most ``chars`` characters, its end cut to '…' (a name has no words to drop)."""
    return s if len(s) <= chars else s[: max(0, chars - 1)] + "…"


def _pages(
    title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: list[float], per_page: int, notes: Sequence[str] = ()
) -> list[Figure]:
    """A table over as many pages as its rows need ('Per day (2/3)'), one page when it has none;
    ``per_page`` rows a page at most, fewer when its notes leave room for fewer."""
    per_page = min(per_page, _rows_that_fit(notes))
    return _paged(title, header, [(rows[i : i + per_page], notes) for i in range(0, len(rows), per_page)] or [([], notes)], widths)


def _paged(title: str, header: tuple[str, ...], chunks: list[tuple[Sequence[tuple[str, ...]], Sequence[str]]], widths: list[float]) -> list[Figure]:
    """A table's pages, each ``chunks``' rows under its notes ('Per day (2/3)')."""
    return [
        _table_page(f"{title}{f' ({k + 1}/{len(chunks)})' if len(chunks) > 1 else ''}", header, rows, widths, notes)
        for k, (rows, notes) in enumerate(chunks)
    ]


def _day_pages(data: ReportData) -> list[Figure]:
    """The per-day table's pages, each under the notes of its own days (``text.day_notes``: their
    treatment changes and days far above what spasms give), with the rows that fit under them: fewer rows, fewer changes, so a page's
    rows are cut until its notes leave room for them all."""
    rows, i = text.day_rows(data), 0
    chunks: list[tuple[Sequence[tuple[str, ...]], Sequence[str]]] = []
    while i < len(rows):
        n = DAY_ROWS_PER_PAGE
        while (fit := min(n, _rows_that_fit(notes := text.day_notes(data, _days_of(data, i, n))))) < n:
            n = fit
        chunks.append((rows[i : i + n], notes))
        i += n
    return _paged("Per day", text.DAY_HEADER, chunks or [([], text.day_notes(data, set()))], DAY_WIDTHS)


def _days_of(data: ReportData, i: int, n: int) -> set[date]:
    """The report's days ``i`` to ``i + n`` (not included)."""
    return {d.day for d in data.days[i : i + n]}


def figures(data: ReportData) -> list[Figure]:
    """The PDF's pages in order, made under its settings (plots.as_typed) wherever they are built;
    the caller closes them (plt.close)."""
    log, log_widths = _fitted(text.LOG_HEADER, text.log_rows(data), [0.2, 0.17, 0.63])
    cl, cl_widths = _fitted(text.cluster_header(data), text.cluster_rows(data), _cluster_widths(data))
    with plots.as_typed():
        return [
            *page_summary(data),
            *page_actogram(data),
            page_clusters(data),
            *_day_pages(data),
            *_pages("Each cluster", text.cluster_header(data), cl, cl_widths, CLUSTER_ROWS_PER_PAGE, text.cluster_notes(data)),
            *_pages("Treatments and caregiver notes", text.LOG_HEADER, log, log_widths, LOG_ROWS_PER_PAGE),
        ]


def write_pdf(data: ReportData, out: Path) -> int:
    with plots.as_typed():
        figs = figures(data)
        for k, fig in enumerate(figs):
            fig.text(0.5, 0.012, text.footer(data, k + 1, len(figs)), fontsize=6.5, ha="center", va="bottom", color="#555555")
        # Made in memory (a report is a few hundred kB), then written: a full disk under PdfPages
        # ended in a zlib error from its clean-up instead of the OSError that names the problem.
        buf = io.BytesIO()
        with PdfPages(buf, metadata={"Title": f"{text.TITLE} (not a diagnosis)", "Creator": "spasmwatch"}) as pdf:
            for fig in figs:
                plots.draw_drawable(fig)
                pdf.savefig(fig)
                plt.close(fig)
    out.write_bytes(buf.getvalue())
    return len(figs)
