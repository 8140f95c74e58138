"""Every daemon clock says its ``rate``: wall seconds per second of its mono (daemon/clock.py).

The raw samples' rate fit reads ``mono() * rate`` as a real clock on the wall's scale
(``Daemon._raw_date``); a clock whose wall and mono drift apart by another rate than it says
would date a raw file's parts wrong by that factor. Measured over real time, not taken from
the field.
"""

from __future__ import annotations

import time

import pytest

from spasmwatch.daemon.clock import Clock, ScaledClock, SystemClock

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
