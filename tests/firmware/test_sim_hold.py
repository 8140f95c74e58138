"""firmware/sim/run.py's --hold, under the real micropython binary.

Found by a flaky test (test_band_log_resize, 1 run in ~20 beside other jobs): a central
paired, took its backfill and left within 5 ms of the band's time, between two of the
held sampler's polls; the hold read the link's state, never saw it encrypted, and the band
held on until its deadline instead of playing the rest of its recording and exiting.
"""

from __future__ import annotations

from pathlib import Path

from sim_central import run_mp

SESSION_BETWEEN_POLLS = """
import bluetooth, run

class Wire:  # the central's end of the radio socket: takes every message whole
    def send(self, b):
        return len(b)
    def close(self):
        pass

ble = bluetooth.BLE()
ble._irq = lambda event, data: None
ble._cfg["le_secure"] = True
hold = run.held_until_encrypted(ble)
print("held" if hold() else "free")
ble._sock, ble._conn, ble._peer = Wire(), 65, bytes(6)
ble._handle(0x05, b"\\x01")  # PAIR
ble._handle(0x07, b"")  # the central leaves before the sampler polls again
print("held" if hold() else "free")
"""


def test_a_session_over_before_the_next_poll_still_ends_the_hold(micropython: str, tmp_path: Path) -> None:
    assert run_mp(micropython, tmp_path / "hold.py", SESSION_BETWEEN_POLLS).split() == ["held", "free"]
