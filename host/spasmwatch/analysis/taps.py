"""Tap triples: three firm taps on the band, the mark that lines a video up with a recording.

docs/real-recordings.md asks for three firm taps on the band in view of the camera at the
start and the end of each recording. A finger's tap on a band strapped to a soft trunk is a
spike of a few g lasting tens of ms; no movement of the baby's own is that sharp, and the
trunk around it barely moves. So, vectorised over chunks (a day of 100 Hz in about a second):

1. the deviation of each sample's acceleration from its centred ``TAP_BASE_S`` mean, in g
   (gravity and posture cancel out, a spike does not);
2. spikes: runs of samples deviating ``TAP_QUIET_G`` or more, runs closer than ``TAP_MERGE_S``
   joined (a tap's rebound); a tap is a spike whose peak reaches ``TAP_MIN_G`` and that lasts
   at most ``TAP_MAX_WIDTH_S`` above ``TAP_QUIET_G``;
3. a triple: three taps, the first to the third within ``TAP_TRIPLE_S``, and no other spike
   from ``TAP_QUIET_S`` before the first to ``TAP_QUIET_S`` after the third.

Measured on the simulator's days (spasms, startles, patting, kicking, car bumps, handling)
and the adult recordings in tests/data/real: docs/real-recordings.md, "Synchronising with
the video".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

# Window (s) of the centred mean a sample's deviation is taken from: long against a tap
# (20-40 ms, so a 4 g tap moves the mean by under 0.3 g at any rate from 25 Hz), short
# against a posture change (a roll takes 1.5-4 s, so gravity turns little within it).
TAP_BASE_S = 0.5
# Deviation (g) that counts as a spike at all, and that must stay absent around a triple.
# The simulator's patting peaks at 0.5 g and its kicking at 0.2 g, so busy handling still
# shows such spikes; 0.35 g lies under a tap by 3x and more (TAP_MIN_G).
TAP_QUIET_G = 0.35
# Peak deviation (g) of a tap. A firm tap is 2-6 g on the band; an IMU at its +-2 g range
# (15 % of the simulated ones) clips it with gravity on the axis to 1-3 g of deviation.
# Other movements reach it too (a simulated day: 700-900 such spikes, mostly bouncing;
# spasm onsets up to 4.4 g, startles 2.1 g): the triple and the quiet around it tell them apart.
TAP_MIN_G = 1.0
# Longest a tap deviates TAP_QUIET_G or more (s), and in samples at low rates: a tap's
# spike and rebound last 20-60 ms, which an IMU's low-pass filter smears over a few samples
# (the simulator over 2.5 samples a lobe: up to 0.2 s at 50 Hz, 0.4 s at 25 Hz).
TAP_MAX_WIDTH_S = 0.25
TAP_MAX_WIDTH_SAMPLES = 10
# Spikes closer than this (s), or samples at low rates, are one: a tap's rebound crosses the
# bar again, a lobe later (the simulator's lobe is 2.5 samples: 0.1 s at 25 Hz).
TAP_MERGE_S = 0.05
TAP_MERGE_SAMPLES = 3
# First to third tap of a triple (s): three deliberate taps take about a second; 2 s leaves
# room for a slow hand without pairing taps of two marks.
TAP_TRIPLE_S = 2.0
# Quiet (s) before the first and after the third tap: no other spike within it. A triple
# stands alone in the video, and patting, kicking, walking and car bumps repeat.
TAP_QUIET_S = 1.0
# Longest a run of deviating samples is carried to the next chunk (s): longer is no tap
# (TAP_MAX_WIDTH_S) and is cut there, so a band shaken for minutes keeps memory bounded.
TAP_MAX_CARRY_S = 10.0


@dataclass(frozen=True)
class Triple:
    """A tap triple: the time (s, the recording's t) and peak (g) of each tap."""

    t: tuple[float, float, float]
    peak_g: tuple[float, float, float]


@dataclass(frozen=True)
class Spikes:
    """Spikes of a recording, in time order: onset (s, the first sample deviating TAP_QUIET_G:
    a finger's contact), peak deviation (g), width (s)."""

    t: F64
    peak_g: F64
    width_s: F64
    rate_hz: float


def max_width_s(rate_hz: float) -> float:
    """Longest a tap's spike lasts at ``rate_hz`` (s)."""
    return max(TAP_MAX_WIDTH_S, TAP_MAX_WIDTH_SAMPLES / rate_hz)


def _window_sums(x: F64, width: int) -> F64:
    """Sums of ``x`` (rows) over each run of ``width`` consecutive rows."""
    c = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), x]), axis=0)
    out: F64 = c[width:] - c[: len(x) - width + 1]
    return out


def deviation_g(acc: F64, half: int) -> F64:
    """How far each sample of 2 * half..n - 2 * half - 1 lies from the movement around it (g):
    from the centred mean over 2 * half + 1 samples of those that are not themselves spikes
    (each judged against the plain mean around it). A plain mean takes in the tap (a 4 g tap
    over 3 samples lifts a 0.5 s mean by 0.5 g at 50 Hz), which read as spikes of its own a
    quarter second either side of each tap."""
    n = len(acc)
    width = 2 * half + 1
    if n < 2 * width - 1:
        return np.empty(0)
    mean = _window_sums(acc, width) / width  # samples half..n - half - 1
    calm = (np.sqrt(np.sum((acc[half : n - half] - mean) ** 2, axis=1)) < TAP_QUIET_G).astype(np.float64)
    count = _window_sums(calm, width)  # samples 2 * half..n - 2 * half - 1
    sums = _window_sums(acc[half : n - half] * calm[:, None], width)
    plain = mean[half : len(mean) - half]
    base = np.where(count[:, None] > 0, sums / np.maximum(count, 1.0)[:, None], plain)
    d: F64 = np.sqrt(np.sum((acc[2 * half : n - 2 * half] - base) ** 2, axis=1))
    return d


class SpikeFinder:
    """Spikes of a recording fed chunk by chunk (bounded memory: the chunk and a short carry)."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.half = max(1, int(round(TAP_BASE_S * rate_hz / 2)))
        self._t = np.empty(0)
        self._acc = np.empty((0, 3))
        self._found: list[tuple[F64, F64, F64]] = []  # (start t, end t, peak g) of runs

    def feed(self, t: F64, acc: F64) -> None:
        self._t = np.concatenate([self._t, t])
        self._acc = np.concatenate([self._acc, acc])
        self._runs(final=False)

    def finish(self) -> Spikes:
        self._runs(final=True)
        if self._found:
            start, end, peak = (np.concatenate(x) for x in zip(*self._found))
        else:
            start = end = peak = np.empty(0)
        t, peak_g, width_s = _merge(start, end, peak, 1.0 / self.rate_hz, max(TAP_MERGE_S, TAP_MERGE_SAMPLES / self.rate_hz))
        return Spikes(t, peak_g, width_s, self.rate_hz)

    def _runs(self, final: bool) -> None:
        """Runs of deviating samples whose deviation is known to their end; the rest carried."""
        d = deviation_g(self._acc, self.half)
        if not len(d):
            return
        above = d >= TAP_QUIET_G
        edges = np.flatnonzero(np.diff(np.concatenate([[0], above.astype(np.int8), [0]])))
        starts, ends = edges[::2], edges[1::2]  # [start, end) in d's indices; d[i] is sample i + 2 * half
        cut = len(d)  # every run before it is complete
        carry = len(d) - starts[-1] if len(starts) else 0
        if len(starts) and ends[-1] == len(d) and not final and carry < TAP_MAX_CARRY_S * self.rate_hz:  # may go on
            cut = int(starts[-1])
            starts, ends = starts[:-1], ends[:-1]
        if len(starts):
            bounds = np.column_stack([starts, ends]).ravel()  # reduceat over [start, end) of each run
            peaks = np.maximum.reduceat(np.append(d, 0.0), bounds)[::2]
            t = self._t[2 * self.half :]
            self._found.append((t[starts], t[ends - 1], peaks))
        # d from index cut on is sample cut + 2 * half: keep samples from cut, for the means before it
        self._t, self._acc = self._t[cut:], self._acc[cut:]


def _merge(start: F64, end: F64, peak: F64, dt: float, gap_s: float) -> tuple[F64, F64, F64]:
    """Runs closer than ``gap_s`` joined into one spike: (onset, highest peak, width)."""
    if not len(start):
        return np.empty(0), np.empty(0), np.empty(0)
    new = np.concatenate([[True], start[1:] - end[:-1] > gap_s])
    heads = np.flatnonzero(new)
    tails = np.concatenate([heads[1:], [len(start)]]) - 1
    width: F64 = end[tails] - start[heads] + dt
    return start[heads], np.maximum.reduceat(peak, heads), width


def triples(spikes: Spikes) -> list[Triple]:
    """Tap triples among ``spikes``: three taps within TAP_TRIPLE_S, alone within TAP_QUIET_S."""
    t, peak = spikes.t, spikes.peak_g
    tap = (peak >= TAP_MIN_G) & (spikes.width_s <= max_width_s(spikes.rate_hz))
    taps = np.flatnonzero(tap)
    if len(taps) < 3:
        return []
    first, third = taps[:-2], taps[2:]
    ok = t[third] - t[first] <= TAP_TRIPLE_S
    lo = np.searchsorted(t, t[first] - TAP_QUIET_S, side="left")
    hi = np.searchsorted(t, t[third] + TAP_QUIET_S, side="right")
    ok &= hi - lo == 3  # nothing else spikes around them
    return [Triple(_three(t[i : i + 3]), _three(peak[i : i + 3])) for i in first[ok]]


def _three(x: F64) -> tuple[float, float, float]:
    return float(x[0]), float(x[1]), float(x[2])


def find_triples(rate_hz: float, chunks: Iterable[tuple[F64, F64]]) -> list[Triple]:
    """Tap triples of a recording given as (t, acc) chunks at ``rate_hz``."""
    finder = SpikeFinder(rate_hz)
    for t, acc in chunks:
        finder.feed(t, acc)
    return triples(finder.finish())
