"""Output files written whole or not at all: ``with whole_file(out) as f: f.write(...)``.

The text goes to ``OUT.part`` beside ``out`` and is renamed onto it once complete, so an
error, a full disk, ^C or SIGTERM leaves any earlier ``out`` as it was and nothing half-written
(found by the input audit: ^C during 'simulate' left a 92 MB CSV that replayed as a
shorter recording and blocked the rerun; SIGTERM left the ``.part`` until review h51). A path that cannot be written is a
SpasmwatchError naming it, not a traceback; an existing non-file (a folder, a link such
as /dev/stdout) is refused, as the rename would replace it (the audit's 'export raw --csv
/dev/stdout --force' replaced the /dev/stdout link with a regular file). The rename is
made durable (``replace_durably``): after a power cut ``out`` is the earlier file or the new
one, whole.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from spasmwatch import private
from spasmwatch.errors import SpasmwatchError


def part_path(out: str | os.PathLike[str]) -> Path:
    """Where ``whole_file`` writes before the rename."""
    path = Path(out)
    return path.with_name(path.name + ".part")


def check_writable(out: str | os.PathLike[str], option: str = "") -> None:
    """Refuse early (before a long run) what ``whole_file`` would refuse: an existing non-file,
    a folder that does not exist or this user may not write in (another account's, a disk mounted
    read-only: found by the CLI input audit, 'evaluate --json' there was refused once the whole
    run was scored). ``option`` (e.g. "--json") prefixes the message."""
    path, lead = Path(out), f"{option}: " if option else ""
    if path.is_symlink() or path.exists() and not path.is_file():  # the rename would replace the link itself
        raise SpasmwatchError(f"{lead}{path}: is not a regular file (a link, a folder or a device): choose a file name")
    if not path.parent.is_dir():  # never made: a typo's folder is not where anyone looks for the file
        missing = f"the folder {path.parent} does not exist" if not path.parent.exists() else f"{path.parent} is not a folder"
        raise SpasmwatchError(f"{lead}{path}: {missing}")
    if not os.access(path.parent, os.W_OK | os.X_OK):  # OUT.part is made there, then renamed
        raise SpasmwatchError(f"{lead}{path}: this user may not write in the folder {path.parent}: choose another")


@contextmanager
def whole_path(out: str | os.PathLike[str], what: str = "") -> Iterator[Path]:
    """The path to write ``out`` through (OUT.part), renamed onto ``out`` when the block ends
    without an error, for writers that take a path (pyedflib, pyarrow); ``what`` (e.g. "the
    recording") goes in errors. A new ``out`` is mode 0600 (exports and reports hold the baby's
    data: private.py), one written over keeps its mode. ``part`` is made 0600 before the writer
    opens it (``_fresh_part``)."""
    path, part = Path(out), part_path(out)
    check_writable(path)
    try:
        with term_as_interrupt():
            _fresh_part(part)
            yield part
            os.chmod(part, private.mode_for(path))
            replace_durably(part, path)
    except OSError as exc:
        _discard(part)
        where = f" ({exc.filename})" if exc.filename and os.fspath(exc.filename) != os.fspath(path) else ""
        raise SpasmwatchError(f"{path}: cannot write{' ' + what if what else ''}: {exc.strerror or exc}{where}") from exc
    except BaseException as exc:
        if _discard(part) and isinstance(exc, KeyboardInterrupt):  # said by cli.main after 'interrupted'
            earlier = f"; the earlier {path.name} left as it was" if path.exists() else ""
            exc.add_note(f"{path} not written (its part, {part.name}, removed{earlier})")
        raise


@contextmanager
def term_as_interrupt() -> Iterator[None]:
    """SIGTERM ('kill', 'timeout', a service's stop) raises KeyboardInterrupt in the block, as ^C
    does, so what ^C cleans up it cleans up: ``whole_path``'s ``.part`` (its default action ended the
    process where it was, the ``.part`` left: CLI input audit of review h51), 'evaluate''s workers.
    Over SIGTERM's default action alone and in the main thread alone (Python runs its handlers
    there): a handler already set (an outer block's) stays, and so does the daemon's way (it
    blocks SIGTERM in every thread for a thread of its own: no handler runs)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    before = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def whole_file(out: str | os.PathLike[str], what: str = "") -> Iterator[BinaryIO]:
    """``whole_path``, opened: a binary file to write ``out`` through (0600 from its first byte:
    a cut ``.part`` of an export is the baby's data too)."""
    with whole_path(out, what) as part, open(part, "wb", opener=private.opener) as f:
        yield f


def _fresh_part(part: Path) -> None:
    """``part`` made empty and 0600 (private.FILE_MODE) for a writer that opens it by its path, which
    keeps an existing file's mode: until the security review of 2026-12-07 it had the umask's 0644
    until the rename, and another account that opened it meanwhile (minutes, for an EDF of a
    month's raw movement) kept reading it after. A ``.part`` a crash left, or a link in its name, is
    removed first, never written through."""
    if part.is_symlink() or part.is_file():
        part.unlink()
    if not private.create_file(part):  # a folder of that name, or a file made meanwhile by another program
        raise FileExistsError(errno.EEXIST, "exists and is not spasmwatch's to write through", str(part))


def _discard(part: Path) -> bool:
    """Remove what was written of ``part`` (a folder of that name is not ours: left alone); whether it was there."""
    if part.is_file() and not part.is_symlink():
        part.unlink()
        return True
    return False


def replace_durably(part: Path, path: Path) -> None:
    """Rename the complete ``part`` onto ``path`` so that after a power cut ``path`` is the old file
    or the new one, whole: ``part``'s bytes reach the disk first (fsync), then the rename, then the
    folder's entry for it (fsync of the folder). Without the first a filesystem may commit the
    rename before the data (ext4 without auto_da_alloc, XFS, btrfs: an empty or partial file where
    the family's earlier export was); without the second the rename itself may be lost on a
    reboot. Every whole-file write goes through here: exports, reports, simulated recordings and
    the config (config.py ``write_atomic``). Until 2026-12-05 exports and reports were not synced
    at all, and the config's folder was not."""
    sync_file(part)
    os.replace(part, path)
    sync_folder(path.parent)


def sync_file(path: Path) -> None:
    """``path``'s bytes on disk (fsync works on a descriptor opened for reading: the writer may have
    closed its own): ``replace_durably``'s first step, for a caller with work between the two."""
    _sync(path, os.O_RDONLY)


def sync_folder(folder: Path) -> None:
    """``folder``'s entries on disk (a rename into it survives a reboot): ``replace_durably``'s last step."""
    try:
        _sync(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        if e.errno != errno.EINVAL:  # a filesystem that cannot sync a folder (some FUSE, CIFS): as durable as it makes it
            raise


def _sync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
