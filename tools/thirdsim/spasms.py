"""Epileptic spasms as muscle synergies driving the body's joints.

A spasm is one activation profile (a fast phasic jerk, a partial relaxation
to a tonic plateau, the hold, then relaxation) applied to a synergy: a fixed
mix of lumbar, neck and pelvic joint angles (and, for subtle ones, shoulder
and abdominal-wall movement). The synergy is scaled so that the net trunk
rotation at the peak is the spasm's ``amplitude_deg``: that is the value the
truth reports, i.e. what a trunk-worn sensor can at best see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.thirdsim.baby import Baby
from tools.thirdsim.prims import (BREATH, BX, BZ, LX, LY, LZ, NX, NY, NZ, PITCH, ROLL, YAW, Event, G, ring,
                                  sstep)

Arr = np.ndarray

# Relative joint gains of each synergy (rad per rad of profile, before scaling to a net trunk
# rotation of 1). Signs: LY < 0 flexes the trunk forward, PITCH > 0 tilts the pelvis back.
SYNERGIES: dict[str, dict[int, float]] = {
    "flexor": {LY: -1.3, NY: -1.2, PITCH: 0.3, LX: 0.05},
    "extensor": {LY: 1.2, NY: 1.5, PITCH: -0.25},
    "mixed": {LY: -1.0, NY: -1.0, PITCH: -0.2, LX: 0.15},
    "asymmetric": {LY: -0.6, LZ: 0.8, LX: 0.4, NZ: 1.0, ROLL: 0.2},
    # subtle variants
    "nod": {LY: -0.3, NY: -5.0},
    "shrug": {LY: -0.6, LX: 0.25, NZ: 0.5},
    "abdominal": {LY: -1.0},
    "eye": {LY: -0.4, NZ: 1.2},
}
SUBTLE_VARIANTS = ("nod", "shrug", "abdominal", "eye")


def net_rotation(gains: dict[int, float], kappa: float) -> float:
    """Net trunk rotation per unit profile (small angles: pelvis + lumbar - head reaction)."""
    v = np.array([gains.get(ROLL, 0.0), gains.get(PITCH, 0.0), gains.get(YAW, 0.0)])
    v += np.array([gains.get(LX, 0.0), gains.get(LY, 0.0), gains.get(LZ, 0.0)])
    v -= kappa * np.array([gains.get(NX, 0.0), gains.get(NY, 0.0), gains.get(NZ, 0.0)])
    return float(np.linalg.norm(v))


@dataclass
class Spasm:
    t: float
    kind: str
    amplitude_deg: float
    rise: float
    settle: float
    tonic: float  # plateau as a fraction of the peak
    hold: float
    relax: float
    gains: dict[int, float]
    kick_ms2: float  # limb-throw reaction along the body's z axis at the jerk
    shrug_ms2: float  # shoulder lift along the body's x axis (subtle shrug)
    wall_m: float  # abdominal wall pulled in (subtle abdominal tensing)
    tremor_hz: float
    cluster: int | None = None

    @property
    def duration_s(self) -> float:
        return self.rise + self.settle + self.hold + self.relax

    @property
    def end(self) -> float:
        return self.t + self.duration_s

    def profile(self, t: Arr) -> Arr:
        u = t - self.t
        return (sstep(u / self.rise) - (1 - self.tonic) * sstep((u - self.rise) / self.settle)
                - self.tonic * sstep((u - self.rise - self.settle - self.hold) / self.relax))

    def event(self) -> Event:
        a = np.radians(self.amplitude_deg)

        def render(t: Arr, out: Arr) -> None:
            p = self.profile(t)
            for c, g in self.gains.items():
                out[c] += a * g * p
            u = t - self.t
            out[BZ] += self.kick_ms2 * ring(u, 5.0, 0.07)
            out[BX] += self.shrug_ms2 * ring(u, 3.0, 0.12)
            out[BREATH] -= self.wall_m * p
            # co-contraction tremor while the posture is held
            plateau = sstep((u - self.rise) / 0.1) * (1 - sstep((u - self.rise - self.settle - self.hold) / 0.1))
            out[LY] += 0.04 * a * plateau * np.sin(2 * np.pi * self.tremor_hz * u)

        return Event(self.t, self.end + 0.3, render)


@dataclass
class Cluster:
    spasms: list[Spasm] = field(default_factory=list)
    subtle: bool = False

    @property
    def start(self) -> float:
        return self.spasms[0].t

    @property
    def end(self) -> float:
        return self.spasms[-1].end


@dataclass
class Template:
    """What stays the same across a cluster's spasms (they are stereotyped)."""

    kind: str
    variant: str
    side: float
    rise: float
    settle: float
    tonic: float
    hold: float
    relax: float
    tremor_hz: float


def _template(rng: np.random.Generator, baby: Baby, subtle: bool) -> Template:
    if subtle:
        kind, variant = "subtle", str(rng.choice(SUBTLE_VARIANTS, p=[0.4, 0.2, 0.3, 0.1]))
    else:
        kind = baby.main_kind if rng.random() < 0.8 else str(rng.choice(["flexor", "extensor", "mixed", "asymmetric"]))
        variant = kind
    return Template(
        kind=kind, variant=variant, side=float(rng.choice([-1.0, 1.0])),
        rise=float(rng.uniform(0.15, 0.4)), settle=float(rng.uniform(0.1, 0.3)),
        tonic=float(rng.uniform(0.45, 0.9)),
        hold=float(np.clip(baby.hold_s * np.exp(0.3 * rng.normal()), 0.15, 1.8)),
        relax=float(rng.uniform(0.25, 0.6)), tremor_hz=float(rng.uniform(8.0, 14.0)),
    )


def _gains(tp: Template, kappa: float) -> dict[int, float]:
    g = dict(SYNERGIES[tp.variant])
    for c in (LX, LZ, NZ, ROLL):  # lateral components follow the side this cluster goes to
        if c in g:
            g[c] *= tp.side
    n = net_rotation(g, kappa)
    return {c: v / n for c, v in g.items()}


def make_spasm(rng: np.random.Generator, tp: Template, baby: Baby, t: float, amp_deg: float) -> Spasm:
    j = lambda: float(np.exp(0.12 * rng.normal()))  # noqa: E731 - small jitter: stereotyped, not identical
    hold = tp.hold * j()
    rise, settle, relax = tp.rise * j(), tp.settle * j(), tp.relax * j()
    hold = float(np.clip(hold, 0.5 - (rise + settle + relax), 3.0 - (rise + settle + relax)))
    hold = max(hold, 0.05)
    subtle = tp.kind == "subtle"
    a_rad = np.radians(amp_deg)
    return Spasm(
        t=t, kind=tp.kind, amplitude_deg=amp_deg, rise=rise, settle=settle, tonic=tp.tonic, hold=hold,
        relax=relax, gains=_gains(tp, baby.head_ratio),
        kick_ms2=0.0 if subtle else float(-0.6 * G * a_rad * rng.uniform(0.5, 1.5)),
        shrug_ms2=float(rng.uniform(0.3, 1.0) * amp_deg * 0.15) if tp.variant == "shrug" else 0.0,
        wall_m=float(rng.uniform(0.001, 0.004)) if tp.variant == "abdominal" else 0.0,
        tremor_hz=tp.tremor_hz,
    )


def make_cluster(rng: np.random.Generator, baby: Baby, start: float, latest_end: float, subtle: bool) -> Cluster | None:
    """A cluster from ``start``: stereotyped spasms, waxing then waning, quasi-periodic.

    None if fewer than three spasms fit before ``latest_end``.
    """
    tp = _template(rng, baby, subtle)
    n = int(np.clip(round(baby.count_median * np.exp(0.5 * rng.normal())), 3, 40))
    gap = baby.interval_s * float(np.exp(0.2 * rng.normal()))
    level = (baby.subtle_deg if subtle else baby.spasm_deg) * float(np.exp(0.25 * rng.normal()))
    warp = float(rng.uniform(0.5, 1.6))  # where in the cluster the strongest spasms fall
    cl = Cluster(subtle=subtle)
    t = start
    for i in range(n):
        u = ((i + 0.5) / n) ** warp
        env = 0.4 + 0.6 * np.sin(np.pi * u) ** 0.8
        amp = level * env * float(np.exp(0.2 * rng.normal()))
        if rng.random() < 0.08:
            amp *= 0.35  # an occasional much weaker one in the run
        amp = float(np.clip(amp, 0.3, 4.5) if subtle else np.clip(amp, 1.0, 45.0))
        s = make_spasm(rng, tp, baby, t, amp)
        if s.end > latest_end:
            break
        cl.spasms.append(s)
        step = gap * float(np.exp(0.3 * rng.normal()))
        t = s.t + float(np.clip(step, max(3.0, s.duration_s + 1.5), 35.0))
    return cl if len(cl.spasms) >= 3 else None
