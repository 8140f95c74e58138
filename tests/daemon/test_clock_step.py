"""The host's wall clock stepped back while a band streams (NTP correcting a
hardware clock kept in local time): the session must sync the band again at
once, so the events after the step are placed on the corrected clock, and the
alarm still comes. Through the real parts: the band firmware under
micropython, the simulated radio, the daemon and its SQLite store.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from spasmwatch.alerts import NoticeKind

from .conftest import QUICK_SPASMS_S, rig

DEVICE = "band0000"
STEP_S = -7200.0  # two hours back, as a UTC+2 local-time hardware clock corrected by NTP


def test_a_clock_stepped_back_is_followed_by_a_sync_and_the_events_after_it(
    tmp_path: Path, quick_cluster_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=4) as r:
            started = r.clock.wall()  # band time 0 is about here on the old clock
            st = r.store
            await r.wait_for(lambda: st.syncs(DEVICE), 30, "the first sync")
            r.clock.start_wall += STEP_S
            await r.wait_for(lambda: any(s.wall_s < started for s in st.syncs(DEVICE)), 30, "a sync on the stepped clock")
            await r.wait_for(lambda: st.count_events(DEVICE) >= len(QUICK_SPASMS_S), 60, "every spasm")
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 30, "the cluster alarm")
            new = max(st.syncs(DEVICE), key=lambda s: s.band_ms)
            # The new sync: about 10 s into the band's boot (the first epoch after the step).
            assert abs(new.wall_s - (started + STEP_S + new.band_ms / 1000)) < 3.0, new
            events = sorted(st.events(DEVICE), key=lambda e: e.seq)
            for e in events:
                assert e.wall_t is not None
                if e.onset_ms > new.band_ms:  # after the new sync: on the corrected clock
                    assert abs(e.wall_t - (started + STEP_S + e.onset_ms / 1000)) < 3.0, (e, e.wall_t - started)
            assert sum(e.onset_ms > new.band_ms for e in events) >= 3
            steps = [m for m in caplog.messages if "clock stepped by" in m]
            assert len(steps) == 1 and "-72" in steps[0], steps  # said once: one step, one sync

    with caplog.at_level(logging.WARNING, logger="spasmwatch.daemon.session"):
        asyncio.run(main())
