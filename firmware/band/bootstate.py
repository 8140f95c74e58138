"""Boot counter and crash streak, kept in flash across resets.

``state.bin``: ``<HBB`` boot_count, crash_streak, running + crc16. ``running``
is set at start-up and cleared only by a clean stop (safe reboot, critical
battery); finding it still set at the next boot means that run ended in a
crash, a watchdog reset or a power cut. ``SAFE_MODE_CRASHES`` unclean ends in
a row, without ``STABLE_MS`` of healthy running in between, start the band
in safe mode.
"""

import struct

from micropython import const

from swcore.crc import crc16

NAME = "state.bin"
_FMT = "<HBBH"
SAFE_MODE_CRASHES = const(3)
# A run this long (device ms) counts as healthy and clears the crash streak.
STABLE_MS = const(60000)


class BootState:
    def __init__(self, storage):
        self._storage = storage
        self.boot_count = 0
        self.crash_streak = 0
        self.crashed = False  # the previous run ended uncleanly
        self.corrupt = False
        raw = storage.read(NAME)
        if raw is not None:
            if len(raw) == 6 and crc16(raw, 0, 4) == struct.unpack_from("<H", raw, 4)[0]:
                self.boot_count, self.crash_streak, running, _ = struct.unpack(_FMT, raw)
                self.crashed = running != 0
            else:
                self.corrupt = True
        self.boot_count = (self.boot_count + 1) & 0xFFFF
        if self.crashed:
            self.crash_streak = min(self.crash_streak + 1, 255)
        self.safe_mode = self.crash_streak >= SAFE_MODE_CRASHES
        self._save(1)

    def _save(self, running):
        b = bytearray(6)
        struct.pack_into(_FMT, b, 0, self.boot_count, self.crash_streak, running, 0)
        struct.pack_into("<H", b, 4, crc16(b, 0, 4))
        self._storage.write_atomic(NAME, b)

    def mark_stable(self):
        """The run has been healthy long enough: forget earlier crashes."""
        if self.crash_streak:
            self.crash_streak = 0
            self._save(1)

    def mark_running(self):
        """Sensing again after a clean pause (critical battery): a crash from here counts."""
        self._save(1)

    def mark_clean(self):
        """Called just before a deliberate stop: the next boot is not a crash."""
        self.crash_streak = 0
        self._save(0)
