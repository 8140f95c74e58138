"""Load: one ``spasmwatch run`` with N simulated bands streaming RAW at 104 Hz, in real time.

    python bench/load.py                     # 10 bands, 120 s
    python bench/load.py --bands 3 --seconds 30 --json out.json

Every band is the real firmware under the micropython unix port (speed 1,
``--paced``) on the LSM6DS3 board definition
(``hardware/boards/xiao-esp32s3-lsm6ds3.json``), whose register emulation
runs at a true 104 Hz. The rate is set the way the protocol's CONFIG write
sets it: the band's ``config.json`` with ``rate_hz = 104`` (the file CONFIG
persists, read at boot; rate is a reboot-to-apply key), placed in the band's
flash before it boots. Each band plays its own recording with a cluster of
six spasms (start staggered by band) and ``raw = true`` in the daemon's
config, so every sample crosses the radio and lands in a ``.swraw`` file.

Measured on the daemon process (``/proc/<pid>``): CPU (user + sys over the
run, % of one core), RSS now and peak (VmHWM); the bands' CPU for scale.
Alarm latency per band: the ALARM transition's time in the store (the
daemon's clock, here the system clock: when the alarm was raised, not when a
channel delivered it) minus the end (onset + duration: its release) of the
cluster's third spasm as stored; p50 / p90 / p99 over the bands (with 10
bands, p90 and p99 are the worst ones). It splits as ``alarm_latency.py``'s
does: the band's part, the daemon's receipt of that spasm's EVENT minus its
end (the band's calm-after wait POST_MS, 1 s, plus its sample batch and the
radio), and the host's part, ALARM stored minus that receipt (store, analysis,
alert engine: what ten bands' raw streams load). ``alarm_latency.py`` measures
from the same end to a webhook's receipt (the host's part then includes the
HTTP delivery). Events logged vs. stored per band. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' synthetic recordings
from synthetic import supine, write_csv  # noqa: E402

from spasmwatch.store import Store, StoreError
from spasmwatch.transport.simband import SimBand, firmware_dir, free_port
from swcore import consts as C
from swcore import protocol as P

RATE_HZ = 104
BOARD = firmware_dir().parent / "hardware" / "boards" / "xiao-esp32s3-lsm6ds3.json"
TICK = os.sysconf("SC_CLK_TCK")


def recording(path: Path, duration_s: float, first_spasm_s: float, seed: int, gap_s: float = 8.0) -> Path:
    """A supine baby breathing, a cluster of 6 idealised spasms ``gap_s`` apart (tests/synthetic.py)."""
    t, acc, gyro = supine(RATE_HZ, duration_s, tuple(first_spasm_s + gap_s * k for k in range(6)), seed=seed)
    return write_csv(path, t, acc, gyro)


def band_config(flash: Path) -> None:
    """The config.json a CONFIG write of rate_hz = 104 leaves in the band's flash (band/config.py)."""
    flash.mkdir(parents=True, exist_ok=True)
    doc: dict[str, int] = {"version": 1}
    defaults = {P.CFG_MIN_CONFIDENCE: 0, P.CFG_RATE_HZ: RATE_HZ, P.CFG_STATUS_PERIOD_S: 10, P.CFG_LOW_BATTERY_PCT: 15}
    for key, spec in P.CONFIG_KEYS.items():
        doc[spec[0]] = defaults[key]
    (flash / "config.json").write_text(json.dumps(doc))


def proc_cpu_s(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def proc_mem_mb(pid: int) -> tuple[float, float]:
    st = {ln.split(":")[0]: ln.split()[1] for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("Vm")}
    return int(st["VmRSS"]) / 1024, int(st["VmHWM"]) / 1024


def pct(xs: list[float], q: float) -> float | None:
    return float(np.percentile(xs, q, method="higher")) if xs else None


def run(tmp: Path, n_bands: int, seconds: float, log: Any = sys.stderr) -> dict[str, Any]:
    bands: list[SimBand] = []
    lines = [f"[daemon.http]\nport = {free_port()}\n", "[channels.sound]\nenabled = false\n", "[channels.desktop]\nenabled = false\n"]
    # The recordings end 5 s before the window: every event is logged while the daemon still runs.
    duration = seconds - 5
    try:
        for i in range(n_bands):
            # Staggered clusters; a short run gets short gaps (the third spasm ~12 s after the first).
            short = seconds < 70
            first = 4.0 + 1.0 * i if short else 10.0 + (seconds - 60.0) * i / max(1, n_bands)
            csv = recording(tmp / f"rec{i}.csv", duration, first, seed=i, gap_s=4.0 if short else 8.0)
            band_config(tmp / f"flash{i}")
            b = SimBand(csv, tmp / f"flash{i}", hold=True, speed=1, device_id=f"load{i:04d}", idle_exit_ms=1000,
                        args=["--paced", "--board", str(BOARD)], timeout_s=seconds + 120)  # fmt: skip
            assert b.up["rate_hz"] == RATE_HZ, b.up
            bands.append(b)
            lines.append(f'[[bands]]\nname = "band{i}"\ntransport = "sim"\naddress = "{b.address}"\nraw = true\nrate_hz = {RATE_HZ}\n')
        config = tmp / "config.toml"
        config.write_text("\n".join(lines))
        env = dict(os.environ, SPASMWATCH_DATA_DIR=str(tmp / "data"))
        logf = open(tmp / "daemon.log", "wb")
        d = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config), "--log-level", "warning"],
                             stdout=logf, stderr=logf, env=env)  # fmt: skip
        t0 = time.monotonic()
        cpu0 = proc_cpu_s(d.pid)
        bcpu0 = sum(proc_cpu_s(b.proc.pid) for b in bands)
        rss: list[float] = []
        while time.monotonic() - t0 < seconds:
            time.sleep(1.0)
            if d.poll() is not None:
                raise SystemExit(f"the daemon exited ({d.returncode}); log: {(tmp / 'daemon.log').read_text()}")
            rss.append(proc_mem_mb(d.pid)[0])
        wall = time.monotonic() - t0
        cpu = proc_cpu_s(d.pid) - cpu0
        bcpu = sum(proc_cpu_s(b.proc.pid) for b in bands if b.running) - bcpu0
        _, hwm = proc_mem_mb(d.pid)
        d.send_signal(signal.SIGTERM)
        d.wait(30)
        logf.close()
        # With nobody connected the bands stop and report what their flash holds.
        logged = [int(b.wait_report("end", 30)["next_seq"]) for b in bands]
    finally:
        for b in bands:
            b.kill()
    return {"wall_s": wall, "sampling_s": duration, "daemon_cpu_s": cpu, "bands_cpu_s": bcpu, "rss_mb": rss, "hwm_mb": hwm,
            **per_band(tmp / "data" / "spasmwatch.db", tmp / "data" / "raw", logged)}  # fmt: skip


def per_band(db: Path, raw_dir: Path, logged: list[int]) -> dict[str, Any]:
    from spasmwatch.io.rawfile import RawReader

    lat: list[float] = []
    band_parts: list[float] = []  # the third spasm's end -> its EVENT at the daemon (POST_MS + batch + radio)
    host_parts: list[float] = []  # that EVENT's receipt -> ALARM stored
    rows = []
    try:
        s = Store.open_readonly(db)
    except StoreError as e:
        raise SystemExit(f"no store: {e}") from None
    with s:
        for i, next_seq in enumerate(logged):
            dev = f"load{i:04d}"
            evs = sorted(s.events(dev), key=lambda e: e.seq)
            st = s.latest_status(dev)
            alarms = [a for a in s.alerts(dev) if a.kind == "cluster" and a.state == "ALARM"]
            latency = band = None
            if alarms and alarms[0].cluster_id is not None:
                ce = sorted(s.cluster_events(alarms[0].cluster_id), key=lambda e: e.wall_t or 0)
                if len(ce) >= 3 and ce[2].wall_t is not None:
                    end = ce[2].wall_t + ce[2].duration_ms / 1000  # the third spasm's release, not its EVENT's arrival
                    latency, band = alarms[0].wall_s - end, ce[2].received_wall_s - end
                    lat.append(latency)
                    band_parts.append(band)
                    host_parts.append(latency - band)
            raw_samples = 0
            for f in raw_dir.glob(f"{dev}-boot*.swraw"):
                raw_samples += sum(len(c.samples) for c in RawReader(f).chunks())
            rows.append({"device": dev, "events_stored": len(evs), "seqs": [e.seq for e in evs], "events_logged": next_seq,
                         "alarms": len(alarms), "latency_s": latency, "band_s": band, "raw_samples": raw_samples,
                         "uptime_s": st.uptime_s if st else None})  # fmt: skip
    return {"bands": rows, "latencies_s": lat, "band_parts_s": band_parts, "host_parts_s": host_parts}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bands", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true", help="3 bands, 30 s")
    args = ap.parse_args()
    if args.quick:
        args.bands, args.seconds = 3, 30.0
    tmp = Path(tempfile.mkdtemp(prefix="spasmwatch-load-"))
    r = run(tmp, args.bands, args.seconds)
    lat, band, host = r["latencies_s"], r["band_parts_s"], r["host_parts_s"]
    raw_rate = sum(b["raw_samples"] for b in r["bands"]) / r["sampling_s"]  # while the bands were sampling
    loss = [b["device"] for b in r["bands"] if b["events_logged"] is None or b["seqs"] != list(range(b["events_logged"]))]
    out = {
        "bands": args.bands, "seconds": round(r["wall_s"], 1), "rate_hz": RATE_HZ, "cpus": os.cpu_count(),
        "daemon_cpu_pct": 100 * r["daemon_cpu_s"] / r["wall_s"], "bands_cpu_pct": 100 * r["bands_cpu_s"] / r["wall_s"],
        "daemon_rss_mb_median": float(np.median(r["rss_mb"])) if r["rss_mb"] else None, "daemon_peak_rss_mb": r["hwm_mb"],
        "raw_samples_per_s": raw_rate, "raw_samples_per_s_per_band": raw_rate / args.bands,
        "alarms": sum(1 for b in r["bands"] if b["alarms"]), "latency_p50_s": pct(lat, 50), "latency_p90_s": pct(lat, 90),
        "latency_p99_s": pct(lat, 99), "latency_max_s": max(lat) if lat else None,
        "band_p50_s": pct(band, 50), "band_max_s": max(band) if band else None, "post_ms": C.POST_MS,
        "host_p50_s": pct(host, 50), "host_max_s": max(host) if host else None,
        "events_logged": sum(b["events_logged"] or 0 for b in r["bands"]), "events_stored": sum(b["events_stored"] for b in r["bands"]),
        "bands_with_loss": loss, "per_band": r["bands"], "load_1min_end": os.getloadavg()[0],
    }  # fmt: skip
    f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"{args.bands} bands x {RATE_HZ} Hz raw, {out['seconds']} s real time, one daemon process; {out['cpus']} CPUs, load {out['load_1min_end']:.2f}")
    print(f"  daemon CPU:  {out['daemon_cpu_pct']:.1f} % of one core   (the {args.bands} micropython bands: {out['bands_cpu_pct']:.0f} %)")
    print(f"  daemon RSS:  {out['daemon_rss_mb_median']:.0f} MB median, {out['daemon_peak_rss_mb']:.0f} MB peak")
    print(f"  raw samples stored: {raw_rate:.0f}/s ({raw_rate / args.bands:.1f}/s per band)")
    print(f"  alarms: {out['alarms']} of {args.bands} bands; raised (ALARM stored) after the third spasm's end (its release): "
          f"p50 {f(out['latency_p50_s'])} s, p90 {f(out['latency_p90_s'])} s, p99 {f(out['latency_p99_s'])} s")
    print(f"    band's part (spasm end -> its EVENT at the daemon: POST_MS {C.POST_MS} ms + batch + radio): "
          f"p50 {f(out['band_p50_s'])} s, max {f(out['band_max_s'])} s")
    print(f"    host's part (EVENT received -> ALARM stored): p50 {f(out['host_p50_s'])} s, max {f(out['host_max_s'])} s")
    print(f"  events logged {out['events_logged']}, stored {out['events_stored']}, bands with loss: {loss or 'none'}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if not loss and out["alarms"] == args.bands else 1


if __name__ == "__main__":
    raise SystemExit(main())
