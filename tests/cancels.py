"""The cancel sweeps of the tests of Python 3.11's lost cancel (``spasmwatch.timeouts.within``,
docs/engineering.md): what a wait under test waits for completes, ``steps`` loop passes go by,
then the waiting task is cancelled; a cancel it took must end it cancelled."""

from __future__ import annotations

import asyncio
from typing import Any


async def task_of(qualname: str) -> asyncio.Task[Any]:
    """The running task of the coroutine named ``qualname`` (one a wait under test made to wait
    for), once there is one."""
    while True:
        task = next((t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == qualname), None)
        if task is not None:
            return task
        await asyncio.sleep(0)


async def cancel_after(work: asyncio.Future[Any], inner: asyncio.Future[Any], steps: int) -> bool:
    """``work`` cancelled ``steps`` loop passes after ``inner`` (what it waits for) is done, and
    ended; whether the cancel was taken (False: ``work`` had returned already). Asserts that ``work``
    ended cancelled exactly when it took the cancel."""
    while not inner.done():
        await asyncio.sleep(0)
    for _ in range(steps):
        await asyncio.sleep(0)
    asked = work.cancel()
    await asyncio.wait((work,), timeout=10)
    assert work.cancelled() == asked, (work, asked)
    return asked
