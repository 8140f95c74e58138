"""The MPU6886 driver (band/imu.py says what a driver does; loaded only on a board with one)."""

import time

from micropython import const

from band.imubase import _I2CImu

# Gyro +-500 deg/s, 65.5 LSB per deg/s: ddps = raw * 10 / 65.5 = raw * 10005 >> 16.
_MPU_GMUL = const(10005)
_FIFO_BYTES = const(1024)


class MPU6886(_I2CImu):
    """InvenSense MPU6886 (M5Stack Atom/StickC): 1 kHz base rate, 1 KB FIFO of 14-byte frames."""

    WHO_AM_I_REG = 0x75
    WHO_AM_I = (0x19,)
    FRAME = 14  # accel xyz, temp, gyro xyz; big-endian
    UNIT = 14
    GYRO = 8
    BIG_ENDIAN = True
    GMUL = _MPU_GMUL

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
        if count >= _FIFO_BYTES - self.FRAME:
            self.overruns += 1  # it wrapped: frames may be misaligned, start over
            self._w(0x6A, 0x44)
            return 0
        return self._drain(out, 0x74, count // self.FRAME, max_n)  # FIFO_R_W
