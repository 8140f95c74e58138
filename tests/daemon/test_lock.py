"""The store's lock (daemon/lock.py) as the CLI reads it: where the daemon listens (line 3), and
when the file's [daemon.http] differs from it, said once (commands/_daemon.py ``daemon_config_of``).

Real parts: the lock taken by ``one_daemon`` in this process (an flock, as the daemon takes it;
a second open of the file sees it held), config files on disk. The daemon itself, and the
commands against it, in test_reload_command.py (an edited port)."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from daemonproc import UP_S

from spasmwatch.commands._daemon import daemon_config_of
from spasmwatch.daemon.lock import LockHolder, lock_holder, lock_path, one_daemon


def _file(tmp: Path, http: str, name: str = "config.toml") -> Path:
    path = tmp / name
    path.write_text(f"[daemon.http]\n{http}\n")
    return path


def test_the_lock_says_where_the_daemon_listens_once_it_does(tmp_path: Path) -> None:
    store, config = tmp_path / "spasmwatch.db", tmp_path / "config.toml"
    assert lock_holder(store) is None  # never taken
    with one_daemon(store, config) as lock:
        assert lock_holder(store) == LockHolder(os.getpid(), str(config), None)  # the web server not up yet
        lock.serving("::1", 8765)  # IPv6: the port is after the last ':'
        assert lock_holder(store) == LockHolder(os.getpid(), str(config), ("::1", 8765))
        assert lock_path(store).read_text() == f"{os.getpid()}\n{config}\n::1:8765\n"  # readable by a person; no token
        with open(lock_path(store), "a") as f:  # a line 3 read before its end is written: not an address
            f.truncate(0)
            f.write(f"{os.getpid()}\n{config}\n127.0.0.1:87")
        assert lock_holder(store) == LockHolder(os.getpid(), str(config), None)
    assert lock_holder(store) is None  # released: what it says is a stopped daemon's


@pytest.mark.parametrize(
    ("http", "bound", "note"),
    [
        ('host = "localhost"\nport = 41234', "127.0.0.1", ""),  # a name for the address it bound: no edit
        ('lan = true\ntoken = "0123456789abcdef0123"\nport = 41234', "0.0.0.0", ""),  # lan: every interface
        ('host = "::1"\nport = 41234', "127.0.0.1", "host ::1"),
        ('host = "127.0.0.2"\nport = 41235', "127.0.0.1", "host 127.0.0.2 and port 41235"),
    ],
)
def test_the_cli_reaches_the_daemon_where_its_lock_says_and_names_an_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], http: str, bound: str, note: str
) -> None:
    monkeypatch.setenv("SPASMWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # no service installed: the hand-started daemon's restart
    config = _file(tmp_path, http)
    args = argparse.Namespace(config=config)
    port = int(http.rpartition("= ")[2])
    assert daemon_config_of(args).daemon.http.port == port  # no daemon: the file's, as before
    with one_daemon(tmp_path / "spasmwatch.db", config) as lock:
        assert daemon_config_of(args).daemon.http.port == port  # a daemon from before the address (two lines): the same
        lock.serving(bound, 41234)
        capsys.readouterr()
        h = daemon_config_of(args).daemon.http
        assert (h.host, h.port) == (bound, 41234)
        assert h.token == ("0123456789abcdef0123" if "token" in http else "")  # the file's, always
        said = capsys.readouterr().err
        assert said == (f"spasmwatch: reaching the daemon (pid {os.getpid()}) where it listens, {bound}:41234: [daemon.http] {note} "
                        "in config.toml is applied at its next start: next: stop 'spasmwatch run' (Ctrl+C) and start it again\n"
                        if note else ""), said  # fmt: skip


def test_a_daemon_started_from_another_file_is_reached_and_said_not_to_read_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPASMWATCH_DATA_DIR", str(tmp_path))
    mine, theirs = _file(tmp_path, "port = 41235"), _file(tmp_path, "port = 41234", "other.toml")
    with one_daemon(tmp_path / "spasmwatch.db", theirs) as lock:
        lock.serving("127.0.0.1", 41234)
        assert daemon_config_of(argparse.Namespace(config=mine)).daemon.http.port == 41234
    assert capsys.readouterr().err == (f"spasmwatch: reaching the daemon (pid {os.getpid()}) where it listens, 127.0.0.1:41234: "
                                       f"it was started from {theirs}, not {mine}, whose [daemon.http] port 41235 it does not read\n")  # fmt: skip


def test_a_flock_is_found_by_its_file_systems_device_and_never_by_an_inode_number_alone(tmp_path: Path) -> None:
    """``_flocked``: the kernel's list of flocks names a file by its file system's device (the
    superblock's, mountinfo's field 3) and inode. Found by the second cliedges review on a real
    btrfs (loop-mounted, Debian 12's kernel): stat gives a subvolume's own device (00:29, a
    subvolume 00:2a) while /proc/locks says the file system's (00:28), so another account's
    daemon holding the lock was never found there and a second ran beside it (Fedora's default
    file system). A lock on another file system with the same inode number is not this one.
    The file and its flock are real; /proc/locks and mountinfo are given as btrfs writes them."""
    from spasmwatch.daemon.lock import _flocked

    lock = tmp_path / "spasmwatch.db.lock"
    lock.write_text("")
    st = lock.stat()
    stat_dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}"
    mountinfo, locks = tmp_path / "mountinfo", tmp_path / "locks"
    mountinfo.write_text(f"22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                         f"99 22 0:40 /sub {str(tmp_path).replace(' ', chr(92) + '040')} rw shared:50 - btrfs /dev/loop0 rw\n")  # fmt: skip
    other_fs = "00:27" if stat_dev != "00:27" else "00:26"
    # A holder no process can be (over pid_max): matched by the file system's device alone, a live
    # process whose command line does not name spasmwatch is not taken (the next test), and 4242,
    # first used here, was at times another test's `tail`.
    gone = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    locks.write_text(f"1: FLOCK  ADVISORY  WRITE 777 {other_fs}:{st.st_ino} 0 EOF\n"  # another file system, the same inode number
                     f"2: POSIX  ADVISORY  WRITE 778 00:28:{st.st_ino} 0 EOF\n"  # not a flock
                     f"3: FLOCK  ADVISORY  WRITE {gone} 00:28:{st.st_ino} 0 EOF\n")  # fmt: skip
    assert _flocked(lock, locks, mountinfo) == gone  # 0:40 in mountinfo (decimal) is 00:28 in /proc/locks (hex)
    locks.write_text(f"1: FLOCK  ADVISORY  WRITE 777 {other_fs}:{st.st_ino} 0 EOF\n")
    assert _flocked(lock, locks, mountinfo) is None
    locks.write_text(f"1: FLOCK  ADVISORY  WRITE 779 {stat_dev}:{st.st_ino} 0 EOF\n")  # by stat's device, as on ext4
    assert _flocked(lock, locks, mountinfo) == 779
    with one_daemon(tmp_path / "spasmwatch.db"):  # the real list: this process's own flock on the file
        assert _flocked(lock) == os.getpid()


def test_a_flock_matched_by_the_file_systems_device_alone_is_another_programs_when_its_command_says_so(tmp_path: Path) -> None:
    """btrfs subvolumes reuse inode numbers and /proc/locks names every one by the file system's
    device: a flock an unrelated program holds on a same-numbered file of another subvolume was
    taken for another account's daemon, and the start refused (nothing monitored). Matched by that
    device alone, a holder whose command line does not name spasmwatch is not one; one that does,
    or whose command line cannot be read, still is. Old code: the unrelated holder's pid."""
    from spasmwatch.daemon.lock import _flocked

    lock = tmp_path / "spasmwatch.db.lock"
    lock.write_text("")
    st = lock.stat()
    mountinfo, locks = tmp_path / "mountinfo", tmp_path / "locks"
    fs_dev = "0:40" if st.st_dev != os.makedev(0, 40) else "0:41"  # (not stat's own: matched by the file system's alone)
    mountinfo.write_text(f"99 1 {fs_dev} /sub {tmp_path} rw shared:50 - btrfs /dev/loop0 rw\n")
    said = "{:02x}:{:02x}".format(*map(int, fs_dev.split(":")))
    wait = "import sys; print('up', flush=True); sys.stdin.read()"
    other = subprocess.Popen([sys.executable, "-c", wait], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ours = subprocess.Popen([sys.executable, "-c", wait, "spasmwatch", "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for proc in (other, ours):  # running: just after exec its command line may still read empty (seen under load)
            assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
        locks.write_text(f"1: FLOCK  ADVISORY  WRITE {other.pid} {said}:{st.st_ino} 0 EOF\n")
        assert _flocked(lock, locks, mountinfo) is None
        locks.write_text(f"1: FLOCK  ADVISORY  WRITE {ours.pid} {said}:{st.st_ino} 0 EOF\n")
        assert _flocked(lock, locks, mountinfo) == ours.pid
    finally:
        for proc in (other, ours):
            proc.communicate(b"")


def test_a_release_does_not_wait_for_a_write_of_the_lock_s_lines_that_hangs(tmp_path: Path) -> None:
    """The stop's release of the lock while a write of its lines hangs (a stalled disk; ``serving``,
    from a thread here: ``take`` writes them in the store's try again, a worker thread) returns;
    old code: the write was made holding the mutex the release takes, and the daemon's exit waited
    for it (killed by systemd). The lock's file is swapped for a full pipe no program reads, the
    one stand-in: a write to it never returns, as on the stalled disk; drained at the end."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, b"x" * 65536)
    os.set_blocking(write_end, True)
    with one_daemon(tmp_path / "spasmwatch.db", None) as lock:
        os.dup2(write_end, lock._held[0][1].fileno())  # the lock's file, stalled
        writing = threading.Thread(target=lock.serving, args=("127.0.0.1", 8080), daemon=True)
        try:
            writing.start()
            end = time.monotonic() + UP_S  # a hang guard
            while not _writing_to_a_pipe(writing):
                assert writing.is_alive() and time.monotonic() < end, "the write did not hang"
                time.sleep(0.05)
            released = threading.Thread(target=lock.release, daemon=True)
            released.start()
            released.join(UP_S)  # a hang guard: the release takes no time
            assert not released.is_alive(), "the release waited for the write"
        finally:
            os.set_blocking(read_end, False)
            while writing.is_alive():  # the disk back: the write ends
                with contextlib.suppress(BlockingIOError):
                    os.read(read_end, 65536)
                writing.join(0.05)
            os.close(read_end)
            os.close(write_end)


def test_a_release_while_a_write_of_the_lock_s_lines_is_under_way_lets_go_of_the_lock_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop's release while a write of the lock's lines is under way (``serving``; ``take`` in the
    store's try again, a worker thread) returns at once, and the lock is let go when that write ends,
    not before: the write's copies of the file's descriptor share its open file, whose flock they keep.
    A daemon started meanwhile is refused; one started after finds the file its own, never its lines
    written over by the stopped one's late write (as a release that let go of the flock at once, or a
    write by the descriptor's number, would: pid, config and address a stopped daemon's, its pid
    maybe another process's by then). Pinned by the hostile review of 2026-12-07 (DaemonLock, "a
    single writer thread would be simpler": such a thread keeps this too or is wrong); the real file
    and flocks, the write held at its start by a gate (a stalled disk's stand-in), then let through."""
    from spasmwatch.daemon import lock as lock_mod
    from spasmwatch.daemon.lock import StoreInUse

    store, config = tmp_path / "spasmwatch.db", tmp_path / "config.toml"
    started, gate = threading.Event(), threading.Event()
    write_each = lock_mod._write_each

    def stalled(fds: list[int], data: bytes, truncate: bool) -> OSError | None:
        started.set()
        gate.wait(UP_S)  # (a hang guard)
        return write_each(fds, data, truncate)

    with one_daemon(store, config) as lock:
        monkeypatch.setattr(lock_mod, "_write_each", stalled)
        writing = threading.Thread(target=lock.serving, args=("127.0.0.1", 8080), daemon=True)
        writing.start()
        assert started.wait(UP_S), "the write did not start"
        lock.release()  # (returns: the write holds no lock of the release's)
        with pytest.raises(StoreInUse), one_daemon(store, None):
            pass
        gate.set()
        writing.join(UP_S)
        assert not writing.is_alive()
    monkeypatch.undo()
    with one_daemon(store, None) as second:
        second.serving("127.0.0.1", 9090)
        assert lock_path(store).read_text() == f"{os.getpid()}\n\n127.0.0.1:9090\n"


def _writing_to_a_pipe(thread: threading.Thread) -> bool:
    """Whether ``thread`` waits in a write to a full pipe (its wchan, as the kernel says)."""
    wchan = Path(f"/proc/self/task/{thread.native_id}/wchan").read_text()
    return wchan.endswith("pipe_write") or wchan == "pipe_wait_writable"  # (anon_pipe_write since Linux 6.x)
