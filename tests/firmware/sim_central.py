"""Test helpers: launch the band firmware under the real ``micropython`` and act as its BLE central.

``Band`` runs ``firmware/sim/run.py`` in a subprocess (simulated IMU, flash,
battery and radio; everything else is the firmware as flashed): the host's
SimBand, called the tests' way. ``Central`` speaks the simulated radio's
socket protocol (docs/firmware.md) the way a phone or the host daemon would
speak GATT: connect, MTU, read, write, pair, re-encrypt with a bond, collect
notifications.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from spasmwatch import fwbuild
from spasmwatch.flashing.device import MPY_ARCHS
from spasmwatch.flashing.firmware import compile_all
from spasmwatch.transport.simband import EXIT_CRASH, EXIT_POWER_LOSS, EXIT_RESET, EXIT_WDT, SimBand  # noqa: F401  (EXIT_*: for the tests)
from swcore import protocol as P

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
MICROPYPATH = ".frozen:%s:%s" % (FIRMWARE, FIRMWARE / "sim")  # for tests that run their own scripts


def band_module(name: str) -> ModuleType:
    """``band.<name>`` imported on CPython, for its constants: only the band's modules that import
    nothing MicroPython-only (battery, config). The firmware is not on CPython's path (only swcore
    is installed), so it is appended here, after everything installed."""
    if str(FIRMWARE) not in sys.path:
        sys.path.append(str(FIRMWARE))
    return importlib.import_module(f"band.{name}")

ATT_OK = 0
CENTRAL_ADDR = bytes.fromhex("c0ffee000001")  # a central's address when a test names none
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_INSUFFICIENT_AUTHENTICATION = 0x05  # an encrypted-only access from a central the band has no bond with
ATT_INSUFFICIENT_ENCRYPTION = 0x0F  # ... from one it has a bond with (NimBLE: re-encrypt, not pair)


def flashed_firmware(micropython: str, dst: Path) -> Path:
    """A firmware tree as ``spasmwatch flash`` puts it on a band (band/ and swcore/ compiled to
    .mpy by the same code), plus sim/ as source: a board never compiles the firmware, so a
    memory-budget test must not count the compiler's heap (or its need for large free blocks)."""
    mpy = int(subprocess.run([micropython, "-c", "import sys; print(sys.implementation._mpy)"], capture_output=True, text=True, check=True).stdout)
    arch = MPY_ARCHS[mpy >> 10]
    assert arch is not None, "the unix port reports no native architecture"
    for image in compile_all(FIRMWARE, arch, fwbuild.build_id(fwbuild.files(FIRMWARE))):
        out = dst / image.path.lstrip("/")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(image.data)
    shutil.copytree(FIRMWARE / "sim", dst / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    assert not list(dst.glob("band/*.py")) and not list(dst.glob("swcore/*.py")), "the band's modules must load from .mpy"
    return dst


# MicroPython for a test's own script, after its ``app = App(hardware)``: ``on_event(said)`` calls
# ``said`` with each event the band's log takes, ``on_raw(said)`` turns RAW streaming on (19 samples
# a RAW) and calls ``said`` with each RAW the band makes, taken at once (no link to send it on);
# both decoded (swcore.protocol).
APP_HOOKS = """
from swcore import protocol as P
def on_event(said):
    append = app.log.append
    def log_append(buf):
        said(P.decode(bytes(buf)))
        append(buf)
    app.log.append = log_append
def on_raw(said):
    app.raw_on = True
    app._raw_cap = 19
    commit = app._raw_commit
    def raw_commit(last_k):
        i = app._raw_i
        commit(last_k)
        said(P.decode(bytes(app._rawb[i])[:app._rawlen[i]]))
        app._raw_ready = 0  # as if sent at once
    app._raw_commit = raw_commit
"""


def run_mp(
    micropython: str | Sequence[str], script: Path, source: str, *args: str, timeout_s: float = 120.0, stall_s: float | None = None,
    path: str = MICROPYPATH,
) -> str:
    """Write ``source`` to ``script``, run it under ``micropython`` (the binary, or a command line
    such as tools/mpwasm's) with the band's modules on its path, assert it exited cleanly and
    return its stdout. ``stall_s``: instead of ``timeout_s`` for the whole run, the most real s
    between two lines it prints, for a long script that says its progress: it gets its time however
    loaded the machine is (a power-cut campaign of 3 s of CPU took 95 s of its 120 at load 16).
    ``path``: MICROPYPATH, the firmware's source tree unless given (e.g. a flashed tree's)."""
    script.write_text(source)
    env = dict(os.environ, MICROPYPATH=path)
    cmd = [micropython] if isinstance(micropython, str) else list(micropython)
    if stall_s is None:
        out = subprocess.run([*cmd, str(script), *args], capture_output=True, text=True, env=env, timeout=timeout_s)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout
    return _run_progressing([*cmd, str(script), *args], env, stall_s)


def _run_progressing(cmd: list[str], env: dict[str, str], stall_s: float) -> str:
    """run_mp with ``stall_s``: the process killed only once it printed no line for ``stall_s``."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    said: list[str] = []
    try:
        while (line := lines.get(timeout=stall_s)) is not None:
            said.append(line)
    except queue.Empty:
        proc.kill()
        raise AssertionError("no progress in %s s; it said:\n%s" % (stall_s, "".join(said[-5:]))) from None
    finally:
        _, err = proc.communicate()
    assert proc.returncode == 0, "".join(said) + err
    return "".join(said)


def write_csv(path: Path, t: Any, acc: Any, gyro: Any) -> Path:
    with open(path, "w") as f:
        f.write("t,ax,ay,az,gx,gy,gz\n")
        for i in range(len(t)):
            a = acc[i]
            g = gyro[i]
            f.write("%.4f,%.5f,%.5f,%.5f,%.3f,%.3f,%.3f\n" % (t[i], a[0], a[1], a[2], g[0], g[1], g[2]))
    return path


class Band(SimBand):
    """One boot of the simulated band: spasmwatch.transport.simband.SimBand with the tests' call
    shape, ``Band(micropython, csv, flash, [run.py options])``, and ``end()``."""

    def __init__(
        self,
        micropython: str,
        csv: Path,
        flash: Path,
        args: Sequence[str] = (),
        timeout_s: float = 90,
        heap: str | None = None,
        firmware: Path | None = None,
    ):
        super().__init__(csv, flash, args=args, timeout_s=timeout_s, heap=heap, micropython=micropython, firmware=firmware)

    def end(self) -> dict[str, Any]:
        self.wait()
        r = self.report("end")
        if r is None or r["why"] == "timeout":  # a test's band stops by itself well before its deadline
            raise AssertionError("no end report, or a band stuck until its deadline:\n%s%s" % ("".join(self.lines), self.stderr()))
        return r


class Central:
    """A BLE central on the simulated radio's socket."""

    def __init__(self, port: int, addr: bytes = CENTRAL_ADDR, timeout_s: float = 10):
        self.timeout_s = timeout_s
        end = time.monotonic() + timeout_s
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.02)
        self.addr = addr
        self._responses: queue.Queue[tuple[int, bytes]] = queue.Queue()
        self.notifications: list[tuple[int, bytes]] = []
        self._cond = threading.Condition()
        self.closed = False
        threading.Thread(target=self._reader, daemon=True).start()
        op, body = self._request(0x01, bytes((0,)) + addr, 0x81)
        self.info = json.loads(body)
        self.handles: dict[str, int] = {}
        self.flags: dict[str, int] = {}
        for svc in self.info["services"]:
            for c in svc["chars"]:
                self.handles[c["uuid"]] = c["handle"]
                self.flags[c["uuid"]] = c["flags"]
        self.mtu = 23
        self.bonded = False

    def _reader(self) -> None:
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 2:
                    (n,) = struct.unpack_from("<H", buf)
                    if len(buf) < 2 + n:
                        break
                    op, body = buf[2], buf[3 : 2 + n]
                    buf = buf[2 + n :]
                    if op == 0x90:
                        (h,) = struct.unpack_from("<H", body)
                        with self._cond:
                            self.notifications.append((h, bytes(body[2:])))
                            self._cond.notify_all()
                    else:
                        self._responses.put((op, bytes(body)))
        except OSError:
            pass
        self.sock.close()  # the band hung up (or close() ran): nothing more to read
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        self._responses.put((-1, b""))

    def _send(self, op: int, body: bytes) -> None:
        self.sock.sendall(struct.pack("<HB", len(body) + 1, op) + body)

    def _request(self, op: int, body: bytes, want: int) -> tuple[int, bytes]:
        self._send(op, body)
        got, rbody = self._responses.get(timeout=self.timeout_s)
        if got == 0x8F:
            raise ConnectionRefusedError(rbody.decode())
        if got != want:
            raise AssertionError("expected response 0x%02x, got 0x%02x %r" % (want, got, rbody))
        return got, rbody

    # --- GATT ----------------------------------------------------------------------------

    def exchange_mtu(self, mtu: int = 247) -> int:
        _, body = self._request(0x02, struct.pack("<H", mtu), 0x82)
        (self.mtu,) = struct.unpack("<H", body)
        return self.mtu

    def read(self, uuid: str) -> tuple[int, bytes]:
        h = self.handles[uuid]
        _, body = self._request(0x03, struct.pack("<H", h), 0x83)
        return body[2], body[3:]

    def write(self, uuid: str, data: bytes) -> int:
        h = self.handles[uuid]
        _, body = self._request(0x04, struct.pack("<H", h) + data, 0x84)
        return body[2]

    def pair(self, bond: bool = True) -> bytes:
        _, body = self._request(0x05, bytes((1 if bond else 0,)), 0x85)
        assert body[0] == 1, "pairing failed: %r" % body
        self.bonded = bool(body[2])  # the band's stack bonded (its pairing window was open)
        return body[4:20]

    def encrypt(self, ltk: bytes) -> bool:
        _, body = self._request(0x06, ltk, 0x85)
        self.bonded = bool(body[2])
        return body[0] == 1

    def close(self) -> None:
        try:
            self._send(0x07, b"")
        except OSError:
            pass
        self.sock.close()

    # --- notifications -----------------------------------------------------------------------

    def records(self, uuid: str) -> list[dict[str, Any]]:
        h = self.handles[uuid]
        with self._cond:
            return [P.decode(v) for hh, v in self.notifications if hh == h]

    def wait_for(self, pred: Callable[[], bool], timeout_s: float = 30, what: str = "condition") -> None:
        end = time.monotonic() + timeout_s
        with self._cond:
            while not pred():
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting for %s" % what)
                if self.closed:
                    raise AssertionError("link closed while waiting for %s" % what)
                self._cond.wait(min(left, 0.2))

    def events(self) -> list[dict[str, Any]]:
        return [r for r in self.records(P.EVENTS_UUID) if r["type"] == "event"]

    def loginfos(self) -> list[dict[str, Any]]:
        """The LOGINFO records that answer a BACKFILL: not the marks the band sends before an
        epoch it held (LF_HELD), which come whenever an epoch waited, a backfill or not."""
        return [r for r in self.records(P.EVENTS_UUID) if r["type"] == "loginfo" and not r["flags"] & P.LF_HELD]

    def command(self, data: bytes, timeout_s: float = 10) -> dict[str, Any]:
        """Write a control command; return the band's RESP for it."""
        before = len(self.records(P.CONTROL_UUID))
        status = self.write(P.CONTROL_UUID, data)
        assert status == ATT_OK, "control write refused by the stack: ATT 0x%02x" % status
        self.wait_for(lambda: len(self._raw(P.CONTROL_UUID)) > before, timeout_s, "RESP")
        return self.records(P.CONTROL_UUID)[before]

    def _raw(self, uuid: str) -> list[bytes]:
        h = self.handles[uuid]
        return [v for hh, v in self.notifications if hh == h]

    def wait_closed(self, timeout_s: float = 30) -> None:
        self.wait_for(lambda: self.closed, timeout_s, "disconnect")


def secure_connect(
    port: int, ltk: bytes | None = None, mtu: int = 247, ready: bool = True, addr: bytes = CENTRAL_ADDR
) -> tuple[Central, bytes]:
    """Connect, exchange MTU and pair (or re-encrypt with a stored bond key); ``ready``: then
    write a first command (INFO), as a host does once subscribed: the band sends its events
    and epochs only from then on (one sent before the central subscribed would be dropped).
    ``addr``: the central's (a second host bonded to the same band has its own)."""
    c = Central(port, addr)
    c.exchange_mtu(mtu)
    key = ltk if ltk is not None and c.encrypt(ltk) else c.pair()
    if ready:
        assert c.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
    return c, key


def read_flash_log(folder: Path) -> dict[int, dict[str, Any]]:
    """The band's event log (its folder, e.g. flash / "events") decoded on the host, valid slots
    only: seq -> event (bench/faults.py's reader, CRC checked with the project's crc16)."""
    from synthetic import load_bench

    return {seq: e for (_, seq), e in load_bench("faults").read_flash_log(folder).items()}


# part -> (accel LSB per g, gyro LSB per deg/s, the driver's gyro multiplier >> 16), as emulated in sim/hw.py
PART_SCALES = {
    "mpu6886": (8192, 65.5, 10005),
    "lsm6ds3": (8192, 1000 / 17.5, 11469),
    "lsm6dsox": (8192, 1000 / 17.5, 11469),
    "icm42688": (8192, 65.5, 10005),
}


def expected_events(csv: Path, axis_map: dict[str, str], rate_hz: int, part: str = "mpu6886") -> list[tuple[int, int, int, int, int]]:
    """What the band must report for a recording: the same detector and cluster counter on the
    same integers, on CPython, called as ``band/app.py`` calls them.

    Mirrors the simulated sensor (body -> sensor counts, +-4 g, +-500 deg/s)
    and the firmware's driver (counts -> body mg / ddps), then runs
    swcore.detector.Detector and swcore.matcher.Matcher. The recording must be at the sensor's rate.
    Returns (onset_ms, duration_ms, peak_rate, peak_angle, confidence, kind) per event, in log
    order; kind is its EVENT.flags but EF_TIME_SYNCED (EF_MATCHED, EF_ALIKE).
    """
    acc_lsb, gyro_lsb, gmul = PART_SCALES[part]
    from swcore import protocol as P
    from swcore.consts import STRONG_CONFIDENCE
    from swcore.detector import Detector
    from swcore.matcher import Matcher

    inv = [("xyz".index(axis_map[b][1]), -1 if axis_map[b][0] == "-" else 1) for b in "xyz"]

    def clip(v: int) -> int:
        return max(-32768, min(32767, v))

    det = Detector(rate_hz, True)
    fe = det.fe
    mt = Matcher(rate_hz)
    out = []

    def matches(n: int) -> None:
        for m in range(n):
            onset = fe.i - mt.out_age[m]
            out.append((onset * 1000 // rate_hz, mt.out_dur[m] * 1000 // rate_hz, mt.out_rate[m], 0, mt.out_conf[m], P.EF_MATCHED))

    with open(csv) as f:
        f.readline()
        for line in f:
            v = [float(x) for x in line.split(",")]
            body = []
            for j, (src, sign) in enumerate(inv):
                raw = clip(round(sign * v[1 + j] * acc_lsb))
                body.append(((raw * 125) >> 10) * sign)
            for j, (src, sign) in enumerate(inv):
                raw = clip(round(sign * v[4 + j] * gyro_lsb))
                body.append(((raw * gmul) >> 16) * sign)
            if det.step(*body):
                n = kind = 0
                if det.ev_confidence >= STRONG_CONFIDENCE:
                    n = mt.spasm(fe.i - det.ev_onset_n, det.ev_duration_n)
                    kind = P.EF_ALIKE if mt.alike else 0
                out.append(
                    (
                        det.ev_onset_n * 1000 // rate_hz,
                        det.ev_duration_n * 1000 // rate_hz,
                        min(det.ev_peak_rate, 0xFFFF),
                        min(det.ev_peak_angle, 0xFFFF),
                        det.ev_confidence,
                        kind,
                    )
                )
                matches(n)
            if mt.step(fe.dx, fe.dy, fe.dz):
                matches(mt.examine())
    return out


def sim_board() -> dict[str, Any]:
    """firmware/sim/run.py SIM_BOARD, read from its source (run.py imports MicroPython's modules)."""
    tree = ast.parse((FIRMWARE / "sim" / "run.py").read_text())
    value = next(n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SIM_BOARD")
    board: dict[str, Any] = ast.literal_eval(value)
    return board


SIM_AXIS_MAP: dict[str, str] = sim_board()["imu"]["axis_map"]
