"""From detector outputs to the records of the replay contract, causally.

``Analyzer`` receives confirmed spasms and completed epochs in the order the
live system would see them and returns the JSON-ready records (spasm,
cluster, wake, sleep, not_worn) as soon as each is decided. The daemon feeds
the same class from the band's notifications; replay feeds it from the twin.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from spasmwatch.analysis import consts as A
from spasmwatch.analysis.clusters import Cluster, ClusterTracker, Spasm
from spasmwatch.analysis.sleepwake import ASLEEP, UNKNOWN, SleepWake, counts_worn
from swcore import consts as C
from swcore.epoch import NOT_WORN, WORN, Wear, off_body
from swcore.frontend import Params

Record = dict[str, Any]

# Wake onsets older than this (s, before the latest one) are forgotten, all but the last of them:
# post_wake_s needs only the last onset before a cluster's start, and a cluster is reported at most
# the daemon's rebuild window (6 h, daemon/consts.py REBUILD_WINDOW_S) after it started. Without it
# a daemon's analysis, never rebuilt on a band that stays connected, kept every wake for months.
WAKE_ONSETS_KEEP_S = 24 * 3600.0


def _r(x: float) -> float:
    return round(x, 3)


def _spasm_record(s: Spasm) -> Record:
    return {
        "type": "spasm",
        "t": _r(s.t),
        "duration_s": _r(s.duration_s),
        "peak_rate_dps": round(s.peak_rate_dps, 1),
        "peak_angle_deg": round(s.peak_angle_deg, 1),
        "confidence": s.confidence,
        "detected_t": _r(s.detected_t),
        **({"matched": True} if s.matched else {}),
        **({"alike": True} if s.alike else {}),
    }


class Analyzer:
    def __init__(self, params: Params) -> None:
        self.p = params
        self.epoch_s = params.epoch / params.rate_hz
        self.clusters = ClusterTracker()
        self.sleep = SleepWake(self.epoch_s)
        self.wear = Wear(C.EPOCH_MS)
        self.wake_onsets: list[float] = []
        # Clusters whose alarm is due, as soon as the third spasm is confirmed
        # (the records only report a cluster when it closes); the caller drains it.
        self.alarms: list[Cluster] = []
        # Clusters that closed, for a caller that follows them as objects (the daemon);
        # the records report the same clusters as dicts. The caller drains it.
        self.closed: list[Cluster] = []
        self._off_start: float | None = None
        # (start, end) of closed not-worn spans longer than POST_WAKE_OFF_MAX_MS, none starting
        # before the first kept wake onset: a wake before such a span is no longer known as the last.
        self._long_offs: list[tuple[float, float]] = []
        # Starts of epochs at which the sleep estimate started afresh while asleep, none before the
        # first kept wake onset: a wake before one is no longer known as the last either.
        self._asleep_lost: list[float] = []
        # Start times of the last epochs: a wear change is dated to its run's start.
        self._starts: deque[float] = deque(maxlen=max(self.wear.off_needed, self.wear.on_needed) + 1)

    # --- inputs -----------------------------------------------------------------
    def spasm(self, s: Spasm) -> list[Record]:
        """A confirmed event; a weak one is reported only once its chain has full spasms,
        a match only once its chain's alarm is due."""
        out = self.tick(s.detected_t)
        raised = self.clusters.add(s)
        if raised is not None:
            raised.post_wake_s = self.post_wake_s(raised)
            self.alarms.append(raised)
        if not s.weak:
            out.append(_spasm_record(s))
        out.extend(_spasm_record(w) for w in self.clusters.drain_weak())
        return out

    def epoch(self, t_start: float, activity: int, breath_acc: int, breath_gyro: int) -> list[Record]:
        """One completed epoch starting at ``t_start`` (seconds), from its features."""
        return self.epoch_decided(t_start, activity, bool(off_body(activity, breath_acc, breath_gyro, self.p)))

    def epoch_decided(self, t_start: float, activity: int, off: bool, worn: bool | None = None) -> list[Record]:
        """One epoch whose off-body verdict is already made (the band sends it in ACTIVITY). ``worn``:
        the band's own wear verdict (``sleepwake.counts_worn``), which the sleep estimate then
        follows as the exports and the report do; None (a recording replayed): this one's Wear, the
        same hysteresis, but begun with this Analyzer, not at the band's boot (after a band's reboot
        the daemon's estimate began an epoch late, or missed a sleep the report had)."""
        t_end = t_start + self.epoch_s
        out: list[Record] = []
        self._unheard(t_start)
        self._starts.append(t_start)
        if self.wear.update(off):
            since = self._starts[self.wear.since - self.wear.epoch - 1]
            if self.wear.state == NOT_WORN:
                self._off_start = since
            elif self.wear.state == WORN and self._off_start is not None:
                if since - self._off_start > A.POST_WAKE_OFF_MAX_MS / 1000.0:
                    self._long_offs.append((self._off_start, since))
                    self._forget_old_offs()
                out.append({"type": "not_worn", "start": _r(self._off_start), "end": _r(since)})
                self._off_start = None
        active = activity * 100 >= self.p.epoch * A.EPOCH_ACTIVE_PCT
        asleep = self.sleep.state == ASLEEP
        moving = activity * 100 >= self.p.epoch * A.WAKE_MOVE_PCT
        tr = self.sleep.update(t_start, active, counts_worn(self.wear.state, off) if worn is None else worn, moving=moving)
        if asleep and self.sleep.state == UNKNOWN:
            # Started afresh asleep (unheard over SLEEP_GAP_KEEP_MS, the band off): the waking is not
            # seen, so the wake before is no longer the last (hostile review: 400 s unheard in a nap,
            # the cluster after it read 102 min after waking, from the wake before the nap).
            self._asleep_lost.append(t_start)
        if tr is not None:
            if tr.kind == "wake":
                self._wake(tr.t)
            out.append({"type": tr.kind, "t": _r(tr.t), "detected_t": _r(tr.detected_t)})
        out.extend(self.tick(t_end))
        return out

    def finish(self, t_end: float) -> list[Record]:
        """End of data: close the open cluster and the open not-worn interval."""
        self.clusters.flush()
        out = self._drain_closed()
        if self._off_start is not None:
            out.append({"type": "not_worn", "start": _r(self._off_start), "end": _r(t_end)})
            self._off_start = None
        return out

    def tick(self, now: float) -> list[Record]:
        """Time passes: a cluster quiet for its close time closes."""
        self.clusters.tick(now)
        return self._drain_closed()

    # --- helpers ----------------------------------------------------------------
    def _wake(self, t: float) -> None:
        """A wake onset; those before the last one older than WAKE_ONSETS_KEEP_S can answer no
        post_wake_s of a cluster reported from now on, and go."""
        w = self.wake_onsets
        w.append(t)
        cut = 0
        while cut + 1 < len(w) and w[cut + 1] <= t - WAKE_ONSETS_KEEP_S:
            cut += 1
        del w[:cut]
        self._forget_old_offs()

    def _unheard(self, t_start: float) -> None:
        """A gap before the epoch at ``t_start`` (the band not heard: no epochs; the sleep estimate
        starts afresh after one longer than SLEEP_GAP_KEEP_MS, at most this) is a span the baby may
        have slept and woken in, as one off the body: longer than POST_WAKE_OFF_MAX_MS it unsettles
        the wake before it (hostile review: 2 h unheard, the cluster after it was dated from the
        wake before it)."""
        if self._starts and t_start - (self._starts[-1] + self.epoch_s) > A.POST_WAKE_OFF_MAX_MS / 1000.0:
            self._long_offs.append((self._starts[-1] + self.epoch_s, t_start))
            self._forget_old_offs()

    def _forget_old_offs(self) -> None:
        """Long offs before the first kept wake onset can unsettle no wake: they go."""
        first = self.wake_onsets[0] if self.wake_onsets else float("inf")
        self._long_offs = [span for span in self._long_offs if span[0] >= first]
        self._asleep_lost = [t for t in self._asleep_lost if t >= first]

    def _long_off_between(self, w: float, t: float) -> bool:
        """A not-worn span that began at or after ``w`` had lasted longer than POST_WAKE_OFF_MAX_MS
        by ``t``. Judged at ``t`` (a cluster's start), open or closed alike: a span that passed the
        limit only after it changed a closed cluster's post_wake_s from what its alarm said."""
        spans = [*self._long_offs, *([(self._off_start, t)] if self._off_start is not None else [])]
        return any(w <= a and min(end, t) - a > A.POST_WAKE_OFF_MAX_MS / 1000.0 for a, end in spans)

    def _drain_closed(self) -> list[Record]:
        done = self.clusters.drain()
        self.closed.extend(done)
        return [self._cluster_record(c) for c in done]

    def post_wake_s(self, c: Cluster) -> float | None:
        """Seconds from the last wake onset to the cluster's start (0 if it woke during it);
        None when no wake was seen, or none since a long band-off or gap (POST_WAKE_OFF_MAX_MS: the
        baby may have slept and woken unseen) or since the estimate started afresh on a baby asleep."""
        before = [w for w in self.wake_onsets if w <= c.start]
        if before and not self._long_off_between(before[-1], c.start) and not any(before[-1] <= a <= c.start for a in self._asleep_lost):
            return c.start - before[-1]
        if any(c.start < w <= c.end for w in self.wake_onsets):
            return 0.0
        return None

    def _cluster_record(self, c: Cluster) -> Record:
        c.post_wake_s = self.post_wake_s(c)
        iv = c.intervals()
        return {
            "type": "cluster",
            "start": _r(c.start),
            "end": _r(c.end),
            "count": c.count,
            "matched": c.matches,
            "alert_t": _r(c.alert_t) if c.alert_t is not None else None,
            "post_wake_s": _r(c.post_wake_s) if c.post_wake_s is not None else None,
            "median_interval_s": _r(sorted(iv)[len(iv) // 2]) if iv else None,
        }
