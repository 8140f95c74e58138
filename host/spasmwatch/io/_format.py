"""What a recording CSV looks like: header rules, number grammar, parsed blocks.

Both the fast path (pyarrow) and the line-by-line re-scan (stdlib ``csv``)
read the same format, defined here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from spasmwatch.errors import InputError
from spasmwatch.io.limits import MAX_HEADER_BYTES

Column = NDArray[np.float64]

TIME = "t"
ACC = ("ax", "ay", "az")
GYRO = ("gx", "gy", "gz")
EXPECTED = "t,ax,ay,az,gx,gy,gz (the gyro columns gx,gy,gz may be left out)"

# A cell pyarrow converts to float64: decimal with optional exponent, or
# nan/inf/infinity, with spaces or tabs around. The re-scan uses the same
# grammar so both paths accept exactly the same files.
NUMBER = re.compile(
    r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)[ \t]*",
    re.IGNORECASE,
)
# pyarrow (and Python's newline="" text mode) end a line at \r\n, \n or \r.
LINE_END = re.compile(rb"\r\n|\r|\n")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_PACKED = (
    (b"\x1f\x8b", "gzip-compressed: decompress it first (gunzip)"),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook?): save the sheet as CSV, or unzip it"),
)


class InputWarning(UserWarning):
    """Something in an input file was ignored (extra columns, a last line cut short)."""


@dataclass(frozen=True, slots=True)
class Header:
    """The parsed first line of a recording."""

    names: tuple[str, ...]  # every column, cleaned, in file order
    fields: tuple[str, ...]  # columns used: t, ax, ay, az[, gx, gy, gz]
    positions: tuple[int, ...]  # file column index of each of `fields`
    ignored: tuple[str, ...]  # extra columns, read past and not used
    data_offset: int  # byte offset of line 2

    @property
    def has_gyro(self) -> bool:
        return len(self.fields) == 7


@dataclass(frozen=True, slots=True)
class Block:
    """Consecutive parsed samples; row i comes from file line first_line + i."""

    first_line: int
    cols: list[Column]  # one array per Header.fields entry

    def __len__(self) -> int:
        return len(self.cols[0])

    def head(self, rows: int) -> Block:
        return Block(self.first_line, [c[:rows] for c in self.cols])


def read_header(path: str, f: BinaryIO) -> Header:
    """Parse line 1 of the open file `f` (positioned at 0)."""
    raw = f.read(MAX_HEADER_BYTES)
    if not raw:
        raise InputError(path, f"the file is empty; expected the header {EXPECTED}", line=1)
    end = LINE_END.search(raw)
    if end is None and len(raw) == MAX_HEADER_BYTES:
        raise InputError(path, f"no line end in the first {MAX_HEADER_BYTES} bytes: not a CSV recording", line=1)
    line = raw[: end.start()] if end else raw
    try:
        names = _clean_names(path, _decode_header(path, line))
        fields, positions = _locate(path, names)
    except _NotUtf8 as exc:
        # Only an extra column's name (a logger's 'temp (°C)' in cp1252) may be
        # undecodable: those are read past. A file whose own columns are not found
        # in it is no CSV recording.
        try:
            names = _clean_names(path, line.removeprefix(_UTF8_BOM).decode("utf-8", errors="replace"))
            fields, positions = _locate(path, names)
        except InputError:
            raise exc from None
        if any("\ufffd" in names[p] for p in positions):
            raise exc from None
    ignored = tuple(n for i, n in enumerate(names) if i not in positions)
    offset = end.end() if end else len(raw)
    return Header(names, fields, positions, ignored, offset)


def _decode_header(path: str, line: bytes) -> str:
    if line.startswith(_UTF16_BOMS):
        raise InputError(path, "the file is UTF-16 text; save it as UTF-8 (or plain ASCII) CSV", line=1)
    # Loggers hand out rec.csv.gz, spreadsheets .xlsx (a zip): say which, not only "not UTF-8" (input audit).
    for magic, what in _PACKED:
        if line.startswith(magic):
            raise InputError(path, f"the file is {what}, not a CSV recording", line=1)
    try:
        # Spreadsheet programs put a byte-order mark in front of UTF-8 CSV.
        return line.removeprefix(_UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        raise _NotUtf8(path, "the header is not UTF-8 text: not a CSV recording", line=1) from None


class _NotUtf8(InputError):
    """The header line is not UTF-8."""


def _clean_names(path: str, text: str) -> tuple[str, ...]:
    if not text.strip():
        raise InputError(path, f"line 1 is empty; expected the header {EXPECTED}", line=1)
    return tuple(clean_name(cell) for cell in text.split(","))


def clean_name(cell: str) -> str:
    """A header cell as a column name: tolerate "t", " T " and the like (some tools quote or pad them)."""
    return cell.strip().strip('"').strip().lower()


def _locate(path: str, names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Which file columns hold t, ax, ay, az (and gx, gy, gz when present)."""
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in index and name in (TIME, *ACC, *GYRO):
            raise InputError(
                path, f"appears twice in the header (columns {index[name] + 1} and {i + 1})", line=1, field=name
            )
        index.setdefault(name, i)
    required = (TIME, *ACC)
    gyro_seen = [g for g in GYRO if g in index]
    wanted = required + (GYRO if gyro_seen else ())
    missing = [n for n in wanted if n not in index]
    if missing:
        raise InputError(path, _missing_message(names, missing, bool(gyro_seen)), line=1, field=missing[0])
    return wanted, tuple(index[n] for n in wanted)


def _missing_message(names: tuple[str, ...], missing: list[str], gyro_seen: bool) -> str:
    found = ",".join(names)
    if all(m in GYRO for m in missing) and gyro_seen:
        return f"missing from the header '{found}': the gyro columns come as a set, gx,gy,gz, or not at all"
    hint = ""
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        hint = "; the file looks ';'- or tab-separated, but recordings are comma-separated"
    return f"missing from the header '{found}' (missing: {','.join(missing)}); expected {EXPECTED}{hint}"
