"""Records a link loses while it stays up (hostile review of the link, h42i): the simulated band's
real firmware, the daemon, its store, over the serial stand-in (``CdcBridge``) whose frames can be
garbled on the way. A link that drops is covered by test_e2e / test_faults: its reconnect's
BACKFILL asks for what is missing; here nothing reconnects."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cdcdaemon import serial_daemon

from spasmwatch.alerts import NoticeKind
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.session import BandClock, BandInfo, BandSession, State
from spasmwatch.transport.cdcbridge import CdcBridge
from spasmwatch.transport.simband import SimBand
from swcore import protocol as P
from synthetic import supine, write_csv

DEVICE = "cot-usb"


def once(which: Callable[[CdcBridge, bytes], bool]) -> Callable[[CdcBridge, bytes], bool]:
    """A ``CdcBridge`` garble that takes each record ``which`` picks once: a send of it again goes whole."""
    taken: set[bytes] = set()

    def pick(bridge: CdcBridge, record: bytes) -> bool:
        if not which(bridge, record) or record in taken:
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
        garble = once(lambda _, r: r[1] == P.T_EVENT and _seq(r) in (1, 3))
        async with serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00001", garble=garble) as (band, bridge, store, d):
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

    seqs, logged, connections, alarmed = asyncio.run(main())
    assert logged >= 4 and seqs == list(range(logged)), (seqs, logged)
    assert connections == 1  # found on the link it was lost on, not by a reconnect
    assert alarmed


class FirstResps:
    """A ``CdcBridge`` garble that takes the first RESP to each opcode of ``ops`` on the first
    connection; ``left`` holds those not garbled yet."""

    def __init__(self, *ops: int) -> None:
        self.left = set(ops)

    def __call__(self, bridge: CdcBridge, record: bytes) -> bool:
        if bridge.connections != 1 or record[1] != P.T_RESP or record[2] not in self.left:
            return False
        self.left.discard(record[2])
        return True


def test_a_command_s_garbled_resp_is_asked_for_again_on_the_same_link(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """The band's answer to a host command, garbled on serial (its frame's CRC fails: dropped), was
    waited for the whole request timeout (10 s), then the connect failed and the link was closed and
    opened again. A frame refused for its CRC that reads as the RESP waited for (its length, type and
    opcode) now has the command sent again at once. The first answer to the connect's TIME_SYNC, INFO
    and BACKFILL is garbled: every event must be stored and the cluster alarmed on that one link.
    Old code: a second connection (the first timed out in its TIME_SYNC)."""

    async def main() -> tuple[list[int], int, int, bool, set[int]]:
        garble = FirstResps(P.OP_TIME_SYNC, P.OP_INFO, P.OP_BACKFILL)
        async with serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00007", garble=garble) as (band, bridge, store, d):
            await band.wait_report_async("played", WAIT_S)
            end = time.monotonic() + WAIT_S
            while True:
                logged = int(d.bands[0].status.get("next_seq", -1))  # (none before the first connect's STATUS)
                seqs = sorted(e.seq for e in store.events(DEVICE))
                if (logged >= 4 and seqs == list(range(logged))) or time.monotonic() > end:
                    break
                await asyncio.sleep(0.1)
            alarmed = any(n.kind is NoticeKind.CLUSTER_ALARM for n in d.notifications)
            return seqs, logged, bridge.connections, alarmed, garble.left

    seqs, logged, connections, alarmed, left = asyncio.run(main())
    assert connections == 1
    assert left == set()  # each answer was garbled once
    assert logged >= 4 and seqs == list(range(logged)), (seqs, logged)
    assert alarmed


def test_a_new_rate_s_garbled_config_answer_is_asked_for_again_and_the_band_rebooted_on_that_link(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """CONFIG was not sent again when its answer came garbled (its repeat answers "unchanged", which
    skipped the reboot that applies a new rate), so a garbled answer cost the request timeout (10 s)
    and a second connection. The rate the band reports (INFO) held against the configured one now
    reboots a band whose CONFIG answered "unchanged" at another rate: CONFIG is resent too. The first
    answer to a new rate's CONFIG (104 Hz; the band samples at 50) is garbled: the band must be
    rebooted to it on that one link. Old code: the reboot on the second connection."""

    async def main() -> tuple[dict[str, Any], int, set[int]]:
        garble = FirstResps(P.OP_CONFIG)
        # (the band stays up past its recording for a second connection, the old code's)
        rig = serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00009", garble=garble, rate_hz=104, idle_exit_ms=120_000)
        async with rig as (band, bridge, _, _):
            assert band.up["rate_hz"] == 50
            reset = await band.wait_report_async("reset", WAIT_S)
            return reset, bridge.connections, garble.left

    reset, connections, left = asyncio.run(main())
    assert left == set()  # CONFIG's answer was garbled
    assert reset["reason"] == "reboot"
    assert connections == 1
    assert json.loads((tmp_path / "flash" / "config.json").read_text())["rate_hz"] == 104


def test_a_command_whose_answers_keep_coming_garbled_is_sent_again_a_bounded_number_of_times(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """Every answer to TIME_SYNC garbled on the first connection: the command is sent again
    K.RESP_RESENDS times, no more, then its answer is waited for as before (the request timeout),
    the link closed and opened again; the second connection, clean, streams."""

    async def main() -> tuple[int, int, State]:
        garbled = 0

        def every_sync_answer(bridge: CdcBridge, record: bytes) -> bool:
            nonlocal garbled
            if bridge.connections == 1 and record[1] == P.T_RESP and record[2] == P.OP_TIME_SYNC:
                garbled += 1
                return True
            return False

        # (the band stays up past its recording for the second connection)
        rig = serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00008", garble=every_sync_answer, idle_exit_ms=120_000)
        async with rig as (_, bridge, _, d):
            end = time.monotonic() + WAIT_S
            while not (bridge.connections == 2 and d.bands[0].session.state is State.STREAMING) and time.monotonic() < end:
                await asyncio.sleep(0.1)
            return garbled, bridge.connections, d.bands[0].session.state

    garbled, connections, state = asyncio.run(main())
    assert garbled == 1 + K.RESP_RESENDS
    assert (connections, state) == (2, State.STREAMING)


def test_a_fresh_band_s_status_sent_before_the_sync_raises_no_clock_fault(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """The STATUS a serial band sends as its port opens (docs/transport.md: a CDC port's first
    record; over BLE, one the band notifies between the connect and the first TIME_SYNC) waits in
    the session's queue until the connect sequence is done; a band not synced since it booted says
    so in it. Handled after the connect's sync, it raised clock_unsynced, a push to the family,
    cleared by the next STATUS 10 s later: at every connect of a band that had rebooted. A STATUS
    the band sent before the sync cannot tell whether the sync took. Old code: band_fault
    clock_unsynced, then band_cleared."""

    async def main() -> list[tuple[NoticeKind, str]]:
        async with serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00002") as (band, _, _, d):
            await band.wait_report_async("played", WAIT_S)
            return [(n.kind, str(n.fault.value if n.fault else "")) for n in d.notifications if n.kind not in (NoticeKind.CLUSTER_WARNING, NoticeKind.CLUSTER_ALARM)]

    assert asyncio.run(main()) == []


async def _kinds_till_closed(band: SimBand, d: Daemon) -> list[NoticeKind]:
    """The kinds of the daemon's notices once the band has played its recording and a cluster has
    closed, or 10 real s past it (40 band-s at 4x) if none does."""
    await band.wait_report_async("played", WAIT_S)
    end = time.monotonic() + 10
    kinds: list[NoticeKind] = []
    while NoticeKind.CLUSTER_CLOSED not in kinds and time.monotonic() < end:
        await asyncio.sleep(0.1)
        kinds = [n.kind for n in d.notifications]
    return kinds


@pytest.fixture(scope="module")
def quiet_after_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 s: a cluster of 4 spasms from t = 8 s, then 74 s quiet (its close takes 60 s)."""
    t, acc, gyro = supine(rate_hz=52, duration_s=100.0, spasms=(8.0, 14.0, 20.0, 26.0), seed=5)
    return write_csv(tmp_path_factory.mktemp("rec") / "quiet_after.csv", t, acc, gyro)


def test_a_backfill_s_end_garbled_on_a_serial_link_leaves_no_cluster_open_for_good(tmp_path: Path, quiet_after_csv: Path) -> None:
    """The BACKFILL's end (LOGINFO done) is what tells the daemon the band's log is in: until it
    comes, epochs are held back and no cluster closes by time. Lost to noise on serial, it never
    came on that link: every epoch was held (a list growing all night) and the cluster stayed
    open, its alarm with it, until a reconnect. The band sends epochs only once that end is sent,
    so an epoch after the backfill's start without it says it was lost: asked for again. Old
    code: no cluster closed 100 band-s in, the session still backfilling."""

    async def main() -> tuple[list[NoticeKind], int]:
        done = once(lambda _, r: r[1] == P.T_LOGINFO and bool(r[2] & P.LF_DONE))
        async with serial_daemon(quiet_after_csv, tmp_path, DEVICE, "usb00003", garble=done) as (band, bridge, _, d):
            kinds = await _kinds_till_closed(band, d)
            return kinds, bridge.connections

    kinds, connections = asyncio.run(main())
    assert NoticeKind.CLUSTER_ALARM in kinds and NoticeKind.CLUSTER_CLOSED in kinds, kinds
    assert connections == 1


class _Sink:
    """The session's sink, keeping nothing (``BandSession`` is what is tested)."""

    def next_backfill_seq(self, device: str) -> int:
        return 5  # the store's first missing seq

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None  # the other SessionSink calls


def _backfilling_session(t0: float) -> BandSession:
    """A session (its wall clock stopped at ``t0``) whose band is synced at ``t0`` and whose BACKFILL
    from seq 5 (the sink's first missing) is under way: records fed to it by hand (``_take``)."""
    s = BandSession("crib", lambda: None, _Sink(), wall=lambda: t0)  # type: ignore[arg-type,return-value]
    s.info = BandInfo(DEVICE, "spasmwatch-band", "test", "sim", "sim:0", "sim")
    s._clock = BandClock.at_sync(1, 0, 0, t0)
    s._backfill_from = 5
    return s


def test_an_epoch_passing_a_backfill_s_start_is_no_lost_end_the_next_one_is() -> None:
    """The band sends an epoch only once a BACKFILL's end is sent, but one it was sending as the
    BACKFILL came can pass the start's notify when nothing waits to be backfilled: that one is no
    sign the end was lost (a BACKFILL asked again, and an INFO line saying a loss that was none);
    a second epoch, 10 s later, with no end between, is. Asked once a link for that BACKFILL."""
    T0 = 1_800_000_000.0

    def stream(*records: bytes) -> list[str]:
        s = _backfilling_session(T0)
        asked = []
        for data in records:
            s._take(DEVICE, data, T0)
            asked.append(s._refill)
            s._refill = ""  # (as the stream does once it asked)
        return [a for a in asked if a]

    start, done = P.encode_loginfo(0, 0, 5, 4096), P.encode_loginfo(P.LF_DONE, 0, 5, 4096)
    epoch = [P.encode_activity(1, 10_000 * k, 20, 50, 0, 1) for k in (1, 2, 3, 4)]
    assert stream(start, epoch[0], done, epoch[1]) == []
    lost = ["the events from seq 5: this link did not deliver their BACKFILL's end"]
    assert stream(start, epoch[0], epoch[1]) == lost
    assert stream(start, epoch[0], epoch[1], start, epoch[2], epoch[3]) == lost  # its end lost again: the next connect's


def test_a_backfill_s_end_lost_on_a_band_that_sends_no_epochs_is_asked_for_again(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """The lost end of a BACKFILL (LOGINFO done) was found only by the epochs after it; a band
    that senses nothing (its recording played out here; a critical battery or safe mode on a
    real band) sends none, and the session stayed backfilling for the rest of the link: no
    cluster closed by time, its alarm open. The band sends the end right after the last event
    it holds (LOGINFO's and the RESP's next_seq say which): all delivered and no end LIVE_GAP_S
    later, it was lost. The band plays its cluster on a first link; the cable is pulled after
    it; the reconnect's BACKFILL end is garbled. Old code: still backfilling 30 real s (120
    band-s) later, no cluster_closed."""

    async def main() -> tuple[list[NoticeKind], bool, int]:
        def second_link_s_end(bridge: CdcBridge, record: bytes) -> bool:
            return bridge.connections == 2 and record[1] == P.T_LOGINFO and bool(record[2] & P.LF_DONE)

        garble = once(second_link_s_end)
        async with serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00004", garble=garble, idle_exit_ms=60_000) as (band, bridge, _, d):
            await band.wait_report_async("played", WAIT_S)
            await asyncio.sleep(1.0)  # (the last epochs and events in)
            bridge.drop()
            end = time.monotonic() + 30
            kinds: list[NoticeKind] = []
            while time.monotonic() < end:
                await asyncio.sleep(0.1)
                kinds = [n.kind for n in d.notifications]
                if bridge.connections == 2 and not d.bands[0].backfilling and NoticeKind.CLUSTER_CLOSED in kinds:
                    break
            return kinds, d.bands[0].backfilling, bridge.connections

    kinds, backfilling, connections = asyncio.run(main())
    assert connections == 2
    assert not backfilling
    assert NoticeKind.CLUSTER_ALARM in kinds and NoticeKind.CLUSTER_CLOSED in kinds, kinds


def test_a_backfill_whose_start_and_end_are_garbled_is_asked_for_again(tmp_path: Path, quiet_after_csv: Path) -> None:
    """Both rules for a lost BACKFILL end (the epochs', the clock's) counted from its start
    (LOGINFO, flags 0): a link that lost the start too was caught by neither. With nothing to
    backfill the two records go back to back, and one burst of noise on serial takes both: every
    epoch held, no cluster closed by time, its alarm open until a reconnect. Now the BACKFILL's
    own events stand for a lost start (the epochs' rule counts from the first), and with neither
    start nor event nor end LIVE_GAP_S after its RESP it is asked for again; the epochs the band
    held for the connect (sent before the start) are counted by neither. Old code: no
    cluster_closed 10 real s past the recording (40 band-s at 4x), the session still backfilling."""

    async def main() -> tuple[list[NoticeKind], bool, int]:
        def first_link_s_start_and_end(bridge: CdcBridge, record: bytes) -> bool:
            return bridge.connections == 1 and record[1] == P.T_LOGINFO and not record[2] & P.LF_HELD

        garble = once(first_link_s_start_and_end)
        async with serial_daemon(quiet_after_csv, tmp_path, DEVICE, "usb00006", garble=garble) as (band, bridge, _, d):
            kinds = await _kinds_till_closed(band, d)
            return kinds, d.bands[0].backfilling, bridge.connections

    kinds, backfilling, connections = asyncio.run(main())
    assert connections == 1
    assert not backfilling
    assert NoticeKind.CLUSTER_ALARM in kinds and NoticeKind.CLUSTER_CLOSED in kinds, kinds


def test_a_lost_backfill_start_is_found_by_its_events_or_by_the_clock_and_held_epochs_are_not_counted() -> None:
    """The BACKFILL's start lost, its first event stands for it (the epochs' rule counts from
    there); none of its records LIVE_GAP_S after its RESP, it is asked for again. The epochs the
    band held for the connect come before any of them and neither count nor end the wait."""
    T0 = 1_800_000_000.0
    s = _backfilling_session(T0)
    epoch = [P.encode_activity(1, 10_000 * k, 20, 50, 0, 1) for k in (1, 2, 3, 4)]
    lost = "the events from seq 5: this link did not deliver their BACKFILL's end"

    s._start_wait = 100.0  # the BACKFILL's RESP, at loop time 100 s (as _send_backfill marks it)
    for data in epoch:  # held for the connect: no start, no event of the BACKFILL
        s._take(DEVICE, data, T0)
    assert s._refill == "" and not s._start_lost(109.9)
    assert s._start_lost(110.0)  # LIVE_GAP_S after the RESP: start and end lost
    s._ask_end()
    assert s._refill == lost and not s._start_lost(200.0)  # once a BACKFILL and link

    s._refill, s._end_asked, s._start_wait = "", -1, 100.0  # the start lost, its events came
    s._take(DEVICE, P.encode_event(5, 1, 5_000, 800, 200, 30, 90), T0)
    assert not s._start_lost(200.0)
    s._take(DEVICE, epoch[0], T0)
    assert s._refill == ""  # one epoch may pass the end
    s._take(DEVICE, epoch[1], T0)
    assert s._refill == lost
