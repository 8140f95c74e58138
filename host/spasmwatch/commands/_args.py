"""Option types several subcommands share (argparse names the option in the message and exits 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number from ``low`` (to ``high``). Found by the input audit: 'replay --chunk-rows 0'
    ended in a ValueError traceback, 'evaluate --seeds 0' scored nothing and exited 0, 'evaluate
    --jobs -2' announced '-2 workers', '--seed-start -5' and 'demo --seed -1' blamed 'scenario:
    seed', and 'demo --port 99999' was refused only after the band had been started."""
    span = f"{low} or more" if high is None else f"{low}-{high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or high is not None and value > high:
            raise argparse.ArgumentTypeError(f"expected a whole number, {span}, got {text!r}")
        return value

    return parse


positive_int = whole_number(1)  # counts: rows, seeds, workers
port_number = whole_number(0, 65535)  # 0: any free port
