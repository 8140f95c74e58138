"""HTTP POST of the notification as JSON (schema ``spasmwatch.alert/1``, docs/alerts.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from spasmwatch.alerts.channels._http import HttpChannel
from spasmwatch.alerts.model import Notification, Urgency


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    name: str = "webhook"
    timeout_s: float = 10.0
    headers: dict[str, str] = field(default_factory=dict)  # e.g. an Authorization header
    min_urgency: Urgency = Urgency.INFO  # machines get every state change


def idempotency_key(n: Notification) -> str:
    """Same for every retry of one notification, and for its resend by a later daemon (kept in the
    outbox), never another notification's (``Notification.key``)."""
    return n.key


class WebhookChannel(HttpChannel[WebhookSettings]):
    async def post(self, n: Notification) -> None:
        body = json.dumps(n.to_json(), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Spasmwatch-Event": n.kind.value,
            "Idempotency-Key": idempotency_key(n),
            **self.settings.headers,
        }
        await self._http.post(self.settings.url, body, headers)
