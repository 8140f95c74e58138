"""The daemon, unchanged, over a real Bluetooth host stack (Bumble, virtual controllers) in front of the real band."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from bumble_air import BumbleHost, on_air, start
from transport_helpers import run, until

from spasmwatch.alerts import NoticeKind
from spasmwatch.clock import ScaledClock
from spasmwatch.daemon.daemon import DEFAULT_RATE_HZ, BandSpec, Daemon
from spasmwatch.store import Store
from spasmwatch.transport.ble import BleLink
from spasmwatch.transport.simband import SimBand
from synthetic import supine, write_csv


@pytest.mark.parametrize("bluez", [False, True], ids=["pair_encrypts", "bluez"])
def test_the_daemon_over_a_real_host_stack_alarms_reconnects_on_the_bond_and_reports_a_lost_one(
    bands: Callable[..., SimBand], bond_file: Path, tmp_path: Path, bluez: bool
) -> None:
    """The daemon's session, unchanged, on BleLink over Bumble: pairs, syncs, backfills, stores the
    events of a cluster and raises the alarm; then, the link dropped (the band restarted on the same
    flash), it connects again with the bond; and a band that comes back without our bond (flash
    erased) is the "pairing refused" fault. ``bluez``: secure() does nothing for a bonded band and the
    first control write, refused with 0x0F, makes the stack re-encrypt (as on Linux): the lost bond
    then fails that write ("Not paired"), not secure()."""
    rate_hz = DEFAULT_RATE_HZ  # the daemon's rate: the band does not reboot to change it
    t, acc, gyro = supine(rate_hz=rate_hz, duration_s=70.0, spasms=tuple(15.0 + 8.0 * i for i in range(5)), seed=4)
    csv = write_csv(tmp_path / "cluster.csv", t, acc, gyro)
    speed = 4
    band = start(bands, csv=csv, speed=speed, device_id="air00001")
    bands_started: list[SimBand] = []

    async def body() -> None:
        async with on_air(band) as bridge:
            host = BumbleHost(bridge.air, bond_file, bluez=bluez)
            with Store(tmp_path / "db.sqlite") as store:
                d = Daemon(store, [BandSpec("cot", lambda: BleLink(band.name, host.backend()))], clock=ScaledClock(time.time(), speed))
                await d.start()
                try:
                    await until(lambda: any(n.kind is NoticeKind.CLUSTER_ALARM for n in d.notifications), 60, "the cluster alarm")
                    assert d.bands[0].device == "air00001"  # Device Information read over real ATT
                    assert store.count_events("air00001") >= 3
                    band.kill()
                    bands_started.append(start(bands, csv=csv, speed=speed, device_id="air00001", port=band.port))
                    await until(lambda: bridge.reencryptions >= 1, 30, "the daemon back, on the bond")
                    await until(lambda: d.bands[0].session.state.name == "STREAMING", 30, "streaming again")
                    band2 = bands_started[-1]
                    band2.kill()
                    (band2.flash / "bonds.json").unlink()
                    start(bands, csv=csv, speed=speed, device_id="air00001", port=band.port)
                    session = d.bands[0].session
                    await until(lambda: session.state.name == "FAULT", 30, "the lost bond reported")
                    assert session.detail.startswith("pairing refused") and ("Not paired" if bluez else "PIN_OR_KEY_MISSING") in session.detail
                finally:
                    await d.stop()
        assert bridge.pairings == 1

    run(body(), 120)
