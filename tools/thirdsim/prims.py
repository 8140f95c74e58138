"""Body channels, pulse shapes and the event primitives everything is built from.

Every movement is an ``Event``: a span of time and a function that adds its
contribution to the body channels at any array of times. Because events are
pure functions of absolute time (random parameters are drawn once, when the
event is planned), a recording can be rendered in independent chunks with no
seams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Arr = np.ndarray
G = 9.80665

# Body channels (rows of the channel matrix).
YAW, PITCH, ROLL = 0, 1, 2  # pelvis posture in the world, rad (R = Rz Ry Rx)
LX, LY, LZ = 3, 4, 5  # lumbar joint (trunk relative to pelvis) rotation vector, rad: x twist, -y flexion, z side bend
NX, NY, NZ = 6, 7, 8  # neck joint rotation vector, rad (only felt at the trunk as a reaction)
WX, WY, WZ = 9, 10, 11  # pelvis translational acceleration in the world frame, m/s^2
BX, BY, BZ = 12, 13, 14  # the same in the pelvis frame (pats, limb reaction forces), m/s^2
BREATH = 15  # outward displacement of the chest/belly wall under the band, m
SLIP = 16  # band slip about the sensor's normal, rad
NCH = 17

Render = Callable[[Arr, Arr], None]  # (t, out[NCH, len(t)]) -> adds in place


@dataclass
class Event:
    start: float
    end: float
    render: Render


def sstep(x: Arr) -> Arr:
    """C2 smooth step 0 -> 1 on [0, 1] (smootherstep), so accelerations stay continuous."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6.0 * x - 15.0) + 10.0)


def bump(x: Arr) -> Arr:
    """Raised-cosine bump on [0, 1] (0 outside), peak 1 at 0.5."""
    inside = (x > 0) & (x < 1)
    return np.where(inside, 0.5 - 0.5 * np.cos(2 * np.pi * np.clip(x, 0, 1)), 0.0)


def fade(t: Arr, start: float, end: float, ramp: float) -> Arr:
    """1 inside [start, end] with smooth ramps of ``ramp`` s at both ends."""
    ramp = max(ramp, 1e-3)
    return sstep((t - start) / ramp) * sstep((end - t) / ramp)


def ring(u: Arr, f_hz: float, tau_s: float) -> Arr:
    """A damped ring (impact on soft tissue): zero before 0, peak ~1."""
    up = np.clip(u, 0, None)
    return np.where(u >= 0, np.exp(-up / tau_s) * np.sin(2 * np.pi * f_hz * up), 0.0)


class BandNoise:
    """Smooth random signal as a sum of sinusoids (deterministic in absolute time, RMS 1)."""

    def __init__(self, rng: np.random.Generator, f_lo: float, f_hi: float, n_terms: int = 24) -> None:
        self.f = np.exp(rng.uniform(np.log(f_lo), np.log(f_hi), n_terms))
        self.ph = rng.uniform(0, 2 * np.pi, n_terms)
        w = rng.rayleigh(1.0, n_terms)
        self.a = w / np.sqrt(0.5 * np.sum(w * w))

    def __call__(self, t: Arr) -> Arr:
        out = np.zeros_like(t)
        for f, p, a in zip(self.f, self.ph, self.a):
            out += a * np.sin(2 * np.pi * f * t + p)
        return out


def noise_event(rng: np.random.Generator, start: float, end: float, gains: dict[int, float],
                f_lo: float, f_hi: float, ramp: float = 1.0, n_terms: int = 24,
                envelope: Callable[[Arr], Arr] | None = None) -> Event:
    """Independent band-limited noise on each channel, ``gains`` = RMS per channel."""
    srcs = {c: BandNoise(rng, f_lo, f_hi, n_terms) for c in gains}

    def render(t: Arr, out: Arr) -> None:
        env = fade(t, start, end, ramp)
        if envelope is not None:
            env = env * envelope(t)
        for c, g in gains.items():
            out[c] += g * env * srcs[c](t)

    return Event(start, end, render)


def rhythm_event(rng: np.random.Generator, start: float, end: float, gains: dict[int, float], f_hz: float,
                 harmonics: tuple[float, ...] = (1.0,), wander: float = 0.05, ramp: float = 1.5) -> Event:
    """A quasi-periodic movement (bouncing, rocking, gait, sucking): harmonics of one phase
    (``harmonics`` = amplitude of the 1st, 2nd, ... harmonic), its frequency wandering by +-``wander`` (fraction) so it is not a pure line."""
    fm = rng.uniform(0.02, 0.08)
    beta = wander * f_hz / fm  # phase modulation index for that frequency deviation
    ph0 = {c: rng.uniform(0, 2 * np.pi, len(harmonics)) for c in gains}
    phm = rng.uniform(0, 2 * np.pi)

    def render(t: Arr, out: Arr) -> None:
        env = fade(t, start, end, ramp)
        phase = 2 * np.pi * f_hz * (t - start) + beta * np.sin(2 * np.pi * fm * t + phm)
        for c, g in gains.items():
            sig = np.zeros_like(t)
            for k, (h, p) in enumerate(zip(harmonics, ph0[c])):
                sig += h * np.sin((k + 1) * phase + p)
            out[c] += g * env * sig

    return Event(start, end, render)


def pulses_event(start: float, end: float, times: Arr, amps: Arr, gains: dict[int, float],
                 width_s: float, shape: str = "bump", ring_hz: float = 10.0) -> Event:
    """A train of short pulses (pats, hiccups, twitches, myoclonic jerks, bumps).

    ``bump`` pulses suit angles and displacements (they return to zero);
    ``ring`` pulses suit accelerations (an impact ringing out in soft tissue).
    """
    times = np.asarray(times, float)
    amps = np.asarray(amps, float)
    span = width_s if shape == "bump" else 6 * width_s

    def render(t: Arr, out: Arr) -> None:
        lo = np.searchsorted(times, t[0] - span)
        hi = np.searchsorted(times, t[-1])
        for tk, ak in zip(times[lo:hi], amps[lo:hi]):
            i0, i1 = np.searchsorted(t, [tk, tk + span])
            if i1 <= i0:
                continue
            u = t[i0:i1] - tk
            p = bump(u / width_s) if shape == "bump" else ring(u, ring_hz, width_s)
            for c, g in gains.items():
                out[c, i0:i1] += g * ak * p

    return Event(start, end, render)


def hold_event(start: float, rise: float, hold: float, fall: float, gains: dict[int, float]) -> Event:
    """Move to a posture, hold it, come back (arching, legs lifted at a diaper change)."""
    end = start + rise + hold + fall

    def render(t: Arr, out: Arr) -> None:
        s = sstep((t - start) / rise) - sstep((t - start - rise - hold) / fall)
        for c, g in gains.items():
            out[c] += g * s

    return Event(start, end, render)


def poisson_times(rng: np.random.Generator, start: float, end: float, rate_hz: float) -> Arr:
    if end <= start:
        return np.zeros(0)
    n = rng.poisson(rate_hz * (end - start))
    return np.sort(rng.uniform(start, end, n))


def regular_times(rng: np.random.Generator, start: float, end: float, period_s: float, jitter: float) -> Arr:
    """Times about every ``period_s`` (jitter: fraction of the period, SD)."""
    out = []
    t = start + rng.uniform(0, period_s)
    while t < end:
        out.append(t)
        t += period_s * max(0.3, 1.0 + jitter * rng.normal())
    return np.array(out)
