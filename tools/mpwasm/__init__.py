"""MicroPython's WebAssembly port, 32-bit, at the versions in package.json, run like the unix
port's ``micropython`` binary (run.mjs): the firmware's check on MicroPython older than the
unix port's, and its heap on a build with 4-byte pointers (docs/firmware.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

DIR = Path(__file__).resolve().parent
# On sys.path after the firmware for scripts that load firmware/sim: a socket module (the port has none).
LIB = DIR / "lib"
# The oldest builds there are, each named for the version it reports: just before 1.22.0 (every
# board's min_micropython), the first after it, and 1.23.0, the first release with asyncio.
OLD_BUILDS = ("mp-1.22.0-preview.278", "mp-1.23.0-preview.223", "mp-1.23.0")
# The build nearest the unix port's version (1.29 preview): its heap is compared with the unix port's.
RAM_BUILD = "mp-1.29.0"


class Missing(RuntimeError):
    """node or a pinned build is not installed."""


def command(version: str) -> list[str]:
    """The command line that runs a script under ``version`` (a name of package.json's
    dependencies), as ``[micropython]`` would; ``Missing`` says what to install."""
    if version not in json.loads((DIR / "package.json").read_text())["dependencies"]:
        raise ValueError(f"{version!r} is not pinned in {DIR / 'package.json'}")
    node = shutil.which("node")
    if node is None:
        raise Missing("node is missing: MicroPython's WebAssembly port runs under it (make install runs tools/install-system-deps: Debian's nodejs and npm)")
    if not (DIR / "node_modules" / version / "micropython.mjs").exists():
        raise Missing(f"MicroPython WebAssembly {version} is not installed in {DIR}/node_modules: run make install (npm ci --prefix tools/mpwasm)")
    # --single-threaded: V8 runs no background threads, so no WebAssembly compile job is left
    # running at exit. With them node sometimes never exited after the script, all output written,
    # asleep inside process.exit (run.mjs's last line): 1 run in 5-10 under the oldest build with
    # V8's defaults, and still 13 in ~120 runs of the per-sample no-allocation script under 1.23
    # with --no-liftoff (a 120 s timeout in a full suite, 2026-12-05); 0 in 470 with this flag, at
    # the same speed (1.1 s a run; --no-liftoff with it 1.5 s).
    return [node, "--single-threaded", str(DIR / "run.mjs"), version]
