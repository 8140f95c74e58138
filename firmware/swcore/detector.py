"""Streaming infantile-spasm detector: one call per IMU sample, integer math.

A spasm is a sudden trunk movement into a posture that is held briefly and
then released. The detector follows that shape with named states:

    IDLE   -> RISE    rate crosses the onset threshold (rising edge)
    RISE   -> HOLD    the fast phase settles for SETTLE_MS into a changed posture,
                      and it broke out of calm
    HOLD   -> RETURN  the posture, held long enough, starts to release
    RETURN -> POST    released
    POST   -> IDLE    calm for POST_MS after it: a spasm is confirmed (``step``
                      returns True)

The onset threshold follows the background (in a busy spell it is a
multiple of the pre-onset rate). Any other outcome (no settle, no posture
change, restless before, no hold, held too long, no release, busy after)
goes back to IDLE without an event. A posture change under DEV_MIN but over
DEV_WEAK that passes everything else is a weak event: confidence below
STRONG_CONFIDENCE, for the host's cluster logic to count only next to full
spasms. The rules and their reasons are in ``swcore.consts``. The host's
numpy twin reproduces these transitions exactly; tests hold the two to
identical events.
"""

from swcore.compat import const, isqrt
from swcore import consts as C
from swcore.consts import DEV2_CLAMP
from swcore.frontend import Frontend, Params

IDLE = const(0)
RISE = const(1)
HOLD = const(2)
RETURN = const(3)
POST = const(4)


class Detector:
    """Feed ``step`` body-frame samples (mg, ddps); True when a spasm is confirmed.

    After a True return, read ``ev_onset_n`` (sample index of onset),
    ``ev_duration_n`` (samples from onset to release; ``step`` confirms the
    event POST_MS later), ``ev_peak_rate`` (mrad/s), ``ev_peak_angle`` (mrad,
    posture change) and ``ev_confidence`` (0-100). Fields are overwritten by
    the next event.
    """

    def __init__(self, rate_hz, has_gyro=True, rebase_at=C.INDEX_REBASE_AT):
        self.p = Params(rate_hz, has_gyro, rebase_at)
        self.fe = Frontend(self.p)
        self.reset()

    @property
    def n(self):
        """Index of the next sample: samples since reset, less any ``rebase`` shifts."""
        return self.fe.i + 1

    def reset(self):
        self.fe.reset()
        self.state = IDLE
        self._i0 = 0
        self._mark = 0  # start of the current phase (sample index)
        self._pk2 = 0  # peak rate^2 in the rise
        self._dpk2 = 0  # peak deviation^2 of the held posture (mrad^2)
        self._quiet = 0  # consecutive settled samples in the rise
        self._pre = 0  # mean rate energy before onset
        self._hold_n = 0
        self._post = 0  # rate energy summed since the release
        self._strong = False  # the posture at settling cleared DEV_MIN (not only DEV_WEAK)
        self._refx = self._refy = self._refz = 0
        self._b0x = self._b0y = self._b0z = 0
        self._thx = self._thy = self._thz = 0
        self._qx = self._qy = self._qz = 0
        self._g2 = self._gtol = 0
        self.ev_onset_n = 0
        self.ev_duration_n = 0
        self.ev_peak_rate = 0
        self.ev_peak_angle = 0
        self.ev_confidence = 0

    def rebase(self):
        """Past ``p.rebase_at`` samples, shift every sample index down by
        ``p.rebase_n`` (indexes then stay small ints for good); returns the
        shift, 0 if none. Call between samples (the band: after each IMU
        batch) and subtract the shift from indexes held outside."""
        fe = self.fe
        if fe.i < self.p.rebase_at:
            return 0
        k = self.p.rebase_n
        fe.i -= k
        self._i0 -= k
        self._mark -= k
        self.ev_onset_n -= k
        return k

    def step(self, ax, ay, az, gx=0, gy=0, gz=0):
        fe = self.fe
        fe.push(ax, ay, az, gx, gy, gz)
        st = self.state
        if st == POST:
            return self._after(fe)
        if st == IDLE:
            if not self._onset(fe):
                return False
            self._start(fe)
        d2 = self._deviation2(fe)
        st = self.state
        if st == RISE:
            return self._rise(fe, d2)
        if st == HOLD:
            return self._hold(fe.i, d2)
        return self._return(fe.i, d2)

    def _onset(self, fe):
        """A rising edge over the onset threshold: ONSET_DDPS, raised in a busy
        spell to 2^ONSET_PRE_SHIFT times the mean energy of the pre window."""
        p = self.p
        sp2 = fe.sp2
        if sp2 <= p.on2 or fe.i < p.warmup:
            return False
        pre = fe.pre
        sh = C.ONSET_PRE_SHIFT
        if (sp2 >> sh) * p.np <= pre:
            return False
        prev = fe.prev_sp2
        return prev <= p.on2 or (prev >> sh) * p.np <= pre

    def _start(self, fe):
        p = self.p
        self.state = RISE
        self._i0 = fe.i
        self._mark = fe.i
        self._pk2 = 0
        self._dpk2 = 0
        self._quiet = 0
        self._pre = fe.pre // p.np
        if p.has_gyro:
            self._b0x = fe.bx
            self._b0y = fe.by
            self._b0z = fe.bz
            self._thx = self._thy = self._thz = 0
            return
        self._refx = fe.rsum_x // p.nr
        self._refy = fe.rsum_y // p.nr
        self._refz = fe.rsum_z // p.nr
        # Without a gyro, the tilt is read only where the accel magnitude is
        # that of gravity (the reference's, within QS_MG): kicks, pats and
        # hiccups add linear acceleration that would pass for posture.
        self._qx = self._refx
        self._qy = self._refy
        self._qz = self._refz
        self._g2 = self._refx * self._refx + self._refy * self._refy + self._refz * self._refz
        self._gtol = 2 * isqrt(self._g2) * C.QS_MG

    def _deviation2(self, fe):
        """Squared posture change since onset (mrad^2).

        With a gyro: the integrated rotation (blind to linear acceleration,
        which pats, bumps and bouncing put into the accelerometer). Without:
        the tilt of the short accel mean from the pre-onset reference, at the
        last sample where the accel was gravity alone (quasi-static).
        """
        if self.p.has_gyro:
            self._thx += fe.gx - self._b0x
            self._thy += fe.gy - self._b0y
            self._thz += fe.gz - self._b0z
            d2 = self._angle2()
        else:
            m2 = fe.mx * fe.mx + fe.my * fe.my + fe.mz * fe.mz - self._g2
            if -self._gtol <= m2 <= self._gtol:
                self._qx = fe.mx
                self._qy = fe.my
                self._qz = fe.mz
            dx = self._qx - self._refx
            dy = self._qy - self._refy
            dz = self._qz - self._refz
            d2 = dx * dx + dy * dy + dz * dz
        return d2 if d2 < DEV2_CLAMP else DEV2_CLAMP

    def _angle2(self):
        p = self.p
        lim = p.th_max
        kq = p.kq
        tx = self._thx
        ty = self._thy
        tz = self._thz
        tx = lim if tx > lim else (-lim if tx < -lim else tx)
        ty = lim if ty > lim else (-lim if ty < -lim else ty)
        tz = lim if tz > lim else (-lim if tz < -lim else tz)
        mx = (tx * kq) >> 16
        my = (ty * kq) >> 16
        mz = (tz * kq) >> 16
        return mx * mx + my * my + mz * mz

    def _rise(self, fe, d2):
        p = self.p
        i = fe.i
        sp2 = fe.sp2
        if sp2 > self._pk2:
            self._pk2 = sp2
        if i > self._i0 and sp2 * 100 <= self._pk2 * p.settle2:
            # Settled only after SETTLE_MS of calm: a twitch or a hiccup is
            # still moving (back) right after its peak; a spasm's posture stays.
            if self._quiet == 0 or d2 > self._dpk2:
                self._dpk2 = d2
            self._quiet += 1
            if self._quiet >= p.settle_n:
                return self._settled(i)
        else:
            self._quiet = 0
        if i - self._i0 >= p.rise_n:
            self.state = IDLE
        return False

    def _settled(self, i):
        """The fast phase is over: the held posture (its peak over the calm run) decides."""
        p = self.p
        if self._dpk2 < p.dev_weak2 or self._pre * 100 > self._pk2 * p.pre2:
            self.state = IDLE
            return False
        self._strong = self._dpk2 >= p.dev_min2
        self.state = HOLD
        self._mark = i - p.settle_n + 1
        return False

    def _hold(self, i, d2):
        p = self.p
        if d2 > self._dpk2:
            self._dpk2 = d2
        if d2 * 100 < max2(self._dpk2 * p.ret_start2, p.ret_start_floor):
            self._hold_n = i - self._i0
            if self._hold_n < p.hold_min_n or i - self._mark < p.held_min_n:
                self.state = IDLE
                return False
            self.state = RETURN
            self._mark = i
            return self._return(i, d2)
        if i - self._mark >= p.hold_max_n:
            self.state = IDLE
        return False

    def _return(self, i, d2):
        p = self.p
        if d2 * 100 < max2(self._dpk2 * p.ret_end2, p.ret_end_floor):
            self._emit(i)
            self.state = POST
            self._mark = i
            self._post = 0
            return False
        if i - self._mark >= p.ret_max_n:
            self.state = IDLE
        return False

    def _after(self, fe):
        """POST: confirm the event once POST_MS after the release were calm."""
        p = self.p
        self._post += fe.sp2
        if fe.i - self._mark < p.post_n:
            return False
        self.state = IDLE
        return self._post // p.post_n * 100 <= self._pk2 * p.post2

    def _emit(self, i):
        p = self.p
        self.ev_onset_n = self._i0
        self.ev_duration_n = i - self._i0
        rate = isqrt(self._pk2)
        if not p.has_gyro:
            rate = rate * p.rate_int // (p.ns * p.ns)
        else:
            rate = rate * 1745 // 1000
        self.ev_peak_rate = rate
        self.ev_peak_angle = isqrt(self._dpk2)
        self.ev_confidence = confidence(self._dpk2, self._hold_n, self._strong, p)


def max2(a, b):
    return a if a > b else b


def confidence(dev2, hold_n, strong, p):
    """0-100: how far the posture change and the hold clear their minimums.

    A full spasm scores STRONG_CONFIDENCE (50) or more; a weak event (its
    posture at settling under DEV_MIN) scores 1-49 by its final posture.
    Without a gyro a full spasm under ``p.strong_min`` (ACC_STRONG_CONFIDENCE)
    is weak too, at the top of that tier (49).
    """
    dev_min2 = p.dev_min2
    if not strong:
        c = 1 + 48 * dev2 // dev_min2
        return c if c < C.STRONG_CONFIDENCE else C.STRONG_CONFIDENCE - 1
    a = 50 * (dev2 - dev_min2) // (dev2 + dev_min2)  # 0..50
    h = 50 * (hold_n - p.hold_min_n) // (hold_n + p.hold_min_n)  # 0..50
    if a < 0:
        a = 0  # cannot happen for a full spasm (its peak only grows after settling)
    c = C.STRONG_CONFIDENCE + a // 2 + h // 2 if h >= 0 else C.STRONG_CONFIDENCE
    return c if c >= p.strong_min else C.STRONG_CONFIDENCE - 1
