"""``spasmwatch flash``: install the band firmware on a board over USB."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from spasmwatch import fwbuild
from spasmwatch.errors import SpasmwatchError
from spasmwatch.firstrun import next_step_for
from spasmwatch.flashing.firmware import Image
from spasmwatch.flashing.install import air_name, band_name, check_before_the_band, flash
from spasmwatch.flashing.link import UNIX_PREFIX, DeviceError, open_link, unix_root
from spasmwatch.flashing.sync import Progress
from spasmwatch.hardware import boards


def register(sub: Any) -> None:
    p = sub.add_parser(
        "flash",
        help="install the band firmware on a board over USB (only changed files)",
        description="Compile the firmware with mpy-cross and copy what changed to the band over its raw REPL "
        "(main.py last, everything verified by hashing on the band), together with the board definition "
        "and a device id. MicroPython itself must already be on the board (see docs/flashing.md).",
    )
    p.add_argument(
        "--board",
        metavar="ID",
        help="board id from hardware/boards, or the path of a board definition file, e.g. a new board's"
        " (default: the one already on the band)",
    )
    p.add_argument("--port", help="serial port (default: detect), or unix:DIR for a local unix-port band")
    p.add_argument("--device-id", metavar="ID", help="set the band's id (default: keep the existing one, else derive from the chip)")
    p.add_argument("--firmware", type=Path, metavar="DIR", help="firmware directory (default: firmware/ of this checkout)")
    p.add_argument("--replace-board", action="store_true", help="let --board replace another board already on the band (its /board.json: IMU, pins, axes)")
    p.add_argument("--no-reset", action="store_true", help="do not restart a board afterwards (a watchdog the app armed still resets it within a minute; "
                   "a unix: band runs no app and is not restarted)")
    p.set_defaults(func=run)


class ConsoleProgress(Progress):
    """A bar on a terminal, one line per file otherwise."""

    def __init__(self, out: TextIO, port: str) -> None:
        self.out = out
        self.port = port
        self.tty = out.isatty()
        self.total = 0
        self.done_bytes = 0
        self.index = 0
        self.count = 0
        self.name = ""
        self.board_id = ""

    def start(self, board_id: str) -> None:
        # Said in plan(): the room check, after the compile, may still refuse the flash (which then
        # prints only the compile line and why, docs/flashing.md).
        self.board_id = board_id

    def compile(self, modules: int, arch: str) -> None:
        self._line(f"compiling {modules} modules for {arch} (mpy-cross)")

    def _line(self, text: str) -> None:
        """A line said before a step that takes seconds: flushed, or a pipe holds it until the flash ends."""
        self.out.write(text + "\n")
        self.out.flush()

    def plan(self, to_write: Sequence[Image], unchanged: int, to_remove: Sequence[str]) -> None:
        self.total = sum(len(im.data) for im in to_write)
        self.count = len(to_write)
        if not to_write and not to_remove:
            # One line, not 'flashing BOARD on PORT' then 'band is up to date' (until 2026-12-07): a
            # flash announced, then none, read as if the flash had brought the band up to date.
            self.out.write(f"{self.board_id} on {self.port} is up to date ({unchanged} files unchanged): nothing to write\n")
            return
        self.out.write(f"flashing {self.board_id} on {self.port}\n")
        self.out.write(
            f"writing {self.count} file(s), {self.total / 1024:.1f} KB; {unchanged} unchanged; "
            f"{len(to_remove)} to remove\n"
        )

    def file(self, image: Image) -> None:
        self.index += 1
        self.name = image.path
        if not self.tty:
            self.out.write(f"  [{self.index}/{self.count}] {image.path} ({len(image.data)} B)\n")
        self._draw()

    def bytes(self, n: int) -> None:
        self.done_bytes += n
        self._draw()

    def _draw(self) -> None:
        if not self.tty or not self.total:
            return
        width = 30
        frac = min(1.0, self.done_bytes / self.total)
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        self.out.write(f"\r  [{bar}] {frac:4.0%} {self.index}/{self.count} {self.name[:40]:<40}")
        self.out.flush()

    def done(self) -> None:
        if self.tty and self.total:
            self.out.write("\n")


def run(args: argparse.Namespace) -> int:
    if args.replace_board and not args.board:
        # Without --board the flash keeps the board the band holds: there is nothing to replace it
        # with, and the option was ignored without a word (found by an audit).
        raise DeviceError(
            "--replace-board: only with --board, the board to put in place of the one the band holds "
            "(without --board the flash keeps the band's own board)"
        )
    root = boards.repo_root()
    firmware_dir: Path = args.firmware or root / "firmware"
    board = boards.load(args.board, root) if args.board else None
    prefer = (board["usb"]["vid"], board["usb"]["pid"]) if board else None
    if args.port is not None and args.port.startswith(UNIX_PREFIX) and unix_root(args.port).resolve() == firmware_dir.resolve():
        # The flash removes every band/ and swcore/ .py there (they would shadow the new .mpy): the sources.
        raise DeviceError(
            f"{args.port} is the firmware being flashed ({firmware_dir}): the flash would replace its band/ and "
            "swcore/ sources with .mpy files; give the band a directory of its own, e.g. --port unix:/tmp/band"
        )
    check_before_the_band(firmware_dir, args.device_id)  # before the port: a unix: band's directory is made there
    link = open_link(args.port, prefer)
    out = sys.stdout
    try:
        # board None: the one the band holds (flash reads its /board.json)
        result = flash(
            link, board, firmware_dir, args.device_id, ConsoleProgress(out, link.name), reset=not args.no_reset, replace_board=args.replace_board
        )
    # Refused (another board, a damaged file, a version), failed, or Ctrl-C (while it compiled, the
    # band's app stopped: it sat at the REPL until the watchdog reset it, up to a minute later).
    except (SpasmwatchError, KeyboardInterrupt):
        if not args.no_reset:
            link.restart()
        raise
    finally:
        link.close()
    r = result.report
    out.write(
        f"done: MicroPython {result.info.version_str} ({result.arch}), firmware {fwbuild.revision(result.firmware_version, result.build)}, "
        f"device id {result.device_id}; {len(r.written)} written, {len(r.removed)} removed, "
        f"{len(r.unchanged)} unchanged, all verified\n"
    )
    out.write(said_after(result.device_id, link.name, link.simulated, result.restarted) + "\n")
    restart = restart_first()
    if restart is not None:
        out.write(restart + "\n")
    return 0


# Why a daemon started before the band's new name (2026-12-07, docs/firmware.md "Threat model" 3) must
# be restarted once the band is flashed: it matches the advertised name alone, and never finds band-XXXX.
OLD_NAME_LOST = "One started before 2026-12-07 does not find a band of this firmware, which it looks for by its old name (spasmwatch-XXXX)."


def restart_first() -> str | None:
    """What the flash says when the daemon of the default config runs other code than is installed
    ('status''s words, a daemon from before its code too): the family flashes after an upgrade, and
    a daemon not restarted since looks for the band by a name it no longer has (until review h47 the
    flash said nothing, and the band was lost to it until a restart). None when no daemon answers."""
    from spasmwatch.commands._daemon import api
    from spasmwatch.commands.service import systemctl_for
    from spasmwatch.commands.status import code_lines
    from spasmwatch.config import default_config_path, load_config
    from spasmwatch.firstrun import restart_command

    path = default_config_path()
    try:
        st = api(load_config(path), "/api/status")
    except SpasmwatchError:  # no daemon, a config that does not load (its own commands say so)
        return None
    said = code_lines(st, restart_command(systemctl_for(path)))
    return f"{said[0]} {OLD_NAME_LOST}" if said else None


def said_after(device_id: str, target: str, simulated: bool, restarted: bool) -> str:
    """The step after the flash (docs/flashing.md), as true of the target: a board reaches the daemon over
    Bluetooth by the name its id gives, once its new app runs; a unix: band is a directory of files."""
    name = band_name(device_id)
    if simulated:  # the unix-port process ended with the flash: nothing runs there, nothing advertises
        return (
            f"{target} holds the installed files only: no app runs there and nothing advertises (a board with device id "
            f"{device_id} is {name}, advertised as {air_name(device_id)}); 'spasmwatch board info --port {target}' reads them back; a simulated band "
            "the daemon connects to: 'spasmwatch demo'"
        )
    advertises = (
        f"the band is {name} over Bluetooth (advertised as {air_name(device_id)}; 'spasmwatch scan' lists it in range); "
        f"for the daemon: {next_step_for(name, 'ble')}"
    )
    # --no-reset, or a restart that failed (its warning said so): the band sits at the REPL, silent on the radio
    return advertises if restarted else f"once restarted (unplug it and plug it in: the flash did not restart it), {advertises}"
