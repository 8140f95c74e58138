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

from daemonproc import UP_S, HUNG_DEVICE, ended_after_sigterm, hung_write_script, logged, one_band_config, stopped_while_hung, wait_while_up
from servers import free_port

from spasmwatch.alerts.channels import _proc
from spasmwatch.commands.service import stop_timeout_s
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.stopping import STOP_SIGNALS, cut_short_record, stop_deadline_s
from spasmwatch.store import Store

DEADLINE_S = 2.0  # the test's stop deadline
STOP_S = 20.0  # a hang guard (the stop ends at DEADLINE_S); the old code never ended

# At SIGUSR1 the hung write runs on the loop's own thread (a Python signal handler runs there).
_RUN = hung_write_script("hang(store)", prelude="from spasmwatch.daemon import stopping",
                         lines=f"stopping.stop_deadline_s = lambda: {DEADLINE_S!r}")  # fmt: skip


def test_a_stop_while_the_loop_hangs_in_a_store_write_ends_at_the_deadline_with_the_stacks(tmp_path: Path) -> None:
    """Old code: the loop never handled SIGTERM; not ended STOP_S after it (killed by the test).
    The reason and the stacks are recorded beside the store too, which 'status' and a command
    finding no daemon say until a stop ends cleanly. Until then only the log said it, and systemd
    says the exit only as a number (STOP_DEADLINE_EXIT); a 'systemctl stop' is not restarted
    (Restart=always restarts any other end, this exit too)."""
    code, said, db = stopped_while_hung(tmp_path, _RUN, STOP_S)
    assert code == K.STOP_DEADLINE_EXIT, said
    assert f"not ended {DEADLINE_S:g} s after SIGTERM" in said, said
    assert " in hang\n" in said, said  # the hung thread's stack (faulthandler's dump)
    with Store.open_readonly(db) as s:
        assert s.integrity_check() == "ok"
        assert sorted(e.seq for e in s.events(HUNG_DEVICE)) == list(range(6))  # seq 6 never committed
    record = cut_short_record(db)
    kept = record.read_text()
    assert kept.startswith(f"not ended {DEADLINE_S:g} s after SIGTERM: a call hangs") and " in hang\n" in kept, kept
    assert str(record) in said, said  # the log names it
    config = tmp_path / "config.toml"
    status = [sys.executable, "-m", "spasmwatch", "status", "--config", str(config)]
    nobody = subprocess.run(status, capture_output=True, text=True, timeout=UP_S)  # the service failed ('systemctl stop')
    assert nobody.returncode == 2 and "nothing watches the band and no alarm can go out: start it with 'spasmwatch run' " in nobody.stderr, nobody.stderr
    assert "from every boot) (its last stop was cut short at " in nobody.stderr, nobody.stderr
    assert f": not ended {DEADLINE_S:g} s after SIGTERM: a call hangs" in nobody.stderr and str(record) in nobody.stderr, nobody.stderr
    log = tmp_path / "again.log"
    with logged([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], log) as proc:  # as Restart= starts it
        wait_while_up(proc, log, time.monotonic() + UP_S, lambda: "spasmwatch daemon up" in log.read_text())
        up = subprocess.run(status, capture_output=True, text=True, timeout=UP_S)
        assert "\nLAST STOP CUT SHORT at " in "\n" + up.stdout and str(record) in up.stdout, up.stdout + up.stderr
        assert ended_after_sigterm(proc, log, STOP_S) == 0, log.read_text()  # a clean stop
    assert not record.exists()
    assert "cut short" not in subprocess.run(status, capture_output=True, text=True, timeout=UP_S).stderr


def test_a_start_after_a_stop_cut_short_says_it_in_the_log(tmp_path: Path) -> None:
    """The journal says the last stop was cut short next to the new start (as Restart= starts it):
    one WARNING naming the record and its reason line. Old code: only 'spasmwatch status' said it,
    and the journal's lines of that stop had scrolled away. The record is made by hand (the hung
    stop that writes it is the test above); a clean stop still deletes it."""
    data = tmp_path / "data"
    data.mkdir()
    record = cut_short_record(data / "spasmwatch.db")
    reason = "not ended 107 s after SIGTERM: a call hangs (a stalled disk?)"
    record.write_text(f"{reason}\nThe daemon ended itself (exit 10); where each thread stood:\n  File ...\n")
    config = one_band_config(tmp_path / "config.toml", data, free_port())
    log = tmp_path / "daemon.log"
    with logged([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], log) as proc:
        wait_while_up(proc, log, time.monotonic() + UP_S, lambda: "spasmwatch daemon up" in log.read_text())
        assert ended_after_sigterm(proc, log, STOP_S) == 0, log.read_text()
    said = [line for line in log.read_text().splitlines() if str(record) in line]
    assert len(said) == 1 and " WARNING " in said[0] and f": {reason}; " in said[0], log.read_text()
    assert not record.exists()


def test_stop_deadline_is_below_the_unit_s_stop_timeout() -> None:
    """The deadline ends a hung stop before systemd's SIGKILL (which says nothing of where it hung),
    and after the longest clean stop (a delivery's retries, MQTT's acknowledgements)."""
    assert stop_deadline_s() == stop_timeout_s() - K.STOP_DEADLINE_EARLY_S
    assert stop_timeout_s() - K.STOP_MARGIN_S < stop_deadline_s() < stop_timeout_s()


def test_the_stop_deadline_s_exit_is_one_systemd_does_not_name() -> None:
    """Found by review: exit 3 read "status=3/NOTIMPLEMENTED" in the journal (systemd's LSB name for
    3), as if the daemon lacked a feature. systemd names 0-7 (C, LSB), 64-78 (BSD sysexits) and
    200 up (its own); 8-63 it shows as "n/a", and no command of spasmwatch exits there (0, 1, 2, 130)."""
    assert K.STOP_DEADLINE_EXIT in range(8, 64)


def test_a_channel_s_command_does_not_inherit_the_daemon_s_blocked_stop_signals() -> None:
    """A player or notifier the daemon runs ends on SIGTERM (systemd's stop sends it to each process
    of the service). Old code: its mask was the daemon's, SIGINT and SIGTERM blocked (SigBlk 4002)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # as 'spasmwatch run' has them
    try:
        code, out = asyncio.run(_proc.run(["grep", "SigBlk", "/proc/self/status"], 10.0))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    assert code == 0 and out.split() == ["SigBlk:", "0000000000000000"], out


# A channel's command started while another thread holds a lock that Python run in the forked child
# would take: an at-fork hook stands for what the interpreter and its libraries run there (a
# preexec_fn ran them: PyOS_AfterFork_Child), the lock for one held at the fork (logging's, an
# import's, a library's), and such a child never reaches its exec. Its own process: the hook stays.
_SPAWN_WHILE_HELD = """
import asyncio, os, signal, sys, threading
from spasmwatch.alerts.channels import _proc
from spasmwatch.daemon.stopping import STOP_SIGNALS

held, taken = threading.Lock(), threading.Event()
os.register_at_fork(after_in_child=held.acquire)
signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # as 'spasmwatch run' has them, before its threads

def holder():
    with held:
        taken.set()
        threading.Event().wait()

threading.Thread(target=holder, daemon=True).start()
taken.wait()
print(asyncio.run(_proc.run(["true"], float(sys.argv[1]))))
"""


def test_a_channel_s_command_starts_while_another_thread_holds_a_lock_no_python_runs_in_the_child() -> None:
    """The alarm's player starts (exit 0) with no Python run between its fork and exec. Old code (a
    preexec_fn, which runs the at-fork hooks in the child): the child waited for the lock for ever,
    and the parent, in subprocess's wait for the child's exec, with it: the event loop itself hung
    (no alarm, no stop: not ended STOP_S * 3 after its start, then killed by the test)."""
    with subprocess.Popen([sys.executable, "-c", _SPAWN_WHILE_HELD, "5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True) as proc:  # fmt: skip
        try:
            out, _ = proc.communicate(timeout=STOP_S * 3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the hung child too
            raise AssertionError(f"not ended {STOP_S * 3:g} s after its start: {proc.communicate()[0]}") from None
    assert proc.returncode == 0 and out.strip() == "(0, '')", out


def test_a_channel_s_command_gets_no_file_the_daemon_inherited_open() -> None:
    """Only stdin, stdout and stderr (subprocess's close_fds): a player holding an inherited pipe's
    end kept that pipe's reader from its end. Without the closes (posix_spawn's own), the pipe's
    inheritable end was open in the child."""
    r, w = os.pipe()
    os.set_inheritable(w, True)  # as one the daemon inherited from a shell
    try:
        code, out = asyncio.run(_proc.run(["sh", "-c", "exec ls /proc/self/fd"], 10.0))
    finally:
        os.close(r)
        os.close(w)
    assert code == 0 and sorted(out.split()) == ["0", "1", "2", "3"], out  # 3: ls's listing of the folder


def test_a_stop_cut_short_whose_record_cannot_be_written_still_ends_at_the_deadline(tmp_path: Path) -> None:
    """The record's disk stalls too (its open never returns: a FIFO no program reads, as the hung
    write's): the exit is still the deadline's, given up after STOP_RECORD_WAIT_S, the stacks in
    the log. Written in the deadline's own thread, it hung there, and faulthandler's backstop
    ended the daemon with exit 1 (measured: 1, the record never written)."""
    (tmp_path / "data").mkdir()
    os.mkfifo(cut_short_record(tmp_path / "data" / "spasmwatch.db"))
    code, said, _ = stopped_while_hung(tmp_path, _RUN, STOP_S)
    assert code == K.STOP_DEADLINE_EXIT and " in hang\n" in said, said
