"""'spasmwatch treatment add' run as a family runs it: the real entry point in a subprocess, a real store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from spasmwatch.store import Store

VIGABATRIN = ("vigabatrin", "--action", "start", "--dose", "50", "--unit", "mg/kg/day")


def _treatment(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "spasmwatch", "treatment", *args, "--db", str(db)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ))


def test_the_same_change_typed_twice_is_kept_once(tmp_path: Path) -> None:
    """Found by the family audit: the README's 'treatment add vigabatrin --action start ...' run
    twice (an unclear answer, or both parents) kept two starts, with no command to remove one,
    and the doctor's report listed 'vigabatrin 50 mg/kg/day started' twice."""
    db = tmp_path / "spasmwatch.db"
    Store(db).close()
    first = _treatment(db, "add", *VIGABATRIN, "--at", "2026-12-05T07:00")
    assert first.returncode == 0, first.stderr
    again = _treatment(db, "add", "Sabril", *VIGABATRIN[1:], "--at", "2026-12-05T08:30", "--by", "Dad")  # its brand name
    assert again.returncode == 2, again.stdout + again.stderr
    assert "already recorded as #1: 2026-12-05 07:00 " in again.stderr and "vigabatrin start 50 mg/kg/day;" in again.stderr and "nothing was added" in again.stderr, again.stderr
    assert "--again" in again.stderr and "Traceback" not in again.stderr
    other = _treatment(db, "add", "vigabatrin", "--action", "change", "--dose", "100", "--unit", "mg/kg/day", "--at", "2026-12-05T09:00")
    assert other.returncode == 0, other.stderr  # another change: taken
    forced = _treatment(db, "add", *VIGABATRIN, "--at", "2026-12-05T10:00", "--again")
    assert forced.returncode == 0, forced.stderr
    with Store.open_readonly(db) as store:
        assert [(t.action, t.dose) for t in store.treatments()] == [("start", 50.0), ("change", 100.0), ("start", 50.0)]
