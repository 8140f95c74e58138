"""A local channel's command (``_proc.run``) cancelled as the command exits: the cancel is raised.
On Python 3.11 ``asyncio.wait_for`` returned the exit code of a command whose output completed in
the cancel's loop pass, and the sound channel closed by a stop (or retired by a reload) went on to
its next player and the terminal bell: an alarm sound after the daemon had stopped."""

from __future__ import annotations

import asyncio

import pytest
from cancels import cancel_after, task_of

from spasmwatch.alerts.channels._proc import run


@pytest.mark.parametrize("steps", range(3))
def test_a_command_cancelled_as_it_exits_raises_the_cancel(steps: int) -> None:
    """The command's output is all read (its exit seen) ``steps`` loop passes before the cancel."""

    async def main() -> None:
        running = asyncio.create_task(run(["false"], 10.0))
        output = await task_of("_Child.output")  # the wait's own task for the command's output (its exit seen too)
        asked = await cancel_after(running, output, steps)  # (False: run had returned the exit code already)
        assert running.done() and running.cancelled() == asked

    asyncio.run(main())
