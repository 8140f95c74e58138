"""firmware/main.py, the band's entry point on a board, run as flashed under the real MicroPython.

Only the board's ``machine`` module is a stand-in (pins, ADC, watchdog, and an I2C bus in front of
the register-level MPU6886 emulation of firmware/sim); the radio is the simulated ``bluetooth``.
The flashed tree is mounted as the root of the file system, so main.py finds /board.json,
/device.json and /data as on a board.
"""

from __future__ import annotations

import binascii
import json
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

from spasmwatch.hardware import boards
from sim_central import ROOT

from swcore import protocol as P

MACHINE = '''
import json, sys, time

def log(*a):
    with open("/machine.log", "a") as f:
        f.write(json.dumps(a) + "\\n")

class _Clock:  # the emulated sensor's time line: real time since the bus was made
    def __init__(self):
        self.t0 = time.ticks_ms()
    def ticks_ms(self):
        return time.ticks_diff(time.ticks_ms(), self.t0)
    played_ms = ticks_ms  # no catch-up here (sim/clock.py SimClock.played_ms): the time played is the time run

class Pin:
    OUT = 1
    IN = 0
    def __init__(self, n, mode=None, value=None, hold=False):
        self.n = n
        if mode == Pin.OUT:
            log("out", n, value, hold, sorted(k for k in sys.modules if k.split(".")[0] in ("band", "swcore")))

SENSOR = None

def I2C(bus_id, scl, sda, freq):
    global SENSOR
    import hw  # here, not above: it loads band.storage, and the pin must come before any band module

    log("i2c", bus_id, scl.n, sda.n, freq)
    with open("/board.json") as f:
        d = json.load(f)["imu"]
    SENSOR = hw.fake_imu(d["part"])(d["i2c_address"], d["axis_map"], hw.CsvSource("/rest.csv"), _Clock())
    return _Bus(SENSOR)

def _heap(what):  # the heap in use, once collected (what the start-up's modules left on it)
    import gc
    gc.collect()
    log("heap", what, gc.mem_alloc())
    if what == "imu_start" and _kept("/qstr_probe"):
        log("qstr_room", _qstr_room())

def _qstr_room():  # how many more names MicroPython interns before it opens its next qstr pool
    import gc, micropython
    micropython.qstr_info()  # its pools and names so far, to the test's output
    n = 0
    while True:
        name = "qstr_probe_%d" % n
        before = gc.mem_alloc()
        getattr(None, name, None)  # interns the name
        if gc.mem_alloc() - before > 2048:  # a new pool: KBs at once; a name's own bytes are tens
            return n
        n += 1

def _bus_class():
    import hw

    class Bus(hw.FakeI2C):
        started = False
        def writeto_mem(self, addr, reg, buf):
            if not Bus.started:  # the app starts the sensor: the detector's buffers come next
                Bus.started = True
                _heap("imu_start")
            return super().writeto_mem(addr, reg, buf)
    return Bus

def _Bus(sensor):
    return _bus_class()(sensor)

class ADC:
    ATTN_11DB = 3
    def __init__(self, pin):
        log("adc", pin.n)
    def atten(self, a):
        pass
    def read_uv(self):
        return 1950000  # 3.9 V behind the board's 2:1 divider

class WDT:
    def __init__(self, timeout):
        log("wdt", timeout)
        _heap("wdt")  # the app is up and running: what it holds all night
        # made by the running app: what of the band's code stayed loaded after its start-up
        log("modules", sorted(k for k in sys.modules if k.split(".")[0] in ("band", "swcore")))
        import bluetooth  # the simulated stack: when it was started, and how often
        ble = bluetooth.BLE()
        log("radio", ble.starts, ble.active())
    def feed(self):
        log("feed", SENSOR.rate_hz)

def reset():
    log("reset")
    sys.exit(3)

PWRON_RESET = 1  # the values of MicroPython's esp32 port
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

def _kept(path):  # a file the test left (/rtc.bin: RTC slow memory a previous boot left, as a brown-out keeps it)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""

class RTC:  # RTC slow memory: the boot links' checkpoints
    _mem = _kept("/rtc.bin")
    def memory(self, data=None):
        if data is None:
            if "band.bootlink" in sys.modules:  # the boot links read it: their code is loaded
                _heap("bootlink")
            return RTC._mem
        if not RTC._mem:
            log("rtc_memory", len(data))
        RTC._mem = bytes(data)

def reset_cause():  # switched on: the pairing window opens
    log("reset_cause")
    return PWRON_RESET
'''

DRIVE = '''
import os, sys
os.umount("/")
os.mount(os.VfsPosix(sys.argv[1]), "/")
os.chdir("/")
sys.path[:] = [".frozen", "/fakes", "/", "/sim"]
import main
'''


def _log(root: Path) -> list[list[object]]:
    path = root / "machine.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _flashed(flashed_fw: Path, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """The flashed tree as a board's root file system, with the M5StickC PLUS2's definition."""
    root = tmp_path / "flash"
    shutil.copytree(flashed_fw, root)
    board = boards.load("m5stickc-plus2", ROOT)
    (root / "board.json").write_text(json.dumps(board))
    (root / "device.json").write_text(json.dumps({"device_id": "sw-main-test"}))
    (root / "rest.csv").write_text("t,ax,ay,az,gx,gy,gz\n" + "".join(f"{k / 50:.2f},0,0,1,0,0,0\n" for k in range(50 * 600)))
    (root / "fakes").mkdir()
    (root / "fakes" / "machine.py").write_text(MACHINE)
    return root, board


def _run(micropython: str, root: Path, tmp_path: Path) -> tuple[str, list[list[object]]]:
    """main.py until the watchdog has been fed 3 times: its output and the machine log."""
    drive = tmp_path / "drive.py"
    drive.write_text(DRIVE)
    proc = subprocess.Popen([micropython, "-X", "heapsize=512k", str(drive), str(root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while sum(e[0] == "feed" for e in _log(root)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = proc.poll() is None
    finally:
        proc.kill()
        out, _ = proc.communicate()
    log = _log(root)
    assert alive, f"the band stopped: {out}\n{log}"
    return out, log


def test_main_holds_the_power_pin_before_loading_the_band_then_runs_it(micropython: str, flashed_fw: Path, tmp_path: Path) -> None:
    """The M5StickC PLUS2 switches itself off unless GPIO4 is driven high: main.py set it only after
    importing the band's modules, a noticeable time on the board (found by review). The rest of the
    wiring (IMU bus, battery ADC, watchdog, flash) ran nowhere before this test.

    The pin is set with the pad hold (hardware review): a reset (a crash's or REBOOT's machine.reset(),
    the watchdog, a panic) returns GPIO4 to an input with its reset pull-down, which on the cell
    switches the band off (M5Stack: "set HOLD(GPIO4)=0 ... to achieve power off") for the rest of the
    night, until someone presses its button; a held pad keeps its level through a system reset (ESP-IDF
    gpio_hold_en), until main.py sets it again."""
    root, board = _flashed(flashed_fw, tmp_path)
    out, log = _run(micropython, root, tmp_path)
    assert log[0] == ["out", board["power_hold_pin"], 1, True, []], f"the power pin, held, before the band's modules: {log[0]}"
    bus = board["imu"]["i2c"]
    assert ["i2c", bus["id"], bus["scl"], bus["sda"], bus["freq_hz"]] in log
    assert ["adc", board["battery"]["adc_pin"]] in log
    assert ["reset_cause"] in log  # a power-on opens the pairing window, another reset does not
    assert ["rtc_memory", 14] in log, "the boot link's checkpoint goes to the RTC memory"
    feeds = [e for e in log if e[0] == "feed"]
    assert len(feeds) >= 3 and feeds[-1] == ["feed", board["power"]["imu_rate_hz"]], log  # the IMU runs at the board's rate
    assert (root / "data" / "events").is_dir() and not (root / "data" / "crash.txt").exists(), out


# What a running band keeps loaded (each module's bytecode is on the heap): the start-up's modules
# (band/startup.py, the log's recovery scan, the boot links with the whole protocol, the IMU's
# table and axis-map parser) are dropped once the app is up, and an MPU6886 board loads no other
# part's driver (docs/firmware.md, "Memory and speed").
RESIDENT = [
    "band", "band.app", "band.battery", "band.biasstore", "band.ble", "band.bonds", "band.bootstate", "band.config",
    "band.eventlog", "band.imubase", "band.mpu6886", "band.storage",
    "swcore", "swcore.bias", "swcore.compat", "swcore.consts", "swcore.crc", "swcore.detector", "swcore.epoch",
    "swcore.frontend", "swcore.matcher", "swcore.wire",
]  # fmt: skip


def test_main_keeps_only_the_resident_modules_once_the_band_is_up(micropython: str, flashed_fw: Path, tmp_path: Path) -> None:
    """A power-on (the boot links run too): once the app runs, the modules used only while it
    started are gone from sys.modules, so their code is freed. The old code kept band.imu and
    swcore.protocol (host half included) all night, and its start-up code inside resident modules."""
    root, _ = _flashed(flashed_fw, tmp_path)
    out, log = _run(micropython, root, tmp_path)
    assert ["rtc_memory", 14] in log, out  # the boot links ran
    modules = [e[1] for e in log if e[0] == "modules"]
    assert modules == [RESIDENT], out


def test_main_starts_the_radio_once_before_the_band_is_on_the_heap(micropython: str, flashed_fw: Path, tmp_path: Path) -> None:
    """NimBLE takes its memory from ESP-IDF when it starts, and the ESP32 port's heap grows into that
    memory as the band's modules and buffers load: started once the band was up, as main.py did, the
    stack found too little, and an ESP32-C3 panicked (micropython#14293). main.py starts it before
    any band module loads, and the app does not start it again (active(True) on a started stack
    restarts it, its memory then taken from what the grown heap left). Started is not advertising:
    the app advertises once it runs (App.run), as before."""
    root, _ = _flashed(flashed_fw, tmp_path)
    out, log = _run(micropython, root, tmp_path)
    radio = [e[1:] for e in log if e[0] == "radio"]
    assert radio == [[[[]], True]], f"(the band's modules loaded at each start, active): {radio}\n{out}"


def test_main_links_a_boot_read_as_a_power_on_whose_rtc_memory_and_timer_were_kept(
    micropython: str, flashed_fw: Path, tmp_path: Path
) -> None:
    """A brown-out: machine.reset_cause() says PWRON_RESET, yet the RTC memory holds the previous
    boot's checkpoint and time.time_ns() ran on. main.py hands the app P.RC_POWER_ON and the boot is
    linked, measured. The old main.py mapped PWRON_RESET to 0: no link (no links.bin)."""
    root, _ = _flashed(flashed_fw, tmp_path)
    # Boot 0's last checkpoint (band/bootstate.py's layout): its uptime 42 s, the RTC timer's ms
    # now, read as main.py reads it (time.time_ns(), the same clock on the unix port).
    written_ms = time.time_ns() // 10**6
    cp = struct.pack("<BHIIB", 0x4C, 0, 42_000, written_ms & 0xFFFFFFFF, 0x01)
    (root / "rtc.bin").write_bytes(cp + binascii.crc_hqx(cp, 0xFFFF).to_bytes(2, "little"))
    out, log = _run(micropython, root, tmp_path)
    elapsed_ms = time.time_ns() // 10**6 - written_ms
    assert ["reset_cause"] in log
    # What Storage.write_atomic wrote. Its rename fails under this harness (MicroPython's VfsPosix
    # mounted at "/" answers os.rename of absolute paths ENOENT; relative ones work), so the bytes
    # stay in the .tmp file here; a board's LittleFS renames them to links.bin.
    data = root / "data"
    found = [p for p in (data / "links.bin", data / "links.bin.tmp") if p.exists()]
    assert found, f"no link kept: {out}"
    raw = found[0].read_bytes()
    assert len(raw) == P.BOOTLINK_SIZE + 2, out
    link = P.decode(raw[: P.BOOTLINK_SIZE])
    assert (link["boot"], link["prev_boot"], link["cause"], link["flags"], link["prev_ms"]) == (1, 0, P.RC_POWER_ON, P.BLF_RTC, 42_000)
    assert 0 <= link["gap_ms"] <= elapsed_ms, (link, elapsed_ms)  # from the checkpoint to band ms 0



def test_main_frees_the_boot_links_code_before_the_sensor_starts(micropython: str, flashed_fw: Path, tmp_path: Path) -> None:
    """band/startup.py drops the boot links' module and the whole protocol it loads (host half
    included) before the sensor starts, so the detector's buffers, the largest, are not laid out
    around their code. Old code: build()'s own name for the module kept it, and through its globals
    swcore.protocol, alive through that collection: the heap held 2.9 KB more when the sensor
    started than while the boot links ran (140,544 against 137,632 bytes; now 131,808), a board's
    ~8.7 KB hole under the detector's buffers once start-up returned."""
    root, _ = _flashed(flashed_fw, tmp_path)
    out, log = _run(micropython, root, tmp_path)
    heap = dict((e[1], e[2]) for e in log if e[0] == "heap")
    assert set(heap) == {"bootlink", "imu_start", "wdt"}, log  # the boot links ran, then the app started the sensor
    assert heap["imu_start"] < heap["bootlink"], heap


# The band's names at the sensor's start (docs/firmware.md, "qstr"): the unix port's qstr pools
# double (20, 40, ... 640 entries: 1260 in 6 pools), and the 7th, 1280 entries, is +14 KB of heap at
# once (+9 KB on 32-bit), which the night's heap budget was not set with. The names must fit in
# QSTR_POOLS pools with at least QSTR_MARGIN to spare, so that a change that eats the room fails
# here, with the count, before the next pool opens (test_main_frees_the_boot_links_code_before_
# the_sensor_starts and test_band_stream's budget see it only once it has).
QSTR_POOLS = 6
QSTR_MARGIN = 16  # names: a few changes' worth


def test_main_leaves_room_for_new_names_before_the_next_qstr_pool(micropython: str, flashed_fw: Path, tmp_path: Path) -> None:
    """At the sensor's start (the boot links ran), the fake machine prints micropython.qstr_info()
    then interns probe names until the heap jumps by a new pool: the names that fitted are the
    band's room, measured rather than computed from pool sizes. Old code: 1262 names in 7 pools
    (the 7th opened at the 1261st)."""
    root, _ = _flashed(flashed_fw, tmp_path)
    (root / "qstr_probe").write_bytes(b"1")
    out, log = _run(micropython, root, tmp_path)
    room = [e[1] for e in log if e[0] == "qstr_room"]
    found = re.search(r"n_pool=(\d+), n_qstr=(\d+)", out)
    assert room and found, (out, log)
    pools, names = int(found[1]), int(found[2])
    assert pools <= QSTR_POOLS and room[0] >= QSTR_MARGIN, (
        f"{names} names in {pools} qstr pools at the sensor's start, {room[0]} more before the next pool: "
        f"the band must fit in {QSTR_POOLS} pools with {QSTR_MARGIN} to spare (each new pool is +14 KB of heap at once). "
        "Make module-private constants _NAME = const(...), drop names (docs/firmware.md, qstr)"
    )


def test_main_keeps_no_more_of_the_board_file_than_the_app_reads(micropython: str, flashed_fw: Path, tmp_path: Path) -> None:
    """The band reads a few fields of /board.json (its IMU and battery wiring, the power pin, its id,
    name and log capacity); the rest (its power table, notes, sources: ~2.5 KB of a real file) is the
    host's. Old code: main.py's global BOARD and Hardware.board held the whole file all night, so a
    board file with 40 more source links held ~4 KB more heap once the app ran; now the same."""
    heaps = []
    for name, extra in (("plain", 0), ("long", 40)):
        root, board = _flashed(flashed_fw, tmp_path / name)
        board["sources"] = board["sources"] + ["https://example.invalid/datasheet-%03d.pdf" % i for i in range(extra)]
        (root / "board.json").write_text(json.dumps(board))
        out, log = _run(micropython, root, tmp_path / name)
        heap = [e[2] for e in log if e[0] == "heap" and e[1] == "wdt"]
        assert heap, (out, log)
        heaps.append(heap[0])
    assert heaps[1] - heaps[0] <= 256, f"heap once running, plain board file {heaps[0]}, with 40 more sources {heaps[1]}"
