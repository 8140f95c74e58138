"""Uptime: one ``spasmwatch run`` process left running, everything at once, sampled from outside.

    python bench/uptime.py                  # 12 simulated hours at 30x (~25 min)
    python bench/uptime.py --hours 2        # a shorter look
    python bench/uptime.py --json out.json

``bench/soak.py`` runs each kind of cycle on its own, in process, where the daemon's collections can
be counted. This runs the daemon as a family does, in its own process (``--sim-time-scale`` to the
band's speed, INFO log to a file), with all of it at the same time: the real band firmware under
micropython (``--paced``) over the simulated radio, through a TCP relay on 127.0.0.1 that cuts the
radio link every ``--cut-every`` simulated minutes (the band out of reach and back); a cluster of 4
spasms every ``--cluster-every`` simulated hours (alarms nobody acknowledges; they close 6 h after
their cluster); MQTT (mosquitto), webhook and ntfy on loopback receivers; and at every sample the
page's GETs on fresh connections and a live page (``/api/stream``) that reads its first update and
goes away.

Sampled from ``/proc/<pid>`` every ``--every`` real seconds: RSS, open fds, threads; the store's
size (SQLite's pages, the WAL's in) and its files'; the log's bytes and lines. Printed per simulated
day: the growth of each from the first sample after the warm-up (the reference) to the last, and
the growth in the run's second half over its first (what grows keeps growing; what fills a bound
stops). Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' recordings and broker
sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import proc_cpu_s, proc_mem_mb  # noqa: E402  (bench/load.py)
from servers import start_broker, stop_broker  # noqa: E402
from soak import CutRelay  # noqa: E402
from synthetic import supine, write_csv  # noqa: E402

from spasmwatch.transport.simband import SimBand, free_port  # noqa: E402

RATE_HZ = 52
DEVICE = "uptime01"
WARMUP_H = 1.0  # simulated hours before the reference sample: the start's work, the first cluster's alerts
GETS = ("/", "/static/app.js", "/api/status", "/api/clusters", "/api/days?n=14", "/api/notes")


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Receiver:
    """Webhook and ntfy on 127.0.0.1: every POST answered 200 and counted."""

    def __init__(self) -> None:
        counts = self.posts = {"n": 0}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                counts["n"] += 1
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def recording(tmp: Path, seconds: float, cluster_every_s: float) -> Path:
    """A baby asleep on its back; a cluster of 4 spasms 6 s apart every ``cluster_every_s``, the first after 20 min."""
    starts = [1200.0 + k * cluster_every_s for k in range(int(seconds // cluster_every_s) + 1)]
    spasms = tuple(s + 6.0 * i for s in starts for i in range(4) if s + 6.0 * i < seconds - 60)
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=seconds, spasms=spasms, seed=5)
    return write_csv(tmp / "uptime.csv", t, acc, gyro)


def config(tmp: Path, band: str, http_port: int, broker: int, rx: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        f"[daemon.http]\nport = {http_port}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n"
        f'[channels.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker}\n\n'
        f'[[channels.webhook]]\nname = "home"\nurl = "{rx}/hook"\n\n[[channels.ntfy]]\nname = "phone"\nurl = "{rx}/uptime-topic"\n\n'
        f'[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "{band}"\n'
    )
    return path


@dataclass
class Sample:
    sim_h: float
    rss_mb: float
    fds: int
    threads: int
    cpu_s: float
    store_kb: float  # SQLite's pages, the WAL's in
    files_kb: float  # the data folder's files: store, WAL, shm, backups
    log_kb: float
    log_lines: int
    status_kb: float  # the size of /api/status's answer


def _threads(pid: int) -> int:
    return int(next(ln.split()[1] for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("Threads:")))


def _store_kb(db: Path) -> float:
    if not db.exists():
        return 0.0
    with contextlib.closing(sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)) as c:
        return float(c.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetchone()[0]) / 1024


def _get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return bytes(r.read())


def _stream_once(port: int) -> None:
    """A live page: its first update read, then gone without a goodbye."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stream", timeout=30) as r:
        r.readline()


def sample(pid: int, data: Path, log: Path, sim_h: float, port: int) -> Sample:
    status = b""
    for path in GETS:
        body = _get(port, path)
        status = body if path == "/api/status" else status
    _stream_once(port)
    text = log.read_bytes()
    files = sum(f.stat().st_size for f in data.rglob("*") if f.is_file()) / 1024
    return Sample(round(sim_h, 3), proc_mem_mb(pid)[0], len(os.listdir(f"/proc/{pid}/fd")), _threads(pid), proc_cpu_s(pid),
                  _store_kb(data / "spasmwatch.db"), files, len(text) / 1024, text.count(b"\n"), len(status) / 1024)  # fmt: skip


def per_day(a: Sample, b: Sample, field: str) -> float:
    return (float(getattr(b, field)) - float(getattr(a, field))) * 24 / max(1e-9, b.sim_h - a.sim_h)


FIELDS = ("rss_mb", "fds", "threads", "store_kb", "files_kb", "log_kb", "log_lines", "status_kb", "cpu_s")


def summary(samples: list[Sample], extra: dict[str, Any]) -> dict[str, Any]:
    warm = [s for s in samples if s.sim_h >= WARMUP_H]
    a, b = warm[0], warm[-1]
    mid = min(warm, key=lambda s: abs(s.sim_h - (a.sim_h + b.sim_h) / 2))
    out: dict[str, Any] = {"sim_h": round(b.sim_h - a.sim_h, 2), "reference_h": a.sim_h, **extra}
    for f in FIELDS:
        first, second = per_day(a, mid, f), per_day(mid, b, f)
        out[f] = {"at_reference": getattr(a, f), "end": getattr(b, f), "max": max(getattr(s, f) for s in warm),
                  "per_day": round(per_day(a, b, f), 2), "per_day_1st_half": round(first, 2), "per_day_2nd_half": round(second, 2)}  # fmt: skip
    out["samples"] = [asdict(s) for s in samples]
    return out


def show(s: dict[str, Any]) -> None:
    print(f"{s['sim_h']} simulated h after {s['reference_h']} h to warm up, {s['speed']}x, {s['real_s']:.0f} s; "
          f"{s['cuts']} radio cuts, {s['clusters']} clusters, {s['page_views']} page views, {s['streams']} live pages, "
          f"{s['pushes']} webhook/ntfy posts")  # fmt: skip
    print(f"  {'':10} {'reference':>10} {'end':>10} {'max':>10} {'per day':>10} {'1st half':>10} {'2nd half':>10}  (per simulated day)")
    for f in FIELDS:
        v = s[f]
        print(f"  {f:10} {v['at_reference']:>10.1f} {v['end']:>10.1f} {v['max']:>10.1f} {v['per_day']:>+10.1f} "
              f"{v['per_day_1st_half']:>+10.1f} {v['per_day_2nd_half']:>+10.1f}")  # fmt: skip
    for ln in s["log_kinds"]:
        print(f"    {ln[1]:5d}  {ln[0]}")


def _kind(line: str) -> str:
    import re

    return re.sub(r"\b[\w-]*\d[\w.:-]*", "#", line.split(" ", 2)[-1])[:100]


def run(tmp: Path, hours: float, speed: int, every_s: float, cut_every_min: float, cluster_every_h: float) -> dict[str, Any]:
    from collections import Counter

    csv = recording(tmp, hours * 3600 + 1800, cluster_every_h * 3600)
    band = SimBand(csv, tmp / "flash", hold=True, speed=speed, device_id=DEVICE, timeout_s=hours * 3600 / speed + 600, args=["--paced"])
    relay = CutRelay(band.port)
    broker = start_broker(tmp)
    rx = Receiver()
    port, data, log = free_port(), tmp / "data", tmp / "daemon.log"
    cfg = config(tmp, f"127.0.0.1:{relay.port}", port, broker.port, rx.url)
    cmd = [sys.executable, "-m", "spasmwatch", "run", "--config", str(cfg), "--log-level", "info",
           "--sim-time-scale", f"{speed}@{time.time():.3f}"]  # fmt: skip
    with open(log, "wb") as f:
        d = subprocess.Popen(cmd, stdout=f, stderr=f, env=dict(os.environ, SPASMWATCH_DATA_DIR=str(data)))
    samples: list[Sample] = []
    cuts = views = 0
    try:
        t0 = time.monotonic()
        real, next_cut = hours * 3600 / speed, cut_every_min * 60 / speed
        while (now := time.monotonic() - t0) < real:
            if d.poll() is not None:
                raise SystemExit(f"the daemon exited ({d.returncode}); log:\n{log.read_text()[-4000:]}")
            if now >= next_cut:
                relay.cut()
                cuts, next_cut = cuts + 1, next_cut + cut_every_min * 60 / speed
            with contextlib.suppress(OSError):  # (the page not up yet at the start)
                samples.append(sample(d.pid, data, log, now * speed / 3600, port))
                views += len(GETS)
                if len(samples) % 20 == 0:
                    progress(f"  {samples[-1].sim_h:.1f} h: RSS {samples[-1].rss_mb:.1f} MB, fds {samples[-1].fds}, "
                             f"threads {samples[-1].threads}, store {samples[-1].store_kb:.0f} KB")  # fmt: skip
            time.sleep(max(0.0, min(every_s, next_cut - (time.monotonic() - t0))))
        lines = log.read_text(errors="replace").splitlines()
        extra = {"speed": speed, "real_s": time.monotonic() - t0, "cuts": cuts, "page_views": views, "streams": len(samples),
                 "clusters": int(hours // cluster_every_h), "pushes": rx.posts["n"],
                 "log_kinds": Counter(_kind(x) for x in lines).most_common(15)}  # fmt: skip
        d.send_signal(signal.SIGTERM)
        d.wait(60)
        return summary(samples, extra)
    finally:
        if d.poll() is None:
            d.kill()
        relay.close()
        band.kill()
        stop_broker(broker)
        rx.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=12.0, help="simulated hours")
    ap.add_argument("--speed", type=int, default=30, help="x real time for the band and the daemon")
    ap.add_argument("--every", type=float, default=3.0, help="real seconds between samples (each a page view and a live page)")
    ap.add_argument("--cut-every", type=float, default=15.0, help="simulated minutes between radio cuts")
    ap.add_argument("--cluster-every", type=float, default=1.0, help="simulated hours between clusters")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="uptime-") as tmp:
        progress(f"{args.hours:g} simulated h at {args.speed}x (~{args.hours * 3600 / args.speed / 60:.0f} min) ...")
        s = run(Path(tmp), args.hours, args.speed, args.every, args.cut_every, args.cluster_every)
    s.update(cpus=os.cpu_count(), load=os.getloadavg()[0])
    show(s)
    print(f"{s['cpus']} CPUs, load {s['load']:.2f} at the end")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(s, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
