"""Run a generator in a worker thread, a bounded number of items ahead.

pyarrow's streaming CSV reader parses a block only when asked for it, in the
caller's thread (measured: no overlap with the consumer's work). Parsing in a
worker thread lets it run on the second core while the detector consumes the
previous chunk; pyarrow and numpy release the GIL while they work. The queue
bound keeps memory bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from typing import Generic, TypeVar

T = TypeVar("T")

_POLL_S = 0.05


class _Done:
    """Queued after the last item."""


class _Failed:
    """Carries the worker's exception to the consumer, which re-raises it."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Pump(Generic[T]):
    def __init__(self, source: Generator[T, None, None], depth: int) -> None:
        self.source = source
        self.queue: queue.Queue[T | _Done | _Failed] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for item in self.source:
                if not self._put(item) or self.stop.is_set():
                    return
            self._put(_Done())
        except BaseException as exc:  # noqa: BLE001 - every failure belongs to the consumer
            self._put(_Failed(exc))
        finally:
            self.source.close()

    def _put(self, item: T | _Done | _Failed) -> bool:
        # Poll so an abandoned iteration (stop set) never leaves the worker blocked.
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def halt(self) -> None:
        self.stop.set()
        while True:  # free the worker if it waits on a full queue
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return


def prefetch(source: Generator[T, None, None], depth: int) -> Generator[T, None, None]:
    """Yield source's items, produced up to `depth` ahead in a worker thread."""
    pump = _Pump(source, depth)
    worker = threading.Thread(target=pump.run, name="spasmwatch-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = pump.queue.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        pump.halt()
        worker.join()
