"""A growing cluster's store writes: a backfill whose events chain into one cluster, against one of unclustered events.

    python bench/cluster_growth.py              # chains of 2048 and 256 events, median of 3
    python bench/cluster_growth.py --quick      # chains of 512 and 64, 1 run
    python bench/cluster_growth.py --dir /var/tmp --json out.json

The daemon in-process (``Daemon`` on a ``Store`` file in ``--dir``, WAL with
``synchronous=FULL`` as it runs), one band connected and backfilling: each
EVENT record goes through ``Daemon.on_record`` as its session hands it on (the
store's commit, the live analysis, the cluster's row and event list written in
one transaction each time the cluster grows). Measured, per record:

- ``chain N``: N events ``--spacing`` s apart, all one cluster;
- ``chain N/8``: the same with an eighth of the events: a cost linear in the
  cluster's size per record shows as chain N / chain N/8 = 8, none as 1;
- the reference: N events 60 s apart (over ``CLUSTER_MAX_GAP_MS``): no cluster,
  the commit and the analysis alone.

Ratios: each chain's per-record cost / the reference's, and chain N / chain N/8.
Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from spasmwatch.clock import SinceBoot
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import BandInfo, State
from spasmwatch.store import Store
from swcore import protocol as P

DEVICE = "bench0001"
T0 = 1_800_000_000.0
UNCLUSTERED_S = 60.0  # apart: over the chain's 40 s reach (CLUSTER_MAX_GAP_MS), each event alone


class Clock:
    """The daemon's clock held where the backfill arrives (after the band's last event)."""

    rate = 1.0

    def __init__(self, t: float) -> None:
        self.t = t

    def wall(self) -> float:
        return self.t

    def mono(self) -> float:
        return time.monotonic()

    def since_boot(self) -> SinceBoot | None:
        return SinceBoot("bench", self.t)


def event(seq: int, onset_ms: int) -> dict[str, Any]:
    return {"type": "event", "boot": 1, "seq": seq, "onset_ms": onset_ms, "duration_ms": 1500, "peak_rate_mrads": 2000,
            "peak_angle_mrad": 300, "confidence": 90, "flags": P.EF_TIME_SYNCED}  # fmt: skip


def backfill(path: Path, n: int, spacing_s: float) -> tuple[float, int]:
    """Seconds the daemon takes to handle a backfill of ``n`` events ``spacing_s`` apart; the stored
    clusters' largest event list (a check that the chain was one cluster)."""
    records = [event(seq, round(seq * spacing_s * 1000)) for seq in range(n)]
    clock = Clock(T0 + n * spacing_s + 120)
    with Store(path) as store:
        store.add_sync(DEVICE, 1, 0, T0)
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=clock)  # type: ignore[arg-type,return-value]  # driven here
        b = d.bands[0]
        b.session.info = BandInfo(DEVICE, "spasmwatch-band", "bench", "sim", "sim:0", "sim")
        d.on_connected(b.session.info)
        d.next_backfill_seq(DEVICE)
        t = time.perf_counter()
        for rec in records:
            d.on_record(DEVICE, rec, clock.t)
        dt = time.perf_counter() - t
        d.on_record(DEVICE, {"type": "loginfo", "flags": P.LF_DONE}, clock.t)
        b.session._set(State.STREAMING)
        biggest = max((len(store.cluster_events(c.id)) for c in store.clusters(DEVICE)), default=0)
    return dt, biggest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=2048, help="events in the long chain (the short one: an eighth)")
    ap.add_argument("--spacing", type=float, default=5.0, help="s between a chain's events (the whole chain within REBUILD_WINDOW_S)")
    ap.add_argument("--runs", type=int, default=3, help="median of N")
    ap.add_argument("--dir", help="where the databases go (the disk's fsync rate is measured)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.quick:
        args.events, args.runs = args.events // 4, 1
    n, short = args.events, args.events // 8
    base = Path(tempfile.mkdtemp(prefix="spasmwatch-cluster-bench-", dir=args.dir))
    times: dict[str, list[float]] = {"chain": [], "chain_short": [], "reference": []}
    for r in range(args.runs):
        d = base / f"run{r}"
        d.mkdir()
        # Interleaved, so a change in machine load hits all alike.
        for name, count, spacing, expect in (
            ("reference", n, UNCLUSTERED_S, 0),
            ("chain", n, args.spacing, n),
            ("chain_short", short, args.spacing, short),
        ):
            dt, biggest = backfill(d / f"{name}.db", count, spacing)
            assert biggest == expect, (name, biggest, expect)
            times[name].append(dt / count)
        print(f"run {r + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1] * 1000:.2f} ms/record" for k, v in times.items()), file=sys.stderr, flush=True)
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    ratios = {
        "chain_vs_reference": med["chain"] / med["reference"],
        "chain_short_vs_reference": med["chain_short"] / med["reference"],
        "chain_vs_chain_short": med["chain"] / med["chain_short"],
    }
    print(f"Daemon.on_record, a backfill of EVENT records, WAL + synchronous=FULL; median of {args.runs}; databases in {base}")
    print(f"  unclustered, {n} events {UNCLUSTERED_S:g} s apart:  {med['reference'] * 1000:8.2f} ms/record")
    print(f"  one cluster, {n} events {args.spacing:g} s apart:  {med['chain'] * 1000:8.2f} ms/record   / unclustered = {ratios['chain_vs_reference']:.2f}")
    print(f"  one cluster, {short} events {args.spacing:g} s apart:  {med['chain_short'] * 1000:8.2f} ms/record   / unclustered = {ratios['chain_short_vs_reference']:.2f}")
    print(f"  chain of {n} / chain of {short} (per record):  {ratios['chain_vs_chain_short']:8.2f}x   (8: linear in the cluster per record, 1: not)")
    if args.json:
        out = {"events": n, "short": short, "spacing_s": args.spacing, "runs": args.runs, "dir": str(base),
               "s_per_record": times, "ratios": ratios, "cpus": os.cpu_count()}  # fmt: skip
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
