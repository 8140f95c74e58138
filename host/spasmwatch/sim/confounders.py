"""Ordinary infant movements and handling that a spasm detector must not flag.

Each function adds its motions to the world and labels its span with the
``kind`` used in the ground truth. Numeric ranges and their sources are in
docs/simulator.md; where no source was found the range is marked there as a
guess.
"""

from __future__ import annotations

import math

import numpy as np

from spasmwatch.sim.movements import NoiseMotion, Oscillation, PulseTrain, Ramp, Transient
from spasmwatch.sim.rotation import FloatArray, unit
from spasmwatch.sim.world import World

rad = math.radians



def _horizontal(w: World) -> FloatArray:
    a = w.u(-math.pi, math.pi)
    return np.array([math.cos(a), math.sin(a), 0.0])


def _times(w: World, start: float, end: float, period_s: float, cv: float) -> FloatArray:
    """Quasi-periodic event times (period with log-normal jitter) within [start, end)."""
    n = int((end - start) / period_s * 1.5) + 2
    t = start + np.cumsum(period_s * w.rng.lognormal(0.0, cv, size=n))
    return t[t < end]


def _pulse_width(w: World, lo: float, hi: float) -> float:
    # A pulse narrower than ~2.5 samples would vanish between samples at low ODR.
    return max(w.u(lo, hi), 2.5 / w.rate_hz)


def fidget(w: World, start: float, end: float, level_deg: float) -> None:
    """Background irregular trunk motion of an awake or restless baby (unlabelled)."""
    if end - start < 2.0 or level_deg <= 0.0:
        return
    sigma = rad(level_deg) * w.baby.vigour * np.array([1.0, 1.0, 0.7])
    w.add(NoiseMotion(w.rng, start, end, w.u(0.2, 1.2), rot_sigma=sigma, acc_body_sigma=np.full(3, 0.003 * level_deg), ramp_s=2.0, hip=True))


def hiccups(w: World, start: float, end: float) -> None:
    """Diaphragm jerks every ~2-4 s: sharp, no tonic phase, quasi-periodic."""
    times = _times(w, start, end, w.u(1.5, 5.0), w.u(0.1, 0.3))
    if len(times) < 2:
        return
    n = len(times)
    direction = unit(np.array([-w.u(0.1, 0.6), w.rng.normal(0.0, 0.1), 1.0]))
    acc = direction * (w.u(0.03, 0.25) * w.rng.lognormal(0.0, 0.25, size=n))[:, None]
    axis = unit(np.array([w.rng.normal(0, 0.2), w.rng.choice([-1.0, 1.0]), w.rng.normal(0, 0.2)]))
    rot = axis * (rad(w.u(0.2, 1.5)) * w.rng.lognormal(0.0, 0.25, size=n))[:, None]
    w.add(PulseTrain(times, acc, rot, _pulse_width(w, 0.03, 0.07), w.u(0.2, 0.45)))
    w.breathe(start, end, irregular=0.3)
    w.label("hiccups", float(times[0]), float(times[-1]) + 0.5)


def startle(w: World, t: float) -> float:
    """Moro/startle: abrupt extension with arms thrown out, then embrace and relax."""
    moro = 1.0 if w.baby.age_months < 5.0 else 0.6  # the Moro reflex fades by 4-6 months
    amp = rad(w.u(4.0, 20.0) * w.baby.vigour * moro)
    axis = unit(np.array([w.rng.normal(0, 0.2), 1.0, w.rng.normal(0, 0.2)]))
    rise, hold, release = w.u(0.08, 0.2), w.u(0.1, 0.4), w.u(0.3, 1.0)
    w.add(Ramp(t, [(rise, 1.0), (hold, w.u(0.3, 0.8)), (release, 0.0)], axis * amp))
    w.add(Ramp(t + rise + hold, [(w.u(0.2, 0.4), 1.0), (w.u(0.2, 0.6), 0.0)], -axis * amp * w.u(0.1, 0.4)))
    jolt = unit(w.rng.normal(size=3)) * w.u(0.08, 0.4) * w.baby.vigour
    w.add(Transient(t + 0.5 * rise, min(w.u(3.0, 7.0), w.max_hz), w.u(0.06, 0.15), acc_body=jolt))
    end = t + rise + hold + release + 0.4
    w.label("startle", t, end)
    return end


def patting(w: World, start: float, end: float, burping: bool = False) -> None:
    """Pats on the back push the trunk forward (+z) 1-3 times a second."""
    period = 1.0 / (w.u(0.7, 1.5) if burping else w.u(1.0, 3.0))
    times = _times(w, start, end, period, 0.1)
    if len(times) == 0:
        return
    n = len(times)
    direction = unit(np.array([w.rng.normal(0, 0.2), w.rng.normal(0, 0.2), 1.0]))
    acc = direction * (w.u(0.08, 0.5) * w.rng.lognormal(0.0, 0.2, size=n))[:, None]
    rot = np.array([0.0, 1.0, 0.0]) * (rad(w.u(0.2, 1.5)) * np.ones(n))[:, None]
    w.add(PulseTrain(times, acc, rot, _pulse_width(w, 0.025, 0.06), w.u(0.15, 0.3)))
    w.label("patting", start, end)


def rocking(w: World, start: float, end: float) -> None:
    """Rocked in arms or a chair: slow swaying rotation and translation."""
    f = w.u(0.3, 1.0)
    axis = unit(w.rng.normal(size=3))
    translation_m = w.u(0.03, 0.15)
    acc = _horizontal(w) * translation_m * (2 * math.pi * f) ** 2 / 9.80665
    w.add(Oscillation(w.rng, start, end, f, axis * rad(w.u(3.0, 12.0)), acc_world_amp=acc, harmonics=(1.0, 0.15), ramp_s=3.0))
    w.label("rocking", start, end)


def bouncing(w: World, start: float, end: float) -> None:
    """Bounced on a knee or a gym ball: vertical 1.2-2.6 Hz."""
    f = w.u(1.2, 2.6)
    acc = np.array([0.0, 0.0, w.u(0.1, 0.5)])
    w.add(Oscillation(w.rng, start, end, f, np.array([0.0, 1.0, 0.0]) * rad(w.u(0.5, 3.0)), acc_world_amp=acc, harmonics=(1.0, 0.3, 0.1), ramp_s=1.5))
    w.label("bouncing", start, end)


def carrying(w: World, start: float, end: float) -> None:
    """Carried by a walking adult: step rhythm vertical, half-step sway, turns."""
    f = w.u(1.5, 2.2)
    vertical = np.array([0.0, 0.0, w.u(0.06, 0.25)])
    w.add(Oscillation(w.rng, start, end, f, np.array([0.0, 1.0, 0.0]) * rad(w.u(0.5, 2.0)), acc_world_amp=vertical, harmonics=(1.0, 0.3)))
    sway = _horizontal(w) * w.u(0.02, 0.08)
    w.add(Oscillation(w.rng, start, end, f / 2, np.array([1.0, 0.0, 0.0]) * rad(w.u(1.0, 3.0)), acc_world_amp=sway))
    w.add(NoiseMotion(w.rng, start, end, 0.05, yaw_sigma=w.u(0.5, 1.5), ramp_s=5.0))
    w.label("carrying", start, end)


def _bumps(w: World, start: float, end: float, per_min: float, size_g: float) -> None:
    n = int(w.rng.poisson(per_min * (end - start) / 60.0))
    for t in np.sort(w.rng.uniform(start, end, size=n)):
        mag = size_g * float(w.rng.lognormal(0.0, 0.5))
        w.add(Transient(float(t), min(w.u(1.0, 2.5), w.max_hz), w.u(0.15, 0.5), acc_world=np.array([0.0, 0.0, mag])))
        jolt = np.array([0.0, 0.0, mag]) + 0.3 * mag * _horizontal(w)
        w.add(Transient(float(t), min(w.u(8.0, 15.0), w.max_hz), 0.03, acc_world=jolt))


def _vehicle(w: World, start: float, end: float, vib_g: float, vib_hz: float, drive_g: float) -> None:
    vertical_heavy = np.array([0.4, 0.4, 1.0])
    w.add(NoiseMotion(w.rng, start, end, min(vib_hz, w.max_hz), acc_world_sigma=vertical_heavy * vib_g, rot_sigma=np.full(3, rad(w.u(0.01, 0.05))), ramp_s=3.0))
    w.add(NoiseMotion(w.rng, start, end, w.u(0.05, 0.2), acc_world_sigma=np.array([1.0, 1.0, 0.1]) * drive_g, ramp_s=5.0))
    w.add(NoiseMotion(w.rng, start, end, 0.03, yaw_sigma=w.u(0.5, 2.0), ramp_s=10.0))
    w.add(NoiseMotion(w.rng, start, end, w.u(0.3, 1.0), rot_sigma=np.full(3, rad(w.u(0.3, 1.5))), ramp_s=3.0))  # sway in the seat


def car(w: World, start: float, end: float) -> None:
    """Car seat ride: road vibration, braking/turning, bumps and potholes."""
    _vehicle(w, start, end, w.u(0.01, 0.05), w.u(8.0, 25.0), w.u(0.04, 0.12))
    _bumps(w, start, end, w.u(0.3, 3.0), w.u(0.1, 0.5))
    w.label("car", start, end)


def stroller(w: World, start: float, end: float) -> None:
    """Pushed in a stroller: rough-surface vibration, walking rhythm, kerbs."""
    _vehicle(w, start, end, w.u(0.02, 0.1), w.u(10.0, 30.0), w.u(0.02, 0.06))
    push = np.array([0.0, 0.0, w.u(0.01, 0.04)])
    w.add(Oscillation(w.rng, start, end, w.u(1.6, 2.1), np.zeros(3), acc_world_amp=push))
    _bumps(w, start, end, w.u(0.2, 2.0), w.u(0.2, 1.0))
    w.label("stroller", start, end)


def swing(w: World, start: float, end: float) -> None:
    """Baby swing: pendulum 0.4-0.7 Hz, the seat tilting +-8-20 deg."""
    f = w.u(0.4, 0.7)
    angle = rad(w.u(8.0, 20.0))
    axis = unit(np.array([w.rng.normal(0, 0.3), 1.0, w.rng.normal(0, 0.3)]))
    acc = _horizontal(w) * angle * w.u(0.5, 1.0) * (2 * math.pi * f) ** 2 / 9.80665
    w.add(Oscillation(w.rng, start, end, f, axis * angle, acc_world_amp=acc, freq_wander=0.01, am_depth=0.05, ramp_s=8.0))
    w.label("swing", start, end)


def feeding(w: World, start: float, end: float) -> None:
    """Breast or bottle feed: sucking bursts (~1-2 Hz) separated by pauses."""
    t = start
    while t < end - 3.0:
        burst = min(w.u(5.0, 25.0), end - t)
        amp_acc = np.array([0.3, 0.0, 1.0]) * w.u(0.003, 0.02)
        w.add(Oscillation(w.rng, t, t + burst, w.u(0.8, 2.0), np.array([0.0, 1.0, 0.0]) * rad(w.u(0.1, 0.5)), acc_body_amp=amp_acc, ramp_s=0.5))
        t += burst + w.u(2.0, 10.0)
    fidget(w, start, end, 0.5)
    w.breathe(start, end, irregular=0.3)
    w.label("feeding", start, end)


def kicking(w: World, start: float, end: float) -> None:
    """Alternating leg kicks push the pelvis and rock the trunk."""
    times = _times(w, start, end, 1.0 / w.u(0.8, 2.0), 0.2)
    if len(times) == 0:
        return
    n = len(times)
    alternate = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    acc = np.array([1.0, 0.0, 0.3]) * (w.u(0.03, 0.2) * w.baby.vigour * w.rng.lognormal(0.0, 0.3, size=n))[:, None]
    rot = np.array([0.0, 0.4, 1.0]) * (rad(w.u(0.5, 3.0)) * alternate)[:, None]
    w.add(PulseTrain(times, acc, rot, _pulse_width(w, 0.06, 0.15), w.u(0.3, 0.6)))
    w.label("kicking", start, end)


def crying(w: World, start: float, end: float, intensity: float = 1.0) -> None:
    """Crying bout: sob rhythm, thrashing, deep fast breathing, kicks (``intensity`` < 1: fussing)."""
    axis = unit(np.array([w.rng.normal(0, 0.3), 1.0, w.rng.normal(0, 0.3)]))
    sob = np.array([0.2, 0.0, 1.0]) * w.u(0.02, 0.08) * intensity
    ramp = min(2.0, 0.3 * (end - start))
    w.add(Oscillation(w.rng, start, end, w.u(0.5, 1.3), axis * rad(w.u(1.0, 4.0) * intensity), acc_body_amp=sob, harmonics=(1.0, 0.4, 0.2), am_depth=0.5, ramp_s=ramp))
    vig = w.baby.vigour * intensity
    w.add(NoiseMotion(w.rng, start, end, w.u(1.0, 4.0), rot_sigma=np.full(3, rad(w.u(2.0, 6.0) * vig)), acc_body_sigma=np.full(3, w.u(0.02, 0.08) * vig), ramp_s=ramp))
    w.breathe(start, end, rate=1.4, depth=1.0 + 1.5 * intensity, irregular=0.6)
    w.label("crying", start, end)
    if end - start > 10.0 and intensity >= 1.0 and w.chance(0.6):
        k0 = w.u(start, end - 5.0)
        kicking(w, k0, min(end, k0 + w.u(5.0, 30.0)))


def sleep_twitches(w: World, start: float, end: float, per_min: float) -> None:
    """Active-sleep twitches: single or in short bursts, tiny on the trunk."""
    n_bursts = int(w.rng.poisson(per_min * (end - start) / 60.0))
    for t0 in np.sort(w.rng.uniform(start, max(start, end - 5.0), size=n_bursts)):
        count = 1 + int(w.rng.poisson(w.u(0.0, 4.0)))
        times = float(t0) + np.sort(w.rng.uniform(0.0, w.u(0.3, 5.0), size=count))
        acc = w.rng.normal(size=(count, 3)) * w.u(0.005, 0.04)
        rot = w.rng.normal(size=(count, 3)) * rad(w.u(0.05, 0.8))
        w.add(PulseTrain(times, acc, rot, _pulse_width(w, 0.03, 0.08), w.u(0.15, 0.3)))
        w.label("sleep_twitch", float(times[0]), float(times[-1]) + 0.3)


def sleep_myoclonus(w: World, start: float, end: float) -> None:
    """Benign sleep myoclonus: bursts of 1-5 Hz jerks over seconds, repeating."""
    direction = unit(w.rng.normal(size=3))
    axis = unit(w.rng.normal(size=3))
    jerk_g, jerk_deg = w.u(0.02, 0.15), w.u(0.3, 3.0)
    t = start
    while t < end:
        count = int(w.rng.integers(3, 16))
        times = t + np.arange(count) / w.u(1.0, 5.0) + w.rng.normal(0.0, 0.03, size=count)
        scale = w.rng.lognormal(0.0, 0.3, size=count)[:, None]
        w.add(PulseTrain(times, direction * jerk_g * scale, axis * rad(jerk_deg) * scale, _pulse_width(w, 0.03, 0.1), w.u(0.15, 0.3)))
        t = float(times.max()) + w.u(3.0, 60.0)
    w.label("sleep_myoclonus", start, min(end, t))


def rolling(w: World, t: float) -> float:
    """Rolling over (supine <-> prone, or onto a side) over 1.5-4 s."""
    angle = float(w.rng.choice([-1.0, 1.0])) * (math.pi if w.chance(0.6) else math.pi / 2)
    duration = w.u(1.5, 4.0)
    begin = max(t, w.postures.busy_until)
    end = w.roll(begin, angle, duration)
    w.add(NoiseMotion(w.rng, begin - 0.5, end + 0.5, 1.5, rot_sigma=np.full(3, rad(3.0)), acc_body_sigma=np.full(3, 0.03), ramp_s=0.5))
    w.label("rolling", begin - 0.5, end + 0.5)
    return end + 0.5


def reflux_arching(w: World, t: float) -> float:
    """Sandifer-like arching after feeds: slow extension held for seconds to a minute."""
    axis = unit(np.array([w.rng.normal(0, 0.3), 1.0, w.u(-0.5, 0.5)]))
    segments = [(w.u(0.5, 2.0), 1.0), (w.u(3.0, 90.0), w.u(0.7, 1.0)), (w.u(1.0, 3.0), 0.0)]
    arch = Ramp(t, segments, axis * rad(w.u(10.0, 35.0)))
    w.add(arch, NoiseMotion(w.rng, t, arch.end, 0.5, rot_sigma=np.full(3, rad(1.5)), ramp_s=1.0))
    w.label("reflux_arching", t, arch.end)
    return arch.end


def head_lifting(w: World, start: float, end: float) -> None:
    """Tummy time: repeated push-ups (trunk extension) held for seconds."""
    t = start + w.u(0.5, 5.0)
    while t < end - 4.0:
        segments = [(w.u(0.4, 1.2), 1.0), (w.u(1.0, 8.0), w.u(0.6, 1.0)), (w.u(0.4, 1.2), 0.0)]
        lift = Ramp(t, segments, np.array([0.0, 1.0, w.rng.normal(0, 0.2)]) * rad(w.u(5.0, 20.0)))
        w.add(lift)
        t = lift.end + w.u(1.0, 10.0)
    w.label("head_lifting", start, end)


def taps(w: World, t: float) -> float:
    """Three firm taps of a finger on the band, the video's sync mark (docs/real-recordings.md):
    each a spike of 2-6 g into the chest (a 3-8 g pulse, PulseTrain peaks at ~0.7 of it) lasting 15-30 ms, 0.3-0.6 s apart, the trunk barely
    moved. Returns when the last tap has rung out."""
    times = t + np.concatenate([[0.0], np.cumsum([w.u(0.3, 0.6), w.u(0.3, 0.6)])])
    direction = unit(np.array([w.rng.normal(0, 0.15), w.rng.normal(0, 0.15), -1.0]))  # pressed in
    acc = direction * np.array([w.u(3.0, 8.0) for _ in times])[:, None]
    rot = unit(w.rng.normal(size=3)) * rad(w.u(0.1, 0.5)) * np.ones((3, 1))
    w.add(PulseTrain(times, acc, rot, _pulse_width(w, 0.015, 0.03), 0.1))
    end = float(times[-1]) + 0.2
    w.label("tap", t, end)
    return end


def diaper_change(w: World, start: float, end: float) -> None:
    """Changing: legs lifted (trunk tilts), wiping, turning; lots of handling."""
    w.add(NoiseMotion(w.rng, start, end, w.u(0.5, 2.0), rot_sigma=np.full(3, rad(w.u(3.0, 8.0))), acc_body_sigma=np.full(3, 0.03), ramp_s=1.0))
    t = start + w.u(2.0, 10.0)
    while t < end - 6.0:
        lift = Ramp(t, [(w.u(0.5, 1.5), 1.0), (w.u(1.0, 5.0), 1.0), (w.u(0.5, 1.5), 0.0)], np.array([0.0, -1.0, 0.0]) * rad(w.u(5.0, 20.0)))
        w.add(lift)
        t = lift.end + w.u(3.0, 20.0)
    w.label("diaper_change", start, end)
