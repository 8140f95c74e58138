"""The heartbeat: a dead man's switch for the daemon itself ([daemon.heartbeat], docs/alerts.md).

The daemon raises every alarm, so a computer that lost its power or its network, froze, or a
daemon systemd gave up on, looks to the family exactly like a quiet night. While the daemon is
healthy it fetches one URL every ``every_s``; a service elsewhere (healthchecks.io, an Uptime Kuma
push monitor) tells the phones when the fetches stop.

The daemon asks for a ping from its ticker, after a tick completed (``Daemon._ticker``): a
blocked event loop, a dead ticker or one whose every tick fails (what the systemd watchdog
watches, daemon/notify.py) sends none. It says why it holds back otherwise (the store refuses
writes). The request runs as a task of its own with a hard timeout, never in the tick. The URL's
path and query are the secret (a healthchecks.io UUID, a Kuma push token): logs and the status
name the host only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from spasmwatch import __version__
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.api import Json, Msg
from spasmwatch.lookups import Lookups
from spasmwatch.urls import http_failure, url_host

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeartbeatSettings:
    url: str
    every_s: float = K.HEARTBEAT_EVERY_S
    timeout_s: float = K.HEARTBEAT_TIMEOUT_S


class Heartbeat:
    """Pings ``settings.url`` when ``beat`` is called and ``every_s`` (on ``mono``) has passed since
    the last ping began, one request at a time. Logs on change only: the first failure, the first
    success after failures, a pause and its end."""

    def __init__(
        self, settings: HeartbeatSettings, mono: Callable[[], float], wall: Callable[[], float], on_change: Callable[[], None] = lambda: None
    ) -> None:
        self.settings = settings
        self.on_change = on_change  # failing, taken again, held back, resumed: the status changed (the page shows it)
        self.host = url_host(settings.url)
        self.mono, self.wall = mono, wall
        self.last_ok: float | None = None  # wall s of the latest ping the service took
        self.failing: tuple[float, str] | None = None  # (wall s of the first failure in a row, the latest error)
        self.paused: str | None = None  # why the daemon holds the pings back (None: it does not)
        # ``paused`` as a page word and its values, for the page in the family's language (docs/web.md
        # "Texts the daemon words")
        self.paused_msg: Msg | None = None
        self.pings = 0  # pings begun
        self._began: float | None = None  # mono s the latest ping began
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._lookups: Lookups | None = None  # the service's host name's, in threads of its own (lookups.py)

    def beat(self, unhealthy: str | None, msg: Msg | None = None) -> None:
        """From the ticker, after a completed tick: ping if one is due, unless ``unhealthy`` says
        why the daemon is not fit to be called alive (``msg``: the same as a page word)."""
        if unhealthy != self.paused:
            if unhealthy is not None:
                log.error("heartbeat to %s paused: %s; the service watching it will tell the phones the monitor is down", self.host, unhealthy)
            else:
                log.warning("heartbeat to %s resumed (it was held back: %s)", self.host, self.paused)
            self.paused, self.paused_msg = unhealthy, msg if unhealthy is not None else None
            self.on_change()
        if unhealthy is not None or (self._task is not None and not self._task.done()):
            return
        if self._began is not None and self.mono() - self._began < self.settings.every_s:
            return
        self._began = self.mono()
        self.pings += 1
        self._task = asyncio.create_task(self._ping(), name="heartbeat")

    async def _ping(self) -> None:
        try:
            error = await self._get()
        except Exception as e:  # nobody awaits this task: whatever it was, a failed ping, said so
            # The kind only at WARNING: an error's text or traceback may carry the URL (its secret).
            log.debug("heartbeat to %s: unexpected error", self.host, exc_info=True)
            error = f"unexpected {type(e).__name__}"
        if error is None:
            was = self.failing
            self.last_ok, self.failing = self.wall(), None
            if was is not None:
                log.warning("heartbeat reaches %s again", self.host)
                self.on_change()
            return
        if self.failing is None:
            log.warning("heartbeat to %s failed: %s; tried again every %g s (logged again when it gets through)",
                        self.host, error, self.settings.every_s)  # fmt: skip
            self.failing = (self.wall(), error)
            self.on_change()
        else:
            log.debug("heartbeat to %s failed again: %s", self.host, error)
            self.failing = (self.failing[0], error)

    async def _get(self) -> str | None:
        """None when the service took the ping (2xx), else why not, in words that hold no secret."""
        if self._session is None or self._session.closed:
            # A new connection per ping (force_close): one kept a minute idle is often closed by the
            # service or a home router by then, and its first use would fail a ping for nothing.
            self._lookups = self._lookups or Lookups()
            self._session = aiohttp.ClientSession(
                connector=self._lookups.connector(force_close=True), headers={"User-Agent": f"spasmwatch/{__version__}"}
            )
        try:
            async with asyncio.timeout(self.settings.timeout_s):  # DNS, connect, TLS and the answer
                async with self._session.get(self.settings.url, allow_redirects=True) as resp:
                    if 200 <= resp.status < 300:
                        return None
                    return f"HTTP {resp.status} {resp.reason or ''}".rstrip()
        except TimeoutError:
            return f"no answer within {self.settings.timeout_s:g} s"
        except (aiohttp.ClientError, OSError) as e:  # some carry the whole URL in their text: never used
            return http_failure(e)

    def status(self) -> Json:
        """For /api/status and 'spasmwatch status'."""
        since, error = self.failing if self.failing is not None else (None, None)
        return {"host": self.host, "every_s": self.settings.every_s, "last_ok": self.last_ok,
                "failing_since": since, "error": error, "paused": self.paused, "paused_msg": self.paused_msg}  # fmt: skip

    async def close(self) -> None:
        """At a stop: a ping in flight is cancelled; nothing is said to the service (a family
        stopping the daemon on purpose pauses the check there: docs/alerts.md)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._lookups is not None:
            self._lookups.close()
            self._lookups = None
