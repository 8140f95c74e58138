"""The server on its own event loop in a thread, so the synchronous Playwright
API can drive a browser from the test thread at the same time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from spasmwatch.daemon.http import HttpServer

T = TypeVar("T")

LOCAL_HOSTS = {"127.0.0.1"}  # the page may ask nothing else
NON_NETWORK_SCHEMES = {"data", "blob", "about"}


class ServerThread:
    def __init__(self, api: Any, **kw: Any) -> None:
        self.api = api
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="http-server", daemon=True)
        kw.setdefault("host", "127.0.0.1")
        kw.setdefault("port", 0)
        self.server = HttpServer(api, **kw)
        self.host = ""
        self.port = 0

    def __enter__(self) -> ServerThread:
        self.thread.start()
        self.host, self.port = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    @property
    def url(self) -> str:
        return f"{self.server.scheme}://{self.host}:{self.port}/"

    def call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Run ``fn`` on the server's loop (the fake daemon's queues live there)."""

        async def run() -> T:
            return fn(*args, **kw)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)


@dataclass
class Watch:
    """Every URL the browser asked for, and every console error / page error."""

    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def non_local(self) -> list[str]:
        out = []
        for u in self.urls:
            parts = urlsplit(u)
            if parts.scheme in NON_NETWORK_SCHEMES:
                continue
            if parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname not in LOCAL_HOSTS:
                out.append(u)
        return out


def open_context(browser: Any, watch: Watch, **kw: Any) -> Any:
    kw.setdefault("viewport", {"width": 390, "height": 844})
    kw.setdefault("device_scale_factor", 2)
    kw.setdefault("is_mobile", True)
    kw.setdefault("has_touch", True)
    kw.setdefault("locale", "en-GB")
    ctx = browser.new_context(**kw)
    ctx.set_default_timeout(10_000)
    ctx.set_default_navigation_timeout(15_000)
    ctx.on("request", lambda r: watch.urls.append(r.url))
    ctx.on("websocket", lambda ws: watch.urls.append(ws.url))

    def on_page(p: Any) -> None:
        p.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        p.on("pageerror", lambda e: watch.errors.append(str(e)))

    ctx.on("page", on_page)
    return ctx
