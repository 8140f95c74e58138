"""Replay a recording through the band's algorithm, vectorised, causally.

Chunks of samples go through the numpy twin of the band's detector and epoch
features; the confirmed spasms and completed epochs are handed to the
``Analyzer`` in the order the live system would have produced them, and the
records come out as soon as each is decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from spasmwatch.analysis.clusters import Spasm
from spasmwatch.analysis.matchtwin import MatchHit
from spasmwatch.analysis.pipeline import Analyzer, Record
from spasmwatch.analysis.twin import EpochRow, SpasmHit, TwinDetector
from spasmwatch.errors import InputError

F64 = NDArray[np.float64]


class Samples(Protocol):
    """Consecutive samples as a reader gives them (a CSV ``Chunk``, a raw file's ``Block``)."""

    @property
    def t(self) -> F64: ...
    @property
    def acc(self) -> F64: ...
    @property
    def gyro(self) -> F64 | None: ...


@dataclass(frozen=True)
class Block:
    """A run of consecutive samples: times (s), accel (g), gyro (deg/s) or None."""

    t: F64
    acc: F64
    gyro: F64 | None

    @classmethod
    def joined(cls, chunks: Iterable[Samples]) -> Block:
        """One block of all of ``chunks``: a recording read whole."""
        ts, accs, gyros = [], [], []
        for c in chunks:
            ts.append(c.t)
            accs.append(c.acc)
            if c.gyro is not None:
                gyros.append(c.gyro)
        return cls(np.concatenate(ts), np.concatenate(accs), np.concatenate(gyros) if gyros else None)


@dataclass(frozen=True)
class CountBlock:
    """A run of consecutive samples already in the band's ints: times (s) and counts
    (n, 3 or 6): accel mg, then gyro 0.1 deg/s (what ``to_units`` makes of a
    ``Block``'s g and deg/s), fed to the detector as they are."""

    t: F64
    counts: NDArray[np.int16]


class _Times:
    """Sample index -> file time, for a rolling window of recent samples."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.base = 0
        self.t = np.zeros(0)

    def extend(self, t: F64) -> None:
        self.t = np.concatenate([self.t, t])
        cut = len(self.t) - self.keep - len(t)
        if cut > 0:
            self.t = self.t[cut:]
            self.base += cut

    def at(self, i: int) -> float:
        return float(self.t[i - self.base])

    @property
    def end(self) -> float:
        return float(self.t[-1])


def replay(
    blocks: Iterable[Block | CountBlock], rate_hz: float, has_gyro: bool, analyzer: Analyzer | None = None
) -> Iterator[Record]:
    """Records of the replay contract for consecutive blocks of one recording.

    Pass ``analyzer`` to watch its live state (e.g. ``alarms``) while iterating.
    """
    twin = TwinDetector(rate_hz, has_gyro)
    p = twin.p
    an = analyzer if analyzer is not None else Analyzer(p)
    reach = twin.matcher.ring_n * twin.matcher.k if twin.matcher is not None else 0  # a match's onset, back
    times = _Times(keep=4 * (twin.history + p.rise_n + p.hold_max_n + p.ret_max_n + p.epoch) + reach)
    it = iter(blocks)
    block = next(it, None)
    while block is not None:
        fault: InputError | None = None
        try:
            nxt = next(it, None)
        except InputError as exc:  # a bad line further on: first what the samples before it decided
            fault, nxt = exc, None
        times.extend(block.t)
        final = nxt is None and fault is None
        if isinstance(block, CountBlock):
            c = block.counts
            hits, epochs, matches = twin.feed(c[:, :3], c[:, 3:6] if has_gyro else np.zeros((len(c), 3), np.int16), final)
        else:
            hits, epochs, matches = twin.feed_units(block.acc, block.gyro, final)
        yield from _records(an, times, hits, epochs, matches, p.epoch)
        if fault is not None:
            raise fault
        if analyzer is None:  # nobody follows the cluster objects: keep memory flat over weeks
            an.alarms.clear()
            an.closed.clear()
        block = nxt
    if times.t.size:
        yield from an.finish(times.end)


def _records(
    an: Analyzer, times: _Times, hits: list[SpasmHit], epochs: list[EpochRow], matches: list[MatchHit], e_len: int
) -> Iterator[Record]:
    # Decision sample of each output; at the same sample the band runs the detector,
    # then the cluster counter, then the epoch features.
    todo: list[tuple[int, int, SpasmHit | MatchHit | EpochRow]] = [(h.decided_n, 0, h) for h in hits]
    todo += [(m.decided_n, 1, m) for m in matches]
    todo += [((e.index + 1) * e_len - 1, 2, e) for e in epochs]
    todo.sort(key=lambda x: (x[0], x[1]))
    for _, _, item in todo:
        if isinstance(item, EpochRow):
            yield from an.epoch(times.at(item.index * e_len), item.activity, item.breath_acc, item.breath_gyro)
        else:
            yield from an.spasm(_spasm(item, times))


def _spasm(h: SpasmHit | MatchHit, times: _Times) -> Spasm:
    """A detector hit or a cluster-counter match (no posture change) on the file's clock."""
    t = times.at(h.onset_n)
    end = times.at(h.onset_n + h.duration_n)
    if isinstance(h, MatchHit):
        return Spasm.from_band(t, end - t, times.at(h.decided_n), h.peak_rate, 0, h.confidence, matched=True)
    return Spasm.from_band(t, end - t, times.at(h.decided_n), h.peak_rate, h.peak_angle, h.confidence, alike=h.alike)
