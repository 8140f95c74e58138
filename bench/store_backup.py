"""The daemon's daily copy of its store (store/backup.py ``make``) on a store of a year of one band:
its time, its size, the share of its check (quick_check), and the daemon's writes meanwhile.

    python bench/store_backup.py               # 365 days: 100 events, 8640 epochs, 1440 STATUS rows a day
    python bench/store_backup.py --days 30     # a month
    python bench/store_backup.py --dir /var/tmp --json out.json

A writer thread commits an epoch batch every 10 ms while the copy is made (the daemon's writes go on:
SQLite's online backup reads one snapshot through a read-only connection); its slowest commit during
the copy is printed beside its slowest before it. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from spasmwatch.store import Store
from spasmwatch.store import backup as B

DEVICE = "bench0001"
T0 = 1_800_000_000.0
DAY_MS = 86_400_000
EVENTS_A_DAY, EPOCH_MS, STATUS_MS = 100, 10_000, 60_000


def build(path: Path, days: int) -> None:
    """One boot of one band synced at T0, ``days`` of it: events, 10 s epochs, a STATUS a minute."""
    with Store(path) as st:
        st.upsert_device(DEVICE, name="crib", wall_s=T0)
        st.add_sync(DEVICE, 1, 0, T0)
        for d in range(days):
            base = d * DAY_MS
            st.add_events(DEVICE, [{"boot": 1, "seq": d * EVENTS_A_DAY + k, "onset_ms": base + k * 800_000, "duration_ms": 1500,
                                    "peak_rate_mrads": 2000, "peak_angle_mrad": 300, "confidence": 90, "flags": 1}
                                   for k in range(EVENTS_A_DAY)], T0 + base / 1000)  # fmt: skip
            st.add_activity(DEVICE, [{"boot": 1, "t_ms": base + k * EPOCH_MS, "activity": k % 50, "breath": 40, "off_body": 0, "worn": 1}
                                     for k in range(1, DAY_MS // EPOCH_MS + 1)], T0 + base / 1000)  # fmt: skip
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--dir", help="where the store goes")
    ap.add_argument("--json")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="spasmwatch-backup-bench-", dir=args.dir))
    path = base / "spasmwatch.db"
    t = time.perf_counter()
    build(path, args.days)
    store_mb = B.needed_bytes(path) / 1e6
    print(f"built {args.days} days, {store_mb:.0f} MB in {time.perf_counter() - t:.0f} s", file=sys.stderr)
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
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
