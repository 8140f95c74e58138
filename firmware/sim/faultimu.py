"""An emulated IMU that fails as a board's part would (never flashed): it stops answering on I2C,
loses its set-up, or freezes. Its own module, loaded only when a run asks for such a fault
(run.py --imu-fault-at-s S[:E], --imu-reset-at-s, --imu-stuck-at-s): the simulator shares the heap the
memory-budget test gives the band, and a run without one keeps none of this on it.
"""

import errno


def inject(sensor, fault=None, reset_ms=None, stuck_ms=None):
    """Put the faults on ``sensor`` (a hw.FakeSensor): ``fault`` "S[:E]", virtual s (from S, until E
    if given, every I2C access fails), the others virtual ms; None for none."""
    if stuck_ms is not None:
        sensor._src = _Stuck(sensor._src, stuck_ms)
    if fault is not None or reset_ms is not None:
        sensor._fill = _Fill(sensor, sensor._fill, _span_ms(fault), reset_ms)  # FakeI2C calls dev._fill()


def _span_ms(fault):
    """--imu-fault-at-s "S[:E]" as (S, E) virtual ms (E None: to the end), or None."""
    if fault is None:
        return None
    try:
        ends = [int(float(x) * 1000) for x in fault.split(":")]
    except ValueError:
        raise SystemExit("run.py: --imu-fault-at-s %r: expected S or S:E (seconds)" % fault)
    return (ends[0], ends[1] if len(ends) > 1 else None)


class _Fill:
    """The sensor's FIFO fill, after: within ``fault`` (from, until ms; until None: to the end) every
    I2C access fails (EIO), the part sampling on behind the bus; at ``reset_ms`` the part loses its set-up (its own power glitch): no
    samples until started again."""

    def __init__(self, sensor, fill, fault, reset_ms):
        self._s = sensor
        self._fill = fill
        self._fault = fault
        self._reset = reset_ms

    def __call__(self):
        s = self._s
        now = s._clock.ticks_ms()
        f = self._fault
        if f is not None and now >= f[0] and (f[1] is None or now < f[1]):
            self._fill()  # the part samples on (its FIFO overflows), so the recording plays to its end
            raise OSError(errno.EIO)
        if self._reset is not None and now >= self._reset:
            self._reset = None
            s._started_ms = None
            s.fifo = bytearray()
        self._fill()


class _Stuck:
    """A recording whose samples from ``at_ms`` on all repeat the one taken then (frozen output)."""

    def __init__(self, src, at_ms):
        self._src = src
        self._at_s = at_ms / 1000
        self._v = None

    def at(self, t_s):
        v = self._src.at(t_s)
        if v is None or t_s < self._at_s:
            return v
        if self._v is None:
            self._v = v
        return self._v
