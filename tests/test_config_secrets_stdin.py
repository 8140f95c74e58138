"""Secrets given on standard input, never on the command line: 'config set KEY -', 'config
add-ntfy -', 'config add-webhook -' and 'config init --ntfy -' read the value from a pipe, or
from a prompt that does not echo when stdin is a terminal (commands/config.py ``read_value``).
A secret in argv lands in the shell's history and, while the command runs, in every account's
'ps' (the security review of 2026-12-05); until then '-' was stored as the value itself.

The real CLI in a subprocess (its argv holds only '-'), the file read back with the real loader;
the secret must be stored and be in none of the command's output: 'config set' says a secret
key's value as 'config show' does, and an error repeating a mistyped one cuts it out."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from spasmwatch.config import Config, load_config

TOKEN = "tok-3vQk9ZrT1mWb7HxYp2Ld"  # what a family pastes in
TOPIC_URL = "https://ntfy.sh/family-topic-Qw8Jx2Lm5Np7"
PROMPT_WAIT_S = 30.0  # the CLI's start and its prompt, on the shared test machine


def sw(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """spasmwatch ARGS with ``stdin`` piped in (None: no input at all), this test's own paths."""
    env = dict(os.environ, SPASMWATCH_CONFIG=str(tmp_path / "default" / "config.toml"), SPASMWATCH_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "xdg"))  # fmt: skip
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip


def started(tmp_path: Path) -> Path:
    config = tmp_path / "c.toml"
    r = sw(tmp_path, "config", "init", "--band", "cot", "--config", str(config))
    assert r.returncode == 0, r.stderr
    return config


def assert_unsaid(r: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for s in secrets:
        assert s not in r.stdout and s not in r.stderr, (r.stdout, r.stderr)


@pytest.mark.parametrize(("key", "field"), [("daemon.http.token", lambda c: c.daemon.http.token),
                                            ("channels.mqtt.password", lambda c: c.channels.mqtt.password)])  # fmt: skip
def test_config_set_reads_a_secret_piped_in_and_does_not_say_it(tmp_path: Path, key: str, field: Callable[[Config], str]) -> None:
    config = started(tmp_path)
    if key.startswith("channels.mqtt"):  # a password needs its broker and user name
        for k, v in (("channels.mqtt.host", "127.0.0.1"), ("channels.mqtt.username", "family")):
            assert sw(tmp_path, "config", "set", k, v, "--config", str(config)).returncode == 0
    r = sw(tmp_path, "config", "set", key, "-", "--config", str(config), stdin=TOKEN + "\n")  # as echo or a file gives it
    assert r.returncode == 0, r.stderr
    assert field(load_config(config)) == TOKEN
    assert r.stdout.startswith(f'{key} = "[hidden]"  ({config})'), r.stdout
    assert_unsaid(r, TOKEN)


def test_the_old_form_still_works_and_is_not_echoed_either(tmp_path: Path) -> None:
    """Families' scripts give the value as an argument: kept; the echo no longer repeats it."""
    config = started(tmp_path)
    r = sw(tmp_path, "config", "set", "daemon.http.token", TOKEN, "--config", str(config))
    assert r.returncode == 0 and load_config(config).daemon.http.token == TOKEN, r.stderr
    assert_unsaid(r, TOKEN)
    r = sw(tmp_path, "config", "set", "alerts.escalate_after_s", "-", "--config", str(config), stdin="600\n")  # any key takes '-'
    assert r.returncode == 0 and r.stdout.startswith("alerts.escalate_after_s = 600  ("), r.stdout


def test_add_ntfy_and_webhook_read_their_url_piped_in(tmp_path: Path) -> None:
    config = started(tmp_path)
    r = sw(tmp_path, "config", "add-ntfy", "-", "--caregiver", "mum", "--config", str(config), stdin=TOPIC_URL + "\r\n")
    assert r.returncode == 0, r.stderr
    assert [ch.url for ch in load_config(config).channels.ntfy] == [TOPIC_URL]
    assert "the ntfy topic you gave, on https://ntfy.sh" in r.stdout and "test-alarm --channel ntfy:mum" in r.stdout
    assert_unsaid(r, TOPIC_URL, TOPIC_URL.rsplit("/", 1)[1])
    hook = "https://hooks.example.org/api/webhook/Zr8sKq2vL0pXw4Nt"
    r = sw(tmp_path, "config", "add-webhook", "-", "--config", str(config), stdin=hook)  # no line end: printf '%s'
    assert r.returncode == 0 and [w.url for w in load_config(config).channels.webhook] == [hook], r.stderr
    assert_unsaid(r, "Zr8sKq2vL0pXw4Nt")
    again = sw(tmp_path, "config", "add-ntfy", "-", "--config", str(config), stdin=TOPIC_URL)  # refused: its error names the table, not the topic
    assert again.returncode == 2 and "[channels.ntfy #1] already has url" in again.stderr, again.stderr
    assert_unsaid(again, TOPIC_URL.rsplit("/", 1)[1])


def test_init_ntfy_reads_the_url_piped_in_and_new_still_shows_the_topic_it_made(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    r = sw(tmp_path, "config", "init", "--ntfy", "-", "--config", str(config), stdin=TOPIC_URL + "\n")
    assert r.returncode == 0 and [ch.url for ch in load_config(config).channels.ntfy] == [TOPIC_URL], r.stderr
    assert_unsaid(r, TOPIC_URL.rsplit("/", 1)[1])
    made = tmp_path / "m.toml"
    r = sw(tmp_path, "config", "init", "--ntfy", "-", "--config", str(made), stdin="new\n")  # the family must see a topic made for them
    topic = load_config(made).channels.ntfy[0].url.rsplit("/", 1)[1]
    assert r.returncode == 0 and f"topic {topic}" in r.stdout, r.stdout


def test_nothing_piped_in_or_a_mistyped_secret_is_refused_without_repeating_it(tmp_path: Path) -> None:
    config = started(tmp_path)
    before = config.read_bytes()
    r = sw(tmp_path, "config", "set", "daemon.http.token", "-", "--config", str(config))  # empty stdin: a failed 'pass show X |'
    assert r.returncode == 2 and 'daemon.http.token: "-" reads the value from standard input, and nothing came' in r.stderr, r.stderr
    wrong = "ftp://ntfy.sh/family-topic-Qw8Jx2Lm5Np7"
    r = sw(tmp_path, "config", "add-ntfy", "-", "--config", str(config), stdin=wrong)
    assert r.returncode == 2 and 'URL: expected "new" or an http(s) URL' in r.stderr, r.stderr
    assert_unsaid(r, "family-topic-Qw8Jx2Lm5Np7")
    assert config.read_bytes() == before


def test_on_a_terminal_it_asks_without_echo(tmp_path: Path) -> None:
    """stdin a terminal: getpass's prompt, the typed token not echoed back to the screen."""
    config = started(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as a shell's is
        os.environ.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), SPASMWATCH_DATA_DIR=str(tmp_path / "data"))
        os.execv(sys.executable, [sys.executable, "-m", "spasmwatch", "config", "set", "daemon.http.token", "-", "--config", str(config)])
    screen = _read_until(fd, b"(not shown): ")
    os.write(fd, TOKEN.encode() + b"\r")
    screen += _read_until(fd, None)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert b"daemon.http.token (not shown): " in screen and b'daemon.http.token = "[hidden]"' in screen, screen
    assert TOKEN.encode() not in screen  # the terminal did not echo it, nor the command say it
    assert load_config(config).daemon.http.token == TOKEN


def _read_until(fd: int, end: bytes | None) -> bytes:
    """What the terminal shows, up to ``end`` (None: until the child closes it)."""
    got, deadline = b"", time.monotonic() + PROMPT_WAIT_S
    while (end is None or end not in got) and time.monotonic() < deadline:
        if not select.select([fd], [], [], 0.5)[0]:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        got += chunk
    return got


def test_the_help_says_how(tmp_path: Path) -> None:
    for action in ("set", "add-ntfy", "add-webhook", "init"):
        r = sw(tmp_path, "config", action, "--help")
        assert '"-" reads it from standard input' in " ".join(r.stdout.split()), (action, r.stdout)


@pytest.mark.parametrize("own_file", [True, False])
def test_lan_without_a_token_names_the_command_that_sets_one_and_it_works(tmp_path: Path, own_file: bool) -> None:
    """'config set daemon.http.lan true' with no token is refused: the error names the exact command
    that sets one (with the --config it was given; a bare one edits the default config), and that
    command, the token piped in, lets lan be set. Until 2026-12-06 it said only '[daemon.http] token:
    required when lan = true', and a family had to find the key and the way to set it unseen."""
    config = tmp_path / "usb disk" / "band.toml" if own_file else tmp_path / "default" / "config.toml"
    config.parent.mkdir(parents=True)
    where = ["--config", str(config)] if own_file else []
    assert sw(tmp_path, "config", "init", "--band", "cot", *where).returncode == 0
    refused = sw(tmp_path, "config", "set", "daemon.http.lan", "true", *where)
    how = f"\"spasmwatch config set daemon.http.token - --config '{config}'\"" if own_file else "'spasmwatch config set daemon.http.token -'"
    assert refused.returncode == 2 and "[daemon.http] token: required when lan = true" in refused.stderr and how in refused.stderr, refused.stderr
    assert not load_config(config).daemon.http.lan
    # The command named, as argv (its quoted path one argument), the token piped in as a family pastes it.
    assert sw(tmp_path, "config", "set", "daemon.http.token", "-", *where, stdin=TOKEN + "\n").returncode == 0
    assert sw(tmp_path, "config", "set", "daemon.http.lan", "true", *where).returncode == 0
    assert load_config(config).daemon.http.lan and load_config(config).daemon.http.token == TOKEN
