"""ntfy-style push (ntfy.sh or self-hosted): text body, Title/Priority/Tags headers.

The phone app turns Priority 5 ("urgent") into a long, loud notification
that can break through do-not-disturb (Android: the app's "max" channel is the
one made to bypass it): that is kept for what must wake a parent, ``Notification.
through_dnd``: cluster alarms, escalations, test alarms, and a band fault that
stops detection (the band no longer watches the baby).

With ``page_url`` (the family web page as a phone on the home network opens it), every push
opens the page when tapped (``Click``) and an open alarm has an "Open to acknowledge" button
(a ``view`` action): the page shows it at the top with its Acknowledge button. Not an ``http``
action that acknowledges by itself: it would carry the LAN token, which the ntfy server (ntfy.sh
for most families) would then hold.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from spasmwatch.alerts.channels._http import HttpChannel
from spasmwatch.alerts.channels.base import NOT_HOW_IT_DELIVERS, same_url, written_as
from spasmwatch.alerts.channels.outbox import OPEN_ALARM_STATES
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
    NoticeKind.CLUSTER_LATE: "hourglass",
    NoticeKind.FALSE_ALARM: "negative_squared_cross_mark",
    NoticeKind.BAND_FAULT: "warning",
    NoticeKind.BAND_CLEARED: "white_check_mark",
    NoticeKind.TEST: "test_tube",
    NoticeKind.DAILY_SUMMARY: "calendar",
}
# The pushes of an alarm; they get the button while it is open (below): also its "Cluster ended,
# alarm NOT acknowledged", which tells the parent to acknowledge it.
ACK_BUTTON_KINDS = frozenset({NoticeKind.CLUSTER_ALARM, NoticeKind.CLUSTER_UPDATE, NoticeKind.CLUSTER_ESCALATED, NoticeKind.CLUSTER_CLOSED})
ACK_BUTTON_LABEL = "Open to acknowledge"


@dataclass(frozen=True)
class NtfySettings:
    """``url`` is the topic URL, e.g. ``https://ntfy.sh/my-baby-xyz`` (pick an unguessable topic)."""

    url: str = field(metadata=written_as(same_url))
    name: str = "ntfy"
    token: str | None = None  # access token: sent as a bearer token
    timeout_s: float = 10.0
    min_urgency: Urgency = Urgency.LOW
    # The family web page as a phone on the home network opens it, without the token (config.py
    # refuses one: the ntfy server sees every header). None: pushes open nothing.
    page_url: str | None = field(default=None, metadata=NOT_HOW_IT_DELIVERS)


# Unicode categories a one-line header cannot carry (controls, line and paragraph separators); a
# format character such as the joiner in a family emoji stays.
_NOT_IN_A_LINE = frozenset({"Cc", "Zl", "Zp"})


def header_text(s: str) -> str:
    """HTTP headers are Latin-1; ntfy decodes RFC 2047 encoded words for anything else. A header is
    one line: each run of whitespace or control characters is one space (a name acknowledged with
    a line break in it made aiohttp refuse the header, and the push never went)."""
    s = " ".join("".join(" " if unicodedata.category(c) in _NOT_IN_A_LINE else c for c in s).split())
    if s.isascii():
        return s
    return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="


def sequence_id(n: Notification) -> str:
    """``n.key`` as ntfy takes a sequence id whatever the band's name holds: 'sw' and 32 hex digits
    of its SHA-256 (the characters and length ntfy allows in a topic name, [-_A-Za-z0-9]{1,64})."""
    return "sw" + hashlib.sha256(n.key.encode()).hexdigest()[:32]


def wants_ack_button(n: Notification) -> bool:
    """An alarm nobody has seen to yet, and the test alarm (tapping its button checks, before a
    real night, that this phone opens the page). An update after the acknowledgement, a warning
    or a band notice open the page on a tap (Click) only."""
    if n.kind is NoticeKind.TEST:
        return True
    return n.kind in ACK_BUTTON_KINDS and n.state in OPEN_ALARM_STATES


# ntfy's refusals that a family can fix, in its words (docs.ntfy.sh: a topic is [-_A-Za-z0-9]{1,64};
# 401/403 for a topic reserved or protected by a login): ntfy.sh's reply ('{"code":40401,...}') alone
# failed the first test alarm of a mistyped topic with nothing a parent could act on.
NTFY_REFUSALS = {
    404: "no such topic there: check [channels.ntfy] url, https://SERVER/TOPIC, a topic of letters, digits, - and _ only",
    **dict.fromkeys((401, 403), "this topic needs a login on that server: its access token as [channels.ntfy] token, "
                    "or another topic: 'spasmwatch config add-ntfy new' makes one"),
}  # fmt: skip


class NtfyChannel(HttpChannel[NtfySettings]):
    def secrets(self) -> list[str]:
        return [self.settings.token] if self.settings.token else []

    def refusals(self) -> Mapping[int, str]:
        return NTFY_REFUSALS

    def headers(self, n: Notification) -> dict[str, str]:
        h = {
            "Title": header_text(n.title),
            "Priority": "urgent" if n.through_dnd else PRIORITY[n.urgency],
            "Tags": f"{TAGS[n.kind]},{n.kind.value}",
            "Content-Type": "text/plain; charset=utf-8",
            # ntfy itself does not de-duplicate: a relay or proxy in front of it can, on this
            # (the same on a retry and on a resend by a later daemon; docs/alerts.md).
            "Idempotency-Key": n.key,
            # ntfy >= 2.16 and its apps replace a notification of the same sequence id in place: a
            # resend of a push the phone already showed updates it, not a second one (older servers
            # ignore the header).
            "X-Sequence-ID": sequence_id(n),
        }
        if self.settings.token:
            h["Authorization"] = f"Bearer {self.settings.token}"
        if self.settings.page_url:
            h["Click"] = self.settings.page_url
            if wants_ack_button(n):
                # ntfy's short form "view, label, url, clear=true": tapping it opens the page and
                # clears the notification (config.py keeps ',' and ';' out of the URL).
                h["Actions"] = f"view, {ACK_BUTTON_LABEL}, {self.settings.page_url}, clear=true"
        return h

    async def post(self, n: Notification) -> None:
        await self._http.post(n.text.encode(), self.headers(n))
