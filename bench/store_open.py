"""Opening a store of a year of one band (store_backup.py's: 350 MB) as each caller opens it: the daemon's
read-write open (every table read but the epochs and STATUS rows: Store(path, later=True)), and the read of
those after its start (store/backup.py store_damage), a read-write open that reads every page (PRAGMA
quick_check: the daemon's until 2026-12-07, a try again's, a store's open by a command that writes more
than a note), 'spasmwatch note' / 'treatment add' (read-write, the check of the one table they write:
Store(path, writes=...)) and the readers ('events', 'report', 'export': Store.open_readonly, no check).
Each against the open that reads every page, in the same run.

    python bench/store_open.py                       # builds the year (about 80 s here), then 5 opens each
    python bench/store_open.py --store PATH --runs 9  # a store built before (never written: opened only)
    python bench/store_open.py --days 30 --json out.json
    python bench/store_open.py --start                # and 'spasmwatch run' to "daemon up" on it (a copy:
                                                      # the daemon writes), against an empty store's

The year is dated to end now (the daemon's start rebuilds a band's analysis from its last 6 h: a store
dated ahead would be read whole there). The file's pages are in the page cache after the first open (the
best of the runs is printed): on a Pi's SD card the first open of the day reads them from the card.
Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import store_backup
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


def start_s(data: Path, runs: int) -> float:
    """The fastest of ``runs`` starts of 'spasmwatch run' on the store in ``data`` (its band 'crib', as
    the built store's device is named): from the process's start to its log's "spasmwatch daemon up";
    each stopped by SIGTERM. Its state and runtime folders in a folder of its own."""
    from spasmwatch.transport.simband import free_port

    home = Path(tempfile.mkdtemp(prefix="spasmwatch-start-bench-"))
    config = home / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{data}"\nbackup_keep_days = 0\n\n[[bands]]\nname = "crib"\ntransport = "sim"\n'
                      f'address = "127.0.0.1:{free_port()}"\n\n[daemon.http]\nport = {free_port()}\n\n[channels.sound]\nenabled = false\n\n'
                      "[channels.desktop]\nenabled = false\n")  # fmt: skip
    env = {**os.environ, "XDG_STATE_HOME": str(home / "state"), "XDG_RUNTIME_DIR": str(home), "XDG_CONFIG_HOME": str(home / "config")}
    took = []
    for _ in range(runs):
        t = time.perf_counter()
        run = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
        assert run.stderr is not None
        if not any("spasmwatch daemon up" in line for line in run.stderr):
            raise SystemExit(f"spasmwatch run on {data} ended before it was up")
        took.append(time.perf_counter() - t)
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=60)
    shutil.rmtree(home, ignore_errors=True)
    return min(took)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--store", type=Path, help="a store built before (by this bench or store_backup.py's build)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", help="where the store is built")
    ap.add_argument("--json")
    ap.add_argument("--start", action="store_true", help="also 'spasmwatch run' to 'daemon up' (module doc)")
    args = ap.parse_args()
    base = None
    path = args.store
    if path is None:
        base = Path(tempfile.mkdtemp(prefix="spasmwatch-open-bench-", dir=args.dir))
        path = base / "spasmwatch.db"
        t = time.perf_counter()
        store_backup.T0 = time.time() - args.days * 86_400  # (ending now: module doc)
        build(path, args.days)
        print(f"built {args.days} days in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    store_mb = B.needed_bytes(path) / 1e6
    every = best_s(lambda: Store(path), args.runs)
    daemon = best_s(lambda: Store(path, later=True), args.runs)
    after = min(_timed(lambda: B.store_damage(path, B.Stop(), "")) for _ in range(args.runs))
    note = best_s(lambda: Store(path, writes=("notes",)), args.runs)
    reader = best_s(lambda: Store.open_readonly(path), args.runs)
    out: dict[str, Any] = {"store_mb": store_mb, "runs": args.runs, "every_page_open_s": every, "daemon_open_s": daemon,
                           "read_after_start_s": after, "note_open_s": note, "reader_open_s": reader,
                           "daemon_vs_every": daemon / every, "note_vs_every": note / every, "reader_vs_every": reader / every}  # fmt: skip
    print(f"store {store_mb:.0f} MB, best of {args.runs}: an open reading every page {every * 1000:.0f} ms (the daemon's until 2026-12-07, "
          f"a note's until 2026-12-07); the daemon's open {daemon * 1000:.1f} ms ({daemon / every:.4f} x), its read after the start "
          f"{after * 1000:.0f} ms (in a worker thread); a note's open {note * 1000:.1f} ms ({note / every:.4f} x); a reader's "
          f"{reader * 1000:.1f} ms ({reader / every:.4f} x)")  # fmt: skip
    if args.start:
        empty = Path(tempfile.mkdtemp(prefix="spasmwatch-empty-bench-"))
        copy = Path(tempfile.mkdtemp(prefix="spasmwatch-start-copy-", dir=args.dir)) / "spasmwatch.db"
        shutil.copyfile(path, copy)  # (the daemon writes it: a store given by --store stays as it was)
        out["start_s"], out["empty_start_s"] = start_s(copy.parent, args.runs), start_s(empty, args.runs)
        print(f"'spasmwatch run' to 'daemon up', best of {args.runs}: on the store {out['start_s']:.2f} s, on an empty store "
              f"{out['empty_start_s']:.2f} s ({out['start_s'] / out['empty_start_s']:.2f} x)")  # fmt: skip
        shutil.rmtree(copy.parent, ignore_errors=True)
        shutil.rmtree(empty, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


def _timed(run: Callable[[], object]) -> float:
    t = time.perf_counter()
    run()
    return time.perf_counter() - t


if __name__ == "__main__":
    raise SystemExit(main())
