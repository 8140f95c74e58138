"""A band boot's raw recording as parts: ``<device>-boot<N>-<part:03d>.swraw``, cut at local noon.

A band charged without a reboot runs one boot for weeks; its raw was one file of GBs that the
pruning (``rawkeep.RawPruner``) kept whole until its last sample was old. A part ends where its
samples reach the next boundary (RAW_FILE_START_HOUR local, every RAW_FILE_SPAN_S): by the
samples' index and the boot's dating (``RawDating``: the open part's dating records, measured by
the host at the band's real rate, else its header's nominal ``wall_start_s`` of ``index_origin``),
not by when they arrive, so samples that come late after a reconnect or a restart still land in
the part their time belongs to while it is the open one. A part's header dates its own first
index (at the nominal rate from the boot's first header, so the parts' headers stay one dating,
which ``io.rawboot`` checks) and its first dating record dates that index as measured, so one
part replays alone with its own wall times.

Files named ``<device>-boot<N>.swraw`` (before parts) are the boot's first part: continued until
their samples reach a boundary, then followed by numbered parts.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from spasmwatch.daemon import consts as K
from spasmwatch.errors import InputError
from spasmwatch.io.rawfile import RawDating, RawHeader, RawReader

assert 86400 % K.RAW_FILE_SPAN_S == 0 and 0 <= K.RAW_FILE_START_HOUR < 24


def part_path(folder: Path, device: str, boot: int, part: int) -> Path:
    return folder / f"{device}-boot{boot}-{part:03d}.swraw"


def legacy_path(folder: Path, device: str, boot: int) -> Path:
    """The one file of a boot as the daemon named it before parts."""
    return folder / f"{device}-boot{boot}.swraw"


@dataclass(frozen=True)
class Part:
    path: Path
    number: int  # -1: the boot's file from before parts


def boot_parts(folder: Path, device: str, boot: int) -> list[Part]:
    """The boot's files on disk, the old-named one first, then by part number."""
    pattern = re.compile(re.escape(f"{device}-boot{boot}-") + r"(\d{3,})\.swraw")
    try:
        with os.scandir(folder) as it:
            found = [Part(Path(e.path), int(m[1])) for e in it if (m := pattern.fullmatch(e.name))]
    except FileNotFoundError:
        found = []
    old = legacy_path(folder, device, boot)
    return ([Part(old, -1)] if os.path.lexists(old) else []) + sorted(found, key=lambda p: p.number)


def index_at(d: RawDating, wall_s: float) -> int:
    """The first sample index at or after wall time ``wall_s``."""
    base = d.header.index_origin
    return base + math.ceil(round(d.index_at(wall_s) - base, 6))


def boundaries(wall_s: float, zone: dt.tzinfo) -> tuple[float, float]:
    """The part boundaries (unix s) around ``wall_s``: the latest at or before it and the next
    after it, in local time of ``zone`` (a day of a daylight-saving change has a 23 or 25 h part)."""
    t = dt.datetime.fromtimestamp(wall_s, zone)
    day = dt.datetime.combine(t.date(), dt.time(K.RAW_FILE_START_HOUR), tzinfo=zone)
    if day.timestamp() > wall_s:
        day = dt.datetime.combine(t.date() - dt.timedelta(days=1), dt.time(K.RAW_FILE_START_HOUR), tzinfo=zone)
    step = dt.timedelta(seconds=K.RAW_FILE_SPAN_S)
    start = day
    while (start + step).timestamp() <= wall_s:  # wall-clock steps: (naive arithmetic on local time)
        start += step
    return start.timestamp(), (start + step).timestamp()


def part_span(d: RawDating, index: int, zone: dt.tzinfo) -> tuple[int, int]:
    """The indexes [first, end) of the part holding sample ``index``: the first index at or after
    each boundary, so a sample belongs to one part whichever way its wall time's float rounds."""
    b0, b1 = boundaries(d.wall_at(index), zone)
    if index_at(d, b1) <= index:  # dated a hair before the boundary it is the first sample of
        b0, b1 = b1, boundaries(b1, zone)[1]
    elif index_at(d, b0) > index:  # dated a hair after the boundary whose index is its next one
        b0, b1 = boundaries(b0 - 1.0, zone)[0], b0
    return index_at(d, b0), index_at(d, b1)


def part_end(d: RawDating, next_index: int, zone: dt.tzinfo) -> int:
    """The index after the part holding ``next_index - 1`` (its last sample; its origin when empty)."""
    return part_span(d, max(next_index - 1, d.header.index_origin), zone)[1]


def next_header(d: RawDating, index: int, zone: dt.tzinfo, floor: int) -> RawHeader:
    """The header of the part that sample ``index`` opens: its origin is the boundary before
    ``index`` by the dating ``d`` (not before ``floor``, the end of the part before), its
    ``wall_start_s`` that origin as ``d``'s header dates the boot (nominal: one chain of headers)."""
    h = d.header
    origin = max(part_span(d, index, zone)[0], floor)
    return RawHeader(h.device_id, h.rate_hz, h.has_gyro, h.wall_at(origin), origin, h.accel_lsb_g, h.gyro_lsb_dps)


def latest(parts: list[Part]) -> tuple[Part, RawHeader] | None:
    """The last part whose header reads (a part not a raw file is passed over: it stays as it is)."""
    for p in reversed(parts):
        try:
            return p, RawReader(p.path).header
        except InputError:
            continue
    return None
