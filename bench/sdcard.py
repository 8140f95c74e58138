"""SD card: what one ``spasmwatch run`` writes to its disk per simulated hour, by file, and its syncs.

    python bench/sdcard.py                      # idle and raw, half a simulated hour each
    python bench/sdcard.py --hours 1 --modes idle,events,raw --json out.json

The daemon, band and modes are ``bench/nightcost.py``'s (the real ``spasmwatch run``, the real firmware
under micropython ``--paced``, the simulated radio on loopback; real files in a temporary folder). Once
the band streams, ``strace -f -y`` is attached to the daemon's threads for ``--hours`` simulated hours
and every write(), pwrite64(), writev(), fsync() and fdatasync() is counted by the file it reaches:
the store, its WAL, its ``-shm`` (a memory map: no disk write of its own), raw files, the log,
backups, anything else. Per simulated hour: bytes, write calls, syncs; and the daemon's RSS. strace
slows the daemon, not what it writes per band record. Needs strace; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import proc_mem_mb  # noqa: E402  (bench/load.py)
from nightcost import DEVICE, _streaming, config, finish, progress, recording  # noqa: E402

from spasmwatch.transport.simband import SimBand

# pwrite64(7</tmp/x/data/spasmwatch.db-wal>, ""..., 4120, 41232) = 4120
_CALL = re.compile(r"^\d+\s+(write|pwrite64|writev|pwritev|fsync|fdatasync)\((\d+)<([^>]*)>.*\)\s+=\s+(-?\d+)")
SYNCS = ("fsync", "fdatasync")


def kind(path: str, data: Path, log: Path) -> str | None:
    """What the written file is; None: not a file on the disk (a socket, a pipe, an eventfd)."""
    if path == str(log):
        return "log"
    if not path.startswith(str(data)):
        return None if not path.startswith("/") or path.startswith("/dev/") else "other"
    rel = Path(path).relative_to(data)
    name = rel.name
    if rel.parts[0] == "raw" or name.endswith(".swraw"):
        return "raw"
    if "backup" in rel.parts[0]:
        return "backup"
    for suffix, k in (("-wal", "wal"), ("-shm", "shm"), ("-journal", "journal")):
        if name.endswith(suffix):
            return k
    return "store" if name.endswith(".db") else "other"


def parse(trace: Path, data: Path, log: Path) -> dict[str, dict[str, int]]:
    """Per kind of file: bytes written, write calls, syncs."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"bytes": 0, "writes": 0, "syncs": 0})
    for ln in trace.read_text(errors="replace").splitlines():
        m = _CALL.match(ln)
        if m is None:
            continue
        call, _, path, ret = m.groups()
        k = kind(path, data, log)
        if k is None:
            continue
        if call in SYNCS:
            out[k]["syncs"] += 1
        else:
            out[k]["writes"] += 1
            out[k]["bytes"] += max(0, int(ret))
    return dict(out)


def run(tmp: Path, mode: str, hours: float, speed: int) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    csv = recording(tmp, mode, hours * 3600 + 900)
    band = SimBand(csv, tmp / "flash", hold=True, speed=speed, device_id=DEVICE, timeout_s=hours * 3600 / speed + 600, args=["--paced"])
    cfg = config(tmp, band.address, raw=mode == "raw")
    data, log, trace = tmp / "data", tmp / "daemon.log", tmp / "strace.txt"
    env = dict(os.environ, SPASMWATCH_DATA_DIR=str(data))
    cmd = [sys.executable, "-m", "spasmwatch", "run", "--config", str(cfg), "--log-level", "info",
           "--sim-time-scale", f"{speed}@{time.time():.3f}"]  # fmt: skip
    with open(log, "wb") as f:
        d = subprocess.Popen(cmd, stdout=f, stderr=f, env=env)
    st: subprocess.Popen[bytes] | None = None
    try:
        end = time.monotonic() + 120
        while not _streaming(data):
            if d.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"the daemon did not stream ({d.poll()}); log:\n{log.read_text()}")
            time.sleep(0.2)
        time.sleep(2.0)
        st = subprocess.Popen(["strace", "-f", "-y", "-s", "0", "-qq", "-e", "trace=write,pwrite64,writev,pwritev,fsync,fdatasync",
                               "-e", "signal=none", "-o", str(trace), "-p", str(d.pid)])  # fmt: skip
        time.sleep(1.0)
        t0, rss = time.monotonic(), []
        real = hours * 3600 / speed
        while (now := time.monotonic() - t0) < real:
            time.sleep(min(5.0, real - now))
            if d.poll() is not None:
                raise SystemExit(f"the daemon exited ({d.returncode}); log:\n{log.read_text()}")
            rss.append(proc_mem_mb(d.pid)[0])
        sim_h = (time.monotonic() - t0) * speed / 3600
        st.send_signal(signal.SIGINT)
        st.wait(30)
        st = None
        counts = parse(trace, data, log)
        d.send_signal(signal.SIGTERM)
        d.wait(60)
    finally:
        if st is not None and st.poll() is None:
            st.kill()
        if d.poll() is None:
            d.kill()
        band.kill()
    per_h = {k: {f: round(v / sim_h) for f, v in c.items()} for k, c in sorted(counts.items())}
    total = {f: sum(c[f] for c in per_h.values()) for f in ("bytes", "writes", "syncs")}
    return {"mode": mode, "speed": speed, "sim_h": round(sim_h, 3), "per_sim_h": per_h, "total_per_sim_h": total,
            "rss_mb": [round(min(rss), 1), round(max(rss), 1)]}  # fmt: skip


def show(s: dict[str, Any]) -> None:
    print(f"{s['mode']}: {s['sim_h']:.2f} simulated h at {s['speed']}x; RSS {s['rss_mb'][0]}-{s['rss_mb'][1]} MB")
    print(f"  {'file':8} {'KB/h':>10} {'writes/h':>10} {'syncs/h':>10}   (per simulated hour)")
    for k, c in list(s["per_sim_h"].items()) + [("total", s["total_per_sim_h"])]:
        print(f"  {k:8} {c['bytes'] / 1024:>10.1f} {c['writes']:>10} {c['syncs']:>10}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=0.5, help="simulated hours per mode")
    ap.add_argument("--speed", type=int, default=30, help="the band's and daemon's speed (raw: --raw-speed)")
    ap.add_argument("--raw-speed", type=int, default=10, help="raw streams 52 Hz x speed samples a real second")
    ap.add_argument("--modes", default="idle,raw")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("bench/sdcard.py needs strace")
    out: dict[str, Any] = {"cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="sdcard-") as tmp:
        for mode in args.modes.split(","):
            speed = args.raw_speed if mode == "raw" else args.speed
            progress(f"{mode}: {args.hours:g} simulated h at {speed}x ...")
            out[mode] = s = run(Path(tmp) / mode, mode, args.hours, speed)
            show(s)
    return finish(out, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
