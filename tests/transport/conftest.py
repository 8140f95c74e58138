"""Fixtures for transport tests: a recording with spasms and simulated bands (real micropython, loopback only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from transport_helpers import N_SPASMS

from spasmwatch.transport.simband import SimBand


@pytest.fixture(scope="session")
def spasms_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A supine baby breathing with 14 idealised spasms 8 s apart (50 Hz, 150 s): the band logs 14 events."""
    from synthetic import supine

    t, acc, gyro = supine(rate_hz=50, duration_s=150, spasms=tuple(15.0 + 8 * i for i in range(N_SPASMS)), seed=2)
    path = tmp_path_factory.mktemp("rec") / "spasms.csv"
    with open(path, "w") as f:
        f.write("t,ax,ay,az,gx,gy,gz\n")
        for i in range(len(t)):
            a, g = acc[i], gyro[i]
            f.write("%.4f,%.5f,%.5f,%.5f,%.3f,%.3f,%.3f\n" % (t[i], a[0], a[1], a[2], g[0], g[1], g[2]))
    return path


@pytest.fixture
def bands(micropython: str, spasms_csv: Path, tmp_path: Path) -> Iterator[Callable[..., SimBand]]:
    """Start simulated bands (held until a central encrypts); every one is killed at teardown."""
    started: list[SimBand] = []

    def start(flash: str = "flash", csv: Path | None = None, **kw: Any) -> SimBand:
        kw.setdefault("hold", True)
        kw.setdefault("idle_exit_ms", 300)
        kw.setdefault("timeout_s", 60)
        band = SimBand(csv or spasms_csv, tmp_path / flash, micropython=micropython, **kw)
        started.append(band)
        return band

    yield start
    for band in started:
        band.kill()


@pytest.fixture
def bond_file(tmp_path: Path) -> Path:
    return tmp_path / "host-bonds.json"
