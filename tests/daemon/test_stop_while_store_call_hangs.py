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

from pathlib import Path

from daemonproc import HUNG_DEVICE, hung_write_script, stopped_while_hung

from spasmwatch.store import Store

STOP_S = 15.0  # a hang guard (the stop takes about a second); the old code never ended

# At SIGUSR1 the hung write runs in the daemon's store threads (STORE_WORK), holding the store's lock.
_RUN = hung_write_script("STORE_WORK.submit(hang, store)", prelude="from spasmwatch.daemon.api import STORE_WORK")


def test_a_stop_while_a_store_call_hangs_holding_the_store_ends_and_keeps_what_was_committed(tmp_path: Path) -> None:
    """Old code: the daemon stopped its bands, then did not end (killed by the test after STOP_S)."""
    code, said, db = stopped_while_hung(tmp_path, _RUN, STOP_S)
    assert code == 0 and "Traceback" not in said, said
    assert "left to the call under way" in said, said
    with Store.open_readonly(db) as s:
        assert s.integrity_check() == "ok"
        assert sorted(e.seq for e in s.events(HUNG_DEVICE)) == list(range(6))  # seq 6 never committed
