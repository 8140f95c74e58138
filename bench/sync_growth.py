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
ratio to the same on a store of the smallest N (the reference, same run). ``place_on_clock`` reads
the syncs made on a wall stepped since by the index syncs_offset (schema v16, ``placing.stepped_syncs``);
``place_on_clock_full_read`` is the same call reading all of the band's syncs of the computer boot, as
it did until then (``full_read``, the reference tests/test_store.py holds it to): their ratio, same
store, same run. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spasmwatch.daemon import consts as K
from spasmwatch.store import Store, placing

DEVICE, HOST_BOOT, WALL0 = "sync0001", "boot-a", 1_800_000_000.0


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def full_read(device: str, host_boot: str, offset_s: float, tolerance_s: float) -> tuple[str, tuple[object, ...]]:
    """``placing.stepped_syncs`` as place_on_clock read them until schema v16: all of the band's syncs
    of the computer boot (by the primary key's device alone), each one's offset tested."""
    return f"device = ? AND host_boot = ? AND abs(? - {placing.SYNC_OFFSET}) > ?", (device, host_boot, offset_s, tolerance_s)


@contextmanager
def reading_all() -> Iterator[None]:
    """place_on_clock reads by ``full_read`` inside."""
    indexed = placing.stepped_syncs
    placing.stepped_syncs = full_read
    try:
        yield
    finally:
        placing.stepped_syncs = indexed


# The band's boot before the one synced: one sync an hour before it, and its boot link (a watchdog
# reset 1.5 s long, measured), which agrees with both boots' syncs, so place_by_links reads a link's two
# ends at each sync (relink) and moves nothing, as the daemon's does for a band that reset once.
PREV_BOOT, BOOT, GAP_MS = 0, 1, 1_500
LINK = {"type": "bootlink", "boot": BOOT, "prev_boot": PREV_BOOT, "cause": 2, "flags": 0x01,
        "prev_ms": 3_600_000 - GAP_MS, "gap_ms": GAP_MS, "err_ms": 3}  # fmt: skip
OFFSET = WALL0 - 100.0  # the host's wall over its since-boot seconds at every sync: no step


def _place_reading_all(s: Store) -> None:
    with reading_all():
        s.place_on_clock(DEVICE, HOST_BOOT, OFFSET, K.HOST_STEP_S)


def measure(kept: int, runs: int) -> dict[str, float]:
    """ms per call of each part of a sync, on a store holding ``kept`` syncs of the band's boot a minute
    apart (and its boot before, linked)."""
    with tempfile.TemporaryDirectory(prefix="sync-growth-") as td:
        path = Path(td) / "s.db"
        with Store(path) as s:
            s.add_sync(DEVICE, PREV_BOOT, 0, WALL0 - 3600.0, HOST_BOOT, 100.0 - 3600.0)
            s.add_sync(DEVICE, BOOT, 0, WALL0, HOST_BOOT, 100.0)
            s.add_boot_link(DEVICE, LINK, WALL0)
        c = sqlite3.connect(path)  # the rest written at once: the same rows a daemon's syncs leave
        with c:
            c.executemany(
                "INSERT INTO syncs(device, boot, band_ms, wall_s, host_boot, host_boot_s) VALUES (?, ?, ?, ?, ?, ?)",
                [(DEVICE, BOOT, i * 60_000, WALL0 + i * 60, HOST_BOOT, 100.0 + i * 60) for i in range(1, kept)],
            )
        c.close()
        out: dict[str, float] = {}
        with Store(path) as s:
            calls = {
                "add_sync": lambda i: s.add_sync(DEVICE, BOOT, i * 60_000, WALL0 + i * 60, HOST_BOOT, 100.0 + i * 60),
                "place_on_clock": lambda i: s.place_on_clock(DEVICE, HOST_BOOT, OFFSET, K.HOST_STEP_S),
                "place_by_links": lambda i: s.place_by_links(DEVICE, [BOOT], K.HOST_STEP_S, K.BAND_DRIFT_PPM),
            }
            for name, call in calls.items():
                out[name] = _ms_per_call(call, kept, runs)
            out["sync"] = sum(out.values())
            out["place_on_clock_full_read"] = _ms_per_call(lambda i: _place_reading_all(s), kept, runs)
            assert not s.place_by_links(DEVICE, [BOOT], K.HOST_STEP_S, K.BAND_DRIFT_PPM)  # (the link agrees: nothing moved)
        return out


def _ms_per_call(call: Callable[[int], object], kept: int, runs: int) -> float:
    t = time.perf_counter()
    for k in range(runs):
        call(kept + k)
    return (time.perf_counter() - t) / runs * 1000


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
    index_vs_full = {n: round(r["place_on_clock"] / r["place_on_clock_full_read"], 4) for n, r in rows.items()}
    print("place_on_clock by the index / by the full read (same store, same run): "
          + ", ".join(f"{n} syncs {x:.3f}" for n, x in index_vs_full.items()))  # fmt: skip
    result: dict[str, Any] = {"runs": args.runs, "ms": rows, "ms_per_1000_syncs": grow, "index_vs_full_read": index_vs_full}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
