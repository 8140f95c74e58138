"""Quaternion helpers, vectorised over rows.

Quaternions are ``(w, x, y, z)`` arrays of shape ``(n, 4)`` (or ``(4,)``).
A quaternion ``q`` maps body coordinates to world coordinates:
``v_world = rotate(q, v_body)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Arr = NDArray[np.float64]

IDENTITY: Arr = np.array([1.0, 0.0, 0.0, 0.0])


def mul(a: Arr, b: Arr) -> Arr:
    """Hamilton product ``a * b`` (broadcasts over leading axes)."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def conj(q: Arr) -> Arr:
    out: Arr = q * np.array([1.0, -1.0, -1.0, -1.0])
    return out


def cross(a: Arr, b: Arr) -> Arr:
    """Row-wise cross product of (..., 3) arrays (quicker than np.cross)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def rotate(q: Arr, v: Arr) -> Arr:
    """Rotate vectors ``v`` (..., 3) by unit quaternions ``q`` (..., 4)."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * cross(u, v)
    return v + w * t + cross(u, t)


def from_rotvec(r: Arr) -> Arr:
    """Rotation vectors (radians, ..., 3) to unit quaternions."""
    angle = np.linalg.norm(r, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(half)/angle, with its limit 0.5 at angle 0
    k = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.concatenate([np.cos(half), r * k], axis=-1)


def to_rotvec(q: Arr) -> Arr:
    """Unit quaternions to rotation vectors (radians), shortest rotation."""
    q = np.where(q[..., :1] < 0, -q, q)
    s = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., :1])
    k = np.where(s > 1e-12, angle / np.where(s > 1e-12, s, 1.0), 2.0)
    return q[..., 1:] * k


def about_z(angle: Arr) -> Arr:
    """Rotations about the world vertical by ``angle`` radians (shape (n,))."""
    z = np.zeros_like(angle)
    return np.stack([np.cos(angle / 2), z, z, np.sin(angle / 2)], axis=-1)


def slerp(q0: Arr, q1: Arr, s: Arr) -> Arr:
    """Spherical interpolation, row-wise: q0, q1 (n, 4), s (n,) in [0, 1]."""
    d = np.sum(q0 * q1, axis=-1)
    q1 = np.where(d[:, None] < 0, -q1, q1)
    rel = to_rotvec(mul(conj(q0), q1))
    return mul(q0, from_rotvec(rel * s[:, None]))


def from_up(up_body: Arr, heading: float) -> Arr:
    """Body-to-world rotation whose world vertical is ``up_body`` in the body
    frame, turned by ``heading`` radians about the vertical."""
    u = up_body / np.linalg.norm(up_body)
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(u, z)
    s = np.linalg.norm(axis)
    c = float(np.dot(u, z))
    if s < 1e-9:
        tilt = IDENTITY.copy() if c > 0 else np.array([0.0, 1.0, 0.0, 0.0])
    else:
        tilt = from_rotvec(axis / s * np.arctan2(s, c))
    return mul(about_z(np.array(heading)), tilt)


def uniform(rng: np.random.Generator) -> Arr:
    """A uniformly distributed random rotation."""
    q = rng.normal(size=4)
    return q / np.linalg.norm(q)
