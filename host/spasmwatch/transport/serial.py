"""SerialLink: the Link over the band's USB CDC port (pyserial), records framed per docs/protocol.md.

Serial has no GATT, so the Link's characteristic UUIDs are mapped onto the
record stream: a record is delivered to the callback subscribed to the
characteristic that would have notified it over BLE (by record type), and a
write to control is one framed command. ``read(status)`` returns the latest
STATUS heard (the band sends one when the port opens, and before every command's RESP
the STATUS it refreshed: a read right after a command sees its effect, as over BLE).
USB is a cable the caregiver plugged in: ``secure()`` has nothing to do.

The port is opened exclusively (a flock on posix, as mpremote takes): another program
holding it is ``RefusedError`` saying so, and this link keeps others out.

pyserial blocks in worker threads, which cannot be stopped, so each is bounded: a
read by ``POLL_S`` (``poll_s``), a write by ``WRITE_TIMEOUT_S`` (then ``LinkTimeoutError``), and a
port that opens after ``connect()`` stopped waiting for it is closed (docs/transport.md). The
threads are the port's own (``PORT_THREADS``), not asyncio's default pool: a band that stops
reading its USB, or a port slow to open, holds them, not the store's or another band's.
A close wakes the read and write under way (``cancel_read`` / ``cancel_write``) and
waits for them before it closes the port.

``target`` goes to ``serial.serial_for_url``: ``/dev/ttyACM0``, ``COM3``, and
also ``socket://127.0.0.1:PORT`` (the simulated band's CDC stand-in,
``spasmwatch.transport.cdcbridge``) or ``loop://``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import serial  # type: ignore[import-untyped]
from swcore import protocol as P

from spasmwatch.threads import DetachedThreads
from spasmwatch.timeouts import within
from spasmwatch.transport.base import (
    ERROR_BY_KIND,
    DisconnectedError,
    Kind,
    LinkIOError,
    LinkTimeoutError,
    NotFoundError,
    RefusedError,
    TransportError,
)

# USB ids of ESP32 boards and their USB-UART bridges (vid, pid); pid None = any. One table for
# 'spasmwatch flash' (which port to open) and 'spasmwatch scan' (which boards on USB to list):
# scan kept its own list of vendors, without FTDI, so a board that flash found was not listed.
KNOWN_USB: dict[tuple[int, int | None], str] = {
    (0x303A, None): "Espressif native USB (ESP32-C3/S3)",
    (0x10C4, 0xEA60): "Silicon Labs CP210x",
    (0x1A86, 0x7523): "WCH CH340",
    (0x1A86, 0x55D4): "WCH CH9102",
    (0x1A86, 0x55D3): "WCH CH343",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6015): "FTDI FT231X",
}


def known_usb(vid: int | None, pid: int | None) -> str | None:
    """What a USB serial port with these ids is, if it looks like an ESP32 board (else None)."""
    if vid is None:
        return None
    return KNOWN_USB.get((vid, pid)) or KNOWN_USB.get((vid, None))


T = TypeVar("T")

BAUD = 115200  # ignored by USB CDC and sockets; what a UART bridge chip would need
POLL_S = 0.05  # longest a read blocks in the worker thread: the latency of a record and of close
MAX_RECORD = 255  # a frame's payload limit
STATUS_WAIT_S = 5.0
# Longest a command's write may wait for the port to take its bytes (s). A frame is at most
# 260 bytes; the OS buffers kilobytes for the port, so a write waits only once that is full,
# i.e. the band has stopped reading its USB (a hung board, its CDC buffer full), not on a
# pause of its loop. Without a bound the write's worker thread waited for ever, holding the
# port. Shorter than the session's request timeout (daemon/consts.py REQUEST_TIMEOUT_S, 10 s),
# so the link's own LinkTimeoutError comes first and its thread is done by the time the
# session closes the port.
WRITE_TIMEOUT_S = 2.0
# Worker threads of a port's own (by ``target``; all its links, one after another, share them): a
# link's read, its write and its close, and the open of the next link while a close or an open the
# link before gave up on still runs; more wait their turn. Until 2026-12-06 these were asyncio's
# default pool (min(32, cpus + 4): 6 on 2 cores), which also reopens the store, gathers the page's
# summaries and reads the other bands: 6 writes blocked on bands that stopped reading their USB
# held every thread for WRITE_TIMEOUT_S (docs/transport.md, "Threads:").
PORT_THREADS = 4


class _PortThreads:
    """The worker threads of one port (``PORT_THREADS``) and what holds them: its links between
    ``connect`` and the end of ``disconnect`` (``links``), and the calls in them not yet returned
    (``busy``: an open a link gave up on counts until it ends). Let go when neither is left: a
    port no link uses any more (a band a reload removed, one moved to another port) keeps no
    thread; kept while a call hangs in the kernel, so that those stay bounded by one port's
    threads across reconnects."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.pool = DetachedThreads(PORT_THREADS, f"spasmwatch-serial {target}")
        self.links = 0
        self.busy = 0


_PORTS: dict[str, _PortThreads] = {}
_PORTS_LOCK = threading.Lock()  # calls end in the worker threads


def _port(target: str) -> _PortThreads:
    """Port ``target``'s threads, made if it has none (under ``_PORTS_LOCK``)."""
    port = _PORTS.get(target)
    if port is None:
        port = _PORTS[target] = _PortThreads(target)
    return port


def _let_go_if_idle(port: _PortThreads) -> None:
    """Under ``_PORTS_LOCK``: its threads end once nothing holds them."""
    if port.links == 0 and port.busy == 0 and _PORTS.get(port.target) is port:
        del _PORTS[port.target]
        port.pool.shutdown(wait=False)


def _hold_port(target: str, held: bool) -> None:
    """A link of ``target`` starts (``held``) or stops holding its threads."""
    with _PORTS_LOCK:
        port = _port(target)
        port.links += 1 if held else -1
        _let_go_if_idle(port)


def _call_done(port: _PortThreads) -> None:
    with _PORTS_LOCK:
        port.busy -= 1
        _let_go_if_idle(port)


def _port_call(target: str, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
    """``fn(*args)`` in port ``target``'s threads; counted until it returns (or is cancelled
    before it started), not until its caller stops waiting."""
    with _PORTS_LOCK:
        port = _port(target)
        port.busy += 1
        call = port.pool.submit(fn, *args)
    call.add_done_callback(lambda _: _call_done(port))
    return asyncio.wrap_future(call)


# Which BLE characteristic carries each record type (docs/protocol.md, GATT).
CHANNEL_OF_TYPE = {
    P.T_EVENT: P.EVENTS_UUID,
    P.T_ACTIVITY: P.EVENTS_UUID,
    P.T_LOGINFO: P.EVENTS_UUID,
    P.T_BOOTLINK: P.EVENTS_UUID,  # missing until 2026-12-06: dropped, a boot no sync reached was never placed
    P.T_STATUS: P.STATUS_UUID,
    P.T_RESP: P.CONTROL_UUID,
    P.T_RAW: P.RAW_UUID,
}


# How an open finds the port held by another program: its exclusive lock (flock, which this
# link, mpremote, miniterm and picocom take) fails with EWOULDBLOCK (= EAGAIN on Linux), a tty
# another program made exclusive (TIOCEXCL) refuses the open with EBUSY.
BUSY_ERRNOS = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY)


def _errnos(e: BaseException) -> Iterator[int | None]:
    for err in (e, e.__cause__, e.__context__):
        yield getattr(err, "errno", None)


def port_busy(e: BaseException) -> bool:
    """The port did not open because another program has it open (see BUSY_ERRNOS). Windows
    opens every COM port exclusively; pyserial reports a second open there as "could not open
    port 'COM3': PermissionError(13, 'Access is denied.', ...)", with no errno."""
    return any(code in BUSY_ERRNOS for code in _errnos(e)) or "access is denied" in str(e).lower()


def open_kind(e: BaseException) -> Kind:
    """Why a port did not open: no such device / nobody listening, or someone else has it."""
    if port_busy(e):
        return "refused"
    for code in _errnos(e):
        if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.ECONNREFUSED, errno.EHOSTUNREACH):
            return "not_found"
        if code in (errno.EACCES, errno.EPERM):
            return "refused"
    return "not_found" if "refused" in str(e).lower() or "no such" in str(e).lower() else "io"


def not_a_port(device: str) -> str | None:
    """Why ``device``, which did not open as a port, is none (posix): a file or a folder, or a
    device with no serial settings (termios: ENOTTY, e.g. /dev/null); None when it may be one,
    or is gone, or this is not posix."""
    if os.name != "posix":
        return None
    import termios  # posix only; pyserial opens COM ports too

    try:
        if not stat.S_ISCHR(os.stat(device).st_mode):
            return "a file or a folder"
        fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)  # no wait for a carrier, not our tty
    except OSError:
        return None  # gone, EBUSY (another program made it exclusive), no permission: for the caller to say
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return "a device that is not a terminal" if exc.args[0] == errno.ENOTTY else None
    finally:
        os.close(fd)
    return None


def open_error(address: str, e: BaseException) -> TransportError:
    """The TransportError for a port that did not open (``e``, pyserial's or the OS's)."""
    if port_busy(e):
        return RefusedError(
            f"{address} is open in another program (another spasmwatch daemon, 'spasmwatch flash' or "
            f"'board info', mpremote, a serial monitor): close it, the link retries ({e})"
        )
    if (why := not_a_port(address)) is not None:  # a wrong [bands] port: was "io: Could not configure port: (25, ...)"
        return NotFoundError(f"{address}: not a serial port ({why}): set the band's port, e.g. /dev/ttyACM0 ('spasmwatch scan' lists them)")
    return ERROR_BY_KIND[open_kind(e)](f"{address}: {e}")


class SerialLink:
    """A Link to a band on a serial port (or a pyserial URL).

    ``write_timeout_s``: the longest a write waits for the port to take its bytes (``WRITE_TIMEOUT_S``);
    ``poll_s``: the longest a read blocks in its worker thread (``POLL_S``). Both taken at connect.
    """

    transport = "serial"

    def __init__(self, target: str, baudrate: int = BAUD, write_timeout_s: float = WRITE_TIMEOUT_S, poll_s: float = POLL_S) -> None:
        self.name = target
        self.address = target
        self.baudrate = baudrate
        self.write_timeout_s = write_timeout_s  # taken at connect
        self.poll_s = poll_s  # taken at connect
        self.decoder = P.FrameDecoder(self._garbled)  # type: ignore[no-untyped-call]  # swcore is MicroPython code, unannotated
        self._port: _Port | None = None
        self._reader: asyncio.Task[None] | None = None
        self._opening: _Opening | None = None
        self._callbacks: dict[str, Callable[[bytes], None]] = {}
        self._on_disconnect: list[Callable[[], None]] = []
        self._on_garbled: list[Callable[[bytes], None]] = []
        self._status: bytes | None = None
        self._status_seen = asyncio.Event()
        self._closing = False
        self._holding = False  # its port's threads (``_hold``)
        self.dropped = 0  # good frames whose record type is unknown (counted, not delivered)

    @property
    def connected(self) -> bool:
        return self._port is not None and self._port.is_open

    @property
    def mtu(self) -> int:
        return MAX_RECORD + 3  # Link.mtu is an ATT MTU: payload = mtu - 3

    async def connect(self, timeout_s: float = 10.0) -> None:
        self._hold(True)
        try:
            port = await self._open_within(timeout_s)
        except BaseException as e:
            self._hold(False)
            if isinstance(e, asyncio.TimeoutError):  # (an OSError: first)
                raise LinkTimeoutError(f"{self.address}: the port did not open within {timeout_s:g} s") from None
            if isinstance(e, (serial.SerialException, OSError, ValueError)):
                raise open_error(self.address, e) from e
            raise
        self._port = _Port(port)
        self._closing = False
        self._reader = asyncio.create_task(self._receive(self._port))

    async def _open_within(self, timeout_s: float) -> serial.SerialBase:
        """Open the port in a worker thread, which cannot be stopped: a port it opens after we
        stopped waiting (timeout, cancelled, ``disconnect()``) is closed, not left open and held
        for the life of the process (found by review; a COM port is exclusive, so the next
        connect found it busy). ``within``, not ``wait_for``: on Python 3.11 a cancel in the pass
        the open completed was lost, and the connect went on with the port."""
        opening = self._opening = _Opening(self._open)
        try:
            await within(self._in_thread(opening.run), timeout_s)
        except BaseException:
            opening.give_up()
            raise
        finally:
            if self._opening is opening:
                self._opening = None
        port = opening.take()
        if port is None:  # disconnect() gave up on it, and closed it
            raise DisconnectedError(f"{self.address}: disconnect() while the port was opening")
        return port

    def _open(self) -> serial.SerialBase:
        # exclusive: a second program on the port (a second daemon, 'spasmwatch flash', a serial
        # monitor) would read part of the band's frames and interleave its commands with ours.
        # On a posix device it is pyserial's flock(LOCK_EX | LOCK_NB), which mpremote (the
        # flashing link), miniterm and picocom take too; Windows opens COM ports exclusively
        # anyway; the URL handlers (socket://, loop://, rfc2217://) keep the flag and ignore it.
        port = serial.serial_for_url(self.address, baudrate=self.baudrate, timeout=self.poll_s, exclusive=True)
        try:
            _bound_writes(port, self.write_timeout_s)
        except BaseException:
            _close_quietly(port)
            raise
        return port

    async def secure(self) -> None:
        if not self.connected:
            raise DisconnectedError(f"{self.address}: not connected")

    def _hold(self, held: bool) -> None:
        """This link holds its port's threads from its ``connect`` until that fails or its
        ``disconnect`` ends (``_PortThreads``)."""
        if held != self._holding:
            self._holding = held
            _hold_port(self.address, held)

    async def disconnect(self) -> None:
        try:
            await self._disconnect()
        finally:
            self._hold(False)

    async def _disconnect(self) -> None:
        self._closing = True
        if self._opening is not None:  # a connect() waiting for its open: the port is not to be kept
            self._opening.give_up()
        port, self._port = self._port, None
        reader, self._reader = self._reader, None
        if port is not None:
            # At once, before any await: no new read or write starts, the blocked ones wake.
            # Then the port closes once they have returned (in a thread, which goes on if this
            # is cancelled).
            port.stop()
            await self._in_thread(port.close, self._close_wait_s)
        if reader is not None:
            # It ends by itself: its read was woken, and the next finds the port closed (or it
            # is closing the port after a drop). Not cancelled, and not cancelled with us: a
            # cancelled task would leave its thread and its close running, unwaited for.
            await asyncio.wait([reader])
            if not reader.cancelled():
                reader.result()  # a callback's exception, as before

    async def _in_thread(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)``, which blocks, in the port's own worker threads (``PORT_THREADS``)."""
        return await _port_call(self.address, fn, *args)

    @property
    def _close_wait_s(self) -> float:
        """How long a close waits for a read or write that cannot be woken (socket://, rfc2217://)."""
        return self.write_timeout_s + 1.0

    async def read(self, uuid: str) -> bytes:
        if uuid != P.STATUS_UUID:
            raise LinkIOError(f"{self.address}: {uuid} cannot be read over serial (only status, as the latest STATUS record)")
        if self._status is None:
            self._live()
            try:
                await asyncio.wait_for(self._status_seen.wait(), STATUS_WAIT_S)
            except asyncio.TimeoutError:
                raise LinkTimeoutError(f"{self.address}: no STATUS within {STATUS_WAIT_S:g} s") from None
        assert self._status is not None
        return self._status

    async def write(self, uuid: str, data: bytes) -> None:
        if uuid != P.CONTROL_UUID:
            raise LinkIOError(f"{self.address}: only control can be written over serial, not {uuid}")
        port = self._live()
        with self._io("write"):
            await self._in_thread(port.write_frame, P.frame(data))  # type: ignore[no-untyped-call]
        if port.closing:  # disconnect() or a drop woke it, or came just after: all, some or none went out
            raise DisconnectedError(f"{self.address}: write: the link was closed during it")

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        if uuid not in CHANNEL_OF_TYPE.values():
            raise LinkIOError(f"{self.address}: {uuid} has no serial records")
        self._callbacks[uuid] = callback

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        self._on_disconnect.append(callback)

    def on_garbled(self, callback: Callable[[bytes], None]) -> None:
        """``callback`` gets each frame's payload whose CRC failed, as it came (``base.Garbling``)."""
        self._on_garbled.append(callback)

    # --- receive side ------------------------------------------------------------------------------
    def _live(self) -> _Port:
        if self._port is None or not self._port.is_open:
            raise DisconnectedError(f"{self.address}: not connected")
        return self._port

    @contextlib.contextmanager
    def _io(self, what: str) -> Iterator[None]:
        try:
            yield
        except TransportError:
            raise
        except serial.SerialTimeoutException as e:  # a SerialException: test it first
            raise LinkTimeoutError(f"{self.address}: {what}: the port took no bytes for {self.write_timeout_s:g} s (the band is not reading)") from e
        except (serial.SerialException, OSError) as e:
            raise DisconnectedError(f"{self.address}: {what}: {e}") from e

    async def _receive(self, port: _Port) -> None:
        try:
            while True:
                data = await self._in_thread(port.read_some)
                for payload in self.decoder.feed(data):  # type: ignore[no-untyped-call]
                    self._deliver(bytes(payload))
        except (serial.SerialException, OSError, TypeError, AttributeError):
            pass  # unplugged, or closed (pyserial's socket:// reports a closed port oddly)
        if port.closing:  # disconnect() closed it
            return
        port.stop()  # a write under way ends now, with DisconnectedError
        if self._port is port:
            self._port = None
        await self._in_thread(port.close, self._close_wait_s)  # closed before anyone hears of the drop
        if not self._closing:
            for callback in list(self._on_disconnect):
                callback()

    def _garbled(self, payload: bytes) -> None:
        for callback in list(self._on_garbled):
            callback(bytes(payload))

    def _deliver(self, record: bytes) -> None:
        uuid = CHANNEL_OF_TYPE.get(record[1]) if len(record) >= 2 else None
        if uuid is None:
            self.dropped += 1
            return
        if uuid == P.STATUS_UUID:
            self._status = record
            self._status_seen.set()
        callback = self._callbacks.get(uuid)
        if callback is not None:
            callback(record)


def _bound_writes(port: serial.SerialBase, timeout_s: float) -> None:
    """A write waits at most ``timeout_s``, then raises SerialTimeoutException.

    Set on the open port, not passed to ``serial_for_url``: pyserial's ``rfc2217://`` refuses
    a write timeout at open (NotImplementedError); there its socket's own timeout (5 s,
    a SerialException) bounds a write.
    """
    try:
        port.write_timeout = timeout_s
    except NotImplementedError:
        port.write_timeout = None


def _write_frame(port: serial.SerialBase, frame: bytes) -> None:
    """Write one frame within the port's write timeout; on timeout drop what is still queued.

    A command given up on must not reach the band later (a stale TIME_SYNC would set its
    clock wrong), and a port whose output is queued can take long to close (a tty waits
    for it to drain). The band's FrameDecoder skips the cut frame, if part of it went out.
    """
    try:
        port.write(frame)
    except serial.SerialTimeoutException:
        with contextlib.suppress(serial.SerialException, OSError):
            port.reset_output_buffer()
        raise


class _Port:
    """An open port and the worker threads reading and writing it, which its close wakes and waits for.

    pyserial blocks in threads, and its ``close()`` does not wait for them: a thread blocked
    in a posix read or write wakes (the close also closes the pipes it waits on) and goes on
    with the closed port (a TypeError on its fd, which ``write`` passed on), or with a
    descriptor number given since to another file, if it read ``fd`` just before. So
    ``stop()`` lets no new read or write start and wakes the ones under way (pyserial's
    ``cancel_read`` / ``cancel_write``: posix, Windows and ``loop://`` have them), and
    ``close()`` waits for them to return before it closes the port: promptly, and no thread
    touches it afterwards. A read or write that cannot be woken (``socket://``,
    ``rfc2217://``) is waited for up to ``wait_s``.
    """

    def __init__(self, port: serial.SerialBase) -> None:
        self.serial = port
        self._cond = threading.Condition()
        self._busy = 0  # reads and writes under way
        self._writing = 0
        self._flush = False  # a write was woken: what it queued is not to go out at the close
        self._closed = False
        self.closing = False  # stop() was called: no new read or write

    @property
    def is_open(self) -> bool:
        return not self.closing and bool(self.serial.is_open)

    @contextlib.contextmanager
    def _use(self, writing: bool = False) -> Iterator[serial.SerialBase]:
        with self._cond:
            if self.closing:
                raise serial.PortNotOpenError()
            self._busy += 1
            self._writing += writing
        try:
            yield self.serial
        finally:
            with self._cond:
                self._busy -= 1
                self._writing -= writing
                self._cond.notify_all()

    def read_some(self) -> bytes:
        with self._use() as port:
            return _read_some(port)

    def write_frame(self, frame: bytes) -> None:
        with self._use(writing=True) as port:
            _write_frame(port, frame)

    def stop(self) -> None:
        """No new read or write; wake those under way. Does not block (the event loop calls it)."""
        with self._cond:
            if self.closing:
                return
            self.closing = True
            self._flush = self._writing > 0
            if self._busy:
                for name in ("cancel_read", "cancel_write"):
                    # getattr: PosixPollSerial's cancel_read is a property that raises AttributeError
                    cancel = getattr(self.serial, name, None)
                    if cancel is not None:
                        with contextlib.suppress(serial.SerialException, OSError):
                            cancel()

    def close(self, wait_s: float) -> None:
        """``stop()``, wait up to ``wait_s`` for the reads and writes under way, close. Blocks: a worker thread."""
        self.stop()
        with self._cond:
            self._cond.wait_for(lambda: self._busy == 0, wait_s)
            if self._closed:
                return
            self._closed = True
        if self._flush:  # a tty's close waits for its output to drain (Linux: up to 30 s)
            with contextlib.suppress(serial.SerialException, OSError):
                self.serial.reset_output_buffer()
        _close_quietly(self.serial)


class _Opening:
    """A port being opened in a worker thread, which the caller may give up on.

    ``run`` (in the worker) opens the port; ``take`` (the caller, once it stops waiting)
    claims it. A port nobody claims is closed: by ``run`` when the caller gave up first, by
    ``give_up`` when the worker had already finished.
    """

    def __init__(self, open_port: Callable[[], serial.SerialBase]) -> None:
        self._open_port = open_port
        self._lock = threading.Lock()
        self._port: serial.SerialBase | None = None
        self._wanted = True

    def run(self) -> None:
        port = self._open_port()
        with self._lock:
            if self._wanted:
                self._port = port
                return
        _close_quietly(port)

    def take(self) -> serial.SerialBase | None:
        """The port ``run`` opened, now the caller's; None if ``give_up`` closed it."""
        with self._lock:
            port, self._port = self._port, None
            return port

    def give_up(self) -> None:
        with self._lock:
            self._wanted = False
            port, self._port = self._port, None
        if port is not None:
            _close_quietly(port)


def _close_quietly(port: serial.SerialBase) -> None:
    with contextlib.suppress(serial.SerialException, OSError):
        port.close()


def _read_some(port: serial.SerialBase) -> bytes:
    """Block up to the port's timeout (``SerialLink.poll_s``) for at least one byte, then take whatever else is waiting."""
    data = bytes(port.read(1))
    waiting = port.in_waiting if data else 0
    return data + bytes(port.read(waiting)) if waiting else data

