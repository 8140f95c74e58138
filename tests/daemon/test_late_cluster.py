"""A cluster the band logged out of reach, learned by its backfill after it ended, driven through the
Daemon as its session drives it (streaming, a drop, a reconnect's backfill), on a store on disk.

Found by review: such a cluster (a band back after 20 min, or a second computer the band reaches
later) went out as a live alarm, "film the baby now", and escalated 2 min later to every channel as
if it were happening. It is told once, as a cluster earlier, at its time (docs/alerts.md "Rules",
"Clusters learned late").
"""

from __future__ import annotations

from pathlib import Path

from synthetic import HandClock, spasm_record, streaming

from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import State
from spasmwatch.store import Store
from swcore import protocol as P

T0 = 1_800_000_000.0  # the band's clock synced here: band ms 0 is this wall second
DEV = "cot0001"
ONSETS_MS = (10_000, 17_000, 24_000, 31_000)  # four full spasms 7 s apart, logged while out of reach


def test_a_cluster_backfilled_after_it_ended_is_told_once_as_earlier_and_never_escalated(tmp_path: Path) -> None:
    """Old code: cluster_alarm, cluster_closed (alarm NOT acknowledged), cluster_escalated."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:
        d = Daemon(store, [BandSpec("cot", lambda: None)], clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
        streaming(d, DEV, T0)
        b = d.bands[0]
        b.session._set(State.DISCONNECTED)  # out of reach: the band logs its cluster meanwhile
        clock.t = T0 + 20 * 60  # back 20 min later: the reconnect's backfill brings it
        d.next_backfill_seq(DEV)
        for seq, onset in enumerate(ONSETS_MS):
            d.on_record(DEV, spasm_record(seq, onset), clock.t)
        d.on_record(DEV, {"type": "loginfo", "flags": P.LF_DONE}, clock.t)
        b.session._set(State.STREAMING)
        for _ in range(10 * 60):  # 10 min of the daemon's ticks
            clock.t += 1
            d._tick()
        told = [n for n in d.notifications if n.kind.value.startswith("cluster_")]
        assert [n.kind.value for n in told] == ["cluster_late"], [n.title for n in told]
        assert told[0].title.startswith("Earlier cluster, at ") and "nothing to film now" in told[0].text, told[0]
        ((cluster, count, alarmed),) = [(c.start_t, c.count, c.alert_t is not None) for c in store.clusters(DEV)]
        assert (cluster, count, alarmed) == (T0 + 10, 4, True)  # stored as ever
        assert [(a.state, "learned late" in a.text) for a in store.alerts(DEV)] == [("CLOSED", True)]
