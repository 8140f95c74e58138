"""Quiet hours the nights Paris' clocks change (real zoneinfo zones, the engine's injected clock):
each night's quiet hours run from the first time the clock reads their start to the first time
after it reads their end (``QuietHours.end_after``). The night the clocks go back (2026-10-25,
02:00-03:00 read twice), an end of 02:30 is the first 02:30: the second pass through 02:00-02:30
holds nothing. The night they go forward (2026-03-29, 02:00-03:00 never read), an end of 02:30 is
03:00, as the clock jumps. Until review h49 the engine read the minute of the day, and held a
notice again through the second 02:00-02:30: a band off the baby at the second 02:10 was said an
hour late."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from tzenv import set_tz

from spasmwatch.alerts import AlertEngine, AlertSettings, BandFault, Notification, QuietHours, Transition
from spasmwatch.alerts.engine import reason_held_until
from spasmwatch.clock import LibcZone, local_zone

PARIS = ZoneInfo("Europe/Paris")
NIGHT = QuietHours.parse("22:00-02:30")


def utc(month: int, day: int, hhmm: str) -> float:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, month, day, h, m, tzinfo=timezone.utc).timestamp()


class Clock:
    """A settable time source: the engine's injected clock, not the thing under test."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _engine(t: float) -> tuple[AlertEngine, Clock, list[Notification]]:
    clock = Clock(t)
    sent: list[Notification] = []
    s = AlertSettings(tz=PARIS, quiet_hours=NIGHT, quiet_faults=frozenset({BandFault.NOT_WORN}))
    return AlertEngine(clock, sent.append, s), clock, sent


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # 22:00 CEST (20:00 UTC) to the first 02:30 (CEST, 00:30 UTC): 4.5 h
        (utc(10, 24, "20:00"), utc(10, 25, "00:30")),
        # 22:00 CET (21:00 UTC) to the jump from 02:00 CET to 03:00 CEST (01:00 UTC): 3 h
        (utc(3, 28, "21:00"), utc(3, 29, "01:00")),
    ],
    ids=["autumn_first_0230", "spring_jump_at_0300"],
)
def test_the_quiet_hours_of_a_night_the_clocks_change_end_when_the_clock_first_reads_their_end(start: float, end: float) -> None:
    assert NIGHT.end_after(start - 60, PARIS) is None
    assert NIGHT.end_after(start, PARIS) == end
    assert NIGHT.end_after(end - 1, PARIS) == end
    assert NIGHT.end_after(end, PARIS) is None


def test_a_posix_rule_s_zone_has_the_same_nights(tz_env: pytest.MonkeyPatch) -> None:
    """TZ a POSIX rule (``clock.LibcZone``: some Pi images, containers), Paris' rules: the same ends."""
    set_tz(tz_env, "CET-1CEST,M3.5.0,M10.5.0/3")
    zone = local_zone()
    assert isinstance(zone, LibcZone), zone
    for start, end in ((utc(10, 24, "20:00"), utc(10, 25, "00:30")), (utc(3, 28, "21:00"), utc(3, 29, "01:00"))):
        assert (NIGHT.end_after(start - 60, zone), NIGHT.end_after(start, zone), NIGHT.end_after(end, zone)) == (None, end, None)
    assert NIGHT.end_after(utc(10, 25, "01:10"), zone) is None  # the second 02:10


def test_the_second_pass_through_the_repeated_hour_is_not_quiet() -> None:
    """02:00-02:30 read again (00:00-01:30 UTC read 02:00-02:30 CEST then CET): quiet the first time only."""
    assert NIGHT.end_after(utc(10, 25, "00:10"), PARIS) == utc(10, 25, "00:30")  # the first 02:10
    assert NIGHT.end_after(utc(10, 25, "01:10"), PARIS) is None  # the second 02:10
    # An end after the repeated hour: the night is 10 h (22:00 CEST to 07:00 CET), not 9.
    long = QuietHours.parse("22:00-07:00")
    assert long.end_after(utc(10, 24, "20:00"), PARIS) == utc(10, 25, "06:00")
    # A start in the repeated hour: its first reading (the family's clock read it first then).
    early = QuietHours.parse("02:15-07:00")
    assert early.end_after(utc(10, 25, "00:15"), PARIS) == utc(10, 25, "06:00")
    assert early.end_after(utc(10, 25, "00:14"), PARIS) is None
    # A start in the spring gap: quiet from the jump (03:00 CEST).
    gap = QuietHours.parse("02:30-07:00")
    assert gap.end_after(utc(3, 29, "00:59"), PARIS) is None
    assert gap.end_after(utc(3, 29, "01:00"), PARIS) == utc(3, 29, "05:00")


def test_quiet_hours_of_a_fixed_zone_are_the_minutes_of_its_day() -> None:
    q = QuietHours.parse("22:00-07:00")
    assert q.end_after(utc(1, 5, "22:00"), timezone.utc) == utc(1, 6, "07:00")
    assert q.end_after(utc(1, 6, "06:59"), timezone.utc) == utc(1, 6, "07:00")
    assert q.end_after(utc(1, 6, "07:00"), timezone.utc) is None and q.end_after(utc(1, 6, "12:00"), timezone.utc) is None
    day = QuietHours.parse("13:00-15:00")
    assert day.end_after(utc(1, 6, "14:00"), timezone.utc) == utc(1, 6, "15:00")
    assert day.end_after(utc(1, 6, "16:00"), timezone.utc) is None


def test_a_notice_held_by_quiet_hours_ending_in_the_repeated_hour_is_sent_at_the_first_end_and_none_is_held_at_the_second_pass() -> None:
    engine, clock, sent = _engine(utc(10, 24, "21:30"))  # 23:30 CEST
    engine.on_band_state("cot", BandFault.NOT_WORN, True)
    assert sent == []
    clock.t = utc(10, 25, "00:29")  # the first 02:29
    engine.tick()
    assert sent == []
    clock.t = utc(10, 25, "00:30")  # the first 02:30
    engine.tick()
    assert [n.fault for n in sent] == [BandFault.NOT_WORN]
    engine.on_band_state("cot", BandFault.NOT_WORN, False)
    # The clocks go back; at the second 02:10 the band slips off again: said at once.
    clock.t = utc(10, 25, "01:10")
    engine.on_band_state("cot", BandFault.NOT_WORN, True)
    assert [(n.fault, n.created_t) for n in sent[-1:]] == [(BandFault.NOT_WORN, utc(10, 25, "01:10"))], sent


def test_a_notice_held_by_quiet_hours_ending_in_the_spring_gap_is_sent_as_the_clock_jumps() -> None:
    engine, clock, sent = _engine(utc(3, 28, "22:30"))  # 23:30 CET
    engine.on_band_state("cot", BandFault.NOT_WORN, True)
    clock.t = utc(3, 29, "00:59")  # 01:59 CET
    engine.tick()
    assert sent == []
    clock.t = utc(3, 29, "01:00")  # 03:00 CEST
    engine.tick()
    assert [n.fault for n in sent] == [BandFault.NOT_WORN]


def test_a_held_notice_s_row_names_when_its_hold_ends_past_each_hold_in_turn_and_it_is_sent_then() -> None:
    """Muted until 22:30, quiet hours from 22:00 to 07:00: a battery low at 21:35 is held until 07:00,
    its row says so (``reason_held_until``: what a restarted daemon bounds its telling by, the mute
    being in memory only), and the engine sends it then, not at the mute's end."""
    clock = Clock(datetime(2026, 12, 7, 21, 30, tzinfo=PARIS).timestamp())
    sent: list[Notification] = []
    rows: list[Transition] = []
    s = AlertSettings(tz=PARIS, quiet_hours=QuietHours.parse("22:00-07:00"), quiet_faults=frozenset({BandFault.BATTERY_LOW}))
    engine = AlertEngine(clock, sent.append, s, on_transition=rows.append)
    engine.mute("cot", 3600)
    clock.t += 300
    engine.on_band_state("cot", BandFault.BATTERY_LOW, True)
    seven = datetime(2026, 12, 8, 7, 0, tzinfo=PARIS).timestamp()
    assert [r.reason for r in rows] == ["held back: muted until 2026-12-08T07:00:00+01:00"], rows
    assert reason_held_until(rows[0].reason) == seven
    for t in (datetime(2026, 12, 7, 22, 30, tzinfo=PARIS).timestamp(), seven - 1):
        clock.t = t
        engine.tick()
    assert sent == []
    clock.t = seven
    engine.tick()
    assert [n.fault for n in sent] == [BandFault.BATTERY_LOW]
