"""Run every benchmark, one after the other, and write one JSON summary.

    python bench/run_all.py            # full: 24 h replay and comparisons, 60 s of fuzzing per target
    python bench/run_all.py --quick    # smoke run: 1 h, 5 s per fuzz target, 40 min fault campaign, 3 bands 30 s, 2 alarm latency runs, short soak

Runs replay.py, csv_read.py, firmware_cost.py, log_flash_cost.py, compare.py, fuzz.py, store_insert.py, cluster_growth.py, heads_up.py,
raw_damage.py, faults.py, load.py, alarm_latency.py, soak.py, nightcost.py and dayscost.py, each in its
own process with ``--json bench/results/<name>.json``, shows their output as it
comes, and writes bench/results/summary.json: each bench's exit code, wall time
and numbers, and the headline ratios. A bench that fails is recorded as failed;
the others still run. Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


def benches(quick: bool, fuzz_seconds: float | None) -> dict[str, list[str]]:
    q = ["--quick"] if quick else []
    fuzz = ["--seconds", str(fuzz_seconds)] if fuzz_seconds is not None else q
    return {
        "replay": ["replay.py", *q],
        "csv_read": ["csv_read.py", *(["--hours", "1", "--runs", "1"] if quick else [])],
        "firmware_cost": ["firmware_cost.py", *(["--samples", "3000"] if quick else [])],
        "log_flash_cost": ["log_flash_cost.py"],
        "compare": ["compare.py", *q],
        "fuzz": ["fuzz.py", *fuzz],
        "store_insert": ["store_insert.py", *q],
        "cluster_growth": ["cluster_growth.py", *q],
        "heads_up": ["heads_up.py", *q],
        "raw_damage": ["raw_damage.py", *(["--hours", "1", "--runs", "1", "--fake-mb", "1"] if quick else ["--rss"])],
        "faults": ["faults.py", *q],
        "load": ["load.py", *q],
        "alarm_latency": ["alarm_latency.py", *q],
        "soak": ["soak.py", *q],
        "nightcost": ["nightcost.py", *q],
        "dayscost": ["dayscost.py", *q],
    }


def headline(name: str, r: dict[str, Any]) -> dict[str, Any]:
    """The few numbers worth a glance, per bench."""
    if name == "replay":
        return {k: r.get(k) for k in ("full_replay_x_realtime", "full_replay_peak_rss_mb", "analysis_x_realtime",
                                      "full_vs_naive", "analysis_vs_naive")}
    if name == "csv_read":
        return {k: r.get(k) for k in ("mb_per_s", "peak_rss_mb", "vs_loadtxt")}
    if name == "firmware_cost":
        return r.get("ratio_to_bare_loop", {})
    if name == "log_flash_cost":
        return {k: v["erases"] for k, v in r.items() if isinstance(v, dict)}
    if name == "compare":
        return {k: {m: (round(v, 2) if isinstance(v, float) else v) for m, v in q.items()} for k, q in r.get("ratios", {}).items()}
    if name == "fuzz":
        return {"inputs": r.get("inputs"), "crash_groups": r.get("crash_groups"),
                "per_target": {t: [v["inputs"], v["crashes"]] for t, v in r.get("targets", {}).items()}}
    if name == "heads_up":
        return {k: round(v["false_per_24h"], 2) for k, v in r.get("summary", {}).items()}
    if name in ("store_insert", "cluster_growth", "dayscost"):
        return {k: round(v, 2) for k, v in r.get("ratios", {}).items()}
    if name == "raw_damage":
        return {k: round(v["ratio"], 2) for k, v in (r.get("cases", {}) | r.get("fakes", {})).items()}
    if name == "faults":
        return {k: r.get(k) for k in ("events_logged", "events_stored", "duplicates", "expected_alarms", "clusters_alarmed")} | {
            "faults": {k: v for k, v in r.get("faults", {}).items() if k != "clock_jumps_s"}}
    if name == "load":
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()
                if k in ("bands", "daemon_cpu_pct", "daemon_peak_rss_mb", "latency_p50_s", "latency_p90_s", "latency_p99_s", "host_max_s",
                         "bands_with_loss")}
    if name == "alarm_latency":
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()
                if k in ("runs", "latency_median_s", "latency_max_s", "host_max_s", "latency_vs_band_median", "latency_vs_post_max")}
    if name == "soak":
        return {p: {"cycles": r[p]["cycles"], "growth": r[p]["growth"], "unexplained_objects": r[p]["unexplained_objects"],
                    "over_bound": r[p]["over_bound"]} for p in ("reconnects", "away", "clusters") if p in r} | {
            "quiet_log_lines_per_hour": r.get("quiet", {}).get("per_hour"),
            "quiet_band_log_lines_per_hour": r.get("quiet_band", {}).get("per_hour")}
    if name == "nightcost":
        keys = ("cpu_s_per_sim_h", "wakeups_per_sim_h", "written_kb_per_sim_h", "log_lines_per_sim_h", "db_kb_per_sim_day")
        return {m: {k: r[m][k] for k in keys} for m in ("idle", "events", "raw") if m in r} | {"idle_at_1x": r.get("idle_at_1x")}
    return {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run of every bench")
    ap.add_argument("--only", default="", help="comma-separated subset of " + ",".join(benches(False, None)))
    ap.add_argument("--fuzz-seconds", type=float, help="fuzz budget per target (default: fuzz.py's)")
    ap.add_argument("--out", default=str(RESULTS / "summary.json"))
    args = ap.parse_args()
    todo = benches(args.quick, args.fuzz_seconds)
    names = [n for n in args.only.split(",") if n] or list(todo)
    if unknown := set(names) - set(todo):
        raise SystemExit(f"unknown bench(es) {sorted(unknown)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"quick": args.quick, "cpus": os.cpu_count(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                               "python": sys.version.split()[0], "benches": {}}
    for name in names:
        out = RESULTS / f"{name}.json"
        out.unlink(missing_ok=True)
        cmd = [sys.executable, str(BENCH / todo[name][0]), *todo[name][1:], "--json", str(out)]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, cwd=BENCH.parent).returncode
        entry: dict[str, Any] = {"rc": rc, "wall_s": round(time.perf_counter() - t0, 1), "json": str(out)}
        if out.exists():
            entry["results"] = json.loads(out.read_text())
            entry["headline"] = headline(name, entry["results"])
        summary["benches"][name] = entry
    summary["load_1min_end"] = os.getloadavg()[0]
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print("\n=== summary")
    for name, e in summary["benches"].items():
        print(f"  {name:14} rc {e['rc']}  {e['wall_s']:7.1f} s  {json.dumps(e.get('headline', {}))}")
    print(f"wrote {args.out}")
    return 0 if all(e["rc"] == 0 for e in summary["benches"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
