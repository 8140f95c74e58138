"""The band's u32 ms times wrap after 49.7 days up; the session gives them back their laps."""

from __future__ import annotations

from typing import Any

from spasmwatch.daemon.consts import BAND_CLOCK_SLACK_MS
from spasmwatch.daemon.session import U32, BandClock, older_on_lap, unwrap_u32
from spasmwatch.store.rows import BootMarks

DAY_MS = 86_400_000


def test_unwrap_takes_the_latest_lap_not_after_the_clock_now() -> None:
    assert unwrap_u32(5_000, 6_000) == 5_000  # no wrap yet
    assert unwrap_u32(3_000, U32 + 10_000) == U32 + 3_000  # just after the wrap
    assert unwrap_u32(U32 - 4_000, U32 + 10_000) == U32 - 4_000  # from just before it
    # A backfilled record 40 days old, read 10 days after the wrap: still on the first lap.
    old = U32 - 30 * DAY_MS
    assert unwrap_u32(old % U32, U32 + 10 * DAY_MS) == old
    # The clock estimate may run behind the band (stale STATUS, a wall-clock step): within the slack.
    assert unwrap_u32(U32 + 60_000 - U32, U32 - 1_000) == U32 + 60_000
    assert unwrap_u32(BAND_CLOCK_SLACK_MS + 5, 0) == BAND_CLOCK_SLACK_MS + 5 - U32  # beyond it: an earlier lap


def test_the_sync_reading_is_placed_by_the_uptime_in_seconds() -> None:
    up_s = U32 // 1000 + 13  # 49.7 days and 13 s after the boot
    clock = BandClock.at_sync(boot=3, band_ms=(up_s * 1000 + 400) % U32, uptime_s=up_s, wall_s=1_800_000_000.0)
    assert clock.ms == up_s * 1000 + 400
    assert BandClock.at_sync(boot=3, band_ms=12_345, uptime_s=12, wall_s=0.0).ms == 12_345


def test_a_sync_read_hours_from_the_status_uptime_stays_on_its_lap() -> None:
    """A simulated band lagging its pace on a loaded machine answers a sync from its pace
    (--sync-at-pace) while STATUS's uptime counts its samples, hours behind: the reading is on the
    uptime's lap all the same (the old code, with an hour's slack, read one 2 h ahead a lap early:
    49.7 days back, a negative ms). A wrap is read only near the modulus, either way of it."""
    up_s = 10 * 86_400
    for lag_s in (7_200, -7_200, 20 * 86_400):
        band_ms = (up_s + lag_s) * 1000
        assert BandClock.at_sync(boot=3, band_ms=band_ms, uptime_s=up_s, wall_s=0.0).ms == band_ms, lag_s
    near = U32 // 1000 - 600  # 10 min before the wrap; the sync read 2 h on, past it
    assert BandClock.at_sync(boot=3, band_ms=(near + 7_200) * 1000 % U32, uptime_s=near, wall_s=0.0).ms == (near + 7_200) * 1000
    past = U32 // 1000 + 600  # 10 min after the wrap; the sync read 2 h before it, on the lap before
    assert BandClock.at_sync(boot=3, band_ms=(past - 7_200) * 1000, uptime_s=past, wall_s=0.0).ms == (past - 7_200) * 1000


def test_records_of_the_synced_boot_get_their_lap_others_are_left_alone() -> None:
    clock = BandClock(boot=3, ms=U32 + 5_000, wall_s=100.0)
    ev = {"type": "event", "boot": 3, "seq": 9, "onset_ms": 20_000}
    assert clock.to_host(ev, received_s=130.0)["onset_ms"] == U32 + 20_000  # live, after the sync
    before = {"type": "event", "boot": 3, "seq": 8, "onset_ms": U32 - 2_000}
    assert clock.to_host(before, received_s=100.5)["onset_ms"] == U32 - 2_000  # backfilled
    act = {"type": "activity", "boot": 3, "t_ms": 10_000}
    assert clock.to_host(act, received_s=110.0)["t_ms"] == U32 + 10_000
    other_boot = {"type": "event", "boot": 2, "seq": 1, "onset_ms": 20_000}
    assert clock.to_host(other_boot, received_s=130.0) is other_boot
    status = {"type": "status", "boot": 3, "uptime_s": 4_294_980}
    assert clock.to_host(status, received_s=130.0) is status
    assert BandClock().to_host(ev, received_s=0.0) is ev  # before any sync


# Band boot 5 of the tests below: synced at its 49.7 days less 30 min (its clock wraps 30 min later),
# at wall 1000 s; its records that came only in boot 6's backfill are u32 as the band keeps them.
SYNC_MS = U32 - 1_800_000
SYNCED = BootMarks(sync_ms=SYNC_MS, sync_s=1000.0, next_onset_ms=None)
WRAP_S = 1000.0 + 1800  # the wall time its clock wrapped


def _ev(seq: int, onset_ms: int) -> dict[str, Any]:
    return {"type": "event", "boot": 5, "seq": seq, "onset_ms": onset_ms % U32}


def test_an_older_boot_s_records_are_placed_on_the_lap_before_the_next_boot_began() -> None:
    """With no stored event of its boot after it: the latest lap not after the boot's clock when the
    synced boot began (from its latest sync), plus the slack; epochs alike (they carry no seq)."""
    ended = WRAP_S + 120  # boot 6 began 2 min after the wrap
    assert older_on_lap(_ev(2, U32 + 60_000), SYNCED, ended)["onset_ms"] == U32 + 60_000
    # One the boot's last connection never brought (its backfill cut), from before the wrap.
    assert older_on_lap(_ev(2, U32 - 600_000), SYNCED, ended)["onset_ms"] == U32 - 600_000
    epoch = {"type": "activity", "boot": 5, "t_ms": 50_000}
    assert older_on_lap(epoch, SYNCED, ended)["t_ms"] == U32 + 50_000
    # Boot 6 began before the wrap: nothing of boot 5 is past it.
    assert older_on_lap(_ev(2, U32 - 60_000), SYNCED, WRAP_S - 30)["onset_ms"] == U32 - 60_000
    # Within the slack of the boot's estimated end (the host clock stepped, the band's crystal drifted).
    assert older_on_lap(_ev(2, U32 + 600_000), SYNCED, WRAP_S + 60)["onset_ms"] == U32 + 600_000


def test_a_stored_event_of_its_boot_after_it_bounds_an_older_boot_s_event() -> None:
    """The stored event of its seq (a re-send: the stored row's value, the same row) or of the next
    seq stored: the latest lap not after its onset, whatever the boot's clock says."""
    stored = U32 + 20_000  # taken live after the wrap, unwrapped
    resent = older_on_lap(_ev(1, stored), BootMarks(SYNC_MS, 1000.0, next_onset_ms=stored), WRAP_S + 3600)
    assert resent["onset_ms"] == stored
    # Before a stored one from before the wrap: before the wrap too, though the boot ran 40 days past it.
    before = older_on_lap(_ev(3, U32 - 70_000), BootMarks(SYNC_MS, 1000.0, U32 - 50_000), WRAP_S + 40 * 86400)
    assert before["onset_ms"] == U32 - 70_000
    # Before one stored on the next lap: on that lap (a hole the backfill filled late).
    assert older_on_lap(_ev(3, U32 + 70_000), BootMarks(SYNC_MS, 1000.0, U32 + 90_000), WRAP_S)["onset_ms"] == U32 + 70_000


def test_a_short_boot_s_records_keep_their_value_after_weeks_switched_off() -> None:
    """A boot synced at its 5 days, then switched off for 60 days before the next boot (a power-on, no
    link): its clock estimated at the next boot's start is 65 days, past a wrap it never reached. Not
    more than a lap after its latest sync, less the slack: its records keep the band's values."""
    sync_ms = 5 * 86_400_000
    marks = BootMarks(sync_ms, 1000.0, None)
    ended = 1000.0 + 60 * 86400
    assert older_on_lap(_ev(7, sync_ms + 3_600_000), marks, ended)["onset_ms"] == sync_ms + 3_600_000
    # Up to the slack before that sync too (the connection's backfill cut before its last events).
    assert older_on_lap(_ev(7, sync_ms - 3_000_000), marks, ended)["onset_ms"] == sync_ms - 3_000_000


def test_a_boot_never_synced_keeps_the_band_s_values_and_none_goes_below_them() -> None:
    ev = _ev(4, 60_000)
    assert older_on_lap(ev, None, WRAP_S) is ev  # as its links' prev_ms: placing reads them so
    status = {"type": "status", "boot": 5, "uptime_s": 10}
    assert older_on_lap(status, SYNCED, WRAP_S) is status
    # The host's clock set back a day between the two boots' syncs: the next boot "began" before
    # boot 5's sync; its record stays on lap 0 at least.
    early = BootMarks(sync_ms=600_000, sync_s=1000.0, next_onset_ms=None)
    assert older_on_lap(_ev(1, 900_000), early, 1000.0 - 86400)["onset_ms"] == 900_000
