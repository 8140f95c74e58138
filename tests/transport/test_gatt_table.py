"""The band's GATT table is pinned: a bonded host caches it, and the band cannot tell it that it changed.

docs/transport.md, "The GATT cache of a bonded host": BlueZ keeps a bonded
band's table across connections (main.conf ``Cache = always``); MicroPython's
NimBLE port never indicates Service Changed and has no Database Hash, so on
reconnection BlueZ re-discovers only services whose handle range or UUID moved
and keeps the rest from its cache. A change inside a service that keeps its
range (characteristics reordered, a UUID or flags changed in place, anything in
Device Information, the last service, which NimBLE ends at 0xFFFF) leaves every
host that bonded before the update using stale handles: events subscribed on the
wrong characteristic, commands written to the wrong one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bleak import BleakClient
from bumble_air import BumbleClient, BumbleHost, on_air, start
from transport_helpers import run

from spasmwatch.transport.simband import SimBand
from spasmwatch.transport.simradio import OP_BYE, OP_HELLO, R_INFO, _message, _read_message, parse_address

Table = tuple[tuple[str, tuple[tuple[str, int], ...]], ...]

# MicroPython's characteristic flags (band/ble.py): read 0x0002, write 0x0008, notify 0x0010,
# write needs encryption 0x1000. UUIDs written out, not taken from swcore.protocol: a constant
# changed there must fail here too.
PINNED: Table = (
    (
        "5b1d0001-7a3e-4c8e-9d2a-5a5a3c0ffee0",  # spasmwatch
        (
            ("5b1d0002-7a3e-4c8e-9d2a-5a5a3c0ffee0", 0x0010),  # events: notify
            ("5b1d0003-7a3e-4c8e-9d2a-5a5a3c0ffee0", 0x0012),  # status: read, notify
            ("5b1d0004-7a3e-4c8e-9d2a-5a5a3c0ffee0", 0x1018),  # control: write (encrypted), notify
            ("5b1d0005-7a3e-4c8e-9d2a-5a5a3c0ffee0", 0x0010),  # raw: notify
        ),
    ),
    ("180f", (("2a19", 0x0012),)),  # Battery: level, read, notify
    ("180a", (("2a29", 0x0002), ("2a24", 0x0002), ("2a25", 0x0002), ("2a26", 0x0002), ("2a27", 0x0002))),  # Device Information
)

CHANGE_NEEDS = """\
The band's GATT table is not the pinned one. Every host that bonded with a band keeps the table it
discovered (BlueZ: main.conf Cache = always), and the band cannot tell it the table changed: MicroPython's
NimBLE port never indicates Service Changed and has no Database Hash. On reconnection BlueZ re-discovers
only the services whose handle range or UUID moved; it keeps its cached copy of every other one. A change
that keeps a service's range (characteristics reordered, a UUID or flags changed in place, anything in
Device Information, the last service, which NimBLE ends at 0xFFFF) leaves those hosts reading, writing and
subscribing stale handles after 'spasmwatch flash'. Changing the table therefore needs, first, an update
path that makes every bonded host forget the band's cached table (BlueZ's RemoveDevice, BleLink.unpair(),
drops the bond and the cached attributes; then pair again), and then: FIRMWARE_VERSION bumped, the GATT
table in docs/protocol.md, and PINNED here. See docs/transport.md, "The GATT cache of a bonded host"."""


async def registered_table(address: str) -> Table:
    """The table the band's firmware registered, from the simulated radio's INFO (band order, band flags)."""
    host, port = parse_address(address)
    for _ in range(200):  # the band opens its radio socket a moment after it starts
        try:
            reader, writer = await asyncio.open_connection(host, port)
            break
        except OSError:
            await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"no band answers at {address}")
    try:
        writer.write(_message(OP_HELLO, bytes(7)))
        op, body = await asyncio.wait_for(_read_message(reader), 10)
        assert op == R_INFO, body
        writer.write(_message(OP_BYE))
    finally:
        writer.close()
    info: dict[str, Any] = json.loads(body)
    return tuple((s["uuid"], tuple((c["uuid"], c["flags"]) for c in s["chars"])) for s in info["services"])


def test_the_band_registers_the_pinned_gatt_table(bands: Callable[..., SimBand]) -> None:
    """What band/startup.py gives ``gatts_register_services``: services and characteristics, order and flags."""
    band = bands()
    assert run(registered_table(band.address)) == PINNED, CHANGE_NEEDS


def _full(uuid: str) -> str:
    return f"0000{uuid}-0000-1000-8000-00805f9b34fb" if len(uuid) == 4 else uuid


# What a characteristic's MicroPython flags declare on air (the encryption flag is a permission, not a property).
_DECLARED = {0x0002: "read", 0x0008: "write", 0x0010: "notify"}


def test_a_central_discovers_nimbles_gatt_service_and_the_pinned_table(bands: Callable[..., SimBand], bond_file: Path) -> None:
    """Through a real stack's discovery: GAP, NimBLE's GATT service (Service Changed, no Database Hash), then ours.

    Bumble's own GATT service has a Database Hash; NimBLE under MicroPython on
    an ESP32 has none (CONFIG_BT_NIMBLE_GATT_CACHING off), and the bridge must
    not let a central see a band's table change that a real band hides."""
    band = start(bands)

    async def body() -> list[tuple[str, list[tuple[str, list[str]]]]]:
        async with on_air(band) as bridge:
            host = BumbleHost(bridge.air, bond_file)
            async with BleakClient("C0:5B:1D:00:00:01", backend=BumbleClient, host=host, timeout=5) as client:
                return [
                    (s.uuid, [(c.uuid, sorted(c.properties)) for c in sorted(s.characteristics, key=lambda c: c.handle)])
                    for s in sorted(client.services, key=lambda s: s.handle)
                ]

    seen = run(body())
    assert [uuid for uuid, _ in seen[:2]] == [_full("1800"), _full("1801")]  # registered first, as by MicroPython
    assert seen[1][1] == [
        (_full("2a05"), ["indicate"]),  # Service Changed
        (_full("2b3a"), ["read"]),  # Server Supported Features
        (_full("2b29"), ["read", "write"]),  # Client Supported Features
    ]  # and no Database Hash (0x2b2a)
    ours = [(_full(s), [(_full(c), sorted(n for bit, n in _DECLARED.items() if f & bit)) for c, f in chars]) for s, chars in PINNED]
    assert seen[2:] == ours
