"""Reading a damaged store's pages directly: the rows on table leaf pages that no b-tree reaches.

``recover``'s rowid pass reads through SQLite, which reaches a row only down its table's b-tree:
every row under a damaged *interior* page is out of its reach, though each may be intact on its
leaf page. This module reads the file itself (SQLite's file format, sqlite.org/fileformat2.html):

- it walks every table's b-tree from its root page (sqlite_schema's ``rootpage``) and the
  freelist from the file header; a page that is not a sound b-tree page is not descended, and a
  page two trees reach marks both damaged (a damaged pointer of either may name it);
- the table leaf pages (flag 0x0D) reached by neither are the ones under a damaged interior
  page: their cells are decoded (payload length, rowid, record header of serial types, values;
  a payload spilling onto overflow pages is followed down its chain when the chain is whole);
- a page's rows are handed on for the one table they all fit (column count, each value's type
  against the column's declared type and NOT NULL, the rowid alias NULL in the record) among the
  tables whose b-tree is damaged (only those can own a page no tree reaches), when their rowids
  are among those the rowid pass did not keep; a page that fits none, or two, is not guessed.

Freelist pages hold rows deleted before the damage: never read (the freelist must be whole, its
page count the header's, and no page on it in a table's b-tree, or nothing is read). A live leaf keeps a deleted row's bytes only in its
free space, which no cell pointer names: only cells named by the pointer array are decoded.
Overflow pages begin with the next page's number, zero in its first byte below 2**24 pages, so
none looks like a leaf (0x0D) page; those a decoded cell's chain passes are skipped anyway.

``cut_rows`` reads the pages the b-trees do reach for the cells a write cut short left zeros in
(SQLite reads them as rows of zeros without an error), which recover and carry leave out; the
rows handed on by ``orphan_rows`` are never such cells.
"""

from __future__ import annotations

import bisect
import mmap
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from spasmwatch.store.shape import folded

HEADER_BYTES = 100  # the file header, before page 1's b-tree header
TABLE_INTERIOR, TABLE_LEAF = 0x05, 0x0D  # b-tree page flags
LOCK_BYTE_AT = 1 << 30  # SQLite's lock-byte page (files over 1 GiB): never holds data
TEXT_CODECS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}  # header byte 56
INT_BYTES = (0, 1, 2, 3, 4, 6, 8)  # serial types 1-6: big-endian signed integers of these widths
SERIAL_WIDTH = (*INT_BYTES, 8, 0, 0, 0, 0)  # bytes of serial types 0-11 (7: a REAL; 8, 9: 0 and 1; 10, 11 reserved)
TEXT_TOLD = 32  # bytes: a text up to this long is checked ASCII by numpy (a device id, a kind); a longer one, decoded
ZERO_END_CHUNK = 2048  # leaf pages whose cells _zero_ended reads at once: ~200k cells, ~15 MB of index arrays
FREELIST = -1  # what reached a page, for the freelist's pages (trees are numbered from 0)


class _Unreadable(Exception):
    """A cell (or record) whose bytes are not a well-formed one."""


class _Overflow(_Unreadable):
    """A cell whose payload spills onto an overflow chain that cannot be followed whole."""


@dataclass(frozen=True)
class Column:
    """What a value of a column may be on disk (PRAGMA table_info)."""

    name: str
    affinity: str  # INTEGER, REAL, TEXT, NUMERIC or BLOB: SQLite's rules on the declared type
    not_null: bool
    rowid_alias: bool  # INTEGER PRIMARY KEY: NULL in the record, the value is the cell's rowid
    null_when_missing: bool  # added by ALTER TABLE without a default: NULL in older records


@dataclass(frozen=True)
class Table:
    """A table of the file: its b-tree's root page, its columns, and the rowids the rowid pass did
    not keep, as ranges in order (last None: to the end; ``wanted`` None: its rows are not sought)."""

    name: str
    root: int
    columns: tuple[Column, ...]
    wanted: tuple[tuple[int, int | None], ...] | None


@dataclass
class Scanned:
    """What reading the pages met besides the rows it handed on."""

    pages: int = 0  # table leaf pages no b-tree reaches: read
    unreadable: int = 0  # cells on them that are not well-formed: lost
    overflow: int = 0  # of those, cells spilling onto overflow pages whose chain could not be followed
    unplaced: int = 0  # rows on pages that fit no damaged table, or more than one, or whose rowids were kept: not guessed
    cut: int = 0  # cells on them a write cut short left zeros in (``_cut``): lost
    refused: str = ""  # why no page was read (the file's header or freelist is damaged)


def columns(info: Sequence[tuple[object, ...]]) -> tuple[Column, ...]:
    """Columns from ``PRAGMA table_info`` rows (cid, name, type, notnull, dflt_value, pk)."""
    keys = [r for r in info if int(str(r[5]))]
    return tuple(
        Column(
            name=str(r[1]),
            affinity=_affinity(str(r[2])),
            not_null=bool(r[3]),
            rowid_alias=len(keys) == 1 and int(str(r[5])) == 1 and str(r[2]).upper() == "INTEGER",
            null_when_missing=r[4] is None and not r[3],
        )
        for r in info
    )


def _affinity(declared: str) -> str:
    """SQLite's column affinity of a declared type (sqlite.org/datatype3.html, 3.1)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if any(k in t for k in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in t or not t:
        return "BLOB"
    if any(k in t for k in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


@dataclass(frozen=True)
class _File:
    buf: mmap.mmap
    page_size: int
    usable: int  # page size less the reserved bytes at each page's end
    pages: int
    codec: str

    def start(self, n: int) -> int:
        return (n - 1) * self.page_size

    def header_at(self, n: int) -> int:
        """Where page ``n``'s b-tree header starts (page 1: after the file header)."""
        return self.start(n) + (HEADER_BYTES if n == 1 else 0)

    def u16(self, at: int) -> int:
        return int.from_bytes(self.buf[at : at + 2], "big")

    def u32(self, at: int) -> int:
        return int.from_bytes(self.buf[at : at + 4], "big")


def orphan_rows(path: Path, tables: Sequence[Table], scanned: Scanned) -> Iterator[tuple[str, tuple[object, ...]]]:
    """(table, its column values) for each row on a table leaf page of ``path`` that no b-tree of
    ``tables`` (every table of the file, sqlite_schema too) reaches, placed in a wanted table.

    A page is placed in a table only when it fits no other table whose b-tree is damaged (any of
    those may own it), and its rowids are among those the rowid pass did not keep. ``path`` is a
    copy no one writes, its WAL checkpointed into it (the pages in a WAL are newer)."""
    with open(path, "rb") as fh:
        if fh.seek(0, 2) < HEADER_BYTES:
            scanned.refused = "the file is shorter than its header"
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            f = _geometry(buf)
            if isinstance(f, str):
                scanned.refused = f
                return
            free = _freelist(f)
            if isinstance(free, str):
                scanned.refused = free
                return
            claimed, trees = set(free), dict.fromkeys(free, FREELIST)  # trees: page -> what reached it
            damaged: set[int] = set()
            for i, t in enumerate(tables):
                damaged |= _walk(f, t.root, claimed, trees, i)
            if FREELIST in damaged:
                # One of the two is wrong: if the freelist (an entry damaged into a live page's number),
                # the page it named is on no list and in no tree, and holds rows deleted before.
                scanned.refused = "its freelist is damaged (it lists a page a table's b-tree holds)"
                return
            owners = [t for i, t in enumerate(tables) if i in damaged]  # each may own unreached pages
            if LOCK_BYTE_AT < len(buf):
                claimed.add(LOCK_BYTE_AT // f.page_size + 1)
            for n in range(2, f.pages + 1):
                if n not in claimed and buf[f.start(n)] == TABLE_LEAF:
                    yield from _page_rows(f, n, owners, claimed, scanned)


@dataclass
class Cut:
    """The cells on a file's b-tree leaf pages that a write cut short left zeros in (``cut_rows``), by
    table and rowid: what SQLite reads of each (column -> value, the columns its record holds), or None
    for one whose record header was cut (SQLite reads NULLs and defaults there)."""

    rows: dict[str, dict[int, list[dict[str, object] | None]]] = field(default_factory=dict)

    def holds(self, table: str, rowid: int, cols: Sequence[str], row: Sequence[object]) -> bool:
        """Whether ``row``, the values of ``cols`` SQLite read at ``rowid`` of ``table``, is a cut cell's."""
        cells = self.rows.get(table, {}).get(rowid)
        if not cells:  # (called for every row recover reads: the names are folded only for a rowid of a cut cell)
            return False
        read = dict(zip(map(folded, cols), row))  # (names are case-blind: the file's table may name them otherwise)
        return any(cell is not None and all(read.get(c, v) == v for c, v in cell.items()) for cell in cells)

    def headless(self, table: str, rowid: int) -> bool:
        """Whether a cell at ``rowid`` of ``table`` had its record header cut: a row SQLite read there that
        breaks the table's constraints (NULLs in NOT NULL columns) is that cell's."""
        return None in self.rows.get(table, {}).get(rowid, [])


def cut_rows(path: Path, tables: Sequence[Table], after: Mapping[str, int] | None = None) -> Cut:
    """The cells a write cut short left zeros in (``_cut``) on the leaf pages of ``tables``' b-trees in
    ``path``, of rowids past ``after`` (by table; 0 for one it does not name). SQLite reads them as rows,
    their values past the cut zeros (a device 'band\\x00\\x00\\x00\\x00', a time of 0.0) or NULLs.
    ``path``'s own pages: a cut write of its WAL is never read (each frame has its checksum)."""
    cut = Cut()
    with open(path, "rb") as fh:
        if fh.seek(0, 2) < HEADER_BYTES:
            return cut
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            f = _geometry(buf)
            if isinstance(f, str):
                return cut
            for t in tables:
                leaves = list(_leaves_past(f, t.root, (after or {}).get(t.name, 0)))
                for n, which in _zero_ended(f, leaves):
                    for rowid, cell in _cut_cells(f, n, t.columns, which):
                        cut.rows.setdefault(t.name, {}).setdefault(rowid, []).append(cell)
    return cut


def _zero_ended(f: _File, leaves: Sequence[int]) -> list[tuple[int, list[int]]]:
    """(page, its cells) of ``leaves`` that ``_cut_cells`` must decode: those numpy cannot tell from a
    cut one (``_payload_ends_zero``), a chunk of pages at a time. Decoded one by one in Python, the
    cells of a year's store (3.7M) cost 33 s CPU against the 55 s of the rest of its recover (4 s now;
    docs/store.md). A page or cell ``_cell`` refuses is left out (so does ``_cut_cells``)."""
    raw = np.frombuffer(f.buf, dtype=np.uint8)  # (no copy; released at the return, before the mmap closes)
    out: list[tuple[int, list[int]]] = []
    for i in range(0, len(leaves), ZERO_END_CHUNK):
        pages = np.asarray(leaves[i : i + ZERO_END_CHUNK], dtype=np.int64)
        page_of, index, at = _cell_offsets(f, raw, pages)
        zero = _payload_ends_zero(f, raw, at, (pages[page_of] - 1) * f.page_size + f.usable)
        on, which = page_of[zero], index[zero]  # (in page order)
        firsts = np.flatnonzero(np.diff(on, prepend=-1))
        out += zip(pages[on[firsts]].tolist(), (w.tolist() for w in np.split(which, firsts[1:])))
    del raw
    return out


def _cell_offsets(f: _File, raw: np.ndarray, pages: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each cell of table leaf ``pages`` whose pointer ``_cell`` takes (within the page, past the
    pointer array): its page's place in ``pages``, its index on the page, where it starts in the file."""
    start = (pages - 1) * f.page_size
    h = start + np.where(pages == 1, HEADER_BYTES, 0)
    cells = raw[h + 3].astype(np.int64) << 8 | raw[h + 4]
    first = h + 8 + 2 * cells - start
    cells[first > f.usable] = 0  # (a count the page cannot hold: ``_cut_cells`` reads none of its cells)
    page_of = np.repeat(np.arange(len(pages)), cells)
    index = np.arange(len(page_of)) - np.repeat(np.cumsum(cells) - cells, cells)
    ptr = h[page_of] + 8 + 2 * index
    cell = raw[ptr].astype(np.int64) << 8 | raw[ptr + 1]
    ok = (first[page_of] <= cell) & (cell < f.usable)
    return page_of[ok], index[ok], start[page_of[ok]] + cell[ok]


def _payload_ends_zero(f: _File, raw: np.ndarray, at: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether each cell at ``at`` (its page's usable bytes ending at ``end``) is one ``_cut_cells``
    must decode: its payload's last byte zero, its payload empty, or not told here."""
    size_bytes, size = _varints(raw, at, 3)  # (a payload on the page alone has at most 3: 65501 bytes)
    rowid_bytes, _ = _varints(raw, at + size_bytes)
    last = at + size_bytes + rowid_bytes + size - 1  # (a payload on the page alone: at most usable - 35 bytes)
    untold = (size_bytes > 3) | (rowid_bytes > 9) | (size > f.usable - 35) | (last >= end) | (at + size_bytes + rowid_bytes > end)
    zero: np.ndarray = untold | (size == 0) | (raw[np.clip(last, 0, len(raw) - 1)] == 0)
    told = np.flatnonzero(zero & ~untold)
    zero[told] = ~_not_cut(f, raw, (at + size_bytes + rowid_bytes)[told], size[told])
    return zero


def _not_cut(f: _File, raw: np.ndarray, p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Whether each record at ``p`` (``n`` bytes, on its page, ending in a zero byte) is told here to
    be no cut one, as ``_spans`` and ``_cut`` read it: well-formed (a one-byte header size, serial
    types of at most 3 bytes, 10 and 11 none, values exactly the rest, texts ASCII of at most
    ``TEXT_TOLD`` bytes in UTF-8: ``_spans`` decodes them without an error), its last value with bytes
    a number or a blob with a byte not zero (``_cut`` stops there). A record's zero last byte is then
    its own (a REAL's or integer's low byte): most such records in a store, told without Python."""
    hs_bytes, hs = _varints(raw, p, 1)
    ok = (hs_bytes == 1) & (hs >= 2) & (hs <= n)
    at, values = p + 1, np.zeros(len(p), dtype=np.int64)  # the next serial type; the values' bytes so far
    last_at, last_width = np.zeros(len(p), dtype=np.int64), np.zeros(len(p), dtype=np.int64)
    while (going := ok & (at < p + hs)).any():
        kind_bytes, kind = _varints(raw, at, 3)
        width = np.where(kind >= 12, (kind - 12) // 2, np.asarray(SERIAL_WIDTH)[np.minimum(kind, 11)])
        text = (kind >= 13) & (kind % 2 == 1)
        ok &= ~going | ((kind_bytes <= 3) & (at + kind_bytes <= p + hs) & (kind != 10) & (kind != 11))
        texts = np.flatnonzero(going & text)
        ok[texts] &= (f.codec == "utf-8") & _ascii(raw, (p + hs + values)[texts], width[texts])
        ok &= ~(going & text & (values + hs + width == n))  # a text last: its NULs are a cut's (``_cut``)
        bytes_now = going & (width > 0)
        last_at = np.where(bytes_now, p + hs + values, last_at)
        last_width = np.where(bytes_now, width, last_width)
        values += np.where(going, width, 0)
        at = np.where(going, at + kind_bytes, at)
    ok &= (hs + values == n) & (last_width > 0) & (last_width <= 8)
    told: np.ndarray = ok & _any_set(raw, last_at, last_width)
    return told


def _ascii(raw: np.ndarray, at: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Whether the ``width`` bytes at each of ``at`` are ASCII (valid UTF-8), told for at most ``TEXT_TOLD`` bytes."""
    b, inside = _windows(raw, at, TEXT_TOLD)
    return inside & (width <= TEXT_TOLD) & ~((b >= 0x80) & (np.arange(TEXT_TOLD) < width[:, None])).any(axis=1)


def _any_set(raw: np.ndarray, at: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Whether any of the ``width`` (at most 8) bytes at each of ``at`` is not zero."""
    b, inside = _windows(raw, at, 8)
    found: np.ndarray = inside & ((b != 0) & (np.arange(8) < width[:, None])).any(axis=1)
    return found


def _varints(raw: np.ndarray, at: np.ndarray, most: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """The length of the varint at each of ``at`` (1-9, ``_varint``'s rule; past ``most``: longer than
    that, or too near the file's end to read here) and its value when it has at most 3 bytes."""
    b, inside = _windows(raw, at, most)
    ends = b[:, : min(most, 8)] < 0x80
    length = np.where(~inside, 10, np.where(ends.any(axis=1), ends.argmax(axis=1) + 1, min(most, 8) + 1))
    value = b[:, 0].astype(np.int64) & 0x7F
    for j in range(1, min(most, 3)):
        value = np.where(length > j, value << 7 | b[:, j] & 0x7F, value)
    return length, value


def _windows(raw: np.ndarray, at: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``width`` bytes at each of ``at``, a row each (copied through a strided view: no index array of
    them is built), and whether they lie in the file (the rows of those that do not are garbage)."""
    inside = at <= len(raw) - width
    return np.lib.stride_tricks.sliding_window_view(raw, width)[np.where(inside, at, 0)], inside


def _leaves_past(f: _File, root: int, after: int) -> Iterator[int]:
    """The leaf pages of the table b-tree at ``root`` that may hold rowids past ``after`` (the interior
    pages' keys say which); a page that is no b-tree page, or one met again, is not descended."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if not 1 <= n <= f.pages or n in seen:
            continue
        seen.add(n)
        flag = f.buf[f.header_at(n)]
        if flag == TABLE_LEAF:
            yield n
        elif flag == TABLE_INTERIOR:
            stack.extend(kid for kid, key in _keyed_children(f, n) or [] if key is None or key > after)


def _cut_cells(
    f: _File, n: int, cols: Sequence[Column], which: Iterable[int] | None = None
) -> Iterator[tuple[int, dict[str, object] | None]]:
    """(rowid, ``Cut``'s values) of the cells of leaf page ``n`` of a table of ``cols`` that a cut write
    left zeros in, among cells ``which`` (their indices on the page; None: every one)."""
    h, start = f.header_at(n), f.start(n)
    cells = f.u16(h + 3)
    first = h + 8 + 2 * cells - start
    if first > f.usable:
        return
    for i in range(cells) if which is None else which:
        try:
            rowid, payload = _cell(f, start, f.u16(h + 8 + 2 * i), first, set())
        except _Unreadable:
            continue  # (SQLite fails to read it too: the rowid pass steps over it)
        if payload and payload[-1]:
            continue  # (a cut leaves zeros to the record's end: the most of a file's records end otherwise, decoded no further)
        try:
            spans = _spans(payload, f.codec)
        except _Unreadable:
            if not payload or payload[-1] == 0:  # a header that ends in zeros: cut within it (SQLite reads NULLs)
                yield rowid, None
            continue
        if _cut(payload, spans, cols):
            yield rowid, {folded(c.name): rowid if c.rowid_alias else s.value for c, s in zip(cols, spans)}


def _cut(p: bytes, spans: Sequence[_Span], cols: Sequence[Column]) -> bool:
    """Whether record ``p`` ends in the zeros of a write cut short (its page's bytes past the cut as a
    fresh block reads): a run of zero bytes to its end that holds a value SQLite never writes as zeros
    (``_never_zeros``) or ends a text in NULs (the cut within it). A record may end in zero bytes of its
    own (1796602025.5 as an 8-byte REAL ends in 2): no proof. ``cols``: its table's columns (() not known)."""
    for i in range(len(spans) - 1, -1, -1):
        s = spans[i]
        if any(p[s.start : s.end]):
            return isinstance(s.value, str) and s.value.endswith("\x00")
        if _never_zeros(s, cols[i] if i < len(cols) else None):
            return True
    return False


def _never_zeros(s: _Span, col: Column | None) -> bool:
    """Whether SQLite never writes a value of ``s``'s serial type as the zero bytes it is: an integer 0 is
    serial type 8 (no bytes; file format 4, every store here), a REAL 0.0 in a column of any affinity but
    BLOB is kept as that integer (file format 2.1), and a text of NULs is none spasmwatch writes."""
    if 1 <= s.kind <= 6:
        return True
    if s.kind == 7:
        return col is not None and col.affinity != "BLOB"
    return s.kind >= 13 and s.kind % 2 == 1 and s.end > s.start


def _geometry(buf: mmap.mmap) -> _File | str:
    """The file's page size, usable bytes, page count and text encoding; a reason when its header is not one."""
    if buf[:16] != b"SQLite format 3\x00":
        return "its header is damaged (no SQLite format 3 mark)"
    size = int.from_bytes(buf[16:18], "big")
    size = 65536 if size == 1 else size
    usable = size - buf[20]
    if size < 512 or size & (size - 1) or usable < 480:
        return f"its header is damaged (page size {size}, {buf[20]} reserved bytes)"
    codec = TEXT_CODECS.get(int.from_bytes(buf[56:60], "big"))
    if codec is None:
        return "its header is damaged (no text encoding)"
    pages = len(buf) // size
    counted = int.from_bytes(buf[28:32], "big")
    if counted and buf[92:96] == buf[24:28]:  # the header's page count is valid when these agree
        pages = min(pages, counted)
    return _File(buf, size, usable, pages, codec)


def _freelist(f: _File) -> set[int] | str:
    """Every page on the freelist (trunk pages and the leaves they list), or why it cannot be walked.
    Only a whole freelist will do: a page it would have named could hold deleted rows."""
    free: set[int] = set()
    trunk, total = f.u32(32), f.u32(36)
    per_trunk = f.usable // 4 - 2
    while trunk:
        if not 2 <= trunk <= f.pages or trunk in free:
            return f"its freelist is damaged (trunk page {trunk})"
        free.add(trunk)
        at = f.start(trunk)
        count = f.u32(at + 4)
        if count > per_trunk:
            return f"its freelist is damaged (trunk page {trunk} lists {count} pages)"
        for i in range(count):
            leaf = f.u32(at + 8 + 4 * i)
            if not 2 <= leaf <= f.pages or leaf in free:
                return f"its freelist is damaged (trunk page {trunk} lists page {leaf})"
            free.add(leaf)
        trunk = f.u32(at)
    if len(free) != total:
        return f"its freelist is damaged ({len(free)} pages on it, the header says {total})"
    return free


def _walk(f: _File, root: int, reached: set[int], trees: dict[int, int], tree: int) -> set[int]:
    """Add the pages of table b-tree number ``tree`` at ``root`` to ``reached`` and ``trees`` (page ->
    the tree that reached it, FREELIST for the freelist's); returns the trees it shows damaged.
    ``tree``, when it meets a page that is not a sound table page (not descended: its subtree is
    what the scan is for) or one reached already (the freelist's, its own, another tree's); and
    what reached it first too: either one's damaged pointer may name the page, and a tree walked
    first took it for its own (taken for sound, its pages no tree reaches then would be read for
    the other tree alone, and fit it not)."""
    damaged: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if not 1 <= n <= f.pages or n in reached:
            damaged |= {tree, trees.get(n, tree)}
            continue
        flag = f.buf[f.header_at(n)]
        kids = _children(f, n) if flag == TABLE_INTERIOR else None
        if flag == TABLE_LEAF or kids is not None:
            reached.add(n)
            trees[n] = tree
            stack.extend(kids or [])
        else:
            damaged.add(tree)
    return damaged


def _children(f: _File, n: int) -> list[int] | None:
    """The child pages of table interior page ``n`` (None: its header or a cell is out of bounds)."""
    keyed = _keyed_children(f, n)
    return None if keyed is None else [kid for kid, _ in keyed]


def _keyed_children(f: _File, n: int) -> list[tuple[int, int | None]] | None:
    """(child page, the largest rowid under it; None: the right-most, past the last key) of table
    interior page ``n`` (None: its header or a cell is out of bounds)."""
    h, start = f.header_at(n), f.start(n)
    cells = f.u16(h + 3)
    first = h + 12 + 2 * cells - start  # the cell pointer array's end, from the page's start
    if first > f.usable:
        return None
    kids: list[tuple[int, int | None]] = []
    for i in range(cells):
        cell = f.u16(h + 12 + 2 * i)
        if not first <= cell <= f.usable - 5:  # a child page number and a rowid of at least a byte
            return None
        try:
            key = _varint(f.buf, start + cell + 4, start + f.usable)[0]
        except _Unreadable:
            return None
        kids.append((f.u32(start + cell), key))
    kids.append((f.u32(h + 8), None))  # the right-most child
    return kids if all(2 <= k <= f.pages for k, _ in kids) else None


def _page_rows(
    f: _File, n: int, owners: Sequence[Table], claimed: set[int], scanned: Scanned
) -> Iterator[tuple[str, tuple[object, ...]]]:
    """The rows of leaf page ``n``, when the one table of ``owners`` (the damaged trees') they all
    fit is a wanted one and their rowids are among those it wants."""
    scanned.pages += 1
    rows = []
    for rowid, payload in _cells(f, n, claimed, scanned):
        try:
            spans = _spans(payload, f.codec)
        except _Unreadable:
            scanned.unreadable += 1
            continue
        if _cut(payload, spans, ()):  # (its table not known yet: a REAL's zeros are no proof here)
            scanned.cut += 1
            continue
        rows.append((rowid, tuple(s.value for s in spans)))
    fit = [t for t in owners if all(_fits(t.columns, values) for _, values in rows)]
    if len(fit) != 1 or fit[0].wanted is None or not all(_in(fit[0].wanted, rowid) for rowid, _ in rows):
        scanned.unplaced += len(rows)  # no table, two it could be, or rows the rowid pass kept: not guessed
        return
    for rowid, values in rows:
        yield fit[0].name, _as_row(fit[0].columns, rowid, values)


def _cells(f: _File, n: int, claimed: set[int], scanned: Scanned) -> Iterator[tuple[int, bytes]]:
    """(rowid, record bytes) of each cell the page's pointer array names; those not well-formed counted."""
    h, start = f.header_at(n), f.start(n)
    cells = f.u16(h + 3)
    first = h + 8 + 2 * cells - start
    if first > f.usable:
        scanned.unreadable += 1  # a header that names more cells than the page holds: its count is garbage
        return
    for i in range(cells):
        try:
            yield _cell(f, start, f.u16(h + 8 + 2 * i), first, claimed)
        except _Overflow:
            scanned.unreadable += 1
            scanned.overflow += 1
        except _Unreadable:
            scanned.unreadable += 1


def _cell(f: _File, start: int, cell: int, first: int, claimed: set[int]) -> tuple[int, bytes]:
    """A table leaf cell at offset ``cell`` of the page at ``start``: payload length, rowid, payload."""
    if not first <= cell < f.usable:
        raise _Unreadable
    end = start + f.usable
    size, at = _varint(f.buf, start + cell, end)
    rowid, at = _varint(f.buf, at, end)
    rowid = rowid - (1 << 64) if rowid >= 1 << 63 else rowid
    local = _local(f.usable, size)
    if at + local + (4 if local < size else 0) > end:
        raise _Unreadable
    payload = f.buf[at : at + local]
    if local < size:
        payload += _chain(f, f.u32(at + local), size - local, claimed)
    return rowid, payload


def _local(usable: int, size: int) -> int:
    """How much of a table leaf cell's payload of ``size`` bytes is on the page itself (file format 1.6)."""
    most = usable - 35
    if size <= most:
        return size
    least = (usable - 12) * 32 // 255 - 23
    k = least + (size - least) % (usable - 4)
    return k if k <= most else least


def _chain(f: _File, n: int, need: int, claimed: set[int]) -> bytes:
    """The ``need`` bytes a payload continues with on the overflow chain from page ``n``; its pages
    claimed. A chain that leaves the file, meets a page in use or on the freelist, loops, or does
    not end where the payload does is not followed."""
    parts, seen = [], []
    while need > 0:
        if not 2 <= n <= f.pages or n in claimed or n in seen:
            raise _Overflow
        seen.append(n)
        take = min(need, f.usable - 4)
        parts.append(f.buf[f.start(n) + 4 : f.start(n) + 4 + take])
        need -= take
        n = f.u32(f.start(n))
    if n:
        raise _Overflow
    claimed.update(seen)
    return b"".join(parts)


def _varint(b: bytes | mmap.mmap, at: int, end: int) -> tuple[int, int]:
    """SQLite's varint at ``at`` (1-9 bytes, big-endian, 7 bits a byte, all 8 of the ninth) and where it ends."""
    v = 0
    for i in range(9):
        if at + i >= end:
            raise _Unreadable
        c = b[at + i]
        if i == 8:
            return (v << 8) | c, at + 9
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, at + i + 1
    raise _Unreadable  # not reached: the ninth byte returns


class _Span(NamedTuple):
    kind: int  # its serial type
    value: object
    start: int  # its bytes in the payload
    end: int


def _spans(p: bytes, codec: str) -> list[_Span]:
    """The values of a record (header size, serial types, then the values: exactly the payload), each
    with its serial type and where its bytes are."""
    size, at = _varint(p, 0, len(p))
    if not at <= size <= len(p):
        raise _Unreadable
    kinds = []
    while at < size:
        kind, at = _varint(p, at, size)
        kinds.append(kind)
    spans = []
    for kind in kinds:
        value, end = _value(p, at, kind, codec)
        spans.append(_Span(kind, value, at, end))
        at = end
    if at != len(p):
        raise _Unreadable
    return spans


def _value(p: bytes, at: int, kind: int, codec: str) -> tuple[object, int]:
    """The value of serial type ``kind`` at ``at`` and where it ends."""
    if kind in (8, 9):
        return kind - 8, at
    if kind == 0:
        return None, at
    if kind in (10, 11):  # reserved: not a record
        raise _Unreadable
    width = INT_BYTES[kind] if kind <= 6 else 8 if kind == 7 else (kind - 12) // 2
    if at + width > len(p):
        raise _Unreadable
    raw = p[at : at + width]
    if kind <= 6:
        return int.from_bytes(raw, "big", signed=True), at + width
    if kind == 7:
        return struct.unpack(">d", raw)[0], at + width
    if kind % 2 == 0:
        return bytes(raw), at + width
    try:
        return raw.decode(codec), at + width
    except UnicodeDecodeError:
        raise _Unreadable from None


def _in(ranges: Sequence[tuple[int, int | None]], rowid: int) -> bool:
    """Whether ``rowid`` is in one of ``ranges`` (in order, apart): one search, as a table's rowids
    not kept can be thousands of ranges (each row deleted before the damage leaves a hole)."""
    i = bisect.bisect_right(ranges, rowid, key=lambda r: r[0]) - 1
    last = ranges[i][1] if i >= 0 else rowid - 1
    return last is None or rowid <= last


def _fits(cols: Sequence[Column], values: Sequence[object]) -> bool:
    """Whether a record's values can be a row of a table of ``cols``."""
    if len(values) > len(cols) or not all(c.null_when_missing for c in cols[len(values) :]):
        return False
    return all(_fits_column(c, v) for c, v in zip(cols, values))


def _fits_column(c: Column, v: object) -> bool:
    if c.rowid_alias:
        return v is None  # SQLite keeps the rowid alias in the cell's rowid, NULL in the record
    if v is None:
        return not c.not_null
    if c.affinity == "INTEGER":
        return type(v) is int
    if c.affinity in ("REAL", "NUMERIC"):
        return type(v) in (int, float)  # an integral REAL is written as an integer (file format 2.1)
    if c.affinity == "TEXT":
        return type(v) is str
    return True  # BLOB (no declared type): any value


def _as_row(cols: Sequence[Column], rowid: int, values: Sequence[object]) -> tuple[object, ...]:
    """The column values SQLite would read: the rowid alias from the rowid, an integral REAL as a
    float, a column added since the record was written NULL."""
    out: list[object] = []
    for i, c in enumerate(cols):
        v = values[i] if i < len(values) else None
        if c.rowid_alias:
            v = rowid
        elif c.affinity == "REAL" and type(v) is int:
            v = float(v)
        out.append(v)
    return tuple(out)
