"""A .swraw damaged in its middle (a flipped bit on an SD card, a bad sector) is read past.

The reader skips a damaged chunk or dating record and carries on from the next good one; its
samples are a gap, held as any other, and each command says the damage once per file. Before,
one damaged chunk made the whole night unreadable: every command exited 2 with 'field 'crc':
chunk N at byte B: CRC mismatch, the chunk is damaged'. ``--strict`` keeps that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_runner import run_cli

from spasmwatch.commands.replay import replay_recording
from spasmwatch.errors import InputError
from spasmwatch.io.rawboot import open_recordings
from spasmwatch.io.rawfile import (CHUNK_HEAD_SIZE, DATING_SIZE, HEADER_SIZE, DatingPoint, RawDamageWarning, RawHeader, RawReader,
                                   RawWarning, RawWriter, open_rawfile)  # fmt: skip

RATE = 52.0
WALL0 = 1_709_510_400.0
DAMAGED = 61  # the chunk damaged: 4.9 s of samples 5 min into the quarter of an hour (_layout)


@pytest.fixture(scope="module")
def morning(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A simulated quarter of an hour with a cluster, written as the daemon writes it (records of 16
    samples, chunks of 256, a dating record every 80 records: 5 chunks)."""
    from spasmwatch.sim import Scenario, simulate

    rec = simulate(Scenario(duration_s=900.0, seed=3, rate_hz=RATE, clusters=1))
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(rec.gyro * 10)]).astype(np.int16)
    path = tmp_path_factory.mktemp("clean") / "morning.swraw"
    _write(path, counts, skip=None)
    return path, counts


def _write(path: Path, counts: np.ndarray, skip: tuple[int, int] | None) -> None:
    """The morning as the daemon writes it; ``skip``: the samples [a, b) never written (a gap)."""
    with RawWriter(path, RawHeader("band-1", RATE, True, WALL0)) as w:
        for k, i in enumerate(range(0, len(counts), 16)):
            lo, hi = i, min(i + 16, len(counts))
            for x, y in [(lo, min(hi, skip[0])), (max(lo, skip[1]), hi)] if skip else [(lo, hi)]:
                if x < y:
                    w.append(x, counts[x:y], 0)
            if k % 80 == 79:
                w.date(DatingPoint(hi, WALL0 + hi / (RATE * 1.01), RATE * 1.01))


def _layout(path: Path) -> tuple[list[tuple[int, int, int]], list[int]]:
    """(offset, first index, samples) of each chunk, and the dating records' offsets. Chunks 60-63 are
    whole chunks of 256 samples with no dating record between them (a dating record ends a chunk early)."""
    chunks = [(c.offset, c.first_index, len(c.samples)) for c in RawReader(path).chunks()]
    data = path.read_bytes()
    ends = [off + CHUNK_HEAD_SIZE + n * 12 for off, _, n in chunks]
    assert all(chunks[k][2] == 256 and ends[k] == chunks[k + 1][0] for k in range(DAMAGED - 1, DAMAGED + 2)), chunks[55:65]
    return chunks, [e for e in ends if data[e : e + 4] == b"SWTM"]


def _damaged(tmp_path: Path, clean: Path, how: str) -> tuple[Path, int, tuple[int, int], str]:
    """A copy of ``clean`` damaged ``how``: (path, byte offset of the damaged record, samples lost [a, b),
    the record as the reader names it)."""
    data = bytearray(clean.read_bytes())
    chunks, dating = _layout(clean)
    off, first, n = chunks[DAMAGED]
    lost = (first, first + n)
    field_at = {"payload": off + CHUNK_HEAD_SIZE + 100, "magic": off + 1, "first_index": off + 6,
                "n_samples": off + 13, "crc": off + 21}  # fmt: skip
    if how in field_at:
        data[field_at[how]] ^= 0x10
    elif how == "garbage":  # 300 bytes over the boundary of two chunks: both are lost
        nxt = chunks[DAMAGED + 1][0]
        data[nxt - 150 : nxt + 150] = np.random.default_rng(7).integers(0, 256, 300, dtype=np.uint8).tobytes()
        lost = (first, chunks[DAMAGED + 1][1] + chunks[DAMAGED + 1][2])
    what = f"chunk {DAMAGED}"
    if how == "dating":
        number, off = next((k, d) for k, d in enumerate(dating) if d > off)
        data[off + 14] ^= 0x10  # in its wall_s
        lost, what = (0, 0), f"dating record {number}"
    path = tmp_path / f"{how}.swraw"
    path.write_bytes(bytes(data))
    return path, off, lost, what


def _records(path: Path, strict: bool = False) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RawDamageWarning)
        return list(replay_recording(open_recordings([str(path)], strict=strict)))


def _touches(r: dict[str, Any], a: float, b: float) -> bool:
    """A record with a time within [a, b] s (a spasm: its span)."""
    lo = r.get("start", r.get("t"))
    hi = r.get("end", (r.get("t") or 0.0) + r.get("duration_s", 0.0))
    return lo is not None and lo <= b and hi >= a


HOWS = ["payload", "magic", "first_index", "n_samples", "crc", "garbage", "dating"]


@pytest.mark.parametrize("how", HOWS)
def test_a_damaged_record_in_the_middle_is_read_past_as_a_gap(tmp_path: Path, morning: tuple[Path, np.ndarray], how: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """The replay of a damaged file is the replay of the file without the lost samples (a gap, held),
    and the clean file's outside the lost span; the warning names the file, record, byte and loss."""
    clean, counts = morning
    path, off, (a, b), what = _damaged(tmp_path, clean, how)
    with pytest.warns(RawDamageWarning) as caught:
        n = sum(len(c.samples) for c in RawReader(path).chunks())
    assert n == len(counts) - (b - a)
    message = str(caught[0].message)
    assert message.startswith(f"{path}: {what} at byte {off} is damaged ("), message
    assert (f"samples {a}-{b - 1} ({b - a}) are lost" if b > a else "no sample is lost") in message, message
    got = _records(path)
    if b > a:
        gap = tmp_path / "gap.swraw"
        _write(gap, counts, skip=(a, b))
        assert got == _records(gap)  # exactly a gap
    span = (a / RATE - 60.0, b / RATE + 60.0)  # the detector's context around the gap
    clean_recs = _records(clean)
    assert [r for r in got if not _touches(r, *span)] == [r for r in clean_recs if not _touches(r, *span)]
    assert any(r["type"] == "cluster" for r in got)
    assert run_cli("replay", str(path), "--jsonl") == 0  # in-process: the lines on stderr
    err = capsys.readouterr().err.splitlines()
    said = [line for line in err if "damaged" in line and "--strict refuses the file instead" in line]
    assert len(said) == 1 and said[0].startswith(f"{path}: {what} at byte {off} is damaged ("), err
    if b > a:
        assert f"{b - a} samples ({(b - a) / RATE:.1f} s) are replayed as a gap" in said[0], said
        assert f"{path}: {b - a} samples ({(b - a) / RATE:.1f} s) missing in 1 gap(s): where the file is damaged" in err[0], err
    with pytest.raises(InputError, match=rf"{what} at byte {off}: "):
        _records(path, strict=True)


def test_strict_exits_2_as_before_and_the_default_names_the_damage_once(tmp_path: Path, morning: tuple[Path, np.ndarray]) -> None:
    clean, _ = morning
    path, off, (a, b), _ = _damaged(tmp_path, clean, "payload")
    env = {**os.environ, "PYTHONPATH": ":".join(sys.path)}  # this tree's package
    base = [sys.executable, "-m", "spasmwatch", "replay", str(path), "--jsonl"]
    res = subprocess.run(base + ["--strict"], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 2 and res.stdout == "", res
    assert res.stderr == (f"spasmwatch replay: error: {path}: field 'crc': chunk {DAMAGED} at byte {off}: CRC mismatch, "
                          "the chunk is damaged\n")  # fmt: skip
    res = subprocess.run(base, capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert lines[-1] == (f"{path}: chunk {DAMAGED} at byte {off} is damaged (CRC mismatch): its {b - a} samples "
                         f"({(b - a) / RATE:.1f} s) are replayed as a gap; --strict refuses the file instead"), lines  # fmt: skip
    assert len(lines) == 2 and "warning" not in res.stderr, lines


def test_every_command_reading_a_swraw_reads_past_damage_or_refuses_it_with_strict(
    tmp_path: Path, morning: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    """export raw, truth (--wall-clock: the dating too), taps and evaluate as replay: the damage said
    once per file, its samples a gap; --strict exits 2 (InputError) as every one did before."""
    clean, counts = morning
    path, off, (a, b), _ = _damaged(tmp_path, clean, "garbage")
    events = tmp_path / "events.tsv"
    events.write_text("onset\tduration\ttrial_type\n10.0\t1.0\tspasm\n")
    wall = tmp_path / "wall.tsv"
    from datetime import datetime

    local = datetime.fromtimestamp(WALL0 + 20.0).astimezone().strftime("%H:%M:%S")
    wall.write_text(f"onset\tduration\ttrial_type\n{local}\t1.0\tspasm\n")
    commands = [
        ["export", "raw", str(path), "--csv", str(tmp_path / "out.csv")],
        ["truth", str(path), str(wall), "--wall-clock", "-o", str(tmp_path / "w.truth.json")],
        ["taps", str(path)],
        ["truth", str(path), str(events)],  # beside it: what evaluate scores against
        ["evaluate", str(path), "--jobs", "1"],
    ]
    for argv in commands:
        # evaluate --strict: its truth's span, from the headers, stops at the damage first (exit 2 too):
        # before the damaged chunk, which the strict read refuses (the walk took it whole: 305.231 s)
        with pytest.raises(InputError, match=rf"chunk {DAMAGED} at byte {off}: CRC mismatch|holds {a / RATE:.3f} s"):
            run_cli(*argv, "--strict")
        capsys.readouterr()
        assert run_cli(*argv) == 0, argv
        err = capsys.readouterr().err.splitlines()
        said = [line for line in err if line.endswith("--strict refuses the file instead")]
        assert len(said) == 1 and said[0].startswith(f"{path}: chunk {DAMAGED} at byte {off} is damaged (CRC mismatch): "
                                                     f"the {b - a} samples ({(b - a) / RATE:.1f} s) are "), (argv, err)  # fmt: skip
    csv_rows = (tmp_path / "out.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + len(counts)  # the lost samples held


def test_damage_before_the_first_and_after_the_last_good_chunk(tmp_path: Path, morning: tuple[Path, np.ndarray]) -> None:
    """The first chunk's magic damaged: the recording starts at the next; garbage to the end of the
    file (not a torn last chunk: kilobytes of it): read to the last good chunk, and said."""
    clean, counts = morning
    chunks, _ = _layout(clean)
    data = bytearray(clean.read_bytes())
    data[chunks[0][0]] ^= 0x01
    tail = chunks[-3][0] + 7
    data[tail:] = np.random.default_rng(1).integers(0, 256, len(data) - tail, dtype=np.uint8).tobytes()
    path = tmp_path / "ends.swraw"
    path.write_bytes(bytes(data))
    rec = open_rawfile(path)
    assert rec.t0 == chunks[1][1] / RATE
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n = sum(len(c) for c in rec.chunks())
    assert n == chunks[-3][1] - chunks[1][1]
    first, last = (w.message for w in caught if issubclass(w.category, RawWarning))  # the reader's own (test_rawfakes)
    assert isinstance(first, RawDamageWarning) and first.damage.what == "chunk 0" and first.damage.lost is None
    assert isinstance(last, RawDamageWarning) and last.damage.before is None
    assert str(last).endswith(f"nothing readable follows it: the file's last {len(data) - chunks[-3][0]} bytes are lost")
    assert RawReader(path).index_span() == (chunks[1][1], chunks[-3][1])


def test_structural_faults_between_good_chunks_stay_errors(tmp_path: Path, morning: tuple[Path, np.ndarray]) -> None:
    """Not damage: a good chunk whose index goes back (past damage too), dating records out of order."""
    clean, _ = morning
    chunks, dating = _layout(clean)
    data = bytearray(clean.read_bytes())
    # The chunk after the damaged one replaced by a good copy of the one before (its index goes back).
    before, damaged, after = chunks[DAMAGED - 1], chunks[DAMAGED], chunks[DAMAGED + 1]
    size = CHUNK_HEAD_SIZE + 256 * 12
    data[after[0] : after[0] + size] = data[before[0] : before[0] + size]
    data[damaged[0] + CHUNK_HEAD_SIZE] ^= 0x01
    path = tmp_path / "back.swraw"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=rf"chunk {DAMAGED + 1} at byte {after[0]}: sample index {before[1]} goes back"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RawDamageWarning)
        list(RawReader(path).chunks())
    data = bytearray(clean.read_bytes())
    d0, d1 = dating[0], dating[1]
    data[d0 : d0 + DATING_SIZE], data[d1 : d1 + DATING_SIZE] = data[d1 : d1 + DATING_SIZE], data[d0 : d0 + DATING_SIZE]
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="does not come after the record before"):
        RawReader(path).dating()


def test_a_part_s_first_chunk_damaged_is_told_apart_from_the_gap_between_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Parts of a boot replayed as one: the gap before the second part holds 100 samples the daemon
    never had and the 256 of its damaged first chunk; the report tells them apart."""
    counts = np.random.default_rng(0).integers(-40, 40, size=(20000, 6)).astype(np.int16)
    h = RawHeader("band-1", 50.0, True, WALL0)
    a, b = tmp_path / "band-1-boot3-000.swraw", tmp_path / "band-1-boot3-001.swraw"
    with RawWriter(a, h) as w:
        w.append(0, counts[:10000])
    with RawWriter(b, RawHeader("band-1", 50.0, True, h.wall_at(10100), index_origin=10100)) as w:
        w.append(10100, counts[10100:])
    data = bytearray(b.read_bytes())
    data[HEADER_SIZE + CHUNK_HEAD_SIZE + 5] ^= 0x01
    b.write_bytes(bytes(data))
    assert run_cli("replay", str(a), str(b), "--jsonl") == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{a} .. {b} (2 parts): 356 samples (7.1 s) missing in 1 gap(s) (1 between parts, e.g. a part "
                             "not given): 256 samples (5.1 s) in 1 where the file is damaged (said below), the others dropped by the band"), err  # fmt: skip
    assert err[1] == (f"{b}: chunk 0 at byte {HEADER_SIZE} is damaged (CRC mismatch): its 256 samples (5.1 s) are replayed "
                      "as a gap; --strict refuses the file instead"), err  # fmt: skip


def test_several_damaged_stretches_of_a_file_are_said_in_one_line(tmp_path: Path, morning: tuple[Path, np.ndarray],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    clean, counts = morning
    chunks, _ = _layout(clean)
    data = bytearray(clean.read_bytes())
    for k in (DAMAGED - 1, DAMAGED + 1):  # a good chunk between: two stretches
        data[chunks[k][0] + CHUNK_HEAD_SIZE + 7] ^= 0x01
    path = tmp_path / "two.swraw"
    path.write_bytes(bytes(data))
    assert run_cli("replay", str(path), "--jsonl") == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}: 512 samples (9.8 s) missing in 2 gap(s): where the file is damaged"), err
    assert err[1] == (f"{path}: 2 damaged chunks or dating records (chunk {DAMAGED - 1} at byte {chunks[DAMAGED - 1][0]} "
                      f"(CRC mismatch); chunk {DAMAGED + 1} at byte {chunks[DAMAGED + 1][0]} (CRC mismatch)): their 512 "
                      "samples (9.8 s) are replayed as a gap; --strict refuses the file instead"), err  # fmt: skip
    assert len(err) == 2
