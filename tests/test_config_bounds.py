"""Config durations and counts past which a safety function is off without a word (hostile-input
review: escalate_after_s = 1e308 was taken, and no alarm ever reached the other phones). Each bound
is refused by the real CLI naming the file, the line and the key; its edge is taken."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spasmwatch.alerts.model import (
    ESCALATE_AFTER_MAX_S, QUIET_HOURS_MAX_MIN, RATE_LIMIT_MAX_S, SOUND_REPEAT_EVERY_MAX_S, SOUND_REPEAT_EVERY_MIN_S, SOUND_REPEAT_FOR_MAX_S,
)  # fmt: skip
from spasmwatch.config import load_config
from spasmwatch.daemon.consts import BACKUP_KEEP_DAYS_MAX, RAW_KEEP_DAYS_MAX

# (table, key, a value past the bound, the bound's edge (taken), the words of what is expected)
BOUNDS = [
    ("alerts", "escalate_after_s", "1e308", f"{ESCALATE_AFTER_MAX_S:g}", "a number of seconds 0-600"),
    ("alerts", "rate_limit_s", "86400", f"{RATE_LIMIT_MAX_S:g}", "a number of seconds 0-3600"),
    ("alerts", "quiet_hours", '"07:00-06:00"', f'"22:00-{(22 * 60 + QUIET_HOURS_MAX_MIN) // 60 % 24:02d}:00"',
     '"HH:MM-HH:MM", the end not the start, at most 14 h'),
    ("channels.sound", "repeat_every_s", "1e9", f"{SOUND_REPEAT_EVERY_MAX_S:g}", "a number of seconds 0 (once) or 2-300"),
    ("channels.sound", "repeat_every_s", "0.001", f"{SOUND_REPEAT_EVERY_MIN_S:g}", "a number of seconds 0 (once) or 2-300"),
    ("channels.sound", "repeat_for_s", "1e308", f"{SOUND_REPEAT_FOR_MAX_S:g}", "a number of seconds 0-43200"),
    ("daemon", "backup_keep_days", "1000000000", f"{BACKUP_KEEP_DAYS_MAX}", "a number of whole days 0-92 (0: no backups)"),
    ("daemon", "raw_keep_days", "1e9", f"{RAW_KEEP_DAYS_MAX:g}", "a number of days 0-366 (0: keep every raw file)"),
]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, env=os.environ.copy(), timeout=120)


@pytest.mark.parametrize(("table", "key", "past", "edge", "expect"), BOUNDS, ids=[f"{b[1]}={b[2]}" for b in BOUNDS])
def test_a_value_past_its_bound_is_refused_naming_file_line_and_key(tmp_path: Path, table: str, key: str, past: str, edge: str, expect: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"# the family's config\n[{table}]\n{key} = {past}\n")
    done = _cli("config", "show", "--config", str(config))
    assert done.returncode != 0
    assert f"{config}, line 3: [{table}] {key}: expected {expect}" in done.stderr, done.stderr
    config.write_text(f"[{table}]\n{key} = {edge}\n")
    load_config(config)  # the edge itself is a setting a family may choose
