"""Counting a cluster's spasms that the detector let go, by their likeness.

The spasms of one cluster are alike (the clinical "stereotyped" spasm). The
band keeps the shape (3-axis rate at ~25 Hz) of its last MATCH_TEMPLATES full
spasms and tests each rising edge of the rate near one of them (from
MATCH_BACK_MS before its onset to MATCH_AHEAD_MS after) against them: a close
likeness with a calm second before and after is a *match*, sent as an EVENT
flagged EF_MATCHED with a weak-tier confidence. A full spasm whose shape is
like an earlier one's (MATCH_PAIR_PCT, within MATCH_PAIR_MS) sets ``alike``,
sent as EF_ALIKE on its EVENT. The host counts matches among a cluster's
spasms, towards its alarm only in a chain with such an alike pair
(``swcore.consts``, "cluster counter", says why).

Per sample (``step``): three sums; every k-th sample (k = rate / MATCH_HZ)
one decimated sample into a ring, its energy and an edge test. Nothing is
allocated there. The rest is the caller's rare path: ``spasm`` (a shape) and
``examine`` (an edge fell due) test edges near a shape, up to 3 shapes x 11
lags x ~200 products with Python ints, which may allocate (~70 an hour).
An edge with no shape near costs a few comparisons and allocates nothing.

An edge is examined once its longest possible shape and the second after it
are in (``delay_n`` decimated samples later) against the shapes kept then; with
none near it, it waits, and is tested when a full spasm confirmed within its
reach brings a shape. The host's numpy twin runs these very decisions: it
subclasses ``Matcher`` and replaces only the data kernels ``_copy``,
``_dots``, ``_pair`` and ``_energy``.
"""

from array import array

from swcore import consts as C
from swcore.compat import isqrt
from swcore.frontend import samples


class Matcher:
    """Feed ``step`` the bias-corrected rate (ddps) of every sample; when it returns
    True call ``examine`` before the next sample. Call ``spasm`` when the detector
    confirms a full spasm (before ``step`` takes that sample); ``alike`` then says
    whether its shape is like an earlier full spasm's. ``examine`` and
    ``spasm`` return how many matches they queued: for m < n_out,
    ``out_age[m]`` (samples from the match's onset to the current sample),
    ``out_dur[m]`` (samples), ``out_rate[m]`` (mrad/s) and ``out_conf[m]``
    (1-49) describe them until the next call.
    """

    def __init__(self, rate_hz, rebase_at=C.INDEX_REBASE_AT):
        k = int(rate_hz / C.MATCH_HZ + 0.5)
        self.k = k if k > 1 else 1
        fd = rate_hz / self.k
        self.nd = samples(C.MATCH_CALM_MS, fd, 2)
        self.pre_n = samples(C.MATCH_PRE_MS, fd, 1)
        self.tail_n = samples(C.MATCH_TAIL_MS, fd, 1)
        self.max_n = samples(C.MATCH_MAX_MS, fd, 2)
        self.lag_n = samples(C.MATCH_LAG_MS, fd, 1)
        self.back_n = samples(C.MATCH_BACK_MS, fd, 1)
        self.ahead_n = samples(C.MATCH_AHEAD_MS, fd, 1)
        self.self_n = samples(C.MATCH_SELF_MS, fd, 1)
        self.pair_n = samples(C.MATCH_PAIR_MS, fd, 1)
        self.tlen = self.pre_n + self.max_n + self.tail_n
        self.delay_n = self.lag_n - self.pre_n + self.tlen + self.nd
        # A full spasm is confirmed at most this long after its onset, so an edge
        # older than back_n + that can no longer be reached by a new shape.
        confirm_ms = C.RISE_MAX_MS + C.HOLD_MAX_MS + C.RET_MAX_MS + C.POST_MS
        self.keep_n = self.back_n + samples(confirm_ms, fd, 1)
        ring = self.keep_n + self.pre_n + self.lag_n + self.nd + 2
        self.ring_n = (ring + self.nd - 1) // self.nd * self.nd  # whole seconds: shifts keep j % nd
        self.m2_max = C.SMALL_INT_MAX // (self.nd + 1)  # a 1 s energy sum stays a small int
        self.bar2 = C.MATCH_EDGE_DDPS * C.MATCH_EDGE_DDPS
        self.rebase_n = rebase_at // 2 // self.ring_n * self.ring_n
        self.rebase_at = rebase_at
        if self.rebase_n < 4 * self.ring_n:
            raise ValueError("rebase_at %d too small for a ring of %d" % (rebase_at, self.ring_n))
        # The decimated rate, one array per axis: three ~2 KB blocks fit a fragmented heap
        # where one of ~6 KB may not.
        self._rx = array("h", bytes(2 * self.ring_n))
        self._ry = array("h", bytes(2 * self.ring_n))
        self._rz = array("h", bytes(2 * self.ring_n))
        self._e = array("i", bytes(4 * self.nd))  # energies of the last nd decimated samples
        self._tpl = array("h", bytes(2 * 3 * C.MATCH_TEMPLATES * self.tlen))
        self._t_on = array("i", bytes(4 * C.MATCH_TEMPLATES))  # onset (decimated index)
        self._t_end = array("i", bytes(4 * C.MATCH_TEMPLATES))  # release
        self._t_len = array("i", bytes(4 * C.MATCH_TEMPLATES))  # shape length
        self._t_e = [0] * C.MATCH_TEMPLATES  # shape energy (may exceed a small int)
        self._fresh = array("i", bytes(4 * (self.delay_n // 2 + 2)))  # edges not yet due
        self._wait = array("i", bytes(4 * C.MATCH_WAIT_MAX))  # ring of due edges waiting for a shape
        self.out_age = array("i", bytes(4 * C.MATCH_OUT_MAX))
        self.out_dur = array("i", bytes(4 * C.MATCH_OUT_MAX))
        self.out_rate = array("i", bytes(4 * C.MATCH_OUT_MAX))
        self.out_conf = array("i", bytes(4 * C.MATCH_OUT_MAX))
        self.reset()

    def reset(self):
        self.j = -1  # last complete decimated sample
        self._ph = 0  # samples summed into the next one
        self._sx = self._sy = self._sz = 0
        self._pre = 0  # energy of the nd decimated samples up to j
        self._hit = False
        self._t_n = 0  # shapes kept
        self.alike = False  # the last full spasm's shape is like an earlier one's (``spasm``)
        self._t_last = C.MATCH_TEMPLATES - 1
        self._fh = 0  # ring head of _fresh
        self._fn = 0
        self._wh = 0  # ring head of _wait
        self._wn = 0
        self._supp = -1  # edges before this lie inside the last match
        self.n_out = 0
        self.dropped = 0  # edges or matches lost to full buffers
        for k in range(self.ring_n):
            self._rx[k] = self._ry[k] = self._rz[k] = 0
        for k in range(self.nd):
            self._e[k] = 0

    # --- per sample (no allocation) ----------------------------------------------
    def step(self, dx, dy, dz):
        self._sx += dx
        self._sy += dy
        self._sz += dz
        self._ph += 1
        if self._ph < self.k:
            return False
        k = self.k
        vx = self._sx // k
        vy = self._sy // k
        vz = self._sz // k
        self._sx = self._sy = self._sz = 0
        self._ph = 0
        j = self.j + 1
        self.j = j
        o = j % self.ring_n
        self._rx[o] = vx
        self._ry[o] = vy
        self._rz[o] = vz
        m2 = vx * vx + vy * vy + vz * vz  # a small int: each term is at most RATE_CLAMP_DDPS^2
        if m2 > self.m2_max:
            m2 = self.m2_max
        nd = self.nd
        hit = j >= nd and m2 > self.bar2 and (m2 >> C.MATCH_EDGE_SHIFT) * nd > self._pre
        q = j % nd  # the slot of sample j - nd, leaving the second before
        self._pre += m2 - self._e[q]
        self._e[q] = m2
        if hit and not self._hit:
            self._register(j)
        self._hit = hit
        return self._fn > 0 and self._fresh[self._fh] + self.delay_n <= j

    def examine(self):
        """The oldest edge fell due at the last ``step``: test it, or let it wait for a
        shape; returns the matches queued."""
        self._examine(self.j)
        return self.n_out

    def _m2(self, o):
        x = self._rx[o]
        y = self._ry[o]
        z = self._rz[o]
        m2 = x * x + y * y + z * z
        return m2 if m2 < self.m2_max else self.m2_max

    def _register(self, j):
        cap = len(self._fresh)
        if self._fn >= cap:  # cannot happen: edges are 2 apart and due after delay_n
            self.dropped += 1
            return
        self._fresh[(self._fh + self._fn) % cap] = j
        self._fn += 1

    def rebase(self):
        """Past ``rebase_at`` decimated samples, shift every index down by a multiple of
        the ring (the ring's slots stay put); call between samples. Returns the shift."""
        if self.j < self.rebase_at:
            return 0
        s = self.rebase_n
        self.j -= s
        self._supp -= s
        for a, n in ((self._t_on, C.MATCH_TEMPLATES), (self._t_end, C.MATCH_TEMPLATES), (self._fresh, len(self._fresh)), (self._wait, len(self._wait))):
            for i in range(n):
                a[i] -= s
        return s

    # --- decisions (shared with the host's twin) ------------------------------------
    def _examine(self, j):
        """The oldest fresh edge is due: test it, or let it wait for a shape."""
        self.n_out = 0
        cap = len(self._fresh)
        e = self._fresh[self._fh]
        self._fh = (self._fh + 1) % cap
        self._fn -= 1
        if self._test(e, (j + 1) * self.k - 1):
            return
        w = self._wait
        cap = len(w)
        while self._wn and j - w[self._wh] > self.keep_n:  # no shape can reach back to it now
            self._wh = (self._wh + 1) % cap
            self._wn -= 1
        if self._wn >= cap:  # the oldest goes first
            self._wh = (self._wh + 1) % cap
            self._wn -= 1
            self.dropped += 1
        w[(self._wh + self._wn) % cap] = e
        self._wn += 1

    def spasm(self, onset_age_n, duration_n):
        """A full spasm confirmed at the current sample (which ``step`` has not taken
        yet), its onset ``onset_age_n`` samples back: keep its shape and test the
        edges that were waiting for one."""
        k = self.k
        now = (self.j + 1) * k + self._ph
        on = now - onset_age_n
        jo = on // k
        je = (on + duration_n) // k
        d = je - jo
        ln = self.pre_n + (d if d < self.max_n else self.max_n) + self.tail_n
        start = jo - self.pre_n
        self.n_out = 0
        self.alike = False
        if start + ln - 1 > self.j or start <= self.j - self.ring_n:
            return 0  # not in the ring (a spasm is confirmed 1 s after its release: never)
        t = (self._t_last + 1) % C.MATCH_TEMPLATES
        self._t_last = t
        if self._t_n < C.MATCH_TEMPLATES:
            self._t_n += 1
        self._t_on[t] = jo
        self._t_end[t] = je
        self._t_len[t] = ln
        self._t_e[t] = self._copy(t, start, ln)
        self.alike = self._alike(t)
        w = self._wait
        cap = len(w)
        h = self._wh
        keep = 0
        for i in range(self._wn):
            e = w[(h + i) % cap]
            if self.j - e > self.keep_n or self._test(e, now):
                continue
            w[(h + keep) % cap] = e
            keep += 1
        self._wn = keep
        return self.n_out

    def _alike(self, t):
        """Is shape ``t`` like the shape of a full spasm kept at most pair_n before it?"""
        o = self._t_on[t]
        sim = C.MATCH_PAIR_PCT
        for c in range(1, self._t_n):
            u = (t - c) % C.MATCH_TEMPLATES
            if o - self._t_on[u] > self.pair_n:
                continue
            dots, sa, sb = self._pair(t, u)
            for i in range(len(dots)):
                d = dots[i]
                if d > 0 and d * d * 10000 >= sim * sim * sa[i] * sb[i]:
                    return True
        return False

    def _test(self, e, now):
        """Test edge ``e`` against the shapes near it, newest first; False if none is
        near (it may wait). A match is queued with its age at sample ``now``."""
        if e < self._supp:
            return True  # inside the last match: done with
        near = False
        for c in range(self._t_n):
            t = (self._t_last - c) % C.MATCH_TEMPLATES
            o = self._t_on[t]
            if self._t_end[t] + self.self_n >= e >= o - self.self_n:
                return True  # the kept full spasm itself
            if o - self.back_n <= e <= o + self.ahead_n:
                near = True
        if not near:
            return False
        for c in range(self._t_n):
            t = (self._t_last - c) % C.MATCH_TEMPLATES
            o = self._t_on[t]
            if o - self.back_n <= e <= o + self.ahead_n and self._match(e, t, now):
                return True
        return True

    def _match(self, e, t, now):
        ln = self._t_len[t]
        te = self._t_e[t]
        i0 = e - self.pre_n - self.lag_n
        dots, sns = self._dots(t, i0, 2 * self.lag_n + 1, ln)
        best = -1
        bd = bs = 0
        for i in range(len(dots)):
            d = dots[i]
            s = sns[i]
            if d > 0 and (best < 0 or d * d * bs > bd * bd * s):
                best = i
                bd = d
                bs = s
        if best < 0:
            return False
        sim = C.MATCH_SIM_PCT
        if bd * bd * 10000 < sim * sim * bs * te:
            return False
        if bs * 100 < C.MATCH_ENERGY_MIN_PCT * te or bs * 100 > C.MATCH_ENERGY_MAX_PCT * te:
            return False
        i = i0 + best
        pk2, pre, post = self._energy(i, ln)
        calm = C.MATCH_CALM_PCT * C.MATCH_CALM_PCT * pk2 * self.nd
        if pre * 10000 >= calm or post * 10000 >= calm:
            return False
        self._supp = i + ln
        n = self.n_out
        if n >= C.MATCH_OUT_MAX:
            self.dropped += 1
            return True
        pct = isqrt(bd * bd * 10000 // (bs * te))
        conf = 1 + 48 * (pct - sim) // (100 - sim)
        self.out_age[n] = now - (i + self.pre_n) * self.k
        self.out_dur[n] = (ln - self.pre_n - self.tail_n) * self.k
        self.out_rate[n] = isqrt(pk2) * 1745 // 1000
        self.out_conf[n] = conf if conf < C.STRONG_CONFIDENCE else C.STRONG_CONFIDENCE - 1
        self.n_out = n + 1
        return True

    # --- data kernels (the twin has numpy ones) --------------------------------------
    def _copy(self, t, start, ln):
        """Copy ``ln`` decimated samples from ``start`` into shape slot ``t``; its energy."""
        rx = self._rx
        ry = self._ry
        rz = self._rz
        tp = self._tpl
        rn = self.ring_n
        b = 3 * t * self.tlen
        e = 0
        for q in range(ln):
            o = (start + q) % rn
            x = rx[o]
            y = ry[o]
            z = rz[o]
            p = b + 3 * q
            tp[p] = x
            tp[p + 1] = y
            tp[p + 2] = z
            e += x * x + y * y + z * z
        return e

    def _dots(self, t, i0, nl, ln):
        """For each shift i0..i0+nl-1: the dot product of the ring with shape ``t``
        and the ring's energy over the shape's length."""
        rx = self._rx
        ry = self._ry
        rz = self._rz
        tp = self._tpl
        rn = self.ring_n
        b = 3 * t * self.tlen
        dots = []
        sns = []
        for i in range(i0, i0 + nl):
            d = s = 0
            for q in range(ln):
                o = (i + q) % rn
                x = rx[o]
                y = ry[o]
                z = rz[o]
                p = b + 3 * q
                d += x * tp[p] + y * tp[p + 1] + z * tp[p + 2]
                s += x * x + y * y + z * z
            dots.append(d)
            sns.append(s)
        return dots, sns

    def _pair(self, t, u):
        """For each lag L of shape ``t`` behind shape ``u`` (-lag_n..lag_n): the dot
        product of t[q + L] and u[q] over their overlap, and the two energies there."""
        tp = self._tpl
        bt = 3 * t * self.tlen
        bu = 3 * u * self.tlen
        lt = self._t_len[t]
        lu = self._t_len[u]
        dots = []
        sa = []
        sb = []
        for L in range(-self.lag_n, self.lag_n + 1):
            d = ea = eb = 0
            for q in range(-L if L < 0 else 0, lu if lu < lt - L else lt - L):
                p = bt + 3 * (q + L)
                r = bu + 3 * q
                x = tp[p]
                y = tp[p + 1]
                z = tp[p + 2]
                a = tp[r]
                b = tp[r + 1]
                c = tp[r + 2]
                d += x * a + y * b + z * c
                ea += x * x + y * y + z * z
                eb += a * a + b * b + c * c
            dots.append(d)
            sa.append(ea)
            sb.append(eb)
        return dots, sa, sb

    def _energy(self, i, ln):
        """Peak energy over [i, i + ln), energy sums of the nd samples before and after."""
        rn = self.ring_n
        nd = self.nd
        pk = pre = post = 0
        for q in range(ln):
            m2 = self._m2((i + q) % rn)
            if m2 > pk:
                pk = m2
        for q in range(nd):
            pre += self._m2((i - nd + q) % rn)
            post += self._m2((i + ln + q) % rn)
        return pk, pre, post
