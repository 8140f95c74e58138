"""Run the daemon from a config until a signal: what ``spasmwatch run`` does."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

from spasmwatch.alerts.channels.fingerprint_key import kept_key, key_beside, load_key
from spasmwatch.clock import Clock, SystemClock
from spasmwatch.config import Band, Config, is_default_config
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.http import HttpError, HttpServer
from spasmwatch.daemon.lock import DaemonLock, one_daemon
from spasmwatch.daemon.reload import Reloader, reload_command
from spasmwatch.daemon.notify import Notifier, Starting, StatusNotes, Watchdog, keep_alive, watchdog_interval_s
from spasmwatch.daemon.stopping import StopSignals, said_at_start
from spasmwatch.daemon.wiring import alert_settings_from, band_link, caregivers_from, channels_from, heartbeat_from, warn_exposures
from spasmwatch.store import KnownStores, Store, StoreError, make_folder
from spasmwatch.store._db import CHECKING, CHECKING_COPY, COPYING, MIGRATING, Progress
from spasmwatch.urls import host_port
from spasmwatch.words import cmd, in_quotes

log = logging.getLogger(__name__)


def band_spec(b: Band, store_path: Path) -> BandSpec:
    """What the daemon runs for one [[bands]] table (at a start, and for a band a reload adds)."""
    return BandSpec(b.title, band_link(b, store_path), b.raw, b.rate_hz)


def build(cfg: Config, store: Store, clock: Clock | None = None, stale_s: float = K.STALE_S, config_path: Path | None = None) -> Daemon:
    """The daemon of ``cfg``; started from ``config_path``, its channels' fingerprints are keyed by the
    key beside it, or kept in the state folder where it cannot be made there (fingerprint_key.py);
    else by this process's own."""
    bands = [band_spec(b, store.path) for b in cfg.bands]
    channels = channels_from(cfg)
    daemon = Daemon(
        store, bands, channels, caregivers_from(cfg, channels), alert_settings_from(cfg), clock=clock or SystemClock(), stale_s=stale_s,
        raw_reserve_mb=cfg.daemon.raw_reserve_mb, raw_keep_days=cfg.daemon.raw_keep_days,
        backup_keep_days=cfg.daemon.backup_keep_days, heartbeat=heartbeat_from(cfg),
        aliases=cfg.channels.aliases(), fingerprint_key=None if config_path is None else load_key(key_beside(config_path), kept_key()),
    )  # fmt: skip
    daemon.set_exposures(warn_exposures(cfg))
    return daemon


async def serve(
    cfg: Config,
    clock: Clock | None = None,
    status_out: TextIO | None = None,
    until: Callable[[], Awaitable[object]] | None = None,
    stale_s: float = K.STALE_S,
    watchdog_late_s: float = K.WATCHDOG_LATE_S,
    config_path: Path | None = None,
    stop_signals: StopSignals | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``until`` completes); prints a status line on change.
    SIGHUP reloads ``config_path`` (the file ``cfg`` was read from; None: SIGHUP is ignored)
    in the loop: daemon/reload.py.
    Under systemd (``Type=notify``): READY=1 once the store is open (or found not to open), the web server listens
    and the daemon has started; before it, EXTEND_TIMEOUT_USEC= and STATUS= while the open's copy and migration
    after an upgrade advance (``opening``); STATUS= on change; WATCHDOG=1 while its ticks progress
    (daemon/notify.py); STOPPING=1 at the signal.
    ``stop_signals`` (started by ``spasmwatch run``) takes SIGINT/SIGTERM in a thread of its own, with a
    deadline on the stop that a blocked loop cannot miss (daemon/stopping.py); else the loop takes them."""
    notifier, ping_s = Notifier.from_env(), watchdog_interval_s()
    loop = asyncio.get_running_loop()
    early: list[int] = []  # a SIGHUP before the daemon is up (its default action would end it): reloaded once it is
    loop.add_signal_handler(signal.SIGHUP, early.append, signal.SIGHUP)
    path = cfg.store_path()
    # A store opened before that is not there (its disk not mounted yet), or a different store in its
    # place, is not made again nor written: its folder is not made, and its lock is taken as it opens
    # (docs/store.md "A store on a disk not mounted yet", "A different store at the store's path").
    # Asked once: the open takes this answer, and what it read of the record and the store's id, as its own
    # check (its folder and lock come in between).
    known = KnownStores.default()
    checked = known.check(path)
    unmade = checked.makes and not _folder_made(path)
    # A store that cannot be opened (damaged, newer, permissions, I/O, not there) stops no monitoring:
    # the daemon runs without it and tries it again (docs/store.md "A store that cannot be opened").
    # Its epochs and STATUS rows are read through after the start (``later``: docs/store.md "The
    # daemon's start"), which waited 2.7-3.5 s for them on a year's store.
    with (
        ExitStack() as stop_handled,  # first in: a stop signal stays handled until the store is closed
        one_daemon(path, config_path, now=checked.missing is None, unmade=unmade) as lock,
        _closed_at_exit(Store.may_fail(path, known, lock.take, checked=checked, later=True, progress=opening(notifier))) as store,
    ):
        said_at_start(path)  # past the lock: a daemon refused the store has ended (the record is its holder's)
        daemon = build(cfg, store, clock, stale_s, config_path)
        daemon.config_path = config_path
        # Under the service (systemd's notify socket), a port another program holds stops no monitoring
        http, listen_later = await _start_http(cfg, daemon, lock, keep_trying=notifier is not None)
        await daemon.start()
        log.info("spasmwatch daemon up: store %s, %d band(s)", path, len(daemon.bands))
        stop = asyncio.Event()
        _on_stop(loop, stop, stop_signals, stop_handled)
        reloader = _on_sighup(loop, daemon, cfg, config_path, path, bool(early))
        waiter = asyncio.ensure_future(until() if until else stop.wait())
        printer = asyncio.ensure_future(status_lines(daemon, status_out or sys.stderr, notify=StatusNotes(notifier)))
        helpers = [printer] + _systemd_ready(notifier, ping_s, Watchdog(lambda: daemon.ticks, watchdog_late_s))
        helpers += [listen_later] if listen_later is not None else []
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


def opening(notifier: Notifier | None) -> Progress:
    """What the store's open is told of its long steps (an upgrade's copy and migration, before the
    monitor starts): each step logged as it begins, and under systemd told with its progress
    (notify.Starting: EXTEND_TIMEOUT_USEC= and STATUS=), or the start timeout ended it mid-copy (a
    year's store ~30 s on an SD card, more on a slow one) and Restart= began the copy again: a loop."""
    starting = None if notifier is None else Starting(notifier, K.START_EXTEND_S, K.START_TELL_EVERY_S)
    begun: set[str] = set()

    def told(step: str, done: int, total: int) -> None:
        words = opening_words(step, done, total)
        if step not in begun:
            begun.add(step)
            log.info("%s", words)
        if starting is not None:
            starting(step, words)

    return told


_MB = 1_000_000
_STARTS_AFTER = " (the monitor starts once it is done)"


def opening_words(step: str, done: int, total: int) -> str:
    """The store's open's long ``step`` (store/_db.py: ``done`` of ``total`` bytes, a migration's steps) in
    a family's words, for 'systemctl --user status spasmwatch' (STATUS=) and the log."""
    if step == MIGRATING:
        return f"Upgrading the store: step {done + 1} of {total}{_STARTS_AFTER}"
    what = {CHECKING: "Checking the store before its upgrade", COPYING: "Copying the store before its upgrade",
            CHECKING_COPY: "Checking the copy of the store made before its upgrade"}[step]  # fmt: skip
    return f"{what}: {done / _MB:.0f} of {total / _MB:.0f} MB{'' if step == COPYING else ' read'}{_STARTS_AFTER}"


@contextmanager
def _closed_at_exit(store: Store) -> Iterator[Store]:
    """``store``, closed at the end; a call in the store's threads (``STORE_WORK``) hung holding it
    is waited for at most ``STORE_CLOSE_WAIT_S``, then left: the exit waited for ever."""
    try:
        yield store
    finally:
        if not store.close(K.STORE_CLOSE_WAIT_S):
            log.warning("%s: a store call hangs (a stalled disk?): the store is left to the call under way, not closed; "
                        "what was committed is kept (SQLite's WAL), the call's unfinished work is not", store.path)  # fmt: skip


def _on_stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, stop_signals: StopSignals | None, stop_handled: ExitStack) -> None:
    """SIGINT/SIGTERM set ``stop``: from ``stop_signals``' thread while ``stop_handled`` is open, else in the loop."""
    if stop_signals is not None:

        def stop_soon() -> None:
            loop.call_soon_threadsafe(stop.set)

        stop_handled.enter_context(stop_signals.handled(stop_soon))
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


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
    log.info("SIGHUP (%s; systemctl --user reload spasmwatch) reloads %s", reload_command(config_path), config_path)
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


def http_server(cfg: Config, daemon: Daemon) -> HttpServer:
    """The web page and API of [daemon.http], in the language of the pushes ([alerts] language):
    read from the running engine at each page load, so a reload of the language reaches the page too."""
    h = cfg.daemon.http
    tls = (Path(h.tls_cert).expanduser(), Path(h.tls_key).expanduser()) if h.tls else None
    return HttpServer(daemon, host=h.host, port=h.port, lan=h.lan, token=h.token, clock=daemon.clock.wall,
                      language=lambda: daemon.engine.settings.language, tls=tls)  # fmt: skip


def _folder_made(path: Path) -> bool:
    """A first run's folder for the store ``path`` (for the lock beside it, which is taken first: a
    store found has its folder), made; False when this user may not make it (a service's account
    given data_dir /var/lib/spasmwatch before 'sudo install -d' made it): the daemon monitors
    without its store, whose open says why, its lock in the runtime folder. Until 2026-12-06 the
    error ended the start (exit 2; under the service a restart every 5 s, no band monitored). Any
    other error (data_dir under a file: a mistake in the config no wait mends) still ends it, named."""
    try:
        make_folder(path)
    except StoreError as e:
        if isinstance(e.__cause__, OSError) and e.__cause__.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return False
        raise
    return True


async def _start_http(
    cfg: Config, daemon: Daemon, lock: DaemonLock, keep_trying: bool = False
) -> tuple[HttpServer, asyncio.Future[None] | None]:
    """The web page and API, listening; where is written in the store's lock: the CLI reaches the
    daemon there after an edit of [daemon.http] host or port (applied only at the next start).
    A port another program holds ends a start by hand with the command that moves it; with
    ``keep_trying`` (the service) the daemon monitors without the page and tries the port again
    every HTTP_RETRY_S (the returned task): until 2026-12-06 the service ended and systemd
    restarted it every 5 s, no band monitored, for as long as the port stayed taken. So too, under
    the service only, a host this computer has no address for: at boot a LAN address may come
    from DHCP after the unit starts (by hand, the error is the better answer: a typo in host). A
    certificate that cannot be used (HTTPS, tls_cert) never ends a start, by hand either: the alarms
    must not hang on the page's certificate; its files are read again at each try, so one made anew
    ('spasmwatch config tls new') brings the page back within HTTP_RETRY_S."""
    server = http_server(cfg, daemon)
    try:
        await _listen(server, lock)
    except HttpError as e:
        if e.bad_cert:
            log.error("%s; monitoring without the page: alarms go on, but the page and 'spasmwatch status', 'ack' and "
                      "'test-alarm' cannot reach the daemon until the certificate is mended; its files are read again every %g s",
                      e, K.HTTP_RETRY_S)  # fmt: skip
            return server, asyncio.ensure_future(_listen_later(server, lock))
        if not (e.in_use or (keep_trying and e.not_there)):
            raise
        said = _move_port(e, server, cfg, lock.config_path) if e.in_use and lock.config_path is not None else str(e)
        if not keep_trying:
            raise HttpError(said) from e
        log.error("%s; monitoring without the page: alarms go on, but the page and 'spasmwatch status', 'ack' and "
                  "'test-alarm' cannot reach the daemon until it listens; tried again every %g s", said, K.HTTP_RETRY_S)  # fmt: skip
        return server, asyncio.ensure_future(_listen_later(server, lock))
    return server, None


async def _listen(server: HttpServer, lock: DaemonLock) -> None:
    host, port = await server.start()
    lock.serving(host, port)
    log.info("status page and API on %s://%s/", server.scheme, host_port(host, port))
    if server.cert is not None:
        log.info("web page over HTTPS: certificate %s, SHA-256 fingerprint %s (a phone asks once to accept it: compare), "
                 "valid until %s", server.cert.cert, server.cert.fingerprint, f"{server.cert.not_after:%Y-%m-%d}")  # fmt: skip


async def _listen_later(server: HttpServer, lock: DaemonLock) -> None:
    """Try the page's port every HTTP_RETRY_S until it listens (a port freed, an address given: the page and commands come back)."""
    while True:
        await asyncio.sleep(K.HTTP_RETRY_S)
        try:
            await _listen(server, lock)
        except HttpError:
            continue
        log.info("web page listening now on %s", server.url)
        return


def _move_port(e: HttpError, server: HttpServer, cfg: Config, config_path: Path) -> str:
    """``e`` and the command that gives the page a port free now."""
    free = free_port_near(server.bind_host, cfg.daemon.http.port)
    command = cmd(f"config set daemon.http.port {free}", config_path, not is_default_config(config_path))
    return f"{e}: give this one another port, {in_quotes(command)}"


def free_port_near(host: str, port: int) -> int:
    """The first port after ``port`` nothing listens on now (``PORT_SEARCH`` tried), for the family to
    move the web page to; ``port + 1`` when none is (a suggestion, checked again at the start)."""
    for p in range(port + 1, min(port + 1 + K.PORT_SEARCH, 65536)):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            try:
                s.bind((host, p))
            except OSError:
                continue
            return p
    return port + 1


async def status_lines(daemon: Daemon, out: TextIO, stamped: bool = False, notify: Callable[[str], None] | None = None) -> None:
    """One line per band whenever what a caregiver would care about changes (``stamped``: with
    the daemon's time, for a run whose clock is not the wall clock); ``notify`` gets all bands'
    lines in one on each change (systemd's STATUS=)."""
    last: dict[str, str] = {}
    q = daemon.subscribe()
    try:
        while True:
            status = daemon.status()
            # A store not open first: every band's line below is without it.
            lines = {} if status["store"] is None else {_STORE_LINE: _store_line(status["store"])}
            lines.update((b["name"], _band_line(b)) for b in status["bands"])
            gone = last.keys() - lines.keys()  # taken out of the config by a reload; the store opened
            changed = bool(gone)
            for name in gone:
                del last[name]
            for name, line in lines.items():
                if last.get(name) != line:
                    last[name] = line
                    when = dt.datetime.fromtimestamp(daemon.clock.wall()).strftime("%H:%M:%S ")
                    out.write((when if stamped else "") + line + "\n")
                    out.flush()
                    changed = True
            if notify is not None and changed:
                notify("; ".join(last.values()))
            await q.get()
    finally:
        daemon.unsubscribe(q)


_STORE_LINE = "\0store"  # the store's line among the bands' (no band's name)


def _store_line(store: dict[str, object]) -> str:
    return f"STORE NOT OPEN ({store['error']}): alarms go on, events stay on the bands; tried again every {store['retry_s']:g} s"


# What a caregiver needs to know of the session's state (its retry cycle is one "not connected").
_LINK_WORDS = {"STREAMING": "connected", "STALE": "STALE (band silent)", "FAULT": "FAULT"}


def _band_line(b: dict[str, object]) -> str:
    link = _LINK_WORDS.get(str(b["state"]), "not connected")
    if b["state"] == "FAULT":
        link += f": {b['detail']}"
    elif b["link_unstable"] is not None:
        # Connected and not, every few seconds: said once, as the log says the flapping (daemon/flap.py);
        # its two words a drop were ~1,600 journal lines an hour for a port closing 3 s after each connect.
        link = "link unstable"
    worn = {True: "worn", False: "NOT WORN", None: "worn ?"}[b["worn"]]  # type: ignore[index]
    sleep = {True: "asleep", False: "awake", None: "sleep ?"}[b["asleep"]]  # type: ignore[index]
    batt = f"{b['battery_pct']}%" if b["battery_pct"] is not None else "?"
    return f"[{b['name']}] {link}  battery {batt}  {worn}  {sleep}  alert {b['alert_state']}"
