"""How often the cluster heads-up (WARNING) would come with no cluster after it, on simulated days.

    python bench/heads_up.py                 # confounders 1 h x 12 seeds, night 8 h x 4, day 24 h x 4
    python bench/heads_up.py --quick         # confounders 1 h x 2 seeds, day 24 h x 1
    python bench/heads_up.py --json out.json

Each recording is simulated (``spasmwatch simulate``'s scenarios) and replayed through the same
``replay`` as ``spasmwatch replay`` / ``evaluate``. Its cluster tracker is watched from outside
(``ClusterTracker.add`` wrapped here, nothing of it changed): a chain counts as heads-up when it
becomes ``Cluster.forming`` (the daemon's heads-up, docs/alerts.md "States"), and as followed when
the same chain later becomes a cluster (its alarm). Reported: heads-ups, followed ones, false ones
(never followed; how many of them lie in a true cluster's span: a part of it the tracker split
off or missed) and false ones per 24 h of recording, per scenario kind and over all.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from spasmwatch.analysis.clusters import Cluster, ClusterTracker, Spasm
from spasmwatch.analysis.replay import Block, replay
from spasmwatch.sim import Scenario, simulate

FULL = [("confounders", 12), ("night", 4), ("day", 4)]
QUICK = [("confounders", 2), ("day", 1)]
# A heads-up never followed whose chain starts within this of a true cluster's span is a part of it
# (a cluster the tracker split or missed), not a confounder's (s: a cluster's close time).
NEAR_S = 60.0


def run_one(kind: str, seed: int) -> dict[str, Any]:
    sc = Scenario(kind=kind, seed=seed, rate_hz=100.0, has_gyro=True)
    rec = simulate(sc)
    warned: dict[int, Cluster] = {}
    add = ClusterTracker.add

    def watched(self: ClusterTracker, s: Spasm) -> Cluster | None:
        out = add(self, s)
        cur = self.current
        if cur is not None and cur.forming and id(cur) not in warned:
            warned[id(cur)] = cur  # (held: its id is not reused while it is kept here)
        return out

    ClusterTracker.add = watched  # type: ignore[method-assign]
    try:
        list(replay([Block(rec.t, rec.acc, rec.gyro)], 100.0, True))
    finally:
        ClusterTracker.add = add  # type: ignore[method-assign]
    followed = sum(c.alert_t is not None for c in warned.values())
    t0 = float(rec.t[0])
    spans = [(t0 + float(tc["start"]) - NEAR_S, t0 + float(tc["end"]) + NEAR_S) for tc in rec.truth.get("clusters", [])]
    in_true = sum(c.alert_t is None and any(a <= c.start <= b for a, b in spans) for c in warned.values())
    return {"kind": kind, "seed": seed, "hours": sc.resolved_duration_s / 3600.0, "heads_up": len(warned), "followed": followed,
            "false_in_true_cluster": in_true, "true_clusters": len(spans)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    rows = [run_one(kind, seed) for kind, n in (QUICK if args.quick else FULL) for seed in range(1, n + 1)]
    for r in rows:
        print(f"{r['kind']:12} seed {r['seed']}  {r['hours']:5.1f} h  heads-up {r['heads_up']:3}  followed {r['followed']:3}  "
              f"never, in a true cluster {r['false_in_true_cluster']:2}  "
              f"(true clusters {r['true_clusters']})")  # fmt: skip
    kinds = sorted({r["kind"] for r in rows})
    summary = {}
    for k in kinds + ["all"]:
        sel = [r for r in rows if k in ("all", r["kind"])]
        hours = sum(r["hours"] for r in sel)
        false = sum(r["heads_up"] - r["followed"] for r in sel)
        summary[k] = {"hours": hours, "heads_up": sum(r["heads_up"] for r in sel), "false": false, "false_per_24h": false * 24 / hours}
        print(f"{k:12} {hours:6.1f} h: {summary[k]['heads_up']} heads-ups, {false} never followed by a cluster: "
              f"{summary[k]['false_per_24h']:.1f} per 24 h")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "summary": summary}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
