"""BleLink (the daemon's Link over bleak) on the simulated radio: the session's sequence and its error kinds."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from pathlib import Path
from collections.abc import AsyncIterator
from typing import Any, Callable

import pytest
from transport_helpers import N_SPASMS, run, until
from swcore import protocol as P

from spasmwatch.transport import AuthError, DisconnectedError, Link, NotFoundError, TransportError, open_link, scan
from spasmwatch.transport.ble import BleBackend, BleLink
from spasmwatch.transport.simband import SimBand, free_port
from spasmwatch.daemon.session import BandSession, State
from spasmwatch.transport.simradio import R_MTU, R_NOTIFY, R_SECURITY, BondStore, SimRadioClient, SimRadioScanner, backend

# A connect's timeout (s) where the test needs it to succeed: a hang guard, ample under load
CONNECT_S = 5.0
# The connect timeout of the test that then waits as long for an answer (s): kept short for the
# test's length, yet some 40 times what the connect takes idle (~0.05 s)
SECURE_CONNECT_S = 2.0


def test_the_family_s_name_is_taken_from_the_neutral_one_on_air_and_from_an_older_firmware_s() -> None:
    """The band advertises band-XXXX since 2026-12-07 (docs/firmware.md, "Threat model"); the config
    still names it spasmwatch-XXXX, and a band not flashed since advertises that."""
    from spasmwatch.transport.base import label

    assert label("band-a066") == "spasmwatch-a066" and label("BAND-A066").casefold() == "spasmwatch-a066"
    assert label("spasmwatch-a066") == "spasmwatch-a066"
    assert label("") == ""


def test_a_name_typed_in_capitals_connects(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """Found by the family audit: a band configured as 'SPASMWATCH-0001' (typed from a label) was
    taken for an address and never found ("not found within 15 s (out of range, off, or connected
    elsewhere)"), while 'config add-band' refuses it beside 'spasmwatch-0001' as the same band."""
    band = bands()

    async def body() -> None:
        link = open_link("sim", band.name.upper(), radios=[band.address], bond_file=bond_file)
        await link.connect(5)
        assert link.connected and link.address == band.address
        await link.disconnect()

    asyncio.run(body())


def test_scan_and_the_session_sequence_by_name(bands: Callable[..., SimBand], bond_file: Path) -> None:
    band = bands()

    async def body() -> None:
        found = await scan(0.5, ("sim",), radios=[band.address])
        assert [(f.name, f.address, f.transport) for f in found] == [(band.name, band.address, "sim")]
        link = BleLink(band.name, backend([band.address], bond_file))  # by name, as a caregiver configures it
        assert isinstance(link, Link)
        await link.connect(5)
        assert link.connected and link.address == band.address and link.mtu == 247
        assert (await link.read("2a25")).decode() == "sim0001"  # Device Information: serial = device id
        records: list[dict[str, Any]] = []
        await link.subscribe(P.EVENTS_UUID, lambda d: records.append(P.decode(d)))
        await link.subscribe(P.CONTROL_UUID, lambda d: records.append(P.decode(d)))
        await link.secure()
        await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
        await until(lambda: any(r["type"] == "resp" for r in records), 5, "RESP")
        await until(lambda: sum(r["type"] == "event" for r in records) >= N_SPASMS, 30, "events")
        await link.disconnect()
        assert not link.connected

    run(body())


class CountingScanner(SimRadioScanner):
    """The simulated radio's scanner, which notes each probe of a radio in ``probes``: a round of
    probes comes every ``interval_s`` at most, so their number tells how long it scanned (at most),
    as the scan's own clock, on a computer of any speed (a slow one probes less often, not more)."""

    def __init__(self, *args: Any, probes: list[str], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.probes = probes

    async def _probe(self, radio: str) -> None:
        self.probes.append(radio)
        await super()._probe(radio)


def test_nobody_listening_is_not_found(bond_file: Path) -> None:
    """Nobody at the address: the connect ends at its own timeout as not_found. Told by the scan's
    probes, not a clock (the old test: < 5 s): within timeout_s, at most timeout_s / interval_s + 1
    rounds of them (+ 1: one may be under way as the timeout comes); the connect's 10 s default would
    be ~100, and a scan that never ended fails run's bound."""
    address = "127.0.0.1:%d" % free_port()
    timeout_s, interval_s = 0.5, 0.1
    probes: list[str] = []
    scanner_kw = {"radios": [address], "interval_s": interval_s, "probes": probes}
    link = BleLink(address, BleBackend(CountingScanner, SimRadioClient, scanner_kw, {"bond_file": bond_file}, "sim"))
    with pytest.raises(NotFoundError) as err:
        run(link.connect(timeout_s))
    assert err.value.kind == "not_found" and f"not found within {timeout_s:g} s" in str(err.value), err.value
    assert 1 <= len(probes) <= timeout_s / interval_s + 2, f"{len(probes)} probes: the scan went on past its timeout"


def test_control_write_without_pairing_is_auth(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """The stack refuses it as NimBLE does: ATT 0x05 Insufficient Authentication from a central the
    band has no bond with (pair), 0x0F Insufficient Encryption from a bonded one (re-encrypt). The
    simulated radio said 0x0F to both (found by the Bumble bridge, tests/transport/bumble_air.py)."""
    band = bands()

    async def body() -> None:
        link = open_link("sim", band.address, bond_file=bond_file)
        await link.connect(5)
        with pytest.raises(AuthError) as err:
            await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
        assert err.value.kind == "auth" and "Insufficient Authentication" in str(err.value)
        await link.secure()
        await until(lambda: (band.flash / "bonds.json").exists(), 5, "the band to store the bond")
        await link.disconnect()
        await link.connect(5)
        with pytest.raises(AuthError) as err:
            await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
        assert err.value.kind == "auth" and "Insufficient Encryption" in str(err.value)
        await link.secure()  # re-encrypts with the bond
        await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
        await link.disconnect()

    run(body())


def test_a_band_that_lost_our_bond_refuses_secure_as_auth(bands: Callable[..., SimBand], bond_file: Path) -> None:
    band = bands()
    BondStore(bond_file).put(band.address, bytes(16))  # as if the band's flash had been erased since we paired

    async def body() -> None:
        link = open_link("sim", band.address, bond_file=bond_file)
        await link.connect(5)
        with pytest.raises(AuthError, match="no longer has our bond"):
            await link.secure()
        await link.disconnect()

    run(body())


def test_band_busy_with_another_central_is_not_found_then_found(bands: Callable[..., SimBand], bond_file: Path, tmp_path: Path) -> None:
    band = bands()

    async def body() -> None:
        first = open_link("sim", band.address, bond_file=bond_file)
        await first.connect(5)
        second = open_link("sim", band.address, bond_file=tmp_path / "other-host.json")
        with pytest.raises(TransportError) as err:  # a connected band does not advertise
            await second.connect(0.5)
        assert err.value.kind == "not_found", err.value  # as a real stack does not find it (docs/transport.md)
        await first.disconnect()
        await second.connect(5)  # advertising again once the first central left
        await second.disconnect()

    run(body())


def test_band_death_fires_on_disconnect_and_later_calls_say_disconnected(bands: Callable[..., SimBand], bond_file: Path) -> None:
    band = bands()

    async def body() -> None:
        link = open_link("sim", band.address, bond_file=bond_file)
        lost = asyncio.Event()
        link.on_disconnect(lost.set)
        await link.connect(5)
        await link.secure()
        await until(lambda: (band.flash / "bonds.json").exists(), 5, "the band to store the bond")  # saved from a task, not the IRQ
        band.kill()
        await asyncio.wait_for(lost.wait(), 5)
        assert not link.connected
        with pytest.raises(DisconnectedError):
            await link.read(P.STATUS_UUID)
        # a deliberate disconnect does not fire it
        again = bands(port=band.port)
        quiet = open_link("sim", again.address, bond_file=bond_file)
        fired: list[int] = []
        quiet.on_disconnect(lambda: fired.append(1))
        await quiet.connect(5)
        await quiet.secure()  # the restarted band kept our bond
        await quiet.disconnect()
        await asyncio.sleep(0.2)
        assert fired == []

    run(body())


# --- found by review ------------------------------------------------------------------------------
class _MacClient(SimRadioClient):
    """As bleak's CoreBluetooth client: it has no pairing call."""

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("Pairing is not available in Core Bluetooth.")


def test_secure_on_a_backend_without_pairing_goes_on_to_the_encrypted_write(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """bleak's CoreBluetooth pair() raises NotImplementedError: not a TransportError, so the session
    took it for a bug and retried every 2 s, and a band on a Mac was never monitored. macOS pairs
    by itself on the first encrypted access; the sim band refuses that write (never paired): auth."""
    band = bands()

    async def body() -> None:
        b = backend([band.address], bond_file)
        link = BleLink(band.address, dataclasses.replace(b, client=_MacClient))
        await link.connect(5)
        await link.secure()  # nothing to do here
        with pytest.raises(AuthError):
            await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
        await link.disconnect()

    run(body())


class _SlowRadio:
    """A TCP proxy in front of a band's radio socket that holds the band's replies of one kind for
    ``hold_s``, or (``release``) until the test sets that event: what a test's own step must come
    before, a time would not order under load (the step came after a 1 s hold's end, seen at load 12);
    ``version``: puts this protocol version in every record the band notifies (a band of another)."""

    def __init__(
        self, target: str, reply: int, hold_s: float = 0.0, version: int | None = None, release: asyncio.Event | None = None
    ) -> None:
        self.host, port = target.rsplit(":", 1)
        self.port, self.reply, self.hold_s = int(port), reply, hold_s
        self.version = version
        self.release = release
        self.open = 0
        self.held = 0  # replies held so far

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """The proxy listening on loopback (its address), its listening socket closed at the end: it
        was left to the garbage collector, a ResourceWarning 'unclosed <socket.socket ...
        laddr=('127.0.0.1', N)>' in whichever test collected it."""
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        try:
            yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
        finally:
            server.close()
            await server.wait_closed()

    async def _serve(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        try:
            br, bw = await asyncio.open_connection(self.host, self.port)
        except OSError:
            cw.close()  # (the band gone: the client's connection closed too)
            raise
        self.open += 1

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter, hold: bool) -> None:
            try:
                while head := await r.readexactly(2):  # the radio's framing: u16 length, then op and body
                    body = await r.readexactly(int.from_bytes(head, "little"))
                    if hold and body[0] == self.reply:
                        self.held += 1
                        await (self.release.wait() if self.release is not None else asyncio.sleep(self.hold_s))
                    if hold and self.version is not None and body[0] == R_NOTIFY:  # op, handle u16, the record
                        body = body[:3] + bytes((self.version,)) + body[4:]
                    w.write(head + body)
                    await w.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                w.close()

        try:
            await asyncio.gather(pipe(cr, bw, False), pipe(br, cw, True))
        finally:
            self.open -= 1


def test_a_connect_that_fails_after_hello_leaves_no_link_up(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """The MTU answer came too late: the client raised but kept its socket to the band, which stayed
    connected to nobody and stopped advertising; every later connect was 'not found'."""
    band = bands()

    async def body() -> None:
        proxy = _SlowRadio(band.address, R_MTU, hold_s=3.0)
        async with proxy.serving() as address:
            link = BleLink(address, backend([address], bond_file))
            with pytest.raises(TransportError):
                await link.connect(1.0)
            await link.disconnect()
            await until(lambda: proxy.open == 0, 5, "the failed connection closed")
            again = BleLink(band.address, backend([band.address], bond_file))
            await again.connect(5)  # the band advertises again
            await again.disconnect()

    run(body())


def test_a_disconnect_while_connecting_leaves_no_link_up(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """Found by review: a ``disconnect()`` while ``connect()`` waited for the band (a session stopped
    by a config reload as it connected) found no client yet and did nothing; the connect then
    finished and kept its client, connected to nobody's purpose, and the band, connected to a
    central, stopped advertising for any other. The band's MTU answer is held until the disconnect()
    has been made (held 1 s, it came first under load: the connect ended, and no DisconnectedError)."""
    band = bands()

    async def body() -> None:
        answer = asyncio.Event()
        proxy = _SlowRadio(band.address, R_MTU, release=answer)
        async with proxy.serving() as address:
            link = BleLink(address, backend([address], bond_file))
            connecting = asyncio.create_task(link.connect(CONNECT_S))
            await until(lambda: proxy.held == 1, CONNECT_S, "the connect waiting for the band's MTU answer")
            await link.disconnect()
            answer.set()  # the connect goes on, and finds the disconnect() made meanwhile
            with pytest.raises(DisconnectedError):
                await connecting
            assert not link.connected
            await until(lambda: proxy.open == 0, 5, "the connection closed")
            again = BleLink(band.address, backend([band.address], bond_file))
            await again.connect(5)  # the band advertises again
            await again.disconnect()

    run(body())


class _NoSink:
    """A session sink that keeps nothing (the session stops before it has records to give)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


def test_a_band_of_another_protocol_version_is_a_fault_that_says_so(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """Found by review: a band answering in another protocol version (one side updated, not the
    other) had every RESP dropped as a bad record; each command timed out after 10 s, retried for
    ever, and the family read "timeout: the band did not answer in time", then "check the band is
    charged and within range". A FAULT now says which versions, retried every 10 minutes."""
    band = bands()

    async def body() -> None:
        proxy = _SlowRadio(band.address, 0, 0.0, version=P.VERSION + 1)
        async with proxy.serving() as address:
            session = BandSession("crib", lambda: BleLink(address, backend([address], bond_file)), _NoSink())  # type: ignore[arg-type]
            task = asyncio.create_task(session.run())
            # Well before the command's timeout (REQUEST_TIMEOUT_S, 10 s): the band's first RESP tells it.
            await until(lambda: session.state is State.FAULT, 8, "a FAULT")
            assert f"protocol version {P.VERSION + 1}" in session.detail and session.detail_msg is not None
            await session.stop()
            await task

    run(body())


def test_a_request_waits_its_own_time_not_what_the_connect_had_left(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """Each request waited the connect timeout's remainder (0.1 s when the band was heard late):
    a pairing answered later than that failed as a timeout. The answer is held as long as the whole
    connect timeout, which bounds what the connect left, however long the connect took (the old
    test's 0.3 s connect, against a 0.4 s hold, failed under load: the connect took longer)."""
    band = bands()

    async def body() -> None:
        proxy = _SlowRadio(band.address, R_SECURITY, hold_s=SECURE_CONNECT_S)
        async with proxy.serving() as address:
            link = BleLink(address, backend([address], bond_file))
            await link.connect(SECURE_CONNECT_S)
            await link.secure()  # answered after the whole connect timeout
            await link.disconnect()

    run(body())


@pytest.mark.parametrize(
    ("error_name", "body", "kind"),
    [
        ("org.bluez.Error.NotPermitted", ["Not paired"], "auth"),  # ATT 0x05 / 0x0C / 0x0F
        ("org.bluez.Error.NotPaired", ["Not Paired"], "auth"),  # the same, BlueZ before 5.5x
        ("org.bluez.Error.NotAuthorized", ["Operation Not Authorized"], "auth"),  # ATT 0x08
        ("org.bluez.Error.Failed", ["Operation failed with ATT error: 0x0f"], "auth"),
        ("org.bluez.Error.NotPermitted", ["Write not permitted"], "io"),  # ATT 0x03: no pairing helps
    ],
)
def test_bluez_security_refusals_are_auth(error_name: str, body: list[str], kind: str) -> None:
    """Found by review: BlueZ answers a write refused for lack of encryption (ATT 0x05/0x0C/0x0F, the
    control write to a band that lost our bond) with org.bluez.Error.NotPermitted "Not paired", which
    bleak passes on as a BleakDBusError; it was mapped to io, so the session retried every 2-60 s
    for ever and the family heard "disconnected" instead of "pairing refused: re-pair the band"."""
    from bleak.backends.bluezdbus.utils import assert_gatt_reply
    from dbus_fast import Message, MessageType

    from spasmwatch.transport.ble import mapped

    reply = Message(message_type=MessageType.ERROR, error_name=error_name, reply_serial=1, signature="s", body=body)
    with pytest.raises(TransportError) as caught:
        with mapped("write control"):
            assert_gatt_reply(reply)  # what bleak's BlueZ backend does with the reply of WriteValue
    assert caught.value.kind == kind
