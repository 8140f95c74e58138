"""The HTTPS page's server side without a browser (daemon/http.py with ``tls``): the links it gives,
and its connection cap held by connections that have not finished (or begun) their TLS handshake.
A real HttpServer on 127.0.0.1, real sockets and Python's ssl client pinned to the certificate."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from fake_daemon import FakeDaemon

from spasmwatch.daemon.http import HttpServer
from spasmwatch.tls import client_context, self_signed, this_computers_names

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    cert_pem, key_pem = self_signed(*this_computers_names())
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    return tmp_path / "cert.pem", tmp_path / "key.pem"


def test_the_links_say_https(pair: tuple[Path, Path]) -> None:
    s = HttpServer(FakeDaemon(), lan=True, token="a b+c", port=8765, tls=pair)
    assert s.link("192.168.1.20") == "https://192.168.1.20:8765/?token=a%20b%2Bc"
    assert s.url == "https://127.0.0.1:8765/"


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_connections_before_their_handshake_count_in_the_cap(pair: tuple[Path, Path]) -> None:
    """40 connections that send nothing (or a ClientHello only, which is the same to the count), in
    waves: at most max_connections are held, the rest refused at once, as over plain HTTP
    (test_web_api.py). Counted only once a handler had the connection, as a plain one is, each wave
    found none counted and 8 more were held (old code: 32 of 40), each until its idle_s."""

    async def main() -> None:
        server = HttpServer(FakeDaemon(), port=0, token=TOKEN, tls=pair, max_connections=8)
        host, port = await server.start()
        try:
            before = _fds()
            conns = []
            for _ in range(4):  # in waves: each after the last's were taken in (a handler made, its connection not yet)
                conns += await asyncio.gather(*(asyncio.open_connection(host, port) for _ in range(10)))
                await asyncio.sleep(0.3)
            held_by_server = _fds() - before - len(conns)
            assert held_by_server <= 8 + 2, held_by_server
            answers = await asyncio.gather(*(asyncio.wait_for(r.read(), 5) for r, _ in conns), return_exceptions=True)
            refused = [a for a in answers if isinstance(a, bytes)]
            assert len(refused) == 32 and all(a.startswith(b"HTTP/1.1 503 ") for a in refused), refused
            for _, w in conns:
                w.close()
            await asyncio.sleep(0.3)
            r, w = await asyncio.open_connection(host, port, ssl=client_context(pair[0]))
            w.write(f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n".encode())
            assert (await asyncio.wait_for(r.read(), 5)).startswith(b"HTTP/1.1 200 ")
            w.close()
        finally:
            await server.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
