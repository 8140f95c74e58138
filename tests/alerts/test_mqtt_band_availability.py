"""Home Assistant shows a band's reported values (battery, worn, asleep) unavailable while they are
not now's, against a real mosquitto on 127.0.0.1 (started and stopped by the fixtures).

Before, their entities followed the daemon's availability alone: a band out of range read
"worn, asleep, battery 78 %" in Home Assistant as if current, while the page and 'spasmwatch
status' said "last known at 02:41". ``ha_available`` is Home Assistant's rule for a discovery
config's availability (an ``availability`` list with ``availability_mode: all``, or one
``availability_topic``), applied to what the broker retains.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from typing import Any

import paho.mqtt.client as paho
import paho.mqtt.publish as publish
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from spasmwatch.alerts.channels import BandStatus, ChannelError, MqttChannel, MqttSettings

from servers import MQTT_WAIT_S, MqttProxy, Watcher, mqtt_topic, retained

from .conftest import Broker

DEV = "cot"
# Entity (component/key) -> whether it shows what the band reported (battery, worn, asleep).
ENTITIES = {
    "sensor/battery": True, "binary_sensor/worn": True, "binary_sensor/asleep": True,
    "binary_sensor/connected": False, "binary_sensor/alarm": False, "binary_sensor/cluster_active": False,
    "sensor/alert_state": False, "sensor/last_cluster": False, "sensor/muted_until": False,
    "binary_sensor/channels_failing": False, "binary_sensor/channels_changed": False, "binary_sensor/link_unstable": False,
    "binary_sensor/rate_not_taken": False,
}  # fmt: skip
STREAMING = BandStatus(connected=True, battery_pct=78.0, worn=True, asleep=True)
AWAY_T = 1_700_000_000.0  # when the band was last heard (the daemon's last_known_at)
AWAY = BandStatus(connected=False, battery_pct=78.0, worn=True, asleep=True, faults=("disconnected",), last_known_at=AWAY_T)


def ha_available(cfg: dict[str, Any], on_broker: dict[str, bytes]) -> bool:
    """Whether Home Assistant shows the entity of discovery config ``cfg`` available, by the retained ``on_broker``."""
    if "availability" in cfg:
        assert "availability_topic" not in cfg, "Home Assistant refuses availability beside availability_topic"
        checks = [(a["topic"], a.get("payload_available", "online")) for a in cfg["availability"]]
        assert cfg.get("availability_mode") == "all", cfg.get("availability_mode")
        return all(on_broker.get(topic) == ok.encode() for topic, ok in checks)
    return on_broker.get(cfg["availability_topic"]) == cfg["payload_available"].encode()


def availabilities(port: int) -> dict[str, bool]:
    """Entity -> whether Home Assistant shows it available, by what the broker retains now."""
    on_broker = retained(port)
    out = {}
    for entity in ENTITIES:
        component, key = entity.split("/")
        out[entity] = ha_available(json.loads(on_broker[f"homeassistant/{component}/spasmwatch_{DEV}_{key}/config"]), on_broker)
    return out


def only_band_values(available: bool) -> dict[str, bool]:
    """The band's reported values ``available``, every other entity available."""
    return {entity: (available if band else True) for entity, band in ENTITIES.items()}


def test_a_band_out_of_range_has_its_reported_values_unavailable_and_back_available(broker: Broker) -> None:
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    w = Watcher(broker.port, f"spasmwatch/{DEV}/#")
    try:
        asyncio.run(ch.publish_status(DEV, STREAMING, 1.0))
        w.wait(f"spasmwatch/{DEV}/band_availability", b"online")
        assert availabilities(broker.port) == only_band_values(True)
        assert w.json(f"spasmwatch/{DEV}/status")["last_known_at"] is None

        asyncio.run(ch.publish_status(DEV, AWAY, 2.0))  # out of range: the values are its last report's
        w.wait(f"spasmwatch/{DEV}/band_availability", b"offline")
        assert availabilities(broker.port) == only_band_values(False)
        status = w.json(f"spasmwatch/{DEV}/status")
        # Still there for whoever reads the status: with when they were reported.
        assert status["last_known_at"] == "2023-11-14T22:13:20+00:00" and status["battery_pct"] == 78.0
        assert status["connected"] is False and status["band_state"] == "STALE"

        asyncio.run(ch.publish_status(DEV, STREAMING, 3.0))  # back in range
        w.wait(f"spasmwatch/{DEV}/band_availability", b"online")
        assert availabilities(broker.port) == only_band_values(True)
        assert w.json(f"spasmwatch/{DEV}/status")["last_known_at"] is None
    finally:
        w.stop()
        asyncio.run(ch.close())


def test_a_band_said_away_before_it_ever_reported_is_not_available(broker: Broker) -> None:
    """A reload renamed a band that had connected but not yet sent its first STATUS (its values
    unknown, last_known_at None: under load in test_reload's renamed-band test): band_away said it
    not connected and kept band_availability ``online``: Home Assistant showed it connected OFF
    beside its values as if now's. Old code: band_availability stayed online."""
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    w = Watcher(broker.port, f"spasmwatch/{DEV}/#")
    try:
        asyncio.run(ch.publish_status(DEV, BandStatus(connected=True), 1.0))
        w.wait(f"spasmwatch/{DEV}/band_availability", b"online")

        async def away() -> None:
            sending = ch.band_away(DEV, None, 2.0)
            assert sending is not None
            await sending

        asyncio.run(away())
        w.wait(f"spasmwatch/{DEV}/band_availability", b"offline")
        assert w.json(f"spasmwatch/{DEV}/status")["connected"] is False
    finally:
        w.stop()
        asyncio.run(ch.close())


CHILD = """
import asyncio, time
from spasmwatch.alerts.channels import BandStatus, MqttChannel, MqttSettings
async def main():
    ch = MqttChannel(MqttSettings(port={port}, timeout_s=5, keepalive_s=60))
    await ch.publish_status("cot", BandStatus(connected=True, battery_pct=78.0, worn=True, asleep=True), 1.0)
asyncio.run(main())
print("ready", flush=True)
time.sleep(60)
"""


def test_the_daemon_killed_makes_everything_unavailable_and_a_restart_with_the_band_away_keeps_its_values_unavailable(
    broker: Broker,
) -> None:
    w = Watcher(broker.port, f"spasmwatch/{DEV}/#")
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(port=broker.port)], stdout=subprocess.PIPE)
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        w.wait(f"spasmwatch/{DEV}/band_availability", b"online")
        child.kill()  # SIGKILL: no goodbye; the broker sends the will
        child.wait(5)
        w.wait(f"spasmwatch/{DEV}/availability", b"offline")
        # The band's topic still says online (nobody said otherwise): the will alone makes all unavailable.
        assert retained(broker.port)[f"spasmwatch/{DEV}/band_availability"] == b"online"
        assert availabilities(broker.port) == dict.fromkeys(ENTITIES, False)

        # A restart, the band away: the link is up before the daemon has said anything of the band
        # (it announces at start); the earlier run's retained "online" must not pass for now's.
        asyncio.run(ch.announce(DEV))
        w.wait(f"spasmwatch/{DEV}/availability", b"online")
        w.wait(f"spasmwatch/{DEV}/band_availability", b"offline")
        assert availabilities(broker.port) == only_band_values(False)
        asyncio.run(ch.publish_status(DEV, AWAY, 2.0))  # the daemon's first status: last heard by the run before
        w.wait_until(lambda: w.latest(f"spasmwatch/{DEV}/status").get("last_known_at") is not None, "the restart's status")
        assert availabilities(broker.port) == only_band_values(False)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        w.stop()
        asyncio.run(ch.close())


def test_the_starts_correction_leaves_a_band_this_run_said_and_says_only_the_others_not_connected(broker: Broker) -> None:
    """An earlier run left two bands retained as streaming, cot and crib. This run hears cot (its
    status said, connected with now's values) before the start's check runs: cot keeps this run's
    word; crib, not heard, is said not connected with its values last known then, unavailable
    in Home Assistant. Old code: no such check (crib stayed connected: true)."""
    earlier = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    asyncio.run(earlier.publish_status(DEV, STREAMING, 1.0))
    asyncio.run(earlier.publish_status("crib", STREAMING, 1.0))
    asyncio.run(earlier.close())
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    try:
        asyncio.run(ch.publish_status(DEV, STREAMING, 50.0))  # this run's, heard
        assert asyncio.run(ch.say_unheard_away(60.0)) == ["crib"]
        on_broker = retained(broker.port)
        cot, crib = (json.loads(on_broker[f"spasmwatch/{d}/status"]) for d in (DEV, "crib"))
        assert (cot["connected"], cot["updated_t"], on_broker[f"spasmwatch/{DEV}/band_availability"]) == (True, 50.0, b"online")
        assert (crib["connected"], crib["battery_pct"], crib["last_known_at"], crib["updated_t"]) == (False, 78.0, "1970-01-01T00:00:01+00:00", 60.0)
        assert on_broker["spasmwatch/crib/band_availability"] == b"offline"
        assert on_broker["spasmwatch/crib/availability"] == b"offline"  # (the earlier run's stop; not said online for it)
        assert availabilities(broker.port) == only_band_values(True)  # cot's entities, as this run said
    finally:
        asyncio.run(ch.close())


# More than mosquitto queues for a client at QoS 1 by default (max_queued_messages 1000, and 20
# in flight): an earlier run's status and availability for each of 600 bands.
MANY_BANDS = 600


def test_the_starts_correction_reads_more_retained_topics_than_the_broker_queues_at_qos_1(broker: Broker) -> None:
    """The start's scan reads every band's retained status and availability under the prefix.
    Subscribed at QoS 1, mosquitto queued at most 1020 of them for the scan's client and dropped the
    rest, its probe (the end of the list) among them: the scan timed out, nothing was corrected,
    and each start logged that it was not known. Old code: ChannelError after timeout_s."""
    levels = [f"b{i:03d}" for i in range(MANY_BANDS)]
    earlier = paho.Client(CallbackAPIVersion.VERSION2)
    earlier.connect("127.0.0.1", broker.port)
    earlier.loop_start()
    try:
        status = json.dumps({"connected": True, "battery_pct": 78.0, "updated_t": 1.0}).encode()
        sent = [earlier.publish(f"spasmwatch/{level}/{leaf}", payload, qos=1, retain=True)
                for level in levels for leaf, payload in (("status", status), ("availability", b"offline"))]  # fmt: skip
        for info in sent:
            info.wait_for_publish(MQTT_WAIT_S)
    finally:
        earlier.disconnect()
        earlier.loop_stop()
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    try:
        assert asyncio.run(ch.say_unheard_away(60.0)) == levels
    finally:
        asyncio.run(ch.close())
    for level in (levels[0], levels[-1]):
        w = Watcher(broker.port, f"spasmwatch/{level}/status")
        try:
            assert (w.json(f"spasmwatch/{level}/status")["connected"], w.last[f"spasmwatch/{level}/status"][1]) == (False, True)
        finally:
            w.stop()


def test_a_status_this_run_said_during_the_starts_correction_stays_the_latest_when_another_correction_fails(broker: Broker) -> None:
    """An earlier run left cot and crib streaming. The start's scan reads both and sends their
    corrections; cot connects meanwhile and this run says it connected (on cot's own link) before
    the scan's cot correction reaches the broker, and the broker never takes crib's (the relay
    drops it). The scan fails (crib's not taken), but cot's own status must still be the latest:
    re-sent after the correction, as when every correction is taken. Old code: raised before the
    re-send, and the broker kept cot 'connected: false' with band_availability offline while it
    streamed (the mirror says a status on change only: until its battery moved)."""
    earlier = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    for device in (DEV, "crib"):
        asyncio.run(earlier.publish_status(device, STREAMING, 1.0))
    asyncio.run(earlier.close())
    held, go = threading.Event(), threading.Event()

    def lose(packet: bytes) -> bool:
        """The scan's corrections (connected false): crib's lost, cot's held until cot's own status is through."""
        topic, correction = mqtt_topic(packet), b'"connected": false' in packet
        if correction and topic == f"spasmwatch/{DEV}/status":
            held.set()
            go.wait(MQTT_WAIT_S)
        return correction and topic == "spasmwatch/crib/status"

    proxy = MqttProxy(broker.port)
    proxy.lose = lose
    ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=2))

    async def main() -> None:
        scan = asyncio.create_task(ch.say_unheard_away(60.0))
        assert await asyncio.to_thread(held.wait, MQTT_WAIT_S), "the scan sent no correction for cot"
        await ch.publish_status(DEV, STREAMING, 50.0)  # cot heard: its link says it, taken by the broker
        go.set()
        try:
            await scan
            raise AssertionError("crib's correction was dropped: the scan must fail")
        except ChannelError as e:
            assert "spasmwatch/crib/status" in str(e), e

    try:
        asyncio.run(main())
        on_broker = retained(broker.port)
        cot = json.loads(on_broker[f"spasmwatch/{DEV}/status"])
        assert (cot["connected"], cot["updated_t"], on_broker[f"spasmwatch/{DEV}/band_availability"]) == (True, 50.0, b"online")
    finally:
        go.set()
        asyncio.run(ch.close())
        proxy.close()


@pytest.mark.parametrize("updated_t", ["1e300", "NaN", "-1e12"])
def test_a_retained_status_whose_time_is_no_time_does_not_stop_the_starts_correction(broker: Broker, updated_t: str) -> None:
    """A retained status under the prefix saying connected with an ``updated_t`` that is no time
    (another writer's, a hand-made one: JSON takes NaN and 1e300) is corrected with its values'
    time unknown, and the other bands as ever. Old code: OverflowError / ValueError out of
    say_unheard_away, every start: nothing corrected, a traceback in the log."""
    publish.single("spasmwatch/odd/status", f'{{"connected": true, "updated_t": {updated_t}}}', retain=True, port=broker.port)
    publish.single("spasmwatch/crib/status", json.dumps({"connected": True, "updated_t": 1.0}), retain=True, port=broker.port)
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    try:
        assert asyncio.run(ch.say_unheard_away(60.0)) == ["crib", "odd"]
    finally:
        asyncio.run(ch.close())
    on_broker = retained(broker.port)
    odd, crib = (json.loads(on_broker[f"spasmwatch/{d}/status"]) for d in ("odd", "crib"))
    assert (odd["connected"], odd["last_known_at"], odd["updated_t"]) == (False, None, 60.0)
    assert (crib["connected"], crib["last_known_at"]) == (False, "1970-01-01T00:00:01+00:00")


@pytest.mark.parametrize("payload", [b"\xff\xfe not UTF-8", b"not json", b"[" * 100_000, b'["connected", true]'], ids=["bytes", "text", "deep", "list"])
def test_a_retained_status_that_is_not_ours_is_passed_over_by_the_starts_correction(broker: Broker, payload: bytes) -> None:
    """A retained payload under ``{prefix}/+/status`` that is no status of ours is left as it is,
    and the others corrected. Old code: JSON nested 100,000 deep raised RecursionError (not a
    ValueError) out of say_unheard_away: nothing corrected, at every start."""
    publish.single("spasmwatch/odd/status", payload, retain=True, port=broker.port)
    publish.single("spasmwatch/crib/status", json.dumps({"connected": True, "updated_t": 1.0}), retain=True, port=broker.port)
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    try:
        assert asyncio.run(ch.say_unheard_away(60.0)) == ["crib"]
    finally:
        asyncio.run(ch.close())
    on_broker = retained(broker.port)
    assert on_broker["spasmwatch/odd/status"] == payload
    assert not [t for t in on_broker if "/_probe/" in t]  # the scan's probe (QoS 1, not retained) leaves nothing


def test_the_starts_correction_refused_by_the_broker_says_so(auth_broker: Broker) -> None:
    """A broker that refuses the channel's credentials: the scan's error names the refusal, as the
    band links' does, at the CONNACK. Old code: it waited out timeout_s and said the retained
    messages were 'not read within 2 s', as if the broker were slow (paho meanwhile retried the
    refused login once a second)."""
    ch = MqttChannel(MqttSettings(port=auth_broker.port, username="family", password="wrong", timeout_s=2))
    try:
        with pytest.raises(ChannelError) as e:
            asyncio.run(ch.say_unheard_away(60.0))
        assert f"MQTT broker 127.0.0.1:{auth_broker.port} refused the connection: Not authorized" in str(e.value), e.value
        assert not e.value.retryable
    finally:
        asyncio.run(ch.close())


def test_a_band_another_daemon_brings_online_while_the_start_reads_the_broker_is_left_to_it(broker: Broker) -> None:
    """Two daemons on one broker and prefix. crib is the other one's: its earlier run left it
    'connected: true', availability offline. This daemon's scan has read the retained list when
    the other daemon comes up and says crib online and streaming (live, not retained, to the
    scan's subscription), before the scan's probe closes the list: the scan must take what it
    heard last, crib online, and leave it. Old code: it read retained messages only, corrected the
    other daemon's live band to 'connected: false', band_availability offline (until crib's
    status next changed)."""
    earlier = MqttChannel(MqttSettings(port=broker.port, timeout_s=5))
    asyncio.run(earlier.publish_status("crib", STREAMING, 1.0))
    asyncio.run(earlier.close())
    held, go = threading.Event(), threading.Event()

    def lose(packet: bytes) -> bool:
        """The scan's probe held until the other daemon has said crib: the list stays open meanwhile."""
        if (mqtt_topic(packet) or "").startswith("spasmwatch/_probe/"):
            held.set()
            go.wait(MQTT_WAIT_S)
        return False

    proxy = MqttProxy(broker.port)
    proxy.lose = lose
    ours, other = MqttChannel(MqttSettings(port=proxy.port, timeout_s=5)), MqttChannel(MqttSettings(port=broker.port, timeout_s=5))

    async def main() -> list[str]:
        scan = asyncio.create_task(ours.say_unheard_away(60.0))
        assert await asyncio.to_thread(held.wait, MQTT_WAIT_S), "the scan sent no probe"
        await other.publish_status("crib", STREAMING, 50.0)  # the other daemon, up: crib online, streaming
        go.set()
        return await scan

    try:
        assert asyncio.run(main()) == []
        on_broker = retained(broker.port)
        crib = json.loads(on_broker["spasmwatch/crib/status"])
        assert (crib["connected"], crib["updated_t"], on_broker["spasmwatch/crib/band_availability"]) == (True, 50.0, b"online")
    finally:
        go.set()
        for ch in (ours, other):
            asyncio.run(ch.close())
        proxy.close()
