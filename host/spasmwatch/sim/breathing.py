"""Breathing and heartbeat micro-motion of the chest (absent when the band is off).

Rate and depth live on a coarse 10 Hz grid and are interpolated per chunk;
the phase is integrated on that grid, so rate changes never make the
waveform jump. This micro-motion is what tells a worn band from one lying
on a table.

The grid is never held whole (a week of it was over 1 GB while it was
built): each chunk computes the part it needs from the spans, the noise
knots and a phase stored every ``_BLOCK`` points. Every value is the same
sum, in the same order, as over the whole grid, so a seed's recording does
not depend on how it is cut.
"""

from __future__ import annotations

import math

import numpy as np

from spasmwatch.sim.body import Baby
from spasmwatch.sim.movements import STANDARD_GRAVITY_MS2, Channels
from spasmwatch.sim.rotation import FloatArray
from spasmwatch.sim.schedule import Span
from spasmwatch.sim.signals import SmoothNoise, coarse_phase
from spasmwatch.sim.world import BreathMod

_STEP_S = 0.1
_INSPIRATION_SKEW = 0.15  # 2nd harmonic: inspiration shorter than expiration
_RATE_SMOOTH_S, _DEPTH_SMOOTH_S, _WORN_SMOOTH_S = 2.0, 1.5, 2.0
_BLOCK = 4096  # grid points (410 s) between stored phases: a chunk recomputes at most this many extra
_SUM_LEAF = 1 << 16  # grid points summed at once for the mean rate

# (first, end) grid indices and the rate and depth factors of a sigh or a pause.
_Change = tuple[int, int, float, float]


def _kernel(width_s: float) -> FloatArray:
    n = max(3, int(width_s / _STEP_S) | 1)
    kernel = np.hanning(n + 2)[1:-1]
    out: FloatArray = kernel / kernel.sum()
    return out


_HALF = max(len(_kernel(w)) // 2 for w in (_RATE_SMOOTH_S, _DEPTH_SMOOTH_S, _WORN_SMOOTH_S))


def _smooth(x: FloatArray, lo: int, a: int, b: int, n: int, width_s: float) -> FloatArray:
    """Moving Hann average over ``width_s`` at grid points [a, b) of n, edges held; x holds points lo.."""
    kernel = _kernel(width_s)
    half = len(kernel) // 2
    padded = x[np.clip(np.arange(a - half, b + half), 0, n - 1) - lo]
    out: FloatArray = np.convolve(padded, kernel, mode="valid")
    return out


def _indices(first: int, stop: int, n: int) -> tuple[int, int]:
    """The grid indices ``grid[first:stop]`` of the whole grid of n points takes."""
    start, end, _ = slice(first, stop).indices(n)
    return start, end


def _span(start: float, end: float, n: int) -> tuple[int, int]:
    return _indices(int(start / _STEP_S), int(math.ceil(end / _STEP_S)), n)


def _part(first: int, stop: int, lo: int, hi: int) -> slice:
    """Where grid indices [first, stop) fall in an array holding points [lo, hi)."""
    return slice(min(max(first, lo), hi) - lo, max(min(stop, hi), lo) - lo)


class Breathing:
    def __init__(self, rng: np.random.Generator, baby: Baby, states: list[Span], mods: list[BreathMod], duration: float) -> None:
        self.baby = baby
        # The points of np.arange(0, duration + 2 step, step), point k at k * step.
        self.n = n = math.ceil((duration + 2 * _STEP_S) / _STEP_S)
        self._wake_rate = float(rng.uniform(1.1, 1.35))  # awake breathing is faster and less regular
        self._states = [(*_span(s.start, s.end, n), s.state) for s in states]
        self._mods = [(*_span(m.start, m.end, n), m) for m in mods]
        self._noise = SmoothNoise(rng, 0.0, duration + 1.0, 0.3, np.array([0.25, 0.3]))
        self._slow = SmoothNoise(rng, 0.0, duration + 1.0, 0.01, np.array([0.06])).over(0.0, (n - 1) * _STEP_S, n)
        self._changes = self._pauses_and_sighs(rng, states)
        self._mean_rate = self._rate_sum(0, n) / n
        self._breath_at, self._heart_at = self._block_phases()

    def _pauses_and_sighs(self, rng: np.random.Generator, states: list[Span]) -> list[_Change]:
        """Sighs (a deep breath every few minutes) and short pauses (< 10 s) in sleep."""
        changes: list[_Change] = []
        for s in states:
            if s.state != "sleep":
                continue
            minutes = (s.end - s.start) / 60.0
            for t in rng.uniform(s.start, s.end, size=rng.poisson(minutes / rng.uniform(3.0, 10.0))):
                sigh = _indices(int(t / _STEP_S), int((t + 2.5) / _STEP_S), self.n)
                changes.append((*sigh, 1.0, float(rng.uniform(2.0, 3.5))))  # x * 1.0 is x: the rate is untouched
            for t in rng.uniform(s.start, s.end, size=rng.poisson(minutes / 30.0)):
                pause = _indices(int(t / _STEP_S), int((t + rng.uniform(3.0, 9.0)) / _STEP_S), self.n)
                changes.append((*pause, 0.05, 0.2))
        return changes

    def _levels(self, lo: int, hi: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Breathing rate (Hz), depth and worn (0/1, unsmoothed) at grid points [lo, hi)."""
        grid: FloatArray = np.arange(lo, hi, dtype=np.float64) * _STEP_S
        rate = np.full(hi - lo, self.baby.breath_hz_quiet_sleep)
        depth, irregular, worn = np.ones(hi - lo), np.zeros(hi - lo), np.ones(hi - lo)
        for first, stop, state in self._states:
            sl = _part(first, stop, lo, hi)
            if state == "wake":
                rate[sl] *= self._wake_rate
                depth[sl] = 1.3
                irregular[sl] = 0.3
            elif state == "not_worn":
                worn[sl] = 0.0
        for first, stop, m in self._mods:
            sl = _part(first, stop, lo, hi)
            rate[sl] *= m.rate
            depth[sl] *= m.depth
            irregular[sl] = np.maximum(irregular[sl], m.irregular)
        noise = self._noise(grid)
        slow = self._slow(grid)[:, 0]
        rate *= np.clip(1.0 + slow + irregular * noise[:, 0], 0.4, 2.0)
        depth *= np.clip(1.0 + 0.15 * slow / 0.06 + irregular * noise[:, 1], 0.2, 3.0)
        for first, stop, rate_factor, depth_factor in self._changes:
            sl = _part(first, stop, lo, hi)
            rate[sl] *= rate_factor
            depth[sl] *= depth_factor
        return rate, depth, worn

    def _heart_hz(self, rate: FloatArray) -> FloatArray:
        out: FloatArray = self.baby.heart_hz * (1.0 + 0.15 * (rate / self._mean_rate - 1.0))
        return out

    def _rate_sum(self, lo: int, hi: int) -> float:
        """The sum numpy takes of the rate at [lo, hi): pairwise, halves cut at multiples of 8."""
        n = hi - lo
        if n <= _SUM_LEAF:
            return float(np.add.reduce(self._levels(lo, hi)[0]))
        half = n // 2 - (n // 2) % 8
        return self._rate_sum(lo, lo + half) + self._rate_sum(lo + half, hi)

    def _block_phases(self) -> tuple[list[float], list[float]]:
        """Breathing and heartbeat phase (cycles) at grid points 0, _BLOCK, 2 _BLOCK, ..."""
        breath, heart = [0.0], [0.0]
        for lo in range(0, self.n - 1, _BLOCK):
            rate = self._levels(lo, min(self.n, lo + _BLOCK + 1))[0]
            breath.append(float(coarse_phase(rate, _STEP_S, breath[-1])[-1]))
            heart.append(float(coarse_phase(self._heart_hz(rate), _STEP_S, heart[-1])[-1]))
        return breath, heart

    def render(self, ch: Channels) -> None:
        t = ch.t
        a = min(max(0, int(np.floor(t[0] / _STEP_S)) - 1), self.n - 1)  # grid points around t
        b = max(min(self.n, int(np.ceil(t[-1] / _STEP_S)) + 2), a + 1)
        c = a - a % _BLOCK  # the stored phase at or before a
        lo, hi = max(0, c - _HALF), min(self.n, b + _HALF)
        rate, depth, worn = self._levels(lo, hi)
        grid: FloatArray = np.arange(a, b, dtype=np.float64) * _STEP_S
        freq = _smooth(rate, lo, a, b, self.n, _RATE_SMOOTH_S)
        worn = _smooth(worn, lo, a, b, self.n, _WORN_SMOOTH_S)
        depth = _smooth(depth, lo, a, b, self.n, _DEPTH_SMOOTH_S) * worn
        rate = rate[c - lo : b - lo]
        breath_phase = coarse_phase(rate, _STEP_S, self._breath_at[c // _BLOCK])[a - c :]
        heart_phase = coarse_phase(self._heart_hz(rate), _STEP_S, self._heart_at[c // _BLOCK])[a - c :]

        phase = 2.0 * np.pi * np.interp(t, grid, breath_phase)
        depth = np.interp(t, grid, depth)
        omega = 2.0 * np.pi * np.interp(t, grid, freq)
        wave = np.sin(phase) + _INSPIRATION_SKEW * np.sin(2.0 * phase + 1.2)
        wave_acc = -(np.sin(phase) + 4.0 * _INSPIRATION_SKEW * np.sin(2.0 * phase + 1.2)) * omega * omega
        baby = self.baby
        ch.wobble += (depth * wave * baby.breath_tilt_rad)[:, None] * baby.breath_axis
        ch.acc_body[:, 2] += depth * wave_acc * baby.breath_disp_m / STANDARD_GRAVITY_MS2
        heart = 2.0 * np.pi * np.interp(t, grid, heart_phase)
        worn = np.interp(t, grid, worn)
        ch.acc_body[:, 2] += worn * baby.cardiac_g * (np.sin(heart) + 0.5 * np.sin(2.0 * heart + 0.7))
