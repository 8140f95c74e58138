"""Webhook and ntfy channels against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

import pytest

from spasmwatch.alerts import NoticeKind, Urgency
from spasmwatch.alerts.channels import (
    ChannelError,
    Dispatcher,
    NtfyChannel,
    NtfySettings,
    RetrySettings,
    WebhookChannel,
    WebhookSettings,
)

from .conftest import free_port, http_recorder, notice

FAST = RetrySettings(attempts=3, first_delay_s=0.01, factor=2.0, attempt_timeout_s=5.0)


def test_webhook_posts_the_documented_json() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = WebhookChannel(WebhookSettings(url=srv.url + "/hook", headers={"Authorization": "Bearer abc"}))
            await ch.send(notice())
            await ch.close()
            [req] = srv.seen
            assert req.method == "POST" and req.path == "/hook"
            assert req.headers["Content-Type"] == "application/json"
            assert req.headers["Authorization"] == "Bearer abc"
            assert req.headers["X-Spasmwatch-Event"] == "cluster_alarm"
            assert req.headers["User-Agent"].startswith("spasmwatch/")
            assert req.headers["Idempotency-Key"] == "cot-3-7-1709629200000"
            body = json.loads(req.body)
            assert body == {
                "schema": "spasmwatch.alert/1", "key": "cot-3-7-1709629200000", "id": 7, "alert_id": 3, "device": "cot",
                "kind": "cluster_alarm", "state": "ALARM", "urgency": "urgent", "urgency_level": 5,
                "title": "ALARM: possible spasm cluster (cot)",
                "text": "3 sudden tensing movements in a cluster since 10:00.",
                "created_t": 1709629200.0, "cluster_key": 12, "fault": None, "count": 3, "started_t": 1709629100.0,
            }  # fmt: skip

    asyncio.run(main())


def test_webhook_500_then_200_is_retried_by_the_dispatcher() -> None:
    async def main() -> None:
        async with http_recorder([500]) as srv:
            d = Dispatcher({"hook": WebhookChannel(WebhookSettings(url=srv.url, name="hook"))}, retry=FAST)
            [res] = await d.dispatch(notice())
            await d.close()
            assert res.ok and res.attempts == 2 and res.error is None
            assert len(srv.seen) == 2
            assert srv.seen[0].headers["Idempotency-Key"] == srv.seen[1].headers["Idempotency-Key"]

    asyncio.run(main())


def test_webhook_errors_say_what_happened() -> None:
    async def main() -> None:
        async with http_recorder([404, 500, 500, 500]) as srv:
            ch = WebhookChannel(WebhookSettings(url=srv.url, name="hook"))
            with pytest.raises(ChannelError, match="HTTP 404") as e:
                await ch.send(notice())
            assert not e.value.retryable  # our URL is wrong: trying again will not help
            d = Dispatcher({"hook": ch}, retry=FAST)
            [res] = await d.dispatch(notice())
            assert not res.ok and res.attempts == 3 and "HTTP 500" in (res.error or "")
            await d.close()
        dead = WebhookChannel(WebhookSettings(url=f"http://127.0.0.1:{free_port()}/", name="hook", timeout_s=2))
        with pytest.raises(ChannelError, match="POST http://127.0.0.1:.* failed") as e:
            await dead.send(notice())
        assert e.value.retryable
        await dead.close()

    asyncio.run(main())


def test_webhook_timeout() -> None:
    async def main() -> None:
        async with http_recorder(delay_s=1.0) as srv:
            ch = WebhookChannel(WebhookSettings(url=srv.url, timeout_s=0.2))
            with pytest.raises(ChannelError, match="no answer within 0.2 s"):
                await ch.send(notice())
            await ch.close()

    asyncio.run(main())


def test_ntfy_alarm_is_urgent_with_title_tags_and_token() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = NtfyChannel(NtfySettings(url=srv.url + "/baby-xyz", token="tk_secret"))
            await ch.send(notice())
            await ch.send(notice(NoticeKind.CLUSTER_WARNING, urgency=Urgency.LOW, title="Heads-up: Léa's band"))
            await ch.close()
            alarm, warn = srv.seen
            assert alarm.method == "POST" and alarm.path == "/baby-xyz"
            assert alarm.body.decode() == "3 sudden tensing movements in a cluster since 10:00."
            assert alarm.headers["Title"] == "ALARM: possible spasm cluster (cot)"
            assert alarm.headers["Priority"] == "urgent"
            assert alarm.headers["Tags"] == "rotating_light,cluster_alarm"
            assert alarm.headers["Authorization"] == "Bearer tk_secret"
            assert warn.headers["Priority"] == "low"
            assert warn.headers["Title"].startswith("=?UTF-8?B?")  # RFC 2047: headers are Latin-1 only

    asyncio.run(main())


def test_ntfy_without_token_sends_no_authorization() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = NtfyChannel(NtfySettings(url=srv.url + "/t"))
            await ch.send(notice())
            await ch.close()
            assert "Authorization" not in srv.seen[0].headers

    asyncio.run(main())
