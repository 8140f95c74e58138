"""Board definitions: schema, facts, the firmware's driver table, and the power budget.

Every ``hardware/boards/*.json`` must validate against ``schema.json``, name an
IMU part the firmware has a driver for (``band.imu.DRIVERS``, read both by
parsing the source and by importing it under the real ``micropython``), carry
an axis map that follows from its documented mounting, and the README's power
budget must be what ``spasmwatch.hardware.power`` computes from these files.
"""

from __future__ import annotations

import ast
import importlib
import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from spasmwatch import cli
from spasmwatch.errors import InputError
from spasmwatch.flashing.firmware import constant
from spasmwatch.hardware import boards, power

ROOT = Path(__file__).resolve().parent.parent
BOARDS = ROOT / "hardware" / "boards"
IMU_PY = ROOT / "firmware" / "band" / "imu.py"
BOARD_IDS = boards.board_ids(ROOT)


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((BOARDS / "schema.json").read_text())
    return schema


def _raw(board_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((BOARDS / f"{board_id}.json").read_text())
    return doc


def firmware_drivers() -> dict[str, str]:
    """``DRIVERS`` of firmware/band/imu.py as {part: class name}, read from the source (each class's
    module checked to be there: from_board imports it by name)."""
    assert IMU_PY.is_file(), f"{IMU_PY} is missing: the firmware must provide the IMU driver table band.imu.DRIVERS"
    tree = ast.parse(IMU_PY.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "DRIVERS" for t in node.targets):
            assert isinstance(node.value, ast.Dict), "band.imu.DRIVERS must be a dict literal"
            out = {}
            for k, v in zip(node.value.keys, node.value.values):
                assert isinstance(k, ast.Constant) and isinstance(v, ast.Constant), "DRIVERS maps 'part' -> 'module.DriverClass'"
                module, cls = str(v.value).split(".")
                assert (IMU_PY.parent / f"{module}.py").is_file(), f"DRIVERS[{k.value!r}]: no band/{module}.py"
                out[str(k.value)] = cls
            return out
    raise AssertionError(f"{IMU_PY}: no DRIVERS table (part name -> driver class)")


def test_there_are_boards_of_both_kinds() -> None:
    kinds = {(b["mcu"], b["imu"]["part"]) for b in (_raw(i) for i in BOARD_IDS)}
    assert len(BOARD_IDS) >= 3
    assert any(mcu in ("esp32c3", "esp32s3") for mcu, _ in kinds)
    ready_made = [i for i in BOARD_IDS if i.startswith("m5")]
    assert ready_made, "at least one ready-made IMU board (M5Stack class)"


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(_schema())


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_board_validates_against_schema(board_id: str) -> None:
    jsonschema.Draft202012Validator(_schema()).validate(_raw(board_id))


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_board_loads_with_all_fact_checks(board_id: str) -> None:
    b = boards.load(board_id, ROOT)
    assert b["id"] == board_id


def test_every_board_part_has_a_firmware_driver_and_every_driver_is_used() -> None:
    drivers = firmware_drivers()
    parts = {_raw(i)["imu"]["part"] for i in BOARD_IDS}
    assert parts <= set(drivers), f"boards use parts without a driver: {parts - set(drivers)}"
    assert set(drivers) <= parts, f"drivers no board uses (add a board or drop the driver): {set(drivers) - parts}"
    schema_parts = set(_schema()["properties"]["imu"]["properties"]["part"]["enum"])
    assert schema_parts == set(drivers), "schema imu.part enum and band.imu.DRIVERS must list the same parts"


def _per_board(micropython: str, setup: str, per_imu: str) -> list[Any]:
    """Under micropython, with the firmware on the path: ``setup``, then ``per_imu`` for each
    board's ``d`` (its "imu" object), which prints one JSON row; the rows, in BOARD_IDS order."""
    script = (
        "import sys, json\nsys.path.insert(0, %r)\n" + setup + "for path in %r:\n    d = json.load(open(path))['imu']\n" + per_imu
    ) % (str(ROOT / "firmware"), [str(BOARDS / f"{i}.json") for i in BOARD_IDS])
    out = subprocess.run([micropython, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr or out.stdout
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == len(BOARD_IDS)
    return rows


def test_firmware_builds_each_boards_driver_under_micropython(micropython: str) -> None:
    """The band's own code accepts each definition: part -> driver class, address, axis map."""
    rows = _per_board(
        micropython,
        "from band import imu\n",
        "    drv = imu.from_board(None, d)\n"
        "    print(json.dumps([d['part'], drv.__class__.__name__, drv._addr, list(drv._map)]))\n",
    )
    drivers = firmware_drivers()
    for board_id, (part, cls, addr, amap) in zip(BOARD_IDS, rows):
        raw = _raw(board_id)["imu"]
        assert cls == drivers[part]
        assert addr == raw["i2c_address"]
        # parse_axis_map: (sensor index, sign) per body axis, as the JSON says.
        want = []
        for body in "xyz":
            spec = raw["axis_map"][body]
            want += ["xyz".index(spec[1]), 1 if spec[0] == "+" else -1]
        assert amap == want


def test_each_boards_imu_rate_is_the_rate_its_driver_runs_at(micropython: str) -> None:
    """power.imu_rate_hz is what the band's driver sets for the default config rate (the MPU6886
    divides its 1 kHz clock: a 52 Hz request runs at 50 Hz); FRAME is checked by the same run."""
    rows = _per_board(
        micropython,
        "from band import imu\nfrom band.config import DEFAULTS\nfrom swcore import protocol as P\n"
        "class Bus:\n"
        "    def __init__(s, reg, who):\n        s.reg = reg\n        s.who = who\n"
        "    def writeto_mem(s, addr, reg, buf):\n        pass\n"
        "    def readfrom_mem_into(s, addr, reg, buf):\n"
        "        for i in range(len(buf)):\n            buf[i] = 0\n"
        "        if reg == s.reg:\n            buf[0] = s.who\n",
        "    cls = imu.driver(d['part'])\n"
        "    drv = imu.from_board(Bus(cls.WHO_AM_I_REG, cls.WHO_AM_I[0]), d)\n"
        "    print(json.dumps([DEFAULTS[P.CFG_RATE_HZ], drv.start(DEFAULTS[P.CFG_RATE_HZ])]))\n",
    )
    for board_id, (asked, runs) in zip(BOARD_IDS, rows):
        assert _raw(board_id)["power"]["imu_rate_hz"] == runs, f"{board_id}: the band asks {asked} Hz and runs {runs} Hz"


# The USB id each MicroPython image enumerates with: the C3 has only its USB-Serial/JTAG
# (ports/esp32/boards/ESP32_GENERIC_C3: console on USB_SERIAL_JTAG); the S3 image runs TinyUSB
# CDC with Espressif's VID and PID 0x4000 | CDC (ports/esp32/mpconfigport.h: USB_TUSB_PID);
# a classic ESP32 has no USB of its own and shows its board's USB-UART bridge.
MICROPYTHON_USB = {"esp32c3": (0x303A, 0x1001), "esp32s3": (0x303A, 0x4001)}


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_board_usb_id_is_what_the_band_enumerates_as(board_id: str) -> None:
    from spasmwatch.transport.serial import KNOWN_USB

    b = _raw(board_id)
    got = (b["usb"]["vid"], b["usb"]["pid"])
    if b["mcu"] in MICROPYTHON_USB:
        assert got == MICROPYTHON_USB[b["mcu"]], f"{board_id}: usb {got[0]:04X}:{got[1]:04X}"
    else:
        assert got in KNOWN_USB and got[0] != 0x303A, f"{board_id}: not a known USB-UART bridge"


@pytest.mark.parametrize(
    "sensor_x,sensor_y,expected",
    [
        ("head", "right", {"x": "+x", "y": "-y", "z": "+z"}),
        ("left", "head", {"x": "+y", "y": "+x", "z": "+z"}),
        ("feet", "left", {"x": "-x", "y": "+y", "z": "+z"}),
        # Sensor lying face down (z into the chest), x to the head: y then points to the baby's left.
        ("head", "left", {"x": "+x", "y": "+y", "z": "-z"}),
    ],
)
def test_axis_map_follows_from_mounting(sensor_x: str, sensor_y: str, expected: dict[str, str]) -> None:
    assert boards.axis_map_from_mounting(sensor_x, sensor_y) == expected


def test_axis_map_rejects_parallel_axes() -> None:
    with pytest.raises(ValueError, match="not perpendicular"):
        boards.axis_map_from_mounting("head", "feet")


def _det(amap: dict[str, str]) -> int:
    m = [[0] * 3 for _ in range(3)]
    for i, body in enumerate("xyz"):
        m[i]["xyz".index(amap[body][1])] = 1 if amap[body][0] == "+" else -1
    return (
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    )


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_axis_maps_land_in_the_design_body_frame(board_id: str) -> None:
    """x head, y left, z out of the chest is a left-handed frame: a real sensor maps in by a reflection."""
    assert _det(_raw(board_id)["imu"]["axis_map"]) == -1


def test_the_simulated_board_maps_into_the_body_frame_as_a_real_one_does() -> None:
    """Found by the docs pass: firmware/sim's SIM_BOARD mapped its MPU6886 by a rotation (det +1),
    which no real board can (and the loader refuses), so the simulator's sensor-frame gyro turned the
    wrong way about the gravity it reported. Its map follows from a mounting, as a real board's."""
    tree = ast.parse((ROOT / "firmware" / "sim" / "run.py").read_text())  # (tests/firmware/sim_central.py reads it so too)
    board = ast.literal_eval(next(n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SIM_BOARD"))
    mount = board["mounting"]
    assert board["imu"]["axis_map"] == boards.axis_map_from_mounting(mount["sensor_x"], mount["sensor_y"])
    assert _det(board["imu"]["axis_map"]) == -1


def _write_broken(tmp_path: Path, board_id: str, mutate: Any) -> Path:
    doc = copy.deepcopy(_raw(board_id))
    mutate(doc)
    path = tmp_path / f"{doc['id']}.json"
    path.write_text(json.dumps(doc))
    return path


def _refused(path: Path, field: str | None, words: str) -> None:
    """Loading ``path`` is refused naming ``field``, with ``words`` in the message."""
    with pytest.raises(InputError) as err:
        boards.load_path(path, ROOT)
    assert err.value.field == field
    assert words in str(err.value)


@pytest.mark.parametrize(
    "mutate,field,words",
    [
        (lambda d: d["imu"].__setitem__("axis_map", {"x": "+y", "y": "-x", "z": "+z"}), "imu.axis_map", "does not follow"),
        (lambda d: d["imu"]["i2c"].__setitem__("sda", d["imu"]["i2c"]["scl"]), "imu.i2c.sda", "GPIO"),
        (lambda d: d["imu"].__setitem__("part", "bmi270"), "imu.part", "is not one of"),
        (lambda d: d["imu"].__setitem__("i2c_address", 300), "imu.i2c_address", "maximum"),
        (lambda d: d["power"].__setitem__("active_ms_per_batch", 500), "power.active_ms_per_batch", "below batch_ms"),
        (lambda d: d.pop("mounting"), None, "'mounting' is a required property"),
        # Found by the hardware audit: a divider the ADC cannot read, or a pin it cannot read on.
        # Undivided, a full cell (4200 mV) is above the C3's 2500 mV range at 11 dB.
        (lambda d: d["battery"].__setitem__("divider_ratio", 1.0), "battery.divider_ratio", "outside the esp32c3 ADC's 0-2500 mV"),
        (lambda d: d["battery"].__setitem__("adc_pin", 5), "battery.adc_pin", "GPIO5 is not an ADC1 pin of the esp32c3"),
    ],
)
def test_broken_definitions_are_refused_naming_the_field(
    tmp_path: Path, mutate: Any, field: str | None, words: str
) -> None:
    path = _write_broken(tmp_path, "xiao-esp32c3-lsm6dsox", mutate)
    _refused(path, field, words)
    _refused(path, field, str(path))


@pytest.mark.parametrize(
    "board_id,mutate,field,words",
    [
        # Found by the hardware review: the schema takes GPIO0-48 on every MCU, so a pin the chip lacks,
        # one its flash or USB console is on, an input-only one asked to drive, or an I2C controller it
        # lacks, loaded and flashed "all verified"; on the band machine.Pin / machine.I2C raised in
        # main.py before its crash handler (the REPL, no crash.txt), or the flash or USB lost its pin.
        ("xiao-esp32c3-lsm6dsox", lambda d: d["imu"].__setitem__("int_pin", 25), "imu.int_pin", "the esp32c3 has no GPIO25"),
        ("xiao-esp32c3-lsm6dsox", lambda d: d["imu"]["i2c"].__setitem__("sda", 18), "imu.i2c.sda", "GPIO18 is the esp32c3's USB"),
        ("xiao-esp32c3-lsm6dsox", lambda d: d["imu"]["i2c"].__setitem__("scl", 14), "imu.i2c.scl", "GPIO14 is the esp32c3's SPI flash"),
        ("xiao-esp32c3-lsm6dsox", lambda d: d["imu"]["i2c"].__setitem__("id", 1), "imu.i2c.id", "the esp32c3 has I2C 0 only: set imu.i2c.id to 0"),
        ("xiao-esp32s3-lsm6ds3", lambda d: d["imu"]["i2c"].__setitem__("scl", 20), "imu.i2c.scl", "GPIO20 is the esp32s3's USB"),
        ("xiao-esp32s3-lsm6ds3", lambda d: d["imu"].__setitem__("int_pin", 30), "imu.int_pin", "GPIO30 is the esp32s3's SPI flash"),
        ("m5stack-atoms3", lambda d: d["imu"]["i2c"].__setitem__("sda", 23), "imu.i2c.sda", "the esp32s3 has no GPIO23"),
        ("m5stickc-plus2", lambda d: d["imu"]["i2c"].__setitem__("sda", 39), "imu.i2c.sda", "GPIO39 of the esp32 is input only"),
        ("m5stickc-plus2", lambda d: d.__setitem__("power_hold_pin", 36), "power_hold_pin", "GPIO36 of the esp32 is input only"),
        ("m5stickc-plus2", lambda d: d["led"].__setitem__("pin", 34), "led.pin", "GPIO34 of the esp32 is input only"),
        ("m5stickc-plus2", lambda d: d["buzzer"].__setitem__("pin", 9), "buzzer.pin", "GPIO9 is the esp32's SPI flash"),
        ("m5stickc-plus2", lambda d: d["buzzer"].__setitem__("pin", 29), "buzzer.pin", "the esp32 has no GPIO29"),
        ("m5stickc-plus2", lambda d: d["led"].__setitem__("pin", 20), "led.pin", "the esp32 has no GPIO20"),
        ("m5stickc-plus2", lambda d: d["led"].__setitem__("pin", 16), "led.pin", "GPIO16 is the esp32's SPI flash"),
        ("m5stack-atoms3", lambda d: d["imu"]["i2c"].__setitem__("scl", 35), "imu.i2c.scl", "GPIO35 is the esp32s3's SPI flash"),
        # Found by the pin review: the classic ESP32 has no native USB; its port is UART0 (GPIO1 TX,
        # GPIO3 RX) through the board's USB-UART bridge, and a pin there took the REPL from under
        # spasmwatch flash as GPIO18/19 do on a C3.
        ("m5stickc-plus2", lambda d: d["imu"]["i2c"].__setitem__("sda", 1), "imu.i2c.sda", "GPIO1 is the esp32's UART0"),
        ("m5stickc-plus2", lambda d: d["imu"].__setitem__("int_pin", 3), "imu.int_pin", "GPIO3 is the esp32's UART0"),
        # Found by the pin review: the C3's GPIO11 pad is VDD_SPI, the flash's supply, and a GPIO only
        # once the VDD_SPI_AS_GPIO eFuse is burnt (ESP-IDF soc/esp32c3 io_mux_reg.h: IO_MUX_GPIO11_REG is
        # PERIPHS_IO_MUX_VDD_SPI_U; efuse/esp32c3/esp_efuse_table.csv); MicroPython takes Pin(11), and an
        # INT or I2C line there goes nowhere on a stock chip.
        ("xiao-esp32c3-lsm6dsox", lambda d: d["imu"].__setitem__("int_pin", 11), "imu.int_pin", "GPIO11 is the esp32c3's VDD_SPI"),
        # Found by the pin review: an I2C line is pulled up, and held high at reset the flash-voltage
        # strap picks 1.8 V: a 3.3 V flash does not boot (ESP-IDF api-guides/jtag-debugging/
        # tips-and-quirks.rst, the ESP32's MTDI/GPIO12; api-guides/external-ram.rst, the S3's GPIO45).
        ("m5stickc-plus2", lambda d: d["imu"]["i2c"].__setitem__("sda", 12), "imu.i2c.sda", "GPIO12 is the esp32's flash-voltage strap"),
        ("m5stack-atoms3", lambda d: d["imu"]["i2c"].__setitem__("scl", 45), "imu.i2c.scl", "GPIO45 is the esp32s3's flash-voltage strap"),
        # Found by the hardware review: the IMU's INT1 is a push-pull output, low while idle (active
        # high by default), and on the boot-mode strap (ESP32 and ESP32-S3 GPIO0, ESP32-C3 GPIO9: the
        # XIAO ESP32C3's D9 and BOOT button) held low at reset it starts the ROM's download mode, not
        # the firmware (esptool docs/en/advanced-topics/boot-mode-selection.rst).
        ("xiao-esp32c3-lsm6dsox", lambda d: d["imu"].__setitem__("int_pin", 9), "imu.int_pin", "GPIO9 is the esp32c3's boot-mode strap"),
        ("xiao-esp32s3-lsm6ds3", lambda d: d["imu"].__setitem__("int_pin", 0), "imu.int_pin", "GPIO0 is the esp32s3's boot-mode strap"),
        ("m5stickc-plus2", lambda d: d["imu"].__setitem__("int_pin", 0), "imu.int_pin", "GPIO0 is the esp32's boot-mode strap"),
    ],
)
def test_a_pin_the_boards_mcu_cannot_use_so_is_refused(
    tmp_path: Path, board_id: str, mutate: Any, field: str, words: str
) -> None:
    _refused(_write_broken(tmp_path, board_id, mutate), field, words)


def _free(pins: list[int], **wiring: Any) -> Any:
    """A mutation: the board's module gives ``pins`` (none: no module_free_pins); each ``wiring``
    item is a field (double underscores for nesting: led__pin) set to a pin."""

    def mutate(d: dict[str, Any]) -> None:
        if pins:
            d["module_free_pins"] = pins
        for field, pin in wiring.items():
            *path, leaf = field.split("__")
            node = d
            for key in path:
                node = node[key]
            node[leaf] = pin

    return mutate


@pytest.mark.parametrize(
    "board_id,mutate",
    [
        # Found by the pin review: the tables refused, for every module, pins only some modules take.
        # ESP32 GPIO16/17 are PSRAM on a WROVER and free GPIOs on an ESP32-WROOM-32 (ESP-IDF
        # esp_psram_impl_quad.c: D0WD_PSRAM_CS_IO 16, CLK 17; MicroPython's machine_pin.h drops
        # them only #if CONFIG_SPIRAM, not in the ESP32_GENERIC image).
        ("m5stickc-plus2", _free([16, 17], led__pin=16, buzzer__pin=17)),
        # GPIO20: the ESP32-PICO-V3 packages have the pad (ESP-IDF soc/esp32/gpio_periph.c) and
        # MicroPython's machine.Pin takes it (machine_pin.h: MICROPY_HW_ENABLE_GPIO20).
        ("m5stickc-plus2", _free([20], buzzer__pin=20)),
        # ESP32-S3 GPIO33-37: SPIIO4-7/DQS only with octal flash or PSRAM (gpio/esp32s3.inc: "on boards
        # embedded with ESP32-S3R8 / ESP32-S3R8V chip"); MicroPython takes them #if !CONFIG_SPIRAM_MODE_OCT.
        ("m5stack-atoms3", _free([33, 35], imu__i2c__scl=35, imu__i2c__sda=33)),
        # The C3's GPIO11 on a chip whose VDD_SPI_AS_GPIO eFuse is burnt.
        ("xiao-esp32c3-lsm6dsox", _free([11], imu__int_pin=11)),
        # An I2C line on the flash-voltage strap of a chip whose flash voltage is set in eFuse.
        ("m5stickc-plus2", _free([12], imu__i2c__sda=12)),
    ],
)
def test_a_pin_the_boards_module_gives_may_be_used_once_listed(tmp_path: Path, board_id: str, mutate: Any) -> None:
    """Old code: refused ("GPIO16 is the esp32's SPI flash and PSRAM: no other use"), and the schema
    had no way to say the module gives the pin."""
    boards.load_path(_write_broken(tmp_path, board_id, mutate), ROOT)


@pytest.mark.parametrize(
    "board_id,mutate,field,words",
    [
        # Unlisted, a module pin is refused, and the message says how to list it.
        ("m5stickc-plus2", _free([], led__pin=16), "led.pin", "add 16 to module_free_pins"),
        ("m5stickc-plus2", _free([], buzzer__pin=20), "buzzer.pin", "add 20 to module_free_pins"),
        ("m5stack-atoms3", _free([], imu__i2c__scl=36), "imu.i2c.scl", "add 36 to module_free_pins"),
        # Only those: a pin every module takes, no pad has, or can only sense is never freed.
        ("m5stickc-plus2", _free([9]), "module_free_pins", "GPIO9 is not one a module can give the esp32"),
        ("m5stickc-plus2", _free([36]), "module_free_pins", "GPIO36 is not one a module can give the esp32"),
        ("m5stickc-plus2", _free([3]), "module_free_pins", "GPIO3 is not one a module can give the esp32"),
        ("m5stack-atoms3", _free([30]), "module_free_pins", "GPIO30 is not one a module can give the esp32s3 (GPIO33-37, 45)"),
        ("xiao-esp32c3-lsm6dsox", _free([18]), "module_free_pins", "GPIO18 is not one a module can give the esp32c3 (GPIO11)"),
    ],
)
def test_module_free_pins_frees_only_what_a_module_can_give(
    tmp_path: Path, board_id: str, mutate: Any, field: str, words: str
) -> None:
    _refused(_write_broken(tmp_path, board_id, mutate), field, words)


# The header pins each shipped board's vendor documents for the builder (espressif/arduino-esp32
# variants/<board>/pins_arduino.h: XIAO_ESP32C3 and XIAO_ESP32S3 D0-D10, m5stack_stickc_plus2 and
# m5stack_atoms3 G*), by what the pin can do there: drive, sense only (ESP32 GPIO34-39), or drive once
# the module is listed as giving it (the AtomS3's G36/G37: its ESP32-S3 has no octal PSRAM on them).
# Left out on purpose: the PLUS2 variant's G9/G10, its ESP32-PICO-V3-02's PSRAM CS and CLK (ESP-IDF
# esp_psram_impl_quad.c PICO_V3_02_PSRAM_CS_IO 9, _CLK_IO 10), and its TX/RX G1/G3, the REPL's UART0.
VENDOR_PINS: dict[str, dict[str, list[int]]] = {
    "xiao-esp32c3-lsm6dsox": {"drive": [2, 3, 4, 5, 6, 7, 21, 20, 8, 9, 10]},
    "xiao-esp32s3-lsm6ds3": {"drive": [1, 2, 3, 4, 5, 6, 43, 44, 7, 8, 9, 21]},
    "m5stickc-plus2": {"drive": [0, 25, 26, 32, 33], "sense": [35, 36, 37, 39]},
    "m5stack-atoms3": {"drive": [0, 1, 2, 3, 4, 5, 6, 7, 8, 38, 39, 40, 42], "module": [36, 37]},
}


def _board_pins(b: dict[str, Any]) -> set[int]:
    """Every pin the definition already uses."""
    pins = {b["imu"]["i2c"]["sda"], b["imu"]["i2c"]["scl"], b["imu"]["int_pin"], b.get("power_hold_pin")}
    pins |= {b[k]["pin"] for k in ("led", "buzzer") if b[k]} | ({b["battery"]["adc_pin"]} if b["battery"] else set())
    return {p for p in pins if p is not None}


def _vendor_cases() -> list[tuple[str, str, int]]:
    return [
        (board_id, use, pin)
        for board_id, uses in VENDOR_PINS.items()
        for use, pins in uses.items()
        for pin in pins
        if pin not in _board_pins(_raw(board_id))
    ]


@pytest.mark.parametrize("board_id,use,pin", _vendor_cases())
def test_every_header_pin_the_vendor_documents_is_accepted(tmp_path: Path, board_id: str, use: str, pin: int) -> None:
    """A wrong refusal keeps a builder from flashing a board that works: each documented header pin of a
    shipped board loads as the LED (driven) or the IMU's INT (sensed); a module pin once listed."""

    def mutate(d: dict[str, Any]) -> None:
        if use == "sense":
            d["imu"]["int_pin"] = pin
        else:
            d["led"] = {"pin": pin, "active_low": False}
        if use == "module":
            d["module_free_pins"] = [pin]

    boards.load_path(_write_broken(tmp_path, board_id, mutate), ROOT)


def test_an_input_only_pin_may_sense() -> None:
    """The M5StickC PLUS2 senses its cell on GPIO38, input only on the ESP32: reading is all it does there."""
    b = _raw("m5stickc-plus2")
    assert b["mcu"] == "esp32" and b["battery"]["adc_pin"] in boards.INPUT_ONLY["esp32"]
    boards.load("m5stickc-plus2", ROOT)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: p.mkdir(), "cannot read the board definition: Is a directory"),
        (lambda p: p.write_bytes(b"\xff\xfe{}"), "not a UTF-8 text file (invalid start byte at byte 0)"),
    ],
)
def test_a_board_file_that_cannot_be_read_as_text_is_named(tmp_path: Path, make: Any, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the engineer's audit: 'spasmwatch flash --board hardware/boards/' ended in a traceback
    (IsADirectoryError: [Errno 21] Is a directory), and so did a board file that is not text
    (UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff)."""
    path = tmp_path / "mine.json"
    make(path)
    with pytest.raises(InputError, match=re.escape(f"{path}: {words}")):
        boards.load_path(path, ROOT)
    assert cli.main(["flash", "--board", str(path), "--port", f"unix:{tmp_path / 'band'}"]) == 2
    assert f"spasmwatch flash: error: {path}: {words}" in capsys.readouterr().err
    assert not (tmp_path / "band").exists(), "refused before the band was reached"


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(_raw("m5stickc-plus2")))
    with pytest.raises(InputError, match="differs from the file name"):
        boards.load_path(path, ROOT)


def _readme_board_claims(b: dict[str, Any]) -> list[str]:
    """What hardware/README.md's "Supported boards" row must say about a board, from its JSON."""
    imu = b["imu"]
    # The part by name (found by the hardware review: a row could name another part than the one
    # the band's driver is picked for; "LSM6DS3" in "LSM6DS3TR-C").
    claims = [imu["part"].upper(), f"0x{imu['i2c_address']:02X}", f"SDA GPIO{imu['i2c']['sda']} / SCL GPIO{imu['i2c']['scl']}"]
    if imu["int_pin"] is not None:
        claims.append(f"INT1 GPIO{imu['int_pin']}")
    batt = b["battery"]
    if batt:
        claims.append(f"{batt['capacity_mah']} mAh, sense GPIO{batt['adc_pin']} (÷{batt['divider_ratio']:g})")
    else:
        claims.append("none (USB powered)")
    if b.get("power_hold_pin") is not None:
        claims.append(f"hold GPIO{b['power_hold_pin']}")
    led = f"GPIO{b['led']['pin']}" + (" (active low)" if b["led"]["active_low"] else "") if b["led"] else "-"
    buzzer = f"GPIO{b['buzzer']['pin']}" if b["buzzer"] else "-"
    claims.append(f"| {led} / {buzzer} |")
    return claims


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_readme_supported_boards_row_is_the_definition(board_id: str) -> None:
    """The pins, address and battery the README lists are the ones the band is flashed with."""
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith(f"| `{board_id}` |")]
    assert len(rows) == 1, f"hardware/README.md: one 'Supported boards' row for {board_id}"
    b = _raw(board_id)
    assert f"| {b['mcu'].upper().replace('ESP32', 'ESP32-').rstrip('-')}" in rows[0], rows[0]
    for claim in _readme_board_claims(b):
        assert claim in rows[0], f"hardware/README.md row for {board_id} lacks {claim!r}: {rows[0]}"


# XIAO pin names -> GPIO (Seeed wiki pin lists; XIAO ESP32C3 also
# microsoft.github.io/devicescript/devices/esp32/seeed-xiao-esp32c3): D4/D5 are the I2C pins.
XIAO_GPIO = {"esp32c3": {"D1": 3, "D2": 4, "D4": 6, "D5": 7}, "esp32s3": {"D1": 2, "D2": 3, "D4": 5, "D5": 6}}


@pytest.mark.parametrize("board_id", [i for i in BOARD_IDS if i.startswith("xiao-")])
def test_xiao_wiring_is_on_the_pins_the_readme_names(board_id: str) -> None:
    """The JSON's GPIOs are the XIAO pins the wiring section tells a builder to solder to."""
    b = _raw(board_id)
    pins = XIAO_GPIO[b["mcu"]]
    wired = {"D4": b["imu"]["i2c"]["sda"], "D5": b["imu"]["i2c"]["scl"], "D2": b["imu"]["int_pin"], "D1": b["battery"]["adc_pin"]}
    assert wired == pins, f"{board_id}: the JSON's pins are not XIAO D4 (SDA), D5 (SCL), D2 (INT1), D1 (divider)"
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    for name, gpio in pins.items():
        assert f"{name} / GPIO{gpio} |" in readme or f"{name}/GPIO{gpio} (" in readme, f"hardware/README.md wiring: {name} / GPIO{gpio}"


MCU_NAMES = {"esp32c3": "ESP32-C3", "esp32s3": "ESP32-S3", "esp32": "ESP32"}


def _flat(path: Path) -> str:
    """A doc with its line breaks and runs of spaces as single spaces (its sentences wrap)."""
    return " ".join(path.read_text(encoding="utf-8").split())


def _band(name: str) -> ModuleType:
    """``band.<name>`` on CPython, for its constants (battery, config import nothing MicroPython's
    own). The firmware is not installed (only swcore is): its folder is appended to the path, as
    tests/firmware's band_module does. These tests passed only where a firmware test had run first
    in the same worker."""
    if str(ROOT / "firmware") not in sys.path:
        sys.path.append(str(ROOT / "firmware"))
    return importlib.import_module(f"band.{name}")


def test_bringup_battery_check_is_the_recommended_builds_sense_and_thresholds() -> None:
    """hardware/BRINGUP.md's battery-sense lines rebuild the band's reading by hand: the pin, divider
    and cell range are the recommended definition's (what main.py passes), and the voltages it gives
    for critical and for sensing again are where band/battery.py's curve puts them. Found by the
    hardware review: nothing tied them, so a new pin or curve would leave a builder checking another."""
    battery, DEFAULTS = _band("battery"), _band("config").DEFAULTS
    from swcore import wire

    batt = _raw("xiao-esp32c3-lsm6dsox")["battery"]
    doc = _flat(ROOT / "hardware" / "BRINGUP.md")
    assert f"a = machine.ADC(machine.Pin({batt['adc_pin']}))" in doc
    assert f"AdcBattery(a, {batt['divider_ratio']:.1f}, {batt['empty_mv']}, {batt['full_mv']})" in doc
    assert f"on D1 / GPIO{batt['adc_pin']}" in doc
    crit = re.search(r"at (\d\.\d\d) V `percent` is (\d+) \(`CRITICAL_PCT`\)", doc)
    again = re.search(r"once raised to (\d\.\d\d) V \((\d+) %\)", doc)
    assert crit and again, "hardware/BRINGUP.md: the critical-battery check is gone"
    resume = DEFAULTS[wire.CFG_LOW_BATTERY_PCT] + battery.CLEAR_MARGIN_PCT  # band/app.py _check_battery
    assert int(crit.group(2)) == battery.CRITICAL_PCT and int(again.group(2)) == resume
    assert battery.percent(round(float(crit.group(1)) * 1000), batt["empty_mv"], batt["full_mv"]) == battery.CRITICAL_PCT
    assert battery.percent(round(float(again.group(1)) * 1000), batt["empty_mv"], batt["full_mv"]) == resume
    # What the reading's tolerance means in charge, where the curve is flattest and near empty: the
    # old text said "±4 %" where ±40 mV at 3.80 V is 37-60 %.
    tol = re.search(r"within ±(\d+) mV of it", doc)
    assert tol, "hardware/BRINGUP.md: the battery reading's tolerance is gone"
    for volts in ("3.80", "3.50"):
        mv = round(float(volts) * 1000)
        lo, mid, hi = (battery.percent(mv + d * int(tol.group(1)), batt["empty_mv"], batt["full_mv"]) for d in (-1, 0, 1))
        assert f"at {volts} V {lo}-{hi} % around its {mid} %" in doc, f"hardware/BRINGUP.md: at {volts} V {lo}-{hi} % around its {mid} %"


def test_budget_figures_quoted_outside_the_table_are_the_computed_ones() -> None:
    """The as-shipped draw and runtimes the safety section, the bring-up list, docs/firmware.md and
    band/battery.py quote are the budget's (the table and the worked example have their own tests).
    Found by the hardware review: these copies had no test, so a new board number left them behind."""
    battery, DEFAULTS = _band("battery"), _band("config").DEFAULTS
    from swcore import wire

    xiao = power.budget(boards.load("xiao-esp32c3-lsm6dsox", ROOT), "as shipped")
    stick = power.budget(boards.load("m5stickc-plus2", ROOT), "as shipped")
    assert xiao.runtime_h is not None
    cell_mv = _raw("xiao-esp32c3-lsm6dsox")["power"]["supply_mv"]
    readme = _flat(ROOT / "hardware" / "README.md")
    watts = xiao.battery_ma * cell_mv / 1e6
    assert f"about {watts:.1f} W into heat ({xiao.battery_ma:.1f} mA from a {cell_mv / 1000:g} V cell, as shipped)" in readme
    bringup = _flat(ROOT / "hardware" / "BRINGUP.md")
    low = DEFAULTS[wire.CFG_LOW_BATTERY_PCT]
    p = _raw("xiao-esp32c3-lsm6dsox")
    usable = p["battery"]["capacity_mah"] * p["power"]["usable_capacity"]
    to_low = usable * (100 - low) / 100 / xiao.battery_ma
    assert (
        f"estimates {xiao.runtime_h:.1f} h full to empty as shipped on the recommended {p['battery']['capacity_mah']} mAh cell, "
        f"so {to_low:.1f} h to {low} %: {100 - low} % of the usable {usable:g} mAh at {xiao.battery_ma:.2f} mA"
    ) in bringup
    for b in (stick, xiao):
        cap = boards.load(b.board_id, ROOT)["battery"]["capacity_mah"]
        left = cap * battery.CRITICAL_PCT / 100
        said = f"{left:g} of {cap} mAh at {b.battery_ma:.1f} mA, {left / b.battery_ma * 60:.0f} min"
        assert said in _flat(ROOT / "docs" / "firmware.md"), f"docs/firmware.md: {said!r}"
    comment = _flat(ROOT / "firmware" / "band" / "battery.py")
    assert f"at its {stick.battery_ma:.1f} mA" in comment and f"at {xiao.battery_ma:.1f} mA" in comment


def test_readme_adc_ranges_are_the_ones_a_board_is_checked_against() -> None:
    """The wiring section's ADC input ranges and the recommended build's divided cell are what
    boards.py enforces (ESP-IDF adc.rst, ADC_ATTEN_DB_11) and what its definition gives: a builder
    choosing a divider from the README gets one the loader accepts."""
    readme = " ".join((ROOT / "hardware" / "README.md").read_text(encoding="utf-8").split())
    ranges = ", ".join(f"{MCU_NAMES[m]} {lo}-{hi} mV" for m, (lo, hi) in boards.ADC_RANGE_MV.items())
    listed = re.search(r"at the 11 dB attenuation the firmware sets \(([^)]*)\)", readme)
    assert listed is not None, "hardware/README.md: the ADC ranges sentence is gone"
    assert sorted(listed.group(1).split(", ")) == sorted(ranges.split(", ")), listed.group(1)
    batt = _raw("xiao-esp32c3-lsm6dsox")["battery"]
    pin = f"{batt['empty_mv'] / batt['divider_ratio']:.0f}-{batt['full_mv'] / batt['divider_ratio']:.0f} mV here"
    assert pin in readme, f"hardware/README.md: the divided cell should read {pin!r}"
    lo, hi = boards.ADC_RANGE_MV["esp32c3"]
    assert lo <= batt["empty_mv"] / batt["divider_ratio"] and batt["full_mv"] / batt["divider_ratio"] <= hi


def test_readme_power_budget_is_the_computed_one() -> None:
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    section = power.readme_section(ROOT)
    assert section in readme, (
        "hardware/README.md power budget is stale: run python -m spasmwatch.hardware.power --write-readme"
    )


def test_write_readme_says_unchanged_when_the_budget_is_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an audit: '--write-readme' printed 'updated hardware/README.md' when nothing in it
    changed. On a copy of hardware/: unchanged (the file not rewritten), then updated after an edit."""
    import shutil

    shutil.copytree(ROOT / "hardware", tmp_path / "hardware")
    monkeypatch.setenv("SPASMWATCH_ROOT", str(tmp_path))
    readme = tmp_path / "hardware" / "README.md"
    before = readme.stat().st_mtime_ns, readme.read_bytes()
    assert power.main(["--write-readme"]) == 0
    assert capsys.readouterr().out == f"unchanged {readme} (its power budget is the computed one)\n"
    assert (readme.stat().st_mtime_ns, readme.read_bytes()) == before
    board = tmp_path / "hardware" / "boards" / f"{BOARD_IDS[0]}.json"
    doc = json.loads(board.read_text())
    doc["power"]["imu_ma"] += 0.25
    board.write_text(json.dumps(doc, indent=2) + "\n")
    assert power.main(["--write-readme"]) == 0
    assert capsys.readouterr().out == f"updated {readme}\n"
    assert readme.read_bytes() != before[1] and power.readme_section(tmp_path) in readme.read_text(encoding="utf-8")


def test_readme_names_the_firmwares_duty_left_out_of_the_budget_at_its_values() -> None:
    """The paragraph on what the budget leaves out (status, epochs, battery reads, bias writes,
    advertising) gives the firmware's periods. Found by the hardware review: nothing tied them, so a
    faster status or advertising interval would leave the README calling it small."""
    battery, DEFAULTS = _band("battery"), _band("config").DEFAULTS
    from swcore import wire

    fw = ROOT / "firmware"
    ble = ast.parse((fw / "band" / "ble.py").read_text(encoding="utf-8"))
    adv = next(n for n in ast.walk(ble) if isinstance(n, ast.FunctionDef) and n.name == "advertise")
    adv_us = adv.args.defaults[-1]
    assert isinstance(adv_us, ast.Constant) and adv.args.args[-1].arg == "interval_us"
    reads = re.search(r"for _ in range\((\d+)\):\s+s \+= self\._adc\.read_uv\(\)", (fw / "band" / "battery.py").read_text(encoding="utf-8"))
    assert reads, "band/battery.py: read_mv no longer averages read_uv() in a loop"
    status_s = DEFAULTS[wire.CFG_STATUS_PERIOD_S]
    assert constant(fw, "swcore/consts.py", "EPOCH_MS") == status_s * 1000, "the README says both come every 10 s"
    save_min = int(str(constant(fw, "band/biasstore.py", "_SAVE_MS"))) / 60000
    readme = " ".join((ROOT / "hardware" / "README.md").read_text(encoding="utf-8").split())
    for said in (
        f"an ACTIVITY record every {status_s} s (`status_period_s` default, `EPOCH_MS`)",
        f"cell is read ({reads.group(1)} ADC conversions) at least every {battery.READ_MS // 1000} s (`READ_MS`",
        f"the gyro bias at most every {save_min:g} min",
        f"advertises every {adv_us.value // 1000} ms (`band/ble.py`)",
        f"`batch_ms` = {constant(fw, 'band/app.py', '_BATCH_MS')} ms (`_BATCH_MS`",
    ):
        assert said in readme, f"hardware/README.md: {said!r}"


def _gap_calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr.startswith("gap_")}


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_power_budget_takes_the_firmwares_batching_and_the_centrals_interval(board_id: str) -> None:
    """The budget's duty cycle is the sampler's, and its connection interval the one the band gets."""
    p = _raw(board_id)["power"]
    assert p["batch_ms"] == constant(ROOT / "firmware", "band/app.py", "_BATCH_MS")
    # The band cannot ask for an interval (it only advertises and disconnects): the central's
    # shortest default it is. A band that learns to ask must change this test and the budget.
    band = [*(ROOT / "firmware" / "band").glob("*.py"), ROOT / "firmware" / "main.py"]
    calls = set().union(*(_gap_calls(f) for f in band))
    assert calls <= {"gap_advertise", "gap_disconnect"}, f"the band now calls {calls}: update the power budget"
    assert p["ble_conn_interval_ms"] == power.CENTRAL_CONN_INTERVAL_MS[0]
    assert p["ble_conn_interval_target_ms"] > p["ble_conn_interval_ms"]


# MCU currents (mA) at 160 MHz, the ESP-IDF default CPU clock (esp_system/port/soc/<chip>/Kconfig.cpu)
# that MicroPython's ESP32_GENERIC, _C3 and _S3 images keep: (running, idle, light sleep).
# ESP32-C3 and -S3 datasheets, "Current Consumption in Modem-sleep Mode", all peripheral clocks
# disabled: C3 CPU running 23 / idle 16, S3 one core running 39.9 / WAITI 27.6; light sleep 130 /
# 240 uA. The ESP32 datasheet gives 27-44 mA at 160 MHz: its ends, and light sleep 0.8 mA.
DATASHEET_MCU_MA_160MHZ = {"esp32c3": (23.0, 16.0, 0.13), "esp32s3": (39.9, 27.6, 0.24), "esp32": (44.0, 27.0, 0.8)}


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_mcu_currents_are_the_datasheets_at_the_clock_the_band_runs(board_id: str) -> None:
    b = _raw(board_id)
    p = b["power"]
    for path in [*(ROOT / "firmware" / "band").glob("*.py"), ROOT / "firmware" / "main.py"]:
        assert "freq(" not in path.read_text(encoding="utf-8"), f"{path} sets the CPU clock: update the power budget"
    assert (p["mcu_active_ma"], p["mcu_idle_ma"], p["mcu_light_sleep_ma"]) == DATASHEET_MCU_MA_160MHZ[b["mcu"]]


def test_readme_states_the_recommended_builds_computed_runtime() -> None:
    b = boards.load("xiao-esp32c3-lsm6dsox", ROOT)
    base = power.budget(b, "as shipped")
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    assert base.runtime_h is not None
    assert f"/ {base.battery_ma:.2f} mA = {base.runtime_h:.1f} h" in readme, "hardware/README.md: the worked example is stale"


def test_readme_states_the_recommended_builds_runtime_with_every_clock_on() -> None:
    """The budget takes the C3's modem-sleep currents with every peripheral clock off; the README
    gives the datasheet's "all enabled" column too and what it makes of the night. Found by the
    hardware review: the README called the runtimes upper bounds and gave no lower one."""
    readme = " ".join((ROOT / "hardware" / "README.md").read_text(encoding="utf-8").split())
    col = re.search(r'the C3\'s "all enabled" column: ([\d.]+) / ([\d.]+) mA', readme)
    assert col, "hardware/README.md: the all-enabled currents are gone"
    b = copy.deepcopy(boards.load("xiao-esp32c3-lsm6dsox", ROOT))
    b["power"]["mcu_active_ma"], b["power"]["mcu_idle_ma"] = float(col.group(1)), float(col.group(2))
    low = power.budget(b, "as shipped")
    assert low.runtime_h is not None
    assert f"the recommended build draws {low.battery_ma:.2f} mA as shipped, {low.runtime_h:.1f} h" in readme


def test_readme_states_what_the_fast_rate_costs() -> None:
    """The README's figures for rate_hz = 104 are the budget with twice the busy time per batch
    (twice the samples in each _BATCH_MS): found by the hardware review, the table held only
    the default rate while the config offers the double."""
    b = boards.load("xiao-esp32c3-lsm6dsox", ROOT)
    fast = copy.deepcopy(b)
    fast["power"]["active_ms_per_batch"] *= 2
    readme = " ".join((ROOT / "hardware" / "README.md").read_text(encoding="utf-8").split())
    p = fast["power"]
    idle_ms = p["batch_ms"] - p["active_ms_per_batch"]
    mcu = power.budget(fast, "as shipped").mcu_ma
    assert f"{p['active_ms_per_batch']:g}/{p['batch_ms']} × {p['mcu_active_ma']:g} + {idle_ms:g}/{p['batch_ms']} × {p['mcu_idle_ma']:g} = {mcu:.2f} mA" in readme
    for mode in power.MODES:
        was, now = power.budget(b, mode), power.budget(fast, mode)
        assert was.runtime_h and now.runtime_h
        assert f"{now.battery_ma:.2f} mA" in readme and f"({now.runtime_h:.1f} h, from {was.runtime_h:.1f} h)" in readme, mode


def test_power_budget_responds_to_the_board_numbers() -> None:
    b = boards.load("xiao-esp32c3-lsm6dsox", ROOT)
    base = power.budget(b, "as shipped")
    sleepy = power.budget(b, "light sleep")
    assert sleepy.battery_ma < base.battery_ma and sleepy.runtime_h and base.runtime_h
    assert sleepy.runtime_h > base.runtime_h
    slow = power.budget(b, "light sleep, slow link")
    assert slow.mcu_ma == sleepy.mcu_ma
    p = b["power"]
    assert slow.ble_ma == pytest.approx(sleepy.ble_ma * p["ble_conn_interval_ms"] / p["ble_conn_interval_target_ms"])
    bigger = copy.deepcopy(b)
    bigger["battery"]["capacity_mah"] *= 2
    assert power.budget(bigger, "as shipped").runtime_h == pytest.approx(2 * base.runtime_h)
    slower = copy.deepcopy(b)
    slower["power"]["ble_conn_interval_ms"] *= 2
    assert power.budget(slower, "as shipped").ble_ma == pytest.approx(base.ble_ma / 2)
    usb = power.budget(boards.load("m5stack-atoms3", ROOT), "as shipped")
    assert usb.runtime_h is None



def test_power_budget_counts_the_psram_a_spiram_image_keeps_the_heap_in() -> None:
    """Review h46: the M5StickC PLUS2 runs the SPIRAM image, its heap in PSRAM all night; the budget
    left the PSRAM's standby current out. It is in the static draw, for every mode."""
    plus2 = boards.load("m5stickc-plus2", ROOT)
    assert plus2["micropython_variant"] == "SPIRAM" and plus2["power"]["psram_ma"] > 0
    without = copy.deepcopy(plus2)
    del without["power"]["psram_ma"]
    for mode in power.MODES:
        b, w = power.budget(plus2, mode), power.budget(without, mode)
        assert b.static_ma == pytest.approx(w.static_ma + plus2["power"]["psram_ma"])
        assert b.battery_ma > w.battery_ma


def fits_small_parts_cylinder(size: list[float], edge_r: float, bore: float = 31.7, depth: float = 57.1) -> bool:
    """Whether a box with rounded edges goes into the cylinder: end-on, its smallest cross-section
    (the two shorter sides, corners rounded by ``edge_r``) within the bore and its length within
    the depth. Any other orientation shows the bore a larger cross-section."""
    a, b, c = sorted(size, reverse=True)
    corner = ((b / 2 - edge_r) ** 2 + (c / 2 - edge_r) ** 2) ** 0.5 + edge_r
    return 2 * corner <= bore and a <= depth


def test_small_parts_cylinder_check() -> None:
    assert fits_small_parts_cylinder([30, 20, 10], 3)  # a box smaller than the bore
    assert not fits_small_parts_cylinder([40, 34, 12], 3)  # wider than the bore
    assert not fits_small_parts_cylinder([60, 25, 10], 3)  # longer than the cylinder is deep
    assert fits_small_parts_cylinder([44, 30, 12], 3)  # 30 x 12 with round corners goes in, 44 long
    assert not fits_small_parts_cylinder([44, 30, 16.7], 3)  # the atom pod: 32.3 mm across its corners


def test_enclosure_dimensions_cover_every_board() -> None:
    dims = json.loads((ROOT / "hardware" / "enclosure" / "dimensions.json").read_text())
    for board_id in BOARD_IDS:
        variant = _raw(board_id)["enclosure"]
        assert variant in dims["variants"], f"{board_id}: no exported dimensions for pod variant {variant!r}"
        v = dims["variants"][variant]
        outer, cavity = v["outer_mm"], v["cavity_mm"]
        assert all(o > c for o, c in zip(outer, cavity))
        # Content (boards + battery, from the .scad) fits the cavity with clearance.
        assert all(c >= k for c, k in zip(cavity, v["content_mm"]))
        # Soft edges against the skin, slots for a strap wider than it is thick.
        assert v["edge_radius_mm"] >= 2
        assert v["strap_slot_mm"][0] >= 20
        # Does not fit the small-parts test cylinder (16 CFR 1501: 31.7 mm across, 57.1 mm deep
        # at most) in any orientation: not a choking hazard as a whole.
        assert not fits_small_parts_cylinder(outer, v["edge_radius_mm"]), f"pod variant {variant} fits the cylinder"
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    for name, v in dims["variants"].items():
        row = f"| {name} | " + " × ".join(f"{x:g}" for x in v["outer_mm"])
        assert row in readme, f"hardware/README.md enclosure table is stale for {name}: expected {row!r}"


def test_readme_names_the_lid_as_a_small_part_at_its_size() -> None:
    """The choking note: the pod as a whole does not fit the small-parts cylinder, but its lid alone
    does (as do the boards and the cell), so the glue joint is what keeps it from a baby's mouth.
    Found by the hardware review: the README said only "no removable parts"; the xiao pod's lid,
    printed on its own, is 31.7 mm wide, the cylinder's bore, and 1.6 mm thick. Its size here is
    pod.scad's lid() on the exported cavity and outer size."""
    scad = (ROOT / "hardware" / "enclosure" / "pod.scad").read_text(encoding="utf-8")
    lid_t = re.search(r"^lid_t = ([\d.]+);", scad, re.M)
    gap = re.search(r"rounded_box\(\[shell\.x - wall - ([\d.]+), outer\.y - wall - \1,", scad)
    assert lid_t and gap, "pod.scad: lid_t or the lid's outline is not where this test reads it"
    v = json.loads((ROOT / "hardware" / "enclosure" / "dimensions.json").read_text())["variants"]["xiao"]
    wall, g = v["wall_mm"], float(gap.group(1))
    size = (round(v["cavity_mm"][0] + wall - g, 2), round(v["outer_mm"][1] - wall - g, 2))
    assert size[0] <= 57.1 and size[1] <= 31.7, "the lid no longer fits the cylinder: update the README's choking note"
    readme = " ".join((ROOT / "hardware" / "README.md").read_text(encoding="utf-8").split())
    said = f"lid on its own ({float(lid_t.group(1)):g} mm thick; the xiao pod's is {size[0]:g} × {size[1]:g} mm"
    assert said in readme, f"hardware/README.md: {said!r}"


# The XIAO's height (pod.scad content(): "XIAO 21 x 17.8 x 3.5 ... on 0.5 mm foam over" the cell):
# the top layer of the xiao pod's content, its USB-C on the +x edge.
XIAO_BOARD_MM = 3.5


def test_the_xiao_pods_usb_opening_is_in_front_of_the_xiaos_edge() -> None:
    """Found by the hardware review: the USB-C opening sat 1-5.5 mm above the cavity floor for every
    variant, which in the xiao pod (cell 4.75 mm, foam 0.5, then the boards) faces the cell: a plug
    met the wall 1.7 mm below the XIAO's port (an OpenSCAD probe of the old body), and the glued pod
    of the recommended build could be neither charged nor flashed. export_dimensions.py renders a
    plug's shell in the opening (it must meet nothing); this checks the opening is where the port is."""
    v = json.loads((ROOT / "hardware" / "enclosure" / "dimensions.json").read_text())["variants"]["xiao"]
    bottom, top = v["usb_opening_mm"]
    board = (v["content_mm"][2] - XIAO_BOARD_MM, v["content_mm"][2])
    assert bottom <= board[0] and top >= board[1], f"opening {bottom}-{top} mm, the XIAO's edge {board[0]}-{board[1]} mm"
    assert top <= v["cavity_mm"][2], "the opening ends under the lid"


def _options(*words: str) -> set[str]:
    import argparse

    from spasmwatch.cli import build_parser

    parser: argparse.ArgumentParser = build_parser(list(words))
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}


def test_flashing_doc_names_every_option_and_no_other() -> None:
    """docs/flashing.md against ``spasmwatch flash`` and ``board info`` (other tools' options aside)."""
    import re

    doc = (ROOT / "docs" / "flashing.md").read_text(encoding="utf-8")
    ours = re.sub(r"`(?:esptool|mpy-cross|pip|bluetoothctl)[^`]*`|systemctl --user|git config --global --add", "", doc)
    ours = re.sub(r"spasmwatch (?:config [a-z-]+|bonds)[^\n`]*", "", ours)  # the daemon's commands the flash quotes
    said = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", ours))
    known = _options("flash") | _options("board", "info")
    assert said <= known, f"docs/flashing.md names options the commands lack: {sorted(said - known)}"
    assert known <= said, f"docs/flashing.md leaves out: {sorted(known - said)}"



# Where esptool writes each chip's MicroPython image (micropython ports/esp32/boards/*/board.json,
# deploy_options.flash_offset): a classic ESP32 boots its second-stage loader from 0x1000.
FLASH_OFFSET = {"esp32c3": "0", "esp32s3": "0", "esp32": "0x1000"}


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_flashing_doc_gives_each_boards_image_and_address(board_id: str) -> None:
    b = _raw(board_id)
    doc = (ROOT / "docs" / "flashing.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("|") and f"`{board_id}`" in line]
    assert len(rows) == 1, f"docs/flashing.md: one image row for {board_id}"
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1] == f"https://micropython.org/download/{b['micropython_board']}/"
    assert cells[2] == FLASH_OFFSET[b["mcu"]]
    # The file, as the download page names it: the variant's when the board file names one (the PLUS2's SPIRAM).
    image = "-".join([b["micropython_board"]] + ([b["micropython_variant"]] if "micropython_variant" in b else []))
    assert cells[3] == f"`{image}-<date>-v<version>.bin`", f"docs/flashing.md: {board_id}'s file"


def test_the_docs_board_tables_name_no_board_there_is_no_definition_of() -> None:
    """The per-board tests find each definition's row; this finds a row left for a board whose
    definition is gone or renamed (found by the hardware review: nothing looked that way round)."""
    for doc in (ROOT / "hardware" / "README.md", ROOT / "docs" / "flashing.md"):
        # A board table's first cell holds only ids (`a`, `b`); the error tables' hold messages.
        firsts = [line.split("|")[1] for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
        rows = [cell for cell in firsts if re.fullmatch(r"\s*`[a-z0-9-]+`(,\s*`[a-z0-9-]+`)*\s*", cell)]
        named = {i for cell in rows for i in re.findall(r"`([a-z0-9-]+)`", cell)}
        assert rows and named <= set(BOARD_IDS), f"{doc}: rows for {sorted(named - set(BOARD_IDS))}"


def test_esptool_commands_in_the_docs_are_esptool_5s() -> None:
    """Found by the hardware review: docs/flashing.md taught `esptool.py ... write_flash`, esptool 4's
    names; esptool 5 (5.6 on PyPI, 2026-10) runs them with a deprecation warning and its v5 migration
    guide says the next major release drops them: `esptool ... write-flash`."""
    said = []
    for doc in [ROOT / "hardware" / "BRINGUP.md", *(ROOT / "docs").glob("*.md")]:
        said += re.findall(r"`(esptool(?:\.py)?\s[^`]*)`", doc.read_text(encoding="utf-8"))
    assert said, "no esptool command in the docs: the check reads nothing"
    old = [c for c in said if c.startswith("esptool.py") or re.search(r"\b(write|erase|read)_flash\b", c)]
    assert not old, f"esptool 4 spellings: {old}"
