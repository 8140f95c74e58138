"""An event the band holds that a streaming link did not deliver (a notification lost on its way, a
record the band skipped) is asked for again on the same link, through the real parts: the band under
micropython, the simulated radio, the daemon's session and SQLite (docs/host.md "Events missed on a
link"). Until 2026-12-06 it waited for the next connection, hours away on a link that holds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.session import State
from swcore import protocol as P

from synthetic import supine, write_csv

from .conftest import RATE_HZ, rig

DEVICE = "band0000"
DROPPED = 1  # the band's seq whose live notification the link loses


class LosesEvents:
    """A link that loses the first notification of event ``once`` (the host's stack dropped it) and
    every one of event ``always`` (a record garbled each time); it notes the BACKFILLs sent on it."""

    def __init__(self, inner: Any, once: int, always: int | None = None) -> None:
        self.inner = inner
        self.always = always
        self.once = once
        self.lost: set[int] = set()  # the seqs it lost a notification of
        self.backfills: list[int] = []  # the from_seq of each BACKFILL written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def write(self, uuid: str, data: bytes) -> None:
        op, args = P.decode_command(bytes(data))
        if op == P.OP_BACKFILL:
            self.backfills.append(args[0])
        await self.inner.write(uuid, data)

    async def subscribe(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        def notified(data: bytes) -> None:
            rec = P.decode(bytes(data)) if uuid == P.EVENTS_UUID else {}
            seq = rec.get("seq") if rec.get("type") == "event" else None
            if seq is not None and (seq == self.always or (seq == self.once and seq not in self.lost)):
                self.lost.add(seq)
                return
            callback(data)

        await self.inner.subscribe(uuid, notified)


def test_an_event_lost_on_a_streaming_link_is_fetched_on_that_link(tmp_path: Path, quick_cluster_csv: Path) -> None:
    links: list[LosesEvents] = []

    def wrap(link: Any) -> Any:
        links.append(LosesEvents(link, once=DROPPED))
        return links[-1]

    async def main() -> None:
        async with rig(tmp_path, quick_cluster_csv, speed=4, wrap_link=wrap) as r:
            d = r.daemon
            assert d is not None
            # The cluster's 4 spasms, logged and sent live from 8 s of band time (2 s at speed 4).
            await r.wait_for(lambda: bool(links) and bool(links[0].lost), 60, "the lost notification")
            # Seen missing at the next record after it (an event or STATUS within 10 s of band time,
            # 2.5 s here), then asked for LIVE_GAP_S later (the wait below leaves a loaded machine slack).
            await r.wait_for(lambda: DROPPED in {e.seq for e in r.store.events(DEVICE)}, 2 * K.LIVE_GAP_S + 20, "the lost event stored")
            assert len(links) == 1 and d.bands[0].session.state is State.STREAMING, "on the same link"
            assert links[0].backfills[1:] == [DROPPED], "after the connect's, one BACKFILL, from the missing seq"
            await r.wait_for(lambda: {e.seq for e in r.store.events(DEVICE)} >= set(range(4)), 30, "every event")
            assert r.store.lost_ranges(DEVICE) == [], "nothing lost"

    asyncio.run(asyncio.wait_for(main(), 120))


SPREAD_SPASMS_S = (8.0, 14.0, 90.0, 96.0)  # two, then two more over a minute later (band s)


@pytest.fixture(scope="module")
def spread_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """110 s of a supine baby breathing with spasms at SPREAD_SPASMS_S."""
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=110.0, spasms=SPREAD_SPASMS_S, seed=5)
    return write_csv(tmp_path_factory.mktemp("rec") / "spread.csv", t, acc, gyro)


def test_an_event_a_link_never_delivers_does_not_keep_a_later_loss_waiting(
    tmp_path: Path, spread_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by review of 07fd2e8a: the link never delivers seq 1 (asked for again once, lost again),
    then loses seq 2's live notification. The link's count stood at seq 1 for the rest of the link and
    every later event went into its set past it (growing all night); seq 1 already asked for, the
    link asked for nothing again: seq 2 waited for the next connection (old code: not stored within
    the wait below). Now a seq still missing LIVE_GAP_S after the BACKFILL that asked for it again is
    left to the next connection, and the count goes on past it."""
    links: list[LosesEvents] = []

    def wrap(link: Any) -> Any:
        links.append(LosesEvents(link, always=1, once=2))
        return links[-1]

    async def main() -> None:
        async with rig(tmp_path, spread_csv, speed=2, wrap_link=wrap) as r:
            d = r.daemon
            assert d is not None
            await r.wait_for(lambda: bool(links) and 2 in links[0].lost, 90, "seq 2's notification lost")
            await r.wait_for(lambda: 2 in {e.seq for e in r.store.events(DEVICE)}, 2 * K.LIVE_GAP_S + 20, "the lost seq 2 stored")
            assert len(links) == 1 and d.bands[0].session.state is State.STREAMING, "on the same link"
            assert 1 not in {e.seq for e in r.store.events(DEVICE)}, "never delivered"
            assert links[0].backfills[1:] == [1, 1], "the connect's, one for seq 1, one for seq 2 (from the store's first missing)"

    with caplog.at_level(logging.INFO, logger="spasmwatch"):
        asyncio.run(asyncio.wait_for(main(), 180))
    assert sum("asking the band again for seq 1" in m for m in caplog.messages) == 1, "seq 1 asked for once on the link"


def test_a_link_keeps_at_most_live_ahead_max_seqs_past_a_missing_one(tmp_path: Path) -> None:
    """Found by review of 07fd2e8a: the seqs a link delivered past a missing one were kept in a set
    that grew with every event for the rest of the link (old code: LIVE_AHEAD_MAX + 100 kept). Past
    LIVE_AHEAD_MAX (the band's log) the missing ones are overwritten: the link stops waiting."""
    from spasmwatch.daemon.daemon import BandSpec, Daemon
    from spasmwatch.store import Store
    from synthetic import HandClock

    with Store(tmp_path / "s.db") as store:
        session = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(0.0)).bands[0].session  # type: ignore[arg-type,return-value]  # never streams
        for seq in range(1, K.LIVE_AHEAD_MAX + 101):  # seq 0 never delivered
            session._count_delivered({"type": "event", "seq": seq})
        assert len(session._ahead) <= K.LIVE_AHEAD_MAX
        session._count_delivered({"type": "event", "seq": K.LIVE_AHEAD_MAX + 101})
        assert session._run_end == K.LIVE_AHEAD_MAX + 102 and not session._ahead, "the mark past the seqs delivered"
