"""The simulated infant: per-recording physiology drawn once from the seed.

Drawing these per recording (rather than fixing them) is what makes two
seeds look like two different babies and bands, so a detector tuned on one
cannot simply memorise a single amplitude or rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spasmwatch.sim.rotation import FloatArray, unit


@dataclass(frozen=True)
class Baby:
    age_months: float
    breath_hz_quiet_sleep: float  # regular breathing in quiet sleep
    breath_tilt_rad: float  # chest-wall tilt of the sensor per breath (peak)
    breath_disp_m: float  # chest-wall excursion along body z (peak)
    breath_axis: FloatArray  # body-frame tilt axis of breathing
    heart_hz: float
    cardiac_g: float  # ballistocardiographic micro-vibration on the chest
    vigour: float  # scales voluntary movement amplitudes
    lever_m: FloatArray  # hip pivot -> sensor, body frame: trunk bends turn about the hips
    looseness: float  # 0 tight band .. 1 loose band (wobble after jerks)
    prone_sleeper: bool
    hiccup_prone: float  # 0..1 how often hiccup bouts happen
    myoclonus_prone: float  # 0..1 benign sleep myoclonus (mostly < 3-4 months)


def draw_baby(rng: np.random.Generator) -> Baby:
    """A random infant aged 2-14 months (peak onset of infantile spasms is 4-8 months)."""
    age = float(rng.uniform(2.0, 14.0))
    # Fleming et al. 2011 centiles: median ~44/min at birth, ~35/min at 1 y;
    # quiet sleep sits near or below the median, so 25-55/min covers it.
    breaths_per_min = float(np.clip(rng.normal(46.0 - 1.0 * age, 6.0), 25.0, 60.0))
    axis = np.array([rng.normal(0.0, 0.3), rng.choice([-1.0, 1.0]), rng.normal(0.0, 0.2)])
    heart_bpm = float(np.clip(rng.normal(140.0 - 2.0 * age, 10.0), 95.0, 170.0))
    return Baby(
        age_months=age,
        breath_hz_quiet_sleep=breaths_per_min / 60.0,
        breath_tilt_rad=math.radians(float(rng.uniform(0.05, 0.4))),
        breath_disp_m=float(rng.uniform(0.0005, 0.0025)),
        breath_axis=unit(axis),
        heart_hz=heart_bpm / 60.0,
        cardiac_g=float(rng.uniform(0.0002, 0.0015)),
        vigour=float(rng.lognormal(0.0, 0.3)),
        lever_m=np.array([rng.uniform(0.06, 0.16), rng.normal(0.0, 0.01), rng.uniform(0.03, 0.07)]),
        looseness=float(rng.beta(1.5, 3.0)),
        prone_sleeper=bool(age > 5.0 and rng.uniform() < 0.3),
        hiccup_prone=float(rng.beta(2.0, 3.0) * (1.5 if age < 6 else 0.7)),
        myoclonus_prone=float(rng.beta(1.0, 4.0) * (2.0 if age < 4 else 0.5)),
    )
