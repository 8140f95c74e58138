"""[channels.mqtt] tls: the MQTT channel over TLS to a real mosquitto on 127.0.0.1 that speaks only
TLS and wants a password, with certificates made by openssl for the test. Without it (old code: no
option) the user name and password crossed the home network as they are."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from spasmwatch.alerts.channels import ChannelError, MqttChannel, MqttSettings
from spasmwatch.config import load_config
from spasmwatch.daemon.wiring import channels_from
from spasmwatch.errors import ConfigError

from .conftest import Broker, notice, start_broker, stop_broker


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA, as a family's Home Assistant or their own mosquitto uses: (cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}")
    return cert, key


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Broker, Path]]:
    """A broker on 127.0.0.1 whose only listener is TLS (certificate for 127.0.0.1, signed by the
    test's CA) and that wants user ``family`` / password ``s3cret``; and that CA's certificate."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing: run tools/install-system-deps")
    ca, ca_key = make_ca(tmp_path / "ca", "home-ca")
    key, csr, cert, ext = (tmp_path / n for n in ("broker.key", "broker.csr", "broker.crt", "san.cnf"))
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=broker")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))
    pw = tmp_path / "passwd"
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run([tool, "-b", "-c", str(pw), "family", "s3cret"], check=True, capture_output=True, timeout=10)
    b = start_broker(tmp_path, f"allow_anonymous false\npassword_file {pw}\ncertfile {cert}\nkeyfile {key}\n")
    yield b, ca
    stop_broker(b)


def test_the_channel_publishes_over_tls_with_the_brokers_ca(tls_broker: tuple[Broker, Path]) -> None:
    broker, ca = tls_broker

    async def run() -> None:
        ch = MqttChannel(MqttSettings(port=broker.port, username="family", password="s3cret", tls=True, ca_file=str(ca), timeout_s=5))
        await ch.send(notice())  # a CONNACK and a PUBACK, over TLS: the broker speaks nothing else
        await ch.close()

    asyncio.run(run())


def test_a_broker_whose_certificate_another_ca_signed_is_not_trusted(tls_broker: tuple[Broker, Path], tmp_path: Path) -> None:
    """TLS that trusted any certificate would hand the password to whoever answers: refused, and
    the error says where to look."""
    broker, _ = tls_broker
    other, _ = make_ca(tmp_path / "other", "someone-else")

    async def run() -> None:
        ch = MqttChannel(MqttSettings(port=broker.port, username="family", password="s3cret", tls=True, ca_file=str(other), timeout_s=1))
        with pytest.raises(ChannelError, match=r"no answer from MQTT broker 127.0.0.1:\d+ within 1 s \(TLS: .*ca_file") as e:
            await ch.send(notice())
        assert "s3cret" not in str(e.value)
        await ch.close()

    asyncio.run(run())


def test_a_ca_file_that_is_no_certificate_is_a_clear_error(tls_broker: tuple[Broker, Path], tmp_path: Path) -> None:
    broker, _ = tls_broker
    junk = tmp_path / "notes.txt"
    junk.write_text("not a certificate\n")

    async def run() -> None:
        ch = MqttChannel(MqttSettings(port=broker.port, tls=True, ca_file=str(junk), timeout_s=1))
        with pytest.raises(ChannelError, match=rf"TLS to MQTT broker 127.0.0.1:\d+: cannot use ca_file {junk}") as e:
            await ch.send(notice())
        assert not e.value.retryable
        await ch.close()

    asyncio.run(run())


def test_the_config_carries_tls_to_the_channel_and_checks_ca_file(tmp_path: Path) -> None:
    ca, _ = make_ca(tmp_path / "ca", "home-ca")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[channels.mqtt]\nenabled = true\nhost = "ha.local"\nport = 8883\ntls = true\nca_file = "{ca}"\n')
    ch = channels_from(load_config(cfg))["mqtt"]
    assert isinstance(ch, MqttChannel) and (ch.settings.tls, ch.settings.ca_file, ch.settings.port) == (True, str(ca), 8883)
    cfg.write_text(f'[channels.mqtt]\nenabled = true\nhost = "ha.local"\ntls = true\nca_file = "{tmp_path / "nope.crt"}"\n')
    with pytest.raises(ConfigError, match=r"\[channels.mqtt\] ca_file: expected \"\" \(the system's CAs\) or a PEM file"):
        load_config(cfg)
