"""``timeouts.within``: ``asyncio.wait_for``'s result, exception and timeout, and a cancel that
comes in the pass where what it waits for completes raised, not lost (Python 3.11's wait_for
returned the result: tests/daemon/test_session_cancel.py)."""

from __future__ import annotations

import asyncio

import pytest
from cancels import cancel_after

from spasmwatch.timeouts import within


def test_within_gives_the_result_or_the_exception() -> None:
    async def fails() -> int:
        raise ValueError("no")

    async def main() -> None:
        assert await within(asyncio.sleep(0, 7), 5.0) == 7
        with pytest.raises(ValueError, match="no"):
            await within(fails(), 5.0)

    asyncio.run(main())


def test_within_times_out_with_what_it_waited_for_cancelled() -> None:
    async def main() -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError):
            await within(never, 0.01)
        assert never.cancelled()

    asyncio.run(main())


@pytest.mark.parametrize("steps", range(3))
def test_a_cancel_as_what_it_waits_for_completes_is_raised(steps: int) -> None:
    """The answer comes ``steps`` passes before the cancel: a cancel that found the wait not yet
    returned ends it cancelled."""
    async def main() -> None:
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        waiting = asyncio.create_task(within(answer, 5.0))
        await asyncio.sleep(0)
        answer.set_result(1)
        await cancel_after(waiting, answer, steps)  # (a cancel taken: ended cancelled; else it had returned the answer)

    asyncio.run(main())
