"""A daemon restarted while its band is away: Home Assistant must not read the band as connected.

The run before was stopped while the band streamed, so the broker retains its status saying
``connected: true``. The new run, with the band out of range, must say at its start that the
band is not connected (and its values are not now's), before the band ever connects again, and
what it last reported, as the store kept it, not nothing.
The real firmware under micropython, bleak over the simulated radio, SQLite on disk, a real
mosquitto on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from servers import Watcher, retained, start_broker, stop_broker

from spasmwatch.alerts.channels.mqtt import MqttChannel, MqttSettings
from spasmwatch.clock import ScaledClock
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import State
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.simband import SimBand, free_port

from .test_cli import cli
from .test_daemon_crash import start_daemon, wait

SPEED = 4
WAIT_S = 60.0
STATUS = "spasmwatch/band0000/status"
AVAILABILITY = "spasmwatch/band0000/availability"
BAND_AV = "spasmwatch/band0000/band_availability"


async def _until(ok: Callable[[], object], what: str) -> None:
    end = time.monotonic() + WAIT_S
    while not ok():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("taken_on", ["start", "reload"])
def test_a_band_away_after_a_restart_is_said_not_connected_with_its_last_known_values(tmp_path: Path, cluster_csv: Path, taken_on: str) -> None:
    """The run before stopped while the band streamed (the broker keeps ``connected: true``), the
    band out of range since. The restarted daemon, the band configured at its start or added by a
    reload, says on MQTT, before the band connects: not connected, band_availability offline, and
    its last values (battery, worn) as the store last heard them, with when; the page's and
    /api/status's ``status()`` the same. Old code: ``connected: false`` but battery_pct and worn
    null on MQTT, the page and /api/status (the store's last STATUS was read for its time only)."""
    broker = start_broker(tmp_path)
    watcher = Watcher(broker.port, "spasmwatch/#")
    port = free_port()
    spec = BandSpec("crib", lambda: open_link("sim", f"127.0.0.1:{port}", bond_file=tmp_path / "bonds.json"))
    clock = ScaledClock(time.time(), SPEED)
    mqtt = lambda: {"mqtt": MqttChannel(MqttSettings(host="127.0.0.1", port=broker.port))}  # noqa: E731
    got = lambda topic: watcher.last.get(topic, (b"",))[0]  # noqa: E731

    async def main() -> None:
        with Store(tmp_path / "spasmwatch.db") as store:
            band = SimBand(cluster_csv, tmp_path / "flash", port=port, hold=True, speed=SPEED, device_id="band0000",
                           idle_exit_ms=500, timeout_s=120)  # fmt: skip
            first = Daemon(store, [spec], mqtt(), clock=clock)
            await first.start()
            try:
                await _until(lambda: got(BAND_AV) == b"online" and watcher.latest(STATUS).get("battery_pct") is not None,
                             "the band streaming on MQTT")  # fmt: skip
            finally:
                await first.stop()  # the band streaming: the broker keeps "connected: true"
                band.kill()  # and it is out of range before the next run
            assert watcher.latest(STATUS)["connected"] is True and got(AVAILABILITY) == b"offline"
            before = first.status()["bands"][0]
            stored = sum(1 for _ in store.status_history("band0000"))
            assert before["battery_pct"] is not None
            second = Daemon(store, [spec] if taken_on == "start" else [], mqtt(), clock=clock)
            await second.start()
            try:
                if taken_on == "reload":
                    second.add_band(spec)
                await _until(lambda: got(AVAILABILITY) == b"online", "the restarted daemon online on MQTT")
                await _until(lambda: watcher.latest(STATUS).get("connected") is False, "the band said not connected")
                assert second.bands[0].session.state is not State.STREAMING  # (it never connected)
                status = watcher.latest(STATUS)
                assert (status["battery_pct"], status["worn"]) == (before["battery_pct"], before["worn"])
                assert status["last_known_at"] is not None and got(BAND_AV) == b"offline"
                page = second.status()["bands"][0]
                assert page["connected"] is False and page["last_seen"] == before["last_seen"] == page["last_known_at"]
                assert (page["battery_pct"], page["worn"]) == (before["battery_pct"], before["worn"])
            finally:
                await second.stop()
            assert sum(1 for _ in store.status_history("band0000")) == stored, "the last report stored again at the stop"

    try:
        asyncio.run(main())
    finally:
        watcher.stop()
        stop_broker(broker)


def test_spasmwatch_run_killed_while_the_band_streamed_and_restarted_with_it_away_says_it_not_connected(
    tmp_path: Path, cluster_csv: Path
) -> None:
    """``spasmwatch run`` SIGKILLed while the band streamed (no clean-up: its will says the daemon
    offline, its status stays ``connected: true``), the band out of range, the daemon started
    again: before the band connects, MQTT says it not connected, band_availability offline, with
    the battery the store last kept, and 'spasmwatch status --json' (/api/status as served) the
    same. Old code: battery_pct null on MQTT and in /api/status."""
    broker = start_broker(tmp_path)
    watcher = Watcher(broker.port, "spasmwatch/#")
    origin = time.time()
    band = SimBand(cluster_csv, tmp_path / "flash", hold=True, speed=SPEED, device_id="band0000", idle_exit_ms=500, timeout_s=150)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[daemon.http]\nport = {free_port()}\n\n[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "{band.address}"\n\n'
        f'[channels.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker.port}\n\n'
        "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n"
    )
    logs = tmp_path / "daemon.log"
    got = lambda topic: watcher.last.get(topic, (b"",))[0]  # noqa: E731
    d = start_daemon(config, logs, origin)
    try:
        wait(lambda: got(BAND_AV) == b"online" and watcher.latest(STATUS).get("battery_pct") is not None, 90, "the band streaming on MQTT", logs)
        d.send_signal(signal.SIGKILL)
        d.wait(10)
        band.kill()  # out of range before the next start
        wait(lambda: got(AVAILABILITY) == b"offline", 30, "the killed daemon's will", logs)
        assert watcher.latest(STATUS)["connected"] is True  # what a restart must not leave
        with Store.open_readonly(tmp_path / "data" / "spasmwatch.db") as s:
            last = s.latest_status("band0000")
        assert last is not None and last.battery_pct is not None
        d = start_daemon(config, logs, origin)
        wait(lambda: got(AVAILABILITY) == b"online" and watcher.latest(STATUS).get("connected") is False, 60, "the band said not connected", logs)
        status = watcher.latest(STATUS)
        assert status["battery_pct"] == last.battery_pct and status["last_known_at"] is not None
        assert got(BAND_AV) == b"offline"
        js = json.loads(cli(config, "status", "--json").stdout)["bands"][0]
        assert js["connected"] is False and js["battery_pct"] == last.battery_pct
        assert js["last_seen"] == js["last_known_at"] == last.received_wall_s
    finally:
        if d.poll() is None:
            d.kill()
        band.kill()
        watcher.stop()
        stop_broker(broker)


OLD_T = 1_790_000_000.0  # (2026-09-21T14:13:20Z) when the earlier run published the band's status, the band streaming
EARLIER = {"schema": "spasmwatch.status/1", "device": "band0000", "band_state": "OK", "faults": [], "connected": True,
           "battery_pct": 81, "worn": True, "asleep": True, "last_known_at": None, "last_cluster": None,
           "muted_until": None, "muted_by": None, "channels_failing": [], "heartbeat": None, "updated_t": OLD_T}  # fmt: skip
OTHER = "spasmwatch/band0001"  # a band another daemon on the same broker streams now: not this one's to correct
QUICK_S = 20.0  # the start's check takes a round trip to the broker (timeout_s 10 s at most)


def _earlier_run(port: int, availability: bytes) -> None:
    """What an earlier run left retained: band0000 streaming (stopped cleanly or killed: its
    availability ``offline``), and another daemon's band0001 streaming now."""
    c = paho.Client(CallbackAPIVersion.VERSION2)
    c.connect("127.0.0.1", port, 30)
    c.loop_start()
    try:
        msgs = {STATUS: json.dumps(EARLIER).encode(), BAND_AV: b"online", AVAILABILITY: availability,
                f"{OTHER}/status": json.dumps(EARLIER | {"device": "band0001"}).encode(),
                f"{OTHER}/band_availability": b"online", f"{OTHER}/availability": b"online"}  # fmt: skip
        for info in [c.publish(topic, payload, qos=1, retain=True) for topic, payload in msgs.items()]:
            info.wait_for_publish(10)
    finally:
        c.disconnect()
        c.loop_stop()


def _store(tmp_path: Path, case: str) -> Store:
    """The store as the restarted daemon finds it: unreadable, or knowing band0000 as "crib", with
    the alert state the earlier run kept for it (a restart re-says it: the device's link opens)."""
    path = tmp_path / "spasmwatch.db"
    if case == "store unreadable":
        path.write_bytes(random.Random(7).randbytes(20_000))
        return Store.may_fail(path)
    store = Store(path)
    store.upsert_device("band0000", name="crib", address="sim:0", transport="sim", board="sim", firmware="sim")
    state = {"alarm": False, "started": None, "count": 3, "state": "CLOSED", "cluster_key": 1}
    store.keep_retained("mqtt", "band0000", "alert", json.dumps(state))
    return store


@pytest.mark.parametrize(
    ("case", "bands"),
    [("store unreadable", ["crib"]), ("label renamed", ["nursery"]), ("band removed", [])],
)  # fmt: skip
def test_a_band_an_earlier_run_left_connected_and_not_heard_this_run_is_said_not_connected(
    tmp_path: Path, case: str, bands: list[str]
) -> None:
    """An earlier run left band0000 retained as connected (the band streaming as it stopped). This
    run does not hear it under that id: its store unreadable at the start, the band's entry renamed
    ("crib" -> "nursery"), or the band taken out of the config while the daemon was stopped; the
    band itself away. At its start the daemon says it not connected, band_availability offline,
    its values kept with when they were last known (the earlier status's time), and does not say
    it ``online`` on its behalf (an earlier ``offline`` stays, unless a link this run opened for it
    said otherwise, as the renamed entry's kept alert state does); another daemon's band
    streaming on the same broker is left alone. Old code: ``connected: true`` stayed until the
    band connected, with its device ``online`` in the renamed and removed cases: Home Assistant's
    "Band connected" read ON for a band nobody heard."""
    broker = start_broker(tmp_path)
    _earlier_run(broker.port, b"offline")
    watcher = Watcher(broker.port, "spasmwatch/#")
    nowhere = free_port()  # no band listens: it is away
    specs = [BandSpec(label, lambda: open_link("sim", f"127.0.0.1:{nowhere}", bond_file=tmp_path / "bonds.json")) for label in bands]
    mqtt = MqttChannel(MqttSettings(host="127.0.0.1", port=broker.port))

    async def main() -> None:
        with _store(tmp_path, case) as store:
            d = Daemon(store, specs, {"mqtt": mqtt}, store_retry_s=3600)
            await d.start()
            try:
                end = time.monotonic() + QUICK_S
                while watcher.latest(STATUS).get("connected") is not False:
                    assert time.monotonic() < end, f"still {watcher.latest(STATUS)}"
                    await asyncio.sleep(0.05)
                said = watcher.latest(STATUS)
                # link_unstable: null, a band not heard has no flapping link (its earlier run's, if any, is over)
                assert said | {"connected": True, "last_known_at": None} == EARLIER | {"updated_t": said["updated_t"], "link_unstable": None}
                assert said["last_known_at"] == "2026-09-21T14:13:20+00:00" and said["updated_t"] > OLD_T
                assert retained(broker.port)[BAND_AV] == b"offline"
                linked = case != "store unreadable"  # the kept alert state re-said: the device's link is open
                while (on := await asyncio.to_thread(retained, broker.port))[AVAILABILITY] != b"online" and linked:  # (that link may open after the correction)
                    assert time.monotonic() < end, f"the device's link never said online: {on[AVAILABILITY]!r}"
                    await asyncio.sleep(0.05)
                assert on[AVAILABILITY] == (b"online" if linked else b"offline")
                assert (on[f"{OTHER}/band_availability"], json.loads(on[f"{OTHER}/status"])["connected"]) == (b"online", True)
                assert all(b.device is None for b in d.bands)  # (never heard)
            finally:
                await d.stop()

    try:
        asyncio.run(main())
    finally:
        watcher.stop()
        stop_broker(broker)
