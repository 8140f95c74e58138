"""The one interface the daemon sees: a ``Link`` to a band, and one error family.

Every backend (BLE through bleak, USB CDC serial, the simulated radio) raises
only ``TransportError`` subclasses from ``Link`` methods; ``kind`` is what the
session's backoff keys on, so a backend maps its own failures to a kind and
keeps the original exception as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, runtime_checkable

from swcore import protocol as P

from spasmwatch.errors import SpasmwatchError

Kind = Literal["not_found", "refused", "timeout", "disconnected", "auth", "io"]
KINDS: tuple[Kind, ...] = ("not_found", "refused", "timeout", "disconnected", "auth", "io")


def label(advertised: str) -> str:
    """The family's name (``spasmwatch-XXXX``) for the band that advertises ``advertised``: a neutral
    ``band-XXXX`` since 2026-12-07 (docs/firmware.md, "Threat model"), the name itself before (an
    older firmware). Only advertisers of the service UUID are heard (transport/ble.py ``_scanner``),
    so another device's ``band-`` name is none of them."""
    if advertised.casefold().startswith(P.AIR_PREFIX):
        return str(P.NAME_PREFIX) + advertised[len(P.AIR_PREFIX) :]
    return advertised


class TransportError(SpasmwatchError):
    """A link failure; ``kind`` says how to retry (see docs/host.md, Session)."""

    kind: ClassVar[Kind] = "io"
    # The cause is on this computer (no Bluetooth adapter, no BlueZ), not the band: the family is
    # told so, not to charge the band and bring it nearer (set where the cause is known: ble.mapped).
    here: bool = False


class NotFoundError(TransportError):
    """No such band in range (not advertising, no such port, nobody listening)."""

    kind: ClassVar[Kind] = "not_found"


class RefusedError(TransportError):
    """The band is there but refused the connection (busy with another central, port in use)."""

    kind: ClassVar[Kind] = "refused"


class LinkTimeoutError(TransportError):
    """The band did not answer in time."""

    kind: ClassVar[Kind] = "timeout"


class DisconnectedError(TransportError):
    """The link dropped (or was never up) while an operation needed it."""

    kind: ClassVar[Kind] = "disconnected"


class AuthError(TransportError):
    """Pairing or encryption refused, or a write refused for lack of it: the caregiver must re-pair."""

    kind: ClassVar[Kind] = "auth"


class LinkIOError(TransportError):
    """Anything else the link reported (protocol error, unsupported operation, OS error)."""

    kind: ClassVar[Kind] = "io"


ERROR_BY_KIND: dict[Kind, type[TransportError]] = {
    "not_found": NotFoundError,
    "refused": RefusedError,
    "timeout": LinkTimeoutError,
    "disconnected": DisconnectedError,
    "auth": AuthError,
    "io": LinkIOError,
}


@dataclass(frozen=True)
class Found:
    """A band seen by a scan; ``open_link(transport, address)`` connects to it."""

    name: str
    address: str
    rssi: int | None
    transport: str


@runtime_checkable
class Link(Protocol):
    """A connection to one band. Methods raise only ``TransportError``."""

    name: str
    address: str
    transport: str

    @property
    def connected(self) -> bool: ...

    @property
    def mtu(self) -> int:
        """The ATT MTU; notifications carry at most ``mtu - 3`` bytes."""
        ...

    async def connect(self, timeout_s: float = 10.0) -> None: ...

    async def secure(self) -> None:
        """Pair and bond the first time, else encrypt with the stored bond; AuthError if refused."""
        ...

    async def disconnect(self) -> None: ...

    async def read(self, uuid: str) -> bytes: ...

    async def write(self, uuid: str, data: bytes) -> None:
        """Write with response (the band's stack acknowledged it, not the command's RESP)."""
        ...

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None: ...

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the link drops without ``disconnect()`` being asked for."""
        ...


@runtime_checkable
class Garbling(Protocol):
    """A link whose records can arrive garbled and be dropped: serial, where a frame's CRC fails
    (noise on a UART). BLE's link layer checks each packet and has it sent again, so a BLE link
    never drops one: it has no ``on_garbled``."""

    def on_garbled(self, callback: Callable[[bytes], None]) -> None:
        """Call ``callback`` with what came of each record dropped for its CRC (any byte may be wrong)."""
        ...
