"""Worker threads the process's exit does not wait for: for calls that may block in the kernel for
minutes or for good (a port's open whose driver hangs, or a ``socket://`` port's host name; a
host name's lookup a DNS server never answers).

concurrent.futures' ThreadPoolExecutor joins its threads when the interpreter exits, even after
``shutdown(wait=False)`` (since Python 3.9 they are not daemon threads and an exit hook waits for
each): a daemon stopped by SIGTERM closed its store, said it stopped, then waited for each hung
call (resolv.conf's timeout times its attempts, up to 150 s a lookup; a tty's open for ever), until
systemd killed it at TimeoutStopSec, with no band monitored meanwhile if it was a restart
(tests/daemon/test_stop_while_blocked.py). These are daemon threads: the process ends with them
still blocked, and what they were doing is given up (nobody waits for it any more).
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple["Future[Any]", Callable[[], Any]]


class DetachedThreads(Executor):
    """Up to ``max_workers`` daemon threads named ``{name}_{i}``, made as calls need them; a call
    waits for a free one. ``shutdown`` as ThreadPoolExecutor's: the threads end once their call
    has returned (``cancel_futures``: calls not yet begun are dropped)."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._max, self._name = max_workers, name
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # threads done with their call, waiting for the next
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shut:
                raise RuntimeError(f"{self._name}: shut down, no new call")
            self._calls.put((future, functools.partial(fn, *args, **kwargs)))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max:
                thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return future

    async def call(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)`` in these threads, awaited from the running event loop (``asyncio.to_thread``
        for a pool of one's own: asyncio's default pool is joined at the exit)."""
        return await asyncio.get_running_loop().run_in_executor(self, fn, *args)

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            future, fn = call
            if future.set_running_or_notify_cancel():
                try:
                    result = fn()
                except BaseException as e:  # as ThreadPoolExecutor: the caller's to see
                    future.set_exception(e)
                else:
                    future.set_result(result)
            del call, future, fn  # nothing of a finished call kept while the thread waits
            self._idle.release()
        self._calls.put(None)  # the next thread's end too

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shut = True
            while cancel_futures:
                try:
                    call = self._calls.get_nowait()
                except queue.Empty:
                    break
                if call is not None:
                    call[0].cancel()
            self._calls.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
