"""A band boot's raw recording is cut into parts at local noon (docs/host.md "Raw samples"): by the
samples' index and the boot's dating, named <device>-boot<N>-<part>.swraw; a restarted daemon goes
on in the latest part, a file named before parts is continued, one part replays alone with its own
wall times, and the pruning deletes the old parts of a boot that is still running. Real files on
disk, the daemon in-process, its clock moved by hand, the family's zone Europe/Berlin (T0 is
09:00 there, so noon is T0 + 3 h).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from spasmwatch.alerts import AlertSettings
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.io.rawfile import RawHeader, RawReader, RawWriter
from spasmwatch.store import Store
from swcore import protocol as P
from synthetic import HandClock, supine

from .test_rawdisk import DEVICE, PER_RECORD, RATE_HZ, T0, Band, _daemon, _replay

BERLIN = ZoneInfo("Europe/Berlin")
NOON = T0 + 3 * 3600.0  # 2027-01-15 12:00 in Berlin (11:00 UTC)
NOON_INDEX = 3 * 3600 * RATE_HZ  # sample 0 came at T0 (Band dates it so)
DAY_S = 86400.0


def _berlin(store: Store, clock: HandClock, raw_dir: Path, **kw: float) -> Daemon:
    return _daemon(store, clock, raw_dir, raw_reserve_mb=0, alert_settings=AlertSettings(tz=BERLIN), **kw)


def _to(band: Band, index: int) -> None:
    """The band's next record at sample ``index``, the clock at its time (a gap in the file before it)."""
    band.index = index
    band.clock.t = T0 + index / RATE_HZ


def _part(raw: Path, n: int) -> Path:
    return raw / f"{DEVICE}-boot0-{n:03d}.swraw"


def _stop(d: Daemon) -> None:
    for b in d.bands:
        assert d._close_raw(b) is None


def test_the_raw_file_is_cut_at_local_noon_by_its_samples(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock, raw = HandClock(T0), tmp_path / "raw"
    with Store(tmp_path / "db.sqlite") as store:
        d = _berlin(store, clock, raw)
        band = Band(d, clock)
        band.run(60)
        _to(band, NOON_INDEX - 30 * RATE_HZ - 5)  # (a record straddles noon: 3 samples before it)
        band.run(60)
        _stop(d)
    assert sorted(p.name for p in raw.iterdir()) == [_part(raw, 0).name, _part(raw, 1).name]
    first, second = RawReader(_part(raw, 0)), RawReader(_part(raw, 1))
    assert first.header == RawHeader(DEVICE, float(RATE_HZ), True, T0)  # as the one file of a boot was
    assert first.index_span() == (0, NOON_INDEX) and first.gaps() == (1, NOON_INDEX - 30 * RATE_HZ - 5 - 6004)
    assert second.header.index_origin == NOON_INDEX and second.header.wall_start_s == pytest.approx(NOON, abs=1e-6)
    assert second.index_span() == (NOON_INDEX, band.index)
    assert any(r.getMessage() == f"{DEVICE}: raw recording goes on in a new part from 12:00 (the last one closed at its boundary)"
               for r in caplog.records)  # fmt: skip


def test_a_restarted_daemon_goes_on_in_the_latest_part(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Not in the first part (its samples end at noon), nor a new one; late samples of a closed part
    are skipped with a warning; the next noon opens the next part, dated as the boot's first."""
    clock, raw = HandClock(T0), tmp_path / "raw"
    with Store(tmp_path / "db.sqlite") as store:
        d = _berlin(store, clock, raw)
        band = Band(d, clock)
        band.run(10)
        _to(band, NOON_INDEX + 100)
        band.run(10)
        _stop(d)
        size0, stop = _part(raw, 0).stat().st_size, band.index

        d = _berlin(store, clock, raw)
        band = Band(d, clock)
        _to(band, stop)
        clock.t += 3.7  # arriving later than the boot's dating says: a restart must not re-date it
        band.run(10)
        late = P.decode(P.encode_raw(NOON_INDEX - 1000, [[1, 2, 3, 4, 5, 6]] * PER_RECORD))  # of the closed part
        d.on_record(DEVICE, late, clock.t)
        _to(band, NOON_INDEX + 24 * 3600 * RATE_HZ - 50)
        band.run(1)
        _stop(d)
    assert sorted(p.name for p in raw.iterdir()) == [_part(raw, n).name for n in range(3)]
    assert _part(raw, 0).stat().st_size == size0
    second, third = RawReader(_part(raw, 1)), RawReader(_part(raw, 2))
    assert second.index_span() == (NOON_INDEX + 100, NOON_INDEX + 24 * 3600 * RATE_HZ)
    assert third.header.index_origin == NOON_INDEX + 24 * 3600 * RATE_HZ
    assert third.header.wall_start_s == pytest.approx(NOON + DAY_S, abs=1e-6)  # dated from the boot's first record, not the restart's
    assert any("raw samples out of order, skipped" in r.getMessage() and "-001.swraw" in r.getMessage() for r in caplog.records)


def test_a_boot_file_named_before_parts_is_continued_then_followed_by_parts(tmp_path: Path) -> None:
    clock, raw = HandClock(T0 + 60), tmp_path / "raw"
    raw.mkdir()
    old = raw / f"{DEVICE}-boot0.swraw"  # as the daemon named a boot's one file before parts
    rows = np.random.default_rng(2).integers(-900, 900, (60 * RATE_HZ, 6))
    with RawWriter(old, RawHeader(DEVICE, float(RATE_HZ), True, T0)) as w:
        w.append(0, rows)
    with Store(tmp_path / "db.sqlite") as store:
        d = _berlin(store, clock, raw)
        band = Band(d, clock)
        _to(band, 60 * RATE_HZ)
        band.run(60)
        assert d.bands[0].raw is not None and d.bands[0].raw.path == str(old)
        _to(band, NOON_INDEX - 100)
        band.run(10)
        _stop(d)
        d = _berlin(store, clock, raw)  # restarted: on in the part, not back in the old-named file
        band = Band(d, clock)
        _to(band, NOON_INDEX + 10 * RATE_HZ)
        band.run(1)
        assert d.bands[0].raw is not None and d.bands[0].raw.path == str(_part(raw, 0))
        _stop(d)
    assert sorted(p.name for p in raw.iterdir()) == [_part(raw, 0).name, old.name]
    assert RawReader(old).index_span() == (0, NOON_INDEX) and RawReader(old).gaps()[0] == 1
    part = RawReader(_part(raw, 0))
    assert part.header.index_origin == NOON_INDEX and part.header.wall_start_s == pytest.approx(NOON, abs=1e-6)


def test_one_part_replays_alone_with_its_wall_times(tmp_path: Path) -> None:
    """A cluster 60 s after noon, streamed from 30 s before: the part from noon, replayed on its
    own, finds the spasms at their wall times (its header's wall_start_s plus replay's t)."""
    spasms = tuple(90.0 + 8.0 * i for i in range(8))  # s after the stream's start
    _, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=150.0, spasms=spasms, seed=4)
    counts = np.column_stack([np.rint(acc * 1000), np.rint(gyro * 10)]).astype(int)
    clock, raw = HandClock(T0), tmp_path / "raw"
    with Store(tmp_path / "db.sqlite") as store:
        d = _berlin(store, clock, raw)
        Band(d, clock).run(1)  # the boot's first record dates it: sample 0 at T0
        start = NOON_INDEX - 30 * RATE_HZ
        for i in range(0, len(counts) - PER_RECORD, PER_RECORD):
            clock.t = T0 + (start + i + PER_RECORD) / RATE_HZ
            d.on_record(DEVICE, P.decode(P.encode_raw(start + i, counts[i : i + PER_RECORD].tolist())), clock.t)
        _stop(d)
    part = _part(raw, 1)
    wall0 = RawReader(part).header.wall_start_s
    out = _replay(part)
    assert out.returncode == 0, out.stderr
    found = [wall0 + x["t"] for x in map(json.loads, out.stdout.splitlines()) if x["type"] == "spasm" and not x.get("matched")]
    truth = [NOON - 30 + s for s in spasms]
    assert len(found) >= len(spasms) - 1, (found, truth)  # (all 8 when written)
    assert all(min(abs(f - t) for t in truth) < 0.5 for f in found), (found, truth)


def test_the_old_parts_of_a_running_boot_are_pruned_not_its_open_one(tmp_path: Path) -> None:
    clock, raw = HandClock(T0 - 40 * DAY_S), tmp_path / "raw"
    with Store(tmp_path / "db.sqlite") as store:
        d = _berlin(store, clock, raw, raw_keep_days=30)
        band = Band(d, clock)
        band.run(60)  # 40 days ago
        band.index += round(40 * DAY_S * RATE_HZ)  # the same boot, today
        clock.t += 40 * DAY_S
        band.run(60)
        old, open_ = _part(raw, 0), _part(raw, 1)
        assert str(open_) in d.raw_in_use and str(old) not in d.raw_in_use
        end = T0 - 40 * DAY_S + 60
        os.utime(old, (end, end))  # its last change when its last sample came
        os.utime(open_, (end, end))  # even dated as old, the open part stays
        assert d.raw_prune.run() == [str(old)]
        assert not old.exists() and open_.exists()
        _stop(d)


def test_a_part_across_a_daylight_saving_change_runs_noon_to_noon() -> None:
    """23 h across the spring change, 25 h across the autumn one: noon stays noon on the wall."""
    from spasmwatch.daemon.rawparts import boundaries

    spring = boundaries(dt.datetime(2027, 3, 28, 1, tzinfo=dt.UTC).timestamp(), BERLIN)  # an hour before the change
    assert [dt.datetime.fromtimestamp(t, BERLIN).isoformat() for t in spring] == ["2027-03-27T12:00:00+01:00", "2027-03-28T12:00:00+02:00"]
    assert spring[1] - spring[0] == 23 * 3600
    autumn = boundaries(dt.datetime(2027, 10, 31, 0, tzinfo=dt.UTC).timestamp(), BERLIN)
    assert [dt.datetime.fromtimestamp(t, BERLIN).isoformat() for t in autumn] == ["2027-10-30T12:00:00+02:00", "2027-10-31T12:00:00+01:00"]
    assert autumn[1] - autumn[0] == 25 * 3600
    assert boundaries(NOON, BERLIN) == (NOON, NOON + DAY_S)  # a sample at noon opens the new part
