"""The EDF+ export's start date/time is on the family's local wall clock, as hospital EEG files
write theirs (EDF has no zone field; EDFbrowser shows the start as it is, MNE labels it UTC), so
read_raw_edf + set_annotations lines our annotations up with a hospital EEG; ``--tz UTC`` gives the
UTC start of before 2026-12-06. docs/exports.md "EDF+"."""

from __future__ import annotations

import csv
import json
import warnings
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyedflib
import pytest
from cli_runner import run_cli
from course import DAY0, DAY_S, Expected
from tzenv import set_tz

SINCE = DAY0 + 6 * DAY_S  # 2024-03-10 00:00 UTC: 01:00 in Berlin (CET, +01:00)
UNTIL = DAY0 + 8 * DAY_S
BERLIN = ZoneInfo("Europe/Berlin")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def _export(db: Path, out: Path, fmt: str, *extra: str, since: float = SINCE, until: float = UNTIL) -> None:
    assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out), "--since", _iso(since), "--until", _iso(until), *extra) == 0


def _header(path: Path) -> tuple[datetime, str]:
    """(start date/time, the recording field's free text after the standard subfields) as pyedflib reads them."""
    r = pyedflib.EdfReader(str(path))
    try:
        return r.getStartdatetime(), r.getRecordingAdditional()
    finally:
        r.close()


def test_the_edf_start_is_the_local_wall_time_of_the_familys_zone(course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Found by a clinician's review: the header held UTC, a hospital EEG's holds the ward's wall
    clock, so our annotations sat an hour off (two in summer) in EDFbrowser and MNE. The zone is the
    one the commands take (TZ), or --tz; the recording field names it with the offset at the start."""
    import mne

    db, _ = course_db
    set_tz(tz_env, "Europe/Berlin")
    _export(db, tmp_path / "berlin.edf", "edf")
    assert _header(tmp_path / "berlin.edf") == (datetime(2024, 3, 10, 1, 0), "UTC+01:00_Europe/Berlin")
    raw = mne.io.read_raw_edf(tmp_path / "berlin.edf", verbose="error")
    assert raw.info["meas_date"] == datetime(2024, 3, 10, 1, 0, tzinfo=timezone.utc)  # MNE labels the wall time UTC
    _export(db, tmp_path / "ny.edf", "edf", "--tz", "America/New_York")  # --tz over the computer's zone
    assert _header(tmp_path / "ny.edf") == (datetime(2024, 3, 9, 19, 0), "UTC-05:00_America/New_York")


def test_tz_utc_gives_the_utc_start(course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """The start as before 2026-12-06 (for an EEG system that writes UTC), said as UTC+00:00."""
    db, _ = course_db
    set_tz(tz_env, "Europe/Berlin")
    _export(db, tmp_path / "utc.edf", "edf", "--tz", "UTC")
    assert _header(tmp_path / "utc.edf") == (datetime(2024, 3, 10, 0, 0), "UTC+00:00")


def _hospital_eeg(path: Path, start_utc: float, seconds: int, rate_hz: int) -> None:
    """A one-channel EEG of zeros whose header holds the ward's wall clock in Berlin, as a hospital
    EEG system writes it."""
    w = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        w.setSignalHeaders([{"label": "Cz", "dimension": "uV", "sample_frequency": rate_hz, "physical_max": 500.0,
                             "physical_min": -500.0, "digital_max": 32767, "digital_min": -32768}])  # fmt: skip
        w.setStartdatetime(datetime.fromtimestamp(start_utc, BERLIN).replace(tzinfo=None))
        w.writeSamples([np.zeros(seconds * rate_hz)])
    finally:
        w.close()


def test_mne_puts_the_annotations_at_their_samples_in_a_hospital_eeg(course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """An EEG from 06:00 to 08:00 UTC of the export's first day (07:00-09:00 on the ward's clocks),
    given read_raw_edf's annotations of the export: each row in those two hours lands on the sample
    of its onset_utc. Old code: every row an hour (3600 s, 36,000 samples) early, most before the EEG."""
    import mne

    db, _ = course_db
    set_tz(tz_env, "Europe/Berlin")
    _export(db, tmp_path / "rows.csv", "csv")
    with open(tmp_path / "rows.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    _export(db, tmp_path / "night.edf", "edf")
    eeg_start, seconds, rate = SINCE + 6 * 3600, 2 * 3600, 10
    _hospital_eeg(tmp_path / "eeg.edf", eeg_start, seconds, rate)
    eeg = mne.io.read_raw_edf(tmp_path / "eeg.edf", verbose="error")
    with warnings.catch_warnings():  # the rows outside the EEG's two hours are left out, with a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        eeg.set_annotations(mne.io.read_raw_edf(tmp_path / "night.edf", verbose="error").annotations)
    utc = [datetime.fromisoformat(r["onset_utc"].replace("Z", "+00:00")).timestamp() for r in table]
    want = sorted(round((t - eeg_start) * rate) for t in utc if 0 <= t - eeg_start < seconds)
    assert len(want) >= 10
    assert sorted(int(i) for i in eeg.time_as_index(eeg.annotations.onset, use_rounding=True)) == want


def test_across_a_dst_change_the_onsets_stay_seconds_from_the_start(course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """New York's clocks went forward on 2024-03-10 at 02:00: an export from the 9th's noon says the
    offset at its start (-05:00), and a row after the change is still its elapsed seconds from it."""
    db, _ = course_db
    set_tz(tz_env, "America/New_York")
    since, until = DAY0 + 5 * DAY_S + 17 * 3600, DAY0 + 7 * DAY_S  # 2024-03-09 12:00 EST .. 03-10 20:00 EDT
    _export(db, tmp_path / "dst.csv", "csv", since=since, until=until)
    _export(db, tmp_path / "dst.edf", "edf", since=since, until=until)
    assert _header(tmp_path / "dst.edf") == (datetime(2024, 3, 9, 12, 0), "UTC-05:00_America/New_York")
    with open(tmp_path / "dst.csv", newline="", encoding="utf-8") as f:
        after = [r for r in csv.DictReader(f) if r["onset_utc"] >= "2024-03-10T07:00"]  # 03:00 EDT on
    r = pyedflib.EdfReader(str(tmp_path / "dst.edf"))
    try:
        onsets = list(r.readAnnotations()[0])
    finally:
        r.close()
    assert len(after) >= 5
    for row in after:
        elapsed = datetime.fromisoformat(row["onset_utc"].replace("Z", "+00:00")).timestamp() - since
        assert min(abs(o - elapsed) for o in onsets) < 1e-3, row


@pytest.mark.parametrize(("name", "fmt", "side"), [("a.csv", "csv", "a.json"), ("a.jsonl", "jsonl", "a.json"),
                                                   ("a.parquet", "parquet", None), ("sub-01_events.tsv", "bids", "sub-01_events.json")])  # fmt: skip
def test_the_other_formats_do_not_depend_on_the_zone(
    course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch, name: str, fmt: str, side: str | None
) -> None:
    """CSV, JSONL, Parquet and BIDS keep onset_utc and RecordingStartUTC in UTC: the same bytes in
    UTC, in Berlin and with --tz."""
    db, _ = course_db
    made = []
    for k, (zone, extra) in enumerate((("UTC", ()), ("Europe/Berlin", ()), ("Europe/Berlin", ("--tz", "America/New_York")))):
        set_tz(tz_env, zone)
        folder = tmp_path / str(k)
        _export(db, folder / name, fmt, *extra)
        made.append([(folder / f).read_bytes() for f in (name, side) if f])
    assert made[0] == made[1] == made[2]
    if side:
        doc = json.loads((tmp_path / "0" / side).read_text())
        start = doc["RecordingStartUTC"] if fmt != "bids" else doc["onset"]["Description"]
        assert "2024-03-10T00:00:00.000Z" in start


def test_tz_reads_since_and_until_without_an_offset_and_an_unknown_zone_is_refused(
    course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch
) -> None:
    """--tz is the report's: --since typed as the ward's clock reads it is the header's start, on a
    computer in UTC too (the EEG's start copied from its header gives the same EDF+ start)."""
    from spasmwatch.errors import SpasmwatchError

    db, _ = course_db
    set_tz(tz_env, "UTC")
    ward = ("--tz", "Europe/Berlin", "--since", "2024-03-10T07:00", "--until", "2024-03-10T09:00")
    for name in ("ward.edf", "ward.csv"):
        assert run_cli("export", "--db", str(db), "--out", str(tmp_path / name), *ward) == 0
    assert _header(tmp_path / "ward.edf")[0] == datetime(2024, 3, 10, 7, 0)
    assert json.loads((tmp_path / "ward.json").read_text())["RecordingStartUTC"] == "2024-03-10T06:00:00.000Z"
    with pytest.raises(SpasmwatchError, match=r"--tz: unknown time zone 'Europe/Berlinn'"):
        run_cli("export", "--db", str(db), "--out", str(tmp_path / "x.edf"), "--tz", "Europe/Berlinn", "--since", "2024-03-10T07:00")
    assert not (tmp_path / "x.edf").exists()


def test_without_tz_since_is_read_in_the_zone_the_header_is_written_in(
    course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch
) -> None:
    """Hostile review: without --tz, --since was read by C's localtime and the header written in
    clock.local_zone. They part where local_zone cannot follow TZ, a POSIX rule here (it
    takes that rule's offset now): '--since 07:00' typed from the ward's clock gave a header start
    an hour off in one of the two seasons. Both now take local_zone, as 'report' does."""
    db, _ = course_db
    set_tz(tz_env, "CET-1CEST,M3.5.0,M10.5.0/3")
    for month in (1, 7):  # one of the two is in the season other than today's, whenever the test runs
        out = tmp_path / f"m{month}.edf"
        since = f"2024-{month:02d}-10T07:00"
        assert run_cli("export", "--db", str(db), "--out", str(out), "--since", since, "--until", f"2024-{month:02d}-10T09:00") == 0
        assert _header(out)[0] == datetime(2024, month, 10, 7, 0), since


def test_under_a_posix_rule_the_start_has_its_seasons_offset(course_db: tuple[Path, Expected], tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Found by review: under a POSIX TZ rule the header start took the rule's offset on the day the
    export ran, so a July start exported in winter read 06:00 +01:00 where the ward's clock said
    07:00 +02:00 (and a January one an hour off when exported in summer)."""
    db, _ = course_db
    set_tz(tz_env, "CET-1CEST,M3.5.0,M10.5.0/3")
    for month, utc_hour, offset in ((1, 6, "UTC+01:00"), (7, 5, "UTC+02:00")):
        out = tmp_path / f"m{month}.edf"
        since = f"2024-{month:02d}-10T{utc_hour:02d}:00:00Z"
        assert run_cli("export", "--db", str(db), "--out", str(out), "--since", since, "--until", f"2024-{month:02d}-10T09:00:00Z") == 0
        assert _header(out) == (datetime(2024, month, 10, 7, 0), offset), since
