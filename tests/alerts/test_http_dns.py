"""A host name whose lookup hangs holds no thread of asyncio's default pool, nor another channel's.

Found by review: the webhook and ntfy channels resolved their host name with aiohttp's default
resolver (ThreadedResolver: ``loop.getaddrinfo``, in asyncio's default pool: min(32, cpus + 4),
6 on 2 cores), which also reads the USB bands, reopens the store and gathers the page's
summaries. A DNS server that does not answer holds each lookup for resolv.conf's timeout times
its attempts (10 s by default), and a channel retries: as many channels' lookups as the pool has
threads held it all, and another channel's alarm, by a name that resolves, waited too. Shown by
order, not by time.

The system resolver stalls for the names under ``stalled.test`` (``socket.getaddrinfo`` waits, as
it does on a DNS server that never answers: none can be made the system's in a test, which may
use loopback only); everything else is real: aiohttp, the channels, a webhook receiver on
127.0.0.1 reached as ``localhost``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from servers import http_recorder

from spasmwatch.alerts.channels import ChannelError
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings

from .conftest import notice

# How long a stalled lookup waits before it fails (s): far longer than the test's other work, so
# that on the old code the probe came only after the first lookup gave up (the order asserted).
STALL_S = 20.0
STALLED = ".stalled.test"


def default_pool_size() -> int:
    """The threads of asyncio's default executor (ThreadPoolExecutor's default since Python 3.8)."""
    return min(32, (os.cpu_count() or 1) + 4)


class StalledDns:
    """``socket.getaddrinfo`` that, for a name under ``stalled.test`` (not with ``AI_NUMERICHOST``,
    which asks no DNS server), waits ``STALL_S`` (or until ``release``) and fails as a resolver
    that got no answer (EAI_AGAIN). ``waiting``: lookups now."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waiting = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
            numeric = (args[4] if len(args) > 4 else kw.get("flags", 0)) & socket.AI_NUMERICHOST  # asks no DNS server
            if numeric or not (isinstance(host, str) and host.endswith(STALLED)):
                return real(host, *args, **kw)
            with self._lock:
                self.waiting += 1
            try:
                self._released.wait(STALL_S)
            finally:
                with self._lock:
                    self.waiting -= 1
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def release(self) -> None:
        self._released.set()


async def until(ok: Any, what: str, timeout_s: float = STALL_S) -> None:
    async def poll() -> None:
        while not ok():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), timeout_s)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def test_a_hanging_dns_lookup_leaves_the_default_pool_and_the_other_channels_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As many webhooks as the default pool has threads, each by a name whose lookup hangs: an
    unrelated ``to_thread`` call (a file written) is done, and a webhook by a name that resolves
    gets its alarm, while every stalled send still waits. Old code: the lookups held every thread
    of the default pool; the probe ran once the first gave up (its send had failed by then)."""
    dns = StalledDns(monkeypatch)
    n = default_pool_size()

    async def main() -> None:
        async with http_recorder() as hook:
            port = hook.url.rsplit(":", 1)[1]
            stalled = [WebhookChannel(WebhookSettings(url=f"http://hook{i}{STALLED}:{port}/alert", name=f"stalled{i}", timeout_s=2 * STALL_S))
                       for i in range(n)]  # fmt: skip
            working = WebhookChannel(WebhookSettings(url=hook.url.replace("127.0.0.1", "localhost") + "/alert", name="working"))
            sends = [asyncio.create_task(ch.send(notice(device=f"cot{i}"))) for i, ch in enumerate(stalled)]
            try:
                await until(lambda: dns.waiting == n, f"{n} lookups to hang")
                started = time.monotonic()
                await asyncio.to_thread((tmp_path / "probe").write_text, "written")
                waited = time.monotonic() - started
                await asyncio.wait_for(working.send(notice()), 2 * STALL_S)
                assert (tmp_path / "probe").read_text() == "written" and len(hook.seen) == 1
                over = [i for i, s in enumerate(sends) if s.done()]
                assert not over, f"the unrelated to_thread call waited {waited:.2f} s for the lookups: sends {over} gave up first"
            finally:
                dns.release()
                results = await asyncio.gather(*sends, return_exceptions=True)
                for ch in (*stalled, working):
                    await ch.close()
            assert all(isinstance(r, ChannelError) for r in results), results

    asyncio.run(asyncio.wait_for(main(), 6 * STALL_S))
