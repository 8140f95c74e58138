"""``spasmwatch store check`` / ``store recover`` / ``store new`` / ``store adopt`` / ``store backups``
/ ``store restore`` / ``store rename-column``: is the store sound, a way out when it is damaged, a new
one where one was moved away on purpose, the store found at the path taken as the daemon's (a
different store than the one it opened there), the daemon's daily copies of it listed and one put
back, and a column added by hand renamed (a newer version's step adds one of its name).

A store damaged on disk (a bad sector, a file cut short) is refused by the daemon, which never
writes into it (docs/store.md, "A damaged store"). ``recover`` copies every row that can still
be read into a new store in its place and keeps the damaged file beside it, never deleted.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from spasmwatch.commands._daemon import add_store_args, store_path_of
from spasmwatch.errors import SpasmwatchError
from spasmwatch.daemon.rawkeep import size_text
from spasmwatch.store import SCHEMA_VERSION, KnownStores, Store, backup, shape
from spasmwatch.store._db import (
    check_set_back, is_sqlite, other_file_said, read_marker, reading_uri, recover_hint, restore_hint, start_again, store_command, unrepairable, way_out,
)
from spasmwatch.store.carry import Carried
from spasmwatch.store.pagescan import Scanned
from spasmwatch.store.schema import NOT_KNOWN
from spasmwatch.store.recover import Recovered, recover


def register(sub: Any) -> None:
    p = sub.add_parser("store", help="check the store file, recover a damaged one, make a new one, adopt the one found, or restore a backup",
                       description=__doc__)  # fmt: skip
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    _action(acts, "check", run_check, "read every page of the store: 'ok', or what is damaged (exit 1)",
            "Read every page and index of the store (it is not changed): 'ok', or what is damaged "
            "(or that its tables are no schema version's), exit 1.")  # fmt: skip
    _action(acts, "recover", run_recover, "copy what can be read of a damaged store into a new one; the damaged file is kept",
            "Copy every row that can still be read of a damaged store (or one whose tables are no "
            "schema version's: a table dropped by hand) into a new store in its place; "
            "the damaged file is kept beside it (spasmwatch.db.damaged-DATE-TIME), never deleted. Refused while "
            "a daemon runs on the store; a sound store is left as it is. Exit 1 when rows were read but not kept (they "
            "break a constraint of this version's tables): named, and kept in the old file. docs/store.md, 'A damaged store'.")  # fmt: skip
    _action(acts, "new", run_new, "make a new, empty store where one was moved away on purpose")
    _action(acts, "adopt", run_adopt, "take the store found at the store's path as the daemon's (a different store than the one it opened there)")
    _action(acts, "backups", run_backups, "list the daemon's daily copies of the store")
    back = _action(acts, "restore", run_restore, "put a backup of the store in its place (the daemon stopped); the file there is kept")
    back.add_argument("--from", dest="source", required=True, metavar="BACKUP",
                      help="'latest', a name 'store backups' lists, or the path of a copy")  # fmt: skip
    ren = _action(acts, "rename-column", run_rename_column, "rename a column added by hand to a table of the store (the daemon stopped)")
    ren.add_argument("table", metavar="TABLE", help="the table it was added to (notes, events, ...)")
    ren.add_argument("column", metavar="COLUMN", help="the column added by hand")
    ren.add_argument("new_name", metavar="NEW_NAME", help="its new name (COLUMN_by_hand, as the message that names this command says)")


def _action(acts: Any, name: str, func: Callable[[argparse.Namespace], int], help: str, description: str | None = None) -> Any:
    """The ``store NAME`` subcommand: the store's arguments, run by ``func``; its description
    ``func``'s docstring unless given."""
    p = acts.add_parser(name, help=help, description=description or func.__doc__)
    add_store_args(p)
    p.set_defaults(func=func)
    return p


def _damage(path: Path) -> list[str]:
    """What SQLite's integrity_check finds wrong (read-only): ``["ok"]`` for a sound file."""
    try:
        conn = sqlite3.connect(reading_uri(path), uri=True)
        try:
            return [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return [str(e)]


def _unproven(path: Path) -> str | None:
    """Why the daemon refuses a store as damaged by its tables (a table dropped or changed by hand:
    store/shape.py; its id's row deleted), said as it says it (``unrepairable``), and 'recover' copies
    it into a whole one; None: they are one's, or one's but for what a read-write open makes again or
    columns added by hand. StoreNewer for a newer spasmwatch's store whose header was set back
    (``check_set_back``): not this version's to judge or rebuild."""
    return _objects(path).refused


class _Objects(NamedTuple):
    version: int  # its header's
    found: shape.Shape  # its objects
    added: list[str]  # the columns added to them by hand (shape.read)
    refused: str | None  # why the daemon refuses it (``unrepairable``)
    foreign: list[shape.Foreign]  # what the daemon's open drops (shape.foreign)


def _objects(path: Path) -> _Objects:
    """What the store's tables say of it, read-only."""
    conn = sqlite3.connect(reading_uri(path), uri=True)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        check_set_back(conn, path, version)
        found, added = shape.read(conn)
        return _Objects(version, found, added, unrepairable(conn, path, version, found), shape.foreign(conn))
    finally:
        conn.close()


def _way_out(path: Path) -> str:
    """How the store the daemon refuses by its tables is mended (``way_out``), read-only."""
    conn = sqlite3.connect(reading_uri(path), uri=True)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        return way_out(conn, path, version, shape.of(conn))
    finally:
        conn.close()


def _remade_said(path: Path) -> str:
    """' (table summaries missing from the store: ...)' for a current store lacking, or with other SQL
    in, only what the daemon makes again (shape.remakeable), the objects not spasmwatch's its open
    drops (shape.foreign), and the columns added by hand, which it leaves as they are; for a newer
    store, that it is (``_newer_said``: its own objects are not this version's to judge); "" otherwise."""
    version, found, added, _, foreign = _objects(path)
    if version > SCHEMA_VERSION:
        return f" ({_newer_said(path, version)})"
    remade = shape.remade_said(found) if version == SCHEMA_VERSION else ""
    said = [f"{remade}: they hold no record, and the daemon makes them again, empty, at its next start"] if remade else []
    said += [f"{f.said()}: not spasmwatch's, and it can refuse or change what spasmwatch stores: the daemon drops it at its "
             f"next start (its SQL in its log)" for f in foreign]  # fmt: skip
    if added:
        said.append(f"{', '.join(added)} added by hand: not spasmwatch's, read and written by no spasmwatch, kept as they are")
    return f" ({'; '.join(said)})" if said else ""


def _newer_said(path: Path, version: int) -> str:
    """What 'store check' says of a sound store of a newer schema ``version`` than this one's: a newer
    spasmwatch's, whose tables and columns this version does not know are that version's (until the
    review of 2026-12-06 its columns were listed as 'added by hand'), and what its marker lets this
    version do (_db.read_marker)."""
    conn = sqlite3.connect(reading_uri(path), uri=True)
    try:
        marker = read_marker(conn, version)
    finally:
        conn.close()
    if marker.readable_by > SCHEMA_VERSION:
        may = f"this spasmwatch may not read it: a spasmwatch of schema version {marker.readable_by} or later does"
    elif marker.writable_by > SCHEMA_VERSION:
        may = f"this spasmwatch reads it but may not write it: a spasmwatch of schema version {marker.writable_by} or later does"
    else:
        may = "this spasmwatch reads and writes it as it is"
    return (f"store schema version {version}, a newer spasmwatch's than this one (schema version {SCHEMA_VERSION}): its tables "
            f"and columns this version does not know are that version's, kept as they are; {may}")  # fmt: skip


def _empty(path: Path) -> str | None:
    """What a file of 0 bytes at ``path`` is (a store cut short: a copy onto a full disk), with its
    latest backup's way back; None for another. SQLite reads it as an empty database, so 'check' said
    it 'ok' and 'recover' 'nothing to recover' (CLI input audit); the daemon's store never has 0 bytes."""
    if path.stat().st_size:
        return None
    way = restore_hint(path)
    return (f"{path}: an empty file (0 bytes), not a spasmwatch store (the daemon's never has 0 bytes: it writes its tables as it opens it)"
            + (f". {way}" if way else ""))  # fmt: skip


def _other_file(path: Path) -> str | None:
    """What a file that is plainly no store is (a compressed backup, how to read it; a CSV, a PNG:
    --db names the wrong file), not 'damaged' (CLI input audits)."""
    other = None if is_sqlite(path) else other_file_said(path)
    return None if other is None else f"{path}: {other}"


def run_check(args: argparse.Namespace) -> int:
    path = _existing(store_path_of(args))
    if (said := _empty(path) or _other_file(path)) is not None:
        print(said)
        return 1
    found = _damage(path)
    unproven = _unproven(path) if found == ["ok"] else None
    if unproven is not None:
        print(unproven)
        print(_way_out(path))
        return 1
    if found == ["ok"]:
        print(f"{path}: ok{_remade_said(path)}")
        return 0
    print(f"{path}: damaged:")
    for line in found:
        print(f"  {line}")
    # Not SQLite at all: 'recover' refuses it, so the way on is its own (hostile-input review: check
    # said to run recover, which then said it cannot).
    print(recover_hint(path) if is_sqlite(path) else f"spasmwatch cannot recover it (not an SQLite file). {start_again(path)}")
    return 1


def run_recover(args: argparse.Namespace) -> int:
    from spasmwatch.commands.service import in_use
    from spasmwatch.daemon.lock import StoreInUse, one_daemon

    path = _existing(store_path_of(args))
    if (empty := _empty(path)) is not None:  # no row to copy
        print(empty)
        return 1
    if (other := _other_file(path)) is not None:  # refused before its lock is made beside it
        raise SpasmwatchError(other)
    if _damage(path) == ["ok"] and _unproven(path) is None:  # a sound store stays as it is (nothing to set aside as damaged)
        print(f"{path}: ok, not damaged: nothing to recover")
        return 0
    refused = False
    try:
        with one_daemon(path):  # no daemon may write while the file is swapped
            result = recover(path, time.strftime("%Y%m%d-%H%M%S"))
            print(_told(path, result))  # (before the record: one that cannot be written is said after it)
            refused = bool(result.refused or result.columns_left)
            if result.id_remade:
                # The daemon took the damaged file as its store (an id it cannot read refuses nothing:
                # known._different) and said to recover it: the new id is its store's, not another's.
                _adopted(path)
                print(f"{path}: recorded as the daemon's store with its new id")
    except StoreInUse as e:
        raise SpasmwatchError(in_use(e)) from None
    return 1 if refused else 0  # (rows or columns read but not kept: a script must not take the recovery as whole)


def run_rename_column(args: argparse.Namespace) -> int:
    """Rename a column someone added by hand to one of the store's tables, its values kept under the new
    name: the way on when a step of a newer spasmwatch adds a column of its name (the store is refused
    until then; docs/store.md, "A store's version changed by hand"), on a computer without the sqlite3
    tool (a Raspberry Pi's). One ALTER TABLE, in one transaction: all of it or nothing; SQLite rewrites
    the views and triggers added by hand that name the column (said). Refused, nothing changed, while a
    daemon runs on the store, for a damaged store, for spasmwatch's own columns (its reads and writes
    name them), for a new name the table has or a step of this version gives it, and for a view or
    trigger SQLite cannot rewrite (one that does not read, or would not with the new name: named)."""
    from spasmwatch.commands.service import in_use
    from spasmwatch.daemon.lock import StoreInUse, one_daemon

    path = _existing(store_path_of(args))
    try:
        with one_daemon(path):  # no daemon may open the store meanwhile
            found = _damage(path)
            if found != ["ok"]:
                raise SpasmwatchError(f"{path}: the store is damaged ({found[0]}): nothing was changed. {recover_hint(path)}")
            table, column, rewritten = _renamed(path, args.table, args.column, args.new_name)
    except StoreInUse as e:
        raise SpasmwatchError(in_use(e)) from None
    print(f"{path}: column {column} of table {table} renamed {args.new_name}, its values kept")
    if rewritten:  # (a view's column takes the new name too: a query of it by the old one no longer reads)
        print(f"  {' and '.join(rewritten)}, added by hand, named it: rewritten by SQLite to name {args.new_name}")
    return 0


def _renamed(path: Path, table: str, column: str, new: str) -> tuple[str, str, list[str]]:
    """``column`` of ``table`` (names case-blind, as SQLite's) renamed ``new`` in the store at ``path``;
    the table's and the column's names as the store writes them, and the views and triggers SQLite
    rewrote with it ('view NAME'). SpasmwatchError, nothing changed, for what ``run_rename_column``
    refuses."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise SpasmwatchError(f"{path}: a newer spasmwatch's store (schema version {version}): its columns are not known to this "
                                  "version; nothing was changed")  # fmt: skip
        version = max(version, shape.reached(shape.of(conn)))  # (a header set back by hand: as far as its tables went)
        ours = sorted(t for t in _store_tables(conn) if shape.columns_of(t, SCHEMA_VERSION))
        name = shape.folded(table)
        if name not in ours:
            raise SpasmwatchError(f"{path}: no table {table} in the store (spasmwatch's tables: {', '.join(ours)}); nothing was changed")
        have = [str(r[1]) for r in conn.execute(f"PRAGMA table_xinfo({name})")]
        found = [c for c in have if shape.folded(c) == shape.folded(column)]
        refused = _rename_refused(name, column, new, have, version)
        if refused is None and not found:
            refused = f"table {name} has no column {column} (its columns: {', '.join(have)})"
        if refused is not None:
            raise SpasmwatchError(f"{path}: {refused}; nothing was changed")
        before = _views_and_triggers(conn)
        try:
            conn.execute(f"ALTER TABLE {name} RENAME COLUMN {_quoted(found[0])} TO {_quoted(new)}")
        except sqlite3.Error as e:
            raise SpasmwatchError(f"{path}: {_rename_error(e, found[0], new)}; nothing was changed") from e
        return name, found[0], [named for named, sql in _views_and_triggers(conn).items() if sql != before.get(named)]
    finally:
        conn.close()


def _views_and_triggers(conn: sqlite3.Connection) -> dict[str, str]:
    """The store's views and triggers (spasmwatch makes none: added by hand), 'view NAME': their SQL."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')")
    return {f"{t} {n}": str(sql) for t, n, sql in rows}


# SQLite's words when a view or trigger stops ALTER TABLE RENAME COLUMN (alter.c renameColumnParseError,
# SQLite 3.25 on; it checks each one of the store's): 'error in view NAME: WHY', it does not read as it
# is (it names what the store has not), or 'error in view NAME after rename: WHY', it would not with the
# new name.
_STOPPED_BY = re.compile(r"error in (view|trigger) (.+?)( after rename)?: (.*)", re.DOTALL)


def _rename_error(e: sqlite3.Error, column: str, new: str) -> str:
    """Why SQLite refused to rename ``column`` ``new`` (``e``), and the way on."""
    stopped = _STOPPED_BY.fullmatch(str(e))
    if stopped is None:
        return f"SQLite refused the rename ({e})"
    kind, name, after, why = stopped.groups()
    if after:
        return f"{kind} {name}, added by hand, names column {column} and would not read with it renamed {new} ({why}): choose another name"
    return (f"{kind} {name}, added by hand, does not read as it is ({why}), and SQLite renames no column while it does not: "
            "mend or drop it first")  # fmt: skip


def _store_tables(conn: sqlite3.Connection) -> list[str]:
    """The store's tables, their names folded (shape.folded: as spasmwatch's steps write them)."""
    return [shape.folded(str(r[0])) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def _rename_refused(table: str, column: str, new: str, have: list[str], version: int) -> str | None:
    """Why ``column`` of spasmwatch's ``table`` (columns ``have``) at schema ``version`` may not be
    renamed ``new``; None: it may (a column of ``have`` by that name, case-blind, given)."""
    if shape.folded(column) in map(shape.folded, shape.columns_of(table, version)):
        return f"column {column} of table {table} is spasmwatch's own (its reads and writes name it): not renamed"
    if not new.strip():
        return "the new name is empty"
    if shape.folded(new) in map(shape.folded, have):
        return f"table {table} has a column {new} already: choose another name"
    if shape.folded(new) in map(shape.folded, shape.columns_of(table, SCHEMA_VERSION)):
        return f"a step of this spasmwatch adds a column {new} to table {table}: choose another name"
    return None


def _quoted(name: str) -> str:
    """A column's name as SQL quotes it (a name added by hand may hold a space or a quote)."""
    return '"' + name.replace('"', '""') + '"'


def run_new(args: argparse.Namespace) -> int:
    """Make a new, empty store where the config says, for a store moved away (or deleted) on purpose:
    the daemon makes none where it opened one before, as its disk may not be mounted yet
    (docs/store.md, 'A store on a disk not mounted yet'); a daemon running opens this one at its
    next try. Refused where a file is, or where the store's folder is not (mount its disk, or make
    the folder)."""
    path = store_path_of(args)
    if path.exists():
        raise SpasmwatchError(f"{path}: a file is there already: nothing was made ({store_command('adopt', path)} takes a store found there "
                              "as the daemon's)")  # fmt: skip
    if not path.parent.is_dir():
        raise SpasmwatchError(f"{path.parent}: no such folder (is its disk mounted?): nothing was made; make the folder first "
                              "if the store is to be there")  # fmt: skip
    _adopted(path, makes=True)
    print(f"{path}: a new, empty store")
    return 0


def run_adopt(args: argparse.Namespace) -> int:
    """Take the spasmwatch store at the config's store path as the daemon's from now on: the daemon
    refuses a different store than the one it opened there (another disk mounted at that path, a
    card set up again: docs/store.md, 'A different store at the store's path'); a daemon running
    opens this one at its next try. A store from before store ids gets its id (it is migrated).
    Refused where no store is."""
    path = _existing(store_path_of(args))
    store_id = _adopted(path)
    print(f"{path}: adopted (store id {store_id}): the daemon opens it as its store")
    return 0


def run_backups(args: argparse.Namespace) -> int:
    """List the copies of the store the daemon makes each day beside it (<store>.backups/, [daemon]
    backup_keep_days; docs/store.md 'Backups'), oldest first: when each was made, its size (gzip: an
    older one, compressed) and the latest event in it. 'spasmwatch store restore --from NAME' puts one back."""
    path = store_path_of(args)
    _before_upgrades_told(path)
    have = backup.listed(path)
    if not have:
        print(f"no backups of {path} (in {backup.folder(path)}): the daemon makes one a day while it runs ([daemon] backup_keep_days)")
        return 0
    print(f"backups of {path} (in {backup.folder(path)}), oldest first:")
    for b in have:
        print(f"  {b.name}  made {_local(b.made_s)}  {size_text(b.size)}{' (gzip)' if b.compressed else ''}  {_backup_latest_said(b)}")
    print(f"to put one back (the daemon stopped): {store_command('restore', path, '--from NAME')}")
    return 0


def _before_upgrades_told(path: Path) -> None:
    """The copies of the store kept before an upgrade migrated it (docs/host.md "Going back to the release
    before"), each with when it was made and its latest event: the release before puts one back."""
    for p in backup.before_upgrades(path):
        print(f"kept before an upgrade (the release before puts it back: docs/host.md 'Going back to the release before'): "
              f"{p}  made {_local(p.stat().st_mtime)}  {size_text(p.stat().st_size)}  {_latest_event_said(p)}")  # fmt: skip


def _local(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(t))


def _backup_latest_said(b: backup.Backup) -> str:
    """``_latest_event_said`` of a copy; a compressed one's from its name (read, it is decompressed whole)."""
    if not b.compressed:
        return _latest_event_said(b.path)
    return "no event" if b.latest_event_s is None else f"latest event {_local(b.latest_event_s)}"


def _latest_event_said(path: Path) -> str:
    """'latest event 2026-12-05 03:12' of the copy at ``path`` (read-only, nothing made beside it)."""
    try:
        conn = sqlite3.connect(reading_uri(path, untouched=True), uri=True)
        try:
            t = conn.execute("SELECT max(wall_t) FROM events").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as e:
        return f"(cannot be read: {e})"
    return "no event" if t is None else f"latest event {_local(float(t))}"


def run_restore(args: argparse.Namespace) -> int:
    """Put a backup of the store (one 'spasmwatch store backups' lists, 'latest', or a copy's path) in
    the store's place, checked first (PRAGMA quick_check), and take it as the daemon's store. Refused
    while a daemon runs on the store. The file that was there is kept beside it
    (spasmwatch.db.replaced-DATE-TIME), never deleted; the notes, treatments, labels, acknowledgements,
    epochs and STATUS rows written into it after the backup are carried into the backup first (those
    that can be read: it says which could not). At its next start the daemon asks each band for the
    events after the latest the copy holds: those its flash still holds come back (docs/store.md 'Backups')."""
    from spasmwatch.commands.service import in_use
    from spasmwatch.daemon.lock import StoreInUse, one_daemon

    path = store_path_of(args)
    chosen = _backup_named(path, args.source)
    try:
        with one_daemon(path):  # no daemon may write while the file is swapped
            restored = backup.restore(path, chosen, time.strftime("%Y%m%d-%H%M%S"))
            _adopted(path)  # (its id may be another than the one recorded: a store recovered with a new id since)
    except StoreInUse as e:
        raise SpasmwatchError(in_use(e)) from None
    print(f"{path}: restored from {chosen} ({_latest_event_said(path)})")
    if restored.replaced is not None:
        print(f"the file that was there is kept as {restored.replaced} (never deleted)")
    if restored.carried is not None:
        print("\n".join(_carried_told(restored.carried)))
    print("at its next start the daemon asks each band for its events after the latest one in the backup: those its flash "
          "still holds come back (a band's log holds weeks of events)")  # fmt: skip
    return 0


def _carried_told(c: Carried) -> list[str]:
    """What of the replaced file's rows written after the backup was carried into it, and what could not be."""
    if c.error is not None:
        return [f"NOTHING CARRIED from the file replaced: {c.error}; what was saved after the backup (notes, treatments, labels, "
                "acknowledgements, epochs, STATUS rows) is only in it"]  # fmt: skip
    said = ", ".join(f"{n} {_CARRIED_NAMES.get(t, t)}" for t, n in c.rows.items()) or "nothing: it held nothing newer"
    lines = [f"saved after the backup and carried into it: {said}"]
    if c.clusters:
        lines.append(f"  {c.clusters} cluster(s) made after the backup, carried for their alerts or labels (their events come back from the band)")
    if c.devices:
        lines.append(f"  {c.devices} band(s) first seen after the backup: kept by id")
    for s in c.skipped:
        upto = "the end" if s.last is None else f"{s.last}"
        lines.append(f"  could not read: {s.table} rows {s.first} to {upto} of the file replaced (a damaged page): not carried")
    for table, n in c.dropped.items():
        lines.append(f"  NOT CARRIED: {n} {table} row(s): their cluster could not be read, or the backup's table refuses them")
    lines += [f"  NOT CARRIED: {table}: {_cut_told(ids)}" for table, ids in c.cut.items()]
    return lines


# What 'store restore' calls the rows it carried (carry.CARRIED).
_CARRIED_NAMES = {"status": "STATUS rows", "activity": "epochs", "alerts": "alert transitions (acknowledgements among them)"}


def _backup_named(path: Path, source: str) -> Path:
    """The copy ``source`` names: 'latest', a name in the store's backups folder, or a file's path."""
    have = backup.listed(path)
    if source == "latest":
        if not have:
            raise SpasmwatchError(f"no backups of {path} in {backup.folder(path)}: nothing was restored")
        return have[-1].path
    for b in have:
        if b.name == source:
            return b.path
    if Path(source).is_file():
        return Path(source)
    listed = ", ".join(b.name for b in have) or "none"
    raise SpasmwatchError(f"{source}: no such backup of {path} (listed: {listed}) nor file: nothing was restored")


def _adopted(path: Path, makes: bool = False) -> str:
    """The store at ``path`` opened (migrated; ``makes``: made) and recorded as the daemon's; its id.
    One found (not ``makes``) is never made: gone since it was found (its disk unmounted in between),
    it is a StoreError, not a new, empty store recorded as the daemon's."""
    with Store(path, makes=makes) as store:
        store_id = store.store_id
    assert store_id is not None  # (opened read-write: migrated, so it has one)
    known = KnownStores.default()
    try:
        known.adopt(path, store_id)
    except OSError as e:
        raise SpasmwatchError(f"{known.path}: cannot be written ({e.strerror or e}): the daemon does not take "
                              f"{path} as its store") from e  # fmt: skip
    return store_id


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise SpasmwatchError(f"no store at {path}")
    return path


def _told(path: Path, r: Recovered) -> str:
    """What was kept, what could not be read, where the damaged file is."""
    lines = [f"{path}: a new store with every row that could be read:"]
    for table, n in r.rows.items():
        found = r.found.get(table, 0)
        if n or found:
            lines.append(f"  {table}: {n + found}" + (f" ({found} found by reading the file's pages)" if found else ""))
    for s in r.skipped:
        upto = "the end" if s.last is None else f"{s.last}"
        lines.append(f"  could not read: {s.table} rows {s.first} to {upto} (a damaged page)")
    if r.found:
        lines.append("  (the rows found by reading the file's pages are among these: intact on leaf pages under a damaged page)")
    lost_on_pages = _scan_told(r.scan)
    lines += lost_on_pages
    if r.devices_remade:
        lines.append(f"  {r.devices_remade} band(s) whose own row was lost: kept by id (its name comes back when it connects)")
    if r.links_dropped:
        lines.append(f"  {r.links_dropped} link(s) of a cluster to a lost cluster or event: dropped")
    if r.id_remade:
        lines.append("  its store id could not be read: the new store has a new one")
    for table, columns in r.filled.items():
        for column, value in columns.items():
            lines.append(f"  {table}.{column}: not in the file (dropped by hand?): {value} in each of its rows, "
                         f"{NOT_KNOWN[table, column].means}: its values were gone")  # fmt: skip
    lines += _refused_told(r)
    lines += [f"  {table}: {_cut_told(ids)}" for table, ids in r.cut.items()]
    if not r.skipped and not lost_on_pages and not r.refused and not r.columns_left and not r.cut:
        lines.append("  nothing was unreadable")
    lines.append(f"the damaged file is kept as {r.kept} (never deleted: 'sqlite3 {r.kept} .recover' may find more)")
    return "\n".join(lines)


def _cut_told(ids: list[int]) -> str:
    """The rows of a table read off a page a write cut short: how many, the first rowids, those whose
    rowid was cut too (read as 0: a cell wholly past the cut) (recover, carry)."""
    named = [i for i in ids if i > 0]
    said = [f"rowid {', '.join(str(i) for i in named[:5])}{', ...' if len(named) > 5 else ''}"] if named else []
    said += [f"{len(ids) - len(named)} whose rowid was cut too"] if len(named) < len(ids) else []
    return f"{len(ids)} row(s) on a page cut mid-write (zeros from the cut on): left out ({'; '.join(said)})"


def _refused_told(r: Recovered) -> list[str]:
    """The rows read but not kept, by table: how many, the first rowids, where they still are."""
    lines = []
    for table, ids in r.refused.items():
        first = ", ".join("one read off the pages" if i is None else str(i) for i in ids[:5])
        lines.append(f"  NOT KEPT: {table}: {len(ids)} row(s) read but breaking a constraint of this version's table (a CHECK "
                     f"widened by hand? a newer spasmwatch's rows?), rowid {first}{', ...' if len(ids) > 5 else ''}")  # fmt: skip
    if lines:
        lines.append(f"  those rows are in the kept file, {r.kept} (exit 1)")
    for column in r.columns_left:
        lines.append(f"  NOT KEPT: {column} (added by hand: no column of this version's to copy it into): its values are in "
                     f"the kept file, {r.kept} (exit 1)")  # fmt: skip
    for table, ids in r.misread.items():
        lines.append(f"  {table}: {len(ids)} row(s) read through a damaged page that break its constraints, which the file held its "
                     "rows to (another table's rows, read through a damaged pointer): left out")  # fmt: skip
    return lines


def _scan_told(scan: Scanned | None) -> list[str]:
    """What reading the pages directly (the rows the rowid pass could not reach) could not do."""
    if scan is None:
        return []
    if scan.refused:
        return [f"  its pages were not read one by one for the rows under a damaged page: {scan.refused}"]
    lines = []
    if scan.unplaced:
        lines.append(f"  {scan.unplaced} row(s) on pages no table reaches fit no table, or more than one: not guessed, left out")
    if scan.cut:
        lines.append(f"  {scan.cut} row(s) on pages no table reaches were cut mid-write (zeros from the cut on): left out")
    if scan.unreadable:
        spill = f" ({scan.overflow} spilling onto overflow pages that could not be followed)" if scan.overflow else ""
        lines.append(f"  {scan.unreadable} row(s) on pages no table reaches could not be decoded{spill}")
    return lines
