"""What every command pays before it starts: the CLI module's own set-up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

THREADS_AFTER_NUMPY = "import spasmwatch.cli, numpy, os; print(len(os.listdir('/proc/self/task')))"


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_numpy_starts_no_blas_threads_for_a_command_unless_the_user_asks() -> None:
    """OpenBLAS spun a thread per core at numpy's import (~40 ms of CPU a command), for linear
    algebra spasmwatch does not do; a user's own OPENBLAS_NUM_THREADS is kept."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    run = lambda e: subprocess.run([sys.executable, "-c", THREADS_AFTER_NUMPY], env=e, capture_output=True, text=True, check=True)  # noqa: E731
    assert run(env).stdout.split() == ["1"]
    assert run(dict(env, OPENBLAS_NUM_THREADS="2")).stdout.split() == ["2"]
