"""The CLI against a real local HttpServer (a fake daemon behind it): addresses and arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_daemon import FakeDaemon
from web_harness import ServerThread

from spasmwatch import cli


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


def test_a_label_for_a_cluster_that_is_not_a_number_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(FakeDaemon()) as srv:
        rc = cli.main(["clusters", "--config", _config(tmp_path, "127.0.0.1", srv.port), "--label", "twelve", "false_alarm"])
    assert rc == 2 and "--label: the first value is a cluster number" in capsys.readouterr().err
