"""The LSM6DS3 and LSM6DSOX drivers (band/imu.py says what a driver does; loaded only on a board
with one of them)."""

import time

from micropython import const

from band.imubase import BATCH_MAX, _I2CImu, _s16le

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
