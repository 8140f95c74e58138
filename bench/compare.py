"""spasmwatch's replay against scikit-digital-health's ``Sleep`` and ``agcounts``, on the same day, in one run.

The data is bench/replay.py's simulated day (24 h of 100 Hz 6-axis data,
cached by hours and seed). Each tool runs in its own fresh process, which
first loads the samples it needs into memory with spasmwatch's CSV reader
(the same load for everyone, timed apart), then runs the analysis:

  spasmwatch 6-axis   ``spasmwatch.analysis.replay.replay`` (twin detector,
                      clustering, sleep/wake), 1e6-row blocks, with the gyro
  spasmwatch accel    the same without the gyro: the same input the others get
  skdh Sleep          ``skdh.preprocessing.GetDayWindowIndices`` (noon to noon)
                      + ``skdh.sleep.Sleep().predict`` (the recording is put at
                      noon so the day is one window; wear assumed throughout)
  agcounts            ``agcounts.extract.get_counts(acc, 100, 60)``: ActiGraph
                      counts per 60 s epoch

and, for the end-to-end view, ``spasmwatch replay FILE --jsonl`` streaming
from the CSV (bench/replay.py's ``full_replay``).

Per tool: analysis wall and CPU time, x real time, the process's peak RSS,
and the analysis's own peak above the loaded data (VmHWM reset through
/proc/self/clear_refs just before the analysis, minus VmRSS at that moment).
Ratios are spasmwatch's x real time over the other's (>1: spasmwatch is
faster) and the other's peak memory over spasmwatch's. Never asserts a time.

The two references are optional (``pip install -r bench/requirements.txt``);
a tool that is missing or fails is reported as such and the rest still runs.

usage: python bench/compare.py [--hours 24 | --quick] [--seed 1] [--runs 1]
                               [--tools spasmwatch,spasmwatch-accel,skdh,agcounts] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay import RATE_HZ, full_replay, log, recording  # noqa: E402  (bench/replay.py)

TOOLS = ("spasmwatch", "spasmwatch-accel", "skdh", "agcounts")
BLOCK_ROWS = 1_000_000
QUICK_HOURS = 1.0
# skdh wants unix times and cuts the recording into noon-to-noon days: the
# simulated day (t from 0) is put at noon, so it is one whole window.
NOON = datetime(2026, 1, 1, 12, tzinfo=timezone.utc).timestamp()


# --- child side ------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _load(path: str, gyro: bool, times: bool) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    from spasmwatch.io import open_recording

    t_parts, a_parts, g_parts = [], [], []
    for c in open_recording(path, chunk_rows=BLOCK_ROWS).chunks():
        if times:
            t_parts.append(c.t)
        a_parts.append(c.acc)
        if gyro and c.gyro is not None:
            g_parts.append(c.gyro)
    t = np.concatenate(t_parts) if times else None
    return t, np.concatenate(a_parts), (np.concatenate(g_parts) if g_parts else None)


def _run_spasmwatch(t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None) -> dict[str, Any]:
    from collections import Counter

    from spasmwatch.analysis.replay import Block, replay

    blocks = [
        Block(t[i : i + BLOCK_ROWS], acc[i : i + BLOCK_ROWS], None if gyro is None else gyro[i : i + BLOCK_ROWS])
        for i in range(0, len(t), BLOCK_ROWS)
    ]
    counts: Counter[str] = Counter(r["type"] for r in replay(blocks, RATE_HZ, gyro is not None))
    return {"records": dict(sorted(counts.items()))}


def _run_skdh(t: np.ndarray, acc: np.ndarray) -> dict[str, Any]:
    from skdh.preprocessing import GetDayWindowIndices
    from skdh.sleep import Sleep

    time_s = t - t[0] + NOON
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "External wear detection not provided. Assuming 100% wear time."
        days = GetDayWindowIndices(bases=[12], periods=[24]).predict(time=time_s, accel=acc, fs=RATE_HZ)
        res = Sleep(min_day_hours=min(6, len(t) / RATE_HZ / 3600 * 0.9)).predict(time=time_s, accel=acc, fs=RATE_HZ, **days)
    out: dict[str, Any] = {}
    for key in ("Day N", "TSO Start", "TSO Duration", "total sleep time", "number of wake bouts"):
        vals = res.get(key, [])
        out[key] = [v if isinstance(v, str) else (None if v != v else float(v)) for v in vals]
    return out


def _run_agcounts(acc: np.ndarray) -> dict[str, Any]:
    from agcounts.extract import get_counts

    counts = get_counts(acc, freq=int(RATE_HZ), epoch=60)
    return {"epochs": int(counts.shape[0]), "counts_sum": [int(x) for x in counts.sum(axis=0)]}


_IMPORTS = {
    "spasmwatch": "spasmwatch.analysis.replay",
    "spasmwatch-accel": "spasmwatch.analysis.replay",
    "skdh": "skdh.sleep",
    "agcounts": "agcounts.extract",
}


def child(tool: str, path: str) -> dict[str, Any]:
    """Import the tool and load what it needs, then time its analysis alone; report times and memory."""
    if tool not in _IMPORTS:
        raise SystemExit(f"unknown tool {tool}")
    t0 = time.perf_counter()
    importlib.import_module("spasmwatch.io")  # imports are neither load nor analysis: done before the clocks
    importlib.import_module(_IMPORTS[tool])
    if tool == "skdh":
        importlib.import_module("skdh.preprocessing")
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    t, acc, gyro = _load(path, gyro=tool == "spasmwatch", times=tool != "agcounts")
    load_s = time.perf_counter() - t0
    load_peak_kb = _status_kb("VmHWM")
    hwm_reset = _reset_peak()
    rss0_kb = _status_kb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    if tool.startswith("spasmwatch"):
        assert t is not None
        summary = _run_spasmwatch(t, acc, gyro)
    elif tool == "skdh":
        assert t is not None
        summary = _run_skdh(t, acc)
    else:
        summary = _run_agcounts(acc)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_kb = _status_kb("VmHWM")
    return {
        "rows": len(acc),
        "import_s": import_s,
        "load_s": load_s,
        "analysis_s": wall,
        "analysis_cpu_s": cpu,
        "rss_before_analysis_mb": rss0_kb / 1024,
        "analysis_peak_rss_mb": peak_kb / 1024 if hwm_reset else None,
        "analysis_extra_peak_mb": (peak_kb - rss0_kb) / 1024 if hwm_reset else None,
        "process_peak_rss_mb": max(load_peak_kb, peak_kb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
        "summary": summary,
    }


# --- parent side -----------------------------------------------------------------------


def available(tool: str) -> str | None:
    """None if the tool can be imported here, else why not."""
    module = _IMPORTS[tool]
    res = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    if res.returncode:
        last = (res.stderr.strip().splitlines() or ["import failed"])[-1]
        return f"import {module} failed: {last} (pip install -r bench/requirements.txt)"
    return None


def run_child(tool: str, path: Path) -> dict[str, Any]:
    res = subprocess.run(
        [sys.executable, __file__, "--child", tool, str(path)], capture_output=True, text=True
    )
    if res.returncode:
        tail = "\n".join(res.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{tool} child exited {res.returncode}: {tail}")
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def median_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median analysis time over runs; the max of each memory figure; the last run's summary."""
    out = dict(runs[-1])
    out["analysis_s"] = statistics.median(r["analysis_s"] for r in runs)
    out["analysis_runs_s"] = [round(r["analysis_s"], 3) for r in runs]
    out["analysis_cpu_s"] = statistics.median(r["analysis_cpu_s"] for r in runs)
    out["load_s"] = statistics.median(r["load_s"] for r in runs)
    for k in ("analysis_peak_rss_mb", "analysis_extra_peak_mb", "process_peak_rss_mb"):
        vals = [r[k] for r in runs if r[k] is not None]
        out[k] = max(vals) if vals else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=24.0, help="length of the simulated day (default 24)")
    ap.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_HOURS:g} h")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=1, help="runs of each tool, fresh process each (median)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    ap.add_argument("--no-full", action="store_true", help="skip the end-to-end spasmwatch replay from CSV")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    ap.add_argument("--child", nargs=2, metavar=("TOOL", "CSV"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    if args.quick:
        args.hours = QUICK_HOURS
    tools = [t for t in args.tools.split(",") if t]
    if unknown := set(tools) - set(TOOLS):
        raise SystemExit(f"unknown tool(s) {sorted(unknown)}; choose from {TOOLS}")

    path = recording(args.hours, args.seed, fresh=False)
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for tool in tools:
        why = available(tool)
        if why is not None:
            skipped[tool] = why
            log(f"{tool}: skipped: {why}")
            continue
        runs = []
        try:
            for k in range(args.runs):
                log(f"[{k + 1}/{args.runs}] {tool}: load + analysis, fresh process ...")
                runs.append(run_child(tool, path))
        except RuntimeError as exc:
            skipped[tool] = str(exc)
            log(f"{tool}: failed: {exc}")
            continue
        results[tool] = median_runs(runs)
    full = None
    if not args.no_full:
        log("spasmwatch replay --jsonl from CSV (streaming, fresh process) ...")
        fr = [full_replay(path) for _ in range(args.runs)]
        full = {"s": statistics.median(w for w, _, _ in fr), "cpu_s": statistics.median(c for _, c, _ in fr),
                "peak_rss_mb": max(r for _, _, r in fr)}

    rows = next((r["rows"] for r in results.values()), None)
    span_s = (rows or args.hours * 3600 * RATE_HZ) / RATE_HZ
    for r in results.values():
        r["analysis_x_realtime"] = span_s / r["analysis_s"]
        r["end_to_end_x_realtime"] = span_s / (r["load_s"] + r["analysis_s"])
    if full is not None:
        full["x_realtime"] = span_s / full["s"]

    ratios: dict[str, dict[str, float | None]] = {}
    for ours in ("spasmwatch", "spasmwatch-accel"):
        if ours not in results:
            continue
        me = results[ours]
        for other in ("skdh", "agcounts"):
            if other not in results:
                continue
            o = results[other]
            extra = (o["analysis_extra_peak_mb"] / me["analysis_extra_peak_mb"]
                     if o["analysis_extra_peak_mb"] and me["analysis_extra_peak_mb"] else None)
            ratios[f"{ours}_vs_{other}"] = {
                "speed": me["analysis_x_realtime"] / o["analysis_x_realtime"],
                "end_to_end_speed": me["end_to_end_x_realtime"] / o["end_to_end_x_realtime"],
                "peak_rss": o["process_peak_rss_mb"] / me["process_peak_rss_mb"],
                "analysis_extra_peak": extra,
            }
            if full is not None:
                ratios[f"{ours}_vs_{other}"]["streaming_replay_speed"] = full["x_realtime"] / o["end_to_end_x_realtime"]
                ratios[f"{ours}_vs_{other}"]["streaming_replay_peak_rss"] = o["process_peak_rss_mb"] / full["peak_rss_mb"]

    print(f"{span_s / 3600:g} h of {RATE_HZ:g} Hz data ({path.name}, {path.stat().st_size / 1e6:.0f} MB CSV); "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; median of {args.runs} run(s), fresh process each")
    print("  each process first loads what it needs with spasmwatch's CSV reader (load), then runs the analysis:")
    print(f"  {'':18} {'load s':>7} {'analysis s':>10} {'x real time':>12} {'CPU s':>7} {'peak RSS MB':>12} {'analysis own MB':>16}")
    for tool, r in results.items():
        extra = "n/a" if r["analysis_extra_peak_mb"] is None else f"{r['analysis_extra_peak_mb']:.0f}"
        print(f"  {tool:18} {r['load_s']:7.2f} {r['analysis_s']:10.2f} {r['analysis_x_realtime']:12.0f} "
              f"{r['analysis_cpu_s']:7.2f} {r['process_peak_rss_mb']:12.0f} {extra:>16}")
    if full is not None:
        print(f"  {'spasmwatch replay':18} {'(streams from CSV)':>18} {full['x_realtime']:12.0f} {full['cpu_s']:7.2f} "
              f"{full['peak_rss_mb']:12.0f}   (CLI, reading included)")
    for tool, why in skipped.items():
        print(f"  {tool:18} skipped: {why}")
    for name, q in ratios.items():
        ours, other = name.split("_vs_")
        line = (f"  ratio {ours} / {other}: analysis speed {q['speed']:.1f}x, load + analysis {q['end_to_end_speed']:.1f}x, "
                f"{other} peak RSS {q['peak_rss']:.2f}x ours")
        if q["analysis_extra_peak"] is not None:
            line += f", analysis own memory {q['analysis_extra_peak']:.1f}x ours"
        print(line)
    if full is not None:
        for other in ("skdh", "agcounts"):
            if other in results:
                q = ratios.get(f"spasmwatch_vs_{other}") or ratios.get(f"spasmwatch-accel_vs_{other}") or {}
                if "streaming_replay_speed" in q:
                    print(f"  ratio streaming replay from CSV / {other} load + analysis: {q['streaming_replay_speed']:.1f}x speed, "
                          f"{other} peak RSS {q['streaming_replay_peak_rss']:.2f}x the replay's")
    for tool in ("skdh", "agcounts", "spasmwatch"):
        if tool in results:
            print(f"  {tool} output: {json.dumps(results[tool]['summary'])}")

    res: dict[str, Any] = {
        "hours": span_s / 3600, "rows": rows, "rate_hz": RATE_HZ, "seed": args.seed, "csv": str(path),
        "cpus": os.cpu_count(), "load_1min": os.getloadavg()[0], "runs": args.runs,
        "tools": results, "skipped": skipped, "streaming_replay": full, "ratios": ratios,
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
