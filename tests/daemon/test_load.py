"""bench/load.py, short: one ``spasmwatch run`` process, 3 bands streaming raw at 104 Hz. No time is asserted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthetic import load_bench


def test_load_smoke_three_bands_streaming_raw_at_104_hz_lose_nothing(tmp_path: Path) -> None:
    load = load_bench("load")
    r: dict[str, Any] = load.run(tmp_path, 3, 25.0)
    for b in r["bands"]:
        assert b["events_logged"] >= 3, b
        assert b["seqs"] == list(range(b["events_logged"])), b  # every event the band logged, once
        assert b["alarms"] == 1, b
        assert b["raw_samples"] >= 0.5 * load.RATE_HZ * 25, b  # raw arrived for most of the run (not a rate check)
