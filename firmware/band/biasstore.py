"""The gyro bias, kept in flash across boots.

``bias.bin`` (sealed): ``<hhh`` bias x, y, z (0.1 deg/s, body frame). A band
that boots on an awake, moving baby (put on in the morning, a watchdog
reset, a battery swap) may see no still second for a while; until it does,
the detector measured rotation against a bias of 0. It now starts from the
last bias kept, as if from one still block (``GyroBias.seed``). Measured on
the second simulator: of the first three spasms of 24 clusters, a band
booted 3 s before the cluster detects 24 of 72 from 0 and 28 from the kept
bias (29 with 10 min of lead-in).
"""

import struct

from micropython import const

from swcore import consts as C
from swcore.crc import seal, unseal

NAME = "bias.bin"
_FMT = const("<hhh")
# Kept once the bias rests on BIAS_BLOCKS still blocks, then at most every
# _SAVE_MS and only when it moved by _SAVE_DDPS: a few flash writes a day.
_SAVE_MS = const(600000)
_SAVE_DDPS = const(2)


class BiasStore:
    def __init__(self, storage):
        self._storage = storage
        self.saved = None  # (bx, by, bz) ddps, or None
        self._saved_ms = 0
        raw = unseal(storage.read(NAME), 6)
        if raw is not None:
            self.saved = struct.unpack(_FMT, raw)

    def keep(self, bias, now_ms):
        """Write ``bias`` (a ``GyroBias``) to flash if it is settled and worth a write."""
        if bias.still < C.BIAS_BLOCKS:
            return False
        s = self.saved
        if s is not None:
            if now_ms - self._saved_ms < _SAVE_MS:
                return False
            if abs(bias.bx - s[0]) + abs(bias.by - s[1]) + abs(bias.bz - s[2]) < _SAVE_DDPS:
                return False
        new = (_i16(bias.bx), _i16(bias.by), _i16(bias.bz))
        try:
            self._storage.write_atomic(NAME, seal(struct.pack(_FMT, *new)))
        except OSError:
            return False  # a worn block or a full file system: the bias only speeds up the next boot
        self.saved = new
        self._saved_ms = now_ms
        return True


def _i16(v):
    return -32768 if v < -32768 else (32767 if v > 32767 else v)
