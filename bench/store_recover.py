"""``spasmwatch store recover`` on a large store: one events *leaf* page damaged against one events
*interior* page damaged, and the events table's *root* page, in the same run, and the page scan's
own part of each, and the part of ``pagescan.cut_rows`` (every leaf page read for cells a write cut
short left zeros in).

    python bench/store_recover.py                  # 700000 events (about 100 MB), one run each
    python bench/store_recover.py --quick          # 70000 events
    python bench/store_recover.py --dir /var/tmp --json out.json

A damaged leaf page costs the rowid pass one page of rows; the page scan then runs (something was
stepped over) and finds no leaf page that no b-tree reaches: its cost is the walk of every table's
b-tree and of the freelist. A damaged interior page below the root hides every row under it from
the rowid pass; the scan reads those leaf pages and decodes their cells. A damaged root hides
the whole table: the rowid pass reads no event, the scan every one. ``scan decode`` is the
time spent inside ``pagescan.orphan_rows`` (wrapped here), not the inserts of what it found, which
go through the rowid pass's own insert. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spasmwatch.store import Store, pagescan, recover as recover_module

DEVICE = "bench0001"
T0 = 1_800_000_000.0


def event(seq: int) -> dict[str, Any]:
    return {"boot": 1, "seq": seq, "onset_ms": 1000 * seq, "duration_ms": 1500, "peak_rate_mrads": 2000,
            "peak_angle_mrad": 300, "confidence": 90, "flags": 1}  # fmt: skip


def build(path: Path, n: int) -> None:
    with Store(path) as st:
        st.upsert_device(DEVICE, name="crib", wall_s=T0)
        st.add_sync(DEVICE, 1, 0, T0)
        for i in range(0, n, 20_000):
            st.add_events(DEVICE, [event(k) for k in range(i, min(n, i + 20_000))], T0 + i)


def events_page(path: Path, kind: str) -> int:
    """The middle events leaf page, the middle interior page one level below the root, or the root."""
    c = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    if kind == "root":
        root = int(c.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'events'").fetchone()[0])
        c.close()
        return root
    where = "pagetype = 'leaf'" if kind == "leaf" else "pagetype = 'internal' AND path GLOB '/[0-9][0-9][0-9]/'"
    pages = [int(r[0]) for r in c.execute(f"SELECT pageno FROM dbstat WHERE name = 'events' AND {where} ORDER BY pageno")]
    c.close()
    if not pages:
        raise SystemExit(f"no events {kind} page of that kind: use more events")
    return pages[len(pages) // 2]


def damaged_copy(src: Path, dst: Path, page: int) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        size = int.from_bytes(f.read(18)[16:18], "big")
        f.seek((page - 1) * size)
        f.write(b"\xde\xad\xbe\xef" * (size // 4))


def timed_recover(path: Path) -> tuple[float, float, float, recover_module.Recovered]:
    """Seconds of the whole recover, of the time spent inside the page scan's generator, and inside
    ``pagescan.cut_rows`` (the read of every leaf page for cells a cut write left zeros in)."""
    inside, cut_s = [0.0], [0.0]
    real, real_cut = pagescan.orphan_rows, pagescan.cut_rows

    def timed_cut(*a: Any, **k: Any) -> pagescan.Cut:
        t = time.perf_counter()
        try:
            return real_cut(*a, **k)
        finally:
            cut_s[0] += time.perf_counter() - t

    def timed_rows(*a: Any, **k: Any) -> Iterator[tuple[str, tuple[object, ...]]]:
        it = real(*a, **k)
        while True:
            t = time.perf_counter()
            try:
                row = next(it)
            except StopIteration:
                inside[0] += time.perf_counter() - t
                return
            inside[0] += time.perf_counter() - t
            yield row

    pagescan.orphan_rows, pagescan.cut_rows = timed_rows, timed_cut  # type: ignore[assignment]
    try:
        t = time.perf_counter()
        result = recover_module.recover(path, time.strftime("%Y%m%d-%H%M%S"))
        total = time.perf_counter() - t
    finally:
        pagescan.orphan_rows, pagescan.cut_rows = real, real_cut  # type: ignore[assignment]
    return total, inside[0], cut_s[0], result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=700_000)
    ap.add_argument("--dir", help="where the stores go")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.quick:
        args.events //= 10
    base = Path(tempfile.mkdtemp(prefix="spasmwatch-recover-bench-", dir=args.dir))
    sound = base / "sound.db"
    t = time.perf_counter()
    build(sound, args.events)
    print(f"built {args.events} events, {sound.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    out: dict[str, Any] = {"events": args.events, "mb": sound.stat().st_size / 1e6, "cpus": os.cpu_count()}
    for kind in ("leaf", "interior", "root"):
        d = base / kind
        d.mkdir()
        path = d / "spasmwatch.db"
        damaged_copy(sound, path, events_page(sound, kind))
        total, scan, cut, r = timed_recover(path)
        assert r.scan is not None
        out[kind] = {"recover_s": total, "scan_decode_s": scan, "cut_rows_s": cut, "rowid_pass_rows": r.rows.get("events", 0),
                     "found_rows": r.found.get("events", 0), "leaf_pages_read": r.scan.pages,
                     "unplaced": r.scan.unplaced, "unreadable": r.scan.unreadable}  # fmt: skip
        print(f"  one events {kind} page damaged: recover {total:.2f} s, of which in the page scan {scan:.2f} s, in cut_rows {cut:.2f} s; "
              f"rowid pass {out[kind]['rowid_pass_rows']} events, scan {out[kind]['found_rows']} events from {r.scan.pages} pages")  # fmt: skip
    leaf, inner, root = out["leaf"], out["interior"], out["root"]
    print(f"{args.events} events, {out['mb']:.0f} MB: recover time interior / leaf = {inner['recover_s'] / leaf['recover_s']:.2f}, "
          f"root / leaf = {root['recover_s'] / leaf['recover_s']:.2f}; the scan's walk (leaf case) {leaf['scan_decode_s'] / leaf['recover_s']:.1%} "
          f"of its recover; scan decode {root['scan_decode_s'] * 1e6 / max(1, root['found_rows']):.1f} us/row (root case); "
          f"cut_rows {leaf['cut_rows_s'] / leaf['recover_s']:.1%} of the leaf case's recover")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
