"""Simulated ICM-42688-P (register level, never flashed): 16-byte FIFO packets, big-endian
(header, accel xyz, gyro xyz, temperature, timestamp); the FIFO count at 0x2E and data at 0x30."""

import struct

from hw import FakeSensor

# ODR field of GYRO_CONFIG0 / ACCEL_CONFIG0 (bits 3:0) -> Hz, for the rates the band can ask for.
_ICM_RATES = {0x07: 200, 0x08: 100, 0x09: 50, 0x0A: 25}
# Full-scale field (bits 7:5) -> LSB per g and per deg/s (datasheet sensitivity tables): the
# emulation scales by what the driver set, so a driver that leaves the power-on +-16 g and
# +-2000 deg/s reads a quarter of every value.
_ACC_LSB = (2048, 4096, 8192, 16384)
_GYRO_LSB = (16.4, 32.8, 65.5, 131.0, 262.0, 524.3, 1048.6, 2097.2)
_HEADER = 0x68  # accel and gyro in the packet, an ODR timestamp (header bits 6, 5 and 3:2 = 10)


class FakeICM42688(FakeSensor):
    WHO = 0x47
    PACKET = 16

    def __init__(self, *a):
        super().__init__(*a)
        self.fifo_max = 2048
        self._reset()

    def _reset(self):
        self.regs = bytearray(256)
        self.regs[0x75] = self.WHO
        self.regs[0x4C] = 0x30  # INTF_CONFIG0 at reset: big-endian data and count
        self.regs[0x4F] = 0x06  # GYRO_CONFIG0 at reset: +-2000 deg/s, 1 kHz
        self.regs[0x50] = 0x06  # ACCEL_CONFIG0 at reset: +-16 g, 1 kHz
        self.fifo = bytearray()
        self._started_ms = None

    def write(self, reg, val):
        if reg == 0x11 and val & 0x01:  # DEVICE_CONFIG: soft reset
            self._reset()
            return
        self.regs[reg] = val
        if reg == 0x4B and val & 0x02:  # SIGNAL_PATH_RESET: FIFO flush
            self.fifo = bytearray()
        elif reg in (0x16, 0x4E, 0x5F) and self._started_ms is None and self._batching():
            self._start(_ICM_RATES[self.regs[0x4F] & 0x0F])

    def _batching(self):
        """Sensors in low-noise mode, accel and gyro into the FIFO, and STOP-on-FULL (the one mode
        emulated): packets start to come."""
        return self.regs[0x4E] & 0x0F == 0x0F and self.regs[0x5F] & 0x03 == 0x03 and self.regs[0x16] >> 6 >= 2

    def _push(self, v):
        a, g = self._counts(v, _ACC_LSB[self.regs[0x50] >> 5 & 3], _GYRO_LSB[self.regs[0x4F] >> 5])
        self.fifo += struct.pack(">B6hbH", _HEADER, a[0], a[1], a[2], g[0], g[1], g[2], 0, self._made & 0xFFFF)

    def _overflow(self, over):
        # STOP-on-FULL: the packet that does not fit is dropped; those kept stay whole.
        self.fifo = self.fifo[: len(self.fifo) - over - (-over) % self.PACKET]

    def read(self, reg, n):
        self._fill()
        if reg == 0x2E:
            c = len(self.fifo)
            return bytes(((c >> 8) & 0xFF, c & 0xFF))[:n]
        if reg == 0x30:
            return self.pop(n)
        return bytes(self.regs[reg : reg + n])
