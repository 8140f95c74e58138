"""Activities filling sleep and wake spans.

Wake time is a sequence of everyday activities (play, tummy time, being
held, fed, carried, driven...), each with its posture and confounding
movements. Sleep alternates active (REM-like: twitches, irregular breathing)
and quiet (regular breathing, occasional startles and myoclonus) epochs.
Proportions and durations are guesses informed by the sources listed in
docs/simulator.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from spasmwatch.sim import confounders as cf
from spasmwatch.sim.movements import Ramp
from spasmwatch.sim.rotation import unit
from spasmwatch.sim.schedule import MINUTE
from spasmwatch.sim.world import LYING, World

Activity = Callable[[World, float, float], None]


def wake_up(w: World, t: float, limit: float) -> float:
    """Waking: stirring and stretching, sometimes fussing; returns when it settles."""
    end = min(limit, t + w.u(20.0, 240.0))
    cf.fidget(w, t, end, w.u(1.0, 4.0))
    w.breathe(t, end, rate=1.15, irregular=0.3)
    if end - t > 10.0 and w.chance(0.6):
        stretching(w, t + w.u(1.0, end - t - 8.0))
    if end - t > 20.0 and w.chance(0.3):
        cf.crying(w, t + w.u(5.0, 10.0), end)
    return end


def stretching(w: World, t: float) -> float:
    """Stretch on waking: slow extension (or flexion), held a few seconds."""
    sign = 1.0 if w.chance(0.7) else -1.0
    axis = np.array([w.rng.normal(0, 0.3), sign, w.rng.normal(0, 0.3)])
    segments = [(w.u(0.8, 2.0), 1.0), (w.u(1.0, 4.0), w.u(0.7, 1.0)), (w.u(1.0, 2.0), 0.0)]
    ramp = Ramp(t, segments, unit(axis) * math.radians(w.u(5.0, 20.0)))
    w.add(ramp)
    w.label("stretching", t, ramp.end)
    return ramp.end


def _occasional(w: World, start: float, end: float, startle_p: float, hiccup_p: float) -> None:
    if end - start > 20.0 and w.chance(startle_p):
        cf.startle(w, w.u(start + 5.0, end - 5.0))
    if end - start > 60.0 and w.chance(hiccup_p * w.baby.hiccup_prone):
        h0 = w.u(start, end - 30.0)
        cf.hiccups(w, h0, min(end, h0 + w.u(1.0, 12.0) * MINUTE))


def play(w: World, start: float, end: float) -> None:
    w.set_posture(start, str(w.rng.choice(["supine", "supine", "left_side", "right_side"])))
    cf.fidget(w, start, end, w.u(2.0, 6.0))
    t = start + w.u(2.0, 30.0)
    while t < end - 5.0:
        burst = min(w.u(5.0, 60.0), end - t)
        cf.kicking(w, t, t + burst)
        t += burst + w.u(5.0, 90.0)
    if w.baby.age_months > 4.0 and end - start > 30.0 and w.chance(0.4):
        cf.rolling(w, w.u(start + 10.0, end - 10.0))
    _occasional(w, start, end, 0.2, 0.2)


def tummy_time(w: World, start: float, end: float) -> None:
    w.set_posture(start, "prone")
    cf.fidget(w, start, end, w.u(1.0, 3.0))
    cf.head_lifting(w, start + 3.0, end)


def held(w: World, start: float, end: float) -> None:
    """In arms: calm, rocked, bounced, walked around or patted, in turns."""
    w.set_posture(start, str(w.rng.choice(["upright", "shoulder", "cradle"])))
    t = start
    while t < end - 5.0:
        part = min(w.u(0.5, 5.0) * MINUTE, end - t)
        choice = int(w.rng.integers(5))
        if choice == 0:
            cf.rocking(w, t, t + part)
        elif choice == 1:
            cf.bouncing(w, t, t + part)
        elif choice == 2:
            cf.carrying(w, t, t + part)
        elif choice == 3:
            cf.patting(w, t, t + part)
        cf.fidget(w, t, t + part, w.u(1.0, 3.0))
        t += part
    _occasional(w, start, end, 0.1, 0.1)


def feed(w: World, start: float, end: float) -> None:
    """Feed, burp over the shoulder, then sometimes hiccups or reflux arching."""
    w.set_posture(start, "cradle")
    feed_end = start + 0.7 * (end - start)
    cf.feeding(w, start + 3.0, feed_end)
    t = w.set_posture(feed_end, "shoulder")
    burp_end = min(end, t + w.u(0.5, 3.0) * MINUTE)
    cf.patting(w, t, burp_end, burping=True)
    if end - burp_end > 60.0 and w.chance(0.7 * w.baby.hiccup_prone):
        cf.hiccups(w, burp_end, min(end, burp_end + w.u(1.0, 10.0) * MINUTE))
    elif end - burp_end > 70.0 and w.chance(0.25):
        cf.reflux_arching(w, burp_end + w.u(1.0, 5.0))


def crying_bout(w: World, start: float, end: float) -> None:
    if w.chance(0.6):
        held(w, start, end)
    else:
        w.set_posture(start, "supine")
    cf.crying(w, start, end)


def car_ride(w: World, start: float, end: float) -> None:
    walk = w.u(30.0, 90.0)
    w.set_posture(start, "upright")
    cf.carrying(w, start, start + walk)
    t = w.set_posture(start + walk, "car_seat")
    cf.car(w, t + 10.0, end - walk)
    w.set_posture(end - walk + 10.0, "upright")
    cf.carrying(w, end - walk + 12.0, end)


def stroller_walk(w: World, start: float, end: float) -> None:
    t = w.set_posture(start, "stroller")
    cf.stroller(w, t + 5.0, end)


def swing_time(w: World, start: float, end: float) -> None:
    t = w.set_posture(start, "bouncer")
    cf.swing(w, t + 2.0, end)
    cf.fidget(w, t, end, w.u(0.5, 2.0))


def calm(w: World, start: float, end: float) -> None:
    names = ["supine", "bouncer", "cradle"] + (["sitting"] if w.baby.age_months > 6.0 else [])
    w.set_posture(start, str(w.rng.choice(names)))
    cf.fidget(w, start, end, w.u(0.5, 2.0))
    _occasional(w, start, end, 0.25, 0.3)


def diaper(w: World, start: float, end: float) -> None:
    t = w.set_posture(start, "supine")
    cf.diaper_change(w, t, end)


# name -> (weight, duration range in minutes, activity)
ACTIVITIES: dict[str, tuple[float, tuple[float, float], Activity]] = {
    "play": (0.2, (3.0, 20.0), play),
    "tummy_time": (0.07, (2.0, 10.0), tummy_time),
    "held": (0.2, (3.0, 20.0), held),
    "feed": (0.13, (8.0, 25.0), feed),
    "crying": (0.07, (0.5, 5.0), crying_bout),
    "car": (0.04, (10.0, 45.0), car_ride),
    "stroller": (0.05, (10.0, 40.0), stroller_walk),
    "swing": (0.04, (5.0, 20.0), swing_time),
    "calm": (0.15, (2.0, 15.0), calm),
    "diaper": (0.05, (1.0, 4.0), diaper),
}
_MIN_LENGTH_S = {"car": 300.0, "stroller": 120.0, "feed": 240.0}


def fill_wake(w: World, start: float, end: float, tour: bool) -> None:
    """Everyday activities back to back, or (``tour``) a quick tour of every confounder."""
    names = list(TOUR if tour else ACTIVITIES)
    weights = np.array([1.0 if tour else ACTIVITIES[n][0] for n in names])
    queue: list[str] = []
    t = start
    while end - t > 30.0:
        if tour:
            queue = queue or [str(n) for n in w.rng.permutation(names)]
            name = queue.pop()
            lo, hi = TOUR[name][0]
        else:
            name = str(w.rng.choice(names, p=weights / weights.sum()))
            lo, hi = ACTIVITIES[name][1]
        length = min(w.u(lo, hi) * MINUTE, end - t)
        if length < _MIN_LENGTH_S.get(name, 0.0):
            name = "calm"
        (TOUR[name][1] if tour and name in TOUR else ACTIVITIES[name][2])(w, t, t + length)
        t += length
    if end - t > 1.0:
        cf.fidget(w, t, end, 1.0)


def _repeat(event: Callable[[World, float], float], posture: str, gap_s: tuple[float, float]) -> Activity:
    """A short calm spell with the single event repeated a few times, ``gap_s`` apart."""

    def activity(w: World, start: float, end: float) -> None:
        t = w.set_posture(start, posture)
        cf.fidget(w, start, end, w.u(0.5, 2.0))
        t += w.u(2.0, 10.0)
        while t < end - 10.0:
            t = event(w, t) + w.u(*gap_s)

    return activity


def _lying(name: str, model: Activity, posture: str = "supine") -> Activity:
    def activity(w: World, start: float, end: float) -> None:
        t = w.set_posture(start, posture)
        cf.fidget(w, start, end, w.u(0.5, 2.0))
        model(w, t + 1.0, end)

    activity.__name__ = name
    return activity


# Confounder tour: name -> (duration range in minutes, activity)
TOUR: dict[str, tuple[tuple[float, float], Activity]] = {
    # Startles answer separate noises or jolts: tens of seconds apart, not a rhythm.
    "startles": ((2.0, 5.0), _repeat(cf.startle, "supine", (30.0, 120.0))),
    "stretching": ((1.0, 2.0), _repeat(stretching, "supine", (15.0, 60.0))),
    "rolling": ((1.0, 3.0), _repeat(cf.rolling, "supine", (8.0, 40.0))),
    "reflux_arching": ((1.5, 3.0), _repeat(cf.reflux_arching, "cradle", (8.0, 40.0))),
    "hiccups": ((1.0, 5.0), _lying("hiccups", cf.hiccups)),
    "kicking": ((1.0, 4.0), _lying("kicking", cf.kicking)),
    "crying": ((0.5, 3.0), crying_bout),
    "head_lifting": ((1.0, 4.0), _lying("head_lifting", cf.head_lifting, "prone")),
    "patting": ((1.0, 3.0), _lying("patting", cf.patting, "shoulder")),
    "rocking": ((1.0, 3.0), _lying("rocking", cf.rocking, "cradle")),
    "bouncing": ((1.0, 3.0), _lying("bouncing", cf.bouncing, "upright")),
    "carrying": ((1.0, 4.0), _lying("carrying", cf.carrying, "upright")),
    "car": ((5.0, 10.0), car_ride),
    "stroller": ((3.0, 8.0), stroller_walk),
    "swing": ((2.0, 5.0), swing_time),
    "feed": ((4.0, 8.0), feed),
    "diaper": ((1.0, 3.0), diaper),
}


def _sleep_setting(w: World, start: float, end: float, cot: bool) -> None:
    """Where the nap happens; night sleep (``cot``) is always in the cot."""
    where = "cot" if cot else str(w.rng.choice(["cot", "arms", "car", "stroller", "swing"], p=[0.7, 0.1, 0.07, 0.08, 0.05]))
    if where == "cot":
        lying = ["prone"] if w.baby.prone_sleeper else ["supine"] * 8 + ["left_side", "right_side"]
        if w.posture_name not in LYING or w.chance(0.5):
            w.set_posture(start, str(w.rng.choice(lying)))
    elif where == "arms":
        w.set_posture(start, str(w.rng.choice(["cradle", "shoulder"])))
        cf.rocking(w, start, min(end, start + w.u(1.0, 8.0) * MINUTE))
    elif where == "car":
        t = w.set_posture(start, "car_seat")
        cf.car(w, t, end)
    elif where == "stroller":
        t = w.set_posture(start, "stroller")
        cf.stroller(w, t, end)
    else:
        t = w.set_posture(start, "bouncer")
        cf.swing(w, t, min(end, t + w.u(5.0, 30.0) * MINUTE))


def fill_sleep(w: World, start: float, end: float, cot: bool) -> None:
    _sleep_setting(w, start, end, cot)
    active = w.chance(0.5 if w.baby.age_months > 3 else 0.9)  # young infants enter sleep through REM
    t = start
    while t < end - 1.0:
        length = min(w.u(10.0, 30.0) * MINUTE if active else w.u(15.0, 40.0) * MINUTE, end - t)
        (_active_sleep if active else _quiet_sleep)(w, t, t + length)
        t += length
        active = not active


def _active_sleep(w: World, start: float, end: float) -> None:
    w.breathe(start, end, rate=1.08, irregular=0.4)
    cf.fidget(w, start, end, 0.3)
    cf.sleep_twitches(w, start, end, w.u(1.0, 6.0))
    if end - start > 60.0 and w.chance(0.3):
        t = w.u(start + 10.0, end - 20.0)
        if w.posture_name in LYING and w.baby.age_months > 5.0 and w.chance(0.5):
            cf.rolling(w, t)
        else:
            end_move = t + w.u(5.0, 15.0)
            cf.fidget(w, t, end_move, 3.0)
            w.label("sleep_movement", t, end_move)


def _quiet_sleep(w: World, start: float, end: float) -> None:
    w.breathe(start, end, rate=0.95, irregular=0.05)
    if end - start > 60.0 and w.chance(0.3):
        cf.startle(w, w.u(start + 10.0, end - 10.0))
    if end - start > 120.0 and w.chance(w.baby.myoclonus_prone):
        m0 = w.u(start, end - 60.0)
        cf.sleep_myoclonus(w, m0, min(end, m0 + w.u(0.5, 20.0) * MINUTE))
