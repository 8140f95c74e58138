"""A .swraw whose damaged stretch is full of fake chunk headers (a crafted file) is read past in
time and reads linear in the file's size.

Each fake has the chunk magic and a sample count in range, so the reader checks its CRC; one
that claims a long payload was checked by reading the payload: the cost was the sum of the
claims (10 000 fakes claiming 1.2 MB each: 12 GB read for a 6 MB file; bench/raw_damage.py:
2 s per 10 kB of fakes claiming 12 MB). Now a long payload's CRC comes from registers kept over
the file (``io._spancrc``), so the bytes read stay a few times the file's size, and the good
chunk right after the fakes is found as before, the fakes said as one damaged stretch. A fake
whose claimed end lands on a good chunk no longer hides the good chunks between (the reader
stepped to that end), and a million damaged stretches are counted, not each kept.
"""

from __future__ import annotations

import os
import random
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from spasmwatch.commands._rawdamage import damage_notes, reading_past_damage
from spasmwatch.errors import InputError
from spasmwatch.io._spancrc import SpanCrc, shift
from spasmwatch.io.limits import MAX_LISTED_DAMAGE
from spasmwatch.io.rawfile import (CHUNK_HEAD_SIZE, CHUNK_MAGIC, RawDamage, RawDamageLeftOutWarning, RawDamageWarning, RawHeader, RawReader,
                                   RawWarning, RawWriter, open_rawfile)  # fmt: skip

RATE = 100.0
CHUNKS = 2000  # of 256 samples with gyro: 6.2 MB
FIRST_LOST, LOST_CHUNKS = 500, 100  # the chunks the fakes take the place of
FAKES = 10_000


@pytest.fixture(autouse=True)
def _linux_only() -> None:
    if not os.path.exists("/proc/self/io"):
        pytest.skip("counts the bytes read from /proc/self/io (Linux)")


def _bytes_read() -> int:
    """Bytes this process has read from files so far (Linux: /proc/self/io)."""
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


def _walks_agree(path: Path, chunks: list[tuple[int, int]]) -> None:
    """The walks that skip the samples (``gaps``, ``index_span``, ``dating``) see the chunks ``chunks``
    ((first index, samples) of each, as ``chunks()`` read them), reading the file a few times at most.
    They stepped to where each fake said it ended, taking its samples as read."""
    gaps = sum(b > a + n for (a, n), (b, _) in zip(chunks, chunks[1:], strict=False))
    missing = sum(max(b - a - n, 0) for (a, n), (b, _) in zip(chunks, chunks[1:], strict=False))
    size = path.stat().st_size
    for walk, want in ((RawReader.gaps, (gaps, missing)), (RawReader.index_span, (chunks[0][0], sum(chunks[-1]))),
                       (lambda r: r.dating().points, ())):  # fmt: skip
        before = _bytes_read()
        assert walk(RawReader(path)) == want
        assert _bytes_read() - before < 3 * size, walk


def _fakes(claimed: int, in_order_from: int | None) -> bytes:
    """FAKES chunk headers back to back with a wrong CRC, each claiming ``claimed`` samples (1: its
    sample follows it); their index in order from ``in_order_from`` (an intact-looking header), or 0
    (going back: the reader cannot step over one)."""
    out = []
    for j in range(FAKES):
        first = 0 if in_order_from is None else in_order_from + j
        head = CHUNK_MAGIC + first.to_bytes(8, "little") + claimed.to_bytes(4, "little") + bytes(4) + (0x5EED0BAD).to_bytes(4, "little")
        out.append(head + (np.array([0, 0, 1000, 0, 0, 0], "<i2").tobytes() if claimed == 1 else b""))
    return b"".join(out)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, int]]]:
    """CHUNKS chunks of a still band; (offset, first index) of each."""
    path = tmp_path_factory.mktemp("fakes") / "clean.swraw"
    rng = np.random.default_rng(1)
    with RawWriter(path, RawHeader("band-1", RATE, True, 1_764_900_000.0)) as w:
        block = rng.integers(-40, 40, size=(CHUNKS * 256, 6)).astype(np.int16)
        block[:, 2] += 1000
        w.append(0, block)
    return path, [(c.offset, c.first_index) for c in RawReader(path).chunks()]


@pytest.mark.parametrize(("claimed", "in_order"), [(100_000, False), (1, True)], ids=["claiming 1.2 MB, index back", "1 sample, index in order"])
def test_the_good_chunk_after_10000_fake_headers_is_found_and_the_fakes_are_one_damaged_stretch(
        tmp_path: Path, clean: tuple[Path, list[tuple[int, int]]], claimed: int, in_order: bool) -> None:  # fmt: skip
    src, chunks = clean
    (start, first), (end, after) = chunks[FIRST_LOST], chunks[FIRST_LOST + LOST_CHUNKS]
    fakes = _fakes(claimed, first if in_order else None)
    data = src.read_bytes()
    path = tmp_path / "fakes.swraw"
    path.write_bytes(data[:start] + fakes + data[end:])
    size, lost = path.stat().st_size, after - first

    before = _bytes_read()
    reader = RawReader(path)
    with reading_past_damage():
        got = [(c.offset, c.first_index, len(c.samples)) for c in reader.chunks()]
    read = _bytes_read() - before

    # The good chunk right after the fakes, and every one after it, is read.
    assert got[FIRST_LOST] == (start + len(fakes), after, 256)
    assert len(got) == CHUNKS - LOST_CHUNKS and sum(n for *_, n in got) == (CHUNKS - LOST_CHUNKS) * 256
    # One damaged stretch: the first fake, read on from the good chunk; its bytes and samples.
    assert reader.damage == [RawDamage(str(path), f"chunk {FIRST_LOST}", start, "CRC mismatch", start + len(fakes), first, after,
                                       1 if in_order else None)]  # fmt: skip
    assert reader.damage[0].resumed_at - reader.damage[0].offset == len(fakes)
    # Linear: the file is read about twice (the walk, and the registers over the claims), not 10 000 x 1.2 MB.
    assert read < 3 * size, f"read {read} bytes for a file of {size}"
    _walks_agree(path, [(first, n) for _, first, n in got])

    rec = open_rawfile(path)
    with reading_past_damage():
        n = sum(len(b) for b in rec.chunks())
    assert n == CHUNKS * 256  # the lost samples held as a gap
    assert (rec.read_gaps.damaged, rec.read_gaps.damaged_missing) == (1, lost)
    assert damage_notes(rec, "replayed as a gap") == [
        f"{path}: chunk {FIRST_LOST} at byte {start} is damaged (CRC mismatch): the {lost} samples ({lost / RATE:.1f} s) are "
        "replayed as a gap; --strict refuses the file instead"
    ]
    with pytest.raises(InputError, match=f"field 'crc': chunk {FIRST_LOST} at byte {start}: CRC mismatch"):
        list(RawReader(path, strict=True).chunks())


def test_a_fake_header_claiming_samples_past_a_good_chunk_does_not_hide_it(tmp_path: Path, clean: tuple[Path, list[tuple[int, int]]]) -> None:
    """Nested fakes: each claims the samples up to one short of the file's end (each inside the one
    before it; one claiming exactly to the end would read as a torn last chunk, as before); the good
    chunk after them is found, reading the file a few times at most."""
    src, chunks = clean
    (start, first), (end, after) = chunks[FIRST_LOST], chunks[FIRST_LOST + LOST_CHUNKS]
    data = src.read_bytes()
    tail = len(data) - end
    heads = []
    for j in range(FAKES):
        n = (FAKES * CHUNK_HEAD_SIZE - j * CHUNK_HEAD_SIZE - CHUNK_HEAD_SIZE + tail) // 12 - 1
        heads.append(CHUNK_MAGIC + bytes(8) + n.to_bytes(4, "little") + bytes(4) + (0x5EED0BAD).to_bytes(4, "little"))
    path = tmp_path / "nested.swraw"
    path.write_bytes(data[:start] + b"".join(heads) + data[end:])
    before = _bytes_read()
    reader = RawReader(path)
    with reading_past_damage():
        n = sum(len(c.samples) for c in reader.chunks())
    assert _bytes_read() - before < 3 * path.stat().st_size
    assert n == (CHUNKS - LOST_CHUNKS) * 256
    assert [(d.offset, d.resumed_at, d.lost) for d in reader.damage] == [(start, start + FAKES * CHUNK_HEAD_SIZE, after - first)]


def test_span_crc_is_zlib_s_crc_of_the_range(tmp_path: Path) -> None:
    """The registers give zlib's CRC-32 of any range after any head (ranges forward, back, far on)."""
    rng = random.Random(3)
    data = rng.randbytes(1 << 21)
    path = tmp_path / "bytes"
    path.write_bytes(data)
    spans = SpanCrc(str(path))
    try:
        for k in range(600):
            a = rng.randrange(len(data))
            e = min(len(data), a + (rng.randrange(40) if k % 2 else rng.randrange(1 << 20)))
            head = rng.randbytes(20)
            assert spans.crc(head, a, e) == zlib.crc32(data[a:e], zlib.crc32(head)), (a, e)
    finally:
        spans.close()
    for n in (0, 1, 4095, 4096, 4097, 12 * (1 << 20), (1 << 24) - 1):
        assert shift(0x1234ABCD, n) == zlib.crc32(bytes(n), 0x1234ABCD ^ 0xFFFFFFFF) ^ 0xFFFFFFFF, n


def _good_chunk(first: int) -> bytes:
    """A chunk of one sample (a still band's) with a right CRC."""
    payload = np.array([0, 0, 1000, 0, 0, 0], "<i2").tobytes()
    head = CHUNK_MAGIC + first.to_bytes(8, "little") + (1).to_bytes(4, "little") + bytes(4)
    return head + zlib.crc32(payload, zlib.crc32(head)).to_bytes(4, "little") + payload


PAIRS = 10_000  # a good chunk and a fake, alternating: 600 kB
AHEAD = 1000  # pairs a fake's claim spans: its end is the good chunk AHEAD pairs on


def test_a_fake_whose_claimed_end_lands_on_a_good_chunk_hides_no_good_chunk_between(
        tmp_path: Path, clean: tuple[Path, list[tuple[int, int]]]) -> None:  # fmt: skip
    """A good 1-sample chunk and a fake header (index in order, CRC wrong) alternating, each fake
    claiming the 60 kB up to the good chunk AHEAD pairs on. The reader stepped to that end (the fake's
    header looks intact and the record there is good): of the 10 000 good chunks, 10 were read, the
    samples of the 9990 others reported lost. Now every good chunk is read, reading the file a few
    times at most; each fake is a damaged stretch of one sample."""
    src, chunks = clean
    (start, first), (end, after) = chunks[FIRST_LOST], chunks[FIRST_LOST + LOST_CHUNKS]
    pair = CHUNK_HEAD_SIZE + 12 + CHUNK_HEAD_SIZE
    claimed = (AHEAD - 1) * pair // 12  # from the fake (a good chunk's 36 bytes in), 24 + 12 x claimed on: the good chunk AHEAD pairs on
    region = b"".join(_good_chunk(first + 2 * j) + CHUNK_MAGIC + (first + 2 * j + 1).to_bytes(8, "little") + claimed.to_bytes(4, "little")
                      + bytes(4) + (0x5EED0BAD).to_bytes(4, "little") for j in range(PAIRS))  # fmt: skip
    assert claimed * 12 > 16384 and (pair + claimed * 12) % pair == 0  # checked from the registers, ends on a good chunk
    data = src.read_bytes()
    path = tmp_path / "alternating.swraw"
    path.write_bytes(data[:start] + region + data[end:])

    before = _bytes_read()
    reader = RawReader(path)
    with reading_past_damage():
        got = [(c.offset, c.first_index) for c in reader.chunks()]
    read = _bytes_read() - before
    assert got[FIRST_LOST : FIRST_LOST + PAIRS] == [(start + j * pair, first + 2 * j) for j in range(PAIRS)]
    assert got[FIRST_LOST + PAIRS] == (start + len(region), after)
    assert len(got) == CHUNKS - LOST_CHUNKS + PAIRS
    assert read < 3 * path.stat().st_size, f"read {read} bytes for a file of {path.stat().st_size}"
    _walks_agree(path, [(first, 256 if offset < start or offset >= start + len(region) else 1) for offset, first in got])


def test_a_damaged_chunk_claiming_to_end_on_a_later_good_chunk_loses_only_itself(tmp_path: Path, clean: tuple[Path, list[tuple[int, int]]]) -> None:
    """A writer's chunk whose header claims the samples up to the chunk 10 on (its index in order, its
    CRC failing): the 9 good chunks between are read; its own 256 samples are the one loss."""
    src, chunks = clean
    (start, first), (nxt, _), (ten_on, _) = chunks[FIRST_LOST], chunks[FIRST_LOST + 1], chunks[FIRST_LOST + 10]
    data = bytearray(src.read_bytes())
    data[start + 12 : start + 16] = ((ten_on - start - CHUNK_HEAD_SIZE) // 12).to_bytes(4, "little")
    path = tmp_path / "claims.swraw"
    path.write_bytes(bytes(data))
    reader = RawReader(path)
    with reading_past_damage():
        got = [(c.offset, c.first_index) for c in reader.chunks()]
    assert got == chunks[:FIRST_LOST] + chunks[FIRST_LOST + 1 :]
    assert [(d.offset, d.resumed_at, d.lost) for d in reader.damage] == [(start, nxt, 256)]


def test_more_damaged_stretches_than_listed_are_counted_exactly_and_listed_up_to_the_limit(
        tmp_path: Path, clean: tuple[Path, list[tuple[int, int]]]) -> None:  # fmt: skip
    """A good 1-sample chunk and a damaged one (CRC wrong) alternating, 500 pairs more than
    MAX_LISTED_DAMAGE: each damaged chunk a stretch of its own. The reader kept a RawDamage for every
    one (~375 bytes each: 605 MB for the 1.46 million of 100 MB); now it lists the first
    MAX_LISTED_DAMAGE, warns of the rest once, and its totals, the replay's gaps and the command's
    note count every one."""
    src, chunks = clean
    (start, first), (end, after) = chunks[FIRST_LOST], chunks[FIRST_LOST + LOST_CHUNKS]
    pairs = MAX_LISTED_DAMAGE + 500
    assert 2 * pairs <= after - first
    bad = [bytearray(_good_chunk(first + 2 * j + 1)) for j in range(pairs)]
    for b in bad:
        b[20] ^= 0x01  # its CRC: the header intact
    region = b"".join(_good_chunk(first + 2 * j) + bytes(b) for j, b in enumerate(bad))
    data = src.read_bytes()
    path = tmp_path / "many.swraw"
    path.write_bytes(data[:start] + region + data[end:])

    reader = RawReader(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n = sum(len(c.samples) for c in reader.chunks())
    assert n == (CHUNKS - LOST_CHUNKS) * 256 + pairs
    t = reader.damage_totals
    lost = pairs - 1 + (after - (first + 2 * pairs - 1))  # a sample each, the last one to the good chunk after
    assert (t.count, t.lost, t.damaged_bytes, t.unknown, t.tail) == (pairs, lost, pairs * 36, False, None)
    assert len(reader.damage) == MAX_LISTED_DAMAGE and t.left_out == 500
    assert [d.offset for d in reader.damage] == [start + 36 + 72 * j for j in range(MAX_LISTED_DAMAGE)]
    assert t.last is not None and (t.last.offset, t.last.before) == (start + 36 + 72 * (pairs - 1), after)
    # Only the reader's own: catch_warnings records every warning the process gives meanwhile, and in
    # a full suite one more came here (10 002; not seen alone: another test's, such as a
    # ResourceWarning of a file left to the garbage collector).
    said = [w.message for w in caught if issubclass(w.category, RawWarning)]
    assert len(said) == MAX_LISTED_DAMAGE + 1 and all(type(m) is RawDamageWarning for m in said[:-1])
    assert isinstance(said[-1], RawDamageLeftOutWarning) and str(said[-1]) == (
        f"{path}: 500 more damaged stretches read past, not listed one by one (the first {MAX_LISTED_DAMAGE} are): "
        f"{pairs} in all over {pairs * 36} bytes, {lost} samples lost")

    rec = open_rawfile(path)
    with reading_past_damage():
        assert sum(len(b) for b in rec.chunks()) == CHUNKS * 256
    assert (rec.read_gaps.damaged, rec.read_gaps.damaged_missing) == (pairs, lost)
    assert damage_notes(rec, "replayed as a gap") == [
        f"{path}: {pairs} damaged chunks or dating records (chunk {FIRST_LOST + 1} at byte {start + 36} (CRC mismatch); chunk "
        f"{FIRST_LOST + 3} at byte {start + 108} (CRC mismatch); chunk {FIRST_LOST + 5} at byte {start + 180} (CRC mismatch); "
        f"and {pairs - 3} more, {pairs * 36} bytes in all): their {lost} samples ({lost / RATE:.1f} s) are replayed as a gap; "
        "--strict refuses the file instead"
    ]
