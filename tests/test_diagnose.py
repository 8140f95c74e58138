"""``evaluate --why``: where the band's detector let each true spasm go."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spasmwatch.analysis.diagnose import CODES, COUNTED, DETECTED, MATCH_S, NO_ONSET, STAGES, ClusterWhy, cluster_line, counts, diagnose, report
from spasmwatch.analysis.twin import TwinDetector, to_units
from spasmwatch.sim import Recording, Scenario, simulate, write_recording

RATE = 52.0


@pytest.fixture(scope="module")
def rec() -> Recording:
    # Clusters start within the first 600 s: every trace then starts at sample 0, as the twin does.
    return simulate(Scenario(kind="clusters", duration_s=600.0, rate_hz=RATE, seed=2, has_gyro=True))


def test_every_true_spasm_gets_one_stage_and_detected_ones_are_the_twins(rec: Recording) -> None:
    truth = rec.truth
    a, g = to_units(rec.acc, rec.gyro)
    per_cluster = diagnose(a, g, RATE, True, truth)
    assert [len(c.stages) for c in per_cluster] == [c["count"] for c in truth["clusters"]]
    found = counts(per_cluster)
    in_clusters = [s["t"] for s in truth["spasms"] if any(c["start"] - 1e-6 <= s["t"] <= c["end"] for c in truth["clusters"])]
    assert sum(found.values()) == len(in_clusters) > 10
    assert {st for _, st in found} <= set(STAGES)
    # The stream traced on CPython finds what the numpy twin finds (they are held identical elsewhere).
    hits = TwinDetector(RATE, True).feed(a, g, final=True)[0]
    onsets = np.array([h.onset_n for h in hits])
    twin_found = sum(bool(len(onsets)) and np.min(np.abs(onsets - t * RATE)) <= MATCH_S * RATE for t in in_clusters)
    assert sum(v for (_, st), v in found.items() if st == DETECTED) == twin_found > 0
    assert set(g for g, _ in found) == {"full", "subtle"}


def test_a_recording_whose_time_does_not_start_at_0_is_traced_at_its_spasms(rec: Recording) -> None:
    """Found by review: truth times (on the file's own time base) were taken as seconds from
    sample 0, so a file starting at t = 1000 s showed every detected spasm as 'no onset'."""
    a, g = to_units(rec.acc, rec.gyro)
    t0 = 1000.0
    moved = json.loads(json.dumps(rec.truth))
    for s in moved["spasms"]:
        s["t"] += t0
    for c in moved["clusters"]:
        c["start"] += t0
        c["end"] += t0
    stages = lambda cs: [(c.stages, c.counted) for c in cs]  # noqa: E731
    assert stages(diagnose(a, g, RATE, True, moved, t0=t0)) == stages(diagnose(a, g, RATE, True, rec.truth))
    assert DETECTED in {st for c in diagnose(a, g, RATE, True, moved, t0=t0) for st in c.stages}


def test_labels_where_nothing_moves_are_no_onset() -> None:
    n = int(120 * RATE)
    a = np.tile(np.array([[0, 0, 1000]], dtype=np.int64), (n, 1))
    g = np.zeros((n, 3), dtype=np.int64)
    truth = {"clusters": [{"start": 60.0, "end": 80.0, "subtle": False}], "spasms": [{"t": 60.0}, {"t": 70.0}, {"t": 80.0}]}
    assert diagnose(a, g, RATE, True, truth) == [ClusterWhy(60.0, False, (NO_ONSET,) * 3, (False,) * 3)]
    # A match of the cluster counter within MATCH_S of a spasm the detector let go: counted.
    (c,) = diagnose(a, g, RATE, True, truth, matched=[70.0 + MATCH_S / 2, 90.0])
    assert c.counted == (False, True, False)
    assert counts([c])[("full", COUNTED)] == 1
    assert report(counts([c]))[0].split()[-1] == "(3)", "the counted row is not more spasms"
    assert cluster_line("r.csv", c, None).endswith("OoO")


def test_evaluate_why_prints_and_writes_the_table(rec: Recording, tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    write_recording(rec, csv)
    out = tmp_path / "score.json"
    res = subprocess.run([sys.executable, "-m", "spasmwatch", "evaluate", str(csv), "--why", "-v", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "where the true spasms in clusters went, 6-axis" in res.stdout and DETECTED in res.stdout
    written = json.loads(out.read_text())
    why = written["why"]["6-axis"]
    assert sum(sum(v.values()) for v in why.values()) == sum(
        1 for s in rec.truth["spasms"] if any(c["start"] - 1e-6 <= s["t"] <= c["end"] for c in rec.truth["clusters"])
    )
    # Found by running the docs: the per-cluster table was written over the recording's score
    # "clusters" ("found/total"), so --why changed that key's meaning and type.
    assert written["recordings"][0]["clusters"] == written["summary"]["clusters"]  # one recording: "found/total"
    # -v: one line per true cluster, its spasms' stage letters in order, found or missed as scored.
    clusters = written["recordings"][0]["true_clusters"]
    assert len(clusters) == len(rec.truth["clusters"])
    for c in clusters:
        letters = "".join(CODES[st] for st in c["spasms"])
        state = "missed" if c["alarm_delay_s"] is None else f"alarm {c['alarm_delay_s']:+.1f} s"
        assert any(f"at {c['start']:.1f} s" in line and state in line and line.endswith(letters) for line in res.stdout.splitlines())
    assert any(c["alarm_delay_s"] is not None for c in clusters)


def test_a_late_cluster_is_traced_with_the_replays_gyro_bias() -> None:
    """Ten minutes of slow swaying (1 s blocks smooth but off the bias) before a cluster:
    a trace learning the bias from its own lead-in takes a swaying block for it and misses
    every spasm; started from the bias the whole replay has there, it finds what the twin finds."""
    from synthetic import supine

    onsets = tuple(800.0 + 8 * k for k in range(5))
    t, acc, gyro = supine(RATE, 860.0, onsets, amp_deg=8.0, seed=1)
    sway = (t >= 150) & (t < onsets[0] - 2)
    gyro[sway, 1] += 15.0 * np.sin(2 * np.pi * (t[sway] - 150) / 40.0)
    a, g = to_units(acc, gyro)
    truth = {"clusters": [{"start": onsets[0], "end": onsets[-1] + 2, "subtle": False}], "spasms": [{"t": o} for o in onsets]}
    hits = TwinDetector(RATE, True).feed(a, g, final=True)[0]
    assert sorted(round(h.onset_n / RATE) for h in hits if h.onset_n > 700 * RATE) == list(onsets)
    assert diagnose(a, g, RATE, True, truth) == [ClusterWhy(onsets[0], False, (DETECTED,) * 5, (False,) * 5)]
