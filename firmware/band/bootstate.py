"""Boot counter and crash streak, kept in flash across resets.

``state.bin`` (sealed): ``<HBB`` boot_count, crash_streak, running. ``running``
is set at start-up and cleared only by a clean stop (safe reboot, critical
battery); finding it still set at the next boot means that run ended in a
crash, a watchdog reset or a power cut. ``_SAFE_MODE_CRASHES`` unclean ends in
a row, without ``STABLE_MS`` of healthy running in between, start the band
in safe mode.

A flash that refuses the file (ENOSPC, a worn block) costs only the crash
count: the band runs on (``save_failed`` set), never in safe mode, since
crashes it cannot count would otherwise hold it in a stale file's safe mode.

``checkpoint`` notes the boot's uptime (and the RTC timer's ms) in the board's
retained memory, the ESP32's RTC memory, which survives every reset but a
power-on; the next boot links itself to this one from it (band/bootlink.py).
RTC memory is RAM: a checkpoint costs no flash wear. A board without retained
memory (``retained`` None) writes none.
"""

import struct

from micropython import const

from swcore.crc import seal, unseal

NAME = "state.bin"
_FMT = const("<HBB")
_SAFE_MODE_CRASHES = const(3)
# A run this long (device ms) counts as healthy and clears the crash streak.
STABLE_MS = const(60000)
# The checkpoint in retained memory, read back by band/bootlink.py (which documents it): tag,
# boot, uptime ms, RTC ms (both modulo 2^32), flags; crc16. Private here (const names cost no
# RAM), so bootlink.py repeats them: tests/firmware/test_band_bootlink.py checks the two agree.
_CP_FMT = const("<BHIIB")
_CP_TAG = const(0x4C)
_CPF_RTC = const(0x01)
_CPF_FINAL = const(0x02)


class BootState:
    def __init__(self, storage, retained=None):
        self._storage = storage
        self._retained = retained
        self.boot_count = 0
        self.crash_streak = 0
        self.crashed = False  # the previous run ended uncleanly
        self.save_failed = False  # state.bin could not be written: the crash streak is not kept
        raw = unseal(storage.read(NAME), 4)
        if raw is not None:
            self.boot_count, self.crash_streak, running = struct.unpack(_FMT, raw)
            self.crashed = running != 0
        self.boot_count = (self.boot_count + 1) & 0xFFFF
        if self.crashed:
            self.crash_streak = min(self.crash_streak + 1, 255)
        self._save(1)
        self.safe_mode = self.crash_streak >= _SAFE_MODE_CRASHES and not self.save_failed

    def _save(self, running):
        try:
            self._storage.write_atomic(NAME, seal(struct.pack(_FMT, self.boot_count, self.crash_streak, running)))
        except OSError:
            # Raising here ended App() at every boot: a reset loop that never sensed.
            self.save_failed = True

    def checkpoint(self, up_ms, final=False):
        """Note this boot's uptime ``up_ms`` in retained memory (band/app.py: at each watchdog pass,
        and ``final`` just before a REBOOT's reset): the next boot links from the latest."""
        r = self._retained
        if r is not None:
            rtc = r.rtc_ms()
            flags = (_CPF_RTC if rtc is not None else 0) | (_CPF_FINAL if final else 0)
            cp = struct.pack(_CP_FMT, _CP_TAG, self.boot_count, up_ms & 0xFFFFFFFF, (rtc or 0) & 0xFFFFFFFF, flags)
            r.write(seal(cp))  # once a second, not per sample: its few bytes of heap are garbage at once

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
