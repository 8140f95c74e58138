"""Run the daemon from a config until a signal: what ``spasmwatch run`` does."""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from spasmwatch.config import Band, Config
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.clock import Clock, SystemClock
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.http import HttpServer
from spasmwatch.daemon.reload import Reloader
from spasmwatch.daemon.notify import Notifier, StatusNotes, Watchdog, keep_alive, watchdog_interval_s
from spasmwatch.daemon.wiring import alert_settings_from, caregivers_from, channels_from, heartbeat_from, link_factory
from spasmwatch.store import Store, StoreError, make_folder

log = logging.getLogger(__name__)


def band_spec(b: Band, store_path: Path) -> BandSpec:
    """What the daemon runs for one [[bands]] table (at a start, and for a band a reload adds)."""
    bond_file = store_path.parent / "sim-bonds.json"
    return BandSpec(b.title, link_factory(b, **({"bond_file": bond_file} if b.transport == "sim" else {})), b.raw, b.rate_hz)


def build(cfg: Config, store: Store, clock: Clock | None = None, stale_s: float = K.STALE_S) -> Daemon:
    bands = [band_spec(b, store.path) for b in cfg.bands]
    channels = channels_from(cfg)
    return Daemon(
        store, bands, channels, caregivers_from(cfg, channels), alert_settings_from(cfg), clock=clock or SystemClock(), stale_s=stale_s,
        raw_reserve_mb=cfg.daemon.raw_reserve_mb, raw_keep_days=cfg.daemon.raw_keep_days, heartbeat=heartbeat_from(cfg),
        aliases=cfg.channels.aliases(),
    )  # fmt: skip


async def serve(
    cfg: Config,
    clock: Clock | None = None,
    status_out: TextIO | None = None,
    until: Callable[[], Awaitable[object]] | None = None,
    stale_s: float = K.STALE_S,
    watchdog_late_s: float = K.WATCHDOG_LATE_S,
    config_path: Path | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``until`` completes); prints a status line on change.
    SIGHUP reloads ``config_path`` (the file ``cfg`` was read from; None: SIGHUP is ignored)
    in the loop: daemon/reload.py.
    Under systemd (``Type=notify``): READY=1 once the store is open, the web server listens
    and the daemon has started; STATUS= on change; WATCHDOG=1 while its ticks progress
    (daemon/notify.py); STOPPING=1 at the signal."""
    notifier, ping_s = Notifier.from_env(), watchdog_interval_s()
    loop = asyncio.get_running_loop()
    early: list[int] = []  # a SIGHUP before the daemon is up (its default action would end it): reloaded once it is
    loop.add_signal_handler(signal.SIGHUP, early.append, signal.SIGHUP)
    path = cfg.store_path()
    make_folder(path)  # for the lock beside the store, which is taken first
    with _one_daemon(path, config_path), Store(path) as store:
        daemon = build(cfg, store, clock, stale_s)
        http = await _start_http(cfg, daemon)
        await daemon.start()
        log.info("spasmwatch daemon up: store %s, %d band(s)", path, len(daemon.bands))
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        reloader = _on_sighup(loop, daemon, cfg, config_path, path, bool(early))
        waiter = asyncio.ensure_future(until() if until else stop.wait())
        printer = asyncio.ensure_future(status_lines(daemon, status_out or sys.stderr, notify=StatusNotes(notifier)))
        helpers = [printer] + _systemd_ready(notifier, ping_s, Watchdog(lambda: daemon.ticks, watchdog_late_s))
        await asyncio.wait({waiter, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if notifier is not None:
            notifier.send("STOPPING=1\nSTATUS=stopping: sending what is still in flight")
        loop.add_signal_handler(signal.SIGHUP, log.info, "SIGHUP while stopping: ignored")
        if reloader is not None:
            await reloader.close()
        for task in helpers:
            task.cancel()
        await http.stop()
        await daemon.stop()
    return 0


def _on_sighup(
    loop: asyncio.AbstractEventLoop, daemon: Daemon, cfg: Config, config_path: Path | None, store_path: Path, pending: bool
) -> Reloader | None:
    """SIGHUP reloads the config in the loop (the handler only schedules it); ``pending``: one came
    while the daemon started (the file may have changed after it was read). Without a path (an
    in-process run from a Config) it is ignored: its default action would end the daemon."""
    if config_path is None:
        loop.add_signal_handler(signal.SIGHUP, log.warning, "SIGHUP: this daemon was not started from a file: nothing to reload")
        return None
    reloader = Reloader(daemon, config_path, cfg, lambda b: band_spec(b, store_path))
    loop.add_signal_handler(signal.SIGHUP, reloader.request)
    log.info("SIGHUP (spasmwatch reload; systemctl --user reload spasmwatch) reloads %s", config_path)
    if pending:
        reloader.request()
    return reloader


def _systemd_ready(notifier: Notifier | None, ping_s: float | None, watchdog: Watchdog) -> list[asyncio.Future[None]]:
    """Tell systemd the daemon is up (signal handlers set: a stop from now on is clean) and
    start the watchdog pings it asked for; nothing when not started by systemd."""
    if notifier is None:
        return []
    notifier.send("READY=1")
    if ping_s is None:
        log.info("started by the service manager (READY sent); no watchdog asked for")
        return []
    log.info("started by the service manager (READY sent); watchdog ping every %.1f s while ticks complete", ping_s)
    return [asyncio.ensure_future(keep_alive(notifier, watchdog, ping_s))]


def _lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


@contextmanager
def _one_daemon(store_path: Path, config_path: Path | None = None) -> Iterator[None]:
    """Hold ``<store>.lock`` while the daemon runs: a second daemon on the same store would restore
    and escalate the same alarms and raise "band disconnected" for the band it cannot reach.
    It holds the daemon's pid and the config file it reloads: 'spasmwatch reload' signals that
    pid, and 'config add-ntfy' suggests it when the file is this one (``lock_holder``)."""
    with open(_lock_path(store_path), "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"another spasmwatch daemon is using {store_path}: stop it first") from None
        try:
            f.truncate(0)
            f.write(f"{os.getpid()}\n{config_path.absolute() if config_path is not None else ''}\n")
            f.flush()
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def serving_pid(store_path: Path, config_path: Path) -> int | None:
    """The pid of the daemon that holds ``store_path``'s lock now and reloads ``config_path`` on
    SIGHUP, or None (no daemon, or one started from another file or from a Config in-process)."""
    held = lock_holder(store_path)
    return held[0] if held is not None and same_file(held[1], config_path) else None


def same_file(said: str, path: Path) -> bool:
    """Whether the config path a lock holds (``said``; "" for none) is ``path`` (a link to it too)."""
    return said != "" and (said == str(path.absolute()) or Path(said).resolve() == path.resolve())


def lock_holder(store_path: Path) -> tuple[int, str] | None:
    """(pid, the config file it reloads: "" for none) of the daemon holding ``store_path``'s lock
    now, or None: no daemon runs on that store (the lock is free, or was never taken)."""
    try:
        with open(_lock_path(store_path)) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: a daemon runs on this store
                pid, _, path = f.read().partition("\n")
                return (int(pid), path.rstrip("\n")) if pid.isdigit() else None
            fcntl.flock(f, fcntl.LOCK_UN)  # free: what it says is a stopped daemon's
            return None
    except OSError:
        return None


async def _start_http(cfg: Config, daemon: Daemon) -> HttpServer:
    h = cfg.daemon.http
    server = HttpServer(daemon, host=h.host, port=h.port, lan=h.lan, token=h.token, clock=daemon.clock.wall)
    host, port = await server.start()
    log.info("status page and API on http://%s:%d/", host, port)
    return server


async def status_lines(daemon: Daemon, out: TextIO, stamped: bool = False, notify: Callable[[str], None] | None = None) -> None:
    """One line per band whenever what a caregiver would care about changes (``stamped``: with
    the daemon's time, for a run whose clock is not the wall clock); ``notify`` gets all bands'
    lines in one on each change (systemd's STATUS=)."""
    last: dict[str, str] = {}
    q = daemon.subscribe()
    try:
        while True:
            bands = daemon.status()["bands"]
            gone = last.keys() - {b["name"] for b in bands}  # taken out of the config by a reload
            changed = bool(gone)
            for name in gone:
                del last[name]
            for b in bands:
                line = _band_line(b)
                if last.get(b["name"]) != line:
                    last[b["name"]] = line
                    when = dt.datetime.fromtimestamp(daemon.clock.wall()).strftime("%H:%M:%S ")
                    out.write((when if stamped else "") + line + "\n")
                    out.flush()
                    changed = True
            if notify is not None and changed:
                notify("; ".join(last.values()))
            await q.get()
    finally:
        daemon.unsubscribe(q)


# What a caregiver needs to know of the session's state (its retry cycle is one "not connected").
_LINK_WORDS = {"STREAMING": "connected", "STALE": "STALE (band silent)", "FAULT": "FAULT"}


def _band_line(b: dict[str, object]) -> str:
    link = _LINK_WORDS.get(str(b["state"]), "not connected")
    if b["state"] == "FAULT":
        link += f": {b['detail']}"
    worn = {True: "worn", False: "NOT WORN", None: "worn ?"}[b["worn"]]  # type: ignore[index]
    sleep = {True: "asleep", False: "awake", None: "sleep ?"}[b["asleep"]]  # type: ignore[index]
    batt = f"{b['battery_pct']}%" if b["battery_pct"] is not None else "?"
    return f"[{b['name']}] {link}  battery {batt}  {worn}  {sleep}  alert {b['alert_state']}"
