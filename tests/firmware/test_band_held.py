"""Epochs that waited in the band are marked as held (LOGINFO LF_HELD just before each), under the
real micropython: the band's own App with its stack busy for a while (``Peripheral.notify`` gives
up after its 2 s of retries and returns False, as band/ble.py does), the sampler, sender and status
tasks running on the simulated clock.

What the host makes of the marks is tests/daemon/test_clock_step.py's (the same sequence, by bytes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sim_central import run_mp, write_csv
from synthetic import supine

from swcore import protocol as P

# The App with a stack that stays busy from BUSY_FROM to BUSY_TO ms of band time; prints each
# record that left, in hex, with the band's uptime ms when it left.
BUSY_STACK = """
import sys, asyncio
from sim import run
from band.app import App

BUSY_FROM = int(sys.argv[3])
BUSY_TO = int(sys.argv[4])

class BusyStack:
    def __init__(self, real, app):
        self.real = real
        self.app = app
        self.link_id = real.link_id
        self.conn = 0
    def __getattr__(self, name):
        return getattr(self.real, name)
    def secure(self):
        return True
    async def notify(self, handle, data):
        up = self.app.uptime_ms()
        if BUSY_FROM <= up < BUSY_TO:
            await self.app.hw.clock.sleep_ms(2000)  # band/ble.py's _NOTIFY_TIMEOUT_MS of ENOMEM
            return False
        print("SENT %s %d" % ("".join("%02x" % b for b in bytes(data)), up))
        return True

async def main():
    hw, source, clock, wdts = run.build(run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"]))
    app = App(hw)
    app.periph = BusyStack(app.periph, app)
    app._ready_link = app.periph.link_id  # its host has written a first command (it has subscribed)
    tasks = [asyncio.create_task(app._sender()), asyncio.create_task(app._status())]
    asyncio.create_task(app._sampler())
    while not source.done:
        await asyncio.sleep_ms(1)
    for t in tasks:
        t.cancel()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def quiet_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A supine baby breathing, no spasm: 100 s at 50 Hz (epochs end every 10 s)."""
    t, acc, gyro = supine(rate_hz=50, duration_s=100, seed=4)
    return write_csv(tmp_path_factory.mktemp("rec") / "quiet.csv", t, acc, gyro)


def band_sends(micropython: str, csv: Path, tmp: Path, busy_from_ms: int, busy_to_ms: int) -> list[tuple[dict[str, Any], int]]:
    """What the band sent (decoded records, its uptime ms at each), its stack busy in the window."""
    (tmp / "flash").mkdir()
    out = run_mp(micropython, tmp / "busy.py", BUSY_STACK, str(csv), str(tmp / "flash"), str(busy_from_ms), str(busy_to_ms))
    sent = [line.split() for line in out.splitlines() if line.startswith("SENT ")]
    return [(P.decode(bytes.fromhex(h)), int(ms)) for _, h, ms in sent]


def epochs_and_marks(sent: list[tuple[dict[str, Any], int]]) -> list[tuple[int, int, bool]]:
    """(epoch end ms, band ms when it left, whether a LOGINFO LF_HELD came just before it)."""
    out: list[tuple[int, int, bool]] = []
    for i, (rec, ms) in enumerate(sent):
        if rec["type"] == "activity":
            before = sent[i - 1][0] if i else {}
            out.append((rec["t_ms"], ms, before.get("type") == "loginfo" and bool(before["flags"] & P.LF_HELD)))
    return out


def test_epochs_that_waited_behind_a_busy_stack_are_marked_held_and_timely_ones_are_not(
    micropython: str, quiet_csv: Path, tmp_path: Path
) -> None:
    """The stack busy from 30 to 52 s: the epochs that ended at 30, 40 and 50 s each wait for a
    notify that fails, and leave at 60 s, 30, 20 and 10 s late, each behind a LOGINFO with LF_HELD
    (and no other flag a host acts on). Those that left within P.HELD_MS of their end are not
    marked. The old firmware sent the same epochs as late, unmarked."""
    sent = band_sends(micropython, quiet_csv, tmp_path, 30_000, 52_000)
    epochs = epochs_and_marks(sent)
    print("(end ms, sent ms, held):", epochs)
    held = [(end, ms) for end, ms, mark in epochs if mark]
    assert [end for end, _ in held] == [30_000, 40_000, 50_000], epochs
    assert all(ms - end > P.HELD_MS for end, ms in held), held
    timely = [(end, ms) for end, ms, mark in epochs if not mark]
    assert len(timely) >= 6 and all(ms - end <= P.HELD_MS for end, ms in timely), timely
    marks = [r for r, _ in sent if r["type"] == "loginfo"]
    assert len(marks) == 3 and all(r["flags"] & (P.LF_GAP | P.LF_DONE) == 0 for r in marks), marks


def test_an_epoch_whose_notify_succeeds_at_once_is_never_marked(micropython: str, quiet_csv: Path, tmp_path: Path) -> None:
    """No stall: every epoch leaves within a batch of its end, and the band sends no LOGINFO at all
    (a host sees exactly what the old firmware sent)."""
    sent = band_sends(micropython, quiet_csv, tmp_path, 0, 0)
    epochs = epochs_and_marks(sent)
    assert len(epochs) >= 9 and not any(mark for _, _, mark in epochs), epochs
    assert not [r for r, _ in sent if r["type"] == "loginfo"]
