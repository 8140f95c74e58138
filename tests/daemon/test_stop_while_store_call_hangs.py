"""A daemon asked to stop (SIGTERM) while a store call in a worker thread hangs holding the store's
lock ends, leaving that call: what it had committed is kept, what it had not is rolled back.

Found by the exit review: the store's close (the daemon's last step) waits for the store's lock, a
threading.RLock each call holds; a call hung with it (the page's days, read in a worker thread, on
a stalled disk) kept the stopped daemon from ending until systemd killed it at TimeoutStopSec.

Real parts: 'spasmwatch run' in its own process, SQLite on disk. The stalled disk is the one
stand-in: the call (in the daemon's store threads, ``STORE_WORK``, as the page's are) writes in a
transaction of the store, holding its lock, then opens a FIFO no program writes, as a write on a
stalled disk never returns. Started by SIGUSR1 once the daemon is up, so its start is as in service.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from daemonproc import UP_S, ended_after_sigterm, logged, one_band_config, wait_while_up, waiting_for_fifo
from servers import free_port
from synthetic import spasm_record

from spasmwatch.store import KnownStores, Store
from spasmwatch.store.known import RECORD_NAME

DEVICE = "hung0001"
STOP_S = 15.0  # a hang guard (the stop takes about a second); the old code never ended
STALL = "stalled-disk"  # the FIFO in the data folder the hung call opens

# 'spasmwatch run'; at SIGUSR1 a store call in the daemon's store threads: seq 5 committed, then seq 6
# written in a transaction that hangs (the FIFO) before its commit, holding the store's lock.
_RUN = f"""
import signal, sys
from spasmwatch import cli
from spasmwatch.daemon import main
from spasmwatch.daemon.api import STORE_WORK

def hang(store):
    store.add_events({DEVICE!r}, [{spasm_record(5, 26000)!r}], 1.0)
    with store.transaction():
        store.add_events({DEVICE!r}, [{spasm_record(6, 31000)!r}], 1.0)
        open(store.path.parent / {STALL!r}, "rb")

built = main.build
def build(cfg, store, *args, **kwargs):
    signal.signal(signal.SIGUSR1, lambda *_: STORE_WORK.submit(hang, store))
    return built(cfg, store, *args, **kwargs)
main.build = build
sys.exit(cli.main(["run", "--config", sys.argv[1]]))
"""


def test_a_stop_while_a_store_call_hangs_holding_the_store_ends_and_keeps_what_was_committed(tmp_path: Path) -> None:
    """Old code: the daemon stopped its bands, then did not end (killed by the test after STOP_S)."""
    data = tmp_path / "data"
    db = data / "spasmwatch.db"
    record = Path(os.environ["XDG_STATE_HOME"]) / "spasmwatch" / RECORD_NAME  # the test's own (tests/conftest.py)
    with Store(db, known=KnownStores(record)) as store:
        store.add_events(DEVICE, [spasm_record(seq, 1000 + 5000 * seq) for seq in range(5)], time.time())
    os.mkfifo(data / STALL)
    config = one_band_config(tmp_path / "config.toml", data, free_port())
    log = tmp_path / "daemon.log"
    with logged([sys.executable, "-c", _RUN, str(config)], log) as proc:
        end = time.monotonic() + UP_S
        wait_while_up(proc, log, end, lambda: "spasmwatch daemon up" in log.read_text())
        proc.send_signal(signal.SIGUSR1)
        wait_while_up(proc, log, end, lambda: waiting_for_fifo(proc.pid))
        code = ended_after_sigterm(proc, log, STOP_S)
    said = log.read_text()
    assert code == 0 and "Traceback" not in said, said
    assert "left to the call under way" in said, said
    with Store.open_readonly(db) as s:
        assert s.integrity_check() == "ok"
        assert sorted(e.seq for e in s.events(DEVICE)) == list(range(6))  # seq 6 never committed
