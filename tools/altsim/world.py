"""The simulated world of one recording: the baby, the timeline of segments,
the motion tracks every event adds into, and the labels kept for the truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.altsim import rot
from tools.altsim.rot import Arr

KINDS = ("flexor", "extensor", "mixed", "asymmetric", "subtle")


@dataclass
class Baby:
    """One infant: fixed for all recordings of a seed."""

    age_months: float
    breath_bpm_quiet: float  # quiet-sleep breathing rate
    heart_bpm: float  # recorded only; heartbeat motion is not modelled
    vigour: float  # scales spontaneous and spasm movement
    lever_m: Arr  # sensor position from the trunk's flexion pivot, body frame
    looseness: float  # 0 = tight band, 1 = loose (adds a soft-mount resonance)
    kind_weights: dict[str, float]  # this baby's spasm types (subtle drawn apart)

    @property
    def moro(self) -> bool:  # Moro reflex fades by about 4-6 months
        return self.age_months < 5.5

    @property
    def rolls(self) -> bool:  # rolling over from about 4-6 months
        return self.age_months >= 4.5


def random_baby(rng: np.random.Generator) -> Baby:
    age = float(np.clip(rng.gamma(6.0, 1.0) + 1.5, 3.0, 12.0))  # peak onset 4-7 months
    main = str(rng.choice(["flexor", "extensor", "mixed", "asymmetric"], p=[0.35, 0.15, 0.35, 0.15]))
    weights = {k: 1.0 for k in KINDS[:4]}
    weights[main] = 4.0
    return Baby(
        age_months=age,
        breath_bpm_quiet=float(np.clip(rng.normal(40.0 - 0.8 * age, 3.5), 26.0, 48.0)),
        heart_bpm=float(rng.uniform(110, 145)),
        vigour=float(rng.lognormal(0.0, 0.25)),
        lever_m=np.array([rng.uniform(-0.02, 0.10), rng.uniform(-0.02, 0.02), rng.uniform(0.04, 0.09)]),
        looseness=float(rng.beta(1.5, 3.0)),
        kind_weights=weights,
    )


@dataclass(frozen=True)
class Pose:
    """Trunk posture: elevation of the head end above horizontal, roll about
    the body's long axis (0 chest up, +-90 on a side, 180 chest down), and
    heading about the vertical (degrees)."""

    elev: float
    roll: float
    heading: float

    def quat(self) -> Arr:
        e, r = np.radians(self.elev), np.radians(self.roll)
        up = np.array([np.sin(e), np.sin(r) * np.cos(e), np.cos(r) * np.cos(e)])
        return rot.from_up(up, np.radians(self.heading))

    def nudged(self, rng: np.random.Generator, deg: float) -> Pose:
        return Pose(
            float(np.clip(self.elev + rng.normal(0, deg), -30, 90)),
            self.roll + rng.normal(0, deg),
            self.heading + rng.normal(0, deg),
        )


@dataclass
class Segment:
    """A stretch of the recording in one place/activity ("context")."""

    start: float
    end: float
    state: str  # "sleep" | "wake"
    context: str  # crib, playmat, held, shoulder, feeding, carried, car, stroller, bouncer, rocking, off
    pose: Pose

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Label:
    kind: str
    start: float
    end: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": round(self.start, 3), "end": round(self.end, 3), **self.extra}


@dataclass
class Spasm:
    t: float
    end: float
    kind: str
    amplitude_deg: float


@dataclass
class Cluster:
    spasms: list[Spasm]
    subtle: bool

    @property
    def start(self) -> float:
        return self.spasms[0].t

    @property
    def end(self) -> float:
        return self.spasms[-1].end


@dataclass
class Keyframe:
    t: float  # transition starts
    dur: float  # transition length (s)
    q: Arr  # posture reached


class PostureTrack:
    """Piecewise-constant trunk posture with slerped transitions."""

    def __init__(self, q0: Arr) -> None:
        self.keys: list[Keyframe] = [Keyframe(-1e9, 1e-3, q0)]

    def add(self, t: float, dur: float, q: Arr) -> None:
        self.keys.append(Keyframe(t, max(dur, 1e-3), q))
        self.keys.sort(key=lambda k: k.t)

    def at(self, t: float) -> Arr:
        q: Arr = self.quats(np.array([t]))[0]
        return q

    def quats(self, times: Arr) -> Arr:
        starts = np.array([k.t for k in self.keys])
        j = np.searchsorted(starts, times, side="right") - 1
        q_to = np.stack([k.q for k in self.keys])
        q_from = np.concatenate([q_to[:1], q_to[:-1]])
        dur = np.array([k.dur for k in self.keys])
        s = np.clip((times - starts[j]) / dur[j], 0.0, 1.0)
        s = 0.5 - 0.5 * np.cos(np.pi * s)
        out = q_to[j].copy()
        moving = s < 1.0
        if np.any(moving):
            out[moving] = rot.slerp(q_from[j[moving]], q_to[j[moving]], s[moving])
        return out


class Tracks:
    """Everything that moves, sampled at the file rate.

    theta: small trunk rotations (rad, rotation vector in the body frame) on
           top of the posture: breathing, spasms, twitches, kicks...
    acc_b: linear acceleration of the sensor site in the body frame (g)
    acc_w: linear acceleration of the whole baby in the world frame (g):
           carrying, bouncing, vehicles
    acc_h: linear acceleration in the heading frame (g): the world frame
           turned by the current heading, i.e. the vehicle's or walker's
           frame (x forward, z up)
    rock:  whole-body rotation in the world frame (rad rotation vector):
           rocking, caregiver sway, bouncing pitch
    yaw_rate: turning about the vertical (rad/s): vehicle and walking turns;
           the heading is its running integral, so it never jumps
    """

    def __init__(self, n: int, rate: float) -> None:
        self.n, self.rate = n, rate
        self.theta = np.zeros((n, 3))
        self.acc_b = np.zeros((n, 3))
        self.acc_w = np.zeros((n, 3))
        self.acc_h = np.zeros((n, 3))
        self.rock = np.zeros((n, 3))
        self.yaw_rate = np.zeros(n)

    def idx(self, t: float) -> int:
        return int(round(t * self.rate))

    def span(self, start: float, end: float) -> slice:
        return slice(max(0, self.idx(start)), min(self.n, self.idx(end)))


@dataclass
class Recording:
    """The plan and the motion of one file (before the sensor sees it)."""

    name: str
    kind: str
    rate: float
    has_gyro: bool
    duration: float
    seed: int
    baby: Baby
    rng: np.random.Generator
    segments: list[Segment] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    isolated: list[Spasm] = field(default_factory=list)
    wake_onsets: list[float] = field(default_factory=list)
    stages: list[tuple[float, float, str]] = field(default_factory=list)  # sleep: quiet/active
    mount: Arr = field(default_factory=lambda: rot.IDENTITY.copy())  # sensor-to-body rotation
    tracks: Tracks = field(init=False)
    posture: PostureTrack = field(init=False)

    def __post_init__(self) -> None:
        self.tracks = Tracks(self.n, self.rate)
        self.posture = PostureTrack(rot.IDENTITY.copy())

    @property
    def n(self) -> int:
        return int(round(self.duration * self.rate))

    def segment_at(self, t: float) -> Segment:
        for s in self.segments:
            if s.start <= t < s.end:
                return s
        return self.segments[-1]

    def not_worn(self) -> list[tuple[float, float]]:
        return [(s.start, s.end) for s in self.segments if s.context == "off"]

    def label(self, kind: str, start: float, end: float, **extra: Any) -> None:
        self.labels.append(Label(kind, max(0.0, start), min(self.duration, end), dict(extra)))
