"""The replay contract (docs/engineering.md, "Design notes"), through the real CLI, and the demo."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np
import pytest
from daemonproc import unprivileged

from spasmwatch import __version__
from spasmwatch.analysis.clusters import CLOSE_S
from spasmwatch.cli import build_parser
from spasmwatch.codeid import source_sha256
from spasmwatch.commands.evaluate import _gather, run_facts
from spasmwatch.errors import SpasmwatchError
from spasmwatch.io.limits import MAX_CHUNK_ROWS


# A CSV whose line 3 has a bad number in field 'ay'.
BAD_CSV = "t,ax,ay,az\n0,0,0,1\n0.01,0,oops,1\n"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=300)


def test_jsonl_follows_the_contract(morning: tuple[Path, dict[str, object]]) -> None:
    path, truth = morning
    res = cli("replay", str(path), "--jsonl")
    assert res.returncode == 0, res.stderr
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    kinds = {r["type"] for r in recs}
    assert kinds <= {"spasm", "cluster", "wake", "sleep", "not_worn"}
    spasms = [r for r in recs if r["type"] == "spasm"]
    assert spasms and all(isinstance(r["t"], float) and r["duration_s"] > 0 for r in spasms)
    (cluster,) = [r for r in recs if r["type"] == "cluster"]
    assert set(cluster) >= {"start", "end", "count", "alert_t", "post_wake_s"}
    tc = truth["clusters"][0]  # type: ignore[index]
    assert cluster["start"] <= tc["end"] and tc["start"] <= cluster["end"]
    assert cluster["count"] >= 3 and cluster["start"] < cluster["alert_t"] <= cluster["end"]
    (wake,) = [r for r in recs if r["type"] == "wake"]
    assert abs(wake["t"] - truth["wake_onsets"][0]) < 300  # type: ignore[index]
    assert cluster["post_wake_s"] == pytest.approx(cluster["start"] - wake["t"], abs=0.01)
    # Causal: every record comes out once decided, in the order of decision
    # (a cluster once it has been quiet for CLOSE_S after its last spasm).
    decided = [r["end"] + CLOSE_S if r["type"] == "cluster" else r.get("detected_t", r.get("end")) for r in recs]
    assert decided == sorted(decided)


TIME_FIELDS = ("t", "start", "end", "alert_t", "detected_t")


def _strict_json(line: str) -> dict[str, object]:
    """One --jsonl line as JSON proper: NaN or Infinity (which json.dumps writes) refused."""

    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name} in {line}")

    obj = json.loads(line, parse_constant=refuse)
    assert isinstance(obj, dict)
    return obj


def test_jsonl_times_are_on_the_files_time_base_and_post_wake_is_null_without_a_wake(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """The contract's other rules, on real output: 't', 'start', 'end', 'alert_t' are seconds on the
    file's time base (the same samples timed from 1234.5 s give every time 1234.5 s later, and
    nothing else changes); 'post_wake_s' is null when no wake onset was seen (the file starts
    awake, half a minute before its cluster); a band off the baby is a not_worn record with its span;
    every line is an object of a known type, in JSON proper; docs/detector.md names each field
    printed (no replay field was documented for researchers but the design notes' few)."""
    lines = morning[0].read_text().splitlines()
    rows = [line.split(",", 1)[1] for line in lines[60001:120001]]  # 600-1200 s: awake, the cluster
    still = ",".join(["0.00100", "-0.00050", "1.00020", "0.0300", "-0.0200", "0.0100"])  # the band on a table
    rows += [still if i % 2 else still.replace("0.00100", "0.00110") for i in range(60_000)]
    records = {}
    for name, t0 in (("zero", 0.0), ("shifted", 1234.5)):
        path = tmp_path / f"{name}.csv"
        path.write_text(lines[0] + "\n" + "".join(f"{t0 + i / 100:.2f},{r}\n" for i, r in enumerate(rows)))
        res = cli("replay", str(path), "--jsonl")
        assert res.returncode == 0, res.stderr
        records[name] = [_strict_json(line) for line in res.stdout.splitlines()]
    zero, shifted = records["zero"], records["shifted"]
    assert {r["type"] for r in zero} <= {"spasm", "cluster", "wake", "sleep", "not_worn"}
    (cluster,) = [r for r in zero if r["type"] == "cluster"]
    assert cluster["post_wake_s"] is None and not any(r["type"] == "wake" for r in zero)
    assert isinstance(cluster["count"], int) and cluster["count"] >= 3
    assert all(isinstance(cluster[k], float) for k in ("start", "end", "alert_t")) and cluster["start"] < cluster["end"]
    (off,) = [r for r in zero if r["type"] == "not_worn"]
    assert 600.0 - 60.0 <= off["start"] < off["end"] <= (len(rows) - 1) / 100, off  # the still half, within the file
    # docs/detector.md says what each field of each record is: every one printed here is there.
    doc = (Path(__file__).resolve().parent.parent / "docs" / "detector.md").read_text()
    said = doc.split("## What `replay --jsonl` prints", 1)[1].split("\n## ", 1)[0]
    morning_recs = [_strict_json(line) for line in cli("replay", str(morning[0]), "--jsonl").stdout.splitlines()]
    for r in zero + morning_recs:
        assert f"`{r['type']}`" in said and all(f"`{k}`" in said for k in r if k != "type"), r
    assert len(shifted) == len(zero)
    for a, b in zip(zero, shifted, strict=True):
        assert set(a) == set(b)
        for k in a:
            if k in TIME_FIELDS:
                assert b[k] == pytest.approx(a[k] + 1234.5, abs=0.011), (k, a, b)
            else:
                assert b[k] == a[k], (k, a, b)


def test_table_output_and_safety_wording(morning: tuple[Path, dict[str, object]]) -> None:
    res = cli("replay", str(morning[0]))
    assert res.returncode == 0, res.stderr
    assert "CLUSTER" in res.stdout and "pediatrician" in res.stdout and "not a" in res.stdout


def test_bad_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    res = cli("replay", str(bad), "--jsonl")
    assert res.returncode == 2
    assert f"{bad}:3" in res.stderr and "'ay'" in res.stderr
    assert res.stdout == ""


def test_evaluate_scores_a_recording_against_its_truth(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    out = tmp_path / "score.json"
    res = cli("evaluate", str(morning[0]), "--json", str(out))
    assert res.returncode == 0, res.stderr
    summary = json.loads(out.read_text())["summary"]
    assert summary["clusters"] == "1/1" and summary["false_clusters"] == 0
    assert summary["wakes"] == "1/1"


def test_evaluate_names_the_wakes_it_missed_and_made_up(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """-v lists, per recording, the true wake onsets found by no detected wake and the detected ones
    near no true wake (seconds): where a researcher looks first when the wake score is low."""
    src, truth = morning
    csv = tmp_path / "m.csv"
    csv.symlink_to(src)
    real = list(truth["wake_onsets"])  # type: ignore[call-overload]
    moved = dict(truth, wake_onsets=[real[0] + 1000.0])  # the true wake told 1000 s later: one missed, one false
    (tmp_path / "m.truth.json").write_text(json.dumps(moved))
    out = tmp_path / "score.json"
    res = cli("evaluate", str(csv), "-v", "--json", str(out))
    assert res.returncode == 0, res.stderr
    row = json.loads(out.read_text())["recordings"][0]
    assert row["missed_wakes_s"] == [round(real[0] + 1000.0, 1)]
    assert len(row["false_wakes_s"]) == 1 and abs(row["false_wakes_s"][0] - real[0]) <= 300
    assert f"missed: {real[0] + 1000.0:.0f}  false: {row['false_wakes_s'][0]:.0f}" in res.stdout


def test_evaluate_without_truth_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("t,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n")
    res = cli("evaluate", str(path))
    assert res.returncode == 2 and "x.truth.json" in res.stderr and "not found" in res.stderr


def test_evaluate_of_a_missing_recording_names_the_recording(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by the input audit: 'evaluate typo.csv' said 'typo.truth.json: ground truth file not
    found', though the recording was what was missing."""
    for with_truth in (False, True):
        if with_truth:
            (tmp_path / "typo.truth.json").write_text(Path(str(morning[0])[:-4] + ".truth.json").read_text())
        res = cli("evaluate", str(tmp_path / "typo.csv"))
        assert res.returncode == 2 and f"spasmwatch evaluate: error: {tmp_path / 'typo.csv'}: cannot open the file: No such file" in res.stderr, res.stderr


def test_evaluate_names_an_input_error_before_saying_the_run_starts(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by an audit: 'evaluate typo.csv' printed 'replaying 1 recordings on 1 workers...' and then
    the error, as if the run had started; a good recording beside a bad one was not replayed first either."""
    for bad in (tmp_path / "typo.csv", tmp_path / "x.csv"):  # no such recording; a recording with no truth
        if bad.name == "x.csv":
            bad.write_text("t,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n")
        res = cli("evaluate", str(morning[0]), str(bad))
        assert res.returncode == 2 and res.stderr.startswith(f"spasmwatch evaluate: error: {bad.with_suffix('') if bad.name == 'x.csv' else bad}"), res.stderr
        assert "replaying" not in res.stderr and res.stdout == "", res.stderr


def test_replay_imports_neither_daemon_nor_web_stack() -> None:
    """A command line naming one command imports that command alone (replay's start-up)."""
    probe = (
        "import sys\n"
        "from spasmwatch.cli import build_parser\n"
        "build_parser(['replay', 'x.csv'])\n"
        "print(sorted(m for m in ('aiohttp', 'spasmwatch.daemon.daemon', 'bleak') if m in sys.modules))\n"
        "build_parser([])\n"
        "print('aiohttp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.split("\n")[:2] == ["[]", "True"]


def test_accel_only_file_gets_a_note_on_stderr_and_clean_jsonl(tmp_path: Path) -> None:
    csv = tmp_path / "acc.csv"
    csv.write_text("t,ax,ay,az\n" + "".join(f"{i / 50:.2f},0.01,0.02,0.99\n" for i in range(50 * 60)))
    res = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(csv), "--jsonl"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "no gyro columns" in res.stderr and str(csv) in res.stderr
    assert all(json.loads(line)["type"] for line in res.stdout.splitlines())


def test_evaluate_names_the_truth_field_it_lacks(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_bytes(morning[0].read_bytes())
    truth = json.loads(json.dumps(morning[1]))
    del truth["clusters"][0]["third_end"]
    (tmp_path / "m.truth.json").write_text(json.dumps(truth))
    res = cli("evaluate", str(csv), "--jobs", "2")
    assert res.returncode == 2, res.stderr
    assert "m.truth.json: field 'clusters[0].third_end': missing" in res.stderr


def test_evaluate_puts_misses_in_context_and_checks_the_context_labels(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_bytes(morning[0].read_bytes())
    truth = json.loads(json.dumps(morning[1]))
    real = truth["wake_onsets"][0]
    truth["wake_onsets"] = [real + 1000.0]  # one wake missed, in the car below
    truth["places"] = [{"context": "car", "start": real + 900.0, "end": real + 1100.0}]
    truth["confounders"] = []  # the simulator's own labels would join in
    (tmp_path / "m.truth.json").write_text(json.dumps(truth))
    out = tmp_path / "score.json"
    res = cli("evaluate", str(csv), "--json", str(out))
    assert res.returncode == 0, res.stderr
    assert "1 missed wakes: car 1" in res.stdout
    assert json.loads(out.read_text())["contexts"] == {"missed_wakes": {"car": 1}}
    truth["places"] = [{"start": 0.0, "end": 10.0}]
    (tmp_path / "m.truth.json").write_text(json.dumps(truth))
    res = cli("evaluate", str(csv))
    assert res.returncode == 2 and "m.truth.json: field 'places[0].context': missing" in res.stderr


def test_input_error_crosses_processes_whole() -> None:
    import pickle

    from spasmwatch.errors import InputError

    e = pickle.loads(pickle.dumps(InputError("a.csv", "bad number", line=7, field="ax")))
    assert isinstance(e, InputError) and (e.path, e.line, e.field) == ("a.csv", 7, "ax")
    assert str(e) == "a.csv:7: field 'ax': bad number"


def test_evaluate_sorts_recordings_by_their_sensors_not_their_names(tmp_path: Path) -> None:
    csv = tmp_path / "plain.csv"
    csv.write_text("t,ax,ay,az\n" + "".join(f"{i / 50:.2f},0.01,0.02,0.99\n" for i in range(50 * 60)))
    empty = {"duration_s": 60.0, "spasms": [], "clusters": [], "wake_onsets": [], "not_worn": []}
    (tmp_path / "plain.truth.json").write_text(json.dumps(empty))
    out = tmp_path / "score.json"
    res = cli("evaluate", str(csv), "--json", str(out))
    assert res.returncode == 0, res.stderr
    assert list(json.loads(out.read_text())["by_sensor"]) == ["accel-only"]


def test_table_says_which_spasms_were_counted_by_likeness() -> None:
    from spasmwatch.commands.replay import record_line

    m = {"type": "spasm", "t": 30.0, "duration_s": 1.0, "peak_rate_dps": 40.0, "peak_angle_deg": 0.0,
         "confidence": 20, "detected_t": 34.0, "matched": True}  # fmt: skip
    assert "counted by likeness" in record_line(m) and "posture" not in record_line(m)
    c = {"type": "cluster", "start": 10.0, "end": 60.0, "count": 7, "matched": 2, "alert_t": 25.0, "post_wake_s": None}
    assert "7 spasms (2 by likeness) until" in record_line(c)
    assert "7 spasms until" in record_line(dict(c, matched=0))
    s = dict(m, matched=False, peak_angle_deg=6.0, confidence=80)
    assert record_line(s).endswith("confidence 80") and "shaped like the one before" in record_line(dict(s, alike=True))


def test_table_times_are_rounded_to_the_tenth_not_cut() -> None:
    """Found by an audit: the table cut times to the tenth, a spasm at t = 43.87 s (--jsonl) read
    '00:00:43.8'; rounded it is 43.9, and a time a hair under a minute carries into it."""
    from spasmwatch.commands.replay import clock, record_line

    s = {"type": "spasm", "t": 43.87, "duration_s": 1.0, "peak_rate_dps": 40.0, "peak_angle_deg": 10.0, "confidence": 80, "detected_t": 46.0}
    assert record_line(s).startswith("00:00:43.9  spasm"), record_line(s)
    assert (clock(59.96), clock(3599.99), clock(12.04), clock(0.0)) == ("00:01:00.0", "01:00:00.0", "00:00:12.0", "00:00:00.0")


def test_elapsed_and_wall_times_round_to_the_same_tenth_half_up(tz_env: pytest.MonkeyPatch) -> None:
    """The elapsed clock and the wall clock share one rounding (each had its own divmod), half up from
    the time as --jsonl writes it: x.95 carries into the next second, 59.95 s into the next minute,
    23:59:59.95 into midnight. Old code rounded t * 10 half to even: 43.85 s and 0.05 s (whose floats
    are a hair above the half) read 43.8 and 0.0, and 0.25 s 0.2 beside 0.15 s 0.2."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tzenv import set_tz

    from spasmwatch.commands.replay import clock, wall_clock

    assert [clock(t) for t in (12.95, 59.95, 86_399.95, 43.85, 0.05, 0.15, 0.25, 0.04)] == [
        "00:00:13.0", "00:01:00.0", "24:00:00.0", "00:00:43.9", "00:00:00.1", "00:00:00.2", "00:00:00.3", "00:00:00.0"]  # fmt: skip
    assert (clock(-59.95), clock(-0.04)) == ("-00:01:00.0", "00:00:00.0")  # signed only when it rounds to a time before zero
    set_tz(tz_env, "Europe/Berlin")
    midnight = datetime(2026, 12, 7, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    when = wall_clock(float, ZoneInfo("Europe/Berlin"), midnight)
    assert [when(midnight + d) for d in (-0.05, 12.95, 59.95, 43.85, -0.15)] == [
        "00:00:00.0", "00:00:13.0", "00:01:00.0", "00:00:43.9", "Sun 2026-12-06 23:59:59.9"]  # fmt: skip


def test_table_times_before_the_files_zero_read_as_before_it(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by the researcher review: a recording timed from an event (an EEG marker at t = 0)
    starts at a negative t, which replay takes; its table read a wake at t = -360 s as
    '-1:54:00.0' (divmod floors towards minus infinity: -1 h plus 54 min) and a cluster at
    -65.5 s as '-1:58:54.5'. Each line's time is the --jsonl time, signed."""
    shifted = tmp_path / "from_marker.csv"
    lines = morning[0].read_text().splitlines()
    rows = (f"{float(t) - 700.0:.3f},{rest}" for t, rest in (line.split(",", 1) for line in lines[1:]))
    shifted.write_text("\n".join([lines[0], *rows]) + "\n")
    recs = [json.loads(line) for line in cli("replay", str(shifted), "--jsonl").stdout.splitlines()]
    (wake,) = [r for r in recs if r["type"] == "wake"]
    (cluster,) = [r for r in recs if r["type"] == "cluster"]
    assert wake["t"] < cluster["start"] < cluster["end"] < 0  # the table below is of negative times
    table = cli("replay", str(shifted)).stdout.splitlines()

    def reads(t: float) -> str:
        s = round(abs(t) * 10)
        return f"-{s // 36000:02d}:{s // 600 % 60:02d}:{s // 10 % 60:02d}.{s % 10}"

    assert f"{reads(wake['t'])}  wake" in table, table
    assert any(line.startswith(f"{reads(cluster['start'])}  CLUSTER") and f"until {reads(cluster['end'])}," in line for line in table), table
    from spasmwatch.commands.replay import clock

    assert (clock(-360.0), clock(-0.04), clock(-0.06), clock(-3600.0)) == ("-00:06:00.0", "00:00:00.0", "-00:00:00.1", "-01:00:00.0")


@pytest.mark.parametrize("jsonl", [True, False])
def test_records_to_a_full_disk_are_a_one_line_error(morning: tuple[Path, dict[str, object]], jsonl: bool) -> None:
    """Found by the researcher review: 'replay rec.csv --jsonl > rec.jsonl' on a full disk ended in
    a Python traceback (OSError: [Errno 28] from the write), exit code 1. /dev/full is the
    kernel's full disk: every write fails with ENOSPC."""
    with open("/dev/full", "w") as full:
        res = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(morning[0]), *(["--jsonl"] if jsonl else [])],
                             stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "Exception ignored" not in res.stderr, res.stderr
    assert res.stderr == f"spasmwatch replay: error: standard output: cannot write the records: {os.strerror(28)}\n"


def _on_a_terminal(*args: str) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (as a person would): exit code, stderr."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "spasmwatch", *args], stdout=subprocess.DEVNULL, stderr=slave, timeout=300)
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode()


def test_replay_shows_progress_on_a_terminal_only(morning: tuple[Path, dict[str, object]]) -> None:
    """Researcher review (2026-12-06): 'replay DAY.csv --jsonl > day.jsonl' said nothing until done
    (5 s for a day at 100 Hz, a week's parts half a minute), where export and evaluate show their
    progress. On a terminal (stderr; the records go elsewhere) it now says how far into the recording
    it is, on one line cleared at the end; off one, stderr stays empty."""
    import re

    code, err = _on_a_terminal("replay", str(morning[0]), "--jsonl", "--chunk-rows", "30000")
    assert code == 0, err
    shown = [float(h) for h in re.findall(rf"\r{re.escape(str(morning[0]))}: (\d+\.\d) h replayed", err)]
    assert shown and shown[0] == 0.1 and shown == sorted(shown) and shown[-1] <= 0.5, err  # 30,000 of 180,000 rows at 100 Hz first
    assert err.endswith("\r") and not err.split("\r")[-2].strip(), repr(err[-80:])  # the line cleared
    assert cli("replay", str(morning[0]), "--jsonl").stderr == ""


def test_export_raw_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    """Found by the researcher's hostile review of 2026-12-07: 'export raw' of a day's part at
    100 Hz took 40 s or more, a week's parts minutes, with nothing on the terminal until done,
    where replay, evaluate and export show how far they are. On a terminal it now says how far
    into the recording it is, on one line cleared at the end; off one, only its summary."""
    import re

    from spasmwatch.io.rawfile import RawHeader, RawWriter

    raw, rate, n = tmp_path / "band-1-boot1-000.swraw", 52.0, 300_000  # 1.6 h: two of export raw's chunks
    counts = np.tile(np.array([[0, 0, 1000, 0, 0, 0]], dtype=np.int16), (n, 1))
    with RawWriter(raw, RawHeader("band-1", rate, True, 1_709_510_400.0)) as w:
        w.append(0, counts)
    code, err = _on_a_terminal("export", "raw", str(raw), "--csv", str(tmp_path / "a.csv"))
    assert code == 0, err
    shown = [float(h) for h in re.findall(rf"\r{re.escape(str(raw))}: (\d+\.\d) h converted", err)]
    assert shown and shown == sorted(shown) and shown[-1] <= round(n / rate / 3600, 1), err
    summary = err.index(f"{tmp_path / 'a.csv'}: {n} samples")
    assert err[:summary].endswith("\r") and not err[:summary].split("\r")[-2].strip(), repr(err[:summary][-80:])  # cleared
    off = cli("export", "raw", str(raw), "--csv", str(tmp_path / "b.csv")).stderr
    assert off.startswith(f"{tmp_path / 'b.csv'}: {n} samples") and "converted" not in off, off


def test_taps_shows_progress_on_a_terminal_only(morning: tuple[Path, dict[str, object]]) -> None:
    """Found by the researcher's hostile review of 2026-12-07: 'taps' read 6 h at 100 Hz in 5.5 s
    (a week's parts in minutes) with nothing on the terminal until done. It now says how far into
    the recording it is, on one stderr line cleared before what it says next."""
    import re

    code, err = _on_a_terminal("taps", str(morning[0]))
    assert code == 0, err
    shown = [float(h) for h in re.findall(rf"\r{re.escape(str(morning[0]))}: (\d+\.\d) h read", err)]
    assert shown and shown == sorted(shown) and shown[-1] <= 0.5, err  # 180,000 rows at 100 Hz
    before = err[: err.index("no tap triple found")]
    assert before.endswith("\r") and not before.split("\r")[-2].strip(), repr(before[-80:])  # cleared
    assert " h read" not in cli("taps", str(morning[0])).stderr


def test_simulate_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    """Researcher review (2026-12-07): 'simulate' of 24 h took ~25 s. Its own line ('simulating
    12/528 chunks', one write per chunk) said nothing in the seconds the plan takes (4.3 s for a day
    under load), counted chunks no one knows the size of, and was left on the terminal. It now says
    how far it is in hours from the start, as replay and taps do (the shared line), and clears it
    before what is said next; off a terminal, stderr is empty."""
    out = tmp_path / "m.csv"
    code, err = _on_a_terminal("simulate", str(out), "--kind", "morning", "--duration-s", "1200", "--seed", "2")
    assert code == 0, err
    shown = [float(h) for h in re.findall(rf"\r{re.escape(str(out))}: (\d+\.\d) of 0\.3 h simulated", err)]
    assert shown and shown[0] == 0.0 and shown == sorted(shown) and shown[-1] <= 0.3, repr(err)  # 0.0 at once
    assert err.endswith("\r") and not err.split("\r")[-2].strip(), repr(err[-80:])  # the line cleared
    res = cli("simulate", str(tmp_path / "p.csv"), "--kind", "morning", "--duration-s", "1200", "--seed", "2")
    assert res.returncode == 0 and res.stderr == "", res.stderr


def test_a_warning_during_replay_starts_a_line_of_its_own_on_a_terminal(tmp_path: Path) -> None:
    """The progress line is cleared before a warning that comes part-way (a gyro in rad/s, seen
    after 10 min of a still band): without it the warning went on after 'x.csv: 0.2 h replayed'."""
    from test_units_check import DAILY_LIVING, in_rad_s

    path = in_rad_s(DAILY_LIVING, tmp_path / "converted.csv", still_s=600.0)
    code, err = _on_a_terminal("replay", str(path), "--jsonl", "--chunk-rows", "20000")
    assert code == 0, err
    before, warning = err.split("spasmwatch replay: warning:", 1)
    assert "h replayed" in before and before.endswith("\r") and not before.split("\r")[-2].strip(), repr(before)
    assert "look like rad/s" in warning


def test_evaluate_shows_progress_on_a_terminal_only(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_bytes(morning[0].read_bytes())
    (tmp_path / "m.truth.json").write_text(json.dumps(morning[1]))
    code, err = _on_a_terminal("evaluate", str(morning[0]), str(csv), "--jobs", "2")
    assert code == 0, err
    # One line, rewritten as recordings finish ("1/2" may be skipped: both can finish at once).
    assert "\r2/2 recordings scored" in err and err.count("recordings scored") <= 2
    piped = cli("evaluate", str(morning[0]), str(csv), "--jobs", "2")
    assert piped.returncode == 0 and "recordings scored" not in piped.stderr


def test_evaluate_stops_at_the_first_file_that_fails(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    (tmp_path / "bad.truth.json").write_text(json.dumps(morning[1]))
    res = cli("evaluate", str(bad), str(morning[0]), "--jobs", "2")
    assert res.returncode == 2 and f"{bad}:3" in res.stderr and "'ay'" in res.stderr
    assert "replaying" not in res.stderr  # in the rows the opening reads: found before the run starts
    # A bad line late in a file is found only in the run: after the good recording was scored.
    lines = morning[0].read_text().splitlines(keepends=True)
    bad_line = 1 + 900 * 100  # t = 900 s at 100 Hz
    fields = lines[bad_line - 1].split(",")
    fields[2] = "oops"  # ay
    lines[bad_line - 1] = ",".join(fields)
    late = tmp_path / "late.csv"
    late.write_text("".join(lines))
    (tmp_path / "late.truth.json").write_text(json.dumps(morning[1]))
    code, err = _on_a_terminal("evaluate", str(morning[0]), str(late), "--jobs", "1")
    assert code == 2 and "1/2 recordings scored\r\n" in err, err  # the error starts on a line of its own
    assert f"{late}:{bad_line}: field 'ay'" in err


class _Inline(Executor):
    """Runs each job as it is submitted: every future is done before ``_gather`` first waits, as when
    a loaded machine wakes its main thread after both workers finished."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        f: Future[object] = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as e:
            f.set_exception(e)
        return f


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_counts_what_was_scored_before_a_failure_found_in_the_same_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found flaky under load (test_evaluate_stops_at_the_first_file_that_fails): a wait returning the
    scored recording and the failed one together printed no progress before the error."""

    def job(name: str) -> str:
        if name == "bad.csv":
            raise SpasmwatchError("bad.csv:3: field 'ay': not a number")
        return name

    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    with pytest.raises(SpasmwatchError, match="bad.csv:3"):
        _gather(_Inline(), job, ["good.csv", "bad.csv"])
    assert term.getvalue() == "\r1/2 recordings scored\n"


def test_a_bad_line_late_in_a_file_comes_after_every_record_decided_before_it(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by a check against the design notes (docs/engineering.md): the reader's look-ahead raised before the block in
    hand was replayed, so a bad line 20 min in lost every record before it (unless --chunk-rows was small)."""
    lines = morning[0].read_text().splitlines(keepends=True)
    bad_line = 1 + int(900 * 100)  # t = 900 s at 100 Hz, well after the cluster (634-664 s) closed
    fields = lines[bad_line - 1].split(",")
    fields[2] = "abc"  # ay
    lines[bad_line - 1] = ",".join(fields)
    path = tmp_path / "bad_late.csv"
    path.write_text("".join(lines))
    res = cli("replay", str(path), "--jsonl")
    assert res.returncode == 2 and f"{path}:{bad_line}: field 'ay'" in res.stderr
    recs = [json.loads(x) for x in res.stdout.splitlines()]
    whole = [json.loads(x) for x in cli("replay", str(morning[0]), "--jsonl").stdout.splitlines()]
    decided = lambda r: r["end"] + CLOSE_S if r["type"] == "cluster" else r.get("detected_t", r.get("end", r.get("t")))  # noqa: E731
    assert recs == [r for r in whole if decided(r) < 895.0]  # all decided well before the bad line, none after
    assert any(r["type"] == "cluster" for r in recs)


def test_a_last_line_cut_short_is_read_past_with_a_warning(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by review: a logger whose battery dies stops in the middle of a line, and the whole
    end of the recording was lost to it: the cluster still open there was never printed."""
    lines = morning[0].read_text().splitlines(keepends=True)
    end = 1 + int(680 * 100)  # t = 680 s: 16 s after the cluster's last spasm, before it closes
    cut = "".join(lines[:end]) + lines[end][:12]  # "680.010000,-" and no line end
    path = tmp_path / "cut.csv"
    path.write_text(cut)
    res = cli("replay", str(path), "--jsonl")
    assert res.returncode == 0, res.stderr
    assert f"{path}:{end + 1}: the last line is cut short" in res.stderr
    (cluster,) = [r for r in map(json.loads, res.stdout.splitlines()) if r["type"] == "cluster"]
    assert cluster["end"] < 680 and cluster["count"] >= 3  # closed at the end of the recording
    # A bad line that ends as a line does is still an error: nothing says it was cut.
    path.write_text(cut + "\n")
    res = cli("replay", str(path), "--jsonl")
    assert res.returncode == 2 and f"{path}:{end + 1}:" in res.stderr
    assert not any(json.loads(x)["type"] == "cluster" for x in res.stdout.splitlines())


@pytest.mark.parametrize(
    "args",
    [
        ("replay", "{rec}", "--chunk-rows", "0"),  # was a ValueError traceback (exit 1)
        ("replay", "{rec}", "--chunk-rows", "-5"),
        ("evaluate", "--seeds", "0"),  # scored nothing, printed None everywhere, exit 0
        ("evaluate", "{rec}", "--jobs", "0"),  # "replaying 1 recordings on 0 workers...", exit 0
        ("evaluate", "{rec}", "--jobs", "-2"),
        ("evaluate", "{rec}", "--jobs", "two"),
        ("evaluate", "--seed-start", "-5"),  # 'scenario: seed must be >= 0', after the pool had started
        ("replay", "{rec}", "--chunk-rows", str(10**12)),  # numpy MemoryError traceback: 'Unable to allocate 7.28 TiB'
    ],
)
def test_a_count_below_one_is_refused_naming_the_option(morning: tuple[Path, dict[str, object]], args: tuple[str, ...]) -> None:
    res = cli(*(a.format(rec=morning[0]) for a in args))
    option, value = args[-2], args[-1]
    span = {"--seed-start": "0 or more", "--chunk-rows": f"1-{MAX_CHUNK_ROWS}"}.get(option, "1 or more")
    assert res.returncode == 2, res.stderr
    assert f"argument {option}: expected a whole number, {span}, got '{value}'" in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_evaluate_jobs_are_bounded_by_the_cpus_and_the_recordings(morning: tuple[Path, dict[str, object]]) -> None:
    """Found by the input audit: 'evaluate --jobs 1000' started 1000 processes. More than
    JOBS_PER_CPU (2) per CPU is refused before anything starts, naming --jobs; within it, no more
    workers start than there are recordings."""
    from spasmwatch.commands.evaluate import JOBS_PER_CPU, cpus

    most = JOBS_PER_CPU * cpus()
    res = cli("evaluate", str(morning[0]), "--jobs", str(most + 1))
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith(f"spasmwatch evaluate: error: --jobs {most + 1}: at most {most} ({JOBS_PER_CPU} per CPU; "), res.stderr
    assert res.stdout == "" and "replaying" not in res.stderr
    res = cli("evaluate", str(morning[0]), "--jobs", str(most))
    assert res.returncode == 0, res.stderr
    assert "replaying 1 recording on 1 worker..." in res.stderr, res.stderr


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (/proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def test_evaluate_stopped_by_sigterm_ends_with_its_workers(tmp_path: Path) -> None:
    """Found by the CLI input audit: 'kill PID', 'timeout', a service's stop (SIGTERM to the
    command alone, not its workers) ended the command and left its two worker processes running
    for good (their parent gone, they waited on it forever), each holding a recording. Now it
    stops as at ^C: the queued recordings are not started, the running ones are waited for, and
    it ends (exit 130) with its workers."""
    err = tmp_path / "stderr"
    with open(err, "w") as e:  # (a file: a worker left running would hold a pipe open)
        proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "evaluate", "--jobs", "2"], stdout=subprocess.DEVNULL, stderr=e, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # (a runner may ignore ^C)
    workers: list[int] = []
    try:
        for _ in range(600):  # the pool is up once its workers are (at most 60 s)
            workers = _children(proc.pid)
            if len(workers) == 2 and "simulating and replaying" in err.read_text():
                break
            time.sleep(0.1)
        assert len(workers) == 2, err.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=240) == 130, err.read_text()  # (the suite itself: many minutes)
        assert err.read_text().endswith("interrupted\n") and "Traceback" not in err.read_text(), err.read_text()
        for _ in range(100):
            if not any(Path(f"/proc/{w}").exists() for w in workers):
                break
            time.sleep(0.1)
        assert not [w for w in workers if Path(f"/proc/{w}").exists()], "its workers still run"
    finally:
        for pid in [proc.pid, *workers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("where", ["missing folder", "folder"])
def test_evaluate_refuses_a_json_it_cannot_write_before_the_run(morning: tuple[Path, dict[str, object]], tmp_path: Path, where: str) -> None:
    """Found by the input audit: '--json' in a missing folder or onto a folder ended, after the
    whole run had been scored and printed, in a FileNotFoundError / IsADirectoryError traceback."""
    out = tmp_path / "nowhere" / "scores.json" if where == "missing folder" else tmp_path / "scores.json"
    if where == "folder":
        out.mkdir()
    res = cli("evaluate", str(morning[0]), "--json", str(out))
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith(f"spasmwatch evaluate: error: --json: {out}: "), res.stderr
    assert res.stdout == ""  # refused before anything was replayed


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv: file modes do not stop root")
def test_evaluate_refuses_a_json_in_a_folder_it_may_not_write_before_the_run(morning: tuple[Path, dict[str, object]]) -> None:
    """Found by the CLI input audit: '--json' in a folder this user may not write (another
    account's, a disk mounted read-only) was refused only once the whole run had been scored
    ('cannot write the scores: Permission denied'): for the suite, many minutes later."""
    folder = Path(tempfile.mkdtemp(prefix="sw-ro-", dir="/tmp"))  # not under pytest's 0700 folder: nobody reaches it
    try:
        rec, shut = folder / "rec.csv", folder / "shut"
        rec.write_bytes(morning[0].read_bytes())
        (folder / "rec.truth.json").write_text(json.dumps(morning[1]))
        shut.mkdir(mode=0o555)
        for p in (folder, rec, folder / "rec.truth.json"):
            p.chmod(p.stat().st_mode | 0o444 | (0o111 if p.is_dir() else 0))
        out = shut / "scores.json"
        cmd = unprivileged([sys.executable, "-m", "spasmwatch", "evaluate", str(rec), "--json", str(out)])
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert res.returncode == 2, res.stderr
        assert res.stderr == f"spasmwatch evaluate: error: --json: {out}: this user may not write in the folder {shut}: choose another\n", res.stderr
        assert res.stdout == ""  # refused before anything was replayed
    finally:
        shutil.rmtree(folder)


def test_evaluate_json_is_written(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    res = cli("evaluate", str(morning[0]), "--json", str(out))
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text())["summary"]["clusters"] == "1/1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.json"]


def test_evaluate_json_says_what_its_scores_were_made_from(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by the researcher's hostile review of 2026-12-07: a --json file held the scores and
    nothing of the run that made them, not the suite's seeds, nor the truth they were scored
    against, nor the code (every spasmwatch is version 0.1.0), so numbers cited from it could not
    be traced or made again. Its "run" says each; the same run again says the same."""
    rec, truth = tmp_path / "rec.csv", tmp_path / "rec.truth.json"
    rec.write_bytes(morning[0].read_bytes())
    truth.write_text(json.dumps(morning[1]))
    runs = []
    for name in ("a.json", "b.json"):
        assert cli("evaluate", str(rec), "--json", str(tmp_path / name)).returncode == 0
        runs.append(json.loads((tmp_path / name).read_text())["run"])
    run = runs[0]
    assert runs[1] == run
    assert run["spasmwatch"] == __version__ and run["numpy"] == np.__version__ and run["why"] is False and "suite" not in run
    assert run["source_sha256"] == source_sha256() and re.fullmatch(r"[0-9a-f]{64}", run["source_sha256"])
    assert run["recordings"] == [{"recording": str(rec), "truth": str(truth), "truth_sha256": hashlib.sha256(truth.read_bytes()).hexdigest()}]
    truth.write_text(json.dumps({**morning[1], "note": "relabelled"}))  # another truth: another run
    assert cli("evaluate", str(rec), "--json", str(tmp_path / "a.json")).returncode == 0
    assert json.loads((tmp_path / "a.json").read_text())["run"]["recordings"][0]["truth_sha256"] != run["recordings"][0]["truth_sha256"]
    args = build_parser().parse_args(["evaluate", "--seed-start", "11", "--seeds", "3", "--quick", "--why"])
    suite_run = run_facts(args, [])
    assert suite_run["suite"] == {"seed_start": 11, "seeds": 3, "quick": True} and suite_run["why"] is True
    assert "recordings" not in suite_run


def test_the_source_digest_changes_with_any_source_file(tmp_path: Path) -> None:
    """A threshold changed in a constants module, or a file added, is another source_sha256."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "consts.py").write_text("ONSET = 3\n")
    (tmp_path / "pkg" / "data.txt").write_text("not source")
    before = source_sha256([tmp_path / "pkg"])
    (tmp_path / "pkg" / "data.txt").write_text("still not source")
    assert source_sha256([tmp_path / "pkg"]) == before
    (tmp_path / "pkg" / "consts.py").write_text("ONSET = 4\n")
    changed = source_sha256([tmp_path / "pkg"])
    (tmp_path / "pkg" / "consts.py").write_text("ONSET = 3\n")
    (tmp_path / "pkg" / "more.py").write_text("")
    assert len({before, changed, source_sha256([tmp_path / "pkg"])}) == 3


def test_evaluate_json_writes_over_an_earlier_json_only(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by the input audit: '--json rec.csv' replaced the recording with the scores, and
    '--json rec.truth.json' its truth; an earlier --json file is written over as before."""
    rec = tmp_path / "rec.csv"
    rec.write_bytes(morning[0].read_bytes())
    truth = tmp_path / "rec.truth.json"
    truth.write_text(json.dumps(morning[1]))
    before = rec.read_bytes(), truth.read_bytes()
    for kept in (rec, truth):
        res = cli("evaluate", str(rec), "--json", str(kept))
        assert res.returncode == 2 and res.stderr.startswith(f"spasmwatch evaluate: error: --json: {kept}: exists and is not an earlier"), res.stderr
    assert (rec.read_bytes(), truth.read_bytes()) == before
    scores = tmp_path / "scores.json"
    for _ in range(2):  # the same run again replaces its own file
        assert cli("evaluate", str(rec), "--json", str(scores)).returncode == 0
    assert json.loads(scores.read_text())["summary"]["clusters"] == "1/1"


def test_table_of_a_csv_timed_in_unix_seconds_reads_the_wall_clock(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Found by the researcher review: a CSV whose t is unix time (exported from a phone or a lab
    logger) gave a table of hours since 1970, '490256:05:40.0  spasm'. Its t >= UNIX_T_FROM_S reads as
    unix time: the table gives times of day in this computer's zone and says so, as a .swraw's
    does; --jsonl keeps t as it is."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from spasmwatch.io.limits import UNIX_T_FROM_S

    unix0 = 1764921600.0  # 2025-12-05T08:00:00Z
    assert unix0 >= UNIX_T_FROM_S
    dated = tmp_path / "logger.csv"
    lines = morning[0].read_text().splitlines()
    rows = (f"{float(t) + unix0:.3f},{rest}" for t, rest in (line.split(",", 1) for line in lines[1:]))
    dated.write_text("\n".join([lines[0], *rows]) + "\n")
    recs = [json.loads(line) for line in cli("replay", str(dated), "--jsonl").stdout.splitlines()]
    (cluster,) = [r for r in recs if r["type"] == "cluster"]
    assert cluster["start"] > unix0
    table = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(dated)], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "TZ": "Asia/Kolkata"})  # fmt: skip
    assert table.returncode == 0, table.stderr
    kolkata = ZoneInfo("Asia/Kolkata")
    first = datetime.fromtimestamp(float(lines[1].split(",", 1)[0]) + unix0, kolkata)
    out = table.stdout.splitlines()
    assert out[0] == (
        f"{dated}: t is unix time (s since 1970-01-01 UTC, as its first sample's t >= {UNIX_T_FROM_S:.0f} s says): "
        f"times of day in this computer's time zone (Asia/Kolkata); the first sample is at {first.isoformat(timespec='milliseconds')}"
    )
    tenths = round(cluster["start"] * 10)
    local = datetime.fromtimestamp(tenths // 10, kolkata).strftime("%H:%M:%S.") + str(tenths % 10)
    assert any(line.startswith(f"{local}  CLUSTER") for line in out), out


def test_table_times_in_the_hour_the_clocks_go_back_name_their_pass(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Researcher review (2026-12-06): a recording over the night the clocks go back (every .swraw
    part of that night: parts run noon to noon) gave bare times of day in the repeated hour, and its
    first line named the offset at the first sample as the file's zone: 'time zone (UTC+02:00)', then
    '02:55:40.0  wake' and, 5 min later, '02:00:34.5  CLUSTER ..., 5 min after waking'. The table now
    names the zone, and each time in the repeated hour its pass ('02:00:34.5 CET'), as the other
    listings do (clock.wall_text)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    change = datetime(2024, 10, 27, 1, tzinfo=ZoneInfo("UTC")).timestamp()  # Berlin: 03:00 CEST -> 02:00 CET
    recs = [json.loads(line) for line in cli("replay", str(morning[0]), "--jsonl").stdout.splitlines()]
    (wake,) = [r["t"] for r in recs if r["type"] == "wake"]
    (start,) = [r["start"] for r in recs if r["type"] == "cluster"]
    assert start - wake < 3000  # both within the repeated hour, one on each side of the change
    unix0 = change - round((wake + start) / 2)
    dated = tmp_path / "night.csv"
    lines = morning[0].read_text().splitlines()
    rows = (f"{float(t) + unix0:.3f},{rest}" for t, rest in (line.split(",", 1) for line in lines[1:]))
    dated.write_text("\n".join([lines[0], *rows]) + "\n")
    table = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(dated)], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "TZ": "Europe/Berlin"})  # fmt: skip
    assert table.returncode == 0, table.stderr
    out = table.stdout.splitlines()
    assert "times of day in this computer's time zone (Europe/Berlin)" in out[0], out[0]

    def said(t: float) -> str:
        tenths = round((t + unix0) * 10)
        local = datetime.fromtimestamp(tenths // 10, ZoneInfo("Europe/Berlin"))
        return f"{local:%H:%M:%S}.{tenths % 10} {local.tzname()}"

    assert said(wake).endswith("CEST") and said(start).endswith(" CET")
    assert f"{said(wake)}  wake" in out, out
    assert any(line.startswith(f"{said(start)}  CLUSTER") for line in out), out


def test_table_times_on_a_later_day_than_the_first_sample_carry_their_date(morning: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    """Researcher review (2026-12-06): a dated table (a .swraw, a unix-time CSV) gave times of day
    alone, so a boot's parts replayed as one (a week: docs/rawfile.md) read each day's 06:40 alike,
    and a cluster after midnight read as on the first line's date. A time on another day than the
    first sample's carries its date, as the report dates days ('Mon 2024-03-04')."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    recs = [json.loads(line) for line in cli("replay", str(morning[0]), "--jsonl").stdout.splitlines()]
    (wake,) = [r["t"] for r in recs if r["type"] == "wake"]
    (start,) = [r["start"] for r in recs if r["type"] == "cluster"]
    paris = ZoneInfo("Europe/Paris")
    unix0 = datetime(2026, 12, 7, tzinfo=paris).timestamp() - round((wake + start) / 2)  # midnight between them
    dated = tmp_path / "night.csv"
    lines = morning[0].read_text().splitlines()
    dated.write_text("\n".join([lines[0], *(f"{float(t) + unix0:.3f},{rest}" for t, rest in (x.split(",", 1) for x in lines[1:]))]) + "\n")
    table = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(dated)], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "TZ": "Europe/Paris"})  # fmt: skip
    assert table.returncode == 0, table.stderr
    out = table.stdout.splitlines()

    def said(t: float, fmt: str) -> str:
        tenths = round((t + unix0) * 10)
        return datetime.fromtimestamp(tenths // 10, paris).strftime(fmt) + f".{tenths % 10}"

    assert f"{said(wake, '%H:%M:%S')}  wake" in out, out  # the first sample's day: bare
    assert any(line.startswith(f"{said(start, '%a %Y-%m-%d %H:%M:%S')}  CLUSTER") for line in out), out
    assert said(start, "%a %Y-%m-%d").startswith("Mon 2026-12-07")


def test_a_recording_piped_in_is_refused_saying_to_save_it_first(morning: tuple[Path, dict[str, object]]) -> None:
    """Researcher review (2026-12-06): 'zcat day.csv.gz | spasmwatch replay /dev/stdin' (after replay's
    own 'decompress it first (gunzip)') was refused blaming the file's header, "field 't': missing
    from the header ',0.98669,-2.2430,...'": a recording is read more than once (its magic, its first
    rows for the rate, then all), and each read of a pipe goes on where the last stopped. A pipe is
    named as one, with what to do."""
    cat = subprocess.Popen(["cat", str(morning[0])], stdout=subprocess.PIPE)
    assert cat.stdout is not None
    try:
        res = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", "/dev/stdin", "--jsonl"], stdin=cat.stdout,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    finally:
        cat.stdout.close()
        cat.kill()
        cat.wait()
    assert (res.returncode, res.stdout) == (2, "")
    assert res.stderr == (
        "spasmwatch replay: error: /dev/stdin: is a pipe or a device, not a file: a recording is read more than once "
        "(its first rows for the sample rate, then all of it); save it to a file first (zcat rec.csv.gz > rec.csv)\n"
    )


def test_table_of_a_csv_whose_t_is_past_any_date_keeps_elapsed_times(tmp_path: Path) -> None:
    """Hostile review: a t at or past UNIX_T_FROM_S but no date Python can hold (1e12 s is the year
    33658: a logger's seconds on another epoch, or a scaled column) ended replay's table in a
    traceback ('year 33658 is out of range'). Only a t up to UNIX_T_UNTIL_S reads as unix time; past
    it the table keeps the elapsed clock, as for any other t."""
    from spasmwatch.io.limits import UNIX_T_UNTIL_S

    t0 = 1e12
    assert t0 > UNIX_T_UNTIL_S
    path = tmp_path / "far.csv"
    path.write_text("t,ax,ay,az\n" + "".join(f"{t0 + i * 0.02:.3f},0.0,0.0,1.0\n" for i in range(3000)))
    res = cli("replay", str(path))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert not res.stdout.startswith(f"{path}: t is unix time"), res.stdout
