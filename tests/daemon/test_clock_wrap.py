"""A band up for 49.7 days: its u32 ms clock wraps in the middle of a cluster.

Through the real parts: the band firmware under micropython starts 17 s
before its u32 ms clock wraps (``--uptime-ms``), plays a cluster at 8, 14, 20
and 26 s (two spasms each side of the wrap), and the radio drops at 30 s so
the daemon syncs again after the wrap. Every event must be placed on the wall
clock where it happened, the alarm must come, and the wrap must not pass for
an erased band (a band clock gone back). Then a boot past its wrap whose last
spasms reach the host only in the next boot's backfill, through the daemon's
session and a store on disk.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.alerts import NoticeKind
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon.session import U32, BandClock, BandInfo, State
from spasmwatch.store import Store
from spasmwatch.transport.base import NotFoundError
from swcore import protocol as P
from synthetic import HandClock, spasm_record

from .conftest import QUICK_SPASMS_S, rig
from .test_boot_links import DEVICE as WRAP_DEVICE
from .test_boot_links import T0, _alarms, _daemon, _epochs, _link

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
    # The band's clock kept at the daemon's speed, as a board's crystal runs on whatever its CPU
    # does: paced, read at its pace by a TIME_SYNC, and paced on after the recording. Unpaced, a
    # loaded machine's band played slower than 4x, and its syncs, 1.5 s apart, drifted 3.7 s
    # behind the daemon's clock (offsets -0.8 to -4.5 s at load 12).
    args = ("--uptime-ms", str(up_ms), "--paced", "--sync-at-pace", "--pace-after-end")

    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=4, band_args=args, resync_s=6.0) as r:
            started = r.clock.wall()
            st = r.store
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 60, "the cluster alarm")
            await r.wait_for(lambda: any(s.band_ms > U32 + 6000 for s in st.syncs(DEVICE)), 60, "a sync after the wrap")
            syncs = st.syncs(DEVICE)
            assert len(syncs) >= 3 and len({s.boot for s in syncs}) == 1, syncs
            assert [s.band_ms for s in syncs] == sorted(s.band_ms for s in syncs)
            # One clock: each sync puts the band's ms and the wall's s the same distance apart (a wrap
            # read as a step back would put one 4.29e6 s off). Measured from one another, not from the
            # rig's start: the band's process starts before it, by up to seconds under load (2.01 s seen).
            offsets = [(s.band_ms - up_ms) / 1000 - (s.wall_s - started) for s in syncs]
            assert max(offsets) - min(offsets) < 2.0 and all(abs(o) < 30 for o in offsets), (offsets, syncs)
            assert st.log_lives(DEVICE) == []
            assert r.daemon is not None and r.daemon.bands[0].session.state.value == "streaming"

    asyncio.run(main())


class _Reach:
    """Whether this computer's radio reaches the band: while ``away``, each connect the daemon tries
    after its first fails as it does for a band out of range (the rig's ``wrap_link``)."""

    def __init__(self) -> None:
        self.away = True
        self.connects = 0

    def wrap(self, inner: Any) -> Any:
        reach = self

        class Link:
            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

            async def connect(self, *args: Any, **kwargs: Any) -> None:
                reach.connects += 1
                if reach.away and reach.connects > 1:
                    raise NotFoundError("band not found (out of range: the test's link)")
                await inner.connect(*args, **kwargs)

        return Link()


def test_the_real_band_s_spasms_past_its_wrap_that_only_its_next_boot_brings_are_placed_on_their_lap(
    tmp_path: Path, quick_cluster_csv: Path
) -> None:
    """End to end, the real firmware: boot 1 starts 17 s before its u32 ms clock wraps, the daemon
    syncs it and takes the spasm at 8 s live; the band is out of reach from 13 s (a radio drop, and
    no connect gets through), logs the spasms at 14, 20 and 26 s alone (the last two past the wrap)
    and resets at 30 s. Boot 2 is synced, and its backfill brings boot 1's three: placed where they
    happened, one cluster of 4, one alarm. Old code: the two past the wrap kept their u32 onsets
    (3 and 9 s), placed 49.7 days before, and no alarm came (timed out waiting for it)."""
    up_ms = U32 - int(WRAP_AT_S * 1000)
    reset_at_s = 30.0
    reach = _Reach()

    async def main() -> None:
        args = ("--uptime-ms", str(up_ms), "--drop-at-s", "13", "--reset-at-s", str(reset_at_s))
        async with rig(tmp_path, quick_cluster_csv, speed=4, band_args=args, wrap_link=reach.wrap) as r:
            st = r.store
            first = r.bands[0]
            assert await first.wait_async(60) == 3, "boot 1 should have reset"
            assert st.count_events(DEVICE) <= 1, "the band was out of reach from 13 s: nothing more came live"
            assert reach.connects > 1, "the daemon tried to reconnect while the band was out of reach"
            reach.away = False
            r.start_band(0, ("--csv-skip-s", str(reset_at_s)), port=first.port, hold=False)
            await r.wait_for(lambda: st.count_events(DEVICE) >= len(QUICK_SPASMS_S), 60, "boot 1's spasms in boot 2's backfill")
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 30, "the cluster alarm")
            events = sorted((e for e in st.events(DEVICE) if e.boot == 1), key=lambda e: e.seq)
            assert [round((e.onset_ms - up_ms) / 1000) for e in events] == [round(t) for t in QUICK_SPASMS_S]
            sync = next(s for s in st.syncs(DEVICE) if s.boot == 1)
            for e, t in zip(events, QUICK_SPASMS_S):  # where boot 1's sync puts the recording's t
                want = sync.wall_s + (up_ms + t * 1000 - sync.band_ms) / 1000
                assert e.wall_t is not None and abs(e.wall_t - want) < 1.5, (e, t)
            clusters = [(c.count, c.alert_t is not None) for c in st.clusters(DEVICE)]
            assert clusters == [(4, True)], clusters
            assert len(r.notices(NoticeKind.CLUSTER_ALARM)) == 1

    asyncio.run(main())


# --- a boot past its wrap whose last events come in the next boot's backfill -----------------
# Through the daemon's own session (its record path, as the band's bytes decode) and a store on
# disk. Band boot 5's u32 ms clock wraps at wall T0 (its ms 0 at T0 - 2^32 ms, 49.7 days before).
# A connection synced it at T0 - 1800 s and took a spasm live before the wrap (seq 0) and one after
# it (seq 1, at T0 + 20); the host went away at T0 + 30. Spasms at T0 + 60, 66.5 and 73 (seqs 2-4,
# with seq 1 a cluster); boot 5 ended at T0 + 120 and boot 6 began 1.5 s later. The host is back at
# T0 + 600: boot 6 is synced and its backfill brings boot 5's seqs 2-4, their onset_ms as the band
# keeps them (u32: 60000, 66500, 73000).
BOOT5_T0 = T0 - U32 / 1000
BOOT5_SYNC_T = T0 - 1800.0
BOOT5_END_T = T0 + 120.0
AWAY_SPASMS_S = (60.0, 66.5, 73.0)


def _at(boot_t0: float, t: float) -> int:
    """Band ms (unwrapped) of the boot that began at wall ``boot_t0``, at wall ``t``."""
    return round((t - boot_t0) * 1000)


def _wrap_spasm(seq: int, boot: int, onset_ms: int) -> dict[str, Any]:
    """A spasm of a synced boot as the band sends it: its onset u32."""
    return dict(spasm_record(seq, onset_ms % U32), boot=boot)


def _session_connect(d: Daemon, clock: HandClock, boot: int, boot_t0: float, records: list[dict[str, Any]]) -> None:
    """A connect in band boot ``boot`` at ``clock.t``, as ``BandSession._connect_once`` makes it: the
    band's clock read by TIME_SYNC (u32) and placed on its lap by STATUS's uptime, the sync stored,
    then ``records`` as the band sends them, each through the session's record path to the daemon,
    the backfill's LOGINFO done, streaming; a tick."""
    s = d.bands[0].session
    s.info = BandInfo(WRAP_DEVICE, "spasmwatch-band", "test", "sim", "sim:0", "sim")
    d.on_connected(s.info)
    up_ms = _at(boot_t0, clock.t)
    s._clock = BandClock.at_sync(boot, up_ms % U32, up_ms // 1000, clock.t)
    s._seen_ms = s._live_from_ms = s._clock.ms
    d.on_sync(WRAP_DEVICE, boot, s._clock.ms, clock.t, clock.since_boot())
    d.next_backfill_seq(WRAP_DEVICE)
    for rec in records:
        s._handle(WRAP_DEVICE, rec, clock.t)
    s._handle(WRAP_DEVICE, {"type": "loginfo", "flags": P.LF_DONE, "oldest_seq": 0, "next_seq": 0, "capacity": 4096}, clock.t)
    s._set(State.STREAMING)
    d._tick()


def _live(d: Daemon, clock: HandClock, t: float, rec: dict[str, Any]) -> None:
    clock.t = t
    d.bands[0].session._handle(WRAP_DEVICE, rec, t)
    d._tick()


def _boot5_live_then_away(d: Daemon, clock: HandClock) -> None:
    clock.t = BOOT5_SYNC_T
    _session_connect(d, clock, 5, BOOT5_T0, [])
    _live(d, clock, T0 - 1195.0, _wrap_spasm(0, 5, _at(BOOT5_T0, T0 - 1200.0)))
    _live(d, clock, T0 + 25.0, _wrap_spasm(1, 5, _at(BOOT5_T0, T0 + 20.0)))
    clock.t = T0 + 30.0
    d.bands[0].session._set(State.DISCONNECTED, "io: out of reach")
    d._tick()


@pytest.mark.parametrize("reset", ["watchdog", "power_on"])
def test_a_boot_past_its_wrap_whose_last_spasms_come_in_the_next_boot_s_backfill_is_placed_on_its_lap(
    tmp_path: Path, reset: str
) -> None:
    """Boot 5's spasms after its wrap that the host got only from boot 6's backfill are placed where
    they happened (to the ms, as the sync allows), with the live one before them one cluster of 4,
    alarmed; whether boot 6 came by a reset (its BOOTLINK to boot 5 first in the backfill, prev_ms
    u32) or a power-on (no link). A re-send of them all (the backfill re-sends) stores nothing twice
    and sets nothing aside: the live one too, stored unwrapped. Old code: seqs 2-4 kept their u32
    onsets, placed 49.7 days early (T0 + 60 - 2^32 ms), no cluster in the last days, no alarm; and
    the re-sent seq 1 (u32 20000, stored U32 + 20000) was set aside in the conflicts."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock)
        _boot5_live_then_away(d, clock)
        assert _alarms(d) == 0
        boot6_t0 = BOOT5_END_T + 1.5 if reset == "watchdog" else T0 + 200.0
        link = [_link(6, 5, prev_ms=_at(BOOT5_T0, BOOT5_END_T) % U32)] if reset == "watchdog" else []
        away = [_wrap_spasm(2 + i, 5, _at(BOOT5_T0, T0 + t)) for i, t in enumerate(AWAY_SPASMS_S)]
        assert [r["onset_ms"] for r in away] == [60_000, 66_500, 73_000]
        clock.t = T0 + 600.0
        _session_connect(d, clock, 6, boot6_t0, link + away + _epochs(6, _at(boot6_t0, clock.t)))
        events = sorted(store.events(WRAP_DEVICE), key=lambda e: e.seq)
        assert [e.onset_ms for e in events] == [_at(BOOT5_T0, T0 + t) for t in (-1200.0, 20.0, *AWAY_SPASMS_S)]
        placed = [None if e.wall_t is None else round(e.wall_t - T0, 3) for e in events]
        assert placed == [-1200.0, 20.0, *AWAY_SPASMS_S]
        ((start, count, alarmed),) = [(round(c.start_t - T0, 3), c.count, c.alert_t is not None) for c in store.clusters(WRAP_DEVICE)]
        assert (start, count, alarmed) == (20.0, 4, True)
        assert _alarms(d) == 1
        # The band re-sends them (a backfill from an earlier seq, after a hole): the same rows.
        clock.t = T0 + 900.0
        _session_connect(d, clock, 6, boot6_t0, link + [_wrap_spasm(1, 5, _at(BOOT5_T0, T0 + 20.0)), *away])
        assert store.conflicts(WRAP_DEVICE) == []
        again = sorted(store.events(WRAP_DEVICE), key=lambda e: e.seq)
        assert [(e.id, e.onset_ms, e.wall_t) for e in again] == [(e.id, e.onset_ms, e.wall_t) for e in events]
        assert [c.count for c in store.clusters(WRAP_DEVICE)] == [4] and _alarms(d) == 1
