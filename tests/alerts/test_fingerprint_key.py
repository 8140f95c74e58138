"""The fingerprint of a failing channel's settings (alerts/channels/base.py) is keyed by a random key
of this installation, kept beside the config and never in the store: a copy of the store (sent to a
clinic) cannot confirm a guessed ntfy topic, webhook URL or password by hashing guesses. A key that
is lost, damaged or unreadable never stops the daemon; the failures kept under another key are then
"changed: test it", never failing under settings nobody can tell apart.

Real parts: key files on disk (their modes), the SQLite store on disk, the real Dispatcher.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from spasmwatch.alerts.channels import Dispatcher, NtfyChannel, NtfySettings
from spasmwatch.alerts.channels.base import fingerprint
from spasmwatch.alerts.channels.fingerprint_key import KEY_BYTES, load_key
from spasmwatch.store import Store

TOPIC = "https://ntfy.example/phone_Xy7"


def test_the_key_is_made_0600_once_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "fingerprint.key"
    key = load_key(path)
    assert len(key) == KEY_BYTES and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key  # the next start: the same key
    assert load_key(tmp_path / "other" / "fingerprint.key") != key  # another installation: its own
    ch = NtfyChannel(NtfySettings(url=TOPIC))
    assert fingerprint(ch, key) == fingerprint(ch, key) != fingerprint(ch, load_key(tmp_path / "other" / "fingerprint.key"))


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
    assert f"{path}: cannot read or make the key" in caplog.text and "changed" in caplog.text, caplog.text


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
