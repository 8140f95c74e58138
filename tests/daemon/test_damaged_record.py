"""A record damaged in the band's flash (a bit error) inside its log, through the real parts.

The band skips it (never sent); the daemon asks a BACKFILL from the first seq it lacks, that one:
on the same link once it has waited K.LIVE_GAP_S for it (until 2026-12-06 at the next connection).
The band answers that BACKFILL with LOGINFO's gap flag and, as ``oldest_seq``, the first seq after
it that reads back (docs/protocol.md): the daemon marks it lost and asks from past it. Before, the
band said no gap and the daemon asked for it at every connection until the ring turned over,
taking every later event again each time.
"""

from __future__ import annotations

import asyncio
import binascii
import struct
from pathlib import Path

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.session import State
from swcore import protocol as P

from .conftest import Rig, rig

DEVICE = "band0000"
LOGGED = 8
DAMAGED = 3


def _flash_with_a_damaged_record(flash: Path) -> None:
    """The event log as a band's earlier boot left it (its first segment, band/eventlog.py's slot
    layout), seq DAMAGED's record damaged."""
    flash.mkdir()
    data = bytearray()
    for seq in range(LOGGED):
        slot = struct.pack("<H", 0x5753) + P.encode_event(seq, 1, 1000 + seq * 700, 800, 900, 60, 80, 0)
        data += slot + struct.pack("<H", binascii.crc_hqx(slot, 0xFFFF))
    data[24 * DAMAGED + 9] ^= 0xFF
    (flash / "events").mkdir()
    (flash / "events" / "0").write_bytes(bytes(data))


async def _connected_and_caught_up(r: Rig) -> None:
    d = r.daemon
    assert d is not None
    await r.wait_for(lambda: d.bands[0].session.state is State.STREAMING and not d.bands[0].backfilling, 60, "the backfill's end")


async def _caught_up_then_stopped(r: Rig) -> int:
    """The daemon has every event of the band's log but the damaged one, which it asked for again on
    the same link and marked lost; then the band is stopped and the link has dropped. Returns the
    band's port, for its next boot."""
    d = r.daemon
    assert d is not None
    await _connected_and_caught_up(r)
    assert sorted(e.seq for e in r.store.events(DEVICE)) == [s for s in range(LOGGED) if s != DAMAGED]
    link = d.bands[0].session.link
    await r.wait_for(lambda: r.store.lost_ranges(DEVICE) != [], K.LIVE_GAP_S + 30, "the damaged seq marked lost")
    assert [(x.first_seq, x.last_seq) for x in r.store.lost_ranges(DEVICE)] == [(DAMAGED, DAMAGED)]
    assert d.bands[0].session.link is link, "on the link that skipped it"
    old = r.bands[0]
    old.kill()
    await r.wait_for(lambda: d.bands[0].session.state is not State.STREAMING, 30, "the link to drop")
    return old.port


def test_a_damaged_record_is_marked_lost_on_the_link_that_skipped_it_and_not_asked_for_again(tmp_path: Path, quick_cluster_csv: Path) -> None:
    _flash_with_a_damaged_record(tmp_path / "flash0")

    async def main() -> None:
        # Played from its last second: the band logs nothing new, its log is the one written above.
        async with rig(tmp_path, quick_cluster_csv, speed=4, band_args=("--csv-skip-s", "39")) as r:
            port = await _caught_up_then_stopped(r)
            assert r.store.next_backfill_seq(DEVICE) == LOGGED, "asked from past it from now on"
            r.start_band(0, ("--csv-skip-s", "39"), port=port)  # the band reboots: a BACKFILL from past it
            await _connected_and_caught_up(r)
            assert [(x.first_seq, x.last_seq) for x in r.store.lost_ranges(DEVICE)] == [(DAMAGED, DAMAGED)]
            assert r.store.count_events(DEVICE) == LOGGED - 1

    asyncio.run(main())


def test_a_damaged_newest_record_is_no_erased_log(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """Found by review: the band's newest record damaged in flash between two boots gave a
    ``next_seq`` back by one at the next boot; the daemon, holding that seq, took the band's log as
    erased, started a new log life and stored every event of the ring a second time under new seqs
    (13 events for 7). Now the band keeps the seq used (band/logscan.py) and the daemon marks it
    lost."""
    _flash_with_a_damaged_record(tmp_path / "flash0")

    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=4, band_args=("--csv-skip-s", "39")) as r:
            port = await _caught_up_then_stopped(r)
            held = sorted(e.seq for e in r.store.events(DEVICE))
            log = tmp_path / "flash0" / "events" / "0"
            data = bytearray(log.read_bytes())
            data[24 * (LOGGED - 1) + 9] ^= 0xFF  # the newest record, sent already
            log.write_bytes(bytes(data))
            r.start_band(0, ("--csv-skip-s", "39"), port=port)
            await _connected_and_caught_up(r)
            assert r.store.log_lives(DEVICE) == [], "no erased log"
            assert sorted(e.seq for e in r.store.events(DEVICE)) == held, "no event stored twice"

    asyncio.run(main())
