"""Wakes found when the band goes unheard now and then (docs/detector-tuning.md, "Sleep/wake across gaps").

The dropout probe. Each recording of `spasmwatch evaluate`'s suite (project simulator, seeds 1-N,
every kind) is replayed once as `evaluate` replays it, and the epochs its sleep estimate was fed
(start, active, worn, moving) are cached. Then, per draw, epochs are taken out and the rest fed to the
daemon's `SleepWake` (epoch by epoch) and to the export's `BandSleep` (numpy, a part at a time);
the wakes they claim are scored as `evaluate` scores wakes (one to one, within 5 min). Modes:

- `none`: no epoch taken out (must give the wakes the replay's own records hold: checked);
- `dropouts`: runs of 3-30 epochs (30 s - 5 min) taken out, 2 an hour at random;
- `reboots`: from each recording's 2nd hour on, a band rebooting every 2-6 min, 20 s - 2 min unheard each time;
- `storm`: from the 2nd hour on, rebooting every 1-3 min, 1-2 min unheard each time (40 % unheard).

The two twins must claim the same onsets on every recording of every draw (checked). The cached
epochs do not depend on the sleep rules: run it with another checkout on PYTHONPATH for a before.

usage: python bench/sleep_gaps.py [--seeds 6] [--draws 5] [--jobs 1] [--json out.json] [--fresh]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from spasmwatch.analysis.pipeline import Analyzer
from spasmwatch.analysis.replay import Block, replay
from spasmwatch.analysis.scoring import WAKE_TOL_S, _paired
from spasmwatch.analysis.sleepwake import SleepWake, Transition
from spasmwatch.analysis.twin import TwinDetector
from spasmwatch.commands.evaluate import SuiteItem, suite
from spasmwatch.export.rows import BandEpochs
from spasmwatch.export.sleep import BandSleep

EPOCH_PART = 5000  # epochs per part fed to BandSleep: parts cut inside sleeps and gaps, as the store's chunks


def cache_dir() -> Path:
    d = Path(os.environ.get("SPASMWATCH_BENCH_CACHE", Path(tempfile.gettempdir()) / "spasmwatch-bench")) / "sleep-gaps"
    d.mkdir(parents=True, exist_ok=True)
    return d


class _Recorder(SleepWake):
    """The replay's SleepWake, keeping what it was fed."""

    def __init__(self, epoch_s: float) -> None:
        super().__init__(epoch_s)
        self.fed: list[tuple[float, bool, bool, bool]] = []

    def update(self, t_start: float, active: bool, worn: bool = True, *, moving: bool) -> Transition | None:
        self.fed.append((t_start, active, worn, moving))
        return super().update(t_start, active, worn, moving=moving)


def epochs_of(job: tuple[SuiteItem, int], fresh: bool = False) -> Path:
    """The recording's epochs as its replay fed them to the sleep estimate, its true wakes, its
    replay's own wakes; cached."""
    from spasmwatch.sim import Scenario, simulate

    (kind, hours, rate, gyro, amp, noise), seed = job
    key = hashlib.sha1(repr((job, "moving")).encode()).hexdigest()[:12]  # epochs cached before 'moving' lack it
    path = cache_dir() / f"{kind}-s{seed}-{key}.npz"
    if path.exists() and not fresh:
        return path
    sc = Scenario(kind=kind, duration_s=None if hours is None else hours * 3600.0, rate_hz=rate, seed=seed,
                  has_gyro=gyro, spasm_amplitude_scale=amp, noise_scale=noise)  # fmt: skip
    rec = simulate(sc)
    an = Analyzer(TwinDetector(rate, gyro).p)
    an.sleep = sw = _Recorder(an.epoch_s)
    wakes = [float(r["t"]) for r in replay([Block(rec.t, rec.acc, rec.gyro)], rate, gyro, analyzer=an) if r["type"] == "wake"]
    fed = np.array(sw.fed, dtype=np.float64).reshape(-1, 4)
    tmp = path.with_suffix(".part.npz")
    np.savez(tmp, fed=fed, epoch_s=an.epoch_s, truth=np.array(rec.truth["wake_onsets"], np.float64),
             replayed=np.array(wakes, np.float64), hours=float(rec.t[-1] - rec.t[0]) / 3600.0)  # fmt: skip
    tmp.replace(path)
    print(f"cached {path.name}", file=sys.stderr)
    return path


def dropouts(n: int, hours: float, rng: random.Random) -> np.ndarray:
    """Runs of 3-30 epochs taken out, 2 an hour."""
    keep = np.ones(n, np.bool_)
    for _ in range(round(2 * hours)):
        a = rng.randrange(n)
        keep[a : a + rng.randint(3, 30)] = False
    return keep


def rebooting(n: int, rng: random.Random, heard: tuple[int, int], unheard: tuple[int, int]) -> np.ndarray:
    """From the recording's second hour (its first if shorter), a band heard for ``heard`` epochs
    (a random count in that range, ends included), then unheard for ``unheard``, and again."""
    keep = np.ones(n, np.bool_)
    i = min(360, n // 4)
    while i < n:
        i += rng.randint(*heard)
        gap = rng.randint(*unheard)
        keep[i : i + gap] = False
        i += gap
    return keep


def reboots(n: int, hours: float, rng: random.Random) -> np.ndarray:
    """A band rebooting every 2-6 min, unheard 2-12 epochs each time."""
    return rebooting(n, rng, heard=(12, 36), unheard=(2, 12))


def storm(n: int, hours: float, rng: random.Random) -> np.ndarray:
    """A band rebooting every 1-3 min, unheard 6-12 epochs (1-2 min) each time: 40 % of the time unheard."""
    return rebooting(n, rng, heard=(6, 18), unheard=(6, 12))


MODES: dict[str, Callable[[int, float, random.Random], np.ndarray]] = {
    "none": lambda n, h, r: np.ones(n, np.bool_),
    "dropouts": dropouts,
    "reboots": reboots,
    "storm": storm,
}


def _daemon(t: np.ndarray, active: np.ndarray, worn: np.ndarray, moving: np.ndarray, epoch_s: float) -> list[tuple[str, float]]:
    sw, out = SleepWake(epoch_s), []
    for a, b, c, d in zip(t.tolist(), active.tolist(), worn.tolist(), moving.tolist(), strict=True):
        tr = sw.update(a, b, c, moving=d)
        if tr is not None:
            out.append((tr.kind, tr.t))
    return out


def _export(t: np.ndarray, active: np.ndarray, worn: np.ndarray, moving: np.ndarray, epoch_s: float) -> list[tuple[str, float]]:
    b = BandEpochs("band", t, np.full(len(t), epoch_s), active, moving, worn, np.zeros(len(t), np.bool_))
    parts = [b[k : k + EPOCH_PART] for k in range(0, len(b), EPOCH_PART)]
    return sorted(((tr.kind, tr.t) for tr in BandSleep().read(parts)), key=lambda x: x[1])


def run(paths: list[Path], draws: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, cut in MODES.items():
        rows = []
        for d in range(1 if mode == "none" else draws):
            found = false = true = 0
            for k, path in enumerate(paths):
                z = np.load(path)
                fed, epoch_s, truth = z["fed"], float(z["epoch_s"]), z["truth"].tolist()
                keep = cut(len(fed), float(z["hours"]), random.Random(1000 * d + k))
                t, active, worn, moving = fed[keep, 0], fed[keep, 1].astype(bool), fed[keep, 2].astype(bool), fed[keep, 3].astype(bool)
                mine = _daemon(t, active, worn, moving, epoch_s)
                if mine != _export(t, active, worn, moving, epoch_s):
                    raise SystemExit(f"the twins differ: {path.name}, {mode} draw {d}")
                wakes = [x for kind, x in mine if kind == "wake"]
                if mode == "none" and wakes != z["replayed"].tolist():
                    raise SystemExit(f"not the replay's wakes: {path.name}")
                missed, extra = _paired(truth, wakes, WAKE_TOL_S)
                true += len(truth)
                found += len(truth) - len(missed)
                false += len(extra)
            rows.append({"found": found, "true": true, "false": false})
        out[mode] = rows
        print(f"{mode:9s} wakes found " + ", ".join(f"{r['found']}/{r['true']}" for r in rows)
              + "; false wakes " + ", ".join(str(r["false"]) for r in rows))  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--fresh", action="store_true", help="replay the recordings again")
    args = ap.parse_args()
    jobs = suite(args.seeds, False)
    with ProcessPoolExecutor(args.jobs) as ex:
        paths = list(ex.map(epochs_of, jobs, [args.fresh] * len(jobs)))
    hours = sum(float(np.load(p)["hours"]) for p in paths)
    print(f"{len(paths)} recordings, {hours:.0f} h")
    res = run(paths, args.draws)
    if args.json:
        Path(args.json).write_text(json.dumps({"recordings": len(paths), "hours": hours, **res}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
