"""Board definitions (``hardware/boards/<id>.json``): find, load and check them.

A definition is checked twice: against ``hardware/boards/schema.json`` (shape,
types, ranges) and against facts the schema cannot express: the id matches the
file name, pins are not shared and are ones the MCU can give (no flash, port
or missing pad unless the module gives it, listed in ``module_free_pins``;
no I2C pull-up on the flash-voltage strap, no IMU interrupt on the boot-mode
strap; nothing driven on an input-only pin; an I2C controller it has), the battery range is sane and sensed on an
ADC1 pin within the ADC's input range, and ``imu.axis_map``
follows from the documented ``mounting`` in the body frame of the design
notes (docs/engineering.md; x towards the head, y to the baby's left, z out of the
chest). Any failure is an ``InputError`` naming the file and field, so a typo
never reaches a band.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from collections.abc import Iterable
from typing import Any, NoReturn

from spasmwatch.errors import ConfigError, InputError

Board = dict[str, Any]

# Body-frame directions as (axis index, sign): x head, y left, z out of the chest.
DIRECTIONS: dict[str, tuple[int, int]] = {
    "head": (0, 1),
    "feet": (0, -1),
    "left": (1, 1),
    "right": (1, -1),
    "out": (2, 1),
    "in": (2, -1),
}
# A physical right-handed embedding of the body frame, seen from the front:
# head = up, the baby's left = the viewer's right, out of the chest = towards
# the viewer. The design's (head, left, out) frame is left-handed in it, so
# a correct axis_map from a right-handed sensor is a reflection.
_PHYSICAL: tuple[tuple[int, int, int], ...] = ((0, 1, 0), (1, 0, 0), (0, 0, 1))
# The battery sense pin per MCU: its ADC1 GPIOs (ADC2 is shared with the radio, which the band
# keeps on for BLE) and the input range (mV) at the 11 dB attenuation firmware/main.py sets.
# A divided full cell above the range reads as the range's top, an empty one below it as its
# bottom: the band would show a wrong charge and could stop sensing at "3 %" on a good cell.
# ESP-IDF v4.4 docs/en/api-reference/peripherals/adc.rst ("ADC Channels", "ADC Attenuation",
# ADC_ATTEN_DB_11 row).
ADC1_PINS: dict[str, range] = {"esp32": range(32, 40), "esp32s3": range(1, 11), "esp32c3": range(0, 5)}
ADC_RANGE_MV: dict[str, tuple[int, int]] = {"esp32": (150, 2450), "esp32s3": (0, 3100), "esp32c3": (0, 2500)}
# The pins each MCU can give a board. The schema takes GPIO0-48 on every MCU; a pin outside these was flashed
# "all verified" and the band did not monitor: machine.Pin / machine.I2C raised in main.py before its crash
# handler (the REPL, no crash.txt), or the pin was taken from the flash the firmware runs from, or the port.
# GPIOS: the pads (ESP-IDF docs/en/api-reference/peripherals/gpio/<chip>.inc, the "physical GPIO pins";
# soc/<chip>/include/soc/soc_caps.h SOC_GPIO_VALID_GPIO_MASK). The ESP32's GPIO20 is in its mask and
# MicroPython's machine.Pin takes it (ports/esp32/machine_pin.h), but only the ESP32-PICO-V3 packages have
# the pad (ESP-IDF components/soc/esp32/gpio_periph.c): elsewhere the I2C or LED on it goes nowhere.
GPIOS: dict[str, frozenset[int]] = {
    "esp32": frozenset([*range(0, 20), *range(21, 24), *range(25, 28), *range(32, 40)]),
    "esp32s3": frozenset([*range(0, 22), *range(26, 49)]),
    "esp32c3": frozenset(range(0, 22)),
}
# Taken on the modules: SPI0/1, the flash the firmware runs from and PSRAM ("SPI0/1" in the tables), and the
# port spasmwatch flash and the REPL talk over: on the C3 and S3 their native USB ("USB-JTAG"; the usb id
# in schema.json), on the ESP32, which has none, UART0 through the board's USB-UART bridge ("TXD & RXD
# are usually used for flashing and debugging"): a pin there stops the band, or its port.
_FLASH = "SPI flash and PSRAM"
_UART0 = "UART0, the port its USB-UART bridge gives spasmwatch flash"
_USB = "USB, the port spasmwatch flash talks over"
# ESP32 GPIO16/17: PSRAM on a WROVER (ESP-IDF components/esp_psram/esp32/esp_psram_impl_quad.c,
# D0WD_PSRAM_CS_IO 16, CLK 17) and in-package flash on a PICO-D4; MicroPython drops them only in its
# SPIRAM images (machine_pin.h #if !CONFIG_SPIRAM). ESP32-S3 GPIO33-37: SPIIO4-7 and DQS of octal flash
# or PSRAM (gpio/esp32s3.inc: "on boards embedded with ESP32-S3R8 / ESP32-S3R8V chip"; the XIAO ESP32S3
# is one), which MicroPython drops only in its octal images (#if !CONFIG_SPIRAM_MODE_OCT).
# ESP32-C3 GPIO11: its pad is VDD_SPI, the flash's supply, and a GPIO only once the VDD_SPI_AS_GPIO eFuse
# is burnt (ESP-IDF soc/esp32c3/register/soc/io_mux_reg.h: IO_MUX_GPIO11_REG is PERIPHS_IO_MUX_VDD_SPI_U;
# efuse/esp32c3/esp_efuse_table.csv); MicroPython's machine.Pin takes it either way.
_C3_VDD_SPI = "VDD_SPI, the flash's supply pin, not a GPIO until its VDD_SPI_AS_GPIO eFuse is burnt"
_ESP32_16_17 = "SPI flash and PSRAM on a module with PSRAM there (WROVER) or in-package flash (PICO-D4)"
_S3_OCTAL = "SPI flash and PSRAM on a module with octal flash or PSRAM (ESP32-S3R8, R8V)"
RESERVED: dict[str, dict[int, str]] = {
    "esp32": {**dict.fromkeys(range(6, 12), _FLASH), 16: _ESP32_16_17, 17: _ESP32_16_17, 1: _UART0, 3: _UART0},
    "esp32s3": {**dict.fromkeys(range(26, 33), _FLASH), **dict.fromkeys(range(33, 38), _S3_OCTAL), 19: _USB, 20: _USB},
    "esp32c3": {11: _C3_VDD_SPI, **dict.fromkeys(range(12, 18), _FLASH), 18: _USB, 19: _USB},
}
# The flash-voltage strap: an I2C line on it is pulled up, and high at reset it picks 1.8 V for the flash,
# so a 3.3 V flash does not boot (ESP-IDF docs/en/api-guides/jtag-debugging/tips-and-quirks.rst, the
# ESP32's MTDI; api-guides/external-ram.rst, the S3's GPIO45) unless eFuse fixes the voltage. The C3 has
# no such strap. Only the I2C lines carry a pull-up the board cannot leave out.
_STRAP = "flash-voltage strap, which an I2C pull-up holds high at reset: 1.8 V, and a 3.3 V flash does not boot"
FLASH_VOLTAGE_STRAP: dict[str, dict[int, str]] = {"esp32": {12: _STRAP}, "esp32s3": {45: _STRAP}, "esp32c3": {}}
I2C_LINES = ("imu.i2c.scl", "imu.i2c.sda")
# The boot-mode strap (weak pull-up): held low at reset the chip starts the ROM's download mode and waits
# for esptool instead of running the firmware (esptool docs/en/advanced-topics/boot-mode-selection.rst;
# the ESP32-C3 book, "Strapping Pins"). The IMU's INT1 is a push-pull output, low while idle (active high
# by default: LSM6DS CTRL3_C H_LACTIVE, MPU6886 INT_PIN_CFG), so it holds the strap low.
_BOOT = "boot-mode strap, which the IMU's INT1 (push-pull, low when idle) holds low at reset: the ROM's download mode, not the firmware"
BOOT_STRAP: dict[str, dict[int, str]] = {"esp32": {0: _BOOT}, "esp32s3": {0: _BOOT}, "esp32c3": {9: _BOOT}}
# Of the pins held back above, the ones some modules give, and such a module: a board on one lists them in
# module_free_pins (schema.json), with the module's datasheet in sources. No other pin may be
# listed: every module's flash and port take the rest, and no module adds a pad or an output.
_EFUSE_VOLTAGE = "a chip with its flash voltage burnt into eFuse: espefuse.py set_flash_voltage 3.3V"
MODULE_PINS: dict[str, dict[int, str]] = {
    "esp32": {
        12: _EFUSE_VOLTAGE,
        16: "ESP32-WROOM-32, no PSRAM",
        17: "ESP32-WROOM-32, no PSRAM",
        20: "an ESP32-PICO-V3 package",
    },
    "esp32s3": {**dict.fromkeys(range(33, 38), "ESP32-S3-WROOM-1-N8 or -N8R2, quad or no PSRAM"), 45: _EFUSE_VOLTAGE},
    "esp32c3": {11: "a chip with VDD_SPI_AS_GPIO burnt and its flash powered from elsewhere"},
}
# Input only ("GPI"): fine to sense on (the M5StickC PLUS2's cell, GPIO38), not to drive.
INPUT_ONLY: dict[str, frozenset[int]] = {"esp32": frozenset(range(34, 40)), "esp32s3": frozenset(), "esp32c3": frozenset()}
# The pins the band drives: I2C lines (open drain, an output), the power hold, the LED and the buzzer.
DRIVEN = (*I2C_LINES, "power_hold_pin", "led.pin", "buzzer.pin")
# Hardware I2C controllers (machine.I2C ids): the C3 has one (ESP-IDF soc/<chip>/include/soc/soc_caps.h
# SOC_HP_I2C_NUM: 2, 2, 1, which is I2C_NUM_MAX; MicroPython's machine_i2c.c raises "I2C(1) doesn't exist"
# for an id from there).
I2C_CONTROLLERS: dict[str, int] = {"esp32": 2, "esp32s3": 2, "esp32c3": 1}


def repo_root() -> Path:
    """The checkout holding ``hardware/`` and ``firmware/`` (``SPASMWATCH_ROOT`` overrides)."""
    env = os.environ.get("SPASMWATCH_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[3]
    if not (root / "hardware" / "boards").is_dir():
        raise ConfigError(
            f"{root}: no hardware/boards here; run from a spasmwatch checkout "
            "(pip install -e .) or set SPASMWATCH_ROOT to one"
        )
    return root


def boards_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "hardware" / "boards"


def board_ids(root: Path | None = None) -> list[str]:
    return sorted(p.stem for p in boards_dir(root).glob("*.json") if p.name != "schema.json")


def _vec(direction: str) -> tuple[int, int, int]:
    axis, sign = DIRECTIONS[direction]
    x, y, z = _PHYSICAL[axis]
    return (sign * x, sign * y, sign * z)


def _cross(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def axis_map_from_mounting(sensor_x: str, sensor_y: str) -> dict[str, str]:
    """The axis_map implied by where the sensor's +x and +y point (its +z = x cross y)."""
    sx, sy = _vec(sensor_x), _vec(sensor_y)
    if sum(a * b for a, b in zip(sx, sy)) != 0:
        raise ValueError(f"sensor x ({sensor_x}) and y ({sensor_y}) are not perpendicular")
    sensor = {"x": sx, "y": sy, "z": _cross(sx, sy)}
    out: dict[str, str] = {}
    for body, phys in zip("xyz", _PHYSICAL):
        for name, vec in sensor.items():
            dot = sum(a * b for a, b in zip(phys, vec))
            if dot:
                out[body] = ("+" if dot > 0 else "-") + name
    return out


def _schema(root: Path | None) -> dict[str, Any]:
    path = boards_dir(root) / "schema.json"
    with open(path, encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


def check(board: Board, path: str, root: Path | None = None) -> None:
    """Raise InputError (naming ``path`` and the field) unless ``board`` is a valid definition."""
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ConfigError("jsonschema is needed to check board definitions: pip install jsonschema") from exc
    validator = jsonschema.Draft202012Validator(_schema(root))
    errors = sorted(validator.iter_errors(board), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        field = ".".join(str(p) for p in err.absolute_path) or None
        raise InputError(path, err.message, field=field)
    _check_facts(board, path)


def _check_facts(board: Board, path: str) -> None:
    stem = Path(path).stem
    if board["id"] != stem:
        raise InputError(path, f"id {board['id']!r} differs from the file name {stem!r}", field="id")
    pins: dict[int, str] = {}

    def claim(pin: int | None, what: str) -> None:
        if pin is None:
            return
        if pin in pins:
            raise InputError(path, f"GPIO{pin} used by both {pins[pin]} and {what}", field=what)
        _check_pin(board, pin, what, path)
        pins[pin] = what

    _check_module_pins(board, path)
    imu = board["imu"]
    if imu["i2c"]["id"] >= I2C_CONTROLLERS[board["mcu"]]:
        # The schema's ids are 0 and 1, so only a one-controller MCU gets here.
        raise InputError(path, f"the {board['mcu']} has I2C 0 only: set imu.i2c.id to 0", field="imu.i2c.id")
    claim(imu["i2c"]["scl"], "imu.i2c.scl")
    claim(imu["i2c"]["sda"], "imu.i2c.sda")
    claim(imu["int_pin"], "imu.int_pin")
    if board["battery"]:
        claim(board["battery"]["adc_pin"], "battery.adc_pin")
        if board["battery"]["empty_mv"] >= board["battery"]["full_mv"]:
            raise InputError(path, "empty_mv must be below full_mv", field="battery.empty_mv")
        _check_battery_adc(board, path)
    if board["led"]:
        claim(board["led"]["pin"], "led.pin")
    if board["buzzer"]:
        claim(board["buzzer"]["pin"], "buzzer.pin")
    claim(board.get("power_hold_pin"), "power_hold_pin")
    mount = board["mounting"]
    try:
        expected = axis_map_from_mounting(mount["sensor_x"], mount["sensor_y"])
    except ValueError as exc:
        raise InputError(path, str(exc), field="mounting") from None
    if imu["axis_map"] != expected:
        raise InputError(
            path,
            f"{imu['axis_map']} does not follow from mounting (sensor +x {mount['sensor_x']}, "
            f"+y {mount['sensor_y']}): expected {expected}",
            field="imu.axis_map",
        )
    power = board["power"]
    if power["active_ms_per_batch"] >= power["batch_ms"]:
        raise InputError(path, "active_ms_per_batch must be below batch_ms", field="power.active_ms_per_batch")
    for interval in ("ble_conn_interval_ms", "ble_conn_interval_target_ms"):
        if power["ble_conn_event_ms"] >= power[interval]:
            raise InputError(path, f"ble_conn_event_ms must be below {interval}", field="power.ble_conn_event_ms")


def _check_pin(board: Board, pin: int, what: str, path: str) -> None:
    """``pin`` is one the board's MCU has, not its flash's or port's, no I2C line on the flash-voltage
    strap nor the IMU's interrupt on the boot-mode strap, and can drive if ``what`` must."""
    mcu = board["mcu"]
    given = pin in board.get("module_free_pins", ())
    if pin not in GPIOS[mcu] and not given:
        _refuse(mcu, pin, what, path, f"the {mcu} has no GPIO{pin}")
    if pin in RESERVED[mcu] and not given:
        _refuse(mcu, pin, what, path, f"GPIO{pin} is the {mcu}'s {RESERVED[mcu][pin]}")
    if what in I2C_LINES and pin in FLASH_VOLTAGE_STRAP[mcu] and not given:
        _refuse(mcu, pin, what, path, f"GPIO{pin} is the {mcu}'s {FLASH_VOLTAGE_STRAP[mcu][pin]}")
    if what == "imu.int_pin" and pin in BOOT_STRAP[mcu]:
        _refuse(mcu, pin, what, path, f"GPIO{pin} is the {mcu}'s {BOOT_STRAP[mcu][pin]}")
    if what in DRIVEN and pin in INPUT_ONLY[mcu]:
        _refuse(mcu, pin, what, path, f"GPIO{pin} of the {mcu} is input only and {what} must drive it")


def _refuse(mcu: str, pin: int, what: str, path: str, reason: str) -> NoReturn:
    """Refuse ``pin`` for ``what``, saying what to do: another pin, or list it if a module gives it."""
    module = MODULE_PINS[mcu].get(pin)
    todo = "choose another pin"
    if module is not None:
        todo += f", or if this board's module gives it ({module}), add {pin} to module_free_pins and its datasheet to sources"
    raise InputError(path, f"{reason}: {todo}", field=what)


def _check_module_pins(board: Board, path: str) -> None:
    """``module_free_pins`` lists only pins some module of the board's MCU gives."""
    mcu = board["mcu"]
    gives = MODULE_PINS[mcu]
    for pin in board.get("module_free_pins", ()):
        if pin not in gives:
            raise InputError(path, f"GPIO{pin} is not one a module can give the {mcu} ({_pin_list(gives)})", field="module_free_pins")


def _pin_list(pins: Iterable[int]) -> str:
    """``GPIO16, 17, 20`` or ``GPIO33-37``: the pins, runs of three or more as a range."""
    runs: list[list[int]] = []
    for pin in sorted(pins):
        if runs and pin == runs[-1][-1] + 1:
            runs[-1].append(pin)
        else:
            runs.append([pin])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs]
    return "GPIO" + ", ".join(parts)


def _check_battery_adc(board: Board, path: str) -> None:
    """The sense pin is an ADC1 pin of the board's MCU and the divided cell range fits the ADC's."""
    batt, mcu = board["battery"], board["mcu"]
    pins = ADC1_PINS[mcu]
    if batt["adc_pin"] not in pins:
        raise InputError(
            path,
            f"GPIO{batt['adc_pin']} is not an ADC1 pin of the {mcu} (GPIO{pins[0]}-GPIO{pins[-1]})",
            field="battery.adc_pin",
        )
    lo, hi = ADC_RANGE_MV[mcu]
    ratio = batt["divider_ratio"]
    top, bottom = batt["full_mv"] / ratio, batt["empty_mv"] / ratio
    if top > hi or bottom < lo:
        raise InputError(
            path,
            f"the cell's {batt['empty_mv']}-{batt['full_mv']} mV divided by {ratio:g} is "
            f"{bottom:.0f}-{top:.0f} mV at the pin, outside the {mcu} ADC's {lo}-{hi} mV at 11 dB",
            field="battery.divider_ratio",
        )


def load_path(path: Path, root: Path | None = None) -> Board:
    try:
        with open(path, encoding="utf-8") as f:
            board = json.load(f)
    except FileNotFoundError:
        raise InputError(str(path), "no such board definition") from None
    except UnicodeDecodeError as exc:  # not text (a binary file): was a traceback
        raise InputError(str(path), f"not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:  # a folder (--board hardware/boards/), no permission: was a traceback
        raise InputError(str(path), f"cannot read the board definition: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(board, dict):
        raise InputError(str(path), "a board definition is a JSON object")
    check(board, str(path), root)
    return board


def load(board_id: str, root: Path | None = None) -> Board:
    """A board by id (``hardware/boards/<id>.json``) or by path to a JSON file."""
    if board_id.endswith(".json") or os.sep in board_id:
        return load_path(Path(board_id), root)
    path = boards_dir(root) / f"{board_id}.json"
    if not path.is_file():
        raise ConfigError(f"unknown board {board_id!r}; known boards: {', '.join(board_ids(root))}")
    return load_path(path, root)
