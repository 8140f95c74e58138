"""The band application: sampler -> detector -> flash log -> BLE, with status and control.

Hardware is injected (``Hardware``), so ``main.py`` on a board and
``sim/run.py`` on the unix port build this same app. Tasks:

- sampler: waits ``_BATCH_MS``, drains the IMU FIFO, runs every sample through
  the detector, the cluster counter and the epoch features (``_process``: no
  allocation), logs confirmed spasms and the counter's matches to flash;
- sender: notifies events from the flash log from ``_cursor`` on (live and
  backfill are one path), then epoch (ACTIVITY) records, one that waited behind a
  LOGINFO(LF_HELD); raw_sender: RAW;
- control: validates and applies control writes (bonded, encrypted links only);
- status: battery, wear, log fill, flags and errors every ``status_period_s``;
  low and critical battery handling; clears the crash streak after a healthy run;
- watchdog: feeds the hardware watchdog only while the sampler makes progress, and
  writes the boot link's checkpoint to retained memory (band/bootlink.py);
- link: reacts to connect / disconnect / MTU / encryption changes.

Safe mode (repeated crashes) runs everything except the sampler: the band
still advertises, reports the fault and serves its log.
"""

import asyncio
import gc
import sys
import time
from array import array

from micropython import const

from band import battery as batt
from band import biasstore, ble, bonds, eventlog  # noqa: F401  (resident: loaded with the app's code, not by band/startup.py)
from band.bootstate import STABLE_MS
from band.config import DEFAULTS, NEEDS_REBOOT
from band.imubase import BATCH_MAX
from swcore import wire as P
from swcore.consts import STRONG_CONFIDENCE
from swcore.detector import Detector
from swcore.epoch import EpochFeatures, Wear
from swcore.matcher import Matcher

FIRMWARE_VERSION = "0.1.0"
LOG_SLOTS = const(4096)  # 4096 x 24 B = 96 KB of flash, months of events
_BATCH_MS = const(200)  # FIFO drain period: MPU6886's 1 KB FIFO holds 0.7 s at 100 Hz
WDT_TIMEOUT_MS = const(8000)
WDT_FEED_MS = const(1000)  # also the boot links' checkpoint period: at most band/bootlink.py CHECKPOINT_MS
_STALL_MS = const(5000)  # sampler silent this long: stop feeding, let the watchdog reset
# No sample read for this long (ms): the IMU answers on I2C but gives nothing (its own power glitch
# or ESD reset its set-up: FIFO off). A live part gives ~10 a batch at 50 Hz, so 10 batches empty
# are no gap of its; the batches go on, so the watchdog never sees it. Said (ERR_IMU) and the part
# set up again (_imu_restart), every _SILENT_MS while it stays silent.
_SILENT_MS = const(2000)
# A part that stopped answering on I2C (a bus error, its supply or pins gone) is said (ERR_IMU) and
# started again after _SILENT_MS, then after twice as long each time it still does not answer, up to
# this (ms): a dead bus costs a board an I2C timeout (~50 ms) per try, 0.5 % of its loop at one try
# an epoch, not one per 200 ms batch; a part back is sensing again within an epoch. Until
# 2026-12-06 the error ended the sampler: a crash and a reset, and past STABLE_MS into every boot a
# reset loop that never reached safe mode nor told the host why (a reset does not power the part
# down, so it brought nothing back that a restart does not).
_IMU_RETRY_MAX_MS = const(10000)
# Until battery.py CONFIRM_READINGS readings were taken since the boot they come this often (ms),
# not every READ_MS: a band switched on with an empty cell (one that browned out and came back on
# its resting voltage) stopped at its first reading until 2026-12-06, and the confirming readings
# READ_MS apart kept it sensing and writing flash 20 s (the spasm at 15 s of
# tests/firmware/test_band_battery.py was logged). 1 s is still far longer than a load's dip (ms; a
# flash erase's tens of ms), so the readings stay independent: critical 2 s after the boot.
# (A private const: no qstr in the .mpy; the band has one left before its next pool, docs/firmware.md.)
_CONFIRM_MS = const(1000)
_ACT_QUEUE = const(4)
# While ERR_FIFO_OVERRUN is set a STATUS goes at least this often (ms), whatever status_period_s
# (up to 3600 s): the host joins STATUSes saying it at most SAMPLES_LOST_CLEAN_S (60 s) apart into a
# run of lost samples (its samples_lost fault), and at a longer period it never saw one past its
# first STATUS. The default period's, so a band at it sends nothing more.
_LOSS_STATUS_MS = const(10000)
# ... and one this long (ms) after the last STATUS that said the bit: the host ends the run (and
# clears samples_lost) at the first STATUS without it SAMPLES_LOST_CLEAN_S (60 s) or more after the
# run's latest, by the STATUS uptime_s (whole s: 1 s over), and the one sent at once as the bit
# clears comes 10-20 s after it. At a long period the clear waited for the next, up to an hour.
_LOSS_CLEAN_MS = const(61000)
RAW_BUFS = const(4)
RAW_MAX_SAMPLES = const(19)  # 8 + 19 * 12 = 236 bytes, inside a 247-byte MTU
EVENT_SIZE = const(20)
# The IMU's real sample period, measured against the crystal uptime clock over the batches: an
# event is dated back from its batch by 1-4 s of samples, and at the nominal period an IMU 1 % off
# (its own oscillator) put onsets 10-40 ms early (2 % fast: 40-80 ms). Measured from the first
# _RATE_MIN_SPAN_MS of sensing on (a read dates the sample after it within one period, so at 50 Hz
# the estimate is within 0.2 % then: < 5 ms back over 2.5 s), then over windows of _RATE_SPAN_MS
# (< 17.9 min keeps span x 1000 a small int on a 32-bit board), each taken at its end. A count
# within _RATE_SAME_SAMPLES of the nominal one keeps the nominal period (the window cannot tell
# them apart; an IMU on its rate keeps the detector's exact times); one _RATE_MAX_ERROR_PCT off
# (a stall, lost samples) is not taken.
_RATE_MIN_SPAN_MS = const(10000)
_RATE_SPAN_MS = const(600000)
_RATE_MAX_ERROR_PCT = const(5)
_RATE_SAME_SAMPLES = const(2)
# A notify that gave up (the stack busy through its 2 s, band/ble.py) on a link still up is tried
# again this long (ms) after: not at the sender's next wake, an epoch's 10 s, and none at all while
# sensing is off (safe mode, a critical battery), when serving the log is all the band does.
_SEND_RETRY_MS = const(1000)
# The radio refused to start at boot (band/ble.py Peripheral.start): tried again this often (ms).
# Not at every status pass: a start that fails after NimBLE began waits out its 2 s sync timeout
# (micropython's NIMBLE_STARTUP_TIMEOUT) with the loop blocked, longer than a FIFO holds (0.7 s at
# 100 Hz): samples lost, at most once per try.
_RADIO_RETRY_MS = const(300000)
SAMPLES_LAP = const(1 << 29)  # the sample count runs modulo this: with a batch added, still a small int on a 32-bit board


class Hardware:
    """What the app needs from a board (or the simulator)."""

    def __init__(
        self, imu, ble, storage, clock, battery, make_wdt, reset, board, device_id, irq_flag=None, power_on=True,
        retained=None, reset_cause=0, secure_within_ms=P.SECURE_WITHIN_MS,
    ):
        self.imu = imu  # band.imu driver, or None if the IMU failed to answer
        self.ble = ble  # bluetooth.BLE()
        self.storage = storage  # band.storage.Storage
        self.clock = clock  # ticks_ms(), async sleep_ms(ms), async pace_ms(ms)
        self.battery = battery  # read_mv(), empty_mv, full_mv; or None
        self.make_wdt = make_wdt  # timeout_ms -> object with feed()
        self.reset = reset  # hard reset, never returns
        # What the app reads of the board definition (band/startup.py): the rest of the file (its power
        # table, notes, sources; the wiring, used before the app) is the host's, and held ~2.5 KB of
        # heap all night (docs/firmware.md, "Heap per board").
        self.board = {k: board[k] for k in ("id", "name", "log_slots") if k in board}
        self.device_id = device_id
        self.irq_flag = irq_flag  # flag class for IRQ -> task wake-ups (None: asyncio.ThreadSafeFlag)
        # This boot followed a power-on (machine.reset_cause() == PWRON_RESET), not a watchdog,
        # crash or REBOOT reset: only then does the pairing window open (see App._pairing_update).
        self.power_on = power_on
        # A few bytes that survive every reset but a power-up (the ESP32's RTC memory): read() ->
        # bytes, write(bytes), and rtc_ms(): a ms counter that runs through resets, or None. None:
        # the board has none, and its boots are not linked (band/bootlink.py).
        self.retained = retained
        # How the previous boot ended (P.RC_HARD, RC_WDT, RC_SOFT, RC_DEEPSLEEP; RC_POWER_ON: read as
        # a power-on, a power-up or a brown-out), 0 for none known: no boot link.
        self.reset_cause = reset_cause
        # A link not secure this long (real ms) after it connected is dropped (P.SECURE_WITHIN_MS, which
        # a board keeps): the simulator's --secure-within-ms, so a test need not wait out 30 s.
        self.secure_within_ms = secure_within_ms


def _forget(*names):
    """Drop start-up-only modules ("package.module") from sys.modules and their package, then
    collect: nothing else refers to them, so their code is freed (docs/firmware.md, "Memory and
    speed"). Imported again, a module loads anew."""
    for name in names:
        if name in sys.modules:
            pkg = sys.modules[name.partition(".")[0]]
            mod = name.partition(".")[2]
            # None first: a deleted dict entry keeps its value (MicroPython's py/map.c), which the
            # collector still sees, so the module and its code stayed alive until the slot was
            # reused (4.7 KB of the budget test's heap, depending on what was imported later).
            sys.modules[name] = None
            setattr(pkg, mod, None)
            del sys.modules[name]
            delattr(pkg, mod)
    gc.collect()


class App:
    def __init__(self, hw):
        # The start-up's code (band/startup.py: the app's state, the flash's files read) runs
        # once and is dropped: freed before the night, it need not stay on the heap.
        from band import startup

        startup.build(self, hw)
        _forget("band.startup")

    # --- set-up -----------------------------------------------------------------------

    def _start_imu(self):
        if self.safe_mode:
            return
        imu = self.hw.imu
        if imu is None:
            self.errors |= P.ERR_IMU
            return
        try:
            self.rate_hz = imu.start(self.cfg.get(P.CFG_RATE_HZ))
        except OSError:  # it does not answer: tried again as a part lost later is (_status, _resume_imu)
            self._imu_lost()
            return
        if self._samples is None:
            self._samples = array("h", bytes(12 * BATCH_MAX))
        # Resuming (critical battery): free the old state before building the new one; both at
        # once might not fit in a heap split by hours of running, and the band would crash.
        self.det = self.ep = self.mt = None
        gc.collect()
        self.det = Detector(self.rate_hz, imu.has_gyro)
        if imu.has_gyro and self.bias_store.saved is not None:
            self.det.fe.seed_bias(*self.bias_store.saved)
        self.ep = EpochFeatures(self.det.fe)  # reads the detector's front end after each step
        self.mt = Matcher(self.rate_hz) if imu.has_gyro else None
        self.wear = Wear()
        self._anchor_ms = self.uptime_ms()
        self._anchor_n = 0
        self._period_us = 0
        self._span_n = -1  # measured anew: the sensor was (re)configured
        self._span_first = True
        self._heard_ms = self._anchor_ms  # (a silent IMU is counted from here)
        self._down_ms = 0
        if self._paused_ms >= 0:  # resumed: the count goes on as if sensing had not paused, so
            # RAW's index stays the time since sensing began (the host refused one that went back)
            self._count_ms(self._anchor_ms - self._paused_ms)
            self._paused_ms = -1
        self.sampling = True

    # --- time -------------------------------------------------------------------------

    def uptime_ms(self):
        """Milliseconds since boot, not wrapping like ticks_ms()."""
        t = self.hw.clock.ticks_ms()
        self._up_ms += time.ticks_diff(t, self._last_ticks)
        self._last_ticks = t
        return self._up_ms

    # --- pairing window -------------------------------------------------------------------

    def _pairing_update(self):
        """Open the pairing window in the first PAIRING_WINDOW_MS after a power-on, and while no
        central has ever bonded (a band switched on and set up later must still pair); closed,
        a new central's pairing is encrypted but unbonded and its commands are refused (E_AUTH)."""
        is_open = self.bonds.count() == 0 or self.uptime_ms() < self._pair_end_ms
        if is_open != self.pairing:
            self.pairing = is_open
            self.periph.set_bonding(is_open)

    # --- per-sample path (no allocation) --------------------------------------------------

    def _batch(self, n):
        """The ``n`` samples just read: anchor their times, run them, keep indexes small
        (the anchor is only read inside ``_process``, so a shift after it needs no fix-up)."""
        self._anchor_ms = self.uptime_ms()
        self._anchor_n = self.det.n + n  # detector index of the sample after the batch
        self._measure_period(n)
        self._process(n)
        self.det.rebase()
        if self.mt is not None:
            self.mt.rebase()

    def _measure_period(self, n):
        """The IMU's period from the samples read between two anchors (uptime ms at a batch's read);
        a FIFO overrun (samples lost) starts the window again."""
        if self._span_n < 0 or self.hw.imu.overruns != self._span_overruns:
            self._span_ms0 = self._anchor_ms
            self._span_n = 0
            self._span_overruns = self.hw.imu.overruns
            return
        self._span_n += n
        span = self._anchor_ms - self._span_ms0
        if span < (_RATE_MIN_SPAN_MS if self._span_first else _RATE_SPAN_MS):
            return
        off = self._span_n - span * self.rate_hz // 1000  # samples more than at the nominal rate
        if abs(off) <= _RATE_SAME_SAMPLES:
            self._period_us = 0
        elif abs(off) * 100 <= self._span_n * _RATE_MAX_ERROR_PCT:
            self._period_us = span * 1000 // self._span_n
        if span >= _RATE_SPAN_MS:
            self._span_n = -1  # a new window from the next batch on (the estimate is kept meanwhile)
            self._span_first = False

    def _ms_at(self, n):
        """Uptime ms when detector sample ``n`` was taken: counted back from the latest anchor at the
        measured period (not the nominal one), so neither the IMU's drift nor its offset dates it."""
        back = self._anchor_n - n
        if self._period_us:
            return self._anchor_ms - back * self._period_us // 1000
        return self._anchor_ms - back * 1000 // self.rate_hz  # the nominal period, to the ms as the host twin counts

    def _process(self, n):
        s = self._samples
        det = self.det
        fe = det.fe
        ep = self.ep
        mt = self.mt
        raw = self.raw_on
        k = 0
        end = n * 6
        while k < end:
            ax = s[k]
            ay = s[k + 1]
            az = s[k + 2]
            gx = s[k + 3]
            gy = s[k + 4]
            gz = s[k + 5]
            if det.step(ax, ay, az, gx, gy, gz):
                self._on_event()
            if mt is not None and mt.step(fe.dx, fe.dy, fe.dz):
                self._on_edge()
            if ep.step():
                self._on_epoch()
            if raw:
                self._raw_push(k)
            k += 6
        self._count(n)

    def _count(self, n):
        c = self.samples + n
        while c >= SAMPLES_LAP:
            c -= SAMPLES_LAP
            self._laps = (self._laps + 1) & 7
        self.samples = c

    def _count_ms(self, ms):
        """Count ``ms`` the part gave no samples for (silent, or paused) as sampled at the nominal
        rate: the samples due in them, as ``_ms_at`` dates samples (the one after a batch at its
        anchor, the next a period on), rounded up. The fraction of a sample counted ahead is kept
        for the next span, so n spans count as one of their total length: at 52 Hz a span is
        mostly a fraction of a sample over (2,045 ms: 106.3), and until 2026-12-07 every restart
        of a silent part dropped it (rounded down), RAW's index a further fraction behind (9
        samples after 24 restarts; tests/firmware/test_band_imu_fault.py)."""
        c = ms * self.rate_hz - self._count_ahead  # (thousandths of a sample)
        n = (c + 999) // 1000
        self._count_ahead = n * 1000 - c
        self._count(n)

    def _raw_push(self, k):
        b = self._rawb[self._raw_i]
        s = self._samples
        o = P.RAW_HEAD_SIZE + self._raw_n * P.RAW_SAMPLE_SIZE
        end = k + 6
        while k < end:
            v = s[k]
            b[o] = v & 0xFF
            b[o + 1] = (v >> 8) & 0xFF
            o += 2
            k += 1
        self._raw_n += 1
        if self._raw_n >= self._raw_cap:
            self._raw_commit(k // 6 - 1)

    def _raw_commit(self, last_k):
        i = self._raw_i
        b = self._rawb[i]
        n = self._raw_n
        # The u32 index from its two small-int parts (no heap int on a 32-bit board).
        first = self.samples + last_k - n + 1
        laps = self._laps
        if first < 0:  # the record began before the count's last lap
            first += SAMPLES_LAP
            laps = (laps - 1) & 7
        b[0] = P.VERSION
        b[1] = P.T_RAW
        b[2] = n
        b[3] = self._raw_dropped if self._raw_dropped < 255 else 255
        b[4] = first & 0xFF
        b[5] = (first >> 8) & 0xFF
        b[6] = (first >> 16) & 0xFF
        b[7] = (first >> 24) | (laps << 5)
        self._rawlen[i] = P.RAW_HEAD_SIZE + n * P.RAW_SAMPLE_SIZE
        self._raw_n = 0
        if self._raw_ready >= RAW_BUFS - 1:
            self._raw_dropped += 1  # sender behind: overwrite this buffer, count it
            return
        self._raw_dropped = 0
        self._raw_ready += 1
        self._raw_i = (i + 1) % RAW_BUFS
        self._raw_flag.set()

    # --- events and epochs (rare: may allocate) ----------------------------------------------

    def _on_event(self):
        d = self.det
        mt = self.mt
        n = 0
        flags = 0
        if mt is not None and d.ev_confidence >= STRONG_CONFIDENCE:  # a full spasm: its shape
            n = mt.spasm(d.fe.i - d.ev_onset_n, d.ev_duration_n)
            flags = P.EF_ALIKE if mt.alike else 0
        self._log_event(d.ev_onset_n, d.ev_duration_n, d.ev_peak_rate, d.ev_peak_angle, d.ev_confidence, flags)
        self._on_matches(n)

    def _on_edge(self):
        """The cluster counter has an edge due: tested only near a kept shape (then it
        may allocate, ~70 times an hour); otherwise a few comparisons."""
        self._on_matches(self.mt.examine())

    def _on_matches(self, n):
        mt = self.mt
        now = self.det.fe.i  # the detector's index of the current sample
        for m in range(n):
            self._log_event(now - mt.out_age[m], mt.out_dur[m], mt.out_rate[m], 0, mt.out_conf[m], P.EF_MATCHED)

    def _log_event(self, onset_n, duration_n, peak_rate, peak_angle, confidence, flags):
        if confidence < self.cfg.get(P.CFG_MIN_CONFIDENCE):
            self.suppressed += 1
            return
        onset_ms = self._ms_at(onset_n)
        if self._wall_ms:
            flags |= P.EF_TIME_SYNCED
        P.pack_event_into(
            self._evbuf,
            0,
            0,
            self.boot.boot_count,
            onset_ms,
            duration_n * 1000 // self.rate_hz,
            peak_rate,
            peak_angle,
            confidence,
            flags,
        )
        try:
            self.log.append(self._evbuf)
        except OSError:
            self.errors |= P.ERR_LOG_WRITE
            return
        self._wake.set()

    def _imu_restart(self):
        """The IMU answers but gives no sample, or one frozen sample: said (ERR_IMU, until a whole
        epoch after this one with live samples and no overrun) and the part set up again; the
        detector's state is kept. OSError: the part does not answer (``_sampler`` backs off)."""
        self.errors |= P.ERR_IMU
        self._imu_trouble = True
        self.hw.imu.start(self.cfg.get(P.CFG_RATE_HZ))
        self._heard_ms = self.uptime_ms()
        self._span_n = -1  # the rate measured anew
        self._raw_n = 0  # a RAW record has one first index: none spans the gap

    def _on_epoch(self):
        e = self.ep
        if e.flat:  # not one sample changed: no live sensor gives that (~1 mg of noise); no reading of the baby
            try:
                self._imu_restart()
            except OSError:  # it stopped answering too: tried again later (_drain). Not raised out of
                # the batch: its rest, its count and the rebase were skipped, and RAW's index ran a batch on
                self._imu_lost()
            return
        if self._imu_trouble:  # the part was set up again, or overran, in this epoch: the next whole one clears it
            self._imu_trouble = False
        else:
            self.errors &= ~(P.ERR_IMU | P.ERR_FIFO_OVERRUN)
        off = e.off_body()
        self.wear.update(off)
        self.worn = self.wear.state
        if self.worn == 0:
            self.errors |= P.ERR_NOT_WORN
        else:
            self.errors &= ~P.ERR_NOT_WORN
        t_ms = self._ms_at(self.det.n)
        breath = e.breath_gyro if self.det.p.has_gyro else e.breath_acc
        rec = P.encode_activity(self.boot.boot_count, t_ms, e.activity, breath, off, self.worn)
        if len(self._act) >= _ACT_QUEUE:
            self._act.pop(0)
        self._act.append(rec)
        self._wake.set()

    # --- tasks ---------------------------------------------------------------------------------

    async def _sampler(self):
        clock = self.hw.clock
        while self.sampling:
            await clock.pace_ms(_BATCH_MS)
            try:
                self._drain()
            except OSError:  # the part does not answer on I2C: said, and tried again later
                self._imu_lost()
            self._beat = clock.ticks_ms()

    def _imu_lost(self):
        """An I2C error from the IMU: ERR_IMU, and its next start tried after a wait that doubles
        while it keeps failing (_IMU_RETRY_MAX_MS); sensing, the log and the radio go on."""
        wait = self._down_ms * 2 if self._down_ms else _SILENT_MS
        self._down_ms = wait if wait < _IMU_RETRY_MAX_MS else _IMU_RETRY_MAX_MS
        self._retry_ms = self.uptime_ms() + self._down_ms
        self.errors |= P.ERR_IMU
        self._imu_trouble = True
        self._raw_n = 0  # a RAW record has one first index: none spans the gap

    def _restart_silent(self):
        """Set up again a part silent since ``_heard_ms``: its silent span counted as sampled, so
        RAW's index stays the time since sensing began (as across a critical battery's pause)."""
        gap = self.uptime_ms() - self._heard_ms
        self._imu_restart()  # (OSError: not counted, the span goes on)
        self._count_ms(gap)

    def _drain(self):
        """One batch: read the FIFO dry and run the samples; set a silent part up again."""
        imu = self.hw.imu
        if self._down_ms:  # it stopped answering: nothing to read until a start goes through
            if self._heard_ms < 0 or self.uptime_ms() < self._retry_ms:
                return
            self._restart_silent()
            self._down_ms = 0
            return
        got = 0
        while self.sampling:
            n = imu.read(self._samples, BATCH_MAX)
            if n:
                self._batch(n)
                got = n
            if n < BATCH_MAX or self._down_ms:  # (lost within the batch: no read until it is started again)
                break
        if imu.overruns != self._overruns:  # samples lost now (until 2026-12-06 said all the boot after one)
            self._overruns = imu.overruns
            self.errors |= P.ERR_FIFO_OVERRUN
            self._imu_trouble = True
            self._heard_ms = self.uptime_ms()  # a full FIFO is a part that senses (the MPU6886's read gives none then)
        if got:
            self._heard_ms = self._anchor_ms
        elif self.sampling and self._heard_ms >= 0 and self.uptime_ms() - self._heard_ms >= _SILENT_MS:
            self._restart_silent()

    async def _sender(self):
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not await self._send() and self.periph.secure():
                # The stack stayed busy through notify's 2 s on a link still up: try again soon,
                # not at the next wake (an epoch's, 10 s; none while sensing is off).
                await self.hw.clock.sleep_ms(_SEND_RETRY_MS)
                self._wake.set()

    async def _send(self):
        """Send what waits for this link (events from the cursor, the backfill's end, epochs);
        False if a notify gave up."""
        p = self.periph
        log = self.log
        buf = self._txbuf
        while p.secure() and self._ready_link == p.link_id:
            self._follow_link()
            c = self._cursor
            if c < log.next_seq:
                if log.read(c, buf) and not await p.notify(self.h_events, buf):
                    return False
                # Next record (an unreadable, torn or overwritten one is skipped), unless
                # a BACKFILL moved the cursor while the notify waited on a busy stack.
                if self._cursor == c:
                    self._cursor = c + 1
                if c == self._delivered or c == log.oldest_seq > self._delivered:  # the run a host holds goes on
                    self._delivered = c + 1
            elif self._done_pending:
                self._done_pending = False  # first: a BACKFILL while it is sent asks for its own
                if not await p.notify(self.h_events, self._loginfo(P.LF_DONE)):
                    self._done_pending = True  # the host waits for it (a new link's cursor clears it)
                    return False
            elif self._act:
                rec = self._act[0]
                # An epoch that waited here goes behind a LOGINFO saying so: its end is no
                # reading of the band's clock now, and the host must not judge its own by it.
                if self._held(rec) and not await p.notify(self.h_events, self._loginfo(P.LF_HELD)):
                    return False
                if not await p.notify(self.h_events, rec):
                    return False
                if self._act and self._act[0] is rec:  # not dropped (queue full) while it was sent
                    self._act.pop(0)
            else:
                break
            await asyncio.sleep_ms(0)  # let the sampler run during a long backfill
        return True

    def _held(self, rec):
        """True if epoch record ``rec`` ended over P.HELD_MS ago (its t_ms is u32 bytes 4-7)."""
        t_ms = rec[4] | (rec[5] << 8) | (rec[6] << 16) | (rec[7] << 24)
        return (self.uptime_ms() - t_ms) & 0xFFFFFFFF > P.HELD_MS

    def _follow_link(self):
        """A new link starts with live events only; older ones come by BACKFILL."""
        link = self.periph.link_id
        if link != self._cursor_link:
            self._cursor_link = link
            self._cursor = self.log.next_seq
            self._done_pending = False

    async def _raw_sender(self):
        p = self.periph
        while True:
            await self._raw_flag.wait()
            self._raw_flag.clear()
            while self._raw_ready:
                i = (self._raw_i - self._raw_ready) % RAW_BUFS
                if p.secure():
                    await p.notify(self.h_raw, memoryview(self._rawb[i])[: self._rawlen[i]])
                self._raw_ready -= 1

    def _loginfo(self, flags, oldest=-1):
        """LOGINFO; ``oldest``: the seq a BACKFILL's gap ends at, if not the log's oldest."""
        log = self.log
        if log.wrapped:
            flags |= P.LF_WRAPPED
        return P.encode_loginfo(flags, log.oldest_seq if oldest < 0 else oldest, log.next_seq, log.capacity)

    async def _control(self):
        p = self.periph
        while True:
            h, data = await p.next_write()
            if h != self.h_control:
                continue
            # next_write skips a gone link's writes, and no central connects while this task runs
            # (advertising restarts from the link task): the write is this link's, its answer goes here.
            self._cmd_link = p.link_id
            op = data[1] if len(data) > 1 else 0
            if not p.secure():
                await self._resp(op, P.E_AUTH, 0)
                continue
            if self._ready_link != p.link_id:  # its host has subscribed: records may go out now
                self._ready_link = p.link_id
                self._wake.set()
            try:
                op, args = P.decode_command(data)
            except P.ProtocolError as e:
                await self._resp(op, e.code, 0)
                continue
            code, arg = await self._apply(op, args)
            self._update_status()  # a read right after sees the change
            await self._resp(op, code, arg)
            if op == P.OP_REBOOT:
                await self.shutdown()
                self.hw.reset()

    async def _resp(self, op, code, arg):
        await self._answer(self.h_control, P.encode_resp(op, code, arg))

    def _asker_here(self):
        """The central whose command is being answered is still the one connected."""
        return self.periph.link_id == self._cmd_link

    async def _answer(self, handle, data):
        """Notify part of a command's answer to the central that sent it; False, not sent, once
        another has connected (while a notify waited on a busy stack): it did not ask, and may
        not be encrypted yet."""
        return self._asker_here() and await self.periph.notify(handle, data)

    async def _apply(self, op, args):
        if op == P.OP_TIME_SYNC:
            # Kept only as "synced" (EF/SF_TIME_SYNCED): records carry uptime ms, placed by the host
            # from the exchange of its choice (it sends several), not by this wall time.
            self._wall_ms = args[0] * 1000 + args[1]
            self._wall_at_ms = self.uptime_ms()
            return P.OK, self._wall_at_ms
        if op == P.OP_BACKFILL:
            log = self.log
            start = args[0]
            if start > log.next_seq:
                return P.E_VALUE, log.next_seq  # the host is ahead: this log was erased
            # Gone before the first seq that reads back: overwritten by the ring, or damaged in flash
            # (a bit error). Told as a gap, the host marks them lost and stops asking for them: a
            # damaged one inside the log was asked for at every connection until the ring turned over.
            first = await log.first_readable(start)  # (lets the sampler run during a long scan)
            flags = P.LF_GAP if start < first else 0
            # The boot links first, at every BACKFILL: each (re)connection delivers them again, and
            # a host that has them ignores them; a boot no host synced is placed by them.
            links = self.links
            for off in range(0, len(links), P.BOOTLINK_SIZE):
                await self._answer(self.h_events, links[off : off + P.BOOTLINK_SIZE])
            if not self._asker_here():
                return P.OK, 0  # its central went while a boot link waited: no cursor moves for the next
            self._follow_link()  # this link's cursor, even if the sender has not run since it connected
            self._cursor = first
            # The host holds every event before the one it asks for, and those up to ``first`` are
            # gone: counted as delivered (the sender, from ``first`` on, never meets them).
            if first > self._delivered:
                self._delivered = first
            await self._answer(self.h_events, self._loginfo(flags, first if flags else -1))
            self._done_pending = True
            self._wake.set()
            return P.OK, log.next_seq
        if op == P.OP_CONFIG:
            key, value = args
            try:
                changed = self.cfg.set(key, value)
            except OSError:
                return P.E_FLASH, 0
            return P.OK, 1 if changed and key in NEEDS_REBOOT else 0
        if op == P.OP_RAW:
            if args[0] and (not self.sampling or self.low_battery):
                return P.E_STATE, 0
            self.raw_on = bool(args[0])
            self._raw_n = 0
            return P.OK, 0
        if op == P.OP_INFO:  # INFO_RATE_MHZ or INFO_REVISION.., the items decode_command lets through
            if args[0] == P.INFO_RATE_MHZ:
                return P.OK, self.rate_hz * 1000 if self.sampling else 0
            return P.OK, P.revision_chunk(self.revision, args[0])
        if op == P.OP_BONDS:
            # Its code is loaded for the command and dropped after it: sent a few times in a band's
            # life, it need not take heap all night (docs/firmware.md, "Memory and speed").
            from band import bondcmd

            r = bondcmd.run(self, args[0])
            _forget("band.bondcmd")
            return r
        return P.OK, 0  # OP_REBOOT: acknowledged, then done by the caller

    def _flags(self):
        f = 0
        if self.log.wrapped:
            f |= P.SF_LOG_WRAPPED
        if self.safe_mode:
            f |= P.SF_SAFE_MODE
        if self.low_battery:
            f |= P.SF_LOW_BATTERY
        if self.critical:
            f |= P.SF_CRITICAL_BATTERY
        if self._wall_ms:
            f |= P.SF_TIME_SYNCED
        if self.raw_on:
            f |= P.SF_RAW_ON
        if self.periph.encrypted:
            f |= P.SF_ENCRYPTED
        if self.pairing:
            f |= P.SF_PAIRING
        return f

    def _update_status(self):
        """STATUS and the battery level refreshed; True if STATUS is the whole one (a secure link)."""
        full = self.periph.secure()
        if full:
            P.pack_status_into(
                self._stbuf,
                self.battery_pct,
                self.worn,
                self.log.fill_pct(self._delivered),
                self._flags(),
                self.errors,
                self.boot.boot_count,
                self.uptime_ms() // 1000,
                self.log.next_seq,
            )
        else:
            # Any central can read STATUS (one value for every link): one that is not the family's
            # host reads the band's state only (flags, faults; the battery, which 0x2A19 says
            # anyway), not whether a baby wears it, nor its boots and uptime, nor how many spasms
            # it logged (next_seq, log_fill_pct): docs/firmware.md, "Threat model".
            P.pack_status_into(self._stbuf, self.battery_pct, -1, 0, self._flags(), self.errors, 0, 0, 0)
        self.periph.set_value(self.h_status, self._stbuf)
        self._battbuf[0] = self.battery_pct
        self.periph.set_value(self.h_batt, self._battbuf)
        return full

    def _check_battery(self):
        """Read the cell; True if fewer than CONFIRM_READINGS were taken since the boot (the next
        is due _CONFIRM_MS on, not battery.py READ_MS)."""
        b = self.hw.battery
        if b is None:
            return False
        try:
            mv = b.read_mv()
        except OSError:
            self.errors |= P.ERR_BATTERY_ADC
            return False  # (a failing ADC is not read every second for ever)
        # The charge is the best of the last readings: one taken under load (a BLE burst, a flash
        # erase) is pulled down, and is no state of the cell (battery.py CONFIRM_READINGS).
        last = self._batt_pcts
        n = self._batt_reads
        last[n % batt.CONFIRM_READINGS] = batt.percent(mv, b.empty_mv, b.full_mv)
        self._batt_reads = n = n + 1
        pct = max(last)
        settled = n >= batt.CONFIRM_READINGS  # else the best of fewer: no low nor critical yet
        self.battery_pct = pct
        low_pct = self.cfg.get(P.CFG_LOW_BATTERY_PCT)
        if self.low_battery:
            self.low_battery = pct < low_pct + batt.CLEAR_MARGIN_PCT
        else:
            self.low_battery = settled and pct < low_pct
        if self.low_battery:
            self.raw_on = False
        if pct <= batt.CRITICAL_PCT and not self.critical and settled:
            # Stop sensing (so no more log writes) before the cell browns out
            # mid-write; every record is already flushed. Reads (backfill) go on.
            self.critical = True
            self.sampling = False
            self._paused_ms = self.uptime_ms()
            self.raw_on = False
            self.boot.mark_clean()
        elif self.critical and pct >= DEFAULTS[P.CFG_LOW_BATTERY_PCT] + batt.CLEAR_MARGIN_PCT:
            # 20 %: a charger's voltage, not a cell's rest once sensing stops (battery.py).
            self.critical = False
            self.boot.mark_running()
            self._resume_imu()
        return not settled

    def _resume_imu(self):
        """Start the part and its sampler: after a critical battery's pause, or a start that failed
        (at boot too: until 2026-12-06 a part that did not answer then was never tried again)."""
        self._start_imu()
        if self.sampling:
            asyncio.create_task(self._sampler())

    async def _status(self):
        p = self.periph
        stable = False
        due = 0  # uptime ms of the next status notification
        told = 0  # the errors the latest one said: a change goes at the next pass (within READ_MS)
        clean = 0  # uptime ms of a STATUS that ends the host's run of overruns (0: none due)
        radio_ms = _RADIO_RETRY_MS  # uptime ms of the next start of a radio that refused (band/startup.py)
        while True:
            low = self.low_battery
            crit = self.critical
            # Every pass, not every status period (up to an hour): a band below 3 % must stop
            # writing flash before it browns out, and one on the charger must sense again.
            confirming = self._check_battery()
            if self._down_ms and not self.sampling and not self.critical and self.uptime_ms() >= self._retry_ms:
                self._resume_imu()  # its start failed: tried at the first pass its back-off allows
            if not p.active() and self.uptime_ms() >= radio_ms:
                radio_ms = self.uptime_ms() + _RADIO_RETRY_MS
                if p.start():  # up at last: its GATT table, the pairing window and advertising, as at boot
                    from band import startup

                    startup._register(self, self.hw)
                    _forget("band.startup")
                    self.pairing = None  # given to the stack just below
                    p.advertise(self.name, P.SERVICE_UUID)
            self._pairing_update()
            p.drop_unsecured(self.hw.secure_within_ms)
            if self.det is not None and self.det.p.has_gyro and self.sampling:
                self.bias_store.keep(self.det.fe.bias, self.uptime_ms())
            full = self._update_status()
            up = self.uptime_ms()
            period_ms = self.cfg.get(P.CFG_STATUS_PERIOD_S) * 1000
            if self.errors & P.ERR_FIFO_OVERRUN and period_ms > _LOSS_STATUS_MS:
                period_ms = _LOSS_STATUS_MS
            if due > up + period_ms:  # the period was shortened
                due = up + period_ms
            if up >= due or low != self.low_battery or crit != self.critical or told != self.errors:
                told = self.errors
                # Not to a stranger's link; nor the short STATUS packed just before the family's host
                # made its link secure (on a board an IRQ between the two): it reads the whole one
                # after its first command, and the next period's goes out.
                if full and p.secure():
                    await p.notify(self.h_status, self._stbuf)
                due = up + period_ms
                if told & P.ERR_FIFO_OVERRUN:
                    clean = up + _LOSS_CLEAN_MS
                elif up >= clean:
                    clean = 0
            if clean and due > clean:
                due = clean
            wait_ms = due - up
            if wait_ms > batt.READ_MS:
                wait_ms = batt.READ_MS
            if confirming and wait_ms > _CONFIRM_MS:  # a band switched on with an empty cell stops in 2 s
                wait_ms = _CONFIRM_MS
            close_ms = self._pair_end_ms - up
            if self.pairing and 0 < close_ms < wait_ms:  # close the window on time, not up to 10 s late
                wait_ms = close_ms
            if not stable and not self.safe_mode:
                up = self.uptime_ms()
                if up >= STABLE_MS:
                    stable = True
                    self.boot.mark_stable()
                elif STABLE_MS - up < wait_ms:  # wake in time to clear the crash streak
                    wait_ms = STABLE_MS - up
            await self.hw.clock.sleep_ms(wait_ms)

    async def _watchdog(self):
        wdt = self.hw.make_wdt(WDT_TIMEOUT_MS)
        clock = self.hw.clock
        while True:
            if not (self.sampling and time.ticks_diff(clock.ticks_ms(), self._beat) > _STALL_MS):
                wdt.feed()
            self.boot.checkpoint(self.uptime_ms())  # RTC memory: the next boot links from the latest
            await clock.sleep_ms(WDT_FEED_MS)

    async def _link(self):
        p = self.periph
        was = (None, 0)
        while True:
            # The link id too: a connection that came and went between two passes
            # leaves conn None both times, but advertising must still restart.
            now = (p.conn, p.link_id)
            if now != was:
                if p.conn is None:
                    self.raw_on = False
                    p.restart_advertising()
                was = now
            if self.bonds.dirty:
                try:
                    self.bonds.save()
                except OSError:
                    pass
                self._pairing_update()  # a first bond after the window's time closes it
            self._update_status()
            cap = P.raw_capacity(p.payload_max())
            self._raw_cap = cap if cap < RAW_MAX_SAMPLES else RAW_MAX_SAMPLES
            self._raw_n = 0
            self._wake.set()
            await p.wait_change()

    # --- life cycle ------------------------------------------------------------------------------

    async def run(self):
        """Start every task and advertise; returns after ``shutdown``.

        An exception escaping any task stops the app and is raised here, so
        the caller (main.py) can note it and reset the board: a crash, counted
        towards safe mode at the next boot.
        """
        crash = []

        def on_error(loop, ctx):
            crash.append(ctx["exception"])
            self._stop.set()

        asyncio.get_event_loop().set_exception_handler(on_error)
        self._update_status()
        self.periph.advertise(self.name, P.SERVICE_UUID)
        tasks = [
            asyncio.create_task(f())
            for f in (self._sender, self._raw_sender, self._control, self._status, self._watchdog, self._link)
        ]
        if self.sampling:
            asyncio.create_task(self._sampler())
        await self._stop.wait()
        for t in tasks:
            t.cancel()
        if crash:
            raise crash[0]

    async def shutdown(self):
        """Clean stop (safe reboot): no more samples, log closed, next boot is not a crash."""
        self.sampling = False
        await asyncio.sleep_ms(50)  # let the RESP notification leave
        self.periph.disconnect()
        self.log.close()
        self.boot.mark_clean()
        self.boot.checkpoint(self.uptime_ms(), True)  # the reset follows within bootlink.STOP_MS
        self._stop.set()
