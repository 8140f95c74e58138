"""A USB cable cut while a command is in flight, and the band's settings written back over USB (h47a):
the simulated band's real firmware, the daemon, its store, over the serial stand-in (``CdcBridge``).

Since b5081dd9 the daemon writes the band's settings back at each connection (three CONFIGs just
after the connect), so a cut often comes while one is in flight. Over USB the next connection's
clock sync then timed out (10 s, twice) and test_soak's serial cuts went from 8 s to 97 s: the
bridge's radio client, closed as its serial host went, left the read of the STATUS that goes
before the command's RESP waiting 30 s (simradio's ATT timeout), and the next host's answers went
out behind it. 70c94bf0 stopped the write-back over USB for it; it is on again."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cdcdaemon import serial_daemon

from spasmwatch.daemon.session import State
from spasmwatch.transport.base import DisconnectedError
from spasmwatch.transport.cdcbridge import CdcBridge
from swcore import protocol as P

DEVICE = "cot-usb"
WAIT_S = 90.0  # real s: a bound for a loaded machine, not a measure
SETTLE_S = 0.2  # real s: the bridge's read of STATUS under way, the band stopped (CutAtAnswer)


class CutAtAnswer(CdcBridge):
    """Once armed (``band_pid``): the band stopped (SIGSTOP) as its answer to a CONFIG reaches the USB
    port, and the cable pulled out once the bridge's read of the STATUS that goes out before that RESP
    is under way (``read_under_way``); the band goes on (SIGCONT) once that port's session has ended.
    Stopped, the band answers nothing: the read waits at the cut whatever the machine's load."""

    band_pid = 0
    cut = False
    read_under_way = False

    def _answer(self, client: Any, writer: asyncio.StreamWriter, resp: bytes) -> None:
        if not self.band_pid or self.cut or resp[2] != P.OP_CONFIG:
            super()._answer(client, writer, resp)
            return
        self.cut = True
        os.kill(self.band_pid, signal.SIGSTOP)
        super()._answer(client, writer, resp)
        # The read goes out once the CONFIG's write has its acknowledgement (come before the RESP):
        # a few passes of the loop; SETTLE_S is a bound, and read_under_way says it was met.
        asyncio.get_running_loop().call_later(SETTLE_S, self._pull)

    def _pull(self) -> None:
        self.read_under_way = self._answering is not None and not self._answering.done()
        self.drop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await super()._serve(reader, writer)
        finally:
            if self.cut and self.band_pid:
                os.kill(self.band_pid, signal.SIGCONT)
                self.band_pid = 0


class Steps(logging.Handler):
    """The session's state changes, as logged, into ``events``."""

    def __init__(self, events: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if " -> " in msg:
            self.events.append(msg)


async def until(ok: Callable[[], object], what: str) -> None:
    end = time.monotonic() + WAIT_S
    while not ok():
        if time.monotonic() > end:
            raise AssertionError(f"no {what} within {WAIT_S:g} s")
        await asyncio.sleep(0.02)


def test_a_command_in_flight_at_a_usb_cut_ends_with_the_link_and_the_next_sync_is_not_behind_it(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """A CONFIG asked for on a streaming USB link, the cable cut as its answer reaches the port: it
    ends with DisconnectedError (BLE's link loss) before the next connection is tried, and that
    connection streams with no step timed out. Old code (at 270b5ebc): the next connection's
    TIME_SYNC timed out ("syncing -> disconnected (timeout: the band did not answer in time)"),
    its answer held behind the cut port's read of STATUS, 30 s."""
    events: list[str] = []

    async def main() -> None:
        async with serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00021", bridge_type=CutAtAnswer, idle_exit_ms=60_000) as rig:
            bridge, s = rig.bridge, rig.daemon.bands[0].session
            assert isinstance(bridge, CutAtAnswer)
            await until(lambda: s.state is State.STREAMING, "first connection")
            log = logging.getLogger("spasmwatch.daemon.session")
            steps, level = Steps(events), log.level
            log.addHandler(steps)
            log.setLevel(logging.DEBUG)
            try:
                bridge.band_pid = rig.band.proc.pid
                ask = asyncio.ensure_future(s.ask(P.encode_config(P.CFG_STATUS_PERIOD_S, P.CONFIG_DEFAULTS[P.CFG_STATUS_PERIOD_S])))
                ask.add_done_callback(lambda t: events.append(f"asked: {type(t.exception()).__name__}"))
                await until(lambda: bridge.cut and bridge.connections > 1 and s.state is State.STREAMING, "connection after the cut")
            finally:
                log.removeHandler(steps)
                log.setLevel(level)
            assert bridge.read_under_way
            assert isinstance(ask.exception(), DisconnectedError)

    asyncio.run(main())
    asked = events.index(f"asked: {DisconnectedError.__name__}")
    reconnect = next(i for i, e in enumerate(events) if "-> connecting" in e)
    assert asked < reconnect, events
    assert not [e for e in events if "timeout" in e], events
    assert "syncing -> streaming" in events[-1], events


def test_the_settings_a_stranger_left_are_written_back_over_usb(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """A band whose flash holds a stranger's settings (min_confidence 100: no spasm logged;
    low_battery_pct 5), on USB: the daemon writes its own back at the connection, as over BLE
    (test_bonds_cli). Old code (70c94bf0): not over USB, the band kept 100 and 5."""
    flash = tmp_path / "flash"
    flash.mkdir()
    stranger = {"version": 1, "min_confidence": 100, "rate_hz": 52, "status_period_s": 10, "low_battery_pct": 5}
    (flash / "config.json").write_text(json.dumps(stranger))

    def kept() -> tuple[int, int]:
        doc = json.loads((flash / "config.json").read_text())
        return int(doc["min_confidence"]), int(doc["low_battery_pct"])

    async def main() -> None:
        async with serial_daemon(quick_cluster_csv, tmp_path, DEVICE, "usb00022", idle_exit_ms=60_000) as rig:
            s = rig.daemon.bands[0].session
            await until(lambda: s.state is State.STREAMING, "connection")
            await until(lambda: kept() == (0, 15), "settings written back (min_confidence 0, low_battery_pct 15)")

    asyncio.run(main())
