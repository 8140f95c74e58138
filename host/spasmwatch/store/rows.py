"""Typed rows the store hands out, and the caregiver vocabularies it accepts.

Times: ``wall_t`` / ``wall_s`` are float unix seconds on the host clock;
``*_ms`` are band milliseconds since the band's boot ``boot``. Band values
keep the band's integer units (lossless); properties convert them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

LABELS = ("confirmed", "false_alarm")
NOTE_KINDS = ("video", "medication", "note")
# The longest note text (characters). A note is a line of the caregiver's log, printed beside the
# clusters in 'events', the report and the exports; a longer one is a paste gone wrong. One limit for
# 'spasmwatch note', the web API and a treatment's --note (the store refuses it: check_note_length);
# notes kept before stay as they are.
MAX_NOTE_CHARS = 4000
# How far after this computer's clock a note or a treatment may be dated (s): nothing is logged
# ahead of time, so later is a typo ('--at 2062-...' for 2026, a wrong month, a day 2 ahead). Not
# less: a time typed without a zone is read in this computer's zone, and one set to UTC (a
# Raspberry Pi's default) reads a family's UTC+14 time 14 h ahead; 26 h is the widest gap between
# two zones (UTC-12 to UTC+14). The refusal prints this computer's time too: one whose clock is
# behind (no network time yet) refuses a right date, and says so.
MAX_AHEAD_S = 26 * 3600.0
# How far before this computer's clock a note or a treatment may be dated (s): 5 years. Spasms start
# by 12 months in nearly all babies and seldom go on past 4 years, so an older date is before
# anything the band watches: a mistyped year ('2016' for 2026, '2006'), kept on the log and the
# report out of order. A treatment begun before the band (months back) is well inside it.
MAX_BEHIND_S = 5 * 365.25 * 86400.0
TREATMENT_ACTIONS = ("start", "stop", "change")
# Within this much of an identical entry (same drug, action, dose and unit), 'treatment add' takes
# a new one for the same change typed twice (s): a command run again after an unclear answer, or
# both parents recording the morning's start, each with their own --at. There is no 'treatment
# remove', and the report and the daily summary count each entry (one start read as two). A real
# repeat of the same change comes days apart (a dose raised every 3-7 days, a course of 2 weeks);
# '--again' records one anyway.
SAME_TREATMENT_S = 12 * 3600.0
# States that end an alert (cluster: CLOSED; band: OK / QUIET).
ALERT_END_STATES = ("CLOSED", "OK", "QUIET")


class FieldError(ValueError):
    """A value the store refuses, with the field it came in: the web API says the message as it
    is, the CLI names its option in front of it (``--dose: dose must not be negative``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_plausible(wall_s: float, now_s: float) -> None:
    """FieldError ``at`` for a note or treatment dated more than MAX_AHEAD_S after ``now_s`` or
    more than MAX_BEHIND_S before it. For a time someone typed ('note' / 'treatment add --at'); the
    web API takes none (the daemon stamps a note with its clock), and add_note does not check it: a
    daemon's clock may be a simulated one."""
    ahead_s = wall_s - now_s
    if ahead_s > MAX_AHEAD_S:
        span = f"{ahead_s / 3600:.0f} hours" if ahead_s < 2 * 86400 else f"{ahead_s / 86400:,.0f} days"
        raise FieldError(
            "at",
            f"{_local(wall_s)} is {span} after this computer's clock ({_local(now_s)}): a typo? A note or treatment "
            f"is dated at most {MAX_AHEAD_S / 3600:g} h ahead (if the clock is wrong, set it)",
        )
    if -ahead_s > MAX_BEHIND_S:
        raise FieldError(
            "at",
            f"{_local(wall_s)} is {-ahead_s / (365.25 * 86400):.1f} years before this computer's clock "
            f"({_local(now_s)}): a typo in the year? A note or treatment is dated at most "
            f"{MAX_BEHIND_S / (365.25 * 86400):g} years back",
        )


def _local(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M %Z")


def check_note(kind: str, text: str) -> str:
    """The text to keep, without surrounding spaces, whoever writes it (CLI, web API, the tests'
    stand-in); ValueError for a note no one may keep."""
    if kind not in NOTE_KINDS:
        raise ValueError(f"note kind must be one of {', '.join(NOTE_KINDS)}, got {kind!r}")
    text = text.strip()
    if not text:
        raise ValueError("note text is empty")
    check_note_length(text)
    return text


def check_note_length(text: str, field: str = "text") -> None:
    """FieldError for free text longer than MAX_NOTE_CHARS: a caregiver note's, a treatment's note."""
    if len(text) > MAX_NOTE_CHARS:
        raise FieldError(field, f"note text is longer than {MAX_NOTE_CHARS} characters ({len(text)}): shorten it; nothing was saved")


# Common names written one way, so reports group them; any other drug is kept as typed.
_DRUGS = {
    "acth": "ACTH",
    "corticotropin": "ACTH",
    "acthar": "ACTH",
    "prednisolone": "prednisolone",
    "prednisone": "prednisone",
    "vigabatrin": "vigabatrin",
    "sabril": "vigabatrin",
}


def normalise_drug(name: str) -> str:
    """``" acth "`` -> ``"ACTH"``; unknown names are stripped, case kept. ValueError if empty."""
    clean = " ".join(name.split())
    if not clean:
        raise ValueError("treatment: drug name is empty")
    return _DRUGS.get(clean.casefold(), clean)


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    name: str | None
    address: str | None
    transport: str | None
    board: str | None
    firmware: str | None
    first_seen_wall_s: float
    last_seen_wall_s: float
    rate_hz: float | None = None  # its IMU's rate as the band reported it (None: not yet, or older firmware)


@dataclass(frozen=True)
class EventRow:
    """One spasm event record as the band logged it, placed on the wall clock."""

    id: int
    device: str
    boot: int
    seq: int
    onset_ms: int  # band ms since boot
    duration_ms: int
    peak_rate_mrads: int
    peak_angle_mrad: int
    confidence: int  # 0-100
    flags: int
    wall_t: float | None  # onset on the wall clock; None until a sync of this boot exists
    received_wall_s: float

    @property
    def duration_s(self) -> float:
        return self.duration_ms / 1000.0

    @property
    def peak_rate_dps(self) -> float:
        return math.degrees(self.peak_rate_mrads / 1000.0)

    @property
    def peak_angle_deg(self) -> float:
        return math.degrees(self.peak_angle_mrad / 1000.0)


@dataclass(frozen=True)
class ActivityRow:
    """One activity epoch; ``t_ms`` and ``wall_t`` are the epoch's end."""

    id: int
    device: str
    boot: int
    t_ms: int
    activity: int  # active samples in the epoch
    breath: int  # % of white-noise variance
    off_body: bool
    worn: int  # 1 worn, 0 not worn, -1 unknown
    wall_t: float | None
    received_wall_s: float


# A STATUS record's fields the store keeps (its columns), named as the protocol decodes them.
STATUS_FIELDS = ("battery_pct", "worn", "log_fill_pct", "flags", "errors", "boot", "uptime_s", "next_seq")


@dataclass(frozen=True)
class StatusRow:
    id: int
    device: str
    received_wall_s: float
    battery_pct: int | None
    worn: int | None
    log_fill_pct: int | None
    flags: int | None
    errors: int | None
    boot: int | None
    uptime_s: int | None
    next_seq: int | None

    def record(self) -> dict[str, int]:
        """The STATUS's fields as the protocol decodes them (those stored NULL left out)."""
        return {k: v for k in STATUS_FIELDS if (v := getattr(self, k)) is not None}


@dataclass(frozen=True)
class Replaced:
    """A band boot whose times were placed again: its syncs were made on a host clock stepped since."""

    device: str
    boot: int  # host numbers
    step_s: float  # how far its times moved (the wall's step since its syncs; the largest, if they differ)
    events: int  # of its events, those that moved (those placed from a sync made since the step stay)
    epochs: int  # of its epochs, those that moved
    clusters: int  # stored clusters of its events moved with them (the others are the rebuild's)


@dataclass(frozen=True)
class BootLinkRow:
    """The band's word on how boot ``boot`` followed ``prev_boot`` (protocol BOOTLINK; host numbers):
    ``prev_boot``'s ms ``prev_ms`` was ``gap_ms`` before ``boot``'s ms 0, within +-``err_ms``."""

    device: str
    boot: int
    prev_boot: int
    cause: int  # 1 hard reset, 2 watchdog, 3 soft, 4 deep sleep, 5 a brown-out (read as a power-on)
    flags: int  # 0x01: the gap measured through the reset (err a few ms); else estimated
    prev_ms: int
    gap_ms: int
    err_ms: int
    received_wall_s: float


@dataclass(frozen=True)
class Linked:
    """A band boot with no time sync of its own, placed through the band's boot links from boot
    ``via`` (which has one), ``hops`` links away, within +-``err_s`` of where its syncs would put it."""

    device: str
    boot: int  # host numbers
    via: int
    hops: int
    err_s: float
    events: int  # its events that had no wall time and have one now
    epochs: int  # its epochs that had none and have one now
    moved_events: int  # its events placed before (through another link, or a sync since stepped) that moved
    moved_epochs: int


@dataclass(frozen=True)
class SyncRow:
    device: str
    boot: int
    band_ms: int
    wall_s: float  # the host's wall clock when the sync was made
    host_boot: str | None = None  # the computer's boot it was made in (None: not known, before schema v9)
    host_boot_s: float | None = None  # that boot's since-boot seconds then, on the wall's scale
    stepped_s: float | None = None  # the wall's step found since (None: none): on today's clock it is wall_s + this

    @property
    def placed_s(self) -> float:
        """The sync's instant on the host's clock as it reads now: what its boot's band times are placed from."""
        return self.wall_s + (self.stepped_s or 0.0)


@dataclass(frozen=True)
class BootMarks:
    """What the store holds of a band boot that puts a u32 band ms of it on its lap (the session's
    ``older_on_lap``), in that boot's band ms as stored (unwrapped): its latest sync, made at
    ``sync_s`` on the host's clock as it reads now, and the onset of its stored event of the seq
    asked, else of the next seq it holds (None: none, or no seq asked)."""

    sync_ms: int
    sync_s: float
    next_onset_ms: int | None


@dataclass(frozen=True)
class LostRange:
    """Seqs the band no longer held when the host asked (LOGINFO gap)."""

    device: str
    first_seq: int
    last_seq: int
    wall_s: float  # when the loss was found


@dataclass(frozen=True)
class LogLife:
    """One life of a band's flash log: the store's boot and seq = the band's + these offsets.

    A new life starts when the band's numbers restart (its flash was erased);
    ``since_wall_s`` is None for the first life, which has offsets 0.
    """

    device: str
    since_wall_s: float | None
    boot_offset: int
    seq_offset: int


@dataclass(frozen=True)
class ClusterRow:
    id: int
    device: str
    key: str  # the caller's stable identity of the cluster
    start_t: float  # wall seconds
    end_t: float
    count: int
    alert_t: float | None
    post_wake_s: float | None
    closed: bool
    updated_wall_s: float
    label: str | None  # the latest label, if any
    label_by: str | None = None  # who gave the latest label (clusters --label --by, the web page's name)


@dataclass(frozen=True)
class AlertRow:
    """One alert state transition (the alert is identified by device, kind, cluster)."""

    id: int
    cluster_id: int | None
    device: str | None
    kind: str
    state: str
    wall_s: float
    text: str
    channels: tuple[str, ...]  # where it was sent
    by: str | None
    alert_id: int | None = None  # the alert engine's id (None: stored before schema v5)


@dataclass(frozen=True)
class LabelRow:
    id: int
    cluster_id: int
    label: str
    by: str | None
    wall_s: float


@dataclass(frozen=True)
class NoteRow:
    id: int
    wall_s: float
    kind: str
    text: str
    device: str | None
    by: str | None


@dataclass(frozen=True)
class TreatmentRow:
    id: int
    wall_s: float
    drug: str
    action: str
    dose: float | None
    unit: str | None
    note: str | None
    by: str | None


@dataclass(frozen=True)
class OutgoingRow:
    """A notification a channel handed on and its receiver had not acknowledged (``outbox``)."""

    id: int
    channel: str
    key: str  # Notification.key: what the receiver de-duplicates on
    device: str
    payload: str  # what the channel sends (MQTT: the event's JSON)
    created_t: float
    urgency: int
    kept_wall_s: float


@dataclass(frozen=True)
class RetainedRow:
    """The latest state payload a channel published for a band on one topic (``retained``)."""

    channel: str
    device: str
    topic: str  # the channel's name for it (MQTT: "alert"), not the full topic
    payload: str
    wall_s: float


@dataclass(frozen=True)
class FailingRow:
    """A notification channel whose latest delivery failed (``channels_failing``): its first failure in a row."""

    channel: str  # the name it is configured under (the dispatcher's key)
    since_wall_s: float
    error: str
    fingerprint: str | None = None  # of the settings it failed under (None: kept before schema v14, not known)


@dataclass(frozen=True)
class MuteRow:
    """A band's latest mute of its notices (``mutes``, schema v17)."""

    device: str
    since_wall_s: float  # when it began
    until_wall_s: float  # its end as it stands: lengthened, shortened, lifted (then when it was)
    by: str | None  # who set it (None: not said)
    set_wall_s: float  # when its end was last set
