"""The daemon and its store over the serial stand-in (``CdcBridge``) to a simulated band (the real
firmware under micropython), in this test's process: for tests of what a serial link loses or how
it flaps (tests/daemon/test_link_loss.py, test_flapping_link.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NamedTuple

from spasmwatch.clock import ScaledClock
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.cdcbridge import CdcBridge
from spasmwatch.transport.simband import SimBand

SPEED = 4  # the band's and the daemon's time runs 4x real time: a recording's minute in 15 s


class Rig(NamedTuple):
    band: SimBand
    bridge: CdcBridge
    store: Store
    daemon: Daemon


@asynccontextmanager
async def serial_daemon(
    csv: Path,
    tmp_path: Path,
    device: str,
    device_id: str,
    *,
    garble: Callable[[CdcBridge, bytes], bool] | None = None,
    drop_after_s: float | None = None,
    idle_exit_ms: int | None = None,
    timeout_s: float = 120,
    flap: tuple[float, float] | None = None,
    rate_hz: int | None = None,
    bridge_type: type[CdcBridge] = CdcBridge,
    firmware: Path | None = None,
) -> AsyncIterator[Rig]:
    """A band (``device_id``) playing ``csv``, held until the daemon connects, its bridge, a store in
    ``tmp_path`` and a daemon started with the band as ``device`` on that serial link; stopped (the
    daemon, then the bridge) at the end. ``garble`` is the bridge's garble, given the bridge too (a
    record may be garbled on one connection only); ``drop_after_s``, ``idle_exit_ms`` and ``timeout_s``
    as in CdcBridge and SimBand; ``flap``: the daemon's flap_up_s and flap_summary_s; ``rate_hz``: the
    band's configured IMU rate (BandSpec's; none: its default); ``bridge_type``: a CdcBridge that
    times a cut of its own (tests/daemon/test_serial_cut.py); ``firmware``: the band's firmware tree
    (SimBand's; none: the checkout's). Options not given are not passed on, so that a test still runs
    against the code from before them."""
    more = {} if firmware is None else {"firmware": firmware}
    with SimBand(csv, tmp_path / "flash", hold=True, speed=SPEED, device_id=device_id, idle_exit_ms=idle_exit_ms, timeout_s=timeout_s, **more) as band:
        bridge: CdcBridge
        picks = None if garble is None else lambda record: garble(bridge, record)
        bonds = tmp_path / "bonds.json"
        if drop_after_s is None:
            bridge = bridge_type(band.address, bond_file=bonds, garble=picks)
        else:
            bridge = bridge_type(band.address, bond_file=bonds, garble=picks, drop_after_s=drop_after_s)
        await bridge.start()
        with Store(tmp_path / "db.sqlite") as store:
            link = lambda: open_link("serial", bridge.url)  # noqa: E731
            spec = BandSpec(device, link) if rate_hz is None else BandSpec(device, link, rate_hz=rate_hz)
            bands, clock = [spec], ScaledClock(time.time(), SPEED)
            if flap is None:
                d = Daemon(store, bands, clock=clock)
            else:
                d = Daemon(store, bands, clock=clock, flap_up_s=flap[0], flap_summary_s=flap[1])
            await d.start()
            try:
                yield Rig(band, bridge, store, d)
            finally:
                await d.stop()
                await bridge.close()
