"""An EDF+ export ends at the last data heard: a band silent up to the export is one annotation
'band not heard since' there with no duration, not days of data records to the export's time
(docs/exports.md "EDF+")."""

from __future__ import annotations

import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pyedflib
import pytest
from cli_runner import run_cli
from gaps import BOOT, EPOCH_S, build, epochs

from spasmwatch.store import Store

DAY_S = 86_400.0
HOUR_S = 3_600.0
SILENT_DAYS = 3


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def _store(tmp_path: Path) -> tuple[Path, float]:
    """A band heard for 6 h, two spasms, then silent for SILENT_DAYS up to now; (store, start)."""
    t0 = float(int(time.time() - SILENT_DAYS * DAY_S - 6 * HOUR_S))  # whole seconds: the recording start
    db = tmp_path / "s.db"
    build(db, t0, 6 * HOUR_S, spasms=(HOUR_S, 2 * HOUR_S))
    return db, t0


def _annotations(path: Path) -> tuple[float, list[tuple[float, float, str]]]:
    """(the file's duration, s; its annotations) as pyedflib reads them."""
    r = pyedflib.EdfReader(str(path))
    try:
        onsets, durations, texts = r.readAnnotations()
        return r.getFileDuration(), [(float(o), float(d), str(t)) for o, d, t in zip(onsets, durations, texts)]
    finally:
        r.close()


def test_a_band_silent_up_to_the_export_ends_the_file_at_its_last_epoch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Old code: the disconnected span ran to the export's time and the file's data records with it,
    3 days of them (0.5 MB; a year: 60 MB, 0.9 GB to open in MNE), and MNE's raw ran to now."""
    import mne

    db, t0 = _store(tmp_path)
    out = tmp_path / "x.edf"
    assert run_cli("export", "--db", str(db), "--out", str(out), "--since", _iso(t0), "--tz", "UTC") == 0
    silent_at = 6 * HOUR_S  # the last epoch's end, s from the start
    duration, anns = _annotations(out)
    assert duration == (silent_at // 60 + 1) * 60  # records up to the last thing heard, one past it
    assert anns[-1] == (silent_at, -1.0, "band not heard since (disconnected)")
    assert [a[2] for a in anns[:-1]] == ["spasm", "spasm"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no annotation cut to the file ('Limited ...') or dropped ('Omitted ...')
        raw = mne.io.read_raw_edf(out, verbose="warning")
    got = list(zip(raw.annotations.description, raw.annotations.onset, raw.annotations.duration))
    assert got[-1] == ("band not heard since (disconnected)", silent_at, 0.0) and len(got) == 3
    err = capsys.readouterr().err
    assert f"band-1 not heard from {_iso(t0 + silent_at).replace('+00:00', '.000Z')} up to this export (3.0 days)" in err
    assert "--until" in err


def test_a_silence_up_to_until_in_the_past_is_a_span_the_file_runs_to(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--until before now ends the range, not the export's clock: the silence up to it is a span of
    the range, with its duration, and the file runs to it (as before)."""
    db, t0 = _store(tmp_path)
    out = tmp_path / "x.edf"
    until = t0 + DAY_S
    assert run_cli("export", "--db", str(db), "--out", str(out), "--since", _iso(t0), "--until", _iso(until)) == 0
    duration, anns = _annotations(out)
    assert anns[-1] == (6 * HOUR_S, DAY_S - 6 * HOUR_S, "band not heard (disconnected)")
    assert duration == (DAY_S // 60 + 1) * 60
    assert "not heard since" not in capsys.readouterr().err


def test_a_band_silent_from_before_since_is_named_by_when_it_was_last_heard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A band last heard before --since: the note says when it was last heard and how long ago, not
    --since itself (hostile review: it read 'not heard from <--since> ... (2.3 days)' for a band silent
    3 days, as if it had been heard up to the range's start). The file's annotation is at its start."""
    db, t0 = _store(tmp_path)
    out = tmp_path / "x.edf"
    since = t0 + DAY_S
    assert run_cli("export", "--db", str(db), "--out", str(out), "--since", _iso(since), "--tz", "UTC") == 0
    duration, anns = _annotations(out)
    assert anns == [(0.0, -1.0, "band not heard since (disconnected)")] and duration == 60
    err = capsys.readouterr().err
    assert f"band-1 not heard from {_iso(t0 + 6 * HOUR_S).replace('+00:00', '.000Z')} up to this export (3.0 days)" in err


def test_with_two_bands_the_note_of_the_one_silent_first_does_not_say_the_file_ends_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hostile review: band-1 silent after 6 h, band-2 after 20 h; both notes said 'the EDF+ file ends
    there', band-1's of a file that runs 14 h past it (to band-2's). Each silence is an annotation
    with no duration; the file ends at the last thing heard of any band."""
    db, t0 = _store(tmp_path)
    with Store(db) as store:
        store.add_sync("band-2", BOOT, 0, t0)
        heard = [{"boot": BOOT, "t_ms": int((t + EPOCH_S) * 1000), "activity": 200, "breath": 40, "off_body": 0, "worn": worn}
                 for t, _, worn in epochs(20 * HOUR_S, ())]  # fmt: skip
        store.add_activity("band-2", heard, received_wall_s=t0)
    out = tmp_path / "x.edf"
    assert run_cli("export", "--db", str(db), "--out", str(out), "--since", _iso(t0), "--tz", "UTC") == 0
    duration, anns = _annotations(out)
    silent = {band: f"band not heard since (disconnec [{band}]" for band in ("band-1", "band-2")}  # two bands: each named
    assert [a for a in anns if a[2] in silent.values()] == [(6 * HOUR_S, -1.0, silent["band-1"]), (20 * HOUR_S, -1.0, silent["band-2"])]
    assert duration == (20 * HOUR_S // 60 + 1) * 60
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: band-")]
    assert len(notes) == 2 and not any("the EDF+ file ends there" in n for n in notes)
    assert all(f"'{silent[n.split()[1]]}' at that time with no duration" in n for n in notes)


def test_an_edf_of_several_bands_names_the_band_of_each_annotation(tmp_path: Path) -> None:
    """Found by the researcher's hostile review of 2026-12-07: an EDF+ export of a store with two
    bands (twins, or a band replaced) wrote 'spasm', 'band not worn', 'band not heard
    (disconnected)' of either with nothing to say whose (the other formats have the device
    column), so one band's 20 min off the baby read as the child's only band off, beside the
    other's spasms. Each band's annotation now ends with its id, its text cut to keep the id whole
    (EDF+ keeps 40 bytes); an export of one band (--device) is as before."""
    t0, other = 1_709_841_600.0, "nursery-band-0002"  # 2024-03-07T20:00Z
    db = tmp_path / "s.db"
    build(db, t0, 2 * HOUR_S, spasms=(600.0,), clusters=((1200.0, 5),))
    build(db, t0, 2 * HOUR_S, off=((1800.0, 3000.0),), gaps=((4000.0, 4600.0),), spasms=(900.0,), device=other)
    both, one = tmp_path / "both.edf", tmp_path / "one.edf"
    span = ("--since", _iso(t0), "--until", _iso(t0 + 2 * HOUR_S), "--tz", "UTC")
    assert run_cli("export", "--db", str(db), "--out", str(both), *span) == 0
    assert run_cli("export", "--db", str(db), "--out", str(one), "--device", "band-1", *span) == 0
    texts = {(o, t) for o, _, t in _annotations(both)[1]}
    assert {(600.0, "spasm [band-1]"), (900.0, f"spasm [{other}]"), (1200.0, "cluster of 5 spasms [band-1]"),
            (1800.0, f"band not worn [{other}]"), (4000.0, f"band not heard (disc [{other}]")} <= texts  # fmt: skip
    assert all(t.endswith((" [band-1]", f" [{other}]")) and len(t.encode()) <= 40 for _, t in texts)
    assert [t for _, _, t in _annotations(one)[1]] == ["spasm", "cluster of 5 spasms"]
