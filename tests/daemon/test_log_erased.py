"""A band whose flash was erased (esptool erase-flash, a reformat) starts a new log life.

Through the real parts (docs/host.md "Log lives"): the band firmware under
micropython logs a cluster, the daemon stores it; the band's flash is erased
(the band starts again on an empty flash directory: boot 1, seq 0 again, same
serial, same radio address) and plays the same recording. Every event of both
lives must be stored once, each placed on the wall clock by its own life's
syncs, and the daemon must stream again.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from spasmwatch.daemon.session import State
from spasmwatch.store import EventRow, LogLife
from spasmwatch.transport.simradio import BondStore

from .conftest import QUICK_SPASMS_S, Rig, rig

DEVICE = "band0000"
PLAYED_S = 40.0  # the quick recording's length
SPEED = 8


def _caught_up(r: Rig) -> bool:
    """The band played its recording and the store holds every event its last STATUS counts."""
    st = r.store.latest_status(DEVICE)
    if st is None or (st.uptime_s or 0) < PLAYED_S or st.next_seq is None:
        return False
    return r.store.next_backfill_seq(DEVICE) >= st.next_seq


def _boot_start(e: EventRow) -> float:
    """Where the event's band boot began on the wall clock, from the wall time it was placed at."""
    assert e.wall_t is not None, f"event {e.seq} was never placed on the wall clock"
    return e.wall_t - e.onset_ms / 1000.0


async def _erase_and_replay(r: Rig) -> tuple[list[EventRow], list[EventRow], float]:
    """Both lives of the band, played through the daemon: (first life's events, second's, erase time)."""
    d = r.daemon
    assert d is not None
    await r.wait_for(lambda: _caught_up(r), 60, "the first life's events")
    first = list(r.store.events(DEVICE))
    assert len(first) >= len(QUICK_SPASMS_S) - 1, f"only {len(first)} events in the first life"

    # Erase: the band dies, its flash (log, boot counter, bonds) is wiped. The engineer
    # who re-flashed it pairs it again: the host forgets its old bond.
    old = r.bands[0]
    old.kill()
    await r.wait_for(lambda: d.bands[0].session.state is not State.STREAMING, 30, "the link to drop")
    erased_at = r.clock.wall()
    shutil.rmtree(old.flash)
    BondStore(r.tmp / "bonds.json").remove(old.address)
    r.start_band(0, port=old.port)

    await r.wait_for(lambda: d.bands[0].session.state is State.STREAMING, 60, "the daemon to stream again")
    await r.wait_for(lambda: _caught_up(r) and r.store.count_events(DEVICE) > len(first), 60, "the second life's events")
    known = {e.id for e in first}
    return first, [e for e in r.store.events(DEVICE) if e.id not in known], erased_at


def _assert_both_lives_whole(r: Rig, first: list[EventRow], second: list[EventRow], erased_at: float) -> None:
    # Both lives whole: the same recording gives the same events on the band's clock.
    assert len(second) == len(first), (first, second)
    for a, b in zip(sorted(first, key=lambda e: e.seq), sorted(second, key=lambda e: e.seq)):
        assert abs(a.onset_ms - b.onset_ms) <= 100, (a, b)
    # Stored once each, in a number space of their own.
    events = first + second
    assert len({(e.boot, e.seq) for e in events}) == len(events)
    assert min(e.seq for e in second) > max(e.seq for e in first)
    assert min(e.boot for e in second) > max(e.boot for e in first)
    # Placed by their own life's syncs: the second life's boot began after the erase.
    assert all(_boot_start(e) < erased_at for e in first)
    assert all(_boot_start(e) > erased_at for e in second), [(e.seq, _boot_start(e) - erased_at) for e in second]
    (life,) = r.store.log_lives(DEVICE)
    assert life.seq_offset == max(e.seq for e in first) + 1 and life.boot_offset == max(e.boot for e in first)
    assert r.store.lost_ranges(DEVICE) == []
    assert r.daemon is not None and r.daemon.status()["bands"][0]["log_life"]["seq_offset"] == life.seq_offset


def test_erased_band_starts_a_new_log_life_and_loses_nothing(tmp_path: Path, quick_cluster_csv: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=SPEED) as r:
            _assert_both_lives_whole(r, *await _erase_and_replay(r))

    asyncio.run(main())


def test_a_backfill_refused_as_past_the_log_starts_the_new_life(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """The race: the check on connect misses the erase; the band's E_VALUE to BACKFILL must start
    the new life, where it used to be a FAULT retried every 10 minutes with the same request."""

    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=SPEED) as r:
            check = r.store.check_log_life
            refused: list[int] = []

            def blind(device: str, boot: int, next_seq: int, band_ms: int, wall_s: float, erased: bool = False) -> tuple[LogLife, bool]:
                if not erased:
                    return r.store.log_life(device), False
                refused.append(next_seq)
                return check(device, boot, next_seq, band_ms, wall_s, erased)

            r.store.check_log_life = blind  # type: ignore[method-assign]
            _assert_both_lives_whole(r, *await _erase_and_replay(r))
            assert refused == [0], refused

    asyncio.run(main())
