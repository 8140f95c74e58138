"""store/pagescan.py on plain SQLite files: rows are handed on for a table only when their page
fits that table alone; a record older than an ALTER TABLE ADD COLUMN reads as SQLite reads it."""

from __future__ import annotations

import mmap
import random
import sqlite3
from pathlib import Path

from spasmwatch.store import pagescan

ROWS = 3000  # per table: each has interior pages


def _root(c: sqlite3.Connection, table: str) -> int:
    return int(c.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0])


def _scan(path: Path, tables: list[str]) -> tuple[dict[str, list[tuple[object, ...]]], pagescan.Scanned]:
    """What the scan finds of ``tables`` (each wanted whole) in ``path``."""
    c = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    roots = [("sqlite_schema", 1), *c.execute("SELECT name, rootpage FROM sqlite_schema WHERE type = 'table'")]
    every = [
        pagescan.Table(name, root, pagescan.columns(c.execute(f"PRAGMA table_info({name})").fetchall()),
                       ((1, None),) if name in tables else None)
        for name, root in roots
    ]  # fmt: skip
    c.close()
    scanned = pagescan.Scanned()
    found: dict[str, list[tuple[object, ...]]] = {t: [] for t in tables}
    for table, row in pagescan.orphan_rows(path, every, scanned):
        found[table].append(row)
    return found, scanned


def test_a_page_two_tables_could_hold_is_not_guessed_and_old_records_read_as_sqlite_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE a (x INTEGER NOT NULL, y TEXT)")
    c.execute("CREATE TABLE b (x INTEGER NOT NULL, y TEXT)")  # the same columns as a
    c.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, z REAL NOT NULL)")
    for t in ("a", "b"):
        c.executemany(f"INSERT INTO {t} VALUES (?, ?)", [(i, f"{t}-{i:040d}") for i in range(ROWS)])
    c.executemany("INSERT INTO c (z) VALUES (?)", [(float(i) if i % 2 else i + 0.5,) for i in range(ROWS)])
    c.execute("ALTER TABLE c ADD COLUMN w TEXT")  # rows before it keep two fields on disk
    c.executemany("INSERT INTO c (z, w) VALUES (?, ?)", [(1.5, f"w{i}") for i in range(ROWS)])
    c.commit()
    expected_c = c.execute("SELECT id, z, w FROM c ORDER BY id").fetchall()
    roots = [_root(c, t) for t in ("a", "b", "c")]
    c.close()
    size = int.from_bytes(path.read_bytes()[16:18], "big")
    with open(path, "r+b") as f:
        for n in roots:
            f.seek((n - 1) * size)
            f.write(b"\xde\xad\xbe\xef" * (size // 4))
    found, scanned = _scan(path, ["a", "b", "c"])
    assert found["a"] == [] and found["b"] == [] and scanned.unplaced == 2 * ROWS
    assert sorted(found["c"]) == expected_c and [type(r[1]) for r in found["c"]] == [float] * 2 * ROWS
    assert scanned.unreadable == 0 and not scanned.refused
    # sought alone, a is no more certain: b's tree is damaged too, and b's pages fit a
    found, scanned = _scan(path, ["a"])
    assert found["a"] == [] and scanned.unplaced == 4 * ROWS  # a, b and c (6000 rows, not sought)


def test_a_damaged_freelist_reads_no_page(tmp_path: Path) -> None:
    """A page the freelist would have named may hold deleted rows: with the freelist broken, none is read."""
    path = tmp_path / "t.db"
    c = sqlite3.connect(path)
    c.execute("PRAGMA secure_delete = OFF")
    c.execute("CREATE TABLE a (x INTEGER NOT NULL, y TEXT)")
    c.executemany("INSERT INTO a VALUES (?, ?)", [(i, f"a-{i:040d}") for i in range(ROWS)])
    c.execute("DELETE FROM a WHERE x BETWEEN 1000 AND 1999")
    c.commit()
    c.close()
    data = bytearray(path.read_bytes())
    trunk = int.from_bytes(data[32:36], "big")
    assert trunk
    size = int.from_bytes(data[16:18], "big")
    data[(trunk - 1) * size : (trunk - 1) * size + 8] = b"\xff" * 8  # its next trunk and its count
    path.write_bytes(bytes(data))
    found, scanned = _scan(path, ["a"])
    assert found["a"] == [] and scanned.pages == 0 and "freelist is damaged" in scanned.refused


def test_a_tree_whose_damaged_pointer_names_another_tree_s_page_is_taken_for_damaged_too(tmp_path: Path) -> None:
    """A child pointer of a's root damaged into the number of a leaf page of b (walked after a): the
    walk of a takes b's leaf as its own and the walk of b meets it reached already. Either tree may
    be the damaged one; until 2026-12-05 only b, the one walked second, was taken for damaged, so the
    leaf page a's pointer used to name, which no tree reaches now, was read for b alone, fit it not,
    and a's rows on it were left out as unplaced."""
    path = tmp_path / "t.db"
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE a (x INTEGER NOT NULL, y TEXT)")
    c.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, z REAL NOT NULL)")
    c.executemany("INSERT INTO a VALUES (?, ?)", [(i, f"a-{i:040d}") for i in range(ROWS)])
    c.executemany("INSERT INTO b (z) VALUES (?)", [(i + 0.5,) for i in range(ROWS)])
    c.commit()
    a_root, b_root = _root(c, "a"), _root(c, "b")
    c.close()
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")

    def right_most(n: int) -> int:  # a table interior page's right-most child (header byte 8)
        at = (n - 1) * size
        assert data[at] == 0x05, f"page {n} is not a table interior page"
        return int.from_bytes(data[at + 8 : at + 12], "big")

    a_leaf, b_leaf = right_most(a_root), right_most(b_root)
    assert data[(a_leaf - 1) * size] == data[(b_leaf - 1) * size] == 0x0D
    cells = int.from_bytes(data[(a_leaf - 1) * size + 3 : (a_leaf - 1) * size + 5], "big")
    at = (a_root - 1) * size + 8
    data[at : at + 4] = b_leaf.to_bytes(4, "big")
    path.write_bytes(bytes(data))
    found, scanned = _scan(path, ["a"])
    assert scanned.pages == 1 and scanned.unplaced == 0, scanned  # a's leaf: a's rows alone fit it
    assert [r[0] for r in found["a"]] == list(range(ROWS - cells, ROWS)), found["a"][:3]


def test_records_ending_in_zero_bytes_of_their_own_are_not_taken_for_cells_cut_mid_write(tmp_path: Path) -> None:
    """pagescan.cut_rows against records that end in zero bytes of their own (an integer 256, 01 00; a
    REAL 1796602025.5, 41 da c5 7e 2a 60 00 00; 0 and 0.0, written as serial type 8 with no bytes, the
    text before them last): none is taken for a cell a write cut short, as recover and restore leave
    such a cell's row out (a good row lost). The page then cut amid its cells, zeros past it: every row SQLite
    still reads as written is none of them, and those it reads with zeros are."""
    path = tmp_path / "t.db"
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL, n INTEGER, r REAL)")
    c.executemany("INSERT INTO t (s, n, r) VALUES (?, ?, ?)",
                  [(f"row {i}", 256, 1796602025.5) if i % 2 else (f"row {i}", 0, 0.0) for i in range(60)])  # fmt: skip
    c.commit()
    written = {r[0]: r for r in c.execute("SELECT id, s, n, r FROM t")}
    root = _root(c, "t")
    tables = [pagescan.Table("t", root, pagescan.columns(c.execute("PRAGMA table_info(t)").fetchall()), None)]
    c.close()
    assert pagescan.cut_rows(path, tables).rows == {}
    size = int.from_bytes(path.read_bytes()[16:18], "big")
    with open(path, "r+b") as f:  # (60 rows: one leaf page, the root; its cells in its last ~1200 bytes)
        f.seek(root * size - 600)
        f.write(b"\x00" * 600)
    cut = pagescan.cut_rows(path, tables)
    c = sqlite3.connect(path)
    read = c.execute("SELECT id, s, n, r FROM t").fetchall()
    c.close()
    whole = [r for r in read if written.get(r[0]) == r]
    zeroed = [r for r in read if written.get(r[0]) != r]
    assert whole and zeroed, read
    assert not [r for r in whole if cut.holds("t", r[0], ["id", "s", "n", "r"], r[1:]) or cut.headless("t", r[0])]
    assert all(cut.holds("t", r[0], ["s", "n", "r"], r[1:]) or cut.headless("t", r[0]) for r in zeroed), (zeroed, cut.rows)


def _every_cell_decoded(path: Path, tables: list[pagescan.Table]) -> dict[str, dict[int, list[dict[str, object] | None]]]:
    """``cut_rows`` as it read before 2026-12-07's numpy pass: every cell of every leaf page decoded in Python."""
    rows: dict[str, dict[int, list[dict[str, object] | None]]] = {}
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        f = pagescan._geometry(buf)
        assert not isinstance(f, str), f
        for t in tables:
            for n in pagescan._leaves_past(f, t.root, 0):
                for rowid, cell in pagescan._cut_cells(f, n, t.columns):
                    rows.setdefault(t.name, {}).setdefault(rowid, []).append(cell)
    return rows


def test_cut_rows_numpy_pass_finds_what_decoding_every_cell_finds(tmp_path: Path) -> None:
    """cut_rows decodes in Python only the cells numpy cannot tell from a cut one (a year's store: 3.7M
    cells, 4 s CPU against 33 s). On pages cut at random bytes or with random bytes written into them, over
    records of every kind (NULL, 0, 256, 1796602025.5 and 0.0, texts with NULs and non-ASCII, blobs of
    zeros, rows spilling onto overflow pages), it finds exactly what decoding every cell finds."""
    rng = random.Random(7)
    values: list[object] = [None, 0, 256, -(2**40), 1796602025.5, 0.0, 1.25, "dev\x00", "bench0001", "é", b"\x00\x01\x00", b"x" * 3000]
    found = 0
    for trial in range(12):
        path = tmp_path / f"t{trial}.db"
        c = sqlite3.connect(path)
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b TEXT, c REAL, d INTEGER, e BLOB)")
        c.execute("CREATE TABLE u (x TEXT NOT NULL, y INTEGER)")
        c.executemany("INSERT INTO t (a, b, c, d, e) VALUES (?, ?, ?, ?, ?)", [tuple(rng.choice(values) for _ in range(5)) for _ in range(600)])
        c.executemany("INSERT INTO u VALUES (?, ?)", [(f"n{i}" + "\x00" * (i % 3), i * 256) for i in range(900)])
        c.commit()
        roots = [("sqlite_schema", 1), *c.execute("SELECT name, rootpage FROM sqlite_schema WHERE type = 'table'")]
        tables = [pagescan.Table(n, int(r), pagescan.columns(c.execute(f"PRAGMA table_info({n})").fetchall()), None) for n, r in roots]
        size, pages = (int(c.execute(f"PRAGMA {p}").fetchone()[0]) for p in ("page_size", "page_count"))
        c.close()
        data = bytearray(path.read_bytes())
        for _ in range(rng.randrange(1, 30)):
            n, at = rng.randrange(2, pages + 1), rng.randrange(size)
            if rng.random() < 0.7:  # cut at a byte: zeros to the page's end
                data[(n - 1) * size + at : n * size] = bytes(size - at)
            else:
                k = min(rng.randrange(1, 64), size - at)
                data[(n - 1) * size + at : (n - 1) * size + at + k] = rng.randbytes(k)
        path.write_bytes(bytes(data))
        want = _every_cell_decoded(path, tables)
        assert pagescan.cut_rows(path, tables).rows == want, trial
        found += sum(len(cells) for by_rowid in want.values() for cells in by_rowid.values())
    assert found > 100, found  # (cut cells among them: the comparison is not of two empty results)
