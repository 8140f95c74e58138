"""The band must advertise again after any disconnect, however short the connection was."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import Callable

from transport_helpers import run

from spasmwatch.transport.simband import SimBand
from spasmwatch.transport.simradio import _scan_once


def test_band_advertises_again_after_a_connection_shorter_than_one_loop_pass(bands: Callable[..., SimBand]) -> None:
    band = bands()
    with socket.create_connection(("127.0.0.1", band.port), timeout=5) as s:
        # HELLO and BYE in one packet: the radio handles both in one pump pass, as a phone
        # connecting and dropping within one connection interval would be.
        s.sendall(struct.pack("<HB", 8, 0x01) + bytes(7) + struct.pack("<HB", 1, 0x07))
        s.recv(4096)

    async def advertising_within(seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if await _scan_once("127.0.0.1", band.port) is not None:
                return True
            await asyncio.sleep(0.05)
        return False

    assert run(advertising_within(2.0), 10)
