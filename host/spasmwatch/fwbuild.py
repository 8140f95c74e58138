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

from pathlib import Path

from spasmwatch.codeid import files_sha256, short
from spasmwatch.errors import ConfigError
from swcore.protocol import REVISION_SEPARATOR

PACKAGES = ("band", "swcore")  # copied recursively; firmware/sim is for the unix-port simulator only
TOP_LEVEL = ("main.py",)
# The module the band imports its build id from, at its root: not inside band/, since the
# simulator's copy lives in a directory of its own, and a package cannot span two directories.
MODULE = "swbuild"


def files(firmware_dir: Path) -> list[tuple[Path, str]]:
    """(local file, path relative to the band's root) of every firmware source, in path order."""
    if not (firmware_dir / "main.py").is_file():
        raise ConfigError(f"{firmware_dir}: no main.py; is this the spasmwatch firmware directory?")
    out = [(firmware_dir / name, name) for name in TOP_LEVEL]
    for pkg in PACKAGES:
        base = firmware_dir / pkg
        if not (base / "__init__.py").is_file():
            raise ConfigError(f"{base}: missing package (no __init__.py)")
        out += [(f, f.relative_to(firmware_dir).as_posix()) for f in sorted(base.rglob("*.py")) if "__pycache__" not in f.parts]
    return out


def build_id(sources: list[tuple[Path, str]]) -> str:
    """The build id of ``sources`` (``files``' list): each file's band path and bytes, digested, its
    line ends read as LF: a band flashed from a Windows checkout (CRLF) of this computer's firmware
    runs the same code (until review h48e another id: the page said to flash it again)."""
    return short(files_sha256(sources, crlf_as_lf=True))


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
