"""The band's u32 ms times wrap after 49.7 days up; the session gives them back their laps."""

from __future__ import annotations

from spasmwatch.daemon.consts import BAND_CLOCK_SLACK_MS
from spasmwatch.daemon.session import U32, BandClock, unwrap_u32

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
