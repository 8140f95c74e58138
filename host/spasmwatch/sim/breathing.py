"""Breathing and heartbeat micro-motion of the chest (absent when the band is off).

Rate and depth live on a coarse 10 Hz grid over the whole recording (cheap:
0.9 M points a day) and are interpolated per chunk; the phase is integrated
on that grid, so rate changes never make the waveform jump. This micro-motion
is what tells a worn band from one lying on a table.
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


def _smooth(x: FloatArray, width_s: float) -> FloatArray:
    """Moving Hann average over ``width_s`` on the coarse grid (edges held)."""
    n = max(3, int(width_s / _STEP_S) | 1)
    kernel = np.hanning(n + 2)[1:-1]
    padded = np.concatenate((np.full(n // 2, x[0]), x, np.full(n // 2, x[-1])))
    out: FloatArray = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    return out


class Breathing:
    def __init__(self, rng: np.random.Generator, baby: Baby, states: list[Span], mods: list[BreathMod], duration: float) -> None:
        self.baby = baby
        self.grid = np.arange(0.0, duration + 2 * _STEP_S, _STEP_S)
        rate, depth, irregular, worn = self._state_levels(rng, states)
        for m in mods:
            sl = slice(int(m.start / _STEP_S), int(math.ceil(m.end / _STEP_S)))
            rate[sl] *= m.rate
            depth[sl] *= m.depth
            irregular[sl] = np.maximum(irregular[sl], m.irregular)
        noise = SmoothNoise(rng, 0.0, duration + 1.0, 0.3, np.array([0.25, 0.3]))(self.grid)
        slow = SmoothNoise(rng, 0.0, duration + 1.0, 0.01, np.array([0.06]))(self.grid)[:, 0]
        rate *= np.clip(1.0 + slow + irregular * noise[:, 0], 0.4, 2.0)
        depth *= np.clip(1.0 + 0.15 * slow / 0.06 + irregular * noise[:, 1], 0.2, 3.0)
        rate, depth = self._pauses_and_sighs(rng, states, rate, depth)
        # Spans set depth and rate as steps; a real chest changes over a breath
        # or two, and a step in depth would be a step in tilt (a gyro spike).
        self.freq = _smooth(rate, 2.0)
        self.depth = _smooth(depth, 1.5) * worn
        self.phase = coarse_phase(rate, _STEP_S)
        heart = baby.heart_hz * (1.0 + 0.15 * (rate / rate.mean() - 1.0))
        self.heart_phase = coarse_phase(heart, _STEP_S)
        self.worn = worn

    def _state_levels(self, rng: np.random.Generator, states: list[Span]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        n = self.grid.shape[0]
        rate = np.full(n, self.baby.breath_hz_quiet_sleep)
        depth, irregular, worn = np.ones(n), np.zeros(n), np.ones(n)
        wake_rate = rng.uniform(1.1, 1.35)  # awake breathing is faster and less regular
        for s in states:
            sl = slice(int(s.start / _STEP_S), int(math.ceil(s.end / _STEP_S)))
            if s.state == "wake":
                rate[sl] *= wake_rate
                depth[sl] = 1.3
                irregular[sl] = 0.3
            elif s.state == "not_worn":
                worn[sl] = 0.0
        # Fade the micro-motion over ~2 s at band removal so it is not a step.
        return rate, depth, irregular, _smooth(worn, 2.0)

    def _pauses_and_sighs(self, rng: np.random.Generator, states: list[Span], rate: FloatArray, depth: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Sighs (a deep breath every few minutes) and short pauses (< 10 s) in sleep."""
        for s in states:
            if s.state != "sleep":
                continue
            minutes = (s.end - s.start) / 60.0
            for t in rng.uniform(s.start, s.end, size=rng.poisson(minutes / rng.uniform(3.0, 10.0))):
                sl = slice(int(t / _STEP_S), int((t + 2.5) / _STEP_S))
                depth[sl] *= rng.uniform(2.0, 3.5)
            for t in rng.uniform(s.start, s.end, size=rng.poisson(minutes / 30.0)):
                sl = slice(int(t / _STEP_S), int((t + rng.uniform(3.0, 9.0)) / _STEP_S))
                rate[sl] *= 0.05
                depth[sl] *= 0.2
        return rate, depth

    def render(self, ch: Channels) -> None:
        t = ch.t
        phase = 2.0 * np.pi * np.interp(t, self.grid, self.phase)
        depth = np.interp(t, self.grid, self.depth)
        omega = 2.0 * np.pi * np.interp(t, self.grid, self.freq)
        wave = np.sin(phase) + _INSPIRATION_SKEW * np.sin(2.0 * phase + 1.2)
        wave_acc = -(np.sin(phase) + 4.0 * _INSPIRATION_SKEW * np.sin(2.0 * phase + 1.2)) * omega * omega
        b = self.baby
        ch.wobble += (depth * wave * b.breath_tilt_rad)[:, None] * b.breath_axis
        ch.acc_body[:, 2] += depth * wave_acc * b.breath_disp_m / STANDARD_GRAVITY_MS2
        heart = 2.0 * np.pi * np.interp(t, self.grid, self.heart_phase)
        worn = np.interp(t, self.grid, self.worn)
        ch.acc_body[:, 2] += worn * b.cardiac_g * (np.sin(heart) + 0.5 * np.sin(2.0 * heart + 0.7))
