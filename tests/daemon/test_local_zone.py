"""daemon.clock.local_zone: this computer's zone (TZ, else /etc/localtime) as the daemon, 'report'
and 'export' word local times in; docs/host.md "Time"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from spasmwatch.daemon.clock import local_zone

RULE = "CET-1CEST,M3.5.0,M10.5.0/3"  # Berlin's rules as a POSIX TZ string (some Pi images, containers)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def tz_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """TZ as the test sets it, C's localtime following it (tzset); both put back after."""
    yield monkeypatch
    monkeypatch.undo()
    time.tzset()


def _set_tz(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("TZ", value)
    time.tzset()


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


def test_a_posix_rule_gives_each_season_its_offset(tz_env: pytest.MonkeyPatch) -> None:
    """Found by review: under a POSIX rule local_zone was the rule's offset on the day it ran, so a
    July time read in December was an hour off (an EDF+ start, a quiet hour, a daily summary)."""
    _set_tz(tz_env, RULE)
    zone = local_zone()
    jan, jul = datetime.fromtimestamp(_utc(2024, 1, 10, 12), zone), datetime.fromtimestamp(_utc(2024, 7, 10, 12), zone)
    assert (jan.hour, jan.utcoffset(), jan.dst(), jan.tzname()) == (13, timedelta(hours=1), timedelta(0), "CET")
    assert (jul.hour, jul.utcoffset(), jul.dst(), jul.tzname()) == (14, timedelta(hours=2), timedelta(hours=1), "CEST")
    # and back: a local wall time read in the zone is the instant it names
    assert datetime(2024, 7, 10, 14, tzinfo=zone).timestamp() == _utc(2024, 7, 10, 12)


@pytest.mark.parametrize("day", [(2024, 3, 31), (2024, 10, 27)], ids=["spring gap", "autumn fold"])
def test_a_posix_rule_is_read_as_zoneinfo_reads_the_named_zone_across_a_change(tz_env: pytest.MonkeyPatch, day: tuple[int, int, int]) -> None:
    """Every quarter hour of a change day, as instants (wall time, fold, offset, name) and as wall
    times (fold 0 and 1, an ambiguous hour's two passes and a gap's two readings), the rule gives
    what zoneinfo gives for Europe/Berlin, the zone it spells."""
    _set_tz(tz_env, RULE)
    zone = local_zone()
    start = _utc(*day) - 3 * 3600
    for q in range(4 * 30):
        t = start + q * 900
        mine, theirs = datetime.fromtimestamp(t, zone), datetime.fromtimestamp(t, BERLIN)
        assert (mine.replace(tzinfo=None), mine.fold, mine.utcoffset(), mine.tzname()) == (
            theirs.replace(tzinfo=None), theirs.fold, theirs.utcoffset(), theirs.tzname()
        ), datetime.fromtimestamp(t, timezone.utc)
    for q in range(4 * 6):  # 00:00 to 05:45 local: the gap's or the fold's wall times among them
        for fold in (0, 1):
            wall = (datetime(*day) + timedelta(minutes=15 * q)).replace(fold=fold)  # arithmetic resets fold
            ours, want = wall.replace(tzinfo=zone), wall.replace(tzinfo=BERLIN)
            assert (ours.utcoffset(), ours.dst(), ours.tzname(), ours.timestamp()) == (
                want.utcoffset(), want.dst(), want.tzname(), want.timestamp()
            ), wall
