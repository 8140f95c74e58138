"""Days cost: what the family page's 14-day chart (``GET /api/days``) and the daily summary cost on
a store a year long, against the same call on a store of 14 days, in the same run.

    python bench/dayscost.py                  # a store of 366 days and one of 14 (~40 s to build)
    python bench/dayscost.py --quick          # 60 days and 14
    python bench/dayscost.py --days 366 --repeat 5 --json out.json

Both stores are real SQLite files in a temporary folder, written through the Store API as a band
sends them: an ACTIVITY epoch every 10 s (a 3 h gap one day a week, a removal of half an hour one
day in five), a cluster of 6 spasms at 07:00 and a lone spasm at 11:00 each day, up to the last
29 days of the long store (a quiet band: its daily summary counts the hours monitored since its
last cluster). Timed, the best of ``--repeat``:

* ``days14``: the page's 14 days, as ``Daemon.days`` reads them (``report.data.count`` over the
  local days, UTC), on each store: their ratio is the cost of the store's length, which should be
  none (1.0): a 14-day answer reads 14 days of epochs;
* ``days_all``: every day of the long store (the page's n=366 when ``--days`` is 366);
* ``summary``: the daily summary's facts on each store (``daemon.summary.summary_facts``): on the
  long one it reads the 29 days since the last cluster, as it says their hours monitored;
* ``report_all``: the report's facts over the whole long store (``report.data.gather``);
* ``rows``: the yardstick: the long store's epochs read as row objects (``Store.activity``), one
  Python object an epoch, as the page and the report read them until 2026-12-06. ``days_all`` and
  ``report_all`` are given as ratios to it (``*_vs_rows``): a busy machine slows both alike, so the
  ratios say what the code costs (an epoch at a time until 2026-12-06: 0.9-1.8 and 2.9-4.7; as numpy
  columns: 0.23-0.27 and 0.46-0.57; a chunk at a time, the report's read once: 0.15-0.38 and
  0.16-0.27, bench/README.md);
* ``*_peak_mb``: the peak RSS of ``days_all`` and ``report_all`` above the process's before the call,
  each in a process of its own (VmHWM), and ``*_traced_mb`` the same calls' peak
  of Python's allocations (``tracemalloc``, its own process): a band's epochs held at once took a
  year's report 111 MB above its 37, a chunk at a time 5 (bench/README.md).

Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import timezone
from pathlib import Path
from typing import Any

from spasmwatch.daemon.summary import summary_facts
from spasmwatch.export.store_source import StoreSource
from spasmwatch.report.data import count, gather
from spasmwatch.store import Store
from swcore import protocol as P

DEVICE = "bench0001"
DAY_S = 86_400.0
EPOCH_S = 10.0
DAY0 = 1_790_000_000.0 - 1_790_000_000.0 % DAY_S  # a UTC midnight
QUIET_DAYS = 29  # the long store's last days without a cluster
UTC = timezone.utc


def _epochs(day: int) -> list[dict[str, int]]:
    rows = []
    for k in range(int(DAY_S / EPOCH_S)):
        s = k * EPOCH_S
        if day % 7 == 3 and 30_000 <= s < 40_800:  # out of range for 3 h
            continue
        off = day % 5 == 1 and 50_000 <= s < 51_800  # half an hour on the table
        end_ms = int((day * DAY_S + s + EPOCH_S) * 1000)
        rows.append({"boot": 1, "t_ms": end_ms, "activity": 3 if k % 9 == 0 else 200, "breath": 40, "off_body": int(off),
                     "worn": 0 if off and s >= 50_120 else 1})  # fmt: skip
    return rows


def _spasm(seq: int, t: float) -> dict[str, int]:
    return {"boot": 1, "seq": seq, "onset_ms": int((t - DAY0) * 1000), "duration_ms": 1200, "peak_rate_mrads": 2100,
            "peak_angle_mrad": 350, "confidence": 80, "flags": P.EF_TIME_SYNCED}  # fmt: skip


def build(path: Path, n_days: int, quiet_days: int) -> None:
    with Store(path) as st:
        st.add_sync(DEVICE, 1, 0, DAY0)
        seq = 0
        for day in range(n_days):
            st.add_activity(DEVICE, _epochs(day), received_wall_s=DAY0 + day * DAY_S)
            if day >= n_days - quiet_days:
                continue
            start = DAY0 + day * DAY_S + 7 * 3600
            times = [start + 7.0 * i for i in range(6)]
            st.add_events(DEVICE, [_spasm(seq + i + 1, t) for i, t in enumerate([*times, DAY0 + day * DAY_S + 11 * 3600])], start)
            seq += len(times) + 1
            ids = [i for i in st.event_ids_at(DEVICE, times) if i is not None]
            st.upsert_cluster(DEVICE, f"c{day}", start, times[-1] + 1.2, len(times), times[2] + 1.5, 600.0, True, ids, wall_s=start)


def best(fn: Callable[[], object], repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def page_days(store: Store, now: float, n: int) -> object:
    """``Daemon.days(n)``'s reading: the last ``n`` local days to today's end."""
    today = DAY0 + (now - DAY0) // DAY_S * DAY_S
    return count(StoreSource(store), None, today - (n - 1) * DAY_S, today + DAY_S, UTC, now)


def _calls(store: Store, n_days: int) -> dict[str, Callable[[], object]]:
    """The long store's calls whose memory is measured."""
    now = DAY0 + (n_days - 0.5) * DAY_S
    return {
        "days_all": lambda: page_days(store, now, n_days),
        "report_all": lambda: gather(StoreSource(store), None, DAY0, DAY0 + n_days * DAY_S, UTC, now),
    }


def _rss_mb() -> float:
    """The process's peak RSS so far (Linux): VmHWM, not getrusage's ru_maxrss, which a process started
    by this bench's (its stores built: 200 MB) takes over from it at the fork, and reads 0 MB above."""
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024  # kB


def peak_of(path: Path, n_days: int, what: str, traced: bool) -> float:
    """MB the call ``what`` takes at its peak, above the process's peak before it (a first call over
    one day has loaded what every call loads); ``traced``: of Python's allocations (tracemalloc)."""
    with Store.open_readonly(path) as store:
        gather(StoreSource(store), None, DAY0, DAY0 + DAY_S, UTC, DAY0 + DAY_S)
        before = _rss_mb()
        if traced:
            tracemalloc.start()
        _calls(store, n_days)[what]()
        return tracemalloc.get_traced_memory()[1] / 2**20 if traced else _rss_mb() - before


def peak(path: Path, n_days: int, what: str, traced: bool = False) -> float:
    """``peak_of`` in a process of its own (a process's peak RSS only grows)."""
    args = [sys.executable, __file__, "--peak-of", what, "--store", str(path), "--days", str(n_days)] + (["--traced"] if traced else [])
    return float(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


def run(n_days: int, repeat: int, folder: Path) -> dict[str, Any]:
    short, long = folder / "days14.sqlite", folder / f"days{n_days}.sqlite"
    t = time.perf_counter()
    build(short, 14, 0)
    build(long, n_days, QUIET_DAYS)
    print(f"built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    r: dict[str, Any] = {"days": n_days, "repeat": repeat}
    with Store.open_readonly(short) as s, Store.open_readonly(long) as lg:
        now_s, now_l = DAY0 + 13.5 * DAY_S, DAY0 + (n_days - 0.5) * DAY_S  # midday of each store's last day
        r["days14_short_s"] = best(lambda: page_days(s, now_s, 14), repeat)
        r["days14_long_s"] = best(lambda: page_days(lg, now_l, 14), repeat)
        r["days_all_long_s"] = best(lambda: page_days(lg, now_l, n_days), 1)
        r["summary_short_s"] = best(lambda: summary_facts(s, DEVICE, "crib", now_s, UTC), repeat)
        r["summary_long_s"] = best(lambda: summary_facts(lg, DEVICE, "crib", now_l, UTC), repeat)
        r["report_all_long_s"] = best(lambda: gather(StoreSource(lg), None, DAY0, DAY0 + n_days * DAY_S, UTC, now_l), 1)
        r["rows_long_s"] = best(lambda: sum(1 for _ in lg.activity(None, DAY0, DAY0 + n_days * DAY_S + EPOCH_S)), 1)
    for what in ("days_all", "report_all"):
        r[f"{what}_peak_mb"] = peak(long, n_days, what)
        r[f"{what}_traced_mb"] = peak(long, n_days, what, traced=True)
    r["ratios"] = {
        "days14_long_vs_short": r["days14_long_s"] / r["days14_short_s"],
        "summary_long_vs_short": r["summary_long_s"] / r["summary_short_s"],
        "days_all_vs_rows": r["days_all_long_s"] / r["rows_long_s"],
        "report_all_vs_rows": r["report_all_long_s"] / r["rows_long_s"],
    }
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=366, help="the long store's days")
    ap.add_argument("--repeat", type=int, default=3, help="timings of each call; the best is kept")
    ap.add_argument("--quick", action="store_true", help="a long store of 60 days")
    ap.add_argument("--dir", help="where the stores go (default: a temporary folder)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--peak-of", choices=["days_all", "report_all"], help=argparse.SUPPRESS)  # peak's own process
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peak_of:
        print(peak_of(Path(args.store), args.days, args.peak_of, args.traced))
        return 0
    n = 60 if args.quick else args.days
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        r = run(n, args.repeat, Path(tmp))
    for k, v in r.items():
        print(f"{k}: {json.dumps(v) if isinstance(v, dict) else (round(v, 3) if isinstance(v, float) else v)}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
