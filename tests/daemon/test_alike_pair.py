"""The daemon reads EF_MATCHED and EF_ALIKE from the stored events: beside an alike pair a
match may be a cluster's third spasm, as in replay (``analysis/clusters.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spasmwatch.daemon.daemon import DEFAULT_RATE_HZ, Daemon, _StoreSource
from spasmwatch.daemon.live import LiveAnalysis
from spasmwatch.store import Store
from swcore import protocol as P
from swcore.frontend import Params
from synthetic import HandClock as Clock, spasm_record as _event

DEVICE = "reg0002"
T0 = 1_800_000_000.0


@pytest.mark.parametrize("alike", [True, False])
def test_a_match_beside_an_alike_pair_is_the_third_spasm(tmp_path: Path, alike: bool) -> None:
    clock = Clock(T0 + 300)
    with Store(tmp_path / "db.sqlite") as store:
        store.add_sync(DEVICE, 1, 0, T0)
        # A full spasm at 60 s; the band's counter matched the one 7 s before it that the
        # detector let go; a full spasm at 67 s, shaped like the one at 60 s (or not).
        store.add_events(DEVICE, [
            _event(0, 60_000, 0),
            _event(1, 53_000, P.EF_MATCHED, confidence=30, angle_mrad=0),
            _event(2, 67_000, P.EF_ALIKE if alike else 0),
        ], T0)  # fmt: skip
        d = Daemon(store, [], clock=clock)  # type: ignore[arg-type]
        a = LiveAnalysis(DEVICE, Params(DEFAULT_RATE_HZ, True), _StoreSource(store), d, clock.wall)
        a.rebuild()
        # (ended 4 min before the rebuild: told once as a cluster earlier, not alarmed: docs/alerts.md "Rules")
        alarms = [n for n in d.notifications if n.kind.value in ("cluster_alarm", "cluster_late")]
        clusters = list(store.clusters(DEVICE))
        if alike:
            (c,) = clusters
            assert c.count == 3 and c.start_t == pytest.approx(T0 + 60.0)  # a match does not move the start
            assert len(alarms) == 1
        else:
            assert clusters == [] and alarms == []
