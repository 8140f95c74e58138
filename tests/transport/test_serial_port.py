"""SerialLink on ports that misbehave: a pseudo-terminal nobody reads.

All real: an ``os.openpty()`` pair stands for a band whose USB stopped draining.
"""

from __future__ import annotations

import asyncio
import os
import select

from swcore import protocol as P
from transport_helpers import run, until

from spasmwatch.transport import LinkTimeoutError, TransportError
from spasmwatch.transport.serial import SerialLink


def _drain(fd: int) -> bytes:
    """Whatever the pty's master end holds now."""
    out = b""
    while select.select([fd], [], [], 0)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_a_write_the_band_never_takes_times_out_and_the_port_opens_again() -> None:
    """Found by review: ``write()`` ran ``port.write`` in a thread with no timeout, so a band
    that stopped reading its USB held the write (and its thread, and the port) for ever.
    Now the write gives up after the link's write timeout with LinkTimeoutError (kind
    "timeout": the session backs off, closes the link and connects again), and the port
    closes at once and opens again."""
    master, slave = os.openpty()  # the master end is the band, which never reads
    path = os.ttyname(slave)
    command = P.encode_time_sync(1_700_000_000, 0)

    async def write_until_one_fails(link: SerialLink) -> TransportError:
        for _ in range(2000):  # a Linux pty takes ~19 KB, ~75 frames, before a write waits
            try:
                await link.write(P.CONTROL_UUID, command)
            except TransportError as e:
                return e
        raise AssertionError("2000 commands went into a port nobody reads")

    async def body() -> None:
        link = SerialLink(path)
        link.write_timeout_s = 0.3  # taken at connect; the default is seconds
        await link.connect(5)
        try:
            error = await asyncio.wait_for(write_until_one_fails(link), 10)
        except asyncio.TimeoutError:
            # A write still waits in its thread, which asyncio.run would wait for at exit:
            # the band goes away (the master closes), and the write ends with EIO.
            os.close(fds.pop(0))
            raise AssertionError("a write to a port nobody reads was still waiting after 10 s") from None
        assert isinstance(error, LinkTimeoutError) and error.kind == "timeout", repr(error)
        await asyncio.wait_for(link.disconnect(), 5)  # what the session does next
        assert not link.connected

        _drain(master)  # the band reads again: what was left over, then the next link's command
        again = SerialLink(path)
        await again.connect(5)
        await asyncio.wait_for(again.write(P.CONTROL_UUID, command), 5)
        decoder = P.FrameDecoder()
        got: list[bytes] = []
        await until(lambda: bool(got.extend(bytes(f) for f in decoder.feed(_drain(master))) or got), 5, "the command")
        assert got[-1] == command
        await again.disconnect()

    fds = [master, slave]
    try:
        run(body(), 30)
    finally:
        for fd in fds:
            os.close(fd)


def test_a_write_gives_up_before_the_session_does() -> None:
    """The link's LinkTimeoutError, with its thread done, comes before the session's own
    request timeout cancels the wait and closes the port under a write still running."""
    from spasmwatch.daemon import consts as K
    from spasmwatch.transport.serial import WRITE_TIMEOUT_S

    assert 0 < WRITE_TIMEOUT_S < K.REQUEST_TIMEOUT_S
