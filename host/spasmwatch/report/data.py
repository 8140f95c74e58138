"""What the pediatrician report shows, gathered from a ``Source`` in one pass per kind.

Days are local calendar days in the report's time zone. Spasms are only
counted (never held); clusters, sleep/wake onsets, notes and treatments of a
few weeks are small and kept.

A day's spasms are its clusters' counts (a cluster-counter match included, on the day the
cluster starts) and the spasm-like events in no cluster. The events of a cluster the caregiver
marked a false alarm are none: they saw them, and they were not spasms. So a day's spasms are
never fewer than its spasms in clusters, and the family's page, the daily summary and the report
give the same numbers as a cluster's card.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from math import inf

from spasmwatch.export.coverage import WORN, Segment, data_end, heard_and_slept, in_range, recorded
from spasmwatch.export.rows import ClusterRow, NoteRow, Source, TransitionRow, TreatmentRow
from spasmwatch.report.consts import TREND_DAYS, TREND_MIN_MONITORED_S, TREND_PER_S, TREND_SAME_FRACTION

# How long before the report's start a cluster may begin and still hold its first events (s): a
# cluster lasts minutes; a day is ample and costs one small query.
CLUSTER_LOOKBACK_S = 86400.0


@dataclass
class Day:
    day: date
    whole: bool = True  # the report covers all of it (its first and last day may be partial)
    clusters: int = 0
    false_alarms: int = 0
    cluster_spasms: int = 0  # the counts of the clusters begun this day, not marked a false alarm
    lone_spasms: int = 0  # spasm-like events in no cluster
    # Seconds the band was worn and heard from (export/coverage.py): a day of few spasms and 2 h of
    # wear is no good day (researcher audit: the report gave counts with no hours beside them).
    monitored_s: float = 0.0
    # Of the clusters and spasm-like events counted (false alarms not), those begun in a monitored
    # second: a rate's count, as monitored_s is its hours. A band out of range goes on logging and
    # sends them later (backfill); divided by the hours heard from only, a week of nights out of range
    # doubled the rate before a treatment, and read as a response to it (hostile review).
    rated_clusters: int = 0
    rated_spasms: int = 0

    @property
    def spasms(self) -> int:
        return self.cluster_spasms + self.lone_spasms


@dataclass(frozen=True)
class Side:
    """One side of a trend: its whole days, their monitored seconds and their counts."""

    days: int
    monitored_s: float
    clusters: int
    spasms: int

    @property
    def enough(self) -> bool:
        """Monitored long enough for a rate (TREND_MIN_MONITORED_S)."""
        return self.monitored_s >= TREND_MIN_MONITORED_S

    def per_24h(self, n: int) -> float:
        """``n`` per 24 h monitored (only of a side with enough hours: never of none)."""
        return n * TREND_PER_S / self.monitored_s


@dataclass(frozen=True)
class Trend:
    """Clusters and spasms per 24 h monitored in the TREND_DAYS whole days before and after a
    treatment start. Per calendar day, a week with the band worn half the time read as a halving
    of spasms (researcher audit): counts are only of the hours the band was monitoring."""

    treatment: TreatmentRow
    before: Side
    after: Side
    # The same drug's first stop after the start, if any: the 'after' side ends before its day
    stop: TreatmentRow | None = None
    # The fraction of a side's monitored hours that would have to move to other hours of the day to
    # match the other's (0: alike; TREND_HOURS_DIFFER): clusters come mostly after waking, so a rate
    # of nights only is not one of whole days (hostile review)
    hours_moved: float = 0.0
    # Of the 'before' side's days, those before the report's first day: counted from the store, but
    # in none of the report's tables (said, so the trend is not checked against them)
    before_report: int = 0
    # The other treatment changes on its sides' days and its start day (not its stop): a dose raised,
    # or a drug added, within them is in the rates too (doctor review: the course's doubled dose on
    # day 3 after the start went unsaid, and the fall read as the starting dose's)
    changes: tuple[TreatmentRow, ...] = ()

    @property
    def comparable(self) -> bool:
        return self.before.enough and self.after.enough

    def change(self, n_before: int, n_after: int) -> float | None:
        """The fraction by which the rate after differs from the rate before (-0.5: halved); None
        from a rate of none before. Only of a comparable trend."""
        if n_before == 0:
            return None
        rate = self.before.per_24h(n_before)
        return (self.after.per_24h(n_after) - rate) / rate

    def same(self, n_before: int, n_after: int) -> bool:
        """Whether the rates differ by less than TREND_SAME_FRACTION (both none: the same)."""
        frac = self.change(n_before, n_after)
        return n_after == 0 if frac is None else abs(frac) < TREND_SAME_FRACTION


def _side(days: list[Day]) -> Side:
    """The days' monitored hours and the counts begun in them (``Day.rated_clusters``)."""
    return Side(len(days), sum(d.monitored_s for d in days), sum(d.rated_clusters for d in days), sum(d.rated_spasms for d in days))


@dataclass
class ReportData:
    device: str | None
    since: float
    until: float
    tz: tzinfo
    days: list[Day]
    clusters: list[ClusterRow] = field(default_factory=list)
    # The clusters begun in the CLUSTER_LOOKBACK_S before ``since``: in none of its tables, but a
    # video just after its start may be of one (text.unmatched_videos_line)
    clusters_before: list[ClusterRow] = field(default_factory=list)
    transitions: list[TransitionRow] = field(default_factory=list)
    notes: list[NoteRow] = field(default_factory=list)
    treatments: list[TreatmentRow] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    # (device, boot, spasm events) of each band boot that never got a time sync: no wall time, so on no day
    unplaced: list[tuple[str, int, int]] = field(default_factory=list)
    # Who the report is about (report --patient), on every page; never stored (the store has no such field)
    patient: str | None = None
    # The bands heard from in the range (worn, a spasm, a cluster): more than one is said, as their
    # counts are added together as one child's
    bands: list[str] = field(default_factory=list)
    # The monitored spans (start, end), merged across bands: the hours since the last cluster
    monitored: list[tuple[float, float]] = field(default_factory=list)
    # device -> the name the family gave the band (config.Band.title, by commands.summary.band_names):
    # a doctor reads 'Mila', not 'nursery-0001' (a band with none keeps its id)
    names: dict[str, str] = field(default_factory=dict)
    # The end of data: ``until``, or the time the report was made when it ends later (coverage.data_end).
    # Hours past it are not yet lived: not hours without a cluster (hostile review: '--until' a
    # week ahead gave 'none after it in the 278.0 h to the report's end', 160 of them to come).
    end: float = inf
    # (from, zone) of each zone the daemon ran in over the range (``Store.zones``): said when not
    # ``tz`` alone, as days are cut in ``tz`` whatever zone a night was lived in
    zones: list[tuple[float, str]] = field(default_factory=list)
    # How the range given was cut to the store's data (commands.report.held_to_data): a doctor who
    # typed 2016 for 2026 reads why the report starts on the band's first day, not on the one typed
    held: list[str] = field(default_factory=list)

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, tz=self.tz)

    def day_index(self, t: float) -> int:
        return (self.local(t).date() - self.days[0].day).days

    def monitored_s(self, a: float, b: float) -> float:
        """Seconds monitored between ``a`` and ``b``."""
        return sum(max(0.0, min(b, e) - max(a, s)) for s, e in self.monitored)

    def monitoring(self, t: float) -> bool:
        """Whether ``t`` is in a monitored span (merged: in time order, apart)."""
        i = bisect_right(self.monitored, (t, inf)) - 1
        return i >= 0 and t < self.monitored[i][1]

    @property
    def counted_clusters(self) -> list[ClusterRow]:
        """Clusters not labelled a false alarm."""
        return [c for c in self.clusters if c.label != "false_alarm"]


def _days(since: float, until: float, end: float, tz: tzinfo) -> list[Day]:
    """The range's local days; whole: in the range, and over by ``end`` (a day not yet over is
    in no trend side)."""
    first = datetime.fromtimestamp(since, tz=tz).date()
    last = datetime.fromtimestamp(until - 1e-6, tz=tz).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    starts = [midnight(d, tz) for d in [*days, last + timedelta(days=1)]]
    return [Day(d, since <= starts[i] and starts[i + 1] <= min(until, end)) for i, d in enumerate(days)]


def gather(source: Source, device: str | None, since: float, until: float, tz: tzinfo, now: float | None = None) -> ReportData:
    """The report's facts; ``now``: when it is made (None: this computer's clock), its end of data.
    Its hours and its sleep/wake come from one read of the epochs (two cost 2 s of a year's 5 s)."""
    end = _end(since, until, now)
    heard, data_transitions = heard_and_slept(source, device, since, until, end)
    data = with_treatments(count(source, device, since, until, tz, end, heard), source)
    data.trends = _trends(data, source, now)
    data.transitions = data_transitions
    data.notes = list(source.notes(device, since, until))
    return data


def _end(since: float, until: float, now: float | None) -> float:
    """The report's end of data (``ReportData.end``): never before its start (no negative hours)."""
    return max(since, data_end(until, now))


def with_treatments(data: ReportData, source: Source) -> ReportData:
    """``data`` (``count``'s) with the treatments to its end (the daily summary's trends are ``trend``'s
    of them; the report's, ``gather``'s)."""
    # treatments from before the range still matter (a drug started last month)
    data.treatments = list(source.treatments(float("-inf"), data.until))
    return data


def _trends(data: ReportData, source: Source, now: float | None) -> list[Trend]:
    """The trend of each start with a day after it in the report, its week before counted from the
    store where the report begins later: at the 2-week follow-up the report is of the days since the
    start (the default 14), and its trend said '0.0 h monitored in the 0 days before', as if the band
    had not been worn, or, begun the day after, gave none (doctor review). The days before the
    report's first are counted on their own (its own epochs are read once: docs/web.md)."""
    first = data.days[0].day
    starts = [t for t in data.treatments if t.action == "start" and (t.t >= data.since or _reaches(data, t, first))]
    if not starts:
        return []
    since = midnight(min(data.local(t.t).date() for t in starts) - timedelta(days=TREND_DAYS), data.tz)
    wide = data if since >= midnight(first, data.tz) else _joined(count(source, data.device, since, midnight(first, data.tz), data.tz, now), data)
    return [trend(wide, t, first) for t in starts]


def _joined(before: ReportData, data: ReportData) -> ReportData:
    """The days and monitored spans of ``before`` (whole days up to ``data``'s first day's midnight)
    and of ``data``, as one range: a trend's sides (``trend`` reads no more of it), with ``data``'s
    treatments (a stop ends an 'after' side)."""
    joined = ReportData(data.device, before.since, data.until, data.tz, before.days + data.days, end=data.end)
    joined.monitored = before.monitored + data.monitored  # in time order: the one's end at or before the other's start
    joined.treatments = data.treatments
    return joined


def count(
    source: Source, device: str | None, since: float, until: float, tz: tzinfo, now: float | None = None, heard: list[Segment] | None = None
) -> ReportData:
    """The report's days, clusters, bands and monitored spans only (``gather``'s counting, no
    transitions, notes, treatments nor trends): the family page's chart and the daily summary's
    24 h (and, ``with_treatments``, its trends). Its sleep/wake, each epoch of the range run through the estimate again, was 70 % of the
    page's 14 days and none of its answer (docs/web.md). ``heard``: the bands' ``recorded`` segments
    to the end of data, when the caller has them (gather: of its one read)."""
    end = _end(since, until, now)
    data = ReportData(device, since, until, tz, _days(since, until, end, tz), end=end)
    data.clusters = list(source.clusters(device, since, until))
    near = list(source.clusters(device, since - CLUSTER_LOOKBACK_S, until))
    spans = _Spans(near)
    data.clusters_before = [c for c in near if c.t < since]
    bands = {c.device for c in data.clusters} | _monitored(data, recorded(source, device, since, until, end) if heard is None else heard)
    for s in source.spasms(device, since, until):
        bands.add(s.device)
        if not s.matched and not spans.holds(s.device, s.t):  # a match is always in its cluster's count
            d = data.days[data.day_index(s.t)]
            d.lone_spasms += 1
            d.rated_spasms += 1 if data.monitoring(s.t) else 0
    for c in data.clusters:
        d = data.days[data.day_index(c.t)]
        if c.label == "false_alarm":
            d.false_alarms += 1
        else:
            d.clusters += 1
            d.cluster_spasms += c.count
            if data.monitoring(c.t):
                d.rated_clusters += 1
                d.rated_spasms += c.count
    data.bands = sorted(bands)
    return data


def _monitored(data: ReportData, heard: list[Segment]) -> set[str]:
    """Each day's monitored seconds: the bands' worn segments of ``heard`` (``recorded``'s) in the
    range, merged (two bands on the baby at once are one hour, not two), cut at local midnights (a
    daylight-saving day has 23 or 25 hours). Returns the bands worn."""
    segments = [s for s in in_range(heard, data.since, data.until) if s.kind == WORN]
    worn = sorted((s.t, s.end) for s in segments)
    merged: list[list[float]] = []
    for a, b in worn:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    data.monitored = [(a, b) for a, b in merged]
    for a, b in merged:
        while a < b:
            i = data.day_index(a)
            end = min(b, midnight(data.days[i].day + timedelta(days=1), data.tz))
            data.days[i].monitored_s += end - a
            a = end
    return {s.device for s in segments}


def _reaches(data: ReportData, tr: TreatmentRow, first: date) -> bool:
    """Whether a day of start ``tr``'s 'after' side (up to TREND_DAYS, ended by its stop: ``trend``)
    is on or after the report's ``first`` day: a drug stopped before the report has no trend in it."""
    last = data.local(tr.t).date() + timedelta(days=TREND_DAYS)
    if (stop := _stop(data, tr)) is not None:
        last = min(last, data.local(stop.t).date() - timedelta(days=1))
    return last >= first


class _Spans:
    """Each band's clusters as time spans (first onset to end): which cluster an event is in."""

    def __init__(self, clusters: Iterable[ClusterRow]) -> None:
        self._by_device: dict[str, tuple[list[float], list[float]]] = {}
        for c in sorted(clusters, key=lambda c: c.t):
            starts, ends = self._by_device.setdefault(c.device, ([], []))
            starts.append(c.t)
            ends.append(c.end)

    def holds(self, device: str, t: float) -> bool:
        starts, ends = self._by_device.get(device, ([], []))
        i = bisect_right(starts, t) - 1
        return i >= 0 and t <= ends[i]


def trend(data: ReportData, tr: TreatmentRow, first: date | None = None) -> Trend:
    """Whole days before the start day vs whole days after it (the start day itself is left out,
    and so is a day the report covers in part: today, by default, would count as a quiet day).
    Each side's hours are its days' monitored ones (export/coverage.py, as the per-day table's).
    ``first``: the report's first day, when ``data`` begins before it (``Trend.before_report``)."""
    k = data.day_index(tr.t)
    stop = _stop(data, tr)
    # Up to the stop day, left out as the start day is: a drug stopped two days in (side effects)
    # was credited with the week after its stop (hostile review).
    last = k + TREND_DAYS if stop is None else min(k + TREND_DAYS, data.day_index(stop.t) - 1)
    before = [d for i, d in enumerate(data.days) if k - TREND_DAYS <= i < k and d.whole]
    after = [d for i, d in enumerate(data.days) if k < i <= last and d.whole]
    moved = 0.5 * sum(abs(b - a) for b, a in zip(_hour_shares(data, before), _hour_shares(data, after), strict=True))
    outside = sum(1 for d in before if first is not None and d.day < first)
    days = {d.day for d in before + after} | {data.days[k].day}
    changes = tuple(r for r in data.treatments if r not in (tr, stop) and data.local(r.t).date() in days)
    return Trend(tr, _side(before), _side(after), stop, moved, outside, changes)


def _hour_shares(data: ReportData, days: list[Day]) -> list[float]:
    """The share of ``days``' monitored seconds in each local hour of the day, 0-23 (all 0: none)."""
    secs = [0.0] * 24
    for d in days:
        day_start, day_end = midnight(d.day, data.tz), midnight(d.day + timedelta(days=1), data.tz)
        for s, e in data.monitored:
            a, b = max(s, day_start), min(e, day_end)
            while a < b:
                here = data.local(a)
                # the next local hour (a wall-clock hour: across a clock change it is still one hour of the day)
                nxt = min(b, (here.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).timestamp())
                secs[here.hour] += nxt - a
                a = nxt
    total = sum(secs)
    return [x / total if total else 0.0 for x in secs]


def midnight(d: date, tz: tzinfo) -> float:
    """Unix s of the local midnight in ``tz`` that starts ``d`` (a day of a clock change lasts 23 or 25 h)."""
    return datetime.combine(d, time(), tzinfo=tz).timestamp()


def _stop(data: ReportData, tr: TreatmentRow) -> TreatmentRow | None:
    """The first stop of ``tr``'s drug after it (the report's, or the daily summary's, treatments)."""
    stops = [s for s in data.treatments if s.action == "stop" and s.drug.lower() == tr.drug.lower() and s.t > tr.t]
    return min(stops, key=lambda s: s.t, default=None)


def sleep_spans(data: ReportData) -> list[tuple[float, float]]:
    """(sleep onset, wake onset) intervals; open ends are cut at the report's start and end."""
    spans: list[tuple[float, float]] = []
    start: float | None = None
    if data.transitions and data.transitions[0].kind == "wake":
        start = data.since  # asleep when the report begins: the first night is drawn too
    for tr in data.transitions:
        if tr.kind == "sleep" and start is None:
            start = tr.t
        elif tr.kind == "wake" and start is not None:
            spans.append((start, tr.t))
            start = None
    if start is not None:
        spans.append((start, data.end))
    return spans
