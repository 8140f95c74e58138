"""Epileptic spasms and their clusters.

Semiology (sources in docs/simulator.md): a spasm is a sudden axial
contraction, a brief phasic peak followed by a less intense tonic phase that
relaxes (Fusco & Vigevano 1993), lasting ~0.5-3 s; flexor, extensor and mixed
flexor-extensor types (Kellaway et al. 1979: 34 / 22 / 42 %), sometimes
asymmetric, sometimes subtle (head nods). Spasms come in clusters whose
intensity and frequency wax to a peak and then wane (Kellaway 1979), a few
seconds apart (West 1841: "at intervals of a few seconds ... 10 to 20 or
more times"), most often just after waking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spasmwatch.sim.body import Baby
from spasmwatch.sim.movements import Channels, Motion, Oscillation, Ramp, Transient
from spasmwatch.sim.rotation import FloatArray, unit

SPASM_KINDS: tuple[str, ...] = ("flexor", "extensor", "mixed", "asymmetric", "subtle")
# Dominant type of a non-subtle cluster: Kellaway's proportions plus a share of
# asymmetric spasms ("occasionally" in the literature; a guess).
_DOMINANT_P: dict[str, float] = {"flexor": 0.30, "extensor": 0.20, "mixed": 0.38, "asymmetric": 0.12}
_ATONIA_P = 0.08  # share of spasms with a preceding brief atonia (a guess)
_OFF_TYPE_P = 0.2  # chance a spasm differs from the cluster's dominant type (21/24 infants had >1 type)


@dataclass
class Spasm:
    t: float
    duration_s: float
    kind: str
    amplitude_deg: float
    motions: list[Motion] = field(default_factory=list)

    @property
    def end(self) -> float:
        return self.t + self.duration_s



def _phases(rng: np.random.Generator, subtle: bool) -> tuple[float, float, float, float, float]:
    """(rise, phasic decay, tonic hold, release, tonic level) with total 0.5-3 s."""
    rise = rng.uniform(0.1, 0.3) if subtle else rng.uniform(0.1, 0.4)
    decay = rng.uniform(0.08, 0.25)
    hold = rng.uniform(0.2, 0.8) if subtle else rng.uniform(0.3, 1.5)
    release = rng.uniform(0.2, 0.5) if subtle else rng.uniform(0.25, 0.9)
    total = rise + decay + hold + release
    if total > 3.0:
        hold -= total - 3.0
    elif total < 0.5:
        hold += 0.5 - total
    return rise, decay, hold, release, rng.uniform(0.55, 0.95)


def _axis(rng: np.random.Generator, kind: str, side: float) -> FloatArray:
    """Body-frame rotation axis: flexion is -y (head towards the chest normal)."""
    wobble = rng.normal(0.0, 0.15, size=3)
    if kind in ("flexor", "subtle", "mixed"):
        base = np.array([0.0, -1.0, 0.0])
    elif kind == "extensor":
        base = np.array([0.0, 1.0, 0.0])
    else:  # asymmetric: lateral bend (about z) and roll (about x) to one side
        base = np.array([side * rng.uniform(0.3, 0.8), -rng.uniform(0.0, 0.7), side * rng.uniform(0.5, 1.0)])
    return unit(base + wobble * np.array([1.0, 0.3, 1.0]))


def make_spasm(rng: np.random.Generator, t0: float, kind: str, amp_deg: float, side: float, baby: Baby, rate_hz: float) -> Spasm:
    rise, decay, hold, release, tonic = _phases(rng, kind == "subtle")
    amp = math.radians(amp_deg)
    axis = _axis(rng, kind, side)
    segments = [(rise, 1.0), (decay, tonic), (hold, tonic * rng.uniform(0.7, 1.0)), (release, 0.0)]
    main = Ramp(t0, segments, axis * amp)
    motions: list[Motion] = [main]
    if kind == "mixed":
        # Legs extend while neck and trunk flex: a lagging, weaker opposite bend.
        lag = rng.uniform(0.05, 0.25)
        second = [(rise, 1.0), (decay + hold * 0.5, rng.uniform(0.3, 0.8)), (release, 0.0)]
        motions.append(Ramp(t0 + lag, second, -axis * amp * rng.uniform(0.2, 0.5)))
    if kind != "subtle" and rng.uniform() < _ATONIA_P:
        # "Spasms preceded by brief atonia": the trunk sags just before the contraction.
        lead = rng.uniform(0.2, 0.5)
        sag = axis * amp * rng.uniform(0.1, 0.25) * rng.choice([-1.0, 1.0])
        motions.append(Ramp(t0 - lead, [(lead, 1.0), (rise, 0.0)], sag))
    motions += _onset_jolt(rng, t0 + 0.4 * rise, amp_deg, kind, baby, 0.4 * rate_hz)
    if rng.uniform() < 0.5 and kind != "subtle":
        motions.append(_tonic_tremor(rng, t0 + rise, hold + decay, amp, axis, rate_hz))
    duration = rise + decay + hold + release
    return Spasm(t0, duration, kind, _peak_deg(motions, t0, duration), motions)


def _onset_jolt(rng: np.random.Generator, t: float, amp_deg: float, kind: str, baby: Baby, max_hz: float) -> list[Motion]:
    """Limbs thrown out at onset shake the trunk; a loose band wobbles."""
    direction = unit(rng.normal(0.0, 1.0, size=3) * np.array([0.8, 0.5, 1.0]))
    if kind == "subtle":  # belly tensing pushes the sensor outwards
        mag = rng.uniform(0.005, 0.04)
        direction = unit(np.array([0.0, 0.0, 1.0]) + 0.3 * direction)
    else:
        mag = (0.02 + rng.uniform(0.05, 0.3) * amp_deg / 25.0) * baby.vigour
    wobble = rng.normal(0.0, 1.0, size=3) * math.radians(amp_deg) * 0.05 * baby.looseness
    return [
        Transient(t, min(rng.uniform(3.0, 8.0), max_hz), rng.uniform(0.04, 0.12), acc_body=direction * mag),
        Transient(t, min(rng.uniform(6.0, 12.0), max_hz), rng.uniform(0.05, 0.15), rot=wobble),
    ]


def _tonic_tremor(rng: np.random.Generator, start: float, length: float, amp: float, axis: FloatArray, rate_hz: float) -> Motion:
    freq = min(rng.uniform(5.0, 10.0), 0.35 * rate_hz)
    return Oscillation(rng, start, start + length, freq, axis * amp * rng.uniform(0.003, 0.012), ramp_s=0.1)


def _peak_deg(motions: list[Motion], t0: float, duration: float) -> float:
    """Peak trunk rotation of the spasm's ramps (what amplitude_deg reports)."""
    t = np.arange(t0, t0 + duration, 0.002)
    ch = Channels.zeros(t, 0.002)
    for m in motions:
        if isinstance(m, Ramp):
            m.render(ch)
    return float(np.degrees(np.linalg.norm(ch.rot, axis=1).max()))


@dataclass
class ClusterPlan:
    onsets: FloatArray  # relative to the first spasm
    kinds: list[str]
    amplitudes_deg: FloatArray
    side: float

    @property
    def subtle(self) -> bool:
        return all(k == "subtle" for k in self.kinds)


def plan_cluster(rng: np.random.Generator, size: tuple[int, int], subtle: bool, amp_scale: float, baby: Baby) -> ClusterPlan:
    n = _cluster_count(rng, size)
    onsets = np.concatenate(([0.0], np.cumsum(_intervals(rng, n))))
    kinds = _kinds(rng, n, subtle)
    return ClusterPlan(onsets, kinds, _amplitudes(rng, n, subtle, amp_scale, baby), float(rng.choice([-1.0, 1.0])))


def _cluster_count(rng: np.random.Generator, size: tuple[int, int]) -> int:
    lo, hi = size
    mean_extra = max(0.5, min(hi, 11.0) - lo)  # typical clusters of ~5-20 spasms
    return int(min(hi, lo + round(rng.gamma(1.6, mean_extra / 1.6))))


def _intervals(rng: np.random.Generator, n: int) -> FloatArray:
    """Quasi-periodic intervals: a per-cluster period, jitter, slower at the edges."""
    base = [rng.uniform(4.0, 7.0), rng.uniform(6.0, 11.0), rng.uniform(10.0, 20.0)][rng.choice(3, p=[0.35, 0.5, 0.15])]
    x = np.arange(n - 1) / max(n - 2, 1)
    peak = rng.uniform(0.25, 0.6)
    slowing = 1.0 + rng.uniform(0.0, 0.6) * ((x - peak) / 0.6) ** 2
    jitter = rng.lognormal(0.0, rng.uniform(0.08, 0.3), size=n - 1)
    # The placement pushes an onset back if the previous spasm has not relaxed yet.
    return np.asarray(np.clip(base * slowing * jitter, 3.0, 30.0))


def _kinds(rng: np.random.Generator, n: int, subtle: bool) -> list[str]:
    if subtle:
        return ["subtle"] * n
    names = list(_DOMINANT_P)
    dominant = str(rng.choice(names, p=list(_DOMINANT_P.values())))
    kinds = []
    for _ in range(n):
        kinds.append(dominant if rng.uniform() >= _OFF_TYPE_P else str(rng.choice(names)))
    return kinds


def _amplitudes(rng: np.random.Generator, n: int, subtle: bool, scale: float, baby: Baby) -> FloatArray:
    """Waxing then waning intensity (Kellaway 1979) with spasm-to-spasm spread."""
    lo, hi = (1.0, 4.0) if subtle else (8.0, 35.0)
    base = math.exp(rng.uniform(math.log(lo), math.log(hi))) * scale * math.sqrt(baby.vigour)
    x = np.arange(n) / max(n - 1, 1)
    floor = rng.uniform(0.3, 0.7)
    envelope = floor + (1.0 - floor) * np.exp(-(((x - rng.uniform(0.2, 0.6)) / rng.uniform(0.25, 0.5)) ** 2))
    return np.asarray(base * envelope * rng.lognormal(0.0, 0.15, size=n))
