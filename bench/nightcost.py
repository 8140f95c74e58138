"""Night cost: what one ``spasmwatch run`` costs a small always-on computer per hour of monitoring.

    python bench/nightcost.py                  # away 1 min, idle, idle at 2x, events, raw: an hour each, simulated (~13 min)
    python bench/nightcost.py --quick          # a quarter hour each (~4 min)
    python bench/nightcost.py --hours 0.25 --modes idle --json out.json

The daemon is the real ``spasmwatch run`` (its own process, INFO log as a family's), its clock
``--sim-time-scale``'d to the band's speed; the band is the real firmware under micropython
(``--paced``), over the simulated radio on loopback; the store and raw files are real files in a
temporary folder. Modes:

* ``idle``: a baby asleep, nothing happening: an epoch and a STATUS every 10 s.
* ``events``: a cluster of 4 spasms every 20 minutes (alarms raised and closed; sound and desktop
  off, no other channel), epochs and STATUS as above.
* ``raw``: ``idle`` with ``raw = true``: every sample (52 Hz) crosses the radio to a ``.swraw``.

Measured on the daemon's process (``/proc/<pid>``), from the band streaming to the end: CPU
(user + sys) per simulated hour and % of one core per real second; RSS at each sample (does it
grow?); the context switches of all its threads (voluntary: each a sleep ended, a wakeup) per real
second, and per simulated hour (at speed S the band's traffic comes S times as often, the ticker's
1 s does not speed up); the store's database and its ``-wal`` file sizes, and their growth per
simulated day; log lines per simulated hour. The reference, in the same run: the same daemon with
no band reachable (its wakeups are its own timers), and the band's own CPU. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' synthetic recordings
from load import proc_cpu_s, proc_mem_mb  # noqa: E402  (bench/load.py)
from synthetic import supine, write_csv  # noqa: E402

from spasmwatch.transport.simband import SimBand, free_port

RATE_HZ = 52
CLUSTER_EVERY_S = 20 * 60.0
DEVICE = "night0001"


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def finish(out: dict[str, Any], json_path: Path | None) -> int:
    """A run's last line (the machine it ran on) and its results to ``json_path``, if given; exit 0."""
    print(f"{out['cpus']} CPUs, load {out['load']:.2f} at the start")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(out, indent=1))
    return 0


def switches(pid: int) -> int:
    """Voluntary context switches of every thread of ``pid``: each a sleep (a wait on epoll, a
    lock, a disk write) that ended, a wakeup. Preemptions (the others) are the machine's load."""
    n = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for ln in (task / "status").read_text().splitlines():
                if ln.startswith("voluntary_ctxt_switches:"):
                    n += int(ln.split()[1])
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return n


def io(pid: int) -> tuple[int, int]:
    """(bytes handed to write() and its kin, their calls): the store's pages and WAL frames, the raw
    file, the log; the band's radio is a socket the daemon mostly reads."""
    f = dict(ln.split(": ") for ln in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(f["wchar"]), int(f["syscw"])


def recording(tmp: Path, mode: str, seconds: float) -> Path:
    spasms: tuple[float, ...] = ()
    if mode == "events":  # a cluster of 4 spasms 6 s apart every CLUSTER_EVERY_S, the first after 5 min
        spasms = tuple(300.0 + k * CLUSTER_EVERY_S + 6.0 * i for k in range(int((seconds - 300) // CLUSTER_EVERY_S) + 1) for i in range(4))
        spasms = tuple(s for s in spasms if s < seconds - 30)
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=seconds, spasms=spasms, seed=7)
    return write_csv(tmp / f"{mode}.csv", t, acc, gyro)


def config(tmp: Path, address: str | None, raw: bool) -> Path:
    lines = [f"[daemon.http]\nport = {free_port()}\n", "[channels.sound]\nenabled = false\n", "[channels.desktop]\nenabled = false\n"]
    band = f'[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "{address or "127.0.0.1:1"}"\n'
    lines.append(band + ("raw = true\n" if raw else ""))
    path = tmp / "config.toml"
    path.write_text("\n".join(lines))
    return path


@dataclass
class Sample:
    real_s: float
    sim_h: float
    cpu_s: float
    rss_mb: float
    switches: int
    db_kb: float
    wal_kb: float
    raw_kb: float
    wchar: int
    syscw: int


@dataclass
class Run:
    mode: str
    speed: int
    samples: list[Sample] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    band_cpu_s: float = 0.0
    store_kb: tuple[float, float] = (0.0, 0.0)  # the store as SQLite counts it (WAL pages in), first and last
    status_rows: tuple[int, int] = (0, 0)  # STATUS rows stored, first and last

    def summary(self) -> dict[str, Any]:
        a, b = self.samples[0], self.samples[-1]
        real, sim_h = b.real_s - a.real_s, b.sim_h - a.sim_h
        rss = [s.rss_mb for s in self.samples]
        half = len(rss) // 2
        return {
            "mode": self.mode, "speed": self.speed, "real_s": round(real, 1), "sim_h": round(sim_h, 3),
            "cpu_s_per_sim_h": round((b.cpu_s - a.cpu_s) / sim_h, 2), "cpu_pct_real": round(100 * (b.cpu_s - a.cpu_s) / real, 2),
            "band_cpu_s_per_sim_h": round(self.band_cpu_s / sim_h, 2) if self.band_cpu_s else None,
            "wakeups_per_real_s": round((b.switches - a.switches) / real, 1),
            "wakeups_per_sim_h": round((b.switches - a.switches) / sim_h),
            "rss_mb": [round(x, 1) for x in (rss[0], max(rss[:half] or rss), max(rss[half:]), rss[-1])],
            "db_kb_per_sim_day": round((self.store_kb[1] - self.store_kb[0]) * 24 / sim_h), "db_file_kb": [round(a.db_kb), round(b.db_kb)], "wal_kb": [round(a.wal_kb), round(max(s.wal_kb for s in self.samples)), round(b.wal_kb)],
            "written_kb_per_sim_h": round((b.wchar - a.wchar) / 1024 / sim_h), "writes_per_sim_h": round((b.syscw - a.syscw) / sim_h),
            "raw_kb_per_sim_day": round((b.raw_kb - a.raw_kb) * 24 / sim_h),
            "status_rows_per_sim_day": round((self.status_rows[1] - self.status_rows[0]) * 24 / sim_h),
            "log_lines_per_sim_h": round(len(self.log_lines) / sim_h, 1), "log_first": self.log_lines[:8],
        }  # fmt: skip


def _kb(p: Path) -> float:
    try:
        return p.stat().st_size / 1024
    except FileNotFoundError:
        return 0.0


def _raw_kb(d: Path) -> float:
    return sum(f.stat().st_size for f in d.glob("*.swraw")) / 1024 if d.exists() else 0.0


def sample(pid: int, data: Path, t0: float, speed: int) -> Sample:
    real = time.monotonic() - t0
    return Sample(real, real * speed / 3600, proc_cpu_s(pid), proc_mem_mb(pid)[0], switches(pid), _kb(data / "spasmwatch.db"),
                  _kb(data / "spasmwatch.db-wal"), _raw_kb(data / "raw"), *io(pid))  # fmt: skip


def _lines_since(log: Path, start: int) -> list[str]:
    text = log.read_bytes()[start:].decode(errors="replace")
    return [ln for ln in text.splitlines() if ln.strip()]


def run(tmp: Path, mode: str, hours: float, speed: int, every_s: float) -> Run:
    tmp.mkdir(parents=True, exist_ok=True)
    band: SimBand | None = None
    if mode != "away":
        mode_rec = "idle" if mode == "idle-slow" else mode
        csv = recording(tmp, mode_rec, hours * 3600 + 600)
        band = SimBand(csv, tmp / "flash", hold=True, speed=speed, device_id=DEVICE, timeout_s=hours * 3600 / speed + 300,
                       args=["--paced"])  # fmt: skip
    cfg = config(tmp, band.address if band else None, raw=mode == "raw")
    data = tmp / "data"
    env = dict(os.environ, SPASMWATCH_DATA_DIR=str(data))
    log = tmp / "daemon.log"
    r = Run(mode, speed)
    with open(log, "wb") as f:
        cmd = [sys.executable, "-m", "spasmwatch", "run", "--config", str(cfg), "--log-level", "info",
               "--sim-time-scale", f"{speed}@{time.time():.3f}"]  # fmt: skip
        d = subprocess.Popen(cmd, stdout=f, stderr=f, env=env)
    try:
        # Measured once the band streams (its first STATUS stored) and the start's work is done.
        end = time.monotonic() + 60
        while band is not None and not _streaming(data):
            if d.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"the daemon did not stream ({d.poll()}); log:\n{log.read_text()}")
            time.sleep(0.1)
        time.sleep(2.0)
        start = log.stat().st_size
        t0 = time.monotonic()
        bcpu0 = proc_cpu_s(band.proc.pid) if band else 0.0
        r.samples.append(sample(d.pid, data, t0, speed))
        first_kb, first_rows = store_kb(data), status_rows(data)
        real = hours * 3600 / speed
        while time.monotonic() - t0 < real:
            time.sleep(min(every_s, max(0.0, real - (time.monotonic() - t0))))
            if d.poll() is not None:
                raise SystemExit(f"the daemon exited ({d.returncode}); log:\n{log.read_text()}")
            r.samples.append(sample(d.pid, data, t0, speed))
        if band is not None and band.running:
            r.band_cpu_s = proc_cpu_s(band.proc.pid) - bcpu0
        r.log_lines = _lines_since(log, start)
        r.store_kb = (first_kb, store_kb(data))
        r.status_rows = (first_rows, status_rows(data))
        d.send_signal(signal.SIGTERM)
        d.wait(30)
    finally:
        if d.poll() is None:
            d.kill()
        if band is not None:
            band.kill()
    return r


def store_kb(data: Path) -> float:
    """The store's size as SQLite counts it, the pages in the WAL included (a read-only look)."""
    import sqlite3

    db = data / "spasmwatch.db"
    if not db.exists():
        return 0.0
    with contextlib.closing(sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)) as c:
        return float(c.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetchone()[0]) / 1024


def status_rows(data: Path) -> int:
    """STATUS rows in the store (0: none yet, or no store; a read-only look)."""
    import sqlite3

    db = data / "spasmwatch.db"
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)) as c:
            return int(c.execute("SELECT count(*) FROM status").fetchone()[0])
    except sqlite3.Error:
        return 0


def _streaming(data: Path) -> bool:
    return status_rows(data) > 0


def show(s: dict[str, Any]) -> None:
    print(f"{s['mode']}: {s['sim_h']:.2f} simulated h at {s['speed']}x in {s['real_s']:.0f} s")
    band = f"  (the band's own: {s['band_cpu_s_per_sim_h']} s)" if s["band_cpu_s_per_sim_h"] else ""
    print(f"  CPU {s['cpu_s_per_sim_h']} s per simulated hour, {s['cpu_pct_real']} % of a core{band}")
    print(f"  wakeups {s['wakeups_per_real_s']} per real s, {s['wakeups_per_sim_h']} per simulated hour")
    print(f"  RSS first / peak first half / peak second half / last: {s['rss_mb']} MB")
    print(f"  store +{s['db_kb_per_sim_day']} KB a day (file KB {s['db_file_kb']}); WAL KB first / peak / last {s['wal_kb']}; raw +{s['raw_kb_per_sim_day']} KB a day")
    print(f"  written {s['written_kb_per_sim_h']} KB in {s['writes_per_sim_h']} write calls per simulated hour")
    print(f"  STATUS rows {s['status_rows_per_sim_day']} per simulated day")
    print(f"  log lines {s['log_lines_per_sim_h']} per simulated hour")
    for ln in s["log_first"]:
        print(f"    {ln[:150]}")


def at_1x(fast: dict[str, Any], slow: dict[str, Any]) -> dict[str, float]:
    """The cost of a real hour at speed 1, from two runs at different speeds: each figure is
    ``a`` per real second (the ticker, timers) plus ``b`` per simulated hour (the band's traffic)."""
    out = {}
    for key, total in (("cpu_s_per_h", "cpu_s_per_sim_h"), ("wakeups_per_h", "wakeups_per_sim_h")):
        # per simulated hour at speed S: y = a * 3600 / S + b
        x1, x2 = 3600 / fast["speed"], 3600 / slow["speed"]
        a = (slow[total] - fast[total]) / (x2 - x1)
        b = fast[total] - a * x1
        out[key] = round(a * 3600 + b, 1)
        out[key + "_timers_part"] = round(a * 3600, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=1.0, help="simulated hours per mode")
    ap.add_argument("--speed", type=int, default=30, help="the band's and daemon's speed (raw: --raw-speed)")
    ap.add_argument("--raw-speed", type=int, default=10, help="raw streams 52 Hz x speed samples a real second")
    ap.add_argument("--away-s", type=float, default=60.0, help="real seconds of the reference: no band reachable")
    ap.add_argument("--slow-speed", type=int, default=2, help="idle-slow: the idle band again at this speed, to split the cost")
    ap.add_argument("--slow-s", type=float, default=120.0, help="real seconds of idle-slow")
    ap.add_argument("--modes", default="away,idle,idle-slow,events,raw")
    ap.add_argument("--every", type=float, default=5.0, help="real seconds between samples")
    ap.add_argument("--quick", action="store_true", help="a quarter hour each, 20 s away, 40 s idle-slow")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.quick:
        args.hours, args.away_s, args.slow_s = 0.25, 20.0, 40.0
    out: dict[str, Any] = {"cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="nightcost-") as tmp:
        for mode in args.modes.split(","):
            speed = {"raw": args.raw_speed, "idle-slow": args.slow_speed}.get(mode, args.speed)
            hours = {"away": args.away_s * speed / 3600, "idle-slow": args.slow_s * speed / 3600}.get(mode, args.hours)
            progress(f"{mode}: {hours:g} simulated h at {speed}x ...")
            s = run(Path(tmp) / mode, mode, hours, speed, args.every).summary()
            show(s)
            out[mode] = s
    if "idle" in out and "idle-slow" in out:
        out["idle_at_1x"] = at_1x(out["idle"], out["idle-slow"])
        print("idle at 1x (from idle and idle-slow: cost = per real s x 3600 + per simulated hour):", out["idle_at_1x"])
    return finish(out, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
