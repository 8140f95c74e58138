"""The band's heap once up, per board file in hardware/boards, as flashed, on a 32-bit MicroPython.

test_band_stream's HEAP_BUDGET checks the simulator's own board (SIM_BOARD, an MPU6886) on the
64-bit unix port, a build no family flashes. Here every board definition runs its part's driver
on the part's register emulation (sim/run.py --board, as ``spasmwatch demo --board``) from the
firmware as ``spasmwatch flash`` writes it (.mpy), under MicroPython's WebAssembly port (32-bit,
4-byte pointers as on an ESP32; tools/mpwasm), up to where sim/run.py reports ``up``. The heap in
use then, less the simulator's modules, must leave the night's running room in the GC heap that
board's chip has with BLE on, on the image its file names (docs/firmware.md, "Heap per board").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sim_central import ROOT, run_mp
from test_band_stream import HEAP_BUDGET

from spasmwatch.hardware import boards

sys.path.insert(0, str(ROOT))
from tools import mpwasm  # noqa: E402

# The GC heap MicroPython >= 1.21 can have on each chip's image with NimBLE active (bytes; keyed by
# heap_key: the standard ESP32_GENERIC and ESP32_GENERIC_S3 images use no PSRAM, the XIAO ESP32S3's
# octal 8 MB stays unused; a board file's micropython_variant SPIRAM puts the heap in PSRAM).
# Since 1.21 (micropython#12141) the esp32 port starts the heap at MICROPY_GC_INITIAL_HEAP_SIZE
# (56 KB ESP32, 64 KB C3/S3; ports/esp32/mpconfigport.h) and adds areas on demand, each up to
# ESP-IDF's largest free block ("max new split", gccollect.c), with no reserve for ESP-IDF: what
# the heap can reach is its size at boot plus that block, less what NimBLE takes from ESP-IDF once
# active, ~32 KB (espressif/esp-idf#8136: 234,952 -> 202,388 bytes free at NimBLE's start on an
# ESP32; Moddable#640 "about 32 KB").
NIMBLE_BYTES = 32_768
HEAP_WITH_BLE = {
    # 1.22.2 on an ESP32-C3FH4, at boot: total 64,000, max new split 139,264 (micropython#14293).
    "esp32c3": 64_000 + 139_264 - NIMBLE_BYTES,
    # GENERIC_S3 at boot: total 64,000, max new split 188,352 (micropython#12141's description).
    "esp32s3": 64_000 + 188_352 - NIMBLE_BYTES,
    # 1.27 ESP32_GENERIC at boot: gc.mem_free() 134,544 (with max new split, micropython#12366) +
    # mem_alloc 30,704 (micropython#18859); its DRAM is the most split (largest IDF block 53,248).
    "esp32": 134_544 + 30_704 - NIMBLE_BYTES,
    # ESP32_GENERIC-SPIRAM (sdkconfig.spiram: CONFIG_SPIRAM_USE_MALLOC, malloc over 8 KB from PSRAM):
    # the heap's areas come from the PSRAM, up to its largest block. The M5StickC PLUS2's
    # ESP32-PICO-V3-02 has 2 MB; ESP-IDF kept 9,536 bytes of it on a 4 MB board (1.26, "Generic
    # ESP32 module with SPIRAM with ESP32": 4,184,768 bytes of heap, Tangerino/aiohttp's README).
    # NimBLE's share is still taken off, though its pools default to internal RAM: the low side.
    "esp32-spiram": 2 * 1024 * 1024 - 9_536 - NIMBLE_BYTES,
}  # fmt: skip
# The night's need on top of start-up: the night test runs in 208 KB with up to HEAP_BUDGET in use
# once up (56,992 bytes over it, 64-bit), at the band's 32/64-bit heap ratio (0.81-0.82, SIM_BOARD
# 125,504 / 152,224 and the LSM6DSOX board 132,112 / 162,784 bytes, measured 2026-12-07).
RUN_MARGIN_32 = round((208 * 1024 - HEAP_BUDGET) * 0.81)

# Up as sim/run.py's main() reports it (build, App, the pairing window's update), split where the
# WebAssembly port collects: it collects only between calls into it (tools/mpwasm/run.mjs), so
# run.py's own `up` report would count every start-up garbage. The simulator's modules (hw,
# bluetooth and the board's part emulation) are imported first and measured alone: a board has
# none of them. Its objects (the emulated bus and part, the radio's) stay counted, for a board's.
UP = r'''
import sys, gc, json
#--- collect
gc.collect()
m0 = gc.mem_alloc()
import hw, bluetooth
hw.fake_imu(sys.argv[4])
#--- collect
gc.collect()
sim = gc.mem_alloc() - m0
import run
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--board", sys.argv[3], "--socket", "0"])
hardware, source, clock, wdts = run.build(opts)
app = run.App(hardware)
app._pairing_update()
opts = None
#--- collect
gc.collect()
print(json.dumps({"up": gc.mem_alloc(), "sim_modules": sim}))
'''


def _wasm() -> list[str]:
    try:
        return mpwasm.command(mpwasm.RAM_BUILD)
    except mpwasm.Missing as e:
        pytest.fail(str(e))


def band_heap_32(flashed_fw: Path, board: dict[str, object], tmp_path: Path) -> dict[str, int]:
    """Heap in use once up (``up``) and the simulator's modules' share, 32-bit, for ``board``."""
    board_file = tmp_path / "board.json"
    board_file.write_text(json.dumps(board))  # as demo --board writes it for sim/run.py
    csv = tmp_path / "rest.csv"
    csv.write_text("t,ax,ay,az,gx,gy,gz\n" + "".join(f"{k / 50:.2f},0,0,1,0,0,0\n" for k in range(50)))
    (tmp_path / "flash").mkdir()
    imu = board["imu"]
    assert isinstance(imu, dict)
    path = ".frozen:%s:%s" % (flashed_fw, flashed_fw / "sim")
    out = run_mp(_wasm(), tmp_path / "up.py", UP, str(csv), str(tmp_path / "flash"), str(board_file), str(imu["part"]), path=path)
    found: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return found


def heap_key(board: dict[str, object]) -> str:
    """HEAP_WITH_BLE's key for the image ``board`` names: its chip, and the variant if it names one."""
    variant = board.get("micropython_variant")
    return f"{board['mcu']}-{str(variant).lower()}" if variant else str(board["mcu"])


@pytest.mark.parametrize("board_id", boards.board_ids(ROOT))
def test_the_band_fits_its_chips_heap_with_ble_on(flashed_fw: Path, tmp_path: Path, board_id: str) -> None:
    board = boards.load(board_id, ROOT)
    heap = band_heap_32(flashed_fw, board, tmp_path)
    band = heap["up"] - heap["sim_modules"]
    budget = HEAP_WITH_BLE[heap_key(board)] - RUN_MARGIN_32
    said = f"{board_id} ({heap_key(board)}): {band} bytes once up (32-bit, {heap['sim_modules']} of simulator modules left out), budget {budget}"
    print(said)
    assert band <= budget, f"{said}: the band grew past its chip's heap (docs/firmware.md, 'Heap per board')"
