"""MQTT channel against a real mosquitto on 127.0.0.1 (started and stopped by the fixtures)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.alerts import BandFault, NoticeKind, Urgency
from spasmwatch.alerts.channels import BandStatus, ChannelError, MqttChannel, MqttSettings

from servers import Watcher

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
            assert cfg["unique_id"] == entity.split("/")[1] and cfg["availability_topic"].endswith("/availability")
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
