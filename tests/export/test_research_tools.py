"""The EDF+ export opened with the tool docs/exports.md names: MNE. A missing tool fails the
test, naming how to install it: nothing here is skipped."""

from __future__ import annotations

import csv
import importlib
import json
import sqlite3
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyedflib
import pytest
from cli_runner import run_cli
from course import DAY0, DAY_S, DEVICE, TREATMENT_T, Expected

from spasmwatch.store import Store



def _need(module: str) -> Any:
    """``module`` imported, or the test fails saying how to install it (never a skip)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.fail(f"{module} is not installed: it is in the dev extra (make install, or pip install -e '.[dev]')")

# Two days around the treatment start: clusters labelled and not, wakes and sleeps, notes, treatments.
SINCE = DAY0 + 6 * DAY_S
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
    assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out), "--since", start, "--until", end) == 0


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
