"""A bleak backend over the simulated band's radio socket (docs/firmware.md, "Simulated radio socket").

``SimRadioScanner`` and ``SimRadioClient`` subclass bleak's ``BaseBleakScanner``
and ``BaseBleakClient``, so code written against bleak's public
``BleakScanner`` / ``BleakClient`` runs unchanged on a simulated band:

    BleakScanner.discover(backend=SimRadioScanner, radios=["127.0.0.1:47001"])
    BleakClient(device, backend=SimRadioClient, bond_file=path)

Only the OS radio is replaced. A band's address is its socket, ``host:port``
(what a MAC is to BlueZ). Like an OS, the client keeps the bond keys it got by
pairing in a small store (``BondStore``) and re-encrypts with them on later
connections instead of pairing again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import struct
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import platformdirs
from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_16, normalize_uuid_str

from spasmwatch.timeouts import within
from spasmwatch.transport.base import Kind
from spasmwatch.transport.ble import BleBackend

log = logging.getLogger(__name__)

RADIOS_ENV = "SPASMWATCH_SIM_RADIOS"  # "127.0.0.1:47001,127.0.0.1:47002": what the scanner probes
BONDS_ENV = "SPASMWATCH_SIM_BONDS"  # path of the bond store (default: the user data dir)
SIM_RSSI = -40  # the simulated radio has no path loss; a fixed, strong signal
DEFAULT_MTU = 247  # what OS stacks ask for; the band accepts up to 247

# socket ops (firmware/sim/bluetooth.py)
OP_HELLO, OP_MTU, OP_READ, OP_WRITE, OP_PAIR, OP_ENCRYPT, OP_BYE, OP_SCAN = range(1, 9)
R_INFO, R_MTU, R_READ, R_WRITE, R_SECURITY, R_ADV = 0x81, 0x82, 0x83, 0x84, 0x85, 0x88
R_REFUSED, R_NOTIFY = 0x8F, 0x90
ATT_TIMEOUT_S = 30.0  # a request's answer (the ATT transaction timeout); the client's timeout is the connect's
_LOST = -1  # queued when the socket closes, so a waiting request wakes up
# A test's uneven link: (way, value) -> real s the radio holds it; way "write" or "notify" (SimRadioClient).
Latency = Callable[[str, bytes], float]


class SimRadioError(BleakError):
    """A simulated-radio failure; ``kind`` tells ``BleLink`` which TransportError it is."""

    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` -> (host, port); a bare port means 127.0.0.1."""
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise BleakError(f"not a simulated radio address (host:port): {address!r}")
    return host or "127.0.0.1", int(port)


def configured_radios() -> list[str]:
    return [r.strip() for r in os.environ.get(RADIOS_ENV, "").split(",") if r.strip()]


# --- wire ---------------------------------------------------------------------------------


def _message(op: int, body: bytes = b"") -> bytes:
    return struct.pack("<HB", len(body) + 1, op) + body


async def _read_message(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    (n,) = struct.unpack("<H", await reader.readexactly(2))
    data = await reader.readexactly(n)
    return data[0], data[1:]


# --- advertising data ------------------------------------------------------------------------

_AD_NAME_SHORT, _AD_NAME = 0x08, 0x09
_AD_UUID16 = (0x02, 0x03)
_AD_UUID128 = (0x06, 0x07)
_AD_TX_POWER, _AD_SERVICE_DATA16, _AD_MANUFACTURER = 0x0A, 0x16, 0xFF


def _ad_structures(data: bytes) -> Iterable[tuple[int, bytes]]:
    i = 0
    while i < len(data) and data[i]:
        n = data[i]
        yield data[i + 1], data[i + 2 : i + 1 + n]
        i += 1 + n


def advertisement(adv: bytes, resp: bytes, rssi: int = SIM_RSSI, details: Any = None) -> AdvertisementData:
    """Decode advertising + scan response payloads (AD structures) the way an OS stack reports them."""
    name: str | None = None
    uuids: list[str] = []
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    tx_power: int | None = None
    for t, v in _ad_structures(adv + resp):
        if t in (_AD_NAME, _AD_NAME_SHORT) and (name is None or t == _AD_NAME):
            name = v.decode("utf-8", "replace")
        elif t in _AD_UUID16:
            uuids += [normalize_uuid_16(int.from_bytes(v[i : i + 2], "little")) for i in range(0, len(v) - 1, 2)]
        elif t in _AD_UUID128:
            uuids += [str(uuid.UUID(bytes=bytes(reversed(v[i : i + 16])))) for i in range(0, len(v) - 15, 16)]
        elif t == _AD_TX_POWER and v:
            tx_power = int.from_bytes(v[:1], "little", signed=True)
        elif t == _AD_SERVICE_DATA16 and len(v) >= 2:
            service_data[normalize_uuid_16(int.from_bytes(v[:2], "little"))] = bytes(v[2:])
        elif t == _AD_MANUFACTURER and len(v) >= 2:
            manufacturer[int.from_bytes(v[:2], "little")] = bytes(v[2:])
    return AdvertisementData(name, manufacturer, service_data, uuids, tx_power, rssi, (details,))


# --- bond store ---------------------------------------------------------------------------------


def default_bond_path() -> Path:
    env = os.environ.get(BONDS_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir("spasmwatch")) / "sim-bonds.json"


class BondStore:
    """What the OS keeps for a central: its own address and one LTK per bonded band (JSON, atomic writes)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_bond_path()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {"central": None, "bonds": {}}
        return data if isinstance(data, dict) else {"central": None, "bonds": {}}

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.path)

    def central_address(self) -> bytes:
        """This host's (static random) address, created once: the band keys its bonds by it."""
        data = self._load()
        if not data.get("central"):
            addr = bytearray(os.urandom(6))
            addr[5] |= 0xC0  # static random address: the two top bits set
            data["central"] = bytes(addr).hex()
            self._save(data)
        return bytes.fromhex(str(data["central"]))

    def get(self, address: str) -> bytes | None:
        ltk = self._load().get("bonds", {}).get(address)
        return bytes.fromhex(ltk) if ltk else None

    def put(self, address: str, ltk: bytes) -> None:
        data = self._load()
        data.setdefault("bonds", {})[address] = ltk.hex()
        self._save(data)

    def remove(self, address: str) -> None:
        data = self._load()
        if data.get("bonds", {}).pop(address, None) is not None:
            self._save(data)


# --- scanner ----------------------------------------------------------------------------------


class SimRadioScanner(BaseBleakScanner):
    """Probes each simulated radio with SCAN, as often as a band advertises, and reports what it hears.

    ``radios``: ``host:port`` strings (default: ``$SPASMWATCH_SIM_RADIOS``). A band
    connected to a central does not advertise and is not reported, as on air.
    """

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        radios: Iterable[str] | None = None,
        interval_s: float = 0.25,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self.radios = list(radios) if radios is not None else configured_radios()
        self.active = scanning_mode != "passive"  # passive scanners never get the scan response
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.gather(*(self._probe(r) for r in self.radios))
            await asyncio.sleep(self.interval_s)

    async def _probe(self, radio: str) -> None:
        try:
            host, port = parse_address(radio)
            adv = await asyncio.wait_for(_scan_once(host, port), 1.0)
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.TimeoutError, BleakError, ValueError):
            return  # nothing heard on this channel this time
        if adv is None:
            return
        data = advertisement(adv[0], adv[1] if self.active else b"", SIM_RSSI, (host, port))
        if not self.is_allowed_uuid(data.service_uuids):
            return
        device = self.create_or_update_device(radio, radio, data.local_name, (host, port), data)
        self.call_detection_callbacks(device, data)


async def _scan_once(host: str, port: int) -> tuple[bytes, bytes] | None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(_message(OP_SCAN))
        op, body = await _read_message(reader)
    finally:
        writer.close()
    if op != R_ADV:
        return None  # REFUSED: connected to a central, so not advertising
    info = json.loads(body)
    return bytes.fromhex(info["adv"]), bytes.fromhex(info["resp"])


# --- client -------------------------------------------------------------------------------------


def _properties(flags: int) -> list[CharacteristicPropertyName]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if flags & bit and bit < 0x100]


def services_from_info(info: dict[str, Any], mtu: Callable[[], int]) -> BleakGATTServiceCollection:
    """bleak's service collection from the INFO message (the sim's whole GATT database at once)."""
    coll = BleakGATTServiceCollection()
    for svc in info["services"]:
        chars = svc["chars"]
        if not chars:
            continue
        service = BleakGATTService(svc, chars[0]["handle"] - 2, normalize_uuid_str(svc["uuid"]))
        coll.add_service(service)
        for c in chars:
            props = _properties(c["flags"])
            char = BleakGATTCharacteristic(c, c["handle"], normalize_uuid_str(c["uuid"]), props, mtu, service)
            coll.add_characteristic(char)
    return coll


class SimRadioClient(BaseBleakClient):
    """A GATT client on one simulated band's radio socket.

    Extra keyword arguments (through ``BleakClient(..., **kw)``): ``bond_file``
    (the ``BondStore`` path) and ``mtu`` (asked for at connect, as OS stacks do).
    The disconnected callback fires when the link drops without ``disconnect()``.

    ``latency`` (for tests: an uneven link, as a radio's retries make it): called with
    ``("write", value)`` before each characteristic write goes out and ``("notify", value)``
    as each notification comes in, it returns how long (real s) the radio holds it. A held
    notification holds everything behind it, as a link-layer retransmission does.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        bond_file: Path | str | None = None,
        mtu: int = DEFAULT_MTU,
        services: set[str] | None = None,
        latency: Latency | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._device_name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self.bonds = BondStore(bond_file)
        self._want_mtu = mtu
        self._only_services = services
        self._latency = latency
        self._mtu = 23
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self._responses: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self._callbacks: dict[int, NotifyCallback] = {}
        self._lock = asyncio.Lock()
        self._up = False
        self._closing = False

    # --- properties ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._device_name or self.address

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._up

    # --- connection ------------------------------------------------------------------------------
    async def connect(self, pair: bool, **kwargs: Any) -> None:
        host, port = parse_address(self.address)
        deadline = asyncio.get_running_loop().time() + self._timeout
        try:
            info = await self._hello(host, port)  # (a cancel as the band answered: its link closed below)
            self._up, self._closing = True, False
            self._pump = asyncio.create_task(self._receive())
            async with asyncio.timeout_at(deadline):  # the whole connect, the MTU exchange too
                self.services = services_from_info(self._filtered(info), lambda: self._mtu - 3)
                if self._device_name is None:
                    self._device_name = advertisement(bytes.fromhex(info["adv"]), bytes.fromhex(info["resp"])).local_name
                _, body = await self._request(OP_MTU, struct.pack("<H", self._want_mtu), R_MTU)
                (self._mtu,) = struct.unpack("<H", body)
                if pair:
                    await self.pair()
        except BaseException:
            await self.disconnect()  # as BlueZ's backend: a failed connect leaves no link up (the band advertises again)
            raise

    def _filtered(self, info: dict[str, Any]) -> dict[str, Any]:
        if self._only_services is None:
            return info
        keep = [s for s in info["services"] if normalize_uuid_str(s["uuid"]) in self._only_services]
        return dict(info, services=keep)

    async def _hello(self, host: str, port: int) -> dict[str, Any]:
        """Connect, retrying until the timeout like an OS waiting for the band to advertise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        refused = ""
        while True:
            try:
                # within, not wait_for: on Python 3.11 a cancel in the pass the band answered was lost
                return await within(self._try_hello(host, port), max(0.05, deadline - loop.time()))
            except SimRadioError as e:
                refused = str(e)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                pass
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
        if refused:
            raise SimRadioError("refused", f"{self.address} refused the connection: {refused}")
        raise BleakDeviceNotFoundError(self.address, f"no simulated band answers at {self.address}")

    async def _try_hello(self, host: str, port: int) -> dict[str, Any]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(_message(OP_HELLO, bytes((1,)) + self.bonds.central_address()))
            op, body = await _read_message(reader)
        except BaseException:
            writer.close()
            raise
        if op != R_INFO:
            writer.close()
            raise SimRadioError("refused", body.decode("utf-8", "replace") or f"op 0x{op:02x}")
        self._reader, self._writer = reader, writer
        info: dict[str, Any] = json.loads(body)
        return info

    async def disconnect(self) -> None:
        self._closing = True
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(OSError):
                writer.write(_message(OP_BYE))
                await writer.drain()
            writer.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        self._up = False
        # A request under way ends with the link, as bleak's backends end theirs: the cancelled
        # receive side never gets to _lost, and a read waited ATT_TIMEOUT_S (the CDC bridge's read of
        # STATUS as its serial host went held the next host's answers: its sync timed out, h47a).
        self._responses.put_nowait((_LOST, b""))

    async def _receive(self) -> None:
        """The radio's receive side: notifications to their callbacks, the rest to the pending request."""
        assert self._reader is not None
        try:
            while True:
                op, body = await _read_message(self._reader)
                if op == R_NOTIFY:
                    await self._held("notify", body[2:])
                    self._notified(body)
                else:
                    self._responses.put_nowait((op, body))
        except (OSError, asyncio.IncompleteReadError):
            pass
        self._lost()

    async def _held(self, way: str, value: bytes) -> None:
        """The time the test's ``latency`` has the radio hold this message."""
        held = self._latency(way, value) if self._latency is not None else 0.0
        if held > 0:
            await asyncio.sleep(held)

    def _notified(self, body: bytes) -> None:
        (handle,) = struct.unpack_from("<H", body)
        callback = self._callbacks.get(handle)
        if callback is not None:  # the band notifies whether or not we subscribed: drop what we did not ask for
            callback(bytearray(body[2:]))

    def _lost(self) -> None:
        self._up = False
        self._responses.put_nowait((_LOST, b""))
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _request(self, op: int, body: bytes, want: int) -> tuple[int, bytes]:
        async with self._lock:
            if not self._up or self._writer is None:
                raise SimRadioError("disconnected", f"not connected to {self.address}")
            while not self._responses.empty():  # a stale _LOST from an earlier link
                self._responses.get_nowait()
            self._writer.write(_message(op, body))
            try:
                got, rbody = await within(self._responses.get(), ATT_TIMEOUT_S)  # (a cancel as it answers raised)
            except asyncio.TimeoutError:
                raise SimRadioError("timeout", f"{self.address} did not answer op 0x{op:02x}") from None
        if got == _LOST:
            raise SimRadioError("disconnected", f"{self.address} disconnected")
        if got != want:
            raise SimRadioError("io", f"{self.address}: expected reply 0x{want:02x}, got 0x{got:02x}")
        return got, rbody

    # --- security --------------------------------------------------------------------------------
    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Encrypt with the stored bond if there is one, else pair and bond (Just Works) and store the key."""
        ltk = self.bonds.get(self.address)
        if ltk is not None:
            _, sec = await self._request(OP_ENCRYPT, ltk, R_SECURITY)
            if not sec[0]:
                raise SimRadioError("auth", f"{self.address} no longer has our bond (erased?): unpair, then pair again")
            return
        _, sec = await self._request(OP_PAIR, b"\x01", R_SECURITY)
        if not sec[0]:
            raise SimRadioError("auth", f"{self.address} refused pairing")
        if sec[2]:
            self.bonds.put(self.address, bytes(sec[4:20]))
        else:
            # Not a warning: the band's commands will be refused, and the session's FAULT says what to do.
            log.debug("%s: encrypted but not bonded (the band's pairing window is closed)", self.address)

    async def unpair(self) -> None:
        self.bonds.remove(self.address)

    # --- GATT -------------------------------------------------------------------------------------
    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        _, body = await self._request(OP_READ, struct.pack("<H", characteristic.handle), R_READ)
        if body[2]:
            raise BleakGATTProtocolError(body[2])
        return bytearray(body[3:])

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool) -> None:
        # The simulated radio acknowledges every write, so a write without response waits for it too.
        await self._held("write", bytes(data))
        _, body = await self._request(OP_WRITE, struct.pack("<H", characteristic.handle) + bytes(data), R_WRITE)
        if body[2]:
            raise BleakGATTProtocolError(body[2])

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any) -> None:
        if "notify" not in characteristic.properties:
            raise BleakError(f"{characteristic.uuid} does not notify")
        self._callbacks[characteristic.handle] = callback

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._callbacks.pop(characteristic.handle, None)

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        raise BleakError("the simulated radio has no descriptor access (it has no CCCDs to read)")

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        raise BleakError("the simulated radio has no descriptor access (it has no CCCDs to write)")


def backend(radios: Iterable[str] | None = None, bond_file: Path | str | None = None, latency: Latency | None = None) -> BleBackend:
    """The simulated radio as a ``BleLink`` backend: scan ``radios`` (default $SPASMWATCH_SIM_RADIOS), keep bonds
    in ``bond_file``; ``latency``: for tests, how long the radio holds each message (``SimRadioClient``)."""
    scanner_kw: dict[str, Any] = {} if radios is None else {"radios": list(radios)}
    client_kw: dict[str, Any] = {"bond_file": bond_file} if latency is None else {"bond_file": bond_file, "latency": latency}
    return BleBackend(SimRadioScanner, SimRadioClient, scanner_kw, client_kw, transport="sim")
