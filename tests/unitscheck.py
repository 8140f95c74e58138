"""Reading a recording as replay does and asking the gyro-units check about it (io/units.py).

Shared by the tests of the three simulators and of the real recordings: each
must reach a verdict (else "no warning" proves nothing) and not be taken for
rad/s, and the same samples with the gyro in rad/s must be.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from spasmwatch.io import open_recording
from spasmwatch.io.units import RAD_TO_DEG, GyroEvidence, GyroUnitsCheck, GyroUnitsWarning


def read_as_replay(path: Path) -> tuple[GyroEvidence | None, GyroEvidence | None, list[str]]:
    """(verdict on the gyro as written, verdict on it divided by 57.2958, the reader's
    GyroUnitsWarning messages) after reading every sample."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        rec = open_recording(path)
        as_written, as_rad = GyroUnitsCheck(rec.rate_hz), GyroUnitsCheck(rec.rate_hz)
        for c in rec.chunks():
            assert c.gyro is not None, f"{path.name} has no gyro"
            as_written.feed([*c.acc.T, *c.gyro.T])
            as_rad.feed([*c.acc.T, *(c.gyro / RAD_TO_DEG).T])
    return as_written.evidence, as_rad.evidence, [str(w.message) for w in seen if issubclass(w.category, GyroUnitsWarning)]


def assert_deg_s_and_rad_s_told_apart(path: Path) -> None:
    deg, rad, said = read_as_replay(path)
    assert said == [], f"{path.name}: a deg/s gyro was taken for rad/s: {said}"
    assert deg is not None and rad is not None, f"{path.name}: too little posture change for a verdict"
    assert not deg.looks_rad_s, f"{path.name}: {deg}"
    assert rad.looks_rad_s, f"{path.name}: in rad/s: {rad}"
