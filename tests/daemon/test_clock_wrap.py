"""A band up for 49.7 days: its u32 ms clock wraps in the middle of a cluster.

Through the real parts: the band firmware under micropython starts 17 s
before its u32 ms clock wraps (``--uptime-ms``), plays a cluster at 8, 14, 20
and 26 s (two spasms each side of the wrap), and the radio drops at 30 s so
the daemon syncs again after the wrap. Every event must be placed on the wall
clock where it happened, the alarm must come, and the wrap must not pass for
an erased band (a band clock gone back).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from spasmwatch.alerts import NoticeKind
from spasmwatch.daemon.session import U32

from .conftest import QUICK_SPASMS_S, rig

DEVICE = "band0000"
WRAP_AT_S = 17.0


def test_a_cluster_across_the_clock_wrap_is_placed_and_alarmed(tmp_path: Path, quick_cluster_csv: Path) -> None:
    up_ms = U32 - int(WRAP_AT_S * 1000)

    async def main() -> None:
        args = ("--uptime-ms", str(up_ms), "--drop-at-s", "30")
        async with rig(tmp_path, quick_cluster_csv, speed=4, band_args=args) as r:
            started = r.clock.wall()
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 60, "the cluster alarm")
            st = r.store
            await r.wait_for(lambda: (s := st.latest_status(DEVICE)) is not None and (s.uptime_s or 0) > U32 // 1000 + 22, 60, "a STATUS after the wrap and the reconnect")
            await r.wait_for(lambda: st.count_events(DEVICE) >= len(QUICK_SPASMS_S), 30, "every spasm")
            events = sorted(st.events(DEVICE), key=lambda e: e.seq)
            # The band's times, unwrapped: on one lap past 2^32 after the wrap, in order.
            onsets_s = [(e.onset_ms - up_ms) / 1000 for e in events]
            assert [round(t) for t in onsets_s] == [round(t) for t in QUICK_SPASMS_S], onsets_s
            assert events[-1].onset_ms > U32 > events[0].onset_ms
            # Placed where they happened: the boot began at the rig's start (band time 0 = up_ms).
            for e, t in zip(events, QUICK_SPASMS_S):
                assert e.wall_t is not None and abs(e.wall_t - (started + t)) < 3.0, (e, e.wall_t - started)
            # Epochs too, and in order.
            walls = [a.wall_t for a in st.activity(DEVICE)]
            assert walls and None not in walls and walls == sorted(walls)  # type: ignore[type-var]
            assert max(walls) - started < 60  # type: ignore[operator]
            # The wrap is not an erased band, and the alarm counted the spasms on both sides of it.
            assert st.log_lives(DEVICE) == []
            alarm = r.notices(NoticeKind.CLUSTER_ALARM)[0]
            assert alarm.count == 3

    asyncio.run(main())


def test_a_long_connection_syncs_again_across_the_wrap(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """No reconnect this time: the session's hourly re-sync (here every 6 s) is what
    reads the band's clock after the wrap, and each sync is a new point on one clock."""
    up_ms = U32 - int(WRAP_AT_S * 1000)

    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=4, band_args=("--uptime-ms", str(up_ms)), resync_s=6.0) as r:
            started = r.clock.wall()
            st = r.store
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 60, "the cluster alarm")
            await r.wait_for(lambda: any(s.band_ms > U32 + 6000 for s in st.syncs(DEVICE)), 60, "a sync after the wrap")
            syncs = st.syncs(DEVICE)
            assert len(syncs) >= 3 and len({s.boot for s in syncs}) == 1, syncs
            assert [s.band_ms for s in syncs] == sorted(s.band_ms for s in syncs)
            # One clock: band ms since the rig started and wall seconds since then agree.
            for s in syncs:
                assert abs((s.band_ms - up_ms) / 1000 - (s.wall_s - started)) < 2.0, (s, s.wall_s - started)
            assert st.log_lives(DEVICE) == []
            assert r.daemon is not None and r.daemon.bands[0].session.state.value == "streaming"

    asyncio.run(main())
