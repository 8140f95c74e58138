"""Fixtures for the channel tests: notifications, and the real local endpoints of tests/servers.py."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from spasmwatch.alerts import Audience, BandFault, Notification, NoticeKind, Urgency
from spasmwatch.alerts.channels import Dispatcher, NtfyChannel, NtfySettings, RetrySettings, WebhookChannel, WebhookSettings
from spasmwatch.store import Store

from servers import Broker, Recorder, free_port, http_recorder, mqtt_topic, start_broker, stop_broker  # noqa: F401  (re-exported to the tests)

T = TypeVar("T")


def notice(kind: NoticeKind = NoticeKind.CLUSTER_ALARM, **kw: object) -> Notification:
    base: dict[str, object] = dict(
        id=7, alert_id=3, device="cot", kind=kind, state="ALARM", urgency=Urgency.URGENT,
        title="ALARM: possible spasm cluster (cot)", text="3 spasm-like movements in a cluster since 10:00.",
        created_t=1_709_629_200.0, cluster_key=12, count=3, started_t=1_709_629_100.0,
    )  # fmt: skip
    base.update(kw)
    return Notification(**base)  # type: ignore[arg-type]


def band_notice(fault: BandFault, active: bool, **kw: object) -> Notification:
    kind = NoticeKind.BAND_FAULT if active else NoticeKind.BAND_CLEARED
    state = fault.state.value if active else "OK"
    return notice(kind, state=state, urgency=fault.urgency if active else Urgency.NORMAL, title=f"{fault.value} (cot)", text="check the band",
                  fault=fault, cluster_key=None, count=None, started_t=None, audience=Audience.FILTERED, **kw)  # fmt: skip


def home_channel(kind: str, url: str, store: Store) -> WebhookChannel | NtfyChannel:
    """A ``kind`` ("webhook" or "ntfy") channel named "home" on ``url``, keeping in ``store``; ntfy's
    takes INFO too (a cluster's "over")."""
    if kind == "webhook":
        return WebhookChannel(WebhookSettings(url=url, name="home", timeout_s=10), store)
    return NtfyChannel(NtfySettings(url=url, name="home", timeout_s=10, min_urgency=Urgency.INFO), store)


@asynccontextmanager
async def in_backoff(tmp_path: Path, kind: str, first: Notification, retry: RetrySettings) -> AsyncIterator[tuple[Dispatcher, Recorder, Store]]:
    """A dispatcher with one ``kind`` channel "home" to a receiver that answers its first request
    503, ``first`` submitted there and answered: in its backoff before its next try."""
    async with http_recorder([503]) as srv:
        with Store(tmp_path / "db.sqlite") as store:
            d = Dispatcher({"home": home_channel(kind, srv.url + "/t", store)}, retry=retry)
            d.submit(first)
            while ("out", 0) not in srv.log:  # answered 503: its backoff begins
                await asyncio.sleep(0.01)
            yield d, srv, store


def mqtt_event(packet: bytes) -> dict[str, object] | None:
    """The notification an MQTT PUBLISH to an ``event`` topic carries (None for other packets)."""
    topic = mqtt_topic(packet)
    if topic is None or not topic.endswith("/event"):
        return None
    event: dict[str, object] = json.loads(packet[packet.index(b"{") :])
    return event


def in_lanes(got: list[T], kind: Callable[[T], str] = str) -> list[T]:
    """What a receiver got (``kind`` of each: its notification kind's value), the band notices and the
    daily summary first: the dispatcher sends them in a lane of their own, beside a cluster's
    (dispatch.py ``Lane``), so a receiver gets each lane in order but the two interleaved anyhow."""
    return sorted(got, key=lambda x: not kind(x).startswith(("band_", "daily_summary")))  # (stable: each lane in order)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = start_broker(tmp_path)
    yield b
    stop_broker(b)


@pytest.fixture
def auth_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker that wants user ``family`` / password ``s3cret``."""
    pw = tmp_path / "passwd"
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run([tool, "-b", "-c", str(pw), "family", "s3cret"], check=True, capture_output=True, timeout=10)
    b = start_broker(tmp_path, f"allow_anonymous false\npassword_file {pw}\n")
    yield b
    stop_broker(b)
