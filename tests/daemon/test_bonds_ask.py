"""A command the family asks for on the daemon's link ('spasmwatch bonds' through the daemon,
``BandSession.ask``) takes turns with the session's own commands, on the real firmware."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from cdcdaemon import serial_daemon
from heldbonds import revoke_answer_held

from swcore import protocol as P

from spasmwatch.alerts import NoticeKind
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


def test_a_revoke_the_band_is_slow_to_answer_does_not_hold_the_cluster_alarm(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """'bonds --revoke-others' asked as a cluster starts, the band's answer held (its flash write
    stalled). The session's own commands took turns with it: the stream waited for the turn to sync
    the band's clock (due at every record here, resync_s=0: hourly, at a step of the host's clock,
    or before asking again for a missing event in a live stream), and took no record meanwhile, the
    third spasm's included. Old code: no alarm until the revoke gave up (REQUEST_TIMEOUT_S, 10 s):
    the alarm came after the command line was told the band was not connected."""
    gate = tmp_path / "answer"

    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=4, resync_s=0.0, firmware=revoke_answer_held(tmp_path, gate)) as r:
            assert r.daemon is not None
            session = r.daemon.bands[0].session
            await r.wait_for(lambda: session.state is State.STREAMING, 60, "streaming")
            await r.daemon.bonds("band0", False, "test")  # (after the daemon's own COUNT: they take turns)
            assert not r.notices(NoticeKind.CLUSTER_ALARM), "the revoke must be asked before the cluster"
            revoke = asyncio.ensure_future(r.daemon.bonds("band0", True, "test"))
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM) or revoke.done(), 60, "the alarm")
            assert not revoke.done(), revoke.exception() or revoke.result()
            gate.touch()
            assert (await revoke)["code"] == P.OK
            assert session.state is State.STREAMING

    asyncio.run(main())
