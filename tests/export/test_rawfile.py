"""The raw recording format: write, crash, read back, replay, convert to the replay CSV."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli

from spasmwatch.errors import InputError
from spasmwatch.io import open_recording
from spasmwatch.io.rawfile import CHUNK_HEAD_SIZE, HEADER_SIZE, RawHeader, RawReader, RawWarning, RawWriter, open_rawfile, to_csv
from spasmwatch.store import Store

RATE = 52.0


def _samples(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = rng.integers(-50, 50, size=(n, 6)).astype(np.int16)
    s[:, 2] += 1000  # gravity on z, 1 g = 1000 mg
    return s


def _write(path: Path, records: list[tuple[int, np.ndarray, int]], chunk: int = 256) -> RawHeader:
    h = RawHeader("band-1", RATE, True, 1_709_510_400.0, index_origin=100)
    with RawWriter(path, h, chunk_samples=chunk) as w:
        for first, s, dropped in records:
            w.append(first, s, dropped)
    return h


def test_header_and_chunks_round_trip_with_a_gap(tmp_path: Path) -> None:
    data = _samples(1000)
    path = tmp_path / "r.swraw"
    # records of 19 samples (a 244-byte MTU); 40 samples lost after sample 500
    recs = [(100 + i, data[i : i + 19], 0) for i in range(0, 494, 19)] + [(100 + 494 + 40, data[494:], 40)]
    h = _write(path, recs)
    r = RawReader(path)
    assert r.header == h
    chunks = list(r.chunks())
    got = np.concatenate([c.samples for c in chunks])
    assert np.array_equal(got, data)
    assert chunks[0].first_index == 100
    gap_chunk = next(c for c in chunks if c.dropped)
    assert (gap_chunk.first_index, gap_chunk.dropped) == (634, 40)


def test_replay_reads_the_raw_file_with_gaps_held(tmp_path: Path) -> None:
    data = _samples(300)
    path = tmp_path / "r.swraw"
    _write(path, [(100, data[:100], 0), (110 + 100, data[100:], 10)], chunk=64)
    rec = open_recording(path, chunk_rows=128)
    assert (rec.rate_hz, rec.has_gyro, rec.t0) == (RATE, True, 0.0)
    blocks = list(rec.chunks())
    assert [len(b) for b in blocks] == [128, 128, 54]
    t = np.concatenate([b.t for b in blocks])
    assert np.allclose(np.diff(t), 1 / RATE)
    acc = np.concatenate([b.acc for b in blocks])
    assert np.allclose(acc[100:110], data[99, :3] / 1000.0)  # the gap holds the last sample
    assert np.allclose(acc[110:], data[100:, :3] / 1000.0)


def test_a_torn_last_chunk_is_skipped_with_a_warning_and_the_writer_resumes(tmp_path: Path) -> None:
    data = _samples(600)
    path = tmp_path / "r.swraw"
    h = _write(path, [(100, data[:512], 0)])
    whole = path.stat().st_size
    with open(path, "ab") as f:  # a crash half way through writing the next chunk
        f.write(struct.pack("<4sQIII", b"SWCK", 612, 88, 0, 0) + b"\x01\x02" * 30)
    with pytest.warns(RawWarning, match=r"chunk 2 at byte \d+ is incomplete"):
        n = sum(len(c.samples) for c in RawReader(path).chunks())
    assert n == 512
    with RawWriter(path, h) as w:  # the daemon starts again and appends
        w.append(612, data[512:], 0)
    assert path.stat().st_size == whole + CHUNK_HEAD_SIZE + 88 * 12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(np.concatenate([c.samples for c in RawReader(path).chunks()]), data)


def test_damage_is_an_error_naming_file_chunk_and_offset_when_strict(tmp_path: Path) -> None:
    """Read strictly, as every read was before damage was read past (tests/export/test_rawdamage.py)."""
    data = _samples(600)
    path = tmp_path / "r.swraw"
    _write(path, [(100, data, 0)], chunk=200)
    raw = bytearray(path.read_bytes())
    second = HEADER_SIZE + CHUNK_HEAD_SIZE + 200 * 12
    raw[second + CHUNK_HEAD_SIZE + 5] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=rf"r.swraw: field 'crc': chunk 1 at byte {second}: CRC mismatch"):
        list(RawReader(path, strict=True).chunks())
    with pytest.warns(RawWarning, match=rf"r.swraw: chunk 1 at byte {second} is damaged \(CRC mismatch\): read on from byte "
                      rf"{second + CHUNK_HEAD_SIZE + 200 * 12}; samples 300-499 \(200\) are lost"):
        assert sum(len(c.samples) for c in RawReader(path).chunks()) == 400
    raw[0] = ord("X")
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="not a spasmwatch raw recording"):
        RawReader(path)
    path.write_bytes(path.read_bytes()[:HEADER_SIZE])
    (tmp_path / "e.swraw").write_bytes(RawHeader("b", RATE, False, 0.0).pack())
    with pytest.raises(InputError, match="no samples"):
        open_rawfile(tmp_path / "e.swraw")


def test_writer_refuses_going_back(tmp_path: Path) -> None:
    h = RawHeader("band-1", RATE, True, 0.0)
    with RawWriter(tmp_path / "r.swraw", h) as w:
        w.append(0, _samples(10), 0)
        with pytest.raises(ValueError, match="goes back"):
            w.append(5, _samples(10), 0)


def _simulated_swraw(tmp_path: Path) -> tuple[Path, Path]:
    """A simulated morning with a cluster, written as the band would stream it (raw counts)."""
    from spasmwatch.sim import Scenario, simulate, write_recording

    rec = simulate(Scenario(duration_s=900.0, seed=3, rate_hz=RATE, clusters=1))
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(rec.gyro * 10)]).astype(np.int16)
    path = tmp_path / "morning.swraw"
    with RawWriter(path, RawHeader("band-1", RATE, True, 1_709_510_400.0)) as w:
        for i in range(0, len(counts), 19):
            w.append(i, counts[i : i + 19], 0)
    csv_path = tmp_path / "morning.csv"
    write_recording(rec, csv_path)
    return path, csv_path


def _replay_jsonl(path: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "spasmwatch", "replay", str(path), "--jsonl"], capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_replay_of_raw_equals_replay_of_its_converted_csv(tmp_path: Path) -> None:
    path, _ = _simulated_swraw(tmp_path)
    assert run_cli("export", "raw", str(path), "--csv", str(tmp_path / "conv.csv")) == 0
    head = (tmp_path / "conv.csv").read_text().splitlines()[:3]
    assert head[0] == "t,ax,ay,az,gx,gy,gz" and head[1].startswith("0.000000,")
    from_raw, from_csv = _replay_jsonl(path), _replay_jsonl(tmp_path / "conv.csv")
    # the CSV's t counts from 0, not from a wall time: the raw file's records add their UTC times
    assert [{k: v for k, v in r.items() if not k.endswith("_utc")} for r in from_raw] == from_csv
    assert any(r["type"] == "spasm" for r in from_raw) and all("t_utc" in r or "start_utc" in r for r in from_raw)


def test_replay_jsonl_of_a_dated_recording_gives_each_time_as_utc_by_its_dating(tmp_path: Path) -> None:
    """Found by the researcher's hostile review of 2026-12-07: --jsonl of a .swraw gave its times
    on the file's nominal time base alone, and the table its times of day in this computer's zone
    to the tenth, so a script joining the replay's records to an export's onset_utc had to call
    RawRecording.wall_at from Python; t_0 plus t, the one way from the command line, is 36 s off an
    hour later for an IMU 1 % faster than its nominal rate. Each time of a record now has its UTC
    wall time by the file's dating, as the exports write one (t_utc, start_utc, end_utc,
    alert_utc, detected_utc); so does a CSV whose t is unix time, by t itself."""
    from spasmwatch.export.timeline import iso
    from spasmwatch.io.rawfile import DatingPoint

    src, _ = _simulated_swraw(tmp_path)
    path, start, fast = tmp_path / "fast.swraw", 1_709_510_400.0, RATE * 1.01
    data = np.concatenate([c.samples for c in RawReader(src).chunks()])
    with RawWriter(path, RawHeader("band-1", RATE, True, start)) as w:
        for i in range(0, len(data), 5000):  # the host's dating: the band samples 1 % fast of its nominal rate
            w.date(DatingPoint(i, start + i / fast, fast))
            w.append(i, data[i : i + 5000], 0)
    recs, rec = _replay_jsonl(path), open_rawfile(path)
    times = {"t": "t_utc", "start": "start_utc", "end": "end_utc", "alert_t": "alert_utc", "detected_t": "detected_utc"}
    said = [(r[k], r[u]) for r in recs for k, u in times.items() if k in r]
    assert said and all(utc == iso(rec.wall_at(t)) for t, utc in said)
    assert {u for r in recs for u in r if u.endswith("_utc")} >= {"t_utc", "start_utc", "end_utc", "alert_utc", "detected_utc"}
    cluster = next(r for r in recs if r["type"] == "cluster")
    assert cluster["end_utc"] != iso(start + cluster["end"])  # the dating's, not t_0 + t: 1 % of it earlier
    unix = tmp_path / "unix.csv"
    lines = (tmp_path / "morning.csv").read_text().splitlines()
    unix.write_text("\n".join([lines[0]] + [f"{float(t) + start:.6f},{rest}" for t, rest in (ln.split(",", 1) for ln in lines[1:])]) + "\n")
    unix_recs = _replay_jsonl(unix)
    assert unix_recs and all(r[u] == iso(r[k]) for r in unix_recs for k, u in times.items() if k in r)
    assert all(not any(k.endswith("_utc") for k in r) for r in _replay_jsonl(tmp_path / "morning.csv"))


@pytest.mark.parametrize("gyro", [True, False])
def test_replay_feeds_band_counts_as_they_are_and_gives_the_float_path_s_records(tmp_path: Path, gyro: bool) -> None:
    """A raw file in the band's units (mg, 0.1 deg/s) is replayed from its int16 counts,
    skipping the round trip through g and deg/s: the same records, gaps held alike."""
    from spasmwatch.analysis.replay import Block, CountBlock, replay
    from spasmwatch.commands.replay import replay_recording

    src, _ = _simulated_swraw(tmp_path)
    path = tmp_path / "gappy.swraw"
    data = np.concatenate([c.samples for c in RawReader(src).chunks()])[:, : 6 if gyro else 3]
    with RawWriter(path, RawHeader("band-1", RATE, gyro, 1_709_510_400.0)) as w:
        w.append(0, data[:20000], 0)
        w.append(20007, data[20000:], 7)  # 7 samples lost: held at the last one
    rec = open_rawfile(path, chunk_rows=4096)
    assert rec.band_units
    pairs = list(zip(rec.counts(), rec.chunks()))
    assert all(np.array_equal(t, b.t) and np.array_equal(c[:, :3] / 1000.0, b.acc) for (t, c), b in pairs)
    floats = list(replay((Block(b.t, b.acc, b.gyro) for _, b in pairs), RATE, gyro))
    counts = list(replay((CountBlock(t, c) for (t, c), _ in pairs), RATE, gyro))
    assert counts == floats == list(replay_recording(rec))
    assert any(r["type"] == "spasm" for r in counts)


def test_a_raw_file_in_other_units_is_replayed_from_floats(tmp_path: Path) -> None:
    path = tmp_path / "r.swraw"
    with RawWriter(path, RawHeader("band-1", RATE, True, 0.0, accel_lsb_g=1 / 2048)) as w:
        w.append(0, _samples(600), 0)
    assert not open_rawfile(path).band_units  # counts are not mg: to_units must see g


def test_the_cli_says_a_torn_chunk_in_one_warning_line(tmp_path: Path) -> None:
    """Found by a run of the docs: Python's warning format showed an internal source line."""
    path = tmp_path / "r.swraw"
    _write(path, [(100, _samples(600), 0)])
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 100)  # the recording cut off while writing
    res = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(path), "--jsonl"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"spasmwatch replay: warning: {path}: chunk 2 at byte"), lines


def test_export_raw_never_writes_over_a_file_without_force(tmp_path: Path) -> None:
    """Found by the docs run: 'export raw rec.swraw' replaced a recording rec.csv (the same header
    as its own output, so it cannot tell an earlier conversion from a researcher's file)."""
    path = tmp_path / "rec.swraw"
    _write(path, [(100, _samples(600), 0)])
    mine = tmp_path / "rec.csv"
    mine.write_text("t,ax,ay,az,gx,gy,gz\n0.0,0,0,1,0,0,0\n")
    with pytest.raises(InputError) as e:
        run_cli("export", "raw", str(path))  # the default output: FILE with .csv
    assert str(e.value).startswith(f"{mine}: exists") and "--force replaces it" in str(e.value)
    assert mine.read_text() == "t,ax,ay,az,gx,gy,gz\n0.0,0,0,1,0,0,0\n"
    with pytest.raises(InputError, match="is the raw recording being converted"):
        run_cli("export", "raw", str(path), "--csv", str(path), "--force")
    assert run_cli("export", "raw", str(path), "--force") == 0
    assert len(mine.read_text().splitlines()) == 601


def test_export_raw_of_a_csv_says_it_is_no_raw_recording_not_that_the_output_is_the_input(tmp_path: Path) -> None:
    """Found by the CLI input audit: 'export raw rec.csv' (a CSV recording where a .swraw goes, its
    default output rec.csv itself) said 'rec.csv: is the raw recording being converted: choose
    another --csv', blaming an output the user never gave."""
    mine = tmp_path / "rec.csv"
    mine.write_text("t,ax,ay,az,gx,gy,gz\n0.0,0,0,1,0,0,0\n")
    res = subprocess.run([sys.executable, "-m", "spasmwatch", "export", "raw", str(mine)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and res.stderr == f"spasmwatch export: error: {mine}: not a spasmwatch raw recording (bad magic at byte 0)\n", res.stderr
    assert mine.read_text() == "t,ax,ay,az,gx,gy,gz\n0.0,0,0,1,0,0,0\n"


def test_export_raw_force_never_writes_over_a_store_or_another_raw_recording(tmp_path: Path) -> None:
    """Found by the hostile-input review: 'export raw rec.swraw --csv spasmwatch.db --force' (a
    slip of the path) replaced the family's store with a CSV, and another band's .swraw likewise."""
    path = tmp_path / "rec.swraw"
    _write(path, [(100, _samples(600), 0)])
    other = tmp_path / "other.swraw"
    _write(other, [(100, _samples(300), 0)])
    store = tmp_path / "spasmwatch.db"
    Store(store).close()
    kept = {f: f.read_bytes() for f in (other, store)}
    for f, what in ((store, "an SQLite database (a spasmwatch store?)"), (other, "a raw recording (.swraw)")):
        with pytest.raises(InputError) as e:
            run_cli("export", "raw", str(path), "--csv", str(f), "--force")
        assert str(e.value) == f"{f}: is {what}: never written over, --force neither; choose another --csv", str(e.value)
    assert {f: f.read_bytes() for f in kept} == kept


def test_export_raw_force_keeps_the_old_csv_when_the_conversion_fails(tmp_path: Path) -> None:
    """With --force the old CSV is replaced by a finished conversion only: a damaged chunk, refused
    (--strict), leaves it whole."""
    path = tmp_path / "rec.swraw"
    _write(path, [(100, _samples(1000), 0)])
    with open(path, "r+b") as f:  # a byte of the second chunk's samples: its CRC no longer matches
        f.seek(HEADER_SIZE + 2 * CHUNK_HEAD_SIZE + 256 * 12 + 10)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    old = tmp_path / "rec.csv"
    old.write_text("t,ax,ay,az\n0.0,0,0,1\n")
    with pytest.raises(InputError, match="CRC mismatch"):
        to_csv(open_rawfile(path, strict=True), old)  # what 'export raw --force --strict' runs once it may replace the file
    assert old.read_text() == "t,ax,ay,az\n0.0,0,0,1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.csv", "rec.swraw"]


@pytest.mark.parametrize("where", ["missing folder", "folder", "link"])
def test_export_raw_names_an_output_it_cannot_write_and_leaves_nothing(tmp_path: Path, where: str) -> None:
    """Found by the input audit: '--csv' in a missing folder, or onto a folder with --force, ended
    in a traceback, and '--csv /dev/stdout --force' replaced that link with a regular file."""
    path = tmp_path / "rec.swraw"
    _write(path, [(100, _samples(600), 0)])
    out = tmp_path / "out.csv"
    if where == "missing folder":
        out = tmp_path / "nowhere" / "out.csv"
    elif where == "folder":
        out.mkdir()
    else:
        kept = tmp_path / "kept.csv"
        kept.write_text("mine")
        out.symlink_to(kept)
    res = subprocess.run([sys.executable, "-m", "spasmwatch", "export", "raw", str(path), "--csv", str(out), "--force"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith(f"spasmwatch export: error: --csv: {out}: ") and "Traceback" not in res.stderr, res.stderr
    assert not any(p.name.endswith(".part") for p in tmp_path.rglob("*"))
    if where == "link":
        assert out.is_symlink() and kept.read_text() == "mine"
