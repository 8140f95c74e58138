"""Every daemon clock says its ``rate``: wall seconds per second of its mono (clock.py).

The raw samples' rate fit reads ``mono() * rate`` as a real clock on the wall's scale
(``Daemon._raw_date``); a clock whose wall and mono drift apart by another rate than it says
would date a raw file's parts wrong by that factor. Measured over real time, not taken from
the field.
"""

from __future__ import annotations

import time

import pytest

from spasmwatch.clock import BOOT_ID_PATH, Clock, ScaledClock, SystemClock

SPAN_S = 0.5  # long enough that a reading's few-ms delay on a busy machine stays under TOLERANCE
TOLERANCE = 0.05  # relative


@pytest.mark.parametrize(
    "clock", [SystemClock(), ScaledClock(time.time(), 4.0), ScaledClock(0.0, 30.0)], ids=["system", "scaled-4x", "scaled-30x"]
)
def test_a_clocks_wall_runs_at_its_rate_against_its_mono(clock: Clock) -> None:
    wall0, mono0 = clock.wall(), clock.mono()
    time.sleep(SPAN_S)
    wall1, mono1 = clock.wall(), clock.mono()
    measured = (wall1 - wall0) / (mono1 - mono0)
    assert abs(measured - clock.rate) <= TOLERANCE * clock.rate, (measured, clock.rate)


def test_the_real_clock_runs_at_one() -> None:
    assert SystemClock().rate == 1.0


def test_the_real_clock_s_since_boot_reading_is_the_kernel_s() -> None:
    """The boot id and CLOCK_BOOTTIME: what a stored sync keeps, and what the wall's steps do not move."""
    got = SystemClock().since_boot()
    assert got is not None  # Linux, where the daemon runs
    assert got.boot_id == BOOT_ID_PATH.read_text().strip()
    assert abs(got.s - time.clock_gettime(time.CLOCK_BOOTTIME)) < 1.0


def test_a_scaled_clock_s_since_boot_goes_on_across_restarts_on_a_jumped_wall() -> None:
    """bench/faults.py restarts the daemon with its --sim-time-scale origin shifted (its start and its
    real_start: run._clock) so that its wall jumps: the since-boot reading must not jump with it,
    so that the wall's offset over it changes by the jump and no more; at another rate it is
    another scale, so another boot id."""
    speed, origin, jump = 60.0, time.time() - 100.0, -188.5
    before = ScaledClock(origin, speed, real_start=origin)
    shifted = origin - jump / (speed - 1)  # bench/faults.py DaemonProc.jump
    after = ScaledClock(shifted, speed, real_start=shifted)
    a, b = _offset(before), _offset(after)
    assert a[0] == b[0] and abs((b[1] - a[1]) - jump) < 0.05, (a, b)
    other = ScaledClock(origin, 4.0, real_start=origin).since_boot()
    assert other is not None and other.boot_id != a[0]


def _offset(clock: Clock) -> tuple[str, float]:
    """(boot id, the wall's offset over the since-boot reading): the reading bracketed by two of the
    wall's, of 5 the closest bracket, its midpoint. At 60x a pause of 1 ms between two reads (a
    loaded machine) is 0.06 s of the scaled wall: the bracket keeps that out of the offset."""
    brackets = []
    for _ in range(5):
        before, sb, after = clock.wall(), clock.since_boot(), clock.wall()
        assert sb is not None
        brackets.append((after - before, sb.boot_id, (before + after) / 2 - sb.s))
    _, boot_id, offset = min(brackets)
    return boot_id, offset
