"""threads.DetachedThreads: the worker threads of the serial ports and the host name lookups.

The process's exit does not wait for a call hung in the kernel (a real one: the open of a FIFO no
program writes to blocks until one does); otherwise ThreadPoolExecutor's contract, which
serial.py and lookups.py rely on: at most ``max_workers`` threads, reused, a call's exception
handed to its caller, ``cancel_futures`` drops what has not begun, threads end at ``shutdown``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from spasmwatch.threads import DetachedThreads

WAIT_S = 30.0  # a hang guard, not a latency bound

_HUNG_OPEN = """
import os, sys
from spasmwatch.threads import DetachedThreads
pool = DetachedThreads(1, "hung")
pool.submit(os.open, sys.argv[1], os.O_RDONLY)  # blocks: nobody opens the FIFO to write
pool.shutdown(wait=False, cancel_futures=True)
print("main done", flush=True)
"""


def test_a_process_ends_while_a_call_hangs_in_its_thread(tmp_path: Path) -> None:
    """Old code (ThreadPoolExecutor): the interpreter's exit joined the thread, blocked in the open
    until a writer came (here: the test's, after WAIT_S)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", _HUNG_OPEN, str(fifo)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        code = proc.wait(WAIT_S)
    except subprocess.TimeoutExpired:
        with open(fifo, "w"):  # the writer that lets the open return
            code = proc.wait(WAIT_S)
        raise AssertionError(f"the process waited for the hung open at its exit (ended {code} once it returned)") from None
    assert code == 0 and proc.communicate()[0] == "main done\n"


def test_calls_share_at_most_max_workers_threads_and_a_shutdown_ends_them() -> None:
    pool = DetachedThreads(2, "two")
    release = threading.Event()
    running = threading.Semaphore(0)

    def hold(i: int) -> int:
        running.release()
        release.wait(WAIT_S)
        return i

    calls = [pool.submit(hold, i) for i in range(5)]
    assert running.acquire(timeout=WAIT_S) and running.acquire(timeout=WAIT_S)
    names = {t.name for t in threading.enumerate() if t.name.startswith("two_")}
    assert names == {"two_0", "two_1"} and not any(c.done() for c in calls)
    release.set()
    assert [c.result(WAIT_S) for c in calls] == list(range(5))
    later = pool.submit(threading.current_thread)
    assert later.result(WAIT_S).name in names and later.result().daemon  # an idle thread reused, not a third
    pool.shutdown(wait=True)
    assert not any(t.name.startswith("two_") for t in threading.enumerate())
    with pytest.raises(RuntimeError):
        pool.submit(int)


def test_an_exception_reaches_the_caller_and_cancel_futures_drops_what_has_not_begun() -> None:
    pool = DetachedThreads(1, "one")
    assert isinstance(pool.submit(int, "x").exception(WAIT_S), ValueError)
    began, release = threading.Event(), threading.Event()
    first = pool.submit(lambda: began.set() or release.wait(WAIT_S))
    queued = pool.submit(int, "1")
    assert began.wait(WAIT_S)
    pool.shutdown(wait=False, cancel_futures=True)
    assert queued.cancelled() and not first.cancelled()
    release.set()
    assert first.result(WAIT_S) is True
