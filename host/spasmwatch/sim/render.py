"""Plan -> samples, one chunk at a time.

Per chunk: sum the movement channels, build the trunk orientation
(heading yaw * posture * perturbation), attach the sensor (mounting) or
put it on the table (not worn), then

    accel = R_sensor^T (up + R_body a_body + a_world + a_lever)   [g]
    gyro  = body rate of R_sensor                                  [deg/s]

where a_lever is the acceleration of the sensor as the trunk turns about
the hips (second difference of its position). The chunk is rendered with one
extra sample on each side so the central differences need no carried state.
"""

from __future__ import annotations

import numpy as np

from spasmwatch.sim import posture
from spasmwatch.sim import rotation as rot
from spasmwatch.sim.breathing import Breathing
from spasmwatch.sim.movements import STANDARD_GRAVITY_MS2, Channels
from spasmwatch.sim.rotation import FloatArray
from spasmwatch.sim.sensor import Sensor, WhiteNoise
from spasmwatch.sim.signals import min_jerk
from spasmwatch.sim.timeline import Plan

# Samples rendered at once. The recording does not depend on it (tests/test_simulator.py): it is
# made in the fixed blocks below, a chunk of parts of them. It trades memory (a chunk's arrays)
# against the work done again per chunk (the breathing's grid up to 410 s around it, the live
# motions found). `spasmwatch simulate --kind day`, peak RSS and user CPU, 48 h at 25 Hz / 24 h at
# 100 Hz: 65536 112 / 134 MB, 7.8 / 9.9 s; 16384 78 / 88 MB, 8.8 / 11.4 s; 8192 73 / 84 MB,
# 9.3 / 13.4 s (2026-12-06, 2 cores under load). 65536 until then.
CHUNK_SAMPLES = 1 << 14
# The recording's fixed blocks: each draws its white noise from a generator of its own, and the slow
# noises (sensor drift, fidgeting) are interpolated on a grid from their first sample in the block.
# 65536: the chunk that did both until 2026-12-06 (a recording then changed with CHUNK_SAMPLES), so
# a seed's recording keeps its bytes.
BLOCK_SAMPLES = 1 << 16
_UP = np.array([0.0, 0.0, 1.0])
_BAND_OFF_S = 1.5  # taking the band off / putting it down takes a moment


class Renderer:
    def __init__(self, plan: Plan, breathing: Breathing, sensor: Sensor, rate_hz: float, n_samples: int, seed: int) -> None:
        self.plan = plan
        self.breathing = breathing
        self.sensor = sensor
        self.rate_hz = rate_hz
        self.n_samples = n_samples
        self.seed = seed
        motions = sorted(plan.world.motions, key=lambda m: m.start)
        self.motions = motions
        self.starts = np.array([m.start for m in motions])
        self.ends = np.array([m.end for m in motions])
        self.track = plan.world.postures.freeze()
        self.lever = plan.world.baby.lever_m
        self.white = WhiteNoise(seed, n_samples, BLOCK_SAMPLES, sensor.acc_noise_g, sensor.gyro_noise_dps)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_samples // CHUNK_SAMPLES)

    def chunk(self, index: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Samples [index * CHUNK_SAMPLES, ...): times, accel (g), gyro (deg/s)."""
        i0 = index * CHUNK_SAMPLES
        i1 = min(self.n_samples, i0 + CHUNK_SAMPLES)
        cuts = [i0, *range(i0 - i0 % BLOCK_SAMPLES + BLOCK_SAMPLES, i1, BLOCK_SAMPLES), i1]
        parts = [self._part(a, b) for a, b in zip(cuts, cuts[1:])]
        if len(parts) == 1:
            return parts[0]
        t, acc, gyro = (np.concatenate(x) for x in zip(*parts))
        return t, acc, gyro

    def _part(self, i0: int, i1: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Samples [i0, i1) of one block: as the whole block makes them."""
        lo = i0 - i0 % BLOCK_SAMPLES
        hi = min(self.n_samples, lo + BLOCK_SAMPLES)
        te = np.arange(i0 - 1, i1 + 1) / self.rate_hz
        ch = self._channels(te, (lo - 1, hi + 1, self.rate_hz))
        q_head = rot.multiply(rot.from_rotvec(np.outer(ch.yaw, _UP)), posture.evaluate(self.track, te))
        q_pert = rot.from_rotvec(ch.rot)
        q_body = rot.multiply(rot.multiply(q_head, q_pert), rot.from_rotvec(ch.wobble))
        q_sensor = rot.multiply(q_body, self.sensor.mount_at(te))
        off = self._off_weight(te)
        if np.any(off > 0.0):
            q_sensor = self._put_down(q_sensor, te, off)
        worn = (1.0 - off)[1:-1, None]
        motion = rot.rotate(q_body, ch.acc_body) + ch.acc_world
        f_world = _UP + (motion[1:-1] + self._lever_acc(q_head, q_pert)) * worn
        dt = 1.0 / self.rate_hz
        acc = rot.rotate_inv(q_sensor[1:-1], f_world)
        gyro = np.degrees(rot.body_rate(q_sensor, dt))
        extent = lo / self.rate_hz, (hi - 1) / self.rate_hz, hi - lo  # the block's samples, for the drift
        acc, gyro = self.sensor.apply(te[1:-1], acc, gyro, self.white.take(i0, i1), extent)
        return te[1:-1], acc, gyro

    def _channels(self, te: FloatArray, block: tuple[int, int, float]) -> Channels:
        ch = Channels.zeros(te, 1.0 / self.rate_hz, block)
        live = np.flatnonzero((self.starts <= te[-1]) & (self.ends >= te[0]))
        for k in live:
            self.motions[k].render(ch)
        self.breathing.render(ch)
        return ch

    def _lever_acc(self, q_head: FloatArray, q_pert: FloatArray) -> FloatArray:
        """Acceleration (g) of the sensor swinging about the hip pivot as the trunk bends."""
        offset = rot.rotate(q_head, rot.rotate(q_pert, self.lever) - self.lever)
        second = offset[2:] - 2.0 * offset[1:-1] + offset[:-2]
        return second * (self.rate_hz**2 / STANDARD_GRAVITY_MS2)

    def _off_weight(self, te: FloatArray) -> FloatArray:
        """0 while worn, 1 while lying on the table, smooth in between."""
        weight = np.zeros_like(te)
        for nw in self.plan.not_worn:
            if nw.end < te[0] or nw.start > te[-1]:
                continue
            inside = (te >= nw.start) & (te <= nw.end)
            ramp = np.minimum(min_jerk((te - nw.start) / _BAND_OFF_S), min_jerk((nw.end - te) / _BAND_OFF_S))
            weight = np.maximum(weight, np.where(inside, ramp, 0.0))
        return weight

    def _put_down(self, q_sensor: FloatArray, te: FloatArray, off: FloatArray) -> FloatArray:
        out = q_sensor.copy()
        for nw in self.plan.not_worn:
            sel = (te >= nw.start) & (te <= nw.end) & (off > 0.0)
            if np.any(sel):
                table = np.broadcast_to(nw.table, (int(sel.sum()), 4))
                out[sel] = rot.slerp(q_sensor[sel], table, off[sel])
        return out
