"""Sync growth: does the store work of one TIME_SYNC grow with the syncs a store has kept?

    python bench/sync_growth.py                  # 10, 1000, 10000, 50000 syncs kept
    python bench/sync_growth.py --kept 10,20000 --json out.json

A band is synced at each connect and every RESYNC_S (an hour) while it streams, and every sync is
kept (``syncs``, history: docs/store.md): a year of one band is 8760 at least, a band at the edge of
range that reconnects every few minutes adds hundreds a night. At each sync the daemon
(``Daemon.on_sync``) stores it (``Store.add_sync``), checks the band's syncs of this computer boot
against the clock as it reads now (``Store.place_on_clock``: were any made on a wall stepped since?)
and the boots placed through the band's reset links (``Store.place_by_links``); all on the event loop.

Measured here, on a store on disk holding N syncs of one band boot in one computer boot (WAL,
``synchronous=FULL``, as the daemon opens it): each call's mean over ``--runs`` syncs, and the
ratio to the same on a store of the smallest N (the reference, same run). Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from spasmwatch.daemon import consts as K
from spasmwatch.store import Store

DEVICE, HOST_BOOT, WALL0 = "sync0001", "boot-a", 1_800_000_000.0


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measure(kept: int, runs: int) -> dict[str, float]:
    """ms per call of each part of a sync, on a store holding ``kept`` syncs a minute apart."""
    with tempfile.TemporaryDirectory(prefix="sync-growth-") as td:
        path = Path(td) / "s.db"
        with Store(path) as s:
            s.add_sync(DEVICE, 0, 0, WALL0, HOST_BOOT, 100.0)
        c = sqlite3.connect(path)  # the rest written at once: the same rows a daemon's syncs leave
        with c:
            c.executemany(
                "INSERT INTO syncs(device, boot, band_ms, wall_s, host_boot, host_boot_s) VALUES (?, ?, ?, ?, ?, ?)",
                [(DEVICE, 0, i * 60_000, WALL0 + i * 60, HOST_BOOT, 100.0 + i * 60) for i in range(1, kept)],
            )
        c.close()
        out: dict[str, float] = {}
        with Store(path) as s:
            calls = {
                "add_sync": lambda i: s.add_sync(DEVICE, 0, i * 60_000, WALL0 + i * 60, HOST_BOOT, 100.0 + i * 60),
                "place_on_clock": lambda i: s.place_on_clock(DEVICE, HOST_BOOT, WALL0 - 100.0, K.HOST_STEP_S),
                "place_by_links": lambda i: s.place_by_links(DEVICE, [0], K.HOST_STEP_S, K.BAND_DRIFT_PPM),
            }
            for name, call in calls.items():
                t = time.perf_counter()
                for k in range(runs):
                    call(kept + k)
                out[name] = (time.perf_counter() - t) / runs * 1000
        out["sync"] = sum(out.values())
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kept", default="10,1000,10000,50000", help="syncs kept in the store, comma-separated (the first: the reference)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    kept = [int(x) for x in args.kept.split(",")]
    rows: dict[int, dict[str, float]] = {}
    for n in kept:
        progress(f"{n} syncs kept ...")
        rows[n] = measure(n, args.runs)
    ref = rows[kept[0]]
    print(f"ms per call (mean of {args.runs}), and x the store of {kept[0]} syncs:")
    for n, r in rows.items():
        print(f"  {n:>7} syncs: " + ", ".join(f"{k} {v:.2f} ({v / ref[k]:.1f}x)" for k, v in r.items()))
    a, b = kept[0], kept[-1]
    grow = {k: round((rows[b][k] - rows[a][k]) / (b - a) * 1000, 3) for k in ref}
    print(f"growth per 1000 syncs kept (ms): {grow}")
    result: dict[str, Any] = {"runs": args.runs, "ms": rows, "ms_per_1000_syncs": grow}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
