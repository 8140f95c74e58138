"""The daemon: band sessions -> store -> live analysis -> alert engine -> channels.

Everything it needs is injected (store, clock, channels, how to open a link),
so the daemon a family runs and the one the end-to-end tests run are the
same object. It is the ``SessionSink`` of every band session, the
``ClusterListener`` of every live analysis, and implements ``DaemonAPI`` for
the HTTP server and the web page.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import errno
import functools
import logging
import math
import os
import socket
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from spasmwatch import fwbuild, private
from spasmwatch.fwhistory import Age, firmware_age, refused
from spasmwatch.alerts import AlertEngine, AlertSettings, BandFault, BandState, ClusterState, Notification, Transition
from spasmwatch.alerts import messages as M
from spasmwatch.alerts import sound_tool
from spasmwatch.alerts.channels.base import Channel, ChannelError
from spasmwatch.alerts.channels.mqtt import BandStatus, FailingChannel, HeartbeatState, LinkUnstable, MqttChannel, MqttCommand, MqttSettings, RateNotTaken
from spasmwatch.alerts.channels.dispatch import Caregiver, Delivery, Dispatcher
from spasmwatch.alerts.channels.outbox import OPEN_ALARM_STATES, KeepsOutgoing, why_not_resend
from spasmwatch.alerts.channels.sound import SoundChannel
from spasmwatch.alerts.engine import (
    AlertEnded,
    reason_count,
    reason_held,
    reason_held_until,
    reason_rate_from,
    reason_told_ended,
    reason_way,
)
from spasmwatch.alerts.model import LATE_CLUSTER_S
from spasmwatch.analysis.clusters import Cluster, Spasm
from spasmwatch.analysis.sleepwake import counts_worn
from spasmwatch.clock import (
    Clock, SinceBoot, SystemClock, local_day, local_zone, log_time, resolve_local_zone, zone_file_in_doubt, zone_name
)
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.api import STORE_WORK, AlertOver, BandNotConnected, Json, Msg, StoreCannotTell, bonds_on_usb, last_known_at, who, zone_json
from spasmwatch.codeid import installed_code, running_code, short
from spasmwatch.commands.service import service_of
from spasmwatch.config import is_loopback
from spasmwatch.daemon.backups import StoreBackups
from spasmwatch.daemon.heartbeat import Heartbeat, HeartbeatSettings
from spasmwatch.daemon.live import EPOCH_S, LiveAnalysis, TrackedCluster
from spasmwatch.daemon.rawkeep import DiskReserve, RawInUse, RawPause, RawPruner
from spasmwatch.daemon.rawdating import RateFit
from spasmwatch.daemon.rawparts import Part, boot_parts, latest, next_header, part_end, part_path
from spasmwatch.daemon.session import BandClock, BandInfo, BandSession, Offsets, SessionError, State, unwrap_u32
from spasmwatch.daemon.summary import read_summaries
from spasmwatch.daemon.wiring import Exposure
from spasmwatch.export.store_source import StoreSource
from spasmwatch.report.data import count
from spasmwatch.report.text import unmonitored
from spasmwatch.errors import ConfigError, InputError
from spasmwatch.hardware import boards
from spasmwatch.firstrun import restart_command
from spasmwatch.io.rawfile import DatingPoint, RawDating, RawHeader, RawReader, RawWriter
from spasmwatch.store import Store, StoreError, StoreMissing
from spasmwatch.store._db import Fix, StoreNewer, recover_hint, store_command
from spasmwatch.store.rows import STATUS_FIELDS, AlertRow, BootMarks, DeviceRow, Linked, LogLife, Replaced
from spasmwatch.threads import DetachedThreads
from spasmwatch.transport import Link
from spasmwatch.transport.base import TransportError
from spasmwatch.words import in_quotes
from swcore import consts as C
from swcore import protocol as P
from swcore.frontend import Params

log = logging.getLogger(__name__)

# The band's default IMU rate (firmware band/config.py); ACTIVITY counts active
# samples per epoch at this rate.
DEFAULT_RATE_HZ = 52
QUEUE_MAX = 100  # live updates held for a slow web page before the oldest go
NOTICES_KEPT = 1000


T = TypeVar("T")

# The installed code's reads (_watching_code): a thread of their own, which a stop does not wait for
# (a hung disk), and no store work waits behind.
CODE_WORK = DetachedThreads(1, "spasmwatch-code")


@dataclass(frozen=True)
class BandSpec:
    """One configured band: a label, how to reach it, and whether to keep its raw samples."""

    label: str
    link_factory: Callable[[], Link]
    raw: bool = False
    rate_hz: int = DEFAULT_RATE_HZ  # the IMU rate to configure; the band reports the step it samples at


@dataclass(frozen=True)
class Overruns:
    """A run of a band's STATUSes saying ERR_FIFO_OVERRUN (samples lost), each within
    SAMPLES_LOST_CLEAN_S of the band's time of the one before: for samples_lost."""

    boot: int
    first_s: int  # the band's uptime_s at the first
    latest_s: int  # ... and at the latest


@dataclass
class BandView:
    """What the daemon knows of one configured band right now."""

    label: str
    session: BandSession
    device: str | None = None
    info: BandInfo | None = None
    status: dict[str, Any] = field(default_factory=dict)
    status_t: float | None = None
    # The latest STATUS stored, and when heard: this run's, or the store's latest as the run took the band on
    # (``_last_report``: not stored again at a stop).
    status_stored: tuple[dict[str, Any], float] | None = None
    # A STATUS of this run stored: until then each one heard is stored, whatever it says (the
    # "first this run" rule). Not "heard": a first one the store refused (a disk full or gone) left
    # the rule done with nothing of this run stored, the next compared with the row of a run before.
    status_stored_run: bool = False
    synced: bool = False
    overruns: Overruns | None = None  # the run going on (None: none)
    # (boot, minutes) of the band boot whose radio refused to start (ERR_RADIO): the minutes it was off,
    # by the first STATUS of that boot heard, told once per boot (radio_late)
    radio_late: tuple[int, int] | None = None
    down_since: float | None = None  # mono s when the link was lost (for the disconnected alert)
    # The link's drops shorter than the disconnected alert's time, (from, to) mono s, oldest first,
    # while they end within its window (K.DOWN_SHARE): a link mostly down in short drops is disconnected too.
    short_drops: deque[tuple[float, float]] = field(default_factory=deque)
    analysis: LiveAnalysis | None = None
    backfilling: bool = False
    # A BACKFILL asked for whose start (its first LOGINFO) has not come, and the seq its order has
    # next: an event past it went out live ahead of the BACKFILL, which sends it again in its order
    # (_ahead_of_backfill). Kept in ``early`` (seq -> record: stored, not analysed) until then; those
    # not sent again are analysed at the backfill's end.
    backfill_unstarted: bool = False
    backfill_next: int = 0
    early: dict[int, dict[str, Any]] = field(default_factory=dict)
    raw: RawWriter | None = None
    raw_boot: int | None = None
    raw_part: int = 0  # the open part's number (-1: a boot's file named before parts, rawparts.py)
    raw_end: int = 0  # the sample index its part ends before (the next local noon by its dating)
    raw_fit: RateFit | None = None  # the band's real rate measured from this boot's RAW arrivals (rawdating.py)
    raw_fit_boot: int | None = None  # the boot raw_fit measures
    raw_dated_mono: float = -math.inf  # mono s of the open part's last dating record
    raw_rate: tuple[float, float] | None = None  # (measured, nominal) Hz at raw_fit's latest dating record
    raw_path: str = ""  # the raw file it writes or last tried to (for the pause's words)
    raw_failed: RawPause | None = None  # its raw file failed to write: raw paused for this band
    raw_retry_mono: float = 0.0  # mono s of the next try while raw_failed
    params: Params = field(default_factory=lambda: Params(DEFAULT_RATE_HZ, True))  # at the band's reported IMU rate
    log_life: LogLife | None = None  # the band's current log life (known once it connected)
    # What places, dedups and resumes the band's records when the store cannot be read (_stored):
    # its latest sync, the event seqs taken lately (oldest first, at most SEEN_SEQS), the seq
    # its log said comes next at the connect and the seq this run's latest backfill asked from
    # (store numbering).
    sync: BandClock | None = None
    seen_seqs: dict[int, None] = field(default_factory=dict)
    head_seq: int | None = None
    asked_seq: int | None = None
    # Events the store refused that no sync this run knows places (a boot the band began while away:
    # its boot link was refused too), oldest first, at most SEEN_SEQS: analysed at that boot's sync.
    unplaced: list[dict[str, Any]] = field(default_factory=list)
    link_alert: str | None = None  # the id the disconnected alert was raised under (the label if never seen)
    bonds_asked: bool = False  # BONDS COUNT sent on this connection (once per connection: _count_bonds)
    # Its firmware is not the one 'spasmwatch flash' writes from this computer: another build id in its
    # firmware revision, or none (fwbuild.py), as judged at its latest connection (_judge_firmware), said
    # in /api/status (firmware_old: the name it had when only a firmware older than BONDS was told).
    firmware_old: bool = False
    firmware_seen: str | None = None  # the band's revision (0x2A26) it was judged by (None: not yet)
    # While firmware_old: whether its firmware is older or newer than this computer's, from git's
    # history (fwhistory.py, _aging_firmware; None: not yet told, or not to be told), and the
    # (revision, this computer's build) it was told for.
    firmware_age: Age | None = None
    firmware_aged: tuple[str, str] | None = None
    # The store fault raised under its label as the store could not be opened (None: none): it stands for
    # the device's own until writes work (_stored), or until the store opens if the band never connected.
    store_alert: BandFault | None = None
    # Band boot -> its events this backfill placed on arrival through the band's boot links (no sync
    # of their own): said once, at the backfill's end (_backfill_done).
    linked_new: dict[int, Linked] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None  # its session's run, once started
    # Its session's run supervised (Daemon._supervise): when the latest started (mono s); once it
    # ended unasked, when it starts again (mono s; None: it runs) and the delay it waits; the end
    # last logged (a run that fails the same way at every start is said once).
    started_mono: float = 0.0
    restart_mono: float | None = None
    restart_s: float = 0.0
    ended_said: str = ""


class Daemon:
    def __init__(
        self,
        store: Store,
        bands: list[BandSpec],
        channels: dict[str, Channel] | None = None,
        caregivers: list[Caregiver] | None = None,
        alert_settings: AlertSettings | None = None,
        clock: Clock | None = None,
        stale_s: float = K.STALE_S,
        resync_s: float = K.RESYNC_S,
        flap_up_s: float = K.FLAP_UP_S,
        flap_summary_s: float = K.FLAP_SUMMARY_S,
        disconnect_alert_s: float = K.DISCONNECT_ALERT_S,
        raw_dir: Path | None = None,
        raw_reserve_mb: float = K.RAW_RESERVE_MB,
        raw_keep_days: float = K.RAW_KEEP_DAYS,
        backup_keep_days: int = K.BACKUP_KEEP_DAYS,
        heartbeat: HeartbeatSettings | None = None,
        aliases: Mapping[str, str] | None = None,
        store_retry_s: float = K.STORE_RETRY_S,
        fingerprint_key: bytes | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        # The code it started from, taken now: an upgrade under it puts other code in its files, which
        # it runs only once restarted; 'spasmwatch status' compares the two (codeid.py).
        self.code = running_code()
        # The code installed now, once the daemon found it other than ``code`` (read every
        # CODE_CHECK_S: _watching_code): the page says so (null: the same).
        self.code_changed: Json | None = None
        # The build id of the firmware 'spasmwatch flash' writes from here (None: no firmware tree),
        # which each band's is compared with at its connection; read again with the code (_watching_code).
        self.firmware_build = own_firmware_build()
        # Set when a band's firmware is to be told older or newer (_aging_firmware does, off the loop).
        self._age_wanted = asyncio.Event()
        # How this daemon is restarted (its service's systemctl, None: by hand), which the page says
        # for the code upgraded under it and the settings only a restart applies. Read once: a
        # process stays in the cgroup it started in.
        self.restart = _restart()
        # A store that could not be opened (Store.may_fail): the daemon monitors without it and
        # tries it again this often (s, real time); its error as last logged, and since when (wall s).
        self.store_retry_s = store_retry_s
        self._store_said: str | None = None
        self._store_shut_t = None if store.open_error is None else self.clock.wall()
        # Old channel name -> its name now (an ntfy channel's topic: Channels.aliases): what the
        # store kept under it is moved first, for the restore of failing and kept pushes to see.
        self.aliases = {old: new for old, new in (aliases or {}).items() if channels and new in channels}
        _rename_kept(store, self.aliases)
        self.disconnect_alert_s = disconnect_alert_s
        # The failing channels are kept in the store: a restart keeps showing them until they deliver.
        # Their settings' fingerprints keyed by ``fingerprint_key`` (None: this process's own; main.py: the config's).
        self.dispatcher = Dispatcher(channels or {}, caregivers or [], clock=self.clock.wall, on_delivery=self._on_delivery, failing_store=store,
                                     fingerprint_key=fingerprint_key)  # fmt: skip
        self._no_player: set[str] = set()  # the sound channels last found with no audio player (said once a change)
        self._check_sounds()
        self._failing_shown = self._failing_now()  # the channels the page was last told are failing, and changed
        _one_outbox_each(self.dispatcher.channels)
        last_id = _last_alert_id(store)
        self.engine = AlertEngine(self.clock.wall, self._notify, alert_settings, self._transition, last_id or 0)
        # Whether the engine numbers after every id the store holds (read at the start, else at the store's
        # late open): only then is an id above its highest one never issued (``_not_held``).
        self._ids_read = last_id is not None
        # The dead man's switch ([daemon.heartbeat]): pinged from the ticker while healthy (None: off).
        self.heartbeat = self._heartbeat(heartbeat)
        self._mqtt: dict[str, MqttChannel] = {}
        self._sounds: list[SoundChannel] = []
        self._wire_channels()
        self.bands: list[BandView] = []
        self.raw_dir = raw_dir or store.path.parent / "raw"
        self.raw_disk = DiskReserve(self.raw_dir, raw_reserve_mb, self.clock.mono, self.clock.wall, raw_keep_days)
        self.raw_in_use = RawInUse()  # the files its bands write: never pruned
        self.raw_prune = RawPruner(self.raw_dir, raw_keep_days, store.path, self.clock.wall, self.raw_in_use)
        self.backups = StoreBackups(store, backup_keep_days, self.clock.wall)  # the store's daily copies
        self._session_kw: dict[str, Any] = {
            "wall": self.clock.wall, "since_boot": self.clock.since_boot, "stale_s": stale_s, "resync_s": resync_s,
            "mono": self.clock.mono, "flap_up_s": flap_up_s, "flap_summary_s": flap_summary_s, "host_step_s": self._host_step_s,
        }  # fmt: skip
        self.bands.extend(self._band_view(spec) for spec in bands)
        # The latest notifications, for the demo and tests (bounded: a daemon runs for months).
        self.notifications: deque[Notification] = deque(maxlen=NOTICES_KEPT)
        self._store_failing: dict[str, float] = {}  # device -> wall time of its latest refused store write
        self._unsynced: dict[str, float] = {}  # device -> its _store_failing time set by a hung sync (_sync_hung)
        self._subs: list[asyncio.Queue[Json]] = []
        self._restored: dict[str, list[Notification]] = {name: [] for name in self._mqtt}  # alarms carried on from before a restart, per MQTT channel
        self._carried: list[Notification] = []  # all of those: for an MQTT channel a reload adds
        # Store cluster id -> the one that took it in (its row is gone): where its alert's transitions go.
        self._merged_into: dict[int, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._mirrors: dict[str, asyncio.Task[None]] = {}  # MQTT channel -> its status mirror
        self._started = False
        # What the latest config reload said (daemon/reload.py): its error (null: it loaded), and the
        # settings changed in the file that only a restart applies. Shown by the status, CLI and page.
        self.config_error: Json | None = None
        self.config_needs_restart: list[str] = []
        # What its config hands to whoever looks (daemon/wiring.py exposures), as its start or latest
        # reload said them in the log: the status repeats them ('spasmwatch status').
        self.exposures: list[Exposure] = []
        # SIGHUPs taken, and the outcome of the latest reload with the number of the latest SIGHUP it
        # covers (it read the file after that one came): 'spasmwatch reload' waits for its own.
        self.reload_requested = 0
        self.last_reload: Json | None = None
        # The config file it was started from (None: in-process, from a Config), set by 'run':
        # the status says it, for a command given another config to tell (commands/_daemon.py).
        self.config_path: Path | None = None
        self._errands: set[asyncio.Task[None]] = set()  # nobody awaits them: MQTT's test alarms, daily summaries
        self._stop = asyncio.Event()
        self._resent_mono: float | None = None  # the latest resend pass started (None: none yet)
        self._summary_day: dict[str, str] = {}  # device -> the local day (ISO) its daily summary was handled
        self._zone_recorded: str | None = None  # the zone the store holds as this run's (None: not yet)
        self._zone_checked_mono: float | None = None
        self.ticks = 0  # ticks completed: the systemd watchdog pings only while this rises (daemon/notify.py)

    # --- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        for mqtt in self._mqtt.values():
            mqtt.resend_kept()  # an earlier run's unacknowledged events, before anything new
        self._resend_kept()  # and its pushes (webhook, ntfy): their passes take the locks first
        # A band seen before is monitored from the start, connected or not: its open alarms
        # carry on (and escalate) even while it stays away after a restart.
        known = self._known_bands()
        for b in self.bands:
            self._resume(b, known)
        for b in self.bands:
            self._run_session(b)
        self._tasks.append(asyncio.create_task(self._ticker(), name="ticker"))
        self._tasks.append(asyncio.create_task(self._raw_pruning(), name="raw pruning"))
        self._tasks.append(asyncio.create_task(self._backing_up(), name="store backups"))
        self._tasks.append(asyncio.create_task(self._watching_code(), name="installed code"))
        self._tasks.append(asyncio.create_task(self._aging_firmware(), name="firmware ages"))
        if self.store.open_error is not None:
            self._store_shut()
            self._tasks.append(asyncio.create_task(self._opening_store(), name="opening the store"))
        self._announce_heartbeat()
        if self.engine.settings.tz is None and (note := resolve_local_zone()[1]):
            log.warning("%s (the family's times in alerts, quiet hours, daily summaries)", note)
        for name, mqtt in self._mqtt.items():
            self._start_mirror(name, mqtt)
        self._started = True

    def _known_bands(self) -> dict[str | None, DeviceRow]:
        """The store's bands by label (the latest seen wins a label two devices had); none when it
        cannot be read (each band is then taken on as it connects)."""
        try:
            rows = self.store.devices()
        except StoreError as e:
            log.warning("the store's bands cannot be read (%s): none is monitored before it connects", e)
            return {}
        return {r.name: r for r in sorted(rows, key=lambda r: r.last_seen_wall_s)}

    # --- a store that could not be opened (Store.may_fail) ----------------------------
    def _store_shut(self) -> None:
        """The store could not be opened (at the start, or again at a retry): said once per distinct
        error (one ERROR line), and each band not told yet is told under its name, before any
        connects (``BandView.store_alert``): the alarms go on, its events stay in its flash."""
        e = self.store.open_error
        assert e is not None
        if str(e) != self._store_said:
            self._store_said = str(e)
            log.error("the store cannot be opened (%s): monitoring without it, alarms go on and each band keeps its events "
                      "in its flash until it opens; tried again every %g s", _shut_words(e, self.store.path), self.store_retry_s)  # fmt: skip
            self._publish({"type": "status"})
        for b in self.bands:
            self._tell_store_shut(b, e)

    def _tell_store_shut(self, b: BandView, e: StoreError) -> None:
        """Band ``b`` told the store is not open, under its name (its device is not known yet: no
        band's is, with no store to read it from), unless it already was."""
        if b.store_alert is None and self.store.open_error is not None:
            b.store_alert = _store_fault(e)
            self._store_failing[b.label] = self.clock.wall()  # the heartbeat stops, as for a refused write
            self._tell_store_fault(b.label, e)

    def _clear_store_alert(self, b: BandView) -> None:
        """Band ``b``'s events are saved again: the store fault raised under its name is cleared."""
        if b.store_alert is not None:
            self._store_failing.pop(b.label, None)  # first: the clear's transition is stored under its name
            self.engine.on_band_state(b.label, b.store_alert, False)
            b.store_alert = None

    def _shut_damaged(self, e: StoreError) -> None:
        """A call found the open store's file damaged: nothing more is written into it (each write
        could spread the damage; the family is told nothing is saved to it), as if it had not
        opened (``Store.shut``): said, each band told, tried again every ``store_retry_s`` (a try
        reads it through first and refuses it while it is damaged). So too a store a newer spasmwatch
        migrated under this daemon to a version it may not write (``StoreNewer``; its try is refused
        by the marker before any page is read)."""
        self.store.shut(e)
        self._store_shut_t = self.clock.wall()
        self._store_shut()
        if self._started:
            self._tasks.append(asyncio.create_task(self._opening_store(), name="opening the store"))

    async def _opening_store(self) -> None:
        """The store tried again every ``store_retry_s`` until it opens (in a worker thread: an open
        reads every page), then ``_store_opened``."""
        while True:
            await asyncio.sleep(self.store_retry_s)
            try:
                opened = await STORE_WORK.call(self.store.reopen)
            except Exception:  # (reopen takes a StoreError in) whatever else: the next try
                log.exception("opening the store failed")
                continue
            if opened:
                # (Shut again meanwhile, a record's call having found it damaged: that shut's own try goes on.)
                if self.store.open_error is None:
                    self._store_opened()
                return
            self._store_shut()  # (said again only when the error changed)

    def _store_opened(self) -> None:
        """The store opened late: from now on as after 'the disk is back'. A band not connected yet is
        taken on as at a start (its analysis rebuilt, its open alarms restored); one connected meanwhile
        gets what the store held from before (its clusters, not alarmed again; its open alarms carried
        on), and its refused events from its flash once writes work (``_stored``: refill)."""
        log.warning("the store %s opened (it could not be since %s): events are saved again", self.store.path,
                    log_time(self._store_shut_t or self.clock.wall()))  # fmt: skip
        self._store_said = self._store_shut_t = None
        last_id = _last_alert_id(self.store)
        if last_id is not None:
            self.engine.number_after(last_id)
            self._ids_read = True
        _rename_kept(self.store, self.aliases)  # (the start could not)
        known = self._known_bands()
        for b in self.bands:
            # Nothing of it refused (never connected, or connected between the worker's open and
            # now: its writes worked, so no _stored would ever clear it): nothing to wait for.
            if b.device is None or b.device not in self._store_failing:
                self._clear_store_alert(b)
            if b.device is None:
                self._resume(b, known)
            elif b.analysis is not None:
                self._take_stored(b.device, b.analysis)
            b.raw_retry_mono = 0.0  # a paused raw tried at its next record: it may have waited for the store's folder (_raw_open)
        for mqtt in self._mqtt.values():
            mqtt.resend_kept()
        self._resend_kept()
        self._publish({"type": "status"})

    def _take_stored(self, device: str, a: LiveAnalysis) -> None:
        """What the store held of ``device`` from before this run, into its analysis as an attach takes
        it (it could not then): a rebuild updates those clusters instead of alarming them again."""
        held = {tc.store_id for tc in a.tracked}  # (stored by this run since the open: tracked already)
        stored: list[TrackedCluster] = self._read(device, lambda: self._stored_clusters(device), list)
        a.preload([tc for tc in stored if tc.store_id not in held])
        self._read(device, lambda: self._restore_alarms(device, a), _nothing)
        self._read(device, lambda: self._restore_mute(device), _nothing)

    def _resume(self, b: BandView, known: dict[str | None, DeviceRow]) -> None:
        """A band seen before (by its label, in ``known``) is monitored from the start, its analysis
        rebuilt and its open alarms restored, connected or not."""
        row = known.get(b.label)
        if row is not None:
            if row.rate_hz:  # the rate it last reported, until it connects and says again
                b.params = Params(row.rate_hz, True)
            self._attach(b, row.device_id)

    def _run_session(self, b: BandView) -> None:
        b.task = asyncio.create_task(b.session.run(), name=f"session {b.label}")
        b.started_mono = self.clock.mono()
        self._tasks.append(b.task)

    def _supervise(self, b: BandView) -> None:
        """Band ``b``'s session run, ended while the daemon runs and nobody stopped it (a bug past
        run()'s catch-all), said and started again after a delay (K.SESSION_RESTART_S): else the
        band stayed unmonitored until a restart while the watchdog, fed by this ticker, saw nothing
        wrong. A run stopped on purpose (a stop, remove_band, whose awaits the ticker may run in
        between) is not started again."""
        t = b.task
        if t is None or not t.done() or self._stop.is_set() or b.session.stopped:
            return
        if b.restart_mono is None:
            self._session_ended(b, t)
        elif self.clock.mono() >= b.restart_mono:
            b.restart_mono = None
            self._tasks.remove(t)
            log.info("%s: its connection is started again", b.label)
            self._run_session(b)

    def _session_ended(self, b: BandView, t: asyncio.Task[None]) -> None:
        """Band ``b``'s session run ``t`` ended unasked: said with its traceback unless it ended as the
        run before it did, soon after its start (then at DEBUG), its restart timed, its disconnected
        alert due."""
        now = self.clock.mono()
        e = None if t.cancelled() else t.exception()
        what = "cancelled" if t.cancelled() else "returned" if e is None else f"{type(e).__name__}: {e}"
        first, cap = K.SESSION_RESTART_S
        # Ended again soon after its restart: waits twice as long (a run failing at once is no tight
        # loop), and the same end is not said again. After a run that lasted, it is news again.
        again = bool(b.restart_s) and now - b.started_mono < cap
        b.restart_s = min(cap, 2 * b.restart_s) if again else first
        b.restart_mono = now + b.restart_s
        if b.down_since is None:  # nothing is heard from it: "band disconnected" unless it is back in time
            b.down_since, b.synced = now, False
        said, b.ended_said = b.ended_said if again else "", what
        log.log(logging.DEBUG if what == said else logging.ERROR,
                "%s: its connection ended unexpectedly (%s): the band is not monitored; started again in %g s",
                b.label, what, b.restart_s, exc_info=e if what != said else None)  # fmt: skip

    def _start_mirror(self, name: str, mqtt: MqttChannel) -> None:
        self._mirrors[name] = asyncio.create_task(self._mqtt_mirror(name, mqtt), name=f"{name} status")
        self._tasks.append(self._mirrors[name])
        self._errand(self._unheard_away(name, mqtt), f"saying on {name} the bands not heard this run not connected")

    async def _unheard_away(self, name: str, mqtt: MqttChannel) -> None:
        """The bands an earlier run left connected on ``name``'s broker that this run has not heard
        (the mirror says only those it knows the device of) said not connected: Home Assistant's
        "Band connected" must not read ON for a band nobody hears (MqttChannel.say_unheard_away)."""
        try:
            await mqtt.say_unheard_away(self.clock.wall())
        except ChannelError as e:
            log.warning("%s: whether an earlier run left a band connected on the broker is not known (%s): "
                        "Home Assistant may show a band not heard since the start as connected until it connects", name, e)  # fmt: skip

    def _band_view(self, spec: BandSpec) -> BandView:
        s = BandSession(spec.label, spec.link_factory, self, raw=spec.raw, rate_hz=spec.rate_hz, **self._session_kw)
        return BandView(spec.label, s, down_since=self.clock.mono(), params=Params(spec.rate_hz, True))

    def _wire_channels(self) -> None:
        """Hook the dispatcher's channels to this daemon (at start, and for those a reload adds):
        the store as their outbox, MQTT's callbacks, the sound's question whether an alarm is
        still open. A hook already set (a test's) is left."""
        channels = self.dispatcher.channels
        for ch in channels.values():
            if isinstance(ch, KeepsOutgoing) and ch.outbox is None:
                ch.outbox = self.store  # what a receiver has not acknowledged outlives a stop (MQTT, webhook, ntfy)
        # The MQTT channels by what they are, not by a name: each mirrors the bands' status (configured key -> channel).
        self._mqtt = {name: ch for name, ch in channels.items() if isinstance(ch, MqttChannel)}
        for name, mqtt in self._mqtt.items():
            if mqtt.why_not_resend is None:
                mqtt.why_not_resend = self._why_not_resend  # its events held late: kept at a stop, or while the broker is away
            if mqtt.on_command is None:
                mqtt.on_command = self._mqtt_command  # Home Assistant's buttons: acknowledge, test alarm
            if mqtt.on_connected is None:
                mqtt.on_connected = functools.partial(self._mqtt_up, name, mqtt)  # a broker back: not failing any more
            mqtt.heartbeat_sensor = self.heartbeat is not None  # Home Assistant's "Heartbeat failing" (or its removal)
        # The local sound repeats an alarm until someone answers it, on this daemon's ticks.
        self._sounds = [ch for ch in channels.values() if isinstance(ch, SoundChannel)]
        for ch in self._sounds:
            if ch.alarm_open is None:
                ch.alarm_open = self.engine.alarm_open

    async def stop(self) -> None:
        self._stop.set()
        self.backups.stop()  # (a copy under way ends at its next step: its task below waits for no more)
        # The MQTT mirrors first: the sessions' ends below are the stop's, not the bands'. A stop keeps
        # each band's status on the broker as it was and says ``offline`` (docs/alerts.md); a mirror
        # still running would publish ``connected: false`` (it did by chance no more once MQTT's waits
        # stopped yielding to a thread: tests/daemon/test_mqtt_restart.py).
        for mirror in self._mirrors.values():
            mirror.cancel()
        for b in self.bands:
            await b.session.stop()
        for t in [*self._tasks, *self._errands]:
            t.cancel()
        await asyncio.gather(*self._tasks, *self._errands, return_exceptions=True)
        for b in self.bands:
            self._close_raw(b)  # (a failure: the last pending samples are lost, a gap at the file's end)
            self._store_held_status(b)
        await self.dispatcher.close()
        if self.heartbeat is not None:
            await self.heartbeat.close()

    # --- a config reload (daemon/reload.py decides what changed; these apply it) -----------
    def set_channels(self, channels: dict[str, Channel], caregivers: list[Caregiver], aliases: Mapping[str, str]) -> None:
        """Route to ``channels`` and ``caregivers`` from now on. A channel kept (the same object)
        keeps everything; one retired is closed once its sends are done (an MQTT one deletes its
        retained topics, but those a channel now retains on its broker: ``_retire_mqtt``); one
        new (or new settings under its name) is hooked up, sends what the store kept for it, and an MQTT one
        connects and mirrors the status and the alarms open now. ValueError, nothing changed:
        two channels would keep one outbox."""
        _one_outbox_each(channels)
        before = dict(self.dispatcher.channels)
        self.aliases = {old: new for old, new in aliases.items() if new in channels}
        _rename_kept(self.store, self.aliases)
        successors = [c.settings for c in channels.values() if isinstance(c, MqttChannel)]
        for ch in self.dispatcher.reconfigure(channels, caregivers):
            name = next(k for k, v in before.items() if v is ch)
            mirror = self._mirrors.pop(name, None)
            if mirror is not None:
                mirror.cancel()
            if isinstance(ch, MqttChannel):
                self._errand(self._retire_mqtt(name, ch, successors), f"retiring the MQTT channel {name} the reload replaced")
            else:
                self._errand(self.dispatcher.close_when_idle(name, ch), f"closing the channel {name} the reload replaced")
        self._wire_channels()
        for name, ch in self.dispatcher.channels.items():
            old = before.get(name)
            if isinstance(ch, SoundChannel) and isinstance(old, SoundChannel) and old is not ch:
                for alert_id, first_t in old.ringing().items():
                    ch.keep_ringing(alert_id, first_t)  # an unanswered alarm goes on repeating, on the new settings
        for name, mqtt in self._mqtt.items():
            if before.get(name) is not mqtt:
                self._restored[name] = self._open_alarm_notices()
                mqtt.resend_kept()
                if self._started:
                    self._start_mirror(name, mqtt)
        self._resend_kept()  # a new ntfy or webhook channel's kept pushes (its name's rows in the store)
        self._check_sounds()  # a player installed or taken away since: a reload is when the family tells
        self._failing_changed()
        self._publish({"type": "status"})

    def _check_sounds(self) -> None:
        """Whether each sound channel can sound at all on this computer, at the start and at each
        reload: one with no audio player (Raspberry Pi OS Lite, a server), or whose own command's
        program is not found, is failing from now, on the status, the page and Home Assistant, not
        from the first alarm that does not sound (until 2026-12-07 they showed it fine until then);
        one that has a player now is no longer failing for want of one. Logged once a change, with
        who an alarm reaches meanwhile."""
        for name, ch in self.dispatcher.channels.items():
            if not isinstance(ch, SoundChannel):
                continue
            why = ch.cannot_sound()
            if why is not None:
                self.dispatcher.note_unable(name, f"{name}: {why}")
                if name not in self._no_player:
                    log.warning("%s: %s; until then %s", name, why, self._reached_without(name))
                self._no_player.add(name)
            elif self.dispatcher.forget_unable(name, sound_tool.CANNOT_SOUND_HERE) or name in self._no_player:
                self._no_player.discard(name)
                log.info("%s: an audio player is found now (%s): the local alarm is no longer shown failing for want of one; %s tells "
                         "whether it is heard", name, ch.player_name(), in_quotes(f"spasmwatch test-alarm --channel {name}"))  # fmt: skip
        self._no_player &= self.dispatcher.channels.keys()

    def _reached_without(self, name: str) -> str:
        """Who an alarm reaches while channel ``name`` cannot deliver: the channels not failing."""
        failing = self.dispatcher.failing()
        others = [c for c in sorted(self.dispatcher.channels) if c != name and c not in failing]
        return f"an alarm goes only to {', '.join(others)}" if others else "an alarm reaches nobody (no other channel delivers)"

    async def _retire_mqtt(self, name: str, ch: MqttChannel, successors: list[MqttSettings]) -> None:
        """An MQTT channel a reload replaced (another prefix, broker) or removed deletes its retained
        topics once its sends are done (left, Home Assistant kept its entities and a subscriber its
        alarm state for ever). Outside the name's lock: a new channel under it does not wait for
        a broker that is gone (``timeout_s`` per band), its alarms least of all."""
        await self.dispatcher.idle(name)
        await ch.retire(successors)

    def _open_alarm_notices(self) -> list[Notification]:
        """The latest notification of each alert still open (unacknowledged alarms, restored ones
        too): what a new MQTT channel must show Home Assistant, as a start's restore does."""
        open_ids = {a["id"] for a in self.engine.snapshot()["alerts"] if a["state"] in OPEN_ALARM_STATES}
        latest: dict[int, Notification] = {}
        for n in [*self._carried, *self.notifications]:
            if n.alert_id in open_ids:
                latest[n.alert_id] = n
        return list(latest.values())

    def set_alert_settings(self, settings: AlertSettings) -> None:
        """The engine reads its settings at each use: escalation, rate limits, quiet hours, the
        daily summary take the new ones from the next tick on; open alerts stay open, and held
        notices are held by the new ones (``AlertEngine.reconfigure``)."""
        self.engine.reconfigure(settings)
        self._publish({"type": "status"})

    async def set_heartbeat(self, settings: HeartbeatSettings | None) -> None:
        """The dead man's switch replaced (or switched on or off): the next tick pings the new URL."""
        old, self.heartbeat = self.heartbeat, self._heartbeat(settings)
        for mqtt in self._mqtt.values():
            mqtt.set_heartbeat_sensor(self.heartbeat is not None)  # Home Assistant's sensor discovered (or removed) now
        if old is not None:
            await old.close()
        self._announce_heartbeat()
        self._publish({"type": "status"})

    def _heartbeat(self, settings: HeartbeatSettings | None) -> Heartbeat | None:
        if settings is None:
            return None
        return Heartbeat(settings, self.clock.mono, self.clock.wall, on_change=lambda: self._publish({"type": "status"}))

    def add_band(self, spec: BandSpec) -> None:
        """A band the config now names: monitored as at a start (its store state resumed) and connected."""
        b = self._band_view(spec)
        self.bands.append(b)
        self._resume(b, self._known_bands())
        if self._started and self.store.open_error is not None:
            self._tell_store_shut(b, self.store.open_error)
        if self._started:
            self._run_session(b)
        self._publish({"type": "status"})

    async def remove_band(self, label: str) -> tuple[str | None, list[str]]:
        """The band ``label`` is no longer configured: disconnected, its raw file closed, and
        what this run held for it dropped (its analysis, its open alerts and mute: nothing is
        sent about them). The store keeps what it stored. Returns its device's id (None: never
        seen) and every id it went by (that one, the label its alerts had before it was seen),
        for ``forget_in_mqtt``."""
        b = next((v for v in self.bands if v.label == label), None)
        if b is None:  # (a reload that failed half-way already removed it)
            return None, []
        await b.session.stop()
        if b.task is not None:
            b.task.cancel()
            await asyncio.gather(b.task, return_exceptions=True)
            self._tasks.remove(b.task)
        self.bands.remove(b)
        self._store_held_status(b)
        log.info("%s: disconnected and no longer monitored: it is not in the config any more", label)
        err = self._close_raw(b)
        if err is not None:
            log.warning("%s: its raw file could not be closed cleanly (%s): its last samples are lost", label, err)
        devices = list(dict.fromkeys(d for d in (b.device, b.link_alert, label) if d is not None))
        now = self.clock.wall()
        for device in devices:
            self._stored(device, lambda: self.store.end_mute(device, now))  # (dropped as the engine's: not restored if it comes back)
            dropped = self.engine.forget_device(device)
            if dropped:
                log.warning("%s: %d open alert(s) of this band dropped: it is no longer in the config", label, dropped)
            self._summary_day.pop(device, None)
            self._store_failing.pop(device, None)
        self._publish({"type": "status"})
        return b.device, devices

    def forget_in_mqtt(self, devices: list[str]) -> None:
        """Bands a reload took out of the config for good (``devices``: the ids ``remove_band``
        returned): each MQTT channel deletes their retained topics (Home Assistant's devices for
        them go; left, they showed "unavailable" for ever), in the background once its sends are
        done. Not an id a configured band still goes by."""
        still = {d for b in self.bands for d in (b.device, b.link_alert, b.label) if d is not None}
        gone = [d for d in dict.fromkeys(devices) if d not in still]
        if not gone:
            return
        for name, mqtt in self._mqtt.items():
            self._errand(self._forget_in_mqtt(name, mqtt, gone), f"deleting the retained topics of {', '.join(gone)} on {name}")

    def away_in_mqtt(self, devices: list[str]) -> None:
        """Bands a reload renamed (``devices``: their ids, whose MQTT topics stay): each MQTT channel
        says them not connected, their values last known when the store last heard them, until they
        reconnect under their new entry (MqttChannel.band_away)."""
        for device in devices:
            row = self._read(device, lambda: self.store.latest_status(device), _nothing)
            heard = None if row is None else row.received_wall_s
            for name, mqtt in self._mqtt.items():
                sending = mqtt.band_away(device, heard, self.clock.wall())
                if sending is not None:
                    self._errand(self._mirrored(name, f"the status of {device}", sending), f"saying {device} away on {name}")

    async def _forget_in_mqtt(self, name: str, mqtt: MqttChannel, devices: list[str]) -> None:
        await self.dispatcher.idle(name)  # a send for the band still retrying would open its link again
        await asyncio.gather(*(mqtt.forget_device(d) for d in devices))

    def set_config_state(self, error: Json | None, needs_restart: list[str]) -> None:
        """What the latest reload said, for the status (the page shows it as a banner)."""
        if (error, needs_restart) != (self.config_error, self.config_needs_restart):
            self.config_error, self.config_needs_restart = error, list(needs_restart)
            self._publish({"type": "status"})

    def set_exposures(self, said: list[Exposure]) -> None:
        """What the config exposes, as the latest start or reload said it (wiring.warn_exposures)."""
        if said != self.exposures:
            self.exposures = list(said)
            self._publish({"type": "status"})

    async def _ticker(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
                self.ticks += 1
                if self.heartbeat is not None:  # only after a tick completed: a stalled ticker pings nothing
                    self.heartbeat.beat(*(self._unhealthy() or (None, None)))
            except Exception:  # escalation and STALE alerts depend on this loop: never let it die
                log.exception("tick failed")
            await asyncio.sleep(K.TICK_S)

    async def _raw_pruning(self) -> None:
        """Old raw files deleted ([daemon] raw_keep_days) at start and every RAW_PRUNE_EVERY_S, in a
        worker thread: listing, reading the files' chunks, the store's clusters and notes and the unlinks are
        disk work the bands' streams must not wait for."""
        while not self._stop.is_set():
            try:
                await STORE_WORK.call(self.raw_prune.run)
            except Exception:  # (it takes no OSError out) whatever else: the next pass tries again
                log.exception("raw pruning pass failed")
            await asyncio.sleep(K.RAW_PRUNE_EVERY_S)

    async def _watching_code(self) -> None:
        """The code installed now read every CODE_CHECK_S, in a worker thread (2.4 MB of files: not
        the loop's to wait for): once it is not the code this daemon started from (an upgrade under
        it, which it runs only once restarted), the status says so, and how to restart it, for the
        page (``code_changed``); 'spasmwatch status' compares the codes itself."""
        while not self._stop.is_set():
            try:  # (at the start too: its thread is made then, not hours into the night)
                self._code_seen(await CODE_WORK.call(installed_code))
                self._firmware_build_seen(await CODE_WORK.call(own_firmware_build))
                if any(b.firmware_old and b.firmware_age is None for b in self.bands):
                    self._age_wanted.set()  # not told: a 'git fetch' since may tell it (_age_firmware)
            except Exception:  # whatever it is: the next look tries again
                log.exception("looking at the installed code failed")
            await asyncio.sleep(K.CODE_CHECK_S)

    def _code_seen(self, installed: str | None) -> None:
        """The installed code's digest as read now (None: not readable whole, an upgrade writing
        it: the last word stands until a read is whole)."""
        if installed is None:
            return
        changed = None if installed == self.code else {"installed": installed}
        if changed != self.code_changed:
            self.code_changed = changed
            if changed is not None:
                log.warning("the code installed now (%s) is not the code this daemon started from (%s): it runs the new "
                            "code once restarted", short(installed), short(self.code))  # fmt: skip
            self._publish({"type": "status"})

    def _firmware_build_seen(self, build: str | None) -> None:
        """The firmware tree's build id as read now: another one (a 'git pull' under the daemon), each
        band connected is judged by it again. None (the tree not readable whole): the last stands."""
        if build is None or build == self.firmware_build:
            return
        self.firmware_build = build
        for b in self.bands:
            b.firmware_age = None  # told against the build before: told again (_aging_firmware)
            self._judge_firmware(b)
        self._age_wanted.set()  # a band still not this computer's may be older now, or newer
        self._publish({"type": "status"})

    def _judge_firmware(self, b: BandView) -> None:
        """Whether the band runs this computer's firmware: the build id in its firmware revision
        (0x2A26, ``0.1.0+<12 hex>``) against ``firmware_build``. Another one, older or newer, or none
        (flashed by a spasmwatch from before build ids): ``firmware_old``, to be flashed. Logged once
        per change, not at each connection. Over USB serial (no Device Information) the revision is
        INFO's, and a firmware that gives none there predates it: another build. Not judged when it
        cannot be: no revision read, no firmware tree on this computer."""
        band = b.info.firmware if b.info is not None else ""
        asked = b.info is not None and b.info.firmware_asked
        if not (band or asked) or self.firmware_build is None:
            return
        other = fwbuild.build_of(band) != self.firmware_build
        if (other, band) == (b.firmware_old, b.firmware_seen):
            return  # as judged at its last connection, said then
        if other:
            log.warning("%s: its firmware (%s) is not this computer's spasmwatch's (build %s); it monitors meanwhile",
                        b.label, band or "none told over USB: older", self.firmware_build)  # fmt: skip
            self._age_wanted.set()  # what to do: flash it, or update this computer (_aging_firmware)
        elif b.firmware_old:
            log.info("%s: it runs this computer's firmware now (%s)", b.label, band)
        b.firmware_old, b.firmware_seen, b.firmware_age = other, band, None

    async def _aging_firmware(self) -> None:
        """Each band whose firmware is not this computer's told older or newer (fwhistory.py: git's
        history of the checkout's firmware, in a worker thread: a look reads hundreds of trees), as
        it is judged, again at each change of this computer's build, and while not told at each look
        at the code (a 'git fetch'): older, to be flashed; newer (flashed from a newer checkout),
        this computer's spasmwatch to be updated instead."""
        while not self._stop.is_set():
            await self._age_wanted.wait()
            self._age_wanted.clear()
            for b in self.bands:
                try:
                    await self._age_firmware(b)
                except Exception:  # whatever it is: not told, its words stay 'flash it'
                    log.exception("%s: telling its firmware's age failed", b.label)

    async def _age_firmware(self, b: BandView) -> None:
        """``_aging_firmware`` for one band: told once per (its revision, this computer's build), and
        while not told, looked up again at each look at the code (a ``git fetch`` that brings its
        build moves no HEAD nor build here: fwhistory keeps looks per refs too), said at a change."""
        ours = self.firmware_build
        if not b.firmware_old or b.firmware_seen is None or ours is None:
            return
        seen = b.firmware_seen
        if b.firmware_aged == (seen, ours) and b.firmware_age is not None:
            return
        age = await CODE_WORK.call(firmware_age, own_firmware_dir(), fwbuild.build_of(seen))
        if (b.firmware_old, b.firmware_seen, self.firmware_build) != (True, seen, ours):
            return  # judged again meanwhile: told for its new judgement
        if (b.firmware_age, b.firmware_aged) == (age, (seen, ours)):
            return  # not told, looked again: as it was, said then
        b.firmware_age, b.firmware_aged = age, (seen, ours)
        if age == "newer":
            log.warning("%s: its firmware is newer than this computer's (in git's history after HEAD): update this "
                        "computer's spasmwatch (git pull, make install), not the band", b.label)  # fmt: skip
        else:  # older, or not told (not in this checkout's history, or git refuses it): the safe side
            log.warning("%s: its firmware is %s: flash it ('spasmwatch flash')", b.label, _age_words(age))
        self._publish({"type": "status"})

    async def _backing_up(self) -> None:
        """The store's daily copy (daemon/backups.py) asked for at start and every BACKUP_CHECK_S, in a
        worker thread: a copy reads the whole store, which the bands' streams and alarms must not wait for."""
        while not self._stop.is_set():
            try:
                await self._backup_pass()
            except Exception:  # (it takes StoreError in) whatever else: the next pass tries again
                log.exception("store backup pass failed")
            await asyncio.sleep(K.BACKUP_CHECK_S)

    async def _backup_pass(self) -> None:
        """One pass of ``_backing_up``; a store its copy found damaged (StoreBackups.found_damaged)
        shut as one a call found so (``_shut_damaged``): nothing more written into it."""
        copying = asyncio.ensure_future(asyncio.to_thread(self.backups.run))
        try:
            await asyncio.shield(copying)
        except asyncio.CancelledError:
            # The stop: the thread goes on until the copy sees the stop flag (within a step),
            # and deletes its partial file; waited for, so that none is left behind.
            await copying
            raise
        if (e := self.backups.found_damaged) is not None and self.store.open_error is None:
            self._shut_damaged(e)

    def _tick(self) -> None:
        now = self.clock.wall()
        for b in self.bands:
            self._supervise(b)
            self._check_link(b)
            # Time only closes a cluster while the link is live and caught up: events
            # of a dropped link are still in the band's flash and will be backfilled.
            # And only as far as the band's own data has come (LiveAnalysis.tick); not
            # while its session waits to start again (its state is the one it ended in).
            live = b.session.state is State.STREAMING and b.restart_mono is None
            if b.analysis is not None and live and not b.backfilling:
                b.analysis.tick(now)
        self.engine.tick()
        for ch in self._sounds:
            ch.ring_due(now)
        if self.engine.end_mutes():  # the status (MQTT's retained one, the web page) shows the mute no more
            self._publish({"type": "status"})
        if self._resent_mono is None or self.clock.mono() - self._resent_mono >= K.RESEND_KEPT_EVERY_S:
            self._resend_kept()
        self._daily_summaries(now)
        due = self._zone_checked_mono is None or self.clock.mono() - self._zone_checked_mono >= K.ZONE_CHECK_S
        if due or zone_file_in_doubt():  # in doubt: read each tick, so its wait is of reads a tick apart
            self._zone_checked_mono = self.clock.mono()
            self._record_zone(now)

    def _record_zone(self, now: float) -> None:
        """The zone the family's times are worded in, recorded in the store when it is not the one
        recorded last (at the first tick, and at a change while running): the report and 'summary'
        say when their days span more than one. Not written while the store is shut or refuses it:
        tried again at the next check. A row is never rewritten: an older daemon's 'localtime' (a copied
        /etc/localtime it could not name) stays so, as nothing stored tells which file it was read from
        (docs/store.md "Time zones": a store moved here, a file's times before the row, are no proof)."""
        name = zone_name(self._zone())
        if name == self._zone_recorded or self.store.open_error is not None:
            return
        try:
            was = self.store.record_zone(now, name)
        except StoreError as e:  # a store refusing writes is said by the bands' writes (_stored): not each minute here
            log.debug("the time zone %s could not be recorded in the store (%s): tried again in %g s", name, e, K.ZONE_CHECK_S)
            return
        if was:  # a change is news; a new store's first zone is not (a quiet start logs nothing: test_soak)
            log.info("time zone %s (was %s) recorded in the store from %s", name, was, log_time(now))
        self._zone_recorded = name

    def _unhealthy(self) -> tuple[str, Msg] | None:
        """Why the daemon should not tell the heartbeat's service it is alive (and the same as a page
        word, for the page in the family's language), or None. A band that is away is no reason: the
        daemon alarms that itself, and its phones still hear it."""
        if self._store_failing:  # until STORAGE_OK_S of writes that work, as the family's notice
            bands = ", ".join(sorted(self._store_failing))
            return f"the store refuses writes ({bands}): events would be lost", {"key": "store_refuses", "args": {"bands": bands}}
        return None

    def _announce_heartbeat(self) -> None:
        hb = self.heartbeat
        if hb is None:
            return
        log.info("heartbeat to %s every %g s while the daemon is healthy", hb.host, hb.settings.every_s)
        if is_loopback(urlsplit(hb.settings.url).hostname or ""):
            log.warning("heartbeat to %s: a service on this computer cannot tell anyone when this computer goes off", hb.host)

    def _daily_summaries(self, now: float) -> None:
        """Each band's summary of its last 24 h, once a local day at ``[alerts] daily_summary``: from
        that minute until DAILY_SUMMARY_GRACE_S after it (a daemon started later that day sends none),
        and not when the store says an earlier run sent it (a restart after the time)."""
        at = self.engine.settings.daily_summary_min
        if at is None:
            return
        tz = self._zone()
        local = dt.datetime.fromtimestamp(now, tz)
        due = local.replace(hour=at // 60, minute=at % 60, second=0, microsecond=0).timestamp()
        if not 0 <= now - due <= K.DAILY_SUMMARY_GRACE_S:
            return
        day = local.date().isoformat()
        for b in self.bands:
            if b.device is not None and self._summary_day.get(b.device) != day:
                self._summary_day[b.device] = day  # handled: sent, or found sent by an earlier run
                self._daily_summary(b, b.device, day, now, tz)

    def _daily_summary(self, b: BandView, device: str, day: str, now: float, tz: dt.tzinfo) -> None:
        # Claimed before it goes (at most once): a daemon killed while sending does not send it
        # again; a store refusing the claim does not hold the summary up (it may then come twice).
        if self._stored(device, lambda: self.store.claim_summary(device, day, now)) is False:
            log.info("%s: the daily summary of %s was sent by an earlier run", device, day)
            return
        self._errand(self._send_summary(device, b.label, day, now, tz), f"daily summary {device}")

    async def _send_summary(self, device: str, name: str, day: str, now: float, tz: dt.tzinfo) -> None:
        """Gathered in a worker thread on a read-only connection of its own, as the page's card is
        (~0.3 s for 8 days of epochs would stall the bands' streams and the alarms)."""
        try:
            lang = self.engine.settings.language  # the push in the family's language (the page too: daemon/http.py)
            [j] = await STORE_WORK.call(read_summaries, self.store.path, {device: name}, now, tz, device, lang)
        except StoreError as e:
            log.warning("%s: no daily summary of %s: the store could not be read (%s)", device, day, e)
            return
        n = self.engine.summary_notice(device, M.Message(j["title"], j["text"]))
        log.info("%s: daily summary: %s", device, n.text)
        self.notifications.append(n)
        self.dispatcher.submit(n)

    def _zone(self) -> dt.tzinfo:
        """The family's zone, as the engine words times (its settings', else this computer's: a zone
        file gone for a while is UTC by the daemon's clock, ``clock._zone_at``)."""
        return self.engine.settings.tz or local_zone(self.clock.mono())

    def _errand(self, work: Coroutine[Any, Any, object], name: str) -> None:
        """Run ``work`` beside the loop's own tasks, cancelled at ``stop``; nobody awaits it, so an
        error is logged."""

        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("%s failed", name)

        task = asyncio.create_task(run(), name=name)
        self._errands.add(task)
        task.add_done_callback(self._errands.discard)
        # A stop before the errand ran cancels it unstarted: ``work`` is then closed, not left to warn
        # "coroutine ... was never awaited" (closing a finished one does nothing).
        task.add_done_callback(lambda _: work.close())

    def _resend_kept(self) -> None:
        """The pushes a receiver has not acknowledged, kept (earlier runs' too), sent again when
        still worth it (``outbox.why_not_resend``)."""
        self._resent_mono = self.clock.mono()
        self.dispatcher.resend_kept(self._why_not_resend)
        for mqtt in self._mqtt.values():
            mqtt.forget_acknowledged()  # what paho sent as it reconnected, acknowledged since

    def _why_not_resend(self, n: Notification, in_flight: bool = False) -> str | None:
        """``outbox.why_not_resend`` with this daemon's store and clock (``in_flight``: the MQTT
        channel's, for an event it is still sending as its link connects)."""
        cluster = n.cluster_key if isinstance(n.cluster_key, int) else None  # (a stored cluster's id: _transition)
        try:
            state, acked_t = self.store.alert_state(n.device, n.alert_id, cluster), self.store.alert_acked_t(n.device, n.alert_id)
        except StoreError:
            state, acked_t = None, None  # unknown: only the age decides
        return why_not_resend(n, state, self.clock.wall() - n.created_t, K.RESEND_MAX_AGE_S, in_flight, acked_t)

    async def _mqtt_mirror(self, name: str, mqtt: MqttChannel) -> None:
        """Keep each band's retained MQTT status (Home Assistant sensors) in step, on change only.
        Each publish is an outcome of the channel ``name`` for the dispatcher's ``failing`` (its one
        record, and what logs a broker away once)."""
        q = self.subscribe()
        last: dict[str, BandStatus] = {}
        restored = self._restored[name]
        try:
            while True:
                last = await self._mirror_pass(name, mqtt, last, restored)
                await q.get()
        finally:
            self.unsubscribe(q)

    async def _mirror_pass(self, name: str, mqtt: MqttChannel, last: dict[str, BandStatus], restored: list[Notification]) -> dict[str, BandStatus]:
        """One pass of ``_mqtt_mirror``: each band's status published if it changed since ``last``
        (what was published, by device), then the ``restored`` alarms; returns the new ``last``.
        A function of its own so that what a pass builds dies with it: kept in the mirror's frame
        while it waits, a copy equal to the status published (a pass with nothing to say) made the
        soak's object count depend on whether the latest pass published (one BandStatus and its
        FailingChannels more, taken for growth under load)."""
        status = self.status()
        # A band removed (a reload) is forgotten: back later, its status is published anew.
        last = {d: st for d, st in last.items() if any(b["device"] == d for b in status["bands"])}
        others, changed = self._besides(name, status, "channels_failing"), self._besides(name, status, "channels_changed")
        hb = _heartbeat_state(status["heartbeat"])
        for b in status["bands"]:
            device = b["device"]
            # The last cluster as the channel words it comes from its own notifications.
            # last_known_at: /api/status's own decision, so MQTT's band_availability cannot disagree with the page.
            st = BandStatus(b["connected"], b["battery_pct"], b["worn"], b["asleep"], tuple(b["faults"]),
                            muted_until=b["muted_until"], muted_by=b["muted_by"], channels_failing=others,
                            channels_changed=changed, heartbeat=hb, last_known_at=b["last_known_at"],
                            link_unstable=_link_unstable(b["link_unstable"]), rate_not_taken=_rate_not_taken(b["rate_not_taken"]))  # fmt: skip
            if device is None or last.get(device) == st:
                continue
            # Tried again at each change while the broker is away (paho sends the latest when it is back).
            if await self._mirrored(name, f"the status of {device}", mqtt.publish_status(device, st, self.clock.wall())):
                last[device] = st
        # Alarms carried on from before a restart: shown again. After the status: the one a
        # restored alarm publishes is the channel's, and the first must already list the
        # channels failing (Home Assistant's sensor must not blink OFF at a restart).
        while restored:
            n = restored.pop(0)
            await self._mirrored(name, f"the restored alarm of {n.device}", mqtt.mirror(n))
        return last

    async def _mirrored(self, name: str, what: str, publish: Coroutine[Any, Any, None]) -> bool:
        """Await one of the mirror's publishes on MQTT channel ``name``; its outcome goes to the
        dispatcher's ``failing`` (the page hears of a change). True when the broker took it."""
        try:
            await publish
            error = None
        except ChannelError as e:
            error = str(e)
        if self.dispatcher.note_sent(name, what, error):
            self._failing_changed()
        return error is None

    def _mqtt_up(self, name: str, mqtt: MqttChannel) -> None:
        """Paho (re)connected every link of MQTT channel ``name`` (on this loop, from the channel):
        a success for the dispatcher's ``failing``. Without it, a broker back after an outage left
        the channel listed as failing until the next notification or status change, hours maybe;
        paho re-says the retained state and sends the events it held by itself as it reconnects."""
        if self.dispatcher.note_sent(name, f"the connection to {mqtt.broker}", None):
            log.warning("%s: reaches %s again", name, mqtt.broker)
            self._failing_changed()

    def _besides(self, name: str, status: Json, which: str) -> tuple[FailingChannel, ...]:
        """The channels of ``status[which]`` (failing, or changed since they failed) MQTT channel
        ``name`` can tell Home Assistant of: all but itself (its own failure cannot reach the broker
        it failed to reach, and its first publish on new settings ends its change; the journal, page
        and CLI say it)."""
        return tuple(FailingChannel(c["channel"], c["since"], c["error"]) for c in status[which] if c["channel"] != name)

    def _check_link(self, b: BandView) -> None:
        now = self.clock.mono()
        short = self._short_down_s(b, now)
        down = b.down_since is not None and now - b.down_since >= self.disconnect_alert_s
        if down or short >= self.disconnect_alert_s:
            if b.link_alert is None and not down:
                log.warning("%s: the link was down %.0f s of the last %.0f s, in drops under %.0f s each: band disconnected",
                            b.label, short, self.disconnect_alert_s / K.DOWN_SHARE, self.disconnect_alert_s)  # fmt: skip
            # Also a band not seen since the start (or ever): nobody is watching the baby.
            b.link_alert = b.device or b.label
            s = b.session
            self.engine.on_band_state(b.link_alert, BandFault.DISCONNECTED, True, here=s.cause_here, acts=s.needs_person)
        elif b.session.state is State.STREAMING:
            self._link_back(b)  # a link that was mostly down: its short drops under the share again

    def _short_down_s(self, b: BandView, now: float) -> float:
        """Seconds the link was down within the last ``disconnect_alert_s / DOWN_SHARE``, in drops shorter
        than ``disconnect_alert_s`` each (the one going on too, while it is): ``K.DOWN_SHARE``."""
        since = now - self.disconnect_alert_s / K.DOWN_SHARE
        while b.short_drops and b.short_drops[0][1] <= since:
            b.short_drops.popleft()
        drops = list(b.short_drops)
        if b.down_since is not None and now - b.down_since < self.disconnect_alert_s:
            drops.append((b.down_since, now))
        return sum(to - max(start, since) for start, to in drops)

    def _link_back(self, b: BandView) -> None:
        """The disconnected alert cleared: "Band reconnected"."""
        if b.link_alert is not None:
            self.engine.on_band_state(b.link_alert, BandFault.DISCONNECTED, False)
            b.link_alert = None

    def _view(self, session: BandSession) -> BandView:
        return next(b for b in self.bands if b.session is session)

    def _by_device(self, device: str) -> BandView:
        return next(b for b in self.bands if b.device == device)

    # --- SessionSink ----------------------------------------------------------------
    def next_backfill_seq(self, device: str) -> int:
        b = self._by_device(device)
        b.backfilling = b.backfill_unstarted = True
        b.asked_seq = b.backfill_next = self._read(device, lambda: self.store.next_backfill_seq(device), lambda: _resume_seq(b))
        return b.asked_seq

    def log_life(self, device: str, boot: int, next_seq: int, band_ms: int, erased: bool = False) -> Offsets:
        b = self._by_device(device)
        # The store unreadable: the life this run last knew (read as it took the band on; the band's
        # own numbers if none; an erase meanwhile is then missed, and no stored row is touched by it).
        was = b.log_life or LogLife(device, None, 0, 0)
        life, started = self._read(
            device, lambda: self.store.check_log_life(device, boot, next_seq, band_ms, self.clock.wall(), erased), lambda: (was, False)
        )
        head = next_seq + life.seq_offset
        if b.seen_seqs and max(b.seen_seqs) >= head:
            # Its log behind what this run took from it: erased while the store could not be read (a
            # store that can starts a new life, numbered after the old one), and numbered as the old
            # one. Nothing of that places or dedups the new log's records (found by review: an old
            # boot's unplaced cluster alarmed at the new boot's sync, the new log's taken for re-deliveries).
            log.warning("%s: the band's log is behind what this run took from it (erased?): its old records are forgotten", device)
            _forget_log(b)
        b.head_seq = head
        if started:
            # Once per erase: what the band said, and where its numbers go in the store from now on.
            log.warning(
                "%s: the band's log restarted (flash erased or reformatted?): it says boot %d, next seq %d, clock %d ms, "
                "behind what the store holds; its events are stored from boot %d, seq %d on (band numbers + %d, + %d)",
                device, boot, next_seq, band_ms, boot + life.boot_offset, life.seq_offset, life.boot_offset, life.seq_offset,
            )  # fmt: skip
        b.log_life = life
        return Offsets(life.boot_offset, life.seq_offset)

    def on_state(self, session: BandSession, state: State, detail: str) -> None:
        b = self._view(session)
        if state is State.STREAMING and not b.bonds_asked:  # secure and synced: once per connection
            b.bonds_asked = True
            # (no link: a session driven by hand, no band to ask.) Not over USB: this computer holds no
            # bond there, so 'the count less this computer's' would hide a stranger's one bond.
            link = session.link
            if link is not None and link.transport != "serial" and b.info is not None:
                self._errand(self._count_bonds(b), f"counting the bonds of {b.label}")
            if link is not None:  # over USB too (off from 70c94bf0 until a cut there ended its commands)
                self._errand(self._settings_back(b), f"writing back the settings of {b.label}")
        elif state not in (State.STREAMING, State.STALE):
            b.bonds_asked = False
        if state is State.STREAMING:
            self._radio_up(b)
            now = self.clock.mono()
            if b.down_since is not None and now - b.down_since < self.disconnect_alert_s:
                b.short_drops.append((b.down_since, now))
            b.down_since = None
            if self._short_down_s(b, now) < self.disconnect_alert_s:  # (a link mostly down: not at each short link)
                self._link_back(b)
        elif state is State.STALE and b.device:
            b.link_alert = b.device
            self.engine.on_band_state(b.device, BandFault.DISCONNECTED, True)
        elif state not in (State.CONNECTING, State.SECURING, State.SYNCING) and b.down_since is None:
            b.down_since = self.clock.mono()
            b.synced = False
        if state is not State.STREAMING:
            self._store_held_status(b)
        self._publish({"type": "status"})

    def on_connected(self, info: BandInfo) -> None:
        b = next(v for v in self.bands if v.session.info is info)
        b.info = info
        self._stored(info.device, lambda: self.store.upsert_device(
            info.device, name=b.label, address=info.address, transport=info.transport, board=info.board, firmware=info.firmware,
            lazy=True))  # fmt: skip
        if b.analysis is None or b.analysis.device != info.device:  # first seen in this run, or another unit
            self._attach(b, info.device)
        self._judge_firmware(b)

    def _attach(self, b: BandView, device: str) -> None:
        """Monitor ``device`` as band ``b``: its analysis rebuilt from the store, its open alarms restored.
        First its band boots synced on a host clock stepped since are placed on the clock as it reads
        now: the rebuild, the clusters and alarms restored read their times."""
        if b.device != device:  # another unit (a spare band on the same port): its STATUS is its own
            self._store_held_status(b)  # (the one before's, stored under its own id)
            b.status, b.status_t, b.status_stored, b.status_stored_run, b.overruns = {}, None, None, False, None
        b.device = device
        # Its numbers in the store, for a connect that cannot read them (log_life): not the band's
        # own when its flash was erased once (None, unknown: its own numbers, the first life's).
        b.log_life = self._read(device, lambda: self.store.log_life(device), _nothing)
        if b.status_t is None:  # taken on at a start or a swap: its last report as a run before heard it
            self._last_report(b, device)
        # Nothing of another unit's (a spare band on the same port) places or dedups its records:
        # numbered from 0 as that one's were, its events were taken for re-deliveries.
        _forget_log(b)
        self.engine.name_device(device, b.label)
        self._place_on_clock(device, self.clock.since_boot(), self.clock.wall())
        a = b.analysis = LiveAnalysis(device, b.params, _StoreSource(self.store), self, self.clock.wall)
        a.preload(self._read(device, lambda: self._stored_clusters(device), list))
        self._read(device, lambda: self._restore_alarms(device, a), _nothing)
        self._read(device, lambda: self._restore_mute(device), _nothing)  # (first: it holds the band alerts' notices)
        self._read(device, lambda: self._restore_band_alerts(b, device), _nothing)
        self._rebuild(a, close=False)  # a backfill comes next; the ticker closes afterwards

    def on_sync(self, device: str, boot: int, band_ms: int, wall_s: float, host: SinceBoot | None = None) -> None:
        host_boot, host_s = (None, None) if host is None else (host.boot_id, host.s)
        b = self._by_device(device)
        b.sync = BandClock(boot, band_ms, wall_s)
        self._place_unplaced(b, b.sync)
        # Lazy, as the band's row (its connect's, its rate's): each was a synced commit, an fsync on the
        # loop at each connect and each hour's sync (docs/store.md "Guarantees").
        linked = self._stored(device, lambda: self.store.add_sync(device, boot, band_ms, wall_s, host_boot, host_s, lazy=True))
        b.synced = True
        self._placed_late(b, linked or [])  # boots placed through the band's links from this one, if any
        # A sync on a clock stepped since the boot's earlier syncs (the session found the step live,
        # or the band came back to a daemon whose clock was stepped while it was away): those band
        # boots go on today's clock, and the analysis with them. The step is the computer's, so
        # every other band goes on it now too, not at its own next sync (up to RESYNC_S later).
        if self._band_on_clock(b, host, wall_s):
            for other in self.bands:
                if other is not b and other.device is not None:
                    self._band_on_clock(other, host, wall_s)
        self._band_by_links(b, [boot])  # a step across a computer restart, which part 1 cannot see

    @property
    def _host_step_s(self) -> float:
        """How far (s) the wall's offset over the since-boot clock may move and not be a step: HOST_STEP_S
        and the pause between the two reads at this clock's rate (HOST_READ_GAP_S)."""
        return K.HOST_STEP_S + K.HOST_READ_GAP_S * self.clock.rate

    def _band_on_clock(self, b: BandView, host: SinceBoot | None, wall_s: float) -> bool:
        """``_place_on_clock`` for band ``b``, its live analysis rebuilt on the moved times; whether any moved."""
        assert b.device is not None
        if not self._place_on_clock(b.device, host, wall_s):
            return False
        self._rebuild_moved(b.analysis)
        return True

    def _place_on_clock(self, device: str, host: SinceBoot | None, wall_s: float) -> bool:
        """Place ``device``'s band boots synced on a wall stepped since (in this boot of the computer)
        on the clock that read ``wall_s`` at ``host``; said once, when they move. Whether any did."""
        if host is None:
            return False  # this clock gives no since-boot reading: placed as synced, as before
        moved = self._stored(device, lambda: self.store.place_on_clock(device, host.boot_id, wall_s - host.s, self._host_step_s))
        if not moved:
            return False
        log.warning(
            "%s: the host's clock was stepped since band boot(s) %s were synced (this computer has not restarted since): "
            "their %d event(s), %d epoch(s) and %d stored cluster(s) are placed on the clock as it reads now, moved by %s s",
            device, *_moved_words(moved),
        )  # fmt: skip
        return True

    def _rebuild_moved(self, analysis: LiveAnalysis | None) -> None:
        """A band's analysis (if attached) rebuilt on its moved times, its tracked clusters at their
        stored times first."""
        if analysis is not None:
            self._retrack(analysis)
            self._rebuild(analysis, close=False)  # as at attach: closing goes by the band's data

    def _rebuild(self, analysis: LiveAnalysis, now: float | None = None, close: bool = True) -> None:
        """``analysis.rebuild``; a store that cannot be read leaves the analysis as it is, to be
        rebuilt at the next backfill's end (``LiveAnalysis.rebuild``)."""
        self._read(analysis.device, lambda: analysis.rebuild(now, close), _nothing)

    def _retrack(self, analysis: LiveAnalysis) -> None:
        """The clusters ``analysis`` tracks, at their stored times again (``_place_on_clock`` moved them)."""
        for tc in analysis.tracked:
            # Its events moved: each spasm time is looked up again (until the rebuild, the analysis
            # still has times some stored event left; they link nothing now, as they would not).
            tc.event_at = {}
            if tc.store_id is not None:  # (a store that cannot be read: where the analysis had it)
                self._read(analysis.device, functools.partial(self._at_stored_times, tc, tc.store_id), _nothing)

    def _at_stored_times(self, tc: TrackedCluster, cluster_id: int) -> None:
        r = self.store.cluster(cluster_id)
        if r is not None:
            tc.start, tc.end, tc.spasm_ts = r.start_t, r.end_t, self._spasm_ts(r.id)

    def on_rate(self, device: str, rate_hz: float) -> None:
        """The band's IMU step (an MPU6886 samples at 50 Hz for a configured 52): epochs
        and raw files are counted in its samples."""
        b = self._by_device(device)
        self._stored(device, lambda: self.store.upsert_device(device, rate_hz=rate_hz, wall_s=self.clock.wall(), lazy=True))
        if rate_hz == b.params.rate_hz:
            return
        log.info("%s: the IMU samples at %g Hz (configured %g Hz)", device, rate_hz, b.params.rate_hz)
        b.params = Params(rate_hz, True)
        if b.analysis is not None:
            b.analysis.params = b.params
            self._rebuild(b.analysis, close=False)  # as at attach: the backfill comes next

    def boot_marks(self, device: str, boot: int, seq: int | None) -> BootMarks | None:
        return self._read(device, lambda: self.store.boot_marks(device, boot, seq), _nothing)  # None: the band's values

    def on_lost(self, device: str, first_seq: int, last_seq: int) -> None:
        if last_seq >= first_seq:
            log.warning("%s: events %d-%d were overwritten on the band before they reached the host", device, first_seq, last_seq)
            self._stored(device, lambda: self.store.mark_lost(device, first_seq, last_seq, self.clock.wall()))

    def on_record(self, device: str, rec: dict[str, Any], received_s: float) -> None:
        kind = rec["type"]
        if kind == "event":
            self._on_event(device, rec, received_s)
        elif kind == "activity":
            self._on_activity(device, rec, received_s)
        elif kind == "status":
            self._on_status(device, rec, received_s)
        elif kind == "loginfo" and rec["flags"] & P.LF_DONE:
            self._backfill_done(device, received_s)
        elif kind == "loginfo" and not rec["flags"] & P.LF_HELD:
            self._by_device(device).backfill_unstarted = False  # a BACKFILL's start: its events follow in order
        elif kind == "raw":
            self._on_raw(device, rec, received_s)
        elif kind == "bootlink":
            self._on_bootlink(device, rec, received_s)

    def _on_bootlink(self, device: str, rec: dict[str, Any], received_s: float) -> None:
        """The band's word on how its boot ``boot`` followed ``prev_boot`` (re-sent at each backfill):
        the boots no sync reached are placed through it, and what that placed is analysed late."""
        placed = self._stored(device, lambda: self.store.add_boot_link(device, rec, received_s))
        b = self._by_device(device)
        self._placed_late(b, placed or [])
        if placed is not None:
            self._band_by_links(b, [rec["boot"], rec["prev_boot"]])

    def _band_by_links(self, b: BandView, boots: Sequence[int]) -> None:
        """Band boots whose syncs were made on a host clock stepped since across a computer restart,
        as their reset links to the boots after them show (``Store.place_by_links``): placed again
        through the links, with the other bands' boots synced on that clock; said once per band,
        each band's analysis rebuilt on the moved times (as ``_band_on_clock``)."""
        assert b.device is not None
        device = b.device
        moved = self._stored(device, lambda: self.store.place_by_links(device, boots, K.HOST_STEP_S, K.BAND_DRIFT_PPM))
        moved = moved or []  # None: not stored (said by _stored)
        for dev in dict.fromkeys(r.device for r in moved):
            mine = [r for r in moved if r.device == dev]
            why = (
                "the band's reset links to the boots after them disagree with their syncs"
                if dev == device
                else f"band {device}'s reset link found that clock's step"
            )
            log.warning(
                "%s: band boot(s) %s were synced on a host clock stepped since, across a restart of this computer (%s): "
                "their %d event(s), %d epoch(s) and %d stored cluster(s) are placed through the links, moved by %s s",
                dev, *_moved_words(mine, why),
            )  # fmt: skip
            self._rebuild_moved(next((v.analysis for v in self.bands if v.device == dev), None))

    def _count_linked(self, b: BandView, boot: int) -> None:
        """An event of ``boot`` placed as it came: counted when it was placed through the band's boot
        links (its boot has no sync of its own), to be said once, at the backfill's end."""
        assert b.device is not None
        device = b.device
        a = b.linked_new.get(boot) or self._read(device, lambda: self.store.boot_anchor(device, boot), _nothing)
        if a is not None and a.hops:
            b.linked_new[boot] = replace(a, events=a.events + 1)

    def _placed_late(self, b: BandView, placed: Sequence[Linked]) -> None:
        """Band boots placed through the band's boot links (``Store.add_boot_link``, ``add_sync``):
        said once (in a backfill, at its end, with the events of theirs it brings), and taken in as
        late events are: a rebuild of the analysis from the store, at the backfill's end when one
        runs (``_backfill_done``), else now."""
        if not placed:
            return
        assert b.device is not None
        for r in placed:
            if b.backfilling and r.hops:  # with the events of that boot still to come: said at its end
                had = b.linked_new.get(r.boot)
                b.linked_new[r.boot] = r if had is None else replace(
                    r, events=had.events + r.events, epochs=had.epochs + r.epochs,
                    moved_events=had.moved_events + r.moved_events, moved_epochs=had.moved_epochs + r.moved_epochs)  # fmt: skip
            else:
                _say_placed(b.device, r)
        if b.analysis is None:
            return  # the attach's rebuild reads them
        if any(r.moved_events for r in placed):
            self._retrack(b.analysis)
        if b.backfilling:
            b.analysis.needs_rebuild = True  # with the backfill's own late events, at its end
        else:
            self._rebuild(b.analysis, close=False)

    def _stored(self, device: str, write: Callable[[], T]) -> T | None:
        """``write()``'s result, or None when the store refuses it (disk full, a locked file, the
        disk gone): ``_store_failed``. The family is told again when writes work."""
        try:
            result = write()
        except StoreError as e:
            self._store_failed(device, e)
            return None
        # A nearly full disk takes some writes and refuses others: cleared after a quiet spell.
        failed_t = self._store_failing.get(device)
        if failed_t is not None and device not in self._unsynced and self.clock.wall() - failed_t >= K.STORAGE_OK_S:
            self._store_works(device, "the store takes writes again")
        return result

    def _store_works(self, device: str, why: str) -> None:
        """``device``'s store fault cleared (``why``, logged): the family told its events are saved again."""
        del self._store_failing[device]
        log.warning("%s: %s", device, why)
        for fault in STORE_FAULTS:
            self.engine.on_band_state(device, fault, False)
        for b in self.bands:
            if b.device == device:
                self._clear_store_alert(b)  # raised under its name while the store could not be opened
                b.session.refill()  # what it refused meanwhile, from the band's flash now

    def _read(self, device: str, read: Callable[[], T], otherwise: Callable[[], T]) -> T:
        """``read()``'s result (a read of the store, or work that may read it: an analysis taking a
        late item rebuilds from it), or ``otherwise()`` from what the daemon holds (``BandView``)
        when the store fails it (the disk gone, a failing card): ``_store_failed``. A read that
        works says nothing of writes (a full disk reads): only ``_stored`` clears the failure."""
        try:
            return read()
        except StoreError as e:
            self._store_failed(device, e)
            return otherwise()

    def _store_failed(self, device: str, e: StoreError) -> None:
        """The live analysis and the alarms go on without the store: the band keeps every event in
        its flash, and the next connection's backfill asks again for what is missing. The family
        is told once (``storage_failing``; ``store_damaged`` when the file itself is damaged). A
        damaged store, or one a newer spasmwatch migrated under this daemon to a version it may not
        write (``StoreNewer``: as a restart would find it), is shut (``_shut_damaged``)."""
        failing = device in self._store_failing
        self._store_failing[device] = self.clock.wall()  # first: telling the family writes to the store too
        if (e.damaged or isinstance(e, StoreNewer)) and self.store.open_error is None:
            self._shut_damaged(e)  # (each band told under its name: nothing more below)
        # (a band's device is known from its info as it connects, before its attach reads the store)
        told = any(b.store_alert is not None and device in (b.device, b.info and b.info.device) for b in self.bands)
        if failing or told:
            return  # told already (at its first failure, or under its name as the store could not be opened)
        log.error("%s: the store failed (%s); alarms go on, events stay on the band", device, e)
        self._tell_store_fault(device, e)

    def _tell_store_fault(self, device: str, e: StoreError) -> None:
        """The family told ``device``'s events are not saved (``_store_fault``); a damaged store's message
        names the command that recovers this daemon's store, with its path: the family's shell may not
        have the unit's (SPASMWATCH_DATA_DIR, 'run --config'), and a bare one acted on another store. A
        store with a way out of its own (``e.fix``: recover refuses it, or a step was refused for a column
        added by hand) is told that way and its command instead."""
        fix = _fix_of(e, self.store.path)
        self.engine.on_band_state(device, _store_fault(e), True, command=fix.command, way=fix.way)

    def _on_event(self, device: str, rec: dict[str, Any], received_s: float) -> None:
        b = self._by_device(device)
        # Lazy (its sync left to the next synced commit: the alarm's transition, or within a minute):
        # the band holds the event in its flash until its log wraps, and a power cut that takes it from
        # the store has the next backfill ask for it again. Synced here, each event was an fsync on the
        # event loop before its cluster's alarm could go out (bench/slow_disk.py, docs/store.md "Guarantees").
        new = self._stored(device, lambda: self.store.add_events(device, [rec], received_s, lazy=True))
        seq = rec["seq"]
        ahead = _ahead_of_backfill(b, seq)
        if new == 0 or (new is None and seq in b.seen_seqs):
            if not ahead and b.early.pop(seq, None) is not None:  # sent again in the backfill's order: its turn
                self._analyse_early(b, rec)
            return  # already stored (re-delivered): already analysed
        _seen(b, seq)
        t = self._wall_time(b, rec["boot"], rec["onset_ms"])
        if t is not None:
            self._count_linked(b, rec["boot"])
            if ahead:
                b.early[seq] = rec
                return
            self._analyse_event(b, rec, t)
        elif new is None:  # not stored: the store cannot place it at its boot's sync, this run will
            b.unplaced.append(rec)
            del b.unplaced[: -K.SEEN_SEQS]
        # (else kept; placed and analysed once its boot is synced, or linked to one that is)

    def _analyse_early(self, b: BandView, rec: dict[str, Any]) -> None:
        """Event ``rec``, sent live ahead of a BACKFILL (``BandView.early``), into the analysis now."""
        t = self._wall_time(b, rec["boot"], rec["onset_ms"])
        if t is not None:
            self._analyse_event(b, rec, t)

    def _analyse_event(self, b: BandView, rec: dict[str, Any], t: float) -> None:
        """Event ``rec``, placed at wall ``t``, into ``b``'s live analysis."""
        a, device = b.analysis, b.device
        if a is None or device is None:
            return
        s = _spasm(t, rec["duration_ms"], rec["peak_rate_mrads"], rec["peak_angle_mrad"], rec["confidence"], rec["flags"])
        self._read(device, lambda: a.spasm(s), _nothing)  # (a late one rebuilds from the store)
        self._publish({"type": "event", "device": device, "t": t})

    def _place_unplaced(self, b: BandView, sync: BandClock) -> None:
        """The refused events of ``sync``'s boot no sync placed as they came (``BandView.unplaced``),
        placed by it and analysed now: a band that rebooted away from an unreadable store brings
        the new boot's events in the backfill, before the connect's sync."""
        mine = [r for r in b.unplaced if r["boot"] == sync.boot]
        if mine:
            b.unplaced = [r for r in b.unplaced if r["boot"] != sync.boot]
            for rec in mine:
                self._analyse_event(b, rec, sync.wall_s_at(rec["onset_ms"]))

    def _on_activity(self, device: str, rec: dict[str, Any], received_s: float) -> None:
        self._stored(device, lambda: self.store.add_activity(device, [rec], received_s))
        if rec["worn"] != -1:  # -1: not known yet (a band's first epochs after a boot)
            self.engine.on_band_state(device, BandFault.NOT_WORN, rec["worn"] == 0)
        b = self._by_device(device)
        end = self._wall_time(b, rec["boot"], rec["t_ms"])
        a = b.analysis
        if end is None or a is None:
            return
        off_body = bool(rec["off_body"])
        worn = counts_worn(rec["worn"], off_body)
        if b.backfilling:
            # Only the epochs the band held while no host was there come now (it sends an epoch when
            # no logged event waits), at the connect's sync, ahead of the backfill's older events.
            a.hold_epoch(end - EPOCH_S, rec["activity"], off_body, worn)
        else:
            self._read(device, lambda: a.epoch(end - EPOCH_S, rec["activity"], off_body, worn), _nothing)  # (a late one rebuilds)

    def _on_status(self, device: str, rec: dict[str, Any], received_s: float) -> None:
        b = self._by_device(device)
        if _status_news(b.status_stored if b.status_stored_run else None, rec, received_s):
            self._store_status(b, device, rec, received_s)
        b.status, b.status_t = rec, received_s
        flags, errors = rec["flags"], rec["errors"]
        e = self.engine.on_band_state
        e(device, BandFault.BATTERY_LOW, bool(flags & (P.SF_LOW_BATTERY | P.SF_CRITICAL_BATTERY)))
        e(device, BandFault.LOG_NEARLY_FULL, rec["log_fill_pct"] >= K.LOG_NEARLY_FULL_PCT)
        e(device, BandFault.SAFE_MODE, bool(flags & P.SF_SAFE_MODE))
        e(device, BandFault.SENSOR_ERROR, bool(errors & P.ERR_IMU))
        b.overruns = run = _overruns(b.overruns, rec)
        if run is None or run.latest_s - run.first_s >= K.SAMPLES_LOST_AFTER_S:  # raised by a long run, cleared by none
            e(device, BandFault.SAMPLES_LOST, run is not None)
        e(device, BandFault.BAND_LOG_FAILING, bool(errors & P.ERR_LOG_WRITE))  # set until the band restarts
        self._radio_late(b, device, rec, received_s)
        if rec["worn"] != -1:
            e(device, BandFault.NOT_WORN, rec["worn"] == 0)
        if b.synced:  # the first status of a connection is read before the sync
            if b.sync is not None and received_s >= b.sync.wall_s:
                # Not one the band sent before the sync (a serial port's first record, a notify
                # before the first TIME_SYNC, queued until the connect was done): a band not synced
                # since it booted said so in it, and at each such connect the family was pushed
                # clock_unsynced, cleared by the next STATUS.
                e(device, BandFault.CLOCK_UNSYNCED, not flags & P.SF_TIME_SYNCED)
            # The band's clock as it read this status (whole seconds, so never ahead): a quiet band's
            # time line goes on with it too, when it sends no epochs (sensing stopped). Not the first:
            # placed by an older sync, after the host's clock was set back it lay ahead of the clock.
            t = self._wall_time(b, rec["boot"], rec["uptime_s"] * 1000)
            if t is not None and b.analysis is not None:
                b.analysis.band_time(t)
        self._publish({"type": "status"})

    def _radio_late(self, b: BandView, device: str, rec: dict[str, Any], received_s: float) -> None:
        """ERR_RADIO, set for the rest of a boot whose radio refused to start (docs/firmware.md,
        "Starting the radio first"): the band sensed and logged to flash meanwhile, so its time
        "disconnected" lost nothing but the live alarms. Told once per boot with the minutes its
        radio was off, as the first STATUS of that boot heard has them (the radio comes up in the
        band's _RADIO_RETRY_MS steps, and this host connects soon after); what to do only when an
        earlier boot had it too (once is a one-off). Its radio up, the fault ends as the band streams
        (``_radio_up``): the card needs no attention for the rest of the boot. A boot that starts its
        radio ends an earlier boot's still open (carried on from before a restart, or the band off
        before it streamed); a boot late again ends it too, and is told as its own."""
        if not rec["errors"] & P.ERR_RADIO:
            b.radio_late = None
            self.engine.on_band_state(device, BandFault.RADIO_LATE, False)
            return
        if b.radio_late is not None and b.radio_late[0] == rec["boot"]:
            return  # told
        b.radio_late = (rec["boot"], max(1, round(rec["uptime_s"] / 60)))
        # The boot began uptime_s before this STATUS: one raised since was this boot's, before a restart.
        fault = BandFault.RADIO_LATE
        raised = self._read(device, lambda: self.store.latest_alert_t(device, fault.value, fault.state.value), _nothing)
        if raised is not None and raised >= received_s - rec["uptime_s"]:
            return
        log.warning(
            "%s: its radio refused to start at boot %d and came up about %d min later (STATUS ERR_RADIO): the band "
            "sensed and logged to flash meanwhile, its events come in the backfill%s", device, rec["boot"], b.radio_late[1],
            "" if raised is None else "; it did at an earlier boot too: see docs/firmware.md \"Starting the radio first\"",
        )  # fmt: skip
        # An earlier boot's still open (the band off before it streamed, or carried on by a restart) is
        # over: this boot's is an alert of its own. Until review h48 that one took this raise as its
        # own repeat, the same minutes no news: nothing told.
        self.engine.on_band_state(device, fault, False)
        self.engine.on_band_state(device, fault, True, way=_radio_way(raised), count=b.radio_late[1])
        if b.session.state is State.STREAMING:  # (a STATUS heard after the sync)
            self._radio_up(b)

    def _radio_up(self, b: BandView) -> None:
        """Band ``b`` streams: a radio_late of its boot ends (kept in the alert history, nothing pushed:
        ``BandFault.news_once``); until review h47 the card said "needs attention" for the whole boot."""
        if b.device is not None and b.radio_late is not None:
            self.engine.on_band_state(b.device, BandFault.RADIO_LATE, False)

    def _store_status(self, b: BandView, device: str, rec: dict[str, Any], received_s: float) -> None:
        """Store ``rec``, heard at ``received_s``; refused (the store failing), the next STATUS tries again."""
        if self._stored(device, lambda: self.store.add_status(device, received_s, rec)) is not None:
            b.status_stored, b.status_stored_run = (rec, received_s), True

    def _last_report(self, b: BandView, device: str) -> None:
        """Band ``b`` (``device``) not heard this run: its latest stored STATUS taken as its last
        report. The page, 'spasmwatch status' and MQTT (Home Assistant) then say "last known" of its
        battery and worn and when it was heard, not "never" nor nothing, while it stays away after
        a restart. It is the store's already: not stored again at a stop."""
        row = self._read(device, lambda: self.store.latest_status(device), _nothing)
        if row is not None:
            b.status, b.status_t = row.record(), row.received_wall_s
            b.status_stored = (b.status, b.status_t)

    def _store_held_status(self, b: BandView) -> None:
        """The band's latest STATUS, held since the last one stored, stored: its link lost or the
        daemon stopping, the store's latest says when it was last heard, to the STATUS."""
        if b.device is not None and b.status and b.status_t is not None and (b.status_stored is None or b.status_stored[1] != b.status_t):
            self._store_status(b, b.device, b.status, b.status_t)

    def _wall_time(self, b: BandView, boot: int, t_ms: int) -> float | None:
        """``Store.wall_time``; when the store cannot be read, or holds nothing that places ``boot``
        (it refused the boot's syncs and links: a disk gone read-only), by the band's latest sync
        if of ``boot``."""
        device, sync = b.device, b.sync
        assert device is not None
        t = self._read(device, lambda: self.store.wall_time(device, boot, t_ms), _nothing)
        return sync.wall_s_at(t_ms) if t is None and sync is not None and sync.boot == boot else t

    def _on_raw(self, device: str, rec: dict[str, Any], received_s: float) -> None:
        """Raw samples go to a band boot's .swraw files (sample indexes restart at a boot), a part a
        day cut at local noon by the samples' times (rawparts.py), while the disk keeps its reserve
        for the store and the file takes writes (rawkeep.py): samples not kept are a gap in the
        file's indexes. Nothing here may disturb the band's session."""
        b = self._by_device(device)
        if not self._raw_may_write(b, device):
            return
        try:
            w = self._raw_writer(b, device, rec, received_s)
            # The band's u32 index wraps after 2^32 samples (497 days at 100 Hz); the file's does not.
            first = unwrap_u32(rec["first_index"], w.next_index, slack=1 << 31)
            samples, dropped = rec["samples"], rec["dropped"]
            end = first + len(samples)
            cut = b.raw_end - first  # how many of them the open part still takes
            if 0 < cut < len(samples):
                self._raw_append(w, device, first, samples[:cut], dropped)
                first, samples, dropped = first + cut, samples[cut:], 0
            if first >= b.raw_end:
                w = self._raw_rotate(b, device, first)
            self._raw_append(w, device, first, samples, dropped)
            self._raw_date(b, w, end)
            if b.raw_failed is not None:
                w.flush()  # a try after a failure: a write that reaches the file says it takes raw again
        except (OSError, InputError) as e:  # ENOSPC, EIO, a read-only file system, a damaged file
            path = b.raw_path
            self._close_raw(b)  # (the same fault again on the pending samples: they are the gap)
            self._raw_failed(b, device, e, path)
            return
        if b.raw_failed is not None:
            log.info("%s: raw recording resumed: %s takes writes again", device, w.path)
            b.raw_failed = None
            self._publish({"type": "status"})

    @staticmethod
    def _raw_append(w: RawWriter, device: str, first: int, samples: Sequence[Sequence[int]], dropped: int) -> None:
        """Samples before the open part's next index (late ones, of this part or a closed one) are
        skipped: a part is append-only, and a closed one is never reopened."""
        try:
            w.append(first, samples, dropped)
        except ValueError as e:
            log.warning("%s: raw samples out of order, skipped: %s", device, e)

    def _raw_date(self, b: BandView, w: RawWriter, end: int) -> None:
        """The record's arrival into the boot's rate fit; every RAW_DATING_EVERY_S a dating record
        (the fit at the record's end, on the wall clock as it reads now) and the part's end again
        by it (the noon cut by the samples' measured times)."""
        # At the wall's rate: a ScaledClock (the simulated band's time, tests and demo) runs its wall
        # ``rate`` x faster than its mono, which stays real for the timeouts.
        mono = self.clock.mono() * self.clock.rate
        if b.raw_fit is None or b.raw_fit_boot != b.raw_boot:
            b.raw_fit, b.raw_fit_boot, b.raw_rate = RateFit(w.header.rate_hz), b.raw_boot, None
        b.raw_fit.add(end, mono)
        if mono - b.raw_dated_mono < K.RAW_DATING_EVERY_S:
            return
        line = b.raw_fit.line()
        if line is None:
            return
        b.raw_dated_mono, b.raw_rate = mono, (line.rate_hz, w.header.rate_hz)
        w.date(DatingPoint(end, line.mono_at(end) + self.clock.wall() - mono, line.rate_hz))
        b.raw_end = max(part_end(w.dating(), w.next_index, self._zone()), w.next_index)

    def _raw_may_write(self, b: BandView, device: str) -> bool:
        """Not while this band's file failed (until its next try), nor while the disk is under the
        reserve (its file closed then, so it is whole on disk)."""
        if b.raw_failed is not None and self.clock.mono() < b.raw_retry_mono:
            return False
        before = self.raw_disk.paused
        room = self.raw_disk.room()
        if self.raw_disk.paused is not before:
            self._publish({"type": "status"})
        if not room and b.raw is not None:
            path = b.raw.path
            err = self._close_raw(b)
            if err is not None:
                self._raw_failed(b, device, err, path)
        return room

    def _raw_writer(self, b: BandView, device: str, rec: dict[str, Any], received_s: float) -> RawWriter:
        """The open part of this boot: at the boot's first record (or the daemon's), its latest part
        on disk continued, or its first started."""
        boot = int(b.status.get("boot", 0))
        if b.raw is not None and b.raw_boot == boot:
            return b.raw
        err = self._close_raw(b)
        if err is not None:
            raise err
        b.raw_path = str(self.raw_dir)
        found = latest(boot_parts(self.raw_dir, device, boot))
        if found is not None:
            return self._raw_open(b, boot, *found)
        # RAW carries sample indexes, not times: date index 0 from this record's arrival.
        rate = b.params.rate_hz
        dating = RawHeader(device, float(rate), True, received_s - (rec["first_index"] + len(rec["samples"])) / rate)
        head = next_header(RawDating(dating), rec["first_index"], self._zone(), floor=0)
        return self._raw_open(b, boot, Part(part_path(self.raw_dir, device, boot, 0), 0), head)

    def _raw_rotate(self, b: BandView, device: str, index: int) -> RawWriter:
        """The open part closed at its boundary; the next one opened by sample ``index``, dated
        as the boot's parts are (its header's wall_start_s at its own origin)."""
        assert b.raw is not None and b.raw_boot is not None
        boot, number = b.raw_boot, b.raw_part + 1
        dating = b.raw.dating()
        head = next_header(dating, index, self._zone(), floor=b.raw_end)
        err = self._close_raw(b)
        if err is not None:
            raise err
        log.info("%s: raw recording goes on in a new part from %s (the last one closed at its boundary)",
                 device, M.hhmm(dating.wall_at(head.index_origin), self._zone()))  # fmt: skip
        w = self._raw_open(b, boot, Part(part_path(self.raw_dir, device, boot, number), number), head)
        if dating.points:  # the part dates its own start as measured (it replays alone)
            w.date(DatingPoint(head.index_origin, dating.wall_at(head.index_origin), dating.points[-1].rate_hz))
            b.raw_end = part_end(w.dating(), w.next_index, self._zone())
        return w

    def _raw_open(self, b: BandView, boot: int, part: Part, head: RawHeader) -> RawWriter:
        # The raw folder is in the store's: on a disk not mounted yet, or another's (DifferentStore, a StoreMissing).
        if isinstance(self.store.open_error, StoreMissing):
            raise FileNotFoundError(errno.ENOENT, "the store's folder is not there (its disk not mounted yet?): waiting for it", str(self.raw_dir))
        private.make_dir(self.raw_dir)  # 0700: the baby's movement
        # One made 0755 before 2026-12-05: closed, with the 0644 files in it (a stat when it is 0700).
        private.tighten(self.raw_dir, "the raw recordings' folder")
        path = os.fspath(part.path)
        b.raw_path = path
        self.raw_in_use.add(path)  # before it is looked at: the pruning thread leaves it be
        try:
            w = RawWriter(path, self._raw_file(part.path, head))
        except BaseException:
            self.raw_in_use.discard(path)
            raise
        b.raw, b.raw_boot, b.raw_part = w, boot, part.number
        b.raw_end = part_end(w.dating(), w.next_index, self._zone())
        return w

    def _raw_failed(self, b: BandView, device: str, e: OSError | InputError, path: str) -> None:
        """Raw paused for this band, tried again in RAW_RETRY_S; logged once per distinct error."""
        if isinstance(e, OSError):
            error = e.strerror or str(e)
            why = f"cannot write {path}: {error}"
        else:
            error = why = str(e)
        b.raw_retry_mono = self.clock.mono() + K.RAW_RETRY_S
        if b.raw_failed is not None and b.raw_failed.why == why:
            log.debug("%s: raw recording still paused: %s", device, why)
            return
        log.warning("%s: raw recording paused: %s; events, alarms and status go on; raw is tried again every %.0f min",
                    device, why, K.RAW_RETRY_S / 60)  # fmt: skip
        b.raw_failed = RawPause(self.clock.wall(), why, {"key": "cannot_write", "args": {"path": path, "error": error}})
        self._publish({"type": "status"})

    def _close_raw(self, b: BandView) -> OSError | None:
        """Its pending samples written and the file closed (closed also when that write fails: the error)."""
        w, b.raw, b.raw_boot = b.raw, None, None
        try:
            if w is not None:
                w.close()
        except OSError as e:
            return e
        finally:
            if w is not None:
                self.raw_in_use.discard(w.path)  # closed: the pruning may judge it by its age
        return None

    def _raw_file(self, path: Path, head: RawHeader) -> RawHeader:
        """The header to write ``path`` with: the file's own when it exists (from before a restart)."""
        if path.exists() and path.stat().st_size > 0:
            try:
                return RawReader(path).header
            except InputError as e:  # unreadable header: keep it aside, start the part anew
                log.warning("%s: %s; kept as %s.bad, a new raw file is started", head.device_id, e, path.name)
                os.replace(path, path.with_name(path.name + ".bad"))
        return head

    def _backfill_done(self, device: str, received_s: float) -> None:
        """The band sent every event it logged up to this LOGINFO (its arrival, on the connect's
        fresh sync): its time line is in up to then."""
        b = self._by_device(device)
        b.backfilling = b.backfill_unstarted = False
        for r in b.linked_new.values():
            _say_placed(device, r)
        b.linked_new.clear()
        early, b.early = b.early, {}
        for rec in early.values():  # not sent again after a start (lost on the link): taken now, a late one rebuilds
            self._analyse_early(b, rec)
        if b.analysis is None:
            return
        self._read(device, b.analysis.release_held, _nothing)  # behind the backfill's events, as the band sends them
        if b.analysis.needs_rebuild:
            log.info("%s: late events arrived; rebuilding the analysis from the store", device)
            self._rebuild(b.analysis, received_s)
        else:
            b.analysis.band_time(received_s)

    # --- ClusterListener ------------------------------------------------------------
    def cluster_changed(
        self, device: str, tc: TrackedCluster, c: Cluster, event: str, absorbed: Sequence[TrackedCluster] = ()
    ) -> None:
        ids: list[int] = []
        merged = False

        def write() -> int:
            nonlocal ids, merged
            ids = self._event_ids(device, tc, c)  # a read: a store that fails it refuses the write too
            # One commit: the cluster with its events, and the clusters it took in retired, their
            # rows and their alerts (the transitions are savepoints of it): no moment on disk where
            # an event is in two clusters, nor a retired alert still open (docs/host.md "Live analysis").
            # Lazy as its events (a power cut's restart rebuilds the row from them): the transition
            # that follows, if any, syncs it with its own commit; a merge's transitions inside it do.
            with self.store.transaction(lazy=True):
                # A cluster closed before a restart stays closed when the rebuild re-reports it as an
                # update (it did go back to open in the store, and the rebuild never closes it again).
                cid = self.store.upsert_cluster(
                    device, tc.key, c.start, c.end, c.count, c.alert_t, c.post_wake_s, event == "closed" or tc.closed,
                    event_ids=ids, wall_s=self.clock.wall(), held_ids=tc.stored_ids,
                )  # fmt: skip
                heads_up = None if tc.forming_key is None else self.engine.open_cluster_id(device, tc.forming_key)
                if heads_up is not None:  # its WARNING's rows, stored under no cluster: this one's history
                    self.store.claim_alert(device, heads_up, cid)
                if absorbed:
                    self.store.merge_clusters(device, cid, [a.store_id for a in absorbed if a.store_id is not None])
                    merged = True
                    self._merge_alerts(device, cid, absorbed, c)
            return cid

        was = tc.store_id
        stored = self._stored(device, write)
        if stored is not None:  # (refused: the row holds what it held, rolled back)
            tc.store_id, tc.stored_ids = stored, frozenset(ids)
            if was is None and self._merged_into.pop(stored, None) is not None:
                self.engine.forget_retired(stored)  # a new row with the id of one a merge retired (a store's sequence lost)
            if was is None:  # stored at last (the store came back): its alert goes on under its row's id
                self.engine.merge_clusters(device, stored, [tc.key])
        if absorbed and not merged:  # the store refused it: the alerts are one all the same
            self._merge_alerts(device, tc.store_id if tc.store_id is not None else tc.key, absorbed, c)
        if tc.replayed:
            return  # a cluster alarmed (and closed) before a restart: the store is updated, nobody re-alerted
        key = tc.store_id if tc.store_id is not None else tc.key  # (the store refused it: the engine still alarms)
        if tc.forming_key is not None:  # its heads-up goes on as its alarm: one alert
            self.engine.rekey(device, tc.forming_key, key)
            tc.forming_key = None
        if event == "closed":
            self.engine.on_cluster_closed(device, key, c.end)
        else:
            self.engine.on_cluster(device, c, key)
        self._publish({"type": "cluster", "device": device, "id": tc.store_id, "event": event})

    def _event_ids(self, device: str, tc: TrackedCluster, c: Cluster) -> list[int]:
        """The stored events of ``c``'s spasms (``Store.event_ids_at``), each spasm time looked up once
        while ``tc`` is tracked (``tc.event_at``): a growing cluster asks the store about its new
        spasms only. A time not found (yet) is asked again at the next change."""
        ts = [s.t for s in c.spasms]
        at = tc.event_at
        new = [t for t in ts if t not in at]
        at.update((t, i) for t, i in zip(new, self.store.event_ids_at(device, new)) if i is not None)
        if len(at) > len(ts):  # times the cluster no longer has (a dropped match): kept to its size
            tc.event_at = at = {t: at[t] for t in ts if t in at}
        return [at[t] for t in ts if t in at]

    def _merge_alerts(self, device: str, into: int | str, absorbed: Sequence[TrackedCluster], c: Cluster) -> None:
        """The alerts of the clusters ``absorbed`` by cluster ``into``: one alert for one cluster
        (``AlertEngine.merge_clusters``). Their transitions are stored under ``into``, as their
        history is (``Store.merge_clusters``: the retired rows are gone)."""
        keys: list[int | str] = []
        for a in absorbed:
            key = a.store_id if a.store_id is not None else a.key
            keys.append(key)
            if isinstance(key, int) and isinstance(into, int):
                # One hop: those merged into ``key`` before are ``into``'s now (its row goes too).
                self._merged_into = {k: into if v == key else v for k, v in self._merged_into.items()}
                self._merged_into[key] = into
        log.warning(
            "%s: late events joined cluster(s) %s to cluster %s: one cluster, one alarm (the other rows and alerts retired)",
            device, ", ".join(str(k) for k in keys), into,
        )  # fmt: skip
        self.engine.merge_clusters(device, into, keys, c)
        # Kept while the retired alert is held (among the engine's keep_closed closed ones): nothing
        # else can change again. Kept for good, the map grew by a merge each time late events joined
        # two clusters, for as long as the daemon ran.
        held = self.engine.cluster_keys()
        self._merged_into = {k: v for k, v in self._merged_into.items() if k in held}

    def chain_forming(self, device: str, key: str, c: Cluster) -> None:
        """The heads-up (WARNING): a chain with the full spasms a cluster needs, one spasm short of
        its alarm. Under the analysis' key: the store has no row for a chain that is no cluster (nor
        ever has, if it never becomes one); ``cluster_changed`` carries it on under the cluster's.
        Its count is held under the alarm's: a chain past it without the rhythm is not alarmed. One
        learned late (a backfill) is past: nobody is told to watch for what already ended."""
        if self.clock.wall() - c.confirmed_t > LATE_CLUSTER_S:
            return
        count = min(c.count, self.engine.settings.alarm_count - 1)
        self.engine.on_spasm(device, key, count, c.start, c.post_wake_s, c.confirmed_t)

    def sleep_changed(self, device: str, kind: str, t: float) -> None:
        log.info("%s: %s at %s", device, kind, log_time(t))
        self._publish({"type": "status"})

    def _restore_alarms(self, device: str, analysis: LiveAnalysis) -> None:
        """Open clusters that alarmed before a restart carry on in the engine, not alarmed again."""
        held = {tc.store_id for tc in analysis.tracked if not tc.replayed}  # (a late open: this run's, tracked already)
        clusters = [r for r in self.store.clusters(device, since=self.clock.wall() - K.REBUILD_WINDOW_S) if r.id not in held]
        last: dict[int, dict[int | None, AlertRow]] = {}  # cluster id -> alert id -> its latest row
        # By cluster, not by the rows' wall stamps: a step of the host's clock since moved the
        # clusters onto today's clock, not their alerts' stamps (an alarm from before a 6 h+ step
        # was dropped, and the rebuild raised it anew).
        for row in self.store.cluster_alerts(device, [r.id for r in clusters]):
            if row.cluster_id is not None:  # (always: asked by cluster)
                last.setdefault(row.cluster_id, {})[row.alert_id] = row
        raised = ("ALARM", "ESCALATED", "ACKNOWLEDGED")
        for r in clusters:
            # A cluster that took others in (Store.merge_clusters) holds their alerts' histories too,
            # each ending CLOSED: its alert is the one still raised.
            a = max(last.get(r.id, {}).values(), key=lambda x: (x.state in raised, x.id), default=None)
            if r.alert_t is None or a is None or a.state not in raised:
                continue
            if r.closed and a.state == "ACKNOWLEDGED":
                continue  # ended and seen to: nothing left open
            # A cluster that ended with its alarm unacknowledged: the alarm is still open (it escalates).
            n = self.engine.restore(
                device, r.id, ClusterState(a.state), r.count, r.start_t, r.alert_t, a.by, r.post_wake_s, over=r.closed, alert_id=a.alert_id
            )
            if n is not None:
                if a.alert_id is not None and n.alert_id != a.alert_id:
                    self._moved_alert(device, r.id, a.alert_id, n.alert_id)
                self._carried.append(n)
                for restored in self._restored.values():
                    restored.append(n)  # for each MQTT channel's retained state (_mqtt_mirror)
            if n is not None and n.state in OPEN_ALARM_STATES:  # nobody has answered it: the room hears it again
                for ch in self._sounds:
                    ch.keep_ringing(n.alert_id, r.alert_t)
            if not r.closed:  # (a closed one is tracked already: _stored_clusters)
                ts = self._spasm_ts(r.id)
                analysis.tracked.append(TrackedCluster(r.key, r.start_t, r.end_t, store_id=r.id, alarmed=True, spasm_ts=ts))

    def _restore_mute(self, device: str) -> None:
        """A mute set before this run (the store's), its end still ahead, holds ``device``'s notices
        still, as set (``AlertEngine.restore_mute``): until review h50 a restart forgot it, and a band
        muted for the night pushed again (an expired one is not restored)."""
        m = self.store.mute(device)
        if m is not None:
            self.engine.restore_mute(device, m.until_wall_s, m.by)

    def _restore_band_alerts(self, b: BandView, device: str) -> None:
        """The band faults a run before this one raised and never cleared whose state is the
        daemon's, not a bit the band's STATUS repeats, are carried on. "Band disconnected": the
        band back, its phones hear "Band reconnected" (until 2026-12-06 a daemon restarted while
        the band was away, as a parent may do to fix it, left "Band disconnected" the last word).
        samples_lost: its run of overruns goes on from the band's last stored STATUS, so the fault
        clears by its rule (a restart forgot the run: the fault was never cleared, or pushed
        again once a new run reached SAMPLES_LOST_AFTER_S). other_bonds: with the count it told, so
        the first BONDS COUNT tells only a new one, and clears it at this computer's bond alone
        (a restart told the same stranger's bond again, and left the run before's alert open).
        radio_late (open only when a run stopped before its band streamed, which ends it): with the
        minutes it told, for the boot of the band's last stored STATUS, so that boot's STATUS
        repeating ERR_RADIO is no new notice nor log line. Each in the words it was told
        (``reason_way``: a repeat's radio_late came back in a first one's until review h47). The
        faults the band's STATUS repeats (``_STATUS_FAULTS``) too: its next STATUS keeps or clears
        them (raised anew by it, each was pushed again at every restart). Each keeps its
        acknowledgement (``_band_raise_row``): until 2026-12-07 the page showed it unacknowledged.
        A radio_late held back and ended, its raise untold, is carried on too (``_restore_untold``);
        one whose untold raise was sent is over (``reason_told_ended``), whatever its row's state."""
        for last in self.store.open_alerts(device):
            if last.cluster_id is not None:
                continue
            row, raised_t, acked, held = self._band_raise_row(device, last)
            if reason_told_ended(row.text):  # told and over: the code until fcb714f4 stored its sending FAULT
                continue

            def restore(fault: BandFault, count: int = 0) -> bool:
                return self.engine.restore_band(device, fault, raised_t, bool(row.channels), row.alert_id, count, acked, held,
                                                sent_t=row.wall_s, way=self._way_told(device, fault, row.text, raised_t),
                                                tell_by=self._tell_by(device, fault, raised_t, row), rate_from=self._rate_from(row))  # fmt: skip

            if row.kind == BandFault.DISCONNECTED.value and b.link_alert is None:  # (one raised by this run under the band's name is cleared)
                if restore(BandFault.DISCONNECTED):
                    b.link_alert = device
            elif row.kind == BandFault.OTHER_BONDS.value:
                restore(BandFault.OTHER_BONDS, reason_count(row.text))
            elif row.kind == BandFault.RADIO_LATE.value:  # with the minutes it told, the boot's STATUS repeating it
                minutes = reason_count(row.text)
                if restore(BandFault.RADIO_LATE, minutes) and b.status:
                    b.radio_late = (b.status["boot"], minutes)
            elif row.kind == BandFault.SAMPLES_LOST.value:
                if restore(BandFault.SAMPLES_LOST) and b.status:
                    b.overruns = _overruns(None, b.status)
            elif row.kind in _STATUS_FAULTS:
                restore(_STATUS_FAULTS[row.kind])
        for fault in (f for f in BandFault if f.news_once):
            self._restore_untold(device, fault)

    def _restore_untold(self, device: str, fault: BandFault) -> None:
        """``fault``, whose raise is the news (``BandFault.news_once``: radio_late), raised by a run
        before this one, held back (quiet hours, a mute, the rate limit) and ended meanwhile, its
        latest alert's rows say: its raise is carried on to be sent when the hold ends, in the words
        it was held with (``AlertEngine.restore_band``, ``ended``). Once sent, a row of its sending
        follows its end. Until review h47 a restart forgot it: late at 23:30, a restart at 03:00,
        and the family never heard why the band showed as disconnected. Not past ``_tell_by`` from
        its end: until review h48 a daemon stopped for days pushed it as it started."""
        alert_id = self.store.latest_alert_id(device, fault.value)
        history = [] if alert_id is None else self.store.alert_history(device, alert_id)
        rows = [r for r in history if r.by is None]
        if len(rows) < 2 or rows[-1].state != BandState.OK.value or not _held_unacked(history, rows[-2]):
            return
        said, raised_t = rows[-2].text, rows[0].wall_s
        self.engine.restore_band(device, fault, raised_t, False, alert_id, reason_count(said), held=True,
                                 way=self._way_told(device, fault, said, raised_t), ended=True,
                                 tell_by=self._tell_by(device, fault, rows[-1].wall_s, rows[-1]), rate_from=self._rate_from(rows[-2]))  # fmt: skip

    def _rate_from(self, said: AlertRow) -> float | None:
        """For a band notice held by the rate limit at its row ``said``, when the raise it counts from
        was sent (``reason_rate_from``, the rate limit as set now): the restarted daemon holds it to
        the rate limit's end, as the run that held it would have."""
        return reason_rate_from(said.text, said.wall_s, self.engine.settings.rate_limit_s)

    def _tell_by(self, device: str, fault: BandFault, since: float, said: AlertRow) -> float:
        """Until when a held notice of ``device``'s ``fault`` carried over a daemon stop, its raise untold
        since ``since`` (its end; for one open still, its raise), its row there ``said``, is still
        sent when its hold ends (``AlertEngine.restore_band``): RESEND_MAX_AGE_S past the end of the
        hold it was under, as the run that held it stored it (``reason_held_until``: a mute's end,
        the quiet hours', the rate limit's, one after another; the family's choice: late at 23:00,
        told at 07:00), as a push kept over a stop. Later the daemon was stopped past its telling:
        its news is none (a radio late days ago). A row from before review h49 names no end: its
        quiet hours' end after ``since`` (``QuietHours.end_after``, in the zone the engine holds them
        in), a mute's unknown. Until review h49 the bound was ``since`` plus the quiet hours'
        length, up to that length past the hold's end (a raise ended at 06:50 pushed at 09:00), and
        none for a mute's (one ended in a 2 h mute, with no quiet hours, dropped after 15 min). A mute
        in force at the row and set again since (lifted, shortened, lengthened: the store's) moved
        that end: the hold's end with the mute's as it stands (``_hold_moved``); until review h50 the
        row's end stood, a lengthened mute's notice dropped by a restart past it, a lifted one's told
        up to the mute's old end late. Quiet hours lengthened since (a reload, or the config edited
        over the stop) move it later (``_hold_moved``): until review h51 a restart past the row's end
        dropped it, held still."""
        until = reason_held_until(said.text)
        if until is not None:
            until = self._hold_moved(device, fault, said.wall_s, until)
        else:
            s = self.engine.settings
            end = s.quiet_hours.end_after(since, self._zone()) if s.quiet_hours is not None and fault in s.quiet_faults else None
            until = since if end is None else end
        return until + K.RESEND_MAX_AGE_S

    def _hold_moved(self, device: str, fault: BandFault, held_t: float, until: float) -> float:
        """The end of the hold of ``device``'s notice of ``fault`` held at ``held_t``, ``until`` as its row
        named it, moved by the store's mute and the quiet hours as they are now: a mute in force then
        whose end was set again after it (lifted, shortened, lengthened) makes it end where that mute's
        end is now, then past the quiet hours (``AlertEngine.held_until``); else it ends as named, or
        later when the quiet hours now end later (lengthened since: a reload). Shortened ones leave it
        as named (when they changed is not known: one telling late is better than none)."""
        m = self.store.mute(device)
        mute_until = m.until_wall_s if m is not None and m.since_wall_s <= held_t < m.until_wall_s else held_t
        if m is not None and mute_until > held_t and m.set_wall_s > held_t:
            return self.engine.held_until(fault, held_t, mute_until)
        return max(until, self.engine.held_until(fault, held_t, mute_until))

    def _way_told(self, device: str, fault: BandFault, said: str, raised_t: float) -> str:
        """The way out a band alert raised at ``raised_t`` told, its latest word ``said`` (``reason_way``).
        A radio_late's row without one is from before ``; way`` was kept (until ea8d1ca6), a repeat's
        "again" in none of its rows: the way its raise chose (``_radio_late``), an earlier raise of its
        kind stored before it. Until review h48 it was read as a first late start's, and told at 07:00 in
        its words ("Once is nothing to act on") to a family whose band's radio had failed twice. A row
        of this code without it is a first telling, with no raise before it (``_radio_late``)."""
        way = reason_way(said)
        if way or fault is not BandFault.RADIO_LATE:
            return way
        return _radio_way(self.store.latest_alert_t(device, fault.value, fault.state.value, before=raised_t))

    def _band_raise_row(self, device: str, latest: AlertRow) -> tuple[AlertRow, float, tuple[str, float] | None, bool]:
        """An open band alert's latest row that is no ack (its raise, its count said again, or its
        held-back notice sent: when it was last said, whether sent, its count), when it was
        raised (its first row), its latest ack (who, when), and whether its notice is held still
        (``_held_unacked``), from the alert's stored history. An ack is a row of its own (``by``
        set, nothing sent: ``AlertEngine._ack_band``); rows from before schema v5 have no alert
        id: their latest alone."""
        rows = [latest] if latest.alert_id is None else self.store.alert_history(device, latest.alert_id) or [latest]
        raised = [r for r in rows if r.by is None] or rows
        acks = [(r.by, r.wall_s) for r in rows if r.by is not None]
        return raised[-1], raised[0].wall_s, acks[-1] if acks else None, _held_unacked(rows, raised[-1])

    def _moved_alert(self, device: str, cluster_id: int, stored_id: int, alert_id: int) -> None:
        """An alarm the engine carried on under ``alert_id``, not its ``stored_id`` (taken by an alert
        of this run: a late store open): its stored rows go under its new id with it. Left under the
        old one, they ended "ALARM" for ever: once the alarm had been acknowledged and had ended (under
        the new id), the next start took that "ALARM" for the cluster's alarm still raised and carried
        it on again, unanswered, escalating (docs/store.md)."""
        self._stored(device, lambda: self.store.move_alert(device, cluster_id, stored_id, alert_id))

    def _stored_clusters(self, device: str) -> list[TrackedCluster]:
        since = self.clock.wall() - K.REBUILD_WINDOW_S
        return [
            TrackedCluster(r.key, r.start_t, r.end_t, store_id=r.id, alarmed=True, closed=True, replayed=True,
                           spasm_ts=self._spasm_ts(r.id))  # fmt: skip
            for r in self.store.clusters(device, since=since)
            if r.closed
        ]

    def _spasm_ts(self, cluster_id: int) -> list[float]:
        """A stored cluster's spasm onsets: what lets a rebuild claim it again (live.py, parked)."""
        return [e.wall_t for e in self.store.cluster_events(cluster_id) if e.wall_t is not None]

    # --- alerts ---------------------------------------------------------------------
    def _notify(self, n: Notification) -> None:
        self.notifications.append(n)
        self.dispatcher.submit(n)
        self._publish({"type": "alert", "id": n.alert_id, "kind": n.kind.value, "state": n.state})

    def _transition(self, t: Transition) -> None:
        cluster_id = t.cluster_key if isinstance(t.cluster_key, int) else None
        while cluster_id in self._merged_into:  # (its row is gone: it is that cluster's now)
            cluster_id = self._merged_into[cluster_id]
        n = t.notification
        # The channels it goes out on, as the dispatcher will route it right after this.
        channels = tuple(self.dispatcher.routes(n)) if n is not None else ()

        def record() -> concurrent.futures.Future[None]:
            # One commit: the transition, and its push kept for a resend (the outbox). Stored alone,
            # a kill before the push was kept left an ALARM the restart restored as sent, with
            # nothing to send: that phone never heard of it (test_faults, "...after a kill"). Lazy,
            # its sync made by the store's thread and its push sent once that is done: a synced
            # commit held the loop for the disk's fsync (1 s on a slow SD card) before the alarm.
            with self.store.transaction(lazy=True):
                self.store.add_alert(cluster_id, t.device, t.subject, t.new, t.t, t.reason, channels=channels, by=t.by, alert_id=t.alert_id)
                if n is not None:
                    self.dispatcher.keep(n)
            return self.store.synced_later()

        on_disk = self._stored(t.device, record)
        if on_disk is not None:
            self._told_if_unsynced(t.device, on_disk)
            if n is not None:
                self.dispatcher.send_after(n, on_disk)

    def _told_if_unsynced(self, device: str, on_disk: concurrent.futures.Future[None]) -> None:
        """A transition's sync that failed (the store's thread: ``_transition``) is the store failing,
        as the synced commit it was: ``_store_failed`` on the loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # (an engine driven by hand, no loop: the store's thread logs it)
            return

        hung = loop.call_later(K.SYNC_HUNG_S, self._sync_hung, device)

        def done(f: concurrent.futures.Future[None]) -> None:
            e = f.exception()
            with suppress(RuntimeError):  # (the loop closed meanwhile: a daemon stopping)
                loop.call_soon_threadsafe(hung.cancel)
                if isinstance(e, StoreError):
                    loop.call_soon_threadsafe(self._store_failed, device, e)
                else:
                    loop.call_soon_threadsafe(self._sync_ended, device)

        on_disk.add_done_callback(done)

    def _sync_hung(self, device: str) -> None:
        """A transition's sync not ended in SYNC_HUNG_S (a disk whose fsync never returns): the store
        failing, told as a refused write is, and not cleared by writes that work (they reach the WAL,
        not the disk) until a sync ends (``_sync_ended``)."""
        self._store_failed(device, StoreError(f"{self.store.path}: its sync to the disk has not ended in {K.SYNC_HUNG_S:g} s "
                                              "(a disk that does not answer): events are not known to be on it"))  # fmt: skip
        self._unsynced[device] = self._store_failing[device]

    def _sync_ended(self, device: str) -> None:
        """A transition's sync ended: a hung one's fault cleared at once, unless a write failed since."""
        hung_t = self._unsynced.pop(device, None)
        if hung_t is not None and self._store_failing.get(device) == hung_t:
            self._store_works(device, "the store's sync to the disk ended: events are saved again")

    def _on_delivery(self, d: Delivery) -> None:
        self._failing_changed()

    def _failing_changed(self) -> None:
        """A channel started or stopped failing, or being changed since it failed (its first send on
        the new settings): the status (web page, MQTT's retained status) says so at once."""
        failing = self._failing_now()
        if failing != self._failing_shown:
            self._failing_shown = failing
            self._publish({"type": "status"})

    def _failing_now(self) -> tuple[frozenset[str], frozenset[str]]:
        """The channels failing, and those changed since they failed (Dispatcher.changed)."""
        return frozenset(self.dispatcher.failing()), frozenset(self.dispatcher.changed())

    # --- DaemonAPI ------------------------------------------------------------------
    def status(self, closed: bool = True) -> Json:
        snap = self.engine.snapshot(closed)
        failing = [{"channel": name, "since": t, "error": err, "network": self._network(name)}
                   for name, (t, err) in sorted(self.dispatcher.failing().items())]  # fmt: skip
        # Failed under settings changed since (Dispatcher.changed): not known to deliver, to be tested.
        changed = [{"channel": name, "since": t, "error": err} for name, (t, err) in sorted(self.dispatcher.changed().items())]
        now = self.clock.wall()
        return {"now": now, "zone": zone_json(self._zone(), now, self.engine.settings.language), "bands": [self._band_json(b, snap) for b in self.bands], "alerts": snap["alerts"],
                "channels": sorted(self.dispatcher.channels), "channels_failing": failing,
                "channels_changed": changed, "raw_kept": self._raw_kept_json(),
                "heartbeat": self.heartbeat.status() if self.heartbeat is not None else None,
                "config_error": self.config_error, "config_needs_restart": self.config_needs_restart,
                "exposures": [e.text for e in self.exposures], "exposures_msg": [e.msg() for e in self.exposures],
                "reload": {"requested": self.reload_requested, "last": self.last_reload}, "store": self._store_json(),
                "backups": self.backups.status(),
                # Which store and file this daemon runs on: a command given another config, whose
                # [daemon.http] names this port too, tells it is not that config's daemon (commands/_daemon.py).
                "store_path": str(self.store.path.absolute()),
                "config_path": None if self.config_path is None else str(self.config_path.absolute()),
                # The computer it runs on: a command on another computer (a laptop asking the Pi) finds
                # its paths that computer's, not to be compared with its own config's.
                "hostname": socket.gethostname(), "code": self.code, "code_changed": self.code_changed,
                "firmware_build": self.firmware_build,
                # How to restart it (null: by hand), for the page's old code and needs-a-restart notices.
                "restart": self.restart}  # fmt: skip

    def _store_json(self) -> Json | None:
        """Why the store is not open (null: it is): the page's banner, 'spasmwatch status', systemd's STATUS."""
        e = self.store.open_error
        if e is None:
            return None
        # "recover": the command the page names for a damaged one (page.fault.store_damaged {command});
        # "way", "command": a way out of its own the page names instead (page.fault.<fault>.<way>, _db.Fix)
        recover = store_command("recover", self.store.path) if e.recoverable else None
        way, command = (e.fix.way, e.fix.command) if e.fix is not None else (None, None)
        return {"path": str(self.store.path), "error": _shut_words(e, self.store.path), "damaged": e.damaged, "recover": recover,
                "way": way, "command": command, "since": self._store_shut_t, "retry_s": self.store_retry_s}  # fmt: skip

    def _network(self, name: str) -> bool:
        """Whether channel ``name`` sends over the network: its failure may be this computer's
        internet; sound and desktop fail on this computer (no player). A channel no longer
        configured (a failure kept in the store) may be either: True, the hint that costs nothing."""
        ch = self.dispatcher.channels.get(name)
        return ch is None or bool(ch.network)

    def _raw_kept_json(self) -> Json | None:
        """The raw folder as the latest pruning pass found it (null: no pass yet)."""
        k = self.raw_prune.kept
        return None if k is None else {"files": k.files, "bytes": k.bytes, "keep_days": k.keep_days, "t": k.t}

    def _band_json(self, b: BandView, snap: dict[str, Any]) -> Json:
        st, a = b.status, b.analysis
        summary = snap["devices"].get(b.device or b.label, {})
        device = b.device
        # (a store that fails the read: the page and MQTT go on showing the alarm, without the last cluster)
        row = self._read(device, lambda: self.store.latest_cluster(device), _nothing) if device else None
        last = self._cluster_json(row) if row is not None else None
        worn, state = st.get("worn"), b.session.state.value.upper()
        return {
            "device": b.device, "name": b.label, "transport": b.info.transport if b.info else None,
            "state": state, "detail": b.session.detail,
            "connected": b.session.state in (State.STREAMING, State.STALE), "last_error": b.session.last_error or None,
            # The two above as page words and their values, for the page in the family's language
            # (docs/web.md "Texts the daemon words"); the English fields stay for other clients.
            "detail_msg": b.session.detail_msg, "last_error_msg": b.session.last_error_msg,
            "battery_pct": st.get("battery_pct"), "worn": None if worn in (None, -1) else worn == 1,
            "log_fill_pct": st.get("log_fill_pct"),
            "asleep": a.asleep if a else None, "sleep_since": a.sleep_since if a else None,
            "last_seen": b.status_t, "last_known_at": last_known_at(state, b.status_t),
            "alert_state": summary.get("alert_state", "QUIET"),
            "faults": self._faults(b, summary), "last_cluster": last,
            # A mute forgotten after a bath must be seen: its end and who set it (None: not muted).
            "muted_until": summary.get("muted_until"), "muted_by": summary.get("muted_by"),
            "bad_records": b.session.decode_errors,
            # A flapping link raises no 'band disconnected' (each reconnect clears its timer): seen here.
            "link_unstable": b.session.link_unstable,
            # A configured rate the band would not take (its IMU or firmware has no such step): monitored
            # at its own, a note for the engineer, not a push (null: it runs the configured rate).
            "rate_not_taken": b.session.rate_not_taken,
            # Firmware not this computer's (another build id, or none): monitored, to be flashed
            # (page.firmware_old); its revision as read at its latest connection (null: none read).
            "firmware_old": b.firmware_old, "firmware": (b.info.firmware or None) if b.info else None,
            # While firmware_old: "newer" (page.firmware_newer: update this computer, not the band),
            # "older", or null (not told: the words stay page.firmware_old's), from git's history.
            "firmware_age": b.firmware_age,
            "log_life": _life_json(b.log_life),
            "raw_paused": self._raw_pause_json(b),
            # Measured from the raw stream (rawdating.py): an engineer bringing up a board sees its IMU's
            # real rate against the one it was set to (null: no raw streamed this boot, or not yet a minute).
            "raw_rate": None if b.raw_rate is None else dict(zip(("measured_hz", "nominal_hz"), b.raw_rate, strict=True)),
        }

    @staticmethod
    def _faults(b: BandView, summary: Json) -> list[str]:
        """The band's faults, with the store's raised under its name once its device is known."""
        faults: list[str] = summary.get("faults", [])
        if b.store_alert is not None and b.store_alert.value not in faults:
            faults = sorted([*faults, b.store_alert.value])
        return faults

    def _raw_pause_json(self, b: BandView) -> Json | None:
        """Why this band's raw recording is paused (null: recording, or raw is off): researchers and
        the family must see it, not only the journal."""
        pause = (b.raw_failed or self.raw_disk.paused) if b.session.raw else None
        return None if pause is None else {"since": pause.since, "why": pause.why, "why_msg": pause.msg}

    def clusters(self, since: float, until: float) -> list[Json]:
        return [self._cluster_json(r) for r in self.store.clusters(None, since, until)]

    @staticmethod
    def _cluster_json(r: Any) -> Json:
        return {
            "id": r.id, "device": r.device, "start": r.start_t, "end": r.end_t, "count": r.count,
            "alert_t": r.alert_t, "post_wake_s": r.post_wake_s, "closed": r.closed, "label": r.label,
        }

    def days(self, n_days: int) -> list[Json]:
        """The last ``n_days`` local days (today's so far), counted as the report counts them
        (report.data.count: a false alarm's events are none, a match counts in its cluster), each
        with its hours monitored and ``no_data`` when it had none and nothing counted: a day with the
        band left off read as a day of 0 clusters on the page's chart (hostile review)."""
        now, tz = self.clock.wall(), self._zone()  # the page's zone (status), its days' ends and cuts alike
        today = dt.datetime.fromtimestamp(now, tz).date()
        since, _ = local_day(today - dt.timedelta(days=n_days - 1), tz)
        _, until = local_day(today, tz)
        data = count(StoreSource(self.store), None, since, until, tz, now)
        return [{
            "date": d.day.isoformat(), "spasms": d.spasms, "clusters": d.clusters + d.false_alarms,
            "false_alarms": d.false_alarms, "monitored_h": round(d.monitored_s / 3600, 2), "no_data": unmonitored(d),
        } for d in data.days]  # fmt: skip

    async def summary(self, lang: str = "en") -> list[Json]:
        # A worker thread on a read-only connection of its own: ~0.3 s of reading would stall the
        # loop (the bands' streams, the alarms), and this connection is the loop's alone.
        now, tz = self.clock.wall(), self._zone()
        names = {b.device: b.label for b in self.bands if b.device is not None}
        return await STORE_WORK.call(functools.partial(read_summaries, self.store.path, names, now, tz, local=lang))

    def notes(self, since: float, until: float) -> list[Json]:
        return [
            {"id": n.id, "t": n.wall_s, "kind": n.kind, "text": n.text, "device": n.device, "by": n.by}
            for n in self.store.notes(since, until)
        ]

    def ack(self, alert_id: int, by: str) -> Json:
        """The engine's ack; an alert over, kept closed by the engine or stored over, is AlertOver
        either way, naming who had acknowledged it (until review h49 a closed one kept got 200, its
        acked_by in memory alone)."""
        try:
            a = self.engine.ack(alert_id, by)
        except AlertEnded as e:
            raise AlertOver(alert_id, e.acked_by) from None
        except KeyError:
            self._not_held(alert_id)
            raise
        self._publish({"type": "alert", "id": alert_id, "state": a["state"]})
        return a

    def _not_held(self, alert_id: int) -> None:
        """Why the engine holds no alert ``alert_id``: AlertOver for one stored over (a band fault
        cleared, a cluster's alarm closed and no longer kept, a heads-up of an earlier run) that
        ended before the ack came, the page showing it still; StoreCannotTell when only the store
        could say and it is not open; returns for one never issued (above the engine's numbering,
        known without the store) or never stored."""
        if self._ids_read and not self.engine.issued(alert_id):
            return
        try:
            last = self.store.latest_alert(alert_id)
            # A heads-up is not carried over a restart (a chain still forming is told anew): one this
            # run does not hold is over.
            over = last is not None and (last.state in _OVER_STATES or last.state == ClusterState.WARNING.value)
            acked_by = self.store.alert_acked_by(alert_id) if over else None
        except StoreError as e:
            raise StoreCannotTell(alert_id, str(e)) from None
        if over:
            raise AlertOver(alert_id, acked_by) from None

    def label(self, cluster_id: int, label: str, by: str) -> Json:
        if self.store.cluster(cluster_id) is None:
            raise KeyError(cluster_id)
        try:
            self.engine.label(cluster_id, label, by)
        except KeyError:
            pass  # a cluster from before this daemon started: no open alert, the label still counts
        self.store.label_cluster(cluster_id, label, by, self.clock.wall())
        self._publish({"type": "cluster", "id": cluster_id, "event": "label"})
        row = self.store.cluster(cluster_id)
        return self._cluster_json(row)

    def mute(self, device: str, for_s: float, by: str) -> Json:
        """Mute ``device``'s notices for ``for_s`` (0: lift the mute), kept in the store: a restart
        within it holds them still (``_restore_mute``), and a held notice's telling is bounded by the
        end it has now (``_tell_by``). A store that refuses the write leaves the mute in memory alone."""
        if not any(b.device == device for b in self.bands):
            raise KeyError(device)
        now = self.clock.wall()
        if for_s > 0:
            until = self.engine.mute(device, for_s, by)
            self._stored(device, lambda: self.store.keep_mute(device, until, by, now))
        else:
            self._stored(device, lambda: self.store.end_mute(device, now))
            self.engine.unmute(device)
        log.info("%s: band notices %s by %s", device, f"muted for {for_s:.0f} s" if for_s > 0 else "unmuted", by)
        self._publish({"type": "status"})
        summary: Json = self.engine.device_summary(device)
        return summary

    async def bonds(self, band: str, revoke_others: bool, by: str) -> Json:
        b = next((v for v in self.bands if band in (v.label, v.device)), None)
        if b is None:
            raise KeyError(band)
        link = b.session.link
        if link is not None and link.transport == "serial":  # no bond of this computer's there (on_state)
            raise ValueError(bonds_on_usb(b.label, link.address))
        action = P.BONDS_REVOKE_OTHERS if revoke_others else P.BONDS_COUNT
        maybe = _MAYBE_REVOKED if revoke_others else ""
        try:
            resp = await asyncio.wait_for(b.session.ask(P.encode_bonds(action)), K.BAND_ASK_S)
        except SessionError as e:  # the band's refusal (or another protocol version): worded by the command line
            return {"band": b.label, "code": e.code, "error": str(e), "arg": e.arg}
        except asyncio.TimeoutError:
            raise BandNotConnected(_not_connected(b.label, f"no answer in {K.BAND_ASK_S:g} s") + maybe) from None
        except TransportError as e:
            raise BandNotConnected(_not_connected(b.label, str(e)) + maybe) from None
        if revoke_others:  # once, here: who removed which bonds is what a family looks for later
            log.warning("%s: the band removed the bonds of %d other phone(s) or computer(s), asked by %s", b.label, resp["arg"], by)
        self._bonds_counted(b, 1 if revoke_others else int(resp["arg"]))  # revoked: this computer's alone is left
        return {"band": b.label, "code": resp["code"], "error": resp["error"], "arg": resp["arg"]}

    async def _count_bonds(self, b: BandView) -> None:
        """BONDS COUNT on the connection just made: another device bonded is told (other_bonds). A
        firmware without the command (E_OPCODE, up to 2026-12-06) has no build id either, so its
        band is ``firmware_old`` by its build (_judge_firmware), which says to flash it: the refusal
        is logged at DEBUG only. A link that drops first is asked at its next."""
        try:
            resp = await asyncio.wait_for(b.session.ask(P.encode_bonds(P.BONDS_COUNT)), K.BAND_ASK_S)
        except SessionError as e:
            log.log(logging.DEBUG if e.code == P.E_OPCODE else logging.INFO, "%s: the band did not count its bonds: %s", b.label, e)
            return
        except (asyncio.TimeoutError, TransportError):
            return  # the link went: its next connection asks
        self._bonds_counted(b, int(resp["arg"]))

    async def _settings_back(self, b: BandView) -> None:
        """The band's settings this computer keeps (``CONFIG_DEFAULTS``, but the rate: the session
        configures it) written at each connection, after the connect's own commands (an errand: the
        backfill is not held for them). A central that bonded in the pairing window may have changed
        them (min_confidence 100: no spasm logged; low_battery_pct 5: no warning until 5 %), and
        they held in the band's flash after it went, after its bond was revoked too. The same value
        again costs the band no flash write (band/config.py); a link that drops first: its next
        connection writes them."""
        for key, value in P.CONFIG_DEFAULTS.items():
            if key == P.CFG_RATE_HZ:
                continue
            try:
                await asyncio.wait_for(b.session.ask(P.encode_config(key, value)), K.BAND_ASK_S)
            except SessionError as e:
                log.warning("%s: the band did not take its %s back (%d): %s", b.label, P.CONFIG_KEYS[key][0], value, e)
                return
            except (asyncio.TimeoutError, TransportError):
                return

    def _bonds_counted(self, b: BandView, arg: int) -> None:
        """A BONDS COUNT's answer: other_bonds raised (or said again with a new count) while the band
        has bonds besides this computer's, cleared once it has none. The band answers commands on a
        bonded link only (E_AUTH otherwise), so this computer holds one of the bonds counted whether
        or not the band can tell which (BONDS_ASKER_KNOWN): the others are one fewer (docs/alerts.md)."""
        if b.device is None:
            return
        others = max(0, (arg & ~P.BONDS_ASKER_KNOWN) - 1)
        self.engine.on_band_state(b.device, BandFault.OTHER_BONDS, others > 0, count=others)

    def add_note(self, kind: str, text: str, device: str | None, by: str) -> Json:
        # The store trims the text and refuses a bad kind, an empty or too long text (check_note): one rule for the CLI too.
        n = self.store.add_note(self.clock.wall(), kind, text, device, by)
        j = {"id": n.id, "t": n.wall_s, "kind": n.kind, "text": n.text, "device": n.device, "by": n.by}
        self._publish({"type": "note", **j})
        return j

    async def send_test(self, channel: str | None, by: str, device: str | None = None) -> Json:
        names = [self.aliases.get(channel, channel)] if channel is not None else list(self.dispatcher.channels)
        if not names:
            raise ValueError("no notification channel is configured: 'spasmwatch config add-ntfy new' adds the phones, "
                             "[channels.sound] enabled = true in the config this computer's speaker (docs/alerts.md, 'Channels')")
        # Named after ``device`` (a Home Assistant button's band), else the first band (MQTT
        # publishes it on that band's event topic, which Home Assistant knows).
        device = device or next((b.device or b.label for b in self.bands), "spasmwatch")
        n = self.engine.test_notice(device, by)
        done = await self.dispatcher.send_test(n, names)
        outcome = "; ".join(f"{d.channel}: {'delivered' if d.ok else 'NOT delivered (' + str(d.error) + ')'}" for d in done)
        log.log(logging.INFO if all(d.ok for d in done) else logging.WARNING, "test alarm by %s: %s", by, outcome)
        # "heard": a sound played here, which only someone listening can check (test_alarm.py says so).
        results = [{"channel": d.channel, "ok": d.ok, "attempts": d.attempts, "error": d.error, "network": self._network(d.channel),
                    "heard": isinstance(self.dispatcher.channels.get(d.channel), SoundChannel)} for d in done]  # fmt: skip
        return {"title": n.title, "text": n.text, "results": results}

    def _mqtt_command(self, c: MqttCommand) -> None:
        """A command from MQTT (a Home Assistant button or automation; the channel hands it over
        on the event loop): ``ack`` acknowledges the band's open alerts, ``test`` sends a test
        alarm on every channel. Whoever can publish on the broker can do this: its
        authentication is the boundary (docs/alerts.md); the log names the topic."""
        by = who(c.by, K.MQTT_BY)
        if c.command == "ack":
            acked = self.engine.ack_device(c.device, by)
            for a in acked:
                self._publish({"type": "alert", "id": a["id"], "state": a["state"]})
            log.info("%s: acknowledge from %s (by %s): %s", c.device, c.topic, by,
                     ", ".join(f"alert {a['id']} {a['state']}" for a in acked) or "nothing open")  # fmt: skip
        elif c.command == "test":
            log.info("%s: test alarm asked from %s (by %s)", c.device, c.topic, by)
            self._errand(self.send_test(None, by, device=c.device), f"the test alarm asked over MQTT for {c.device}")

    def subscribe(self) -> asyncio.Queue[Json]:
        q: asyncio.Queue[Json] = asyncio.Queue(QUEUE_MAX)
        self._subs.append(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Json]) -> None:
        if q in self._subs:
            self._subs.remove(q)

    def _publish(self, msg: Json) -> None:
        for q in self._subs:
            if q.full():
                q.get_nowait()  # a slow reader loses the oldest; it re-reads status anyway
            q.put_nowait(msg)


class _StoreSource:
    """The store, read back in the form LiveAnalysis rebuilds from."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def spasms_since(self, device: str, since: float) -> Any:
        for e in self.store.events(device, since=since):
            if e.wall_t is not None:
                yield _spasm(e.wall_t, e.duration_ms, e.peak_rate_mrads, e.peak_angle_mrad, e.confidence, e.flags)

    def epochs_since(self, device: str, since: float) -> Any:
        for r in self.store.activity(device, since=since):
            if r.wall_t is not None:
                yield (r.wall_t - EPOCH_S, r.activity, bool(r.off_body), counts_worn(r.worn, bool(r.off_body)))


def own_firmware_build() -> str | None:
    """The build id of the firmware 'spasmwatch flash' writes from this computer (its default
    --firmware, the checkout's firmware/: fwbuild.py); None where there is none (an installed
    package without a checkout): no band's firmware is judged then."""
    try:
        return fwbuild.tree_build(own_firmware_dir())
    except ConfigError:
        return None


def _age_words(age: Age | None) -> str:
    """A band's firmware, not this computer's and not newer, in the daemon's log."""
    if age is not None:
        return "older than this computer's"
    if refused(own_firmware_dir()):  # (fwhistory logged git's refusal and its fix, once)
        return "of an age git does not tell (it refuses this checkout: see above)"
    return "not in this checkout's git history"


def own_firmware_dir() -> Path:
    """The firmware 'spasmwatch flash' writes from this computer: its checkout's firmware/ (ConfigError: none)."""
    return boards.repo_root() / "firmware"


def _restart() -> str | None:
    """How this daemon is restarted when its service runs it (its cgroup, ``service_of``): the
    unit's systemctl; None when it was started by hand, which the page says in its language
    (page.restart_by_hand: the words ``restart_command`` says in English)."""
    ctl = service_of(os.getpid())
    return None if ctl is None else restart_command(ctl)


def _rename_kept(store: Store, aliases: Mapping[str, str]) -> None:
    """The store's rows kept under an old channel name, moved to its name now; said without the
    old name (an ntfy topic). A store that cannot write: said, and the rows wait for the next start."""
    for old, new in aliases.items():
        try:
            moved = store.rename_channel(old, new)
        except Exception as e:
            log.warning("%s: could not move the rows kept under its old name in the store (%s): not resent or shown until a start that can", new, e)
            continue
        if moved:
            log.info("%s: %d row(s) the store kept under its old name (its topic, or its name before it had one) moved to this name", new, moved)


def _one_outbox_each(channels: dict[str, Channel]) -> None:
    """ValueError for two channels that keep their outbox under one name (two MQTT channels both
    left at MqttSettings' default ``name``): each would resend the other's kept events."""
    seen: dict[str, str] = {}
    for key, ch in channels.items():
        if isinstance(ch, KeepsOutgoing):
            other = seen.setdefault(ch.name, key)
            if other != key:
                raise ValueError(f"channels {other!r} and {key!r} are both named {ch.name!r}: give each its own name (MqttSettings.name, ...)")


def _moved_words(moved: Sequence[Replaced], *between: str) -> tuple[object, ...]:
    """The log's words for band boots placed again: the boots, ``between``, then the events,
    epochs and stored clusters that moved, and each boot's step."""
    return (
        ", ".join(str(r.boot) for r in moved), *between, sum(r.events for r in moved), sum(r.epochs for r in moved),
        sum(r.clusters for r in moved), ", ".join(f"{r.step_s:+.1f}" for r in moved),
    )  # fmt: skip


# The faults a store that fails raises: its file damaged (the way out is a recovery) or not.
STORE_FAULTS = (BandFault.STORAGE_FAILING, BandFault.STORE_DAMAGED, BandFault.STORE_NEWER)
# The faults the band's STATUS (and its epochs' wear) raises and clears, by kind: a restarted daemon
# carries them on (their id, their ack) until the band's next STATUS keeps or clears them. Raised
# anew by it, each was pushed again at every restart, unacknowledged.
_STATUS_FAULTS = {f.value: f for f in (BandFault.BATTERY_LOW, BandFault.LOG_NEARLY_FULL, BandFault.SAFE_MODE, BandFault.SENSOR_ERROR,
                                       BandFault.BAND_LOG_FAILING, BandFault.NOT_WORN, BandFault.CLOCK_UNSYNCED)}  # fmt: skip


def _store_fault(e: StoreError) -> BandFault:
    if isinstance(e, StoreNewer):  # not the disk: a newer spasmwatch changed the file (docs/store.md "Schema versions")
        return BandFault.STORE_NEWER
    return BandFault.STORE_DAMAGED if e.damaged else BandFault.STORAGE_FAILING


def _fix_of(e: StoreError, store: Path) -> Fix:
    """The way out the family's push names for ``e`` and its command: its own (``e.fix``), else its
    fault's text's ("" way; 'store recover' of ``store``, which only a damaged store's text names)."""
    return e.fix or Fix("", store_command("recover", store))


def _shut_words(e: StoreError, store: Path) -> str:
    """Why ``store`` is not open, with the way out of a damaged file (its error may not say it)."""
    hint = recover_hint(store)
    return f"{e}; {hint}" if e.recoverable and hint not in str(e) else str(e)


def _last_alert_id(store: Store) -> int | None:
    """``store.last_alert_id()``; None when it cannot be read (a store not open: ``number_after`` at its open)."""
    try:
        return store.last_alert_id()
    except StoreError:
        return None


# What _status_news compares: the STATUS fields a stored row keeps (StatusRow.record), but the uptime.
_STATUS_NEWS_FIELDS = tuple(k for k in STATUS_FIELDS if k != "uptime_s")


def _status_news(stored: tuple[dict[str, Any], float] | None, rec: dict[str, Any], received_s: float) -> bool:
    """Whether the STATUS ``rec``, heard at ``received_s``, is stored: none of this run stored yet
    (``stored`` None: the caller's word, not told by the record's shape), a field the store keeps
    changed since the latest stored (any of STATUS_FIELDS but the uptime, which moves at every one;
    not the decoder's ``type``, which the store's rows lack), that one STATUS_STORED_EVERY_S old,
    or the clock set back before it."""
    if stored is None:
        return True
    old, old_t = stored
    changed = any(rec.get(k) != old.get(k) for k in _STATUS_NEWS_FIELDS)
    return changed or not 0 <= received_s - old_t < K.STATUS_STORED_EVERY_S


# An alert's stored states once it is over: an ack of it then is answered AlertOver (Daemon.ack).
_OVER_STATES = (BandState.OK.value, ClusterState.CLOSED.value)


def _radio_way(raised_before: float | None) -> str:
    """A radio_late's way out (``BandAlert.way``): a repeat's "again" (its words say what to do) when
    an earlier boot of the band raised it (when, ``raised_before``; None: never): once is a one-off."""
    return "" if raised_before is None else "again"


def _held_unacked(history: list[AlertRow], said: AlertRow) -> bool:
    """Whether ``said``, a row of a band alert's stored ``history``, held its notice back
    (``reason_held``) and nobody acknowledged the alert after it: an ack saw to it, so a restart
    sends it no more (``AlertEngine._ack_band``; until review h48 a restart pushed it at the hold's end)."""
    return reason_held(said.text) and not any(r.by is not None and r.id > said.id for r in history)


def _overruns(run: Overruns | None, rec: dict[str, Any]) -> Overruns | None:
    """The run of overruns after STATUS ``rec``: one saying ERR_FIFO_OVERRUN on the run's boot within
    SAMPLES_LOST_CLEAN_S of the band's time after its latest goes on with it; one later, on another
    boot or at an uptime before it (an erased log's boots start again) begins one anew; one without
    the bit ends it once that long has passed."""
    boot, up = rec["boot"], rec["uptime_s"]
    if run is not None and (run.boot != boot or not 0 <= up - run.latest_s < K.SAMPLES_LOST_CLEAN_S):
        run = None
    if not rec["errors"] & P.ERR_FIFO_OVERRUN:
        return run
    return Overruns(boot, up if run is None else run.first_s, up)


def _nothing() -> None:
    """What ``Daemon._read`` gives when the store fails a read whose answer may be "none" anyway."""
    return None


def _seen(b: BandView, seq: int) -> None:
    """Event ``seq`` taken by ``b``'s analysis: kept among the latest SEEN_SEQS."""
    b.seen_seqs[seq] = None
    if len(b.seen_seqs) > K.SEEN_SEQS:
        del b.seen_seqs[next(iter(b.seen_seqs))]


def _ahead_of_backfill(b: BandView, seq: int) -> bool:
    """Whether event ``seq`` came ahead of the BACKFILL asked for: before its start, past the seq
    its order has next. A new link's cursor starts at the band's log's end: an event logged before
    the band took the BACKFILL went out live, ahead of the older ones the BACKFILL then sends, and
    this one again in its order. Taken at once, minutes past the spasms before a drop, it ended
    their cluster while it went on, and it opened a second one that alarmed again (test_faults.py,
    ``..._sent_ahead_of_its_backfill_...``). Else it is the next in that order (``backfill_next``
    moves on): a start lost on the link (serial noise) leaves the backfill's events analysed as they come."""
    if not b.backfill_unstarted:
        return False
    if seq > b.backfill_next:
        return True
    b.backfill_next = max(b.backfill_next, seq + 1)
    return False


def _forget_log(b: BandView) -> None:
    """What placed, dedups and resumes ``b``'s records while the store cannot be read, forgotten:
    not of the log its records come from now (another unit's, or an earlier life's)."""
    b.sync, b.seen_seqs, b.head_seq, b.asked_seq, b.unplaced = None, {}, None, None, []


def _resume_seq(b: BandView) -> int:
    """Where a backfill starts when the store cannot say: after the latest event this run took, or
    (none) where this run last asked from (what the band logged out of range since is still to
    come: from its head, that cluster never alarmed), or (never asked) at the band's head. Not past
    the head: the band would refuse it as an erase. What came before stays in its flash for a later
    connection."""
    head = b.head_seq if b.head_seq is not None else 0
    after = max(b.seen_seqs) + 1 if b.seen_seqs else b.asked_seq
    return head if after is None else min(after, head)


def _say_placed(device: str, r: Linked) -> None:
    """Once per band boot placed (or placed anew) through the band's boot links: which, from where, how well."""
    if r.hops:
        log.warning(
            "%s: band boot %d, which no time sync reached, is placed through %d band reset link(s) from boot %d, "
            "within +-%.3f s: %d event(s) and %d epoch(s) placed so, %d and %d placed before moved",
            device, r.boot, r.hops, r.via, r.err_s, r.events, r.epochs, r.moved_events, r.moved_epochs,
        )  # fmt: skip
    else:
        log.warning(
            "%s: band boot %d got a time sync of its own: its %d event(s) and %d epoch(s) placed through the band's reset "
            "links before are placed by it now", device, r.boot, r.moved_events, r.moved_epochs,
        )  # fmt: skip


def _spasm(t: float, duration_ms: int, rate_mrads: int, angle_mrad: int, confidence: int, flags: int) -> Spasm:
    d = duration_ms / 1000.0
    # The band confirms a spasm POST_MS after its release (onset + duration), as replay dates it
    # (a match later: the cluster tracker takes matches in any order).
    matched = bool(flags & P.EF_MATCHED)
    alike = bool(flags & P.EF_ALIKE)
    return Spasm.from_band(t, d, t + d + C.POST_MS / 1000.0, rate_mrads, angle_mrad, confidence, matched, alike)


def _heartbeat_state(hb: Json | None) -> HeartbeatState | None:
    """The heartbeat's ``/api/status`` entry as MQTT's status carries it: its state, not ``last_ok``
    (the mirror publishes when the status differs: that one would differ at every ping)."""
    return None if hb is None else HeartbeatState(hb["host"], hb["failing_since"], hb["error"], hb["paused"])


def _link_unstable(flap: Json | None) -> LinkUnstable | None:
    """A band's ``/api/status`` ``link_unstable`` as MQTT's status carries it: its drops and since when,
    not ``over_s`` (the mirror publishes when the status differs: that one would differ at every build)."""
    return None if flap is None else LinkUnstable(flap["drops"], flap["since_t"])


def _rate_not_taken(rate: Json | None) -> RateNotTaken | None:
    """A band's ``/api/status`` ``rate_not_taken`` as MQTT's status carries it."""
    return None if rate is None else RateNotTaken(rate["configured_hz"], rate["running_hz"])


def _life_json(life: LogLife | None) -> Json | None:
    """The band's log life when its flash was seen erased (null: never)."""
    if life is None or life.since_wall_s is None:
        return None
    return {"since": life.since_wall_s, "boot_offset": life.boot_offset, "seq_offset": life.seq_offset}


# Said after _not_connected of a revocation: the band may have done it and gone before its answer
# came (a band switched off, out of reach), and a second try answers "no other bond to remove".
_MAYBE_REVOKED = ". The band may have removed the other bonds before it went: 'spasmwatch bonds' says how many are left once it is back"


def _not_connected(label: str, why: str) -> str:
    """What the family is told of a command for a band the daemon cannot reach now."""
    return f"band {label} is not connected now ({why}): try again when it is in reach"
