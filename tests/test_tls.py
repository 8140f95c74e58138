"""The family page's certificate ([daemon.http] tls_cert, tls_key; spasmwatch/tls.py): what a
family's files can be and what each is called, read from real PEM files on disk, and the config's
rules for the two keys (read by the real loader). The daemon's use of them: tests/daemon/test_https_page.py."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

import pytest

from spasmwatch.config import from_dict
from spasmwatch.errors import ConfigError
from spasmwatch.tls import TLS_CERT_DAYS, TlsError, client_context, load, self_signed

NAMES = ["nursery-pi", "nursery-pi.local", "localhost"]
ADDRESSES = [ipaddress.ip_address("127.0.0.1")]


def _pair(folder: Path, now: dt.datetime | None = None, tag: str = "") -> tuple[Path, Path]:
    cert_pem, key_pem = self_signed(NAMES, list(ADDRESSES), now)
    cert, key = folder / f"cert{tag}.pem", folder / f"key{tag}.pem"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return cert, key


def test_a_made_pair_loads_with_its_names_fingerprint_and_end(tmp_path: Path) -> None:
    cert, key = _pair(tmp_path)
    made = load(cert, key)
    assert made.names == ("nursery-pi", "nursery-pi.local", "localhost", "127.0.0.1")
    assert len(made.fingerprint.split(":")) == 32 and made.fingerprint == made.fingerprint.upper()
    days = (made.not_after - dt.datetime.now(dt.timezone.utc)).days
    assert TLS_CERT_DAYS - 1 <= days <= TLS_CERT_DAYS


@pytest.mark.parametrize(
    "damage, said",
    [
        ("no cert", "[daemon.http] tls_cert: no such file {cert} ('spasmwatch config tls new' makes one)"),
        ("no key", "[daemon.http] tls_key: no such file {key}"),
        ("cert is a folder", "[daemon.http] tls_cert: {cert} is a folder, not a PEM file"),
        ("cert not PEM", "[daemon.http] tls_cert: {cert} is not a PEM certificate"),
        ("key not PEM", "[daemon.http] tls_key: {key} is not an unencrypted PEM private key"),
        ("another pair's key", "[daemon.http] tls_key: {key} is not the key of the certificate {cert} (tls_cert)"),
    ],
)
def test_each_unusable_file_is_named_with_its_key(tmp_path: Path, damage: str, said: str) -> None:
    cert, key = _pair(tmp_path)
    if damage == "no cert":
        cert.unlink()
    elif damage == "no key":
        key.unlink()
    elif damage == "cert is a folder":
        cert.unlink()
        cert.mkdir()
    elif damage == "cert not PEM":
        cert.write_text("not a certificate\n")
    elif damage == "key not PEM":
        key.write_bytes(cert.read_bytes())
    else:
        _, other_key = _pair(tmp_path, tag="2")
        key.write_bytes(other_key.read_bytes())
    with pytest.raises(TlsError) as e:
        load(cert, key)
    assert said.format(cert=cert, key=key) in str(e.value)


def test_an_expired_certificate_is_refused_with_its_date(tmp_path: Path) -> None:
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=TLS_CERT_DAYS + 10)
    cert, key = _pair(tmp_path, long_ago)
    ended = long_ago + dt.timedelta(days=TLS_CERT_DAYS)
    with pytest.raises(TlsError, match=f"tls_cert: {cert} expired on {ended:%Y-%m-%d}: phones refuse it; 'spasmwatch config tls new'"):
        load(cert, key)


def _served(cert: Path, key: Path) -> tuple[int, threading.Thread]:
    """A TLS server on 127.0.0.1 presenting ``cert`` to one client, which it sends b"ok"."""
    context = load(cert, key).server_context()
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with srv:
            conn, _ = srv.accept()
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                pass  # the client refused it: the test's point

    t = threading.Thread(target=serve)
    t.start()
    return srv.getsockname()[1], t


def test_the_cli_trusts_the_configured_certificate_only(tmp_path: Path) -> None:
    """Pinned: the file's certificate is taken whatever name was asked (the CLI asks 127.0.0.1); another
    certificate, made the same way for the same names, is refused."""
    cert, key = _pair(tmp_path)
    port, t = _served(cert, key)
    with socket.create_connection(("127.0.0.1", port)) as raw, client_context(cert).wrap_socket(raw) as tls:
        assert tls.recv(2) == b"ok"
    t.join()
    other, _ = _pair(tmp_path, tag="2")
    port, t = _served(cert, key)
    with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLCertVerificationError):
        client_context(other).wrap_socket(raw)
    t.join()


def test_the_config_takes_the_two_keys_together_as_absolute_paths() -> None:
    http = {"tls_cert": "/etc/spasmwatch/cert.pem", "tls_key": "/etc/spasmwatch/key.pem"}
    assert from_dict({"daemon": {"http": http}}, "config.toml").daemon.http.scheme == "https"
    with pytest.raises(ConfigError, match=r"\[daemon.http\] tls_key: required with tls_cert: the certificate and its key go together"):
        from_dict({"daemon": {"http": {"tls_cert": "/etc/c.pem"}}}, "config.toml")
    with pytest.raises(ConfigError, match=r"\[daemon.http\] tls_cert: expected \"\" or an absolute path"):
        from_dict({"daemon": {"http": {**http, "tls_cert": "cert.pem"}}}, "config.toml")
    # files are not looked at by the loader: a missing one costs the page at the daemon's start, never the daemon
    assert from_dict({"daemon": {"http": {"tls_cert": "/nowhere/c.pem", "tls_key": "/nowhere/k.pem"}}}, "config.toml")


def test_a_page_url_in_plain_http_is_refused_for_an_https_page() -> None:
    http = {"lan": True, "token": "t" * 32, "tls_cert": "/c.pem", "tls_key": "/k.pem", "page_url": "http://nursery-pi.local:8765/"}
    with pytest.raises(ConfigError, match=r'page_url: the page is served over HTTPS \(tls_cert is set\): give "https://nursery-pi.local:8765/"'):
        from_dict({"daemon": {"http": http}}, "config.toml")
