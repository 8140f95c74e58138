"""The daemon and its store over the serial stand-in (``CdcBridge``) to a simulated band (the real
firmware under micropython), in this test's process: for tests of what a serial link loses or how
it flaps (tests/daemon/test_link_loss.py, test_flapping_link.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NamedTuple

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.clock import ScaledClock
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
    flap_up_s: float = K.FLAP_UP_S,
    flap_summary_s: float = K.FLAP_SUMMARY_S,
) -> AsyncIterator[Rig]:
    """A band (``device_id``) playing ``csv``, held until the daemon connects, its bridge, a store in
    ``tmp_path`` and a daemon started with the band as ``device`` on that serial link; stopped (the
    daemon, then the bridge) at the end. ``garble`` is the bridge's garble, given the bridge too (a
    record may be garbled on one connection only); ``drop_after_s``, ``idle_exit_ms``, ``timeout_s``,
    ``flap_up_s`` and ``flap_summary_s`` as in CdcBridge, SimBand and Daemon."""
    with SimBand(csv, tmp_path / "flash", hold=True, speed=SPEED, device_id=device_id, idle_exit_ms=idle_exit_ms, timeout_s=timeout_s) as band:
        bridge: CdcBridge
        picks = None if garble is None else lambda record: garble(bridge, record)
        bridge = CdcBridge(band.address, bond_file=tmp_path / "bonds.json", garble=picks, drop_after_s=drop_after_s)
        await bridge.start()
        with Store(tmp_path / "db.sqlite") as store:
            d = Daemon(store, [BandSpec(device, lambda: open_link("serial", bridge.url))], clock=ScaledClock(time.time(), SPEED),
                       flap_up_s=flap_up_s, flap_summary_s=flap_summary_s)  # fmt: skip
            await d.start()
            try:
                yield Rig(band, bridge, store, d)
            finally:
                await d.stop()
                await bridge.close()
