"""IMU drivers on emulated sensor registers, raw streaming, and the allocation-free per-sample path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sim_central import MICROPYPATH, RUN_PY, Band, secure_connect, write_csv

from swcore import protocol as P

ROOT = Path(__file__).resolve().parents[2]

PARTS = {
    # part: (I2C address, rate the driver picks for the default 52 Hz, accel LSB/g, gyro LSB/(deg/s), gyro mul)
    "mpu6886": (0x68, 50, 8192, 65.5, 10005),
    "lsm6ds3": (0x6A, 52, 8192, 1000 / 17.5, 11469),
    "lsm6dsox": (0x6B, 52, 8192, 1000 / 17.5, 11469),
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


def _mp(micropython: str, script: Path, *args: str) -> str:
    env = dict(os.environ, MICROPYPATH=MICROPYPATH)
    out = subprocess.run([micropython, str(script), *args], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


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
    script.write_text(NOALLOC)
    (tmp_path / "flash").mkdir()
    samples, events, epochs = map(int, _mp(micropython, script, str(many_spasms_csv), str(tmp_path / "flash"), raw).split())
    assert samples == 7499 and events == 14 and epochs == 14


def test_every_board_definition_has_a_driver(micropython: str, tmp_path: Path) -> None:
    script = tmp_path / "drivers.py"
    script.write_text("from band.imu import DRIVERS\nprint(' '.join(sorted(DRIVERS)))\n")
    drivers = set(_mp(micropython, script).split())
    assert drivers == set(PARTS)
    boards = [p for p in sorted((ROOT / "hardware" / "boards").glob("*.json")) if p.name != "schema.json"]
    assert boards, "hardware/boards/*.json: no board definitions"
    for path in boards:
        board = json.loads(path.read_text())
        assert board["imu"]["part"] in drivers, "%s: imu.part %r has no firmware driver" % (path.name, board["imu"]["part"])
