"""The store's own backups: copies beside it (``<store>.backups/``), made while the daemon writes,
rotated, and put back by 'spasmwatch store restore' (docs/store.md, "Backups").

A copy is made with SQLite's online backup API from a read-only connection that holds one read
transaction for the whole copy: it is the store as of its last commit (the daemon's writes go on into
the WAL meanwhile, never into the copy, and never restart it), copied COPY_STEP_PAGES at a time so
that a daemon's stop (``stop``) ends it between two steps, written to a partial file (deleted when the
copy stops or fails), checked with ``PRAGMA quick_check`` (which a stop interrupts), synced and
only then renamed to its name. Older copies are deleted only after a new one passed that check
(``rotate``), so a damaged or half-written copy never pushes out a good one. The newest copy stays a
plain SQLite file; each older one is compressed once a newer one passed its check (``compress_older``:
gzip level 1, written to a partial file, read back whole, synced, renamed into place, and only then
the plain one deleted), its latest event's time in its name. 'store restore' reads both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import os
import re
import shutil
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spasmwatch import private
from spasmwatch.outfile import sync_file, sync_folder
from spasmwatch.store import shape
from spasmwatch.store.carry import Carried, carry
from spasmwatch.store._db import (
    BUSY_TIMEOUT_S,
    CHECKING_COPY,
    COPYING,
    Progress,
    StoreError,
    _check_newer,
    _check_sound,
    needed_bytes,
    reading,
    reading_uri,
    unrepairable,
)
from spasmwatch.store.schema import APPLICATION_ID, SCHEMA_VERSION

FOLDER_SUFFIX = ".backups"
# A copy's name: the UTC time it was made (a time zone changed by a family that travelled would
# make a local name sort wrong).
_STAMP = "%Y%m%dT%H%M%SZ"
# A plain copy '20261206T031200Z.db'; a compressed one with its latest event's time (UTC; 'none': no
# event), which 'store backups' says of each copy and a compressed one gives only decompressed:
# '20261205T031100Z.upto-20261205T030955Z.db.gz'.
_NAME = re.compile(r"^(\d{8}T\d{6}Z)(?:\.upto-(\d{8}T\d{6}Z|none)\.db\.gz|\.db)$")
PARTIAL = ".partial.db"  # the copy being written: never listed, removed by the next try
PARTIAL_GZ = ".partial.db.gz"  # an older copy being compressed: never listed, removed by the next try
GZIP_MAGIC = b"\x1f\x8b"  # a compressed copy's first bytes (a plain one's: SQLite's header string)
# gzip level 1: a year's copy (350-364 MB) in 87-114 MB, compressed and read back in 1.9-2.7 x the copy's
# make (bench/store_backup.py --older); level 6 took 2-3 times level 1's time for 3-5 MB less, xz preset 0
# 7-11 times it for half the size (--compress; docs/store.md "Backups").
GZIP_LEVEL = 1
CHUNK_BYTES = 1 << 20  # compressed and read back a MB at a time, the stop asked between two
# Side files a copied-in or restored store may carry (a WAL belongs with its file).
SIDE_FILES = ("-wal", "-shm", "-journal")
# Pages copied per backup step (4 MB at the store's 4 KiB pages): a stop asked for during a copy waits
# one step at most, about 20 ms here (a year's 350 MB copied in 1.6 s) and some 0.2 s on an SD card
# ten times slower; a whole copy took 3 s here and maybe 30 s there, which a stop waited out until
# 2026-12-06. Each step is a call back into Python: small steps would cost the copy more than they save.
COPY_STEP_PAGES = 1024
# Pages of a copy written between two syncs of it to disk (64 MB at 4 KiB pages): without them, a Pi's
# kernel held a year's copy in its page cache (a tenth of its memory may wait there unwritten) and the
# copy's end (SQLite's commit, ``sync_file``) wrote it all in one call that told nothing: some 35 s for
# 350 MB on an SD card at 10 MB/s, past the start's extension (daemon consts START_EXTEND_S) for a store
# a few times that. Now each such call writes 64 MB at most: ~6 s on that card, the copy's progress told
# between them (COPYING). The same bytes are written, in more calls.
COPY_SYNC_PAGES = 16 * COPY_STEP_PAGES
# The store as it was before a migration (``before_upgrade``): 'before-upgrade-v13.db' in its backups
# folder, by the schema version it was at. One per version: a later upgrade from the same version (the
# family went back to that release with this copy and on from there) replaces it, the later copy holding
# what the earlier did and what came after: at most one file per released schema version (16 today).
# Not a daily copy's name (_NAME): no release's 'store backups', rotation or compression takes it.
BEFORE_UPGRADE = "before-upgrade-v{version}.db"
PARTIAL_BEFORE_UPGRADE = ".partial-before-upgrade.db"  # as PARTIAL, for that copy: never listed, removed by the next try
# The copy before an upgrade is made only when it leaves this much free space (MB, 10^6 bytes) on the
# store's file system: the migration after it writes (v16 makes the clusters table again, in the WAL),
# and the monitor's store grows on there. The room the daily copies and raw recording leave for the store
# (daemon consts BACKUP_RESERVE_MB, RAW_RESERVE_MB: years of its growth, the WAL, the system's logs), the
# same value for the same reasons (the store's layer does not import the daemon's).
UPGRADE_COPY_RESERVE_MB = 1000.0
MB = 1_000_000  # the unit of UPGRADE_COPY_RESERVE_MB


class Unsound(sqlite3.DatabaseError):
    """The copy's pages are not sound (``_check``): the store's own, or a write of the copy's gone wrong."""


class Stopped(Exception):
    """The copy ended before it was done: the daemon is stopping (``make``'s ``stop``)."""


class Stop:
    """A stop asked from another thread (the daemon's loop) of a copy under way in a worker thread:
    the copy looks at it after each step; its check (PRAGMA quick_check: 1.2 s of a year's copy here,
    one SQLite instruction that no progress handler reaches before SQLite 3.43) is interrupted
    (``Connection.interrupt``, which another thread may call)."""

    def __init__(self) -> None:
        self._set = threading.Event()
        self._lock = threading.Lock()
        self._checking: sqlite3.Connection | None = None

    def set(self) -> None:
        with self._lock:
            self._set.set()
            if self._checking is not None:
                self._checking.interrupt()

    def is_set(self) -> bool:
        return self._set.is_set()

    def raise_if_set(self) -> None:
        if self._set.is_set():
            raise Stopped("the daemon is stopping")

    @contextlib.contextmanager
    def interrupting(self, conn: sqlite3.Connection) -> Iterator[None]:
        """``conn``'s statements interrupted by a ``set`` while in this block; Stopped when it was set
        before (an interrupt asked while no statement runs is forgotten by SQLite at the next one)."""
        with self._lock:
            self.raise_if_set()
            self._checking = conn
        try:
            yield
        except sqlite3.OperationalError:
            self.raise_if_set()  # interrupted by the stop: no fault of the copy's
            raise
        finally:
            with self._lock:
                self._checking = None


@dataclass(frozen=True)
class Backup:
    path: Path
    made_s: float  # wall s (UTC) it was made, from its name
    size: int  # bytes
    compressed: bool = False  # gzip (an older copy: ``compress_older``)
    latest_event_s: float | None = None  # a compressed copy's latest event (UTC s, whole), from its name (None: none)

    @property
    def name(self) -> str:
        return self.path.name


def folder(store: Path) -> Path:
    """Where ``store``'s backups are: beside it, ``spasmwatch.db.backups/``."""
    return store.with_name(store.name + FOLDER_SUFFIX)


def listed(store: Path) -> list[Backup]:
    """``store``'s backups, oldest first (none: no folder yet, or one that cannot be read)."""
    found = []
    try:
        entries = list(os.scandir(folder(store)))
    except OSError:
        return []
    for e in entries:
        m = _NAME.match(e.name)
        if m is None or not e.is_file(follow_symlinks=False):
            continue
        upto = m.group(2)
        latest = None if upto in (None, "none") else _utc_s(upto)
        found.append(Backup(Path(e.path), _utc_s(m.group(1)), e.stat(follow_symlinks=False).st_size, upto is not None, latest))
    return sorted(found, key=lambda b: b.made_s)


def before_upgrades(store: Path) -> list[Path]:
    """``store``'s copies before an upgrade (``before_upgrade``), by name (none: no folder yet)."""
    return sorted(folder(store).glob(BEFORE_UPGRADE.format(version="*")))


def _utc_s(stamp: str) -> float:
    return dt.datetime.strptime(stamp, _STAMP).replace(tzinfo=dt.timezone.utc).timestamp()


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime(_STAMP)


def short_of_room(store: Path, reserve_mb: float) -> tuple[int, int] | None:
    """(the bytes a copy of ``store`` takes, the bytes free) when the copy would leave less than
    ``reserve_mb`` free on its file system (the daily copies' BACKUP_RESERVE_MB, the copy before an
    upgrade's UPGRADE_COPY_RESERVE_MB); None: room for it. OSError: either could not be read."""
    need, free = needed_bytes(store), free_bytes(store)
    return (need, free) if free - need < reserve_mb * MB else None


def make(store: Path, now_s: float, stop: Stop | None = None) -> Backup:
    """A checked copy of ``store`` in its backups folder, named for ``now_s``; StoreError (nothing
    kept but what was there) when it cannot be made or its copy is not sound; Stopped (its partial
    file deleted, nothing else changed) when ``stop`` is set before the copy is renamed into place."""
    final = folder(store) / (_stamp(now_s) + ".db")
    _make(store, final, PARTIAL, Stop() if stop is None else stop, "its daily copy")
    return Backup(final, now_s, final.stat().st_size)


def before_upgrade(store: Path, version: int, progress: Progress | None = None) -> Path:
    """A checked copy of ``store`` as it is at schema ``version``, before its migration (_db.migrate),
    kept in its backups folder as BEFORE_UPGRADE (one there before replaced); its path. The way back to
    the release before: its 'store restore --from PATH' puts it back (docs/host.md "Upgrading").
    StoreError as ``make``'s, and when it would leave less than UPGRADE_COPY_RESERVE_MB free.
    ``progress``: told the copy's bytes after each step (COPYING), then its check (CHECKING_COPY)."""
    try:
        short = short_of_room(store, UPGRADE_COPY_RESERVE_MB)
    except OSError as e:
        raise StoreError(f"the store's size or free space could not be read ({e})") from e
    if short is not None:
        need, free = short
        raise StoreError(f"free space is short on {store.parent}: {free / MB:.0f} MB free, the copy takes up to {need / MB:.0f} MB "
                         f"and {UPGRADE_COPY_RESERVE_MB:g} MB are left for the store (UPGRADE_COPY_RESERVE_MB)")  # fmt: skip
    final = folder(store) / BEFORE_UPGRADE.format(version=version)
    _make(store, final, PARTIAL_BEFORE_UPGRADE, Stop(), "its copy before its upgrade", progress)
    return final


def _make(store: Path, final: Path, partial_name: str, stop: Stop, by: str, progress: Progress | None = None) -> None:
    """``make``'s copy of ``store`` into ``final``, through ``partial_name`` in its folder; ``by``: what
    found the store damaged, as its error says it; ``progress``: ``before_upgrade``'s."""
    where = final.parent
    partial = where / partial_name
    try:
        if not store.is_file():  # (its disk unmounted: nothing made there, on the mount point or beneath it)
            raise FileNotFoundError(f"{store}: no store there")
        with contextlib.suppress(FileExistsError):
            where.mkdir(mode=private.DIR_MODE)  # (never its parents: private.make_dir makes them)
        with _into_place(partial, final, stop):
            _copy(store, partial, stop, progress)
            try:
                _check(partial, stop, progress)
            except Unsound:
                if (damage := store_damage(store, stop, f"found by {by}, none made in {where}; nothing more is written to it")) is not None:
                    raise damage from None
                raise
    except (OSError, sqlite3.Error) as e:
        raise StoreError(f"{store}: no backup made in {where}: {e}") from e


@contextlib.contextmanager
def _into_place(partial: Path, final: Path, stop: Stop) -> Iterator[None]:
    """``partial`` made anew for the body to write (an interrupted try's removed; 0600, the baby's
    data, before a byte is written), then synced and renamed to ``final``, its folder synced
    (outfile.replace_durably's steps, ``stop`` looked at between them: set while a check had not
    begun, SQLite forgot the interrupt). Anything raised removes ``partial`` (on a full disk it held
    the last free space) and leaves ``final`` as it was: a copy cut short never takes its place."""
    try:
        partial.unlink(missing_ok=True)
        private.create_file(partial)
        yield
        sync_file(partial)
        stop.raise_if_set()
        os.replace(partial, final)
        sync_folder(final.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _copy(store: Path, into: Path, stop: Stop, progress: Progress | None = None) -> None:
    """``store`` as of its last commit into ``into``, through a read-only connection (it never
    checkpoints the daemon's WAL), COPY_STEP_PAGES at a time, ``stop`` asked after each (Stopped).
    The read transaction is held open across the steps: without it each step reads the store anew,
    and a write the daemon commits meanwhile starts the copy again (it might never end on a busy
    store; until 2026-12-06 the copy was made in one step for this, which a stop could not end).
    ``progress``: told the bytes copied of the store's after each step (COPYING)."""
    src = sqlite3.connect(reading_uri(store), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        src.execute("BEGIN")
        if int(src.execute("PRAGMA application_id").fetchone()[0]) != APPLICATION_ID:
            raise sqlite3.DatabaseError("not a spasmwatch store")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # (the snapshot taken: a read opens it)
        page = int(src.execute("PRAGMA page_size").fetchone()[0])
        synced = [0]  # pages of the copy on disk (``COPY_SYNC_PAGES``)

        def stepped(_status: int, remaining: int, total: int) -> None:
            stop.raise_if_set()
            if total - remaining - synced[0] >= COPY_SYNC_PAGES:
                sync_file(into)
                synced[0] = total - remaining
            if progress is not None:
                progress(COPYING, (total - remaining) * page, total * page)

        dst = sqlite3.connect(into, isolation_level=None)
        try:
            src.backup(dst, pages=COPY_STEP_PAGES, progress=stepped)
            # A file of its own: no WAL beside it for a copy to need (the header said WAL, as the store's).
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _check(path: Path, stop: Stop | None = None, progress: Progress | None = None) -> None:
    """sqlite3.DatabaseError when the copy at ``path`` is not sound (PRAGMA quick_check: every page
    read), or is a store the daemon refuses by its tables (a column or table dropped by hand while it
    ran: _db.unrepairable), which no restore could use. Stopped when ``stop`` is set meanwhile.
    ``progress``: told as the read advances (CHECKING_COPY)."""
    halt = Stop() if stop is None else stop
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        with halt.interrupting(conn), reading(progress, CHECKING_COPY, path.stat().st_size):
            try:
                found = [str(r[0]) for r in conn.execute("PRAGMA quick_check(3)")]
            except sqlite3.DatabaseError as e:  # a damaged page it cannot step over: said as one found (_db._check_sound)
                halt.raise_if_set()  # (or the stop's interrupt)
                found = [str(e)]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        refused = unrepairable(conn, path, version, shape.of(conn)) if found == ["ok"] else None
    finally:
        conn.close()
    if found != ["ok"]:
        raise Unsound(f"the copy is not sound: {'; '.join(found)}")
    if refused is not None:
        raise sqlite3.DatabaseError(f"the copy is refused as damaged: {refused}")


def store_damage(store: Path, stop: Stop, done: str) -> StoreError | None:
    """The store's own damage (StoreError, ``damaged``; ``done``: what is done with it, as its error
    says it), read through as its open reads it (PRAGMA quick_check, on a read-only connection: it
    never checkpoints the WAL into it); None: the store is sound. Asked when its copy is not sound (or
    the copy's write went wrong): the copy holds the store's pages as they are, so this is the daily
    read of every page of a store the daemon keeps open for weeks: a page damaged after its open, in
    rows no call reads, went on being written around until 2026-12-07 (daemon/backups.py
    ``found_damaged``). And after the daemon's start, for the pages its open left unread
    (_db.READ_AFTER_START). Stopped when ``stop`` is set meanwhile."""
    conn = sqlite3.connect(reading_uri(store), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        with stop.interrupting(conn):
            try:
                _check_sound(conn, store, done=done)
            except StoreError as e:
                stop.raise_if_set()  # (interrupted by the stop: no finding)
                return e
    finally:
        conn.close()
    return None


def kept(backups: list[Backup], days: int, weeks: int) -> set[Path]:
    """The backups to keep: the newest of each of the ``days`` latest days (UTC) that have one, and
    the newest of each of the ``weeks`` latest ISO weeks that have one. Counted by days and weeks
    that have a copy, not back from now: a daemon off for a month keeps the copies it had."""
    keep: set[Path] = set()
    for key, n in ((_day, days), (_week, weeks)):
        newest: dict[tuple[int, int], Backup] = {}
        for b in backups:  # (oldest first: the newest of a day or week wins)
            newest[key(b)] = b
        keep.update(b.path for b in sorted(newest.values(), key=lambda b: b.made_s)[-n:] if n > 0)
    return keep


def _day(b: Backup) -> tuple[int, int]:
    d = dt.datetime.fromtimestamp(b.made_s, dt.timezone.utc).date()
    return d.year, d.timetuple().tm_yday


def _week(b: Backup) -> tuple[int, int]:
    year, week, _ = dt.datetime.fromtimestamp(b.made_s, dt.timezone.utc).date().isocalendar()
    return year, week


def rotate(store: Path, days: int, weeks: int) -> list[Path]:
    """Delete ``store``'s backups ``kept`` does not keep; the ones deleted. Called only after a new
    copy passed its check (``make``): the copies it pushes out had a sound successor."""
    gone = []
    backups = listed(store)
    for b in backups:
        if b.path not in kept(backups, days, weeks):
            b.path.unlink(missing_ok=True)
            gone.append(b.path)
    return gone


def compress_older(store: Path, stop: Stop | None = None) -> list[Backup]:
    """Each plain copy of ``store`` but the newest compressed (``compress``), oldest first; those
    made. Called once a newer copy passed its check (the daemon's pass): the newest, which the hints'
    '--from latest' names and a restore reads fastest, stays plain. OSError (a full disk: no room for
    the compressed file beside the plain one), or Stopped: the copy under way stays plain, nothing of
    its compressed file left, the ones before it done; the next pass takes up the rest."""
    return [compress(b, stop) for b in listed(store)[:-1] if not b.compressed]


def compress(b: Backup, stop: Stop | None = None) -> Backup:
    """The plain copy ``b`` compressed (gzip, GZIP_LEVEL) under its name with its latest event's time
    (``_NAME``), then deleted; the compressed copy. Written to PARTIAL_GZ, read back whole (gzip checks
    its CRC and length at its end) to the plain copy's size, synced, renamed into place and the folder
    synced; only then is the plain copy deleted: one cut short (a full disk, a stop, a crash) never
    takes its place. Stopped when ``stop`` is set meanwhile (asked between chunks)."""
    halt = Stop() if stop is None else stop
    latest = _latest_event_s(b.path)
    final = b.path.with_name(f"{_stamp(b.made_s)}.upto-{'none' if latest is None else _stamp(latest)}.db.gz")
    partial = b.path.with_name(PARTIAL_GZ)
    with _into_place(partial, final, halt):
        with open(b.path, "rb") as src, open(partial, "wb") as dst:
            packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # (wbits 31: a gzip file, as gzip.open reads)
            while chunk := src.read(CHUNK_BYTES):
                halt.raise_if_set()
                dst.write(packer.compress(chunk))
            dst.write(packer.flush())
        if (size := _unpacked_bytes(partial, halt)) != b.size:
            raise OSError(f"{partial}: {size} bytes read back, {b.size} in {b.path}")
    b.path.unlink()
    return Backup(final, b.made_s, final.stat().st_size, True, latest)


def _latest_event_s(copy: Path) -> float | None:
    """The latest event's wall time in the plain ``copy`` (None: none; read-only, nothing made beside it)."""
    conn = sqlite3.connect(reading_uri(copy, untouched=True), uri=True, isolation_level=None)
    try:
        t = conn.execute("SELECT max(wall_t) FROM events").fetchone()[0]
    finally:
        conn.close()
    return None if t is None else float(t)


def _unpacked_bytes(packed: Path, stop: Stop) -> int:
    """The bytes the gzip file ``packed`` holds, read through (its CRC and length checked at its end);
    OSError when it cannot be read whole (cut short, a damaged byte)."""
    n = 0
    try:
        with gzip.open(packed, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                stop.raise_if_set()
                n += len(chunk)
    except (EOFError, zlib.error) as e:  # (gzip's BadGzipFile is an OSError already)
        raise OSError(f"{packed}: {e}") from e
    return n


def is_compressed(copy: Path) -> bool:
    """Whether the file ``copy`` is a compressed copy (gzip), by its first bytes, whatever its name."""
    with open(copy, "rb") as f:
        return f.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def free_bytes(store: Path) -> int:
    """Free bytes for this user on the file system of ``store``'s folder."""
    return shutil.disk_usage(store.parent).free


def checked(backup: Path, named: Path | None = None) -> None:
    """StoreError unless ``backup`` is a sound spasmwatch store (read-only, nothing made beside it);
    ``named``: the file the error names (a compressed copy, ``backup`` its decompressed bytes)."""
    said = backup if named is None else named
    try:
        conn = sqlite3.connect(reading_uri(backup, untouched=True), uri=True, isolation_level=None)
        try:
            ours = int(conn.execute("PRAGMA application_id").fetchone()[0]) == APPLICATION_ID
            if ours and (version := int(conn.execute("PRAGMA user_version").fetchone()[0])) > SCHEMA_VERSION:
                # A newer spasmwatch's copy (put back to this one since): in place, the daemon would
                # refuse to start on it (found by the hostile-input review: it was put there).
                _check_newer(conn, said, version, writes=True, untouched="nothing was restored")
        finally:
            conn.close()
        if not ours:
            raise StoreError(f"{said}: not a spasmwatch store: nothing was restored")
        _check(backup)
    except sqlite3.Error as e:
        raise StoreError(f"{said}: cannot be read as a sound store ({e}): nothing was restored") from e


@dataclass(frozen=True)
class Restored:
    replaced: Path | None  # where the file that was there is kept (None: there was none)
    carried: Carried | None  # what of it was carried into the backup (None: there was none)


def restore(store: Path, backup: Path, stamp: str) -> Restored:
    """Put ``backup`` in ``store``'s place; the file there (and its WAL) kept beside it as
    ``<store>.replaced-<stamp>``, never deleted. What the host alone wrote into it after the backup
    (notes, treatments, labels, acknowledgements, epochs, STATUS rows) is carried into the copy first,
    what can be read of it (carry.py: the file may be damaged; that never fails the restore); the
    events the bands' flash no longer holds are only there. A compressed copy (``is_compressed``)
    is decompressed into place, then checked as a plain one is. The caller holds the daemon lock."""
    packed = is_compressed(backup)
    if not packed:
        checked(backup)
    aside = store.with_name(f"{store.name}.replaced-{stamp}")
    if aside.exists():
        raise StoreError(f"{aside}: exists already (a restore a minute ago?): wait a minute and run it again")
    incoming = store.with_name(store.name + ".restoring")
    incoming.unlink(missing_ok=True)
    try:
        private.create_file(incoming)
        with gzip.open(backup, "rb") if packed else open(backup, "rb") as src, open(incoming, "wb") as dst:
            shutil.copyfileobj(src, dst)
        if packed:
            checked(incoming, named=backup)
        else:
            _check(incoming)
        had = store.exists()
        carried = carry(store, incoming) if had else None
        sync_file(incoming)
    except (OSError, EOFError, zlib.error, sqlite3.Error) as e:  # (EOFError: a compressed copy cut short)
        incoming.unlink(missing_ok=True)
        raise StoreError(f"{store}: {backup} could not be copied into place ({e}): nothing was changed") from e
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    if had:
        for side in SIDE_FILES:  # a WAL belongs with its file: kept together
            if Path(f"{store}{side}").exists():
                os.replace(f"{store}{side}", f"{aside}{side}")
        os.replace(store, aside)
    os.replace(incoming, store)
    sync_folder(store.parent)
    return Restored(aside if had else None, carried)
