"""What reading past damage in a .swraw costs (io/rawfile.py, docs/rawfile.md "Reading").

A day at 100 Hz with gyro, written as the daemon writes it (chunks of 256 samples, a dating record
a minute: ~104 MB), is read whole (``RawReader.chunks()``) clean and damaged, each ``--runs`` times
(median CPU time), in this one process:

  1. clean: the reference;
  2. one flipped bit in a chunk's samples in the middle (its header intact: stepped over);
  3. one flipped bit in a chunk's magic in the middle (the next good record scanned for);
  4. 300 bytes of garbage over the boundary of two chunks;
  5. 1000 chunks with a flipped bit in their samples and 1000 with one in their magic, spread
     over the day (a failing card);
  6. a file of the same size whose records are all garbage (random bytes after a good header),
     and one of 0xFF bytes (erased flash): scanned to the end for a record, none found;

and with ``--replay`` also ``spasmwatch replay FILE --jsonl`` on (1) and (2), each in a fresh
process (CPU time, user + sys). Prints each case's time and its ratio to the clean read. Never asserts a time.

usage: python bench/raw_damage.py [--hours 24] [--runs 3] [--replay] [--json FILE]
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
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from spasmwatch.io.rawfile import CHUNK_HEAD_SIZE, HEADER_SIZE, DatingPoint, RawHeader, RawReader, RawWarning, RawWriter

RATE_HZ = 100.0
WALL0 = 1_764_900_000.0
MINUTE = int(60 * RATE_HZ)


def write_day(path: Path, hours: float, seed: int = 1) -> None:
    """Samples a still band might give (noise around gravity), a dating record a minute."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 * RATE_HZ)
    with RawWriter(path, RawHeader("band-1", RATE_HZ, True, WALL0)) as w:
        for i in range(0, n, MINUTE):
            k = min(MINUTE, n - i)
            block = rng.integers(-40, 40, size=(k, 6), dtype=np.int16)
            block[:, 2] += 1000
            w.append(i, block)
            w.date(DatingPoint(i + k, WALL0 + (i + k) / (RATE_HZ * 1.01), RATE_HZ * 1.01))


def chunk_offsets(path: Path) -> list[int]:
    return [c.offset for c in RawReader(path).chunks()]


def damaged(src: bytes, out: Path, offsets: list[int], how: str, rng: np.random.Generator) -> Path:
    data = bytearray(src)
    mid = offsets[len(offsets) // 2]
    if how == "payload bit":
        data[mid + CHUNK_HEAD_SIZE + 1000] ^= 0x04
    elif how == "magic bit":
        data[mid + 1] ^= 0x04
    elif how == "300 bytes of garbage":
        nxt = offsets[len(offsets) // 2 + 1]
        data[nxt - 150 : nxt + 150] = rng.integers(0, 256, 300, dtype=np.uint8).tobytes()
    elif how == "2000 damaged chunks":  # fewer in a short file: every other chunk at most
        picks = rng.choice(len(offsets) - 1, size=min(2000, (len(offsets) - 1) // 2), replace=False)
        for j, k in enumerate(picks.tolist()):
            data[offsets[k] + (1 if j % 2 else CHUNK_HEAD_SIZE + 50)] ^= 0x04
    elif how == "all garbage":
        data[HEADER_SIZE:] = rng.integers(0, 256, len(data) - HEADER_SIZE, dtype=np.uint8).tobytes()
    elif how == "all 0xFF":
        data[HEADER_SIZE:] = b"\xff" * (len(data) - HEADER_SIZE)
    out.write_bytes(bytes(data))
    return out


def read_s(path: Path, runs: int) -> tuple[float, int, int]:
    """Median CPU seconds to read every chunk (CPU: the machine's load moves wall time); samples
    read; damaged records read past."""
    times, n, damage = [], 0, 0
    for _ in range(runs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RawWarning)
            t = time.process_time()
            r = RawReader(path)
            n = sum(len(c.samples) for c in r.chunks())
            times.append(time.process_time() - t)
            damage = len(r.damage)
    return statistics.median(times), n, damage


def replay_s(path: Path, runs: int) -> float:
    """Median CPU seconds (user + sys) of ``spasmwatch replay FILE --jsonl`` in a fresh process."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "spasmwatch", "replay", str(path), "--jsonl"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--replay", action="store_true", help="also replay the clean and the one-bit file (a fresh process each)")
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    rng = np.random.default_rng(2)
    out: dict[str, Any] = {"hours": args.hours, "runs": args.runs, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="spasmwatch-raw-damage-") as tmp:
        clean = Path(tmp) / "clean.swraw"
        t = time.perf_counter()
        write_day(clean, args.hours)
        size = clean.stat().st_size
        print(f"{args.hours:g} h at {RATE_HZ:g} Hz with gyro: {size / 1e6:.1f} MB written in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        src, offsets = clean.read_bytes(), chunk_offsets(clean)
        ref, n_clean, _ = read_s(clean, args.runs)
        print(f"{'case':24s} {'CPU s':>8s} {'x clean':>8s} {'samples':>10s} {'damaged':>8s}")
        print(f"{'clean':24s} {ref:8.3f} {1.0:8.2f} {n_clean:10d} {0:8d}")
        out["cases"]["clean"] = {"read_s": ref, "ratio": 1.0, "samples": n_clean, "damaged": 0}
        for how in ("payload bit", "magic bit", "300 bytes of garbage", "2000 damaged chunks", "all garbage", "all 0xFF"):
            path = damaged(src, Path(tmp) / "damaged.swraw", offsets, how, rng)
            s, n, d = read_s(path, args.runs)
            print(f"{how:24s} {s:8.3f} {s / ref:8.2f} {n:10d} {d:8d}")
            out["cases"][how] = {"read_s": s, "ratio": s / ref, "samples": n, "damaged": d}
            if args.replay and how == "payload bit":
                r_clean, r_bit = replay_s(clean, args.runs), replay_s(path, args.runs)
                print(f"replay --jsonl, CPU: clean {r_clean:.2f} s, one bit {r_bit:.2f} s: x {r_bit / r_clean:.2f}")
                out["replay"] = {"clean_s": r_clean, "payload_bit_s": r_bit, "ratio": r_bit / r_clean}
            os.unlink(path)
    out["size_mb"] = size / 1e6
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
