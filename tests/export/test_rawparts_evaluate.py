"""``truth`` and ``evaluate`` take several .swraw parts of one band boot as ONE recording, as replay does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spasmwatch.io.rawfile import RawHeader, RawWriter

RATE = 52.0
WALL0 = 1_709_510_400.0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def morning() -> tuple[np.ndarray, dict[str, Any]]:
    """A simulated quarter hour (a wake, a cluster of 9) as the band's counts, and its truth."""
    from spasmwatch.sim import Scenario, simulate

    rec = simulate(Scenario(duration_s=900.0, seed=3, rate_hz=RATE, clusters=1))
    assert rec.gyro is not None and rec.t[0] == 0.0
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(rec.gyro * 10)]).astype(np.int16)
    return counts, rec.truth


def write(path: Path, counts: np.ndarray, first: int) -> Path:
    """Samples from index ``first`` as the daemon writes a part starting there (records of 19)."""
    with RawWriter(path, RawHeader("band-1", RATE, True, WALL0 + first / RATE, index_origin=first)) as w:
        for i in range(0, len(counts), 19):
            w.append(first + i, counts[i : i + 19], 0)
    return path


def parts(tmp_path: Path, counts: np.ndarray, cuts: list[int], boot: int = 4) -> list[Path]:
    edges = [0, *cuts, len(counts)]
    return [write(tmp_path / f"band-1-boot{boot}-{k:03d}.swraw", counts[a:b], a) for k, (a, b) in enumerate(zip(edges, edges[1:]))]


def events(tmp_path: Path, truth: dict[str, Any]) -> Path:
    """The simulator's truth as a labeller's events table (seconds on the recording's t)."""
    rows = [(s["t"], f"{s['end'] - s['t']:.3f}", "spasm") for s in truth["spasms"]]
    rows += [(w, "n/a", "wake") for w in truth["wake_onsets"]]
    rows += [(c["start"], f"{c['end'] - c['start']:.3f}", c["kind"]) for c in truth["confounders"]]
    path = tmp_path / "events.tsv"
    path.write_text("onset\tduration\ttrial_type\n" + "".join(f"{t}\t{d}\t{k}\n" for t, d, k in sorted(rows)))
    return path


def test_parts_are_labelled_and_scored_as_the_one_file_of_their_samples(tmp_path: Path, morning: tuple[np.ndarray, dict[str, Any]]) -> None:
    """The key promise: the truth of two parts (cut in the middle of the cluster, given in any
    order) is the one file's, and evaluating them together scores as that file does, --why too."""
    counts, sim = morning
    (cluster,) = sim["clusters"]
    cut = int((cluster["start"] + cluster["end"]) / 2 * RATE)
    whole = write(tmp_path / "whole.swraw", counts, 0)
    a, b = parts(tmp_path, counts, [cut])
    table = events(tmp_path, sim)
    assert cli("truth", str(whole), str(table)).returncode == 0
    res = cli("truth", str(b), str(a), str(table))
    assert res.returncode == 0, res.stderr
    both = tmp_path / "band-1-boot4-000-001.truth.json"
    assert res.stdout.startswith(f"{both}: 0.25 h, 9 spasms (0 subtle), 1 clusters")
    # When t = 0 is, for labels read off a video's clock (WALL0 + 0: the first part's dating).
    local = datetime.fromtimestamp(WALL0).astimezone()
    day_s = local.hour * 3600 + local.minute * 60 + local.second
    assert f"note: t = 0 s is {local.isoformat(timespec='milliseconds')} in this computer's time zone ({a}'s dating)" in res.stderr
    assert f"need --offset-s {0.0 - day_s:.3f} plus the tap correction" in res.stderr
    one_truth, parts_truth = json.loads((tmp_path / "whole.truth.json").read_text()), json.loads(both.read_text())
    assert parts_truth.pop("parts") == [a.name, b.name]
    assert parts_truth == one_truth
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    res = cli("evaluate", str(whole), "--why", "--json", str(one))
    assert res.returncode == 0, res.stderr
    res = cli("evaluate", "--parts", str(b), str(a), "--why", "--json", str(two))
    assert res.returncode == 0, res.stderr
    s1, s2 = json.loads(one.read_text()), json.loads(two.read_text())
    assert s2["summary"] == s1["summary"] and s2["why"] == s1["why"] and s1["summary"]["clusters"] == "1/1"
    assert s2["recordings"][0]["recording"] == f"{a} .. {b} (2 parts)"
    assert {k: v for k, v in s2["recordings"][0].items() if k != "recording"} == {k: v for k, v in s1["recordings"][0].items() if k != "recording"}
    # A file and a boot's parts in one run: two recordings, each paired with its own truth.
    res = cli("evaluate", str(whole), "--parts", str(a), str(b), "--json", str(two))
    assert res.returncode == 0, res.stderr
    rows = json.loads(two.read_text())["recordings"]
    assert [r["recording"] for r in rows] == [str(whole), f"{a} .. {b} (2 parts)"] and rows[0]["clusters"] == rows[1]["clusters"] == "1/1"


def test_parts_and_truths_that_do_not_belong_together_are_refused(tmp_path: Path, morning: tuple[np.ndarray, dict[str, Any]]) -> None:
    counts, sim = morning
    p0, p1, p2 = parts(tmp_path, counts, [15000, 30000])
    table = events(tmp_path, sim)
    assert cli("truth", str(p0), str(p1), str(p2), str(table)).returncode == 0
    three = tmp_path / "band-1-boot4-000-002.truth.json"
    # A part left out (a glob that missed a day): the truth of the three parts is not theirs.
    res = cli("evaluate", "--parts", str(p0), str(p2))
    assert res.returncode == 2 and f"{three}: field 'parts': written for {p0.name}, {p1.name}, {p2.name}; given {p0.name}, {p2.name}" in res.stderr
    res = cli("evaluate", "--parts", str(p0), str(p1))
    assert res.returncode == 2 and f"{tmp_path / 'band-1-boot4-000-001.truth.json'}: ground truth file not found" in res.stderr
    # Parts of two boots mixed, for truth and evaluate alike.
    (boot5,) = parts(tmp_path, counts[30000:], [], boot=5)
    for args in (("truth", str(p0), str(boot5), str(table)), ("evaluate", "--parts", str(p0), str(boot5))):
        res = cli(*args)
        assert res.returncode == 2 and f"{boot5}: field 'boot (file name)': boot 5 here, boot 4 in {p0}" in res.stderr
    # A truth written by hand with times from midnight, not from the first part's noon.
    by_hand = {k: sim[k] for k in ("duration_s", "spasms", "clusters", "wake_onsets", "not_worn")}
    by_hand["spasms"] = [{"t": s["t"] + 43200.0} for s in sim["spasms"]]
    by_hand["duration_s"] = 30000 / RATE  # parts 000 and 001's: that is right
    (tmp_path / "band-1-boot4-000-001.truth.json").write_text(json.dumps(by_hand))
    res = cli("evaluate", "--parts", str(p1), str(p0))
    first = sim["spasms"][0]["t"] + 43200.0
    assert res.returncode == 2 and (
        f"band-1-boot4-000-001.truth.json: field 'spasms[0].t': {first:.3f} s lies outside the parts' 0.000-576.923 s "
        f"({p0.name} .. {p1.name}): a truth of other parts, or times not counted from the first part's noon"
    ) in res.stderr
    # A truth written while the daemon was still writing the last part: the parts hold more now.
    short = tmp_path / "short"
    short.mkdir()
    q0, q1 = parts(short, counts[:30000], [15000])
    early = short / "events.tsv"
    early.write_text("onset\tduration\ttrial_type\n360\tn/a\twake\n")  # the labels of its first 577 s
    assert cli("truth", str(q0), str(q1), str(early)).returncode == 0
    with RawWriter(q1, RawHeader("band-1", RATE, True, WALL0 + 15000 / RATE, index_origin=15000)) as w:
        w.append(30000, counts[30000:], 0)  # the daemon goes on writing the part
    res = cli("evaluate", "--parts", str(q0), str(q1))
    assert res.returncode == 2 and "band-1-boot4-000-001.truth.json: field 'duration_s': 576.923 s here, the parts hold 900.000 s: written before the last part was complete" in res.stderr
    # One file is checked as well (found by the researcher audit: its truth's hours were taken as they were).
    (tmp_path / "one").mkdir()
    (q2,) = parts(tmp_path / "one", counts, [])
    q2.with_name(q2.stem + ".truth.json").write_text(json.dumps({**by_hand, "spasms": sim["spasms"], "duration_s": 30000 / RATE}))
    res = cli("evaluate", str(q2))
    assert res.returncode == 2 and f"field 'duration_s': 576.923 s here, {q2.name} holds 900.000 s: a truth written for another recording" in res.stderr
    # A recording typed after --parts lands among them: named, with where it goes.
    csv = tmp_path / "night1.csv"
    csv.write_text("t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n")
    res = cli("evaluate", "--parts", str(p0), str(p1), str(p2), str(csv))
    assert res.returncode == 2 and f"--parts: {csv}: not a .swraw part of a band boot; a recording of its own goes before --parts" in res.stderr
    # Labels outside the parts' span are refused when the truth is written, too.
    res = cli("truth", str(p0), str(p1), str(table), "--offset-s", "400", "--force")
    assert res.returncode == 2 and "lies outside the recording (0.000-576.923 s); is the offset right?" in res.stderr


def test_the_offset_for_times_of_day_says_the_clocks_changed_within_the_recording(tmp_path: Path, morning: tuple[np.ndarray, dict[str, Any]]) -> None:
    """Researcher review (2026-12-06): the note's --offset-s for labels read off a video clock's time
    of day holds up to a change of the clocks only. A night part of the autumn change (parts run noon
    to noon) put every label after 03:00 CEST an hour early, within the recording, without a word.
    It now says how much more a time after the change needs (Berlin, autumn: 3600 s)."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    counts, sim = morning
    wall0 = datetime(2024, 10, 27, 0, 55, tzinfo=timezone.utc).timestamp()  # 02:55 CEST; 03:00 CEST -> 02:00 CET 5 min in
    rec = tmp_path / "night.swraw"
    with RawWriter(rec, RawHeader("band-1", RATE, True, wall0, index_origin=0)) as w:
        w.append(0, counts, 0)
    res = subprocess.run([sys.executable, "-m", "spasmwatch", "truth", str(rec), str(events(tmp_path, sim))],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "TZ": "Europe/Berlin"})  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "need --offset-s -10500.000 plus the tap correction" in res.stderr, res.stderr  # 02:55:00 CEST
    assert "a time of day read after 2024-10-27 03:00 (the clocks went back to 02:00) needs 3600 s more" in res.stderr, res.stderr
    # What the note says, done: a spasm labelled off the clock at 02:10:00 CET is at t = 15 min.
    after = datetime(2024, 10, 27, 2, 10, tzinfo=ZoneInfo("Europe/Berlin"), fold=1)
    assert after.timestamp() - wall0 == 2 * 3600 + 10 * 60 - 10500 + 3600


def test_labels_on_the_videos_clock_without_wall_clock_are_refused_saying_when_t0_is(tmp_path: Path, morning: tuple[np.ndarray, dict[str, Any]]) -> None:
    """Found by the docs run (researcher): a table of times read off the video's clock (05:22:01),
    given without --wall-clock, was refused "lies outside the recording (0.400-1799.700 s); is the
    offset right?", and the note that says when t = 0 is and names --wall-clock, printed only when a
    truth is written, was never seen by the family who needed it."""
    counts, _ = morning
    p0, p1 = parts(tmp_path, counts, [20000])
    table = tmp_path / "clock_events.tsv"
    table.write_text("onset\tduration\ttrial_type\n05:22:01\t1.2\tspasm\n")
    res = cli("truth", str(p0), str(p1), str(table))
    assert res.returncode == 2 and "spasm at 19321.000 s (to 19322.200 s) lies outside the recording (0.000-900.000 s); is the offset right? " in res.stderr, res.stderr
    assert "t = 0 s is " in res.stderr and f"({p0}'s dating)" in res.stderr and "--wall-clock reads such times as they are" in res.stderr, res.stderr
