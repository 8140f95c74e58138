"""A band's raw recording is dated by the band's real sample rate, measured by the daemon
(docs/rawfile.md "Dating"): an IMU ~1 % off nominal put a .swraw 36 s off the wall clock after an
hour. The band here samples as firmware/sim's IMU with ``--imu-odr-error-pct P`` does (``odr_scale``:
sample k taken at k / (rate x (1 + P/100)) on the band's crystal clock, which dates its EVENTS),
its RAW records of 19 samples leave as their last sample is taken and arrive over an in-order link
with random latency; the real daemon (in-process, its clock moved to each arrival) writes the
parts, cut at Berlin noon, to disk; they are read back by the real reader, replay and truth CLIs.

Tolerance 50 ms: the fit finds the least-delayed arrivals, which are the band's clock plus the
link's least latency (5 ms here: a BLE connection event), a constant the host cannot see; the
rest is under 5 ms. 50 ms is 5 samples at 100 Hz and a video frame and a half: what a label
read off a video can tell apart at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from spasmwatch.alerts import AlertSettings
from spasmwatch.io.rawboot import open_rawparts
from spasmwatch.commands.status import band_lines
from spasmwatch.io.rawfile import DatingPoint, RawReader
from spasmwatch.store import Store
from swcore import protocol as P
from synthetic import HandClock, supine

from .test_rawdisk import DEVICE, PER_RECORD, RATE_HZ, T0, _daemon

BERLIN = ZoneInfo("Europe/Berlin")
START = T0 + 2 * 3600.0  # 2027-01-15 11:00 in Berlin: noon an hour into the stream
NOON = T0 + 3 * 3600.0
DURATION_S = 5400.0  # 1.5 h of the band's true time
CLUSTERS_S = (1800.0, 4500.0)  # a cluster of 8 before noon, one after (true s from START)
TOLERANCE_S = 0.050
LEAST_LATENCY_S = 0.005
SPEED = 4  # the real band firmware's test: its --speed and the daemon's ScaledClock rate


@dataclass
class Streamed:
    actual_hz: float
    parts: list[Path]
    n: int
    spasms_s: list[float]  # true wall times of the synthetic spasms
    status_lines: list[str]  # 'spasmwatch status' of the band at the stream's end
    raw_rate: dict[str, float]  # /api/status's measured rate then


def _stream(tmp: Path, pct: float, seed: int = 3) -> Streamed:
    """The band's 1.5 h streamed through the daemon; latency 5 ms + exponential (mean 40 ms), 2 % of
    records held 0.3-3 s (radio retries; the link is in order, so the next ones wait behind them)."""
    actual = RATE_HZ * (1 + pct / 100)
    spasms = tuple(c + 8.0 * i for c in CLUSTERS_S for i in range(8))
    _, acc, gyro = supine(rate_hz=actual, duration_s=DURATION_S, spasms=spasms, seed=seed)
    counts = np.column_stack([np.rint(acc * 1000), np.rint(gyro * 10)]).astype(int)
    rng = np.random.default_rng(seed)
    clock, raw = HandClock(START), tmp / "raw"
    with Store(tmp / "db.sqlite") as store:
        d = _daemon(store, clock, raw, raw_reserve_mb=0, alert_settings=AlertSettings(tz=BERLIN))
        arrive = START
        for i in range(0, len(counts) - PER_RECORD + 1, PER_RECORD):
            sent = START + (i + PER_RECORD) / actual  # its last sample taken (band crystal = true time)
            late = rng.uniform(0.3, 3.0) if rng.random() < 0.02 else rng.exponential(0.040)
            arrive = max(arrive, sent + LEAST_LATENCY_S + late)
            clock.t = arrive
            d.on_record(DEVICE, P.decode(P.encode_raw(i, counts[i : i + PER_RECORD].tolist())), clock.t)
        (band,) = d.status()["bands"]
        for b in d.bands:
            assert d._close_raw(b) is None
    parts = sorted(raw.glob(f"{DEVICE}-boot0-*.swraw"))
    return Streamed(actual, parts, len(counts) // PER_RECORD * PER_RECORD, [START + s for s in spasms], band_lines(band), band["raw_rate"])


@pytest.fixture(scope="module", params=[1.0, -1.5], ids=["odr+1%", "odr-1.5%"])
def streamed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Streamed:
    return _stream(tmp_path_factory.mktemp("band"), request.param)


def test_every_sample_is_dated_within_50_ms_of_when_it_was_taken(streamed: Streamed) -> None:
    rec = open_rawparts(streamed.parts)
    idx = np.arange(0, streamed.n, 997)
    nominal = rec.header.rate_hz
    errors = [rec.wall_at((k - rec.header.index_origin) / nominal) - (START + k / streamed.actual_hz) for k in idx]
    worst = max(abs(e) for e in errors)
    print(f"dating error over {DURATION_S / 3600:g} h at {streamed.actual_hz:.2f} Hz: max {worst * 1000:.1f} ms, "
          f"median {np.median(np.abs(errors)) * 1000:.1f} ms")  # fmt: skip
    assert worst < TOLERANCE_S, worst
    old = abs(rec.header.wall_at(streamed.n) - (START + streamed.n / streamed.actual_hz))  # the nominal dating
    assert old > 50.0, old  # 54 s (+1 %) or 82 s (-1.5 %) after 1.5 h


def test_the_status_shows_the_imus_measured_rate(streamed: Streamed) -> None:
    """An engineer bringing up a board sees its IMU's real rate against the one it was set to."""
    assert streamed.raw_rate["nominal_hz"] == RATE_HZ
    assert abs(streamed.raw_rate["measured_hz"] / streamed.actual_hz - 1) < 1e-5, streamed.raw_rate  # 10 ppm
    pct = (streamed.actual_hz / RATE_HZ - 1) * 100
    line = f"  IMU measured at {streamed.raw_rate['measured_hz']:.3f} Hz from the raw stream ({pct:+.2f} % of its nominal {RATE_HZ:g} Hz"
    assert any(x.startswith(line) for x in streamed.status_lines), streamed.status_lines


def test_a_spasm_onset_in_the_raw_is_dated_as_the_live_event(streamed: Streamed) -> None:
    """Replayed, the parts find the spasms; each onset's wall time by the .swraw is within 50 ms of
    the time the band's crystal clock gives the same sample (the live EVENT's)."""
    rec = open_rawparts(streamed.parts)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-m", "spasmwatch", "replay", *map(str, streamed.parts), "--jsonl"],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    onsets = [x["t"] for x in map(json.loads, out.stdout.splitlines()) if x["type"] == "spasm" and not x.get("matched")]
    assert len(onsets) >= 14, onsets  # of 16
    for t in onsets:
        index = rec.header.index_origin + t * rec.header.rate_hz
        event_wall = START + index / streamed.actual_hz  # the band's crystal dating of that sample
        assert abs(rec.wall_at(t) - event_wall) < TOLERANCE_S, (t, rec.wall_at(t) - event_wall)
        assert min(abs(event_wall - s) for s in streamed.spasms_s) < 0.5  # a real onset, not a stray
        assert abs(rec.header.wall_at(round(index)) - event_wall) > 10  # the nominal dating: 18-70 s off


def test_the_noon_cut_is_at_the_sample_taken_at_noon(streamed: Streamed) -> None:
    assert [p.name for p in streamed.parts] == [f"{DEVICE}-boot0-000.swraw", f"{DEVICE}-boot0-001.swraw"]
    second = RawReader(streamed.parts[1])
    origin = second.header.index_origin
    taken = START + origin / streamed.actual_hz
    assert NOON <= taken + TOLERANCE_S and taken - 1 / streamed.actual_hz < NOON + TOLERANCE_S, taken - NOON
    dating = second.dating()
    assert dating.points and dating.points[0].index == origin  # the part dates its own start
    assert abs(dating.wall_at(origin) - NOON) < TOLERANCE_S


def test_truth_wall_clock_maps_a_video_time_to_the_sample_taken_then(streamed: Streamed, tmp_path: Path) -> None:
    """A spasm seen on the video at a Berlin time of day after noon: labelled on part 001 with
    --wall-clock, its t is the sample the band took then (old: off by the drift since the boot)."""
    import datetime as dt

    part = streamed.parts[1]
    seen = streamed.spasms_s[8]  # the second cluster's first spasm, 25 min after noon
    label = dt.datetime.fromtimestamp(seen, BERLIN).strftime("%H:%M:%S.%f")[:-3]
    events = tmp_path / "events.tsv"
    events.write_text(f"onset\tduration\ttrial_type\n{label}\t1.0\tspasm\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-m", "spasmwatch", "truth", str(part), str(events), "--wall-clock",
                          "--tz", "Europe/Berlin", "-o", str(tmp_path / "t.json")],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    (spasm,) = json.loads((tmp_path / "t.json").read_text())["spasms"]
    h = RawReader(part).header
    index = h.index_origin + spasm["t"] * h.rate_hz
    assert abs(START + index / streamed.actual_hz - seen) < TOLERANCE_S, START + index / streamed.actual_hz - seen


def test_the_real_band_firmware_with_a_fast_imu_dates_raw_as_its_events(tmp_path: Path) -> None:
    """firmware/sim/run.py under micropython with --imu-odr-error-pct 1, streaming raw to the real
    daemon over the simulated radio (ScaledClock at the band's speed, tests/daemon/conftest.py):
    each spasm replayed from the .swraw is dated, by its dating records, at the live EVENT's wall
    time (the firmware dates events from its crystal clock) within a sample period (20 ms), with
    no drift across the cluster (10 ms, and the .swraw's dating records' own bend there: with busy
    loops -4.5 to +3.5 ms apart on 8 ms of it). The EVENT's time is taken less the simulated band clock's lag at
    its sync, which the band reports (a real band's crystal runs on; this one steps once a 200 ms
    batch, and on a loaded machine stood 72-104 ms behind its pace at the connect's sync: 18-26 ms
    real x speed 4, and the test failed at its old 50 ms). Measured against the simulation's truth
    (docs/rawfile.md "Dating"): the .swraw +4 to +10 ms (the link's least latency, 1-2 ms real x
    speed 4), the sync's stamp -1 to +3 ms from the band's reading (within half its round trip,
    1-5 ms, and a real ms of rounding: the product's own bound, asserted), and a batch's read dates
    the sample after it, taken up to a period before (4-5 ms here): -4 to +5 ms apart, idle or
    with busy loops. It was -63 to -106 ms: the simulated radio held the TIME_SYNC's answer for the
    host's delayed ACK (Nagle, 40 ms real: the stamp 82 ms late, within its 88 ms half round trip,
    so the bound is not widened by that), and the firmware dated onsets back at the nominal period
    (alone: +26 ms, which the 50 ms this test allowed passed). The header's nominal dating is 1 %
    of the time since the boot's first record off: 1.6-2.1 s."""
    import asyncio

    from spasmwatch.alerts import NoticeKind
    from spasmwatch.commands.replay import records
    from synthetic import write_csv

    from .conftest import SyncError, placed_by, rig

    spasms = tuple(160.0 + 8.0 * i for i in range(8))
    t, acc, gyro = supine(rate_hz=50.0, duration_s=260.0, spasms=spasms, seed=4)
    csv = write_csv(tmp_path / "rec.csv", t, acc, gyro)
    syncs: dict[int, SyncError] = {}

    async def main() -> None:
        async with rig(tmp_path, csv, speed=SPEED, raw=True, band_args=("--imu-odr-error-pct", "1", "--paced")) as r:
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 200, "the alarm")
            st = lambda: r.store.latest_status("band0000")  # noqa: E731
            await r.wait_for(lambda: (s := st()) is not None and (s.uptime_s or 0) >= 250, 120, "the recording to be played")
            syncs.update(r.sync_errors())

    asyncio.run(main())
    raw = tmp_path / "raw" / "band0000-boot1-000.swraw"
    rec = open_rawparts([raw])
    assert rec.dating.points, "no dating record written"
    print(f"measured {rec.dating.rate_hz():.3f} Hz for a nominal {rec.rate_hz:g} Hz; syncs {list(syncs.values())}")
    # The daemon's stamp lies within its own round trip of the band's reading (the band reports
    # real ms: one of them, x the speed, is the rounding).
    assert all(abs(s.stamp_s) <= s.half_rtt_s + SPEED / 1000 for s in syncs.values()), syncs
    with Store(tmp_path / "spasmwatch.db") as store:
        live = [e for e in store.events("band0000") if e.wall_t is not None and not e.flags & P.EF_MATCHED]
    events = [e.wall_t - placed_by(syncs, e.onset_ms).lag_s for e in live if e.wall_t is not None]
    found = [x["t"] for x in records(str(raw)) if x["type"] == "spasm" and not x.get("matched")]
    assert len(found) >= len(spasms) - 1 and len(events) >= len(spasms) - 1, (found, events)
    assert abs(rec.dating.rate_hz() / 50.5 - 1) < 1e-4, rec.dating.rate_hz()  # the IMU's real rate
    errs = [_nearest(rec.wall_at(t), events) for t in found]
    bend = _bend(rec.dating.points, *(rec.header.index_origin + t * rec.rate_hz for t in (min(found), max(found))))
    old = [_nearest(rec.header.wall_at(round(t * rec.rate_hz)), events) for t in found]
    print(f"raw onset - live event: {min(errs) * 1000:.1f} to {max(errs) * 1000:.1f} ms "
          f"(the header's nominal dating: {min(old):.2f} to {max(old):.2f} s); "
          f"the dating records' bend over the cluster {bend * 1000:.1f} ms")  # fmt: skip
    # The raw's dating is late by the link's least latency (4-10 ms), the event by its sync's stamp
    # (a few ms: the quickest of its exchanges) and the batch's phase (up to a period; 4-5 ms on
    # this recording): within a sample period. Onsets counted back at the nominal period (the
    # firmware's old bug) are 26 ms late, the Nagle-held sync answer 81 ms.
    period = 1 / rec.rate_hz
    assert max(abs(e) for e in errs) < period, errs
    # No drift across the cluster: within 10 ms (the batch's phase moves between onsets), and the
    # .swraw's dating records' own bend there (each minute's fit finds its least latency anew,
    # 1-2 ms real x the speed, and more on a loaded machine). A rate off by 0.02 % bends nothing
    # and drifts 11 ms over the cluster's 56 s.
    assert max(errs) - min(errs) < 0.010 + bend, (errs, rec.dating.points)
    assert min(abs(e) for e in old) > 1.0 and max(old) - min(old) > 0.4, old  # 1 % of 56 s


def _bend(points: Sequence[DatingPoint], first: float, last: float) -> float:
    """How far (s) the dating records that date samples ``first`` to ``last`` (the last at or
    before ``first`` to the first at or after ``last``) stray from the one line through them, peak
    to peak."""
    lo = max((i for i, p in enumerate(points) if p.index <= first), default=0)
    hi = min((i for i, p in enumerate(points) if p.index >= last), default=len(points) - 1)
    points = points[lo : hi + 1]
    if len(points) < 3:
        return 0.0  # two records date it along one line
    index = np.array([p.index for p in points], dtype=float)
    wall = np.array([p.wall_s for p in points])
    line = np.polyval(np.polyfit(index, wall - wall[0], 1), index)
    off = wall - wall[0] - line
    return float(off.max() - off.min())


def _nearest(wall: float, events: list[float]) -> float:
    """``wall`` minus the nearest live event's wall time."""
    return min((wall - w for w in events), key=abs)


def test_a_restarted_daemon_goes_on_dating_the_part_it_continues(tmp_path: Path) -> None:
    """Down for 40 s 10 min into the stream: the part is continued, its earlier dating records
    kept, the samples after the restart dated by them until the new fit's first record, then by
    it; every sample stays within 50 ms (the band 1 % fast: 6 s off by the nominal dating)."""
    actual = RATE_HZ * 1.01
    rng = np.random.default_rng(5)
    rows = rng.integers(-900, 900, (PER_RECORD, 6)).tolist()
    clock, raw = HandClock(START), tmp_path / "raw"
    n = round(20 * 60 * actual) // PER_RECORD * PER_RECORD
    down = range(round(600 * actual), round(640 * actual))
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock, raw, raw_reserve_mb=0, alert_settings=AlertSettings(tz=BERLIN))
        for i in range(0, n, PER_RECORD):
            if i in down:
                continue
            if i - PER_RECORD in down and i not in down:  # back: a new daemon on the same files
                for b in d.bands:
                    assert d._close_raw(b) is None
                d = _daemon(store, clock, raw, raw_reserve_mb=0, alert_settings=AlertSettings(tz=BERLIN))
            clock.t = START + (i + PER_RECORD) / actual + LEAST_LATENCY_S + rng.exponential(0.040)
            d.on_record(DEVICE, P.decode(P.encode_raw(i, rows)), clock.t)
        (band,) = d.status()["bands"]
        for b in d.bands:
            assert d._close_raw(b) is None
    (part,) = raw.glob("*.swraw")
    r = RawReader(part)
    points = r.dating().points
    assert r.gaps()[0] == 1 and len(points) >= 15, points
    dating = r.dating()
    worst = max(abs(dating.wall_at(k) - (START + k / actual)) for k in range(0, n, 499))
    assert worst < TOLERANCE_S, worst
    assert abs(r.header.wall_at(n) - (START + n / actual)) > 5.0
