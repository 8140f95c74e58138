"""The service's start on a store an upgrade must copy and migrate first (docs/store.md "The copy before
an upgrade", docs/host.md "Running as a service"): 'spasmwatch run' in a process of its own, systemd's
notify socket played by a real AF_UNIX datagram socket. While the copy and the migration go on before
READY=1, the daemon extends systemd's start timeout (EXTEND_TIMEOUT_USEC=) and says what it does
(STATUS=) with its progress; a store that needs neither gets none of it. A daemon killed (SIGKILL, as
systemd's start timeout does) in the middle of the copy starts again cleanly: no half copy kept or listed,
the store migrated, no row lost; so does one killed in the middle of the migration."""

from __future__ import annotations

import contextlib
import hashlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daemonproc import UP_S, notify_socket, one_band_config
from servers import free_port

from spasmwatch.store import Store, _db, schema
from spasmwatch.store import backup as B

OLD = 13  # a released schema version the current one migrates from (its copy first)
DEV = "upgr0002"
NOTE_BYTES = 1 << 20  # each note's text: the store's size is made by them (a copy long enough to be cut in)


def _old_store(path: Path, notes: int, clusters: int = 0) -> None:
    """A store as spasmwatch wrote it at schema OLD (its first migrations), holding a band, its events,
    ``notes`` notes of NOTE_BYTES each (the store about ``notes`` MB) and ``clusters`` clusters."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        _db.made_at_version(c, OLD)
        c.execute("BEGIN")
        c.execute("INSERT INTO devices(device_id, name, transport, first_seen_wall_s, last_seen_wall_s) VALUES (?, 'crib', 'sim', 1.0, 1.0)",
                  (DEV,))  # fmt: skip
        c.executemany("INSERT INTO events(device, boot, seq, onset_ms, duration_ms, peak_rate_mrads, peak_angle_mrad, confidence, flags, "
                      "wall_t, received_wall_s) VALUES (?, 1, ?, ?, 900, 2000, 300, 80, 0, ?, 2.0)",
                      [(DEV, seq, 1000 * seq, 1000.0 + seq) for seq in range(500)])  # fmt: skip
        c.executemany("INSERT INTO notes(wall_s, kind, text) VALUES (?, 'note', ?)",
                      [(1000.0 + i, f"{i:08d}" * (NOTE_BYTES // 8)) for i in range(notes)])  # fmt: skip
        c.executemany("INSERT INTO clusters(device, key, start_t, end_t, count, alert_t, post_wake_s, closed, updated_wall_s) "
                      "VALUES (?, ?, ?, ?, 3, NULL, NULL, 1, 2.0)", [(DEV, f"k{i}", 10.0 * i, 10.0 * i + 5) for i in range(clusters)])  # fmt: skip
        c.execute("COMMIT")


def _rows(path: Path, table: str) -> str:
    """The SHA-256 of ``table``'s rows at ``path`` (read-only), in rowid order."""
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        return hashlib.sha256(repr(c.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()).encode()).hexdigest()


def _version(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        return int(c.execute("PRAGMA user_version").fetchone()[0])


def _start(tmp_path: Path, log: Path) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """'spasmwatch run' on the store in ``tmp_path``/data, under a notify socket the test reads."""
    config = tmp_path / "config.toml"
    if not config.exists():
        one_band_config(config, tmp_path / "data", free_port())
    (tmp_path / "notify").unlink(missing_ok=True)
    notify, env = notify_socket(tmp_path)
    with open(log, "a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], stdout=out, stderr=out, env=env)
    return proc, notify


def _until(notify: socket.socket, proc: subprocess.Popen[bytes], log: Path, done: str) -> list[str]:
    """Every notify message until one with the line starting ``done`` (a daemon that ends first, or none
    within UP_S, fails the test with its log)."""
    said: list[str] = []
    end = time.monotonic() + UP_S
    while not any(line.startswith(done) for m in said for line in m.split("\n")):
        assert proc.poll() is None and time.monotonic() < end, f"no {done}: {said}\n{log.read_text()}"
        notify.settimeout(max(0.01, min(0.5, end - time.monotonic())))
        with contextlib.suppress(TimeoutError):
            said.append(notify.recv(65536).decode())
    return said


def _stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(UP_S) == 0, log.read_text()


def test_the_copy_and_migration_before_ready_extend_the_start_timeout_with_progress_and_a_current_store_gets_none(tmp_path: Path) -> None:
    """Found by the start review h48: the copy before an upgrade and the migration run before READY=1, in
    systemd's start timeout (TimeoutStartSec, 90 s by default; the unit sets none). A year's store copied on
    an SD card (~30 s, more on a slow card or a bigger store) could pass it: systemd killed the daemon
    mid-copy and restarted it (Restart=always), which began the copy again: a loop, no band monitored. Old
    code: nothing sent before READY=1. Now EXTEND_TIMEOUT_USEC= with each STATUS= of the copy's progress
    (MB), of its check and of the migration's steps; and nothing of it at the next start, the store current."""
    store = tmp_path / "data" / "spasmwatch.db"
    _old_store(store, notes=40)
    mb = f"{store.stat().st_size / 1e6:.0f}"
    log = tmp_path / "daemon.log"
    proc, notify = _start(tmp_path, log)
    said = _until(notify, proc, log, "READY=1")
    before = said[: next(i for i, m in enumerate(said) if "READY=1" in m.split("\n"))]
    extends = [m for m in before if any(line.startswith("EXTEND_TIMEOUT_USEC=") for line in m.split("\n"))]
    assert extends and all(m.startswith("EXTEND_TIMEOUT_USEC=60000000\nSTATUS=") for m in extends), before
    statuses = [m.split("\nSTATUS=", 1)[1] for m in extends]
    # Each step told at once as it begins (its progress at most every START_TELL_EVERY_S after: this copy is quicker).
    told = [re.sub(r"\d+ of", "N of", s) for s in statuses]
    steps = [s for i, s in enumerate(told) if i == 0 or told[i - 1] != s]  # (a step longer than that on a loaded machine: told again)
    assert steps == [
        f"Checking the store before its upgrade: N of {mb} MB read (the monitor starts once it is done)",
        f"Copying the store before its upgrade: N of {mb} MB (the monitor starts once it is done)",
        f"Checking the copy of the store made before its upgrade: N of {mb} MB read (the monitor starts once it is done)",
        f"Upgrading the store: step N of {schema.SCHEMA_VERSION - OLD} (the monitor starts once it is done)",
    ], statuses
    copied = int(statuses[1].split(": ")[1].split(" of ")[0])
    assert 0 < copied <= int(mb), statuses  # (the MB copied after the copy's first step)
    _stop(proc, log)
    assert _version(store) == schema.SCHEMA_VERSION and B.before_upgrades(store) == [store.parent / "spasmwatch.db.backups" / f"before-upgrade-v{OLD}.db"]

    proc, notify = _start(tmp_path, log)  # the store current now: its open copies and migrates nothing
    said = _until(notify, proc, log, "READY=1")
    assert not [m for m in said if "EXTEND_TIMEOUT_USEC=" in m], said
    _stop(proc, log)


def test_a_daemon_killed_in_the_middle_of_the_copy_starts_again_copies_migrates_and_loses_nothing(tmp_path: Path) -> None:
    """systemd's start timeout ends the daemon by SIGKILL (after SIGTERM, which the open does not take):
    killed while the copy before the upgrade is written, its next start must find the store at its old
    version, whole, keep no half copy as the way back (nor list one in 'store backups'), and copy and
    migrate it then, every row kept."""
    store = tmp_path / "data" / "spasmwatch.db"
    _old_store(store, notes=200)
    events, notes = _rows(store, "events"), _rows(store, "notes")
    log = tmp_path / "daemon.log"
    proc, notify = _start(tmp_path, log)
    _until(notify, proc, log, "STATUS=Copying the store before its upgrade: ")
    proc.kill()
    assert proc.wait(UP_S) == -signal.SIGKILL
    kept = store.parent / "spasmwatch.db.backups"
    assert (kept / B.PARTIAL_BEFORE_UPGRADE).exists() and B.before_upgrades(store) == [], list(kept.iterdir())  # (killed in the copy)
    assert _version(store) == OLD
    listing = subprocess.run([sys.executable, "-m", "spasmwatch", "store", "backups", "--db", str(store)], capture_output=True, text=True, timeout=UP_S)
    assert listing.returncode == 0 and "kept before an upgrade" not in listing.stdout and "partial" not in listing.stdout, listing

    proc, notify = _start(tmp_path, log)
    _until(notify, proc, log, "READY=1")
    _stop(proc, log)
    copy = kept / f"before-upgrade-v{OLD}.db"
    assert sorted(p.name for p in kept.iterdir()) == [copy.name], "no partial copy nor its journal left"
    assert _version(store) == schema.SCHEMA_VERSION and _version(copy) == OLD
    assert (_rows(store, "events"), _rows(store, "notes")) == (events, notes) == (_rows(copy, "events"), _rows(copy, "notes"))
    with Store.open_readonly(store) as st:
        assert st.schema_version == schema.SCHEMA_VERSION


# A process opening the store as the daemon does, killed (SIGKILL) at the ``call``-th telling of schema step
# ``step`` (0: the first): the telling at the block's start, inside the step's transaction, or one from SQLite's
# progress handler in the middle of its statements (the remade clusters table: 200,000 rows copied).
_KILLED_IN_STEP = """
import os, signal, sys
from pathlib import Path
from spasmwatch.store import Store, _db
step, call, calls = int(sys.argv[2]), int(sys.argv[3]), []
def told(what, done, total):
    if what == _db.MIGRATING and done == step:
        calls.append(done)
        if len(calls) == call:
            os.kill(os.getpid(), signal.SIGKILL)
Store(Path(sys.argv[1]), later=True, progress=told)
"""


@pytest.mark.parametrize(("step", "call"), [(0, 1), (2, 2)])
def test_an_open_killed_in_the_middle_of_the_migration_leaves_the_store_at_its_last_whole_step_and_the_next_one_ends_it(
    tmp_path: Path, step: int, call: int
) -> None:
    """Each schema step is one transaction with its version (_db._steps): a kill inside one (at its start,
    or in the middle of its statements: the v16 step's 200,000 clusters being copied into the table made
    again) leaves the store at the version of the last step committed, every row there; the next open goes
    on from there, the rows the same once current."""
    store = tmp_path / "spasmwatch.db"
    _old_store(store, notes=1, clusters=200_000)
    rows = {t: _rows(store, t) for t in ("events", "notes", "clusters")}
    killed = subprocess.run([sys.executable, "-c", _KILLED_IN_STEP, str(store), str(step), str(call)], capture_output=True, text=True, timeout=UP_S)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _version(store) == OLD + step and {t: _rows(store, t) for t in rows} == rows
    with Store(store) as st:
        assert st.schema_version == schema.SCHEMA_VERSION
    assert {t: _rows(store, t) for t in rows} == rows
    kept = sorted(p.name for p in (tmp_path / "spasmwatch.db.backups").iterdir())
    assert kept == sorted({f"before-upgrade-v{OLD}.db", f"before-upgrade-v{OLD + step}.db"}), kept  # (each at its version: no half copy)
