"""Per-sample signal front end shared by the spasm detector and the epoch features.

Everything here is a pure function of the input samples (moving sums over
ring buffers, block means): no feedback from any detector state. That is what
lets the host's numpy twin (``spasmwatch.analysis.twin``) compute the very same
integers with cumulative sums, and so give identical events.

Inputs are ints in the body frame: acceleration in mg, angular rate in 0.1
deg/s (ddps). Nothing is allocated per sample: ring buffers are ``array``
objects sized at start-up and all values stay MicroPython small ints.
"""

from array import array

from swcore import consts as C
from swcore.bias import GyroBias


def samples(ms, rate_hz, minimum):
    """Duration in ms -> whole samples at rate_hz (never below minimum)."""
    n = int(ms * rate_hz / 1000 + 0.5)
    return n if n > minimum else minimum


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class Params:
    """Sample counts and integer thresholds derived once for one IMU rate.

    ``rebase_at`` (samples) is INDEX_REBASE_AT except in tests, which lower it
    to exercise the index shift without running for months.
    """

    def __init__(self, rate_hz, has_gyro=True, rebase_at=C.INDEX_REBASE_AT):
        self.rate_hz = rate_hz
        self.has_gyro = has_gyro
        self.ns = samples(C.SHORT_MS, rate_hz, 2)
        self.gap = samples(C.GAP_MS, rate_hz, 1)
        self.nr = samples(C.REF_MS, rate_hz, 2 * self.ns)
        self.np = samples(C.PRE_MS, rate_hz, 2)
        self.block = samples(C.BIAS_BLOCK_MS, rate_hz, 1)
        self.la = self.nr + self.gap  # accel ring: reference window + gap
        self.lp = self.np + self.gap  # rate-energy ring: pre window + gap
        # No onset before every window is full: both twins agree on this.
        self.warmup = self.la if self.la > self.lp else self.lp
        # Index shift: a multiple of both ring lengths (their offsets i % la and
        # i % lp stay put), about half of rebase_at.
        ring = self.la * self.lp // _gcd(self.la, self.lp)
        self.rebase_at = rebase_at
        self.rebase_n = rebase_at // 2 // ring * ring
        if self.rebase_n < 4 * self.warmup:
            raise ValueError("rebase_at %d too small for ring lengths %d and %d" % (rebase_at, self.la, self.lp))
        # Clamp rate energy so a 1 s sum stays a small int on the board.
        # (also <= 1e7, so that x*100 comparisons in the detector stay small).
        self.sp2_max = min(C.SMALL_INT_MAX // self.lp, C.DEV2_CLAMP)
        # Speed^2 units: ddps^2 with a gyro; without one, (mg change of the
        # short mean over ns samples)^2, mapped from the same physical rate:
        # 1 ddps = 1.745 mrad/s; over ns/rate s that is 1.745*ns/rate mg.
        if has_gyro:
            scale = 1.0
        else:
            scale = 1.74533 * self.ns / rate_hz * self.ns
        self.on2 = int((C.ONSET_DDPS * scale) ** 2 + 0.5)
        self.act2 = int((C.ACTIVE_DDPS * scale) ** 2 + 0.5)
        self.act_max2 = self.act2 if has_gyro else int((C.ACTIVE_ACC_MAX_DDPS * scale) ** 2 + 0.5)
        self.act_adapts = self.act_max2 != self.act2  # without a gyro: the bar follows the rest level
        # Gyro angle: sum of ddps samples -> mrad, Q16 fixed point.
        self.kq = int(1.74533 * 65536 / rate_hz + 0.5)
        self.th_max = C.SMALL_INT_MAX // self.kq  # |theta| * kq stays a small int
        self.rise_n = samples(C.RISE_MAX_MS, rate_hz, 2)
        self.settle_n = samples(C.SETTLE_MS, rate_hz, 2)
        self.hold_min_n = samples(C.HOLD_MIN_MS, rate_hz, 1)
        self.held_min_n = samples(C.HELD_MIN_MS, rate_hz, 1)
        self.hold_max_n = samples(C.HOLD_MAX_MS, rate_hz, 2)
        self.ret_max_n = samples(C.RET_MAX_MS, rate_hz, 2)
        self.post_n = samples(C.POST_MS, rate_hz, 1)
        dev_min = C.DEV_MIN_MRAD if has_gyro else C.DEV_MIN_ACC_MRAD
        self.dev_min2 = dev_min * dev_min
        dev_weak = C.DEV_WEAK_MRAD if has_gyro else C.DEV_WEAK_ACC_MRAD
        self.dev_weak2 = dev_weak * dev_weak
        self.strong_min = C.STRONG_CONFIDENCE if has_gyro else C.ACC_STRONG_CONFIDENCE
        # Fractions compared on squares: x^2 * 100 <= peak^2 * (pct^2 // 100).
        self.settle2 = C.SETTLE_PCT * C.SETTLE_PCT // 100
        self.pre2 = C.PRE_PCT * C.PRE_PCT // 100
        post = C.POST_PCT if has_gyro else C.POST_ACC_PCT
        self.post2 = post * post // 100
        self.ret_start2 = C.RET_START_PCT * C.RET_START_PCT // 100
        self.ret_end2 = C.RET_END_PCT * C.RET_END_PCT // 100
        self.ret_start_floor = C.RET_START_FLOOR_MRAD * C.RET_START_FLOOR_MRAD * 100
        self.ret_end_floor = C.RET_END_FLOOR_MRAD * C.RET_END_FLOOR_MRAD * 100
        self.rate_int = int(rate_hz + 0.5)
        self.epoch = samples(C.EPOCH_MS, rate_hz, 10)
        self.bblock = samples(C.BREATH_BLOCK_MS, rate_hz, 1)
        self.nblocks = self.epoch // self.bblock


class Frontend:
    """Streaming features, updated by ``push`` once per sample.

    After ``push``: ``i`` index of this sample (0-based), ``sp2`` clamped
    squared rate (speed^2 units of ``Params``), ``prev_sp2``, and without a
    gyro ``mx, my, mz`` short mean of accel (mg) and ``rsum_x..z`` sum of
    accel over the reference window ending ``gap`` samples ago; ``pre`` rate energy over the pre window
    ending ``gap`` samples ago, ``bx..bz`` gyro bias (ddps) used for this
    sample, with a gyro ``dx..dz`` the rate less that bias, clamped (ddps),
    and the raw sample ``ax..gz``.
    """

    def __init__(self, params):
        p = params
        self.p = p
        self._ra = array("i", bytes(4 * 3 * p.la))  # accel ring, xyz interleaved
        self._re = array("i", bytes(4 * p.lp))  # rate-energy ring
        self.bias = GyroBias(p.block)
        self.reset()

    def reset(self):
        self.i = -1
        self.sp2 = 0
        self.prev_sp2 = 0
        self.ax = self.ay = self.az = 0
        self.gx = self.gy = self.gz = 0
        self.dx = self.dy = self.dz = 0
        self.mx = self.my = self.mz = 0
        self.rsum_x = self.rsum_y = self.rsum_z = 0
        self.pre = 0
        self.bx = self.by = self.bz = 0
        self._nbx = self._nby = self._nbz = 0  # bias for the next sample
        # running sums: short (ns), double short (2 ns), gap, whole ring (la)
        self._s = [0, 0, 0]
        self._s2 = [0, 0, 0]
        self._sg = [0, 0, 0]
        self._sl = [0, 0, 0]
        self._e_all = 0
        self._e_gap = 0
        self.bias.reset()
        self._bacc = [0, 0, 0]  # block sums
        self._bfirst = [0, 0, 0]  # first rate of the block
        self._brough = 0
        self._bfill = 0
        for k in range(len(self._ra)):
            self._ra[k] = 0
        for k in range(len(self._re)):
            self._re[k] = 0

    def seed_bias(self, bx, by, bz):
        """Gyro bias (ddps) kept from an earlier boot, for the samples from here on."""
        self.bias.seed(bx, by, bz)
        self._nbx = bx
        self._nby = by
        self._nbz = bz

    def continue_bias(self, bias):
        """Carry on from ``bias``, a GyroBias fed every block before this sample (which
        must start a block): the host's diagnosis runs one window of a long recording
        with the bias the whole replay had there."""
        self.bias = bias
        self._nbx = bias.bx
        self._nby = bias.by
        self._nbz = bias.bz

    def push(self, ax, ay, az, gx, gy, gz):
        p = self.p
        i = self.i + 1
        self.i = i
        self.ax = ax
        self.ay = ay
        self.az = az
        self.gx = gx
        self.gy = gy
        self.gz = gz
        self.prev_sp2 = self.sp2
        if p.has_gyro:
            self.bx = self._nbx
            self.by = self._nby
            self.bz = self._nbz
            sp2 = self._gyro_speed2(gx, gy, gz)
            self._push_bias(gx, gy, gz)
        else:
            # Accel windows (tilt, its rate, the reference) only serve the
            # detector when there is no gyro: skip them on the hot path otherwise.
            self._push_accel(i, ax, ay, az)
            s = self._s
            s2 = self._s2
            dx = 2 * s[0] - s2[0]
            dy = 2 * s[1] - s2[1]
            dz = 2 * s[2] - s2[2]
            sp2 = dx * dx + dy * dy + dz * dz
        if sp2 > p.sp2_max:
            sp2 = p.sp2_max
        self.sp2 = sp2
        self._push_energy(i, sp2)

    def _push_accel(self, i, ax, ay, az):
        p = self.p
        ra = self._ra
        la = p.la
        s = self._s
        s2 = self._s2
        sg = self._sg
        sl = self._sl
        # Samples leaving each window (0 while the ring is still filling).
        o_s = 3 * ((i - p.ns) % la)
        o_s2 = 3 * ((i - 2 * p.ns) % la)
        o_g = 3 * ((i - p.gap) % la)
        o_l = 3 * (i % la)
        # Unrolled per axis: a loop over a tuple would allocate per sample.
        s[0] += ax - ra[o_s]
        s[1] += ay - ra[o_s + 1]
        s[2] += az - ra[o_s + 2]
        s2[0] += ax - ra[o_s2]
        s2[1] += ay - ra[o_s2 + 1]
        s2[2] += az - ra[o_s2 + 2]
        sg[0] += ax - ra[o_g]
        sg[1] += ay - ra[o_g + 1]
        sg[2] += az - ra[o_g + 2]
        sl[0] += ax - ra[o_l]
        sl[1] += ay - ra[o_l + 1]
        sl[2] += az - ra[o_l + 2]
        # Writes after reads: the slot of sample i - la becomes sample i.
        ra[o_l] = ax
        ra[o_l + 1] = ay
        ra[o_l + 2] = az
        ns = p.ns
        self.mx = s[0] // ns
        self.my = s[1] // ns
        self.mz = s[2] // ns
        self.rsum_x = sl[0] - sg[0]
        self.rsum_y = sl[1] - sg[1]
        self.rsum_z = sl[2] - sg[2]

    def _gyro_speed2(self, gx, gy, gz):
        lim = C.RATE_CLAMP_DDPS
        dx = gx - self.bx
        dy = gy - self.by
        dz = gz - self.bz
        dx = lim if dx > lim else (-lim if dx < -lim else dx)
        dy = lim if dy > lim else (-lim if dy < -lim else dy)
        dz = lim if dz > lim else (-lim if dz < -lim else dz)
        self.dx = dx
        self.dy = dy
        self.dz = dz
        return dx * dx + dy * dy + dz * dz

    def _push_bias(self, gx, gy, gz):
        # The bias for sample i uses blocks completed before i: update after use.
        acc = self._bacc
        first = self._bfirst
        if self._bfill == 0:
            first[0] = gx
            first[1] = gy
            first[2] = gz
        acc[0] += gx
        acc[1] += gy
        acc[2] += gz
        self._brough += abs(gx - first[0]) + abs(gy - first[1]) + abs(gz - first[2])
        self._bfill += 1
        if self._bfill < self.p.block:
            return
        b = self.bias
        b.block_done(acc[0], acc[1], acc[2], self._brough)
        self._nbx = b.bx
        self._nby = b.by
        self._nbz = b.bz
        acc[0] = acc[1] = acc[2] = 0
        self._brough = 0
        self._bfill = 0

    def _push_energy(self, i, sp2):
        p = self.p
        re = self._re
        lp = p.lp
        o_l = i % lp
        self._e_all += sp2 - re[o_l]
        self._e_gap += sp2 - re[(i - p.gap) % lp]
        re[o_l] = sp2
        self.pre = self._e_all - self._e_gap
