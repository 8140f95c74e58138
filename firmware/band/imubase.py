"""What the IMU drivers share (band/imu.py says what a driver does): the FIFO burst read and the
decode into the body frame, resident all night; each part's own code is in its module
(band/mpu6886.py, band/lsm6ds.py, band/icm42688.py).
"""

import sys
from array import array

from micropython import const

# Largest batch drained per call (bytes buffer is sized for it).
BATCH_MAX = const(64)
# Accel +-4 g: 8192 LSB/g (MPU6886, ICM-42688) or 0.122 mg/LSB (LSM6): mg = raw*125 >> 10 (0.12207 mg/LSB).
_MG_MUL = const(125)
_MG_SHIFT = const(10)


class ImuError(OSError):
    pass


class _I2CImu:
    has_gyro = True
    WHO_AM_I_REG = 0
    WHO_AM_I = ()
    FRAME = 12  # FIFO bytes per sample
    UNIT = 12  # FIFO bytes per burst-length step
    # Sample layout for _drain: byte offsets of accel x and gyro x in a frame (each xyz, 16-bit).
    ACC = 0
    GYRO = 6
    BIG_ENDIAN = False
    GMUL = 0  # gyro LSB -> ddps: raw * GMUL >> 16

    def __init__(self, i2c, address, axis_map):
        self._i2c = i2c
        self._addr = address
        from band.imu import parse_axis_map  # start-up code: band/imu.py is dropped once the app is up

        self._map = parse_axis_map(axis_map)
        self._raw = bytearray(BATCH_MAX * self.FRAME)
        mv = memoryview(self._raw)
        # One view per burst length, made once: slicing a memoryview allocates.
        self._views = [mv[: k * self.UNIT] for k in range(BATCH_MAX * self.FRAME // self.UNIT + 1)]
        self._t = array("i", bytes(24))  # one sample, sensor frame: ax ay az gx gy gz
        self._r1 = bytearray(1)
        self._r2 = bytearray(2)
        self.rate_hz = 0
        self.overruns = 0

    def _w(self, reg, val):
        self._r1[0] = val
        self._i2c.writeto_mem(self._addr, reg, self._r1)

    def _r(self, reg):
        self._i2c.readfrom_mem_into(self._addr, reg, self._r1)
        return self._r1[0]

    def _check_id(self):
        try:
            who = self._r(self.WHO_AM_I_REG)
        except OSError:
            raise ImuError("%s: no answer at I2C 0x%02x" % (self.__class__.__name__, self._addr))
        if who not in self.WHO_AM_I:
            msg = "%s at I2C 0x%02x: WHO_AM_I (register 0x%02x) reads 0x%02x, expected %s" % (
                self.__class__.__name__,
                self._addr,
                self.WHO_AM_I_REG,
                who,
                " or ".join("0x%02x" % w for w in self.WHO_AM_I),
            )
            # Which chip that is, where band/imu.py is loaded (at the REPL, hardware/BRINGUP.md "The
            # IMU"): the app drops it at start-up, and an import here, on a part's error path in the
            # night, could fail for memory and would keep its code on the heap.
            imu = sys.modules.get("band.imu")
            raise ImuError(msg if imu is None else msg + ": " + imu.found_part(self.WHO_AM_I_REG, who))

    def _drain(self, out, reg, n, max_n):
        """Burst-read min(n, max_n, BATCH_MAX) frames from FIFO data register ``reg`` and decode them
        into ``out`` (frames laid out as ACC, GYRO and BIG_ENDIAN say); returns how many."""
        if n > max_n:
            n = max_n
        if n > BATCH_MAX:
            n = BATCH_MAX
        if n == 0:
            return 0
        self._i2c.readfrom_mem_into(self._addr, reg, self._views[n])
        b = self._raw
        t = self._t
        s16 = _s16be if self.BIG_ENDIAN else _s16le
        fr = self.FRAME
        to_gyro = self.GYRO - self.ACC
        gmul = self.GMUL
        o = self.ACC  # accel x of the frame in b
        k = 0  # the sample in out
        end = 6 * n
        while k < end:
            t[0] = s16(b, o)
            t[1] = s16(b, o + 2)
            t[2] = s16(b, o + 4)
            g = o + to_gyro
            t[3] = s16(b, g)
            t[4] = s16(b, g + 2)
            t[5] = s16(b, g + 4)
            self._emit(out, k, gmul)
            o += fr
            k += 6
        return n

    def _emit(self, out, k, gmul):
        """Sensor-frame sample in self._t -> body frame at out[k:k+6] (gyro scaled by gmul >> 16)."""
        t = self._t
        m = self._map
        out[k] = (t[m[0]] * _MG_MUL >> _MG_SHIFT) * m[1]
        out[k + 1] = (t[m[2]] * _MG_MUL >> _MG_SHIFT) * m[3]
        out[k + 2] = (t[m[4]] * _MG_MUL >> _MG_SHIFT) * m[5]
        out[k + 3] = (t[3 + m[0]] * gmul >> 16) * m[1]
        out[k + 4] = (t[3 + m[2]] * gmul >> 16) * m[3]
        out[k + 5] = (t[3 + m[4]] * gmul >> 16) * m[5]


def _s16be(b, i):
    v = (b[i] << 8) | b[i + 1]
    return v - 65536 if v & 0x8000 else v


def _s16le(b, i):
    v = b[i] | (b[i + 1] << 8)
    return v - 65536 if v & 0x8000 else v
