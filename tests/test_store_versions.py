"""The store's schema versions across releases: a store of a newer schema, read and written by an
older spasmwatch where the store's marker allows it, and refused with both versions named where it
does not (docs/store.md "Schema versions"). Real SQLite files on disk; "older code" is this code run
on a store built by hand at a higher version, or this code with a lower ``SCHEMA_VERSION``."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from spasmwatch import cli
from spasmwatch.store import SCHEMA_VERSION, Store, StoreError, _db, schema

DEV = "SW-0001"
T0 = 1_700_000_000.0


def _event(seq: int, boot: int = 1, confidence: int = 80) -> dict[str, Any]:
    return {"type": "event", "seq": seq, "boot": boot, "onset_ms": 1000 * seq + 500, "duration_ms": 800,
            "peak_rate_mrads": 3000, "peak_angle_mrad": 500, "confidence": confidence, "flags": 1}  # fmt: skip


def _epoch(t_ms: int) -> dict[str, Any]:
    return {"type": "activity", "boot": 1, "t_ms": t_ms, "activity": 12, "breath": 40, "off_body": 0, "worn": 1}


def _link(boot: int, gap_ms: int) -> dict[str, Any]:
    return {"type": "bootlink", "boot": boot, "prev_boot": boot - 1, "cause": 2, "flags": 1, "prev_ms": 40_000, "gap_ms": gap_ms, "err_ms": 3}


def _write_round(st: Store, n: int) -> None:
    """One of every write the daemon and the CLI's writers make, in round ``n`` (each round adds rows;
    its conflicts and lost ranges, made from round 0's, go through the INSERTs that named no columns)."""
    t = T0 + 1000.0 * n
    st.upsert_device(DEV, name="cot", wall_s=t)
    st.add_sync(DEV, 1, 10 * n, t)
    st.add_events(DEV, [_event(10 * n + 1), _event(10 * n + 2)], t)
    st.add_events(DEV, [_event(1, confidence=81 + n)], t)  # a conflict with round 0's seq 1
    st.add_activity(DEV, [_epoch(100_000 * n)], t)
    st.add_status(DEV, t, {"battery_pct": 90 - n, "worn": 1, "next_seq": 10 * n + 3})
    st.mark_lost(DEV, 100 + 10 * n, 105 + 10 * n, t)
    st.add_boot_link(DEV, _link(2 + n, 1500), t)
    st.add_boot_link(DEV, _link(2, 1600 + n), t)  # a conflict with round 0's link
    ids = [i for i in st.event_ids_at(DEV, [t - 1.0]) if i is not None]
    cid = st.upsert_cluster(DEV, f"k{n}", t, t + 5.0, 2, t + 1.0, None, False, event_ids=ids, wall_s=t)
    st.label_cluster(cid, "confirmed", "mum", t)
    st.add_alert(cid, DEV, "cluster", "ALARM", t, "a cluster", ("ntfy",), alert_id=n + 1)
    st.add_note(t, "note", f"note {n}", DEV, "dad")
    st.add_treatment(t, "acth", "start", 1.0, "mg", None, "mum")
    st.keep_failing(f"ntfy{n}", t, "refused")
    st.record_zone(t, "Europe/Paris" if n % 2 else "Europe/London")


def _read_all(st: Store) -> list[Any]:
    """Everything the store's readers give, row objects as they are read."""
    now = T0 + 10_000.0
    clusters = list(st.clusters(DEV, None, None))
    return [
        st.devices(), st.syncs(DEV), list(st.events(DEV)), list(st.activity(DEV)), st.conflicts(DEV), st.latest_status(DEV),
        list(st.status_history(DEV)), st.lost_ranges(DEV), st.boot_links(DEV), clusters,
        [st.cluster_events(c.id) for c in clusters], [st.labels(c.id) for c in clusters], [st.label_of(c.id) for c in clusters],
        list(st.alerts(DEV)), list(st.notes()), list(st.treatments()), st.failing_channels(), st.zones(0.0, now),
    ]  # fmt: skip


def _widen(path: Path) -> None:
    """A column more in every table, as a later schema step may add one (nullable, as an additive step's is)."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            c.execute(f"ALTER TABLE {table} ADD COLUMN later_step TEXT")


def test_a_store_whose_tables_have_columns_more_is_read_and_written_as_one_without(tmp_path: Path) -> None:
    """What lets this version read and write a newer store an additive step changed: every read and
    write names its columns. Old code: devices(), syncs(), status, lost ranges, boot links and labels
    were read by SELECT * (TypeError: a field more), and conflicts, link conflicts, lost ranges and
    cluster events written by INSERTs that named no columns ('table has 5 columns but 4 values')."""
    plain, wide = tmp_path / "plain.db", tmp_path / "wide.db"
    for path in (plain, wide):
        with Store(path) as st:
            _write_round(st, 0)
    _widen(wide)
    for path in (plain, wide):
        with Store(path) as st:
            _write_round(st, 1)
    with Store.open_readonly(plain) as a, Store.open_readonly(wide) as b:
        assert _read_all(b) == _read_all(a)
        assert len(a.conflicts(DEV)) == 4 and len(a.lost_ranges(DEV)) == 2 and len(a.boot_links(DEV)) == 2


# --- the store's marker ----------------------------------------------------------------------------


def _marker(path: Path) -> tuple[int, int, int]:
    """(user_version, readable_by, writable_by) of the file, read without a spasmwatch open."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as c:
        (version,) = c.execute("PRAGMA user_version").fetchone()
        marked, readable, writable = c.execute("SELECT version, readable_by, writable_by FROM compat").fetchone()
        assert marked == version  # (a marker of another version than the file's is none)
        return int(version), int(readable), int(writable)


def _future(path: Path, readable_by: int, writable_by: int) -> None:
    """A store as a spasmwatch of schema SCHEMA_VERSION + 1 leaves it: this version's rows (round 0),
    then a step that added a column to every table and a table, and its marker; no WAL beside it."""
    with Store(path) as st:
        _write_round(st, 0)
    _widen(path)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute("CREATE TABLE later_table (id INTEGER PRIMARY KEY, what TEXT NOT NULL)")
        c.execute("INSERT INTO later_table(what) VALUES ('kept')")
        c.execute("UPDATE compat SET version = ?, readable_by = ?, writable_by = ?", (SCHEMA_VERSION + 1, readable_by, writable_by))
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        c.execute("PRAGMA journal_mode = DELETE")  # every commit in the file: its bytes say all


def _files(path: Path) -> dict[str, bytes]:
    """The store and its WAL as they are on disk (an empty WAL, which a reader of a WAL store may leave
    where there was none, holds nothing)."""
    wal = path.with_name(path.name + "-wal")
    return {p.name: p.read_bytes() for p in (path, wal) if p.exists() and p.stat().st_size}


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{tmp_path}"\n')
    return str(config)


def _readers(config: str, tmp_path: Path) -> list[list[str]]:
    """The read-only commands on the config's store ('status' asks the running daemon, not the store)."""
    since = ["--since", "2023-11-01", "--until", "2023-11-30"]
    return [
        ["events", "--config", config, *since],
        ["clusters", "--config", config, *since],
        ["summary", "--config", config, "--json", "--at", "2023-11-15T08:00"],
        ["report", "--config", config, "--out", str(tmp_path / "r.html"), "--device", DEV, *since],
        ["export", "--config", config, "--format", "csv", "--out", str(tmp_path / "e.csv"), "--device", DEV, *since],
    ]


def test_each_store_is_marked_with_the_oldest_versions_that_read_and_write_it() -> None:
    """The steps' declarations make the marker: no step lets an older version write what it cannot
    read, and none moves it below the first version that reads a marker."""
    assert all(s.readers for s in schema.STEPS if s.writers)
    assert schema.readable_by(schema.MARKER_VERSION) == schema.writable_by(schema.MARKER_VERSION) == schema.MARKER_VERSION
    assert schema.MARKER_VERSION <= schema.writable_by(SCHEMA_VERSION) and schema.readable_by(SCHEMA_VERSION) <= schema.writable_by(SCHEMA_VERSION)


def test_a_new_store_and_a_migrated_one_carry_the_marker_of_their_version(tmp_path: Path) -> None:
    """Old code: no marker table (an older spasmwatch could not tell a store it may read)."""
    new, old = tmp_path / "new.db", tmp_path / "old.db"
    Store(new).close()
    with contextlib.closing(sqlite3.connect(old, isolation_level=None)) as c:
        _db.made_at_version(c, schema.ZONES_VERSION)
    Store(old).close()
    mark = (SCHEMA_VERSION, schema.readable_by(SCHEMA_VERSION), schema.writable_by(SCHEMA_VERSION))
    assert _marker(new) == _marker(old) == mark


def test_an_older_version_reads_a_newer_store_its_marker_lets_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A family who rolled the package back, a clinic's older release: every read-only command reads
    a store a newer schema changed only by additions, and nothing of it changes. Old code: 'store
    schema version N+1 is newer than this spasmwatch supports' for every one."""
    path, plain = tmp_path / "spasmwatch.db", tmp_path / "plain.db"
    _future(path, SCHEMA_VERSION, SCHEMA_VERSION + 1)  # readable by this version, not writable
    with Store(plain) as st:
        _write_round(st, 0)
    before = _files(path)
    with Store.open_readonly(path) as newer, Store.open_readonly(plain) as same:
        assert _read_all(newer) == _read_all(same) and newer.schema_version == SCHEMA_VERSION + 1
    config = _config(tmp_path, monkeypatch)
    for command in _readers(config, tmp_path):
        assert cli.main(command) == 0, (command, capsys.readouterr().err)
    assert "cot" in capsys.readouterr().out and DEV in (tmp_path / "e.csv").read_text() and (tmp_path / "r.html").stat().st_size
    assert _files(path) == before


def test_an_older_version_writes_a_newer_store_its_marker_lets_it_write_leaving_it_newer(tmp_path: Path) -> None:
    """The daemon of this version on a store a newer one migrated by an additive step: it writes its
    rows (the newer columns NULL in them: 'not known' to the newer version), never migrates the store
    down nor lowers its marker, and leaves what it does not know as it was. Old code: refused."""
    path, plain = tmp_path / "newer.db", tmp_path / "plain.db"
    _future(path, SCHEMA_VERSION, SCHEMA_VERSION)
    with Store(plain) as st:
        _write_round(st, 0)
    for p in (path, plain):
        with Store(p) as st:
            _write_round(st, 1)
    with Store.open_readonly(path) as newer, Store.open_readonly(plain) as same:
        assert _read_all(newer) == _read_all(same)
    assert _marker(path) == (SCHEMA_VERSION + 1, SCHEMA_VERSION, SCHEMA_VERSION)
    with contextlib.closing(sqlite3.connect(path)) as c:
        assert c.execute("SELECT what FROM later_table").fetchall() == [("kept",)]
        assert c.execute("SELECT count(*), count(later_step) FROM notes").fetchone() == (2, 0)
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("writes", [True, False])
def test_a_newer_store_whose_marker_forbids_reading_is_refused_naming_both_versions_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], writes: bool
) -> None:
    """A store a step changed in a way this version cannot read: every open refused, the file and its
    WAL as they were, the message naming the store's version, this one's, the one that reads it and
    what to do."""
    path = tmp_path / "spasmwatch.db"
    _future(path, SCHEMA_VERSION + 1, SCHEMA_VERSION + 1)
    before = _files(path)
    with pytest.raises(StoreError) as ei:
        Store(path) if writes else Store.open_readonly(path)
    said = str(ei.value)
    assert f"store schema version {SCHEMA_VERSION + 1}, newer than this spasmwatch's (schema version {SCHEMA_VERSION})" in said
    assert f"cannot read it: a spasmwatch of schema version {SCHEMA_VERSION + 1} or later reads it; upgrade spasmwatch" in said
    if not writes:
        config = _config(tmp_path, monkeypatch)
        for command in _readers(config, tmp_path):
            assert cli.main(command) == 2, command
            assert "upgrade spasmwatch" in capsys.readouterr().err, command
    assert _files(path) == before


def test_a_newer_store_whose_marker_forbids_writing_is_refused_to_the_daemon_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Readable, not writable by this version: the daemon's open and 'note' (which writes) refused,
    saying that this version still reads it; nothing written."""
    path = tmp_path / "spasmwatch.db"
    _future(path, SCHEMA_VERSION, SCHEMA_VERSION + 1)
    before = _files(path)
    store = Store.may_fail(path)  # the daemon's open: it monitors without the store, trying it again
    assert store.open_error is not None and not store.reopen()
    said = str(store.open_error)
    assert f"may not write it: a spasmwatch of schema version {SCHEMA_VERSION + 1} or later writes it; upgrade spasmwatch to run the daemon" in said
    assert f"store schema version {SCHEMA_VERSION + 1}, newer than this spasmwatch's (schema version {SCHEMA_VERSION}), which reads it" in said
    assert cli.main(["note", "filmed it", "--config", _config(tmp_path, monkeypatch)]) == 2
    assert "may not write it" in capsys.readouterr().err
    with Store.open_readonly(path) as st:
        assert [n.text for n in st.notes()] == ["note 0"]
    assert _files(path) == before


def test_the_marker_s_own_store_is_refused_by_the_version_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A v15 store (the marker's own step) run through the version before it (SCHEMA_VERSION set to 14):
    no version before the marker reads one, so its marker refuses it, and a refused open writes nothing."""
    path = tmp_path / "sw.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        _db.made_at_version(c, schema.MARKER_VERSION)
        _db.mark(c, schema.MARKER_VERSION)
    before = _files(path)
    older = schema.MARKER_VERSION - 1
    monkeypatch.setattr(_db, "SCHEMA_VERSION", older)
    assert schema.readable_by(schema.MARKER_VERSION) == schema.MARKER_VERSION
    for opener in (Store, Store.open_readonly):
        with pytest.raises(StoreError, match=f"store schema version {older + 1}, newer than this spasmwatch's \\(schema version {older}\\), which cannot read it"):
            opener(path)
    assert _files(path) == before


def test_a_store_of_this_version_is_read_and_written_by_the_version_before_it_as_it_declares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This version's store run through the one before it (its SCHEMA_VERSION one lower): v17 (the
    mutes table) changed nothing that version reads or writes, nor did v16 (clusters never giving an id
    twice, an index of the syncs), and they declare so: it reads the store and writes it (a cluster
    too, numbered by SQLite as v16's are), its version and marker left as they are: readable and
    writable back to v15, the marker's own."""
    path, plain = tmp_path / "sw.db", tmp_path / "plain.db"
    for p in (path, plain):
        with Store(p) as st:
            _write_round(st, 0)
    monkeypatch.setattr(_db, "SCHEMA_VERSION", SCHEMA_VERSION - 1)
    assert (schema.readable_by(SCHEMA_VERSION), schema.writable_by(SCHEMA_VERSION)) == (schema.MARKER_VERSION, schema.MARKER_VERSION)
    with Store(path) as st:
        _write_round(st, 1)
    monkeypatch.undo()
    with Store(plain) as st:
        _write_round(st, 1)
    with Store.open_readonly(path) as older, Store.open_readonly(plain) as same:
        assert _read_all(older) == _read_all(same)
    assert _marker(path) == (SCHEMA_VERSION, schema.MARKER_VERSION, schema.MARKER_VERSION)


@pytest.mark.parametrize("may_write", [True, False])
def test_a_store_migrated_under_a_running_writer_is_written_only_if_its_new_marker_lets_it(tmp_path: Path, may_write: bool) -> None:
    """A newer spasmwatch's 'note' (or 'treatment add') migrates the store while this version's daemon
    runs on it (the package upgraded, the daemon not restarted yet): each write transaction asks the
    store's version again, and the marker when it is newer. Old code: the daemon went on writing a
    store whose marker says it may not."""
    path = tmp_path / "sw.db"
    with Store(path) as st:
        _write_round(st, 0)
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as newer:  # the newer version's migration
            newer.execute("BEGIN IMMEDIATE")
            newer.execute("ALTER TABLE notes ADD COLUMN later_step TEXT")
            writable = SCHEMA_VERSION if may_write else SCHEMA_VERSION + 1
            newer.execute("UPDATE compat SET version = ?, readable_by = ?, writable_by = ?", (SCHEMA_VERSION + 1, SCHEMA_VERSION, writable))
            newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
            newer.execute("COMMIT")
        if may_write:
            st.add_note(T0, "note", "after the upgrade")
        else:
            with pytest.raises(StoreError, match=f"may not write it: a spasmwatch of schema version {SCHEMA_VERSION + 1} or later writes it"):
                st.add_note(T0, "note", "after the upgrade")
        assert [n.text for n in st.notes()] == ["note 0"] + (["after the upgrade"] if may_write else [])
    assert _marker(path) == (SCHEMA_VERSION + 1, SCHEMA_VERSION, SCHEMA_VERSION if may_write else SCHEMA_VERSION + 1)


@pytest.mark.parametrize(
    "readable, writable",
    [("abc", SCHEMA_VERSION), (SCHEMA_VERSION, "15x"), (SCHEMA_VERSION, SCHEMA_VERSION + 0.5), (1, 1),
     (SCHEMA_VERSION, SCHEMA_VERSION - 1), (SCHEMA_VERSION, SCHEMA_VERSION + 2)],
)  # fmt: skip
def test_a_newer_store_whose_marker_is_not_one_a_spasmwatch_writes_is_refused_as_unmarked(
    tmp_path: Path, readable: object, writable: object
) -> None:
    """A marker no migration writes (text, a fraction, below the first version that reads markers,
    readable by one that may not write it, writable by one newer than the store: a row written by
    hand, a bad sector's bytes) is no marker: the store is its version's alone, refused as a
    StoreError (the daemon monitors without it). Old code: ValueError out of every open (the daemon's
    start with it: a traceback, no monitoring), or the store read and written on the row's word."""
    path = tmp_path / "spasmwatch.db"
    _future(path, SCHEMA_VERSION, SCHEMA_VERSION)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute("UPDATE compat SET readable_by = ?, writable_by = ?", (readable, writable))
    before = _files(path)
    unmarked = f"which cannot read it: a spasmwatch of schema version {SCHEMA_VERSION + 1} or later reads it"
    for opener in (Store, Store.open_readonly):
        with pytest.raises(StoreError, match=unmarked):
            opener(path)
    store = Store.may_fail(path)
    assert store.open_error is not None and unmarked in str(store.open_error)
    assert _files(path) == before


def test_a_store_given_a_marker_no_spasmwatch_writes_under_a_running_writer_refuses_its_writes(tmp_path: Path) -> None:
    """The write transaction's re-read of the version (``check_writable``) takes such a marker as none
    too: a StoreError the daemon tells the family, rolled back. Old code: ValueError out of the write
    (the daemon's ``_stored`` takes StoreErrors only)."""
    path = tmp_path / "sw.db"
    with Store(path) as st:
        _write_round(st, 0)
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("UPDATE compat SET version = ?, readable_by = 'abc'", (SCHEMA_VERSION + 1,))
            other.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        with pytest.raises(StoreError, match="which cannot read it"):
            st.add_note(T0, "note", "after the row went bad")
        assert [n.text for n in st.notes()] == ["note 0"]


def test_a_newer_stores_own_trigger_is_neither_dropped_nor_named_by_this_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A newer spasmwatch's store (writable by this one) with a trigger on events: the newer version's
    own, perhaps. This version's open writes a newer store as it finds it (no step, _db.migrate), so it
    drops none of its objects (shape.foreign, _db._drop_foreign: this version's stores alone), and
    'store check' does not say the daemon drops it (found by review of that change: it said so)."""
    path = tmp_path / "sw.db"
    _future(path, SCHEMA_VERSION, SCHEMA_VERSION)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        c.execute("CREATE TRIGGER later_trigger AFTER INSERT ON later_table BEGIN SELECT 1; END")
        c.execute("CREATE TRIGGER later_events AFTER INSERT ON events BEGIN INSERT INTO later_table(what) VALUES ('seen'); END")
    assert cli.main(["store", "check", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "later_events" not in out, out
    with Store(path) as st:
        st.add_events(DEV, [_event(900)])
    with contextlib.closing(sqlite3.connect(path)) as c:
        assert c.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] == 2
        assert c.execute("SELECT count(*) FROM later_table WHERE what = 'seen'").fetchone()[0] == 1


@pytest.mark.parametrize(
    "writable_by, may", [(SCHEMA_VERSION, "this spasmwatch reads and writes it as it is"),
                         (SCHEMA_VERSION + 1, f"this spasmwatch reads it but may not write it: a spasmwatch of schema version {SCHEMA_VERSION + 1} or later does")],
    ids=["writable", "read-only"],
)  # fmt: skip
def test_store_check_on_a_newer_store_says_it_is_newer_and_calls_none_of_its_columns_hand_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], writable_by: int, may: str
) -> None:
    """A newer spasmwatch's store: its step added a column to every table (and a table). Old code:
    'store check' said 'ok (column later_step of table activity, ... added by hand: not spasmwatch's,
    read and written by no spasmwatch, kept as they are)', 23 columns of that version's called
    hand-made. Now it says the store is a newer spasmwatch's, that what this version does not know
    in it is that version's, and what its marker lets this version do."""
    path = tmp_path / "sw.db"
    _future(path, SCHEMA_VERSION, writable_by)
    capsys.readouterr()
    assert cli.main(["store", "check", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "by hand" not in out and "later_step" not in out, out
    assert out == (f"{path}: ok (store schema version {SCHEMA_VERSION + 1}, a newer spasmwatch's than this one (schema version "
                   f"{SCHEMA_VERSION}): its tables and columns this version does not know are that version's, kept as they are; "
                   f"{may})\n"), out  # fmt: skip
