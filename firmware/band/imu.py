"""IMU drivers: read the sensor FIFO in batches, convert to body-frame mg and 0.1 deg/s.

This module is the start-up half: the board's part and axis map read, its
driver built (``from_board``). Each part's code is in its module
(band/mpu6886.py, band/lsm6ds.py, band/icm42688.py), imported only for the board's part, on
what they share (band/imubase.py). The app drops this module once it has
started (band/startup.py), so its code does not stay on the heap all night.

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
``DRIVERS`` maps the board definitions' ``imu.part`` names to driver classes,
``from_board`` builds the board's.
"""

from array import array


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


# A board definition's ``imu.part`` -> its driver, "module.Class" in band/: only the board's own
# part's module is imported (from_board), so the others' code stays off the heap.
DRIVERS = {
    "mpu6886": "mpu6886.MPU6886",
    "lsm6ds3": "lsm6ds.LSM6DS3",
    "lsm6dsox": "lsm6ds.LSM6DSOX",
    "icm42688": "icm42688.ICM42688",
}


# What another chip answers at a driver's WHO_AM_I register (datasheets; PX4's and Adafruit's drivers),
# so a board file naming the wrong part says which chip is there: (register, value) -> the chip, and
# the board imu.part that drives it, if any.
KNOWN_CHIPS = {
    (0x75, 0x19): ("an MPU6886", "mpu6886"),
    (0x75, 0x47): ("an ICM-42688-P", "icm42688"),
    (0x75, 0x44): ("an ICM-42686-P", None),
    (0x75, 0x68): ("an MPU-6050", None),
    (0x75, 0x70): ("an MPU-6500", None),
    (0x75, 0x71): ("an MPU-9250", None),
    (0x0F, 0x69): ("an LSM6DS3", "lsm6ds3"),
    (0x0F, 0x6A): ("an LSM6DS3TR-C (or LSM6DSL)", "lsm6ds3"),
    (0x0F, 0x6C): ("an LSM6DSOX (or LSM6DSO)", "lsm6dsox"),
}


def found_part(reg, who):
    """Words for the chip that reads ``who`` at WHO_AM_I register ``reg``: which it is and the
    board imu.part for it, or that it is no chip this table knows."""
    chip = KNOWN_CHIPS.get((reg, who))
    if chip is None:
        return "a chip this table does not know: check the part on the board against the board file's imu.part"
    if chip[1] is None:
        return "this is %s, which the band has no driver for" % chip[0]
    return "this is %s: set the board file's imu.part to %r" % chip


def driver(part):
    """The driver class of ``part`` (a key of DRIVERS), its module imported."""
    mod, cls = DRIVERS[part].split(".")
    return getattr(__import__("band." + mod, None, None, (cls,)), cls)


def from_board(i2c, imu_def):
    """The driver for a board definition's ``imu`` section."""
    part = imu_def["part"]
    if part not in DRIVERS:
        raise ValueError("board imu.part %r: no driver (have %s)" % (part, ", ".join(sorted(DRIVERS))))
    return driver(part)(i2c, imu_def["i2c_address"], imu_def["axis_map"])
