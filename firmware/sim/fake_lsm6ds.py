"""Simulated LSM6DS3 (pattern FIFO) and LSM6DSOX (tagged FIFO), register level, never flashed."""

import struct

from hw import FakeSensor

_LSM_RATES = {0x30: 52, 0x40: 104}


class FakeLSM6DS3(FakeSensor):
    """Pattern FIFO: 16-bit words gyro x, y, z, accel x, y, z; FIFO_STATUS3 gives the next word's slot."""

    WHO = 0x6A
    # LSM6DS3TR-C (WHO_AM_I 0x6A, what the boards carry): "smart FIFO up to 4 kbyte", 2048 words
    # (the original LSM6DS3, 0x69, has 8 KB): an overrun comes after 341 samples, 3.3 s at 104 Hz.
    FIFO_WORDS = 2048
    SAMPLE_BYTES = 12  # FIFO bytes of one sample: overflow drops whole samples

    def __init__(self, *a):
        super().__init__(*a)
        self.regs[0x0F] = self.WHO
        self._popped = 0
        self.fifo_max = 2 * self.FIFO_WORDS
        self.overrun = False

    def write(self, reg, val):
        self.regs[reg] = val
        if reg == 0x0A:
            if val & 0x07 == 0:
                self.fifo = bytearray()
                self._started_ms = None
            elif val & 0x07 == 0x06 and self._batching():
                self._popped = 0
                self._start(_LSM_RATES[self.regs[0x10] & 0xF0])

    def _batching(self):
        """Whether continuous mode starts filling the FIFO (this part: always)."""
        return True

    def _push(self, v):
        a, g = self._counts(v, 8192, 1000 / 17.5)
        self.fifo += struct.pack("<hhhhhh", g[0], g[1], g[2], a[0], a[1], a[2])

    def _overflow(self, over):
        over += (-over) % self.SAMPLE_BYTES
        self.fifo = self.fifo[over:]
        self.overrun = True

    def read(self, reg, n):
        self._fill()
        if reg == 0x3A:
            w = len(self.fifo) // 2
            st2 = ((w >> 8) & 0x0F) | (0x40 if self.overrun else 0) | (0x10 if w == 0 else 0)
            self.overrun = False
            return bytes((w & 0xFF, st2))[:n]
        if reg == 0x3C:
            p = self._popped % 6
            return bytes((p, 0))[:n]
        if reg == 0x3E:
            n -= n % 2
            self._popped += n // 2
            return self.pop(n)
        return bytes(self.regs[reg : reg + n])


class FakeLSM6DSOX(FakeLSM6DS3):
    """Tagged FIFO: 7-byte words (tag, x, y, z), gyro (tag 0x01) then accel (tag 0x02)."""

    WHO = 0x6C
    SAMPLE_BYTES = 14

    def __init__(self, *a):
        super().__init__(*a)
        self.fifo_max = 7 * 512

    def _batching(self):
        return self.regs[0x09] != 0  # FIFO_CTRL3: gyro/accel batch rates set

    def _push(self, v):
        a, g = self._counts(v, 8192, 1000 / 17.5)
        self.fifo += struct.pack("<Bhhh", 0x01 << 3, g[0], g[1], g[2])
        self.fifo += struct.pack("<Bhhh", 0x02 << 3, a[0], a[1], a[2])

    def read(self, reg, n):
        self._fill()
        if reg == 0x3A:
            w = len(self.fifo) // 7
            st2 = ((w >> 8) & 0x03) | (0x40 if self.overrun else 0)
            self.overrun = False
            return bytes((w & 0xFF, st2))[:n]
        if reg == 0x78:
            n -= n % 7
            return self.pop(n)
        return bytes(self.regs[reg : reg + n])
