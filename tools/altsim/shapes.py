"""Waveform building blocks: band-limited noise, bumps, pulses, envelopes."""

from __future__ import annotations

import numpy as np

from tools.altsim.rot import Arr


def band_noise(rng: np.random.Generator, n: int, rate: float, lo: float, hi: float) -> Arr:
    """Gaussian noise with power between ``lo`` and ``hi`` Hz, unit RMS.

    Slow noise is made at a lower rate and brought up with a cubic B-spline
    (smooth to the second derivative, so accelerations derived from it stay
    clean)."""
    if n < 8:
        return np.zeros(n)
    hi = min(hi, 0.45 * rate)
    d = max(1, int(rate / (8 * hi)))
    m = n // d + 4
    size = _fast_len(m)
    f = np.fft.rfftfreq(size, d / rate)
    # smooth (raised-cosine in log frequency) band edges, half an octave wide
    lf = np.log2(np.maximum(f, 1e-9))
    gain = _edge(lf - np.log2(max(lo, 1e-6))) * _edge(np.log2(hi) - lf)
    x = np.fft.irfft(np.fft.rfft(rng.normal(size=size)) * gain, size)[:m]
    x = _bspline_up(x, d, n) if d > 1 else x[:n]
    sd = float(np.std(x))
    return x / sd if sd > 0 else x


def _fast_len(m: int) -> int:
    """Smallest 2^a * {1, 3, 5, 9, 15} not below m (quick FFT sizes)."""
    best = 1 << max(0, (m - 1).bit_length())
    for k in (3, 5, 9, 15):
        p = 1 << max(0, (-(-m // k) - 1).bit_length())
        best = min(best, k * p)
    return best


def _bspline_up(c: Arr, d: int, n: int) -> Arr:
    """Uniform cubic B-spline with control points ``c`` spaced ``d`` samples
    apart, evaluated at n samples."""
    f = np.arange(d) / d
    w = np.stack([(1 - f) ** 3, 3 * f**3 - 6 * f**2 + 4, -3 * f**3 + 3 * f**2 + 3 * f + 1, f**3], axis=1) / 6
    k = -(-n // d)
    ctrl = np.stack([c[j : j + k] for j in range(4)], axis=1)
    return (ctrl @ w.T).ravel()[:n]


def _edge(octaves: Arr) -> Arr:
    x = np.clip(octaves / 0.5 + 0.5, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def smoothstep(x: Arr) -> Arr:
    """0 -> 1 raised-cosine ramp for x in [0, 1] (clipped outside)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def bump(m: int) -> Arr:
    """A raised-cosine bump of ``m`` samples, zero at both ends, peak 1."""
    if m < 3:
        return np.ones(max(m, 1))
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(m) / (m - 1))


def jolt(rate: float, width_s: float) -> Arr:
    """Biphasic acceleration pulse (a push and its stop), peak +1."""
    m = max(5, int(round(6 * width_s * rate)) | 1)
    t = (np.arange(m) - m // 2) / rate
    g = -t / width_s * np.exp(0.5 - 0.5 * (t / width_s) ** 2)
    return g - np.linspace(g[0], g[-1], m)


def add_at(dst: Arr, i0: int, vals: Arr) -> None:
    """``dst[i0:i0+len(vals)] += vals``, clipped to the array."""
    n = len(dst)
    a, b = max(i0, 0), min(i0 + len(vals), n)
    if a < b:
        dst[a:b] += vals[a - i0 : b - i0]


def add_pulses(dst: Arr, idx: Arr, vecs: Arr, kernel: Arr) -> None:
    """Add ``vecs[k] * kernel`` starting at sample ``idx[k]`` (dst (n, 3))."""
    m = len(kernel)
    keep = (idx >= 0) & (idx + m <= len(dst))
    start, vecs = idx[keep].astype(np.int64), vecs[keep]
    if not len(start):
        return
    rows = (start[:, None] + np.arange(m)[None, :]).ravel()
    for ax in range(dst.shape[1]):
        np.add.at(dst[:, ax], rows, (vecs[:, ax, None] * kernel[None, :]).ravel())


def poisson_times(rng: np.random.Generator, start: float, end: float, per_s: float, gap_s: float = 0.0) -> Arr:
    """Event times of a Poisson process with a dead time ``gap_s`` after each."""
    if per_s <= 0 or end <= start:
        return np.empty(0)
    k = int((end - start) * per_s * 1.5) + 10
    steps = rng.exponential(1.0 / per_s, k) + gap_s
    t = start + np.cumsum(steps)
    return t[t < end]


def bouts(rng: np.random.Generator, n: int, rate: float, on_s: float, off_s: float, floor: float) -> Arr:
    """An activity envelope: bouts (level about 1) alternating with calmer
    spells (level ``floor``), smoothed over about a second."""
    total = n / rate
    edges, t, on = [0.0], 0.0, bool(rng.random() < 0.5)
    levels = []
    while t < total:
        d = rng.exponential(on_s if on else off_s) + 1.0
        levels.append(rng.uniform(0.6, 1.4) if on else floor * rng.uniform(0.5, 1.5))
        t += d
        edges.append(t)
        on = not on
    times = np.arange(n) / rate
    level = np.asarray(levels)[np.searchsorted(np.asarray(edges), times, side="right") - 1]
    return smooth(level, int(rate))


def smooth(x: Arr, m: int) -> Arr:
    """Moving average over ``m`` samples (same length, edges held)."""
    if m < 2 or len(x) < m:
        return x
    c = np.cumsum(np.concatenate([[0.0], x]))
    y = (c[m:] - c[:-m]) / m
    pad = m // 2
    return np.concatenate([np.full(pad, y[0]), y, np.full(len(x) - len(y) - pad, y[-1])])
