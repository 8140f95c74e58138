"""Recordings in the wrong units, through the real CLI: a gyro in rad/s is warned of
(io/units.py), an acceleration in m/s^2 refused (io/csvread.py), naming the file, the
columns, what was seen and the fix; the project's own deg/s and g are left alone."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spasmwatch.io.units import RAD_TO_DEG, GyroUnitsCheck
from spasmwatch.sim import Scenario, simulate, write_recording
from unitscheck import assert_deg_s_and_rad_s_told_apart

REAL = Path(__file__).resolve().parent / "data" / "real"
DAILY_LIVING = REAL / "mobgap_ha001_lowerback_daily_living.csv"  # 6-axis, 100 Hz, sits and stands
SIT_TO_STAND = REAL / "skdh_lowerback_sit_to_stand_128hz.csv"  # accelerometer only
G = 9.80665


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=300)


def load(path: Path) -> tuple[str, Any]:
    with path.open() as f:
        header = f.readline().strip()
        return header, np.loadtxt(f, delimiter=",", ndmin=2)


def save(path: Path, header: str, data: Any) -> Path:
    np.savetxt(path, data, delimiter=",", fmt="%.6f", header=header, comments="")
    return path


def in_rad_s(src: Path, dst: Path, still_s: float = 0.0) -> Path:
    """`src` with its gyro in rad/s, after `still_s` of a band lying still (so that the
    evidence comes many parse blocks into the file, not in the first rows)."""
    header, data = load(src)
    data[:, 4:7] /= RAD_TO_DEG
    step = float(data[1, 0] - data[0, 0])
    n = int(round(still_s / step))
    still = np.zeros((n, 7))
    still[:, 0] = np.arange(n) * step
    still[:, 1:4] = data[0, 1:4]
    data[:, 0] += n * step
    return save(dst, header, np.vstack((still, data)))


def test_gyro_in_rad_s_is_warned_of(tmp_path: Path) -> None:
    """A real recording converted with its gyro left in rad/s gave no spasm and no word: every
    rate 57.3x too small, plausible as deg/s. The warning comes on stderr once the posture
    changes show, here after 10 min of a still band (many parse blocks in); the JSONL is as before."""
    path = in_rad_s(DAILY_LIVING, tmp_path / "converted.csv", still_s=600.0)
    res = cli("replay", str(path), "--jsonl")
    assert res.returncode == 0, res.stderr
    warning = [line for line in res.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1, res.stderr
    (line,) = warning
    assert f"spasmwatch replay: warning: {path}: columns gx, gy, gz look like rad/s" in line
    assert "posture changes" in line and "gravity turn" in line and "largest |rate|" in line  # what was seen
    assert "multiply gx, gy, gz by 57.2958" in line and "--gyro-units-ok" in line  # the fix
    original = cli("replay", str(DAILY_LIVING), "--jsonl")
    assert original.returncode == 0 and "warning" not in original.stderr, original.stderr


def test_a_gyro_that_reads_zero_throughout_is_named_not_recorded(tmp_path: Path) -> None:
    """A logger that wrote 0 for a gyro it did not sample was told its gyro looks like rad/s and to
    multiply the zeros by 57.2958 (found by the reader's round-trip property test). Now the warning
    says the gyro was not recorded and to drop the columns; the accelerometer-only replay of the same
    file gives no warning."""
    header, data = load(DAILY_LIVING)
    data[:, 4:7] = 0.0
    path = save(tmp_path / "no_gyro.csv", header, data)
    res = cli("replay", str(path), "--jsonl")
    assert res.returncode == 0, res.stderr
    (line,) = [line for line in res.stderr.splitlines() if "warning" in line]
    assert f"spasmwatch replay: warning: {path}: columns gx, gy, gz read 0 at most while the accelerometer saw gravity turn" in line, line
    assert "the gyro was not recorded" in line and "drop the gx, gy, gz columns" in line and "57.2958" not in line, line
    accel_only = save(tmp_path / "accel_only.csv", ",".join(header.split(",")[:4]), data[:, :4])
    res = cli("replay", str(accel_only), "--jsonl")
    assert res.returncode == 0 and "warning" not in res.stderr, res.stderr


def test_gyro_units_ok_silences_the_warning(tmp_path: Path) -> None:
    path = in_rad_s(DAILY_LIVING, tmp_path / "converted.csv")
    res = cli("replay", str(path), "--gyro-units-ok")
    assert res.returncode == 0, res.stderr
    assert res.stderr == "" and "-- 0 spasm" in res.stdout


def test_truth_reads_the_recording_with_the_same_check(tmp_path: Path) -> None:
    """Every command that reads a replay CSV reads it through the one reader, check included:
    labelling a recording the detector cannot see is worth a word too."""
    path = in_rad_s(DAILY_LIVING, tmp_path / "converted.csv")
    events = tmp_path / "events.tsv"
    events.write_text("onset\tduration\ttrial_type\n10\tn/a\twake\n")
    res = cli("truth", str(path), str(events))
    assert res.returncode == 0, res.stderr
    assert f"spasmwatch truth: warning: {path}: columns gx, gy, gz look like rad/s" in res.stderr


@pytest.mark.parametrize("src", [DAILY_LIVING, SIT_TO_STAND], ids=["6-axis", "accel-only"])
def test_acceleration_in_m_per_s2_is_refused(tmp_path: Path, src: Path) -> None:
    """Refused, with or without a gyro, naming the file, the columns, the median it read and the
    fix. Found here: the 6-axis recording in m/s^2 was refused for a jolt 'beyond the +-32 g an
    IMU can report' at line 5241, the unit unnamed; the median of gravity names it."""
    header, data = load(src)
    data[:, 1:4] *= G
    path = save(tmp_path / "phone.csv", header, data)
    res = cli("replay", str(path), "--jsonl")
    assert res.returncode == 2 and res.stdout == ""
    assert f"spasmwatch replay: error: {path}:2: the median |acceleration| of the first" in res.stderr
    assert "reads 9.6" in res.stderr or "reads 9.7" in res.stderr or "reads 9.8" in res.stderr, res.stderr
    assert "looks like m/s^2: divide ax, ay, az by 9.80665 for g" in res.stderr


@pytest.mark.parametrize(
    ("kind", "seed"), [("confounders", 1), ("subtle", 1), ("clusters", 2)], ids=["confounders", "subtle", "clusters"]
)
def test_simulator_gyro_is_not_taken_for_rad_s(tmp_path: Path, kind: str, seed: int) -> None:
    """spasmwatch simulate's deg/s is never warned of, and the same gyro in rad/s is."""
    path = tmp_path / f"{kind}.csv"
    write_recording(simulate(Scenario(kind=kind, seed=seed)), path)
    assert_deg_s_and_rad_s_told_apart(path)


def test_simulated_morning_through_the_cli(morning: tuple[Path, dict[str, Any]]) -> None:
    assert_deg_s_and_rad_s_told_apart(morning[0])
    res = cli("replay", str(morning[0]), "--jsonl")
    assert res.returncode == 0 and "warning" not in res.stderr, res.stderr


def test_check_is_the_same_however_the_samples_are_cut() -> None:
    """The reader hands over blocks of any length; windows straddle them. Cut anyhow, the
    samples up to the verdict give the verdict they give in one piece."""
    rec = simulate(Scenario(kind="morning", seed=2))
    assert rec.gyro is not None
    for gyro in (rec.gyro, rec.gyro / RAD_TO_DEG):
        cols = [*rec.acc.T, *gyro.T]
        rng = np.random.default_rng(1)
        cut, verdicts, pos = GyroUnitsCheck(rec.rate_hz), [], 0
        while pos < len(rec.t):
            n = int(rng.choice([1, 7, 99, 100, 101, 5000, 20011]))
            if (ev := cut.feed([c[pos : pos + n] for c in cols])) is not None:
                verdicts.append((ev, min(pos + n, len(rec.t))))
            pos += n
        assert len(verdicts) == 1  # once
        (ev, end), whole = verdicts[0], GyroUnitsCheck(rec.rate_hz)
        again = whole.feed([c[:end] for c in cols])
        assert again is not None and astuple(again) == pytest.approx(astuple(ev))
        assert ev.looks_rad_s == (gyro is not rec.gyro)
