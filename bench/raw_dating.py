"""What measuring the band's real rate costs the daemon (daemon/rawdating.py, docs/rawfile.md "Dating").

  1. the fit per RAW record: ``RateFit.add`` for every record of a simulated day at 100 Hz (19
     samples a record, 5 ms + exponential 40 ms latency, 2 % held 0.3-3 s), and ``line()`` once
     per RAW_DATING_EVERY_S as the daemon calls it: us per record, amortised;
  2. the dating error of those lines against the band's true clock (IMU 1 % fast), ms;
  3. the bytes a day the dating records add (one per RAW_DATING_EVERY_S, DATING_SIZE bytes).

usage: python bench/raw_dating.py [--hours 24] [--pct 1.0] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.rawdating import RateFit
from spasmwatch.io.rawfile import DATING_SIZE

RATE_HZ = 100.0
PER_RECORD = 19


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--pct", type=float, default=1.0, help="the IMU's rate error, %% (as firmware/sim --imu-odr-error-pct)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    actual = RATE_HZ * (1 + args.pct / 100)
    rng = np.random.default_rng(args.seed)
    ends = np.arange(PER_RECORD, int(args.hours * 3600 * actual), PER_RECORD)
    sent = ends / actual
    late = np.where(rng.random(len(ends)) < 0.02, rng.uniform(0.3, 3.0, len(ends)), rng.exponential(0.040, len(ends)))
    arrive = np.maximum.accumulate(sent + 0.005 + late)  # an in-order link
    fit = RateFit(RATE_HZ)
    add_s = line_s = 0.0
    lines = 0
    errors: list[float] = []
    next_line = K.RAW_DATING_EVERY_S
    for end, at in zip(ends.tolist(), arrive.tolist(), strict=True):
        t = time.perf_counter()
        fit.add(end, at)
        add_s += time.perf_counter() - t
        if at >= next_line:
            t = time.perf_counter()
            line = fit.line()
            line_s += time.perf_counter() - t
            lines, next_line = lines + 1, at + K.RAW_DATING_EVERY_S
            if line is not None:
                errors.append(line.mono_at(end) - end / actual)
    n = len(ends)
    err = np.abs(np.array(errors)) * 1000
    print(f"{args.hours:g} h at {actual:.2f} Hz (IMU {args.pct:+g} %): {n} RAW records, {lines} fits")
    print(f"  RateFit.add:  {add_s / n * 1e6:6.2f} us a record")
    print(f"  line():       {line_s / max(lines, 1) * 1e6:6.0f} us a fit, one per {K.RAW_DATING_EVERY_S:g} s")
    print(f"  amortised:    {(add_s + line_s) / n * 1e6:6.2f} us a record")
    print(f"  dating error: median {np.median(err):.1f} ms, 99th pct {np.percentile(err, 99):.1f} ms, max {err.max():.1f} ms "
          f"(the link's least latency, 5 ms, included)")  # fmt: skip
    per_day = 86400 / K.RAW_DATING_EVERY_S * DATING_SIZE
    print(f"  dating records: {per_day / 1000:.1f} kB a day ({DATING_SIZE} B every {K.RAW_DATING_EVERY_S:g} s), "
          f"{per_day / (86400 * RATE_HZ * 12) * 100:.3f} % of a day's raw at 100 Hz")


if __name__ == "__main__":
    main()
