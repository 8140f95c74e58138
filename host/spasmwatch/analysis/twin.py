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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from swcore import consts as C
from swcore.compat import isqrt
from swcore.detector import confidence
from swcore.frontend import Params

I64 = NDArray[np.int64]


@dataclass(frozen=True)
class SpasmHit:
    """A confirmed spasm, in sample indices (as ``Detector.ev_*``)."""

    onset_n: int
    duration_n: int
    peak_rate: int  # mrad/s
    peak_angle: int  # mrad
    confidence: int  # 0-100
    hold_n: int


@dataclass(frozen=True)
class EpochRow:
    """One completed epoch (as ``EpochFeatures`` after ``step`` returned True)."""

    index: int
    activity: int
    breath_acc: int
    breath_gyro: int
    gx_mg: int
    gy_mg: int
    gz_mg: int


def to_units(acc_g: NDArray[np.float64], gyro_dps: NDArray[np.float64] | None) -> tuple[I64, I64]:
    """Float g and deg/s -> the band's ints (mg, 0.1 deg/s), rounded half up."""
    a = np.floor(acc_g * 1000.0 + 0.5).astype(np.int64)
    if gyro_dps is None:
        return a, np.zeros_like(a)
    return a, np.floor(gyro_dps * 10.0 + 0.5).astype(np.int64)


def _win(cs: I64, lo: I64 | int, hi: I64) -> I64:
    """Sum of samples [lo, hi) from a leading-zero cumulative sum (indices clipped at 0,
    as the stream's implicit zeros before the first sample)."""
    return cs[np.maximum(hi, 0)] - cs[np.maximum(lo, 0)]


class Features:
    """Front-end features for a buffer of samples starting at absolute index ``base``.

    Valid (identical to the streaming front end) for buffer positions whose
    windows lie inside the buffer, or everywhere when ``base == 0`` (the
    stream's implicit zeros before the first sample are the buffer's too).
    """

    def __init__(self, p: Params, base: int, acc: I64, gyro: I64) -> None:
        self.p = p
        self.base = base
        self.acc = acc
        self.gyro = gyro
        n = len(acc)
        self.n = n
        idx = np.arange(n, dtype=np.int64)
        hi = idx + 1
        self.ca = np.zeros((n + 1, 3), np.int64)
        np.cumsum(acc, axis=0, out=self.ca[1:])
        ca = self.ca
        s = _win(ca, hi - p.ns, hi)
        self.m = s // p.ns
        self.rsum = _win(ca, hi - p.la, hi - p.gap)
        if p.has_gyro:
            self.bias = self._bias()
            d = np.clip(gyro - self.bias, -C.RATE_CLAMP_DDPS, C.RATE_CLAMP_DDPS)
            self.cg = np.zeros((n + 1, 3), np.int64)
            np.cumsum(gyro, axis=0, out=self.cg[1:])
        else:
            s2 = _win(ca, hi - 2 * p.ns, hi)
            d = 2 * s - s2
            self.bias = np.zeros_like(acc)
            self.cg = np.zeros((n + 1, 3), np.int64)
        sp2 = np.einsum("ij,ij->i", d, d)
        self.sp2 = np.minimum(sp2, p.sp2_max)
        ce = np.zeros(n + 1, np.int64)
        np.cumsum(self.sp2, out=ce[1:])
        self.pre = _win(ce, hi - p.lp, hi - p.gap)

    def _bias(self) -> I64:
        """Gyro bias per sample: mean of the last BIAS_BLOCKS completed blocks."""
        p = self.p
        blk = p.block
        first = -(-self.base // blk) * blk  # first block boundary at or after base
        off = first - self.base
        nfull = max(0, (self.n - off) // blk)
        sums = self.gyro[off : off + nfull * blk].reshape(nfull, blk, 3).sum(axis=1)
        cbs = np.zeros((nfull + 1, 3), np.int64)
        np.cumsum(sums, axis=0, out=cbs[1:])
        absi = self.base + np.arange(self.n, dtype=np.int64)
        c = absi // blk  # blocks completed before each sample (absolute count)
        k = np.clip(c - first // blk, 0, nfull)  # the same, counted inside the buffer
        cnt = np.minimum(c, C.BIAS_BLOCKS)
        lo = np.maximum(k - cnt, 0)
        tot = cbs[k] - cbs[lo]
        den = np.maximum(cnt * blk, 1)[:, None]
        return np.where(cnt[:, None] > 0, tot // den, 0)

    def deviation2(self, pos: int, ref: I64, b0: I64, ln: int) -> I64:
        """Squared posture change (mrad^2) for ``ln`` samples from onset ``pos``."""
        p = self.p
        sl = slice(pos, pos + ln)
        dt = self.m[sl] - ref
        d2 = np.einsum("ij,ij->i", dt, dt)
        if p.has_gyro:
            k = np.arange(1, ln + 1, dtype=np.int64)[:, None]
            th = self.cg[pos + 1 : pos + ln + 1] - self.cg[pos] - k * b0
            th = np.clip(th, -p.th_max, p.th_max)
            mr = (th * p.kq) >> 16
            d2 = np.maximum(d2, np.einsum("ij,ij->i", mr, mr))
        return np.minimum(d2, C.DEV2_CLAMP)


def _first_rows(mask: NDArray[np.bool_]) -> I64:
    """Per row, index of the first True, or -1."""
    k = np.argmax(mask, axis=1)
    return np.where(mask[np.arange(len(mask)), k], k, -1).astype(np.int64)


def _first(mask: NDArray[np.bool_]) -> int:
    """Index of the first True, or -1."""
    if mask.size == 0:
        return -1
    k = int(np.argmax(mask))
    return k if bool(mask[k]) else -1


# Outcome of one onset: (end index, hit or None); None when the data runs out.
Outcome = tuple[int, SpasmHit | None] | None

_BATCH = 4096  # candidates per vectorised rise evaluation (bounds memory)


class TwinDetector:
    """Chunked, vectorised equivalent of ``Detector`` + ``EpochFeatures``.

    ``feed`` takes int samples (mg, ddps) in order and returns the spasms and
    epochs completed so far; ``final=True`` on the last chunk.
    """

    def __init__(self, rate_hz: float, has_gyro: bool = True) -> None:
        self.p = Params(rate_hz, has_gyro)
        p = self.p
        # History any feature at a valid position may look back over.
        self.history = (C.BIAS_BLOCKS + 1) * p.block + max(p.la, p.lp) + 2 * p.ns + 2
        self._tail_acc = np.zeros((0, 3), np.int64)
        self._tail_gyro = np.zeros((0, 3), np.int64)
        self._base = 0
        self._next_i = 0
        self._next_epoch = 0

    def feed(self, acc: I64, gyro: I64, final: bool = False) -> tuple[list[SpasmHit], list[EpochRow]]:
        buf_a = np.concatenate([self._tail_acc, acc])
        buf_g = np.concatenate([self._tail_gyro, gyro])
        f = Features(self.p, self._base, buf_a, buf_g)
        hits = self._spasms(f, final)
        epochs = self._epochs(f)
        end = self._base + f.n
        keep = max(0, min(self._next_i, self._next_epoch * self.p.epoch, end) - self.history)
        cut = keep - self._base
        if cut > 0:
            self._tail_acc = buf_a[cut:]
            self._tail_gyro = buf_g[cut:]
            self._base = keep
        else:
            self._tail_acc = buf_a
            self._tail_gyro = buf_g
        return hits, epochs

    # --- spasms ---------------------------------------------------------------
    def _spasms(self, f: Features, final: bool) -> list[SpasmHit]:
        p = self.p
        base = f.base
        valid = base + self.history if base > 0 else 0
        lo = max(self._next_i, valid, p.warmup, 1) - base
        sp = f.sp2
        edge = np.flatnonzero((sp[lo:] > p.on2) & (sp[lo - 1 : -1] <= p.on2)) + lo
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
        p = self.p
        r = p.rise_n + 1
        full = edge[edge + r <= f.n]
        out: list[Outcome] = []
        for s in range(0, len(full), _BATCH):
            out.extend(self._rise_rows(f, full[s : s + _BATCH]))
        out.extend(self._rise_one(f, int(pos)) for pos in edge[len(full) :])
        return out

    def _rise_rows(self, f: Features, pos: I64) -> list[Outcome]:
        p = self.p
        r = p.rise_n + 1
        k = np.arange(r, dtype=np.int64)
        idx = pos[:, None] + k
        sp = f.sp2[idx]
        pk = np.maximum.accumulate(sp, axis=1)
        ks = _first_rows(sp[:, 1:] * 100 <= pk[:, 1:] * p.settle2) + 1
        ref = f.rsum[pos] // p.nr
        dt = f.m[idx] - ref[:, None, :]
        d2 = np.einsum("ijk,ijk->ij", dt, dt)
        if p.has_gyro:
            th = f.cg[idx + 1] - f.cg[pos][:, None, :] - (k + 1)[None, :, None] * f.bias[pos][:, None, :]
            mr = (np.clip(th, -p.th_max, p.th_max) * p.kq) >> 16
            d2 = np.maximum(d2, np.einsum("ijk,ijk->ij", mr, mr))
        dpk = np.maximum.accumulate(np.minimum(d2, C.DEV2_CLAMP), axis=1)
        rows = np.arange(len(pos))
        ksafe = np.maximum(ks, 0)
        pk2 = pk[rows, ksafe]
        dmax = dpk[rows, ksafe]
        pre = f.pre[pos] // p.np
        passed = (ks > 0) & (dmax >= p.dev_min2) & (pre * 100 <= pk2 * p.pre2)
        res: list[Outcome] = []
        for j in range(len(pos)):
            at = int(pos[j])
            if ks[j] <= 0:
                res.append((f.base + at + p.rise_n, None))
            elif not passed[j]:
                res.append((f.base + at + int(ks[j]), None))
            else:
                res.append(self._hold(f, at, int(ks[j]), int(pk2[j]), int(dmax[j])))
        return res

    def _rise_one(self, f: Features, pos: int) -> Outcome:
        """RISE for a candidate near the end of the buffer (window may be short)."""
        p = self.p
        sp = f.sp2[pos : pos + p.rise_n + 1]
        pk = np.maximum.accumulate(sp)
        ks = _first(sp[1:] * 100 <= pk[1:] * p.settle2)
        if ks < 0:
            return (f.base + pos + p.rise_n, None) if len(sp) == p.rise_n + 1 else None
        ks += 1
        d2 = f.deviation2(pos, f.rsum[pos] // p.nr, f.bias[pos], ks + 1)
        pk2 = int(pk[ks])
        dmax = int(d2.max())
        if dmax < p.dev_min2 or int(f.pre[pos]) // p.np * 100 > pk2 * p.pre2:
            return (f.base + pos + ks, None)
        return self._hold(f, pos, ks, pk2, dmax)

    def _hold(self, f: Features, pos: int, h: int, pk2: int, dpk0: int) -> Outcome:
        """HOLD from offset ``h`` (the settle sample), then RETURN."""
        p = self.p
        ln = min(f.n - pos, h + 1 + p.hold_max_n + p.ret_max_n + 1)
        d2 = f.deviation2(pos, f.rsum[pos] // p.nr, f.bias[pos], ln)
        seg = d2[h + 1 : h + 1 + p.hold_max_n]
        run = np.maximum(np.maximum.accumulate(seg), dpk0) if seg.size else seg
        k = _first(seg * 100 < run * p.ret_start2)
        if k < 0:
            return (f.base + pos + h + p.hold_max_n, None) if seg.size == p.hold_max_n else None
        r = h + 1 + k
        hold_n = r - h
        if hold_n < p.hold_min_n:
            return (f.base + pos + r, None)
        dpk = int(run[k])
        ret = d2[r : r + p.ret_max_n + 1]
        a = _first(ret * 100 < dpk * p.ret_end2)
        if a < 0:
            return (f.base + pos + r + p.ret_max_n, None) if ret.size == p.ret_max_n + 1 else None
        end = r + a
        return (f.base + pos + end, self._hit(f.base + pos, end, pk2, dpk, hold_n))

    def _hit(self, onset: int, dur: int, pk2: int, dpk: int, hold_n: int) -> SpasmHit:
        p = self.p
        rate = isqrt(pk2)
        rate = rate * 1745 // 1000 if p.has_gyro else rate * p.rate_int // (p.ns * p.ns)
        return SpasmHit(onset, dur, rate, isqrt(dpk), confidence(dpk, p.dev_min2, hold_n, p.hold_min_n), hold_n)

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
        act = (f.sp2[sl] > p.act2).reshape(ne, e_len).sum(axis=1)
        nacc = self._noise(f.acc, start, ne)
        ngyr = self._noise(f.gyro, start, ne)
        va, m0a, sma = self._block_var(f.acc[sl], ne)
        vg, _, _ = self._block_var(f.gyro[sl], ne)
        nb = p.nblocks
        rows = []
        for j in range(ne):
            g = (m0a[j] + sma[j] // nb).tolist()
            rows.append(
                EpochRow(
                    index=first + j,
                    activity=int(act[j]),
                    breath_acc=_ratio(int(va[j]), int(nacc[j]), p),
                    breath_gyro=_ratio(int(vg[j]), int(ngyr[j]), p) if p.has_gyro else 0,
                    gx_mg=g[0],
                    gy_mg=g[1],
                    gz_mg=g[2],
                )
            )
        self._next_epoch = last
        return rows

    def _noise(self, x: I64, start: int, ne: int) -> I64:
        """Per epoch, sum of clamped squared sample-to-sample differences."""
        e_len = self.p.epoch
        lo = max(start - 1, 0)
        seg = x[lo : start + ne * e_len]
        d = np.clip(np.diff(seg, axis=0), -C.NOISE_DIFF_CLAMP, C.NOISE_DIFF_CLAMP)
        sq = np.einsum("ij,ij->i", d, d)
        if start == 0:  # the stream's first sample has no predecessor
            sq = np.concatenate([np.zeros(1, np.int64), sq])
        return sq.reshape(ne, e_len).sum(axis=1)

    def _block_var(self, x: I64, ne: int) -> tuple[I64, I64, I64]:
        """Per epoch: variance of block means (x nb^2 / nb^2), first block mean, sums."""
        p = self.p
        nb, bl = p.nblocks, p.bblock
        blocks = x.reshape(ne, p.epoch, 3)[:, : nb * bl].reshape(ne, nb, bl, 3).sum(axis=2) // bl
        m0 = blocks[:, 0, :]
        dm = blocks - m0[:, None, :]
        sm = dm.sum(axis=1)
        sq = np.einsum("ijk,ijk->i", dm, dm)
        var = (nb * sq - np.einsum("ij,ij->i", sm, sm)) // (nb * nb)
        return var, m0, sm


def _ratio(block_var: int, diff_sq_sum: int, p: Params) -> int:
    from swcore.epoch import ratio_pct

    return int(ratio_pct(block_var, diff_sq_sum, p))
