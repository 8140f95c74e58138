"""Signal primitives shared by the movement models.

Every primitive is a pure function of absolute time, so a recording can be
rendered chunk by chunk in any order and the chunks join without seams.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from spasmwatch.sim.rotation import FloatArray

_KEEP_KNOTS = 1 << 12  # knot values a noise holds (32 kB); a longer one redraws them when evaluated


def min_jerk(s: FloatArray) -> FloatArray:
    """Minimum-jerk step 0 -> 1 on s in [0, 1] (Flash & Hogan 1985).

    Smooth in position, velocity and acceleration, the standard model of a
    voluntary or reflex reach; used for every ramp so derived accelerations
    stay finite.
    """
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def min_jerk_accel(s: FloatArray) -> FloatArray:
    """Second derivative of :func:`min_jerk` with respect to s (zero outside [0, 1])."""
    inside = (s >= 0.0) & (s <= 1.0)
    return np.where(inside, s * (60.0 + s * (-180.0 + 120.0 * s)), 0.0)


def window(t: FloatArray, start: float, end: float) -> slice:
    """Index range of the sorted times ``t`` inside [start, end)."""
    i0 = int(np.searchsorted(t, start, side="left"))
    i1 = int(np.searchsorted(t, end, side="left"))
    return slice(i0, i1)


def edge_taper(t: FloatArray, start: float, end: float, ramp_s: float) -> FloatArray:
    """Gain rising 0 -> 1 over ``ramp_s`` after start and falling before end."""
    ramp = max(ramp_s, 1e-6)
    up = min_jerk((t - start) / ramp)
    down = min_jerk((end - t) / ramp)
    return np.minimum(up, down)


class SmoothNoise:
    """Band-limited Gaussian noise: Catmull-Rom spline through random knots.

    Knots every ``1 / (2 * bandwidth_hz)`` seconds give a process whose
    spectrum rolls off near ``bandwidth_hz``; the spline passes through the
    knots, so the sample spread equals ``sigma`` at the knots and is a little
    lower between them. Cheap and deterministic per seed, which an IIR filter
    run over chunks would not be without carried state.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        start: float,
        end: float,
        bandwidth_hz: float,
        sigma: FloatArray,
    ) -> None:
        self.start = start
        self.step = 1.0 / (2.0 * bandwidth_hz)
        count = int(np.ceil((end - start) / self.step)) + 4
        self._sigma = sigma
        self._bits = type(rng.bit_generator)
        self._state = rng.bit_generator.state
        knots = self._draw(rng, count)
        # A long noise (hours of fidgeting) keeps where its draws began, not its knots: held,
        # they grew a simulation's memory with its length.
        self._count = count
        self._knots = knots if knots.size <= _KEEP_KNOTS else None

    def _draw(self, rng: np.random.Generator, count: int) -> FloatArray:
        knots: FloatArray = rng.normal(size=(count, self._sigma.shape[0])) * self._sigma
        return knots

    @property
    def knots(self) -> FloatArray:
        if self._knots is not None:
            return self._knots
        rng = np.random.Generator(self._bits())
        rng.bit_generator.state = self._state
        return self._draw(rng, self._count)

    def __call__(self, t: FloatArray) -> FloatArray:
        return self.over(float(t[0]), float(t[-1]), t.shape[0])(t) if t.shape[0] > 64 else self._spline(t)

    def over(self, first: float, last: float, count: int) -> Callable[[FloatArray], FloatArray]:
        """What calling on ``count`` sorted times from first to last gives, for any part of them.

        Slow noise on dense samples is evaluated 32 points per knot and interpolated
        linearly (error < 0.1 % of sigma, far cheaper). Those points are
        ``np.arange(first, last + fine, fine)``; a part makes only the ones around it.
        """
        fine = self.step / 32.0
        if count <= 64 or (last - first) / count >= fine:
            return self._spline
        size = math.ceil((last + fine - first) / fine)
        delta = (first + fine) - first  # np.arange's: point k is first + k * delta, point 1 first + fine

        def part(t: FloatArray) -> FloatArray:
            k0 = max(0, int(np.floor((t[0] - first) / delta)) - 1)
            k1 = min(size, int(np.ceil((t[-1] - first) / delta)) + 2)
            coarse: FloatArray = first + np.arange(k0, k1, dtype=np.float64) * delta
            if k0 <= 1 < k1:
                coarse[1 - k0] = first + fine
            values = self._spline(coarse)
            return np.stack([np.interp(t, coarse, values[:, k]) for k in range(values.shape[1])], axis=1)

        return part

    def _spline(self, t: FloatArray) -> FloatArray:
        u = (t - self.start) / self.step + 1.0  # +1: knot 0 lies before start
        knots = self.knots
        i = np.clip(np.floor(u).astype(np.int64), 1, knots.shape[0] - 3)
        f = (u - i)[:, None]
        p0, p1, p2, p3 = (knots[i + k] for k in (-1, 0, 1, 2))
        return 0.5 * (
            2.0 * p1
            + (p2 - p0) * f
            + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * f * f
            + (3.0 * p1 - p0 - 3.0 * p2 + p3) * f * f * f
        )


def coarse_phase(freq_hz: FloatArray, step_s: float, start: float = 0.0) -> FloatArray:
    """Phase (cycles) integrated from a frequency sampled every ``step_s``, from ``start``.

    One running sum from start: a part continued from the phase at its first
    point equals that part of the whole, to the bit."""
    phase = np.empty_like(freq_hz)
    phase[0] = start
    phase[1:] = 0.5 * (freq_hz[1:] + freq_hz[:-1]) * step_s
    np.cumsum(phase, out=phase)
    return phase
