"""Host name lookups for aiohttp in threads of their own, not asyncio's default pool.

aiohttp's default resolver (ThreadedResolver) calls ``loop.getaddrinfo``, which blocks in asyncio's
default pool (min(32, cpus + 4): 6 on 2 cores). The daemon's webhook and ntfy channels and its
heartbeat post by host name; a DNS server that does not answer holds a lookup for resolv.conf's
timeout times its attempts (10 s by default), again at every retry. Until 2026-12-06 that pool was
theirs too: as many hung lookups as it has threads kept the store's reopen, the page's summaries
and (then) the USB bands' reads waiting (tests/alerts/test_http_dns.py).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

import aiohttp
from aiohttp.resolver import ThreadedResolver

from spasmwatch.threads import DetachedThreads

# Threads of a client's own (one HTTP channel, the heartbeat) for its host name's lookups: one, as
# aiohttp makes one lookup of a host at a time (a second request joins the one under way) and each
# of these clients posts to one host.
DNS_THREADS = 1


class Lookups:
    """A client's lookup threads (``DNS_THREADS``): ``connector`` gives aiohttp a connector whose
    resolver is aiohttp's ThreadedResolver (its handling of the answers kept), its blocking calls
    (``getaddrinfo``, ``getnameinfo``, what it asks of its loop) made here. ``close`` at the
    client's close: a lookup still blocked ends in its thread, unwaited for, and holds no exit of the
    process (a daemon thread: threads.py)."""

    def __init__(self) -> None:
        self._pool = DetachedThreads(DNS_THREADS, "spasmwatch-dns")

    def connector(self, **kw: Any) -> aiohttp.TCPConnector:
        return aiohttp.TCPConnector(resolver=ThreadedResolver(cast(asyncio.AbstractEventLoop, self)), **kw)

    async def getaddrinfo(self, host: str, port: int, **kw: Any) -> list[Any]:
        return await self._pool.call(lambda: socket.getaddrinfo(host, port, **kw))

    async def getnameinfo(self, address: tuple[Any, ...], flags: int = 0) -> tuple[str, str]:
        return await self._pool.call(socket.getnameinfo, address, flags)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
