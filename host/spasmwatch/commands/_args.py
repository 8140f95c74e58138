"""Option types and checks several subcommands share (argparse names the option in the message and exits 2)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spasmwatch.clock import resolve_local_zone
from spasmwatch.errors import InputError, SpasmwatchError
from spasmwatch.io.rawfile import MAGIC as RAW_MAGIC
from spasmwatch.words import utf8_text


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number from ``low`` (to ``high``). Found by the input audit: 'replay --chunk-rows 0'
    ended in a ValueError traceback, 'evaluate --seeds 0' scored nothing and exited 0, 'evaluate
    --jobs -2' announced '-2 workers', '--seed-start -5' and 'demo --seed -1' blamed 'scenario:
    seed', and 'demo --port 99999' was refused only after the band had been started."""
    span = f"{low} or more" if high is None else f"{low}-{high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or high is not None and value > high:
            raise argparse.ArgumentTypeError(f"expected a whole number, {span}, got {text!r}")
        return value

    return parse


positive_int = whole_number(1)  # counts: rows, seeds, workers
port_number = whole_number(0, 65535)  # 0: any free port


# Files an output never replaces, --force neither, by their first bytes: the family's store and a
# band's raw recording hold what nothing else does. (SQLite's magic is written out, not store._db's
# SQLITE_MAGIC: replay, which takes these options, loads nothing of the store's side: test_layering.)
_KEPT_FILES = ((b"SQLite format 3\x00", "an SQLite database (a spasmwatch store?)"), (RAW_MAGIC, "a raw recording (.swraw)"))


def check_not_kept(out: Path, option: str) -> None:
    """InputError when ``out`` is a store or a raw recording (``_KEPT_FILES``): --force replaces an
    earlier output, never these (found by the hostile-input review: 'export raw X.swraw --csv
    spasmwatch.db --force', a slip of the path, replaced the store with a CSV; 'truth ... -o
    spasmwatch.db --force' with the truth's JSON)."""
    try:
        with open(out, "rb") as f:
            head = f.read(max(len(magic) for magic, _ in _KEPT_FILES))
    except OSError:
        return  # none there (or not readable: the write names it)
    for magic, what in _KEPT_FILES:
        if head.startswith(magic):
            raise InputError(str(out), f"is {what}: never written over, --force neither; choose another {option}")


def add_strict(p: argparse.ArgumentParser) -> None:
    """``--strict`` for a command that reads .swraw files (``commands._rawdamage``): by default a
    damaged chunk or dating record in a file's middle is read past, its samples held as a gap and
    said on stderr; ``--strict`` refuses the file (exit 2), as every such command did before."""
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse a .swraw with a damaged chunk or dating record (a flipped bit, a bad sector) in its middle, "
        "exit 2; by default the damage is read past, its samples held as a gap, and said on stderr",
    )


def zone(name: str | None) -> tzinfo:
    """--tz: the named zone; by default this computer's (``clock.local_zone``, the zone the
    daemon words the family's times in). 'report' and 'export' take it."""
    if not name:
        tz, note = resolve_local_zone()
        if note:  # a TZ or /etc/localtime that names no zone: said once, as the times are then UTC
            print(f"warning: {note}", file=sys.stderr)
        return tz
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a region's folder ('Europe')
        raise SpasmwatchError(f"--tz: unknown time zone {name!r}") from exc


def command_line_by() -> str:
    """Who did it when a command is not told (--by): "command line (pi)", where it came from and the
    login, as the page's "web page" and MQTT's "Home Assistant" say theirs. The login alone read on
    the family's page and phones as "Alarm acknowledged by pi", a shared box's account, not a person
    (scripted night). No login known (a container's uid with no name): "command line"."""
    try:
        return f"command line ({utf8_text(getpass.getuser())})"
    except (OSError, KeyError):  # no LOGNAME/USER and no passwd entry for the uid
        return "command line"
