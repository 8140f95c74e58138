"""Injectable clocks: the daemon never reads time itself.

``SystemClock`` is the real one. ``ScaledClock`` runs from a chosen start
time at N x real time: the demo plays a simulated morning at 06:00 in a
minute, and every part (time sync to the band, cluster and sleep analysis,
alert escalation) sees one consistent clock.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field


def local_day(day: dt.date) -> tuple[float, float]:
    """Unix seconds of the local midnight that starts ``day`` and of the next one.

    Not ``start + 86400``: a day of a daylight-saving change lasts 23 or 25 hours.
    """
    start = dt.datetime.combine(day, dt.time()).timestamp()
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()


class SystemClock:
    def wall(self) -> float:
        """Unix seconds."""
        return time.time()

    def mono(self) -> float:
        """Seconds that never jump (timeouts, staleness)."""
        return time.monotonic()


@dataclass
class ScaledClock:
    """``start_wall`` at real time ``real_start`` (default: now), then ``speed`` x faster.

    Two processes given the same ``real_start`` share one clock: a daemon
    restarted next to a simulated band keeps the band's time base.
    """

    start_wall: float
    speed: float = 1.0
    real_start: float = field(default_factory=time.time)

    def wall(self) -> float:
        return self.start_wall + (time.time() - self.real_start) * self.speed

    def mono(self) -> float:
        return time.monotonic()


Clock = SystemClock | ScaledClock
