"""``spasmwatch truth``: a video-labelled events table -> the truth file ``evaluate`` scores against."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.analysis.labels import Label, build_truth, parse_time, read_labels
from spasmwatch.errors import InputError
from spasmwatch.store import Store

CLUSTER_KEYS = ("start", "end", "count", "subtle", "third_end", "post_wake_s")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=300)


def clock(t: float) -> str:
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h)}:{int(m):02d}:{s:06.3f}"


def labels_of(truth: dict[str, Any]) -> str:
    """The simulator's truth written as a labeller would: BIDS events.tsv, wakes in hh:mm:ss."""
    rows: list[tuple[float, str, str]] = []
    for s in truth["spasms"]:
        rows.append((s["t"], f"{s['end'] - s['t']:.3f}", "subtle_spasm" if s["kind"] == "subtle" else "spasm"))
    rows += [(w, "n/a", "wake") for w in truth["wake_onsets"]]
    rows += [(n["start"], f"{n['end'] - n['start']:.3f}", "not_worn") for n in truth["not_worn"]]
    rows += [(c["start"], f"{c['end'] - c['start']:.3f}", c["kind"]) for c in truth["confounders"]]
    lines = [f"{clock(t) if kind == 'wake' else t}\t{d}\t{kind}" for t, d, kind in sorted(rows)]
    return "onset\tduration\ttrial_type\n" + "\n".join(lines) + "\n"


def test_labels_of_a_simulated_morning_give_back_its_truth_and_score(morning: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, truth = morning
    csv = tmp_path / "m.csv"
    csv.write_bytes(src.read_bytes())
    events = tmp_path / "m_events.tsv"
    events.write_text(labels_of(truth))
    res = cli("truth", str(csv), str(events))
    assert res.returncode == 0, res.stderr
    assert "1 clusters" in res.stdout and str(tmp_path / "m.truth.json") in res.stdout
    got = json.loads((tmp_path / "m.truth.json").read_text())
    assert len(got["clusters"]) == len(truth["clusters"]) == 1
    for key in CLUSTER_KEYS:
        assert got["clusters"][0][key] == pytest.approx(truth["clusters"][0][key], abs=0.002), key
    assert [s["t"] for s in got["spasms"]] == pytest.approx([s["t"] for s in truth["spasms"]], abs=0.001)
    assert got["wake_onsets"] == pytest.approx(truth["wake_onsets"], abs=0.001)
    assert got["duration_s"] == truth["duration_s"]
    assert [c["kind"] for c in got["confounders"]] == [c["kind"] for c in sorted(truth["confounders"], key=lambda c: c["start"])]
    # evaluate scores the copy with the derived truth exactly as the original with the simulator's.
    scores = []
    for rec in (src, csv):
        out = tmp_path / f"{rec.parent.name}.json"
        res = cli("evaluate", str(rec), "--json", str(out))
        assert res.returncode == 0, res.stderr
        scores.append(json.loads(out.read_text())["summary"])
    assert scores[0] == scores[1] and scores[1]["clusters"] == "1/1"
    # Never overwritten by accident: the file stays as it was.
    before = (tmp_path / "m.truth.json").read_bytes()
    res = cli("truth", str(csv), str(events))
    assert res.returncode == 2 and "exists; --force replaces it" in res.stderr
    assert (tmp_path / "m.truth.json").read_bytes() == before


def _labels(*rows: tuple[float, float | None, str]) -> list[Label]:
    return [Label(i + 2, t, d, kind) for i, (t, d, kind) in enumerate(rows)]


def test_clusters_are_runs_of_three_within_the_gap() -> None:
    labels = _labels(
        (50.0, None, "wake"),
        (100.0, 1.5, "spasm"), (106.0, None, "spasm"), (112.0, 2.0, "spasm"), (142.0, 1.0, "spasm"),  # 30 s: still one
        (172.5, 1.0, "spasm"),  # 30.5 s after: a new run
        (300.0, 1.0, "subtle_spasm"), (308.0, 1.0, "subtle_spasm"), (316.0, 1.0, "subtle_spasm"),
        (600.0, 1.0, "spasm"), (610.0, 1.0, "spasm"),  # two: no cluster
        (700.0, 60.0, "place:car"), (900.0, 10.0, "crying"), (1000.0, 120.0, "not_worn"),
    )
    truth = build_truth("e.tsv", labels, 0.0, 3600.0)
    got = [tuple(c[k] for k in CLUSTER_KEYS) for c in truth["clusters"]]
    assert got == [(100.0, 143.0, 4, False, 114.0, 50.0), (300.0, 317.0, 3, True, 317.0, 250.0)]
    assert truth["spasms"][1] == {"t": 106.0, "end": 107.0, "subtle": False}  # no duration: 1 s
    assert truth["places"] == [{"start": 700.0, "end": 760.0, "context": "car"}]
    assert truth["confounders"] == [{"start": 900.0, "end": 910.0, "kind": "crying"}]
    assert truth["not_worn"] == [{"start": 1000.0, "end": 1120.0}] and truth["wake_onsets"] == [50.0]
    longer = build_truth("e.tsv", labels, 0.0, 3600.0, max_gap_s=31.0)
    assert [c["count"] for c in longer["clusters"]] == [5, 3]
    no_wake = build_truth("e.tsv", [x for x in labels if x.kind != "wake"], 0.0, 3600.0)
    assert no_wake["clusters"][0]["post_wake_s"] is None


@pytest.mark.parametrize(
    "text, seconds",
    [("12.5", 12.5), ("02:03.5", 123.5), ("75:00", 4500.0), ("1:02:03.25", 3723.25), ("0:00:00", 0.0)],
)
def test_times_in_seconds_or_on_a_clock(text: str, seconds: float) -> None:
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "1:61:00", "1:00:60", "", "1::2"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize(
    "table, words",
    [
        ("time\tduration\ttrial_type\n1\t1\tspasm\n", ":1: no column onset or start or begin in the header"),
        ("onset,duration,trial_type\n1,1,spasm\n2,x,spasm\n", ":3: field 'duration': not a time"),
        ("onset,duration,trial_type\n1:75:00,1,spasm\n", ":2: field 'onset': not a time"),
        ("onset\tduration\ttrial_type\n5\tn/a\tnot_worn\n", ":2: field 'duration': not_worn is a span: it needs a duration"),
        ("onset\tduration\ttrial_type\n5\t2\t \n", ":2: field 'trial_type': empty label"),
        ("onset\tduration\ttrial_type\n5\t-2\tspasm\n", ":2: field 'duration': negative duration"),
        ("onset\tduration\ttrial_type\n5\t2\n", ":2: 2 fields, the header has 3"),
        ("onset\tduration\ttrial_type\n9999\t1\tspasm\n", ":2: field 'onset': spasm at 9999.000 s (to 10000.000 s) lies outside the recording"),
        # Found by the researcher audit: the field was not named, and a negative span read '-41716.580--41715.580 s'.
        ("onset\tduration\ttrial_type\n-5\t1\tspasm\n", ":2: field 'onset': spasm at -5.000 s (to -4.000 s) lies outside the recording"),
        ("onset\tduration\ttrial_type\n10\t99999\tcrying\n", ":2: field 'duration': crying at 10.000 s (to 100009.000 s) lies outside the recording"),
        ("onset\tduration\ttrial_type\n-5\tn/a\twake\n", ":2: field 'onset': wake at -5.000 s lies outside the recording"),
        ("onset\tduration\ttrial_type\n5\t1\tspasm\n8\t1\tspasm\n5.2\t1\tspasm\n", ":4: spasm 0.200 s after the one on line 2"),
        ("", ": empty: expected a header"),
        # Researcher review (2026-12-06): a spreadsheet's CSV in many languages (Excel in German,
        # French) is ';'-separated, and read as one column its header was only 'no column onset'.
        ("onset;duration;trial_type\n5:22:01;1,4;spasm\n", ":1: no column onset or start or begin in the header 'onset;duration;trial_type': "
         "the table looks ';'-separated (a spreadsheet's CSV in some languages): save it tab-separated (Unicode Text) or comma-separated"),
        # Hostile-input review: a quote left open read the rows after it into its cell (the spasm
        # on line 3 was lost without a word), and a cell past csv's limit was a csv.Error traceback.
        ('onset\tduration\ttrial_type\n5\t2\t"crying\n30\t1\tspasm\n', ':2: a quote (") opens a cell that runs on to line 3'),
        ('onset,duration,trial_type\n5,2,"crying, loud"\n30,1,spasm\n40,1,"sp\nasm"\n', ':4: a quote (") opens a cell that runs on to line 5'),
        ("onset\tduration\ttrial_type\n5\t2\t" + "x" * 200_000 + "\n", ":2: unreadable line: field larger than field limit"),
    ],
)
def test_bad_tables_name_file_line_and_field(tmp_path: Path, table: str, words: str) -> None:
    events = tmp_path / "events.tsv"
    events.write_text(table)
    with pytest.raises(InputError) as err:
        build_truth(str(events), read_labels(str(events)), 0.0, 600.0)
    assert str(err.value).startswith(str(events)) and words in str(err.value), str(err.value)


def test_offset_moves_video_time_to_the_recording(morning: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, truth = morning
    events = tmp_path / "video.csv"  # comma-separated, times on the video's clock, 12.5 s behind
    spasms = [s["t"] - 12.5 for s in truth["spasms"]]
    events.write_text("start,duration,label\n" + "".join(f"{t:.3f},,Spasm\n" for t in spasms))
    out = tmp_path / "labels.truth.json"
    res = cli("truth", str(src), str(events), "--offset-s", "12.5", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert f"note: {len(spasms)} spasms have no duration" in res.stderr
    got = json.loads(out.read_text())
    assert [s["t"] for s in got["spasms"]] == pytest.approx([s["t"] for s in truth["spasms"]], abs=0.001)
    assert got["clusters"][0]["start"] == pytest.approx(truth["clusters"][0]["start"], abs=0.001)
    before = out.read_bytes()
    res = cli("truth", str(src), str(events), "-o", str(out), "--force", "--offset-s", "-100000")
    assert res.returncode == 2 and "outside the recording" in res.stderr and "offset" in res.stderr
    assert out.read_bytes() == before  # a failed run leaves the old file


def test_a_table_saved_by_a_spreadsheet_as_unicode_text_is_read(tmp_path: Path) -> None:
    """Excel's 'Unicode Text' (the way it writes a tab-separated table with accented labels) is
    UTF-16 with a byte-order mark: read like the UTF-8 table (it raised UnicodeDecodeError)."""
    table = "onset\tduration\ttrial_type\n5\t1\tspasm\n100\t30\tcrying_fièvre\n"
    events = tmp_path / "events.txt"
    events.write_bytes(table.encode("utf-16"))  # with its BOM, as Excel writes it
    labels = read_labels(str(events))
    assert [(x.line, x.onset, x.kind) for x in labels] == [(2, 5.0, "spasm"), (3, 100.0, "crying_fièvre")]


def test_a_table_not_in_utf8_names_file_and_line(tmp_path: Path) -> None:
    """A table saved in a legacy code page (cp1252 'é') is an InputError naming the file and the
    line of the first byte that is not UTF-8 (it was a UnicodeDecodeError traceback)."""
    events = tmp_path / "events.tsv"
    events.write_bytes("onset\tduration\ttrial_type\n5\t1\tspasm\n100\t30\tpleurs_bébé\n".encode("cp1252"))
    with pytest.raises(InputError) as err:
        read_labels(str(events))
    assert str(err.value).startswith(f"{events}:3: ") and "UTF-8" in str(err.value), str(err.value)
    res = cli("truth", str(events), str(events))
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.parametrize("where", ["missing folder", "folder", "link", "part is a folder"])
def test_an_output_that_cannot_be_written_is_named_and_nothing_is_left(morning: tuple[Path, dict[str, Any]], tmp_path: Path, where: str) -> None:
    """Found by the input audit: '-o' in a missing folder, or onto a folder with --force, ended in a
    FileNotFoundError / IsADirectoryError traceback (the latter leaving 'X.part' behind), and a
    link (/dev/stdout) was replaced by a regular file."""
    src, truth = morning
    events = tmp_path / "events.tsv"
    events.write_text(labels_of(truth))
    out = tmp_path / "out.truth.json"
    if where == "missing folder":
        out = tmp_path / "nowhere" / "out.truth.json"
    elif where == "folder":
        out.mkdir()
    elif where == "link":
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        out.symlink_to(kept)
    else:
        (tmp_path / "out.truth.json.part").mkdir()
    res = cli("truth", str(src), str(events), "-o", str(out), "--force")
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "spasmwatch truth: error: " in res.stderr and str(out) in res.stderr, res.stderr
    assert not (tmp_path / "nowhere").exists() and not any(p.is_file() and p.name.endswith(".part") for p in tmp_path.iterdir())
    if where == "link":
        assert out.is_symlink() and kept.read_text() == "{}"


NUMBER, POSITIVE = "a number of seconds", "a positive number of seconds"


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [("--offset-s", "nan", NUMBER), ("--offset-s", "inf", NUMBER), ("--offset-s", "-inf", NUMBER),
     ("--max-gap-s", "-1", POSITIVE), ("--spasm-s", "0", POSITIVE), ("--max-gap-s", "nan", POSITIVE), ("--spasm-s", "inf", POSITIVE)],
)  # fmt: skip
def test_an_option_that_is_no_number_it_takes_is_named(
    morning: tuple[Path, dict[str, Any]], tmp_path: Path, option: str, value: str, expected: str
) -> None:
    """Found by the input audits: '--offset-s nan' was blamed on the output, "field 'spasms[0].t':
    must be a number of seconds, not nan"; inf on the labels ('lies outside the recording').
    '--max-gap-s -1' was blamed on the labels table ('events.tsv: --max-gap-s and --spasm-s must be
    positive'), naming both options for one; inf was taken."""
    src, truth = morning
    events = tmp_path / "events.tsv"
    events.write_text(labels_of(truth))
    res = cli("truth", str(src), str(events), "-o", str(tmp_path / "t.json"), f"{option}={value}")
    assert res.returncode == 2 and res.stderr == f"spasmwatch truth: error: {option}: expected {expected}, got {value}\n", res.stderr
    assert not (tmp_path / "t.json").exists()


def test_a_label_one_letter_off_a_spasm_is_warned_of(morning: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """Found by the input audit: 'spazm' (and 'spasms') became context labels without a word, so
    those spasms were missing from the truth and 'evaluate' counted their detections as false."""
    src, _ = morning
    events = tmp_path / "events.tsv"
    events.write_text("onset\tduration\ttrial_type\n494.1\t1\tspazm\n500\t1\tspazm\n507\t1\tspasms\n510\t1\tspasm\n520\t30\tcrying\n")
    res = cli("truth", str(src), str(events), "-o", str(tmp_path / "t.json"))
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines() == [
        f"spasmwatch truth: warning: {events}:2: label 'spazm' is read as what the baby was doing, not as 'spasm': a typo?",
        f"spasmwatch truth: warning: {events}:4: label 'spasms' is read as what the baby was doing, not as 'spasm': a typo?",
    ]  # once per label; 'crying' is no near miss
    assert "1 spasms" in res.stdout


@pytest.mark.parametrize("which", ["recording", "events"])
def test_force_never_writes_over_the_recording_or_the_labels(morning: tuple[Path, dict[str, Any]], tmp_path: Path, which: str) -> None:
    """Found by the input audit: 'truth rec.csv events.tsv -o rec.csv --force' replaced the
    recording with the truth's JSON (and '-o events.tsv --force' the labels)."""
    src, truth = morning
    rec = tmp_path / "rec.csv"
    rec.write_bytes(src.read_bytes())
    events = tmp_path / "events.tsv"
    events.write_text(labels_of(truth))
    before = rec.read_bytes(), events.read_bytes()
    out = rec if which == "recording" else events
    res = cli("truth", str(rec), str(events), "-o", str(out), "--force")
    assert res.returncode == 2, res.stderr
    what = "the recording" if which == "recording" else "the labels table"
    assert res.stderr == f"spasmwatch truth: error: {out}: is {what}: choose another --out\n", res.stderr
    assert (rec.read_bytes(), events.read_bytes()) == before


def test_force_never_writes_over_a_store(morning: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """Found by the hostile-input review: 'truth rec.csv events.tsv -o spasmwatch.db --force' (a slip
    of the path) replaced the family's store with the truth's JSON."""
    src, truth = morning
    events = tmp_path / "events.tsv"
    events.write_text(labels_of(truth))
    store = tmp_path / "spasmwatch.db"
    Store(store).close()
    before = store.read_bytes()
    res = cli("truth", str(src), str(events), "-o", str(store), "--force")
    assert res.returncode == 2, res.stderr
    assert res.stderr == (f"spasmwatch truth: error: {store}: is an SQLite database (a spasmwatch store?): never written over, "
                          "--force neither; choose another --out\n"), res.stderr
    assert store.read_bytes() == before


@pytest.mark.parametrize("why", [False, True])
def test_a_truth_not_of_the_csv_is_refused_not_scored(morning: tuple[Path, dict[str, Any]], tmp_path: Path, why: bool) -> None:
    """Found by the researcher audit: evaluate took a CSV's hours from its truth's duration_s, and
    its times as they were: a truth of 2 h beside a morning of 30 min was scored 'evaluated 2.0 h'
    (false clusters per 24 h 4 times too few), and a spasm at 99999 s counted as missed, without a
    word. Refused now, as for a band's parts, naming the truth file and field."""
    src, truth = morning
    csv = tmp_path / "m.csv"
    csv.write_bytes(src.read_bytes())
    side = tmp_path / "m.truth.json"
    extra = ("--why",) if why else ()
    side.write_text(json.dumps({**truth, "duration_s": 4 * truth["duration_s"]}))
    res = cli("evaluate", str(csv), *extra)
    assert res.returncode == 2 and (
        f"{side}: field 'duration_s': 7200.000 s here, m.csv holds 1800.000 s: a truth written for another recording"
    ) in res.stderr, res.stderr
    late = [{**truth["spasms"][0], "t": 99999.0}] + truth["spasms"][1:]
    side.write_text(json.dumps({**truth, "spasms": late}))
    res = cli("evaluate", str(csv), *extra)
    assert res.returncode == 2 and (
        f"{side}: field 'spasms[0].t': 99999.000 s lies outside m.csv's 0.000-1800.000 s: a truth of another recording"
    ) in res.stderr, res.stderr
    side.write_text(json.dumps(truth))  # its own: scored
    assert cli("evaluate", str(csv), *extra).returncode == 0
