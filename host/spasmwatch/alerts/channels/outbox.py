"""What the network channels share to keep a notification across a daemon stop (docs/alerts.md).

A channel given an ``Outbox`` (the daemon's Store, table ``outbox``) keeps each notification
on disk before its first attempt (the dispatcher as it is submitted, before its send waits for
the channel's lock; the daemon with its alert's transition, in one commit: ``Dispatcher.keep``)
and forgets it once the receiver acknowledged it (MQTT: the
broker's PUBACK; webhook and ntfy: a 2xx): one still unacknowledged when the daemon stops, or
dies, is sent by the next start under the same ``key``, subject to ``why_not_resend``. MQTT
hands its kept events to paho at start (which resends until acknowledged), and puts the events
paho held while the broker was unreachable to the same rule as a link reconnects; the HTTP
channels are resent by the dispatcher (``Dispatcher.resend_kept``), at start and every minute.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from spasmwatch.alerts.model import BandFault, Notification, NoticeKind, Urgency
from spasmwatch.store.rows import OutgoingRow, RetainedRow

log = logging.getLogger(__name__)
T = TypeVar("T")

# Notifications kept on disk unacknowledged per channel (a receiver down, a daemon stopped before
# it answered): a week of a receiver away at ~50 notifications a day, each under 2 KB (< 1 MB);
# past it the least urgent go first (an alarm outlives a hundred "battery low"s).
KEEP_UNACKED = 500

# The states of an alarm nobody has seen to yet.
OPEN_ALARM_STATES = ("ALARM", "ESCALATED")


class Outbox(Protocol):
    """Where a channel keeps the notifications its receiver has not acknowledged, and (MQTT) its
    latest retained state per band, across a daemon restart (the daemon's Store; docs/store.md)."""

    def keep_outgoing(
        self, channel: str, key: str, device: str, payload: str, created_t: float, urgency: int, limit: int
    ) -> list[str]: ...

    def outgoing(self, channel: str) -> list[OutgoingRow]: ...

    def forget_outgoing(self, channel: str, keys: Iterable[str]) -> int: ...

    def keep_retained(self, channel: str, device: str, topic: str, payload: str) -> None: ...

    def kept_retained(self, channel: str) -> list[RetainedRow]: ...

    def forget_retained(self, channel: str, device: str) -> int: ...


class KeepsOutgoing:
    """Mixin of the channels that keep what they send in an ``Outbox`` (``self.outbox``; None: not
    kept). A store that cannot write (a full disk) never holds a notification up: it goes out all
    the same, only not kept, and the log says so."""

    outbox: Outbox | None = None

    @property
    def name(self) -> str:
        raise NotImplementedError  # SettingsChannel's

    def _outbox_call(self, what: str, call: Callable[[Outbox], T]) -> T | None:
        """``call(outbox)``, or None without one or when it fails."""
        if self.outbox is None:
            return None
        try:
            return call(self.outbox)
        except Exception as e:
            log.warning("%s: could not %s in the outbox (%s); not kept across a restart", self.name, what, e)
            return None

    def keep(self, n: Notification) -> list[str] | None:
        """Keep ``n`` until ``_forget`` (a key kept already stays as it was). Returns the keys the
        limit pushed out (``n.key`` among them when it is the least urgent), None when not kept.
        The dispatcher keeps each notification so as it is submitted (``Dispatcher.keep``), before
        its send waits for the channel's lock; the send keeps it again (nothing changes), for a
        send that did not come through the dispatcher's submit (a test alarm)."""
        payload = json.dumps(n.to_json())
        dropped = self._outbox_call(
            f"keep {n.key}",
            lambda o: o.keep_outgoing(self.name, n.key, n.device, payload, n.created_t, int(n.urgency), KEEP_UNACKED),
        )
        for key in dropped or ():
            log.warning("%s: more than %d notifications unacknowledged: %s no longer kept for a restart", self.name, KEEP_UNACKED, key)
        return dropped

    def _forget(self, keys: list[str]) -> bool:
        """The receiver acknowledged ``keys`` (or refused them for good): not to be sent again."""
        return bool(keys) and self._outbox_call("forget acknowledged notifications", lambda o: o.forget_outgoing(self.name, keys)) is not None

    def _kept_rows(self) -> list[OutgoingRow]:
        return self._outbox_call("read the notifications kept", lambda o: o.outgoing(self.name)) or []

    def kept_notifications(self) -> list[Notification]:
        """What an earlier attempt or run kept, oldest first (an unreadable row is dropped, logged)."""
        out = []
        for r in self._kept_rows():
            try:
                out.append(from_json(json.loads(r.payload)))
            except (ValueError, TypeError, KeyError) as e:
                self.drop_kept(r.key, f"unreadable ({type(e).__name__}: {e})")
        return out

    def drop_kept(self, key: str, why: str) -> None:
        log.warning("%s: notification %s not sent again: %s", self.name, key, why)
        self._forget([key])


class ResendsThroughDispatcher(KeepsOutgoing):
    """``KeepsOutgoing`` for a channel whose ``send`` keeps ``n`` before it tries and forgets it
    once the receiver took it or refused it for good (``_sent``); the dispatcher resends the rest
    (webhook, ntfy; MQTT hands its kept events to paho, which resends them itself)."""

    def _sent(self, n: Notification, refused: str | None = None) -> None:
        """After an attempt: taken (``refused`` None) or refused for good (a 4xx: a wrong URL, topic
        or token fails the same way on every resend, so it is not kept for ever); not for a failure
        worth trying again, which stays kept."""
        if refused is not None:
            log.warning("%s: notification %s refused (%s): not kept for a resend", self.name, n.key, refused)
        self._forget([n.key])


def from_json(d: dict[str, object]) -> Notification:
    """A ``Notification`` back from its ``to_json`` (schema ``spasmwatch.alert/1``): the same
    payload and ``key`` (ValueError when the key does not match: not ours, or altered)."""
    if d.get("schema") != "spasmwatch.alert/1":
        raise ValueError(f"schema {d.get('schema')!r}, expected 'spasmwatch.alert/1'")
    fault, cluster_key = d["fault"], d["cluster_key"]
    n = Notification(
        id=_int(d["id"]), alert_id=_int(d["alert_id"]), device=str(d["device"]), kind=NoticeKind(d["kind"]),
        state=str(d["state"]), urgency=Urgency(_int(d["urgency_level"])), title=str(d["title"]), text=str(d["text"]),
        created_t=float(d["created_t"]),  # type: ignore[arg-type]
        cluster_key=cluster_key if isinstance(cluster_key, (int, str)) else None,
        fault=None if fault is None else BandFault(fault),
        count=None if d["count"] is None else _int(d["count"]),
        started_t=None if d["started_t"] is None else float(d["started_t"]),  # type: ignore[arg-type]
        cluster_ended=d.get("cluster_ended") is True,  # (kept before 2026-12-06: not there)
    )  # fmt: skip
    if n.key != d["key"]:
        raise ValueError(f"key {d['key']!r} does not match its fields ({n.key!r})")
    return n


def _int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected an integer, got {v!r}")
    return v


class WhyNotResend(Protocol):
    """The daemon's ``why_not_resend`` with its store and clock (MqttChannel's hook): why ``n``
    must not go out now, or None; ``in_flight`` as there."""

    def __call__(self, n: Notification, in_flight: bool = False) -> str | None: ...


def why_not_resend(
    n: Notification, state_now: str | None, age_s: float, max_age_s: float, in_flight: bool = False, acked_t: float | None = None
) -> str | None:
    """Why a kept push ``n`` must not go out now, or None to send it (docs/alerts.md, "Across a
    daemon stop"). ``state_now``: its alert's latest stored state (None: unknown); ``age_s``: since
    ``n.created_t``; ``acked_t``: when its alert was last acknowledged (None: never).

    A band fault's push is not sent once its alert was acknowledged after it was made: seen to (a
    band alert's ack leaves its state as it was), as a held one acknowledged is never sent; until
    review h48 the pass sent it after the family had acknowledged it on the page.

    Only what is still true is sent late: a push about an alert that has moved on since (an alarm
    acknowledged, escalated or closed, a fault cleared) would call a parent to something someone has
    seen to or that is over, and the push that moved it on says so. But a raise that is its own news
    (``BandFault.news_once``: radio_late, "the radio started late; nothing lost") is still true once
    its fault ended, an end that pushes nothing: until review h47 the pass dropped it, its band
    streaming seconds after it failed. An alarm nobody has seen to is sent however late (losing it
    is the worse harm); anything else only within ``max_age_s``.

    ``in_flight``: ``n`` is not late but still being sent, handed to the receiver by this run within
    the channel's send timeout (MQTT: held by paho while its connection is set up, the first or
    a reconnect). Only whether it is still true decides then: a test alarm sent right after the
    daemon started goes on that connection (until 2026-12-05 its CONNACK dropped it as late).
    """
    if n.alert_id == 0:  # a test alarm, a daily summary: no alert to be still true of
        return None if in_flight else f"a {n.kind.value} belongs to no alert: it is sent when it is made, never later"
    if n.kind is NoticeKind.BAND_FAULT and acked_t is not None and acked_t >= n.created_t:
        return "its alert was acknowledged after it was made: seen to"
    news = n.kind is NoticeKind.BAND_FAULT and n.fault is not None and n.fault.news_once
    if state_now is not None and state_now != n.state and not news:
        return f"its alert is {state_now} now, no longer {n.state}"
    if in_flight:
        return None
    if age_s > max_age_s and not (state_now is not None and n.state in OPEN_ALARM_STATES):
        return f"{age_s / 60:.0f} min old, past the {max_age_s / 60:.0f} min a {n.kind.value} push is worth sending late"
    return None
