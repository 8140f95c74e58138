"""The service's daemon started before its web page's host exists ([daemon.http] host a LAN
address that DHCP gives only after the unit starts at boot: bind says EADDRNOTAVAIL): it monitors
without the page and listens once the address is there, rather than exiting for systemd to
restart every 5 s with no band monitored meanwhile. A run by hand still stops with the error.

Real parts: a network namespace of its own (unshare; as this user mapped to root in a user
namespace when not root) whose loopback has no 192.0.2.7 (TEST-NET-1) until the test adds it with
'ip addr add'; 'spasmwatch run' in its own process there; systemd's notify socket played by a
datagram socket; the page fetched inside that namespace (nsenter)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from daemonproc import UP_S, notify_socket, one_band_config, wait_ready
from servers import free_port

# the daemon tries the address again every HTTP_RETRY_S (10 s): the page answers within that once it is there
LISTEN_S = 60.0
HOST = "192.0.2.7"  # TEST-NET-1: no computer has it unless given
_NET = 'ip link set lo up && exec "$@"'
# exit 0 once the page answers: 401 (no token given) is its answer too; a refused connection is not
_FETCH = """
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError as e:
    sys.exit(e.code != 401)
"""


def _in_new_net(*command: str) -> list[str]:
    ns = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--net"]
    return [*ns, "sh", "-c", _NET, "sh", *command]


def _in_net_of(pid: int, *command: str) -> list[str]:
    ns = ["nsenter", "-t", str(pid), "-n"] if os.geteuid() == 0 else ["nsenter", "-t", str(pid), "-U", "-n", "--preserve-credentials"]
    return [*ns, *command]


def _config(tmp_path: Path, port: int) -> Path:
    return one_band_config(tmp_path / "config.toml", tmp_path / "data", port, f'host = "{HOST}"\nlan = true\ntoken = "{"t" * 32}"\n')


def test_the_service_monitors_before_its_address_exists_and_listens_once_it_does(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, port)
    notify, env = notify_socket(tmp_path)
    log = tmp_path / "daemon.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(_in_new_net(sys.executable, "-m", "spasmwatch", "run", "--config", str(config)), stderr=out, env=env)
    try:
        wait_ready(notify)
        assert proc.poll() is None, log.read_text()  # up, monitoring: not ended by the address
        text = log.read_text()
        assert (f"web page: cannot listen on {HOST}:{port}" in text and "this computer has no such address" in text
                and "monitoring without the page: alarms go on" in text), text  # fmt: skip
        subprocess.run(_in_net_of(proc.pid, "ip", "addr", "add", f"{HOST}/32", "dev", "lo"), check=True, timeout=UP_S)
        end, url = time.monotonic() + LISTEN_S, f"http://{HOST}:{port}/api/status"
        while subprocess.run(_in_net_of(proc.pid, sys.executable, "-c", _FETCH, url), capture_output=True, timeout=UP_S).returncode:
            assert proc.poll() is None and time.monotonic() < end, log.read_text()
            time.sleep(0.5)
        text = log.read_text()
        assert f"web page listening now on http://{HOST}:{port}/" in text, text
        assert text.count("cannot listen on") == 1, text  # said once, not at every try
    finally:
        notify.close()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=UP_S)
    assert code == 0 and "Traceback" not in log.read_text(), log.read_text()


def test_a_start_by_hand_before_its_address_exists_ends_with_the_error(tmp_path: Path) -> None:
    config = _config(tmp_path, free_port())
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    r = subprocess.run(_in_new_net(sys.executable, "-m", "spasmwatch", "run", "--config", str(config)),
                       env=env, capture_output=True, text=True, timeout=UP_S)  # fmt: skip
    assert r.returncode == 2 and f"web page: cannot listen on {HOST}:" in r.stderr and "this computer has no such address" in r.stderr, r.stderr
