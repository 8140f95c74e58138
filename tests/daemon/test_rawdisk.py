"""Raw recording never costs the events (docs/host.md "Raw samples"): a raw file that cannot be
written pauses raw for its band, not its session; raw pauses while the disk is under the reserve
kept for the store, and resumes above it; the file keeps the pause as a gap that replay fills.

The full disk is the kernel's own: the boot's raw file is a symlink to /dev/full (every write
ENOSPC). The reserve is read against the tmp file system's real free space (statvfs).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spasmwatch.alerts import NoticeKind
from spasmwatch.commands.status import band_lines
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import BandInfo, State
from spasmwatch.io.rawfile import RawReader
from spasmwatch.store import KnownStores, Store
from swcore import protocol as P
from synthetic import HandClock, spasm_record, unmount

from .conftest import SPASMS_S, rig

DEVICE = "raw00001"
T0 = 1_800_000_000.0
RATE_HZ = 100
PER_RECORD = 19  # samples per RAW record at a 247-byte MTU (firmware RAW_MAX_SAMPLES)
ENOSPC = os.strerror(28)  # "No space left on device"
MB = 1_000_000  # bytes: the unit of raw_reserve_mb


def test_a_full_disk_under_the_raw_file_pauses_raw_not_the_band(tmp_path: Path, cluster_csv: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The real band firmware streaming raw into /dev/full: before, the OSError left on_record, the
    session reconnected every 2 s with a traceback each time, and events came only by backfill."""
    caplog.set_level(logging.INFO)
    (tmp_path / "raw").mkdir()
    os.symlink("/dev/full", tmp_path / "raw" / "band0000-boot1-000.swraw")
    states: list[str] = []

    async def main() -> dict[str, Any]:
        async with rig(tmp_path, cluster_csv, speed=4, raw=True) as r:
            assert r.daemon is not None
            d, session = r.daemon, r.daemon.bands[0].session
            on_state = d.on_state

            def watch(s: Any, state: State, detail: str) -> None:
                states.append(f"{state.value}: {detail}")
                on_state(s, state, detail)

            d.on_state = watch  # type: ignore[method-assign]
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 90, "the alarm")
            await r.wait_for(lambda: (r.store.latest_status("band0000").uptime_s or 0) >= 100, 60, "the recording to be played")  # type: ignore[union-attr]
            after = states[[x.split(":")[0] for x in states].index("streaming") + 1 :]
            assert after == [], f"the band session was disturbed: {after}"
            assert session.state is State.STREAMING
            return d.status()

    st = asyncio.run(main())
    errors = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert errors == [], errors
    paused = [rec.getMessage() for rec in caplog.records if "raw recording paused" in rec.getMessage()]
    assert len(paused) == 1, paused  # logged once, with the path and the error
    assert "band0000-boot1-000.swraw" in paused[0] and ENOSPC in paused[0], paused
    band = st["bands"][0]
    assert band["connected"] and band["state"] == "STREAMING"
    assert band["raw_paused"] is not None and ENOSPC in band["raw_paused"]["why"], band
    assert any("raw recording paused since" in line and ENOSPC in line for line in band_lines(band)), band_lines(band)
    with Store(tmp_path / "spasmwatch.db") as store:  # events, epochs and status all stored
        full = [e for e in store.events("band0000") if not e.flags & P.EF_MATCHED]
        assert len(full) >= len(SPASMS_S) - 1, full
        assert len(list(store.activity("band0000"))) >= 5
        assert store.latest_status("band0000") is not None


def _daemon(store: Store, clock: HandClock, raw_dir: Path, **kw: Any) -> Daemon:
    """A daemon with one raw band, connected and caught up as its session would leave it."""
    spec = [BandSpec("crib", lambda: None, raw=True, rate_hz=RATE_HZ)]  # type: ignore[arg-type,return-value]  # driven below
    d = Daemon(store, spec, clock=clock, raw_dir=raw_dir, **kw)
    b = d.bands[0]
    b.session.info = BandInfo(DEVICE, "spasmwatch-band", "test", "sim", "sim:0", "sim")
    d.on_connected(b.session.info)
    d.on_rate(DEVICE, float(RATE_HZ))
    d.next_backfill_seq(DEVICE)
    d.on_record(DEVICE, {"type": "loginfo", "flags": P.LF_DONE}, clock.t)
    b.session._set(State.STREAMING)
    if store.open_error is None:
        store.add_sync(DEVICE, 1, 0, T0)
    return d


def test_raw_waits_for_a_store_folder_on_a_disk_not_mounted_yet_and_resumes_as_the_store_opens(tmp_path: Path) -> None:
    """The raw folder is in the store's: with the store's disk not mounted yet (a store opened before,
    not there: docs/store.md "A store on a disk not mounted yet") raw made its folder, the store's
    with it, beneath the mount point, and its files were hidden once the disk mounted. Now raw waits,
    said as a pause, and resumes as the store opens (not RAW_RETRY_S later)."""
    clock = HandClock(T0)
    path = tmp_path / "usb" / "spasmwatch.db"
    Store.may_fail(path, KnownStores.default()).close()  # (opened before: known)
    mount = unmount(path)
    with Store.may_fail(path, KnownStores.default()) as store:
        d = _daemon(store, clock, path.parent / "raw")
        band = Band(d, clock)
        band.run(30)
        (st,) = d.status()["bands"]
        assert st["raw_paused"] is not None and "its disk not mounted yet?" in st["raw_paused"]["why"], st
        assert not path.parent.exists()  # nothing beneath the mount point
        mount()
        assert store.reopen()
        d._store_opened()  # (as its try again does)
        band.run(30)
        assert d.status()["bands"][0]["raw_paused"] is None
        for b in d.bands:
            d._close_raw(b)
    (part,) = (path.parent / "raw").iterdir()
    assert 29 * RATE_HZ <= sum(len(c.samples) for c in RawReader(part).chunks()) <= 31 * RATE_HZ


class Band:
    """RAW records of a band sampling at 100 Hz, sent as its clock (the daemon's HandClock) runs."""

    def __init__(self, d: Daemon, clock: HandClock) -> None:
        self.d, self.clock, self.index = d, clock, 0
        self.rows = np.random.default_rng(1).integers(-900, 900, (1 << 16, 6))

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * RATE_HZ / PER_RECORD)):
            i = self.index % len(self.rows)
            rec = P.decode(P.encode_raw(self.index, self.rows[i : i + PER_RECORD].tolist()))
            self.index += PER_RECORD
            self.clock.t += PER_RECORD / RATE_HZ
            self.d.on_record(DEVICE, rec, self.clock.t)


def test_raw_pauses_under_the_reserve_resumes_above_it_and_the_gap_replays(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = HandClock(T0)
    raw_dir = tmp_path / "raw"
    free_mb = shutil.disk_usage(tmp_path).free / MB
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock, raw_dir, raw_reserve_mb=free_mb + 1000)  # more than this disk has free
        band = Band(d, clock)
        band.run(60)
        (st,) = d.status()["bands"]
        assert st["raw_paused"] is not None, "raw went on under the reserve"
        assert "free on" in st["raw_paused"]["why"] and "for events" in st["raw_paused"]["why"], st["raw_paused"]
        # The same as a page word and its values, for the page in the family's language (docs/web.md).
        msg = st["raw_paused"]["why_msg"]
        assert msg["key"] == "low_disk" and msg["args"]["keep"] == round((free_mb + 1000) * MB), msg
        assert 0 < msg["args"]["free"] < msg["args"]["keep"] and msg["args"]["mount"].startswith("/"), msg
        # Cheaply: one statvfs per RAW_DISK_CHECK_S of the clock, not one per record (316 records).
        assert d.raw_disk.checks <= 60 / K.RAW_DISK_CHECK_S + 1, d.raw_disk.checks
        assert not (raw_dir / f"{DEVICE}-boot0-000.swraw").exists() or os.path.getsize(raw_dir / f"{DEVICE}-boot0-000.swraw") == 0

        d.raw_disk.reserve_mb = 0.001  # room again (the disk has far more than the resume margin free)
        band.run(30)
        resumed_at = band.index
        d.raw_disk.reserve_mb = free_mb + 1000
        band.run(30)  # paused again: a gap inside the file
        d.raw_disk.reserve_mb = 0.001
        band.run(30)
        assert d.status()["bands"][0]["raw_paused"] is None
        d.on_record(DEVICE, spasm_record(0, 1_000), clock.t)  # events went on throughout
        assert len(list(store.events(DEVICE))) == 1
        for b in d.bands:
            d._close_raw(b)
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "spasmwatch.daemon.rawkeep"]
    assert [line.split(":")[0] for line in lines] == ["raw recording paused", "raw recording resumed"] * 2, lines

    path = raw_dir / f"{DEVICE}-boot0-000.swraw"
    gaps, missing = RawReader(path).gaps()
    assert gaps == 1 and abs(missing - 30 * RATE_HZ) <= 2 * PER_RECORD + K.RAW_DISK_CHECK_S * RATE_HZ, (gaps, missing)
    first = next(RawReader(path).chunks()).first_index
    assert resumed_at - 30 * RATE_HZ - PER_RECORD <= first <= resumed_at - 30 * RATE_HZ + K.RAW_DISK_CHECK_S * RATE_HZ
    out = _replay(path)
    assert out.returncode == 0, out.stderr
    assert "missing in 1 gap(s)" in out.stderr and "paused raw recording" in out.stderr, out.stderr
    assert out.stdout.startswith("{") or out.stdout == "", out.stdout


def test_a_raw_file_that_fails_is_tried_again_later_and_resumes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """ENOSPC on the band's file (not the reserve: the disk has room): raw paused for that band,
    logged once, nothing written per record; tried again after RAW_RETRY_S, and back."""
    caplog.set_level(logging.DEBUG)
    clock = HandClock(T0)
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir(mode=0o700)  # as the daemon makes it: no warning of its own among the raw ones counted
    path = raw_dir / f"{DEVICE}-boot0-000.swraw"
    os.symlink("/dev/full", path)
    with Store(tmp_path / "db.sqlite") as store:
        d = _daemon(store, clock, raw_dir, raw_reserve_mb=0.001)
        band = Band(d, clock)
        band.run(K.RAW_RETRY_S / 2)
        (st,) = d.status()["bands"]
        assert st["raw_paused"] is not None and str(path) in st["raw_paused"]["why"] and ENOSPC in st["raw_paused"]["why"], st
        assert st["raw_paused"]["why_msg"] == {"key": "cannot_write", "args": {"path": str(path), "error": ENOSPC}}, st
        band.run(K.RAW_RETRY_S)  # one more try, the same error: not logged again
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "raw" in r.getMessage()]
        assert len(warned) == 1, warned
        tries = [r.getMessage() for r in caplog.records if "raw recording still paused" in r.getMessage()]
        assert len(tries) == 1, tries  # one try in RAW_RETRY_S, not one per record
        path.unlink()  # the disk fixed
        band.run(K.RAW_RETRY_S / 2 + 60)  # its next try comes RAW_RETRY_S after the last: a minute before the end
        assert d.status()["bands"][0]["raw_paused"] is None
        assert any("raw recording resumed" in r.getMessage() for r in caplog.records)
        for b in d.bands:
            d._close_raw(b)
    assert RawReader(path).gaps() == (0, 0)  # a new file from the retry on
    assert 55 * RATE_HZ <= sum(len(c.samples) for c in RawReader(path).chunks()) <= 61 * RATE_HZ


def _replay(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(path), "--jsonl"],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip


def test_the_reserve_comes_from_the_config(tmp_path: Path) -> None:
    from spasmwatch.config import from_dict
    from spasmwatch.daemon.main import build

    with Store(tmp_path / "db.sqlite") as store:
        assert build(from_dict({"daemon": {"raw_reserve_mb": 250}}, "config.toml"), store).raw_disk.reserve_mb == 250.0
        assert build(from_dict({}, "config.toml"), store).raw_disk.reserve_mb == K.RAW_RESERVE_MB


def test_raw_files_are_private_and_a_folder_from_before_is_closed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The raw stream is the baby's movement: its file is 0600, and a raw folder made 0755 before
    2026-12-05 (with 0644 files in it) is made 0700 when the daemon records into it, said once.
    Old code: the new file 0644, the folder left 0755 (every account could read both)."""
    old_umask = os.umask(0o022)  # the usual one, whatever the test runner's
    try:
        clock = HandClock(T0)
        raw_dir = tmp_path / "raw"
        raw_dir.mkdir(mode=0o755)
        (raw_dir / "old-boot0-000.swraw").write_bytes(b"")  # as the old code left it, 0644
        with Store(tmp_path / "db.sqlite") as store:
            d = _daemon(store, clock, raw_dir)
            Band(d, clock).run(5)
            for b in d.bands:
                d._close_raw(b)
    finally:
        os.umask(old_umask)
    (new,) = [p for p in raw_dir.iterdir() if p.name.startswith(DEVICE)]
    assert (raw_dir.stat().st_mode & 0o777, new.stat().st_mode & 0o777) == (0o700, 0o600)
    said = [r.getMessage() for r in caplog.records if "raw recordings' folder was readable by other accounts" in r.getMessage()]
    assert len(said) == 1, said
