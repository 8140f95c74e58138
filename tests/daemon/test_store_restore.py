"""'spasmwatch store restore' end to end: a simulated band (real firmware, its flash on disk) streams a
cluster into a daemon, a backup is made mid-cluster, the daemon stops, the backup is put back, and a
daemon started on it asks the band for what came after (docs/store.md "Backups")."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path

from spasmwatch.alerts import NoticeKind
from spasmwatch.alerts.model import AlertSettings
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import State
from spasmwatch.store import Store
from spasmwatch.store import backup as B

from .conftest import DURATION_S, SPASMS_S, rig

DEVICE = "band0000"


def test_the_events_after_a_restored_backup_come_back_from_the_band_s_flash(tmp_path: Path, cluster_csv: Path) -> None:
    """A backup made once 3 of the cluster's spasms were stored; the daemon then stores them all, a
    note, a treatment, and the cluster's alarm (open in the backup) is acknowledged. Restored with the
    daemon stopped: the store holds the backup's events, the file replaced holds all of them; the
    note, the treatment and the acknowledgement, written after the backup, are carried into the
    restored store (once: not twice). A daemon started on the restored store (the band rebooted past
    its recording, its flash kept) backfills from the first seq the backup lacks: every event is
    stored again, in one cluster, whose alarm is carried on acknowledged, without a push again, and
    does not escalate (escalate_after_s 0: an ALARM carried on escalates at the first tick)."""

    async def main() -> None:
        async with rig(tmp_path, cluster_csv, speed=4) as r:
            await r.wait_for(lambda: r.store.count_events(DEVICE) >= 3, 90, "3 events stored")
            made = B.make(r.store.path, r.clock.wall())
            with Store.open_readonly(made.path) as copy:
                in_backup = sorted(e.seq for e in copy.events(DEVICE))
            await r.wait_for(lambda: _uptime_s(r.store) >= DURATION_S - 5, 120, "the recording to end")
            status = r.store.latest_status(DEVICE)
            assert status is not None and status.next_seq is not None
            logged = status.next_seq
            await r.wait_for(lambda: r.store.count_events(DEVICE) >= logged, 30, "every event stored")
            r.store.add_note(r.clock.wall(), "video", "filmed it")
            r.store.add_treatment(r.clock.wall() - 86400, "vigabatrin", "start", 50, "mg/kg")  # typed after, dated the day before
            assert r.daemon is not None
            [alarm] = [a for a in r.daemon.engine.snapshot()["alerts"] if a["kind"] == "cluster" and a["state"] in ("ALARM", "ESCALATED")]
            r.daemon.engine.ack(alarm["id"], "mum")
            assert [a.state for a in r.store.alerts(DEVICE)][-1] == "ACKNOWLEDGED"
            every = sorted(e.seq for e in r.store.events(DEVICE))
            assert len(every) >= len(SPASMS_S) - 1 and in_backup == every[: len(in_backup)] and len(in_backup) < len(every)
            assert r.daemon is not None
            await r.daemon.stop()
            r.daemon = None
            r.store.close()
            restored = B.restore(r.store.path, made.path, time.strftime("%Y%m%d-%H%M%S"))
            aside = restored.replaced
            assert aside is not None
            carried = restored.carried
            assert carried is not None and carried.error is None and not carried.skipped and not carried.dropped, carried
            # Each of those rows once, and every epoch and STATUS row stored after the backup (by the band's numbers).
            newer = {t: _count(aside, t) - _count(made.path, t) for t in ("status", "activity")}
            assert carried.rows == {"notes": 1, "treatments": 1, "alerts": 1, **newer} and min(newer.values()) > 0, (carried, newer)
            with Store.open_readonly(aside) as old:
                assert sorted(e.seq for e in old.events(DEVICE)) == every and [n.text for n in old.notes()] == ["filmed it"]
            r.store = Store(r.store.path)
            assert sorted(e.seq for e in r.store.events(DEVICE)) == in_backup
            first = r.bands[0]
            first.kill()
            r.start_band(0, ("--csv-skip-s", str(DURATION_S - 1)), port=first.port, hold=False)  # rebooted, its flash kept
            r.daemon = Daemon(r.store, [BandSpec("band0", r.link_factory(0))], clock=r.clock, raw_reserve_mb=1.0,
                              alert_settings=AlertSettings(escalate_after_s=0))  # fmt: skip
            await r.daemon.start()
            d = r.daemon
            await r.wait_for(lambda: d.bands[0].session.state is State.STREAMING, 60, "reconnect")
            await r.wait_for(lambda: r.store.count_events(DEVICE) >= len(every), 60, "the backfill")
            assert sorted(e.seq for e in r.store.events(DEVICE)) == every
            assert [n.text for n in r.store.notes()] == ["filmed it"]
            assert [(t.drug, t.action) for t in r.store.treatments()] == [("vigabatrin", "start")]
            # The backup's cluster (3 spasms) is there at once: wait for the re-sent ones to reach it, not for a cluster.
            await r.wait_for(lambda: [c.count >= len(SPASMS_S) - 2 for c in r.store.clusters(DEVICE)] == [True], 30, "the cluster")
            [cluster] = list(r.store.clusters(DEVICE))
            assert cluster.count >= len(SPASMS_S) - 2, cluster
            # The backup held the cluster's alarm, open; its acknowledgement, made after the backup, was carried:
            # the alarm goes on acknowledged, its cluster updated by the re-sent spasms, no push again, no escalation.
            d.engine.tick()
            states = [a.state for a in r.store.alerts(DEVICE)]  # (carried on as ACKNOWLEDGED, and closed with its cluster)
            assert states[:3] == ["WARNING", "ALARM", "ACKNOWLEDGED"] and set(states[3:]) <= {"ACKNOWLEDGED", "CLOSED"}, states  # (its heads-up first: review h50)
            pushed = (NoticeKind.CLUSTER_WARNING, NoticeKind.CLUSTER_ALARM, NoticeKind.CLUSTER_ESCALATED)
            assert not [n for n in d.notifications if n.kind in pushed], d.notifications

    asyncio.run(main())


def _count(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as c:
        return int(c.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _uptime_s(store: Store) -> float:
    """The band's uptime as its latest stored STATUS says (0: none yet)."""
    st = store.latest_status(DEVICE)
    return 0.0 if st is None or st.uptime_s is None else float(st.uptime_s)
