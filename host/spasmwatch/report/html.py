"""The report as one self-contained HTML file: text and tables, plots as embedded PNGs."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from functools import partial
from html import escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from spasmwatch.report import plots, text  # noqa: E402
from spasmwatch.report.data import ReportData  # noqa: E402


CSS = """
body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
.warn{background:#fdedec;border:1px solid #c0392b;color:#7b241c;padding:.7em 1em;border-radius:6px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
th{background:#f4f4f4}img{max-width:100%}.sub{color:#666;font-size:.9em}
@media print{body{max-width:none;margin:0;padding:0}thead{display:table-header-group}
tr,img,.warn{break-inside:avoid}h1,h2{break-after:avoid}}
"""
# Characters a CSS string may hold as they are; any other is written as a hex escape, so a patient's
# name cannot end the string or the <style> element ('"', '\\', '<', a newline).
_CSS_PLAIN = frozenset(" .,:;()+-_/|")


def _css_string(s: str) -> str:
    return '"' + "".join(c if c.isalnum() or c in _CSS_PLAIN else f"\\{ord(c):x} " for c in s) + '"'


def _print_css(data: ReportData) -> str:
    """Each printed page's foot, as the PDF's: a page printed or sent alone still says whose, which
    period and what it is (a printed HTML report said so on page 1 only). Browsers that draw page
    margin boxes (Chromium, Edge, Chrome) print it; docs/exports.md says which do not."""
    lead = _css_string(text.footer_lead(data) + " | page ")
    return (
        "@page{margin:14mm 12mm 16mm;@bottom-center{content:" + lead + ' counter(page) " of " counter(pages);'
        "font:7pt system-ui,sans-serif;color:#555}}"
    )


# The HTML's daily plot picture (in): as wide as the other pictures, its dates turned under it
DAILY_SIZE = (9.0, 4.2)
# The HTML's pictures' resolution (dots per in), the one their texts are placed and measured at: Agg's
# hinted text is not in proportion across resolutions (a 7 pt label turned, 103.5 pt long at 100 dpi,
# is 109.8 at 110), so the daily plot's texts placed at matplotlib's default 100 and saved at 110 ran
# 6 % longer than measured, its treatment labels over the 'no data' marks put 1 px under them.
PNG_DPI = 110


def figure(draw: Callable[[Axes], None], size: tuple[float, float], places: bool = False) -> Figure:
    """A picture of the HTML's, ``draw`` on its one plot, laid out (its texts as drawn); the caller
    closes it. A plot that ``places`` its texts by their extents (the daily plot's labels, marks
    and legend) is drawn twice: once for the layout (tight_layout, the room its dates and axis
    labels take), then again on the axes that gives, so they are placed where the picture has them:
    placed before the layout, which took the plot from 3.2 to 2.6 in high, its labels hung lower
    than measured, over the marks put under them (review). Others once: a 2-year report's 14
    actogram pictures drawn twice took its HTML from 37-40 s of CPU to 57-59. Made at PNG_DPI."""
    fig, ax = plt.subplots(figsize=size, dpi=PNG_DPI)
    draw(ax)
    plots.draw_drawable(fig)
    fig.tight_layout()
    if places:
        box = ax.get_position()
        fig.clear()
        draw(fig.add_axes(box.bounds))
        plots.draw_drawable(fig)
    return fig


def daily_figure(data: ReportData) -> Figure:
    """The daily plot's picture (its texts placed on its final layout), DAILY_SIZE or higher by what
    its texts need (``plots.texts_over``): its treatment labels hang from its top as long as their
    text, and two tapers' ran 30 px below it into its dates (review; the PDF's goes on a page of its
    own then)."""
    draw = partial(plots.plot_daily, data=data)
    fig = figure(draw, DAILY_SIZE, places=True)
    over = plots.texts_over(fig.axes[0])
    if over <= 1:
        return fig
    plt.close(fig)  # the layout's margins are in inches: the plot takes all the height added
    return figure(draw, (DAILY_SIZE[0], DAILY_SIZE[1] + (over + 2) / fig.dpi), places=True)


def _png(draw: Callable[[Axes], None], size: tuple[float, float]) -> str:
    return _png_of(figure(draw, size))


def _png_of(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], cls: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _img(src: str, alt: str) -> str:
    return f'<p><img src="{src}" alt="{escape(alt)}"></p>'


def _actogram(data: ReportData) -> str:
    """The actogram as one picture, or, over ACTOGRAM_DAYS_PER_PAGE days, a picture of that many days
    each under their dates (a 2-year report's was one picture 220 in high: hostile review)."""
    chunks = plots.actogram_rows(data)
    return "".join(
        (f"<h3>{escape(text.days_said(data, rows))}</h3>" if len(chunks) > 1 else "")
        + _img(_png(partial(plots.plot_actogram, data=data, rows=rows), (9, 1.2 + 0.3 * len(rows))), "sleep and clusters by day")
        for rows in chunks
    )


def render(data: ReportData) -> str:
    parts = [
        f"<h1>{escape(text.TITLE)}</h1>",
        f"<p><strong>{escape(text.patient_line(data))}</strong></p>",
        f'<p class="sub">{escape(text.subtitle(data))}</p>',
        f'<p class="warn"><strong>{escape(text.DISCLAIMER)}</strong></p>',
        "<h2>Summary</h2>" + "".join(f"<p>{escape(s)}</p>" for s in text.summary(data)),
        '<h2>Since each treatment started</h2><ul class="trends">' + "".join(f"<li>{escape(s)}</li>" for s in text.trend_lines(data)) + "</ul>",
        f"<h2>What the band cannot see</h2><p>{escape(text.LIMITS)}</p>",
        _img(_png_of(daily_figure(data)), "clusters and spasm-like events per day"),
        "<h2>Sleep, clusters, treatments and notes by day</h2>",
        _actogram(data),
        "<h2>Clusters</h2>",
        _img(_png(partial(plots.plot_time_of_day, data=data), (9, 2.8)), "cluster start time of day"),
        _img(_png(partial(plots.plot_post_wake, data=data), (9, 2.8)), "cluster start after waking"),
        _img(_png(partial(plots.plot_size_duration, data=data), (9, 2.8)), "cluster size and duration"),
        "<h2>Per day</h2>" + _table(text.DAY_HEADER, text.day_rows(data), "days")
        + "".join(f'<p class="sub">{escape(s)}</p>' for s in text.day_notes(data)),
        "<h2>Each cluster</h2>" + _table(text.cluster_header(data), text.cluster_rows(data), "clusters")
        + "".join(f'<p class="sub">{escape(s)}</p>' for s in text.cluster_notes(data)),
        "<h2>Treatments and caregiver notes</h2>" + _table(text.LOG_HEADER, text.log_rows(data), "log"),
    ]
    body = "\n".join(parts)
    return f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(text.TITLE)}</title><style>{CSS}{_print_css(data)}</style></head>\n<body>\n{body}\n</body></html>\n'


def write_html(data: ReportData, out: Path) -> None:
    with plots.as_typed():  # its plots' texts
        page = render(data)
    out.write_text(page, encoding="utf-8")
