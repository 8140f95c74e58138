"""The key of the failing channels' settings fingerprints (base.py ``fingerprint``): random, one per
installation, in ``fingerprint.key`` beside the config (mode 0600), never in the store.

Why a key: the store keeps a fingerprint of the settings each failing channel failed under, and a
family sends copies of the store (to a clinic). Unkeyed, a hash of the settings let anyone with a
copy confirm a guessed hand-chosen ntfy topic, webhook URL or password by hashing guesses.

Why beside the config: the config holds the very topics, URLs and passwords the key hides, so
whoever can read the key can read them anyway; the config is not what a family sends to a clinic,
and a copy of the store (or of the data folder) leaves the key behind.

A key lost, damaged or unreadable never stops the daemon, and never shows a channel failing under
settings that cannot be told apart: a damaged one is replaced, and one that can be neither read nor
made is one for this run alone (said in the log). The failures kept under another key (a store
moved to another computer too) are then "changed: test it" (Dispatcher.changed), until each sends.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import tempfile
from pathlib import Path

from spasmwatch import private

log = logging.getLogger(__name__)

KEY_NAME = "fingerprint.key"
KEY_BYTES = 32  # HMAC-SHA256's block of strength: 256 random bits, no guessing it
_CHANGED = "the failing channels kept under another key are shown 'changed: test it' until each sends"


def key_beside(config: Path) -> Path:
    """Where the key of the daemon started from ``config`` is kept."""
    return config.absolute().parent / KEY_NAME


@functools.cache
def process_key() -> bytes:
    """The key of a daemon not started from a file (the demo, in-process runs): this process's alone."""
    return secrets.token_bytes(KEY_BYTES)


def load_key(path: Path) -> bytes:
    """The key in ``path``, made at first need (and in place of a damaged one); a new one for this
    run alone when it can be neither read nor made (a folder not ours, a read-only disk)."""
    try:
        return _read_or_make(path)
    except OSError as e:
        log.warning("%s: cannot read or make the key of the failing channels' fingerprints (%s): one for this run alone; %s",
                    path, e.strerror or e, _CHANGED)  # fmt: skip
        return secrets.token_bytes(KEY_BYTES)


def _read_or_make(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        return _make(path, replace=False)
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        log.warning("%s: not a key of the failing channels' fingerprints (%d characters): replaced by a new one; %s", path, len(text), _CHANGED)
        return _make(path, replace=True)
    private.tighten(path, "the key of the failing channels' fingerprints")
    return key


def _make(path: Path, replace: bool) -> bytes:
    """A new key written whole to ``path`` (0600); one another start made meanwhile is taken. Its
    folder's entry is not synced: a key lost to a power cut is a key lost (the failures "changed")."""
    private.make_dir(path.parent)
    key = secrets.token_bytes(KEY_BYTES)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # 0600 whatever the umask
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key.hex() + "\n")
            f.flush()
            os.fsync(f.fileno())  # whole on disk before it has its name: never half a key
        if replace:
            os.replace(tmp, path)
            return key
        try:
            os.link(tmp, path)  # never over a key another start made meanwhile
        except FileExistsError:
            return _read_or_make(path)
        except OSError:  # a filesystem without hard links (FAT, some FUSE): renamed, a race's key replaced at worst
            os.replace(tmp, path)
        return key
    finally:
        Path(tmp).unlink(missing_ok=True)
