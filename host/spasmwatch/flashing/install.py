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

from swcore import protocol as P

from spasmwatch import __version__, fwbuild
from spasmwatch.flashing import firmware
from spasmwatch.flashing.device import Device, DeviceInfo, FlashWarning
from spasmwatch.flashing.firmware import Image
from spasmwatch.flashing.link import DeviceError, Link
from spasmwatch.flashing.sync import MANIFEST, Progress, SyncReport, read_manifest, sync
from spasmwatch.hardware import boards
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
    build: str  # the build id written (fwbuild.py): the band reports firmware_version+build
    restarted: bool = False  # a board's reset went through: its new app runs (not --no-reset, not a unix: band)


@dataclass(frozen=True)
class BandValue:
    """A field of one of the flash's own files (/board.json, /device.json) as the band holds it."""

    value: str | None  # None: the file is missing or damaged
    problem: str | None = None  # what is wrong with a damaged file ("/board.json on the band is empty (0 bytes)")
    recorded: str | None = None  # the value the last complete flash wrote, from its manifest (None if no manifest)
    record_problem: str | None = None  # what is wrong with the manifest, when it was needed and is damaged
    doc: dict[str, Any] | None = None  # the whole file, when ``value`` is good

    def no_record(self, what: str) -> str:
        """Why the manifest cannot stand in for the file ("no complete flash recorded the board")."""
        if self.record_problem is None:
            return f"no complete flash recorded {what}"
        return f"the band's manifest, which records {what}, is damaged ({self.record_problem})"


def read_value(device: Device, path: str, field: str, manifest_key: str, pattern: re.Pattern[str] | None = None) -> BandValue:
    """``field`` of the JSON object in ``path`` on the band, or what is wrong with the file (and then
    ``manifest_key`` of the manifest, the value the last complete flash wrote there, or what is wrong with it).

    A file cut short (by a flash of an earlier spasmwatch, which wrote it in place) or damaged is
    reported as such, never taken for a missing one.
    """
    doc, problem = device.read_object(path)
    if doc is not None:
        problem = _field_problem(doc, path, field, pattern)
        if problem is None:
            return BandValue(str(doc[field]), doc=doc)
    # sync removes the manifest first and writes it last, after verifying every file: it names what the band held.
    manifest, record_problem = read_manifest(device)
    if manifest is not None:
        record_problem = _field_problem(manifest, MANIFEST, manifest_key, pattern)  # every flash writes both fields
        if record_problem is None:
            return BandValue(None, problem, str(manifest[manifest_key]))
    return BandValue(None, problem, record_problem=record_problem)


def _field_problem(doc: dict[str, Any], path: str, field: str, pattern: re.Pattern[str] | None) -> str | None:
    value = doc.get(field)
    if field not in doc:
        return f'{path} on the band has no "{field}" field'
    if not (isinstance(value, str) and value and (pattern is None or pattern.match(value))):
        return f'{path} on the band has "{field}": {json.dumps(value)}, which is not a valid {field}'
    return None


def board_on_band(found: BandValue, known: Sequence[str]) -> str:
    """The board the band holds (for a flash without --board): its /board.json (``found``), else the manifest's record."""
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
    if found.problem is None and found.record_problem is None:
        raise DeviceError(f"which board is this? {choices}")
    problem = found.problem or f"{BOARD_FILE} is missing on the band"
    raise DeviceError(f"which board is this? {problem}, and {found.no_record('the board')}: {choices}; the flash writes it afresh")


def check_board(found: BandValue, board: Board, replace: bool) -> None:
    """Refuse to put ``board`` on a band that holds another board (``found``, its /board.json), unless ``replace``.

    The chip check cannot tell two boards with the same chip apart (an ESP32-S3 XIAO
    and an AtomS3): replacing the definition silently would give the band the wrong
    IMU part, pins and axis map, and it would sense nothing, or the wrong axes.
    A damaged /board.json is judged by the manifest's record of the board instead; with
    no record (a first flash cut short, or a damaged manifest) it is replaced, saying so.
    """
    want = str(board["id"])
    held = found.value if found.value is not None else found.recorded
    problem = found.problem or f"{BOARD_FILE} is missing on the band"
    if held is not None and held != want and not replace:
        says = f"its {BOARD_FILE}" if found.value is not None else f"{problem}; its last complete flash installed it ({MANIFEST})"
        raise DeviceError(
            f"the band holds board {held} ({says}), not {want}: flashing would replace its IMU, "
            f"pins and axis map. To update the band as it is, leave out --board (or give --board {held}); "
            f"if it really is a {want} (new hardware, or flashed with the wrong board before), "
            f"run again with --replace-board"
        )
    if found.value is None and held == want:  # a damaged or missing file; the manifest names this board
        warnings.warn(
            f"{problem}; writing it afresh for board {want}, the board the band's last complete flash installed ({MANIFEST})",
            FlashWarning, stacklevel=2,
        )  # fmt: skip
    elif found.problem is not None or (held is None and found.record_problem is not None):
        unknown = "" if held is not None else (
            f" ({found.no_record('another board' if found.record_problem is None else 'the board')}: if the band is not a {want}, "
            "flash it again with its own --board and --replace-board)"
        )
        warnings.warn(f"{problem}; writing board {want}'s definition in its place{unknown}", FlashWarning, stacklevel=2)


def band_name(device_id: str) -> str:
    """The family's name for the band with this id (swcore is MicroPython code, unannotated)."""
    return str(P.band_name(device_id))  # type: ignore[no-untyped-call]


def air_name(device_id: str) -> str:
    """The neutral name the band with this id advertises (docs/firmware.md, "Threat model")."""
    return str(P.air_name(device_id))  # type: ignore[no-untyped-call]


def choose_device_id(device: Device, requested: str | None, data_dir: str) -> str:
    """Keep the band's id across flashes (the host stores every event under it); else derive one.

    A missing or damaged /device.json never gives a band that has monitored a new id silently:
    the manifest's record restores it; without one the flash is refused unless --device-id names it.
    Only a band that never ran the app (no data directory: a first flash cut short) gets a new id.
    """
    found = read_value(device, DEVICE_FILE, "device_id", "device_id", DEVICE_ID)
    if requested is not None:
        check_device_id(requested)
        if found.problem is not None:
            warnings.warn(f"{found.problem}; writing device id {requested} in its place", FlashWarning, stacklevel=2)
        elif found.value is not None and found.value != requested and device.exists(data_dir):
            # Asked for, so done; but said: the host stores every event under the id, and the band's
            # name (the config's [[bands]] name) comes from it. A typo here was a new band, silently.
            warnings.warn(
                f"the band's device id {found.value} becomes {requested}: its events are stored under {requested} from now "
                f"on, apart from those under {found.value}, and its name is {band_name(requested)}, not "
                f"{band_name(found.value)} (to keep its id: --device-id {found.value})",
                FlashWarning, stacklevel=2,
            )  # fmt: skip
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
        if found.problem is not None or found.record_problem is not None:
            unrecorded = "" if found.record_problem is None else f", and {found.no_record('its id')}"
            warnings.warn(
                f"{problem}{unrecorded}; the band never ran the app (no {data_dir}), so it gets the device id {default}",
                FlashWarning, stacklevel=2,
            )  # fmt: skip
        return default  # a first flash (or one cut short before the app ever ran)
    uid = device.unique_id()
    unrecorded = found.no_record("the band's id")
    hint = f" (its default id, if it was never set with --device-id, is sw-{uid})" if uid else ""
    raise DeviceError(
        f"{problem}, and {unrecorded}, but the band has monitored ({data_dir} is there): "
        f"the host stores every event under the band's id, so a new one would split its history. Run again with "
        f"--device-id ID, the id it had ('spasmwatch events' names each event's band){hint}"
    )


def check_device_id(requested: str) -> None:
    if not DEVICE_ID.match(requested):
        raise DeviceError(f"device id {requested!r}: use 3-40 letters, digits, '.', '_' or '-'")


def check_before_the_band(firmware_dir: Path, device_id: str | None) -> None:
    """What ``flash`` checks that needs no band: the firmware directory, --device-id's form and
    mpy-cross. Run before the port is opened (found by an audit: '--port unix:DIR' made DIR, and a
    USB band was stopped, for a flash then refused for a --firmware that is not there)."""
    firmware.firmware_version(firmware_dir)
    firmware.sources(firmware_dir)
    firmware.data_dir(firmware_dir)
    if device_id is not None:
        check_device_id(device_id)
    firmware.mpy_cross_version()


def _default_id(device: Device) -> str:
    """``sw-`` and the chip's id (the same on every flash), random where the chip has none (the unix port)."""
    uid = device.unique_id()
    return "sw-" + (uid if uid else secrets.token_hex(6))


def _json_bytes(doc: object) -> bytes:
    return (json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n").encode()


def flash(
    link: Link,
    board: Board | None,
    firmware_dir: Path,
    device_id: str | None = None,
    progress: Progress | None = None,
    reset: bool = True,
    replace_board: bool = False,
) -> FlashResult:
    """Install the firmware in ``firmware_dir`` on the band, as ``board`` (None: the board the band holds)."""
    progress = progress or Progress()
    device = Device(link)
    info = device.info()
    found = read_value(device, BOARD_FILE, "id", "board")  # read once: it both names and checks the board
    if board is None:
        board = boards.load(board_on_band(found, boards.board_ids()))
    arch = firmware.check_compatible(info, board, link.simulated, firmware.mpy_cross_version())
    check_board(found, board, replace_board)
    version = firmware.firmware_version(firmware_dir)
    sources = firmware.sources(firmware_dir)  # every module the firmware imports is there: refused before anything is written
    build = fwbuild.build_id(sources)
    dev_id = choose_device_id(device, device_id, firmware.data_dir(firmware_dir))
    progress.start(str(board["id"]))  # every check but the room (sync's, once compiled) passed
    progress.compile(sum(1 for _, rel in sources if rel not in firmware.KEEP_SOURCE), arch)
    images = firmware.compile_all(firmware_dir, arch, build)
    images += [
        Image(BOARD_FILE, _json_bytes(board), atomic=True),
        Image(DEVICE_FILE, _json_bytes({"device_id": dev_id}), atomic=True),
    ]
    meta: dict[str, object] = {
        "board": board["id"],
        "device_id": dev_id,
        "firmware": fwbuild.revision(version, build),  # as the band reports it ('board info' says it)
        "build": build,
        "mpy": info.mpy_version,
        "arch": arch,
        "tool": f"spasmwatch {__version__}",
    }
    report = sync(device, images, meta, progress)
    restarted = False
    if reset:
        try:
            link.reset()
            restarted = not link.simulated  # the unix port has nothing to restart
        except DeviceError as exc:  # installed and verified all the same: not a failed flash
            warnings.warn(
                f"{exc}; the firmware is installed and verified: the band starts it at its next reset or power-on "
                "(unplug it and plug it in)",
                FlashWarning, stacklevel=2,
            )  # fmt: skip
    return FlashResult(info, arch, dev_id, version, report, build, restarted)
