"""Small hand-made IMU signals for unit tests (the full simulator is spasmwatch.sim).

A supine baby breathing, with idealised spasms: a raised-cosine flexion about
the body y axis (rise), a held posture, and a raised-cosine return. Gyro and
accel are consistent (gyro = d(pitch)/dt, accel = gravity rotated by pitch).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spasmwatch.clock import SinceBoot
from swcore import protocol as P

F64 = NDArray[np.float64]


def spasm_profile(t: F64, onset: float, rise: float, hold: float, ret: float) -> F64:
    tt = t - onset
    prof = np.zeros_like(t)
    m = (tt >= 0) & (tt < rise)
    prof[m] = 0.5 - 0.5 * np.cos(np.pi * tt[m] / rise)
    prof[(tt >= rise) & (tt < rise + hold)] = 1.0
    m = (tt >= rise + hold) & (tt < rise + hold + ret)
    prof[m] = 0.5 + 0.5 * np.cos(np.pi * (tt[m] - rise - hold) / ret)
    return prof


def supine(
    rate_hz: float = 100.0,
    duration_s: float = 120.0,
    spasms: tuple[float, ...] = (),
    amp_deg: float = 15.0,
    rise_s: float = 0.25,
    hold_s: float = 0.8,
    ret_s: float = 0.5,
    breath_deg: float = 1.0,
    noise_g: float = 0.003,
    noise_dps: float = 0.1,
    jolts: int = 0,
    seed: int = 0,
    bumps: tuple[float, ...] = (),
    bump_s: float = 0.3,
) -> tuple[F64, F64, F64]:
    """(t, acc g (n,3), gyro deg/s (n,3)).

    ``bumps``: times of smooth Hann-shaped pitch bumps of ``amp_deg`` lasting
    ``bump_s`` (a twitch or a hiccup: up and straight back, nothing held).
    """
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    pitch = np.deg2rad(breath_deg) * np.sin(2 * np.pi * 0.7 * t)
    for onset in spasms:
        pitch = pitch + np.deg2rad(amp_deg) * spasm_profile(t, onset, rise_s, hold_s, ret_s)
    for b in bumps:
        m = (t >= b) & (t < b + bump_s)
        pitch[m] += np.deg2rad(amp_deg) * 0.5 * (1 - np.cos(2 * np.pi * (t[m] - b) / bump_s))
    rate = np.rad2deg(np.gradient(pitch, 1.0 / rate_hz))
    acc = np.stack([-np.sin(pitch), np.zeros(n), np.cos(pitch)], axis=1)
    gyro = np.stack([np.zeros(n), rate, np.zeros(n)], axis=1)
    for _ in range(jolts):  # brief knocks: no posture change, no hold
        i = int(rng.integers(0, n - 50))
        k = int(rng.integers(3, 30))
        gyro[i : i + k] += rng.normal(0, 60, 3)
        acc[i : i + 8] += rng.normal(0, 0.3, 3)
    acc += rng.normal(0, noise_g, (n, 3))
    gyro += rng.normal(0, noise_dps, (n, 3)) + np.array([0.5, -1.0, 0.3])
    return t, acc, gyro


def table(rate_hz: float = 100.0, duration_s: float = 300.0, seed: int = 0, noise_g: float = 0.003) -> tuple[F64, F64, F64]:
    """A band lying still on a table: gravity, bias and white noise only."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    acc = np.tile([0.02, -0.01, 0.999], (n, 1)) + rng.normal(0, noise_g, (n, 3))
    gyro = np.tile([0.4, -0.7, 0.2], (n, 1)) + rng.normal(0, 0.08, (n, 3))
    return t, acc, gyro


def write_csv(path: Path, t: F64, acc: F64, gyro: F64) -> Path:
    """The replay CSV (``t,ax,ay,az,gx,gy,gz``) of a synthetic recording."""
    np.savetxt(path, np.column_stack([t, acc, gyro]), delimiter=",", fmt="%.5f", header="t,ax,ay,az,gx,gy,gz", comments="")
    return path


def spasm_record(seq: int, onset_ms: int, flags: int = 0, confidence: int = 90, angle_mrad: int = 300) -> dict[str, Any]:
    """The band's EVENT record of one full spasm on boot 1, time-synced, as its session hands it on."""
    return {"type": "event", "boot": 1, "seq": seq, "onset_ms": onset_ms, "duration_ms": 1500, "peak_rate_mrads": 2000,
            "peak_angle_mrad": angle_mrad, "confidence": confidence, "flags": P.EF_TIME_SYNCED | flags}  # fmt: skip


class HandClock:
    """A daemon's injected clock moved by hand (``t``), not by the wall: wall and mono seconds, and
    a since-boot reading of one computer boot (``boot_id``) that moving ``t`` moves too; ``step``
    moves the wall alone, as NTP or a user stepping the host's clock does."""

    rate = 1.0  # wall and mono move together

    def __init__(self, t: float) -> None:
        self.t = t
        self.boot_wall = 0.0  # the wall at the computer's boot, by the since-boot reading: moved by steps only
        self.boot_id = "hand"  # another one: the computer restarted

    def wall(self) -> float:
        return self.t

    def mono(self) -> float:
        return self.t

    def since_boot(self) -> SinceBoot | None:
        return SinceBoot(self.boot_id, self.t - self.boot_wall)

    def step(self, seconds: float) -> None:
        """The host's wall clock stepped by ``seconds`` (back if < 0); its since-boot reading goes on."""
        self.t += seconds
        self.boot_wall += seconds


class HandLoop(asyncio.SelectorEventLoop):
    """An event loop whose time is a HandClock's: its timers (``asyncio.sleep``, ``call_later``,
    ``wait_for``'s timeouts) come due only as the clock is moved by hand. While the clock stands
    still, what runs is what needs no timer: ready callbacks, sockets, threads' results. So work
    that finishes with the clock still shows it waited on no timer, poll or batch interval."""

    def __init__(self, clock: HandClock) -> None:
        super().__init__()
        self.hand = clock

    def time(self) -> float:
        return self.hand.mono()


def streaming(d: Any, device: str, wall_s: float) -> None:
    """The daemon's first band connected as ``device``, identified, caught up and streaming, synced
    at ``wall_s``, as its session tells the daemon (the session itself never runs)."""
    connected(d, device)
    caught_up(d, device, wall_s)


def connected(d: Any, device: str) -> None:
    """The daemon's first band connected as ``device`` and identified, not streaming yet (a STATUS
    heard now is a connection's first, read before the sync and the backfill)."""
    from spasmwatch.daemon.session import BandInfo  # here: most users of this module need no daemon

    b = d.bands[0]
    b.session.info = BandInfo(device, "spasmwatch-band", "test", "sim", "sim:0", "sim")
    d.on_connected(b.session.info)


def caught_up(d: Any, device: str, wall_s: float) -> None:
    """The daemon's first band, ``connected`` as ``device``, caught up and streaming, synced at ``wall_s``."""
    from spasmwatch.daemon.session import State

    b = d.bands[0]
    d.next_backfill_seq(device)
    d.on_record(device, {"type": "loginfo", "flags": P.LF_DONE}, d.clock.wall())
    b.session._set(State.STREAMING)
    d.on_sync(device, 1, 0, wall_s)


def fill_store(store: Any) -> Any:
    """The disk under ``store`` full, as SQLite sees it: its pages capped a few past those it has,
    then filled, so its next writes fail with "database or disk is full". Returns its connection
    (``PRAGMA max_page_count`` on it gives the space back)."""
    import sqlite3

    conn = store._conn
    assert conn is not None
    conn.execute("CREATE TABLE filler(x BLOB)")
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0] + 8}")
    try:
        while True:
            conn.execute("INSERT INTO filler VALUES (zeroblob(512))")
    except sqlite3.OperationalError as e:
        assert "full" in str(e), e
    return conn


def fail_store(store: Any) -> Callable[[], None]:
    """The disk under ``store`` gone (a USB stick pulled, an SD card failing): from now on every
    statement on its connection fails in SQLite, reads as well as writes. Returns what brings the
    disk back."""
    conn = store._conn
    assert conn is not None
    conn.set_progress_handler(lambda: 1, 1)  # SQLite aborts each statement at its first step
    return lambda: conn.set_progress_handler(None, 1)


def unmount(path: Path, empty_mount_point: bool = False) -> Callable[[], None]:
    """The folder of the store at ``path`` taken away as a disk not mounted yet is (its files kept
    aside); ``empty_mount_point``: the folder left there, empty, as the mount point. Returns what
    mounts the disk: the folder there again, with the store's files."""
    aside = path.parent.with_name(path.parent.name + ".disk")
    path.parent.rename(aside)
    if empty_mount_point:
        path.parent.mkdir()

    def mount() -> None:
        path.parent.mkdir(exist_ok=True)
        for f in aside.iterdir():
            f.rename(path.parent / f.name)
        aside.rmdir()

    return mount


def other_disk(path: Path) -> Callable[[], None]:
    """The disk of the store at ``path`` taken away and another mounted at its folder, holding a
    different spasmwatch store (another family's, or a card set up again) at the same name, with a
    note. Returns what mounts the store's own disk again (the other one taken away)."""
    from spasmwatch.store import Store

    mine, theirs = path.parent.with_name(path.parent.name + ".disk"), path.parent.with_name(path.parent.name + ".other")
    path.parent.rename(mine)
    with Store(path) as other:
        other.add_note(1.6e9, "note", "another family's history")

    def mount() -> None:
        path.parent.rename(theirs)
        mine.rename(path.parent)

    return mount


def disk_files(folder: Path) -> dict[str, bytes]:
    """The files in ``folder`` (name -> bytes): what a disk holds, to tell that nothing was written onto it."""
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def event_feed(d: Any, device: str, clock: Any) -> Any:
    """A function that hands the daemon ``d`` the band's next EVENT at ``clock.t``, as its session
    would: one full spasm a call, 10 s apart on the band's clock."""
    seqs = iter(range(1_000_000))

    def arrives() -> None:
        seq = next(seqs)
        d.on_record(device, spasm_record(seq, 10_000 * seq), clock.t)

    return arrives


BENCH = Path(__file__).resolve().parent.parent / "bench"


def load_bench(name: str) -> ModuleType:
    """bench/``name``.py as a module (bench/ is no package: its scripts run by path)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod
