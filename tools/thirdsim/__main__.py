"""python -m tools.thirdsim --seed N --hours H [--rate R] [--accel-only | --six-axis] --out DIR"""

from __future__ import annotations

import argparse
import sys
import time

from tools.thirdsim.sim import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.thirdsim", description=__doc__)
    ap.add_argument("out_pos", nargs="?", metavar="OUT", help="output directory (or --out)")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--seed", type=int, default=1, help="one baby, one day per seed (default 1)")
    ap.add_argument("--seeds", type=int, nargs="+", help="several seeds, one recording each")
    ap.add_argument("--hours", type=float, default=24.0, help="length of each recording (default 24)")
    ap.add_argument("--rate", type=float, help="sample rate, 25-200 Hz (default: drawn from the seed)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--accel-only", action="store_true", default=None, help="no gyro columns")
    g.add_argument("--six-axis", dest="accel_only", action="store_false", help="gyro columns present")
    ap.add_argument("--start-clock", type=float, help="time of day at t=0, hours (default: drawn from the seed)")
    a = ap.parse_args(argv)
    out = a.out or a.out_pos
    if not out:
        ap.error("give the output directory (--out DIR)")
    for seed in a.seeds or [a.seed]:
        t0 = time.perf_counter()
        try:
            csv_path, truth_path, truth = generate(out, seed, a.hours, a.rate, a.accel_only, a.start_clock)
        except ValueError as exc:
            ap.error(str(exc))
        print(f"{csv_path}  {truth_path.name}  {truth['rate_hz']:g} Hz  gyro={truth['has_gyro']}  "
              f"clusters={len(truth['clusters'])} spasms={len(truth['spasms'])}  "
              f"not_worn={len(truth['not_worn'])}  ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
