"""``truth --wall-clock``: labels read off a video's clock (a time of day, or a date and time) on real
.swraw parts and CSVs, giving the truth the same labels give as seconds on the recording's t."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from spasmwatch.analysis.wallclock import WallClock
from spasmwatch.io.rawfile import RawHeader, RawWriter

RATE = 52.0
WALL0 = 1_709_510_400.0  # 2024-03-04T00:00:00Z: 01:00 in Paris, 05:30 in Kolkata
PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 12, 4, 12, tzinfo=PARIS).timestamp()  # a part's index_origin: the band's noon


def cli(*args: str, tz: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"TZ": tz} if tz else {})}
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def morning() -> tuple[np.ndarray, dict[str, Any]]:
    """A simulated quarter hour (a wake, a cluster of 9) as the band's counts, and its truth."""
    from spasmwatch.sim import Scenario, simulate

    rec = simulate(Scenario(duration_s=900.0, seed=3, rate_hz=RATE, clusters=1))
    assert rec.gyro is not None
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(rec.gyro * 10)]).astype(np.int16)
    return counts, rec.truth


def write(path: Path, counts: np.ndarray, first: int, origin: int, wall_origin: float, rate: float = RATE) -> Path:
    """Samples from index ``first`` as the daemon writes a part whose index ``origin`` is dated ``wall_origin``."""
    with RawWriter(path, RawHeader("band-1", rate, True, wall_origin, index_origin=origin)) as w:
        for i in range(0, len(counts), 4000):
            w.append(first + i, counts[i : i + 4000], 0)
    return path


def table(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("onset\tduration\ttrial_type\n" + "".join(f"{t}\t{d}\t{k}\n" for t, d, k in rows))
    return path


def sim_rows(truth: dict[str, Any]) -> list[tuple[float, str, str]]:
    """The simulator's truth as a labeller's rows: onsets on t (ms), durations in s."""
    rows = [(round(s["t"], 3), f"{s['end'] - s['t']:.3f}", "spasm") for s in truth["spasms"]]
    rows += [(round(w, 3), "n/a", "wake") for w in truth["wake_onsets"]]
    rows += [(round(c["start"], 3), f"{c['end'] - c['start']:.3f}", c["kind"]) for c in truth["confounders"]]
    return sorted(rows)


def on_clock(t: float, zone: ZoneInfo) -> datetime:
    """What a video clock showing the band's dating reads at video time t: the seconds form's labels
    and the clock form's are one video's, so --offset-s (the taps) moves both alike."""
    return datetime.fromtimestamp(WALL0, zone) + timedelta(milliseconds=round(t * 1000))


def test_clock_times_give_the_truth_the_same_labels_give_as_seconds(tmp_path: Path, morning: tuple[np.ndarray, dict[str, Any]]) -> None:
    """Two parts; the labels as seconds, as times of day (--tz), as dates and times in the computer's
    zone (TZ), as UTC ISO times: one truth. --offset-s (the taps) still applies."""
    counts, sim = morning
    a = write(tmp_path / "band-1-boot4-000.swraw", counts[:20000], 0, 0, WALL0)
    b = write(tmp_path / "band-1-boot4-001.swraw", counts[20000:], 20000, 20000, WALL0 + 20000 / RATE)
    rows = sim_rows(sim)
    kolkata = ZoneInfo("Asia/Kolkata")
    forms: dict[str, tuple[list[tuple[str, str, str]], list[str], str | None]] = {
        "seconds": ([(f"{t:.3f}", d, k) for t, d, k in rows], ["--offset-s", "2.5"], None),
        "time_of_day": ([(on_clock(t, PARIS).strftime("%H:%M:%S.%f")[:-3], d, k) for t, d, k in rows],
                        ["--wall-clock", "--tz", "Europe/Paris", "--offset-s", "2.5"], None),
        "local_iso": ([(on_clock(t, kolkata).replace(tzinfo=None).isoformat(timespec="milliseconds"), d, k) for t, d, k in rows],
                      ["--wall-clock", "--offset-s", "2.5"], "Asia/Kolkata"),
        "utc_iso": ([(on_clock(t, ZoneInfo("UTC")).isoformat(timespec="milliseconds").replace("+00:00", "Z"), d, k) for t, d, k in rows],
                    ["--wall-clock", "--tz", "America/New_York", "--offset-s", "2.5"], None),
    }
    truths = {}
    for name, (form, opts, tz) in forms.items():
        events = table(tmp_path / f"{name}.tsv", form)
        out = tmp_path / f"{name}.truth.json"
        res = cli("truth", str(a), str(b), str(events), "-o", str(out), *opts, tz=tz)
        assert res.returncode == 0, (name, res.stderr)
        truths[name] = json.loads(out.read_text())
    assert truths["seconds"]["spasms"][0]["t"] == round(sim["spasms"][0]["t"] + 2.5, 3) and len(truths["seconds"]["clusters"]) == 1
    for name, truth in truths.items():
        assert truth == truths["seconds"], name
    # The labeller is told where the recording lies on the video's clock.
    res = cli("truth", str(a), str(b), str(tmp_path / "time_of_day.tsv"), "-o", str(tmp_path / "again.json"), "--wall-clock", "--tz", "Europe/Paris")
    assert res.returncode == 0, res.stderr
    assert "note: onsets read as local times in Europe/Paris: the recording is 2024-03-04T01:00:00+01:00 to 2024-03-04T01:15:00+01:00" in res.stderr


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A part dated from the band's noon (Paris) holding 22:50 to 07:00 at 10 Hz, as after a gap in the evening."""
    rate = 10.0
    first, end = int(10 * 3600 + 50 * 60) * 10, int(19 * 3600) * 10
    counts = np.zeros((end - first, 6), dtype=np.int16)
    counts[:, 2] = 1000
    return write(tmp_path_factory.mktemp("night") / "band-1-boot7-003.swraw", counts, first, 0, NOON, rate=rate)


def test_a_part_across_midnight_places_times_before_and_after_it(tmp_path: Path, night: Path) -> None:
    events = table(tmp_path / "night.tsv", [
        ("23:10:00", "n/a", "spasm"), ("23:10:10.5", "n/a", "spasm"), ("23:10:20", "n/a", "spasm"),
        ("06:40:00", "n/a", "wake"), ("2026-12-05T06:40:12", "1.5", "spasm"), ("2026-12-05T05:40:20Z", "n/a", "spasm"),
    ])
    out = tmp_path / "night.truth.json"
    res = cli("truth", str(night), str(events), "--wall-clock", "--tz", "Europe/Paris", "-o", str(out))
    assert res.returncode == 0, res.stderr
    truth = json.loads(out.read_text())
    # t counts from the part's noon: 23:10 is 11 h 10 min on, 06:40 the next morning 18 h 40 min.
    assert [s["t"] for s in truth["spasms"]] == [40200.0, 40210.5, 40220.0, 67212.0, 67220.0]
    assert truth["spasms"][3]["end"] == 67213.5 and truth["wake_onsets"] == [67200.0]
    assert [(c["start"], c["count"]) for c in truth["clusters"]] == [(40200.0, 3)]
    # The same table on Tokyo's clock: 23:10 there is 15:10 in Paris, outside the night.
    res = cli("truth", str(night), str(events), "--wall-clock", "--tz", "Asia/Tokyo", "-o", str(tmp_path / "tokyo.json"))
    assert res.returncode == 2 and not (tmp_path / "tokyo.json").exists()
    assert f"{events}:2: field 'onset': 23:10:00 is not within the recording, 2026-12-05T06:50:00+09:00 to 2026-12-05T15:00:00+09:00 (Asia/Tokyo)" in res.stderr


def test_export_raw_says_the_start_a_csv_of_the_part_is_labelled_with(tmp_path: Path, night: Path) -> None:
    """The CSV a part is exported to has no wall time, and truth --wall-clock needs its --start:
    export raw now prints it (the part's dating), and the CSV labelled with it gets the part's times."""
    csv = tmp_path / "night.csv"
    res = cli("export", "raw", str(night), "--csv", str(csv), tz="Europe/Paris")
    assert res.returncode == 0, res.stderr
    start = "2026-12-04T12:00:00.000+01:00"  # the part's noon: t = 0
    assert f"t = 0 s is {start} (the band's dating): label it on a video's clock with " in res.stderr, res.stderr
    assert f"'spasmwatch truth {csv} EVENTS.tsv --wall-clock --start {start}'" in res.stderr, res.stderr
    events = table(tmp_path / "night.tsv", [("23:10:00", "n/a", "spasm"), ("06:40:00", "n/a", "wake"), ("2026-12-05T06:40:12", "1.5", "spasm")])
    res = cli("truth", str(csv), str(events), "--wall-clock", "--start", start, tz="Europe/Paris")
    assert res.returncode == 0, res.stderr
    truth = json.loads((tmp_path / "night.truth.json").read_text())
    assert [s["t"] for s in truth["spasms"]] == [40200.0, 67212.0] and truth["wake_onsets"] == [67200.0]


@pytest.mark.parametrize(("onset", "why"), [
    ("12:00:00", "12:00:00 is not within the recording, 2026-12-04T22:50:00+01:00 to 2026-12-05T07:00:00+01:00 (Europe/Paris)"),
    ("2026-12-06T06:40:00", "2026-12-06T06:40:00 is not within the recording"),
    ("25:10:00", "'25:10:00' is no time of day"),
    ("6:40", "'6:40' is neither a time of day HH:MM:SS[.fff] nor a date and time"),
    ("41100.0", "'41100.0' is neither a time of day"),
    ("2026-12-05T06:61:00", "'2026-12-05T06:61:00' is not a date and time"),
])
def test_onsets_off_the_clock_or_outside_the_recording_name_file_and_line(tmp_path: Path, night: Path, onset: str, why: str) -> None:
    events = table(tmp_path / "bad.tsv", [("23:10:00", "n/a", "wake"), (onset, "n/a", "spasm")])
    res = cli("truth", str(night), str(events), "--wall-clock", "--tz", "Europe/Paris", "-o", str(tmp_path / "t.json"))
    assert res.returncode == 2 and f"{events}:3: field 'onset': {why}" in res.stderr, res.stderr


def test_a_csv_needs_the_wall_time_of_its_start(tmp_path: Path, night: Path) -> None:
    """A CSV's t is seconds with no wall anchor (the replay contract, docs/engineering.md): --start gives it."""
    csv = tmp_path / "nap.csv"
    csv.write_text("t,ax,ay,az\n" + "".join(f"{i / 10:.1f},0,0,1\n" for i in range(6000)))
    events = table(tmp_path / "nap.tsv", [("23:10:00", "n/a", "wake"), ("2026-12-04T23:12:30.25", "n/a", "spasm")])
    res = cli("truth", str(csv), str(events), "--wall-clock", "--tz", "Europe/Paris")
    assert res.returncode == 2 and f"{csv}: a CSV's t carries no wall time: --wall-clock needs --start" in res.stderr
    res = cli("truth", str(csv), str(events), "--wall-clock", "--tz", "Europe/Paris", "--start", "2026-12-04T23:05:00")
    assert res.returncode == 0, res.stderr
    truth = json.loads((tmp_path / "nap.truth.json").read_text())
    assert truth["wake_onsets"] == [300.0] and [s["t"] for s in truth["spasms"]] == [450.25]
    # The same start given in UTC, with no --tz: the computer's zone (here Tokyo) is not used for it.
    res = cli("truth", str(csv), str(tmp_path / "nap.tsv"), "--wall-clock", "--start", "2026-12-04T22:05:00Z", "--force", tz="Asia/Tokyo")
    assert res.returncode == 2 and "23:10:00 is not within the recording, 2026-12-05T07:05:00+09:00 to 2026-12-05T07:15:00+09:00 (this computer's time zone)" in res.stderr
    # Options that do not belong.
    for args, words in [
        ((str(night), str(events), "--wall-clock", "--start", "2026-12-04T23:05:00"), f"{night}: --start: a .swraw dates its samples itself"),
        ((str(csv), str(events), "--tz", "Europe/Paris"), "--tz: only with --wall-clock"),
        ((str(csv), str(events), "--wall-clock", "--tz", "Europe/Pariss", "--start", "2026-12-04T23:05:00"), "--tz: no time zone 'Europe/Pariss'"),
        ((str(csv), str(events), "--wall-clock", "--start", "yesterday"), "--start: 'yesterday' is neither a time of day"),
        # Hostile-input review: a span past year 9999 was an OverflowError traceback, one before year 1
        # 'year 0 is out of range'
        ((str(csv), str(events), "--wall-clock", "--tz", "Europe/Paris", "--start", "9999-12-31T23:59:00"),
         "--start 9999-12-31T23:59:00: the recording's span lies beyond the dates a computer's clock can give ("),
        ((str(csv), str(events), "--wall-clock", "--tz", "Asia/Tokyo", "--start", "0001-01-01T12:00:00"),
         "--start 0001-01-01T12:00:00: the recording's span lies beyond the dates a computer's clock can give ("),
    ]:
        res = cli("truth", *args, "-o", str(tmp_path / "x.json"))
        assert res.returncode == 2 and words in res.stderr, (args, res.stderr)


def test_a_csv_timed_in_unix_seconds_is_dated_by_its_t(tmp_path: Path) -> None:
    """Researcher review (2026-12-06): a logger's CSV whose t is unix time, which replay reads as such
    (its table in times of day), was refused by 'truth --wall-clock' as carrying no wall time, and
    took '--start 1970-01-01T00:00:00Z' to label. Its t dates it, as replay reads it; --start, if
    given, is still its t = 0."""
    unix0 = datetime(2026, 12, 4, 22, 5, tzinfo=ZoneInfo("UTC")).timestamp()  # 23:05 in Paris
    csv = tmp_path / "logger.csv"
    csv.write_text("t,ax,ay,az\n" + "".join(f"{unix0 + i / 10:.1f},0,0,1\n" for i in range(6000)))
    events = table(tmp_path / "logger.tsv", [("23:10:00", "n/a", "wake"), ("2026-12-04T23:12:30.25", "n/a", "spasm")])
    res = cli("truth", str(csv), str(events), "--wall-clock", "--tz", "Europe/Paris")
    assert res.returncode == 0, res.stderr
    truth = json.loads((tmp_path / "logger.truth.json").read_text())
    assert truth["wake_onsets"] == [unix0 + 300.0] and [s["t"] for s in truth["spasms"]] == [unix0 + 450.25]
    assert "the recording is 2026-12-04T23:05:00+01:00 to 2026-12-04T23:15:00+01:00 (Europe/Paris)" in res.stderr, res.stderr


@pytest.fixture
def paris_here(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local zone set to Paris (TZ), as on a computer there; put back after."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone", [PARIS, None], ids=["tz", "local"])
def test_times_of_day_a_recording_holds_twice_or_never_are_refused(paris_here: None, zone: ZoneInfo | None) -> None:
    """Over a day long, and across the DST changes (Paris: 2026-03-29 02:00 skipped, 2026-10-25 02:00-03:00
    twice), given as --tz and as this computer's zone alike."""
    name = "Europe/Paris" if zone else "this computer's time zone"
    long = WallClock(NOON, NOON, NOON + 30 * 3600, zone)
    with pytest.raises(ValueError, match=r"13:00:00 falls 2 times within the recording, .*: give the date and time, "
                       r"2026-12-04T13:00:00.000\+01:00 or 2026-12-05T13:00:00.000\+01:00"):
        long.t("13:00:00")
    assert long.t("2026-12-05T13:00:00") == 25 * 3600 and long.t("11:00:00") == 23 * 3600  # once only: fine
    autumn = datetime(2026, 10, 24, 12, tzinfo=PARIS).timestamp()
    back = WallClock(autumn, autumn, autumn + 24 * 3600, zone)
    with pytest.raises(ValueError, match=r"02:30:00 falls 2 times within the recording \(the clocks went back an hour, DST\)"):
        back.t("02:30:00")
    with pytest.raises(ValueError, match=rf"happened twice in {name} .*2026-10-25T02:30:00.000\+02:00 or 2026-10-25T02:30:00.000\+01:00"):
        back.t("2026-10-25T02:30:00")
    assert back.t("2026-10-25T02:30:00+01:00") - back.t("2026-10-25T02:30:00+02:00") == 3600
    assert back.t("03:30:00") == 16.5 * 3600  # 15 h 30 min on the clock, 16 h 30 min elapsed
    spring = datetime(2026, 3, 28, 12, tzinfo=PARIS).timestamp()
    fwd = WallClock(spring, spring, spring + 23 * 3600, zone)
    for text in ("02:30:00", "2026-03-29T02:30:00"):
        with pytest.raises(ValueError, match=rf"did not happen in {name}: the clocks skipped that hour \(DST\)"):
            fwd.t(text)
    assert fwd.t("03:30:00") == 14.5 * 3600
