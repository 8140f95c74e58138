"""A flapping link, logged on change only (consts FLAP_UP_S, FLAP_LINKS, FLAP_SUMMARY_S).

A band's link that connects and drops seconds later, over and over (a loose connector, a band at
the edge of range), is retried after 1 s all the while: an alarm waits for it. Each drop was two
INFO lines (the drop and the return, ``BandSession._set``): ~1,600 lines an hour. ``FlapLog``
keeps the count: the drop and return are logged as before until FLAP_LINKS short links in a row
say the link flaps (one line), then go to debug; a summary of the drops every FLAP_SUMMARY_S
while any came; one line when a link stays up FLAP_UP_S (steady). Times are a monotonic clock's
(s): the durations are the link's, whatever the wall clock does.
"""

from __future__ import annotations

from dataclasses import dataclass

from spasmwatch.daemon import consts as K


def span(s: float) -> str:
    """A duration for a log line: '45 s', '10 min', '2 h 5 min'."""
    if s < 120:
        return f"{s:.0f} s"
    m = int(s // 60)
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60} min"


@dataclass
class FlapLog:
    up_s: float = K.FLAP_UP_S
    summary_s: float = K.FLAP_SUMMARY_S
    short: int = 0  # short links in a row (dropped within up_s)
    began: float = 0.0  # when the first of them dropped
    up_at: float | None = None  # when the current link began streaming (None: not linked)
    since: float | None = None  # when the flapping was said (None: not flapping)
    said_at: float = 0.0  # when its latest line (the flapping, a summary) was logged
    drops: int = 0  # drops since that line
    total: int = 0  # drops since the flapping began (its first short links too)

    @property
    def flapping(self) -> bool:
        return self.since is not None

    def up(self, now: float) -> None:
        """A link is streaming from ``now``."""
        self.up_at = now

    def dropped(self, now: float) -> str | None:
        """A streaming link dropped at ``now``: the line to log (the flapping said, or a summary
        due), "" while flapping with nothing to say, None when not flapping (log the drop)."""
        short = self.up_at is not None and now - self.up_at < self.up_s
        self.up_at = None
        if not short:  # (a long link ended the flapping when it passed up_s: ``steady``)
            self.short = 0
            return None
        self.short += 1
        if self.short == 1:
            self.began = now
        if self.since is None:
            if self.short < K.FLAP_LINKS:
                return None
            self.since = self.said_at = now
            self.total, self.drops = self.short, 0
            return (f"the link is flapping: {self.short} links in a row dropped within {span(self.up_s)}; reconnects "
                    f"go on at once, their drops logged every {span(self.summary_s)} until a link stays up {span(self.up_s)}")  # fmt: skip
        self.drops += 1
        self.total += 1
        if now - self.said_at < self.summary_s:
            return ""
        line = f"link dropped {self.drops} time{'s' if self.drops > 1 else ''} in the last {span(now - self.said_at)}"
        self.said_at, self.drops = now, 0
        return line

    def unstable(self, now: float) -> tuple[int, float] | None:
        """While flapping: the drops since it began (its first short links too) and the seconds
        since the first of them dropped, what the family is shown; None when not flapping."""
        if self.since is None:
            return None
        return self.total, now - self.began

    def steady_in(self, now: float) -> float | None:
        """Seconds until the flapping link up now passes up_s (None: none to wait for)."""
        if self.since is None or self.up_at is None:
            return None
        return max(0.0, self.up_at + self.up_s - now)

    def steady(self, now: float) -> str | None:
        """The line saying the flapping ended, once the link up now passed up_s; else None."""
        wait = self.steady_in(now)
        if wait is None or wait > 0:
            return None
        assert self.since is not None
        line = f"the link is steady again: up {span(self.up_s)}, after {self.total} drops in {span(now - self.began)}"
        self.since, self.short, self.drops, self.total = None, 0, 0, 0
        return line
