"""Ground truth written beside each recording (``<stem>.truth.json``).

The keys are an interface: the evaluator and tests read them. Times are
seconds on the file's time base, rounded to milliseconds.
"""

from __future__ import annotations

from typing import Any

from spasmwatch.sim.body import Baby
from spasmwatch.sim.scenario import Scenario
from spasmwatch.sim.spasms import Spasm
from spasmwatch.sim.timeline import Cluster, Plan

TRUTH_VERSION = 1


def _r(t: float) -> float:
    return round(float(t), 3)


def _spasm(s: Spasm, cluster: int | None) -> dict[str, Any]:
    return {
        "t": _r(s.t),
        "end": _r(s.end),
        "duration_s": _r(s.duration_s),
        "kind": s.kind,
        "cluster": cluster,
        "amplitude_deg": round(s.amplitude_deg, 2),
    }


def _cluster(index: int, c: Cluster, wake_onsets: list[float], state: str) -> dict[str, Any]:
    before = [t for t in wake_onsets if t <= c.start]
    return {
        "id": index,
        "start": _r(c.start),
        "end": _r(c.end),
        "count": len(c.spasms),
        "subtle": c.subtle,
        "third_end": _r(c.spasms[2].end),
        "post_wake_s": _r(c.start - before[-1]) if before else None,
        "state": state,
        "kinds": sorted({s.kind for s in c.spasms}),
    }


def _subject(b: Baby) -> dict[str, Any]:
    return {
        "age_months": round(b.age_months, 1),
        "breaths_per_min_quiet_sleep": round(b.breath_hz_quiet_sleep * 60.0, 1),
        "heart_bpm": round(b.heart_hz * 60.0, 1),
        "vigour": round(b.vigour, 3),
        "lever_m": [round(float(v), 3) for v in b.lever_m],
        "band_looseness": round(b.looseness, 3),
    }


def build_truth(scn: Scenario, plan: Plan, mounting: dict[str, object]) -> dict[str, Any]:
    states = plan.states()
    onsets = plan.wake_onsets
    spasms = [_spasm(s, i) for i, c in enumerate(plan.clusters) for s in c.spasms]
    spasms += [_spasm(s, None) for s in plan.isolated]
    spasms.sort(key=lambda s: float(s["t"]))
    state_at = {id(c): next((s.state for s in states if s.start <= c.start < s.end), "wake") for c in plan.clusters}
    return {
        "version": TRUTH_VERSION,
        "rate_hz": float(scn.rate_hz),
        "duration_s": float(scn.resolved_duration_s),
        "n_samples": scn.n_samples,
        "seed": scn.seed,
        "has_gyro": scn.has_gyro,
        "kind": scn.kind,
        "mounting": mounting,
        "subject": _subject(plan.world.baby),
        "spasms": spasms,
        "clusters": [_cluster(i, c, onsets, state_at[id(c)]) for i, c in enumerate(plan.clusters)],
        "states": [{"start": _r(s.start), "end": _r(s.end), "state": s.state} for s in states],
        "wake_onsets": [_r(t) for t in onsets],
        "not_worn": [{"start": _r(n.start), "end": _r(n.end)} for n in plan.not_worn],
        "taps": [_r(t) for t in sorted(scn.taps)],
        "confounders": [c.as_dict() for c in sorted(plan.world.labels, key=lambda c: (c.start, c.kind))],
    }
