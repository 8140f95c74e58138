"""``spasmwatch run`` in a process of its own, as a family's shell or systemd starts it: a config
with one simulated band, the page's ``/api/status``, systemd's notify socket (READY=1)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from servers import free_port
from synthetic import spasm_record

from spasmwatch.store import KnownStores, Store
from spasmwatch.store.known import RECORD_NAME

UP_S = 30.0  # the daemon answers (READY) within a second here; room for a loaded machine


def one_band_config(path: Path, data: Path, port: int, http: str = "") -> Path:
    """A config at ``path``: its store in ``data``, its page on ``port`` (``http``: more of
    [daemon.http]), sound and desktop off (no player, no screen here), one simulated band that no
    band answers for (away)."""
    path.write_text(
        f'[daemon]\ndata_dir = "{data}"\n\n[daemon.http]\n{http}port = {port}\n\n[channels.sound]\nenabled = false\n\n'
        f'[channels.desktop]\nenabled = false\n\n[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n'
    )
    return path


def waiting_for_fifo(pid: int) -> bool:
    """Whether a thread of process ``pid`` waits in the open of a FIFO for the other end (its wchan):
    a call hung as on a stalled disk, whose open or write never returns either."""
    return any((task / "wchan").read_text() == "wait_for_partner" for task in Path(f"/proc/{pid}/task").iterdir())


def unprivileged(cmd: list[str]) -> list[str]:
    """``cmd`` as a user without root's pass through file modes (nobody, when the tests run as root)."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]


def api_status(port: int) -> dict[str, Any] | None:
    """The page's /api/status on loopback; None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
            answer: dict[str, Any] = json.load(r)
            return answer
    except OSError:
        return None


def status_once_up(proc: subprocess.Popen[str], port: int) -> dict[str, Any]:
    """The page's status once the daemon ``proc`` (stderr piped) answers; a daemon that ends, or
    does not answer within UP_S (then stopped: no hung test), fails the test with its log."""
    end, status = time.monotonic() + UP_S, None
    while status is None and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.1)
        status = api_status(port)
    if status is None:
        proc.kill()
        raise AssertionError(f"the daemon did not come up (exit {proc.poll()}):\n{proc.communicate(timeout=UP_S)[1]}")
    return status


def stopped(proc: subprocess.Popen[str]) -> str:
    """Stop the daemon ``proc`` (stderr piped) as systemd does (SIGTERM) and return its log, once it
    has ended (within UP_S); the caller asserts how it ended (``proc.returncode``)."""
    proc.send_signal(signal.SIGTERM)
    return proc.communicate(timeout=UP_S)[1]


def notify_socket(tmp_path: Path) -> tuple[socket.socket, dict[str, str]]:
    """systemd's notify socket, played by a datagram socket, and the environment naming it."""
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(UP_S)
    return notify, dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify"))


def wait_ready(notify: socket.socket) -> None:
    """Until the daemon says READY=1 (a timeout fails the test: never ready)."""
    said: list[str] = []
    while not any("READY=1" in m for m in said):
        said.append(notify.recv(4096).decode())


@contextmanager
def logged(cmd: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The daemon ``cmd`` started, its stdout and stderr to ``log``; killed at the end if it has not
    ended by then (a failed test leaves no daemon behind)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(UP_S)


def wait_while_up(proc: subprocess.Popen[bytes], log: Path, end: float, done: Callable[[], bool]) -> None:
    """Until ``done()``; the daemon ``proc`` ending first, or monotonic time ``end`` passing (a hang
    guard, not a latency bound), fails the test with its ``log``."""
    while not done():
        assert proc.poll() is None and time.monotonic() < end, log.read_text()
        time.sleep(0.1)


def ended_after_sigterm(proc: subprocess.Popen[bytes], log: Path, stop_s: float) -> int:
    """Stop the daemon ``proc`` (SIGTERM, as systemd does) and return its exit code; not ended
    within ``stop_s`` fails the test with its ``log`` (``logged`` then kills it)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(stop_s)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"not ended {stop_s:g} s after SIGTERM:\n{log.read_text()}") from None


HUNG_DEVICE = "hung0001"
STALL = "stalled-disk"  # the FIFO in the data folder a hung store write opens, as a stalled disk's never returns


def hung_write_script(on_usr1: str, *, prelude: str = "", lines: str = "") -> str:
    """A ``python -c`` script running 'spasmwatch run --config ARGV1' that, at SIGUSR1, calls
    ``on_usr1`` (an expression of ``hang`` and ``store``): ``hang(store)`` commits seq 5 of
    HUNG_DEVICE, then writes seq 6 in a transaction that hangs before its commit (opening STALL),
    holding the store's lock. ``prelude``: imports; ``lines``: more set-up before the run."""
    return f"""
import signal, sys
from spasmwatch import cli
from spasmwatch.daemon import main
{prelude}
def hang(store):
    store.add_events({HUNG_DEVICE!r}, [{spasm_record(5, 26000)!r}], 1.0)
    with store.transaction():
        store.add_events({HUNG_DEVICE!r}, [{spasm_record(6, 31000)!r}], 1.0)
        open(store.path.parent / {STALL!r}, "rb")

built = main.build
def build(cfg, store, *args, **kwargs):
    signal.signal(signal.SIGUSR1, lambda *_: {on_usr1})
    return built(cfg, store, *args, **kwargs)
main.build = build
{lines}
sys.exit(cli.main(["run", "--config", sys.argv[1]]))
"""


def stopped_while_hung(tmp_path: Path, script: str, stop_s: float) -> tuple[int, str, Path]:
    """Run ``script`` (``hung_write_script``) on a store holding seqs 0-4 of HUNG_DEVICE; once the
    daemon is up, SIGUSR1 (the write hangs), then SIGTERM: (its exit code, its log, the store)."""
    data = tmp_path / "data"
    db = data / "spasmwatch.db"
    record = Path(os.environ["XDG_STATE_HOME"]) / "spasmwatch" / RECORD_NAME  # the test's own (tests/conftest.py)
    with Store(db, known=KnownStores(record)) as store:
        store.add_events(HUNG_DEVICE, [spasm_record(seq, 1000 + 5000 * seq) for seq in range(5)], time.time())
    os.mkfifo(data / STALL)
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", data, port)
    log = tmp_path / "daemon.log"
    with logged([sys.executable, "-c", script, str(config)], log) as proc:
        end = time.monotonic() + UP_S
        wait_while_up(proc, log, end, lambda: "spasmwatch daemon up" in log.read_text())
        # The page answering a request asked after that: the loop has run its first tick, whose store
        # write (the time zone's row) would wait behind the hung call, the loop with it (a stop then
        # ends at the deadline: test_stop_while_loop_hangs), when SIGUSR1 came first (a loaded machine)
        wait_while_up(proc, log, end, lambda: api_status(port) is not None)
        proc.send_signal(signal.SIGUSR1)
        wait_while_up(proc, log, end, lambda: waiting_for_fifo(proc.pid))
        code = ended_after_sigterm(proc, log, stop_s)
    return code, log.read_text(), db
