"""Movement primitives: each adds its motion to the channels of a time chunk.

Every infant movement in the simulator (spasm, hiccup, patting, car ride...)
is built from these few primitives, each a pure function of absolute time
with a bounded support, so chunks can be rendered independently.

Channels are perturbations on top of the posture:
- ``rot``: body-frame rotation vector (rad) applied after the posture, i.e.
  the trunk bending at the hips about its own axes (flexion is a negative
  rotation about body y, which tips the head axis x towards the chest normal
  z); the renderer adds the sensor's swing about the hip pivot;
- ``wobble``: body-frame rotation without that pivot (chest wall, band
  wobble, whole-body jiggle whose translation is modelled explicitly);
- ``acc_body`` / ``acc_world``: extra linear acceleration in g, in the body
  frame (a pat on the back) or the world frame (a car braking);
- ``yaw``: extra heading about world vertical (rad), e.g. a car turning.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from spasmwatch.sim.rotation import FloatArray
from spasmwatch.sim.signals import SmoothNoise, coarse_phase, edge_taper, min_jerk, min_jerk_accel, window

STANDARD_GRAVITY_MS2 = 9.80665
_COARSE_STEP_S = 0.05  # grid for slowly varying oscillator frequencies


@dataclass
class Channels:
    """Perturbation channels over one chunk of uniformly spaced times. ``block``: the samples
    (first, stop, rate_hz; times k / rate_hz) of the fixed block of the recording these times lie
    in (render.BLOCK_SAMPLES), or None (times of their own): a slow noise is interpolated on a grid
    from its first sample in the block, whatever part of the block is rendered (``extent``)."""

    t: FloatArray
    dt: float
    rot: FloatArray
    wobble: FloatArray
    acc_body: FloatArray
    acc_world: FloatArray
    yaw: FloatArray
    block: tuple[int, int, float] | None = None

    @classmethod
    def zeros(cls, t: FloatArray, dt: float, block: tuple[int, int, float] | None = None) -> Channels:
        n = t.shape[0]
        return cls(t, dt, np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 3)), np.zeros(n), block)

    def extent(self, start: float, end: float) -> tuple[float, float, int]:
        """(first, last, count) of the times in [start, end): of the block's when it is known, else
        of these (a motion's window; some of them lie in the channels)."""
        if self.block is None:
            t = self.t[window(self.t, start, end)]
            return float(t[0]), float(t[-1]), int(t.shape[0])
        first, stop, rate = self.block
        k0, k1 = _first_at(first, stop, rate, start), _first_at(first, stop, rate, end)
        return k0 / rate, (k1 - 1) / rate, k1 - k0


def _first_at(first: int, stop: int, rate: float, t: float) -> int:
    """The first k in [first, stop) with k / rate >= t (stop if none): np.searchsorted's 'left' on
    the times k / rate, without making them."""
    k = min(max(first, math.ceil(t * rate)), stop)
    while k > first and (k - 1) / rate >= t:
        k -= 1
    while k < stop and k / rate < t:
        k += 1
    return k


class Motion(ABC):
    """A movement with support [start, end)."""

    start: float
    end: float

    @abstractmethod
    def render(self, ch: Channels) -> None:
        """Add this movement to the channels (only where it overlaps them)."""


class Ramp(Motion):
    """Trunk rotation following piecewise minimum-jerk ramps between levels.

    ``segments`` are (duration_s, level) pairs starting from level 0; the
    rotation is ``level(t) * axis_rad``. A spasm is rise -> phasic peak ->
    tonic level -> release; a reflux arch is a slow rise and a long hold.
    """

    def __init__(self, start: float, segments: Sequence[tuple[float, float]], axis_rad: FloatArray) -> None:
        durations = np.array([d for d, _ in segments], dtype=float)
        self.levels_to = np.array([lv for _, lv in segments], dtype=float)
        self.levels_from = np.concatenate(([0.0], self.levels_to[:-1]))
        self.seg_start = start + np.concatenate(([0.0], np.cumsum(durations)[:-1]))
        self.durations = durations
        self.axis = np.asarray(axis_rad, dtype=float)
        self.start = start
        self.end = start + float(durations.sum())

    def level(self, t: FloatArray) -> FloatArray:
        k = np.clip(np.searchsorted(self.seg_start, t, side="right") - 1, 0, len(self.durations) - 1)
        s = (t - self.seg_start[k]) / self.durations[k]
        return self.levels_from[k] + (self.levels_to[k] - self.levels_from[k]) * min_jerk(s)

    def render(self, ch: Channels) -> None:
        w = window(ch.t, self.start, self.end)
        ch.rot[w] += self.level(ch.t[w])[:, None] * self.axis


class PulseTrain(Motion):
    """Brief jerks: a damped half-sine acceleration and a small rotation bump each.

    Models hiccups, twitches, myoclonic jerks, pats and kicks: an impulse of
    width ``width_s`` (30-150 ms) with a rebound, plus a Hann-shaped trunk
    rotation lasting ``rot_width_s`` that returns to zero (no held posture,
    which is what separates these from spasms).
    """

    def __init__(
        self,
        times: FloatArray,
        acc_body: FloatArray,
        rot: FloatArray,
        width_s: float,
        rot_width_s: float,
    ) -> None:
        order = np.argsort(times)
        self.times = np.asarray(times, dtype=float)[order]
        self.acc = np.asarray(acc_body, dtype=float)[order]
        self.rot = np.asarray(rot, dtype=float)[order]
        self.width = width_s
        self.rot_width = rot_width_s
        self.support = max(4.0 * width_s, rot_width_s)
        self.start = float(self.times[0]) if len(self.times) else 0.0
        self.end = float(self.times[-1]) + self.support if len(self.times) else 0.0

    def render(self, ch: Channels) -> None:
        lo = np.searchsorted(self.times, ch.t[0] - self.support)
        hi = np.searchsorted(self.times, ch.t[-1] + ch.dt)
        if hi <= lo:
            return
        times = self.times[lo:hi]
        n_k = int(np.ceil(self.support / ch.dt)) + 1
        first = np.ceil((times - ch.t[0]) / ch.dt).astype(np.int64)
        idx = first[:, None] + np.arange(n_k)[None, :]
        tau = ch.t[0] + idx * ch.dt - times[:, None]
        valid = (idx >= 0) & (idx < ch.t.shape[0])
        # Damped sine: a push lasting ~width then a smaller rebound.
        acc_k = np.where(tau < 4.0 * self.width, np.exp(-tau / (1.2 * self.width)) * np.sin(np.pi * tau / self.width), 0.0)
        rot_k = np.where(tau < self.rot_width, 0.5 - 0.5 * np.cos(2.0 * np.pi * tau / self.rot_width), 0.0)
        rows = idx[valid]
        np.add.at(ch.acc_body, rows, acc_k[valid][:, None] * np.repeat(self.acc[lo:hi], n_k, axis=0)[valid.ravel()])
        np.add.at(ch.wobble, rows, rot_k[valid][:, None] * np.repeat(self.rot[lo:hi], n_k, axis=0)[valid.ravel()])


class Transient(Motion):
    """Damped oscillation after an impact: vehicle bump, jolt of a spasm onset."""

    def __init__(
        self,
        t0: float,
        freq_hz: float,
        tau_s: float,
        acc_world: FloatArray | None = None,
        acc_body: FloatArray | None = None,
        rot: FloatArray | None = None,
    ) -> None:
        self.start = t0
        self.end = t0 + 5.0 * tau_s
        self.freq = freq_hz
        self.tau = tau_s
        self.acc_world = acc_world
        self.acc_body = acc_body
        self.rot = rot

    def render(self, ch: Channels) -> None:
        w = window(ch.t, self.start, self.end)
        tau = ch.t[w] - self.start
        shape = (np.exp(-tau / self.tau) * np.sin(2.0 * np.pi * self.freq * tau))[:, None]
        if self.acc_world is not None:
            ch.acc_world[w] += shape * self.acc_world
        if self.acc_body is not None:
            ch.acc_body[w] += shape * self.acc_body
        if self.rot is not None:
            ch.wobble[w] += shape * self.rot


class Oscillation(Motion):
    """Rhythmic motion with slow frequency and amplitude wander.

    Rocking, bouncing, walking gait, swings, sucking and sobbing. ``acc_*``
    amplitudes are peak accelerations of the fundamental; harmonics scale
    with k^2 as they would for a periodic displacement.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        start: float,
        end: float,
        freq_hz: float,
        rot_amp: FloatArray,
        acc_world_amp: FloatArray | None = None,
        acc_body_amp: FloatArray | None = None,
        harmonics: Sequence[float] = (1.0,),
        freq_wander: float = 0.05,
        am_depth: float = 0.2,
        ramp_s: float = 1.0,
    ) -> None:
        self.start, self.end, self.ramp = start, end, ramp_s
        self.wander = SmoothNoise(rng, start, end, 0.1, np.array([freq_wander, am_depth]))
        self.phase0 = float(rng.uniform())
        self.freq_hz = freq_hz
        self.harmonics = np.asarray(harmonics, dtype=float)
        self.harm_phase = rng.uniform(0.0, 2.0 * np.pi, size=len(self.harmonics))
        self.rot_amp = rot_amp
        self.acc_world_amp = acc_world_amp
        self.acc_body_amp = acc_body_amp

    def _track(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Coarse grid, phase (cycles) and gain over the whole motion, made when rendered:
        held from the start, an hour of rocking or driving grew the simulation's memory."""
        grid = np.arange(self.start, self.end + 2 * _COARSE_STEP_S, _COARSE_STEP_S)
        wander = self.wander(grid)
        phase = coarse_phase(self.freq_hz * (1.0 + wander[:, 0]), _COARSE_STEP_S) + self.phase0
        return grid, phase, np.clip(1.0 + wander[:, 1], 0.2, None)

    def _waves(self, t: FloatArray, max_hz: float) -> tuple[FloatArray, FloatArray]:
        grid, track_phase, track_gain = self._track()
        phase = 2.0 * np.pi * np.interp(t, grid, track_phase)
        gain = np.interp(t, grid, track_gain) * edge_taper(t, self.start, self.end, self.ramp)
        k = np.arange(1, len(self.harmonics) + 1)
        # Harmonics the IMU's anti-alias filter would remove at this rate are left out.
        weights = np.where(k * self.freq_hz <= max_hz, self.harmonics, 0.0)
        terms = np.sin(phase[:, None] * k + self.harm_phase) * weights
        position = terms.sum(axis=1) * gain
        accel = -(terms * k * k).sum(axis=1) * gain
        return position, accel

    def render(self, ch: Channels) -> None:
        w = window(ch.t, self.start, self.end)
        if w.stop <= w.start:
            return
        position, accel = self._waves(ch.t[w], 0.4 / ch.dt)
        ch.wobble[w] += position[:, None] * self.rot_amp
        if self.acc_world_amp is not None:
            ch.acc_world[w] += accel[:, None] * self.acc_world_amp
        if self.acc_body_amp is not None:
            ch.acc_body[w] += accel[:, None] * self.acc_body_amp


class NoiseMotion(Motion):
    """Irregular motion: fidgeting, thrashing, road vibration, vehicle manoeuvres."""

    def __init__(
        self,
        rng: np.random.Generator,
        start: float,
        end: float,
        bandwidth_hz: float,
        rot_sigma: FloatArray | None = None,
        acc_world_sigma: FloatArray | None = None,
        acc_body_sigma: FloatArray | None = None,
        yaw_sigma: float = 0.0,
        ramp_s: float = 1.0,
        hip: bool = False,
    ) -> None:
        """``hip``: the rotation is the trunk bending at the hips (slow fidgeting)."""
        self.start, self.end, self.ramp = start, end, ramp_s
        self.hip = hip
        zero = np.zeros(3)
        parts = [
            rot_sigma if rot_sigma is not None else zero,
            acc_world_sigma if acc_world_sigma is not None else zero,
            acc_body_sigma if acc_body_sigma is not None else zero,
            np.array([yaw_sigma]),
        ]
        sigma = np.concatenate(parts)
        self.used = [bool(np.any(p != 0.0)) for p in parts]
        self.noise = SmoothNoise(rng, start, end, bandwidth_hz, sigma)

    def render(self, ch: Channels) -> None:
        w = window(ch.t, self.start, self.end)
        if w.stop <= w.start:
            return
        t = ch.t[w]
        values = self.noise.over(*ch.extent(self.start, self.end))(t) * edge_taper(t, self.start, self.end, self.ramp)[:, None]
        if self.used[0]:
            (ch.rot if self.hip else ch.wobble)[w] += values[:, 0:3]
        if self.used[1]:
            ch.acc_world[w] += values[:, 3:6]
        if self.used[2]:
            ch.acc_body[w] += values[:, 6:9]
        if self.used[3]:
            ch.yaw[w] += values[:, 9]


class Lift(Motion):
    """Vertical translation (picking up, putting down) with a minimum-jerk path."""

    def __init__(self, start: float, duration_s: float, height_m: float) -> None:
        self.start, self.end = start, start + duration_s
        self.duration = duration_s
        self.height = height_m

    def render(self, ch: Channels) -> None:
        w = window(ch.t, self.start, self.end)
        s = (ch.t[w] - self.start) / self.duration
        ch.acc_world[w, 2] += self.height * min_jerk_accel(s) / (self.duration**2 * STANDARD_GRAVITY_MS2)
