"""The daemon's HTTP server: the family web page, its JSON API and live updates.

Depends only on ``DaemonAPI`` (daemon/api.py), so the running daemon and a test
double serve the same page. Everything is local: the page, its script and style
come from ``daemon/web/`` (no CDN), and the page only talks to this server.

Security (docs/web.md):

* By default the server binds 127.0.0.1 and needs no token. It then answers
  only requests whose ``Host`` is a loopback name (127.0.0.1, localhost, ::1),
  so a web site cannot reach it through DNS rebinding.
* ``lan=True`` binds every interface (0.0.0.0) and requires a token; so does
  any non-loopback ``host`` and ``require_token=True``. Without a token the
  server refuses to start. A token given is asked for on 127.0.0.1 too: it is
  how a family keeps the other accounts of a shared computer out.
  A request is let in with ``Authorization: Bearer <token>``, with
  ``?token=<token>`` (once: the answer sets an HttpOnly, SameSite=Strict
  cookie), or with that cookie; anything else gets 401.
* Every POST must carry a JSON body, and a browser's ``Origin`` (or
  ``Referer``) must be this server's own origin (CSRF); a request that comes
  with neither is only accepted from a non-browser client (Bearer header, or
  no token needed).
* Responses carry a strict Content-Security-Policy (``'self'`` only).
* ``tls`` (a certificate and its key, [daemon.http] tls_cert / tls_key) serves the page over HTTPS:
  the token and the baby's state no longer cross the Wi-Fi readable, the cookie is ``Secure``, and the
  page is a secure context (what a phone's browser asks before it keeps a screen on or notifies). A
  plain http:// request on that port is sent to its https:// address. A certificate that cannot be
  used is an ``HttpError`` (``bad_cert``): the daemon monitors without the page (daemon/main.py).
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import datetime as dt
import errno
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from spasmwatch.alerts.messages import SHARED_WITH_PAGE, catalog
from spasmwatch.clock import local_day, local_zone
from spasmwatch.config import bind_host, is_loopback
from spasmwatch.daemon.api import STORE_WORK, AlertOver, BandNotConnected, DaemonAPI, Json, StoreCannotTell, who
from spasmwatch.daemon.consts import MAX_MUTE_S
from spasmwatch.errors import ConfigError, SpasmwatchError
from spasmwatch.store import StoreError
from spasmwatch.tls import PageCert, TlsError, load
from spasmwatch.urls import host_port

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# An idle live page is sent ': ping' this often (s): a quiet stream is not closed as idle on
# the way, and a page gone is noticed within STREAM_DEAD_S (three of them).
HEARTBEAT_S = 15.0
MAX_STREAMS = 32  # live pages at once (each holds a queue in the daemon)
# A live page that takes no data this long is dropped, so its slot of MAX_STREAMS is free for
# the family's next page: a phone that left the Wi-Fi acknowledges nothing, and TCP alone
# retries for ~15 min. Three heartbeats: a page that is there acknowledges one within a second.
STREAM_DEAD_S = 3 * HEARTBEAT_S
# The largest POST body (bytes): the longest one, a note of MAX_NOTE_CHARS (4000) characters and
# its author, is under 50 KB of JSON even with each character escaped as a surrogate pair (12 bytes).
MAX_BODY = 64 * 1024
# Open connections at once. Each is a file descriptor, and the daemon's are shared with the store,
# the raw files and the sockets of the pushes (1024 under systemd's default soft limit): without a
# cap, anything that reaches the port held 1000 idle connections and the next ntfy push failed
# with EMFILE. A phone's browser opens about 6; the live pages are capped at MAX_STREAMS. Beyond
# it a connection gets 503 and is closed at once.
MAX_CONNECTIONS = 128
# A connection that has not sent a whole request's headers this long after it opened, or that
# sits idle between requests this long, is closed (aiohttp's keepalive_timeout, 3630 s by
# default: a client that trickled its headers held its connection for an hour). A phone sends
# its headers at once; its browser opens a new connection when it needs one.
IDLE_S = 15.0
# A POST's body must arrive within this (at most MAX_BODY bytes, sent at once by the page and
# the CLI): one that trickles in holds a connection and its handler; 408 then.
BODY_S = 10.0
# The most of a plain http:// request on the HTTPS port read to send it to its https:// address
# (bytes): a request line and the headers a browser sends, a few hundred bytes; more is not a browser.
PLAIN_HEAD_MAX = 8 * 1024
# How long a stop waits for the requests under way before aiohttp cancels their handlers (s): an
# API answer takes milliseconds; live streams do not count on it, the stop ends them itself at once.
SHUTDOWN_S = 2.0
MAX_DAYS = 366  # /api/days?n= at most (days): a year, a leap one too
MAX_ID = 2**63 - 1  # SQLite's largest integer: the store's ids
COOKIE = "spasmwatch_token"
COOKIE_MAX_AGE = 400 * 86400  # the longest a browser keeps a cookie

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
_STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BODY_S_KEY = web.AppKey("body_s", float)


class HttpError(SpasmwatchError):
    """The server cannot start (port in use, address not available). ``in_use``: something else
    listens on its port ('spasmwatch run' then offers a free one). ``not_there``: this computer has
    no such address, maybe not yet (a LAN address DHCP gives after the service starts at boot).
    ``bad_cert``: the page's certificate or key cannot be used (missing, unreadable, not a pair,
    expired): the page waits for a good one, the alarms never do."""

    def __init__(self, message: str, in_use: bool = False, not_there: bool = False, bad_cert: bool = False) -> None:
        super().__init__(message)
        self.in_use, self.not_there, self.bad_cert = in_use, not_there, bad_cert


def _cannot_listen(e: OSError) -> str:
    """What a family can do about a port the web page cannot listen on, by the OS's reason."""
    if e.errno == errno.EADDRINUSE:
        return ": another program (or another spasmwatch daemon) listens there"
    if e.errno == errno.EACCES:
        return ": ports below 1024 need root: take one from 1024 up ([daemon.http] port, 8765 by default)"
    if e.errno == errno.EADDRNOTAVAIL:
        return ": this computer has no such address: check [daemon.http] host"
    return ""


class ApiError(Exception):
    """An answer ``{"error": message}`` with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def new_token() -> str:
    """A token for LAN access (32 url-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def web_dir() -> Path:
    """The folder of the page's files (installed as package data)."""
    return Path(str(resources.files("spasmwatch.daemon") / "web"))


# Every answer names the page files the daemon serves (``page_id``): a page open across a restart on
# another version reloads itself when it reads another (app.js ``checkPage``).
PAGE_HEADER = "X-Spasmwatch-Page"


def page_id(files: dict[str, bytes]) -> str:
    """The id of the page files ``files``: a digest of their names and contents (16 hex digits)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(b"%d:%s:%d:" % (len(name), name.encode(), len(files[name])) + files[name])
    return digest.hexdigest()[:16]


def page_files(folder: Path) -> dict[str, bytes]:
    """The page's files in ``folder`` (those of a type it serves), by name, read once: the daemon
    serves the page of its own version. Read at each request, they were gone while 'pip install -U'
    ran (404: no page to show the alarm), then the next version's, whose app.js may ask an API the
    running daemon does not have, until a restart (docs/host.md, "Upgrading")."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in _TYPES and _STATIC_NAME.match(p.name) and p.is_file()}


class HttpServer:
    """The family web page and JSON API on ``host:port``.

    ``lan=True`` serves every interface (0.0.0.0, or ``host`` if it names a
    non-loopback address) and needs ``token``. A ``token`` given is asked for on
    any bind address; ``require_token=True`` refuses to start without one.
    ``shutdown_s``: how long ``stop`` waits for the requests under way before their handlers are
    cancelled (``SHUTDOWN_S``; the live streams it ends itself at once, not after it).
    ``tls``: (certificate, key) PEM files: HTTPS, read and checked at each ``start``.
    """

    def __init__(
        self,
        api: DaemonAPI,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        lan: bool = False,
        token: str = "",
        *,
        require_token: bool = False,
        heartbeat_s: float = HEARTBEAT_S,
        max_streams: int = MAX_STREAMS,
        stream_dead_s: float = STREAM_DEAD_S,
        max_connections: int = MAX_CONNECTIONS,
        idle_s: float = IDLE_S,
        body_s: float = BODY_S,
        shutdown_s: float = SHUTDOWN_S,
        clock: Callable[[], float] = time.time,
        static_dir: Path | None = None,
        language: Callable[[], str] = lambda: "en",
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.api = api
        # Read on each page load, so a reload of [alerts] language reaches the next one.
        self.language = language
        self.bind_host = bind_host(host, lan)
        self.port = port
        self.lan = lan
        self.token = token.strip()
        # A token set is asked for on 127.0.0.1 too: without it any program of any account on this
        # computer read the baby's state and acknowledged alarms (the security review of 2026-12-07).
        self.require_token = require_token or lan or not is_loopback(self.bind_host) or bool(self.token)
        if self.require_token and not self.token:
            if lan:
                why = "lan = true"
            elif not is_loopback(self.bind_host):
                why = f"host {self.bind_host} is reachable from other machines"
            else:
                why = "require_token"
            raise ConfigError(
                f"web page: a token is required ({why}): anyone on the network could otherwise see the baby's "
                f"state and acknowledge alarms. Set [daemon.http] token to a long random string, e.g. {new_token()}"
            )
        if not 0 <= port <= 65535:
            raise ConfigError(f"web page: port must be 0-65535, got {port}")
        self.heartbeat_s = heartbeat_s
        self.max_streams = max_streams
        self.stream_dead_s = stream_dead_s
        self.max_connections = max_connections
        self.idle_s = idle_s
        self.body_s = body_s
        self.shutdown_s = shutdown_s
        self.clock = clock
        self._files = page_files(static_dir or web_dir())
        self._page_id = page_id(self._files)
        self._cookie = hmac.new(self.token.encode(), b"spasmwatch web cookie v1", hashlib.sha256).hexdigest() if self.token else ""
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._streams: set[asyncio.Queue[Json]] = set()
        self._heavy = asyncio.Semaphore(1)  # /api/days: one worker thread at a time, not one per client
        self.address: tuple[str, int] | None = None
        self.tls = tls
        self.cert: PageCert | None = None  # the certificate served, once started with ``tls``

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    # ---- lifecycle ------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors, self._guard], client_max_size=MAX_BODY)
        app[BODY_S_KEY] = self.body_s
        r = app.router
        r.add_get("/", self._index)
        r.add_get("/static/{name}", self._static)
        r.add_get("/api/status", self._status)
        r.add_get("/api/clusters", self._clusters)
        r.add_get("/api/days", self._days)
        r.add_get("/api/notes", self._notes)
        r.add_get("/api/summary", self._summary)
        r.add_post(r"/api/alerts/{id:\d+}/ack", self._ack)
        r.add_post(r"/api/clusters/{id:\d+}/label", self._label)
        r.add_post("/api/notes", self._add_note)
        r.add_post("/api/bands/{device}/mute", self._mute)
        r.add_post("/api/bands/{device}/bonds", self._bonds)
        r.add_post("/api/test-alarm", self._test_alarm)
        r.add_get("/api/stream", self._stream, allow_head=False)
        app.on_response_prepare.append(self._headers)
        return app

    async def start(self) -> tuple[str, int]:
        """Serve; returns the bound (host, port) (port 0 asks the OS for a free one)."""
        if self._runner is not None:
            raise RuntimeError("HttpServer already started")
        self._closing = asyncio.Event()
        self._heavy = asyncio.Semaphore(1)  # of this loop (a server started again may be on another)
        context = self._tls_context()
        runner = web.AppRunner(self.app(), handler_cancellation=True, access_log=None, shutdown_timeout=self.shutdown_s,
                               keepalive_timeout=self.idle_s)  # fmt: skip
        await runner.setup()
        try:
            site = _CappedSite(runner, self.bind_host, self.port, self.max_connections, context, self.idle_s)
            await site.start()
        except OSError as e:
            await runner.cleanup()
            raise HttpError(f"web page: cannot listen on {host_port(self.bind_host, self.port)}: {e.strerror or e}{_cannot_listen(e)}",
                            in_use=e.errno == errno.EADDRINUSE, not_there=e.errno == errno.EADDRNOTAVAIL) from e  # fmt: skip
        self._runner = runner
        sock = runner.addresses[0]
        self.address = (str(sock[0]), int(sock[1]))
        # Not the link with the token: a log is pasted into questions. 'status' shows it on this computer.
        how = "token required: 'spasmwatch status' shows the link with it" if self.require_token else "this computer only"
        log.info("web page on %s (%s)", self.url, how)
        return self.address

    def _tls_context(self) -> ssl.SSLContext | None:
        """The server's TLS context from the files, read now (one replaced since the last try is
        taken); HttpError ``bad_cert`` naming the file and key when they cannot be used."""
        if self.tls is None:
            return None
        try:
            self.cert = load(*self.tls)  # at the wall clock's time, the phones': not the daemon's (a replay's)
            return self.cert.server_context()
        except (TlsError, ssl.SSLError) as e:
            raise HttpError(f"web page: HTTPS: {e}", bad_cert=True) from e

    async def stop(self) -> None:
        """Close live streams and stop serving (idempotent)."""
        self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def url(self) -> str:
        """The page's address (the bound one after ``start``)."""
        host, port = self.address or (self.bind_host, self.port)
        return f"{self.scheme}://{host_port('127.0.0.1' if host in ('0.0.0.0', '::') else host, port)}/"

    def link(self, host: str | None = None) -> str:
        """The link to give a phone: ``http(s)://host:port/`` and, when a token is
        needed, ``?token=...`` (opened once, the phone then keeps a cookie).
        ``host``: the name or LAN address the phone reaches this computer by."""
        url = self.url
        if host:
            h = f"[{host}]" if ":" in host else host
            url = f"{self.scheme}://{h}:{(self.address or (self.bind_host, self.port))[1]}/"
        return f"{url}?token={quote(self.token, safe='')}" if self.require_token else url

    # ---- middlewares ----------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every error is ``{"error": "..."}`` (a browser asking for a page gets a short HTML text on 401)."""
        try:
            return await handler(request)
        except ApiError as e:
            return _error(e.status, e.message, e.headers)
        except StoreError as e:  # (a store not open, its disk gone: the status says so, not a traceback a load)
            return _store_unreadable(f"the store cannot be read: {e}")
        except web.HTTPException as e:  # the router's 404 / 405, aiohttp's 413
            if e.status < 400:
                raise
            return _error(e.status, e.reason, e.headers)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("web page: %s %s failed", request.method, request.path)
            return _error(500, "internal error (see the daemon's log)")

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        set_cookie = False
        if self.require_token:
            ok, set_cookie = self._authorized(request)
            if not ok:
                return self._unauthorized(request)
        elif not is_loopback(_hostname(request.host)):
            # DNS rebinding: a web site whose name resolves to 127.0.0.1.
            raise ApiError(403, f"host {request.host!r} not allowed: open {self.url}")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            self._check_origin(request)
        response = await handler(request)
        if set_cookie and not response.prepared:
            response.set_cookie(COOKIE, self._cookie, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="Strict",
                                secure=self.tls is not None)  # over HTTPS never sent in plain: none is  # fmt: skip
        return response

    def _authorized(self, request: web.Request) -> tuple[bool, bool]:
        """(let in, set the cookie)."""
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer " and _same(auth[7:].strip(), self.token):
            return True, False
        if _same(request.cookies.get(COOKIE, ""), self._cookie):
            return True, False
        q = request.query.get("token")
        if q is not None and _same(q, self.token):
            return True, True
        return False, False

    def _unauthorized(self, request: web.Request) -> web.Response:
        hdrs = {"WWW-Authenticate": 'Bearer realm="spasmwatch"'}
        if not request.path.startswith("/api/") and "text/html" in request.headers.get("Accept", ""):
            return web.Response(status=401, headers=hdrs, content_type="text/html", text=unauthorized_html(self.language()))
        return _error(401, "token required: open the link with ?token=... that 'spasmwatch status' shows on the "
                      "computer running spasmwatch, or send 'Authorization: Bearer <token>'", hdrs)

    def _check_origin(self, request: web.Request) -> None:
        """CSRF: a browser's POST must come from this very origin."""
        origin = request.headers.get("Origin")
        if origin is None and "Referer" in request.headers:
            u = urlsplit(request.headers["Referer"])
            origin = f"{u.scheme}://{u.netloc}"
        if origin is None:
            # Not a browser (browsers send Origin with every POST): curl, home automation.
            if request.cookies.get(COOKIE) and not request.headers.get("Authorization"):
                raise ApiError(403, "cross-site request refused (no Origin)")
            return
        if origin.lower() != f"{request.scheme}://{request.host}".lower():
            raise ApiError(403, f"cross-site request refused (Origin {origin!r})")
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            raise ApiError(403, "cross-site request refused (Sec-Fetch-Site)")

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        h.setdefault("Cache-Control", "no-store")
        h.setdefault(PAGE_HEADER, self._page_id)

    # ---- the page -------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        html = page_in(self._body("index.html").decode("utf-8"), self.language())
        return web.Response(body=html.encode(), headers={"Content-Type": _TYPES[".html"], "Cache-Control": "no-cache"})

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "index.html":
            raise ApiError(404, f"no such file: {name}")
        return web.Response(body=self._body(name), headers={"Content-Type": _TYPES[Path(name).suffix], "Cache-Control": "no-cache"})

    def _body(self, name: str) -> bytes:
        try:
            return self._files[name]
        except KeyError:
            raise ApiError(404, f"no such file: {name}") from None

    # ---- JSON API -------------------------------------------------------

    async def _status(self, request: web.Request) -> web.StreamResponse:
        """The daemon's status; ``?alerts=open``: its open alerts alone, what the page shows. The page
        reads it at each band STATUS (every 10 s): with the engine's 200 closed alerts kept, 0.5 KB
        each, a read was ~100 KB, ~1 GB a day to a phone left open (the uptime review); ~2 KB now.
        Without it, as before: the closed ones too ('spasmwatch status --json', scripts)."""
        alerts = request.query.get("alerts")
        if alerts not in (None, "open"):
            raise ApiError(400, "alerts must be 'open' (or left out: the open alerts and the last closed ones)")
        return _json(self.api.status(closed=alerts is None))

    async def _clusters(self, request: web.Request) -> web.StreamResponse:
        since, until = self._range(request)
        return _json(self.api.clusters(since, until))

    async def _days(self, request: web.Request) -> web.StreamResponse:
        n = _int(request.query.get("n", "14"), "n")
        if not 1 <= n <= MAX_DAYS:
            raise ApiError(400, f"n must be 1-{MAX_DAYS}, got {n}")
        # In a worker thread, one at a time: the daemon reads each day from the store (two queries
        # and a connection a day), 0.47 s for 366 days on an empty store on a desktop, all of it on
        # the event loop that streams the bands and raises the alarms; a client asking for n=366 in
        # a loop held it up for good. The store takes calls from threads (store/store.py).
        async with self._heavy:
            return _json(await STORE_WORK.call(self.api.days, n))

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        try:
            return _json(await self.api.summary(self.language()))
        except StoreError as e:
            return _store_unreadable(f"the store cannot be read for the summary: {e}")

    async def _notes(self, request: web.Request) -> web.StreamResponse:
        since, until = self._range(request)
        return _json(self.api.notes(since, until))

    def _range(self, request: web.Request) -> tuple[float, float]:
        """``since``/``until`` in unix seconds; by default today (local midnight to midnight)."""
        zone = local_zone()  # the file's, as the daemon reads it, not C's (stale after a change: local_day)
        t0, t1 = local_day(dt.datetime.fromtimestamp(self.clock(), zone).date(), zone)
        since = _float(request.query["since"], "since") if "since" in request.query else t0
        until = _float(request.query["until"], "until") if "until" in request.query else max(t1, since)
        if until < since:
            raise ApiError(400, "until is before since")
        return since, until

    async def _ack(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        alert_id = _path_id(request, "alert")
        try:
            with _api_errors(f"no alert {request.match_info['id']}"):
                return _json(self.api.ack(alert_id, _by(body)))
        except AlertOver as e:  # the page words it by its code ("This alert had already ended; Anna had ...")
            return _json({"error": str(e), "code": "alert_over", "acked_by": e.acked_by}, status=409)
        except StoreCannotTell as e:  # (the page and 'spasmwatch ack' word it by its code, calmly)
            return _json({"error": str(e), "code": "store_not_open"}, status=503)

    async def _label(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        label = body.get("label")
        if not isinstance(label, str):
            raise ApiError(400, "label must be 'confirmed' or 'false_alarm'")
        cluster_id = _path_id(request, "cluster")
        with _api_errors(f"no cluster {request.match_info['id']}"):
            return _json(self.api.label(cluster_id, label, _by(body)))

    async def _mute(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        for_s = body.get("for_s")
        if not isinstance(for_s, (int, float)) or isinstance(for_s, bool) or not 0 <= for_s <= MAX_MUTE_S:
            raise ApiError(400, f"for_s must be a number of seconds, 0-{MAX_MUTE_S:.0f}")
        with _api_errors(f"no band {request.match_info['device']}"):
            return _json(self.api.mute(request.match_info["device"], float(for_s), _by(body)))

    async def _bonds(self, request: web.Request) -> web.StreamResponse:
        """'spasmwatch bonds' on the band's live link: behind the guard as every POST (the token
        where one is set, this computer only where none is)."""
        body = await _body(request)
        revoke = body.get("revoke_others", False)
        if not isinstance(revoke, bool):
            raise ApiError(400, "revoke_others must be true or false")
        band = request.match_info["device"]
        try:
            with _api_errors(f"the daemon has no band {band}"):
                return _json(await self.api.bonds(band, revoke, _by(body)))
        except BandNotConnected as e:
            raise ApiError(409, str(e)) from None

    async def _add_note(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        kind, text, device = body.get("kind"), body.get("text"), body.get("device")
        if not isinstance(kind, str):
            raise ApiError(400, "kind must be 'video', 'medication' or 'note'")
        if not isinstance(text, str):
            raise ApiError(400, "text must be a string")
        if device is not None and not isinstance(device, str):
            raise ApiError(400, "device must be a string or null")
        with _api_errors():
            note = self.api.add_note(kind, text, device or None, _by(body))
        return _json(note, status=201)

    async def _test_alarm(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        channel = body.get("channel")
        if channel is not None and not isinstance(channel, str):
            raise ApiError(400, "channel must be a channel's name or null (every channel)")
        with _api_errors():
            return _json(await self.api.send_test(channel or None, _by(body)))

    # ---- live updates ---------------------------------------------------

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: one ``data:`` line of JSON per daemon update, a comment as heartbeat."""
        if len(self._streams) >= self.max_streams:
            raise ApiError(503, "too many live pages open")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        q = self.api.subscribe()
        self._streams.add(q)
        closing = asyncio.ensure_future(self._closing.wait())
        get: asyncio.Future[Json] | None = None
        try:
            await resp.prepare(request)
            self._drop_if_unacknowledged(request)
            await self._send(request, resp, b"retry: 3000\n: hello\n\n")
            while not self._closing.is_set():
                if get is None:  # a pending get is kept across heartbeats (a cancelled one could lose a message)
                    get = asyncio.ensure_future(q.get())
                waiting: set[asyncio.Future[Any]] = {get, closing}
                done, _ = await asyncio.wait(waiting, timeout=self.heartbeat_s, return_when=asyncio.FIRST_COMPLETED)
                if get in done:
                    msg, get = get.result(), None
                    await self._send(request, resp, b"data: " + _dumps(msg).encode() + b"\n\n")
                elif not self._closing.is_set():
                    await self._send(request, resp, b": ping\n\n")
        except ConnectionError:
            pass  # the page went away (a cancelled handler is the other way to learn it)
        finally:
            closing.cancel()
            if get is not None:
                get.cancel()
            self._streams.discard(q)
            self.api.unsubscribe(q)
        return resp

    def _drop_if_unacknowledged(self, request: web.Request) -> None:
        """Have the kernel end the connection when what it sent (a heartbeat) stays unacknowledged for
        ``stream_dead_s``: a peer gone writes nothing back, and no write of ours blocks meanwhile (Linux;
        elsewhere the write timeout in ``_send`` is what is left)."""
        sock = request.transport.get_extra_info("socket") if request.transport is not None else None
        if sock is not None and hasattr(socket, "TCP_USER_TIMEOUT") and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, max(1, int(self.stream_dead_s * 1000)))

    async def _send(self, request: web.Request, resp: web.StreamResponse, data: bytes) -> None:
        """Write ``data``; a page that takes none of it for ``stream_dead_s`` is cut off (ConnectionError)."""
        try:
            await asyncio.wait_for(resp.write(data), self.stream_dead_s)
        except TimeoutError:
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError(f"live page took no data for {self.stream_dead_s:g} s") from None

    @property
    def live_streams(self) -> int:
        return len(self._streams)


# ---- helpers ---------------------------------------------------------------


class _CappedSite(web.BaseSite):
    """aiohttp's TCP site, with at most ``max_connections`` open at once (MAX_CONNECTIONS): one
    more gets a 503 and is closed before aiohttp sees it, so it costs a descriptor for an instant.
    With ``context``, HTTPS (a plain request sent to its https:// address: ``_PlainOrTls``)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, max_connections: int,
                 context: ssl.SSLContext | None = None, idle_s: float = IDLE_S) -> None:  # fmt: skip
        super().__init__(runner)
        self.host, self.bind_port, self.max_connections = host, port, max_connections
        self.context, self.idle_s = context, idle_s
        self._full_said = False
        self._starting: set[asyncio.BaseProtocol] = set()
        # HTTPS connections not yet handed to their handler (before their first byte, in their handshake):
        # counted here, or a flood of idle ones would hold descriptors past the cap.
        self._pending: set[_PlainOrTls] = set()

    @property
    def name(self) -> str:
        return f"{'https' if self.context else 'http'}://{self.host}:{self.bind_port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None  # set up before a site starts
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self._protocol(server), self.host, self.bind_port, reuse_address=True
        )

    def _protocol(self, server: web.Server) -> asyncio.BaseProtocol:
        # A connection counts in server.connections from its connection_made, which asyncio runs
        # an iteration after this (measured: 189 open under a cap of 128 counting those alone).
        # The ones made since are counted here until then: two hops, as the transport schedules
        # connection_made right after this returns (a spell of counting one twice refuses early).
        if len(server.connections) + len(self._starting) + len(self._pending) < self.max_connections:
            self._full_said = False
            handler = server()
            if self.context is not None:  # counted in _pending until its handshake is over
                return _PlainOrTls(handler, self.context, self.idle_s, self._pending)
            self._starting.add(handler)
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, self._starting.discard, handler)
            return handler
        if not self._full_said:  # once per spell, not once per connection of a flood
            log.warning("web page: %d connections open, the most it serves: new ones get 503 until some close",
                        self.max_connections)  # fmt: skip
            self._full_said = True
        return _Full()


class _Full(asyncio.Protocol):
    """A connection over MAX_CONNECTIONS: told so (the few bytes fit the socket's buffer, so a peer
    that reads nothing holds nothing) and closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        text = b'{"error": "too many connections open to the spasmwatch page: try again soon"}'
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(text), text))  # fmt: skip
        transport.close()


class _PlainOrTls(asyncio.Protocol):
    """A connection to the HTTPS page, told by its first byte: a TLS handshake (0x16) goes to the
    page's ``handler`` through TLS; a plain HTTP request (an http:// link kept from before, typed)
    is answered with a redirect to its https:// address and closed, where TLS alone answered it
    with nothing at all. asyncio's server-side TLS takes no bytes already read, so its protocol
    (``asyncio.sslproto``, what ``loop.start_tls`` uses) is put on the connection and fed them."""

    def __init__(self, handler: asyncio.BaseProtocol, context: ssl.SSLContext, idle_s: float, pending: set[_PlainOrTls]) -> None:
        self.handler, self.context, self.idle_s, self.pending = handler, context, idle_s, pending
        pending.add(self)  # until the handler has the connection, or it is gone
        self.head = b""
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(self.idle_s, transport.abort)  # (as IDLE_S: nothing sent)

    def connection_lost(self, exc: Exception | None) -> None:  # (before TLS only: then TLS's protocol has the connection)
        if self.timer is not None:
            self.timer.cancel()
        self.pending.discard(self)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if not self.head and data[:1] == b"\x16":
            self._tls(data)
            return
        self.head += data
        if b"\r\n\r\n" in self.head or len(self.head) > PLAIN_HEAD_MAX:
            if self.timer is not None:
                self.timer.cancel()
            self.transport.write(_to_https(self.head))
            self.transport.close()

    def _tls(self, first: bytes) -> None:
        assert self.transport is not None
        if self.timer is not None:
            self.timer.cancel()  # the handshake's own timeout (idle_s) and then aiohttp's keep-alive take over
        loop = asyncio.get_running_loop()
        handshake: asyncio.Future[None] = loop.create_future()
        # A failed handshake (a browser that refused the certificate, a port scan) is the peer's, not
        # the daemon's: taken here, not logged as "Future exception was never retrieved".
        handshake.add_done_callback(self._handshake_over)
        tls = asyncio.sslproto.SSLProtocol(loop, self.handler, self.context, handshake,
                                           server_side=True, ssl_handshake_timeout=math.ceil(self.idle_s))  # fmt: skip
        self.transport.set_protocol(tls)  # (its handshake ends, with the handler's connection_made or failed: _handshake_over)
        tls.connection_made(self.transport)
        view = memoryview(first)
        while view:
            buf = tls.get_buffer(len(view))
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            tls.buffer_updated(n)
            view = view[n:]


    def _handshake_over(self, handshake: asyncio.Future[None]) -> None:
        self.pending.discard(self)  # the handler counts in server.connections now, or the connection is gone
        if not handshake.cancelled():
            handshake.exception()


_REQUEST_LINE = re.compile(rb"[A-Z]+ (/[\x21-\x7e]*) HTTP/1\.[01]")
_HOST_LINE = re.compile(rb"host:[ \t]*([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?[ \t]*", re.IGNORECASE)


def _to_https(head: bytes) -> bytes:
    """The answer to plain HTTP ``head`` on the HTTPS port: 301 to the same host, port and path over
    https://; 400 when it is no request a browser sends (no Host)."""
    lines = head.split(b"\r\n")
    first = _REQUEST_LINE.fullmatch(lines[0])
    host = next((m for line in lines[1:] if (m := _HOST_LINE.fullmatch(line))), None)
    if first is None or host is None:
        text = b"This spasmwatch page is served over HTTPS: open it with https://\n"
        return (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (len(text), text))  # fmt: skip
    location = b"https://" + host[1] + (host[2] or b"") + first[1]
    return b"HTTP/1.1 301 Moved Permanently\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % location


# An element of index.html whose whole content is one page word: ``data-t="key">text<``.
_DATA_T = re.compile(r'( data-t="([a-z_.]+)"[^>]*>)([^<]*)<')


def page_in(html: str, lang: str) -> str:
    """index.html in ``lang`` ([alerts] language): ``<html lang>`` set, the page's words (the
    ``page.`` templates of alerts/messages.py or alerts/lang/<lang>.py, and the SHARED_WITH_PAGE ones
    the pushes say too) embedded once as a JSON data block, which app.js reads (a data block runs nothing, so the CSP's script-src 'self' allows it),
    and the words of its ``data-t`` elements put in the language here: the ``<noscript>`` line shows
    only where app.js does not run, and the rest reads right before it does."""
    words = {k.removeprefix("page."): v for k, v in catalog(lang).items() if k.startswith(("page.", *SHARED_WITH_PAGE))}
    # "<" escaped: a translation holding "</script>" cannot end the block early.
    data = json.dumps(words, ensure_ascii=False).replace("<", "\\u003c")
    block = f'<script type="application/json" id="page-words">{data}</script>\n'
    html = html.replace('<html lang="en">', f'<html lang="{lang}">', 1)
    html = _DATA_T.sub(lambda m: m[1] + escape(words.get(m[2], m[3]), quote=False) + "<", html)
    return html.replace("</head>", block + "</head>", 1)


def _same(a: str, b: str) -> bool:
    return bool(b) and hmac.compare_digest(a.encode(), b.encode())


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _clean(v: Any) -> Any:
    """NaN and infinities become null (JSON has no such numbers)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def _dumps(v: Any) -> str:
    return json.dumps(_clean(v), separators=(",", ":"), default=str)


@contextmanager
def _api_errors(missing: str | None = None) -> Iterator[None]:
    """The API's refusals as HTTP: ValueError (a value it cannot take) is 400 with
    its message; with ``missing``, KeyError (nothing by that id) is 404 ``missing``."""
    try:
        yield
    except KeyError:
        if missing is None:
            raise
        raise ApiError(404, missing) from None
    except ValueError as e:
        raise ApiError(400, str(e)) from None


def _json(v: Any, status: int = 200) -> web.Response:
    return web.Response(text=_dumps(v), status=status, content_type="application/json")


def _store_unreadable(message: str) -> web.Response:
    """503 ``store_unreadable``: the daemon answers but cannot read its store (its disk gone), which
    the page words as that (app.js ``showOffline``), not as a daemon it cannot reach (until review h51)."""
    return _json({"error": message, "code": "store_unreadable"}, status=503)


def _error(status: int, message: str, headers: Any = None) -> web.Response:
    """``{"error": message}``, keeping the headers that explain a 401 / 405."""
    resp = web.Response(text=_dumps({"error": message}), status=status, content_type="application/json")
    for k in ("WWW-Authenticate", "Allow", "Connection"):
        if headers is not None and k in headers:
            resp.headers[k] = headers[k]
    return resp


def _float(s: str, name: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise ApiError(400, f"{name} must be unix seconds, got {s!r}") from None
    if not math.isfinite(v):
        raise ApiError(400, f"{name} must be a finite number")
    return v


def _path_id(request: web.Request, what: str) -> int:
    """The ``{id}`` of the route (digits); one past the store's 64-bit ids is nothing by that id (404)."""
    s = request.match_info["id"]
    if len(s) > 19 or int(s) > MAX_ID:
        raise ApiError(404, f"no {what} {s}")
    return int(s)


def _int(s: str, name: str) -> int:
    try:
        return int(s)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {s!r}") from None


async def _body(request: web.Request) -> Json:
    if request.content_type != "application/json":
        raise ApiError(400, "expected a JSON body (Content-Type: application/json)")
    body_s: float = request.app[BODY_S_KEY]
    try:
        body = await asyncio.wait_for(request.json(), body_s)
    except TimeoutError:
        raise ApiError(408, f"the body did not arrive within {body_s:g} s", {"Connection": "close"}) from None
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, f"body larger than {MAX_BODY} bytes") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    return body


def _by(body: Json) -> str:
    by = body.get("by")
    if by is not None and not isinstance(by, str):
        raise ApiError(400, "by must be a string (who did it)")
    return who(by, "web page")


_UNAUTHORIZED_HTML = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body><h1>spasmwatch</h1>
<p>{text}</p></body></html>
"""


def unauthorized_html(lang: str) -> str:
    """The page a browser without the token gets, in ``lang`` ([alerts] language, as the page; it
    was English whatever the language): the catalogue's words escaped, the link and command as code."""
    words = catalog(lang)
    text = escape(words["locked.text"]).format(link="<code>?token=...</code>", command="<code>spasmwatch status</code>")
    return _UNAUTHORIZED_HTML.format(lang=lang, title=escape(words["locked.title"]), text=text)
