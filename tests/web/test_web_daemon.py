"""The family page against the REAL daemon, end to end, in headless Chromium.

The real band firmware (micropython, tests/daemon's rig) plays a recording with
a spasm cluster over the simulated radio to bleak, the Daemon (on a
ScaledClock at the band's speed) analyses and alerts into SQLite, and
HttpServer serves the page from that daemon on the same event loop. The
browser sees the band, the alarm arriving live, and acknowledges, labels and
notes; every change is then read back from the store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from web_harness import Watch
from daemon.conftest import Rig, cluster_csv, rig  # noqa: F401  (cluster_csv is a fixture)

from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon.http import HttpServer

T = TypeVar("T")

DEVICE = "band0000"
OUTPUT = Path(__file__).resolve().parent.parent / "output" / "web-daemon.png"


class DaemonThread:
    """The rig and the HTTP server on one event loop in a thread (Playwright's sync API owns this one)."""

    def __init__(self, tmp: Path, csv: Path, speed: int = 4) -> None:
        self.tmp, self.csv, self.speed = tmp, csv, speed
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name="daemon+http", daemon=True)
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.rig: Rig | None = None
        self.server: HttpServer | None = None
        self.url = ""
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # reported to the test thread
            self.error = e
        finally:
            self.ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with rig(self.tmp, self.csv, speed=self.speed) as r:
            assert r.daemon is not None
            # The server's "today" is the daemon's (scaled) clock, like the daemon's own days().
            self.server = HttpServer(r.daemon, host="127.0.0.1", port=0, clock=r.clock.wall, heartbeat_s=1.0)
            host, port = await self.server.start()
            self.rig, self.url = r, f"http://{host}:{port}/"
            self.ready.set()
            try:
                await self._stop.wait()
            finally:
                await self.server.stop()

    def __enter__(self) -> DaemonThread:
        self.thread.start()
        if not self.ready.wait(60) or self.error is not None or not self.url:
            self._shutdown()
            raise AssertionError(f"the daemon and its server did not start: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._shutdown()
        if self.error is not None and exc[0] is None:
            raise self.error

    def _shutdown(self) -> None:
        if self.loop is not None and self._stop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(60)
        assert not self.thread.is_alive(), "the daemon thread did not stop"

    @property
    def daemon(self) -> Daemon:
        assert self.rig is not None and self.rig.daemon is not None
        return self.rig.daemon

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10) -> T:
        """Run ``fn`` on the daemon's loop, between two of its steps (store and engine are used there)."""
        assert self.loop is not None

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)


def wait_for(pred: Callable[[], object], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def test_the_page_against_the_real_daemon(page: Any, watch: Watch, tmp_path: Path, cluster_csv: Path) -> None:  # noqa: F811
    with DaemonThread(tmp_path, cluster_csv, speed=4) as d:
        store = d.rig.store if d.rig else None
        assert store is not None
        page.goto(d.url)
        page.wait_for_selector("body[data-loaded='1']")
        page.wait_for_selector("#conn[data-state='live']")
        page.evaluate("window.__sameDocument = true")
        page.fill("#who", "Dad")
        page.locator("#who").dispatch_event("change")

        # The band: connected, battery, worn (from its first status record), no reload needed.
        band = page.locator(f".band[data-device='{DEVICE}']")
        band.locator(".pill[data-connected='yes']").wait_for(timeout=60_000)
        assert band.locator(".band-name").inner_text() == "band0"
        assert band.locator(".pill").inner_text() == "Connected"
        page.wait_for_function(
            f"""() => {{
                const b = document.querySelector(".band[data-device='{DEVICE}']");
                return b && /\\d+%/.test(b.querySelector("[data-fact='battery']").textContent)
                    && b.querySelector("[data-fact='worn'] dd").textContent === "Yes";
            }}""",
            timeout=30_000,
        )
        st = d.call(d.daemon.status)
        b0 = st["bands"][0]
        assert b0["connected"] is True and b0["worn"] is True and isinstance(b0["battery_pct"], int)
        assert f"{b0['battery_pct']}%" in band.locator("[data-fact='battery']").inner_text()

        # A mute ('spasmwatch mute band0000 --for 2h --by Mum') shows on the card, and ends there.
        d.call(d.daemon.mute, DEVICE, 2 * 3600.0, "Mum")
        box = band.locator("[data-fact='mute']")
        box.wait_for()
        assert "by Mum (cluster alarms still sound)." in box.inner_text()
        box.get_by_role("button", name="End the mute of band0 now").click()
        box.wait_for(state="detached")
        assert d.call(d.daemon.engine.device_summary, DEVICE)["muted_until"] is None

        # The cluster alarm arrives live (server-sent events, no reload).
        alarm = page.locator(".alert.alarm")
        alarm.wait_for(timeout=90_000)
        assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
        text = alarm.inner_text()
        assert "film" in text and "pediatrician" in text, text
        alert_id = int(alarm.get_attribute("data-alert-id") or "0")
        snap = {a["id"]: a for a in d.call(d.daemon.status)["alerts"]}
        cluster_id = snap[alert_id]["cluster_id"]
        assert isinstance(cluster_id, int) and d.call(store.cluster, cluster_id) is not None
        row = page.locator(f".cluster[data-cluster-id='{cluster_id}']")
        row.wait_for()
        assert "spasm-like movements" in row.locator(".cluster-count").inner_text()

        # Acknowledge: the engine, the store's alert history and the page all agree.
        alarm.locator("button.ack-btn").click()
        page.wait_for_selector(f".alert[data-alert-id='{alert_id}'][data-state='ACKNOWLEDGED']")
        card = page.locator(f".alert[data-alert-id='{alert_id}']")
        assert "Acknowledged by Dad" in card.inner_text()
        assert card.locator("button").count() == 0
        a = next(x for x in d.call(d.daemon.status)["alerts"] if x["id"] == alert_id)
        assert (a["state"], a["acked_by"]) == ("ACKNOWLEDGED", "Dad"), a
        history = d.call(lambda: [(r.state, r.text) for r in store.alerts(DEVICE) if r.cluster_id == cluster_id])
        states = [s for s, _ in history]
        assert "ALARM" in states and "ACKNOWLEDGED" in states, history
        assert states.index("ALARM") < states.index("ACKNOWLEDGED")
        assert any(s == "ACKNOWLEDGED" and "Dad" in t for s, t in history), history

        # One tap: a false alarm, kept in the store, counted on the chart.
        row.get_by_role("button", name="False alarm").click()
        page.wait_for_selector(f".cluster[data-cluster-id='{cluster_id}'][data-label='false_alarm']")
        wait_for(lambda: d.call(store.cluster, cluster_id).label == "false_alarm", 10, "the label in the store")  # type: ignore[union-attr]
        assert row.get_by_role("button", name="False alarm").get_attribute("aria-pressed") == "true"
        # The cluster's own local day (as the daemon files it), not the chart's last: a run across
        # midnight has the cluster on yesterday's bar.
        day = dt.datetime.fromtimestamp(d.call(store.cluster, cluster_id).start_t).date().isoformat()  # type: ignore[union-attr]
        page.wait_for_selector(f"#chart g[data-date='{day}'][data-clusters='1'][data-false='1'] rect.bar-false")
        page.wait_for_selector(f".alert[data-alert-id='{alert_id}'] >> text=Marked as a false alarm.")
        # Each spasm is an "event" message: it re-reads the status only, not notes and the chart.
        assert sum("/api/notes" in u for u in watch.urls) <= 2, [u for u in watch.urls if "/api/" in u]

        # A note: video taken (one tap plus optional details).
        page.get_by_label("Video taken").check()
        page.get_by_label("Details").fill("Filmed about a minute on Dad's phone")
        page.get_by_role("button", name="Save note").click()
        page.wait_for_selector("#note-msg.ok")
        notes = d.call(lambda: list(store.notes()))
        assert [(n.kind, n.text, n.device, n.by) for n in notes] == [("video", "Filmed about a minute on Dad's phone", DEVICE, "Dad")]
        page.wait_for_selector(f".note[data-note-id='{notes[0].id}']")

        # Still the same document: everything above arrived live.
        assert page.evaluate("window.__sameDocument") is True
        assert d.server is not None and d.server.live_streams == 1
        shot = tmp_path / "web-daemon.png"
        page.screenshot(path=str(shot), full_page=True)
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, OUTPUT)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        print(f"screenshot: {shot} and {OUTPUT}")

        # The recording ends, the daemon closes the cluster: the alarm leaves the page by itself.
        page.locator(".alert.quiet").wait_for(timeout=90_000)
        assert page.locator(f".cluster[data-cluster-id='{cluster_id}'] .cluster-state").count() == 0  # no longer "ongoing"
        c = d.call(store.cluster, cluster_id)
        assert c is not None and c.closed and c.label == "false_alarm"
        assert page.locator(f".cluster[data-cluster-id='{cluster_id}'] .cluster-count").inner_text() == f"{c.count} spasm-like movements"
        assert page.evaluate("window.__sameDocument") is True
        page.close()
