"""Opening a store of a year of one band (store_backup.py's: 350 MB) as each caller opens it: the daemon's
read-write open (every page read, PRAGMA quick_check), 'spasmwatch note' / 'treatment add' (read-write,
the check of the one table they write: Store(path, writes=...)) and the readers ('events', 'report',
'export': Store.open_readonly, no check). Each against the daemon's open in the same run, which was
the note's too until 2026-12-07.

    python bench/store_open.py                       # builds the year (about 80 s here), then 5 opens each
    python bench/store_open.py --store PATH --runs 9  # a store built before (never written: opened only)
    python bench/store_open.py --days 30 --json out.json

The file's pages are in the page cache after the first open (the best of the runs is printed): on a Pi's
SD card the first open of the day reads them from the card. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store_backup import build

from spasmwatch.store import Store
from spasmwatch.store import backup as B


def best_s(open_it: Callable[[], Store], runs: int) -> float:
    """The fastest of ``runs`` opens and closes."""
    took = []
    for _ in range(runs):
        t = time.perf_counter()
        open_it().close()
        took.append(time.perf_counter() - t)
    return min(took)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--store", type=Path, help="a store built before (by this bench or store_backup.py's build)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", help="where the store is built")
    ap.add_argument("--json")
    args = ap.parse_args()
    base = None
    path = args.store
    if path is None:
        base = Path(tempfile.mkdtemp(prefix="spasmwatch-open-bench-", dir=args.dir))
        path = base / "spasmwatch.db"
        t = time.perf_counter()
        build(path, args.days)
        print(f"built {args.days} days in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    store_mb = B.needed_bytes(path) / 1e6
    daemon = best_s(lambda: Store(path), args.runs)
    note = best_s(lambda: Store(path, writes=("notes",)), args.runs)
    reader = best_s(lambda: Store.open_readonly(path), args.runs)
    out: dict[str, Any] = {"store_mb": store_mb, "runs": args.runs, "daemon_open_s": daemon, "note_open_s": note,
                           "reader_open_s": reader, "note_vs_daemon": note / daemon, "reader_vs_daemon": reader / daemon}  # fmt: skip
    print(f"store {store_mb:.0f} MB, best of {args.runs}: the daemon's open {daemon * 1000:.0f} ms (every page read; a note's until "
          f"2026-12-07); a note's open {note * 1000:.1f} ms ({note / daemon:.4f} x); a reader's {reader * 1000:.1f} ms ({reader / daemon:.4f} x)")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
