"""The stop deadline of ``spasmwatch run``: a stop (SIGTERM, SIGINT) that has not ended within
``stop_deadline_s()`` is cut short, each thread's stack logged, so a stop always ends and says why.

asyncio handles a signal in its loop (``add_signal_handler``): a loop blocked in a store write on a
stalled disk never handled SIGTERM, and a Python ``signal.signal`` handler runs only between the
main thread's bytecodes, never while it waits in SQLite's C code. So SIGTERM and SIGINT are blocked
in every thread (the mask is set before any thread starts; threads inherit it) and taken by a
thread of their own (``sigwait``), which arms the deadline whatever the loop does, then passes the
stop on to the loop. Children inherit the mask: a channel's command is started with none blocked
(alerts/channels/_proc.py, by posix_spawn: no Python in the forked child).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from spasmwatch.daemon import consts as K

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def stop_deadline_s() -> float:
    """How long (s) after a stop signal the daemon ends at the latest: before systemd's SIGKILL."""
    from spasmwatch.commands.service import stop_timeout_s

    return float(stop_timeout_s() - K.STOP_DEADLINE_EARLY_S)


class StopSignals:
    """SIGTERM and SIGINT, taken by a thread of their own once ``start``ed (from the main thread,
    before any other thread): each arms the deadline, then calls the handler set by ``handled``;
    without one, the signal's own action (SIGTERM ends the process, SIGINT raises KeyboardInterrupt)."""

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
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
        err = sys.stderr.fileno()  # raw writes: a hung thread may hold sys.stderr's or logging's lock
        os.write(err, (f"spasmwatch: not ended {self.deadline_s:g} s after {sig.name}: a call hangs (a stalled disk?); "
                       f"ending now (exit {K.STOP_DEADLINE_EXIT}), before the service manager's kill; where each thread stands:\n").encode())  # fmt: skip
        faulthandler.dump_traceback(err, all_threads=True)
        os._exit(K.STOP_DEADLINE_EXIT)


def _own_action(sig: signal.Signals) -> None:
    """What ``sig`` does without the daemon's handler (before it is up, after it has stopped): sent
    again to this thread, unblocked here alone (SIGTERM's default ends the process; Python's SIGINT
    handler raises KeyboardInterrupt in the main thread)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    signal.pthread_kill(threading.get_ident(), sig)
    signal.pthread_sigmask(signal.SIG_BLOCK, {sig})
