"""Causal clustering of spasm events: the same code in replay and in the daemon.

Spasms come in clusters, one every 5-10 s for minutes. A chain links spasms
whose onsets are at most CLUSTER_MAX_GAP_MS apart; spasms closer than
CLUSTER_MIN_GAP_MS to the previous one are part of the same movement and do
not count. The chain becomes a cluster (and the alarm is due) when its third
counted spasm is confirmed, and the cluster closes after CLUSTER_CLOSE_MS
without a spasm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from swcore import consts as C

MIN_GAP_S = C.CLUSTER_MIN_GAP_MS / 1000.0
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
    confidence: int = 0

    @property
    def end(self) -> float:
        return self.t + self.duration_s


@dataclass
class Cluster:
    """A run of spasms; ``alert_t`` is set once the third counted spasm is confirmed."""

    spasms: list[Spasm] = field(default_factory=list)
    count: int = 0
    alert_t: float | None = None
    post_wake_s: float | None = None

    @property
    def start(self) -> float:
        return self.spasms[0].t

    @property
    def end(self) -> float:
        return max(s.end for s in self.spasms)

    @property
    def is_cluster(self) -> bool:
        return bool(self.count >= C.CLUSTER_MIN_COUNT)

    def intervals(self) -> list[float]:
        ts = [s.t for s in self.spasms]
        return [b - a for a, b in zip(ts, ts[1:])]


class ClusterTracker:
    """Feed spasms in order with ``add``; call ``tick`` as time passes.

    ``add`` returns the chain when this spasm raised its alarm (else None).
    ``tick`` and ``add`` hand closed clusters to ``closed`` (drained by the caller).
    """

    def __init__(self) -> None:
        self.current: Cluster | None = None
        self.closed: list[Cluster] = []

    def add(self, s: Spasm) -> Cluster | None:
        cur = self.current
        if cur is not None and s.t - cur.spasms[-1].t > MAX_GAP_S:
            self._close()
            cur = None
        if cur is None:
            cur = self.current = Cluster()
        counts = not cur.spasms or s.t - cur.spasms[-1].t >= MIN_GAP_S
        cur.spasms.append(s)
        if counts:
            cur.count += 1
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

    def _close(self) -> None:
        cur = self.current
        self.current = None
        if cur is not None and cur.is_cluster:
            self.closed.append(cur)

    def drain(self) -> list[Cluster]:
        out, self.closed = self.closed, []
        return out
