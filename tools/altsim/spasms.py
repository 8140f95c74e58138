"""Epileptic spasms: a phasic trunk flexion/extension, a brief tonic hold,
a return; in clusters of stereotyped, waxing and waning spasms.

Angles are trunk (sensor segment) rotation in degrees about an axis in the
body frame (x head, y left, z out of the chest): flexion brings the head
towards the chest, i.e. a negative rotation about +y."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tools.altsim import events
from tools.altsim.rot import Arr
from tools.altsim.shapes import add_at, jolt, smoothstep
from tools.altsim.world import Baby, Cluster, Recording, Spasm

FLEX = np.array([0.0, -1.0, 0.0])
# How much a carer's arms or seat straps damp the trunk's excursion.
DAMPING = {"held": 0.7, "shoulder": 0.7, "feeding": 0.75, "carried": 0.7, "rocking": 0.7, "car": 0.7, "stroller": 0.85, "bouncer": 0.85}


@dataclass(frozen=True)
class Style:
    """The stereotyped morphology of one cluster's spasms."""

    kind: str
    axis: Arr  # unit rotation axis, body frame
    amp_deg: float  # typical peak trunk rotation
    t_on: float  # phasic rise (s)
    t_hold: float  # tonic phase (s)
    t_ret: float  # return (s)
    overshoot: float  # phasic peak above the tonic level (fraction)
    decay: float  # tonic level lost over the hold (fraction)
    tremor_hz: float
    tremor: float  # tremor amplitude (fraction of peak)
    rebound: float  # undershoot on return (fraction)
    jolt_g: float  # onset jolt of the sensor site
    jolt_dir: Arr
    jolt_w: float  # jolt width (s)


def _unit(v: Arr) -> Arr:
    return v / np.linalg.norm(v)


def _axis(rng: np.random.Generator, kind: str) -> Arr:
    if kind == "extensor":
        return _unit(-FLEX + rng.normal(0, 0.1, 3))
    if kind == "asymmetric":
        side = rng.choice([-1.0, 1.0], 2)
        return _unit(np.array([side[0] * rng.uniform(0.4, 0.9), rng.choice([-1.0, 1.0]), side[1] * rng.uniform(0.2, 0.6)]))
    return _unit(FLEX + rng.normal(0, 0.1, 3))  # flexor, mixed, subtle (head nod / belly tensing)


def random_style(rng: np.random.Generator, baby: Baby, subtle: bool) -> Style:
    if subtle:
        kind = "subtle"
        amp = rng.uniform(1.5, 4.0)
    else:
        kinds = list(baby.kind_weights)
        p = np.array([baby.kind_weights[k] for k in kinds])
        kind = str(rng.choice(kinds, p=p / p.sum()))
        amp = float(np.clip(np.exp(rng.uniform(np.log(4), np.log(25))) * baby.vigour, 3.0, 30.0))
    t_on = float(np.clip(rng.uniform(0.08, 0.2) + 0.008 * amp, 0.1, 0.4))
    hold = rng.uniform(0.2, 0.8) if subtle else rng.uniform(0.3, 1.5)
    ret = rng.uniform(0.2, 1.0)
    hold = min(hold, 2.8 - t_on - ret)
    jolt_main = np.array([0.3, 0.0, 1.0]) if kind != "extensor" else np.array([0.3, 0.0, -1.0])
    if kind == "mixed":  # arms/trunk flex, legs extend: an extra kick along the long axis
        jolt_main = np.array([-1.0, 0.0, 0.6])
    jolt_g = rng.uniform(0.01, 0.05) if subtle else rng.uniform(0.08, 0.35) * np.sqrt(amp / 12)
    return Style(
        kind=kind,
        axis=_axis(rng, kind),
        amp_deg=float(amp),
        t_on=t_on,
        t_hold=float(hold),
        t_ret=float(ret),
        overshoot=rng.uniform(0.0, 0.5 if kind == "mixed" else 0.25),
        decay=rng.uniform(0.05, 0.4),
        tremor_hz=rng.uniform(6, 12),
        tremor=rng.uniform(0.01, 0.06),
        rebound=rng.uniform(0.0, 0.12),
        jolt_g=float(jolt_g),
        jolt_dir=_unit(jolt_main + rng.normal(0, 0.2, 3)),
        jolt_w=rng.uniform(0.025, 0.06),
    )


def variant(rng: np.random.Generator, style: Style, baby: Baby) -> Style:
    """A second spasm type in the same cluster (e.g. flexor and mixed), same
    timing."""
    other = random_style(rng, baby, subtle=False)
    return replace(style, kind=other.kind, axis=other.axis, jolt_dir=other.jolt_dir)


def profile(rate: float, s: Style, rng: np.random.Generator) -> Arr:
    """Rotation (fraction of peak) sample by sample from onset to end."""
    t_on, t_hold, t_ret = (x * rng.lognormal(0, 0.12) for x in (s.t_on, s.t_hold, s.t_ret))
    t_on, t_ret = float(np.clip(t_on, 0.08, 0.45)), max(t_ret, 0.15)
    t_hold = float(np.clip(t_hold, max(0.2, 0.55 - t_on - t_ret), 3.0 - t_on - t_ret))  # 0.5-3 s in all
    rise = smoothstep(np.arange(int(t_on * rate)) / (t_on * rate))
    th = np.arange(int(t_hold * rate)) / rate
    level = ((1 - s.overshoot) + s.overshoot * np.exp(-th / 0.08)) * (1 - s.decay * th / t_hold)
    level += s.tremor * np.sin(2 * np.pi * s.tremor_hz * th) * np.sin(np.pi * th / t_hold)
    h1 = level[-1] if len(level) else 1.0
    u = np.arange(int(t_ret * rate) + 1) / (t_ret * rate)
    ret = h1 * (1 - smoothstep(u)) - s.rebound * h1 * np.sin(np.pi * u) ** 2 * smoothstep(2 * u - 1)
    return np.concatenate([rise, level, ret])


def render_spasm(rec: Recording, t: float, s: Style, scale: float, prof: Arr) -> Spasm:
    """Add one spasm with rotation profile ``prof`` starting at ``t``."""
    rng, tr = rec.rng, rec.tracks
    damp = DAMPING.get(rec.segment_at(t).context, 1.0)
    lo, hi = (1.0, 4.0) if s.kind == "subtle" else (3.0, 30.0)  # the clinical ranges
    # waxing/waning and restraint act on the part above the floor of the range
    amp = float(np.clip(lo + (s.amp_deg - lo) * scale * damp, lo, hi))
    axis = _unit(s.axis + rng.normal(0, 0.05, 3))
    i0 = tr.idx(t)
    for j in range(3):
        add_at(tr.theta[:, j], i0, np.radians(amp) * axis[j] * prof)
    k = jolt(rec.rate, s.jolt_w)
    g = s.jolt_g * np.sqrt(scale) * rng.lognormal(0, 0.2)
    at = i0 + int(0.3 * s.t_on * rec.rate) - len(k) // 2
    for j in range(3):
        add_at(tr.acc_b[:, j], at, g * s.jolt_dir[j] * k)
    return Spasm(t=t, end=t + (len(prof) - 1) / rec.rate, kind=s.kind, amplitude_deg=float(amp))


def onsets(rng: np.random.Generator, n: int) -> Arr:
    """Onset times (from 0) of ``n`` quasi-periodic spasms: a base interval
    (mostly 5-10 s), jitter, a tendency to slow towards the end, pauses."""
    r = rng.random()
    base = rng.uniform(5, 10) if r < 0.7 else (rng.uniform(3, 5) if r < 0.8 else rng.uniform(10, 20))
    trend = rng.uniform(0.0, 0.5)
    gaps = base * rng.lognormal(0, 0.22, n - 1) * (1 + trend * np.arange(n - 1) / max(n - 1, 1))
    gaps *= np.where(rng.random(n - 1) < 0.08, rng.uniform(1.8, 3.0, n - 1), 1.0)
    return np.concatenate([[0.0], np.cumsum(np.clip(gaps, 3.0, 30.0))])


def envelope(rng: np.random.Generator, n: int) -> Arr:
    """Amplitude of each spasm across the cluster (waxing and waning)."""
    i = np.arange(n)
    r = rng.random()
    if r < 0.55:
        e = 0.5 + 0.5 * np.sin(np.pi * (i + 0.5) / n) ** 0.7
    elif r < 0.8:
        e = 1.0 - 0.5 * i / max(n - 1, 1)
    else:
        e = np.ones(n)
    return e * rng.lognormal(0, 0.15, n)


def cluster_size(rng: np.random.Generator) -> int:
    return int(np.clip(round(rng.lognormal(np.log(9), 0.45)), 3, 30))


def render_cluster(rec: Recording, t0: float, subtle: bool, latest: float) -> Cluster | None:
    """Spasms from ``t0``, all ending before ``latest``; None if fewer than
    three fit."""
    rng = rec.rng
    style = random_style(rng, rec.baby, subtle)
    alt = variant(rng, style, rec.baby) if (not subtle and rng.random() < 0.15) else None
    n = cluster_size(rng)
    styles = [alt if (alt is not None and rng.random() < 0.35) else style for _ in range(n)]
    profs = [profile(rec.rate, st, rng) for st in styles]
    times: list[float] = []
    t_prev_end = -1e9
    for t in t0 + onsets(rng, n):
        t = max(float(t), t_prev_end + rng.uniform(1.0, 2.0))  # the previous spasm is over
        t_prev_end = t + len(profs[len(times)]) / rec.rate
        if t_prev_end + 0.5 >= latest:
            break
        times.append(t)
    if len(times) < 3:
        return None
    env = envelope(rng, len(times))
    spasms = [render_spasm(rec, t, styles[i], float(env[i]), profs[i]) for i, t in enumerate(times)]
    if rng.random() < 0.45:
        _cries(rec, spasms, latest)
    return Cluster(spasms=spasms, subtle=subtle)


def _cries(rec: Recording, spasms: list[Spasm], latest: float) -> None:
    """Short cries just after some spasms (common in infantile spasms), and
    often a crying spell after the cluster."""
    rng = rec.rng
    for a, b in zip(spasms[:-1], spasms[1:]):
        room = b.t - a.end - 1.5
        if room > 1.0 and rng.random() < 0.5:
            events.crying(rec, a.end + rng.uniform(0.3, 0.8), min(rng.uniform(1.0, 3.0), room))
    if latest - spasms[-1].end > 40 and rng.random() < 0.6:
        events.crying(rec, spasms[-1].end + rng.uniform(1, 5), min(rng.uniform(20, 180), latest - spasms[-1].end - 10))


def render_single(rec: Recording, t: float) -> Spasm:
    """An isolated spasm (not part of a cluster)."""
    style = random_style(rec.rng, rec.baby, subtle=rec.rng.random() < 0.25)
    return render_spasm(rec, t, style, 1.0, profile(rec.rate, style, rec.rng))
