"""A config holding a secret is the user's alone, however it was made (the security review of
2026-12-07): 'config init', 'set' and 'add-*' wrote a new one 0600, but one written with an
editor (umask 022: 0644) or copied in kept its mode, and 'config set daemon.http.token -' wrote the
token into it as it was: any other account on the computer read the web token (the page that
acknowledges alarms), the MQTT password and the ntfy topics (every push: the child's name, the
clusters). As ssh does with a private key, it is no longer left so: loading it closes it (a warning
naming the file and the secrets' keys, never their values). One without a secret keeps its mode."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from spasmwatch.config import load_config

TOKEN = "tok-3vQk9ZrT1mWb7HxYp2Ld"
TOPIC_URL = "https://ntfy.sh/family-topic-Qw8Jx2Lm5Np7"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _edited(tmp_path: Path, text: str) -> Path:
    """A config as an editor leaves it under umask 022."""
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o644)
    return path


def test_a_config_holding_secrets_readable_by_others_is_closed_when_loaded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _edited(tmp_path, f'[daemon.http]\ntoken = "{TOKEN}"\n\n[[channels.ntfy]]\nurl = "{TOPIC_URL}"\n')
    with caplog.at_level(logging.WARNING):
        assert load_config(path).daemon.http.token == TOKEN
    assert _mode(path) == 0o600
    said = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{path}: the config (it holds daemon.http.token, channels.ntfy.0.url) was readable by other accounts" in said, said
    assert TOKEN not in said and "family-topic" not in said


def test_a_config_without_secrets_keeps_its_mode(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _edited(tmp_path, '[daemon.http]\nport = 8766\n\n[alerts]\nlanguage = "de"\n')
    with caplog.at_level(logging.WARNING):
        load_config(path)
    assert _mode(path) == 0o644 and not caplog.records


@pytest.mark.parametrize("args, secret", [(["set", "daemon.http.token", "-"], TOKEN), (["add-ntfy", "-"], TOPIC_URL)])
def test_writing_a_secret_into_a_file_readable_by_others_closes_it(tmp_path: Path, args: list[str], secret: str) -> None:
    """The real CLI: the secret piped in goes into the edited 0644 file, which is 0600 when it
    returns (written so: never readable by others with the secret in it)."""
    path = _edited(tmp_path, "[daemon.http]\nport = 8766\n")
    env = dict(os.environ, SPASMWATCH_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    out = subprocess.run([sys.executable, "-m", "spasmwatch", "config", *args, "--config", str(path)],
                         input=secret + "\n", capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert out.returncode == 0, out
    assert _mode(path) == 0o600, oct(_mode(path))
    assert secret in path.read_text() and "family-topic" not in out.stdout + out.stderr and TOKEN not in out.stdout + out.stderr
