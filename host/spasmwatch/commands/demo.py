"""``spasmwatch demo``: a simulated morning on a simulated band, end to end.

A baby sleeps, wakes, and a few minutes later has a cluster of spasms. The
band's detector (the numpy twin of the firmware's) processes the recording as
it streams in, the host clusters the spasms and estimates waking, and the
alarm is raised with the words a caregiver would get.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from spasmwatch.analysis.clusters import Cluster
from spasmwatch.analysis.pipeline import Analyzer
from spasmwatch.analysis.replay import Block, replay
from spasmwatch.commands.replay import clock, record_line
from swcore.frontend import Params

_TTY = sys.stdout.isatty()
RED, RESET = ("\033[1;31m", "\033[0m") if _TTY else ("", "")

ALARM_TEXT = (
    "ALARM: {count} spasm-like movements in a cluster since {start} ({after}).\n"
    "  Please film the baby now if it is still happening, and contact your\n"
    "  pediatrician. spasmwatch is a screening aid, not a diagnosis."
)


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="end-to-end demo: a simulated morning with a spasm cluster", description=__doc__)
    p.add_argument("--seed", type=int, default=2, help="simulation seed")
    p.add_argument("--speed", type=float, default=600.0, help="playback speed (x real time); 0 = as fast as possible")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spasmwatch.sim import Scenario, simulate

    sc = Scenario(kind="morning", seed=args.seed, rate_hz=100.0)
    out = sys.stdout
    out.write(f"Simulating a {sc.resolved_duration_s / 60:.0f} min morning at {sc.rate_hz:g} Hz (seed {sc.seed})...\n")
    rec = simulate(sc)
    truth = rec.truth
    out.write(f"  ground truth: {len(truth['spasms'])} spasms in {len(truth['clusters'])} cluster(s), "
              f"wake at {', '.join(clock(w) for w in truth['wake_onsets']) or '-'}\n")
    out.write("Streaming the band's samples through the detector:\n")
    step = int(10 * sc.rate_hz)  # 10 s of samples per block, as a live link would deliver
    blocks = (
        Block(rec.t[s : s + step], rec.acc[s : s + step], None if rec.gyro is None else rec.gyro[s : s + step])
        for s in range(0, len(rec.t), step)
    )
    alarms = 0
    an = Analyzer(Params(sc.rate_hz, sc.has_gyro))
    t_wall = time.monotonic()
    for r in replay(_paced(blocks, args.speed, t_wall), sc.rate_hz, sc.has_gyro, analyzer=an):
        out.write("  " + record_line(r) + "\n")
        for c in an.alarms:
            alarms += 1
            out.write(_alarm(c) + "\n")
        an.alarms.clear()
        out.flush()
    if not alarms:
        out.write("No cluster was detected in this run.\n")
    return 0 if alarms else 1


def _paced(blocks: Any, speed: float, t_wall: float) -> Any:
    for b in blocks:
        if speed > 0:
            lag = float(b.t[0]) / speed - (time.monotonic() - t_wall)
            if lag > 0:
                time.sleep(lag)
        yield b


def _alarm(c: Cluster) -> str:
    pw = c.post_wake_s
    after = f"{pw / 60:.1f} min after waking" if pw is not None else "waking time unknown"
    return RED + ALARM_TEXT.format(count=c.count, start=clock(c.start), after=after) + RESET
