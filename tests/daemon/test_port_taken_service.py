"""The service's daemon started while another program holds its web page's port (at boot, a
program that took 8765 first): it monitors without the page and listens once the port is free,
rather than exiting for systemd to restart every 5 s with no band monitored meanwhile. A run by
hand still stops with the command that moves the port (test_cli.py).

Real parts: 'spasmwatch run' in its own process, systemd's notify socket played by a datagram
socket (NOTIFY_SOCKET, as the unit's Type=notify gives it), the port held by a real listening
socket, the page fetched on loopback; 'status' and 'reload' meanwhile as processes."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from daemonproc import UP_S, api_status, notify_socket, one_band_config, wait_ready
from servers import free_port

# the daemon tries the port again every HTTP_RETRY_S (10 s): the page answers within that once it is free
LISTEN_S = 60.0


def test_the_service_monitors_while_its_port_is_taken_and_listens_once_it_is_free(tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    notify, env = notify_socket(tmp_path)
    log = tmp_path / "daemon.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], stderr=out, env=env)
    try:
        wait_ready(notify)
        assert proc.poll() is None, log.read_text()  # up, monitoring: not ended by the port
        text = log.read_text()
        assert (f"web page: cannot listen on 127.0.0.1:{port}" in text
                and "monitoring without the page: alarms go on" in text), text  # fmt: skip
        # the CLI meanwhile: the daemon runs (its lock's pid), not 'is spasmwatch run running?'
        status = subprocess.run([sys.executable, "-m", "spasmwatch", "status", "--config", str(config)],
                                capture_output=True, text=True, timeout=UP_S)  # fmt: skip
        assert status.returncode == 2 and f"though the daemon on this store runs (pid {proc.pid}), monitoring" in status.stderr, status.stderr
        # 'reload' meanwhile: the edit is sent by the pid and applied; how it went cannot be read yet, and it says why
        with open(config, "a") as f:
            f.write("\n[alerts]\nlanguage = \"de\"\n")
        reload = subprocess.run([sys.executable, "-m", "spasmwatch", "reload", "--config", str(config)],
                                capture_output=True, text=True, timeout=UP_S)  # fmt: skip
        said = reload.stdout + reload.stderr
        assert reload.returncode == 1 and f"sent the reload to the daemon (pid {proc.pid}), which runs, monitoring" in said, said
        assert "its web page is not up yet" in said and "tries again every 10 s" in said and "restart" not in said, said
        while "config reloaded from" not in log.read_text():  # (UP_S: the test's own timeout)
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        assert "alerts.language" in log.read_text(), log.read_text()
        busy.close()
        end = time.monotonic() + LISTEN_S
        while api_status(port) is None:
            assert proc.poll() is None and time.monotonic() < end, log.read_text()
            time.sleep(0.2)
        assert f"web page listening now on http://127.0.0.1:{port}/" in log.read_text()
    finally:
        busy.close()
        notify.close()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=UP_S)
    assert code == 0 and "Traceback" not in log.read_text(), log.read_text()


def test_the_daemon_holding_the_port_is_not_taken_for_the_service_waiting_for_it(tmp_path: Path) -> None:
    """Found by the second cliedges review: the port the service's daemon (B) waits for is held by
    another config's daemon (A: two configs left at 8765, the likeliest program to hold it). B's
    lock has its pid and no address, and the commands for B asked the file's port, where A
    answered: 'status --config B' showed A's band as B's, 'ack --config B' went to A, and
    'reload --config B' waited for A to report B's reload. Now an answer there is B's only if it
    runs on B's store: refused, naming both, and the reload is sent by B's pid and said so."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    port = free_port()
    a = one_band_config(tmp_path / "a" / "config.toml", tmp_path / "a" / "data", port)
    b = one_band_config(tmp_path / "b" / "config.toml", tmp_path / "b" / "data", port)
    a.write_text(a.read_text().replace('name = "crib"', 'name = "cot-a"'))
    notify, env = notify_socket(tmp_path)
    log = tmp_path / "b.log"
    first = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(a)], stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + UP_S
        while api_status(port) is None:
            assert first.poll() is None and time.monotonic() < end
            time.sleep(0.1)
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(b)], stderr=out, env=env)
        try:
            wait_ready(notify)
            for args in (["status"], ["ack"]):
                out = subprocess.run([sys.executable, "-m", "spasmwatch", *args, "--config", str(b)], capture_output=True, text=True, timeout=UP_S)
                assert out.returncode == 2 and "cot-a" not in out.stdout, out
                assert f"is not the one of {b}" in out.stderr and f"the daemon of {b} runs (pid {proc.pid}), monitoring" in out.stderr, out.stderr
            t0 = time.monotonic()
            reload = subprocess.run([sys.executable, "-m", "spasmwatch", "reload", "--config", str(b)], capture_output=True, text=True, timeout=UP_S)
            said = reload.stdout + reload.stderr
            assert reload.returncode == 1 and f"sent the reload to the daemon (pid {proc.pid}), which runs, monitoring" in said, said
            assert time.monotonic() - t0 < 10, said  # not RELOAD_WAIT_S for A's report: nothing is waited for
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=UP_S)
        assert code == 0 and "Traceback" not in log.read_text(), log.read_text()
    finally:
        notify.close()
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=UP_S)
