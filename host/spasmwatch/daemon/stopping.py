"""The stop deadline of ``spasmwatch run``: a stop (SIGTERM, SIGINT) that has not ended within
``stop_deadline_s()`` is cut short, each thread's stack logged, so a stop always ends and says why.

asyncio handles a signal in its loop (``add_signal_handler``): a loop blocked in a store write on a
stalled disk never handled SIGTERM, and a Python ``signal.signal`` handler runs only between the
main thread's bytecodes, never while it waits in SQLite's C code. So SIGTERM and SIGINT are blocked
in every thread (the mask is set before any thread starts; threads inherit it) and taken by a
thread of their own (``sigwait``), which arms the deadline whatever the loop does, then passes the
stop on to the loop. Children inherit the mask: a channel's command is started with none blocked
(alerts/channels/_proc.py, by posix_spawn: no Python in the forked child).

A stop cut short is recorded beside the store (``cut_short_record``: the reason, then the stacks),
which 'spasmwatch status' says, and the next start's log (``said_at_start``), until a stop ends
cleanly (``cleared``): the log alone (the journal, a terminal) was all that said why the daemon had
not stopped, and systemd shows its exit (``STOP_DEADLINE_EXIT``) only as a number ("status=10/n/a").
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from spasmwatch.clock import wall_text
from spasmwatch.daemon import consts as K
from spasmwatch.private import FILE_MODE
from spasmwatch.words import visible

log = logging.getLogger(__name__)

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def stop_deadline_s() -> float:
    """How long (s) after a stop signal the daemon ends at the latest: before systemd's SIGKILL."""
    from spasmwatch.commands.service import stop_timeout_s

    return float(stop_timeout_s() - K.STOP_DEADLINE_EARLY_S)


def cut_short_record(store_path: Path) -> Path:
    """The record of the last stop cut short at its deadline, beside the store ``store_path``:
    its first line the reason, then where each thread stood."""
    return store_path.with_name(store_path.name + ".stop-cut-short")


def cut_short(store_path: Path) -> tuple[float, str, Path] | None:
    """The last stop of the daemon on ``store_path``, if it was cut short: (when, the reason, the
    record); None when it ended cleanly, or none was recorded. Opened without waiting: one that is
    no file (a FIFO's open waits for a writer for ever) is none of ours, and hung the start that reads it."""
    path = cut_short_record(store_path)
    try:
        with open(path, encoding="utf-8", errors="replace", opener=_no_wait) as f:
            st = os.fstat(f.fileno())
            return (st.st_mtime, f.readline().strip(), path) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        return None


def _no_wait(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NONBLOCK)


def last_stop_note(store_path: Path) -> str | None:
    """When and why the last stop of the daemon on ``store_path`` was cut short at its deadline, for
    'status', a command that finds no daemon and the next start's log; None once a stop ended cleanly.
    systemd's log shows it only as a number ("status=10/n/a", STOP_DEADLINE_EXIT), the daemon's own lines
    scroll away in the journal, and a stop by 'systemctl stop' is not restarted: the service stays failed."""
    last = cut_short(store_path)
    if last is None:
        return None
    when, reason, record = last
    return (f"{wall_text(when)}: {visible(reason)}; the daemon ended itself at its deadline (exit {K.STOP_DEADLINE_EXIT}) "
            f"before the service manager's kill; where each thread stood: {record}, kept until a stop ends cleanly")  # fmt: skip


def said_at_start(store_path: Path) -> None:
    """A start after a stop cut short says it in the log, next to the start: the journal's lines of
    that stop may have scrolled away, and only 'spasmwatch status' said it."""
    note = last_stop_note(store_path)
    if note is not None:
        log.warning("the last stop of the daemon on this store was cut short at %s", note)


def cleared(store_path: Path) -> None:
    """After a clean stop: the last stop is no longer the one cut short."""
    try:
        cut_short_record(store_path).unlink()
    except FileNotFoundError:
        pass
    except OSError as e:  # a store folder read-only, or another user's: 'status' goes on saying the old one
        log.warning("%s: not removed after a clean stop: %s", cut_short_record(store_path), e.strerror or e)


class StopSignals:
    """SIGTERM and SIGINT, taken by a thread of their own once ``start``ed (from the main thread,
    before any other thread): each arms the deadline, then calls the handler set by ``handled``;
    without one, the signal's own action (SIGTERM ends the process, SIGINT raises KeyboardInterrupt).
    A stop cut short is recorded beside ``store_path`` (``cut_short_record``)."""

    def __init__(self, deadline_s: float, store_path: Path | None = None) -> None:
        self.deadline_s = deadline_s
        self.record = None if store_path is None else cut_short_record(store_path)
        self._handler: Callable[[], None] | None = None
        self._armed = threading.Event()

    def start(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        threading.Thread(target=self._take, name="stop-signals", daemon=True).start()

    @contextmanager
    def handled(self, handler: Callable[[], None]) -> Iterator[None]:
        """``handler`` (called in this class's thread) is a stop signal's action while in the block."""
        self._handler = handler
        try:
            yield
        finally:
            self._handler = None

    def _take(self) -> None:
        while True:
            sig = signal.Signals(signal.sigwait(STOP_SIGNALS))
            self._arm(sig)
            handler = self._handler
            if handler is None:
                _own_action(sig)
            else:
                handler()

    def _arm(self, sig: signal.Signals) -> None:
        if self._armed.is_set():
            return
        self._armed.set()
        # The C timer needs no GIL: it ends the process even if a hung call holds it
        faulthandler.dump_traceback_later(self.deadline_s + K.STOP_BACKSTOP_S, exit=True, file=sys.stderr.fileno())
        threading.Thread(target=self._deadline, args=(sig,), name="stop-deadline", daemon=True).start()

    def _deadline(self, sig: signal.Signals) -> None:
        threading.Event().wait(self.deadline_s)  # the process ends before, unless a call hangs
        reason = f"not ended {self.deadline_s:g} s after {sig.name}: a call hangs (a stalled disk?)"
        err = sys.stderr.fileno()  # raw writes: a hung thread may hold sys.stderr's or logging's lock
        os.write(err, (f"spasmwatch: {reason}; ending now (exit {K.STOP_DEADLINE_EXIT}), before the service manager's kill; "
                       f"where each thread stands{'' if self.record is None else f' (also in {self.record})'}:\n").encode())  # fmt: skip
        faulthandler.dump_traceback(err, all_threads=True)
        if self.record is not None:  # in a thread of its own: on a stalled disk its write never returns
            recording = threading.Thread(target=_record, args=(self.record, reason), name="stop-record", daemon=True)
            recording.start()
            recording.join(K.STOP_RECORD_WAIT_S)
        os._exit(K.STOP_DEADLINE_EXIT)


def _record(path: Path, reason: str) -> None:
    """``reason``, then each thread's stack, in ``path`` (raw calls, as the log's); one that fails
    is given up: the log has them."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    except OSError:
        return
    try:
        os.write(fd, f"{reason}\nThe daemon ended itself (exit {K.STOP_DEADLINE_EXIT}); where each thread stood:\n".encode())
        faulthandler.dump_traceback(fd, all_threads=True)
    except OSError:
        pass
    finally:
        os.close(fd)


def _own_action(sig: signal.Signals) -> None:
    """What ``sig`` does without the daemon's handler (before it is up, after it has stopped): sent
    again to this thread, unblocked here alone (SIGTERM's default ends the process; Python's SIGINT
    handler raises KeyboardInterrupt in the main thread)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    signal.pthread_kill(threading.get_ident(), sig)
    signal.pthread_sigmask(signal.SIG_BLOCK, {sig})
