"""Several .swraw parts of one band boot replayed (and converted) as ONE recording (io/rawboot.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spasmwatch.io.rawfile import RawHeader, RawWriter

RATE = 52.0
WALL0 = 1_709_510_400.0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def morning() -> tuple[np.ndarray, int]:
    """A simulated quarter hour with a cluster as the band's counts (mg, 0.1 deg/s), and the
    index in the middle of the cluster: where a noon cut hurts most."""
    from spasmwatch.sim import Scenario, simulate

    rec = simulate(Scenario(duration_s=900.0, seed=3, rate_hz=RATE, clusters=1))
    assert rec.gyro is not None
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(rec.gyro * 10)]).astype(np.int16)
    (c,) = rec.truth["clusters"]
    return counts, int((c["start"] + c["end"]) / 2 * RATE)


def write(path: Path, counts: np.ndarray, first: int, origin: int = 0, device: str = "band-1", rate: float = RATE) -> Path:
    """Samples from index ``first`` as the daemon writes them (records of 19), header dated by the boot."""
    h = RawHeader(device, rate, counts.shape[1] == 6, WALL0 + origin / rate, index_origin=origin)
    with RawWriter(path, h) as w:
        for i in range(0, len(counts), 19):
            w.append(first + i, counts[i : i + 19], 0)
    return path


def split(tmp_path: Path, counts: np.ndarray, cut: int, gap: int = 0) -> tuple[Path, Path]:
    """The samples as the boot's parts 000 and 001 cut at ``cut`` (part 001 missing its first ``gap``)."""
    a = write(tmp_path / "band-1-boot4-000.swraw", counts[:cut], 0)
    b = write(tmp_path / "band-1-boot4-001.swraw", counts[cut + gap :], cut + gap, origin=cut)
    return a, b


def test_parts_replay_byte_for_byte_as_the_one_file_of_their_samples(tmp_path: Path, morning: tuple[np.ndarray, int]) -> None:
    """The key promise: a cluster cut by noon is found as one, with the records (times from the
    first part's origin) of the same samples in one file; the parts given in any order."""
    counts, cut = morning
    whole = write(tmp_path / "whole.swraw", counts, 0)
    a, b = split(tmp_path, counts, cut)
    one, parts = cli("replay", str(whole), "--jsonl"), cli("replay", str(b), str(a), "--jsonl")
    assert one.returncode == 0 and parts.returncode == 0, parts.stderr
    assert parts.stdout == one.stdout and parts.stderr == ""
    recs = [json.loads(line) for line in parts.stdout.splitlines()]
    (cluster,) = [r for r in recs if r["type"] == "cluster"]
    assert cluster["start"] < cut / RATE < cluster["end"]
    # Each part alone starts afresh: the cluster comes out as two smaller ones, the second
    # with no wake seen before it (measured: 4 + 3 spasms, post_wake_s None; together 8, 335 s).
    alone = [json.loads(line) for p in (a, b) for line in cli("replay", str(p), "--jsonl").stdout.splitlines()]
    halves = [r for r in alone if r["type"] == "cluster"]
    assert len(halves) == 2 and all(h["count"] < cluster["count"] for h in halves)
    assert halves[1]["post_wake_s"] is None and cluster["post_wake_s"] is not None


def test_a_gap_between_parts_is_held_and_reported(tmp_path: Path, morning: tuple[np.ndarray, int]) -> None:
    counts, cut = morning
    whole = tmp_path / "whole.swraw"
    h = RawHeader("band-1", RATE, True, WALL0)
    with RawWriter(whole, h) as w:
        w.append(0, counts[:cut], 0)
        w.append(cut + 104, counts[cut + 104 :], 0)
    a, b = split(tmp_path, counts, cut, gap=104)
    one, parts = cli("replay", str(whole), "--jsonl"), cli("replay", str(a), str(b), "--jsonl")
    assert parts.returncode == 0, parts.stderr
    assert parts.stdout == one.stdout
    assert f"{a} .. {b} (2 parts): 104 samples (2.0 s) missing in 1 gap(s) (1 between parts, e.g. a part not given): dropped" in parts.stderr


def test_export_raw_of_parts_is_the_csv_of_their_samples(tmp_path: Path, morning: tuple[np.ndarray, int]) -> None:
    counts, cut = morning
    whole = write(tmp_path / "whole.swraw", counts[:3000], 0)
    a, b = split(tmp_path, counts[:3000], 1234)
    assert cli("export", "raw", str(whole), "--csv", str(tmp_path / "one.csv")).returncode == 0
    res = cli("export", "raw", str(b), str(a), "--csv", str(tmp_path / "parts.csv"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    res = cli("export", "raw", str(a), str(b))
    assert res.returncode == 2 and "--csv is needed to convert 2 parts into one CSV" in res.stderr


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rate": 104.0}, "rate_hz"),
        ({"device": "band-2"}, "device_id"),
        ({"gyro": False}, "flags (has_gyro: channels)"),
    ],
)
def test_a_part_of_another_band_or_rate_is_refused_naming_file_and_field(
    tmp_path: Path, morning: tuple[np.ndarray, int], change: dict[str, object], field: str
) -> None:
    counts, cut = morning
    a = write(tmp_path / "band-1-boot4-000.swraw", counts[:cut], 0)
    other = counts[cut : cut + 2000, : 3 if change.get("gyro") is False else 6]
    rate = float(change.get("rate", RATE))  # type: ignore[arg-type]
    b = write(tmp_path / "band-1-boot4-001.swraw", other, cut, origin=cut, device=str(change.get("device", "band-1")), rate=rate)
    res = cli("replay", str(a), str(b), "--jsonl")
    assert res.returncode == 2 and res.stdout == ""
    assert f"{b}: field '{field}':" in res.stderr and str(a) in res.stderr and "not parts of one band boot" in res.stderr


def test_parts_of_other_boots_overlaps_and_csv_are_refused(tmp_path: Path, morning: tuple[np.ndarray, int]) -> None:
    counts, cut = morning
    a, b = split(tmp_path, counts[:4000], 2000)
    res = cli("replay", str(a), str(a), "--jsonl")  # the same part twice
    assert res.returncode == 2 and f"{a}: field 'first_index': samples 0-1999 overlap {a}'s 0-1999" in res.stderr
    boot5 = write(tmp_path / "band-1-boot5-001.swraw", counts[2000:4000], 2000, origin=2000)
    res = cli("replay", str(a), str(boot5), "--jsonl")
    assert res.returncode == 2 and f"{boot5}: field 'boot (file name)': boot 5 here, boot 4 in {a}" in res.stderr
    # Another boot renamed: its index counts from 0 again, dated hours later.
    later = tmp_path / "renamed.swraw"
    h = RawHeader("band-1", RATE, True, WALL0 + 7200.0, index_origin=2000)
    with RawWriter(later, h) as w:
        w.append(2000, counts[2000:4000], 0)
    res = cli("replay", str(a), str(later), "--jsonl")
    assert res.returncode == 2 and f"{later}: field 'wall_start_s': index_origin 2000 is dated" in res.stderr
    csv = tmp_path / "rec.csv"
    csv.write_text("t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n")
    res = cli("replay", str(a), str(csv), "--jsonl")
    assert res.returncode == 2 and f"{csv}: is not a raw recording (.swraw)" in res.stderr


def test_a_boot_file_from_before_parts_and_an_empty_part_in_glob_order(tmp_path: Path, morning: tuple[np.ndarray, int]) -> None:
    """As 'band-1-boot4*.swraw' lists them: -000, -001 (opened at the next noon, nothing written
    yet), then the boot's start from before parts; replayed in index order as one recording."""
    counts, cut = morning
    whole = write(tmp_path / "whole.swraw", counts, 0)
    old = write(tmp_path / "band-1-boot4.swraw", counts[:cut], 0)
    p0 = write(tmp_path / "band-1-boot4-000.swraw", counts[cut:], cut, origin=cut)
    p1 = write(tmp_path / "band-1-boot4-001.swraw", counts[:0], len(counts), origin=len(counts))
    one, parts = cli("replay", str(whole), "--jsonl"), cli("replay", str(p0), str(p1), str(old), "--jsonl")
    assert parts.returncode == 0, parts.stderr
    assert parts.stdout == one.stdout and parts.stderr == ""


def test_the_table_of_a_part_reads_the_band_s_clock(tmp_path: Path, morning: tuple[np.ndarray, int]) -> None:
    """Found by the researcher audit: a part runs from noon, and 'replay PART.swraw' printed its
    records' elapsed time, '00:10:34.4  spasm' for a spasm ten minutes after noon, which reads as ten
    past midnight. The table of a .swraw now gives each time of day by the band's dating, and says
    so; --jsonl keeps t (seconds from the part's t = 0)."""
    import os
    from datetime import datetime
    from zoneinfo import ZoneInfo

    counts, cut = morning
    _, b = split(tmp_path, counts, cut)  # part 001: t = 0 at index `cut`, dated WALL0 + cut / RATE
    jsonl = cli("replay", str(b), "--jsonl")
    table = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(b)], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "TZ": "Asia/Kolkata"})  # fmt: skip
    assert jsonl.returncode == 0 and table.returncode == 0, table.stderr
    first = json.loads(jsonl.stdout.splitlines()[0])
    kolkata = ZoneInfo("Asia/Kolkata")
    start = datetime.fromtimestamp(WALL0 + cut / RATE, kolkata)
    tenths = round((WALL0 + cut / RATE + first.get("t", first.get("start"))) * 10)  # rounded to the tenth, as the table is
    local = datetime.fromtimestamp(tenths // 10, kolkata)
    lines = table.stdout.splitlines()
    assert lines[0] == (
        f"{b}: times of day on the band's clock, by its dating, in this computer's time zone (Asia/Kolkata); "
        f"t = 0 s, which --jsonl's t counts from, is {start.isoformat(timespec='milliseconds')}"
    )
    assert lines[1].startswith(local.strftime("%H:%M:%S.") + str(tenths % 10) + "  "), lines[1]
