"""MQTT channel against a real mosquitto on 127.0.0.1 (started and stopped by the fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.alerts import BandFault, Notification, NoticeKind, Urgency
from spasmwatch.alerts.channels import BandStatus, ChannelError, Dispatcher, MqttChannel, MqttSettings, RetrySettings
from spasmwatch.alerts.channels.mqtt import LinkUnstable, MqttCommand, RateNotTaken

from servers import MqttProxy, Watcher, mqtt_topic, retained

from .conftest import Broker, band_notice, free_port, notice, start_broker, stop_broker

def test_alert_state_status_and_discovery_are_retained(broker: Broker) -> None:
    s = MqttSettings(port=broker.port, timeout_s=5)

    ch = MqttChannel(s)

    async def publish() -> None:
        await ch.send(band_notice(BandFault.BATTERY_LOW, True))
        await ch.send(notice())
        await ch.publish_status("cot", BandStatus(connected=True, battery_pct=14.0, worn=True, asleep=False, faults=("battery_low",)), 1.0)

    asyncio.run(publish())  # still connected: a late subscriber must get the retained state
    w = Watcher(broker.port)
    try:
        state = w.json("spasmwatch/cot/alert")
        assert w.last["spasmwatch/cot/alert"][1] is True  # retained
        assert state["state"] == "ALARM" and state["alarm"] is True and state["count"] == 3
        assert state["schema"] == "spasmwatch.alert_state/1" and state["started"] == "2024-03-05T08:58:20+00:00"
        status = w.json("spasmwatch/cot/status")
        assert status["faults"] == ["battery_low"] and status["band_state"] == "FAULT"
        assert status["battery_pct"] == 14.0 and status["worn"] is True and status["asleep"] is False
        assert status["last_cluster"] == {"started": "2024-03-05T08:58:20+00:00", "count": 3, "state": "ALARM",
                                          "cluster_key": 12}  # fmt: skip
        assert w.wait("spasmwatch/cot/availability") == b"online"
        alarm = w.json("homeassistant/binary_sensor/spasmwatch_cot_alarm/config")
        assert alarm["unique_id"] == "spasmwatch_cot_alarm"
        assert alarm["state_topic"] == "spasmwatch/cot/alert" and alarm["device_class"] == "safety"
        assert alarm["value_template"] == "{{ 'ON' if value_json.alarm else 'OFF' }}"
        assert alarm["availability_topic"] == "spasmwatch/cot/availability"
        assert (alarm["payload_available"], alarm["payload_not_available"]) == ("online", "offline")
        assert alarm["device"]["identifiers"] == ["spasmwatch_cot"] and alarm["device"]["manufacturer"] == "spasmwatch"
        battery = w.json("homeassistant/sensor/spasmwatch_cot_battery/config")
        assert battery["device_class"] == "battery" and battery["unit_of_measurement"] == "%"
        assert battery["state_topic"] == "spasmwatch/cot/status" and battery["device"] == alarm["device"]
        for entity in ("binary_sensor/spasmwatch_cot_worn", "binary_sensor/spasmwatch_cot_asleep",
                       "sensor/spasmwatch_cot_last_cluster", "binary_sensor/spasmwatch_cot_connected"):  # fmt: skip
            cfg = w.json(f"homeassistant/{entity}/config")
            assert cfg["unique_id"] == entity.split("/")[1] and "spasmwatch/cot/availability" in availability_topics(cfg)
        # What the band reported is available only while it is now's too (test_mqtt_band_availability.py).
        assert availability_topics(battery) == {"spasmwatch/cot/availability", "spasmwatch/cot/band_availability"}
        assert w.json("homeassistant/sensor/spasmwatch_cot_last_cluster/config")["device_class"] == "timestamp"
    finally:
        w.stop()
        asyncio.run(ch.close())


def test_events_and_state_follow_the_alert_then_clean_close_says_offline(broker: Broker) -> None:
    w = Watcher(broker.port)

    async def run() -> None:
        ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="sw"))
        await ch.send(notice())
        assert json.loads(w.wait("sw/cot/event"))["kind"] == "cluster_alarm"
        await ch.send(notice(NoticeKind.CLUSTER_CLOSED, id=8, state="CLOSED", urgency=Urgency.INFO))
        await ch.send(band_notice(BandFault.DISCONNECTED, True, id=9))
        await ch.close()

    try:
        asyncio.run(run())
        w.wait("sw/cot/availability", b"offline")
        state = w.json("sw/cot/alert")
        assert state["state"] == "CLOSED" and state["alarm"] is False
        assert w.json("sw/cot/event")["kind"] == "band_fault"
        status = w.json("sw/cot/status")
        assert status["band_state"] == "STALE" and status["connected"] is False
    finally:
        w.stop()


CHILD = """
import asyncio, sys, time
from spasmwatch.alerts.channels import MqttChannel, MqttSettings
async def main():
    ch = MqttChannel(MqttSettings(port={port}, timeout_s=5, keepalive_s=60))
    await ch.announce("cot")
asyncio.run(main())
print("ready", flush=True)
time.sleep(60)
"""


def test_last_will_says_offline_when_the_daemon_dies(broker: Broker) -> None:
    w = Watcher(broker.port, "spasmwatch/cot/availability")
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(port=broker.port)], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        w.wait("spasmwatch/cot/availability", b"online")
        child.kill()  # SIGKILL: no DISCONNECT, the broker must send the will
        child.wait(5)
        w.wait("spasmwatch/cot/availability", b"offline")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        w.stop()


def test_password_auth(auth_broker: Broker) -> None:
    good = MqttSettings(port=auth_broker.port, username="family", password="s3cret", timeout_s=5)
    bad = MqttSettings(port=auth_broker.port, username="family", password="wrong", timeout_s=5)

    async def run() -> None:
        ch = MqttChannel(good)
        await ch.send(notice())
        await ch.close()
        ch = MqttChannel(bad)
        with pytest.raises(ChannelError, match="refused the connection: Not authorized") as e:
            await ch.send(notice())
        assert not e.value.retryable
        await ch.close()

    asyncio.run(run())
    w = Watcher(auth_broker.port, username="family", password="s3cret")
    try:
        assert w.json("spasmwatch/cot/alert")["state"] == "ALARM"
    finally:
        w.stop()


def test_no_broker_is_a_retryable_error() -> None:
    async def run() -> None:
        ch = MqttChannel(MqttSettings(port=free_port(), timeout_s=0.5))
        with pytest.raises(ChannelError, match="no answer from MQTT broker 127.0.0.1") as e:
            await ch.send(notice())
        assert e.value.retryable
        await ch.close()

    asyncio.run(run())


def test_a_fault_cleared_without_a_notice_leaves_the_retained_status(broker: Broker) -> None:
    """Found by review: the status kept the channel's faults when the daemon's were empty, so a
    not-worn fault cleared while its notice was held (rate limit, quiet hours) stayed retained:
    Home Assistant showed "not worn" all night."""
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))

    async def publish() -> None:
        await ch.send(band_notice(BandFault.NOT_WORN, True))
        await ch.publish_status("cot", BandStatus(connected=True, worn=True, faults=()), 2.0)  # the engine: none now

    asyncio.run(publish())
    w = Watcher(broker.port)
    try:
        status = w.json("spasmwatch/cot/status")
        assert status["faults"] == [] and status["band_state"] == "OK"
    finally:
        w.stop()
        asyncio.run(ch.close())


@contextlib.contextmanager
def _band_status(broker: Broker) -> Iterator[tuple[Callable[[BandStatus], None], Watcher]]:
    """A channel that publishes band cot's status to ``broker`` (``publish``), and a watcher of it."""
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    w = Watcher(broker.port)
    try:
        yield (lambda status: asyncio.run(ch.publish_status("cot", status, 1.0))), w
    finally:
        w.stop()
        asyncio.run(ch.close())


def test_a_bands_mute_is_in_its_retained_status_until_it_ends(broker: Broker) -> None:
    """Found by review: a band's mute (its end and who set it, in /api/status, 'spasmwatch status'
    and the web page) was not in the MQTT status, so Home Assistant could not show a mute set for
    a bath and forgotten. It is retained as the rest of the status: the latest, null once ended."""
    with _band_status(broker) as (publish, w):
        publish(BandStatus(connected=True, muted_until=1709629800.0, muted_by="Mum"))
        status = w.json("spasmwatch/cot/status")
        assert (status["muted_until"], status["muted_by"]) == ("2024-03-05T09:10:00+00:00", "Mum")
        assert w.last["spasmwatch/cot/status"][1] is False  # live; a late subscriber gets it retained:
        late = Watcher(broker.port)
        try:
            assert late.json("spasmwatch/cot/status")["muted_until"] == "2024-03-05T09:10:00+00:00"
            assert late.last["spasmwatch/cot/status"][1] is True
        finally:
            late.stop()
        cfg = w.json("homeassistant/sensor/spasmwatch_cot_muted_until/config")
        assert cfg["state_topic"] == "spasmwatch/cot/status" and cfg["device_class"] == "timestamp"
        assert cfg["value_template"] == "{{ value_json.muted_until }}" and cfg["unique_id"] == "spasmwatch_cot_muted_until"
        assert cfg["json_attributes_template"] == "{{ {'muted_by': value_json.muted_by} | tojson }}"

        publish(BandStatus(connected=True))  # the mute ended (or was ended)
        w.wait_until(lambda: json.loads(w.last["spasmwatch/cot/status"][0])["muted_until"] is None, "the mute's end")
        assert json.loads(w.last["spasmwatch/cot/status"][0])["muted_by"] is None


def test_a_flapping_link_is_in_the_retained_status_and_a_home_assistant_problem_sensor_until_steady(broker: Broker) -> None:
    """Found by review: a flapping link (``link_unstable`` in /api/status, 'spasmwatch status' and the
    band card: it never raises 'band disconnected') was not in the MQTT status, so Home Assistant
    showed a connected band while each alarm came late by the seconds the link was down. It is
    retained as the rest of the status (the drops and since when, ISO 8601 UTC), with a problem
    binary_sensor; null, OFF, once the link is steady. Old code: no ``link_unstable`` at all."""
    with _band_status(broker) as (publish, w):
        publish(BandStatus(connected=True, link_unstable=LinkUnstable(37, 1709629800.0)))
        status = w.json("spasmwatch/cot/status")
        assert status["link_unstable"] == {"drops": 37, "since": "2024-03-05T09:10:00+00:00"}, status
        cfg = w.json("homeassistant/binary_sensor/spasmwatch_cot_link_unstable/config")
        assert (cfg["state_topic"], cfg["device_class"], cfg["unique_id"]) == ("spasmwatch/cot/status", "problem", "spasmwatch_cot_link_unstable")
        assert cfg["value_template"] == "{{ 'ON' if value_json.link_unstable else 'OFF' }}"
        assert cfg["json_attributes_template"] == "{{ (value_json.link_unstable or {}) | tojson }}"
        assert cfg["availability_topic"] == "spasmwatch/cot/availability"  # the daemon's finding, not the band's report

        publish(BandStatus(connected=True))  # a link stayed up: steady again
        w.wait_until(lambda: json.loads(w.last["spasmwatch/cot/status"][0])["link_unstable"] is None, "the steady link")


def test_a_rate_the_band_would_not_take_is_in_the_retained_status_and_a_home_assistant_diagnostic_entity(broker: Broker) -> None:
    """A configured rate_hz the band would not take (``rate_not_taken`` in /api/status, 'spasmwatch
    status' and the band card) is retained in the MQTT status as the rest of it, with a Home
    Assistant *diagnostic* binary_sensor: a note for whoever set the rate, not a problem the family
    must see (monitoring goes on at the band's own rate), so not on the default dashboard and no
    ``device_class: problem``. Null, OFF, once the band runs the rate. Old code: not on MQTT at all."""
    with _band_status(broker) as (publish, w):
        publish(BandStatus(connected=True, rate_not_taken=RateNotTaken(104, 50.0)))
        status = w.json("spasmwatch/cot/status")
        assert status["rate_not_taken"] == {"configured_hz": 104, "running_hz": 50.0}, status
        cfg = w.json("homeassistant/binary_sensor/spasmwatch_cot_rate_not_taken/config")
        assert (cfg["state_topic"], cfg["entity_category"], cfg["unique_id"]) == ("spasmwatch/cot/status", "diagnostic", "spasmwatch_cot_rate_not_taken")
        assert "device_class" not in cfg, cfg  # not a problem: the band is monitored
        assert cfg["value_template"] == "{{ 'ON' if value_json.rate_not_taken else 'OFF' }}"
        assert cfg["json_attributes_template"] == "{{ (value_json.rate_not_taken or {}) | tojson }}"
        assert cfg["availability_topic"] == "spasmwatch/cot/availability"  # the daemon's finding, kept while the band is away

        publish(BandStatus(connected=True, rate_not_taken=RateNotTaken(104, None)))  # a rate it did not report
        w.wait_until(lambda: w.latest("spasmwatch/cot/status")["rate_not_taken"] == {"configured_hz": 104, "running_hz": None}, "no running rate")
        publish(BandStatus(connected=True))  # flashed: it runs the rate
        w.wait_until(lambda: w.latest("spasmwatch/cot/status")["rate_not_taken"] is None, "the rate taken")


def test_the_end_of_a_cluster_whose_alarm_is_still_open_keeps_the_alarm_on(broker: Broker) -> None:
    """Found by review: the 'Cluster ended' notice of an alarm nobody acknowledged said state
    CLOSED: Home Assistant's alarm sensor went OFF (and a webhook heard 'closed') while the alarm
    was still open, escalating and waiting on the page for someone to acknowledge it."""
    from spasmwatch.alerts import AlertEngine, AlertSettings
    from spasmwatch.alerts.channels import Dispatcher

    now = [1_709_629_200.0]
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    w = Watcher(broker.port)

    async def run() -> None:
        d = Dispatcher({"mqtt": ch})
        engine = AlertEngine(lambda: now[0], d.submit, AlertSettings(escalate_after_s=120.0))
        engine.on_spasm("cot", 12, 3, started_t=now[0] - 30)
        await d.drain()
        now[0] += 40
        engine.on_cluster_closed("cot", 12)
        await d.drain()
        ended = latest("spasmwatch/cot/alert", now[0])
        assert ended["state"] == "ALARM" and ended["alarm"] is True  # still to acknowledge
        (alert,) = engine.snapshot()["alerts"]
        engine.ack(alert["id"], "Anna")
        await d.drain()
        await d.close()

    def latest(topic: str, t: float) -> Any:
        """The payload published at engine time ``t`` (the watcher hears it a moment after the broker)."""
        deadline = time.monotonic() + 10
        while (p := w.json(topic))["updated_t"] != t and time.monotonic() < deadline:
            time.sleep(0.02)
        return p

    try:
        asyncio.run(asyncio.wait_for(run(), 30))
        acked = latest("spasmwatch/cot/alert", now[0])
        # Acknowledged after its cluster ended, the alarm closes at once, and the retained state says so
        # (it stayed ACKNOWLEDGED for good: the close that followed was not told).
        assert acked["state"] == "CLOSED" and acked["alarm"] is False
    finally:
        w.stop()


def test_the_alert_says_apart_an_alarm_to_see_to_and_a_cluster_going_on(broker: Broker) -> None:
    """Found by a scripted night with every channel real: the retained alert said ``alarm: true``
    under the title "Cluster ended" until someone acknowledged it, and nothing said whether the
    cluster was still going on. ``alarm`` keeps its documented meaning (an alarm nobody has
    acknowledged: a siren until someone sees to it); ``cluster_active`` is the cluster going on
    now (a light while it lasts), whoever acknowledged. Two clusters: one ends unacknowledged, then
    is acknowledged; the other is acknowledged while it goes on, then ends. Home Assistant gets a
    binary sensor for each. Old code: no ``cluster_active``."""
    from spasmwatch.alerts import AlertEngine, AlertSettings
    from spasmwatch.alerts.channels import Dispatcher

    now = [1_709_629_200.0]
    w = Watcher(broker.port)
    seen: list[tuple[str, str, bool, bool]] = []

    async def run() -> None:
        d = Dispatcher({"mqtt": MqttChannel(MqttSettings(port=broker.port, timeout_s=5))})
        engine = AlertEngine(lambda: now[0], d.submit, AlertSettings(escalate_after_s=600.0))

        async def step(what: Callable[[], object]) -> None:
            now[0] += 10
            what()
            await d.drain()
            p = _alert_at(w, now[0])
            seen.append((p["title"].split(" (")[0], p["state"], p["alarm"], p["cluster_active"]))

        def ack() -> None:
            (alert,) = (a for a in engine.snapshot()["alerts"] if a["state"] != "CLOSED")
            engine.ack(alert["id"], "Anna")

        for key, story in ((12, ("spasm", "end", "ack")), (13, ("spasm", "ack", "end"))):
            for act in story:
                await step({"spasm": lambda: engine.on_spasm("cot", key, 3, started_t=now[0] - 30),
                            "end": lambda: engine.on_cluster_closed("cot", key), "ack": ack}[act])  # fmt: skip
        await d.close()

    try:
        asyncio.run(asyncio.wait_for(run(), 30))
        assert seen == [
            ("ALARM: possible spasm cluster", "ALARM", True, True),
            ("Cluster ended, alarm NOT acknowledged", "ALARM", True, False),  # nobody has seen to it: still the siren, no more the light
            ("Alarm acknowledged by Anna", "CLOSED", False, False),
            ("ALARM: possible spasm cluster", "ALARM", True, True),
            ("Alarm acknowledged by Anna", "ACKNOWLEDGED", False, True),  # seen to, still going on
            ("Cluster ended, alarm acknowledged by Anna", "CLOSED", False, False),
        ], seen
        active = w.json("homeassistant/binary_sensor/spasmwatch_cot_cluster_active/config")
        assert active["state_topic"] == "spasmwatch/cot/alert" and active["unique_id"] == "spasmwatch_cot_cluster_active"
        assert active["value_template"] == "{{ 'ON' if value_json.cluster_active else 'OFF' }}", active
    finally:
        w.stop()


def _alert_at(w: Watcher, t: float) -> Any:
    """The retained alert published at engine time ``t`` (the watcher hears it a moment after the broker)."""
    deadline = time.monotonic() + 10
    while (p := w.json("spasmwatch/cot/alert"))["updated_t"] != t and time.monotonic() < deadline:
        time.sleep(0.02)
    return p


def test_the_alert_sent_while_the_broker_was_down_is_retained_once_it_is_back(tmp_path: Path) -> None:
    """Found by review: a notification that could not reach the broker (down, restarting: a Home
    Assistant add-on update) was never remembered, so the reconnect re-published the state from
    before it: Home Assistant showed no alarm (and the old status) until the next cluster."""
    b = start_broker(tmp_path)
    ch = MqttChannel(MqttSettings(port=b.port, timeout_s=1))

    async def before() -> None:
        await ch.send(notice(NoticeKind.CLUSTER_CLOSED, id=1, alert_id=1, state="CLOSED", urgency=Urgency.INFO, cluster_key=11))

    async def while_down() -> None:
        with pytest.raises(ChannelError):
            await ch.send(notice())  # the alarm of cluster 12 (the dispatcher gives up after its retries)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(before())
        stop_broker(b)
        loop.run_until_complete(while_down())
        # The same broker comes back, empty (no persistence).
        b = start_broker(tmp_path, port=b.port)
        w = Watcher(b.port)
        try:
            deadline = time.monotonic() + 20  # paho reconnects within seconds
            while w.last.get("spasmwatch/cot/status") is None or w.json("spasmwatch/cot/status")["last_cluster"]["cluster_key"] != 12:
                assert time.monotonic() < deadline, f"retained after the reconnect: {w.last.get('spasmwatch/cot/alert')}"
                time.sleep(0.05)
            alert = w.json("spasmwatch/cot/alert")
            assert alert["state"] == "ALARM" and alert["alarm"] is True and alert["cluster_key"] == 12
        finally:
            w.stop()
    finally:
        loop.run_until_complete(ch.close())
        loop.close()
        stop_broker(b)


# ---- one event per notification, none lost, over a broker or a network that fails mid-publish ----

EVENT = "spasmwatch/cot/event"
RETRY = RetrySettings(attempts=6, first_delay_s=0.2, factor=1.0, attempt_timeout_s=10.0)


class Hooked:
    """The real MQTT channel, for a real Dispatcher; ``on_failure(attempt)`` runs as an attempt
    fails, so the test breaks or mends the broker or the network between the dispatcher's retries."""

    network = True

    def __init__(self, ch: MqttChannel, on_failure: Callable[[int], None]) -> None:
        self.ch, self.on_failure, self.attempts = ch, on_failure, 0

    @property
    def name(self) -> str:
        return self.ch.name

    @property
    def min_urgency(self) -> Urgency:
        return self.ch.min_urgency

    async def send(self, n: Notification) -> None:
        self.attempts += 1
        try:
            await self.ch.send(n)
        except ChannelError:
            self.on_failure(self.attempts)
            raise

    async def close(self) -> None:
        await self.ch.close()


def heard(w: Watcher, n: Notification) -> list[Any]:
    """The events of ``n`` the subscriber got (by id: the old payload had no key)."""
    return [e for e in w.all(EVENT) if (e["id"], e["created_t"]) == (n.id, n.created_t)]


async def hears(w: Watcher, n: Notification, what: str) -> None:
    """Wait (in a thread: the subscriber blocks) until the subscriber has heard ``n``'s event."""
    await asyncio.to_thread(w.wait_until, lambda: len(heard(w, n)) > 0, what)


FIRST = notice()
NEXT = notice(NoticeKind.CLUSTER_UPDATE, id=8, count=5, urgency=Urgency.HIGH, created_t=FIRST.created_t + 60)


async def once_then_next(d: Dispatcher, w: Watcher, first_ok: bool = True) -> None:
    """``FIRST`` through ``d`` (the test breaks things meanwhile); then ``NEXT``, which the link sends
    after everything of ``FIRST``: once it is heard, every copy of ``FIRST`` there will be was heard."""
    [res] = await d.dispatch(FIRST)
    assert res.ok is first_ok, res
    [res] = await d.dispatch(NEXT)
    assert res.ok, res
    await hears(w, NEXT, "the next notification's event")
    await d.close()


def test_a_retry_while_the_broker_stops_answering_sends_the_event_once(broker: Broker) -> None:
    """Found by review: a publish the broker did not acknowledge within timeout_s (stopped: busy,
    swapping, an add-on update) failed the attempt, and the retry published the event again while
    paho still held the first, which it sends on its own: the broker got it three times, and Home
    Assistant ran an automation on the event (flash the lights, call a phone) three times."""
    w = Watcher(broker.port)
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=1))

    def on_failure(attempt: int) -> None:
        if attempt == 2:
            broker.proc.send_signal(signal.SIGCONT)  # answers again: it reads the publishes waiting for it

    async def run() -> None:
        await ch.announce("cot")
        await asyncio.to_thread(w.wait, "spasmwatch/cot/availability", b"online")  # subscribed
        broker.proc.send_signal(signal.SIGSTOP)  # alive, connection open, answers nothing
        d = Dispatcher({"mqtt": Hooked(ch, on_failure)}, retry=RETRY)
        await once_then_next(d, w)

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        got = heard(w, FIRST)
        assert len(got) == 1, f"the event of one notification arrived {len(got)} times"
        assert got[0]["key"] == FIRST.key == "cot-3-7-1709629200000"
        assert len(heard(w, NEXT)) == 1
    finally:
        broker.proc.send_signal(signal.SIGCONT)
        w.stop()


def test_a_retry_over_a_dropped_connection_sends_the_event_once(broker: Broker) -> None:
    """Found by review: the link stopped carrying mid-publish (Wi-Fi, a router), the attempts ran out
    of time, the retry published the event again, and after the reconnect paho sent both."""
    proxy = MqttProxy(broker.port)
    w = Watcher(broker.port)  # straight to the broker: hears everything that reaches it
    ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=1))

    def on_failure(attempt: int) -> None:
        if attempt == 2:
            proxy.lose = None
            proxy.cut()  # the connection drops; paho reconnects (1 s) and sends what it held

    async def run() -> None:
        await ch.announce("cot")
        await asyncio.to_thread(w.wait, "spasmwatch/cot/availability", b"online")
        proxy.lose = lambda packet: True  # the link carries nothing any more, and nobody says so
        d = Dispatcher({"mqtt": Hooked(ch, on_failure)}, retry=RETRY)
        await once_then_next(d, w)

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        assert any(mqtt_topic(p) == EVENT for p in proxy.lost)  # the first publish never reached the broker
        got = heard(w, FIRST)
        assert len(got) == 1, f"the event of one notification arrived {len(got)} times"
        assert len(heard(w, NEXT)) == 1
    finally:
        proxy.close()
        w.stop()


def test_a_retry_after_the_event_got_through_does_not_send_it_again(broker: Broker) -> None:
    """Found by review: the event was acknowledged but the retained alert after it was not, and the
    retry of the whole notification published the event a second time."""
    proxy = MqttProxy(broker.port)
    w = Watcher(broker.port)
    ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=1))

    def on_failure(attempt: int) -> None:
        proxy.lose = None

    async def run() -> None:
        await ch.announce("cot")
        await asyncio.to_thread(w.wait, "spasmwatch/cot/availability", b"online")
        proxy.lose = lambda packet: mqtt_topic(packet) == "spasmwatch/cot/alert"
        d = Dispatcher({"mqtt": Hooked(ch, on_failure)}, retry=RETRY)
        await once_then_next(d, w)

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        assert proxy.lost  # the alert of the first attempt was lost
        assert len(heard(w, FIRST)) == 1, f"the event arrived {len(heard(w, FIRST))} times"
        assert w.json("spasmwatch/cot/alert")["count"] == 5  # the retained state is the latest
    finally:
        proxy.close()
        w.stop()


def test_an_event_paho_dropped_unacknowledged_is_published_again(broker: Broker) -> None:
    """Never lost either: when paho no longer holds an event the broker never acknowledged (its
    queue dropped, e.g. a client reset), the retry publishes it again rather than wait for nothing.
    (A naive 'publish once per notification' loses it here.)"""
    proxy = MqttProxy(broker.port)
    w = Watcher(broker.port)
    ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=1))

    def on_failure(attempt: int) -> None:
        if attempt == 1:
            dropped = ch._links["cot"].client.drop_out_messages()
            assert [m.topic for m in dropped] == [EVENT]
            proxy.lose = None
            proxy.cut()

    async def run() -> None:
        await ch.announce("cot")
        await asyncio.to_thread(w.wait, "spasmwatch/cot/availability", b"online")
        proxy.lose = lambda packet: True
        d = Dispatcher({"mqtt": Hooked(ch, on_failure)}, retry=RETRY)
        await once_then_next(d, w)

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        assert len(heard(w, FIRST)) == 1
    finally:
        proxy.close()
        w.stop()


def test_an_event_whose_retries_ran_out_while_the_broker_was_unreachable_is_sent_when_it_is_back(broker: Broker) -> None:
    """Found by review: a notification sent while the broker could not be reached (restarting, the
    network gone, the computer started before it) for longer than the dispatcher's retries never
    reached paho, so its event was lost for good (the retained alert came back, the event did
    not): an automation on the alarm never ran."""
    proxy = MqttProxy(broker.port)
    proxy.refuse = True
    w = Watcher(broker.port)
    ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=0.5))

    async def run() -> None:
        d = Dispatcher({"mqtt": ch}, retry=RetrySettings(attempts=2, first_delay_s=0.1, attempt_timeout_s=10.0))
        [res] = await d.dispatch(FIRST)
        assert not res.ok and "no answer from MQTT broker" in (res.error or "")  # the dispatcher gave up
        proxy.refuse = False  # paho's next reconnect (within 2 s) gets through
        await hears(w, FIRST, "the event of the failed notification")
        [res] = await d.dispatch(NEXT)
        assert res.ok, res
        await hears(w, NEXT, "the next notification's event")
        await d.close()

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        assert len(heard(w, FIRST)) == 1
        assert w.json("spasmwatch/cot/alert")["count"] == 5
    finally:
        proxy.close()
        w.stop()


def test_a_retry_of_an_alarm_whose_held_event_was_dropped_as_acknowledged_does_not_send_it(broker: Broker) -> None:
    """Events paho held while the broker was unreachable are decided on as the link reconnects
    (outbox.why_not_resend: the alarm acknowledged meanwhile is dropped). A dispatcher retry of that
    alarm, still under way, found the event no longer held and published it again: Home Assistant
    got the alarm after all. It is refused instead, not retried."""
    from spasmwatch.alerts.channels.outbox import why_not_resend

    proxy = MqttProxy(broker.port)
    proxy.refuse = True
    w = Watcher(broker.port)
    states = {FIRST.alert_id: "ALARM"}  # as the daemon's store has them
    ack = notice(NoticeKind.CLUSTER_ACKNOWLEDGED, id=8, state="ACKNOWLEDGED", urgency=Urgency.NORMAL, created_t=FIRST.created_t + 60)
    ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=1),
                     why_not_resend=lambda n, in_flight=False: why_not_resend(n, states.get(n.alert_id), 0.0, 900.0, in_flight))  # fmt: skip

    def on_failure(attempt: int) -> None:
        if attempt == 1:
            states[FIRST.alert_id] = "ACKNOWLEDGED"  # someone saw to it meanwhile
            proxy.refuse = False  # and the broker is back: paho reconnects within its retries

    async def run() -> None:
        d = Dispatcher({"mqtt": Hooked(ch, on_failure)}, retry=RETRY)
        [res] = await d.dispatch(FIRST)
        assert not res.ok and f"event {FIRST.key} not sent: its alert is ACKNOWLEDGED now" in (res.error or ""), res
        assert res.attempts < RETRY.attempts  # refused for good, not retried
        [res] = await d.dispatch(ack)
        assert res.ok, res
        await hears(w, ack, "the acknowledgement's event")
        await d.close()

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        assert heard(w, FIRST) == [], "the event of an alarm acknowledged before it went out was sent"
    finally:
        proxy.close()
        w.stop()


def test_a_retained_alert_paho_held_from_before_a_reconnect_does_not_overwrite_the_latest(broker: Broker) -> None:
    """Found by review: paho sends the messages it held after on_connect returns, so after the link's
    re-say of the latest retained state: a cluster's CLOSED held from a connection that died, then a
    new cluster's ALARM while the broker was unreachable, and Home Assistant's alarm went OFF on the
    reconnect, and stayed off, with the alarm open."""
    proxy = MqttProxy(broker.port)
    w = Watcher(broker.port)
    ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=0.5))
    alarm11 = notice(id=1, alert_id=1, cluster_key=11, created_t=FIRST.created_t - 600)
    closed11 = notice(NoticeKind.CLUSTER_CLOSED, id=2, alert_id=1, cluster_key=11, state="CLOSED",
                      urgency=Urgency.INFO, created_t=FIRST.created_t - 300)  # fmt: skip
    alarm12 = FIRST  # alert 3, cluster 12

    async def run() -> None:
        await ch.announce("cot")
        await ch.send(alarm11)
        proxy.lose = lambda packet: mqtt_topic(packet) != EVENT  # the connection dies right after the event
        with pytest.raises(ChannelError, match="alert not confirmed"):
            await ch.send(closed11)  # paho holds its alert (CLOSED) and status
        proxy.refuse, proxy.lose = True, None
        proxy.cut()
        with pytest.raises(ChannelError):
            await ch.send(alarm12)  # remembered, to be re-said on the reconnect
        proxy.refuse = False
        await hears(w, alarm12, "the alarm's event after the reconnect")
        await ch.close()

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        late = Watcher(broker.port)  # what the broker retains, as Home Assistant sees it on a restart
        try:
            alert, status = late.json("spasmwatch/cot/alert"), late.json("spasmwatch/cot/status")
            assert (alert["state"], alert["alarm"], alert["cluster_key"]) == ("ALARM", True, 12), alert
            assert status["last_cluster"]["cluster_key"] == 12
        finally:
            late.stop()
    finally:
        proxy.close()
        w.stop()


def test_the_paho_internals_the_channel_reads_are_there() -> None:
    """mqtt.py reads which messages paho still holds (to send an event once) from paho 2.x's
    internals; without them it falls back to publishing again (duplicates, never a lost alarm).
    An upgrade that moves them must fail here, not quietly bring the duplicates back."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2)
    assert isinstance(client._out_messages, dict) and hasattr(client._out_message_mutex, "__enter__")
    info = client.publish("t", b"x", qos=1)  # no connection: paho holds it
    held = client._out_messages[info.mid]
    assert held.info is info and held.state == paho.mqtt_ms_publish and held.retain is False


# ---- retained state: the latest wins, whatever order the publishes waiting on the broker finish in ----

STATUS = "spasmwatch/cot/status"


def _held(ch: MqttChannel, topic: str) -> list[bytes]:
    """The payloads of ``topic`` paho holds (handed over, not yet acknowledged)."""
    client = ch._links["cot"].client
    with client._out_message_mutex:
        return [m.payload for m in client._out_messages.values() if m.topic == topic]


async def _until(ok: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not ok():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


def test_a_status_published_while_a_notification_waits_on_the_broker_stays_the_retained_one(broker: Broker) -> None:
    """Found by review: publish_status (the daemon's view of the band) runs outside the dispatcher's
    lock, and a notification sent its status payload, computed before it waited for the broker,
    after it: the band taken off the baby during quiet hours (worn: false, the fault held) and the
    retained status said worn, all night, as the daemon publishes a status on change only."""
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))

    async def run() -> None:
        await ch.publish_status("cot", BandStatus(connected=True, worn=True), 1.0)
        broker.proc.send_signal(signal.SIGSTOP)  # a slow broker: both wait for its answers
        d = Dispatcher({"mqtt": ch}, retry=RETRY)
        sent = asyncio.ensure_future(d.dispatch(FIRST))
        await _until(lambda: bool(_held(ch, EVENT)), "the notification's event handed to paho")
        off = BandStatus(connected=True, worn=False, faults=("not_worn",))
        newer = asyncio.ensure_future(ch.publish_status("cot", off, 2.0))
        await _until(lambda: any(b'"worn": false' in p for p in _held(ch, STATUS)), "the newer status handed to paho")
        broker.proc.send_signal(signal.SIGCONT)
        [res] = await sent
        assert res.ok, res
        await newer
        await d.close()

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        late = Watcher(broker.port)  # what the broker retains: what Home Assistant shows
        try:
            status = late.json(STATUS)
            assert (status["worn"], status["faults"]) == (False, ["not_worn"]), status
            assert status["last_cluster"]["cluster_key"] == 12  # and the notification's part is kept
        finally:
            late.stop()
    finally:
        broker.proc.send_signal(signal.SIGCONT)


def test_a_restored_alarm_mirrored_after_a_newer_notification_does_not_bring_its_state_back(broker: Broker) -> None:
    """Found by review: mirror() (a restored alarm, shown again after a restart) runs outside the
    dispatcher's lock, whenever the daemon's MQTT task gets to it; after a notification of the same
    alarm (escalated, acknowledged, closed) it put the older state back on the retained alert."""
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    restored = notice(id=1)  # made by the engine's restore, before anything else about the alarm
    closed = notice(NoticeKind.CLUSTER_ACKNOWLEDGED, id=2, state="CLOSED", urgency=Urgency.NORMAL, created_t=FIRST.created_t + 60)

    async def run() -> None:
        await ch.send(closed)
        await ch.mirror(restored)
        await ch.close()

    asyncio.run(asyncio.wait_for(run(), 20))
    late = Watcher(broker.port)
    try:
        alert, status = late.json("spasmwatch/cot/alert"), late.json(STATUS)
        assert (alert["state"], alert["alarm"]) == ("CLOSED", False), alert
        assert status["last_cluster"]["state"] == "CLOSED", status
    finally:
        late.stop()


# ---- an event the broker has not acknowledged when the daemon stops: the next start sends it ----


def test_an_event_unacknowledged_when_the_daemon_stops_is_sent_once_by_the_next_start(broker: Broker, tmp_path: Path) -> None:
    """Found by review: the events paho still held when the daemon stopped (the network stopped
    carrying, the broker unreachable or slow) were lost with it: a family's Home Assistant
    automation never heard of that alarm. Kept in the store, the next start sends them, once, with
    their key."""
    from spasmwatch.alerts import AlertEngine
    from spasmwatch.store import Store

    proxy = MqttProxy(broker.port)
    w = Watcher(broker.port)  # straight to the broker: hears everything that reaches it
    s = MqttSettings(port=proxy.port, timeout_s=0.5)
    db = tmp_path / "spasmwatch.db"
    sent: list[Notification] = []

    async def first_run() -> None:
        with Store(db) as store:
            ch = MqttChannel(s, outbox=store)
            await ch.announce("cot")
            await asyncio.to_thread(w.wait, "spasmwatch/cot/availability", b"online")
            proxy.lose = lambda packet: True  # the link carries nothing any more, and nobody says so
            d = Dispatcher({"mqtt": ch}, retry=RetrySettings(attempts=2, first_delay_s=0.1, attempt_timeout_s=10.0))
            engine = AlertEngine(time.time, lambda n: (sent.append(n), d.submit(n)))
            engine.on_spasm("cot", 12, 3, started_t=time.time() - 30)
            await d.drain()
            assert [(n.kind, r.ok) for n, r in zip(sent, d.deliveries)] == [(NoticeKind.CLUSTER_ALARM, False)]
            await d.close()  # the daemon stops; the broker never had the event
            assert [r.key for r in store.outgoing("mqtt")] == [sent[0].key]

    async def next_start() -> None:
        with Store(db) as store:
            ch = MqttChannel(s, outbox=store)
            assert ch.resend_kept() == 1
            d = Dispatcher({"mqtt": ch}, retry=RETRY)
            [res] = await d.dispatch(NEXT)  # sent after it: once heard, every copy there will be was
            assert res.ok, res
            await hears(w, NEXT, "the next notification's event")
            await d.close()
            assert store.outgoing("mqtt") == []  # acknowledged: a third start sends nothing

    try:
        asyncio.run(asyncio.wait_for(first_run(), 20))
        assert any(mqtt_topic(p) == EVENT for p in proxy.lost) and not heard(w, sent[0])
        proxy.lose = None
        asyncio.run(asyncio.wait_for(next_start(), 20))
        got = [e for e in w.all(EVENT) if e["key"] == sent[0].key]
        assert len(got) == 1, f"the kept event arrived {len(got)} times"
        assert (got[0]["kind"], got[0]["alert_id"], got[0]["count"]) == ("cluster_alarm", sent[0].alert_id, 3)
    finally:
        proxy.close()
        w.stop()


def test_an_event_the_broker_acknowledges_while_the_daemon_stops_is_not_kept(broker: Broker, tmp_path: Path) -> None:
    """The stop waits (up to timeout_s) for a slow broker: an event it acknowledges meanwhile is
    not sent again by the next start (a second run of every automation on it)."""
    from spasmwatch.store import Store

    w = Watcher(broker.port)

    async def run() -> None:
        with Store(tmp_path / "spasmwatch.db") as store:
            ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5), outbox=store)
            await ch.announce("cot")
            await asyncio.to_thread(w.wait, "spasmwatch/cot/availability", b"online")
            broker.proc.send_signal(signal.SIGSTOP)
            d = Dispatcher({"mqtt": ch}, retry=RetrySettings(attempts=1, attempt_timeout_s=0.5))
            [res] = await d.dispatch(FIRST)
            assert not res.ok and [r.key for r in store.outgoing("mqtt")] == [FIRST.key]
            closing = asyncio.ensure_future(d.close())
            await asyncio.sleep(0.1)  # the stop is waiting for the broker
            broker.proc.send_signal(signal.SIGCONT)
            await closing
            assert store.outgoing("mqtt") == []
            assert MqttChannel(MqttSettings(port=broker.port), outbox=store).resend_kept() == 0

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        w.wait("spasmwatch/cot/availability", b"offline")
        assert len(heard(w, FIRST)) == 1
    finally:
        broker.proc.send_signal(signal.SIGCONT)
        w.stop()


@pytest.mark.parametrize("down", ["before_the_stop", "while_it_waits"])
def test_a_stop_does_not_wait_for_acknowledgements_over_a_link_that_is_down_and_keeps_the_events(
    broker: Broker, tmp_path: Path, down: str
) -> None:
    """Found by review: with the broker unreachable a stop waited the whole timeout_s (10 s) for
    PUBACKs that cannot come before the link reconnects. A link known down (or going down while
    the stop waits) is not waited for; its events stay kept, and the next start sends them.
    timeout_s is far past the test's own bound, so a stop that waited for it fails here."""
    from spasmwatch.store import Store

    proxy = MqttProxy(broker.port)
    w = Watcher(broker.port)
    db = tmp_path / "spasmwatch.db"

    async def run() -> None:
        with Store(db) as store:
            store.keep_outgoing("mqtt", FIRST.key, "cot", json.dumps(FIRST.to_json()), FIRST.created_t, int(FIRST.urgency), 500)
            ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=600), outbox=store)
            await ch.announce("cot")
            link = ch._links["cot"]
            if down == "before_the_stop":
                proxy.refuse = True  # unreachable from now on
                proxy.cut()
                await _until(lambda: not link.connected.is_set(), "the link known down")
            else:
                proxy.lose = lambda packet: True  # up, but nothing arrives: the stop waits
            assert ch.resend_kept() == 1  # an earlier run's event (no waiting for the broker), to paho
            closing = asyncio.ensure_future(ch.close())
            try:
                if down == "while_it_waits":
                    await asyncio.sleep(0.2)
                    assert not closing.done()  # waiting for the PUBACK while the link is up
                    proxy.refuse = True
                    proxy.cut()
                await asyncio.wait_for(asyncio.shield(closing), 20)
            except TimeoutError:
                raise AssertionError("the stop waits for acknowledgements over a link that is down") from None
            finally:
                proxy.refuse, proxy.lose = False, None  # a stop still waiting gets its PUBACK: the test ends
                await closing
            assert [r.key for r in store.outgoing("mqtt")] == [FIRST.key]  # kept for the next start

    async def next_start() -> None:
        with Store(db) as store:
            ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=5), outbox=store)
            assert ch.resend_kept() == 1
            d = Dispatcher({"mqtt": ch}, retry=RETRY)
            [res] = await d.dispatch(NEXT)
            assert res.ok, res
            await hears(w, NEXT, "the next notification's event")
            await d.close()
            assert store.outgoing("mqtt") == []

    try:
        asyncio.run(asyncio.wait_for(run(), 60))  # 60: a stop that waits ends when the broker is back
        assert heard(w, FIRST) == []
        asyncio.run(asyncio.wait_for(next_start(), 20))
        assert len(heard(w, FIRST)) == 1
    finally:
        proxy.close()
        w.stop()


def test_an_event_goes_out_when_the_store_cannot_keep_it(broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A store that cannot write (a full disk, closed) must not hold up an alarm: the event is sent,
    only not kept across a restart, and the log says so."""
    from spasmwatch.store import Store

    store = Store(tmp_path / "spasmwatch.db")
    store.close()  # every call now raises StoreError
    w = Watcher(broker.port)

    async def run() -> None:
        ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5), outbox=store)
        await ch.send(FIRST)
        await ch.close()

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        w.wait_until(lambda: len(heard(w, FIRST)) > 0, "the event")
        assert "could not keep cot-3-7-1709629200000 in the outbox" in caplog.text
    finally:
        w.stop()


@pytest.mark.parametrize("connected_first", [False, True])
@pytest.mark.parametrize("state", ["CLOSED", "ALARM"])
def test_a_start_re_says_the_alert_state_kept_only_when_it_is_no_alarm(broker: Broker, tmp_path: Path, state: str, connected_first: bool) -> None:
    """The latest alert state of the last run is re-said when it cannot turn an alarm on (a CLOSED
    the broker never had); an alarm is the restore's to re-say, which knows whether it is still
    open: one closed since must not come back from the store. The CLOSED was only remembered for
    the next connect, so a link already up never sent it (1 run in 6-10 under load, where paho's
    thread connected before the state was remembered; connected_first makes that order certain)."""
    from spasmwatch.alerts.channels.mqtt import alert_state
    from spasmwatch.store import Store

    w = Watcher(broker.port)
    kept = notice(NoticeKind.CLUSTER_ACKNOWLEDGED, state=state, urgency=Urgency.NORMAL)

    async def run() -> None:
        with Store(tmp_path / "spasmwatch.db") as store:
            store.keep_retained("mqtt", "cot", "alert", json.dumps(alert_state(kept)))  # as the last run left it
            ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5), outbox=store)
            if connected_first:  # the link up before the kept state is read (it connects as soon as it is opened)
                await ch.announce("cot")
            assert ch.resend_kept() == 0  # no event
            await ch.publish_status("cot", BandStatus(connected=False), 5.0)
            await ch.close()

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
        w.wait("spasmwatch/cot/availability", b"offline")  # said after everything else
        last_cluster = w.json(STATUS)["last_cluster"]
        if state == "CLOSED":
            assert (w.json("spasmwatch/cot/alert")["state"], last_cluster["state"]) == ("CLOSED", "CLOSED")
        else:
            assert "spasmwatch/cot/alert" not in w.last and last_cluster is None
    finally:
        w.stop()


def availability_topics(cfg: dict[str, Any]) -> set[str]:
    """The topics a discovery config's availability follows (one ``availability_topic``, or an ``availability`` list)."""
    return {a["topic"] for a in cfg["availability"]} if "availability" in cfg else {cfg["availability_topic"]}


def _under(prefix: str, got: dict[str, bytes]) -> list[str]:
    return sorted(t for t in got if t.startswith(prefix + "/"))


def test_a_channel_retired_for_another_prefix_deletes_its_topics_but_not_the_discovery_its_successor_says(broker: Broker) -> None:
    """A reload's order at its worst: the new channel (prefix "swb", same broker) has published its
    discovery configs (the same topics as the old one's, now pointing at "swb") before the old
    channel ("swa") retires. The old one deletes "swa"'s alert, status and availability, and
    leaves the configs; a channel that cleared all it had retained took Home Assistant's entities away."""
    old = MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="swa"))
    new = MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="swb"))

    async def run() -> None:
        await old.send(notice())
        await new.send(notice())
        await old.retire([new.settings])
        try:
            got = await asyncio.to_thread(retained, broker.port)
            assert not _under("swa", got), sorted(got)
            assert _under("swb", got) == ["swb/cot/alert", "swb/cot/availability", "swb/cot/band_availability", "swb/cot/status"], sorted(got)
            configs = [t for t in got if t.startswith("homeassistant/")]
            assert len(configs) == 13, sorted(got)  # (no daemon to act: no buttons)
            assert all("swb/cot/availability" in availability_topics(json.loads(got[t])) for t in configs)
            assert set().union(*(availability_topics(json.loads(got[t])) for t in configs)) == {
                "swb/cot/availability", "swb/cot/band_availability"}
        finally:
            await new.close()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_a_channel_retired_with_no_successor_on_its_broker_deletes_everything_it_retained(broker: Broker, tmp_path: Path) -> None:
    """The reload moved MQTT to another broker (same prefix, so the same topics): the old broker
    keeps nothing, Home Assistant's configs included (also those of the buttons and the heartbeat
    sensor, which a channel may have removed with an empty config). A plain close, by contrast,
    keeps them and says "offline" (a restart keeps Home Assistant's entities)."""

    def act(_c: MqttCommand) -> None:  # something to act on commands: the buttons are offered
        pass

    (tmp_path / "other").mkdir()
    other = start_broker(tmp_path / "other")
    s = MqttSettings(port=broker.port, timeout_s=5)

    async def run() -> None:
        closed = MqttChannel(s, on_command=act)
        await closed.send(notice())
        await closed.close()
        got = await asyncio.to_thread(retained, broker.port)
        assert got["spasmwatch/cot/availability"] == b"offline" and len([t for t in got if t.startswith("homeassistant/")]) == 15

        ch = MqttChannel(s, on_command=act)
        await ch.send(notice())
        await ch.retire([MqttSettings(port=other.port)])
        got = await asyncio.to_thread(retained, broker.port)
        assert not got, sorted(got)

    try:
        asyncio.run(asyncio.wait_for(run(), 60))
    finally:
        stop_broker(other)


def test_a_channel_retired_while_its_broker_is_away_says_what_stays_and_does_not_hang(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing can be deleted from a broker that is gone: the retirement gives up on it after
    timeout_s and names the topics left and how to delete them, rather than hanging the reload's
    errand. Not timed (the old test: < 5 s): the broker never comes back, so a retirement that
    waited for it fails the bound of ``wait_for``; one that gave up says why."""
    b = start_broker(tmp_path)
    # (5 s: the first send's PUBACK is waited for within it too, and on a loaded CI machine 1 s was
    # once not enough for it, failing the send before the broker went)
    ch = MqttChannel(MqttSettings(port=b.port, timeout_s=5, prefix="swa"))

    async def run() -> None:
        await ch.send(notice())
        stop_broker(b)
        await ch.retire()

    asyncio.run(asyncio.wait_for(run(), 60))
    assert "mqtt: the retained topics of cot stay on the broker" in caplog.text, caplog.text
    # Either the link saw the broker go (no reconnect within timeout_s) or not yet (no PUBACK within it).
    gave_up = (f"MQTT broker 127.0.0.1:{b.port} not reachable (reconnecting)", "retained topic(s) within 5 s")
    assert any(why in caplog.text for why in gave_up), caplog.text
    assert f"'mosquitto_pub -h 127.0.0.1 -p {b.port} -r -n -t TOPIC'" in caplog.text, caplog.text


def test_a_channel_retired_for_one_on_the_same_topics_leaves_them_online(broker: Broker) -> None:
    """A reload that changed only, say, timeout_s: the new channel retains the very same topics
    (and has said 'online' already here). The old one deletes nothing and says no 'offline': a
    close (as before this change) would leave Home Assistant showing the band unavailable."""
    old = MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="sw"))
    new = MqttChannel(MqttSettings(port=broker.port, timeout_s=6, prefix="sw"))

    async def run() -> None:
        await old.send(notice())
        await new.send(notice())
        before = await asyncio.to_thread(retained, broker.port)
        await old.retire([new.settings])
        try:
            after = await asyncio.to_thread(retained, broker.port)
            assert after == before and after["sw/cot/availability"] == b"online", sorted(after)
        finally:
            await new.close()

    asyncio.run(asyncio.wait_for(run(), 60))
