"""Simulated MPU6886 (register level, never flashed): 14-byte FIFO frames, big-endian,
accel xyz, temperature, gyro xyz; the FIFO count at 0x72 and data at 0x74."""

import struct

from hw import FakeSensor


class FakeMPU6886(FakeSensor):
    def __init__(self, *a):
        super().__init__(*a)
        self.regs[0x75] = 0x19

    def write(self, reg, val):
        self.regs[reg] = val
        if reg == 0x6B and val & 0x80:
            self.regs[0x23] = 0
            self.regs[0x6A] = 0
        if reg == 0x6A:
            if val & 0x04:
                self.fifo = bytearray()
            if val & 0x40 and self.regs[0x23] & 0x18 == 0x18:
                self._start(1000 // (1 + self.regs[0x19]))

    def read(self, reg, n):
        self._fill()
        if reg == 0x74:
            return self.pop(n)
        if reg == 0x72:
            c = len(self.fifo)
            return bytes(((c >> 8) & 0xFF, c & 0xFF))[:n]
        return bytes(self.regs[reg : reg + n])

    def _push(self, v):
        a, g = self._counts(v, 8192, 65.5)
        self.fifo += struct.pack(">hhhhhhh", a[0], a[1], a[2], 0, g[0], g[1], g[2])

    def _overflow(self, over):
        # Overwrites the oldest bytes: the count sits at the top and the driver must notice.
        self.fifo = self.fifo[over:]
