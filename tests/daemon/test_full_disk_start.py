"""``spasmwatch run`` started on a full disk: it monitors without its store, as for any store that
cannot be opened (docs/store.md), rather than ending in a traceback before it listens.

The full disk is the kernel's own refusal: the daemon runs under a file size limit of 0
(RLIMIT_FSIZE; Python ignores SIGXFSZ, so each write(2) past it fails with EFBIG, as one on a full
disk fails with ENOSPC). Real parts: the daemon in its own process, its lock and store in a fresh
folder, its web page on loopback, a second ``spasmwatch run`` on the same store."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from daemonproc import UP_S, one_band_config, status_once_up, stopped
from servers import free_port

def _no_file_may_grow() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def test_a_first_start_on_a_full_disk_monitors_without_the_store(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "data"
    config = one_band_config(tmp_path / "config.toml", data, port)
    env = dict(os.environ, SPASMWATCH_DATA_DIR=str(data))
    cmd = [sys.executable, "-m", "spasmwatch", "run", "--config", str(config)]
    # its log through a pipe: a file would be past the limit too (a few lines in these seconds, within its buffer)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_no_file_may_grow)
    try:
        status = status_once_up(proc, port)
        assert status["store"]["error"], status["store"]  # not open: said on the page, tried again
        assert status["bands"][0]["faults"] == ["storage_failing"]  # the family is told
        # its lock is held though its lines could not be written: a second daemon stays off the store
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=UP_S)
        assert second.returncode == 2 and "could not write its pid there: is the disk full?" in second.stderr, second.stderr
        # 'reload' cannot signal it without its pid: said as such, not 'started from another config'
        reload = subprocess.run([*cmd[:3], "reload", "--config", str(config)], env=env, capture_output=True, text=True, timeout=UP_S)
        assert reload.returncode == 2 and (f"a daemon holds {data / 'spasmwatch.db'}.lock but could not write its pid there"
                                           in reload.stderr), reload.stderr  # fmt: skip
        assert proc.poll() is None
    finally:
        text = stopped(proc)
    code = proc.returncode
    assert code == 0 and "Traceback" not in text, text
    assert text.count("cannot write the daemon's pid and address into") == 1, text  # said once, not per line


# The daemon's own calls, in a process of its own under the limit: the lock taken as the store
# opens (main.serve: Store.may_fail(path, known, lock.take)), the address once the page listens,
# then the limit raised (space came back) and the store's try again (Daemon._opening_store).
_SPACE_BACK = """
import resource, sys
from pathlib import Path
from spasmwatch.daemon.lock import one_daemon
from spasmwatch.store import Store
store_path, config = Path(sys.argv[1]), Path(sys.argv[2])
with one_daemon(store_path, config, now=False) as lock, Store.may_fail(store_path, None, lock.take) as store:
    lock.serving("127.0.0.1", 8765)
    print(store.open_error is not None, flush=True)
    sys.stdin.readline()  # the disk full: the test reads the lock
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    print(store.reopen(), flush=True)
    sys.stdin.readline()  # space back: the test reads the lock again
"""


def test_the_lock_says_the_daemon_once_space_comes_back(tmp_path: Path) -> None:
    """Without its pid in the lock 'spasmwatch reload' found no daemon on this config's store (it
    said one 'started from another config' answered on the port) until a restart, though the
    store opened again once there was space."""
    from spasmwatch.daemon.lock import LockHolder, lock_holder

    store, config = tmp_path / "spasmwatch.db", tmp_path / "config.toml"
    child = subprocess.Popen([sys.executable, "-c", _SPACE_BACK, str(store), str(config)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_no_file_may_grow)  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline() == "True\n", child.communicate()[1]  # the store did not open: the disk is full
        assert lock_holder(store) is None  # held, its lines unwritten
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline() == "True\n", child.communicate()[1]  # the store opened
        assert lock_holder(store) == LockHolder(child.pid, str(config.absolute()), ("127.0.0.1", 8765))
    finally:
        child.stdin.close()
        child.wait(timeout=UP_S)
