"""The daemon's first open after an upgrade (``Store(path, later=True)`` on a store of an older schema) on a
year of one band: its read of every page, the copy kept before the upgrade (store/backup.py
``before_upgrade``: online backup, synced every COPY_SYNC_PAGES, then read through), and the migration,
each timed by the steps the open tells (store/_db.py CHECKING ... MIGRATING, what the daemon's start tells
systemd); MB/s of the copy, the longest wait between two tellings, against the open of the same store
once current (the daemon's every start), same run.

    python bench/store_upgrade.py                     # builds the year (store_backup.py's, about 80 s), 3 runs
    python bench/store_upgrade.py --store PATH        # a current store built before (never written: copied)
    python bench/store_upgrade.py --from 13 --runs 5 --json out.json
    python bench/store_upgrade.py --one-sync          # and the copy synced once at its end (as until 2026-12-07)

The older store is the year's rows put into a file of schema ``--from`` (its first migrations): the year's
tables are the same at 13 as now (the steps since add a column, a table, and make the clusters table
again). Each run opens a fresh copy of it (not timed). The store's pages are in the page cache (the copy
that made it): a Pi's first open after a reboot reads them from its SD card. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import store_backup
from store_backup import build

from spasmwatch.store import Store, _db
from spasmwatch.store import backup as B


def older(year: Path, into: Path, version: int) -> None:
    """The rows of the current store ``year`` in a new store at schema ``version`` (its first migrations)."""
    with contextlib.closing(sqlite3.connect(into, isolation_level=None)) as c:
        _db.made_at_version(c, version)
        c.execute("ATTACH ? AS year", (f"{year.absolute().as_uri()}?mode=ro",))
        c.execute("BEGIN")
        for (table,) in c.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall():
            columns = ", ".join(str(r[1]) for r in c.execute(f"PRAGMA main.table_info({table})"))
            c.execute(f"INSERT OR REPLACE INTO main.{table} ({columns}) SELECT {columns} FROM year.{table}")  # (OR REPLACE: the id a step made)
        c.execute("COMMIT")
        c.execute("DETACH year")


def timed_open(path: Path) -> dict[str, Any]:
    """``Store(path, later=True)`` (the daemon's open): its time, each told step's, the longest wait
    between two tellings (the start's extension must cover it: daemon consts START_EXTEND_S)."""
    marks: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    Store(path, later=True, progress=lambda step, done, total: marks.append((time.perf_counter(), step))).close()
    end = time.perf_counter()
    steps: dict[str, float] = {}
    for (t, step), (t_next, _) in zip(marks, [*marks[1:], (end, "")]):
        steps[step] = steps.get(step, 0.0) + t_next - t
    gaps = [b - a for (a, _), (b, _) in zip(marks, marks[1:])]
    return {"open_s": end - t0, "steps_s": steps, "tellings": len(marks), "longest_untold_s": max(gaps, default=0.0),
            "before_first_s": (marks[0][0] - t0) if marks else None}  # fmt: skip


def runs_of(template: Path, work: Path, runs: int) -> list[dict[str, Any]]:
    """``timed_open`` of a fresh copy of ``template`` (and no copy kept from the run before) ``runs`` times."""
    out = []
    for _ in range(runs):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        shutil.copyfile(template, work / "spasmwatch.db")
        out.append(timed_open(work / "spasmwatch.db"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--store", type=Path, help="a current store built before (store_backup.py's build)")
    ap.add_argument("--from", dest="version", type=int, default=13, help="the older schema version (default 13)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", help="where the stores are made")
    ap.add_argument("--one-sync", action="store_true", help="also runs with the copy synced once, at its end")
    ap.add_argument("--json")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="spasmwatch-upgrade-bench-", dir=args.dir))
    year = args.store
    if year is None:
        year = base / "year.db"
        t = time.perf_counter()
        store_backup.T0 = time.time() - args.days * 86_400  # (ending now, as store_open.py's)
        build(year, args.days)
        print(f"built {args.days} days in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    template = base / f"v{args.version}.db"
    older(year, template, args.version)
    mb = template.stat().st_size / 1e6
    upgrades = runs_of(template, base / "work", args.runs)
    current = runs_of(base / "work" / "spasmwatch.db", base / "again", args.runs)  # (migrated by the last run)
    out: dict[str, Any] = {"store_mb": mb, "from_version": args.version, "runs": args.runs, "upgrade": upgrades, "current": current}
    best = min(upgrades, key=lambda r: r["open_s"])
    copy_s = best["steps_s"].get(_db.COPYING, float("nan"))
    out["copy_mb_s"] = mb / copy_s
    print(f"store {mb:.0f} MB at v{args.version}, best of {args.runs}: the upgrading open {best['open_s']:.2f} s "
          f"(steps: {', '.join(f'{k} {v:.2f} s' for k, v in best['steps_s'].items())}; copy {mb / copy_s:.0f} MB/s; "
          f"{best['tellings']} tellings, longest wait between two {best['longest_untold_s']:.2f} s); "
          f"the same store's open once current {min(r['open_s'] for r in current):.2f} s, "
          f"{max(r['tellings'] for r in current)} tellings")  # fmt: skip
    if args.one_sync:
        synced_every = B.COPY_SYNC_PAGES
        B.COPY_SYNC_PAGES = 1 << 62  # (a copy never synced before its end: as until 2026-12-07)
        once = runs_of(template, base / "work", args.runs)
        B.COPY_SYNC_PAGES = synced_every
        out["one_sync"] = once
        b1 = min(once, key=lambda r: r["open_s"])
        print(f"the copy synced once at its end: the upgrading open {b1['open_s']:.2f} s (copy {b1['steps_s'][_db.COPYING]:.2f} s, "
              f"longest wait between two tellings {b1['longest_untold_s']:.2f} s); synced every {synced_every} pages: "
              f"{best['open_s'] / b1['open_s']:.2f} x its time")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
