"""The band's real sample rate and dating, measured on the host from its RAW records' arrivals.

A RAW record carries sample indexes, not times, and a real IMU samples off its own oscillator,
~1 % from its nominal rate: dated at the nominal rate, a ``.swraw`` is 36 s off the wall clock
after an hour. The host sees each record arrive: the index after its last sample against the
arrival on the daemon's monotonic clock. Latency (BLE connection events, USB polling, the band's
batching, a busy host) only ever delays a record, so the least-delayed records lie on a line
(the band's clock plus the least latency) and the rest above it: the fit is that lower envelope,
the lower convex hull's edge over the records' mean index (the linear program "the line under
every point closest to them", Moon, Skelly & Towsley 1999 for network clock skew). No threshold
for outliers is needed: a late record is above the hull, never on it.

Monotonic for the fit, wall for the result (``wall_now - mono_now`` when a dating point is made),
so a host clock stepped by NTP does not bend the fitted rate. Thresholds: consts.RAW_DATING_*.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from spasmwatch.daemon import consts as K

Point = tuple[float, float]  # (sample index, mono s)


@dataclass(frozen=True)
class Line:
    """The lower envelope: sample ``index`` arrived (least delayed) at ``mono_s``; ``rate_hz`` samples a second."""

    index: float
    mono_s: float
    rate_hz: float

    def mono_at(self, index: float) -> float:
        return self.mono_s + (index - self.index) / self.rate_hz


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _push(hull: list[Point], p: Point) -> None:
    """Add ``p`` (index above every point's) to a lower convex hull (monotone chain)."""
    while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
        hull.pop()
    hull.append(p)


@dataclass
class _Block:
    start_mono: float
    hull: list[Point] = field(default_factory=list)
    n: int = 0
    sum_index: float = 0.0


class RateFit:
    """``add(index_end, mono_s)`` per RAW record; ``line()`` the fit over the last RAW_DATING_WINDOW_S."""

    def __init__(self, nominal_hz: float, window_s: float = K.RAW_DATING_WINDOW_S, block_s: float = K.RAW_DATING_BLOCK_S) -> None:
        self.nominal_hz = nominal_hz
        self.window_s, self.block_s = window_s, block_s
        self._blocks: deque[_Block] = deque()
        self._last_index = -1.0

    def add(self, index_end: int, mono_s: float) -> None:
        """A record whose last sample is ``index_end - 1`` arrived at ``mono_s``. Records out of
        order (a late one) are left out: the hull takes increasing indexes."""
        if index_end <= self._last_index:
            return
        self._last_index = index_end
        blocks = self._blocks
        if not blocks or mono_s - blocks[-1].start_mono >= self.block_s:
            blocks.append(_Block(mono_s))
            while mono_s - blocks[0].start_mono > self.window_s + self.block_s:
                blocks.popleft()
        b = blocks[-1]
        _push(b.hull, (float(index_end), mono_s))
        b.n += 1
        b.sum_index += index_end

    def line(self) -> Line | None:
        """The lower envelope's edge over the records' mean index; None before the records span
        RAW_DATING_MIN_SPAN_S, or for a rate RAW_DATING_MAX_RATE_ERROR off nominal."""
        hull: list[Point] = []
        n, total = 0, 0.0
        for b in self._blocks:
            for p in b.hull:
                _push(hull, p)
            n, total = n + b.n, total + b.sum_index
        if len(hull) < 2 or hull[-1][1] - hull[0][1] < K.RAW_DATING_MIN_SPAN_S:
            return None
        mean = total / n
        a, c = hull[0], hull[1]
        for a, c in zip(hull, hull[1:], strict=False):
            if c[0] >= mean:
                break
        rate = (c[0] - a[0]) / (c[1] - a[1]) if c[1] > a[1] else 0.0
        if not abs(rate / self.nominal_hz - 1.0) <= K.RAW_DATING_MAX_RATE_ERROR:
            return None
        return Line(a[0], a[1], rate)
