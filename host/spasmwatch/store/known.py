"""The stores this account's daemon has opened, kept outside them (docs/store.md "A store on a
disk not mounted yet").

Why: families keep the store on a USB disk or an SD card, and at boot the daemon may start before
the disk is mounted. It made a new, empty store in the folder beneath the mount point: the baby's
history looked gone, open alarms were not restored, and once the disk was mounted over it the
events written meanwhile were hidden under the mount. A store path in this record that has no
file is a store not there yet, never a first run: the daemon runs without it and tries it again.
So is a store not in the record (the first start after the upgrade to it) whose file is missing
beneath a mount point the system's fstab names with nothing mounted on it (``_unmounted``).

The same goes for a different spasmwatch store found at that path (another disk mounted there, a
card reformatted and set up again): it is not this daemon's history, and nothing is written into it.
Each store has an id, made with it (schema step 12); the record keeps it beside the path, with
the ids of the store's bands, which tell someone else's store from before ids (``_foreign``).

The record is a JSON list of ``{"path": resolved path, "id": store id}`` in the user's state folder
(``$XDG_STATE_HOME/spasmwatch``, else ~/.local/state/spasmwatch): not in the store's folder, which
is the one that may be missing. A bare path (the record before ids) is read as a path with no id
yet: the store found there is taken, and its id recorded. A path is the store file's own
(``os.path.realpath``): one store reached through a symlinked folder is one entry, guarded whichever
path names it, and it keeps the other paths that named it (``Entry.paths``: a link on the store's
own disk is not there to follow while the disk is not mounted). Older versions kept the path as given; such an entry is the file's still (``_keys``),
and two of them naming one file with different ids are said, not picked (``RecordConflict``). It
is changed under a lock beside it (the daemon and the CLI's commands write it at the same time), and
one that cannot be read is an error that makes no store and is never written over
(``RecordUnreadable``)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import platformdirs

from spasmwatch import private
from spasmwatch.outfile import replace_durably
from spasmwatch.store._db import Identity, StoreError, read_identity, store_command

log = logging.getLogger(__name__)

RECORD_NAME = "stores-opened.json"
# The mount points the system mounts (fstab(5)) and those mounted now, as this process sees them
# (proc(5) mountinfo: bind mounts too, which os.path.ismount does not see on the same file system).
FSTAB, MOUNTINFO = Path("/etc/fstab"), Path("/proc/self/mountinfo")
# What flock(2) says on a file system that does not lock (NFS with no lock daemon: ENOLCK; some FUSE
# and SMB mounts: EOPNOTSUPP): the record is written without the lock rather than not at all.
NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})
# What a StoreMissing says of a store not recorded that this process found there (``vanished``, ``KnownStores._checked``).
_FOUND = "A store was there when this process first tried to open it"


class StoreMissing(StoreError):
    """A store this daemon opened before is not there: its disk is not mounted (yet), or it was
    moved away. Never made again in its place; the daemon tries it again (``Store.reopen``)."""


class RecordUnreadable(StoreMissing):
    """The record cannot be read (cut short, mended by hand, not this account's to read): no store is
    made, as one on a disk not mounted yet could not be told from a first run, and the record is not
    written over (its stores would be forgotten). A store that is there opens, as before the record."""


class DifferentStore(StoreMissing):
    """At the path of a store this daemon opened before is a different spasmwatch store (another id):
    this daemon's store is missing as much as when no file is there, and the one found is not written
    into. Its way out is 'spasmwatch store adopt --db PATH' (that store is to be this daemon's from now on)."""


class RecordConflict(StoreMissing):
    """The record names one store file more than once (an older version kept each path as given: one
    through a symlinked folder, one not) with different ids: which is this daemon's store cannot be
    told, so neither is picked and the store is not opened. Its way out is 'spasmwatch store adopt'."""


class Entry(NamedTuple):
    """A store the record keeps: its id (None: recorded before ids), the ids of the bands its store
    had when the record was last written for it (none: not known yet, or no band), which tell an
    older store that is not its own (``_foreign``), and the other paths that named its file (as
    given, absolute): a link on the store's own disk is not there while the disk is not mounted, and
    the path through it then resolves to itself, not to the file (``_keys``)."""

    id: str | None
    bands: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()


class Checked(NamedTuple):
    """What the check before an open (``KnownStores.check``) read of the record and of the file, for
    the open to go on from: it reads neither again unless it writes the record."""

    missing: StoreMissing | None  # why the store must not be opened; None: it may be
    recorded: bool = False  # the record names the file
    expected: str | None = None  # the id recorded for it (None: none, or recorded before ids)
    bands: frozenset[str] = frozenset()  # the bands recorded for it (``Entry``)
    found: Identity | None = None  # the file's, read when an id is recorded (None: not read, or not readable)
    unreadable: RecordUnreadable | None = None  # the record could not be read
    named: bool = True  # the path given is one the record names the file by (``_named``)
    # No file at the check and never opened here (a first run): the open may make the store. Else a
    # store gone by the open's connection (its disk unmounted since the check) is missing, not made.
    makes: bool = False


class KnownStores:
    """The record at ``path`` of the store files opened read-write by the daemon, with their ids."""

    def __init__(self, path: Path, fstab: Path = FSTAB, mountinfo: Path = MOUNTINFO) -> None:
        self.path, self.fstab, self.mountinfo = path, fstab, mountinfo
        self._said_unlocked = False
        # The stores not recorded that a check found there (as given, absolute): a store there at the
        # first start of a version with the record whose disk went before its open's connection is
        # not recorded, and checked again a first run: the daemon's next try (``Store.reopen``) made a
        # new, empty one beneath the mount point (found by review, 2026-12-06). Never made by this process.
        self._found: set[str] = set()

    @classmethod
    def default(cls) -> KnownStores:
        return cls(Path(platformdirs.user_state_dir("spasmwatch")) / RECORD_NAME)

    def _stores(self) -> dict[str, Entry]:
        """The stores recorded, path -> ``Entry`` (its id None: recorded before ids); none when the record is
        missing (a first run). ``RecordUnreadable`` when it cannot be read: read as no store, a store
        on a disk not mounted yet would be made again, and the next write would forget them all."""
        try:
            entries = json.loads(self.path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
            raise self._unreadable(str(getattr(e, "strerror", None) or e)) from e
        except RecursionError as e:  # nested past Python's limit (hostile-input review: out of the daemon's start)
            raise self._unreadable("nested too deeply") from e
        if not isinstance(entries, list):
            raise self._unreadable("not a list of stores")
        stores: dict[str, Entry] = {}
        for entry in entries:
            if _path(entry):
                stores[entry] = Entry(None)
            elif (isinstance(entry, dict) and _path(entry.get("path")) and isinstance(entry.get("id"), (str, type(None)))
                  and _strings(bands := entry.get("bands", [])) and _strings(paths := entry.get("paths", []))):  # fmt: skip
                stores[entry["path"]] = Entry(entry.get("id"), frozenset(bands), frozenset(paths))
            else:
                raise self._unreadable(f"an entry that is not a store: {json.dumps(entry)[:80]}")
        return stores

    def _unreadable(self, why: str) -> RecordUnreadable:
        return RecordUnreadable(
            f"{self.path} cannot be read ({why}): it records the stores this daemon opened, so that one on a disk "
            "not mounted yet is not made again, empty, in its place: no store is made until it can be read, and "
            "it is left as it is. Mend it, or move it away (the stores are recorded again as they open; a store "
            "not there then is made, empty)"
        )

    def missing(self, store: Path) -> StoreMissing | None:
        """Why ``store`` must not be opened: it was opened before and its file is not there (its folder
        gone, or there and empty: a mount point), or a different store is there (``DifferentStore``).
        None: it is there, or was never opened here."""
        return self.check(store).missing

    def check(self, store: Path) -> Checked:
        """``missing``, with what it read of the record and the file for the open that follows
        (``unpin``, ``remember``): one open reads the record once and the file's id once (until
        2026-12-06 three times and twice). Read without the lock: it decides an open, writes nothing,
        and a store swapped in or recorded meanwhile is found on the open's own connection."""
        try:
            stores = self._stores()
        except RecordUnreadable as e:  # a store there opens (its events go on being kept); none is made
            return Checked(None if store.is_file() else e, unreadable=e)
        keys = _keys(stores, store)
        checked = self._checked(stores, keys, store)
        if not _settled(checked) and (every := _keys(stores, store, every=True)) != keys:
            return self._checked(stores, every, store)
        return checked

    def _checked(self, stores: dict[str, Entry], keys: list[str], store: Path) -> Checked:
        """``check`` of ``store``, the file the record's entries ``keys`` name (``_keys``)."""
        if not keys:
            there, given = store.exists(), os.path.abspath(store)
            if there:
                self._found.add(given)
            elif given in self._found:  # (not recorded yet, and its disk gone since: never a first run)
                return Checked(_not_there(store, _FOUND))
            return Checked(None if there else self._unmounted(store), makes=not there)
        try:
            expected = self._recorded_id(stores, keys, store)
        except RecordConflict as e:
            return Checked(e, recorded=True)
        bands = _bands(stores, keys)
        if store.exists():
            found = None if expected is None else _identity(store)
            refused = _different(store, expected, found) or _foreign(store, expected, bands, found)
            return Checked(refused, True, expected, bands, found, named=_named(stores, keys, store))
        return Checked(_not_there(store, "A store was opened there before"), True, expected, bands)

    def _unmounted(self, store: Path) -> StoreMissing | None:
        """Why ``store``, never opened here and not there, must not be made: it is beneath a mount
        point the system's fstab names that nothing is mounted on (its disk not mounted yet, at the
        first start of a version with this record or at a first run). Nothing else tells an empty
        mount point from a folder made empty for the store, and a first run's folder is missing: a
        store not beneath such a mount point is made, as it always was (docs/store.md)."""
        point = _fstab_point(self.fstab, Path(os.path.realpath(store)))
        mounted = _mount_points(self.mountinfo) if point is not None else None
        if mounted is None or point in mounted:
            return None
        return StoreMissing(
            f"{store} is beneath {point}, a mount point in {self.fstab} with nothing mounted on it: is its disk mounted? "
            "No store is made beneath it (it would be hidden once the disk mounts), and it opens once the disk is. "
            f"If the store is to be made there all the same, {store_command('new', store)} makes a new, empty one"
        )

    def unpin(self, store: Path, checked: Checked) -> str | None:
        """Before an open gives its id to the store from before ids at ``store``, a path recorded with
        another id (``missing`` takes it: a backup restored), that path is recorded with no id, as
        before ids; the id it had is returned (None: nothing unpinned), for ``remember`` to say. Only
        recorded after the open, a record that could not be written then, or a process ended in between
        (killed, the power cut), left the family's store with an id the record had not: refused from
        then on as a different store. ``StoreMissing`` when the record cannot be written: the store is
        not opened, nor given an id, until it can. A record that cannot be read has no id to keep.
        ``checked``: what the check read (the record and the file are read again only to write)."""
        was, found = checked.expected, checked.found
        if was is None or found is None or not found.from_before_ids:
            return None
        try:
            with self._locked():
                stores = self._stores()
                keys = _keys(stores, store, every=True)  # (its id changes: every entry naming the file, merged)
                if self._recorded_id(stores, keys, store) != was:  # (another process's open took it meanwhile)
                    return None
                self._write(_put(stores, keys, store, Entry(None, _bands(stores, keys))))
        except RecordUnreadable:
            return None
        except OSError as e:
            raise StoreMissing(
                f"{store} is a store from before store ids (a backup restored?) where store {was} was: it is taken once "
                f"{self.path} can be written ({e.strerror or e}), to record it (given an id not recorded, it would be "
                "refused from then on as a different store)"
            ) from e
        return was

    def remember(
        self,
        store: Path,
        store_id: str | None,
        minted: bool = False,
        unpinned: str | None = None,
        checked: Checked | None = None,
        bands: frozenset[str] = frozenset(),
    ) -> None:
        """``store`` opened, with id ``store_id`` and ``bands`` (its band ids): recorded, or its id
        added to a path recorded before ids, or its bands to its entry when they changed (a band
        added: written at the next open). ``minted``: this open gave the store its id (a store from
        before ids, which ``missing`` takes: a backup restored; ``unpinned``: the id ``unpin`` took
        from its path), recorded in place of the path's, and said. Otherwise a path recorded with another id keeps it (only ``adopt`` changes it), and ``DifferentStore`` is raised: the
        store was swapped in between ``missing`` and the open (a disk mounted meanwhile), or its id
        could not be read then; the open's connection is the one that would write into it.
        A record that cannot be read or written is said, not raised: the store is open, only its
        protection against a disk not mounted yet is missing. ``checked``: what the check before the
        open read: the usual open (recorded with this id) writes nothing, and reads nothing again.
        A write reads the record again under the lock (another process may have written meanwhile)."""
        if unpinned is not None and not minted:  # given its id by another process's open, or swapped before the connection
            recorded = self._pin_again(store, unpinned)
            if store_id != recorded:
                raise _refused(store, f"id {store_id}", recorded)
            if store_id != unpinned:
                _said_taken(store, unpinned, store_id)
            return
        if checked is not None and self._unchanged(store, store_id, checked, minted, bands):
            return
        try:
            with self._locked():
                stores = self._stores()
                keys = _keys(stores, store, every=minted)  # (given its id: every entry naming the file, merged)
                was = self._recorded_id(stores, keys, store)
                if was is not None and store_id != was and not minted:
                    raise _refused(store, f"id {store_id}", was)
                if minted:  # (the check's band test, on this connection: a store swapped in after it)
                    self._refuse_foreign(stores, keys, store, was, unpinned, bands)
                new_id = store_id is not None and store_id != was
                if not keys or new_id or bands != _bands(stores, keys) or not _named(stores, keys, store):
                    self._write(_put(stores, keys, store, Entry(store_id if new_id else was, bands)))
                if minted and (was := was or unpinned) is not None:
                    _said_taken(store, was, store_id)
        except RecordUnreadable as e:
            log.warning("%s", e)
        except OSError as e:
            log.warning("%s cannot be written (%s): a store folder on a disk not mounted yet would get a new store", self.path, e.strerror or e)

    def _refuse_foreign(
        self, stores: dict[str, Entry], keys: list[str], store: Path, was: str | None, unpinned: str | None, bands: frozenset[str]
    ) -> None:
        """``_foreign_bands`` of the store from before ids this open gave its id (``bands``: its
        bands), against the store recorded at ``store`` (``was``, or the id ``unpin`` took off, put
        back): raised, with the lock held."""
        prior = was or unpinned
        refused = _foreign_bands(store, prior, _bands(stores, keys), bands)
        if refused is None:
            return
        if was is None and prior is not None:
            self._write(_put(stores, keys, store, Entry(prior, _bands(stores, keys))))
        raise refused

    def _pin_again(self, store: Path, store_id: str) -> str:
        """The id recorded for ``store`` now, ``store_id`` (the one ``unpin`` took off) put back where
        the record still holds none there. The open found an id on its connection where ``unpin`` saw
        the store from before ids: another process's open gave it its id meanwhile (and recorded it:
        the id returned, the open's to take), or a store with an id was swapped in before the
        connection, and a path left with no id would take any store found there from the next open on."""
        try:
            with self._locked():
                stores = self._stores()
                keys = _keys(stores, store, every=True)
                if (recorded := self._recorded_id(stores, keys, store)) is not None:
                    return recorded
                self._write(_put(stores, keys, store, Entry(store_id, _bands(stores, keys))))
        except (RecordUnreadable, OSError) as e:
            log.warning("%s: its id %s could not be recorded again (%s): the store found there next is taken", store, store_id, e)
        return store_id

    def _unchanged(self, store: Path, store_id: str | None, checked: Checked, minted: bool, bands: frozenset[str]) -> bool:
        """Whether the open of ``store`` (id ``store_id``, ``bands``) leaves the record as ``checked``
        read it: recorded with that id and those bands, or a record that could not be read (said).
        ``minted``: the open gave the store its id (to be recorded)."""
        if checked.unreadable is not None:
            log.warning("%s", checked.unreadable)
            return True
        if minted or not checked.recorded:
            return False
        # Another id than the check read: read again under the lock, which refuses it unless another
        # process's open recorded it since the (unlocked) check (it gave a restored backup its id).
        return store_id == checked.expected and bands == checked.bands and checked.named

    def adopt(self, store: Path, store_id: str) -> None:
        """The store at ``store`` (id ``store_id``) is this daemon's from now on ('spasmwatch store new',
        'store adopt', a 'store recover' that could not keep the id): recorded in place of what was.
        OSError when the record cannot be written, ``RecordUnreadable`` when it cannot be read."""
        with self._locked():  # (every entry naming the file replaced by one: a conflict among them is settled)
            stores = self._stores()
            self._write(_put(stores, _keys(stores, store, every=True), store, Entry(store_id)))  # (its bands: at the next open)

    def _recorded_id(self, stores: dict[str, Entry], keys: list[str], store: Path) -> str | None:
        """The id recorded for the file at ``store`` (its entries ``keys``, ``_keys``); None: recorded
        before ids (or not). ``RecordConflict`` when its entries carry different ids."""
        ids = {k: i for k in keys if (i := stores[k].id) is not None}
        if len(set(ids.values())) < 2:
            return next(iter(ids.values()), None)
        named = " and ".join(f"{k} (id {i})" for k, i in ids.items())
        raise RecordConflict(
            f"{self.path} names one store file twice, with different ids: {named} (a version before 2026-12-06 "
            "kept each path as given, one through a symlink): which is this daemon's store cannot be told, so it is "
            f"not opened, and the record is left as it is. If the store found at {store} is this daemon's, "
            f"{store_command('adopt', store)} takes it (and records it once)"
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Held while the record is read, changed and replaced: the daemon and the CLI's commands (note,
        treatment add, store adopt/new/recover) write it at the same time, and without it a store
        another process recorded between this one's read and its write was dropped. Readers need
        none: the record is replaced whole (``_write``)."""
        private.make_dir(self.path.parent)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # (released as the file closes, or as the process ends)
            except OSError as e:
                if e.errno not in NO_LOCKS:
                    raise
                self._unlocked(e)
            yield
        finally:
            os.close(fd)

    def _unlocked(self, e: OSError) -> None:
        """The record's file system does not lock: written without the lock (a store another process
        records at the same moment may be dropped), said once. Not written at all, every store the
        daemon opened went unrecorded, and 'store adopt' and 'store new' failed."""
        if not self._said_unlocked:
            self._said_unlocked = True
            log.warning("%s: its lock cannot be taken (%s): it is written without it, and a store recorded by "
                        "another process at the same moment may be dropped", self.path, e.strerror or e)  # fmt: skip

    def _write(self, stores: dict[str, Entry]) -> None:
        """The record replaced by ``stores``, whole (written beside it, synced, renamed over it), with
        ``_locked`` held. OSError when it cannot be written."""
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # (0600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump([_json(p, e) for p, e in stores.items()], f, indent=0)
            replace_durably(Path(tmp), self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _json(path: str, entry: Entry) -> dict[str, object]:
    """An entry as the record holds it: ``bands`` and ``paths`` only when known (as an older version reads it)."""
    extra = {k: sorted(v) for k, v in (("bands", entry.bands), ("paths", entry.paths)) if v}
    return {"path": path, "id": entry.id, **extra}


def _path(value: object) -> bool:
    """Whether ``value`` is a path an entry can name: a string with no NUL (no file has one, and
    resolving it, ``_keys``, raises ValueError: out of the daemon's start, which then never ran)."""
    return isinstance(value, str) and "\0" not in value


def _strings(value: object) -> bool:
    """Whether ``value`` (an entry's ``bands`` or ``paths``) is a list of strings."""
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _keys(stores: dict[str, Entry], store: Path, every: bool = False) -> list[str]:
    """The record's keys that name the file at ``store``, compared as text: its resolved path (what
    this version writes) or the path as given (what a version before 2026-12-06 wrote), and while
    the file is not there an entry whose ``paths`` hold the path as given (a link on the store's
    disk not mounted yet is not followed: the path resolves to itself, not to the file). Only when
    none does, or ``every``, a key that resolves to the same file: such a version's entry naming it
    through a symlink. Resolving is a few lstat calls on that key's disk; until 2026-12-06 every key
    was resolved at each open, and one on a share that hangs (NFS mounted hard, its server gone)
    held the daemon's start there, at every start."""
    real, absolute = os.path.realpath(store), os.path.abspath(store)
    there = os.path.exists(real)
    keys = [k for k in stores if k in (real, absolute) or (not there and absolute in stores[k].paths)]
    if keys and not every:
        return keys
    return [k for k in stores if k in keys or os.path.realpath(k) == real]


def _settled(checked: Checked) -> bool:
    """Whether ``checked``, the check of a store by the entries naming it as text (``_keys``), is what
    every entry naming it says, so that the record's other keys need not be resolved (a few lstat
    calls each, on their own disks: one on a share that hangs held the daemon's start). Settled: no
    entry names it as text (``_keys`` resolved them all then), its file not there or a conflict
    among them (not opened either way), or the file there with the very id recorded (an older
    version's entry naming it through a link with another id made that a conflict until 2026-12-06:
    it opens, docs/store.md). Anything else an older version's entry through a link may decide:
    a different store (that entry may make it a conflict, or hold a backup's band), no id recorded
    by the file's path (that entry's id refuses another store), a store from before ids (that
    entry's bands refuse another family's), an id that could not be read. Found by review of
    f56e4d8: resolved only at a refusal, the first two were taken, opened and recorded."""
    if not checked.recorded:
        return True
    if checked.missing is not None:
        return not isinstance(checked.missing, DifferentStore)
    return checked.found is not None and checked.found.id is not None and checked.found.id == checked.expected


def _named(stores: dict[str, Entry], keys: list[str], store: Path) -> bool:
    """Whether the record names the file at ``store`` (its entries ``keys``) by the path as given too:
    its resolved path, or one in an entry's key or ``paths`` (else written in at the open)."""
    absolute = os.path.abspath(store)
    return absolute == os.path.realpath(store) or any(absolute == k or absolute in stores[k].paths for k in keys)


def _bands(stores: dict[str, Entry], keys: list[str]) -> frozenset[str]:
    """The bands the entries ``keys`` (``_keys``) recorded for one store file."""
    return frozenset().union(*(stores[k].bands for k in keys))


def _put(stores: dict[str, Entry], keys: list[str], store: Path, entry: Entry) -> dict[str, Entry]:
    """``stores`` with the entries ``keys`` (``_keys``) replaced by one, the file's resolved path with
    ``entry``, where the first of them was (appended when none): the other stores' entries kept
    as they are, an older version's among them (rewritten as each store is). The entry keeps every
    other path that named the file (``Entry.paths``): the path given, the replaced entries' keys
    and paths, the path given taken off another store's (it names this file now: a link pointed elsewhere)."""
    real, absolute = os.path.realpath(store), os.path.abspath(store)
    named = {absolute, *keys}.union(*(stores[k].paths for k in keys))
    entry = entry._replace(paths=frozenset(named - {real}))
    put: dict[str, Entry] = {}
    for k, e in stores.items():
        if k not in keys:
            put[k] = e._replace(paths=e.paths - {absolute})
        elif real not in put:
            put[real] = entry
    put.setdefault(real, entry)
    return put


def _not_there(store: Path, was: str) -> StoreMissing:
    """``StoreMissing``: no file at ``store``, where a store ``was`` (opened before, or there at the check)."""
    folder = store.parent
    where = (f"the store folder {folder} is missing" if not folder.is_dir()
             else f"{store} is missing from its folder (an empty folder may be where its disk mounts)")  # fmt: skip
    return StoreMissing(
        f"{where}: is its disk mounted? {was}: none is made in its place (the history would look gone), and it "
        f"opens once it is there. If it was moved away on purpose, {store_command('new', store)} makes a new, empty one"
    )


def vanished(store: Path, checked: Checked) -> StoreMissing | None:
    """Why an open that may not make ``store`` (``checked``: its check, ``Checked.makes`` False) could
    not connect, when the file is gone since the check (its disk unmounted in between): ``StoreMissing``
    as the check says it. None: the file is there (the open's own error says what is wrong). A link
    to the file left dangling is no file (``exists`` follows it, as the check does): until the
    review of 2026-12-06 (``lexists``) the open's own SQLite error, with no word of the disk."""
    if checked.makes or store.exists():
        return None
    return _not_there(store, "A store was opened there before" if checked.recorded else _FOUND)


def _fstab_point(fstab: Path, store: Path) -> Path | None:
    """The deepest mount point ``fstab`` names that ``store`` is beneath (None: none, or no fstab)."""
    try:
        lines = fstab.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    points = [unescaped(f[1]) for f in (line.split() for line in lines) if len(f) > 1 and not f[0].startswith("#")]
    beneath = [p for p in points if p.is_absolute() and store.is_relative_to(p)]  # (swap's "none" is not absolute)
    return max(beneath, key=lambda p: len(p.parts), default=None)


def _mount_points(mountinfo: Path) -> set[Path] | None:
    """The mount points mounted now; None when mountinfo cannot be read (not Linux): nothing is
    refused by a guess."""
    found = mounts(mountinfo)
    return None if found is None else {point for point, _ in found}


def mounts(mountinfo: Path) -> list[tuple[Path, str]] | None:
    """Each mount now as (its point, its device 'MAJ:MIN' in decimal: fields 5 and 3 of proc(5)
    mountinfo), in the file's order (of two on one point the later is on top); None when it
    cannot be read (not Linux)."""
    try:
        lines = mountinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return [(unescaped(f[4]), f[2]) for f in (line.split() for line in lines) if len(f) > 4]


def unescaped(field: str) -> Path:
    """A path as fstab and mountinfo write it: a space, tab, newline or backslash as \\ooo (octal)."""
    return Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))


def _identity(store: Path) -> Identity | None:
    """What the file at ``store`` is (``read_identity``); None when it cannot be read."""
    try:
        return read_identity(store)
    except sqlite3.Error:
        return None


def _different(store: Path, expected: str | None, found: Identity | None) -> DifferentStore | None:
    """``DifferentStore`` when the file at ``store`` (``found``: what it is, ``_identity``) is not the
    store of id ``expected`` (None: recorded before ids, any store is taken). A store from before ids
    is not refused here: it is most likely this family's backup restored, it has no id to tell it by
    (``_foreign`` refuses one that shares no band with the store recorded), and before ids any store
    at the path was taken (docs/store.md); its open gives it its id, recorded (``remember``). A file that cannot
    be read is left to the open to say what is wrong with it (damaged, another program's, not this
    account's), and so is a store that lost its id (``Identity.lost_id``) or that is damaged by its tables
    (``Identity.damaged``, its header lowered below ids too): its open refuses it as damaged
    (_db.unrepairable), writing nothing, as 'store check' says it; until the review of 2026-12-06 it
    was refused here as 'an empty file?', naming 'store adopt'. One damaged that holds another id is
    another's store all the same (a wrong disk mounted): refused here, not sent to 'store recover'."""
    if expected is None or found is None:
        return None
    if found.id == expected or found.from_before_ids or found.lost_id or (found.damaged and found.id is None):
        return None
    what = f"id {found.id}" if found.id is not None else "no id, and not a spasmwatch store from before ids: an empty file?"
    return _refused(store, what, expected)


def _foreign(store: Path, expected: str | None, bands: frozenset[str], found: Identity | None) -> DifferentStore | None:
    """``DifferentStore`` for a store from before ids at ``store`` (``found``: what it is) that has
    bands, none of them one the store recorded there (id ``expected``) had (its ``bands``): someone
    else's old store (a backup of theirs copied there). The family's own backup from before ids is
    an ancestor of the store the id was given to, whose bands the record keeps from that open on:
    every band in it is among them (a store's bands are never removed). Nothing known (no band on
    either side): taken, as before."""
    if found is None or not found.from_before_ids:
        return None
    return _foreign_bands(store, expected, bands, found.bands)


def _foreign_bands(store: Path, expected: str | None, bands: frozenset[str], theirs: frozenset[str]) -> DifferentStore | None:
    """``_foreign`` of a store from before ids with bands ``theirs``: as the check read it, or as the
    open's connection that gave it its id reads it (``remember``: a store swapped in after the check)."""
    if expected is None or not bands or not theirs or theirs & bands:
        return None
    return DifferentStore(
        f"{store} is a spasmwatch store from before store ids, and none of its bands ({', '.join(sorted(theirs))}) is one "
        f"the store recorded there (id {expected}) had ({', '.join(sorted(bands))}): another's store (an old backup copied "
        "there?). It is not this daemon's history: nothing is written into it, and this daemon's store opens once it is there "
        f"again. If it is this daemon's store all the same, {store_command('adopt', store)} takes it"
    )


def _said_taken(store: Path, was: str, store_id: str | None) -> None:
    """Logged: the store from before ids found at ``store`` where store ``was`` was recorded is taken
    as the daemon's, with its new id ``store_id`` (by this open, or another process's meanwhile)."""
    log.warning(
        "%s: a store from before store ids (a backup restored?) was found where store %s was: taken as this "
        "daemon's store, with its new id %s (it has no id to tell it by, and it shares a band with that store, "
        "or one of them has none: if it is not this family's, put the family's store back and run %s)",
        store, was, store_id, store_command("adopt", store),
    )  # fmt: skip


def _refused(store: Path, what: str, expected: str) -> DifferentStore:
    """``DifferentStore``: the store at ``store`` (``what`` it is) is not the store of id ``expected``."""
    return DifferentStore(
        f"a different spasmwatch store is at {store} ({what}; expected {expected}): another disk mounted there, or one "
        "set up again? It is not this daemon's history: nothing is written into it, and this daemon's store opens once "
        f"it is there again. If the store found there is to be this daemon's from now on, {store_command('adopt', store)} takes it"
    )
