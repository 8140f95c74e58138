"""A channel's failure names the channel and its host, never the secret in its URL, wherever it goes.

An ntfy topic is the key to a baby's alarms (whoever knows ``https://ntfy.sh/<topic>`` reads them
and can send false ones); a webhook URL often carries a token. Until 2026-12-05 the channels'
errors quoted the whole URL, into the journal, the store's ``channels_failing`` (shown by
'spasmwatch status', /api/status, the page) and MQTT's retained status, which anyone on the
broker reads. Real parts: a Daemon in-process on a SQLite file with its HTTP API, receivers on
127.0.0.1 that refuse (403, 500) and echo what they were sent, a closed port, a real mosquitto.

And MQTT's own failure ends when paho reconnects to a broker that came back, at once: until
2026-12-05 the channel stayed listed as failing until the next notification or status change.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from servers import Watcher, run_then_close, start_broker, stop_broker

from spasmwatch.alerts.channels import Channel, MqttChannel, MqttSettings, NtfyChannel, NtfySettings, RetrySettings, WebhookChannel, WebhookSettings
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon.http import HttpServer
from spasmwatch.store import Store

from .conftest import Broker, free_port, notice
from .cot_daemon import NOW, StillClock, alarm, cot_daemon

STATUS = "sw/cot/status"
TOPIC = "ada-band-7f3a9c1e5b2d"  # ntfy topics: refused (403), and on a closed port
TOPIC_DOWN = "grandma-0c4e8a2f6d19"
TOKEN = "tk_5e1b77c0d9a2f4"  # ntfy access token (echoed back by the refusing server)
HOOK = "hk-93d1a0e6b8c2"  # a webhook's path token, query token, user name and password
QUERY = "q-4a7c2e9f1b03"
USER, PASSWORD = "hookuser-31f0", "hookpass-8be2"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()  # the webhook's Authorization, echoed back
SECRETS = (TOPIC, TOPIC_DOWN, TOKEN, HOOK, QUERY, USER, PASSWORD, BASIC)
FAST = RetrySettings(attempts=2, first_delay_s=0.05, attempt_timeout_s=5.0)
# How soon after the broker is back the failing listing must clear (s): paho retries 1 s, then
# 2 s, ... (mqtt.RECONNECT_DELAY_S); the broker is away about 2 s here.
BACK_WITHIN_S = 8.0


@asynccontextmanager
async def echoing(status: int) -> AsyncIterator[str]:
    """A receiver on 127.0.0.1 that answers ``status`` with what it was sent: the path, the query
    and the Authorization header (as many a web framework's error page does). Yields its base URL."""

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, text=f"no such topic or hook: {request.path_qs} ({request.headers.get('Authorization')})")

    runner = web.AppRunner(web.Application())
    runner.app.router.add_route("*", "/{tail:.*}", handle)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def _no_secret(where: str, text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{where} holds {leaked}: {text}"


def _cli_status(tmp_path: Path, port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """What 'spasmwatch status' prints, from the daemon's API on ``port`` (urllib: run it in a thread)."""
    from spasmwatch.commands import status

    config = tmp_path / "config.toml"
    config.write_text(f"[daemon.http]\nport = {port}\n")
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(config))
    monkeypatch.setenv("SPASMWATCH_DATA_DIR", str(tmp_path))  # the daemon's store is the config's (it refuses another's)
    assert status.run(argparse.Namespace(config=None, json=False, qr=False)) == 1  # the channels failing (and the alarm): exit 1
    return capsys.readouterr().out


def test_failures_name_the_channel_and_host_never_the_urls_secret(
    tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    w = Watcher(broker.port, "sw/#")
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with echoing(403) as ntfy_rx, echoing(500) as hook_rx:
            down = f"http://127.0.0.1:{free_port()}"
            hook_url = hook_rx.replace("http://", f"http://{USER}:{PASSWORD}@") + f"/hooks/{HOOK}?token={QUERY}"
            channels: dict[str, Channel] = {
                "ntfy:anna": NtfyChannel(NtfySettings(url=f"{ntfy_rx}/{TOPIC}", name="ntfy:anna", token=TOKEN)),
                "ntfy:grandma": NtfyChannel(NtfySettings(url=f"{down}/{TOPIC_DOWN}", name="ntfy:grandma", timeout_s=2)),
                "webhook:home": WebhookChannel(WebhookSettings(url=hook_url, name="webhook:home")),
                "mqtt": MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="sw")),
            }
            with Store(tmp_path / "spasmwatch.db") as store:
                d = cot_daemon(store, channels, retry=FAST)
                server = HttpServer(d, host="127.0.0.1", port=0)
                _, port = await server.start()
                await d.start()
                try:
                    alarm(d)
                    await d.dispatcher.drain()
                    await asyncio.to_thread(w.wait_until, lambda: _failing_listed(w) == 3, "the three failing channels in MQTT's status")
                    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/status") as r:
                        seen["api"] = await r.text()
                    seen["cli"] = await asyncio.to_thread(_cli_status, tmp_path, port, monkeypatch, capsys)
                    seen["origins"] = {"ntfy:anna": ntfy_rx, "ntfy:grandma": down, "webhook:home": hook_rx}
                finally:
                    await d.stop()
                    await server.stop()

    run_then_close(main, w.stop)
    failing = {c["channel"]: c["error"] for c in json.loads(seen["api"])["channels_failing"]}
    # Each error names its channel, and its host as scheme://host:port, and says what happened.
    assert set(failing) == {"ntfy:anna", "ntfy:grandma", "webhook:home"}, failing
    for name, origin in seen["origins"].items():
        assert failing[name].startswith(f"{name}: "), failing[name]
        assert origin in failing[name] and f"{origin}/" not in failing[name], failing[name]
    assert "HTTP 403" in failing["ntfy:anna"] and "HTTP 500" in failing["webhook:home"], failing
    assert "cannot connect" in failing["ntfy:grandma"], failing
    assert "no such topic or hook" in failing["ntfy:anna"], failing  # the receiver's reply, its echo cut out
    with sqlite3.connect(tmp_path / "spasmwatch.db") as db:
        rows = db.execute("SELECT channel, error FROM channels_failing").fetchall()
    assert len(rows) == 3, rows
    retained = Watcher(broker.port, STATUS)  # a newcomer on the broker reads the retained status
    try:
        mqtt_status = retained.wait(STATUS).decode()
    finally:
        retained.stop()
    assert len(json.loads(mqtt_status)["channels_failing"]) == 3, mqtt_status
    assert "NOT DELIVERED on ntfy:anna" in seen["cli"], seen["cli"]
    ours = "\n".join(logging.Formatter().format(r) for r in caplog.records if r.name.startswith("spasmwatch"))  # tracebacks too
    for where, text in [("spasmwatch's log", ours), ("/api/status", seen["api"]), ("the store's channels_failing", repr(rows)),
                        ("'spasmwatch status'", seen["cli"]), ("MQTT's retained status", mqtt_status)]:  # fmt: skip
        _no_secret(where, text)


def _failing_listed(w: Watcher) -> int:
    return len(json.loads(w.last[STATUS][0])["channels_failing"]) if STATUS in w.last else -1


def test_mqtt_stops_failing_when_the_broker_comes_back_without_a_notification(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """No band (its reconnect attempts change the status every few seconds, which made the mirror
    publish and clear the listing by chance): nothing but paho's reconnect can clear it here."""
    caplog.set_level(logging.INFO)
    b = start_broker(tmp_path)
    took: dict[str, float] = {}

    async def main() -> None:
        nonlocal b
        with Store(tmp_path / "db.sqlite") as store:
            d = Daemon(store, [], {"mqtt": MqttChannel(MqttSettings(port=b.port, timeout_s=1, prefix="sw"))}, clock=StillClock())
            d.dispatcher.retry = FAST
            await d.start()
            try:
                # Made at the daemon's time: a first send slow under load (paho's connect, timeout_s 1) is
                # retried, not dropped as a 25-year-old push past its 15 min (conftest's created_t is 2024).
                [ok] = await d.dispatcher.dispatch(notice(id=1, created_t=NOW, started_t=NOW - 100))  # the link is up
                assert ok.ok, ok
                await asyncio.to_thread(stop_broker, b)
                [lost] = await d.dispatcher.dispatch(notice(id=2, state="ACKNOWLEDGED", created_t=NOW, started_t=NOW - 100))
                assert not lost.ok and [c["channel"] for c in d.status()["channels_failing"]] == ["mqtt"], lost
                b = await asyncio.to_thread(start_broker, tmp_path, port=b.port)
                t0 = time.monotonic()
                await _until(lambda: d.status()["channels_failing"] == [], "MQTT no longer failing once the broker is back", BACK_WITHIN_S)
                took["clear_s"] = time.monotonic() - t0
                assert [x.notification_id for x in d.dispatcher.deliveries] == [1, 2]  # nothing sent since: the reconnect cleared it
                assert store.failing_channels() == []  # nor kept for the next start
            finally:
                await d.stop()

    try:
        run_then_close(main)
    finally:
        stop_broker(b)
    again = [r.getMessage() for r in caplog.records if r.name.startswith("spasmwatch") and "again" in r.getMessage()]
    assert again.count(f"mqtt: reaches 127.0.0.1:{b.port} again") == 1, again
    print(f"MQTT failing cleared {took['clear_s']:.2f} s after the broker came back")


async def _until(ok: Any, what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s"
        await asyncio.sleep(0.05)


def test_a_failure_an_older_spasmwatch_kept_is_shown_and_kept_without_its_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The store keeps a failing channel's first error across restarts: one the old code worded
    (the whole URL) was shown by every status after the update, until the channel delivered."""
    caplog.set_level(logging.DEBUG)
    db, url = tmp_path / "db.sqlite", f"https://ntfy.sh/{TOPIC}"
    with Store(db) as store:
        store.keep_failing("ntfy:anna", NOW, f"ntfy:anna: HTTP 403 from {url}: forbidden")
        gone = f"webhook:gone: POST http://127.0.0.1:9/hooks/{HOOK}?token={QUERY} failed: ClientConnectorError: cannot connect"
        store.keep_failing("webhook:gone", NOW, gone)  # taken out of the config since

    async def main() -> None:
        with Store(db) as store:
            d = Daemon(store, [], {"ntfy:anna": NtfyChannel(NtfySettings(url=url, name="ntfy:anna"))}, clock=StillClock())
            [f] = d.status()["channels_failing"]
            assert (f["channel"], f["since"], f["error"]) == ("ntfy:anna", NOW, "ntfy:anna: HTTP 403 from https://ntfy.sh: forbidden"), f
            assert [(r.channel, r.since_wall_s, r.error) for r in store.failing_channels()] == [("ntfy:anna", NOW, f["error"])]
            await d.dispatcher.close()

    asyncio.run(main())
    ours = "\n".join(logging.Formatter().format(r) for r in caplog.records if r.name.startswith("spasmwatch"))
    assert "webhook:gone: failing since" in ours and "http://127.0.0.1:9 failed: ClientConnectorError" in ours, ours
    _no_secret("spasmwatch's log", ours)


@pytest.mark.parametrize("text", [
    f'[[channels.ntfy]]\nurl = "htps://ntfy.sh/{TOPIC}"',  # a typo in the scheme: the topic is real
    f'[[channels.webhook]]\nurl = "ftp://{USER}:{PASSWORD}@hooks.example/{HOOK}?token={QUERY}"',
    f'[daemon.heartbeat]\nurl = "hc-ping.com/{HOOK}"',
])  # fmt: skip
def test_a_config_error_on_a_url_names_its_host_not_its_secret(tmp_path: Path, text: str) -> None:
    """The daemon's start says a config error, to the journal when systemd runs it: the key, what
    is expected and the host show the mistake; the path and query are not repeated."""
    from spasmwatch.config import load_config
    from spasmwatch.errors import ConfigError

    config = tmp_path / "config.toml"
    config.write_text(text + "\n")
    with pytest.raises(ConfigError) as e:
        load_config(config)
    assert "url: expected" in str(e.value) and "not repeated here" in str(e.value), e.value
    _no_secret("the config error", str(e.value))


def test_an_unnamed_ntfy_channel_is_warned_of_without_its_topic(caplog: pytest.LogCaptureFixture) -> None:
    """Without ``name`` an ntfy channel is called after its topic, in every text above: the
    daemon says so at each start (naming the table and host), until the family names it."""
    import tomllib

    from spasmwatch.config import from_dict
    from spasmwatch.daemon.wiring import channels_from

    text = f'[[channels.ntfy]]\nurl = "https://ntfy.sh/{TOPIC}"\n[[channels.ntfy]]\nurl = "https://ntfy.sh/{TOPIC_DOWN}"\nname = "grandma"\n'
    with caplog.at_level(logging.WARNING, logger="spasmwatch"):
        channels_from(from_dict(tomllib.loads(text), "config.toml"))
    [said] = [r.getMessage() for r in caplog.records if "has no name" in r.getMessage()]
    assert said.startswith("[channels.ntfy #1] (https://ntfy.sh) has no name: "), said
    hashed = "ntfy.sh-" + hashlib.sha256(f"https://ntfy.sh/{TOPIC}".encode()).hexdigest()[:6]
    assert f"called ntfy:{hashed} (its server and a hash of its URL, not its topic)" in said, said  # the name the status shows
    _no_secret("the warning", said)
