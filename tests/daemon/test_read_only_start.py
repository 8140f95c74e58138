"""``spasmwatch run`` on a data folder mounted read-only (an SD card's ext4 remounted so after
errors: 'errors=remount-ro'): it monitors without its store, as for any store that cannot be
opened (docs/store.md), rather than ending with exit 2 because its lock cannot be opened beside
the store (under the service: a restart every 5 s, no band monitored). Its lock is then taken in
the runtime folder ($XDG_RUNTIME_DIR), so a second daemon on the same store is still refused,
from the read-only mount as from a writable view of the same folder.

Real parts: a mount namespace of its own (unshare; as this user mapped to root in a user
namespace when not root) with the data folder bound onto itself read-only: the kernel's own
EROFS; the daemons in their own processes; the page fetched on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daemonproc import UP_S, one_band_config, status_once_up, stopped
from servers import free_port
from spasmwatch.store import Store

AGED_S = 1.5  # past the 1 s age given to systemd-tmpfiles (it reads whole seconds)
# the data folder bound onto itself read-only, then the command, in this namespace only
_READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def _read_only(folder: Path, *command: str) -> list[str]:
    ns = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    return [*ns, "sh", "-c", _READ_ONLY, "sh", str(folder), *command]


@pytest.mark.parametrize("lock_there", [True, False], ids=["lock-left-by-a-daemon", "no-lock-yet"])
def test_a_read_only_data_folder_monitors_and_keeps_a_second_daemon_off(tmp_path: Path, lock_there: bool) -> None:
    port, data, run = free_port(), tmp_path / "data", tmp_path / "run"
    data.mkdir()
    run.mkdir(mode=0o700)
    with Store(data / "spasmwatch.db"):
        pass
    if lock_there:
        (data / "spasmwatch.db.lock").write_text("")
    config = one_band_config(tmp_path / "config.toml", data, port)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(run))
    cmd = [sys.executable, "-m", "spasmwatch", "run", "--config", str(config)]
    proc = subprocess.Popen(_read_only(data, *cmd), stderr=subprocess.PIPE, text=True, env=env)
    try:
        status = status_once_up(proc, port)
        error = status["store"]["error"]
        assert "is on a disk mounted read-only" in error and "chmod" not in error and "chown" not in error, error
        assert status["bands"][0]["faults"] == ["storage_failing"]  # the family is told
        # a second start on the read-only mount, and one on a writable view of the same folder: refused
        for second in (_read_only(data, *cmd), cmd):
            r = subprocess.run(second, env=env, capture_output=True, text=True, timeout=UP_S)
            assert r.returncode == 2 and f"another spasmwatch daemon is using {data / 'spasmwatch.db'} (pid {proc.pid}," in r.stderr, r.stderr
        # systemd-tmpfiles ageing the runtime folder (as it ages /tmp, 10 days on Debian 13; here 1 s)
        # leaves the lock: it removed a held lock file (a second daemon then ran), not a held folder
        rules = tmp_path / "age.conf"
        rules.write_text(f"e {run} - - - 1s\n")
        time.sleep(AGED_S)
        subprocess.run(["systemd-tmpfiles", "--clean", str(rules)], check=True, timeout=UP_S)
        assert list(run.iterdir()) != []
        r = subprocess.run(_read_only(data, *cmd), env=env, capture_output=True, text=True, timeout=UP_S)
        assert r.returncode == 2 and f"(pid {proc.pid}," in r.stderr, r.stderr
        # the CLI finds it by its lock (pid and address): 'spasmwatch status' talks to it
        st = subprocess.run([*cmd[:3], "status", "--config", str(config)], env=env, capture_output=True, text=True, timeout=UP_S)
        assert st.returncode in (0, 1) and "crib" in st.stdout, (st.returncode, st.stdout, st.stderr)
        assert proc.poll() is None
    finally:
        text = stopped(proc)
    assert proc.returncode == 0 and "Traceback" not in text, text
    assert list(run.iterdir()) != []  # its lock, left free as the store's is


# A container of its own: the data folder bound read-only as above, and a runtime folder of its own
# over each fallback lock's folder (a tmpfs: a container's own /tmp, /run/user), then the command
_CONTAINER = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && ' + \
    'while [ "$1" != -- ]; do mount -t tmpfs tmpfs "$1" && shift; done && shift && exec "$@"'


def _in_container(folder: Path, runtime: list[Path], *command: str) -> list[str]:
    ns = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    return [*ns, "sh", "-c", _CONTAINER, "sh", str(folder), *map(str, runtime), "--", *command]


@pytest.mark.parametrize("lock_there", [True, False], ids=["lock-left-by-a-daemon", "no-lock-yet"])
def test_two_containers_sharing_a_read_only_data_folder_but_not_tmp_do_not_both_run(tmp_path: Path, lock_there: bool) -> None:
    """Each start's lock goes to its runtime folders (the lock beside the store cannot be made or
    opened to write), which the other container does not see. Old code: the second ran beside the
    first (killed by the test after UP_S), on the same store and bands."""
    from spasmwatch.daemon.lock import fallback_lock_paths

    port, data = free_port(), tmp_path / "data"
    data.mkdir()
    with Store(data / "spasmwatch.db"):
        pass
    if lock_there:
        (data / "spasmwatch.db.lock").write_text("")
    config = one_band_config(tmp_path / "config.toml", data, port)
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "TMPDIR")}  # (/tmp alone: as a system unit)
    runtime = [path.parent for path in fallback_lock_paths(data / "spasmwatch.db")]
    for folder in runtime:
        folder.mkdir(mode=0o700, exist_ok=True)  # (the mount points of each container's own)
    cmd = [sys.executable, "-m", "spasmwatch", "run", "--config", str(config)]
    proc = subprocess.Popen(_in_container(data, runtime, *cmd), stderr=subprocess.PIPE, text=True, env=env)
    try:
        status_once_up(proc, port)
        second = one_band_config(tmp_path / "second.toml", data, free_port())
        for view in (_in_container(data, runtime), []):  # another container, and the host's writable view
            try:
                r = subprocess.run([*view, *cmd[:-1], str(second)], env=env, capture_output=True, text=True, timeout=UP_S)
            except subprocess.TimeoutExpired as e:
                raise AssertionError(f"the second daemon ran beside the first:\n{e.stderr!r}") from None
            assert r.returncode == 2 and f"another spasmwatch daemon is using {data / 'spasmwatch.db'}: it holds the store's folder locked" in r.stderr, r.stderr
            assert "'spasmwatch status' where it runs talks to it" in r.stderr, r.stderr
        assert proc.poll() is None
    finally:
        text = stopped(proc)
        for folder in runtime:
            folder.rmdir()
    assert proc.returncode == 0 and "Traceback" not in text, text
