"""A "Band disconnected" sent before a daemon restart is carried on: the band back, the phones hear it.

Found living a simulated night with every channel real (the family's view): the band went out of
range, the phones got "Band disconnected: ... spasms cannot be detected", the daemon was restarted
(as a parent may do to fix it) and the band came back: nothing more reached the phones, whose last
word stayed "Band disconnected". The real firmware under micropython, bleak over the simulated
radio, SQLite on disk, ntfy posting to a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from servers import Recorder, http_recorder

from spasmwatch.alerts import NoticeKind
from spasmwatch.alerts.channels import NtfyChannel, NtfySettings
from spasmwatch.clock import ScaledClock
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import State
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.simband import SimBand, free_port

SPEED = 4
WAIT_S = 60.0


async def _until(ok: Callable[[], object], what: str) -> None:
    end = time.monotonic() + WAIT_S
    while not ok():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _pushed(rec: Recorder) -> list[str]:
    return [s.headers.get("Title", "") for s in rec.seen]


async def _night(tmp: Path, csv: Path, away_s: float) -> tuple[list[Any], list[Any], list[str], tuple[Any, Any]]:
    port = free_port()
    band_of: Callable[[], SimBand] = lambda: SimBand(  # noqa: E731
        csv, tmp / "flash", port=port, hold=True, speed=SPEED, device_id="band0000", idle_exit_ms=500, timeout_s=120
    )
    spec = BandSpec("crib", lambda: open_link("sim", f"127.0.0.1:{port}", bond_file=tmp / "bonds.json"))
    clock = ScaledClock(time.time(), SPEED)
    async with http_recorder() as rec:
        phone = lambda: {"phone": NtfyChannel(NtfySettings(url=f"{rec.url}/phone", name="ntfy:phone", timeout_s=2))}  # noqa: E731
        with Store(tmp / "spasmwatch.db") as store:
            band = band_of()
            first = Daemon(store, [spec], phone(), clock=clock, disconnect_alert_s=0.5)
            await first.start()
            try:
                await _until(lambda: first.bands[0].session.state is State.STREAMING, "the band streaming")
                band.kill()  # out of range
                await _until(lambda: "Band disconnected (crib)" in _pushed(rec), "the disconnected push")
                heard = first.status()["bands"][0]["last_seen"]
            finally:
                await first.stop()
            second = Daemon(store, [spec], phone(), clock=clock, disconnect_alert_s=0.5)
            await second.start()
            try:
                await asyncio.sleep(away_s)  # still away after the restart (past disconnect_alert_s: no second push)
                heard_after = second.status()["bands"][0]["last_seen"]
                band = band_of()  # back in range
                await _until(lambda: second.bands[0].session.state is State.STREAMING, "the band streaming again")
                await _until(lambda: "Band reconnected (crib)" in _pushed(rec), "the reconnected push")
                await second.dispatcher.drain()
            finally:
                await second.stop()
                band.kill()
    return list(first.notifications), list(second.notifications), _pushed(rec), (heard, heard_after)


@pytest.mark.parametrize("away_s", [0.0, 1.5])
def test_a_band_back_after_a_restart_is_told_reconnected_to_the_phones_that_heard_it_was_not(tmp_path: Path, cluster_csv: Path, away_s: float) -> None:
    """Old code: the restarted daemon had no alert for the band. Back at once (0 s): its return
    said nothing (timed out waiting for the reconnected push). Still away 1.5 s, past
    disconnect_alert_s (0.5 s): "Band disconnected" a second time, then "Band reconnected"."""
    first, second, pushed, _ = asyncio.run(_night(tmp_path, cluster_csv, away_s))
    assert [n.title for n in first if n.kind is NoticeKind.BAND_FAULT] == ["Band disconnected (crib)"]
    assert [n.kind for n in second if n.fault is not None and n.fault.value == "disconnected"] == [NoticeKind.BAND_CLEARED]
    assert pushed.count("Band disconnected (crib)") == 1 and pushed.count("Band reconnected (crib)") == 1, pushed


def test_a_band_away_after_a_restart_was_last_heard_when_the_store_says_not_never(tmp_path: Path, cluster_csv: Path) -> None:
    """Found living the night: the daemon restarted while the band was out of range, the page said
    "Last heard from the band: never" (and `last_seen` null to every client) of a band heard minutes
    before. Old code: last_seen None after the restart."""
    *_, (heard, heard_after) = asyncio.run(_night(tmp_path, cluster_csv, 1.5))
    assert heard is not None and heard_after == heard
