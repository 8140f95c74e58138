"""A band boot no daemon ever time-synced, placed through the band's own boot links (BOOTLINK).

Driven through the Daemon as its sessions drive it (identified, synced, backfilled), on a store on
disk. Without the links such a boot's events have no wall time: stored, never placed, so a cluster
in them is never alarmed and exports leave it out (bench/README.md "part 2"). The records are the
band's BOOTLINK bytes, decoded as the session hands them on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.alerts import NoticeKind
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import BandClock, BandInfo, BandSession, Offsets, State
from spasmwatch.store import Store
from swcore import protocol as P
from synthetic import HandClock, spasm_record

DEVICE = "link0001"
T0 = 1_800_000_000.0


def _link(
    boot: int, prev_boot: int, prev_ms: int, gap_ms: int = 1500, err_ms: int = 3, flags: int = P.BLF_RTC, cause: int = P.RC_WDT
) -> dict[str, Any]:
    return P.decode(P.encode_bootlink(boot, prev_boot, cause, flags, prev_ms, gap_ms, err_ms))


def _spasm(seq: int, boot: int, onset_ms: int) -> dict[str, Any]:
    """A spasm of a boot never synced: the band logs it without its time-synced flag."""
    return dict(spasm_record(seq, onset_ms), boot=boot, flags=0)


def _epochs(boot: int, until_ms: int) -> list[dict[str, Any]]:
    return [{"type": "activity", "boot": boot, "t_ms": t, "activity": 0, "breath": 0, "off_body": 0, "worn": 1}
            for t in range(10_000, until_ms + 1, 10_000)]  # fmt: skip


def _daemon(store: Store, clock: HandClock) -> Daemon:
    return Daemon(store, [BandSpec("crib", lambda: None)], clock=clock)  # type: ignore[arg-type,return-value]  # driven below


def _connect(d: Daemon, clock: HandClock, boot: int, boot_wall_t0: float, backfill: list[dict[str, Any]]) -> None:
    """A connect in band boot ``boot`` (its ms 0 at wall ``boot_wall_t0``) at ``clock.t``: identified,
    synced, backfilled (the band re-sends its links first), LOGINFO done, streaming; a tick."""
    b = d.bands[0]
    b.session.info = BandInfo(DEVICE, "spasmwatch-band", "test", "sim", "sim:0", "sim")
    d.on_connected(b.session.info)
    d.on_sync(DEVICE, boot, round((clock.t - boot_wall_t0) * 1000), clock.t, clock.since_boot())
    d.next_backfill_seq(DEVICE)
    for rec in backfill:
        d.on_record(DEVICE, rec, clock.t)
    d.on_record(DEVICE, {"type": "loginfo", "flags": P.LF_DONE}, clock.t)
    b.session._set(State.STREAMING)
    d._tick()


def _alarms(d: Daemon) -> int:
    """The clusters the family was told of: these boots' clusters ended minutes before a host
    learned of them, so each is told once as a cluster earlier, not alarmed (docs/alerts.md)."""
    kinds = [n.kind for n in d.notifications]
    return kinds.count(NoticeKind.CLUSTER_ALARM) + kinds.count(NoticeKind.CLUSTER_LATE)


def _onsets(store: Store, boot: int) -> list[float | None]:
    return [None if e.wall_t is None else round(e.wall_t - T0, 3) for e in store.events(DEVICE) if e.boot == boot]


# Band boot 2 began at T0 - 100 with no host in reach: 3 spasms 6.5 s apart from its 20 s, a watchdog
# reset at its 40 s; boot 3 began 1.5 s later (T0 - 58.5), and a daemon reached it at T0 + 60.
BOOT2_T0 = T0 - 100.0
BOOT2_SPASMS_MS = [20_000, 26_500, 33_000]
BOOT3_T0 = BOOT2_T0 + 41.5


def _boot2_then_synced_boot3(d: Daemon, clock: HandClock) -> None:
    clock.t = T0 + 60
    backfill = [_link(3, 2, prev_ms=40_000)]
    backfill += [_spasm(i, 2, ms) for i, ms in enumerate(BOOT2_SPASMS_MS)]
    backfill += _epochs(3, 110_000)
    _connect(d, clock, 3, BOOT3_T0, backfill)


def test_a_boot_no_host_synced_is_placed_through_the_next_boot_s_link_and_its_cluster_alarms(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Boot 2 never synced, boot 3 synced and linked to it (measured, +-3 ms). Old code: boot 2's 3
    spasms stored with no wall time (``unplaced_events`` [(link0001, 2, 3)]), no cluster, no alarm."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock)
        with caplog.at_level(logging.WARNING, "spasmwatch.daemon.daemon"):
            _boot2_then_synced_boot3(d, clock)
        assert store.unplaced_events(DEVICE) == []
        assert _onsets(store, 2) == pytest.approx([-80.0, -73.5, -67.0], abs=0.003)
        ((c, n, alarmed),) = [(round(c.start_t - T0, 1), c.count, c.alert_t is not None) for c in store.clusters(DEVICE)]
        assert (c, n, alarmed) == (-80.0, 3, True)
        assert _alarms(d) == 1
        said = [r.getMessage() for r in caplog.records if "no time sync reached" in r.getMessage()]
        assert len(said) == 1 and "band boot 2" in said[0] and "from boot 3" in said[0] and "+-0.003 s" in said[0], said
        assert [(r.boot, r.via, r.hops, r.events) for r in store.linked_events(DEVICE)] == [(2, 3, 1, 3)]


def test_a_brown_out_s_link_places_the_boot_before_it_as_any_other(tmp_path: Path) -> None:
    """A brown-out reads as a power-on on the band, which then links only a measured gap, cause
    RC_POWER_ON (5): the host stores it with its cause and places boot 2 by it, its cluster alarmed.
    Old code: the protocol had no cause 5 (the decoder refused the record, E_VALUE): boot 2 unplaced."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock)
        clock.t = T0 + 60
        backfill = [_link(3, 2, prev_ms=40_000, cause=P.RC_POWER_ON)]
        backfill += [_spasm(i, 2, ms) for i, ms in enumerate(BOOT2_SPASMS_MS)]
        _connect(d, clock, 3, BOOT3_T0, backfill + _epochs(3, 110_000))
        ((row,),) = [store.boot_links(DEVICE)]
        assert (row.boot, row.prev_boot, row.cause, row.flags) == (3, 2, P.RC_POWER_ON, P.BLF_RTC)
        assert store.unplaced_events(DEVICE) == []
        assert _onsets(store, 2) == pytest.approx([-80.0, -73.5, -67.0], abs=0.003)
        assert [(r.boot, r.via, r.hops) for r in store.linked_events(DEVICE)] == [(2, 3, 1)]
        assert [c.count for c in store.clusters(DEVICE)] == [3] and _alarms(d) == 1


def test_a_boot_no_host_synced_is_placed_through_its_own_link_from_the_boot_before(tmp_path: Path) -> None:
    """The other way: boot 2 synced, boot 3 never (its spasms logged while away), boot 4 a power-on
    (no link). Boot 3 is placed from boot 2's sync through boot 3's link (estimated: +-2 s). Old code:
    boot 3's spasms unplaced, no alarm."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock)
        clock.t = T0 + 5
        _connect(d, clock, 2, T0, _epochs(2, 0))  # boot 2's 0 ms at T0
        # Boot 2 reset at its 30 s; boot 3 began 1.5 s later (T0 + 31.5), spasms at its 10, 17, 24 s,
        # powered off at its 60 s; boot 4 (power-on) at T0 + 200, reached at T0 + 210.
        clock.t = T0 + 210
        backfill = [_link(3, 2, prev_ms=30_000, err_ms=2000, flags=0)]
        backfill += [_spasm(i, 3, 10_000 + 7_000 * i) for i in range(3)]
        _connect(d, clock, 4, T0 + 200, backfill + _epochs(4, 10_000))
        assert store.unplaced_events(DEVICE) == []
        assert _onsets(store, 3) == pytest.approx([41.5, 48.5, 55.5], abs=0.002)
        assert [c.count for c in store.clusters(DEVICE)] == [3] and _alarms(d) == 1
        assert [(r.boot, r.via, r.err_s) for r in store.linked_events(DEVICE)] == [(3, 2, 2.0)]


def test_two_boots_no_host_synced_are_placed_through_a_chain_of_links_as_late_events(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Boots 2 and 3 never synced, boot 4 synced: boot 3 through one link, boot 2 through two, their
    errors summed. Their spasms were stored before the links came (a daemon that took no BOOTLINK, then
    an upgrade): placed by the links, they are fed to the analysis as late events (its rebuild at the
    backfill's end), and the cluster across the reset of boot 2 alarms once. Old code: all 4 unplaced."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        # Boot 2 from T0 - 200: spasms at its 50 and 56 s, reset at its 60 s; boot 3 from T0 - 138.5
        # (1.5 s later): spasms at its 2 and 8 s, reset at its 30 s; boot 4 from T0 - 107.
        store.add_events(DEVICE, [_spasm(0, 2, 50_000), _spasm(1, 2, 56_000), _spasm(2, 3, 2_000), _spasm(3, 3, 8_000)], T0 - 60)
        assert store.unplaced_events(DEVICE) == [(DEVICE, 2, 2), (DEVICE, 3, 2)]
        d = _daemon(store, clock)
        clock.t = T0 + 30
        with caplog.at_level(logging.WARNING, "spasmwatch.daemon.daemon"):
            _connect(d, clock, 4, T0 - 107.0, [_link(3, 2, 60_000, err_ms=4), _link(4, 3, 30_000, err_ms=5), *_epochs(4, 130_000)])
        said = sorted(r.getMessage().split(", which")[0] for r in caplog.records if "no time sync reached" in r.getMessage())
        assert said == [f"{DEVICE}: band boot 2", f"{DEVICE}: band boot 3"], said  # once each, at the backfill's end
        assert store.unplaced_events(DEVICE) == []
        assert _onsets(store, 2) == pytest.approx([-150.0, -144.0], abs=0.01)
        assert _onsets(store, 3) == pytest.approx([-136.5, -130.5], abs=0.01)
        assert [(r.boot, r.via, r.hops, r.err_s) for r in store.linked_events(DEVICE)] == [(2, 4, 2, 0.009), (3, 4, 1, 0.005)]
        assert [c.count for c in store.clusters(DEVICE)] == [4] and _alarms(d) == 1


def test_a_power_on_breaks_the_chain_and_its_boots_stay_unplaced(tmp_path: Path) -> None:
    """Boot 1 and 2 never synced (2 linked to 1), boot 3 a power-on (no link), synced: nothing links
    boots 1-2 to a sync, so their events stay unplaced, said as before. Passes on the old code too:
    what the links must not do."""
    clock = HandClock(T0 + 60)
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock)
        _connect(d, clock, 3, T0, [_link(2, 1, 40_000), *[_spasm(i, 2, 10_000 + 6_000 * i) for i in range(3)]])
        assert store.unplaced_events(DEVICE) == [(DEVICE, 2, 3)]
        assert store.linked_events(DEVICE) == [] and list(store.clusters(DEVICE)) == [] and _alarms(d) == 0


def test_a_restarted_daemon_re_sent_the_links_places_nothing_twice(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The band re-sends its last 16 links at every backfill: a restarted daemon reconnecting gets
    boot 3's link again. Nothing is placed again, said again, stored again or alarmed again; the
    places are those the first daemon stored. Old code: nothing placed by either."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        first = _daemon(store, clock)
        _boot2_then_synced_boot3(first, clock)
        placed = _onsets(store, 2)
        assert _alarms(first) == 1 and None not in placed
        clock.t = T0 + 300
        restarted = _daemon(store, clock)
        caplog.clear()
        with caplog.at_level(logging.WARNING, "spasmwatch.daemon.daemon"):
            _connect(restarted, clock, 3, BOOT3_T0, [_link(3, 2, prev_ms=40_000), *_epochs(3, 350_000)])
        assert _onsets(store, 2) == placed
        assert not [r for r in caplog.records if "no time sync reached" in r.getMessage()]
        assert len(store.boot_links(DEVICE)) == 1 and store.conflicts(DEVICE) == []
        assert [c.count for c in store.clusters(DEVICE)] == [3] and _alarms(restarted) == 0


def test_a_link_re_sent_with_other_numbers_keeps_the_stored_one_and_is_set_aside(tmp_path: Path) -> None:
    """A link under a boot stored already, with other numbers (a band whose RTC memory was
    corrupted, a firmware bug): the places stay those of the stored link, the newcomer is kept in
    the store's conflicts, nothing is analysed again. Old code: no link stored, nothing placed."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock)
        _boot2_then_synced_boot3(d, clock)
        placed = _onsets(store, 2)
        d.on_record(DEVICE, _link(3, 2, prev_ms=45_000), clock.t)
        assert _onsets(store, 2) == placed and [r.prev_ms for r in store.boot_links(DEVICE)] == [40_000]
        ((_, kind, rec, _),) = store.conflicts(DEVICE)
        assert (kind, rec["prev_ms"]) == ("bootlink", 45_000) and _alarms(d) == 1


def test_a_bootlink_s_boots_are_mapped_by_the_band_s_log_life() -> None:
    """A band whose flash was erased counts boots from 1 again: both boots of a link are the host's
    (band + the life's boot offset), as an event's is. Old code: prev_boot left in band numbers."""
    rec = Offsets(boot=10, seq=500).to_host(_link(2, 1, 40_000))
    assert (rec["boot"], rec["prev_boot"]) == (12, 11)


def test_a_bootlink_of_a_boot_after_the_band_s_current_one_is_from_before_its_count_restarted() -> None:
    """The band keeps its last 16 links in flash (links.bin) and re-sends them at every backfill; a
    boot count that started again (its u16 wrap; a state.bin the band could not read) leaves links of
    boots numbered after the current one. Those name no boot of this count: the session drops them
    (the others go on to the sink as before). Old code: passed on, mapped into this life as boots
    still to come, where they would later place boots of this life from another's numbers.

    So is the link across the wrap (boot 0, prev_boot 65535): its prev_boot is of the count before,
    whose host number the session cannot know (the store numbers the new life from the highest boot
    it holds, so the boots it never saw before the wrap have none; mapping it as the host boot just
    before put boot 0 after the last boot the host saw, the boots between left out). bb495a8 mapped
    it to 65535 + the new life's offset, a boot that never comes; this branch's d30a95e to the
    host boot before, wrong when the host missed the last boots before the wrap."""
    got: list[dict[str, Any]] = []

    class Sink:
        def on_record(self, device: str, rec: dict[str, Any], received_s: float) -> None:
            got.append(rec)

    s = BandSession("crib", lambda: None, Sink())  # type: ignore[arg-type,return-value]  # only the record path runs
    s._clock = BandClock.at_sync(3, 10_000, 10, T0)  # the band's STATUS at the connect: boot 3
    for rec in (_link(65535, 65534, 40_000), _link(0, 65535, 40_000), _link(3, 2, 40_000)):
        s._handle(DEVICE, rec, T0)
    assert [(r["boot"], r["prev_boot"]) for r in got] == [(3, 2)]
