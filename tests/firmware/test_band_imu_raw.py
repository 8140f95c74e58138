"""IMU drivers on emulated sensor registers, raw streaming, and the allocation-free per-sample path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim_central import APP_HOOKS, Band, run_mp, secure_connect, write_csv

from swcore import protocol as P

ROOT = Path(__file__).resolve().parents[2]

PARTS = {
    # part: (I2C address, rate the driver picks for the default 52 Hz, accel LSB/g, gyro LSB/(deg/s), gyro mul)
    "mpu6886": (0x68, 50, 8192, 65.5, 10005),
    "lsm6ds3": (0x6A, 52, 8192, 1000 / 17.5, 11469),
    "lsm6dsox": (0x6B, 52, 8192, 1000 / 17.5, 11469),
    "icm42688": (0x69, 50, 8192, 65.5, 10005),
}
AXIS_MAP = {"x": "-z", "y": "+x", "z": "-y"}


def _board(tmp: Path, part: str) -> Path:
    addr = PARTS[part][0]
    board = {
        "id": "test-" + part,
        "name": "Test board " + part,
        "mcu": "esp32c3",
        "micropython_board": "ESP32_GENERIC_C3",
        "imu": {"part": part, "i2c_address": addr, "i2c": {"id": 0, "scl": 5, "sda": 4, "freq_hz": 400000}, "int_pin": None, "axis_map": AXIS_MAP},
        "battery": {"adc_pin": 2, "divider_ratio": 2.0, "full_mv": 4200, "empty_mv": 3300},
        "led": None,
        "buzzer": None,
    }
    path = tmp / (part + ".json")
    path.write_text(json.dumps(board))
    return path


def _expected(row: list[float], part: str) -> list[int]:
    """Body-frame ints the band must report for a CSV row: emulated counts, then the driver's scaling."""
    _, _, acc_lsb, gyro_lsb, gmul = PARTS[part]
    out = []
    for j, body in enumerate("xyz"):
        sign = -1 if AXIS_MAP[body][0] == "-" else 1
        raw = max(-32768, min(32767, round(sign * row[1 + j] * acc_lsb)))
        out.append(((raw * 125) >> 10) * sign)
    for j, body in enumerate("xyz"):
        sign = -1 if AXIS_MAP[body][0] == "-" else 1
        raw = max(-32768, min(32767, round(sign * row[4 + j] * gyro_lsb)))
        out.append(((raw * gmul) >> 16) * sign)
    return out


@pytest.mark.parametrize("part", sorted(PARTS))
def test_raw_stream_carries_the_recording_through_each_imu_driver(micropython: str, part: str, tmp_path: Path) -> None:
    from synthetic import supine

    rate = PARTS[part][1]
    t, acc, gyro = supine(rate_hz=rate, duration_s=40, spasms=(10.0, 20.0), seed=4)
    csv = write_csv(tmp_path / "rec.csv", t, acc, gyro)
    rows = [[float(x) for x in line.split(",")] for line in csv.read_text().splitlines()[1:]]
    band = Band(micropython, csv, tmp_path / "flash", ["--board", str(_board(tmp_path, part)), "--hold", "--speed", "4", "--idle-exit-ms", "200"])
    try:
        assert band.up["rate_hz"] == rate and band.up["errors"] == 0
        c, _ = secure_connect(band.port, mtu=247)
        r = c.command(P.encode_raw_stream(True))
        assert r["code"] == P.OK
        raws = lambda: c.records(P.RAW_UUID)  # noqa: E731
        c.wait_for(lambda: sum(len(x["samples"]) for x in raws()) >= 300, 30, "raw samples")
        assert P.decode(c.read(P.STATUS_UUID)[1])["flags"] & P.SF_RAW_ON
        c.command(P.encode_raw_stream(False))
        c.close()
    finally:
        band.kill()
    recs = raws()
    assert all(len(x["samples"]) == 19 for x in recs[:-1]), "MTU 247 packs 19 samples per record"
    checked = 0
    for x in recs:
        for i, s in enumerate(x["samples"]):
            want = _expected(rows[x["first_index"] + i], part)
            assert all(abs(a - b) <= 1 for a, b in zip(s, want)), (x["first_index"] + i, s, want)
            checked += 1
    assert checked >= 300
    assert band.proc.returncode is not None


NOALLOC = '''
import sys, micropython, gc
from array import array
import run
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"])
hardware, source, clock, wdts = run.build(opts)
from band.app import App
app = App(hardware)
cnt = array("i", [0, 0])
def on_event():
    cnt[0] += 1
def on_epoch():
    cnt[1] += 1
app._on_event = on_event  # the rare paths (flash write, record encoding) may allocate
# The cluster counter's edges still fall due (app._on_edge): with no full spasm's shape
# kept (the events above go nowhere) an edge costs comparisons only, no allocation.
app._on_epoch = on_epoch
app.raw_on = sys.argv[3] == "raw"
app._raw_cap = 19
locked = 0
while not source.done:
    clock._v += 200
    n = hardware.imu.read(app._samples, 64)  # the emulated I2C bus allocates; a real one does not
    micropython.heap_lock()
    try:
        app._process(n)
    finally:
        micropython.heap_unlock()
    locked += n
print(locked, cnt[0], cnt[1])
'''


@pytest.mark.parametrize("raw", ["raw", "noraw"])
def test_per_sample_path_allocates_nothing(micropython: str, many_spasms_csv: Path, tmp_path: Path, raw: str) -> None:
    """Detector, epoch features and raw packing run with the heap locked: any allocation raises MemoryError."""
    script = tmp_path / "noalloc.py"
    (tmp_path / "flash").mkdir()
    samples, events, epochs = map(int, run_mp(micropython, script, NOALLOC, str(many_spasms_csv), str(tmp_path / "flash"), raw).split())
    assert samples == 7499 and events == 14 and epochs == 14


def test_every_board_definition_has_a_driver(micropython: str, tmp_path: Path) -> None:
    script = tmp_path / "drivers.py"
    drivers = set(run_mp(micropython, script, "from band.imu import DRIVERS\nprint(' '.join(sorted(DRIVERS)))\n").split())
    assert drivers == set(PARTS)
    boards = [p for p in sorted((ROOT / "hardware" / "boards").glob("*.json")) if p.name != "schema.json"]
    assert boards, "hardware/boards/*.json: no board definitions"
    for path in boards:
        board = json.loads(path.read_text())
        assert board["imu"]["part"] in drivers, "%s: imu.part %r has no firmware driver" % (path.name, board["imu"]["part"])


BOARDS = [p for p in sorted((ROOT / "hardware" / "boards").glob("*.json")) if p.name != "schema.json"]


@pytest.mark.parametrize("board_path", BOARDS, ids=lambda p: p.stem)
def test_each_board_definition_runs_the_detector_exactly(micropython: str, board_path: Path, tmp_path: Path) -> None:
    """The board's own part, address and axis map: logged events equal the detector's on the same integers."""
    from sim_central import expected_events, read_flash_log
    from synthetic import supine

    board = json.loads(board_path.read_text())
    part = board["imu"]["part"]
    rate = PARTS[part][1]
    t, acc, gyro = supine(rate_hz=rate, duration_s=90, spasms=tuple(12.0 + 9 * i for i in range(8)), seed=6)
    csv = write_csv(tmp_path / "rec.csv", t, acc, gyro)
    band = Band(micropython, csv, tmp_path / "flash", ["--board", str(board_path), "--idle-exit-ms", "100"])
    try:
        assert band.up["rate_hz"] == rate and band.up["errors"] == 0 and band.up["name"].startswith(P.AIR_PREFIX)
        end = band.end()
    finally:
        band.kill()
    stored = read_flash_log(tmp_path / "flash" / "events")
    got = [
        (e["onset_ms"], e["duration_ms"], e["peak_rate_mrads"], e["peak_angle_mrad"], e["confidence"], e["flags"] & ~P.EF_TIME_SYNCED)
        for _, e in sorted(stored.items())
    ]
    want = expected_events(csv, board["imu"]["axis_map"], rate, part)
    assert [g[1:] for g in got] == [w[1:] for w in want]
    # The band times events back from its latest FIFO read (its own clock), not by the
    # sensor's nominal rate: within one sample period of it (exact when 200 ms holds whole samples).
    assert all(0 <= g[0] - w[0] < 1000 / rate for g, w in zip(got, want)), (got, want)
    assert end["next_seq"] == len(got) >= 6


DRIVER_NOALLOC = r'''
import struct, micropython
from array import array
from band.mpu6886 import MPU6886
from band.lsm6ds import LSM6DS3, LSM6DSOX
from band.icm42688 import ICM42688

class StaticBus:
    """Serves fixed register contents without allocating (stands in for machine.I2C)."""
    def __init__(self, regs):
        self.regs = regs  # reg -> bytearray
    def readfrom_mem_into(self, addr, reg, buf):
        src = self.regs[reg]
        i = 0
        n = len(buf)
        while i < n:
            buf[i] = src[i]
            i += 1
    def writeto_mem(self, addr, reg, buf):
        pass

N = 60
amap = {"x": "-z", "y": "+x", "z": "-y"}
mpu = bytearray(14 * N)
for f in range(N):
    struct.pack_into(">hhhhhhh", mpu, 14 * f, 100 + f, -200, 8000, 0, 30, -40, 50)
ds3 = bytearray(12 * N)
for f in range(N):
    struct.pack_into("<hhhhhh", ds3, 12 * f, 30, -40, 50, 100 + f, -200, 8000)
dsox = bytearray(14 * N)
for f in range(N):
    struct.pack_into("<Bhhh", dsox, 14 * f, 0x08, 30, -40, 50)
    struct.pack_into("<Bhhh", dsox, 14 * f + 7, 0x10, 100 + f, -200, 8000)
icm = bytearray(16 * N)
for f in range(N):
    struct.pack_into(">B6hbH", icm, 16 * f, 0x68, 100 + f, -200, 8000, 30, -40, 50, 25, f)
drivers = [
    MPU6886(StaticBus({0x72: bytearray(((14 * N) >> 8, (14 * N) & 0xFF)), 0x74: mpu}), 0x68, amap),
    LSM6DS3(StaticBus({0x3A: bytearray(((6 * N) & 0xFF, (6 * N) >> 8)), 0x3C: bytearray(2), 0x3E: ds3}), 0x6A, amap),
    LSM6DSOX(StaticBus({0x3A: bytearray(((2 * N) & 0xFF, (2 * N) >> 8)), 0x78: dsox}), 0x6A, amap),
    ICM42688(StaticBus({0x2E: bytearray(((16 * N) >> 8, (16 * N) & 0xFF)), 0x30: icm}), 0x68, amap),
]
out = array("h", bytes(12 * 64))
for d in drivers:
    d.read(out, 64)  # first call: anything lazily created is made here
    micropython.heap_lock()
    try:
        n = d.read(out, 64)
    finally:
        micropython.heap_unlock()
    print(type(d).__name__, n, list(out[:6]), list(out[6 * (n - 1): 6 * n]))
'''


def test_imu_drivers_decode_a_fifo_without_allocating(micropython: str, tmp_path: Path) -> None:
    script = tmp_path / "drv.py"
    lines = run_mp(micropython, script, DRIVER_NOALLOC).splitlines()
    # sensor accel (100+f, -200, 8000) counts, gyro (30, -40, 50); body x = -sensor z, y = +sensor x, z = -sensor y
    assert len(lines) == 4, lines
    for line, name, gmul in zip(lines, ("MPU6886", "LSM6DS3", "LSM6DSOX", "ICM42688"), (10005, 11469, 11469, 10005)):
        parts = line.split(" ", 2)
        assert parts[0] == name and int(parts[1]) == 60, line
        mg = lambda c: (c * 125) >> 10  # noqa: E731
        dd = lambda c: (c * gmul) >> 16  # noqa: E731
        first = [-mg(8000), mg(100), -mg(-200), -dd(50), dd(30), -dd(-40)]
        last = [-mg(8000), mg(159), -mg(-200), -dd(50), dd(30), -dd(-40)]
        assert parts[2] == "%s %s" % (first, last)


def test_event_times_follow_the_band_clock_not_the_imu_rate(micropython: str, tmp_path: Path) -> None:
    """An IMU running 2 % fast (its own oscillator) must not make event times drift."""
    from sim_central import SIM_AXIS_MAP, expected_events, read_flash_log
    from synthetic import supine

    actual = 51.0  # a "50 Hz" MPU6886 that runs 2 % fast
    spasms = tuple(20.0 + 40 * i for i in range(10))
    t, acc, gyro = supine(rate_hz=actual, duration_s=420, spasms=spasms, seed=7)
    csv = write_csv(tmp_path / "rec.csv", t, acc, gyro)
    band = Band(micropython, csv, tmp_path / "flash", ["--imu-odr-error-pct", "2", "--idle-exit-ms", "100"])
    try:
        assert band.up["rate_hz"] == 50
        band.end()
    finally:
        band.kill()
    got = [e["onset_ms"] for _, e in sorted(read_flash_log(tmp_path / "flash" / "events").items())]
    nominal = [w[0] for w in expected_events(csv, SIM_AXIS_MAP, 50)]  # sample index x 20 ms
    true_ms = [m * 50 / actual for m in nominal]  # when those samples were really taken
    assert len(got) == len(nominal) >= 8
    # Within 3 samples: the onset is dated back from its confirmation (the
    # release plus POST_MS, 2-4 s later) at the nominal period, 2 % off.
    assert all(abs(g - tm) <= 3 * 1000 / actual for g, tm in zip(got, true_ms)), list(zip(got, true_ms))
    assert nominal[-1] - true_ms[-1] > 5000, "counting samples at the nominal rate would be seconds off"


@pytest.mark.parametrize("pct", [2.0, -1.5])
def test_an_onset_is_dated_back_at_the_imus_measured_period(micropython: str, tmp_path: Path, pct: float) -> None:
    """An onset is dated back from its batch's read over the 1-4 s its confirmation takes: at the
    nominal period an IMU 2 % fast put it 40-80 ms early (1.5 % slow: 30-60 ms late). At the period
    measured against the crystal clock (band/app.py RATE_*) it is within a sample of when it was
    taken: the batch's read dates the sample after it, taken up to one period before."""
    from sim_central import SIM_AXIS_MAP, expected_events, read_flash_log
    from synthetic import supine

    actual = 50.0 * (1 + pct / 100)
    spasms = tuple(20.0 + 37.3 * i for i in range(8))  # 37.3 s apart: the batch's phase differs each time
    t, acc, gyro = supine(rate_hz=actual, duration_s=320, spasms=spasms, seed=8)
    csv = write_csv(tmp_path / "rec.csv", t, acc, gyro)
    band = Band(micropython, csv, tmp_path / "flash", ["--imu-odr-error-pct", str(pct), "--idle-exit-ms", "100"])
    try:
        band.end()
    finally:
        band.kill()
    got = [e["onset_ms"] for _, e in sorted(read_flash_log(tmp_path / "flash" / "events").items())]
    true_ms = [m / 20 / actual * 1000 for m, *_ in expected_events(csv, SIM_AXIS_MAP, 50)]  # index / real rate
    assert len(got) == len(true_ms) >= 6
    errors = [g - tm for g, tm in zip(got, true_ms)]
    print(f"onset - taken: {min(errors):.1f} to {max(errors):.1f} ms")
    assert all(-1 <= e <= 1000 / actual + 1 for e in errors), errors  # 1 ms: the ms clock's rounding


MONTHS = '''
import sys
import run
from swcore.detector import Detector
from swcore.epoch import EpochFeatures
from band.app import App, SAMPLES_LAP
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"])
hardware, source, clock, wdts = run.build(opts)
app = App(hardware)
rebase_at = int(sys.argv[3])
first0 = int(sys.argv[4])
if rebase_at:
    app.det = Detector(app.rate_hz, app.det.p.has_gyro, rebase_at)
    app.ep = EpochFeatures(app.det.fe)
app.samples = first0 % SAMPLES_LAP
app._laps = first0 // SAMPLES_LAP
''' + APP_HOOKS + '''
on_event(lambda r: print("S", r["onset_ms"], r["duration_ms"], r["confidence"]))
on_raw(lambda r: print("R", r["first_index"], len(r["samples"])))
top = 0
while not source.done:
    clock._v += 200
    n = hardware.imu.read(app._samples, 64)
    if n:
        app._batch(n)
    top = max(top, app.det.n)
print("N", top)
'''


def _months(micropython: str, csv: Path, tmp: Path, rebase_at: int, first_index: int) -> tuple[list[str], list[tuple[int, int]], int]:
    script = tmp / "months.py"
    flash = tmp / f"flash{rebase_at}"
    flash.mkdir()
    lines = run_mp(micropython, script, MONTHS, str(csv), str(flash), str(rebase_at), str(first_index)).splitlines()
    raw = [(int(x.split()[1]), int(x.split()[2])) for x in lines if x.startswith("R")]
    return [x for x in lines if x.startswith("S")], raw, int(lines[-1].split()[1])


def test_a_band_up_for_months_keeps_its_events_and_raw_indexes(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """After 124 days at 100 Hz a sample index no longer fits a 32-bit board's small int:
    the detector's indexes are shifted down (forced here every ~2,000 samples) and RAW's
    u32 first_index is built from a count modulo 2^29 and its laps (started here 3,000
    samples before the u32 wraps). Events and raw indexes are those of a fresh band."""
    events, raw, top = _months(micropython, many_spasms_csv, tmp_path, 0, 0)
    events_r, raw_r, top_r = _months(micropython, many_spasms_csv, tmp_path, 4000, (1 << 32) - 3000)
    assert len(events) == 14 and events_r == events
    assert top > 7000 and top_r < 4000 + 64
    for got, first0 in ((raw, 0), (raw_r, (1 << 32) - 3000)):
        assert got[0][0] == first0 and sum(n for _, n in got) > 7000
        assert all(b[0] == (a[0] + a[1]) % (1 << 32) for a, b in zip(got, got[1:])), "raw indexes must run on without a gap"
    assert any(b[0] < a[0] for a, b in zip(raw_r, raw_r[1:])), "the u32 index should have wrapped"


# The emulations' time line and a band lying still, for the scripts below: the time played is the
# time run (no catch-up: sim/clock.py SimClock.played_ms, which sim/hw.py reads).
STILL = r'''
class Clock:
    ms = 0
    def ticks_ms(self):
        return self.ms
    played_ms = ticks_ms

class Still:
    def at(self, t):
        return (t, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
'''


FIFO_FILL = r'''
from hw import FakeI2C, fake_imu
from band.lsm6ds import LSM6DS3, LSM6DSOX

amap = {"x": "+x", "y": "+y", "z": "+z"}
for part, cls in (("lsm6ds3", LSM6DS3), ("lsm6dsox", LSM6DSOX)):
    clock = Clock()
    fake = fake_imu(part)(0x6A, amap, Still(), clock)
    drv = cls(FakeI2C(fake), 0x6A, amap)
    drv.start(104)
    clock.ms = 30000  # 30 s unread at 104 Hz: far past either FIFO
    print(part, drv._fifo_words(), drv.overruns)
'''


def test_simulated_lsm_fifos_hold_what_the_datasheets_say(micropython: str, tmp_path: Path) -> None:
    """The emulated FIFOs overflow where the real parts' do, so an overrun in a simulated night is one a
    band would have: LSM6DS3TR-C (WHO_AM_I 0x6A, the xiao-esp32s3-lsm6ds3 board's part) "smart FIFO up
    to 4 kbyte" = 2048 16-bit words (the original LSM6DS3's is 8 KB); LSM6DSOX 3 KB = 512 tagged words
    (9 KB only with compression, which the driver leaves off). Full, they hold whole samples only."""
    lines = dict(line.split(" ", 1) for line in run_mp(micropython, tmp_path / "fill.py", STILL + FIFO_FILL).splitlines())
    assert lines["lsm6ds3"] == "%d 1" % (2048 // 6 * 6), lines  # 341 samples of 6 words
    assert lines["lsm6dsox"] == "%d 1" % (512 // 2 * 2), lines  # 256 samples of 2 words


ICM_FILL = r'''
from hw import FakeI2C, fake_imu
from band.icm42688 import ICM42688
from array import array

amap = {"x": "+x", "y": "-y", "z": "+z"}
clock = Clock()
fake = fake_imu("icm42688")(0x68, amap, Still(), clock)
drv = ICM42688(FakeI2C(fake), 0x68, amap)
drv.start(104)
clock.ms = 30000  # 30 s unread at 100 Hz: far past the 2 KB FIFO
out = array("h", bytes(12 * 64))
n = 0
while True:
    k = drv.read(out, 64)
    if not k:
        break
    n += k
    assert list(out[:6]) == [0, 0, 1000, 0, 0, 0], list(out[:6])
print(n, drv.overruns)
'''


def test_simulated_icm42688_fifo_stops_when_full_and_the_driver_counts_it(micropython: str, tmp_path: Path) -> None:
    """ICM-42688-P: a 2 KB FIFO (datasheet) of 16-byte packets, 128 samples (1.28 s at 100 Hz); in the
    STOP-on-FULL mode the driver sets, a full FIFO keeps whole packets and takes no more: the driver
    counts one overrun and reads every packet kept, each still aligned (body z = +1000 mg)."""
    assert run_mp(micropython, tmp_path / "icm.py", STILL + ICM_FILL).split() == ["128", "1"]


DRIVER_CLASSES = {"mpu6886": "MPU6886", "lsm6ds3": "LSM6DS3", "lsm6dsox": "LSM6DSOX", "icm42688": "ICM42688"}
WRONG_CHIP = r'''
import json, sys
from hw import FakeI2C, fake_imu
from band import imu

amap = {"x": "+x", "y": "-y", "z": "+z"}
for part in sorted(imu.DRIVERS):
    cls = imu.driver(part)
    for reg, who in ((cls.WHO_AM_I_REG, w) for w in cls.WHO_AM_I):
        print(json.dumps(["known", part, reg, who, imu.KNOWN_CHIPS.get((reg, who))]))
    for chip in sorted(imu.DRIVERS):
        fake = fake_imu(chip)(0x68, amap, None, Clock())
        try:
            imu.from_board(FakeI2C(fake), {"part": part, "i2c_address": 0x68, "axis_map": amap}).start(52)
            print(json.dumps(["started", part, chip, None]))
        except OSError as e:
            print(json.dumps(["refused", part, chip, "%s: %s" % (type(e).__name__, e)]))
# In the app band.imu is dropped once it is up: a part that answers wrongly then (a restart in the
# night) is refused without the chip's name, and nothing is imported on that error path.
drv = imu.from_board(FakeI2C(fake_imu("mpu6886")(0x68, amap, None, Clock())), {"part": "icm42688", "i2c_address": 0x68, "axis_map": amap})
del sys.modules["band.imu"]
try:
    drv.start(52)
except OSError as e:
    print(json.dumps(["dropped", str(e), "band.imu" in sys.modules]))
'''


def test_a_driver_on_another_chip_refuses_it_and_names_it(micropython: str, tmp_path: Path) -> None:
    """Each driver on each part's emulation: its own starts; any other is refused (ImuError) with the
    WHO_AM_I it read, and, where the chip answers at the same register, which chip it is and the
    board ``imu.part`` that drives it. Every driver's WHO_AM_I is in band.imu.KNOWN_CHIPS (a new
    driver that leaves it out fails here)."""
    rows = [json.loads(line) for line in run_mp(micropython, tmp_path / "who.py", STILL + WRONG_CHIP).splitlines()]
    assert rows.pop() == ["dropped", "ICM42688 at I2C 0x68: WHO_AM_I (register 0x75) reads 0x19, expected 0x47", False]
    for kind, part, reg, who, chip in (r for r in rows if r[0] == "known"):
        assert chip is not None and chip[1] == part, (part, who, chip)
    same_reg = {p: next(r[2] for r in rows if r[0] == "known" and r[1] == p) for p in PARTS}
    checked = 0
    for kind, part, chip, message in (r for r in rows if r[0] != "known"):
        # The LSM6DS3 driver takes an LSM6DS3TR-C, and the emulation's LSM6DS3 is one (WHO_AM_I 0x6A).
        own = chip == part or (part, chip) == ("lsm6ds3", "lsm6ds3")
        if own:
            assert kind == "started", (part, chip, message)
            continue
        assert kind == "refused" and message.startswith("ImuError: %s at I2C 0x68: WHO_AM_I" % DRIVER_CLASSES[part]), message
        if same_reg[chip] == same_reg[part]:
            assert "set the board file's imu.part to %r" % chip in message, message
            checked += 1
    assert checked >= 4  # the MPU6886 and ICM-42688 both ways, and LSM6DS3 / LSM6DSOX both ways

