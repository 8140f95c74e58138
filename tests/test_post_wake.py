"""post_wake_s across a band-off span: the wake seen before a long not-worn span is no longer the
last wake (the baby may have slept and woken meanwhile, unseen); a short one keeps it.

The daemon's live path and replay both ask ``Analyzer.post_wake_s`` (daemon/live.py, replay), so
the Analyzer is driven here as either feeds it: epochs and confirmed spasms in time order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from spasmwatch.analysis import consts as A
from spasmwatch.analysis.clusters import CLOSE_S, Cluster, Spasm
from spasmwatch.analysis.pipeline import Analyzer
from spasmwatch.daemon.live import LiveAnalysis, TrackedCluster
from swcore.frontend import Params

EPOCH_S = 10.0
WAKE_T = 1800.0  # asleep from 0, awake from here on


def _items(off_s: float, t0: float = 0.0, unheard: bool = False) -> tuple[list[tuple[float, Any]], float]:
    """Asleep 30 min, awake 20 min, band off ``off_s`` (``unheard``: no epochs then at all), back on
    awake; a cluster 5 min later. The epochs (start, activity, off) and spasms in the order they are
    decided, and the end."""
    off_from = WAKE_T + 1200.0
    on_from = off_from + off_s
    end = on_from + 900.0
    items: list[tuple[float, Any]] = []
    t = 0.0
    while t < end:
        off = off_from <= t < on_from
        activity = 0 if off else (3 if t < WAKE_T else 300)
        if not (off and unheard):
            items.append((t0 + t + EPOCH_S, (t0 + t, activity, off)))
        t += EPOCH_S
    for k in range(5):
        s = Spasm(t=t0 + on_from + 300.0 + 8.0 * k, duration_s=1.2, detected_t=t0 + on_from + 301.5 + 8.0 * k)
        items.append((s.detected_t, s))
    items.sort(key=lambda it: it[0])
    return items, t0 + end


def _run(off_s: float) -> tuple[list[dict[str, Any]], list[float | None]]:
    """The replay path: the records, and each alarm's post_wake_s as it was raised."""
    items, end = _items(off_s)
    return _replayed(items, end)


def _replayed(items: list[tuple[float, Any]], end: float) -> tuple[list[dict[str, Any]], list[float | None]]:
    """``items`` (spasms and decided epochs, in order) through the replay's Analyzer to ``end``."""
    an = Analyzer(Params(rate_hz=52.0))
    assert an.epoch_s == EPOCH_S
    recs: list[dict[str, Any]] = []
    alarmed: list[float | None] = []
    for _, it in items:
        recs += an.spasm(it) if isinstance(it, Spasm) else an.epoch_decided(*it)
        alarmed += [c.post_wake_s for c in an.alarms]
        an.alarms.clear()
    recs += an.finish(end)
    return recs, alarmed


def _one(recs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    got = [r for r in recs if r["type"] == kind]
    assert len(got) == 1, got
    return got[0]


def test_after_a_long_band_off_the_wake_before_it_is_not_the_last_wake() -> None:
    """Old code: 7200 s off, the cluster read 'post_wake_s 8700' (2 h 25 min after waking) from the
    wake before the band came off, in the record and the alarm alike."""
    recs, alarmed = _run(7200.0)
    wake = _one(recs, "wake")
    assert wake["t"] == pytest.approx(WAKE_T, abs=EPOCH_S)
    assert _one(recs, "not_worn")["end"] - _one(recs, "not_worn")["start"] > A.POST_WAKE_OFF_MAX_MS / 1000
    assert _one(recs, "cluster")["post_wake_s"] is None
    assert alarmed == [None]


def test_a_short_band_off_keeps_the_wake_before_it() -> None:
    """A not-worn span shorter than POST_WAKE_OFF_MAX_MS (a strap adjusted, a change of clothes)
    cannot hide a sleep the estimator would have seen: the wake before it stays the last."""
    off_s = A.POST_WAKE_OFF_MAX_MS / 1000 - 180.0
    recs, alarmed = _run(off_s)
    wake, cluster = _one(recs, "wake"), _one(recs, "cluster")
    assert _one(recs, "not_worn")["end"] > _one(recs, "not_worn")["start"]
    assert cluster["post_wake_s"] == pytest.approx(cluster["start"] - wake["t"], abs=0.01)
    assert alarmed == [pytest.approx(cluster["post_wake_s"], abs=0.01)]


@pytest.mark.parametrize(("gap_s", "known"), [(7200.0, False), (A.POST_WAKE_OFF_MAX_MS / 1000 - 180.0, True)])
def test_a_long_gap_in_the_epochs_unsettles_the_wake_as_a_long_band_off_does(gap_s: float, known: bool) -> None:
    """Hostile review: the band not heard for 2 h (its battery flat, no epochs at all; the sleep
    estimate starts afresh after it) and back on an awake baby: the cluster 5 min later read
    'post_wake_s 8700' from the wake before the gap, though the baby may have slept and woken in it.
    A gap is judged as a not-worn span of its length. Old code: 8700.0 in the record and the alarm."""
    recs, alarmed = _replayed(*_items(gap_s, unheard=True))
    assert not [r for r in recs if r["type"] == "not_worn"]  # unheard, not a band-off
    wake, cluster = _one(recs, "wake"), _one(recs, "cluster")
    want = pytest.approx(cluster["start"] - wake["t"], abs=0.01) if known else None
    assert cluster["post_wake_s"] == want
    assert alarmed == [want]


class _Store:
    """What the daemon stored, for LiveAnalysis.rebuild."""

    def __init__(self) -> None:
        self.spasms: list[Spasm] = []
        self.epochs: list[tuple[float, int, bool]] = []

    def spasms_since(self, device: str, since: float) -> Iterator[Spasm]:
        return iter([s for s in self.spasms if s.t >= since])

    def epochs_since(self, device: str, since: float) -> Iterator[tuple[float, int, bool]]:
        return iter([e for e in self.epochs if e[0] >= since])


class _Listener:
    def __init__(self) -> None:
        self.post_wake: list[tuple[str, float | None]] = []

    def cluster_changed(self, device: str, tc: TrackedCluster, c: Cluster, event: str, absorbed: Sequence[TrackedCluster] = ()) -> None:
        self.post_wake.append((event, c.post_wake_s))

    def chain_forming(self, device: str, key: str, c: Cluster) -> None:
        pass

    def sleep_changed(self, device: str, kind: str, t: float) -> None:
        pass


@pytest.mark.parametrize(("off_s", "known"), [(7200.0, False), (A.POST_WAKE_OFF_MAX_MS / 1000 - 180.0, True)])
def test_the_daemon_s_live_analysis_and_its_rebuild_say_what_replay_says(off_s: float, known: bool) -> None:
    """The daemon's path (LiveAnalysis, on wall time; then a rebuild from the store) gives each
    alarm and update the post_wake_s replay gives, band-off long (null; old code: 8700 s) or short."""
    t0 = 1764921600.0
    want = _one(_run(off_s)[0], "cluster")["post_wake_s"]
    assert (want is not None) == known
    items, end = _items(off_s, t0)
    now = [t0]
    store, listener = _Store(), _Listener()
    live = LiveAnalysis("band", Params(rate_hz=52.0), store, listener, lambda: now[0])
    for when, it in items:
        now[0] = when
        if isinstance(it, Spasm):
            store.spasms.append(it)
            live.spasm(it)
        else:
            store.epochs.append(it)
            live.epoch(*it)
    live.tick(end)
    assert {e for e, _ in listener.post_wake} >= {"alarm", "closed"}
    for _, pw in listener.post_wake:
        assert pw == (None if want is None else pytest.approx(want, abs=0.01))
    listener.post_wake.clear()
    live.rebuild(end)
    assert listener.post_wake and all(pw == (None if want is None else pytest.approx(want, abs=0.01)) for _, pw in listener.post_wake)


def test_a_band_off_that_passes_the_limit_after_the_cluster_s_start_changes_nothing() -> None:
    """Hostile review: the open span counted by its length at the cluster's start, a closed one by
    its whole length, so a cluster 9 min into a band-off (a band picked up off the table) that ended
    11 min in was raised with the wake's post_wake_s and closed with null: its record depended on
    data after its alarm. Old code: alarm [2740.0], record None. Now both judge the span as it was
    at the cluster's start (9 min: shorter than the sleep window, the wake is still the last)."""
    off_from = WAKE_T + 1200.0
    on_from = off_from + A.POST_WAKE_OFF_MAX_MS / 1000 + 20.0
    first = off_from + A.POST_WAKE_OFF_MAX_MS / 1000 - 60.0
    items: list[tuple[float, Any]] = []
    t = 0.0
    while t < on_from + 600.0:
        off = off_from <= t < on_from
        items.append((t + EPOCH_S, (t, 0 if off else (3 if t < WAKE_T else 300), off)))
        t += EPOCH_S
    items += [(first + 8.0 * k + 1.5, Spasm(t=first + 8.0 * k, duration_s=1.2, detected_t=first + 8.0 * k + 1.5)) for k in range(10)]
    items.sort(key=lambda it: it[0])
    recs, alarmed = _replayed(items, t)
    wake, cluster, span = _one(recs, "wake"), _one(recs, "cluster"), _one(recs, "not_worn")
    assert span["start"] < cluster["start"] < span["start"] + A.POST_WAKE_OFF_MAX_MS / 1000 < span["end"] < cluster["end"] + CLOSE_S
    assert cluster["post_wake_s"] == pytest.approx(cluster["start"] - wake["t"], abs=0.01)
    assert alarmed == [pytest.approx(cluster["post_wake_s"], abs=0.01)]


def _nap_then(gap_s: float, unheard: bool) -> tuple[list[dict[str, Any]], list[float | None]]:
    """A wake seen at 5 min, awake 1 h, a nap of 30 min (its sleep seen), the band unheard or off for
    ``gap_s`` in it, back on an awake baby; a cluster 5 min later."""
    items: list[tuple[float, Any]] = []
    t = 0.0
    for n, activity, off in ((30, 0, False), (360, 400, False), (180, 0, False), (round(gap_s / EPOCH_S), 0, True), (60, 400, False)):
        for _ in range(n):
            if not (off and unheard):
                items.append((t + EPOCH_S, (t, activity, off)))
            t += EPOCH_S
    for k in range(5):
        s = Spasm(t=t - 300.0 + 8.0 * k, duration_s=1.2, detected_t=t - 298.5 + 8.0 * k)
        items.append((s.detected_t, s))
    items.sort(key=lambda it: it[0])
    return _replayed(items, t)


@pytest.mark.parametrize("unheard", [True, False], ids=["unheard", "band_off"])
def test_a_nap_the_estimate_lost_unsettles_the_wake_before_it(unheard: bool) -> None:
    """Hostile review of SLEEP_GAP_KEEP_MS: 400 s unheard (or the band off 400 s) in a nap whose sleep
    was seen starts the estimate afresh (longer than 5 min), and the baby, awake after it, wakes
    unseen; shorter than POST_WAKE_OFF_MAX_MS it unsettled no wake, so the cluster 5 min later read
    '102 min after waking', from the wake before the nap. Old code: post_wake_s 6100.0. A fresh start
    while asleep makes the wake before it unknown, as a long band-off does."""
    recs, alarmed = _nap_then(400.0, unheard)
    assert [r["type"] for r in recs if r["type"] in ("wake", "sleep")] == ["wake", "sleep"]
    assert _one(recs, "cluster")["post_wake_s"] is None
    assert alarmed == [None]


def test_across_a_gap_the_estimate_keeps_the_nap_s_wake_is_seen() -> None:
    """4 min unheard in the nap: the estimate goes on, the wake after it is claimed (dated to the first
    active epoch heard) and the cluster is timed from it."""
    recs, alarmed = _nap_then(240.0, True)
    wakes = [r["t"] for r in recs if r["type"] == "wake"]
    assert wakes == [300.0, 5940.0]
    assert _one(recs, "cluster")["post_wake_s"] == pytest.approx(_one(recs, "cluster")["start"] - 5940.0, abs=0.01)
    assert alarmed == [pytest.approx(_one(recs, "cluster")["post_wake_s"], abs=0.01)]
