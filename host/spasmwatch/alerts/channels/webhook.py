"""HTTP POST of the notification as JSON (schema ``spasmwatch.alert/1``, docs/alerts.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from spasmwatch.alerts.channels._http import HttpChannel
from spasmwatch.alerts.channels.base import NOT_HOW_IT_DELIVERS, same_headers, same_url, written_as
from spasmwatch.alerts.model import Notification, Urgency


@dataclass(frozen=True)
class WebhookSettings:
    url: str = field(metadata=written_as(same_url))
    name: str = "webhook"
    timeout_s: float = 10.0
    headers: dict[str, str] = field(default_factory=dict, metadata=written_as(same_headers))  # e.g. an Authorization header
    min_urgency: Urgency = Urgency.INFO  # machines get every state change
    page_url: str | None = field(default=None, metadata=NOT_HOW_IT_DELIVERS)  # the family web page ([daemon.http] page_url): in the body when set


class WebhookChannel(HttpChannel[WebhookSettings]):
    def secrets(self) -> list[str]:
        return list(self.settings.headers.values())  # an Authorization header's token

    def payload(self, n: Notification) -> dict[str, object]:
        """``spasmwatch.alert/1``, plus ``page_url`` when set: a receiver that forwards to a phone
        can link to the page that acknowledges (the schema's fields are only ever added)."""
        body = n.to_json()
        if self.settings.page_url:
            body["page_url"] = self.settings.page_url
        return body

    async def post(self, n: Notification) -> None:
        body = json.dumps(self.payload(n), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Spasmwatch-Event": n.kind.value,
            "Idempotency-Key": n.key,  # the same on a retry and a later daemon's resend
            **self.settings.headers,
        }
        await self._http.post(body, headers)
