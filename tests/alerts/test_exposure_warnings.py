"""What the daemon says at each start (and reload) of settings that hand the baby's data to whoever
looks (the security review of 2026-12-07): an ntfy topic short enough to guess, on a server anyone
may subscribe on (ntfy.sh), gives every push (the band's label, often the child's name; the
clusters' counts and times) to whoever tries it, and lets them send false alarms; an MQTT password
to a broker on the network without TLS crosses the Wi-Fi as it is, with every retained status.
Said in the log without the secret (its length, not the topic), nothing refused: a family's
monitor must still start. The real wiring of a config read by the real loader."""

from __future__ import annotations

import logging

import pytest

from spasmwatch.config import from_dict
from spasmwatch.daemon.consts import MIN_NTFY_TOPIC_CHARS
from spasmwatch.daemon.wiring import channels_from

MADE = "spasmwatch-Qw8Jx2Lm5Np7Rt3Vy6Zb1Cd4"  # what 'config add-ntfy new' makes


def _said(caplog: pytest.LogCaptureFixture, channels: dict[str, object]) -> str:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="spasmwatch.daemon.wiring"):
        channels_from(from_dict({"channels": channels}, "config.toml"))
    return "\n".join(r.getMessage() for r in caplog.records)


def test_a_guessable_ntfy_topic_is_said_without_saying_it(caplog: pytest.LogCaptureFixture) -> None:
    said = _said(caplog, {"ntfy": [{"url": "https://ntfy.sh/mila-baby", "name": "phones"}]})
    assert "[channels.ntfy #1] (ntfy:phones): its topic has 9 characters" in said, said
    assert f"fewer than {MIN_NTFY_TOPIC_CHARS}" in said and "config add-ntfy new" in said and "mila" not in said


@pytest.mark.parametrize("ntfy", [
    {"url": f"https://ntfy.sh/{MADE}", "name": "phones"},  # a made one
    {"url": "https://ntfy.example/mila-baby", "name": "phones", "token": "tk_AbCdEf0123456789"},  # the server asks for a login
])  # fmt: skip
def test_a_made_topic_or_one_behind_an_access_token_is_not_said(caplog: pytest.LogCaptureFixture, ntfy: dict[str, str]) -> None:
    assert _said(caplog, {"ntfy": [ntfy]}) == ""


def test_an_mqtt_password_to_a_broker_on_the_network_without_tls_is_said(caplog: pytest.LogCaptureFixture) -> None:
    mqtt = {"enabled": True, "host": "192.168.1.5", "username": "spasmwatch", "password": "hunter2-broker"}
    said = _said(caplog, {"mqtt": mqtt})
    assert "[channels.mqtt]: its password goes to 192.168.1.5:1883 unencrypted (tls = false)" in said, said
    assert "hunter2" not in said
    assert _said(caplog, {"mqtt": {**mqtt, "tls": True, "port": 8883}}) == ""
    assert _said(caplog, {"mqtt": {**mqtt, "host": "127.0.0.1"}}) == ""  # a broker on this computer: nothing crosses the network


def test_mqtt_commands_through_a_broker_on_the_network_without_a_login_are_said(caplog: pytest.LogCaptureFixture) -> None:
    """The broker took spasmwatch without a login, so it takes anyone's: whoever on the home network
    reaches it publishes on the command topic and acknowledges an alarm the family has not seen."""
    mqtt = {"enabled": True, "host": "192.168.1.5"}
    said = _said(caplog, {"mqtt": mqtt})
    assert "[channels.mqtt]: no username, so the broker at 192.168.1.5:1883 takes clients without a login" in said, said
    assert "commands = false" in said
    assert _said(caplog, {"mqtt": {**mqtt, "commands": False}}) == ""  # nothing taken from it
    assert _said(caplog, {"mqtt": {**mqtt, "username": "sw", "password": "pw", "tls": True}}) == ""
    assert _said(caplog, {"mqtt": {**mqtt, "host": "localhost"}}) == ""  # reached from this computer alone (as far as spasmwatch knows)
