"""Simulated band hardware for the MicroPython unix port (never flashed).

- ``SimClock``: virtual milliseconds driven by the sampler (as fast as the
  host can go, or ``speed`` times real time); real time once the recording ends.
- ``CsvSource``: a recording (``t,ax,ay,az[,gx,gy,gz]`` in s, g, deg/s) read
  lazily and resampled to the sensor's rate.
- Register-level emulations of the MPU6886, LSM6DS3 and LSM6DSOX behind a fake
  I2C bus, so the firmware's real drivers (FIFO reads, scaling, axis map) run
  in CI. The recording is in the body frame; the emulation rotates it into the
  sensor frame with the inverse of the board's ``axis_map``.
- ``SimBattery``, ``SimWDT``, and ``SimStorage`` (a directory, with optional
  power loss in the middle of one event-log write).
"""

import errno
import struct
import sys
import time

import asyncio

from band.storage import Storage

EXIT_RESET = 3  # hw.reset() (safe reboot)
EXIT_CRASH = 4  # unhandled exception: the board would reset
EXIT_WDT = 5  # watchdog not fed
EXIT_POWER_LOSS = 6  # simulated power cut (torn write)
EXIT_TIMEOUT = 7


class SimClock:
    """Virtual milliseconds, advanced by the sampler's ``pace_ms``.

    Tasks sleeping in virtual time are woken, in order, as the sampler moves
    time past their deadline, and the sampler waits until they have run: the
    watchdog, status and scheduled resets see the same time line as on a board,
    however fast the recording is played.
    """

    def __init__(self, speed=0, paced=False):
        self.speed = speed  # virtual ms per real ms; 0 = as fast as possible
        # paced: virtual time follows a real-time deadline (speed x real time from the
        # first sample, catching up after a slow pass) instead of sleeping ms // speed
        # per batch, which drifts by the batch's own cost: a host clock run at the same
        # speed stays within a batch of the band's over hours of virtual time.
        self.paced = paced
        self._pace0 = None  # (real ticks_ms, virtual ms) at the pacing anchor
        self._v = 0
        self._free = False
        self._real0 = 0
        self._sleepers = []  # [target_ms, Event]
        self._running = 0  # woken sleepers that have not resumed yet
        self.hold = None  # callable: while it returns True, virtual time stands still
        self.ended = None  # callable: True once the recording is over (then time runs in real time)
        self.stall_at_ms = None  # the sampler's pace_ms hangs from this virtual time on
        self.stalled = False

    def ticks_ms(self):
        if self._free:
            return self._v + time.ticks_diff(time.ticks_ms(), self._real0)
        return self._v

    def free_run(self):
        """From now on virtual time follows real time (the recording has ended)."""
        if not self._free:
            self._real0 = time.ticks_ms()
            self._free = True
            for s in self._sleepers:
                s[1].set()
            self._sleepers = []

    async def pace_ms(self, ms):
        """The sampler's wait for the FIFO to fill: this is what moves virtual time."""
        if self.ended is not None and self.ended():
            self.free_run()
        if self._free:
            await asyncio.sleep_ms(ms)
            return
        while self.hold is not None and self.hold():
            self._pace0 = None  # held: the deadline starts when time moves again
            await asyncio.sleep_ms(5)
        if self.stall_at_ms is not None and self._v >= self.stall_at_ms:
            self.stalled = True  # the sampler hangs here for good (a stuck bus, a deadlock)
            await asyncio.Event().wait()
        if self.speed and self.paced:
            now = time.ticks_ms()
            if self._pace0 is None:
                self._pace0 = (now, self._v)
            due = time.ticks_add(self._pace0[0], (self._v + ms - self._pace0[1]) // self.speed)
            left = time.ticks_diff(due, now)
            await asyncio.sleep_ms(left if left > 0 else 0)
        elif self.speed:
            await asyncio.sleep_ms(ms // self.speed)
        await self.advance_ms(ms)

    async def advance_ms(self, ms):
        """Move virtual time on by ``ms``, letting each sleeper due on the way run at its deadline."""
        target = self._v + ms
        while True:  # earliest deadline first
            due = None
            for s in self._sleepers:
                if s[0] <= target and (due is None or s[0] < due[0]):
                    due = s
            if due is None:
                break
            if due[0] > self._v:
                self._v = due[0]
            self._sleepers.remove(due)
            self._running += 1
            due[1].set()
            while self._running:
                await asyncio.sleep_ms(0)
        self._v = target
        await asyncio.sleep_ms(0)

    async def sleep_ms(self, ms):
        target = self.ticks_ms() + ms
        if not self._free:
            ev = asyncio.Event()
            self._sleepers.append([target, ev])
            await ev.wait()
            if not self._free:
                self._running -= 1
                return
        left = target - self.ticks_ms()
        if left > 0:
            await asyncio.sleep_ms(left)


class CsvSource:
    """Body-frame samples (g, deg/s floats) from a recording, at any requested rate."""

    def __init__(self, path, skip_s=0.0):
        self._f = open(path)
        head = self._f.readline().strip().split(",")
        if head[:4] != ["t", "ax", "ay", "az"]:
            raise ValueError("%s: header %r, expected t,ax,ay,az[,gx,gy,gz]" % (path, head))
        self._gyro = len(head) >= 7
        self._row = None
        self._next = self._read()
        self._t0 = self._next[0] if self._next else 0.0
        self.done = self._next is None
        self.skip_s = skip_s

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


class _FakeSensor:
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
        self.fault_at_ms = None
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
        # Sample k is taken at k / rate_hz s of virtual time, which is also the
        # recording's time line: a sensor restarted later continues the recording.
        self.rate_hz = rate_hz
        self._started_ms = self._clock.ticks_ms()
        self._made = int(self._started_ms * self._actual() / 1000 + 0.999999)
        self.fifo = bytearray()

    def _actual(self):
        return self.rate_hz if self.odr_scale == 1.0 else self.rate_hz * self.odr_scale

    def _fill(self):
        now = self._clock.ticks_ms()
        if self.fault_at_ms is not None and now >= self.fault_at_ms:
            raise OSError(errno.EIO)
        if self._started_ms is None:
            return
        due = int(now * self._actual() / 1000)
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


class FakeMPU6886(_FakeSensor):
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


_LSM_RATES = {0x30: 52, 0x40: 104}


class FakeLSM6DS3(_FakeSensor):
    """Pattern FIFO: 16-bit words gyro x, y, z, accel x, y, z; FIFO_STATUS3 gives the next word's slot."""

    WHO = 0x6A
    FIFO_WORDS = 4096
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


FAKES = {"mpu6886": FakeMPU6886, "lsm6ds3": FakeLSM6DS3, "lsm6dsox": FakeLSM6DSOX}


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
    def __init__(self, clock, timeout_ms):
        self._clock = clock
        self.timeout_ms = timeout_ms
        self.last = clock.ticks_ms()

    def feed(self):
        self.last = self._clock.ticks_ms()

    def expired(self):
        return self._clock.ticks_ms() - self.last > self.timeout_ms


class _TearingFile:
    """Event-log file that loses power in the middle of writing record ``tear_seq``."""

    def __init__(self, f, tear_seq, clock=None):
        self._f = f
        self._tear = tear_seq
        self._clock = clock

    def write(self, b):
        if len(b) == 24 and struct.unpack_from("<I", b, 4)[0] == self._tear:
            self._f.write(bytes(b)[:11])
            self._f.close()
            print("SIM power lost while writing seq %d" % self._tear)
            # When, in virtual time: a harness restarts the band there (--csv-skip-s).
            t_ms = self._clock.ticks_ms() if self._clock is not None else -1
            print('SIM {"kind": "power_loss", "seq": %d, "t_ms": %d}' % (self._tear, t_ms))
            sys.exit(EXIT_POWER_LOSS)
        return self._f.write(b)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self._f.close()


class SimStorage(Storage):
    def __init__(self, root, tear_seq=None, clock=None):
        super().__init__(root)
        self.tear_seq = tear_seq
        self.clock = clock

    def open(self, name, mode):
        f = super().open(name, mode)
        if self.tear_seq is not None and name == "events.log" and "+" in mode:
            return _TearingFile(f, self.tear_seq, self.clock)
        return f
