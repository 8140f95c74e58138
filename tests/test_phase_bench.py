"""bench/phase.py, short: its interpolation, and offset 0 giving the unshifted replay's events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from spasmwatch.commands.evaluate import _file_job
from spasmwatch.sim import Scenario, simulate, write_recording
from synthetic import load_bench

def test_phase_interpolation_is_exact_at_0_and_shifts_later_by_the_fraction() -> None:
    phase = load_bench("phase")
    x = np.random.default_rng(3).normal(size=(3000, 6))
    assert np.array_equal(phase.shifted(x, 0.0), x)  # bit for bit: the band's rounding sees the same ints
    rate = 52.0
    t = np.arange(4000) / rate
    for hz in (0.5, 3.0, 20.0):  # breathing, a spasm's rise, 0.77 of Nyquist
        y = phase.shifted(np.sin(2 * np.pi * hz * t)[:, None], 0.25)[:, 0]
        want = np.sin(2 * np.pi * hz * (t + 0.25 / rate))  # later, not earlier
        inner = slice(phase.HALF_TAPS, -phase.HALF_TAPS)
        assert np.max(np.abs(y[inner] - want[inner])) < 1e-3, hz
    # White noise keeps its variance (a linear interpolation would halve it at 1/2).
    assert phase.shifted(x, 0.5).var() > 0.9 * x.var()


def test_phase_quick_offset_0_reproduces_the_unshifted_replay(tmp_path: Path) -> None:
    phase = load_bench("phase")
    csv = tmp_path / "rec.csv"
    write_recording(simulate(Scenario(kind="clusters", duration_s=900, rate_hz=50.0, seed=4, not_worn=False)), csv)
    out = tmp_path / "phase.json"
    r: dict[str, Any] = phase.main(["--quick", str(csv), "--jobs", "1", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(r))
    assert r["phases"] == ["0", "1/2"]
    rec = r["recordings"][0]
    assert rec["same_at_0"] and rec["counts_differing_at_0"] == 0, rec
    # Phase 0 scores as evaluate scores the file, and its spasm events are replay's, onset and confidence.
    assert rec["per_phase"]["0"] == _file_job((str(csv),)).score.summary()
    res = phase.one_recording(str(csv), [phase.Fraction(0)], False)
    lines = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(csv), "--jsonl"], capture_output=True, text=True, check=True).stdout
    replayed = [json.loads(x) for x in lines.splitlines()]
    spasms = [(float(x["t"]), int(x["confidence"]), bool(x.get("matched", False))) for x in replayed if x["type"] == "spasm"]
    assert len(spasms) >= 3, "the recording should have a cluster to compare"
    assert res.phases[0].spasms == spasms
    summary = r["by_sensor"]["6-axis"]
    assert set(summary["phases"]) == {"0", "1/2"} and "spread" in summary["across"]
