"""``spasmwatch run``: the daemon beside the cot (bands -> store -> alerts -> channels, web page)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from spasmwatch.commands._daemon import add_config_arg, config_of


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon: connect the bands, store events, raise alerts", description=__doc__)
    add_config_arg(p)
    p.add_argument("--log-level", default=None, choices=("debug", "info", "warning", "error"), help="override the config's log level")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spasmwatch.daemon.main import serve

    cfg = config_of(args)
    level = (args.log_level or cfg.daemon.log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(serve(cfg))
