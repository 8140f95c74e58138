"""'spasmwatch status' repeats what the daemon's start (and latest reload) warned of in the log: the
settings that hand the baby's data to whoever looks (daemon/wiring.py exposures). A family that
never reads the journal saw none of them (the security review of 2026-12-07).

Real parts: ``spasmwatch run`` as a process on 127.0.0.1 (one simulated band, away), the status
and reload CLI as processes, the config file on disk. The http:// servers are under '.example'
(a name that never resolves): no alarm is sent in the test, and none could leave this computer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from daemonproc import one_band_config, status_once_up, stopped
from servers import free_port

TOPIC = "spasmwatch-Qw8Jx2Lm5Np7Rt3Vy6Zb1Cd4"  # a made one: only its http:// is said
PLAIN = f'[[channels.ntfy]]\nname = "phones"\nurl = "http://ntfy.example/{TOPIC}"\n\n[[channels.webhook]]\nname = "home"\nurl = "http://hooks.example/s3cr3t"\n'


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args, "--config", str(config)], capture_output=True, text=True, timeout=60)


def _warnings(config: Path) -> list[str]:
    shown = _cli(config, "status")
    assert shown.returncode == 0, shown.stdout + shown.stderr  # a warning is no fault (exit 1 is for a person to act)
    return [line for line in shown.stdout.splitlines() if line.startswith("warning: ")]


def test_status_repeats_the_starts_exposure_warnings_until_a_reload_mends_them(tmp_path: Path) -> None:
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    plain = config.read_text() + "\n" + PLAIN
    config.write_text(plain)
    proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], stderr=subprocess.PIPE, text=True)
    try:
        status_once_up(proc, port)
        said = _warnings(config)
        assert [w.split(": plain ")[0] for w in said] == ["warning: [channels.ntfy #1] (ntfy:phones)", "warning: [channels.webhook #1] (webhook:home)"], said
        assert "http://ntfy.example, not on this computer or the home network" in said[0] and "http://hooks.example," in said[1]
        assert not any(TOPIC in w or "s3cr3t" in w for w in said)

        config.write_text(plain.replace("http://", "https://"))
        reloaded = _cli(config, "reload")
        assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
        assert _warnings(config) == []
    finally:
        log = stopped(proc)
    assert proc.returncode == 0, log
    # The journal said them once, at the start; the status said the same words.
    for w in said:
        assert log.count(w.removeprefix("warning: ")) == 1, log
