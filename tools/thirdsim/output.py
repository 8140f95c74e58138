"""Writing the replay CSV (fast, vectorised number formatting) and the ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from tools.thirdsim.baby import Sensor
from tools.thirdsim.spasms import Cluster, Spasm
from tools.thirdsim.world import Plan, _r

Arr = np.ndarray
TRUTH_VERSION = 1  # the format of host/spasmwatch/sim/truth.py


def _field(x: Arr, decimals: int) -> tuple[Arr, Arr]:
    """Fixed-point text of ``x``: (chars (n, w) uint8, keep mask (n, w)), leading zeros dropped."""
    m = np.rint(np.abs(x) * 10 ** decimals).astype(np.int64)
    neg = (x < 0) & (m > 0)
    nd = max(decimals + 1, len(str(int(m.max()))) if len(m) else 1)
    pows = 10 ** np.arange(nd - 1, -1, -1, dtype=np.int64)
    digits = (m[:, None] // pows[None, :]) % 10
    keep_d = (m[:, None] >= pows[None, :]) | (np.arange(nd - 1, -1, -1)[None, :] <= decimals)
    n = len(x)
    cols = [np.where(neg, ord("-"), 0)[:, None]]
    keep = [neg[:, None]]
    ip = nd - decimals
    cols.append(digits[:, :ip] + ord("0"))
    keep.append(keep_d[:, :ip])
    if decimals:
        cols.append(np.full((n, 1), ord(".")))
        keep.append(np.ones((n, 1), bool))
        cols.append(digits[:, ip:] + ord("0"))
        keep.append(keep_d[:, ip:])
    return np.concatenate(cols, 1).astype(np.uint8), np.concatenate(keep, 1)


def csv_block(cols: list[tuple[Arr, int]]) -> bytes:
    """Rows of comma-separated numbers, one (values, decimals) per column."""
    chars, keeps = [], []
    n = len(cols[0][0])
    for i, (x, d) in enumerate(cols):
        c, k = _field(np.asarray(x, float), d)
        chars.append(c)
        keeps.append(k)
        sep = ord("\n") if i == len(cols) - 1 else ord(",")
        chars.append(np.full((n, 1), sep, np.uint8))
        keeps.append(np.ones((n, 1), bool))
    c = np.concatenate(chars, 1)
    k = np.concatenate(keeps, 1)
    return c[k].tobytes()


def write_csv(fh: BinaryIO, chunks: Any, has_gyro: bool) -> int:
    fh.write(b"t,ax,ay,az,gx,gy,gz\n" if has_gyro else b"t,ax,ay,az\n")
    n = 0
    for t, a, g in chunks:
        cols = [(t, 6), (a[:, 0], 5), (a[:, 1], 5), (a[:, 2], 5)]
        if has_gyro:
            cols += [(g[:, 0], 3), (g[:, 1], 3), (g[:, 2], 3)]
        fh.write(csv_block(cols))
        n += len(t)
    return n


def _spasm(s: Spasm, cluster: int | None) -> dict[str, Any]:
    return {
        "t": _r(s.t), "end": _r(s.end), "duration_s": _r(s.duration_s), "kind": s.kind, "cluster": cluster,
        "amplitude_deg": round(s.amplitude_deg, 2),
        "hold_s": _r(s.hold), "rise_s": _r(s.rise),
    }


def _state_at(plan: Plan, t: float) -> str:
    return next((s.state for s in plan.states if s.start <= t < s.end), "wake")


def _cluster(i: int, c: Cluster, plan: Plan) -> dict[str, Any]:
    before = [w for w in plan.wake_onsets if w <= c.start]
    return {
        "id": i, "start": _r(c.start), "end": _r(c.end), "count": len(c.spasms), "subtle": c.subtle,
        "third_end": _r(c.spasms[2].end),
        "post_wake_s": _r(c.start - before[-1]) if before else None,
        "state": _state_at(plan, c.start),
        "kinds": sorted({s.kind for s in c.spasms}),
        "variant": c.spasms[0].kind if not c.subtle else _variant(c.spasms[0]),
        "median_interval_s": _r(float(np.median(np.diff([s.t for s in c.spasms])))),
    }


def _variant(s: Spasm) -> str:
    from tools.thirdsim.spasms import SYNERGIES

    for name in ("nod", "shrug", "abdominal", "eye"):
        if set(SYNERGIES[name]) == set(s.gains):
            return name
    return "subtle"


def build_truth(plan: Plan, sensor: Sensor, n_samples: int, kind: str) -> dict[str, Any]:
    b = plan.baby
    spasms = [_spasm(s, i) for i, c in enumerate(plan.clusters) for s in c.spasms]
    spasms += [_spasm(s, None) for s in plan.isolated]
    spasms.sort(key=lambda s: float(s["t"]))
    mounting = plan.mount.as_dict()
    mounting["r_mount"] = [[round(float(v), 4) for v in row] for row in plan.mount.r_mount]
    mounting["sensor"] = sensor.as_dict()
    return {
        "version": TRUTH_VERSION,
        "rate_hz": float(sensor.rate_hz),
        "duration_s": float(n_samples / sensor.rate_hz),
        "n_samples": n_samples,
        "seed": plan.seed,
        "has_gyro": sensor.has_gyro,
        "kind": kind,
        "simulator": "thirdsim",
        "start_clock_s": round(plan.clock0_s, 1),
        "mounting": mounting,
        "subject": {
            "age_months": round(b.age_months, 1),
            "breaths_per_min_quiet_sleep": round(b.breath_hz_quiet * 60.0, 1),
            "heart_bpm": round(b.heart_hz * 60.0, 1),
            "vigour": round(b.vigour, 3),
            "lever_m": [round(float(v), 3) for v in plan.mount.pos_m],
            "band_looseness": round(plan.mount.looseness, 3),
            "mass_kg": round(b.mass_kg, 2),
            "main_spasm_kind": b.main_kind,
            "spasm_deg": round(b.spasm_deg, 2),
            "subtle_deg": round(b.subtle_deg, 2),
        },
        "spasms": spasms,
        "clusters": [_cluster(i, c, plan) for i, c in enumerate(plan.clusters)],
        "states": [{"start": _r(s.start), "end": _r(s.end), "state": s.state} for s in plan.states],
        "sleep_stages": [{"start": _r(s.start), "end": _r(s.end), "stage": s.state} for s in plan.stages
                         if s.state != "wake"],
        "wake_onsets": [_r(t) for t in plan.wake_onsets],
        "not_worn": [{"start": _r(n.start), "end": _r(n.end), "where": n.where} for n in plan.not_worn],
        "confounders": [c.as_dict() for c in sorted(plan.labels, key=lambda c: (c.start, c.kind))],
    }


def write_truth(path: Path, truth: dict[str, Any]) -> None:
    path.write_text(json.dumps(truth, indent=1) + "\n")
