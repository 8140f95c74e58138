"""``spasmwatch run``: the daemon beside the cot (bands -> store -> alerts -> channels, web page)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from spasmwatch.clock import Clock, ScaledClock
from spasmwatch.commands._daemon import add_config_arg, config_of, sudo_note
from spasmwatch.config import default_config_path
from spasmwatch.daemon.lock import StoreInUse
from spasmwatch.errors import ConfigError, SpasmwatchError


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon: connect the bands, store events, raise alerts", description=__doc__)
    add_config_arg(p)
    p.add_argument("--log-level", default=None, choices=("debug", "info", "warning", "error"), help="override the config's log level")
    p.add_argument(
        "--sim-time-scale", default=None, metavar="SPEED@UNIX_S",
        help="simulated bands only: the daemon's clock runs SPEED x real time from UNIX_S, matching a band run with --speed SPEED",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spasmwatch.daemon import stopping
    from spasmwatch.daemon.main import serve

    note = sudo_note(os.geteuid(), os.environ, args.config or default_config_path())
    if note is not None:
        print(note, file=sys.stderr)
    cfg = config_of(args)
    if not cfg.bands:  # before the store is made: a config that names no band starts nothing
        from spasmwatch.firstrun import no_band_message

        raise ConfigError(no_band_message(args.config or default_config_path(), args.config is not None))
    level = (args.log_level or cfg.daemon.log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = args.config or default_config_path()  # what SIGHUP reloads (config_of read this one)
    store = cfg.store_path()
    stop_signals = stopping.StopSignals(stopping.stop_deadline_s(), store)
    stop_signals.start()  # before any thread: each inherits its mask
    try:
        code = asyncio.run(serve(cfg, _clock(args.sim_time_scale), config_path=Path(path), stop_signals=stop_signals))
    except StoreInUse as e:  # which daemon, and how to stop it: the lock says, the service knows
        from spasmwatch.commands.service import in_use

        raise SpasmwatchError(in_use(e)) from None
    stopping.cleared(store)  # not after a crash, nor by a daemon refused the store (the record is its holder's)
    return code


def _clock(spec: str | None) -> Clock | None:
    if spec is None:
        return None
    try:
        speed, origin = (float(x) for x in spec.split("@"))
    except ValueError:
        speed = origin = math.nan
    # 0, a negative or nan speed (or a nan origin) ran a daemon whose clock stood still, went
    # back, or stamped nan (found by the docs run)
    if not (0 < speed < math.inf and math.isfinite(origin)):
        raise SpasmwatchError(f"--sim-time-scale: expected SPEED@UNIX_S, SPEED > 0, e.g. 4@{time.time():.0f}, got {spec!r}")
    return ScaledClock(origin, speed, real_start=origin)
