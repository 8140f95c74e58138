"""systemd's notify protocol (sd_notify) and a watchdog fed by the daemon's own progress.

No libsystemd: the protocol is one datagram of ``KEY=value`` lines to the AF_UNIX socket
named by ``$NOTIFY_SOCKET`` (a path, or an abstract name when it starts with '@'). Without
that variable (not started by systemd with ``Type=notify``) every call here does nothing.

The watchdog pings (``WATCHDOG=1``) only while the daemon's periodic work progresses
(``progress()``, the count of the daemon's completed ticks, grows): a daemon whose event
loop is blocked, or whose ticker died or keeps failing, stops pinging, and systemd
(``WatchdogSec=``) kills and restarts it. A bare timer would keep a hung daemon alive.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, MutableMapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends notify messages to one socket; a failed send is logged once, never raised (a
    monitor must not stop because its service manager went away)."""

    def __init__(self, address: str) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self._failed = False

    @classmethod
    def from_env(cls, environ: MutableMapping[str, str] | None = None) -> Notifier | None:
        """The notifier ``$NOTIFY_SOCKET`` names (removed from the environment, as
        ``sd_notify(unset_environment=1)`` does, so the sound player and other children do not
        inherit it), or None. A ``vsock:`` address (a VM's manager) is not supported: logged."""
        env = os.environ if environ is None else environ
        address = env.pop("NOTIFY_SOCKET", "")
        if not address:
            return None
        if not (address.startswith("/") or address.startswith("@")):
            log.warning("NOTIFY_SOCKET=%s: not a path or an abstract socket name: no notifications sent", address)
            return None
        return cls(address)

    def send(self, message: str) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.sendto(message.encode("utf-8"), self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("cannot notify the service manager at %r: %s", self.address.lstrip("\0"), exc)
            self._failed = True
            return False
        return True


def watchdog_interval_s(environ: MutableMapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The ping period systemd asks for (``WatchdogSec=``): half of ``$WATCHDOG_USEC``, as
    sd_watchdog_enabled(3) advises; None when the watchdog is off or meant for another
    process (``$WATCHDOG_PID`` set and not ours) or the value is not a positive integer.
    Both variables are removed from the environment (children must not ping for us)."""
    env = os.environ if environ is None else environ
    usec, wpid = env.pop("WATCHDOG_USEC", ""), env.pop("WATCHDOG_PID", "")
    if not usec:
        return None
    if wpid and (not wpid.isdigit() or int(wpid) != (os.getpid() if pid is None else pid)):
        return None
    if not usec.isdigit() or int(usec) == 0:
        log.warning("WATCHDOG_USEC=%s: not a positive integer: watchdog pings off", usec)
        return None
    return int(usec) / 2e6


class Watchdog:
    """Is the daemon's work progressing? ``progress()`` is a counter the daemon raises each
    time its periodic work completes; alive while it last rose no more than ``late_s`` ago
    (by ``clock``, monotonic seconds)."""

    def __init__(self, progress: Callable[[], int], late_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.progress = progress
        self.late_s = late_s
        self.clock = clock
        self._seen = progress()
        self._seen_t = clock()

    def alive(self) -> bool:
        now, count = self.clock(), self.progress()
        if count != self._seen:
            self._seen, self._seen_t = count, now
        return now - self._seen_t <= self.late_s

    def stalled_for_s(self) -> float:
        return self.clock() - self._seen_t


async def keep_alive(notifier: Notifier, watchdog: Watchdog, interval_s: float) -> None:
    """Ping every ``interval_s`` while ``watchdog`` says the daemon progresses; log when the
    pings stop and when they resume (once each, not per ping)."""
    pinging = True
    while True:
        alive = watchdog.alive()
        if alive:
            notifier.send("WATCHDOG=1")
        if alive != pinging:
            if alive:
                log.warning("the daemon's work progresses again: watchdog pings resumed")
            else:
                log.error(
                    "the daemon's periodic work has not completed for %.0f s: watchdog pings stopped, "
                    "the service manager will restart it", watchdog.stalled_for_s(),
                )  # fmt: skip
            pinging = alive
        await asyncio.sleep(interval_s)


class StatusNotes:
    """``STATUS=`` lines, sent on change only (``systemctl --user status`` shows the latest)."""

    def __init__(self, notifier: Notifier | None) -> None:
        self.notifier = notifier
        self.last: str | None = None

    def __call__(self, text: str) -> None:
        text = " ".join(text.split())  # one line: a newline would start another KEY=value
        if self.notifier is not None and text != self.last:
            self.last = text
            self.notifier.send(f"STATUS={text}")


class Starting:
    """A long step of the start before READY=1 (the store's copy and migration after an upgrade), told to
    the service manager as it advances: each telling sends ``EXTEND_TIMEOUT_USEC=`` (systemd 236 and
    later: the start may go on ``extend_s`` past now, beyond TimeoutStartSec=; an older one ignores the
    line) with ``STATUS=`` saying what is done. Sent at once when the step changes, else at most every
    ``every_s`` (by ``clock``, monotonic s), which is shorter than ``extend_s``: the start is extended
    only while its work is told to advance (per chunk copied, never by a timer), so a step stalled for
    ``extend_s`` is ended by systemd as it was before. Called from the open's thread and its progress
    watcher, one at a time (store/_db.py ``reading``)."""

    def __init__(self, notifier: Notifier, extend_s: float, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not every_s < extend_s:
            raise ValueError(f"every_s ({every_s:g} s) must be shorter than extend_s ({extend_s:g} s): the start would time out between two")
        self.notifier = notifier
        self.extend_us = int(extend_s * 1e6)
        self.every_s = every_s
        self.clock = clock
        self._step: str | None = None
        self._sent_t = -float("inf")

    def __call__(self, step: str, text: str) -> None:
        now = self.clock()
        if step == self._step and now - self._sent_t < self.every_s:
            return
        self._step, self._sent_t = step, now
        self.notifier.send(f"EXTEND_TIMEOUT_USEC={self.extend_us}\nSTATUS={' '.join(text.split())}")
