"""bleak's own BleakScanner / BleakClient on the simulated radio backend, against the real band firmware."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from bleak import BleakClient, BleakScanner
from cancels import cancel_after, task_of
from transport_helpers import N_SPASMS, run, until
from swcore import protocol as P

from spasmwatch.transport.simband import SimBand
from spasmwatch.transport.simradio import BondStore, SimRadioClient, SimRadioError, SimRadioScanner


def band_bonds(flash: Path) -> list[Any]:
    return list(json.loads((flash / "bonds.json").read_text()))


def test_discover_finds_the_band_by_name_with_its_service(bands: Callable[..., SimBand]) -> None:
    band = bands(device_id="sim4242")
    other = bands("flash2", device_id="simbeef")

    async def body() -> None:
        found = await BleakScanner.discover(0.6, return_adv=True, backend=SimRadioScanner, radios=[band.address, other.address])
        # On air a band's name is neutral (docs/firmware.md, "Threat model"); BleLink and the scan
        # command give the family's name, spasmwatch-XXXX (transport.base.label).
        names = {ad.local_name: (d.address, ad.service_uuids) for d, ad in found.values()}
        assert names["band-4242"] == (band.address, [P.SERVICE_UUID])
        assert names["band-beef"][0] == other.address
        # find_device_by_name: bleak's own helper, through the backend
        dev = await BleakScanner.find_device_by_name("band-beef", 2.0, backend=SimRadioScanner, radios=[band.address, other.address])
        assert dev is not None and dev.address == other.address
        # a passive scanner gets no scan response, so no name (as on air)
        passive = await BleakScanner.discover(0.4, return_adv=True, backend=SimRadioScanner, scanning_mode="passive", radios=[band.address])
        assert [ad.local_name for _, ad in passive.values()] == [None]

    run(body())
    assert band.running  # a scan probe makes no connection: nothing changed for the band
    assert band.report("end") is None


def test_client_pairs_reads_status_syncs_time_and_streams_events(bands: Callable[..., SimBand], bond_file: Path) -> None:
    # 20x real time: the first spasm (15 s in) comes ~0.8 s after pairing, when the TIME_SYNC written
    # right after it has long arrived. As fast as possible it came ~0.1 s after, and on a loaded
    # machine the first event was logged before the sync (a flaky failure on a fresh clone).
    band = bands(speed=20)

    async def body() -> None:
        events: list[dict[str, Any]] = []
        resps: list[dict[str, Any]] = []
        async with BleakClient(band.address, backend=SimRadioClient, bond_file=bond_file, timeout=5) as client:
            assert client.mtu_size == 247 and client.name == band.up["name"]
            assert client.services.get_characteristic(P.CONTROL_UUID) is not None
            # Readable before pairing, but short: the band's state, not the baby's nor its log's
            # (docs/firmware.md, "Threat model"); whole on the secure link once it answered a command.
            status = P.decode(await client.read_gatt_char(P.STATUS_UUID))
            assert status["type"] == "status" and (status["boot"], status["next_seq"], status["worn"]) == (0, 0, -1)
            assert not status["flags"] & P.SF_ENCRYPTED
            await client.start_notify(P.EVENTS_UUID, lambda _c, d: events.append(P.decode(bytes(d))))
            await client.start_notify(P.CONTROL_UUID, lambda _c, d: resps.append(P.decode(bytes(d))))
            await client.pair()
            await client.write_gatt_char(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 250), response=True)
            await until(lambda: bool(resps), 5, "RESP to TIME_SYNC")
            assert resps[0]["opcode"] == P.OP_TIME_SYNC and resps[0]["code"] == P.OK
            await until(lambda: sum(e["type"] == "event" for e in events) >= N_SPASMS, 30, "14 events")
            status = P.decode(await client.read_gatt_char(P.STATUS_UUID))
            assert status["flags"] & P.SF_TIME_SYNCED and status["flags"] & P.SF_ENCRYPTED
            assert status["boot"] == 1 and status["next_seq"] > 0  # (refreshed at each status pass, not per event)
        seqs = [e["seq"] for e in events if e["type"] == "event"]
        assert seqs == list(range(N_SPASMS))
        assert all(e["flags"] & P.EF_TIME_SYNCED for e in events if e["type"] == "event")

    run(body())
    assert band.wait(30) == 0
    assert BondStore(bond_file).get(band.address) is not None


def test_reconnect_after_the_band_restarts_reuses_the_bond(bands: Callable[..., SimBand], bond_file: Path) -> None:
    band = bands()

    async def body() -> None:
        dropped = asyncio.Event()
        got: list[int] = []
        client = BleakClient(band.address, lambda _c: dropped.set(), backend=SimRadioClient, bond_file=bond_file, timeout=5)
        await client.connect()
        await client.start_notify(P.EVENTS_UUID, lambda _c, d: got.append(d[1]))
        await client.pair()
        ltk = BondStore(bond_file).get(band.address)
        await client.write_gatt_char(P.CONTROL_UUID, P.encode_info(P.INFO_RATE_MHZ), response=True)  # a host's first command
        await until(lambda: P.T_EVENT in got, 20, "a first event")
        band.kill()  # the battery is pulled
        await asyncio.wait_for(dropped.wait(), 5)
        assert not client.is_connected

        again = bands(port=band.port)  # same flash, same radio address: the band kept its bond
        assert again.up["boot"] == 2
        events: list[dict[str, Any]] = []
        async with BleakClient(again.address, backend=SimRadioClient, bond_file=bond_file, timeout=5) as client2:
            await client2.start_notify(P.EVENTS_UUID, lambda _c, d: events.append(P.decode(bytes(d))))
            await client2.pair()  # ENCRYPT with the stored key: a PAIR would have made a new random key
            assert BondStore(bond_file).get(again.address) == ltk
            await client2.write_gatt_char(P.CONTROL_UUID, P.encode_info(P.INFO_RATE_MHZ), response=True)
            await until(lambda: any(e["type"] == "event" for e in events), 20, "events after reconnect")
        assert len(band_bonds(again.flash)) == 1
        assert all(e["boot"] == 2 for e in events if e["type"] == "event")

    run(body())


def test_a_request_under_way_at_disconnect_ends_with_it(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """Found with the CDC bridge (h47a): ``disconnect()`` cancelled the radio's receive side, so a read
    whose answer had not come yet waited the ATT timeout (30 s) and ended "timeout". The bridge's read
    of STATUS before a RESP, under way as its serial host went, held the next host's answers (sent in
    the band's order) behind it: the daemon's sync on the next USB connection timed out. As bleak's
    own backends, a disconnect ends what is under way on the link: "disconnected", now. The band is
    stopped (SIGSTOP) meanwhile, so that no answer can come first."""
    band = bands()

    async def body() -> None:
        client = BleakClient(band.address, backend=SimRadioClient, bond_file=bond_file, timeout=5)
        await client.connect()
        os.kill(band.proc.pid, signal.SIGSTOP)
        try:
            read = asyncio.ensure_future(client.read_gatt_char(P.STATUS_UUID))
            await asyncio.sleep(0)  # its request goes out: the read waits for the band's answer
            assert not read.done()
            await client.disconnect()
        finally:
            os.kill(band.proc.pid, signal.SIGCONT)
        with pytest.raises(SimRadioError) as e:
            await read
        assert e.value.kind == "disconnected", e.value

    run(body())


@pytest.mark.parametrize("steps", range(3))
def test_a_connect_cancelled_as_the_band_answers_leaves_no_link(bands: Callable[..., SimBand], bond_file: Path, steps: int) -> None:
    """The band's answer to the connect's hello comes ``steps`` loop passes before the connect's
    cancel. Old code waited for it with ``asyncio.wait_for``, which on Python 3.11 returned the
    answer that came in the cancel's pass: the connect went on and the link stayed up after its
    cancel (a stopped session's; the band, one central at a time, refused the next)."""
    band = bands()

    async def body() -> None:
        client = BleakClient(band.address, backend=SimRadioClient, bond_file=bond_file, timeout=5)
        connecting = asyncio.ensure_future(client.connect())
        if not await cancel_after(connecting, await task_of("SimRadioClient._try_hello"), steps):  # (False: it had returned)
            await client.disconnect()
        assert not client.is_connected
        async with BleakClient(band.address, backend=SimRadioClient, bond_file=bond_file, timeout=5) as again:
            assert again.is_connected  # the band, not held by a link left up, takes the next central

    run(body())


@pytest.mark.parametrize("steps", range(3))
def test_a_request_cancelled_as_the_band_answers_raises_the_cancel(bands: Callable[..., SimBand], bond_file: Path, steps: int) -> None:
    """The band's answer to a request (a read of STATUS) comes ``steps`` loop passes before its
    cancel. Old code waited with ``asyncio.wait_for``, which on Python 3.11 returned the answer that
    came in the cancel's pass: a session awaiting the link (its subscribes, its pairing) went on
    after its cancel."""
    band = bands()

    async def body() -> None:
        async with BleakClient(band.address, backend=SimRadioClient, bond_file=bond_file, timeout=5) as client:
            reading = asyncio.ensure_future(client.read_gatt_char(P.STATUS_UUID))
            await cancel_after(reading, await task_of("Queue.get"), steps)

    run(body())


def test_a_band_that_lost_our_bond_is_an_auth_failure_until_unpaired(bands: Callable[..., SimBand], bond_file: Path, tmp_path: Path) -> None:
    band = bands()
    BondStore(bond_file).put(band.address, bytes(16))  # a key the band never gave

    async def body() -> None:
        from bleak.exc import BleakError

        async with BleakClient(band.address, backend=SimRadioClient, bond_file=bond_file, timeout=5) as client:
            try:
                await client.pair()
            except BleakError as e:
                assert getattr(e, "kind", None) == "auth"
            else:
                raise AssertionError("a rejected bond must not pass")
            await client.unpair()
            await client.pair()  # pairing from scratch works
        assert BondStore(bond_file).get(band.address) not in (None, bytes(16))

    run(body())
