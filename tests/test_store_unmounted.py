"""A store folder on a disk not mounted yet: a store the daemon opened before that is not there is
not made again, empty, in its place (store/known.py; docs/store.md, "A store on a disk not mounted
yet"). Real SQLite on disk; the disk's mount is a rename of its folder (or of the store out of an
empty folder left as the mount point)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic import unmount

from spasmwatch.daemon.lock import lock_holder, one_daemon
from spasmwatch.store import KnownStores, Store, StoreMissing

DEV = "band0001"


def _kept(path: Path) -> None:
    """A store the daemon's way (``known``) opened, with a band and a note in it."""
    with Store.may_fail(path, KnownStores.default()) as st:
        assert st.open_error is None
        st.upsert_device(DEV, name="crib", wall_s=1.7e9)
        st.add_note(1.7e9, "note", "the family's history")


def test_a_first_store_is_made_and_recorded_outside_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "disk" / "spasmwatch.db"
    known = KnownStores.default()
    assert known.missing(path) is None  # never opened here: a first run
    _kept(path)
    assert path.is_file()
    assert not known.path.is_relative_to(path.parent)  # (the record is not on the disk that may be missing)
    assert known.missing(path) is None  # there
    path.unlink()
    assert isinstance(known.missing(path), StoreMissing)


@pytest.mark.parametrize("empty_mount_point", [False, True])
def test_a_known_store_not_there_is_not_made_and_opens_once_its_disk_is_mounted(tmp_path: Path, empty_mount_point: bool) -> None:
    """Found by the family audit: at boot the daemon started before the USB disk was mounted and made
    a new, empty store beneath the mount point: the history looked gone, and the events written into
    it were hidden once the disk mounted over it. The daemon's lock is taken as the store opens: a lock
    beneath the mount point would be hidden too (a second daemon would take the disk's)."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    mount = unmount(path, empty_mount_point)
    with one_daemon(path, now=False) as lock, Store.may_fail(path, KnownStores.default(), lock.take) as store:
        e = store.open_error
        assert isinstance(e, StoreMissing), e
        where = f"{path} is missing from its folder" if empty_mount_point else f"the store folder {path.parent} is missing"
        assert str(e).startswith(f"{where}") and "is its disk mounted?" in str(e) and "'spasmwatch store new'" in str(e), e
        assert not store.reopen() and not store.reopen()
        # Nothing made: no folder (or the mount point left empty), no store, no lock.
        assert (sorted(os.listdir(path.parent)) == []) if empty_mount_point else not path.parent.exists()
        assert lock_holder(path) is None
        mount()
        assert store.reopen()
        assert [n.text for n in store.notes()] == ["the family's history"] and [d.name for d in store.devices()] == ["crib"]
        held = lock_holder(path)
        assert held is not None and held.pid == os.getpid()


def test_store_new_makes_a_store_where_one_was_moved_away_on_purpose(tmp_path: Path) -> None:
    """The way out the error names: refused where the folder is not (its disk may not be mounted) and
    where a file is; then a daemon's try opens the new store."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    unmount(path)

    def new() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "spasmwatch", "store", "new", "--db", str(path)], capture_output=True, text=True, timeout=60)

    refused = new()
    assert refused.returncode != 0 and f"{path.parent}: no such folder (is its disk mounted?): nothing was made" in refused.stderr, refused.stderr
    assert not path.parent.exists()
    path.parent.mkdir()
    with Store.may_fail(path, KnownStores.default()) as store:
        assert isinstance(store.open_error, StoreMissing)
        made = new()
        assert made.returncode == 0 and made.stdout == f"{path}: a new, empty store\n", made.stderr
        assert store.reopen() and list(store.notes()) == []
    again = new()
    assert again.returncode != 0 and "a file is there already" in again.stderr
