"""Opening, checking and migrating the SQLite file; transactions and errors.

Connections run in autocommit mode (``isolation_level=None``) and every
write is an explicit ``BEGIN IMMEDIATE ... COMMIT``: what a method wrote is
either all on disk when it returns or not at all (WAL, ``synchronous=FULL``; a
band's epochs and STATUS rows are synced once a minute: ``Store._tx``'s ``lazy``).
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import shlex
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

from spasmwatch import private
from spasmwatch.errors import SpasmwatchError
from spasmwatch.store import shape
from spasmwatch.store.schema import (
    APPLICATION_ID,
    MARKER_VERSION,
    MIGRATIONS,
    READABLE_FROM_VERSION,
    SCHEMA_VERSION,
    STORE_ID_VERSION,
    readable_by,
    writable_by,
)
from spasmwatch.words import in_quotes

BUSY_TIMEOUT_S = 10.0
# The tables the daemon's open leaves to a read after its start (``connect``'s ``later``): a band's
# epochs (one every 10 s) and STATUS rows (one a minute), with their indexes 98.5% of the pages of a
# year of one band (84,251 of 85,532; bench/store_open.py), whose read (quick_check) was most of the
# daemon's start: 2.7-3.5 s here, seconds more on a Pi's SD card. Each is written at its newest end
# alone, and no start reads them: the rest (events, clusters, alerts, the outbox...), which the start
# reads and changes, is read before anything is written, as before.
READ_AFTER_START = ("activity", "status")
# A step's statement that adds a column (table, column): checked against the store's columns first (``_check_added``).
_ADD_COLUMN = re.compile(r"\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(\w+)", re.IGNORECASE)
# A step's statement that drops a table (one it makes again): the rows that refer to it are checked (``_orphans``).
_DROP_TABLE = re.compile(r"\s*DROP\s+TABLE\s+(\w+)\s*;?\s*$", re.IGNORECASE)
log = logging.getLogger(__name__)

# The long steps of a read-write open that migrates a store, told to its caller as they advance
# (``connect``'s ``progress``: step, done, total): the daemon's start tells systemd it goes on
# (daemon/notify.py ``Starting``), which else killed it past its start timeout, mid-copy.
CHECKING = "checking"  # the read of every page before the migration (``_probe``): bytes read of the store's
COPYING = "copying"  # the copy before the upgrade (backup.before_upgrade): bytes copied of the store's
CHECKING_COPY = "checking the copy"  # that copy's read through (backup._check): bytes read of the copy's
MIGRATING = "migrating"  # the schema steps (``_steps``): steps done of the steps to take
Progress = Callable[[str, int, int], None]
# SQLite VM instructions between two tellings of a schema step (``telling``): SQLite runs tens of
# millions a second, so one each few ms here, a Python call each (under 1% of the work); a write
# stalled on a disk runs none, so none is told: nothing says it advances when it does not.
PROGRESS_OPS = 100_000
# How often (s) a check's progress is looked at (``reading``): PRAGMA quick_check is one SQLite
# instruction, which no progress handler reaches before SQLite 3.43 (a Pi's Debian 12 has 3.40), so
# its progress is the bytes this process has read meanwhile (Linux's /proc/self/io rchar), told when
# they grew. A check stalled on its disk reads none: nothing told.
READ_LOOK_S = 1.0


def store_command(action: str, store: Path, more: str = "") -> str:
    """'spasmwatch store ``action``' for ``store`` as an error names it: with its absolute path, since
    the daemon's store path may come from its unit (SPASMWATCH_DATA_DIR, 'run --config') and the
    family's shell has neither: a bare command acted on the store at the shell's default path.
    ``more``: its further arguments ('--from latest')."""
    return in_quotes(f"spasmwatch store {action} --db {shlex.quote(os.path.abspath(store))}{f' {more}' if more else ''}")


def recover_hint(store: Path) -> str:
    """How a damaged ``store`` is named in errors: the way out, the file kept (docs/store.md, "A
    damaged store")."""
    return (
        f"{store_command('recover', store)} copies every row that can still be read into a new store "
        "and keeps this file beside it (stop the daemon first)"
    )


def no_recovery_hint(store: Path, gone: list[str]) -> str:
    """The way out of a ``store`` whose tables lost columns ``gone`` ('events.onset_ms', shape.unkeepable)
    that each of their rows needs and no value of which can be told: no spasmwatch can keep those rows,
    so not 'store recover' (it refuses them): the daemon's latest backup put back (``restore_hint``),
    else a copy made before, or a new store with this file kept aside (docs/store.md, "A store's
    version changed by hand")."""
    quoted = shlex.quote(os.path.abspath(store))
    said = ", ".join(f"its table {c.split('.')[0]} has no column {c.split('.')[1]}" for c in gone)
    restore = restore_hint(store)
    copy = (f"put back a copy of the store made before the change, this file moved aside first (mv {quoted} {quoted}.changed; "
            f"cp COPY {quoted})")  # fmt: skip
    return (
        f"{said}, which each of its rows needs, and no value of it can be told (dropped by hand?): no spasmwatch can keep "
        f"those rows, 'spasmwatch store recover' neither. {restore or 'spasmwatch made no backup of it: with the daemon stopped, ' + copy}: "
        f"each band sends again the events its flash still holds. Without {'one' if restore else 'a copy'}: move this file aside (its rows "
        f"stay in it, sqlite3 reads them) and run {store_command('new', store)}, a new, empty store"
    )


def restore_hint(store: Path) -> str | None:
    """'With the daemon stopped, 'spasmwatch store restore ... --from latest' puts back ...' when the
    daemon's backups of ``store`` are beside it (store/backup.py: each was checked as the daemon checks
    a store, so one made after such a change was refused); None: there are none."""
    from spasmwatch.store import backup  # (it reads the store through this module)

    have = backup.listed(store)
    if not have:
        return None
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime(have[-1].made_s))
    return (f"With the daemon stopped, {store_command('restore', store, '--from latest')} puts back the latest of spasmwatch's "
            f"daily backups of it ({made}; {store_command('backups', store)} lists them), this file kept beside it")  # fmt: skip


def _gone(conn: sqlite3.Connection, version: int, found: shape.Shape) -> list[str]:
    """The columns of ``no_recovery_hint`` the store on ``conn`` lost (shape.unkeepable), judged at the
    version 'store recover' rebuilds it at (its header's, or as far as its tables went)."""
    return shape.unkeepable(conn, min(max(version, shape.reached(found)), len(MIGRATIONS)))


def way_out(conn: sqlite3.Connection, path: Path, version: int, found: shape.Shape) -> str:
    """How a store the daemon refuses as damaged by its tables (``unrepairable``) is mended: 'store
    recover' (``recover_hint``), unless it lost a column no value of which can be told (``no_recovery_hint``)."""
    return _way(path, _gone(conn, version, found))


def _way(path: Path, gone: list[str]) -> str:
    """``way_out``'s words for a store that lost the columns ``gone`` (``_gone``)."""
    return no_recovery_hint(path, gone) if gone else recover_hint(path)


# The first bytes of every SQLite file (its header's "magic string").
SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite(path: Path) -> bool:
    """Whether the file starts as every SQLite file does: one that does not, SQLite (and so 'recover') reads nothing of."""
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def set_aside(path: Path) -> str:
    """The shell line that moves a store file 'recover' cannot read out of the daemon's way, with its
    absolute path (as ``store_command``). Its WAL moves with it: left beside a new store's empty file,
    SQLite deletes it at the open."""
    q = shlex.quote(os.path.abspath(path))
    wal = f" && mv {q}-wal {q}.unreadable-wal" if Path(f"{path}-wal").exists() else ""
    return f"mv {q} {q}.unreadable{wal}"


def start_again(path: Path) -> str:
    """The way on from a store file 'recover' cannot read at all: a new store, the file moved aside
    ('store check', 'store recover', and the daemon's error of a file that is not SQLite, ``_said``)."""
    return (f"To start again without it: with the daemon stopped, move it aside ({set_aside(path)}) and start "
            "the daemon: it makes a new store, and each band sends again the events its flash still holds at its next connection")


# The ways out of a store the daemon cannot open that its fault's own text does not give (``Fix``),
# each a text of the push and the page (alerts/messages.py 'fault.<kind>.<way>.text', 'page.fault.<kind>.<way>').
COPY = "copy"  # a column no value of which can be told is gone (``no_recovery_hint``): a copy put back, or 'store new'
BACKUP = "backup"  # as COPY, with the daemon's backups beside the store: the latest put back ('store restore --from latest')
RENAME = "rename"  # a step adds a column someone added by hand (``_check_added``): that column renamed
UNREADABLE = "unreadable"  # not an SQLite file at all ('recover' refuses it): moved aside, a new store made (``start_again``)


class Fix(NamedTuple):
    """The way out of a store, for the family's push and page, where its fault's own text would name
    one that does not work: 'store recover' for a store it refuses, a full disk for a step refused.
    Until the review of 2026-12-06 only the log and 'spasmwatch status' said these."""

    way: str  # COPY, BACKUP or RENAME
    command: str  # the command that text names, as the family types it (with the store's absolute path)


class StoreError(SpasmwatchError):
    """The store file cannot be used: names the file and what is wrong with it. ``damaged``: the
    file itself is (SQLite cannot read it as a database, or its pages are damaged): the way out is
    'spasmwatch store recover' (recover_hint), not free space or a drive plugged back in. ``fix``:
    the way out is another, which the message says (``Fix``)."""

    def __init__(self, message: str, damaged: bool = False, fix: Fix | None = None) -> None:
        super().__init__(message)
        self.damaged = damaged
        self.fix = fix

    @property
    def recoverable(self) -> bool:
        """Whether 'store recover' is the way out of a damaged one (its message may not say it)."""
        return self.damaged and self.fix is None


def _refused_damaged(conn: sqlite3.Connection, path: Path, version: int, found: shape.Shape, refused: str, done: str) -> StoreError:
    """The StoreError of a store refused as damaged by its tables (``refused``: ``unrepairable``'s
    words; ``done``: what the open did not do), with its way out (``way_out``) and its ``Fix`` when
    that is not 'store recover'."""
    gone = _gone(conn, version, found)
    way = _way(path, gone)
    fix = _lost_fix(path) if gone else None
    return StoreError(f"{refused}; {done} {way}", damaged=True, fix=fix)


def _lost_fix(path: Path) -> Fix:
    """The ``Fix`` of a store that lost a column no value of which can be told: its latest backup put
    back when the daemon made any (BACKUP), else a copy or a new store (COPY, 'store new')."""
    if restore_hint(path) is not None:
        return Fix(BACKUP, store_command("restore", path, "--from latest"))
    return Fix(COPY, store_command("new", path))


class StoreNewer(StoreError):
    """A store of a newer schema whose marker forbids this version what it asked (``_check_newer``):
    a running daemon that meets one at a write shuts it, as a store it could not open."""


def make_folder(path: Path) -> None:
    """The folder of the store file ``path``, created as needed (0700: private.py); StoreError
    naming it if it cannot be."""
    try:
        private.make_dir(path.parent)
    except OSError as e:
        raise StoreError(f"{path}: cannot create its folder: {e.strerror}") from e


class Opened(NamedTuple):
    conn: sqlite3.Connection
    found: int  # the file's schema version as it was opened, before its migration (0: made by this open)
    unread: bool = False  # the pages of READ_AFTER_START were not read (``connect``'s ``later``)
    not_kept: str | None = None  # why no copy was kept before its migration (``_keep_before_upgrade``; None: kept, or none was due)


class Migrated(NamedTuple):
    found: int  # as ``Opened.found``
    not_kept: str | None = None  # as ``Opened.not_kept``


def connect(
    path: Path,
    readonly: bool,
    thorough: bool = False,
    makes: bool = True,
    writes: tuple[str, ...] = (),
    later: bool = False,
    progress: Progress | None = None,
) -> Opened:
    """Open ``path`` (read-write: create and migrate; read-only: must be current). ``thorough``: a
    read-write open checks the file with the full integrity_check (``_check_sound``). ``makes``
    False: a read-write open of a store that must be there (known.py ``Checked.makes``) makes no
    folder and no file: one gone since it was checked (its disk unmounted) is a StoreError, not
    a new, empty store. ``writes``: the only tables the caller writes (a row of 'spasmwatch note'):
    a read-write open of a store it writes nothing into itself (``_settled``) checks those alone.
    ``later`` (the daemon's start): such an open checks every table but READ_AFTER_START, which its
    caller reads through after (``Opened.unread``; daemon/backups.py). ``progress``: told the long
    steps of a migration as they advance (CHECKING, COPYING, CHECKING_COPY, MIGRATING); nothing of an
    open that migrates nothing."""
    if readonly and not path.is_file():
        raise StoreError(f"{path}: no spasmwatch store here")
    unread = False
    if not readonly:
        if makes:
            make_folder(path)
        _create(path, makes)
        _check_ours_to_write(path)
        unread = _probe(path, thorough, writes, later, progress)
        _private(path)  # (before the writer's connection makes its -wal: it takes the file's mode)
    # The writer's connection never makes the file (mode=rw): _create made it, 0600, when it may be
    # made. Until 2026-12-06 a plain path, which SQLite creates when the file is gone by then.
    target = reading_uri(path) if readonly else writing_uri(path)
    try:
        conn = sqlite3.connect(
            target, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
        )
    except sqlite3.Error as e:
        raise StoreError(f"{path}: cannot open: {e}{_whose(path)}") from e
    try:
        found, not_kept = _prepare(conn, path, readonly, progress)
        return Opened(conn, found, unread, not_kept)
    except BaseException:
        conn.close()
        raise


def _create(path: Path, makes: bool = True) -> None:
    """The store is the baby's medical record: created 0600 before SQLite opens it (its -wal and
    -shm then take that mode: SQLite gives them the database's). ``makes`` False: never created
    (``connect``)."""
    if not makes:
        return
    try:
        private.create_file(path)
    except OSError as e:
        raise StoreError(f"{path}: cannot create: {e.strerror or e}{_whose(path)}") from e


def _private(path: Path) -> None:
    """A store from before 2026-12-05 (0644) closed to other accounts, its -wal and -shm too
    (private.py), once the read-only ``_probe`` has found it a store: a file refused is left as it
    was, its mode too (CLI input audit of review h51: 'store adopt --db rec.csv' made the CSV 0600,
    then refused it)."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        private.tighten(p, "the store")


def _check_ours_to_write(path: Path) -> None:
    """StoreError for a store whose file, WAL or index this user may read but not write: SQLite
    opens such a file read-only without a word, even asked mode=rw. Found by the CLI input audit:
    a store left root's and readable by all (0644, as made before 2026-12-05) by a 'sudo spasmwatch
    run' once; the daemon said itself up with its store, its status all good, each event's write
    to fail, and 'note' said only 'attempt to write a readonly database'."""
    said = private.not_this_users([path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")])
    if said:
        raise StoreError(f"{path}: cannot open the store for writing: {said}")


def close_unchecked(conn: sqlite3.Connection, path: Path) -> None:
    """Close ``conn`` on the store at ``path`` without a checkpoint: a reader holds the file across
    the close, so the connection is not the last one and SQLite writes nothing of the WAL into the
    file (a damaged store's; as ``_probe``: a read-only connection never checkpoints)."""
    reader: sqlite3.Connection | None = None
    with suppress(sqlite3.Error):  # (nothing readable: nothing a checkpoint could write either)
        reader = sqlite3.connect(reading_uri(path), uri=True, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("PRAGMA user_version").fetchone()  # its read lock, held across the close
    try:
        conn.close()
    finally:
        if reader is not None:
            reader.close()


def reading_uri(path: Path, untouched: bool = False) -> str:
    """The URI readers open ``path`` by: read-only; ``immutable`` too in a folder this user may not
    write with no WAL beside the file. A reader of a WAL store makes its ``-shm`` index beside it
    when no daemon has (found by the fault audit: 'spasmwatch events' on a store in a read-only
    folder, a backup mount or a copy owned by another user, said 'attempt to write a readonly
    database'). Without a WAL the main file holds every commit; no daemon can be writing it
    from here, and one that starts meanwhile writes its WAL, not this file, until a checkpoint.
    ``untouched``: ``immutable`` without a WAL in a writable folder too, where a reader would make
    the ``-shm`` and an empty ``-wal`` and leave them: for a store that may be another family's, on
    their disk (known.py)."""
    uri = _uri(path) + "?mode=ro"
    if (untouched or not os.access(path.parent, os.W_OK)) and not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return uri


def writing_uri(path: Path) -> str:
    """The URI a writer opens ``path`` by: never makes the file (``connect``'s, walsync.py's checkpoint)."""
    return _uri(path) + "?mode=rw"


def _uri(path: Path) -> str:
    """``path`` as a SQLite URI, with no query yet."""
    # (os.path.realpath: pathlib's resolve raises RuntimeError at a link loop, out of the daemon's start)
    return Path(os.path.realpath(path)).as_uri()


def _probe(path: Path, thorough: bool = False, writes: tuple[str, ...] = (), later: bool = False, progress: Progress | None = None) -> bool:
    """StoreError for a file a writer must not open, read through a read-only connection first:
    someone else's or a newer one, a damaged one (``_check_sound``). Found with the daemon that
    tries a store again while it cannot open it: a damaged store with its WAL beside it, refused
    on the read-write connection, had that WAL written into it as the connection closed (SQLite
    checkpoints at the last close) and the WAL deleted, at each start; a read-only connection
    never checkpoints. ``writes``, ``later``, ``progress``: ``connect``'s (told of the read of a store to
    migrate alone); whether READ_AFTER_START was left unread."""
    try:
        conn = sqlite3.connect(reading_uri(path), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as e:
        raise StoreError(f"{path}: cannot open: {e}{_whose(path)}") from e
    try:
        with _said(path):
            version = _check_identity(conn, path, writes=True)
            partly = (writes or later) and not thorough and _settled(conn, version)
            tables = (writes or _tables_but(conn, READ_AFTER_START)) if partly else ()
            told = progress if 0 < version < SCHEMA_VERSION else None  # (a store to migrate: the open goes on long)
            with reading(told, CHECKING, needed_bytes(path) if told else 0):
                _check_sound(conn, path, thorough, tables)
    finally:
        conn.close()
    return bool(partly and later and not writes)


def _tables_but(conn: sqlite3.Connection, unread: tuple[str, ...]) -> tuple[str, ...]:
    """Every table of the store on ``conn`` (those added by hand too) but ``unread``."""
    names = (str(r[0]) for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'"))
    return tuple(n for n in names if n.lower() not in unread)


def _prepare(conn: sqlite3.Connection, path: Path, readonly: bool, progress: Progress | None = None) -> Migrated:
    """The schema version found (``Opened.found``), and why no copy was kept before the migration."""
    with _said(path):
        version = _check_identity(conn, path, writes=not readonly)
        if readonly:
            _pragmas(conn, wal=False)
            _require_current(conn, path, version)
            return Migrated(version)
        _pragmas(conn, wal=True)  # (sound: _probe read it through)
        return migrate(conn, path, progress)


@contextmanager
def _said(path: Path) -> Iterator[None]:
    """SQLite's errors opening ``path`` as StoreErrors naming it."""
    try:
        yield
    except sqlite3.OperationalError as e:  # locked, read-only folder, disk full, another account's file
        raise StoreError(f"{path}: cannot open the store: {e}{_whose(path)}") from e
    except sqlite3.DatabaseError as e:
        # "file is not a database", "database disk image is malformed": never touched.
        if not is_sqlite(path) and (other := other_file_said(path)) is not None:
            raise StoreError(f"{path}: {other}", damaged=True, fix=Fix(UNREADABLE, in_quotes(set_aside(path)))) from e
        if not is_sqlite(path):  # 'recover' refuses it: the way on is its own (hostile-input review)
            raise StoreError(f"{path}: not a usable spasmwatch store ({e}): not an SQLite file, so spasmwatch cannot recover it; "
                             f"the file was left untouched. {start_again(path)}", damaged=True, fix=Fix(UNREADABLE, in_quotes(set_aside(path)))) from e
        raise StoreError(f"{path}: not a usable spasmwatch store ({e}); the file was left untouched{damage_hint(e, path)}", damaged=True) from e


# Kinds of file a slip of --db names, by their first bytes (``other_file_said``); text is told apart by ``_is_text``.
_OTHER_FILES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or an .xlsx, .docx or .odt)"),
)
# How much of a file's start tells its kind.
_HEAD_BYTES = 4096


def other_file_said(path: Path) -> str | None:
    """For a file that is no SQLite file given as the store: what it is and the way on; None for one
    not told apart from a store damaged at its start (random bytes, zeros: ``start_again``'s way). A
    compressed backup (``compressed_said``); a text (a CSV, notes), an image, a document or a raw
    recording: a slip of --db, said as the wrong file. Until the CLI input audit of review h51 a CSV,
    a text or a PNG was told to be moved aside and a new store started, as a damaged store is."""
    packed = compressed_said(path)
    if packed is not None:
        return packed
    what = _kind(path)
    if what is None:
        return None
    return (f"not a spasmwatch store: {what}, not an SQLite database; the file was left untouched. Most likely --db names "
            "the wrong file: the daemon's store is spasmwatch.db in its data folder, the one read when --db is left out")  # fmt: skip


def _kind(path: Path) -> str | None:
    """What the file at ``path`` plainly is (``_OTHER_FILES``, a raw recording, a text), or None."""
    from spasmwatch.io.rawfile import MAGIC as RAW_MAGIC  # (the error's path alone: rawfile loads numpy)

    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES)
    except OSError:
        return None
    for magic, what in (*_OTHER_FILES, (RAW_MAGIC, "a band's raw recording (.swraw)")):
        if head.startswith(magic):
            return what
    return "a text file" if _is_text(head) else None


def _is_text(head: bytes) -> bool:
    """Whether ``head`` reads as text: UTF-8 without a NUL (a store's damaged first page is neither)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)  # (not final: a character cut at the end is no error)
    except UnicodeDecodeError:
        return False
    return bool(head.strip()) and b"\0" not in head


def compressed_said(path: Path) -> str | None:
    """For a gzip-compressed file given as the store (an older daily backup, as the daemon keeps them:
    'events --db X.db.gz'), what it is and how to read it or put it back, not 'move it aside ... it
    makes a new store' (found by the CLI input audit); None for another file."""
    from spasmwatch.store import backup  # (it reads the store through this module)

    try:
        if not backup.is_compressed(path):
            return None
    except OSError:
        return None
    q = shlex.quote(str(path))
    return (f"a compressed copy of a store (gzip: the daemon keeps its older daily backups so), not a store to open; the file "
            f"was left untouched. 'gunzip -k {q}' writes the store in it beside it, to read with --db; "
            f"'spasmwatch store restore --from {q}' puts it back as the daemon's store (the daemon stopped)")  # fmt: skip


def _whose(path: Path) -> str:
    """'; <file> belongs to root ...' for a store, WAL or index this user may not read and write
    (``private.not_this_users``), or its folder (where none is yet: a data folder of root's), else ""."""
    said = private.not_this_users([path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"), path.parent])
    return f"; {said}" if said else ""


def damage_hint(e: sqlite3.Error, store: Path) -> str:
    """The way out of a damaged ``store``, for an error that says the file is damaged."""
    return f"; {recover_hint(store)}" if "malformed" in str(e) else ""  # (not a database: maybe not a store at all)


def is_damage(e: sqlite3.Error) -> bool:
    """Whether SQLite's ``e`` says the file itself is damaged (not full, locked or gone): a page
    ("malformed"), or its first page, its header ("file is not a database" at a call: the file
    was opened sound; found by review, a bad sector there was taken for a full disk)."""
    return "malformed" in str(e) or "file is not a database" in str(e)


def _check_sound(
    conn: sqlite3.Connection, path: Path, thorough: bool = False, tables: tuple[str, ...] = (), done: str = "nothing was written to it"
) -> None:
    """StoreError for a store whose pages are damaged, before anything is written to it.

    Found by the fault audit: a page overwritten in the middle of the file (a bad sector) was
    opened and written to by the daemon without a word; reads failed later ('database disk image
    is malformed') in exports and reports, and each write could spread the damage. quick_check
    reads every page once (measured: 0.2 s for a 100 MB store, about 4 months of one band's
    epochs) without the slower cross-check of every index.

    ``thorough``: with that cross-check too (integrity_check), for a file a call found damaged
    (``Store.shut``): found by review, a table page whose last write was lost leaves index entries
    for rows it no longer holds; quick_check finds each b-tree sound, a read of those rows says
    "database disk image is malformed", and the daemon's try again opened it every STORE_RETRY_S.

    ``tables`` (not ``thorough``): quick_check of those tables and their indexes and of the schema
    alone (quick_check(TABLE): no freelist, no page of another table), for an open that writes
    nothing but a row of them ('spasmwatch note', 'treatment add': ``connect``'s ``writes``).
    Measured (bench/store_open.py, a year's store, 350 MB): their open took 2.7-3.5 s as the daemon's
    does (more on an SD card, its pages not in memory), 3.5-10 ms so. The daemon's open reads every
    page still, and refuses a store damaged elsewhere (docs/store.md "A note's open reads its own table").
    ``done``: what was done with the store, as its error says it (the daily copy's: store/backup.py)."""
    checks = [f"quick_check({_quoted(t)})" for t in ("sqlite_schema", *tables)] if tables and not thorough else [
        f"{'integrity_check' if thorough else 'quick_check'}(3)"]  # fmt: skip
    try:
        found = [str(r[0]) for check in checks for r in conn.execute(f"PRAGMA {check}")]
    except sqlite3.DatabaseError as e:  # a damaged page it cannot step over: said as an error
        found = [str(e)]
    found = [f for f in found if f != "ok"][:3] or ["ok"]  # (each partial check says "ok" of its own)
    if found != ["ok"]:
        raise StoreError(f"{path}: the store is damaged ({'; '.join(found)}); {done}. {recover_hint(path)}", damaged=True)


def _settled(conn: sqlite3.Connection, version: int) -> bool:
    """Whether a read-write open of the store on ``conn`` (header ``version``) writes nothing into it
    itself (``migrate``, ``_settle``): a current store with its version's marker, nothing of it to
    make again (shape.remakeable) and nothing not spasmwatch's to drop (shape.foreign). Its open
    may then check only the tables its caller writes (``_check_sound``); what it would write
    touches other tables, read through first. 21 ms on a year's store (its objects, shape.py)."""
    return (version == SCHEMA_VERSION and _marked_version(conn) == version
            and not shape.remakeable(shape.of(conn)) and not shape.foreign(conn))  # fmt: skip


def _check_identity(conn: sqlite3.Connection, path: Path, writes: bool) -> int:
    """The file's schema version; StoreError for someone else's SQLite file, or a newer one this
    version may not read (``writes``: write) by its marker (``_check_newer``)."""
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise StoreError(f"{path}: a SQLite database of another program (application_id {app_id:#x}), not a spasmwatch store")
    if app_id == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise StoreError(f"{path}: a SQLite database with tables that is not a spasmwatch store; left untouched")
    if version > SCHEMA_VERSION:
        _check_newer(conn, path, version, writes)
    else:
        check_set_back(conn, path, version)
    return version


class Marker(NamedTuple):
    """A store's marker (schema.MARKER_VERSION): the oldest spasmwatch schema versions that may read
    and write it."""

    readable_by: int
    writable_by: int


def read_marker(conn: sqlite3.Connection, version: int) -> Marker:
    """The marker of the store at ``version`` on ``conn``. A store without one for its version (older
    than the marker; its version moved without it: a step that did not mark, a version set by hand)
    is that version's alone: read and written by it and later ones. So is a marker no migration writes
    (``_written``): found by review, a row of text made every open a ValueError (the daemon's start a
    traceback), and one of a fraction or below MARKER_VERSION let this version write the store."""
    alone = Marker(version, version)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'compat'").fetchone() is None:
        return alone
    row = conn.execute("SELECT readable_by, writable_by FROM compat WHERE one = 1 AND version = ?", (version,)).fetchone()
    return Marker(*row) if row is not None and _written(tuple(row), version) else alone


def _written(row: tuple[object, ...], version: int) -> bool:
    """Whether ``row`` (readable_by, writable_by) is a marker ``mark`` writes for a store at ``version``:
    integers, none below MARKER_VERSION (no older spasmwatch reads a marker), none that lets a version
    write what it may not read (schema.Step: ``writers`` implies ``readers``), none above ``version``."""
    readable, writable = row
    return (type(readable) is int and type(writable) is int  # (SQLite gives a stored integer as int, never bool)
            and MARKER_VERSION <= readable <= writable <= version)  # fmt: skip


def mark(conn: sqlite3.Connection, version: int) -> None:
    """Write the marker of a store at ``version`` (schema.readable_by, writable_by): by the migration
    to it, in its transaction, and by 'store recover' for the store it made. Never lowered by an older
    version: it writes a newer store as it finds it (``migrate``)."""
    if version >= MARKER_VERSION:
        conn.execute(
            "INSERT OR REPLACE INTO compat(one, version, readable_by, writable_by) VALUES (1, ?, ?, ?)",
            (version, readable_by(version), writable_by(version)),
        )


def _check_newer(conn: sqlite3.Connection, path: Path, version: int, writes: bool, meanwhile: bool = False,
                 untouched: str = "the store was left untouched") -> None:
    """StoreNewer for a store of a newer schema (``version``) than this one whose marker says this
    version may not read it, or (``writes``) may not write it: both versions named, and the way out:
    ``meanwhile`` (migrated since this process opened it: ``check_writable``), a newer spasmwatch is
    installed already, and the daemon is to be restarted, not spasmwatch upgraded. ``untouched``
    says what was left as it was (a backup's check: nothing was restored)."""
    marker = read_marker(conn, version)
    newer = f"{path}: store schema version {version}, newer than this spasmwatch's (schema version {SCHEMA_VERSION})"
    restart = ("a newer spasmwatch migrated it while this daemon ran: restart the daemon (its service, or 'spasmwatch run') "
               "to run the newer one on it (nothing more was written)")  # fmt: skip
    if marker.readable_by > SCHEMA_VERSION:
        way = restart if meanwhile else f"upgrade spasmwatch ({untouched})"
        raise StoreNewer(f"{newer}, which cannot read it: a spasmwatch of schema version {marker.readable_by} or later reads it; {way}")
    if writes and marker.writable_by > SCHEMA_VERSION:
        way = restart if meanwhile else f"upgrade spasmwatch to run the daemon on it ({untouched})"
        raise StoreNewer(
            f"{newer}, which reads it ('spasmwatch events', 'clusters', 'summary', 'report', 'export') but may not write it: "
            f"a spasmwatch of schema version {marker.writable_by} or later writes it; {way}"
        )


def check_writable(conn: sqlite3.Connection, path: Path) -> None:
    """StoreError when the store on ``conn`` (in a write transaction) is now of a newer schema whose
    marker this version may not write: a newer spasmwatch ('note', 'treatment add' after an upgrade)
    migrated it since this writer opened it (``Store._tx``). One header read (measured 1.5 us), and the
    marker's (18 us) only in a newer store."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        _check_newer(conn, path, version, writes=True, meanwhile=True)


def store_id(conn: sqlite3.Connection) -> str | None:
    """The store's id (schema.STORE_ID_VERSION), read from its table whatever the header says; None
    for a store without one (older than that, an empty file). Until the review of 2026-12-06 it was
    read only when the header said ids: another family's store whose header was lowered below them
    (by hand, a tool) passed the daemon's check (known.py) as a store from before ids, and was
    taken as its store, its id recorded."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_identity'").fetchone() is None:
        return None
    row = conn.execute("SELECT id FROM store_identity").fetchone()
    return None if row is None else str(row[0])


def band_ids(conn: sqlite3.Connection) -> frozenset[str]:
    """The ids of the bands the store has seen (never removed from it): what tells a store from before
    ids that is not the daemon's (known.py ``_foreign``). A few rows: a family has a band or two."""
    return frozenset(str(r[0]) for r in conn.execute("SELECT device_id FROM devices"))


class Identity(NamedTuple):
    version: int  # PRAGMA user_version
    spasmwatch: bool  # marked as a spasmwatch store (PRAGMA application_id)
    id: str | None  # ``store_id``
    bands: frozenset[str]  # ``band_ids``: none in a file that is not a spasmwatch store
    # Refused as damaged by every open (``unrepairable``): judged before anything is taken from its header.
    damaged: bool = False

    @property
    def from_before_ids(self) -> bool:
        """A spasmwatch store made before store ids: its header says so, it holds no id, and its open
        takes it (an empty file has no id either; one with an id is judged by it, its header lowered or
        not). One its open refuses as damaged is not (``damaged``: an id removed by hand and the header
        lowered below ids, its tables past them): found by review, the check before the open took it as
        one by its header and wrote the record's entry without its id (``KnownStores.unpin``) before the
        open refused it."""
        return self.spasmwatch and self.id is None and before_ids(self.version) and not self.damaged

    @property
    def lost_id(self) -> bool:
        """A spasmwatch store from store ids on (by its header) without its id: its table dropped, or its
        row deleted, by hand. Not told from another's: every open refuses it as damaged (``unrepairable``)."""
        return self.spasmwatch and self.id is None and self.version >= STORE_ID_VERSION


def before_ids(version: int) -> bool:
    """A store at schema ``version`` was made before store ids: its read-write open gives it its id."""
    return 0 < version < STORE_ID_VERSION


def read_identity(path: Path) -> Identity:
    """What the file at ``path`` is, read through a read-only connection that makes no file beside
    it while it has no WAL (it may be another family's store). sqlite3.Error when it cannot be read."""
    conn = sqlite3.connect(reading_uri(path, untouched=True), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        spasmwatch = int(conn.execute("PRAGMA application_id").fetchone()[0]) == APPLICATION_ID
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        ours = spasmwatch and version > 0
        damaged = ours and unrepairable(conn, path, version, shape.of(conn)) is not None
        return Identity(version, spasmwatch, store_id(conn), band_ids(conn) if ours else frozenset(), damaged)
    finally:
        conn.close()


def _require_current(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """StoreError for a store a reader does not read: empty, too old (the daemon migrates it), or one
    of those or a current one that the daemon refuses as damaged (``unrepairable``: said as 'store
    check' says it, with its way out). One from READABLE_FROM_VERSION on is read as it is, as before:
    a copy sent to the clinic is read as far as it can be."""
    judged = version < READABLE_FROM_VERSION or version == SCHEMA_VERSION
    refused = unrepairable(conn, path, version, shape.of(conn)) if version > 0 and judged else None
    if refused is not None:
        raise _refused_damaged(conn, path, version, shape.of(conn), refused, "nothing was read.")
    if version == 0:  # no table in it (_check_identity): an empty file was told to 'migrate' (input audit)
        raise StoreError(f"{path}: an empty file, not a spasmwatch store (the daemon makes one: give the store's path)")
    if version < READABLE_FROM_VERSION:  # (a newer one: _check_identity)
        raise StoreError(
            f"{path}: store schema version {version}, this spasmwatch reads version {READABLE_FROM_VERSION} "
            f"to {SCHEMA_VERSION}; start the daemon once to migrate it (restart it if it runs: one started "
            "before the upgrade runs the old code)"
        )  # (until review h47 the words left out the daemon that runs on after an upgrade, not restarted)


def _pragmas(conn: sqlite3.Connection, wal: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    if wal:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"PRAGMA journal_mode=WAL refused (got {mode})")
        # FULL: a commit that returned is on disk (NORMAL may lose the last ones on power loss; the
        # store sets it for its lazy commits alone: Store._synced).
        conn.execute("PRAGMA synchronous = FULL")


def migrate(conn: sqlite3.Connection, path: Path, progress: Progress | None = None) -> Migrated:
    """Apply the missing steps, each in one transaction with its version bump and the marker for the
    version it makes (``mark``); the version found at the first step (the one a process that migrated
    it meanwhile left), and why no copy of it was kept before the first (``_keep_before_upgrade``). A newer store this version may write (its marker) is left at its version.

    The version is re-read inside the write lock, so two processes opening
    an old file at once migrate it once.

    Foreign keys are off while the steps run (SQLite's way to make a table again: with them on,
    dropping the old clusters table deleted its rows first, and the cluster_events naming them by
    ON DELETE CASCADE), and checked before each step's commit (``_steps``).

    ``progress``: ``connect``'s, told of the copy before the first step and of each step (a store that was there).
    """
    conn.execute("PRAGMA foreign_keys = OFF")  # (a no-op inside a transaction: none is open here)
    try:
        return _steps(conn, path, progress)
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _steps(conn: sqlite3.Connection, path: Path, progress: Progress | None) -> Migrated:
    """``migrate``'s steps, foreign keys off."""
    found: int | None = None
    not_kept: str | None = None
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:  # (migrated meanwhile by a newer version: its marker asked again)
                _check_newer(conn, path, version, writes=True)
            elif found is None:  # (each later step is this one's own)
                version = _settle(conn, path, version)
            found = version if found is None else found
            if version >= SCHEMA_VERSION:  # a newer store is written as it is: never migrated down, its marker kept
                conn.execute("COMMIT")
                return Migrated(found, not_kept)
            if version == found and version > 0:  # (this open's first step, of a store that was there)
                not_kept = _keep_before_upgrade(path, version, progress)
            with telling(conn, progress if found > 0 else None, MIGRATING, version - found, SCHEMA_VERSION - found):  # (a new store's: instant)
                _run_step(conn, path, version)
            mark(conn, version + 1)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _keep_before_upgrade(path: Path, version: int, progress: Progress | None = None) -> str | None:
    """The store at ``path`` as it is at schema ``version`` kept beside it before its first step
    (backup.before_upgrade: read through a read-only connection, which sees its last commit, not this
    transaction), said in the log: the daily copies after it are of the migrated store, which the release
    before refuses, so a family that must go back to it had none it could open (upgrade review h47). A
    copy that cannot be made (no room for it) is said, and the store migrated all the same: the monitor's
    record matters more than the way back: why, for the status (None: kept). A store its copy finds
    damaged is refused, nothing written."""
    from spasmwatch.store import backup  # (it reads the store through this module)

    try:
        kept = backup.before_upgrade(path, version, progress)
    except StoreError as e:
        if e.damaged:
            raise
        why = (f"no copy of the store at schema version {version} kept before its upgrade to {SCHEMA_VERSION} ({e}): migrated all "
               "the same (the monitor's record matters more); the release before cannot open it")  # fmt: skip
        log.warning("%s: %s", path, why)
        return why
    log.info("%s: the store as it was at schema version %d kept as %s before its upgrade to %d (the way back to the release before: "
             'docs/host.md "Upgrading")', path, version, kept, SCHEMA_VERSION)  # fmt: skip
    return None


@contextmanager
def telling(conn: sqlite3.Connection, progress: Progress | None, step: str, done: int = 0, total: int = 0) -> Iterator[None]:
    """``progress(step, done, total)`` told once as the block begins, then each PROGRESS_OPS instructions
    SQLite runs on ``conn`` in it (each a sign the step advances); nothing when ``progress`` is None."""
    if progress is None:
        yield
        return
    progress(step, done, total)
    conn.set_progress_handler(lambda: progress(step, done, total), PROGRESS_OPS)  # (None: go on)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


@contextmanager
def reading(progress: Progress | None, step: str, total: int) -> Iterator[None]:
    """``progress(step, done, total)`` told as the block begins (done 0), then each READ_LOOK_S in which
    this process read more, done the bytes it read since (at most ``total``: the bytes the block reads
    once through); nothing when ``progress`` is None, once alone where /proc/self/io is not."""
    if progress is None:
        yield
        return
    progress(step, 0, total)
    first = _read_bytes()
    if first is None:
        yield
        return
    over = threading.Event()

    def look() -> None:
        start, own = first  # (each look's own read of /proc/self/io counts in the next: taken off)
        seen = 0
        while not over.wait(READ_LOOK_S):
            if (looked := _read_bytes()) is None:
                continue
            done = looked[0] - start - own
            own += looked[1]
            if done > seen:
                seen = done
                progress(step, min(done, total), total)

    watcher = threading.Thread(target=look, name="store-open-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        over.set()
        watcher.join()


def _read_bytes() -> tuple[int, int] | None:
    """The bytes this process had read before this call (/proc/self/io rchar: files and sockets, from
    the page cache too), and the bytes this call read; None where it cannot be read (not Linux)."""
    try:
        with open("/proc/self/io", "rb") as f:
            text = f.read()
        return next(int(line.split()[1]) for line in text.splitlines() if line.startswith(b"rchar:")), len(text)
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def needed_bytes(store: Path) -> int:
    """The bytes of ``store`` and its WAL (what a copy of it holds at most, a read of it reads)."""
    return sum(p.stat().st_size for p in (store, Path(f"{store}-wal")) if p.exists())


def _run_step(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """The statements of the step that takes the store on ``conn`` from ``version``, in the migration's
    transaction. A table the step makes again (its DROP TABLE) keeps the columns added to it by hand
    (every open keeps them, shape.read), their values by rowid (the step copies the columns it names,
    with their rowids: clusters' id, v16), added again after it; the rows that name its rows are checked
    (``_orphans``): StoreError, rolled back, when the step left one naming a row it did not keep."""
    script = list(statements(MIGRATIONS[version]))
    remade = {m.group(1).lower() for stmt in script if (m := _DROP_TABLE.match(stmt))}
    orphans = _orphans(conn, remade)
    kept = {t: added for t in sorted(remade) if (added := shape.added_columns(conn, t))}
    for table, added in kept.items():
        names = ", ".join(_quoted(n) for n, _ in added)
        conn.execute(f"CREATE TEMP TABLE {_quoted('kept_' + table)} AS SELECT rowid AS kept_rowid, {names} FROM {_quoted(table)}")
    for stmt in script:
        _check_added(conn, path, version, stmt)
        conn.execute(stmt)
    for table, added in kept.items():
        names = ", ".join(_quoted(n) for n, _ in added)
        for _, definition in added:
            conn.execute(f"ALTER TABLE {_quoted(table)} ADD COLUMN {definition}")
        where = f"kept_rowid = {_quoted(table)}.rowid"
        conn.execute(f"UPDATE {_quoted(table)} SET ({names}) = (SELECT {names} FROM temp.{_quoted('kept_' + table)} WHERE {where})")
        conn.execute(f"DROP TABLE temp.{_quoted('kept_' + table)}")
    if _orphans(conn, remade) > orphans:
        raise StoreError(f"{path}: schema step {version + 1} left rows naming a row of {', '.join(sorted(remade))} it did not keep")


def _orphans(conn: sqlite3.Connection, parents: set[str]) -> int:
    """How many rows of the store name by a foreign key a row of one of the tables ``parents`` that is
    not there (the tables that refer to them alone are read: the band's events and epochs are not)."""
    if not parents:
        return 0
    tables = [str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    children = [t for t in tables if any(str(k[2]).lower() in parents for k in conn.execute(f"PRAGMA foreign_key_list({_quoted(t)})"))]
    return sum(str(r[2]).lower() in parents for t in children for r in conn.execute(f"PRAGMA foreign_key_check({_quoted(t)})"))


def _check_added(conn: sqlite3.Connection, path: Path, version: int, stmt: str) -> None:
    """StoreError when ``stmt``, of the step that takes the store on ``conn`` from ``version``, adds a
    column its table has already (someone added a column of that name by hand: every open keeps such a
    column, shape.read), before it runs: naming the table, the column and the rename that lets the step
    run, the values kept. Until the review of 2026-12-06 every open failed there with SQLite's bare
    'duplicate column name: mood', naming neither (docs/store.md, "A store's version changed by hand")."""
    added = _ADD_COLUMN.match(stmt)
    if added is None:
        return
    table, column = added.group(1), added.group(2)
    if not any(str(r[1]).lower() == column.lower() for r in conn.execute(f"PRAGMA table_xinfo({table})")):  # (generated ones too)
        return
    # (spasmwatch's own command, not sqlite3's ALTER TABLE: a Raspberry Pi has no sqlite3 tool)
    rename = store_command("rename-column", path, f"{table} {column} {column}_by_hand")
    raise StoreError(
        f"{path}: schema step {version + 1} adds column {column} to table {table}, but the table has a column of that name "
        f"already (added by hand?): the store was left at schema version {version}, nothing of that step written. With the daemon "
        f"stopped, give that column another name ({rename}): its values are kept under it, and the next start migrates the store",
        fix=Fix(RENAME, rename),
    )


def _settle(conn: sqlite3.Connection, path: Path, version: int) -> int:
    """The schema version of the store on ``conn`` (in the migration's transaction) as its tables prove
    it (shape.py), its header's ``version`` when they are that version's and its marker is there.
    Tables of a newer version, or of its own but for the marker's table (a version lowered, the
    marker dropped, by hand): that version, set in the header with its marker, the marker's table
    made again. Tables of no version (or an older one: something dropped) are refused when a step is
    to be taken (``unrepairable``). A current store whose tables changed (a table that held records
    dropped, a column dropped or retyped) is refused alike; one lacking or changed only in what holds
    none has it made again, empty (``_remade``); one with columns added by hand opens as before. Its
    objects are read at every open (shape.shapes(): 16 ms once a process)."""
    check_set_back(conn, path, version)  # (again in the write lock)
    found = shape.of(conn)
    refused = unrepairable(conn, path, version, found)
    if refused is not None:
        raise _refused_damaged(conn, path, version, found, refused, "no step was run and nothing was written.")
    _drop_foreign(conn, path)
    if version == SCHEMA_VERSION:
        found = _remade(conn, path, found)
        if _marked_version(conn) == version:  # (read again: a marker table changed by hand is made again empty)
            return version
    if version < SCHEMA_VERSION and found == shape.shapes()[version]:
        return version  # (its steps follow, each with its marker)
    proven = shape.proven(found, version)
    if proven is None:
        return version  # (a current store whose tables changed: opened as before)
    if proven.marker_gone:
        for stmt in statements(MIGRATIONS[MARKER_VERSION - 1]):
            conn.execute(stmt)
    mark(conn, proven.version)
    conn.execute(f"PRAGMA user_version = {proven.version}")
    log.warning("%s: store schema version %d by its header, %d by its tables%s: its header and marker set to %d", path, version,
                proven.version, " (its marker's table dropped: made again)" if proven.marker_gone else "", proven.version)  # fmt: skip
    return proven.version


def unrepairable(conn: sqlite3.Connection, path: Path, version: int, found: shape.Shape) -> str | None:
    """Why the daemon refuses the store at ``path`` (header ``version``, objects ``found``) as damaged,
    said alike by its open, the read-only commands' and 'store check': tables that prove no version
    from its header's on (shape.unproven), a current store's too: a table that held records dropped
    (shape.lost: events, notes...), a column dropped or retyped, a CHECK edited (until the review of
    2026-12-06 a current one opened as it was, and its writes or reads of that table failed or went
    wrong later, while 'store check' called it broken). Columns added by hand, and what a read-write
    open makes again (an index, a table of no record), are no damage (shape.py). A store whose id's row
    was deleted is (``_id_lost``). None: it opens."""
    if version > SCHEMA_VERSION:
        return None
    if not shape.unproven(found, version):
        return _id_lost(conn, path, version, found)
    lost = shape.lost(found) if version == SCHEMA_VERSION else []
    said = unproven_said(path, version, found)
    return f"{said}: the rows of table {', '.join(lost)} are not in it" if lost else said


def _id_lost(conn: sqlite3.Connection, path: Path, version: int, found: shape.Shape) -> str | None:
    """Why a store whose tables are whole is refused all the same: its id's row was deleted (by hand).
    Found by review: the daemon's check (known.py) refused the family's store as 'a different spasmwatch
    store ... (no id, ...: an empty file?)', naming 'store adopt' (an AssertionError), while 'store check'
    said ok. Its way out is 'store recover' (a new id, recorded as the daemon's)."""
    if not any(o[:2] == ("table", "store_identity") for o in found) or store_id(conn) is not None:
        return None
    return f"{path}: store schema version {version}, but its store id is not in it (table store_identity has no row)"


def _drop_foreign(conn: sqlite3.Connection, path: Path) -> None:
    """The objects not spasmwatch's that can refuse or change its writes (shape.foreign: a trigger, a
    UNIQUE index of another name, added by hand) dropped, in the migration's transaction, each logged
    with its SQL (to make it again on a copy): events must never fail to store, nor be dropped without
    a word, for an object no one sees ('store check' names them too). Not refused instead: the daemon
    would keep no event until someone dropped it by hand."""
    for f in shape.foreign(conn):
        # (its name quoted: one made by hand may need it, "no events"; unquoted, every open failed on it)
        conn.execute(f"DROP {'TRIGGER' if f.what == 'trigger' else 'INDEX'} {_quoted(f.name)}")
        log.warning("%s: %s (not spasmwatch's, it can refuse or change what spasmwatch stores): dropped; its SQL: %s", path, f.said(), f.sql)


def _quoted(name: str) -> str:
    """``name`` as an SQL identifier, whatever it holds (a space, a dash, a keyword, a double quote)."""
    return '"' + name.replace('"', '""') + '"'


def _remade(conn: sqlite3.Connection, path: Path, found: shape.Shape) -> shape.Shape:
    """The current store on ``conn`` with what it lacks that holds no record made again, empty
    (shape.remakeable: a table dropped by hand failed each write to it, as a full disk would; an index
    changed by hand is made as this version makes it), said in the log; its objects now."""
    missing = shape.remakeable(found)
    if not missing:
        return found
    said = shape.remade_said(found)
    shape.remake(conn, missing)
    log.warning("%s: %s: made again, empty (they hold no record: docs/store.md, \"A store's version changed by hand\")", path, said)
    return shape.mended(found)


def unproven_said(path: Path, version: int, found: shape.Shape) -> str:
    """What is wrong with the store at ``path`` whose objects ``found`` are no schema version's from its
    header's ``version`` on (shape.unproven): told against the version its migrations went to."""
    against = shape.reached(found)
    return (f"{path}: store schema version {version} by its header, but its tables are no spasmwatch schema version's "
            f"(against version {against}'s: {shape.differences(found, against)})")  # fmt: skip


def check_set_back(conn: sqlite3.Connection, path: Path, version: int) -> int | None:
    """The version the store's marker was written for (``_marked_version``); StoreNewer when that is
    a newer spasmwatch's and its header (``version``) was set back to this one's or below, by hand:
    its tables may hold what this version does not know (a column added to a table it knows proves
    no version here), so no open reads or writes it and 'store recover' does not rebuild it. Found
    by review: set back to this version it was opened and written; below, refused as damaged, and
    the recover that refusal named dropped the newer columns and tables."""
    marked = _marked_version(conn)
    if marked is not None and marked > SCHEMA_VERSION >= version:
        raise StoreNewer(
            f"{path}: store schema version {version} by its header, but its marker was written by a spasmwatch of schema version "
            f"{marked}, newer than this one ({SCHEMA_VERSION}): the header was set back by hand; nothing was written. Upgrade "
            f"spasmwatch to schema version {marked} or later: its daemon sets the header right by the store's tables"
        )
    return marked


def _marked_version(conn: sqlite3.Connection) -> int | None:
    """The version the store's marker row was written for (None: no marker table, no row, not an integer)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'compat'").fetchone() is None:
        return None
    row = conn.execute("SELECT version FROM compat WHERE one = 1").fetchone()
    return row[0] if row is not None and type(row[0]) is int else None


def made_at_version(conn: sqlite3.Connection, version: int) -> None:
    """Make in ``conn``'s empty database the tables and indexes of schema ``version`` (its first
    migrations), with the store's application id and that version: an empty store as the release of
    that version made it (recover.py's copy of a damaged store; tests' and benches' older stores)."""
    for step in MIGRATIONS[:version]:
        for stmt in statements(step):
            conn.execute(stmt)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {version}")


def statements(script: str) -> Iterator[str]:
    """Split a SQL script into complete statements (``executescript`` would commit)."""
    buf = ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                yield buf.strip()
            buf = ""
    if buf.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement: {buf.strip()!r}")
