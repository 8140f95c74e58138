"""``spasmwatch board``: supported boards, their power budget, and a band's status over USB (``board info``)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from spasmwatch.errors import SpasmwatchError
from spasmwatch.flashing import firmware
from spasmwatch.flashing.device import Device, FlashWarning
from spasmwatch.flashing.link import UNIX_PREFIX, DeviceError, open_link
from spasmwatch.flashing.status import read_status
from spasmwatch.hardware import boards, power


def _band_on_usb(p: Any) -> None:
    """The options of an action that reads a band on USB."""
    p.add_argument("--port", help="serial port (default: detect), or unix:DIR for a local unix-port band")
    p.add_argument("--firmware", type=Path, metavar="DIR", help="firmware directory (default: firmware/ of this checkout)")


def register(sub: Any) -> None:
    p = sub.add_parser("board", help="supported boards, power budget, and a band's status over USB (board info)", description=__doc__)
    bsub = p.add_subparsers(dest="board_command", metavar="ACTION", required=True)
    info = bsub.add_parser("info", help="read version, ids, flash use and event-log fill from a band over USB",
                           description="Read a band on USB: MicroPython version, board and device id, firmware version and "
                           "whether every installed file is intact, its build id and whether it is the firmware this "
                           "computer would flash (--firmware DIR's), free flash, the event log's fill and the last crash; "
                           "then restart a board (its app was stopped to be read; a unix: band runs no app and is not "
                           "restarted). Exit 1 when a file was changed, a flash was cut short, or /board.json, "
                           "/device.json or the manifest is damaged (docs/flashing.md, 'Checking a band').")  # fmt: skip
    _band_on_usb(info)
    info.add_argument("--json", action="store_true", help="one JSON object")
    info.add_argument("--no-reset", action="store_true", help="leave a board at the REPL instead of restarting it")
    info.set_defaults(func=run_info)
    forget = bsub.add_parser("forget-bonds", help="remove every bond the band keeps, over USB (then pair again)",
                             description="Remove the bond keys of every phone and computer bonded to a band on USB (its "
                             "bonds.json), this computer's too, then restart it: with no bond it pairs the next central "
                             "that asks, so the daemon (or 'spasmwatch bonds') pairs again at once, before anyone "
                             "else can. Over Bluetooth, 'spasmwatch bonds --revoke-others' removes all but this "
                             "computer's (docs/firmware.md, 'Threat model').")  # fmt: skip
    _band_on_usb(forget)
    forget.set_defaults(func=run_forget_bonds)
    lst = bsub.add_parser("list", help="the supported boards (hardware/boards)",
                          description="A line naming the columns, then one line per board definition in hardware/boards: its id "
                          "(for 'spasmwatch flash --board'), MCU, IMU and its I2C address, battery, and name.")  # fmt: skip
    lst.set_defaults(func=run_list)
    pw = bsub.add_parser("power", help="power budget and runtime of each board, from its definition",
                         description="The current each part draws and the runtime on a charge, per board and power mode, "
                         "computed from the 'power' section of each definition (the model: hardware/README.md, 'Power "
                         "budget').")  # fmt: skip
    pw.set_defaults(func=run_power)


def run_list(args: argparse.Namespace) -> int:
    _list_row("id", "mcu", "imu@i2c", "battery", "name")  # the columns named (they were not until 2026-12-07)
    for bid in boards.board_ids():
        b = boards.load(bid)
        imu = b["imu"]
        batt = f"{b['battery']['capacity_mah']} mAh" if b["battery"] else "no battery"
        _list_row(bid, b["mcu"], f"{imu['part']}@0x{imu['i2c_address']:02x}", batt, b["name"])
    return 0


def _list_row(bid: str, mcu: str, part: str, batt: str, name: str) -> None:
    print(f"{bid:24} {mcu:8} {part:15} {batt:12} {name}")


def run_power(args: argparse.Namespace) -> int:
    sys.stdout.write(power.markdown(power.all_budgets()))
    return 0


def flash_size(n: int) -> str:
    """Bytes of a file system in KB (a band's: as 'no room' counts its 4 KB blocks), MB from 10 MB,
    GB from 10 GB (a unix: band's is the host's disk: it read '233301 MB')."""
    for unit, scale in (("KB", 1024), ("MB", 1024**2)):
        if n < 10 * 1024 * scale:
            return f"{n / scale:.0f} {unit}"
    return f"{n / 1024**3:.0f} GB"


def run_info(args: argparse.Namespace) -> int:
    firmware_dir: Path = args.firmware or boards.repo_root() / "firmware"
    firmware.data_dir(firmware_dir)  # --firmware checked before the port: a unix: band's directory is made there
    link = open_link(args.port)
    try:
        st = read_status(link, firmware_dir)
    except (SpasmwatchError, KeyboardInterrupt):  # failed, or Ctrl-C
        if not args.no_reset:
            link.restart()  # the band's app was stopped to read it: back to monitoring, as below
        raise
    else:
        if not args.no_reset:
            try:
                link.reset()  # back to monitoring: the band must not sit at the REPL
            except DeviceError as exc:  # what was read stands: said, then shown
                warnings.warn(f"{exc}; unplug the band and plug it in so that it monitors", FlashWarning, stacklevel=1)
    finally:
        link.close()
    if args.json:
        print(json.dumps(st, sort_keys=True))
        return 1 if _failed(st) else 0  # as without --json (docs/flashing.md)
    rows = [
        ("band", st["port"]),
        ("micropython", f"{st['micropython']} (mpy {st['mpy']}, {st['arch']}, {st['machine']})"),
        ("board", f"{st['board']} ({st['board_name']})" if st["board"] else _damaged(st["board_problem"]) or "none: run spasmwatch flash --board ID"),
        ("device id", st["device_id"] or _damaged(st["device_id_problem"]) or "none"),
    ]
    if st["firmware"]:
        state = "all intact" if not st["files_bad"] else f"{len(st['files_bad'])} changed: {', '.join(st['files_bad'][:3])}"
        rows.append(("firmware", f"{st['firmware']}, {st['files']} files, {state}, written {st['written_at']}"))
        rows.append(("build", _build(st)))
    elif st["incomplete"]:
        rows.append(("firmware", "incomplete: a flash was cut short (no /main.py): the band does not monitor; run 'spasmwatch flash' again"))
    elif st["manifest_problem"]:
        rows.append(("firmware", "unknown: the record of what was installed is damaged (manifest, below), so the files cannot be checked"))
    else:
        rows.append(("firmware", "not installed by spasmwatch flash"))
    if st["manifest_problem"]:
        rows.append(("manifest", _damaged(st["manifest_problem"])))
    disk = f" (the disk holding {st['port']}: a unix: band has no flash of its own)" if st["port"].startswith(UNIX_PREFIX) else ""
    rows.append(("flash", f"{flash_size(st['fs_free'])} free of {flash_size(st['fs_total'])}{disk}"))
    log = st["log"]
    if st["log_error"]:
        rows.append(("event log", f"unreadable ({st['log_error']})"))
    elif log is None:
        rows.append(("event log", "empty (no events logged yet)"))
    else:
        n = log["next_seq"] - log["oldest_seq"]
        wrapped = ", oldest overwritten" if log["wrapped"] else ""
        rows.append(("event log", f"{n} events (seq {log['oldest_seq']}..{log['next_seq'] - 1}), {log['fill_pct']}% of {log['capacity']}{wrapped}, {log['torn']} torn"))
    rows.append(("last crash", st["crash"] or "none"))
    for key, value in rows:
        print(f"{key:12} {value}")
    return 1 if _failed(st) else 0


def run_forget_bonds(args: argparse.Namespace) -> int:
    """Remove the band's bonds.json (and a write of it cut short), then restart the band: it reads its
    bonds at start-up, and with none its pairing window stays open until one central bonds."""
    firmware_dir: Path = args.firmware or boards.repo_root() / "firmware"
    path = f"{firmware.data_dir(firmware_dir)}/bonds.json"
    link = open_link(args.port)
    try:
        device = Device(link)
        raw = device.read(path)
        device.remove([path, path + ".tmp"])
    except (SpasmwatchError, KeyboardInterrupt):
        link.restart()  # its app was stopped to reach its files: back to monitoring
        raise
    else:
        try:
            link.reset()  # it reads its bonds as it starts
        except DeviceError as exc:  # removed all the same: said, then how to restart it
            warnings.warn(f"{exc}; unplug the band and plug it in so that it starts without them", FlashWarning, stacklevel=1)
    finally:
        link.close()
    if raw is None:
        print(f"{link.name}: no bonds to remove (no {path})")
        return 0
    try:
        n = len({key for _, key, _ in json.loads(raw)})
    except (ValueError, TypeError):
        n = 0  # unreadable: the band had ignored it (band/bonds.py) and kept no bond
    print(f"{link.name}: removed the bonds of {n} phone(s) or computer(s). It pairs the next one that asks, so let it be "
          "this computer: remove the band from its Bluetooth devices (its key is gone from the band: 'bluetoothctl "
          "remove' and the band's address), then start the daemon or run 'spasmwatch bonds'")  # fmt: skip
    return 0


def _failed(st: dict[str, Any]) -> bool:
    """A band that does not monitor as flashed, or cannot be checked: a changed file, a flash cut short,
    a damaged board, device or manifest file."""
    return bool(st["files_bad"] or st["incomplete"] or st["board_problem"] or st["device_id_problem"] or st["manifest_problem"])


def _build(st: dict[str, Any]) -> str:
    """The band's build id, and whether it is the firmware this computer would flash (fwbuild.py)."""
    band = st["build"] or "none (flashed by a spasmwatch from before build ids)"
    if st["firmware_ours"] is None:  # no firmware tree to judge by (--firmware DIR not readable whole)
        return f"{band}: this computer's firmware unknown (no whole firmware tree)"
    if st["firmware_ours"]:
        return f"{band}: the firmware this computer would flash"
    if st["firmware_age"] == "newer":  # flashed from a newer checkout: a flash from here would take it back
        return f"{band}: newer than this computer's ({st['this_build']}): update this computer's spasmwatch (git pull, make install) rather than flash it"
    if st["git_refused"]:  # whether it is newer is not known: flashing it may take it back
        return (f"{band}: not this computer's ({st['this_build']}): flash it, unless it came from a newer checkout: git "
                f"refuses to read this one (owned by another user), so older or newer is not told; to let it, run as "
                f"this user: {st['git_refused']}")  # fmt: skip
    return f"{band}: not this computer's ({st['this_build']}): flash it"


def _damaged(problem: str | None) -> str | None:
    return f"damaged: {problem}; run 'spasmwatch flash' again (docs/flashing.md)" if problem else None
