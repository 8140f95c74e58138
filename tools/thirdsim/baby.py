"""One baby per seed: body, habits, spasm phenotype, how the band is worn, and the sensor.

All numbers are drawn wide on purpose: the detector must work for any baby.
Where a value is an estimate rather than a published figure, docs/thirdsim.md
says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.thirdsim import rot

Arr = np.ndarray

SPASM_KINDS = ("flexor", "extensor", "mixed", "asymmetric")


def _logn(rng: np.random.Generator, median: float, sigma: float, lo: float, hi: float) -> float:
    return float(np.clip(median * np.exp(sigma * rng.normal()), lo, hi))


@dataclass
class Baby:
    age_months: float
    mass_kg: float
    trunk_len_m: float  # lumbar pivot to the shoulders
    head_ratio: float  # how much a head movement turns the trunk back (reaction), younger = bigger head
    vigour: float  # scales voluntary movement, kicking, crying
    breath_hz_quiet: float
    heart_hz: float
    # spasm phenotype
    main_kind: str
    spasm_deg: float  # median trunk rotation of a full spasm at the band, deg
    subtle_deg: float  # median trunk rotation of a subtle spasm, deg
    subtle_share: float  # chance a cluster is of subtle spasms
    interval_s: float  # median onset-to-onset interval within a cluster
    count_median: float
    hold_s: float  # median tonic phase
    # habits / confounders
    reflux: float  # chance of arching episodes after a feed
    myoclonus: bool  # has benign sleep myoclonus
    hiccupy: float
    can_roll: bool
    # how often clusters come
    p_cluster_after_wake: float  # chance a wake onset (after >= 20 min of sleep) is followed by a cluster
    wake_cluster_per_day: float  # clusters at other times awake
    sleep_cluster_per_day: float  # clusters out of sleep (rare)
    isolated_per_day: float  # single spasms outside clusters


@dataclass
class Mount:
    placement: str
    pos_m: Arr  # sensor position in the trunk frame, from the lumbar pivot
    r_mount: Arr  # sensor axes in the trunk frame
    spin_deg: float
    tilt_deg: float
    flipped: bool
    looseness: float  # 0 tight .. 1 loose
    strap_hz: float  # translational resonance of sensor on strap and soft tissue
    strap_zeta: float
    rot_hz: float  # rotational resonance (rocking of the pod on the strap)

    def as_dict(self) -> dict[str, Any]:
        return {
            "placement": self.placement,
            "position_m": [round(float(v), 3) for v in self.pos_m],
            "spin_deg": round(self.spin_deg, 1),
            "tilt_deg": round(self.tilt_deg, 1),
            "flipped": self.flipped,
            "looseness": round(self.looseness, 3),
            "strap_hz": round(self.strap_hz, 2),
            "strap_zeta": round(self.strap_zeta, 3),
            "rot_hz": round(self.rot_hz, 2),
        }


@dataclass
class Sensor:
    rate_hz: float
    has_gyro: bool
    acc_range_g: float
    gyro_range_dps: float
    acc_bits: int
    acc_noise_ug_rthz: float
    gyro_noise_dps_rthz: float
    acc_bias_g: Arr
    acc_tc_g_per_c: Arr
    acc_gain: Arr  # 3x3 scale and cross-axis
    gyro_bias_dps: Arr
    gyro_tc_dps_per_c: Arr
    gyro_gain: Arr
    bw_frac: float  # anti-alias filter corner as a fraction of the rate
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "acc_range_g": self.acc_range_g,
            "gyro_range_dps": self.gyro_range_dps if self.has_gyro else None,
            "acc_bits": self.acc_bits,
            "acc_noise_ug_rthz": round(self.acc_noise_ug_rthz, 1),
            "gyro_noise_dps_rthz": round(self.gyro_noise_dps_rthz, 4) if self.has_gyro else None,
            "acc_bias_mg": [round(float(v) * 1000, 1) for v in self.acc_bias_g],
            "gyro_bias_dps": [round(float(v), 2) for v in self.gyro_bias_dps] if self.has_gyro else None,
            "bandwidth_hz": round(self.bw_frac * self.rate_hz, 1),
        }


def make_baby(seed: int) -> Baby:
    rng = np.random.default_rng([seed, 101])
    age = float(rng.uniform(3.0, 12.0))
    mass = 6.0 + 0.45 * (age - 3.0) + rng.normal(0, 0.7)  # roughly WHO weight-for-age medians
    subtle_share = float(rng.uniform(0.1, 0.45))
    return Baby(
        age_months=age,
        mass_kg=float(mass),
        trunk_len_m=float(0.17 + 0.006 * age + rng.normal(0, 0.01)),
        head_ratio=float(np.clip(0.2 - 0.008 * age + rng.normal(0, 0.02), 0.06, 0.25)),
        vigour=_logn(rng, 1.0, 0.35, 0.4, 2.2),
        breath_hz_quiet=float(rng.uniform(26, 40) / 60.0 * (1.1 - 0.015 * age)),
        heart_hz=float(rng.uniform(105, 140) / 60.0),
        main_kind=str(rng.choice(SPASM_KINDS, p=[0.34, 0.2, 0.36, 0.1])),  # Kellaway 1979 shares, asymmetric added
        spasm_deg=_logn(rng, 10.0, 0.5, 3.0, 28.0),
        subtle_deg=_logn(rng, 1.5, 0.45, 0.5, 4.0),
        subtle_share=subtle_share,
        interval_s=float(rng.uniform(5.0, 10.0)),
        count_median=_logn(rng, 8.0, 0.45, 4.0, 20.0),
        hold_s=_logn(rng, 0.8, 0.35, 0.3, 1.6),
        reflux=float(rng.uniform(0.0, 0.6)),
        myoclonus=bool(rng.random() < 0.35),
        hiccupy=float(rng.uniform(0.1, 0.6)),
        can_roll=age >= 4.5,
        p_cluster_after_wake=float(rng.uniform(0.25, 0.7)),
        wake_cluster_per_day=float(rng.uniform(0.2, 1.5)),
        sleep_cluster_per_day=float(rng.uniform(0.0, 0.35)),
        isolated_per_day=float(rng.uniform(0.0, 2.0)),
    )


def make_mount(seed: int, baby: Baby) -> Mount:
    """Where the band sits: chest front, belly or off to one side, at any spin, sometimes upside down."""
    rng = np.random.default_rng([seed, 202])
    placement = str(rng.choice(["chest", "belly", "side"], p=[0.45, 0.35, 0.2]))
    along = {"chest": 0.8, "belly": 0.35, "side": 0.6}[placement] * baby.trunk_len_m
    lateral = rng.normal(0, 0.01) if placement != "side" else rng.choice([-1, 1]) * rng.uniform(0.03, 0.06)
    half_depth = rng.uniform(0.045, 0.07)
    # On a side placement the band's surface faces partly sideways (the trunk is round).
    tilt_side = np.arctan2(lateral, half_depth)
    tilt_curve = rng.normal(0, np.radians(8))  # chest/belly curvature under the pod
    spin = rng.uniform(0, 2 * np.pi)
    flipped = bool(rng.random() < 0.25)
    r = rot.rx(-tilt_side) @ rot.ry(tilt_curve) @ rot.rz(spin)
    if flipped:  # pod worn face in: z into the body
        r = r @ rot.rx(np.pi)
    looseness = float(rng.beta(2, 3))
    return Mount(
        placement=placement,
        pos_m=np.array([along, lateral, half_depth]),
        r_mount=r,
        spin_deg=float(np.degrees(spin)),
        tilt_deg=float(np.degrees(np.hypot(tilt_side, tilt_curve))),
        flipped=flipped,
        looseness=looseness,
        strap_hz=float(28.0 - 20.0 * looseness + rng.normal(0, 2)),
        strap_zeta=float(np.clip(0.45 - 0.25 * looseness + rng.normal(0, 0.05), 0.1, 0.7)),
        rot_hz=float(18.0 - 12.0 * looseness + rng.normal(0, 1.5)),
    )


def make_sensor(rng: np.random.Generator, rate_hz: float, has_gyro: bool) -> Sensor:
    """Per-file sensor imperfections, in the range of MEMS consumer IMU datasheets."""

    def gain(scale_sd: float, cross_sd: float) -> Arr:
        m = np.eye(3) + np.diag(rng.normal(0, scale_sd, 3))
        off = rng.normal(0, cross_sd, (3, 3))
        np.fill_diagonal(off, 0)
        return m + off

    return Sensor(
        rate_hz=rate_hz,
        has_gyro=has_gyro,
        acc_range_g=float(rng.choice([2.0, 4.0, 8.0, 16.0], p=[0.1, 0.3, 0.4, 0.2])),
        gyro_range_dps=float(rng.choice([500.0, 1000.0, 2000.0], p=[0.3, 0.3, 0.4])),
        acc_bits=int(rng.choice([12, 16], p=[0.3, 0.7])),
        acc_noise_ug_rthz=float(rng.uniform(80, 300)),
        gyro_noise_dps_rthz=float(rng.uniform(0.004, 0.015)),
        acc_bias_g=rng.normal(0, 0.02, 3),
        acc_tc_g_per_c=rng.normal(0, 0.0003, 3),
        acc_gain=gain(0.012, 0.005),
        gyro_bias_dps=rng.normal(0, 1.5, 3),
        gyro_tc_dps_per_c=rng.normal(0, 0.03, 3),
        gyro_gain=gain(0.015, 0.008),
        bw_frac=float(rng.uniform(0.22, 0.45)),
    )
