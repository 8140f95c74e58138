"""How much the detector's scores depend on the sampling phase (docs/detector-tuning.md, "Sampling phase").

A band's samples fall at an arbitrary moment of the baby's movement, so the scores `spasmwatch
evaluate` prints are one draw of that phase. Each recording is resampled at K offsets of a
fraction of a sample (0, 1/4, 1/2, 3/4 by default) with a band-limited (windowed-sinc)
interpolation, replayed through the code `evaluate` uses (`analysis.replay.replay`, scored by
`analysis.scoring.score`), and the scores are printed per phase and across phases: min, max,
spread, the true clusters found at some phases but not all ("phase-fragile"), and the spasm events
and false clusters that come and go with the phase.

Offset 0 goes through the same interpolation (its kernel is exactly 1 at 0 and 0 elsewhere):
each recording's phase 0 must give the records `evaluate`'s own replay of the file gives, or the
run fails. A second control, "1/2 there and back", shifts by +1/2 and by -1/2 (the original
sample times, the filter's loss near Nyquist twice): what it changes against phase 0 is the
interpolation's own doing, not the phase's.

usage: python bench/phase.py [FILE.csv ...] [--seeds 1-4] [--phases 4] [--quick] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spasmwatch.analysis.diagnose import CODES, diagnose
from spasmwatch.analysis.pipeline import Record
from spasmwatch.analysis.replay import Block, replay
from spasmwatch.analysis.scoring import SPASM_TOL_S, Score, score
from spasmwatch.analysis.truthfile import check_span, truth_path
from spasmwatch.analysis.twin import to_units
from spasmwatch.commands.evaluate import _replayed, _truth_of
from spasmwatch.io.csvread import Recording, open_recording

F64 = NDArray[np.float64]
ROOT = Path(__file__).resolve().parent.parent

# Windowed-sinc fractional delay: 2 * HALF_TAPS + 1 taps, Kaiser window. 32 samples each side
# (0.3-0.6 s at 50-104 Hz) keep the gain within 0.01 dB up to 0.9 of Nyquist at a half-sample
# shift, -0.5 dB at 0.95 (printed with each run; white noise keeps 96 % of its variance): the
# spasms' and the background's movement lie far below it, only the sensor noise reaches Nyquist. A linear interpolation would average two neighbours at 1/2 (white
# noise's variance halved, a peak between two samples cut), so its phase 1/2 would also be a
# smoother recording: the phase would be confounded with the smoothing.
HALF_TAPS = 32
KAISER_BETA = 8.0
# Two spasm events of different phases are one event when their onsets lie this close (s): one
# movement's onset moves by a sample or so with the phase; two spasms are seconds apart.
SAME_EVENT_S = 0.3
DEFAULT_SEEDS = "1-4"
DEFAULT_ALTSIM = "/tmp/alt"


# --- the interpolation ---------------------------------------------------------------------


def kernel(frac: float) -> F64:
    """Taps h[n], n = -HALF_TAPS..HALF_TAPS, with y[i] = sum_n h[n] x[i + n] ~ x(i + frac).

    sinc(n - frac) written as -(-1)^n sin(pi frac) / (pi (n - frac)) so that frac = 0 gives
    exactly 0 off the centre (np.sinc at integers leaves ~1e-17, which can flip a value the
    band's rounding puts at .5); normalised to a DC gain of exactly 1 (gravity stays 1 g).
    """
    n = np.arange(-HALF_TAPS, HALF_TAPS + 1, dtype=np.float64)
    d = n - frac
    sign = np.where(n % 2 == 0, 1.0, -1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(d == 0.0, 1.0, -sign * math.sin(math.pi * frac) / (math.pi * d))
    # The Kaiser window centred on the sinc's peak (at frac), reaching 0 just past the end taps.
    r = np.clip(d / (HALF_TAPS + 1), -1.0, 1.0)
    h = h * np.i0(KAISER_BETA * np.sqrt(1.0 - r * r)) / np.i0(KAISER_BETA)
    return np.asarray(h / h.sum(), dtype=np.float64)


def shifted(x: F64, frac: float) -> F64:
    """Columns of ``x`` (n, k) resampled ``frac`` of a sample later (the ends held)."""
    h = kernel(frac)[::-1]
    padded = np.pad(x, ((HALF_TAPS, HALF_TAPS), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, j], h, mode="valid") for j in range(x.shape[1])], axis=1)


def gain_db(frac: float, at: Sequence[float]) -> list[float]:
    """The kernel's gain (dB) at these fractions of Nyquist."""
    spec = np.abs(np.fft.rfft(kernel(frac), 8192))
    return [round(20 * math.log10(max(float(spec[int(round(a * (len(spec) - 1)))]), 1e-12)), 2) for a in at]


# --- one recording -------------------------------------------------------------------------


@dataclass
class PhaseRun:
    label: str
    score: Score
    spasms: list[tuple[float, int, bool]]  # (onset s, confidence, matched) of every spasm record
    false_clusters: list[tuple[float, float, int]]  # (start, end, count) of clusters over no true one


@dataclass
class RecResult:
    path: str
    has_gyro: bool
    rate_hz: float
    true_spasms: list[float]
    true_clusters: list[tuple[float, bool]]  # (start, subtle)
    phases: list[PhaseRun]
    control: PhaseRun | None
    same_at_0: bool  # phase 0 gave evaluate's records exactly
    counts_differing_at_0: int  # samples whose band ints (mg, 0.1 deg/s) differ at phase 0
    seconds: float = 0.0
    # With --why: per spasm event present at some phases only (its onset, s), the stage at which
    # the band's detector let it go at each phase it is missing from (analysis/diagnose.py).
    why: dict[float, dict[int, str]] = field(default_factory=dict)


def blocks(t: F64, acc: F64, gyro: F64 | None, rows: int) -> Iterator[Block]:
    """The arrays in the CSV reader's chunks (the twin's seams change nothing: test_detector_twin)."""
    for s in range(0, len(t), rows):
        yield Block(t[s : s + rows], acc[s : s + rows], None if gyro is None else gyro[s : s + rows])


def run_phase(label: str, rec: Recording, t: F64, x: F64, truth: dict[str, Any]) -> tuple[PhaseRun, list[Record]]:
    acc, gyro = x[:, :3], (x[:, 3:6] if rec.has_gyro else None)
    recs = list(replay(blocks(t, acc, gyro, rec.chunk_rows), rec.rate_hz, rec.has_gyro))
    sc = score(recs, truth)
    spasms = [(float(r["t"]), int(r["confidence"]), bool(r.get("matched", False))) for r in recs if r["type"] == "spasm"]
    tcs = truth["clusters"]
    false = [
        (float(r["start"]), float(r["end"]), int(r["count"]))
        for r in recs
        if r["type"] == "cluster" and not any(r["start"] <= tc["end"] and tc["start"] <= r["end"] for tc in tcs)
    ]
    return PhaseRun(label, sc, spasms, false), recs


def why_missing(res: RecResult, x: F64, t0: float, k: int) -> None:
    """Into ``res.why``: for each event missing at phase ``k`` (present at another), the stage the
    band's detector stopped at there: ``diagnose`` over a one-spasm 'cluster' at its onset."""
    onsets = [g["t"] for g in event_groups(res) if k not in g["conf"] and not g["matched"]]
    if not onsets:
        return
    truth = {"clusters": [{"start": t, "end": t, "subtle": False} for t in onsets], "spasms": [{"t": t} for t in onsets]}
    a, g = to_units(x[:, :3], x[:, 3:6] if res.has_gyro else None)
    for t, c in zip(onsets, diagnose(a, g, res.rate_hz, res.has_gyro, truth, (), t0), strict=True):
        res.why.setdefault(t, {})[k] = c.stages[0]


def one_recording(path: str, fracs: Sequence[Fraction], control: bool, why: bool = False) -> RecResult:
    t_start = time.perf_counter()
    rec = open_recording(path)
    if not isinstance(rec, Recording):
        raise SystemExit(f"{path}: a .swraw; this bench takes CSV recordings")
    truth = _truth_of(rec)
    reference, n = _replayed(rec)  # evaluate's own replay of the file
    check_span(str(truth_path(rec.path)), truth, rec.path, rec.t0, rec.t0 + n / rec.rate_hz)
    whole = Block.joined(rec.chunks())
    t, acc, gyro = whole.t, whole.acc, whole.gyro
    x = np.concatenate([acc, gyro if gyro is not None else np.zeros_like(acc)], axis=1)
    dt = 1.0 / rec.rate_hz
    runs: list[PhaseRun] = []
    same_at_0, differing = False, -1
    for f in fracs:
        xs = shifted(x, float(f))
        run, recs = run_phase(str(f), rec, t + float(f) * dt, xs, truth)
        if f == 0:
            same_at_0 = recs == reference
            a0, g0 = to_units(acc, gyro)
            a1, g1 = to_units(xs[:, :3], xs[:, 3:6] if gyro is not None else None)
            differing = int(np.count_nonzero((a0 != a1).any(axis=1) | (g0 != g1).any(axis=1)))
        runs.append(run)
    ctl = None
    if control:
        ctl, _ = run_phase("1/2 there and back", rec, t, shifted(shifted(x, 0.5), -0.5), truth)
    res = RecResult(
        path=path,
        has_gyro=rec.has_gyro,
        rate_hz=rec.rate_hz,
        true_spasms=sorted(float(s["t"]) for s in truth["spasms"]),
        true_clusters=[(float(c["start"]), bool(c["subtle"])) for c in truth["clusters"]],
        phases=runs,
        control=ctl,
        same_at_0=same_at_0,
        counts_differing_at_0=differing,
    )
    if why:
        for k, f in enumerate(fracs):
            why_missing(res, shifted(x, float(f)), float(t[0]) + float(f) * dt, k)
    res.seconds = time.perf_counter() - t_start
    return res


# --- across phases -------------------------------------------------------------------------


def event_groups(res: RecResult) -> list[dict[str, Any]]:
    """Every spasm event of every phase, grouped across phases by onset (``SAME_EVENT_S``)."""
    allev = sorted((t, k, conf, m) for k, run in enumerate(res.phases) for t, conf, m in run.spasms)
    groups: list[dict[str, Any]] = []
    for t, k, conf, m in allev:
        g = groups[-1] if groups else None
        if g is None or t - g["t"] > SAME_EVENT_S or k in g["conf"]:
            g = {"t": t, "conf": {}, "matched": m}
            groups.append(g)
        g["conf"][k] = conf
    tt = res.true_spasms
    for g in groups:
        g["true"] = any(abs(g["t"] - s) <= SPASM_TOL_S for s in tt)
    return groups


def fragile_clusters(res: RecResult) -> list[dict[str, Any]]:
    """True clusters found at some phases but not all, with their alarm delay per phase."""
    out = []
    for i, (start, subtle) in enumerate(res.true_clusters):
        delays = [run.score.cluster_delays_s[i] for run in res.phases]
        found = sum(d is not None for d in delays)
        if 0 < found < len(delays):
            out.append({"recording": res.path, "start": round(start, 1), "subtle": subtle,
                        "alarm_delay_s": [None if d is None else round(d, 2) for d in delays]})  # fmt: skip
    return out


def fragile_false_clusters(res: RecResult) -> list[dict[str, Any]]:
    """False clusters present at some phases only (grouped by overlap across phases)."""
    allc = sorted((s, e, n, k) for k, run in enumerate(res.phases) for s, e, n in run.false_clusters)
    groups: list[dict[str, Any]] = []
    for s, e, n, k in allc:
        g = groups[-1] if groups else None
        if g is None or s > g["end"] or k in g["count"]:
            g = {"start": s, "end": e, "count": {}}
            groups.append(g)
        g["end"] = max(g["end"], e)
        g["count"][k] = n
    k_all = len(res.phases)
    return [{"recording": res.path, "start": round(g["start"], 1), "counts": [g["count"].get(k) for k in range(k_all)]}
            for g in groups if len(g["count"]) < k_all]  # fmt: skip


def cluster_delay_spreads(res: RecResult) -> list[float]:
    """Per true cluster found at every phase: max - min of its alarm delay across phases."""
    out = []
    for i in range(len(res.true_clusters)):
        d = [run.score.cluster_delays_s[i] for run in res.phases]
        if all(x is not None for x in d):
            vals = [x for x in d if x is not None]
            out.append(max(vals) - min(vals))
    return out


COLUMNS = (
    ("spasm events", "events", "{:d}"),
    ("spasm sens", "spasm_sensitivity", "{:.3f}"),
    ("false sp/h", "false_spasms_per_hour", "{:.2f}"),
    ("clusters", "clusters", "{}"),
    ("subtle", "subtle_clusters", "{}"),
    ("false cl/24h", "false_clusters_per_24h", "{:.2f}"),
    ("false cl", "false_clusters", "{:d}"),
    ("alarm delay med", "alarm_delay_s_median", "{:.2f}"),
    ("on time", "alarms_on_time", "{:.2f}"),
    ("wakes", "wake_onsets_within_5min", "{:.3f}"),
)
NUMERIC = ("events", "spasm_sensitivity", "false_spasms_per_hour", "clusters_found", "subtle_found",
           "false_clusters_per_24h", "false_clusters", "alarm_delay_s_median", "alarms_on_time", "wake_onsets_within_5min")  # fmt: skip


def phase_row(runs: Sequence[PhaseRun]) -> dict[str, Any]:
    total = Score()
    for r in runs:
        total.add(r.score)
    s = total.summary()
    s["events"] = sum(len(r.spasms) for r in runs)
    s["clusters_found"], s["subtle_found"] = total.clusters_found, total.subtle_found
    return s


def _fmt(fmt: str, v: Any) -> str:
    return "-" if v is None else fmt.format(v)


def table(rows: list[tuple[str, dict[str, Any]]], spread: dict[str, dict[str, float]]) -> str:
    width = max(len(lbl) for lbl, _ in rows) + 2
    head = "phase".ljust(width) + "".join(f"{c:>16}" for c, _, _ in COLUMNS)
    lines = [head]
    for lbl, s in rows:
        lines.append(lbl.ljust(width) + "".join(f"{_fmt(fmt, s.get(k)):>16}" for _, k, fmt in COLUMNS))
    for what in ("min", "max", "spread"):
        cells = []
        for _, k, fmt in COLUMNS:
            key = {"clusters": "clusters_found", "subtle_clusters": "subtle_found"}.get(k, k)
            v = spread[what].get(key)
            cells.append(_fmt("{:.0f}" if key in ("events", "clusters_found", "subtle_found", "false_clusters") else "{:.3f}", v))
        lines.append(what.ljust(width) + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


def across(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {"min": {}, "max": {}, "spread": {}}
    for k in NUMERIC:
        vals = [float(r[k]) for r in rows if r.get(k) is not None]
        if vals:
            out["min"][k], out["max"][k] = min(vals), max(vals)
            out["spread"][k] = round(max(vals) - min(vals), 4)
    return out


def summarise(results: list[RecResult], fracs: Sequence[Fraction]) -> dict[str, Any]:
    """Per sensor: per-phase scores, the spread across phases, what comes and goes."""
    out: dict[str, Any] = {}
    for mode, gyro in (("6-axis", True), ("accel-only", False)):
        rs = [r for r in results if r.has_gyro == gyro]
        if not rs:
            continue
        rows = [phase_row([r.phases[k] for r in rs]) for k in range(len(fracs))]
        groups = [(r, g) for r in rs for g in event_groups(r)]
        fragile_ev = [(r, g) for r, g in groups if len(g["conf"]) < len(fracs)]
        stable_conf = [c for _, g in groups if len(g["conf"]) == len(fracs) for c in g["conf"].values()]
        fragile_conf = [c for _, g in fragile_ev for c in g["conf"].values()]
        spreads = [d for r in rs for d in cluster_delay_spreads(r)]
        m: dict[str, Any] = {
            "recordings": len(rs),
            "hours": round(sum(r.phases[0].score.hours for r in rs), 2),
            "phases": {str(f): row for f, row in zip(fracs, rows, strict=True)},
            "across": across(rows),
            "fragile_clusters": [c for r in rs for c in fragile_clusters(r)],
            "fragile_false_clusters": [c for r in rs for c in fragile_false_clusters(r)],
            "events": len(groups),
            "fragile_events": [
                {"recording": r.path, "t": round(g["t"], 2), "true": g["true"], "matched": g["matched"],
                 "confidence": [g["conf"].get(k) for k in range(len(fracs))],
                 **({"why_missing": {str(fracs[k]): st for k, st in r.why[g["t"]].items()}} if g["t"] in r.why else {})}
                for r, g in fragile_ev
            ],  # fmt: skip
            "why_missing": {
                kind: dict(Counter(st for r, g in fragile_ev if g["true"] == (kind == "true") for st in r.why.get(g["t"], {}).values()).most_common())
                for kind in ("true", "false")
            },
            "fragile_events_true": sum(1 for _, g in fragile_ev if g["true"]),
            "fragile_events_false": sum(1 for _, g in fragile_ev if not g["true"]),
            "confidence_median_fragile": float(np.median(fragile_conf)) if fragile_conf else None,
            "confidence_median_stable": float(np.median(stable_conf)) if stable_conf else None,
            "alarm_delay_spread_s_median": round(float(np.median(spreads)), 3) if spreads else None,
            "alarm_delay_spread_s_max": round(max(spreads), 3) if spreads else None,
            "clusters_found_at_every_phase": len(spreads),
        }
        ctl = [(r, r.control) for r in rs if r.control is not None]
        if len(ctl) == len(rs):
            m["control"] = phase_row([c for _, c in ctl])
            ctl_groups = [g for r, c in ctl for g in _pair_groups(r.phases[0], c, r.true_spasms)]
            m["control_events_differing"] = sum(1 for g in ctl_groups if len(g["conf"]) < 2)
        out[mode] = m
    return out


def _pair_groups(a: PhaseRun, b: PhaseRun, true_spasms: list[float]) -> list[dict[str, Any]]:
    """Phase 0 against the there-and-back control, grouped as ``event_groups`` groups phases."""
    fake = RecResult("", True, 0.0, true_spasms, [], [a, b], None, True, 0)
    return event_groups(fake)


def print_report(summary: dict[str, Any], fracs: Sequence[Fraction], results: list[RecResult]) -> None:
    for mode, m in summary.items():
        print(f"\n== {mode}: {m['recordings']} recordings, {m['hours']} h, phases {', '.join(str(f) for f in fracs)} of a sample")
        rows = [(f"{f}" + (" (= evaluate)" if f == 0 else ""), m["phases"][str(f)]) for f in fracs]
        if "control" in m:
            rows.append(("0 (1/2 there and back)", m["control"]))
        print(table(rows, m["across"]))
        if "control" in m:
            print(f"  control: {m['control_events_differing']} spasm event(s) differ between phase 0 and 1/2 there and back")
        print(f"  phase-fragile true clusters (found at some phases, not all): {len(m['fragile_clusters'])}")
        for c in m["fragile_clusters"]:
            print(f"    {Path(c['recording']).name} at {c['start']} s{' (subtle)' if c['subtle'] else ''}: alarm delay per phase {c['alarm_delay_s']}")
        print(f"  false clusters present at some phases only: {len(m['fragile_false_clusters'])}")
        for c in m["fragile_false_clusters"]:
            print(f"    {Path(c['recording']).name} at {c['start']} s: spasms counted per phase {c['counts']}")
        print(f"  alarm delay of the {m['clusters_found_at_every_phase']} clusters found at every phase: spread across phases "
              f"median {m['alarm_delay_spread_s_median']} s, max {m['alarm_delay_spread_s_max']} s")  # fmt: skip
        n_fr = len(m["fragile_events"])
        print(f"  spasm events (grouped across phases): {m['events']}, {n_fr} at some phases only "
              f"({m['fragile_events_true']} true, {m['fragile_events_false']} false); confidence median "
              f"{m['confidence_median_fragile']} for those, {m['confidence_median_stable']} for events at every phase")  # fmt: skip
        for kind, c in m["why_missing"].items():
            if c:
                print(f"  where the band's detector let the {kind} ones go at the phases they are missing from: "
                      + ", ".join(f"{st} {n}" for st, n in c.items()))
        if any("why_missing" in e for e in m["fragile_events"]):
            print("    (confidence per phase; where missing, --why's letter: " + ", ".join(f"{c} {st}" for st, c in CODES.items()) + ")")
        for e in m["fragile_events"][:40]:
            why = e.get("why_missing", {})
            cells = [str(c) if c is not None else CODES.get(why.get(str(f), ""), "-") for f, c in zip(fracs, e["confidence"], strict=True)]
            print(f"    {Path(e['recording']).name} {e['t']:10.2f} s {'true ' if e['true'] else 'FALSE'}"
                  f"{' matched' if e['matched'] else '        '} confidence per phase [{', '.join(cells)}]")  # fmt: skip
        if n_fr > 40:
            print(f"    ... {n_fr - 40} more in the JSON")
    bad = [r for r in results if not r.same_at_0]
    print(f"\nphase 0 gave evaluate's records on {len(results) - len(bad)} of {len(results)} recordings; "
          f"samples whose band ints differ at phase 0: {sum(max(r.counts_differing_at_0, 0) for r in results)}")  # fmt: skip


# --- inputs --------------------------------------------------------------------------------


def seed_list(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def altsim_files(seeds: Sequence[int], altsim_dir: Path, cache: Path, quick: bool) -> list[str]:
    """The CSVs of each altsim seed: from ``altsim_dir``/seedN if there, else generated into ``cache``."""
    files: list[str] = []
    for s in seeds:
        d = altsim_dir / f"seed{s}"
        if not any(d.glob("*.csv")):
            d = cache / f"seed{s}"
            if not any(d.glob("*.csv")):
                print(f"generating altsim seed {s} into {d} ...", file=sys.stderr)
                kinds = ["--kinds", "morning"] if quick else []
                subprocess.run([sys.executable, "-m", "tools.altsim", str(d), "--seed", str(s), "--jobs", "1", *kinds],
                               cwd=ROOT, check=True)  # fmt: skip
        got = sorted(str(p) for p in d.glob("*.csv"))
        if quick:
            got = [f for f in got if "_morning_" in f][:2]
        files += got
    return files


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="docs/detector-tuning.md, 'Sampling phase'")
    ap.add_argument("files", nargs="*", help="recordings X.csv with X.truth.json beside them (default: altsim seeds)")
    ap.add_argument("--seeds", default=DEFAULT_SEEDS, help=f"altsim seeds without files, e.g. 1-4 or 1,3 (default {DEFAULT_SEEDS})")
    ap.add_argument("--altsim-dir", default=DEFAULT_ALTSIM, help=f"where altsim seeds are, as DIR/seedN/*.csv (default {DEFAULT_ALTSIM})")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "spasmwatch-bench", "altsim"),
                    help="where to generate a seed missing from --altsim-dir")  # fmt: skip
    ap.add_argument("--sensor", choices=("all", "6-axis", "accel-only"), default="all", help="only these recordings")
    ap.add_argument("--phases", type=int, default=4, help="K offsets k/K of a sample, k = 0..K-1 (default 4)")
    ap.add_argument("--no-control", action="store_true", help="leave out the '1/2 there and back' control")
    ap.add_argument("--quick", action="store_true", help="phases 0 and 1/2, no control; without files, 2 morning recordings of the first seed")
    ap.add_argument("--why", action="store_true",
                    help="for each spasm event missing at some phases, the stage the band's detector let it go there (as evaluate --why; slower)")  # fmt: skip
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    args = ap.parse_args(argv)
    if args.phases < 1 or args.jobs < 1:
        ap.error("--phases and --jobs must be at least 1")
    k = 2 if args.quick else args.phases
    fracs = [Fraction(i, k) for i in range(k)]
    control = not (args.quick or args.no_control)
    seeds = seed_list(args.seeds)[:1] if args.quick else seed_list(args.seeds)
    files = list(args.files) or altsim_files(seeds, Path(args.altsim_dir), Path(args.cache), args.quick)
    if args.sensor != "all":
        files = [f for f in files if ("accel-only" in Path(f).name) == (args.sensor == "accel-only")]
    if not files:
        ap.error("no recordings")
    print(f"interpolation: windowed sinc, {2 * HALF_TAPS + 1} taps (Kaiser {KAISER_BETA:g}); gain at 1/2 a sample, "
          f"at 0.5/0.8/0.9/0.95 of Nyquist: {gain_db(0.5, (0.5, 0.8, 0.9, 0.95))} dB", file=sys.stderr)  # fmt: skip
    print(f"{len(files)} recording(s) x {len(fracs)} phase(s){' + control' if control else ''} on {min(args.jobs, len(files))} worker(s)...",
          file=sys.stderr)  # fmt: skip
    t0 = time.perf_counter()
    results: list[RecResult] = []
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(files))) as ex:
        for res in ex.map(one_recording, files, [fracs] * len(files), [control] * len(files), [args.why] * len(files)):
            print(f"  {Path(res.path).name}: {res.seconds:.1f} s, phase 0 = evaluate: {res.same_at_0}", file=sys.stderr)
            results.append(res)
    wall = time.perf_counter() - t0
    summary = summarise(results, fracs)
    print_report(summary, fracs, results)
    print(f"\n{len(files)} recording(s) in {wall:.1f} s wall")
    out: dict[str, Any] = {
        "phases": [str(f) for f in fracs],
        "interpolation": {"kind": "windowed sinc", "taps": 2 * HALF_TAPS + 1, "kaiser_beta": KAISER_BETA,
                          "gain_db_at_half_sample": dict(zip(("0.5", "0.8", "0.9", "0.95"), gain_db(0.5, (0.5, 0.8, 0.9, 0.95))))},  # fmt: skip
        "wall_s": round(wall, 1),
        "by_sensor": summary,
        "recordings": [{"path": r.path, "has_gyro": r.has_gyro, "rate_hz": r.rate_hz, "same_at_0": r.same_at_0,
                        "counts_differing_at_0": r.counts_differing_at_0, "seconds": round(r.seconds, 1),
                        "per_phase": {str(f): run.score.summary() for f, run in zip(fracs, r.phases, strict=True)},
                        "true_clusters": [{"start": round(st, 1), "subtle": sub,
                                           "alarm_delay_s": [None if (d := run.score.cluster_delays_s[i]) is None else round(d, 2) for run in r.phases]}
                                          for i, (st, sub) in enumerate(r.true_clusters)]}
                       for r in results],  # fmt: skip
    }
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    bad = [r.path for r in results if not r.same_at_0]
    if bad:
        raise SystemExit(f"phase 0 through the interpolation did not give evaluate's records: {', '.join(bad)}")
    return out


if __name__ == "__main__":
    main()
