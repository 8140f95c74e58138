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

Matches (the band's cluster counter, ``swcore.matcher``: movements shaped like
the chain's own full spasms) add to a chain's count. They count towards the
alarm only in a chain with an alike pair (a full spasm flagged ``alike``:
shaped like an earlier full spasm, EF_ALIKE), and then only as weak events
do: one may be the third spasm, never the second. They are reported once the
chain's alarm is due, do not move its span (start, end), and may arrive out
of time order (a match reaches back before the full spasm that made its
shape).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque
from dataclasses import dataclass, field
from heapq import heappop, heappush

from spasmwatch.analysis import consts as A
from swcore import consts as C

MIN_GAP_S = A.CLUSTER_MIN_GAP_MS / 1000.0
SPAN_S = A.CLUSTER_SPAN_MS / 1000.0
MAX_GAP_S = A.CLUSTER_MAX_GAP_MS / 1000.0
CLOSE_S = A.CLUSTER_CLOSE_MS / 1000.0


@dataclass(frozen=True)
class Spasm:
    """One confirmed spasm; times in seconds on the recording's (or wall) clock."""

    t: float  # onset
    duration_s: float
    detected_t: float  # when the detector confirmed it
    peak_rate_dps: float = 0.0
    peak_angle_deg: float = 0.0
    confidence: int = 0  # 0: not given (counts as a full spasm)
    matched: bool = False  # a cluster-counter match (EF_MATCHED)
    alike: bool = False  # a full spasm shaped like an earlier one (EF_ALIKE)

    @classmethod
    def from_band(
        cls,
        t: float,
        duration_s: float,
        detected_t: float,
        peak_rate_mrads: int,
        peak_angle_mrad: int,
        confidence: int,
        matched: bool = False,
        alike: bool = False,
    ) -> Spasm:
        """From the band's units (its event records and the twin's hits): mrad/s, mrad."""
        rate_dps = math.degrees(peak_rate_mrads / 1000.0)
        angle_deg = math.degrees(peak_angle_mrad / 1000.0)
        return cls(t, duration_s, detected_t, rate_dps, angle_deg, confidence, matched, alike)

    @property
    def end(self) -> float:
        return self.t + self.duration_s

    @property
    def weak(self) -> bool:
        """The detector's lower tier (and every match): counts only next to full spasms."""
        return self.matched or bool(0 < self.confidence < C.STRONG_CONFIDENCE)


class _Onsets:
    """Onsets in time order, with how many runs of three consecutive ones lie within
    CLUSTER_SPAN_MS: the rhythm test kept up as onsets come and go. Scanning them all at each
    spasm made a chain's cost per spasm grow with its length (bench/cluster_growth.py)."""

    def __init__(self) -> None:
        self.ts: list[float] = []
        self._tight = 0  # runs of three consecutive onsets within SPAN_S

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def rhythmic(self) -> bool:
        """Some three consecutive onsets lie within CLUSTER_SPAN_MS."""
        return self._tight > 0

    def add(self, t: float) -> None:
        i = bisect_right(self.ts, t)
        self._tight -= self._tight_runs(i - 2, i - 1)  # the runs across where it goes
        self.ts.insert(i, t)
        self._tight += self._tight_runs(i - 2, i)  # the runs through it

    def remove(self, t: float) -> None:
        i = bisect_left(self.ts, t)
        self._tight -= self._tight_runs(i - 2, i)
        del self.ts[i]
        self._tight += self._tight_runs(i - 2, i - 1)

    def near(self, t: float) -> bool:
        """Some onset is the same movement as one at ``t`` (closer than CLUSTER_MIN_GAP_MS)."""
        lo, hi = _near(self.ts, t)
        return lo < hi

    def _tight_runs(self, first: int, last: int) -> int:
        """Of the runs starting at ``first`` .. ``last`` (those that exist), how many are tight."""
        ts = self.ts
        return sum(ts[k + 2] - ts[k] <= SPAN_S for k in range(max(first, 0), min(last, len(ts) - 3) + 1))


def _near(ts: list[float], t: float) -> tuple[int, int]:
    """The slice of the sorted ``ts`` closer than CLUSTER_MIN_GAP_MS to ``t``. A float difference
    grows with the distance, so those are one run either side of where ``t`` would go."""
    lo = hi = bisect_left(ts, t)
    while lo > 0 and abs(ts[lo - 1] - t) < MIN_GAP_S:
        lo -= 1
    while hi < len(ts) and abs(ts[hi] - t) < MIN_GAP_S:
        hi += 1
    return lo, hi


@dataclass
class Cluster:
    """A run of spasms; ``alert_t`` is set once the third counted spasm is confirmed.

    What each spasm asks of it (its span, its latest confirmation, the alarm test) is kept as
    spasms come (``_take``, ``take_match``) and go (``_drop_matches_near``), never scanned for:
    a long chain costs no more per spasm than a short one (bench/cluster_growth.py). The
    detector's own spasms only ever join; matches join and may go again."""

    spasms: list[Spasm] = field(default_factory=list, init=False)  # in onset order; kept with the values below
    strong: int = 0  # counted spasms that are full (not weak) ones
    alert_t: float | None = None
    post_wake_s: float | None = None
    last_strong_t: float = -math.inf  # the latest onset of a full spasm
    _weak_counted: set[float] = field(default_factory=set, init=False)  # counted onsets of weak events not seen full since
    _counted: _Onsets = field(default_factory=_Onsets, init=False)  # onsets of the counted spasms
    _matches: list[float] = field(default_factory=list, init=False)  # onsets of the counted matches, in order
    _all: _Onsets = field(default_factory=_Onsets, init=False)  # both: what the alarm counts with a pair
    pair: bool = False  # has a full spasm shaped like an earlier one: its matches count towards the alarm
    _start: float = field(default=math.inf, init=False)  # the detector's spasms' earliest onset
    _end: float = field(default=-math.inf, init=False)  # ... and latest end
    _own_confirmed: float = field(default=-math.inf, init=False)  # ... and latest confirmation
    # Matches' (-detected_t, onset), a heap; a dropped one is left in it until it comes to the top.
    _match_confirmed: list[tuple[float, float]] = field(default_factory=list, init=False)

    @property
    def start(self) -> float:
        """The first onset the detector found. Matches count but do not move a cluster's
        span: the daemon keys a cluster by its start from the first report on."""
        return self._start

    @property
    def end(self) -> float:
        return self._end

    @property
    def confirmed_t(self) -> float:
        """When the latest confirmed of its spasms (matches included) was confirmed."""
        heap = self._match_confirmed
        # A dropped onset never comes back as a match (the spasm that dropped it is counted, and a
        # match that near a counted spasm is refused): one not found among the matches is stale.
        while heap and not self._is_match(heap[0][1]):
            heappop(heap)
        return max(self._own_confirmed, -heap[0][0]) if heap else self._own_confirmed

    @property
    def count(self) -> int:
        """Counted spasms (events closer than CLUSTER_MIN_GAP_MS count once), matches included."""
        return len(self._all)

    @property
    def latest_onset(self) -> float:
        """The latest onset among the spasms it counted and its full spasms (matches aside)."""
        return max(self._counted.ts[-1], self.last_strong_t)

    @property
    def matches(self) -> int:
        """How many of ``count`` are the cluster counter's matches."""
        return len(self._matches)

    @property
    def is_cluster(self) -> bool:
        # The spasms the alarm counts: the detector's own, and with an alike pair the matches.
        ts = self._all if self.pair else self._counted
        return bool(len(ts) >= A.CLUSTER_MIN_COUNT and self.strong >= A.CLUSTER_MIN_STRONG and ts.rhythmic)

    @property
    def forming(self) -> bool:
        """Not a cluster yet, but it may become one: CLUSTER_MIN_STRONG full spasms counted (the
        alert engine's heads-up, WARNING). Full spasms chain at most CLUSTER_MAX_GAP_MS apart, under
        CLUSTER_SPAN_MS, so two consecutive ones already lie in the rhythm's window: one more may
        raise the alarm. Read by the daemon only; replay and evaluate report clusters alone."""
        return self.strong >= A.CLUSTER_MIN_STRONG and not self.is_cluster

    def intervals(self) -> list[float]:
        ts = [s.t for s in self.spasms]
        return [b - a for a, b in zip(ts, ts[1:])]

    def _take(self, s: Spasm) -> None:
        insort(self.spasms, s, key=_onset)
        self._start = min(self._start, s.t)
        self._end = max(self._end, s.end)
        self._own_confirmed = max(self._own_confirmed, s.detected_t)
        # Against the counted onsets either side: the daemon feeds a spasm up to LATE_S older than
        # its newest data (a re-ordered notification), which the latest one alone took for the
        # same movement, uncounted (found by review). In order, the latest is the only one near.
        counted = self._counted.ts
        lo, hi = _near(counted, s.t)
        if lo == hi:
            self.strong += not s.weak
            self._counted.add(s.t)
            self._all.add(s.t)
            if s.weak:
                self._weak_counted.add(s.t)
            self._drop_matches_near(s.t)
        elif not s.weak and counted[lo] in self._weak_counted:
            # The same movement seen weakly first, then as a full spasm: it is a full one.
            self.strong += 1
            self._weak_counted.discard(counted[lo])
        if not s.weak:
            self.last_strong_t = max(self.last_strong_t, s.t)
            self.pair = self.pair or s.alike

    def _drop_matches_near(self, t: float) -> None:
        """A spasm counted at ``t`` was seen as a match first: it counts once, as itself."""
        lo, hi = _near(self._matches, t)
        for m in self._matches[lo:hi]:
            self._all.remove(m)
            i = bisect_left(self.spasms, m, key=_onset)
            while i < len(self.spasms) and self.spasms[i].t == m:
                if self.spasms[i].matched:
                    del self.spasms[i]
                else:
                    i += 1
        del self._matches[lo:hi]

    def has_match(self, s: Spasm) -> bool:
        return self._is_match(s.t)

    def _is_match(self, t: float) -> bool:
        i = bisect_left(self._matches, t)
        return i < len(self._matches) and self._matches[i] == t

    def reaches(self, s: Spasm) -> bool:
        """A match this chain may count: within CLUSTER_MAX_GAP_MS of its full spasms."""
        return bool(self.start - MAX_GAP_S <= s.t <= self.last_strong_t + MAX_GAP_S)

    def take_match(self, s: Spasm) -> bool:
        """Count a match, unless it is the same movement as a counted spasm or match."""
        if self._all.near(s.t):
            return False
        insort(self.spasms, s, key=_onset)
        insort(self._matches, s.t)
        self._all.add(s.t)
        heappush(self._match_confirmed, (-s.detected_t, s.t))
        return True


def _onset(s: Spasm) -> float:
    return s.t


class ClusterTracker:
    """Feed spasms in order with ``add``; call ``tick`` as time passes.

    ``add`` returns the chain when this spasm raised its alarm (else None).
    ``tick`` and ``add`` hand closed clusters to ``closed`` (drained by the caller).
    Weak spasms that joined a chain once it has CLUSTER_MIN_STRONG full spasms
    are handed to ``confirmed_weak`` (drained with ``drain_weak``): before that
    they are only candidates and are not reported. Matches are handed there
    once their chain's alarm is due.
    """

    def __init__(self) -> None:
        self.current: Cluster | None = None
        self.closed: list[Cluster] = []
        self.confirmed_weak: list[Spasm] = []
        self._pending: deque[Spasm] = deque()  # recent weak spasms outside any chain
        self._pending_matches: deque[Spasm] = deque()  # recent matches outside any chain
        self._unreported: list[Spasm] = []  # weak spasms in the current chain, not yet reported
        self._held: list[Spasm] = []  # matches in the current chain, until its alarm

    def add(self, s: Spasm) -> Cluster | None:
        cur = self.current
        behind = cur is not None and not s.matched and s.t < cur.latest_onset  # fed out of order (LATE_S)
        if s.matched:
            if cur is None or not cur.reaches(s):
                self._pend_match(s)
                return None
            if cur.take_match(s):
                self._held.append(s)
        else:
            if cur is not None and s.t - cur.last_strong_t > MAX_GAP_S:
                self._close()
                cur = None
            if s.weak and cur is None:
                self._pending.append(s)
                while self._pending and s.t - self._pending[0].t > MAX_GAP_S:
                    self._pending.popleft()
                return None
            if cur is None:
                cur = self._start(s)
            else:
                cur._take(s)
                if s.weak:
                    self._unreported.append(s)
        if cur.strong >= A.CLUSTER_MIN_STRONG and self._unreported:
            self.confirmed_weak.extend(self._unreported)
            self._unreported = []
        raised = cur.alert_t is None and cur.is_cluster
        if raised:
            # In order: when this spasm, the last the alarm needed, was confirmed. One fed behind
            # later onsets was confirmed before spasms the alarm counts (found by review: dated
            # before the second and third spasms were): when the chain's data was in.
            cur.alert_t = max(s.detected_t, cur.confirmed_t) if behind else s.detected_t
        if cur.alert_t is not None and self._held:
            self.confirmed_weak.extend(sorted((m for m in self._held if cur.has_match(m)), key=_onset))
            self._held = []
        return cur if raised else None

    def _start(self, s: Spasm) -> Cluster:
        """A full spasm outside any chain starts one, with the weak events and matches near it."""
        cur = self.current = Cluster()
        for w in self._pending:
            if s.t - w.t <= MAX_GAP_S:
                cur._take(w)
                self._unreported.append(w)
        self._pending.clear()
        cur._take(s)
        for m in self._pending_matches:
            if cur.reaches(m) and cur.take_match(m):
                self._held.append(m)
        self._pending_matches.clear()
        return cur

    def _pend_match(self, s: Spasm) -> None:
        # Before any chain (placed by its estimated confirmation time, a match can come
        # ahead of the full spasm whose shape it matched): kept while a chain may still start.
        self._pending_matches.append(s)
        while self._pending_matches and s.t - self._pending_matches[0].t > MAX_GAP_S:
            self._pending_matches.popleft()

    def tick(self, now: float) -> None:
        cur = self.current
        if cur is not None and now - cur.spasms[-1].end > CLOSE_S:
            self._close()

    def flush(self) -> None:
        """End of data: close whatever is open."""
        self._close()
        self._pending.clear()
        self._pending_matches.clear()

    def _close(self) -> None:
        cur = self.current
        self.current = None
        self._unreported = []
        self._held = []
        if cur is not None and cur.is_cluster:
            self.closed.append(cur)

    def drain(self) -> list[Cluster]:
        out, self.closed = self.closed, []
        return out

    def drain_weak(self) -> list[Spasm]:
        out, self.confirmed_weak = self.confirmed_weak, []
        return out
