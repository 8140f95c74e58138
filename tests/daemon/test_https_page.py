"""The family page over HTTPS ([daemon.http] tls_cert, tls_key), as a family sets it up: 'spasmwatch
config tls new' makes the certificate, 'spasmwatch run' serves the page with it, 'spasmwatch status'
reaches it trusting that certificate alone; a certificate that cannot be used costs the page, never
the monitoring, and one made anew brings the page back without a restart.

Real parts: the commands in processes of their own, the daemon's TLS on 127.0.0.1, Python's ssl
client pinned to the file (the CLI's own ``tls.client_context``), plain sockets for plain HTTP."""

from __future__ import annotations

import http.client
import json
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from daemonproc import UP_S, logged, one_band_config, wait_while_up
from servers import free_port

from spasmwatch.daemon.consts import HTTP_RETRY_S
from spasmwatch.tls import client_context, load

TOKEN = "tok-Zq7Lm2Xv9Rb4Wn8Kd3Hs"
# the daemon reads the files again every HTTP_RETRY_S: a mended pair serves the page within that (room for a loaded machine)
MENDED_S = HTTP_RETRY_S + UP_S


def _spasmwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=UP_S)


def _config(tmp_path: Path, port: int) -> Path:
    return one_band_config(tmp_path / "config.toml", tmp_path / "data", port, http=f'token = "{TOKEN}"\n')


def _https_status(port: int, cert: Path) -> dict[str, Any] | None:
    """/api/status over HTTPS, trusting ``cert`` alone; None while nothing answers."""
    req = urllib.request.Request(f"https://127.0.0.1:{port}/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=2, context=client_context(cert)) as r:
            answer: dict[str, Any] = json.load(r)
            return answer
    except (urllib.error.URLError, ConnectionError):
        return None


def _plain(port: int, request: bytes) -> bytes:
    """What the HTTPS port answers a plain HTTP ``request`` (read to its close)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=UP_S) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(4096):
            out += chunk
    return out


def test_the_page_is_served_over_https_with_the_certificate_made_for_it(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, port)
    made = _spasmwatch("config", "tls", "new", "--config", str(config))
    assert made.returncode == 0, made.stderr
    cert, key = tmp_path / "page-cert.pem", tmp_path / "page-key.pem"
    for f in (cert, key):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert f'tls_cert = "{cert}"' in config.read_text() and f'tls_key = "{key}"' in config.read_text()
    fingerprint = load(cert, key).fingerprint
    assert f"SHA-256 fingerprint {fingerprint}" in made.stdout and "warns once" in made.stdout, made.stdout
    log = tmp_path / "daemon.log"
    with logged([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], log) as proc:
        wait_while_up(proc, log, time.monotonic() + UP_S, lambda: _https_status(port, cert) is not None)
        assert f"status page and API on https://127.0.0.1:{port}/" in log.read_text()
        assert f"SHA-256 fingerprint {fingerprint}" in log.read_text()

        # a browser's first visit: the token traded for a cookie that is never sent in plain
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=UP_S, context=client_context(cert))
        conn.request("GET", f"/?token={TOKEN}", headers={"Accept": "text/html"})
        resp = conn.getresponse()
        cookie = resp.getheader("Set-Cookie") or ""
        resp.read()
        conn.close()
        assert resp.status == 200 and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie, cookie

        # plain HTTP on that port (a link kept from before): sent to the same address over https://
        answer = _plain(port, f"GET /?token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 301 "), answer
        assert f"\r\nLocation: https://127.0.0.1:{port}/?token={TOKEN}\r\n".encode() in answer, answer
        assert _plain(port, b"hello\r\n\r\n").startswith(b"HTTP/1.1 400 "), "not HTTP: refused, said in plain"
        assert _https_status(port, cert) is not None  # the page serves on after both

        # the CLI reaches it, trusting the configured certificate, and shows the link and fingerprint
        status = _spasmwatch("status", "--config", str(config))
        assert status.returncode in (0, 1), status.stderr  # (1: the band away, a fault to see to)
        assert f"https://127.0.0.1:{port}/?token={TOKEN}" in status.stdout and fingerprint in status.stdout, status.stdout

        # its key file spoilt meanwhile: the daemon serves on with the pair it read; status says what its next start meets
        good_key = key.read_bytes()
        key.write_text("not a key\n")
        spoilt = _spasmwatch("status", "--config", str(config))
        assert spoilt.returncode in (0, 1), spoilt.stderr
        assert f"WEB PAGE CERTIFICATE: [daemon.http] tls_key: {key} is not an unencrypted PEM private key" in spoilt.stdout, spoilt.stdout
        key.write_bytes(good_key)

        # a new certificate made while the daemon serves the old one: the CLI trusts the file's alone, refused, said why
        again = _spasmwatch("config", "tls", "new", "--config", str(config))
        assert again.returncode == 0 and "is read only when the daemon starts" in again.stdout, again.stdout
        refused = _spasmwatch("status", "--config", str(config))
        assert refused.returncode == 2, refused
        assert f"did not show the certificate {cert} ([daemon.http] tls_cert)" in refused.stderr, refused.stderr
        assert "served from its next start" in refused.stderr, refused.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(UP_S) == 0, log.read_text()
    assert "Traceback" not in log.read_text() and "never retrieved" not in log.read_text(), log.read_text()


def test_a_certificate_that_cannot_be_used_costs_the_page_not_the_monitoring(tmp_path: Path) -> None:
    """A key of another pair (a copy gone wrong): a start by hand goes on, monitoring, with one log
    line naming the file; 'status' says why the page does not answer; the pair mended (its own key
    back), the page comes back without a restart."""
    port = free_port()
    config = _config(tmp_path, port)
    assert _spasmwatch("config", "tls", "new", "--config", str(config)).returncode == 0
    cert, key = tmp_path / "page-cert.pem", tmp_path / "page-key.pem"
    good_key = key.read_bytes()
    other = tmp_path / "other"
    other.mkdir()
    named = _spasmwatch("config", "tls", "new", "--name", "nursery.example.net", "--config", str(other / "config.toml"))
    assert named.returncode == 0 and "localhost, nursery.example.net, " in named.stdout, named.stdout
    wrong = _spasmwatch("config", "tls", "new", "--name", "nursery pi", "--config", str(other / "config.toml"))
    assert wrong.returncode == 2 and "--name 'nursery pi': a host name is letters" in wrong.stderr, wrong.stderr
    key.write_bytes((other / "page-key.pem").read_bytes())
    log = tmp_path / "daemon.log"
    with logged([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], log) as proc:
        end = time.monotonic() + UP_S
        # up, and the band looked for all the same (its session logs it just after the daemon's "up")
        wait_while_up(proc, log, end, lambda: "crib: disconnected -> connecting" in log.read_text())
        text = log.read_text()
        said = f"web page: HTTPS: [daemon.http] tls_key: {key} is not the key of the certificate {cert} (tls_cert)"
        assert text.count(said) == 1 and "monitoring without the page: alarms go on" in text, text
        assert "spasmwatch daemon up" in text, text
        status = _spasmwatch("status", "--config", str(config))
        assert status.returncode == 2 and f"though the daemon on this store runs (pid {proc.pid}), monitoring" in status.stderr, status.stderr
        assert f"the page's HTTPS certificate cannot be used: [daemon.http] tls_key: {key} is not the key" in status.stderr, status.stderr
        key.write_bytes(good_key)  # mended (as 'config tls new' would, with a new pair)
        wait_while_up(proc, log, time.monotonic() + MENDED_S, lambda: _https_status(port, cert) is not None)
        assert f"web page listening now on https://127.0.0.1:{port}/" in log.read_text()
        assert log.read_text().count(said) == 1, "said once, not at each try"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(UP_S) == 0, log.read_text()
