"""``spasmwatch run`` on a data folder this user may not write: one of root's (mode 0755, a
data_dir of /var/lib), or the user's own with the store and lock a 'sudo spasmwatch run' left
root's. It monitors without its store, its lock in the runtime folder, as on a disk mounted
read-only (test_read_only_start.py), and says whose the files are and the way back, naming
spasmwatch's files alone: never 'chown -R' of a folder that holds others' (/var/lib).
Until the cliedges review it ended with exit 2 (under the service: a restart every 5 s, no band
monitored, no alarm) and told the family to 'sudo chown -R' /var/lib.

Real parts: the daemon in its own process as nobody when the tests run as root (file modes do
not stop root), as this user otherwise; root's /var/lib itself; the page fetched on loopback."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemonproc import UP_S, one_band_config, status_once_up, stopped, unprivileged
from servers import free_port
from spasmwatch.store import Store

NOBODY = 65534


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder the daemon (nobody when root) may write: its config, runtime and state folders."""
    made = Path(tempfile.mkdtemp(prefix="sw-denied-", dir="/tmp"))  # not under pytest's 0700 folder: nobody reaches it
    made.chmod(0o755)
    try:
        for sub in ("run", "state"):
            (made / sub).mkdir(mode=0o700)
            if os.geteuid() == 0:
                os.chown(made / sub, NOBODY, NOBODY)
        yield made
    finally:
        shutil.rmtree(made)


def _sudo_left(folder: Path, readable: bool = False) -> Path:
    """A data folder of the user's (nobody's as root) holding a store and lock left root's by a
    'sudo spasmwatch run' (as another user: its own, their modes taken away). ``readable``: the
    store readable by all (0644, as made before 2026-12-05; as another user 0444, its own)."""
    data = folder / "data"
    data.mkdir(mode=0o700)
    with Store(data / "spasmwatch.db"):
        pass
    (data / "spasmwatch.db.lock").write_text("")
    for p in (data / "spasmwatch.db", data / "spasmwatch.db.lock"):
        p.chmod(0o600 if os.geteuid() == 0 else 0)
    if readable:
        (data / "spasmwatch.db").chmod(0o644 if os.geteuid() == 0 else 0o444)
    if os.geteuid() == 0:
        os.chown(data, NOBODY, NOBODY)
    return data


@pytest.mark.parametrize("where", ["var-lib", "sudo-left", "sudo-left-readable"])
def test_a_data_folder_this_user_may_not_write_monitors_and_names_only_spasmwatchs_files(folder: Path, where: str) -> None:
    """'sudo-left-readable', found by the CLI input audit: a store this user may read but not write
    was opened read-only by SQLite without a word; the daemon said it up with its store, its status
    all good (exit 0), and each write of an event would fail ('attempt to write a readonly database')."""
    port, data = free_port(), Path("/var/lib") if where == "var-lib" else _sudo_left(folder, where == "sudo-left-readable")
    config = one_band_config(folder / "config.toml", data, port)
    config.chmod(0o644)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(folder / "run"), XDG_STATE_HOME=str(folder / "state"))
    cmd = unprivileged([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)])
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    try:
        status = status_once_up(proc, port)
        assert status["store"] is not None, status  # (None: the store opened, all good)
        error = status["store"]["error"]
        assert status["bands"][0]["faults"] == ["storage_failing"], status  # the family is told
        if where == "var-lib":
            assert "/var/lib belongs to root (mode 755)" in error and "leave its owner as it is" in error, error
            assert "chown" not in error and "'sudo install -d -o " in error and " -m 700 /var/lib/spasmwatch'" in error, error
        elif os.geteuid() == 0:
            assert f"'sudo chown -R nobody {data}' gives its folder back" in error, error
        else:
            assert f"'chmod u+rw {data / 'spasmwatch.db'}'" in error, error
        # its lock, in the runtime folder, keeps a second daemon off the store
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=UP_S)
        assert r.returncode == 2 and f"another spasmwatch daemon is using {data / 'spasmwatch.db'} (pid " in r.stderr, r.stderr
        assert proc.poll() is None
    finally:
        text = stopped(proc)
    assert proc.returncode == 0 and "Traceback" not in text, text


def test_a_first_run_whose_data_folder_this_user_may_not_make_monitors_its_lock_in_the_runtime_folder(folder: Path) -> None:
    """A first run (no store, no record) whose data_dir is a folder this user may not make: a
    service's account given data_dir /var/lib/spasmwatch before 'sudo install -d' made it. Found by
    review (store versions, 2026-12-06): the start made the folder for the lock before anything
    else, and its 'Permission denied' ended 'spasmwatch run' with exit 2 (under the service a
    restart every 5 s, no band monitored, no alarm). Now it monitors without its store, which says
    why; its lock in the runtime folder keeps a second daemon off; nothing made in /var/lib."""
    port, data = free_port(), Path("/var/lib") / f"sw-unmade-{os.getpid()}"
    assert not data.exists()
    config = one_band_config(folder / "config.toml", data, port)
    config.chmod(0o644)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(folder / "run"), XDG_STATE_HOME=str(folder / "state"))
    cmd = unprivileged([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)])
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    try:
        status = status_once_up(proc, port)
        assert status["bands"][0]["faults"] == ["storage_failing"], status
        assert f"{data / 'spasmwatch.db'}: cannot create its folder: Permission denied" in status["store"]["error"], status
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=UP_S)
        assert r.returncode == 2 and f"another spasmwatch daemon is using {data / 'spasmwatch.db'} (pid " in r.stderr, r.stderr
        assert proc.poll() is None
    finally:
        text = stopped(proc)
    assert proc.returncode == 0 and "Traceback" not in text, text
    assert not data.exists()


def test_a_lock_this_user_may_not_open_held_by_a_running_daemon_keeps_a_second_off(folder: Path) -> None:
    """The lock beside the store is another account's and held: a 'sudo spasmwatch run' running
    now (as root: root's daemon; as another user: its own daemon, the lock's mode then taken away).
    The second start cannot open the lock to see it held: it would have run beside it on the same
    bands (a band talks to one of them: the other rings 'disconnected'). The kernel's list of
    flocks (/proc/locks) shows the lock held, and by which pid: refused, exit 2, naming it.
    Old code (fallback on EACCES alone): the second ran beside the first."""
    with _beside_a_daemon_holding_a_lock_it_may_not_open(folder) as (data, first, second, env):
        r = subprocess.run(second, env=env, capture_output=True, text=True, timeout=UP_S)
        assert r.returncode == 2 and f"another spasmwatch daemon is using {data / 'spasmwatch.db'} (pid {first.pid}," in r.stderr, r.stderr
        assert f"stop that one first: 'sudo kill {first.pid}'" in r.stderr, r.stderr


@contextlib.contextmanager
def _beside_a_daemon_holding_a_lock_it_may_not_open(folder: Path) -> Iterator[tuple[Path, subprocess.Popen[str], list[str], dict[str, str]]]:
    """A first daemon up, root's (or this user's, its lock's mode then taken away), on a data folder
    nobody's: yields the folder, the first, the second start's command (as nobody: it may not open
    the lock) and its environment. The first must be running after, then stop clean."""
    port, data = free_port(), folder / "data"
    data.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(data, NOBODY, NOBODY)
    config = one_band_config(folder / "config.toml", data, port)
    config.chmod(0o644)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(folder / "run"), XDG_STATE_HOME=str(folder / "state"))
    run = [sys.executable, "-m", "spasmwatch", "run", "--config", str(config)]
    first = subprocess.Popen(run, stderr=subprocess.PIPE, text=True, env=dict(env, XDG_RUNTIME_DIR=str(folder)))  # root's, or this user's
    try:
        status_once_up(first, port)
        if os.geteuid() != 0:
            (data / "spasmwatch.db.lock").chmod(0)
        # (its own port: under the service a taken one is waited for, the daemon monitoring meanwhile)
        second = one_band_config(folder / "second.toml", data, free_port())
        second.chmod(0o644)
        yield data, first, unprivileged([*run[:-1], str(second)]), env
        assert first.poll() is None
    finally:
        text = stopped(first)
    assert first.returncode == 0 and "Traceback" not in text, text


def test_a_daemon_started_without_the_runtime_folder_another_one_holds_its_lock_in_is_kept_off(folder: Path) -> None:
    """Found by the second cliedges review: the fallback lock was taken in the first runtime folder
    that opened, $XDG_RUNTIME_DIR first. A daemon started without it (cron, 'su', a system unit:
    /tmp alone) took /tmp's and never looked in the other's folder: measured with two racing
    starts, one with $XDG_RUNTIME_DIR and one without, both ran in 5 of 8 trials, on the same
    bands. Now a fallback lock is held in every runtime folder that opens, so a daemon finds it
    in whichever of them it sees. Here the first is up before the second starts (the old code's
    every such order ran both)."""
    port, data = free_port(), Path("/var/lib")
    config = one_band_config(folder / "config.toml", data, port)
    config.chmod(0o644)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(folder / "run"), XDG_STATE_HOME=str(folder / "state"))
    env.pop("TMPDIR", None)
    run = [sys.executable, "-m", "spasmwatch", "run", "--config"]
    first = subprocess.Popen(unprivileged([*run, str(config)]), stderr=subprocess.PIPE, text=True, env=env)
    try:
        status_once_up(first, port)
        second = one_band_config(folder / "second.toml", data, free_port())
        second.chmod(0o644)
        bare = {k: v for k, v in env.items() if k != "XDG_RUNTIME_DIR"}
        r = subprocess.run(unprivileged([*run, str(second)]), env=bare, capture_output=True, text=True, timeout=UP_S)
        assert r.returncode == 2 and f"another spasmwatch daemon is using {data / 'spasmwatch.db'} (pid " in r.stderr, r.stderr
        assert first.poll() is None
    finally:
        text = stopped(first)
        _remove_fallbacks(data / "spasmwatch.db")
    assert first.returncode == 0 and "Traceback" not in text, text


def _remove_fallbacks(store: Path) -> None:
    """The fallback lock folders a test's daemon left in the shared runtime folders (/tmp)."""
    from spasmwatch.daemon.lock import fallback_lock_paths

    for path in fallback_lock_paths(store):
        shutil.rmtree(path.parent, ignore_errors=True)


def test_a_start_in_a_container_beside_a_daemon_outside_holding_a_lock_it_may_not_open_is_refused(folder: Path) -> None:
    """As the test above, the second start in a PID namespace of its own (a container sharing the
    data folder: unshare --pid --mount-proc). The kernel's list of flocks there leaves out the
    first daemon, outside it: nothing says the lock is held. Refused, exit 2, saying it cannot
    tell and the ways on. Old code: the second took a fallback lock and ran beside the first."""
    with _beside_a_daemon_holding_a_lock_it_may_not_open(folder) as (data, _, second, env):
        in_container = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]
        if os.geteuid() != 0:
            in_container[1:1] = ["--user", "--map-root-user"]
        try:
            r = subprocess.run([*in_container, *second], env=env, capture_output=True, text=True, timeout=UP_S)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"the second daemon ran beside the first:\n{e.stderr!r}") from None
        assert r.returncode == 2 and f"cannot tell whether another spasmwatch daemon is using {data / 'spasmwatch.db'}" in r.stderr, r.stderr
        assert "runs in a PID namespace of its own (a container)" in r.stderr and "'sudo chown " in r.stderr, r.stderr
        assert r.stderr.count("chown") == 1, r.stderr  # only the lock's, said once no daemon runs anywhere
        # the account to start it as named (before: 'Start it as the account the lock is'), and how
        # to tell whether one runs before taking the lock
        owner = pwd.getpwuid((data / "spasmwatch.db.lock").stat().st_uid).pw_name
        assert f"start this one as {owner}, the lock's owner" in r.stderr and "'spasmwatch status' there" in r.stderr, r.stderr
