"""A band whose radio refused to start at boot (STATUS ERR_RADIO; docs/firmware.md, "Starting the radio
first"): the real firmware under micropython with run.py --radio-refuse, the real daemon. The band
senses and logs to flash until its radio comes up (band/app.py _RADIO_RETRY_MS); the family is told
once why it showed as disconnected, that nothing was lost, and what to do if it repeats; the log
says it once per boot. Until 2026-12-07 the host ignored ERR_RADIO: the family heard only "band
disconnected", with no word of why, nor of the events that came in the backfill."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from synthetic import supine, write_csv

from spasmwatch.alerts import BandFault, Notification, NoticeKind, Urgency
from spasmwatch.alerts import messages as M
from spasmwatch.store.rows import StatusRow
from spasmwatch.transport.simband import firmware_dir
from swcore import protocol as P

from .conftest import RATE_HZ, rig

# The app's wait between starts of a radio that refused (a MicroPython module, read as text here).
_found = re.search(r"_RADIO_RETRY_MS = const\((\d+)\)", (firmware_dir() / "band" / "app.py").read_text())
assert _found
RETRY_S = int(_found[1]) / 1000
SPEED = 10  # virtual s per real s: the radio's retry in 30 real s
DEVICE = "band0000"  # the band's own id; "band0" its label (rig)
SAID = "its radio refused to start at boot"


def test_a_band_whose_radio_started_late_is_told_once_with_its_minutes_and_its_events_all_come(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A cluster in the first 2 minutes, the recording running on past the radio's start.
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=RETRY_S + 120, spasms=tuple(20.0 + 8 * i for i in range(8)), seed=4)
    csv = write_csv(tmp_path / "late.csv", t, acc, gyro)

    async def main() -> tuple[StatusRow, list[Notification], list[str], int]:
        # Both starts at boot refused: run.py's (main.py's on a board) and the app's as it builds. No
        # hold: the band's time runs on while no radio can reach it, as a board's does.
        async with rig(tmp_path, csv, speed=SPEED, band_args=("--radio-refuse", "2"), hold=False) as r:
            assert r.daemon is not None
            d, st = r.daemon, r.store
            heard: set[float] = set()  # the times of the STATUS the daemon heard

            def statuses(n: int) -> bool:
                heard.update(b.status_t for b in d.bands if b.status_t is not None)
                return len(heard) >= n

            await r.wait_for(lambda: statuses(1), 90, "the band's first STATUS")
            first = st.latest_status(DEVICE)
            assert first is not None and first.next_seq is not None
            logged = first.next_seq
            await r.wait_for(lambda: len(list(st.events(DEVICE))) >= logged, 60, "the backfill of the events logged meanwhile")
            await r.wait_for(lambda: statuses(3), 60, "more STATUS of the same boot")  # none says it again
            notices = [n for n in d.notifications if n.fault is BandFault.RADIO_LATE]
            return first, notices, d.status()["bands"][0]["faults"], len(list(st.events(DEVICE)))

    with caplog.at_level(logging.INFO, logger="spasmwatch.daemon"):
        first, notices, faults, events = asyncio.run(asyncio.wait_for(main(), 240))
    assert first.errors is not None and first.errors & P.ERR_RADIO, first
    assert first.uptime_s is not None and first.uptime_s >= RETRY_S, first
    assert events >= 8, "the cluster logged while the radio was off came in the backfill"
    minutes = round(first.uptime_s / 60)
    assert [(n.kind, n.urgency) for n in notices] == [(NoticeKind.BAND_FAULT, Urgency.NORMAL)], notices  # told once, no alarm
    told = notices[0].text
    assert told == M.band_fault("band0", BandFault.RADIO_LATE, count=minutes).text, told
    assert f"about {minutes} min later" in told and "switch the band off and on" in told, told
    assert faults == ["radio_late"], faults  # the page's band card, 'spasmwatch status', MQTT's band state
    said = [m for m in caplog.messages if SAID in m]
    assert len(said) == 1 and f"about {minutes} min later" in said[0], said
