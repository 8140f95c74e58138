"""The store's lock held by a daemon in another PID namespace (a container sharing the data folder):
a second start is refused, naming that daemon by the pid this side knows it by, or saying it has
none here; never by the pid its lock says, which is of the daemon's own namespace.

Found by the exit review: the lock says the daemon's pid as the daemon sees it. A daemon in a
container is its pid 1 (or another small number): a start on the host said "another spasmwatch
daemon is using ... (pid 1, ...) ... or 'kill 1'", the host's init; 'spasmwatch reload' sent
SIGHUP to that pid. Seen from a container, the host's daemon's pid is another process or none.

Real parts: the daemons in their own processes, the first in a PID namespace of its own
(``unshare --pid --fork --mount-proc``, its own /proc as a container has), the kernel's flocks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from daemonproc import UP_S, one_band_config, status_once_up
from servers import free_port

RUN = [sys.executable, "-m", "spasmwatch", "run", "--config"]


ELSEWHERE = "in another PID namespace: the host's, or another container's"  # what a refused start says of a daemon it has no pid for


def in_pid_namespace(*flags: str, command: tuple[str, ...]) -> list[str]:
    """``command`` in a PID namespace of its own, unshare ``flags`` added (as root; else as this
    user mapped to root in a user namespace); ended with unshare."""
    user = ["--user", "--map-root-user"] if os.geteuid() != 0 else []
    return ["unshare", *user, "--pid", "--fork", "--kill-child", *flags, *command]


def in_container(*command: str) -> list[str]:
    """``command`` in a PID namespace of its own, /proc its own."""
    return in_pid_namespace("--mount-proc", command=command)


def inner_pid(unshare: subprocess.Popen[str]) -> int:
    """The pid, here, of the process unshare forked into the namespace."""
    children = Path(f"/proc/{unshare.pid}/task/{unshare.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


@contextmanager
def hosts_daemon(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    """A daemon started here (the host) on the store in tmp_path/data, once up: (its process, its
    config, the data folder). Stopped after, which must end it cleanly."""
    port, data = free_port(), tmp_path / "data"
    config = one_band_config(tmp_path / "config.toml", data, port)
    first = subprocess.Popen([*RUN, str(config)], stderr=subprocess.PIPE, text=True)
    try:
        status_once_up(first, port)
        yield first, config, data
    finally:
        first.send_signal(signal.SIGTERM)
        text = first.communicate(timeout=UP_S)[1]
    assert first.returncode == 0 and "Traceback" not in text, text


def second_start(tmp_path: Path, data: Path, *wrap: str) -> subprocess.CompletedProcess[str]:
    second = one_band_config(tmp_path / "second.toml", data, free_port())
    return subprocess.run([*wrap, *RUN, str(second)], capture_output=True, text=True, timeout=UP_S)


def test_a_daemon_in_a_container_is_named_and_reloaded_by_its_pid_here(tmp_path: Path) -> None:
    """Old code: 'pid 1', and 'kill 1' for the way to stop it."""
    port, data = free_port(), tmp_path / "data"
    config = one_band_config(tmp_path / "config.toml", data, port)
    first = subprocess.Popen(in_container(*RUN, str(config)), stderr=subprocess.PIPE, text=True)
    status_once_up(first, port)
    pid = inner_pid(first)
    try:
        r = second_start(tmp_path, data)
        assert r.returncode == 2 and f"another spasmwatch daemon is using {data / 'spasmwatch.db'} (pid {pid}, started from {config}" in r.stderr, r.stderr
        assert f"'kill {pid}'" in r.stderr and "'kill 1'" not in r.stderr, r.stderr
        # the reload goes to that process (old code: SIGHUP to pid 1 here)
        reload = subprocess.run([sys.executable, "-m", "spasmwatch", "reload", "--config", str(config)], capture_output=True, text=True, timeout=UP_S)
        assert reload.returncode == 0, reload
    finally:
        os.kill(pid, signal.SIGTERM)  # the daemon's (unshare passes no signal on), as a container's stop
        text = first.communicate(timeout=UP_S)[1]
    assert first.returncode == 0 and "Traceback" not in text, text


def test_a_start_in_a_container_beside_the_hosts_daemon_says_it_runs_outside_and_signals_nothing(tmp_path: Path) -> None:
    """Old code: the host's daemon's pid, which in the container is none (or another process), and
    'kill N' for it; 'spasmwatch reload' from the container would signal that pid."""
    with hosts_daemon(tmp_path) as (first, config, data):
        r = second_start(tmp_path, data, *in_container())
        assert r.returncode == 2 and f"(pid {first.pid} {ELSEWHERE}" in r.stderr, r.stderr
        assert "stop it where it runs" in r.stderr and "kill" not in r.stderr, r.stderr
        reload = subprocess.run(in_container(sys.executable, "-m", "spasmwatch", "reload", "--config", str(config)),
                                capture_output=True, text=True, timeout=UP_S)  # fmt: skip
        assert reload.returncode != 0 and "no process here to send the reload to" in reload.stderr, reload


def beside_the_hosts_proc(*command: str) -> list[str]:
    """``command`` in a PID namespace of its own whose /proc is the host's (not mounted again: a
    container given the host's /proc); ended with unshare."""
    return in_pid_namespace(command=command)


_VIEW = "from spasmwatch.daemon.lock import _proc_view; v = _proc_view(); print(v.every, v.ours)"


def test_the_list_of_flocks_is_taken_as_the_proc_mounts_namespace_s_not_the_readers() -> None:
    """The kernel filters /proc/locks by the PID namespace of the /proc mount read, not the reader's
    (fs/locks.c; measured: a reader in a namespace of its own reading the host's /proc sees the
    host's flocks, with host pids). Old code (``_in_own_pid_namespace``) answered by the reader's:
    in its own namespace, the host's /proc's list taken as missing the host's locks."""
    def view(*wrap: str) -> str:
        return subprocess.run([*wrap, sys.executable, "-c", _VIEW], capture_output=True, text=True, timeout=UP_S, check=True).stdout
    assert view() == "True True\n"  # the host's /proc, read from the host: every lock, its pids ours
    assert view(*beside_the_hosts_proc()) == "True False\n"  # every lock, pids not ours
    assert view(*in_container()) == "False True\n"  # the container's own: only its processes' locks


def test_a_start_in_a_namespace_of_its_own_reading_the_hosts_proc_does_not_name_the_hosts_pid_as_its_own(tmp_path: Path) -> None:
    """A start in a PID namespace of its own whose /proc is the host's, beside the host's daemon: the
    kernel's list names that daemon by its host pid, which is not that process there. Refused,
    saying it runs in another namespace, no pid to kill. Old code: '(pid N, ...)' and 'kill N',
    N the host pid (the reader's namespace taken as the list's)."""
    with hosts_daemon(tmp_path) as (first, _, data):
        r = second_start(tmp_path, data, *beside_the_hosts_proc())
        assert r.returncode == 2 and f"(pid {first.pid} {ELSEWHERE}" in r.stderr, r.stderr
        assert "kill" not in r.stderr, r.stderr
