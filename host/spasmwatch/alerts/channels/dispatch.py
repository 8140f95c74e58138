"""Send each notification to the right channels, concurrently, with retries.

Each channel serves two lanes (``Lane``): a cluster's notifications (its warning to its end, a
false alarm, and the test alarm) in one, band notices and the daily summary in the other. Neither
waits for the other: a "battery low" a slow receiver holds, or that is retried with backoff, never
holds a cluster's alarm on that channel (found by the bonds review: it held it for up to ~87 s).
In a lane, sends start in submit order, one at a time, and an alert's each once the one before it
is done, retries and all (an ALARM never lands after its CLOSED on the MQTT retained state). A
send has its lane to itself for its first attempt only, up to ``RetrySettings.turn_s``: a receiver
that answers gets the lane's sends in order, each answered before the next goes (a cluster's
"over" before the next cluster's alarm); one slow to answer, or refusing and retried, no longer
holds another alert's send (an earlier cluster's push being retried held a new cluster's alarm for
up to ~87 s: its first alarm, the most important message the tool sends). A slow or failing
channel never delays the others, the local sound alarm included. MQTT's status and mirror
publishes take no lane: the channel itself keeps its retained state the latest (mqtt.py,
publish_latest).

``failing`` is the one record of the channels whose latest delivery failed: the dispatcher's own
deliveries, and the sends that go around it (MQTT's retained status, ``note_sent``). Given a
``FailingStore`` (the daemon's Store), it is kept on disk, so a restarted daemon still shows them.
A failure belongs to the channel as it was configured then (its settings' ``fingerprint``): one
whose settings changed since (a reload, an edit and a restart) is ``changed``, not failing, until
it sends again.

``resend_kept`` sends again, on the channels that keep what they send and leave the
resending to the dispatcher (webhook, ntfy: outbox.py), what a receiver down past the
retries or a daemon stopped left kept: a cluster's first, each lane oldest first, through the
same lanes and retries. What they keep is kept as it is submitted (``keep``), before its send
waits for its turn in its lane.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from enum import Enum
from typing import Protocol, TypeVar

from spasmwatch.alerts.channels._http import HttpChannel
from spasmwatch.alerts.channels.base import Channel, ChannelError, fingerprint
from spasmwatch.alerts.channels.fingerprint_key import process_key
from spasmwatch.alerts.channels.outbox import KeepsOutgoing, ResendsThroughDispatcher
from spasmwatch.alerts.model import CLUSTER_KINDS, Audience, Notification, NoticeKind, Urgency
from spasmwatch.store.rows import FailingRow
from spasmwatch.urls import scrub_urls

log = logging.getLogger("spasmwatch.alerts.dispatch")
T = TypeVar("T")

# How long a send's first attempt has its lane to itself (s; ``RetrySettings.turn_s``): a receiver
# answering within it gets the lane's sends in submit order, each answered before the next goes (a
# cluster's "over" before the next cluster's alarm, never after it as if that alarm were over).
# ntfy.sh and a home webhook answer well within it, a broker's PUBACK in ms. A send slower than
# that, or refused and retried, then lets the next alert's go (a new cluster's alarm waited up to
# ~87 s behind an earlier cluster's push being retried); its own alert's later sends wait for it.
LANE_TURN_S = 2.0
# How long a push waits for the sync of the write that records it (s; ``send_after``): a slow SD
# card's fsync takes about a second (bench/slow_disk.py: the alarm 1.99 s after the third spasm at a
# 1 s fsync), but a disk hung in its fsync (a card failing, a USB disk pulled) held every alarm for
# good. Past it the push goes unrecorded on disk: after a power cut it may go twice, never not at
# all (the spasms themselves stay in the band's flash log until backfilled).
DISK_WAIT_S = 5.0
# A resend pass's send under way at a stop is given this long for its answer before the pass is
# cut: cut at once, a push the receiver had (its answer on the way) stayed kept and went again at
# the next start. Its 503 backoff is not waited out: the stop is not held for a receiver that is away.
PASS_GRACE_S = 2.0


class FailingStore(Protocol):
    """Where the failing channels outlive a daemon restart (the daemon's Store; docs/store.md)."""

    def keep_failing(self, channel: str, since_wall_s: float, error: str, fingerprint: str | None = None) -> None: ...

    def forget_failing(self, channel: str) -> bool: ...

    def failing_channels(self) -> list[FailingRow]: ...


@dataclass(frozen=True)
class Caregiver:
    """A person and the channels that reach them. Everyone gets ALARMs, whatever ``min_urgency``."""

    name: str
    channels: tuple[str, ...]
    min_urgency: Urgency = Urgency.LOW


@dataclass(frozen=True)
class RetrySettings:
    """Backoff for network channels: ``attempts`` tries, delays first, first*factor, ... up to max."""

    attempts: int = 4
    first_delay_s: float = 1.0
    factor: float = 2.0
    max_delay_s: float = 30.0
    attempt_timeout_s: float = 20.0  # a hung channel counts as a failed attempt
    turn_s: float = LANE_TURN_S  # a first attempt's hold of its lane at most

    def delay_s(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.first_delay_s * self.factor ** (attempt - 1)))


@dataclass(frozen=True)
class Delivery:
    """The outcome of one notification on one channel (the daemon stores these)."""

    notification_id: int
    alert_id: int
    channel: str
    caregivers: tuple[str, ...]  # empty for a house channel (sound, MQTT) nobody is named on
    ok: bool
    attempts: int
    error: str | None
    t: float


OnDelivery = Callable[[Delivery], object]


class Lane(Enum):
    """A channel's queues, served side by side (``_Lane``): an alert's notifications are all of one."""

    CLUSTER = "cluster"  # a cluster's alert, warning to end (CLUSTER_KINDS), and the test alarm that stands for one
    NOTICE = "notice"  # band notices (battery low, disconnected) and the daily summary: never an alarm


def lane(n: Notification) -> Lane:
    return Lane.CLUSTER if n.kind in CLUSTER_KINDS or n.kind is NoticeKind.TEST else Lane.NOTICE


@dataclass(eq=False)  # each waiting send is itself (``list.remove``)
class _Ticket:
    alert_id: int


class _Lane:
    """One of a channel's lanes: its sends start in submit order, one at a time, each of an alert
    only once that alert's send before it is done (all its retries). A send has the lane to itself
    until its turn ends (its first attempt over, or ``turn_s`` passed); its retries, or the rest of
    a slow answer, then go on beside the lane's next sends."""

    def __init__(self) -> None:
        self._waiting: list[_Ticket] = []  # in submit order
        self._sending: set[int] = set()  # the alerts with a send under way
        self._turn: _Ticket | None = None  # the send whose turn it is
        self._changed = asyncio.Event()  # set (and replaced) at each change

    @asynccontextmanager
    async def send(self, alert_id: int, turn_s: float) -> AsyncIterator[Callable[[], None]]:
        """Wait for this send's turn, and yield what ends it early (its first attempt failed)."""
        me = _Ticket(alert_id)
        self._waiting.append(me)
        try:
            while self._next() is not me:
                await self._changed.wait()
        finally:
            self._waiting.remove(me)  # (cancelled too: a pass stopped)
            self._change()
        self._sending.add(alert_id)
        self._turn = me

        def end_turn() -> None:
            if self._turn is me:
                self._turn = None
                self._change()

        timer = asyncio.get_running_loop().call_later(turn_s, end_turn)
        try:
            yield end_turn
        finally:
            timer.cancel()
            end_turn()
            self._sending.discard(alert_id)
            self._change()

    def _next(self) -> _Ticket | None:
        """The send that may start now: none during a turn, else the first whose alert has none under way."""
        if self._turn is not None:
            return None
        return next((t for t in self._waiting if t.alert_id not in self._sending), None)

    def busy(self) -> bool:
        return bool(self._waiting or self._sending)

    async def idle(self) -> None:
        """Once no send is waiting for this lane or under way in it."""
        while self.busy():
            await self._changed.wait()

    def _change(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _lanes() -> dict[Lane, _Lane]:
    return {x: _Lane() for x in Lane}


def _check_caregivers(channels: Mapping[str, Channel], caregivers: Sequence[Caregiver]) -> None:
    """ValueError for a caregiver naming a channel not in ``channels``: at the start and at each
    reload, before anything is routed (the config loader says it first, in the family's words)."""
    for cg in caregivers:
        unknown = [c for c in cg.channels if c not in channels]
        if unknown:
            raise ValueError(f"caregiver {cg.name!r}: unknown channel(s) {', '.join(unknown)}")


class Dispatcher:
    """``submit`` (sync, for the engine) or ``await dispatch``; ``drain`` waits for all sends.

    Channels no caregiver names are house channels (the sound alarm, MQTT):
    they get every notification their ``min_urgency`` lets through.
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        caregivers: Sequence[Caregiver] = (),
        retry: RetrySettings | None = None,
        clock: Callable[[], float] = time.time,
        on_delivery: OnDelivery | None = None,
        keep: int = 500,
        failing_store: FailingStore | None = None,
        fingerprint_key: bytes | None = None,
    ) -> None:
        _check_caregivers(channels, caregivers)
        self.channels = dict(channels)
        self.caregivers = list(caregivers)
        self.retry = retry or RetrySettings()
        self.clock = clock
        self.on_delivery = on_delivery
        self.deliveries: deque[Delivery] = deque(maxlen=keep)
        self._lanes = {name: _lanes() for name in self.channels}
        self._alerted: OrderedDict[int, set[str]] = OrderedDict()  # alert id -> channels sent anything about it
        self._keep_alerted = 1000  # follow-ups come within hours; old alerts are forgotten
        self._tasks: set[asyncio.Task[Delivery]] = set()
        # Each channel's heads-up (cluster_warning) sends under way, by (channel, alert id): the
        # alert's next notification (its alarm) cancels its own (_supersede).
        self._heads_up: dict[tuple[str, int], tuple[asyncio.Task[Delivery], str]] = {}  # (its send, its key)
        self._in_flight: dict[str, set[str]] = {name: set() for name in self.channels}  # keys being delivered
        self._resending: dict[str, asyncio.Task[None]] = {}  # channel -> its resend pass
        self._closing = False  # a pass sends nothing more once the dispatcher is closing
        self._kept_ahead: str | None = None  # the key ``keep`` kept for the submit that follows it
        self._on_disk_ahead: tuple[str, concurrent.futures.Future[None]] | None = None  # ``send_after``'s
        # Channel -> its first failed delivery in a row (wall s, error, the settings' fingerprint):
        # while it fails, its retries and its resend passes' failures go to debug (a receiver away
        # all night made 526 journal lines an hour: a pass a minute on webhook and ntfy, 4 lines
        # each); the return says how long. One under other settings than the channel's now is
        # ``changed``, not failing: a new ntfy server was shown with the old one's error.
        self._failures: dict[str, FailingRow] = {}
        self.failing_store = failing_store
        # This installation's key of the settings' fingerprints (fingerprint_key.py; None: this process's own).
        self.fingerprint_key = fingerprint_key or process_key()
        self._restore_failing()

    def failing(self) -> dict[str, tuple[float, str]]:
        """Channels whose latest delivery failed, as they are configured now: name -> (wall s of the
        first failure in a row, its error). A family must see that its phone gets no alarms, not
        only the journal."""
        return {name: (r.since_wall_s, r.error) for name, r in self._failures.items() if self._as_configured(r)}

    def changed(self) -> dict[str, tuple[float, str]]:
        """Channels whose latest delivery failed under other settings than theirs now (a new server,
        a fixed URL), and that have sent nothing since: name -> (wall s, error) of that failure.
        Whether they deliver is not known until they send: a test alarm tells."""
        return {name: (r.since_wall_s, r.error) for name, r in self._failures.items() if not self._as_configured(r)}

    def _is_failing(self, name: str) -> bool:
        r = self._failures.get(name)
        return r is not None and self._as_configured(r)

    def _as_configured(self, r: FailingRow) -> bool:
        """Whether failure ``r`` was under ``r.channel``'s settings now (not known, kept by an older
        spasmwatch: taken as so, the banner that makes a family test it rather than silence)."""
        now = self._fingerprint(r.channel)
        return r.fingerprint is None or now is None or now == r.fingerprint

    def _fingerprint(self, name: str) -> str | None:
        """Channel ``name``'s settings' fingerprint (None: none, or not configured: a send of a
        channel a reload retired, as its MQTT mirror's last publish)."""
        ch = self.channels.get(name)
        return None if ch is None else fingerprint(ch, self.fingerprint_key)

    def note_sent(self, name: str, what: str, error: str | None) -> bool:
        """The outcome of a send on channel ``name`` that goes around the dispatcher (MQTT's
        retained status and restored alarms, published by the daemon's mirror): it counts as a
        delivery's for ``failing``. Logged on a change only: a failure at WARNING when the channel
        was not failing yet, at DEBUG while it is (a broker away all night is one line, not one
        per status change). Returns whether ``failing`` changed."""
        t = self.clock()
        before = self._mark(name, error, t)
        if error is not None:
            log.log(logging.DEBUG if before is not None else logging.WARNING, "%s: %s not published: %s", name, what, error)
        return (before is None) != (error is None)

    def note_unable(self, name: str, error: str) -> bool:
        """Channel ``name`` found unable to deliver anything before it is asked to (a sound channel on
        a computer with no audio player: the daemon checks at its start and each reload): failing, as
        after a delivery that failed (kept from its first failure in a row), until it delivers or
        ``forget_unable``. Not logged here: the caller says it once, in its words. Returns whether
        ``failing`` changed."""
        return self._mark(name, error, self.clock()) is None

    def forget_unable(self, name: str, cause: str) -> bool:
        """``name``'s failure for want of something (``cause`` in its error: no audio player) is
        forgotten once that is there: the channel is then as one not yet asked to send, which a test
        alarm checks. A failure of another cause, or under other settings (``changed``: to be tested),
        stays. Returns whether it was forgotten."""
        r = self._failures.get(name)
        if r is None or cause not in r.error or not self._as_configured(r):
            return False
        del self._failures[name]
        self._keep_failing(name, "forget it", lambda s: s.forget_failing(name))
        return True

    def _mark(self, name: str, error: str | None, t: float) -> tuple[float, str] | None:
        """``name``'s latest outcome (``error`` None: delivered) into ``failing``, and the store's copy
        of it; returns its failure before (None: it was not failing). A first failure opens a run,
        kept until a delivery ends it (a later failure's error does not replace the first's)."""
        before = self._failures.get(name)
        if before is not None and not self._as_configured(before):  # its first outcome on its settings now
            del self._failures[name]
            self._keep_failing(name, "forget it", lambda s: s.forget_failing(name))
            before = None
        if error is None and before is not None:
            del self._failures[name]
            self._keep_failing(name, "forget it", lambda s: s.forget_failing(name))
            log.info("%s: delivering again after %.0f min of failures (first: %s)", name, (t - before.since_wall_s) / 60, before.error)
        elif error is not None and before is None:
            row = FailingRow(name, t, error, self._fingerprint(name))
            self._failures[name] = row
            self._keep_failing(name, "keep it", lambda s: s.keep_failing(name, t, error, row.fingerprint))
        return None if before is None else (before.since_wall_s, before.error)

    def _restore_failing(self) -> None:
        """The channels failing when an earlier run stopped (a restart: an update, a crash, a reboot)
        fail still, with their first failure's time and error, until they deliver: a banner that
        went off at a restart told the family its phone was fine again. One whose settings changed
        since is ``changed`` (not known to deliver), until it sends. One no longer configured is
        forgotten, said once (gone from the store, the next start does not see it)."""
        for r in self._keep_failing("failing channels", "read them", lambda s: s.failing_channels()) or []:
            since = dt.datetime.fromtimestamp(r.since_wall_s).strftime("%Y-%m-%d %H:%M")
            if r.channel in self.channels:
                r = replace(r, error=self._scrubbed(r))
                self._failures[r.channel] = r
                if self._as_configured(r):
                    log.warning("%s: failing since %s before this start (%s): shown as failing until it delivers", r.channel, since, r.error)
                else:
                    log.warning("%s: failed at %s before this start (%s), and its settings changed since: not known to deliver "
                                "until it sends (a test alarm tells)", r.channel, since, r.error)  # fmt: skip
            else:
                self._keep_failing(r.channel, "forget it", lambda s: s.forget_failing(r.channel))
                # Its URLs said as their host: an older spasmwatch kept errors quoting the whole URL.
                log.info("%s: failing since %s before this start (%s), and no longer configured: forgotten", r.channel, since, scrub_urls(r.error))

    def _scrubbed(self, r: FailingRow) -> str:
        """A kept failure's error without its channel's URL secrets, and so in the store too: one
        an older spasmwatch kept quoted the whole URL (an ntfy topic), shown by every status. Its
        leading channel name is left whole: a path segment is a secret, and Home Assistant's
        /api/webhook/ID made "webhook:ha: HTTP 403 ..." read "[…]:ha: HTTP 403 ..." after a restart."""
        ch = self.channels[r.channel]
        named = f"{r.channel}: " if r.error.startswith(f"{r.channel}: ") else ""  # ChannelError's words
        error = named + ch.scrub(r.error[len(named) :]) if isinstance(ch, HttpChannel) else r.error
        if error != r.error:
            self._keep_failing(r.channel, "forget its old error", lambda s: s.forget_failing(r.channel))
            self._keep_failing(r.channel, "keep it", lambda s: s.keep_failing(r.channel, r.since_wall_s, error, r.fingerprint))
        return error

    def _keep_failing(self, name: str, what: str, call: Callable[[FailingStore], T]) -> T | None:
        """``call(failing_store)``, or None without one or when it fails (a full disk never holds a
        delivery up: the channel's state is still right in this run, only not kept for the next)."""
        if self.failing_store is None:
            return None
        try:
            return call(self.failing_store)
        except Exception as e:
            log.warning("%s: could not %s in the store's failing channels (%s); not kept across a restart", name, what, e)
            return None

    def reconfigure(self, channels: Mapping[str, Channel], caregivers: Sequence[Caregiver]) -> list[Channel]:
        """Route from now on to ``channels`` and ``caregivers`` (a config reload): a channel kept
        (the same object) keeps its lanes, its deliveries in flight and its failing state; one
        replaced under its name (new settings) keeps its lanes, so an alert's send by the new one
        starts once the old one's of that alert is done, and its failure is ``changed`` (it was the old
        settings'; failing again if they come back); one gone is forgotten (its resend pass stopped, its
        failing state dropped, as a start drops it). Returns the channel objects no longer used,
        for the caller to close once their sends are done (``close_when_idle``)."""
        _check_caregivers(channels, caregivers)
        old = self.channels
        retired = [ch for name, ch in old.items() if channels.get(name) is not ch]
        for name in old.keys() - channels.keys():
            self._forget(name)
        self.channels, self.caregivers = dict(channels), list(caregivers)
        for name in self.channels:
            self._lanes.setdefault(name, _lanes())
            self._in_flight.setdefault(name, set())
        return retired

    def _forget(self, name: str) -> None:
        """A channel taken out of the config: its resend pass stopped (what it had yet to send stays
        kept, for its return), its failing state dropped, here and in the store."""
        running = self._resending.pop(name, None)
        if running is not None:
            running.cancel()
        if self._failures.pop(name, None) is not None:
            self._keep_failing(name, "forget it", lambda s: s.forget_failing(name))
            log.info("%s: no longer configured: its failing state is forgotten", name)

    async def idle(self, name: str) -> None:
        """Return once no send under ``name`` waits for its lanes or is under way in them: after a
        ``reconfigure`` none starts on a channel it retired, so that one is idle for good."""
        await asyncio.gather(*(lane.idle() for lane in self._lanes.get(name, {}).values()))

    async def close_when_idle(self, name: str, ch: Channel) -> None:
        """Close ``ch`` (retired by ``reconfigure``) once the sends it was making are done: they are
        in the lanes of the name it was configured under."""
        try:
            await self.idle(name)
            await ch.close()
        except Exception:  # best effort, as at a stop
            log.exception("closing channel %s failed", ch.name)

    def submit(self, n: Notification) -> None:
        """Start sending now (needs a running event loop); results land in ``deliveries``."""
        self._start(n)

    def keep(self, n: Notification) -> None:
        """Keep ``n``, for a resend, in the outbox of each channel it goes to that keeps what it sends
        (``KeepsOutgoing``: webhook, ntfy, MQTT), now: not once its send has its turn in its lane,
        which an earlier push of its alert being retried holds off for up to ~87 s (a daemon killed
        meanwhile lost it, though the store said the alarm went out). ``submit`` does it for what
        is not kept so; the daemon calls it in the store transaction of the alert's transition,
        right before the engine submits ``n``, so that a restart that finds the transition finds
        the push."""
        for name in self.routes(n):
            ch = self.channels[name]
            if isinstance(ch, KeepsOutgoing):
                ch.keep(n)
        self._kept_ahead = n.key

    def send_after(self, n: Notification, on_disk: concurrent.futures.Future[None]) -> None:
        """``n``'s sends, submitted next, each wait in its lane for ``on_disk``: the sync of the commit
        that records its alert's transition (``Daemon._transition``), made by the store's sync thread
        so that the event loop does not wait for the disk. A push goes out only once the write that
        records it is on disk (docs/store.md "Guarantees"); and goes out all the same when that sync
        failed (an alarm is never held back by the store; the daemon tells the family of the store)."""
        self._on_disk_ahead = (n.key, on_disk)

    async def dispatch(self, n: Notification) -> list[Delivery]:
        return list(await asyncio.gather(*self._start(n)))

    async def send_test(self, n: Notification, names: Sequence[str]) -> list[Delivery]:
        """Send the test ``n`` on the channels ``names`` (every one, filters ignored) and wait: one
        attempt each (a family waiting to hear whether the phone rang wants the answer, not 87 s
        of retries), in the channel's order. Its outcome counts as a delivery's: a channel that
        takes it is no longer failing; one that refuses it is, until it delivers again."""
        unknown = [c for c in names if c not in self.channels]
        if unknown:
            raise ValueError(f"no notification channel {', '.join(map(repr, unknown))}; configured: {', '.join(self.channels) or 'none'}")
        routes = self.routes(n)
        return list(await asyncio.gather(*(self._deliver(c, self.channels[c], n, routes.get(c, ()), tries=1) for c in names)))

    async def drain(self) -> None:
        while self._tasks or self._passes():
            await asyncio.gather(*list(self._tasks), *self._passes(), return_exceptions=True)

    async def close(self) -> None:
        self._closing = True  # what a pass had yet to send stays kept, for the next start
        passes = self._passes()
        if passes:
            _, cut = await asyncio.wait(passes, timeout=PASS_GRACE_S)
            for task in cut:
                task.cancel()
        await self.drain()
        for ch in self.channels.values():
            try:
                await ch.close()
            except Exception:  # closing is best effort; report, carry on with the others
                log.exception("closing channel %s failed", ch.name)

    def resend_kept(self, why_not: Callable[[Notification], str | None]) -> None:
        """Start a pass on each channel that resends what it kept (``ResendsThroughDispatcher``) and has none
        running: its kept notifications, a cluster's before the band notices (a kept alarm does not
        wait behind a kept "battery low" a slow receiver holds), each lane oldest first, each with
        the dispatcher's retries, except
        those being delivered now and those ``why_not`` refuses (dropped from the outbox, logged).
        A pass stops at the first that fails (its receiver is still away: the rest wait for the
        next pass). The daemon calls it at start and every ``RESEND_KEPT_EVERY_S``."""
        for name, ch in self.channels.items():
            running = self._resending.get(name)
            if isinstance(ch, ResendsThroughDispatcher) and (running is None or running.done()):
                # Read with the keys in flight, at once: a kept one not in flight now is not live
                # (the engine never submits a notification twice), so it cannot be sent twice.
                kept = [n for n in ch.kept_notifications() if n.key not in self._in_flight[name]]
                kept.sort(key=lambda n: lane(n) is not Lane.CLUSTER)  # a cluster's first; each lane oldest first (stable)
                if kept:
                    self._resending[name] = asyncio.get_running_loop().create_task(self._resend(name, ch, kept, why_not))

    async def _resend(self, name: str, ch: Channel, kept: list[Notification], why_not: Callable[[Notification], str | None]) -> None:
        assert isinstance(ch, ResendsThroughDispatcher)  # resend_kept starts passes on those alone
        for n in kept:
            if self._closing:
                return
            why = why_not(n)
            if why is not None:
                ch.drop_kept(n.key, why)
            elif not (await self._deliver(name, ch, n, (), resend=True)).ok:
                return
            else:
                log.info("notification %d (%s) of %s kept unacknowledged, sent on %s", n.id, n.kind.value, n.device, name)

    def _passes(self) -> list[asyncio.Task[None]]:
        return [t for t in self._resending.values() if not t.done()]

    def routes(self, n: Notification) -> dict[str, tuple[str, ...]]:
        """Channel name -> caregivers reached through it, for this notification."""
        out: dict[str, list[str]] = {}
        named = {c for cg in self.caregivers for c in cg.channels}
        for cg in self.caregivers:
            if self._reaches(cg, n):
                for c in cg.channels:
                    out.setdefault(c, []).append(cg.name)
        for c in self.channels:
            if c not in named:
                out.setdefault(c, [])
        if n.audience is Audience.ALERTED:
            alerted = self._alerted.get(n.alert_id, set())
            out = {c: cgs for c, cgs in out.items() if c in alerted}
        if n.urgency < Urgency.CRITICAL:  # an escalation ignores every filter
            out = {c: cgs for c, cgs in out.items() if n.urgency >= self.channels[c].min_urgency}
        return {c: tuple(cgs) for c, cgs in out.items()}

    def _reaches(self, cg: Caregiver, n: Notification) -> bool:
        if n.audience is not Audience.FILTERED:
            return True  # EVERYONE, or ALERTED (narrowed to alerted channels afterwards)
        return n.urgency >= Urgency.URGENT or n.urgency >= cg.min_urgency

    def _start(self, n: Notification) -> list[asyncio.Task[Delivery]]:
        if self._kept_ahead != n.key:
            self.keep(n)
        self._kept_ahead = None
        ahead, self._on_disk_ahead = self._on_disk_ahead, None
        on_disk = ahead[1] if ahead is not None and ahead[0] == n.key else None
        routes = self.routes(n)
        self._alerted.setdefault(n.alert_id, set()).update(routes)
        self._alerted.move_to_end(n.alert_id)
        while len(self._alerted) > self._keep_alerted:
            self._alerted.popitem(last=False)
        if not routes:
            log.info("notification %d (%s) has no channel to go to", n.id, n.kind.value)
        tasks = []
        for name, cgs in routes.items():
            self._in_flight[name].add(n.key)  # from now: a resend pass must not send it too
            # Created in submit order, so each lane takes them in that order.
            self._supersede(name, n)
            task = asyncio.get_running_loop().create_task(self._deliver(name, self.channels[name], n, cgs, on_disk=on_disk))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if n.kind is NoticeKind.CLUSTER_WARNING:
                self._heads_up[(name, n.alert_id)] = (task, n.key)
                task.add_done_callback(functools.partial(self._heads_up_done, (name, n.alert_id)))
            tasks.append(task)
        return tasks

    def _heads_up_done(self, key: tuple[str, int], _: object) -> None:
        self._heads_up.pop(key, None)

    def _supersede(self, name: str, n: Notification) -> None:
        """A heads-up of ``n``'s alert still on its way on ``name`` (waiting its turn, for an answer,
        or to retry) is given up for ``n``, its alarm: an alert's sends go
        one after the other (``_Lane``), and its alarm waited behind the heads-up's retries, up to
        ~87 s to a receiver down or hung (tests/daemon/test_faults.py, review h50). Its push is
        not kept (its alert is no longer WARNING: ``why_not_resend`` would refuse it): dropped once
        its send has ended, as a send that had begun in the same loop pass keeps it again first."""
        if n.kind is not NoticeKind.CLUSTER_ALARM:
            return
        held = self._heads_up.pop((name, n.alert_id), None)
        if held is not None:
            task, key = held
            task.cancel()
            self._in_flight[name].discard(key)  # (cancelled before it ran, its finally never does)
            ch = self.channels[name]
            if isinstance(ch, KeepsOutgoing):
                why = f"its alert's {n.kind.value} came before it was through"
                task.add_done_callback(lambda _: ch.drop_kept(key, why))

    async def _deliver(
        self,
        name: str,
        ch: Channel,
        n: Notification,
        cgs: tuple[str, ...],
        resend: bool = False,
        tries: int | None = None,
        on_disk: concurrent.futures.Future[None] | None = None,
    ) -> Delivery:
        # By the key it is configured under (caregivers name channels by it), whatever its own name;
        # on ``ch``, the object routed to when it was submitted: a reload that replaces or removes
        # it before this task first runs lets the send finish on it (it raised KeyError, removed).
        self._in_flight[name].add(n.key)
        try:
            async with self._lanes[name][lane(n)].send(n.alert_id, self.retry.turn_s) as end_turn:
                if on_disk is not None:  # (in its lane: the pushes after it wait their turn behind it)
                    await _synced(on_disk, n, name)
                attempts, error = await self._attempts(ch, n, end_turn, quiet=self._is_failing(name), tries=tries)
        finally:
            self._in_flight[name].discard(n.key)
        d = Delivery(n.id, n.alert_id, name, cgs, error is None, attempts, error, self.clock())
        self._note_outcome(name, n, d, resend)
        self.deliveries.append(d)
        if self.on_delivery is not None:
            try:
                self.on_delivery(d)
            except Exception:
                log.exception("delivery hook failed")
        return d

    def _note_outcome(self, name: str, n: Notification, d: Delivery, resend: bool) -> None:
        """Log on a change: a live notification not delivered (each, at WARNING), a channel failing
        (its first failure) and back (how long it failed); a resend pass failing again, at debug."""
        failing = self._mark(name, None if d.ok else d.error or "", d.t)
        if d.ok:
            log.debug("notification %d sent on %s", n.id, name)
            return
        level = logging.DEBUG if resend and failing is not None else logging.WARNING
        log.log(level, "notification %d (%s) not delivered on %s: %s", n.id, n.kind.value, name, d.error)

    async def _attempts(
        self, ch: Channel, n: Notification, end_turn: Callable[[], None], quiet: bool = False, tries: int | None = None
    ) -> tuple[int, str | None]:
        r = self.retry
        tries = tries or (r.attempts if ch.network else 1)
        for attempt in range(1, tries + 1):
            try:
                # A local channel bounds its own commands (the sound tries player after player,
                # then the bell): the network deadline would cut its fallbacks off.
                await (asyncio.wait_for(ch.send(n), r.attempt_timeout_s) if ch.network else ch.send(n))
                return attempt, None
            except ChannelError as e:
                error, retry = str(e), e.retryable
            except TimeoutError:
                error, retry = f"{ch.name}: no answer within {r.attempt_timeout_s:g} s", True
            except Exception as e:  # a channel bug: report it, never let it escape into the loop
                log.exception("channel %s crashed", ch.name)
                return attempt, f"{ch.name}: {type(e).__name__}: {e}"
            if not retry or attempt == tries:
                return attempt, error
            log.log(logging.DEBUG if quiet else logging.INFO, "%s (attempt %d of %d), retrying", error, attempt, tries)
            end_turn()  # its retries leave the lane to the next alert's sends (a new cluster's alarm)
            await asyncio.sleep(r.delay_s(attempt))
        return tries, "no attempt made"


async def _synced(on_disk: concurrent.futures.Future[None], n: Notification, name: str) -> None:
    """``on_disk`` done (``send_after``), or failed (told by the daemon as the store failing), or
    DISK_WAIT_S gone by: ``n`` goes on ``name`` all the same. ``asyncio.wait``, not ``wait_for``:
    on Python 3.11 ``wait_for`` lets a cancel go unheeded when ``on_disk`` is done in the same
    loop pass, and a heads-up given up for its alarm (``_supersede``) was sent after all; nor does
    it cancel ``on_disk``, which the other channels' sends of ``n`` wait for too."""
    waited = asyncio.wrap_future(on_disk)
    done, _ = await asyncio.wait((waited,), timeout=DISK_WAIT_S)
    if not done:
        log.warning("notification %d (%s) sent on %s before its record reached the disk: its sync has taken over %.0f s",
                    n.id, n.kind.value, name, DISK_WAIT_S)  # fmt: skip
    elif not waited.cancelled():
        waited.exception()  # (the sync failed: the daemon tells the family of the store; read, so asyncio does not log it)
