"""Option types several subcommands share (argparse names the option in the message and exits 2)."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """A whole number, 1 or more: a count of rows, seeds, workers (found by the input audit:
    'replay --chunk-rows 0' ended in a ValueError traceback, 'evaluate --seeds 0' scored nothing
    and exited 0, 'evaluate --jobs -2' announced '-2 workers')."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, 1 or more, got {text!r}")
    return value
