"""The IMU on the band: mounting, soft-mount resonance, bias, scale,
cross-axis, noise, quantisation and range; produces samples chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.altsim import rot
from tools.altsim.rot import Arr
from tools.altsim.shapes import band_noise
from tools.altsim.world import Recording

G = 9.81
CHUNK = 1 << 18
ACC_RANGES = {2.0: 1 / 16384, 4.0: 1 / 8192, 8.0: 1 / 4096}  # g: g per LSB
GYRO_RANGES = {250.0: 1 / 131, 500.0: 1 / 65.5, 1000.0: 1 / 32.8, 2000.0: 1 / 16.4}  # dps: dps per LSB


@dataclass
class Sensor:
    mount: Arr  # sensor-to-body rotation
    mount_kind: str
    acc_range: float
    acc_noise: float  # g RMS
    acc_bias: Arr  # g
    acc_matrix: Arr  # scale and cross-axis
    gyro_range: float
    gyro_noise: float  # deg/s RMS
    gyro_bias: Arr  # deg/s, at power-up
    gyro_warm: Arr  # deg/s settling away over the first minutes
    gyro_tau: float
    gyro_matrix: Arr
    band_f0: float  # soft-mount resonance (Hz) and damping
    band_zeta: float

    def describe(self) -> dict[str, Any]:
        q = self.mount
        return {
            "method": self.mount_kind,
            "quat_sensor_to_body_wxyz": [round(float(v), 5) for v in q],
            "sensor_z_in_body": [round(float(v), 3) for v in rot.rotate(q, np.array([0.0, 0.0, 1.0]))],
            "acc_range_g": self.acc_range,
            "acc_noise_mg": round(self.acc_noise * 1000, 2),
            "acc_bias_mg": [round(float(v) * 1000, 1) for v in self.acc_bias],
            "gyro_range_dps": self.gyro_range,
            "gyro_noise_dps": round(self.gyro_noise, 3),
            "gyro_bias_dps": [round(float(v), 2) for v in self.gyro_bias],
            "band_resonance_hz": round(self.band_f0, 1),
            "band_damping": round(self.band_zeta, 2),
        }


def random_mount(rng: np.random.Generator) -> tuple[Arr, str]:
    """Half the time any orientation at all; otherwise the chip faces out
    of (or, flipped, into) the chest, turned any way about that, tilted."""
    if rng.random() < 0.5:
        return rot.uniform(rng), "uniform"
    yaw = rot.about_z(np.array(rng.uniform(0, 2 * np.pi)))
    h = rng.uniform(0, 2 * np.pi)
    tilt = rot.from_rotvec(np.array([np.cos(h), np.sin(h), 0.0]) * np.radians(abs(rng.normal(0, 15))))
    q = rot.mul(tilt, yaw)
    if rng.random() < 0.25:
        q = rot.mul(q, np.array([0.0, 1.0, 0.0, 0.0]))
        return q, "band_flipped"
    return q, "band"


def random_sensor(rng: np.random.Generator, looseness: float) -> Sensor:
    mount, kind = random_mount(rng)
    return Sensor(
        mount=mount,
        mount_kind=kind,
        acc_range=float(rng.choice(list(ACC_RANGES), p=[0.2, 0.4, 0.4])),
        acc_noise=rng.uniform(0.002, 0.008),
        acc_bias=np.clip(rng.normal(0, 0.015, 3), -0.04, 0.04),
        acc_matrix=np.eye(3) + np.diag(rng.normal(0, 0.01, 3)) + _offdiag(rng, 0.01),
        gyro_range=float(rng.choice(list(GYRO_RANGES), p=[0.2, 0.2, 0.3, 0.3])),
        gyro_noise=rng.uniform(0.05, 0.3),
        gyro_bias=rng.uniform(-3, 3, 3),
        gyro_warm=rng.normal(0, 0.4, 3),
        gyro_tau=rng.uniform(120, 900),
        gyro_matrix=np.eye(3) + np.diag(rng.normal(0, 0.015, 3)) + _offdiag(rng, 0.01),
        band_f0=float(np.interp(looseness, [0, 1], [25.0, 6.0]) * rng.uniform(0.85, 1.15)),
        band_zeta=float(np.interp(looseness, [0, 1], [0.7, 0.15])),
    )


def _offdiag(rng: np.random.Generator, sd: float) -> Arr:
    m = rng.normal(0, sd, (3, 3))
    np.fill_diagonal(m, 0.0)
    return m


def _mount_kernel(rate: float, f0: float, zeta: float) -> Arr:
    """Impulse response of the band/tissue mount, a resonant low-pass with
    unit gain at DC (the sensor follows the trunk, overshooting on jolts)."""
    f0 = min(f0, 0.4 * rate)
    w = 2 * np.pi * f0
    wd = w * np.sqrt(1 - zeta**2)
    t = np.arange(int(rate * 6 / (zeta * f0 + 1e-9)) + 3) / rate
    t = t[: int(2 * rate) + 3]
    h = np.exp(-zeta * w * t) * (2 * zeta * w * np.cos(wd * t) + w**2 * (1 - 2 * zeta**2) / wd * np.sin(wd * t))
    out: Arr = h / h.sum()
    return out


class Composer:
    """Puts posture, tracks and sensor together, one chunk at a time."""

    def __init__(self, rec: Recording, sensor: Sensor) -> None:
        self.rec, self.s = rec, sensor
        tr = rec.tracks
        self.yaw = np.cumsum(tr.yaw_rate) / tr.rate
        self.kernel = _mount_kernel(rec.rate, sensor.band_f0, sensor.band_zeta)
        slow = max(16, int(rec.duration) + 2)  # bias drift sampled at 1 Hz
        self.gyro_walk = np.stack([rec.rng.uniform(0.05, 0.3) * band_noise(rec.rng, slow, 1.0, 1e-4, 0.01) for _ in range(3)], 1)
        self.acc_walk = np.stack([0.002 * band_noise(rec.rng, slow, 1.0, 1e-4, 0.003) for _ in range(3)], 1)

    def chunks(self) -> Iterator[tuple[Arr, Arr, Arr]]:
        n = self.rec.n
        for i0 in range(0, n, CHUNK):
            yield self.chunk(i0, min(n, i0 + CHUNK))

    def chunk(self, i0: int, i1: int) -> tuple[Arr, Arr, Arr]:
        """Time, acceleration (g) and angular rate (deg/s) for samples [i0, i1)."""
        rec, s = self.rec, self.s
        pre = len(self.kernel) + 2
        a, b = max(0, i0 - pre), min(rec.n, i1 + 2)
        q = self._orientation(a, b)
        omega = self._omega(q)  # rad/s, body frame
        f_body = self._specific_force(a, b, q, omega)
        f_body = self._soft_mount(f_body, a)
        k0, k1 = i0 - a, i1 - a
        t = np.arange(i0, i1) / rec.rate
        qm = np.broadcast_to(rot.conj(s.mount), (k1 - k0, 4))
        acc = rot.rotate(qm, f_body[k0:k1])
        gyro = np.degrees(rot.rotate(qm, omega[k0:k1]))
        return t, self._accel_errors(acc, t), self._gyro_errors(gyro, t)

    def _orientation(self, a: int, b: int) -> Arr:
        tr = self.rec.tracks
        t = np.arange(a, b) / tr.rate
        q = rot.mul(rot.about_z(self.yaw[a:b]), self.rec.posture.quats(t))
        q = rot.mul(rot.from_rotvec(tr.rock[a:b]), q)
        return rot.mul(q, rot.from_rotvec(tr.theta[a:b]))

    def _omega(self, q: Arr) -> Arr:
        rate = self.rec.rate
        if len(q) < 2:
            return np.zeros((len(q), 3))
        fwd = rot.to_rotvec(rot.mul(rot.conj(q[:-1]), q[1:])) * rate  # body-frame rate between samples
        out = np.empty((len(q), 3))
        out[1:-1] = 0.5 * (fwd[:-1] + fwd[1:])
        out[0], out[-1] = fwd[0], fwd[-1]
        return out

    def _specific_force(self, a: int, b: int, q: Arr, omega: Arr) -> Arr:
        """What an ideal accelerometer fixed to the trunk feels (g, body)."""
        tr, rec = self.rec.tracks, self.rec
        f_world = tr.acc_w[a:b] + rot.rotate(rot.about_z(self.yaw[a:b]), tr.acc_h[a:b])
        f_world[:, 2] += 1.0
        f = rot.rotate(rot.conj(q), f_world) + tr.acc_b[a:b]
        r = rec.baby.lever_m
        alpha = np.gradient(omega, 1.0 / rec.rate, axis=0) if len(omega) > 1 else np.zeros_like(omega)
        lever = rot.cross(alpha, r) + rot.cross(omega, rot.cross(omega, r))
        return f + lever / G

    def _soft_mount(self, f: Arr, a: int) -> Arr:
        k = self.kernel
        out = np.empty_like(f)
        for j in range(3):
            x = f[:, j] if a > 0 else np.concatenate([np.full(len(k), f[0, j]), f[:, j]])
            y = np.convolve(x, k)[: len(x)]
            out[:, j] = y if a > 0 else y[len(k) :]
        return out

    def _accel_errors(self, acc: Arr, t: Arr) -> Arr:
        s, rng = self.s, self.rec.rng
        drift = np.stack([np.interp(t, np.arange(len(self.acc_walk)), self.acc_walk[:, j]) for j in range(3)], 1)
        v = acc @ s.acc_matrix.T + s.acc_bias + drift + rng.normal(0, s.acc_noise, acc.shape)
        lsb = ACC_RANGES[s.acc_range]
        return np.clip(np.round(v / lsb) * lsb, -s.acc_range, s.acc_range - lsb)

    def _gyro_errors(self, gyro: Arr, t: Arr) -> Arr:
        s, rng = self.s, self.rec.rng
        walk = np.stack([np.interp(t, np.arange(len(self.gyro_walk)), self.gyro_walk[:, j]) for j in range(3)], 1)
        bias = s.gyro_bias + s.gyro_warm * np.exp(-t / s.gyro_tau)[:, None] + walk
        v = gyro @ s.gyro_matrix.T + bias + rng.normal(0, s.gyro_noise, gyro.shape)
        lsb = GYRO_RANGES[s.gyro_range]
        return np.clip(np.round(v / lsb) * lsb, -s.gyro_range, s.gyro_range - lsb)
