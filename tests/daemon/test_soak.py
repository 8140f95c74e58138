"""The daemon stays bounded: bench/soak.py's phases, shorter, with growth asserted (never a time).

After a warm-up and after N more cycles: the same asyncio tasks, threads, open fds and store
files; no object of spasmwatch's own classes more than the bounded collections that hold them
account for; every internal collection within its bound, or flat (docs/host.md, "Over weeks").
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
import time
from pathlib import Path
from typing import Any

from spasmwatch.alerts import AlertEngine, AlertSettings, ClusterState
from spasmwatch.analysis.clusters import Cluster, Spasm
from spasmwatch.analysis.pipeline import Analyzer
from spasmwatch.daemon import consts as K
from swcore.frontend import Params
from synthetic import load_bench

soak = load_bench("soak")


def assert_bounded(g: Any, bounds: dict[str, int]) -> None:
    w, e = g.warm, g.end
    for attr in ("tasks", "threads", "fds", "db_files"):
        assert getattr(e, attr) <= getattr(w, attr), f"{g.phase}: {attr} {getattr(w, attr)} -> {getattr(e, attr)} over {g.cycles} cycles"
    over = soak.over_bound(g, bounds)
    assert not over, f"{g.phase}: collections grew past their bound (or, unbounded, past the warm-up's size): " + ", ".join(
        f"{k} {a} -> {b} (bound {c})" for k, (a, b, c) in over.items()
    )
    assert not soak.unexplained(g), f"{g.phase}: objects grew over {g.cycles} cycles: {soak.unexplained(g)}"


def test_radio_drops_and_reconnects_leave_nothing_behind_and_log_two_lines_each(tmp_path: Path) -> None:
    """The real band firmware, bleak over the simulated radio, a relay that cuts the link 30 times.

    A band at the edge of range reconnects every minute all night: at INFO, the drop (why) and
    the return (how long away, attempts, backfill from where), not each step (6 lines before)."""
    g = asyncio.run(soak.reconnects(tmp_path, 10, 30, 10, soak.Tracer(False)))
    assert g.extra["relay_connections"] >= 40
    assert_bounded(g, g.extra["bounds"])
    lines = g.extra["first_lines"]
    assert g.extra["log_lines"] <= 2 * 30, f"{g.extra['log_lines']} log lines for 30 reconnects: {lines}"
    assert "streaming -> disconnected (disconnected: the band disconnected)" in lines[0], lines
    assert "-> streaming (backfill from seq " in lines[1], lines
    assert " s away, 1 attempt(s); dropped: disconnected: the band disconnected" in lines[1], lines


def test_usb_serial_cuts_and_reopens_leave_nothing_behind(tmp_path: Path) -> None:
    """SerialLink (pyserial's socket://) on the band's USB port (the CDC bridge, in a process of its
    own, over the real firmware), a relay that cuts it 10 times as an unplugged cable."""
    g = asyncio.run(soak.reconnects(tmp_path, 3, 10, 10, soak.Tracer(False), "serial"))
    assert g.extra["relay_connections"] >= 13
    assert_bounded(g, g.extra["bounds"])
    assert g.extra["log_lines"] <= 2 * 10, g.extra["first_lines"]


def test_a_band_out_of_range_all_night_costs_nothing_per_attempt(tmp_path: Path) -> None:
    """20 failed connects (bleak's scan, nobody there) after its 'band disconnected' alert: no growth, no log line."""
    g = asyncio.run(soak.away(tmp_path, 10, 20, soak.Tracer(False)))
    assert_bounded(g, g.extra["bounds"])
    assert g.extra["log_lines"] == 0, g.extra["first_lines"]


def test_clusters_alerts_channels_and_web_clients_stay_bounded(tmp_path: Path) -> None:
    """80 cycles (26 simulated hours) to warm up, past the rebuild window and the wake onsets kept,
    then 40 more: clusters alarmed, half acknowledged over HTTP, half left open; notifications to
    webhook, ntfy, MQTT (mosquitto) and the sound command; 20 GETs, a note and 4 live pages a cycle."""
    g = asyncio.run(soak.clusters(tmp_path, 80, 40, soak.Tracer(False)))
    assert g.extra["clusters_stored"] == 120 and g.extra["deliveries_failed"] == 0
    assert g.end.internals["crib.analyzer.wake_onsets"] >= 1  # naps and wakes were seen
    assert_bounded(g, g.extra["bounds"])


def test_a_broker_and_a_receiver_away_and_back_leave_nothing_behind_and_log_on_change(tmp_path: Path) -> None:
    """Mosquitto stopped and the webhook/ntfy receiver down for 2 clusters (40 simulated min), then
    back on their ports, 6 times (2 to warm up); then away 2 simulated hours with an alarm nobody
    acknowledges, and back. paho holds the events meanwhile and sends those still true; the outbox
    keeps the pushes and the resend pass sends them: nothing grows, the outbox empties, and a
    receiver away logs its failure once, not at every resend pass (~480 lines an hour before)."""
    g = asyncio.run(soak.outage(tmp_path, 2, 4, soak.Tracer(False), away_cycles=1, long_hours=2.0))
    long = g.extra["long_outage"]
    assert long["kept_while_away"]["store.outbox.webhook"] >= 1 and long["kept_while_away"]["store.outbox.ntfy"] >= 1, long
    # The second hour: the cluster's end, not delivered on its 3 channels; no line per resend pass (a minute).
    assert long["per_hour_after"] <= 3, f"{long['per_hour_after']} log lines an hour while the receivers stay away: {long['by_kind']}"
    assert "/hook cluster_escalated" in long["http_received_after"], long  # the open alarm, sent late
    assert long["outbox_after"] == {"store.retained": 1}, f"outbox rows left after the broker and the receiver took them: {long['outbox_after']}"
    assert any("delivering again after 1" in x for x in long["lines_back"]), long["lines_back"]  # how long it failed
    assert g.extra["outbox_at_end"] == {"store.retained": 1}, g.extra["outbox_at_end"]
    assert g.extra["peak_while_away"]["paho_held"] >= 2, g.extra["peak_while_away"]  # held while the broker was away
    assert_bounded(g, g.extra["bounds"])


def test_the_mqtt_mirror_waiting_holds_the_status_it_published_and_no_copy(tmp_path: Path) -> None:
    """Found by the outage soak failing under load ('objects grew: FailingChannel 2, BandStatus 1'):
    the mirror kept the latest pass's status in its frame while it waited for the next event; after
    a pass with nothing new to say that was a copy equal to the one published, so the count of a
    measure depended on whether the latest pass published (not growth: 2 or 3 BandStatus at every
    cycle, a run of 22). At rest: the channel's and the mirror's last, one band's, whatever the pass."""
    from spasmwatch.alerts.channels.mqtt import BandStatus

    def band_statuses() -> int:
        gc.collect()
        return sum(isinstance(o, BandStatus) for o in gc.get_objects())

    async def run() -> int:
        async with soak.cluster_daemon(tmp_path, time.time()) as r:
            await r.settle()
            r.d._publish({"type": "status"})  # an event that changes nothing the mirror says: a pass that publishes nothing
            await r.settle()
            return band_statuses()

    before = band_statuses()  # an earlier test's in this process (a pytest-xdist worker runs several)
    assert asyncio.run(run()) - before == 2


def test_a_quiet_hour_logs_nothing(tmp_path: Path) -> None:
    """A connected band with nothing happening: an epoch and a STATUS every 10 s, a tick a second.
    Its one line: the sleep onset of a band that starts still (claimed since 2026-12-06, once the
    quiet holds a sleep window; before, a fresh start's sleep had no onset)."""
    q = asyncio.run(soak.quiet(tmp_path, 1.0))
    assert q["log_lines"] == 1 and "sleep at" in q["first_lines"][0], q["first_lines"]


def _spasm(t: float) -> Spasm:
    return Spasm.from_band(t, 1.5, t + 2.5, 2000, 300, 90, False, False)


def test_wake_onsets_kept_are_those_a_cluster_can_still_need() -> None:
    """A month of naps: the analysis keeps a day of wake onsets, and post_wake_s is as before."""
    a = Analyzer(Params(52, True))
    t = 0.0
    for _ in range(30 * 12):  # a nap and a wake every 2 h
        for k in range(96):  # 12 quiet minutes (asleep), then 4 active ones (a wake)
            a.epoch_decided(t, 0 if k < 72 else 500, False)
            t += 10.0
        t += 7200 - 960
    assert len(a.wake_onsets) <= 24 / 2 + 1, f"{len(a.wake_onsets)} wake onsets kept after 30 days"  # a day's, and the one before
    last = a.wake_onsets[-1]
    c = Cluster()
    for k in range(3):
        c._take(_spasm(last + 600 + 8 * k))
    assert a.post_wake_s(c) == 600.0


def test_an_alarm_nobody_acknowledges_closes_when_a_restart_would_no_longer_carry_it_on() -> None:
    now = [1_800_000_000.0]
    sent: list[Any] = []
    e = AlertEngine(lambda: now[0], sent.append, AlertSettings(escalate_after_s=60))
    e.on_spasm("b1", 7, 3, now[0] - 20)
    now[0] += 70
    e.tick()
    e.on_cluster_closed("b1", 7, now[0] - 10)
    (a,) = e.snapshot()["alerts"]
    assert a["state"] == ClusterState.ESCALATED.value  # ended, open until acknowledged ...
    now[0] += K.REBUILD_WINDOW_S - 11
    e.tick()
    assert e.snapshot()["alerts"][0]["state"] == "ESCALATED"
    now[0] += 1
    e.tick()
    states = [a["state"] for a in e.snapshot()["alerts"]]
    assert states == ["CLOSED"] and not e._clusters, f"still open 6 h after the cluster ended: {states}"
    assert sent[-1].state == "CLOSED"  # a mirror (MQTT) shows the alarm off
    assert AlertSettings().keep_unacknowledged_s == K.REBUILD_WINDOW_S



def _merges(tmp_path: Path, n: int, check: Any = None) -> Any:
    """A daemon (in process, a store on disk) that sees ``n`` times two clusters alarm and late events
    join them into one (docs/host.md "Live analysis"), 10 simulated min apart; ``check(d, i, new)``
    after each, ``new`` the alarm notifications of its two clusters. Returns the daemon."""
    from synthetic import HandClock, streaming

    from spasmwatch.alerts import NoticeKind
    from spasmwatch.daemon.daemon import BandSpec, Daemon
    from spasmwatch.daemon.live import TrackedCluster
    from spasmwatch.store import Store

    t0, dev = 1_800_000_000.0, "cot0001"
    clock = HandClock(t0)
    store = Store(tmp_path / "db.sqlite")
    d = Daemon(store, [BandSpec("cot", lambda: None)], clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
    streaming(d, dev, t0)
    for i in range(n):
        start = clock.t = t0 + 600.0 * i
        first, second, both = Cluster(), Cluster(), Cluster()
        for k in range(3):
            first._take(_spasm(start + 8 * k))
            second._take(_spasm(start + 60 + 8 * k))
        for s in [*first.spasms, *second.spasms]:
            both._take(s)
        seen = len(d.notifications)
        a, b = TrackedCluster(f"{dev}@a{i}", first.start, first.end), TrackedCluster(f"{dev}@b{i}", second.start, second.end)
        clock.t = first.confirmed_t  # each alarmed live, as its third spasm is confirmed
        d.cluster_changed(dev, a, first, "alarm")
        clock.t = second.confirmed_t
        d.cluster_changed(dev, b, second, "alarm")
        new = [x for x in list(d.notifications)[seen:] if x.kind is NoticeKind.CLUSTER_ALARM]
        d.cluster_changed(dev, a, both, "closed", [b])  # late events: a's cluster takes b's in
        if check is not None:
            check(d, i, new, (a.store_id, b.store_id))
    return d


def test_a_cluster_after_a_merge_gets_an_id_never_given_and_alarms(tmp_path: Path) -> None:
    """Found by the uptime review: a merge deletes the retired cluster's row, and SQLite gave its id
    (the highest) to the next cluster stored, which the engine took for the retired alert it still
    held, closed: no alarm. Schema v16 (clusters AUTOINCREMENT): no id is given twice (before, the
    second merge's first cluster took the first merge's retired id); each of the two new clusters
    after a merge alarms, and each merged row holds both its alarms, none another's."""
    ids: list[tuple[int, int]] = []

    def check(d: Any, i: int, new: list[Any], pair: tuple[int, int]) -> None:
        ids.append(pair)
        assert len(new) == 2, f"merge {i}: {len(new)} alarm(s) for two new clusters (ids {pair}; before: {ids[:-1][-1:]})"

    d = _merges(tmp_path, 3, check)
    given = [i for pair in ids for i in pair]
    assert len(set(given)) == len(given) == 6, ids
    assert [a.cluster_id for a in d.store.alerts("cot0001") if a.state == "ALARM"] == [ids[k // 2][0] for k in range(6)], ids
    d.store.close()


def test_a_cluster_whose_row_takes_a_retired_id_still_alarms_if_the_store_s_sequence_was_lost(tmp_path: Path) -> None:
    """The id SQLite keeps for clusters (sqlite_sequence) deleted by hand while the daemon ran (a tool,
    a 'fix' of the file): it gives the highest id again, the retired one. The daemon drops the retired
    alert kept closed under it (AlertEngine.forget_retired), as it did for every merge before schema v16:
    without, the new cluster's spasms were taken for the closed alert's, and it did not alarm."""
    ids: list[tuple[int, int]] = []

    def check(d: Any, i: int, new: list[Any], pair: tuple[int, int]) -> None:
        ids.append(pair)
        assert len(new) == 2, f"merge {i}: {len(new)} alarm(s) for two new clusters (ids {pair}; before: {ids[:-1][-1:]})"
        with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite")) as c, c:
            c.execute("DELETE FROM sqlite_sequence WHERE name = 'clusters'")

    d = _merges(tmp_path, 3, check)
    assert ids[1][0] == ids[0][1]  # the id was given again: what this is about
    assert [a.cluster_id for a in d.store.alerts("cot0001") if a.state == "ALARM"] == [ids[k // 2][0] for k in range(6)], ids
    d.store.close()


def test_clusters_joined_by_late_events_leave_no_map_behind_past_the_alerts_kept(tmp_path: Path) -> None:
    """A merge maps the retired cluster's id to the survivor's, so that a transition of its alert
    lands on a row that exists. Found by the uptime review: the map kept every merge for as long as
    the daemon ran (300 after 300 merges). Now it keeps those whose alert the engine still holds
    (open, or among its ``keep_closed`` closed ones): nothing else can change again."""
    retired: list[int] = []
    d = _merges(tmp_path, 300, lambda d, i, new, pair: retired.append(pair[1]))
    keep = d.engine.settings.keep_closed
    assert len(d._merged_into) <= keep, f"{len(d._merged_into)} merges remembered after 300, the engine keeps {keep} closed alerts"
    assert d._merged_into.get(retired[-1]) is not None  # the latest retired alert, still held, still maps
    d.store.close()


def test_a_worker_pool_reaching_its_next_thread_is_within_its_bound_not_growth() -> None:
    """A pool makes a thread only when its calls overlap as never before, which may first happen
    after the warm-up (CI 2026-12-07: 'clusters: threads 6 -> 7'): counted with its pool, bounded."""
    import threading

    from spasmwatch.threads import DetachedThreads

    pool = DetachedThreads(3, "spasmwatch-soak-probe")
    gate = threading.Event()
    try:
        first = pool.submit(gate.wait)
        warm = soak.worker_threads()["worker threads spasmwatch-soak-probe"]
        second = pool.submit(gate.wait)  # overlaps the first: the pool's second thread
        end = soak.worker_threads()["worker threads spasmwatch-soak-probe"]
        gate.set()
        first.result(5), second.result(5)
    finally:
        gate.set()
        pool.shutdown()
    assert (warm, end) == (1, 2)
