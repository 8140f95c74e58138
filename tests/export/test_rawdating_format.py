"""Raw format version 2: dating records (SWTM) between chunks (docs/rawfile.md "Dating"). Version
1 files still read with the header's dating; a v2 file round-trips its points; a damaged dating
record is an InputError naming file, record and byte offset, a torn last one a RawWarning; a v1
file continued by the writer becomes v2; export raw and the pruning date by the records."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli

from spasmwatch.daemon.rawkeep import raw_span
from spasmwatch.errors import InputError
from spasmwatch.io.rawfile import (
    DATING_SIZE,
    HEADER_SIZE,
    DatingPoint,
    RawHeader,
    RawReader,
    RawWarning,
    RawWriter,
    open_rawfile,
)

RATE = 100.0
WALL0 = 1_800_000_000.0
HEADER = RawHeader("band-1", RATE, True, WALL0)
ACTUAL = 101.0  # the band's real rate: 1 % fast


def _rows(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(-900, 900, (n, 6)).astype(np.int16)


def _points(*indexes: int) -> list[DatingPoint]:
    return [DatingPoint(i, WALL0 + i / ACTUAL, ACTUAL) for i in indexes]


def _write_v2(path: Path, n: int = 60_000, every: int = 6000) -> list[DatingPoint]:
    pts = _points(*range(0, n, every))
    rows = _rows(n)
    with RawWriter(path, HEADER) as w:
        for p in pts:
            w.append(p.index, rows[p.index : p.index + every])
            w.date(p)
    return pts


def _write_v1(path: Path, n: int) -> None:
    """A version 1 file as the daemon wrote it before dating records (its chunks are as v2's)."""
    with RawWriter(path, HEADER) as w:
        w.append(0, _rows(n))
    with open(path, "r+b") as f:
        f.write(HEADER.pack(version=1))


def test_a_v2_file_round_trips_its_dating_and_its_samples(tmp_path: Path) -> None:
    path = tmp_path / "r.swraw"
    pts = _write_v2(path)
    r = RawReader(path)
    assert r.version == 2 and list(r.dating().points) == pts
    assert np.array_equal(np.concatenate([c.samples for c in r.chunks()]), _rows(60_000))  # chunks unchanged
    assert r.index_span() == (0, 60_000) and r.gaps() == (0, 0)
    rec = open_rawfile(path)
    for k in (0, 3000, 59_999, 70_000):  # between points, at the last, beyond it (its rate)
        assert rec.wall_at(k / RATE) == pytest.approx(WALL0 + k / ACTUAL, abs=1e-6)
        assert rec.t_at(WALL0 + k / ACTUAL) == pytest.approx(k / RATE, abs=1e-6)
    assert rec.dating.rate_hz() == pytest.approx(ACTUAL)


def test_a_v1_file_still_reads_with_its_header_dating(tmp_path: Path) -> None:
    path = tmp_path / "old.swraw"
    _write_v1(path, 5000)
    r = RawReader(path)
    assert r.version == 1 and r.dating().points == ()
    assert sum(len(c.samples) for c in r.chunks()) == 5000
    assert open_rawfile(path).wall_at(30.0) == WALL0 + 30.0  # nominal


def test_a_v1_file_continued_becomes_v2_with_its_dating(tmp_path: Path) -> None:
    path = tmp_path / "old.swraw"
    _write_v1(path, 5000)
    with RawWriter(path, HEADER) as w:
        w.append(5000, _rows(100))
        w.date(DatingPoint(5100, WALL0 + 5100 / ACTUAL, ACTUAL))
    r = RawReader(path)
    assert r.version == 2 and r.dating().points == (DatingPoint(5100, WALL0 + 5100 / ACTUAL, ACTUAL),)
    assert r.index_span() == (0, 5100)


def test_a_damaged_dating_record_names_file_record_and_offset_when_strict(tmp_path: Path) -> None:
    """Read strictly, as before damage was read past; by default the record is skipped (tests/export/test_rawdamage.py)."""
    path = tmp_path / "r.swraw"
    _write_v2(path, n=2000, every=500)
    data = bytearray(path.read_bytes())
    at = data.index(b"SWTM", data.index(b"SWTM") + 1)  # dating record 1
    data[at + 14] ^= 0xFF  # in its wall_s
    path.write_bytes(bytes(data))
    for read in (lambda: list(RawReader(path, strict=True).chunks()), lambda: RawReader(path, strict=True).dating()):
        with pytest.raises(InputError) as e:
            read()
        assert str(path) in str(e.value) and f"dating record 1 at byte {at}: CRC mismatch" in str(e.value), e.value


def test_a_torn_last_dating_record_is_skipped_with_a_warning_and_the_writer_resumes(tmp_path: Path) -> None:
    path = tmp_path / "r.swraw"
    pts = _write_v2(path, n=2000, every=500)
    size = path.stat().st_size
    at = size - DATING_SIZE
    with open(path, "r+b") as f:
        f.truncate(size - 10)  # the crash cut the last dating record
    with pytest.warns(RawWarning, match=f"dating record 3 at byte {at} is incomplete"):
        assert sum(len(c.samples) for c in RawReader(path).chunks()) == 2000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(RawReader(path).dating().points) == pts[:3]  # (quiet: chunks() names it)
    with RawWriter(path, HEADER) as w:  # cut off and continued
        w.append(2000, _rows(10))
        w.date(DatingPoint(2010, WALL0 + 2010 / ACTUAL, ACTUAL))
    assert [p.index for p in RawReader(path).dating().points] == [0, 500, 1000, 2010]


def test_a_dating_record_going_back_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r.swraw"
    _write_v2(path, n=2000, every=500)
    data = bytearray(path.read_bytes())
    at = data.index(b"SWTM", data.index(b"SWTM") + 1)
    head = struct.pack("<4sQdd", b"SWTM", 0, WALL0 - 5, ACTUAL)  # index 0 again, earlier
    data[at : at + DATING_SIZE] = head + struct.pack("<I", __import__("zlib").crc32(head))
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=f"dating record 1 at byte {at}: index 0 .* does not come after"):
        RawReader(path).dating()
    assert at > HEADER_SIZE


def test_export_raw_says_how_far_the_band_ran_from_nominal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.swraw"
    _write_v2(path)
    assert run_cli("export", "raw", str(path), "--csv", str(tmp_path / "r.csv")) == 0
    err = capsys.readouterr().err
    assert "the band's IMU ran at 101.00 Hz, not 100: the CSV's t runs 1.00 % fast of the wall (36 s an hour)" in err, err
    assert "label the .swraw with --wall-clock, not the CSV" in err


def test_export_raw_says_nothing_of_a_drift_under_one_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the docs run: a band dated at its nominal rate (the simulated band) got "the band's IMU
    ran at 50.00 Hz, not 50: the CSV's t runs 0.00 % fast of the wall (0 s an hour)"."""
    rows = _rows(60_000)
    for rate, said in ((RATE, False), (RATE * (1 + 0.5 / 60_000), False), (RATE * (1 + 2 / 60_000), True)):
        path = tmp_path / f"r{rate}.swraw"
        with RawWriter(path, HEADER) as w:
            for i in range(0, 60_000, 6000):
                w.append(i, rows[i : i + 6000])
                w.date(DatingPoint(i, WALL0 + i / rate, rate))
        assert run_cli("export", "raw", str(path), "--csv", str(tmp_path / f"r{rate}.csv")) == 0
        err = capsys.readouterr().err
        assert ("the band's IMU ran at" in err) == said, (rate, err)


def test_the_pruning_dates_a_file_by_its_dating_records(tmp_path: Path) -> None:
    path = tmp_path / "r.swraw"
    _write_v2(path, n=360_000, every=6000)  # an hour at 101 Hz: 3564 s, not 3600
    span = raw_span(str(path), mtime=0.0)
    assert span.start == WALL0 and span.end == pytest.approx(WALL0 + 360_000 / ACTUAL, abs=1e-6)
