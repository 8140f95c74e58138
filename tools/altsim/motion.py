"""Ongoing body motion: sleep stages, breathing, spontaneous movement and
caregiver sway. Everything here is continuous; discrete events live in
``events.py`` and ``spasms.py``."""

from __future__ import annotations

import numpy as np

from tools.altsim.rot import Arr
from tools.altsim.shapes import band_noise, bouts, smooth, smoothstep
from tools.altsim.world import Recording, Segment

G = 9.81
HELD = {"held", "shoulder", "feeding", "carried", "rocking"}
LYING = {"crib", "playmat", "changing"}


def sleep_stages(rng: np.random.Generator, start: float, end: float, young: bool) -> list[tuple[float, float, str]]:
    """Alternating active (REM-like) and quiet sleep; young infants fall
    asleep through active sleep and spend about half of sleep in it."""
    out, t = [], start
    stage = "active" if (young or rng.random() < 0.3) else "quiet"
    while t < end:
        mean = 60 * (rng.uniform(10, 30) if stage == "active" else rng.uniform(15, 40))
        d = min(end - t, mean)
        out.append((t, t + d, stage))
        t += d
        stage = "quiet" if stage == "active" else "active"
    return out


def taper(m: int, rate: float, edge_s: float = 1.0) -> Arr:
    """1 inside, smooth 0 -> 1 -> 0 over ``edge_s`` at both ends."""
    k = np.arange(m)
    e = max(1.0, edge_s * rate)
    return smoothstep(k / e) * smoothstep((m - 1 - k) / e)


def _state_arrays(rec: Recording, i0: int, i1: int) -> tuple[Arr, Arr]:
    """Per-sample breathing-rate multiplier and irregularity for [i0, i1)."""
    t = np.arange(i0, i1) / rec.rate
    mult, irr = np.full(i1 - i0, 1.3), np.full(i1 - i0, 0.10)
    for a, b, stage in rec.stages:
        sel = (t >= a) & (t < b)
        mult[sel] = 1.0 if stage == "quiet" else 1.12
        irr[sel] = 0.03 if stage == "quiet" else 0.12
    m = int(20 * rec.rate)  # rate changes over ~20 s
    return smooth(mult, m), smooth(irr, m)


def breathing(rec: Recording, start: float, end: float) -> None:
    """Chest/abdominal wall motion over one worn stretch (continuous phase)."""
    rng, tr = rec.rng, rec.tracks
    sl = tr.span(start, end)
    m = sl.stop - sl.start
    if m < 16:
        return
    mult, irr = _state_arrays(rec, sl.start, sl.stop)
    f = rec.baby.breath_bpm_quiet / 60.0 * mult * (1 + irr * band_noise(rng, m, tr.rate, 0.005, 0.3))
    phase = rng.uniform() + np.cumsum(np.maximum(f, 0.2)) / tr.rate
    wave = _breath_wave(phase % 1.0, rng.uniform(0.35, 0.45))
    env = _breath_envelope(rec, sl.start, sl.stop) * taper(m, tr.rate)
    rot_deg = rng.uniform(0.3, 1.5)
    disp_m = rng.uniform(0.001, 0.004)
    w = wave * env
    tr.theta[sl, 1] += np.radians(rot_deg) * w
    tr.theta[sl, 0] += np.radians(rot_deg) * rng.uniform(-0.3, 0.3) * w
    acc = np.gradient(np.gradient(disp_m * w, 1 / tr.rate), 1 / tr.rate) / G
    tr.acc_b[sl, 2] += acc
    tr.acc_b[sl, 0] += rng.uniform(-0.3, 0.3) * acc


def _breath_wave(u: Arr, insp: float) -> Arr:
    """One breath per unit phase: quicker inspiration, slower expiration."""
    rise = 0.5 - 0.5 * np.cos(np.pi * u / insp)
    fall = 0.5 + 0.5 * np.cos(np.pi * (u - insp) / (1 - insp))
    return np.where(u < insp, rise, fall)


def _breath_envelope(rec: Recording, i0: int, i1: int) -> Arr:
    """Breath depth: slow variation, sighs, short pauses in sleep; weaker
    when prone or held against someone."""
    rng, rate = rec.rng, rec.rate
    m = i1 - i0
    env = np.exp(0.15 * band_noise(rng, m, rate, 0.01, 0.2))
    t = np.arange(i0, i1) / rate
    for seg in rec.segments:
        sel = (t >= seg.start) & (t < seg.end)
        if seg.context == "off":
            env[sel] = 0.0
        elif abs(((seg.pose.roll + 180) % 360) - 180) > 135 or seg.context in HELD:
            env[sel] *= 0.7
        if seg.state == "sleep":
            hours = seg.duration / 3600
            for tc in rng.uniform(seg.start, seg.end, rng.poisson(8 * hours)):  # sighs
                _scale_window(env, t, tc, rng.uniform(2.0, 3.0), rng.uniform(1.5, 3.0))
            for tc in rng.uniform(seg.start, seg.end, rng.poisson(4 * hours)):  # pauses
                _scale_window(env, t, tc, rng.uniform(3.0, 10.0), 0.0)
    return env


def _scale_window(env: Arr, t: Arr, tc: float, width: float, factor: float) -> None:
    a, b = np.searchsorted(t, [tc - width / 2, tc + width / 2])
    if b - a > 2:
        w = np.sin(np.linspace(0, np.pi, b - a)) ** 2
        env[a:b] *= 1 + (factor - 1) * w


def background(rec: Recording, seg: Segment) -> None:
    """Spontaneous trunk motion for the segment's state and place, plus the
    caregiver's own sway when the baby is held."""
    if seg.context == "off":
        return
    rng, tr = rec.rng, rec.tracks
    sl = tr.span(seg.start, seg.end)
    m = sl.stop - sl.start
    if m < 16:
        return
    win = taper(m, tr.rate)
    v = rec.baby.vigour
    if seg.state == "wake":
        level = 1.0 if seg.context in LYING | {"bouncer"} else 0.5
        env = bouts(rng, m, tr.rate, 40.0, 60.0, 0.15) * level * v * win
        _noise3(rec, tr.theta, sl, np.radians(rng.uniform(0.7, 2.5)) * env, 0.1, 1.5, (1.0, 1.0, 0.6))
        _noise3(rec, tr.acc_b, sl, rng.uniform(0.01, 0.04) * env, 0.5, 8.0, (1.0, 0.7, 1.0))
    else:
        active = _stage_mask(rec, sl.start, sl.stop)
        amp = np.radians(np.where(active, 0.25, 0.04)) * v * win
        _noise3(rec, tr.theta, sl, smooth(amp, int(5 * tr.rate)), 0.1, 2.0, (1.0, 1.0, 0.5))
    if seg.context in HELD:
        sway = np.radians(rng.uniform(0.7, 2.5)) * win
        _noise3(rec, tr.rock, sl, sway, 0.03, 0.6, (1.0, 1.0, 0.5))
        _noise3(rec, tr.acc_w, sl, rng.uniform(0.005, 0.02) * win, 0.2, 3.0, (1.0, 1.0, 0.7))


def _stage_mask(rec: Recording, i0: int, i1: int) -> Arr:
    t = np.arange(i0, i1) / rec.rate
    mask = np.zeros(i1 - i0, dtype=bool)
    for a, b, stage in rec.stages:
        if stage == "active":
            mask |= (t >= a) & (t < b)
    return mask


def _noise3(rec: Recording, dst: Arr, sl: slice, amp: Arr | float, lo: float, hi: float, axes: tuple[float, float, float]) -> None:
    m = sl.stop - sl.start
    for k, w in enumerate(axes):
        dst[sl, k] += w * amp * band_noise(rec.rng, m, rec.rate, lo, hi)
