"""The CLI against a real local HttpServer (a fake daemon behind it): addresses and arguments."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest
from fake_daemon import FakeDaemon
from web_harness import ServerThread

from spasmwatch import cli
from spasmwatch.daemon.http import HttpServer


def _config(tmp_path: Path, host: str, port: int) -> str:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[daemon.http]\nhost = "{host}"\nport = {port}\n')
    return str(cfg)


def test_the_cli_reaches_a_daemon_on_ipv6_loopback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: the URL lacked brackets (http://::1:PORT), so the Host header was
    refused as not loopback and every command failed with 403."""
    with ServerThread(FakeDaemon(), host="::1") as srv:
        assert cli.main(["status", "--config", _config(tmp_path, "::1", srv.port)]) == 0
    assert "SW-0001" in capsys.readouterr().out


def test_the_daemons_log_gives_an_ipv6_page_in_brackets(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """It said 'status page and API on http://::1:PORT/': no link a browser opens, the port read as
    part of the address."""
    from spasmwatch.daemon.lock import one_daemon
    from spasmwatch.daemon.main import _listen

    server = HttpServer(FakeDaemon(), host="::1", port=0)

    async def listen() -> None:
        with one_daemon(tmp_path / "spasmwatch.db") as lock:
            await _listen(server, lock)
            await server.stop()

    with caplog.at_level(logging.INFO, logger="spasmwatch.daemon.main"):
        asyncio.run(listen())
    assert server.address is not None and f"status page and API on http://[::1]:{server.address[1]}/" in caplog.text, caplog.text


def test_a_label_for_a_cluster_that_is_not_a_number_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(FakeDaemon()) as srv:
        rc = cli.main(["clusters", "--config", _config(tmp_path, "127.0.0.1", srv.port), "--label", "twelve", "false_alarm"])
    assert rc == 2 and "--label: the first value is a cluster number" in capsys.readouterr().err


@pytest.mark.parametrize("device", ["Mila's band", "Mila/Noah", "bébé#1?"])
def test_mute_reaches_a_band_whose_id_has_spaces_or_slashes(tmp_path: Path, capsys: pytest.CaptureFixture[str], device: str) -> None:
    """Found by review: a USB serial band's device id is its configured label ("Mila's band");
    'spasmwatch mute' put it in the URL as it was: a traceback (InvalidURL) for a space, the
    wrong API path (404 or another band) for a '/', '#' or '?'."""
    fake = FakeDaemon()
    fake.bands[0]["device"] = device
    with ServerThread(fake) as srv:
        rc = cli.main(["mute", "--config", _config(tmp_path, "127.0.0.1", srv.port), device, "--for", "30m"])
    assert rc == 0, capsys.readouterr().err
    assert f"{device}: band notices muted for 30m" in capsys.readouterr().out


def test_mute_takes_the_bands_name_as_the_config_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the docs run: README's 'spasmwatch mute spasmwatch-0001 --for 1h' names the band as
    [[bands]] name does, but a real band's device id is its serial number (sw-55c05d34a066):
    the command refused it ("no band with the device id 'spasmwatch-0001'")."""
    fake = FakeDaemon(bands=2)  # the daemon calls them "Mila's band" and "Noah's band"
    with ServerThread(fake) as srv:
        cfg = _config(tmp_path, "127.0.0.1", srv.port)
        rc = cli.main(["mute", "--config", cfg, "Noah's band", "--for", "1h"])
        assert rc == 0, capsys.readouterr().err
        assert "SW-0002: band notices muted for 1h" in capsys.readouterr().out
        assert fake.bands[1]["muted_until"] is not None and fake.bands[0]["muted_until"] is None
        # With a label, the daemon calls the band by it; the [[bands]] name still reaches it.
        Path(cfg).write_text(Path(cfg).read_text() + '[[bands]]\nname = "spasmwatch-0001"\nlabel = "Mila\'s band"\n')
        rc = cli.main(["mute", "--config", cfg, "spasmwatch-0001", "--for", "2h"])
        assert rc == 0, capsys.readouterr().err
        assert "SW-0001: band notices muted for 2h" in capsys.readouterr().out
        # Found by the family audit: the name in other capitals was "no band with the device id or name".
        for typed in ("SPASMWATCH-0001", "noah's BAND"):
            rc = cli.main(["mute", "--config", cfg, typed, "--for", "3h"])
            assert rc == 0, capsys.readouterr().err
            assert "band notices muted for 3h" in capsys.readouterr().out


def test_another_program_on_the_daemons_port_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: a web server that is not the daemon on the configured port (8765 is a
    common one) answered /api/status with a page, and 'spasmwatch status' died with a
    JSONDecodeError traceback, exit 1."""
    import functools
    import http.server
    import threading

    (tmp_path / "www" / "api").mkdir(parents=True)
    (tmp_path / "www" / "api" / "status").write_text("<html>another program</html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as srv:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            rc = cli.main(["status", "--config", _config(tmp_path, "127.0.0.1", srv.server_address[1])])
        finally:
            srv.shutdown()
    err = capsys.readouterr().err
    assert rc == 2, err
    assert f"spasmwatch status: error: http://127.0.0.1:{srv.server_address[1]}/api/status answered, but not as the spasmwatch daemon" in err


@pytest.mark.parametrize(
    "http, link",
    [
        ('lan = true\npage_url = "http://nursery-pi.local:8765/"\n', "http://nursery-pi.local:8765/?token=family%2Bsecret-0123456789"),
        ("lan = true\n", "http://HOST:PORT/?token=family%2Bsecret-0123456789"),  # HOST: this computer by mDNS
    ],
)
def test_status_shows_the_link_with_the_token_that_the_401_page_asks_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], http: str, link: str
) -> None:
    """Found by the docs pass: the 401 page says to open the link with ?token=... that the daemon
    shows, but neither the daemon's log nor 'spasmwatch status' showed it. Status on this computer
    does (the config it reads holds the token); the log and pushes still do not carry it."""
    token = "family+secret-0123456789"
    with ServerThread(FakeDaemon(), require_token=True, token=token) as srv:  # 127.0.0.1: what lan = true asks for
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[daemon.http]\nport = {srv.port}\ntoken = "{token}"\n{http}')
        assert cli.main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    name = socket.gethostname()
    link = link.replace("PORT", str(srv.port)).replace("HOST", name if "." in name else f"{name}.local")
    assert f"web page for phones: {link} (open it once on each phone" in out, out
    # Family review: 'this computer's address on the home network' (a phone that resolves no .local name,
    # an older Android's) sent a parent to find an address nothing named the way to; old code: no 'hostname -I'.
    host = link.split("/")[2].rsplit(":", 1)[0]
    other = f"(a phone that cannot open it: the same link with this computer's address on the home network in place of {host} " \
        "('hostname -I' prints it first), or set [daemon.http] page_url)"
    assert (other in out) is ("page_url" not in http), out


def test_status_shows_no_link_for_a_page_that_needs_no_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(FakeDaemon()) as srv:
        assert cli.main(["status", "--config", _config(tmp_path, "127.0.0.1", srv.port)]) == 0
    assert "web page for phones" not in capsys.readouterr().out


def test_status_shows_the_local_link_of_a_page_on_127_0_0_1_that_asks_for_its_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A token set without ``lan`` is asked for on 127.0.0.1 (the security review of 2026-12-07): the
    401 page sends the family to 'status', which gives this computer's link with the token, not one
    for phones (which cannot reach 127.0.0.1)."""
    token = "family+secret-0123456789"
    with ServerThread(FakeDaemon(), token=token) as srv:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[daemon.http]\nport = {srv.port}\ntoken = "{token}"\n')
        assert cli.main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"web page on this computer: http://127.0.0.1:{srv.port}/?token=family%2Bsecret-0123456789 (open it once in its browser" in out, out
    assert "web page for phones" not in out, out
