"""``truth --sync VIDEO=REC``: labels on a video's clock that drifts against the band's lined up by two
tap pairs (``spasmwatch taps``), where one offset leaves the far end minutes off; and its refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.cli import main

RATE, HOURS = 50.0, 3.0
TAPS = (60.0, HOURS * 3600 - 60.0)
FAST, LATE_S = 1.01, 12.3  # the video's clock runs 1 % fast and 12.3 s late


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=600)


def video(t: float) -> float:
    return FAST * t + LATE_S


def hms(t: float) -> str:
    ms = int(round(t * 1000))
    s, ms = divmod(ms, 1000)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}.{ms:03d}"


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path, list[str]]:
    """A simulated 3 h with clusters and tap triples at both ends; its labels as a labeller reads
    them off the drifting video (h:mm:ss.fff, durations on the video's clock); the --sync pairs
    from `spasmwatch taps` and the video times of the taps."""
    d = tmp_path_factory.mktemp("sync")
    rec = d / "rec.csv"
    assert main(["simulate", str(rec), "--kind", "clusters", "--hours", str(HOURS), "--rate", str(RATE),
                 "--seed", "2", "--taps", ",".join(map(str, TAPS))]) == 0
    truth = json.loads(rec.with_suffix(".truth.json").read_text())
    rows = [(video(s["t"]), f"{FAST * (s['end'] - s['t']):.3f}", "subtle_spasm" if s["kind"] == "subtle" else "spasm") for s in truth["spasms"]]
    rows += [(video(w), "n/a", "wake") for w in truth["wake_onsets"]]
    labels = d / "video_events.tsv"
    labels.write_text("onset\tduration\ttrial_type\n" + "".join(f"{hms(t)}\t{du}\t{k}\n" for t, du, k in sorted(rows)))
    out = cli("taps", str(rec), "--json")
    assert out.returncode == 0, out.stderr
    found = [r["t"] for r in json.loads(out.stdout)["triples"]]
    assert len(found) == 2
    pairs = [f"{hms(video(t))}={f:.3f}" for t, f in zip(TAPS, found)]  # the frame of each first tap
    return rec, truth, labels, pairs


def truth_with(rec: Path, labels: Path, out: Path, *opts: str) -> tuple[dict[str, Any], str]:
    got = cli("truth", str(rec), str(labels), "-o", str(out), *opts)
    assert got.returncode == 0, got.stderr
    return json.loads(out.read_text()), got.stderr


def onset_errors(truth: dict[str, Any], made: dict[str, Any]) -> list[float]:
    assert len(made["spasms"]) == len(truth["spasms"])
    return [abs(a["t"] - b["t"]) for a, b in zip(truth["spasms"], made["spasms"])]


def test_two_tap_pairs_correct_offset_and_drift(night: tuple[Path, dict[str, Any], Path, list[str]], tmp_path: Path) -> None:
    rec, truth, labels, pairs = night
    synced, note = truth_with(rec, labels, tmp_path / "s.json", "--sync", pairs[0], "--sync", pairs[1])
    assert max(onset_errors(truth, synced)) < 0.05
    ends = [abs(a["end"] - b["end"]) for a, b in zip(truth["spasms"], synced["spasms"])]
    assert max(ends) < 0.05  # durations scaled back by the drift
    assert len(synced["clusters"]) == len(truth["clusters"]) >= 3
    assert "2 pairs" in note and "runs -99" in note and "ppm" in note  # rec = video / 1.01: -9901 ppm
    # One offset from the first pair: right at the start, minutes off at the end
    offset = float(pairs[0].split("=")[1]) - video(TAPS[0])
    shifted, _ = truth_with(rec, labels, tmp_path / "o.json", "--offset-s", f"{offset:.3f}")
    errors = onset_errors(truth, shifted)
    assert errors[0] < 30 and max(errors) > 60, (errors[0], max(errors))


def test_evaluate_scores_the_synced_labels_as_the_true_ones(night: tuple[Path, dict[str, Any], Path, list[str]], tmp_path: Path) -> None:
    rec, _, labels, pairs = night
    copy = tmp_path / "labelled.csv"
    shutil.copyfile(rec, copy)
    truth_with(copy, labels, tmp_path / "labelled.truth.json", "--sync", pairs[0], "--sync", pairs[1])
    scores = []
    for r, name in ((rec, "true"), (copy, "synced")):
        out = tmp_path / f"{name}.json"
        got = cli("evaluate", str(r), "--json", str(out))
        assert got.returncode == 0, got.stderr
        scores.append(json.loads(out.read_text()))
    true, synced = scores[0]["summary"], scores[1]["summary"]
    assert true.keys() == synced.keys()
    for key, value in true.items():  # alarm delays count from the labelled third spasm: within the sync error
        if "delay" in key and value is not None:
            assert abs(value - synced[key]) <= 0.05, key
        else:
            assert value == synced[key], key


@pytest.mark.parametrize(
    "opts, message",
    [
        (["--sync", "0:01:12.900=60.020", "--offset-s", "3"], "--sync 0:01:12.900=60.020 with --offset-s 3: give one"),
        (["--sync", "0:01:12.900=90000"], "--sync 0:01:12.900=90000: the recording time 90000.000 s lies outside the recording (0.000-10800.000 s)"),
        (["--sync", "0:01:12.900=60", "--sync", "3:01:00=7000"], "--sync 0:01:12.900=60 --sync 3:01:00=7000: the recording's clock would run -35.7 % against the video's, beyond the 5 %"),
        (["--sync", "0:01:12.900"], "--sync '0:01:12.900': expected VIDEO=REC"),
        (["--sync", "1:72:00=60"], "--sync '1:72:00=60': the video time '1:72:00': not seconds or hh:mm:ss[.fff]"),
        (["--sync", "10=60", "--sync", "10.5=61"], "--sync 10=60 and --sync 10.5=61: video times under 1 s apart are one mark"),
        # a third pair 0.5 s off the line of the other two (the second tap read for the first)
        (["--sync", "100=100", "--sync", "5100=5101", "--sync", "10100=10101"], "--sync 5100=5101: 0.333 s off the line through the pairs (at most 0.3 s): another tap of the triple"),
    ],
)
def test_refusals_name_the_option_and_value(night: tuple[Path, dict[str, Any], Path, list[str]], tmp_path: Path, opts: list[str], message: str) -> None:
    rec, _, labels, _ = night
    got = cli("truth", str(rec), str(labels), "-o", str(tmp_path / "x.json"), *opts)
    assert got.returncode == 2
    assert message in got.stderr, got.stderr
    assert not (tmp_path / "x.json").exists()


def test_sync_with_wall_clock_reads_the_video_side_as_a_time_of_day(night: tuple[Path, dict[str, Any], Path, list[str]], tmp_path: Path) -> None:
    """A video clock's times of day (--wall-clock, a CSV's --start) on both the labels and --sync."""
    rec, truth, _, pairs = night
    start = 21 * 3600 + 30 * 60  # the video's clock shows 21:30:00 at its time 0

    def tod(video_s: float) -> str:
        return hms((start + video_s) % 86400).zfill(12)  # after midnight: 00:31:...

    rows = [(tod(video(s["t"])), f"{FAST * (s['end'] - s['t']):.3f}", "spasm") for s in truth["spasms"] if s["kind"] != "subtle"]
    labels = tmp_path / "clock_events.tsv"
    labels.write_text("onset\tduration\ttrial_type\n" + "".join(f"{t}\t{d}\t{k}\n" for t, d, k in rows))
    sync = [f"{tod(video(t))}={p.split('=')[1]}" for t, p in zip(TAPS, pairs)]
    made, note = truth_with(rec, labels, tmp_path / "w.json", "--wall-clock", "--tz", "UTC", "--start", "2026-12-04T21:30:00Z",
                            "--sync", sync[0], "--sync", sync[1])
    want = [s["t"] for s in truth["spasms"] if s["kind"] != "subtle"]
    assert len(made["spasms"]) == len(want)
    assert max(abs(a - b["t"]) for a, b in zip(want, made["spasms"])) < 0.05
    assert "ppm" in note
    # the span the times were placed in is the widened one, said so (it read as the recording's, '--offset-s 0')
    assert ("note: onsets read as local times in UTC: the times were placed within 2026-12-04T21:21:00+00:00 to "
            "2026-12-05T00:39:00+00:00 (UTC), the recording's span widened by 5% for the video clock's drift --sync corrects") in note, note  # fmt: skip


def test_sync_on_a_band_swraw(tmp_path: Path) -> None:
    """A band's .swraw: 'taps' on it gives the recording's side of each pair, as for a CSV."""
    import numpy as np

    from spasmwatch.io.rawfile import RawHeader, RawWriter
    from spasmwatch.sim import Scenario, simulate

    sim = simulate(Scenario(duration_s=900.0, seed=3, rate_hz=52.0, clusters=1, taps=(30.0, 860.0)))
    assert sim.gyro is not None
    counts = np.column_stack([np.rint(sim.acc * 1000), np.rint(sim.gyro * 10)]).astype(np.int16)
    part = tmp_path / "band-boot1-000.swraw"
    with RawWriter(part, RawHeader("band-1", 52.0, True, 1_764_936_000.0, index_origin=0)) as w:
        for i in range(0, len(counts), 4000):
            w.append(i, counts[i : i + 4000], 0)
    found = [r["t"] for r in json.loads(cli("taps", str(part), "--json").stdout)["triples"]]
    assert len(found) == 2
    labels = tmp_path / "events.tsv"
    labels.write_text("onset\tduration\ttrial_type\n" + "".join(f"{hms(video(s['t']))}\t1.0\tspasm\n" for s in sim.truth["spasms"]))
    sync = [f"{hms(video(t))}={f:.3f}" for t, f in zip((30.0, 860.0), found)]
    made, note = truth_with(part, labels, tmp_path / "t.json", "--sync", sync[0], "--sync", sync[1])
    assert max(onset_errors(sim.truth, made)) < 0.05
    assert "note: t = 0 s is" not in note  # the --offset-s hint is for labels without --sync
