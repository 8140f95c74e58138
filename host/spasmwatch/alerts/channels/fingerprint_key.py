"""The key of the failing channels' settings fingerprints (base.py ``fingerprint``): random, one per
installation, in ``fingerprint.key`` beside the config (mode 0600), never in the store.

Why a key: the store keeps a fingerprint of the settings each failing channel failed under, and a
family sends copies of the store (to a clinic). Unkeyed, a hash of the settings let anyone with a
copy confirm a guessed hand-chosen ntfy topic, webhook URL or password by hashing guesses.

Why beside the config: the config holds the very topics, URLs and passwords the key hides, so
whoever can read the key can read them anyway; the config is not what a family sends to a clinic,
and a copy of the store (or of the data folder) leaves the key behind.

Where the config's folder may not be written (root's /etc/spasmwatch under a service account, a
config on a read-only disk), the key is kept in this account's state folder instead
(``kept_key``: $XDG_STATE_HOME/spasmwatch, where the record of the stores opened is, never the data
folder a family copies), and each start looks for it beside the config, then there. Until the
second cliedges review such a key was one for each run: a channel that failed and still failed was
"changed: test it" after every restart, off the page's red banner and Home Assistant's
"Notifications failing", as if fixed. Two configs of one account without a key beside them share
the kept one: it hides their settings from a copy of a store, and both are that account's to read.

A key lost, damaged or unreadable never stops the daemon, and never shows a channel failing under
settings that cannot be told apart: a damaged one is replaced, and one that can be neither read nor
made in either place is one for this run alone (said in the log). The failures kept under another
key (a store moved to another computer too) are then "changed: test it" (Dispatcher.changed),
until each sends.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import tempfile
from pathlib import Path

import platformdirs

from spasmwatch import private

log = logging.getLogger(__name__)

KEY_NAME = "fingerprint.key"
KEY_BYTES = 32  # HMAC-SHA256's block of strength: 256 random bits, no guessing it
_CHANGED = "the failing channels kept under another key are shown 'changed: test it' until each sends"


def key_beside(config: Path) -> Path:
    """Where the key of the daemon started from ``config`` is kept: beside the file itself, whatever
    path names it (a link to it, a relative one). Beside the path as given until the second
    cliedges review: a config reached by a link (into a dotfiles folder) had a key per path, and
    its failing channels turned "changed" whenever the daemon was started by the other one."""
    return config.resolve().parent / KEY_NAME


def kept_key() -> Path:
    """Where the key is kept when it cannot be made beside the config: this account's state folder."""
    return Path(platformdirs.user_state_dir("spasmwatch")) / KEY_NAME


@functools.cache
def process_key() -> bytes:
    """The key of a daemon not started from a file (the demo, in-process runs): this process's alone."""
    return secrets.token_bytes(KEY_BYTES)


def load_key(path: Path, kept: Path | None = None) -> bytes:
    """The key in ``path``, else in ``kept`` (one made there by an earlier start: ``path`` could not
    be made then), made at first need in ``path``, else in ``kept`` (and in place of a damaged
    one); a new one for this run alone when it can be neither read nor made in either."""
    places = [path] if kept is None else [path, kept]
    errors: list[str] = []
    for place in places:  # a key already made, wherever it is: every start finds the same one
        try:
            return _read_or_make(place, make=False)
        except FileNotFoundError:
            continue
        except OSError as e:  # (one another account made, unreadable here: the next place is this one's)
            errors.append(f"{place}: {e.strerror or e}")
    for place in places:
        try:
            key = _make(place, replace=False)
        except OSError as e:
            errors.append(f"{place}: {e.strerror or e}")
            continue
        if place != path:
            log.info("the key of the failing channels' fingerprints cannot be made beside the config (%s): it is kept in %s",
                     "; ".join(errors), place)  # fmt: skip
        return key
    log.warning("cannot read or make the key of the failing channels' fingerprints (%s): one for this run alone; %s",
                "; ".join(errors), _CHANGED)  # fmt: skip
    return secrets.token_bytes(KEY_BYTES)


def _read_or_make(path: Path, make: bool = True) -> bytes:
    """The key in ``path`` (a damaged one replaced); one made there if there is none and ``make``,
    else FileNotFoundError."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        if not make:
            raise
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
