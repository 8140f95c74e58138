"""CRC-32 of long byte ranges of one file, each byte read once however many ranges cover it.

A damaged stretch of a ``.swraw`` can hold many records' headers that claim long payloads (a
crafted file: a fake header every 24 bytes, each claiming 12 MB). Checking each one's CRC by
reading its payload costs the sum of their claims: 2 s per 10 kB of such headers, hours for
100 MB (bench/raw_damage.py). CRC-32 is linear, so a range's CRC follows from the CRC register
at its two ends, taken over the file from one base (``R(0, D)`` of ``D = file[a:e]`` is
``P(e) ^ M^(e-a) P(a)``, ``M^n`` the register's shift over n zero bytes): registers kept every
``SPAN_BLOCK`` bytes make each range cost two reads of under a block and one shift, and the
file between the ranges' ends is read once (docs/rawfile.md, "Reading").
"""

from __future__ import annotations

import functools
import zlib
from array import array
from typing import BinaryIO

MASK = 0xFFFFFFFF
# Bytes between kept registers: a range's ends are each read from the register before them, so
# a check reads at most 2 blocks; a register is 4 bytes a block (0.1 % of the bytes covered).
SPAN_BLOCK = 4096
_BLOCK_BITS = SPAN_BLOCK.bit_length() - 1
# Ranges up to 2^24 bytes: a chunk's payload is at most 1 048 576 samples x 12 bytes.
_MAX_BITS = 24
# Bytes read at a time while registers are added (as the reader's buffer).
_READ_BYTES = 1 << 20
# A range starting this far past the registers starts them afresh (rather than reading the bytes
# between): a range is at most this long, so ranges that follow one another keep them.
_REACH = 1 << _MAX_BITS

_ZEROS = memoryview(bytes(SPAN_BLOCK))

assert SPAN_BLOCK == 1 << _BLOCK_BITS and _READ_BYTES % SPAN_BLOCK == 0

Tables = tuple[list[int], list[int], list[int], list[int]]


def _run(register: int, data: bytes | memoryview) -> int:
    """The CRC register after ``data`` from ``register`` (zlib's crc32 inverts it on the way in and out)."""
    return zlib.crc32(data, register ^ MASK) ^ MASK


def _tables(columns: list[int]) -> Tables:
    """Byte tables of the GF(2) 32x32 matrix whose column i is ``columns[i]``: its product with a
    register is 4 lookups."""
    out: list[list[int]] = []
    for k in range(4):
        t = [0] * 256
        for b in range(1, 256):
            low = b & -b
            t[b] = t[b ^ low] ^ columns[8 * k + low.bit_length() - 1]
        out.append(t)
    return out[0], out[1], out[2], out[3]


def _apply(t: Tables, s: int) -> int:
    return t[0][s & 255] ^ t[1][(s >> 8) & 255] ^ t[2][(s >> 16) & 255] ^ t[3][s >> 24]


@functools.cache
def _shifts() -> tuple[Tables, ...]:
    """Tables of M^(2^j) for j from _BLOCK_BITS to _MAX_BITS - 1 (built once: milliseconds)."""
    cols = [_run(1 << i, _ZEROS) for i in range(32)]
    out = [_tables(cols)]
    for _ in range(_BLOCK_BITS + 1, _MAX_BITS):
        prev = out[-1]
        out.append(_tables([_apply(prev, _apply(prev, 1 << i)) for i in range(32)]))
    return tuple(out)


def shift(register: int, n: int) -> int:
    """M^n ``register``: the register after n zero bytes from it (n < 2^24)."""
    s = _run(register, _ZEROS[: n & (SPAN_BLOCK - 1)])
    high = n >> _BLOCK_BITS
    for t in _shifts():
        if not high:
            break
        if high & 1:
            s = _apply(t, s)
        high >>= 1
    return s


class SpanCrc:
    """``crc(head, a, e)`` = ``zlib.crc32(file[a:e], zlib.crc32(head))`` for ranges of the file at
    ``path`` (its own handle, opened when first needed: a reader's position and buffer are left
    alone). Registers are kept from ``start_at`` (or the first range) on, while the ranges asked for
    start after it and within ``_REACH`` of the bytes read so far; a range before them or further on
    starts them afresh. So a reader calls ``start_at`` where a damaged stretch starts: every range
    it then checks starts after it, and the stretch and its claims are read once."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._f: BinaryIO | None = None
        self._base = 0
        self._regs = array("I")  # _regs[i]: register over file[_base : _base + i * SPAN_BLOCK] from 0
        # The blocks the last ranges' ends fell in, and the register at the last place asked in each:
        # fake headers 24 bytes apart have their ends in the same two blocks, 24 bytes on.
        self._blocks: dict[int, tuple[memoryview, int, int]] = {}

    def close(self) -> None:
        if self._f is not None:
            self._f.close()

    def start_at(self, x: int) -> None:
        """Ranges from ``x`` on are coming: keep the registers if they cover it, else start them there."""
        if not self._regs or x < self._base or x > self._base + (len(self._regs) - 1) * SPAN_BLOCK + _REACH:
            self._base, self._regs, self._blocks = x - x % SPAN_BLOCK, array("I", [0]), {}

    def crc(self, head: bytes, a: int, e: int) -> int:
        self.start_at(a)
        s = zlib.crc32(head) ^ MASK  # the register after the head, from zlib's start
        return (shift(s ^ self._at(a), e - a) ^ self._at(e)) ^ MASK

    def _at(self, x: int) -> int:
        """The register over file[_base:x] from 0."""
        k = (x - self._base) >> _BLOCK_BITS
        self._extend(k)
        start = self._base + k * SPAN_BLOCK
        data, at, reg = self._blocks.get(k) or (memoryview(self._read(start, SPAN_BLOCK)), start, self._regs[k])
        if x < at:
            at, reg = start, self._regs[k]
        reg = _run(reg, data[at - start : x - start])
        if len(self._blocks) > 2 and k not in self._blocks:
            self._blocks.clear()
        self._blocks[k] = (data, x, reg)
        return reg

    def _extend(self, k: int) -> None:
        """Registers up to block k, reading the file once from the last one."""
        regs = self._regs
        while len(regs) <= k:
            at = self._base + (len(regs) - 1) * SPAN_BLOCK
            want = min(_READ_BYTES, (k + 1 - len(regs)) * SPAN_BLOCK)
            # Zeros past the end: only a file cut shorter while it is read (its size was checked
            # against every range); the range's CRC then fails, as a short read's did.
            data = memoryview(self._read(at, want).ljust(want, b"\0"))
            r = regs[-1]
            for i in range(0, len(data) - SPAN_BLOCK + 1, SPAN_BLOCK):
                r = _run(r, data[i : i + SPAN_BLOCK])
                regs.append(r)

    def _read(self, at: int, n: int) -> bytes:
        """Through its own unbuffered handle: a read far from the reader's place leaves the reader's
        1 MiB buffer as it is (through the reader's, it costs two refills)."""
        if self._f is None:
            self._f = open(self._path, "rb", buffering=0)  # closed by close()
        self._f.seek(at)
        return self._f.read(n)
