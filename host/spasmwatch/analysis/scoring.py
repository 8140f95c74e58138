"""Score replay records against a simulator's ground truth.

Matching rules (kept simple and stated, so numbers can be compared):
- a true cluster is found when a detected cluster overlaps it in time and
  its alarm is raised no later than 60 s after the true cluster ends;
  a detected cluster overlapping no true cluster is a false cluster;
- alarm delay = alert_t - end of the third true spasm (negative: the alarm
  came before the third spasm had ended);
- a found cluster's count ratio = the counts of the detected clusters over
  it / the true spasms in its span (what a doctor reads against what
  happened); true clusters that share a detected cluster are weighed
  together, so no detected spasm counts twice;
- medians are the usual ones; p10 and p90 are nearest-rank;
- a true spasm is found when a detected spasm's onset lies within 1.5 s
  of it, one to one (``_paired``): a detected spasm paired with no true
  spasm is a false spasm, a second detection of one spasm too;
- a true wake onset is found when a detected wake onset lies within 5 min,
  one to one as spasms are; a detected one paired with none is a false wake;
- a true not-worn interval is found when a detected one overlaps it, one
  to one (``_paired_spans``): a detected one paired with none is false;
- what was going on at a false cluster, a missed cluster or a missed wake
  (the spans of 60 s around a wake onset) is every ``confounders[].kind``
  and ``places[].context`` of the truth overlapping it, when the truth
  labels them (both simulators do; docs/real-recordings.md asks for them).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from spasmwatch.analysis.pipeline import Record


SPASM_TOL_S = 1.5
WAKE_TOL_S = 300.0
ALARM_LATE_S = 60.0
ALARM_ON_TIME_S = 2.0  # the target: alarm within 2 s after the third spasm
WAKE_SPAN_S = 30.0  # a missed wake is put in the context of the minute around its onset


@dataclass
class Score:
    hours: float = 0.0
    clusters_true: int = 0
    clusters_found: int = 0
    subtle_true: int = 0
    subtle_found: int = 0
    false_clusters: int = 0
    # Per true cluster, in the truth's order: its alarm delay (s), None if missed.
    cluster_delays_s: list[float | None] = field(default_factory=list)
    spasms_true: int = 0
    spasms_found: int = 0
    false_spasms: int = 0
    wakes_true: int = 0
    # Onsets (s, on the recording's time base): true wakes no detection found, detected wakes near no true one.
    missed_wakes_s: list[float] = field(default_factory=list)
    false_wakes_s: list[float] = field(default_factory=list)
    post_wake_errors_s: list[float] = field(default_factory=list)
    # Per true cluster found: the detected clusters' spasm count over its true count (what a
    # doctor reads as spasms per cluster, against what happened).
    cluster_count_ratios: list[float] = field(default_factory=list)
    # What was going on (the truth's labels) at each false cluster, missed cluster and missed wake:
    # each label counts once per item, so an item in a car while crying adds to both.
    false_cluster_contexts: Counter[str] = field(default_factory=Counter)
    missed_cluster_contexts: Counter[str] = field(default_factory=Counter)
    missed_wake_contexts: Counter[str] = field(default_factory=Counter)
    not_worn_true: int = 0
    not_worn_found: int = 0
    false_not_worn: int = 0

    @property
    def alarm_delays_s(self) -> list[float]:
        """Alarm delays of the clusters found."""
        return [d for d in self.cluster_delays_s if d is not None]

    @property
    def wakes_found(self) -> int:
        return self.wakes_true - len(self.missed_wakes_s)

    def add(self, other: Score) -> None:
        for k, v in vars(other).items():
            setattr(self, k, getattr(self, k) + v)

    def contexts(self) -> dict[str, dict[str, int]]:
        """What was going on at the false clusters, missed clusters and missed wakes, most common
        first, ties by name (labels are counted from sets, whose order changes with each run's hash seed)."""

        def ranked(c: Counter[str]) -> dict[str, int]:
            return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

        return {
            "false_clusters": ranked(self.false_cluster_contexts),
            "missed_clusters": ranked(self.missed_cluster_contexts),
            "missed_wakes": ranked(self.missed_wake_contexts),
        }

    def summary(self, exact: bool = False) -> dict[str, Any]:
        """The scores as printed (ratios to 3 places, the rest to 2), or ``exact`` (to judge a
        target by: 1.0038 false clusters per 24 h, printed 1.0, is over a target of 1)."""

        def rnd(x: float, places: int) -> float:
            return x if exact else round(x, places)

        def ratio(a: int, b: int) -> float | None:
            return rnd(a / b, 3) if b else None

        def pct(xs: list[float], q: float) -> float | None:
            """The median, or the nearest-rank q-quantile (p90 of ten values is the ninth, not the largest)."""
            if not xs:
                return None
            if q == 0.5:
                return rnd(statistics.median(xs), 2)
            s = sorted(xs)
            return rnd(s[max(0, math.ceil(q * len(s)) - 1)], 2)

        day = self.hours / 24.0 if self.hours else 1.0
        return {
            "hours": rnd(self.hours, 2),
            "cluster_sensitivity": ratio(self.clusters_found, self.clusters_true),
            "clusters": f"{self.clusters_found}/{self.clusters_true}",
            "subtle_cluster_sensitivity": ratio(self.subtle_found, self.subtle_true),
            "subtle_clusters": f"{self.subtle_found}/{self.subtle_true}",
            "false_clusters_per_24h": rnd(self.false_clusters / day, 2),
            "false_clusters": self.false_clusters,
            "alarm_delay_s_median": pct(self.alarm_delays_s, 0.5),
            "alarm_delay_s_p90": pct(self.alarm_delays_s, 0.9),
            "alarm_delay_s_max": rnd(max(self.alarm_delays_s), 2) if self.alarm_delays_s else None,
            # Of the found clusters, alarmed within ALARM_ON_TIME_S of the third true spasm: the
            # rest missed an early spasm and alarmed at a later one.
            "alarms_on_time": ratio(sum(d <= ALARM_ON_TIME_S for d in self.alarm_delays_s), len(self.alarm_delays_s)),
            "spasm_sensitivity": ratio(self.spasms_found, self.spasms_true),
            "false_spasms_per_hour": rnd(self.false_spasms / self.hours, 2) if self.hours else None,
            "wake_onsets_within_5min": ratio(self.wakes_found, self.wakes_true),
            "wakes": f"{self.wakes_found}/{self.wakes_true}",
            "false_wakes_per_24h": rnd(len(self.false_wakes_s) / day, 2),
            "post_wake_error_s_median": pct([abs(e) for e in self.post_wake_errors_s], 0.5),
            "post_wake_error_s_p90": pct([abs(e) for e in self.post_wake_errors_s], 0.9),
            "cluster_count_ratio_median": pct(self.cluster_count_ratios, 0.5),
            "cluster_count_ratio_p10": pct(self.cluster_count_ratios, 0.1),
            "not_worn_found": f"{self.not_worn_found}/{self.not_worn_true}",
            "false_not_worn": self.false_not_worn,
        }


def _overlap(a0: float, a1: float, b0: float, b1: float) -> bool:
    return a0 <= b1 and b0 <= a1


class _Labels:
    """The truth's optional context labels: what was going on in a span of time."""

    def __init__(self, truth: dict[str, Any]) -> None:
        self.spans = [(float(c["start"]), float(c["end"]), str(c["kind"])) for c in truth.get("confounders", [])]
        self.spans += [(float(p["start"]), float(p["end"]), str(p["context"])) for p in truth.get("places", [])]

    def count(self, into: Counter[str], t0: float, t1: float) -> None:
        """Count each label over [t0, t1] once (nothing when the truth labels no context)."""
        if self.spans:
            into.update({k for a, b, k in self.spans if _overlap(a, b, t0, t1)} or {"nothing labelled"})


def score(records: list[Record], truth: dict[str, Any]) -> Score:
    sc = Score(hours=float(truth["duration_s"]) / 3600.0)
    by = {k: [r for r in records if r["type"] == k] for k in ("spasm", "cluster", "wake", "not_worn")}
    labels = _Labels(truth)
    _score_clusters(sc, by["cluster"], truth, labels)
    _score_spasms(sc, by["spasm"], truth["spasms"])
    _score_wakes(sc, by["wake"], truth["wake_onsets"], labels)
    _score_not_worn(sc, by["not_worn"], truth["not_worn"])
    return sc


def _score_clusters(sc: Score, det: list[Record], truth: dict[str, Any], labels: _Labels) -> None:
    onsets = sorted(s["t"] for s in truth["spasms"])
    overlaps = [[i for i, d in enumerate(det) if _overlap(d["start"], d["end"], tc["start"], tc["end"])] for tc in truth["clusters"]]
    ratios = _count_ratios(det, truth["clusters"], overlaps, onsets)
    used: set[int] = set()
    for k, tc in enumerate(truth["clusters"]):
        sc.clusters_true += 1
        sc.subtle_true += bool(tc["subtle"])
        overlapping = overlaps[k]
        used.update(overlapping)
        match = [i for i in overlapping if det[i]["alert_t"] <= tc["end"] + ALARM_LATE_S]
        if not match:
            sc.cluster_delays_s.append(None)
            labels.count(sc.missed_cluster_contexts, tc["start"], tc["end"])
            continue
        d = det[match[0]]
        sc.clusters_found += 1
        sc.subtle_found += bool(tc["subtle"])
        sc.cluster_delays_s.append(d["alert_t"] - tc["third_end"])
        if tc.get("post_wake_s") is not None and d["post_wake_s"] is not None:
            sc.post_wake_errors_s.append(d["post_wake_s"] - tc["post_wake_s"])
        ratio = ratios[k]
        if ratio is not None:
            sc.cluster_count_ratios.append(ratio)
    sc.false_clusters += len(det) - len(used)
    for i, d in enumerate(det):
        if i not in used:
            labels.count(sc.false_cluster_contexts, d["start"], d["end"])


def _count_ratios(det: list[Record], true: list[dict[str, Any]], overlaps: list[list[int]], onsets: list[float]) -> list[float | None]:
    """Per true cluster: detected count over true spasms, over the group it shares detections with.

    Every detected cluster over a true one counts (a pause can split one true cluster in
    two), and each counts once: one detected cluster over two true ones (a chain bridging
    a 30-40 s gap) is weighed against both clusters' spasms together, not twice.
    """
    group = list(range(len(true)))  # union-find over true clusters joined by a detection

    def root(k: int) -> int:
        while group[k] != k:
            group[k] = group[group[k]]
            k = group[k]
        return k

    owner: dict[int, int] = {}
    for k, dets in enumerate(overlaps):
        for i in dets:
            if i in owner:
                group[root(k)] = root(owner[i])
            owner[i] = k
    n_true = [bisect_right(onsets, tc["end"]) - bisect_left(onsets, tc["start"]) for tc in true]
    found_n: dict[int, int] = {}
    true_n: dict[int, int] = {}
    for k in range(len(true)):
        true_n[root(k)] = true_n.get(root(k), 0) + n_true[k]
    for i, k in owner.items():
        found_n[root(k)] = found_n.get(root(k), 0) + det[i]["count"]
    return [found_n.get(root(k), 0) / true_n[root(k)] if n_true[k] and true_n[root(k)] else None for k in range(len(true))]


def _score_spasms(sc: Score, det: list[Record], truth: list[dict[str, Any]]) -> None:
    missed, false = _paired([s["t"] for s in truth], [d["t"] for d in det], SPASM_TOL_S)
    sc.spasms_true += len(truth)
    sc.spasms_found += len(truth) - len(missed)
    sc.false_spasms += len(false)


def _paired(truth: list[float], det: list[float], tol: float) -> tuple[list[float], list[float]]:
    """(true times paired with no detection, detections paired with no true time), in time order.

    One to one: a detection near two true spasms finds one of them, and a second detection of
    one spasm is a false one (asking each side 'is anything near?' counted both as found, and
    neither as false). Each true time in order takes the earliest free detection within ``tol``:
    the windows are all as wide, so a later true time can reach no detection the earlier one
    passed over, and this makes as many pairs as there can be.
    """
    dt = sorted(det)
    missed: list[float] = []
    false: list[float] = []
    j = 0
    for t in sorted(truth):
        while j < len(dt) and dt[j] < t - tol:  # too early for this true time, so for every later one
            false.append(dt[j])
            j += 1
        if j < len(dt) and dt[j] <= t + tol:
            j += 1
        else:
            missed.append(t)
    return missed, false + dt[j:]


def _score_wakes(sc: Score, det: list[Record], truth: list[float], labels: _Labels) -> None:
    missed, false = _paired(truth, [d["t"] for d in det], WAKE_TOL_S)
    sc.wakes_true += len(truth)
    sc.missed_wakes_s += missed
    for w in missed:
        labels.count(sc.missed_wake_contexts, w - WAKE_SPAN_S, w + WAKE_SPAN_S)
    sc.false_wakes_s += false


def _score_not_worn(sc: Score, det: list[Record], truth: list[dict[str, Any]]) -> None:
    missed, false = _paired_spans(truth, det)
    sc.not_worn_true += len(truth)
    sc.not_worn_found += len(truth) - missed
    sc.false_not_worn += false


def _paired_spans(truth: list[dict[str, Any]], det: list[Record]) -> tuple[int, int]:
    """(true spans paired with no detection, detections paired with none), overlapping ones paired
    one to one (as ``_paired``: one detection over two band-offs found both, hours of wear between
    them called 'not worn' at no cost; a band-off detected in two pieces, two FAULT alerts, no false one).

    Each true span, by its end, takes the free detection over it that ends first: any later true
    span the one taken reaches, those left reach too, so this makes as many pairs as there can be.
    """
    free = sorted(det, key=lambda d: d["end"])
    missed = 0
    for t in sorted(truth, key=lambda t: t["end"]):
        i = next((i for i, d in enumerate(free) if _overlap(d["start"], d["end"], t["start"], t["end"])), None)
        if i is None:
            missed += 1
        else:
            del free[i]
    return missed, len(free)
