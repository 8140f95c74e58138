"""How bytes reach the band: one ``Link`` interface, three backends (docs/transport.md).

    links = await scan(5.0)                       # bands in range, every transport asked for
    link = open_link("ble", "spasmwatch-0001")    # or an address; "serial" /dev/ttyACM0; "sim" host:port
    await link.connect(); await link.secure()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spasmwatch.transport.base import (
    AuthError,
    DisconnectedError,
    Found,
    Link,
    LinkIOError,
    LinkTimeoutError,
    NotFoundError,
    RefusedError,
    TransportError,
)
from spasmwatch.transport.ble import BleBackend, BleLink, is_name, scan_ble
from spasmwatch.transport.serial import SerialLink, known_usb

log = logging.getLogger(__name__)
TRANSPORTS = ("ble", "serial", "sim")

__all__ = [
    "AuthError",
    "BleBackend",
    "BleLink",
    "DisconnectedError",
    "Found",
    "Link",
    "LinkIOError",
    "LinkTimeoutError",
    "NotFoundError",
    "RefusedError",
    "SerialLink",
    "TransportError",
    "TRANSPORTS",
    "open_link",
    "scan",
]


def _serial_ports() -> list[Found]:
    from serial.tools import list_ports  # type: ignore[import-untyped]

    # The ports 'spasmwatch flash' would pick (transport/serial.py KNOWN_USB): a board on USB is one to flash.
    return [Found(p.description or p.device, p.device, None, "serial") for p in list_ports.comports() if known_usb(p.vid, p.pid)]


async def scan(
    timeout_s: float, transports: Iterable[str] = ("ble",), *, skipped: dict[str, BaseException] | None = None, **kw: Any
) -> list[Found]:
    """Bands found on each transport (one that cannot scan is skipped, unless all fail: put in ``skipped``
    by transport name when given, else logged). ``ble``: the OS radio (``backend=`` to override); ``sim``:
    the simulated radios (``radios=``, default $SPASMWATCH_SIM_RADIOS); ``serial``: USB serial ports of band chips."""
    from spasmwatch.transport import simradio

    transports = list(transports)
    jobs = []
    for t in transports:
        if t == "ble":
            jobs.append(scan_ble(timeout_s, kw.get("backend")))
        elif t == "sim":
            jobs.append(scan_ble(timeout_s, simradio.backend(kw.get("radios"), kw.get("bond_file"))))
        elif t == "serial":
            jobs.append(asyncio.to_thread(_serial_ports))
        else:
            raise ValueError(f"unknown transport {t!r} (one of {', '.join(TRANSPORTS)})")
    results = await asyncio.gather(*jobs, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed and len(failed) == len(results):
        raise failed[0]
    for t, r in zip(transports, results):  # no Bluetooth adapter must not hide the band on USB
        if not isinstance(r, BaseException):
            continue
        if skipped is None:
            log.warning("%s (skipped)", r)
        else:
            skipped[t] = r
    return [f for r in results if not isinstance(r, BaseException) for f in r]


def open_link(transport: str, target: str, **kw: Any) -> Link:
    """A Link, not yet connected. ``ble``: name or address (``backend=`` a BleBackend); ``serial``: a
    port or pyserial URL (``baudrate=``); ``sim``: a simulated band's ``host:port`` (``bond_file=``;
    tests: ``latency=``, an uneven radio, simradio.SimRadioClient)."""
    from spasmwatch.transport import simradio

    if transport == "ble":
        return BleLink(target, kw.get("backend"))
    if transport == "serial":
        return SerialLink(target, **kw)
    if transport == "sim":
        bond_file: Path | str | None = kw.get("bond_file")
        radios = [target] if not is_name(target) else kw.get("radios")
        return BleLink(target, simradio.backend(radios, bond_file, kw.get("latency")))
    raise ValueError(f"unknown transport {transport!r} (one of {', '.join(TRANSPORTS)})")
