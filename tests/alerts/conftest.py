"""Real local endpoints for the channel tests: an HTTP recorder and a mosquitto broker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from spasmwatch.alerts import Audience, BandFault, Notification, NoticeKind, Urgency

MOSQUITTO = "/usr/sbin/mosquitto"


def notice(kind: NoticeKind = NoticeKind.CLUSTER_ALARM, **kw: object) -> Notification:
    base: dict[str, object] = dict(
        id=7, alert_id=3, device="cot", kind=kind, state="ALARM", urgency=Urgency.URGENT,
        title="ALARM: possible spasm cluster (cot)", text="3 sudden tensing movements in a cluster since 10:00.",
        created_t=1_709_629_200.0, cluster_key=12, count=3, started_t=1_709_629_100.0,
    )  # fmt: skip
    base.update(kw)
    return Notification(**base)  # type: ignore[arg-type]


def band_notice(fault: BandFault, active: bool, **kw: object) -> Notification:
    kind = NoticeKind.BAND_FAULT if active else NoticeKind.BAND_CLEARED
    state = fault.state.value if active else "OK"
    return notice(kind, state=state, urgency=Urgency.NORMAL, title=f"{fault.value} (cot)", text="check the band",
                  fault=fault, cluster_key=None, count=None, started_t=None, audience=Audience.FILTERED, **kw)  # fmt: skip


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


def _start_broker(tmp: Path, extra: str = "") -> Broker:
    if not Path(MOSQUITTO).exists():
        pytest.fail(f"{MOSQUITTO} is missing: run tools/install-system-deps")
    port = free_port()
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


def _stop(b: Broker) -> None:
    b.proc.terminate()
    try:
        b.proc.wait(5)
    except subprocess.TimeoutExpired:
        b.proc.kill()
        b.proc.wait(5)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = _start_broker(tmp_path, "allow_anonymous true\n")
    yield b
    _stop(b)


@pytest.fixture
def auth_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker that wants user ``family`` / password ``s3cret``."""
    pw = tmp_path / "passwd"
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run([tool, "-b", "-c", str(pw), "family", "s3cret"], check=True, capture_output=True, timeout=10)
    b = _start_broker(tmp_path, f"allow_anonymous false\npassword_file {pw}\n")
    yield b
    _stop(b)
