"""daemon/notify.py: systemd's notify protocol over a real AF_UNIX datagram socket, and the
watchdog that pings only while the daemon's work progresses (an injected clock and counter)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from spasmwatch.daemon.notify import Notifier, Starting, StatusNotes, Watchdog, keep_alive, watchdog_interval_s


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A socket bound where systemd's would be, and the address to give in NOTIFY_SOCKET."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    s.bind(str(path))
    s.settimeout(2.0)
    yield s, str(path)
    s.close()


def received(s: socket.socket) -> list[str]:
    out = []
    s.setblocking(False)
    try:
        while True:
            out.append(s.recv(4096).decode())
    except BlockingIOError:
        return out
    finally:
        s.settimeout(2.0)


def test_messages_reach_a_path_socket_and_an_abstract_one(listener: tuple[socket.socket, str]) -> None:
    s, path = listener
    env = {"NOTIFY_SOCKET": path, "OTHER": "x"}
    n = Notifier.from_env(env)
    assert n is not None and env == {"OTHER": "x"}, "NOTIFY_SOCKET is taken out: children must not inherit it"
    assert n.send("READY=1\nSTATUS=up")
    assert s.recv(4096) == b"READY=1\nSTATUS=up"

    name = f"spasmwatch-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as abstract:
        abstract.bind("\0" + name)
        abstract.settimeout(2.0)
        a = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert a is not None and a.send("WATCHDOG=1")
        assert abstract.recv(4096) == b"WATCHDOG=1"


def test_without_notify_socket_nothing_is_sent_and_a_gone_manager_is_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert Notifier.from_env({}) is None
    assert Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"}) is None  # a VM's manager: not supported, logged
    gone = Notifier(str(tmp_path / "nobody-listens"))
    assert gone.send("READY=1") is False and gone.send("WATCHDOG=1") is False
    assert sum("cannot notify the service manager" in r.message for r in caplog.records) == 1, "logged once, not per ping"


@pytest.mark.parametrize(
    ("env", "interval_s"),
    [
        ({"WATCHDOG_USEC": "2000000"}, 1.0),  # half of WatchdogSec, as sd_watchdog_enabled(3) advises
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),  # our pid
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "2s"}, None),
        ({"WATCHDOG_PID": "4242"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_follows_sd_watchdog_enabled(env: dict[str, str], interval_s: float | None) -> None:
    got = dict(env)
    assert watchdog_interval_s(got, pid=4242) == interval_s
    assert "WATCHDOG_USEC" not in got and "WATCHDOG_PID" not in got


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_watchdog_is_alive_only_while_the_work_progresses() -> None:
    clock, ticks = Clock(), [0]
    w = Watchdog(lambda: ticks[0], late_s=10.0, clock=clock)
    for _ in range(30):  # a tick a second: alive throughout
        clock.t += 1.0
        ticks[0] += 1
        assert w.alive()
    clock.t += 10.0  # the ticker stops: alive up to late_s after its last tick ...
    assert w.alive()
    clock.t += 0.5
    assert not w.alive() and w.stalled_for_s() == 10.5  # ... and not after
    clock.t += 600.0
    assert not w.alive(), "time alone never revives it"
    ticks[0] += 1  # the work progresses again
    assert w.alive()


def test_keep_alive_stops_pinging_when_the_count_stops_and_resumes_with_it(listener: tuple[socket.socket, str]) -> None:
    """Real time and a real socket: pings every 0.05 s while the counter rises; 0.3 s after it
    stops rising they stop (while the loop and the timer run on), and come back with it."""
    s, path = listener
    ticks = [0]

    async def main() -> tuple[list[str], list[str], list[str]]:
        task = asyncio.ensure_future(keep_alive(Notifier(path), Watchdog(lambda: ticks[0], late_s=0.3), 0.05))
        for _ in range(10):  # progressing
            ticks[0] += 1
            await asyncio.sleep(0.05)
        progressing = received(s)
        await asyncio.sleep(0.5)  # stalled past late_s
        received(s)
        await asyncio.sleep(0.5)
        stalled = received(s)
        ticks[0] += 1
        await asyncio.sleep(0.2)
        resumed = received(s)
        task.cancel()
        return progressing, stalled, resumed

    progressing, stalled, resumed = asyncio.run(main())
    assert len(progressing) >= 6 and set(progressing) == {"WATCHDOG=1"}, progressing
    assert stalled == [], "a stalled daemon must not ping"
    assert len(resumed) >= 2, resumed


def test_status_is_sent_on_change_only(listener: tuple[socket.socket, str]) -> None:
    s, path = listener
    notes = StatusNotes(Notifier(path))
    for text in ("[crib] not connected", "[crib] not connected", "[crib] connected\nbattery 80%", "[crib] connected battery 80%"):
        notes(text)
    assert received(s) == ["STATUS=[crib] not connected", "STATUS=[crib] connected battery 80%"]
    StatusNotes(None)("no manager: nothing, no error")


def test_a_long_start_extends_the_timeout_at_each_new_step_and_at_most_every_interval_while_it_advances(
    listener: tuple[socket.socket, str],
) -> None:
    """Start review h48 (docs/host.md "Running as a service"): EXTEND_TIMEOUT_USEC= with STATUS= only when
    told the work advances: at once for a new step, then at most every ``every_s``; time alone sends
    nothing (no timer), so a stuck copy is not extended for ever."""
    s, path = listener
    clock = Clock()
    start = Starting(Notifier(path), extend_s=60.0, every_s=5.0, clock=clock)
    start("copying", "Copying: 4 of 812\nMB")
    for _ in range(9):  # told each 0.5 s: sent once more, 5 s on
        clock.t += 0.5
        start("copying", f"Copying: {clock.t:.1f}")
    clock.t += 0.5
    start("copying", "Copying: 10 s")
    start("migrating", "Upgrading: step 1 of 3")  # a new step: at once
    clock.t += 600.0  # a stall: nothing told, nothing sent
    assert received(s) == [
        "EXTEND_TIMEOUT_USEC=60000000\nSTATUS=Copying: 4 of 812 MB",
        "EXTEND_TIMEOUT_USEC=60000000\nSTATUS=Copying: 10 s",
        "EXTEND_TIMEOUT_USEC=60000000\nSTATUS=Upgrading: step 1 of 3",
    ]
    with pytest.raises(ValueError, match="every_s \\(60 s\\) must be shorter than extend_s \\(60 s\\)"):
        Starting(Notifier(path), extend_s=60.0, every_s=60.0)
