"""Store insert rate: ``Store.add_events`` in batches and one by one, against plain sqlite3 in the same run.

    python bench/store_insert.py                # 20000 events in batches of 500, 2000 one by one
    python bench/store_insert.py --quick        # a tenth of that
    python bench/store_insert.py --dir /var/tmp --json out.json

Every database is a fresh file in ``--dir`` (default: a temporary folder), WAL
with ``synchronous=FULL`` as the daemon runs it, so the one-by-one figures are
the disk's fsync rate. Measured:

- ``Store.add_events(device, batch)``: one transaction per batch (INSERT OR
  IGNORE, device touch, placing the boot's events in wall time from its sync);
- ``Store.add_events(device, [event])``: one event per call, what the daemon
  does for a live event;
- the reference: ``sqlite3`` ``executemany`` of the same rows into the same
  ``events`` table (schema, indexes and pragmas copied from the store), one
  transaction per batch; and one ``INSERT`` + ``COMMIT`` per row.

Ratios: store / reference for each mode, and batch / one by one. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spasmwatch.store import Store

DEVICE = "bench0001"
T0 = 1_800_000_000.0
COLS = ("boot", "seq", "onset_ms", "duration_ms", "peak_rate_mrads", "peak_angle_mrad", "confidence", "flags")


def event(seq: int) -> dict[str, Any]:
    return {"type": "event", "boot": 1, "seq": seq, "onset_ms": 1000 * seq, "duration_ms": 1500, "peak_rate_mrads": 2000,
            "peak_angle_mrad": 300, "confidence": 90, "flags": 1}  # fmt: skip


def timed(f: Callable[[], None]) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def store_run(path: Path, n: int, batch: int) -> float:
    with Store(path) as s:
        s.add_sync(DEVICE, 1, 0, T0)

        def go() -> None:
            for i in range(0, n, batch):
                s.add_events(DEVICE, [event(k) for k in range(i, min(n, i + batch))], T0)

        dt = timed(go)
        assert s.count_events(DEVICE) == n
    return dt


def reference_run(store_path: Path, path: Path, n: int, batch: int) -> float:
    """Plain sqlite3 into a copy of the store's events table (DDL read from a store file)."""
    src = sqlite3.connect(store_path)
    ddl = [r[0] for r in src.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL ORDER BY type DESC")]
    src.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for stmt in ddl:
        conn.execute(stmt.replace("REFERENCES devices(device_id)", ""))
    sql = f"INSERT OR IGNORE INTO events(device, {', '.join(COLS)}, received_wall_s) VALUES ({', '.join('?' * (len(COLS) + 2))})"

    def go() -> None:
        for i in range(0, n, batch):
            rows = [(DEVICE, *(event(k)[c] for c in COLS), T0) for k in range(i, min(n, i + batch))]
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")

    dt = timed(go)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == n
    conn.close()
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20000, help="events inserted in batches")
    ap.add_argument("--single", type=int, default=2000, help="events inserted one by one")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3, help="median of N")
    ap.add_argument("--dir", help="where the databases go (the disk's fsync rate is measured)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.quick:
        args.events, args.single, args.runs = args.events // 10, args.single // 10, 1
    base = Path(tempfile.mkdtemp(prefix="spasmwatch-store-bench-", dir=args.dir))
    times: dict[str, list[float]] = {"store_batch": [], "store_single": [], "ref_batch": [], "ref_single": []}
    for r in range(args.runs):
        d = base / f"run{r}"
        d.mkdir()
        # Interleaved, so a change in machine load hits both sides alike.
        times["store_batch"].append(store_run(d / "sb.db", args.events, args.batch))
        times["ref_batch"].append(reference_run(d / "sb.db", d / "rb.db", args.events, args.batch))
        times["store_single"].append(store_run(d / "ss.db", args.single, 1))
        times["ref_single"].append(reference_run(d / "sb.db", d / "rs.db", args.single, 1))
        print(f"run {r + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), file=sys.stderr, flush=True)
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    rate = {
        "store_batch": args.events / med["store_batch"],
        "ref_batch": args.events / med["ref_batch"],
        "store_single": args.single / med["store_single"],
        "ref_single": args.single / med["ref_single"],
    }
    ratios = {
        "store_vs_sqlite_batch": rate["store_batch"] / rate["ref_batch"],
        "store_vs_sqlite_single": rate["store_single"] / rate["ref_single"],
        "store_batch_vs_single": rate["store_batch"] / rate["store_single"],
    }
    print(f"Store.add_events, WAL + synchronous=FULL, {args.events} events in batches of {args.batch}, {args.single} one by one; "
          f"median of {args.runs}; databases in {base}")  # fmt: skip
    print(f"  Store.add_events batch of {args.batch}:   {rate['store_batch']:10.0f} events/s")
    print(f"  sqlite3 executemany batch:       {rate['ref_batch']:10.0f} events/s   store / sqlite3 = {ratios['store_vs_sqlite_batch']:.2f}")
    print(f"  Store.add_events one by one:     {rate['store_single']:10.0f} events/s")
    print(f"  sqlite3 INSERT + COMMIT per row: {rate['ref_single']:10.0f} events/s   store / sqlite3 = {ratios['store_vs_sqlite_single']:.2f}")
    print(f"  batch / one by one (store):      {ratios['store_batch_vs_single']:10.1f}x")
    if args.json:
        out = {"events": args.events, "single": args.single, "batch": args.batch, "runs": args.runs, "dir": str(base),
               "seconds": times, "events_per_s": rate, "ratios": ratios, "cpus": os.cpu_count()}  # fmt: skip
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    import shutil

    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
