"""IMU drivers: read the sensor FIFO in batches, convert to body-frame mg and 0.1 deg/s.

Each driver takes an injected I2C bus (``machine.I2C`` on a board, an emulated
register map in the simulator), the sensor's I2C address and the board's
``axis_map`` (for each body axis, which sensor axis feeds it, with sign). All
parts are set to +-4 g and +-500 deg/s and read through their hardware FIFO,
so the band's loop can sleep between batches without losing samples.

``read(out, max_n)`` writes up to ``max_n`` samples as 6 ints each
(ax, ay, az mg; gx, gy, gz ddps; body frame) into the ``array('h')`` ``out``
and returns how many it wrote. ``read`` allocates
nothing: bytes land in a preallocated buffer through preallocated views and
are decoded with integer math (tested under ``micropython.heap_lock``).
``DRIVERS`` maps the board definitions' ``imu.part`` names to driver classes.
"""

import time
from array import array

from micropython import const

# Largest batch drained per call (bytes buffer is sized for it).
BATCH_MAX = const(64)
# Accel +-4 g: 8192 LSB/g (MPU6886) or 0.122 mg/LSB (LSM6): mg = raw*125 >> 10 (0.12207 mg/LSB).
_MG_MUL = const(125)
_MG_SHIFT = const(10)
# Gyro +-500 deg/s, 65.5 LSB per deg/s (MPU6886): ddps = raw * 10 / 65.5 = raw * 10005 >> 16.
_MPU_GMUL = const(10005)


class ImuError(OSError):
    pass


def parse_axis_map(axis_map):
    """{"x": "+y", "y": "+x", "z": "+z"} -> array of (source index, sign) for body x, y, z."""
    m = array("b", bytes(6))
    seen = 0
    for j, body in enumerate("xyz"):
        spec = axis_map[body]
        if len(spec) != 2 or spec[0] not in "+-" or spec[1] not in "xyz":
            raise ValueError("axis_map %s: %r is not like '+x' or '-z'" % (body, spec))
        src = "xyz".index(spec[1])
        seen |= 1 << src
        m[2 * j] = src
        m[2 * j + 1] = 1 if spec[0] == "+" else -1
    if seen != 7:
        raise ValueError("axis_map uses a sensor axis twice: %r" % (axis_map,))
    return m


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
            raise ImuError("%s: WHO_AM_I 0x%02x, expected %s" % (self.__class__.__name__, who, self.WHO_AM_I))

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


class MPU6886(_I2CImu):
    """InvenSense MPU6886 (M5Stack Atom/StickC): 1 kHz base rate, 1 KB FIFO of 14-byte frames."""

    WHO_AM_I_REG = 0x75
    WHO_AM_I = (0x19,)
    FRAME = 14  # accel xyz, temp, gyro xyz; big-endian
    UNIT = 14
    GYRO = 8
    BIG_ENDIAN = True
    GMUL = _MPU_GMUL
    FIFO_BYTES = 1024

    def start(self, rate_hz):
        self._check_id()
        self._w(0x6B, 0x80)  # PWR_MGMT_1: reset
        time.sleep_ms(10)
        self._w(0x6B, 0x01)  # auto-select clock
        self._w(0x6C, 0x00)  # all axes on
        div = 19 if rate_hz < 75 else 9  # 1 kHz / (1 + div): 50 or 100 Hz
        self.rate_hz = 1000 // (1 + div)
        self._w(0x19, div)  # SMPLRT_DIV
        self._w(0x1A, 0x01)  # CONFIG: DLPF 176 Hz, FIFO overwrites oldest when full
        self._w(0x1B, 0x08)  # GYRO_CONFIG: +-500 deg/s
        self._w(0x1C, 0x08)  # ACCEL_CONFIG: +-4 g
        self._w(0x1D, 0x03)  # ACCEL_CONFIG2: DLPF 44.8 Hz
        self._w(0x23, 0x18)  # FIFO_EN: gyro + accel
        self._w(0x6A, 0x04)  # USER_CTRL: FIFO reset
        self._w(0x6A, 0x40)  # USER_CTRL: FIFO on
        return self.rate_hz

    def read(self, out, max_n):
        self._i2c.readfrom_mem_into(self._addr, 0x72, self._r2)  # FIFO_COUNT
        count = (self._r2[0] << 8) | self._r2[1]
        if count >= self.FIFO_BYTES - self.FRAME:
            self.overruns += 1  # it wrapped: frames may be misaligned, start over
            self._w(0x6A, 0x44)
            return 0
        return self._drain(out, 0x74, count // self.FRAME, max_n)  # FIFO_R_W


_LSM_ODR = {52: 0x30, 104: 0x40}
_LSM_GMUL = const(11469)  # 17.5 mdps/LSB -> ddps = raw * 0.175 = raw * 11469 >> 16


class LSM6DS3(_I2CImu):
    """ST LSM6DS3 / LSM6DS3TR-C: pattern-ordered FIFO of 16-bit words (gyro xyz, accel xyz)."""

    WHO_AM_I_REG = 0x0F
    WHO_AM_I = (0x69, 0x6A)
    ACC = 6  # gyro xyz, then accel xyz; little-endian
    GYRO = 0
    GMUL = _LSM_GMUL
    WORDS_HI = 0x0F  # FIFO_STATUS2 bits that hold the word count's high bits

    def _setup(self, rate_hz):
        self._check_id()
        self._w(0x12, 0x01)  # CTRL3_C: software reset
        time.sleep_ms(10)
        self._w(0x12, 0x44)  # CTRL3_C: block data update, address auto-increment
        self.rate_hz = 52 if rate_hz < 78 else 104
        odr = _LSM_ODR[self.rate_hz]
        self._w(0x10, odr | 0x08)  # CTRL1_XL: ODR, +-4 g
        self._w(0x11, odr | 0x04)  # CTRL2_G: ODR, +-500 deg/s
        return odr

    def start(self, rate_hz):
        odr = self._setup(rate_hz)
        self._w(0x0A, 0x00)  # FIFO_CTRL5: bypass (clears the FIFO)
        self._w(0x08, 0x09)  # FIFO_CTRL3: gyro and accel, no decimation
        self._w(0x0A, (odr >> 1) | 0x06)  # FIFO_CTRL5: FIFO ODR = sensor ODR, continuous
        return self.rate_hz

    def _fifo_words(self):
        """FIFO_STATUS1/2: how many words wait in the FIFO (an overrun is counted)."""
        self._i2c.readfrom_mem_into(self._addr, 0x3A, self._r2)
        if self._r2[1] & 0x40:
            self.overruns += 1
        return ((self._r2[1] & self.WORDS_HI) << 8) | self._r2[0]

    def read(self, out, max_n):
        i2c = self._i2c
        words = self._fifo_words()
        i2c.readfrom_mem_into(self._addr, 0x3C, self._r2)  # FIFO_STATUS3/4: pattern of next word
        pattern = self._r2[0] | ((self._r2[1] & 0x03) << 8)
        while pattern and words:  # realign to the first word of a sample (gyro x)
            i2c.readfrom_mem_into(self._addr, 0x3E, self._r2)
            words -= 1
            pattern = (pattern + 1) % 6
        return self._drain(out, 0x3E, words // 6, max_n)  # FIFO_DATA_OUT_L


class LSM6DSOX(LSM6DS3):
    """ST LSM6DSOX / LSM6DSO: tagged FIFO, 7 bytes per word (tag + x, y, z)."""

    WHO_AM_I = (0x6C,)
    FRAME = 14  # two tagged words (gyro, accel) per sample
    UNIT = 7  # one tagged word
    WORDS_HI = 0x03

    def start(self, rate_hz):
        odr = self._setup(rate_hz)
        self._w(0x0A, 0x00)  # FIFO_CTRL4: bypass (clears the FIFO)
        bdr = odr >> 4
        self._w(0x09, (bdr << 4) | bdr)  # FIFO_CTRL3: batch gyro and accel at the ODR
        self._w(0x0A, 0x06)  # FIFO_CTRL4: continuous
        return self.rate_hz

    def read(self, out, max_n):
        words = self._fifo_words()
        if words > 2 * BATCH_MAX:
            words = 2 * BATCH_MAX
        if words > 2 * max_n:
            words = 2 * max_n
        if words == 0:
            return 0
        self._i2c.readfrom_mem_into(self._addr, 0x78, self._views[words])
        b = self._raw
        t = self._t
        k = 0
        n = 0
        w = 0
        while w < words:
            o = w * 7
            tag = b[o] >> 3
            if tag == 0x01:  # gyroscope: held until its accelerometer word
                t[3] = _s16le(b, o + 1)
                t[4] = _s16le(b, o + 3)
                t[5] = _s16le(b, o + 5)
            elif tag == 0x02:  # accelerometer: completes a sample
                t[0] = _s16le(b, o + 1)
                t[1] = _s16le(b, o + 3)
                t[2] = _s16le(b, o + 5)
                self._emit(out, k, _LSM_GMUL)
                k += 6
                n += 1
            w += 1
        return n


DRIVERS = {
    "mpu6886": MPU6886,
    "lsm6ds3": LSM6DS3,
    "lsm6dsox": LSM6DSOX,
}


def from_board(i2c, imu_def):
    """The driver for a board definition's ``imu`` section."""
    part = imu_def["part"]
    cls = DRIVERS.get(part)
    if cls is None:
        raise ValueError("board imu.part %r: no driver (have %s)" % (part, ", ".join(sorted(DRIVERS))))
    return cls(i2c, imu_def["i2c_address"], imu_def["axis_map"])
