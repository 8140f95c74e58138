"""A broker that stalls does not hold up a serial band's alarm (the daemon's other threads).

Found by review: MQTT waited for its broker in ``asyncio.to_thread``, whose default pool (6 threads
on 2 cores) also read every serial band and resolved the webhook's host name until 2026-12-06 (now
their own threads: serial.PORT_THREADS, lookups.py) and reopens the store; each MQTT channel's
start scan held a thread for ``timeout_s``. With as many channels on a broker that never answers as
the pool has threads, a USB band's port did not even open until they gave up. Shown by order, not
by time: the alarm reaches the webhook (by host name) and its events the store while nothing has
yet said the stalled broker failed.

Real parts: the band's firmware under micropython behind the USB CDC stand-in (SerialLink over
pyserial), the daemon in-process, its store on disk, the webhook on aiohttp, a black-hole listener.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path

import pytest
from servers import BlackHole, http_recorder

from spasmwatch.alerts import NoticeKind
from spasmwatch.alerts.channels import RetrySettings
from spasmwatch.alerts.channels.base import Channel
from spasmwatch.alerts.channels.mqtt import MqttChannel, MqttSettings
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings
from spasmwatch.clock import ScaledClock
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.cdcbridge import CdcBridge
from spasmwatch.transport.simband import SimBand

# How long each MQTT wait may take (s): far longer than the band needs to bring its alarm (about
# 10 s at speed 4), so that on the old code the alarm came only after the start scans gave up.
STALL_S = 60.0


def default_pool_size() -> int:
    """The threads of asyncio's default executor (ThreadPoolExecutor's default since Python 3.8)."""
    return min(32, (os.cpu_count() or 1) + 4)


def test_a_stalled_broker_does_not_hold_up_a_serial_bands_alarm(tmp_path: Path, quick_cluster_csv: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Old code: the MQTT channels' start scans took every thread of the default pool; the band's
    port opened, and its alarm came, only after they gave up (warned of first)."""
    hole = BlackHole()
    broker = f"127.0.0.1:{hole.port}"
    said_at_alarm: list[str] = []

    def stalled_broker_said() -> list[str]:
        return [r.getMessage() for r in caplog.records if broker in r.getMessage()]

    async def main() -> None:
        async with http_recorder() as hook:
            channels: dict[str, Channel] = {"webhook": WebhookChannel(WebhookSettings(url=hook.url.replace("127.0.0.1", "localhost") + "/alert"))}
            for i in range(default_pool_size()):
                channels[f"mqtt{i}"] = MqttChannel(MqttSettings(port=hole.port, timeout_s=STALL_S, name=f"mqtt{i}"))
            with SimBand(quick_cluster_csv, tmp_path / "flash", hold=True, speed=4, device_id="usb00001", idle_exit_ms=500) as band:
                bridge = CdcBridge(band.address, bond_file=tmp_path / "bonds.json")
                await bridge.start()
                with Store(tmp_path / "db.sqlite") as store:
                    d = Daemon(store, [BandSpec("cot-usb", lambda: open_link("serial", bridge.url))], channels, clock=ScaledClock(time.time(), 4))
                    # One short try a send: the stop waits for the MQTT sends to fail (their words name
                    # no broker: the order shown is the start scans', which wait timeout_s).
                    d.dispatcher.retry = RetrySettings(attempts=1, attempt_timeout_s=5.0)
                    await d.start()
                    try:
                        end = time.monotonic() + 3 * STALL_S  # a hang guard, not a latency bound
                        while not any(json.loads(s.body)["kind"] == NoticeKind.CLUSTER_ALARM.value for s in hook.seen):
                            assert time.monotonic() < end, "no alarm at the webhook"
                            await asyncio.sleep(0.05)
                        said_at_alarm.extend(stalled_broker_said())
                        assert store.count_events("cot-usb") >= 3  # the cluster's spasms, stored
                        assert hole.accepted >= default_pool_size()  # the MQTT channels were at it meanwhile
                    finally:
                        await d.stop()
                        await bridge.close()

    with caplog.at_level(logging.WARNING):
        try:
            asyncio.run(main())
        finally:
            hole.close()
    assert not said_at_alarm, f"the alarm waited for MQTT to give up: {said_at_alarm}"
