"""An EDF+ export across a DST change says so on stderr: its header holds the wall time at its start
and its onsets are seconds from it, so a hospital EEG that starts after the change, its header on
the ward's clock, lines up an hour off by the two start times (docs/exports.md "EDF+")."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_runner import run_cli
from gaps import build

T0 = datetime(2026, 10, 24, 12, tzinfo=timezone.utc).timestamp()  # 14:00 in Berlin (CEST, +02:00)
CHANGE = "2026-10-25T01:00:00.000Z"  # 03:00 CEST, the clocks go back to 02:00 CET


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A band heard for two days across Berlin's autumn change, a spasm on each side of it."""
    db = tmp_path_factory.mktemp("dst") / "s.db"
    build(db, T0, 2 * 86_400.0, spasms=(3_600.0, 30 * 3_600.0))
    return db


def _err(db: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str, since: float = T0, until: float = T0 + 2 * 86_400.0) -> str:
    capsys.readouterr()
    assert run_cli("export", "--db", str(db), "--out", str(out), "--since", _iso(since), "--until", _iso(until), *extra) == 0
    return capsys.readouterr().err


def test_an_edf_export_across_a_dst_change_names_it_and_the_way_out(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Old code: nothing said; the header read 14:00 (+02:00) and a ward EEG from 08:00 (+01:00) the
    next morning was 18 h after it by the two headers, 19 h by the onsets."""
    err = _err(store, tmp_path / "x.edf", capsys, "--tz", "Europe/Berlin")
    assert "the clocks in Europe/Berlin changed within this EDF+ file, whose header holds the wall time at its start (UTC+02:00)" in err
    assert f"at {CHANGE} (UTC+02:00 to UTC+01:00), 13.0 h after its start: an EEG starting after that gets these annotations 1.0 h late" in err
    assert "--since its start and --until its end, or give --tz UTC" in err


@pytest.mark.parametrize(
    ("name", "extra", "since"),
    [
        ("x.edf", ("--tz", "Europe/Berlin"), T0 + 86_400.0),  # starts after the change: one offset throughout
        ("x.edf", ("--tz", "UTC"), T0),  # UTC has no change
        ("x.csv", ("--tz", "Europe/Berlin"), T0),  # onset_utc: no wall clock
    ],
    ids=["after the change", "utc", "csv"],
)
def test_no_note_without_a_change_on_the_files_clock(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, extra: tuple[str, ...], since: float
) -> None:
    assert "the clocks in" not in _err(store, tmp_path / name, capsys, *extra, since=since)


def test_a_change_after_the_files_last_row_is_not_in_it(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The range runs past the change, the file's rows (and records) end before it: nothing to line up after it."""
    err = _err(store, tmp_path / "x.edf", capsys, "--tz", "Europe/Berlin", "--kinds", "spasm", until=T0 + 86_400.0)
    assert "the clocks in" not in err


def _ward_eeg(path: Path, start_utc: float, seconds: int) -> None:
    """A one-channel EEG at 1 Hz whose header holds Berlin's wall clock, as a hospital EEG system writes it."""
    import numpy as np
    import pyedflib

    w = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        w.setSignalHeaders([{"label": "Cz", "dimension": "uV", "sample_frequency": 1, "physical_max": 500.0,
                             "physical_min": -500.0, "digital_max": 32767, "digital_min": -32768}])  # fmt: skip
        w.setStartdatetime(datetime.fromtimestamp(start_utc, ZoneInfo("Europe/Berlin")).replace(tzinfo=None))
        w.writeSamples([np.zeros(seconds)])
    finally:
        w.close()


def test_what_the_note_says_mne_puts_the_spasm_an_hour_late_and_since_the_eegs_start_does_not(store: Path, tmp_path: Path) -> None:
    """A ward EEG from 16:00Z the day after the change (17:00 CET), the spasm at 18:00Z two hours in:
    the export from before the change puts it 3 h in; one --since the EEG's start at 2 h."""
    import mne

    eeg_start, spasm = T0 + 28 * 3_600.0, T0 + 30 * 3_600.0
    _ward_eeg(tmp_path / "eeg.edf", eeg_start, 4 * 3_600)

    def placed(since: float) -> float:
        out = tmp_path / f"{since:.0f}.edf"
        assert run_cli("export", "--db", str(store), "--out", str(out), "--since", _iso(since), "--until", _iso(T0 + 2 * 86_400.0),
                       "--tz", "Europe/Berlin", "--kinds", "spasm") == 0  # fmt: skip
        eeg = mne.io.read_raw_edf(tmp_path / "eeg.edf", verbose="error")
        with warnings.catch_warnings():  # the spasm before the EEG is left out, with a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            eeg.set_annotations(mne.io.read_raw_edf(out, verbose="error").annotations)
        (onset,) = eeg.annotations.onset - eeg.first_time
        return float(onset)

    assert placed(T0) == spasm - eeg_start + 3_600.0
    assert placed(eeg_start) == spasm - eeg_start
