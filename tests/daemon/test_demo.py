"""The README's main command: ``spasmwatch demo`` shows the alarm, end to end, on a fresh store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_raises_the_alarm_and_stores_the_cluster(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "spasmwatch", "demo", "--speed", "60", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "ALARM: possible spasm cluster" in text
    assert "film the baby" in text and "pediatrician" in text
    assert "Cluster ended" in text
    assert "awake" in text  # the wake-up was seen before the cluster
    assert "1 cluster(s)" in text
    assert (tmp_path / "spasmwatch.db").exists() and (tmp_path / "flash" / "events.log").exists()
