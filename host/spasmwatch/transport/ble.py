"""BleLink: the Link over bleak's public ``BleakScanner`` / ``BleakClient``.

The bleak backend is injectable (``BleBackend``): ``None`` classes mean the
OS's (BlueZ, CoreBluetooth, WinRT); tests and ``spasmwatch demo`` pass
``simradio.backend()``, so everything above the OS radio is bleak's own code.
Every bleak, OS and timeout error is mapped to a ``TransportError`` kind here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import (
    BleakCharacteristicNotFoundError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from swcore import protocol as P

from spasmwatch.transport.base import (
    ERROR_BY_KIND,
    KINDS,
    DisconnectedError,
    Found,
    Kind,
    NotFoundError,
    TransportError,
    label,
)

DEFAULT_MTU = 23  # before (or without) an MTU exchange


@dataclass(frozen=True)
class BleBackend:
    """Which bleak backend classes to use (None: the OS's) and extra keyword arguments for them."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    scanner_kw: Mapping[str, Any] = field(default_factory=dict)
    client_kw: Mapping[str, Any] = field(default_factory=dict)
    transport: str = "ble"  # what Found.transport / Link.transport say


OS_BACKEND = BleBackend()

# ATT errors that mean "secure the link first" (Core spec Vol 3 Part F 3.4.1.1).
_ATT_SECURITY = {0x05, 0x08, 0x0C, 0x0F}
# BlueZ's D-Bus errors (bleak raises BleakDBusError with these names on Linux).
_DBUS_KINDS: dict[str, Kind] = {
    "org.bluez.Error.AuthenticationFailed": "auth",
    "org.bluez.Error.AuthenticationRejected": "auth",
    "org.bluez.Error.AuthenticationCanceled": "auth",
    "org.bluez.Error.AuthenticationTimeout": "auth",
    "org.bluez.Error.ConnectionAttemptFailed": "not_found",
    "org.bluez.Error.DoesNotExist": "not_found",
    "org.freedesktop.DBus.Error.UnknownObject": "not_found",
    "org.bluez.Error.InProgress": "refused",
    "org.bluez.Error.AlreadyExists": "refused",
    "org.bluez.Error.NotConnected": "disconnected",
    "org.freedesktop.DBus.Error.NoReply": "timeout",
    "org.bluez.Error.NotPaired": "auth",  # ATT 0x05/0x0C/0x0F on BlueZ before 5.5x
    "org.bluez.Error.NotAuthorized": "auth",  # ATT 0x08
}
# BlueZ reports ATT 0x05/0x0C/0x0F as NotPermitted "Not paired", and 0x02/0x03 as NotPermitted
# "Read/Write not permitted"; bleak turns only the latter back into ATT codes.
_DBUS_NOT_PAIRED = ("org.bluez.Error.NotPermitted", "Not paired")


def kind_of(e: BaseException, default: Kind = "io") -> Kind:
    """The TransportError kind of a bleak / OS / asyncio exception."""
    tagged = getattr(e, "kind", None)  # simradio's errors (and ours) say it themselves
    if tagged in KINDS:
        return tagged  # type: ignore[no-any-return]
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(e, BleakDeviceNotFoundError):
        return "not_found"
    if isinstance(e, BleakGATTProtocolError):
        return "auth" if e.code in _ATT_SECURITY else "io"
    if isinstance(e, BleakDBusError):
        if (e.dbus_error, e.dbus_error_details) == _DBUS_NOT_PAIRED:
            return "auth"
        return _DBUS_KINDS.get(e.dbus_error, default)
    if isinstance(e, BleakCharacteristicNotFoundError):
        return "io"
    if isinstance(e, ConnectionRefusedError):
        return "not_found"  # nothing there to answer
    if isinstance(e, (EOFError, ConnectionError)):
        return "disconnected"
    return default


@contextlib.contextmanager
def mapped(what: str, default: Kind = "io") -> Iterator[None]:
    """Re-raise bleak / OS / timeout errors as the TransportError of their kind (cause kept)."""
    try:
        yield
    except TransportError:
        raise
    except (BleakError, OSError, EOFError, asyncio.TimeoutError) as e:
        kind = kind_of(e, default)
        err = ERROR_BY_KIND[kind](f"{what}: {_message(e)}")
        err.here = on_this_computer(e)
        raise err from e


def on_this_computer(e: BaseException) -> bool:
    """Whether ``e`` says the cause is this computer's Bluetooth, not the band: BlueZ's D-Bus
    socket is missing, or bleak found no (usable) adapter. Its BleakBluetoothNotAvailableError
    came with bleak 2.0 (pyproject allows 1.x: found by its name)."""
    return isinstance(e, FileNotFoundError) or type(e).__name__ == "BleakBluetoothNotAvailableError"


def _message(e: BaseException) -> str:
    if isinstance(e, FileNotFoundError):
        # BlueZ's D-Bus socket is missing: no Bluetooth stack on this computer at all.
        return (
            f"Bluetooth is not available here (no BlueZ on the D-Bus system bus: {e.strerror or e}): "
            "install and start BlueZ, e.g. 'sudo apt install bluez', then 'sudo systemctl enable --now bluetooth'"
        )
    # bleak puts a code before its text in some errors' args ((15, "GATT Protocol Error: ..."))
    text = e.args[-1] if len(e.args) > 1 and isinstance(e.args[-1], str) else str(e)
    return text or type(e).__name__


def _scanner(backend: BleBackend, **kw: Any) -> BleakScanner:
    return BleakScanner(service_uuids=[P.SERVICE_UUID], backend=backend.scanner, **kw, **backend.scanner_kw)


async def scan_ble(timeout_s: float, backend: BleBackend | None = None) -> list[Found]:
    """Bands advertising the spasmwatch service, heard within ``timeout_s``."""
    backend = backend or OS_BACKEND
    with mapped("scan"):
        async with _scanner(backend) as scanner:
            await asyncio.sleep(timeout_s)
        seen = scanner.discovered_devices_and_advertisement_data.values()
    return [Found(label(ad.local_name or d.name or "") or d.address, d.address, ad.rssi, backend.transport) for d, ad in seen]


def is_name(target: str) -> bool:
    """A band's advertised name, not an address; whatever the case ('SPASMWATCH-00A1' typed from a
    label was taken for an address and never found: "not found ... (out of range, off ...)")."""
    return target.casefold().startswith(P.NAME_PREFIX)


class BleLink:
    """A Link to one band over bleak. ``target``: its name (``spasmwatch-XXXX``) or its address."""

    def __init__(self, target: str, backend: BleBackend | None = None) -> None:
        self.target = target
        self.backend = backend or OS_BACKEND
        self.transport = self.backend.transport
        self.name = target if is_name(target) else ""
        self.address = "" if is_name(target) else target
        self._client: BleakClient | None = None
        self._closing = False
        self._on_disconnect: list[Callable[[], None]] = []

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    @property
    def mtu(self) -> int:
        return self._client.mtu_size if self.connected and self._client is not None else DEFAULT_MTU

    async def connect(self, timeout_s: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        self._closing = False  # from here a disconnect() ends this connect (it finds no client to close yet)
        device, ad = await self._find(timeout_s)
        self.name, self.address = label(ad.local_name or device.name or "") or self.name, device.address
        kw = dict(self.backend.client_kw)
        client = BleakClient(device, self._dropped, timeout=max(0.1, deadline - loop.time()), backend=self.backend.client, **kw)
        with mapped(f"connect {self.target}"):
            await client.connect()
            if self._closing:
                # Kept, it stayed connected with nobody using it, and a band connected to a central
                # does not advertise: the next connect (a config reload's) found no band.
                await client.disconnect()
                raise DisconnectedError(f"{self.target}: disconnect() while connecting")
        self._client = client

    async def _find(self, timeout_s: float) -> tuple[BLEDevice, AdvertisementData]:
        def wanted(d: BLEDevice, ad: AdvertisementData) -> bool:
            if is_name(self.target):
                return label(ad.local_name or "").casefold() == self.target.casefold()
            return d.address.lower() == self.target.lower()

        with mapped(f"scan for {self.target}"):
            async with _scanner(self.backend) as scanner:
                with contextlib.suppress(asyncio.TimeoutError):
                    async with asyncio.timeout(timeout_s):
                        async for d, ad in scanner.advertisement_data():
                            if wanted(d, ad):
                                return d, ad
        raise NotFoundError(f"{self.target} not found within {timeout_s:g} s (out of range, off, or connected elsewhere)")

    def _dropped(self, _client: BleakClient) -> None:
        if self._closing:
            return
        for callback in list(self._on_disconnect):
            callback()

    def _live(self) -> BleakClient:
        if self._client is None or not self._client.is_connected:
            raise DisconnectedError(f"{self.target}: not connected")
        return self._client

    async def secure(self) -> None:
        # A bonded OS re-encrypts with the stored key; the first time it pairs and bonds.
        with mapped(f"secure {self.target}", "auth"):
            try:
                await self._live().pair()
            except NotImplementedError:
                pass  # CoreBluetooth has no pairing call: macOS pairs on the first encrypted access (the control write)

    async def unpair(self) -> None:
        """Forget the bond (what "re-pair" starts with after an auth failure)."""
        client = self._client or BleakClient(self.address or self.target, backend=self.backend.client, **dict(self.backend.client_kw))
        with mapped(f"unpair {self.target}"):
            await client.unpair()

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        self._closing = True
        if client is not None:
            with mapped(f"disconnect {self.target}"):
                await client.disconnect()

    async def read(self, uuid: str) -> bytes:
        with mapped(f"read {uuid}"):
            return bytes(await self._live().read_gatt_char(uuid))

    async def write(self, uuid: str, data: bytes) -> None:
        with mapped(f"write {uuid}"):
            await self._live().write_gatt_char(uuid, data, response=True)

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        with mapped(f"subscribe {uuid}"):
            await self._live().start_notify(uuid, lambda _char, data: callback(bytes(data)))

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        self._on_disconnect.append(callback)
