"""The notification channels whose latest delivery failed outlive a daemon restart, have one owner
(the dispatcher: MQTT's own status publishes included), and every MQTT channel is found by what it
is, whatever its name.

Real parts: the SQLite store on disk (reopened by each run, as a restart does), a real mosquitto,
ntfy and webhook receivers on 127.0.0.1 (aiohttp) that refuse (HTTP 403, as a wrong token) and then
take, a TCP proxy that makes the broker unreachable, and real Daemons in-process with an injected
clock. Until 2026-12-05 a restart forgot them: the page's banner, ``spasmwatch status`` and Home
Assistant's "Notifications failing" said all fine until the next alarm failed too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.publish as publish
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment
from servers import MqttProxy, Recorder, Watcher, http_recorder, run_then_close

from spasmwatch.alerts.channels import Channel, MqttChannel, MqttSettings, NtfyChannel, NtfySettings, RetrySettings, WebhookChannel, WebhookSettings
from spasmwatch.alerts.channels.mqtt import discovery_configs
from spasmwatch.commands.status import channel_lines
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.store import Store

from .conftest import Broker
from .cot_daemon import NOW, StillClock, alarm, cot_daemon

LATER = NOW + 60.0  # the restarted daemon's clock: its restored alarm escalates at NOW + 120 s, not in these runs
STATUS = "sw/cot/status"
FAST = RetrySettings(attempts=2, first_delay_s=0.05)
KEY = b"k" * 32  # of the settings' fingerprints (fingerprint_key.py)


def _ntfy(rx: Recorder, name: str = "ntfy:phone") -> NtfyChannel:
    return NtfyChannel(NtfySettings(url=rx.url + "/ada", name=name))


def _mqtt(port: int, name: str = "mqtt", prefix: str = "sw", timeout_s: float = 5) -> MqttChannel:
    return MqttChannel(MqttSettings(port=port, timeout_s=timeout_s, prefix=prefix, name=name))


def _render(template: str, payload: dict[str, Any]) -> str:
    return ImmutableSandboxedEnvironment().from_string(template).render(value_json=payload).strip()


def _status_when(w: Watcher, topic: str, ok: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    w.wait_until(lambda: topic in w.last and ok(json.loads(w.last[topic][0])), what)
    status: dict[str, Any] = json.loads(w.last[topic][0])
    return status


async def _until(ok: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not ok():
        assert loop.time() < deadline, f"{what}: not within {timeout_s:g} s"
        await asyncio.sleep(0.02)


def test_a_restarted_daemon_shows_the_channel_that_refused_the_alarm_until_it_delivers(tmp_path: Path, broker: Broker) -> None:
    """ntfy refused the 03:00 alarm (403), the daemon restarted: the page, the CLI and Home Assistant
    still say so, with the first failure's time and error, until a test alarm gets through; the
    run after that shows nothing failing."""
    db = tmp_path / "db.sqlite"
    w = Watcher(broker.port)
    sensor = discovery_configs(MqttSettings(prefix="sw"), "cot")["homeassistant/binary_sensor/spasmwatch_cot_channels_failing/config"]

    async def main() -> None:
        async with http_recorder([403]) as phone:  # refused (a wrong token), then taken
            with Store(db) as store:  # the first run: the alarm is refused
                d = cot_daemon(store, {"ntfy:phone": _ntfy(phone)}, NOW, retry=FAST)
                await d.start()
                try:
                    alarm(d)
                    await d.dispatcher.drain()
                    [first] = d.status()["channels_failing"]
                finally:
                    await d.stop()
            assert first["since"] == NOW and "403" in first["error"], first

            with Store(db) as store:  # restarted a minute later (an update, a crash, a reboot)
                d = cot_daemon(store, {"ntfy:phone": _ntfy(phone), "mqtt": _mqtt(broker.port)}, LATER, retry=FAST)
                await d.start()
                try:
                    assert d.status()["channels_failing"] == [first]  # the page's banner: the same since and error
                    [line, others] = channel_lines(d.status())
                    assert line.startswith("NOT DELIVERED on ntfy:phone since ") and "403" in line, line
                    assert others == "the other channels (mqtt) are not failing", others
                    ha = await asyncio.to_thread(_status_when, w, STATUS, lambda s: s["last_cluster"] is not None, "the restored alarm's status")
                    since = datetime.fromtimestamp(NOW, timezone.utc).isoformat()
                    assert [(c["channel"], c["since"], c["error"]) for c in ha["channels_failing"]] == [("ntfy:phone", since, first["error"])], ha
                    assert {_render(sensor["value_template"], s) for s in w.all(STATUS)} == {"ON"}  # from the first status on

                    out = await d.send_test("ntfy:phone", "Mum")  # answered 200 now
                    assert [(r["channel"], r["ok"]) for r in out["results"]] == [("ntfy:phone", True)], out
                    assert d.status()["channels_failing"] == [] and store.failing_channels() == []
                    ok = await asyncio.to_thread(_status_when, w, STATUS, lambda s: s["channels_failing"] == [], "the status after the test")
                    assert _render(sensor["value_template"], ok) == "OFF"
                finally:
                    await d.stop()

            with Store(db) as store:  # and the run after that shows nothing failing
                d = cot_daemon(store, {"ntfy:phone": _ntfy(phone)}, LATER + 30, retry=FAST)
                assert d.status()["channels_failing"] == []
                await d.dispatcher.close()
            assert len(phone.seen) == 2  # the alarm (refused) and the test: nothing sent by the restarts

    run_then_close(main, w.stop)


def test_a_failing_channel_no_longer_configured_after_a_restart_is_dropped_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "db.sqlite"
    caplog.set_level(logging.INFO, logger="spasmwatch.alerts.dispatch")

    def about_old() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("webhook:old: ")]

    async def main() -> None:
        async with http_recorder([403]) as phone, http_recorder([403]) as old:
            with Store(db) as store:
                d = cot_daemon(store, {"ntfy:phone": _ntfy(phone), "webhook:old": WebhookChannel(WebhookSettings(url=old.url, name="webhook:old"))}, NOW, retry=FAST)
                alarm(d)
                await d.dispatcher.drain()
                assert [c["channel"] for c in d.status()["channels_failing"]] == ["ntfy:phone", "webhook:old"]
                await d.dispatcher.close()
            caplog.clear()
            for t in (LATER, LATER + 30):  # the webhook taken out of the config; two restarts
                with Store(db) as store:
                    d = cot_daemon(store, {"ntfy:phone": _ntfy(phone)}, t, retry=FAST)
                    assert [(c["channel"], c["since"]) for c in d.status()["channels_failing"]] == [("ntfy:phone", NOW)]
                    assert [(r.channel, r.since_wall_s, r.error) for r in store.failing_channels()] == [("ntfy:phone", NOW, d.status()["channels_failing"][0]["error"])]
                    await d.dispatcher.close()
            [said] = about_old()  # once: at the first start without it
            assert said.levelno == logging.INFO and "no longer configured: forgotten" in said.getMessage() and "403" in said.getMessage(), said

    asyncio.run(asyncio.wait_for(main(), 60))


def test_mqtts_own_status_failures_are_the_dispatchers_failing_and_logged_once(
    tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """One owner: the broker away, the retained status not published makes MQTT failing (the page
    says so; kept in the store for the next start), one WARNING for the outage however many status
    changes and alarms came meanwhile, and the status taken again ends it ('delivering again')."""
    caplog.set_level(logging.DEBUG, logger="spasmwatch")
    proxy = MqttProxy(broker.port)
    proxy.refuse = True  # the broker unreachable from the start

    def warnings(about: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and about in r.getMessage()]

    def published_not() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "not published" in r.getMessage()]

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            d = cot_daemon(store, {"mqtt": _mqtt(proxy.port, timeout_s=0.3)}, NOW, retry=FAST)
            await d.start()
            try:
                await _until(lambda: bool(d.status()["channels_failing"]), "MQTT failing")
                [f] = d.status()["channels_failing"]
                assert f["channel"] == "mqtt" and "broker" in f["error"], f
                assert [(r.channel, r.since_wall_s, r.error) for r in store.failing_channels()] == [("mqtt", NOW, f["error"])]
                assert isinstance(d.clock, StillClock)
                d.clock.t = NOW + 10
                d.mute("cot", 600, "Mum")  # status changes while the broker stays away
                await _until(lambda: len(published_not()) >= 2, "a second status not published")
                d.mute("cot", 0, "Mum")
                alert_id = alarm(d)  # its event not confirmed either: a live alarm is a WARNING of its own
                await d.dispatcher.drain()
                await _until(lambda: len(published_not()) >= 3, "a third status not published")
                assert len(warnings("not published")) == 1, warnings("not published")
                assert [c["channel"] for c in d.status()["channels_failing"]] == ["mqtt"]
                assert d.status()["channels_failing"][0]["since"] == NOW  # the first failure in a row

                proxy.refuse = False  # the broker is back: the next status it takes ends the failure
                d.ack(alert_id, "Mum")
                for i in range(80):  # a status change every 0.5 s until paho has reconnected (its backoff: up to 30 s)
                    if d.status()["channels_failing"] == []:
                        break
                    d.mute("cot", 600 + i, "Dad")
                    await asyncio.sleep(0.5)
                assert d.status()["channels_failing"] == [], d.status()["channels_failing"]
                assert store.failing_channels() == []
                assert any(r.getMessage().startswith("mqtt: delivering again after ") for r in caplog.records)
            finally:
                await d.stop()

    run_then_close(main, proxy.close, timeout_s=90)


def test_every_mqtt_channel_is_found_by_what_it_is_whatever_its_name(tmp_path: Path, broker: Broker) -> None:
    """Two MQTT channels, neither named "mqtt" (two Home Assistants on one broker, by prefix): each
    keeps each band's retained status, lists the other channels failing, and shows
    an alarm a restarted daemon carries on."""
    db = tmp_path / "db.sqlite"
    w = Watcher(broker.port)

    def channels(hook: Recorder) -> dict[str, Channel]:
        return {"mqtt:home": _mqtt(broker.port, "mqtt:home", "home"), "mqtt:cabin": _mqtt(broker.port, "mqtt:cabin", "cabin"),
                "webhook:phone": WebhookChannel(WebhookSettings(url=hook.url + "/in/7f3a9c2e", name="webhook:phone"))}  # fmt: skip

    async def main() -> None:
        async with http_recorder([403]) as hook:
            with Store(db) as store:
                d = cot_daemon(store, channels(hook), NOW, retry=FAST)
                await d.start()
                try:
                    for prefix in ("home", "cabin"):
                        await asyncio.to_thread(_status_when, w, f"{prefix}/cot/status", lambda s: s["connected"] is False, f"{prefix}'s first status")
                    alarm(d)
                    await d.dispatcher.drain()
                    for prefix in ("home", "cabin"):
                        st = await asyncio.to_thread(_status_when, w, f"{prefix}/cot/status", lambda s: s["channels_failing"] != [], f"{prefix}'s failing")
                        assert [c["channel"] for c in st["channels_failing"]] == ["webhook:phone"], st
                finally:
                    await d.stop()
            for prefix in ("home", "cabin"):  # the broker forgets the alarm (restarted without persistence)
                await asyncio.to_thread(publish.single, f"{prefix}/cot/alert", b"", retain=True, hostname="127.0.0.1", port=broker.port)
            await asyncio.to_thread(w.wait_until, lambda: all(w.last.get(f"{p}/cot/alert", (b"x",))[0] == b"" for p in ("home", "cabin")), "cleared")

            with Store(db) as store:  # restarted: the open alarm carries on, shown on both
                d = cot_daemon(store, channels(hook), NOW + 60, retry=FAST)
                await d.start()
                try:
                    for prefix in ("home", "cabin"):
                        await asyncio.to_thread(w.wait_until, lambda: b'"alarm": true' in w.last.get(f"{prefix}/cot/alert", (b"",))[0],
                                                f"{prefix}'s restored alarm")  # fmt: skip
                finally:
                    await d.stop()

    run_then_close(main, w.stop)


def test_two_mqtt_channels_under_one_name_are_refused(tmp_path: Path) -> None:
    """They would keep their unacknowledged events in one outbox (by the channel's name), each
    resending the other's at the next start."""
    with Store(tmp_path / "db.sqlite") as store:
        with pytest.raises(ValueError, match="channels 'mqtt:home' and 'mqtt:cabin' are both named 'mqtt': give each its own name"):
            Daemon(store, [], {"mqtt:home": MqttChannel(MqttSettings(prefix="home")), "mqtt:cabin": MqttChannel(MqttSettings(prefix="cabin"))})


def test_a_failure_belongs_to_the_channels_settings_it_happened_under(tmp_path: Path) -> None:
    """ntfy refused the alarm on its old server; the channel moved to another (an edit and a
    restart, or a reload): it is not failing but changed (not known to deliver), nothing sent by
    the move; moved back, the old failure is its own again. Its next outcome on the new settings
    ends the old failure, here and in the store. Until 2026-12-06 the new server was shown with the
    old one's error and "NO CHANNEL DELIVERS" until the next test alarm."""
    db = tmp_path / "db.sqlite"

    async def main() -> None:
        async with http_recorder([403]) as old, http_recorder([500]) as new:
            with Store(db) as store:
                d = cot_daemon(store, {"ntfy:phone": _ntfy(old)}, NOW, retry=FAST)
                alarm(d)
                await d.dispatcher.drain()
                [first] = d.status()["channels_failing"]
                assert d.status()["channels_changed"] == []
                await d.dispatcher.close()
            changed = [{"channel": "ntfy:phone", "since": NOW, "error": first["error"]}]
            with Store(db) as store:  # restarted on the new server
                d = cot_daemon(store, {"ntfy:phone": _ntfy(new)}, LATER, retry=FAST)
                assert d.status()["channels_failing"] == [] and d.status()["channels_changed"] == changed, d.status()
                await d.dispatcher.close()
            with Store(db) as store:  # moved back: the failure was this channel's
                d = cot_daemon(store, {"ntfy:phone": _ntfy(old)}, LATER, retry=FAST)
                assert d.status()["channels_failing"] == [first] and d.status()["channels_changed"] == []
                await d.start()
                try:
                    d.set_channels({"ntfy:phone": _ntfy(new)}, [], {})  # a reload that moves it
                    assert d.status()["channels_failing"] == [] and d.status()["channels_changed"] == changed
                    out = await d.send_test("ntfy:phone", "Mum")  # the new server refuses (500): its own failure
                    assert [(r["channel"], r["ok"]) for r in out["results"]] == [("ntfy:phone", False)], out
                    [now] = d.status()["channels_failing"]
                    assert now["since"] == LATER and "500" in now["error"] and d.status()["channels_changed"] == [], now
                    assert [(r.channel, r.since_wall_s) for r in store.failing_channels()] == [("ntfy:phone", LATER)]
                finally:
                    await d.stop()
            assert len(old.seen) == 1 and len(new.seen) >= 1  # the alarm, the test: nothing sent by the moves

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_setting_that_does_not_say_where_or_how_it_delivers_leaves_the_failure_failing(tmp_path: Path) -> None:
    """ntfy and the webhook refused the alarm; the family then set [daemon.http] page_url (what a
    push links to, the same for every channel: wiring.channels_from) and restarted: the receivers
    refuse still, and the page, the CLI and Home Assistant must say so. Until this test the
    fingerprint hashed page_url too, so both were "changed" (off the page's banner and Home
    Assistant's "Notifications failing") until the next alarm failed again; a reload of page_url
    did the same. The sound's repeat settings (how often it plays, not whether) likewise."""
    db = tmp_path / "db.sqlite"

    def channels(phone: Recorder, hook: Recorder, page_url: str | None) -> dict[str, Channel]:
        return {"ntfy:phone": NtfyChannel(NtfySettings(url=phone.url + "/ada", name="ntfy:phone", page_url=page_url)),
                "webhook:ha": WebhookChannel(WebhookSettings(url=hook.url + "/in/7f3a9c2e", name="webhook:ha", page_url=page_url))}  # fmt: skip

    async def main() -> None:
        async with http_recorder([403] * 50) as phone, http_recorder([403] * 50) as hook:
            with Store(db) as store:
                d = cot_daemon(store, channels(phone, hook, None), NOW, retry=FAST)
                alarm(d)
                await d.dispatcher.drain()
                failing = d.status()["channels_failing"]
                assert [c["channel"] for c in failing] == ["ntfy:phone", "webhook:ha"], failing
                await d.dispatcher.close()
            with Store(db) as store:  # page_url set, then a restart
                d = cot_daemon(store, channels(phone, hook, "http://192.168.1.20:8765/"), LATER, retry=FAST)
                assert d.status()["channels_failing"] == failing and d.status()["channels_changed"] == [], d.status()
                await d.start()
                try:  # and a reload that sets it again, to another address
                    d.set_channels(channels(phone, hook, "http://cot.local:8765/"), [], {})
                    assert d.status()["channels_failing"] == failing and d.status()["channels_changed"] == [], d.status()
                    await _until(lambda: not d._errands, "the channels the reload replaced closed")
                finally:
                    await d.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_the_sounds_repeats_are_not_what_it_delivers_by() -> None:
    """How often an unacknowledged alarm plays again says nothing of whether the player works."""
    from spasmwatch.alerts.channels.base import fingerprint
    from spasmwatch.alerts.channels.sound import SoundChannel, SoundSettings

    one = SoundChannel(SoundSettings(command=("aplay", "{wav}")))
    other = SoundChannel(SoundSettings(command=("aplay", "{wav}"), repeat_every_s=120.0, repeat_for_s=600.0))
    assert fingerprint(one, KEY) == fingerprint(other, KEY)
    assert fingerprint(one, KEY) != fingerprint(SoundChannel(SoundSettings(command=("paplay", "{wav}"))), KEY)


def test_a_later_spasmwatchs_new_setting_left_at_its_default_keeps_the_fingerprint() -> None:
    """An upgrade that adds a setting (here a priority), or puts the fields in another order, and
    restarts: the channels configured as before are the same channels, their failures failing
    still. The fingerprint hashed every field, defaults too, in the class's order: any such
    upgrade turned every failing channel "changed", off the page and Home Assistant."""
    from dataclasses import dataclass, field, fields, make_dataclass

    from spasmwatch.alerts.channels.base import fingerprint

    @dataclass(frozen=True)
    class Later(NtfySettings):
        priority: str = "high"

    shuffled = make_dataclass("Shuffled", [(f.name, f.type, field(default=f.default)) for f in reversed(fields(NtfySettings))], frozen=True, kw_only=True)
    now = NtfySettings(url="https://ntfy.example/ada", name="ntfy:phone", token="tk_1")
    same = fingerprint(NtfyChannel(now), KEY)
    assert fingerprint(NtfyChannel(Later(url=now.url, name=now.name, token=now.token)), KEY) == same
    assert fingerprint(NtfyChannel(shuffled(url=now.url, name=now.name, token=now.token)), KEY) == same  # type: ignore[arg-type]
    assert fingerprint(NtfyChannel(Later(url=now.url, name=now.name, token=now.token, priority="low")), KEY) != same
    assert fingerprint(NtfyChannel(NtfySettings(url=now.url, name=now.name, token="tk_2")), KEY) != same  # a token rotated: to be tested


def test_a_kept_failure_of_a_home_assistant_webhook_keeps_the_channels_name_across_a_restart(tmp_path: Path) -> None:
    """Home Assistant's webhooks are at /api/webhook/<id>, so "webhook" is one of the URL's secrets
    (a path segment): the kept error, scrubbed of them at each start, read "[…]:ha: HTTP 403 ..."
    on the page and in 'spasmwatch status' after a restart, the channel's own name cut out. Found by
    the review of 2026-12-06. The webhook's id stays cut out of the reply."""
    db = tmp_path / "db.sqlite"
    hook_id = "spasmwatch-7f3a9c2e1b"

    async def main() -> None:
        async with http_recorder([403] * 10) as ha:
            def hook() -> dict[str, Channel]:
                return {"webhook:ha": WebhookChannel(WebhookSettings(url=f"{ha.url}/api/webhook/{hook_id}", name="webhook:ha"))}

            with Store(db) as store:
                d = cot_daemon(store, hook(), NOW, retry=FAST)
                alarm(d)
                await d.dispatcher.drain()
                [first] = d.status()["channels_failing"]
                await d.dispatcher.close()
            with Store(db) as store:
                d = cot_daemon(store, hook(), LATER, retry=FAST)
                [again] = d.status()["channels_failing"]
                assert again["error"].startswith("webhook:ha: HTTP 403 from ") and again == first, (first, again)
                assert hook_id not in again["error"]
                await d.dispatcher.close()

    asyncio.run(asyncio.wait_for(main(), 60))
