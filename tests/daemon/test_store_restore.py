"""'spasmwatch store restore' end to end: a simulated band (real firmware, its flash on disk) streams a
cluster into a daemon, a backup is made mid-cluster, the daemon stops, the backup is put back, and a
daemon started on it asks the band for what came after (docs/store.md "Backups")."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from spasmwatch.alerts import NoticeKind
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import State
from spasmwatch.store import Store
from spasmwatch.store import backup as B

from .conftest import DURATION_S, SPASMS_S, rig

DEVICE = "band0000"


def test_the_events_after_a_restored_backup_come_back_from_the_band_s_flash(tmp_path: Path, cluster_csv: Path) -> None:
    """A backup made once 3 of the cluster's spasms were stored; the daemon then stores them all, and
    a note. Restored with the daemon stopped: the store holds the backup's events, the file replaced
    holds all of them and the note. A daemon started on the restored store (the band rebooted past its
    recording, its flash kept) backfills from the first seq the backup lacks: every event is stored
    again, in one cluster, whose alarm (open in the backup) is carried on without a push again; the
    note is not (it is only in the replaced file)."""

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
            every = sorted(e.seq for e in r.store.events(DEVICE))
            assert len(every) >= len(SPASMS_S) - 1 and in_backup == every[: len(in_backup)] and len(in_backup) < len(every)
            assert r.daemon is not None
            await r.daemon.stop()
            r.daemon = None
            r.store.close()
            aside = B.restore(r.store.path, made.path, time.strftime("%Y%m%d-%H%M%S"))
            assert aside is not None
            with Store.open_readonly(aside) as old:
                assert sorted(e.seq for e in old.events(DEVICE)) == every and [n.text for n in old.notes()] == ["filmed it"]
            r.store = Store(r.store.path)
            assert sorted(e.seq for e in r.store.events(DEVICE)) == in_backup
            first = r.bands[0]
            first.kill()
            r.start_band(0, ("--csv-skip-s", str(DURATION_S - 1)), port=first.port, hold=False)  # rebooted, its flash kept
            r.daemon = Daemon(r.store, [BandSpec("band0", r.link_factory(0))], clock=r.clock, raw_reserve_mb=1.0)
            await r.daemon.start()
            d = r.daemon
            await r.wait_for(lambda: d.bands[0].session.state is State.STREAMING, 60, "reconnect")
            await r.wait_for(lambda: r.store.count_events(DEVICE) >= len(every), 60, "the backfill")
            assert sorted(e.seq for e in r.store.events(DEVICE)) == every
            assert list(r.store.notes()) == []
            await r.wait_for(lambda: len(list(r.store.clusters(DEVICE))) == 1, 30, "the cluster")
            [cluster] = list(r.store.clusters(DEVICE))
            assert cluster.count >= len(SPASMS_S) - 2, cluster
            # The backup held the cluster's alarm, open: carried on as open (an acknowledgement made after the
            # backup is in the replaced file alone), its cluster updated by the re-sent spasms, no push again.
            assert [a.state for a in r.store.alerts(DEVICE)][-1] == "ALARM"
            assert not [n for n in d.notifications if n.kind in (NoticeKind.CLUSTER_WARNING, NoticeKind.CLUSTER_ALARM)], d.notifications

    asyncio.run(main())


def _uptime_s(store: Store) -> float:
    """The band's uptime as its latest stored STATUS says (0: none yet)."""
    st = store.latest_status(DEVICE)
    return 0.0 if st is None or st.uptime_s is None else float(st.uptime_s)
