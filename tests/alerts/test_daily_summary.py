"""The daily summary ([alerts] daily_summary): a real Daemon in-process on a clock moved by hand
(synthetic.HandClock), its store on disk, real receivers on 127.0.0.1 (webhook and ntfy pushes to
aiohttp) and the sound channel through a real player script."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from servers import Recorder, http_recorder
from synthetic import HandClock, spasm_record

from spasmwatch.alerts import AlertSettings, Urgency
from spasmwatch.alerts.channels import Caregiver, NtfyChannel, NtfySettings, RetrySettings, SoundChannel, SoundSettings, WebhookChannel, WebhookSettings
from spasmwatch.config import load_config
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import BandInfo
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


EXPECTED = (
    "Last 24 h: 2 clusters (21:05, 06:10) with 16 spasm-like movements and 14 more outside them; band worn 11 h. "
    "Since vigabatrin started 4 days ago: 4, 3, 2, 2 clusters a day. "
    "Keep any video and tell your pediatrician. spasmwatch is a screening aid, not a diagnosis."
)


def test_one_summary_a_day_at_its_time_with_the_counts_not_twice_not_hours_late(tmp_path: Path) -> None:
    """Nothing told a family each morning how the last day went. At 07:30 local the receivers get
    one summary (counts, start times, worn time, clusters per day since the treatment started);
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
                assert isinstance(nxt, str) and nxt.startswith("Last 24 h: no cluster, 0 spasm-like movements; no data from the band. No cluster for 1 day."), nxt
                assert "Since vigabatrin started 5 days ago: 4, 3, 2, 2, 1 clusters a day." in nxt, nxt
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
        assert f'[alerts] daily_summary: expected "HH:MM" (e.g. "07:30") or ""' in str(e.value) and str(p) in str(e.value), str(e.value)
