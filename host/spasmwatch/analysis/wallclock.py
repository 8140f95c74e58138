"""Label onsets read off a video's clock (``truth --wall-clock``): a time of day or a date and time.

A family or a clinician reads a spasm's time off a phone video or an EEG-video as a local time of
day. This maps each such onset to the recording's ``t``, so nobody adds 24 h after midnight or
works out a part's noon by hand (docs/real-recordings.md, "Labels on the video's clock"):

- ``HH:MM:SS[.fff]``, a time of day: the one instant of that local time within the recording's
  wall span (a part runs noon to noon, so 23:10 and 06:40 both fall in it). None there, or two
  (a recording longer than a day), is refused: the date must be given then.
- ``2026-12-05T06:40:12[.fff][+01:00|Z]``, a date and time (a space for the ``T`` too); no zone
  means the labelling zone.

Local times are in ``tz`` (a zoneinfo zone), or in this computer's zone when None. A local time
the clocks skipped (the spring DST change) is refused; one they went through twice (autumn) is
refused only if both instants lie in the recording, asking for the zone offset to be given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo

THIS_COMPUTERS_ZONE = "this computer's time zone"
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$")
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WallClock:
    """The recording's span on the video's clock: unix seconds (UTC) of its ``t = 0``, of its first
    sample and of its end, and the zone the labels' local times are in."""

    origin_s: float
    first_s: float
    last_s: float
    tz: tzinfo | None = None
    said: str | None = None  # how messages name tz (None: its name; THIS_COMPUTERS_ZONE for local_zone's)
    # unix s on the video's clock -> t, when not linear from origin_s (a .swraw's measured dating)
    to_t: Callable[[float], float] | None = None

    def zone_name(self) -> str:
        return self.said or (str(self.tz) if self.tz is not None else THIS_COMPUTERS_ZONE)

    def local(self, unix_s: float) -> datetime:
        return datetime.fromtimestamp(unix_s, self.tz) if self.tz is not None else datetime.fromtimestamp(unix_s).astimezone()

    def span_text(self) -> str:
        a, b = self.local(self.first_s), self.local(self.last_s)
        return f"{a.isoformat(timespec='seconds')} to {b.isoformat(timespec='seconds')} ({self.zone_name()})"

    def t(self, text: str) -> float:
        """The recording's ``t`` (s) of an onset read off the video's clock; ValueError(why) otherwise."""
        text = text.strip()
        m = _TIME_OF_DAY.match(text)
        instant = self._time_of_day(text, m) if m else self.date_and_time(text)
        if self.to_t is not None:
            return self.to_t(instant.timestamp())
        return (instant - datetime.fromtimestamp(self.origin_s, timezone.utc)) / timedelta(seconds=1)

    def _time_of_day(self, text: str, m: re.Match[str]) -> datetime:
        whole, _, frac = m[3].partition(".")
        h, mins, s = int(m[1]), int(m[2]), int(whole)
        if h > 23 or mins > 59 or s > 59:
            raise ValueError(f"{text!r} is no time of day (00:00:00 to 23:59:59.999)")
        tod = time(h, mins, s, min(round(float(f"0.{frac or 0}") * 1e6), 999_999))
        found, skipped = self._on_each_day(tod)
        if not found and skipped:
            raise ValueError(_skipped(text, skipped[0], self))
        if not found:
            raise ValueError(f"{text} is not within the recording, {self.span_text()}: another recording, or a wrong --tz or --offset-s?")
        if len(found) > 1:
            why = " (the clocks went back an hour, DST)" if found[1] - found[0] < _DAY / 2 else ""
            raise ValueError(
                f"{text} falls {len(found)} times within the recording{why}, {self.span_text()}: give the date and time, "
                f"{self.iso(found[0])} or {self.iso(found[1])}"
            )
        return found[0]

    def _on_each_day(self, tod: time) -> tuple[list[datetime], list[datetime]]:
        """The instants of a time of day within the recording, one per day (two in a DST repeated
        hour), and the local times it names there that the clocks skipped."""
        found: list[datetime] = []
        skipped: list[datetime] = []
        day, last = self.local(self.first_s).date() - _DAY, self.local(self.last_s).date() + _DAY
        while day <= last:
            naive = datetime.combine(day, tod)
            instants = self._instants(naive)
            found += [x for x in instants if self._inside(x)]
            skipped += [naive] if not instants and self._naive_inside(naive) else []
            day += _DAY
        return found, skipped

    def date_and_time(self, text: str) -> datetime:
        """The instant of an ISO date and time within the recording (no zone: ``tz``); ValueError(why)."""
        if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]", text):
            raise ValueError(f"{text!r} is neither a time of day HH:MM:SS[.fff] nor a date and time 2026-12-05T06:40:12[+01:00]")
        try:
            given = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date and time: expected 2026-12-05T06:40:12[.fff][+01:00]") from None
        if given.tzinfo is not None:
            instant = given.astimezone(timezone.utc)
        else:
            instants = self._instants(given)
            if not instants:
                raise ValueError(_skipped(text, given, self))
            if len(instants) > 1:
                raise ValueError(f"{text} happened twice in {self.zone_name()} (the clocks went back an hour): give its offset, "
                                 f"{self.iso(instants[0])} or {self.iso(instants[1])}")
            instant = instants[0]
        if not self._inside(instant):
            raise ValueError(f"{text} is not within the recording, {self.span_text()}: another recording, or a wrong --tz or --offset-s?")
        return instant

    def _instants(self, naive: datetime) -> list[datetime]:
        """The UTC instants whose local time is ``naive`` (``local_instants``)."""
        return [datetime.fromtimestamp(unix_s, timezone.utc) for unix_s in local_instants(naive, self.tz)]

    def _inside(self, instant: datetime) -> bool:
        return self.first_s <= instant.timestamp() <= self.last_s

    def _naive_inside(self, naive: datetime) -> bool:
        """A local time that did not happen lies between the recording's first and last local times."""
        return self.local(self.first_s).replace(tzinfo=None) <= naive <= self.local(self.last_s).replace(tzinfo=None)

    def iso(self, instant: datetime) -> str:
        return self.local(instant.timestamp()).isoformat(timespec="milliseconds")


def local_instants(naive: datetime, tz: tzinfo | None) -> list[float]:
    """Unix seconds of the instants whose local time in ``tz`` (None: this computer's zone) is
    ``naive``, in order: none in the hour the clocks skip, two in the hour they go through twice
    (DST). What 'truth --wall-clock' and the export's --since/--until both read a local time by."""
    out: list[float] = []
    for fold in (0, 1):
        unix_s = naive.replace(tzinfo=tz, fold=fold).timestamp()  # tz None: naive, this computer's local time
        back = datetime.fromtimestamp(unix_s, tz).replace(tzinfo=None)
        if back == naive and unix_s not in out:
            out.append(unix_s)
    return out


def _skipped(text: str, naive: datetime, clock: WallClock) -> str:
    day = "" if text.startswith(naive.date().isoformat()) else f" on {naive.date().isoformat()}"
    return f"{text}{day} did not happen in {clock.zone_name()}: the clocks skipped that hour (DST)"


def instant_s(text: str, tz: tzinfo | None) -> float:
    """Unix seconds of a date and time (``truth --start``); no zone means ``tz``. ValueError(why)."""
    return WallClock(0.0, -math.inf, math.inf, tz).date_and_time(text.strip()).timestamp()
