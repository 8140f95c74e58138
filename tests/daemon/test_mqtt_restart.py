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
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from servers import Watcher, start_broker, stop_broker

from spasmwatch.alerts.channels.mqtt import MqttChannel, MqttSettings
from spasmwatch.daemon.clock import ScaledClock
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
