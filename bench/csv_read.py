"""Benchmark: read a 24 h, 100 Hz, 6-axis recording with spasmwatch.io.

Writes the recording (8.64 M lines, synthetic values written the way a logger
writes them: t to 0.01 s, g to 4 decimals, deg/s to 2) into a temp dir, then
times ``open_recording`` + iterating every chunk, each run in a fresh process
(so its peak memory is the reader's own), next to ``numpy.loadtxt`` on the
first tenth of the same file, in the same run. Prints seconds, MB/s, the
reader's peak memory and the speed ratio.

    python bench/csv_read.py [--hours 24] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

RATE_HZ = 100
FIELDS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
MB = 1e6


def write_recording(path: Path, rows: int) -> None:
    """Synthetic but logger-like: gravity on z, noise, rounded as a logger rounds."""
    rng = np.random.default_rng(7)
    schema = pa.schema([(f, pa.float64()) for f in FIELDS])
    with open(path, "wb") as f:
        f.write((",".join(FIELDS) + "\n").encode())
        with pacsv.CSVWriter(f, schema, write_options=pacsv.WriteOptions(include_header=False)) as writer:
            for start in range(0, rows, 1_000_000):
                i = np.arange(start, min(rows, start + 1_000_000))
                acc = [np.round(rng.normal(0, 0.05, len(i)) + (k == 2), 4) for k in range(3)]
                gyro = [np.round(rng.normal(0, 5.0, len(i)), 2) for _ in range(3)]
                writer.write_table(pa.table([np.round(i / RATE_HZ, 2), *acc, *gyro], schema=schema))


def read_once(path: str) -> dict[str, float]:
    """One timed full read (run in a child process)."""
    from spasmwatch.io import open_recording

    wall, cpu = time.perf_counter(), time.process_time()
    rec = open_recording(path)
    rows, checksum = 0, 0.0
    for chunk in rec.chunks():
        rows += len(chunk)
        checksum += float(chunk.acc[-1, 2])  # touch the data
    return {
        "s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "rows": rows,
        "rate_hz": rec.rate_hz,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def read_in_child(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def first_tenth(path: Path, rows: int, dest: Path) -> None:
    """Header plus the first rows/10 lines of path."""
    with open(path, "rb") as src, open(dest, "wb") as out:
        for _ in range(rows // 10 + 1):
            out.write(src.readline())


def time_loadtxt(path: Path) -> float:
    start = time.perf_counter()
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    assert data.shape[1] == len(FIELDS)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(read_once(args.child)))
        return
    rows = int(args.hours * 3600 * RATE_HZ)
    with tempfile.TemporaryDirectory(prefix="swbench-") as tmp:
        big, tenth = Path(tmp) / "rec.csv", Path(tmp) / "tenth.csv"
        write_recording(big, rows)
        first_tenth(big, rows, tenth)
        size_mb, tenth_mb = big.stat().st_size / MB, tenth.stat().st_size / MB
        print(f"file: {rows} rows x 7 columns, {size_mb:.0f} MB; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        runs = [read_in_child(big) for _ in range(args.runs)]
        assert all(r["rows"] == rows for r in runs)
        ours = statistics.median(r["s"] for r in runs)
        loadtxt_s = time_loadtxt(tenth)
    each = ", ".join(f"{r['s']:.2f}" for r in runs)
    print(f"spasmwatch.io : {ours:.2f} s (runs: {each}), {size_mb / ours:.0f} MB/s, "
          f"cpu {statistics.median(r['cpu_s'] for r in runs):.2f} s, peak RSS {max(r['peak_mb'] for r in runs):.0f} MB, "
          f"rate {runs[0]['rate_hz']} Hz")
    print(f"numpy.loadtxt : {loadtxt_s:.2f} s for 1/10 of the file, {tenth_mb / loadtxt_s:.0f} MB/s")
    print(f"ratio         : {(size_mb / ours) / (tenth_mb / loadtxt_s):.1f}x loadtxt's throughput")
    if args.json:
        res = {"rows": rows, "csv_mb": round(size_mb, 1), "cpus": os.cpu_count(), "runs_s": [round(r["s"], 3) for r in runs],
               "read_s": round(ours, 3), "mb_per_s": round(size_mb / ours), "peak_rss_mb": round(max(r["peak_mb"] for r in runs)),
               "loadtxt_mb_per_s": round(tenth_mb / loadtxt_s, 1), "vs_loadtxt": round((size_mb / ours) / (tenth_mb / loadtxt_s), 1)}
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
