"""'spasmwatch treatment add' run as a family runs it: the real entry point in a subprocess, a real store."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from daemonproc import unprivileged
from synthetic import disk_files, other_disk, unmount

from spasmwatch.store import KnownStores, Store

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


def test_a_note_or_treatment_is_not_written_where_the_daemon_would_not_write(tmp_path: Path) -> None:
    """'spasmwatch note' / 'treatment add' write into the store the config names, as the daemon does,
    so they refuse what it refuses (store/known.py): another family's store at its path (another disk
    mounted there), and its disk not mounted yet. Old code: the note went into the other family's
    store, and with the disk not mounted a new, empty store was made beneath the mount point (the
    note hidden once the disk mounted over it)."""
    path = tmp_path / "disk" / "spasmwatch.db"
    with Store.may_fail(path, KnownStores.default()) as st:  # the daemon's store, recorded with its id
        assert st.open_error is None
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), SPASMWATCH_DATA_DIR=str(path.parent))

    def note(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "spasmwatch", "note", text], capture_output=True, text=True, timeout=60, env=env)

    ours = other_disk(path)
    theirs = disk_files(path.parent)
    refused = note("gave vigabatrin")
    assert refused.returncode != 0 and "a different spasmwatch store is at" in refused.stderr, refused.stdout + refused.stderr
    assert disk_files(path.parent) == theirs  # nothing written onto their disk
    ours()
    mount = unmount(path)
    late = note("gave vigabatrin")
    assert late.returncode != 0 and "is its disk mounted?" in late.stderr, late.stdout + late.stderr
    assert not path.parent.exists()  # no folder, no store beneath the mount point
    assert subprocess.run([sys.executable, "-m", "spasmwatch", "treatment", "add", *VIGABATRIN], capture_output=True, timeout=60, env=env).returncode != 0
    assert not path.parent.exists()
    mount()
    assert note("gave vigabatrin").returncode == 0
    with Store.open_readonly(path) as store:
        assert [n.text for n in store.notes()] == ["gave vigabatrin"]


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command on a computer set to UTC, as the review's was."""
    cmd = [sys.executable, "-m", "spasmwatch", *args, "--db", str(db)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ, TZ="UTC"))


def test_at_is_read_in_the_zone_tz_names_and_the_output_says_which(tmp_path: Path) -> None:
    """Found by the report review: on a computer set to UTC, '--at 2026-10-26T23:30' meant as Berlin
    time was stored as 23:30 UTC, and 'report --tz Europe/Berlin' showed the start on 2026-10-27;
    the commands had no --tz (old code: argparse refused it, exit 2) and said no zone."""
    db = tmp_path / "spasmwatch.db"
    Store(db).close()
    berlin = 1_793_053_800.0  # 2026-10-26T23:30+01:00 (CET, the day after the clocks went back)
    added = _cli(db, "treatment", "add", *VIGABATRIN, "--at", "2026-10-26T23:30", "--tz", "Europe/Berlin")
    assert added.returncode == 0, added.stderr
    assert "2026-10-26 23:30 Europe/Berlin  vigabatrin start 50 mg/kg/day" in added.stdout, added.stdout
    noted = _cli(db, "note", "video taken", "--at", "2026-10-26T23:40", "--tz", "Europe/Berlin")
    assert noted.returncode == 0 and "2026-10-26 23:40 Europe/Berlin  note: video taken" in noted.stdout, noted.stdout + noted.stderr
    offset = _cli(db, "note", "given", "--at", "2026-10-26T23:50+01:00")  # an offset in --at: no --tz needed
    assert offset.returncode == 0 and "2026-10-26 22:50 UTC  note: given" in offset.stdout, offset.stdout + offset.stderr
    listed = _cli(db, "treatment", "list", "--tz", "Europe/Berlin")
    assert "2026-10-26 23:30 Europe/Berlin  vigabatrin start" in listed.stdout, listed.stdout + listed.stderr
    with Store.open_readonly(db) as store:
        assert [t.wall_s for t in store.treatments()] == [berlin]
        assert [n.wall_s for n in store.notes()] == [berlin + 600, berlin + 1200]
    unknown = _cli(db, "note", "x", "--at", "2026-10-26T23:30", "--tz", "Europe/Berln")
    assert unknown.returncode != 0 and "--tz: unknown time zone 'Europe/Berln'" in unknown.stderr, unknown.stderr
    # Hostile review: a region, not a zone ('Europe' is a folder of the tz database). Old code: a
    # traceback, IsADirectoryError, from note, treatment, report and export alike.
    for region in ("Europe", "America"):
        folder = _cli(db, "treatment", "list", "--tz", region)
        assert folder.returncode == 2 and f"--tz: unknown time zone {region!r}" in folder.stderr and "Traceback" not in folder.stderr, folder.stderr


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv: file modes do not stop root")
def test_a_store_this_user_may_read_but_not_write_is_refused_naming_whose_it_is(tmp_path: Path) -> None:
    """Found by the CLI input audit: a store left root's by a 'sudo spasmwatch run' once, readable by
    all (0644, as stores were made before 2026-12-05; as another user: its own, 0444), in the
    user's folder. SQLite opened it read-only without a word, and 'note' and 'treatment add' said
    only 'attempt to write a readonly database': not whose the file is, nor the way back."""
    folder = Path(tempfile.mkdtemp(prefix="sw-sudo-", dir="/tmp"))  # not under pytest's 0700 folder: nobody reaches it
    try:
        db = folder / "spasmwatch.db"
        Store(db).close()
        db.chmod(0o644 if os.geteuid() == 0 else 0o444)
        if os.geteuid() == 0:
            os.chown(folder, 65534, 65534)
        before = db.read_bytes()
        for args in (("note", "video taken"), ("treatment", "add", *VIGABATRIN)):
            cmd = unprivileged([sys.executable, "-m", "spasmwatch", *args, "--db", str(db)])
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ, XDG_STATE_HOME=str(folder / "state")))
            assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
            who = "root (mode 644) and this user, nobody," if os.geteuid() == 0 else f"{getpass.getuser()} (mode 444) and this user"
            assert f"{db}: cannot open the store for writing: {db} belongs to {who} may not read and write it" in r.stderr, r.stderr
        assert db.read_bytes() == before
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
