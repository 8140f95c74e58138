"""Replay throughput on 24 h of 100 Hz 6-axis data, against a pure-Python loop.

Measured in one run, on the same simulated day:
  1. ``spasmwatch replay FILE --jsonl`` in a fresh process, from the CSV file
     (reading included): wall time, peak RSS, x real time;
  2. the analysis alone (arrays in memory, 1e6-row blocks), x real time;
  3. the naive reference: the band's streaming detector and epoch features
     stepped sample by sample in CPython over a slice, extrapolated.
Prints ratios; ``--json FILE`` also writes them. Never asserts a time.

usage: python bench/replay.py [--hours 24] [--seed 1] [--naive-minutes 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from spasmwatch.analysis.replay import Block, replay
from spasmwatch.analysis.twin import to_units
from spasmwatch.sim import Scenario, simulate
from swcore.detector import Detector
from swcore.epoch import EpochFeatures

RATE_HZ = 100.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def csv_path(hours: float, seed: int) -> Path:
    """The day as CSV, written by a separate process (so this one stays small
    while the replay child runs) and cached for later runs."""
    cache = Path(tempfile.gettempdir()) / "spasmwatch-bench"
    cache.mkdir(exist_ok=True)
    path = cache / f"day_{hours:g}h_seed{seed}.csv"
    if not path.exists():
        log(f"simulating {hours:g} h at {RATE_HZ:g} Hz (seed {seed}) into {path} ...")
        subprocess.run(
            [sys.executable, "-m", "spasmwatch", "simulate", str(path), "--kind", "day",
             "--hours", str(hours), "--rate", str(RATE_HZ), "--seed", str(seed)],
            check=True, stdout=subprocess.DEVNULL,
        )
    return path


# The child reports its own peak RSS: RUSAGE_CHILDREN would count this
# process's memory, which a forked child holds until it execs.
_CHILD = (
    "import resource, sys; from spasmwatch.cli import main; rc = main(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
)


def full_replay(path: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of the CLI in a fresh process."""
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, "replay", str(path), "--jsonl"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True,
    )
    wall = time.perf_counter() - t0
    return wall, int(res.stderr.split()[-1]) / 1024.0


def analysis_only(rec: object) -> float:
    t, acc, gyro = rec.t, rec.acc, rec.gyro  # type: ignore[attr-defined]
    step = 1_000_000
    blocks = [Block(t[s : s + step], acc[s : s + step], gyro[s : s + step]) for s in range(0, len(t), step)]
    t0 = time.perf_counter()
    for _ in replay(blocks, RATE_HZ, True):
        pass
    return time.perf_counter() - t0


def naive(rec: object, minutes: float) -> tuple[float, int]:
    """Seconds for the streaming code stepped in CPython over ``minutes`` of the day."""
    n = int(minutes * 60 * RATE_HZ)
    mid = len(rec.t) // 2  # type: ignore[attr-defined]
    a, g = to_units(rec.acc[mid : mid + n], rec.gyro[mid : mid + n])  # type: ignore[attr-defined]
    rows = np.hstack([a, g]).tolist()
    det = Detector(RATE_HZ, True)
    ep = EpochFeatures(det.fe)
    t0 = time.perf_counter()
    for row in rows:
        det.step(*row)
        ep.step()
    return time.perf_counter() - t0, n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--naive-minutes", type=float, default=10.0)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    path = csv_path(args.hours, args.seed)
    span_s = args.hours * 3600.0
    log("full replay from CSV in a fresh process...")
    wall, rss = full_replay(path)
    log("simulating the same day in memory...")
    rec = simulate(Scenario(kind="day", duration_s=span_s, rate_hz=RATE_HZ, seed=args.seed))
    log("analysis only, arrays in memory...")
    ana = analysis_only(rec)
    log(f"naive pure-Python loop over {args.naive_minutes:g} min...")
    nv, n = naive(rec, args.naive_minutes)
    naive_x = (n / RATE_HZ) / nv
    res = {
        "hours": args.hours,
        "csv_mb": round(os.path.getsize(path) / 1e6, 1),
        "full_replay_s": round(wall, 2),
        "full_replay_x_realtime": round(span_s / wall),
        "full_replay_peak_rss_mb": round(rss),
        "analysis_s": round(ana, 2),
        "analysis_x_realtime": round(span_s / ana),
        "naive_x_realtime": round(naive_x, 1),
        "full_vs_naive": round(span_s / wall / naive_x, 1),
        "analysis_vs_naive": round(span_s / ana / naive_x, 1),
    }
    print(f"{args.hours:g} h of {RATE_HZ:g} Hz 6-axis data ({res['csv_mb']} MB CSV)")
    print(f"  spasmwatch replay (CSV, fresh process): {wall:6.2f} s  {res['full_replay_x_realtime']:>8} x real time, "
          f"peak RSS {res['full_replay_peak_rss_mb']} MB")
    print(f"  analysis only (numpy twin, in memory):  {ana:6.2f} s  {res['analysis_x_realtime']:>8} x real time")
    print(f"  naive per-sample loop (CPython):        {res['naive_x_realtime']:>17} x real time")
    print(f"  ratio full replay / naive: {res['full_vs_naive']}x;  analysis / naive: {res['analysis_vs_naive']}x")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
