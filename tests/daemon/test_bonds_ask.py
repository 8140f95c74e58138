"""A command the family asks for on the daemon's link ('spasmwatch bonds' through the daemon,
``BandSession.ask``) takes turns with the session's own commands, on the real firmware."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
