"""What the daemon says at each start (and reload) of settings that hand the baby's data to whoever
looks (the security reviews of 2026-12-07): an ntfy topic short enough to guess, on a server anyone
may subscribe on (ntfy.sh), gives every push (the band's label, often the child's name; the
clusters' counts and times) to whoever tries it, and lets them send false alarms; an MQTT password
to a broker on the network without TLS crosses the Wi-Fi as it is, with every retained status; an
ntfy server or webhook reached by plain http:// past the home network carries every push across the
internet in clear; a short web token is guessed. Said without the secret (its length, not the
topic; the URL's origin), nothing refused: a family's monitor must still start. The real wiring of
a config read by the real loader; the log and 'spasmwatch status' say this same list
(tests/daemon/test_exposure_status.py)."""

from __future__ import annotations

import logging

import pytest

from spasmwatch.config import from_dict
from spasmwatch.daemon.consts import MIN_NTFY_TOPIC_CHARS, MIN_TOKEN_CHARS
from spasmwatch.daemon.http import new_token
from spasmwatch.daemon.wiring import exposures, warn_exposures

MADE = "spasmwatch-Qw8Jx2Lm5Np7Rt3Vy6Zb1Cd4"  # what 'config add-ntfy new' makes


def _said(caplog: pytest.LogCaptureFixture, channels: dict[str, object], http: dict[str, object] | None = None) -> str:
    """What the start logs of a config with these [channels] (and [daemon.http])."""
    caplog.clear()
    cfg = from_dict({"channels": channels, "daemon": {"http": http or {}}}, "config.toml")
    with caplog.at_level(logging.WARNING, logger="spasmwatch.daemon.wiring"):
        listed = [e.text for e in warn_exposures(cfg)]
    said = [r.getMessage() for r in caplog.records]
    assert said == listed == exposures(cfg)  # the log's words are the status's list
    return "\n".join(said)


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


@pytest.mark.parametrize("host", ["ntfy.example", "203.0.114.9", "[2a00:1450::1]"])
def test_plain_http_to_a_server_past_the_home_network_is_said_without_the_url(caplog: pytest.LogCaptureFixture, host: str) -> None:
    """Every push (the band's label, the clusters) and an ntfy access token cross the internet in clear."""
    ntfy = {"url": f"http://{host}/{MADE}", "name": "phones", "token": "tk_AbCdEf0123456789"}
    hook = {"url": f"http://{host}:8080/hooks/s3cr3t-path?key=hunter2", "name": "home"}
    said = _said(caplog, {"ntfy": [ntfy], "webhook": [hook]})
    assert (f"[channels.ntfy #1] (ntfy:phones): plain http://{host}, not on this computer or the home network: every push "
            "(the band's label, the clusters) and its access token cross the internet unencrypted") in said, said  # fmt: skip
    assert f"[channels.webhook #1] (webhook:home): plain http://{host}:8080, not on this computer or the home network" in said
    assert said.count("Use its https:// address") == 2
    assert not any(secret in said for secret in (MADE, "tk_", "s3cr3t", "hunter2")), said


@pytest.mark.parametrize("url", [
    "https://ntfy.example/x",  # encrypted
    "http://127.0.0.1:8080/x", "http://localhost/x",  # this computer
    "http://192.168.1.5/x", "http://10.1.2.3/x", "http://[fd12::5]/x", "http://169.254.3.4/x",  # the home network's addresses
    "http://nas/x", "http://nas.local/x", "http://ntfy.home.arpa/x", "http://pi.lan/x", "http://ntfy.fritz.box.home/x",
    "http://100.101.102.103/x", "http://pi.tail1234.ts.net/x",  # a Tailscale VPN: encrypted on the way
])  # fmt: skip
def test_http_at_home_or_https_is_not_said(caplog: pytest.LogCaptureFixture, url: str) -> None:
    assert _said(caplog, {"ntfy": [{"url": url + "/" + MADE, "name": "phones"}], "webhook": [{"url": url, "name": "home"}]}) == ""


# HTTPS for the LAN page (files the loader does not read: the daemon checks them as it starts the page)
TLS = {"tls_cert": "/etc/spasmwatch/page-cert.pem", "tls_key": "/etc/spasmwatch/page-key.pem"}


def test_a_short_web_token_is_said_and_a_made_one_is_not(caplog: pytest.LogCaptureFixture) -> None:
    """The page acknowledges alarms: a token under MIN_TOKEN_CHARS starts, with a warning naming its
    length (not the token)."""
    short = "x" * (MIN_TOKEN_CHARS - 1)
    assert _said(caplog, {}, {"lan": True, "token": short, **TLS}).startswith(
        f"web page: the LAN token is short ({MIN_TOKEN_CHARS - 1} characters); {MIN_TOKEN_CHARS} or more is safer: "
        "'spasmwatch config set daemon.http.token new' makes one"
    )
    assert _said(caplog, {}, {"token": short}) != ""  # asked for on 127.0.0.1 too
    assert _said(caplog, {}, {"lan": True, "token": "x" * MIN_TOKEN_CHARS, **TLS}) == ""
    assert _said(caplog, {}, {"lan": True, "token": new_token(), **TLS}) == "" and _said(caplog, {}, {}) == ""


@pytest.mark.parametrize("http", [{"lan": True}, {"host": "192.168.1.20"}], ids=["lan", "a LAN address"])
def test_the_page_in_plain_http_on_the_home_network_is_said_and_goes_away_with_https(
    caplog: pytest.LogCaptureFixture, http: dict[str, object]
) -> None:
    """Whoever watches the Wi-Fi reads the ?token= link, the cookie and the baby's state of a LAN page
    in plain HTTP; with a certificate (HTTPS) nothing is said, nor for a page on this computer only."""
    said = _said(caplog, {}, {**http, "token": new_token()})
    assert said == ("web page: served to the home network in plain HTTP: whoever watches the Wi-Fi reads the sign-in link and "
                    "cookie (and with them can acknowledge alarms) and the baby's state. 'spasmwatch config tls new' makes a "
                    "certificate for HTTPS (then restart the monitor, and accept the certificate once on each phone)")  # fmt: skip
    assert _said(caplog, {}, {**http, "token": new_token(), **TLS}) == ""
    assert _said(caplog, {}, {"token": new_token()}) == ""
