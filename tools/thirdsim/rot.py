"""Rotation helpers, vectorised over time (arrays of shape (n, 3, 3)).

Conventions: a rotation matrix R maps vectors from a moving frame to the
world frame (v_world = R @ v_body). World Z points up.
"""

from __future__ import annotations

import numpy as np

Arr = np.ndarray


def rx(a: Arr | float) -> Arr:
    a = np.asarray(a, dtype=float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def ry(a: Arr | float) -> Arr:
    a = np.asarray(a, dtype=float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rz(a: Arr | float) -> Arr:
    a = np.asarray(a, dtype=float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def euler_zyx(yaw: Arr, pitch: Arr, roll: Arr) -> Arr:
    """R = Rz(yaw) Ry(pitch) Rx(roll): the pelvis posture in the world."""
    return rz(yaw) @ ry(pitch) @ rx(roll)


def expmap(rv: Arr) -> Arr:
    """Rotation vectors (n, 3) -> matrices (n, 3, 3) (Rodrigues, safe near zero)."""
    rv = np.atleast_2d(rv)
    th2 = np.sum(rv * rv, axis=1)
    th = np.sqrt(th2)
    small = th < 1e-6
    safe = np.where(small, 1.0, th)
    a = np.where(small, 1.0 - th2 / 6.0, np.sin(safe) / safe)
    b = np.where(small, 0.5 - th2 / 24.0, (1.0 - np.cos(safe)) / (safe * safe))
    k = skew(rv)
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + a[:, None, None] * k + b[:, None, None] * (k @ k)


def skew(v: Arr) -> Arr:
    v = np.atleast_2d(v)
    z = np.zeros(len(v))
    x, y, w = v[:, 0], v[:, 1], v[:, 2]
    return np.stack([np.stack([z, -w, y], -1), np.stack([w, z, -x], -1), np.stack([-y, x, z], -1)], -2)


def logmap(r: Arr) -> Arr:
    """One rotation matrix -> rotation vector (via a quaternion, stable near 180 deg)."""
    m = np.asarray(r, dtype=float)
    tr = np.trace(m)
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = np.array([0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s])
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = np.zeros(4)
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    if q[0] < 0:
        q = -q
    vn = float(np.linalg.norm(q[1:]))
    if vn < 1e-12:
        return np.zeros(3)
    angle = 2.0 * np.arctan2(vn, q[0])
    return q[1:] / vn * angle


def body_rate(r: Arr, fs: float) -> Arr:
    """Angular velocity in the moving frame (rad/s), from R(t) sampled at fs: vee(R^T dR/dt)."""
    dr = np.gradient(r, axis=0) * fs
    om = np.transpose(r, (0, 2, 1)) @ dr
    return 0.5 * np.stack([om[:, 2, 1] - om[:, 1, 2], om[:, 0, 2] - om[:, 2, 0], om[:, 1, 0] - om[:, 0, 1]], -1)


def random_rotation(rng: np.random.Generator) -> Arr:
    """A uniformly random rotation (from a random unit quaternion)."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
