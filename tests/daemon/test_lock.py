"""The store's lock (daemon/lock.py): where the daemon listens (line 3).

Real parts: the lock taken by ``one_daemon`` in this process (an flock, as the daemon takes it;
a second open of the file sees it held)."""

from __future__ import annotations

import os
from pathlib import Path

from spasmwatch.daemon.lock import LockHolder, lock_holder, lock_path, one_daemon


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
