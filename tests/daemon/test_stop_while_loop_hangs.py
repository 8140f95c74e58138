"""A daemon asked to stop (SIGTERM) while its event loop itself hangs in a store write ends within
its stop deadline, saying why and where each thread stood, and keeps what the store had committed.

Found by the exit review: most store calls run on the event loop; one hung on a stalled disk (or
waiting for the store's lock a hung worker holds) blocks the loop, so the loop never handled
SIGTERM (asyncio's handler runs in the loop) and the daemon never ended until systemd's SIGKILL at
TimeoutStopSec, which says nothing of where it hung.

Real parts: 'spasmwatch run' in its own process, SQLite on disk. The stalled disk is the one
stand-in: at SIGUSR1 the loop's thread writes in a transaction of the store, then opens a FIFO no
program writes, as a write on a stalled disk never returns. The deadline is shortened for the test
(``stopping.stop_deadline_s``); the service's is checked against its unit in
test_stop_deadline_is_below_the_unit_s_stop_timeout.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from daemonproc import UP_S, one_band_config, waiting_for_fifo
from servers import free_port
from synthetic import spasm_record

from spasmwatch.alerts.channels import _proc
from spasmwatch.commands.service import stop_timeout_s
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.stopping import STOP_SIGNALS, stop_deadline_s
from spasmwatch.store import KnownStores, Store
from spasmwatch.store.known import RECORD_NAME

DEVICE = "hung0001"
DEADLINE_S = 2.0  # the test's stop deadline
STOP_S = 20.0  # a hang guard (the stop ends at DEADLINE_S); the old code never ended
STALL = "stalled-disk"  # the FIFO in the data folder the loop's write opens

# 'spasmwatch run' with a DEADLINE_S stop deadline; at SIGUSR1 the loop's own thread (a Python
# signal handler runs there): seq 5 committed, then seq 6 written in a transaction that hangs
# (the FIFO) before its commit.
_RUN = f"""
import signal, sys
from spasmwatch import cli
from spasmwatch.daemon import main, stopping

def hang_on_the_loop(store):
    store.add_events({DEVICE!r}, [{spasm_record(5, 26000)!r}], 1.0)
    with store.transaction():
        store.add_events({DEVICE!r}, [{spasm_record(6, 31000)!r}], 1.0)
        open(store.path.parent / {STALL!r}, "rb")

built = main.build
def build(cfg, store, *args, **kwargs):
    signal.signal(signal.SIGUSR1, lambda *_: hang_on_the_loop(store))
    return built(cfg, store, *args, **kwargs)
main.build = build
stopping.stop_deadline_s = lambda: {DEADLINE_S!r}
sys.exit(cli.main(["run", "--config", sys.argv[1]]))
"""


def test_a_stop_while_the_loop_hangs_in_a_store_write_ends_at_the_deadline_with_the_stacks(tmp_path: Path) -> None:
    """Old code: the loop never handled SIGTERM; not ended STOP_S after it (killed by the test)."""
    data = tmp_path / "data"
    db = data / "spasmwatch.db"
    record = Path(os.environ["XDG_STATE_HOME"]) / "spasmwatch" / RECORD_NAME  # the test's own (tests/conftest.py)
    with Store(db, known=KnownStores(record)) as store:
        store.add_events(DEVICE, [spasm_record(seq, 1000 + 5000 * seq) for seq in range(5)], time.time())
    os.mkfifo(data / STALL)
    config = one_band_config(tmp_path / "config.toml", data, free_port())
    log = tmp_path / "daemon.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", _RUN, str(config)], stdout=out, stderr=out)
    try:
        end = time.monotonic() + UP_S  # a hang guard, not a latency bound
        while "spasmwatch daemon up" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < end, log.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGUSR1)
        while not waiting_for_fifo(proc.pid):
            assert proc.poll() is None and time.monotonic() < end, log.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(STOP_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"not ended {STOP_S:g} s after SIGTERM:\n{log.read_text()}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(UP_S)
    said = log.read_text()
    assert code == K.STOP_DEADLINE_EXIT, said
    assert f"not ended {DEADLINE_S:g} s after SIGTERM" in said, said
    assert "in hang_on_the_loop" in said, said  # the hung thread's stack (faulthandler's dump)
    with Store.open_readonly(db) as s:
        assert s.integrity_check() == "ok"
        assert sorted(e.seq for e in s.events(DEVICE)) == list(range(6))  # seq 6 never committed


def test_stop_deadline_is_below_the_unit_s_stop_timeout() -> None:
    """The deadline ends a hung stop before systemd's SIGKILL (which says nothing of where it hung),
    and after the longest clean stop (a delivery's retries, MQTT's acknowledgements)."""
    assert stop_deadline_s() == stop_timeout_s() - K.STOP_DEADLINE_EARLY_S
    assert stop_timeout_s() - K.STOP_MARGIN_S < stop_deadline_s() < stop_timeout_s()


def test_a_channel_s_command_does_not_inherit_the_daemon_s_blocked_stop_signals() -> None:
    """A player or notifier the daemon runs ends on SIGTERM (systemd's stop sends it to each process
    of the service). Old code: its mask was the daemon's, SIGINT and SIGTERM blocked (SigBlk 4002)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # as 'spasmwatch run' has them
    try:
        code, out = asyncio.run(_proc.run(["grep", "SigBlk", "/proc/self/status"], 10.0))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    assert code == 0 and out.split() == ["SigBlk:", "0000000000000000"], out
