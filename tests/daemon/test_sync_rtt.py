"""The band's clock is synced by the quickest of several TIME_SYNC exchanges (daemon/consts.py
SYNC_EXCHANGES), at connect and at each resync, on an uneven link.

The real band firmware (micropython) plays its recording as fast as it can, then its clock runs
on in real time to the ms (``played``); the daemon connects over bleak on the simulated radio,
whose ``latency`` holds chosen TIME_SYNC commands or answers as a radio's retries do. Truth:
the band reports, for each TIME_SYNC, the band ms it answered and the real time it read its
clock at (firmware/sim/run.py ``sync``), so the band's clock reads ``band_ms`` at ``real_ms``
and an event at ``onset_ms`` happened ``onset_ms - band_ms`` ms from there. The daemon's clock
is the system's: wall time is real time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import BandSession, State, SyncExchange, best_sync, rtt_spread_s
from spasmwatch.store import Store
from spasmwatch.store.rows import EventRow, SyncRow
from spasmwatch.transport import open_link
from spasmwatch.transport.simband import SimBand
from swcore import protocol as P

DEVICE = "band0000"
# The quickest exchange's own unevenness (its round trip is 1-3 ms on 127.0.0.1, more on a
# loaded machine) and the ms the band and the host stamp in.
TOLERANCE_S = 0.010
# A BLE link's uneven round trips: the n-th TIME_SYNC's command ("write") or its answer ("notify")
# held this long (s). The connect's first answer waits 300 ms (a retry), its 3rd exchange goes
# through at once; the resync's first command waits 300 ms, its 4th exchange goes at once.
PLAN = {
    1: ("notify", 0.300), 2: ("write", 0.040), 4: ("notify", 0.020), 5: ("write", 0.060),
    6: ("write", 0.300), 7: ("notify", 0.080), 8: ("write", 0.030), 10: ("notify", 0.050),
}  # fmt: skip


class UnevenRadio:
    """The simulated radio's ``latency``: holds TIME_SYNC commands and their answers as planned."""

    def __init__(self, plan: dict[int, tuple[str, float]]) -> None:
        self.plan = plan
        self.n = 0  # TIME_SYNC commands written so far

    def __call__(self, way: str, value: bytes) -> float:
        if way == "write" and len(value) > 1 and value[1] == P.OP_TIME_SYNC:
            self.n += 1
        elif not (way == "notify" and len(value) > 2 and value[1] == P.T_RESP and value[2] == P.OP_TIME_SYNC):
            return 0.0
        held_way, held_s = self.plan.get(self.n, ("", 0.0))
        return held_s if held_way == way else 0.0


async def _synced(
    tmp: Path, csv: Path, radio: UnevenRadio, n_syncs: int, resync_s: float = K.RESYNC_S
) -> tuple[list[dict[str, Any]], list[SyncRow], list[EventRow]]:
    """The band's sync reports, the store's first ``n_syncs`` sync points and its events."""
    with SimBand(csv, tmp / "flash", device_id=DEVICE, idle_exit_ms=60_000, timeout_s=120) as band:
        await band.wait_report_async("played", 60)
        link: Callable[[], Any] = lambda: open_link("sim", band.address, bond_file=tmp / "bonds.json", latency=radio)  # noqa: E731
        with Store(tmp / "db.sqlite") as store:
            d = Daemon(store, [BandSpec("crib", link)], resync_s=resync_s)
            await d.start()
            try:
                await _until(lambda: len(store.syncs(DEVICE)) >= n_syncs and d.bands[0].session.state is State.STREAMING, 40)
                await _until(lambda: len([e for e in store.events(DEVICE) if e.wall_t is not None]) >= 3, 20)
            finally:
                await d.stop()
            syncs, events = store.syncs(DEVICE)[:n_syncs], list(store.events(DEVICE))
        reports = [r for r in band.reports if r["kind"] == "sync"]
    return reports, syncs, events


async def _until(pred: Callable[[], object], timeout_s: float) -> None:
    end = asyncio.get_running_loop().time() + timeout_s
    while not pred():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


def _read_at(reports: list[dict[str, Any]], sync: SyncRow) -> float:
    """The real time (s) the band's clock read the sync point's band ms. Two exchanges within one ms
    read the same: the kept one's is the nearer its midpoint, which lies within its own round trip,
    and every other exchange was made before or after that trip."""
    same = [r["real_ms"] / 1000 for r in reports if r["band_ms"] == sync.band_ms]
    assert same, (sync, reports)
    return min(same, key=lambda t: abs(t - sync.wall_s))


def test_events_are_placed_by_the_quickest_of_the_syncs_exchanges(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """One exchange of each sync waits 300 ms one way (a radio retry): the pair kept is the
    quickest exchange's, within a few ms of the band's clock, and so are the events placed by
    it; at the resync too. With one exchange (the old code) the connect's pair was the slow
    one's midpoint, 150 ms late, and every event of the connection with it."""
    radio = UnevenRadio(PLAN)
    reports, syncs, events = asyncio.run(_synced(tmp_path, quick_cluster_csv, radio, n_syncs=2, resync_s=1.0))
    connect, resync = syncs
    errs = [s.wall_s - _read_at(reports, s) for s in syncs]
    print(f"sync points off by {errs[0] * 1000:+.1f} ms (connect), {errs[1] * 1000:+.1f} ms (resync); "
          f"{radio.n} TIME_SYNC exchanges, {len(reports)} answered")  # fmt: skip
    assert all(abs(e) < TOLERANCE_S for e in errs), errs
    assert radio.n >= 2 * K.SYNC_EXCHANGES and len(reports) >= 2 * K.SYNC_EXCHANGES, (radio.n, reports)
    read = _read_at(reports, connect)  # every event is before it: placed by it (the store's pick)
    placed = [e for e in events if e.wall_t is not None]
    off = [e.wall_t - (read + (e.onset_ms - connect.band_ms) / 1000) for e in placed]
    print(f"{len(placed)} events off by {min(off) * 1000:+.1f} to {max(off) * 1000:+.1f} ms")
    assert len(placed) == len(events) >= 3 and max(map(abs, off)) < TOLERANCE_S, off
    assert resync.band_ms > connect.band_ms


def test_a_slow_link_makes_fewer_exchanges_within_the_budget_and_says_so_once(
    tmp_path: Path, quick_cluster_csv: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every answer held 250 ms: the exchanges begun within SYNC_BUDGET_S (0.4 s here) are two,
    not SYNC_EXCHANGES, and the slow link is said at INFO, with how far events may be off."""
    monkeypatch.setattr(K, "SYNC_BUDGET_S", 0.4)
    radio = UnevenRadio({n: ("notify", 0.250) for n in range(1, 20)})
    with caplog.at_level(logging.DEBUG, logger="spasmwatch.daemon.session"):
        reports, _, _ = asyncio.run(_synced(tmp_path, quick_cluster_csv, radio, n_syncs=1))
    # The connect's sync alone: the epochs the band held while no host was there arrive late but
    # are not read as a step of the host's clock (they were, and each brought a resync).
    said = [r for r in caplog.records if "clock synced" in r.getMessage()]
    assert len(said) == 1 and radio.n == len(reports) == 2, (radio.n, len(reports), [r.getMessage() for r in said])
    assert " of 2 exchanges" in said[0].getMessage() and said[0].levelno == logging.INFO, said[0].getMessage()
    assert "slow link: event times within 1" in said[0].getMessage(), said[0].getMessage()


def test_the_quickest_exchange_is_kept() -> None:
    def x(band_ms: int, rtt_s: float) -> SyncExchange:
        return SyncExchange(band_ms, 1000.0 + band_ms / 1000, rtt_s)

    got = [x(0, 0.300), x(400, 0.040), x(500, 0.006), x(600, -0.5), x(700, 0.020)]
    best = best_sync(got)
    assert best.band_ms == 500 and best.wall_s == pytest.approx(1000.5 + 0.003)
    assert rtt_spread_s(got) == pytest.approx(0.294)  # the stepped one left out
    assert best_sync([x(0, -0.1)]).band_ms == 0  # all stepped: one is still kept
    assert best_sync([x(0, 0.05), x(1, 0.05)]).band_ms == 0  # a tie: the earlier
    with pytest.raises(ValueError):
        best_sync([])


def test_a_slow_sync_is_logged_at_info_when_it_turns_slow_and_back(caplog: pytest.LogCaptureFixture) -> None:
    s = BandSession("crib", lambda: None, None)  # type: ignore[arg-type,return-value]
    with caplog.at_level(logging.DEBUG, logger="spasmwatch.daemon.session"):
        for rtt in (0.05, 0.25, 0.30, 0.15, 0.21, 0.08, 0.09):
            s._log_sync(SyncExchange(0, 0.0, rtt), [SyncExchange(0, 0.0, rtt), SyncExchange(0, 0.0, 0.4)])
    levels = [r.levelno for r in caplog.records]
    # Quick, slow (INFO), slow, in between (still slow), slow, quick again (INFO), quick.
    assert levels == [logging.DEBUG, logging.INFO, logging.DEBUG, logging.DEBUG, logging.DEBUG, logging.INFO, logging.DEBUG], levels
    assert caplog.records[1].getMessage() == (
        "crib: clock synced, slow link: event times within 125 ms (least round trip 250 ms of 2 exchanges, spread 150 ms)"
    )
