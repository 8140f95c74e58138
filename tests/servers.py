"""Real local endpoints for tests: an HTTP recorder (aiohttp on 127.0.0.1) and a mosquitto broker."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from aiohttp import web
from paho.mqtt.enums import CallbackAPIVersion

from spasmwatch.transport.simband import free_port

MOSQUITTO = "/usr/sbin/mosquitto"
MQTT_WAIT_S = 10.0


@dataclass
class Seen:
    """What the HTTP recorder received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    url: str
    seen: list[Seen] = field(default_factory=list)
    # ("in", i) as request ``seen[i]`` arrives, ("out", i) as it is answered: which came while another was held.
    log: list[tuple[str, int]] = field(default_factory=list)


@asynccontextmanager
async def http_recorder(
    statuses: list[int] | None = None,
    delay_s: float = 0.0,
    port: int = 0,
    hold: Callable[[Seen], bool] | None = None,
    hold_s: float = 0.0,
) -> AsyncIterator[Recorder]:
    """An aiohttp server on 127.0.0.1 answering ``statuses`` in turn, then 200; on ``port`` (0: an
    ephemeral one), e.g. a receiver that was down (nothing listening there) coming back.

    ``hold``: a request it says yes to is answered only once a request it says no to has come in
    after it, or ``hold_s`` after it came (a receiver slow to answer that one): ``log`` tells
    whether another request reached it while that one was held."""
    answers = list(statuses or [])
    rec = Recorder("")
    held: list[asyncio.Event] = []

    async def handle(request: web.Request) -> web.Response:
        rec.seen.append(Seen(request.method, request.path, dict(request.headers), await request.read()))
        i = len(rec.seen) - 1
        rec.log.append(("in", i))
        if hold is not None and hold(rec.seen[i]):
            held.append(released := asyncio.Event())
            try:
                await asyncio.wait_for(released.wait(), hold_s)
            except TimeoutError:
                pass  # held its longest: answered all the same
        else:
            for e in held:
                e.set()
            held.clear()
        if delay_s:
            await asyncio.sleep(delay_s)
        rec.log.append(("out", i))
        return web.Response(status=answers.pop(0) if answers else 200, text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host, port = runner.addresses[0][:2]
    rec.url = f"http://{host}:{port}"
    try:
        yield rec
    finally:
        await runner.cleanup()


@dataclass
class Broker:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


def start_broker(tmp: Path, extra: str = "allow_anonymous true\n", port: int | None = None) -> Broker:
    """``port``: that one (a broker restarted), else a free one."""
    if not Path(MOSQUITTO).exists():
        pytest.fail(f"{MOSQUITTO} is missing: run tools/install-system-deps")
    port = port or free_port()
    conf = tmp / "mosquitto.conf"
    log = tmp / "mosquitto.log"
    # As root, mosquitto drops to user "mosquitto", who cannot read pytest's private tmp dir.
    user = "user root\n" if os.geteuid() == 0 else ""
    conf.write_text(f"listener {port} 127.0.0.1\npersistence false\nlog_dest file {log}\n{user}{extra}")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mosquitto exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return Broker(port, proc, log)
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("mosquitto did not listen within 10 s")


def stop_broker(b: Broker) -> None:
    b.proc.terminate()
    try:
        b.proc.wait(5)
    except subprocess.TimeoutExpired:
        b.proc.kill()
        b.proc.wait(5)


class Watcher:
    """A plain paho subscriber: the last payload per topic (and whether it came retained), and every one."""

    def __init__(self, port: int, topic: str = "#", **auth: str) -> None:
        self.last: dict[str, tuple[bytes, bool]] = {}
        self.seen: list[tuple[str, bytes]] = []  # (topic, payload) in arrival order
        self.at: list[float] = []  # time.monotonic() of each arrival, as ``seen`` (latencies measured)
        self.subscribed = threading.Event()
        self.cond = threading.Condition()
        self.c = paho.Client(CallbackAPIVersion.VERSION2)
        if auth:
            self.c.username_pw_set(auth["username"], auth["password"])
        self.c.on_message = self._on_message
        self.c.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.c.on_subscribe = lambda *_: self.subscribed.set()
        self.c.connect("127.0.0.1", port, 30)
        self.c.loop_start()
        # Subscribed before anything is published to it: a non-retained event sent earlier would
        # never reach it (a test then failed under load, waiting for an event already gone).
        if not self.subscribed.wait(MQTT_WAIT_S):
            self.stop()
            raise AssertionError("the watcher did not get its subscription")

    def _on_message(self, _c: Any, _u: Any, m: paho.MQTTMessage) -> None:
        with self.cond:
            self.last[m.topic] = (m.payload, bool(m.retain))
            self.seen.append((m.topic, m.payload))
            self.at.append(time.monotonic())
            self.cond.notify_all()

    def wait(self, topic: str, payload: bytes | None = None) -> bytes:
        with self.cond:
            ok = self.cond.wait_for(
                lambda: topic in self.last and (payload is None or self.last[topic][0] == payload), MQTT_WAIT_S
            )
        assert ok, f"{topic} never got {payload!r}; last: {self.last.get(topic)}"
        return self.last[topic][0]

    def json(self, topic: str) -> Any:
        return json.loads(self.wait(topic))

    def latest(self, topic: str) -> dict[str, Any]:
        """The last JSON payload heard on ``topic``, now, without waiting ({} before any)."""
        with self.cond:
            got = self.last.get(topic)
        return json.loads(got[0]) if got else {}

    def all(self, topic: str) -> list[Any]:
        """Every JSON payload heard on ``topic`` so far, in order."""
        with self.cond:
            return [json.loads(p) for t, p in self.seen if t == topic]

    def wait_until(self, ok: Callable[[], bool], what: str, timeout_s: float = MQTT_WAIT_S) -> None:
        with self.cond:
            assert self.cond.wait_for(ok, timeout_s), f"{what}: not within {timeout_s:g} s; heard on {[t for t, _ in self.seen]}"

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def retained(port: int) -> dict[str, bytes]:
    """The retained messages a newcomer to the broker on 127.0.0.1:``port`` gets (topic -> payload; an empty one is deleted, not listed).

    A fresh subscriber to '#' is sent every retained message right after its SUBACK, before what
    it publishes itself afterwards: its own probe, heard back, ends the list."""
    got: dict[str, bytes] = {}
    done = threading.Event()
    probe = f"probe/{uuid.uuid4().hex}"
    c = paho.Client(CallbackAPIVersion.VERSION2)

    def on_message(_c: Any, _u: Any, m: paho.MQTTMessage) -> None:
        if m.topic == probe:
            done.set()
        elif m.retain and m.payload:
            got[m.topic] = bytes(m.payload)

    c.on_message = on_message
    c.on_subscribe = lambda cl, *_: cl.publish(probe, b"end", qos=1)
    c.on_connect = lambda cl, *_: cl.subscribe("#", qos=1)
    c.connect("127.0.0.1", port, 30)
    c.loop_start()
    try:
        assert done.wait(10), "the probe never came back from the broker"
    finally:
        c.disconnect()
        c.loop_stop()
    return got


def mqtt_topic(packet: bytes) -> str | None:
    """The topic of an MQTT PUBLISH packet (whole, fixed header included); None for other packets."""
    if packet[0] >> 4 != 3:
        return None
    i = 1
    while packet[i] & 0x80:  # the remaining length's varint
        i += 1
    n = int.from_bytes(packet[i + 1 : i + 3], "big")
    return packet[i + 3 : i + 3 + n].decode()


class MqttProxy:
    """A TCP relay on 127.0.0.1 to a broker, with a network the test breaks on purpose.

    ``lose``: client-to-broker MQTT packets it says yes to are dropped (never reach the broker,
    so never acknowledged), e.g. ``lambda p: True`` for a link that silently stops carrying.
    ``hold``: client-to-broker PUBLISHes (QoS 1) it says yes to reach the broker, but the broker's
    PUBACK of each (and whatever the broker sends after it on that connection) is held back until a
    PUBLISH it says no to has come from the client after it, or ``hold_s`` (a broker slow to take
    that one). ``log``: ("publish", packet) for each PUBLISH from a client, ("released", PUBACK) as
    a held one goes on, in that order.
    ``refuse``: new connections are closed at once (the broker unreachable). ``cut()``:
    every open connection is closed (reset). Subscribers that watch connect to the broker
    itself, so they miss nothing.
    """

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.lose: Callable[[bytes], bool] | None = None
        self.hold: Callable[[bytes], bool] | None = None
        self.hold_s = 0.0
        self.log: list[tuple[str, bytes]] = []
        self._held: dict[bytes, threading.Event] = {}  # packet id -> its PUBACK's release
        self.refuse = False
        self.lost: list[bytes] = []
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            if self.refuse:
                client.close()
                continue
            broker = socket.create_connection(("127.0.0.1", self.broker_port))
            with self._lock:
                self._socks += [client, broker]
            threading.Thread(target=self._upstream, args=(client, broker), daemon=True).start()
            threading.Thread(target=self._downstream, args=(broker, client), daemon=True).start()

    def _upstream(self, src: socket.socket, dst: socket.socket) -> None:
        buf = b""
        while data := self._recv(src):
            buf += data
            while (packet := _whole_packet(buf)) is not None:
                buf = buf[len(packet) :]
                lose = self.lose
                if lose is not None and lose(packet):
                    self.lost.append(packet)
                    continue
                if mqtt_topic(packet) is not None:
                    self._note_publish(packet)
                if not self._send(dst, packet):
                    return
        self._close(dst)

    def _note_publish(self, packet: bytes) -> None:
        hold = self.hold
        with self._lock:
            self.log.append(("publish", packet))
            if hold is not None and hold(packet):
                self._held[_packet_id(packet)] = threading.Event()
            else:
                for e in self._held.values():
                    e.set()

    def _downstream(self, src: socket.socket, dst: socket.socket) -> None:
        buf = b""
        while data := self._recv(src):
            buf += data
            while (packet := _whole_packet(buf)) is not None:
                buf = buf[len(packet) :]
                if packet[0] >> 4 == 4:  # a PUBACK: its packet id after the fixed header
                    with self._lock:
                        released = self._held.get(packet[2:4])
                    if released is not None:
                        # Left in ``_held`` while it waits: a PUBLISH that comes after the broker's
                        # PUBACK releases it too (popped at once, a sender that gave up on it and
                        # published again later found it held for all of ``hold_s``).
                        released.wait(self.hold_s)
                        with self._lock:
                            del self._held[packet[2:4]]
                            self.log.append(("released", packet))
                if not self._send(dst, packet):
                    return
        self._close(dst)

    @staticmethod
    def _recv(s: socket.socket) -> bytes:
        try:
            return s.recv(65536)
        except OSError:
            return b""

    @staticmethod
    def _send(s: socket.socket, data: bytes) -> bool:
        try:
            s.sendall(data)
            return True
        except OSError:
            return False

    @staticmethod
    def _close(s: socket.socket) -> None:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            self._close(s)

    def close(self) -> None:
        _close_listener(self._server)
        self.cut()


class BlackHole:
    """A TCP listener on 127.0.0.1 that takes connections and never answers (a broker stalled, or
    a wrong port on a host that swallows everything): an MQTT client's CONNECT gets no CONNACK.
    ``accepted``: how many connections it holds."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def accepted(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while True:
            try:
                self._held.append(self._server.accept()[0])
            except OSError:
                return  # closed

    def close(self) -> None:
        _close_listener(self._server)
        for s in self._held:
            s.close()


def _close_listener(server: socket.socket) -> None:
    try:
        server.shutdown(socket.SHUT_RDWR)  # wakes the thread in accept (close alone does not)
    except OSError:
        pass
    server.close()


def _packet_id(publish: bytes) -> bytes:
    """The packet id of a QoS 1 or 2 PUBLISH packet (whole): the 2 bytes after its topic."""
    i = 1
    while publish[i] & 0x80:  # the remaining length's varint
        i += 1
    n = int.from_bytes(publish[i + 1 : i + 3], "big")
    return publish[i + 3 + n : i + 5 + n]


def _whole_packet(buf: bytes) -> bytes | None:
    """The first MQTT packet in ``buf`` if it is all there."""
    length, shift, i = 0, 0, 1
    while True:
        if i >= len(buf):
            return None
        length |= (buf[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not buf[i - 1] & 0x80:
            break
    end = i + length
    return buf[:end] if len(buf) >= end else None


def run_then_close(main: Callable[[], Coroutine[Any, Any, None]], *close: Callable[[], object], timeout_s: float = 60) -> None:
    """``main`` on a fresh event loop, bounded in time; each of ``close`` (a watcher's stop, a proxy's
    close) called whatever happens."""
    try:
        asyncio.run(asyncio.wait_for(main(), timeout_s))
    finally:
        for c in close:
            c()


class SynHole:
    """A TCP port on 127.0.0.1 whose connects never complete (a broker's host gone, its SYNs
    dropped by a router): a listener that never accepts, its backlog filled by a connection of its
    own, so the kernel drops every further SYN and a blocking ``connect`` waits for its timeout.
    ``close`` frees the port."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0), backlog=0)
        self.port: int = self._server.getsockname()[1]
        self._filler = socket.create_connection(("127.0.0.1", self.port), timeout=5)  # the backlog's one place

    def connecting(self) -> int:
        """Sockets of this process in SYN_SENT to the port now (/proc/net/tcp, state 02)."""
        port = f"{self.port:04X}"
        with open("/proc/net/tcp") as f:
            return sum(1 for line in f.readlines()[1:] if line.split()[2].endswith(f":{port}") and line.split()[3] == "02")

    def close(self) -> None:
        self._filler.close()
        self._server.close()


class SilentDns:
    """A DNS server that never answers (a home router's resolver hung, an upstream gone): UDP port
    53 on a loopback address of its own (127.x.y.z: loopback only, no clash with one on the
    machine), reading every query and answering none. ``in_its_resolver`` runs a command with it
    as the system's only nameserver: /etc/resolv.conf bound over in a mount namespace of the
    command's own (unshare; the machine's resolv.conf untouched), with resolv.conf's longest waits
    (timeout:30 attempts:5), so a lookup blocks in getaddrinfo for minutes, as it may on a real
    network. Needs root (port 53, the mount). ``asked``: the names asked so far."""

    RESOLV_OPTIONS = "options timeout:30 attempts:5"  # glibc's most: 30 s a try, 5 tries
    _BIND = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'

    def __init__(self, folder: Path) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = random.Random()
        while True:
            self.address = f"127.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
            try:
                self._sock.bind((self.address, 53))
                break
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise AssertionError(f"a DNS server on {self.address}:53 needs root: {e}") from e
        self.resolv_conf = folder / "resolv.conf"
        self.resolv_conf.write_text(f"nameserver {self.address}\n{self.RESOLV_OPTIONS}\n")
        self.asked: set[str] = set()
        threading.Thread(target=self._read, daemon=True).start()

    def in_its_resolver(self, *command: str) -> list[str]:
        return ["unshare", "--mount", "--", "sh", "-c", self._BIND, str(self.resolv_conf), *command]

    def _read(self) -> None:
        while True:
            try:
                query = self._sock.recv(512)
            except OSError:
                return  # closed
            if not query:
                return  # shut down by close
            self.asked.add(_query_name(query))

    def close(self) -> None:
        _close_listener(self._sock)


def _query_name(query: bytes) -> str:
    """The name a DNS query asks for (its first question: length-prefixed labels after the 12-byte header)."""
    labels, i = [], 12
    while i < len(query) and query[i]:
        labels.append(query[i + 1 : i + 1 + query[i]].decode("ascii", "replace"))
        i += 1 + query[i]
    return ".".join(labels)
