"""The walks of a .swraw that skip the samples (``gaps``, ``index_span``, ``dating``) see the same
chunks as the full reader (``chunks``), however a chunk's header is damaged.

They jumped from a chunk's header to where its sample count said it ended, checking nothing else:
a count grown by damage hid the good chunks and dating records under it (no gap said where the full
reader has one, a day's wall times dated across a hidden dating record), one shrunk invented a gap
of the wrong size, a flipped bit in ``first_index`` invented a gap (in the last chunk: an index
span 2^20 samples long), and a last chunk whose bytes never reached the disk counted as read. Now
they check each chunk with the full reader's own code (its CRC) before they use its header.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from spasmwatch.io.rawfile import CHUNK_HEAD_SIZE, DatingPoint, RawHeader, RawReader, RawWarning, RawWriter

RATE = 100.0
WALL0 = 1_764_900_000.0
ACTUAL = 101.0  # the band 1 % fast: the dating records date it, the header's nominal dating does not
BLOCKS = 64  # of 1024 samples (4 chunks of 256), a dating record after each
HOLE = (30 * 1024 + 500, 30 * 1024 + 600)  # samples the band dropped: a real gap, seen by every walk
DAMAGED = 150  # the chunk damaged (past the hole, in chunks 120-123)
WIDTH = 12  # bytes a sample with gyro


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[DatingPoint]]:
    """64 x 1024 samples in chunks of 256, a dating record after each 1024, 100 samples dropped."""
    path = tmp_path_factory.mktemp("walk") / "clean.swraw"
    rows = np.random.default_rng(5).integers(-900, 900, (BLOCKS * 1024, 6)).astype(np.int16)
    points = []
    with RawWriter(path, RawHeader("band-1", RATE, True, WALL0)) as w:
        for b in range(BLOCKS):
            lo, hi = b * 1024, (b + 1) * 1024
            for x, y in ((lo, min(hi, HOLE[0])), (max(lo, HOLE[1]), hi)):
                if x < y:
                    w.append(x, rows[x:y])
            points.append(DatingPoint(hi, WALL0 + hi / ACTUAL, ACTUAL))
            w.date(points[-1])
    return path, points


def _chunks(path: Path) -> list[tuple[int, int, int]]:
    """(byte offset, first index, samples) of each chunk the full reader reads."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RawWarning)
        return [(c.offset, c.first_index, len(c.samples)) for c in RawReader(path).chunks()]


def _full_view(path: Path) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """(gaps, samples missing) and the index span of the chunks the full reader reads."""
    chunks = _chunks(path)
    gaps = missing = 0
    for (_, a, n), (_, b, _) in zip(chunks, chunks[1:], strict=False):
        if b > a + n:
            gaps, missing = gaps + 1, missing + b - a - n
    return (gaps, missing), (chunks[0][1], chunks[-1][1] + chunks[-1][2]) if chunks else None


def _set_count(data: bytearray, offset: int, n: int) -> None:
    data[offset + 12 : offset + 16] = n.to_bytes(4, "little")


def _damaged(clean: Path, how: str) -> bytes:
    """``clean``'s bytes damaged ``how``; every dating record is left whole."""
    data = bytearray(clean.read_bytes())
    chunks = _chunks(clean)
    off, first, n = chunks[DAMAGED]
    if how == "count too long, into a chunk's samples":  # ends 1000 bytes into the samples 3 chunks on
        _set_count(data, off, (chunks[DAMAGED + 3][0] + CHUNK_HEAD_SIZE + 996 - off - CHUNK_HEAD_SIZE) // WIDTH)
    elif how == "count too long, onto a good chunk":  # ends exactly on a later good chunk, dating records between
        j = next(j for j in range(DAMAGED + 5, len(chunks)) if (chunks[j][0] - off - CHUNK_HEAD_SIZE) % WIDTH == 0)
        assert b"SWTM" in data[off : chunks[j][0]]
        _set_count(data, off, (chunks[j][0] - off - CHUNK_HEAD_SIZE) // WIDTH)
    elif how == "count too short":
        _set_count(data, off, n - 56)
    elif how == "first_index up":
        data[off + 4 + 2] ^= 0x10  # + 2^20
    elif how == "first_index down":
        data[off + 4 : off + 12] = (first & ~(1 << (first.bit_length() - 1))).to_bytes(8, "little")  # its top bit off
    elif how == "last chunk's first_index up":
        last = chunks[-1][0]
        data[last + 4 + 2] ^= 0x10
    elif how == "samples":
        data[off + CHUNK_HEAD_SIZE + 100] ^= 0x01
    elif how == "dropped":
        data[off + 16] ^= 0x01
    elif how == "last chunk never reached the disk":  # its header written, its samples zeros (a crash)
        last, _, n = chunks[-1]
        data = data[: last + CHUNK_HEAD_SIZE] + bytes(n * WIDTH)
    elif how == "cut in the last chunk's samples":
        data = data[: chunks[-1][0] + CHUNK_HEAD_SIZE + 1000]
    else:
        raise ValueError(how)
    return bytes(data)


HOWS = ["count too long, into a chunk's samples", "count too long, onto a good chunk", "count too short", "first_index up",
        "first_index down", "last chunk's first_index up", "samples", "dropped", "last chunk never reached the disk",
        "cut in the last chunk's samples"]  # fmt: skip
TAILS = ("last chunk never reached the disk", "cut in the last chunk's samples")  # the last dating record never written


@pytest.mark.parametrize("how", HOWS)
def test_the_header_walks_see_the_chunks_the_full_reader_reads(tmp_path: Path, clean: tuple[Path, list[DatingPoint]], how: str) -> None:
    src, points = clean
    path = tmp_path / "damaged.swraw"
    path.write_bytes(_damaged(src, how))
    (gaps, missing), span = _full_view(path)
    assert gaps >= 1 and missing >= HOLE[1] - HOLE[0]  # the real gap, and in the middle the damaged chunk's samples
    r = RawReader(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # quiet: ``chunks`` names the damage
        assert r.gaps() == (gaps, missing)
        assert r.index_span() == span
        # No dating record is damaged: every one is read (one after the last good chunk too); the
        # crashes lost the last.
        assert r.dating().points == tuple(points[:-1] if how in TAILS else points)


def test_the_header_walks_of_a_clean_file_are_the_full_reader_s(clean: tuple[Path, list[DatingPoint]]) -> None:
    src, points = clean
    r = RawReader(src)
    assert r.gaps() == _full_view(src)[0] == (1, HOLE[1] - HOLE[0])
    assert r.index_span() == _full_view(src)[1] == (0, BLOCKS * 1024)
    assert r.dating().points == tuple(points)


def test_a_strict_header_walk_stops_at_the_first_damaged_chunk(tmp_path: Path, clean: tuple[Path, list[DatingPoint]]) -> None:
    """As before (``chunks`` strict raises there): the walks see the chunks before it."""
    src, _ = clean
    path = tmp_path / "damaged.swraw"
    path.write_bytes(_damaged(src, "count too long, onto a good chunk"))
    chunks = _chunks(src)
    assert RawReader(path, strict=True).index_span() == (0, chunks[DAMAGED][1])
    assert os.path.getsize(path) == os.path.getsize(src)


def test_pruning_reads_a_file_s_dating_and_span_in_one_walk(clean: tuple[Path, list[DatingPoint]], monkeypatch: pytest.MonkeyPatch) -> None:
    """rawkeep.raw_span asked ``dating()`` and then ``index_span()``: two walks of every file it
    prunes by (0.19 s for a day's file, now 0.12 s). ``outline()`` gives both from one; the two
    stay what they were. Old code: 2 walks."""
    from spasmwatch.daemon.rawkeep import raw_span

    path, points = clean
    walks = []
    walk = RawReader._records

    def counted(self: RawReader, payloads: bool) -> object:
        walks.append(payloads)
        return walk(self, payloads)

    monkeypatch.setattr(RawReader, "_records", counted)
    span = raw_span(str(path), 0.0)
    assert walks == [False]
    dating, index_span = RawReader(path).outline()
    assert (dating.points, index_span) == (tuple(points), (0, BLOCKS * 1024))
    assert (span.start, span.end) == (dating.wall_at(0), dating.wall_at(BLOCKS * 1024))
