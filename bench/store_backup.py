"""The daemon's daily copy of its store (store/backup.py ``make``) on a store of a year of one band:
its time, its size, the share of its check (quick_check), and the daemon's writes meanwhile.

    python bench/store_backup.py               # 365 days: 100 events, 8640 epochs, 1440 STATUS rows a day
    python bench/store_backup.py --days 30     # a month
    python bench/store_backup.py --dir /var/tmp --json out.json
    python bench/store_backup.py --noisy --compress   # epochs as varied as a band's; what compressing the copy gives
    python bench/store_backup.py --store PATH          # a store built before (copied, never written)
    python bench/store_backup.py --store PATH --older  # an older copy compressed as the daemon does, restored

A writer thread commits an epoch batch every 10 ms while the copy is made (the daemon's writes go on:
SQLite's online backup reads one snapshot through a read-only connection); its slowest commit during
the copy is printed beside its slowest before it. Nothing asserts a time.

``--older``: a second copy a day later, the first then compressed as the daemon's pass compresses an
older copy (store/backup.py ``compress_older``: gzip level 1, read back), its size and time against the
copy's, and a restore from it against one from the plain newest copy.

``--compress``: the copy compressed as a whole file (gzip level 1 and 6, xz preset 0, streamed a MB at a
time), the gzip-1 file decompressed again (what a restore from it adds), and the copy without the
indexes a read-write open makes again (shape.remakeable: every index but the UNIQUE ones; DROP INDEX,
then VACUUM INTO), plain and gzip-1: each size against the copy's, each time against the copy's own
make, same run.
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import json
import lzma
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from spasmwatch.store import Store
from spasmwatch.store import backup as B

DEVICE = "bench0001"
T0 = 1_800_000_000.0
DAY_MS = 86_400_000
EVENTS_A_DAY, EPOCH_MS, STATUS_MS = 100, 10_000, 60_000


def _epoch(rng: random.Random | None, k: int) -> tuple[int, int]:
    """An epoch's activity (active samples of 1040) and breath (% of white-noise variance): k % 50 and 40,
    or with ``rng`` drawn as a band's vary, more than they do (asleep 6 epochs of 10, 0-20 active
    samples; awake 0-1040; breath 10-120): what a compressed copy saves lies between the two."""
    if rng is None:
        return k % 50, 40
    return (rng.randint(0, 20) if rng.random() < 0.6 else rng.randint(0, 1040)), rng.randint(10, 120)


def build(path: Path, days: int, noisy: bool = False) -> None:
    """One boot of one band synced at T0, ``days`` of it: events, 10 s epochs, a STATUS a minute.
    ``noisy``: each epoch's values drawn (``_epoch``) and received 0.05-2 s after it ends, as a
    band's live epochs are, not all of a day at one time."""
    rng = random.Random(1) if noisy else None
    with Store(path) as st:
        st.upsert_device(DEVICE, name="crib", wall_s=T0)
        st.add_sync(DEVICE, 1, 0, T0)
        for d in range(days):
            base = d * DAY_MS
            st.add_events(DEVICE, [{"boot": 1, "seq": d * EVENTS_A_DAY + k, "onset_ms": base + k * 800_000, "duration_ms": 1500,
                                    "peak_rate_mrads": 2000, "peak_angle_mrad": 300, "confidence": 90, "flags": 1}
                                   for k in range(EVENTS_A_DAY)], T0 + base / 1000)  # fmt: skip
            if rng is None:
                st.add_activity(DEVICE, [{"boot": 1, "t_ms": base + k * EPOCH_MS, "activity": k % 50, "breath": 40, "off_body": 0, "worn": 1}
                                         for k in range(1, DAY_MS // EPOCH_MS + 1)], T0 + base / 1000)  # fmt: skip
            else:
                with st.transaction():
                    for k in range(1, DAY_MS // EPOCH_MS + 1):
                        activity, breath = _epoch(rng, k)
                        st.add_activity(DEVICE, [{"boot": 1, "t_ms": base + k * EPOCH_MS, "activity": activity, "breath": breath,
                                                  "off_body": 0, "worn": 1}], T0 + (base + k * EPOCH_MS) / 1000 + rng.uniform(0.05, 2))  # fmt: skip
            with st.transaction():
                for k in range(DAY_MS // STATUS_MS):
                    st.add_status(DEVICE, T0 + (base + k * STATUS_MS) / 1000, {"battery_pct": 80, "worn": 1, "log_fill_pct": 3, "flags": 0,
                                                                                "errors": 0, "boot": 1, "uptime_s": (base + k * STATUS_MS) // 1000,
                                                                                "next_seq": (d + 1) * EVENTS_A_DAY})  # fmt: skip


class Writer(threading.Thread):
    """The daemon's writes: an epoch committed every 10 ms; the slowest commit before and during the copy."""

    def __init__(self, st: Store, first_ms: int) -> None:
        super().__init__(daemon=True)
        self.st, self.t_ms = st, first_ms
        self.stop, self.copying = threading.Event(), threading.Event()
        self.slowest = {"before": 0.0, "during": 0.0}
        self.commits = {"before": 0, "during": 0}

    def run(self) -> None:
        while not self.stop.is_set():
            self.t_ms += EPOCH_MS
            t = time.perf_counter()
            self.st.add_activity(DEVICE, [{"boot": 1, "t_ms": self.t_ms, "activity": 1, "breath": 40, "off_body": 0, "worn": 1}], T0)
            took = time.perf_counter() - t
            when = "during" if self.copying.is_set() else "before"
            self.slowest[when] = max(self.slowest[when], took)
            self.commits[when] += 1
            time.sleep(0.01)


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


CHUNK = 1 << 20
CODECS: dict[str, Callable[[], Compressor]] = {
    "gzip1": lambda: zlib.compressobj(1, zlib.DEFLATED, 31),  # (wbits 31: a gzip file, as gzip.open reads)
    "gzip6": lambda: zlib.compressobj(6, zlib.DEFLATED, 31),
    "xz0": lambda: lzma.LZMACompressor(preset=0),
}


def squeezed(src: Path, into: Path, codec: str) -> float:
    """``src`` compressed into ``into`` by ``codec``, a chunk at a time; its seconds."""
    t = time.perf_counter()
    c = CODECS[codec]()
    with open(src, "rb") as f, open(into, "wb") as out:
        while chunk := f.read(CHUNK):
            out.write(c.compress(chunk))
        out.write(c.flush())
    return time.perf_counter() - t


def gunzipped(src: Path, into: Path) -> float:
    t = time.perf_counter()
    with gzip.open(src, "rb") as f, open(into, "wb") as out:
        shutil.copyfileobj(f, out, CHUNK)
    return time.perf_counter() - t


def without_indexes(copy: Path, into: Path) -> float:
    """``copy`` as a file without its indexes that a read-write open makes again (DROP INDEX on a scratch
    copy, then VACUUM INTO ``into``); its seconds, the scratch copy's own making left out."""
    scratch = into.with_name("scratch.db")
    shutil.copyfile(copy, scratch)
    t = time.perf_counter()
    conn = sqlite3.connect(scratch, isolation_level=None)
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL").fetchall():
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("VACUUM INTO ?", (str(into),))
    finally:
        conn.close()
    took = time.perf_counter() - t
    scratch.unlink()
    return took


def compression(copy: Path, make_s: float) -> dict[str, Any]:
    """``--compress``'s numbers (module doc), printed as they come."""
    out: dict[str, Any] = {}
    size = copy.stat().st_size

    def said(name: str, path: Path, took: float) -> None:
        mb = path.stat().st_size / 1e6
        out[name] = {"mb": mb, "s": took, "size_vs_copy": mb * 1e6 / size, "time_vs_make": took / make_s}
        print(f"  {name}: {mb:.1f} MB ({mb * 1e6 / size:.3f} x the copy) in {took:.1f} s ({took / make_s:.2f} x its make)", flush=True)

    for codec in CODECS:
        said(codec, copy.with_suffix(f".{codec}"), squeezed(copy, copy.with_suffix(f".{codec}"), codec))
    back = copy.with_suffix(".back")
    said("gunzip1", back, gunzipped(copy.with_suffix(".gzip1"), back))
    assert filecmp.cmp(back, copy, shallow=False)  # (the whole file back, byte for byte)
    back.unlink()
    lean = copy.with_suffix(".lean")
    said("no_indexes", lean, without_indexes(copy, lean))
    said("no_indexes_gzip1", lean.with_suffix(".leangz"), squeezed(lean, lean.with_suffix(".leangz"), "gzip1"))
    return out


def older(path: Path, first: B.Backup, make_s: float) -> dict[str, Any]:
    """``--older``'s numbers (module doc), printed: a second copy a day later, then the first
    compressed as the daemon's pass does (``B.compress_older``), and each put back by a restore into a
    store path of its own (nothing there: nothing carried)."""
    B.make(path, first.made_s + 86400.0)
    t = time.perf_counter()
    [packed] = B.compress_older(path)
    compress_s = time.perf_counter() - t
    newest = B.listed(path)[-1]
    took = {}
    for name, copy in (("plain", newest), ("gzip", packed)):
        into = path.with_name(f"restored-{name}") / "spasmwatch.db"
        into.parent.mkdir()
        t = time.perf_counter()
        B.restore(into, copy.path, "bench")
        took[name] = time.perf_counter() - t
    out = {"copy_mb": first.size / 1e6, "compressed_mb": packed.size / 1e6, "size_vs_copy": packed.size / first.size,
           "compress_s": compress_s, "compress_vs_make": compress_s / make_s, "restore_plain_s": took["plain"],
           "restore_gzip_s": took["gzip"], "restore_gzip_vs_plain": took["gzip"] / took["plain"]}  # fmt: skip
    print(f"  an older copy compressed: {first.size / 1e6:.0f} MB -> {packed.size / 1e6:.1f} MB ({out['size_vs_copy']:.3f} x) in "
          f"{compress_s:.1f} s ({out['compress_vs_make']:.2f} x the copy's make, its read back included); restored from it "
          f"{took['gzip']:.1f} s, from the plain newest {took['plain']:.1f} s ({out['restore_gzip_vs_plain']:.2f} x)", flush=True)  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--dir", help="where the store goes")
    ap.add_argument("--noisy", action="store_true", help="epochs as varied as a band's (build's noisy)")
    ap.add_argument("--store", type=Path, help="a store built before: copied, the copy used")
    ap.add_argument("--compress", action="store_true", help="what compressing the copy gives (module doc)")
    ap.add_argument("--older", action="store_true", help="an older copy compressed as the daemon does, and restored (module doc)")
    ap.add_argument("--json")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="spasmwatch-backup-bench-", dir=args.dir))
    path = base / "spasmwatch.db"
    t = time.perf_counter()
    if args.store is not None:
        shutil.copyfile(args.store, path)
    else:
        build(path, args.days, args.noisy)
    store_mb = B.needed_bytes(path) / 1e6
    made_by = f"copied {args.store}" if args.store is not None else f"built {args.days} days"
    print(f"{made_by}, {store_mb:.0f} MB in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    with Store(path) as st:
        w = Writer(st, args.days * DAY_MS)
        w.start()
        time.sleep(1.0)
        w.copying.set()
        t = time.perf_counter()
        made = B.make(path, T0 + args.days * 86400.0)
        make_s = time.perf_counter() - t
        w.stop.set()
        w.join()
    t = time.perf_counter()
    B._check(made.path)
    check_s = time.perf_counter() - t
    out: dict[str, Any] = {"days": args.days, "store_mb": store_mb, "copy_mb": made.size / 1e6, "make_s": make_s, "check_s": check_s,
                           "writer_slowest_before_s": w.slowest["before"], "writer_slowest_during_s": w.slowest["during"],
                           "writer_commits_during": w.commits["during"], "cpus": os.cpu_count()}  # fmt: skip
    print(f"{args.days} days: store {store_mb:.0f} MB, copy {made.size / 1e6:.0f} MB made in {make_s:.2f} s, of which its check "
          f"(quick_check and the tables' shape) about {check_s:.2f} s; the writer's slowest commit {w.slowest['before'] * 1000:.1f} ms "
          f"before the copy, {w.slowest['during'] * 1000:.1f} ms during it ({w.commits['during']} commits)")  # fmt: skip
    if args.compress:
        out["compress"] = compression(made.path, make_s)
    if args.older:
        out["older"] = older(path, made, make_s)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
