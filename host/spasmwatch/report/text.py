"""The report's words and tables, shared by the PDF and the HTML."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from itertools import groupby
from statistics import median

from spasmwatch import __version__
from spasmwatch.words import one_line
from spasmwatch.export.rows import ClusterRow, NoteRow, TreatmentRow
from spasmwatch.report.consts import (
    CHANGES_LISTED,
    CLUSTERS_IMPLAUSIBLE_PER_DAY,
    DOSE_HOLD_FACTOR,
    DOSE_HOLD_MIN_S,
    DOSE_HOLDS_LISTED,
    DOSE_STEPS_AS_ONE,
    DAY_RATE_MIN_MONITORED_S,
    NOTE_AFTER_S,
    NOTE_BEFORE_S,
    UNMATCHED_VIDEOS_LISTED,
    TREND_DAYS,
    TREND_HOURS_DIFFER,
    TREND_MIN_MONITORED_S,
    TREND_PER_S,
)
from spasmwatch.clock import UNNAMED_FILE, recorded_zone, said_zone_name, said_zone_of, same_clock, wall_text
from spasmwatch.report.data import Day, ReportData, Side, Trend
from spasmwatch.words import counted

TITLE = "spasmwatch screening log"
DISCLAIMER = (
    "Screening log, not a diagnosis. These are movements a band classified as spasm-like; "
    "some may be other movements, and spasms can be missed. Counts run low (a found cluster's spasms "
    "are not all counted), so compare days with each other rather than with a count made by watching. "
    "Please review the caregiver's videos. "
    "Only a clinician (with EEG) can diagnose infantile spasms or judge treatment response."
)


# Without --patient: a line to write the child's name on, so a printout is not left anonymous.
PATIENT_BLANK = "________________________ (not given)"

# The report's one name for what the band counted, as its summary, day table and plots say it
# (the family's pushes and page say "spasm-like movements", alerts/messages.py): until 2026-12-06
# the treatment trend said "5 spasms before" under a table of "spasm-like events".
SPASM_LIKE = "spasm-like event"


def patient_line(data: ReportData) -> str:
    return f"Patient: {data.patient or PATIENT_BLANK}"


def band(data: ReportData, device: str) -> str:
    """The band as the family calls it (its [[bands]] label or name, as the daemon and 'status' do),
    else its device id: a doctor reads 'Mila', not 'nursery-0001' (doctor review). A name another
    band of the report has too is said with its id ('Mila [band-0002]'): a band replaced by a new
    one of the same name read 'Mila, Mila', and each cluster 'Mila' (hostile review)."""
    name = data.names.get(device, device)
    shared = any(d != device and data.names.get(d, d) == name for d in data.bands)
    return f"{name} [{device}]" if shared and name != device else name


def band_and_id(data: ReportData, device: str) -> str:
    """'Mila [nursery-0001]': the name with the id the exports and the store use, said once, on
    page 1; an unnamed band is its id alone."""
    name = data.names.get(device, device)
    return name if name == device else f"{name} [{device}]"


def period(data: ReportData, ids: bool = False) -> str:
    """'2024-03-04 to 2024-03-17 (14 days), all bands; times in Europe/Berlin'; the bands by their
    names, with their ids when ``ids`` (page 1's subtitle; each page's foot has the names only)."""
    first, last = data.days[0].day, data.days[-1].day
    named = band_and_id if ids else band
    listed = f" ({', '.join(named(data, d) for d in data.bands)})" if len(data.bands) > 1 else ""
    device = named(data, data.device) if data.device else "all bands" + listed
    return f"{first:%Y-%m-%d} to {last:%Y-%m-%d} ({counted(len(data.days), 'day')}), {device}; times in {zone(data)}"

# What the band can and cannot see, with the measured numbers the README's safety note gives (a test
# holds the two to the same figures): the disclaimer says spasms can be missed; a doctor weighing a
# quiet week needs to know which ones (doctor review: the report named no limit of the band).
LIMITS = (
    "The band senses movement of the trunk only (no EEG, no video). It has been tested on simulated "
    "babies only, not yet on real ones: on an independently written simulator it found 6 to 7 in 10 "
    "spasm clusters (92 of 143 clusters of 24 babies), on a third only 3 in 10. It misses most clusters "
    "of subtle spasms (head nods, belly tensing) and many that come while the baby is held, fed or "
    "crying, and of a cluster it finds it counts most spasms, not all. False alarms came under once a day "
    "for most simulated babies, twice a day for one. Measurements: docs/detector.md."
)

# Where the report gives a time after waking: the waking is the band's estimate from movement
# (analysis/sleepwake), not seen by anyone, with the accuracy docs/detector.md measured (a test holds
# the two to the same figures; doctor review: "after waking" read as observed).
WAKE_ESTIMATED = (
    "'After waking' is estimated from the band's movement, not observed: on the independent simulator's "
    "held-back babies the band placed 95 of 118 wakings (81%) within 5 minutes of the real one, and the "
    "end of a nap in a car, a stroller or a carer's arms is not seen, so the time is then counted from an "
    "earlier waking (docs/detector.md)."
)


def subtitle(data: ReportData) -> str:
    made = datetime.now(tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{period(data, ids=True)}; made {made} by spasmwatch {__version__}"


def footer(data: ReportData, page: int, pages: int) -> str:
    """Each PDF page's foot: a page printed or sent alone still says whose, which period, in which
    zone, and what it is (doctor review: only page 1 said the period; no page said whose)."""
    return f"{footer_lead(data)} | page {page} of {pages}"


def footer_lead(data: ReportData) -> str:
    """The foot before its page number; the HTML report's print CSS counts the pages itself."""
    who = data.patient or "patient not given"
    return f"{who} | {period(data)} | {TITLE}, not a diagnosis"


MINUTE = "%Y-%m-%d %H:%M"  # the report's times: to the minute


def at(data: ReportData, t: float, fmt: str = MINUTE) -> str:
    """A time of day in the report's zone, to the minute, its zone said where the clocks going back
    make the wall time name two instants (``wall_text``): two clusters at 02:30 that night."""
    return wall_text(t, fmt, data.tz)


def zone(data: ReportData) -> str:
    """The report's time zone by name ('Europe/Berlin'): every time of day is in it, and every plot
    of one says so (doctor review: the plots' hours named no zone; only page 1 said it)."""
    return said_zone_of(data.tz, data.since)  # a POSIX rule or a zone file naming none by its offsets


def summary(data: ReportData) -> list[str]:
    spasms = sum(d.spasms for d in data.days)
    clusters = sum(d.clusters for d in data.days)
    fa = sum(d.false_alarms for d in data.days)
    pw = [c.post_wake_s / 60 for c in data.counted_clusters if c.post_wake_s is not None]
    # The days with no data said where the days are counted: '0 clusters in 14 days' of a band worn
    # on one of them read as a fortnight watched (hostile review); the line below gives the hours.
    nodata = sum(1 for d in data.days if unmonitored(d))
    said = [f"{nodata} of them with no data: the band was not monitoring"] if nodata else []
    said += [f"{fa} more {'cluster' if fa == 1 else 'clusters'} marked false alarm by the caregiver"] if fa else []
    lines = [
        f"{counted(spasms, SPASM_LIKE)} and {counted(clusters, 'cluster')} in {counted(len(data.days), 'day')}"
        + (f" ({'; '.join(said)})" if said else ""),
    ]
    lines += [f"{line[0].upper()}{line[1:]}." for line in data.held]  # the range given, cut to the data
    lines.append(monitored_line(data))
    if implausible := implausible_line(data):
        lines.append(implausible)
    if bands := bands_line(data):
        lines.append(bands)
    if zones := zones_line(data.zones, data.tz, data.since, data.until, "these days"):
        lines.append(zones)
    if pw:
        lines.append(f"Median cluster start {median(pw):.0f} min after waking ({counted(len(pw), 'cluster')} with a wake onset seen).")
        lines.append(WAKE_ESTIMATED)
    if last := last_cluster_line(data):
        lines.append(last)
    if video := video_line(data):
        lines.append(video)
    if unmatched := unmatched_videos_line(data):
        lines.append(unmatched)
    if unplaced := unplaced_line(data):
        lines.append(unplaced)
    return lines


def last_cluster_line(data: ReportData) -> str | None:
    """When the last cluster was, and how long the band has monitored since: whether the spasms
    have stopped is what a doctor asks of a treatment, and a week's rate does not say it (doctor
    review: the report gave no date of the last cluster, nor the hours watched since)."""
    clusters = data.counted_clusters
    if not clusters:
        return None
    last = max(clusters, key=lambda c: c.t)
    since = max(0.0, data.end - last.end)
    watched = data.monitored_s(last.end, data.end)
    end = "to the report's end," if data.end >= data.until else f"up to {at(data, data.end)}, when this report was made,"
    return (f"Last cluster: {at(data, last.t)}; none after it in the {hours(since)} h {end} "
            f"{hours(watched)} h of them monitored.")  # fmt: skip


def implausible_days(data: ReportData) -> list[Day]:
    """Days with more clusters than CLUSTERS_IMPLAUSIBLE_PER_DAY: more likely the band than the child."""
    return [d for d in data.days if d.clusters > CLUSTERS_IMPLAUSIBLE_PER_DAY]


def implausible_line(data: ReportData, of: Collection[date] | None = None) -> str | None:
    """A day far above what infantile spasms give, said plainly with its count kept: a loose band or a
    rocking chair makes cluster after cluster, and 100 clusters in a day read as the child's (audit of
    the doctor's report). ``of``: a per-day page's days, the only ones it names (None: all)."""
    days = [d for d in implausible_days(data) if of is None or d.day in of]
    if not days:
        return None
    said = [f"{day_label(d)} ({counted(d.clusters, 'cluster')})" for d in days]
    which = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"
    return (f"On {which} the band counted far more clusters than infantile spasms usually give (over "
            f"{CLUSTERS_IMPLAUSIBLE_PER_DAY} in a day): a loose band, or rocking, bouncing, a swing or a car ride, can "
            "make movements like these. Please check that the band sits snugly and film the next alarm; "
            "the counts are shown as the band recorded them.")  # fmt: skip


def bands_line(data: ReportData) -> str | None:
    """Several bands in one report are added together as one child's (doctor review: two bands'
    clusters, twins' perhaps, were summed without a word, and the table did not say whose)."""
    if len(data.bands) < 2:
        return None
    both = "both were" if len(data.bands) == 2 else "two or more were"  # of 3 bands, 'both' read as a slip (hostile review)
    return (f"{len(data.bands)} bands are in this report ({', '.join(band(data, d) for d in data.bands)}): their counts are added "
            f"together as one child's, and hours when {both} worn count once. If they were worn by "
            "different children, make one report per band (spasmwatch report --device).")  # fmt: skip


def zones_line(history: Sequence[tuple[float, str]], tz: tzinfo, since: float, until: float, what: str) -> str | None:
    """Which zones the daemon ran in over ``what``, [since, until) (``Store.zones``: (from, zone) in
    time order), said when that is not ``tz`` alone: the days and times here are ``tz``'s, and a night
    spent elsewhere is on ``tz``'s calendar day at ``tz``'s hour (the days are not cut again per zone:
    a day of two zones has no one length or midnight). A zone by another name of ``tz``'s clock over
    its part of the span is ``tz`` (``same_clock``: 'Etc/UTC' recorded, a report in 'UTC' said a
    journey that never was; zone review). Nothing when none is recorded (a store from before v13)."""
    kept = zones_said(history, tz, since, until)
    if kept is None:
        return None
    named = after_unnamed(kept)
    said = [(t, said_zone_name(z)) for t, z in named]
    here = said_zone_of(tz, since)
    # Said of the zone: '(none recorded before ...)' read, in a doctor's report, as no data before then
    why = "not known: the monitor's version then recorded no name for it" if len(named) < len(kept) else "not recorded"
    unknown = "" if said[0][0] <= since else f" Which zone it ran in before {wall_text(said[0][0], MINUTE, tz)} is {why}."
    if len(said) == 1:
        ran = f"The monitor ran in {said[0][1]} over {what}"
    else:
        later = ", then ".join(f"{z} from {wall_text(t, MINUTE, tz)}" for t, z in said[1:])
        ran = f"The monitor's time zone changed over {what}: {said[0][1]}, then {later}"
    return (f"{ran}.{unknown} All days and times here are {here} time, also those spent in another zone: "
            f"each is shown at the {here} date and time it happened.")  # fmt: skip


def after_unnamed(kept: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """``kept`` from its first named zone on, when it starts with an older daemon's unnamed rows
    ('localtime', a copied zone file it could not name) and has a named one: the unnamed span is of a
    zone not known (most likely the one named next), not a change of zone to tell the doctor. The
    report's rule, and the daily push's and the page's summary's (daemon/summary.summary_facts)."""
    first = next((i for i, (_, z) in enumerate(kept) if z != UNNAMED_FILE), 0)
    return kept[first:]


def zones_said(history: Sequence[tuple[float, str]], tz: tzinfo, since: float, until: float) -> list[tuple[float, str]] | None:
    """The zones ``zones_line`` says, (from, zone as recorded), or None when it says none: the span
    was in ``tz``'s clock alone (or no zone is recorded). The one rule of the report, 'summary', the
    page's summary and the daily push (each words the names, ``said_zone_name``, in its language)."""
    history = _one_name_a_clock(history, since, until)
    ends = [t for t, _ in history[1:]] + [until]
    if all(same_clock(z, tz, max(t, since), end) for (t, z), end in zip(history, ends)):
        return None  # (also when no zone is recorded: all of none)
    return history


def _one_name_a_clock(history: Sequence[tuple[float, str]], since: float, until: float) -> list[tuple[float, str]]:
    """``history`` without a row that names the clock of the row before it by another name (a
    restart under TZ=UTC after Etc/UTC: 'changed: Etc/UTC, then UTC' told of a journey that never
    was; a POSIX rule, then the zone it gives). A name of no clock (``recorded_zone``: 'localtime') is
    kept as it is (``same_clock`` compares those by name)."""
    kept = list(history[:1])
    for i, (t, name) in enumerate(history[1:], 1):
        end = history[i + 1][0] if i + 1 < len(history) else until
        before = recorded_zone(kept[-1][1])
        if before is None or not same_clock(name, before, max(t, since), end):
            kept.append((t, name))
    return kept


def hours(seconds: float) -> str:
    """Hours with one decimal: '23.5', '0.0'."""
    return f"{seconds / 3600:.1f}"


def monitored_line(data: ReportData) -> str:
    """The hours the counts are of, said before anyone compares days by them."""
    total = sum(d.monitored_s for d in data.days)
    span = data.end - data.since
    made = "" if data.end >= data.until else " up to when it was made"
    if all(unmonitored(d) for d in data.days):  # its zeros read as a period free of spasms (doctor review)
        return (
            f"The band was not monitoring (worn and connected) at any time in the {hours(span)} h of this report{made}: "
            "there is no data, so its zeros do not mean there were no spasms."
        )
    return (
        f"The band was monitoring (worn and connected) {hours(total)} h of the {hours(span)} h in this report{made}. "
        "A day with few spasms and few hours monitored is not a good day (see 'hours monitored' in the per-day "
        "table). Rates per 24 h monitored count only those hours; the day counts also hold the clusters and events "
        "the band logged while out of range and sent later."
    )


def unplaced_line(data: ReportData) -> str | None:
    """The spasms on no day, said plainly: a band that restarted away from this computer and was
    never given the time stamps its events with no date (they were left out without a word)."""
    n = sum(count for _, _, count in data.unplaced)
    if not n:
        return None
    events = "1 spasm event recorded while the band's clock was not set is" if n == 1 else (
        f"{n} spasm events recorded while the band's clock was not set are")
    return f"{events} not in the day counts: the band restarted and was never given the time, so {'it' if n == 1 else 'they'} cannot be put on a day."


def _change(t: Trend, n_before: int, n_after: int) -> str:
    """'no change', 'down 50 %', 'up 25 %', 'up from none': the rates' change in words."""
    if t.same(n_before, n_after):
        return "no change"
    frac = t.change(n_before, n_after)
    if frac is None:
        return "up from none"
    return f"{'up' if frac > 0 else 'down'} {abs(frac) * 100:.0f} %"


def _rates(t: Trend, what: str, n_before: int, n_after: int) -> str:
    b, a = t.before.per_24h(n_before), t.after.per_24h(n_after)
    return f"{what} per 24 h monitored {b:.1f} -> {a:.1f} ({_change(t, n_before, n_after)})"


def _side_words(s: Side, where: str, outside: int = 0) -> str:
    """'168.0 h monitored in the 7 days before', and how many of them precede the report's days."""
    said = f"{hours(s.monitored_s)} h monitored in the {counted(s.days, 'day')} {where}"
    if outside:
        which = f"all {outside}" if outside == s.days else f"{outside} of them"
        said += f" ({which} before this report's first day: not in its tables)"
    return said


def trend_line(data: ReportData, t: Trend) -> str:
    """Rates per 24 h monitored, not per calendar day: a week with half the wear time read as a
    halving of spasms. A side with too few hours monitored gives its counts, no rate to compare."""
    tr = t.treatment
    when = f"{tr.drug}{_dose(tr)} started {data.local(tr.t):%Y-%m-%d}"
    if t.stop is not None:
        when += f", stopped {data.local(t.stop.t):%Y-%m-%d} (the days after it are those before its stop day)"
    sides = f"{_side_words(t.before, 'before', t.before_report)}, {_side_words(t.after, 'after')}"
    if not t.comparable:
        counts = (f"{counted(t.before.clusters, 'cluster')} and {counted(t.before.spasms, SPASM_LIKE)} before, "
                  f"{counted(t.after.clusters, 'cluster')} and {counted(t.after.spasms, SPASM_LIKE)} after")  # fmt: skip
        return (f"{when}: too few hours monitored to compare (under {hours(TREND_MIN_MONITORED_S)} h on a side): "
                f"{sides}; {counts}{_changes(data, t)}")  # fmt: skip
    return (f"{when}: {_rates(t, 'clusters', t.before.clusters, t.after.clusters)}; "
            f"{_rates(t, f'{SPASM_LIKE}s', t.before.spasms, t.after.spasms)}; {sides}{_hours_differ(t)}{_changes(data, t)}")  # fmt: skip


def _changes(data: ReportData, t: Trend) -> str:
    """The other treatment changes in the trend's days, said after its rates ('' when none)."""
    if not t.changes:
        return ""
    said = ", ".join(_changes_said(data, t.changes))
    return f"; other treatment changes in these days, which the rates reflect too: {said}"


def _changes_said(data: ReportData, changes: Sequence[TreatmentRow]) -> list[str]:
    """Each change by its date, a drug's dose steps one way as one (``dose_runs``): a trend of a
    start followed by a daily taper named each of its 7 steps (hostile review)."""
    said: list[tuple[float, str]] = []
    for run in dose_runs(sorted(changes, key=lambda r: r.t)):
        if len(run) >= DOSE_STEPS_AS_ONE:
            said.append((run[0].t, f"{dose_run_said(data, run)} from {data.local(run[0].t):%Y-%m-%d} to {data.local(run[-1].t):%Y-%m-%d}"))
        else:
            said += [(r.t, f"{r.drug} {r.action}{_dose(r)} on {data.local(r.t):%Y-%m-%d}") for r in run]
    return [words for _, words in sorted(said, key=lambda x: x[0])]


def _hours_differ(t: Trend) -> str:
    """The sides monitored at different hours of the day (TREND_HOURS_DIFFER), said after the rates."""
    if t.hours_moved < TREND_HOURS_DIFFER:
        return ""
    return (f"; the two sides were monitored at different hours of the day ({t.hours_moved * 100:.0f} % of the hours "
            "would have to move to match), and clusters come mostly after waking: the rates can differ for that alone")  # fmt: skip


def _dose(tr: TreatmentRow) -> str:
    """' 50 mg/kg/day' after a drug's name ('' without a dose)."""
    return f" {tr.dose:g} {tr.unit or ''}".rstrip() if tr.dose is not None else ""


def ongoing_lines(data: ReportData) -> list[str]:
    """Each drug given when the period begins, by its latest change before it (a stop ends it):
    a report of the third week on vigabatrin said only 'No treatment started in this period', so
    its counts read as untreated ones (doctor review)."""
    latest: dict[str, TreatmentRow] = {}
    started: dict[str, TreatmentRow] = {}
    for tr in sorted(data.treatments, key=lambda tr: tr.t):
        if tr.t < data.since:
            latest[tr.drug.lower()] = tr
            if tr.action == "start":
                started[tr.drug.lower()] = tr
    lines = []
    for drug, tr in latest.items():
        if tr.action != "stop":
            lines.append(f"Given from before this period: {tr.drug}{_dose(tr)} (its latest change before it: {tr.action} on "
                         f"{data.local(tr.t):%Y-%m-%d}).{_trend_hint(data, started.get(drug))}")  # fmt: skip
    return lines


def _trend_hint(data: ReportData, start: TreatmentRow | None) -> str:
    """How to see the trend of a start too long before the period for one here (at a 4-week follow-up
    the default 14 days said nothing of how the first weeks went; doctor review): '' when it has one."""
    if start is None or any(t.treatment == start for t in data.trends):
        return ""
    first = data.local(start.t).date() - timedelta(days=TREND_DAYS)
    return f" Its week before and after the start are compared in a report from {first} (spasmwatch report --since {first})."


def trend_lines(data: ReportData) -> list[str]:
    if not data.trends:
        return [*ongoing_lines(data), "No treatment started in this period."]
    return ongoing_lines(data) + [trend_line(data, t) for t in data.trends] + [
        f"(up to {TREND_DAYS} whole days each side, those before the report's first day included, the start day itself "
        "left out; "
        f"rates are per 24 h the band was worn and heard from, of the clusters and events in those hours, so days of "
        f"less wear, or nights out of range, do not look like fewer or more spasms; "
        "clusters the caregiver marked false alarms, and their events, are left out; "
        f"a side needs {hours(TREND_MIN_MONITORED_S)} h monitored)"
    ]


# Headers and plot labels say "spasm-like events", as the summary does: a table headed "spasms"
# read as confirmed spasms counted (doctor review), and it is the band's classification.
DAY_HEADER = ("date", "hours monitored", "spasm-like events", "clusters", "events in clusters", "false alarms",
              "clusters per 24 h monitored")  # fmt: skip
# A day's rate when it had too few hours monitored for one (DAY_RATE_MIN_MONITORED_S): its counts stay.
NO_RATE = "-"
# The daily plot's mark of such a day: its bar and point are of its few hours (doctor review: a day
# of 2 h with no cluster drew as a bar of 0, a good day).
FEW_HOURS = f"under {hours(DAY_RATE_MIN_MONITORED_S)} h monitored"
NO_RATE_NOTE = (f"'{NO_RATE}' under 'clusters per 24 h monitored': that day had under {hours(DAY_RATE_MIN_MONITORED_S)} h "
                "monitored, too few for a rate (one cluster more or less would move it by 2 or more a day); "
                "read its counts with its hours, not as a good or a bad day.")  # fmt: skip
# A day whose clusters were not all begun in its monitored hours (a band out of range logs them and
# sends them later): its rate counts fewer clusters than its 'clusters' cell, said under the table.
RATED_NOTE = ("'clusters per 24 h monitored' counts only the clusters begun in a day's hours monitored: those the band "
              "logged while out of range and sent later are in the day's counts, not in its rate.")  # fmt: skip
# A day's counts when the band never monitored it and nothing was recorded: no data, not a zero.
NO_DATA = "no data"
NO_DATA_NOTE = (f"'{NO_DATA}': the band was not worn and heard from at any time that day, "
                "so there is nothing to count; it is not a day without spasms.")  # fmt: skip


def day_label(day: Day) -> str:
    """'Mon 2024-03-04': the ISO date with its weekday, in the tables, the notes and the plots
    ('Mon 04 Mar' had no year, and a report spanning New Year read out of order)."""
    return f"{day.day:%a %Y-%m-%d}"


def days_said(data: ReportData, rows: range) -> str:
    """'Mon 2024-03-04 to Sun 2024-04-28': the first and last of the report's days ``rows``."""
    return f"{day_label(data.days[rows[0]])} to {day_label(data.days[rows[-1]])}"


def unmonitored(day: Day) -> bool:
    """A day with no hour monitored and nothing recorded: its zeros would read as a day free of
    spasms (doctor review: a 14-day report of a band first worn on its last day showed 13 such
    days as 0 spasms, 0 clusters). Events that arrived by backfill (a disconnected band still logs)
    are counts, so a day holding any is shown with them."""
    return day.monitored_s == 0 and day.spasms == 0 and day.clusters == 0 and day.false_alarms == 0


def too_few_for_a_rate(day: Day) -> bool:
    """A day monitored, but under DAY_RATE_MIN_MONITORED_S: no rate (a day of 2 h with no cluster
    read as a good day beside its counts; researcher audit)."""
    return not unmonitored(day) and day.monitored_s < DAY_RATE_MIN_MONITORED_S


def day_rate(day: Day) -> str:
    """The day's clusters per 24 h monitored ('4.0'), NO_RATE under the bar, NO_DATA unmonitored."""
    if unmonitored(day):
        return NO_DATA
    if too_few_for_a_rate(day):
        return NO_RATE
    return f"{day.rated_clusters * TREND_PER_S / day.monitored_s:.1f}"


def day_rows(data: ReportData) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for d in data.days:
        counts = (d.spasms, d.clusters, d.cluster_spasms, d.false_alarms)
        cells = (NO_DATA,) * len(counts) if unmonitored(d) else tuple(str(n) for n in counts)
        rows.append((day_label(d), hours(d.monitored_s), *cells, day_rate(d)))
    return rows


def day_notes(data: ReportData, days: Collection[date] | None = None) -> list[str]:
    """What the per-day table needs said under it; ``days``: those of a page of it, whose treatment
    changes and days far above what spasms give it names (``changes_line``, ``implausible_line``;
    None: every day's, all of them)."""
    notes = [NO_DATA_NOTE] if any(unmonitored(d) for d in data.days) else []
    notes += [NO_RATE_NOTE] if any(too_few_for_a_rate(d) for d in data.days) else []
    notes += [RATED_NOTE] if any(d.rated_clusters < d.clusters for d in data.days) else []
    notes += [line] if (line := changes_line(data, days)) else []
    return notes + ([line] if (line := implausible_line(data, days)) else [])


def changes_line(data: ReportData, days: Collection[date] | None = None) -> str | None:
    """The treatment changes on the table's days, each by its day: the table is read for 'before and
    after', and nothing on its page said when (doctor review: the plot's green lines were pages back).
    A drug's dose steps one way are said as one (``dose_runs``); of the other changes, the first
    CHANGES_LISTED of a day are named, the rest counted (every change on every page, a taper's 120
    left no room for the table: hostile review). ``days``: a page's days (None: all)."""
    changes = [tr for tr in data.treatments if tr.t >= data.since and (days is None or data.local(tr.t).date() in days)]
    if not changes:
        return None
    said: list[tuple[float, str]] = []
    singles: list[TreatmentRow] = []
    for run in dose_runs(changes):
        if len(run) < DOSE_STEPS_AS_ONE:
            singles += run
        else:
            said.append((run[0].t, _run_words(data, run)))
    for day, on_day in groupby(sorted(singles, key=lambda tr: tr.t), key=lambda tr: data.local(tr.t).date()):
        trs = list(on_day)
        said += [(tr.t, f"{at(data, tr.t, DAY_MINUTE)} {tr.drug} {tr.action}{_dose(tr)}") for tr in trs[:CHANGES_LISTED]]
        if len(trs) > CHANGES_LISTED:
            said.append((trs[CHANGES_LISTED].t, f"and {len(trs) - CHANGES_LISTED} more changes on {day} (see 'Treatments and caregiver notes')"))
    return f"Treatment changes on these days: {'; '.join(words for _, words in sorted(said, key=lambda x: x[0]))}."


DAY_MINUTE = "%a %Y-%m-%d %H:%M"  # a treatment change's time under the per-day table: its weekday too


def dose_runs(changes: Sequence[TreatmentRow]) -> list[list[TreatmentRow]]:
    """``changes`` (in time order) as runs: a drug's dose changes in one direction (or the same dose
    again), one unit, one after another with none of its other changes between, each a run; every
    other change a run of its own."""
    runs: list[list[TreatmentRow]] = []
    latest: dict[str, list[TreatmentRow]] = {}  # each drug's run so far
    for tr in changes:
        run = latest.get(tr.drug.lower())
        if run is not None and _steps_on(run, tr):
            run.append(tr)
        else:
            runs.append(run := [tr])
            latest[tr.drug.lower()] = run
    return [part for run in runs for part in _held_after(run)]


def _held_after(run: list[TreatmentRow]) -> list[list[TreatmentRow]]:
    """``run`` ending at its last change of dose, the same dose entered after it each a run of its
    own: vigabatrin's 150 entered again 6 weeks after its titration drew the titration across them
    (hostile review). A run of one dose entered again and again stays whole."""
    last = max((k for k in range(1, len(run)) if run[k].dose != run[k - 1].dose), default=len(run) - 1)
    return [run[: last + 1], *[[tr] for tr in run[last + 1 :]]]


def _steps_on(run: list[TreatmentRow], tr: TreatmentRow) -> bool:
    """Whether the dose change ``tr`` goes on the dose changes of ``run`` the same way."""
    if any(r.action != "change" or r.dose is None or r.unit != tr.unit for r in (*run, tr)):
        return False
    return _one_way([r.dose for r in (*run, tr) if r.dose is not None])


def _one_way(doses: list[float]) -> bool:
    """Whether ``doses`` go one way (or stay)."""
    steps = [b - a for a, b in zip(doses, doses[1:])]
    return all(s <= 0 for s in steps) or all(s >= 0 for s in steps)


def _run_words(data: ReportData, run: list[TreatmentRow]) -> str:
    """'Fri 2024-03-15 08:00 to Fri 2024-07-12 08:00 prednisolone tapered 40 -> 10 mg/day in 120 steps'."""
    return f"{at(data, run[0].t, DAY_MINUTE)} to {at(data, run[-1].t, DAY_MINUTE)} {dose_run_said(data, run)}"


def dose_run_said(data: ReportData, run: list[TreatmentRow], sep: str = " ") -> str:
    """A run of ``dose_runs``: 'prednisolone tapered 40 -> 10 mg/day in 120 steps' (the daily plot's
    label of it, and the per-day table's note after its dates), from the dose before it
    (``_dose_before``): from its first step's, a taper from 40 by 0.25 a day read 'tapered 39.75 ->
    38.25 mg/day in 7 steps', steps that did not add up (hostile review). With no dose before it
    said, from its first step's, the steps after it counted; a hold (the same dose again) is no step.
    A run ending at 0 is 'tapered 40 -> 0 mg/day to a stop in 3 steps'. Its holds (``_holds``)
    follow after ``sep``: '(held at 30 mg/day for 14 days)'."""
    first = run[0]
    doses = [r.dose for r in run if r.dose is not None]  # all of them (``_steps_on``)
    if doses[0] == doses[-1]:
        return f"{first.drug} change{_dose(first)} entered {len(run)} times"
    before = _dose_before(data, run)
    from_ = doses if before is None else [before, *doses]
    steps = sum(a != b for a, b in zip(from_, from_[1:]))  # a hold is no step
    way = "tapered" if doses[-1] < doses[0] else "raised"
    # a taper to 0 is a stop: 'tapered 40 -> 0 in 3 steps' read as a course going on at 0 (review);
    # ', stopped' before the trend's 'from ... to ...' read as stopped over those days
    stop = " to a stop" if doses[-1] == 0 else ""
    said = f"{first.drug} {way} {from_[0]:g} -> {doses[-1]:g} {first.unit or ''}".rstrip() + f"{stop} in {steps} steps"
    held = [f"at {dose:g} {first.unit or ''}".rstrip() + f" for {counted(round(s / 86400), 'day')}" for dose, s in _holds(run)]
    if len(held) > DOSE_HOLDS_LISTED:  # the others counted: each step is in the log table
        held[DOSE_HOLDS_LISTED:] = [f"at {len(held) - DOSE_HOLDS_LISTED} more doses"]
    if not held:
        return said
    listed = held[0] if len(held) == 1 else f"{', '.join(held[:-1])} and {held[-1]}"
    return f"{said}{sep}(held {listed})"


def _holds(run: list[TreatmentRow]) -> list[tuple[float, float]]:
    """The doses ``run`` was kept at inside it (not its last: that goes on) at least DOSE_HOLD_FACTOR
    times the median of its other doses' times and at least DOSE_HOLD_MIN_S: (dose, seconds), a
    dose's time from its first entry to the next change of dose (the same dose entered again within
    it is none)."""
    entries = [(dose, next(trs).t) for dose, trs in groupby(run, key=lambda tr: tr.dose)]  # a run's doses are all given
    kept = [(dose, b - a) for (dose, a), (_, b) in zip(entries, entries[1:])]
    holds = []
    for k, (dose, s) in enumerate(kept):
        others = [o for j, (_, o) in enumerate(kept) if j != k]
        if others and s >= DOSE_HOLD_MIN_S and s >= DOSE_HOLD_FACTOR * median(others):
            holds.append((dose, s))
    return holds


def _dose_before(data: ReportData, run: list[TreatmentRow]) -> float | None:
    """The drug's dose before ``run`` (its latest start or change before the run's first step, of
    the report's days or earlier) when in the run's unit and the run goes on from it the same way;
    None otherwise (none, a stop, no dose, another unit, or a step back first)."""
    first = run[0]
    prior = [tr for tr in data.treatments if tr.drug.lower() == first.drug.lower() and tr.t < first.t]
    last = max(prior, key=lambda tr: tr.t, default=None)
    if last is None or last.action == "stop" or last.dose is None or last.unit != first.unit:
        return None
    return last.dose if _one_way([last.dose, *(r.dose for r in run if r.dose is not None)]) else None


CLUSTER_HEADER = ("start", "events", "lasted", "after waking", "label", "video or note near it")


def cluster_notes(data: ReportData) -> list[str]:
    """What the 'Each cluster' table needs said under it: its 'after waking' is an estimate."""
    return [WAKE_ESTIMATED] if any(c.post_wake_s is not None for c in data.clusters) else []


def cluster_header(data: ReportData) -> tuple[str, ...]:
    """CLUSTER_HEADER, with a band column after the start when more than one band is in the report."""
    return (CLUSTER_HEADER[0], "band", *CLUSTER_HEADER[1:]) if len(data.bands) > 1 else CLUSTER_HEADER
LABELS = {"confirmed": "confirmed", "false_alarm": "false alarm", None: "not labelled"}


def near_notes(data: ReportData, c: ClusterRow) -> list[NoteRow]:
    """The caregiver's notes about this cluster's band (or no band) from NOTE_BEFORE_S before its
    start to NOTE_AFTER_S after its end, videos first."""
    near = [n for n in data.notes if n.device in (None, c.device) and c.t - NOTE_BEFORE_S <= n.t <= c.end + NOTE_AFTER_S]
    return sorted(near, key=lambda n: (n.kind != "video", n.t))


def _lasted(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds // 60:.0f} min {seconds % 60:.0f} s"


def cluster_rows(data: ReportData) -> list[tuple[str, ...]]:
    """Each cluster in time order, with the caregiver's video or note beside it: which of them the
    doctor can watch (doctor review: the report gave counts and plots only; a video note sat in
    the log table, with nothing to say which cluster it showed)."""
    rows: list[tuple[str, ...]] = []
    for c in sorted(data.clusters, key=lambda c: c.t):
        notes = near_notes(data, c)
        said = "; ".join(f"{n.kind} {at(data, n.t, '%H:%M')}: {one_line(n.text)}" for n in notes) or "none"
        wake = "no wake seen" if c.post_wake_s is None else f"{c.post_wake_s / 60:.0f} min"
        which = (band(data, c.device),) if len(data.bands) > 1 else ()
        start = at(data, c.t)
        rows.append((start, *which, str(c.count), _lasted(c.end - c.t), wake, LABELS.get(c.label, str(c.label)), said))
    return rows


def video_line(data: ReportData) -> str | None:
    """How many clusters the family filmed (by their video notes), and a prompt when none."""
    clusters = data.counted_clusters
    if not clusters:
        return None
    filmed = sum(1 for c in clusters if any(n.kind == "video" for n in near_notes(data, c)))
    if not filmed:
        return (f"No video noted for any of the {counted(len(clusters), 'cluster')}: a video of a cluster shows "
                "what the band cannot; ask the family to film the next one (the alarm asks them to).")  # fmt: skip
    if filmed == len(clusters):  # not '1 of the 1 cluster has'
        which = "The cluster has" if filmed == 1 else f"All {filmed} clusters have"
    else:
        which = f"{filmed} of the {counted(len(clusters), 'cluster')} {'has' if filmed == 1 else 'have'}"
    return f"{which} a caregiver's video noted near {'it' if filmed == 1 else 'them'} (see 'Each cluster')."


LOG_HEADER = ("time", "what", "text")


def unmatched_videos_line(data: ReportData) -> str | None:
    """The caregiver's videos near no cluster (``near_notes`` of none), with their times: what the
    family filmed and the band did not flag is what a doctor most needs to see (doctor review: the
    summary counted the clusters filmed only, and such a video sat in the log among the notes)."""
    # a cluster begun before the report's start counts: a video at 00:01 may be of one at 23:55
    near = {n.id for c in data.clusters_before + data.clusters for n in near_notes(data, c)}
    alone = [n for n in data.notes if n.kind == "video" and n.id not in near]
    if not alone:
        return None
    times = ", ".join(at(data, n.t) for n in alone[:UNMATCHED_VIDEOS_LISTED])
    more = f" and {len(alone) - UNMATCHED_VIDEOS_LISTED} more" if len(alone) > UNMATCHED_VIDEOS_LISTED else ""
    one = len(alone) == 1
    return (f"{len(alone)} {'video' if one else 'videos'} the caregivers noted {'is' if one else 'are'} near no cluster the band found ({times}{more}): "
            f"the band may have missed what {'it shows' if one else 'they show'}; please watch {'it' if one else 'them'} "
            "(see 'Treatments and caregiver notes').")  # fmt: skip


def log_rows(data: ReportData) -> list[tuple[str, str, str]]:
    """Treatments and notes in time order: (local time, what, text)."""
    items: list[tuple[float, str, str]] = []
    for tr in data.treatments:
        dose = f" {tr.dose:g}" if tr.dose is not None else ""
        # its --note: why a drug was stopped is the family's to tell (doctor review: kept, never shown)
        why = f" ({one_line(tr.note)})" if tr.note else ""
        items.append((tr.t, "treatment", f"{tr.drug} {tr.action}{dose} {tr.unit or ''}".rstrip() + why))
    for n in data.notes:
        items.append((n.t, f"note: {n.kind}", one_line(n.text)))
    return [(at(data, t), what, text) for t, what, text in sorted(items)]
