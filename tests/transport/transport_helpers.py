"""Helpers shared by the transport tests (a module of its own: every test folder has a conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
N_SPASMS = 14


def run(coro: Coroutine[Any, Any, T], timeout_s: float = 60) -> T:
    """Run one test's async body; it stops by itself after ``timeout_s`` whatever happens."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout_s)

    return asyncio.run(bounded())


async def until(pred: Callable[[], bool], timeout_s: float = 20, what: str = "condition") -> None:
    async def poll() -> None:
        while not pred():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), timeout_s)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
