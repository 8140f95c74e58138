"""Soak: does one daemon stay bounded over weeks of reconnects, outages, clusters, alerts and web clients?

    python bench/soak.py                   # 500 reconnects, 200 over USB serial, 300 failed connects, 500 clusters,
                                           # 60 outages and a 6 h one, a quiet day, a quiet band hour: ~20 min
    python bench/soak.py --quick           # 40 / 20 / 40 / 40 / 6 and 2 h / an hour / 15 min (tests/daemon/test_soak.py asserts on these phases)
    python bench/soak.py --json out.json --no-tracemalloc

Phases, each on its own daemon in this process (``Daemon``, the very object
``spasmwatch run`` serves), each measured after a warm-up and again after N more cycles:

* reconnects: the real band firmware under micropython (``SimBand``), bleak's client over the
  simulated radio, through a TCP relay on 127.0.0.1 that cuts the radio link once the session
  streams; the session reconnects (connect, secure, sync, backfill) each time. The reconnect
  backoff is set to 0.05 s for the phase (``K.BACKOFF_S``; 1 s for a drop), so N cycles take
  N x ~0.2 s; nothing else differs from a radio at the edge of range. Log lines (INFO and up)
  per reconnect are counted.
* serial reconnects: the same over USB serial: ``SerialLink`` (pyserial's ``socket://``) on the
  band's USB port as the CDC bridge plays it (``spasmwatch.transport.cdcbridge``, in a process of
  its own), the relay cutting it as an unplugged cable.
* away: a band out of range all night: every connect attempt scans for it (bleak's scanner over
  the simulated radio, nobody on its address) and fails; the scan cut to 0.2 s (15 s in a daemon).
* outage: the MQTT broker (mosquitto) stopped and the webhook/ntfy receiver (aiohttp) down for a
  few clusters (alarms, acks, escalations), then both back on their ports, N times; then one long
  outage with an alarm nobody acknowledges. paho holds the events and reconnects; the outbox keeps
  the pushes and the minute's resend pass sends them. Measured: growth, paho's held messages and the
  outbox rows at their peak and after, what the receivers got, log lines per outage and per hour away.
  MQTT's wait for its broker is 0.1 s and retries come at once (10 s and 1-30 s in a daemon).
* clusters: spasms, epochs and status records handed to the daemon as its band session hands
  them (``Daemon.on_record``) on an injected clock that jumps 10 min a cycle: a three-spasm
  cluster (WARNING, ALARM), half of them acknowledged over the web API (real HTTP on
  127.0.0.1), the others left to escalate and end; a not-worn fault raised and cleared;
  notifications to real receivers: webhook and ntfy (aiohttp on 127.0.0.1), MQTT (mosquitto),
  the sound channel (a command run per alarm); each cycle 20 GET requests of the page and its API
  on fresh connections, a note POSTed, and 4 live pages (``/api/stream``) that read their first
  update and go away, two of them cut without a goodbye.
* quiet: an hour (a day with ``--quiet-hours 24``) of a connected band with nothing happening:
  an epoch and a STATUS every 10 s, the ticker every second; log lines at INFO and above (what a
  service's journal keeps) per hour.

Measured at each point (after ``gc.collect()``): asyncio tasks, threads, open fds, SQLite files
open, RSS, objects by type (spasmwatch's own classes, and the top growers of all types), the
sizes of the daemon's internal collections, and (``--tracemalloc``) the top growth by line
between the warm-up and the end. The reference is the warm-up point of the same run: the
numbers printed are growth over N cycles. Never asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' recordings and receivers
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/faults.py's loop-thread server
from faults import LoopServer  # noqa: E402
from servers import http_recorder, start_broker, stop_broker  # noqa: E402
from synthetic import HandClock as Clock, spasm_record as _event, supine, write_csv  # noqa: E402

from spasmwatch.alerts import AlertSettings  # noqa: E402
from spasmwatch.alerts.channels.base import Channel  # noqa: E402
from spasmwatch.alerts.channels.outbox import KEEP_UNACKED  # noqa: E402
from spasmwatch.alerts.channels.mqtt import MqttChannel, MqttSettings  # noqa: E402
from spasmwatch.alerts.channels.ntfy import NtfyChannel, NtfySettings  # noqa: E402
from spasmwatch.alerts.channels.sound import SoundChannel, SoundSettings  # noqa: E402
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings  # noqa: E402
from spasmwatch.clock import ScaledClock  # noqa: E402
from spasmwatch.daemon import consts as K  # noqa: E402
from spasmwatch.daemon.daemon import BandSpec, Daemon  # noqa: E402
from spasmwatch.daemon.http import HttpServer  # noqa: E402
from spasmwatch.daemon.session import BandInfo, State  # noqa: E402
from spasmwatch.store import Store  # noqa: E402
from spasmwatch.threads import DetachedThreads  # noqa: E402
from spasmwatch.transport import open_link  # noqa: E402
from spasmwatch.transport.simband import SimBand, free_port  # noqa: E402
from swcore import protocol as P  # noqa: E402

RATE_HZ = 52
DEVICE = "soak0001"
CYCLE_S = 1200.0  # simulated time per cluster cycle: 72 clusters a day, far more than any baby has
SLEEP_EVERY = 5  # cycles: a nap and a wake (13 min of epochs) in every fifth
GETS = ("/", "/static/app.js", "/api/status", "/api/clusters", "/api/days?n=14", "/api/notes")


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- what is measured ----------------------------------------------------------------------------
@dataclass
class Point:
    cycles: int
    tasks: int
    threads: int  # but the default executor's (in internals)
    fds: int
    db_files: int  # open fds on the store's files (SQLite connections, WAL, shm)
    rss_kb: int
    objects: dict[str, int]  # spasmwatch's own classes by name
    all_types: dict[str, int]  # every type (for the top growers)
    internals: dict[str, int]


def _fds(db: Path | None) -> tuple[int, int]:
    fd_dir = Path("/proc/self/fd")
    n = db_n = 0
    for fd in fd_dir.iterdir():
        n += 1
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if db is not None and target.startswith(str(db)):
            db_n += 1
    return n, db_n


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def internals(d: Daemon, server: HttpServer | None = None) -> dict[str, int]:
    """Sizes of the daemon's collections that change as it runs (each is bounded or pruned)."""
    e, disp = d.engine, d.dispatcher
    out = {
        "daemon.notifications": len(d.notifications),
        "daemon._subs": len(d._subs),
        "daemon._tasks": len(d._tasks),
        "daemon._restored": len(d._restored),
        "daemon._store_failing": len(d._store_failing),
        "daemon._merged_into": len(d._merged_into),
        "engine._clusters": len(e._clusters),
        "engine._closed": len(e._closed),
        "engine._bands": len(e._bands),
        "engine._band_sent_t": len(e._band_sent_t),
        "engine._mutes": len(e._mutes),
        "engine._devices": len(e._devices),
        "dispatcher.deliveries": len(disp.deliveries),
        "dispatcher._alerted": len(disp._alerted),
        "dispatcher._tasks": len(disp._tasks),
        "dispatcher._in_flight": sum(len(s) for s in disp._in_flight.values()),
        "dispatcher._resending": len(disp._resending),
    }
    for b in d.bands:
        a, s = b.analysis, b.session
        out[f"{b.label}.session._records"] = s._records.qsize()
        out[f"{b.label}.session._resp"] = s._resp.qsize()
        out[f"{b.label}.session._failures"] = len(s._failures)
        if a is not None:
            out[f"{b.label}.analysis.tracked"] = len(a.tracked)
            out[f"{b.label}.analysis._replayed"] = len(a._replayed)
            out[f"{b.label}.analyzer.wake_onsets"] = len(a._an.wake_onsets)
    mqtt = disp.channels.get("mqtt")
    if isinstance(mqtt, MqttChannel):
        out["mqtt._links"] = len(mqtt._links)
        out["mqtt._unacked"] = len(mqtt._unacked)
        out["mqtt._late_dropped"] = len(mqtt._late_dropped)
        out["mqtt.link._events"] = sum(len(k._events) for k in mqtt._links.values())
        out["mqtt.link._retained"] = sum(len(k._retained) for k in mqtt._links.values())
        out["mqtt.paho._out_messages"] = sum(len(getattr(k.client, "_out_messages", {})) for k in mqtt._links.values())
    sound = disp.channels.get("sound")
    if isinstance(sound, SoundChannel):
        out["sound._ringing"] = len(sound._ringing)
    if server is not None:
        out["http._streams"] = len(server._streams)
    return out


# Bounds of the collections that are bounded by a size (the rest must stay flat once warm).
def bounds(d: Daemon) -> dict[str, int]:
    from spasmwatch.alerts.channels import mqtt as mqtt_mod
    from spasmwatch.daemon import daemon as daemon_mod
    from spasmwatch.transport import serial as serial_mod

    out = {
        "asyncio executor threads": min(32, (os.cpu_count() or 1) + 4),  # ThreadPoolExecutor's default
        "serial port threads": serial_mod.PORT_THREADS * len(d.bands),
        **{f"worker threads {p._name}": p._max for p in _worker_pools()},
        "daemon.notifications": daemon_mod.NOTICES_KEPT,
        "engine._closed": d.engine.settings.keep_closed,
        "daemon._merged_into": d.engine.settings.keep_closed,  # retired ids, while their alerts are held
        "dispatcher.deliveries": d.dispatcher.deliveries.maxlen or 0,
        "dispatcher._alerted": d.dispatcher._keep_alerted,
        "mqtt.link._events": mqtt_mod._KEEP_EVENTS,
        "mqtt._late_dropped": mqtt_mod._KEEP_EVENTS,
    }
    sound = d.dispatcher.channels.get("sound")
    if isinstance(sound, SoundChannel):  # the alarms unanswered within repeat_for_s, one a cycle at most
        out["sound._ringing"] = int(sound.settings.repeat_for_s // CYCLE_S) + 1
    return out


def measure(cycles: int, d: Daemon, server: HttpServer | None = None) -> Point:
    gc.collect()
    counts: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for o in gc.get_objects():
        t = type(o)
        mod = t.__dict__.get("__module__")
        mod = mod if isinstance(mod, str) else "builtins"
        counts[f"{mod}.{t.__qualname__}"] += 1
        if mod.startswith("spasmwatch"):
            ours[t.__qualname__] += 1
    fds, db = _fds(d.store.path)
    # The default executor's threads (asyncio.to_thread: MQTT's waits) come and go up to its bound, and
    # a USB band's port's (made at its link's connect, let go at its disconnect) up to theirs: counted apart.
    pool = sum(1 for t in threading.enumerate() if t.name.startswith("asyncio_"))
    ports = sum(1 for t in threading.enumerate() if t.name.startswith("spasmwatch-serial "))
    workers = worker_threads()
    inner = {**internals(d, server), "asyncio executor threads": pool, "serial port threads": ports, **workers}
    others = threading.active_count() - pool - ports - sum(workers.values())
    return Point(cycles, len(asyncio.all_tasks()), others, fds, db, _rss_kb(), dict(ours), dict(counts), inner)


def _worker_pools() -> list[DetachedThreads]:
    """Our DetachedThreads pools but a USB port's (counted apart): each makes a thread only when its
    calls overlap as never before (a sound command still playing as the next alarm's starts), so a
    pool may first reach its next thread after the warm-up; growth up to its bound is not a leak
    (the CI of 2026-12-07 failed 'threads 6 -> 7' on this)."""
    return [o for o in gc.get_objects() if isinstance(o, DetachedThreads) and not o._name.startswith("spasmwatch-serial ")]


def worker_threads() -> dict[str, int]:
    """Each pool's live threads: name -> count (its bound in ``bounds``)."""
    return {f"worker threads {p._name}": sum(t.is_alive() for t in p._threads) for p in _worker_pools()}


@dataclass
class Growth:
    phase: str
    warm: Point
    end: Point
    per: str  # what a cycle is
    wall_s: float
    tracemalloc_top: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cycles(self) -> int:
        return self.end.cycles - self.warm.cycles

    def delta(self, attr: str) -> int:
        return int(getattr(self.end, attr)) - int(getattr(self.warm, attr))

    def grown(self, which: str, limit: int = 10) -> list[tuple[str, int, int]]:
        """(name, at warm-up, growth) of the ``which`` counts that grew, largest first."""
        a, b = getattr(self.warm, which), getattr(self.end, which)
        out = [(k, a.get(k, 0), b.get(k, 0) - a.get(k, 0)) for k in set(a) | set(b) if b.get(k, 0) != a.get(k, 0)]
        return sorted(out, key=lambda x: -abs(x[2]))[:limit]

    def summary(self) -> dict[str, Any]:
        return {
            "phase": self.phase, "per": self.per, "cycles": self.cycles, "wall_s": round(self.wall_s, 1),
            "warm": {k: v for k, v in asdict(self.warm).items() if k != "all_types"},
            "end": {k: v for k, v in asdict(self.end).items() if k != "all_types"},
            "growth": {a: self.delta(a) for a in ("tasks", "threads", "fds", "db_files", "rss_kb")},
            "objects_grown": self.grown("objects"), "all_types_grown": self.grown("all_types", 15),
            "internals_grown": self.grown("internals"), "tracemalloc_top": self.tracemalloc_top,
            "unexplained_objects": unexplained(self), "over_bound": over_bound(self, self.extra.get("bounds", {})), **self.extra,
        }  # fmt: skip


# Which bounded collection holds each of spasmwatch's classes that a cycle makes (the rest must stay flat).
HELD_IN = {
    "Notification": ("daemon.notifications",),
    "Delivery": ("dispatcher.deliveries",),
    "ClusterAlert": ("engine._closed", "engine._clusters"),
    "TrackedCluster": ("crib.analysis.tracked",),
    "_Ringing": ("sound._ringing",),
}


def unexplained(g: Growth) -> dict[str, int]:
    """spasmwatch objects that grew more than the collections holding them did."""
    out = {}
    for name, _, grew in g.grown("objects", 1000):
        held = sum(g.end.internals.get(k, 0) - g.warm.internals.get(k, 0) for k in HELD_IN.get(name, ()))
        if grew - max(0, held) > 0:
            out[name] = grew - max(0, held)
    return out


def over_bound(g: Growth, bounds: dict[str, int]) -> dict[str, tuple[int, int, int | None]]:
    """Collections past their bound, or (no bound) past their size at the warm-up: name -> (warm, end, bound)."""
    w, e = g.warm.internals, g.end.internals
    return {k: (w.get(k, 0), v, bounds.get(k)) for k, v in e.items() if v > bounds.get(k, w.get(k, 0))}


class Tracer:
    """tracemalloc from the warm-up point to the end: the lines whose allocations grew most."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self._snap: tracemalloc.Snapshot | None = None

    def warm(self) -> None:
        if self.on:
            tracemalloc.start(1) if not tracemalloc.is_tracing() else None
            gc.collect()
            self._snap = tracemalloc.take_snapshot()

    def top(self, n: int = 8) -> list[str]:
        if not self.on or self._snap is None:
            return []
        gc.collect()
        end = tracemalloc.take_snapshot()
        tracemalloc.stop()
        keep = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
        stats = end.filter_traces(keep).compare_to(self._snap.filter_traces(keep), "lineno")
        return [f"{s.size_diff / 1024:+.1f} KiB {s.count_diff:+d} blocks  {s.traceback[0].filename}:{s.traceback[0].lineno}" for s in stats[:n]]


# --- phase 1: reconnects through a relay that cuts the radio link ---------------------------------
class CutRelay:
    """A TCP relay on 127.0.0.1 in front of the band's radio socket, on a loop of its own thread;
    ``cut()`` closes every connection through it (the band and the daemon both see the link drop)."""

    def __init__(self, band_port: int) -> None:
        self.band_port = band_port
        self.port = 0
        self.connections = 0
        self._open: set[asyncio.StreamWriter] = set()
        self._served = LoopServer(self._conn, "soak relay")
        self.port = self._served.start()

    async def _conn(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        try:
            br, bw = await asyncio.open_connection("127.0.0.1", self.band_port)
        except OSError:
            cw.close()
            return
        self.connections += 1
        self._open |= {cw, bw}
        try:
            await asyncio.gather(self._pipe(cr, bw), self._pipe(br, cw))
        finally:
            self._open -= {cw, bw}

    @staticmethod
    async def _pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(4096):
                w.write(data)
                await w.drain()
        except OSError:
            pass
        finally:
            w.close()

    def cut(self) -> None:
        def close_all() -> None:
            for w in list(self._open):
                w.transport.abort()

        self._served.call(close_all)

    def close(self) -> None:
        self.cut()
        self._served.stop()


@contextlib.contextmanager
def short_backoff(delay_s: float) -> Iterator[None]:
    """Every reconnect backoff ``delay_s`` (the phase is about what a reconnect leaves behind, not its pace)."""
    saved = dict(K.BACKOFF_S)
    K.BACKOFF_S.update({k: (delay_s, delay_s) for k in saved})
    try:
        yield
    finally:
        K.BACKOFF_S.clear()
        K.BACKOFF_S.update(saved)


async def _until(ok: Callable[[], object], what: str, timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while not ok():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(0.005)


def quiet_recording(tmp: Path, seconds: float) -> Path:
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=seconds, spasms=(), seed=11)
    return write_csv(tmp / "quiet.csv", t, acc, gyro)


@contextlib.contextmanager
def cdc_bridge(band: SimBand, tmp: Path) -> Iterator[int]:
    """The band's USB serial port (``spasmwatch.transport.cdcbridge``: the firmware has no CDC yet)
    in a process of its own, so that only the daemon's side is measured; yields its TCP port."""
    port = free_port()
    cmd = [sys.executable, "-m", "spasmwatch.transport.cdcbridge", "--band", band.address, "--port", str(port),
           "--bond-file", str(tmp / "bridge-bonds.json")]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the CDC bridge did not listen on {port}: {proc.stderr.read().decode() if proc.stderr else ''}") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


async def reconnects(tmp: Path, warmup: int, n: int, speed: int, trace: Tracer, transport: str = "sim") -> Growth:
    """``transport`` "sim": bleak over the simulated radio; "serial": SerialLink (pyserial's
    ``socket://``) on the band's USB port (the CDC bridge), the relay cutting it as an unplugged cable."""
    csv = quiet_recording(tmp, 3600.0)
    band = SimBand(csv, tmp / "flash", hold=True, speed=speed, device_id=DEVICE, timeout_s=1800, args=["--paced"])
    with contextlib.ExitStack() as stack:
        stack.callback(band.kill)
        target = stack.enter_context(cdc_bridge(band, tmp)) if transport == "serial" else band.port
        return await _reconnects(tmp, band, target, warmup, n, speed, trace, transport)


async def _reconnects(tmp: Path, band: SimBand, target: int, warmup: int, n: int, speed: int, trace: Tracer, transport: str) -> Growth:
    relay = CutRelay(target)
    store = Store(tmp / "reconnects.db")
    if transport == "serial":
        link = lambda: open_link("serial", f"socket://127.0.0.1:{relay.port}")  # noqa: E731
    else:
        link = lambda: open_link("sim", f"127.0.0.1:{relay.port}", bond_file=tmp / "bonds.json")  # noqa: E731
    # Each cut stands for a drop of a band at the edge of range, a minute or more apart, as it lasts
    # on the band's clock: no link is short (flap_up_s 0), or the cuts seconds apart in real time
    # would be a flapping link, logged as one (tests/daemon/test_flapping_link.py).
    d = Daemon(store, [BandSpec("crib", link)], clock=ScaledClock(time.time(), speed), flap_up_s=0.0)
    s = d.bands[0].session
    t0 = time.monotonic()
    counter = Counting()  # INFO and above once warm: a journal's lines per reconnect
    try:
        with short_backoff(0.05):
            await d.start()
            await _until(lambda: s.state is State.STREAMING, "the first connection", 60)
            warm: Point | None = None
            for i in range(1, warmup + n + 1):
                before = relay.connections
                relay.cut()
                await _until(lambda: s.state is not State.STREAMING, f"the drop of connection {i}")
                await _until(lambda: s.state is State.STREAMING and relay.connections > before, f"reconnect {i}")
                if i == warmup:
                    await asyncio.sleep(0.2)  # the drop's leftovers (its scan, its timers) run out
                    warm = measure(i, d)
                    trace.warm()
                    t0 = time.monotonic()
                    counter.start()
                if i % 50 == 0:
                    progress(f"  reconnects: {i}/{warmup + n}")
            assert warm is not None
            await asyncio.sleep(0.2)
            counter.stop()
            end = measure(warmup + n, d)
            per = ("USB serial cut + reopen (real band firmware, pyserial, the CDC bridge)" if transport == "serial"
                   else "radio drop + reconnect (real band firmware, bleak, simulated radio)")  # fmt: skip
            g = Growth("reconnects" if transport == "sim" else f"reconnects ({transport})", warm, end, per, time.monotonic() - t0, trace.top())
            g.extra["relay_connections"] = relay.connections
            g.extra["bounds"] = bounds(d)
            g.extra["events_stored"] = store.count_events(DEVICE)
            g.extra["log_lines"] = len(counter.lines)
            g.extra["log_lines_per_reconnect"] = round(len(counter.lines) / n, 2)
            g.extra["first_lines"] = counter.lines[:4]
            return g
    finally:
        counter.stop()
        await d.stop()
        relay.close()
        store.close()


@contextlib.contextmanager
def short_connect(timeout_s: float) -> Iterator[None]:
    """Each connect attempt (the scan for the band) given up after ``timeout_s`` (15 s in a daemon)."""
    saved = K.CONNECT_TIMEOUT_S
    K.CONNECT_TIMEOUT_S = timeout_s
    try:
        yield
    finally:
        K.CONNECT_TIMEOUT_S = saved


async def away(tmp: Path, warmup: int, n: int, trace: Tracer) -> Growth:
    """A band out of range all night: every connect attempt scans for it (bleak's scanner over the
    simulated radio, nobody answering on its address) and fails. The scan is cut to 0.2 s and the
    backoff to 0.05 s, so N attempts take N x ~0.3 s; log lines at INFO and above are counted."""
    address = f"127.0.0.1:{free_port()}"
    store = Store(tmp / "away.db")
    link = lambda: open_link("sim", address, bond_file=tmp / "bonds.json")  # noqa: E731
    # The "band disconnected" alert within the warm-up (after 60 s in a daemon): it is raised once.
    d = Daemon(store, [BandSpec("crib", link)], clock=ScaledClock(time.time(), 1), disconnect_alert_s=1.0)
    s = d.bands[0].session
    counter = Counting()
    tried = lambda: s._failures.get("not_found", 0)  # noqa: E731  # failed attempts since the last good connect
    try:
        with short_backoff(0.05), short_connect(0.2):
            await d.start()
            await _until(lambda: tried() >= warmup and d.engine._bands, f"{warmup} failed connects and the alert", 120)
            await asyncio.sleep(0.1)
            warm = measure(tried(), d)
            trace.warm()
            t0 = time.monotonic()
            counter.start()
            await _until(lambda: tried() >= warmup + n, f"{warmup + n} failed connects", 30 + n)
            await asyncio.sleep(0.1)
            end = measure(tried(), d)
            g = Growth("away", warm, end, "a connect attempt to a band out of range (bleak's scan, simulated radio)",
                       time.monotonic() - t0, trace.top())  # fmt: skip
            g.extra["log_lines"] = len(counter.lines)
            g.extra["first_lines"] = counter.lines[:5]
            g.extra["bounds"] = bounds(d)
            return g
    finally:
        counter.stop()
        await d.stop()
        store.close()


# --- phase 2: clusters, alerts, acks, notifications, web clients -----------------------------------
def _epoch(t_ms: int, active: bool, worn: int = 1) -> dict[str, Any]:
    return {"type": "activity", "boot": 1, "t_ms": t_ms, "activity": 400 if active else 0, "breath": 50,
            "off_body": int(worn == 0), "worn": worn}  # fmt: skip


def _status(worn: int, uptime_s: int, next_seq: int) -> dict[str, Any]:
    return {"type": "status", "battery_pct": 80, "worn": worn, "log_fill_pct": 1, "flags": P.SF_TIME_SYNCED,
            "errors": 0, "boot": 1, "uptime_s": uptime_s, "next_seq": next_seq}  # fmt: skip


class Band:
    """The records a band's session hands to the daemon (``SessionSink``), on the injected clock.

    The session itself is the reconnect phase's subject; here the daemon is told of a connection as
    the session tells it (identified, synced, backfilled, streaming) and given records as they come.
    """

    def __init__(self, d: Daemon, clock: Clock) -> None:
        self.d, self.clock = d, clock
        self.t0 = clock.t
        self.seq = 0

    def connect(self) -> None:
        b = self.d.bands[0]
        b.session.info = BandInfo(DEVICE, "spasmwatch-band", "soak", "sim", "sim:0", "sim")
        self.d.on_connected(b.session.info)
        self.d.on_sync(DEVICE, 1, 0, self.t0)
        self.d.next_backfill_seq(DEVICE)
        self.d.on_record(DEVICE, {"type": "loginfo", "flags": P.LF_DONE, "oldest_seq": 0, "next_seq": 0, "capacity": 4096}, self.clock.t)
        b.session._set(State.STREAMING)

    def ms(self, t: float) -> int:
        return int(round((t - self.t0) * 1000))

    def record(self, rec: dict[str, Any]) -> None:
        self.d.on_record(DEVICE, rec, self.clock.t)

    def spasm(self) -> None:
        self.record(_event(self.seq, self.ms(self.clock.t) - 3000))
        self.seq += 1

    def epoch(self, active: bool, worn: int = 1) -> None:
        self.record(_epoch(self.ms(self.clock.t), active, worn))

    def status(self, worn: int = 1) -> None:
        self.record(_status(worn, self.ms(self.clock.t) // 1000, self.seq))


def cluster_channels(recv_url: str, broker_port: int, mqtt_timeout_s: float = 5.0) -> dict[str, Channel]:
    return {
        "webhook": WebhookChannel(WebhookSettings(url=recv_url + "/hook")),
        "ntfy": NtfyChannel(NtfySettings(url=recv_url + "/topic")),
        "mqtt": MqttChannel(MqttSettings(port=broker_port, timeout_s=mqtt_timeout_s)),
        "sound": SoundChannel(SoundSettings(command=("true",), bell=False)),
    }


async def _web_round(http: aiohttp.ClientSession, base: str, i: int) -> None:
    """One cycle's web clients: GETs on fresh connections, a note, live pages that come and go."""
    for path in GETS * 3 + GETS[2:4]:  # 20 requests
        async with http.get(base + path) as r:
            await r.read()
            assert r.status == 200, (path, r.status)
    async with http.post(base + "/api/notes", json={"kind": "note", "text": f"soak {i}", "by": "soak"}) as r:
        assert r.status == 201, await r.text()
    for k in range(4):
        await _live_page(base, cut=k % 2 == 1)


async def _live_page(base: str, cut: bool) -> None:
    """A page's live stream: opened, its hello read, then closed (``cut``: the socket reset, no goodbye)."""
    host, port = base.split("//")[1].rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /api/stream HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    got = b""
    while b": hello" not in got:
        chunk = await reader.read(4096)
        if not chunk:
            break
        got += chunk
    if cut:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
        writer.transport.abort()
    else:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@dataclass
class Rig:
    """The cluster phase's daemon, its band's records, clock and web page, and what its receivers got."""

    d: Daemon
    band: Band
    clock: Clock
    server: HttpServer
    received: list[Any]  # the HTTP receiver's log (emptied each cycle: the receiver's, not the daemon's)

    @property
    def base(self) -> str:
        return self.server.url.rstrip("/")

    async def settle(self) -> None:
        """Deliveries done, every live page's handler gone and the MQTT mirror waiting for the next
        event with none left (what a daemon is between two events)."""
        await self.d.dispatcher.drain()
        self.received.clear()
        # 1: the MQTT mirror's own subscription
        await _until(lambda: not self.server._streams and len(self.d._subs) == 1, "the live pages to go", 10)
        # Measured mid-publish (a change the drain made: a channel delivering again), the mirror held
        # the status it was sending besides the one it had sent: one BandStatus more, as growth.
        await _until(lambda: all(parked(q) for q in self.d._subs), "the MQTT mirror to publish what changed", 10)


def parked(q: asyncio.Queue[Any]) -> bool:
    """Whether ``q``'s reader waits on it with nothing left to read (asyncio's getters: those
    waiting in ``get``)."""
    return q.empty() and bool(q._getters)  # type: ignore[attr-defined]


async def cluster_cycle(r: Rig, http: aiohttp.ClientSession, i: int) -> None:
    """CYCLE_S simulated: (every SLEEP_EVERY-th cycle, a nap and a wake), a three-spasm cluster
    (acknowledged over the web API every other cycle, else left to escalate), a not-worn spell,
    then quiet until the cluster has closed; then the cycle's web clients."""
    d, band, clock = r.d, r.band, r.clock
    start = clock.t
    if i % SLEEP_EVERY == 0:
        for k in range(80):  # 11 quiet minutes (asleep), then 2.3 active ones (a wake onset)
            clock.t += 10
            band.epoch(active=k >= 66)
        d._tick()
    for _ in range(3):
        clock.t += 8
        band.spasm()
        band.epoch(active=True)
        d._tick()
    if i % 2 == 0:
        async with http.get(r.base + "/api/status") as resp:
            alerts = (await resp.json())["alerts"]
        for a in alerts:  # this cycle's alarm: the others' are left to whoever comes (nobody)
            if a["kind"] == "cluster" and a["state"] in ("ALARM", "ESCALATED") and a["created_t"] >= start:
                async with http.post(r.base + f"/api/alerts/{a['id']}/ack", json={"by": "soak"}) as resp:
                    assert resp.status == 200, await resp.text()
    clock.t += 10
    band.status(worn=0)  # off the baby for a bath
    d._tick()
    clock.t += 10
    band.status(worn=1)
    while clock.t + 60 < start + CYCLE_S:  # the rest: quiet, the ticker running
        clock.t += 60
        band.epoch(active=True)
        d._tick()
    clock.t = start + CYCLE_S
    d._tick()
    await _web_round(http, r.base, i)
    await r.settle()


@contextlib.asynccontextmanager
async def cluster_daemon(tmp: Path, t0: float) -> AsyncIterator[Rig]:
    broker = start_broker(tmp)
    try:
        async with http_recorder() as recv, _rig(tmp, t0, cluster_channels(recv.url, broker.port), recv.seen) as r:
            yield r
    finally:
        stop_broker(broker)


@contextlib.asynccontextmanager
async def _rig(tmp: Path, t0: float, channels: dict[str, Channel], seen: list[Any]) -> AsyncIterator[Rig]:
    clock = Clock(t0)
    store = Store(tmp / "clusters.db")
    spec = BandSpec("crib", lambda: None)  # type: ignore[arg-type,return-value]  # the band: Band, above
    d = Daemon(store, [spec], channels, clock=clock, alert_settings=AlertSettings(escalate_after_s=60.0))
    server = HttpServer(d, port=0, clock=clock.wall, heartbeat_s=5.0)
    await server.start()
    mqtt = d.dispatcher.channels["mqtt"]
    assert isinstance(mqtt, MqttChannel)
    mirror = asyncio.create_task(d._mqtt_mirror("mqtt", mqtt), name="mqtt status")  # what Daemon.start runs
    band = Band(d, clock)
    band.connect()
    try:
        yield Rig(d, band, clock, server, seen)
    finally:
        mirror.cancel()
        await asyncio.gather(mirror, return_exceptions=True)
        await server.stop()
        await d.dispatcher.close()
        store.close()


async def clusters(tmp: Path, warmup: int, n: int, trace: Tracer) -> Growth:
    t0 = time.time() - (warmup + n) * CYCLE_S - 3600  # ends about now (the web page's "today")
    async with cluster_daemon(tmp, t0) as r:
        conn = aiohttp.TCPConnector(force_close=True)  # a fresh connection per request, as many phones make
        async with aiohttp.ClientSession(connector=conn) as http:
            warm: Point | None = None
            start = time.monotonic()
            for i in range(1, warmup + n + 1):
                await cluster_cycle(r, http, i)
                if i == warmup:
                    warm = measure(i, r.d, r.server)
                    trace.warm()
                    start = time.monotonic()
                if i % 50 == 0:
                    progress(f"  clusters: {i}/{warmup + n}")
            assert warm is not None
            end = measure(warmup + n, r.d, r.server)
        g = Growth("clusters", warm, end, f"a cluster and its alerts, 20 GETs, a note, 4 live pages ({CYCLE_S / 60:.0f} simulated min)",
                   time.monotonic() - start, trace.top())  # fmt: skip
        g.extra["clusters_stored"] = len(list(r.d.store.clusters(DEVICE)))
        g.extra["notifications"] = r.d.engine._notice_ids
        g.extra["deliveries_failed"] = sum(not x.ok for x in r.d.dispatcher.deliveries)
        g.extra["bounds"] = bounds(r.d)
        return g


# --- phase: the receivers away (MQTT broker stopped, webhook and ntfy receiver down) --------------
def outbox_rows(db: Path) -> dict[str, int]:
    """The store's ``outbox`` rows by channel (notifications kept until their receiver acknowledges) and ``retained`` rows."""
    with contextlib.closing(sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)) as c:
        out = {f"store.outbox.{ch}": int(k) for ch, k in c.execute("SELECT channel, count(*) FROM outbox GROUP BY channel")}
        out["store.retained"] = int(c.execute("SELECT count(*) FROM retained").fetchone()[0])
    return out


def _paho_held(d: Daemon) -> int:
    mqtt = d.dispatcher.channels["mqtt"]
    assert isinstance(mqtt, MqttChannel)
    return sum(len(getattr(k.client, "_out_messages", {})) for k in mqtt._links.values())


@contextlib.contextmanager
def fast_mqtt_reconnect(delay_s: tuple[float, float]) -> Iterator[None]:
    """paho's reconnect delay ``delay_s`` (1 to 30 s in a daemon): the phase is about what an outage leaves, not its pace."""
    from spasmwatch.alerts.channels import mqtt as mqtt_mod

    saved = mqtt_mod.RECONNECT_DELAY_S
    mqtt_mod.RECONNECT_DELAY_S = delay_s  # type: ignore[assignment]
    try:
        yield
    finally:
        mqtt_mod.RECONNECT_DELAY_S = saved


@dataclass
class Receivers:
    """The MQTT broker and the HTTP receiver (webhook, ntfy), stopped and started again on their ports."""

    tmp: Path
    broker_port: int
    http_port: int
    broker: Any = None
    _http: contextlib.AsyncExitStack | None = None
    seen: list[Any] = field(default_factory=list)  # what every up-spell's HTTP receiver got
    outages: int = 0

    async def up(self) -> None:
        self.broker = start_broker(self.tmp, port=self.broker_port)
        self._http = contextlib.AsyncExitStack()
        rec = await self._http.enter_async_context(http_recorder(port=self.http_port))
        rec.seen = self.seen

    async def down(self) -> None:
        self.outages += 1
        if self.broker is not None:
            stop_broker(self.broker)
            self.broker = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None


async def outage_cycle(r: Rig, rx: Receivers, http: aiohttp.ClientSession, i: int, away_cycles: int) -> dict[str, int]:
    """The broker and the HTTP receiver stopped; ``away_cycles`` clusters (WARNING, ALARM, an ack
    every other one over the web API, else ESCALATED; the CLOSEDs) while they are away, each
    tried with the dispatcher's retries and every minute's resend pass; then both back on their
    ports: paho reconnects and sends what it held, the next resend pass what webhook and ntfy kept.
    Returns the peaks while away (paho's held messages, outbox rows)."""
    d, band, clock = r.d, r.band, r.clock
    await rx.down()
    peak = {"paho_held": 0, "outbox": 0}
    for k in range(away_cycles):
        start = clock.t
        for _ in range(3):
            clock.t += 8
            band.spasm()
            band.epoch(active=True)
            d._tick()
        await d.dispatcher.drain()
        if (i + k) % 2 == 0:
            async with http.get(r.base + "/api/status") as resp:
                alerts = (await resp.json())["alerts"]
            for a in alerts:
                if a["kind"] == "cluster" and a["state"] in ("ALARM", "ESCALATED") and a["created_t"] >= start:
                    async with http.post(r.base + f"/api/alerts/{a['id']}/ack", json={"by": "soak"}) as resp:
                        assert resp.status == 200, await resp.text()
        while clock.t + 60 < start + CYCLE_S:  # quiet: the ticker and every minute's resend pass
            clock.t += 60
            band.epoch(active=True)
            d._tick()
        clock.t = start + CYCLE_S
        d._tick()
        await d.dispatcher.drain()
        rows = outbox_rows(d.store.path)
        peak["paho_held"] = max(peak["paho_held"], _paho_held(d))
        peak["outbox"] = max(peak["outbox"], sum(v for k2, v in rows.items() if k2.startswith("store.outbox.")))
    await rx.up()
    mqtt = d.dispatcher.channels["mqtt"]
    assert isinstance(mqtt, MqttChannel)
    await _until(lambda: all(k.connected.is_set() for k in mqtt._links.values()), "paho to reconnect", 30)
    await _until(lambda: _paho_held(d) == 0, "the broker to acknowledge what paho held", 30)
    clock.t += K.RESEND_KEPT_EVERY_S  # the next minute's resend pass: webhook and ntfy send what they kept
    d._tick()
    await d.dispatcher.drain()
    await r.settle()
    return peak


async def long_outage(r: Rig, rx: Receivers, hours: float) -> dict[str, Any]:
    """The receivers away for ``hours`` with one alarm nobody acknowledges (it escalates and stays
    open, worth sending however late): the journal's lines an hour while webhook and ntfy's resend
    passes (every minute) fail; then both back: what drains."""
    d, band, clock = r.d, r.band, r.clock
    await rx.down()
    seen0 = len(rx.seen)
    with counting() as counter:
        for _ in range(3):
            clock.t += 8
            band.spasm()
            band.epoch(active=True)
            d._tick()
        first_hour = 0
        for k in range(int(hours * 360)):
            clock.t += 10
            band.epoch(active=True)
            d._tick()
            if d.dispatcher._tasks or d.dispatcher._passes():
                await d.dispatcher.drain()
            if k == 359:
                first_hour = len(_daemons(counter.lines))
        away_lines = _daemons(counter.lines)
        kept = outbox_rows(d.store.path)
        await rx.up()
        mqtt = d.dispatcher.channels["mqtt"]
        assert isinstance(mqtt, MqttChannel)
        await _until(lambda: all(k.connected.is_set() for k in mqtt._links.values()) and _paho_held(d) == 0, "the broker back", 30)
        clock.t += K.RESEND_KEPT_EVERY_S
        d._tick()
        await d.dispatcher.drain()
        back_lines = _daemons(counter.lines)[len(away_lines):]
    later = len(away_lines) - first_hour
    return {"hours": hours, "log_lines_away": len(away_lines), "first_hour": first_hour,
            "per_hour_after": round(later / (hours - 1), 1) if hours > 1 else None,
            "by_kind": Counter(_kind(x) for x in away_lines).most_common(6), "kept_while_away": kept,
            "http_received_after": [f"{x.path} {x.headers.get('X-Spasmwatch-Event') or x.body[:40].decode(errors='replace')}" for x in rx.seen[seen0:]],
            "outbox_after": outbox_rows(d.store.path), "lines_back": back_lines[:8]}  # fmt: skip


async def outage(tmp: Path, warmup: int, n: int, trace: Tracer, away_cycles: int = 2, long_hours: float = 0.0) -> Growth:
    """N outages of the broker and the HTTP receiver, each ``away_cycles`` x 20 simulated minutes."""
    from spasmwatch.alerts.channels.dispatch import RetrySettings

    rx = Receivers(tmp, free_port(), free_port())
    await rx.up()
    recv_url = f"http://127.0.0.1:{rx.http_port}"
    t0 = time.time() - (warmup + n) * away_cycles * CYCLE_S - 3600
    try:
        with fast_mqtt_reconnect((0.05, 0.2)):
            # MQTT waits 0.1 s for its broker (10 s in a daemon): no second spent per attempt while it is away.
            async with _rig(tmp, t0, cluster_channels(recv_url, rx.broker_port, mqtt_timeout_s=0.1), rx.seen) as r:
                # The daemon's 4 attempts (its log lines), retried at once (1-30 s in a daemon).
                r.d.dispatcher.retry = RetrySettings(first_delay_s=0.001, max_delay_s=0.001, attempt_timeout_s=2.0)
                conn = aiohttp.TCPConnector(force_close=True)
                async with aiohttp.ClientSession(connector=conn) as http:
                    await r.settle()
                    warm: Point | None = None
                    peaks: list[dict[str, int]] = []
                    start = time.monotonic()
                    with counting() as counter:
                        for i in range(1, warmup + n + 1):
                            peaks.append(await outage_cycle(r, rx, http, i, away_cycles))
                            if i == warmup:
                                warm = _with_rows(measure(i, r.d, r.server), r.d)
                                trace.warm()
                                start = time.monotonic()
                                counter.lines.clear()
                            if i % 10 == 0:
                                progress(f"  outages: {i}/{warmup + n}")
                    assert warm is not None
                    end = _with_rows(measure(warmup + n, r.d, r.server), r.d)
                g = Growth("outage", warm, end, f"broker and HTTP receiver away for {away_cycles} clusters "
                           f"({away_cycles * CYCLE_S / 60:.0f} simulated min), then back", time.monotonic() - start, trace.top())  # fmt: skip
                # Alarms nobody acknowledged stay open, and clusters tracked, for the rebuild window
                # after they end (bounded by time: the clusters phase runs past it; this one need not).
                window = int(K.REBUILD_WINDOW_S / CYCLE_S) + 1
                g.extra["bounds"] = {**bounds(r.d), **{f"store.outbox.{c}": KEEP_UNACKED for c in ("mqtt", "webhook", "ntfy")},
                                     "engine._clusters": window, "crib.analysis.tracked": window}  # fmt: skip
                g.extra["peak_while_away"] = {k: max(p[k] for p in peaks) for k in peaks[0]}
                g.extra["deliveries_failed"] = sum(not x.ok for x in r.d.dispatcher.deliveries)
                g.extra["http_received"] = len(rx.seen)
                g.extra["notifications"] = r.d.engine._notice_ids
                g.extra["outbox_at_end"] = outbox_rows(r.d.store.path)
                lines = _daemons(counter.lines)
                g.extra["log_lines"] = len(lines)
                g.extra["log_lines_per_outage"] = round(len(lines) / n, 1)
                g.extra["log_lines_by_kind"] = Counter(_kind(x) for x in lines).most_common(8)
                if long_hours:
                    g.extra["long_outage"] = await long_outage(r, rx, long_hours)
                return g
    finally:
        await rx.down()


def _with_rows(p: Point, d: Daemon) -> Point:
    p.internals.update(outbox_rows(d.store.path))
    p.internals["mqtt.paho._out_messages"] = _paho_held(d)
    return p


# --- phase 3: log lines per quiet hour ---------------------------------------------------------------
@contextlib.contextmanager
def counting() -> Iterator[Counting]:
    """The log lines at INFO and above of every logger (as ``spasmwatch run``'s basicConfig(level=INFO) shows them)."""
    counter = Counting()
    counter.start()
    try:
        yield counter
    finally:
        counter.stop()


def _daemons(lines: list[str]) -> list[str]:
    """Without the access log of the rig's own HTTP receiver (webhook, ntfy), which is not the daemon's."""
    return [x for x in lines if not (x.startswith("INFO aiohttp.access") and ("POST /hook" in x or "POST /topic" in x))]


def _kind(line: str) -> str:
    """A log line without its numbers and keys: lines of one kind count together."""
    import re

    return re.sub(r"\b[\w-]*\d[\w.-]*", "#", line)[:110]


class Counting(logging.Handler):
    """Keeps the lines at INFO and above of every logger between ``start`` and ``stop`` (as
    ``spasmwatch run``'s basicConfig(level=INFO) shows them)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self._old_level: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    def start(self) -> None:
        root = logging.getLogger()
        self._old_level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(self)

    def stop(self) -> None:
        """Idempotent: a phase stops counting before its end is measured and again in its finally."""
        root = logging.getLogger()
        root.removeHandler(self)
        if self._old_level is not None:
            root.setLevel(self._old_level)
            self._old_level = None


async def quiet(tmp: Path, hours: float) -> dict[str, Any]:
    """A connected band, nothing happening: an epoch and a STATUS every 10 s, a tick every second."""
    async with cluster_daemon(tmp, time.time() - hours * 3600 - 600) as r:
        d, band, clock = r.d, r.band, r.clock
        size0 = _store_bytes(d.store.path)
        with counting() as counter:
            for _ in range(int(hours * 360)):
                for _ in range(10):
                    clock.t += 1
                    d._tick()
                band.epoch(active=False)
                band.status()
            await d.dispatcher.drain()
        grown = _store_bytes(d.store.path) - size0
        return {"hours": hours, "log_lines": len(counter.lines), "per_hour": len(counter.lines) / hours,
                "first_lines": counter.lines[:10], "notifications": d.engine._notice_ids,
                "store_kb_per_day": round(grown / 1024 * 24 / hours)}  # fmt: skip


def _store_bytes(db: Path) -> int:
    """The store's size as SQLite counts it, pages in the WAL included (the WAL file itself is
    reused after a checkpoint: up to ~4 MB that does not grow)."""
    with contextlib.closing(sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)) as c:
        return int(c.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetchone()[0])


async def quiet_band(tmp: Path, hours: float, speed: int) -> dict[str, Any]:
    """The same through the real parts: the band firmware (a quiet recording) at ``speed``, connected
    for ``hours`` simulated hours; log lines at INFO and above once it streams."""
    csv = quiet_recording(tmp, hours * 3600 + 300)
    band = SimBand(csv, tmp / "flash", hold=True, speed=speed, device_id=DEVICE, timeout_s=int(hours * 3600 / speed) + 120,
                   args=["--paced"])  # on a real-time deadline: unpaced, its clock fell 5 % behind (a clock step every 100 s)
    store = Store(tmp / "quiet.db")
    link = lambda: open_link("sim", band.address, bond_file=tmp / "bonds.json")  # noqa: E731
    d = Daemon(store, [BandSpec("crib", link)], clock=ScaledClock(time.time(), speed))
    counter = Counting()
    try:
        await d.start()
        s = d.bands[0].session
        await _until(lambda: s.state is State.STREAMING, "the band to connect", 60)
        await asyncio.sleep(1.0)  # the connection's own work done
        t0 = d.clock.wall()
        first = measure(0, d)
        counter.start()
        await asyncio.sleep(hours * 3600 / speed)
        simulated_h = (d.clock.wall() - t0) / 3600
        end = measure(1, d)
        return {"hours": round(simulated_h, 3), "speed": speed, "log_lines": len(counter.lines),
                "per_hour": len(counter.lines) / simulated_h, "first_lines": counter.lines[:10],
                "state": s.state.value, "epochs_stored": len(list(store.activity(DEVICE))),
                "growth": {a: getattr(end, a) - getattr(first, a) for a in ("tasks", "threads", "fds", "db_files", "rss_kb")}}  # fmt: skip
    finally:
        counter.stop()
        await d.stop()
        band.kill()
        store.close()


# --- report ------------------------------------------------------------------------------------------
def show(g: Growth) -> None:
    w, e = g.warm, g.end
    print(f"{g.phase}: {g.cycles} cycles after {w.cycles} to warm up ({g.per}), {g.wall_s:.1f} s")
    print(f"  tasks {w.tasks} -> {e.tasks}, threads {w.threads} -> {e.threads}, fds {w.fds} -> {e.fds}, "
          f"store fds {w.db_files} -> {e.db_files}, RSS {w.rss_kb / 1024:.1f} -> {e.rss_kb / 1024:.1f} MB "
          f"({(e.rss_kb - w.rss_kb) / max(1, g.cycles):+.1f} KB a cycle)")  # fmt: skip
    ours = g.grown("objects")
    print("  spasmwatch objects grown: " + (", ".join(f"{k} {a}{d:+d}" for k, a, d in ours) or "none")
          + f"; not held by a bounded collection: {unexplained(g) or 'none'}")
    print("  internal collections changed: " + (", ".join(f"{k} {a}{d:+d}" for k, a, d in g.grown("internals")) or "none"))
    print(f"  past their bound (or, unbounded, past the warm-up's size): {over_bound(g, g.extra.get('bounds', {})) or 'none'}")
    print("  all types, top growth: " + ", ".join(f"{k.rsplit('.', 1)[-1]} {d:+d}" for k, _, d in g.grown("all_types", 8)))
    for line in g.tracemalloc_top:
        print("    " + line)
    for k, v in g.extra.items():
        print(f"  {k}: {v}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="40 reconnects, 40 clusters, a quiet hour, 15 min of a quiet band")
    ap.add_argument("--reconnects", type=int, default=500)
    ap.add_argument("--serial-reconnects", type=int, default=200, help="USB serial cuts and reopens (the CDC bridge)")
    ap.add_argument("--away", type=int, default=300, help="failed connects to a band out of range")
    ap.add_argument("--outages", type=int, default=60, help="times the broker and the HTTP receiver go away and come back")
    ap.add_argument("--outage-clusters", type=int, default=2, help="clusters (20 simulated min each) during each outage")
    ap.add_argument("--long-outage-hours", type=float, default=6.0, help="then one outage this long, an alarm left open")
    ap.add_argument("--clusters", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=0,
                    help="cycles before the first measurement (default: 20 reconnects; 80 clusters: 26 simulated hours, "
                         "past the rebuild window and the wake onsets kept)")
    ap.add_argument("--quiet-hours", type=float, default=24.0)
    ap.add_argument("--speed", type=int, default=10, help="the band's time speed-up in the reconnect phase")
    ap.add_argument("--quiet-band-hours", type=float, default=1.0, help="simulated hours of a real quiet band (0: skip)")
    ap.add_argument("--quiet-band-speed", type=int, default=20,
                    help="its speed-up (at 60x the band's paced clock lags on 2 busy cores: its epochs come late, said at INFO)")
    ap.add_argument("--no-tracemalloc", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.quick:
        args.reconnects, args.away, args.clusters, args.quiet_hours, args.quiet_band_hours = 40, 40, 40, 1.0, 0.25
        args.serial_reconnects, args.outages, args.long_outage_hours = 20, 6, 2.0
    trace = Tracer(not args.no_tracemalloc)
    warm = {"r": args.warmup or 20, "a": args.warmup or 20, "c": args.warmup or 80, "o": args.warmup or 2}
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load": os.getloadavg()[0], "tracemalloc": trace.on}
    with tempfile.TemporaryDirectory(prefix="spasmwatch-soak-") as td:
        tmp = Path(td)
        progress(f"reconnects: {args.reconnects} (+{warm['r']} to warm up) ...")
        (tmp / "r").mkdir()
        g1 = asyncio.run(reconnects(tmp / "r", warm["r"], args.reconnects, args.speed, trace))
        show(g1)
        progress(f"serial reconnects: {args.serial_reconnects} (+{warm['r']} to warm up) ...")
        (tmp / "s").mkdir()
        gs = asyncio.run(reconnects(tmp / "s", warm["r"], args.serial_reconnects, args.speed, trace, "serial"))
        show(gs)
        progress(f"away: {args.away} failed connects (+{warm['a']} to warm up) ...")
        (tmp / "a").mkdir()
        ga = asyncio.run(away(tmp / "a", warm["a"], args.away, trace))
        show(ga)
        progress(f"clusters: {args.clusters} (+{warm['c']} to warm up) ...")
        (tmp / "c").mkdir()
        g2 = asyncio.run(clusters(tmp / "c", warm["c"], args.clusters, trace))
        show(g2)
        progress(f"outages: {args.outages} (+{warm['o']} to warm up) of the broker and the HTTP receiver ...")
        (tmp / "o").mkdir()
        go = asyncio.run(outage(tmp / "o", warm["o"], args.outages, trace, args.outage_clusters, args.long_outage_hours))
        show(go)
        progress(f"quiet: {args.quiet_hours:g} simulated hours ...")
        (tmp / "q").mkdir()
        q = asyncio.run(quiet(tmp / "q", args.quiet_hours))
        print(f"quiet: {q['log_lines']} log lines (INFO and above) in {q['hours']:g} simulated hours of a connected band "
              f"with nothing happening: {q['per_hour']:.2f} an hour; {q['notifications']} notifications; "
              f"the store grows {q['store_kb_per_day']} KB a day (an epoch and a STATUS every 10 s, kept as history)")  # fmt: skip
        for line in q["first_lines"]:
            print("    " + line)
        qb: dict[str, Any] = {}
        if args.quiet_band_hours > 0:
            progress(f"quiet band: {args.quiet_band_hours:g} simulated hours at {args.quiet_band_speed}x ...")
            (tmp / "qb").mkdir()
            qb = asyncio.run(quiet_band(tmp / "qb", args.quiet_band_hours, args.quiet_band_speed))
            print(f"quiet band (firmware under micropython, {qb['speed']}x): {qb['log_lines']} log lines in {qb['hours']:.2f} "
                  f"simulated hours connected ({qb['per_hour']:.2f} an hour), {qb['epochs_stored']} epochs stored, "
                  f"growth {qb['growth']}")  # fmt: skip
            for line in qb["first_lines"]:
                print("    " + line)
    result.update(reconnects=g1.summary(), serial_reconnects=gs.summary(), away=ga.summary(), clusters=g2.summary(), outage=go.summary(), quiet=q, quiet_band=qb)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
