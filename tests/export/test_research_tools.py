"""The EDF+ and BIDS exports opened with the tools docs/exports.md names: MNE, mne-bids and the
BIDS validator (npm bids-validator, put in the venv by tools/install-bids-validator). A missing
tool fails the test, naming how to install it: nothing here is skipped."""

from __future__ import annotations

import csv
import importlib
import json
import re
import shutil
import sqlite3
import subprocess
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyedflib
import pytest
from cli_runner import run_cli
from course import DAY0, DAY_S, DEVICE, TREATMENT_T, Expected

from spasmwatch.binaries import find_binary
from spasmwatch.store import Store



def _need(module: str) -> Any:
    """``module`` imported, or the test fails saying how to install it (never a skip)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.fail(f"{module} is not installed: it is in the dev extra (make install, or pip install -e '.[dev]')")

# Two days around the treatment start: clusters labelled and not, wakes and sleeps, notes, treatments.
SINCE = DAY0 + 6 * DAY_S
# The events of sub-01_task-sleep_eeg.edf, named after it (BIDS: sub-<label>_task-<label>_events.tsv).
EVENTS = "sub-01_task-sleep_events.tsv"
UNTIL = DAY0 + 8 * DAY_S
NOTES = ((SINCE + 6 * 3600 + 40 * 60, "note", "Zuckungen beim Aufwachen, Übelkeit danach"),  # cut at 40 bytes
         (SINCE + 7 * 3600, "video", "Säugling: 3 Anfälle — gefilmt"))  # fmt: skip


def _store(course_db: tuple[Path, Expected], tmp_path: Path) -> Path:
    """A copy of the two-week course, with caregiver notes in German (not ASCII)."""
    db = tmp_path / "spasmwatch.db"
    with sqlite3.connect(course_db[0]) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    with Store(db) as store:
        for t, kind, text in NOTES:
            store.add_note(t, kind, text, DEVICE, "parent")
    return db


def _export(db: Path, out: Path, fmt: str, since: float = SINCE, until: float = UNTIL) -> None:
    start, end = (datetime.fromtimestamp(t, timezone.utc).isoformat() for t in (since, until))
    # --tz UTC: the EDF+ start in UTC, as _eeg dates its EEG (test_edf_clock.py: a hospital's local clock)
    assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out), "--since", start, "--until", end, "--tz", "UTC") == 0


def _csv_rows(db: Path, tmp_path: Path, since: float = SINCE, until: float = UNTIL) -> list[dict[str, str]]:
    _export(db, tmp_path / "rows.csv", "csv", since, until)
    with open(tmp_path / "rows.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _text(r: dict[str, str], limit: int | None = 40) -> str:
    """The text docs/exports.md gives for a CSV row (EDF+ annotation, BIDS value), cut to ``limit``
    bytes of UTF-8 as edflib keeps it."""
    kind = r["kind"]
    if kind == "spasm":
        text = "spasm (matched)" if r["matched"] == "1" else "spasm"
    elif kind == "cluster":
        text = f"cluster of {r['count']} spasms" + (f" ({r['label']})" if r["label"] else "")
    elif kind == "note":
        text = f"note ({r['note_kind']}): {r['text']}"
    elif kind == "treatment":
        text = f"{r['drug']} {r['action']} {float(r['dose']):g} {r['unit']}"
    else:
        text = kind
    return text.encode()[:limit].decode(errors="ignore")


def _triples(onsets: Any, durations: Any, texts: Any) -> list[tuple[float, float, str]]:
    return sorted((round(float(o), 3), round(float(d), 3), str(t)) for o, d, t in zip(onsets, durations, texts, strict=True))


def test_mne_reads_the_edf_annotations_as_the_store_holds_them(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """mne.read_annotations and mne.io.read_raw_edf give every row of the CSV export: onset (s),
    duration and text; read_raw_edf dates them (meas_date = the recording start). Found by this
    test: read_raw_edf dropped every annotation ('Omitted 44 annotation(s) that were outside data
    range'): edflib's file ended after one 1 s record per annotation, long before most onsets."""
    mne = _need("mne")
    db = _store(course_db, tmp_path)
    table = _csv_rows(db, tmp_path)
    kinds = {r["kind"] for r in table}
    assert kinds == {"spasm", "cluster", "wake", "sleep", "note", "treatment"}, kinds
    assert {r["label"] for r in table if r["kind"] == "cluster"} == {"confirmed", ""}
    want = _triples([r["onset_s"] for r in table], [r["duration_s"] for r in table], [_text(r) for r in table])
    assert (round(NOTES[0][0] - SINCE, 3), 0.0, "note (note): Zuckungen beim Aufwachen, ") in want
    assert (round(TREATMENT_T - SINCE, 3), 0.0, "vigabatrin start 50 mg/kg/day") in want
    edf = tmp_path / "night.edf"
    _export(db, edf, "edf")

    annotations = mne.read_annotations(edf)
    assert _triples(annotations.onset, annotations.duration, annotations.description) == want

    raw = mne.io.read_raw_edf(edf, verbose="error")
    start = datetime.fromtimestamp(SINCE, timezone.utc)
    assert raw.info["meas_date"] == start and raw.annotations.orig_time == start
    assert _triples(raw.annotations.onset, raw.annotations.duration, raw.annotations.description) == want


def _eeg(path: Path, start: float, seconds: int, rate_hz: int) -> None:
    """A one-channel EEG of zeros (pyedflib), as an EEG of the same night would be."""
    w = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        w.setSignalHeaders([{"label": "Cz", "dimension": "uV", "sample_frequency": rate_hz, "physical_max": 500.0,
                             "physical_min": -500.0, "digital_max": 32767, "digital_min": -32768}])  # fmt: skip
        w.setStartdatetime(datetime.fromtimestamp(start, timezone.utc).replace(tzinfo=None))
        w.writeSamples([np.zeros(seconds * rate_hz)])
    finally:
        w.close()


def test_the_edf_annotations_line_up_with_an_eeg_by_wall_time(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """docs/exports.md: open it alongside an EEG of the same night in MNE and line up by time. An EEG
    from 06:00 to 08:00 of the first day, given read_raw_edf's annotations of the export, holds those
    of the rows in its two hours, at their wall time (onset_utc)."""
    mne = _need("mne")
    db = _store(course_db, tmp_path)
    table = _csv_rows(db, tmp_path)
    edf = tmp_path / "night.edf"
    _export(db, edf, "edf")
    eeg_start = SINCE + 6 * 3600
    _eeg(tmp_path / "eeg.edf", eeg_start, 2 * 3600, 10)
    eeg = mne.io.read_raw_edf(tmp_path / "eeg.edf", verbose="error")
    with warnings.catch_warnings():  # the rows outside the EEG's two hours are left out, with a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        eeg.set_annotations(mne.io.read_raw_edf(edf, verbose="error").annotations)
    inside = [r for r in table if 0 <= float(r["onset_s"]) - 6 * 3600 < 2 * 3600]
    assert {r["kind"] for r in inside} >= {"wake", "spasm", "cluster", "note"}
    got = [(eeg.annotations.orig_time.timestamp() + o, d) for o, d in zip(eeg.annotations.onset, eeg.annotations.description, strict=True)]
    want = [(datetime.fromisoformat(r["onset_utc"].replace("Z", "+00:00")).timestamp(), _text(r)) for r in inside]
    assert sorted((round(t, 3), d) for t, d in got) == sorted((round(t, 3), d) for t, d in want)
    assert eeg.annotations.orig_time == datetime.fromtimestamp(eeg_start, timezone.utc)


def _validator() -> str:
    validator = find_binary("bids-validator")
    if validator is None:
        pytest.fail("bids-validator is not installed: run make install (tools/install-bids-validator .venv; it needs node and npm)")
    if shutil.which("node") is None:
        pytest.fail("node is missing: bids-validator runs under it (tools/install-system-deps installs Debian's nodejs)")
    return validator


def _dataset(root: Path, db: Path, since: float, seconds: int) -> Path:
    """A minimal BIDS EEG dataset: one EEG recording from ``since`` with the export's events beside it."""
    eeg = root / "sub-01" / "eeg"
    eeg.mkdir(parents=True)
    (root / "dataset_description.json").write_text(json.dumps(
        {"Name": "spasmwatch events beside an EEG", "BIDSVersion": "1.9.0", "DatasetType": "raw", "Authors": ["spasmwatch tests", "spasmwatch developers"]}))  # fmt: skip
    (root / "README").write_text("A BIDS dataset made by spasmwatch's tests: one tiny EEG recording of zeros (one channel, Cz), "
                                 "with the events a spasmwatch export wrote for the same time range beside it, to check that "
                                 "the BIDS validator and mne-bids accept the export's events files.\n")  # fmt: skip
    (root / "participants.tsv").write_text("participant_id\nsub-01\n")
    _eeg(eeg / "sub-01_task-sleep_eeg.edf", since, seconds, 10)
    (eeg / "sub-01_task-sleep_eeg.json").write_text(json.dumps(
        {"TaskName": "sleep", "EEGReference": "Cz", "SamplingFrequency": 10, "PowerLineFrequency": 50, "SoftwareFilters": "n/a"}))  # fmt: skip
    (eeg / "sub-01_task-sleep_channels.tsv").write_text("name\ttype\tunits\nCz\tEEG\tuV\n")
    _export(db, eeg / EVENTS, "bids", since, since + seconds)
    return eeg / EVENTS


def _validate(validator: str, root: Path) -> tuple[list[str], list[str]]:
    """The validator's errors and warnings, each as 'KEY: file: evidence'."""
    done = subprocess.run([validator, str(root), "--json"], capture_output=True, text=True, timeout=120)
    try:
        issues = json.loads(done.stdout)["issues"]
    except (ValueError, KeyError) as exc:
        raise AssertionError(f"bids-validator gave no JSON report (exit {done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}") from exc

    def lines(kind: str) -> list[str]:
        return [f"{i['key']}: {(f.get('file') or {}).get('relativePath')}: {f.get('evidence') or i['reason']}"
                for i in issues[kind] for f in i["files"] or [{}]]  # fmt: skip

    return lines("errors"), lines("warnings")


def test_the_bids_validator_accepts_the_events_files(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by this test: the events.json carried the export's facts (GeneratedBy, Format, Device,
    RangeStartUTC, RangeEndUTC, RecordingStartUTC, Description) beside the column descriptions, and
    the validator refused it: JSON_SCHEMA_VALIDATION_ERROR "['GeneratedBy'] should be object"."""
    validator = _validator()
    db = _store(course_db, tmp_path)
    events = _dataset(tmp_path / "bids", db, SINCE + 6 * 3600, 2 * 3600)
    errors, warnings_ = _validate(validator, tmp_path / "bids")
    assert errors == [], "\n".join(errors + ["warnings:"] + warnings_)
    assert not [w for w in warnings_ if "_events." in w], "\n".join(warnings_)
    side = json.loads(events.with_suffix(".json").read_text())
    assert "2024-03-10T06:00:00.000Z" in side["onset"]["Description"]  # the recording start, now told there

    # Without its required 'duration' column the file is refused: the validator does look at it.
    rows = [line.split("\t") for line in events.read_text(encoding="utf-8").splitlines()]
    events.write_text("".join("\t".join(r[:1] + r[2:]) + "\n" for r in rows), encoding="utf-8")
    errors, _ = _validate(validator, tmp_path / "bids")
    assert any(e.startswith("EVENTS_COLUMN_DURATION: /sub-01/eeg/sub-01_task-sleep_events.tsv") for e in errors), errors


def test_the_readme_s_bids_example_is_the_name_these_tools_are_checked_with() -> None:
    """Researcher review: README's example wrote '--out sub-01_events.tsv', no task entity, while
    docs/exports.md and the dataset the validator and mne-bids are run on here name the EEG's
    events after it, task included. (bids-validator 1.15 and mne-bids also take the task-less
    name, by the inheritance principle, for every task of sub-01; the spec's name for one
    recording's events carries its task.) Old README: sub-01_events.tsv."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    outs = re.findall(r"export --format bids\b[^\n]*?--out (\S+)", readme)
    assert outs and set(outs) == {EVENTS}, outs


def test_mne_bids_reads_the_events_as_annotations(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """read_raw_bids gives the EEG the export's rows as annotations at their onsets from the EEG's
    start (--since was the EEG's start, as docs/exports.md says), described by trial_type, or
    'trial_type/value' for a kind whose rows have several values ('spasm/spasm (matched)',
    'note/note (video): ...': mne-bids' hierarchical names)."""
    mne_bids = _need("mne_bids")
    db = _store(course_db, tmp_path)
    since = SINCE + 6 * 3600
    _dataset(tmp_path / "bids", db, since, 2 * 3600)
    table = _csv_rows(db, tmp_path, since, since + 2 * 3600)
    path = mne_bids.BIDSPath(subject="01", task="sleep", datatype="eeg", root=tmp_path / "bids")
    raw = mne_bids.read_raw_bids(path, verbose="error")
    got = sorted((round(float(o), 3), round(float(d), 3), str(t)) for o, d, t in
                 zip(raw.annotations.onset, raw.annotations.duration, raw.annotations.description, strict=True))  # fmt: skip
    values = {k: {_text(r, None) for r in table if r["kind"] == k} for k in {r["kind"] for r in table}}

    def name(r: dict[str, str]) -> str:
        return f"{r['kind']}/{_text(r, None)}" if len(values[r["kind"]]) > 1 else r["kind"]

    want = sorted((round(float(r["onset_s"]), 3), round(float(r["duration_s"]), 3), name(r)) for r in table)
    assert len(values["spasm"]) > 1 and len(values["wake"]) == 1
    assert {r["kind"] for r in table} >= {"wake", "spasm", "cluster", "note"} and got == want
    assert raw.info["meas_date"] == datetime.fromtimestamp(since, timezone.utc)


def test_the_tools_take_the_not_worn_disconnected_and_lost_rows(tmp_path: Path) -> None:
    """The rows that say when the band was not monitoring (a half hour off the baby, 45 min not heard,
    5 events lost) keep the BIDS validator content (no error, no warning about the events files) and
    reach MNE from the EDF+ file with their durations."""
    import gaps

    mne = _need("mne")
    validator = _validator()
    db = tmp_path / "gaps.db"
    gaps.build(db, DAY0, 6 * 3600, ((3600.0, 5400.0),), ((10800.0, 13500.0),), (1800.0, 7200.0, 14400.0), (3, 7, 4 * 3600.0))
    events = _dataset(tmp_path / "bids", db, DAY0, 6 * 3600)
    errors, warnings_ = _validate(validator, tmp_path / "bids")
    assert errors == [], "\n".join(errors + ["warnings:"] + warnings_)
    assert not [w for w in warnings_ if "_events." in w], "\n".join(warnings_)
    with open(events, newline="", encoding="utf-8") as f:
        kinds = [r["trial_type"] for r in csv.DictReader(f, delimiter="\t")]
    assert {"not_worn", "disconnected", "lost"} <= set(kinds)

    edf = tmp_path / "gaps.edf"
    _export(db, edf, "edf", DAY0, DAY0 + 6 * 3600)
    raw = mne.io.read_raw_edf(edf, verbose="error")
    got = _triples(raw.annotations.onset, raw.annotations.duration, raw.annotations.description)
    assert [g for g in got if g[2] != "spasm"] == [
        (3600.0, 1800.0, "band not worn"), (7200.0, 7200.0, "5 events lost (seq 3-7)"), (10800.0, 2700.0, "band not heard (disconnected)")]  # fmt: skip


def test_a_bids_export_names_its_participant_when_given_and_the_validator_accepts_it(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Audit of the exports: the BIDS export had no participant field; 'report --patient' names the
    child, 'export' had nothing. Now 'export --format bids --patient 01' checks that the events file
    is named sub-01_..., adds sub-01 to the dataset's participants.tsv (made when there is none, a row
    added with n/a when it lists others, left as it is when it lists sub-01), and says the participant
    in trial_type's description; the validator accepts the dataset (here with no participants.tsv of
    its own). A label that is not letters and digits (a name), a file named for another participant,
    or --patient with another format is refused naming the option, nothing written; without --patient
    no participants.tsv is written, as before. Old code: argparse refused --patient (exit 2)."""
    from spasmwatch.errors import SpasmwatchError

    validator = _validator()
    db = _store(course_db, tmp_path)
    since = SINCE + 6 * 3600
    root = tmp_path / "bids"
    events = _dataset(root, db, since, 2 * 3600)
    (root / "participants.tsv").unlink()
    events.unlink()
    events.with_suffix(".json").unlink()
    rng = [datetime.fromtimestamp(t, timezone.utc).isoformat() for t in (since, since + 2 * 3600)]
    args = ("export", "--db", str(db), "--format", "bids", "--since", rng[0], "--until", rng[1])
    for patient, out, said in (("Mia, born 2026-05-02", events, "--patient 'Mia, born 2026-05-02': a BIDS participant label is letters and digits only"),
                               ("sub-0 1", events, "--patient 'sub-0 1': a BIDS participant label"),
                               ("02", events, "--out sub-01_task-sleep_events.tsv: the events of participant sub-02 (--patient) are named 'sub-02_")):  # fmt: skip
        with pytest.raises(SpasmwatchError) as e:
            run_cli(*args, "--out", str(out), "--patient", patient)
        assert str(e.value).startswith(said), str(e.value)
    with pytest.raises(SpasmwatchError, match="--patient: only the BIDS export has a participant"):
        run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.csv"), "--patient", "01")
    assert not events.exists() and not (root / "participants.tsv").exists() and not (tmp_path / "x.csv").exists()
    assert run_cli(*args, "--out", str(events), "--patient", "01") == 0
    assert (root / "participants.tsv").read_text() == "participant_id\nsub-01\n"
    assert "participant sub-01, all bands" in json.loads(events.with_suffix(".json").read_text())["trial_type"]["Description"]
    errors, warnings_ = _validate(validator, root)
    assert errors == [], "\n".join(errors + ["warnings:"] + warnings_)
    assert not [w for w in warnings_ if "_events." in w or "participants" in w], "\n".join(warnings_)
    # Another participant in a dataset whose participants.tsv has more columns: a row added, once.
    (root / "participants.tsv").write_text("participant_id\tage\nsub-01\t5\n")
    other = root / "sub-02" / "eeg" / "sub-02_task-sleep_events.tsv"
    for _ in range(2):
        assert run_cli(*args, "--out", str(other), "--patient", "sub-02") == 0
    assert (root / "participants.tsv").read_text() == "participant_id\tage\nsub-01\t5\nsub-02\tn/a\n"
    plain = tmp_path / "plain" / "sub-03_task-sleep_events.tsv"
    assert run_cli(*args, "--out", str(plain)) == 0
    assert not (plain.parent / "participants.tsv").exists()  # no --patient: no participant, as before


def test_a_note_with_line_breaks_or_control_bytes_reaches_both_edf_readers_on_one_line(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by the researcher review: a caregiver note is free text, and a note of two lines (the
    web page's text box) was an annotation MNE's read_raw_edf dropped without a word; a byte 0x15 in
    it (EDF+'s own TAL delimiter) made the whole file one pyedflib (EDFlib, EDFbrowser's library)
    refused to open ('not EDF(+) or BDF(+) compliant'), 0x14 split it in two, 0 cut it short. The
    annotation is the note on one line, as the BIDS value gives it: every byte below 0x20 a space."""
    mne = _need("mne")
    db = _store(course_db, tmp_path)
    texts = ("Zwei Zeilen\r\nzweite", "a\x15b", "c\x14d", "e\x00f\tg")
    with Store(db) as store:
        for k, text in enumerate(texts):
            store.add_note(SINCE + 9 * 3600 + k * 60, "medication", text, DEVICE)
    table = _csv_rows(db, tmp_path)
    edf = tmp_path / "notes.edf"
    _export(db, edf, "edf")
    want = [f"note (medication): {t}" for t in ("Zwei Zeilen zweite", "a b", "c d", "e f g")]

    reader = pyedflib.EdfReader(str(edf))
    try:
        onsets, _, got = reader.readAnnotations()
    finally:
        reader.close()
    assert len(onsets) == len(table)
    assert [str(t) for t in got if str(t) in want] == want
    raw = mne.io.read_raw_edf(edf, verbose="error")
    assert len(raw.annotations) == len(table)
    assert [d for d in raw.annotations.description if d in want] == want


def test_a_participants_table_saved_with_a_byte_order_mark_gets_its_row(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Found by the researcher review: a dataset's participants.tsv saved by a spreadsheet as 'UTF-8'
    (a byte-order mark first, CRLF line ends) was refused as 'not a BIDS participants table (its
    first column is not participant_id)': it is, behind the mark. Its row is added; the table is
    written back as UTF-8 without the mark, one line end, as the export writes it."""
    db = _store(course_db, tmp_path)
    root = tmp_path / "bids"
    table = root / "participants.tsv"
    root.mkdir()
    table.write_bytes(b"\xef\xbb\xbfparticipant_id\tage\r\nsub-01\t5\r\n")
    out = root / "sub-02" / "eeg" / "sub-02_task-sleep_events.tsv"
    rng = [datetime.fromtimestamp(t, timezone.utc).isoformat() for t in (SINCE, SINCE + 2 * 3600)]
    assert run_cli("export", "--db", str(db), "--format", "bids", "--since", rng[0], "--until", rng[1], "--out", str(out), "--patient", "02") == 0
    assert table.read_bytes() == b"participant_id\tage\nsub-01\t5\nsub-02\tn/a\n"


def test_a_bids_cell_of_control_characters_only_is_na_not_empty(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """A note kept as typed (the store takes off surrounding white space only) may hold nothing but
    control characters; on one line (formats.one_line) its BIDS text is empty, and an empty TSV cell
    is no BIDS value: it is n/a, as every missing value. Old code (since one_line): an empty cell."""
    db = _store(course_db, tmp_path)
    with Store(db) as store:
        store.add_note(SINCE + 9 * 3600, "note", "\x01\x02", DEVICE)
    out = tmp_path / "sub-01_task-sleep_events.tsv"
    _export(db, out, "bids")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert all(all(cell != "" for cell in row) for row in rows), [row for row in rows if "" in row]
    (note,) = [row for row in rows if row[3] == "note (note):"]
    assert note[rows[0].index("text")] == "n/a"
