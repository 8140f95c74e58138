"""The report's plots, each drawn on a matplotlib Axes (Agg backend, no display)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from collections.abc import Iterable, Sequence  # noqa: E402
from contextlib import AbstractContextManager  # noqa: E402
from datetime import timedelta  # noqa: E402
from functools import cache  # noqa: E402
from math import isnan, nan  # noqa: E402

from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.table import Table  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox, blended_transform_factory  # noqa: E402

from spasmwatch.export.rows import TreatmentRow  # noqa: E402
from spasmwatch.report.consts import ACTOGRAM_DAYS_PER_PAGE, DAILY_DATA_MIN_SHARE, DAILY_DATES_MAX, DOSE_STEPS_AS_ONE, SIZE_PLOT_PAD, TREATMENT_LABEL_CLEAR_PT, TREATMENT_LABEL_SHIFT_MAX_PT  # noqa: E402
from spasmwatch.report.data import ReportData, midnight, sleep_spans  # noqa: E402
from spasmwatch.report.text import FEW_HOURS, NO_DATA, at, day_label, dose_run_said, dose_runs, too_few_for_a_rate, unmonitored, zone  # noqa: E402

CLUSTER_COLOR = "#c0392b"
SPASM_COLOR = "#34495e"
SLEEP_COLOR = "#9db4d3"
TREAT_COLOR = "#1e8449"
NOTE_COLOR = "#b9770e"
# The actogram's hours no band was monitoring (worn and heard from): drawn, not left blank, which
# read as hours awake with no cluster (doctor review); its bars carry this gid.
NOT_MONITORED = "not monitored"
NOT_MONITORED_COLOR = "#bbbbbb"
# The daily plot's note markers' size (pt), and the height (pt) of their row under the bars' and the
# spasm line's zero: the marker, the line's markers' radius over it (1.5 pt) and a pt or so each side.
# At 3 % of the plot's height they sat on the bars' feet (review).
NOTE_MS, NOTE_ROW_PT = 5, 9.0
# The daily plot's bars' width (days) and its spasm line's markers' size (pt)
BAR_W, SPASM_MS = 0.8, 3
# A day's 'under 12.0 h monitored' mark stands this share of the daily plot's height over its bar (or
# the spasm line), so it reads as its column's and not as a bar's label drawn into it
MARK_LIFT = 0.03
# The daily plot's treatment labels hang from this share of its height; one with bars or the spasm
# line above 0 under it carries this gid (``texts_over``: the plot needs room under it for them)
LABEL_TOP = 0.97
OVER_DATA = "treatment label over data"


def as_typed() -> AbstractContextManager[None]:
    """The settings the report's figures are made and drawn under: every text as typed, never as TeX
    math between dollar signs. A caregiver's note 'paid $5 ... $10 for $x^$' ended the PDF in a
    ParseSyntaxException, and '$5 ... $10' printed as run-together italics (notes, --patient, drugs).
    And no warning of many figures open: the PDF's pages are all made before the first is written
    (each foot says 'page k of N'), and a year's report of 35 pages said 'warning: More than 20
    figures have been opened ... Consider using matplotlib.pyplot.close()' to the family (hostile
    review); each is closed once written."""
    return matplotlib.rc_context({"text.parse_math": False, "figure.max_open_warning": 0})


# Drawn for a character no font of the report's has (an emoji in a note: DejaVu Sans, matplotlib's
# own font, has none): the replacement character, a visible mark that something stood there. Left
# to matplotlib it was an empty box in the PDF and 'warning: Glyph 128118 missing from font(s)
# DejaVu Sans' on the family's terminal. The exports keep the text as it is.
STAND_IN = "\ufffd"


@cache
def _drawable() -> frozenset[int]:
    """The code points the report's fonts draw: matplotlib's sans-serif list, each installed one a
    fallback for those before it (matplotlib >= 3.6), so an emoji font the system has is used."""
    found: set[int] = set()
    for name in matplotlib.rcParams["font.sans-serif"]:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        except ValueError:  # not installed
            continue
        found.update(FT2Font(path).get_charmap())
    return frozenset(found)


def drawable(text: str) -> str:
    """``text`` with each character no report font has as STAND_IN (a line break stays one)."""
    have = _drawable()
    return "".join(c if c == "\n" or ord(c) in have else STAND_IN for c in text)


def draw_drawable(fig: Figure) -> None:
    """Every text of ``fig`` (titles, labels, table cells, notes) as ``drawable`` gives it: before it
    is drawn, in one place for the PDF's pages and the HTML's plots."""
    cells = [c.get_text() for tab in fig.findobj(Table) if isinstance(tab, Table) for c in tab.get_celld().values()]
    for t in [*fig.findobj(Text), *cells]:  # a table's cells hold their texts outside findobj's reach
        if isinstance(t, Text):
            t.set_text(drawable(t.get_text()))


def _frac_day(data: ReportData, t: float) -> float:
    """Days since the first report day's midnight (local), as a float."""
    local = data.local(t)
    return data.day_index(t) + (local.hour * 3600 + local.minute * 60 + local.second) / 86400


def _treatment_text(tr: TreatmentRow) -> str:
    dose = f" {tr.dose:g}" if tr.dose is not None else ""
    return f"{tr.drug} {tr.action}{dose}{' ' + tr.unit if tr.unit else ''}"


def _dates(ax: Axes, data: ReportData) -> None:
    """The daily plot's dates: each day's with its hours monitored (its counts are of those hours
    only); over DAILY_DATES_MAX days, a Monday's, or a month's 1st, up to DAILY_DATES_MAX of them."""
    n = len(data.days)
    if n <= DAILY_DATES_MAX:
        labels = [f"{day_label(d)} ({d.monitored_s / 3600:.1f} h)" for d in data.days]
        ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=7)
        return
    weekly = n / 7 <= DAILY_DATES_MAX
    ticks = [i for i, d in enumerate(data.days) if (d.day.weekday() == 0 if weekly else d.day.day == 1)]
    ticks = ticks[:: -(-len(ticks) // DAILY_DATES_MAX)]
    ax.set_xticks(ticks, [day_label(data.days[i]) for i in ticks], rotation=60, ha="right", fontsize=7)


def _no_data(ax: Axes, data: ReportData, top: float, labels: list[Bbox]) -> list[Text]:
    """The days the band never monitored: each marked NO_DATA in its day's column where it covers
    none of the treatment ``labels`` (``_clear_of``), or, over DAILY_DATES_MAX days, each run of
    them shaded (one legend entry). Returns the marks drawn."""
    marks: list[Text] = []
    if len(data.days) <= DAILY_DATES_MAX:
        floor = _zero_px(ax)  # over the notes' row
        for i, d in enumerate(data.days):
            if unmonitored(d):
                mark = ax.text(i, top * 0.5, NO_DATA, rotation=90, ha="center", va="center", fontsize=7, color="#888888")
                if _clear_of(ax, mark, labels, floor):
                    marks.append(mark)
                else:
                    mark.remove()  # a label the plot's height: the per-day table and the line's gap say it
        return marks
    flags = [unmonitored(d) for d in data.days]
    i, label = 0, NO_DATA
    while i < len(flags):
        if not flags[i]:
            i += 1
            continue
        j = flags.index(False, i) if False in flags[i:] else len(flags)
        ax.axvspan(i - 0.5, j - 0.5, color=NOT_MONITORED_COLOR, hatch="////", lw=0, alpha=0.5, label=label)
        i, label = j, "_"  # one legend entry
    return marks


def _clear_of(ax: Axes, mark: Text, labels: list[Bbox], floor: float) -> bool:
    """Moves ``mark`` (centred, va) up or down its column, the least from where it is, to cover none
    of ``labels`` between ``floor`` (px) and the plot's top: a treatment label hangs from the top by
    its line, whose day it names, and a day's mark may be anywhere in its column (a taper's label
    ran over four days' 'no data': review). False when the column has no room for it."""
    box, plot = mark.get_window_extent(), ax.get_window_extent()
    over = sorted((float(b.y0), float(b.y1)) for b in labels if b.x0 < box.x1 and box.x0 < b.x1)
    if not [1 for lo, hi in over if lo < box.y1 and box.y0 < hi]:
        return True
    free = _free(over, floor, float(plot.y1))
    half, mid = box.height / 2 + 1, (box.y0 + box.y1) / 2
    fits = [min(max(mid, lo + half), hi - half) for lo, hi in free if hi - lo >= 2 * half]
    if not fits:
        return False
    centre = min(fits, key=lambda c: abs(c - mid))
    mark.set_y(ax.transData.inverted().transform((0, centre))[1])
    return True


def _free(over: list[tuple[float, float]], a: float, b: float) -> list[tuple[float, float]]:
    """The stretches of ``a`` to ``b`` outside the spans ``over`` (sorted by their starts)."""
    free, y = [], a
    for lo, hi in over:
        free += [(y, lo)] if lo > y else []
        y = max(y, hi)
    return free + [(y, b)] if b > y else free


# A treatment label's space from its line (days): right of it, or left near the plot's right edge
# (or when left is the nearer free spot: ``_placed``)
LABEL_GAP = 0.08
# The treatments' dashed lines' width (pt)
TREAT_LW = 1.3
# A treatment line stops this far (pt) under a day's mark it would run through, and goes on as far
# over it: the dashes' own gap (1.6 line widths, 2.1 pt), so the line reads as going on behind it
MARK_LINE_GAP_PT = 2.0


def _treatments(ax: Axes, data: ReportData, marks: list[Text], notes: list[Line2D]) -> tuple[list[Text], list[tuple[float, Line2D]]]:
    """Each treatment change in the report a green line with its label; a drug's dose steps one
    way (``text.dose_runs``) one shaded span with one label: a daily taper's 120 lines and labels
    were one green smear (hostile review). A label hangs from LABEL_TOP of the plot's height
    whatever its scale (``plot_daily`` sets that after, to draw the bars and the line under the
    labels). A label that would cover another goes beside it, right or left, the nearer
    (``_placed``): starts and stops first, then runs, then changes; a change's or a run's left out
    when that is over TREATMENT_LABEL_SHIFT_MAX_PT from its line (its line stays, and the per-day
    table's note names every change), a start's or a stop's never; a run's label over its own span
    is kept however far it went (``_over_span``). Labels are measured as drawn (``drawable``): a
    drug's emoji measured as typed warned of its missing glyph. A label goes beside ``marks`` too
    (a day's 'under 12.0 h monitored', which stands on its bar: a start's label hung over it), and
    one that reaches down to the ``notes``' markers beside them (a label as long as the plot was high
    covered a video's marker: review), and beside every treatment line, its own too: on a 2-year
    plot, a day under a px, 'vigabatrin start' lay across prednisolone's line 5 days on, which read
    as vigabatrin's (review); and clear of every other line by TREATMENT_LABEL_CLEAR_PT unless
    nearer its own (``_beside_own``). Returns the labels as placed, and the lines (their days and
    the lines as drawn)."""
    drawn: list[tuple[int, Text, float]] = []  # (weight: lower first, label, its span's end: days)
    lines: list[tuple[float, Line2D]] = []
    foot = _zero_share(ax)

    def line(x: float) -> None:
        # from the data's zero up, over the notes' row: a note written as a treatment was entered
        # (a first dose filmed) had its marker on the line, which ran down to the plot's foot (review)
        lines.append((x, ax.axvline(x, foot, color=TREAT_COLOR, ls="--", lw=TREAT_LW)))

    def label(x: float, said: str) -> Text:
        return ax.text(x + LABEL_GAP, LABEL_TOP, drawable(said), color=TREAT_COLOR, fontsize=7, va="top", rotation=90, transform=ax.get_xaxis_transform())

    for run in dose_runs([tr for tr in data.treatments if tr.t >= data.since]):
        x0 = _frac_day(data, run[0].t) - 0.5
        if len(run) < DOSE_STEPS_AS_ONE:
            for tr in run:
                xt = _frac_day(data, tr.t) - 0.5
                line(xt)
                drawn.append((0 if tr.action in ("start", "stop") else 2, label(xt, _treatment_text(tr)), xt))
            continue
        x1 = _frac_day(data, run[-1].t) - 0.5
        ax.axvspan(x0, x1, color=TREAT_COLOR, alpha=0.12, lw=0)
        line(x0)
        drawn.append((1, label(x0, dose_run_said(data, run, "\n")), x1))
    plot = ax.get_window_extent()
    kept = [m.get_window_extent() for m in marks]
    line_boxes = _line_boxes(ax, [x for x, _ in lines])
    note_boxes = [n.get_window_extent().padded(1) for n in notes]  # the marker and a px around it
    placed: list[Text] = []
    limit, clear = _px(ax, TREATMENT_LABEL_SHIFT_MAX_PT), _px(ax, TREATMENT_LABEL_CLEAR_PT)
    gap = ax.transData.transform((LABEL_GAP, 0))[0] - ax.transData.transform((0, 0))[0]
    for weight, text, end in sorted(drawn, key=lambda w: (w[0], w[1].get_position()[0])):
        box, own = text.get_window_extent(), text.get_position()[0] - LABEL_GAP
        # past the plot's right edge (the period's last hours): left of its line, not cut off
        flip = -box.width - 2 * gap if box.x1 > plot.x1 else 0.0
        lines_kept = _beside_own(line_boxes, _line_boxes(ax, [own])[0], box.width, clear)
        spots = _placed(box.translated(flip, 0), kept + lines_kept + [n for n in note_boxes if n.y1 >= box.y0], plot)
        fits = [d for d in spots if weight == 0 or abs(d) <= limit or _over_span(ax, box.translated(flip + d, 0), own, end)]
        if not fits:
            text.remove()
            continue
        dx = fits[0]
        x = ax.transData.transform((text.get_position()[0], 0))[0] + flip + dx
        text.set_x(ax.transData.inverted().transform((x, 0))[0])
        kept.append(box.translated(flip + dx, 0))
        placed.append(text)
    return placed, lines


def _over_span(ax: Axes, box: Bbox, a: float, b: float) -> bool:
    """Whether ``box`` (px) lies over the days ``a`` to ``b``: a dose run's label anywhere over its
    own shaded span reads as the run's, however far from its line. On a 2-year plot (a day under a
    px) the two starts beside the three lines of days 5-11 took the taper's label past two more
    lines, 38 px from its own: left out at TREATMENT_LABEL_SHIFT_MAX_PT, a 120-day span unnamed."""
    x0, x1 = (ax.transData.transform((d, 0))[0] for d in (a, b))
    return bool(x0 <= box.x0 and box.x1 <= x1)


def _beside_own(lines: list[Bbox], own: Bbox, width: float, clear: float) -> list[Bbox]:
    """Where (px boxes) a label ``width`` px wide of the line ``own`` may not be for the treatment
    ``lines``: each as drawn, and the other lines ``clear`` px each side of them, but not where the
    label is nearer its own line (the label beside it, another line behind it or past the label):
    moved off its line past another, a label put 1 px beside that one read as that line's
    (review). A line drawn over its own (a day on, on a 2-year plot) is one line with it: only as
    drawn."""
    out = []
    for b in lines:
        x0, x1 = b.x0 - clear, b.x1 + clear
        if b.x0 >= own.x1:  # right of its own line: from where the label's right edge is nearer it
            x0 = min(b.x0, max(x0, (b.x0 + own.x1 + width) / 2))
        if b.x1 <= own.x0:  # left of it: to where the label's left edge is nearer it
            x1 = max(b.x1, min(x1, (b.x1 + own.x0 - width) / 2))
        if b.x1 > own.x0 and b.x0 < own.x1:
            x0, x1 = b.x0, b.x1
        out.append(Bbox([[x0, b.y0], [x1, b.y1]]))
    return out


def _broken(ax: Axes, lines: list[tuple[float, Line2D]], marks: list[Text]) -> None:
    """Each of the treatment ``lines`` (days, as drawn) stopped under each of ``marks`` it would run
    through and gone on over it, MARK_LINE_GAP_PT from it: up to DAILY_DATES_MAX days a treatment
    entered about the middle of a day of no data or of a few hours had its line, the plot's height,
    drawn through the day's mark (review). Once the marks stay where they are."""
    plot, gap = ax.get_window_extent(), _px(ax, MARK_LINE_GAP_PT)
    boxes = [m.get_window_extent() for m in marks]
    for (x, ln), box in zip(lines, _line_boxes(ax, [x for x, _ in lines]), strict=True):
        over = sorted((float(b.y0) - gap, float(b.y1) + gap) for b in boxes if b.x0 < box.x1 and box.x0 < b.x1)
        if over:
            ys = [(y - plot.y0) / plot.height for part in _free(over, float(box.y0), float(box.y1)) for y in (*part, nan)]
            ln.set_data([x] * len(ys), ys)  # nan: a gap


def _px(ax: Axes, pt: float) -> float:
    """``pt`` points in px on ``ax``'s figure."""
    return pt * ax.figure.dpi / 72


def _row_px(ax: Axes) -> float:
    """The height (px) of the notes' row along the plot's foot, under the data's zero."""
    return _px(ax, NOTE_ROW_PT)


def _zero_px(ax: Axes) -> float:
    """Where (px) the daily plot's bars and spasm line start: over the notes' row."""
    return float(ax.get_window_extent().y0) + _row_px(ax)


def _zero_share(ax: Axes) -> float:
    """Where the data's zero is, as a share of the plot's height from its foot: the notes' row's top."""
    return _row_px(ax) / float(ax.get_window_extent().height)


def _row_share(ax: Axes) -> float:
    """How far under the data's zero the axes run, as a share of their top: the notes' row."""
    height = ax.get_window_extent().height
    return _row_px(ax) / max(1.0, height - _row_px(ax))


def _line_boxes(ax: Axes, xs: list[float]) -> list[Bbox]:
    """The treatments' lines at ``xs`` (days) as boxes (px) as drawn: as wide, from the data's zero up."""
    top, zero, half = ax.get_window_extent().y1, _zero_px(ax), _px(ax, TREAT_LW / 2)
    return [Bbox([[x - half, zero], [x + half, top]]) for x in (ax.transData.transform((xd, 0))[0] for xd in xs)]


def _notes(ax: Axes, data: ReportData) -> list[Line2D]:
    """Each note a marker at its time ('v' a video's), in the middle of the notes' row under the
    data's zero: pinned there (px from the plot's foot), whatever the scales raised after it, so the
    treatment labels placed beside the markers are beside them as drawn."""
    row = blended_transform_factory(ax.transData, ax.transAxes)
    y = _zero_share(ax) / 2
    return [ax.plot(_frac_day(data, n.t) - 0.5, y, transform=row, marker="v" if n.kind == "video" else "D", color=NOTE_COLOR, ms=NOTE_MS)[0] for n in data.notes]


def _under_labels(ax: Axes, labels: list[Text], bars: Sequence[float], spasms: Sequence[float], tops: tuple[float, float]) -> tuple[float, float]:
    """The plot's tops (clusters, spasm-like events), from ``tops``, at which the bars and the spasm
    line (one value a day, nan a gap) under each of ``labels`` end below it: a label hangs from the
    top as long as its text, and the line's axis ran to its highest day, so 'vigabatrin start 50
    mg/kg/day' lay across the line (review). A label with either above 0 under it is marked OVER_DATA;
    one as low as the plot leaves them where they are (``texts_over`` says the plot needs more height)."""
    plot = ax.get_window_extent()
    r = _marker_r(ax)
    top, top2 = tops
    for label in labels:
        box = label.get_window_extent()
        a, b = _days_under(ax, box)
        under = [h for i, h in enumerate(bars) if i - BAR_W / 2 < b and a < i + BAR_W / 2 and h > 0]
        line = _line_max(spasms, a, b)
        if not under and not line:
            continue
        label.set_gid(OVER_DATA)
        zero = _zero_px(ax)
        free = (box.y0 - r - zero) / (plot.y1 - zero)  # the share of the data's height under the label
        top, top2 = _raised(top, under, free), _raised(top2, [line], free)
    return top, top2


def _raised(top: float, values: Iterable[float], free: float) -> float:
    """``top`` (a scale's) raised so each of ``values`` ends under ``free`` (share) of the data's
    height; a text as high as the plot (``free`` <= 0) leaves it (``texts_over`` says so)."""
    return max([top, *(v / free for v in values)]) if free > 0 else top


def _marker_r(ax: Axes) -> float:
    """The spasm line's markers' radius (px), and a px between."""
    return _px(ax, SPASM_MS / 2) + 1


def _days_under(ax: Axes, box: Bbox) -> tuple[float, float]:
    """The days (x) ``box`` (px) is over, widened by the spasm line's markers' radius."""
    to_x, r = ax.transData.inverted(), _marker_r(ax)
    return to_x.transform((box.x0 - r, 0))[0], to_x.transform((box.x1 + r, 0))[0]


def _line_max(ys: Sequence[float], a: float, b: float) -> float:
    """The highest the line through ``ys`` (at x 0, 1, ...; nan a gap) is from x ``a`` to ``b``."""

    def at(x: float) -> float:
        i = int(x // 1)  # the day at or before x
        if not 0 <= i < len(ys) - 1 or isnan(ys[i]) or isnan(ys[i + 1]):
            return 0.0
        return ys[i] + (ys[i + 1] - ys[i]) * (x - i)

    return max([0.0, at(a), at(b), *(y for i, y in enumerate(ys) if a <= i <= b and not isnan(y))])


def _placed(box: Bbox, kept: list[Bbox], plot: Bbox) -> list[float]:
    """How far (px) ``box`` moves right, and how far left, the least each way, to cover none of
    ``kept`` inside ``plot`` (0: where it is): those inside it, the nearer first (right on a tie).
    With the other lines kept clear of (``_beside_own``) and the left tried only when the right ran
    past the plot, a 2-year picture's 'vigabatrin change 100' (day 60) went 28 px right, past day
    63's line and the taper's label, 1 px left of its own line free, and day 63's 'change 150' was
    left out: its 20 pt were gone."""
    x0, width = float(box.x0), float(box.width)
    right = x0
    while clash := [k for k in kept if right < k.x1 and k.x0 < right + width]:
        right = max(float(k.x1) for k in clash) + 1
    left = x0
    while clash := [k for k in kept if left < k.x1 and k.x0 < left + width]:
        left = min(float(k.x0) for k in clash) - width - 1
    spots = [(right, right + width <= plot.x1), (left, left >= plot.x0)]
    return sorted((at - x0 for at, inside in spots if inside), key=abs)


def plot_daily(ax: Axes, data: ReportData) -> None:
    """Clusters per day (bars), spasms per day (line), treatment changes and notes marked."""
    x = list(range(len(data.days)))
    bars = [d.clusters + d.false_alarms for d in data.days]
    ax.bar(x, [d.clusters for d in data.days], BAR_W, color=CLUSTER_COLOR, alpha=0.85, label="clusters")
    ax.bar(x, [d.false_alarms for d in data.days], BAR_W, bottom=[d.clusters for d in data.days], color="#e6b0aa", label="false alarms")
    ax.set_ylabel("clusters per day")
    _dates(ax, data)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax2 = ax.twinx()
    # A day the band never monitored is no point on the line (a gap), not a zero: it says "no data".
    spasms = [nan if unmonitored(d) else float(d.spasms) for d in data.days]
    ax2.plot(x, spasms, "o-", color=SPASM_COLOR, ms=SPASM_MS, lw=1.2, label="spasm-like events")
    ax2.set_ylabel("spasm-like events per day")
    ax2.set_ylim(bottom=0)
    # Above its bar, a day of a few hours is marked: its counts are of those hours (a long report's
    # per-day table says them: its marks would cover each other)
    short = len(data.days) <= DAILY_DATES_MAX
    few = [(i, bars[i]) for i, d in enumerate(data.days) if short and too_few_for_a_rate(d)]
    marks = [ax.text(i, 0, FEW_HOURS, rotation=90, ha="center", va="bottom", fontsize=6, color="#888888") for i, _ in few]
    top = _with_room(ax, marks, [bar for _, bar in few], max(bars + [1]) * 1.35)
    ax.set_ylim(0, top)
    labels, treated = _treatments(ax, data, marks, _notes(ax, data))
    top, top2 = _under_labels(ax, labels, bars, spasms, (top, ax2.get_ylim()[1]))
    # a mark stands on its bar or on the line, the higher over its column: the line ran through it
    lines = [_line_max(spasms, *_days_under(ax, m.get_window_extent())) for m in marks]
    top2 = _with_room(ax, marks, lines, top2, _marker_r(ax))
    low = _row_share(ax)
    for a, t in ((ax, top), (ax2, top2)):  # both zeros over the notes' row, no tick under them
        a.set_ylim(-t * low, t)
        a.set_yticks([v for v in a.get_yticks() if 0 <= v <= t])
    r = _marker_r(ax) / (ax.get_window_extent().y1 - _zero_px(ax)) * top  # in clusters
    for mark, (_, bar), line in zip(marks, few, lines, strict=True):
        mark.set_y(max(bar, line / top2 * top + r if line else 0.0) + top * MARK_LIFT)
    _broken(ax, treated, [*marks, *_no_data(ax, data, top, [t.get_window_extent() for t in [*marks, *labels]])])
    room = _legend(ax, ax2)
    hours = "hours monitored in brackets" if short else "hours monitored in the per-day table"
    ax.set_title(f"Clusters and spasm-like events per day, {hours} (green: treatment changes; markers: notes)", fontsize=9, pad=room + TITLE_OVER_LEGEND_PT)


# The daily plot's title's space (pt) over its legend's height: the legend's own from the plot (0.2 of
# its 7 pt) and the title's descent under its baseline (about a quarter of 9 pt), and a point between.
TITLE_OVER_LEGEND_PT = 4.0


def _legend(ax: Axes, ax2: Axes) -> float:
    """The daily plot's legend (both axes' entries) in a row above the plot, under its title; returns
    its height (pt), the title's room above the plot. Inside the plot it covered what was drawn
    there: on a 2-year plot, upper right, the spasm line's markers at the plot's top (drawn through
    its box: the line's axes are over the legend's), and before that 'ACTH stop' (reviews)."""
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    handles, labels = h1 + h2, l1 + l2
    legend = ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(labels), fontsize=7, frameon=False, borderaxespad=0.2)
    return float(legend.get_window_extent().height) * 72 / ax.figure.dpi


def _with_room(ax: Axes, marks: list[Text], bars: list[float], top: float, under: float = 0.0) -> float:
    """The plot's top (clusters) at which each of ``marks``, drawn up from its bar's top (plus MARK_LIFT
    of the plot), ends under it: a mark is as long as its text whatever the plot's height, and over the
    tallest bar it ran 67 px above page 1's plot into the summary (hostile review). A plot too low
    for a mark at all keeps ``top`` (``texts_inside`` says so). Also the spasm line's ``top`` for the
    line's highest over each mark's column (``bars`` those), which a mark stands on when higher, a
    marker's radius (``under``, px) over it."""
    height = ax.get_window_extent().y1 - _zero_px(ax)
    for mark, bar in zip(marks, bars, strict=True):
        top = _raised(top, [bar], 1 - MARK_LIFT - (mark.get_window_extent().height + under) / height)
    return top


def texts_inside(ax: Axes) -> bool:
    """Whether every text of the plot ``ax`` (its marks, its treatment labels) is within its height."""
    return texts_over(ax) <= 1


def texts_over(ax: Axes) -> float:
    """How far (px) the texts of the plot ``ax`` run past its height, above and below together (0:
    none does): the height it needs more. A treatment label over bars or the spasm line (OVER_DATA)
    needs more: DAILY_DATA_MIN_SHARE of the height under it, where they are drawn."""
    box = ax.get_window_extent()
    boxes = [t.get_window_extent() for t in ax.texts]
    labels = [t.get_window_extent().height / (LABEL_TOP - DAILY_DATA_MIN_SHARE) for t in ax.texts if t.get_gid() == OVER_DATA]
    below = max([0.0, *(float(box.y0 - b.y0) for b in boxes), *(float(h - box.height) for h in labels)])
    return below + max([0.0, *(float(b.y1 - box.y1) for b in boxes)])


def _day_bars(ax: Axes, data: ReportData, a: float, b: float, **style: object) -> None:
    """The span [a, b) as bars on the actogram's day rows, split at local midnights."""
    t = a
    while t < b:
        row = data.day_index(t)
        day_end = midnight(data.days[0].day + timedelta(days=row + 1), data.tz)
        end = min(b, day_end)
        # Both edges on the wall clock: elapsed time is an hour off on daylight-saving nights.
        h0 = _frac_day(data, t) - row
        h1 = 1.0 if end >= day_end else _frac_day(data, end) - row
        ax.barh(row, (h1 - h0) * 24, left=h0 * 24, height=0.7, **style)  # type: ignore[arg-type]
        t = end


def _not_monitored(data: ReportData) -> list[tuple[float, float]]:
    """The report's spans, up to its end of data, in no monitored span (``ReportData.monitored``)."""
    out: list[tuple[float, float]] = []
    t = data.since
    for s, e in [*data.monitored, (data.end, data.end)]:
        if min(s, data.end) > t:
            out.append((t, min(s, data.end)))
        t = max(t, e)
    return out


def actogram_rows(data: ReportData) -> list[range]:
    """The actogram's days (row indices) a page (the PDF's) or a picture (the HTML's) each: all of
    them up to ACTOGRAM_DAYS_PER_PAGE, else that many each but the last two, which share the rest
    in whole weeks, the first of them the longer: so every page begins on the first day's weekday,
    and none is a day or two (57 days were a page of 56 and a page of one day: review)."""
    n, full = len(data.days), ACTOGRAM_DAYS_PER_PAGE
    if n <= full:
        return [range(n)]
    last_two = ((n - 1) // full - 1) * full  # the first day of the last two pages
    weeks = -(-(n - last_two) // 7)
    cut = last_two + -(-weeks // 2) * 7
    starts = [*range(0, last_two, full), last_two, cut]
    return [range(a, b) for a, b in zip(starts, [*starts[1:], n], strict=True)]


def _clipped(spans: list[tuple[float, float]], a: float, b: float) -> list[tuple[float, float]]:
    """``spans`` cut to [a, b), those outside it left out."""
    return [(max(s, a), min(e, b)) for s, e in spans if s < b and e > a]


def _pass_dy(data: ReportData, t: float) -> float:
    """How far (rows) a mark at ``t`` is drawn from its row's middle: in the hour the wall clock names
    twice as the clocks go back, its first pass above, its second below, else 0: clusters at 02:30
    CEST and 02:30 CET were one tick on one spot (hostile review)."""
    local = data.local(t)
    if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
        return 0.0
    return 0.2 if local.fold else -0.2


def plot_actogram(ax: Axes, data: ReportData, rows: range | None = None) -> None:
    """One row per day, 0-24 h: sleep (blue bars), clusters (red), notes and treatments, and the
    hours no band was monitoring (grey, hatched). ``rows``: the days drawn (``actogram_rows``), all
    when None; each keeps its row index, so its marks are placed as on one long plot."""
    rows = range(len(data.days)) if rows is None else rows
    a, b = midnight(data.days[rows[0]].day, data.tz), midnight(data.days[rows[-1]].day + timedelta(days=1), data.tz)
    for s, e in _clipped(sleep_spans(data), a, b):
        _day_bars(ax, data, s, e, color=SLEEP_COLOR)
    for s, e in _clipped(_not_monitored(data), a, b):  # over the sleep bars: the estimate has no epochs there
        _day_bars(ax, data, s, e, color=NOT_MONITORED_COLOR, hatch="////", edgecolor="#888888", lw=0, alpha=0.8, gid=NOT_MONITORED)
    for c in data.clusters:
        if a <= c.t < b:
            f = _frac_day(data, c.t)
            color = "#aaaaaa" if c.label == "false_alarm" else CLUSTER_COLOR
            dy = _pass_dy(data, c.t)
            ax.plot((f - int(f)) * 24, int(f) + dy, marker="|", color=color, ms=5 if dy else 11, mew=2.5)  # two half ticks
            if dy:  # its time with its zone, as the cluster table says it
                ax.text((f - int(f)) * 24 + 0.3, int(f) + dy, at(data, c.t, "%H:%M"), fontsize=5, va="center")
    for tr in data.treatments:
        if max(a, data.since) <= tr.t < b:
            f = _frac_day(data, tr.t)
            ax.plot((f - int(f)) * 24, int(f), marker="*", color=TREAT_COLOR, ms=10)
    for note in data.notes:
        if a <= note.t < b:
            f = _frac_day(data, note.t)
            ax.plot((f - int(f)) * 24, int(f) - 0.3, marker="v", color=NOTE_COLOR, ms=5)
    ax.set_yticks(rows, [day_label(data.days[i]) for i in rows], fontsize=7)
    ax.set_ylim(rows[-1] + 0.5, rows[0] - 0.5)
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)], fontsize=7)
    ax.set_xlabel(f"time of day ({zone(data)})", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Sleep (blue), clusters (red | ; grey: false alarm), treatments (green *), notes (v)\n"
                 "hatched grey: the band was not monitoring, no data", fontsize=9)  # fmt: skip


def plot_time_of_day(ax: Axes, data: ReportData) -> None:
    hours = [data.local(c.t).hour + data.local(c.t).minute / 60 for c in data.counted_clusters]
    ax.hist(hours, bins=range(25), color=CLUSTER_COLOR, alpha=0.85)
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_xlabel(f"hour of day ({zone(data)})")
    ax.set_ylabel("clusters")
    ax.set_title("Cluster start, time of day", fontsize=9)
    if not hours:
        _nothing(ax, NO_CLUSTERS)


def plot_post_wake(ax: Axes, data: ReportData) -> None:
    mins = [c.post_wake_s / 60 for c in data.counted_clusters if c.post_wake_s is not None]
    unknown = sum(1 for c in data.counted_clusters if c.post_wake_s is None)
    top = max(mins + [30.0])
    ax.hist(mins, bins=[0, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, max(240.0, top + 1)], color="#8e44ad", alpha=0.85)
    ax.set_xlabel("minutes after waking (the waking estimated from the band's movement)")
    ax.set_ylabel("clusters")
    ax.set_title(f"Cluster start after waking, estimated from movement, not observed ({unknown} with no wake seen)", fontsize=9)
    if not mins:
        _nothing(ax, "no cluster with a wake seen before it" if unknown else NO_CLUSTERS)


def plot_size_duration(ax: Axes, data: ReportData) -> None:
    cl = data.counted_clusters
    mins, counts = [(c.end - c.t) / 60 for c in cl], [c.count for c in cl]
    ax.scatter(mins, counts, color=CLUSTER_COLOR, s=14, alpha=0.7)
    ax.set_xlabel("cluster duration (min)")
    ax.set_ylabel("spasm-like events in cluster")
    # from 0, past the largest by a share of it: matplotlib's own padding is 5 % of the values'
    # spread, and clusters of 120-122 s sat on the right edge, half cut off (review)
    ax.set_xlim(0, max(mins + [1.0]) * (1 + SIZE_PLOT_PAD))
    ax.set_ylim(0, max(counts + [1]) * (1 + SIZE_PLOT_PAD))
    ax.set_title("Cluster size and duration", fontsize=9)
    if not cl:
        ax.set_xlim(0, 1)
        _nothing(ax, NO_CLUSTERS)


# A cluster plot with nothing to draw says so
NO_CLUSTERS = "no clusters in this period"


def _nothing(ax: Axes, said: str) -> None:
    """An empty plot says ``said`` across it, its counts from 0 to 1: an empty histogram's ran from
    -0.04 to 0.04 clusters, and a period of no clusters read as three broken plots (hostile review)."""
    ax.set_ylim(0, 1)
    ax.set_yticks([0, 1])
    ax.text(0.5, 0.5, said, transform=ax.transAxes, ha="center", va="center", fontsize=10, color="#888888")
