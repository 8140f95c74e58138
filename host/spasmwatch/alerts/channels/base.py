"""The one small interface every notification channel implements."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from types import MappingProxyType
from typing import Generic, Protocol, TypeVar

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


# A settings field's metadata that leaves it out of ``fingerprint``: it says neither where nor how a
# channel delivers (a push's link, how often a sound plays again), so a change of it fixes no failure.
# [daemon.http] page_url, in every push channel's settings, hashed in: setting it turned every
# failing channel "changed", off the page's banner and Home Assistant's, until the next alarm failed.
NOT_HOW_IT_DELIVERS: Mapping[str, bool] = MappingProxyType({"fingerprint": False})


def fingerprint(ch: Channel, key: bytes) -> str | None:
    """What tells ``ch``'s settings from any others (an HMAC-SHA256 of them by this installation's
    ``key``, fingerprint_key.py: they hold tokens and ntfy topics, and the store keeps it, so a copy
    of the store must not confirm a guess of them), or None for a channel without a settings
    dataclass. A failure kept with it belongs to the channel as it was configured then
    (Dispatcher.changed). Its name is left out: a channel renamed (an unnamed ntfy's name, no longer
    its topic) is the same channel; and so are the fields marked ``NOT_HOW_IT_DELIVERS``. A field at
    its default is left out too, and the others go by their names: a later spasmwatch that adds a
    setting, or orders them otherwise, must not turn every failing channel "changed" at the restart
    of its upgrade."""
    settings = getattr(ch, "settings", None)
    if settings is None or not dataclasses.is_dataclass(settings):
        return None
    kept = sorted((f.name, getattr(settings, f.name)) for f in dataclasses.fields(settings) if _hashed(f, getattr(settings, f.name)))
    return hmac.new(key, repr(kept).encode(), hashlib.sha256).hexdigest()[:16]


def _hashed(f: dataclasses.Field[object], value: object) -> bool:
    """Whether settings field ``f``, holding ``value``, goes into the ``fingerprint``."""
    if f.name == "name" or not f.metadata.get("fingerprint", True):
        return False
    if f.default is not dataclasses.MISSING:
        return bool(value != f.default)
    if f.default_factory is not dataclasses.MISSING:
        return bool(value != f.default_factory())
    return True  # no default: always said (an ntfy's url)


class ChannelSettings(Protocol):
    """What every channel's settings dataclass carries."""

    @property
    def name(self) -> str: ...

    @property
    def min_urgency(self) -> Urgency: ...


S = TypeVar("S", bound=ChannelSettings)


class SettingsChannel(Generic[S]):
    """Base of the channels: ``name`` and ``min_urgency`` come from ``settings``; ``close`` does nothing.

    A subclass sets ``network`` and implements ``send`` (and ``close`` if it holds resources).
    """

    network: bool = False

    def __init__(self, settings: S) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def min_urgency(self) -> Urgency:
        return self.settings.min_urgency

    async def close(self) -> None:
        return None
