"""The record of the stores the daemon opened, ``stores-opened.json`` (store/known.py; docs/store.md,
"A store on a disk not mounted yet"): written by the daemon and by the CLI's commands at the same
time, it loses no store; one that cannot be read is an error naming it, and is never written over
(its stores forgotten, a store on a disk not mounted yet would be made again, empty). Real files,
real processes."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spasmwatch.store import KnownStores, Store, StoreMissing

WRITERS, STORES_EACH = 4, 30


def _records(record: Path, writer: int, start: multiprocessing.synchronize.Barrier) -> None:
    """One process's writes: the daemon's ``remember`` and a command's ``adopt``, interleaved."""
    known = KnownStores(record)
    start.wait()
    for i in range(STORES_EACH):
        known.remember(Path(f"/disk{writer}/remembered{i}.db"), f"r{writer}-{i}")
        known.adopt(Path(f"/disk{writer}/adopted{i}.db"), f"a{writer}-{i}")


def test_writers_at_the_same_time_lose_no_store(tmp_path: Path) -> None:
    """The daemon and the CLI's commands (note, treatment add, store adopt, store recover) write the
    record at the same time. Old code: each read it, then replaced it with what it read plus its own
    store, with no lock: a store another process recorded meanwhile was dropped (lost updates), and
    a store on a disk not mounted yet could then be made again, empty, at its path."""
    record = tmp_path / "state" / "stores-opened.json"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(WRITERS)
    procs = [ctx.Process(target=_records, args=(record, w, start)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    kept = {e["path"]: e["id"] for e in json.loads(record.read_text())}
    expected = {f"/disk{w}/{kind}{i}.db": f"{kind[0]}{w}-{i}" for w in range(WRITERS) for i in range(STORES_EACH) for kind in ("remembered", "adopted")}
    missing = sorted(set(expected) - set(kept))
    assert not missing, f"{len(missing)} of {len(expected)} stores lost: {missing[:5]}"
    assert kept == expected
    assert sorted(f.name for f in record.parent.iterdir()) == ["stores-opened.json", "stores-opened.json.lock"]  # no temporary file left


def test_a_record_on_a_file_system_without_locks_is_written_unlocked_and_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the hostile review: a home on NFS with no lock daemon refuses flock (ENOLCK; some
    FUSE and SMB mounts EOPNOTSUPP). The lock that guards concurrent writers then stopped every
    write: the daemon said 'cannot be written' at each open and recorded no store (a store on a disk
    not mounted yet made again, empty, in its place), and 'store adopt' and 'store new' failed. Now
    the record is written without the lock, said once. The kernel's refusal is put in flock's place
    (this machine's file systems all lock); the record, its files and the writes are real."""

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    caplog.set_level(logging.WARNING, logger="spasmwatch.store.known")
    known = KnownStores(tmp_path / "state" / "stores-opened.json")
    known.adopt(Path("/media/usb/spasmwatch.db"), "a1")  # old code: OSError, 'the daemon does not take it'
    known.remember(Path("/media/sd/spasmwatch.db"), "r1")  # old code: said, not recorded
    known.remember(Path("/media/sd2/spasmwatch.db"), "r2")
    assert json.loads(known.path.read_text()) == [
        {"path": "/media/usb/spasmwatch.db", "id": "a1"}, {"path": "/media/sd/spasmwatch.db", "id": "r1"},
        {"path": "/media/sd2/spasmwatch.db", "id": "r2"},
    ]  # fmt: skip
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith(f"{known.path}: its lock cannot be taken ({os.strerror(errno.ENOLCK)})"), said


UNREADABLE = {
    "cut short": b'[\n{"path": "/media/usb/spasmwatch.db", "id": "b7f5',
    "not a list": b'{"path": "/media/usb/spasmwatch.db", "id": "b7f5"}',
    "an entry of another shape": b'[{"path": "/media/usb/spasmwatch.db", "id": "b7f5"}, {"where": "/media/sd/spasmwatch.db"}]',
    "not UTF-8": b'[{"path": "/media/usb/\xff.db", "id": null}]',
    # (no file has such a path: resolving it, os.path.realpath raised ValueError, out of the daemon's start)
    "a path with a NUL": b'[{"path": "/media/usb/spasm\\u0000watch.db", "id": null}]',
    "a bare path with a NUL": b'["/media/usb/spasm\\u0000watch.db"]',
    # (hostile-input review: past Python's recursion limit, a RecursionError out of the daemon's start)
    "nested too deeply": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("content", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_record_that_cannot_be_read_is_said_and_kept_not_written_over(tmp_path: Path, content: bytes) -> None:
    """Old code: a warning in the log, then read as no store at all: the store opened and the record
    was written over with that one store, every other forgotten (a store on a disk not mounted yet
    was then made again, empty, at its path)."""
    known = KnownStores.default()
    known.path.parent.mkdir(parents=True)
    known.path.write_bytes(content)
    path = tmp_path / "disk" / "spasmwatch.db"
    with Store.may_fail(path, known) as store:
        e = store.open_error
        assert isinstance(e, StoreMissing), e
        assert str(e).startswith(f"{known.path} cannot be read (") and "no store is made until it can be" in str(e), e
        assert not store.reopen()
    assert not path.parent.exists()  # nothing made
    assert known.path.read_bytes() == content


def test_a_store_that_is_there_opens_and_keeps_events_with_a_record_that_cannot_be_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The record only guards against making a store where a disk is not mounted: a store that is
    there opens, as before the record, and the record is left as it is (said in the log)."""
    path = tmp_path / "disk" / "spasmwatch.db"
    Store(path).close()
    known = KnownStores.default()
    known.path.parent.mkdir(parents=True, exist_ok=True)
    known.path.write_bytes(UNREADABLE["not a list"])
    with Store.may_fail(path, known) as store:
        assert store.open_error is None, store.open_error
        store.add_note(1_000_000.0, "note", "kept")
    with Store(path) as again:
        assert [n.text for n in again.notes()] == ["kept"]
    assert known.path.read_bytes() == UNREADABLE["not a list"]
    assert f"{known.path} cannot be read (" in caplog.text


def test_store_adopt_with_a_record_that_cannot_be_read_names_it_and_keeps_it(tmp_path: Path) -> None:
    """Old code: 'adopted', the record written over with that one store."""
    path = tmp_path / "disk" / "spasmwatch.db"
    Store(path).close()
    known = KnownStores.default()
    known.path.parent.mkdir(parents=True)
    known.path.write_bytes(UNREADABLE["cut short"])
    adopted = subprocess.run([sys.executable, "-m", "spasmwatch", "store", "adopt", "--db", str(path)], capture_output=True, text=True, timeout=60)
    assert adopted.returncode != 0 and f"{known.path} cannot be read (" in adopted.stderr, adopted.stderr
    assert "Traceback" not in adopted.stderr, adopted.stderr
    assert known.path.read_bytes() == UNREADABLE["cut short"]


def test_a_record_that_is_a_folder_is_said(tmp_path: Path) -> None:
    """Not a file at all (an OSError reading it, as one this account may not read): said the same way."""
    known = KnownStores.default()
    known.path.mkdir(parents=True)
    with Store.may_fail(tmp_path / "disk" / "spasmwatch.db", known) as store:
        assert isinstance(store.open_error, StoreMissing) and str(store.open_error).startswith(f"{known.path} cannot be read ("), store.open_error
