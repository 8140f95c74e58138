import random

from spasmwatch.analysis import consts as A
from spasmwatch.analysis.clusters import SPAN_S, Cluster, ClusterTracker, Spasm


def sp(t: float, dur: float = 1.2, alike: bool = False) -> Spasm:
    return Spasm(t=t, duration_s=dur, detected_t=t + dur + 0.1, alike=alike)


def feed(ts: list[float]) -> tuple[ClusterTracker, list[float]]:
    ct = ClusterTracker()
    alarms = []
    for t in ts:
        ct.tick(t)
        c = ct.add(sp(t))
        if c is not None:
            alarms.append(c.alert_t)
    return ct, alarms


def test_alarm_on_third_spasm_and_close_after_quiet() -> None:
    ct, alarms = feed([100.0, 107.0, 115.0, 122.0])
    assert alarms == [115.0 + 1.3]
    ct.tick(122.0 + 1.2 + 59.0)
    assert ct.drain() == []
    ct.tick(122.0 + 1.2 + 61.0)
    (c,) = ct.drain()
    assert (c.count, c.start, round(c.end, 3)) == (4, 100.0, 123.2)
    assert c.intervals() == [7.0, 8.0, 7.0]


def test_two_spasms_or_scattered_spasms_make_no_cluster() -> None:
    ct, alarms = feed([10.0, 20.0, 100.0, 200.0, 290.0])
    ct.flush()
    assert alarms == [] and ct.drain() == []


def test_spasms_closer_than_min_gap_count_once() -> None:
    # A double jerk (0.8 s apart) is one movement: 3 events, 2 counted.
    ct, alarms = feed([50.0, 50.8, 58.0])
    assert alarms == []
    ct.add(sp(65.0))
    ct.flush()
    (c,) = ct.drain()
    assert c.count == 3 and len(c.spasms) == 4


def test_gap_over_max_breaks_the_chain() -> None:
    ct, alarms = feed([0.0, 8.0, 55.0, 63.0, 71.0])
    assert alarms == [71.0 + 1.3]
    ct.flush()
    (c,) = ct.drain()
    assert c.start == 55.0 and c.count == 3


def test_alarm_needs_three_spasms_within_the_rhythm_span() -> None:
    # Three events 30 s apart (head lifts, kicks) chain up but are no rhythm;
    # the alarm waits for three consecutive spasms within 45 s.
    ct, alarms = feed([0.0, 30.0, 60.0])
    assert alarms == []
    ct.add(sp(75.0))
    c = ct.current
    assert c is not None and c.alert_t == 75.0 + 1.3 and c.count == 4
    ct.flush()
    assert [x.start for x in ct.drain()] == [0.0]


def test_slow_chain_that_never_speeds_up_is_no_cluster() -> None:
    ct, alarms = feed([0.0, 24.0, 48.0, 72.0, 96.0])
    ct.flush()
    assert alarms == [] and ct.drain() == []


def weak(t: float) -> Spasm:
    return Spasm(t=t, duration_s=1.0, detected_t=t + 1.1, confidence=20)


def test_weak_events_count_only_next_to_full_spasms() -> None:
    ct = ClusterTracker()
    # Weak events alone never make a chain, however many.
    for t in (10.0, 17.0, 24.0, 31.0):
        assert ct.add(weak(t)) is None
    assert ct.current is None and ct.drain_weak() == []
    # A missed (weak) first spasm, then two full ones: the alarm on the third.
    ct = ClusterTracker()
    assert ct.add(weak(100.0)) is None
    assert ct.add(sp(107.0)) is None
    c = ct.add(sp(114.0))
    assert c is not None and c.count == 3 and c.strong == 2
    assert [w.t for w in ct.drain_weak()] == [100.0]
    # Once the chain has two full spasms a weak event counts (and is reported) at once.
    ct.add(weak(121.0))
    assert c.count == 4 and [w.t for w in ct.drain_weak()] == [121.0]


def test_two_full_spasms_and_a_weak_third_raise_the_alarm() -> None:
    ct = ClusterTracker()
    assert ct.add(sp(100.0)) is None
    assert ct.add(sp(107.0)) is None
    c = ct.add(weak(114.0))
    assert c is not None and c.alert_t == 114.0 + 1.1 and (c.count, c.strong) == (3, 2)


def test_one_full_spasm_and_weak_events_make_no_cluster() -> None:
    ct = ClusterTracker()
    for s in (weak(10.0), sp(17.0), weak(24.0), weak(31.0)):
        assert ct.add(s) is None
    ct.flush()
    assert ct.drain() == [] and ct.drain_weak() == []


def match(t: float, decided: float) -> Spasm:
    return Spasm(t=t, duration_s=1.0, detected_t=decided, confidence=30, matched=True)


def test_without_an_alike_pair_matches_count_in_a_cluster_never_towards_its_alarm() -> None:
    ct = ClusterTracker()
    # One full spasm and a run of matches (a kicking bout repeats one kick as faithfully):
    # no alarm, however many, and nothing reported.
    ct.add(sp(100.0))
    for t in (92.0, 106.0, 113.0, 120.0):
        assert ct.add(match(t, t + 5.0)) is None
    assert ct.current is not None and not ct.current.is_cluster and ct.current.matches == 4
    assert ct.drain_weak() == []
    # A second full spasm, not like the first: still none (two full ones and matches).
    assert ct.add(sp(127.0)) is None
    assert ct.drain_weak() == []
    # The third full spasm raises the alarm as it would without them; the matches held
    # so far are reported then.
    c = ct.add(sp(134.0))
    assert c is not None and c.alert_t == sp(134.0).detected_t
    assert c.count == 3 + 4
    assert [s.t for s in ct.drain_weak()] == [92.0, 106.0, 113.0, 120.0]
    # After the alarm: counted at once, even out of time order (one that reached back).
    ct.add(match(141.0, 146.0))
    ct.add(match(127.9, 147.0))  # the same movement as the full spasm at 127.0
    ct.add(match(148.0, 153.0))
    assert [s.t for s in ct.drain_weak()] == [141.0, 148.0]
    ct.flush()
    (closed,) = ct.drain()
    assert closed.count == 3 + 6 and closed.matches == 6
    assert (closed.start, closed.end) == (100.0, 134.0 + 1.2)  # the detector's span
    assert [s.t for s in closed.spasms] == sorted(s.t for s in closed.spasms)


def test_a_match_ahead_of_its_chain_joins_it_and_a_far_one_does_not() -> None:
    ct = ClusterTracker()
    ct.add(match(20.0, 21.0))  # 81 s before the chain: out of its reach
    ct.add(match(65.0, 66.0))  # placed (by an estimated time) before the full spasm it matched
    for t in (70.0, 77.0, 84.0):
        ct.add(sp(t))
    assert [s.t for s in ct.drain_weak()] == [65.0]
    ct.flush()
    (c,) = ct.drain()
    assert c.count == 4 and c.start == 70.0


def test_a_spasm_seen_as_a_match_first_counts_once() -> None:
    ct = ClusterTracker()
    for t in (10.0, 17.0, 24.0):
        ct.add(sp(t))
    ct.add(match(31.0, 33.0))
    ct.add(sp(31.5))  # the detector confirms the same movement later
    ct.flush()
    (c,) = ct.drain()
    assert c.count == 4 and [s.t for s in c.spasms] == [10.0, 17.0, 24.0, 31.5]
    # Held before the alarm and then confirmed by the detector: reported once, as a spasm.
    ct = ClusterTracker()
    ct.add(sp(10.0))
    ct.add(match(16.5, 20.0))
    ct.add(sp(17.0))
    c2 = ct.add(sp(24.0))
    assert c2 is not None and c2.count == 3 and c2.matches == 0
    assert ct.drain_weak() == []


def test_with_an_alike_pair_a_match_may_be_the_third_spasm() -> None:
    # The detector missed the first spasm (93); the second full one's shape matched it
    # back; the third is shaped like the second: the alarm comes at the third spasm.
    ct = ClusterTracker()
    assert ct.add(sp(100.0)) is None
    assert ct.add(match(93.0, 102.3)) is None  # one full spasm and a match: no alarm
    assert ct.drain_weak() == []
    c = ct.add(sp(107.0, alike=True))
    assert c is not None and c.alert_t == sp(107.0).detected_t and (c.count, c.matches, c.strong) == (3, 1, 2)
    assert [s.t for s in ct.drain_weak()] == [93.0]
    assert c.start == 100.0  # a match does not move the span
    # The same spasms, the third not shaped like the second: the alarm waits for a third
    # spasm of the detector's own.
    ct = ClusterTracker()
    ct.add(sp(100.0))
    ct.add(match(93.0, 102.3))
    assert ct.add(sp(107.0)) is None
    assert ct.add(sp(114.0)) is not None


def test_an_alike_pair_raises_no_alarm_without_a_third_spasm_or_the_rhythm() -> None:
    ct = ClusterTracker()
    ct.add(sp(100.0))
    assert ct.add(sp(108.0, alike=True)) is None  # two full spasms: no cluster yet
    assert ct.add(match(109.0, 113.0)) is None  # the same movement as the one at 108
    # A match after the pair is the third spasm: the alarm comes with it.
    c = ct.add(match(116.0, 120.0))
    assert c is not None and c.alert_t == 120.0 and c.count == 3
    # Matches 30 s apart around a pair break the rhythm (three within 45 s): no alarm.
    ct = ClusterTracker()
    ct.add(sp(100.0))
    ct.add(match(70.5, 102.0))
    assert ct.add(sp(138.0, alike=True)) is None
    assert ct.current is not None and ct.current.count == 3 and not ct.current.is_cluster


def test_a_cluster_s_span_and_confirmed_time_follow_its_spasms_as_they_are_replaced_and_dropped() -> None:
    """A cluster keeps its start, end and latest confirmation as running values (its cost per spasm
    does not grow with it, bench/cluster_growth.py): each must follow a match dropped for the full
    spasm of its movement, a weak event seen again as a full spasm, a late spasm out of time order."""
    ct = ClusterTracker()
    ct.add(sp(100.0))
    ct.add(sp(107.0, alike=True))
    c = ct.current
    assert c is not None
    # A long match confirmed late (the third, with the pair): counted, the latest confirmed, but
    # not the end (a match does not move the span).
    assert ct.add(Spasm(t=113.0, duration_s=9.0, detected_t=130.0, confidence=30, matched=True)) is c
    assert (c.start, c.end, c.confirmed_t, c.count, c.matches) == (100.0, 108.2, 130.0, 3, 1)
    # The detector's own spasm of that movement: the match goes, and its confirmation with it.
    ct.add(sp(114.0))
    assert (c.start, c.end, c.confirmed_t, c.count, c.matches) == (100.0, 115.2, 115.3, 3, 0)
    assert c.is_cluster and not c.has_match(Spasm(t=113.0, duration_s=9.0, detected_t=130.0, matched=True))
    # A long weak event, then the same movement as a full spasm ending sooner: the weak one's end.
    ct.add(Spasm(t=121.0, duration_s=6.0, detected_t=127.1, confidence=20))
    ct.add(Spasm(t=121.5, duration_s=1.0, detected_t=122.6))
    assert (c.end, c.confirmed_t, c.count, c.strong) == (127.0, 127.1, 4, 4)
    # A long spasm that came late, before the chain's first (not counted: out of time order): the
    # start moves back to it, and the end on to its end.
    ct.add(Spasm(t=99.0, duration_s=30.0, detected_t=129.5))
    assert (c.start, c.end, c.confirmed_t, c.count) == (99.0, 129.0, 129.5, 4)


def _stream(rng: random.Random, n: int) -> list[Spasm]:
    """Spasms of every kind in an order a band's link may bring them: full ones (some alike), weak
    ones, the same movement seen weakly then as a full spasm, late ones, matches reaching back (some
    confirmed long after), gaps that break the chain and spacings that break the rhythm."""
    out: list[Spasm] = []
    t = 0.0
    for _ in range(n):
        t += rng.choice((1.0, 4.0, 7.0, 10.0, 24.0, 50.0)) * rng.uniform(0.8, 1.2)
        dur = rng.uniform(0.3, 5.0)
        kind = rng.random()
        if kind < 0.4:
            out.append(Spasm(t, dur, t + dur + rng.uniform(0.1, 3.0), confidence=90, alike=rng.random() < 0.2))
        elif kind < 0.55:
            out.append(Spasm(t, dur, t + dur + 0.1, confidence=20))
            if rng.random() < 0.5:  # the same movement, then confirmed as a full spasm
                out.append(Spasm(t + 0.5, dur / 2, t + dur + 0.2, confidence=90))
        elif kind < 0.65:
            late = t - rng.uniform(0.5, 20.0)
            out.append(Spasm(late, dur, t + 0.5, confidence=90))
        else:
            m = t - rng.uniform(0.0, 12.0)
            out.append(Spasm(m, dur, t + rng.uniform(1.0, 20.0), confidence=30, matched=True))
    return out


def _check_against_its_spasms(c: Cluster) -> None:
    """Each running value as recomputed from the cluster's spasm list and counted onsets."""
    own = [s for s in c.spasms if not s.matched]
    assert c.start == own[0].t == min(s.t for s in own)
    assert c.end == max(s.end for s in own)
    assert c.confirmed_t == max(s.detected_t for s in c.spasms)
    assert c._matches == [s.t for s in c.spasms if s.matched]
    assert c.count == len(c._counted.ts) + len(c._matches)
    ts = sorted(c._counted.ts + c._matches) if c.pair else c._counted.ts
    rhythmic = any(b - a <= SPAN_S for a, b in zip(ts, ts[2:]))
    assert c.is_cluster == (len(ts) >= A.CLUSTER_MIN_COUNT and c.strong >= A.CLUSTER_MIN_STRONG and rhythmic)


def test_a_cluster_s_running_values_match_its_spasm_list_after_every_spasm() -> None:
    """Thousands of spasms of every kind: after each, the cluster's start, end, latest confirmation,
    count and alarm test are what its spasm list says. The stream is checked to have dropped the
    latest-confirmed match of a cluster, replaced a weak event by its full spasm, and lost and
    found the rhythm, so a running value not updated there fails."""
    dropped_latest = replaced = unrhythmic = rhythmic = 0
    for seed in range(8):
        ct = ClusterTracker()
        for s in _stream(random.Random(seed), 500):
            ct.tick(s.detected_t)
            before = ct.current
            confirmed, strong, counted = (before.confirmed_t, before.strong, len(before._counted.ts)) if before is not None else (0.0, 0, 0)
            ct.add(s)
            c = ct.current
            if c is None:
                continue
            _check_against_its_spasms(c)
            if c is before:
                dropped_latest += c.confirmed_t < confirmed
                replaced += c.strong > strong and len(c._counted.ts) == counted
            unrhythmic += c.count >= A.CLUSTER_MIN_COUNT and c.strong >= A.CLUSTER_MIN_STRONG and not c.is_cluster
            rhythmic += c.is_cluster
        ct.flush()
        for closed in ct.drain():
            _check_against_its_spasms(closed)
    assert min(dropped_latest, replaced, unrhythmic, rhythmic) > 0, (dropped_latest, replaced, unrhythmic, rhythmic)


def test_a_spasm_late_on_the_link_counts_where_its_onset_is() -> None:
    """Found by review: the daemon feeds a spasm up to LATE_S (30 s) older than its newest data
    straight in (a re-ordered notification, a backfill behind a spasm stored before a restart),
    but the tracker counted a spasm only against the latest counted onset: one before it was
    the same movement whatever the gap, left uncounted, and pulled the chain's last full spasm
    back. Now it counts as it would have in order, and a weak event seen again as a full spasm
    out of order is a full one."""
    in_order = ClusterTracker()
    for t in (100.0, 108.0, 116.0, 124.0):
        in_order.add(sp(t))
    late = ClusterTracker()
    for t in (100.0, 108.0, 124.0, 116.0):  # 116 arrives behind 124
        late.add(sp(t))
    a, b = in_order.current, late.current
    assert a is not None and b is not None
    assert (b.count, b.strong, b.last_strong_t, b.intervals()) == (a.count, a.strong, a.last_strong_t, a.intervals()) == (4, 4, 124.0, [8.0, 8.0, 8.0])
    # A weak event, then (late) the same movement as a full spasm, while a later one was counted.
    ct = ClusterTracker()
    for s in (sp(100.0), sp(108.0), weak(116.0), sp(124.0), sp(116.4)):
        ct.add(s)
    c = ct.current
    assert c is not None and (c.count, c.strong) == (4, 4)
    # Still one movement: seen full again, it counts no more.
    ct.add(sp(116.6))
    assert (c.count, c.strong) == (4, 4)


def test_an_alarm_a_late_spasm_completes_is_not_dated_before_the_spasms_it_needed() -> None:
    """Found by review: a spasm fed out of order (up to LATE_S behind) that made the chain a
    cluster set the alarm time to its own confirmation, seconds before the later spasms the
    alarm counts were even confirmed ("alarm at" 100.6 for a cluster of spasms at 100, 108,
    116). In order the alarm is due when the third is confirmed; late, not before the data it
    counts was in."""
    in_order = ClusterTracker()
    alarms = [in_order.add(sp(t)) for t in (100.0, 108.0, 116.0)]
    assert alarms[-1] is not None and alarms[-1].alert_t == 116.0 + 1.3
    late = ClusterTracker()
    assert late.add(sp(108.0)) is None and late.add(sp(116.0)) is None
    c = late.add(sp(100.0))  # confirmed at 101.3, behind the two after it on the link
    assert c is not None and c.alert_t == 116.0 + 1.3
