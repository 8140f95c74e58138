"""firmware/sim/run.py's command line, run as docs/firmware.md writes it ("Running it on the unix port")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sim_central import FIRMWARE, MICROPYPATH


@pytest.mark.parametrize(
    "extra, said",
    [
        (["--csv", "{tmp}/none.csv"], "run.py: --csv {tmp}/none.csv: no such file"),
        (["--board", "{tmp}/nosuch.json"], "run.py: --board {tmp}/nosuch.json: no such file"),
        (["--speed", "x"], "run.py: --speed 'x': expected a number"),
        (["--timeout-s", "2m"], "run.py: --timeout-s '2m': expected a number"),
        (["--rtc-restarted", "1.5s"], "run.py: --rtc-restarted '1.5s': expected a number"),
        (["--starve-at-s", "12"], "run.py: --starve-at-s '12': expected S:MS"),
        (
            ["--retained", "{tmp}/rtc.bin", "--no-rtc", "--rtc-restarted", "1500"],
            "run.py: --no-rtc and --rtc-restarted: a board has an RTC timer or not, not both",
        ),
    ],
)
def test_a_wrong_file_or_number_is_named_not_a_traceback(micropython: str, tmp_path: Path, extra: list[str], said: str) -> None:
    """Found by the engineer's audit: a --csv or --board that is not there ended in
    'OSError: [Errno 2] ENOENT' from inside build(), naming no file, and '--speed x' in
    'ValueError: invalid syntax for integer with base 10' (tracebacks, exit 1)."""
    csv = tmp_path / "rec.csv"
    csv.write_text("t,ax,ay,az\n0.0,0,0,1\n")
    args = ["--csv", str(csv), "--flash", str(tmp_path / "band"), "--socket", "0", "--timeout-s", "5"]
    args += [a.format(tmp=tmp_path) for a in extra]
    proc = subprocess.run(
        [micropython, str(FIRMWARE / "sim" / "run.py"), *args],
        env=dict(os.environ, MICROPYPATH=MICROPYPATH), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert out.strip().splitlines()[-1] == said.format(tmp=tmp_path), out


def test_help_lists_the_options_and_an_unknown_one_points_to_it(micropython: str) -> None:
    """Found by the docs run (engineer): 'run.py --help', the first thing a newcomer types, said
    "run.py: unknown argument '--help'"; the options were only in the file's docstring."""
    run = lambda *args: subprocess.run(  # noqa: E731
        [micropython, str(FIRMWARE / "sim" / "run.py"), *args],
        env=dict(os.environ, MICROPYPATH=MICROPYPATH), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    for flag in ("--help", "-h"):
        shown = run(flag)
        assert shown.returncode == 0 and "--csv rec.csv --flash DIR --socket PORT" in shown.stdout, shown.stdout + shown.stderr
        assert "--timeout-s S       give up after S real seconds (default 120)" in shown.stdout, shown.stdout
    wrong = run("--csv-skip", "3")
    assert wrong.returncode == 1 and wrong.stderr.strip() == "run.py: unknown argument '--csv-skip' (--help lists the options)", wrong.stderr
