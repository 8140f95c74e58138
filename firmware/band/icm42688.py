"""The ICM-42688-P driver (band/imu.py says what a driver does; loaded only on a board with one).

Register map: TDK InvenSense DS-000347 (ICM-42688-P datasheet), user bank 0, which is the bank at
power-on and after a soft reset; the driver never selects another.
"""

import time

from micropython import const

from band.imubase import _I2CImu

# Gyro +-500 deg/s, 65.5 LSB per deg/s (as the MPU6886's): ddps = raw * 10 / 65.5 = raw * 10005 >> 16.
_ICM_GMUL = const(10005)
# The FIFO holds 2 KB; in STOP-on-FULL mode it keeps the packets it has and takes no more.
_FIFO_BYTES = const(2048)
# GYRO_CONFIG0 / ACCEL_CONFIG0 ODR field (bits 3:0): 1001 = 50 Hz, 1000 = 100 Hz.
_ODR = {50: 0x09, 100: 0x08}


class ICM42688(_I2CImu):
    """TDK InvenSense ICM-42688-P: 2 KB FIFO of 16-byte packets (header, accel xyz, gyro xyz,
    temperature, timestamp; big-endian), ODR 50 or 100 Hz."""

    WHO_AM_I_REG = 0x75
    WHO_AM_I = (0x47,)
    FRAME = 16  # FIFO packet 3: header, accel xyz, gyro xyz, 1-byte temperature, 2-byte timestamp
    UNIT = 16
    ACC = 1
    GYRO = 7
    BIG_ENDIAN = True
    GMUL = _ICM_GMUL

    def start(self, rate_hz):
        self._check_id()
        self._w(0x11, 0x01)  # DEVICE_CONFIG: soft reset (the datasheet asks for 1 ms before the next write)
        time.sleep_ms(2)
        self._w(0x4C, 0x30)  # INTF_CONFIG0: data and FIFO count big-endian, the count in bytes
        self.rate_hz = 50 if rate_hz < 75 else 100
        odr = _ODR[self.rate_hz]
        self._w(0x4F, 0x40 | odr)  # GYRO_CONFIG0: +-500 deg/s, ODR
        self._w(0x50, 0x40 | odr)  # ACCEL_CONFIG0: +-4 g, ODR
        self._w(0x5F, 0x07)  # FIFO_CONFIG1: accel, gyro and temperature in each packet (packet 3)
        self._w(0x16, 0x80)  # FIFO_CONFIG: STOP-on-FULL (a full FIFO keeps whole packets: no realigning)
        self._w(0x4E, 0x0F)  # PWR_MGMT0: gyro and accel in low-noise mode
        time.sleep_ms(1)  # no register write for 200 us after a sensor is turned on (datasheet)
        self._w(0x4B, 0x02)  # SIGNAL_PATH_RESET: FIFO flush
        return self.rate_hz

    def read(self, out, max_n):
        self._i2c.readfrom_mem_into(self._addr, 0x2E, self._r2)  # FIFO_COUNTH/L, in bytes
        count = (self._r2[0] << 8) | self._r2[1]
        if count > _FIFO_BYTES - self.FRAME:
            self.overruns += 1  # full: the part stopped taking samples (read on: its packets are whole)
        return self._drain(out, 0x30, count // self.FRAME, max_n)  # FIFO_DATA
