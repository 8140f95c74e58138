"""The daily summary's facts ([alerts] daily_summary): one band's last 24 h from the store.

Counted as the pediatrician report counts them (``report.data.count`` over the store read as an
export ``Source``): clusters not marked a false alarm, spasm-like movements as their counts and
the events in no cluster, calendar days in the family's zone. Worn time is the band's
own verdict per ACTIVITY epoch, as exports and the sleep/wake code read it (``StoreSource.activity``).
A treatment's line is the report's trend (``report.data.trend``): clusters per 24 h the band was
monitoring, not per calendar day. The words are ``alerts.messages.daily_summary``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from spasmwatch.alerts.messages import SummaryFacts, TreatmentTrend, daily_summary
from spasmwatch.clock import said_zone_of
from spasmwatch.daemon import consts as K
from spasmwatch.export.coverage import coverage
from spasmwatch.export.store_source import StoreSource
from spasmwatch.report.consts import TREND_DAYS
from spasmwatch.report.data import Side, Trend, count, midnight, trend, with_treatments
from spasmwatch.report.text import after_unnamed, zones_line, zones_said
from spasmwatch.store import Store

DAY_S = 86400.0


def summary_facts(store: Store, device: str, name: str, now: float, tz: tzinfo) -> SummaryFacts:
    """``device``'s last 24 h before ``now`` (titled ``name``), and the trend of each treatment
    started within ``SUMMARY_TREATMENT_DAYS`` (clusters per 24 h monitored, the report's)."""
    source = StoreSource(store)
    day = count(source, device, now - DAY_S, now, tz, now)  # the daemon's clock, not this computer's
    starts = tuple(c.t for c in day.counted_clusters)
    # The report's monitored hours (coverage's), not 10 s an epoch worn: that rule read 13.47 h where
    # the report read 13.29 h of the same 24 h (a removal dated 2 min late, bridged gaps not counted)
    heard = next(iter(source.activity(device, now - DAY_S, now)), None) is not None
    worn_s = sum(d.monitored_s for d in day.days) if heard else None
    today = datetime.fromtimestamp(now, tz).date()
    quiet_days, quiet_monitored_s = (None, 0.0) if starts else _quiet(source, device, now)
    kept = zones_said(store.zones(now - DAY_S, now), tz, now - DAY_S, now) or []
    zones = after_unnamed(kept)  # an older daemon's unnamed zone before a named one: not known, not a change
    known_from = zones[0][0] if len(zones) < len(kept) and zones[0][0] > now - DAY_S else None
    return SummaryFacts(
        device=name,
        cluster_starts=starts,
        spasms=sum(d.spasms for d in day.days),
        cluster_spasms=sum(d.cluster_spasms for d in day.days),
        worn_s=worn_s,
        quiet_days=quiet_days,
        quiet_monitored_s=quiet_monitored_s,
        treatments=_treatments(source, device, today, tz, now),
        zones=tuple((None if t <= now - DAY_S or (i == 0 and known_from) else t, z) for i, (t, z) in enumerate(zones)),
        zone_known_from=known_from,
        zone_here=said_zone_of(tz, now - DAY_S) if zones else "",
    )


def summary_json(
    store: Store, device: str, name: str, now: float, tz: tzinfo, lang: str = "en", local: str | None = None
) -> dict[str, Any]:
    """One band's summary as ``spasmwatch summary --json`` and ``GET /api/summary`` give it (in
    English, as the CLI is): the words the daily summary would send at ``now`` (title, text; the
    push in ``lang``, [alerts] language) and the facts they come from. ``local``: the same words in
    that language too, as ``local: {lang, title, text}`` (the page's card, in the page's language;
    ``text`` stays English for other clients). ``zones``: the report's zone line of the 24 h
    (``report.text.zones_line``; null when it says none), the push's short one in its words."""
    f = summary_facts(store, device, name, now, tz)
    msg = daily_summary(f, tz, lang)
    words = {} if local is None else {"local": local_words(f, tz, local)}
    return {
        "device": device, "name": name, "since": now - DAY_S, "until": now, "title": msg.title, "text": msg.text, **words,
        "clusters": len(f.cluster_starts), "cluster_starts": list(f.cluster_starts), "spasms": f.spasms,
        "cluster_spasms": f.cluster_spasms,
        "worn_h": None if f.worn_s is None else round(f.worn_s / 3600, 2), "quiet_days": f.quiet_days,
        "quiet_monitored_h": None if f.quiet_days is None else round(f.quiet_monitored_s / 3600, 2),
        "treatments": [_treatment_json(t) for t in f.treatments],
        "zones": zones_line(store.zones(now - DAY_S, now), tz, now - DAY_S, now, "the last 24 h"),
    }  # fmt: skip


def local_words(f: SummaryFacts, tz: tzinfo | None, lang: str) -> dict[str, str]:
    """The summary's words in ``lang``: what the page's card shows (the very words of the push)."""
    msg = daily_summary(f, tz, lang)
    return {"lang": lang, "title": msg.title, "text": msg.text}


def _side_json(s: Side) -> dict[str, Any]:
    return {"days": s.days, "monitored_h": round(s.monitored_s / 3600, 2), "clusters": s.clusters, "spasms": s.spasms}


def _treatment_json(t: TreatmentTrend) -> dict[str, Any]:
    """The trend's sides and, when both have enough hours monitored, their clusters per 24 h (else
    null: a rate from a few hours is not given, as the text says)."""
    tr = t.trend
    b, a = tr.before, tr.after
    rates = (round(b.per_24h(b.clusters), 2), round(a.per_24h(a.clusters), 2)) if tr.comparable else (None, None)
    return {"drug": t.drug, "days_ago": t.days_ago, "stopped_days_ago": t.stopped_days_ago, "comparable": tr.comparable, "before": _side_json(b),
            "after": _side_json(a), "clusters_per_24h_before": rates[0], "clusters_per_24h_after": rates[1]}  # fmt: skip


def read_summaries(
    path: Path,
    names: Mapping[str, str],
    now: float,
    tz: tzinfo,
    device: str | None = None,
    lang: str = "en",
    local: str | None = None,
) -> list[dict[str, Any]]:
    """Each band the store at ``path`` holds (or ``device`` alone), on a read-only connection of its
    own: the daemon gathers in a worker thread (~0.3 s for 8 days), where its own connection must
    not be used. ``names``: device -> the name shown (else the device id). StoreError if unreadable."""
    with Store.open_readonly(path) as store:
        return summaries(store, names, now, tz, device, lang, local)


def summaries(
    store: Store,
    names: Mapping[str, str],
    now: float,
    tz: tzinfo,
    device: str | None = None,
    lang: str = "en",
    local: str | None = None,
) -> list[dict[str, Any]]:
    """``summary_json`` of each band ``store`` holds (or ``device`` alone), titled by ``names``."""
    devices = [device] if device is not None else [r.device_id for r in store.devices()]
    return [summary_json(store, d, names.get(d, d), now, tz, lang, local) for d in devices]


def _quiet(source: StoreSource, device: str, now: float) -> tuple[int | None, float]:
    """Whole days since the latest cluster not marked a false alarm (None: none in the lookback),
    and the seconds monitored since it ended: 'No cluster for 4 days' of a band left at home for
    three of them read as the spasms stopping (hostile review)."""
    latest = [c for c in source.clusters(device, now - K.SUMMARY_QUIET_LOOKBACK_S, now) if c.label != "false_alarm"]
    if not latest:
        return None, 0.0
    last = max(latest, key=lambda c: c.t)
    return int((now - last.t) // DAY_S), coverage(source, device, last.end, now, now=now).total.worn_s


def _treatments(source: StoreSource, device: str, today: date, tz: tzinfo, now: float) -> tuple[TreatmentTrend, ...]:
    """The report's trend (report/data.py ``trend``, its rules in report/consts.py) of each start
    since ``SUMMARY_TREATMENT_DAYS`` ago: clusters per 24 h monitored in the whole days after its
    start day up to yesterday (today is not over; one started today has no line yet) vs the
    TREND_DAYS days before it. Per calendar day, nights with the band off read as spasms stopping."""
    first = today - timedelta(days=K.SUMMARY_TREATMENT_DAYS)
    until = midnight(today, tz)
    starts = [tr for tr in source.treatments(midnight(first, tz), until) if tr.action == "start"]
    if not starts:
        return ()  # no gather of two weeks on a day with nothing to compare
    # one count holds every start's week before and its days after (not the report's sleep/wake)
    data = with_treatments(count(source, device, midnight(first - timedelta(days=TREND_DAYS), tz), until, tz, now), source)
    return tuple(_treatment_trend(trend(data, tr), today, tz) for tr in starts)


def _treatment_trend(t: Trend, today: date, tz: tzinfo) -> TreatmentTrend:
    """``t`` with the local days since its start and since its stop (None: not stopped)."""

    def ago(when: float) -> int:
        return (today - datetime.fromtimestamp(when, tz).date()).days

    return TreatmentTrend(ago(t.treatment.t), t, None if t.stop is None else ago(t.stop.t))
