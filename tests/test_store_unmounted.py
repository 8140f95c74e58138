"""A store folder on a disk not mounted yet: a store the daemon opened before that is not there is
not made again, empty, in its place; a different store at its path is not taken as this daemon's
(store/known.py; docs/store.md, "A store on a disk not mounted yet", "A different store at the
store's path"). Real SQLite on disk; the disk's mount is a rename of its folder (or of the store out
of an empty folder left as the mount point)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from synthetic import disk_files, other_disk, unmount

from spasmwatch.daemon.lock import lock_holder, one_daemon
from spasmwatch.store import DifferentStore, KnownStores, Store, StoreMissing, schema
from spasmwatch.store.known import Checked
from spasmwatch.store._db import StoreError, made_at_version, read_identity

DEV = "band0001"


def _kept(path: Path) -> None:
    """A store the daemon's way (``known``) opened, with a band and a note in it, opened again (as the
    daemon's next start does: its band recorded)."""
    with Store.may_fail(path, KnownStores.default()) as st:
        assert st.open_error is None
        st.upsert_device(DEV, name="crib", wall_s=1.7e9)
        st.add_note(1.7e9, "note", "the family's history")
    Store.may_fail(path, KnownStores.default()).close()


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
        assert str(e).startswith(f"{where}") and "is its disk mounted?" in str(e) and f"'spasmwatch store new --db {path}'" in str(e), e
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
    assert again.returncode != 0 and f"a file is there already: nothing was made ('spasmwatch store adopt --db {path}' takes" in again.stderr, again.stderr


def _store(command: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", "store", command, "--db", str(path)], capture_output=True, text=True, timeout=60)


def test_a_different_store_at_a_known_path_is_not_taken_nor_written_and_ours_opens_once_mounted(tmp_path: Path) -> None:
    """Another disk mounted at the store's folder (another family's, a card reformatted and set up
    again) holding a spasmwatch store of its own. Old code: taken silently as this daemon's history
    (the baby's events written into another family's store, its alarms restored from theirs)."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    ours = read_identity(path).id
    mount = other_disk(path)
    before = disk_files(path.parent)
    theirs = read_identity(path).id
    assert ours is not None and theirs is not None and theirs != ours
    with one_daemon(path, now=False) as lock, Store.may_fail(path, KnownStores.default(), lock.take) as store:
        e = store.open_error
        assert isinstance(e, DifferentStore) and isinstance(e, StoreMissing), e
        assert str(e).startswith(f"a different spasmwatch store is at {path} (id {theirs}; expected {ours})"), e
        assert f"'spasmwatch store adopt --db {path}'" in str(e), e
        assert not store.reopen() and not store.reopen()
        assert disk_files(path.parent) == before  # nothing written onto their disk, no lock beside their store
        assert lock_holder(path) is None
        mount()
        assert store.reopen()
        assert [n.text for n in store.notes()] == ["the family's history"] and store.store_id == ours


def test_a_different_store_swapped_in_after_the_check_is_refused_on_its_own_connection(tmp_path: Path) -> None:
    """The daemon's start asks the record, then makes the store's folder and takes its lock, then opens
    (``checked=``); any open checks, then calls ``claim``, then connects. A disk mounted in between
    (a USB disk a desktop automounts at boot), or a check that could not read the file's id (it is
    then left to the open), put a different store under the connection. Old code: opened, and the
    baby's events written into that store (only its id was not recorded)."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    ours = read_identity(path).id
    checked = known.check(path)
    assert checked.missing is None  # the check, with our store there
    mount = other_disk(path)  # then another disk mounted at the folder
    theirs = read_identity(path).id
    with Store.may_fail(path, known, checked=checked) as store:
        e = store.open_error
        assert isinstance(e, DifferentStore), e
        assert f"(id {theirs}; expected {ours})" in str(e), e
    mount()

    def swap() -> None:  # between an open's own check and its connection (``claim``: the daemon's lock, taken there)
        other_disk(path)

    with Store.may_fail(path, known, claim=swap) as store:
        assert isinstance(store.open_error, DifferentStore), store.open_error
    assert [n.text for n in Store.open_readonly(path).notes()] == ["another family's history"]  # nothing of ours in it
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": ours, "bands": [DEV]}]


@pytest.mark.parametrize(
    ("seam", "empty_mount_point", "recorded"),
    [("claim", False, True), ("claim", True, True), ("checked", False, True), ("checked", True, True), ("claim", True, False)],
)
def test_a_store_whose_disk_goes_between_the_check_and_the_connection_is_not_made_again(
    tmp_path: Path, seam: str, empty_mount_point: bool, recorded: bool
) -> None:
    """The check found the store there; its disk is unmounted before the open's connection: after the
    check and before ``claim`` (the daemon's lock, taken there), or after the daemon's start asked it
    (``checked=``). ``recorded`` False: the first start of a version with the record (the store there,
    not recorded yet), which is no first run either. Old code: the connection made the folder and a
    new, empty store in it (the family's history looked gone, the events went into a throwaway
    file hidden once the disk mounted over it). Now nothing is made, the error names the path and
    the way out, and the store opens once its disk is back."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    if not recorded:
        known.path.unlink()
    mounts: list[Callable[[], None]] = []

    def disk_gone() -> None:
        if not mounts:  # (once: ``claim`` is called again at the try after)
            mounts.append(unmount(path, empty_mount_point))

    checked = known.check(path)
    assert checked.missing is None  # the store there at the check
    if seam == "checked":
        disk_gone()
    with Store.may_fail(path, known, claim=disk_gone, checked=checked if seam == "checked" else None) as store:
        e = store.open_error
        assert type(e) is StoreMissing, e
        where = f"{path} is missing from its folder (an empty" if empty_mount_point else f"the store folder {path.parent} is missing: is"
        assert str(e).startswith(where) and "is its disk mounted?" in str(e), e
        assert ("A store was opened there before" if recorded else "A store was there when this process first tried to open it") in str(e), e
        assert f"'spasmwatch store new --db {path}'" in str(e), e
        assert (os.listdir(path.parent) == []) if empty_mount_point else not path.parent.exists()  # nothing made
        mounts[0]()
        assert store.reopen()
        assert [n.text for n in store.notes()] == ["the family's history"] and [d.name for d in store.devices()] == ["crib"]


def test_store_adopt_takes_the_store_found_as_the_daemons(tmp_path: Path) -> None:
    """The way out the error names, for a store that is to be this daemon's from now on: a daemon's
    next try opens it; refused where no store is."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    other_disk(path)
    theirs = read_identity(path).id
    with Store.may_fail(path, KnownStores.default()) as store:
        assert isinstance(store.open_error, DifferentStore)
        adopted = _store("adopt", path)
        assert adopted.returncode == 0 and adopted.stdout == f"{path}: adopted (store id {theirs}): the daemon opens it as its store\n", adopted.stderr
        assert store.reopen() and [n.text for n in store.notes()] == ["another family's history"]
    missing = _store("adopt", tmp_path / "none" / "spasmwatch.db")
    assert missing.returncode != 0 and "no store at" in missing.stderr, missing.stderr


def _old_store(path: Path, version: int, bands: tuple[str, ...] = (), note: str = "before ids") -> None:
    """A store as a spasmwatch before store ids wrote it (schema ``version``), with a note and ``bands``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        made_at_version(c, version)
        c.execute("INSERT INTO notes (wall_s, kind, text) VALUES (1.7e9, 'note', ?)", (note,))
        for band in bands:
            c.execute("INSERT INTO devices (device_id, first_seen_wall_s, last_seen_wall_s) VALUES (?, 1.7e9, 1.7e9)", (band,))


def test_a_store_and_record_from_before_ids_get_the_id_and_a_different_store_is_refused_after(tmp_path: Path) -> None:
    """The upgrade: the record holds bare paths and the store no id. The store is migrated (its rows
    kept), its id made once and recorded beside its path; a bare path whose file is missing is still
    refused (a disk not mounted yet), and an empty file put at a path recorded with an id is a
    different store (a store from before ids there is taken: the next test)."""
    path, gone = tmp_path / "disk" / "spasmwatch.db", tmp_path / "gone" / "spasmwatch.db"
    _old_store(path, schema.STORE_ID_VERSION - 1)
    known = KnownStores.default()
    known.path.parent.mkdir(parents=True, exist_ok=True)
    known.path.write_text(json.dumps([str(path), str(gone)]))
    assert isinstance(known.missing(gone), StoreMissing) and known.missing(path) is None
    with Store.may_fail(path, known) as st:
        assert st.open_error is None and [n.text for n in st.notes()] == ["before ids"]
        made = st.store_id
    assert made is not None and len(made) == 32
    with Store.may_fail(path, known) as st:
        assert st.store_id == made  # made once
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": made}, {"path": str(gone), "id": None}]
    mount = unmount(path)
    path.parent.mkdir()
    path.touch()
    e = known.missing(path)
    assert isinstance(e, DifferentStore) and f"(no id, and not a spasmwatch store from before ids: an empty file?; expected {made})" in str(e), e
    path.unlink()
    path.parent.rmdir()
    mount()
    assert known.missing(path) is None


def test_a_backup_from_before_ids_restored_at_the_stores_path_is_taken_and_its_new_id_recorded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A family restores a backup of their store made before store ids (schema 11) at its path, after
    the daemon gave the store its id. It has no id: it cannot be told from another store from before
    ids, and before ids every store at the path was taken. It is taken (refused, the family had to
    find 'spasmwatch store adopt' to get their own history back), given its id as it is migrated,
    and that id recorded in place of the old one, said in the log. A store with another id there is
    still refused. Old code: DifferentStore, "no id: made by a spasmwatch before store ids"."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _old_store(path, schema.STORE_ID_VERSION - 1)
    backup = path.read_bytes()
    known = KnownStores.default()
    with Store.may_fail(path, known) as st:
        assert st.open_error is None
        st.add_note(1.8e9, "note", "after the upgrade")
        upgraded = st.store_id
    for f in (p for p in path.parent.iterdir() if p.is_file()):  # (the copy before the upgrade stays in its folder)
        f.unlink()
    path.write_bytes(backup)  # (the backup restored: no -wal, no -shm)
    caplog.set_level("INFO", logger="spasmwatch.store.known")
    with Store.may_fail(path, known) as st:
        assert st.open_error is None, st.open_error
        assert [n.text for n in st.notes()] == ["before ids"]
        restored = st.store_id
    assert restored is not None and upgraded is not None and restored != upgraded
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": restored}]
    said = [r.getMessage() for r in caplog.records if r.name == "spasmwatch.store.known"]
    assert len(said) == 1 and said[0].startswith(
        f"{path}: a store from before store ids (a backup restored?) was found where store {upgraded} was: "
        f"taken as this daemon's store, with its new id {restored} (it has no id to tell it by, and it shares a band with "
        f"that store, or one of them has none: if it is not this family's, put the family's store back and run 'spasmwatch store adopt --db {path}')"
    ), said
    with Store.may_fail(path, known) as st:
        assert st.open_error is None and st.store_id == restored  # the same store from now on
    other_disk(path)
    assert isinstance(known.missing(path), DifferentStore)  # another id: refused as before




def test_a_store_from_before_ids_with_none_of_the_recorded_stores_bands_is_refused_and_left_untouched(tmp_path: Path) -> None:
    """Someone else's old store (from before ids) copied where the family's store was: it has bands,
    and none is one the family's store had (the record keeps the band ids of the store it recorded).
    It is refused as a different store, naming the way out, nothing written into it; the family's
    own store opens once it is back. Old code: taken as the daemon's history with a log warning
    (the baby's events written into it, its alarms restored from theirs)."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    ours = read_identity(path).id
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": ours, "bands": [DEV]}]
    mine = path.parent.with_name("disk.mine")
    path.parent.rename(mine)
    _old_store(path, schema.STORE_ID_VERSION - 1, bands=("sw-0badc0ffee", "sw-0feedface0"), note="another family's")
    before, record = disk_files(path.parent), known.path.read_text()
    with Store.may_fail(path, known) as store:
        e = store.open_error
        assert isinstance(e, DifferentStore), e
        assert str(e).startswith(
            f"{path} is a spasmwatch store from before store ids, and none of its bands (sw-0badc0ffee, sw-0feedface0) is one "
            f"the store recorded there (id {ours}) had ({DEV}): another's store (an old backup copied there?). "
        ), e
        assert f"If it is this daemon's store all the same, 'spasmwatch store adopt --db {path}' takes it" in str(e), e
        assert not store.reopen()
        assert disk_files(path.parent) == before and known.path.read_text() == record
        path.parent.rename(tmp_path / "disk.theirs")
        mine.rename(path.parent)
        assert store.reopen() and [n.text for n in store.notes()] == ["the family's history"]


def test_the_familys_own_backup_from_before_ids_shares_a_band_and_is_taken(tmp_path: Path) -> None:
    """The family's backup from before ids is an ancestor of the store the record's id was given to:
    every band in it is one that store had (bands are never removed from a store), so it is never
    refused by the band check, a band added since (a band replaced) notwithstanding."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _old_store(path, schema.STORE_ID_VERSION - 1, bands=(DEV,))
    backup = path.read_bytes()
    known = KnownStores.default()
    with Store.may_fail(path, known) as st:
        assert st.open_error is None
        st.upsert_device("band0002", name="new band", wall_s=1.8e9)
        upgraded = st.store_id
    with Store.may_fail(path, known) as st:
        assert st.open_error is None
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": upgraded, "bands": [DEV, "band0002"]}]
    for f in (p for p in path.parent.iterdir() if p.is_file()):  # (the copy before the upgrade stays in its folder)
        f.unlink()
    path.write_bytes(backup)
    with Store.may_fail(path, known) as st:
        assert st.open_error is None, st.open_error
        assert [n.text for n in st.notes()] == ["before ids"]
        restored = st.store_id
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": restored, "bands": [DEV]}]

def test_a_backup_from_before_ids_is_given_its_id_only_once_the_record_can_take_it(tmp_path: Path) -> None:
    """Found by the hostile review: the open gave the restored backup its id and only then recorded
    it. A record that could not be written then (said, not raised), or a process ended in between
    (killed, the power cut), left the family's store with an id the record had not: refused from the
    next open on as a different store, their history unreachable until 'store adopt'. Now the path
    is recorded with no id before the open gives one; when that cannot be written the backup is not
    opened (nor given its id) and is taken once it can. The lock the record is written under is made
    unopenable (a folder in its place: an OSError even as root), as ENOSPC or EROFS would."""
    path = tmp_path / "disk" / "spasmwatch.db"
    upgraded = _restored_backup(path)
    known = KnownStores.default()
    lock = known.path.with_name(known.path.name + ".lock")
    lock.unlink()
    lock.mkdir()
    with Store.may_fail(path, known) as st:
        e = st.open_error
        assert isinstance(e, StoreMissing) and f"where store {upgraded} was" in str(e), e  # old code: opened
        assert read_identity(path).from_before_ids  # not given an id it could not record
        lock.rmdir()
        assert st.reopen()
        restored = st.store_id
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": restored, "bands": [DEV]}]
    with Store.may_fail(path, known) as st:
        assert st.open_error is None and st.store_id == restored


def _typed(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` ('spasmwatch ...', as an error names it) run as a shell would split it, from ``cwd``."""
    words = shlex.split(command)
    assert words[0] == "spasmwatch", command
    # -P: as the console script, not from ``cwd``: 'python -m' would import the XDG data folder's
    # 'spasmwatch' (the store's folder) there as the package (a namespace one, without __version__).
    return subprocess.run([sys.executable, "-P", "-m", "spasmwatch", *words[1:]], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_the_command_each_refusal_names_acts_on_the_daemons_store_from_the_familys_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's store path comes from its unit (SPASMWATCH_DATA_DIR carried into it, 'run
    --config'), which the family's shell has not: the command the error names must act on the
    daemon's store, not the one at the shell's default path (their first try, before the USB disk).
    Old code: the error named a bare 'spasmwatch store adopt', which took the default path's store
    there ("adopted: the daemon opens it as its store") and left the daemon refusing its own path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))  # (the shell's default store path)
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    Store(Store.default_path()).close()
    path = tmp_path / "usb disk" / "spasmwatch.db"  # (a space: the command quotes it)
    _kept(path)
    other_disk(path)
    with Store.may_fail(path, KnownStores.default()) as store:
        e = store.open_error
        assert isinstance(e, DifferentStore), e
        adopt = f"spasmwatch store adopt --db {shlex.quote(str(path))}"
        assert f'"{adopt}"' in str(e), e  # (between double quotes: the path is quoted with single ones)
        assert _typed(adopt, tmp_path / "data-home").returncode == 0
        assert store.reopen() and [n.text for n in store.notes()] == ["another family's history"]
    gone = tmp_path / "card" / "spasmwatch.db"  # a store moved away on purpose
    _kept(gone)
    unmount(gone, empty_mount_point=True)
    with Store.may_fail(gone, KnownStores.default()) as store:
        e = store.open_error
        assert isinstance(e, StoreMissing), e
        made = f"spasmwatch store new --db {shlex.quote(str(gone))}"
        assert f"'{made}'" in str(e), e
        assert _typed(made, tmp_path / "data-home").returncode == 0
        assert store.reopen() and list(store.notes()) == []


def _mounted_over(path: Path) -> Path:
    """The mount point mounted now (proc(5) mountinfo) that ``path`` is beneath, the deepest."""
    points = [Path(line.split()[4]) for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return max((p for p in points if path.resolve().is_relative_to(p)), key=lambda p: len(p.parts))


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_a_store_never_opened_beneath_an_fstab_mount_point_with_nothing_mounted_is_not_made(tmp_path: Path, folder: str) -> None:
    """The first start after the upgrade to the record (or a first run) with the disk late: no record
    says a store was there, but the system's fstab names the disk's mount point and nothing is
    mounted on it. Old code: a new, empty store made beneath the mount point. A store beneath a
    mount point that is mounted, or beneath none fstab names, is made as before (a first run)."""
    mount_point = tmp_path / "media" / "the usb"  # (a space: fstab's \040)
    path = mount_point / ("spasmwatch.db" if folder == "empty" else "spasmwatch/spasmwatch.db")
    mount_point.mkdir(parents=True)
    fstab = tmp_path / "fstab"
    escaped = str(mount_point).replace(" ", "\\040")
    fstab.write_text(f"# a comment\nLABEL=root / ext4 defaults 0 1\n/dev/sda1 {escaped} vfat nofail 0 0\n/swap none swap sw 0 0\n")
    known = KnownStores(KnownStores.default().path, fstab=fstab)
    with one_daemon(path, now=False) as lock, Store.may_fail(path, known, lock.take) as store:
        e = store.open_error
        assert isinstance(e, StoreMissing) and not isinstance(e, DifferentStore), e
        assert str(e).startswith(f"{path} is beneath {mount_point}, a mount point in {fstab} with nothing mounted on it: is its disk mounted?"), e
        assert not store.reopen()
        assert list(mount_point.iterdir()) == [] and lock_holder(path) is None  # nothing made beneath it
    first_run = tmp_path / "home" / "spasmwatch" / "spasmwatch.db"  # beneath none fstab names (but "/", mounted)
    with Store.may_fail(first_run, known) as store:
        assert store.open_error is None
    fstab.write_text(f"/dev/sda1 {_mounted_over(tmp_path)} ext4 defaults 0 0\n/dev/sdb1 {escaped} vfat nofail 0 0\n")
    beneath_mounted = tmp_path / "data" / "spasmwatch.db"
    with Store.may_fail(beneath_mounted, known) as store:
        assert store.open_error is None  # beneath a mount point that is mounted


def _reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times the record (``KnownStores._stores``) and a store file's id (``read_identity``)
    are read from now on: the real reads, counted."""
    from spasmwatch.store import known as known_module

    counts = {"record": 0, "identity": 0}
    record, identity = KnownStores._stores, known_module.read_identity

    def record_read(known: KnownStores) -> object:
        counts["record"] += 1
        return record(known)

    def identity_read(path: Path) -> object:
        counts["identity"] += 1
        return identity(path)

    monkeypatch.setattr(KnownStores, "_stores", record_read)
    monkeypatch.setattr(known_module, "read_identity", identity_read)
    return counts


@pytest.mark.parametrize("there", [True, False])
def test_the_daemons_start_reads_the_record_and_its_stores_id_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, there: bool) -> None:
    """The start asks the record once whether the store may be opened (to make its folder and take its
    lock now, or not) and opens it on that answer, reading neither the record nor the store's id
    again (its later tries check again). Old code: asked twice (daemon/main.py, then the store's
    open); then, with the check taken as the open's, read the record 3 times (check, ``unpin``,
    ``remember``) and the id twice (check, ``unpin``). A store not there is still not made, and
    opens at a later try."""
    from spasmwatch.config import load_config
    from spasmwatch.daemon.main import serve
    from spasmwatch.transport.simband import free_port

    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    mount = None if there else unmount(path)
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{path.parent}"\n\n[daemon.http]\nport = {free_port()}\n\n'
                      "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n")  # fmt: skip
    counts = _reads(monkeypatch)
    seen: dict[str, object] = {}

    async def started() -> None:
        seen["reads"] = dict(counts)
        seen["made"] = path.parent.exists()

    assert asyncio.run(asyncio.wait_for(serve(load_config(config), until=started), 60)) == 0
    assert seen == {"reads": {"record": 1, "identity": 1 if there else 0}, "made": there}, seen
    if mount is not None:
        mount()
        with Store.may_fail(path, KnownStores.default()) as store:
            assert store.open_error is None and [n.text for n in store.notes()] == ["the family's history"]


def test_an_open_of_a_recorded_store_reads_the_record_and_its_id_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each try of a recorded store (``reopen``, a CLI command's open) reads the record once and the
    store's id once: the usual open writes nothing, so no read under the record's lock is needed
    (one is, before a write: ``remember``, ``unpin``). Old code: the record 3 times, the id twice."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    counts = _reads(monkeypatch)
    with Store.may_fail(path, KnownStores.default()) as store:
        assert store.open_error is None
    assert counts == {"record": 1, "identity": 1}, counts


def test_a_store_with_an_id_swapped_in_for_a_backup_from_before_ids_after_the_check_is_refused_and_the_id_kept(tmp_path: Path) -> None:
    """The check found the family's backup from before ids (the open is to give it its id: the path's
    id is taken off first, ``unpin``); another store, with an id, is swapped in before the open's
    connection. It is refused on that connection, and the path keeps its id: left with none, the
    next open would take any store found there."""
    path = tmp_path / "disk" / "spasmwatch.db"
    upgraded = _restored_backup(path)
    known = KnownStores.default()
    checked = known.check(path)
    assert checked.missing is None and checked.found is not None and checked.found.from_before_ids
    other_disk(path)
    with Store.may_fail(path, known, checked=checked) as store:
        assert isinstance(store.open_error, DifferentStore), store.open_error
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": upgraded, "bands": [DEV]}]
    assert isinstance(known.missing(path), DifferentStore)


def _restored_backup(path: Path) -> str | None:
    """The family's store from before ids given its id by an open (the upgrade), then their backup of
    it from before ids restored at its path; the id the upgrade gave (recorded there)."""
    _old_store(path, schema.STORE_ID_VERSION - 1, bands=(DEV,))
    backup = path.read_bytes()
    with Store.may_fail(path, KnownStores.default()) as st:
        upgraded = st.store_id
    for f in (p for p in path.parent.iterdir() if p.is_file()):  # (the copy before the upgrade stays in its folder)
        f.unlink()
    path.write_bytes(backup)
    return upgraded


def test_a_backup_given_its_id_by_another_process_between_this_ones_check_and_open_is_taken(tmp_path: Path) -> None:
    """The check reads the record unlocked: the daemon's start (or a 'note') checks the family's
    restored backup, and before its open another process's open gives the backup its id and records
    it. The store found then is the one the record names: taken. Old code: DifferentStore (the id
    the check read was the upgrade's), the family's store not opened and the way out named 'adopt'."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _restored_backup(path)
    known = KnownStores.default()
    checked = known.check(path)
    assert checked.missing is None and checked.found is not None and checked.found.from_before_ids
    with Store.may_fail(path, KnownStores.default()) as other:  # (the other process: its own check and open)
        restored = other.store_id
    with Store.may_fail(path, known, checked=checked) as st:
        assert st.open_error is None, st.open_error
        assert st.store_id == restored and [n.text for n in st.notes()] == ["before ids"]
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": restored, "bands": [DEV]}]


class _OtherOpensAfterUnpin(KnownStores):
    """This process's record, with another process's whole open of the store (its own check, and the
    id it gives the backup) right after this one's ``unpin`` took the path's id off."""

    def unpin(self, store: Path, checked: Checked) -> str | None:
        unpinned = super().unpin(store, checked)
        Store.may_fail(store, KnownStores.default()).close()
        return unpinned


def test_a_backup_given_its_id_by_another_process_after_this_ones_unpin_is_taken(tmp_path: Path) -> None:
    """This open took the path's id off to give the restored backup its id (``unpin``); another
    process checks then (no id recorded), opens first and gives the backup its id, recorded. This
    open finds that id on its connection, the one the record names: taken, the record kept. Old
    code: DifferentStore ("expected" the upgrade's id), the family's store not opened."""
    path = tmp_path / "disk" / "spasmwatch.db"
    upgraded = _restored_backup(path)
    known = _OtherOpensAfterUnpin(KnownStores.default().path)
    with Store.may_fail(path, known) as st:
        assert st.open_error is None, st.open_error
        restored = st.store_id
    assert restored not in (None, upgraded)
    assert json.loads(known.path.read_text()) == [{"path": str(path), "id": restored, "bands": [DEV]}]


class _SwappedAfterCheck(KnownStores):
    """This process's record, with another family's store from before ids put at the path right
    after the check (before the open's connection): a disk swapped in between."""

    def unpin(self, store: Path, checked: Checked) -> str | None:
        store.parent.rename(store.parent.with_name("disk.mine"))
        _old_store(store, schema.STORE_ID_VERSION - 1, bands=("sw-0badc0ffee",), note="another family's")
        return super().unpin(store, checked)


@pytest.mark.parametrize("checked", ["the family's store", "the family's backup from before ids"])
def test_another_familys_store_from_before_ids_swapped_in_after_the_check_is_refused_on_its_own_connection(tmp_path: Path, checked: str) -> None:
    """The check found the family's store (its id), or their backup from before ids (its open is to
    give it its id: ``unpin`` takes the path's off); another's store from before ids, sharing no
    band, is there by the open's connection, which gives it an id as it migrates it. The band check
    is made on that connection too: refused as a different store, the path's id kept (put back).
    Old code: taken as the daemon's (the check's band test only), its new id recorded in place of
    the family's."""
    path = tmp_path / "disk" / "spasmwatch.db"
    if checked == "the family's store":
        _kept(path)
        ours = read_identity(path).id
    else:
        ours = _restored_backup(path)
    record = KnownStores.default().path.read_text()
    known = _SwappedAfterCheck(KnownStores.default().path)
    with Store.may_fail(path, known) as store:
        assert isinstance(store.open_error, DifferentStore), store.open_error
        assert "none of its bands (sw-0badc0ffee) is one" in str(store.open_error), store.open_error
    assert KnownStores.default().path.read_text() == record
    assert isinstance(KnownStores.default().missing(path), DifferentStore)
    assert json.loads(record)[0]["id"] == ours


def _linked(tmp_path: Path) -> tuple[Path, Path]:
    """A store on its disk (``real``) and the same file through a symlinked folder (``via``), as a family
    links ~/spasmwatch to /mnt/sd/spasmwatch: the store made, the link not opened yet."""
    real = tmp_path / "mnt" / "sd" / "spasmwatch" / "spasmwatch.db"
    Store(real).close()
    home = tmp_path / "home"
    home.mkdir()
    (home / "spasmwatch").symlink_to(real.parent, target_is_directory=True)
    return real.resolve(), home / "spasmwatch" / "spasmwatch.db"


def test_a_store_opened_through_a_symlinked_folder_is_recorded_by_its_file_and_guarded_by_either_path(tmp_path: Path) -> None:
    """The daemon's config names the store through a symlink (~/spasmwatch -> /mnt/sd/spasmwatch); the
    family's shell, another config or the link removed names the file itself. Old code: the record
    kept the path as given (os.path.abspath), so the file's own path was a store never opened: its
    disk not mounted was no StoreMissing (a new store made beneath the mount point), another disk
    there no DifferentStore."""
    real, via = _linked(tmp_path)
    _kept(via)
    known = KnownStores.default()
    ours = read_identity(real).id
    assert json.loads(known.path.read_text()) == [{"path": str(real), "id": ours, "bands": [DEV], "paths": [str(via)]}]
    mount = unmount(real)
    assert isinstance(known.missing(real), StoreMissing) and isinstance(known.missing(via), StoreMissing)
    mount()
    mount = other_disk(real)
    assert isinstance(known.missing(real), DifferentStore) and isinstance(known.missing(via), DifferentStore)
    mount()
    with Store.may_fail(real, known) as store:
        assert store.open_error is None and [n.text for n in store.notes()] == ["the family's history"]
    assert json.loads(known.path.read_text()) == [{"path": str(real), "id": ours, "bands": [DEV], "paths": [str(via)]}]


def test_a_store_named_through_a_symlink_on_its_own_disk_is_guarded_while_the_disk_is_not_mounted(tmp_path: Path) -> None:
    """The config names the store through a link on its disk (/media/usb/current -> 2026): with the
    disk not mounted that link is not there, so the path resolves to itself, not to the file
    recorded. It is still the store opened before (the record keeps the paths that named it), not a
    store never opened: none is made beneath the mount point, and it opens once the disk is
    mounted. Old code (since the record was keyed by the resolved path): not recorded, so a new,
    empty store was made in the folder the disk mounts on (before it, the path as given was the key)."""
    disk = tmp_path / "media" / "usb"
    (disk / "2026").mkdir(parents=True)
    (disk / "current").symlink_to("2026", target_is_directory=True)
    via = disk / "current" / "spasmwatch.db"
    _kept(via)
    known = KnownStores.default()
    mount = unmount(disk / "spasmwatch.db")  # (the whole disk's folder taken away)
    e = known.missing(via)
    assert isinstance(e, StoreMissing) and not isinstance(e, DifferentStore), e
    with Store.may_fail(via, known) as store:
        assert isinstance(store.open_error, StoreMissing), store.open_error
        assert not disk.exists()
        mount()
        assert store.reopen() and [n.text for n in store.notes()] == ["the family's history"]


def test_a_link_pointed_at_another_recorded_store_opens_that_store(tmp_path: Path) -> None:
    """The paths an entry keeps are asked only while the file is not there: a link the family points
    at another store this daemon opened (current -> 2027) opens that one, not a conflict with the
    entry of the store the link named before; with the disk not mounted the path is that store's."""
    disk = tmp_path / "media" / "usb"
    (disk / "2026").mkdir(parents=True)
    (disk / "current").symlink_to("2026", target_is_directory=True)
    via = disk / "current" / "spasmwatch.db"
    _kept(via)
    _kept(disk / "2027" / "spasmwatch.db")
    (disk / "current").unlink()
    (disk / "current").symlink_to("2027", target_is_directory=True)
    with Store.may_fail(via, KnownStores.default()) as store:
        assert store.open_error is None and store.store_id == read_identity(disk / "2027" / "spasmwatch.db").id
    mount = unmount(disk / "spasmwatch.db")
    e = KnownStores.default().missing(via)  # (the path names 2027's store now, not both)
    assert type(e) is StoreMissing and "is missing" in str(e), e
    mount()


@pytest.mark.parametrize("at", ["the file", "its folder"])
def test_a_store_path_in_a_symlink_loop_is_a_store_not_opened_not_a_crash(tmp_path: Path, at: str) -> None:
    """A store path that is (or is beneath) a link loop (a link mended by hand pointing at itself):
    the daemon runs without the store and says why, as for any store that cannot be opened; the
    record is not written. Old code (the file itself a loop): RuntimeError out of Store.may_fail
    (pathlib's resolve in reading_uri), the daemon's start failed: no monitoring."""
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    path = tmp_path / "a" if at == "the file" else tmp_path / "a" / "spasmwatch.db"
    known = KnownStores.default()
    with Store.may_fail(path, known) as store:
        assert isinstance(store.open_error, StoreError), store.open_error
    assert not known.path.exists()


def test_a_store_adopted_through_one_path_opens_through_the_other(tmp_path: Path) -> None:
    """Another store adopted at the symlinked path is the daemon's through the file's own path too.
    Old code: two entries, one per path: the adopt changed one, and the other path refused the store
    adopted as a different store (and would have taken the old store back)."""
    real, via = _linked(tmp_path)
    _kept(via)
    _kept(real)
    other_disk(real)
    theirs = read_identity(real).id
    adopted = _store("adopt", via)
    assert adopted.returncode == 0, adopted.stderr
    with Store.may_fail(real, KnownStores.default()) as store:
        assert store.open_error is None and store.store_id == theirs, store.open_error
    assert json.loads(KnownStores.default().path.read_text()) == [{"path": str(real), "id": theirs, "paths": [str(via)]}]


def test_a_record_of_an_older_version_naming_the_store_through_a_symlink_still_guards_it(tmp_path: Path) -> None:
    """A record written before it kept resolved paths names the store as the config gave it (through
    the link): that entry is the file's, whichever path opens it, and is written under the file's
    own path at its next write. Old code: the file's own path was a store never opened."""
    real, via = _linked(tmp_path)
    with Store(real) as st:
        ours = st.store_id
    known = KnownStores.default()
    known.path.parent.mkdir(parents=True, exist_ok=True)
    elsewhere = {"path": str(tmp_path / "usb" / "spasmwatch.db"), "id": None}
    known.path.write_text(json.dumps([{"path": str(via), "id": ours}, elsewhere]))
    mount = other_disk(real)
    assert isinstance(known.missing(real), DifferentStore)
    mount()
    with Store.may_fail(real, known) as store:
        assert store.open_error is None
    assert json.loads(known.path.read_text()) == [{"path": str(via), "id": ours}, elsewhere]  # (nothing to write: the same id)
    other_disk(real)
    assert _store("adopt", real).returncode == 0
    theirs = read_identity(real).id
    assert json.loads(known.path.read_text()) == [{"path": str(real), "id": theirs, "paths": [str(via)]}, elsewhere]  # one entry, by the file's path


def test_two_entries_of_an_older_record_for_one_file_with_different_ids_are_said_not_picked(tmp_path: Path) -> None:
    """An older record may name one file twice, through a symlink and not, each with the id its path
    last saw. Which store is the family's cannot be told from the record: neither is picked (the
    store is not opened), the error names both and the way out, and the record is kept as it is
    until 'store adopt' takes the store found as the daemon's."""
    real, via = _linked(tmp_path)
    known = KnownStores.default()
    known.path.parent.mkdir(parents=True, exist_ok=True)
    a, b = "a" * 32, "b" * 32
    record = json.dumps([{"path": str(via), "id": a}, {"path": str(real), "id": b}])
    known.path.write_text(record)
    for path in (real, via):
        with Store.may_fail(path, known) as store:
            e = store.open_error
            assert isinstance(e, StoreMissing), e
            assert f"{known.path} names one store file twice, with different ids: {via} (id {a}) and {real} (id {b})" in str(e), e
            assert f"'spasmwatch store adopt --db {path}'" in str(e), e
    assert known.path.read_text() == record
    assert _store("adopt", via).returncode == 0
    with Store.may_fail(real, known) as store:
        assert store.open_error is None
    assert json.loads(known.path.read_text()) == [{"path": str(real), "id": read_identity(real).id, "paths": [str(via)]}]


def _touched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths this process stats, lstats or reads a link of from now on (``os.path.realpath`` and
    ``exists`` are made of these): the real calls, their paths listed."""
    seen: list[str] = []
    for name in ("stat", "lstat", "readlink"):
        real = getattr(os, name)

        def call(path: object, *args: object, _real: Callable[..., object] = real, **kwargs: object) -> object:
            if isinstance(path, (str, os.PathLike)):
                seen.append(os.fsdecode(os.fspath(path)))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, call)
    return seen


def test_an_open_does_not_touch_the_other_stores_the_record_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another store the record names (an old entry) may be on a share that hangs every call on it (NFS
    mounted hard, its server gone), in a folder this user may not enter, or in a link loop: resolving
    it at every open (old code: ``os.path.realpath`` of every key, each open) could block the daemon's
    start for good. The store being opened is found by its own resolved path, compared as text: the
    usual open, and one that writes its entry (a band added), touch no other entry's path."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    elsewhere = tmp_path / "share"
    (elsewhere / "shut").mkdir(parents=True)
    (elsewhere / "a").symlink_to("b")
    (elsewhere / "b").symlink_to("a")
    os.mkfifo(elsewhere / "fifo")
    others = [{"path": str(elsewhere / p), "id": f"{i:032x}"} for i, p in enumerate(("shut/spasmwatch.db", "a/spasmwatch.db", "fifo"))]
    record = json.loads(known.path.read_text()) + others
    known.path.write_text(json.dumps(record))
    (elsewhere / "shut").chmod(0)
    touched = _touched(monkeypatch)
    try:
        with Store.may_fail(path, known) as store:  # the usual open: the record unchanged
            assert store.open_error is None and [n.text for n in store.notes()] == ["the family's history"]
            store.upsert_device("band0002", wall_s=1.7e9)
        with Store.may_fail(path, known) as store:  # its entry written: the band added
            assert store.open_error is None
    finally:
        (elsewhere / "shut").chmod(0o700)  # (for pytest to clean it up)
    assert touched and not [p for p in touched if p.startswith(str(elsewhere))], touched
    assert json.loads(known.path.read_text()) == [{**record[0], "bands": [DEV, "band0002"]}, *others]


def test_a_store_found_there_but_not_recorded_is_not_made_at_the_tries_after_its_disk_went(tmp_path: Path) -> None:
    """The first start of a version with the record: the store is there at the check, not recorded
    yet, and its disk is unmounted before the open's connection (``claim``). The first try says it
    is missing; the daemon's tries after it (``reopen``, every STORE_RETRY_S) check again, and the
    check, the record naming no store there and no file there, is a first run. Old code: the next
    try made a new, empty store in the empty mount point, and took the daemon's lock there (the
    family's history looked gone, its events written under the disk's mount point). Now the open
    remembers the store it found: nothing is made, and the store opens once its disk is back."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    known.path.unlink()
    mounts: list[Callable[[], None]] = []

    def disk_gone() -> None:
        if not mounts:
            mounts.append(unmount(path, empty_mount_point=True))

    with one_daemon(path, now=False) as lock:

        def claim() -> None:  # (the daemon's lock taken, then its disk gone: the lock goes with it)
            lock.take()
            disk_gone()

        with Store.may_fail(path, known, claim=claim) as store:
            assert type(store.open_error) is StoreMissing, store.open_error
            for _ in range(2):
                assert not store.reopen()
                e = store.open_error
                assert type(e) is StoreMissing and str(e).startswith(f"{path} is missing from its folder"), e
                assert "A store was there when this process first tried to open it: none is made in its place" in str(e), e
                assert os.listdir(path.parent) == []  # no store, no lock beneath the mount point
            mounts[0]()
            assert store.reopen()
            assert [n.text for n in store.notes()] == ["the family's history"] and [d.name for d in store.devices()] == ["crib"]


@pytest.mark.parametrize("older", ["no id by its path", "no band by its path"])
def test_an_older_records_entry_through_a_link_still_refuses_a_store_the_files_own_entry_would_take(tmp_path: Path, older: str) -> None:
    """An older record names the store by the file's own path and through a symlink (a family that
    changed its config from one to the other): the file's own entry says too little to refuse a store
    found there, the link's entry says it is not this family's. ``no id by its path``: the file's path
    recorded before ids (a bare path), the link's with the store's id; another store (its own id) is
    at the file. ``no band by its path``: the link's entry holds the store's band, the file's none;
    another family's store from before ids (other bands) is at the file. Old code (7c08f36, every key
    resolved): refused, a DifferentStore. f56e4d8 (the keys compared as text, the others resolved
    only at a refusal): taken, opened read-write, and recorded under the file's path with the other
    store's id, the record left with a conflict. Every entry naming the file decides it, as before,
    unless the file's own entry settles it (the file not there, or there with the very id recorded)."""
    real, via = _linked(tmp_path)
    ours = read_identity(real).id
    known = KnownStores.default()
    known.path.parent.mkdir(parents=True, exist_ok=True)
    if older == "no id by its path":
        record = json.dumps([str(real), {"path": str(via), "id": ours}])
        other_disk(real)
    else:
        record = json.dumps([{"path": str(real), "id": ours}, {"path": str(via), "id": ours, "bands": [DEV]}])
        real.parent.rename(real.parent.with_name("mine"))
        _old_store(real, schema.STORE_ID_VERSION - 1, bands=("sw-0badc0ffee",), note="another family's")
    known.path.write_text(record)
    before = disk_files(real.parent)
    for path in (real, via):
        with Store.may_fail(path, KnownStores.default()) as store:
            assert isinstance(store.open_error, DifferentStore), store.open_error
            assert f"'spasmwatch store adopt --db {path}' takes it" in str(store.open_error), store.open_error
    assert disk_files(real.parent) == before and known.path.read_text() == record


def test_a_store_named_through_a_file_symlink_whose_disk_goes_before_the_connection_is_said_missing(tmp_path: Path) -> None:
    """The config names the store through a symlink to the file (~/spasmwatch.db -> /mnt/sd/spasmwatch.db):
    the disk goes between the check and the connection (at ``claim``), leaving the link dangling. Old
    code: the open's own SQLite error ("cannot open: unable to open database file"), with no word of
    the disk or the way out, as the link itself is still there (``os.path.lexists``)."""
    real, link = tmp_path / "disk" / "spasmwatch.db", tmp_path / "home" / "spasmwatch.db"
    _kept(real)
    link.parent.mkdir()
    link.symlink_to(real)
    known = KnownStores.default()
    mounts: list[Callable[[], None]] = []
    with Store.may_fail(link, known, claim=lambda: mounts or mounts.append(unmount(real, empty_mount_point=True))) as store:
        e = store.open_error
        assert type(e) is StoreMissing and str(e).startswith(f"{link} is missing from its folder"), e
        assert "is its disk mounted?" in str(e) and f"'spasmwatch store new --db {link}'" in str(e), e
        assert os.listdir(real.parent) == []
        mounts[0]()
        assert store.reopen() and [n.text for n in store.notes()] == ["the family's history"]


@pytest.mark.parametrize("empty_mount_point", [False, True])
def test_store_adopt_whose_disk_goes_after_its_check_makes_nothing_and_adopts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], empty_mount_point: bool
) -> None:
    """'store adopt' found the store; its disk is unmounted before the store's open. Old code: the open
    made the folder (or, in the empty mount point, the file) and a new, empty store, and recorded that
    as the daemon's: the family's history refused as a different store once the disk was back."""
    from spasmwatch import cli
    from spasmwatch.commands import store as store_command

    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    record = KnownStores.default().path.read_bytes()
    mounts: list[Callable[[], None]] = []
    found = store_command._existing

    def found_then_gone(p: Path) -> Path:  # the real check, then the disk gone before the open
        there = found(p)
        mounts.append(unmount(path, empty_mount_point))
        return there

    monkeypatch.setattr(store_command, "_existing", found_then_gone)
    assert cli.main(["store", "adopt", "--db", str(path)]) == 2
    said = capsys.readouterr().err
    assert "is its disk mounted?" in said and "A store was there when this process first tried to open it" in said, said
    assert (os.listdir(path.parent) == []) if empty_mount_point else not path.parent.exists()  # nothing made
    assert KnownStores.default().path.read_bytes() == record  # nothing adopted
    mounts[0]()
    with Store.may_fail(path, KnownStores.default()) as store:
        assert store.open_error is None and [n.text for n in store.notes()] == ["the family's history"]


def test_the_daemons_start_whose_store_disk_goes_after_its_check_makes_no_folder_and_monitors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start's check found the store; its disk is unmounted before the start takes the lock beside
    it. Old code: the start made the store's folder for the lock (on the disk beneath the mount point,
    hidden once the disk mounts). Now nothing is made: the daemon runs without its store, said missing,
    and takes the lock as the store opens once the disk is back."""
    from spasmwatch.config import Config, load_config
    from spasmwatch.daemon import main as daemon_main
    from spasmwatch.daemon.daemon import Daemon
    from spasmwatch.transport.simband import free_port

    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    mounts: list[Callable[[], None]] = []
    check = KnownStores.check

    def checked_then_gone(known: KnownStores, store: Path) -> Checked:
        checked = check(known, store)
        if not mounts:  # (the start's check; its store's tries check again)
            mounts.append(unmount(path))
        return checked

    monkeypatch.setattr(KnownStores, "check", checked_then_gone)
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{path.parent}"\n\n[daemon.http]\nport = {free_port()}\n\n'
                      "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n")  # fmt: skip
    stores: list[Store] = []
    seen: list[tuple[bool, StoreError | None]] = []
    build = daemon_main.build

    async def started() -> None:  # the daemon up: was the folder made, why is its store not open
        seen.append((path.parent.exists(), stores[0].open_error))

    def built(cfg: Config, store: Store, *rest: Any) -> Daemon:  # the real daemon, its store kept to be looked at
        stores.append(store)
        return build(cfg, store, *rest)

    monkeypatch.setattr(daemon_main, "build", built)
    assert asyncio.run(asyncio.wait_for(daemon_main.serve(load_config(config), until=started), 60)) == 0
    [(made, error)] = seen
    assert not made and type(error) is StoreMissing and "is its disk mounted?" in str(error), error
    assert not path.parent.exists()
    mounts[0]()
    with Store.may_fail(path, KnownStores.default()) as store:
        assert store.open_error is None and [n.text for n in store.notes()] == ["the family's history"]


def _header_set(path: Path, version: int) -> None:
    """``PRAGMA user_version`` of the store at ``path`` set to ``version`` by hand (sqlite3, no spasmwatch), its WAL written in."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute(f"PRAGMA user_version = {version}")
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.parametrize("header", [0, 3, schema.STORE_ID_VERSION - 1])
def test_a_different_store_whose_header_was_lowered_below_store_ids_is_refused_by_the_id_it_holds(tmp_path: Path, header: int) -> None:
    """Another family's store (it has an id, and no band yet) at the store's path, its user_version
    lowered by hand (or a tool) below the store ids' version. Old code read its id only when its
    header said ids (known.py's check went by the header): taken as a store from before ids (at 3
    and 11: the record unpinned, their store opened, migrated and recorded as the daemon's, with
    their id), or (at 0) said to be 'no id, ... an empty file?'. Now its id is read from its
    table whatever its header says: refused as the different store it is, nothing written, and the
    family's store opens once its disk is back."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    ours = read_identity(path).id
    mount = other_disk(path)
    theirs = read_identity(path).id
    _header_set(path, header)
    before, record = disk_files(path.parent), known.path.read_text()
    with Store.may_fail(path, known) as store:
        e = store.open_error
        assert isinstance(e, DifferentStore), e
        assert str(e).startswith(f"a different spasmwatch store is at {path} (id {theirs}; expected {ours})"), e
        assert disk_files(path.parent) == before and known.path.read_text() == record
        mount()
        assert store.reopen() and [n.text for n in store.notes()] == ["the family's history"] and store.store_id == ours


@pytest.mark.parametrize("header", [0, 3, schema.STORE_ID_VERSION - 1])
def test_the_familys_own_store_whose_header_was_lowered_opens_as_itself(tmp_path: Path, header: int, caplog: pytest.LogCaptureFixture) -> None:
    """The family's own store, its user_version lowered by hand: its id is the one recorded, so it is
    opened as itself (its header set right by its tables, _db._settle), the record unchanged. Old
    code: at 0 refused as a different store with no id ('an empty file?'); at 3 and 11 opened, as a
    backup from before ids (the record unpinned, then pinned again with the same id)."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    ours, record = read_identity(path).id, known.path.read_text()
    _header_set(path, header)
    with Store.may_fail(path, known) as store:
        assert store.open_error is None, store.open_error
        assert store.store_id == ours and store.schema_version == schema.SCHEMA_VERSION
        assert [n.text for n in store.notes()] == ["the family's history"]
    assert known.path.read_text() == record and "from before store ids" not in caplog.text


@pytest.mark.parametrize("sql, said", [
    ("DROP TABLE store_identity", "the rows of table store_identity are not in it"),
    ("DELETE FROM store_identity", "its store id is not in it (table store_identity has no row)"),
], ids=["table-dropped", "row-deleted"])
def test_a_current_store_whose_id_was_removed_by_hand_is_refused_alike_and_recover_makes_it_the_daemons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str, said: str
) -> None:
    """The family's current store, its id dropped by hand. Old code: 'store check' called the first
    damaged (naming 'store recover') and the second ok, while the daemon refused both as 'a different
    spasmwatch store ... (no id, ...: an empty file?)', naming 'store adopt' (which, for the second,
    failed with an AssertionError); the recover check named made a store with a new id it did not
    record, which the daemon then refused as a different store. Now the daemon, the readers and
    'store check' say the same, and the recover they name records the new store as the daemon's."""
    from spasmwatch import cli

    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute(sql)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = disk_files(path.parent)
    assert cli.main(["store", "check", "--db", str(path)]) == 1
    diagnosis = capsys.readouterr().out.splitlines()[0]
    assert said in diagnosis, diagnosis
    with pytest.raises(StoreError) as reader:
        Store.open_readonly(path)
    with Store.may_fail(path, known) as store:
        daemon = store.open_error
    for e in (reader.value, daemon):
        assert isinstance(e, StoreError) and not isinstance(e, StoreMissing) and e.damaged, e
        assert diagnosis in str(e) and f"'spasmwatch store recover --db {path}'" in str(e), e
    assert disk_files(path.parent) == before
    assert cli.main(["store", "recover", "--db", str(path)]) == 0, capsys.readouterr()
    with Store.may_fail(path, known) as store:
        assert store.open_error is None, store.open_error
        assert [n.text for n in store.notes()] == ["the family's history"]
        assert json.loads(known.path.read_text())[0]["id"] == store.store_id is not None


@pytest.mark.parametrize("sql", ["DROP TABLE store_identity", "DELETE FROM store_identity"], ids=["table-dropped", "row-deleted"])
@pytest.mark.parametrize("header", [3, schema.STORE_ID_VERSION - 1])
def test_a_store_whose_id_was_removed_and_header_lowered_below_ids_leaves_the_record_as_it_was(
    tmp_path: Path, sql: str, header: int
) -> None:
    """The family's store, its id removed by hand and its header lowered below store ids: its tables
    (zones, the marker) say its migrations went past ids, so it is no store from before ids, and its
    open refuses it as damaged. Old code took it as one from before ids by its header: the check's
    ``unpin`` wrote the record's entry without its id before the open refused the store (from then on
    any store at that path, another family's too, would have been taken). Now the verdict comes
    first: refused as damaged (store recover named), the record's bytes as they were."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    record = known.path.read_text()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute(sql)
    _header_set(path, header)
    with Store.may_fail(path, known) as store:
        e = store.open_error
        assert isinstance(e, StoreError) and not isinstance(e, StoreMissing) and e.damaged, e
        assert f"'spasmwatch store recover --db {path}'" in str(e), e
    assert known.path.read_text() == record


def test_another_family_s_store_damaged_by_its_tables_is_refused_as_a_different_store_not_sent_to_recover(tmp_path: Path) -> None:
    """Another disk mounted at the store's folder holding another family's store, one of whose tables
    was dropped by hand: its id says it is not this daemon's store, whatever its tables. Found by the
    review of 2026-12-06's host changes: the check left every store damaged by its tables to the open
    (``Identity.damaged``, meant for one whose id was removed), which refused it as damaged and sent
    the family to 'store recover' on another family's store; the record's own store was not said
    missing. Now: DifferentStore (its way out 'store adopt', or the right disk mounted), the file and
    the record as they were."""
    path = tmp_path / "disk" / "spasmwatch.db"
    _kept(path)
    known = KnownStores.default()
    ours = read_identity(path).id
    record = known.path.read_text()
    other_disk(path)
    theirs = read_identity(path).id
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute("DROP TABLE zones")
    assert read_identity(path).damaged
    with Store.may_fail(path, known) as store:
        e = store.open_error
        assert isinstance(e, DifferentStore) and f"(id {theirs}; expected {ours})" in str(e), e
    assert known.path.read_text() == record
