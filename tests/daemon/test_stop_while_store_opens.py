"""A daemon asked to stop (SIGTERM) while its try to open the store again (``Store.reopen``, in a
worker thread) hangs ends at once, the store and its events as they were.

Found by review: the try ran in asyncio's default pool (``asyncio.to_thread``), whose threads
``asyncio.run`` and the interpreter's exit join: the daemon stopped its bands, closed its store and
said it stopped, then waited for the try to return (for ever on a stalled file system, as for the
serial opens and lookups of test_stop_while_blocked.py) until systemd killed it at TimeoutStopSec.

The hang here is real: the try, having connected to the store, waits for the lock of the record of
opened stores (store/known.py ``_locked``, a blocking flock) that another process holds (this test;
a CLI command stuck on a stalled home folder would). Real parts: 'spasmwatch run' in its own process
(its store's try-again period made short, the one change), SQLite on disk, the kernel's flocks.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from daemonproc import UP_S, ended_after_sigterm, logged, one_band_config, wait_while_up, waiting_for_fifo
from servers import free_port
from synthetic import spasm_record

from spasmwatch.store import KnownStores, Store
from spasmwatch.store.known import RECORD_NAME

DEVICE = "reopen001"
# How long the stop may take (s): a hang guard (the stop takes about a second); the old code never
# ended while the record's lock was held.
STOP_S = 15.0
RETRY_S = 0.2  # the daemon's try-again period for its store (60 s in the service)

# 'spasmwatch run', its store tried again every RETRY_S (the daemon's attribute, set once it is built)
_RUN = f"""
import sys
from spasmwatch import cli
from spasmwatch.daemon import main

built = main.build
def build(*args, **kwargs):
    daemon = built(*args, **kwargs)
    daemon.store_retry_s = {RETRY_S}
    return daemon
main.build = build
sys.exit(cli.main(["run", "--config", sys.argv[1]]))
"""


def _waiting_for_flock(lock: Path, pid: int) -> bool:
    """Whether process ``pid`` waits for a flock on ``lock`` (/proc/locks lists a waiter with '->')."""
    inode = f":{lock.stat().st_ino} "
    return any("->" in line and f" {pid} " in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def _stopped_while_opening(tmp_path: Path, hang: Callable[[Path], None], hung: Callable[[int], bool]) -> None:
    """A daemon started while its store (five events in it) is away, ``hang`` called on the store's
    folder (set aside) before it comes back, SIGTERM once ``hung`` says the daemon's try waits: the
    daemon ends, with exit 0, within STOP_S, and the store is whole with its five events."""
    data, aside = tmp_path / "data", tmp_path / "aside"
    db = data / "spasmwatch.db"
    with Store(db, known=KnownStores(_record())) as store:  # opened by a daemon before: recorded
        store.add_events(DEVICE, [spasm_record(seq, 1000 + 5000 * seq) for seq in range(5)], time.time())
    data.rename(aside)  # its disk not mounted at the start: the daemon runs without it, trying again
    config = one_band_config(tmp_path / "config.toml", data, free_port())
    log = tmp_path / "daemon.log"
    with logged([sys.executable, "-c", _RUN, str(config)], log) as proc:
        end = time.monotonic() + UP_S
        wait_while_up(proc, log, end, lambda: "the store cannot be opened" in log.read_text())
        hang(aside)
        aside.rename(data)  # the disk is back: the next try hangs
        wait_while_up(proc, log, end, lambda: hung(proc.pid))
        code = ended_after_sigterm(proc, log, STOP_S)
    assert code == 0 and "Traceback" not in log.read_text(), log.read_text()
    with Store.open_readonly(db) as s:
        assert s.integrity_check() == "ok"
        assert sorted(e.seq for e in s.events(DEVICE)) == list(range(5))


def _record() -> Path:
    """The record of the stores opened (the test's own state folder: tests/conftest.py)."""
    return Path(os.environ["XDG_STATE_HOME"]) / "spasmwatch" / RECORD_NAME


def test_a_stop_while_the_try_waits_for_the_record_s_lock_ends_and_leaves_the_store_whole(tmp_path: Path) -> None:
    """The try has connected, and waits for the record's lock, held by another process (this test).
    Old code: the daemon said it stopped, then did not end (killed after STOP_S by the test)."""
    lock, held = _record().with_name(RECORD_NAME + ".lock"), []

    def take(_: Path) -> None:
        held.append(os.open(lock, os.O_RDWR | os.O_CREAT, 0o600))  # (its folder made by the store's first open)
        fcntl.flock(held[0], fcntl.LOCK_EX)

    try:
        _stopped_while_opening(tmp_path, take, lambda pid: _waiting_for_flock(lock, pid))
    finally:
        for fd in held:
            os.close(fd)


def test_a_stop_while_the_try_hangs_in_the_open_of_the_daemon_s_lock_ends(tmp_path: Path) -> None:
    """The try hangs in the open of the daemon's lock beside the store (a FIFO no program reads: the
    open of a file on a stalled disk never returns either). Old code: not ended (killed after
    STOP_S); with the try's thread a daemon one, still not ended: the stop's release of the lock
    waited for the take's mutex, held across that open (daemon/lock.py)."""
    _stopped_while_opening(tmp_path, lambda folder: os.mkfifo(folder / "spasmwatch.db.lock"), waiting_for_fifo)
    (tmp_path / "data" / "spasmwatch.db.lock").unlink()
