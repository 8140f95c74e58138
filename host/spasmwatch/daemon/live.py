"""Live analysis of one band: stored events and epochs -> the replay pipeline's Analyzer.

The daemon runs the very ``Analyzer`` that ``spasmwatch replay`` runs, fed in
time order. Events that arrive late (backfilled after a drop or a band
reboot, or found in the store at start-up) cannot be slotted into a causal
stream that has moved on, so the analysis is rebuilt from the store over
``REBUILD_WINDOW_S``: the store is the truth, the Analyzer a view of it.
Clusters are matched to the ones already stored by overlap, in the extent
the rebuild ends with, so a rebuild updates a cluster instead of adding a
second one, and the alarm listener is told about each cluster once (the alert
engine is idempotent by key too).

A cluster closes when the band's own time line shows its quiet time, never by
the host's clock alone: the band sends its events before its epochs, so data
of the band's up to time T (an epoch ending at T, a STATUS read at T, the end
of a backfill) says every spasm before T is in. A link that lags (a host's
Bluetooth stack holding notifications, a band whose clock is behind) brings a
cluster's later spasms after the host's clock is past its quiet time; closed by
that clock, the cluster was stored and alarmed twice (bench/faults.py).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from spasmwatch.analysis.clusters import Cluster, Spasm
from spasmwatch.analysis.pipeline import Analyzer
from spasmwatch.analysis.sleepwake import ASLEEP, AWAKE
from spasmwatch.daemon import consts as K
from swcore import consts as C
from swcore.frontend import Params

EPOCH_S = C.EPOCH_MS / 1000.0
# An event older than the newest data fed by more than this cannot join the
# causal stream (the cluster tracker closes a chain after 60 s quiet).
LATE_S = 30.0


@dataclass
class TrackedCluster:
    """A cluster as the daemon knows it: its store id and what the listener was told."""

    key: str
    start: float
    end: float
    store_id: int | None = None
    alarmed: bool = False
    closed: bool = False
    replayed: bool = False  # closed and alerted before this daemon started: store updates only
    spasm_ts: list[float] = field(default_factory=list)
    parked: bool = False  # ahead of a clock that jumped back: only its own spasms can claim it
    # What the listener (Daemon.cluster_changed) learnt of the store for this cluster, so that a
    # cluster that grows costs the store its new spasms only, not its whole list again (a backfill
    # chaining thousands of events into one cluster took quadratic time, bench/cluster_growth.py):
    # the stored event found at each of its spasm times (no more entries than it has spasms), and the events
    # its stored row holds as last written (None: not known, the list is written whole).
    event_at: dict[float, int] = field(default_factory=dict)
    stored_ids: frozenset[int] | None = None
    # The key its chain's heads-up was told under (``ClusterListener.chain_forming``) before it was
    # a cluster, till the listener carries that alert on under its own key (None: none told).
    forming_key: str | None = None


class ClusterListener(Protocol):
    def cluster_changed(
        self, device: str, tc: TrackedCluster, c: Cluster, event: str, absorbed: Sequence[TrackedCluster] = ()
    ) -> None:
        """``event``: "alarm" (the third spasm), "update" (it grew), "closed". ``absorbed``: tracked
        clusters ``c`` turned out to take in too (late events joined them to ``tc``), no longer
        tracked: their stored rows and alerts are to be retired with this change."""
        ...

    def chain_forming(self, device: str, key: str, c: Cluster) -> None:
        """``c`` is no cluster yet but may become one (``Cluster.forming``: the heads-up), and it
        grew, or was just found so; ``key``: the same for this chain each time, none a cluster's."""
        ...

    def sleep_changed(self, device: str, kind: str, t: float) -> None: ...


class Source(Protocol):
    """What the analysis reads back from the store to rebuild itself."""

    def spasms_since(self, device: str, since: float) -> Iterator[Spasm]: ...

    def epochs_since(self, device: str, since: float) -> Iterator[Epoch]:
        """(epoch start wall s, active samples, off_body, the band's worn verdict as
        ``analysis.sleepwake.counts_worn`` takes it) in time order."""
        ...


class LiveAnalysis:
    def __init__(
        self, device: str, params: Params, source: Source, listener: ClusterListener, wall: Callable[[], float]
    ) -> None:
        self.device = device
        self.params = params
        self.source = source
        self.listener = listener
        self.wall = wall
        self.tracked: list[TrackedCluster] = []
        self._an = Analyzer(params)
        self._t_last = float("-inf")
        # How far the band's own time line has shown its data to be in (wall s, placed by its sync):
        # a cluster closes when this, not the host's clock, is past its quiet time.
        self._band_t = float("-inf")
        self._replaying = False
        self._replayed: dict[int, tuple[Cluster, str]] = {}  # during a rebuild: cluster -> its last event
        self.needs_rebuild = False
        self.sleep_since: float | None = None  # time of the last sleep or wake onset
        self._held: list[Epoch] = []  # epochs the band held while away, taken behind a backfill (hold_epoch)
        # The chain last told as forming, its key and how many spasms it had then (_tell_forming).
        self._forming: tuple[Cluster, str, int] | None = None

    def preload(self, known: list[TrackedCluster]) -> None:
        """Clusters the store already holds, so a rebuild updates them instead of alarming again."""
        self.tracked.extend(known)

    # --- state for the status endpoint ------------------------------------------------
    @property
    def asleep(self) -> bool | None:
        st = self._an.sleep.state
        return True if st == ASLEEP else False if st == AWAKE else None

    # --- inputs ------------------------------------------------------------------
    def spasm(self, s: Spasm) -> None:
        if s.t < self._t_last - LATE_S and not s.matched:  # a match may reach back: taken in any order
            self._late()  # stored already; a rebuild places it
            return
        self._band_t = max(self._band_t, s.detected_t)
        self._after(self._an.spasm(s), s.t)

    def epoch(self, t_start: float, activity: int, off_body: bool, worn: bool | None = None) -> None:
        """One epoch as the band sent it; ``worn``: its wear verdict (``Analyzer.epoch_decided``)."""
        if t_start < self._t_last - LATE_S:
            self._late()
            return
        self._band_t = max(self._band_t, t_start + EPOCH_S)
        self._after(self._an.epoch_decided(t_start, activity, off_body, worn), t_start + EPOCH_S)

    def hold_epoch(self, t_start: float, activity: int, off_body: bool, worn: bool | None = None) -> None:
        """An epoch the band held while no host was there: it comes at the connect's sync, ahead of
        the backfill of events older than it. Taken then, it said the band's data was in up to its
        end: a cluster whose later spasms were still in the backfill closed, and those spasms
        opened a second cluster that alarmed again (bench/faults.py seed 2). Kept until
        ``release_held``, at the backfill's end: behind its events, as the band orders what it
        sends. A rebuild meanwhile reads it from the store instead."""
        self._held.append((t_start, activity, off_body, worn))

    def release_held(self) -> None:
        """The backfill is in: the held epochs go in now (one too old asks for a rebuild, as ever)."""
        held, self._held = self._held, []
        for e in held:
            self.epoch(*e)

    def band_time(self, t: float) -> None:
        """The band's clock read ``t`` (wall s): a STATUS's uptime placed by its sync, or the end of a
        backfill (the band's whole log is in up to then). What lets a band that sends no epochs (its
        sensing stopped: critical battery, safe mode) have its cluster closed on time."""
        self._band_t = max(self._band_t, t)

    def _late(self) -> None:
        if self._t_last > self.wall() + LATE_S:
            # The analysis is ahead of the clock: the host clock jumped back (and the band was
            # re-synced to it). Waiting for a backfill would leave every live item "late" until
            # the clock catches up: no alarm for that long. Rebuild on the clock as it is now;
            # closing goes by the band's data as ever (nothing says its log is in up to now).
            self.rebuild(close=False)
        else:
            self.needs_rebuild = True

    def tick(self, now: float) -> None:
        """Close a cluster whose quiet time the band's time line has shown (``band_time``, its epochs
        and spasms), at most as far as the host's clock ``now``: a cluster whose later spasms are
        still on their way on a lagging link stays open for them."""
        t = min(now, self._band_t)
        if t > self._t_last:
            self._after(self._an.tick(t), self._t_last)

    def rebuild(self, now: float | None = None, close: bool = True) -> None:
        """Re-run the analysis over the store's last REBUILD_WINDOW_S.

        ``close=True``: the store holds the band's whole log up to ``now`` (a backfill just
        ended), so a cluster quiet for its close time by then closes. ``close=False`` closes
        only as far as the stored data reaches: before a backfill the band may have logged
        the rest of the cluster.
        """
        now = self.wall() if now is None else now
        since = now - K.REBUILD_WINDOW_S
        # Read whole before anything is reset: a store that fails the read (StoreError, raised)
        # leaves the analysis as it was, still to be rebuilt. 6 h: at most a few thousand items.
        self.needs_rebuild = True
        items = list(_merge(self.source.spasms_since(self.device, since), self.source.epochs_since(self.device, since)))
        self._an = Analyzer(self.params)
        self._t_last = float("-inf")
        self._band_t = float("-inf")  # as far as the replay reaches (a clock set back left it ahead)
        self.needs_rebuild = False
        self._held = []  # stored: the replay takes them in their place
        self._replaying = True
        self._replayed = {}
        # Data stamped ahead of the clock was placed before the host clock jumped back: it
        # stays in the store (and exports) but cannot be put on the time line the clock is on
        # now, nor can a cluster tracked there stand for a new one. It stays tracked, parked:
        # when the clock has caught up and a rebuild meets the same spasms again, it is the
        # same cluster (found by bench/faults.py: dropped, it was stored and alarmed twice).
        ahead = now + LATE_S
        for tc in self.tracked:
            tc.parked = tc.start > ahead
        try:
            for item in items:
                if (item.detected_t if isinstance(item, Spasm) else item[0] + EPOCH_S) > ahead:
                    break  # time order: the rest is ahead too
                if isinstance(item, Spasm):
                    self._after(self._an.spasm(item), item.t)
                else:
                    self._after(self._an.epoch_decided(*item), item[0] + EPOCH_S)
        finally:
            self._replaying = False
        # Each rebuilt cluster is matched in its final extent: met early in the replay, a cluster
        # whose first spasms came late ends before the tracked one begins and would be alarmed
        # again under a second key (found by bench/faults.py, a reboot in a cluster).
        replayed, self._replayed = self._replayed, {}
        for c, event in sorted(replayed.values(), key=lambda ce: ce[0].start):
            self._emit(c, event)
        self._band_t = max(self._band_t, self._t_last, now if close else float("-inf"))
        self.tick(now)

    # --- outputs -------------------------------------------------------------------
    def _after(self, records: list[dict[str, object]], t: float) -> None:
        self._t_last = max(self._t_last, t)
        for c in self._an.alarms:
            self._emit(c, "alarm")
        self._an.alarms.clear()
        cur = self._an.clusters.current
        if cur is not None and cur.is_cluster:
            self._emit(cur, "update")
        elif cur is not None and cur.forming and not self._replaying:
            self._tell_forming(cur)
        for c in self._an.closed:
            self._emit(c, "closed")
        self._an.closed.clear()
        for r in records:
            if r["type"] in ("wake", "sleep"):
                self.sleep_since = float(r["t"])  # type: ignore[arg-type]
                if not self._replaying:
                    self.listener.sleep_changed(self.device, str(r["type"]), self.sleep_since)

    def _tell_forming(self, c: Cluster) -> None:
        """The heads-up's chain, told when it is found forming and at each spasm it takes after (so
        its WARNING does not expire while the chain goes on). Its key, from its start, is the same
        for the chain a rebuild finds again. Not while replaying: a rebuild's chains are the store's
        past; the live one is told at the rebuild's end (its tick)."""
        told = self._forming
        if told is not None and told[0] is c and told[2] == len(c.spasms):
            return
        key = told[1] if told is not None and told[0] is c else f"{self.device}@{c.start:.3f}~forming"
        self._forming = (c, key, len(c.spasms))
        c.post_wake_s = self._an.post_wake_s(c)
        self.listener.chain_forming(self.device, key, c)

    def _emit(self, c: Cluster, event: str) -> None:
        if self._replaying:
            prev = self._replayed.get(id(c))
            self._replayed[id(c)] = (c, "closed" if prev is not None and prev[1] == "closed" else event)
            return
        c.post_wake_s = self._an.post_wake_s(c)
        tc, absorbed = self._track(c)
        if self._forming is not None and self._forming[0] is c:
            tc.forming_key, self._forming = self._forming[1], None
        ts = [s.t for s in c.spasms]
        if event == "update" and ts == tc.spasm_ts and not absorbed:
            return  # nothing new since the last report
        tc.spasm_ts = ts
        tc.start, tc.end = c.start, c.end
        if not tc.alarmed:
            # Once per cluster, even when a rebuild finds it already grown or closed.
            tc.alarmed = True
            self.listener.cluster_changed(self.device, tc, c, "alarm")
        if event == "alarm" and not absorbed:
            return
        if event == "closed":
            tc.closed = True
        self.listener.cluster_changed(self.device, tc, c, "update" if event == "alarm" else event, absorbed)

    def _track(self, c: Cluster) -> tuple[TrackedCluster, list[TrackedCluster]]:
        """The tracked cluster ``c`` is, and the others it turned out to take in too.

        Late events can join two tracked clusters: a band's held epochs at a reconnect, past the
        quiet time, close the first; the backfill's spasms less than LATE_S older than them open a
        second chain that alarms; the rebuild at the backfill's end finds one cluster across both
        (bench/faults.py, seed 2). An event is in one cluster at most: the earlier one survives,
        with its key, row and alert, and takes in the others (alarmed if any was; open if any
        was: the merged cluster goes on), which the listener retires."""
        found = [tc for tc in self.tracked if self._matches(tc, c)]
        if found:
            tc = min(found, key=lambda t: t.start)
            absorbed = [t for t in found if t is not tc]
            for t in found:
                t.parked = False
            if absorbed:
                tc.alarmed = tc.alarmed or any(t.alarmed for t in absorbed)
                tc.closed = tc.closed and all(t.closed for t in absorbed)
                # An alert of this run's among them carries on under the survivor: not "replayed".
                tc.replayed = tc.replayed and all(t.replayed for t in absorbed)
                self.tracked = [t for t in self.tracked if all(t is not a for a in absorbed)]
            return tc, absorbed
        tc = TrackedCluster(key=f"{self.device}@{c.start:.3f}", start=c.start, end=c.end)
        self.tracked.append(tc)
        # Keep what a rebuild window can revisit, no more.
        horizon = c.start - K.REBUILD_WINDOW_S
        self.tracked = [t for t in self.tracked if t.end >= horizon]
        return tc, []

    @staticmethod
    def _matches(tc: TrackedCluster, c: Cluster) -> bool:
        """``c`` is ``tc`` seen again: it overlaps it in time, or (``tc`` parked ahead of a clock
        that jumped back) it holds one of its spasms."""
        if tc.parked:
            return not {s.t for s in c.spasms}.isdisjoint(tc.spasm_ts)
        return c.start <= tc.end + K_CLUSTER_MATCH_S and tc.start <= c.end + K_CLUSTER_MATCH_S


# Two clusters within a spasm gap of each other are the same cluster seen twice.
K_CLUSTER_MATCH_S = 2.0


Epoch = tuple[float, int, bool, bool | None]  # start, activity, off_body, worn (LiveAnalysis.epoch)


def _merge(spasms: Iterator[Spasm], epochs: Iterator[Epoch]) -> Iterator[Spasm | Epoch]:
    """Spasms (when confirmed) and epochs (when complete) in the order the live system saw them."""
    a: Iterator[tuple[float, int, Spasm | Epoch]] = ((s.detected_t, 0, s) for s in spasms)
    b: Iterator[tuple[float, int, Spasm | Epoch]] = ((e[0] + EPOCH_S, 1, e) for e in epochs)
    for _, _, item in heapq.merge(a, b, key=lambda x: (x[0], x[1])):
        yield item
