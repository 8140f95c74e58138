"""SerialLink on ports that misbehave: a pseudo-terminal nobody reads, a network serial port slow to open,
a port another program has open, a port closed while a read or write waits on it.

All real: an ``os.openpty()`` pair stands for a band on USB (its slave end is a
real tty device, which pyserial and mpremote open by path and lock with flock),
and pyserial's own RFC 2217 server (``rfc2217.PortManager`` over ``loop://``) on
127.0.0.1, answering only when told, for a port whose open takes longer than the
connect waits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import socket
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import serial  # type: ignore[import-untyped]
from serial import rfc2217
from swcore import protocol as P
from cancels import cancel_after
from transport_helpers import run, until

from spasmwatch.daemon.session import BandSession, State
from spasmwatch.flashing.link import DeviceError, open_serial
from spasmwatch.transport import DisconnectedError, LinkTimeoutError, RefusedError, TransportError
from spasmwatch.transport.serial import SerialLink

# pyserial's RFC 2217 client names its reader thread the old way (setDaemon, setName).
pytestmark = pytest.mark.filterwarnings("ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning")


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


class SlowSerialServer:
    """A network serial port (RFC 2217: pyserial's PortManager over ``loop://``) on 127.0.0.1
    whose open completes only once ``answer`` is set: until then it accepts the client's TCP
    connection and leaves its option negotiation unanswered. ``opened`` is set when the
    client's open reaches its last step (it purges the port's output), ``hung_up`` when the
    client closes the port."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        # timeout: how long the client's open waits for the negotiation (it ends a test's worst case)
        self.url = "rfc2217://127.0.0.1:%d?timeout=5" % self._listener.getsockname()[1]
        self.accepted = threading.Event()
        self.answer = threading.Event()
        self.opened = threading.Event()
        self.hung_up = threading.Event()
        self._stop = threading.Event()
        self._log = logging.getLogger(f"test.rfc2217.{id(self)}")
        self._log.propagate = False
        self._log.setLevel(logging.INFO)
        self._log.addHandler(_OnMessage("purge out", self.opened))
        self._thread = threading.Thread(target=self._serve, name="rfc2217 server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
                break
            except socket.timeout:
                continue
        else:
            return
        with conn:
            self.accepted.set()
            while not self.answer.wait(0.05):
                if self._stop.is_set():
                    return
            port = serial.serial_for_url("loop://", timeout=0.05)
            manager = rfc2217.PortManager(port, _Sender(conn), logger=self._log)
            conn.settimeout(0.05)
            try:
                while not self._stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not data:
                        self.hung_up.set()
                        break
                    port.write(b"".join(manager.filter(data)))
            finally:
                port.close()

    def close(self) -> None:
        self._stop.set()
        self.answer.set()
        self._thread.join(5)
        self._listener.close()


class _OnMessage(logging.Handler):
    """Sets ``event`` when ``message`` is logged."""

    def __init__(self, message: str, event: threading.Event) -> None:
        super().__init__()
        self._message = message
        self._event = event

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == self._message:
            self._event.set()


class _Sender:
    """The connection PortManager answers on."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._conn.sendall(data)


@pytest.mark.parametrize("give_up", ["timeout", "cancelled", "disconnect"])
def test_a_port_that_opens_after_connect_gave_up_is_closed(give_up: str) -> None:
    """Found by review: ``connect()`` waited for the open with ``wait_for(to_thread(...))``;
    on a timeout (or the daemon stopping the session) the worker thread went on, opened the
    port, and nobody closed it: a tty stayed open and held. Now whichever finishes last
    closes it: the worker when the connect gave up first, else the giving up."""
    server = SlowSerialServer()

    async def body() -> None:
        link = SerialLink(server.url)
        if give_up == "timeout":
            with pytest.raises(LinkTimeoutError):
                await link.connect(0.3)
        else:
            connecting = asyncio.create_task(link.connect(20))
            await until(server.accepted.is_set, 5, "the client's TCP connection")
            if give_up == "cancelled":  # as the daemon's stop() cancels a session's task
                connecting.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await connecting
            else:
                await link.disconnect()
                server.answer.set()
                with pytest.raises(DisconnectedError):
                    await asyncio.wait_for(connecting, 10)
        server.answer.set()  # the open completes now, after the connect stopped waiting for it
        await until(server.opened.is_set, 5, "the late open to complete")
        await until(server.hung_up.is_set, 5, "the port that opened late to be closed")
        assert not link.connected

    try:
        run(body(), 30)
    finally:
        server.close()


@pytest.mark.parametrize("steps", range(3))
def test_a_connect_cancelled_as_its_port_opens_ends_with_the_port_closed(steps: int) -> None:
    """The port's open (in its worker thread) completes ``steps`` loop passes before the connect's
    cancel. Old code waited for it with ``asyncio.wait_for``, which on Python 3.11 returned the
    port opened in the cancel's pass: the connect went on as if never cancelled, the port held
    (a session the daemon stopped, 'spasmwatch bonds' interrupted, went on to use it)."""
    server = SlowSerialServer()

    async def body() -> None:
        link = SerialLink(server.url)
        connecting = asyncio.create_task(link.connect(20))
        await until(server.accepted.is_set, 5, "the client's TCP connection")
        opening = next(t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "SerialLink._in_thread")
        server.answer.set()
        asked = await cancel_after(connecting, opening, steps)  # (False: the connect had returned already)
        if asked:
            await until(server.hung_up.is_set, 5, "the port the cancelled connect opened to be closed")
            assert not link.connected
        await link.disconnect()

    try:
        run(body(), 30)
    finally:
        server.close()


def test_a_write_gives_up_before_the_session_does() -> None:
    """The link's LinkTimeoutError, with its thread done, comes before the session's own
    request timeout cancels the wait and closes the port under a write still running."""
    from spasmwatch.daemon import consts as K
    from spasmwatch.transport.serial import WRITE_TIMEOUT_S

    assert 0 < WRITE_TIMEOUT_S < K.REQUEST_TIMEOUT_S


# --- a port another program has open ---------------------------------------------------------------

STATUS = P.encode_status(80, 1, 3, 0, 0, 7, 120, 42)


async def _still_works(link: SerialLink, master: int) -> None:
    """A STATUS the band sends reaches ``link``, and ``link``'s command reaches the band, whole."""
    os.write(master, P.frame(STATUS))
    await until(lambda: link._status == STATUS, 5, "the band's STATUS")
    assert await link.read(P.STATUS_UUID) == STATUS
    command = P.encode_time_sync(1_700_000_000, 0)
    await asyncio.wait_for(link.write(P.CONTROL_UUID, command), 5)
    decoder = P.FrameDecoder()
    got: list[bytes] = []
    await until(lambda: bool(got.extend(bytes(f) for f in decoder.feed(_drain(master))) or got), 5, "the command")
    assert got == [command]


@pytest.mark.parametrize("second", ["link", "flash"])
def test_a_second_program_on_the_port_is_refused_and_the_first_keeps_working(second: str) -> None:
    """Found by review: the link opened its port without a lock, so a second daemon (or a serial
    monitor, or 'spasmwatch flash') opened the same tty and both read the band's bytes, each
    seeing part of the frames, and their commands interleaved. The link now opens exclusively
    (pyserial's flock, which mpremote, the flashing link, takes too): a second SerialLink gets
    RefusedError naming the port and saying another program has it, the flashing link a
    DeviceError saying to stop the daemon, and the first link goes on receiving and sending.
    Once the first has disconnected, a link opens the port at once (the close waits for the
    reader's thread, whose select() would otherwise hold the file, and its lock, a moment longer)."""
    master, slave = os.openpty()
    path = os.ttyname(slave)

    async def body() -> None:
        first = SerialLink(path)
        await first.connect(5)
        try:
            if second == "link":
                with pytest.raises(RefusedError) as refused:
                    await SerialLink(path).connect(5)
                assert refused.value.kind == "refused"
                message = str(refused.value)
            else:
                with pytest.raises(DeviceError) as failed:
                    await asyncio.to_thread(open_serial, path)
                message = str(failed.value)
                assert "daemon" in message, message
            assert path in message and "another program" in message, message
            await _still_works(first, master)
        finally:
            await first.disconnect()
        if second == "link":  # the lock goes with the port: the next link opens it
            again = SerialLink(path)
            await again.connect(5)
            await _still_works(again, master)
            await again.disconnect()
        else:
            (await asyncio.to_thread(open_serial, path)).close()

    try:
        run(body(), 30)
    finally:
        os.close(master)
        os.close(slave)


class _States:
    """A SessionSink that only records states: the session never gets past connecting here."""

    def __init__(self) -> None:
        self.seen: list[tuple[State, str]] = []

    def on_state(self, session: Any, state: State, detail: str) -> None:
        self.seen.append((state, detail))


def test_the_daemon_backs_off_while_the_band_is_being_flashed() -> None:
    """While 'spasmwatch flash' (mpremote, on the same port) has the band, the daemon's session
    does not open the port too: its connect is refused, the state says which port and that
    another program has it, and it waits the refused backoff (5 s, doubling) before trying again;
    the flash still gets every byte. Before, the daemon opened the port beside the flash (both
    read the REPL's bytes) and went on with its connect sequence."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    flashing = open_serial(path)

    async def body() -> None:
        sink = _States()
        session = BandSession(path, lambda: SerialLink(path), sink)  # type: ignore[arg-type]
        running = asyncio.create_task(session.run())
        try:
            await until(lambda: any(state is State.BACKOFF for state, _ in sink.seen), 10, "the session to back off")
            # the flash still has the band's every byte
            prompt = b"raw REPL; CTRL-B to exit\r\n>"
            os.write(master, prompt)
            flashing.transport.serial.timeout = 5
            assert await asyncio.to_thread(flashing.transport.serial.read, len(prompt)) == prompt
        finally:
            await session.stop()
            await asyncio.wait_for(running, 10)
        states = [state for state, _ in sink.seen]
        backoff = states.index(State.BACKOFF)
        assert states[: backoff + 1] == [State.CONNECTING, State.DISCONNECTED, State.BACKOFF], sink.seen
        refused = sink.seen[backoff - 1][1]
        assert refused.startswith("refused: ") and path in refused and "another program" in refused, refused
        assert sink.seen[backoff][1] == "retry in 5 s", sink.seen

    try:
        run(body(), 30)
    finally:
        flashing.close()
        os.close(master)
        os.close(slave)


# --- closing a port a read or write is blocked on ------------------------------------------------------

PYSERIAL_IO = {serial.Serial.read.__code__: "read", serial.Serial.write.__code__: "write"}
# The close's bound in the tests of a blocked read or write (s): a close that wakes them ends in
# milliseconds. BLOCKED_S, the read's poll_s or the write's timeout there, is longer, so one the close
# did not wake fails the bound rather than being timed; and it still ends, so the loop closes after.
CLOSE_BOUND_S = 10.0
BLOCKED_S = 3 * CLOSE_BOUND_S


def _in_pyserial_io() -> list[str]:
    """Which of pyserial's blocking calls ("read", "write") some thread is inside now."""
    found = []
    for frame in sys._current_frames().values():
        f: Any = frame
        while f is not None and f.f_code not in PYSERIAL_IO:
            f = f.f_back
        if f is not None:
            found.append(PYSERIAL_IO[f.f_code])
    return found


class _ClosedUnder:
    """Records every pyserial read or write that ended with its port already closed (its
    ``fd`` gone): one the close did not wait for, which went on with a closed descriptor.
    A profile function on the threads started while it is on (asyncio's worker threads)."""

    def __init__(self) -> None:
        self.ended: list[str] = []

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code in PYSERIAL_IO and frame.f_locals["self"].fd is None:
            self.ended.append(PYSERIAL_IO[frame.f_code])

    def __enter__(self) -> _ClosedUnder:
        threading.setprofile(self)
        return self

    def __exit__(self, *exc: object) -> None:
        threading.setprofile(None)


def _watching_closes(body: Callable[[_ClosedUnder], Coroutine[Any, Any, None]], *fds: int) -> None:
    """Run ``body(closed)``, recording each pyserial read or write that ends on a closed port; then close ``fds``."""
    try:
        with _ClosedUnder() as closed:
            run(body(closed), 30)
    finally:
        for fd in fds:
            os.close(fd)


def test_a_close_wakes_a_blocked_read_and_waits_for_it() -> None:
    """Found by review: ``disconnect()`` cancelled the reader task and closed the port while the
    reader's worker thread was still blocked in ``read``; the thread woke (pyserial's close
    closes the pipes it also waits on) and went on with the closed port (a TypeError on its
    fd, swallowed). Now the close wakes the read (``cancel_read``) and waits for the thread to
    leave it before closing: no read ends on a closed port, none is left, and the close is
    prompt though a read may block for ``poll_s``, made long here so the read is certainly
    blocked, and longer than the close's bound: a close that waited for the read to end by
    itself fails the bound (the old test timed the close instead: < 2 s)."""
    master, slave = os.openpty()
    path = os.ttyname(slave)

    async def body(closed: _ClosedUnder) -> None:
        link = SerialLink(path, poll_s=BLOCKED_S)
        await link.connect(5)
        await until(lambda: "read" in _in_pyserial_io(), 5, "the reader to block in a read")
        await asyncio.wait_for(link.disconnect(), CLOSE_BOUND_S)
        assert "read" not in _in_pyserial_io(), "a thread is still reading the closed port"
        await asyncio.sleep(0.2)  # a read the close did not wait for ends now
        assert closed.ended == [], "a read went on after its port was closed"
        assert not link.connected

    _watching_closes(body, master, slave)


def test_a_close_wakes_a_blocked_write_which_fails_at_once() -> None:
    """Found by review: ``disconnect()`` closed the port under a write blocked on a band that
    does not read; the write's thread woke (pyserial's close closes the pipes it also waits on)
    and raised TypeError from the closed port, which ``write`` passed on (not a TransportError).
    Now the close wakes it (``cancel_write``) and waits for it: the write raises
    DisconnectedError at once, and it ended before the port closed. Its write timeout is
    longer than the test's bounds: a write left to it would fail them, and end as
    LinkTimeoutError (the old test timed the close and the write instead: < 3 s)."""
    master, slave = os.openpty()  # the master end is the band, which never reads
    path = os.ttyname(slave)
    command = P.encode_time_sync(1_700_000_000, 0)

    async def body(closed: _ClosedUnder) -> None:
        link = SerialLink(path, write_timeout_s=BLOCKED_S)
        await link.connect(5)
        blocked = None
        for _ in range(2000):  # a Linux pty takes ~19 KB, ~75 frames, before a write waits
            writing = asyncio.create_task(link.write(P.CONTROL_UUID, command))
            done, _ = await asyncio.wait({writing}, timeout=0.5)
            if not done:
                blocked = writing
                break
            writing.result()
        assert blocked is not None, "2000 commands went into a port nobody reads"
        assert "write" in _in_pyserial_io()
        await asyncio.wait_for(link.disconnect(), CLOSE_BOUND_S)
        with pytest.raises(DisconnectedError):  # woken by the close, not ended by its timeout (LinkTimeoutError)
            await asyncio.wait_for(blocked, CLOSE_BOUND_S)
        assert "write" not in _in_pyserial_io(), "a thread is still writing to the closed port"
        assert closed.ended == [], "a write went on after its port was closed"

    _watching_closes(body, master, slave)


# Every record type the band sends, and the characteristic that carries it over BLE (docs/protocol.md, GATT).
_BAND_RECORDS = [
    (P.encode_event(3, 1, 5000, 900, 4000, 700, 80), P.EVENTS_UUID),
    (P.encode_activity(1, 10_000, 20, 50, 0, 1), P.EVENTS_UUID),
    (P.encode_loginfo(P.LF_DONE, 0, 4, 1000), P.EVENTS_UUID),
    (P.encode_bootlink(2, 1, P.RC_WDT, P.BLF_RTC, 60_000, 1500, 3), P.EVENTS_UUID),
    (P.encode_status(80, 1, 5, 0, 0, 2, 60, 4), P.STATUS_UUID),
    (P.encode_resp(P.OP_TIME_SYNC, P.OK, 1234), P.CONTROL_UUID),
    (P.encode_raw(0, [(1, 2, 3, 4, 5, 6)]), P.RAW_UUID),
]


def test_every_record_the_band_sends_reaches_the_callback_of_its_ble_characteristic() -> None:
    """Found by review: BOOTLINK had no channel over serial: counted as an unknown type and
    dropped, so a band on USB never placed a boot no sync reached (its events stayed unplaced,
    never analysed), which the same band over BLE does through its boot links."""
    assert {P.decode(r)["type"] for r, _ in _BAND_RECORDS} == set(P._TYPE_NAMES.values())  # every type
    master, slave = os.openpty()
    path = os.ttyname(slave)

    async def body() -> dict[str, list[bytes]]:
        link = SerialLink(path)
        got: dict[str, list[bytes]] = {}
        await link.connect(5)
        for uuid in (P.EVENTS_UUID, P.STATUS_UUID, P.CONTROL_UUID, P.RAW_UUID):
            await link.subscribe(uuid, lambda data, uuid=uuid: got.setdefault(uuid, []).append(data))
        os.write(master, b"".join(P.frame(r) for r, _ in _BAND_RECORDS))
        try:
            await until(lambda: sum(map(len, got.values())) + link.dropped >= len(_BAND_RECORDS), 5, "every record")
        finally:
            await link.disconnect()
        assert link.dropped == 0
        return got

    try:
        got = run(body())
    finally:
        os.close(master)
        os.close(slave)
    want: dict[str, list[bytes]] = {}
    for record, uuid in _BAND_RECORDS:
        want.setdefault(uuid, []).append(record)
    assert got == want
