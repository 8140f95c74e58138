"""The fingerprint of a failing channel's settings (alerts/channels/base.py) is keyed by a random key
of this installation, kept beside the config and never in the store: a copy of the store (sent to a
clinic) cannot confirm a guessed ntfy topic, webhook URL or password by hashing guesses. A key that
is lost, damaged or unreadable never stops the daemon; the failures kept under another key are then
"changed: test it", never failing under settings nobody can tell apart.

And one value written two ways (``~/ca.pem`` and its absolute path, an upper-case host, a default
port said) is the same setting: hashed apart, a failure edited into the other spelling read
"changed", as if fixed. Only what means the same is made the same: a path's case, a trailing slash
after a path, a token's or a header value's case are left as written.

Real parts: key files on disk (their modes), the SQLite store on disk, the real Dispatcher.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from spasmwatch.alerts.channels import Dispatcher, MqttChannel, MqttSettings, NtfyChannel, NtfySettings, SoundChannel, SoundSettings
from spasmwatch.alerts.channels import WebhookChannel, WebhookSettings
from spasmwatch.alerts.channels.base import Channel, fingerprint
from spasmwatch.alerts.channels.fingerprint_key import KEY_BYTES, KEY_NAME, key_beside, load_key
from spasmwatch.store import Store

KEY = b"k" * KEY_BYTES
TOPIC = "https://ntfy.example/phone_Xy7"


def _fp(ch: Channel) -> str | None:
    return fingerprint(ch, KEY)


def test_the_key_is_made_0600_once_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "fingerprint.key"
    key = load_key(path)
    assert len(key) == KEY_BYTES and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key  # the next start: the same key
    assert load_key(tmp_path / "other" / "fingerprint.key") != key  # another installation: its own
    ch = NtfyChannel(NtfySettings(url=TOPIC))
    assert fingerprint(ch, key) == fingerprint(ch, key) != fingerprint(ch, load_key(tmp_path / "other" / "fingerprint.key"))


def test_one_config_named_by_a_link_or_a_relative_path_has_one_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the second cliedges review: the key went beside the path the daemon was given, a
    link's folder for a config reached by a link (~/.config/spasmwatch/config.toml linked to a
    dotfiles folder; the service given one path, a shell the other): each path its own key, and
    the failing channels "changed" whenever the daemon was started by the other one."""
    real = tmp_path / "dotfiles" / "spasmwatch.toml"
    real.parent.mkdir()
    real.write_text("")
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    monkeypatch.chdir(tmp_path / "config")
    assert key_beside(link) == key_beside(real) == key_beside(Path("config.toml")) == real.parent / KEY_NAME
    assert load_key(key_beside(link)) == load_key(key_beside(Path("config.toml")))


def test_a_key_readable_by_others_is_made_private(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "fingerprint.key"
    key = load_key(path)
    path.chmod(0o644)
    assert load_key(path) == key and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "readable by other accounts" in caplog.text


def test_a_damaged_key_is_replaced_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "fingerprint.key"
    path.write_text("half a ke")
    with caplog.at_level(logging.WARNING):
        key = load_key(path)
    assert len(key) == KEY_BYTES and load_key(path) == key, path.read_text()
    assert f"{path}: not a key" in caplog.text and "changed" in caplog.text, caplog.text


@pytest.mark.parametrize("where", ["a folder in its place", "its folder a file"])
def test_a_key_that_can_be_neither_read_nor_made_is_one_for_this_run_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str) -> None:
    if where == "a folder in its place":
        path = tmp_path / "fingerprint.key"
        path.mkdir()
    else:
        (tmp_path / "cfg").write_text("")
        path = tmp_path / "cfg" / "fingerprint.key"
    with caplog.at_level(logging.WARNING):
        one, two = load_key(path), load_key(path)
    assert len(one) == KEY_BYTES and one != two  # each run its own: nothing kept matches it
    assert "cannot read or make the key" in caplog.text and f"({path}: " in caplog.text and "changed" in caplog.text, caplog.text


def test_a_failure_kept_under_another_key_is_changed_not_failing(tmp_path: Path) -> None:
    """The store moved to another computer (or its key lost): the settings cannot be told the same,
    so the old failure is "changed: test it" (never shown failing for settings that may be fixed);
    back with its key, it is failing again."""
    here, there = load_key(tmp_path / "here.key"), load_key(tmp_path / "there.key")
    with Store(tmp_path / "db.sqlite") as store:
        channels = {"ntfy:phone": NtfyChannel(NtfySettings(url=TOPIC, name="ntfy:phone"))}
        d = Dispatcher(channels, failing_store=store, fingerprint_key=here)
        d.note_sent("ntfy:phone", "the alarm", "ntfy:phone: HTTP 500")
        assert list(d.failing()) == ["ntfy:phone"]
        moved = Dispatcher(channels, failing_store=store, fingerprint_key=there)
        assert moved.failing() == {} and list(moved.changed()) == ["ntfy:phone"]
        back = Dispatcher(channels, failing_store=store, fingerprint_key=here)
        assert list(back.failing()) == ["ntfy:phone"] and back.changed() == {}


def test_a_url_written_another_way_that_means_the_same_is_the_same_setting() -> None:
    def ntfy(url: str) -> str | None:
        return _fp(NtfyChannel(NtfySettings(url=url)))

    same = ntfy(TOPIC)
    assert ntfy("HTTPS://NTFY.Example/phone_Xy7") == ntfy("https://ntfy.example:443/phone_Xy7") == same
    assert ntfy("http://ntfy.example:80/phone_Xy7") == ntfy("http://ntfy.example/phone_Xy7")
    assert ntfy("http://[FD00::A]:8080/phone_Xy7") == ntfy("http://[fd00::a]:8080/phone_Xy7") != ntfy("http://[fd00::a]/phone_Xy7")
    # Not the same: a topic's case (another topic), another scheme, a port said that is not the default.
    others = {ntfy("https://ntfy.example/phone_xy7"), ntfy("http://ntfy.example/phone_Xy7"), ntfy("https://ntfy.example:8443/phone_Xy7")}
    assert len(others | {same}) == 4

    def hook(url: str, **headers: str) -> str | None:
        return _fp(WebhookChannel(WebhookSettings(url=url, headers=dict(headers))))

    assert hook("https://HA.local") == hook("https://ha.local/")  # an empty path is "/": the same request
    assert hook("https://ha.local/api/webhook/abc") != hook("https://ha.local/api/webhook/abc/")  # a path's slash: another resource
    assert hook("https://User:pw@ha.local/x") != hook("https://user:pw@ha.local/x")  # a login's case is the login's
    # Header names are case-blind (RFC 9110), and their order says nothing; a value's case is the value's.
    assert hook("https://ha.local/x", Authorization="Bearer t", X_A="1") == hook("https://ha.local/x", X_A="1", authorization="Bearer t")
    assert hook("https://ha.local/x", Authorization="Bearer t") != hook("https://ha.local/x", Authorization="bearer T")
    # One name said twice (in two cases) is sent twice, in the config's order: a field's values in
    # order (RFC 9110 5.3), so swapped values are another request (hashed alike until the second cliedges review).
    twice = [_fp(WebhookChannel(WebhookSettings(url="https://ha.local/x", headers=h))) for h in ({"X-A": "1", "x-a": "2"}, {"X-A": "2", "x-a": "1"})]
    assert twice[0] != twice[1]
    assert twice[0] == _fp(WebhookChannel(WebhookSettings(url="https://ha.local/x", headers={"x-a": "1", "X-A": "2"})))


def test_a_path_written_another_way_is_the_same_file_and_a_host_name_is_case_blind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ca.pem").write_text("")

    def mqtt(**kw: object) -> str | None:
        return _fp(MqttChannel(MqttSettings(tls=True, **kw)))  # type: ignore[arg-type]

    same = mqtt(host="broker.lan", ca_file=str(tmp_path / "ca.pem"))
    assert mqtt(host="Broker.LAN", ca_file="~/ca.pem") == mqtt(host="broker.lan", ca_file="./ca.pem") == same
    assert mqtt(host="broker.lan", ca_file=f"{tmp_path}/sub/../ca.pem") == same
    assert mqtt(host="broker.lan") != same != mqtt(host="broker.lan", ca_file="~/other.pem")  # "": the system's CAs
    assert mqtt(host="broker.lan", ca_file="") == mqtt(host="broker.lan")  # at its default, whichever way

    def sound(wav: str) -> str | None:
        return _fp(SoundChannel(SoundSettings(wav_path=Path(wav))))

    assert sound("~/alarm.wav") == sound(str(tmp_path / "alarm.wav")) != sound("~/Alarm.wav")
