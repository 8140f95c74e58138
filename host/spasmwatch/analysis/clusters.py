"""Causal clustering of spasm events: the same code in replay and in the daemon.

Spasms come in clusters, one every 5-10 s for minutes. A chain links spasms
whose onsets are at most CLUSTER_MAX_GAP_MS apart; spasms closer than
CLUSTER_MIN_GAP_MS to the previous counted one are part of the same movement
and do not count. The chain becomes a cluster (and the alarm is due) when its
third counted spasm is confirmed and some three consecutive counted spasms
lie within CLUSTER_SPAN_MS (the rhythm), and the cluster closes after
CLUSTER_CLOSE_MS without a spasm.

Weak events (the detector's lower tier: a held posture change of 1-2 deg,
confidence below STRONG_CONFIDENCE) are too common on their own to mean
anything. They count only next to full spasms: a chain is linked and kept
alive by full spasms alone, a weak event joins it when it lies within
CLUSTER_MAX_GAP_MS of one of the chain's full spasms (also a weak event just
before the chain's first spasm, the usual missed first spasm of a waxing
cluster), and the alarm needs CLUSTER_MIN_STRONG full spasms among the
CLUSTER_MIN_COUNT counted ones.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from swcore import consts as C

MIN_GAP_S = C.CLUSTER_MIN_GAP_MS / 1000.0
SPAN_S = C.CLUSTER_SPAN_MS / 1000.0
MAX_GAP_S = C.CLUSTER_MAX_GAP_MS / 1000.0
CLOSE_S = C.CLUSTER_CLOSE_MS / 1000.0


@dataclass(frozen=True)
class Spasm:
    """One confirmed spasm; times in seconds on the recording's (or wall) clock."""

    t: float  # onset
    duration_s: float
    detected_t: float  # when the detector confirmed it
    peak_rate_dps: float = 0.0
    peak_angle_deg: float = 0.0
    confidence: int = 0  # 0: not given (counts as a full spasm)

    @classmethod
    def from_band(
        cls, t: float, duration_s: float, detected_t: float, peak_rate_mrads: int, peak_angle_mrad: int, confidence: int
    ) -> Spasm:
        """From the band's units (its event records and the twin's hits): mrad/s, mrad."""
        rate_dps = math.degrees(peak_rate_mrads / 1000.0)
        return cls(t, duration_s, detected_t, rate_dps, math.degrees(peak_angle_mrad / 1000.0), confidence)

    @property
    def end(self) -> float:
        return self.t + self.duration_s

    @property
    def weak(self) -> bool:
        """The detector's lower tier: counts only next to full spasms."""
        return bool(0 < self.confidence < C.STRONG_CONFIDENCE)


@dataclass
class Cluster:
    """A run of spasms; ``alert_t`` is set once the third counted spasm is confirmed."""

    spasms: list[Spasm] = field(default_factory=list)
    strong: int = 0  # counted spasms that are full (not weak) ones
    alert_t: float | None = None
    post_wake_s: float | None = None
    last_strong_t: float = 0.0
    _last_counted_weak: bool = False
    _counted: list[float] = field(default_factory=list)  # onsets of the counted spasms

    @property
    def start(self) -> float:
        return self.spasms[0].t

    @property
    def end(self) -> float:
        return max(s.end for s in self.spasms)

    @property
    def count(self) -> int:
        """Counted spasms (events closer than CLUSTER_MIN_GAP_MS count once)."""
        return len(self._counted)

    @property
    def is_cluster(self) -> bool:
        return bool(self.count >= C.CLUSTER_MIN_COUNT and self.strong >= C.CLUSTER_MIN_STRONG and self.rhythmic)

    @property
    def rhythmic(self) -> bool:
        """Some three consecutive counted spasms lie within CLUSTER_SPAN_MS."""
        ts = self._counted
        return any(c - a <= SPAN_S for a, c in zip(ts, ts[2:]))

    def intervals(self) -> list[float]:
        ts = [s.t for s in self.spasms]
        return [b - a for a, b in zip(ts, ts[1:])]

    def _take(self, s: Spasm) -> None:
        self.spasms.append(s)
        if not self._counted or s.t - self._counted[-1] >= MIN_GAP_S:
            self.strong += not s.weak
            self._counted.append(s.t)
            self._last_counted_weak = s.weak
        elif self._last_counted_weak and not s.weak:
            # The same movement seen weakly first, then as a full spasm: it is a full one.
            self.strong += 1
            self._last_counted_weak = False
        if not s.weak:
            self.last_strong_t = s.t


class ClusterTracker:
    """Feed spasms in order with ``add``; call ``tick`` as time passes.

    ``add`` returns the chain when this spasm raised its alarm (else None).
    ``tick`` and ``add`` hand closed clusters to ``closed`` (drained by the caller).
    Weak spasms that joined a chain once it has CLUSTER_MIN_STRONG full spasms
    are handed to ``confirmed_weak`` (drained with ``drain_weak``): before that
    they are only candidates and are not reported.
    """

    def __init__(self) -> None:
        self.current: Cluster | None = None
        self.closed: list[Cluster] = []
        self.confirmed_weak: list[Spasm] = []
        self._pending: deque[Spasm] = deque()  # recent weak spasms outside any chain
        self._unreported: list[Spasm] = []  # weak spasms in the current chain, not yet reported

    def add(self, s: Spasm) -> Cluster | None:
        cur = self.current
        if cur is not None and s.t - cur.last_strong_t > MAX_GAP_S:
            self._close()
            cur = None
        if s.weak:
            if cur is None:
                self._pending.append(s)
                while self._pending and s.t - self._pending[0].t > MAX_GAP_S:
                    self._pending.popleft()
                return None
            cur._take(s)
            self._unreported.append(s)
        else:
            if cur is None:
                cur = self.current = Cluster()
                for w in self._pending:
                    if s.t - w.t <= MAX_GAP_S:
                        cur._take(w)
                        self._unreported.append(w)
                self._pending.clear()
            cur._take(s)
        if cur.strong >= C.CLUSTER_MIN_STRONG and self._unreported:
            self.confirmed_weak.extend(self._unreported)
            self._unreported = []
        if cur.alert_t is None and cur.is_cluster:
            cur.alert_t = s.detected_t
            return cur
        return None

    def tick(self, now: float) -> None:
        cur = self.current
        if cur is not None and now - cur.spasms[-1].end > CLOSE_S:
            self._close()

    def flush(self) -> None:
        """End of data: close whatever is open."""
        self._close()
        self._pending.clear()

    def _close(self) -> None:
        cur = self.current
        self.current = None
        self._unreported = []
        if cur is not None and cur.is_cluster:
            self.closed.append(cur)

    def drain(self) -> list[Cluster]:
        out, self.closed = self.closed, []
        return out

    def drain_weak(self) -> list[Spasm]:
        out, self.confirmed_weak = self.confirmed_weak, []
        return out
