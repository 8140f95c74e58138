"""Every word a caregiver reads. Kept apart so wording can be reviewed (and
translated) without touching the state machine.

Principles: say what was seen, in plain words; say what to do now; never
claim a diagnosis. Band messages say what to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from spasmwatch.alerts.model import BandFault

DISCLAIMER = "spasmwatch is a screening aid, not a diagnosis."


@dataclass(frozen=True)
class Message:
    title: str
    text: str


@dataclass(frozen=True)
class ClusterFacts:
    """What the cluster messages report; times are unix seconds."""

    device: str
    count: int
    started_t: float | None
    post_wake_s: float | None
    ended_t: float | None = None


def hhmm(t: float, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%H:%M")


def _since(f: ClusterFacts, tz: tzinfo | None) -> str:
    return "" if f.started_t is None else f" since {hhmm(f.started_t, tz)}"


def _of(f: ClusterFacts, tz: tzinfo | None) -> str:
    return "" if f.started_t is None else f" of {hhmm(f.started_t, tz)}"


def _after_waking(f: ClusterFacts) -> str:
    if f.post_wake_s is None:
        return "waking time unknown"
    return f"{f.post_wake_s / 60:.0f} min after waking"


def _spasms(n: int) -> str:
    return f"{n} sudden tensing movement{'s' if n != 1 else ''}"


def warning(f: ClusterFacts, tz: tzinfo | None) -> Message:
    return Message(
        f"Heads-up: {f.count} spasm-like movements ({f.device})",
        f"{_spasms(f.count)} close together{_since(f, tz)}. If a third follows, spasmwatch will raise "
        "the cluster alarm. You may want to look at the baby.",
    )


def alarm(f: ClusterFacts, tz: tzinfo | None) -> Message:
    return Message(
        f"ALARM: possible spasm cluster ({f.device})",
        f"{_spasms(f.count)} in a cluster{_since(f, tz)}, {_after_waking(f)}. "
        "Please film the baby now if it is still happening, and contact your pediatrician. " + DISCLAIMER,
    )


def update(f: ClusterFacts, tz: tzinfo | None) -> Message:
    return Message(
        f"Cluster continues: {f.count} movements ({f.device})",
        f"The cluster goes on: {_spasms(f.count)}{_since(f, tz)}. Keep filming if you can. " + DISCLAIMER,
    )


def escalated(f: ClusterFacts, tz: tzinfo | None, after_s: float) -> Message:
    return Message(
        f"ALARM NOT ACKNOWLEDGED: possible spasm cluster ({f.device})",
        f"Nobody has acknowledged the alarm for {_span(after_s)}. {_spasms(f.count)} in a cluster"
        f"{_since(f, tz)}, {_after_waking(f)}. Please check the baby now, film if it is still happening, "
        "and contact your pediatrician. " + DISCLAIMER,
    )


def acknowledged(f: ClusterFacts, by: str) -> Message:
    return Message(f"Alarm acknowledged by {by} ({f.device})", f"{by} is looking after the alarm of {f.device}.")


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def closed(f: ClusterFacts, tz: tzinfo | None) -> Message:
    span = ""
    if f.started_t is not None and f.ended_t is not None:
        span = f" over {_span(max(0.0, f.ended_t - f.started_t))}"
    since = "" if f.started_t is None else f", starting at {hhmm(f.started_t, tz)}"
    return Message(
        f"Cluster ended ({f.device})",
        f"Cluster ended: {f.count} spasm-like movements{span}{since}. "
        "Note anything you saw, and keep any video for the pediatrician.",
    )


def false_alarm(f: ClusterFacts, tz: tzinfo | None, by: str) -> Message:
    return Message(
        f"False alarm ({f.device})",
        f"{by} marked the cluster{_of(f, tz)} as a false alarm. No action needed.",
    )


_FAULT: dict[BandFault, Message] = {
    BandFault.DISCONNECTED: Message(
        "Band disconnected",
        "No data from the band: spasms cannot be detected. Check the band is charged and within range of this computer.",
    ),
    BandFault.NOT_WORN: Message(
        "Band not worn", "Band not worn: check it is snug on the baby's chest, sensor at the front."
    ),
    BandFault.BATTERY_LOW: Message("Band battery low", "Band battery low: charge it soon. At 3 % it stops detecting until it is charged."),
    BandFault.LOG_NEARLY_FULL: Message(
        "Band memory nearly full",
        "The band's event log is nearly full: bring it in range of this computer so it can upload its events.",
    ),
    BandFault.CLOCK_UNSYNCED: Message(
        "Band clock not set",
        "The band's clock is not synchronised: event times may be wrong until it connects to this computer.",
    ),
    BandFault.SAFE_MODE: Message(
        "Band in safe mode",
        "The band restarted in safe mode and is not detecting: restart it, and update its firmware if this repeats.",
    ),
    BandFault.SENSOR_ERROR: Message(
        "Band sensor error",
        "The band's motion sensor reports an error and it is not detecting: restart the band.",
    ),
    BandFault.STORAGE_FAILING: Message(
        "Cannot save the band's events",
        "This computer cannot save the band's events (is its disk full?). Alarms still work and the band keeps "
        "its events until they can be saved: free some space.",
    ),
    BandFault.BAND_LOG_FAILING: Message(
        "Band cannot save events",
        "The band could not save a movement it detected to its memory, and such movements are not sent here either: "
        "spasms may be missed. Restart the band; if this comes back, flash it again (spasmwatch flash) or replace it.",
    ),
}

_CLEARED: dict[BandFault, Message] = {
    BandFault.DISCONNECTED: Message("Band reconnected", "Band reconnected: monitoring again."),
    BandFault.NOT_WORN: Message("Band worn again", "Band worn again: monitoring again."),
    BandFault.BATTERY_LOW: Message("Band battery OK", "Band battery OK again."),
    BandFault.LOG_NEARLY_FULL: Message("Band memory OK", "The band uploaded its events; its log has room again."),
    BandFault.CLOCK_UNSYNCED: Message("Band clock set", "The band's clock is synchronised again."),
    BandFault.SAFE_MODE: Message("Band detecting again", "The band left safe mode and is detecting again."),
    BandFault.SENSOR_ERROR: Message("Band sensor OK", "The band's motion sensor works again."),
    BandFault.STORAGE_FAILING: Message("Saving events again", "This computer saves the band's events again."),
    BandFault.BAND_LOG_FAILING: Message("Band saves events again", "The band saves its events again (it was restarted)."),
}


def test_alarm(device: str, by: str, t: float, tz: tzinfo | None) -> Message:
    """The test a family sends to check that an alarm reaches each phone and speaker."""
    return Message(
        f"Test alarm, nothing detected ({device})",
        f"This is a test of spasmwatch's alarms, sent by {by} at {hhmm(t, tz)}. No spasm was detected. "
        "It reached you here, so a real alarm will too.",
    )


def band_fault(device: str, kind: BandFault) -> Message:
    m = _FAULT[kind]
    return Message(f"{m.title} ({device})", m.text)


def band_cleared(device: str, kind: BandFault) -> Message:
    m = _CLEARED[kind]
    return Message(f"{m.title} ({device})", m.text)


# The daily summary lists at most this many cluster start times, then "and N more": a phone
# notification shows 4-6 lines, and a day with more clusters than this is told by its number.
SUMMARY_MAX_TIMES = 4


@dataclass(frozen=True)
class TreatmentDays:
    """Clusters per local day since a treatment started: its start day first, yesterday last."""

    drug: str
    days_ago: int
    clusters_per_day: tuple[int, ...]


@dataclass(frozen=True)
class SummaryFacts:
    """What the daily summary reports of one band's last 24 h (times are unix seconds)."""

    device: str
    cluster_starts: tuple[float, ...]  # clusters not marked a false alarm, in time order
    spasms: int  # spasm-like movements, as the report counts them (report.data)
    cluster_spasms: int  # those of them in the clusters (each cluster's count)
    worn_s: float | None  # time the band was worn (None: no data from it in the 24 h)
    quiet_days: int | None = None  # no cluster in the 24 h: whole days since the latest one (None: none seen)
    treatments: tuple[TreatmentDays, ...] = ()


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'s' if k != 1 else ''}"


def _worn(s: float | None) -> str:
    if s is None:
        return "no data from the band"
    return f"band worn {s / 3600:.0f} h" if s >= 3600 else f"band worn {s / 60:.0f} min"


def _ago(days: int) -> str:
    return "yesterday" if days == 1 else f"{days} days ago"


def daily_summary(f: SummaryFacts, tz: tzinfo | None) -> Message:
    """The morning look at the last day: counts and times, worn time, the days since a treatment
    started. Counts only, never a verdict; a day with clusters points to the pediatrician."""
    n = len(f.cluster_starts)
    if n:
        shown = ", ".join(hhmm(t, tz) for t in f.cluster_starts[:SUMMARY_MAX_TIMES])
        more = f" and {n - SUMMARY_MAX_TIMES} more" if n > SUMMARY_MAX_TIMES else ""
        lone = f.spasms - f.cluster_spasms
        outside = f" and {lone} more outside {'it' if n == 1 else 'them'}" if lone else ""
        counts = f"{_n(n, 'cluster')} ({shown}{more}) with {_n(f.cluster_spasms, 'spasm-like movement')}{outside}"
    else:
        counts = f"no cluster, {_n(f.spasms, 'spasm-like movement')}"
    lines = [f"Last 24 h: {counts}; {_worn(f.worn_s)}."]
    if not n and f.quiet_days:
        lines.append(f"No cluster for {_n(f.quiet_days, 'day')}.")
    for t in f.treatments:
        per_day = ", ".join(map(str, t.clusters_per_day))
        lines.append(f"Since {t.drug} started {_ago(t.days_ago)}: {per_day} clusters a day.")
    if n:
        lines.append("Keep any video and tell your pediatrician.")
    lines.append(DISCLAIMER)
    title = f"Daily summary: {_n(n, 'cluster') if n else 'no cluster'} in 24 h ({f.device})"
    return Message(title, " ".join(lines))
