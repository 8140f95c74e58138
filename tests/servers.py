"""Real local endpoints for tests: an HTTP recorder (aiohttp on 127.0.0.1) and a mosquitto broker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator
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


@asynccontextmanager
async def http_recorder(statuses: list[int] | None = None, delay_s: float = 0.0) -> AsyncIterator[Recorder]:
    """An aiohttp server on 127.0.0.1 (ephemeral port) answering ``statuses`` in turn, then 200."""
    import asyncio

    answers = list(statuses or [])
    rec = Recorder("")

    async def handle(request: web.Request) -> web.Response:
        rec.seen.append(Seen(request.method, request.path, dict(request.headers), await request.read()))
        if delay_s:
            await asyncio.sleep(delay_s)
        return web.Response(status=answers.pop(0) if answers else 200, text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
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
    """A plain paho subscriber: the last payload per topic (and whether it came retained)."""

    def __init__(self, port: int, topic: str = "#", **auth: str) -> None:
        self.last: dict[str, tuple[bytes, bool]] = {}
        self.cond = threading.Condition()
        self.c = paho.Client(CallbackAPIVersion.VERSION2)
        if auth:
            self.c.username_pw_set(auth["username"], auth["password"])
        self.c.on_message = self._on_message
        self.c.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.c.connect("127.0.0.1", port, 30)
        self.c.loop_start()

    def _on_message(self, _c: Any, _u: Any, m: paho.MQTTMessage) -> None:
        with self.cond:
            self.last[m.topic] = (m.payload, bool(m.retain))
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

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()
