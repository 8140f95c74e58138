"""BleLink and the daemon over a real Bluetooth host stack (Bumble, virtual controllers) in front of the real band.

The band is the firmware under micropython; its radio is a Bumble peripheral
(``bumble_air.BandBridge``) and the host's bleak backend a Bumble central, on
one virtual link: discovery, MTU exchange, CCCDs, ATT errors, SMP pairing and
link-layer encryption are a real stack's, not our simulated radio's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from bumble_air import Air, BandBridge, BumbleHost
from transport_helpers import N_SPASMS, run, until
from swcore import protocol as P

from spasmwatch.transport import AuthError, DisconnectedError, LinkIOError
from spasmwatch.transport.ble import BleLink, scan_ble
from spasmwatch.transport.simband import SimBand


@contextlib.asynccontextmanager
async def on_air(band: SimBand, **kw: Any) -> AsyncIterator[BandBridge]:
    bridge = BandBridge(Air(), band.address, **kw)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()


def start(bands: Callable[..., SimBand], **kw: Any) -> SimBand:
    """A band that stays up between two connections after its recording has played (it plays in about a second)."""
    kw.setdefault("idle_exit_ms", 30000)
    return bands(**kw)


def band_bonds(flash: Path) -> list[Any]:
    return list(json.loads((flash / "bonds.json").read_text()))


def records(into: list[dict[str, Any]]) -> Callable[[bytes], None]:
    return lambda data: into.append(P.decode(data))


def events(recs: list[dict[str, Any]]) -> list[int]:
    return [r["seq"] for r in recs if r["type"] == "event"]


@pytest.mark.parametrize("notify_unsubscribed", [True, False], ids=["gatts_notify", "cccd_gated"])
def test_the_session_over_a_real_host_stack(bands: Callable[..., SimBand], bond_file: Path, notify_unsubscribed: bool) -> None:
    """Scan by name, connect, MTU exchange, discovery, CCCD subscribe, pair, TIME_SYNC, 14 live events.

    Either stack (one that notifies whether or not the central subscribed, as
    MicroPython's gatts_notify; or one that honours the CCCD) gives every
    event: the host enables notifications before its first command."""
    band = start(bands, speed=20)

    async def body() -> None:
        async with on_air(band, notify_unsubscribed=notify_unsubscribed) as bridge:
            host = BumbleHost(bridge.air, bond_file)
            found = await scan_ble(0.5, host.backend())
            assert [(f.name, f.transport) for f in found] == [(band.name, "ble")]  # the name is in the scan response
            link = BleLink(band.name, host.backend())
            await link.connect(5)
            assert link.address == found[0].address and link.mtu == 247  # exchanged: min(host's 247, band's 247)
            assert (await link.read("2a25")).decode() == "sim0001"  # Device Information, before pairing
            recs: list[dict[str, Any]] = []
            await link.subscribe(P.EVENTS_UUID, records(recs))
            await link.subscribe(P.CONTROL_UUID, records(recs))
            assert bridge.subscriptions == [(P.EVENTS_UUID, 1), (P.CONTROL_UUID, 1)]  # CCCD writes, notifications on
            await link.secure()
            await until(lambda: bridge.pairings == 1, 5, "the band's side of the pairing")  # SMP ends on the central first
            assert bridge.connection is not None and bridge.connection.is_encrypted
            await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            await until(lambda: any(r["type"] == "resp" for r in recs), 5, "RESP")
            assert next(r for r in recs if r["type"] == "resp")["code"] == P.OK
            await until(lambda: len(events(recs)) >= N_SPASMS, 30, "14 events")
            assert events(recs) == list(range(N_SPASMS))
            status = P.decode(await link.read(P.STATUS_UUID))
            assert status["flags"] & P.SF_ENCRYPTED and status["flags"] & P.SF_TIME_SYNCED
            await link.disconnect()
            # The band notifies STATUS too, which the host never subscribed to: sent on air or not, never delivered.
            status_sent = [sent for uuid, _n, sent in bridge.notifications if uuid == P.STATUS_UUID]
            assert status_sent and all(status_sent) == notify_unsubscribed
            assert all(r["type"] != "status" for r in recs)

    run(body())


def test_a_reconnect_re_encrypts_with_the_bond_and_backfills(bands: Callable[..., SimBand], bond_file: Path) -> None:
    band = start(bands, speed=20)

    async def body() -> None:
        async with on_air(band) as bridge:
            host = BumbleHost(bridge.air, bond_file)
            link = BleLink(band.name, host.backend())
            await link.connect(5)
            live: list[dict[str, Any]] = []
            await link.subscribe(P.EVENTS_UUID, records(live))
            await link.secure()
            await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            await until(lambda: len(events(live)) >= N_SPASMS, 30, "14 events")
            await link.disconnect()

            again = BleLink(band.name, host.backend())  # the same computer: its stack kept the keys
            await again.connect(5)
            recs: list[dict[str, Any]] = []
            await again.subscribe(P.EVENTS_UUID, records(recs))
            await again.subscribe(P.CONTROL_UUID, records(recs))
            await again.secure()
            assert (bridge.pairings, bridge.reencryptions) == (1, 1)  # LTK from the bond, no second pairing (asked before encrypting)
            await again.write(P.CONTROL_UUID, P.encode_backfill(0))
            await until(lambda: any(r["type"] == "loginfo" and r["flags"] & P.LF_DONE for r in recs), 10, "backfill done")
            assert events(recs) == list(range(N_SPASMS))
            await again.disconnect()
        assert len(band_bonds(band.flash)) == 1

    run(body())


def test_a_control_write_before_pairing_is_auth_with_nimbles_codes(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """NimBLE refuses it with 0x05 Insufficient Authentication from a central it has no key for, and
    with 0x0F Insufficient Encryption from one it has bonded with (re-encrypt); the simulated radio
    said 0x0F to both until this was found here. Both are auth to the host. A read of a notify-only
    characteristic is ATT 0x02: io."""
    band = start(bands)

    async def body() -> None:
        async with on_air(band) as bridge:
            host = BumbleHost(bridge.air, bond_file)
            link = BleLink(band.name, host.backend())
            await link.connect(5)
            with pytest.raises(AuthError, match="Insufficient Authentication"):
                await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            with pytest.raises(LinkIOError, match="Read Not Permitted"):
                await link.read(P.EVENTS_UUID)
            await link.secure()
            await link.disconnect()

            again = BleLink(band.name, host.backend())
            await again.connect(5)
            with pytest.raises(AuthError, match="Insufficient Encryption"):
                await again.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            await again.secure()
            await again.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            await again.disconnect()

    run(body())


def test_a_band_that_dies_drops_the_link_and_keeps_the_bond_across_its_restart(bands: Callable[..., SimBand], bond_file: Path) -> None:
    band = start(bands)

    async def body() -> None:
        async with on_air(band) as bridge:
            host = BumbleHost(bridge.air, bond_file)
            link = BleLink(band.name, host.backend())
            lost = asyncio.Event()
            link.on_disconnect(lost.set)
            await link.connect(5)
            await link.secure()
            await until(lambda: (band.flash / "bonds.json").exists(), 5, "the band to store the bond")
            band.kill()  # the battery is pulled: on air, the link times out
            await asyncio.wait_for(lost.wait(), 5)
            assert not link.connected
            with pytest.raises(DisconnectedError):
                await link.read(P.STATUS_UUID)

            again = start(bands, port=band.port)  # same flash: the band kept its half of the bond
            assert again.up["boot"] == 2
            link2 = BleLink(band.name, host.backend())
            await link2.connect(10)
            await link2.secure()
            assert (bridge.pairings, bridge.reencryptions) == (1, 1)
            await link2.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            await link2.disconnect()

    run(body())


def test_a_band_that_lost_our_bond_is_auth_until_the_host_pairs_again(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """The band's flash lost its bonds: the host's re-encryption gets "PIN or Key Missing" from the
    link layer (an auth error, as BlueZ reports it); after unpair() it pairs afresh."""
    band = start(bands)

    async def body() -> None:
        async with on_air(band) as bridge:
            host = BumbleHost(bridge.air, bond_file)
            link = BleLink(band.name, host.backend())
            await link.connect(5)
            await link.secure()
            await until(lambda: (band.flash / "bonds.json").exists(), 5, "the band to store the bond")
            await link.disconnect()
            band.kill()
            (band.flash / "bonds.json").unlink()
            start(bands, port=band.port)

            again = BleLink(band.name, host.backend())
            await again.connect(10)
            with pytest.raises(AuthError, match="PIN_OR_KEY_MISSING"):
                await again.secure()
            await again.unpair()
            await again.secure()  # pairs from scratch
            await until(lambda: bridge.pairings == 2, 5, "the band's side of the new pairing")
            await again.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            await again.disconnect()

    run(body())


@pytest.mark.parametrize("mtu", [23, 100, 247])
def test_raw_records_are_sized_for_the_mtu_the_stacks_negotiated(bands: Callable[..., SimBand], bond_file: Path, mtu: int) -> None:
    """The band sizes RAW records for the MTU its stack negotiated: every one fits a notification
    (a longer one would be cut to MTU - 3 on air, and fail to decode) and carries as many samples as fit."""
    band = start(bands)

    async def body() -> None:
        async with on_air(band) as bridge:
            host = BumbleHost(bridge.air, bond_file, mtu=mtu)
            link = BleLink(band.name, host.backend())
            await link.connect(5)
            assert link.mtu == mtu
            raws: list[bytes] = []
            resps: list[dict[str, Any]] = []
            await link.subscribe(P.RAW_UUID, raws.append)
            await link.subscribe(P.CONTROL_UUID, records(resps))
            await link.secure()
            await link.write(P.CONTROL_UUID, P.encode_raw_stream(True))
            await until(lambda: len(raws) >= 20, 20, "20 RAW records")
            await link.disconnect()
            assert resps[0]["code"] == P.OK
            cap = min(P.raw_capacity(mtu - 3), 19)  # RAW_MAX_SAMPLES (band/app.py)
            decoded = [P.decode(r) for r in raws[:20]]
            assert all(len(r) <= mtu - 3 for r in raws)
            assert sum(len(d["samples"]) == cap for d in decoded) >= 15, [len(d["samples"]) for d in decoded]
            sent = [n for uuid, n, _ in bridge.notifications if uuid == P.RAW_UUID]
            assert max(sent) <= mtu - 3  # the band's own sizing: nothing for the stack to cut

    run(body())
