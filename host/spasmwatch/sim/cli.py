"""``spasmwatch simulate``: write a simulated recording and its ground truth."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from spasmwatch.analysis.truthfile import truth_path
from spasmwatch.commands._progress import Progress
from spasmwatch.errors import ConfigError, InputError
from spasmwatch.sim.output import write_stream
from spasmwatch.sim.recording import Simulation
from spasmwatch.sim.scenario import KINDS, Scenario


def _times(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give times in seconds, commas between them (60,28740)") from None


def register(sub: Any) -> None:
    kinds = "\n".join(f"  {name:<12} {desc}" for name, (_, _, desc) in KINDS.items())
    p = sub.add_parser(
        "simulate",
        help="write a simulated IMU recording (CSV) with ground truth (JSON)",
        description="Simulate a trunk-worn 6-axis IMU on an infant: sleep, wake, handling, "
        "confounding movements and spasm clusters. Writes OUT.csv and OUT.truth.json.",
        epilog="kinds:\n" + kinds,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out", metavar="OUT.csv", type=Path, help="CSV file to write (t,ax,ay,az[,gx,gy,gz])")
    p.add_argument("--kind", choices=list(KINDS), default="morning", help="scenario (default: morning)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--hours", type=float, help="duration in hours (default: the kind's)")
    length.add_argument("--duration-s", type=float, help="duration in seconds")
    p.add_argument("--rate", type=float, default=100.0, help="sample rate in Hz (default: 100)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    p.add_argument("--no-gyro", action="store_true", help="accelerometer only")
    p.add_argument("--clusters", type=int, help="number of spasm clusters (default: the kind's)")
    p.add_argument("--isolated", type=int, help="number of single spasms outside clusters")
    p.add_argument("--subtle", action="store_true", help="make every cluster subtle (head nods, belly tensing)")
    p.add_argument("--subtle-fraction", type=float, default=0.2, help="chance a cluster is subtle (default: 0.2)")
    p.add_argument("--cluster-size", type=int, nargs=2, metavar=("MIN", "MAX"), default=(3, 30), help="spasms per cluster (default: 3 30)")
    p.add_argument("--amplitude-scale", type=float, default=1.0, help="scale spasm amplitudes (default: 1)")
    p.add_argument("--noise-scale", type=float, default=1.0, help="scale sensor noise and errors; 0 = ideal sensor")
    p.add_argument("--no-band-off", action="store_true", help="never take the band off")
    p.add_argument("--aligned", action="store_true", help="sensor axes aligned with the body (no mounting rotation)")
    # One value, commas between times: nargs="+" would take OUT.csv written after it for a time.
    p.add_argument("--taps", type=_times, action="extend", metavar="T[,T...]",
                   help="tap the band firmly three times from each T s (the video's sync mark; truth 'taps'), "
                   "e.g. --taps 60,28740")
    p.set_defaults(func=run)


# The option that sets each Scenario field its checks name ("scenario: rate_hz must be ..."), so that
# the error names what the user typed (found by the input audit: '--rate 0' said only 'rate_hz').
_OPTION_OF = {
    "rate_hz": "--rate",
    "duration_s": "--hours / --duration-s",
    "clusters": "--clusters",
    "isolated_spasms": "--isolated",
    "cluster_size": "--cluster-size",
    "subtle_fraction": "--subtle-fraction",
    "spasm_amplitude_scale": "--amplitude-scale",
    "noise_scale": "--noise-scale",
    "seed": "--seed",
    "taps": "--taps",
}


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    try:
        return _scenario(args)
    except ConfigError as exc:
        problem = str(exc).removeprefix("scenario: ")
        option = _OPTION_OF.get(problem.split(" ", 1)[0])
        if option is None:
            raise
        raise ConfigError(f"{option}: {problem}") from exc


def _scenario(args: argparse.Namespace) -> Scenario:
    duration = args.duration_s if args.hours is None else args.hours * 3600.0
    return Scenario(
        duration_s=duration,
        rate_hz=args.rate,
        seed=args.seed,
        has_gyro=not args.no_gyro,
        kind=args.kind,
        clusters=args.clusters,
        isolated_spasms=args.isolated,
        subtle=args.subtle,
        subtle_fraction=args.subtle_fraction,
        cluster_size=(args.cluster_size[0], args.cluster_size[1]),
        spasm_amplitude_scale=args.amplitude_scale,
        noise_scale=args.noise_scale,
        not_worn=not args.no_band_off,
        random_mounting=not args.aligned,
        taps=tuple(args.taps or ()),
    )


def check_replaceable(out: Path, instead: str = "simulate to another OUT.csv") -> None:
    """A simulation may be written over (a new seed, the same name); a recording of one's own,
    or the truth labelled for it with 'spasmwatch truth', may not. Found by the docs run:
    'simulate rec.csv' replaced a labelled rec.csv and its rec.truth.json without a word."""
    truth = truth_path(out)
    if truth.exists():
        try:
            kept = json.loads(truth.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            kept = None
        if not (isinstance(kept, dict) and "seed" in kept and kept.get("source") != "labels"):
            raise InputError(str(truth), f"is not a simulation's ground truth (labels of a recording?): {instead}")
    elif out.exists():
        raise InputError(str(out), f"exists, with no simulation's ground truth beside it (a recording?): {instead}")


def run(args: argparse.Namespace) -> int:
    check_replaceable(args.out)
    scenario = scenario_from_args(args)
    started = time.monotonic()
    hours = scenario.resolved_duration_s / 3600.0
    progress = Progress[float](lambda s: f"{args.out}: {s / 3600.0:.1f} of {hours:.1f} h simulated")
    show = sys.stderr.isatty()
    with progress:
        if show:
            progress(0.0)  # at once: a day's plan takes seconds (4.3 s under load) before its first sample
        sim = Simulation(scenario)
        size = write_stream(args.out, sim.truth, sim.chunks(), progress if show else None)
    print(summary(sim.truth, args.out, size, time.monotonic() - started))
    placed, asked = len(sim.truth["clusters"]), scenario.resolved_clusters
    if placed < asked:
        print(f"note: only {placed} of {asked} clusters fit in {scenario.resolved_duration_s:g} s", file=sys.stderr)
    return 0


def summary(truth: dict[str, Any], out: Path, size_bytes: int, elapsed_s: float) -> str:
    clusters = truth["clusters"]
    isolated = sum(1 for s in truth["spasms"] if s["cluster"] is None)
    # The truth with its folder: 'and m.truth.json' after 'out/m.csv' read as the working folder's (researcher audit).
    lines = [
        f"wrote {out} ({truth['n_samples']} samples at {truth['rate_hz']:g} Hz, "
        f"{truth['duration_s'] / 3600.0:.2f} h, {size_bytes / 1e6:.1f} MB) and {truth_path(out)} in {elapsed_s:.1f} s",
        f"spasms: {len(truth['spasms'])} ({isolated} isolated); clusters: {len(clusters)} "
        f"({sum(1 for c in clusters if c['subtle'])} subtle); wake onsets: {len(truth['wake_onsets'])}; "
        f"band off: {len(truth['not_worn'])}; confounder spans: {len(truth['confounders'])}",
    ]
    for c in clusters:
        wake = "n/a" if c["post_wake_s"] is None else f"{c['post_wake_s']:.0f} s after waking"
        lines.append(f"  cluster {c['id']}: {c['start']:.1f}-{c['end']:.1f} s, {c['count']} spasms, {'/'.join(c['kinds'])}, {wake}")
    return "\n".join(lines)
