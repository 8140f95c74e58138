"""One aiohttp session per HTTP channel, the status -> retry decision they share, and their base class
(which keeps each notification in the outbox until a 2xx: outbox.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, TypeVar

import aiohttp

from spasmwatch import __version__
from spasmwatch.alerts.channels.base import ChannelError, ChannelSettings, SettingsChannel
from spasmwatch.alerts.channels.outbox import Outbox, ResendsThroughDispatcher
from spasmwatch.alerts.model import Notification
from spasmwatch.lookups import Lookups
from spasmwatch.urls import http_failure, redact, scrub_urls, url_origin, url_secrets

USER_AGENT = f"spasmwatch/{__version__}"
# Worth another try: the server is busy or broken for now, not telling us we are wrong.
RETRY_STATUS = frozenset({408, 425, 429}) | frozenset(range(500, 600))
# How much of a refusing receiver's reply its error quotes (characters): ntfy's JSON error fits.
REPLY_QUOTED_CHARS = 200


class HttpPoster:
    """POSTs to one URL. Its failures (ChannelError) name the channel and ``scheme://host[:port]``
    only, never the path, query, user name or password (an ntfy topic, a webhook's token:
    spasmwatch/urls.py): their text goes to the journal, the store and the status, MQTT's included.
    A receiver's reply is quoted with those, and ``secrets`` (a token the request carries), cut out."""

    def __init__(
        self, channel: str, url: str, timeout_s: float, secrets: Iterable[str] = (), refusals: Mapping[int, str] | None = None
    ) -> None:
        self.channel, self.url = channel, url
        self.refusals = refusals or {}  # what a refusal means, by status, said after the receiver's own words
        self.origin = url_origin(url)
        self.secrets = [*url_secrets(url), *(s for s in secrets if s)]
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._lookups: Lookups | None = None  # its host name's, in threads of its own (lookups.py)

    def scrub(self, text: str) -> str:
        """``text`` with the URL said as its origin and every secret cut out: an error an older
        spasmwatch worded (the store keeps a failing channel's first error across restarts)."""
        return redact(scrub_urls(text), self.secrets)

    async def post(self, data: bytes, headers: dict[str, str]) -> None:
        if self._session is None or self._session.closed:
            self._lookups = self._lookups or Lookups()
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers={"User-Agent": USER_AGENT}, connector=self._lookups.connector())
        try:
            async with self._session.post(self.url, data=data, headers=headers) as resp:
                if resp.status >= 300:
                    body = redact((await resp.text(errors="replace"))[:REPLY_QUOTED_CHARS], self.secrets)
                    means = f" ({self.refusals[resp.status]})" if resp.status in self.refusals else ""
                    raise ChannelError(self.channel, f"HTTP {resp.status} from {self.origin}: {body}{means}",
                                       retryable=resp.status in RETRY_STATUS)  # fmt: skip
        except TimeoutError:  # (before OSError, which it is)
            raise ChannelError(self.channel, f"POST to {self.origin}: no answer within {self.timeout.total:g} s") from None
        except (aiohttp.ClientError, OSError, ValueError) as e:
            # ``from None``: a traceback logged later (the dispatcher's) must not show the URL either.
            raise ChannelError(self.channel, f"POST to {self.origin} failed: {http_failure(e)}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._lookups is not None:
            self._lookups.close()
            self._lookups = None


class HttpSettings(ChannelSettings, Protocol):
    @property
    def url(self) -> str: ...

    @property
    def timeout_s(self) -> float: ...


H = TypeVar("H", bound=HttpSettings)


class HttpChannel(SettingsChannel[H], ResendsThroughDispatcher):
    """A network channel that POSTs through one HttpPoster (``self._http``), closed with the channel.

    Given an ``outbox`` (the daemon's Store), ``send`` keeps the notification before its first
    attempt (kept already when the dispatcher's submit kept it: ``Dispatcher.keep``) and
    forgets it on a 2xx or a refusal for good (4xx): one still failing when the dispatcher's
    retries run out, or when the daemon stops, stays kept and the dispatcher sends it again
    (``Dispatcher.resend_kept``), under the same key. A subclass implements ``post``.
    """

    network = True

    def __init__(self, settings: H, outbox: Outbox | None = None) -> None:
        super().__init__(settings)
        self.outbox = outbox
        self._http = HttpPoster(settings.name, settings.url, settings.timeout_s, self.secrets(), self.refusals())

    def secrets(self) -> list[str]:
        """What the requests carry besides the URL that a reply must not have quoted (a token)."""
        return []

    def refusals(self) -> Mapping[int, str]:
        """What the receiver means by a refusal, by HTTP status, in words that say what to fix."""
        return {}

    async def send(self, n: Notification) -> None:
        self.keep(n)  # kept at submit (Dispatcher.keep), or a retry's: kept already, nothing changes
        try:
            await self.post(n)
        except ChannelError as e:
            if not e.retryable:
                self._sent(n, refused=str(e))
            raise
        self._sent(n)

    def scrub(self, text: str) -> str:
        """``text`` without this channel's URL secrets (``HttpPoster.scrub``)."""
        return self._http.scrub(text)

    async def post(self, n: Notification) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        await self._http.close()
