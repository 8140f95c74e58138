"""Bands on USB that stop reading hold no thread of asyncio's default pool, nor another band's.

Found by review: SerialLink read, wrote, opened and closed its port in ``asyncio.to_thread``,
whose default pool (min(32, cpus + 4): 6 on 2 cores) also reopens the store, gathers the web
page's summaries, prunes raw files and (until 2026-12-06) resolved the webhook's host name. A
write to a band whose firmware hung with its USB buffer full blocks for ``WRITE_TIMEOUT_S``:
as many of them as the pool has threads held it all, and the other bands' reads and the
store's work waited. Shown by order, not by time: with every write still blocked, another
band's STATUS is delivered and an unrelated ``to_thread`` call is done.

All real: each band is an ``os.openpty()`` pair (its slave end a real tty, which pyserial
opens and locks), whose master end reads nothing (the hung band) or writes a STATUS frame.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from swcore import protocol as P
from transport_helpers import run, until

from spasmwatch.transport import TransportError
from spasmwatch.transport.serial import SerialLink

# How long a blocked write waits (s): far longer than the test's other work, so that on the old
# code the probe came only after the first write gave up (the order asserted), not by chance.
STALL_S = 20.0
COMMAND = P.encode_time_sync(1_700_000_000, 0)


def default_pool_size() -> int:
    """The threads of asyncio's default executor (ThreadPoolExecutor's default since Python 3.8)."""
    return min(32, (os.cpu_count() or 1) + 4)


def fill(slave: int) -> None:
    """The band's USB buffer full: what the host sent it, unread (the master end reads nothing),
    fills the pty until a write to it waits (a Linux pty takes ~19 KB), and still does a moment
    later (the pty moves what it holds along to the master's side as it can: room again)."""
    os.set_blocking(slave, False)
    try:
        while True:
            try:
                while True:
                    os.write(slave, bytes(256))
            except BlockingIOError:
                time.sleep(0.05)
            try:
                os.write(slave, bytes(1))
            except BlockingIOError:
                return
    finally:
        os.set_blocking(slave, True)


async def block_a_write(link: SerialLink) -> asyncio.Task[None]:
    """A write to ``link`` (a band whose buffer is full) that has not ended in a while: commands
    sent until one waits (the pty may take a few more as it moves what it holds along)."""
    for _ in range(2000):
        writing = asyncio.create_task(link.write(P.CONTROL_UUID, COMMAND))
        done, _ = await asyncio.wait({writing}, timeout=0.5)
        if not done:
            return writing
        writing.result()
    raise AssertionError(f"2000 commands went into a full port ({link.address})")


def test_bands_that_stop_reading_leave_the_threads_to_the_rest_of_the_daemon(tmp_path: Path) -> None:
    """As many hung bands as the default pool has threads, a write blocked on each: another band's
    STATUS arrives, and an unrelated ``to_thread`` call (a file written) is done, while every write
    still waits. Old code: the writes held every thread; the probe ran once the first write gave
    up after ``STALL_S`` (that write was over by then)."""
    n = default_pool_size()
    pairs = [os.openpty() for _ in range(n + 1)]
    fds = [fd for pair in pairs for fd in pair]
    hung = [SerialLink(os.ttyname(slave), write_timeout_s=STALL_S) for _, slave in pairs[:n]]
    band_master, band_slave = pairs[n]
    other = SerialLink(os.ttyname(band_slave))

    async def body() -> None:
        for _, slave in pairs[:n]:
            fill(slave)
        for link in (*hung, other):
            await link.connect(5)
        writes = [await block_a_write(link) for link in hung]
        try:
            started = time.monotonic()
            await asyncio.to_thread((tmp_path / "probe").write_text, "written")
            waited = time.monotonic() - started
            os.write(band_master, P.frame(P.encode_status(80, 1, 5, 0, 0, 2, 60, 4)))
            status = await other.read(P.STATUS_UUID)
            assert P.decode(status)["battery_pct"] == 80 and (tmp_path / "probe").read_text() == "written"
            over = [i for i, w in enumerate(writes) if w.done()]
            assert not over, f"the unrelated to_thread call waited {waited:.2f} s for the hung bands: writes {over} gave up first"
        finally:
            for link in (*hung, other):
                await asyncio.wait_for(link.disconnect(), STALL_S)
            await asyncio.gather(*writes, return_exceptions=True)
        assert all(isinstance(w.exception(), TransportError) for w in writes)

    try:
        run(body(), 6 * STALL_S)
    finally:
        for fd in fds:
            os.close(fd)


def serial_threads(ports: list[str]) -> list[str]:
    """Those of ``ports`` whose worker threads are alive now (other tests' ports left out)."""
    alive = {t.name.removeprefix("spasmwatch-serial ").rsplit("_", 1)[0] for t in threading.enumerate()}
    return [p for p in ports if p in alive]


def test_a_port_no_link_uses_any_more_holds_no_thread() -> None:
    """Bands on 8 ports connected and disconnected 3 times each (a reload that removed them, a
    band moved to another port), then one band kept connected: only that port's threads are
    alive, and they stay while its link is up. Old code: each port's pool was kept for the
    process, 2-4 idle threads for every port name ever used (ptys and /dev/ttyACM numbers
    too)."""
    pairs = [os.openpty() for _ in range(9)]
    names = [os.ttyname(slave) for _, slave in pairs]
    kept = SerialLink(names[8])

    async def body() -> None:
        for _ in range(3):
            for name in names[:8]:
                link = SerialLink(name)
                await link.connect(5)
                await link.write(P.CONTROL_UUID, COMMAND)
                await link.disconnect()
        await kept.connect(5)
        await until(lambda: serial_threads(names) == [names[8]], what=f"only {names[8]}'s threads (alive: {serial_threads(names)})")
        await asyncio.sleep(3 * kept.poll_s)  # its reads go on, one after another, in its threads
        assert serial_threads(names) == [names[8]]
        await kept.disconnect()
        await until(lambda: serial_threads(names) == [], what=f"no port's threads (alive: {serial_threads(names)})")

    try:
        run(body(), 60)
    finally:
        for fd in (fd for pair in pairs for fd in pair):
            os.close(fd)
