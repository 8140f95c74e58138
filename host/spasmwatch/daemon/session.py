"""One band's connection, as an explicit state machine.

    DISCONNECTED -> CONNECTING -> SECURING -> SYNCING -> STREAMING
         ^                                                  |
         +---- BACKOFF (delay by error kind) <---- error ---+--> STALE (silent link)
                                                            +--> FAULT (pairing refused, or not bonded)

On every connect: read the device identity, pair or re-encrypt, negotiate
the MTU, subscribe, sync the band's clock to wall time, and ask for every
event after the last one stored (backfill). Live and backfilled events take
the same path to the sink, which stores them idempotently, so a drop, a band
reboot or a host restart loses nothing the band's flash still holds. What a
link delivered after its sync is passed on even when the link then fails
(ACTIVITY and STATUS are sent only once).

A band whose flash was erased counts boots and seqs from the start again.
The sink maps each such "log life" into numbers of its own (``Offsets``,
decided from STATUS and the clock at every connect); the session adds them to
every record it passes on and takes them off the BACKFILL it sends.

The band's ms times are u32 and wrap after 49.7 days up; ``BandClock``, read
at each sync with STATUS's uptime in seconds, gives them back their laps, and
``older_on_lap`` those of an older boot, by what the sink holds of it.
A sync is several TIME_SYNC exchanges; the one of least round trip dates the
band's clock (``best_sync``), as its midpoint errs by at most half of it.

The session knows nothing of SQLite or alerts: it reports to a ``SessionSink``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from spasmwatch.clock import SinceBoot
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.api import Msg
from spasmwatch.daemon.flap import FlapLog
from spasmwatch.store.rows import BootMarks
from spasmwatch.timeouts import within
from spasmwatch.transport.base import DisconnectedError, Garbling, Kind, Link, LinkIOError, LinkTimeoutError, TransportError
from swcore import protocol as P

log = logging.getLogger(__name__)

Record = dict[str, Any]


def sig_uuid(short: int) -> str:
    """A Bluetooth SIG 16-bit UUID in the 128-bit form bleak uses."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


DIS_SERIAL = sig_uuid(0x2A25)
DIS_MODEL = sig_uuid(0x2A24)
DIS_FIRMWARE = sig_uuid(0x2A26)
DIS_HARDWARE = sig_uuid(0x2A27)


class State(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    SECURING = "securing"
    SYNCING = "syncing"
    STREAMING = "streaming"
    BACKOFF = "backoff"
    STALE = "stale"
    FAULT = "fault"


# The states a session cycles through while it cannot reach its band.
_RETRY_CYCLE = (State.CONNECTING, State.DISCONNECTED, State.BACKOFF)
# The steps of a reconnect after a drop: logged at debug, the reconnect being two lines at INFO,
# the drop (why) and the return (how long away, how many attempts, backfill from where), not six
# (a band at the edge of range reconnects every minute all night: 8640 journal lines a day).
_RECONNECT_STEPS = (State.BACKOFF, State.CONNECTING, State.SECURING, State.SYNCING)
_LINKED = (State.STREAMING, State.STALE)
# The same failure again (a band that will not bond, retried every 30 s all night): its steps
# and its FAULT are logged the first time only, at debug after that.
_REPEAT_QUIET = (*_RETRY_CYCLE, State.SECURING, State.SYNCING, State.FAULT)

# Commands sent again at once when their RESP came garbled (``command``, K.RESP_RESENDS): those whose
# repeat answers as the first would have. A TIME_SYNC's answer is the band's ms as the one it answers
# reached it, within the round trip timed from the first send; a BACKFILL may be sent again at any
# time (docs/protocol.md); RAW and INFO change nothing more; a CONFIG's repeat finds the value stored
# and answers arg 0 ("unchanged"), but the rate the band reports (INFO) held against the configured
# one reboots it all the same (``_apply_rate``). Not REBOOT: the band stops once it has answered.
_RESENT_OPS = frozenset((P.OP_TIME_SYNC, P.OP_BACKFILL, P.OP_RAW, P.OP_INFO, P.OP_CONFIG))


@dataclass(frozen=True)
class BandInfo:
    device: str  # the band's serial (Device Information 0x2A25): the store's device id
    model: str
    firmware: str  # its revision (0x2A26; over USB serial, INFO_REVISION's), "" when none was read
    board: str
    address: str
    transport: str
    # The revision was asked with INFO (a link without Device Information: USB serial): "" then is a
    # firmware from before INFO_REVISION, which is not this computer's (daemon._judge_firmware).
    firmware_asked: bool = False


# The records' fields that carry the band's boot / seq numbers.
_BOOT_FIELDS = {"event": ("boot",), "status": ("boot",), "activity": ("boot",), "bootlink": ("boot", "prev_boot")}
_SEQ_FIELDS = {"event": ("seq",), "status": ("next_seq",), "loginfo": ("oldest_seq", "next_seq")}


@dataclass(frozen=True)
class Offsets:
    """The host's boot and seq = the band's + these, for the band's current log life."""

    boot: int = 0
    seq: int = 0

    def to_host(self, rec: Record) -> Record:
        if not (self.boot or self.seq):
            return rec
        out = dict(rec)
        for f in _BOOT_FIELDS.get(rec["type"], ()):
            out[f] += self.boot
        for f in _SEQ_FIELDS.get(rec["type"], ()):
            out[f] += self.seq
        return out


U32 = 1 << 32

# The records' fields that carry times on the band's ms clock of their boot.
_MS_FIELDS = {"event": ("onset_ms",), "activity": ("t_ms",)}


def unwrap_u32(value: int, latest: int, slack: int = K.BAND_CLOCK_SLACK_MS) -> int:
    """The latest integer equal to ``value`` modulo 2^32 that is not after ``latest + slack``."""
    top = latest + slack
    return top - (top - value) % U32


@dataclass(frozen=True)
class BandClock:
    """The band's ms clock of boot ``boot``: it read ``ms`` (unwrapped) at wall time ``wall_s``."""

    boot: int = -1
    ms: int = 0
    wall_s: float = 0.0

    @classmethod
    def at_sync(cls, boot: int, band_ms: int, uptime_s: int, wall_s: float) -> BandClock:
        # STATUS's uptime is u32 seconds (136 years): it tells which lap the u32 ms reading is on,
        # the nearest (K.SYNC_LAP_SLACK_MS: a simulated band's sync may read hours ahead of it).
        return cls(boot, unwrap_u32(band_ms, uptime_s * 1000, K.SYNC_LAP_SLACK_MS), wall_s)

    def now_ms(self, wall_s: float) -> int:
        """The band's clock (unwrapped) at wall time ``wall_s``, estimated from this sync."""
        return self.ms + int((wall_s - self.wall_s) * 1000)

    def wall_s_at(self, ms: int) -> float:
        """The wall time at which the band's clock read ``ms`` (unwrapped), estimated from this sync."""
        return self.wall_s + (ms - self.ms) / 1000

    def resynced(self, band_ms: int, wall_s: float, floor_ms: int = 0) -> BandClock:
        """A new reading of the same boot's clock, on the latest lap our estimate allows."""
        return BandClock(self.boot, unwrap_u32(band_ms, max(self.now_ms(wall_s), floor_ms)), wall_s)

    def to_host(self, rec: Record, received_s: float, floor_ms: int = 0) -> Record:
        """``rec`` with its ms times unwrapped, if it is of this boot (older boots': ``older_on_lap``).

        ``floor_ms``: the band's clock is at least this (its latest time seen in this boot).
        The estimate from the host's wall clock alone fell a lap (49.7 days) short when that
        clock was stepped back by more than the slack after the sync (found by review).
        """
        fields = _MS_FIELDS.get(rec["type"], ())
        if not fields or rec["boot"] != self.boot:
            return rec
        now = max(self.now_ms(received_s), floor_ms)
        out = dict(rec)
        for f in fields:
            out[f] = unwrap_u32(rec[f], now)
        return out


def older_on_lap(rec: Record, marks: BootMarks | None, ended_by_s: float) -> Record:
    """``rec``, of a band boot before the synced one (which began at wall ``ended_by_s``), with its u32
    ms times on their lap by what the store holds of its boot (``marks``, None: it has no sync).

    Its last records may come only in a later boot's backfill (the host was away when the boot ended,
    or the backfill of its last connection was cut): kept as sent, those of a boot up past its wrap
    (49.7 days) were placed by its unwrapped syncs a lap early, a cluster among them never alarmed.
    Each is read, as the synced boot's are, as the latest lap not after a time it cannot be later
    than (``unwrap_u32``: plus its slack): the onset of the boot's stored event of its seq or of the
    next seq stored (a re-send gets the stored row's value, so it is recognised as that row; events
    are logged in onset order, give or take seconds), else the boot's clock when the synced boot began, estimated from its
    latest sync, but not more than a lap after that sync less the slack (as ``placing`` reads a boot
    link's prev_ms): a band left switched off for weeks between the two boots put a short boot's
    records a lap late by the clock alone. So a record is right within 49.7 days before the next
    stored event, else within 49.7 days before its boot's end and after its latest sync less an hour
    (a record before that sync that no backfill of that boot brought, the band then switched off
    for weeks, is not told apart). A boot never synced keeps the band's values (its events, and its
    links' prev_ms, were never unwrapped). Never below the band's value: a host clock stepped back
    between the two boots' syncs does not put a record before its boot's start."""
    fields = _MS_FIELDS.get(rec["type"], ())
    if not fields or marks is None:
        return rec
    if marks.next_onset_ms is not None:
        top = marks.next_onset_ms
    else:
        ended_ms = BandClock(rec["boot"], marks.sync_ms, marks.sync_s).now_ms(ended_by_s)
        top = min(ended_ms, marks.sync_ms + U32 - 2 * K.BAND_CLOCK_SLACK_MS)  # read with the slack on top
    out = dict(rec)
    for f in fields:
        out[f] = max(int(rec[f]), unwrap_u32(int(rec[f]), top))
    return out


@dataclass(frozen=True)
class SyncExchange:
    """One TIME_SYNC round trip: the band's ms in its RESP, the host's wall s when it sent the
    command, how long (wall s) the RESP took to come back, and the host's since-boot reading
    taken with ``sent_s`` (None: the host's clock gives none)."""

    band_ms: int
    sent_s: float
    rtt_s: float
    sent_boot: SinceBoot | None = None

    @property
    def wall_s(self) -> float:
        # The band read its clock when the command arrived: taken as half the round trip,
        # wrong by up to half of it when one way was slower (a radio retry).
        return self.sent_s + self.rtt_s / 2

    @property
    def since_boot(self) -> SinceBoot | None:
        """The since-boot reading at ``wall_s``: what tells later whether the wall was stepped since."""
        return None if self.sent_boot is None else self.sent_boot.later(self.rtt_s / 2)


def best_sync(exchanges: Sequence[SyncExchange]) -> SyncExchange:
    """The exchange of least round trip (NTP's clock filter, PTP's best sample): its midpoint is
    the closest bound on when the band read its clock. A negative round trip means the host's
    clock was stepped back during it: it bounds nothing and is kept only if all are so."""
    if not exchanges:
        raise ValueError("no TIME_SYNC exchange to choose from")
    return min(exchanges, key=lambda x: x.rtt_s if x.rtt_s >= 0 else math.inf)


def rtt_spread_s(exchanges: Sequence[SyncExchange]) -> float:
    """How far apart the round trips of a sync's exchanges were (s; stepped ones left out)."""
    rtts = [x.rtt_s for x in exchanges if x.rtt_s >= 0]
    return max(rtts) - min(rtts) if rtts else 0.0


class SessionSink(Protocol):
    def next_backfill_seq(self, device: str) -> int: ...

    def log_life(self, device: str, boot: int, next_seq: int, band_ms: int, erased: bool = False) -> Offsets: ...

    def on_state(self, session: BandSession, state: State, detail: str) -> None: ...

    def on_connected(self, info: BandInfo) -> None: ...

    def on_sync(self, device: str, boot: int, band_ms: int, wall_s: float, host: SinceBoot | None = None) -> None:
        """A sync point: the band's ``band_ms`` of ``boot`` read at the host's ``wall_s``, and the
        host's since-boot reading at that instant (``host``, None if its clock gives none)."""
        ...

    def on_rate(self, device: str, rate_hz: float) -> None: ...

    def on_record(self, device: str, rec: Record, received_s: float) -> None: ...

    def on_lost(self, device: str, first_seq: int, last_seq: int) -> None: ...

    def boot_marks(self, device: str, boot: int, seq: int | None) -> BootMarks | None:
        """What the store holds of ``device``'s band boot ``boot`` (host numbers) that puts a u32 ms of
        it on its lap (``older_on_lap``); None: that boot has no sync."""
        ...


# What the family is told when the band pairs but will not bond (E_AUTH on an encrypted link):
# the one place this instruction is written (the FAULT detail; docs/host.md "Pairing").
NOT_BONDED = (
    "not paired: the band accepts new pairings only in the first %d minutes after it is switched on: "
    "switch it off and on, then wait for spasmwatch to connect" % (P.PAIRING_WINDOW_MS // 60000)
)


# What the family is told when the band answers in another protocol version (one side updated, the
# other not): no command can work, and the band's records would all be refused (docs/protocol.md).
# The older side is the one to update: the page words the same (fault_detail.update_host/update_band).
OTHER_VERSION = "the band speaks protocol version %d, this spasmwatch version %d: %s"
UPDATE_HOST = "update spasmwatch on this computer (the band's firmware is newer)"
UPDATE_BAND = "flash the band with this spasmwatch's firmware ('spasmwatch flash', docs/flashing.md)"


def other_version(band: int) -> str:
    """What the family is told of a band answering in protocol version ``band``: the side to update."""
    return OTHER_VERSION % (band, P.VERSION, UPDATE_HOST if band > P.VERSION else UPDATE_BAND)


def control_resp(data: bytes, decode: Callable[[bytes], Record | None]) -> Record | None:
    """A CONTROL notification as the RESP it is (``decode``: the record or None), else None. A RESP
    of another protocol version is ``{"type": "resp", "version": v}``: decoded, it was dropped as a
    bad record, its command timed out and was retried for ever as "the band did not answer in time"."""
    if len(data) >= 2 and data[1] == P.T_RESP and data[0] != P.VERSION:
        return {"type": "resp", "version": data[0]}
    rec = decode(data)
    return rec if rec is not None and rec["type"] == "resp" else None


def _other_version(band: int) -> SessionError:
    """The FAULT of a band answering in protocol version ``band``."""
    return SessionError(other_version(band), P.E_VERSION, band)


def _fault_msg(e: SessionError) -> Msg:
    """The page word of a FAULT the band explained: not bonded (``NOT_BONDED``'s instruction),
    another protocol version (``arg``: the band's; the older side to update), or another command
    it refused."""
    if e.code == P.E_AUTH:
        return {"key": "not_bonded", "args": {"min": P.PAIRING_WINDOW_MS // 60000}}
    if e.code == P.E_VERSION:
        return {"key": "update_host" if e.arg > P.VERSION else "update_band", "args": {"band": e.arg, "host": P.VERSION}}
    return {"key": "band_refused", "args": {"code": e.code}}


class SessionError(Exception):
    """A step of the connect sequence failed in a way the band explained (``code``: its RESP code)."""

    def __init__(self, message: str, code: int | None = None, arg: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.arg = arg


class BandSession:
    def __init__(
        self,
        label: str,
        link_factory: Callable[[], Link],
        sink: SessionSink,
        wall: Callable[[], float] = time.time,
        stale_s: float = K.STALE_S,
        since_boot: Callable[[], SinceBoot | None] = lambda: None,
        raw: bool = False,
        resync_s: float = K.RESYNC_S,
        rate_hz: int | None = None,
        mono: Callable[[], float] = time.monotonic,
        flap_up_s: float = K.FLAP_UP_S,
        flap_summary_s: float = K.FLAP_SUMMARY_S,
        host_step_s: float = K.HOST_STEP_S,
    ) -> None:
        self.label = label  # what the caregiver configured (name or address)
        self.raw = raw  # ask for the raw sample stream on every connect
        self.rate_hz = rate_hz  # the IMU rate to set on the band (None: leave its own)
        self._make_link = link_factory
        self.sink = sink
        self.wall = wall
        self.since_boot = since_boot  # read with each TIME_SYNC's wall time, stored with its sync point
        # How far the wall's offset over ``since_boot`` may move before it is a step (s; the daemon's
        # adds the pause between the two reads at its clock's rate, K.HOST_READ_GAP_S)
        self.host_step_s = host_step_s
        self.mono = mono  # how long links last, for the flapping's log (daemon/flap.py)
        self._flap = FlapLog(flap_up_s, flap_summary_s)
        self._flap_since = 0.0  # wall s of the first drop of the latest run of short links (link_unstable's since_t)
        self.stale_s = stale_s
        self.resync_s = resync_s
        self.state = State.DISCONNECTED
        self.detail = ""
        # ``detail`` of a FAULT as a page word and its values (docs/web.md "Texts the daemon words"):
        # the family reads what to do in its own language; None in every other state.
        self.detail_msg: Msg | None = None
        self.info: BandInfo | None = None
        self.link: Link | None = None
        self.decode_errors = 0
        self._refused: set[str] = set()  # the decoder's refusals said so far (each kind once)
        self._rate_unknown_logged = False
        # Reboots sent in a row to apply rate_hz (_apply_rate): reset once the band runs it; one past
        # K.RATE_REBOOTS once the band that would not apply it was said to; 2 once a band that reports
        # no rate was said to be too old to tell.
        self._rate_reboots = 0
        self._rate_running: float | None = None  # the rate it runs once it would not take rate_hz
        self._records: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()  # (record, received wall s)
        self._resp: asyncio.Queue[Record] = asyncio.Queue()
        # One command at a time on the link: a RESP is told from another only by its opcode, and each
        # command drains the queue first. The family's (``ask``) comes between the session's own.
        self._commanding = asyncio.Lock()
        # How many asked commands (``ask``) wait for the turn or hold it, and an event set while none
        # does: the stream's own commands wait for them to end, taking the band's records meanwhile.
        self._asked = 0
        self._turn_free = asyncio.Event()
        self._turn_free.set()
        self._lost = asyncio.Event()
        self._stop = asyncio.Event()
        self._failures: dict[str, int] = {}  # failed connects since the last good one, by error kind
        self._last_error = ""
        self._last_kind: Kind = "io"  # the latest failure's kind (TransportError.kind)
        self._here = False  # the latest failure's cause is on this computer (TransportError.here)
        self._person = False  # the latest failure was a FAULT: someone must act (pair again, update)
        self._repeating = False  # the current failure is the same as the last one
        self._close_error = ""  # the latest unexpected failure of a link's close (said once)
        self._away: tuple[float, str] | None = None  # since a drop, until streaming again: (wall s, why)
        self._attempts = 0  # connect attempts since the drop
        self._backfill_from = 0  # a host seq
        self._life = Offsets()
        self._clock = BandClock()
        # The host's clocks at the latest sync: (since-boot id, wall - since-boot s); None: none read
        self._footing: tuple[str, float] | None = None
        self._lag_said = False  # this connection's epochs were said to come off the band's clock (_check_step)
        self._seen_ms = 0  # the band's latest ms (unwrapped) seen in its current boot
        self._step_s = 0.0  # the host clock's step seen since the last sync (0: none)
        self._late_s = 0.0  # a live epoch that came late by this (s), to be confirmed by the next
        self._held_next = False  # the band said the next epoch waited there (LOGINFO LF_HELD)
        # The band's ms (unwrapped) from which its epochs reach this link as they end: the
        # connect's sync, then the backfill's end. Those ending before were held (docs/host.md
        # "Time"): late by their wait, they tell nothing of the host's clock.
        self._live_from_ms = 0
        self._sync_slow = False  # the latest sync's least round trip was over SYNC_SLOW_RTT_S (and said so)
        self._refill = ""  # why to ask the band for what the store lacks again, at the stream's next record (refill)
        # What this link delivered of the band's events (host seqs; docs/host.md "Events missed on
        # a link"): every one before _run_end (or told gone), those in _ahead past it (at most
        # LIVE_AHEAD_MAX); the band holds up to _band_next. _gap: a missing seq and the loop time it
        # was first seen missing. _left: seqs this link asked for again and still did not get, which
        # it counts as delivered (the next connection asks): only those the store lacks past its
        # first missing one, one per 2 x LIVE_GAP_S at most.
        self._run_end = 0
        self._ahead: set[int] = set()
        self._band_next = 0
        self._gap: tuple[int, float] | None = None
        self._gap_asked = -1  # the missing seq this link already asked for again
        self._left: set[int] = set()
        # Epochs since the latest BACKFILL's start (its first LOGINFO) in the stream's order with its
        # end (LOGINFO done) not seen; None: no start seen, or its end seen (``_check_end``).
        self._epochs_unended: int | None = None
        self._end_asked = -1  # the BACKFILL (its from seq) whose lost end this link asked for again
        # Loop time from which this link had every event the band holds, its BACKFILL's end not
        # seen (``_end_lost``); None: not so.
        self._end_wait: float | None = None
        # Loop time of the latest BACKFILL's RESP while none of its records (start, events, end) has
        # come on this link (``_start_lost``); None: one came, or no BACKFILL is awaited.
        self._start_wait: float | None = None

    # --- state ------------------------------------------------------------------
    @property
    def last_error(self) -> str:
        """Why the latest connect or stream failed ("" since one succeeded): while the band is not
        connected, the status says it (this computer with no Bluetooth read as "out of reach")."""
        return self._last_error

    @property
    def last_error_msg(self) -> Msg | None:
        """``last_error`` as a page word (``why.<key>``: the link's kind of failure, or ``here`` when
        this computer is the cause), for the page in the family's language; None when there is none."""
        if not self._last_error:
            return None
        return {"key": "here" if self._here else self._last_kind, "args": {}}

    @property
    def needs_person(self) -> bool:
        """Whether the latest failure was a FAULT (pairing refused, not bonded, another protocol version):
        the band answers, and the 'band disconnected' push says someone must act, not 'charge it, bring it nearer'."""
        return self._person

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called: its run ends on purpose. A run that ended otherwise (a bug past
        its catch-all) is the daemon's to start again (Daemon._supervise)."""
        return self._stop.is_set()

    @property
    def cause_here(self) -> bool:
        """Whether the latest failure's cause is on this computer (no Bluetooth adapter, no BlueZ),
        not the band: the 'band disconnected' push says so instead of 'charge it, bring it nearer'."""
        return self._here

    @property
    def link_unstable(self) -> dict[str, float] | None:
        """While the link flaps (daemon/flap.py): ``{drops, over_s, since_t}``, the drops since it began,
        over how many seconds (the monotonic clock's, as the flapping is timed) and the wall s of its
        first drop (fixed while it lasts: MQTT's retained status says it); None otherwise. No 'band disconnected'
        comes of it (each reconnect, a second later, brings every event by backfill, and clears
        the down timer), so the status and the page say it: each drop delays an alarm until the
        link is back, and a cable to reseat or a band to bring nearer is a person's to see."""
        said = self._flap.unstable(self.mono())
        if said is None:
            return None
        drops, over_s = said
        return {"drops": drops, "over_s": round(over_s, 1), "since_t": self._flap_since}

    @property
    def rate_not_taken(self) -> dict[str, float | None] | None:
        """Once the band would not sample at the configured rate_hz after K.RATE_REBOOTS reboots to
        apply it (``_apply_rate``): ``{configured_hz, running_hz}`` (running_hz None: a rate it did
        not report); None otherwise, and again once it runs that rate. Its epochs and raw files
        follow the rate it runs, so monitoring goes on: no push, but the engineer who set the rate
        (a researcher's 104 Hz, a board whose IMU has no such step) must see it, not only the journal."""
        if self.rate_hz is None or self._rate_reboots <= K.RATE_REBOOTS:
            return None
        return {"configured_hz": self.rate_hz, "running_hz": self._rate_running}

    def _set(self, state: State, detail: str = "", msg: Msg | None = None) -> None:
        if state is self.state and detail == self.detail:
            return
        self.detail_msg = msg
        # The same failure again and again (band out of range all night) is one log line,
        # not one per retry: repeats of the retry cycle go to debug; so do a reconnect's steps.
        said = self._reconnect_note(state, detail)
        flap = self._flap_note(state)  # None: not flapping; else the drop and return are said by it
        quiet = (self._repeating and state in _REPEAT_QUIET) or (self._away is not None and state in _RECONNECT_STEPS) or flap is not None
        level = logging.DEBUG if quiet else logging.INFO
        log.log(level, "%s: %s -> %s%s", self.label, self.state.value, state.value, f" ({said})" if said else "")
        if flap:
            log.info("%s: %s", self.label, flap)
        self.state, self.detail = state, detail
        self.sink.on_state(self, state, detail)

    def _flap_note(self, state: State) -> str | None:
        """For a drop of a streaming link or the return to streaming: None when the link is not
        flapping (logged as ever), else what the flapping's log says of it ("": nothing)."""
        if self.state in _LINKED and state not in _LINKED:
            said = self._flap.dropped(self.mono())
            if self._flap.short == 1:  # the first short link of a run: a flapping counts from here
                self._flap_since = self.wall()
            return said
        if state is State.STREAMING and self.state not in _LINKED:
            self._flap.up(self.mono())
            return "" if self._flap.flapping else None
        return None

    def _reconnect_note(self, state: State, detail: str) -> str:
        """``detail``, and on the return to streaming after a drop, what diagnoses it: how long
        the band was away, the connect attempts, and why it dropped (the backfill's seq is in ``detail``)."""
        if self.state in _LINKED and state not in _LINKED:
            self._away, self._attempts = (self.wall(), detail or self.detail), 0
        elif state is State.CONNECTING and self._away is not None:
            self._attempts += 1
        elif state is State.STREAMING and self._away is not None and self.state not in _LINKED:
            since, why = self._away
            self._away = None
            back = f"back after {self.wall() - since:.0f} s away, {self._attempts} attempt(s); dropped: {why}"
            return f"{detail}; {back}" if detail else back
        return detail

    # --- main loop ----------------------------------------------------------------
    async def run(self) -> None:
        """Connect, stream, and reconnect with backoff until ``stop``."""
        try:
            await self._run()
        finally:
            # Also when a bug ended it (an exception from a handler below): a link left open holds the
            # band (one central at a time) from the run the daemon starts again.
            await self._close_link()
        self._set(State.DISCONNECTED, "stopped")

    async def _run(self) -> None:
        """``run``'s loop: returns once ``stop`` was called."""
        while not self._stop.is_set():
            try:
                await self._connect_once()
                self._failures, self._last_error, self._here, self._repeating, self._person = {}, "", False, False, False
                await self._stream()
                delay = K.BACKOFF_S["disconnected"][0]
            except TransportError as e:
                delay = self._backoff(e)
            except SessionError as e:
                self._repeat(str(e), person=True)
                self._set(State.FAULT, str(e), _fault_msg(e))
                delay = K.PAIRING_RETRY_S if e.code == P.E_AUTH else K.AUTH_RETRY_S
            except Exception as e:  # a bug must not end monitoring: log it, reconnect as after an I/O error
                what = f"{type(e).__name__}: {e}"
                if what != self._last_error:  # the traceback once, not at every retry
                    log.exception("%s: unexpected error; reconnecting", self.label)
                delay = self._backoff(LinkIOError(what))
                self._set(State.DISCONNECTED, "internal error (see log)")
            await self._close_link()
            if self._stop.is_set():
                break
            if self.state is not State.FAULT:
                self._set(State.BACKOFF, f"retry in {delay:.0f} s")
            await self._sleep(delay)

    def _repeat(self, what: str, here: bool = False, kind: Kind = "io", person: bool = False) -> None:
        """Note a failure (``person``: a FAULT): ``_repeating`` when it is the same as the last one."""
        self._repeating = what == self._last_error
        self._last_error, self._here, self._last_kind, self._person = what, here, kind, person

    def _backoff(self, e: TransportError) -> float:
        self._repeat(str(e), e.here, e.kind, person=e.kind == "auth")
        if e.kind == "auth":
            self._set(State.FAULT, f"pairing refused: {e}", {"key": "pairing_refused", "args": {}})
            return K.AUTH_RETRY_S
        first, cap = K.BACKOFF_S.get(e.kind, K.BACKOFF_S["io"])
        n = self._failures.get(e.kind, 0)  # each kind doubles from its own first delay
        delay = min(cap, first * (1 << min(n, 16)))
        self._failures[e.kind] = n + 1
        if self.state is not State.STALE:
            self._set(State.DISCONNECTED, f"{e.kind}: {e}")
        return delay

    async def stop(self) -> None:
        self._stop.set()
        self._lost.set()
        await self._close_link()

    async def _sleep(self, delay_s: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), delay_s)
        except asyncio.TimeoutError:
            pass

    async def _close_link(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            try:
                await within(link.disconnect(), K.REQUEST_TIMEOUT_S)  # (a cancel heeded: _run's loop would go on)
            except (TransportError, asyncio.TimeoutError, OSError):
                pass
            except Exception as e:  # a backend's bug (bleak's BlueZ client raised AttributeError): outside
                # run()'s catch-all, it ended monitoring for good; the link is given up all the same
                what = f"{type(e).__name__}: {e}"
                if what != self._close_error:  # the traceback once, not at every retry
                    self._close_error = what
                    log.warning("%s: closing the link failed (%s); reconnecting all the same", self.label, what, exc_info=True)

    # --- connect sequence -----------------------------------------------------------
    def refill(self) -> None:
        """Ask the band once more for every event after the last one the store holds (the connect's
        BACKFILL again, on this link): what a store that failed for a while refused is in the band's
        flash, and would wait there for the next connection, hours away on a link that holds."""
        if self.state is State.STREAMING:  # (any other: the next connect's backfill asks)
            self._refill = "the events the store missed"

    async def _connect_once(self) -> None:
        self._set(State.CONNECTING)
        self._lost.clear()
        self._refill = ""
        self._gap_asked = self._end_asked = -1
        self._left.clear()
        self._epochs_unended = self._end_wait = self._start_wait = None
        link = self._make_link()
        self.link = link
        link.on_disconnect(self._lost.set)
        if isinstance(link, Garbling):  # (serial) an answer lost to noise is asked for again at once
            link.on_garbled(self._on_garbled)
        await link.connect(K.CONNECT_TIMEOUT_S)
        self.info = await self._identify(link)
        self._set(State.SECURING)
        await link.secure()
        self._set(State.SYNCING)
        _drain(self._records)
        await link.subscribe(P.EVENTS_UUID, self._on_record)
        await link.subscribe(P.STATUS_UUID, self._on_record)
        await link.subscribe(P.CONTROL_UUID, self._on_control)
        if not self.info.firmware:  # no Device Information (USB serial): INFO carries the revision
            self.info = replace(self.info, firmware=await self._info_revision(), firmware_asked=True)
        self.sink.on_connected(self.info)
        device = self.info.device
        band_ms, sync_wall, sync_host = await self._time_sync()
        rate_hz = await self._imu_rate()
        if rate_hz is not None:  # before the backfill: its epochs are counted in this rate's samples
            self.sink.on_rate(device, rate_hz)
        # Read after a command: the band refreshes STATUS before it answers, so its
        # next_seq is not older than any event already stored (the life check relies on it).
        status = P.decode(await self._req(link.read(P.STATUS_UUID)))
        status_t = self.wall()
        self._set_clock(BandClock.at_sync(int(status["boot"]), band_ms, int(status["uptime_s"]), sync_wall), sync_host)
        band_ms = self._seen_ms = self._live_from_ms = self._clock.ms
        self._step_s = self._late_s = 0.0
        self._held_next = self._lag_said = False
        self._life = self.sink.log_life(device, int(status["boot"]), int(status["next_seq"]), band_ms)
        # This link's records can be placed from here on: its clock and its log life are known
        # (taken in the life the session holds then, as the backfill may settle on another).
        # If a step below fails (a timeout in the backfill, the reboot that applies a new
        # rate), what the link delivered is taken before the failure goes on, as when a
        # streaming link drops: left in the queue, it was thrown away at the next connect.
        try:
            await self._backfill(device, int(status["boot"]), band_ms)
            # Read again and stored only now, in the numbers of the life the backfill settled
            # on, and with the log fill counting what the host holds (a rebooted band counted
            # every event in its log as unfetched until the host's BACKFILL).
            status = P.decode(await self._req(link.read(P.STATUS_UUID)))
            status_t = self.wall()
            self.sink.on_record(device, self._life.to_host(status), status_t)
            self.sink.on_sync(device, int(status["boot"]) + self._life.boot, band_ms, sync_wall, sync_host)
            await self._apply_rate(rate_hz)
            if self.raw:
                await self._start_raw(link)
        except BaseException:
            self._take_queued(device)
            raise
        self._set(State.STREAMING, f"backfill from seq {self._backfill_from}")

    async def _apply_rate(self, running_hz: float | None) -> None:
        """The configured IMU rate, kept in the band's flash; a changed one applies after its reboot.

        Sent on every connection (the band does not rewrite an unchanged value), after the
        backfill, so a reboot costs no event: the session reconnects as after any drop.
        A CONFIG whose answer was lost (a timeout, a link dropped after the band stored the value)
        answers "unchanged" on the next connection: the band is rebooted too when the rate it
        reports (``running_hz``, INFO) is not the configured one's step, at most K.RATE_REBOOTS
        times in a row, then said once and left at the rate it runs. A band that reports no rate
        (firmware from before INFO) is rebooted once: a second "changed" is its firmware's (from
        before 2026-12-04, every CONFIG of the rate is one), and another reboot would tell nothing.
        """
        if self.rate_hz is None:
            return
        changed = (await self.command(P.encode_config(P.CFG_RATE_HZ, self.rate_hz)))["arg"]
        if not changed and _same_rate(running_hz, self.rate_hz):
            self._rate_reboots = 0
            return
        if running_hz is None and self._rate_reboots:
            # No INFO, and "changed" again after the reboot that applied it: firmware from before
            # 2026-12-04 calls every CONFIG of the rate a change. A reboot more would tell nothing
            # (``_same_rate``); until review h45 it was rebooted K.RATE_REBOOTS times at each start.
            if self._rate_reboots == 1:  # said once, not at every connection
                self._rate_reboots += 1
                log.warning("%s: the band's firmware calls every rate a change and does not report the rate it runs: "
                            "taken as %d Hz after one reboot; update it (spasmwatch flash)", self.label, self.rate_hz)  # fmt: skip
            return
        if self._rate_reboots >= K.RATE_REBOOTS:
            self._rate_running = running_hz  # (rate_not_taken: as it runs now, another firmware's too)
            if self._rate_reboots == K.RATE_REBOOTS:  # said once, not at every connection
                self._rate_reboots += 1
                log.error(
                    "%s: the band does not sample at the configured %d Hz after %d reboots to apply it (it reports %s Hz); "
                    "monitored at its own rate: its IMU or firmware may not have that rate (update it: spasmwatch flash)",
                    self.label, self.rate_hz, K.RATE_REBOOTS, running_hz,
                )  # fmt: skip
            return
        self._rate_reboots += 1
        if changed:
            log.info("%s: IMU rate set to %d Hz; the band reboots to apply it", self.label, self.rate_hz)
        else:
            log.warning("%s: the band samples at %g Hz, not the configured %d Hz; it reboots to apply it", self.label, running_hz, self.rate_hz)
        await self.command(P.encode_reboot())
        raise DisconnectedError(f"the band reboots to sample at {self.rate_hz} Hz")

    async def _start_raw(self, link: Link) -> None:
        await link.subscribe(P.RAW_UUID, self._on_record)
        try:
            await self.command(P.encode_raw_stream(True))
        except SessionError as e:
            # Refused on low battery (E_STATE): events matter more than raw samples; carry on.
            log.warning("%s: raw streaming not started: %s", self.label, e)

    async def _identify(self, link: Link) -> BandInfo:
        async def text(uuid: str, default: str) -> str:
            try:
                raw: bytes = await self._req(link.read(uuid))
            except LinkIOError:
                return default  # USB serial carries records only: no Device Information service
            return raw.decode("utf-8", "replace")

        return BandInfo(
            device=await text(DIS_SERIAL, self.label),
            model=await text(DIS_MODEL, ""),
            firmware=await text(DIS_FIRMWARE, ""),
            board=await text(DIS_HARDWARE, ""),
            address=link.address,
            transport=link.transport,
        )

    async def _req(self, aw: Any) -> Any:
        """``aw``, the band's answer; ``within``, not ``wait_for``: a run cancelled as its band
        answered went on connecting and streaming on Python 3.11 (test_session_cancel.py)."""
        try:
            return await within(aw, K.REQUEST_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise LinkTimeoutError("the band did not answer in time") from None

    async def _time_sync(self) -> tuple[int, float, SinceBoot | None]:
        """Give the band wall time; returns (band ms, wall s, the host's since-boot reading) of one
        instant, for its events' times: of up to SYNC_EXCHANGES exchanges begun within
        SYNC_BUDGET_S, the one of least round trip. The since-boot reading is taken here, with the
        wall's, not when the sync is stored seconds later (after the backfill's request): a step
        of the wall in between would pair a sync on the old clock with the new clock's reading.

        The band keeps the wall time of the last one it answered, which need not be the one kept
        here: it only flags its records as synced by it (EF_TIME_SYNCED), and every time it sends
        is its own ms, placed by the pair returned (docs/protocol.md, "Host session")."""
        loop = asyncio.get_running_loop()
        until = loop.time() + K.SYNC_BUDGET_S  # real time, as the request timeouts: the connect's wait
        done: list[SyncExchange] = []
        # (Not more once a command is asked for: the stream waits for its exchanges, see _stream.)
        while not done or (len(done) < K.SYNC_EXCHANGES and loop.time() < until and not self._asked):
            async with self._commanding:  # timed from its own write: a wait for another's answer (the bonds count) is no round trip
                sent, host = self.wall(), self.since_boot()
                resp = await self._command(P.encode_time_sync(int(sent), int(sent * 1000) % 1000))
            done.append(SyncExchange(int(resp["arg"]), sent, self.wall() - sent, host))
        best = best_sync(done)
        self._log_sync(best, done)
        return best.band_ms, best.wall_s, best.since_boot

    def _log_sync(self, best: SyncExchange, done: Sequence[SyncExchange]) -> None:
        """Each sync at DEBUG; at INFO when the link turns slow (its least round trip over
        SYNC_SLOW_RTT_S) and when it is back under half of that, not at every (re)connect."""
        was = self._sync_slow
        if best.rtt_s > K.SYNC_SLOW_RTT_S:
            self._sync_slow = True
        elif best.rtt_s < K.SYNC_SLOW_RTT_S / 2:
            self._sync_slow = False
        level = logging.INFO if self._sync_slow != was else logging.DEBUG
        how = "slow link: " if self._sync_slow else ""
        log.log(
            level, "%s: clock synced, %sevent times within %.0f ms (least round trip %.0f ms of %d exchanges, spread %.0f ms)",
            self.label, how, best.rtt_s * 500, best.rtt_s * 1000, len(done), rtt_spread_s(done) * 1000,
        )  # fmt: skip

    async def _imu_rate(self) -> float | None:
        """The rate the band's IMU samples at (its step near the configured one), in Hz.

        None when the band is not sampling, or its firmware predates INFO (it answers
        "unknown opcode"): then epochs and raw files go by the configured rate, as before.
        """
        try:
            resp = await self.command(P.encode_info(P.INFO_RATE_MHZ))
        except SessionError as e:
            if e.code != P.E_OPCODE:
                raise
            if not self._rate_unknown_logged:
                self._rate_unknown_logged = True
                log.warning("%s: the band's firmware does not report its IMU rate; update it (spasmwatch flash)", self.label)
            return None
        return int(resp["arg"]) / 1000 or None

    async def _info_revision(self) -> str:
        """The band's firmware revision as 0x2A26 says it, asked with INFO 4 bytes at a time
        (INFO_REVISION..); "" from a firmware from before those items (E_KEY; before INFO, E_OPCODE)."""
        chunks: list[int] = []
        for item in range(P.INFO_REVISION, P.INFO_REVISION + P.INFO_REVISION_ITEMS):
            try:
                chunks.append(int((await self.command(P.encode_info(item)))["arg"]))
            except SessionError as e:
                if e.code not in (P.E_KEY, P.E_OPCODE):
                    raise
                return ""
            if P.revision_ended(chunks[-1]):
                break
        return str(P.revision_text(chunks))

    async def _backfill(self, device: str, boot: int, band_ms: int) -> None:
        """Ask for every event after the last one stored. A band that refuses as the host is
        past its log (E_VALUE, arg = its next_seq: erased since its STATUS was read) starts a
        new log life, rather than a FAULT retried for ever with the same request."""
        try:
            await self._send_backfill(device)
        except SessionError as e:
            if e.code != P.E_VALUE:
                raise
            self._life = self.sink.log_life(device, boot, e.arg, band_ms, erased=True)
            await self._send_backfill(device)

    async def _send_backfill(self, device: str) -> None:
        self._backfill_from = self.sink.next_backfill_seq(device)
        # The band sends every event from here again, in seq order: this link's count starts here.
        self._run_end = self._band_next = self._backfill_from
        self._ahead.clear()
        self._left = {s for s in self._left if s >= self._backfill_from}  # (the store holds those before)
        self._gap = None
        self._epochs_unended = self._end_wait = None
        await self.command(P.encode_backfill(self._backfill_from - self._life.seq))
        self._start_wait = asyncio.get_running_loop().time()  # (its records are taken after this, by the stream)

    async def command(self, data: bytes) -> Record:
        """Write a control command and wait for its RESP; SessionError if the band refuses it.
        Its RESP garbled on the way (``_on_garbled``), it is sent again at once, up to
        K.RESP_RESENDS times (``_RESENT_OPS``); then its answer is awaited REQUEST_TIMEOUT_S."""
        async with self._commanding:
            return await self._command(data)

    async def ask(self, data: bytes) -> Record:
        """A command the family asks for (``command``) on the link the session holds, between its
        own; DisconnectedError while the band is not connected and streaming (a connect under way
        sends its own sequence: asked then, the family's waited for it, connect timeouts and all)."""
        if self.state not in _LINKED:
            raise DisconnectedError(f"its link: {self.state.value}")
        self._asked += 1
        self._turn_free.clear()
        try:
            return await self.command(data)
        finally:
            self._asked -= 1
            if not self._asked:
                self._turn_free.set()

    async def _command(self, data: bytes) -> Record:
        link = self.link
        if link is None:
            raise DisconnectedError("no link")
        _drain(self._resp)
        await self._req(link.write(P.CONTROL_UUID, data))
        op, resent = data[1], 0
        while True:
            resp: Record = await self._req(self._answer())
            if "version" in resp:
                raise _other_version(int(resp["version"]))
            if resp["opcode"] != op:
                continue
            if "garbled" in resp:
                if op in _RESENT_OPS and resent < K.RESP_RESENDS:
                    resent += 1
                    log.info("%s: the band's answer to command %#04x came garbled; sent again", self.label, op)
                    await self._req(link.write(P.CONTROL_UUID, data))
                continue
            if resp["code"] == P.E_AUTH:  # the link is encrypted (secure() saw to it) but the band did not bond
                raise SessionError(NOT_BONDED, P.E_AUTH)
            if resp["code"] != P.OK:
                raise SessionError(f"band refused command {op:#04x}: {resp['error']}", resp["code"], int(resp["arg"]))
            return resp

    async def _answer(self) -> Record:
        """The next RESP, or DisconnectedError once the link is lost: a command a drop cut off (the
        bonds count sent as the link came up) ends with it, not REQUEST_TIMEOUT_S later, holding the
        next connection's commands (its sync) back meanwhile."""
        get, lost = asyncio.ensure_future(self._resp.get()), asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait((get, lost), return_when=asyncio.FIRST_COMPLETED)
        finally:
            get.cancel()
            lost.cancel()
        if get.done() and not get.cancelled():
            return get.result()
        raise DisconnectedError("the link went before the band answered")

    # --- streaming ------------------------------------------------------------------
    def _on_record(self, data: bytes) -> None:
        # Records carry their own type: one queue keeps the band's order across characteristics.
        self._records.put_nowait((bytes(data), self.wall()))

    def _on_control(self, data: bytes) -> None:
        rec = control_resp(bytes(data), self._decode)
        if rec is not None:
            self._resp.put_nowait(rec)

    def _on_garbled(self, data: bytes) -> None:
        """A record the link dropped for its CRC (serial noise) that reads as a RESP, by its size,
        type and opcode (noise elsewhere in it, its CRC or its arg, leaves them): the answer of the
        command of that opcode, lost. Waited out, the connect failed after REQUEST_TIMEOUT_S and the
        link was closed and opened again; ``command`` sends it again instead."""
        if len(data) == P.RESP_SIZE and data[1] == P.T_RESP:
            self._resp.put_nowait({"type": "resp", "garbled": True, "opcode": data[2]})

    def _decode(self, data: bytes) -> Record | None:
        try:
            rec: Record = P.decode(data)
            return rec
        except P.ProtocolError as e:
            # A malformed record is logged and counted, never fatal (design: protocol rules). Said
            # once per kind of refusal: a newer band's new record type came with every backfill,
            # a line each, all night; the rest are counted (the status's bad_records).
            self.decode_errors += 1
            first = str(e) not in self._refused and len(self._refused) < K.BAD_RECORD_KINDS
            if first:
                self._refused.add(str(e))
            log.log(logging.WARNING if first else logging.DEBUG, "%s: dropped a bad record (%s)%s: %s", self.label, e,
                    " (more like it are only counted)" if first else "", data.hex())  # fmt: skip
            return None

    async def _stream(self) -> None:
        assert self.info is not None
        device = self.info.device
        lost = asyncio.ensure_future(self._lost.wait())
        loop = asyncio.get_running_loop()
        heard = loop.time()
        try:
            while not self._lost.is_set():
                get = asyncio.ensure_future(self._records.get())
                wake = heard + self.stale_s
                due = self._gap_due_at()  # a missing event's (or end's) wait ends before the next record
                steady = self._flap.steady_in(self.mono())  # as does a flapping link's wait to be steady
                if steady is not None:
                    due = min(due or wake, loop.time() + steady)
                # While a command the family asked for has the turn (its answer may be slow: a flash
                # write that stalls), the stream's own commands wait for its end, not in the turn's
                # queue: they stopped the stream, and a cluster's third spasm waited in the queue for
                # the answer (the alarm up to REQUEST_TIMEOUT_S late; test_bonds_ask.py).
                free = None if self._turn_free.is_set() else asyncio.ensure_future(self._turn_free.wait())
                waits = {get, lost} if free is None else {get, lost, free}
                until = wake if free is not None else min(wake, due or wake)  # (a gap due is acted on once it is free)
                done, _ = await asyncio.wait(waits, timeout=max(0.0, until - loop.time()), return_when=asyncio.FIRST_COMPLETED)
                if free is not None:
                    free.cancel()
                if said := self._flap.steady(self.mono()):
                    log.info("%s: %s", self.label, said)
                if get in done:
                    heard = loop.time()
                    if self.state is State.STALE:
                        self._set(State.STREAMING)
                    self._take(device, *get.result())
                else:
                    get.cancel()
                    if lost in done:
                        continue
                    if loop.time() - heard >= self.stale_s:
                        self._set(State.STALE, f"nothing heard for {self.stale_s:.0f} s")
                        raise LinkTimeoutError("band silent")
                missing = self._missing(loop.time())
                if missing is not None and not self._refill:
                    self._gap_asked = missing
                    self._refill = f"seq {missing}, which the band holds and this link did not deliver in {K.LIVE_GAP_S:.0f} s"
                if (self._end_lost(loop.time()) or self._start_lost(loop.time())) and not self._refill:
                    self._ask_end()
                if self._asked:
                    continue
                if self._step_s or self.wall() - self._clock.wall_s >= self.resync_s:
                    await self._resync(device)
                if self._refill:
                    # A sync point first: the store may have refused this link's (it failed, or was not
                    # open, at the connect). Without one the events it refused were stored unplaced, and
                    # the rebuild at the backfill's end alarmed their cluster a second time.
                    await self._resync(device)
                    if self._asked:
                        continue  # (asked for during the sync: after it)
                    log.info("%s: asking the band again for %s", self.label, self._refill)
                    self._refill = ""
                    await self._backfill(device, self._clock.boot, self._clock.now_ms(self.wall()))
        finally:
            lost.cancel()
            self._take_queued(device)  # also when a resync failed (its TIME_SYNC timed out)
        raise DisconnectedError("the band disconnected")

    def _take_queued(self, device: str) -> None:
        """What the link delivered before it dropped or failed is the band's word all the same:
        events would come back by BACKFILL, but ACTIVITY and STATUS are never sent again."""
        while not self._records.empty():
            self._take(device, *self._records.get_nowait())

    def _take(self, device: str, data: bytes, received_s: float) -> None:
        rec = self._decode(data)
        if rec is not None:
            self._handle(device, rec, received_s)

    async def _resync(self, device: str) -> None:
        """A new sync point on a long connection (RESYNC_S), or after the host clock stepped."""
        if self._step_s:
            log.warning("%s: the host's clock stepped by %+.0f s; the band's clock is synced again", self.label, self._step_s)
            self._step_s = 0.0
        band_ms, wall_s, host = await self._time_sync()
        self._set_clock(self._clock.resynced(band_ms, wall_s, self._seen_ms), host)
        self._seen_ms = max(self._seen_ms, self._clock.ms)
        self.sink.on_sync(device, self._clock.boot + self._life.boot, self._clock.ms, wall_s, host)

    def _set_clock(self, clock: BandClock, host: SinceBoot | None) -> None:
        """The band's clock as a sync read it, with the host's since-boot reading taken with it
        (None: this computer gives none): what later tells a step of the host's wall (``_wall_stepped_s``)."""
        self._clock = clock
        self._footing = None if host is None else (host.boot_id, clock.wall_s - host.s)

    def _wall_stepped_s(self) -> float | None:
        """How far the host's wall has been stepped since the latest sync, by its since-boot clock,
        which no step moves (docs/host.md "Time"); None where that clock is not read (not Linux)."""
        wall, host = self.wall(), self.since_boot()
        if host is None or self._footing is None or host.boot_id != self._footing[0]:
            return None
        return wall - host.s - self._footing[1]

    def _handle(self, device: str, band_rec: Record, received_s: float) -> None:
        if band_rec["type"] == "bootlink" and not band_rec["prev_boot"] < band_rec["boot"] <= self._clock.boot:
            # Kept in the band's flash from before its boot count started again (its u16 wrap, a
            # state.bin it could not read): a boot after the current one is none of this count's,
            # and mapped into this life it would name a boot still to come. The link across the wrap
            # (boot 0 to 65535) names a boot of the count before, which has no host number when the
            # host missed the last boots before the wrap (the store numbers the new life on from the
            # highest boot it holds): one link in 65536 boots, not guessed.
            log.debug("%s: dropped the band's link of boot %d to %d (its current boot: %d): not of this count", self.label,
                      band_rec["boot"], band_rec["prev_boot"], self._clock.boot)  # fmt: skip
            return
        placed = self._clock.to_host(band_rec, received_s, self._seen_ms)
        if placed.get("boot") == self._clock.boot:  # the band's clock only goes forward within a boot
            for f in _MS_FIELDS.get(placed["type"], ()):
                self._seen_ms = max(self._seen_ms, int(placed[f]))
            if placed["type"] == "activity":
                held, self._held_next = self._held_next, False
                if not held and int(placed["t_ms"]) >= self._live_from_ms:
                    self._check_step(int(placed["t_ms"]), received_s)
        if placed["type"] == "loginfo" and placed["flags"] & P.LF_HELD:
            # The band marks an epoch that waited there (its stack busy, no host yet, a backfill)
            # over HELD_MS: late by its wait, it is no reading of the band's clock now.
            self._held_next = True
        if placed["type"] == "loginfo" and placed["flags"] & P.LF_DONE:
            # The band sends an epoch only when no stored event waits: those that ended during
            # the backfill come after its end (this LOGINFO), late by up to its length. Where the
            # band's clock was then is estimated by the sync of seconds before: a host step
            # forward within them puts this mark (and its detection) off by the step's size, an
            # hour at most (RESYNC_S catches a larger one at once); one back, not at all.
            self._live_from_ms = max(self._live_from_ms, self._clock.now_ms(received_s))
        rec = self._life.to_host(placed)
        if rec["type"] in _MS_FIELDS and band_rec["boot"] != self._clock.boot:  # an older boot's: by what the store holds of it
            marks = self.sink.boot_marks(device, int(rec["boot"]), rec.get("seq"))
            rec = older_on_lap(rec, marks, self._clock.wall_s_at(0))
        if rec["type"] == "loginfo" and rec["flags"] & P.LF_GAP:
            # The band's ring overwrote events we never got: say so once, stop asking.
            self.sink.on_lost(device, self._backfill_from, int(rec["oldest_seq"]) - 1)
        self._count_delivered(rec)
        self._check_end(rec)
        self.sink.on_record(device, rec, received_s)

    def _check_end(self, rec: Record) -> None:
        """Ask for a BACKFILL's end again (``_refill``) when this link lost it: until it comes the
        daemon holds every epoch back and closes no cluster by time. Lost to noise on serial (its
        frame's CRC failed), it never came on that link: the epochs held all night, the cluster
        and its alarm open until a reconnect. The band sends an epoch only once that end is sent,
        so the second epoch after the BACKFILL's start without it says it was lost (not the first:
        one the band was sending as the BACKFILL came can pass the start, ``K.END_LOST_EPOCHS``).
        Once per BACKFILL and link, as a missing event is.

        The start lost too (one burst of noise takes both when nothing is to be backfilled: they
        go back to back), neither rule had a start to count from: the BACKFILL's first event
        stands for it, and none of its records at all is ``_start_lost``'s."""
        kind = rec["type"]
        if kind == "loginfo" and not rec["flags"] & P.LF_HELD:
            self._start_wait = None
            # A BACKFILL's start (its events, then its end, follow), or its end
            self._epochs_unended = None if rec["flags"] & P.LF_DONE else 0
        elif kind == "event" and self._start_wait is not None and int(rec["seq"]) >= self._backfill_from:
            self._start_wait = None  # its start lost: its first event stands for it
            self._epochs_unended = 0
        if kind == "event":  # the clock's rule waits from its latest event: a start lost, it knows no next_seq to wait for
            self._end_wait = None
        if kind == "activity" and self._epochs_unended is not None:
            self._epochs_unended += 1
            if self._epochs_unended > K.END_LOST_EPOCHS and self._end_asked != self._backfill_from and not self._refill:
                self._ask_end()

    def _ask_end(self) -> None:
        """Ask for the latest BACKFILL again, its end lost on this link (once per BACKFILL and link)."""
        self._end_asked = self._backfill_from
        self._start_wait = None
        self._refill = f"the events from seq {self._backfill_from}: this link did not deliver their BACKFILL's end"

    def _end_lost(self, now: float) -> bool:
        """Whether this link lost its BACKFILL's end by the clock (loop time ``now``): the band sends
        it right after the last event it holds, so every one of those delivered (the start's and
        STATUS's next_seq say which) and no end for LIVE_GAP_S says it was lost. The epochs'
        rule (``_check_end``) cannot tell on a band that senses nothing (a critical battery, safe
        mode): it sends no epochs, and the daemon stayed backfilling, no cluster closed by time."""
        if self._epochs_unended is None or self._band_next > self._run_end or self._end_asked == self._backfill_from:
            self._end_wait = None
            return False
        if self._end_wait is None:
            self._end_wait = now
        return now - self._end_wait >= K.LIVE_GAP_S

    def _start_lost(self, now: float) -> bool:
        """Whether this link lost its BACKFILL's start and end by the clock (loop time ``now``): the
        band sends the start right after its RESP, so none of its records LIVE_GAP_S after that
        says both were lost. The epochs the band held for the connect (sent at its first
        TIME_SYNC, before the BACKFILL) are none of its records: they neither end the wait nor count."""
        return self._start_wait is not None and now - self._start_wait >= K.LIVE_GAP_S and self._end_asked != self._backfill_from

    def _count_delivered(self, rec: Record) -> None:
        """Note what ``rec`` (host seqs) says of the band's events this link delivered or lacks."""
        kind = rec["type"]
        if kind == "event":
            seq = int(rec["seq"])
            self._band_next = max(self._band_next, seq + 1)
            if seq >= self._run_end:
                self._ahead.add(seq)
        elif kind in ("status", "loginfo"):
            self._band_next = max(self._band_next, int(rec["next_seq"]))
            if kind == "loginfo" and rec["flags"] & P.LF_GAP:  # those before oldest_seq are gone: none to wait for
                self._run_end = max(self._run_end, int(rec["oldest_seq"]))
                self._ahead = {s for s in self._ahead if s >= self._run_end}
        if len(self._ahead) > K.LIVE_AHEAD_MAX:  # the band no longer holds the missing ones: stop waiting
            log.debug("%s: seqs %d-%d not delivered on this link, %d after them: left to the next connection",
                      self.label, self._run_end, min(self._ahead) - 1, len(self._ahead))  # fmt: skip
            self._run_end = min(self._ahead)
        self._move_run_end()

    def _move_run_end(self) -> None:
        """Move the mark past the seqs delivered (or left) from it on."""
        while self._run_end in self._ahead or self._run_end in self._left:
            self._ahead.discard(self._run_end)
            self._run_end += 1

    def _missing(self, now: float) -> int | None:
        """The first event the band holds that this link has not delivered for LIVE_GAP_S (loop
        time ``now``) and was not asked for again yet; None if none is due."""
        if self._band_next <= self._run_end:
            self._gap = None
            return None
        if self._gap is None or self._gap[0] != self._run_end:
            self._gap = (self._run_end, now)
        if now - self._gap[1] < K.LIVE_GAP_S:
            return None
        if self._gap_asked != self._run_end:
            return self._run_end
        # Asked for again (the BACKFILL restarted the wait) and still not delivered: left to the
        # next connection, so that a later loss on this link is still asked for.
        log.info("%s: seq %d not delivered when asked for again; the next connection asks", self.label, self._run_end)
        self._left.add(self._run_end)
        self._move_run_end()
        self._gap = None
        return self._missing(now)

    def _gap_due_at(self) -> float | None:
        """Loop time at which the missing event seen (if any) is asked for again, or left, or the
        BACKFILL's end awaited is (``_end_lost``), or any of its records (``_start_lost``)."""
        waits = [t + K.LIVE_GAP_S for t in (None if self._gap is None else self._gap[1], self._end_wait, self._start_wait) if t is not None]
        return min(waits) if waits else None

    def _check_step(self, t_ms: int, received_s: float) -> None:
        """An epoch sent as it ended is a live reading of the band's clock: far from the host's
        estimate of it at its arrival, the host's wall clock was stepped (CLOCK_STEP_S).

        Only epochs that ended from ``_live_from_ms`` on are judged, by the band's own ms. The
        band holds its last 4 epochs while no host is there and sends them at the connect's
        first TIME_SYNC, each as old as its wait: read as live, a reconnect after a minute out
        of range logged "stepped by +39 s" (+29, +19, +9) and synced again for each. Nor one
        the band marked as held (a LOGINFO with LF_HELD just before it: it waited there over
        P.HELD_MS, e.g. behind a stack that stayed busy): a stall of two epochs flushed their
        ends 20 and 10 s late, read as a confirmed step of +20 s. Firmware from before the mark
        sends none, and gets the rules above alone.

        An epoch early on the host's clock can only be a step back: judged at once. One late may
        be a step forward or one delivery held up (the band's process or radio stalled: a loaded
        host's serial soak saw +10 s once), so the next epoch confirms it, 10 s later; a step
        forward the hourly resync would catch anyway."""
        skew_s = (self._clock.now_ms(received_s) - t_ms) / 1000
        late, self._late_s = self._late_s, 0.0
        if skew_s < -K.CLOCK_STEP_S or (skew_s > K.CLOCK_STEP_S and late):
            self._on_skew(skew_s)
        elif skew_s > K.CLOCK_STEP_S:
            self._late_s = skew_s

    def _on_skew(self, skew_s: float) -> None:
        """Live epochs ``skew_s`` off the band's clock as synced (late: positive): a step of the host's
        wall, if its since-boot clock says so, or where it has none (not Linux: the epochs alone tell).
        Else the band is off (K.CLOCK_STEP_S): it lags (a simulated band behind its pace on a loaded
        machine, which marks nothing as held; a link that queues) or its clock runs off. Said once a
        connection and not synced again for: a sync reads the band's clock, which a lag does not
        move, and its drift the hourly sync takes (a simulated band at 3/4 of the host's pace was
        synced every ~30 s)."""
        stepped = self._wall_stepped_s()
        if stepped is None or abs(stepped) > self.host_step_s:
            self._step_s = skew_s if stepped is None else stepped
        elif not self._lag_said:
            self._lag_said = True
            log.info(
                "%s: the band's epochs reach this computer %+.0f s off its clock as synced, and this computer's clock "
                "was not stepped (its since-boot clock says so): the band lags or its clock runs off; not synced again for it",
                self.label, skew_s,
            )  # fmt: skip


def _same_rate(running_hz: float | None, configured_hz: int) -> bool:
    """Whether the band samples at the configured rate's step (K.RATE_STEP_PCT); unknown (not
    sampling, or firmware from before INFO) counts as the same: a reboot would not tell more."""
    return running_hz is None or abs(running_hz - configured_hz) * 100 <= configured_hz * K.RATE_STEP_PCT


def _drain(q: asyncio.Queue[Any]) -> None:
    """Forget what a previous link left in the queue."""
    while not q.empty():
        q.get_nowait()
