"""The store's lock, ``<store>.lock``: one daemon per store, and what the CLI learns from it.

Its own module, apart from daemon/main.py: every command that talks to the daemon reads it, and
importing the daemon (aiohttp, the band sessions) for that took 0.5 s more per command."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from spasmwatch import private
from spasmwatch.store import StoreError
from spasmwatch.store.known import MOUNTINFO, mounts
from spasmwatch.urls import host_port

log = logging.getLogger(__name__)

# The kernel's list of the locks held now (proc(5) /proc/locks), in the /proc mount ``PROC``
PROC = Path("/proc")
PROC_LOCKS = PROC / "locks"
# The initial PID namespace's inode (the kernel's PROC_PID_INIT_INO, fixed since Linux 3.8). Linux
# 4.14 on, /proc/locks lists only the locks of the processes the PID namespace of the /proc mount
# read sees, each by its pid there (fs/locks.c locks_show: the mount's namespace, not the reader's;
# measured with unshare: a reader in a namespace of its own reading the host's /proc sees the
# host's flocks, one in the initial namespace reading a container's /proc does not): ``_proc_view``.
INIT_PID_NS_INO = 0xEFFFFFFC

# Why the lock beside the store may not be opened while the daemon can still monitor, its lock in a
# runtime folder (``fallback_lock_paths``): a disk mounted read-only, or a folder this user may not
# write (another account's: root's /var/lib, a folder made by 'sudo spasmwatch run' once).
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


def fallback_lock_paths(store_path: Path) -> list[Path]:
    """Where the lock goes when the store's folder is on a disk mounted read-only or is one this
    user may not write (``lock_path`` cannot be made or written there: an SD card's ext4 remounted
    so after errors, a folder of root's), one per runtime
    folder this process may see: $XDG_RUNTIME_DIR, /run/user/UID, $TMPDIR, /tmp. Named by the
    store's resolved path, so every start and every command finds the same file for one store;
    in a folder of its own, which the daemon holds (``_own_folder``).
    All are looked at (``_held_file_of``, ``DaemonLock.take``), and all that open taken: a daemon or
    command started without $XDG_RUNTIME_DIR sees a daemon started with it, and the reverse."""
    key = hashlib.sha256(str(store_path.resolve()).encode()).hexdigest()[:16]
    return [folder / f"spasmwatch-{key}" / "lock" for folder in _runtime_folders()]


def _runtime_folders() -> list[Path]:
    # not tempfile.gettempdir(): it writes a file to choose, which a full disk refuses (and the daemon ended)
    said = [os.environ.get("XDG_RUNTIME_DIR", ""), f"/run/user/{os.getuid()}", os.environ.get("TMPDIR", ""), "/tmp"]
    folders: list[Path] = []
    for d in said:
        # a relative XDG_RUNTIME_DIR is ignored, as the XDG spec says
        if os.path.isabs(d) and os.path.isdir(d) and Path(d).resolve() not in folders:
            folders.append(Path(d).resolve())
    return folders


def _lock_paths(store_path: Path) -> list[Path]:
    """Every file a daemon on ``store_path`` may hold: beside the store, then the fallbacks."""
    return [lock_path(store_path), *fallback_lock_paths(store_path)]


@dataclass(frozen=True)
class LockHolder:
    """What the lock of a running daemon says (``lock_holder``)."""

    pid: int
    config: str  # the config file it reloads on SIGHUP ("" for none: started in-process from a Config)
    # (host, port) its web server listens on, as bound; None until it listens, or from a daemon
    # from before 2026-12-05, which wrote only the two lines above
    address: tuple[str, int] | None
    # False: it runs in a PID namespace this process does not see (the host's daemon, seen from a
    # container sharing the data folder), ``pid`` the one its lock says, of that namespace: no
    # process here to name or signal (``lock_holder``)
    here: bool = True


class StoreInUse(StoreError):
    """Another daemon holds the store's lock; ``holder`` is what its lock says (None: it had not
    written its pid yet). The commands add how to stop it (commands/service.py ``in_use``)."""

    def __init__(self, store_path: Path, holder: LockHolder | None, unread_pid: int | None = None, folder_held: bool = False) -> None:
        self.store_path = store_path
        self.holder = holder
        self.unread_pid = unread_pid  # its pid from the kernel's flocks, its lock unreadable here (another account's: ``_flocked``)
        # found by its flock on the store's folder, its lock in runtime folders not seen here (``_hold_store_folder``)
        self.folder_held = folder_held
        by = f" (pid {unread_pid}, another account's)" if unread_pid is not None and holder is None else held_by(holder)
        super().__init__(f"another spasmwatch daemon is using {store_path}{by}: stop it first")


class LockFolderGone(StoreError):
    """The store's folder, where its lock goes, is not there (its disk unmounted since the start found
    the store): the lock is not made elsewhere, nor the folder made (``one_daemon``)."""


def held_by(holder: LockHolder | None) -> str:
    """`` (pid N, started from FILE, listening on HOST:PORT)``: which daemon, as its lock says; the
    message said only 'another daemon', leaving the family to hunt for it."""
    if holder is None:
        return ""
    pid = f"pid {holder.pid}" if holder.here else f"pid {holder.pid} in another PID namespace: the host's, or another container's"
    said = [pid, f"started from {holder.config}" if holder.config else "started without a config file"]
    if holder.address is not None:
        said.append(f"listening on {host_port(*holder.address)}")
    return f" ({', '.join(said)})"


# A lock file held: its path, the file, and its fallback's folder held open (None beside the store).
Held = tuple[Path, TextIO, int | None]


class DaemonLock:
    """The lock a running daemon holds (``one_daemon``): taken at once, or (``take``) once the store
    it guards is there, and what the daemon learns after taking it."""

    def __init__(self, store_path: Path, config_path: Path | None, unmade: bool = False) -> None:
        self.store_path, self.config_path = store_path, config_path
        self._unmade = unmade  # a first run's folder this user may not make: the lock goes to the fallbacks (``_open_lock``)
        # The files held (``_open_lock``): beside the store, or the fallbacks, each with its folder held open (``_own_folder``)
        self._held: list[Held] = []
        self._folder: int | None = None  # the store's folder, flocked (``_hold_store_folder``)
        self._path = lock_path(store_path)  # the first file held, named in the log
        self._address: tuple[str, int] | None = None
        self._unwritten = False  # a write of the lock's lines failed: said once in the log (``_say``)
        # take runs in the store's try again (a worker thread), serving in the event loop. ``_mutex``
        # guards what is held and said, never an open nor a write: a take hung in the open of its
        # file, or a write of its lines (``_say``), on a stalled disk, kept the stop's release, and
        # so the daemon's exit, waiting for good (tests/daemon/test_stop_while_store_opens.py,
        # test_lock.py). ``_taking``: one take at a time (a second one's flock would find the first's
        # and say another daemon holds the store); ``_writing``: one write of the lines at a time,
        # in the order said (an address appended before a take's rewrite would be lost).
        self._mutex, self._taking, self._writing = threading.Lock(), threading.Lock(), threading.Lock()
        self._released = False  # let go for good (``release``): a take under way closes what it opened

    def take(self) -> None:
        """Hold ``<store>.lock`` (once held: its lines written again if a full disk refused them);
        StoreInUse when another daemon holds it, StoreError when it cannot be opened or the lock
        was let go meanwhile (the daemon stops)."""
        with self._taking:
            with self._mutex:
                held_before = bool(self._held)
                self._refuse_released()
            if held_before:
                # The store's try again calls this until the store opens, which needs space: the
                # lines then go in too ('spasmwatch reload' found no daemon until a restart).
                self._say(again=True)
                return
            held, folder = _flocked_alone(self.store_path, self._unmade)
            with self._mutex:
                if self._released:
                    _close_all(held, folder)
                    self._refuse_released()
                self._held, self._folder, self._path = held, folder, held[0][0]
            self._say(truncate=True)

    def _refuse_released(self) -> None:
        if self._released:
            raise StoreError(f"{self.store_path}: the daemon is stopping: its lock is not taken again")

    def serving(self, host: str, port: int) -> None:
        """Line 3: where the web server listens, once it does (the lock is taken before it starts,
        and port 0 or an edit of [daemon.http] makes it differ from the file): the CLI reaches the
        daemon there. Appended, not rewritten: a reader never finds the file empty (as if no
        daemon ran), and one that reads a line without its end ignores it. Never the token.
        Kept for a lock taken later (``take``)."""
        with self._mutex:
            self._address = (host, port)
        self._say()  # (pid and config first, if a full disk refused them)

    def _say(self, truncate: bool = False, again: bool = False) -> None:
        """Write what the lock says, if held: all of it after ``truncate`` or when a write was
        refused before (pid, config, and the address once known), else the address line; ``again``:
        only when a write was refused before. One write(2), no buffer: on a full disk (or past a
        file size limit) the lines are lost and said in the log, while the flock, which is what
        keeps a second daemon off the store, stays held. Until 2026-12-06 the error ended the
        daemon's start in a traceback on a new lock file: no monitoring at all on a full disk.
        Written outside ``_mutex``, to copies of the files' descriptors (a release meanwhile
        closes the files, whose numbers may be reused): a write hung on a stalled disk holds no
        release. The copies share the files' open file, so its flock lasts until the write ends: a
        daemon started in between is refused, never finds its own lines written over by this one's
        (tests/daemon/test_lock.py)."""
        with self._writing:
            with self._mutex:
                if not self._held or (again and not self._unwritten):
                    return
                truncate = truncate or self._unwritten
                lines = []
                if truncate:
                    lines.append(f"{os.getpid()}\n{self.config_path.absolute() if self.config_path is not None else ''}\n")
                if self._address is not None:
                    lines.append(f"{self._address[0]}:{self._address[1]}\n")
                fds, error = _copies(self._held)
            try:
                error = error or _write_each(fds, "".join(lines).encode(), truncate)
            finally:
                for fd in fds:
                    os.close(fd)
            with self._mutex:
                self._said(error, truncate)

    def _said(self, e: OSError | None, truncate: bool) -> None:
        """A write's outcome in the log, once: refused (``e``), or whole again after a refusal."""
        if e is None:
            if self._unwritten and truncate:
                self._unwritten = False
                log.info("the daemon's pid and address are in %s now: 'spasmwatch reload' finds it again", self._path)
        else:
            if self._unwritten:
                return
            self._unwritten = True
            log.warning(
                "cannot write the daemon's pid and address into %s (%s: is the disk full?): the daemon runs and keeps other "
                "daemons off the store, but 'spasmwatch status' and the other commands find it only at the config's "
                "[daemon.http] port, and 'spasmwatch reload' does not find it until they are written (tried again with the store)",
                self._path, e.strerror or e,
            )  # fmt: skip

    def release(self) -> None:
        with self._mutex:
            held, folder, self._held, self._folder, self._released = self._held, self._folder, [], None, True
            _close_all(held, folder)


def _copies(held: list[Held]) -> tuple[list[int], OSError | None]:
    """A copy of each held file's descriptor (each fallback held says the lines: a command finds
    them in whichever it sees); none and the error when one cannot be made (no descriptor left)."""
    fds: list[int] = []
    try:
        for _, f, _ in held:
            fds.append(os.dup(f.fileno()))
    except OSError as e:
        for fd in fds:
            os.close(fd)
        return [], e
    return fds, None


def _write_each(fds: list[int], data: bytes, truncate: bool) -> OSError | None:
    """``data`` written to each file (after emptying it: ``truncate``); the first error, if any."""
    try:
        for fd in fds:
            if truncate:
                os.ftruncate(fd, 0)
            os.write(fd, data)
    except OSError as e:
        return e
    return None


def _flocked_alone(store_path: Path, unmade: bool) -> tuple[list[Held], int | None]:
    """The lock files of ``store_path`` opened (``_open_lock``) and flocked, and its folder
    (``_hold_store_folder``), no other of its files held by a daemon; StoreInUse naming the daemon
    that holds one."""
    held = _open_lock(store_path, unmade)
    try:
        for _, f, _ in held:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _close_all(held)
        raise StoreInUse(store_path, lock_holder(store_path)) from None
    try:
        folder = _hold_store_folder(store_path, fallback=held[0][2] is not None)
    except BlockingIOError:
        _close_all(held)
        raise StoreInUse(store_path, lock_holder(store_path), folder_held=True) from None
    # Held, then the others looked at (a daemon on this store holding another of its files: the disk
    # was read-only at its start, or is no more at this one): of two starting at once, each takes
    # its own first, so at least one finds the other.
    for other in _lock_paths(store_path):
        if other not in {path for path, _, _ in held} and (text := _held_file(other)) is not None:
            _close_all(held, folder)
            raise StoreInUse(store_path, _as_seen_here(_holder(text), other))
    return held, folder


def _hold_store_folder(store_path: Path, fallback: bool) -> int | None:
    """The store's folder, open and flocked: exclusive by a daemon whose lock is in the runtime
    folders (``fallback``), shared by one whose lock is beside the store. Those folders are this
    system's, or a container's own (its /tmp, /run/user): two containers sharing a data folder
    they may not write but not /tmp both ran on one store and its bands until the hostile exit
    review (tests/daemon/test_read_only_start.py). A flock needs no write: it is taken on a
    read-only disk, in another account's folder, and is the kernel's across namespaces. The
    folder, not the store's file: SQLite's own locks are on that one. BlockingIOError when another
    daemon holds it so; None (said in the log) when the folder cannot be opened or locked there."""
    try:
        fd = os.open(store_path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        _folder_unheld(store_path, fallback, e)
        return None
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if fallback else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if isinstance(e, BlockingIOError):
            raise
        _folder_unheld(store_path, fallback, e)
        return None
    return fd


def _folder_unheld(store_path: Path, fallback: bool, e: OSError) -> None:
    """The store's folder not held (``_hold_store_folder``): a daemon with its lock in the runtime
    folders is then kept off the store only by daemons that see those folders, said in the log."""
    if fallback:
        log.warning("%s: cannot lock the store's folder (%s): a daemon in another container sharing this folder but "
                    "not its runtime folders (/tmp) is not kept off this store", store_path.parent, e.strerror or e)  # fmt: skip


def _close_all(held: list[Held], store_folder: int | None = None) -> None:
    """Let go of locks (and of their fallbacks' folders, and of the store's): closing ends their flocks."""
    if store_folder is not None:
        os.close(store_folder)
    for _, f, folder in held:
        try:
            f.close()
        finally:
            if folder is not None:
                os.close(folder)


@contextmanager
def one_daemon(store_path: Path, config_path: Path | None = None, now: bool = True, unmade: bool = False) -> Iterator[DaemonLock]:
    """Hold ``<store>.lock`` while the daemon runs: a second daemon on the same store would restore
    and escalate the same alarms and raise "band disconnected" for the band it cannot reach.
    It holds the daemon's pid (line 1) and the config file it reloads (line 2): 'spasmwatch reload'
    signals that pid, and 'config set' and 'add-*' suggest it when the file is this one (a daemon
    holding the lock runs, whatever port it listens on); then where its web server listens (line
    3, ``DaemonLock.serving``): the CLI's commands reach it there. ``now`` False: taken by
    ``DaemonLock.take`` later, as the store opens (a store on a disk not mounted yet: its folder
    may not be there, or be the empty mount point, where a lock would be hidden by the disk). A
    folder gone by ``now`` (the disk unmounted since the start found the store) is left so: the lock
    is taken as the store opens, whose open says it missing (until 2026-12-06 the start made the
    folder for the lock, beneath the mount point). ``unmade``: a first run's folder this user may not
    make: the lock is a fallback's, as in a folder this user may not write (``_open_lock``)."""
    lock = DaemonLock(store_path, config_path, unmade)
    try:
        if now:
            with contextlib.suppress(LockFolderGone):
                lock.take()
        yield lock
    finally:
        lock.release()


def _open_lock(store_path: Path, unmade: bool = False) -> list[Held]:
    """The lock files to hold: the one beside the store, else the fallbacks (``_open_fallback``);
    StoreError naming it and why not. Found by the fault audit: 'spasmwatch run' on a data folder
    it may not write (a store copied in by another user, a read-only mount) ended in a
    PermissionError traceback.

    On a disk mounted read-only, or in a folder this user may not write (root's, mode 0755), every
    fallback that opens (``fallback_lock_paths``): until 2026-12-06 'spasmwatch run' ended
    with exit 2 there, and the service restarted every 5 s with no band monitored; the daemon now
    monitors without its store, as for any that cannot be opened (the read-only disk first; the
    folder of another account until the cliedges review); and on a first run whose folder this user
    may not make (``unmade``; until 2026-12-06 its 'Permission denied' ended the start).

    Created 0600 and an older one (0644 until 2026-12-05) made so (private.py): it says the
    daemon's pid, its config file's path and where it serves, which only its own user's commands
    read (the system unit runs as the user who wrote it: commands/service.py); a command of
    another account finds no daemon by it, as it would find no store it may read."""
    path = lock_path(store_path)
    try:
        f = open(path, "a", opener=private.opener)
    except OSError as e:
        why = f"{e.strerror or e}"
        whose = private.not_this_users([path, path.parent])
        if whose:
            why += f": {whose}"
        elif e.errno in _NOT_WRITABLE:
            why += f": this user may not write in {path.parent}, where the store keeps its lock and its WAL (check its owner and mode)"
        if e.errno in _NOT_WRITABLE and (pid := _flocked(path)) is not None:  # (a 'sudo spasmwatch run' now: its lock, unreadable here)
            raise StoreInUse(store_path, None, unread_pid=pid) from e
        if e.errno in (errno.EACCES, errno.EPERM) and _unseen_holder_may_be(path):
            # Not ``why``: its give-back hint ('sudo chown -R'), said unless a daemon runs, would come first.
            raise StoreError(
                f"cannot tell whether another spasmwatch daemon is using {store_path}: its lock {path} cannot be opened to "
                f"try ({e.strerror or e}), and this daemon runs in a PID namespace of its own (a container), where the kernel lists no "
                "lock held outside it; not started, lest two daemons run on one store and its bands. If one runs (on the host or "
                f"in another container: 'spasmwatch status' there), stop it first, or start this one as {_owner(path)}, the "
                "lock's owner; if none runs anywhere (the lock is left by one that stopped), give the lock to this account: "
                f"'sudo chown {os.getuid()} {path}'") from e  # fmt: skip
        # (``unmade``: the folder is not there because this user may not make it, not a disk gone)
        if (e.errno in _NOT_WRITABLE or unmade) and (fallbacks := _open_fallback(store_path, why)):
            return fallbacks
        error = LockFolderGone if e.errno == errno.ENOENT else StoreError
        raise error(f"{path}: cannot open the daemon's lock beside the store: {why}") from e
    private.tighten(path, "the daemon's lock")
    return [(path, f, None)]


def _owner(path: Path) -> str:
    """The account owning ``path``, by name; "its owner" when it cannot be looked at."""
    try:
        return private.user_name(path.stat().st_uid)
    except OSError:
        return "its owner"


def _flocked(path: Path, locks: Path = PROC_LOCKS, mountinfo: Path = MOUNTINFO) -> int | None:
    """The pid of the process holding a flock on ``path`` now (``_flock_pids``), else None."""
    return next((pid for pid in _flock_pids(path, locks, mountinfo) or [] if pid > 0), None)


def _flock_pids(path: Path, locks: Path = PROC_LOCKS, mountinfo: Path = MOUNTINFO) -> list[int] | None:
    """The pids of the processes holding a flock on ``path`` now, from the kernel's list (/proc/locks:
    'N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE START END', the device in hex), else None (also when
    it is not there or the list cannot be read: not Linux). For a lock file this user may not open,
    whose flock it cannot try: another account's daemon ('sudo spasmwatch run') holding it; a
    second daemon on the same bands would have run and rung 'disconnected' for each. The file is
    named by its file system's device (``_devices``) and its inode: an inode number alone is
    every file system's. None when the list cannot be read (or ``path`` is not there): not Linux.
    In a PID namespace of its own (a container) the list leaves out every process it does not see
    (``INIT_PID_NS_INO``)."""
    try:
        st = path.stat()
        with open(locks) as f:
            lines = [line.split() for line in f]
    except OSError:
        return None
    exact = f"{_device(os.major(st.st_dev), os.minor(st.st_dev))}:{st.st_ino}"
    files = {f"{dev}:{st.st_ino}" for dev in _devices(path, st, mountinfo)}
    return [int(w[4]) for w in lines
            if len(w) > 5 and w[1] == "FLOCK" and w[5] in files and w[4].isdigit()
            and (w[5] == exact or _may_be_spasmwatch(int(w[4])))]  # fmt: skip


def _unseen_holder_may_be(path: Path) -> bool:
    """Whether a lock file this user may not open (``path``, there) may be held by a daemon the
    kernel's list does not show: this process's /proc is a PID namespace's other than the initial
    one (a container's, a data folder shared with the host's daemon: ``_proc_view``), or the list
    names a holder it does not see (pid 0, before Linux 4.14). Until the exit review such a start
    took a fallback lock (``_open_fallback``) and ran beside the daemon outside, on the same store
    and bands."""
    pids = _flock_pids(path)
    return pids is not None and (bool(pids) or not _proc_view().every)


@dataclass(frozen=True)
class ProcView:
    """The PID namespace whose processes' locks /proc/locks lists (that of the /proc mount)."""

    every: bool  # the initial one: every process's locks are listed
    ours: bool  # this process's own: the pids listed are the ones it knows (signals, names)


def _proc_view(proc: Path = PROC) -> ProcView:
    """Which PID namespace the /proc mount ``proc`` shows. ``/proc/self/status``'s NSpid gives this
    process's pid in it and in each namespace down to its own: one pid, its own namespace (the
    initial one if its inode is). More, an ancestor: the initial one if the kernel's threads are in
    it (kthreadd, pid 2 there and only there; a parent beyond this process's own namespace cannot
    be opened, NS_GET_PARENT refuses it). Until the hostile exit review the reader's own namespace
    was taken: a daemon started in a namespace of its own with the host's /proc (unshare without
    --mount-proc) named the host's daemon by its host pid ('kill N', not that process there), and
    refused a start for a list it took as incomplete. Nothing known: the list taken as incomplete
    (a refusal is the safe side)."""
    try:
        status = (proc / "self" / "status").read_text()
    except OSError:  # no /proc/self in it: a namespace this process is not in (so not the initial one)
        return ProcView(every=False, ours=False)
    nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), None)
    if nspid is None or len(nspid) == 1:  # (no NSpid before Linux 4.1: one namespace then)
        try:
            return ProcView(every=os.stat(proc / "self" / "ns" / "pid").st_ino == INIT_PID_NS_INO, ours=True)
        except OSError:
            return ProcView(every=False, ours=True)
    return ProcView(every=_kernel_threads_in(proc), ours=False)


def _kernel_threads_in(proc: Path) -> bool:
    """Whether the /proc mount ``proc`` is the initial PID namespace's: its pid 2 is kthreadd, the
    kernel threads' parent (pid 2 of the initial namespace since Linux 2.6.22, in no other)."""
    try:
        fields = dict(line.split(":\t", 1) for line in (proc / "2" / "status").read_text().splitlines() if ":\t" in line)
    except OSError:
        return False
    return fields.get("Name") == "kthreadd" and fields.get("PPid") == "0"


def _as_seen_here(holder: LockHolder | None, path: Path) -> LockHolder | None:
    """``holder``, read from the lock ``path`` it holds, with the pid this process knows it by. Its
    lock says its pid in its own PID namespace: a daemon in a container sharing the data folder
    (the first in the container, often pid 1) said 'kill 1' to the host's family, and 'spasmwatch
    reload' would have signalled that pid here. The kernel's list of flocks says which process
    holds it as the /proc mount's namespace sees it (``_proc_view``): this process's own, the pid
    here; another (the host's /proc in a container), no pid here to name; one it leaves out, seen
    from a container, is the host's (or another container's): ``here`` False. Found by the exit
    review (PID namespaces: unshare)."""
    pids = _flock_pids(path) if holder is not None else None
    if holder is None or pids is None:
        return holder
    view = _proc_view()
    seen = [pid for pid in pids if pid > 0]  # (before Linux 4.14 one it does not see was listed, as pid 0)
    if seen and not view.ours:  # (numbered in another namespace: not this process's to name or signal)
        return replace(holder, here=False)
    if holder.pid in seen:
        return holder
    if seen:
        return replace(holder, pid=seen[0])
    return replace(holder, here=False) if pids or not view.every else holder


def _may_be_spasmwatch(pid: int) -> bool:
    """Whether the process ``pid`` may be a spasmwatch daemon: its command line names spasmwatch, or
    cannot be read (another account's under hidepid: taken as one, as before). Asked only of a flock
    matched by the file system's device alone: btrfs subvolumes reuse inode numbers and /proc/locks
    names them all by that one device, so an unrelated program's flock on a file of another
    subvolume refused the start and nothing was monitored (second cliedges review)."""
    try:
        return b"spasmwatch" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def _devices(path: Path, st: os.stat_result, mountinfo: Path) -> set[str]:
    """The devices (hex MAJ:MIN) /proc/locks may name ``path``'s file by: its stat's, and the file
    system's it is mounted from (mountinfo's field 3, in decimal: the superblock's, which
    /proc/locks says). They differ on btrfs, whose stat gives a subvolume's own device (measured
    on a loop-mounted btrfs: 00:29 by stat, 00:28 in /proc/locks): comparing stat's alone, the
    lock of another account's daemon there was never found (found by the second cliedges review)."""
    said = {_device(os.major(st.st_dev), os.minor(st.st_dev))}
    where = path.parent.resolve()
    beneath = [(point, dev) for point, dev in reversed(mounts(mountinfo) or []) if where.is_relative_to(point)]  # (the later of one point is on top)
    if beneath and (dev := max(beneath, key=lambda m: len(m[0].parts))[1]).count(":") == 1:
        major, minor = dev.split(":")
        if major.isdigit() and minor.isdigit():
            said.add(_device(int(major), int(minor)))
    return said


def _device(major: int, minor: int) -> str:
    """A device as /proc/locks names it: 'MAJ:MIN' in hex, two digits at least ('00:28')."""
    return f"{major:02x}:{minor:02x}"


def _open_fallback(store_path: Path, why: str) -> list[Held]:
    """Every fallback lock that opens, with its folder (held: ``_own_folder``), said in the log with
    ``why`` the lock beside the store could not be opened; none if none does (the error beside the
    store is then the one said). Every one, not the first: a daemon started without
    $XDG_RUNTIME_DIR (cron, 'su', a system unit: /tmp alone) never looked in the folder it names,
    and until the second cliedges review ran beside a daemon holding its lock there."""
    held: list[Held] = []
    for path in fallback_lock_paths(store_path):
        try:
            folder = _own_folder(path.parent)
        except OSError:
            continue
        try:
            held.append((path, open(path, "a", opener=private.opener), folder))
        except OSError:
            os.close(folder)
    if held:
        log.warning("%s: cannot open the daemon's lock beside the store (%s): it is %s instead (it keeps a second daemon off "
                    "the store)", lock_path(store_path), why, " and ".join(str(path) for path, _, _ in held))  # fmt: skip
    return held


def _own_folder(folder: Path) -> int:
    """``folder`` made (0700) or found, this user's and no link, open and flocked (shared: the
    daemon's own lock is the file inside). systemd-tmpfiles skips a flocked folder when it ages
    /tmp (10 days on Debian 13) but not a flocked file, which it removed (measured with
    systemd-tmpfiles 252): a second daemon would then have made a new one and run. This user's
    alone, another's link in the shared /tmp cannot have the lock's lines written into a file."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    if os.fstat(fd).st_uid != os.getuid():
        os.close(fd)
        raise PermissionError(errno.EPERM, "another user's folder", str(folder))
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def same_file(said: str, path: Path) -> bool:
    """Whether the config path a lock holds (``said``; "" for none) is ``path`` (a link to it too)."""
    return said != "" and (said == str(path.absolute()) or Path(said).resolve() == path.resolve())


def lock_holder(store_path: Path) -> LockHolder | None:
    """What the daemon holding ``store_path``'s lock now says of itself, or None: no daemon runs on
    that store (the lock is free, or was never taken), or it has not written its pid (``lock_held``)."""
    held = _held_file_of(store_path)
    return None if held is None else _as_seen_here(_holder(held[1]), held[0])


def lock_held(store_path: Path) -> bool:
    """Whether a daemon holds ``store_path``'s lock, whatever it says: one starting, or one a full
    disk kept from writing its pid (``DaemonLock._say``) holds it saying nothing."""
    return _held_file_of(store_path) is not None


def _held_file_of(store_path: Path) -> tuple[Path, str] | None:
    """The lock a daemon on ``store_path`` holds (beside it or a fallback) and its text; None when none does."""
    return next(((path, text) for path in _lock_paths(store_path) if (text := _held_file(path)) is not None), None)


def _held_file(path: Path) -> str | None:
    """A lock file's text while a daemon holds it; None when none does."""
    try:
        with open(path) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: a daemon runs on this store
                return f.read()
            fcntl.flock(f, fcntl.LOCK_UN)  # free: what it says is a stopped daemon's
            return None
    except OSError:
        return None


def _holder(text: str) -> LockHolder | None:
    """A held lock's lines (pid, config, address); None without a pid (read as it was written)."""
    lines = text.split("\n")
    if not lines[0].isdigit():
        return None
    config = lines[1] if len(lines) > 1 else ""
    # line 3 counts once its end is there ([3] exists): a half-written one is ignored
    return LockHolder(int(lines[0]), config, _address(lines[2]) if len(lines) > 3 else None)


def _address(line: str) -> tuple[str, int] | None:
    """``host:port`` (host may be IPv6: the port is after the last ':'); None if it is not that."""
    host, _, port = line.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None
