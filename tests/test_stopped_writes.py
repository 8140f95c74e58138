"""A command stopped while it writes its output (outfile.whole_path: OUT.part, renamed when whole)
by SIGTERM ('kill', 'timeout', a service's stop) or ^C: the part written is removed, an earlier OUT
is left as it was, and it ends saying what was not written, exit 130 (the real CLI, a real signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

def _started_writing(proc: subprocess.Popen[bytes], part: Path) -> None:
    """Wait until ``proc`` has written into ``part`` (at most 120 s: a loaded machine), so it is mid-write."""
    for _ in range(1200):
        if part.exists() and part.stat().st_size > 0:
            return
        assert proc.poll() is None, "the command ended before it wrote its output"
        time.sleep(0.1)
    raise AssertionError(f"{part} was never written")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_write_stopped_by_a_signal_leaves_no_part_and_says_so(tmp_path: Path, sig: signal.Signals) -> None:
    """Found by the CLI input audit: SIGTERM during 'simulate' (a day's CSV, hundreds of MB) ended
    the process where it was, its OUT.csv.part left beside the earlier OUT.csv; ^C removed it but
    said only 'interrupted'. Now both remove it and name the file not written."""
    out = tmp_path / "day.csv"
    part = tmp_path / "day.csv.part"
    env = dict(os.environ, SPASMWATCH_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    cmd = [sys.executable, "-m", "spasmwatch", "simulate", "--kind", "day", str(out)]
    subprocess.run([*cmd, "--duration-s", "60"], check=True, capture_output=True, env=env, timeout=120)  # an earlier one of that name
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert sorted(earlier) == ["day.csv", "day.truth.json"]
    cmd += ["--hours", "24"]  # ~20 s of writing (a 540 MB CSV): long past the signal
    # (SIGINT's default action set back: a runner may start its children with ^C ignored)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _started_writing(proc, part)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    said = err.decode()
    assert proc.returncode == 130 and "Traceback" not in said, said
    assert said.endswith(f"spasmwatch simulate: interrupted: {out} not written (its part, {part.name}, removed; the earlier {out.name} left as it was)\n"), said
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == earlier
