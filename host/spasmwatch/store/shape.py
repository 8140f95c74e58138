"""What a store's tables say its schema version is, whatever its ``PRAGMA user_version`` says.

A version lowered by hand (or by a tool) made every read-write open re-run a step whose table was
there ('table compat already exists'), and a store whose marker table was dropped could never take
the next step (it writes the marker): both for good. The tables, indexes and their SQL as each
version's migrations make them are compared with the file's: the objects of spasmwatch's names only,
so an index someone added by hand changes nothing (docs/store.md, "A store's version changed by hand").
"""

from __future__ import annotations

import functools
import sqlite3
from typing import NamedTuple

from spasmwatch.store.schema import MARKER_VERSION, MIGRATIONS, REMADE_EMPTY

# One table, index or trigger: (type, name, its SQL with its white space made single spaces).
Object = tuple[str, str, str]
Shape = frozenset[Object]
_MARKER_TABLE = "compat"


@functools.cache
def shapes() -> tuple[Shape, ...]:
    """``shapes()[v]``: the objects of a store at schema version v, as the migrations make them (built
    once a process in memory: 16 ms measured, for an odd store alone: _db._settle)."""
    conn = sqlite3.connect(":memory:")
    try:
        out = [_objects(conn)]
        for step in MIGRATIONS:
            conn.executescript(step)  # (its commits are nothing to a database in memory)
            out.append(_objects(conn))
        return tuple(out)
    finally:
        conn.close()


def of(conn: sqlite3.Connection) -> Shape:
    """The objects on ``conn`` of the names spasmwatch's steps give (see the module's doc)."""
    names = {name for _, name, _ in shapes()[-1]}
    return frozenset(o for o in _objects(conn) if o[1] in names)


def _objects(conn: sqlite3.Connection) -> Shape:
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'")
    return frozenset((str(t), str(n), " ".join(str(sql).split())) for t, n, sql in rows)


class Proven(NamedTuple):
    version: int  # the schema version whose objects the store holds
    marker_gone: bool  # all of them but the marker's table (dropped): to be made again


def proven(found: Shape, since: int = 0) -> Proven | None:
    """The newest version from ``since`` on whose objects ``found`` is, or is but for the marker's
    table; None: none."""
    for version in range(len(MIGRATIONS), since - 1, -1):
        want = shapes()[version]
        if found == want:
            return Proven(version, False)
        if version >= MARKER_VERSION and found == frozenset(o for o in want if o[1] != _MARKER_TABLE):
            return Proven(version, True)
    return None


def unproven(found: Shape, version: int) -> bool:
    """Whether ``found`` proves no schema version of this spasmwatch's from ``version`` on (a store
    at ``version`` by its header): what 'store recover' copies into a new store. A current store
    lacking only what a read-write open makes again (``remakeable``) is whole."""
    if version > len(MIGRATIONS):  # a newer store: its objects are not known here
        return False
    if version == len(MIGRATIONS):
        found = found | remakeable(found)
    return found != shapes()[version] and proven(found, version) is None


def reached(found: Shape) -> int:
    """The newest version one of whose steps' objects (a table made, a column added) ``found`` holds as
    that step left it: how far the store's migrations went, whatever was dropped since."""
    made = [v for v in range(1, len(shapes())) if found & (shapes()[v] - shapes()[v - 1])]
    return max(made, default=0)


def differences(found: Shape, version: int) -> str:
    """How ``found`` differs from the objects of ``version``: 'table zones missing; table devices changed'."""
    want = {(t, n): sql for t, n, sql in shapes()[version]}
    have = {(t, n): sql for t, n, sql in found}
    said = [f"{t} {n} missing" for t, n in sorted(want.keys() - have.keys())]
    said += [f"{t} {n} not of that version" for t, n in sorted(have.keys() - want.keys())]
    said += [f"{t} {n} changed" for t, n in sorted(want.keys() & have.keys()) if want[t, n] != have[t, n]]
    return "; ".join(said)


def _missing(found: Shape) -> list[Object]:
    """The current version's objects of a (type, name) ``found`` has none of, tables first."""
    have = {(t, n) for t, n, _ in found}
    return sorted((o for o in shapes()[-1] if (o[0], o[1]) not in have), key=lambda o: (o[0] != "table", o[1]))


def remakeable(found: Shape) -> Shape:
    """The current version's objects ``found`` lacks that hold no record (an index, a table of
    schema.REMADE_EMPTY): made again, empty, at a read-write open (``_db._settle``)."""
    return frozenset(o for o in _missing(found) if o[0] != "table" or o[1] in REMADE_EMPTY)


def lost(found: Shape) -> list[str]:
    """The current version's tables ``found`` lacks that held records the store is for (events,
    notes, zones: not schema.REMADE_EMPTY): such a store is damaged."""
    return [n for t, n, _ in _missing(found) if t == "table" and n not in REMADE_EMPTY]


def remake(conn: sqlite3.Connection, objects: Shape) -> None:
    """``objects`` (of ``remakeable``) made on ``conn``, in its transaction: tables before indexes."""
    for _, _, sql in sorted(objects, key=lambda o: o[0] != "table"):
        conn.execute(sql)
