"""The alert vocabulary shared by the engine, the messages and the channels.

Plain data only, so channels and the daemon can import it without pulling in
the engine, and so every value here maps one-to-one onto the documented
payloads (docs/alerts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import Enum, IntEnum

from spasmwatch.analysis import consts as A
from spasmwatch.clock import first_reading

ClusterKey = int | str
"""The daemon's name for a cluster (the store's cluster id); opaque to the engine."""

# The local alarm sound plays again while nobody has acknowledged the alarm. Every 30 s: a parent
# asleep through the first two-second pattern hears the next within half a minute, and an awake one
# has time to acknowledge before it sounds again.
SOUND_REPEAT_EVERY_S = 30.0
# For at most 10 min after it first played: a cluster lasts minutes, and by then the alarm has been
# escalated to every phone (escalate_after_s, 2 min); the room is then left quiet.
SOUND_REPEAT_FOR_S = 600.0
# The bounds of the alarm settings a config may give ([alerts], [channels.sound]; config.py), each
# past which a safety function is off without a word (hostile-input review: escalate_after_s = 1e308
# was taken, and no alarm ever reached the other phones). A value past one in the file is taken as
# the bound, with a warning (config._upto, review h47: refused, a config the release before took
# stopped the daemon's start after an upgrade); each bound is on the side that says more:
# escalate_after_s (s): an unacknowledged ALARM goes to every phone by then. A cluster lasts minutes
# and the sound stops repeating at SOUND_REPEAT_FOR_S (10 min): later, nobody else hears of it.
ESCALATE_AFTER_MAX_S = 600.0
# rate_limit_s (s): a band fault of one kind is said again at most this often. Past an hour, a band
# that drops out again later in the night, or a battery going on down, is not said for hours.
RATE_LIMIT_MAX_S = 3600.0
# repeat_every_s (s; 0: the alarm plays once): at least the sound's own pattern (about 2 s) apart,
# or players pile up; at most 5 min, past which the alarm plays twice at most in its 10 min, where
# 0 is the way to say once. A value between 0 and the least is taken as the least (it still repeats).
SOUND_REPEAT_EVERY_MIN_S = 2.0
SOUND_REPEAT_EVERY_MAX_S = 300.0
# repeat_for_s (s): at most a night, 12 h; past it the value is a slip, not a choice (an
# unacknowledged alarm is closed by then, keep_unacknowledged_s, 6 h after its cluster).
SOUND_REPEAT_FOR_MAX_S = 12 * 3600.0
# quiet_hours' length (min): at most 14 h, an infant's night (10-12 h) and the evening before it.
# "07:00-06:00" (23 h) held back band faults (battery, not worn) all day, the family awake. Longer
# ones are taken from their start for this long ("07:00-21:00"): fewer faults held.
QUIET_HOURS_MAX_MIN = 14 * 60
# A cluster count held back by update_interval_s goes out when due ("The cluster goes on") only
# while the latest spasm is at most this old (s), from when the band confirmed it (a backfill
# brings spasms minutes late): two to four of the 5-10 s intervals of a cluster. Later it may be over, and its end (CLUSTER_CLOSE_MS, 60 s after its last spasm) gives the
# count; before, `spasmwatch demo` said "goes on" 40 s after the last spasm, 10 s before "ended".
UPDATE_FRESH_S = 20.0
# A cluster whose newest spasm the band confirmed more than this long (s) before its alarm fell due
# is learned late: a backfill after the band was out of reach, or a second computer the band reaches
# later. The analysis closes a cluster CLUSTER_CLOSE_MS (60 s) after its last spasm, so such a one is
# over, unless more of it is still coming in the same backfill. Its alarm is held until the backfill
# says which: a spasm within this of now (it goes on: the alarm, live) or its end (told once, as a
# cluster earlier: NoticeKind.CLUSTER_LATE). Until 2026-12-07 it went out as a live alarm ("film the
# baby now") and escalated 2 min later, to every channel, for a cluster over long before.
LATE_CLUSTER_S = A.CLUSTER_CLOSE_MS / 1000.0
# How long (s) a late cluster's alarm is held at most. Over serial a connect with its sync and
# backfill takes ~0.5 s (tests/daemon/test_flapping_link.py; a real band's BLE link not measured);
# held this long, its data stopped coming (the link dropped again) or is slower than that, and
# whether the cluster goes on is not known: the alarm goes out as live, the safe direction (as
# before 2026-12-07).
LATE_HOLD_S = 30.0


class ClusterState(Enum):
    QUIET = "QUIET"
    WARNING = "WARNING"
    ALARM = "ALARM"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    ESCALATED = "ESCALATED"
    CLOSED = "CLOSED"


class BandState(Enum):
    OK = "OK"
    FAULT = "FAULT"
    STALE = "STALE"


# The languages a push can be worded in ([alerts] language): English and a catalog each
# (alerts/lang/<code>.py); the web page too (its "page." keys). The CLI stays English.
LANGUAGES = ("en", "de", "es", "fr")


class BandFault(Enum):
    """What can be wrong with a band. ``disconnected`` is the STALE state; the rest are FAULT."""

    DISCONNECTED = "disconnected"
    NOT_WORN = "not_worn"
    BATTERY_LOW = "battery_low"
    LOG_NEARLY_FULL = "log_nearly_full"
    CLOCK_UNSYNCED = "clock_unsynced"
    SAFE_MODE = "safe_mode"
    SENSOR_ERROR = "sensor_error"
    STORAGE_FAILING = "storage_failing"  # this computer's store refuses writes (disk full), or cannot be opened
    STORE_DAMAGED = "store_damaged"  # the store file itself is damaged: 'spasmwatch store recover', the daemon stopped
    STORE_NEWER = "store_newer"  # a newer spasmwatch changed the store so that this one may not write it: restart or upgrade
    BAND_LOG_FAILING = "band_log_failing"  # the band's flash refused an event (it is lost, live too)
    SAMPLES_LOST = "samples_lost"  # the band's IMU FIFO overran again and again for minutes: motion data lost
    OTHER_BONDS = "other_bonds"  # another central bonded with the band (BONDS COUNT): it can change its settings
    # The band's radio refused to start at boot (STATUS ERR_RADIO, for the rest of that boot): it sensed and
    # logged to flash meanwhile, so its "disconnected" time lost nothing. Its count: the minutes it was off.
    RADIO_LATE = "radio_late"

    @property
    def state(self) -> BandState:
        return BandState.STALE if self is BandFault.DISCONNECTED else BandState.FAULT

    @property
    def stops_detection(self) -> bool:
        """Whether the band cannot detect spasms while it holds (or will not for long: a low battery
        stops it at 3 %; a band off the baby feels none of the baby's movements), as its notice
        says. Quiet hours never hold these unless the family lists them in quiet_faults: held, a
        band that dropped at 23:30 was said at 07:00, and one that slipped off at 1 am too."""
        return self in _STOPS_DETECTION

    @property
    def urgency(self) -> Urgency:
        """How urgent its notice is: HIGH for one that stops detection (the band no longer watches
        the baby: a caregiver filtering at "high" still gets it) and for another device bonded (it
        can set min_confidence so that no spasm is reported: detection stopped for all the family
        can tell), NORMAL for the others. Not URGENT: that is a cluster alarm's, which the local
        sound plays and "urgent only" caregivers get. Every fault was NORMAL until 2026-12-06."""
        return Urgency.HIGH if self in _HIGH else Urgency.NORMAL

    @property
    def news_once(self) -> bool:
        """Whether its raise says all there is, its end no news: radio_late is heard once the radio
        is up, and ends as the band streams (the card needs no attention then); "Band radio OK"
        pushed seconds after it said nothing. Its end is logged and stored all the same."""
        return self is BandFault.RADIO_LATE

    @property
    def source(self) -> str:
        """Who saw it, for the log: a disconnect (no data, link down) and a failing store are
        this computer's findings, the rest the band's status flags."""
        mine = (BandFault.DISCONNECTED, BandFault.STORAGE_FAILING, BandFault.STORE_DAMAGED, BandFault.STORE_NEWER)
        return "the daemon detected it" if self in mine else "band reported it"


_STOPS_DETECTION = frozenset({BandFault.DISCONNECTED, BandFault.NOT_WORN, BandFault.BATTERY_LOW, BandFault.SAFE_MODE,
                              BandFault.SENSOR_ERROR, BandFault.BAND_LOG_FAILING})  # fmt: skip
# HIGH, and not held by quiet hours unless listed: those, and another device bonded, which may be
# hiding spasms tonight (CONFIG min_confidence) and is seen once, when it bonded after a power-on.
_HIGH = _STOPS_DETECTION | {BandFault.OTHER_BONDS}
# What quiet hours hold when the config lists no quiet_faults: every fault detection goes on through.
# Not not_worn (held until 2026-12-06, as README's example held it): a band that slipped off at 1 am
# watches nothing. A band put aside at night on purpose: 'spasmwatch mute', or list it in quiet_faults.
QUIET_FAULTS_DEFAULT = frozenset(f for f in BandFault if f not in _HIGH)


class Urgency(IntEnum):
    """Ordered: channels and caregivers filter with ``>= min_urgency``.

    ALARM is URGENT; an escalation is CRITICAL, which every channel and
    caregiver receives whatever its filter says.
    """

    INFO = 1
    LOW = 2
    NORMAL = 3
    HIGH = 4
    URGENT = 5
    CRITICAL = 6


class NoticeKind(Enum):
    CLUSTER_WARNING = "cluster_warning"
    CLUSTER_ALARM = "cluster_alarm"
    CLUSTER_UPDATE = "cluster_update"
    CLUSTER_ESCALATED = "cluster_escalated"
    CLUSTER_ACKNOWLEDGED = "cluster_acknowledged"
    CLUSTER_CLOSED = "cluster_closed"
    CLUSTER_LATE = "cluster_late"  # a cluster learned after it ended (LATE_CLUSTER_S): told once, as earlier
    FALSE_ALARM = "false_alarm"
    BAND_FAULT = "band_fault"
    BAND_CLEARED = "band_cleared"
    TEST = "test"  # asked for by the family (spasmwatch test-alarm): changes no alert, never sent late
    DAILY_SUMMARY = "daily_summary"  # [alerts] daily_summary: the last 24 h, once a day; changes no alert, never sent late


# The notifications of a cluster's alert, from its warning to its end and a false alarm said of it
# after: MQTT's retained alert state follows them; the dispatcher sends them ahead of band notices.
CLUSTER_KINDS = frozenset(k for k in NoticeKind if k.value.startswith("cluster_") or k is NoticeKind.FALSE_ALARM)


class Audience(Enum):
    """Who a notification is for; the dispatcher resolves it to channels.

    FILTERED: each caregiver and channel whose ``min_urgency`` it reaches.
    ALERTED: the channels that were sent anything for the same cluster (a
    follow-up must reach whoever got the alarm, and nobody else).
    EVERYONE: every configured channel, filters ignored (escalation).
    """

    FILTERED = "filtered"
    ALERTED = "alerted"
    EVERYONE = "everyone"


@dataclass(frozen=True)
class Notification:
    """One message for people and machines; ``id`` is unique within an engine."""

    id: int
    alert_id: int
    device: str
    kind: NoticeKind
    state: str  # the alert's state after the transition (ClusterState / BandState name)
    urgency: Urgency
    title: str
    text: str
    created_t: float  # unix seconds
    cluster_key: ClusterKey | None = None
    fault: BandFault | None = None
    count: int | None = None  # spasms in the cluster so far
    started_t: float | None = None  # first spasm of the cluster, unix seconds
    audience: Audience = Audience.FILTERED
    # The cluster has ended (no spasm for the close time), its alarm open or not: an open alarm
    # whose cluster ended still wants a parent (MQTT ``alarm``), no cluster goes on (``cluster_active``).
    cluster_ended: bool = False

    @property
    def through_dnd(self) -> bool:
        """Whether a phone should sound for it through do-not-disturb: an alarm, an escalation, a
        test alarm (URGENT and up), and a band fault that stops detection, the night the band no
        longer watches the baby (ntfy pushes these at its one priority that passes do-not-disturb).
        Until 2026-12-06 "Band disconnected" went out as a plain notice, silent on a phone set to
        do-not-disturb at night."""
        stops = self.kind is NoticeKind.BAND_FAULT and self.fault is not None and self.fault.stops_detection
        return self.urgency >= Urgency.URGENT or stops

    @property
    def key(self) -> str:
        """This notification's name for consumers to de-duplicate on: the same on every retry and
        every channel (the webhook's ``Idempotency-Key``, ``key`` in the JSON), never another's.

        ``id`` alone is not enough: it restarts at 1 with the daemon, and an alarm restored after a
        restart keeps its ``alert_id``. The creation time in ms is what keeps two runs apart: the
        same device, alert, number and millisecond would need the wall clock set back onto it.
        """
        return f"{self.device}-{self.alert_id}-{self.id}-{round(self.created_t * 1000)}"

    def to_json(self) -> dict[str, object]:
        """The stable payload (schema ``spasmwatch.alert/1``, docs/alerts.md)."""
        return {
            "schema": "spasmwatch.alert/1",
            "key": self.key,
            "id": self.id,
            "alert_id": self.alert_id,
            "device": self.device,
            "kind": self.kind.value,
            "state": self.state,
            "urgency": self.urgency.name.lower(),
            "urgency_level": int(self.urgency),
            "title": self.title,
            "text": self.text,
            "created_t": self.created_t,
            "cluster_key": self.cluster_key,
            "fault": None if self.fault is None else self.fault.value,
            "count": self.count,
            "started_t": self.started_t,
            "cluster_ended": self.cluster_ended,
        }


@dataclass(frozen=True)
class Transition:
    """One state change of one alert, handed to the history hook (the daemon stores it)."""

    alert_id: int
    device: str
    subject: str  # "cluster" or a BandFault value
    cluster_key: ClusterKey | None
    old: str
    new: str
    t: float
    reason: str
    notification: Notification | None  # what is sent with it; None when nothing is (muted, quiet hours, rate limit)
    by: str | None = None  # who acted (acknowledged, marked a false alarm)


@dataclass(frozen=True)
class QuietHours:
    """A daily local-time window such as 22:00-07:00 (it may cross midnight)."""

    start_min: int  # minutes after local midnight
    end_min: int

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"HH:MM-HH:MM"``; ValueError with the offending text otherwise, and for an end that is
        the start ("22:00-22:00": it read as no quiet hours at all, where a family may have meant
        the whole day; either is said plainly: "" or the hours)."""
        try:
            a, b = text.split("-")
            q = cls(_minutes(a), _minutes(b))
        except ValueError:
            raise ValueError(f"quiet hours {text!r}: expected HH:MM-HH:MM, e.g. 22:00-07:00") from None
        if q.start_min == q.end_min:
            raise ValueError(f"quiet hours {text!r}: expected HH:MM-HH:MM, the end not the start, e.g. 22:00-07:00")
        return q

    @property
    def length_min(self) -> int:
        """Minutes from start to end (across midnight: 22:00-07:00 is 540)."""
        return (self.end_min - self.start_min) % (24 * 60)

    def end_after(self, t: float, tz: tzinfo) -> float | None:
        """When the quiet hours that hold ``t`` (epoch s) end, or None when ``t`` is outside them:
        what the engine holds a band notice by, and what a restarted daemon bounds its telling by.
        Each night runs from the first time the clock in ``tz`` reads its start to the first time
        after that it reads its end (``clock.first_reading``). The night the clocks go back, an end in
        the hour read twice is its first reading: a family who chose "until 02:30" reads 02:30 on
        the clock then, and one night holds once (reading the minute of the day, as the engine did
        until review h49, held notices again through the second 02:00-02:30, an hour after the end
        had released them). The night they go forward, an end the clock never reads (02:30 in Paris)
        is the jump (03:00), and so is a start."""
        day = datetime.fromtimestamp(t, tz).date()
        for d in (day - timedelta(days=1), day):  # the night that began the day before, or this day's
            start = first_reading(datetime.combine(d, time()) + timedelta(minutes=self.start_min), tz)
            end = first_reading(datetime.combine(d, time()) + timedelta(minutes=self.start_min + self.length_min), tz)
            if start <= t < end:
                return end
        return None


def _minutes(hhmm: str) -> int:
    h, m = hhmm.strip().split(":")
    hi, mi = int(h), int(m)
    if not (0 <= hi < 24 and 0 <= mi < 60):
        raise ValueError(hhmm)
    return hi * 60 + mi


@dataclass(frozen=True)
class AlertSettings:
    """Engine settings; the daemon builds them from config.

    ``tz`` is the family's local zone for quiet hours and HH:MM in messages
    (None: the host's local zone).
    """

    warning_count: int = 2
    alarm_count: int = 3
    update_interval_s: float = 60.0  # at most one cluster update per this
    escalate_after_s: float = 120.0  # ALARM not acknowledged -> ESCALATED
    warning_expire_s: float = 40.0  # a WARNING with no further spasm is over (analysis MAX_GAP_S)
    # Per (device, band fault kind): a band going in and out of range, or a battery reading
    # about the bar, tells the family at most every 5 min (what config.toml has always defaulted to).
    rate_limit_s: float = 300.0
    quiet_hours: QuietHours | None = None
    quiet_faults: frozenset[BandFault] = QUIET_FAULTS_DEFAULT
    tz: tzinfo | None = None
    keep_closed: int = 200  # closed alerts kept for labels and /api/status (not the page's: ?alerts=open)
    # An alarm whose cluster ended stays open until acknowledged (it escalates, it stays on the
    # page), for at most this long (s) after the cluster's end: as long as a restarted daemon carries
    # it on (daemon/consts.py REBUILD_WINDOW_S). Then it closes, unacknowledged (a mirror such as MQTT
    # shows the alarm off). Without it a family that never acknowledges (the sound is enough for them)
    # kept one open alarm per cluster in memory and on the page for as long as the daemon ran.
    keep_unacknowledged_s: float = 6 * 3600.0
    # [alerts] daily_summary: minutes after local midnight (in ``tz``) of the daily summary the
    # daemon sends each band (None: none). The engine only words it; the daemon schedules it.
    daily_summary_min: int | None = None
    # [alerts] language: the language of every push (alerts/messages.py, catalogs in alerts/lang/).
    language: str = "en"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {self.language!r}")
        if not 1 <= self.warning_count < self.alarm_count:
            raise ValueError("need 1 <= warning_count < alarm_count")
        if self.daily_summary_min is not None and not 0 <= self.daily_summary_min < 24 * 60:
            raise ValueError(f"daily_summary_min must be 0-1439, got {self.daily_summary_min}")
        for name in ("update_interval_s", "escalate_after_s", "warning_expire_s", "rate_limit_s", "keep_unacknowledged_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
