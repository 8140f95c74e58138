"""A daemon with one band, "cot", that never connects, on a clock that stands still: for the tests
of what the daemon tells about its notification channels (failing, kept, secret-free)."""

from __future__ import annotations

from typing import Any

from spasmwatch.alerts.channels import Channel, RetrySettings
from spasmwatch.clock import SinceBoot
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store

NOW = 1_800_000_000.0  # the 03:00 alarm


class StillClock:
    """The daemon's clock (wall, mono) stopped at ``t``."""

    rate = 1.0

    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def wall(self) -> float:
        return self.t

    def mono(self) -> float:
        return 0.0

    def since_boot(self) -> SinceBoot | None:
        return None  # no since-boot reading: syncs placed as they were made


def _never() -> object:
    raise AssertionError("the band is not connected in these tests")


def cot_daemon(store: Store, channels: dict[str, Channel], t: float = NOW, retry: RetrySettings | None = None, **kw: Any) -> Daemon:
    """The band seen before (monitored, its status mirrored from the start); ``retry``: the
    dispatcher's, to fail fast; ``kw``: the Daemon's (``clock`` replaces the still one at ``t``)."""
    store.upsert_device("cot", name="cot", wall_s=NOW)
    kw.setdefault("clock", StillClock(t))
    d = Daemon(store, [BandSpec("cot", _never)], channels, **kw)  # type: ignore[arg-type]
    if retry is not None:
        d.dispatcher.retry = retry
    return d


def alarm(d: Daemon) -> int:
    """A cluster's third spasm through the engine: its alarm goes to every channel. Returns its id."""
    cluster = d.store.upsert_cluster("cot", "c1", NOW - 20, NOW, 3, NOW, None, False, wall_s=NOW)
    d.engine.on_spasm("cot", cluster, 3, started_t=NOW - 20)
    [a] = d.engine.snapshot()["alerts"]
    assert a["state"] == "ALARM", a
    return int(a["id"])
