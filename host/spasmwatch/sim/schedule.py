"""Sleep/wake schedules per scenario kind.

Infant sleep at 4-12 months (sources in docs/simulator.md): ~12-15 h a day,
night sleep of 9-11 h broken by 1-3 feeds, 2-4 daytime naps of 0.5-2 h,
wake windows of 1.5-3.5 h. The day starts at midnight, asleep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOUR = 3600.0
MINUTE = 60.0


@dataclass
class Span:
    start: float
    end: float
    state: str  # "sleep" | "wake" | "not_worn"


def _end(spans: list[Span]) -> float:
    return spans[-1].end if spans else 0.0


def _append(spans: list[Span], state: str, length: float, duration: float) -> None:
    start = _end(spans)
    end = min(duration, start + length)
    if end <= start:
        return
    if spans and spans[-1].state == state:  # a feed at the end of the night runs into the day
        spans[-1].end = end
    else:
        spans.append(Span(start, end, state))


def _night(rng: np.random.Generator, spans: list[Span], night_s: float, duration: float) -> None:
    """Night sleep in 1.5-4 h bouts broken by 10-40 min feeds."""
    stop = min(duration, _end(spans) + night_s)
    while True:
        _append(spans, "sleep", min(rng.uniform(1.5, 4.0) * HOUR, stop - _end(spans)), duration)
        if _end(spans) >= stop - 1.0:
            return
        _append(spans, "wake", rng.uniform(10.0, 40.0) * MINUTE, duration)
        if _end(spans) >= stop:
            return


def day(rng: np.random.Generator, duration: float) -> list[Span]:
    spans: list[Span] = []
    _night(rng, spans, rng.uniform(6.0, 7.5) * HOUR, duration)
    bedtime = rng.uniform(19.0, 20.5) * HOUR
    while _end(spans) < duration:
        if _end(spans) >= bedtime - 0.75 * HOUR:
            _night(rng, spans, rng.uniform(9.0, 11.0) * HOUR, duration)
            bedtime += 24 * HOUR
            continue
        _append(spans, "wake", min(rng.uniform(1.5, 3.5) * HOUR, max(bedtime - _end(spans), 10 * MINUTE)), duration)
        if _end(spans) < bedtime - 0.75 * HOUR:
            _append(spans, "sleep", rng.uniform(0.5, 2.0) * HOUR, duration)
    return spans


def morning(rng: np.random.Generator, duration: float) -> list[Span]:
    spans: list[Span] = []
    _append(spans, "sleep", min(rng.uniform(3.0, 15.0) * MINUTE, 0.4 * duration), duration)
    _append(spans, "wake", duration, duration)
    return spans


def night(rng: np.random.Generator, duration: float) -> list[Span]:
    spans: list[Span] = []
    _night(rng, spans, duration, duration)
    return spans


def awake(rng: np.random.Generator, duration: float) -> list[Span]:
    return [Span(0.0, duration, "wake")]


def naps(rng: np.random.Generator, duration: float) -> list[Span]:
    """Short naps between wake windows: many wake-ups, each a chance for a cluster."""
    spans: list[Span] = []
    state = "sleep"
    first = True
    while _end(spans) < duration:
        if state == "sleep":
            length = rng.uniform(3.0, 10.0) * MINUTE if first else rng.uniform(10.0, 30.0) * MINUTE
        else:
            length = rng.uniform(12.0, 30.0) * MINUTE
        first = False
        _append(spans, state, length, duration)
        state = "wake" if state == "sleep" else "sleep"
    return spans


SCHEDULES = {"day": day, "morning": morning, "night": night, "confounders": awake, "subtle": morning, "clusters": naps}
