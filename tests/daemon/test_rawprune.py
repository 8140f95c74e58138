"""Old raw files are deleted after [daemon] raw_keep_days (docs/host.md "Raw samples"), never the
file a band is writing, nor one near a cluster (whatever its label) or a caregiver's note; 0, the
default, deletes nothing. Real .swraw files on disk (RawWriter), dated by their headers and their
last change; a real SQLite store; the daemon's clock moved by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.io.rawfile import RawHeader, RawReader, RawWriter
from spasmwatch.store import Store
from synthetic import HandClock

from .test_rawdisk import DEVICE, RATE_HZ, T0, Band, _daemon

DAY_S = 86400.0
MIN_S = 60.0
SECONDS = 60  # of samples in each file


def _raw(raw_dir: Path, name: str, start: float, seconds: int = SECONDS, boot: int | None = None) -> Path:
    """A band's raw file as the daemon leaves it: ``seconds`` of samples from wall time ``start``,
    last written as its last sample came."""
    raw_dir.mkdir(exist_ok=True)
    path = raw_dir / (f"{DEVICE}-boot{boot}.swraw" if boot is not None else f"{name}.swraw")
    rows = np.random.default_rng(len(name)).integers(-900, 900, (seconds * RATE_HZ, 6))
    with RawWriter(path, RawHeader(DEVICE, float(RATE_HZ), True, start)) as w:
        w.append(0, rows)
    end = start + seconds
    os.utime(path, (end, end))
    return path


def _cluster(store: Store, key: str, start: float, end: float) -> int:
    return store.upsert_cluster(DEVICE, key, start, end, 4, start + 20, None, True, wall_s=end)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "spasmwatch.db") as s:
        s.upsert_device(DEVICE, name="crib", wall_s=T0 - 60 * DAY_S)
        yield s


def test_old_raw_is_deleted_unless_near_a_cluster_or_a_note(tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    raw = tmp_path / "raw"
    t = {n: T0 - d * DAY_S for n, d in {"alone": 40, "false_alarm": 39, "cluster_before": 38, "note_after": 37,
                                         "cluster_too_far": 36, "written_since": 35, "young": 29}.items()}  # fmt: skip
    files = {n: _raw(raw, n, s) for n, s in t.items()}
    # A cluster inside its span, labelled a false alarm: what tunes the detector, so kept.
    store.label_cluster(_cluster(store, "fa", t["false_alarm"] + 10, t["false_alarm"] + 50), "false_alarm", "Mum", T0 - 39 * DAY_S)
    # Ended 9 min before its first sample (within RAW_KEEP_MARGIN_S): its lead-in is in the file.
    _cluster(store, "before", t["cluster_before"] - 12 * MIN_S, t["cluster_before"] - 9 * MIN_S)
    # A note written 50 min after its last sample, about no band (within RAW_NOTE_BEFORE_S).
    store.add_note(t["note_after"] + SECONDS + 50 * MIN_S, "video", "filmed the jerks after his nap", None, "Dad")
    # Starting 11 min after its last sample: outside the margin.
    _cluster(store, "far", t["cluster_too_far"] + SECONDS + 11 * MIN_S, t["cluster_too_far"] + SECONDS + 14 * MIN_S)
    os.utime(files["written_since"], (T0 - DAY_S, T0 - DAY_S))  # old samples, appended to yesterday: not old
    sizes = {n: p.stat().st_size for n, p in files.items()}

    d = Daemon(store, [], clock=HandClock(T0), raw_dir=raw, raw_keep_days=30)
    deleted = d.raw_prune.run()

    assert sorted(Path(p).name for p in deleted) == ["alone.swraw", "cluster_too_far.swraw"], deleted
    assert sorted(p.name for p in raw.iterdir()) == sorted(f"{n}.swraw" for n in t if n not in ("alone", "cluster_too_far"))
    lines = [r.getMessage() for r in caplog.records if r.name == "spasmwatch.daemon.rawkeep"]
    freed = sizes["alone"] + sizes["cluster_too_far"]
    assert lines == [f"raw recording: deleted 2 file(s) older than 30 days, {freed / 1e6:.1f} MB freed "
                     "(alone.swraw, cluster_too_far.swraw); 3 as old kept for a cluster or note"], lines  # fmt: skip
    kept = sum(v for n, v in sizes.items() if n not in ("alone", "cluster_too_far"))
    from spasmwatch.commands.status import raw_lines

    assert d.status()["raw_kept"] == {"files": 5, "bytes": kept, "keep_days": 30.0, "t": T0}
    assert raw_lines(d.status()) == [f"raw recordings: 5 file(s), {kept / 1e6:.1f} MB (deleted 30 days after their last sample "
                                     "unless near a cluster or note)"]  # fmt: skip

    caplog.clear()
    assert d.raw_prune.run() == [] and not caplog.records  # the next pass: nothing more, no line


def test_keep_days_0_deletes_nothing(tmp_path: Path, store: Store) -> None:
    """The default: a daemon running its pass at start over year-old raw deletes none, and counts them."""
    raw = tmp_path / "raw"
    files = [_raw(raw, f"year{i}", T0 - (400 + i) * DAY_S) for i in range(3)]
    d = Daemon(store, [], clock=HandClock(T0), raw_dir=raw)  # no raw_keep_days: as after an upgrade
    st = _first_pass(d)
    assert all(p.exists() for p in files)
    assert st["raw_kept"] == {"files": 3, "bytes": sum(p.stat().st_size for p in files), "keep_days": 0.0, "t": T0}

    from spasmwatch.commands.status import raw_lines

    assert raw_lines(st) == [f"raw recordings: 3 file(s), {st['raw_kept']['bytes'] / 1e6:.1f} MB (all kept: [daemon] raw_keep_days = 0)"]


def _first_pass(d: Daemon) -> dict[str, Any]:
    """The daemon started, until its first pruning pass is in its status (5 s at most), and stopped."""

    async def main() -> dict[str, Any]:
        await d.start()
        try:
            for _ in range(200):
                if d.status().get("raw_kept") is not None:
                    break
                await asyncio.sleep(0.025)
            return d.status()
        finally:
            await d.stop()

    st = asyncio.run(main())
    assert st.get("raw_kept") is not None, f"no pruning pass in the status within 5 s of the start: {sorted(st)}"
    return st


def test_the_file_a_band_is_writing_is_never_deleted(tmp_path: Path, store: Store) -> None:
    """The band's boot file from 40 days ago, its band back on the same boot: the daemon appends to it.
    While open it is kept even when its dates say old; closed and old, it goes."""
    clock = HandClock(T0)
    raw = tmp_path / "raw"
    path = _raw(raw, "", T0 - 40 * DAY_S, boot=0)
    d = _daemon(store, clock, raw, raw_reserve_mb=0, raw_keep_days=30)
    band = Band(d, clock)
    band.index = SECONDS * RATE_HZ  # where the file left off
    band.run(1)  # the daemon opens the file; these samples wait for a whole chunk
    assert d.bands[0].raw is not None and d.bands[0].raw.path == str(path)
    old = T0 - 39 * DAY_S
    os.utime(path, (old, old))  # its dates as old as they may be while it is open
    assert d.raw_prune.run() == [] and path.exists()
    assert d._close_raw(d.bands[0]) is None
    assert RawReader(path).index_span() == (0, band.index)  # appended to, whole
    os.utime(path, (old, old))
    assert d.raw_prune.run() == [str(path)] and not path.exists()  # closed: only its being open kept it


def test_the_daemon_prunes_at_start_in_a_worker_thread(tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    raw = tmp_path / "raw"
    old = _raw(raw, "old", T0 - 31 * DAY_S)
    young = _raw(raw, "young", T0 - 29 * DAY_S)
    _first_pass(Daemon(store, [], clock=HandClock(T0), raw_dir=raw, raw_keep_days=30))
    assert not old.exists() and young.exists()
    [line] = [r for r in caplog.records if "raw recording: deleted" in r.getMessage()]
    assert line.threadName != "MainThread", line.threadName  # off the event loop


@contextlib.contextmanager
def _undeletable(path: Path) -> Iterator[None]:
    """``path`` cannot be unlinked, by the kernel's own refusal: immutable for root (chattr +i,
    EPERM), its folder read-only for anyone else (EACCES)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.parent.stat().st_mode
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(mode)


def test_a_file_that_cannot_be_deleted_is_logged_and_tried_again(tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    raw = tmp_path / "raw"
    path = _raw(raw, "stuck", T0 - 40 * DAY_S)
    d = Daemon(store, [], clock=HandClock(T0), raw_dir=raw, raw_keep_days=30)
    with _undeletable(path):
        assert d.raw_prune.run() == []
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith(f"1 old raw file(s) not deleted ({path}: ") and "tried again in 60 min" in warning, warning
    assert d.raw_prune.run() == [str(path)] and not path.exists()


def test_a_raw_folder_that_cannot_be_listed_is_logged(tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "raw").write_text("not a folder")
    d = Daemon(store, [], clock=HandClock(T0), raw_dir=tmp_path / "raw", raw_keep_days=30)
    assert d.raw_prune.run() == [] and d.raw_prune.kept is None
    assert any("raw files not pruned: cannot list" in r.getMessage() for r in caplog.records)


def test_nothing_is_deleted_while_the_store_cannot_be_read(tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Whether a cluster or note is near cannot be told: the file stays."""
    raw = tmp_path / "raw"
    path = _raw(raw, "old", T0 - 40 * DAY_S)
    d = Daemon(store, [], clock=HandClock(T0), raw_dir=raw, raw_keep_days=30)
    d.raw_prune.store_path = tmp_path / "elsewhere" / "spasmwatch.db"  # (a store moved away under the daemon)
    assert d.raw_prune.run() == [] and path.exists()
    assert any("not deleted: the store could not be read" in r.getMessage() for r in caplog.records)


def test_keep_days_come_from_the_config(tmp_path: Path, store: Store) -> None:
    from spasmwatch.config import from_dict
    from spasmwatch.daemon.main import build

    assert build(from_dict({"daemon": {"raw_keep_days": 14}}, "config.toml"), store).raw_prune.keep_days == 14.0
    assert build(from_dict({}, "config.toml"), store).raw_prune.keep_days == K.RAW_KEEP_DAYS == 0.0


@pytest.mark.parametrize("keep_days, advice", [
    (0, "every raw file is kept: set [daemon] raw_keep_days to delete old ones"),
    (14, "raw files are deleted 14 days after their last sample: a smaller [daemon] raw_keep_days frees more"),
])  # fmt: skip
def test_a_pause_at_the_reserve_says_what_frees_room(tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture,
                                                     keep_days: float, advice: str) -> None:  # fmt: skip
    import shutil

    clock = HandClock(T0)
    d = _daemon(store, clock, tmp_path / "raw", raw_reserve_mb=shutil.disk_usage(tmp_path).free / 1e6 + 1000, raw_keep_days=keep_days)
    Band(d, clock).run(1)
    [paused] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("raw recording paused")]
    assert paused.endswith(f"free; {advice})"), paused
