"""``spasmwatch taps``: tap triples (three firm taps on the band, the video's sync mark) found at the
simulator's known times, and nowhere else: not among its spasms, startles, patting or kicking over a
simulated day, nor in the adult recordings of tests/data/real (the false-alarm set)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from spasmwatch.analysis.labels import parse_time
from spasmwatch.analysis.taps import find_triples
from spasmwatch.cli import main
from spasmwatch.commands.taps import clock
from spasmwatch.io.rawfile import RawHeader, RawWriter
from spasmwatch.sim import Scenario, Simulation, simulate

REAL = sorted((Path(__file__).parent / "data" / "real").glob("*.csv"))
TOL_S = 0.02  # the onset is the first sample past the bar: one interval at 50 Hz


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=300)


def found_in(scn: Scenario) -> list[float]:
    sim = Simulation(scn)
    return [tr.t[0] for tr in find_triples(scn.rate_hz, ((t, acc) for t, acc, _ in sim.chunks()))]


def assert_matches(found: list[float], taps: tuple[float, ...]) -> None:
    assert len(found) == len(taps), (found, taps)
    for f, t in zip(found, sorted(taps)):
        assert 0.0 <= f - t <= TOL_S, (f, t)


@pytest.mark.parametrize("rate", [50.0, 100.0, 200.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_triples_are_found_at_their_times(rate: float, seed: int) -> None:
    """Four triples on a simulated morning (asleep, waking, a cluster, play), at band rates."""
    taps = (100.0, 700.0, 1300.0, 1750.0)
    assert_matches(found_in(Scenario(kind="morning", seed=seed, rate_hz=rate, taps=taps)), taps)


def test_a_simulated_day_holds_its_triples_and_nothing_else() -> None:
    """24 h at 100 Hz with the day's confounders (feeds, naps, patting, bouncing, car, bath...), a
    triple at its start and end as docs/real-recordings.md asks, and four more in between."""
    taps = (60.0, 14400.0, 28800.0, 50000.0, 70000.0, 86280.0)
    assert_matches(found_in(Scenario(kind="day", seed=1, taps=taps)), taps)


@pytest.mark.parametrize("kind", ["confounders", "clusters"])
def test_no_triple_among_spasms_and_confounders(kind: str) -> None:
    for seed in (1, 2, 3):
        assert found_in(Scenario(kind=kind, seed=seed)) == [], (kind, seed)


def test_no_triple_in_the_real_adult_recordings() -> None:
    assert len(REAL) == 8
    for path in REAL:
        out = cli("taps", str(path), "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["triples"] == [], path.name


def test_cli_on_a_simulated_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "night.csv"
    assert main(["simulate", str(rec), "--kind", "morning", "--seed", "2", "--taps", "30,1750"]) == 0
    truth = json.loads(rec.with_suffix(".truth.json").read_text())
    assert truth["taps"] == [30.0, 1750.0]
    assert {"kind": "tap", "start": 30.0} .items() <= next(c for c in truth["confounders"] if c["kind"] == "tap").items()
    out = cli("taps", str(rec), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["triples"]
    assert [round(r["t"], 2) for r in rows] == [30.01, 1750.01]
    assert rows[0]["clock"] == "0:00:30.010" and rows[0]["wall"] is None and len(rows[0]["taps"]) == 3
    table = cli("taps", str(rec))
    assert "2 tap triple(s) in 0.50 h at 100 Hz" in table.stdout
    assert "0:29:10.010" in table.stdout and "--sync" in table.stderr


@pytest.mark.parametrize(("t", "shown"), [(0.0, "0:00:00.000"), (30.01, "0:00:30.010"), (3723.25, "1:02:03.250"),
                                         (-0.5, "-0:00:00.500"), (-979.98, "-0:16:19.980"), (-3723.25, "-1:02:03.250")])
def test_a_triples_clock_is_read_back_by_sync_as_its_time(t: float, shown: str) -> None:
    """Found by the hostile-input review: a recording whose t starts below 0 showed -979.98 s as
    '-1:43:40.020' (an hour off, by floor division), and --sync refused the clock form with a sign."""
    assert clock(t) == shown
    assert parse_time(shown) == pytest.approx(t, abs=1e-9)


def test_a_swraw_triple_carries_its_wall_time(tmp_path: Path) -> None:
    """A band's .swraw dates each triple by its header (the band's dating)."""
    rec = simulate(Scenario(duration_s=600.0, seed=4, rate_hz=52.0, taps=(200.0,)))
    assert rec.gyro is not None
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(rec.gyro * 10)]).astype(np.int16)
    wall0 = 1_764_936_000.0
    path = tmp_path / "band-boot1-000.swraw"
    with RawWriter(path, RawHeader("band-1", 52.0, True, wall0, index_origin=0)) as w:
        for i in range(0, len(counts), 4000):
            w.append(i, counts[i : i + 4000], 0)
    out = cli("taps", str(path), "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)["triples"]
    assert 0.0 <= row["t"] - 200.0 <= 1 / 52 + 1e-9
    assert abs(datetime.fromisoformat(row["wall"]).timestamp() - (wall0 + row["t"])) < 1e-3


def test_a_dated_swraw_triple_is_on_the_wall_clock_by_its_dating_records(tmp_path: Path) -> None:
    """A band whose IMU ran 1 % fast: the daemon's dating records (docs/rawfile.md "Dating") put the
    triple at the wall time its sample was taken, not the header's nominal one (2 s off at 200 s)."""
    from spasmwatch.io.rawfile import DatingPoint

    rec = simulate(Scenario(duration_s=600.0, seed=4, rate_hz=52.0, taps=(200.0,)))
    assert rec.gyro is not None
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(rec.gyro * 10)]).astype(np.int16)
    wall0, actual = 1_764_936_000.0, 52.0 * 1.01
    path = tmp_path / "band-boot1-000.swraw"
    with RawWriter(path, RawHeader("band-1", 52.0, True, wall0, index_origin=0)) as w:
        for i in range(0, len(counts), 3120):  # a dating record a minute, as the daemon writes them
            if i:
                w.date(DatingPoint(i, wall0 + i / actual, actual))
            w.append(i, counts[i : i + 3120], 0)
    out = cli("taps", str(path), "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)["triples"]
    taken = wall0 + row["t"] * 52.0 / actual
    assert abs(datetime.fromisoformat(row["wall"]).timestamp() - taken) < 1e-3, taken


def test_a_csv_timed_in_unix_seconds_gives_its_triples_wall_times(tmp_path: Path) -> None:
    """Researcher review (2026-12-06): a logger's CSV whose t is unix time (replay reads it as such)
    got its triples as hours since 1970, '481500:01:00.010', and no wall time: the one thing a
    labeller reads its video against. Its t dates it, as a .swraw's dating does."""
    from spasmwatch.sim import write_recording

    rec = simulate(Scenario(duration_s=600.0, seed=4, rate_hz=52.0, taps=(200.0,)))
    path = tmp_path / "plain.csv"
    write_recording(rec, path)
    unix0 = 1_764_936_000.0
    lines = path.read_text().splitlines()
    dated = tmp_path / "logger.csv"
    dated.write_text("\n".join([lines[0], *(f"{float(t) + unix0:.6f},{rest}" for t, rest in (x.split(",", 1) for x in lines[1:]))]) + "\n")
    out = cli("taps", str(dated), "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)["triples"]
    assert abs(datetime.fromisoformat(row["wall"]).timestamp() - row["t"]) < 1e-3 and row["t"] > unix0
    table = cli("taps", str(dated)).stdout
    assert "wall" in table and row["wall"] in table, table


def test_simulate_refuses_taps_outside_the_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the file named after the option, as one writes it: not taken for a time (nargs="+" took it)
    assert main(["simulate", "--duration-s", "60", "--taps", "5", "--taps", "20,40", str(tmp_path / "a.csv")]) == 0
    assert json.loads((tmp_path / "a.truth.json").read_text())["taps"] == [5.0, 20.0, 40.0]
    with pytest.raises(SystemExit) as e:
        main(["simulate", str(tmp_path / "m.csv"), "--taps", "5,x"])
    assert e.value.code == 2
    assert "--taps: '5,x': give times in seconds, commas between them (60,28740)" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "m.csv"), "--duration-s", "60", "--taps", "59"]) == 2
    assert "--taps: taps must lie within 0..duration - 2 s (0-58 s here): 59" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "m.csv"), "--duration-s", "60", "--taps", "10,11"]) == 2
    assert "--taps: taps must be at least 2 s apart: 10 and 11" in capsys.readouterr().err


def test_chunking_does_not_change_what_is_found() -> None:
    """Chunks of any size (a spike cut by a chunk's edge) give the same spikes and triples."""
    from spasmwatch.analysis.taps import SpikeFinder

    rec = simulate(Scenario(kind="confounders", seed=2, duration_s=900.0, taps=(100.0, 450.0, 800.0)))
    runs = []
    for rows in (37, 1000, 1 << 17):
        finder = SpikeFinder(rec.rate_hz)
        for i in range(0, len(rec.t), rows):
            finder.feed(rec.t[i : i + rows], rec.acc[i : i + rows])
        runs.append(finder.finish())
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].t, other.t)
        np.testing.assert_allclose(runs[0].peak_g, other.peak_g, rtol=1e-9)  # sums restart at each chunk
