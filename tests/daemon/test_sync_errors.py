"""Rig.sync_errors (the harness test_chain and test_rawdating check the daemon's TIME_SYNC stamp
with) matches a stored sync to the exchange the daemon kept, whatever the band's whole-ms rounding
of the moment it read its clock. The band's reports are as firmware/sim/run.py prints them; the
sync is stored in a real store on disk."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from spasmwatch.clock import ScaledClock
from spasmwatch.store import Store

from .conftest import Rig

SPEED = 4
# Real ms (the band's time.time_ns() // 1e6) and the daemon's wall at speed 4 from 1000 s at real 5000 s.
CLOCK = ScaledClock(1000.0, SPEED, 5000.0)


def _sim_ms(real_ms: float) -> float:
    return (CLOCK.start_wall + (real_ms / 1000 - CLOCK.real_start) * SPEED) * 1000


def _report(sent_real_ms: float, read_real_ms: float) -> dict[str, Any]:
    return {"kind": "sync", "band_ms": 7000, "sent_ms": int(_sim_ms(sent_real_ms)), "real_ms": int(read_real_ms), "due_ms": None}


def test_the_kept_exchange_not_the_next_one_whose_rounded_reading_is_nearer(tmp_path: Path) -> None:
    # A sync whose exchanges all read band ms 7000 (a paced band's clock stands between batches).
    # The daemon kept the one sent at real 5002499.5 ms and answered 2.4 ms later (midpoint
    # 5002500.7); the band read its clock 0.2 ms in. It sent the next 0.05 ms after that answer,
    # read 0.1 ms in. Whole ms put the kept reading 1.7 ms before the midpoint, the next 1.3 ms after.
    mid = 5002500.7
    reports = [_report(5002495.0, 5002496.2), _report(mid - 1.2, mid - 1.0), _report(mid + 1.25, mid + 1.35)]
    with Store(tmp_path / "spasmwatch.db") as store:
        store.add_sync("band0000", 1, 7000, _sim_ms(mid) / 1000)
        rig = Rig(tmp_path, tmp_path / "none.csv", SPEED, store, CLOCK, bands=[cast(Any, SimpleNamespace(reports=reports))])
        (got,) = rig.sync_errors().values()
    # The kept exchange: half its 2.4 ms round trip (9.6 ms at speed 4; its sent_ms is truncated, up
    # to 1 ms more), the band's reading 1.7 ms of real time before the midpoint as rounded (6.8 ms).
    # The next exchange's would have been -5.2 ms against a "half round trip" of -4.2 ms.
    assert 0.0048 - 1e-6 <= got.half_rtt_s < 0.0059 and abs(got.stamp_s - 0.0068) < 1e-6, got
    assert abs(got.stamp_s) <= got.half_rtt_s + SPEED / 1000
