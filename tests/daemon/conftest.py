"""End-to-end rig: the real band firmware (micropython) -> simulated radio -> bleak -> daemon -> SQLite.

Nothing here stands in for a part under test: the band is firmware/sim/run.py
under the real micropython binary, the link is bleak's BleakClient over the
simradio backend, the store is SQLite on disk, the channels post to real
local servers. The daemon's clock is a ScaledClock running at the band's
``--speed``, so virtual band time and daemon time agree and a two-minute
cluster plays in seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.alerts import NoticeKind
from spasmwatch.alerts.channels.base import Channel
from spasmwatch.clock import ScaledClock
from spasmwatch.daemon.daemon import DEFAULT_RATE_HZ, BandSpec, Daemon
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.simband import SimBand, kept_sync
from spasmwatch.transport.simradio import Latency
from synthetic import supine, write_csv

RATE_HZ = 52
SPASMS_S = tuple(20.0 + 8.0 * i for i in range(8))  # a cluster: 8 spasms 8 s apart
DURATION_S = 110.0
BAND_TIMEOUT_S = 120  # real s: a rig's band gives up then (its --timeout-s), whatever it is doing
LASTING_S = 600  # real s: how long a band at speed 4 plays lasting_cluster_csv (rig's band_timeout_s for it)


@pytest.fixture(scope="session")
def cluster_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """110 s of a supine baby breathing, with a cluster of 8 idealised spasms from t = 20 s."""
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=DURATION_S, spasms=SPASMS_S, seed=4)
    return write_csv(tmp_path_factory.mktemp("rec") / "cluster.csv", t, acc, gyro)


@pytest.fixture(scope="session")
def lasting_cluster_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cluster_csv's cluster, the baby breathing on for LASTING_S real s at speed 4: with rig's
    band_timeout_s=LASTING_S the band gives up before its recording ends. A band whose recording
    has played exits at its first link gap of idle_exit_ms (a real band never does): a test that
    silences the link and has it back late (its steps slowed by a loaded machine) found the band
    gone after cluster_csv's 27.5 real s, and never streaming again. A passing run took 99 s at
    load 15, near BAND_TIMEOUT_S."""
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=LASTING_S * 4, spasms=SPASMS_S, seed=4)
    return write_csv(tmp_path_factory.mktemp("rec") / "lasting.csv", t, acc, gyro)


QUICK_SPASMS_S = (8.0, 14.0, 20.0, 26.0)


@pytest.fixture(scope="session")
def quick_cluster_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 s with a cluster from t = 8 s: short, for tests that need the alarm (bench/alarm_latency.py plays it in real time)."""
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=40.0, spasms=QUICK_SPASMS_S, seed=5)
    return write_csv(tmp_path_factory.mktemp("rec") / "quick.csv", t, acc, gyro)


@dataclass(frozen=True)
class SyncError:
    """How far a stored sync point's wall time is from the truth, by the band's ``sync`` report of
    the exchange kept (firmware/sim/run.py), in the daemon's (simulated) s: ``stamp_s``, the
    daemon's midpoint against the real moment the band read its clock, which the daemon bounds by
    ``half_rtt_s`` (half the kept round trip: what it logs as "event times within"); ``lag_s``,
    how far the paced band's clock stood behind its pace then (it steps once a 200 ms batch and
    lags more on a loaded machine; a real band's crystal runs on; 0 when not paced). Both are
    real ms x the speed."""

    band_ms: int
    stamp_s: float
    half_rtt_s: float
    lag_s: float


def placed_by(syncs: dict[int, SyncError], onset_ms: int) -> SyncError:
    """The sync an event of ``onset_ms`` is placed by: the latest at or before it (the store's pick)."""
    return syncs[max(b for b in syncs if b <= onset_ms)]


@dataclass
class Rig:
    tmp: Path
    csv: Path
    speed: int
    store: Store
    clock: ScaledClock
    bands: list[SimBand] = field(default_factory=list)
    daemon: Daemon | None = None
    wrap_link: Callable[[Any], Any] | None = None  # each link the daemon opens goes through this, if set
    latency: Latency | None = None  # the simulated radio holds messages this long (open_link's latency=)
    firmware: Path | None = None  # the bands run this firmware tree (SimBand's firmware=), if set
    band_timeout_s: float = BAND_TIMEOUT_S  # each band's --timeout-s (real s)

    def start_band(self, i: int = 0, args: tuple[str, ...] = (), port: int | None = None, hold: bool = True) -> SimBand:
        band = SimBand(
            self.csv, self.tmp / f"flash{i}", port=port, hold=hold, speed=self.speed,
            device_id=f"band{i:04d}", idle_exit_ms=500, args=args, timeout_s=self.band_timeout_s, firmware=self.firmware,
        )  # fmt: skip
        if i < len(self.bands):
            self.bands[i] = band
        else:
            self.bands.append(band)
        return band

    def link_factory(self, i: int) -> Callable[[], Any]:
        # The band's port is looked up at each connect: a rebooted band process listens anew.
        def make() -> Any:
            link = open_link("sim", self.bands[i].address, bond_file=self.tmp / "bonds.json", latency=self.latency)
            return link if self.wrap_link is None else self.wrap_link(link)

        return make

    def sync_errors(self, i: int = 0) -> dict[int, SyncError]:
        """Band ``i``'s stored sync points (band ms -> SyncError), each against the band's report of
        the exchange the daemon kept (simband.kept_sync), which must be in its reports."""
        device = f"band{i:04d}"  # as start_band names it
        out: dict[int, SyncError] = {}
        for sp in self.store.syncs(device):
            real = self.clock.real_start + (sp.wall_s - self.clock.start_wall) / self.clock.rate
            x = kept_sync(self.bands[i].reports, sp.band_ms, sp.wall_s)
            assert x is not None, (sp, self.bands[i].reports)
            stamp = (real - x["real_ms"] / 1000) * self.clock.rate
            # Not paced (after the recording, or a band run without --paced): its clock runs on.
            lag = 0.0 if x["due_ms"] is None else (x["real_ms"] - x["due_ms"]) / 1000 * self.clock.rate
            out[sp.band_ms] = SyncError(sp.band_ms, stamp, sp.wall_s - x["sent_ms"] / 1000, lag)
        return out

    def notices(self, kind: NoticeKind) -> list[Any]:
        assert self.daemon is not None
        return [n for n in self.daemon.notifications if n.kind is kind]

    async def wait_for(self, pred: Callable[[], object], timeout_s: float = 60, what: str = "condition") -> None:
        end = time.monotonic() + timeout_s
        while not pred():
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
            await asyncio.sleep(0.02)


@asynccontextmanager
async def rig(
    tmp: Path,
    csv: Path,
    n_bands: int = 1,
    speed: int = 4,
    band_args: tuple[str, ...] = (),
    channels: dict[str, Channel] | None = None,
    raw: bool = False,
    rate_hz: int = DEFAULT_RATE_HZ,
    wrap_link: Callable[[Any], Any] | None = None,
    start_wall: float | None = None,
    latency: Latency | None = None,
    open_store: Callable[[Path], Store] = Store,
    firmware: Path | None = None,
    band_timeout_s: float = BAND_TIMEOUT_S,
    hold: bool = True,
    **daemon_kw: Any,
) -> AsyncIterator[Rig]:
    """``start_wall``: the daemon's (and so the band's synced) wall time now, e.g. just before a
    noon for raw parts cut there; default the real time. ``latency``: how long (real s) the
    simulated radio holds each message (simradio.SimRadioClient). ``open_store``: how the store
    at ``tmp``/spasmwatch.db is opened (``Store.may_fail``: as ``spasmwatch run`` does). ``firmware``:
    the tree the bands run (default this checkout's firmware/). ``band_timeout_s``: each band's
    --timeout-s (real s; LASTING_S with lasting_cluster_csv). ``hold``: each band's virtual time
    stands still until the daemon first has an encrypted link (False: a band that has no radio
    for a while senses on meanwhile, as a board does)."""
    clock = ScaledClock(time.time() if start_wall is None else start_wall, speed)
    r = Rig(
        tmp, csv, speed, open_store(tmp / "spasmwatch.db"), clock, wrap_link=wrap_link, latency=latency, firmware=firmware,
        band_timeout_s=band_timeout_s,
    )  # fmt: skip
    try:
        for i in range(n_bands):
            r.start_band(i, band_args, hold=hold)
        specs = [BandSpec(f"band{i}", r.link_factory(i), raw=raw, rate_hz=rate_hz) for i in range(n_bands)]
        # The raw tests must not depend on the machine's free space (the default reserve is 1 GB);
        # tests/daemon/test_rawdisk.py tests the reserve on a daemon of its own.
        daemon_kw.setdefault("raw_reserve_mb", 1.0)
        r.daemon = Daemon(r.store, specs, channels, clock=r.clock, **daemon_kw)
        await r.daemon.start()
        yield r
    finally:
        if r.daemon is not None:
            await r.daemon.stop()
        for b in r.bands:
            b.kill()
        r.store.close()
