"""One recording: plan it, render it, write the CSV and its truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tools.thirdsim.baby import make_sensor
from tools.thirdsim.output import build_truth, write_csv, write_truth
from tools.thirdsim.render import Renderer
from tools.thirdsim.world import make_plan

# Output data rates of common 6-axis MEMS IMUs (LSM6DS*, BMI160/270, ICM-42688, MPU-6050 dividers).
RATES_HZ = (25.0, 26.0, 50.0, 52.0, 100.0, 104.0, 200.0)


def choose(seed: int, rate_hz: float | None, accel_only: bool | None) -> tuple[float, bool]:
    """The rate and whether there is a gyro: as asked, else drawn from the seed (1 in 5 accel-only)."""
    rng = np.random.default_rng([seed, 909])
    rate = float(rng.choice(RATES_HZ, p=[0.08, 0.08, 0.2, 0.2, 0.2, 0.16, 0.08]))
    only = bool(rng.random() < 0.2)
    return (float(rate_hz) if rate_hz else rate), (only if accel_only is None else accel_only)


def file_stem(seed: int, rate_hz: float, has_gyro: bool) -> str:
    r = f"{rate_hz:g}".replace(".", "p")
    return f"thirdsim-s{seed}-{r}hz" + ("" if has_gyro else "-accel-only")


def generate(out_dir: str | Path, seed: int, hours: float, rate_hz: float | None = None,
             accel_only: bool | None = None, start_clock_h: float | None = None) -> tuple[Path, Path, dict[str, Any]]:
    """Write ``<out_dir>/<stem>.csv`` and ``<stem>.truth.json``; returns their paths and the truth."""
    rate, only = choose(seed, rate_hz, accel_only)
    if not 25.0 <= rate <= 200.0:
        raise ValueError(f"rate must be 25-200 Hz, not {rate:g}")
    if hours <= 0:
        raise ValueError("hours must be positive")
    n = int(round(hours * 3600.0 * rate))
    duration = n / rate
    plan = make_plan(seed, duration, None if start_clock_h is None else start_clock_h * 3600.0)
    sensor = make_sensor(np.random.default_rng([seed, 808]), rate, not only)
    ren = Renderer(plan, sensor, seed)
    assert ren.n_samples == n
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(seed, rate, not only)
    csv_path = out / f"{stem}.csv"
    truth_path = out / f"{stem}.truth.json"
    with open(csv_path, "wb") as fh:
        written = write_csv(fh, ren.chunks(), sensor.has_gyro)
    assert written == n
    kind = "day" if hours >= 20 else "part"
    truth = build_truth(plan, sensor, n, kind)
    write_truth(truth_path, truth)
    return csv_path, truth_path, truth
