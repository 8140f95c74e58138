"""Operations on a band's files and status, each one a small program run over the raw REPL.

Every device path is absolute on the band (``/band/imu.mpy``); the link's
``root`` is prefixed on the device side, so the very same programs run on a
board (root "") and on a unix-port band (root = its directory). Programs print
one JSON line; anything else the band prints is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from spasmwatch.flashing.link import DeviceError, Link

CHUNK_BYTES = 1024  # per exec when writing a file (raw-paste flow control handles the rest)
# An atomic write goes to the file's name plus this, then is renamed onto the name (as band/storage.py's
# write_atomic does): a cut leaves the old file whole and at most this temporary file beside it.
TMP_SUFFIX = ".tmp"
# Names of MicroPython's native-code architectures, indexed by sys.implementation._mpy >> 10
# (py/persistentcode.h MP_NATIVE_ARCH_*; checked against mpy-cross by the tests).
MPY_ARCHS = (
    None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
    "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc",
)  # fmt: skip

# Keeps a band's hardware watchdog (armed by the app before we stopped it; it
# survives a soft reset) from resetting it in the middle of a flash: re-arm it
# long and feed it on every call. Only where an app is installed: a bare
# MicroPython board has no watchdog running and gets none.
_KEEPALIVE = """
import os
_sw_wdt = None
try:
    os.stat(_R + '/main.py')
    import machine
    _sw_wdt = machine.WDT(timeout=60000)
except Exception:
    pass
def _sw_feed():
    if _sw_wdt:
        _sw_wdt.feed()
"""

_INFO = """
import sys, os, json, gc
gc.collect()
try:
    _m = os.uname().machine
except Exception:
    _m = sys.platform
try:
    _s = os.statvfs(_R or '/')
    _fs = [_s[0] * _s[2], _s[0] * _s[4]]
except Exception:
    _fs = [0, 0]
print(json.dumps({'version': list(sys.implementation.version[:3]), 'mpy': getattr(sys.implementation, '_mpy', 0),
    'machine': _m, 'platform': sys.platform, 'fs_total': _fs[0], 'fs_free': _fs[1], 'mem_free': gc.mem_free()}))
"""

_HASH = """
import hashlib, binascii, json
def _sw_hash(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    h = hashlib.sha256()
    b = bytearray(512)
    m = memoryview(b)
    while True:
        n = f.readinto(b)
        if not n:
            break
        h.update(m[:n])
    f.close()
    return binascii.hexlify(h.digest()).decode()
_r = {}
for _p in _P:
    _sw_feed()
    _r[_p] = _sw_hash(_R + _p)
print(json.dumps(_r))
"""

_ROOM = """
import os, json
_s = os.statvfs(_R or '/')
_z = {}
for _p in _P:
    try:
        _z[_p] = os.stat(_R + _p)[6]
    except OSError:
        _z[_p] = None
print(json.dumps({'block': _s[0], 'free': _s[4], 'sizes': _z}))
"""

_MKDIRS = """
import os
for _d in _P:
    try:
        os.mkdir(_R + _d)
    except OSError:
        pass
    if not os.stat(_R + _d)[0] & 0x4000:
        raise OSError('not a directory: ' + _d)
"""

_REMOVE = """
import os
for _p in _P:
    try:
        os.remove(_R + _p)
    except OSError:
        pass
"""


class FlashWarning(UserWarning):
    """A file the flash reads back from the band was damaged or missing; the warning says what it does instead."""


class UnreadableFile(DeviceError):
    """A file is there but the band cannot read it (e.g. a damaged flash filesystem)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: the band cannot read it ({reason})")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class DeviceInfo:
    version: tuple[int, int, int]
    mpy: int  # sys.implementation._mpy
    machine: str
    platform: str
    fs_total: int
    fs_free: int
    mem_free: int

    @property
    def mpy_version(self) -> str:
        """``6.3``: bytecode version and sub-version the band loads."""
        return f"{self.mpy & 0xFF}.{(self.mpy >> 8) & 3}"

    @property
    def arch(self) -> str | None:
        index = self.mpy >> 10
        return MPY_ARCHS[index] if index < len(MPY_ARCHS) else None

    @property
    def version_str(self) -> str:
        return ".".join(str(v) for v in self.version)


@dataclass(frozen=True)
class Room:
    """The band's file system: its block size and free blocks, and the size of some files on it."""

    block_bytes: int
    free_blocks: int
    sizes: dict[str, int | None]  # None: no such file

    def blocks(self, n: int) -> int:
        """Blocks a file of ``n`` bytes takes (LittleFS gives each file whole blocks; a tiny one may
        sit in its folder's metadata: counted as one, the estimate errs towards enough room)."""
        return -(-n // self.block_bytes)


class Device:
    def __init__(self, link: Link) -> None:
        self.link = link
        self._run(_KEEPALIVE)

    @property
    def name(self) -> str:
        return self.link.name

    def _run(self, program: str, paths: Sequence[str] = (), timeout_s: float = 20.0) -> bytes:
        head = f"_R = {self.link.root!r}\n_P = {list(paths)!r}\n"
        return self.link.exec(head + program, timeout_s)

    def run_json(self, program: str, paths: Sequence[str] = (), timeout_s: float = 20.0) -> Any:
        """Run ``program`` (which prints one JSON line) with ``_R`` = root and ``_P`` = paths."""
        out = self._run(program, paths, timeout_s)
        for line in reversed(out.decode("utf-8", "replace").splitlines()):
            line = line.strip()
            if line.startswith(("{", "[")):
                return json.loads(line)
        raise DeviceError(f"{self.name}: no answer from the band (got {out[-200:]!r})")

    def info(self) -> DeviceInfo:
        d = self.run_json(_INFO)
        v = (list(d["version"]) + [0, 0, 0])[:3]
        return DeviceInfo(
            (int(v[0]), int(v[1]), int(v[2])), int(d["mpy"]), str(d["machine"]), str(d["platform"]),
            int(d["fs_total"]), int(d["fs_free"]), int(d["mem_free"]),
        )  # fmt: skip

    def hashes(self, paths: Iterable[str]) -> dict[str, str | None]:
        """sha256 (hex) of each file on the band, None where there is no such file."""
        paths = sorted(set(paths))
        if not paths:
            return {}
        got = self.run_json(_HASH, paths)
        return {p: got.get(p) for p in paths}

    def read(self, path: str) -> bytes | None:
        """A small file's bytes, or None if it does not exist; UnreadableFile if the band cannot read it."""
        program = (
            "import binascii, json\ntry:\n f = open(_R + _P[0], 'rb')\n try:\n  d = f.read()\n finally:\n  f.close()\n"
            "except OSError as e:\n print(json.dumps({'missing': 1} if e.args[0] == 2 else {'error': str(e)}))\n"  # 2: ENOENT
            "else:\n print('{\"hex\": \"%s\"}' % binascii.hexlify(d).decode())\n"
        )
        d = self.run_json(program, [path])
        if "error" in d:
            raise UnreadableFile(path, str(d["error"]))
        return None if "missing" in d else bytes.fromhex(d["hex"])

    def read_object(self, path: str) -> tuple[dict[str, Any] | None, str | None]:
        """The JSON object in ``path``: (it, None), (None, None) for a missing file, or (None, what is wrong with it).

        A file cut short while written (a pulled cable, a power cut) is empty or truncated: damaged, not missing.
        """
        where = f"{path} on the band"
        try:
            raw = self.read(path)
        except UnreadableFile as exc:
            return None, f"{where} cannot be read ({exc.reason})"
        if raw is None:
            return None, None
        if not raw.strip():
            return None, f"{where} is empty ({len(raw)} bytes)"
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as exc:
            # Some of json's messages end in "at" ("Unterminated string starting at"): one "at" before the byte.
            return None, f"{where} is not valid JSON ({exc.msg.removesuffix(' at')} at byte {exc.pos} of {len(raw)}: truncated or damaged)"
        except ValueError as exc:  # not UTF-8
            return None, f"{where} is not JSON text ({exc})"
        if not isinstance(doc, dict):
            return None, f"{where} holds a JSON {type(doc).__name__}, not an object"
        return doc, None

    def exists(self, path: str) -> bool:
        """Whether the band has a file or directory at ``path``."""
        d = self.run_json("import os, json\ntry:\n os.stat(_R + _P[0])\n _e = 1\nexcept OSError:\n _e = 0\nprint(json.dumps({'e': _e}))", [path])
        return bool(d["e"])

    def room(self, paths: Sequence[str]) -> Room:
        """Free blocks on the band's file system, and the size of each of ``paths``."""
        d = self.run_json(_ROOM, paths)
        return Room(int(d["block"]), int(d["free"]), {p: (None if n is None else int(n)) for p, n in d["sizes"].items()})

    def mkdirs(self, dirs: Sequence[str]) -> None:
        if dirs:
            self._run(_MKDIRS, dirs)

    def remove(self, paths: Sequence[str]) -> None:
        if paths:
            self._run(_REMOVE, paths)

    def write(self, path: str, data: bytes, progress: Callable[[int], None] | None = None, atomic: bool = False) -> None:
        """Write a whole file in chunks; ``progress(n)`` after each chunk of n bytes.

        ``atomic``: write ``path`` + TMP_SUFFIX and rename it onto ``path`` (LittleFS, and POSIX on the
        unix port, replace atomically), so a cut leaves the old file whole, never part of the new one.
        """
        target = path + TMP_SUFFIX if atomic else path
        self._run("_sw_feed()\n_f = open(_R + _P[0], 'wb')", [target])
        try:
            for i in range(0, len(data), CHUNK_BYTES):
                chunk = data[i : i + CHUNK_BYTES]
                self.link.exec(f"_sw_feed()\n_f.write({chunk!r})")
                if progress:
                    progress(len(chunk))
        finally:
            self.link.exec("_f.close()")
        if atomic:  # only once the whole file is written and closed
            self._run("import os\nos.rename(_R + _P[0], _R + _P[1])", [target, path])

    def unique_id(self) -> str | None:
        """The chip's factory id (eFuse MAC on ESP32) as hex, None where there is none."""
        d = self.run_json(
            "import json, binascii\ntry:\n import machine\n u = binascii.hexlify(machine.unique_id()).decode()\n"
            "except Exception:\n u = None\nprint(json.dumps({'id': u}))"
        )
        uid = d.get("id")
        return str(uid) if uid else None
