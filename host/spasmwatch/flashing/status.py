"""``spasmwatch board info``: what a band over USB has installed and how it is doing.

Reads the files ``flash`` wrote (manifest, board and device id), re-hashes
the installed files on the band, judges whether its build id is the one this
computer would flash (fwbuild.py, as the daemon does over Bluetooth) and, when not, whether it
is older or newer (fwhistory.py: the firmware directory's git history), and opens
the event log with the band's own ``band.eventlog`` code (read-only: the log
is recovered, never appended to).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spasmwatch import fwbuild
from spasmwatch.fwhistory import firmware_age, refused
from spasmwatch.flashing.device import TMP_SUFFIX, Device
from spasmwatch.flashing import firmware
from spasmwatch.flashing.firmware import constant
from spasmwatch.flashing.install import BOARD_FILE, DEVICE_FILE, DEVICE_ID, BandValue, read_value
from spasmwatch.flashing.link import DeviceError, Link
from spasmwatch.flashing.sync import MAIN, read_manifest

CRASH_NAME = "crash.txt"  # in the band's data directory (firmware/main.py)

_LOG = """
import json, os
_have = False
for _n in ('/events', '/events.log'):  # the log's folder, or the one-file ring of firmware before 2026-12-06
    try:
        os.stat(_R + _P[0] + _n)
        _have = True
    except OSError:
        pass
if not _have:
    print(json.dumps({'log': None}))
else:
    from band.storage import Storage
    from band.eventlog import EventLog
    _l = EventLog(Storage(_R + _P[0]), _SLOTS)
    print(json.dumps({'log': {'next_seq': _l.next_seq, 'oldest_seq': _l.oldest_seq, 'torn': _l.torn,
        'fill_pct': _l.fill_pct(), 'wrapped': _l.wrapped, 'capacity': _l.capacity}}))
    _l.close()
"""


def read_status(link: Link, firmware_dir: Path) -> dict[str, Any]:
    data_dir = firmware.data_dir(firmware_dir)
    device = Device(link)
    info = device.info()
    manifest, manifest_problem = read_manifest(device)
    found_board = read_value(device, BOARD_FILE, "id", "board")
    found_ident = read_value(device, DEVICE_FILE, "device_id", "device_id", DEVICE_ID)
    board = found_board.doc or {}
    out: dict[str, Any] = {
        "port": link.name,
        "micropython": info.version_str,
        "mpy": info.mpy_version,
        "arch": info.arch,
        "machine": info.machine,
        "fs_total": info.fs_total,
        "fs_free": info.fs_free,
        "mem_free": info.mem_free,
        "board": found_board.value,
        "board_name": board.get("name"),
        "board_problem": found_board.problem,  # a damaged /board.json: what is wrong with it
        "device_id": found_ident.value,
        "device_id_problem": found_ident.problem,
        "manifest_problem": manifest_problem,  # a damaged manifest: the installed files cannot be checked
        "firmware": None,
        "build": None,  # the build id in the manifest's firmware revision, as the band reports it
        "this_build": fwbuild.tree_build(firmware_dir),  # what 'spasmwatch flash --firmware DIR' would write
        "firmware_ours": None,  # whether those are the same; None: no firmware installed, or no tree to judge by
        "firmware_age": None,  # not ours: "older" or "newer" by the tree's git history (fwhistory.py); None: not told
        "git_refused": None,  # age not told as git refuses the checkout (another owner): git's fix (fwhistory.refused)
        "files": 0,
        "files_bad": [],
        "log": None,
        "log_error": None,
        "crash": None,
        "incomplete": False,
    }
    out.update(_installed(device, manifest, (found_board, found_ident)))
    if out["firmware"] is not None and out["this_build"] is not None:
        out["firmware_ours"] = out["build"] == out["this_build"]
        if not out["firmware_ours"]:
            age = firmware_age(firmware_dir, out["build"])
            out["firmware_age"], out["git_refused"] = age, refused(firmware_dir) if age is None else None
    # Read also without a good manifest (a damaged one, a flash cut short): the band's events are there all the same.
    out["log"], out["log_error"] = _log(device, board, firmware_dir, data_dir)
    crash = device.read(f"{data_dir}/{CRASH_NAME}")
    if crash:
        out["crash"] = crash.decode("utf-8", "replace").strip().splitlines()[-1][:200]
    return out


def _installed(device: Device, manifest: dict[str, Any] | None, found: tuple[BandValue, BandValue]) -> dict[str, Any]:
    """With a manifest: the firmware it names and the files whose hash differs from it. Without:
    whether a flash was cut short (``incomplete``)."""
    if manifest is not None:
        files: dict[str, str] = manifest["files"]
        got = device.hashes(files)
        revision = manifest.get("firmware")
        return {
            "firmware": revision,
            # From the revision, not the manifest's "build": a flash from before build ids wrote neither.
            "build": fwbuild.build_of(revision) if isinstance(revision, str) else None,
            "written_at": manifest.get("written_at"),
            "files": len(files),
            "files_bad": sorted(p for p, h in files.items() if got.get(p) != h),
        }
    # A flash removes main.py and the manifest first and writes them last: our files (even damaged
    # ones, or only the temporary file of one, cut before its rename) without either are a flash
    # cut short, and the band boots to the REPL.
    temps = [p + TMP_SUFFIX for p in (BOARD_FILE, DEVICE_FILE)]
    got = device.hashes([MAIN, *temps])
    if got[MAIN] is not None:
        return {"incomplete": False}
    ours = any(f.value is not None or f.problem is not None for f in found) or any(got[t] is not None for t in temps)
    # The firmware's packages too: files go in path order, so a first flash cut among the /band/
    # modules leaves no /board.json or /device.json yet (was "not installed by spasmwatch flash", exit 0).
    return {"incomplete": ours or any(device.exists("/" + pkg) for pkg in fwbuild.PACKAGES)}


def _log(device: Device, board: dict[str, Any], firmware_dir: Path, data_dir: str) -> tuple[Any, str | None]:
    """The band's event log as its own code recovers it (the board's log_slots, else the
    firmware's LOG_SLOTS), or the error that stopped the reading."""
    slots = board.get("log_slots")
    if not isinstance(slots, int):
        slots = constant(firmware_dir, "band/app.py", "LOG_SLOTS")
    program = f"_SLOTS = {slots!r}\n" + _LOG
    try:
        # Recovery reads every slot once: allow a slow board a minute.
        return device.run_json(program, [data_dir], timeout_s=60)["log"], None
    except DeviceError as exc:  # e.g. a damaged band/eventlog.mpy, or none: report, keep going
        return None, str(exc)

