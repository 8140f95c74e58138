"""Simulated band hardware for the MicroPython unix port (never flashed).

- ``SimClock`` (sim/clock.py, re-exported): virtual milliseconds driven by the
  sampler; real time once the recording ends.
- ``CsvSource``: a recording (``t,ax,ay,az[,gx,gy,gz]`` in s, g, deg/s) read
  lazily and resampled to the sensor's rate.
- Register-level emulations of the MPU6886 (sim/fake_mpu6886.py), the
  LSM6DS3 and LSM6DSOX (sim/fake_lsm6ds.py) and the ICM-42688-P
  (sim/fake_icm42688.py) behind a fake I2C bus, so the firmware's real drivers
  (FIFO reads, scaling, axis map) run in CI. The recording is in the body frame; the emulation rotates it into the
  sensor frame with the inverse of the board's ``axis_map``.
- ``SimRetained`` (sim/retained.py, loaded only with --retained): the ESP32's RTC
  memory and RTC timer across simulated resets.
- ``SimBattery``, ``SimWDT``; the flash is band/storage.py's ``Storage`` on a directory, or
  with a fault asked for (power loss in the middle of one event-log write, writes refused, a
  full or slow flash) sim/faultfile.py's ``FaultStorage``.
"""

import errno

from clock import SimClock  # noqa: F401  (run.py builds it from here)

EXIT_RESET = 3  # hw.reset() (safe reboot)
EXIT_CRASH = 4  # unhandled exception: the board would reset
EXIT_WDT = 5  # watchdog not fed
EXIT_POWER_LOSS = 6  # simulated power cut (torn write)
EXIT_TIMEOUT = 7


class CsvSource:
    """Body-frame samples (g, deg/s floats) from a recording, at any requested rate."""

    def __init__(self, path, skip_s=0.0):
        self._f = open(path)
        head = self._f.readline().strip().split(",")
        if head[:4] != ["t", "ax", "ay", "az"]:
            raise ValueError("%s: header %r, expected t,ax,ay,az[,gx,gy,gz]" % (path, head))
        self._gyro = len(head) >= 7
        self._row = None
        data0 = self._f.tell()
        self._next = self._read()
        self._t0 = self._next[0] if self._next else 0.0
        self.done = self._next is None
        self.skip_s = skip_s
        if skip_s > 0 and not self.done:
            self._seek(data0, self._t0 + skip_s)
            self._next = self._read()

    def _seek(self, data0, t):
        """Put the file at a row at or a few rows before time ``t``, by bisection on byte offsets
        (rows are in time order). A reboot late in a long recording then starts at once: reading
        every row up to it took seconds, during which a paced band fell minutes behind."""
        f = self._f
        f.seek(0, 2)
        lo, hi = data0, f.tell()  # the first whole row after lo is at or before t (or lo is data0)
        while hi - lo > 4096:
            mid = (lo + hi) // 2
            f.seek(mid)
            f.readline()  # the rest of the row mid fell in
            line = f.readline()
            if line.strip() and float(line[: line.index(",")]) <= t:
                lo = mid
            else:
                hi = mid
        f.seek(lo)
        if lo != data0:
            f.readline()

    def _read(self):
        line = self._f.readline()
        if not line.strip():
            return None
        v = [float(x) for x in line.split(",")]
        if not self._gyro:
            v = v[:4] + [0.0, 0.0, 0.0]
        return v

    def at(self, t_s):
        """The sample in effect at ``t_s`` seconds into the recording (after the skip), or None at the end."""
        t = self._t0 + self.skip_s + t_s
        # 0.5 ms of slack: recordings store t rounded (e.g. 0.0385 for 2/52 s).
        while self._next is not None and self._next[0] <= t + 0.0005:
            self._row = self._next
            self._next = self._read()
        if self._next is None:
            self.done = True
            return None
        return self._row if self._row is not None else self._next


class FakeSensor:
    """Common part of the register emulations: time -> samples -> sensor-frame counts."""

    def __init__(self, address, axis_map, source, clock):
        self.address = address
        self._src = source
        self._clock = clock
        self._inv = []
        for j, body in enumerate("xyz"):
            spec = axis_map[body]
            self._inv.append(("xyz".index(spec[1]), -1 if spec[0] == "-" else 1, j))
        self.regs = bytearray(256)
        self.fifo = bytearray()
        self._started_ms = None
        self._made = 0
        self.rate_hz = 0  # the rate the driver configured
        self.odr_scale = 1.0  # real parts run off their own oscillator: actual rate = rate_hz * odr_scale
        self.fifo_max = 1024

    def _counts(self, v, acc_lsb_g, gyro_lsb_dps):
        """Body-frame (g, deg/s) -> sensor-frame raw counts (accel xyz, gyro xyz)."""
        a = [0, 0, 0]
        g = [0, 0, 0]
        for src, sign, j in self._inv:
            a[src] = _clip(round(sign * v[1 + j] * acc_lsb_g))
            g[src] = _clip(round(sign * v[4 + j] * gyro_lsb_dps))
        return a, g

    def _start(self, rate_hz):
        # Sample k is taken at k / rate_hz s of the recording's time line (the clock's, less what it
        # skipped to catch up its pace): a sensor restarted later continues the recording.
        self.rate_hz = rate_hz
        self._started_ms = self._clock.played_ms()
        self._made = int(self._started_ms * self._actual() / 1000 + 0.999999)
        self.fifo = bytearray()

    def _actual(self):
        return self.rate_hz if self.odr_scale == 1.0 else self.rate_hz * self.odr_scale

    def _fill(self):
        # (a part's faults, run.py --imu-*-at-s, are sim/faultimu.py's, loaded only for one)
        if self._started_ms is None:
            return
        due = int(self._clock.played_ms() * self._actual() / 1000)
        while self._made < due:
            v = self._src.at(self._made / self._actual())
            if v is None:
                self._started_ms = None  # recording over: the sensor goes quiet
                return
            self._push(v)
            self._made += 1
            over = len(self.fifo) - self.fifo_max
            if over > 0:
                self._overflow(over)

    def _overflow(self, over):
        self.fifo = self.fifo[over:]

    def pop(self, n):
        out = self.fifo[:n]
        self.fifo = self.fifo[n:]
        return out


def _clip(v):
    return -32768 if v < -32768 else (32767 if v > 32767 else v)


# Each part's emulation is its own module, imported when a board names it: the
# simulator shares the heap the memory-budget test gives the band.
FAKES = {"mpu6886": "fake_mpu6886", "lsm6ds3": "fake_lsm6ds", "lsm6dsox": "fake_lsm6ds", "icm42688": "fake_icm42688"}


def fake_imu(part):
    """The register emulation class of ``part`` (FakeMPU6886, FakeLSM6DS3, FakeLSM6DSOX, FakeICM42688)."""
    return getattr(__import__(FAKES[part]), "Fake" + part.upper())


class FakeI2C:
    """The ``machine.I2C`` methods the drivers use, in front of one emulated sensor."""

    def __init__(self, device):
        self.dev = device

    def _check(self, addr):
        if addr != self.dev.address:
            raise OSError(errno.ENODEV)

    def writeto_mem(self, addr, reg, buf):
        self._check(addr)
        self.dev._fill()
        for i, b in enumerate(buf):
            self.dev.write(reg + i, b)

    def readfrom_mem_into(self, addr, reg, buf):
        self._check(addr)
        data = self.dev.read(reg, len(buf))
        n = len(data)
        buf[:n] = data
        for i in range(n, len(buf)):
            buf[i] = 0


class SimBattery:
    def __init__(self, mv, clock, empty_mv=3300, full_mv=4200):
        self.mv = mv
        self.empty_mv = empty_mv
        self.full_mv = full_mv
        self._clock = clock
        self.steps = []  # [(at_ms, mv)]: the cell voltage changes at these virtual times

    def read_mv(self):
        now = self._clock.ticks_ms()
        while self.steps and self.steps[0][0] <= now:
            self.mv = self.steps.pop(0)[1]
        return self.mv


class SimWDT:
    # On the time played (SimClock.played_ms): a catch-up's step to the pace is no time the band ran.
    def __init__(self, clock, timeout_ms):
        self._clock = clock
        self.timeout_ms = timeout_ms
        self.last = clock.played_ms()

    def feed(self):
        self.last = self._clock.played_ms()

    def expired(self):
        return self._clock.played_ms() - self.last > self.timeout_ms
