"""The gyro bias kept in flash across boots (band/biasstore.py, GyroBias.seed).

The seeding rule is swcore code: checked on CPython and under the real
micropython binary. The band-level test boots the firmware twice on the same
flash directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sim_central import Band, run_mp, write_csv

BIAS_DPS = (1.5, -2.0, 0.8)  # the recording's gyro bias
BIAS_DDPS = [round(10 * b) for b in BIAS_DPS]


def _near_true(bias: list[int]) -> bool:
    """Much nearer the recording's bias than 0 is (breathing leaves the 1 s block means a little off)."""
    return bool(np.abs(np.array(bias) - BIAS_DDPS).sum() < 0.5 * np.abs(BIAS_DDPS).sum())

SEED_RULE = """
from swcore.bias import GyroBias
from swcore import consts as C
b = GyroBias(50)
b.seed(15, -20, 8)
out = [b.bx, b.by, b.bz, b.still]
out.append(b.block_done(17 * 50, -20 * 50, 8 * 50, 0))  # a still block near the seed: averaged in
out += [b.bx, b.still]
refused = 0
while not b.block_done(200 * 50, -20 * 50, 8 * 50, 0):  # far from it: refused until the waiver
    refused += 1
out += [refused, C.BIAS_RESET_BLOCKS]
print(" ".join(str(int(v)) for v in out))
"""


def _seed_rule_cpython() -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(SEED_RULE, {})
    return buf.getvalue().strip()


def test_a_kept_bias_counts_as_one_still_block_on_cpython_and_micropython(micropython: str, tmp_path: Path) -> None:
    cp = _seed_rule_cpython()
    assert run_mp(micropython, tmp_path / "seed.py", SEED_RULE, timeout_s=60).strip() == cp
    bx, by, bz, still, near, bx2, still2, refused, reset_blocks = map(int, cp.split())
    assert (bx, by, bz, still) == (15, -20, 8, 1)
    assert near == 1 and bx2 == 16 and still2 == 2
    assert refused == reset_blocks  # a stale seed cannot lock the bias out


def _recording(tmp: Path) -> Path:
    from synthetic import supine

    t, acc, gyro = supine(rate_hz=52, duration_s=60, seed=3)
    return write_csv(tmp / "rec.csv", t, acc, gyro + np.array(BIAS_DPS))


def test_the_band_keeps_its_bias_across_a_reboot(micropython: str, tmp_path: Path) -> None:
    csv, flash = _recording(tmp_path), tmp_path / "flash"
    first = Band(micropython, csv, flash, ["--idle-exit-ms", "100"])
    assert first.up["bias"] == [0, 0, 0]  # nothing kept yet
    end = first.end()
    assert _near_true(end["bias"]), end["bias"]
    kept = (flash / "bias.bin").read_bytes()
    assert len(kept) == 8
    second = Band(micropython, csv, flash, ["--idle-exit-ms", "100"])
    try:
        # The next boot starts from the kept bias, before it has seen a still second.
        assert second.up["bias"] == list(np.frombuffer(kept[:6], dtype="<i2")), (second.up, kept.hex())
        assert _near_true(second.up["bias"])
    finally:
        second.end()


def test_a_corrupt_kept_bias_is_ignored(micropython: str, tmp_path: Path) -> None:
    csv, flash = _recording(tmp_path), tmp_path / "flash"
    flash.mkdir()
    (flash / "bias.bin").write_bytes(bytes.fromhex("0f00ecff0800ffff"))  # a bad crc
    band = Band(micropython, csv, flash, ["--idle-exit-ms", "100"])
    try:
        assert band.up["bias"] == [0, 0, 0]
    finally:
        end = band.end()
    assert end["why"] == "done" and _near_true(end["bias"])
