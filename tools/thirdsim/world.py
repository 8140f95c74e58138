"""The plan of a recording: the day's sleep and wake, what the baby is doing and
where, the spasm clusters, and when the band is off.

Everything is planned first (random numbers drawn here, from streams keyed by
the seed), then rendered as pure functions of time (render.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.thirdsim import rot
from tools.thirdsim.baby import Baby, Mount, make_baby, make_mount
from tools.thirdsim.prims import (BREATH, BX, BY, BZ, LX, LY, LZ, NY, NZ, PITCH, ROLL, WX, WY, WZ, YAW, Event,
                                  hold_event, noise_event, poisson_times, pulses_event, regular_times, rhythm_event,
                                  sstep, BandNoise)
from tools.thirdsim.spasms import Cluster, Spasm, _template, make_cluster, make_spasm

Arr = np.ndarray
H = 3600.0
MIN = 60.0
DEG = np.pi / 180.0


def _r(t: float) -> float:
    return round(float(t), 3)


@dataclass
class Label:
    start: float
    end: float
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"start": _r(self.start), "end": _r(self.end), "kind": self.kind, **self.extra}


@dataclass
class Span:
    start: float
    end: float
    state: str


@dataclass
class NotWorn:
    start: float
    end: float
    r_table: Arr  # sensor axes in the world while the band lies still
    handle_in_s: float  # band being taken off and put down, from ``start``
    handle_out_s: float  # band being picked up and put on, before ``end``
    where: str


@dataclass
class Plan:
    seed: int
    duration_s: float
    clock0_s: float  # time of day at t = 0
    baby: Baby
    mount: Mount
    states: list[Span]
    stages: list[Span]  # sleep stages: quiet / active (and wake)
    wake_onsets: list[float]
    clusters: list[Cluster]
    isolated: list[Spasm]
    not_worn: list[NotWorn]
    labels: list[Label]
    events: list[Event]
    knots_t: Arr  # posture track: knot times, transition durations, (yaw, pitch, roll) targets
    knots_d: Arr
    knots_v: Arr
    slip_t: Arr
    slip_d: Arr
    slip_v: Arr
    breath_gain: float  # m of wall movement per unit breath waveform (quiet sleep)
    breath_tilt: float  # rad of trunk tilt per m of wall movement


# ----------------------------------------------------------------------------------------------
# Sleep schedule (clock time -> recording time)


def _sleep_episodes(rng: np.random.Generator, baby: Baby, clock0: float, t_lo: float, t_hi: float) -> list[tuple[float, float, str]]:
    """Sleep episodes (start, end, 'night'|'nap') in recording time, covering [t_lo, t_hi]."""
    age = baby.age_months
    wake_window = (1.4 + 0.22 * (age - 3.0)) * H  # grows with age (about 1.5 h at 3 mo, 3.5 h at 12)
    nap_med = (75.0 - 3.0 * (age - 3.0)) * MIN
    night_wakings = max(0.3, 2.2 - 0.15 * (age - 3.0))  # per night
    wake_clock = 6.6 * H + rng.normal(0, 0.4 * H)
    bed_clock = 19.6 * H + rng.normal(0, 0.4 * H)
    out: list[tuple[float, float, str]] = []
    d0 = int(np.floor((clock0 + t_lo) / 86400.0)) - 1
    d1 = int(np.floor((clock0 + t_hi) / 86400.0)) + 1
    for d in range(d0, d1 + 1):
        base = d * 86400.0 - clock0
        up = base + wake_clock + rng.normal(0, 0.35 * H)
        bed = base + bed_clock + rng.normal(0, 0.3 * H)
        nxt = base + 86400.0 + wake_clock + rng.normal(0, 0.35 * H)
        t = up
        while True:
            ww = wake_window * float(np.exp(0.2 * rng.normal()))
            start = t + ww
            if start + 20 * MIN > bed - 0.6 * wake_window:
                break
            dur = float(np.clip(nap_med * np.exp(0.4 * rng.normal()), 20 * MIN, 150 * MIN))
            out.append((start, start + dur, "nap"))
            t = start + dur
        # the night, broken by wakings (feeds)
        k = int(rng.poisson(night_wakings))
        cuts = sorted(float(x) for x in rng.uniform(bed + 1.5 * H, nxt - 1.0 * H, k)) if nxt - bed > 3 * H else []
        s = bed
        for c in cuts:
            w = float(np.clip(12 * MIN * np.exp(0.5 * rng.normal()), 5 * MIN, 40 * MIN))
            if c - s > 30 * MIN:
                out.append((s, c, "night"))
                s = c + w
        out.append((s, nxt, "night"))
    out.sort()
    merged: list[tuple[float, float, str]] = []
    for a, b, k in out:
        if merged and a - merged[-1][1] < 5 * MIN:
            pa, pb, pk = merged[-1]
            merged[-1] = (pa, max(pb, b), pk if pk == "night" else k)
        else:
            merged.append((a, b, k))
    return merged


# ----------------------------------------------------------------------------------------------
# The planner


class Planner:
    def __init__(self, seed: int, duration_s: float, clock0: float | None = None) -> None:
        self.seed = seed
        self.D = float(duration_s)
        self.rng = np.random.default_rng([seed, 303])
        self.baby = make_baby(seed)
        self.mount = make_mount(seed, self.baby)
        self.clock0 = float(self.rng.uniform(0, 86400.0)) if clock0 is None else float(clock0)
        self.labels: list[Label] = []
        self.events: list[Event] = []
        self.knots: list[tuple[float, float, float, float, float]] = []
        self.slips: list[tuple[float, float, float]] = [(-1e9, 1.0, 0.0)]
        self.posture = np.array([self.rng.uniform(-np.pi, np.pi), 0.0, 0.0])
        self.knots.append((-1e9, 1.0, *self.posture))
        self.vig = self.baby.vigour

    # -- helpers -------------------------------------------------------------------------------
    def label(self, a: float, b: float, kind: str, **extra: Any) -> None:
        if b > 0 and a < self.D:
            self.labels.append(Label(max(a, 0.0), min(b, self.D), kind, extra))

    def set_posture(self, t: float, pose: tuple[float, float, float], dur: float, unwrap_roll: bool = True) -> None:
        yaw, pitch, roll = pose
        # keep yaw and roll continuous (turn the short way)
        dy = (yaw - self.posture[0] + np.pi) % (2 * np.pi) - np.pi
        dr = (roll - self.posture[2] + np.pi) % (2 * np.pi) - np.pi if unwrap_roll else roll - self.posture[2]
        new = np.array([self.posture[0] + dy, pitch, self.posture[2] + dr])
        self.knots.append((t, dur, *new))
        self.posture = new

    def nudge_yaw(self, sd: float) -> float:
        return float(self.posture[0] + self.rng.normal(0, sd))

    def slip(self, t: float) -> None:
        if self.rng.random() < 0.15 + 0.3 * self.mount.looseness:
            prev = self.slips[-1][2]
            self.slips.append((t, 0.5, prev + float(self.rng.normal(0, 4 * DEG * (0.5 + self.mount.looseness)))))

    def add(self, ev: Event) -> None:
        if ev.end > -5 and ev.start < self.D + 5:
            self.events.append(ev)

    def gate(self, f_hz: float, duty: float) -> Any:
        """An on/off envelope (bursts of activity), smooth, with about ``duty`` of the time on."""
        slow = BandNoise(self.rng, 0.3 * f_hz, 3 * f_hz, 8)
        thr = float(np.sqrt(2) * _erfinv(1 - 2 * duty))

        def env(t: Arr) -> Arr:
            return sstep((slow(t) - thr) * 1.5 + 0.5)

        return env

    # -- body movement primitives ----------------------------------------------------------------
    def fidget(self, a: float, b: float, level: float, lying: bool) -> None:
        """The baby's own general movement awake (arms, legs, head), in bursts."""
        v = level * self.vig
        g = {LX: 1.5 * DEG * v, LY: 1.5 * DEG * v, LZ: 1.2 * DEG * v, NY: 4 * DEG * v, NZ: 6 * DEG * v,
             BX: 0.25 * v, BY: 0.2 * v, BZ: 0.35 * v}
        if lying:
            g[PITCH] = 1.0 * DEG * v
            g[ROLL] = 2.0 * DEG * v
        self.add(noise_event(self.rng, a, b, g, 0.15, 3.0, ramp=2.0, n_terms=12,
                             envelope=self.gate(0.05, float(self.rng.uniform(0.3, 0.6)))))

    def kicking(self, a: float, b: float, strength: float) -> None:
        v = strength * self.vig
        g = {PITCH: 1.5 * DEG * v, LX: 1.2 * DEG * v, LZ: 1.0 * DEG * v, LY: 0.8 * DEG * v}
        env = self.gate(0.08, float(self.rng.uniform(0.35, 0.7)))
        self.add(noise_event(self.rng, a, b, g, 0.5, 3.0, ramp=1.0, n_terms=12, envelope=env))
        # the legs' reaction forces on the pelvis: quicker than the trunk can turn
        self.add(noise_event(self.rng, a, b, {BZ: 0.9 * v, BX: 0.8 * v, BY: 0.3 * v}, 0.7, 6.0, ramp=1.0, n_terms=14,
                             envelope=env))
        self.label(a, b, "kicking")

    def crying(self, a: float, b: float) -> None:
        f = float(self.rng.uniform(0.55, 1.1))  # one cry per expiration, about a second
        v = self.vig
        self.add(rhythm_event(self.rng, a, b, {BREATH: 0.005, LY: -2.5 * DEG * v, NY: 5 * DEG * v, BZ: 0.4 * v}, f,
                              harmonics=(1.0, 0.5, 0.25), wander=0.2, ramp=2.0))
        self.add(noise_event(self.rng, a, b, {LX: 1.5 * DEG * v, LZ: 1.5 * DEG * v, PITCH: 1.0 * DEG * v}, 0.3, 2.5,
                             ramp=2.0, n_terms=12))
        self.add(noise_event(self.rng, a, b, {BZ: 0.8 * v, BX: 0.6 * v}, 0.5, 6.0, ramp=2.0, n_terms=14))
        self.label(a, b, "crying")

    def startle(self, t: float, kind: str = "moro") -> None:
        """Moro reflex / startle: a fast extension (arms thrown out), a short hold, back over ~1 s."""
        amp = float(self.rng.uniform(3, 10)) * DEG * self.vig ** 0.5
        rise, hold, fall = self.rng.uniform(0.15, 0.3), self.rng.uniform(0.1, 0.45), self.rng.uniform(0.4, 1.1)
        self.add(hold_event(t, rise, hold, fall, {LY: amp, NY: 1.5 * amp, PITCH: -0.2 * amp}))
        k = float(self.rng.uniform(1.5, 5.0))
        self.add(pulses_event(t, t + 1, np.array([t + 0.02]), np.array([1.0]), {BZ: k, BX: -0.5 * k}, 0.05, "ring", 9.0))
        if self.rng.random() < 0.5:  # the arms come back in (second phase of the Moro)
            self.add(hold_event(t + rise + hold, 0.2, 0.2, 0.6, {LY: -0.6 * amp}))
        self.label(t, t + rise + hold + fall + 0.5, kind)

    def hiccups(self, a: float, b: float) -> None:
        per = float(self.rng.uniform(1.8, 5.0))
        times = regular_times(self.rng, a, b, per, 0.12)
        n = len(times)
        amp = self.rng.uniform(0.5, 1.5, n)
        w = float(self.rng.uniform(0.2, 0.35))
        jolt = float(self.rng.uniform(0.3, 1.2))
        self.add(pulses_event(a, b + 1, times, amp, {BREATH: 0.0025, LY: -1.2 * DEG}, w, "bump"))
        self.add(pulses_event(a, b + 1, times + 0.03, amp, {BZ: jolt, BX: 0.4 * jolt}, 0.04, "ring", 12.0))
        self.label(a, b, "hiccups", period_s=round(per, 2))

    def patting(self, a: float, b: float) -> None:
        f = float(self.rng.uniform(1.2, 3.2))
        times = regular_times(self.rng, a, b, 1.0 / f, 0.1)
        amp = self.rng.uniform(0.6, 1.4, len(times))
        k = float(self.rng.uniform(0.8, 3.5))
        self.add(pulses_event(a, b + 1, times, amp, {BZ: k, BX: 0.2 * k}, 0.045, "ring", 14.0))
        self.add(pulses_event(a, b + 1, times, amp, {LY: 0.15 * DEG * k}, 0.25, "bump"))
        self.label(a, b, "patting", rate_hz=round(f, 2))

    def bouncing(self, a: float, b: float) -> None:
        f = float(self.rng.uniform(1.3, 2.6))
        amp = float(self.rng.uniform(1.0, 3.5))
        self.add(rhythm_event(self.rng, a, b, {WZ: amp, PITCH: 1.5 * DEG, LY: 1.2 * DEG, NY: 4 * DEG}, f,
                              harmonics=(1.0, 0.35, 0.12), wander=0.06, ramp=1.0))
        self.label(a, b, "bouncing", f_hz=round(f, 2))

    def rocking(self, a: float, b: float) -> None:
        f = float(self.rng.uniform(0.3, 0.9))
        ang = float(self.rng.uniform(4, 16)) * DEG
        axis = ROLL if self.rng.random() < 0.5 else YAW
        horiz = ang * 0.5 * (2 * np.pi * f) ** 2  # arm sweep of ~0.5 m radius
        self.add(rhythm_event(self.rng, a, b, {axis: ang, PITCH: 0.2 * ang, WY: horiz, WZ: 0.25 * horiz}, f,
                              harmonics=(1.0, 0.1), wander=0.08, ramp=3.0))
        self.label(a, b, "rocking", f_hz=round(f, 2))

    def carer_sway(self, a: float, b: float, level: float = 1.0) -> None:
        g = {PITCH: 2.5 * DEG * level, ROLL: 2.5 * DEG * level, YAW: 6 * DEG * level,
             WX: 0.25 * level, WY: 0.25 * level, WZ: 0.2 * level}
        self.add(noise_event(self.rng, a, b, g, 0.05, 1.2, ramp=2.0, n_terms=12))

    def walking(self, a: float, b: float, level: float = 1.0) -> None:
        """A carer walking with the baby: vertical bounce at the step rate, sway at the stride rate."""
        f = float(self.rng.uniform(1.5, 2.1))
        v = float(self.rng.uniform(0.8, 2.2)) * level
        self.add(rhythm_event(self.rng, a, b, {WZ: v, WX: 0.5 * v, ROLL: 0.8 * DEG * level, PITCH: 0.8 * DEG * level}, f,
                              harmonics=(1.0, 0.3, 0.1), wander=0.05, ramp=1.5))
        self.add(rhythm_event(self.rng, a, b, {WY: 0.3 * v, ROLL: 1.5 * DEG * level, YAW: 2 * DEG * level}, f / 2,
                              harmonics=(1.0,), wander=0.05, ramp=1.5))

    def lift(self, t: float, up: bool) -> float:
        """Picked up or put down: a vertical move of ~0.5-0.9 m over ~1-2 s (and a swing). Returns its end."""
        d = float(self.rng.uniform(0.9, 2.0))
        h = float(self.rng.uniform(0.5, 0.9)) * (1 if up else -1)
        # acceleration of a smooth-step move (biphasic), rendered as two opposite bumps
        peak = 5.8 * h / d ** 2 / 1.875 * 1.5
        self.add(pulses_event(t, t + d, np.array([t, t + d / 2]), np.array([peak, -peak]), {WZ: 1.0}, d / 2, "bump"))
        sw = float(self.rng.uniform(0.5, 2.0))
        self.add(pulses_event(t, t + d, np.array([t, t + d / 2]), np.array([sw, -sw]),
                              {WX: float(self.rng.normal()), WY: float(self.rng.normal())}, d / 2, "bump"))
        self.label(t, t + d, "picked_up" if up else "put_down")
        self.slip(t)
        if not up and self.rng.random() < 0.25:
            self.startle(t + d + float(self.rng.uniform(0.1, 0.6)), "moro" if self.baby.age_months < 5.5 else "startle")
        return t + d

    # -- poses ---------------------------------------------------------------------------------
    def pose_lying(self, kind: str = "supine") -> tuple[float, float, float]:
        y = self.nudge_yaw(0.6)
        p = float(self.rng.normal(0, 4 * DEG))
        if kind == "supine":
            return (y, p, float(self.rng.normal(0, 6 * DEG)))
        if kind == "prone":
            return (y, p, float(np.pi + self.rng.normal(0, 6 * DEG)))
        return (y, p, float(self.rng.choice([-1, 1]) * self.rng.uniform(60, 95) * DEG))

    def pose_upright(self, lean_deg: float) -> tuple[float, float, float]:
        return (self.nudge_yaw(1.0), float(-(90 - lean_deg) * DEG + self.rng.normal(0, 6 * DEG)),
                float(self.rng.normal(0, 8 * DEG)))

    def pose_cradle(self) -> tuple[float, float, float]:
        side = float(self.rng.choice([-1, 1]))
        return (self.nudge_yaw(1.0), float(-self.rng.uniform(20, 50) * DEG), side * float(self.rng.uniform(40, 85)) * DEG)

    # -- sleep ---------------------------------------------------------------------------------
    def sleep(self, a: float, b: float, where: str, stages: list[Span]) -> None:
        age = self.baby.age_months
        f_active = float(np.clip(0.5 - 0.02 * (age - 3.0), 0.28, 0.5))
        cycle = float(self.rng.uniform(45, 60)) * MIN
        t = a
        quiet_first = self.rng.random() < 0.75
        in_crib = where == "crib"
        if in_crib:
            pk = "supine"
            if self.baby.can_roll and self.rng.random() < 0.25:
                pk = str(self.rng.choice(["prone", "side"]))
            self.set_posture(a, self.pose_lying(pk), 2.0)
        while t < b:
            c = cycle * float(np.exp(0.15 * self.rng.normal()))
            parts = [("quiet", c * (1 - f_active)), ("active", c * f_active)]
            if not quiet_first:
                parts.reverse()
            for st, d in parts:
                e = min(t + d, b)
                if e > t:
                    stages.append(Span(t, e, st))
                    if st == "active":
                        self.twitches(t, e)
                    elif self.baby.myoclonus and self.rng.random() < 0.3:
                        s0 = float(self.rng.uniform(t, max(t, e - 5 * MIN)))
                        self.myoclonus(s0, min(e, s0 + float(self.rng.uniform(1, 6)) * MIN))
                    if st == "quiet" and e - t > 10 * MIN:
                        for ts in poisson_times(self.rng, t, e, 1 / (25 * MIN)):
                            self.startle(float(ts), "sleep_startle")
                t = e
            quiet_first = True
            # arousal at the end of a cycle: a burst of movement, maybe a new position
            if t < b - 10 * MIN and self.rng.random() < 0.35:
                d = float(self.rng.uniform(5, 60))
                self.fidget(t, t + d, 0.8, True)
                self.label(t, t + d, "arousal")
                if in_crib and self.rng.random() < 0.4:
                    self.roll_over(t + d * 0.4, sleeping=True)
        if self.rng.random() < 0.15 * self.baby.hiccupy:
            s0 = float(self.rng.uniform(a, b))
            self.hiccups(s0, min(b, s0 + float(self.rng.uniform(3, 12)) * MIN))

    def twitches(self, a: float, b: float) -> None:
        """Myoclonic twitches of active (REM) sleep: brief, many, limbs and face; tiny at the trunk."""
        rate = float(self.rng.uniform(0.1, 0.6))
        times = poisson_times(self.rng, a, b, rate)
        amp = self.rng.exponential(1.0, len(times))
        self.add(pulses_event(a, b, times, amp, {LX: 0.1 * DEG, LY: -0.08 * DEG, NZ: 1.0 * DEG}, 0.18, "bump"))
        self.add(pulses_event(a, b, times + 0.01, amp, {BZ: 0.12, BX: 0.1}, 0.03, "ring", 15.0))
        self.label(a, b, "sleep_twitches")

    def myoclonus(self, a: float, b: float) -> None:
        """Benign sleep myoclonus: bursts of brief jerks (no tonic phase) repeating for minutes."""
        ts: list[float] = []
        t = a
        while t < b:
            n = int(self.rng.integers(2, 8))
            f = float(self.rng.uniform(1.5, 5.0))
            ts += [t + i / f + float(self.rng.normal(0, 0.03)) for i in range(n)]
            t += n / f + float(self.rng.uniform(2, 20))
        times = np.sort(np.array(ts))
        amp = self.rng.uniform(0.5, 1.5, len(times)) * float(self.rng.uniform(1.0, 4.0))
        self.add(pulses_event(a, b + 1, times, amp, {LY: -0.6 * DEG, LX: 0.2 * DEG, NY: -2 * DEG}, 0.2, "bump"))
        self.add(pulses_event(a, b + 1, times, amp, {BZ: 0.5, BX: 0.3}, 0.04, "ring", 10.0))
        self.label(a, b, "sleep_myoclonus")

    def roll_over(self, t: float, sleeping: bool = False) -> None:
        if not self.baby.can_roll and not sleeping:
            return
        d = float(self.rng.uniform(2.0, 5.0))
        y, p, r = self.posture
        rw = (r + np.pi) % (2 * np.pi) - np.pi
        side = float(self.rng.choice([-1, 1]))
        if abs(rw) > 2.2:  # prone -> supine, on over the side
            turn = -np.sign(rw) * np.pi + float(self.rng.normal(0, 6 * DEG))
            turn = turn if abs(turn) > 2.0 else side * np.pi
        elif abs(rw) < 0.8:  # supine -> prone or onto a side
            turn = side * (np.pi if self.baby.can_roll and self.rng.random() < 0.6 else np.pi / 2) - rw
        else:  # side -> back
            turn = -rw + float(self.rng.normal(0, 6 * DEG))
        new = (y + float(self.rng.normal(0, 0.2)), float(self.rng.normal(0, 3 * DEG)), float(r + turn))
        side = float(np.sign(turn)) or 1.0
        self.add(hold_event(t - 0.3, 0.6, d * 0.5, 0.8, {LX: side * 0.25, LZ: 0.1 * side}))
        self.set_posture(t, new, d, unwrap_roll=False)
        self.label(t - 0.3, t + d + 0.5, "rolling")

    # -- awake blocks ----------------------------------------------------------------------------
    def block(self, kind: str, a: float, b: float) -> None:
        rng = self.rng
        self.label(a, b, kind)
        age = self.baby.age_months
        if kind == "floor_play":
            self.set_posture(a, self.pose_lying("supine"), 2.0)
            self.fidget(a, b, 1.0, True)
            if rng.random() < 0.7:
                s = float(rng.uniform(a, b))
                self.kicking(s, min(b, s + float(rng.uniform(20, 240))), 1.0)
            if self.baby.can_roll and rng.random() < 0.5:
                for ts in poisson_times(rng, a + 10, b - 10, 1 / (4 * MIN)):
                    self.roll_over(float(ts))
        elif kind == "tummy_time":
            self.set_posture(a, self.pose_lying("prone"), 2.5)
            self.fidget(a, b, 0.8, True)
            t = a + float(rng.uniform(2, 10))
            while t < b - 12:
                amp = float(rng.uniform(0.08, 0.3) * min(1.0, age / 6.0))
                r, h, f = float(rng.uniform(0.4, 1.2)), float(rng.uniform(1.5, 10)), float(rng.uniform(0.5, 1.5))
                self.add(hold_event(t, r, h, f, {LY: amp, NY: 2.5 * amp, PITCH: -0.3 * amp}))
                t += r + h + f + float(rng.uniform(3, 30))
        elif kind == "sitting":
            self.set_posture(a, self.pose_upright(float(rng.uniform(5, 25))), 2.0)
            self.fidget(a, b, 1.2, False)
            self.add(noise_event(rng, a, b, {PITCH: 3 * DEG, ROLL: 3 * DEG}, 0.05, 0.5, ramp=2.0, n_terms=8))
        elif kind == "crawling":
            self.set_posture(a, (self.nudge_yaw(1.0), float(rng.normal(-10 * DEG, 5 * DEG)), float(np.pi + rng.normal(0, 5 * DEG))), 2.0)
            t = a + 3
            while t < b - 5:
                d = float(rng.uniform(3, 25))
                e = min(b - 2, t + d)
                f = float(rng.uniform(0.5, 1.2))
                self.add(rhythm_event(rng, t, e, {ROLL: 6 * DEG, LZ: 5 * DEG, LX: 3 * DEG, WZ: 0.8, WX: 0.5, BZ: 0.8}, f,
                                      harmonics=(1.0, 0.5, 0.2), wander=0.1, ramp=0.8))
                t = e + float(rng.uniform(3, 30))
            self.fidget(a, b, 0.8, False)
        elif kind == "held":
            self.set_posture(a, self.pose_upright(float(rng.uniform(5, 30))), 1.5)
            self.carer_sway(a, b)
            self.fidget(a, b, 0.8, False)
            t = a + float(rng.uniform(5, 60))
            while t < b - 10:
                d = float(rng.uniform(5, 90))
                self.walking(t, min(b - 2, t + d))
                t += d + float(rng.uniform(10, 120))
        elif kind == "carrier_walk":
            self.set_posture(a, self.pose_upright(float(rng.uniform(5, 20))), 1.5)
            self.carer_sway(a, b, 0.6)
            self.walking(a + 5, b - 5, 1.1)
            self.fidget(a, b, 0.5, False)
        elif kind == "bouncer_seat":
            self.set_posture(a, (self.nudge_yaw(1.0), float(-rng.uniform(25, 45) * DEG), float(rng.normal(0, 5 * DEG))), 2.0)
            self.fidget(a, b, 1.0, False)
            f = float(rng.uniform(0.9, 1.6))  # the seat's own springy bounce, driven by kicks or a foot
            self.add(rhythm_event(rng, a, b, {WZ: float(rng.uniform(0.5, 2.5)), PITCH: 1.5 * DEG}, f, wander=0.05, ramp=3))
            self.label(a, b, "bouncing", f_hz=round(f, 2), source="bouncer seat")
        elif kind == "feeding":
            self.set_posture(a, self.pose_cradle() if rng.random() < 0.7 else self.pose_upright(float(rng.uniform(20, 45))), 2.0)
            self.carer_sway(a, b, 0.5)
            t = a + 5
            while t < b - 5:  # sucking bursts
                d = float(rng.uniform(5, 25))
                f = float(rng.uniform(1.0, 2.2))
                self.add(rhythm_event(rng, t, min(b, t + d), {LY: 0.25 * DEG, NY: 1.2 * DEG, BX: 0.06}, f, wander=0.05, ramp=0.5))
                t += d + float(rng.uniform(2, 12))
        elif kind == "diaper_change":
            self.set_posture(a, self.pose_lying("supine"), 1.5)
            self.kicking(a, b, 1.0)
            t = a + float(rng.uniform(3, 15))
            for _ in range(int(rng.integers(1, 4))):
                lift = float(rng.uniform(0.2, 0.6))
                h = float(rng.uniform(2, 10))
                if t + h + 3 > b:
                    break
                self.add(hold_event(t, 0.8, h, 0.8, {PITCH: lift, LY: -0.8 * lift, WZ: 0.0}))
                t += h + float(rng.uniform(5, 40))
        elif kind == "car":
            self.set_posture(a, (self.nudge_yaw(3.0), float(-rng.uniform(35, 55) * DEG), float(rng.normal(0, 4 * DEG))), 2.0)
            self.vehicle(a, b, "car")
            self.fidget(a, b, 0.4, False)
        elif kind == "stroller":
            self.set_posture(a, (self.nudge_yaw(3.0), float(-rng.uniform(5, 45) * DEG), float(rng.normal(0, 4 * DEG))), 2.0)
            self.vehicle(a, b, "stroller")
            self.fidget(a, b, 0.5, False)
        elif kind == "lying_awake":
            self.fidget(a, b, 0.7, True)
        else:
            raise ValueError(kind)

    def vehicle(self, a: float, b: float, kind: str) -> None:
        rng = self.rng
        if kind == "car":
            vib = float(rng.uniform(0.25, 0.8))
            self.add(noise_event(rng, a, b, {WZ: vib, WX: 0.4 * vib, WY: 0.4 * vib}, 1.5, 22.0, ramp=5.0, n_terms=28))
            self.add(noise_event(rng, a, b, {PITCH: 0.6 * DEG, ROLL: 0.8 * DEG}, 0.3, 2.5, ramp=5.0, n_terms=10))
            man = float(rng.uniform(0.4, 1.1))  # speeding up, braking, turning
            self.add(noise_event(rng, a, b, {WX: man, WY: man, YAW: 25 * DEG}, 0.01, 0.25, ramp=10.0, n_terms=12))
            times = poisson_times(rng, a + 5, b - 5, 1 / float(rng.uniform(15, 90)))
            self.add(pulses_event(a, b, times, rng.uniform(1.5, 8.0, len(times)), {WZ: 1.0}, 0.08, "ring", 6.0))
        else:
            self.walking(a + 3, b - 3, 0.6)
            vib = float(rng.uniform(0.3, 1.5))
            self.add(noise_event(rng, a, b, {WZ: vib, WX: 0.5 * vib}, 6.0, 30.0,
                                 ramp=3.0, n_terms=24, envelope=self.gate(0.01, 0.6)))
            self.add(noise_event(rng, a, b, {PITCH: 0.8 * DEG, ROLL: 1.0 * DEG}, 0.3, 2.5, ramp=3.0, n_terms=10))
            times = poisson_times(rng, a + 5, b - 5, 1 / float(rng.uniform(30, 180)))  # kerbs
            self.add(pulses_event(a, b, times, rng.uniform(2.0, 10.0, len(times)), {WZ: 1.0}, 0.06, "ring", 8.0))
            self.add(pulses_event(a, b, times, rng.uniform(1.0, 3.0, len(times)), {PITCH: DEG}, 0.4, "bump"))

    def wake(self, a: float, b: float, after: str, next_where: str) -> None:
        """Fill a wake period with things babies and carers do."""
        rng = self.rng
        age = self.baby.age_months
        t = a
        night = after == "night" and next_where == "crib" and b - a < 45 * MIN
        # waking: a stretch, maybe crying, in the bed
        if rng.random() < 0.6:
            amp = float(rng.uniform(0.08, 0.3))
            r, h, f = float(rng.uniform(0.5, 1.5)), float(rng.uniform(1.0, 4.0)), float(rng.uniform(0.8, 2.0))
            s = t + float(rng.uniform(1, 30))
            self.add(hold_event(s, r, h, f, {LY: amp, NY: 1.5 * amp, LX: 0.2 * amp}))
            self.add(noise_event(rng, s + r, s + r + h, {LY: 0.08 * DEG, LX: 0.08 * DEG}, 6.0, 11.0, ramp=0.3, n_terms=8))
            self.label(s, s + r + h + f, "waking_stretch")
        lie = float(np.clip(rng.exponential(2 * MIN), 20, 8 * MIN))
        self.block("lying_awake", t, min(b, t + lie))
        if rng.random() < 0.4:
            self.crying(t + lie * 0.3, min(b, t + lie + 30))
        t += lie
        if t >= b - 60:
            return
        t = self.lift(t, True)
        # the routine before the next sleep
        end_feed = b - float(rng.uniform(3, 15)) * MIN
        feed_len = float(rng.uniform(8, 25)) * MIN
        will_feed = night or rng.random() < 0.6
        busy_end = end_feed - feed_len if will_feed else b - float(rng.uniform(2, 10)) * MIN
        if not night:
            menu = ["floor_play", "held", "tummy_time", "bouncer_seat", "diaper_change", "feeding", "carrier_walk",
                    "car", "stroller"]
            w = np.array([3.0, 3.0, 1.5 if age < 9 else 0.5, 1.0, 1.0, 1.0, 0.7, 0.5, 0.5])
            if age >= 6:
                menu.append("sitting")
                w = np.append(w, 2.0)
            if age >= 8:
                menu.append("crawling")
                w = np.append(w, 1.5)
            w = w / w.sum()
            while t < busy_end - 2 * MIN:
                kind = str(rng.choice(menu, p=w))
                d = float(np.clip(rng.lognormal(np.log(10 * MIN), 0.6), 2 * MIN, 50 * MIN))
                if kind in ("car", "stroller"):
                    d = float(rng.uniform(10, 60)) * MIN
                e = min(busy_end, t + d)
                if e - t < 60:
                    break
                self.block(kind, t, e)
                self.extras(t, e, kind)
                t = e + 2.0
        if will_feed and max(t, end_feed - feed_len) < end_feed - 60:
            s = max(t, end_feed - feed_len)
            self.block("feeding", s, end_feed)
            self.extras(s, end_feed, "feeding")
            if rng.random() < 0.7:
                p0 = end_feed - float(rng.uniform(20, 120))
                self.set_posture(p0, self.pose_upright(float(rng.uniform(10, 30))), 1.5)
                self.patting(p0 + 2, end_feed)
            if rng.random() < self.baby.reflux:
                s2 = end_feed + float(rng.uniform(10, 60))
                self.reflux(s2, min(b - 30, s2 + float(rng.uniform(1, 8)) * MIN))
            if rng.random() < 0.3 * self.baby.hiccupy:
                s2 = end_feed + float(rng.uniform(0, 60))
                self.hiccups(s2, min(b, s2 + float(rng.uniform(2, 12)) * MIN))
            t = end_feed
        # settling: held and rocked or bounced or patted, then down
        if next_where == "crib" and t < b - 20:
            self.set_posture(t, self.pose_upright(float(rng.uniform(10, 40))), 1.5)
            self.label(t, b, "settling")
            calm = str(rng.choice(["rocking", "bouncing", "patting", "held"], p=[0.4, 0.25, 0.2, 0.15]))
            e = b - float(rng.uniform(5, 20))
            if calm == "rocking":
                self.rocking(t, e)
            elif calm == "bouncing":
                self.bouncing(t, e)
            elif calm == "patting":
                self.patting(t, e)
            self.carer_sway(t, e, 0.6)
            self.lift(e, False)

    def extras(self, a: float, b: float, kind: str) -> None:
        rng = self.rng
        if kind in ("held", "floor_play", "sitting", "bouncer_seat") and rng.random() < 0.3:
            s = float(rng.uniform(a, b))
            self.crying(s, min(b, s + float(rng.uniform(20, 300))))
        if kind == "held" and rng.random() < 0.4:
            s = float(rng.uniform(a, b))
            self.bouncing(s, min(b, s + float(rng.uniform(15, 180))))
        if kind == "held" and rng.random() < 0.3:
            s = float(rng.uniform(a, b))
            self.rocking(s, min(b, s + float(rng.uniform(30, 300))))
        if kind == "held" and rng.random() < 0.2:
            s = float(rng.uniform(a, b))
            self.patting(s, min(b, s + float(rng.uniform(10, 90))))
        for ts in poisson_times(rng, a, b, (1.5 if self.baby.age_months < 5 else 0.6) / H):
            self.startle(float(ts), "moro" if self.baby.age_months < 5.5 else "startle")
        if rng.random() < 0.08 * self.baby.hiccupy:
            s = float(rng.uniform(a, b))
            self.hiccups(s, min(b, s + float(rng.uniform(2, 10)) * MIN))

    def reflux(self, a: float, b: float) -> None:
        """Arching after a feed (Sandifer-like): back arched and head turned, held many seconds."""
        rng = self.rng
        t = a
        while t < b - 10:
            amp = float(rng.uniform(0.2, 0.5))
            r, h, f = float(rng.uniform(0.5, 1.5)), float(rng.uniform(4, 30)), float(rng.uniform(1, 3))
            tw = float(rng.normal(0, 0.15))
            self.add(hold_event(t, r, h, f, {LY: amp, NY: 1.5 * amp, LZ: tw, NZ: 3 * tw}))
            self.add(noise_event(rng, t, t + r + h + f, {LX: 2 * DEG, LZ: 2 * DEG, BZ: 0.4}, 0.5, 4.0, ramp=1.0, n_terms=10))
            t += r + h + f + float(rng.uniform(10, 90))
        self.crying(a, b)
        self.label(a, b, "reflux_arching")

    # -- the whole recording ---------------------------------------------------------------------
    def build(self) -> Plan:
        rng = self.rng
        D = self.D
        eps = _sleep_episodes(rng, self.baby, self.clock0, -6 * H, D + 6 * H)
        eps = [e for e in eps if e[1] > -6 * H and e[0] < D + 6 * H]
        stages: list[Span] = []
        # where each sleep happens
        wheres = []
        for a, b, k in eps:
            w = "crib"
            if k == "nap":
                w = str(rng.choice(["crib", "contact", "car", "stroller", "carrier"], p=[0.62, 0.12, 0.1, 0.1, 0.06]))
            wheres.append(w)
        # walk the sleeps and the wakes between them (starting a little before 0)
        prev_end = -6 * H
        prev_kind = "night"
        for i, (a, b, k) in enumerate(eps):
            w = wheres[i]
            pre, post = float(rng.uniform(2, 15)) * MIN, float(rng.uniform(1, 10)) * MIN
            moving = w in ("car", "stroller", "carrier") and a - pre > prev_end + 5 * MIN
            if not moving and w != "crib" and w != "contact":
                w = wheres[i] = "crib"
            wake_end = a - pre if moving else a
            if wake_end > prev_end + 60 and prev_end < D + 60 and a > -60:
                self.wake(prev_end, wake_end, prev_kind, w)
            if moving:
                s0, s1 = a - pre, b + post
                self.set_posture(s0, (self.nudge_yaw(1.0), float(-rng.uniform(25, 50) * DEG if w != "carrier" else -80 * DEG), 0.0), 2.0)
                if w == "carrier":
                    self.carer_sway(s0, s1, 0.6)
                    self.walking(s0 + 5, s1 - 5, 1.0)
                else:
                    self.vehicle(s0, s1, w)
                self.label(s0, s1, w if w != "carrier" else "carrier_walk", asleep=True)
            elif w == "contact":
                self.set_posture(a, (self.nudge_yaw(1.0), float(-rng.uniform(30, 60) * DEG), float(rng.choice([-1, 0, 1]) * 0.2)), 2.0)
                self.carer_sway(a, b, 0.3)
                self.label(a, b, "contact_nap")
            self.sleep(a, b, w, stages)
            prev_end, prev_kind = b, k
        # states on [0, D]
        states: list[Span] = []
        t = 0.0
        for a, b, _ in eps:
            if b <= 0 or a >= D:
                continue
            a2, b2 = max(a, 0.0), min(b, D)
            if a2 > t:
                states.append(Span(t, a2, "wake"))
            states.append(Span(a2, b2, "sleep"))
            t = b2
        if t < D:
            states.append(Span(t, D, "wake"))
        states = [s for s in states if s.end - s.start > 1e-6]
        merged: list[Span] = []
        for s in states:
            if merged and merged[-1].state == s.state:
                merged[-1].end = s.end
            else:
                merged.append(s)
        states = merged
        wake_onsets = [s.start for s in states if s.state == "wake" and s.start > 0]
        for s in states:
            if s.state == "wake":
                stages.append(Span(s.start, s.end, "wake"))
        stages = sorted([s for s in stages if s.end > 0 and s.start < D], key=lambda s: s.start)

        not_worn = self.plan_not_worn(states, eps)
        clusters, isolated = self.plan_spasms(states, eps, not_worn)
        for c in clusters:
            for s in c.spasms:
                self.events.append(s.event())
            if rng.random() < 0.5:  # crying after a cluster is common
                self.crying(c.end + float(rng.uniform(0, 10)), c.end + float(rng.uniform(30, 300)))
        for s in isolated:
            self.events.append(s.event())

        self.knots.sort(key=lambda k: k[0])
        kt = np.array([k[0] for k in self.knots])
        kd = np.array([k[1] for k in self.knots])
        kd[:-1] = np.minimum(kd[:-1], np.maximum(np.diff(kt), 1e-3))
        kv = np.array([k[2:] for k in self.knots])
        self.slips.sort(key=lambda k: k[0])
        st = np.array([k[0] for k in self.slips])
        sd = np.array([k[1] for k in self.slips])
        sd[:-1] = np.minimum(sd[:-1], np.maximum(np.diff(st), 1e-3))
        sv = np.array([k[2] for k in self.slips])
        self.events.sort(key=lambda e: e.start)
        labels = [lb for lb in self.labels if lb.end > lb.start]
        wall = {"chest": 0.0013, "belly": 0.0028, "side": 0.0018}[self.mount.placement]
        return Plan(
            seed=self.seed, duration_s=D, clock0_s=self.clock0, baby=self.baby, mount=self.mount, states=states,
            stages=stages, wake_onsets=wake_onsets, clusters=clusters, isolated=isolated, not_worn=not_worn,
            labels=labels, events=self.events, knots_t=kt, knots_d=kd, knots_v=kv, slip_t=st, slip_d=sd, slip_v=sv,
            breath_gain=wall * float(np.exp(0.25 * rng.normal())),
            breath_tilt=float(rng.uniform(0.25, 0.8)) * DEG / 0.002,  # 0.25-0.8 deg of pod tilt per 2 mm of wall movement
        )

    def plan_not_worn(self, states: list[Span], eps: list[tuple[float, float, str]]) -> list[NotWorn]:
        """Band off: for the bath (evening), to charge it, or because it annoyed someone."""
        rng = self.rng
        D = self.D
        out: list[NotWorn] = []
        cands: list[tuple[float, float]] = []
        prev_end = -1e9
        for a, b, k in eps:  # bath before the night (not before the night's later parts, after a feed)
            first = k == "night" and a - prev_end > 60 * MIN
            prev_end = b
            if first and rng.random() < 0.7:
                s = a - float(rng.uniform(25, 70)) * MIN
                cands.append((s, s + float(rng.uniform(12, 35)) * MIN))
        n_extra = int(rng.poisson(0.8 * D / 86400.0))
        for _ in range(n_extra):
            s = float(rng.uniform(0, D))
            cands.append((s, s + float(np.clip(rng.lognormal(np.log(30 * MIN), 0.8), 5 * MIN, 4 * H))))
        for a, b in sorted(cands):
            a, b = max(a, 0.0), min(b, D)
            if b - a < 3 * MIN or any(a < n.end + 10 * MIN and n.start < b + 10 * MIN for n in out):
                continue
            r = rot.random_rotation(rng) if rng.random() < 0.3 else (
                rot.rz(rng.uniform(-np.pi, np.pi)) @ (rot.rx(np.pi) if rng.random() < 0.5 else np.eye(3)) @ rot.ry(rng.normal(0, 0.05)))
            out.append(NotWorn(a, b, np.asarray(r), float(rng.uniform(4, 15)), float(rng.uniform(4, 15)),
                               str(rng.choice(["table", "crib rail", "charger", "floor"]))))
            self.label(a, b, "band_off")
        return out

    def plan_spasms(self, states: list[Span], eps: list[tuple[float, float, str]],
                    not_worn: list[NotWorn]) -> tuple[list[Cluster], list[Spasm]]:
        rng = np.random.default_rng([self.seed, 404])
        baby = self.baby
        D = self.D
        busy: list[tuple[float, float]] = [(n.start - 60, n.end + 60) for n in not_worn]

        def free(a: float, b: float) -> bool:
            return all(b < x or a > y for x, y in busy)

        starts: list[tuple[float, bool]] = []
        prev_sleep = {round(b, 3): b - a for a, b, _ in eps}
        for w in [s for s in states if s.state == "wake" and s.start > 0]:
            slept = prev_sleep.get(round(w.start, 3), 0.0)
            if slept >= 20 * MIN and rng.random() < baby.p_cluster_after_wake:
                # most within minutes of waking (Kellaway 1979; Plouin 1987)
                starts.append((w.start + float(np.clip(rng.lognormal(np.log(150.0), 0.9), 15.0, 25 * MIN)), False))
        wake = [s for s in states if s.state == "wake"]
        sleep = [s for s in states if s.state == "sleep"]
        for pool, rate in ((wake, baby.wake_cluster_per_day), (sleep, baby.sleep_cluster_per_day)):
            total = sum(s.end - s.start for s in pool)
            for _ in range(int(rng.poisson(rate * total / 86400.0))):
                x = float(rng.uniform(0, total))
                for s in pool:
                    if x < s.end - s.start:
                        starts.append((s.start + x, False))
                        break
                    x -= s.end - s.start
        clusters: list[Cluster] = []
        for t0, _ in sorted(starts):
            subtle = bool(rng.random() < baby.subtle_share)
            if t0 > D - 60:
                continue
            c = make_cluster(rng, baby, t0, D - 1.0, subtle)
            if c is None or not free(c.start, c.end):
                continue
            if clusters and c.start < clusters[-1].end + 120:
                continue
            clusters.append(c)
            busy.append((c.start - 120, c.end + 120))
        for i, c in enumerate(clusters):
            for s in c.spasms:
                s.cluster = i
        isolated: list[Spasm] = []
        for ts in poisson_times(rng, 60, D - 60, baby.isolated_per_day / 86400.0):
            tp = _template(rng, baby, False)
            s = make_spasm(rng, tp, baby, float(ts), float(np.clip(baby.spasm_deg * np.exp(0.3 * rng.normal()), 1.0, 35.0)))
            if free(s.t - 60, s.end + 60):
                isolated.append(s)
                busy.append((s.t - 60, s.end + 60))
        return clusters, isolated


def _erfinv(y: float) -> float:
    """Inverse error function (Winitzki's approximation, then two Newton steps)."""
    import math

    a = 0.147
    ln = math.log(1 - y * y)
    t = 2 / (math.pi * a) + ln / 2
    x = math.copysign(math.sqrt(math.sqrt(t * t - ln / a) - t), y)
    for _ in range(2):
        x -= (math.erf(x) - y) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


def make_plan(seed: int, duration_s: float, clock0: float | None = None) -> Plan:
    return Planner(seed, duration_s, clock0).build()
