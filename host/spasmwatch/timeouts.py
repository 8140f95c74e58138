"""``within``: ``asyncio.wait_for`` that never loses a cancel.

On Python 3.11 (the project's floor; fixed in 3.12) ``wait_for`` catches the CancelledError of a
cancel that comes in the loop pass where what it waits for completes, and returns its result: the
task goes on as if it had never been cancelled. A band session cancelled as its band answered went
on connecting and streaming, with nothing left to end it (tests/daemon/test_session_cancel.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(aw: Awaitable[T], timeout_s: float) -> T:
    """``aw``'s result, or its exception; TimeoutError once ``timeout_s`` has gone by (``aw``
    cancelled, and waited for: nothing of it runs after this returns, as with ``wait_for``). A
    cancel of the caller cancels ``aw`` too, and is raised even when ``aw`` completed in its pass."""
    inner = asyncio.ensure_future(aw)
    try:
        done, _ = await asyncio.wait((inner,), timeout=timeout_s)
    except asyncio.CancelledError:
        await _cancelled(inner)
        raise
    if not done:
        await _cancelled(inner)
        if inner.cancelled():
            raise TimeoutError
    return inner.result()  # (completed as it was cancelled: its result stands, as wait_for's)


async def _cancelled(inner: asyncio.Future[T]) -> None:
    """``inner`` cancelled and ended (its own cleanup may take passes); its exception read, as
    asyncio logs one nobody read."""
    if inner.cancel():
        await asyncio.wait((inner,))
    if not inner.cancelled():
        inner.exception()
