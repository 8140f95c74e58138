"""Turn a scenario Plan into motion tracks and labels (a Recording)."""

from __future__ import annotations

import numpy as np

from tools.altsim import events, motion, rot, spasms
from tools.altsim.rot import Arr
from tools.altsim.scenes import Plan
from tools.altsim.world import Label, Pose, Recording, Segment

LYING = {"crib", "playmat", "changing"}
SEATED = {"car", "stroller", "bouncer"}
CONTEXT_ACTIVITY = {
    "car": lambda rec, seg: events.vehicle(rec, seg, car=True),
    "stroller": lambda rec, seg: events.vehicle(rec, seg, car=False),
    "carried": events.walking,
    "rocking": events.rocking,
    "bouncer": events.bouncing,
    "shoulder": events.patting,
    "feeding": events.feeding,
    "changing": events.diaper_change,
}


def render(rec: Recording, plan: Plan) -> None:
    rec.segments = plan.segments
    rec.wake_onsets = list(plan.wake_onsets)
    young = rec.baby.age_months < 4
    rec.stages = [st for s in plan.segments if s.state == "sleep" for st in motion.sleep_stages(rec.rng, s.start, s.end, young)]
    _postures(rec)
    for a, b in _worn_runs(rec):
        motion.breathing(rec, a, b)
    for seg in rec.segments:
        motion.background(rec, seg)
        _activity(rec, seg)
        _random_events(rec, seg)
    _merge_labels(rec, "sleep_twitches")
    for name, start, dur in plan.forced:
        if _worn(rec, start, start + dur):
            {"crying": events.crying, "hiccups": events.hiccups}[name](rec, start, dur)
    _reflux(rec)
    _spasms(rec, plan)
    _bands_off(rec)


def _worn_runs(rec: Recording) -> list[tuple[float, float]]:
    runs: list[tuple[float, float]] = []
    for s in rec.segments:
        if s.context == "off":
            continue
        if runs and abs(runs[-1][1] - s.start) < 1e-6:
            runs[-1] = (runs[-1][0], s.end)
        else:
            runs.append((s.start, s.end))
    return runs


def _worn(rec: Recording, a: float, b: float) -> bool:
    return b <= rec.duration and not any(s.context == "off" and s.start < b and a < s.end for s in rec.segments)


def _lift(a: Segment, b: Segment) -> float:
    down = b.context in LYING or b.context in SEATED
    up = a.context in LYING or a.context in SEATED
    return 0.0 if down == up else (-1.0 if down else 1.0)


def _postures(rec: Recording) -> None:
    """Posture keyframes: the first pose and handling at every change of
    pose (band-off stretches are done last, in ``_bands_off``)."""
    rec.posture.keys[0].q = rec.segments[0].pose.quat()
    for a, b in zip(rec.segments[:-1], rec.segments[1:]):
        if b.pose != a.pose and "off" not in (a.context, b.context):
            events.handling(rec, b.start, b.pose, _lift(a, b))


def _bands_off(rec: Recording) -> None:
    """Whatever spilled into a band-off stretch is wiped; then the band is
    taken off, laid on a table and put back on."""
    segs, tr = rec.segments, rec.tracks
    for i, seg in enumerate(segs):
        if seg.context != "off":
            continue
        sl = tr.span(seg.start, seg.end)
        for arr in (tr.theta, tr.acc_b, tr.acc_w, tr.acc_h, tr.rock, tr.yaw_rate):
            arr[sl] = 0.0
        back = segs[i + 1].pose if i + 1 < len(segs) else segs[max(i - 1, 0)].pose
        events.band_off(rec, seg, _table(rec), back.quat())


def _table(rec: Recording) -> Arr:
    """Body orientation that puts the (removed) sensor flat on a table."""
    rng = rec.rng
    up = np.array([0.0, 0.0, 1.0 if rng.random() < 0.6 else -1.0]) + rng.normal(0, 0.03, 3)
    sensor_q = rot.from_up(up, rng.uniform(0, 2 * np.pi))
    return rot.mul(sensor_q, rot.conj(rec.mount))


def _activity(rec: Recording, seg: Segment) -> None:
    fn = CONTEXT_ACTIVITY.get(seg.context)
    if fn is not None and seg.duration > 20:
        fn(rec, seg)


def _times(rng: np.random.Generator, seg: Segment, per_hour: float, dur: float = 0.0) -> list[float]:
    """Random start times for events of length ``dur`` inside the segment."""
    lo, hi = seg.start + 10.0, seg.end - dur - 10.0
    if hi <= lo:
        return []
    return sorted(rng.uniform(lo, hi, rng.poisson(per_hour * seg.duration / 3600)).tolist())


def _random_events(rec: Recording, seg: Segment) -> None:
    if seg.context == "off":
        return
    if seg.state == "sleep":
        _sleep_events(rec, seg)
    else:
        _wake_events(rec, seg)


def _sleep_events(rec: Recording, seg: Segment) -> None:
    rng, baby = rec.rng, rec.baby
    for a, b, stage in rec.stages:
        if not (seg.start <= a < seg.end):
            continue
        b = min(b, seg.end)
        sub = Segment(a, b, "sleep", seg.context, seg.pose)
        if stage == "active":
            events.twitches(rec, a + 5, b - 5)
            continue
        for t in _times(rng, sub, 1.0):
            events.startle(rec, t)
        for t in _times(rng, sub, 0.5 if baby.age_months < 4 else 0.08, 300):
            events.sleep_myoclonus(rec, t)
    for t in _times(rng, seg, 0.08, 900):
        events.hiccups(rec, t, rng.uniform(5, 15) * 60)
    if seg.context == "crib":
        _posture_events(rec, seg, 1.5, 0.15 if baby.rolls else 0.0)


def _wake_events(rec: Recording, seg: Segment) -> None:
    rng = rec.rng
    for t in _times(rng, seg, 1.0, 60):
        events.crying(rec, t, min(rng.uniform(20, 240), seg.end - t - 5))
    kick_rate = 5.0 if seg.context in ("crib", "playmat") else (3.0 if seg.context in SEATED else 0.8)
    for t in _times(rng, seg, kick_rate, 30):
        events.kicking(rec, t, min(rng.uniform(10, 180), seg.end - t - 5))
    for t in _times(rng, seg, 0.1, 600):
        events.hiccups(rec, t, rng.uniform(5, 15) * 60)
    for t in _times(rng, seg, 0.3):
        events.startle(rec, t)
    if seg.context == "playmat":
        _posture_events(rec, seg, 1.0, 2.0 if rec.baby.rolls else 0.0)


def _posture_events(rec: Recording, seg: Segment, shifts_per_h: float, rolls_per_h: float) -> None:
    """Gross movements and rolls within a lying segment; each new posture
    stays until the next."""
    rng = rec.rng
    ev = [(t, "posture_shift") for t in _times(rng, seg, shifts_per_h)]
    ev += [(t, "rolling") for t in _times(rng, seg, rolls_per_h)]
    pose = seg.pose
    for t, kind in sorted(ev):
        if kind == "rolling":
            new = Pose(pose.elev, pose.roll + rng.choice([-90.0, 90.0, 180.0]), pose.heading + rng.normal(0, 10))
        else:
            new = pose.nudged(rng, 8.0)
        events.posture_change(rec, t, pose, new, kind)
        pose = new


def _merge_labels(rec: Recording, kind: str) -> None:
    """One label per uninterrupted stretch (twitches are labelled per stage)."""
    keep = [lab for lab in rec.labels if lab.kind != kind]
    mine = sorted((lab for lab in rec.labels if lab.kind == kind), key=lambda lab: lab.start)
    merged: list[Label] = []
    for lab in mine:
        if merged and lab.start - merged[-1].end < 30:
            merged[-1].end = lab.end
            merged[-1].extra["count"] = merged[-1].extra.get("count", 0) + lab.extra.get("count", 0)
        else:
            merged.append(lab)
    rec.labels = keep + merged


def _reflux(rec: Recording) -> None:
    """Sandifer-like arching in the half hour after some feeds."""
    rng = rec.rng
    for seg in [s for s in rec.segments if s.context == "feeding" and s.state == "wake"]:
        if rng.random() < 0.35:
            for t in seg.end + rng.uniform(1, 30, int(rng.integers(1, 4))) * 60:
                if _worn(rec, t - 5, t + 70):
                    events.reflux_arching(rec, float(t))


def _spasms(rec: Recording, plan: Plan) -> None:
    """Clusters where the plan puts them (skipped when the band is off or
    another cluster is under way), then isolated spasms away from them."""
    last_end = -1e9
    for t0, subtle in sorted(plan.clusters):
        if t0 < last_end + 300 or not _worn(rec, t0 - 5, t0 + 10):
            continue
        latest = min([rec.duration - 2.0] + [s.start for s in rec.segments if s.context == "off" and s.start > t0])
        c = spasms.render_cluster(rec, t0, subtle, latest)
        if c is not None:
            rec.clusters.append(c)
            last_end = c.end
    for t in plan.isolated:
        near = any(c.start - 120 < t < c.end + 120 for c in rec.clusters)
        if near or not _worn(rec, t - 5, t + 10) or rec.segment_at(t).state != "wake":
            continue
        rec.isolated.append(spasms.render_single(rec, t))
