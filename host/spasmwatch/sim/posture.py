"""Trunk postures and the keyframed posture track.

Body frame (the design notes, docs/engineering.md): x towards the head, y to the left, z out of the
chest. World frame: z up. A posture is the body -> world rotation while the
trunk is at rest in that position; transitions between postures (picked up,
rolled over, put in the car seat) are slerped with a minimum-jerk profile so
the gyro sees a plausible smooth turn.
"""

from __future__ import annotations

import math

import numpy as np

from spasmwatch.sim import rotation as rot
from spasmwatch.sim.rotation import FloatArray
from spasmwatch.sim.signals import min_jerk

# Head-up angle ranges (deg) of semi-upright positions; the upper bound of
# "shoulder" passes 90 because a baby over the shoulder leans its chest onto
# the carer (chest normal pointing slightly down).
_RECLINE_DEG: dict[str, tuple[float, float]] = {
    "car_seat": (35.0, 55.0),  # rear-facing infant seats recline ~45 deg
    "bouncer": (25.0, 45.0),
    "cradle": (15.0, 45.0),  # held across the arms / feeding
    "sitting": (60.0, 85.0),  # supported sitting
    "upright": (80.0, 95.0),  # held upright facing out or in a carrier
    "shoulder": (95.0, 120.0),  # over the shoulder (burping)
    "stroller": (0.0, 30.0),
}


def base_posture(name: str, rng: np.random.Generator) -> FloatArray:
    """Body -> world quaternion for a named posture, randomised within its range."""
    if name == "supine":
        q = rot.IDENTITY.copy()
    elif name == "prone":
        q = rot.about_axis("x", math.pi)
    elif name == "left_side":  # left side down: body y points down
        q = rot.about_axis("x", -math.pi / 2)
    elif name == "right_side":
        q = rot.about_axis("x", math.pi / 2)
    else:
        lo, hi = _RECLINE_DEG[name]
        q = rot.about_axis("y", -math.radians(rng.uniform(lo, hi)))
        if name == "cradle":  # feeding: turned towards the carer's body
            q = rot.multiply(q, rot.about_axis("x", math.radians(rng.choice([-1.0, 1.0]) * rng.uniform(0.0, 70.0))))
    heading = rot.about_axis("z", rng.uniform(-math.pi, math.pi))
    jitter = rot.from_rotvec(rng.normal(scale=math.radians(5.0), size=3))  # pillows, slumping
    return rot.multiply(rot.multiply(heading, q), jitter)


class PostureTrack:
    """Piecewise-constant posture with smooth transitions between keyframes."""

    def __init__(self, initial: FloatArray) -> None:
        self._starts: list[float] = [-math.inf]
        self._durations: list[float] = [1.0]
        self._quats: list[FloatArray] = [initial]

    @property
    def current(self) -> FloatArray:
        return self._quats[-1]

    @property
    def busy_until(self) -> float:
        return self._starts[-1] + self._durations[-1]

    def move_to(self, start: float, duration_s: float, target: FloatArray) -> float:
        """Queue a transition; returns when it ends. Never overlaps the previous one."""
        start = max(start, self.busy_until)
        if np.dot(target, self._quats[-1]) < 0.0:
            target = -target  # same rotation, keeps slerp on the short path
        self._starts.append(start)
        self._durations.append(duration_s)
        self._quats.append(target)
        return start + duration_s

    def rotate_body(self, start: float, duration_s: float, axis: str, angle_rad: float) -> float:
        """Transition to the current posture turned about a body axis (rolling)."""
        return self.move_to(start, duration_s, rot.multiply(self.current, rot.about_axis(axis, angle_rad)))

    def freeze(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        return np.array(self._starts), np.array(self._durations), np.array(self._quats)


def evaluate(track: tuple[FloatArray, FloatArray, FloatArray], t: FloatArray) -> FloatArray:
    """Posture quaternions at times t."""
    starts, durations, quats = track
    k = np.searchsorted(starts, t, side="right") - 1
    s = (t - starts[k]) / durations[k]
    out = quats[k].copy()
    moving = s < 1.0
    if np.any(moving) and len(starts) > 1:
        km = k[moving]
        out[moving] = rot.slerp(quats[np.maximum(km - 1, 0)], quats[km], min_jerk(s[moving]))
    return out
