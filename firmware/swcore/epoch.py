"""Per-epoch movement and breathing features, and the wear state machine.

``EpochFeatures`` reads a ``Frontend`` after each ``push`` and, every
EPOCH_MS, yields: ``activity`` (samples above the active rate: without a gyro
a bar that follows the band's rest level, ``active_bar``), ``breath_acc``
and ``breath_gyro`` (percent ratio of the variance of 200 ms block means to
what white sensor noise alone would give: breathing and slow posture change
raise it, a band lying on a table does not), and the mean orientation
``gx_mg..gz_mg``. The host's sleep/wake estimator and the wear state below
consume these epochs, on the band and in replay alike.
"""

from swcore import consts as C
from swcore.compat import const

UNKNOWN = const(-1)
NOT_WORN = const(0)
WORN = const(1)


class EpochFeatures:
    def __init__(self, frontend):
        self.fe = frontend
        self.p = frontend.p
        self.reset()

    def reset(self):
        self.index = -1  # epoch number of the last completed epoch
        self.activity = 0
        self.breath_acc = 0
        self.breath_gyro = 0
        self.flat = False  # the last epoch's samples were all the same (a frozen sensor)
        self._n = 0
        self._active = 0
        self._nacc = 0
        self._ngyr = 0
        self._px = self._py = self._pz = 0
        self._qx = self._qy = self._qz = 0
        self._bn = 0
        self._blocks = 0
        self._bs = [0, 0, 0, 0, 0, 0]  # block sums: acc xyz, gyro xyz
        self._m0 = [0, 0, 0, 0, 0, 0]  # first block mean of the epoch
        self._sm = [0, 0, 0, 0, 0, 0]  # sum of (block mean - first)
        self._sqa = 0
        self._sqg = 0
        self.rest = first_rest(self.p)
        self.bar = active_bar(self.rest, self.p)
        self._rsum = 0  # rate energy clamped at the bar's cap (only summed while the bar can move)
        self._cap = self.p.act_max2
        self._adapts = self.p.act_adapts

    def step(self):
        """Call once per sample after ``Frontend.push``; True at epoch end."""
        fe = self.fe
        sp2 = fe.sp2
        if sp2 > self.bar:
            self._active += 1
        if self._adapts:
            self._rsum += sp2 if sp2 < self._cap else self._cap
        self._noise(fe)
        self._block(fe)
        self._n += 1
        if self._n < self.p.epoch:
            return False
        self._finish()
        return True

    def _noise(self, fe):
        lim = C.NOISE_DIFF_CLAMP
        if fe.i > 0:
            d = fe.ax - self._px
            d = lim if d > lim else (-lim if d < -lim else d)
            e = fe.ay - self._py
            e = lim if e > lim else (-lim if e < -lim else e)
            f = fe.az - self._pz
            f = lim if f > lim else (-lim if f < -lim else f)
            self._nacc += d * d + e * e + f * f
            d = fe.gx - self._qx
            d = lim if d > lim else (-lim if d < -lim else d)
            e = fe.gy - self._qy
            e = lim if e > lim else (-lim if e < -lim else e)
            f = fe.gz - self._qz
            f = lim if f > lim else (-lim if f < -lim else f)
            self._ngyr += d * d + e * e + f * f
        self._px = fe.ax
        self._py = fe.ay
        self._pz = fe.az
        self._qx = fe.gx
        self._qy = fe.gy
        self._qz = fe.gz

    def _block(self, fe):
        if self._blocks >= self.p.nblocks:
            return  # the epoch's tail shorter than a block is not used
        bs = self._bs
        bs[0] += fe.ax
        bs[1] += fe.ay
        bs[2] += fe.az
        bs[3] += fe.gx
        bs[4] += fe.gy
        bs[5] += fe.gz
        self._bn += 1
        if self._bn < self.p.bblock:
            return
        nb = self.p.bblock
        m0 = self._m0
        sm = self._sm
        first = self._blocks == 0
        sqa = 0
        sqg = 0
        for k in range(6):
            m = bs[k] // nb
            bs[k] = 0
            if first:
                m0[k] = m
            m -= m0[k]  # variance is shift-invariant; small numbers stay small ints
            sm[k] += m
            if k < 3:
                sqa += m * m
            else:
                sqg += m * m
        self._sqa += sqa
        self._sqg += sqg
        self._bn = 0
        self._blocks += 1

    def _finish(self):
        p = self.p
        nb = self._blocks
        sm = self._sm
        self.index += 1
        self.activity = self._active
        var_a = (nb * self._sqa - sm[0] * sm[0] - sm[1] * sm[1] - sm[2] * sm[2]) // (nb * nb)
        var_g = (nb * self._sqg - sm[3] * sm[3] - sm[4] * sm[4] - sm[5] * sm[5]) // (nb * nb)
        self.breath_acc = ratio_pct(var_a, self._nacc, p)
        self.breath_gyro = ratio_pct(var_g, self._ngyr, p) if p.has_gyro else 0
        self.flat = self._nacc == 0 and self._ngyr == 0  # no live accelerometer (~1 mg of noise) holds still to the count
        if self._adapts:
            self.rest = next_rest_if_worn(self.rest, self._rsum // p.epoch, self.activity, self.breath_acc, self.breath_gyro, p)
            self.bar = active_bar(self.rest, p)
            self._rsum = 0
        self._n = 0
        self._active = 0
        self._nacc = 0
        self._ngyr = 0
        self._blocks = 0
        for k in range(6):
            sm[k] = 0
        self._sqa = 0
        self._sqg = 0

    def off_body(self):
        """This epoch looks like a band lying off the baby: still, no breathing."""
        return off_body(self.activity, self.breath_acc, self.breath_gyro, self.p)


def first_rest(p):
    """The rest level before any epoch: the least whose bar is the cap."""
    return (p.act_max2 * 10 + C.ACTIVE_ACC_REST_X10 - 1) // C.ACTIVE_ACC_REST_X10


def next_rest(rest, level):
    """The rest level after an epoch of mean clamped rate energy ``level``:
    down to a quieter epoch at once, up by 1/2^ACTIVE_REST_RISE_SHIFT."""
    up = rest + (rest >> C.ACTIVE_REST_RISE_SHIFT) + 1
    return level if level < up else up


def next_rest_if_worn(rest, level, activity, breath_acc, breath_gyro, p):
    """``next_rest``, except after an epoch that looks off the body: a band on a table is
    quieter than any sleeping baby, and a rest level learnt there would read the baby's
    breathing as movement for hours once the band is back on."""
    if off_body(activity, breath_acc, breath_gyro, p):
        return rest
    return next_rest(rest, level)


def active_bar(rest, p):
    """Rate energy above which a sample is active: ACTIVE_ACC_REST_X10 / 10 x the
    rest level, held within [act2, act_max2] (one value, act2, with a gyro)."""
    bar = rest * C.ACTIVE_ACC_REST_X10 // 10
    if bar < p.act2:
        return p.act2
    return p.act_max2 if bar > p.act_max2 else bar


def ratio_pct(block_var, diff_sq_sum, p):
    """Block-mean variance as a percentage of the white-noise expectation.

    White noise of variance s^2 gives block means of variance s^2 / bblock;
    the sum of squared sample differences estimates 2 * s^2 per sample.
    """
    noise = diff_sq_sum // (2 * p.epoch)
    if noise < 1:
        noise = 1  # quantised sensor at rest: treat as 1 unit^2
    return block_var * p.bblock * 100 // noise


def off_body(activity, breath_acc, breath_gyro, p):
    still = activity * 100 <= p.epoch * C.STILL_ACTIVE_PCT
    if p.has_gyro:
        return still and breath_gyro < C.BREATH_RATIO_MIN_PCT
    return still and breath_acc < C.BREATH_ACC_MIN_PCT


class Wear:
    """WORN / NOT_WORN / UNKNOWN from a stream of epochs, with hysteresis.

    ``update(off_body)`` once per epoch returns True when the state changed;
    ``since`` is the epoch index where the new state's evidence began and
    ``epoch`` the index of the last epoch given.
    """

    def __init__(self, epoch_ms=C.EPOCH_MS):
        self.off_needed = (C.NOT_WORN_AFTER_MS + epoch_ms - 1) // epoch_ms
        self.on_needed = (C.WORN_AFTER_MS + epoch_ms - 1) // epoch_ms
        self.state = UNKNOWN
        self.since = 0
        self.epoch = -1
        self._run = 0
        self._run_off = False

    def update(self, off):
        self.epoch += 1
        if off != self._run_off or self._run == 0:
            self._run_off = off
            self._run = 0
        self._run += 1
        want = NOT_WORN if off else WORN
        need = self.off_needed if off else self.on_needed
        if self.state != want and self._run >= need:
            self.state = want
            self.since = self.epoch - self._run + 1
            return True
        return False
