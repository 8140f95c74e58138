"""The IMU and how it sits in the band: mounting, errors, noise, range, resolution.

Ranges follow consumer 6-axis MEMS parts of the kind a cheap band uses
(LSM6DS3/LSM6DSO, BMI160/270, MPU-6050 datasheets): accelerometer noise
density ~80-400 ug/sqrt(Hz), zero-g offset up to ~+-40 mg, gyro noise
~0.004-0.015 dps/sqrt(Hz), zero-rate offset up to a few dps, 16-bit output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spasmwatch.sim import rotation as rot
from spasmwatch.sim.rotation import FloatArray
from spasmwatch.sim.signals import SmoothNoise

_ACC_RANGES_G = (2.0, 4.0, 8.0, 16.0)
_GYRO_RANGES_DPS = (250.0, 500.0, 1000.0, 2000.0)


@dataclass
class Sensor:
    mounts: list[FloatArray]  # sensor -> body quaternion per wear
    mount_times: list[float]  # when each wear starts (the first at -inf)
    chip: FloatArray  # chip -> band: fixed for the life of the band
    mounting_info: dict[str, object]
    acc_range_g: float
    gyro_range_dps: float
    acc_gain: FloatArray  # scale and cross-axis errors (3x3)
    gyro_gain: FloatArray
    acc_bias_g: FloatArray
    gyro_bias_dps: FloatArray
    acc_noise_g: float  # white noise per sample (1 sigma)
    gyro_noise_dps: float
    drift: SmoothNoise | None  # slow bias wander (temperature), 6 channels
    quantise: bool

    def mount_at(self, t: FloatArray) -> FloatArray:
        """Sensor -> body quaternion at each time."""
        k = np.searchsorted(np.array(self.mount_times), t, side="right") - 1
        return np.array(self.mounts)[k]

    def apply(
        self, t: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray, white: tuple[FloatArray, FloatArray], extent: tuple[float, float, int]
    ) -> tuple[FloatArray, FloatArray]:
        """Ideal sensor-frame signals -> what the IMU reports; ``white``: its white noise at those
        samples, accel and gyro (``WhiteNoise.take``); ``extent``: the first and last time and the
        count of the samples of their block (render.BLOCK_SAMPLES), on which the drift is interpolated."""
        # einsum rather than @: a (n, 3) x (3, 3) BLAS call is slow and threads badly.
        acc = np.einsum("nj,ij->ni", acc_g, self.acc_gain) + self.acc_bias_g
        gyro = np.einsum("nj,ij->ni", gyro_dps, self.gyro_gain) + self.gyro_bias_dps
        if self.drift is not None:
            wander = self.drift.over(*extent)(t)
            acc += wander[:, :3]
            gyro += wander[:, 3:]
        acc += white[0]
        gyro += white[1]
        return self._digitise(acc, self.acc_range_g), self._digitise(gyro, self.gyro_range_dps)

    def _digitise(self, x: FloatArray, full_scale: float) -> FloatArray:
        np.clip(x, -full_scale, full_scale * 32767.0 / 32768.0, out=x)
        if self.quantise:
            lsb = full_scale / 32768.0
            np.multiply(np.round(x / lsb), lsb, out=x)
        return x


class WhiteNoise:
    """The sensor's white noise (accel g, gyro deg/s) of a recording's samples, drawn for each fixed
    block of ``block`` samples from a generator seeded with the seed and the block's index: the
    same noise however the recording is cut into chunks (until 2026-12-06 each chunk drew its own,
    seeded with the chunk's index, so a recording changed with render.CHUNK_SAMPLES). The last block
    drawn is kept: chunks smaller than a block draw each block once."""

    def __init__(self, seed: int, n_samples: int, block: int, acc_sigma_g: float, gyro_sigma_dps: float) -> None:
        self.seed, self.n_samples, self.block = seed, n_samples, block
        self.sigma = acc_sigma_g, gyro_sigma_dps
        self._last: tuple[int, FloatArray, FloatArray] | None = None

    def take(self, i0: int, i1: int) -> tuple[FloatArray, FloatArray]:
        """The noise of samples [i0, i1), all in one block."""
        b, lo = i0 // self.block, i0 - i0 % self.block
        assert i1 - lo <= self.block, "one block at a time"
        if self._last is None or self._last[0] != b:
            rng = np.random.default_rng([self.seed, 0x5E45, b])
            # accel then gyro from one generator, each (block's samples, 3): as each chunk drew them
            n = min(self.block, self.n_samples - lo)
            acc = rng.normal(scale=self.sigma[0], size=(n, 3))
            self._last = b, acc, rng.normal(scale=self.sigma[1], size=(n, 3))
        return self._last[1][i0 - lo : i1 - lo], self._last[2][i0 - lo : i1 - lo]


def _wearing(rng: np.random.Generator) -> tuple[FloatArray, dict[str, object]]:
    """How the band sits on this wear: slid around the trunk, tilted, maybe upside down."""
    around = float(rng.uniform(-180.0, 180.0)) if rng.uniform() < 0.1 else float(rng.normal(0.0, 25.0))
    tilt = [float(rng.normal(0.0, 8.0)), float(rng.normal(0.0, 8.0))]
    q = rot.multiply(rot.about_axis("x", math.radians(around)), rot.from_rotvec(np.radians([0.0, tilt[0], tilt[1]])))
    return q, {"around_trunk_deg": round(around, 2), "tilt_deg": [round(v, 2) for v in tilt]}


def draw_mounting(rng: np.random.Generator, random_mounting: bool) -> tuple[FloatArray, FloatArray, dict[str, object]]:
    """(sensor -> body, chip -> band, description) for the first wear.

    Bands slide around the trunk (rotation about body x), the board tilts in
    its pocket, and the chip can face any of 24 right-angle ways in the
    enclosure (which also covers a band worn upside down).
    """
    if not random_mounting:
        info: dict[str, object] = {"random": False, "around_trunk_deg": 0.0, "tilt_deg": [0.0, 0.0], "chip_turns": [0, 0, 0]}
        return rot.IDENTITY.copy(), rot.IDENTITY.copy(), info
    wear, info = _wearing(rng)
    turns = [int(v) for v in rng.integers(0, 4, size=3)] if rng.uniform() < 0.5 else [0, 0, 0]
    chip = rot.IDENTITY.copy()
    for axis, k in zip("xyz", turns):
        chip = rot.multiply(chip, rot.about_axis(axis, k * math.pi / 2))
    info = {"random": True, **info, "chip_turns": turns}
    return rot.multiply(wear, chip), chip, info


def remount(rng: np.random.Generator, sensor: Sensor, t: float, random_mounting: bool) -> dict[str, object]:
    """The band is put back on at time t: same chip, new position on the trunk."""
    if random_mounting:
        wear, info = _wearing(rng)
        if rng.uniform() < 0.1:  # put on upside down: head and left axes swap sign
            wear = rot.multiply(wear, rot.about_axis("z", math.pi))
            info["upside_down"] = True
        q = rot.multiply(wear, sensor.chip)
    else:
        q, info = rot.IDENTITY.copy(), {"around_trunk_deg": 0.0, "tilt_deg": [0.0, 0.0]}
    sensor.mount_times.append(t)
    sensor.mounts.append(q)
    return {"t": round(t, 3), **info, **_describe_mount(q)}


def _describe_mount(q: FloatArray) -> dict[str, object]:
    return {
        "quaternion_sensor_to_body": [round(float(v), 6) for v in q],
        "matrix_sensor_to_body": [[round(float(v), 6) for v in row] for row in rot.matrix(q)],
    }


def draw_sensor(rng: np.random.Generator, rate_hz: float, duration_s: float, noise_scale: float, random_mounting: bool) -> Sensor:
    mount, chip, info = draw_mounting(rng, random_mounting)
    bandwidth = rate_hz / 2.0
    acc_noise = rng.uniform(80e-6, 400e-6) * math.sqrt(bandwidth) * noise_scale
    gyro_noise = rng.uniform(0.004, 0.015) * math.sqrt(bandwidth) * noise_scale
    acc_range = float(rng.choice(_ACC_RANGES_G, p=[0.15, 0.45, 0.3, 0.1]))
    gyro_range = float(rng.choice(_GYRO_RANGES_DPS, p=[0.15, 0.35, 0.3, 0.2]))
    if noise_scale == 0.0:  # ideal sensor: no clipping either
        acc_range, gyro_range = _ACC_RANGES_G[-1], _GYRO_RANGES_DPS[-1]
    drift = None
    if noise_scale > 0.0:
        sigma = np.concatenate((np.full(3, 0.003), np.full(3, 0.3))) * noise_scale
        drift = SmoothNoise(rng, 0.0, duration_s + 1.0, 1.0 / 1200.0, sigma)
    sensor = Sensor(
        mounts=[mount],
        mount_times=[-math.inf],
        chip=chip,
        mounting_info=info,
        acc_range_g=acc_range,
        gyro_range_dps=gyro_range,
        acc_gain=np.eye(3) + rng.normal(0.0, 0.01, size=(3, 3)) * noise_scale,
        gyro_gain=np.eye(3) + rng.normal(0.0, 0.01, size=(3, 3)) * noise_scale,
        acc_bias_g=rng.uniform(-0.04, 0.04, size=3) * noise_scale,
        gyro_bias_dps=rng.uniform(-3.0, 3.0, size=3) * noise_scale,
        acc_noise_g=acc_noise,
        gyro_noise_dps=gyro_noise,
        drift=drift,
        quantise=noise_scale > 0.0,
    )
    info.update(_describe(sensor))
    return sensor


def _describe(s: Sensor) -> dict[str, object]:
    return {
        **_describe_mount(s.mounts[0]),
        "acc_range_g": s.acc_range_g,
        "gyro_range_dps": s.gyro_range_dps,
        "acc_bias_g": [round(float(v), 5) for v in s.acc_bias_g],
        "gyro_bias_dps": [round(float(v), 4) for v in s.gyro_bias_dps],
        "acc_noise_g": round(s.acc_noise_g, 6),
        "gyro_noise_dps": round(s.gyro_noise_dps, 5),
    }
