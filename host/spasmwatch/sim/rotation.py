"""Vectorised unit-quaternion helpers (scalar first: w, x, y, z).

A quaternion ``q`` maps a vector from the body (or sensor) frame to the world
frame: ``v_world = rotate(q, v_body)``. The world frame has z pointing up, so
an accelerometer at rest reads ``rotate_inv(q, [0, 0, 1])`` in g.

Quaternions rather than matrices because the simulator composes, interpolates
(slerp) and differentiates orientations over millions of samples; the body
angular rate comes from the relative rotation of neighbouring samples, which
keeps gyro and accelerometer tilt exactly consistent.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

IDENTITY: FloatArray = np.array([1.0, 0.0, 0.0, 0.0])


def multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product, broadcasting over leading axes."""
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = aw * bw - ax * bx - ay * by - az * bz
    out[..., 1] = aw * bx + ax * bw + ay * bz - az * by
    out[..., 2] = aw * by - ax * bz + ay * bw + az * bx
    out[..., 3] = aw * bz + ax * by - ay * bx + az * bw
    return out


def unit(v: FloatArray) -> FloatArray:
    """v scaled to length 1 (an axis or direction)."""
    out: FloatArray = v / np.linalg.norm(v)
    return out


def conjugate(q: FloatArray) -> FloatArray:
    out: FloatArray = q * np.array([1.0, -1.0, -1.0, -1.0])
    return out


def from_rotvec(rv: FloatArray) -> FloatArray:
    """Rotation vector (axis * angle, rad) to quaternion; exact for any angle."""
    angle = np.linalg.norm(rv, axis=-1)
    half = 0.5 * angle
    # sin(x/2)/x -> 1/2 as x -> 0; the series avoids 0/0 for tiny rotations.
    small = angle < 1e-6
    safe = np.where(small, 1.0, angle)
    scale = np.where(small, 0.5 - angle * angle / 48.0, np.sin(half) / safe)
    out = np.empty(rv.shape[:-1] + (4,))
    out[..., 0] = np.cos(half)
    out[..., 1:] = rv * scale[..., None]
    return out


def to_rotvec(q: FloatArray) -> FloatArray:
    """Quaternion to rotation vector with angle in [0, pi] (shortest rotation)."""
    sign = np.where(q[..., 0] < 0.0, -1.0, 1.0)
    w = q[..., 0] * sign
    xyz = q[..., 1:] * sign[..., None]
    s = np.linalg.norm(xyz, axis=-1)
    angle = 2.0 * np.arctan2(s, w)
    small = s < 1e-9
    scale = np.where(small, 2.0, angle / np.where(small, 1.0, s))
    return xyz * scale[..., None]


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    # np.cross is several times slower on (n, 3) arrays than spelling it out.
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def rotate(q: FloatArray, v: FloatArray) -> FloatArray:
    """Apply q to v (body -> world), broadcasting."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * _cross(u, v)
    return v + w * t + _cross(u, t)


def rotate_inv(q: FloatArray, v: FloatArray) -> FloatArray:
    """Apply the inverse of q to v (world -> body)."""
    return rotate(conjugate(q), v)


def about_axis(axis: str, angle_rad: float) -> FloatArray:
    """Quaternion for a rotation about a named body axis ('x', 'y' or 'z')."""
    vec = np.zeros(3)
    vec["xyz".index(axis)] = angle_rad
    return from_rotvec(vec)


def slerp(q0: FloatArray, q1: FloatArray, s: FloatArray) -> FloatArray:
    """Spherical interpolation from q0 to q1 by fraction s (broadcasting)."""
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0.0, -q1, q1)  # shortest path
    delta = to_rotvec(multiply(conjugate(q0), q1))
    return multiply(q0, from_rotvec(delta * s[..., None]))


def body_rate(q: FloatArray, dt: float) -> FloatArray:
    """Body-frame angular rate (rad/s) at the inner samples of q (central difference).

    ``q`` has n + 2 samples; the result has n. Using the relative rotation
    q[k-1]^-1 q[k+1] makes the integral of the rate reproduce the orientation
    path, so gyro and accelerometer tilt agree.
    """
    rel = multiply(conjugate(q[:-2]), q[2:])
    return to_rotvec(rel) / (2.0 * dt)


def matrix(q: FloatArray) -> FloatArray:
    """Rotation matrix of a single quaternion (columns are the body axes in world)."""
    return np.stack([rotate(q, e) for e in np.eye(3)], axis=-1)
