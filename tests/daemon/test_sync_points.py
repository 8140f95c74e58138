"""The daemon's writes at a band's connect and at each of its sync points: none syncs the disk on
the event loop (docs/store.md "Guarantees"), each is on disk once the store's thread synced the WAL.

Real parts: the Daemon in process, its store on disk; the band's session is told by hand
(tests/synthetic.py ``streaming``), on a clock that stands still but where moved.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from synthetic import HandClock, streaming

from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store

T0 = 1_800_000_000.0  # the band's clock synced here: band ms 0 is this wall second
DEV = "cot0001"
HOUR_S = 3600.0  # the daemon's resync (consts.RESYNC_S): a long connection's next sync point


def test_a_bands_connect_and_its_sync_points_sync_nothing_on_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by bench/slow_disk.py (--resync-s): each sync point (``add_sync``: the connect's, then
    one an hour on a long connection, at each reconnect of a flapping link) and the band's row (its
    connect's ``upsert_device``, its IMU rate's) were FULL commits on the event loop, each an fsync
    that held it (up to a second on an SD card). They are lazy now: a power cut loses them with the
    last minute, as a prefix of the commits (the events they place with them), and the next
    connect makes them again; an alarm's push waits for its transition's sync, which takes them to
    disk first. The daemon's checks of the clock at each sync (``place_on_clock``, ``place_by_links``)
    write nothing then, and sync nothing either. Counted as the store's COMMITs at synchronous=FULL
    that wrote a row, and the WAL syncs (the real os.fsync) on the loop's thread."""
    from test_store_wear import HANG_S, SyncedCommits, WalSyncs

    clock = HandClock(T0)
    walsyncs = WalSyncs(monkeypatch)

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            store._clock = lambda: T0
            seen = SyncedCommits(store)
            d = Daemon(store, [BandSpec("cot", lambda: None)], {}, clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type]
            try:
                streaming(d, DEV, T0)  # its connect (its row) and first sync point
                d.on_rate(DEV, 50.0)
                clock.t += HOUR_S
                d.on_sync(DEV, 1, int(HOUR_S * 1000), clock.t, clock.since_boot())  # a long connection's next
                assert seen.synced == 0  # (before: 4, the row twice and the two sync points)
                assert [loop for _, loop in walsyncs.made] == [False] * len(walsyncs.made)
                store.synced_later().result(HANG_S)
                assert [(s.band_ms, s.wall_s) for s in store.syncs(DEV)] == [(0, T0), (HOUR_S * 1000, T0 + HOUR_S)]
                [row] = store.devices()
                assert (row.device_id, row.rate_hz) == (DEV, 50.0)
            finally:
                await d.dispatcher.close()

    asyncio.run(main())
