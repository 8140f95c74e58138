"""SimBand's contract: finds the binary or says how to get it; reports and exit codes of the real firmware."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pytest

from spasmwatch.transport import simband
from spasmwatch.transport.simband import EXIT_DONE, SimBand, SimBandError


def test_missing_micropython_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SimBandError, match=r"micropython.*dev extra"):
        simband.find_micropython()


def test_band_reports_up_and_end_and_exits_by_itself(bands: Callable[..., SimBand]) -> None:
    band = bands(hold=False, device_id="simcafe")
    assert band.name == "spasmwatch-cafe" and band.up["boot"] == 1 and band.address.endswith(":%d" % band.port)
    assert band.wait(60) == EXIT_DONE  # nobody connects: the recording plays, then the band exits idle
    end = band.wait_report("end", 5)
    assert end["why"] == "done" and end["next_seq"] == 14
