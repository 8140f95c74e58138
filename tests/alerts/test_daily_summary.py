"""The daily summary ([alerts] daily_summary): a real Daemon in-process on a clock moved by hand
(synthetic.HandClock), its store on disk, real receivers on 127.0.0.1 (webhook and ntfy pushes to
aiohttp) and the sound channel through a real player script."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from servers import Recorder, http_recorder
from synthetic import HandClock, spasm_record

from spasmwatch.alerts import AlertSettings, Urgency
from spasmwatch.alerts.messages import catalog
from spasmwatch.alerts.channels import Caregiver, NtfyChannel, NtfySettings, RetrySettings, SoundChannel, SoundSettings, WebhookChannel, WebhookSettings
from spasmwatch.config import load_config
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import BandInfo
from spasmwatch.daemon.summary import read_summaries
from spasmwatch.daemon.wiring import alert_settings_from
from spasmwatch.errors import ConfigError
from spasmwatch.store import Store

PARIS = ZoneInfo("Europe/Paris")
DEV = "cot0001"


def _t(day: int, hh: int, mm: int, ss: int = 0) -> float:
    """Unix s of 2027-01-<day> hh:mm:ss in Paris."""
    return datetime(2027, 1, day, hh, mm, ss, tzinfo=PARIS).timestamp()


def _fill(store: Store) -> None:
    """Clusters on the days since vigabatrin started (2027-01-11 18:00): 4, 3, 2 and 2 (01-14: 06:00
    and 21:05), one more today at 06:10, one marked a false alarm (left out); 14 single spasm-like
    movements over the last day; the band worn 11 h of it, then off for 2 h."""
    store.upsert_device(DEV, name="cot", wall_s=_t(11, 0, 0))
    clusters = {11: ["19:00", "20:00", "21:00", "22:00"], 12: ["06:00", "07:00", "08:00"], 13: ["06:00", "09:00"], 14: ["06:00", "21:05"], 15: ["06:10"]}
    for day, times in clusters.items():
        for hm in times:
            h, m = map(int, hm.split(":"))
            start = _t(day, h, m)
            store.upsert_cluster(DEV, f"{day}-{hm}", start, start + 300, 8, start + 20, 600.0, True, wall_s=start + 400)
    fa = store.upsert_cluster(DEV, "fa", _t(14, 12, 0), _t(14, 12, 3), 3, _t(14, 12, 1), None, True, wall_s=_t(14, 12, 5))
    store.label_cluster(fa, "false_alarm", "Mum", _t(14, 12, 10))
    boot = _t(14, 8, 0)
    store.add_sync(DEV, 1, 0, boot)
    # 10 min apart: single movements, no cluster of their own when the daemon rebuilds its analysis.
    store.add_events(DEV, [spasm_record(i, 3_600_000 + 600_000 * i) for i in range(14)], boot)
    epochs = [{"type": "activity", "boot": 1, "t_ms": 10_000 * k, "activity": 20, "breath": 50, "off_body": 0,
               "worn": 1 if k <= 3960 else 0} for k in range(1, 3960 + 720 + 1)]  # fmt: skip
    store.add_activity(DEV, epochs, boot)
    store.add_treatment(_t(11, 18, 0), "vigabatrin", "start", 50, "mg/kg/day")


RECORDER = """#!{python}
import sys
with open({out!r}, "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
"""


class Setup:
    def __init__(self, tmp_path: Path, hook: Recorder, anna: Recorder, grandma: Recorder) -> None:
        self.played = tmp_path / "played.txt"
        player = tmp_path / "player"
        player.write_text(RECORDER.format(python=sys.executable, out=str(self.played)))
        player.chmod(0o755)
        self.sound = SoundSettings(command=(str(player),), wav_path=tmp_path / "alarm.wav")
        self.hook, self.anna, self.grandma = hook, anna, grandma

    def daemon(self, store: Store, clock: HandClock, at: str = "07:30") -> Daemon:
        channels = {
            "sound": SoundChannel(self.sound),
            "webhook:home": WebhookChannel(WebhookSettings(url=self.hook.url + "/hook", name="webhook:home")),
            "ntfy:anna": NtfyChannel(NtfySettings(url=self.anna.url + "/anna", name="ntfy:anna")),
            "ntfy:grandma": NtfyChannel(NtfySettings(url=self.grandma.url + "/grandma", name="ntfy:grandma")),
        }
        caregivers = [Caregiver("Anna", ("ntfy:anna",)), Caregiver("grandma", ("ntfy:grandma",), Urgency.URGENT)]
        h, m = map(int, at.split(":"))
        settings = AlertSettings(tz=PARIS, daily_summary_min=h * 60 + m)
        # The band never drops in these tests: no "disconnected" notice in the receivers.
        d = Daemon(store, [BandSpec("cot", lambda: None)], channels, caregivers, settings, clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
        d.dispatcher.retry = RetrySettings(attempts=1)
        info = BandInfo(DEV, "spasmwatch-band", "test", "sim", "sim:0", "sim")
        d.bands[0].session.info = info
        d.on_connected(info)  # as a session's connection: the band is monitored
        return d

    def summaries(self) -> list[dict[str, object]]:
        bodies = [json.loads(s.body) for s in self.hook.seen]
        return [b for b in bodies if b["kind"] == "daily_summary"]


async def _tick_at(d: Daemon, clock: HandClock, t: float) -> None:
    clock.t = t
    d._tick()
    await asyncio.gather(*d._errands)  # the summary is gathered in a worker thread
    await d.dispatcher.drain()


# The band was first heard 01-14 08:00: no hour before vigabatrin's start, 11 after its start day.
FEW = "too few hours monitored yet to compare (11 h monitored since, 0 h before; 24 h needed on each side)."
DOCTOR = "Only the hours the band was worn and connected are counted; whether the treatment works is for your pediatrician to judge."
EXPECTED = (
    "Last 24 h: 2 clusters (21:05, 06:10) with 16 spasm-like movements and 14 more outside them; band worn 11 h. "
    f"Since vigabatrin started 4 days ago: {FEW} {DOCTOR} "
    "Keep any video and tell your pediatrician. spasmwatch is a screening aid, not a diagnosis."
)


def test_one_summary_a_day_at_its_time_with_the_counts_not_twice_not_hours_late(tmp_path: Path) -> None:
    """Nothing told a family each morning how the last day went. At 07:30 local the receivers get
    one summary (counts, start times, worn time, the treatment's trend per 24 h monitored);
    none at 07:29, none again at 07:31 or from a daemon restarted the same day; the next day's at
    the next 07:30; one missed by more than the grace window (30 min) is not sent; within it, it is."""

    async def main() -> None:
        async with http_recorder() as hook, http_recorder() as anna, http_recorder() as grandma:
            s = Setup(tmp_path, hook, anna, grandma)
            with Store(tmp_path / "db.sqlite") as store:
                _fill(store)
                clock = HandClock(_t(15, 7, 29))
                d = s.daemon(store, clock)
                await _tick_at(d, clock, _t(15, 7, 29, 59))
                assert s.summaries() == [], "sent before its time"
                await _tick_at(d, clock, _t(15, 7, 30))
                await _tick_at(d, clock, _t(15, 7, 30, 1))
                await _tick_at(d, clock, _t(15, 7, 31))
                [body] = s.summaries()
                assert (body["title"], body["text"]) == ("Daily summary: 2 clusters in 24 h (cot)", EXPECTED), body
                assert (body["urgency"], body["alert_id"], body["state"], body["device"]) == ("low", 0, "SUMMARY", DEV), body
                [push] = anna.seen
                assert (push.headers["Priority"], push.headers["Tags"]) == ("low", "calendar,daily_summary"), push.headers
                assert push.body.decode() == EXPECTED
                assert d.engine.snapshot()["alerts"] == [] and store.open_alerts() == [], "it opened an alert"
                await d.dispatcher.close()

                clock.t = _t(15, 7, 35)  # the daemon restarted after the summary: not again
                again = s.daemon(store, clock)
                await _tick_at(again, clock, _t(15, 7, 35))
                await _tick_at(again, clock, _t(15, 7, 36))
                assert len(s.summaries()) == 1, "sent again after a restart"

                await _tick_at(again, clock, _t(16, 7, 29, 59))
                assert len(s.summaries()) == 1
                await _tick_at(again, clock, _t(16, 7, 30))
                assert len(s.summaries()) == 2, "no summary the next day"
                nxt = s.summaries()[1]["text"]
                assert isinstance(nxt, str) and nxt.startswith(
                    "Last 24 h: not monitored (no data from the band): nothing was counted. No cluster for 1 day (0 h of monitoring)."
                ), nxt
                assert f"Since vigabatrin started 5 days ago: {FEW}" in nxt, nxt
                await again.dispatcher.close()

                clock.t = _t(17, 8, 0, 1)  # the computer was off at 07:30: started 30 min 1 s late
                late = s.daemon(store, clock)
                await _tick_at(late, clock, _t(17, 8, 0, 1))
                await _tick_at(late, clock, _t(17, 12, 0))
                assert len(s.summaries()) == 2, "a summary missed by more than 30 min was sent late"
                await _tick_at(late, clock, _t(18, 7, 59, 59))  # within the grace window: sent
                assert len(s.summaries()) == 3
                await late.dispatcher.close()

            assert grandma.seen == [], "a caregiver with min_urgency urgent got the summary"
            assert not s.played.exists(), "the summary played the alarm sound"
            assert len(anna.seen) == 3

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_summary_that_failed_is_not_sent_later(tmp_path: Path) -> None:
    """Like the test alarm: kept in the outbox while its receiver is away, dropped at the next
    resend pass (a summary hours late would read as this morning's)."""

    async def main() -> None:
        async with http_recorder([503]) as hook, http_recorder() as anna, http_recorder() as grandma:
            s = Setup(tmp_path, hook, anna, grandma)
            with Store(tmp_path / "db.sqlite") as store:
                _fill(store)
                clock = HandClock(_t(15, 7, 30))
                d = s.daemon(store, clock)
                await _tick_at(d, clock, _t(15, 7, 30))
                assert len(hook.seen) == 1 and len(store.outgoing("webhook:home")) == 1
                await _tick_at(d, clock, _t(15, 7, 31, 1))  # the next resend pass (60 s on)
                assert len(hook.seen) == 1 and store.outgoing("webhook:home") == []
                await d.dispatcher.close()

    asyncio.run(asyncio.wait_for(main(), 60))


START = _t(11, 8, 0)  # vigabatrin started Monday 2027-01-11 08:00, Paris
NOW = _t(17, 7, 30)  # this Sunday's summary: 6 days later


def _wear_halved_after_the_start(store: Store, heard_from: float) -> None:
    """The band heard every 10 s from ``heard_from`` to NOW: worn all day until vigabatrin starts,
    then only 08:00-20:00 (off at night); clusters of 5 spasms at the same rate per hour worn
    throughout, one every 6 h: at 02, 08, 14 and 20 h before the start, at 10 and 16 h after it."""
    store.upsert_device(DEV, name="cot", wall_s=heard_from)
    store.add_sync(DEV, 1, 0, heard_from)
    epochs = []
    for k in range(int((NOW - heard_from) / 10)):
        t = heard_from + 10 * k
        worn = t < START or 8 <= datetime.fromtimestamp(t, PARIS).hour < 20
        epochs.append({"type": "activity", "boot": 1, "t_ms": 10_000 * k, "activity": 20, "breath": 50 if worn else 0,
                       "off_body": 0 if worn else 1, "worn": 1 if worn else 0})  # fmt: skip
    store.add_activity(DEV, epochs, heard_from)
    before = [_t(day, h, 0) for day in range(4, 11) for h in (2, 8, 14, 20)]
    after = [_t(day, h, 0) for day in range(11, 17) for h in (10, 16)]
    for start in [t for t in before + after if t >= heard_from]:
        store.upsert_cluster(DEV, f"c{start:.0f}", start, start + 60, 5, start + 20, None, True, wall_s=start + 120)
    store.add_treatment(START, "vigabatrin", "start", 50, "mg/kg/day")


def _summary(tmp_path: Path, heard_from: float) -> dict[str, Any]:
    path = tmp_path / "db.sqlite"
    with Store(path) as store:
        _wear_halved_after_the_start(store, heard_from)
    [summary] = read_summaries(path, {DEV: "cot"}, NOW, PARIS)  # as the daemon gathers it at 07:30
    return summary


def test_a_treatment_s_clusters_are_per_24_h_monitored_so_half_the_wear_is_not_half_the_spasms(tmp_path: Path) -> None:
    """Researcher audit: the summary gave clusters per calendar day since a treatment started, so
    nights with the band off read as spasms stopping. Here the band is worn all day for the week
    before vigabatrin starts and 12 h a day after, at 4 clusters per 24 h worn throughout. By hand:
    before 28 clusters in 168 h, after (01-12 to 01-16, the start day left out) 10 in 60 h: 4.0
    per 24 h each, within 10 % (the report's TREND_SAME_FRACTION): about the same. The old code
    said 'Since vigabatrin started 6 days ago: 2, 2, 2, 2, 2, 2 clusters a day.' (4 a day before)."""
    summary = _summary(tmp_path, _t(4, 0, 0))
    assert summary["text"] == (
        "Last 24 h: 2 clusters (10:00, 16:00) with 10 spasm-like movements; band worn 12 h. "
        "Since vigabatrin started 6 days ago: 4.0 clusters per 24 h of monitoring (4.0 before: about the same). "
        # worn all day before, 08:00-20:00 after: like hours only if the rate were the same at every hour
        "The band was worn at different hours of the day before and after the start; clusters come mostly after "
        "waking, so the rates can differ for that alone. "
        f"{DOCTOR} Keep any video and tell your pediatrician. spasmwatch is a screening aid, not a diagnosis."
    ), summary["text"]
    [treatment] = summary["treatments"]
    assert treatment == {
        "drug": "vigabatrin", "days_ago": 6, "stopped_days_ago": None, "comparable": True,
        "before": {"days": 7, "monitored_h": 168.0, "clusters": 28, "spasms": 140},
        "after": {"days": 5, "monitored_h": 60.0, "clusters": 10, "spasms": 50},
        "clusters_per_24h_before": 4.0, "clusters_per_24h_after": 4.0,
    }, treatment  # fmt: skip
    [de] = read_summaries(tmp_path / "db.sqlite", {DEV: "cot"}, NOW, PARIS, local="de")
    assert "Der Brustgurt wurde vor und nach dem Beginn zu anderen Tageszeiten getragen;" in de["local"]["text"], de["local"]


def test_a_treatment_side_with_too_few_hours_monitored_is_not_compared(tmp_path: Path) -> None:
    """The band first heard Sunday 01-10 04:00: 20 h monitored in the week before the start (under
    the report's TREND_MIN_MONITORED_S, 24 h), 3 clusters in them. The summary gives no rate, only
    the hours. The old code said '2, 2, 2, 2, 2, 2 clusters a day'."""
    summary = _summary(tmp_path, _t(10, 4, 0))
    text = summary["text"]
    few = "Since vigabatrin started 6 days ago: too few hours monitored yet to compare (60 h monitored since, 20 h before; 24 h needed on each side). "
    assert few in text, text
    assert "per 24 h" not in text, text
    [treatment] = summary["treatments"]
    assert treatment["comparable"] is False and treatment["clusters_per_24h_before"] is None, treatment
    assert treatment["before"] == {"days": 7, "monitored_h": 20.0, "clusters": 3, "spasms": 15}, treatment


def test_config_daily_summary_good_and_bad(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text('[alerts]\ndaily_summary = "07:30"\n')
    assert alert_settings_from(load_config(p)).daily_summary_min == 7 * 60 + 30
    p.write_text("[alerts]\n")
    assert alert_settings_from(load_config(p)).daily_summary_min is None  # off by default
    for bad in ('"7:30"', '"24:00"', '"07:30-08:00"', "730"):
        p.write_text(f"[alerts]\ndaily_summary = {bad}\n")
        with pytest.raises(ConfigError) as e:
            load_config(p)
        assert '[alerts] daily_summary: expected "HH:MM" (e.g. "07:30") or ""' in str(e.value) and str(p) in str(e.value), str(e.value)


def _worn_then_silent(path: Path, heard_from: float, heard_until: float, clusters: tuple[float, ...]) -> None:
    """The band worn and heard every 10 s from ``heard_from`` to ``heard_until``, then never again
    (left at home, flat); a closed cluster of 5 a minute long at each of ``clusters``."""
    with Store(path) as store:
        store.upsert_device(DEV, name="cot", wall_s=heard_from)
        store.add_sync(DEV, 1, 0, heard_from)
        epochs = [{"type": "activity", "boot": 1, "t_ms": 10_000 * k, "activity": 20, "breath": 50, "off_body": 0, "worn": 1}
                  for k in range(1, int((heard_until - heard_from) / 10) + 1)]  # fmt: skip
        store.add_activity(DEV, epochs, heard_from)
        for start in clusters:
            store.upsert_cluster(DEV, f"c{start:.0f}", start, start + 60, 5, start + 20, None, True, wall_s=start + 120)


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        ("en", "Daily summary: not monitored in the last 24 h (cot)",
         "Last 24 h: not monitored (no data from the band): nothing was counted. No cluster for 3 days (38 h of monitoring)."),
        ("de", "Tagesübersicht: in den letzten 24 h nicht überwacht (cot)",
         "Letzte 24 h: nicht überwacht (keine Daten vom Brustgurt): nichts gezählt. Seit 3 Tagen keine Serie (38 h Überwachung)."),
        ("es", "Resumen diario: sin monitorización en las últimas 24 h (cot)",
         "Últimas 24 h: sin monitorización (sin datos de la banda): no se ha contado nada. "
         "Ninguna serie desde hace 3 días (38 h de monitorización)."),
        ("fr", "Résumé du jour : pas de surveillance ces dernières 24 h (cot)",
         "Dernières 24 h : pas de surveillance (aucune donnée de la ceinture) : rien n'a été compté. "
         "Aucune série depuis 3 jours (38 h de surveillance)."),
    ],
)  # fmt: skip
def test_a_day_the_band_was_not_heard_is_not_a_day_without_clusters(tmp_path: Path, lang: str, title: str, text: str) -> None:
    """A band left at home from Wednesday 01-13 00:00: by Friday's 07:30 summary nothing was heard
    for 55.5 h. The old title said 'no cluster in 24 h', the text '0 spasm-like movements' and 'No
    cluster for 3 days', as if the spasms had stopped; 38 h of those 3 days were monitored (the last
    cluster ended 01-11 10:01, the band was heard until 01-13 00:00: 37 h 59 min). Now the day is
    said to be not monitored, nothing counted, and the quiet days come with their hours monitored."""
    path = tmp_path / "db.sqlite"
    _worn_then_silent(path, _t(10, 0, 0), _t(13, 0, 0), (_t(11, 10, 0),))
    [summary] = read_summaries(path, {DEV: "cot"}, _t(15, 7, 30), PARIS, lang=lang, local=lang)
    assert (summary["local"]["title"], summary["local"]["text"]) == (title, f"{text} {catalog(lang)['disclaimer']}"), summary["local"]
    assert (summary["worn_h"], summary["quiet_days"], summary["quiet_monitored_h"]) == (None, 3, 37.98), summary


def test_quiet_days_say_their_hours_monitored_on_a_day_that_was(tmp_path: Path) -> None:
    """A monitored quiet day keeps its counts (zeros that are of 24 h worn), and its quiet days say
    how many of their hours were monitored: the band worn from 01-10 00:00 to the summary on 01-15
    07:30, the last cluster 01-11 10:00-10:01: 93.5 h monitored since."""
    path = tmp_path / "db.sqlite"
    _worn_then_silent(path, _t(10, 0, 0), _t(15, 7, 30), (_t(11, 10, 0),))
    [summary] = read_summaries(path, {DEV: "cot"}, _t(15, 7, 30), PARIS)
    assert summary["title"] == "Daily summary: no cluster in 24 h, band worn 24 h (cot)"
    assert summary["text"].startswith(
        "Last 24 h: no cluster, 0 spasm-like movements; band worn 24 h. No cluster for 3 days (93 h of monitoring). "
    ), summary["text"]
    assert summary["quiet_monitored_h"] == 93.48, summary


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("en", "Daily summary: no cluster in 24 h, band worn 4 min (cot)"),
        ("de", "Tagesübersicht: keine Serie in 24 h, Brustgurt 4 min getragen (cot)"),
        ("es", "Resumen diario: ninguna serie en 24 h, banda puesta 4 min (cot)"),
        ("fr", "Résumé du jour : aucune série en 24 h, ceinture portée 4 min (cot)"),
    ],
)
def test_a_day_without_cluster_says_how_long_the_band_was_worn_in_its_title(tmp_path: Path, lang: str, title: str) -> None:
    """Family review: the band put on at 07:26 after a day in the drawer; the 07:30 summary's title,
    all a locked phone shows, said 'Daily summary: no cluster in 24 h (cot)', as for a day worn
    throughout: 4 minutes read as a day free of spasms. Old code: that title in every language."""
    path = tmp_path / "db.sqlite"
    _worn_then_silent(path, _t(15, 7, 26), _t(15, 7, 30), ())
    [summary] = read_summaries(path, {DEV: "cot"}, _t(15, 7, 30), PARIS, lang=lang, local=lang)
    assert summary["local"]["title"] == title, summary["local"]


def test_a_treatment_stopped_since_its_start_is_compared_up_to_its_stop(tmp_path: Path) -> None:
    """The report's rule (test_report.py, a treatment stopped within its week) in the family's
    summary: vigabatrin started Monday 01-11 08:00 and stopped Wednesday 01-13 09:00; 4 clusters a day
    throughout, but 1 on Tuesday 01-12, its one whole day. By hand: 1.0 per 24 h on it, 4.0 before,
    and the stop said. The old code gave 01-12 to 01-16: 17 clusters in 120 h, '3.4 (4.0 before)'."""
    path = tmp_path / "db.sqlite"
    starts = tuple(_t(day, h, 0) for day in range(4, 17) for h in ((6,) if day == 12 else (2, 8, 14, 20)))
    _worn_then_silent(path, _t(4, 0, 0), NOW, starts)
    with Store(path) as store:
        store.add_treatment(START, "vigabatrin", "start", 50, "mg/kg/day")
        store.add_treatment(_t(13, 9, 0), "vigabatrin", "stop", None, None)
    [summary] = read_summaries(path, {DEV: "cot"}, NOW, PARIS, local="de")
    assert (
        "Since vigabatrin started 6 days ago: 1.0 clusters per 24 h of monitoring (4.0 before). "
        "vigabatrin was stopped 4 days ago: its rate is of the days up to then. "
    ) in summary["text"], summary["text"]
    assert "vigabatrin wurde vor 4 Tagen abgesetzt: die Rate gilt für die Tage bis dahin." in summary["local"]["text"], summary["local"]
    [fr] = read_summaries(path, {DEV: "cot"}, NOW, PARIS, local="fr")  # no gender to agree with the drug's
    assert "Arrêt de vigabatrin il y a 4 jours : le taux porte sur les jours jusque-là." in fr["local"]["text"], fr["local"]
    [treatment] = summary["treatments"]
    assert (treatment["after"], treatment["stopped_days_ago"]) == ({"days": 1, "monitored_h": 24.0, "clusters": 1, "spasms": 5}, 4), treatment
