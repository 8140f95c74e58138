"""From a scenario to a plan: states, clusters, band removals and activities.

Order matters: clusters are placed first (mostly minutes after a wake
onset), then band removals away from them, then ordinary activities fill
the rest of each sleep or wake span, so nothing labelled overlaps a cluster
except the background the cluster happens in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spasmwatch.sim import confounders as cf
from spasmwatch.sim import rotation as rot
from spasmwatch.sim.body import Baby
from spasmwatch.sim.movements import NoiseMotion
from spasmwatch.sim.posture import PostureTrack, base_posture
from spasmwatch.sim.rotation import FloatArray
from spasmwatch.sim.scenario import Scenario
from spasmwatch.sim.schedule import MINUTE, SCHEDULES, Span
from spasmwatch.sim.spasms import ClusterPlan, Spasm, make_spasm, plan_cluster
from spasmwatch.sim.wake import fill_sleep, fill_wake, wake_up
from spasmwatch.sim.world import World

_CLUSTER_MARGIN_S = 20.0  # quiet background kept around a cluster
_AFTER_WAKE_P = 0.7  # share of clusters starting within minutes of waking
_IN_SLEEP_P = 0.05  # spasms "rarely occur during sleep"
_SPASM_GAP_S = 0.5  # least relaxed time between one spasm's end and the next onset


@dataclass
class Cluster:
    spasms: list[Spasm]
    subtle: bool

    @property
    def start(self) -> float:
        return self.spasms[0].t

    @property
    def end(self) -> float:
        return max(s.end for s in self.spasms)


@dataclass
class NotWorn:
    start: float
    end: float
    table: FloatArray  # sensor -> world orientation while lying on the table


@dataclass
class Plan:
    world: World
    spans: list[Span]  # sleep / wake before band removals are cut out
    clusters: list[Cluster] = field(default_factory=list)
    isolated: list[Spasm] = field(default_factory=list)
    not_worn: list[NotWorn] = field(default_factory=list)

    @property
    def wake_onsets(self) -> list[float]:
        return [b.start for a, b in zip(self.spans, self.spans[1:]) if a.state == "sleep" and b.state == "wake"]

    def states(self) -> list[Span]:
        """Sleep/wake spans with not-worn periods cut out: covers the file exactly."""
        out: list[Span] = []
        cuts = sorted(self.not_worn, key=lambda n: n.start)
        for span in self.spans:
            t = span.start
            for nw in cuts:
                if span.start <= nw.start < span.end:
                    if nw.start > t:
                        out.append(Span(t, nw.start, span.state))
                    out.append(Span(nw.start, nw.end, "not_worn"))
                    t = nw.end
            if span.end > t:
                out.append(Span(t, span.end, span.state))
        return out


def build_plan(scn: Scenario, baby: Baby, rng: np.random.Generator) -> Plan:
    duration = scn.resolved_duration_s
    spans = SCHEDULES[scn.kind](rng, duration)
    first = "supine" if spans[0].state == "sleep" else str(rng.choice(["supine", "cradle", "upright"]))
    world = World(rng, baby, scn.rate_hz, duration, PostureTrack(base_posture(first, rng)), first)
    plan = Plan(world, spans)
    _place_clusters(plan, scn)
    _place_isolated(plan, scn)
    if scn.not_worn:
        _place_not_worn(plan, scn.kind)
    _fill(plan, scn.kind)
    for t in scn.taps:  # last: the rest of the story keeps its random draws
        cf.taps(plan.world, t)
    return plan


def _busy(plan: Plan) -> list[tuple[float, float]]:
    out = [(c.start - _CLUSTER_MARGIN_S, c.end + _CLUSTER_MARGIN_S) for c in plan.clusters]
    out += [(s.t - _CLUSTER_MARGIN_S, s.end + _CLUSTER_MARGIN_S) for s in plan.isolated]
    out += [(n.start - 30.0, n.end + 30.0) for n in plan.not_worn]
    return sorted(out)


def _free(plan: Plan, start: float, end: float) -> bool:
    return all(end <= a or start >= b for a, b in _busy(plan))


def _place_clusters(plan: Plan, scn: Scenario) -> None:
    w = plan.world
    for _ in range(scn.resolved_clusters):
        subtle = scn.subtle or scn.kind == "subtle" or w.chance(scn.subtle_fraction)
        shape = plan_cluster(w.rng, scn.cluster_size, subtle, scn.spasm_amplitude_scale, w.baby)
        # Room for onsets pushed back behind a long previous spasm (see _cluster_spasms).
        length = float(shape.onsets[-1]) + 3.0 + _SPASM_GAP_S * len(shape.kinds)
        for _attempt in range(50):
            t0 = _cluster_onset(plan, length)
            if t0 is not None and _free(plan, t0 - _CLUSTER_MARGIN_S, t0 + length + _CLUSTER_MARGIN_S):
                plan.clusters.append(Cluster(_cluster_spasms(w, t0, shape), shape.subtle))
                break
    plan.clusters.sort(key=lambda c: c.start)


def _cluster_spasms(w: World, t0: float, shape: ClusterPlan) -> list[Spasm]:
    """Spasms at the planned onsets, each starting after the previous has relaxed."""
    spasms: list[Spasm] = []
    for dt, kind, amp in zip(shape.onsets, shape.kinds, shape.amplitudes_deg):
        t = t0 + float(dt)
        if spasms:
            t = max(t, spasms[-1].end + _SPASM_GAP_S)
        spasms.append(make_spasm(w.rng, t, kind, float(amp), shape.side, w.baby, w.rate_hz))
    return spasms


def _place_isolated(plan: Plan, scn: Scenario) -> None:
    """Single spasms outside clusters: detected as spasms, never alerted as clusters."""
    w = plan.world
    for _ in range(scn.resolved_isolated):
        for _attempt in range(50):
            t0 = _cluster_onset(plan, 3.0)
            # Keep well clear of clusters so the single spasm cannot extend one.
            if t0 is not None and _free(plan, t0 - 120.0, t0 + 120.0):
                kind = str(w.rng.choice(["flexor", "extensor", "mixed", "asymmetric"]))
                amp = math.exp(w.u(math.log(8.0), math.log(35.0))) * scn.spasm_amplitude_scale
                plan.isolated.append(make_spasm(w.rng, t0, kind, amp, float(w.rng.choice([-1.0, 1.0])), w.baby, w.rate_hz))
                break
    plan.isolated.sort(key=lambda s: s.t)


def _cluster_onset(plan: Plan, length: float) -> float | None:
    """A candidate first-spasm time whose whole cluster fits in one span."""
    w = plan.world
    onsets = plan.wake_onsets
    if onsets and w.chance(_AFTER_WAKE_P):
        t0 = float(w.rng.choice(onsets)) + float(w.rng.gamma(1.5, 2.0 * MINUTE)) + 20.0
    else:
        want = "sleep" if w.chance(_IN_SLEEP_P) else "wake"
        spans = [s for s in plan.spans if s.state == want and s.end - s.start > length + 2 * _CLUSTER_MARGIN_S]
        if not spans:
            spans = [s for s in plan.spans if s.end - s.start > length + 2 * _CLUSTER_MARGIN_S]
        if not spans:
            return None
        span = spans[int(w.rng.integers(len(spans)))]
        t0 = w.u(span.start + _CLUSTER_MARGIN_S, span.end - length - _CLUSTER_MARGIN_S)
    home = next((s for s in plan.spans if s.start <= t0 < s.end), None)
    if home is None or t0 + length + _CLUSTER_MARGIN_S > home.end or t0 - _CLUSTER_MARGIN_S < home.start:
        return None
    return t0


def _place_not_worn(plan: Plan, kind: str) -> None:
    """Bath, clothes change or a skin break: band off and put on a surface."""
    w = plan.world
    count = {"day": int(w.rng.integers(1, 4)), "confounders": 1}.get(kind, 0)
    wake = [s for s in plan.spans if s.state == "wake" and s.end - s.start > 20 * MINUTE]
    for _ in range(count if wake else 0):
        for _attempt in range(30):
            span = wake[int(w.rng.integers(len(wake)))]
            lo, hi = (2.0, 6.0) if kind == "confounders" else (3.0, 25.0)
            length = min(w.u(lo, hi) * MINUTE, 0.4 * (span.end - span.start))
            start = w.u(span.start + 5 * MINUTE, span.end - length - 2 * MINUTE)
            if _free(plan, start, start + length):
                plan.not_worn.append(NotWorn(start, start + length, _table_orientation(w.rng)))
                break
    plan.not_worn.sort(key=lambda n: n.start)


def _table_orientation(rng: np.random.Generator) -> FloatArray:
    """Band lying on a table: one of its faces down, any heading, a slight tilt."""
    faces = [("x", 0.0), ("x", math.pi), ("x", math.pi / 2), ("x", -math.pi / 2), ("y", math.pi / 2), ("y", -math.pi / 2)]
    axis, angle = faces[int(rng.integers(len(faces)))]
    q = rot.multiply(rot.about_axis("z", rng.uniform(-math.pi, math.pi)), rot.about_axis(axis, angle))
    return rot.multiply(q, rot.from_rotvec(rng.normal(scale=math.radians(2.0), size=3)))


def _fill(plan: Plan, kind: str) -> None:
    """Give every span its activities, cutting out clusters and band removals."""
    w = plan.world
    holes: list[tuple[float, float, Cluster | NotWorn | Spasm]]
    holes = [(c.start - _CLUSTER_MARGIN_S, c.end + _CLUSTER_MARGIN_S, c) for c in plan.clusters]
    holes += [(n.start, n.end, n) for n in plan.not_worn]
    holes += [(s.t - _CLUSTER_MARGIN_S, s.end + _CLUSTER_MARGIN_S, s) for s in plan.isolated]
    holes.sort(key=lambda h: h[0])
    onsets = set(plan.wake_onsets)
    for span in plan.spans:
        t = span.start
        inside = [h for h in holes if span.start <= h[0] < span.end]
        if span.start in onsets:
            t = wake_up(w, t, inside[0][0] if inside else span.end)
        night = kind == "night" or span.end - span.start > 90 * MINUTE
        for a, b, what in inside:
            _fill_gap(w, span.state, t, a, kind, night)
            if isinstance(what, Cluster):
                _cluster_background(w, a, b, what, span.state)
            elif isinstance(what, Spasm):
                cf.fidget(w, a, b, w.u(0.3, 2.0))
                w.add(*what.motions)
            else:
                _band_off(w, what)
            t = b
        _fill_gap(w, span.state, t, span.end, kind, night)


def _fill_gap(w: World, state: str, start: float, end: float, kind: str, night: bool) -> None:
    if end - start <= 1.0:
        return
    if state == "sleep":
        fill_sleep(w, start, end, cot=night)
    else:
        fill_wake(w, start, end, tour=kind == "confounders")


def _cluster_background(w: World, start: float, end: float, cluster: Cluster, state: str) -> None:
    """The setting a cluster happens in; often followed by crying (Kellaway 1979)."""
    if state == "wake":
        names = ["supine", "upright", "shoulder", "cradle", "bouncer", "car_seat", "prone", "left_side", "right_side"]
        p = [0.3, 0.12, 0.08, 0.1, 0.1, 0.05, 0.1, 0.075, 0.075]
        posture = str(w.rng.choice(names, p=p))
        w.set_posture(start, posture)
        cf.fidget(w, start, end, w.u(0.3, 2.0))
        w.breathe(start, end, rate=1.1)
        _busy_background(w, start, end, posture)
    for spasm in cluster.spasms:
        w.add(*spasm.motions)
    if state == "wake" and w.chance(0.25):
        _cries_between(w, cluster)
    if state == "wake" and w.chance(0.5):
        cry_start = cluster.end + w.u(1.0, 5.0)
        cf.crying(w, cry_start, min(end, cry_start + w.u(5.0, 15.0)))


def _cries_between(w: World, cluster: Cluster) -> None:
    """Short cries after some spasms, before the next one (Kellaway 1979)."""
    for spasm, following in zip(cluster.spasms, cluster.spasms[1:]):
        start = spasm.end + w.u(0.3, 1.5)
        end = min(start + w.u(1.5, 4.0), following.t - 0.5)
        if end - start > 1.0 and w.chance(0.5):
            cf.crying(w, start, end, intensity=w.u(0.2, 0.5))  # a whimper, not a full cry


def _busy_background(w: World, start: float, end: float, posture: str) -> None:
    """Sometimes the cluster comes while the baby is being rocked, carried or driven."""
    if w.chance(0.3) and posture in ("upright", "shoulder", "cradle"):
        (cf.rocking if w.chance(0.5) else cf.carrying)(w, start, end)
    elif w.chance(0.5) and posture == "car_seat":
        cf.car(w, start, end)


def _band_off(w: World, nw: NotWorn) -> None:
    """Handling while the band is taken off and put back on."""
    w.add(NoiseMotion(w.rng, nw.start - 20.0, nw.start + 2.0, 1.0, rot_sigma=np.full(3, math.radians(8.0)), acc_body_sigma=np.full(3, 0.05)))
    w.add(NoiseMotion(w.rng, nw.end - 2.0, nw.end + 20.0, 1.0, rot_sigma=np.full(3, math.radians(8.0)), acc_body_sigma=np.full(3, 0.05)))
    w.label("handling", nw.start - 20.0, nw.start)
    w.label("handling", nw.end, nw.end + 20.0)
    w.set_posture(nw.end, str(w.rng.choice(["supine", "cradle", "upright"])), 2.0)
