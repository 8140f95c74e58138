"""Scenario timelines: where the baby is, asleep or awake, minute by minute,
and when spasm clusters are due. Nothing is rendered here."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.altsim.world import Baby, Pose, Segment

MIN = 60.0
HOUR = 3600.0

# Wake activities: context -> (weight, weight on a busy day, min, max minutes)
MENU: dict[str, tuple[float, float, float, float]] = {
    "crib": (0.6, 0.2, 2, 10),
    "playmat": (3.0, 1.0, 5, 25),
    "changing": (1.2, 0.8, 3, 7),
    "feeding": (1.5, 1.0, 10, 25),
    "held": (2.0, 1.0, 3, 15),
    "shoulder": (0.8, 2.0, 1, 5),
    "carried": (1.5, 2.5, 3, 20),
    "bouncer": (0.8, 2.5, 2, 10),
    "rocking": (0.5, 1.5, 2, 10),
    "car": (0.3, 1.0, 10, 40),
    "stroller": (0.3, 1.0, 15, 45),
    "off": (0.15, 0.3, 5, 40),
}


def pose_for(rng: np.random.Generator, context: str, baby: Baby) -> Pose:
    """A plausible trunk posture for a place/activity."""
    h = rng.uniform(0, 360)
    if context in ("crib", "playmat", "changing"):
        p = [0.7, 0.15, 0.15] if context == "crib" else ([0.6, 0.1, 0.3] if context == "playmat" else [1.0, 0.0, 0.0])
        roll = float(rng.choice([0.0, 90.0 * rng.choice([-1, 1]), 180.0], p=p))
        return Pose(rng.normal(0, 4), roll + rng.normal(0, 8), h)
    if context in ("held", "rocking"):  # cradled, turned towards the carer
        return Pose(rng.uniform(15, 45), rng.choice([-1, 1]) * rng.uniform(30, 80), h)
    if context == "feeding":
        if rng.random() < 0.6:  # breast: side-lying in the arms
            return Pose(rng.uniform(10, 40), rng.choice([-1, 1]) * rng.uniform(50, 90), h)
        return Pose(rng.uniform(30, 50), rng.normal(0, 15), h)  # bottle
    if context == "shoulder":  # upright, chest against the carer
        return Pose(rng.uniform(55, 85), 180 + rng.normal(0, 15), h)
    if context == "carried":
        r = rng.random()
        if r < 0.5:
            return Pose(rng.uniform(60, 88), 180 + rng.normal(0, 10), h)  # facing in / carrier
        if r < 0.75:
            return Pose(rng.uniform(75, 90), rng.normal(0, 10), h)  # facing out
        return Pose(rng.uniform(65, 85), rng.choice([-1, 1]) * rng.uniform(60, 90), h)  # on the hip
    if context == "car":  # rear-facing infant seat
        return Pose(rng.uniform(35, 55), rng.normal(0, 8), h)
    if context == "stroller":
        return Pose(rng.uniform(0, 40), rng.normal(0, 10), h)
    if context == "bouncer":
        return Pose(rng.uniform(25, 50), rng.normal(0, 8), h)
    return Pose(0.0, 0.0, h)


@dataclass
class Plan:
    """A scenario's timeline and the spasm clusters it calls for."""

    duration: float
    segments: list[Segment] = field(default_factory=list)
    wake_onsets: list[float] = field(default_factory=list)
    clusters: list[tuple[float, bool]] = field(default_factory=list)  # (start, subtle)
    isolated: list[float] = field(default_factory=list)
    forced: list[tuple[str, float, float]] = field(default_factory=list)  # (event, start, duration)


class Timeline:
    """Builds a Plan by appending segments."""

    def __init__(self, rng: np.random.Generator, baby: Baby, duration: float) -> None:
        self.rng, self.baby = rng, baby
        self.plan = Plan(duration)
        self.off_used = False

    @property
    def t(self) -> float:
        return self.plan.segments[-1].end if self.plan.segments else 0.0

    @property
    def left(self) -> float:
        return self.plan.duration - self.t

    @property
    def last(self) -> Segment | None:
        return self.plan.segments[-1] if self.plan.segments else None

    def add(self, context: str, state: str, dur: float, keep_pose: bool = False) -> Segment | None:
        dur = min(dur, self.left)
        if dur < 1.0:
            return None
        last = self.last
        if last is not None and keep_pose and last.context == context and last.state == state:
            last.end += dur
            return last
        same = keep_pose and last is not None and last.context == context
        pose = last.pose if (same and last is not None) else pose_for(self.rng, context, self.baby)
        if last is not None and last.state == "sleep" and state == "wake":
            self.plan.wake_onsets.append(self.t)
        seg = Segment(self.t, self.t + dur, state, context, pose)
        self.plan.segments.append(seg)
        return seg

    def cluster_after_wake(self, wake: float, p: float) -> None:
        """Maybe a cluster soon after waking: mostly within 10 min, some
        10-20 min, a few later."""
        if self.rng.random() >= p:
            return
        r = self.rng.random()
        delay = self.rng.uniform(0.3, 10) if r < 0.7 else (self.rng.uniform(10, 20) if r < 0.95 else self.rng.uniform(20, 60))
        self.plan.clusters.append((wake + delay * MIN, self.subtle()))

    def subtle(self) -> bool:
        return bool(self.rng.random() < 0.25)

    def sleep(self, context: str, dur: float, keep_pose: bool = False) -> None:
        self.add(context, "sleep", dur, keep_pose)

    def wake_window(self, dur: float, first: str | None = None, busy: bool = False) -> None:
        """Fill ``dur`` seconds with awake activities."""
        rng, end = self.rng, min(self.t + dur, self.plan.duration)
        if first is not None:
            self.add(first, "wake", min(rng.uniform(1, 8) * MIN, end - self.t), keep_pose=True)
        prev = self.last.context if self.last else ""
        while self.t < end - 30:
            ctx = self._pick(prev, busy)
            _, _, lo, hi = MENU[ctx]
            if self.add(ctx, "wake", min(rng.uniform(lo, hi) * MIN, end - self.t)) is None:
                break
            if ctx == "off":
                self.off_used = True
            if ctx == "feeding" and rng.random() < 0.6 and self.t < end - 60:
                self.add("shoulder", "wake", min(rng.uniform(2, 5) * MIN, end - self.t))
            prev = self.last.context if self.last else ""

    def _pick(self, prev: str, busy: bool) -> str:
        names = [k for k in MENU if k != prev and not (k == "off" and (self.off_used or self.t < 60))]
        w = np.array([MENU[k][1 if busy else 0] for k in names])
        return str(self.rng.choice(names, p=w / w.sum()))

    def settle(self) -> None:
        """Fall asleep in arms while rocked or fed (some of it awake)."""
        rng = self.rng
        how = "rocking" if rng.random() < 0.6 else "feeding"
        self.add(how, "wake", rng.uniform(2, 8) * MIN, keep_pose=True)
        self.add(how, "sleep", rng.uniform(1, 5) * MIN, keep_pose=True)

    def forced(self, event: str, start: float, dur: float) -> None:
        self.plan.forced.append((event, start, dur))


def night(tl: Timeline) -> None:
    """8-12 h night: asleep in the crib, 1-3 wakings (feeds), morning waking
    near the end; clusters after some wakings, rarely in sleep."""
    rng, D = tl.rng, tl.plan.duration
    morning = D - rng.uniform(15, 60) * MIN if (D > 3 * HOUR and rng.random() < 0.75) else D
    k = int(rng.integers(1, 4)) if D > 5 * HOUR else int(rng.integers(0, 2))
    drawn = sorted(rng.uniform(1.5 * HOUR, max(1.6 * HOUR, morning - HOUR), k).tolist()) if morning > 3 * HOUR else []
    wakes = [w for i, w in enumerate(drawn) if i == 0 or w - drawn[i - 1] > 1.2 * HOUR]
    tl.sleep("crib", wakes[0] if wakes else morning)
    for i, w in enumerate(wakes):
        _night_waking(tl)
        tl.cluster_after_wake(w, 0.12)
        nxt = wakes[i + 1] if i + 1 < len(wakes) else morning
        tl.sleep("crib", nxt - tl.t, keep_pose=True)
    if tl.left > 60:
        tl.wake_window(tl.left, first="crib")
        tl.cluster_after_wake(morning, 0.6)
    if rng.random() < 0.08:
        _cluster_in_sleep(tl)


def _night_waking(tl: Timeline) -> None:
    rng = tl.rng
    w = tl.t
    tl.add("crib", "wake", rng.uniform(1, 5) * MIN, keep_pose=True)
    if rng.random() < 0.7:
        tl.forced("crying", w + rng.uniform(5, 30), rng.uniform(30, 200))
    if rng.random() < 0.3:  # fusses, settles alone
        tl.add("crib", "wake", rng.uniform(2, 8) * MIN, keep_pose=True)
        return
    tl.add("held", "wake", rng.uniform(0.5, 2) * MIN)
    tl.add("feeding", "wake", rng.uniform(10, 25) * MIN)
    if rng.random() < 0.6:
        tl.add("shoulder", "wake", rng.uniform(2, 5) * MIN)
    if rng.random() < 0.5:
        tl.add("rocking", "wake", rng.uniform(2, 6) * MIN)
        tl.add("rocking", "sleep", rng.uniform(1, 5) * MIN, keep_pose=True)
    else:
        tl.add("held", "sleep", rng.uniform(1, 4) * MIN)


def _cluster_in_sleep(tl: Timeline) -> None:
    segs = [s for s in tl.plan.segments if s.state == "sleep" and s.context == "crib" and s.duration > 20 * MIN]
    if segs:
        s = segs[int(tl.rng.integers(len(segs)))]
        tl.plan.clusters.append((tl.rng.uniform(s.start + 5 * MIN, s.end - 10 * MIN), tl.subtle()))


def morning(tl: Timeline) -> None:
    """1-3 h from the end of night sleep: waking, then the morning routine;
    a cluster within minutes of waking in most recordings."""
    rng, D = tl.rng, tl.plan.duration
    lead = min(rng.uniform(10, 40) * MIN, rng.uniform(0.1, 0.3) * D)
    tl.sleep("crib", lead)
    wake = tl.t
    tl.wake_window(tl.left, first="crib")
    tl.cluster_after_wake(wake, 0.85)
    if rng.random() < 0.25:
        tl.plan.clusters.append((wake + rng.uniform(30, 90) * MIN, tl.subtle()))
    _isolated(tl, 0.3)


def day(tl: Timeline) -> None:
    """A day at home and out: wake windows of 1-3 h and naps of 0.5-2 h in
    the crib, stroller, car, carrier or arms."""
    rng = tl.rng
    tl.wake_window(rng.uniform(1, 2.5) * HOUR)
    while tl.left > 10 * MIN:
        place = str(rng.choice(["crib", "stroller", "car", "carried", "held"], p=[0.45, 0.2, 0.15, 0.1, 0.1]))
        if place in ("crib", "held"):
            tl.settle()
        tl.sleep(place, rng.uniform(0.5, 2) * HOUR)
        if tl.left < 60:
            break
        wake = tl.t
        tl.wake_window(min(tl.left, rng.uniform(1.5, 3) * HOUR), first=place)
        tl.cluster_after_wake(wake, 0.5)
        if rng.random() < 0.15:
            tl.plan.clusters.append((wake + rng.uniform(25, 80) * MIN, tl.subtle()))
    _isolated(tl, 0.3)


def busy(tl: Timeline) -> None:
    """An afternoon full of handling, travel and fussing; no spasms."""
    rng = tl.rng
    first = tl.plan.duration * rng.uniform(0.3, 0.6)
    tl.wake_window(first, busy=True)
    if rng.random() < 0.5:
        tl.sleep(str(rng.choice(["car", "stroller", "carried"])), rng.uniform(20, 60) * MIN)
        tl.wake_window(tl.left, first=tl.last.context if tl.last else None, busy=True)
    else:
        tl.wake_window(tl.left, busy=True)
    for _ in range(int(rng.integers(1, 4))):
        tl.forced("hiccups", rng.uniform(0, tl.plan.duration), rng.uniform(5, 15) * MIN)


def _isolated(tl: Timeline, p: float) -> None:
    """A few single spasms outside clusters."""
    rng = tl.rng
    while rng.random() < p:
        tl.plan.isolated.append(rng.uniform(60, max(61, tl.plan.duration - 60)))
        p *= 0.5


SCENES = {"night": night, "morning": morning, "day": day, "busy": busy}


def build(kind: str, rng: np.random.Generator, baby: Baby, duration: float) -> Plan:
    tl = Timeline(rng, baby, duration)
    SCENES[kind](tl)
    if tl.left > 1.0:  # pad (keeps the last activity going)
        last = tl.last
        tl.add(last.context if last else "crib", last.state if last else "wake", tl.left, keep_pose=True)
    return tl.plan
