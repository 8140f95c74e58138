"""Movements that are not spasms (the confounders), each labelled in the
truth with its kind. Amplitudes are trunk rotation (deg) and sensor-site
acceleration (g); sizes are order-of-magnitude estimates, see docs/altsim.md."""

from __future__ import annotations

import numpy as np

from tools.altsim.motion import taper
from tools.altsim.rot import Arr
from tools.altsim.shapes import add_at, add_pulses, band_noise, bump, jolt, poisson_times, smoothstep
from tools.altsim.world import Pose, Recording, Segment

# ---------------------------------------------------------------- helpers


def _unit(v: Arr) -> Arr:
    return v / np.linalg.norm(v)


def _rand_dir(rng: np.random.Generator, main: Arr, spread: float) -> Arr:
    return _unit(main + rng.normal(0, spread, 3))


def _pulse_rot(rec: Recording, times: Arr, amps_deg: Arr, axes: Arr, width_s: Arr | float) -> None:
    """Brief out-and-back trunk rotations (raised-cosine bumps)."""
    widths = np.broadcast_to(np.asarray(width_s, dtype=float), times.shape)
    for t, a, ax, w in zip(times, amps_deg, axes, widths):
        k = bump(max(3, int(w * rec.rate)))
        i0 = rec.tracks.idx(t)
        for j in range(3):
            add_at(rec.tracks.theta[:, j], i0, np.radians(a) * ax[j] * k)


def _pulse_acc(rec: Recording, dst: Arr, times: Arr, vecs: Arr, width_s: float) -> None:
    k = jolt(rec.rate, width_s)
    idx = np.round(times * rec.rate) - len(k) // 2
    add_pulses(dst, idx, vecs, k)


def _profile(rate: float, rise: float, hold: float, fall: float) -> Arr:
    """0 -> 1 (rise), hold, 1 -> 0 (fall), smooth."""
    r = smoothstep(np.arange(int(rise * rate)) / max(rise * rate, 1))
    f = 1 - smoothstep(np.arange(int(fall * rate)) / max(fall * rate, 1))
    return np.concatenate([r, np.ones(int(hold * rate)), f])


def _add_rot(rec: Recording, t: float, axis: Arr, deg_profile: Arr) -> None:
    i0 = rec.tracks.idx(t)
    for j in range(3):
        add_at(rec.tracks.theta[:, j], i0, np.radians(deg_profile) * axis[j])


# ---------------------------------------------------------------- brief events


def startle(rec: Recording, t: float) -> None:
    """Moro reflex / startle: arms fling out, trunk and neck extend in a jolt,
    then return within about a second, no held posture."""
    rng = rec.rng
    amp = rng.uniform(3, 10) * rec.baby.vigour
    prof = _profile(rec.rate, rng.uniform(0.08, 0.2), rng.uniform(0.0, 0.15), rng.uniform(0.3, 0.6))
    _add_rot(rec, t, _rand_dir(rng, np.array([0.0, 1.0, 0.0]), 0.15), amp * prof)
    _pulse_acc(rec, rec.tracks.acc_b, np.array([t + 0.05]), rng.uniform(0.1, 0.4) * _rand_dir(rng, np.array([0.5, 0, -1.0]), 0.3)[None], 0.03)
    rec.label("moro" if rec.baby.moro else "startle", t, t + len(prof) / rec.rate)


def hiccups(rec: Recording, start: float, dur: float) -> None:
    """A hiccup bout: sharp diaphragm jerks every 2-4 s, no tonic phase."""
    rng = rec.rng
    period = rng.uniform(2.0, 4.0)
    times = start + np.cumsum(period * rng.lognormal(0, 0.15, int(dur / period) + 1))
    times = times[times < start + dur]
    if not len(times):
        return
    k = len(times)
    dirs = np.array([_rand_dir(rng, np.array([-0.4, 0.0, 1.0]), 0.2) for _ in range(k)])
    _pulse_acc(rec, rec.tracks.acc_b, times, rng.uniform(0.02, 0.12) * dirs * rng.lognormal(0, 0.2, (k, 1)), rng.uniform(0.015, 0.03))
    axes = np.tile([0.0, -1.0, 0.0], (k, 1))
    _pulse_rot(rec, times, rng.uniform(0.2, 1.0) * rng.lognormal(0, 0.2, k), axes, 0.15)
    rec.label("hiccups", start, times[-1] + 0.3, count=k)


def crying(rec: Recording, start: float, dur: float) -> None:
    """Crying: irregular 0.5-2 s expiratory bursts with trunk tensing,
    gasping breaths between, limbs flailing."""
    rng, tr = rec.rng, rec.tracks
    t = start
    while t < start + dur:
        burst = rng.uniform(0.5, 2.0)
        axis = _rand_dir(rng, np.array([0.0, rng.choice([-1.0, 1.0]), 0.0]), 0.5)
        amp = rng.uniform(1, 6) * rec.baby.vigour
        prof = _profile(tr.rate, rng.uniform(0.15, 0.5), burst * 0.5, rng.uniform(0.2, 0.6))
        wobble = 1 + 0.15 * band_noise(rng, len(prof), tr.rate, 1, 4)
        _add_rot(rec, t, axis, amp * prof * wobble)
        _pulse_acc(rec, tr.acc_b, t + rng.uniform(0, burst, 3), rng.normal(0, 0.05, (3, 3)), 0.04)
        t += burst + rng.uniform(0.3, 1.2)
    sl = tr.span(start, start + dur)
    m = sl.stop - sl.start
    if m > 16:
        w = taper(m, tr.rate) * np.radians(rng.uniform(0.5, 2))
        for j in range(3):
            tr.theta[sl, j] += w * band_noise(rng, m, tr.rate, 0.3, 2.0)
    rec.label("crying", start, start + dur)


def kicking(rec: Recording, start: float, dur: float) -> None:
    """A bout of leg kicks while awake: each kick cycle (0.3-0.8 s, flexion
    then extension of a leg) tilts the pelvis and jolts the trunk along its
    long axis; kicks follow each other every 0.5-1.5 s or so."""
    rng = rec.rng
    times = poisson_times(rng, start, start + dur, rng.uniform(0.6, 2.0), 0.3)
    k = len(times)
    if not k:
        return
    side = rng.choice([-1.0, 1.0], k)
    axes = np.stack([0.4 * side, -np.ones(k), 0.3 * side], axis=1)
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    _pulse_rot(rec, times, rng.uniform(0.5, 4.0, k) * rec.baby.vigour, axes, rng.uniform(0.3, 0.8, k))
    vecs = np.stack([rng.uniform(0.05, 0.3, k), rng.normal(0, 0.05, k), rng.normal(0, 0.08, k)], axis=1)
    _pulse_acc(rec, rec.tracks.acc_b, times + 0.05, -vecs, 0.05)
    rec.label("kicking", start, start + dur, count=k)


def twitches(rec: Recording, start: float, end: float) -> None:
    """Active-sleep twitches: isolated brief jerks (< 0.3 s) of limbs and
    trunk, often a few in quick succession."""
    rng = rec.rng
    seeds = poisson_times(rng, start, end, rng.uniform(2, 8) / 60.0)
    followers = seeds[rng.random(len(seeds)) < 0.4]
    times = np.sort(np.concatenate([seeds, followers + rng.uniform(0.3, 1.5, len(followers))]))
    times = times[times < end - 0.5]
    k = len(times)
    if not k:
        return
    axes = rng.normal(0, 1, (k, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    _pulse_rot(rec, times, rng.uniform(0.2, 2.0, k), axes, rng.uniform(0.08, 0.25, k))
    _pulse_acc(rec, rec.tracks.acc_b, times, rng.normal(0, 0.03, (k, 3)), 0.025)
    rec.label("sleep_twitches", start, end, count=k)


def sleep_myoclonus(rec: Recording, start: float) -> float:
    """Benign sleep myoclonus: in quiet sleep, bursts of several seconds of
    rhythmic brief jerks (1-5 Hz, each < 0.3 s); bursts may recur for
    minutes. Returns the episode end."""
    rng = rec.rng
    t = start
    axis0 = _rand_dir(rng, np.array([0.0, -1.0, 0.0]), 0.4)
    for _ in range(int(rng.integers(1, 8))):
        burst = rng.uniform(3, 15)
        hz = rng.uniform(1, 5)
        times = t + np.cumsum(rng.lognormal(0, 0.2, int(burst * hz) + 1) / hz)
        times = times[times < t + burst]
        k = len(times)
        if k:
            axes = np.array([_rand_dir(rng, axis0, 0.2) for _ in range(k)])
            _pulse_rot(rec, times, rng.uniform(1, 6) * rng.lognormal(0, 0.3, k), axes, rng.uniform(0.05, 0.25, k))
            _pulse_acc(rec, rec.tracks.acc_b, times, rng.uniform(0.05, 0.3) * axes[:, [2, 0, 1]] * rng.lognormal(0, 0.3, (k, 1)), 0.03)
            rec.label("sleep_myoclonus", t, t + burst, count=k)
        t += burst + rng.uniform(10, 60)
    return t


def reflux_arching(rec: Recording, t: float) -> None:
    """Sandifer-like arching after a feed: back extension with the head
    turned, held 5-30 s with writhing, slow onset and return."""
    rng = rec.rng
    hold = rng.uniform(5, 30)
    prof = _profile(rec.rate, rng.uniform(1, 3), hold, rng.uniform(1, 3))
    writhe = 1 + 0.2 * band_noise(rng, len(prof), rec.rate, 0.15, 0.6)
    axis = _unit(np.array([rng.uniform(-0.5, 0.5), 1.0, rng.uniform(-0.5, 0.5)]))
    _add_rot(rec, t, axis, rng.uniform(10, 30) * prof * writhe)
    rec.label("reflux_arching", t, t + len(prof) / rec.rate)


def posture_change(rec: Recording, t: float, pose: Pose, new: Pose, kind: str) -> None:
    """Rolling over or a gross body movement: the posture changes and stays."""
    rng = rec.rng
    dur = rng.uniform(1.0, 3.0)
    rec.posture.add(t, dur, new.quat())
    n = int(dur * rec.rate) + 16
    w = taper(n, rec.rate, 0.3) * np.radians(rng.uniform(2, 6))
    i0 = rec.tracks.idx(t)
    for j in range(3):
        add_at(rec.tracks.theta[:, j], i0, w * band_noise(rng, n, rec.rate, 0.5, 3.0))
    _pulse_acc(rec, rec.tracks.acc_b, t + rng.uniform(0, dur, 3), rng.normal(0, 0.1, (3, 3)), 0.05)
    rec.label(kind, t, t + dur)


def handling(rec: Recording, t: float, pose: Pose, lift: float) -> float:
    """Picking the baby up / putting down / handing over: a posture
    transition with a vertical lift (``lift`` = +1 up, -1 down, 0 level)."""
    rng, tr = rec.rng, rec.tracks
    dur = rng.uniform(2.0, 5.0)
    rec.posture.add(t, dur, pose.quat())
    n = int(dur * tr.rate)
    a = lift * rng.uniform(0.1, 0.3) * np.sin(2 * np.pi * np.arange(n) / max(n, 1))
    add_at(tr.acc_w[:, 2], tr.idx(t), a)
    m = n + 16
    w = taper(m, tr.rate, 0.3)
    for j in range(3):
        add_at(tr.theta[:, j], tr.idx(t), np.radians(rng.uniform(1, 4)) * w * band_noise(rng, m, tr.rate, 0.3, 3.0))
        add_at(tr.acc_h[:, j], tr.idx(t), rng.uniform(0.02, 0.08) * w * band_noise(rng, m, tr.rate, 0.3, 4.0))
    rec.label("handling", t, t + dur)
    return dur


def band_off(rec: Recording, seg: Segment, table_q: Arr, back_q: Arr) -> None:
    """The band is taken off and laid still (``table_q``): handling, then
    nothing; at the end it is put back on (``back_q``)."""
    rng, tr = rec.rng, rec.tracks
    for t0, q, d in ((seg.start, table_q, rng.uniform(4, 12)), (seg.end - 8.0, back_q, rng.uniform(4, 8))):
        rec.posture.add(t0, d, q)
        m = int(d * tr.rate)
        w = taper(m, tr.rate, 0.5)
        for j in range(3):
            add_at(tr.theta[:, j], tr.idx(t0), np.radians(10) * w * band_noise(rng, m, tr.rate, 0.2, 2.0))
            add_at(tr.acc_w[:, j], tr.idx(t0), 0.08 * w * band_noise(rng, m, tr.rate, 0.3, 4.0))
    rec.label("band_off", seg.start, seg.end)


# ---------------------------------------------------------------- ongoing activities


def patting(rec: Recording, seg: Segment) -> None:
    """Burping: the baby upright on a shoulder, patted on the back at 1-3 Hz
    in bouts."""
    rng = rec.rng
    t = seg.start + rng.uniform(2, 10)
    while t < seg.end - 5:
        dur = min(rng.uniform(10, 90), seg.end - t - 2)
        hz = rng.uniform(1, 3)
        times = t + np.cumsum(rng.lognormal(0, 0.1, int(dur * hz) + 1) / hz)
        times = times[times < t + dur]
        k = len(times)
        force = rng.uniform(0.1, 0.6)
        dirs = np.array([_rand_dir(rng, np.array([0.0, 0.0, 1.0]), 0.2) for _ in range(k)])
        _pulse_acc(rec, rec.tracks.acc_b, times, force * dirs * rng.lognormal(0, 0.15, (k, 1)), rng.uniform(0.012, 0.03))
        _pulse_rot(rec, times, rng.uniform(0.3, 1.5) * np.ones(k), np.tile([0.0, -1.0, 0.0], (k, 1)), 0.15)
        rec.label("patting", t, t + dur, hz=round(hz, 2))
        t += dur + rng.uniform(5, 30)


def feeding(rec: Recording, seg: Segment) -> None:
    """Breast or bottle feed, held reclined: bursts of rhythmic sucking
    (about 1 Hz) with pauses; tiny jaw/neck and trunk motion."""
    rng = rec.rng
    t = seg.start + rng.uniform(5, 20)
    while t < seg.end - 5:
        hz = rng.uniform(0.8, 1.8)
        n = int(rng.integers(5, 30))
        times = t + np.arange(n) / hz * rng.lognormal(0, 0.03, n)
        times = times[times < seg.end - 1]
        k = len(times)
        _pulse_rot(rec, times, rng.uniform(0.1, 0.4) * np.ones(k), np.tile([0.0, -1.0, 0.2], (k, 1)), 0.5 / hz)
        _pulse_acc(rec, rec.tracks.acc_b, times, rng.uniform(0.005, 0.02) * np.tile([0.6, 0.0, 0.8], (k, 1)), 0.08)
        t = (times[-1] if k else t) + rng.uniform(2, 15)
    rec.label("feeding", seg.start, seg.end)


def rocking(rec: Recording, seg: Segment) -> None:
    """Rocked in arms: a 0.3-1 Hz swing about a horizontal axis with the
    matching sideways pendulum acceleration."""
    rng, tr = rec.rng, rec.tracks
    sl = tr.span(seg.start, seg.end)
    m = sl.stop - sl.start
    if m < 16:
        return
    f = rng.uniform(0.3, 1.0) * (1 + 0.08 * band_noise(rng, m, tr.rate, 0.005, 0.05))
    ph = 2 * np.pi * np.cumsum(f) / tr.rate
    amp = np.radians(rng.uniform(5, 15)) * taper(m, tr.rate, 5.0) * np.exp(0.2 * band_noise(rng, m, tr.rate, 0.01, 0.1))
    ang = amp * np.sin(ph)
    h = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(h), np.sin(h), 0.0])
    perp = np.array([-np.sin(h), np.cos(h), 0.0])
    tr.rock[sl] += ang[:, None] * axis
    lever = rng.uniform(0.3, 0.6)
    lat = -((2 * np.pi * f) ** 2) * lever * ang / 9.81
    tr.acc_w[sl] += lat[:, None] * perp
    tr.acc_w[sl, 2] += 0.5 * ((2 * np.pi * f) ** 2) * lever * ang**2 / 9.81
    rec.label("rocking", seg.start, seg.end, hz=round(float(np.mean(f)), 2))


def bouncing(rec: Recording, seg: Segment) -> None:
    """Bounced on a knee, a ball or in a bouncer: 1-2.2 Hz vertical motion in
    bouts, the trunk nodding with it."""
    rng, tr = rec.rng, rec.tracks
    t = seg.start + rng.uniform(1, 5)
    while t < seg.end - 10:
        dur = min(rng.uniform(20, 180), seg.end - t - 2)
        sl = tr.span(t, t + dur)
        m = sl.stop - sl.start
        f = rng.uniform(1.0, 2.2) * (1 + 0.05 * band_noise(rng, m, tr.rate, 0.01, 0.2))
        ph = 2 * np.pi * np.cumsum(f) / tr.rate
        w = taper(m, tr.rate, 2.0)
        a = rng.uniform(0.1, 0.4) * w
        tr.acc_w[sl, 2] += a * (np.sin(ph) + 0.3 * np.sin(2 * ph + rng.uniform(0, 6)))
        tr.rock[sl, 0] += np.radians(rng.uniform(1, 3)) * w * np.sin(ph + rng.uniform(0, 6))
        rec.label("bouncing", t, t + dur, hz=round(float(np.mean(f)), 2))
        t += dur + rng.uniform(10, 60)


def walking(rec: Recording, seg: Segment) -> None:
    """Carried by a walking adult: steps at about 2 Hz (vertical), sway at
    the stride rate (sideways), turns, and standing pauses."""
    rng = rec.rng
    t = seg.start
    while t < seg.end - 5:
        dur = min(rng.uniform(10, 90), seg.end - t)
        _walk_bout(rec, t, dur)
        t += dur + rng.uniform(3, 40)
    rec.label("carried", seg.start, seg.end)


def _walk_bout(rec: Recording, t: float, dur: float) -> None:
    rng, tr = rec.rng, rec.tracks
    sl = tr.span(t, t + dur)
    m = sl.stop - sl.start
    if m < 16:
        return
    f = rng.uniform(1.6, 2.2) * (1 + 0.04 * band_noise(rng, m, tr.rate, 0.02, 0.3))
    ph = 2 * np.pi * np.cumsum(f) / tr.rate
    w = taper(m, tr.rate, 1.5)
    av, al = rng.uniform(0.08, 0.25), rng.uniform(0.03, 0.08)
    tr.acc_h[sl, 2] += av * w * (np.sin(ph) + 0.35 * np.sin(2 * ph + 1.0))
    tr.acc_h[sl, 1] += al * w * np.sin(ph / 2)
    tr.acc_h[sl, 0] += 0.05 * w * np.sin(ph + 0.7)
    tr.rock[sl, 0] += np.radians(rng.uniform(0.5, 2)) * w * np.sin(ph / 2)
    tr.rock[sl, 1] += np.radians(rng.uniform(0.5, 2)) * w * np.sin(ph + 0.3)
    for tc in poisson_times(rng, t, t + dur - 3, 1 / 12.0):
        angle = rng.uniform(30, 180)
        _turn(rec, tc, np.radians(angle) * rng.choice([-1, 1]), rng.uniform(0.6, 1.2) + angle / 120)


def _turn(rec: Recording, t: float, angle: float, dur: float) -> Arr:
    k = bump(max(3, int(dur * rec.rate)))
    rate = angle * k / (k.sum() / rec.rate)
    add_at(rec.tracks.yaw_rate, rec.tracks.idx(t), rate)
    out: Arr = rate
    return out


def vehicle(rec: Recording, seg: Segment, car: bool) -> None:
    """Car ride or stroller walk: road vibration, bumps, speed changes,
    turns (yaw plus centripetal acceleration), stops."""
    rng, tr = rec.rng, rec.tracks
    sl = tr.span(seg.start, seg.end)
    m = sl.stop - sl.start
    if m < 64:
        return
    speed = _speed_profile(rec, m, car)
    moving = np.clip(speed / (10.0 if car else 1.2), 0, 1.5)
    w = taper(m, tr.rate, 3.0)
    vib = rng.uniform(0.01, 0.05) if car else rng.uniform(0.03, 0.1)
    lo, hi = (3.0, 18.0) if car else (4.0, 15.0)
    for j, s in enumerate((0.4, 0.4, 1.0)):
        tr.acc_w[sl, j] += s * vib * moving**0.7 * w * band_noise(rng, m, tr.rate, lo, hi)
    if car:  # engine idle
        tr.acc_w[sl, 2] += 0.003 * w * band_noise(rng, m, tr.rate, 12.0, 20.0)
    tr.acc_h[sl, 0] += np.gradient(speed, 1 / tr.rate) / 9.81 * w
    tr.rock[sl, 0] += np.radians(rng.uniform(0.3, 1.0)) * moving * w * band_noise(rng, m, tr.rate, 0.5, 3.0)
    tr.rock[sl, 1] += np.radians(rng.uniform(0.3, 1.0)) * moving * w * band_noise(rng, m, tr.rate, 0.5, 3.0)
    _bumps(rec, seg, speed, car)
    _turns(rec, seg, speed, car)
    if not car:
        ph = 2 * np.pi * rng.uniform(1.6, 2.0) * np.arange(m) / tr.rate
        tr.acc_h[sl, 0] += 0.02 * np.minimum(moving, 1) * w * np.sin(ph)
    rec.label("car" if car else "stroller", seg.start, seg.end)


def _speed_profile(rec: Recording, m: int, car: bool) -> Arr:
    """Speed (m/s): cruising spells and stops, smoothed into accelerations."""
    rng, rate = rec.rng, rec.rate
    levels: list[float] = []
    edges, t, total = [0.0], 0.0, m / rate
    while t < total:
        go = rng.uniform(5, 20) if car else rng.uniform(0.8, 1.5)
        moving = rng.random() < 0.8 or not levels
        levels.append(go if moving else 0.0)
        t += rng.uniform(30, 300) if moving else rng.uniform(10, 60)
        edges.append(t)
    x = np.arange(m) / rate
    lv = np.asarray(levels)
    v: Arr = lv[np.searchsorted(np.asarray(edges), x, side="right") - 1]
    # smoothing over 2 * jump / a_max keeps accelerating and braking gentle
    a_max = rng.uniform(1.2, 2.5) if car else 0.5
    jump = float(np.max(np.abs(np.diff(np.concatenate([[0.0], lv, [0.0]])))))
    k = bump(max(3, int(2 * jump / a_max * rate)))
    v = np.convolve(np.pad(v, (len(k), len(k)), mode="edge"), k / k.sum(), mode="same")[len(k) : len(k) + m]
    out: Arr = np.maximum(v, 0.0)
    return out


def _bumps(rec: Recording, seg: Segment, speed: Arr, car: bool) -> None:
    rng, tr = rec.rng, rec.tracks
    per_s = rng.uniform(0.05, 0.2) if car else rng.uniform(0.01, 0.04)
    times = poisson_times(rng, seg.start + 3, seg.end - 5, per_s)
    f0 = rng.uniform(1.2, 2.0) if car else rng.uniform(3.0, 6.0)
    n = int(1.5 * tr.rate)
    tt = np.arange(n) / tr.rate
    ring = np.exp(-0.35 * 2 * np.pi * f0 * tt) * np.sin(2 * np.pi * f0 * tt)
    for t in times:
        i = tr.idx(t) - tr.span(seg.start, seg.end).start
        if 0 <= i < len(speed) and speed[i] > 0.3:
            a = rng.uniform(0.05, 0.3) if car else rng.uniform(0.2, 0.6)
            add_at(tr.acc_w[:, 2], tr.idx(t), a * ring)
            add_at(tr.rock[:, 0], tr.idx(t), np.radians(rng.uniform(0.3, 1.5)) * ring)
    rec.label("vehicle_bumps", seg.start, seg.end, count=len(times))


def _turns(rec: Recording, seg: Segment, speed: Arr, car: bool) -> None:
    rng, tr = rec.rng, rec.tracks
    s0 = tr.span(seg.start, seg.end).start
    for t in poisson_times(rng, seg.start + 5, seg.end - 15, 1 / (rng.uniform(20, 60) if car else rng.uniform(30, 90))):
        angle = np.radians(rng.uniform(20, 100))
        v0 = float(speed[min(tr.idx(t) - s0, len(speed) - 1)])
        # slow enough that the sideways (centripetal) acceleration stays ordinary
        a_lat = 9.81 * (rng.uniform(0.08, 0.35) if car else rng.uniform(0.02, 0.06))
        dur = max(rng.uniform(3, 6) if car else rng.uniform(2, 4), 2 * angle * v0 / a_lat)
        rate = _turn(rec, t, angle * rng.choice([-1, 1]), dur)
        i = tr.idx(t) - s0
        v = speed[i : i + len(rate)]
        add_at(tr.acc_h[:, 1], tr.idx(t), v * rate[: len(v)] / 9.81)


def diaper_change(rec: Recording, seg: Segment) -> None:
    """On the changing table: legs lifted (pelvis and trunk tilted for
    several seconds), wiping and dressing jolts."""
    rng = rec.rng
    for t in np.sort(rng.uniform(seg.start + 5, max(seg.start + 6, seg.end - 30), int(rng.integers(2, 5)))):
        prof = _profile(rec.rate, rng.uniform(1.5, 3), rng.uniform(5, 20), rng.uniform(1, 3))
        wig = 1 + 0.15 * band_noise(rng, len(prof), rec.rate, 0.3, 2.0)
        _add_rot(rec, t, _rand_dir(rng, np.array([0.0, -1.0, 0.0]), 0.15), rng.uniform(8, 25) * prof * wig)
    times = poisson_times(rng, seg.start, seg.end, 0.1)
    _pulse_acc(rec, rec.tracks.acc_b, times, rng.normal(0, 0.1, (len(times), 3)), 0.05)
    rec.label("diaper_change", seg.start, seg.end)
