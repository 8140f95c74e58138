"""Slow path: re-read a region line by line to name the exact line and field.

pyarrow only says that a piece failed ("CSV conversion error to double:
invalid value ''"), which a parent or a researcher cannot act on. When it
fails, the file is read again from that piece's first line with the stdlib
``csv`` module (quoting off, as on the fast path). The rows before
the fault are returned as a block, so the caller still checks them (an
earlier implausible value must win) and a streaming consumer still gets them;
then the fault is raised. Blank lines at the very end of the file are
tolerated here: pyarrow refuses them, but editors often leave them. So is a
bad last line without a line end, with an ``InputWarning``: a logger whose
battery died stopped in the middle of writing it, and refusing it would lose
the end of the recording (its open cluster, its last not-worn spell).
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Iterator

import numpy as np

from spasmwatch.errors import InputError
from spasmwatch.io._format import NUMBER, Block, Header, InputWarning, clean_name
from spasmwatch.io.limits import RESCAN_MAX_LINES

_SCAN_BYTES = 1 << 20
_SHOWN_CHARS = 40


def rescan(path: str, header: Header, first_line: int, offset: int, arrow_message: str, warn_cut: bool = True) -> Iterator[Block]:
    """Parse from file line `first_line` (at byte `offset`) to the fault; yield the good rows, raise the fault.
    ``warn_cut`` False: a last line cut short is read past without its InputWarning."""
    rows: list[tuple[float, ...]] = []
    try:
        fault = _scan(path, header, first_line, offset, rows, warn_cut)
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc}") from exc
    if rows:
        yield Block(first_line, list(np.array(rows, dtype=np.float64).reshape(-1, len(header.fields)).T.copy()))
    if fault is not None:
        raise fault
    if len(rows) >= RESCAN_MAX_LINES:
        # The line-by-line reader accepts what pyarrow refused: say so honestly.
        raise InputError(
            path,
            f"the fast reader failed ({arrow_message}) but lines {first_line}-{first_line + len(rows) - 1} "
            "look valid line by line; please report this file",
            line=first_line,
        )


def _scan(path: str, header: Header, first_line: int, offset: int, rows: list[tuple[float, ...]], warn_cut: bool) -> InputError | None:
    """Append good rows to `rows`; return the first fault, or None at the end of the data."""
    with open(path, "rb") as raw:
        raw.seek(offset)
        # errors="replace": a stray non-UTF-8 byte becomes a cell that is "not a number".
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        line = first_line
        try:
            for cells in csv.reader(text, quoting=csv.QUOTE_NONE):
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    return None if _rest_is_blank(text) else _blank_line(path, line)
                fault = _row_fault(path, header, line, cells)
                if fault is not None:
                    if not _cut_short(path, text):
                        return fault
                    if warn_cut:
                        warnings.warn(f"{path}:{line}: the last line is cut short ({fault.message}); read to the line before",
                                      InputWarning, stacklevel=2)
                    return None
                rows.append(tuple(float(cells[p]) for p in header.positions))
                if len(rows) >= RESCAN_MAX_LINES:
                    return None
                line += 1
        except csv.Error as exc:
            return InputError(path, f"unreadable line: {exc}", line=line)
    return None


def _cut_short(path: str, text: io.TextIOWrapper) -> bool:
    """The line just read is the file's last and has no line end: it was cut mid-write."""
    if text.read(1):
        return False
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) not in (b"\n", b"\r")


def _rest_is_blank(text: io.TextIOWrapper) -> bool:
    while piece := text.read(_SCAN_BYTES):
        if piece.strip():
            return False
    return True


def _blank_line(path: str, line: int) -> InputError:
    return InputError(path, "empty line; every line after the header must be a sample", line=line)


def _row_fault(path: str, header: Header, line: int, cells: list[str]) -> InputError | None:
    if len(cells) != len(header.names):
        return InputError(
            path, f"expected {len(header.names)} comma-separated cells as in the header, found {len(cells)}", line=line
        )
    for pos, name in sorted(zip(header.positions, header.fields)):
        if not NUMBER.fullmatch(cells[pos]):
            if tuple(clean_name(c) for c in cells) == header.names:  # cat night1.csv night2.csv: was "not a number: 't'"
                return InputError(path, "the header line again: two recordings joined into one file? Replay each on its own", line=line, field=name)
            return InputError(path, _cell_message(cells[pos]), line=line, field=name)
    return None


def _cell_message(cell: str) -> str:
    if not cell.strip(" \t"):
        return "empty cell; expected a number"
    shown = cell if len(cell) <= _SHOWN_CHARS else cell[:_SHOWN_CHARS] + "..."
    return f"not a number: {shown!r}"
