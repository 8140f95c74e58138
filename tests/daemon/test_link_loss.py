"""Records a link loses while it stays up (hostile review of the link, h42i): the simulated band's
real firmware, the daemon, its store, over the serial stand-in (``CdcBridge``) whose frames can be
garbled on the way. A link that drops is covered by test_e2e / test_faults: its reconnect's
BACKFILL asks for what is missing; here nothing reconnects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from spasmwatch.alerts import NoticeKind
from spasmwatch.daemon.clock import ScaledClock
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.cdcbridge import CdcBridge
from spasmwatch.transport.simband import SimBand
from swcore import protocol as P

DEVICE = "cot-usb"


def once(which: Callable[[bytes], bool]) -> Callable[[bytes], bool]:
    """A ``CdcBridge`` garble that takes each record ``which`` picks once: a send of it again goes whole."""
    taken: set[bytes] = set()

    def pick(record: bytes) -> bool:
        if not which(record) or record in taken:
            return False
        taken.add(record)
        return True

    return pick


def _seq(record: bytes) -> int:
    return int.from_bytes(record[2:6], "little")  # EVENT's seq (u32 at byte 2)
WAIT_S = 90.0  # real s: a bound for a loaded machine, not a measure (the band plays 40 s at 4x)


def test_live_events_garbled_on_a_serial_link_that_stays_up_are_asked_for_again(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """A burst of noise inside an EVENT's frame (its CRC fails: the decoder drops it, as it must)
    lost that event for as long as the link stayed up: the band's cursor had moved on, and only
    a reconnect's BACKFILL asked for it again; a USB cable stays in for days. Seq 1 (a later
    event shows the gap) and the last one (only the band's STATUS, its next_seq, shows it) are
    garbled once. Each must be stored, on the same link, and the cluster alarmed: the live-gap
    rule of 07fd2e8a (a lost notification, docs/host.md "Events missed on a link") is what does it
    over serial too (at 744bf4d3, before it: seqs [0, 2] stored of 0..3 after 90 s, one link)."""

    async def main() -> tuple[list[int], int, int, bool]:
        with SimBand(quick_cluster_csv, tmp_path / "flash", hold=True, speed=4, device_id="usb00001") as band:
            bridge = CdcBridge(band.address, bond_file=tmp_path / "bonds.json", garble=once(lambda r: r[1] == P.T_EVENT and _seq(r) in (1, 3)))
            await bridge.start()
            with Store(tmp_path / "db.sqlite") as store:
                d = Daemon(store, [BandSpec(DEVICE, lambda: open_link("serial", bridge.url))], clock=ScaledClock(time.time(), 4))
                await d.start()
                try:
                    await band.wait_report_async("played", WAIT_S)
                    end = time.monotonic() + WAIT_S
                    while True:
                        status = d.bands[0].status
                        logged = -1 if status is None else int(status["next_seq"])
                        seqs = sorted(e.seq for e in store.events(DEVICE))
                        if (logged >= 4 and seqs == list(range(logged))) or time.monotonic() > end:
                            break
                        await asyncio.sleep(0.1)
                    alarmed = any(n.kind is NoticeKind.CLUSTER_ALARM for n in d.notifications)
                    return seqs, logged, bridge.connections, alarmed
                finally:
                    await d.stop()
                    await bridge.close()

    seqs, logged, connections, alarmed = asyncio.run(main())
    assert logged >= 4 and seqs == list(range(logged)), (seqs, logged)
    assert connections == 1  # found on the link it was lost on, not by a reconnect
    assert alarmed


def test_a_fresh_band_s_status_sent_before_the_sync_raises_no_clock_fault(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """The STATUS a serial band sends as its port opens (docs/transport.md: a CDC port's first
    record; over BLE, one the band notifies between the connect and the first TIME_SYNC) waits in
    the session's queue until the connect sequence is done; a band not synced since it booted says
    so in it. Handled after the connect's sync, it raised clock_unsynced, a push to the family,
    cleared by the next STATUS 10 s later: at every connect of a band that had rebooted. A STATUS
    the band sent before the sync cannot tell whether the sync took. Old code: band_fault
    clock_unsynced, then band_cleared."""

    async def main() -> list[tuple[NoticeKind, str]]:
        with SimBand(quick_cluster_csv, tmp_path / "flash", hold=True, speed=4, device_id="usb00002") as band:
            bridge = CdcBridge(band.address, bond_file=tmp_path / "bonds.json")
            await bridge.start()
            with Store(tmp_path / "db.sqlite") as store:
                d = Daemon(store, [BandSpec(DEVICE, lambda: open_link("serial", bridge.url))], clock=ScaledClock(time.time(), 4))
                await d.start()
                try:
                    await band.wait_report_async("played", WAIT_S)
                    return [(n.kind, str(n.fault.value if n.fault else "")) for n in d.notifications if n.kind is not NoticeKind.CLUSTER_ALARM]
                finally:
                    await d.stop()
                    await bridge.close()

    assert asyncio.run(main()) == []

