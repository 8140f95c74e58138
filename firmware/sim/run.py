"""Run the band firmware on the MicroPython unix port with simulated hardware.

    MICROPYPATH=.frozen:firmware:firmware/sim micropython firmware/sim/run.py \
        --csv rec.csv --flash DIR --socket PORT [options]

Options:
    --board FILE        board definition JSON (default: SIM_BOARD below)
    --device-id ID      default "sim0001"
    --speed N           virtual ms per real ms (default 0: as fast as possible)
    --paced             with --speed: keep virtual time on a real-time deadline (no drift over hours)
    --pace-after-end    with --paced: after the recording, virtual time goes on paced at --speed, not in
                        real time (for a harness whose host clock runs at the speed, bench/faults.py)
    --sync-at-pace      with --paced: a TIME_SYNC reads the clock where the pace has it (a board's clock
                        never lags its CPU), and the radio is not kept quiet while the samples lag
    --catch-up          with --sync-at-pace: samples lagging the pace by over 10 s move the band's clock on to it at
                        once, the recording played on from where it was, that much later: events, epochs and status
                        on the time its syncs read (not with a harness that resumes the recording by uptime)
    --end-at-pace       with --paced: a BACKFILL's end (LOGINFO done) waits while the samples lag the pace
                        by over 1 s (the host takes the log as in up to its arrival); its events go meanwhile
    --paced-from-ms MS  with --paced: this boot's virtual time 0 was due at MS (real ms since the epoch;
                        a harness rebooting the band passes the last boot's end, its ``due_ms``)
    --hold              stop virtual time until a central first has an encrypted link
    --csv-skip-s S      start S seconds into the recording (continuing after a reboot)
    --reset-at-s S      hard reset (no clean-up, like a watchdog or power cut) at virtual time S
    --drop-at-s S[,S]   the radio link drops (band out of range) at these virtual times
    --tear-at-seq N     lose power half-way through writing event N to flash (prints SIM power_loss with t_ms)
    --imu-fault-at-s S[:E]  the IMU stops answering on I2C at virtual time S (until E: a bus that comes back)
    --imu-reset-at-s S  the IMU loses its set-up at virtual time S (its own power glitch): it answers on I2C,
                        its FIFO stays empty until the driver starts it again
    --imu-stuck-at-s S  from virtual time S the IMU gives the same sample over and over (frozen output)
    --refuse-write F[,F]  writes of these flash files fail (OSError ENOSPC)
    --flash-bytes N     the files on flash may take N bytes in all: a write past it fails (ENOSPC, a full file system)
    --flash-stall-ms MS each event written to flash holds the band MS ms of virtual time (a slow flash erase:
                        the IMU's FIFO fills meanwhile, and may overrun)
    --radio-refuse N    the radio refuses its first N starts (OSError EIO, MicroPython 1.28's failed NimBLE
                        start): at boot (run.py's, then the app's), then every 5 minutes (the app's retries)
    --stall-at-s S      the sampler hangs at virtual time S (the watchdog must reset the band)
    --starve-at-s S:MS  the process gets no CPU for MS real ms at virtual time S (a loaded machine's
                        scheduler): with --paced its pace runs on meanwhile, its samples fall behind it
    --imu-odr-error-pct P  the IMU's real rate is P % off its nominal rate (its oscillator)
    --battery-mv MV     cell voltage (default 3950); --battery-step-s S:MV changes it at S
    --log-slots N       event log capacity (default: the board's, else the app's)
    --idle-exit-ms MS   after the recording ends, exit once no central has been connected for MS real ms (default 1000)
    --timeout-s S       give up after S real seconds (default 120)
    --uptime-ms MS      the band has been up MS ms already (its u32 ms fields wrap at 2^32: 49.7 days)
    --secure-within-ms MS  drop a link not encrypted and bonded MS real ms after it connected (default: a board's
                        swcore.wire SECURE_WITHIN_MS, 30000), checked at each status pass
    --reset-cause C     what started this boot, as machine.reset_cause() tells it: power_on (default: a new
                        process is a band switched on), hard (machine.reset(): a crash, REBOOT), wdt, soft, deepsleep,
                        brownout (read as power_on, pairing window and all, but the RTC memory and timer are kept)
    --retained FILE     the board's RTC memory: FILE outlives the process (the boot links' checkpoints,
                        band/bootlink.py); removed at a power_on. Without it the band has none (no links)
    --no-rtc            with --retained: no RTC timer runs through the reset (links are estimated). Else
                        it reads the recording's time line: --csv-skip-s x 1000 + virtual ms
    --rtc-restarted MS  with --retained: the RTC timer restarted at this reset, as at a power-up, and reads
                        MS at this boot's ms 0 (the board's boot time) + virtual ms. With --reset-cause brownout:
                        a power-up whose RTC memory kept its bits (stale SRAM), which the band cannot tell apart

Prints one ``SIM {json}`` line when the app is up (boot count, safe mode,
log state, heap use after start-up, the radio's starts) and one when it ends (samples, events),
and one per TIME_SYNC answered (``sync``: the band ms it answered, the host's
stamp ``sent_ms``, the real epoch ms it read its clock at and, when paced, the
real epoch ms that virtual time was due), and one when the recording has been
played (``played``: the band's ms then; its clock runs on in real time, or paced with
``--pace-after-end``).
Exit codes: see sim/hw.py (0 = recording done and idle, or stopped by SIGINT: ``end`` with
``why="stopped"``).
"""

import gc
import json
import os
import sys
import time

import asyncio
import bluetooth

# The radio on first, before the band's modules load, as main.py does on a board (micropython#14293):
# it listens once build() gives it its port. --radio-refuse is read here, before parse_args (which
# needs swcore.wire, a band module, and names a bad value). (No function: each new name is a qstr.)
if "--radio-refuse" in sys.argv[1:-1]:
    try:
        bluetooth.sim_refuse(int(sys.argv[sys.argv.index("--radio-refuse") + 1]))
    except ValueError:
        pass
try:
    bluetooth.BLE().active(True)
except OSError as e:  # as main.py: the app tries again (band/ble.py)
    print("ble:", e)

import hw as simhw  # noqa: E402
from band.app import App, Hardware  # noqa: E402
from band.storage import Storage  # noqa: E402
from swcore import wire as P  # noqa: E402

SIM_BOARD = {
    "id": "sim-mpu6886",
    "name": "Simulated band (MPU6886)",
    "mcu": "esp32c3",
    "micropython_board": "ESP32_GENERIC_C3",
    "imu": {
        "part": "mpu6886",
        "i2c_address": 0x68,
        "i2c": {"id": 0, "scl": 5, "sda": 4, "freq_hz": 400000},
        "int_pin": None,
        # A reflection, as on every real board (hardware/README.md, "Axis mapping"): the body frame is
        # left-handed, so a right-handed MPU6886 maps into it with det -1. tests/test_boards.py checks it.
        "axis_map": {"x": "+y", "y": "+x", "z": "+z"},
    },
    "mounting": {"sensor_x": "left", "sensor_y": "head", "note": "chip face out of the chest"},
    "battery": {"adc_pin": 2, "divider_ratio": 2.0, "full_mv": 4200, "empty_mv": 3300},
    "led": None,
    "buzzer": None,
}


RESET_CAUSES = ("power_on", "hard", "wdt", "soft", "deepsleep", "brownout")
# Hardware.reset_cause of each, as main.py maps machine.reset_cause(): a brown-out reads as PWRON_RESET.
CAUSE_CODES = (P.RC_POWER_ON, P.RC_HARD, P.RC_WDT, P.RC_SOFT, P.RC_DEEPSLEEP, P.RC_POWER_ON)
POWER_ON_CAUSES = ("power_on", "brownout")  # machine.PWRON_RESET: the pairing window opens
# Options read as numbers (int() or float() in build()): checked up front, so a typo is named,
# not a ValueError traceback from the middle of build().
NUMBERS = ("socket", "speed", "paced-from-ms", "csv-skip-s", "reset-at-s", "tear-at-seq",
           "imu-reset-at-s", "imu-stuck-at-s", "stall-at-s", "imu-odr-error-pct", "battery-mv",
           "log-slots", "flash-bytes", "flash-stall-ms", "idle-exit-ms", "timeout-s", "uptime-ms", "rtc-restarted",
           "secure-within-ms", "radio-refuse")


def usage():
    """This file's docstring, its usage and options: MicroPython keeps no docstring at run time."""
    with open(__file__) as f:
        return f.read().split('"' * 3)[1]


def parse_args(argv):
    opts = {
        "csv": None,
        "flash": None,
        "socket": None,
        "board": None,
        "device-id": "sim0001",
        "speed": "0",
        "hold": False,
        "paced": False,
        "pace-after-end": False,
        "sync-at-pace": False,
        "catch-up": False,
        "end-at-pace": False,
        "paced-from-ms": None,
        "csv-skip-s": "0",
        "reset-at-s": None,
        "drop-at-s": None,
        "tear-at-seq": None,
        "imu-fault-at-s": None,
        "imu-reset-at-s": None,
        "imu-stuck-at-s": None,
        "refuse-write": None,
        "flash-bytes": None,
        "flash-stall-ms": "0",
        "stall-at-s": None,
        "radio-refuse": None,
        "starve-at-s": None,
        "imu-odr-error-pct": "0",
        "battery-mv": "3950",
        "battery-step-s": None,
        "log-slots": None,
        "idle-exit-ms": "1000",
        "timeout-s": "120",
        "uptime-ms": "0",
        "secure-within-ms": str(P.SECURE_WITHIN_MS),
        "reset-cause": "power_on",
        "retained": None,
        "no-rtc": False,
        "rtc-restarted": None,
    }
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(usage())
            raise SystemExit(0)
        if not a.startswith("--") or a[2:] not in opts:
            raise SystemExit("run.py: unknown argument %r (--help lists the options)" % a)
        key = a[2:]
        if opts[key] is False:
            opts[key] = True
            i += 1
            continue
        if i + 1 >= len(argv):
            raise SystemExit("run.py: %s needs a value" % a)
        opts[key] = argv[i + 1]
        i += 2
    for req in ("csv", "flash", "socket"):
        if opts[req] is None:
            raise SystemExit("run.py: --%s is required" % req)
    if opts["reset-cause"] not in RESET_CAUSES:
        raise SystemExit("run.py: --reset-cause %r: expected one of %s" % (opts["reset-cause"], ", ".join(RESET_CAUSES)))
    for key in NUMBERS:
        try:
            if opts[key] is not None:
                float(opts[key])
        except ValueError:
            raise SystemExit("run.py: --%s %r: expected a number" % (key, opts[key]))
    if opts["starve-at-s"] is not None:  # (virtual ms, real ms), named if it is not S:MS
        try:
            at_s, real_ms = opts["starve-at-s"].split(":")
            opts["starve-at-s"] = (int(float(at_s) * 1000), int(real_ms))
        except ValueError:
            raise SystemExit("run.py: --starve-at-s %r: expected S:MS" % opts["starve-at-s"])
    # A missing file was "OSError: [Errno 2] ENOENT" from deep in build(), naming no file.
    for key in ("csv", "board"):
        if opts[key] is not None:
            try:
                os.stat(opts[key])
            except OSError:
                raise SystemExit("run.py: --%s %s: no such file" % (key, opts[key]))
    return opts


def report(kind, **kw):
    kw["kind"] = kind
    print("SIM " + json.dumps(kw))


def build(opts):
    board = SIM_BOARD
    if opts["board"]:
        with open(opts["board"]) as f:
            board = json.load(f)
    if opts["log-slots"]:
        board = dict(board)
        board["log_slots"] = int(opts["log-slots"])
    clock = simhw.SimClock(int(opts["speed"]), opts["paced"])
    clock.keep_pace = opts["pace-after-end"] and opts["paced"] and int(opts["speed"]) > 0
    clock.sync_at_pace = opts["sync-at-pace"] and opts["paced"] and int(opts["speed"]) > 0
    clock.catch_up = clock.sync_at_pace and opts["catch-up"]
    if opts["paced-from-ms"] is not None:
        clock.pace_from(int(opts["paced-from-ms"]))
    if opts["stall-at-s"] is not None:
        clock.stall_at_ms = int(float(opts["stall-at-s"]) * 1000)
    clock.starve = opts["starve-at-s"]
    source = simhw.CsvSource(opts["csv"], float(opts["csv-skip-s"]))
    imu_def = board["imu"]
    sensor = simhw.fake_imu(imu_def["part"])(imu_def["i2c_address"], imu_def["axis_map"], source, clock)
    sensor.odr_scale = 1.0 + float(opts["imu-odr-error-pct"]) / 100
    faults = [None if opts[k] is None else int(float(opts[k]) * 1000) for k in ("imu-reset-at-s", "imu-stuck-at-s")]
    if faults != [None, None] or opts["imu-fault-at-s"] is not None:
        from faultimu import inject  # only for such a run: sim/faultimu.py (which reads --imu-fault-at-s S[:E])

        inject(sensor, opts["imu-fault-at-s"], *faults)
    from band import imu as band_imu  # start-up only: here, so the app can drop it once up (band/startup.py)

    imu = band_imu.from_board(simhw.FakeI2C(sensor), imu_def)
    bdef = board.get("battery") or {"empty_mv": 3300, "full_mv": 4200}
    battery = simhw.SimBattery(int(opts["battery-mv"]), clock, bdef["empty_mv"], bdef["full_mv"])
    if opts["battery-step-s"]:
        for step in opts["battery-step-s"].split(","):
            s, mv = step.split(":")
            battery.steps.append((int(float(s) * 1000), int(mv)))
    tear = opts["tear-at-seq"]
    refuse = tuple(opts["refuse-write"].split(",")) if opts["refuse-write"] else ()
    try:
        os.mkdir(opts["flash"])  # a new band's empty flash (its parent must exist)
    except OSError:
        pass  # there already
    limit = None if opts["flash-bytes"] is None else int(opts["flash-bytes"])
    slow_ms = int(opts["flash-stall-ms"])
    if tear is None and not refuse and limit is None and not slow_ms:
        storage = Storage(opts["flash"])
    else:
        from faultfile import FaultStorage  # only for such a run: sim/faultfile.py

        storage = FaultStorage(opts["flash"], None if tear is None else int(tear), clock, refuse, limit, slow_ms)
    bluetooth.sim_configure(int(opts["socket"]))
    ble = bluetooth.BLE()
    wdts = []

    def make_wdt(timeout_ms):
        w = simhw.SimWDT(clock, timeout_ms)
        wdts.append(w)
        return w

    def reset():
        report("reset", reason="reboot")
        sys.exit(simhw.EXIT_RESET)

    power_on = opts["reset-cause"] in POWER_ON_CAUSES
    retained = None
    if opts["retained"] is not None:
        from retained import SimRetained

        retained = SimRetained.from_opts(opts, clock)
    hardware = Hardware(
        imu, ble, storage, clock, battery, make_wdt, reset, board, opts["device-id"], bluetooth.Flag,
        power_on=power_on, retained=retained, reset_cause=CAUSE_CODES[RESET_CAUSES.index(opts["reset-cause"])],
        secure_within_ms=int(opts["secure-within-ms"]),
    )
    return hardware, source, clock, wdts


def held_until_encrypted(ble):
    """--hold: virtual time stands still until a central has first encrypted a link.

    By the radio's count, not its link's state: a whole session (pair, backfill, close)
    can fall between two of the sampler's 5 ms polls on a loaded host, and a poll of
    the state then missed it; the band held on until its deadline.
    """
    return lambda: ble.encryptions == 0


async def supervise(app, source, clock, wdts, opts):
    """The simulated world around the app: radio pump, end of recording, resets, watchdog."""
    ble = app.hw.ble
    ble.quiet = None if clock.sync_at_pace else clock.behind
    _report_syncs(app, clock)
    if opts["end-at-pace"]:
        _hold_backfill_end(app, clock)
    asyncio.create_task(ble.pump())
    asyncio.create_task(_watchdog(app, clock, wdts))
    if opts["reset-at-s"] is not None:
        asyncio.create_task(_hard_reset(app, clock, int(float(opts["reset-at-s"]) * 1000)))
    if opts["drop-at-s"] is not None:
        asyncio.create_task(_drops(ble, clock, [int(float(x) * 1000) for x in opts["drop-at-s"].split(",")]))
    clock.ended = lambda: source.done
    if opts["hold"]:
        clock.hold = held_until_encrypted(ble)
    idle_ms = int(opts["idle-exit-ms"])
    deadline = time.ticks_add(time.ticks_ms(), int(opts["timeout-s"]) * 1000)
    idle_since = None
    played = False
    while True:
        await asyncio.sleep_ms(2)
        if time.ticks_diff(deadline, time.ticks_ms()) < 0:  # what kept the band from its idle exit
            report("stuck", played=source.done, sampling=app.sampling, central=ble.connected(),
                   held=bool(clock.hold and clock.hold()), stalled=clock.stalled)
            summary(app, "timeout")
            sys.exit(simhw.EXIT_TIMEOUT)
        # The sampler is not pacing (hung, a critical battery's pause, a part whose start failed
        # and is tried again later): the world moves on anyway, in virtual time.
        if (clock.stalled or (not app.sampling and (app.critical or app._down_ms))) and not source.done:
            await clock.advance_ms(200)
        elif source.done or not app.sampling:
            if not (clock.keep_pace and app.sampling):  # (kept: the sampler's batches pace it)
                clock.free_run()
            if source.done and not played:  # from here the band's clock runs on in real time, to the ms
                played = True
                # No sample comes any more: on a board a silent IMU (ERR_IMU), here the recording's end.
                app._heard_ms = -1
                report("played", t_ms=clock.ticks_ms())
            if ble.connected():
                idle_since = None
            elif idle_since is None:
                idle_since = time.ticks_ms()
            elif time.ticks_diff(time.ticks_ms(), idle_since) >= idle_ms:
                summary(app, "done")
                sys.exit(0)


def _report_syncs(app, clock):
    """Report each TIME_SYNC the app answers: a harness tells the host's latency (its stamp
    vs. the real moment) from the band's pacing lag (that moment vs. when it was due)."""
    apply = app._apply

    async def traced(op, args):
        sync = op == P.OP_TIME_SYNC
        clock.reading_sync, clock.read_at_pace = sync, False
        try:
            code, arg = await apply(op, args)  # TIME_SYNC does not await: no time passes before the stamps
        finally:
            clock.reading_sync = False
        if sync and code == P.OK:
            real = time.time_ns() // 1000000
            # Read where the pace has it (--sync-at-pace): that time is due now, whatever the lag.
            report("sync", band_ms=arg, sent_ms=args[0] * 1000 + args[1], real_ms=real,
                   due_ms=real if clock.read_at_pace else clock.due_epoch_ms())
        return code, arg

    app._apply = traced


def _hold_backfill_end(app, clock):
    """--end-at-pace: a BACKFILL's end (LOGINFO done) waits while the samples lag the paced clock
    (``clock.behind``).

    The host takes the band's log as in up to the end's arrival, read on the clock its syncs
    gave: that clock is the pace (--sync-at-pace), the log only reaches the samples played. A
    board's log never lags its clock so (it samples in real time); sent from a band lagging 800-900
    s of its recording (bench/faults.py at 60x under load), it closed every cluster then going on
    after its first spasms. Held as by a stack too busy to send it (False): the app keeps it
    pending, sends the events logged meanwhile first, and tries again (its _SEND_RETRY_MS). Its
    epochs wait behind it (the app's queue keeps 4): not for the demo, whose one connect's end,
    a second or so into a loaded run, would hold its wake-up from the daemon all morning."""
    notify = app.periph.notify

    async def held(handle, data):
        if data[1] == P.T_LOGINFO and data[2] & P.LF_DONE and clock.behind():
            return False
        return await notify(handle, data)

    app.periph.notify = held


async def _watchdog(app, clock, wdts):
    """The hardware watchdog: resets the board when the app stops feeding it."""
    while True:
        await clock.sleep_ms(250)
        for w in wdts:
            if w.expired():
                summary(app, "watchdog")
                sys.exit(simhw.EXIT_WDT)


async def _hard_reset(app, clock, at_ms):
    """A reset with no warning (power glitch, brown-out) at a chosen virtual time."""
    await clock.sleep_ms(at_ms - clock.ticks_ms())
    summary(app, "hard_reset")
    sys.exit(simhw.EXIT_RESET)


async def _drops(ble, clock, at_ms):
    """The link is lost (out of range, interference) at chosen virtual times; the band lives on."""
    for t in sorted(at_ms):
        await clock.sleep_ms(t - clock.ticks_ms())
        if ble.connected():
            report("drop", t_ms=clock.ticks_ms())
            ble._drop()


def _bias(app):
    """The detector's gyro bias (ddps), as the band would use it for the next sample."""
    if app.det is None:
        return None
    b = app.det.fe.bias
    return [b.bx, b.by, b.bz]


def summary(app, why):
    report(
        "end",
        why=why,
        samples=app.samples,
        next_seq=app.log.next_seq,
        suppressed=app.suppressed,
        errors=app.errors,
        uptime_ms=app.uptime_ms(),
        due_ms=app.hw.clock.due_epoch_ms(),
        bias=_bias(app),
        notify_failures=app.periph.notify_failures,
        notify_busy=app.periph.notify_busy,
        writes_dropped=app.periph.writes_dropped,
    )


def main():
    opts = parse_args(sys.argv[1:])
    hardware, source, clock, wdts = build(opts)
    app = App(hardware)
    app._up_ms = int(opts["uptime-ms"])  # before sensing starts: every time the band reports counts on from here
    app._pairing_update()  # a band up that long already is past its pairing window
    gc.collect()
    report(
        "up",
        boot=app.boot.boot_count,
        safe_mode=app.safe_mode,
        crashed=app.boot.crashed,
        next_seq=app.log.next_seq,
        oldest_seq=app.log.oldest_seq,
        torn=app.log.torn,
        capacity=app.log.capacity,
        errors=app.errors,
        rate_hz=app.rate_hz,
        bias=_bias(app),
        name=app.name,
        pairing=app.pairing,
        **({} if hardware.retained is None else hardware.retained.links(app)),
        mem_alloc=gc.mem_alloc(),
        mem_free=gc.mem_free(),
        starts=hardware.ble.starts,  # the radio's, each with the band's modules loaded then
    )

    async def both():
        asyncio.create_task(supervise(app, source, clock, wdts, opts))
        await app.run()

    try:
        asyncio.run(both())
    except KeyboardInterrupt:
        # SIGINT from a harness that holds the band up until the host has fetched its log
        # (bench/faults.py): it ends it as the idle exit would, with the end report's next_seq.
        summary(app, "stopped")
        sys.exit(0)
    except Exception as e:  # what the board's main.py does: note the crash, then reset
        sys.print_exception(e)
        try:
            with hardware.storage.open("crash.txt", "w") as f:
                sys.print_exception(e, f)
        except OSError:
            pass
        summary(app, "crash")
        sys.exit(simhw.EXIT_CRASH)
    sys.exit(0)


if __name__ == "__main__":
    main()
