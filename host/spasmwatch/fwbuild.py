"""Which firmware a band runs: the build id of the firmware sources ``spasmwatch flash`` writes.

Every firmware says 0.1.0 (band/app.py ``FIRMWARE_VERSION``) whatever its code, so the flash takes
a digest of the sources it compiles (the band runs .mpy files: it cannot hash sources) and writes it
onto the band as the module ``MODULE`` (``ID = "<12 hex>"``), which the band reports after its
version in Device Information's firmware revision (0x2A26, band/startup.py): ``0.1.0+<12 hex>``.
The simulated band imports the same module, made for its firmware tree (transport/simband.py),
and the daemon compares the band's build with this computer's at each connection (/api/status
``firmware_old``; docs/firmware.md "Build id").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from spasmwatch.codeid import content_sha256, named_sha256, short
from spasmwatch.errors import ConfigError
from swcore.protocol import REVISION_SEPARATOR

PACKAGES = ("band", "swcore")  # copied recursively; firmware/sim is for the unix-port simulator only
TOP_LEVEL = ("main.py",)
# The module the band imports its build id from, at its root: not inside band/, since the
# simulator's copy lives in a directory of its own, and a package cannot span two directories.
MODULE = "swbuild"


def files(firmware_dir: Path) -> list[tuple[Path, str]]:
    """(local file, path relative to the band's root) of every firmware source, in path order."""
    found = [name for name in TOP_LEVEL if (firmware_dir / name).is_file()]
    for pkg in PACKAGES:
        found += [f.relative_to(firmware_dir).as_posix() for f in (firmware_dir / pkg).rglob("*.py")]
    return [(firmware_dir / name, name) for name in sources(found, firmware_dir)]


def sources(paths: Iterable[str], where: object) -> list[str]:
    """The paths among ``paths`` (a firmware tree's files, relative to it, '/' between the parts: as
    on the band) a build is made of, in its order: ``TOP_LEVEL``, then each package's .py files (not
    __pycache__'s) in path order. ConfigError naming ``where`` (the tree) when one of ``TOP_LEVEL`` or
    a package's __init__.py is missing. From a directory (``files``) and from git's history alike."""
    chosen = {p for p in paths if p in TOP_LEVEL or _in_package(p)}
    for name in TOP_LEVEL:
        if name not in chosen:
            raise ConfigError(f"{where}: no {name}; is this the spasmwatch firmware directory?")
    for pkg in PACKAGES:
        if f"{pkg}/__init__.py" not in chosen:
            raise ConfigError(f"{where}/{pkg}: missing package (no __init__.py)")
    return sorted(chosen, key=_order)


def _in_package(path: str) -> bool:
    parts = path.split("/")
    return parts[0] in PACKAGES and path.endswith(".py") and "__pycache__" not in parts


def _order(path: str) -> tuple[int, tuple[str, ...]]:
    """The build's order: ``TOP_LEVEL``'s, then each package's files by their path's parts (as
    pathlib sorts: ``band/a/x.py`` before ``band/a-b.py``)."""
    parts = tuple(path.split("/"))
    if path in TOP_LEVEL:
        return TOP_LEVEL.index(path), ()
    return len(TOP_LEVEL) + PACKAGES.index(parts[0]), parts


def build_id(sources: list[tuple[Path, str]]) -> str:
    """The build id of ``sources`` (``files``' list): each file's band path and bytes, digested
    (``digested``)."""
    return digested((name, source_digest(f.read_bytes())) for f, name in sources)


def source_digest(data: bytes) -> bytes:
    """A firmware source's part of its build id: its bytes, its line ends read as LF: a band flashed
    from a Windows checkout (CRLF) of this computer's firmware runs the same code (until review h48e
    another id: the page said to flash it again)."""
    return content_sha256(data, crlf_as_lf=True)


def digested(named: Iterable[tuple[str, bytes]]) -> str:
    """The build id of the sources given as (band path, ``source_digest``), in ``sources``' order."""
    return short(named_sha256(named))


def tree_build(firmware_dir: Path) -> str | None:
    """The build id of the firmware in ``firmware_dir``; None when there is none there whole (no
    firmware directory: an installed package without a checkout; a file that cannot be read)."""
    try:
        return build_id(files(firmware_dir))
    except (ConfigError, OSError):
        return None


def module_source(build: str) -> bytes:
    """The module ``MODULE`` that carries ``build`` onto a band."""
    return f'# Written by spasmwatch flash (spasmwatch/fwbuild.py): the build id of these files.\nID = "{build}"\n'.encode()


def revision(version: str, build: str) -> str:
    """What a band with this build reports in 0x2A26."""
    return f"{version}{REVISION_SEPARATOR}{build}"


def build_of(revision: str) -> str | None:
    """The build id in a band's firmware revision; None when it has none (flashed by a spasmwatch
    from before build ids, or an empty revision: serial carries no Device Information)."""
    build = revision.partition(REVISION_SEPARATOR)[2]
    return build or None
