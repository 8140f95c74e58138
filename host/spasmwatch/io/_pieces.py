"""Fast path: parse a recording in byte pieces on parallel threads with pyarrow.

pyarrow's streaming CSV reader (``open_csv``) parses one block at a time in
the caller's thread: measured on a 24 h file it used one core however it was
configured. So the data lines are cut into pieces of about PIECE_BYTES at
line ends, and PARSE_THREADS threads each parse every PARSE_THREADS-th piece
with ``pyarrow.csv.read_csv`` (pyarrow releases the GIL); the pieces are put
back in order here. Each thread runs a bounded number of pieces ahead, so
memory stays bounded.

Quoting is off and blank lines are not skipped, so when pyarrow accepts a
piece every line is exactly one row: row counts give line numbers. When it
refuses a piece, that piece's byte offset and first line are handed to the
line-by-line re-scan, which names the line and field.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

from spasmwatch.errors import InputError
from spasmwatch.io._format import LINE_END, Block, Column, Header
from spasmwatch.io._prefetch import prefetch
from spasmwatch.io._rescan import rescan
from spasmwatch.io.limits import PARSE_THREADS, PIECE_BYTES, PREFETCH_PIECES

_FIND_BYTES = 4096


@dataclass(frozen=True, slots=True)
class _Piece:
    offset: int  # byte offset of the piece's first line
    cols: list[Column] | None  # parsed columns (Header.fields order), None when pyarrow refused the piece
    error: str  # pyarrow's message when it refused


@dataclass(frozen=True, slots=True)
class _Plan:
    data_offset: int
    size: int
    piece_bytes: int

    @property
    def count(self) -> int:
        return -(-(self.size - self.data_offset) // self.piece_bytes) if self.size > self.data_offset else 0


def parsed_blocks(path: str, header: Header, warn_cut: bool = True) -> Generator[Block, None, None]:
    """Every data line as Blocks, in file order; faults raise InputError (after the good rows).
    ``warn_cut`` False: a last line cut short is read past without its InputWarning (``rescan``)."""
    plan = _Plan(header.data_offset, _size(path), PIECE_BYTES)
    workers = [prefetch(_parse_share(path, header, plan, w), PREFETCH_PIECES) for w in range(PARSE_THREADS)]
    line = 2
    try:
        for k in range(plan.count):
            piece = next(workers[k % PARSE_THREADS])
            if piece.cols is None:
                # The re-scan reads on to the fault or the end of the file.
                yield from rescan(path, header, line, piece.offset, piece.error, warn_cut)
                return
            if rows := len(piece.cols[0]):
                yield Block(line, piece.cols)
                line += rows
    finally:
        for worker in workers:
            worker.close()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc.strerror or exc}") from exc


def _parse_share(path: str, header: Header, plan: _Plan, worker: int) -> Generator[_Piece, None, None]:
    """Pieces worker, worker + PARSE_THREADS, ... of the plan, parsed (runs in a worker thread)."""
    try:
        with open(path, "rb") as f:
            for k in range(worker, plan.count, PARSE_THREADS):
                start, end = _boundary(f, plan, k), _boundary(f, plan, k + 1)
                f.seek(start)
                yield _parse(f.read(end - start), start, header)
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc.strerror or exc}") from exc


def _boundary(f: BinaryIO, plan: _Plan, k: int) -> int:
    """Start of the line after the one the k-th nominal cut falls in (neighbours agree on it)."""
    pos = plan.data_offset + k * plan.piece_bytes
    if k == 0 or pos >= plan.size:
        return min(pos, plan.size)
    f.seek(pos)
    scanned = pos
    while buf := f.read(_FIND_BYTES):
        if match := LINE_END.search(buf):
            end = scanned + match.end()
            # A \r as the last byte read may be the first half of \r\n.
            if match.group() == b"\r" and match.end() == len(buf) and f.read(1) == b"\n":
                end += 1
            return min(end, plan.size)
        scanned += len(buf)
    return plan.size


def _parse(data: bytes, offset: int, header: Header) -> _Piece:
    if not data:
        return _Piece(offset, [np.empty(0) for _ in header.fields], "")
    read, parse, convert = _arrow_options(header, len(data))
    try:
        table = pacsv.read_csv(pa.py_buffer(data), read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        return _Piece(offset, None, str(exc))
    return _Piece(offset, [table.column(i).to_numpy() for i in range(table.num_columns)], "")


def _arrow_options(header: Header, size: int) -> tuple[object, object, object]:
    # Positional names: the file's own may be empty or repeated among extras.
    names = [f"c{i}" for i in range(len(header.names))]
    used = [names[p] for p in header.positions]
    # One block per piece and no pyarrow threads: the pieces are the parallelism.
    read = pacsv.ReadOptions(column_names=names, block_size=size + 1, use_threads=False)
    # No quoting and no skipped blank lines: every line is exactly one row.
    parse = pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False)
    convert = pacsv.ConvertOptions(
        include_columns=used,  # in Header.fields order; extra columns are never converted
        column_types={n: pa.float64() for n in used},
        null_values=[],  # an empty cell or "NA" is a fault, not a missing value
        strings_can_be_null=False,
    )
    return read, parse, convert
