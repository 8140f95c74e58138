"""The one small interface every notification channel implements."""

from __future__ import annotations

from typing import Protocol

from spasmwatch.alerts.model import Notification, Urgency
from spasmwatch.errors import SpasmwatchError


class ChannelError(SpasmwatchError):
    """A channel could not deliver. ``retryable``: worth trying again (network hiccup, 5xx)."""

    def __init__(self, channel: str, message: str, retryable: bool = True) -> None:
        self.channel = channel
        self.retryable = retryable
        super().__init__(f"{channel}: {message}")


class Channel(Protocol):
    """``send`` delivers one notification or raises ChannelError; ``close`` frees resources.

    ``min_urgency``: the least urgent notification this channel wants (the
    sound channel only plays for alarms). ``network``: the dispatcher retries
    it with backoff (a local command that failed will fail the same way again).
    """

    @property
    def name(self) -> str: ...

    @property
    def min_urgency(self) -> Urgency: ...

    @property
    def network(self) -> bool: ...

    async def send(self, n: Notification) -> None: ...

    async def close(self) -> None: ...
