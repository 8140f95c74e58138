"""SimBand's contract: finds the binary or says how to get it; reports and exit codes of the real firmware."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Callable

import pytest

from spasmwatch.transport import simband
from spasmwatch.transport.simband import EXIT_DONE, EXIT_TIMEOUT, SimBand, SimBandError


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


def _our_bands_on(port: int) -> list[int]:
    """Pids of micropython children of this process serving the radio socket ``port``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"--socket" in argv and argv[argv.index(b"--socket") + 1] == str(port).encode():
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_band_that_does_not_come_up_in_time_is_not_left_running(micropython: str, spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: SimBand raised 'no up report' and left the micropython process running,
    holding the radio port and the flash until its own timeout; a restart in place on that
    port then failed too, and the demo left a band behind."""
    port = simband.free_port()
    with pytest.raises(SimBandError):
        SimBand(spasms_csv, tmp_path / "flash", port=port, micropython=micropython, start_timeout_s=0.001, timeout_s=60)
    assert _our_bands_on(port) == []
    with SimBand(spasms_csv, tmp_path / "flash", port=port, micropython=micropython, hold=True, idle_exit_ms=300, timeout_s=60) as band:
        assert band.up["boot"] >= 1  # the port is free: a band restarted in place comes up


def test_a_band_stuck_until_its_deadline_says_what_held_it(bands: Callable[..., SimBand]) -> None:
    """Held for a central that never comes, the band stops at its own deadline and says why
    (a test that waited for it used to see only that it ran out of time)."""
    band = bands(hold=True, timeout_s=2)
    assert band.wait(60) == EXIT_TIMEOUT
    stuck = band.wait_report("stuck", 5)
    assert (stuck["held"], stuck["played"], stuck["central"]) == (True, False, False), stuck
    assert band.wait_report("end", 5)["why"] == "timeout"


def test_a_band_that_does_not_stop_is_killed_and_its_output_shown(bands: Callable[..., SimBand]) -> None:
    """A blocked band (here: stopped by a signal) raised subprocess.TimeoutExpired, with no word of
    what it had printed, and was left running."""
    band = bands(hold=True, timeout_s=60)
    os.kill(band.proc.pid, signal.SIGSTOP)
    with pytest.raises(SimBandError, match=r"(?s)did not stop within 1 s.*SIM \{.*\"kind\": \"up\""):
        band.wait(1)
    assert not band.running


def test_free_ports_lie_below_the_kernel_s_ephemeral_range_and_are_free() -> None:
    """A band rebooted or a receiver back after an outage binds its old port again; one from the
    ephemeral range was taken meanwhile as some connection's local end in a CI run ('address
    already in use' in test_soak's outage). Old code: ports from bind(0), inside that range."""
    import socket

    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [simband.free_port() for _ in range(50)]
    assert all(10000 <= p < low for p in ports), ports
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc")
def test_a_band_that_ended_holds_no_file_descriptor(bands: Callable[..., SimBand]) -> None:
    """Found by the suite's ResourceWarnings: an ended band kept its stdout and stderr pipes open
    until garbage collection, two descriptors per boot (the demo and every test start many);
    its output stays readable after."""
    before = len(os.listdir("/proc/self/fd"))
    ran = bands(hold=False)
    assert ran.wait(60) == EXIT_DONE
    killed = bands()
    killed.kill()
    assert len(os.listdir("/proc/self/fd")) == before
    assert ran.stderr() == ran.stderr() and killed.wait_report("up", 0)["boot"] >= 1
