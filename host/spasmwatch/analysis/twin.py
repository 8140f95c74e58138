"""Vectorised numpy twin of the band's streaming front end, detector and epochs.

``swcore.frontend`` / ``swcore.detector`` / ``swcore.epoch`` define the
algorithm, one sample at a time, as the band runs it. This module computes the
same integers for whole chunks with cumulative sums, and runs the detector's
state machine only where it can leave IDLE: every feature is a pure function
of the samples, so a candidate onset's outcome depends on nothing but its
index. Tests hold both to identical events under the real ``micropython``.

Memory stays bounded: chunks are processed with a tail of history long enough
for every window, and candidates that run past the end of a chunk wait for the
next one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from swcore import consts as C
from swcore.compat import isqrt
from swcore.bias import GyroBias
from swcore.detector import confidence
from swcore.epoch import active_bar, first_rest, next_rest_if_worn, ratio_pct
from swcore.frontend import Params
from spasmwatch.analysis.matchtwin import MatchHit, TwinMatcher

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Ints = NDArray[np.signedinteger[Any]]  # int samples in any width (int16 counts from a raw file)


@dataclass(frozen=True)
class SpasmHit:
    """A confirmed spasm, in sample indices (as ``Detector.ev_*``)."""

    onset_n: int
    duration_n: int
    peak_rate: int  # mrad/s
    peak_angle: int  # mrad
    confidence: int  # 0-100
    hold_n: int
    decided_n: int  # sample at which the detector confirmed it (after the calm-after window)
    alike: bool = False  # a full spasm shaped like one kept before it (``Matcher.alike``)


@dataclass(frozen=True)
class EpochRow:
    """One completed epoch (as ``EpochFeatures`` after ``step`` returned True)."""

    index: int
    activity: int
    breath_acc: int
    breath_gyro: int


def to_units(acc_g: F64, gyro_dps: F64 | None) -> tuple[I64, I64]:
    """Float g and deg/s -> the band's ints (mg, 0.1 deg/s), rounded half up."""
    a = _round_half_up(acc_g, 1000.0)
    if gyro_dps is None:
        return a, np.zeros_like(a)
    return a, _round_half_up(gyro_dps, 10.0)


def _round_half_up(x: F64, scale: float, out: I64 | None = None, tmp: F64 | None = None) -> I64:
    """floor(x * scale + 0.5) as int64; into ``out`` (and via ``tmp``) when given."""
    tmp = np.multiply(x, scale, out=tmp)
    tmp += 0.5
    if out is None:
        np.floor(tmp, out=tmp)
        return tmp.astype(np.int64)
    np.floor(tmp, out=out, casting="unsafe")  # the float64 floor, cast as astype casts it
    return out


def _lagged(cs: I64, lag: int, n: int) -> I64:
    """cs[i + 1 - lag] for i in [0, n), clipped at cs[0] = 0 (the stream's zeros)."""
    if lag <= 0:
        return cs[1 : n + 1]
    out = np.zeros((n,) + cs.shape[1:], np.int64)
    if lag < n + 1:
        out[lag:] = cs[1 : n + 1 - lag]
    return out


def _at(cs: I64, idx: I64 | int) -> I64:
    """cs at indices, clipped at 0 (windows reaching before the first sample)."""
    return cs[np.maximum(idx, 0)]


class BiasTrack:
    """The gyro bias over a stream, block by block, via the band's own ``GyroBias``.

    Block sums and roughness are computed vectorised; the still/refuse
    decision runs in ``GyroBias`` itself, once per block (one call per second
    of data). ``table[c - first]`` is the bias in effect after ``c`` blocks.
    """

    def __init__(self, p: Params) -> None:
        self.blk = p.block
        self.gb = GyroBias(p.block)
        self.done = 0  # blocks fed so far
        self.first = 0  # block count of table row 0
        self.table = np.zeros((1, 3), np.int64)  # row 0: no block yet

    def advance(self, base: int, gyro: I64) -> None:
        """Feed every block completed inside this buffer and not fed before."""
        blk = self.blk
        end = (base + len(gyro)) // blk
        if end <= self.done:
            return
        lo = self.done * blk - base
        g = gyro[lo : lo + (end - self.done) * blk].reshape(-1, blk, 3)
        sums = _block_sums(g).tolist()
        dev = g - g[:, :1, :]
        np.abs(dev, out=dev)
        rough = dev.reshape(len(dev), -1).sum(axis=1).tolist()
        gb = self.gb
        rows = []
        for (sx, sy, sz), r in zip(sums, rough):
            gb.block_done(sx, sy, sz, r)
            rows.append((gb.bx, gb.by, gb.bz))
        self.table = np.concatenate([self.table, np.array(rows, np.int64)])
        self.done = end

    def at(self, base: int, idx: I64) -> I64:
        """The bias in effect at buffer positions ``idx`` (absolute ``base``)."""
        c = (base + idx) // self.blk - self.first
        rows: I64 = self.table[np.clip(c, 0, len(self.table) - 1)]
        return rows

    def removed(self, base: int, gyro: I64) -> I64:
        """``gyro`` minus the bias in effect at each sample, a block at a time (no
        per-sample gather: the bias only changes at block boundaries)."""
        blk = self.blk
        last = len(self.table) - 1
        out = np.empty_like(gyro)
        pos = 0
        while pos < len(gyro):  # a partial block, the whole blocks, a partial block
            c = (base + pos) // blk
            row = min(max(c - self.first, 0), last)
            whole = min((len(gyro) - pos) // blk, last - row) if (base + pos) % blk == 0 and row == c - self.first else 0
            if whole:
                span = slice(pos, pos + whole * blk)
                np.subtract(gyro[span].reshape(whole, blk, 3), self.table[row : row + whole, None, :], out=out[span].reshape(whole, blk, 3))
                pos += whole * blk
            else:  # one block, or everything past the table's last row
                stop = len(gyro) if row == last else min(len(gyro), (c + 1) * blk - base)
                np.subtract(gyro[pos:stop], self.table[row], out=out[pos:stop])
                pos = stop
        return out

    def forget_before(self, sample: int) -> None:
        """Drop rows no sample at or after ``sample`` can need."""
        cut = sample // self.blk - self.first
        if cut > 0:
            self.table = self.table[cut:]
            self.first += cut


class Features:
    """Front-end features for a buffer of samples starting at absolute index ``base``.

    Valid (identical to the streaming front end) for buffer positions whose
    windows lie inside the buffer, or everywhere when ``base == 0`` (the
    stream's implicit zeros before the first sample are the buffer's too).
    Per-sample arrays are built only for what every sample needs (the rate
    energy ``sp2``); windows read at candidate onsets come from the cumulative
    sums on demand.
    """

    def __init__(self, p: Params, base: int, acc: I64, gyro: I64, bias: BiasTrack | None = None) -> None:
        self.p = p
        self.base = base
        self.acc = acc
        self.gyro = gyro
        n = len(acc)
        self.n = n
        # Accel sums are only read without a gyro (tilt and its rate).
        self.ca = np.zeros((n + 1 if not p.has_gyro else 1, 3), np.int64)
        if not p.has_gyro:
            np.cumsum(acc, axis=0, out=self.ca[1:])
        if p.has_gyro:
            self.bias = bias if bias is not None else BiasTrack(p)
            self.bias.advance(base, gyro)
            d = self.bias.removed(base, gyro)
            np.clip(d, -C.RATE_CLAMP_DDPS, C.RATE_CLAMP_DDPS, out=d)
            self.rate = d  # the rate less the bias, clamped (ddps): the cluster counter's input
        else:
            ca = self.ca
            d = ca[1:] - 2 * _lagged(ca, p.ns, n) + _lagged(ca, 2 * p.ns, n)  # 2 S - S2
        sp2 = np.einsum("ij,ij->i", d, d)
        self.sp2 = np.minimum(sp2, p.sp2_max, out=sp2)
        self.ce = np.zeros(n + 1, np.int64)
        np.cumsum(self.sp2, out=self.ce[1:])

    def m_at(self, idx: I64) -> I64:
        """Short mean of accel (mg) at sample positions."""
        p = self.p
        ns: int = p.ns
        return (self.ca[idx + 1] - _at(self.ca, idx + 1 - ns)) // ns

    def ref_at(self, pos: I64 | int) -> I64:
        """Mean accel (mg) over the reference window ending ``gap`` before an onset."""
        p = self.p
        gap: int = p.gap
        la: int = p.la
        nr: int = p.nr
        return (_at(self.ca, pos + 1 - gap) - _at(self.ca, pos + 1 - la)) // nr

    def _tilt2_rows(self, idx: I64) -> I64:
        """Tilt^2 from the reference at the last quasi-static sample (see Detector)."""
        ref = self.ref_at(idx[:, 0])
        g2 = np.einsum("ij,ij->i", ref, ref)
        tol = (2 * _isqrt(g2) * C.QS_MG)[:, None]
        m = self.m_at(idx)
        m2 = np.einsum("ijk,ijk->ij", m, m) - g2[:, None]
        k = np.arange(idx.shape[1])[None, :]
        last = np.maximum.accumulate(np.where((m2 >= -tol) & (m2 <= tol), k, -1), axis=1)
        rows = np.arange(len(idx))[:, None]
        q = np.where((last >= 0)[..., None], m[rows, np.maximum(last, 0)], ref[:, None, :])
        dt = q - ref[:, None, :]
        tilt2: I64 = np.einsum("ijk,ijk->ij", dt, dt)
        return tilt2

    def onsets(self, lo: int) -> I64:
        """Rising edges (from ``lo`` on) over the onset threshold: ONSET_DDPS, raised
        in busy spells to 2^ONSET_PRE_SHIFT times the mean pre-window energy."""
        p = self.p
        sp = self.sp2
        i = np.flatnonzero(sp[lo:] > p.on2) + lo  # few: the pre sums only there
        pre = _at(self.ce, i + 1 - p.gap) - _at(self.ce, i + 1 - p.lp)
        sh = C.ONSET_PRE_SHIFT
        prev = sp[i - 1]
        above = (sp[i] >> sh) * p.np > pre
        was = (prev > p.on2) & ((prev >> sh) * p.np > pre)
        edge: I64 = i[above & ~was]
        return edge

    def pre_at(self, pos: I64 | int) -> I64:
        """Mean rate energy over the pre-onset window ending ``gap`` before it."""
        p = self.p
        gap: int = p.gap
        lp: int = p.lp
        npre: int = p.np
        return (_at(self.ce, pos + 1 - gap) - _at(self.ce, pos + 1 - lp)) // npre

    def deviation2_rows(self, pos: I64, ln: int) -> I64:
        """Squared posture change (mrad^2) for ``ln`` samples from each onset in
        ``pos``: shape (len(pos), ln)."""
        p = self.p
        k = np.arange(ln, dtype=np.int64)
        idx = np.minimum(pos[:, None] + k, self.n - 1)  # past the end: masked by callers
        if p.has_gyro:
            # Angle = running sum of the rate from the onset, less the bias: summed over
            # the candidates' windows alone (a few % of the samples), not the whole buffer.
            th = np.cumsum(self.gyro[idx], axis=1)
            th -= (k + 1)[None, :, None] * self.bias.at(self.base, pos)[:, None, :]
            np.clip(th, -p.th_max, p.th_max, out=th)
            mr = (th * p.kq) >> 16
            d2: I64 = np.einsum("ijk,ijk->ij", mr, mr)
        else:
            d2 = self._tilt2_rows(idx)

        clamp: int = C.DEV2_CLAMP
        np.minimum(d2, clamp, out=d2)
        return d2


def _block_sums(x: I64) -> I64:
    """Per-axis sums of (blocks, samples, 3): einsum, several times faster here than
    ``sum(axis=1)``, which strides across the middle axis."""
    sums: I64 = np.einsum("ijk->ik", x)
    return sums


def _isqrt(n: I64) -> I64:
    """Exact integer square root of non-negative int64s (as compat.isqrt)."""
    s = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    s -= (s * s > n).astype(np.int64)
    s += ((s + 1) * (s + 1) <= n).astype(np.int64)
    return s


def _first_rows(mask: NDArray[np.bool_]) -> I64:
    """Per row, index of the first True, or -1."""
    k = np.argmax(mask, axis=1)
    return np.where(mask[np.arange(len(mask)), k], k, -1).astype(np.int64)


class _Window:
    """Two buffers used in turn for a stream's tail + chunk: the next chunk's window is
    built in the buffer the tail does not live in, so no per-chunk allocation (a fresh
    3 MB array costs more in page faults than the copy itself)."""

    def __init__(self) -> None:
        self._bufs = [np.zeros((0, 3), np.int64), np.zeros((0, 3), np.int64)]
        self._at = 0

        self._tmp = np.zeros((0, 3))  # floats being rounded

    def join(self, tail: I64, new: Ints) -> I64:
        out = self._next(tail, len(new))
        out[len(tail) :] = new
        return out

    def join_rounded(self, tail: I64, new: F64 | None, scale: float, n: int) -> I64:
        """As ``join(tail, _round_half_up(new, scale))``; ``n`` zeros for a missing stream."""
        out = self._next(tail, n)
        if new is None:
            out[len(tail) :] = 0
            return out
        if len(self._tmp) < n:
            self._tmp = np.empty((n, 3))
        _round_half_up(new, scale, out[len(tail) :], self._tmp[:n])
        return out

    def _next(self, tail: I64, n_new: int) -> I64:
        """The other buffer, holding ``tail`` then room for ``n_new`` rows."""
        self._at ^= 1
        n = len(tail) + n_new
        buf = self._bufs[self._at]
        if len(buf) < n:
            buf = self._bufs[self._at] = np.empty((n + n // 8, 3), np.int64)
        out = buf[:n]
        out[: len(tail)] = tail
        return out


# What ``feed`` returns: the spasms, epochs and cluster-counter matches completed.
Fed = tuple[list[SpasmHit], list[EpochRow], list[MatchHit]]

# Samples a chunk is fed in, at most (``TwinDetector.feed`` splits larger ones; the
# outputs do not depend on where chunks are cut). The windows' arrays (int64 x 3:
# 768 KB) then stay in a core's L2 cache (2 MB on the 2-core bench machine) over
# the ~25 passes the features make. Analysis of a 24 h 100 Hz day in 2^17-row
# blocks (CPU s, median of 3): 1.25-1.28 fed whole, 1.0 in 2^16, 0.94 in 49152,
# 0.89 in 2^15, 0.87 in 24576, 0.95-0.96 in 2^14 (per-step overhead takes over).
FEED_ROWS = 1 << 15


def _steps(n: int, final: bool) -> list[tuple[int, int, bool]]:
    """(start, end, final) of the FEED_ROWS pieces of an n-row chunk; one empty piece
    when n is 0 (a final call with nothing new still finishes the stream)."""
    cuts = list(range(0, n, FEED_ROWS)) or [0]
    return [(s, min(n, s + FEED_ROWS), final and s + FEED_ROWS >= n) for s in cuts]


def _extend(out: Fed, more: Fed) -> None:
    out[0].extend(more[0])
    out[1].extend(more[1])
    out[2].extend(more[2])


# Outcome of one onset: (end index, hit or None); None when the data runs out.
Outcome = tuple[int, SpasmHit | None] | None

_BATCH = 4096  # candidates per vectorised rise evaluation (bounds memory)


class TwinDetector:
    """Chunked, vectorised equivalent of ``Detector`` + ``EpochFeatures`` (+ ``Matcher``
    with a gyro).

    ``feed`` takes int samples (mg, ddps) in order and returns the spasms,
    epochs and cluster-counter matches completed so far; ``final=True`` on
    the last chunk.
    """

    def __init__(self, rate_hz: float, has_gyro: bool = True) -> None:
        self.p = Params(rate_hz, has_gyro)
        p = self.p
        # History any feature at a valid position may look back over.
        self.history = max(p.la, p.lp) + 2 * p.ns + 2
        self._bias = BiasTrack(self.p)
        self._tail_acc = np.zeros((0, 3), np.int64)
        self._tail_gyro = np.zeros((0, 3), np.int64)
        self._acc_win = _Window()
        self._gyro_win = _Window()
        self._base = 0
        self._next_i = 0
        self._next_epoch = 0
        self._rest = first_rest(self.p)
        self.matcher = TwinMatcher(rate_hz) if has_gyro else None

    def feed(self, acc: Ints, gyro: Ints, final: bool = False) -> Fed:
        out: Fed = ([], [], [])
        for s, e, last in _steps(len(acc), final):
            buf_a = self._acc_win.join(self._tail_acc, acc[s:e])
            buf_g = self._gyro_win.join(self._tail_gyro, gyro[s:e])
            _extend(out, self._feed(buf_a, buf_g, e - s, last))
        return out

    def feed_units(self, acc_g: F64, gyro_dps: F64 | None, final: bool = False) -> Fed:
        """``feed(*to_units(acc_g, gyro_dps))``, rounded straight into the window
        (no int copies of the chunk on the way)."""
        out: Fed = ([], [], [])
        for s, e, last in _steps(len(acc_g), final):
            buf_a = self._acc_win.join_rounded(self._tail_acc, acc_g[s:e], 1000.0, e - s)
            buf_g = self._gyro_win.join_rounded(self._tail_gyro, None if gyro_dps is None else gyro_dps[s:e], 10.0, e - s)
            _extend(out, self._feed(buf_a, buf_g, e - s, last))
        return out

    def _feed(self, buf_a: I64, buf_g: I64, n_new: int, final: bool) -> Fed:
        f = Features(self.p, self._base, buf_a, buf_g, self._bias)
        hits = self._spasms(f, final)
        epochs = self._epochs(f)
        matches: list[MatchHit] = []
        if self.matcher is not None:
            shapes = [(h.decided_n, h.onset_n, h.duration_n) for h in hits if h.confidence >= C.STRONG_CONFIDENCE]
            matches = self.matcher.feed(f.rate[f.n - n_new :], shapes, final)
            alike = self.matcher.alike_at
            if alike:
                hits = [replace(h, alike=True) if h.decided_n in alike else h for h in hits]
                alike.clear()
        end = self._base + f.n
        keep = max(0, min(self._next_i, self._next_epoch * self.p.epoch, end) - self.history)
        cut = keep - self._base
        self._bias.forget_before(keep)
        if cut > 0:
            self._tail_acc = buf_a[cut:]
            self._tail_gyro = buf_g[cut:]
            self._base = keep
        else:
            self._tail_acc = buf_a
            self._tail_gyro = buf_g
        return hits, epochs, matches

    # --- spasms ---------------------------------------------------------------
    def _spasms(self, f: Features, final: bool) -> list[SpasmHit]:
        p = self.p
        base = f.base
        valid = base + self.history if base > 0 else 0
        lo = max(self._next_i, valid, p.warmup, 1) - base
        edge = f.onsets(lo)
        outcomes = self._rise_batch(f, edge)
        hits: list[SpasmHit] = []
        cur = self._next_i
        pending = -1
        for pos, out in zip(edge.tolist(), outcomes):
            if base + pos < cur:
                continue  # the detector was busy with an earlier onset
            if out is None:
                pending = base + pos
                break
            end, hit = out
            if hit is not None:
                hits.append(hit)
            cur = end + 1
        if pending >= 0 and not final:
            self._next_i = pending
        else:
            self._next_i = max(cur, base + f.n)
        return hits

    def _rise_batch(self, f: Features, edge: I64) -> list[Outcome]:
        """RISE for every candidate at once; HOLD/RETURN only for those that pass."""
        out: list[Outcome] = []
        for s in range(0, len(edge), _BATCH):
            out.extend(self._rise_rows(f, edge[s : s + _BATCH]))
        return out

    def _settle_rows(self, f: Features, pos: I64, avail: I64) -> tuple[I64, I64, I64]:
        """Per candidate over RISE's window: the offset where RISE settles (SETTLE_MS
        of calm; -1 if not, within the window or the ``avail`` samples there are),
        the peak rate^2 then, and the peak deviation^2 over that calm run."""
        p = self.p
        q = p.settle_n
        r = p.rise_n + 1
        k = np.arange(r)
        sp = f.sp2[np.minimum(pos[:, None] + k, f.n - 1)]
        pk = np.maximum.accumulate(sp, axis=1)
        calm = (sp * 100 <= pk * p.settle2) & (k[None, :] < avail[:, None])
        calm[:, 0] = False  # the onset sample itself never counts
        c = np.zeros((len(pos), r + 1), np.int64)
        np.cumsum(calm, axis=1, out=c[:, 1:])
        run = np.zeros_like(calm)
        run[:, q - 1 :] = c[:, q:] - c[:, : r + 1 - q] == q
        ks = _first_rows(run)
        rows = np.arange(len(pos))
        ksafe = np.maximum(ks, 0)
        d2 = f.deviation2_rows(pos, r)
        inrun = (k[None, :] > ksafe[:, None] - q) & (k[None, :] <= ksafe[:, None])
        dpk = np.where(inrun, d2, 0).max(axis=1)
        return ks, pk[rows, ksafe], dpk

    def _rise_rows(self, f: Features, pos: I64) -> list[Outcome]:
        """Outcomes of RISE (and what follows) for onsets at ``pos``; None where the
        buffer ends before the detector would decide."""
        p = self.p
        avail = f.n - pos
        ks, pk2, dpk = self._settle_rows(f, pos, avail)
        passed = (ks > 0) & (dpk >= p.dev_weak2) & (f.pre_at(pos) * 100 <= pk2 * p.pre2)
        ends = np.where(ks > 0, ks, p.rise_n)
        res: list[Outcome] = [
            (int(f.base + at + e), None) if e < n else None for at, e, n in zip(pos.tolist(), ends.tolist(), avail.tolist())
        ]
        for j, out in self._hold_rows(f, np.flatnonzero(passed), pos, ks, pk2, dpk):
            res[j] = out
        return res

    def _hold_rows(
        self, f: Features, sel: I64, pos: I64, ks: I64, pk2: I64, dpk0: I64
    ) -> list[tuple[int, Outcome]]:
        """HOLD then RETURN for the candidates ``sel`` that passed RISE (offsets from onset)."""
        p = self.p
        if not len(sel):
            return []
        ln = p.rise_n + p.hold_max_n + p.ret_max_n + 1  # the longest any candidate can run
        at = pos[sel]
        avail = (f.n - at)[:, None]
        h = ks[sel][:, None]
        mk = h - p.settle_n + 1  # the calm run's first sample: the hold's start
        d2 = f.deviation2_rows(at, ln)
        k = np.arange(ln)[None, :]
        seen = k < avail  # samples the buffer holds
        run = np.maximum.accumulate(np.where(k > h, d2, dpk0[sel][:, None]), axis=1)
        floor_s = np.maximum(run * p.ret_start2, p.ret_start_floor)
        r = _first_rows(seen & (k > h) & (k <= mk + p.hold_max_n) & (d2 * 100 < floor_s))
        rows = np.arange(len(sel))
        dpk = run[rows, np.maximum(r, 0)]
        rr = r[:, None]
        floor_e = np.maximum(dpk[:, None] * p.ret_end2, p.ret_end_floor)
        a = _first_rows(seen & (k >= rr) & (k <= rr + p.ret_max_n) & (d2 * 100 < floor_e))
        out: list[tuple[int, Outcome]] = []
        for j in range(len(sel)):
            n = int(avail[j, 0])
            base = f.base + int(at[j])
            o: Outcome
            if r[j] < 0:
                e = int(mk[j, 0]) + p.hold_max_n
                o = (base + e, None) if e < n else None
            elif _no_hold(p, int(r[j]), int(r[j] - mk[j, 0])):
                o = (base + int(r[j]), None)
            elif a[j] < 0:
                e = int(r[j]) + p.ret_max_n
                o = (base + e, None) if e < n else None
            else:
                o = self._after(f, int(at[j]), int(a[j]), n, int(pk2[sel[j]]), int(dpk[j]), int(r[j]), bool(dpk0[sel[j]] >= p.dev_min2))
            out.append((int(sel[j]), o))
        return out

    def _after(self, f: Features, at: int, a: int, n: int, pk2: int, dpk: int, hold_n: int, strong: bool) -> Outcome:
        """Released at offset ``a``: the POST_MS after it must be calm (None: not seen yet)."""
        p = self.p
        e = a + p.post_n
        if e >= n:
            return None
        energy = (int(f.ce[at + e + 1]) - int(f.ce[at + a + 1])) // p.post_n
        if energy * 100 > pk2 * p.post2:
            return (f.base + at + e, None)
        # The posture at settling decides the tier (``strong``).
        return (f.base + at + e, self._hit(f.base + at, a, pk2, dpk, hold_n, strong, f.base + at + e))

    def _hit(self, onset: int, dur: int, pk2: int, dpk: int, hold_n: int, strong: bool, decided: int) -> SpasmHit:
        p = self.p
        rate = isqrt(pk2)
        rate = rate * 1745 // 1000 if p.has_gyro else rate * p.rate_int // (p.ns * p.ns)
        conf = confidence(dpk, hold_n, strong, p)
        return SpasmHit(onset, dur, rate, isqrt(dpk), conf, hold_n, decided)

    # --- epochs ---------------------------------------------------------------
    def _epochs(self, f: Features) -> list[EpochRow]:
        p = self.p
        e_len = p.epoch
        first = self._next_epoch
        last = (f.base + f.n) // e_len  # epochs [first, last) are complete
        if last <= first:
            return []
        start = first * e_len - f.base
        ne = last - first
        sl = slice(start, start + ne * e_len)
        nacc = self._noise(f.acc, start, ne)
        va = self._block_var(f.acc[sl], ne)
        b_acc = [_ratio(v, d, p) for v, d in zip(va.tolist(), nacc.tolist())]
        if p.has_gyro:
            ngyr = self._noise(f.gyro, start, ne)
            vg = self._block_var(f.gyro[sl], ne)
            b_gyr = [_ratio(v, d, p) for v, d in zip(vg.tolist(), ngyr.tolist())]
        else:  # the band has no gyro breathing either: skip the all-zero gyro
            b_gyr = [0] * ne
        act = self._activity(f.sp2[sl].reshape(ne, e_len), b_acc, b_gyr)
        rows = [EpochRow(index=first + j, activity=act[j], breath_acc=b_acc[j], breath_gyro=b_gyr[j]) for j in range(ne)]
        self._next_epoch = last
        return rows

    def _activity(self, sp2: I64, breath_acc: list[int], breath_gyro: list[int]) -> list[int]:
        """Active samples per epoch (rows of ``sp2``). Each epoch's bar follows the rest level
        left by the epochs before it (a short loop over epochs, as ``EpochFeatures`` does);
        with one possible bar (a gyro) all rows are counted at once."""
        p = self.p
        if not p.act_adapts:
            return [int(x) for x in np.count_nonzero(sp2 > p.act2, axis=1)]
        levels = (np.minimum(sp2, p.act_max2).sum(axis=1) // p.epoch).tolist()
        rest = self._rest
        out = []
        for j, level in enumerate(levels):
            act = int(np.count_nonzero(sp2[j] > active_bar(rest, p)))
            rest = next_rest_if_worn(rest, level, act, breath_acc[j], breath_gyro[j], p)
            out.append(act)
        self._rest = rest
        return out

    def _noise(self, x: I64, start: int, ne: int) -> I64:
        """Per epoch, sum of clamped squared sample-to-sample differences."""
        e_len = self.p.epoch
        end = start + ne * e_len
        d = np.empty((ne * e_len, 3), np.int64)
        np.subtract(x[start + 1 : end], x[start : end - 1], out=d[1:])
        d[0] = x[start] - x[start - 1] if start > 0 else 0  # the stream's first sample has no predecessor
        np.clip(d, -C.NOISE_DIFF_CLAMP, C.NOISE_DIFF_CLAMP, out=d)
        d3 = d.reshape(ne, e_len, 3)
        per_epoch: I64 = np.einsum("ijk,ijk->i", d3, d3)
        return per_epoch

    def _block_var(self, x: I64, ne: int) -> I64:
        """Per epoch: variance of block means (x nb^2 / nb^2)."""
        p = self.p
        nb, bl = p.nblocks, p.bblock
        blocks = _block_sums(x.reshape(ne, p.epoch, 3)[:, : nb * bl].reshape(ne * nb, bl, 3)).reshape(ne, nb, 3) // bl
        m0 = blocks[:, 0, :]
        dm = blocks - m0[:, None, :]
        sm = dm.sum(axis=1)
        sq = np.einsum("ijk,ijk->i", dm, dm)
        var: I64 = (nb * sq - np.einsum("ij,ij->i", sm, sm)) // (nb * nb)
        return var


def _no_hold(p: Params, hold_n: int, held: int) -> bool:
    """Release came too soon after onset, or right after the fast phase: no tonic phase."""
    return bool(hold_n < p.hold_min_n or held < p.held_min_n)


def _ratio(block_var: int, diff_sq_sum: int, p: Params) -> int:
    return int(ratio_pct(block_var, diff_sq_sum, p))
