"""Tests of the infant IMU simulator (spasmwatch.sim): truth, physics, files, CLI."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from spasmwatch.cli import main
from spasmwatch.errors import ConfigError
from spasmwatch.sim import Recording, Scenario, Simulation, simulate, truth_path, write_recording, write_stream
from spasmwatch.sim import render
from spasmwatch.sim import rotation as rot
from spasmwatch.sim.movements import Channels
from spasmwatch.sim.output import format_rows
from spasmwatch.sim.recording import Chunk
from spasmwatch.sim.rotation import FloatArray

TOP_KEYS = {"version", "rate_hz", "duration_s", "seed", "has_gyro", "mounting", "spasms", "clusters", "states", "wake_onsets", "not_worn", "confounders"}
SPASM_KEYS = {"t", "end", "duration_s", "kind", "cluster", "amplitude_deg"}
CLUSTER_KEYS = {"id", "start", "end", "count", "subtle", "third_end", "post_wake_s"}


@lru_cache(maxsize=None)
def rec(**kw: object) -> Recording:
    return simulate(Scenario(**kw))  # type: ignore[arg-type]


def clean_morning(seed: int) -> Recording:
    """Noise-free, aligned sensor, one non-subtle cluster: for physics checks."""
    return rec(kind="morning", duration_s=900.0, seed=seed, noise_scale=0.0, clusters=1, subtle_fraction=0.0)


def unit(v: FloatArray) -> FloatArray:
    out: FloatArray = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


# --- determinism --------------------------------------------------------------


def test_same_seed_same_recording() -> None:
    a = simulate(Scenario(kind="subtle", duration_s=300.0, rate_hz=50.0, seed=9))
    b = simulate(Scenario(kind="subtle", duration_s=300.0, rate_hz=50.0, seed=9))
    assert np.array_equal(a.acc, b.acc)
    assert a.gyro is not None and b.gyro is not None and np.array_equal(a.gyro, b.gyro)
    assert a.truth == b.truth


def test_other_seed_other_recording() -> None:
    a = rec(kind="morning", duration_s=300.0, rate_hz=50.0, seed=1)
    b = rec(kind="morning", duration_s=300.0, rate_hz=50.0, seed=2)
    assert not np.allclose(a.acc, b.acc)
    assert a.truth["states"] != b.truth["states"] or a.truth["mounting"] != b.truth["mounting"]


def _peak_bytes(scenario: Scenario) -> int:
    """Peak Python/numpy memory while a simulation is planned and all its chunks are made."""
    tracemalloc.start()
    try:
        for _ in Simulation(scenario).chunks():
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_longer_simulation_takes_no_more_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the researcher review: memory grew ~7 MB per simulated hour at any rate (48 h at
    25 Hz: 420 MB; a week over 1 GB): the breathing's 10 Hz grid over the whole recording, every
    long noise's knots and every oscillation's track were held from the start. In chunks of a block
    (65536 samples, 3.6 h at 5 Hz: the plan's own 0.3 MB an hour is small beside one), both runs make
    full chunks. Old code: 57 MB for 2 chunks, 115 MB for 4."""
    monkeypatch.setattr(render, "CHUNK_SAMPLES", render.BLOCK_SAMPLES)
    chunk_s = render.CHUNK_SAMPLES / 5.0
    short, long = (_peak_bytes(Scenario(kind="day", duration_s=n * chunk_s, rate_hz=5.0, has_gyro=False)) for n in (2, 4))
    assert long < 1.1 * short, f"peak {short / 1e6:.1f} MB for {2 * chunk_s / 3600:.1f} h, {long / 1e6:.1f} MB for twice as long"


@pytest.mark.parametrize("kind, rate_hz, gyro", [("morning", 50.0, True), ("day", 5.0, False)])
def test_the_recording_does_not_depend_on_the_chunk_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, rate_hz: float, gyro: bool) -> None:
    """Found by review: each chunk drew its sensor noise from a generator seeded with the chunk's
    index, and the sensor drift and fidgeting were interpolated on a grid from the chunk's first
    sample, so a recording's bytes changed with CHUNK_SAMPLES (the memory a chunk takes could not be
    traded without changing every simulated set). Old code: a morning at 50 Hz made in chunks of
    65536 samples (the default then) and of 7001 differed from sample 7001 on (1 LSB of accel and
    gyro, 4657 and 1032 samples of 90000). Both now come in fixed blocks of 65536 samples (render.BLOCK_SAMPLES),
    so chunks of 65536 give what they gave. (At 5 Hz a 7 h day, a band-off in it.)"""
    scenario = Scenario(kind=kind, duration_s=1800.0 if kind == "morning" else 7 * 3600.0, rate_hz=rate_hz, seed=2, has_gyro=gyro)
    written = []
    for size in (render.CHUNK_SAMPLES, 7001, 1 << 16, 1 << 17):
        monkeypatch.setattr(render, "CHUNK_SAMPLES", size)
        sim = Simulation(scenario)
        path = tmp_path / f"{size}.csv"
        write_stream(path, sim.truth, sim.chunks())
        written.append((sim.n_chunks, path.read_bytes(), truth_path(path).read_bytes()))
    assert len({n for n, _, _ in written}) == 4  # four ways of cutting it
    assert all(w[1:] == written[0][1:] for w in written)
    if kind == "day":
        assert json.loads(written[0][2])["not_worn"]


def test_breathing_made_in_parts_is_the_whole_s_to_the_bit() -> None:
    """The breathing is made per chunk from spans, noise knots and a phase stored every few
    minutes, no longer from a grid over the whole recording: any part (odd cuts, inside one
    stored block or across several) must give the samples of one pass over everything."""
    scenario = Scenario(kind="day", duration_s=3 * 3600.0, rate_hz=5.0, seed=4)
    breathing = Simulation(scenario).renderer.breathing
    t = np.arange(-1, scenario.n_samples + 1) / scenario.rate_hz

    def rendered(times: FloatArray) -> Channels:
        ch = Channels.zeros(times, 1.0 / scenario.rate_hz)
        breathing.render(ch)
        return ch

    whole = rendered(t)
    for lo, hi in ((0, 777), (5000, 5001 + 3 * 4096), (20001, 20017), (len(t) - 999, len(t))):
        part = rendered(t[lo:hi])
        assert np.array_equal(part.acc_body, whole.acc_body[lo:hi]) and np.array_equal(part.wobble, whole.wobble[lo:hi]), (lo, hi)


# --- ground truth --------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cluster_truth_is_consistent(seed: int) -> None:
    truth = Simulation(Scenario(kind="clusters", seed=seed, clusters=4)).truth
    assert TOP_KEYS <= set(truth)
    assert truth["clusters"], "the clusters scenario must place clusters"
    onsets = truth["wake_onsets"]
    for c in truth["clusters"]:
        assert CLUSTER_KEYS <= set(c)
        members = [s for s in truth["spasms"] if s["cluster"] == c["id"]]
        assert len(members) == c["count"] >= 3
        assert members[0]["t"] == c["start"] and max(s["end"] for s in members) == c["end"]
        assert c["third_end"] == members[2]["end"]
        assert c["subtle"] == all(s["kind"] == "subtle" for s in members)
        gaps = np.diff([s["t"] for s in members])
        assert np.all(gaps >= 3.0) and np.all(gaps <= 30.0)
        before = [t for t in onsets if t <= c["start"]]
        expected = round(c["start"] - before[-1], 3) if before else None
        assert c["post_wake_s"] == pytest.approx(expected, abs=0.002) if before else c["post_wake_s"] is None
    for s in truth["spasms"]:
        assert SPASM_KEYS <= set(s)
        assert 0.5 <= s["duration_s"] <= 3.0 + 1e-6
        assert s["end"] == pytest.approx(s["t"] + s["duration_s"], abs=0.002)
        assert s["kind"] in {"flexor", "extensor", "mixed", "asymmetric", "subtle"}


@pytest.mark.parametrize("kind", ["day", "morning", "night", "confounders", "subtle", "clusters"])
def test_states_cover_the_file_and_wake_onsets_are_sleep_to_wake(kind: str) -> None:
    truth = Simulation(Scenario(kind=kind, seed=5)).truth
    states = truth["states"]
    assert states[0]["start"] == 0.0 and states[-1]["end"] == truth["duration_s"]
    for a, b in zip(states, states[1:]):
        assert a["end"] == b["start"] and a["state"] != b["state"]
    expected = [b["start"] for a, b in zip(states, states[1:]) if a["state"] == "sleep" and b["state"] == "wake"]
    assert truth["wake_onsets"] == expected
    assert truth["not_worn"] == [{"start": s["start"], "end": s["end"]} for s in states if s["state"] == "not_worn"]
    for c in truth["confounders"]:
        assert 0.0 <= c["start"] < c["end"] <= truth["duration_s"]


def test_day_has_naps_feeds_band_off_and_post_wake_clusters() -> None:
    truth = Simulation(Scenario(kind="day", seed=3)).truth
    assert len(truth["wake_onsets"]) >= 3
    assert truth["not_worn"]
    kinds = {c["kind"] for c in truth["confounders"]}
    assert {"feeding", "sleep_twitch", "patting"} <= kinds
    assert any(s["cluster"] is None for s in truth["spasms"])  # isolated spasms
    post_wake = [c["post_wake_s"] for c in truth["clusters"]]
    assert sum(p is not None and p < 900.0 for p in post_wake) >= 1


def test_confounder_tour_has_many_kinds_and_no_spasms() -> None:
    truth = Simulation(Scenario(kind="confounders", seed=2)).truth
    assert truth["spasms"] == [] and truth["clusters"] == []
    kinds = {c["kind"] for c in truth["confounders"]}
    assert len(kinds) >= 12
    assert {"startle", "hiccups", "patting", "car"} <= kinds


def test_subtle_scenario_has_small_subtle_spasms() -> None:
    truth = Simulation(Scenario(kind="subtle", seed=4)).truth
    assert truth["clusters"] and all(c["subtle"] for c in truth["clusters"])
    assert all(s["kind"] == "subtle" and s["amplitude_deg"] < 8.0 for s in truth["spasms"])


def test_amplitude_scale_scales_spasms() -> None:
    small = Simulation(Scenario(kind="morning", seed=6, subtle_fraction=0.0)).truth["spasms"]
    big = Simulation(Scenario(kind="morning", seed=6, subtle_fraction=0.0, spasm_amplitude_scale=2.0)).truth["spasms"]
    assert small and len(small) == len(big)
    for s, b in zip(small, big):
        assert b["amplitude_deg"] == pytest.approx(2.0 * s["amplitude_deg"], abs=0.02)


def test_bad_scenario_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        Scenario(kind="picnic")
    with pytest.raises(ConfigError):
        Scenario(rate_hz=0.0)
    with pytest.raises(ConfigError):
        Scenario(cluster_size=(2, 5))


# --- physics --------------------------------------------------------------------


def test_band_on_table_reads_exactly_one_g_and_no_rotation() -> None:
    r = rec(kind="confounders", duration_s=3600.0, rate_hz=50.0, seed=2, noise_scale=0.0)
    assert r.truth["not_worn"] and r.gyro is not None
    for nw in r.truth["not_worn"]:
        sel = (r.t > nw["start"] + 2.0) & (r.t < nw["end"] - 2.0)
        assert np.allclose(np.linalg.norm(r.acc[sel], axis=1), 1.0, atol=1e-9)
        assert np.allclose(r.acc[sel], r.acc[sel][0], atol=1e-9)  # fixed orientation
        assert np.abs(r.gyro[sel]).max() < 1e-6


def test_quiet_sleep_is_about_one_g() -> None:
    r = clean_morning(11)
    asleep = r.t < r.truth["states"][0]["end"] - 5.0
    busy = np.zeros_like(asleep)
    for c in r.truth["confounders"]:
        busy |= (r.t > c["start"] - 1.0) & (r.t < c["end"] + 1.0)
    deviation = np.abs(np.linalg.norm(r.acc[asleep & ~busy], axis=1) - 1.0)
    # Breathing (a few mg, more in sighs) is all that moves the chest here.
    assert np.percentile(deviation, 99) < 0.04 and deviation.max() < 0.1


def calm_spasms(r: Recording) -> list[dict[str, float]]:
    """Spasms with no labelled confounder (rocking, crying...) around them."""
    busy = [(c["start"] - 3.0, c["end"] + 1.0) for c in r.truth["confounders"]]
    return [s for s in r.truth["spasms"] if all(s["end"] + 1.0 <= a or s["t"] - 3.0 >= b for a, b in busy)]


def test_gyro_integral_matches_accelerometer_tilt_during_spasms() -> None:
    checked = 0
    for seed in (11, 13, 16):
        checked += check_gyro_against_tilt(clean_morning(seed))
    assert checked >= 3


def check_gyro_against_tilt(r: Recording) -> int:
    """Integrate the gyro through each calm spasm; compare with the accelerometer's tilt."""
    assert r.gyro is not None
    dt = 1.0 / r.rate_hz
    checked = 0
    for s in calm_spasms(r):
        a, e = int(round((s["t"] - 0.3) / dt)), int(s["end"] / dt)
        g0 = unit(r.acc[a - 10 : a].mean(axis=0))
        steps = np.radians(0.5 * (r.gyro[a : e - 1] + r.gyro[a + 1 : e])) * dt
        q = np.empty((e - a, 4))
        q[0] = rot.IDENTITY
        for k, step in enumerate(steps, start=1):
            q[k] = rot.multiply(q[k - 1], rot.from_rotvec(step))
        predicted = rot.rotate_inv(q, g0)
        # Compare in the tonic phase, averaged, where linear acceleration is small.
        m0, m1 = (int((f * s["duration_s"] + 0.3) / dt) for f in (0.35, 0.65))
        pred, meas = unit(predicted[m0:m1].mean(axis=0)), unit(r.acc[a + m0 : a + m1].mean(axis=0))
        tilt = np.degrees(np.arccos(np.clip(meas @ g0, -1.0, 1.0)))
        err = np.degrees(np.arccos(np.clip(pred @ meas, -1.0, 1.0)))
        if tilt > 5.0:
            checked += 1
            assert err < max(3.0, 0.35 * tilt), (s, tilt, err)
    return checked


def test_nothing_unlabelled_jerks_in_sleep() -> None:
    """Outside labelled movements, sleep is breathing and slow drift: no sudden turns."""
    for seed in (1, 2, 3):
        r = rec(kind="night", duration_s=1800.0, rate_hz=100.0, seed=seed, noise_scale=0.0)
        assert r.gyro is not None
        quiet = np.ones(len(r.t), dtype=bool)
        for c in r.truth["confounders"] + r.truth["spasms"]:
            start, end = c.get("start", c.get("t")), c["end"]
            quiet &= (r.t < start - 2.0) | (r.t > end + 2.0)
        angular_accel = np.linalg.norm(np.diff(r.gyro, axis=0), axis=1) * r.rate_hz
        assert quiet.mean() > 0.3
        # deg/s^2: breathing and drift stay under ~75; a 1 deg step in tilt would give ~5000.
        assert angular_accel[quiet[1:] & quiet[:-1]].max() < 120.0


def test_spasm_is_a_sudden_rotation() -> None:
    checked = 0
    for seed in (11, 13, 16):
        r = clean_morning(seed)
        assert r.gyro is not None
        rate = np.linalg.norm(r.gyro, axis=1)
        ends = [p["end"] for p in r.truth["spasms"]]
        for s in calm_spasms(r):
            if any(s["t"] - 2.0 <= e < s["t"] for e in ends) or s["amplitude_deg"] < 10.0:
                continue  # the previous spasm is still relaxing, or too small to stand out from fidgeting
            before = (r.t >= s["t"] - 1.5) & (r.t < s["t"] - 0.2)
            during = (r.t >= s["t"]) & (r.t <= s["end"])
            peak = rate[during].max()
            assert peak > 20.0 and peak > 3.0 * rate[before].max(), s
            checked += 1
    assert checked >= 4


def breathing_peak_hz(acc: FloatArray, rate_hz: float) -> float:
    x = acc - acc.mean(axis=0)
    principal = np.linalg.svd(x, full_matrices=False)[2][0]
    y = x @ principal
    power = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1.0 / rate_hz)
    band = (f > 0.2) & (f < 2.0)
    return float(f[band][np.argmax(power[band])])


def quiet_windows(r: Recording, length_s: float) -> list[FloatArray]:
    spans = [(c["start"] - 2.0, c["end"] + 2.0) for c in r.truth["confounders"]]
    out = []
    for t0 in np.arange(10.0, r.truth["duration_s"] - length_s, length_s):
        if all(t0 + length_s <= a or t0 >= b for a, b in spans):
            sel = (r.t >= t0) & (r.t < t0 + length_s)
            out.append(r.acc[sel])
    return out


def night() -> Recording:
    return rec(kind="night", duration_s=2400.0, rate_hz=25.0, seed=4)


def test_breathing_rate_is_visible_in_sleep() -> None:
    r = night()
    expected = r.truth["subject"]["breaths_per_min_quiet_sleep"] / 60.0
    windows = quiet_windows(r, 30.0)
    assert len(windows) >= 3
    peaks = [breathing_peak_hz(w, r.rate_hz) for w in windows]
    assert 0.75 < float(np.median(peaks)) / expected < 1.3
    assert min(np.std(w - w.mean(axis=0), axis=0).max() for w in windows) > 0.002


def band_rms(x: FloatArray, rate_hz: float, lo_hz: float = 0.3, hi_hz: float = 1.5) -> float:
    """RMS (largest axis) of the breathing band, via the FFT."""
    spectrum = np.fft.rfft(x - x.mean(axis=0), axis=0)
    f = np.fft.rfftfreq(len(x), 1.0 / rate_hz)
    spectrum[(f < lo_hz) | (f > hi_hz)] = 0.0
    return float(np.fft.irfft(spectrum, n=len(x), axis=0).std(axis=0).max())


def test_not_worn_has_no_breathing() -> None:
    r = rec(kind="confounders", duration_s=3600.0, rate_hz=50.0, seed=2)
    worn = np.median([band_rms(w, 25.0) for w in quiet_windows(night(), 30.0)])
    assert worn > 0.001
    for nw in r.truth["not_worn"]:
        sel = (r.t > nw["start"] + 3.0) & (r.t < nw["end"] - 3.0)
        assert band_rms(r.acc[sel], r.rate_hz) < 0.25 * worn  # white noise only


def test_mounting_rotates_the_body_frame_signals() -> None:
    aligned = rec(kind="morning", duration_s=300.0, rate_hz=50.0, seed=8, noise_scale=0.0, random_mounting=False)
    turned = rec(kind="morning", duration_s=300.0, rate_hz=50.0, seed=8, noise_scale=0.0, random_mounting=True)
    m = np.array(turned.truth["mounting"]["matrix_sensor_to_body"])
    # Sensor reading = R_m^T body reading; rows: body_row @ R_m.
    assert np.allclose(aligned.acc @ m, turned.acc, atol=1e-5)
    assert aligned.gyro is not None and turned.gyro is not None
    assert np.allclose(aligned.gyro @ m, turned.gyro, atol=1e-3)
    assert aligned.acc[0, 2] > 0.9  # asleep supine: chest (z) up


def test_band_sits_differently_after_each_band_off() -> None:
    kw: dict[str, object] = {"kind": "confounders", "duration_s": 3600.0, "rate_hz": 25.0, "seed": 2, "noise_scale": 0.0}
    aligned, turned = rec(**kw, random_mounting=False), rec(**kw, random_mounting=True)
    remounts = turned.truth["mounting"]["remounts"]
    assert len(remounts) == len(turned.truth["not_worn"]) >= 1
    worn_from, matrix = 0.0, np.array(turned.truth["mounting"]["matrix_sensor_to_body"])
    for nw, again in zip(turned.truth["not_worn"] + [{"start": np.inf, "end": np.inf}], remounts + [None]):
        worn = (turned.t > worn_from + 2.0) & (turned.t < nw["start"] - 2.0)
        assert np.allclose(aligned.acc[worn] @ matrix, turned.acc[worn], atol=1e-5)
        if again is not None:
            assert nw["start"] < again["t"] < nw["end"]
            worn_from, matrix = nw["end"], np.array(again["matrix_sensor_to_body"])


@pytest.mark.parametrize("rate_hz", [12.5, 26.0, 52.0, 104.0, 200.0])
def test_any_rate(rate_hz: float) -> None:
    r = simulate(Scenario(kind="morning", duration_s=240.0, rate_hz=rate_hz, seed=3, clusters=0))
    assert len(r.t) == int(240.0 * rate_hz)
    assert np.allclose(np.diff(r.t), 1.0 / rate_hz)
    assert np.all(np.isfinite(r.acc)) and 0.8 < np.median(np.linalg.norm(r.acc, axis=1)) < 1.2
    assert r.truth["rate_hz"] == rate_hz


# --- files and CLI ----------------------------------------------------------------


def test_format_rows_is_fixed_point() -> None:
    x = np.array([-1.5, 0.0, 12.345678, -0.000004, 123.0, -0.00001])
    assert format_rows([(x, 5)]) == b"-1.50000\n0.00000\n12.34568\n0.00000\n123.00000\n-0.00001\n"
    two = format_rows([(np.array([0.01, 86399.99]), 6), (np.array([-2.0, 3.0]), 4)])
    assert two == b"0.010000,-2.0000\n86399.990000,3.0000\n"


def test_csv_and_truth_round_trip(tmp_path: Path) -> None:
    r = rec(kind="subtle", duration_s=300.0, rate_hz=50.0, seed=9)
    path = tmp_path / "sub" / "rec.csv"
    size = write_recording(r, path)
    assert size == path.stat().st_size
    lines = path.read_text().splitlines()
    assert lines[0] == "t,ax,ay,az,gx,gy,gz"
    assert len(lines) == 1 + len(r.t)
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    assert r.gyro is not None
    assert np.allclose(data[:, 0], r.t, atol=6e-7)
    assert np.allclose(data[:, 1:4], r.acc, atol=6e-6)
    assert np.allclose(data[:, 4:7], r.gyro, atol=6e-5)
    assert truth_path(path) == tmp_path / "sub" / "rec.truth.json"
    assert json.loads(truth_path(path).read_text()) == json.loads(json.dumps(r.truth))


def test_no_gyro_mode(tmp_path: Path) -> None:
    r = simulate(Scenario(kind="morning", duration_s=120.0, rate_hz=50.0, seed=2, has_gyro=False))
    assert r.gyro is None and r.truth["has_gyro"] is False
    path = tmp_path / "acc.csv"
    write_recording(r, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "t,ax,ay,az"
    assert all(line.count(",") == 3 for line in lines[1:])


def test_cli_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.csv"
    code = main(["simulate", str(out), "--kind", "subtle", "--duration-s", "400", "--rate", "50", "--seed", "3", "--no-gyro"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "spasms:" in printed and "clusters:" in printed
    # Found by the researcher audit: 'wrote out/m.csv (...) and m.truth.json' named the truth without its folder.
    assert printed.startswith(f"wrote {out} (") and f"MB) and {tmp_path / 'cli.truth.json'} in " in printed
    truth = json.loads((tmp_path / "cli.truth.json").read_text())
    assert truth["has_gyro"] is False and truth["rate_hz"] == 50.0 and truth["seed"] == 3
    assert out.read_text().splitlines()[0] == "t,ax,ay,az"


def test_cli_simulate_writes_over_a_simulation_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the docs run: 'simulate rec.csv' replaced a recording and the truth labelled for it
    with 'spasmwatch truth' (rec.truth.json) without a word."""
    args = ["--duration-s", "120", "--rate", "50", "--no-gyro"]
    sim = tmp_path / "sim.csv"
    assert main(["simulate", str(sim), *args, "--seed", "1"]) == 0
    assert main(["simulate", str(sim), *args, "--seed", "2"]) == 0  # a new seed, the same name
    assert json.loads((tmp_path / "sim.truth.json").read_text())["seed"] == 2
    rec, labels = tmp_path / "rec.csv", tmp_path / "rec.truth.json"
    rec.write_text("t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n")
    labels.write_text('{"source": "labels", "duration_s": 0.04, "spasms": []}\n')
    before = (rec.read_bytes(), labels.read_bytes())
    capsys.readouterr()
    assert main(["simulate", str(rec), *args]) == 2
    assert f"{labels}: is not a simulation's ground truth" in capsys.readouterr().err
    labels.unlink()
    assert main(["simulate", str(rec), *args]) == 2
    assert f"{rec}: exists, with no simulation's ground truth beside it" in capsys.readouterr().err
    assert rec.read_bytes() == before[0]
    labels.write_text("{not json")
    assert main(["simulate", str(tmp_path / "rec.csv"), *args]) == 2 and rec.read_bytes() == before[0]


def test_cli_rejects_bad_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(tmp_path / "x.csv"), "--rate", "0"]) == 2
    assert "rate_hz" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--rate", "0"], "--rate"),
        (["--duration-s", "5"], "--hours / --duration-s"),
        (["--hours", "400"], "--hours / --duration-s"),
        (["--clusters", "-1"], "--clusters"),
        (["--isolated", "-2"], "--isolated"),
        (["--cluster-size", "5", "2"], "--cluster-size"),
        (["--subtle-fraction", "2"], "--subtle-fraction"),
        (["--amplitude-scale", "0"], "--amplitude-scale"),
        (["--noise-scale", "-1"], "--noise-scale"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_a_bad_value_is_named_by_its_option(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], option: str) -> None:
    """Found by the input audit: '--amplitude-scale 0' said 'scenario: spasm_amplitude_scale must
    be in (0, 5]', a name the user never typed."""
    assert main(["simulate", str(tmp_path / "x.csv"), *args]) == 2
    assert capsys.readouterr().err.startswith(f"spasmwatch simulate: error: {option}: ")
    assert not any(tmp_path.iterdir())


def test_an_interrupted_simulation_leaves_the_earlier_one_whole(tmp_path: Path) -> None:
    """Found by the input audit: ^C 3 s into 'simulate day.csv --kind day' left a 92 MB CSV with no
    truth (or, over an earlier simulation, a shorter CSV beside the old truth): it replayed as a
    complete recording and blocked the rerun ('exists, with no simulation's ground truth')."""
    path = tmp_path / "rec.csv"
    write_recording(rec(kind="morning", duration_s=120.0, rate_hz=50.0, seed=1), path)
    before = path.read_bytes(), truth_path(path).read_bytes()
    sim = Simulation(Scenario(kind="morning", duration_s=1800.0, rate_hz=50.0, seed=2))  # 90000 samples: several chunks

    def interrupted() -> Iterator[Chunk]:
        for k, chunk in enumerate(sim.chunks()):
            if k == 1:
                raise KeyboardInterrupt  # ^C while the second chunk is made
            yield chunk

    assert sim.n_chunks > 1
    with pytest.raises(KeyboardInterrupt):
        write_stream(path, sim.truth, interrupted())
    assert (path.read_bytes(), truth_path(path).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.csv", "rec.truth.json"]

