"""ntfy-style push (ntfy.sh or self-hosted): text body, Title/Priority/Tags headers.

The phone app turns Priority 5 ("urgent") into a long, loud notification
that can break through do-not-disturb: that is reserved for cluster alarms.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from spasmwatch.alerts.channels._http import HttpChannel
from spasmwatch.alerts.model import Notification, NoticeKind, Urgency

# ntfy priorities: 1 min, 2 low, 3 default, 4 high, 5 urgent.
PRIORITY = {
    Urgency.INFO: "min",
    Urgency.LOW: "low",
    Urgency.NORMAL: "default",
    Urgency.HIGH: "high",
    Urgency.URGENT: "urgent",
    Urgency.CRITICAL: "urgent",
}
# Tags are shown as emoji by the apps (names from ntfy's emoji list).
TAGS = {
    NoticeKind.CLUSTER_WARNING: "warning",
    NoticeKind.CLUSTER_ALARM: "rotating_light",
    NoticeKind.CLUSTER_UPDATE: "rotating_light",
    NoticeKind.CLUSTER_ESCALATED: "rotating_light,sos",
    NoticeKind.CLUSTER_ACKNOWLEDGED: "white_check_mark",
    NoticeKind.CLUSTER_CLOSED: "information_source",
    NoticeKind.FALSE_ALARM: "negative_squared_cross_mark",
    NoticeKind.BAND_FAULT: "warning",
    NoticeKind.BAND_CLEARED: "white_check_mark",
    NoticeKind.TEST: "test_tube",
}


@dataclass(frozen=True)
class NtfySettings:
    """``url`` is the topic URL, e.g. ``https://ntfy.sh/my-baby-xyz`` (pick an unguessable topic)."""

    url: str
    name: str = "ntfy"
    token: str | None = None  # access token: sent as a bearer token
    timeout_s: float = 10.0
    min_urgency: Urgency = Urgency.LOW


def header_text(s: str) -> str:
    """HTTP headers are Latin-1; ntfy decodes RFC 2047 encoded words for anything else."""
    if s.isascii():
        return s
    return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="


class NtfyChannel(HttpChannel[NtfySettings]):
    def headers(self, n: Notification) -> dict[str, str]:
        h = {
            "Title": header_text(n.title),
            "Priority": PRIORITY[n.urgency],
            "Tags": f"{TAGS[n.kind]},{n.kind.value}",
            "Content-Type": "text/plain; charset=utf-8",
            # ntfy itself does not de-duplicate: a relay or proxy in front of it can, on this
            # (the same on a retry and on a resend by a later daemon; docs/alerts.md).
            "Idempotency-Key": n.key,
        }
        if self.settings.token:
            h["Authorization"] = f"Bearer {self.settings.token}"
        return h

    async def post(self, n: Notification) -> None:
        await self._http.post(self.settings.url, n.text.encode(), self.headers(n))
