"""What a raw file's parts cost (docs/host.md "Raw samples"): a day of one band's RAW records
(100 Hz, 19 samples a record as at a 247-byte MTU) through the daemon in-process, on a real disk.

    python bench/raw_parts.py            # a full day: the size of a part, the record that cuts it
    python bench/raw_parts.py --hours 2  # quicker (the part is then cut 2 h in)

Prints the time of the record that closes a part and opens the next against the median record,
the size of a full part, and what a restarted daemon takes to continue a part (it reads the part's
chunk headers and CRCs to find its end). Ratios, measured in this run; never asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / p) for p in ("host", "firmware", "tests")]

from spasmwatch.alerts import AlertSettings  # noqa: E402
from spasmwatch.daemon.daemon import BandSpec, Daemon  # noqa: E402
from spasmwatch.daemon.session import BandInfo, State  # noqa: E402
from spasmwatch.io.rawfile import RawReader, RawWriter  # noqa: E402
from spasmwatch.store import Store  # noqa: E402
from swcore import protocol as P  # noqa: E402
from synthetic import HandClock as Clock  # noqa: E402  (the tests' clock moved by hand)

RATE_HZ = 100
PER_RECORD = 19
DEVICE = "bench001"


def daemon(store: Store, clock: Clock, raw: Path) -> Daemon:
    spec = [BandSpec("crib", lambda: None, raw=True, rate_hz=RATE_HZ)]  # type: ignore[arg-type,return-value]  # driven below
    d = Daemon(store, spec, clock=clock, raw_dir=raw, raw_reserve_mb=0, alert_settings=AlertSettings(tz=dt.UTC))  # type: ignore[arg-type]
    b = d.bands[0]
    b.session.info = BandInfo(DEVICE, "spasmwatch-band", "bench", "sim", "sim:0", "sim")
    d.on_connected(b.session.info)
    d.on_rate(DEVICE, float(RATE_HZ))
    d.next_backfill_seq(DEVICE)
    d.on_record(DEVICE, {"type": "loginfo", "flags": P.LF_DONE}, clock.t)
    b.session._set(State.STREAMING)
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=24.0, help="samples before the cut (h; 24: a full part)")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    a = ap.parse_args()
    rows = [[(i * 7) % 900, -i % 300, 1000, i % 50, -3, 7] for i in range(PER_RECORD)]
    noon = dt.datetime(2027, 1, 15, 12, tzinfo=dt.UTC).timestamp()
    start = noon + 24 * 3600 - a.hours * 3600  # the part ends at the next noon
    n_records = round(a.hours * 3600 * RATE_HZ / PER_RECORD) + 50
    recs = [P.decode(P.encode_raw(i * PER_RECORD, rows)) for i in range(n_records)]
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "db.sqlite") as store:
        raw, clock = Path(tmp) / "raw", Clock(start)
        d = daemon(store, clock, raw)
        times, cut = [], None
        for rec in recs:
            clock.t += PER_RECORD / RATE_HZ
            t0 = time.perf_counter_ns()
            d.on_record(DEVICE, rec, clock.t)
            ns = time.perf_counter_ns() - t0
            if cut is None and d.bands[0].raw_part == 1:
                cut = ns
            else:
                times.append(ns)
        assert cut is not None, "no part was cut"
        d._close_raw(d.bands[0])
        parts = sorted(raw.iterdir())
        size = parts[0].stat().st_size
        resume = []
        for _ in range(3):  # continuing the full part (as a restart does when it is the latest)
            t0 = time.perf_counter_ns()
            RawWriter(parts[0], RawReader(parts[0]).header).close()
            resume.append((time.perf_counter_ns() - t0) / 1e9)
    med = statistics.median(times)
    out: dict[str, Any] = {
        "hours": a.hours, "records": len(recs), "median_record_us": med / 1e3, "cutting_record_us": cut / 1e3,
        "cut_over_median": cut / med, "cut_share_of_part": cut / sum(times), "part_bytes": size, "part_mb": size / 1e6, "mb_per_day": size / 1e6 * 24 / a.hours,
        "resume_part_s": statistics.median(resume), "files": [p.name for p in parts],
    }  # fmt: skip
    print(f"a record: median {med / 1e3:.1f} us; the record that cuts the part: {cut / 1e3:.0f} us ({cut / med:.0f} x the median, "
          f"{cut / sum(times) * 100:.3f}% of the time of all the part's records)")  # fmt: skip
    print(f"part 000: {size} bytes = {size / 1e6:.1f} MB for {a.hours:g} h at {RATE_HZ} Hz ({size / 1e6 * 24 / a.hours:.1f} MB a day)")
    print(f"continuing that part after a restart (header + chunk scan): {statistics.median(resume) * 1e3:.0f} ms, median of 3")
    print(f"files: {', '.join(out['files'])}")
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
