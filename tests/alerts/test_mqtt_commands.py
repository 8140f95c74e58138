"""Acknowledging and testing from Home Assistant: the MQTT channel's command topic and buttons.

A real mosquitto per test, a real Daemon in-process (a band that never connects), alarms raised
through its engine, and a plain paho client (``servers.Watcher``) that presses as Home Assistant
does: it publishes ``payload_press`` on ``command_topic``. Until 2026-12-04 MQTT only showed the
alarm; acknowledging it needed the web page or ``spasmwatch ack``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from servers import MqttProxy, Watcher, http_recorder, run_then_close

from spasmwatch.alerts.channels import Channel, MqttChannel, MqttSettings, WebhookChannel, WebhookSettings
from spasmwatch.config import from_dict
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.wiring import channels_from
from spasmwatch.store import Store

from .conftest import Broker

CMD = "sw/cot/command"
WAIT_S = 10.0
# How long a command that must do nothing is given to do something (a live one acts within ~10 ms).
NOTHING_S = 1.0


def _never() -> object:
    raise AssertionError("the band is not connected in these tests")


def _daemon(store: Store, channels: dict[str, Channel]) -> Daemon:
    store.upsert_device("cot", wall_s=time.time())  # the alert history names a band the store knows
    return Daemon(store, [BandSpec("cot", _never)], channels)  # type: ignore[arg-type]


def _mqtt(port: int) -> MqttChannel:
    return MqttChannel(MqttSettings(port=port, timeout_s=5, prefix="sw"))


def _alarm(d: Daemon, n: int) -> int:
    """Cluster ``n``'s third spasm (its row in the store, as the live analysis makes it): its alarm (the id)."""
    now = time.time()
    cluster = d.store.upsert_cluster("cot", f"c{n}", now - 20, now, 3, now, None, False, wall_s=now)
    d.engine.on_spasm("cot", cluster, 3, started_t=now - 20)
    [a] = [a for a in d.engine.snapshot()["alerts"] if a["cluster_id"] == cluster]
    assert a["state"] == "ALARM", a
    return int(a["id"])


def _state(d: Daemon, alert_id: int) -> dict[str, object]:
    return next(a for a in d.engine.snapshot()["alerts"] if a["id"] == alert_id)


async def _until(ok: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not ok():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {WAIT_S:g} s")
        await asyncio.sleep(0.02)


async def _event_seen(w: Watcher, kind: str, n: int = 1) -> None:
    """The alarm's event reached the broker: the link's SUBSCRIBE went before it (paho sends what
    it held after on_connect, which subscribes), so a press from now on reaches the channel."""
    await asyncio.to_thread(w.wait_until, lambda: sum(e["kind"] == kind for e in w.all("sw/cot/event")) >= n, f"{kind} event")


def test_pressing_acknowledge_in_home_assistant_acknowledges_the_alarm(tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture) -> None:
    w = Watcher(broker.port)

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            d = _daemon(store, {"mqtt": _mqtt(broker.port)})
            first = _alarm(d, 1)
            await _event_seen(w, "cluster_alarm")
            assert (await asyncio.to_thread(w.json, "sw/cot/alert"))["state"] == "ALARM"

            w.c.publish(CMD, "ack", qos=1)  # what the button sends
            await _until(lambda: _state(d, first)["state"] == "ACKNOWLEDGED", "the alarm acknowledged")
            assert _state(d, first)["acked_by"] == "Home Assistant"
            await asyncio.to_thread(w.wait_until, lambda: json.loads(w.last["sw/cot/alert"][0])["state"] == "ACKNOWLEDGED", "retained alert")
            alert = json.loads(w.last["sw/cot/alert"][0])
            assert (alert["alarm"], alert["title"]) == (False, "Alarm acknowledged by Home Assistant (cot)"), alert
            [row] = [r for r in store.alerts("cot") if r.state == "ACKNOWLEDGED"]
            assert row.by == "Home Assistant"

            # An automation may name who pressed (trimmed and bounded as the web API's ``by``);
            # what is none of ours is logged once and ignored.
            second = _alarm(d, 2)
            await _event_seen(w, "cluster_alarm", 2)
            for _ in range(3):
                w.c.publish(CMD, "reboot", qos=1)
            w.c.publish(CMD, json.dumps({"command": "ack", "by": "  " + "Anna" * 30 + "  "}), qos=1)
            await _until(lambda: _state(d, second)["state"] == "ACKNOWLEDGED", "the second alarm acknowledged")
            assert _state(d, second)["acked_by"] == ("Anna" * 30)[:100]
            odd = [(r.levelno, r.getMessage()) for r in caplog.records if "is no command" in r.getMessage()]
            assert [level for level, _ in odd] == [logging.WARNING, logging.DEBUG, logging.DEBUG], odd
            assert "b'reboot' on sw/cot/command is no command (ack or test): ignored" in odd[0][1], odd
            await d.stop()

    caplog.set_level(logging.DEBUG, logger="spasmwatch.alerts.channels.mqtt")
    run_then_close(main, w.stop)


def test_send_test_alarm_from_home_assistant_reaches_the_other_channels(tmp_path: Path, broker: Broker) -> None:
    w = Watcher(broker.port)

    async def main() -> None:
        async with http_recorder() as home:
            with Store(tmp_path / "db.sqlite") as store:
                hook = WebhookChannel(WebhookSettings(url=home.url + "/hook", name="webhook:home"))
                d = _daemon(store, {"mqtt": _mqtt(broker.port), "webhook:home": hook})
                _alarm(d, 1)  # (any notification opens the band's link; the daemon's status mirror does too)
                await _event_seen(w, "cluster_alarm")
                await _until(lambda: len(home.seen) == 1, "the alarm's webhook")

                w.c.publish(CMD, "test", qos=1)
                await _until(lambda: len(home.seen) == 2, "the test alarm's webhook")
                body = json.loads(home.seen[1].body)
                assert (body["kind"], body["device"], body["urgency"]) == ("test", "cot", "urgent"), body
                assert "sent by Home Assistant" in body["text"], body
                await _event_seen(w, "test")  # and back to Home Assistant on the band's event topic
                assert json.loads(w.last["sw/cot/alert"][0])["state"] == "ALARM"  # the alarm is untouched
                await d.stop()

    run_then_close(main, w.stop)


def test_a_retained_ack_left_on_the_broker_does_not_acknowledge_after_a_reconnect(tmp_path: Path, broker: Broker) -> None:
    """A retained command comes again at every subscribe: an automation that published "ack"
    with retain would acknowledge each next alarm as soon as the link reconnected."""
    w = Watcher(broker.port)
    proxy = MqttProxy(broker.port)

    def cleared() -> int:
        with w.cond:
            return sum(t == CMD and p == b"" for t, p in w.seen)

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            w.c.publish(CMD, "ack", qos=1, retain=True).wait_for_publish(WAIT_S)  # left from an earlier press
            d = _daemon(store, {"mqtt": _mqtt(proxy.port)})
            first = _alarm(d, 1)
            await _event_seen(w, "cluster_alarm")
            await asyncio.to_thread(w.wait_until, lambda: cleared() == 1, "the retained ack cleared")
            await asyncio.sleep(NOTHING_S)
            assert _state(d, first)["state"] == "ALARM"

            # A press published with retain acts (it comes live), and stays on the broker ...
            w.c.publish(CMD, "ack", qos=1, retain=True)
            await _until(lambda: _state(d, first)["state"] == "ACKNOWLEDGED", "the live press")
            second = _alarm(d, 2)
            await _event_seen(w, "cluster_alarm", 2)
            # ... until the link reconnects: it comes retained, and is ignored and cleared.
            proxy.cut()
            await asyncio.to_thread(w.wait_until, lambda: cleared() == 2, "the retained ack cleared after the reconnect")
            await asyncio.sleep(NOTHING_S)
            assert _state(d, second)["state"] == "ALARM"
            w.c.publish(CMD, "ack", qos=1)  # subscribed again after the reconnect: a press works
            await _until(lambda: _state(d, second)["state"] == "ACKNOWLEDGED", "a press after the reconnect")
            await d.stop()

    run_then_close(main, w.stop, proxy.close)


def _late_watcher(port: int) -> Watcher:
    """A subscriber that comes after the discovery was published: what it gets was retained."""
    late = Watcher(port, "homeassistant/#")
    late.wait("homeassistant/sensor/spasmwatch_cot_muted_until/config")
    time.sleep(0.3)  # the rest of the retained burst
    return late


def test_the_buttons_are_discovered_retained(tmp_path: Path, broker: Broker) -> None:
    w = Watcher(broker.port)

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            d = _daemon(store, {"mqtt": _mqtt(broker.port)})
            _alarm(d, 1)
            await _event_seen(w, "cluster_alarm")  # (after the discovery, on the same connection)
            late = await asyncio.to_thread(_late_watcher, broker.port)
            try:
                buttons = {t: (json.loads(p), retained) for t, (p, retained) in late.last.items() if t.startswith("homeassistant/button/")}
                assert sorted(buttons) == ["homeassistant/button/spasmwatch_cot_acknowledge/config",
                                           "homeassistant/button/spasmwatch_cot_test_alarm/config"]  # fmt: skip
                ack, ack_retained = buttons["homeassistant/button/spasmwatch_cot_acknowledge/config"]
                test, test_retained = buttons["homeassistant/button/spasmwatch_cot_test_alarm/config"]
                assert ack_retained and test_retained
                for cfg, name, press, uid in ((ack, "Acknowledge alarm", "ack", "acknowledge"), (test, "Send test alarm", "test", "test_alarm")):
                    assert (cfg["name"], cfg["command_topic"], cfg["payload_press"], cfg["qos"], cfg["retain"]) == (name, CMD, press, 1, False), cfg
                    assert cfg["unique_id"] == f"spasmwatch_cot_{uid}" and cfg["has_entity_name"] is True, cfg
                    assert (cfg["availability_topic"], cfg["payload_available"], cfg["payload_not_available"]) == ("sw/cot/availability", "online", "offline")
                    assert cfg["device"]["identifiers"] == ["spasmwatch_cot"] and cfg["origin"]["name"] == "spasmwatch", cfg
                    assert "state_topic" not in cfg
            finally:
                late.stop()
            await d.stop()

    run_then_close(main, w.stop)


def test_commands_false_subscribes_to_nothing_and_offers_no_buttons(tmp_path: Path, broker: Broker) -> None:
    """With commands off, no subscription and no buttons; an earlier run's retained buttons (commands
    on then) are removed, or Home Assistant kept them for good, unavailable (they stayed on the broker)."""
    text = f"""
[channels.sound]
enabled = false
[channels.desktop]
enabled = false
[channels.mqtt]
enabled = true
host = "127.0.0.1"
port = {broker.port}
topic_prefix = "sw"
commands = false
"""
    channels = channels_from(from_dict(tomllib.loads(text), "config.toml"))
    assert isinstance(channels["mqtt"], MqttChannel) and channels["mqtt"].settings.commands is False
    w = Watcher(broker.port)
    for key in ("acknowledge", "test_alarm"):  # an earlier run's, with commands on
        w.c.publish(f"homeassistant/button/spasmwatch_cot_{key}/config", json.dumps({"name": key}), qos=1, retain=True).wait_for_publish(5)

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            d = _daemon(store, channels)
            first = _alarm(d, 1)
            await _event_seen(w, "cluster_alarm")
            w.c.publish(CMD, "ack", qos=1)
            w.c.publish(CMD, "test", qos=1)
            await asyncio.sleep(NOTHING_S)
            assert _state(d, first)["state"] == "ALARM"
            assert [e["kind"] for e in w.all("sw/cot/event")] == ["cluster_alarm"]  # no test alarm either
            late = await asyncio.to_thread(_late_watcher, broker.port)
            try:
                assert "homeassistant/binary_sensor/spasmwatch_cot_alarm/config" in late.last
                assert [t for t in late.last if t.startswith("homeassistant/button/")] == []
            finally:
                late.stop()
            await d.stop()

    run_then_close(main, w.stop)
