"""The one small interface every notification channel implements."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

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

# Ports a URL may leave out (RFC 3986 6.2.3: said or not, the same request).
DEFAULT_PORTS = MappingProxyType({"http": 80, "https": 443})


def same_url(url: str) -> str:
    """``url`` as every spelling of the same request writes it: the scheme and host in lower case,
    the scheme's default port left out, an empty path as "/" (RFC 3986 6.2.2-6.2.3). Its path,
    query and login stay as written: ``/Topic`` is another ntfy topic, ``/hook/`` may be another
    resource than ``/hook``. One that cannot be read is kept as it is."""
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError:
        return url
    scheme, host = u.scheme.lower(), u.hostname or ""  # (hostname: lower case, an IPv6 one unbracketed)
    host = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host += f":{port}"
    login = u.netloc.rpartition("@")[0]
    return urlunsplit((scheme, f"{login}@{host}" if "@" in u.netloc else host, u.path or "/", u.query, u.fragment))


def same_path(path: object) -> object:
    """A file's path as the one file it names: ``~`` expanded, absolute, links and ``..`` resolved
    (what the channel opens, relative to the daemon's folder). ``""`` and None (the defaults: the
    system's CAs, the cache's WAV) stay themselves."""
    if not isinstance(path, (str, Path)) or path == "":
        return path
    try:
        return str(Path(path).expanduser().resolve())
    except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13): named as written, made absolute
        return str(Path(path).expanduser().absolute())


def same_headers(headers: object) -> object:
    """HTTP headers as a set: their names' case and their order say nothing (RFC 9110 5.1); values as
    written. One name said twice (in two cases) keeps the config's order, which is the order they
    are sent in: a field's values in order (RFC 9110 5.3); sorting by the values too made swapped
    values hash alike (found by the second cliedges review)."""
    if not isinstance(headers, Mapping):
        return headers
    return sorted(((str(k).lower(), v) for k, v in headers.items()), key=lambda h: h[0])  # (stable: a name's values as sent)


def same_host(host: object) -> object:
    """A host name is case-blind (DNS); nothing else is made the same (``localhost`` may not be ``127.0.0.1``)."""
    return host.lower() if isinstance(host, str) else host


def written_as(same: Callable[[Any], object]) -> Mapping[str, Callable[[Any], object]]:
    """A settings field's metadata: ``same`` writes its value as every spelling of it that means the
    same (``same_url``, ``same_path``, ...), so that ``fingerprint`` hashes them as one."""
    return MappingProxyType({"same": same})


def fingerprint(ch: Channel, key: bytes) -> str | None:
    """What tells ``ch``'s settings from any others (an HMAC-SHA256 of them by this installation's
    ``key``, fingerprint_key.py: they hold tokens and ntfy topics, and the store keeps it, so a copy
    of the store must not confirm a guess of them), or None for a channel without a settings
    dataclass. A failure kept with it belongs to the channel as it was configured then
    (Dispatcher.changed). Its name is left out: a channel renamed (an unnamed ntfy's name, no longer
    its topic) is the same channel; and so are the fields marked ``NOT_HOW_IT_DELIVERS``. A value
    goes as its field's ``written_as`` writes it (``~/ca.pem`` is its absolute path). A field at its
    default is left out too, and the others go by their names: a later spasmwatch that adds a
    setting, or orders them otherwise, must not turn every failing channel "changed" at the restart
    of its upgrade."""
    settings = getattr(ch, "settings", None)
    if settings is None or not dataclasses.is_dataclass(settings):
        return None
    said = ((f, _same(f, getattr(settings, f.name))) for f in dataclasses.fields(settings))
    kept = sorted((f.name, value) for f, value in said if _hashed(f, value))
    return hmac.new(key, repr(kept).encode(), hashlib.sha256).hexdigest()[:16]


def _same(f: dataclasses.Field[Any], value: object) -> object:
    same = f.metadata.get("same")
    return value if same is None else same(value)


def _hashed(f: dataclasses.Field[Any], value: object) -> bool:
    """Whether settings field ``f``, holding ``value`` (as ``_same`` writes it), goes into the ``fingerprint``."""
    if f.name == "name" or not f.metadata.get("fingerprint", True):
        return False
    if f.default is not dataclasses.MISSING:
        return bool(value != _same(f, f.default))
    if f.default_factory is not dataclasses.MISSING:
        return bool(value != _same(f, f.default_factory()))
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
