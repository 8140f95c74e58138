"""A band session's run cancelled (its task, without ``stop``: asyncio.run's end cancels every task
left) ends there, whatever it awaited: on Python 3.11 ``asyncio.wait_for`` let the cancel go
unheeded when what it waited for completed in the same loop pass, and the run went on connecting
and streaming, with nothing left to end it (asyncio.run's end then waited for it for ever)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from spasmwatch.daemon.session import BandSession


class _Sink:
    """The session's sink, keeping nothing (``BandSession`` is what is tested)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


class _HeldLink:
    """A link whose first read waits for the test's ``answer``, the others answered at once; every call noted."""

    name = address = transport = "held"
    connected, mtu = True, 247

    def __init__(self) -> None:
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.calls: list[str] = []

    async def connect(self, timeout_s: float = 10.0) -> None:
        pass

    def read(self, uuid: str) -> asyncio.Future[bytes]:
        """Noted as it is asked for, not once its coroutine first runs (a pass later)."""
        self.calls.append(f"read {uuid}")
        if len(self.calls) == 1:
            return self.answer
        at_once: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        at_once.set_result(b"")
        return at_once

    async def secure(self) -> None:
        self.calls.append("secure")

    async def disconnect(self) -> None:
        self.calls.append("disconnect")

    async def write(self, uuid: str, data: bytes) -> None:
        self.calls.append(f"write {uuid}")

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        self.calls.append(f"subscribe {uuid}")

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        pass


@pytest.mark.parametrize("steps", range(4))
def test_a_session_cancelled_as_its_band_answers_ends(steps: int) -> None:
    """The band's first answer (its serial, ``_identify``) comes ``steps`` loop passes before the
    run's cancel (each of the reads after it answers at once). Old code: the run took an answer
    that came in its cancel's pass and went on (the next reads, the pairing, the sync's command)
    instead of ending."""

    async def main() -> None:
        link = _HeldLink()
        s = BandSession("crib", lambda: link, _Sink())  # type: ignore[arg-type]
        run = asyncio.create_task(s.run())
        while not link.calls:  # its first read waits for the answer
            await asyncio.sleep(0)
        link.answer.set_result(b"SW-0001")
        for _ in range(steps):
            await asyncio.sleep(0)
        run.cancel()
        asked = len(link.calls)
        await asyncio.wait((run,), timeout=5.0)
        assert run.cancelled()
        assert link.calls[asked:] == ["disconnect"]  # (run's end closes the link it held)

    asyncio.run(main())
