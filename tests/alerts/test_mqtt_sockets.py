"""The MQTT channel closes its sockets itself, and a stop does not wait out a stalled TLS handshake.

Found by review: paho frees a client's sockets (its broker's, and the socket pair that wakes its
network thread) only in ``__del__``, and a link's or scan's client is in a reference cycle through
its callbacks: each one the channel was done with (a start's scan, a link stopped) held them
until the garbage collector ran. And paho's thread blocks in a TLS handshake for its connect
timeout (5 s), which nothing woke: a stop joined it, so a daemon's stop with a broker that
accepted the TCP connection and never answered the handshake took 5 s.

Real parts: mosquitto stopped and started again on its port, a black-hole listener on 127.0.0.1
(it takes the connection, answers nothing: a ClientHello unanswered), an ntfy channel over HTTPS.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from servers import BlackHole, SynHole, run_then_close

from spasmwatch.alerts.channels import ChannelError, MqttChannel, MqttSettings
from spasmwatch.alerts.channels.base import Channel
from spasmwatch.alerts.channels.ntfy import NtfyChannel, NtfySettings

from .conftest import notice, start_broker, stop_broker
from .test_http_dns import STALL_S, STALLED, StalledDns

RESTARTS = 4
# paho's bound on a TCP connect and on a TLS handshake (s): what a stop waited for before.
HANDSHAKE_TIMEOUT_S = paho.Client(CallbackAPIVersion.VERSION2).connect_timeout


def sockets() -> int:
    """The sockets this process has open now."""
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass  # the listing's own descriptor, closed since
    return n


async def send_until_taken(ch: MqttChannel, i: int) -> None:
    """A notification the restarted broker takes (paho reconnects within its first delay)."""
    for _ in range(20):
        try:
            await ch.send(notice(id=100 + i))
            return
        except ChannelError:
            await asyncio.sleep(0.5)
    raise AssertionError("the restarted broker never took a notification")


def test_a_broker_restarted_again_and_again_leaves_no_socket_open(tmp_path: Path) -> None:
    """A channel with a link, its start's scan, the broker stopped and started ``RESTARTS`` times
    (a send and a scan failing while it is away, both working once it is back): as many sockets
    open after as before, none once the channel is closed; the garbage collector off, as it may
    not run for long in a quiet daemon. Old code: 4 more a restart (2 scans' clients and the
    link's), 18 left open after the close, all of them freed only by a collection."""
    broker = start_broker(tmp_path)
    ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=1))

    async def main() -> tuple[int, int, int, int]:
        nonlocal broker
        none = sockets()  # the event loop's own
        await ch.send(notice())
        await ch.say_unheard_away(1.0)
        before = sockets()
        for i in range(RESTARTS):
            stop_broker(broker)
            with pytest.raises(ChannelError):
                await ch.send(notice(id=50 + i))
            with pytest.raises(ChannelError):
                await ch.say_unheard_away(1.0)
            broker = start_broker(tmp_path, port=broker.port)
            await send_until_taken(ch, i)
            await ch.say_unheard_away(1.0)
        after = sockets()
        await ch.close()
        return none, before, after, sockets()

    gc.disable()
    try:
        none, before, after, closed = asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        gc.enable()
        stop_broker(broker)
    assert (after, closed) == (before, none), f"open sockets: {before} before the restarts, {after} after, {closed} once closed ({none} before the channel: the event loop's)"


def _stalled(kind: str, port: int) -> Channel:
    if kind == "mqtt":
        return MqttChannel(MqttSettings(port=port, tls=True, timeout_s=60))
    return NtfyChannel(NtfySettings(url=f"https://127.0.0.1:{port}/topic", timeout_s=60))


@pytest.mark.parametrize("kind", ["mqtt", "ntfy"])
def test_a_stop_during_a_stalled_tls_handshake_does_not_wait_it_out(kind: str) -> None:
    """A send whose TLS handshake the server never answers, then the channel's stop (the send
    cancelled, the channel closed): done before the handshake's own timeout would have ended it,
    counted from the server's accepting the connection. Old code (MQTT): the close joined paho's
    thread, blocked in the handshake until its 5 s timeout. ntfy's handshake is the event loop's
    (aiohttp), cancelled at once before and now."""
    hole = BlackHole()
    ch = _stalled(kind, hole.port)

    async def main() -> None:
        sending = asyncio.create_task(ch.send(notice()))
        while hole.accepted == 0:
            await asyncio.sleep(0.01)
        accepted = time.monotonic()  # (a little after the client's handshake began)
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        # A second less than the handshake's timeout from the accept: on the old code the close
        # could not end before the handshake gave up.
        await asyncio.wait_for(ch.close(), accepted + HANDSHAKE_TIMEOUT_S - 1.0 - time.monotonic())

    run_then_close(main, hole.close, timeout_s=60)


def test_a_stop_during_a_tcp_connect_that_never_completes_does_not_wait_it_out() -> None:
    """A send to a broker whose host never answers the TCP connect (its SYNs dropped: the broker's
    machine off, behind a router), then the channel's stop: done before paho's connect timeout
    would have ended the connect, counted from when it was seen under way. Old code: the close
    joined paho's thread, blocked in ``socket.create_connection`` for that timeout (5 s): a
    daemon's stop or a reload that retired the channel waited it out whenever the broker was away."""
    hole = SynHole()
    ch = MqttChannel(MqttSettings(port=hole.port, timeout_s=60))

    async def main() -> None:
        sending = asyncio.create_task(ch.send(notice()))
        while hole.connecting() == 0:
            await asyncio.sleep(0.01)
        seen = time.monotonic()  # (a little after the connect began)
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        await asyncio.wait_for(ch.close(), seen + HANDSHAKE_TIMEOUT_S - 1.0 - time.monotonic())

    run_then_close(main, hole.close, timeout_s=60)


def test_a_stop_during_a_broker_name_lookup_that_hangs_does_not_wait_it_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A send to a broker by a name whose lookup hangs (a DNS server that does not answer; a
    ``.local`` name whose host is off, which mDNS answers after seconds), then the channel's stop:
    done long before the lookup would have ended. Old code: the close joined paho's thread, blocked
    in ``getaddrinfo`` until it gave up (``STALL_S`` here; resolv.conf's timeout x attempts, 10 s,
    by default)."""
    dns = StalledDns(monkeypatch)
    ch = MqttChannel(MqttSettings(host=f"broker{STALLED}", timeout_s=60))

    async def main() -> None:
        sending = asyncio.create_task(ch.send(notice()))
        try:
            while dns.waiting == 0:
                await asyncio.sleep(0.01)
            seen = time.monotonic()
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            await asyncio.wait_for(ch.close(), seen + STALL_S / 2 - time.monotonic())
        finally:
            dns.release()

    asyncio.run(asyncio.wait_for(main(), 3 * STALL_S))
