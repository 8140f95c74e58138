"""Option types several subcommands share (argparse names the option in the message and exits 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(low: int) -> Callable[[str], int]:
    """A whole number, ``low`` or more (found by the input audit: 'replay --chunk-rows 0' ended in
    a ValueError traceback, 'evaluate --seeds 0' scored nothing and exited 0, 'evaluate --jobs -2'
    announced '-2 workers', 'evaluate --seed-start -5' blamed 'scenario: seed')."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a whole number, {low} or more, got {text!r}")
        return value

    return parse


positive_int = at_least(1)  # counts: rows, seeds, workers
