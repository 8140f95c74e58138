"""An emulated IMU that fails as a board's part would (never flashed): it stops answering on I2C,
loses its set-up, or freezes. Its own module, loaded only when a run asks for such a fault
(run.py --imu-fault-at-s, --imu-reset-at-s, --imu-stuck-at-s): the simulator shares the heap the
memory-budget test gives the band, and a run without one keeps none of this on it.
"""

import errno


def inject(sensor, fault_ms=None, reset_ms=None, stuck_ms=None):
    """Put the faults (virtual ms, None for none) on ``sensor`` (a hw.FakeSensor)."""
    if stuck_ms is not None:
        sensor._src = _Stuck(sensor._src, stuck_ms)
    if fault_ms is not None or reset_ms is not None:
        sensor._fill = _Fill(sensor, sensor._fill, fault_ms, reset_ms)  # FakeI2C calls dev._fill()


class _Fill:
    """The sensor's FIFO fill, after: from ``fault_ms`` every I2C access fails (EIO); at
    ``reset_ms`` the part loses its set-up (its own power glitch): no samples until started again."""

    def __init__(self, sensor, fill, fault_ms, reset_ms):
        self._s = sensor
        self._fill = fill
        self._fault = fault_ms
        self._reset = reset_ms

    def __call__(self):
        s = self._s
        now = s._clock.ticks_ms()
        if self._fault is not None and now >= self._fault:
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
