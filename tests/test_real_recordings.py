"""Real adult recordings (tests/data/real, see SOURCES.md) as false-alarm tests.

Each CSV is a genuine body-worn trunk IMU recording of ordinary adult movement
(walking, turning, sit-to-stand, simulated daily living). None contains an
infantile spasm, so the replay command, run exactly as a user would run it,
must report no cluster on any of them. Single "spasm" events are not failures
here; their rate per hour is reported as a false-alarm figure (shown with
``pytest -rA`` and stored as the ``spasms_per_hour`` user property).
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from unitscheck import assert_deg_s_and_rad_s_told_apart

DATA_DIR = Path(__file__).resolve().parent / "data" / "real"
CSV_FILES = sorted(DATA_DIR.glob("*.csv"))
HEADER_6 = ["t", "ax", "ay", "az", "gx", "gy", "gz"]
HEADER_3 = ["t", "ax", "ay", "az"]
REPLAY_TIMEOUT_S = 300


def read_recording(path: Path) -> tuple[list[str], list[list[float]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [[float(v) for v in row] for row in reader]
    return header, rows


def run_replay(path: Path) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "spasmwatch", "replay", str(path), "--jsonl"],
        capture_output=True,
        text=True,
        timeout=REPLAY_TIMEOUT_S,
    )
    assert proc.returncode == 0, f"replay exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"
    records: list[dict[str, Any]] = []
    for number, line in enumerate(proc.stdout.splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        assert isinstance(record, dict), f"line {number} is not a JSON object: {line!r}"
        assert "type" in record, f"line {number} has no 'type': {line!r}"
        records.append(record)
    return proc, records


def test_fixtures_present() -> None:
    assert len(CSV_FILES) >= 4, f"expected the imported recordings in {DATA_DIR}"
    assert (DATA_DIR / "SOURCES.md").is_file()
    sources = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for path in CSV_FILES:
        assert f"## {path.name}" in sources, f"{path.name} is not documented in SOURCES.md"


@pytest.mark.parametrize("path", CSV_FILES, ids=[p.stem for p in CSV_FILES])
def test_recording_parses_as_contract(path: Path) -> None:
    header, rows = read_recording(path)
    assert header in (HEADER_6, HEADER_3), f"{path.name}: header {header}"
    assert rows, f"{path.name}: no samples"
    assert all(len(r) == len(header) for r in rows), f"{path.name}: ragged rows"
    assert all(math.isfinite(v) for r in rows for v in r), f"{path.name}: non-finite value"

    t = [r[0] for r in rows]
    assert t[0] == 0.0
    steps = [b - a for a, b in zip(t, t[1:])]
    assert min(steps) > 0, f"{path.name}: t not strictly increasing"
    step = statistics.median(steps)
    # Constant rate, up to the rounding of t in the file (6 decimals).
    assert max(abs(s - step) for s in steps) < 2e-6 + 1e-3 * step, f"{path.name}: rate not constant"
    assert 25.0 <= 1.0 / step <= 400.0, f"{path.name}: implausible rate {1.0 / step:.1f} Hz"

    acc_mag = [math.sqrt(r[1] ** 2 + r[2] ** 2 + r[3] ** 2) for r in rows]
    assert 0.9 <= statistics.median(acc_mag) <= 1.1, f"{path.name}: |acc| median not ~1 g (units?)"
    if header == HEADER_6:
        gyro_abs = sorted(abs(v) for r in rows for v in r[4:7])
        # deg/s, not rad/s: walking turns reach tens of deg/s; rad/s would stay below ~10.
        assert gyro_abs[int(0.99 * (len(gyro_abs) - 1))] > 10.0, f"{path.name}: gyro looks like rad/s"
        assert gyro_abs[-1] < 2000.0, f"{path.name}: gyro beyond any IMU range"


@pytest.mark.parametrize("path", CSV_FILES, ids=[p.stem for p in CSV_FILES])
def test_replay_raises_no_cluster_on_adult_movement(
    path: Path, record_property: Any
) -> None:
    _, rows = read_recording(path)
    duration_h = rows[-1][0] / 3600.0
    proc, records = run_replay(path)
    # Real deg/s and g: no units warning (io/units.py), no other either.
    assert "warning" not in proc.stderr, proc.stderr

    spasms = [r for r in records if r["type"] == "spasm"]
    clusters = [r for r in records if r["type"] == "cluster"]
    per_hour = len(spasms) / duration_h
    record_property("spasms", len(spasms))
    record_property("spasms_per_hour", round(per_hour, 1))
    record_property("duration_s", round(rows[-1][0], 1))
    print(
        f"{path.name}: {rows[-1][0]:.1f} s, {len(spasms)} spasm event(s) = "
        f"{per_hour:.1f}/h, {len(clusters)} cluster(s)"
    )
    for r in spasms:
        assert isinstance(r.get("t"), (int, float)) and 0.0 <= r["t"] <= rows[-1][0] + 1.0
    assert not clusters, f"{path.name}: false cluster alarm on ordinary adult movement: {clusters}"


# The recordings whose posture changes (sitting, standing, lying) give the gyro-units check a
# verdict; the fourth 6-axis one walks and turns on the flat, which tilts too little for one.
POSTURE_CHANGES = sorted(DATA_DIR.glob("mobgap_*.csv"))


@pytest.mark.parametrize("path", POSTURE_CHANGES, ids=[p.stem for p in POSTURE_CHANGES])
def test_gyro_units_check_tells_deg_s_from_rad_s(path: Path) -> None:
    assert_deg_s_and_rad_s_told_apart(path)

