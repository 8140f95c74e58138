"""``spasmwatch flash`` as a function: check the band, build the images, sync, reset."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from spasmwatch import __version__
from spasmwatch.flashing import firmware
from spasmwatch.flashing.device import Device, DeviceInfo
from spasmwatch.flashing.firmware import Image
from spasmwatch.flashing.link import DeviceError, Link
from spasmwatch.flashing.sync import Progress, SyncReport, sync
from spasmwatch.hardware.boards import Board

BOARD_FILE = "/board.json"
DEVICE_FILE = "/device.json"
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$")


@dataclass(frozen=True)
class FlashResult:
    info: DeviceInfo
    arch: str
    device_id: str
    firmware_version: str
    report: SyncReport


def current_board_id(device: Device) -> str | None:
    doc = device.read_json(BOARD_FILE)
    return str(doc["id"]) if isinstance(doc, dict) and isinstance(doc.get("id"), str) else None


def check_board(device: Device, board: Board, replace: bool) -> None:
    """Refuse to put ``board`` on a band whose /board.json names another board, unless ``replace``.

    The chip check cannot tell two boards with the same chip apart (an ESP32-S3 XIAO
    and an AtomS3): replacing the definition silently would give the band the wrong
    IMU part, pins and axis map, and it would sense nothing, or the wrong axes.
    """
    found = current_board_id(device)
    if found is None or found == board["id"] or replace:
        return
    raise DeviceError(
        f"the band holds board {found} (its {BOARD_FILE}), not {board['id']}: flashing would replace its IMU, "
        f"pins and axis map. To update the band as it is, leave out --board (or give --board {found}); "
        f"if it really is a {board['id']} (new hardware, or flashed with the wrong board before), "
        f"run again with --replace-board"
    )


def choose_device_id(device: Device, requested: str | None) -> str:
    """Keep the band's id across flashes (the host stores events by it); else derive one."""
    if requested is not None:
        if not DEVICE_ID.match(requested):
            raise DeviceError(f"device id {requested!r}: use 3-40 letters, digits, '.', '_' or '-'")
        return requested
    doc = device.read_json(DEVICE_FILE)
    if isinstance(doc, dict) and isinstance(doc.get("device_id"), str) and DEVICE_ID.match(doc["device_id"]):
        return str(doc["device_id"])
    uid = device.unique_id()
    return "sw-" + (uid if uid else secrets.token_hex(6))


def _json_bytes(doc: object) -> bytes:
    return (json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n").encode()


def flash(
    link: Link,
    board: Board,
    firmware_dir: Path,
    device_id: str | None = None,
    progress: Progress | None = None,
    reset: bool = True,
    replace_board: bool = False,
) -> FlashResult:
    device = Device(link)
    info = device.info()
    arch = firmware.check_compatible(info, board, link.simulated, firmware.mpy_cross_version())
    check_board(device, board, replace_board)
    version = firmware.firmware_version(firmware_dir)
    dev_id = choose_device_id(device, device_id)
    images = firmware.compile_all(firmware_dir, arch)
    images += [Image(BOARD_FILE, _json_bytes(board)), Image(DEVICE_FILE, _json_bytes({"device_id": dev_id}))]
    meta: dict[str, object] = {
        "board": board["id"],
        "device_id": dev_id,
        "firmware": version,
        "mpy": info.mpy_version,
        "arch": arch,
        "tool": f"spasmwatch {__version__}",
    }
    report = sync(device, images, meta, progress)
    if reset:
        link.reset()
    return FlashResult(info, arch, dev_id, version, report)
