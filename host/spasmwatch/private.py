"""Files that hold a baby's medical data are the user's alone: the store (its -wal and -shm too),
raw recordings, exports and the doctor's report are created mode 0600, and the folders spasmwatch
makes for them 0700, whatever the umask.

Why: with the usual umask 022 they were created 0644 in a 0755 folder (measured: a new store was
``-rw-r--r--`` in ``drwxr-xr-x``), so any other account on the computer (a shared family PC, a
guest login, a service's own user on a Raspberry Pi) could copy the child's spasms, notes,
treatments and raw movement. The config file was already 0600 (config.py ``write_atomic``).
"""

from __future__ import annotations

import logging
import os
import pwd
import shlex
import stat
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600  # read and write by the owner alone
DIR_MODE = 0o700  # only the owner may list or enter
OTHERS = stat.S_IRWXG | stat.S_IRWXO  # the bits that open a file to the group or to everyone


def make_dir(path: Path) -> None:
    """``path`` as a folder, created DIR_MODE when it is missing (its missing parents as the umask
    says: ~/.local/share is not ours to close). An existing folder is left as it is: it may be
    one the family chose and shares on purpose; the files in it are private anyway."""
    try:
        path.mkdir(mode=DIR_MODE)  # masked by the umask, which can only take more away
    except FileNotFoundError:  # a parent is missing (one that is a file: NotADirectoryError, raised)
        path.parent.mkdir(parents=True, exist_ok=True)
        make_dir(path)
    except FileExistsError:
        if not path.is_dir():
            raise


def make_dirs(path: Path) -> None:
    """``path`` and each missing folder above it created DIR_MODE: an export's (a BIDS dataset's
    root/sub-01/ses-01/beh), every one named by the family's --out, whose names (the participants',
    the sessions') another account listed when they were 0755 (the security review of 2026-12-07).
    An existing folder is left as it is (``make_dir``)."""
    if not path.parent.is_dir():
        make_dirs(path.parent)
    make_dir(path)


def create_file(path: Path) -> bool:
    """Create ``path`` empty with FILE_MODE if it does not exist (True when it did not); an
    existing one is left as it is. The program that writes it (SQLite, a writer taking a path)
    then opens what is already private, with no moment at the umask's mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def opener(path: str, flags: int) -> int:
    """``open(path, mode, opener=private.opener)``: a file it creates is FILE_MODE (raw recordings)."""
    return os.open(path, flags, FILE_MODE)


def mode_for(out: Path) -> int:
    """The mode to give a new version of ``out`` (an export, a report) before it is renamed onto
    it: the existing file's (the family may have opened it to others on purpose), else FILE_MODE."""
    try:
        return stat.S_IMODE(out.stat().st_mode)
    except FileNotFoundError:
        return FILE_MODE


def tighten(path: Path, what: str) -> bool:
    """Take the group's and everyone's access from an existing ``path`` (a store from before
    2026-12-05, created 0644), saying so once in the log; True if it changed. Missing: nothing.
    One that cannot be changed (another account's, a read-only mount) is logged, not raised: the
    monitor must still start."""
    try:
        mode = path.stat().st_mode
        if not mode & OTHERS:
            return False
        os.chmod(path, stat.S_IMODE(mode) & ~OTHERS)
    except FileNotFoundError:
        return False
    except OSError as e:
        log.warning("%s: %s is readable by other accounts on this computer and cannot be made private (%s): "
                    "'chmod go= %s' as its owner", path, what, e.strerror or e, path)  # fmt: skip
        return False
    log.warning("%s: %s was readable by other accounts on this computer (mode %o): now by you alone (%o)",
                path, what, stat.S_IMODE(mode), stat.S_IMODE(mode) & ~OTHERS)  # fmt: skip
    return True


def not_this_users(paths: Iterable[Path]) -> str:
    """For an open that failed: the first of ``paths`` (files or folders) this user may not read and
    write, whose it is and what gives it back, or "" when each may be (or is not there). A store, its
    WAL or the daemon's lock left by a 'sudo spasmwatch ...' once: SQLite said only 'unable to open
    database file' and the lock 'this user may not write in' its folder, which it may (found by the
    first-run audit)."""
    me = os.geteuid()
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue
        if os.access(p, os.R_OK | os.W_OK):
            continue
        if os.statvfs(p).f_flag & os.ST_RDONLY:  # no owner or mode change undoes it (chmod, chown: EROFS too)
            return (f"{p} is on a disk mounted read-only, whoever owns it ('findmnt -T {shlex.quote(str(p))}' shows it): "
                    "a disk remounted so after errors (an SD card) needs checking, then a restart")  # fmt: skip
        if st.st_uid == me:  # its own, its mode taken away
            how = f"'chmod u+rw{'x' if p.is_dir() else ''} {shlex.quote(str(p))}' gives it back"
        else:
            how = _give_back(p, me)
        return (f"{p} belongs to {user_name(st.st_uid)} (mode {stat.S_IMODE(st.st_mode):o}) and this user, {user_name(me)}, "
                f"may not read and write it: {how}")  # fmt: skip
    return ""


def _give_back(p: Path, me: int) -> str:
    """The command that gives user ``me`` another account's ``p`` (a file or a folder of the
    store's), naming spasmwatch's files alone: 'chown -R' of the folder was said whatever it was,
    and a data_dir of ~ or /var/lib made it the user's whole home or a folder of the system's (the
    cliedges review). A folder holding only spasmwatch's files (or named so: its default one,
    made by 'sudo spasmwatch run') is given back whole; in a shared one, spasmwatch's files are;
    a shared folder itself never: spasmwatch gets a folder of its own in it."""
    folder, who = (p if p.is_dir() else p.parent), user_name(me)
    try:
        names: list[str] | None = sorted(os.listdir(folder))
    except OSError:  # not listed: taken as shared
        names = None
    if folder.name == "spasmwatch" or (names is not None and all(map(_spasmwatchs, names))):
        return f"was spasmwatch run once with sudo? 'sudo chown -R {who} {shlex.quote(str(folder))}' gives its folder back (only spasmwatch's files are in it)"
    if p.is_dir() or names is None:
        own = folder / "spasmwatch"
        return (f"{folder} holds other files than spasmwatch's: leave its owner as it is, and give spasmwatch a folder of its own "
                f"in it: 'sudo install -d -o {who} -m 700 {shlex.quote(str(own))}', then [daemon] data_dir = \"{own}\" in the config")  # fmt: skip
    theirs = " ".join(shlex.quote(str(folder / n)) for n in names if _spasmwatchs(n) and (folder / n).lstat().st_uid != me)
    return f"was spasmwatch run once with sudo? 'sudo chown -R {who} {theirs}' gives spasmwatch's files back ({folder} holds others' too: leave it as it is)"


def _spasmwatchs(name: str) -> bool:
    """Whether a data folder's entry ``name`` is spasmwatch's: the store and its -wal, -shm and
    lock, the raw recordings' folder, the simulated bands' bonds (daemon/main.py)."""
    return name.startswith("spasmwatch") or name in ("raw", "sim-bonds.json")


def user_name(uid: int) -> str:
    """Account ``uid``'s name, else 'user UID'."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # an account this computer does not name (a file from another machine)
        return f"user {uid}"
