"""The report's words and tables, shared by the PDF and the HTML."""

from __future__ import annotations

from datetime import datetime, timezone
from statistics import median

from spasmwatch import __version__
from spasmwatch.report.data import TREND_DAYS, ReportData, Trend

TITLE = "spasmwatch screening log"
DISCLAIMER = (
    "Screening log, not a diagnosis. These are movements a band classified as spasm-like; "
    "some may be other movements, and spasms can be missed. Counts run low (a found cluster's spasms "
    "are not all counted), so compare days with each other rather than with a count made by watching. "
    "Please review the caregiver's videos. "
    "Only a clinician (with EEG) can diagnose infantile spasms or judge treatment response."
)


def subtitle(data: ReportData) -> str:
    first, last = data.days[0].day, data.days[-1].day
    device = data.device or "all bands"
    made = datetime.now(tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{first:%Y-%m-%d} to {last:%Y-%m-%d} ({len(data.days)} days), {device}; times in {_tzname(data)}; made {made} by spasmwatch {__version__}"


def _tzname(data: ReportData) -> str:
    return str(getattr(data.tz, "key", None) or data.local(data.since).tzname() or data.tz)


def summary(data: ReportData) -> list[str]:
    spasms = sum(d.spasms for d in data.days)
    clusters = sum(d.clusters for d in data.days)
    fa = sum(d.false_alarms for d in data.days)
    pw = [c.post_wake_s / 60 for c in data.counted_clusters if c.post_wake_s is not None]
    lines = [
        f"{counted(spasms, 'spasm-like event')} and {counted(clusters, 'cluster')} in {counted(len(data.days), 'day')}"
        + (f" ({fa} more marked false alarm by the caregiver)" if fa else ""),
    ]
    lines.append(monitored_line(data))
    if pw:
        lines.append(f"Median cluster start {median(pw):.0f} min after waking ({counted(len(pw), 'cluster')} with a wake onset seen).")
    if unplaced := unplaced_line(data):
        lines.append(unplaced)
    return lines


def hours(seconds: float) -> str:
    """Hours with one decimal: '23.5', '0.0'."""
    return f"{seconds / 3600:.1f}"


def monitored_line(data: ReportData) -> str:
    """The hours the counts are of, said before anyone compares days by them."""
    total = sum(d.monitored_s for d in data.days)
    span = data.until - data.since
    return (
        f"The band was monitoring (worn and connected) {hours(total)} h of the {hours(span)} h in this report. "
        "Counts are only of those hours: a day with few spasms and few hours monitored is not a good day "
        "(see 'hours monitored' in the per-day table)."
    )


def counted(n: int, noun: str) -> str:
    """``1 cluster``, ``2 clusters``: a doctor's report read '1 clusters in 5 days'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def unplaced_line(data: ReportData) -> str | None:
    """The spasms on no day, said plainly: a band that restarted away from this computer and was
    never given the time stamps its events with no date (they were left out without a word)."""
    n = sum(count for _, _, count in data.unplaced)
    if not n:
        return None
    events = "1 spasm event recorded while the band's clock was not set is" if n == 1 else (
        f"{n} spasm events recorded while the band's clock was not set are")
    return f"{events} not in the day counts: the band restarted and was never given the time, so {'it' if n == 1 else 'they'} cannot be put on a day."


def _per_day(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def trend_line(data: ReportData, t: Trend) -> str:
    tr = t.treatment
    dose = f" {tr.dose:g} {tr.unit or ''}".rstrip() if tr.dose is not None else ""
    when = f"{tr.drug}{dose} started {data.local(tr.t):%Y-%m-%d}"
    return (
        f"{when}: clusters/day {_per_day(t.clusters_before)} in the {counted(t.days_before, 'day')} before -> "
        f"{_per_day(t.clusters_after)} in the {counted(t.days_after, 'day')} after; "
        f"spasms/day {_per_day(t.spasms_before)} -> {_per_day(t.spasms_after)}"
    )


def trend_lines(data: ReportData) -> list[str]:
    if not data.trends:
        return ["No treatment started in this period."]
    return [trend_line(data, t) for t in data.trends] + [
        f"(up to {TREND_DAYS} whole days each side within the report; the start day itself is left out)"
    ]


DAY_HEADER = ("date", "hours monitored", "spasms", "clusters", "spasms in clusters", "false alarms")


def day_rows(data: ReportData) -> list[tuple[str, ...]]:
    return [
        (f"{d.day:%a %Y-%m-%d}", hours(d.monitored_s), str(d.spasms), str(d.clusters), str(d.cluster_spasms), str(d.false_alarms))
        for d in data.days
    ]


def log_rows(data: ReportData) -> list[tuple[str, str, str]]:
    """Treatments and notes in time order: (local time, what, text)."""
    items: list[tuple[float, str, str]] = []
    for tr in data.treatments:
        dose = f" {tr.dose:g}" if tr.dose is not None else ""
        items.append((tr.t, "treatment", f"{tr.drug} {tr.action}{dose} {tr.unit or ''}".rstrip()))
    for n in data.notes:
        items.append((n.t, f"note: {n.kind}", n.text))
    return [(data.local(t).strftime("%Y-%m-%d %H:%M"), what, text) for t, what, text in sorted(items)]
