"""A command the family asks for on the daemon's link ('spasmwatch bonds' through the daemon,
``BandSession.ask``) takes turns with the session's own commands, on the real firmware."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from cdcdaemon import serial_daemon

from swcore import protocol as P

from spasmwatch.daemon.session import State

from .conftest import rig


def test_asked_commands_take_turns_with_the_session_s_own(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """resync_s=0: the session syncs the band's clock again at every record it takes, TIME_SYNC
    after TIME_SYNC all along the stream, while 'bonds' is asked 12 times at once. Each command
    drains the RESP queue and waits on it: without turns one took or threw away another's answer
    and the asker was told the band was not connected after BAND_ASK_S."""

    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=4, resync_s=0.0) as r:
            assert r.daemon is not None
            session = r.daemon.bands[0].session
            await r.wait_for(lambda: session.state is State.STREAMING, 60, "streaming")
            answers = await asyncio.gather(*(r.daemon.bonds("band0", False, "test") for _ in range(12)))
            assert [(a["code"], a["arg"]) for a in answers] == [(P.OK, 1 | P.BONDS_ASKER_KNOWN)] * 12, answers
            assert session.state is State.STREAMING

    asyncio.run(main())


def test_a_band_on_usb_is_not_asked_for_its_bonds(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """The daemon's own API, as any client posts it (the command line refuses first): over USB this
    computer holds no bond, so the band's count less one would hide a stranger's one bond, and a
    revocation could keep none. Old code: it was asked, and its answer set other_bonds (raised or
    cleared by the count less one), though the daemon's own COUNT skips USB."""

    async def main() -> None:
        async with serial_daemon(quick_cluster_csv, tmp_path, "cot", "usb00b0d", idle_exit_ms=60_000) as r:
            session = r.daemon.bands[0].session
            await _until(lambda: session.state is State.STREAMING)
            for revoke in (False, True):
                with pytest.raises(ValueError, match=r'^cot is on USB \(transport = "serial"\): this computer holds no bond there'):
                    await r.daemon.bonds("cot", revoke, "test")
            assert [a for a in r.daemon.status()["alerts"] if a["kind"] == "other_bonds"] == []
            assert session.state is State.STREAMING

    asyncio.run(main())


async def _until(ok: Callable[[], bool]) -> None:
    for _ in range(600):
        if ok():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the band never streamed")
