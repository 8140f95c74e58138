"""``spasmwatch run`` killed with SIGKILL during a cluster, restarted: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from servers import free_port

from spasmwatch.store import Store, StoreError
from spasmwatch.transport.simband import SimBand

from .conftest import DURATION_S


SPEED = 4


def start_daemon(config: Path, log: Path, origin: float) -> subprocess.Popen[bytes]:
    """The daemon as a family runs it, its clock at the simulated band's speed (one clock across restarts)."""
    env = dict(os.environ, SPASMWATCH_DATA_DIR=str(config.parent / "data"))
    cmd = [sys.executable, "-m", "spasmwatch", "run", "--config", str(config), "--sim-time-scale", f"{SPEED}@{origin}"]
    with open(log, "ab") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=f, env=env)


def wait(pred: object, timeout_s: float, what: str, logs: Path) -> None:
    end = time.monotonic() + timeout_s
    while not pred():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}; daemon log:\n{logs.read_text()}")
        time.sleep(0.05)


def test_kill_9_mid_cluster_then_restart_loses_and_doubles_nothing(tmp_path: Path, cluster_csv: Path) -> None:
    origin = time.time()
    band = SimBand(cluster_csv, tmp_path / "flash", hold=True, speed=SPEED, device_id="crash0001", idle_exit_ms=500, timeout_s=150)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[daemon.http]\nport = {free_port()}\n\n[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "{band.address}"\n\n'
        "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n"
    )
    db = tmp_path / "data" / "spasmwatch.db"
    logs = tmp_path / "daemon.log"

    def alarms() -> int:
        try:
            with Store.open_readonly(db) as s:
                return sum(a.state == "ALARM" for a in s.alerts("crash0001"))
        except StoreError:  # not created (or not yet migrated) by the daemon
            return 0

    d = start_daemon(config, logs, origin)
    try:
        wait(lambda: alarms() >= 1, 90, "the cluster alarm", logs)
        d.send_signal(signal.SIGKILL)  # no clean-up at all, mid-cluster
        d.wait(10)
        d = start_daemon(config, logs, origin)

        def recording_done() -> bool:
            with Store.open_readonly(db) as s:
                st = s.latest_status("crash0001")
            return st is not None and st.received_wall_s > 0 and (st.uptime_s or 0) >= DURATION_S

        wait(recording_done, 120, "the band to play the whole recording", logs)
        d.send_signal(signal.SIGTERM)
        assert d.wait(20) == 0, logs.read_text()
        end = band.wait_report("end", 30)  # the band exits once nobody is connected
    finally:
        if d.poll() is None:
            d.kill()
        band.kill()
    with Store.open_readonly(db) as s:
        seqs = sorted(e.seq for e in s.events("crash0001"))
        clusters = list(s.clusters("crash0001"))
        transitions = [(a.state, a.text) for a in s.alerts("crash0001") if a.cluster_id is not None]
        latest = s.latest_status("crash0001")
        assert s.integrity_check() == "ok"
    # What the STATUS rows' readers need outlived the kill (docs/store.md "STATUS rows"): the band's
    # log head as it ended, which bench/faults.py and test_log_erased hold the stored events against.
    assert latest is not None and latest.next_seq == end["next_seq"], (latest, end)
    # The alarm went out once; the restarted daemon carried it on instead of raising it again.
    raised = [text for st, text in transitions if st == "ALARM" and "restored" not in text]
    assert len(raised) == 1, transitions
    assert any("restored after a daemon restart" in text for _, text in transitions), transitions
    assert seqs == list(range(end["next_seq"])), f"stored {seqs}, band logged 0..{end['next_seq'] - 1}"
    assert len(seqs) >= 7
    assert len(clusters) == 1, clusters
    assert clusters[0].count >= 6
