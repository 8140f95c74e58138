"""``spasmwatch flash`` as a function: check the band, build the images, sync, reset."""

from __future__ import annotations

import json
import re
import secrets
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spasmwatch import __version__
from spasmwatch.flashing import firmware
from spasmwatch.flashing.device import Device, DeviceInfo, UnreadableFile
from spasmwatch.flashing.firmware import Image
from spasmwatch.flashing.link import DeviceError, Link
from spasmwatch.flashing.sync import MANIFEST, Progress, SyncReport, sync
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


class FlashWarning(UserWarning):
    """A file the flash reads back from the band was damaged or missing; the warning says what it does instead."""


@dataclass(frozen=True)
class BandValue:
    """A field of one of the flash's own files (/board.json, /device.json) as the band holds it."""

    value: str | None  # None: the file is missing or damaged
    problem: str | None = None  # what is wrong with a damaged file ("/board.json on the band is empty (0 bytes)")
    recorded: str | None = None  # the value the last complete flash wrote, from its manifest (None if no manifest)
    doc: dict[str, Any] | None = None  # the whole file, when ``value`` is good


def read_value(device: Device, path: str, field: str, manifest_key: str, pattern: re.Pattern[str] | None = None) -> BandValue:
    """``field`` of the JSON object in ``path`` on the band, or what is wrong with the file (and then
    ``manifest_key`` of the manifest, the value the last complete flash wrote there).

    A file cut short (by a flash of an earlier spasmwatch, which wrote it in place) or damaged is
    reported as such, never taken for a missing one.
    """
    doc, problem = _parse(device, path, field, pattern)
    if doc is not None:
        return BandValue(str(doc[field]), doc=doc)
    # sync removes the manifest first and writes it last, after verifying every file: it names what the band held.
    doc = device.read_json(MANIFEST)
    recorded = doc.get(manifest_key) if isinstance(doc, dict) else None
    return BandValue(None, problem, recorded if _valid(recorded, pattern) else None)


def _valid(value: object, pattern: re.Pattern[str] | None) -> bool:
    return isinstance(value, str) and bool(value) and (pattern is None or bool(pattern.match(value)))


def _parse(device: Device, path: str, field: str, pattern: re.Pattern[str] | None) -> tuple[dict[str, Any] | None, str | None]:
    """(the file's object, None), (None, None) for a missing file, or (None, what is wrong with it)."""
    where = f"{path} on the band"
    try:
        raw = device.read(path)
    except UnreadableFile as exc:
        return None, f"{where} cannot be read ({exc.reason})"
    if raw is None:
        return None, None
    if not raw.strip():
        return None, f"{where} is empty ({len(raw)} bytes)"
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        # Some of json's messages end in "at" ("Unterminated string starting at"): one "at" before the byte.
        return None, f"{where} is not valid JSON ({exc.msg.removesuffix(' at')} at byte {exc.pos} of {len(raw)}: truncated or damaged)"
    except ValueError as exc:  # not UTF-8
        return None, f"{where} is not JSON text ({exc})"
    if not isinstance(doc, dict):
        return None, f"{where} holds a JSON {type(doc).__name__}, not an object"
    if field not in doc:
        return None, f'{where} has no "{field}" field'
    if not _valid(doc[field], pattern):
        return None, f'{where} has "{field}": {json.dumps(doc[field])}, which is not a valid {field}'
    return doc, None


def board_on_band(device: Device, known: Sequence[str]) -> str:
    """The board the band holds (for a flash without --board): its /board.json, else the manifest's record."""
    found = read_value(device, BOARD_FILE, "id", "board")
    if found.value is not None:
        if found.value not in known:
            raise DeviceError(
                f"the band's {BOARD_FILE} names board {found.value!r}, which this spasmwatch does not know: "
                f"give --board (one of: {', '.join(known)})"
            )
        return found.value
    if found.recorded is not None:
        return found.recorded  # check_board says what it writes in the damaged file's place
    choices = f"give --board (one of: {', '.join(known)})"
    if found.problem is None:
        raise DeviceError(f"which board is this? {choices}")
    raise DeviceError(f"which board is this? {found.problem}, and no complete flash recorded the board: {choices}; the flash writes it afresh")


def check_board(device: Device, board: Board, replace: bool) -> None:
    """Refuse to put ``board`` on a band that holds another board, unless ``replace``.

    The chip check cannot tell two boards with the same chip apart (an ESP32-S3 XIAO
    and an AtomS3): replacing the definition silently would give the band the wrong
    IMU part, pins and axis map, and it would sense nothing, or the wrong axes.
    A damaged /board.json is judged by the manifest's record of the board instead; with
    no record (a first flash cut short while writing it) it is replaced, saying so.
    """
    want = str(board["id"])
    found = read_value(device, BOARD_FILE, "id", "board")
    held = found.value if found.value is not None else found.recorded
    if held is not None and held != want and not replace:
        problem = found.problem or f"{BOARD_FILE} is missing on the band"
        says = f"its {BOARD_FILE}" if found.value is not None else f"{problem}; its last complete flash installed it ({MANIFEST})"
        raise DeviceError(
            f"the band holds board {held} ({says}), not {want}: flashing would replace its IMU, "
            f"pins and axis map. To update the band as it is, leave out --board (or give --board {held}); "
            f"if it really is a {want} (new hardware, or flashed with the wrong board before), "
            f"run again with --replace-board"
        )
    if found.value is None and held == want:  # a damaged or missing file; the manifest names this board
        warnings.warn(
            f"{found.problem or BOARD_FILE + ' is missing on the band'}; writing it afresh for board {want}, "
            f"the board the band's last complete flash installed ({MANIFEST})",
            FlashWarning, stacklevel=2,
        )  # fmt: skip
    elif found.problem is not None:
        unknown = "" if held is not None else (
            f" (no complete flash recorded another board: if the band is not a {want}, "
            "flash it again with its own --board and --replace-board)"
        )
        warnings.warn(f"{found.problem}; writing board {want}'s definition in its place{unknown}", FlashWarning, stacklevel=2)


def choose_device_id(device: Device, requested: str | None, data_dir: str) -> str:
    """Keep the band's id across flashes (the host stores every event under it); else derive one.

    A missing or damaged /device.json never gives a band that has monitored a new id silently:
    the manifest's record restores it; without one the flash is refused unless --device-id names it.
    Only a band that never ran the app (no data directory: a first flash cut short) gets a new id.
    """
    found = read_value(device, DEVICE_FILE, "device_id", "device_id", DEVICE_ID)
    if requested is not None:
        if not DEVICE_ID.match(requested):
            raise DeviceError(f"device id {requested!r}: use 3-40 letters, digits, '.', '_' or '-'")
        if found.problem is not None:
            warnings.warn(f"{found.problem}; writing device id {requested} in its place", FlashWarning, stacklevel=2)
        return requested
    if found.value is not None:
        return found.value
    problem = found.problem or f"{DEVICE_FILE} is missing on the band"
    if found.recorded is not None:
        warnings.warn(
            f"{problem}; writing device id {found.recorded} afresh, the id the band's last complete flash installed ({MANIFEST})",
            FlashWarning, stacklevel=2,
        )  # fmt: skip
        return found.recorded
    if not device.exists(data_dir):
        default = _default_id(device)
        if found.problem is not None:
            warnings.warn(f"{problem}; the band never ran the app (no {data_dir}), so it gets the device id {default}", FlashWarning, stacklevel=2)
        return default  # a first flash (or one cut short before the app ever ran)
    uid = device.unique_id()
    hint = f" (its default id, if it was never set with --device-id, is sw-{uid})" if uid else ""
    raise DeviceError(
        f"{problem}, and no complete flash recorded the band's id, but the band has monitored ({data_dir} is there): "
        f"the host stores every event under the band's id, so a new one would split its history. Run again with "
        f"--device-id ID, the id it had ('spasmwatch events' names each event's band){hint}"
    )


def _default_id(device: Device) -> str:
    """``sw-`` and the chip's id (the same on every flash), random where the chip has none (the unix port)."""
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
    dev_id = choose_device_id(device, device_id, firmware.data_dir(firmware_dir))
    images = firmware.compile_all(firmware_dir, arch)
    images += [
        Image(BOARD_FILE, _json_bytes(board), atomic=True),
        Image(DEVICE_FILE, _json_bytes({"device_id": dev_id}), atomic=True),
    ]
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
