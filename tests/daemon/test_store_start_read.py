"""The daemon's start opens its store without reading the epochs and STATUS rows (_db.READ_AFTER_START:
98.5% of a year's pages) and reads them through after, in a worker thread (daemon/backups.py): a page
damaged there is found then and the store shut as one a call found damaged (docs/store.md, "The
daemon's start")."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from test_store_damage import _with_status_rows, damage_a_leaf_of

from spasmwatch.config import Config, load_config
from spasmwatch.daemon import main as daemon_main
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.store import Store, StoreError
from spasmwatch.transport.simband import free_port

WAIT_S = 60.0  # real s: the read after the start, on a loaded machine


def _files(path: Path) -> tuple[bytes, bytes]:
    wal = Path(f"{path}-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


@pytest.mark.parametrize("damaged", [True, False])
def test_the_daemon_reads_its_stores_epochs_and_status_rows_after_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: bool
) -> None:
    """Found by measuring the start (bench/store_open.py, a year of one band): its open read every page
    first (quick_check), 2.7-3.5 s here and seconds more on a Pi's SD card, before any band was taken on.
    Now a damaged STATUS page (a bad sector) leaves the store open at the start, and the read after it
    finds it: shut as one a call found damaged, the error naming the way out, nothing written after
    (tried again with integrity_check); a sound store stays open, read through. Backups off: the read is
    made all the same. Old code: refused at the open ('nothing was written to it'), read first."""
    path = tmp_path / "data" / "spasmwatch.db"
    path.parent.mkdir()
    _with_status_rows(path)
    if damaged:
        damage_a_leaf_of(path, "status")
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{path.parent}"\nbackup_keep_days = 0\n\n[daemon.http]\nport = {free_port()}\n\n'
                      "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n")  # fmt: skip
    stores: list[Store] = []
    at_start: list[StoreError | None] = []
    found: list[StoreError | None] = []  # why the store was shut after the start (None: it was not)
    shut: list[tuple[bytes, bytes]] = []
    build = daemon_main.build

    def built(cfg: Config, store: Store, *rest: Any) -> Daemon:  # the real daemon, its store kept to be looked at
        stores.append(store)
        at_start.append(store.open_error)
        return build(cfg, store, *rest)

    async def read_after_start() -> None:
        end = time.monotonic() + WAIT_S
        while stores[0].unread and stores[0].open_error is None:
            assert time.monotonic() < end, "the store's pages were not read after the start"
            await asyncio.sleep(0.05)
        found.append(stores[0].open_error)
        if stores[0].open_error is not None:
            shut.append(_files(path))
            assert not stores[0].reopen()  # the daemon's try again: read through, refused

    monkeypatch.setattr(daemon_main, "build", built)
    assert asyncio.run(asyncio.wait_for(daemon_main.serve(load_config(config), until=read_after_start), WAIT_S + 30)) == 0
    assert at_start == [None]  # opened at the start
    [error] = found
    if not damaged:
        assert error is None and not stores[0].unread
        return
    assert error is not None and error.damaged, error
    assert "the store is damaged" in str(error) and "found by the read of its pages after the daemon's start" in str(error), error
    assert f"spasmwatch store recover --db {path}" in str(error), error
    assert shut == [_files(path)]  # nothing written after it was found
