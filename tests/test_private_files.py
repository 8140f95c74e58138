"""The baby's data is the user's alone (spasmwatch/private.py): the store, its -wal and -shm, raw
recordings, exports and reports are created 0600 in folders spasmwatch makes 0700, whatever the
umask; a store from before (0644) is closed to other accounts when opened. Real files, real SQLite.

Before 2026-12-05 a new store was -rw-r--r-- in a drwxr-xr-x folder under the usual umask 022."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from spasmwatch.daemon.lock import LockHolder, lock_holder, lock_path, one_daemon
from spasmwatch.io.rawfile import RawHeader, RawWriter
from spasmwatch.outfile import part_path, whole_file, whole_path
from spasmwatch.store import Store


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask of most desktops and Raspberry Pis, whatever the test runner's."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_store_its_wal_and_folder_are_the_users_alone(tmp_path: Path) -> None:
    db = tmp_path / "data" / "spasmwatch.db"
    with Store(db) as s:
        s.add_note(1_709_510_400.0, "note", "slept badly", None, "Mum")  # a write: the -wal and -shm are there while it is open
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.exists() and shm.exists()
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    assert mode(db.parent) == 0o700


def test_an_existing_folder_is_left_as_the_family_made_it(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    Store(folder / "spasmwatch.db").close()
    assert mode(folder) == 0o750 and mode(folder / "spasmwatch.db") == 0o600


def test_a_store_from_before_is_made_private_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "spasmwatch.db"
    Store(db).close()
    os.chmod(db, 0o644)  # as the old code created it
    with caplog.at_level(logging.WARNING, logger="spasmwatch.private"):
        Store(db).close()
    assert mode(db) == 0o600
    assert "was readable by other accounts" in caplog.text and str(db) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="spasmwatch.private"):
        Store(db).close()
    assert caplog.text == ""  # said once, when it changed


def test_read_only_opening_changes_no_mode(tmp_path: Path) -> None:
    """Exports never modify the store (the design notes, docs/engineering.md): a reader does not chmod it either."""
    db = tmp_path / "spasmwatch.db"
    Store(db).close()
    os.chmod(db, 0o640)
    Store.open_readonly(db).close()
    assert mode(db) == 0o640


def test_a_raw_recording_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "band-boot1-000.swraw"
    w = RawWriter(path, RawHeader("band-1", 52.0, True, 1_709_510_400.0))
    w.append(0, [[1, 2, 3, 4, 5, 6]] * 52)
    w.close()
    assert mode(path) == 0o600


def test_an_export_or_report_is_created_private_and_one_written_over_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    with whole_path(out, "the report") as part:  # how export and report write (pyedflib, pyarrow: a path)
        part.write_bytes(b"%PDF")
    assert mode(out) == 0o600
    os.chmod(out, 0o644)  # the family opened it to the doctor's account on purpose
    with whole_file(out, "the report") as f:
        f.write(b"%PDF again")
        assert mode(part_path(out)) == 0o600  # while it is written, too
    assert mode(out) == 0o644 and out.read_bytes() == b"%PDF again"


def test_an_export_by_a_writer_taking_a_path_is_private_while_it_is_written(tmp_path: Path) -> None:
    """Found by the security review of 2026-12-07: pyedflib, pyarrow and the report's writers open the
    ``.part`` by its path, and it had the umask's 0644 until the rename made it 0600. An EDF of a
    month's raw movement takes minutes: another account that opened it meanwhile (a folder of
    ~ is 0755 on most Pis) kept reading it after the chmod. A ``.part`` a crash left (0644), or a
    link in its name, is not written through either: a new one is made."""
    out = tmp_path / "night.edf"
    stale = part_path(out)
    stale.write_bytes(b"a crash's half")
    os.chmod(stale, 0o644)
    with whole_path(out, "the EDF export") as part:
        with open(part, "wb") as f:  # as pyedflib and pyarrow open it: by its path (O_CREAT | O_TRUNC keeps a file's mode)
            f.write(b"0       ")
            f.flush()
            assert mode(part) == 0o600
    assert mode(out) == 0o600 and out.read_bytes() == b"0       "
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"kept")
    stale.symlink_to(elsewhere)
    with whole_path(out, "the EDF export") as part:
        part.write_bytes(b"new")
    assert elsewhere.read_bytes() == b"kept" and out.read_bytes() == b"new" and mode(out) == 0o600


def test_the_daemons_lock_is_the_users_alone_and_an_older_one_is_made_so(tmp_path: Path) -> None:
    """The lock says the daemon's pid, its config file's path and where it serves; only the same
    user's commands read it (the system unit runs as the user who wrote it). Until 2026-12-05 it
    was created 0644 (open(path, "a") under umask 022)."""
    db = tmp_path / "spasmwatch.db"
    with one_daemon(db, tmp_path / "config.toml") as lock:
        lock.serving("127.0.0.1", 8377)
        assert mode(lock_path(db)) == 0o600
        assert lock_holder(db) == LockHolder(os.getpid(), str(tmp_path / "config.toml"), ("127.0.0.1", 8377))  # still read
    os.chmod(lock_path(db), 0o644)  # left by a daemon from before
    with one_daemon(db):
        assert mode(lock_path(db)) == 0o600
