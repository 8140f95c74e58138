"""A daemon asked to stop (SIGTERM: systemd's stop, or a restart) while a serial port's open and a
host name's lookup hang in their worker threads ends at once, its store whole.

Found by review: those threads (serial.py ``_PortThreads``, lookups.py) were concurrent.futures
threads, which the interpreter joins at its exit: the daemon had closed its store and said it
stopped, then waited for every hung call to return (resolv.conf's timeout times its attempts, or
for ever for a tty whose driver hangs). systemd waited out TimeoutStopSec and killed it; a restart
monitored nothing meanwhile.

Real parts: 'spasmwatch run' in its own process, the system resolver asking a DNS server on
loopback that never answers (tests/servers.py SilentDns), a serial band at ``socket://`` by a host
name (a network serial server; pyserial's open resolves it), the heartbeat by a host name, and a
simulated band (the firmware under micropython) whose events the daemon stores meanwhile.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from daemonproc import UP_S, ended_after_sigterm, logged
from servers import SilentDns, free_port

from spasmwatch.store import Store, StoreError
from spasmwatch.transport.simband import SimBand

SPEED = 4
DEVICE = "stop00001"
BAND_HOST, BEAT_HOST = "band.stalled.test", "beat.stalled.test"
# How long the stop may take (s): generous (the stop takes about a second); the old code waited for
# the hung lookups, which resolv.conf's options here hold for minutes.
STOP_S = 10.0


def _config(path: Path, band: SimBand) -> Path:
    path.write_text(
        f'[daemon]\ndata_dir = "{path.parent / "data"}"\n\n[daemon.http]\nport = {free_port()}\n\n'
        f'[daemon.heartbeat]\nurl = "http://{BEAT_HOST}:9/ping"\n\n'
        "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n"
        f'[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "{band.address}"\n\n'
        f'[[bands]]\nname = "cot"\ntransport = "serial"\nport = "socket://{BAND_HOST}:9"\n'
    )
    return path


def _stored_seqs(db: Path) -> list[int]:
    try:
        with Store.open_readonly(db) as s:
            return sorted(e.seq for e in s.events(DEVICE))
    except StoreError:  # not made (or not yet migrated) by the daemon
        return []


def test_a_stop_while_an_open_and_a_lookup_hang_ends_within_bound_and_keeps_the_store(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """Old code: the daemon said it stopped, then did not end (killed after STOP_S by the test)."""
    dns = SilentDns(tmp_path)
    band = SimBand(quick_cluster_csv, tmp_path / "flash", hold=True, speed=SPEED, device_id=DEVICE, idle_exit_ms=500, timeout_s=120)
    config = _config(tmp_path / "config.toml", band)
    db, log = tmp_path / "data" / "spasmwatch.db", tmp_path / "daemon.log"
    run = [sys.executable, "-m", "spasmwatch", "run", "--config", str(config), "--sim-time-scale", f"{SPEED}@{time.time()}"]
    try:
        with logged(dns.in_its_resolver(*run), log) as proc:
            end = time.monotonic() + 3 * UP_S  # a hang guard, not a latency bound
            while len(before := _stored_seqs(db)) < 3 or not {BAND_HOST, BEAT_HOST} <= dns.asked:
                assert proc.poll() is None and time.monotonic() < end, f"asked {dns.asked}, stored {before}:\n{log.read_text()}"
                time.sleep(0.1)
            code = ended_after_sigterm(proc, log, STOP_S)
    finally:
        band.kill()
        dns.close()
    assert code == 0 and "Traceback" not in log.read_text(), log.read_text()
    with Store.open_readonly(db) as s:
        assert s.integrity_check() == "ok"
    after = _stored_seqs(db)
    assert after[: len(before)] == before and after == list(range(len(after))), (before, after)
