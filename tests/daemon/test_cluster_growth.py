"""A cluster's stored event list as the daemon keeps it up to date: written by difference, looked up by
its new spasms alone, and the same rows as looking every spasm up anew and writing the list whole.

Found by review (2026-12-05): each time a cluster grew, ``Daemon.cluster_changed`` looked up every
one of its spasms in the store and deleted and re-inserted its whole event list. A backfill whose
events chain into one cluster took quadratic time on the daemon's event loop (4096 events: 64 s,
bench/cluster_growth.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from spasmwatch.analysis.clusters import Cluster
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.live import TrackedCluster
from spasmwatch.store import Store
from spasmwatch.store.store import DEVICE_SEEN_EVERY_S
from swcore import protocol as P
from synthetic import spasm_record

from .test_faults import DEVICE, T0, Clock, _connect, _held_epochs_at_a_reconnect, _one_cluster_in_store


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every cluster change the daemon stores is checked against the old way: the stored event list is
    exactly the events found at the cluster's spasm onsets looked up anew (``Store.event_ids_at``), as
    the old daemon wrote it, whole, each time. Yields the changes checked."""
    seen: list[str] = []
    changed = Daemon.cluster_changed

    def check(self: Daemon, device: str, tc: TrackedCluster, c: Cluster, event: str, absorbed: Sequence[TrackedCluster] = ()) -> None:
        changed(self, device, tc, c, event, absorbed)
        assert tc.store_id is not None
        anew = {i for i in self.store.event_ids_at(device, [s.t for s in c.spasms]) if i is not None}
        rows = {e.id for e in self.store.cluster_events(tc.store_id)}
        assert rows == anew, (event, sorted(rows), sorted(anew))
        seen.append(event)

    monkeypatch.setattr(Daemon, "cluster_changed", check)
    yield seen


def _listed(store: Store) -> list[int]:
    """The seqs of the one stored cluster's events."""
    (c,) = store.clusters(DEVICE)
    return [e.seq for e in store.cluster_events(c.id)]


def test_a_growing_cluster_costs_the_store_its_new_spasm_not_its_whole_list(tmp_path: Path) -> None:
    """Counted in SQL statements run and rows changed per EVENT record, not in time: from the alarm
    on, each spasm costs the same however long the cluster is. Old code: 2 more statements and 2
    more rows changed with each spasm (its lookup, its row deleted and inserted again)."""
    clock = Clock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        store.add_sync(DEVICE, 1, 0, T0)
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=clock)  # type: ignore[arg-type,return-value]  # driven here
        _connect(d, DEVICE, [], clock.t)
        conn = store._conn
        assert conn is not None
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        cost: list[tuple[int, int]] = []
        for seq in range(40):
            clock.t = T0 + 5 * seq + 2.5  # sent as the band confirms it
            statements.clear()
            before = conn.total_changes
            d.on_record(DEVICE, spasm_record(seq, 5_000 * seq), clock.t)
            cost.append((len(statements), conn.total_changes - before))
        conn.set_trace_callback(None)
        assert _listed(store) == list(range(40))
    statements_run, rows_changed = [n for n, _ in cost[5:]], [r for _, r in cost[5:]]
    assert statements_run == [statements_run[0]] * 35, cost
    # One row more where the band's last_seen moves on: once a DEVICE_SEEN_EVERY_S (records 5 s apart).
    fewest = min(rows_changed)
    assert set(rows_changed) <= {fewest, fewest + 1} and rows_changed.count(fewest + 1) <= 35 * 5 / DEVICE_SEEN_EVERY_S + 1, cost


def test_a_cluster_s_event_list_follows_it_as_it_grows_loses_a_match_is_moved_by_a_clock_step_and_after_a_restart(
    tmp_path: Path, checked: list[str]
) -> None:
    """Live spasms 7 s apart on boot 1 (synced at T0): the alarm at the third; a match of the band's
    cluster counter at 30 s joins the cluster, and goes again when the full spasm it was (31 s)
    comes: that one counts once, as itself. The host's clock is stepped back 100 s; the band's next
    sync finds it: its events (the cluster with them) are placed on the clock after it, the analysis
    rebuilt on the moved times; more spasms come on that clock; the daemon restarts (the list then
    written whole once) and the cluster grows on."""
    clock = Clock(T0)
    spec = [BandSpec("crib", lambda: None)]  # type: ignore[arg-type,return-value]  # driven here
    with Store(tmp_path / "db.sqlite") as store:
        d = Daemon(store, spec, clock=clock)  # type: ignore[arg-type]
        _connect(d, DEVICE, [], clock.t)
        d.on_sync(DEVICE, 1, 0, T0, clock.since_boot())
        origin = T0  # where the host's clock puts the band's 0 ms

        def send(daemon: Daemon, seq: int, onset_s: float, flags: int = 0) -> None:
            clock.t = origin + onset_s + 2.5
            daemon.on_record(DEVICE, spasm_record(seq, round(onset_s * 1000), flags), clock.t)
            daemon._tick()

        for seq, onset_s in enumerate((10.0, 17.0, 24.0)):
            send(d, seq, onset_s)
        assert _listed(store) == [0, 1, 2]
        send(d, 3, 30.0, P.EF_MATCHED)
        assert _listed(store) == [0, 1, 2, 3]
        send(d, 4, 31.0)
        assert _listed(store) == [0, 1, 2, 4]
        clock.t = T0 + 40
        clock.step(-100.0)
        origin = T0 - 100
        d.on_sync(DEVICE, 1, 40_000, clock.t, clock.since_boot())
        assert [round(e.wall_t - T0, 1) for e in store.events(DEVICE) if e.wall_t is not None] == [-90.0, -83.0, -76.0, -70.0, -69.0]
        (c,) = store.clusters(DEVICE)
        assert (round(c.start_t - T0, 1), c.count) == (-90.0, 4)
        send(d, 5, 38.0)
        assert _listed(store) == [0, 1, 2, 4, 5]
        restarted = Daemon(store, spec, clock=clock)  # type: ignore[arg-type]
        _connect(restarted, DEVICE, [], clock.t)
        send(restarted, 6, 45.0)
        send(restarted, 7, 52.0)
        assert _listed(store) == [0, 1, 2, 4, 5, 6, 7]
    # Each stored change checked (the rebuild after the step finds the moved cluster as retracked: no change).
    assert checked == ["alarm"] + ["update"] * 5, checked


def test_a_cluster_that_takes_another_in_holds_each_event_once(tmp_path: Path, checked: list[str]) -> None:
    """test_faults' join of two alarmed clusters by a backfill (its rebuild), each change checked:
    the survivor's list is the whole cluster's, the retired one's rows gone."""
    d, store = _held_epochs_at_a_reconnect(tmp_path, before_backfill=True)
    with store:
        _one_cluster_in_store(store, 20)
    # Each stored change checked: both alarms, the close of the first, the join, the end.
    assert checked == ["alarm", "update", "update", "update", "closed", "alarm"] + ["update"] * 6 + ["closed"], checked
