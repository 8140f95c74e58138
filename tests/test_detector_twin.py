"""The band's streaming detector and the host's numpy twin give identical output.

The streaming code runs both on CPython and under the real ``micropython``
binary; the twin runs in whole-file and in small chunks (the chunk seams
must not change anything).
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from spasmwatch.analysis import matchtwin
from spasmwatch.analysis.twin import TwinDetector, to_units
from swcore.consts import ACC_STRONG_CONFIDENCE, STRONG_CONFIDENCE
from swcore.detector import Detector, confidence
from swcore.epoch import EpochFeatures
from swcore.frontend import Params
from swcore.matcher import Matcher
from synthetic import supine, table

Out = tuple[list[tuple[int, ...]], list[tuple[int, ...]], list[tuple[int, ...]]]


def stream(
    a: NDArray[np.int64], g: NDArray[np.int64], rate: float, gyro: bool, rebase_at: int | None = None, match_rebase_at: int | None = None
) -> Out:
    """The band's streaming detector, epochs and (with a gyro) cluster counter, as the band
    calls them (``band/app.py``); with ``rebase_at``, indexes shifted down as on the band
    (after every 64-sample batch) and reported with the shifts added back."""
    det = Detector(rate, gyro) if rebase_at is None else Detector(rate, gyro, rebase_at)
    ep = EpochFeatures(det.fe)
    mt = (Matcher(rate) if match_rebase_at is None else Matcher(rate, match_rebase_at)) if gyro else None
    fe = det.fe
    hits, epochs, matches = [], [], []
    off = 0

    def drain(n: int, now: int) -> None:
        assert mt is not None
        matches.extend((now - mt.out_age[m], mt.out_dur[m], mt.out_rate[m], mt.out_conf[m], now) for m in range(n))

    for k, row in enumerate(np.hstack([a, g]).tolist()):
        if det.step(*row):
            n = alike = 0
            if mt is not None and det.ev_confidence >= STRONG_CONFIDENCE:
                n = mt.spasm(fe.i - det.ev_onset_n, det.ev_duration_n)
                alike = int(mt.alike)
            hits.append((det.ev_onset_n + off, det.ev_duration_n, det.ev_peak_rate, det.ev_peak_angle, det.ev_confidence, det.n - 1 + off, alike))
            if n:
                drain(n, k)
        if mt is not None and mt.step(fe.dx, fe.dy, fe.dz):
            drain(mt.examine(), k)
        if ep.step():
            epochs.append((ep.index, ep.activity, ep.breath_acc, ep.breath_gyro))
        if rebase_at is not None and k % 64 == 63:
            off += det.rebase()
            assert det.n < rebase_at + 64
            if mt is not None:
                mt.rebase()
    return hits, epochs, matches


def twin(a: NDArray[np.int64], g: NDArray[np.int64], rate: float, gyro: bool, chunk: int) -> Out:
    tw = TwinDetector(rate, gyro)
    hits, epochs, matches = [], [], []
    for s in range(0, len(a), chunk):
        h, e, m = tw.feed(a[s : s + chunk], g[s : s + chunk], final=s + chunk >= len(a))
        hits += [(x.onset_n, x.duration_n, x.peak_rate, x.peak_angle, x.confidence, x.decided_n, int(x.alike)) for x in h]
        epochs += [(x.index, x.activity, x.breath_acc, x.breath_gyro) for x in e]
        matches += [(x.onset_n, x.duration_n, x.peak_rate, x.confidence, x.decided_n) for x in m]
    return hits, epochs, matches


def signal(rate: float, seed: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    onsets = (30.0, 38.3, 47.0, 55.5, 70.0, 71.5, 100.0, 140.0, 141.0, 150.0)
    _, acc, gyro = supine(rate, 170.0, onsets, amp_deg=[15, 6, 40][seed % 3], jolts=40 if rate >= 50 else 8, seed=seed,
                          noise_g=0.004 * (1 + seed % 3))
    return to_units(acc, gyro)


@pytest.mark.parametrize("rate", [50.0, 100.0, 104.0, 25.6])
@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_twin_matches_stream_on_cpython(rate: float, gyro: bool, seed: int) -> None:
    a, g = signal(rate, seed)
    if not gyro:
        g = np.zeros_like(g)
    ref = stream(a, g, rate, gyro)
    assert ref[0], "the signal must contain detected spasms for the comparison to mean anything"
    assert any(h[6] for h in ref[0]) == gyro, "alike pairs (with a gyro) must be compared too"
    for chunk in (len(a), 997, 4096):
        assert twin(a, g, rate, gyro, chunk) == ref, f"chunk={chunk}"


@pytest.mark.parametrize("gyro", [True, False])
def test_detects_clean_spasms_and_not_bumps(gyro: bool) -> None:
    onsets = (30.0, 40.0, 50.0, 60.0)
    _, acc, g = supine(100.0, 90.0, onsets, amp_deg=12)
    hits = stream(*to_units(acc, g if gyro else None), 100.0, gyro)[0]
    assert [round(h[0] / 100.0) for h in hits] == [30, 40, 50, 60]
    # Twitches and hiccups: the same size, straight up and back, nothing held
    # (at most a weak-tier event, which the host counts only next to full spasms).
    _, acc, g = supine(100.0, 90.0, (), amp_deg=12, bumps=tuple(range(10, 85, 5)), bump_s=0.3)
    hits = stream(*to_units(acc, g if gyro else None), 100.0, gyro)[0]
    assert [h for h in hits if h[4] >= STRONG_CONFIDENCE] == []


def test_rejects_held_and_unreturned_postures() -> None:
    # Held 6 s (reflux arching): too long for a tonic phase.
    _, acc, gyro = supine(100.0, 60.0, (20.0,), hold_s=6.0)
    assert stream(*to_units(acc, gyro), 100.0, True)[0] == []
    # No hold at all (a twitch): rise straight into return.
    _, acc, gyro = supine(100.0, 60.0, (20.0,), hold_s=0.0, ret_s=0.15, rise_s=0.1)
    assert stream(*to_units(acc, gyro), 100.0, True)[0] == []


def _write_samples(path: Path, a: NDArray[np.int64], g: NDArray[np.int64]) -> None:
    np.savetxt(path, np.hstack([a, g]), fmt="%d")


def _mpy_run(
    micropython: str | Sequence[str], repo_root: Path, path: Path, rate: float, gyro: bool, rebase_at: int = 0, match_rebase_at: int = 0,
    heap_locked: bool = False,
) -> Out:
    """tests/mpy/detector_stream.py under ``micropython`` (the binary, or a command line such as
    tools/mpwasm's); ``heap_locked``: each sample's steps with the heap locked."""
    env = dict(os.environ, MICROPYPATH=str(repo_root / "firmware"))
    script = repo_root / "tests" / "mpy" / "detector_stream.py"
    cmd = [micropython] if isinstance(micropython, str) else list(micropython)
    res = subprocess.run(
        [*cmd, str(script), str(path), repr(rate), "1" if gyro else "0", str(rebase_at), str(match_rebase_at), "1" if heap_locked else "0"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert res.returncode == 0, res.stderr
    out: dict[str, list[tuple[int, ...]]] = {"S": [], "E": [], "M": []}
    for line in res.stdout.splitlines():
        kind, *vals = line.split()
        out[kind].append(tuple(int(v) for v in vals))
    return out["S"], out["E"], out["M"]


@pytest.mark.parametrize("rate,gyro,seed", [(100.0, True, 0), (104.0, True, 2), (52.0, False, 1)])
def test_twin_matches_stream_under_micropython(
    micropython: str, repo_root: Path, tmp_path: Path, rate: float, gyro: bool, seed: int
) -> None:
    a, g = signal(rate, seed)
    if not gyro:
        g = np.zeros_like(g)
    path = tmp_path / "samples.txt"
    _write_samples(path, a, g)
    got = _mpy_run(micropython, repo_root, path, rate, gyro)
    assert got[0], "MicroPython found no spasm: the comparison would be vacuous"
    assert bool(got[2]) == gyro, "the cluster counter's matches (with a gyro) must be compared too"
    assert any(h[6] for h in got[0]) == gyro, "and the alike pairs"
    assert got == twin(a, g, rate, gyro, 3001)


def test_epochs_tell_table_from_sleeping_baby() -> None:
    from swcore.epoch import off_body

    p = Params(100.0, True)
    _, acc, gyro = table(100.0, 120.0)
    epochs = twin(*to_units(acc, gyro), 100.0, True, 5000)[1]
    assert epochs and all(off_body(e[1], e[2], e[3], p) for e in epochs[1:])
    _, acc, gyro = supine(100.0, 120.0, (), breath_deg=0.5)
    epochs = twin(*to_units(acc, gyro), 100.0, True, 5000)[1]
    assert epochs and not any(off_body(e[1], e[2], e[3], p) for e in epochs[1:])


@pytest.mark.parametrize("noise_g", [0.003, 0.006])
def test_accel_only_epochs_see_through_sensor_noise(noise_g: float) -> None:
    """Without a gyro, white accelerometer noise of 6 mg (near the noisiest parts the second simulator
    models) must read neither as movement nor as breathing. With the gyro's fixed 5 deg/s bar it
    read as movement: 16-100% of altsim's sleep epochs active, wakes 10 of 22, and a band on a
    table never found off the body."""
    from spasmwatch.analysis.consts import EPOCH_ACTIVE_PCT
    from swcore.epoch import off_body

    p = Params(100.0, False)
    _, acc, _ = table(100.0, 120.0, noise_g=noise_g)
    epochs = twin(*to_units(acc, None), 100.0, False, 5000)[1]
    assert epochs and all(off_body(e[1], e[2], e[3], p) for e in epochs[1:]), epochs
    _, acc, _ = supine(100.0, 120.0, (), breath_deg=1.0, noise_g=noise_g)
    epochs = twin(*to_units(acc, None), 100.0, False, 5000)[1]
    assert epochs and not any(off_body(e[1], e[2], e[3], p) for e in epochs[1:]), epochs
    assert all(e[1] * 100 < EPOCH_ACTIVE_PCT * p.epoch for e in epochs), "a still, breathing baby read as active"


def test_accel_only_bar_follows_the_rest_level() -> None:
    """On a quiet accelerometer the bar stays at 5 deg/s, so a slow sway peaking at 8 deg/s is
    movement; after noisy rest it rises (a fixed 10 deg/s bar would miss the sway, a fixed 5 deg/s
    one reads the noise as movement). Identical under the stream and the twin, across chunks."""
    from spasmwatch.analysis.consts import EPOCH_ACTIVE_PCT

    p = Params(100.0, False)
    sway_deg = 8.0 / (2 * np.pi * 0.7)  # the synthetic breathing at 0.7 Hz, peaking at 8 deg/s
    for noise_g, sway_active in ((0.001, True), (0.006, False)):
        _, rest, _ = supine(100.0, 180.0, (), breath_deg=0.3, noise_g=noise_g, seed=1)
        _, sway, _ = supine(100.0, 120.0, (), breath_deg=sway_deg, noise_g=noise_g, seed=2)
        a, g = to_units(np.vstack([rest, sway]), None)
        epochs = twin(a, g, 100.0, False, 2777)[1]
        assert (epochs == stream(a, g, 100.0, False)[1]), "stream and twin differ"
        at_rest = [e[1] for e in epochs[1:17]]
        swaying = [e[1] for e in epochs[18:]]
        assert max(at_rest) * 100 < EPOCH_ACTIVE_PCT * p.epoch, at_rest
        assert all((x * 100 >= EPOCH_ACTIVE_PCT * p.epoch) == sway_active for x in swaying), (noise_g, swaying)


def test_a_band_back_on_after_a_table_keeps_its_rest_level() -> None:
    """Epochs off the body do not teach the rest level: a band on a table is quieter than any
    sleeping baby, and a bar learnt there read the breathing after it as movement (60% of each
    epoch active, a false wake) until the level crept back up, for hours."""
    from spasmwatch.analysis.consts import EPOCH_ACTIVE_PCT

    p = Params(100.0, False)
    _, before, _ = supine(100.0, 300.0, (), breath_deg=2.0, noise_g=0.003, seed=1)
    _, off, _ = table(100.0, 600.0, noise_g=0.003)
    _, after, _ = supine(100.0, 600.0, (), breath_deg=2.0, noise_g=0.003, seed=2)
    a, g = to_units(np.vstack([before, off, after]), None)
    epochs = twin(a, g, 100.0, False, 4999)[1]
    assert epochs == stream(a, g, 100.0, False)[1], "stream and twin differ"
    asleep = [e[1] for e in epochs[2:30]] + [e[1] for e in epochs[92:]]
    assert max(asleep) * 100 < EPOCH_ACTIVE_PCT * p.epoch, asleep


def test_rest_level_falls_at_once_and_rises_slowly() -> None:
    from swcore.consts import ACTIVE_REST_RISE_SHIFT
    from swcore.epoch import active_bar, first_rest, next_rest

    p = Params(100.0, False)
    rest = first_rest(p)
    assert active_bar(rest, p) == p.act_max2 > p.act2
    rest = next_rest(rest, 10)
    assert rest == 10 and active_bar(rest, p) == p.act2
    up = [rest := next_rest(rest, 10**9) for _ in range(6 * 60)]  # an hour of movement
    assert up[0] == 11 and all(b == a + (a >> ACTIVE_REST_RISE_SHIFT) + 1 for a, b in zip(up, up[1:]))
    assert active_bar(up[-1], p) < p.act2 * 36 // 25, "an hour awake lifted the bar over 6 deg/s"
    assert next_rest(up[-1], 10) == 10
    g = Params(100.0, True)
    assert {active_bar(r, g) for r in (0, first_rest(g), 10**9)} == {g.act2}


@functools.cache
def busy(rate: float, gyro: bool) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """20 simulated minutes with handling, rocking, crying and spasm clusters:
    long spells above ONSET_DDPS, where the onset threshold follows the
    pre-onset energy, and events refused for a busy POST_MS after them."""
    from spasmwatch.sim import Scenario, simulate

    rec = simulate(Scenario(kind="confounders", duration_s=1200.0, rate_hz=rate, seed=4, has_gyro=gyro))
    return to_units(rec.acc, rec.gyro if gyro else None)


@pytest.mark.parametrize("rate,gyro", [(50.0, True), (52.0, False)])
def test_twin_matches_stream_in_busy_spells(rate: float, gyro: bool) -> None:
    a, g = busy(rate, gyro)
    ref = stream(a, g, rate, gyro)
    assert len(ref[0]) >= 3
    if not gyro:  # the accel-only events under ACC_STRONG_CONFIDENCE, demoted, are compared too
        assert any(h[4] == STRONG_CONFIDENCE - 1 for h in ref[0])
    assert bool(ref[2]) == gyro  # and the cluster counter's matches
    assert twin(a, g, rate, gyro, 7919) == ref


@pytest.mark.parametrize("rate,gyro", [(50.0, True), (52.0, False)])
def test_twin_matches_stream_in_busy_spells_under_micropython(
    micropython: str, repo_root: Path, tmp_path: Path, rate: float, gyro: bool
) -> None:
    a, g = busy(rate, gyro)
    path = tmp_path / "samples.txt"
    _write_samples(path, a, g)
    got = _mpy_run(micropython, repo_root, path, rate, gyro)
    assert len(got[0]) >= 3
    assert got == twin(a, g, rate, gyro, 7919)


def test_without_a_gyro_a_marginal_spasm_is_a_weak_event() -> None:
    """Confidence under ACC_STRONG_CONFIDENCE makes an accel-only event weak (49); with a gyro
    the same tilt and hold stay a full spasm, and a clear accel-only one stays full."""
    acc, gyr = Params(100.0, False), Params(100.0, True)
    assert acc.strong_min == ACC_STRONG_CONFIDENCE > STRONG_CONFIDENCE == gyr.strong_min
    for p in (acc, gyr):  # twice the minimum tilt (squared) and hold: 50 + 8 + 8
        marginal = confidence(2 * p.dev_min2, 2 * p.hold_min_n, True, p)
        clear = confidence(9 * p.dev_min2, 4 * p.hold_min_n, True, p)
        assert clear == 85
        assert marginal == (STRONG_CONFIDENCE - 1 if p is acc else 66)
    assert confidence(acc.dev_min2 // 2, acc.hold_min_n, False, acc) == 25  # the weak tier as before


@pytest.mark.parametrize("rate,gyro", [(50.0, True), (52.0, False)])
def test_index_rebase_changes_no_event(rate: float, gyro: bool) -> None:
    """The band shifts its sample indexes down past INDEX_REBASE_AT (small ints on a 32-bit
    board); forced every ~2,000 samples here (the cluster counter's decimated ones every
    ~3,800), through events and busy spells, nothing changes."""
    a, g = busy(rate, gyro)
    assert stream(a, g, rate, gyro, rebase_at=4000, match_rebase_at=9000) == twin(a, g, rate, gyro, 7919)
    assert Detector(rate, gyro, 4000).p.rebase_n * 20 < len(a), "too few shifts to mean anything"
    m = Matcher(rate, 9000)
    assert m.rebase_n * m.k * 5 < len(a) - 9000 * m.k, "too few counter shifts to mean anything"


def test_index_rebase_changes_no_event_under_micropython(micropython: str, repo_root: Path, tmp_path: Path) -> None:
    a, g = busy(50.0, True)
    path = tmp_path / "samples.txt"
    _write_samples(path, a, g)
    got = _mpy_run(micropython, repo_root, path, 50.0, True, rebase_at=4000, match_rebase_at=9000)
    assert len(got[0]) >= 3 and got[2]
    assert got == twin(a, g, 50.0, True, 7919)


def test_index_rebase_needs_room_for_the_rings() -> None:
    with pytest.raises(ValueError, match="rebase_at"):
        Detector(100.0, True, 500)
    with pytest.raises(ValueError, match="rebase_at"):
        Matcher(100.0, 5000)


@pytest.mark.parametrize("rate", [50.0, 104.0])
def test_twin_matches_stream_with_movement_in_the_first_second(rate: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bump at 0.1 s: the cluster counter reads energies from before the recording's first row
    (the band's empty ring, zeros), which the twin pads (matchtwin._from); no other test got there."""
    padded = []

    def spied(a: NDArray[np.int64], lo: int, n: int) -> NDArray[np.int64]:
        padded.append(lo < 0)
        return unspied(a, lo, n)

    unspied = matchtwin._from
    monkeypatch.setattr(matchtwin, "_from", spied)
    _, acc, gyro = supine(rate, 40.0, (1.0, 8.0, 15.0), bumps=(0.1,), seed=1)
    a, g = to_units(acc, gyro)
    ref = stream(a, g, rate, True)
    assert ref[0], "the signal must contain detected spasms for the comparison to mean anything"
    for chunk in (len(a), 997):
        assert twin(a, g, rate, True, chunk) == ref, f"chunk={chunk}"
    assert any(padded), "the twin must read before the first row for this test to mean anything"


def test_the_matcher_twins_rows_before_the_first_are_zeros() -> None:
    """matchtwin._from, for the decimated rate rows (n, 3) and their energies (n,)."""
    rows = np.arange(1, 13, dtype=np.int64).reshape(4, 3)
    assert matchtwin._from(rows, 1, 2).tolist() == [[4, 5, 6], [7, 8, 9]]
    assert matchtwin._from(rows, -2, 3).tolist() == [[0, 0, 0], [0, 0, 0], [1, 2, 3]]
    assert matchtwin._from(rows, -5, 2).tolist() == [[0, 0, 0], [0, 0, 0]]
    energies = np.array([5, 6, 7], np.int64)
    assert matchtwin._from(energies, -1, 3).tolist() == [0, 5, 6]
    assert matchtwin._from(energies, -4, 2).tolist() == [0, 0]
