"""Band entry point on a board: wire the real hardware into the app and run it.

``spasmwatch flash`` puts this file, ``band/`` and ``swcore/`` on the board and
writes ``/board.json`` (the board definition from hardware/boards) and
``/device.json`` (``{"device_id": ...}``). Data lives under ``/data``.
Any crash is written to ``/data/crash.txt`` and the board resets; repeated
crashes bring the band up in safe mode (see band/bootstate.py).
Ctrl-C at the REPL stops the app without a reset (the watchdog, once
started, still resets the board within 8 s).
"""

import json

import machine


def _load(path):
    with open(path) as f:
        return json.load(f)


def _hold_power():
    # E.g. M5StickC PLUS2: the board switches itself off unless this pin is driven high, so it is
    # set before the imports below, which take a while on the board. Held (the ESP32's pad hold), so a
    # reset (machine.reset() after a crash or REBOOT, the watchdog, a panic) keeps it high until here:
    # unheld, the reset returns it to an input pulled low, and on its cell the band switched off.
    pin = _load("/board.json").get("power_hold_pin")
    if pin is not None:
        machine.Pin(pin, machine.Pin.OUT, value=1, hold=True)


def _radio_on():
    # NimBLE first, before the app's modules and state are on the heap. The ESP32 port's GC heap
    # grows on demand into ESP-IDF's memory (micropython#12141), keeping none back for it: started
    # once the band was up, NimBLE found too little and an ESP32-C3 panicked (micropython#14293;
    # docs/firmware.md, "Only a real board can check"). Active is not advertising: the app starts
    # that once it is ready (App.run). On a failure the app tries again as it builds, then every 5
    # minutes, sensing and logging to flash meanwhile (band/ble.py Peripheral.start, App._status).
    ble = bluetooth.BLE()
    try:
        ble.active(True)
    except OSError as e:  # MicroPython 1.28 on: NimBLE's failed start, where earlier ones panicked
        print("ble:", e)
    return ble


_hold_power()

import bluetooth  # noqa: E402

_BLE = _radio_on()

import asyncio  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from band.app import App, Hardware  # noqa: E402
from band.battery import AdcBattery  # noqa: E402
from band.storage import Storage  # noqa: E402
from swcore import wire as P  # noqa: E402

DATA_DIR = "/data"


class Clock:
    """Device time: ticks and asyncio sleeps (the simulator's clock is virtual)."""

    ticks_ms = staticmethod(time.ticks_ms)
    sleep_ms = staticmethod(asyncio.sleep_ms)
    pace_ms = staticmethod(asyncio.sleep_ms)


def _imu(board):
    d = board["imu"]
    bus = d["i2c"]
    i2c = machine.I2C(bus["id"], scl=machine.Pin(bus["scl"]), sda=machine.Pin(bus["sda"]), freq=bus["freq_hz"])
    from band import imu  # start-up only: here, so the app can drop it once up (band/startup.py)

    try:
        return imu.from_board(i2c, d)
    except ValueError as e:  # unknown part or bad axis map: run, and report ERR_IMU
        print("imu:", e)
        return None


def _battery(board):
    d = board.get("battery")
    if not d:
        return None
    adc = machine.ADC(machine.Pin(d["adc_pin"]))
    # 11 dB: the widest range, 2.45 V (ESP32), 2.5 V (C3), 3.1 V (S3) at the pin; spasmwatch
    # refuses a board whose divided cell falls outside it (spasmwatch/hardware/boards.py, ADC_RANGE_MV).
    adc.atten(machine.ADC.ATTN_11DB)
    return AdcBattery(adc, d["divider_ratio"], d["empty_mv"], d["full_mv"])


class Retained:
    """The boot links' retained memory (band/bootlink.py): the RTC slow memory that
    ``machine.RTC().memory()`` reads and writes (MicroPython puts it in RTC_NOINIT memory: it
    survives watchdog, panic and software resets and likely a brown-out, not a power-up), and the
    RTC timer's ms, read as ``time.time_ns()``: ESP-IDF's gettimeofday, which the RTC timer carries
    through every reset but a power-up. Both are checked on a board at bring-up (hardware/BRINGUP.md, section 1, "Boot links")."""

    def __init__(self):
        self._rtc = machine.RTC()

    def read(self):
        return self._rtc.memory()

    def write(self, data):
        self._rtc.memory(data)

    @staticmethod
    def rtc_ms():
        return time.time_ns() // 1000000


# machine.reset_cause() -> how the previous boot ended (swcore.wire RC_*). PWRON_RESET is a
# power-up (the RTC memory and timer lost: no link) or, as the ESP32 port also reports it, a
# brown-out (both kept): RC_POWER_ON, linked only by a measured gap (band/bootlink.py).
def _reset_cause(cause):
    if cause == machine.PWRON_RESET:
        return P.RC_POWER_ON
    if cause == machine.HARD_RESET:
        return P.RC_HARD
    if cause == machine.WDT_RESET:
        return P.RC_WDT
    if cause == machine.SOFT_RESET:
        return P.RC_SOFT
    if cause == machine.DEEPSLEEP_RESET:
        return P.RC_DEEPSLEEP
    return 0


def _hardware(storage):
    # The board file read here, not kept in a global: the app keeps only what it reads of it
    # (Hardware), and the whole file (its power table, notes, sources) held heap all night (~2.5 KB,
    # docs/firmware.md "Heap per board"). Read twice at boot (_hold_power): a few ms.
    board = _load("/board.json")
    cause = machine.reset_cause()
    return Hardware(
        _imu(board),
        _BLE,
        storage,
        Clock(),
        _battery(board),
        lambda timeout_ms: machine.WDT(timeout=timeout_ms),
        machine.reset,
        board,
        _load("/device.json")["device_id"],
        # Only a power-on opens the pairing window. The ESP32 port reads a brown-out as PWRON_RESET
        # too, the watchdog as WDT_RESET, machine.reset() (crash, REBOOT) and a panic as HARD_RESET.
        power_on=cause == machine.PWRON_RESET,
        retained=Retained(),
        reset_cause=_reset_cause(cause),
    )


def main():
    try:
        os.mkdir(DATA_DIR)
    except OSError:
        pass  # exists
    storage = Storage(DATA_DIR)
    hw = _hardware(storage)
    try:
        asyncio.run(App(hw).run())
    except KeyboardInterrupt:
        return
    except Exception as e:
        sys.print_exception(e)
        try:
            with storage.open("crash.txt", "w") as f:
                sys.print_exception(e, f)
        except OSError:
            pass
    machine.reset()


main()
