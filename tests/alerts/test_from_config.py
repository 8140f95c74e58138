"""config.toml -> the daemon's wiring -> real AlertEngine + Dispatcher + webhooks on 127.0.0.1.

What [alerts] quiet_faults and [[caregivers]] min_urgency change in what is sent, and that
leaving them out changes nothing. The engine runs in the host's local zone, as the daemon's
does (the config has no zone), so times are built from naive local datetimes.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from datetime import datetime

from spasmwatch.alerts import AlertEngine
from spasmwatch.alerts.model import BandFault
from spasmwatch.alerts.channels import Dispatcher, RetrySettings, SoundChannel
from spasmwatch.config import from_dict
from spasmwatch.daemon.wiring import alert_settings_from, caregivers_from, channels_from

from .conftest import http_recorder, in_lanes

FAST = RetrySettings(attempts=2, first_delay_s=0.05, attempt_timeout_s=5.0)
NIGHT = datetime(2024, 3, 5, 23, 30).timestamp()  # inside 22:00-07:00, local time


class Clock:
    """A settable time source: the engine's injected clock, not the thing under test."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def config_text(url: str, alerts: str = "", ben: str = "") -> str:
    """Anna and Ben, each on a webhook of their own; the local sound and desktop off."""
    return f"""
[alerts]
quiet_hours = "22:00-07:00"
{alerts}

[channels.sound]
enabled = false
[channels.desktop]
enabled = false

[[channels.webhook]]
url = "{url}/anna"
name = "anna"
[[channels.webhook]]
url = "{url}/ben"
name = "ben"

[[caregivers]]
name = "Anna"
channels = ["webhook:anna"]
[[caregivers]]
name = "Ben"
channels = ["webhook:ben"]
{ben}
"""


def wire(text: str, clock: Clock) -> tuple[AlertEngine, Dispatcher]:
    """What daemon.main.build does with a config, minus the bands and the store."""
    cfg = from_dict(tomllib.loads(text), "config.toml")
    channels = channels_from(cfg)
    dispatcher = Dispatcher(channels, caregivers_from(cfg, channels), retry=FAST)
    return AlertEngine(clock, dispatcher.submit, alert_settings_from(cfg)), dispatcher


def received(seen: list) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """Path -> what arrived there, as 'kind' or 'kind:fault'."""
    out: dict[str, list[str]] = {}
    for s in seen:
        body = json.loads(s.body)
        out.setdefault(s.path, []).append(body["kind"] + (f":{body['fault']}" if body["fault"] else ""))
    return out


def night_of_band_faults(alerts: str, faults: tuple[str, ...] = ("disconnected", "battery_low")) -> dict[str, list[str]]:
    """At 23:30 the band raises ``faults`` (by default it drops and its battery runs low); at 07:00
    they are all still true. What the phones got at night, and what at 07:00."""

    async def main() -> dict[str, list[str]]:
        async with http_recorder() as srv:
            clock = Clock(NIGHT)
            engine, d = wire(config_text(srv.url, alerts=alerts), clock)
            for fault in faults:
                engine.on_band_state("cot", fault, True)
            await d.drain()
            night = received(srv.seen).get("/anna", [])
            clock.t = datetime(2024, 3, 6, 7, 0).timestamp()
            engine.tick()  # quiet hours over: what was held and is still true goes out
            await d.close()
            return {"night": night, "morning": received(srv.seen).get("/anna", [])[len(night):]}

    return asyncio.run(main())


def test_a_fault_left_out_of_quiet_faults_is_sent_during_quiet_hours() -> None:
    got = night_of_band_faults('quiet_faults = ["not_worn", "battery_low"]')
    assert got["night"] == ["band_fault:disconnected"]  # monitoring stopped: the family hears at once
    assert got["morning"] == ["band_fault:battery_low"]  # held, then sent when quiet hours end


def test_without_quiet_faults_quiet_hours_never_hold_a_fault_that_stops_detection() -> None:
    """Family review: quiet_hours set alone (the starter config's commented line, or 'config set
    alerts.quiet_hours 22:00-07:00') held every band fault until 07:00: a band that dropped at 23:30
    was said at 07:00, a night with nothing watching the baby. Old code: night [], both at 07:00."""
    got = night_of_band_faults("")
    assert sorted(got["night"]) == ["band_fault:battery_low", "band_fault:disconnected"]
    assert got["morning"] == []


def test_without_quiet_faults_a_band_off_the_baby_at_night_is_said_at_once() -> None:
    """Family review: not_worn was held through quiet hours by default (as README's example held
    it): a band that slipped off at 1 am was said at 07:00, a night with nothing watching the baby.
    A band off the baby detects nothing, as one disconnected. Old code: night [], not_worn at 07:00."""
    got = night_of_band_faults("", ("not_worn",))
    assert got == {"night": ["band_fault:not_worn"], "morning": []}


def test_without_quiet_faults_quiet_hours_hold_only_the_faults_detection_goes_on_through() -> None:
    """Each fault raised at 23:30 with quiet_faults left out: those that stop the band detecting (or
    soon will, or a band off the baby) go out at once, the others at 07:00. Old code: every fault
    at 07:00. Another device bonded goes at once too: it may be hiding spasms tonight."""
    got = night_of_band_faults("", tuple(f.value for f in BandFault))
    stops = ["disconnected", "not_worn", "battery_low", "safe_mode", "sensor_error", "band_log_failing", "other_bonds"]
    assert sorted(got["night"]) == sorted(f"band_fault:{f}" for f in stops)
    assert sorted(got["morning"]) == sorted(f"band_fault:{f.value}" for f in BandFault if f.value not in stops)


def test_status_says_a_band_notice_held_back_was_not_sent() -> None:
    """Family review: at 23:30 in quiet hours the band is taken off; 'spasmwatch status' listed
    'ALERT #1 FAULT: Band not worn' like a notice the phones had, though none was sent (held until
    07:00: not_worn listed in quiet_faults). Old code: no word of it being held."""
    from spasmwatch.commands.status import alert_lines

    engine, _ = wire(config_text("http://127.0.0.1:9", alerts='quiet_faults = ["not_worn"]'), Clock(NIGHT))
    engine.on_band_state("cot", "not_worn", True)
    (line, _text) = alert_lines(engine.snapshot())
    assert line.startswith("ALERT #1 FAULT (held back: not sent yet, quiet hours, a mute or the rate limit hold it; sent when "), line


def test_empty_quiet_faults_holds_nothing() -> None:
    got = night_of_band_faults("quiet_faults = []")
    assert sorted(got["night"]) == ["band_fault:battery_low", "band_fault:disconnected"]
    assert got["morning"] == []


def test_a_caregiver_with_min_urgency_urgent_gets_the_alarm_but_not_the_warning() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            clock = Clock(datetime(2024, 3, 5, 10, 0).timestamp())  # daytime: nothing is held
            engine, d = wire(config_text(srv.url, ben='min_urgency = "urgent"'), clock)
            engine.on_band_state("cot", "not_worn", True)  # NORMAL
            engine.on_spasm("cot", 1, 2)  # WARNING: LOW
            await d.drain()  # (a heads-up not through when its alarm comes is given up: Dispatcher._supersede)
            engine.on_spasm("cot", 1, 3)  # ALARM: URGENT, everyone
            await d.drain()
            clock.t += 120  # nobody acknowledged: CRITICAL, everyone
            engine.tick()
            await d.close()
            got = received(srv.seen)
            assert in_lanes(got["/anna"]) == ["band_fault:not_worn", "cluster_warning", "cluster_alarm", "cluster_escalated"]
            assert got["/ben"] == ["cluster_alarm", "cluster_escalated"]

    asyncio.run(main())


def test_a_caregiver_with_min_urgency_normal_gets_band_faults_but_not_the_warning() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            engine, d = wire(config_text(srv.url, ben='min_urgency = "normal"'), Clock(datetime(2024, 3, 5, 10, 0).timestamp()))
            engine.on_band_state("cot", "not_worn", True)
            engine.on_spasm("cot", 1, 2)
            await d.close()
            assert {path: in_lanes(kinds) for path, kinds in received(srv.seen).items()} == {
                "/anna": ["band_fault:not_worn", "cluster_warning"],  # no min_urgency: LOW and up, as before
                "/ben": ["band_fault:not_worn"],
            }

    asyncio.run(main())


def test_the_sound_repeat_settings_reach_the_channel() -> None:
    cfg = from_dict(tomllib.loads("[channels.sound]\nrepeat_every_s = 45\nrepeat_for_s = 0\n"), "config.toml")
    sound = channels_from(cfg)["sound"]
    assert isinstance(sound, SoundChannel)
    assert (sound.settings.repeat_every_s, sound.settings.repeat_for_s) == (45, 0)
    default = channels_from(from_dict({}, "config.toml"))["sound"]
    assert isinstance(default, SoundChannel) and (default.settings.repeat_every_s, default.settings.repeat_for_s) == (30, 600)


def test_page_url_reaches_the_ntfy_and_webhook_pushes_and_the_lan_token_none() -> None:
    """[daemon.http] page_url through the daemon's wiring: a real engine's band notice, alarm and
    acknowledgement as the ntfy server and a webhook receive them."""
    token = "s3cret-lan-token-0123"

    async def main() -> None:
        async with http_recorder() as srv:
            text = f"""
[daemon.http]
lan = true
token = "{token}"
page_url = "http://192.168.1.20:8765/"
[channels.sound]
enabled = false
[channels.desktop]
enabled = false
[[channels.ntfy]]
url = "{srv.url}/baby-xyz"
[[channels.webhook]]
url = "{srv.url}/hook"
"""
            engine, d = wire(text, Clock(datetime(2024, 3, 5, 10, 0).timestamp()))
            engine.on_band_state("cot", "not_worn", True)
            engine.on_spasm("cot", 1, 2)
            await d.drain()  # (the heads-up through before its alarm: Dispatcher._supersede)
            engine.on_spasm("cot", 1, 3)
            await d.drain()
            engine.ack_device("cot", "Mum")
            await d.close()
            pushes = [(s.headers["Tags"].split(",")[-1], s.headers.get("Click"), s.headers.get("Actions"))
                      for s in srv.seen if s.path == "/baby-xyz"]  # fmt: skip
            page, button = "http://192.168.1.20:8765/", "view, Open to acknowledge, http://192.168.1.20:8765/, clear=true"
            assert in_lanes(pushes, lambda p: p[0]) == [
                ("band_fault", page, None), ("cluster_warning", page, None), ("cluster_alarm", page, button),
                ("cluster_acknowledged", page, None),
            ]  # fmt: skip
            hooks = [json.loads(s.body) for s in srv.seen if s.path == "/hook"]
            assert hooks and all(h["page_url"] == page for h in hooks)
            assert not [s for s in srv.seen if token in str(s.headers) or token.encode() in s.body]

    asyncio.run(main())
