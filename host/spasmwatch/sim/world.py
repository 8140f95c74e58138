"""The scene being built: posture track, movements, labels, breathing changes.

Activity and confounder models (confounders.py, timeline.py) write into one
:class:`World`; the renderer then turns it into samples. Keeping every
label next to the motion that causes it is what keeps the ground truth honest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spasmwatch.sim.body import Baby
from spasmwatch.sim.movements import Lift, Motion
from spasmwatch.sim.posture import PostureTrack, base_posture

# Postures a baby is put down in versus held in; moving between the groups
# means being lifted or lowered, which the accelerometer sees as a vertical push.
LYING = frozenset({"supine", "prone", "left_side", "right_side"})


@dataclass(frozen=True)
class Label:
    """A labelled movement for the ground truth's ``confounders`` list."""

    start: float
    end: float
    kind: str

    def as_dict(self) -> dict[str, object]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "kind": self.kind}


@dataclass
class BreathMod:
    """Breathing change over a span: rate and depth multipliers, irregularity 0..1."""

    start: float
    end: float
    rate: float = 1.0
    depth: float = 1.0
    irregular: float = 0.0


@dataclass
class World:
    rng: np.random.Generator
    baby: Baby
    rate_hz: float
    duration_s: float
    postures: PostureTrack
    posture_name: str
    motions: list[Motion] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    breath_mods: list[BreathMod] = field(default_factory=list)

    @property
    def max_hz(self) -> float:
        """Highest frequency to synthesise: the IMU's anti-alias filter sits near ODR/2."""
        return 0.4 * self.rate_hz

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def chance(self, p: float) -> bool:
        return bool(self.rng.uniform() < p)

    def add(self, *motions: Motion) -> None:
        self.motions.extend(motions)

    def label(self, kind: str, start: float, end: float) -> None:
        start, end = max(0.0, start), min(self.duration_s, end)
        if end > start:
            self.labels.append(Label(start, end, kind))

    def breathe(self, start: float, end: float, rate: float = 1.0, depth: float = 1.0, irregular: float = 0.0) -> None:
        self.breath_mods.append(BreathMod(start, end, rate, depth, irregular))

    def set_posture(self, t: float, name: str, duration_s: float | None = None) -> float:
        """Move to a posture (re-randomised heading/tilt); returns when the move ends."""
        duration = duration_s if duration_s is not None else self.u(1.0, 3.0)
        begin = max(t, self.postures.busy_until)
        if (name in LYING) != (self.posture_name in LYING):
            height = self.u(0.25, 0.7) * (1.0 if name not in LYING else -1.0)
            self.add(Lift(begin, duration, height))
        self.posture_name = name
        end = self.postures.move_to(begin, duration, base_posture(name, self.rng))
        self.label("handling", begin, end)  # picked up, put down or repositioned
        return end

    def roll(self, t: float, angle_rad: float, duration_s: float) -> float:
        """Turn about the body's long axis (rolling over), in two halves via the side."""
        half = self.postures.rotate_body(t, duration_s / 2, "x", angle_rad / 2)
        end = self.postures.rotate_body(half, duration_s / 2, "x", angle_rad / 2)
        self.posture_name = _posture_after_roll(self.posture_name, angle_rad)
        return end


def _posture_after_roll(name: str, angle_rad: float) -> str:
    order = ["supine", "right_side", "prone", "left_side"]
    if name not in order:
        return name
    quarter_turns = int(round(angle_rad / (np.pi / 2)))
    return order[(order.index(name) + quarter_turns) % 4]
