"""``pip install -U spasmwatch`` while ``spasmwatch run`` runs: pip first removes every file of the
installed version, then writes the new one's, and a ``--user`` service is not restarted by it. The
running daemon must need nothing from its package's files after it started (docs/host.md,
"Upgrading"): here the daemon runs from a copy of the package, which is removed once it is up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import swcore
from daemonproc import api_status, one_band_config, wait_while_up
from servers import free_port

import spasmwatch
from spasmwatch.codeid import short, source_sha256
from spasmwatch.transport.simband import SimBand

from .conftest import BAND_TIMEOUT_S

SPEED = 4
DEVICE = "upgr0001"
UP_S = 30.0  # the daemon answers within a second here; room for a loaded machine
ALARM_S = 90.0  # real s: quick_cluster_csv's alarm comes ~5 s after the band connects at speed 4; a hang guard


def _installed(site: Path) -> dict[str, str]:
    """The environment of a daemon importing spasmwatch and swcore from copies in ``site``, as pip
    installed them: the copies' files are the ones an upgrade removes."""
    for pkg in (spasmwatch, swcore):
        src = Path(pkg.__file__).parent
        shutil.copytree(src, site / src.name, ignore=shutil.ignore_patterns("__pycache__"))
    return dict(os.environ, PYTHONPATH=str(site))


@contextmanager
def _webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on loopback: its URL and the payloads it took."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _running(args: list[str], env: dict[str, str], cwd: Path, log: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``spasmwatch ARGS`` (a daemon) from the copies ``env`` imports, once its API answers on
    ``port``; stopped by SIGTERM at the end, exit 0 asserted (killed if a failure left it up)."""
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", *args], stdout=out, stderr=out, env=env, cwd=cwd)
    try:
        wait_while_up(proc, log, time.monotonic() + UP_S, lambda: api_status(port) is not None)
        yield proc
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(UP_S) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(UP_S)


def _alarms(got: list[dict[str, Any]]) -> list[str]:
    """The titles of the cluster alarms pushed."""
    return [p["title"] for p in got if p["kind"] == "cluster_alarm"]


def _get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        body: bytes = r.read()
        return body


def test_the_daemon_alarms_in_its_language_and_serves_its_page_after_pip_removed_its_files(tmp_path: Path, quick_cluster_csv: Path) -> None:
    """Found by review h45: the push catalogs (alerts/lang/de.py, es, fr) were imported at the first
    message worded in them, the web page's files read from disk at each request. With the package's
    files gone (pip's uninstall step, or a newer version's written in their place) the first message
    of the night, the cluster's, raised ModuleNotFoundError: the session dropped the band ('internal
    error'), no alarm was raised, and every tick failed after (measured: a German config, the
    package removed after start, the quick cluster played: no ALARM in 90 s, 'tick failed' once a
    second). Now every catalog and the page's files are loaded at start."""
    site, port, band_port = tmp_path / "site", free_port(), free_port()
    env = _installed(site)
    config, log = tmp_path / "config.toml", tmp_path / "daemon.log"
    with _webhook() as (url, got):
        config.write_text(
            f'[daemon]\ndata_dir = "{tmp_path / "data"}"\n\n[daemon.http]\nport = {port}\n\n[alerts]\nlanguage = "de"\n\n'
            f'[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n[[channels.webhook]]\nname = "home"\nurl = "{url}"\n\n'
            f'[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "127.0.0.1:{band_port}"\n'
        )
        config.chmod(0o600)  # it holds the webhook URL
        args = ["run", "--config", str(config), "--sim-time-scale", f"{SPEED}@{time.time()}"]
        with _running(args, env, tmp_path, log, port) as proc:
            shutil.rmtree(site)  # pip's uninstall of the running version
            band = SimBand(quick_cluster_csv, tmp_path / "flash", port=band_port, hold=True, speed=SPEED, device_id=DEVICE,
                           idle_exit_ms=500, timeout_s=BAND_TIMEOUT_S)  # fmt: skip
            try:
                wait_while_up(proc, log, time.monotonic() + ALARM_S, lambda: bool(_alarms(got)))
            finally:
                band.kill()
            assert _alarms(got)[0].startswith("ALARM: mögliche Serie"), got  # the family's language (alerts/lang/de.py)
            assert b"spasmwatch" in _get(port, "/") and _get(port, "/static/app.js") and _get(port, "/static/app.css")
            proc.send_signal(signal.SIGHUP)  # a reload still applies
            wait_while_up(proc, log, time.monotonic() + UP_S, lambda: "config reloaded from" in log.read_text())
    said = log.read_text()
    assert "Traceback" not in said and "tick failed" not in said, said


def _spasmwatch(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``spasmwatch ARGS`` from the copies ``env`` imports, as a person runs it after the upgrade."""
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=UP_S)


UPGRADED = "The running monitor started from other code than is installed now (upgraded since it started): restart it: "


def test_status_says_the_daemon_runs_other_code_than_is_installed_after_an_upgrade_under_it(tmp_path: Path) -> None:
    """Found by review h45: after 'pip install -U' or 'git pull' under a running daemon, the daemon
    goes on with the code it started from until restarted, and nothing said so ('--version' said
    0.1.0 whatever the code). The daemon takes its code's digest at start; 'status', run from the
    code installed now, says to restart when they differ, and nothing while they are the same."""
    site, port = tmp_path / "site", free_port()
    env = _installed(site)
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    log = tmp_path / "daemon.log"
    with _running(["run", "--config", str(config)], env, tmp_path, log, port):
        started = source_sha256([site / "spasmwatch", site / "swcore"])
        assert (api_status(port) or {})["code"] == started
        same = _spasmwatch(env, tmp_path, "status", "--config", str(config))
        assert same.returncode in (0, 1) and "crib" in same.stdout and "other code" not in same.stdout, same
        version = _spasmwatch(env, tmp_path, "--version")
        assert version.stdout == f"spasmwatch {spasmwatch.__version__} (code {short(started)})\n", version  # a copy: no git checkout
        with open(site / "spasmwatch" / "words.py", "a") as f:
            f.write("\n# a line the upgrade added\n")  # the new version's file, the daemon not restarted
        upgraded = source_sha256([site / "spasmwatch", site / "swcore"])
        changed = _spasmwatch(env, tmp_path, "status", "--config", str(config))
        # The daemon was started by hand (no service runs this config): Ctrl+C and run again.
        said = (f"{UPGRADED}stop 'spasmwatch run' (Ctrl+C) and start it again. It monitors meanwhile, on the code it started from. "
                f"(code it runs: {short(started)}; installed: {short(upgraded)})")  # fmt: skip
        assert said in changed.stdout.splitlines(), changed
        assert changed.returncode == same.returncode, (same, changed)  # a warning: the daemon monitors, as it did
        assert _spasmwatch(env, tmp_path, "--version").stdout == f"spasmwatch {spasmwatch.__version__} (code {short(upgraded)})\n"


# /api/status as the daemon of 2026-12-05 (293cea1b) answered it, recorded from that release's
# 'spasmwatch run' on a store with one escalated alarm (band away): no "code", no "hostname".
OLD_STATUS = Path(__file__).parent.parent / "data" / "api_status_2026-12-05.json"


@contextmanager
def _answering(port: int, body: bytes) -> Iterator[None]:
    """A loopback server on ``port`` answering every GET with ``body`` (JSON), as that daemon did."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_status_says_a_daemon_from_before_code_ids_still_runs_the_old_code(tmp_path: Path) -> None:
    """Found by the upgrade review h47: a family on the release of 2026-12-05 (or 12-06) that ran
    'git pull && make install' and did not restart the daemon; 'spasmwatch status' from the new code
    compared the daemon's "code" with its own, found none (a daemon from before the field) and said
    nothing: the old daemon went on, its fixes missing, for as long as nobody restarted it. Every
    daemon with no "code" runs older code than this one (which has it): say to restart it."""
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    with _answering(port, OLD_STATUS.read_bytes()):
        shown = _spasmwatch(dict(os.environ), tmp_path, "status", "--config", str(config))
    assert "crib (band0001): CONNECTING" in shown.stdout, shown.stdout + shown.stderr
    said = (f"{UPGRADED}stop 'spasmwatch run' (Ctrl+C) and start it again. It monitors meanwhile, on the code it started from. "
            f"(code it runs: from before 2026-12-07, older than this; installed: {short(source_sha256())})")  # fmt: skip
    assert said in shown.stdout.splitlines(), shown.stdout
    assert shown.returncode == 1, shown  # its open alarm, as before: a warning changes no exit code
