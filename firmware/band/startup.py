"""The app's start-up (band/app.py): its state built, the flash's files read (the boot count,
the boot links, config, bias, bonds, the event log's recovery scan and capacity change), the
sensor started and the GATT table registered. ``App.__init__`` runs ``build`` once and drops
this module (and the start-up modules it uses), so their code does not stay on the heap all
night (docs/firmware.md, "Memory and speed").
"""

import asyncio

import bluetooth

from band.app import EVENT_SIZE, FIRMWARE_VERSION, LOG_SLOTS, RAW_BUFS, RAW_MAX_SAMPLES, _forget
from band.battery import CONFIRM_READINGS
from band.biasstore import BiasStore
from band.ble import FLAG_NOTIFY, FLAG_READ, FLAG_WRITE, FLAG_WRITE_ENCRYPTED, WRITE_MAX, Peripheral
from band.bonds import Bonds
from band.bootstate import BootState
from band.config import Config
from band.eventlog import EventLog
from swcore import wire as P


def build(app, hw):
    """App.__init__: every attribute of ``app`` set, the app ready to ``run``."""
    # The board's IMU driver is built: the code that chose and built it goes. And the imports
    # left garbage between the modules' code: freed now, the app's objects fill those holes
    # instead of splitting the free space the detector's buffers need whole.
    _forget("band.imu")
    app.hw = hw
    st = hw.storage
    app._up_ms = 0
    app._last_ticks = hw.clock.ticks_ms()  # band ms 0 (a boot link's reference)
    app.boot = BootState(st, hw.retained)
    app.links = b""  # the boot links kept (BOOTLINK records, oldest first): sent at each BACKFILL
    if hw.retained is not None:
        # First, on a heap not yet split: the module (and the whole protocol, which it reads
        # links.bin with) runs once and is dropped, and its code (and the .mpy's load buffer)
        # is freed before the detector's buffers need the space.
        from band import bootlink

        app.links = bootlink.kept(st, hw.retained, app.boot.boot_count, hw.reset_cause, app.uptime_ms())
        # This frame's name for it too: it would keep the module (and, through its globals, the
        # protocol) alive past the collection, on the heap under the detector's buffers until
        # build() returns, then a hole among them (8.7 KB, 64-bit .mpy: tests/firmware/test_main_entry.py).
        del bootlink
        _forget("band.bootlink", "swcore.protocol")
    app.boot.checkpoint(app.uptime_ms())  # at once: a boot reset within its first second still links
    app.cfg = Config(st)
    app.bias_store = BiasStore(st)
    app.bonds = Bonds(st)
    app.log = EventLog(st, hw.board.get("log_slots", LOG_SLOTS))
    app.errors = 0
    _forget("band.logscan")  # the recovery scan's code, before the detector's buffers
    if app.cfg.reset:
        app.errors |= P.ERR_CONFIG_RESET
    if app.boot.crashed:
        app.errors |= P.ERR_CRASHED
    if app.log.torn:
        app.errors |= P.ERR_LOG_TORN
    app.safe_mode = app.boot.safe_mode
    app.critical = False
    app.low_battery = False
    app.battery_pct = 100
    app._batt_pcts = bytearray(CONFIRM_READINGS)  # the last readings (%), 0 before the first
    app._batt_reads = 0  # readings taken: the next goes in _batt_pcts[_batt_reads % CONFIRM_READINGS]
    app.worn = -1
    app.raw_on = False
    # Samples sensed: samples + _laps * SAMPLES_LAP is RAW's u32 first_index.
    app.samples = 0
    app._laps = 0
    app._count_ahead = 0  # thousandths of a sample counted ahead by the last span counted as sampled (App._count_ms)
    app._paused_ms = -1  # uptime ms when a critical battery stopped sensing (-1: not paused)
    app.suppressed = 0  # events under min_confidence
    # Time of sample _anchor_n (uptime ms when the batch ending just before it was
    # read): event times count back from the latest read, so the IMU's own clock
    # (ODR off by ~1 %) cannot make them drift over a night.
    app._anchor_ms = 0
    app._anchor_n = 0
    app._period_us = 0  # the IMU's measured sample period (us); 0: the nominal one
    app._span_ms0 = 0  # uptime ms of the measuring window's first anchor
    app._span_n = -1  # samples read since it (-1: no window open)
    app._span_overruns = 0
    app._span_first = True  # the first window since sensing began: its estimate is taken as it grows
    app._heard_ms = -1  # uptime ms of the latest batch with samples (-1: not watched, sim/run.py after its recording)
    # The IMU was set up again (app._imu_restart) or overran in the epoch under way: ERR_IMU and
    # ERR_FIFO_OVERRUN stay until a whole epoch without either.
    app._imu_trouble = False
    app._down_ms = 0  # the IMU stopped answering on I2C: its current wait between starts (ms; 0: it answers)
    app._retry_ms = 0  # uptime ms of its next start then
    app._overruns = 0  # the driver's overrun count when last seen
    app._beat = app._last_ticks
    app._wall_ms = 0  # unix ms at _wall_at_ms uptime; 0 = never synced this boot
    app._wall_at_ms = 0
    app._cursor = 0  # next seq to notify on the current link
    app._cursor_link = -1  # the link (Peripheral.link_id) _cursor belongs to
    # The link whose host has written a command: it subscribes first, and a notification
    # before its subscription is dropped by the central's stack (BlueZ): epochs never come again.
    app._ready_link = -1
    app._cmd_link = 0  # the link (Peripheral.link_id) the command being answered came on
    app._delivered = 0  # every seq below this went to a host (this boot): log fill counts the rest
    app._done_pending = False
    app._act = []
    app._wake = asyncio.Event()
    app._raw_flag = asyncio.Event()
    app._stop = asyncio.Event()
    app._samples = None
    app.det = None
    app.ep = None
    app.mt = None  # the cluster counter (with a gyro)
    app.rate_hz = 0
    app.sampling = False
    app._start_imu()  # first: its buffers are the largest, and the heap is least split now
    # Preallocated buffers: event, tx, status, raw ring.
    app._evbuf = bytearray(EVENT_SIZE)
    app._txbuf = bytearray(EVENT_SIZE)
    app._stbuf = bytearray(P.STATUS_SIZE)
    app._battbuf = bytearray(1)
    app._rawb = [bytearray(P.RAW_HEAD_SIZE + RAW_MAX_SAMPLES * P.RAW_SAMPLE_SIZE) for _ in range(RAW_BUFS)]
    app._rawlen = [0] * RAW_BUFS
    app._raw_i = 0  # buffer being filled
    app._raw_n = 0  # samples in it
    app._raw_ready = 0  # filled buffers waiting to be sent (oldest = _raw_i - _raw_ready)
    app._raw_dropped = 0
    app._raw_cap = 1
    app.periph = Peripheral(hw.ble, app.bonds, hw.irq_flag)
    # Uptime ms until which a new central may bond: P.PAIRING_WINDOW_MS after a power-on, none
    # after any other reset (a watchdog at night must not open the band to the neighbours).
    app._pair_end_ms = P.PAIRING_WINDOW_MS if hw.power_on else 0
    app.pairing = None  # the window as last given to the stack (None: not yet)
    app.name = P.air_name(hw.device_id)
    app._pairing_update()
    if app.periph.active():
        _register(app, hw)
    else:
        # The radio refused to start (band/ble.py Peripheral.start): no GATT table yet, nothing is
        # sent; sensing and the flash log go on. App._status starts it later, and STATUS says it.
        app.h_events = app.h_status = app.h_control = app.h_raw = app.h_batt = 0
        app.errors |= P.ERR_RADIO


def _register(app, hw):
    # At build, or when the radio starts later (App._status imports this module again for it).
    # Pinned by tests/transport/test_gatt_table.py: bonded hosts keep this table across a firmware
    # update and the band cannot tell them it changed (docs/transport.md, "The GATT cache ...").
    U = bluetooth.UUID
    p = app.periph
    svc = (
        U(P.SERVICE_UUID),
        (
            (U(P.EVENTS_UUID), FLAG_NOTIFY),
            (U(P.STATUS_UUID), FLAG_READ | FLAG_NOTIFY),
            (U(P.CONTROL_UUID), FLAG_WRITE | FLAG_WRITE_ENCRYPTED | FLAG_NOTIFY),
            (U(P.RAW_UUID), FLAG_NOTIFY),
        ),
    )
    bas = (U(0x180F), ((U(0x2A19), FLAG_READ | FLAG_NOTIFY),))
    dis = (
        U(0x180A),
        (
            (U(0x2A29), FLAG_READ),  # manufacturer
            (U(0x2A24), FLAG_READ),  # model
            (U(0x2A25), FLAG_READ),  # serial
            (U(0x2A26), FLAG_READ),  # firmware revision
            (U(0x2A27), FLAG_READ),  # hardware revision
        ),
    )
    ((app.h_events, app.h_status, app.h_control, app.h_raw), (app.h_batt,), h_dis) = p.register(
        (svc, bas, dis)
    )
    p.set_buffer(app.h_control, WRITE_MAX)
    board = hw.board
    try:
        # The build id 'spasmwatch flash' wrote with these files (the simulator's, made for its tree),
        # after the version: the host tells its own firmware from another (docs/firmware.md, "Build id").
        from swbuild import ID

        revision = FIRMWARE_VERSION + P.REVISION_SEPARATOR + ID
    except Exception:  # none (flashed by a spasmwatch from before build ids), or unreadable: never a crash at boot
        revision = FIRMWARE_VERSION
    app.revision = revision  # INFO_REVISION's, for a host on USB serial (no Device Information there)
    # Any central reads these without pairing: nothing here says what the band watches for
    # (docs/firmware.md, "Threat model"); the host reads the id, model, firmware and board.
    for h, v in zip(
        h_dis,
        ("open hardware", board.get("name", "?"), hw.device_id, revision, board.get("id", "?")),
    ):
        p.set_value(h, v.encode())
