"""The daily summary's facts ([alerts] daily_summary): one band's last 24 h from the store.

Counted as the pediatrician report counts them (``report.data.gather`` over the store read as an
export ``Source``): clusters not marked a false alarm, spasm-like movements as their counts and
the events in no cluster, calendar days in the family's zone. Worn time is the band's
own verdict per ACTIVITY epoch, as exports and the sleep/wake code read it (``StoreSource.activity``).
The words are ``alerts.messages.daily_summary``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from spasmwatch.alerts.messages import SummaryFacts, TreatmentDays, daily_summary
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
        cluster_spasms=sum(d.cluster_spasms for d in day.days),
        worn_s=worn_s,
        quiet_days=None if starts else _quiet_days(source, device, now),
        treatments=_treatments(source, device, today, tz),
    )


def summary_json(store: Store, device: str, name: str, now: float, tz: tzinfo, lang: str = "en") -> dict[str, Any]:
    """One band's summary as ``spasmwatch summary --json`` and ``GET /api/summary`` give it (in
    English, as the page and the CLI are): the words the daily summary would send at ``now`` (title,
    text; the push in ``lang``, [alerts] language) and the facts they come from."""
    f = summary_facts(store, device, name, now, tz)
    msg = daily_summary(f, tz, lang)
    return {
        "device": device, "name": name, "since": now - DAY_S, "until": now, "title": msg.title, "text": msg.text,
        "clusters": len(f.cluster_starts), "cluster_starts": list(f.cluster_starts), "spasms": f.spasms,
        "cluster_spasms": f.cluster_spasms,
        "worn_h": None if f.worn_s is None else round(f.worn_s / 3600, 2), "quiet_days": f.quiet_days,
        "treatments": [{"drug": t.drug, "days_ago": t.days_ago, "clusters_per_day": list(t.clusters_per_day)} for t in f.treatments],
    }  # fmt: skip


def read_summaries(
    path: Path, names: Mapping[str, str], now: float, tz: tzinfo, device: str | None = None, lang: str = "en"
) -> list[dict[str, Any]]:
    """Each band the store at ``path`` holds (or ``device`` alone), on a read-only connection of its
    own: the daemon gathers in a worker thread (~0.3 s for 8 days), where its own connection must
    not be used. ``names``: device -> the name shown (else the device id). StoreError if unreadable."""
    with Store.open_readonly(path) as store:
        return summaries(store, names, now, tz, device, lang)


def summaries(
    store: Store, names: Mapping[str, str], now: float, tz: tzinfo, device: str | None = None, lang: str = "en"
) -> list[dict[str, Any]]:
    """``summary_json`` of each band ``store`` holds (or ``device`` alone), titled by ``names``."""
    devices = [device] if device is not None else [r.device_id for r in store.devices()]
    return [summary_json(store, d, names.get(d, d), now, tz, lang) for d in devices]


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
