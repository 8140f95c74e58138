"""Run a local command for a channel: bounded time, output kept for the error message.

Started by ``os.posix_spawnp``, not subprocess (nor asyncio's, which is subprocess): the daemon
blocks SIGINT and SIGTERM in every thread (daemon/stopping.py) and a child inherits that mask, so a
player would not end on systemd's SIGTERM. subprocess sets another mask only in a ``preexec_fn``:
Python run in the child of a threaded process between its fork and its exec, where the interpreter
and the at-fork hooks may wait on a lock another thread held at the fork, for ever: no alarm sounds,
and the event loop hangs too, in subprocess's wait for that exec (an at-fork hook taking such a
lock: tests/daemon/test_stop_while_loop_hangs.py). posix_spawn sets the mask and the signals'
actions in C (glibc: a vfork-like clone, async-signal-safe calls only): no Python in the child.

What subprocess did besides, done here: stdin /dev/null, stdout and stderr into one pipe, the
signals Python ignores back to their default action, and no other file of the daemon's left open in
the child (close_fds).
"""

from __future__ import annotations

import asyncio
import os
import signal

from spasmwatch.daemon.stopping import STOP_SIGNALS
from spasmwatch.threads import DetachedThreads
from spasmwatch.timeouts import within

# Set to their default action in the child: the stop signals, and those Python ignores (SIGPIPE,
# SIGXFSZ), which stay ignored across an exec (subprocess's restore_signals did the same).
_DEFAULT_IN_CHILD = STOP_SIGNALS | {signal.SIGPIPE, signal.SIGXFSZ}
# Threads that wait for a command's exit (asyncio's own watcher starts a thread per child too, and is
# deprecated from Python 3.12): a local channel runs one command at a time (sound: its players in
# turn), and a waiter ends with its command, killed at its timeout at the latest; daemon threads
# (threads.py), so a stop never waits for one.
CHILD_WAIT_THREADS = 4
_WAITERS = DetachedThreads(CHILD_WAIT_THREADS, "spasmwatch-child-exit")


async def run(argv: list[str], timeout_s: float) -> tuple[int, str]:
    """Return (exit code, stderr+stdout tail); exit code 124 on timeout (the process is killed),
    127 when the command cannot be started (not installed, not executable): a failure like any
    other, so the sound channel goes on to its next player and the bell."""
    try:
        child = _Child(argv)
    except OSError as e:
        return 127, f"cannot run: {e.strerror or e}"
    try:
        out = await within(child.output(), timeout_s)  # (not wait_for: a cancel as it exits is raised, no next player)
    except TimeoutError:
        await child.killed()
        return 124, f"no exit within {timeout_s:g} s"
    except asyncio.CancelledError:  # the daemon stops: no player left behind
        await child.killed()
        raise
    finally:
        child.close()
    text = out.decode(errors="replace").strip()
    return await child.wait(), text[-300:]


def _closed_in_child() -> list[tuple[int, int]]:
    """A close in the child for each file of the daemon's it would inherit, but stdin, stdout and
    stderr (subprocess's close_fds; os.posix_spawn has no closefrom before Python 3.13). What Python,
    SQLite and aiohttp open is close-on-exec (PEP 446): these are what the daemon inherited open
    (from a shell, a terminal multiplexer), a few; a player holding a pipe of its parent's open kept
    that pipe's reader from its end. One closed since the listing is skipped by glibc (EBADF). Its
    cost, measured 2026-12-07 (2 CPUs, load 3-14): 2.5-9 us an open fd, 60 us at the ~22 the daemon
    holds (bench/soak.py), 3-9 ms at 1000, against 1.5-2.5 ms to start and reap 'true' here and the
    alarm's 1.2 s (bench/alarm_latency.py): not worth a cheaper way."""
    return [(os.POSIX_SPAWN_CLOSE, fd) for fd in map(int, os.listdir("/dev/fd")) if fd > 2 and _inheritable(fd)]


def _inheritable(fd: int) -> bool:
    try:
        return os.get_inheritable(fd)
    except OSError:  # closed since the listing (the listing's own)
        return False


class _Child:
    """A command, started at once (no await between its start and its waiter: a cancel cannot leave
    it unwatched): its output read on the event loop, its exit waited for in ``_WAITERS`` and reaped
    on the loop."""

    def __init__(self, argv: list[str]) -> None:
        """``argv`` started (OSError: it cannot be, its error as exec's)."""
        r, w = os.pipe()
        try:
            self.pid = os.posix_spawnp(
                argv[0], argv, os.environ,
                file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_DUP2, w, 2),
                              *_closed_in_child()],
                setsigmask=(),  # none blocked: a player ends on SIGTERM (systemd's stop sends it to each process of the service)
                setsigdef=_DEFAULT_IN_CHILD,
            )  # fmt: skip
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)  # the child's copies only: the pipe's end comes at its (and its children's) exit
        self._out = open(r, "rb", 0)
        self._pipe: asyncio.BaseTransport | None = None
        self._returncode: int | None = None
        # Not reaped by the waiter (WNOWAIT): the pid stays this child's until ``wait`` reaps it on
        # the loop, so ``killed`` never signals another process given the pid once it was free.
        exited = _WAITERS.call(os.waitid, os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        self._exited = asyncio.ensure_future(exited)

    async def output(self) -> bytes:
        """All it wrote, once it has exited and the pipe is closed (as subprocess's communicate)."""
        reader = asyncio.StreamReader()
        self._pipe, _ = await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self._out)
        out = await reader.read()
        await self.wait()
        return out

    async def wait(self) -> int:
        """Its exit code (-N: ended by signal N), once it has exited."""
        if self._returncode is None:
            await asyncio.shield(self._exited)  # a cancelled wait leaves the waiter for the next one
            _, status = os.waitpid(self.pid, 0)  # at once: it has exited
            self._returncode = os.waitstatus_to_exitcode(status)
        return self._returncode

    async def killed(self) -> None:
        """SIGKILL unless it has been reaped, then its exit waited for."""
        if self._returncode is None:
            os.kill(self.pid, signal.SIGKILL)
        await self.wait()

    def close(self) -> None:
        """The pipe's end closed (its transport, once connected, stops reading first; its own close is then a no-op)."""
        if self._pipe is not None:
            self._pipe.close()
        self._out.close()
