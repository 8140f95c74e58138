"""An open page's steady traffic once the daemon keeps its closed alerts, in headless Chromium,
against the REAL daemon (its alert engine and SQLite store, one band streaming as its session
tells it). Found by the month-of-uptime review (docs/host.md "Uptime"): the page re-read
/api/status at each band STATUS (every 10 s) and every 30 s, and once the engine kept its 200
closed alerts (``AlertSettings.keep_closed``, 0.5 KB each) each read was ~120 KB, ~1 GB a day to
a phone left open on the night table, for alerts the page never shows (it shows the open ones)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from synthetic import HandClock, streaming
from web_harness import ServerThread

from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store

DEV = "cot0001"
STATUSES = 6  # band STATUS records, 10 s apart: a minute of the night
STATUS_EVERY_S = 10.0  # the band's STATUS period (its firmware's), each one re-read by the page
POLL_S = 30.0  # the page's own status read (app.js start)
# The most one status read may cost the page, headers and body, with one band and one open alarm
# (measured 2093 bytes); each of the 200 closed alerts kept is ~0.5 KB more.
STATUS_READ_MAX_BYTES = 4000
# The status reads' transfer sizes as the browser counts them (Resource Timing: headers and body).
READS_JS = """() => performance.getEntriesByType('resource')
  .filter((e) => new URL(e.name).pathname === '/api/status').map((e) => e.transferSize)"""


def band_status(battery_pct: int) -> dict[str, Any]:
    """A band STATUS record as the link decodes it (tests/test_protocol.py)."""
    return {"type": "status", "battery_pct": battery_pct, "worn": 1, "log_fill_pct": 3, "flags": 0x50, "errors": 0,
            "boot": 1, "uptime_s": 600, "next_seq": 0}  # fmt: skip


def alarms(d: Daemon, t0: float, closed: int) -> int:
    """``closed`` cluster alarms of the night, each acknowledged and over (CLOSED, kept by the
    engine), then one still sounding; returns its alert id."""
    for k in range(closed + 1):
        t = t0 - 86400 + 300 * k
        cid = d.store.upsert_cluster(DEV, f"{DEV}@{k}", t, t + 60, 3, t + 20, 600.0, k < closed)
        d.engine.on_spasm(DEV, cid, 3, t)
        (a,) = [a for a in d.engine.snapshot()["alerts"] if a["cluster_id"] == cid]
        if k < closed:
            d.engine.ack(a["id"], "Mum")
            d.engine.on_cluster_closed(DEV, cid, t + 60)
    return int(a["id"])


@pytest.fixture
def night(tmp_path: Path) -> Iterator[tuple[Daemon, HandClock, ServerThread, int]]:
    t0 = float(int(time.time()))
    clock = HandClock(t0)
    store = Store(tmp_path / "spasmwatch.db")
    d = Daemon(store, [BandSpec("cot", lambda: None)], clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
    streaming(d, DEV, t0)
    d.on_record(DEV, band_status(82), t0)
    keep = d.engine.settings.keep_closed
    open_id = alarms(d, t0, keep)
    try:
        with ServerThread(d, heartbeat_s=1.0) as served:
            yield d, clock, served, open_id
    finally:
        store.close()


def status(served: ServerThread, query: str = "") -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"{served.url}api/status{query}", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_an_open_page_reads_a_small_status_at_each_band_status_after_200_closed_alerts(
    night: tuple[Daemon, HandClock, ServerThread, int], page: Any
) -> None:
    """With the engine's 200 closed alerts kept and one alarm open, a minute of band STATUS records
    (one every 10 s) re-reads the status six times, each under STATUS_READ_MAX_BYTES, and the page
    still shows the open alarm and the band's battery as the newest STATUS gives it (measured: 2093
    bytes a read, ~1 MB an hour; 2077 before restart, 2037 before exposures_msg and code_changed, review h46). Old code: 103223 bytes a read (the page asked /api/status, which
    gave every closed alert, and dropped them), ~50 MB an hour. Other readers ('spasmwatch status
    --json', scripts) ask /api/status as before and get the closed ones too; ``alerts`` other than
    ``open`` is refused."""
    d, clock, served, open_id = night
    page.goto(served.url)
    page.wait_for_selector("body[data-loaded='1']")
    page.wait_for_selector("#conn[data-state='live']")
    page.wait_for_selector(f".alert.alarm[data-alert-id='{open_id}']")
    page.evaluate("performance.setResourceTimingBufferSize(1000)")
    before = len(page.evaluate(READS_JS))
    for i in range(STATUSES):
        clock.t += STATUS_EVERY_S
        served.call(d.on_record, DEV, band_status(81 - i), clock.t)
        page.wait_for_function(f"() => ({READS_JS})().length > {before + i}")
    battery = f"{81 - STATUSES + 1}%"
    page.wait_for_function(f"() => document.querySelector(\"[data-fact='battery']\").textContent.includes('{battery}')")
    reads = page.evaluate(READS_JS)[before:]
    per_hour = max(reads) * (3600 / STATUS_EVERY_S + 3600 / POLL_S)
    print(f"status reads after {d.engine.settings.keep_closed} closed alerts: {reads} bytes; ~{per_hour / 1e6:.2f} MB an hour")
    assert len(reads) >= STATUSES and max(reads) <= STATUS_READ_MAX_BYTES, reads
    assert page.locator(".alert.alarm").count() == 1

    # Other readers: the status as before, every closed alert kept among its alerts.
    code, full = status(served)
    assert code == 200 and sum(a["state"] == "CLOSED" for a in full["alerts"]) == d.engine.settings.keep_closed
    code, mine = status(served, "?alerts=open")
    assert code == 200 and [a["id"] for a in mine["alerts"]] == [open_id]
    assert {k: v for k, v in mine.items() if k not in ("alerts", "now")} == {k: v for k, v in full.items() if k not in ("alerts", "now")}
    assert status(served, "?alerts=closed") == (400, {"error": "alerts must be 'open' (or left out: the open alerts and the last closed ones)"})
