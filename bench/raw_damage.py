"""What reading past damage in a .swraw costs (io/rawfile.py, docs/rawfile.md "Reading").

A day at 100 Hz with gyro, written as the daemon writes it (chunks of 256 samples, a dating record
a minute: ~104 MB), is read whole (``RawReader.chunks()``) clean and damaged, each ``--runs`` times
(median CPU time), in this one process:

  1. clean: the reference;
  2. one flipped bit in a chunk's samples in the middle (its header intact);
  3. one flipped bit in a chunk's magic in the middle (the next good record scanned for);
  4. 300 bytes of garbage over the boundary of two chunks;
  5. 1000 chunks with a flipped bit in their samples and 1000 with one in their magic, spread
     over the day (a failing card);
  6. a flipped bit in a chunk's sample count in the middle (it claims 4096 samples more, 48 kB
     into the good chunks after it), and one in its ``first_index`` (2^20 samples on);
  7. a file of the same size whose records are all garbage (random bytes after a good header),
     and one of 0xFF bytes (erased flash): scanned to the end for a record, none found;

and with ``--replay`` also ``spasmwatch replay FILE --jsonl`` on (1) and (2), each in a fresh
process (CPU time, user + sys). Prints each case's time and its ratio to the clean read, and the
time of the walks that skip the samples (``RawReader.gaps()``, whose walk ``index_span()`` is,
and ``dating()``), with whether ``gaps()`` and ``index_span()`` give what the read does
(``agrees``: they once went by each chunk header's count, unchecked).

Then crafted damage (a file made to be slow to read past, "fake headers"): for each ``--fake-mb``
size S, a clean file of S MB plus 13 MB (the reference: read clean in the same run) has its bytes
from its second minute on, S MB up to a chunk's start, replaced by one of:

  8. fake chunks with a bad CRC: 36-byte chunks (header and 1 sample) back to back, each
     header intact (magic, count 1, index in order) and each CRC wrong;
  9. fake headers with a bad length: 24-byte headers, magic ``SWCK``, sample count 2^32-1;
 10. fake headers whose length points far ahead: 24-byte headers claiming 1 048 576 samples
     (12 MB, still inside the file: the clean 13 MB after the damage), CRC wrong;
 11. nested fakes: every 24 bytes a header claiming the samples up to the end of the damage
     (each inside the one before it), its index going back;
 12. a good 1-sample chunk and a fake claiming 12 MB, alternating (the reader meets each fake
     right after a good chunk);

each read whole (median CPU time, as above), with the damaged stretches it reads past (all, listed or
not: ``RawReader.damage_totals``) and the samples it reads (the good chunk right after the damage and
all after it, and in case 12 every good chunk, are found); printed against the clean
read of the same file, and as the extra CPU per MB of damage against a clean MB; and ``gaps()``'s time
and ``agrees``, as above. ``--rss`` also
reads the largest size's file of each case, and its clean file, in a fresh process each: peak RSS.
Never asserts a time.

usage: python bench/raw_damage.py [--hours 24] [--runs 3] [--replay] [--fake-mb 1,10,100] [--rss] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from spasmwatch.io.rawfile import (CHUNK_FMT, CHUNK_HEAD_SIZE, CHUNK_MAGIC, HEADER_SIZE, MAX_CHUNK_SAMPLES, DatingPoint, RawHeader,
                                   RawReader, RawWarning, RawWriter)  # fmt: skip

RATE_HZ = 100.0
WALL0 = 1_764_900_000.0
MINUTE = int(60 * RATE_HZ)
MB = 1e6
BYTES_PER_HOUR = 4.36e6  # of write_day's files (104.6 MB a day)
TAIL_MB = 13.0  # clean bytes after the crafted damage: a fake's 12 MB (MAX_CHUNK_SAMPLES x 12) lies inside the file
WIDTH = 12  # bytes per sample with gyro
FAKES = ("fake chunks, bad CRC", "fake headers, bad length", "fake headers, length far ahead", "nested fakes",
         "good chunk / far fake")  # fmt: skip
BAD_CRC = 0x5EED0BAD
HEAD = np.dtype([("magic", "S4"), ("first", "<u8"), ("n", "<u4"), ("dropped", "<u4"), ("crc", "<u4")])


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
    elif how == "count bit":  # the sample count's bit 12: the header claims 4096 samples more, 48 kB on
        data[mid + 13] ^= 0x10
    elif how == "index bit":  # first_index + 2^20
        data[mid + 6] ^= 0x10
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


def heads(k: int, first: np.ndarray | int, n: np.ndarray | int) -> np.ndarray:
    """``k`` chunk headers (magic SWCK, CRC wrong)."""
    h = np.zeros(k, dtype=HEAD)
    h["magic"], h["first"], h["n"], h["crc"] = CHUNK_MAGIC, first, n, BAD_CRC
    return h


def good_chunk(first: int) -> bytes:
    """A chunk of one sample with a right CRC (a still band's)."""
    payload = np.array([0, 0, 1000, 0, 0, 0], dtype="<i2").tobytes()
    head = struct.pack(CHUNK_FMT[:-1], CHUNK_MAGIC, first, 1, 0)
    return head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + payload


def fake_region(how: str, start: int, end: int, next_index: int) -> bytes:
    """The bytes [start, end) of a file (``start``, ``end``: chunk starts) crafted as ``how``
    (``FAKES``); ``next_index``: the first sample index lost (where an intact header's index is)."""
    size = end - start
    if how == "fake chunks, bad CRC":
        k = size // (CHUNK_HEAD_SIZE + WIDTH) + 1
        rec = np.zeros(k, dtype=[("head", HEAD), ("sample", "<i2", (6,))])
        rec["head"] = heads(k, next_index + np.arange(k, dtype=np.uint64), 1)
        rec["sample"][:, 2] = 1000
        data = rec.tobytes()
    elif how == "fake headers, bad length":
        data = heads(size // CHUNK_HEAD_SIZE + 1, next_index, 0xFFFFFFFF).tobytes()
    elif how == "fake headers, length far ahead":
        data = heads(size // CHUNK_HEAD_SIZE + 1, next_index, MAX_CHUNK_SAMPLES).tobytes()
    elif how == "nested fakes":  # each claims the samples up to ``end`` (rounded down to a sample); index 0 goes back
        at = np.arange(0, size, CHUNK_HEAD_SIZE)
        data = heads(len(at), 0, (size - at - CHUNK_HEAD_SIZE) // WIDTH).tobytes()
    elif how == "good chunk / far fake":
        pairs = size // (CHUNK_HEAD_SIZE + WIDTH + CHUNK_HEAD_SIZE) + 1
        data = b"".join(good_chunk(next_index + 2 * j) + heads(1, next_index + 2 * j + 1, MAX_CHUNK_SAMPLES).tobytes() for j in range(pairs))
    else:
        raise ValueError(how)
    return data[:size]


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
            damage = r.damage_totals.count  # every stretch (r.damage lists the first MAX_LISTED_DAMAGE)
    return statistics.median(times), n, damage


def read_view(path: Path) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """(gaps, samples missing) and the index span of the chunks ``chunks()`` reads: what the walks that
    skip the samples must give."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RawWarning)
        heads = [(c.first_index, len(c.samples)) for c in RawReader(path).chunks()]
    jumps = [b - a - n for (a, n), (b, _) in zip(heads, heads[1:], strict=False) if b > a + n]
    return (len(jumps), sum(jumps)), ((heads[0][0], sum(heads[-1])) if heads else None)


def walk_s(path: Path, runs: int) -> tuple[float, float, bool]:
    """Median CPU seconds of ``RawReader.gaps()`` and of ``dating()`` (the walks that skip the samples;
    ``index_span()`` is ``gaps()``'s walk), and whether ``gaps()`` and ``index_span()`` give what the
    read of every chunk does (``read_view``)."""
    gaps, dating = [], []
    for _ in range(runs):
        t = time.process_time()
        RawReader(path).gaps()
        gaps.append(time.process_time() - t)
        t = time.process_time()
        RawReader(path).dating()
        dating.append(time.process_time() - t)
    r = RawReader(path)
    return statistics.median(gaps), statistics.median(dating), (r.gaps(), r.index_span()) == read_view(path)


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


def rss_mb(path: Path) -> float:
    """Peak RSS (MB) of a fresh process reading every chunk of ``path`` (the interpreter and numpy
    are in it). Its VmHWM: ``ru_maxrss`` keeps, across the exec, the forked copy of this process
    (which holds the file's bytes)."""
    code = ("import sys, warnings\n"
            "from spasmwatch.io.rawfile import RawReader, RawWarning\n"
            "warnings.simplefilter('ignore', RawWarning)\n"
            "sum(len(c.samples) for c in RawReader(sys.argv[1]).chunks())\n"
            "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


def fake_cases(tmp: Path, sizes_mb: list[float], runs: int, rss: bool) -> dict[str, Any]:
    """Cases 8-12 (module doc) at each size: CPU against the clean read of the same file."""
    out: dict[str, Any] = {}
    print(f"\n{'crafted damage':32s} {'MB':>6s} {'CPU s':>8s} {'x clean':>8s} {'x per MB':>8s} {'samples':>10s} {'damaged':>8s} "
          f"{'gaps() s':>8s} {'agrees':>6s}")  # fmt: skip
    for mb in sizes_mb:
        clean = tmp / f"clean-{mb:g}.swraw"
        write_day(clean, (mb + TAIL_MB) * MB / BYTES_PER_HOUR + 1 / 30)
        size = clean.stat().st_size
        chunks = [(c.offset, c.first_index) for c in RawReader(clean).chunks()]
        k = next(j for j, (off, _) in enumerate(chunks) if off >= HEADER_SIZE + 0.25 * MB)  # a minute and a bit in
        m = next(j for j, (off, _) in enumerate(chunks) if off >= chunks[k][0] + mb * MB)
        (start, first), (end, _) = chunks[k], chunks[m]
        ref, n_clean, _ = read_s(clean, runs)
        w_ref, _, ok = walk_s(clean, runs)
        print(f"{'clean (' + f'{size / MB:.1f} MB)':32s} {mb:6g} {ref:8.3f} {1.0:8.2f} {1.0:8.2f} {n_clean:10d} {0:8d} {w_ref:8.3f} {ok!s:>6s}")
        src = clean.read_bytes()
        for how in FAKES:
            path = tmp / "fake.swraw"
            path.write_bytes(src[:start] + fake_region(how, start, end, first) + src[end:])
            s, n, d = read_s(path, runs)
            w, _, ok = walk_s(path, runs)
            per_mb = max(s - ref, 0.0) / ((end - start) / MB) / (ref / (size / MB))
            print(f"{how:32s} {mb:6g} {s:8.3f} {s / ref:8.2f} {per_mb:8.1f} {n:10d} {d:8d} {w:8.3f} {ok!s:>6s}")
            case = {"read_s": s, "clean_s": ref, "ratio": s / ref, "extra_per_mb_x_clean": per_mb, "samples": n,
                    "clean_samples": n_clean, "damaged": d, "damaged_bytes": end - start, "size": size,
                    "gaps_walk_s": w, "clean_gaps_walk_s": w_ref, "walks_agree": ok}  # fmt: skip
            if rss and mb == max(sizes_mb):
                case["peak_rss_mb"], case["clean_peak_rss_mb"] = rss_mb(path), rss_mb(clean)
                print(f"{'':32s} peak RSS {case['peak_rss_mb']:.0f} MB (clean {case['clean_peak_rss_mb']:.0f} MB)")
            out[f"{how} {mb:g} MB"] = case
            os.unlink(path)
        os.unlink(clean)
    return out


def day_cases(tmp: Path, args: argparse.Namespace, rng: np.random.Generator, out: dict[str, Any]) -> None:
    """Cases 1-7 (module doc) on a day's file."""
    clean = tmp / "clean.swraw"
    t = time.perf_counter()
    write_day(clean, args.hours)
    size = clean.stat().st_size
    print(f"{args.hours:g} h at {RATE_HZ:g} Hz with gyro: {size / 1e6:.1f} MB written in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    src, offsets = clean.read_bytes(), chunk_offsets(clean)
    ref, n_clean, _ = read_s(clean, args.runs)
    g, dt, ok = walk_s(clean, args.runs)
    print(f"{'case':24s} {'CPU s':>8s} {'x clean':>8s} {'samples':>10s} {'damaged':>8s} {'gaps() s':>8s} {'dating()':>8s} {'agrees':>6s}")
    print(f"{'clean':24s} {ref:8.3f} {1.0:8.2f} {n_clean:10d} {0:8d} {g:8.3f} {dt:8.3f} {ok!s:>6s}")
    out["cases"]["clean"] = {"read_s": ref, "ratio": 1.0, "samples": n_clean, "damaged": 0, "gaps_walk_s": g, "dating_walk_s": dt, "walks_agree": ok}
    for how in ("payload bit", "magic bit", "300 bytes of garbage", "2000 damaged chunks", "count bit", "index bit", "all garbage", "all 0xFF"):
        path = damaged(src, tmp / "damaged.swraw", offsets, how, rng)
        s, n, d = read_s(path, args.runs)
        g, dt, ok = walk_s(path, args.runs)
        print(f"{how:24s} {s:8.3f} {s / ref:8.2f} {n:10d} {d:8d} {g:8.3f} {dt:8.3f} {ok!s:>6s}")
        out["cases"][how] = {"read_s": s, "ratio": s / ref, "samples": n, "damaged": d, "gaps_walk_s": g, "dating_walk_s": dt, "walks_agree": ok}
        if args.replay and how == "payload bit":
            r_clean, r_bit = replay_s(clean, args.runs), replay_s(path, args.runs)
            print(f"replay --jsonl, CPU: clean {r_clean:.2f} s, one bit {r_bit:.2f} s: x {r_bit / r_clean:.2f}")
            out["replay"] = {"clean_s": r_clean, "payload_bit_s": r_bit, "ratio": r_bit / r_clean}
        os.unlink(path)
    os.unlink(clean)
    out["size_mb"] = size / 1e6



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--replay", action="store_true", help="also replay the clean and the one-bit file (a fresh process each)")
    ap.add_argument("--fake-mb", default="1,10,100", help="sizes (MB) of crafted damage, comma separated; '' for none")
    ap.add_argument("--rss", action="store_true", help="peak RSS of reading the largest crafted file (a fresh process)")
    ap.add_argument("--no-day", action="store_true", help="only the crafted damage")
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    rng = np.random.default_rng(2)
    out: dict[str, Any] = {"hours": args.hours, "runs": args.runs, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="spasmwatch-raw-damage-") as tmp:
        sizes = [float(x) for x in args.fake_mb.split(",") if x.strip()]
        if not args.no_day:
            day_cases(Path(tmp), args, rng, out)
        out["fakes"] = fake_cases(Path(tmp), sizes, args.runs, args.rss)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")

if __name__ == "__main__":
    main()
