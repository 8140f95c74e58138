"""Replay throughput on 24 h of 100 Hz 6-axis data, against a pure-Python loop.

Measured in one run, on one simulated day (``Scenario(kind="day")``, written
as CSV once and cached by hours and seed):

  1. ``spasmwatch replay FILE --jsonl`` in a fresh process, from the CSV
     (reading included): wall time, peak RSS, x real time;
  1b. the same from the band's raw file (``.swraw``, the same samples in
     counts and a dating record a minute as the daemon writes them, written
     once from the CSV and cached beside it): the analysis without CSV parsing;
  1c. the same .swraw as the two parts the daemon would write (cut at the
     middle sample, dated by the boot), replayed together by one process:
     wall time, peak RSS, and whether its JSONL is byte for byte (1b)'s;
  2. the CSV reader alone (``bench/csv_read.py``'s child, fresh process), and
     its share of (1);
  3. the analysis alone: the same samples, already in memory as CHUNK_ROWS-row (2^17)
     blocks, through ``spasmwatch.analysis.replay.replay``, x real time;
  4. the naive reference: the band's streaming ``Detector`` + ``EpochFeatures``
     stepped sample by sample in CPython over a slice of the same samples,
     extrapolated to x real time.

Prints ratios (vectorised / naive) and, with ``--profile``, the top functions
of a cProfile run of (3). ``--json FILE`` also writes the numbers. Progress
goes to stderr. Never asserts a time.

usage: python bench/replay.py [--hours 24 | --quick] [--seed 1] [--runs 3]
                              [--naive-minutes 20] [--profile [N]] [--fresh] [--json FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np

from spasmwatch.analysis.replay import Block, replay
from spasmwatch.analysis.twin import to_units
from spasmwatch.io.limits import CHUNK_ROWS
from spasmwatch.io import open_recording
from spasmwatch.io.rawfile import DatingPoint, RawHeader, RawReader, RawWriter
from swcore.detector import Detector
from swcore.epoch import EpochFeatures

sys.path.insert(0, str(Path(__file__).resolve().parent))
from csv_read import read_in_child  # noqa: E402  (bench/csv_read.py: the reader alone, in a child)

RATE_HZ = 100.0
BLOCK_ROWS = CHUNK_ROWS  # analysis-only block size: the CLI's chunks
QUICK_HOURS = 1.0
QUICK_NAIVE_MINUTES = 5.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cache_dir() -> Path:
    d = Path(os.environ.get("SPASMWATCH_BENCH_CACHE", Path(tempfile.gettempdir()) / "spasmwatch-bench"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def recording(hours: float, seed: int, fresh: bool) -> Path:
    """The simulated day as CSV, cached by hours and seed.

    Written by ``spasmwatch simulate`` (``write_recording``'s streaming twin)
    in a separate process, so this one stays small while the replay child
    runs; into a scratch dir first, so an interrupted run never leaves a
    truncated file in the cache.
    """
    path = cache_dir() / f"day_{hours:g}h_{RATE_HZ:g}hz_seed{seed}.csv"
    if path.exists() and not fresh:
        log(f"recording: {path} (cached; --fresh to regenerate)")
        return path
    log(f"simulating {hours:g} h at {RATE_HZ:g} Hz (kind day, seed {seed}) into {path} ...")
    t0 = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=".sim-", dir=path.parent))
    try:
        tmp = scratch / path.name
        subprocess.run(
            [sys.executable, "-m", "spasmwatch", "simulate", str(tmp), "--kind", "day",
             "--hours", str(hours), "--rate", str(RATE_HZ), "--seed", str(seed)],
            check=True, stdout=subprocess.DEVNULL,
        )
        for f in scratch.iterdir():  # the CSV and its .truth.json
            os.replace(f, path.parent / f.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log(f"  written in {time.perf_counter() - t0:.1f} s")
    return path


def raw_recording(csv: Path) -> Path:
    """The CSV's samples as a ``.swraw`` beside it (the band's counts: mg, 0.1 deg/s), cached.

    Written through a scratch name, so an interrupted run leaves no truncated file.
    """
    path = csv.with_suffix(".swraw")
    if path.exists() and path.stat().st_mtime >= csv.stat().st_mtime and RawReader(path).version >= 2:
        return path
    log(f"writing the same samples as {path} (a dating record a minute, as the daemon writes them) ...")
    rec = open_recording(csv)
    tmp = path.with_name(".part-" + path.name)
    every, nxt = round(60 * rec.rate_hz), 0
    with RawWriter(tmp, RawHeader("bench", rec.rate_hz, rec.has_gyro, 0.0)) as w:
        for c in rec.chunks():
            a, g = to_units(c.acc, c.gyro)
            counts = np.hstack([a, g]) if c.gyro is not None else a
            w.append(c.start_index, np.clip(counts, -32768, 32767).astype(np.int16))
            while nxt < c.start_index + len(counts):  # (1 % fast: a band's IMU off nominal)
                w.date(DatingPoint(nxt, nxt / (rec.rate_hz * 1.01), rec.rate_hz * 1.01))
                nxt += every
    os.replace(tmp, path)
    return path


def raw_parts(raw: Path) -> tuple[Path, Path]:
    """The .swraw's samples as the boot's parts 000 and 001, cut at the middle sample, cached beside it."""
    parts = tuple(raw.with_name(f"{raw.stem}-boot0-{k:03d}.swraw") for k in (0, 1))
    if all(p.exists() and p.stat().st_mtime >= raw.stat().st_mtime and RawReader(p).version >= 2 for p in parts):
        return parts[0], parts[1]
    reader = RawReader(raw)
    span = reader.index_span()
    assert span is not None
    cut = (span[0] + span[1]) // 2
    h = reader.header
    log(f"writing the same samples as two parts cut at sample {cut}: {parts[0].name}, {parts[1].name} ...")
    heads = (h, RawHeader(h.device_id, h.rate_hz, h.has_gyro, h.wall_start_s + (cut - h.index_origin) / h.rate_hz, cut))
    tmps = [p.with_name(".part-" + p.name) for p in parts]
    points = list(reader.dating().points)
    with RawWriter(tmps[0], heads[0]) as w0, RawWriter(tmps[1], heads[1]) as w1:
        for c in reader.chunks():  # one chunk in memory at a time
            while points and points[0].index <= c.first_index:  # the dating records, where they were
                p = points.pop(0)
                (w0 if p.index < cut else w1).date(p)
            k = max(0, min(len(c.samples), cut - c.first_index))
            if k:
                w0.append(c.first_index, c.samples[:k], c.dropped)
            if k < len(c.samples):
                w1.append(c.first_index + k, c.samples[k:], 0 if k else c.dropped)
    for t, p in zip(tmps, parts):
        os.replace(t, p)
    return parts[0], parts[1]


# The child reports its own peak RSS: RUSAGE_CHILDREN would count this
# process's memory, which a forked child holds until it execs.
_CHILD = (
    "import resource, sys; from spasmwatch.cli import main; rc = main(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
)


def full_replay(*paths: Path, digest: list[str] | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of ``spasmwatch replay PATH... --jsonl`` in a fresh process;
    the SHA-256 of its JSONL appended to ``digest`` when given (else it goes to /dev/null)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, "replay", *map(str, paths), "--jsonl"],
        stdout=subprocess.DEVNULL if digest is None else subprocess.PIPE, stderr=subprocess.PIPE, check=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # CPU times are per child, unlike ru_maxrss
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if digest is not None:
        digest.append(hashlib.sha256(res.stdout).hexdigest())
    return wall, cpu, int(res.stderr.split()[-1]) / 1024.0


def startup() -> float:
    """Wall seconds of a fresh interpreter importing the replay command (numpy, pyarrow, spasmwatch)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import spasmwatch.cli, spasmwatch.commands.replay"], check=True)
    return time.perf_counter() - t0


def load_blocks(path: Path) -> tuple[list[Block], bool, float]:
    """The file's samples in BLOCK_ROWS blocks, exactly as the CLI sees them; and the in-process read time."""
    t0 = time.perf_counter()
    rec = open_recording(path, chunk_rows=BLOCK_ROWS)
    blocks = [Block(c.t, c.acc, c.gyro) for c in rec.chunks()]
    if rec.rate_hz != RATE_HZ:
        raise SystemExit(f"{path}: rate {rec.rate_hz} Hz, expected {RATE_HZ:g}")
    return blocks, rec.has_gyro, time.perf_counter() - t0


def analysis(blocks: list[Block], has_gyro: bool) -> tuple[float, Counter[str]]:
    """Wall seconds of the whole in-memory replay, and the records it produced by type."""
    counts: Counter[str] = Counter()
    t0 = time.perf_counter()
    for r in replay(blocks, RATE_HZ, has_gyro):
        counts[r["type"]] += 1
    return time.perf_counter() - t0, counts


def naive(blocks: list[Block], minutes: float) -> tuple[float, int]:
    """Seconds for the band's streaming code, stepped in CPython, over ``minutes`` from mid-recording."""
    acc = np.concatenate([b.acc for b in blocks])
    gyro = np.concatenate([b.gyro for b in blocks]) if blocks[0].gyro is not None else None
    n = min(int(minutes * 60 * RATE_HZ), len(acc))
    start = (len(acc) - n) // 2
    a, g = to_units(acc[start : start + n], None if gyro is None else gyro[start : start + n])
    rows = (np.hstack([a, g]) if g is not None else a).tolist()  # Python ints, as on the band
    det = Detector(RATE_HZ, g is not None)
    ep = EpochFeatures(det.fe)
    step, estep = det.step, ep.step
    t0 = time.perf_counter()
    for row in rows:
        step(*row)
        estep()
    return time.perf_counter() - t0, n


def profile(blocks: list[Block], has_gyro: bool, top: int) -> str:
    """cProfile of one in-memory replay: the top functions by own time, then by cumulative time."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in replay(blocks, RATE_HZ, has_gyro):
        pass
    prof.disable()
    out = StringIO()
    st = pstats.Stats(prof, stream=out).strip_dirs()
    st.sort_stats("tottime").print_stats(top)
    st.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=24.0, help="length of the simulated day (default 24)")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: {QUICK_HOURS:g} h, {QUICK_NAIVE_MINUTES:g} min naive, 1 run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each vectorised measurement (median)")
    ap.add_argument("--naive-minutes", type=float, default=20.0, help="slice stepped by the naive loop")
    ap.add_argument("--profile", type=int, nargs="?", const=25, default=0, metavar="N",
                    help="also print the top N functions of a cProfile run of the analysis (default 25)")
    ap.add_argument("--fresh", action="store_true", help="regenerate the cached recording")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = ap.parse_args()
    if args.quick:
        args.hours, args.naive_minutes, args.runs = QUICK_HOURS, QUICK_NAIVE_MINUTES, 1

    path = recording(args.hours, args.seed, args.fresh)
    size_mb = path.stat().st_size / 1e6
    raw = raw_recording(path)
    parts = raw_parts(raw)

    full: list[tuple[float, float, float]] = []
    full_raw: list[tuple[float, float, float]] = []
    full_parts: list[tuple[float, float, float]] = []
    digests: tuple[list[str], list[str]] = ([], [])
    reads: list[dict[str, float]] = []
    starts: list[float] = []
    for k in range(args.runs):
        log(f"[{k + 1}/{args.runs}] spasmwatch replay --jsonl from CSV, fresh process ...")
        full.append(full_replay(path))
        log(f"[{k + 1}/{args.runs}] spasmwatch replay --jsonl from .swraw, fresh process ...")
        full_raw.append(full_replay(raw, digest=digests[0]))
        log(f"[{k + 1}/{args.runs}] spasmwatch replay --jsonl of the same as two parts, fresh process ...")
        full_parts.append(full_replay(*parts, digest=digests[1]))
        log(f"[{k + 1}/{args.runs}] CSV reader alone, and interpreter start-up alone, fresh processes ...")
        reads.append(read_in_child(path))
        starts.append(startup())
    full_s = statistics.median([w for w, _, _ in full])
    full_cpu = statistics.median([c for _, c, _ in full])
    full_rss = max(r for _, _, r in full)
    raw_s = statistics.median([w for w, _, _ in full_raw])
    raw_rss = max(r for _, _, r in full_raw)
    parts_s = statistics.median([w for w, _, _ in full_parts])
    parts_rss = max(r for _, _, r in full_parts)
    parts_same = len(set(digests[0] + digests[1])) == 1
    read_s = statistics.median([r["s"] for r in reads])
    read_cpu = statistics.median([r["cpu_s"] for r in reads])
    read_rss = max(r["peak_mb"] for r in reads)
    start_s = statistics.median(starts)

    log("loading the same CSV into memory ...")
    blocks, has_gyro, load_s = load_blocks(path)
    rows = sum(len(b.t) for b in blocks)
    span_s = rows / RATE_HZ
    ana: list[float] = []
    counts: Counter[str] = Counter()
    for k in range(args.runs):
        log(f"[{k + 1}/{args.runs}] analysis only, {len(blocks)} blocks in memory ...")
        s, counts = analysis(blocks, has_gyro)
        ana.append(s)
    ana_s = statistics.median(ana)
    log(f"naive pure-Python loop over {args.naive_minutes:g} min ...")
    nv_s, nv_n = naive(blocks, args.naive_minutes)
    naive_x = (nv_n / RATE_HZ) / nv_s

    res: dict[str, Any] = {
        "hours": span_s / 3600,
        "rows": rows,
        "rate_hz": RATE_HZ,
        "has_gyro": has_gyro,
        "seed": args.seed,
        "csv": str(path),
        "csv_mb": round(size_mb, 1),
        "cpus": os.cpu_count(),
        "load_1min": os.getloadavg()[0],
        "runs": args.runs,
        "full_replay_s": round(full_s, 3),
        "full_replay_runs_s": [round(w, 3) for w, _, _ in full],
        "full_replay_cpu_s": round(full_cpu, 3),
        "full_replay_x_realtime": round(span_s / full_s),
        "full_replay_peak_rss_mb": round(full_rss),
        "raw_replay_s": round(raw_s, 3),
        "raw_replay_runs_s": [round(w, 3) for w, _, _ in full_raw],
        "raw_replay_x_realtime": round(span_s / raw_s),
        "raw_replay_peak_rss_mb": round(raw_rss),
        "raw_mb": round(raw.stat().st_size / 1e6, 1),
        "parts_replay_s": round(parts_s, 3),
        "parts_replay_runs_s": [round(w, 3) for w, _, _ in full_parts],
        "parts_replay_peak_rss_mb": round(parts_rss),
        "parts_jsonl_same_as_one_file": parts_same,
        "startup_s": round(start_s, 3),
        "csv_read_alone_s": round(read_s, 3),
        "csv_read_alone_cpu_s": round(read_cpu, 3),
        "csv_read_alone_peak_rss_mb": round(read_rss),
        "csv_read_share_of_full": round(read_s / full_s, 3),
        "csv_load_in_process_s": round(load_s, 3),
        "analysis_s": round(ana_s, 3),
        "analysis_runs_s": [round(s, 3) for s in ana],
        "analysis_x_realtime": round(span_s / ana_s),
        "full_minus_analysis_s": round(full_s - ana_s, 3),
        "naive_minutes": nv_n / RATE_HZ / 60,
        "naive_s": round(nv_s, 3),
        "naive_us_per_sample": round(nv_s / nv_n * 1e6, 2),
        "naive_x_realtime": round(naive_x, 1),
        "naive_extrapolated_s": round(span_s / naive_x, 1),
        "full_vs_naive": round(span_s / full_s / naive_x, 1),
        "analysis_vs_naive": round(span_s / ana_s / naive_x, 1),
        "records": dict(counts),
    }
    recs = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"{res['hours']:g} h of {RATE_HZ:g} Hz {'6' if has_gyro else '3'}-axis data: {rows} rows, "
          f"{size_mb:.0f} MB CSV; {res['cpus']} CPUs, load {res['load_1min']:.2f}; median of {args.runs} run(s)")
    print(f"  records: {recs}")
    print(f"  spasmwatch replay (CSV, fresh process): {full_s:7.2f} s {res['full_replay_x_realtime']:>9} x real time, "
          f"CPU {full_cpu:.2f} s, peak RSS {res['full_replay_peak_rss_mb']} MB")
    print(f"  of which interpreter start + imports:   {start_s:7.2f} s  = {start_s / full_s:.0%}")
    print(f"  the same from the band's .swraw:        {raw_s:7.2f} s {res['raw_replay_x_realtime']:>9} x real time, "
          f"peak RSS {res['raw_replay_peak_rss_mb']} MB ({res['raw_mb']:.0f} MB file)")
    same = "byte for byte the one file's" if parts_same else "DIFFERS from the one file's"
    print(f"  the same .swraw as 2 parts, together:   {parts_s:7.2f} s {round(span_s / parts_s):>9} x real time, "
          f"peak RSS {res['parts_replay_peak_rss_mb']} MB; JSONL {same}")
    print(f"  CSV reader alone (fresh process):       {read_s:7.2f} s  = {read_s / full_s:.0%} of the full replay's wall, "
          f"CPU {read_cpu:.2f} s, peak RSS {res['csv_read_alone_peak_rss_mb']} MB")
    print("    (in the replay, reading runs on its own threads, overlapping the analysis)")
    print(f"  analysis only (numpy twin, in memory):  {ana_s:7.2f} s {res['analysis_x_realtime']:>9} x real time; "
          f"full - analysis = {full_s - ana_s:.2f} s")
    print(f"  naive per-sample loop (CPython):        {res['naive_extrapolated_s']:7.0f} s {res['naive_x_realtime']:>9} "
          f"x real time (extrapolated from {res['naive_minutes']:g} min, {res['naive_us_per_sample']} us/sample)")
    print(f"  ratio full replay / naive: {res['full_vs_naive']}x;  analysis / naive: {res['analysis_vs_naive']}x")
    if args.profile:
        log("profiling the analysis (cProfile) ...")
        print(f"\ncProfile of the in-memory analysis (top {args.profile}; timings inflated by the profiler):")
        print(profile(blocks, has_gyro, args.profile))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
