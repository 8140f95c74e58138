"""The stores this account's daemon has opened, kept outside them (docs/store.md "A store on a
disk not mounted yet").

Why: families keep the store on a USB disk or an SD card, and at boot the daemon may start before
the disk is mounted. It made a new, empty store in the folder beneath the mount point: the baby's
history looked gone, open alarms were not restored, and once the disk was mounted over it the
events written meanwhile were hidden under the mount. A store path in this record that has no
file is a store not there yet, never a first run: the daemon runs without it and tries it again.

The record is a JSON list of absolute paths in the user's state folder
(``$XDG_STATE_HOME/spasmwatch``, else ~/.local/state/spasmwatch): not in the store's folder, which
is the one that may be missing."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import platformdirs

from spasmwatch import private
from spasmwatch.outfile import replace_durably
from spasmwatch.store._db import StoreError

log = logging.getLogger(__name__)

RECORD_NAME = "stores-opened.json"


class StoreMissing(StoreError):
    """A store this daemon opened before is not there: its disk is not mounted (yet), or it was
    moved away. Never made again in its place; the daemon tries it again (``Store.reopen``)."""


class KnownStores:
    """The record at ``path`` of the store files opened read-write by the daemon."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> KnownStores:
        return cls(Path(platformdirs.user_state_dir("spasmwatch")) / RECORD_NAME)

    def _paths(self) -> list[str]:
        """The stores recorded; none when the record is missing (a first run) or unreadable (said)."""
        try:
            paths = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as e:
            log.warning("%s cannot be read (%s): a store folder on a disk not mounted yet would get a new store", self.path, e)
            return []
        return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []

    def missing(self, store: Path) -> StoreMissing | None:
        """Why ``store`` must not be made: it was opened before and its file is not there (its folder
        gone, or there and empty: a mount point). None: it is there, or was never opened here."""
        if store.exists() or os.path.abspath(store) not in self._paths():
            return None
        folder = store.parent
        where = (f"the store folder {folder} is missing" if not folder.is_dir()
                 else f"{store} is missing from its folder (an empty folder may be where its disk mounts)")  # fmt: skip
        return StoreMissing(
            f"{where}: is its disk mounted? A store was opened there before: none is made in its place (the "
            f"history would look gone), and it opens once it is there. If it was moved away on purpose, "
            "'spasmwatch store new' makes a new, empty one"
        )

    def remember(self, store: Path) -> None:
        """``store`` opened: recorded once. A record that cannot be written is said, not raised: the
        store is open, only its protection against a disk not mounted yet is missing."""
        paths = self._paths()
        absolute = os.path.abspath(store)
        if absolute in paths:
            return
        tmp: str | None = None
        try:
            private.make_dir(self.path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # (0600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(paths + [absolute], f, indent=0)
            replace_durably(Path(tmp), self.path)
        except OSError as e:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            log.warning("%s cannot be written (%s): a store folder on a disk not mounted yet would get a new store", self.path, e.strerror or e)
