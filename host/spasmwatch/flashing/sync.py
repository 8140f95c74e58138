"""Bring a band's files in line with a set of images, copying only what differs.

The band itself is the truth: every file we own is hashed on the band (one
call), so a file changed or corrupted behind our back is found and a
half-finished earlier flash is repaired. The manifest (``MANIFEST``) records
what we installed so files we no longer ship can be removed, and so
``board info`` can say what is installed.

Order, so that a band unplugged mid-flash never boots a mixed app:

0. if anything differs, check that it fits on the band's flash (else refuse, the band untouched);
1. if anything differs: remove ``/main.py`` and the manifest first (an
   interrupted flash leaves a band that boots to the REPL, and the next flash
   re-hashes everything);
2. create directories (parents first);
3. write changed files in path order, ``main.py`` excluded; remove stale ones
   and any ``.py`` that would shadow a new ``.mpy``;
4. re-hash everything on the band; any mismatch stops here (no main.py);
5. write ``/main.py`` and check its hash;
6. write the manifest.

The manifest and the images marked ``atomic`` are written to a temporary name
and renamed onto theirs: a cut leaves the old file whole. A temporary file an
interrupted flash left is never read, and the next flash removes it.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from spasmwatch.flashing.device import TMP_SUFFIX, Device, FlashWarning, Room
from spasmwatch.flashing.firmware import Image
from spasmwatch.flashing.link import DeviceError

MANIFEST = "/.spasmwatch_manifest.json"
MAIN = "/main.py"
MANIFEST_VERSION = 1


@dataclass
class SyncReport:
    written: list[str] = field(default_factory=list)  # in the order written
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


class Progress:
    """What the flash tells its user; the CLI prints it, tests record it."""

    def start(self, board_id: str) -> None:
        """The band passed the checks made before the compile: the flash prepares board ``board_id``."""

    def compile(self, modules: int, arch: str) -> None:
        """``modules`` sources are about to be compiled for ``arch`` (seconds, with nothing else to say)."""

    def plan(self, to_write: Sequence[Image], unchanged: int, to_remove: Sequence[str]) -> None:
        """The last check (room, which needs the compiled sizes) passed: what the flash writes and removes."""

    def file(self, image: Image) -> None:
        pass

    def bytes(self, n: int) -> None:
        pass

    def done(self) -> None:
        pass


def _dirs(paths: Sequence[str]) -> list[str]:
    """Every directory above ``paths``, parents before children."""
    out: set[str] = set()
    for p in paths:
        parts = p.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/" + "/".join(parts[:i]))
    return sorted(out, key=lambda d: (d.count("/"), d))


def _shadows(images: Sequence[Image]) -> list[str]:
    # MicroPython imports x.py before x.mpy: an old source copy would win.
    return [im.path[:-4] + ".py" for im in images if im.path.endswith(".mpy")]


def _manifest_paths(doc: object) -> list[str]:
    if isinstance(doc, dict) and isinstance(doc.get("files"), dict):
        return [p for p in doc["files"] if isinstance(p, str) and p.startswith("/")]
    return []


def read_manifest(device: Device) -> tuple[dict[str, Any] | None, str | None]:
    """The band's manifest: (it, None), (None, None) if there is none, or (None, what is wrong with it)."""
    doc, problem = device.read_object(MANIFEST)
    if doc is not None and not isinstance(doc.get("files"), dict):
        return None, f'{MANIFEST} on the band has no "files" object (the installed files and their hashes)'
    return doc, problem


def write_order(images: Sequence[Image]) -> list[Image]:
    """Path order, ``/main.py`` last."""
    return sorted(images, key=lambda im: (im.path == MAIN, im.path))


def sync(device: Device, images: Sequence[Image], meta: dict[str, object], progress: Progress | None = None) -> SyncReport:
    """Make the band hold exactly ``images`` (plus its own data); ``meta`` goes into the manifest."""
    progress = progress or Progress()
    by_path = {im.path: im for im in images}
    if len(by_path) != len(images):
        raise ValueError("two images for one device path")
    old, damaged = read_manifest(device)
    if damaged is not None:
        warnings.warn(
            f"{damaged}: files an earlier flash installed that this firmware no longer has cannot be named, "
            "and stay on the band; the flash writes the manifest afresh",
            FlashWarning, stacklevel=2,
        )  # fmt: skip
    stale = [p for p in _manifest_paths(old) if p not in by_path]
    shadows = _shadows(images)
    # Left by a flash cut between writing a temporary file and renaming it: never read, removed here.
    temps = [p + TMP_SUFFIX for p in [*(im.path for im in images if im.atomic), MANIFEST]]
    on_band = device.hashes(list(by_path) + stale + shadows + temps)
    report = SyncReport()
    to_write = [im for im in write_order(images) if on_band.get(im.path) != im.sha256]
    to_remove = sorted({p for p in stale + shadows + temps if on_band.get(p) is not None})
    if (to_write or to_remove) and MAIN in by_path and by_path[MAIN] not in to_write:
        to_write.append(by_path[MAIN])  # step 1 removes it, so it is written again
    report.unchanged = sorted(p for p in by_path if p not in {im.path for im in to_write})
    if to_write or to_remove:
        _check_room(device, to_write, to_remove)  # before step 1 removes main.py
    progress.plan(to_write, len(report.unchanged), to_remove)
    if to_write or to_remove:
        _apply(device, images, to_write, to_remove, report, progress)
    manifest = dict(meta)
    manifest.update(version=MANIFEST_VERSION, files={im.path: im.sha256 for im in write_order(images)})
    if report.changed or not _same_files(old, manifest):
        manifest["written_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        device.write(MANIFEST, json.dumps(manifest, sort_keys=True).encode(), atomic=True)
    progress.done()
    return report


def _check_room(device: Device, to_write: Sequence[Image], to_remove: Sequence[str]) -> None:
    """Refuse, before anything is removed, a flash whose files cannot fit on the band: it removed
    main.py, then failed at a write (ENOSPC), and running it again failed the same way."""
    room = device.room([im.path for im in to_write] + list(to_remove))
    need = _peak_blocks(room, to_write, to_remove)
    if need > room.free_blocks:
        kb = room.block_bytes / 1024
        raise DeviceError(
            f"no room on the band for this firmware: it needs {need} more {kb:g} KB blocks of flash, and "
            f"{room.free_blocks} {'is' if room.free_blocks == 1 else 'are'} free: nothing was written, the band is "
            f"as it was (an app on it runs as before). {_FREE_ROOM}"
        )


def _peak_blocks(room: Room, to_write: Sequence[Image], to_remove: Sequence[str]) -> int:
    """The most blocks past those in use now the flash holds at once, taking its steps in _apply's
    order: main.py and the stale files removed first, the others written in to_write's order, main.py
    last. A file rewritten in place frees its old blocks as it is opened (truncated); an atomic one
    keeps them until its rename. Not the sum at the end: a module that grows, written before one that
    shrinks by as much, needs its blocks while the other still holds its own (hostile review h42r2)."""

    def old(path: str) -> int:
        return room.blocks(room.sizes.get(path) or 0)

    main = [im for im in to_write if im.path == MAIN]
    held = -sum(old(p) for p in to_remove) - sum(old(im.path) for im in main)  # step 1 removes them
    peak = 0
    for im in [im for im in to_write if im.path != MAIN] + main:
        replaced = 0 if im.path == MAIN else old(im.path)  # (main.py's went in step 1)
        if not im.atomic:
            held -= replaced
        held += room.blocks(len(im.data))
        peak = max(peak, held)
        if im.atomic:  # renamed onto the old file, whose blocks go then
            held -= replaced
    return peak


# What to do about a full band: its own data (/data: event log, config, bonds) is never the flash's to remove.
_FREE_ROOM = (
    "Free room on it: files that are not spasmwatch's ('mpremote fs ls :/' lists them; the app's are main.py, "
    "board.json, device.json, band/, swcore/ and data/), or erase it (docs/flashing.md, 'Erasing a band')"
)
ENOSPC = 28  # errno of a write to a file system with no room left (LittleFS LFS_ERR_NOSPC, POSIX)


def _no_room(exc: BaseException) -> bool:
    """Whether the band's error is a full file system ('OSError: 28', 'OSError: [Errno 28] ENOSPC')."""
    return isinstance(exc, DeviceError) and bool(re.search(rf"OSError: (\[Errno )?{ENOSPC}\b", str(exc)))


def _same_files(old: object, new: dict[str, object]) -> bool:
    if not isinstance(old, dict):
        return False
    return all(old.get(k) == v for k, v in new.items())


def _apply(
    device: Device,
    images: Sequence[Image],
    to_write: list[Image],
    to_remove: list[str],
    report: SyncReport,
    progress: Progress,
) -> None:
    # Stale files go with main.py and the manifest, first: once the manifest is gone nothing
    # would name them again, and an interrupted flash would leave them on the band for good.
    try:
        device.remove([MAIN, *to_remove, MANIFEST])  # inside: a cut here may already have removed main.py
        report.removed = to_remove
        main = next((im for im in images if im.path == MAIN), None)
        device.mkdirs(_dirs([im.path for im in images]))
        for im in to_write:
            if im.path == MAIN:
                continue
            _write(device, im, report, progress)
        _verify(device, [im for im in images if im.path != MAIN], "main.py was not written, so the band will not start a mixed app")
        if main is not None:
            _write(device, main, report, progress)
            _verify(device, [main], "the band will not start the app")
    except _Mismatch:
        raise  # it says itself what the band will do
    except (DeviceError, KeyboardInterrupt) as exc:
        full = f" (the band's flash is full: {_FREE_ROOM[0].lower()}{_FREE_ROOM[1:]})" if _no_room(exc) else ""
        raise DeviceError(f"{exc or 'interrupted'}{full}; the flash was cut short: the band has no main.py and does not "
                          "monitor until 'spasmwatch flash' is run again") from exc  # fmt: skip


def _write(device: Device, im: Image, report: SyncReport, progress: Progress) -> None:
    progress.file(im)
    report.written.append(im.path)
    device.write(im.path, im.data, progress.bytes, im.atomic)


class _Mismatch(DeviceError):
    """A file read back differs from what was written (its message says the consequence)."""


def _verify(device: Device, images: Sequence[Image], consequence: str) -> None:
    got = device.hashes([im.path for im in images])
    bad = [im for im in images if got.get(im.path) != im.sha256]
    if bad:
        first = bad[0]
        seen = got.get(first.path) or "no file"
        raise _Mismatch(
            f"verification failed for {len(bad)} file(s), first {first.path}: the band has {seen[:16]}, "
            f"expected {first.sha256[:16]}; {consequence}. Check the USB cable and run the flash again."
        )

