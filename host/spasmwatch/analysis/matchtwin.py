"""Numpy twin of the band's cluster counter (``swcore.matcher``).

The decimated rate, its energies and the rising edges are computed for a
whole chunk at once; the decisions (which edge is tested when, against which
shapes, and what is a match) are the band's own ``Matcher`` code, called at
the samples where the band would make them: a shape when the detector
confirms a full spasm, an edge when it is found and when it falls due. Only
the data kernels are numpy here. Tests hold it to the band's matches, on
CPython and under ``micropython``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from swcore import consts as C
from swcore.matcher import Matcher

I64 = NDArray[np.int64]


@dataclass(frozen=True)
class MatchHit:
    """A match, in sample indices (as ``Matcher.out_*`` read at ``decided_n``)."""

    onset_n: int
    duration_n: int
    peak_rate: int  # mrad/s
    confidence: int  # 1-49
    decided_n: int


# Kinds of decision at one sample, in the band's order: the detector confirms a
# spasm before the matcher takes the sample, which registers its edge, then
# examines the edge falling due.
_SHAPE, _EDGE, _DUE = 0, 1, 2


class TwinMatcher(Matcher):
    """Feed the bias-corrected rate of consecutive samples with the full spasms
    confirmed among them; returns the matches decided so far."""

    def __init__(self, rate_hz: float) -> None:
        super().__init__(rate_hz)
        self._carry = np.zeros((0, 3), np.int64)  # samples of an unfinished decimated step
        self._taken = 0  # samples fed so far
        self._d = np.zeros((0, 3), np.int64)  # decimated rate from row index _d0 on
        self._d0 = 0
        self._m2a = np.zeros(0, np.int64)  # its clamped energies
        self._prev_hit = False
        self._tp: list[I64] = [np.zeros((0, 3), np.int64)] * C.MATCH_TEMPLATES
        self.alike_at: set[int] = set()  # decided_n of the full spasms fed that were alike (the caller empties it)

    def feed(self, rate: I64, shapes: list[tuple[int, int, int]], final: bool) -> list[MatchHit]:
        """``rate``: (n, 3) ddps of the next samples; ``shapes``: (decided_n, onset_n,
        duration_n) of the full spasms confirmed at those samples, in order."""
        k = self.k
        first_new = self._d0 + len(self._d)
        self._decimate(rate)
        self._taken += len(rate)
        last = self._d0 + len(self._d) - 1  # last complete decimated sample
        edges = self._edges(first_new, last)
        limit = self._taken if not final else 1 << 62
        events: list[tuple[int, int, int, int]] = [(n, _SHAPE, on, dur) for n, on, dur in shapes]
        events += [((e + 1) * k - 1, _EDGE, e, 0) for e in edges]
        cap = len(self._fresh)  # the edges registered before, not yet due, then the new ones
        due = [self._fresh[(self._fh + i) % cap] for i in range(self._fn)] + edges
        events += [((e + self.delay_n + 1) * k - 1, _DUE, e, 0) for e in due]
        events.sort(key=lambda x: (x[0], x[1]))
        out: list[MatchHit] = []
        for n, kind, arg, dur in events:
            if n >= limit or (kind == _DUE and (n + 1) // k - 1 > last):
                break
            if kind == _SHAPE:
                self.j = n // k - 1
                self._ph = n % k
                self.spasm(n - arg, dur)
                if self.alike:
                    self.alike_at.add(n)
            elif kind == _EDGE:
                self._register(arg)
                continue
            else:
                self._examine((n + 1) // k - 1)
            if self.n_out:
                out.extend(self._read(n))
        self._trim()
        return out

    def _decimate(self, rate: I64) -> None:
        """Append the decimated steps completed by ``rate`` (each the floor mean of k
        samples), keeping an unfinished step's samples for the next call. The chunk is
        summed in place (einsum over (steps, k, 3), ~2x faster than strided adds), not
        copied behind the carried samples first."""
        k = self.k
        carry = self._carry
        if len(carry) + len(rate) < k:
            self._carry = np.concatenate([carry, rate])
            return
        lead = (k - len(carry)) % k  # samples that complete the carried step
        body = rate[lead:]
        whole = len(body) // k
        d: I64 = np.einsum("isa->ia", body[: whole * k].reshape(whole, k, 3))
        if len(carry):
            first = carry.sum(axis=0) + rate[:lead].sum(axis=0)
            d = np.concatenate([first[None, :], d])
        d //= k
        self._carry = body[whole * k :].copy()  # not a view pinning the caller's chunk
        self._append(d)

    def _append(self, d: I64) -> None:
        m2 = np.einsum("ij,ij->i", d, d)
        np.minimum(m2, self.m2_max, out=m2)
        self._d = np.concatenate([self._d, d])
        self._m2a = np.concatenate([self._m2a, m2])

    def _edges(self, lo: int, hi: int) -> list[int]:
        """Rising edges at decimated samples lo..hi (as ``Matcher.step`` finds them)."""
        if hi < lo:
            return []
        nd = self.nd
        c = np.zeros(len(self._m2a) + 1, np.int64)
        np.cumsum(self._m2a, out=c[1:])
        j = np.arange(lo, hi + 1)
        r = j - self._d0
        pre = c[r] - c[np.maximum(r - nd, 0)]  # rows before _d0 were trimmed only when nd back is kept
        m2 = self._m2a[r]
        hit = (j >= nd) & (m2 > self.bar2) & ((m2 >> C.MATCH_EDGE_SHIFT) * nd > pre)
        prev = np.concatenate([[self._prev_hit], hit[:-1]])
        self._prev_hit = bool(hit[-1])
        return [int(x) for x in j[hit & ~prev]]

    def _read(self, n: int) -> list[MatchHit]:
        return [
            MatchHit(n - self.out_age[m], self.out_dur[m], self.out_rate[m], self.out_conf[m], n)
            for m in range(self.n_out)
        ]

    def _trim(self) -> None:
        """Keep what a waiting edge, a shape or a pending test may still read."""
        cut = len(self._d) - self.ring_n
        if cut > 0:
            self._d = self._d[cut:]
            self._m2a = self._m2a[cut:]
            self._d0 += cut

    def _rows(self, start: int, n: int) -> I64:
        """Decimated rows start..start+n-1; zeros before the first (the band's empty ring)."""
        return _from(self._d, start - self._d0, n)

    def _m2rows(self, start: int, n: int) -> I64:
        """Their energies, the same way."""
        return _from(self._m2a, start - self._d0, n)

    # --- the kernels -----------------------------------------------------------------
    def _copy(self, t: int, start: int, ln: int) -> int:
        seg = self._rows(start, ln).copy()
        self._tp[t] = seg
        return int(np.einsum("ij,ij->", seg, seg))

    def _dots(self, t: int, i0: int, nl: int, ln: int) -> tuple[list[int], list[int]]:
        seg = self._rows(i0, nl + ln - 1)
        w = sliding_window_view(seg, ln, axis=0)  # (nl, 3, ln)
        tp = self._tp[t][:ln]
        dots = np.einsum("iak,ka->i", w, tp)
        sns = np.einsum("iak,iak->i", w, w)
        return [int(x) for x in dots], [int(x) for x in sns]

    def _pair(self, t: int, u: int) -> tuple[list[int], list[int], list[int]]:
        a = self._tp[t]
        b = self._tp[u]
        dots, sa, sb = [], [], []
        for lag in range(-self.lag_n, self.lag_n + 1):
            x = a[max(lag, 0) :]
            y = b[max(-lag, 0) :]
            n = min(len(x), len(y))
            x = x[:n]
            y = y[:n]
            dots.append(int(np.einsum("ij,ij->", x, y)))
            sa.append(int(np.einsum("ij,ij->", x, x)))
            sb.append(int(np.einsum("ij,ij->", y, y)))
        return dots, sa, sb

    def _energy(self, i: int, ln: int) -> tuple[int, int, int]:
        nd = self.nd
        m2 = self._m2rows(i - nd, ln + 2 * nd)
        return int(m2[nd : nd + ln].max()), int(m2[:nd].sum()), int(m2[nd + ln :].sum())


def _from(a: I64, lo: int, n: int) -> I64:
    """``n`` rows of ``a`` from index ``lo``, zeros for those before index 0 (a view when none is)."""
    if lo >= 0:
        rows: I64 = a[lo : lo + n]
        return rows
    pad = np.zeros((min(-lo, n), *a.shape[1:]), np.int64)
    return np.concatenate([pad, a[: max(0, lo + n)]])
