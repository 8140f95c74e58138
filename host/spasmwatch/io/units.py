"""Is the gyro in deg/s? A check from the samples themselves, as they stream past.

A gyro written in rad/s (as many loggers and phone apps write it) replays
without a fault: its values are plausible deg/s, only 57.3 times too small,
so the detector's rate bars are never crossed and a recording full of spasms
gives none, without a word. Its values alone cannot tell it: a calm baby's
gyro reads a few deg/s too.

The accelerometer can. When the band turns, gravity turns in the band's frame
by at most the angle the band turned, so the gyro, integrated over the same
time, reads at least that angle in deg/s, and 57.3 times less in rad/s. The
evidence is taken from posture changes only: consecutive one-second windows
whose mean acceleration (gravity, once jolts average out) points
UNITS_TILT_MIN_DEG or more apart. Over those, the gyro's integral (over both
windows, which holds the turn between their means) is summed against the
tilt. Once the tilt adds up to UNITS_EVIDENCE_DEG the verdict is made, once:
a ratio under UNITS_MAX_TURN_RATIO says rad/s. Linear acceleration alone (a
car pulling away) can tilt the mean with no turn, hence a sum over several
posture changes, not one. A recording with too little posture change
(walking on the flat, a still band) gets no verdict and no warning.

Vectorised: a handful of numpy passes per block, in the reader's checking
thread, and none after the verdict. Measured: 0.07-0.09 s for 24 h of 100 Hz
samples that never reach one (a still band), against 2.2 s for their replay;
bench/replay.py's day (verdict early) replays in the same time as without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spasmwatch.io._format import GYRO, Column, InputWarning
from spasmwatch.io.limits import UNITS_DEAD_GYRO_DPS, UNITS_EVIDENCE_DEG, UNITS_MAX_TURN_RATIO, UNITS_TILT_MIN_DEG, UNITS_WINDOW_S

RAD_TO_DEG = 180.0 / math.pi  # 57.2958

Matrix = NDArray[np.float64]
_COS_TILT_MIN = math.cos(math.radians(UNITS_TILT_MIN_DEG))


class GyroUnitsWarning(InputWarning):
    """The gyro columns look like rad/s, not deg/s (the replay contract's unit)."""


@dataclass(frozen=True, slots=True)
class GyroEvidence:
    """What the check saw up to its verdict."""

    changes: int  # posture changes (window pairs at least UNITS_TILT_MIN_DEG apart)
    tilt_deg: float  # gravity's turn over them, summed
    turn: float  # the gyro integrated over the same windows (deg if the gyro is deg/s)
    peak: float  # largest |gyro| read so far

    @property
    def ratio(self) -> float:
        return self.turn / self.tilt_deg

    @property
    def looks_rad_s(self) -> bool:
        return self.ratio < UNITS_MAX_TURN_RATIO


class GyroUnitsCheck:
    """Feed the samples in file order (``feed``); ``evidence`` is set once there is enough."""

    def __init__(self, rate_hz: float) -> None:
        self.window = max(2, round(rate_hz * UNITS_WINDOW_S))
        self.dt = 1.0 / rate_hz
        self.evidence: GyroEvidence | None = None
        self._tail: list[Column] = []  # the unfinished window's rows: ax, ay, az, gx, gy, gz
        self._prev: tuple[Matrix, Column] | None = None  # the last full window's mean direction and gyro integral
        self._changes = 0
        self._tilt_deg = 0.0
        self._turn = 0.0
        self._peak = 0.0

    def feed(self, cols: list[Column]) -> GyroEvidence | None:
        """Take the next samples (ax, ay, az, gx, gy, gz columns); return the evidence when
        this call completes it (once), else None."""
        if self.evidence is not None or not len(cols[0]):
            return None
        start = 0
        if self._tail:
            start = min(self.window - len(self._tail[0]), len(cols[0]))
            self._tail = [np.concatenate((a, b[:start])) for a, b in zip(self._tail, cols)]
            if len(self._tail[0]) < self.window:
                return None
            self._windows(self._tail, 1)
            self._tail = []
        count = (len(cols[0]) - start) // self.window
        end = start + count * self.window
        if count:
            self._windows([c[start:end] for c in cols], count)
        if end < len(cols[0]):
            self._tail = [c[end:].copy() for c in cols]
        if self._tilt_deg >= UNITS_EVIDENCE_DEG:
            self.evidence = GyroEvidence(self._changes, self._tilt_deg, self._turn, self._peak)
        return self.evidence

    def _windows(self, cols: list[Column], count: int) -> None:
        """Fold `count` whole windows into the sums."""
        shape = (count, self.window)
        acc = np.column_stack([c.reshape(shape).sum(axis=1) for c in cols[:3]])
        gx, gy, gz = cols[3:]
        rate = np.sqrt(gx * gx + gy * gy + gz * gz)
        self._peak = max(self._peak, float(rate.max()))
        turn = rate.reshape(shape).sum(axis=1) * self.dt
        with np.errstate(invalid="ignore", divide="ignore"):  # a zero mean: no direction, never a change
            unit = acc / np.linalg.norm(acc, axis=1, keepdims=True)
        if self._prev is not None:
            unit = np.concatenate((self._prev[0], unit))
            turn = np.concatenate((self._prev[1], turn))
        self._prev = unit[-1:], turn[-1:]
        cos = np.einsum("ij,ij->i", unit[:-1], unit[1:])
        pairs = cos <= _COS_TILT_MIN  # nan (no direction) is never a change
        if pairs.any():
            self._changes += int(pairs.sum())
            self._tilt_deg += float(np.degrees(np.arccos(np.clip(cos[pairs], -1.0, 1.0))).sum())
            self._turn += float((turn[:-1][pairs] + turn[1:][pairs]).sum())


def gyro_units_message(path: str, ev: GyroEvidence) -> str:
    cols = ", ".join(GYRO)
    if ev.peak < UNITS_DEAD_GYRO_DPS:
        return (
            f"{path}: columns {cols} read {ev.peak:.3g} at most while the accelerometer saw gravity turn "
            f"{ev.tilt_deg:.0f} deg in {ev.changes} posture changes: the gyro was not recorded (a logger writing 0 "
            f"for a sensor it did not sample?). The detector would see no rotation at all: drop the {cols} "
            "columns to replay it with the accelerometer-only detector (replay --gyro-units-ok silences this)"
        )
    return (
        f"{path}: columns {cols} look like rad/s, not deg/s: in {ev.changes} posture changes the accelerometer "
        f"saw gravity turn {ev.tilt_deg:.0f} deg in all, but over the same seconds the gyro integrates to only "
        f"{ev.turn:.3g} deg if it is deg/s (a band turns at least as far as gravity does in its frame; rad/s "
        f"reads {RAD_TO_DEG:.1f}x less), and its largest |rate| so far is {ev.peak:.3g}. The detector's rate "
        f"bars are in deg/s, so it can find no spasm: multiply {cols} by {RAD_TO_DEG:.4f} for deg/s "
        "(if they are deg/s, replay --gyro-units-ok silences this)"
    )
