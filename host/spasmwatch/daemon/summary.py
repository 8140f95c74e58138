"""The daily summary's facts ([alerts] daily_summary): one band's last 24 h from the store.

Counted as the pediatrician report counts them (``report.data.gather`` over the store read as an
export ``Source``): clusters not marked a false alarm, spasm-like movements without the matches
(a match is in its cluster's count), calendar days in the family's zone. Worn time is the band's
own verdict per ACTIVITY epoch, as exports and the sleep/wake code read it (``StoreSource.activity``).
The words are ``alerts.messages.daily_summary``'s.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from spasmwatch.alerts.messages import SummaryFacts, TreatmentDays
from spasmwatch.daemon import consts as K
from spasmwatch.export.store_source import StoreSource
from spasmwatch.report.data import gather
from spasmwatch.store import Store

DAY_S = 86400.0


def summary_facts(store: Store, device: str, name: str, now: float, tz: tzinfo) -> SummaryFacts:
    """``device``'s last 24 h before ``now`` (titled ``name``), and the days since each treatment
    started within ``SUMMARY_TREATMENT_DAYS``."""
    source = StoreSource(store)
    day = gather(source, device, now - DAY_S, now, tz)
    starts = tuple(c.t for c in day.counted_clusters)
    epochs = [a for a in source.activity(device, now - DAY_S, now)]
    worn_s = sum(a.epoch_s for a in epochs if a.worn) if epochs else None
    today = datetime.fromtimestamp(now, tz).date()
    return SummaryFacts(
        device=name,
        cluster_starts=starts,
        spasms=sum(d.spasms for d in day.days),
        worn_s=worn_s,
        quiet_days=None if starts else _quiet_days(source, device, now),
        treatments=_treatments(source, device, today, tz),
    )


def _midnight(d: date, tz: tzinfo) -> float:
    return datetime.combine(d, time(), tzinfo=tz).timestamp()


def _quiet_days(source: StoreSource, device: str, now: float) -> int | None:
    """Whole days since the latest cluster not marked a false alarm (None: none in the lookback)."""
    latest = [c.t for c in source.clusters(device, now - K.SUMMARY_QUIET_LOOKBACK_S, now) if c.label != "false_alarm"]
    return int((now - max(latest)) // DAY_S) if latest else None


def _treatments(source: StoreSource, device: str, today: date, tz: tzinfo) -> tuple[TreatmentDays, ...]:
    """Clusters per day from each recent start's day to yesterday (today is not over; a treatment
    started today has no day yet)."""
    first = today - timedelta(days=K.SUMMARY_TREATMENT_DAYS)
    out = []
    for tr in source.treatments(_midnight(first, tz), _midnight(today, tz)):
        if tr.action != "start":
            continue
        start_day = datetime.fromtimestamp(tr.t, tz).date()
        days = gather(source, device, _midnight(start_day, tz), _midnight(today, tz), tz).days
        out.append(TreatmentDays(tr.drug, (today - start_day).days, tuple(d.clusters for d in days)))
    return tuple(out)
