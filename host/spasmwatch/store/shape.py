"""What a store's tables say its schema version is, whatever its ``PRAGMA user_version`` says.

A version lowered by hand (or by a tool) made every read-write open re-run a step whose table was
there ('table compat already exists'), and a store whose marker table was dropped could never take
the next step (it writes the marker): both for good. The tables, indexes and their SQL as each
version's migrations make them are compared with the file's: the objects of spasmwatch's names only,
so an index someone added by hand changes nothing, and a table with columns added by hand is taken
as the table they were added to (``read``; docs/store.md, "A store's version changed by hand").
"""

from __future__ import annotations

import functools
import re
import sqlite3
import string
from typing import NamedTuple

from spasmwatch.store.schema import MARKER_VERSION, MIGRATIONS, NOT_KNOWN, REMADE_EMPTY

# One table, index or trigger: (type, name, its SQL with its white space made single spaces).
Object = tuple[str, str, str]
Shape = frozenset[Object]
_MARKER_TABLE = "compat"
# The table a CREATE TABLE made on a database in memory, not SQLite's own: an AUTOINCREMENT one (clusters,
# schema v16) makes sqlite_sequence beside it, listed before it once the table was made again.
_MADE_TABLE = "FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"


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
    """The objects on ``conn`` of the names spasmwatch's steps give (see the module's doc), a table with
    columns added by hand taken as the table they were added to (``added``)."""
    return read(conn)[0]


def read(conn: sqlite3.Connection) -> tuple[Shape, list[str]]:
    """``of``, and the columns added by hand to its tables ('column mine of table events')."""
    names = {name for _, name, _ in shapes()[-1]}
    found, added = set(), []
    for t, n, sql in _objects(conn):
        if n not in names:
            continue
        base, extra = _without_added(n, sql) if t == "table" else (sql, [])
        found.add((t, n, base))
        added += [f"column {c} of table {n}" for c in extra]
    return frozenset(found), sorted(added)


def added_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """The columns added by hand to ``table`` on ``conn`` (``_without_added``): (name, its definition as
    the table's SQL writes it, folded), in their order; none when the table is not a version's."""
    for t, n, sql in _objects(conn):
        if (t, n) == ("table", folded(table)):
            extra = _without_added(n, sql)[1]
            return list(zip(extra, _definitions(sql, extra))) if extra else []
    return []


def _without_added(table: str, sql: str) -> tuple[str, list[str]]:
    """``table``'s SQL ``sql`` as a version's steps made it, and the columns added to it by hand
    (ALTER TABLE ADD COLUMN: nullable or with a default, no key: spasmwatch's reads and writes name
    their columns, so it reads and writes the table as before, and the column's values stay): the SQL
    of a version's ``table`` that those columns, added one by one, turn into ``sql``. Anything else
    changed (a column dropped or retyped, a CHECK edited, a column added with a constraint on the
    others) is not: ``sql`` as it is, no column."""
    if sql in _made(table):
        return sql, []
    for base in _made(table):  # (longest first: devices' v4 SQL is its v1 SQL with rate_hz added)
        extra = _added_to(base, sql)
        if extra:
            return base, extra
    return sql, []


@functools.cache
def _made(table: str) -> tuple[str, ...]:
    """Every SQL a version's steps give ``table``, longest first."""
    return tuple(sorted({sql for v in shapes() for t, n, sql in v if (t, n) == ("table", table)}, key=len, reverse=True))


def _added_to(base: str, sql: str) -> list[str]:
    """The columns that, added to a table made by ``base`` one by one (ALTER TABLE ADD COLUMN, as
    their definitions are in ``sql``), make it ``sql``; none: ``sql`` is not such a table."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(sql)  # (the file's own table: its SQL is SQLite's, and REFERENCES need no table here)
        name = conn.execute(f"SELECT name {_MADE_TABLE}").fetchone()[0]
        # (table_xinfo: table_info leaves generated columns out, and one added by hand is a column added)
        have = [str(r[1]) for r in conn.execute(f"PRAGMA table_xinfo({name})")]
        conn.execute(f"DROP TABLE {name}")
        conn.execute(base)
        ours = [str(r[1]) for r in conn.execute(f"PRAGMA table_xinfo({name})")]
        if len(have) <= len(ours) or have[: len(ours)] != ours:
            return []
        for definition in _definitions(sql, have[len(ours):]):
            conn.execute(f"ALTER TABLE {name} ADD COLUMN {definition}")
        made = " ".join(folded(str(conn.execute(f"SELECT sql {_MADE_TABLE}").fetchone()[0])).split())
        return have[len(ours):] if made == sql else []
    except sqlite3.Error:  # (a definition ADD COLUMN refuses: a key, a NOT NULL with no default, not a column)
        return []
    finally:
        conn.close()


def _definitions(sql: str, columns: list[str]) -> list[str]:
    """The definitions of ``columns``, the last ones of the table ``sql`` makes, as ``sql`` writes them:
    each from its name to the comma that ends it (none inside brackets or quotes), the last to the next."""
    body = sql[sql.index("(") + 1 : sql.rindex(")")]
    parts = _top_level(body)
    starts = [i for i, p in enumerate(parts) if _name_of(p) == columns[0]]
    return parts[starts[-1] : starts[-1] + len(columns)] if starts else []


def _name_of(definition: str) -> str:
    """The column name a definition starts with, unquoted as PRAGMA table_info gives it: a quoted one
    whole ('"my note"' -> 'my note', '"a""b"' -> 'a"b'). Until the review of 2026-12-06 its first word
    ('"my'): a column added by hand under such a name made the table 'changed', the store damaged."""
    close = {'"': '"', "`": "`", "[": "]"}.get(definition[:1])
    if close is None:
        return definition.split(maxsplit=1)[0] if definition.strip() else ""
    name, i = [], 1
    while i < len(definition):
        if definition[i] == close and definition[i + 1 : i + 2] == close and close != "]":  # (a quote doubled inside)
            name.append(close)
            i += 2
        elif definition[i] == close:
            break
        else:
            name.append(definition[i])
            i += 1
    return "".join(name)


def _top_level(body: str) -> list[str]:
    """``body`` cut at its commas outside brackets and quotes, each part stripped."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(body):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


def _objects(conn: sqlite3.Connection) -> Shape:
    """The objects on ``conn``, their names and SQL ``folded``: a table made again as NOTES, an index
    ON Notes, a column renamed WALL_S are spasmwatch's own (until the review of 2026-12-07 they were
    compared as written: the first 'missing', the store refused as damaged)."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'")
    return frozenset((str(t), folded(str(n)), " ".join(folded(str(sql)).split())) for t, n, sql in rows)


# What SQLite's names are blind to: the case of ASCII letters alone (sqlite.org/lang_expr.html: 'É' is not 'é').
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# A string literal ('it''s'), and what may hold a quote that starts none: a quoted name ("a'b", [a'b],
# `a'b`), a comment (-- don't). Cut apart by re.split, they are its odd parts.
_LITERAL_OR_NOT = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/)""", re.S)


def folded(sql: str) -> str:
    """``sql`` (or a name) with its ASCII letters in lower case but in its string literals: SQLite's
    keywords and names, quoted or not, are case-blind, a literal is not (CHECK (kind IN ('video')) is
    no CHECK (kind IN ('VIDEO')))."""
    parts = _LITERAL_OR_NOT.split(sql)
    return "".join(p if i % 2 and p.startswith("'") else p.translate(_ASCII_LOWER) for i, p in enumerate(parts))


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
    lacking or changed only in what a read-write open makes again (``remakeable``) is whole."""
    if version > len(MIGRATIONS):  # a newer store: its objects are not known here
        return False
    if version == len(MIGRATIONS):
        found = mended(found)
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
    """The current version's objects that hold no record (an index, a table of schema.REMADE_EMPTY)
    that ``found`` lacks, or holds with other SQL (``_changed``): made again, empty, as this version
    makes them, at a read-write open (``_db._settle``)."""
    return frozenset(o for o in _missing(found) if _no_record(o)) | _changed(found)


def _no_record(o: Object) -> bool:
    return o[0] != "table" or o[1] in REMADE_EMPTY


def _changed(found: Shape) -> Shape:
    """The current version's objects of no record that ``found`` holds under their names with other SQL:
    an index made again by hand on other columns, or UNIQUE (spasmwatch's writes then failed on rows its
    version takes); a table of schema.REMADE_EMPTY with a column dropped or retyped (its writes failed,
    and 'store recover' refused a store whose rows of it lack a column: the daemon never opened it again)."""
    have = {(t, n): sql for t, n, sql in found}
    return frozenset(o for o in shapes()[-1] if _no_record(o) and have.get((o[0], o[1]), o[2]) != o[2])


def mended(found: Shape) -> Shape:
    """``found`` as a read-write open leaves it: what ``remakeable`` names made as this version makes it."""
    remade = remakeable(found)
    return frozenset(o for o in found if (o[0], o[1]) not in {(t, n) for t, n, _ in remade}) | remade


def remade_said(found: Shape) -> str:
    """What ``remakeable`` makes again, in words: 'table summaries missing from the store; index
    events_wall changed in the store'; "" when nothing."""
    remade = remakeable(found)
    changed = {(t, n) for t, n, _ in _changed(found)}
    said = []
    for what, objects in (("missing from", [o for o in remade if (o[0], o[1]) not in changed]), ("changed in", sorted(changed))):
        if objects:
            said.append(f"{', '.join(sorted(f'{o[0]} {o[1]}' for o in objects))} {what} the store")
    return "; ".join(said)


class Foreign(NamedTuple):
    """An object of no spasmwatch name on one of its tables that can refuse or change what it writes."""

    what: str  # 'trigger', 'unique index'
    name: str
    table: str
    sql: str

    def said(self) -> str:
        return f"{self.what} {self.name} on table {self.table}"


def foreign(conn: sqlite3.Connection) -> list[Foreign]:
    """The objects on ``conn`` of names no spasmwatch step gives, on tables it does, that can refuse or
    change its writes: every trigger (spasmwatch makes none: one may RAISE(ABORT) each insert, or
    RAISE(IGNORE) it, the row dropped without a word, or write into its rows) and every UNIQUE index
    (a row its version takes refused, or, by its inserts that skip a row already stored, dropped without
    a word). Another index refuses nothing (a researcher's, to read faster): not named. Until the review
    of 2026-12-06 none was looked at: 'store check' said ok while every event's write failed."""
    # (SQLite's names are case-blind, and a trigger's table is kept as its SQL wrote it, 'ON EVENTS':
    # compared as written, such a trigger was taken as on no table of spasmwatch's and kept)
    ours = {name.lower() for _, name, _ in shapes()[-1]}
    tables = {name.lower(): name for t, name, _ in shapes()[-1] if t == "table"}
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL ORDER BY name")
    out = []
    for t, name, written, sql in rows:
        table = tables.get(str(written).lower())
        if str(name).lower() in ours or table is None:
            continue
        if t == "trigger":
            out.append(Foreign("trigger", str(name), table, str(sql)))
        elif _unique(conn, table, str(name)):
            out.append(Foreign("unique index", str(name), table, str(sql)))
    return out


def _unique(conn: sqlite3.Connection, table: str, index: str) -> bool:
    return any(str(r[1]) == index and r[2] for r in conn.execute(f"PRAGMA index_list({table})"))


@functools.cache
def columns_of(table: str, version: int) -> tuple[str, ...]:
    """The columns of spasmwatch's ``table`` as the steps up to ``version`` make it (none: no such table
    then): those its reads and writes name."""
    sql = [s for t, n, s in shapes()[version] if (t, n) == ("table", table)]
    if not sql:
        return ()
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(sql[0])
        return tuple(str(r[1]) for r in conn.execute(f"PRAGMA table_xinfo({table})"))
    finally:
        conn.close()


def needed_gone(conn: sqlite3.Connection, version: int) -> list[tuple[str, str]]:
    """(table, column) of the columns that each row of a table of ``version`` needs (NOT NULL, no
    default, not the rowid) that the file's table of that name lacks (dropped by hand): 'store
    recover' can keep its rows only with a value ``NOT_KNOWN`` gives. A table the file lacks is not
    named (left empty, as its step makes it)."""
    out = []
    for t, name, sql in sorted(shapes()[version]):
        have = {folded(str(r[1])) for r in conn.execute(f"PRAGMA table_info({name})")} if t == "table" else set()
        if have:
            out += [(name, c) for c in _needed(sql) if c not in have]
    return out


def unkeepable(conn: sqlite3.Connection, version: int) -> list[str]:
    """'events.onset_ms': the columns of ``needed_gone`` no value of which can be told (not NOT_KNOWN):
    no spasmwatch can keep the rows of their tables."""
    return [f"{t}.{c}" for t, c in needed_gone(conn, version) if (t, c) not in NOT_KNOWN]


@functools.cache
def _needed(sql: str) -> tuple[str, ...]:
    """The columns each row of the table ``sql`` makes needs (NOT NULL, no default, not the rowid)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(sql)
        (name,) = conn.execute(f"SELECT name {_MADE_TABLE}").fetchone()
        return tuple(str(r[1]) for r in conn.execute(f"PRAGMA table_info({name})") if r[3] and r[4] is None and not r[5])
    finally:
        conn.close()


def lost(found: Shape) -> list[str]:
    """The current version's tables ``found`` lacks that held records the store is for (events,
    notes, zones: not schema.REMADE_EMPTY): such a store is damaged."""
    return [n for t, n, _ in _missing(found) if t == "table" and n not in REMADE_EMPTY]


def remake(conn: sqlite3.Connection, objects: Shape) -> None:
    """``objects`` (of ``remakeable``) made on ``conn``, in its transaction, one of their names there
    dropped first: tables before indexes."""
    for t, n, sql in sorted(objects, key=lambda o: o[0] != "table"):
        conn.execute(f"DROP {t.upper()} IF EXISTS {n}")  # (one changed by hand: it holds no record)
        conn.execute(sql)
