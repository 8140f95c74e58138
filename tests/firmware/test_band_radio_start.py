"""A radio that refuses to start at boot (MicroPython 1.28's OSError from a failed NimBLE start,
micropython#18948; docs/firmware.md, "Starting the radio first"): the band senses and logs to flash
meanwhile, starts it again later, and then serves what it logged, with STATUS saying ERR_RADIO.
Until 2026-12-07 the app's start raised out of App(): a crash, a reset, and the same again at every
boot (safe mode too), the sampler never running."""

from __future__ import annotations

import re
from pathlib import Path

from sim_central import ROOT, SIM_AXIS_MAP, Band, Central, expected_events, read_flash_log, write_csv

from swcore import protocol as P

# The app's wait between starts (band/app.py: a MicroPython module, read as text here).
_found = re.search(r"_RADIO_RETRY_MS = const\((\d+)\)", (ROOT / "firmware" / "band" / "app.py").read_text())
assert _found
RETRY_S = int(_found[1]) / 1000


def test_a_radio_that_refused_at_boot_comes_up_later_with_every_event_logged_meanwhile(micropython: str, tmp_path: Path) -> None:
    from synthetic import supine

    # 14 spasms in the first 2 minutes, the recording running on past the radio's next start.
    t, acc, gyro = supine(rate_hz=50, duration_s=int(RETRY_S) + 60, spasms=tuple(15.0 + 8 * i for i in range(14)), seed=2)
    csv = write_csv(tmp_path / "rec.csv", t, acc, gyro)
    # Both starts at boot refused: run.py's (main.py's on a board) and the app's as it builds.
    band = Band(micropython, csv, tmp_path / "flash", ["--radio-refuse", "2", "--idle-exit-ms", "300"], timeout_s=300)
    try:
        up = band.up
        assert len(up["starts"]) == 2 and up["starts"][0] == [], up  # the first before any band module
        assert up["errors"] & P.ERR_RADIO and up["rate_hz"] == 50, up  # sensing all the same
        c = Central(band.port, timeout_s=120)  # no radio to connect to until the app's retry
        c.exchange_mtu(247)
        c.pair()
        assert c.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
        status = c.records(P.STATUS_UUID)
        c.wait_for(lambda: len(c.records(P.STATUS_UUID)) > len(status), 30, "a STATUS")
        last = c.records(P.STATUS_UUID)[-1]
        assert last["errors"] & P.ERR_RADIO and last["uptime_s"] >= RETRY_S, last
        assert last["next_seq"] >= 10, last  # logged to flash while the radio was off
        assert c.command(P.encode_backfill(0))["code"] == P.OK  # as a host asks for what it has not got
        c.wait_for(lambda: any(i["flags"] & P.LF_DONE for i in c.loginfos()), 60, "the backfill's end")
        assert len(c.events()) >= last["next_seq"], "every event logged while the radio was off"
        c.close()
        end = band.end()
    finally:
        band.kill()
    events = c.events()
    assert [e["seq"] for e in events] == list(range(end["next_seq"]))
    assert all(e["onset_ms"] < RETRY_S * 1000 for e in events), "every event came before the radio"
    assert [(e["onset_ms"], e["duration_ms"]) for e in events] == [(x[0], x[1]) for x in expected_events(csv, SIM_AXIS_MAP, 50)]
    stored = read_flash_log(tmp_path / "flash" / "events")
    assert [stored[s] for s in sorted(stored)] == events
