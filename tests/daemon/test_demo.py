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


def test_bad_options_are_refused_before_anything_starts(tmp_path: Path) -> None:
    """Found by the input audit: '--port 99999' was refused only after the morning had been
    simulated and the band started, '--seed -1' said 'scenario: seed must be >= 0', and a
    --data-dir that is a file ended in a FileExistsError traceback."""
    (tmp_path / "notes.txt").write_text("mine")
    cases = [
        (["--port", "99999"], "argument --port: expected a whole number, 0-65535, got '99999'"),
        (["--seed", "-1"], "argument --seed: expected a whole number, 0 or more, got '-1'"),
        (["--data-dir", str(tmp_path / "notes.txt")], f"--data-dir: {tmp_path / 'notes.txt'}: cannot make the folder: "),
    ]
    for args, message in cases:
        data = ["--data-dir", str(tmp_path / "demo")] if "--data-dir" not in args else []
        out = subprocess.run([sys.executable, "-m", "spasmwatch", "demo", *args, *data], capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert out.stdout == "" and not (tmp_path / "demo").exists()  # nothing simulated, nothing started
    assert (tmp_path / "notes.txt").read_text() == "mine"
