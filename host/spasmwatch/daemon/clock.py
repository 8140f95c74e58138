"""Injectable clocks: the daemon never reads time itself.

``Clock`` is what every clock gives: ``wall``, ``mono`` and ``rate``.
``SystemClock`` is the real one. ``ScaledClock`` runs from a chosen start
time at ``rate`` x real time: the demo plays a simulated morning at 06:00 in a
minute, and every part (time sync to the band, cluster and sleep analysis,
alert escalation) sees one consistent clock.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_day(day: dt.date) -> tuple[float, float]:
    """Unix seconds of the local midnight that starts ``day`` and of the next one.

    Not ``start + 86400``: a day of a daylight-saving change lasts 23 or 25 hours.
    """
    start = dt.datetime.combine(day, dt.time()).timestamp()
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()


def log_time(t: float) -> str:
    """``t`` (unix s) as HH:MM:SS of this computer's zone, as the daemon's log lines give a time."""
    return dt.datetime.fromtimestamp(t).strftime("%H:%M:%S")


def local_zone() -> dt.tzinfo:
    """This computer's zone as the commands see it (TZ, else /etc/localtime), with its DST rules
    where the OS has them and by its name where it has one."""
    env = os.environ.get("TZ", "").lstrip(":")
    name = _zone_name(Path(env)) if env.startswith("/") else env or _zone_name(Path("/etc/localtime"))
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if not env:
        try:
            with open("/etc/localtime", "rb") as f:
                return ZoneInfo.from_file(f, key="localtime")
        except (OSError, ValueError):
            pass
    local = dt.datetime.now().astimezone().tzinfo  # e.g. a POSIX TZ rule: its offset now
    return local if local is not None else dt.timezone.utc


def _zone_name(link: Path) -> str:
    """``Europe/Berlin`` for /etc/localtime -> /usr/share/zoneinfo/Europe/Berlin, else ''."""
    target = os.path.realpath(link)
    return target.split("/zoneinfo/", 1)[1] if "/zoneinfo/" in target else ""


class Clock(Protocol):
    """What the daemon reads time from: the wall, a mono that never jumps, and the wall's rate."""

    @property
    def rate(self) -> float:
        """Wall seconds per real second (1.0 for the real clock). ``mono`` stays real so timeouts
        hold; ``mono() * rate`` is a real clock on the wall's scale (the raw samples' rate fit)."""
        ...

    def wall(self) -> float:
        """Unix seconds."""
        ...

    def mono(self) -> float:
        """Real seconds that never jump (timeouts, staleness)."""
        ...


class SystemClock:
    rate = 1.0  # the wall runs with real time

    def wall(self) -> float:
        """Unix seconds."""
        return time.time()

    def mono(self) -> float:
        """Seconds that never jump (timeouts, staleness)."""
        return time.monotonic()


@dataclass
class ScaledClock:
    """``start_wall`` at real time ``real_start`` (default: now), then ``rate`` x faster.

    Two processes given the same ``real_start`` share one clock: a daemon
    restarted next to a simulated band keeps the band's time base.
    """

    start_wall: float
    rate: float = 1.0
    real_start: float = field(default_factory=time.time)

    def wall(self) -> float:
        return self.start_wall + (time.time() - self.real_start) * self.rate

    def mono(self) -> float:
        return time.monotonic()
