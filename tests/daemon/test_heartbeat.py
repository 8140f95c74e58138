"""[daemon.heartbeat]: the daemon's dead man's switch (daemon/heartbeat.py, docs/alerts.md).

A real Daemon in-process with its clock moved by hand (wall and mono), its real ticker running
(``TICK_S`` shortened), the store SQLite on disk, and the service a real HTTP server on 127.0.0.1
(tests/servers.py). Pings come every ``every_s`` of the daemon's clock while it is healthy, with a
band away too; none while the ticker is dead or every tick fails, or while the store refuses
writes; a service that is down is logged once, and pings go on and get through once it is back.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from servers import http_recorder
from spasmwatch.config import load_config
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.heartbeat import HeartbeatSettings
from spasmwatch.daemon.main import serve
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.simband import free_port
from synthetic import HandClock, event_feed, fill_store, streaming

T0 = 1_800_000_000.0
DEVICE = "hb0001"
SECRET = "/ping/5f1c0a8e-2b7d-4c1e-9a3f-0d6e8b2c4a71"  # what a healthchecks.io URL keeps secret
EVERY_S = 60.0
WAIT_S = 10.0  # real seconds a condition may take under load


@pytest.fixture(autouse=True)
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(K, "TICK_S", 0.01)  # the ticker's period in real time; the daemon's clock is the HandClock


async def until(ok: Callable[[], object], what: str) -> None:
    end = time.monotonic() + WAIT_S
    while not ok():
        assert time.monotonic() < end, f"{what}: not within {WAIT_S:g} s"
        await asyncio.sleep(0.01)


async def settle(d: Daemon) -> None:
    """Two more ticks have completed (a ping due was begun), and no ping is in flight."""
    n = d.ticks
    await until(lambda: d.ticks >= n + 2, "two ticks")
    hb = d.heartbeat
    assert hb is not None
    await until(lambda: hb._task is None or hb._task.done(), "the ping's answer")


async def walk(d: Daemon, clock: HandClock, to_t: float, step_s: float = 10.0, each: Callable[[], object] = lambda: None) -> list[float]:
    """Move the clock to ``to_t`` in steps, the ticker running at each (and ``each`` called, e.g. a
    band's record arriving); the clock times at which a ping was begun."""
    hb = d.heartbeat
    assert hb is not None
    began: list[float] = []
    while clock.t < to_t:
        clock.t += step_s
        each()
        n = hb.pings
        await settle(d)
        began += [clock.t] * (hb.pings - n)
    return began


def nowhere() -> Any:
    """A band that is away: the simulated radio with nothing listening on its port."""
    address = f"127.0.0.1:{free_port()}"
    return lambda: open_link("sim", address)


@asynccontextmanager
async def running(store: Store, clock: HandClock, url: str, bands: list[BandSpec] | None = None, **kw: Any) -> AsyncIterator[Daemon]:
    before_start: Callable[[Daemon], object] = kw.pop("before_start", lambda d: None)
    d = Daemon(store, bands or [], clock=clock, heartbeat=HeartbeatSettings(url, EVERY_S, kw.pop("timeout_s", 2.0)), **kw)  # type: ignore[arg-type]
    before_start(d)
    await d.start()
    try:
        await settle(d)  # the first ping, at the first tick: at T0
        yield d
    finally:
        await d.stop()


def run(main: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(main(), 60))


def test_pings_come_every_every_s_while_healthy_and_go_on_while_a_band_is_away(tmp_path: Path) -> None:
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:

        async def main() -> tuple[list[float], list[Any], Any, list[str]]:
            async with http_recorder() as srv, running(store, clock, srv.url + SECRET, [BandSpec("crib", nowhere())]) as d:
                began = [T0] * len(srv.seen) + await walk(d, clock, T0 + 300)
                await settle(d)
                return began, list(srv.seen), d.status()["heartbeat"], d.status()["bands"][0]["faults"]

        began, seen, status, faults = run(main)
    assert "disconnected" in faults  # the band is away (alarmed by the daemon itself), and the pings went on
    assert [t - T0 for t in began] == [0, 60, 120, 180, 240, 300]
    assert len(seen) == 6 and {(s.method, s.path) for s in seen} == {("GET", SECRET)}
    assert seen[0].headers["User-Agent"].startswith("spasmwatch/")
    assert status == {"host": srv_host(status), "every_s": 60.0, "last_ok": T0 + 300, "failing_since": None, "error": None, "paused": None,
                      "paused_msg": None}  # fmt: skip


def srv_host(status: dict[str, Any]) -> str:
    assert status["host"].startswith("127.0.0.1:") and "/" not in status["host"]
    return str(status["host"])


@pytest.mark.parametrize("how", ["dead", "failing"])
def test_no_ping_while_the_ticker_is_dead_or_every_tick_fails(tmp_path: Path, how: str) -> None:
    """What the systemd watchdog watches: a daemon whose ticker died or whose every tick fails
    (no escalation, no STALE or disconnected alarm) must look dead to the service too."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:

        async def main() -> tuple[list[float], list[float], int]:
            async with http_recorder() as srv, running(store, clock, srv.url + SECRET) as d:
                await settle(d)
                if how == "dead":
                    (ticker,) = [t for t in asyncio.all_tasks() if t.get_name() == "ticker"]
                    ticker.cancel()
                else:

                    def broken() -> None:
                        raise RuntimeError("every tick fails")

                    d._tick = broken  # type: ignore[method-assign]
                n = len(srv.seen)
                for _ in range(30):  # 300 s of the daemon's clock, with real time for ticks to run
                    clock.t += 10
                    await asyncio.sleep(0.03)
                stalled = [T0] * (len(srv.seen) - n)
                if how == "dead":
                    return stalled, [], n
                del d._tick  # the ticks complete again: the pings come back at once (one was due)
                n = len(srv.seen)
                resumed = await walk(d, clock, clock.t + 130)
                return stalled, resumed, n

        stalled, resumed, before = run(main)
    assert before == 1 and stalled == []
    if how == "failing":
        assert [t - T0 for t in resumed] == [310, 370, 430]


def test_no_ping_while_the_store_refuses_writes_and_pings_again_once_it_takes_them(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A daemon whose store refuses writes (a full disk) would lose events: the service is told
    nothing, so it says the monitor is down. Pings come again once the store has taken writes for
    STORAGE_OK_S (as the family's 'storage failing' notice clears)."""
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:

        async def main() -> tuple[list[float], list[float], Any]:
            async with http_recorder() as srv:
                # The band's session never runs here (its records are handed over as it would);
                # the daemon's own ticker does, as start() runs it.
                d = Daemon(store, [BandSpec("crib", nowhere())], clock=clock, heartbeat=HeartbeatSettings(srv.url + SECRET, EVERY_S, 2.0))  # type: ignore[arg-type]
                d._tasks.append(asyncio.create_task(d._ticker(), name="ticker"))
                try:
                    streaming(d, DEVICE, T0)
                    await settle(d)
                    assert len(srv.seen) == 1
                    conn = fill_store(store)  # the disk fills up
                    arrives = event_feed(d, DEVICE, clock)  # the band's next event, as its session hands it over
                    for _ in range(200):  # more than the room left in the store's pages
                        arrives()
                    assert "storage_failing" in d.status()["bands"][0]["faults"]
                    held = await walk(d, clock, T0 + 300, each=arrives)  # refused, one every 10 s
                    paused = d.status()["heartbeat"]
                    conn.execute("PRAGMA max_page_count = 1073741823")  # space again
                    clock.t += K.STORAGE_OK_S  # the latest refusal is at least this old
                    arrives()  # taken: the store is trusted again
                    again = await walk(d, clock, clock.t + 70)
                    return held, again, paused
                finally:
                    await d.stop()

        with caplog.at_level(logging.INFO, logger="spasmwatch"):
            held, again, paused = run(main)
    assert held == []
    assert paused["paused"] == f"the store refuses writes ({DEVICE}): events would be lost"
    # The same as a page word, for the page in the family's language (docs/web.md "Texts the daemon words").
    assert paused["paused_msg"] == {"key": "store_refuses", "args": {"bands": DEVICE}}, paused
    assert [t - T0 - 300 - K.STORAGE_OK_S for t in again] == [10.0, 70.0]  # the first tick after the clear, then every 60 s
    lines = [r.getMessage() for r in caplog.records if r.name == "spasmwatch.daemon.heartbeat"]
    assert sum("paused: the store refuses writes" in m for m in lines) == 1 and sum("resumed" in m for m in lines) == 1


def test_a_service_that_is_down_is_logged_once_and_pings_get_through_when_it_is_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = HandClock(T0)
    port = free_port()
    url = f"http://127.0.0.1:{port}{SECRET}"
    with Store(tmp_path / "db.sqlite") as store:

        async def main() -> tuple[Any, Any, Any, int, list[Any]]:
            heard: list[asyncio.Queue[Any]] = []  # what the page hears (a daemon with no band: only the heartbeat's)
            async with running(store, clock, url, before_start=lambda d: heard.append(d.subscribe())) as d:
                hb, updates = d.heartbeat, heard[0]
                assert hb is not None
                down = await walk(d, clock, T0 + 180)  # nothing listens: 4 pings refused
                assert len(down) == 3 and hb.pings == 4
                refused = d.status()["heartbeat"]
                async with http_recorder(statuses=[404], port=port) as srv:
                    await walk(d, clock, T0 + 240)  # back, but says the check is unknown: still failing
                    not_found = d.status()["heartbeat"]
                    await walk(d, clock, T0 + 300)  # takes it
                    return refused, not_found, d.status()["heartbeat"], len(srv.seen), [updates.get_nowait() for _ in range(updates.qsize())]

        with caplog.at_level(logging.DEBUG, logger="spasmwatch"):
            refused, not_found, ok, taken, updates = run(main)
    host = f"127.0.0.1:{port}"
    assert refused["failing_since"] == T0 and refused["error"].startswith("cannot connect: ") and refused["last_ok"] is None
    assert not_found["failing_since"] == T0 and not_found["error"] == "HTTP 404 Not Found"
    assert ok["error"] is None and ok["failing_since"] is None and ok["last_ok"] == T0 + 300 and taken == 2
    assert updates == [{"type": "status"}] * 2  # failing, and through again (the page's banner); none per failed ping
    warned = [r.getMessage() for r in caplog.records if r.name == "spasmwatch.daemon.heartbeat" and r.levelno >= logging.WARNING]
    assert warned == [
        f"heartbeat to {host} failed: {refused['error']}; tried again every 60 s (logged again when it gets through)",
        f"heartbeat reaches {host} again",
    ]
    assert not [r for r in caplog.records if "5f1c0a8e" in r.getMessage()], "the URL's secret path is never logged"


def test_a_service_that_never_answers_fails_the_ping_at_its_timeout_and_never_holds_the_ticker(tmp_path: Path) -> None:
    clock = HandClock(T0)
    with Store(tmp_path / "db.sqlite") as store:

        async def main() -> tuple[int, Any]:
            async with http_recorder(delay_s=2) as srv, running(store, clock, srv.url + SECRET, timeout_s=0.5) as d:
                await until(lambda: len(srv.seen) == 1, "the first ping")
                n = d.ticks
                await asyncio.sleep(0.2)  # the ping hangs: ticks go on meanwhile
                ticked = d.ticks - n
                await settle(d)
                return ticked, d.status()["heartbeat"]

        ticked, status = run(main)
    assert ticked >= 5, f"only {ticked} ticks while the ping hung"
    # Failed at its 0.5 s timeout: the service answers after 2 s, and an answer would have cleared the error.
    assert status["error"] == "no answer within 0.5 s" and status["failing_since"] == T0


def test_status_says_the_heartbeat_in_words(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from spasmwatch.commands import status

    hb = {"host": "hc-ping.com", "every_s": 60.0, "last_ok": None, "failing_since": None, "error": None, "paused": None}
    cases: list[tuple[Any, str]] = [
        (None, "heartbeat: off (nobody is told if this computer goes off: [daemon.heartbeat] url, docs/alerts.md)"),
        ({**hb, "last_ok": T0}, "heartbeat to hc-ping.com every 60 s: last ping taken "),
        ({**hb, "failing_since": T0, "error": "HTTP 404 Not Found"}, "HEARTBEAT FAILING to hc-ping.com since "),
        ({**hb, "paused": "the store refuses writes (x)"}, "HEARTBEAT HELD BACK to hc-ping.com: the store refuses writes (x)"),
    ]
    for st, words in cases:
        monkeypatch.setattr(status, "api", lambda cfg, path, st=st: {"now": T0, "bands": [], "alerts": [], "heartbeat": st})
        assert status.run(argparse.Namespace(config=None, json=False, qr=False)) == 0
        assert words in capsys.readouterr().out


def test_spasmwatch_run_pings_the_configured_url_and_status_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From config.toml to the ping and back to 'spasmwatch status': the daemon 'spasmwatch run'
    serves (its real clock), a band that is away, a real HTTP server for the service."""
    monkeypatch.setenv("SPASMWATCH_DATA_DIR", str(tmp_path / "data"))
    port = free_port()

    async def main() -> tuple[int, subprocess.CompletedProcess[str]]:
        async with http_recorder() as srv:
            config = tmp_path / "config.toml"
            config.write_text(
                f'[daemon.http]\nport = {port}\n\n[daemon.heartbeat]\nurl = "{srv.url}{SECRET}"\n\n'
                f'[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n\n'
                "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n"
            )

            async def scenario() -> subprocess.CompletedProcess[str]:
                await until(lambda: srv.seen, "the first ping")
                cmd = [sys.executable, "-m", "spasmwatch", "status", "--config", str(config)]
                return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ))

            seen: dict[str, subprocess.CompletedProcess[str]] = {}

            async def until_done() -> None:
                seen["status"] = await scenario()

            await serve(load_config(config), until=until_done)
            return len(srv.seen), seen["status"]

    pings, status = run(main)
    assert pings == 1  # at the first tick; the next one is due 60 s later
    assert status.returncode == 0, status.stderr
    assert "heartbeat to 127.0.0.1:" in status.stdout and " every 60 s: last ping taken " in status.stdout, status.stdout
    assert "5f1c0a8e" not in status.stdout
