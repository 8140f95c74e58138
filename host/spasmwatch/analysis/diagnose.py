"""Why a true spasm was missed: the furthest the band's detector got with it.

For researchers scoring the detector on labelled recordings (``spasmwatch
evaluate --why``). The band's own streaming detector (``swcore.detector``)
runs on CPython over each true cluster, starting from the gyro bias the
replay of the whole recording has there and with a lead-in so its
background windows have settled, and every candidate it starts is followed
to its end. A true spasm is matched to the candidate starting nearest its
onset (within ``MATCH_S``) that got furthest, and given the stage it stopped
at; with no candidate there, whether the detector was idle (the rate did not
clear the onset bar) or busy with an earlier candidate.

Only what is shared with the twin's rules is read (the Detector's state and
its own fields), so the stages name the rules of docs/detector.md. A spasm
the detector let go but the band's cluster counter counted (a ``matched``
record of the replay within ``MATCH_S``) keeps its stage and is marked
``counted``.
"""

from __future__ import annotations

import copy
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spasmwatch.analysis.twin import BiasTrack
from swcore.detector import HOLD, IDLE, RETURN, RISE, Detector
from swcore.frontend import Params

# The stages, in the order the detector reaches them (the report's order).
DETECTED = "detected"
NO_ONSET = "no onset: peak rate under the onset bar"
BUSY = "no onset: detector busy with an earlier candidate"
NO_SETTLE = "rise did not settle"
NOT_CALM_BEFORE = "the second before not calm"
SMALL = "posture change under the weak tier"
NO_HOLD = "no hold, or held too long"
NO_RELEASE = "no release"
NOT_CALM_AFTER = "the second after not calm"
STAGES = (DETECTED, NO_ONSET, BUSY, NO_SETTLE, NOT_CALM_BEFORE, SMALL, NO_HOLD, NO_RELEASE, NOT_CALM_AFTER)
# One letter per stage for a cluster's spasms in a line (``cluster_line``); lower case
# when the cluster counter counted the spasm the detector let go.
CODES = dict(zip(STAGES, "DOBSCWHRA"))
COUNTED = "(not detected, counted by the cluster counter)"

LEAD_S = 600.0  # before a cluster: the background windows need a calm spell to start from
TAIL_S = 5.0  # after it: the last spasm's release and calm-after window
MATCH_S = 0.6  # a candidate this close to a true onset is that spasm's

I64 = NDArray[np.int64]


@dataclass(frozen=True)
class ClusterWhy:
    """One true cluster: its start (s), whether subtle, and each true spasm's stage in order."""

    start: float
    subtle: bool
    stages: tuple[str, ...]
    counted: tuple[bool, ...] = ()  # per spasm: let go by the detector, counted by the cluster counter

    @property
    def group(self) -> str:
        return "subtle" if self.subtle else "full"


@dataclass
class _Candidate:
    i0: int
    furthest: int = RISE
    stage: str = ""


class _Traced(Detector):
    """The band's detector, keeping each candidate's onset and where it ended."""

    def reset(self) -> None:
        super().reset()
        self.candidates: list[_Candidate] = []

    def trace(self, a: I64, g: I64) -> None:
        self.states = bytearray(len(a))  # the state after each sample
        for i in range(len(a)):
            before = self.state
            found = self.step(int(a[i, 0]), int(a[i, 1]), int(a[i, 2]), int(g[i, 0]), int(g[i, 1]), int(g[i, 2]))
            self.states[i] = self.state
            if before == IDLE:
                if self.state == IDLE:
                    continue
                self.candidates.append(_Candidate(self._i0))
            c = self.candidates[-1]
            if self.state != IDLE:
                c.furthest = max(c.furthest, self.state)
            elif not c.stage:
                c.stage = DETECTED if found else self._why_ended(before)

    def _why_ended(self, st: int) -> str:
        p = self.p
        if st == RISE:
            if self._quiet < p.settle_n:
                return NO_SETTLE
            return SMALL if self._dpk2 < p.dev_weak2 else NOT_CALM_BEFORE
        if st == HOLD:
            return NO_HOLD
        return NO_RELEASE if st == RETURN else NOT_CALM_AFTER  # st == POST


def diagnose(
    acc: I64, gyro: I64, rate_hz: float, has_gyro: bool, truth: Mapping[str, Any], matched: Sequence[float] = (), t0: float = 0.0
) -> list[ClusterWhy]:
    """For each of ``truth``'s clusters (in its order), the stage of each true spasm inside it.

    ``acc``/``gyro``: the whole recording in the band's units (``twin.to_units``).
    Each window starts on a bias block with the gyro bias the replay of the
    whole recording has there, so "detected" means what the replay detected.
    ``matched``: onsets (s) of the replay's matched spasm records. ``t0``: the time of sample 0
    (truth times are on the file's own time base, which need not start at 0).
    """
    found = np.sort(np.asarray(matched, dtype=float))
    clusters = list(truth["clusters"])
    out: dict[int, ClusterWhy] = {}
    n = len(acc)
    bias = BiasTrack(Params(rate_hz, has_gyro))
    blk = bias.blk
    for k in sorted(range(len(clusters)), key=lambda k: float(clusters[k]["start"])):  # the bias only runs forward
        cl = clusters[k]
        onsets = sorted(float(s["t"]) for s in truth["spasms"] if cl["start"] - 1e-6 <= s["t"] <= cl["end"])
        det = _Traced(rate_hz, has_gyro)
        s0 = max(0, int((cl["start"] - t0 - LEAD_S) * rate_hz)) // blk * blk
        s1 = min(n, int((cl["end"] - t0 + TAIL_S) * rate_hz) + 1)
        if has_gyro:  # the bias the whole replay has at s0, not one learnt from the lead-in alone
            bias.advance(bias.done * blk, gyro[bias.done * blk : s0])
            det.fe.continue_bias(copy.deepcopy(bias.gb))
        det.trace(acc[s0:s1], gyro[s0:s1])
        stages = tuple(_stage(det, round((t - t0) * rate_hz) - s0, MATCH_S * rate_hz) for t in onsets)
        near = [bool(len(found)) and bool(np.min(np.abs(found - t)) <= MATCH_S) for t in onsets]
        counted = tuple(st != DETECTED and m for st, m in zip(stages, near))
        out[k] = ClusterWhy(float(cl["start"]), bool(cl["subtle"]), stages, counted)
    return [out[k] for k in range(len(clusters))]


def counts(clusters: list[ClusterWhy]) -> Counter[tuple[str, str]]:
    """(group, stage) -> true spasms; group ``subtle`` for clusters marked subtle, else ``full``;
    (group, COUNTED) -> those the detector let go and the cluster counter counted."""
    n = Counter((c.group, st) for c in clusters for st in c.stages)
    n.update((c.group, COUNTED) for c in clusters for m in c.counted if m)
    return n


def _stage(det: _Traced, i: int, tol: float) -> str:
    near = [c for c in det.candidates if abs(c.i0 - i) <= tol]
    if not near:
        busy = 0 <= i - 1 < len(det.states) and det.states[i - 1] != IDLE
        return BUSY if busy else NO_ONSET
    best = max(near, key=lambda c: (c.stage == DETECTED, c.furthest))
    return best.stage or NO_RELEASE  # still open when the trace ended


def report(counts: Counter[tuple[str, str]]) -> list[str]:
    """The table ``evaluate --why`` prints: stage, then counts per group."""
    groups = sorted({g for g, _ in counts})
    totals = {g: sum(v for (gg, st), v in counts.items() if gg == g and st != COUNTED) for g in groups}
    lines = [f"  {'stage':52s}" + "".join(f"{g + f' ({totals[g]})':>14s}" for g in groups)]
    for stage in (*STAGES, COUNTED):
        if any(counts[(g, stage)] for g in groups):
            lines.append(f"  {stage:52s}" + "".join(f"{counts[(g, stage)]:>14d}" for g in groups))
    return lines


def legend() -> str:
    text = "; ".join(f"{code} {stage}" for stage, code in CODES.items()) + "; lower case: counted by the cluster counter"
    return textwrap.fill(text, 100, initial_indent="  ", subsequent_indent="  ")


def cluster_line(label: str, c: ClusterWhy, alarm_delay_s: float | None) -> str:
    """One true cluster: where, found or missed, and each spasm's stage letter in order."""
    found = "missed" if alarm_delay_s is None else f"alarm {alarm_delay_s:+.1f} s"
    counted = c.counted or (False,) * len(c.stages)
    letters = "".join(CODES[st].lower() if m else CODES[st] for st, m in zip(c.stages, counted))
    return f"  {label}  at {c.start:.1f} s  {c.group:6s}  {found:16s}  {letters}"
