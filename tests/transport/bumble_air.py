"""The band behind a real Bluetooth host stack: Google's Bumble, on virtual controllers.

Everything between the host's ``BleLink`` and the band's firmware is a real
stack here, on both sides: HCI, the link layer's encryption (a wrong key is a
MIC failure, a missing one "PIN or Key Missing"), L2CAP, ATT/GATT (discovery,
MTU exchange, CCCDs, error responses) and SMP (LE Secure Connections, Just
Works, bonding). Only the air is virtual: a ``bumble.link.LocalLink`` in this
process, so every device lives on the test's event loop.

- ``Air``: the link, and a Bumble ``Device`` with its own virtual
  ``Controller`` per radio.
- ``BandBridge``: the band's radio. The band (firmware under micropython,
  docs/firmware.md "Simulated radio socket") is served by a Bumble
  peripheral: its GATT table (from INFO) with the same properties and
  security, behind GAP and NimBLE's GATT service, reads and writes
  forwarded to it, its notifications sent as ATT notifications, pairing
  done by Bumble's SMP and then told to the band (PAIR / ENCRYPT) so its
  own security state matches, advertising what the band advertises, while
  it does.
- ``BumbleScanner`` / ``BumbleClient``: a bleak backend on a Bumble central
  ``Device`` (``BumbleHost``), so the unchanged ``BleLink`` and the daemon's
  session run over it; with ``bluez=True`` it secures and reports errors as
  BlueZ and bleak's BlueZ backend do.

What the bridge does as the band's stack (NimBLE under MicroPython) does, and
what it decides itself, is written at each place; docs/transport.md lists the
differences from the simulated radio this found.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import att, core, gatt, hci
from bumble.controller import Controller
from bumble.core import UUID as BumbleUUID
from bumble.device import Advertisement, Connection, Device, DeviceConfiguration, Peer
from bumble.gatt_client import CharacteristicProxy
from bumble.host import Host
from bumble.keys import JsonKeyStore, MemoryKeyStore
from bumble.link import LocalLink
from bumble.pairing import PairingConfig, PairingDelegate
from bumble.transport.common import AsyncPipeSink

from spasmwatch.transport.base import Kind
from spasmwatch.transport.ble import BleBackend
from spasmwatch.transport.simband import SimBand
from spasmwatch.transport.simradio import (
    OP_BYE,
    OP_ENCRYPT,
    OP_HELLO,
    OP_MTU,
    OP_PAIR,
    OP_READ,
    OP_SCAN,
    OP_WRITE,
    R_ADV,
    R_INFO,
    R_MTU,
    R_NOTIFY,
    R_READ,
    R_SECURITY,
    R_WRITE,
    SimRadioError,
    _message,
    _properties,
    _read_message,
    advertisement,
    parse_address,
)

log = logging.getLogger(__name__)

# The band's characteristic flags (MicroPython's bluetooth FLAG_*; firmware/sim/bluetooth.py)
FLAG_READ, FLAG_WRITE_NO_RESPONSE, FLAG_WRITE = 0x0002, 0x0004, 0x0008  # the low byte is the characteristic's properties
FLAG_READ_ENCRYPTED, FLAG_WRITE_ENCRYPTED = 0x0200, 0x1000
ADV_INTERVAL_MS = 250  # the band's (band/ble.py, Peripheral.advertise); Bumble's default is 1 s
PROBE_S = 0.1  # how often the bridge asks the band whether it advertises
BAND_ANSWER_S = 10.0  # a band request's answer; the band answers in a pump cycle (2 ms)
ASK_MTU = 517  # the largest ATT MTU: the band answers with its own maximum
JUST_WORKS = PairingDelegate.IoCapability.NO_OUTPUT_NO_INPUT


def just_works() -> PairingConfig:
    """LE Secure Connections, no MITM, bonding, no I/O: the band's (band/ble.py) and BlueZ's default agent's."""
    return PairingConfig(sc=True, mitm=False, bonding=True, delegate=PairingDelegate(io_capability=JUST_WORKS))


class _Controller(Controller):
    """Bumble's virtual controller, with two things it does not do as a controller does (0.0.236).

    Scan responses: its link has no SCAN_REQ / SCAN_RSP; a scanning controller
    reported the advertising data a second time as the "scan response", active
    or passive, so the band's name (its scan response) was never heard. This
    one reports what the advertiser set as its scan response data, and to a
    passive scanner none. Cancelling a connection attempt: see below.
    """

    active_scan = True

    def on_hci_le_set_scan_parameters_command(self, command: Any) -> Any:
        self.active_scan = bool(command.le_scan_type)
        return super().on_hci_le_set_scan_parameters_command(command)

    def on_hci_le_set_extended_scan_parameters_command(self, command: Any) -> Any:
        self.active_scan = bool(command.scan_types and command.scan_types[0])
        return super().on_hci_le_set_extended_scan_parameters_command(command)

    def _scan_response(self, address: hci.Address) -> bytes:
        for c in self.link.controllers if self.link else ():
            legacy = c.le_legacy_advertiser
            if legacy.enabled and legacy.address == address:
                return bytes(legacy.scan_response_data)
            for adv_set in c.advertising_sets.values():
                if adv_set.enabled and adv_set.address == address:
                    return bytes(adv_set.scan_response_data)
        return b""

    def on_hci_le_create_connection_cancel_command(self, command: Any) -> Any:
        """Bumble's controller acknowledges the cancel but never ends the attempt: a host's connect that
        timed out (nobody advertising) then waited for ever. A controller reports the end as a failed
        connection (Vol 4 Part E 7.8.13)."""
        pending, self.pending_le_connection = self.pending_le_connection, None
        result = super().on_hci_le_create_connection_cancel_command(command)
        if pending is not None:
            event = hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, connection_handle=0, role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address_type, peer_address=pending.peer_address,
                connection_interval=0, peripheral_latency=0, supervision_timeout=0, central_clock_accuracy=0,
            )  # fmt: skip
            asyncio.get_running_loop().call_soon(self.send_hci_packet, event)  # after the command's own completion
        return result

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        ext, legacy = hci.HCI_LE_Extended_Advertising_Report_Event, hci.HCI_LE_Advertising_Report_Event
        if isinstance(packet, (ext, legacy)):
            reports = []
            for r in packet.reports:
                is_rsp = r.event_type & ext.EventType.SCAN_RESPONSE if isinstance(packet, ext) else r.event_type == legacy.EventType.SCAN_RSP
                if is_rsp:
                    if not self.active_scan:
                        continue
                    r = dataclasses.replace(r, data=self._scan_response(r.address))
                reports.append(r)
            if not reports:
                return
            packet = type(packet)(reports)
        super().send_hci_packet(packet)


class Air:
    """One virtual link; ``device()`` puts a new radio (Device + Controller) on it."""

    def __init__(self) -> None:
        self.link = LocalLink()

    def device(self, name: str, address: str, device_class: type[Device] = Device, config: DeviceConfiguration | None = None) -> Device:
        controller = _Controller(f"{name}-controller", link=self.link)
        host = Host(controller, AsyncPipeSink(controller))
        device = device_class(name=name, address=hci.Address(address), config=config, host=host)
        device.pairing_config_factory = lambda _connection: just_works()
        return device


# --- the band's radio ------------------------------------------------------------------------


class BandSocket:
    """One connection to the band's radio socket: requests answered in order, notifications to a callback."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, on_notify: Callable[[int, bytes], None]) -> None:
        self._reader, self._writer = reader, writer
        self._on_notify = on_notify
        self._answers: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self.closed = asyncio.Event()
        self._pump = asyncio.create_task(self._receive())

    @classmethod
    async def hello(cls, host: str, port: int, peer: hci.Address, on_notify: Callable[[int, bytes], None]) -> tuple[BandSocket, dict[str, Any]]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(_message(OP_HELLO, bytes((peer.address_type & 1,)) + bytes(peer)))
            op, body = await asyncio.wait_for(_read_message(reader), BAND_ANSWER_S)
        except BaseException:  # (no answer, the band gone, a cancel: the socket closed, not left to the collector)
            writer.close()
            raise
        if op != R_INFO:
            writer.close()
            raise SimRadioError("refused", f"the band refused the connection: {body.decode(errors='replace')}")
        return cls(reader, writer, on_notify), json.loads(body)

    async def _receive(self) -> None:
        try:
            while True:
                op, body = await _read_message(self._reader)
                if op == R_NOTIFY:
                    (handle,) = struct.unpack_from("<H", body)
                    self._on_notify(handle, bytes(body[2:]))
                else:
                    self._answers.put_nowait((op, body))
        except (OSError, asyncio.IncompleteReadError):
            pass
        self._answers.put_nowait(None)
        self.closed.set()

    async def request(self, op: int, body: bytes, want: int) -> bytes:
        async with self._lock:
            if self.closed.is_set():
                raise SimRadioError("disconnected", "the band's radio socket is closed")
            self._writer.write(_message(op, body))
            got = await asyncio.wait_for(self._answers.get(), BAND_ANSWER_S)
        if got is None:
            raise SimRadioError("disconnected", "the band's radio socket closed")
        if got[0] != want:
            raise SimRadioError("io", f"the band answered 0x{got[0]:02x} to 0x{op:02x}")
        return got[1]

    async def close(self) -> None:
        if not self.closed.is_set():
            with contextlib.suppress(OSError):
                self._writer.write(_message(OP_BYE))
        self._writer.close()
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump


async def scan_band(host: str, port: int) -> tuple[bytes, bytes] | None:
    """The band's advertising and scan response payloads, or None while it does not advertise (or is gone)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        writer.write(_message(OP_SCAN))
        op, body = await asyncio.wait_for(_read_message(reader), 1.0)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
        return None
    finally:
        writer.close()
    if op != R_ADV:
        return None
    info = json.loads(body)
    return bytes.fromhex(info["adv"]), bytes.fromhex(info["resp"])


class _BandCharacteristic(gatt.Characteristic[bytes]):
    """A characteristic of the band, checked as NimBLE checks it (ble_att_svr_check_perms).

    NimBLE answers a write (or read) that needs encryption on an unencrypted
    link with 0x0F "Insufficient Encryption" only when it holds a key for
    the peer (the central should re-encrypt), else with 0x05 "Insufficient
    Authentication" (the central should pair). Bumble alone answers 0x0F in
    both cases; the simulated radio too.
    """

    def __init__(self, bridge: BandBridge, band_handle: int, uuid: str, flags: int) -> None:
        props = gatt.Characteristic.Properties(flags & 0xFF)
        perms = att.Attribute.Permissions(0)
        if flags & FLAG_READ:
            perms |= att.Attribute.READABLE
        if flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE):
            perms |= att.Attribute.WRITEABLE
        if flags & FLAG_READ_ENCRYPTED:
            perms |= att.Attribute.READ_REQUIRES_ENCRYPTION
        if flags & FLAG_WRITE_ENCRYPTED:
            perms |= att.Attribute.WRITE_REQUIRES_ENCRYPTION
        value = gatt.CharacteristicValue(read=self._read, write=self._write)
        super().__init__(BumbleUUID(uuid), props, perms, value)
        self.bridge, self.band_handle, self.flags = bridge, band_handle, flags

    def _refuse_unencrypted(self, connection: Connection | None, needs: int) -> None:
        if connection is None or connection.is_encrypted or not self.flags & needs:
            return
        bonded = self.bridge.band_ltk(connection) is not None
        code = att.ATT_INSUFFICIENT_ENCRYPTION_ERROR if bonded else att.ATT_INSUFFICIENT_AUTHENTICATION_ERROR
        raise att.ATT_Error(error_code=code, att_handle=self.handle)

    async def read_value(self, bearer: Any) -> bytes:
        self._refuse_unencrypted(getattr(bearer, "connection", bearer), FLAG_READ_ENCRYPTED)
        return await super().read_value(bearer)

    async def write_value(self, bearer: Any, value: bytes) -> None:
        self._refuse_unencrypted(getattr(bearer, "connection", bearer), FLAG_WRITE_ENCRYPTED)
        await super().write_value(bearer, value)

    async def _read(self, connection: Connection) -> bytes:
        body = await self.bridge.band_request(connection, OP_READ, struct.pack("<H", self.band_handle), R_READ)
        if body[2]:
            raise att.ATT_Error(error_code=body[2], att_handle=self.handle)
        return bytes(body[3:])

    async def _write(self, connection: Connection, value: bytes) -> None:
        if connection.is_encrypted:  # the band hears of a pairing before any write that follows it, as from NimBLE
            await self.bridge.band_secured(connection)
        body = await self.bridge.band_request(connection, OP_WRITE, struct.pack("<H", self.band_handle) + bytes(value), R_WRITE)
        if body[2]:
            raise att.ATT_Error(error_code=body[2], att_handle=self.handle)


def nimble_gatt_service() -> gatt.Service:
    """The GATT service (0x1801) NimBLE registers in front of the band's own, as MicroPython has it on an ESP32.

    MicroPython's ``gatts_register_services`` first registers NimBLE's GAP and
    GATT services (extmod/nimble/modbluetooth_nimble.c,
    ``mp_bluetooth_gatts_register_service_begin``: ``ble_svc_gap_init()``,
    ``ble_svc_gatt_init()``). ESP-IDF's NimBLE (espressif/esp-nimble
    nimble-1.5.0-idf and 1.6.0-idf, services/gatt/src/ble_svc_gatt.c) gives it
    Service Changed (indicate), Server Supported Features (read, 0: no EATT)
    and Client Supported Features (read, write); the Database Hash only with
    ``CONFIG_BT_NIMBLE_GATT_CACHING``, which ESP-IDF leaves off and
    MicroPython's ports/esp32/boards/sdkconfig.ble does not set. Bumble's own
    GATT service has a Database Hash: a central caching the table (BlueZ) would
    see the band's changes through it, which it never does with the real band
    (docs/transport.md, "The GATT cache of a bonded host").
    """
    props, perms = gatt.Characteristic.Properties, gatt.Characteristic.Permissions
    return gatt.Service(
        gatt.GATT_GENERIC_ATTRIBUTE_SERVICE,
        [
            gatt.Characteristic(gatt.GATT_SERVICE_CHANGED_CHARACTERISTIC, props.INDICATE, perms(0), b""),
            gatt.Characteristic(gatt.GATT_SERVER_SUPPORTED_FEATURES_CHARACTERISTIC, props.READ, perms.READABLE, bytes(1)),
            gatt.Characteristic(
                gatt.GATT_CLIENT_SUPPORTED_FEATURES_CHARACTERISTIC, props.READ | props.WRITE, perms.READABLE | perms.WRITEABLE, bytes(1)
            ),
        ],
    )


class _BandDevice(Device):
    """The bridge's peripheral: a re-encryption with a stored key is allowed only if the band still has its bond."""

    bridge: BandBridge

    async def get_long_term_key(self, connection_handle: int, rand: bytes, ediv: int) -> bytes | None:
        ltk = await super().get_long_term_key(connection_handle, rand, ediv)
        connection = self.lookup_connection(connection_handle)
        if ltk is None or connection is None or self.smp_manager.get_long_term_key(connection, rand, ediv) is not None:
            return ltk  # no key, or the key of a pairing under way (the band hears of it when it completes)
        # NimBLE looks the peer's key up in the band's bond store (IRQ_GET_SECRET): ask the band
        return ltk if await self.bridge.band_encrypt(connection) else None


class _BandLink:
    """The band's side of one air connection: its radio socket, and what the stack has under way for it."""

    def __init__(self) -> None:
        self.band: BandSocket | None = None
        self.up = asyncio.Event()  # HELLO answered (or refused: band stays None)
        self.secured = asyncio.Event()  # the band was told of this link's encryption
        self.pending: set[asyncio.Task[None]] = set()

    def track(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)


class BandBridge:
    """The band's radio as a Bumble peripheral on ``air``; ``band``: its radio socket (``host:port``).

    ``start()`` learns the band's GATT table from one short connection (HELLO,
    INFO, MTU, BYE), then mirrors its advertising: while the band answers SCAN
    with its payloads the bridge advertises them, otherwise it does not. A
    central's connection on air is one HELLO to the band, with the central's
    address (the band keys its bonds by it); either side leaving ends the other.

    The bridge keeps the radio half of the band's bonds in memory: Bumble's
    keys for each central and the LTK the band stored for it (the band's half
    is in its flash). Restart the band on the same port and the same bridge
    serves it again with its bonds, as a real band's stack would.

    ``notify_unsubscribed``: MicroPython's ``gatts_notify`` (NimBLE's
    ``ble_gatts_notify_custom``) sends a notification whether or not the
    central enabled it in the CCCD; so does the bridge by default. False
    makes it drop them (a stack that honours the CCCD, e.g. NimBLE's
    ``ble_gatts_chr_updated``).
    """

    def __init__(self, air: Air, band: str, *, address: str = "C0:5B:1D:00:00:01", notify_unsubscribed: bool = True) -> None:
        self.air = air
        self.host, self.port = parse_address(band)
        # NimBLE's GATT service, not Bumble's (which has a Database Hash the band does not have)
        self.device = air.device("band", address, _BandDevice, DeviceConfiguration(gatt_service_enabled=False))
        self.device.add_service(nimble_gatt_service())
        assert isinstance(self.device, _BandDevice)
        self.device.bridge = self
        self.device.keystore = MemoryKeyStore()
        self.notify_unsubscribed = notify_unsubscribed
        self.band_mtu = 23
        self.chars: dict[int, _BandCharacteristic] = {}  # by the band's handle
        self.connection: Connection | None = None
        self.subscriptions: list[tuple[str, int]] = []  # (uuid, CCCD value) as the central wrote them
        self.notifications: list[tuple[str, int, bool]] = []  # (uuid, length, sent on air) of each band notification
        self.pairings = 0  # SMP pairings completed (each one a PAIR to the band)
        self.reencryptions = 0  # links encrypted with a stored bond (each one an ENCRYPT the band accepted)
        self._links: dict[Connection, _BandLink] = {}  # the band's side of each air connection, until it has ended
        self._ltks: dict[str, bytes] = {}  # the LTK the band stored, by central address (its bond)
        self._advertising: tuple[bytes, bytes] | None = None
        self._on_air = asyncio.Event()  # advertised at least once
        self._tasks: set[asyncio.Task[None]] = set()
        self._run: asyncio.Task[None] | None = None

    # --- life ------------------------------------------------------------------------------------
    async def start(self, timeout_s: float = 10.0) -> None:
        """Learn the band's table, then return once the bridge advertises for it."""
        await self.device.power_on()
        await asyncio.wait_for(self._learn_table(), timeout_s)
        self.device.on(self.device.EVENT_CONNECTION, self._on_connection)
        self.device.on("characteristic_subscription", self._on_subscription)
        self._run = asyncio.create_task(self._mirror_advertising())
        await asyncio.wait_for(self._on_air.wait(), timeout_s)  # the band advertises again after the table's connection

    async def stop(self) -> None:
        if self._run is not None:
            self._run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._run
        for link in self._links.values():
            if link.band is not None:
                await link.band.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(hci.HCI_Error):
            if self._advertising is not None:
                await self.device.stop_advertising()

    async def _learn_table(self) -> None:
        while await scan_band(self.host, self.port) is None:
            await asyncio.sleep(PROBE_S)
        band, info = await BandSocket.hello(self.host, self.port, hci.Address("00:00:00:00:00:00"), lambda h, v: None)
        try:
            (self.band_mtu,) = struct.unpack("<H", await band.request(OP_MTU, struct.pack("<H", ASK_MTU), R_MTU))
        finally:
            await band.close()
        for svc in info["services"]:
            chars = [_BandCharacteristic(self, c["handle"], c["uuid"], c["flags"]) for c in svc["chars"]]
            self.chars.update({c.band_handle: c for c in chars})
            self.device.add_service(gatt.Service(BumbleUUID(svc["uuid"]), chars))
        self.device.gatt_server.max_mtu = self.band_mtu  # the band's stack answers an MTU exchange with its own maximum

    async def _mirror_advertising(self) -> None:
        """Advertise what the band advertises, while it does and nobody is connected on air."""
        while True:
            if self.connection is None:
                payloads = await scan_band(self.host, self.port)
                if self.connection is None and payloads != self._advertising:
                    if self._advertising is not None:
                        await self.device.stop_advertising()
                    self._advertising = payloads
                    if payloads is not None:
                        await self.device.start_advertising(
                            advertising_data=payloads[0], scan_response_data=payloads[1],
                            advertising_interval_min=ADV_INTERVAL_MS, advertising_interval_max=ADV_INTERVAL_MS,
                        )  # fmt: skip
                        self._on_air.set()
            await asyncio.sleep(PROBE_S)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- a central on air ------------------------------------------------------------------------
    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        self._advertising = None  # a connection stops legacy advertising
        link = self._links[connection] = _BandLink()
        connection.on(connection.EVENT_DISCONNECTION, lambda reason: self._on_disconnection(connection))
        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE, lambda: link.track(self._band_mtu_update(connection)))
        connection.on(connection.EVENT_PAIRING, lambda keys: link.track(self._band_pair(connection)))
        self._spawn(self._serve(connection, link))

    async def _serve(self, connection: Connection, link: _BandLink) -> None:
        try:
            link.band, _ = await BandSocket.hello(self.host, self.port, connection.peer_address, self._band_notified)
        except (OSError, asyncio.TimeoutError, SimRadioError) as e:
            log.warning("band bridge: the band did not take the connection (%s): dropping the central", e)
            await self._drop(connection)
            return
        finally:
            link.up.set()
        await link.band.closed.wait()
        if self.connection is connection:  # the band went away (killed, reset): its link is lost on air
            await self._drop(connection, hci.HCI_CONNECTION_TIMEOUT_ERROR)

    async def _drop(self, connection: Connection, reason: int = hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR) -> None:
        with contextlib.suppress(hci.HCI_Error, asyncio.TimeoutError):
            await connection.disconnect(reason)

    def _on_disconnection(self, connection: Connection) -> None:
        if self.connection is connection:
            self.connection = None
        self._spawn(self._end(connection))

    async def _end(self, connection: Connection) -> None:
        """The band hears of the disconnection after what the stack had under way for it (a pairing's end)."""
        link = self._links[connection]
        await asyncio.gather(*link.pending, return_exceptions=True)
        if link.band is not None:
            await link.band.close()
        del self._links[connection]

    def _on_subscription(self, connection: Connection, characteristic: gatt.Characteristic[bytes], notify: bool, indicate: bool) -> None:
        self.subscriptions.append((_uuid(characteristic.uuid), int(notify) | int(indicate) << 1))

    # --- the band's side -------------------------------------------------------------------------
    async def band_request(self, connection: Connection, op: int, body: bytes, want: int) -> bytes:
        link = self._links.get(connection)
        if link is None:
            raise att.ATT_Error(error_code=att.ErrorCode.UNLIKELY_ERROR)
        await asyncio.wait_for(link.up.wait(), BAND_ANSWER_S)
        if link.band is None:
            raise att.ATT_Error(error_code=att.ErrorCode.UNLIKELY_ERROR)
        try:
            return await link.band.request(op, body, want)
        except (SimRadioError, asyncio.TimeoutError) as e:
            raise att.ATT_Error(error_code=att.ErrorCode.UNLIKELY_ERROR, message=str(e)) from e

    async def _band_mtu_update(self, connection: Connection) -> None:
        body = await self.band_request(connection, OP_MTU, struct.pack("<H", connection.att_mtu), R_MTU)
        (mtu,) = struct.unpack("<H", body)
        if mtu != connection.att_mtu:
            log.warning("band bridge: the band took MTU %d, the air link %d", mtu, connection.att_mtu)

    async def _band_pair(self, connection: Connection) -> None:
        """Bumble's SMP paired with the central: the band's stack would now store the key and say encrypted+bonded."""
        sec = await self.band_request(connection, OP_PAIR, b"\x01", R_SECURITY)
        if sec[0] and sec[2]:
            self._ltks[str(connection.peer_address)] = bytes(sec[4:20])
        self.pairings += 1
        self._links[connection].secured.set()

    async def band_encrypt(self, connection: Connection) -> bool:
        """Re-encryption with a stored key: the band must still have the bond (else "PIN or Key Missing")."""
        ltk = self.band_ltk(connection)
        if ltk is not None:
            sec = await self.band_request(connection, OP_ENCRYPT, ltk, R_SECURITY)
            if sec[0]:
                self.reencryptions += 1
                self._links[connection].secured.set()
                return True
        # The band has no bond for this central: neither has its stack any more (a real band's keys are its flash).
        self._ltks.pop(str(connection.peer_address), None)
        if self.device.keystore is not None:
            with contextlib.suppress(KeyError):
                await self.device.keystore.delete(str(connection.peer_address))
        return False

    async def band_secured(self, connection: Connection) -> None:
        await asyncio.wait_for(self._links[connection].secured.wait(), BAND_ANSWER_S)

    def band_ltk(self, connection: Connection) -> bytes | None:
        return self._ltks.get(str(connection.peer_address))

    def _band_notified(self, handle: int, value: bytes) -> None:
        char = self.chars.get(handle)
        connection = self.connection
        if char is None or connection is None:
            return
        subscribed = connection.gatt_server.subscribers.get(connection, {}).get(char.handle, b"\0\0")[0] & 1
        sent = bool(subscribed or self.notify_unsubscribed)
        self.notifications.append((_uuid(char.uuid), len(value), sent))
        if sent:
            # In order, and before anything the band answers later: its notifications and replies share one socket.
            connection.gatt_server.send_gatt_pdu(connection, bytes(att.ATT_Handle_Value_Notification(attribute_handle=char.handle, attribute_value=value[: connection.att_mtu - 3])))


# --- the host's side: a bleak backend on a Bumble central ------------------------------------------


class BumbleHost:
    """The host computer's Bluetooth: one central Device on ``air``, its bonds in ``bond_file`` (as an OS keeps them).

    ``bluez``: secure as BlueZ does (bleak's BlueZ ``pair()`` returns at once
    for a bonded device; an access refused for lack of encryption, ATT 0x05
    or 0x0F, makes BlueZ encrypt with the bond and send it again). Otherwise
    ``pair()`` itself encrypts with the bond, or pairs.
    """

    def __init__(self, air: Air, bond_file: Path | str, *, address: str = "C1:05:7A:00:00:02", mtu: int = 247, bluez: bool = False) -> None:
        self.device = air.device("host", address)
        self.device.keystore = JsonKeyStore(namespace=address, filename=str(bond_file))
        self.mtu = mtu  # what it asks for in the MTU exchange (BlueZ: 517, capped by the adapter)
        self.bluez = bluez
        self._on = False
        self.scan_lock = asyncio.Lock()

    async def power_on(self) -> None:
        if not self._on:
            await self.device.power_on()
            self._on = True

    def backend(self) -> BleBackend:
        return BleBackend(BumbleScanner, BumbleClient, {"host": self}, {"host": self}, transport="ble")


class BumbleScanner(BaseBleakScanner):
    """bleak's scanner on the central's controller: real advertising reports (active: with the scan response)."""

    def __init__(
        self, detection_callback: AdvertisementDataCallback | None, service_uuids: list[str] | None, scanning_mode: str = "active", *, host: BumbleHost, **kwargs: Any
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self.host = host
        self.active = scanning_mode != "passive"

    async def start(self) -> None:
        self.seen_devices = {}
        await self.host.power_on()
        self.host.device.on(Device.EVENT_ADVERTISEMENT, self._heard)
        await self.host.device.start_scanning(active=self.active, filter_duplicates=False)

    async def stop(self) -> None:
        self.host.device.remove_listener(Device.EVENT_ADVERTISEMENT, self._heard)
        with contextlib.suppress(hci.HCI_Error):
            await self.host.device.stop_scanning()

    def _heard(self, ad: Advertisement) -> None:
        address = str(ad.address).split("/")[0]
        data = advertisement(bytes(ad.data), b"", ad.rssi, ad)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        device = self.create_or_update_device(address, address, data.local_name, ad, data)
        self.call_detection_callbacks(device, data)


_ATT_NEEDS_ENCRYPTION = {att.ErrorCode.INSUFFICIENT_AUTHENTICATION, att.ErrorCode.INSUFFICIENT_ENCRYPTION}
_HCI_AUTH_KIND = {hci.HCI_PIN_OR_KEY_MISSING_ERROR, hci.HCI_AUTHENTICATION_FAILURE_ERROR, hci.HCI_CONNECTION_TERMINATED_DUE_TO_MIC_FAILURE_ERROR}


class BumbleClient(BaseBleakClient):
    """bleak's client on the central Device: connect + MTU exchange + real ATT discovery; pair() as BlueZ's.

    Errors as bleak's BlueZ backend raises them: ATT error responses become
    ``BleakGATTProtocolError(code)``; a refused pairing or re-encryption a
    ``BleakError`` tagged ``kind="auth"`` (BlueZ: AuthenticationFailed /
    "PIN or Key Missing"); a connection that did not come up
    ``BleakDeviceNotFoundError``; a dropped link ``kind="disconnected"``.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        host: BumbleHost,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self.host = host
        self._name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self.connection: Connection | None = None
        self.peer: Peer | None = None
        self._closing = False
        self._chars: dict[int, CharacteristicProxy[bytes]] = {}

    @property
    def name(self) -> str:
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        return self.connection.att_mtu if self.connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self.connection is not None

    def _error(self, kind: Kind, message: str) -> SimRadioError:
        return SimRadioError(kind, message)  # a BleakError that tells BleLink its kind, as simradio's do

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        await self.host.power_on()
        self._closing = False
        device = self.host.device
        # A band's address is static, never resolvable: nothing to resolve. With the IRK a bonded band
        # gave, Bumble would first scan for the address with no time limit ("TODO: timeout").
        resolver, device.address_resolver = device.address_resolver, None
        try:
            connection = await device.connect_le(hci.Address(self.address), timeout=self._timeout)
        except (hci.HCI_Error, core.BaseBumbleError, asyncio.TimeoutError) as e:
            raise BleakDeviceNotFoundError(self.address, f"{self.address}: no connection ({type(e).__name__} {e})") from e
        finally:
            device.address_resolver = resolver
        self.connection = connection
        connection.on(connection.EVENT_DISCONNECTION, self._lost)
        try:
            async with asyncio.timeout(self._timeout):
                self.peer = Peer(connection)
                await self.peer.request_mtu(self.host.mtu)
                await self.peer.discover_services()
                for service in self.peer.services:
                    await service.discover_characteristics()
                    for char in service.characteristics:
                        await self.peer.discover_descriptors(char)
                self.services = self._collection()
                if pair:
                    await self.pair()
        except BaseException:
            await self.disconnect()
            raise

    def _collection(self) -> BleakGATTServiceCollection:
        assert self.peer is not None
        coll = BleakGATTServiceCollection()
        for service in self.peer.services:
            bs = BleakGATTService(service, service.handle, _uuid(service.uuid))
            coll.add_service(bs)
            for char in service.characteristics:
                bc = BleakGATTCharacteristic(char, char.handle, _uuid(char.uuid), _properties(char.properties), lambda: self.mtu_size - 3, bs)
                coll.add_characteristic(bc)
                self._chars[char.handle] = char
                for d in char.descriptors:
                    coll.add_descriptor(BleakGATTDescriptor(d, d.handle, _uuid(d.type), bc))
        return coll

    def _lost(self, reason: int) -> None:
        self.connection, self.peer = None, None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        self._closing = True
        connection = self.connection
        if connection is not None:
            with contextlib.suppress(hci.HCI_Error, asyncio.TimeoutError):
                await connection.disconnect()
        self.connection, self.peer = None, None

    def _live(self) -> Connection:
        if self.connection is None:
            raise self._error("disconnected", f"{self.address}: not connected")
        return self.connection

    # --- security ----------------------------------------------------------------------------------
    async def _bonded(self, connection: Connection) -> bool:
        keystore = self.host.device.keystore
        return keystore is not None and await keystore.get(str(connection.peer_address)) is not None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """With a bond, encrypt with its key (BlueZ: nothing, the next refused access does); without, pair (Just Works) and bond."""
        connection = self._live()
        bonded = await self._bonded(connection)
        if bonded and self.host.bluez:
            return
        try:
            if bonded:
                await connection.encrypt()
            else:
                await connection.pair()
        except hci.HCI_Error as e:
            kind = "auth" if e.error_code in _HCI_AUTH_KIND else "io"
            raise self._error(kind, f"{self.address}: encryption refused ({hci.HCI_Constant.error_name(e.error_code)})") from e
        except Exception as e:  # bumble's ProtocolError / SMP failures
            if self.connection is None:
                raise self._error("disconnected", f"{self.address} disconnected while pairing") from e
            raise self._error("auth", f"{self.address}: pairing failed ({e})") from e

    async def unpair(self) -> None:
        if self.host.device.keystore is not None:
            with contextlib.suppress(KeyError):
                await self.host.device.keystore.delete(self.address)

    # --- GATT -------------------------------------------------------------------------------------
    def _proxy(self, characteristic: BleakGATTCharacteristic) -> CharacteristicProxy[bytes]:
        self._live()
        return self._chars[characteristic.handle]

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        proxy = self._proxy(characteristic)
        with _att_errors(self):
            return bytearray(await proxy.read_value())

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool) -> None:
        proxy = self._proxy(characteristic)
        with _att_errors(self):
            try:
                await proxy.write_value(bytes(data), with_response=response)
            except att.ATT_Error as e:
                if not await self._raised_security(e):
                    raise
                await proxy.write_value(bytes(data), with_response=response)

    async def _raised_security(self, e: att.ATT_Error) -> bool:
        """BlueZ's bt_att (src/shared/att.c, change_security) after ATT 0x05 / 0x0F on a plain link: it raises
        the link's security, which encrypts with the bond or, without one, pairs (the kernel's SMP), and sends
        the request once more. Whether it is to be sent again."""
        connection = self._live()
        if not self.host.bluez or e.error_code not in _ATT_NEEDS_ENCRYPTION or connection.is_encrypted:
            return False
        try:
            if await self._bonded(connection):
                await connection.encrypt()
            else:
                await connection.pair()
        except (hci.HCI_Error, core.BaseBumbleError):
            return False  # e.g. the band lost the bond (PIN or Key Missing): the request fails with its ATT error
        return True

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any) -> None:
        proxy = self._proxy(characteristic)
        with _att_errors(self):
            await proxy.subscribe(lambda value: callback(bytearray(value)))  # writes the CCCD (ATT write request)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        proxy = self._proxy(characteristic)
        with _att_errors(self):
            await proxy.unsubscribe()

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        self._live()
        assert self.peer is not None
        with _att_errors(self):
            return bytearray(await self.peer.gatt_client.read_value(descriptor.handle))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        self._live()
        assert self.peer is not None
        with _att_errors(self):
            await self.peer.gatt_client.write_value(descriptor.handle, bytes(data), with_response=True)


def _uuid(u: BumbleUUID) -> str:
    """bleak's form of a Bumble UUID: 128-bit, lower case, dashed."""
    return normalize_uuid_str(u.to_hex_str("-").lower())



# BlueZ's D-Bus error for an ATT error response (src/gatt-client.c, create_gatt_dbus_error)
_BLUEZ_ATT_ERRORS: dict[int, tuple[str, str]] = {
    0x02: ("org.bluez.Error.NotPermitted", "Read not permitted"),
    0x03: ("org.bluez.Error.NotPermitted", "Write not permitted"),
    0x05: ("org.bluez.Error.NotPermitted", "Not paired"),
    0x0C: ("org.bluez.Error.NotPermitted", "Not paired"),
    0x0F: ("org.bluez.Error.NotPermitted", "Not paired"),
    0x08: ("org.bluez.Error.NotAuthorized", "Operation Not Authorized"),
    0x06: ("org.bluez.Error.NotSupported", "Operation is not supported"),
}


def _bluez_error(code: int) -> Exception:
    """What bleak's BlueZ backend raises for a GATT call BlueZ answered with this ATT error: its own conversion of the reply."""
    from bleak.backends.bluezdbus.utils import assert_gatt_reply
    from dbus_fast import Message, MessageType

    name, text = _BLUEZ_ATT_ERRORS.get(code, ("org.bluez.Error.Failed", f"Operation failed with ATT error: 0x{code:02x}"))
    try:
        assert_gatt_reply(Message(message_type=MessageType.ERROR, error_name=name, reply_serial=1, signature="s", body=[text]))
    except Exception as e:  # BleakGATTProtocolError or BleakDBusError, as bleak decides
        return e
    raise AssertionError("assert_gatt_reply passed an error reply")


@contextlib.contextmanager
def _att_errors(client: BumbleClient) -> Any:
    """ATT error responses as bleak's backends raise them (BleakGATTProtocolError, with the code; with
    ``bluez``, what bleak makes of BlueZ's D-Bus error); a lost link as disconnected."""
    try:
        yield
    except att.ATT_Error as e:
        if client.host.bluez:
            raise _bluez_error(e.error_code) from e
        raise BleakGATTProtocolError(e.error_code) from e
    except core.TimeoutError as e:  # no ATT answer within Bumble's GATT timeout (BlueZ: org.freedesktop.DBus.Error.NoReply)
        raise client._error("timeout", f"{client.address}: {e}") from e
    except Exception as e:
        if client.connection is None and not isinstance(e, BleakError):
            raise client._error("disconnected", f"{client.address} disconnected") from e
        raise



# --- for the tests -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def on_air(band: SimBand, air: Air | None = None, **kw: Any) -> AsyncIterator[BandBridge]:
    """The band's radio on ``air`` (a new one by default) for the block; ``kw``: BandBridge's."""
    bridge = BandBridge(air or Air(), band.address, **kw)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()


def start(bands: Callable[..., SimBand], **kw: Any) -> SimBand:
    """A band (the ``bands`` fixture) that stays up between two connections after its recording has played."""
    kw.setdefault("idle_exit_ms", 30000)
    return bands(**kw)
