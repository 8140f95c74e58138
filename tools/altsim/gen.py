"""Generate a set of recordings (CSV) with ground truth (JSON) for one seed.

    .venv/bin/python -m tools.altsim OUTDIR --seed N [--hours H] [--kinds night,morning] [--jobs J]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

from tools.altsim import render, scenes
from tools.altsim.sensor import Composer, Sensor, random_sensor
from tools.altsim.world import Baby, Recording, random_baby

RATES = (50.0, 52.0, 100.0, 104.0)
# (kind, typical hours (lo, hi)) of one seed's set, ~30-45 h in all
SET = [
    ("night", (8.0, 11.0)),
    ("night", (8.0, 12.0)),
    ("morning", (1.0, 3.0)),
    ("morning", (1.0, 3.0)),
    ("morning", (1.0, 3.0)),
    ("morning", (1.0, 2.5)),
    ("day", (5.0, 9.0)),
    ("day", (4.0, 8.0)),
    ("busy", (2.0, 4.0)),
]
MIN_S = {"night": 600.0, "morning": 480.0, "day": 900.0, "busy": 300.0}


@dataclass(frozen=True)
class FileSpec:
    name: str
    kind: str
    duration_s: float
    rate_hz: float
    has_gyro: bool
    seed: int
    index: int


def plan_set(seed: int, hours: float | None, kinds: set[str] | None) -> tuple[Baby, list[FileSpec]]:
    """The baby and the files of one seed. ``hours`` rescales the durations
    (each file keeps a minimum length); about a quarter are accel-only."""
    rng = np.random.default_rng([seed, 0])
    baby = random_baby(rng)
    chosen = [(i, k, float(rng.uniform(*h)) * 3600) for i, (k, h) in enumerate(SET)]
    chosen = [c for c in chosen if kinds is None or c[1] in kinds]
    if hours is not None and chosen:
        f = hours * 3600 / sum(d for _, _, d in chosen)
        chosen = [(i, k, max(d * f, MIN_S[k])) for i, k, d in chosen]
    accel_only = set(rng.permutation(len(chosen))[: max(1, round(len(chosen) / 4))].tolist()) if len(chosen) > 1 else set()
    specs = []
    for j, (i, kind, dur) in enumerate(chosen):
        rate = float(rng.choice(RATES))
        gyro = j not in accel_only
        name = f"s{seed:02d}_{i:02d}_{kind}_{rate:g}Hz_{'6axis' if gyro else 'accel-only'}"
        specs.append(FileSpec(name, kind, round(dur * rate) / rate, rate, gyro, seed, i))
    return baby, specs


def simulate(spec: FileSpec, baby: Baby) -> tuple[Recording, Sensor]:
    rng = np.random.default_rng([spec.seed, spec.index + 1])
    rec = Recording(spec.name, spec.kind, spec.rate_hz, spec.has_gyro, spec.duration_s, spec.seed, baby, rng)
    sensor = random_sensor(rng, baby.looseness)
    rec.mount = sensor.mount
    plan = scenes.build(spec.kind, rng, baby, spec.duration_s)
    render.render(rec, plan)
    return rec, sensor


def write_csv(path: Path, rec: Recording, sensor: Sensor) -> None:
    cols = ["t", "ax", "ay", "az"] + (["gx", "gy", "gz"] if rec.has_gyro else [])
    opts = pacsv.WriteOptions(include_header=False)
    with open(path, "wb") as f, ThreadPoolExecutor(max_workers=1) as writer:
        f.write((",".join(cols) + "\n").encode())
        pending = None
        for t, acc, gyro in Composer(rec, sensor).chunks():
            arrays = [np.round(t, 6)] + [np.round(acc[:, j], 5) for j in range(3)]
            if rec.has_gyro:
                arrays += [np.round(gyro[:, j], 3) for j in range(3)]
            if pending is not None:
                pending.result()
            # the CSV formatting runs (GIL released) while the next chunk is computed
            pending = writer.submit(pacsv.write_csv, pa.table(dict(zip(cols, arrays))), f, opts)
        if pending is not None:
            pending.result()


def _r(t: float) -> float:
    return round(float(t), 3)


def truth(rec: Recording, sensor: Sensor) -> dict[str, Any]:
    """Ground truth in the layout of spasmwatch.sim.truth.build_truth."""
    states = _states(rec)
    spasms = [_spasm(s, i) for i, c in enumerate(rec.clusters) for s in c.spasms]
    spasms += [_spasm(s, None) for s in rec.isolated]
    spasms.sort(key=lambda s: s["t"])
    b = rec.baby
    return {
        "version": 1,
        "generator": "tools.altsim",
        "rate_hz": rec.rate,
        "duration_s": rec.n / rec.rate,
        "n_samples": rec.n,
        "seed": rec.seed,
        "has_gyro": rec.has_gyro,
        "kind": rec.kind,
        "mounting": sensor.describe(),
        "subject": {
            "age_months": round(b.age_months, 1),
            "breaths_per_min_quiet_sleep": round(b.breath_bpm_quiet, 1),
            "heart_bpm": round(b.heart_bpm, 1),
            "vigour": round(b.vigour, 3),
            "lever_m": [round(float(v), 3) for v in b.lever_m],
            "band_looseness": round(b.looseness, 3),
        },
        "spasms": spasms,
        "clusters": [_cluster(i, c, rec, states) for i, c in enumerate(rec.clusters)],
        "states": states,
        "wake_onsets": [_r(t) for t in rec.wake_onsets],
        "not_worn": [{"start": _r(a), "end": _r(b)} for a, b in rec.not_worn()],
        "confounders": [lab.as_dict() for lab in sorted(rec.labels, key=lambda x: (x.start, x.kind))],
        "sleep_stages": [{"start": _r(a), "end": _r(b), "stage": s} for a, b, s in rec.stages],
        "places": [{"start": _r(s.start), "end": _r(s.end), "context": s.context, "state": s.state} for s in rec.segments],
    }


def _spasm(s: Any, cluster: int | None) -> dict[str, Any]:
    return {
        "t": _r(s.t),
        "end": _r(s.end),
        "duration_s": _r(s.end - s.t),
        "kind": s.kind,
        "cluster": cluster,
        "amplitude_deg": round(s.amplitude_deg, 2),
    }


def _states(rec: Recording) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in rec.segments:
        if out and out[-1]["state"] == s.state:
            out[-1]["end"] = _r(s.end)
        else:
            out.append({"start": _r(s.start), "end": _r(s.end), "state": s.state})
    return out


def _cluster(i: int, c: Any, rec: Recording, states: list[dict[str, Any]]) -> dict[str, Any]:
    before = [t for t in rec.wake_onsets if t <= c.start]
    state = next((s["state"] for s in states if s["start"] <= c.start < s["end"]), "wake")
    return {
        "id": i,
        "start": _r(c.start),
        "end": _r(c.end),
        "count": len(c.spasms),
        "subtle": c.subtle,
        "third_end": _r(c.spasms[2].end),
        "post_wake_s": _r(c.start - before[-1]) if before else None,
        "state": state,
        "kinds": sorted({s.kind for s in c.spasms}),
    }


def make_file(job: tuple[FileSpec, Baby, str]) -> dict[str, Any]:
    spec, baby, outdir = job
    t0 = time.perf_counter()
    rec, sensor = simulate(spec, baby)
    base = Path(outdir) / spec.name
    write_csv(base.with_suffix(".csv"), rec, sensor)
    tr = truth(rec, sensor)
    base.with_name(spec.name + ".truth.json").write_text(json.dumps(tr, indent=1))
    return {
        "name": spec.name,
        "hours": spec.duration_s / 3600,
        "clusters": len(tr["clusters"]),
        "subtle": sum(c["subtle"] for c in tr["clusters"]),
        "spasms": len(tr["spasms"]),
        "seconds": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.altsim", description=__doc__.split("\n")[0])
    p.add_argument("outdir")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--hours", type=float, default=None, help="rescale the set to about this many hours")
    p.add_argument("--kinds", default=None, help="only these scenario kinds (comma separated): night,morning,day,busy")
    p.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    a = p.parse_args(argv)
    kinds = set(a.kinds.split(",")) if a.kinds else None
    if kinds is not None and not kinds <= set(scenes.SCENES):
        p.error(f"unknown kind(s): {sorted(kinds - set(scenes.SCENES))}")
    Path(a.outdir).mkdir(parents=True, exist_ok=True)
    baby, specs = plan_set(a.seed, a.hours, kinds)
    t0 = time.perf_counter()
    jobs = [(s, baby, a.outdir) for s in specs]
    if a.jobs > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=a.jobs) as ex:
            rows = list(ex.map(make_file, jobs))
    else:
        rows = [make_file(j) for j in jobs]
    for r in rows:
        print(f"{r['name']}: {r['hours']:.2f} h, {r['clusters']} clusters ({r['subtle']} subtle), {r['spasms']} spasms, {r['seconds']:.1f} s")
    hours = sum(r["hours"] for r in rows)
    print(
        f"seed {a.seed}: {len(rows)} files, {hours:.1f} h, {sum(r['clusters'] for r in rows)} clusters "
        f"({sum(r['subtle'] for r in rows)} subtle), {sum(not s.has_gyro for s in specs)} accel-only, "
        f"baby {baby.age_months:.1f} months; {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return 0
