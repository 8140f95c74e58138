"""Config durations and counts past which a safety function is off without a word (hostile-input
review: escalate_after_s = 1e308 was taken, and no alarm ever reached the other phones).

Each bound's edge is taken. A value past it (which the release before the bounds took) is taken as
the bound, or as what it meant (raw_keep_days), with a warning naming the file, the line, the key,
the value, the bound, what it runs with and why: refused, the config failed to load after an
upgrade, and the daemon did not start, no monitoring at all (review h47). A value that is nonsense
in kind (negative, not a number, NaN) is still refused naming the file, the line and the key, and so
is a value past a bound that 'config set' is asked to write (the family is there to give another)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spasmwatch.alerts.messages import catalog
from spasmwatch.alerts.model import LANGUAGES
from spasmwatch.alerts.model import (
    ESCALATE_AFTER_MAX_S, QUIET_HOURS_MAX_MIN, RATE_LIMIT_MAX_S, SOUND_REPEAT_EVERY_MAX_S, SOUND_REPEAT_EVERY_MIN_S, SOUND_REPEAT_FOR_MAX_S,
)  # fmt: skip
from spasmwatch.config import get, load_config
from spasmwatch.daemon.consts import BACKUP_KEEP_DAYS_MAX, RAW_KEEP_DAYS_MAX

# (table, key, a value past the bound, the bound's edge (taken as it is), what the value past it is taken as, the bound as said)
BOUNDS = [
    ("alerts", "escalate_after_s", "1e308", f"{ESCALATE_AFTER_MAX_S:g}", "600", "0-600 s"),
    ("alerts", "rate_limit_s", "86400", f"{RATE_LIMIT_MAX_S:g}", "3600", "0-3600 s"),
    ("alerts", "quiet_hours", '"07:00-06:00"', f'"22:00-{(22 * 60 + QUIET_HOURS_MAX_MIN) // 60 % 24:02d}:00"', '"07:00-21:00"', "14 h"),
    ("channels.sound", "repeat_every_s", "1e9", f"{SOUND_REPEAT_EVERY_MAX_S:g}", "300", "0, 2-300 s"),
    ("channels.sound", "repeat_every_s", "0.001", f"{SOUND_REPEAT_EVERY_MIN_S:g}", "2", "0, 2-300 s"),
    ("channels.sound", "repeat_for_s", "1e308", f"{SOUND_REPEAT_FOR_MAX_S:g}", "43200", "0-43200 s"),
    ("daemon", "backup_keep_days", "1000000000", f"{BACKUP_KEEP_DAYS_MAX}", "92", "0-92"),
    ("daemon", "raw_keep_days", "1e9", f"{RAW_KEEP_DAYS_MAX:g}", "0", "0-366"),
]
# (table, key, a value nonsense in kind, the words of what is expected)
NONSENSE = [
    ("alerts", "escalate_after_s", "-5", "a number of seconds 0-600"),
    ("alerts", "escalate_after_s", "nan", "a number of seconds 0-600"),
    ("alerts", "escalate_after_s", "inf", "a number of seconds 0-600"),
    ("alerts", "rate_limit_s", '"7200"', "a number of seconds 0-3600"),
    ("channels.sound", "repeat_every_s", "-1", "a number of seconds 0 (once) or 2-300"),
    ("daemon", "backup_keep_days", "2.5", "a number of whole days 0-92 (0: no backups)"),
    ("alerts", "quiet_hours", '"25:00-06:00"', '"HH:MM-HH:MM", the end not the start, at most 14 h'),
]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, env=os.environ.copy(), timeout=120)


@pytest.mark.parametrize(("table", "key", "past", "edge", "taken", "bound"), BOUNDS, ids=[f"{b[1]}={b[2]}" for b in BOUNDS])
def test_a_value_past_its_bound_is_taken_as_the_bound_with_a_warning(tmp_path: Path, table: str, key: str, past: str, edge: str, taken: str,
                                                                     bound: str) -> None:  # fmt: skip
    config = tmp_path / "config.toml"
    config.write_text(f"# the family's config\n[{table}]\n{key} = {past}\n")
    done = _cli("config", "get", f"{table}.{key}", "--config", str(config))
    assert done.returncode == 0, f"old code: refused: {done.stderr}"
    assert done.stdout.strip() == taken.strip('"')  # (get prints a string without its quotes)
    (warning,) = done.stderr.splitlines()
    assert warning.startswith(f"warning: {config}, line 3: [{table}] {key} = "), warning
    assert f"past its bound ({bound}), taken as {taken}: " in warning, warning
    # Its reason, a page word of its own (app.js looks it up by a built key), in every language.
    (p,) = load_config(config).past_bounds
    assert all(f"page.bound_why.{p.why}" in catalog(lang) for lang in LANGUAGES), p.why
    config.write_text(f"[{table}]\n{key} = {edge}\n")
    assert load_config(config).past_bounds == []  # the edge itself is a setting a family may choose


@pytest.mark.parametrize(("table", "key", "bad", "expect"), NONSENSE, ids=[f"{n[1]}={n[2]}" for n in NONSENSE])
def test_a_value_nonsense_in_kind_is_refused_naming_file_line_and_key(tmp_path: Path, table: str, key: str, bad: str, expect: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"# the family's config\n[{table}]\n{key} = {bad}\n")
    done = _cli("config", "show", "--config", str(config))
    assert done.returncode != 0
    assert f"{config}, line 3: [{table}] {key}: expected {expect}" in done.stderr, done.stderr


def test_config_set_refuses_a_value_past_its_bound_and_keeps_one_the_file_has(tmp_path: Path) -> None:
    """Asked to write a value past its bound, 'config set' refuses it (the family is there to give
    another); a value past a bound the file has already is taken as it is by the load (its warning)
    and left in the file: setting another key works."""
    config = tmp_path / "config.toml"
    config.write_text("[alerts]\nrate_limit_s = 7200\n")
    refused = _cli("config", "set", "alerts.escalate_after_s", "1e308", "--config", str(config))
    assert refused.returncode != 0 and "[alerts] escalate_after_s: expected a number of seconds 0-600, got 1e+308" in refused.stderr, refused.stderr
    assert config.read_text() == "[alerts]\nrate_limit_s = 7200\n"
    done = _cli("config", "set", "alerts.escalate_after_s", "300", "--config", str(config))
    assert done.returncode == 0, done.stderr
    cfg = load_config(config)
    assert (get(cfg, "alerts.escalate_after_s"), get(cfg, "alerts.rate_limit_s")) == (300, RATE_LIMIT_MAX_S)
    assert [(p.key, p.value, p.taken) for p in cfg.past_bounds] == [("rate_limit_s", "7200", "3600")]
