"""The store's lock, ``<store>.lock``: one daemon per store, and what the CLI learns from it.

Its own module, apart from daemon/main.py: 'reload' and the config commands read it, and
importing the daemon (aiohttp, the band sessions) for that took 0.5 s more per command."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spasmwatch.store import StoreError


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


@contextmanager
def one_daemon(store_path: Path, config_path: Path | None = None) -> Iterator[None]:
    """Hold ``<store>.lock`` while the daemon runs: a second daemon on the same store would restore
    and escalate the same alarms and raise "band disconnected" for the band it cannot reach.
    It holds the daemon's pid and the config file it reloads: 'spasmwatch reload' signals that
    pid, and 'config add-ntfy' suggests it when the file is this one (``lock_holder``)."""
    with open(lock_path(store_path), "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"another spasmwatch daemon is using {store_path}: stop it first") from None
        try:
            f.truncate(0)
            f.write(f"{os.getpid()}\n{config_path.absolute() if config_path is not None else ''}\n")
            f.flush()
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def serving_pid(store_path: Path, config_path: Path) -> int | None:
    """The pid of the daemon that holds ``store_path``'s lock now and reloads ``config_path`` on
    SIGHUP, or None (no daemon, or one started from another file or from a Config in-process)."""
    held = lock_holder(store_path)
    return held[0] if held is not None and same_file(held[1], config_path) else None


def same_file(said: str, path: Path) -> bool:
    """Whether the config path a lock holds (``said``; "" for none) is ``path`` (a link to it too)."""
    return said != "" and (said == str(path.absolute()) or Path(said).resolve() == path.resolve())


def lock_holder(store_path: Path) -> tuple[int, str] | None:
    """(pid, the config file it reloads: "" for none) of the daemon holding ``store_path``'s lock
    now, or None: no daemon runs on that store (the lock is free, or was never taken)."""
    try:
        with open(lock_path(store_path)) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: a daemon runs on this store
                pid, _, path = f.read().partition("\n")
                return (int(pid), path.rstrip("\n")) if pid.isdigit() else None
            fcntl.flock(f, fcntl.LOCK_UN)  # free: what it says is a stopped daemon's
            return None
    except OSError:
        return None
