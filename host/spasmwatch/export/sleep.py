"""Sleep/wake transitions from stored activity epochs, as the live system and replay decide them.

The store keeps the band's ACTIVITY epochs (active or not, worn or not); the onsets of sleep and
wake are derived here by the rules of ``analysis.sleepwake.SleepWake``, so an export says what the
live system and replay would have said. Each band is followed separately; a span of more than
SLEEP_GAP_KEEP_MS unheard between its epochs (band off, restarting) starts its estimate afresh, as
taking the band off does; across a shorter one it goes on, and a window with more than
SLEEP_WINDOW_UNHEARD_MAX_MS unheard inside it decides nothing.

SleepWake takes one epoch at a time (the daemon's live estimate): a year of epochs through it cost
6 µs each, most of a year-long report (docs/web.md). Here its windows' counts are taken with numpy
for all the epochs at once, and its states are followed from one decision to the next: Python runs
a few times a day, not every 10 s. tests/export/test_report_vectorised.py holds the two to the same
onsets on random stores.

A band's epochs come in parts (the store's chunks, a week's each): ``BandSleep`` carries the state
from one to the next and keeps the last sleep window's epochs of a part, all that a decision in the
next one looks back to (its windows' counts, a wake's onset and the history it starts).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from numpy.typing import NDArray

from spasmwatch.analysis import consts as A
from spasmwatch.analysis.sleepwake import ASLEEP, AWAKE, UNHEARD_MAX_S, UNKNOWN, SleepWake, sleep_onset, wake_onset
from spasmwatch.export.rows import BandEpochs, TransitionRow, by_device
from swcore import consts as C

GAP_KEEP_S = A.SLEEP_GAP_KEEP_MS / 1000.0
# The latest an onset is decided (s, from the onset to the start of the epoch that decides it; the
# store's epochs are EPOCH_MS long): a window holds its epochs and at most
# SLEEP_WINDOW_UNHEARD_MAX_MS unheard, and an onset is at or after its window's first epoch, so a
# sleep's deciding epoch starts at most a sleep window less one epoch, and 10 min unheard, after it
# (19 min 50 s; a wake's 11 min 50 s). Epochs read this long after a range's end hold every onset
# in it, and one epoch less loses a sleep whose window holds 10 min unheard (tests/export/test_export.py):
# they are read this long after a range.
DECIDED_WITHIN_S = (A.SLEEP_WINDOW_MS - C.EPOCH_MS + A.SLEEP_WINDOW_UNHEARD_MAX_MS) / 1000.0
# Before a range no fixed length is enough: the estimate begun at a lead's start agrees with one
# begun earlier only once a decision clears what its fresh start did not know: begun in a sleep
# with a twitch every few minutes it is asleep 'owed' (SleepWake.owed) and claims a sleep at the
# next quiet 10 min that the one begun earlier, asleep already, does not (begun on an awake baby
# lying still 2 min, it claims the wake after); a band rebooting every few minutes decides nothing
# for as long as it does. On random nights with such stretches (2026-12-06, 28,940 cuts of 150
# nights) a lead of 40 min told an onset too many at 473 cuts, 5.25 h at none, and an 8 h twitching
# sleep after 2 h of reboots, cut in its middle, defeats 5.25 h (tests/export/test_export.py).
# So the epochs are read from the band's last fresh start at or before the range's start (the
# estimate's state is cleared there, whatever came before: StoreSource._sleep_ends), found by one
# indexed query; at most LEAD_S before it: a band worn without a break for longer is read from
# LEAD_S before the range, and an estimate undecided all that day, or 'owed' across it, may then
# tell an onset the whole store's would not. No sleep, twitching or not, lasts a day; a day read
# back costs a short export 13-20 ms (the query's scan 6-10 ms), a long one nothing measured
# (docs/exports.md).
LEAD_S = 24 * 3600.0

def transitions(bands: Iterable[BandEpochs], since: float, until: float) -> list[TransitionRow]:
    """The wake and sleep onsets in [since, until) of each band's epochs (a band's consecutive parts
    one band), in onset order."""
    return in_order((tr for parts in by_device(bands, lambda b: b.device) for tr in BandSleep().read(parts)), since, until)


def in_order(found: Iterable[TransitionRow], since: float, until: float) -> list[TransitionRow]:
    """The onsets of ``found`` in [since, until), in onset order."""
    return sorted((tr for tr in found if since <= tr.t < until), key=lambda tr: (tr.t, tr.device, tr.kind))


@dataclass(frozen=True)
class _Decisions:
    """Where one band's epochs decide something, each an array of epoch indices, ascending: the
    history's last ``wake_n`` epochs active enough for a wake (``wake``) or quiet (``quiet``), its
    last ``sleep_n`` quiet enough for sleep (``sleep``), each window with at most
    SLEEP_WINDOW_UNHEARD_MAX_MS unheard inside it; and where the estimate starts afresh
    (``fresh``: after a gap longer than SLEEP_GAP_KEEP_MS, a change of epoch length, or an epoch not
    worn)."""

    wake: NDArray[np.intp]
    quiet: NDArray[np.intp]
    sleep: NDArray[np.intp]
    fresh: NDArray[np.intp]
    start: NDArray[np.int32]  # each epoch's latest fresh start, at or before it


def _decisions(b: BandEpochs) -> _Decisions:
    """Its arrays of epochs' indices and counts as int32 (a year's 3 million epochs each 12 MB, not
    25: as int64 they took the transitions of a year-long report to 303 MB, docs/web.md)."""
    n = len(b)
    fresh = np.ones(n, np.bool_)  # the first, of a later part the tail's: BandSleep.feed says why
    # The unheard span as SleepWake.update computes it (the same float operations: the same verdict)
    fresh[1:] = (b.t[1:] - (b.t[:-1] + b.epoch_s[:-1]) > GAP_KEEP_S) | (b.epoch_s[1:] != b.epoch_s[:-1]) | ~b.worn[:-1]
    held = np.arange(n, dtype=np.int32)
    start = np.maximum.accumulate(np.where(fresh, held, np.int32(0)))
    held -= start - 1  # the history's length after the epoch (before its window's cap)
    counts = np.zeros(n + 1, np.int32)
    np.cumsum(b.active, dtype=np.int32, out=counts[1:])
    moves = np.zeros(n + 1, np.int32)  # a wake's window holds a moving epoch (SleepWake._moved)
    np.cumsum(b.moving, dtype=np.int32, out=moves[1:])
    wake = quiet = sleep = np.zeros(n, np.bool_)
    for epoch_s in np.unique(b.epoch_s[fresh]):  # the band's lengths: a change of length starts afresh
        wake_n, sleep_n = _lengths(float(epoch_s))
        mine = b.worn & (b.epoch_s == epoch_s)
        woke = _in_last(counts, wake_n)
        whole_wake = mine & (held >= wake_n) & _heard(b.t, float(epoch_s), wake_n)
        wake = wake | (whole_wake & (woke * 100 >= A.WAKE_ACTIVE_PCT * wake_n) & (_in_last(moves, wake_n) > 0))
        quiet = quiet | (whole_wake & (woke * 100 <= A.SLEEP_ACTIVE_PCT * wake_n))
        del woke, whole_wake  # gone before the sleep window's counts are made
        quiet_enough = _in_last(counts, sleep_n) * 100 <= A.SLEEP_ACTIVE_PCT * sleep_n
        sleep = sleep | (mine & (held >= sleep_n) & quiet_enough & _heard(b.t, float(epoch_s), sleep_n))
    return _Decisions(np.flatnonzero(wake), np.flatnonzero(quiet), np.flatnonzero(sleep), np.flatnonzero(fresh), start)


def _heard(t: NDArray[np.float64], epoch_s: float, n: int) -> NDArray[np.bool_]:
    """Of each epoch, whether the ``n`` epochs of ``epoch_s`` to it (``t`` their starts) have at most
    SLEEP_WINDOW_UNHEARD_MAX_MS unheard inside them (SleepWake._heard: the same float operations,
    in that order, in place: one float array at a time, a year's 24 MB); False for one with fewer
    before it, whose window is never whole."""
    out = np.zeros(len(t), np.bool_)
    if n <= len(t):
        unheard = t[n - 1 :] + epoch_s
        unheard -= t[: len(t) - n + 1]
        unheard -= n * epoch_s
        np.less_equal(unheard, UNHEARD_MAX_S, out=out[n - 1 :])
    return out


def _in_last(counts: NDArray[np.int32], n: int) -> NDArray[np.int32]:
    """Of each epoch, its active ones among the ``n`` to it (``counts``: the running count from 0);
    0 for one with fewer before it, whose window is never whole."""
    out = np.zeros(len(counts) - 1, np.int32)
    if n < len(counts):
        np.subtract(counts[n:], counts[: len(counts) - n], out=out[n - 1 :])
    return out


def _next(at: NDArray[np.intp], i: int, none: int) -> int:
    """The first of ``at`` at or after ``i`` (``none``: there is none)."""
    k = int(np.searchsorted(at, i))
    return int(at[k]) if k < len(at) else none


@cache
def _lengths(epoch_s: float) -> tuple[int, int]:
    """SleepWake's wake and sleep windows, in epochs of ``epoch_s``."""
    sw = SleepWake(epoch_s)
    return sw.wake_n, sw.sleep_n


@dataclass
class BandSleep:
    """SleepWake.update over one band's epochs (in time order), fed a part at a time, from decision
    to decision. Indices count the band's epochs from its first: ``i`` the next to decide from,
    ``held`` where the history begins since a wake cut it (the fresh starts are in the decisions),
    ``base`` the index of ``tail``'s first epoch (the last part's last sleep window, or all of it),
    ``owed`` asleep from UNKNOWN with the sleep onset not yet claimed (SleepWake.owed)."""

    state: str = UNKNOWN
    i: int = 0
    held: int = 0
    base: int = 0
    owed: bool = False
    tail: BandEpochs | None = field(default=None, repr=False)

    def read(self, parts: Iterable[BandEpochs]) -> Iterator[TransitionRow]:
        for p in parts:
            if len(p):
                yield from self.feed(p)

    def feed(self, part: BandEpochs) -> list[TransitionRow]:
        """The onsets ``part`` decides. A history begun before the tail starts at the tail's first
        epoch: the tail holds a sleep window, so no decision in ``part`` tells the two apart."""
        b = part if self.tail is None else BandEpochs.cat([self.tail, part])
        found = list(self._run(b))
        keep = max(0, len(b) - _lengths(float(b.epoch_s[-1]))[1])  # the latest stretch's window
        self.tail, self.base = BandEpochs.cat([b[keep:]]), self.base + keep  # a copy: b goes
        return found

    def _run(self, b: BandEpochs) -> Iterator[TransitionRow]:
        n = len(b)
        dec = _decisions(b)
        state, i, held, owed = self.state, self.i - self.base, max(0, self.held - self.base), self.owed
        while i < n:
            wake_n, sleep_n = _lengths(float(b.epoch_s[held]))  # this stretch's (UNKNOWN: none needed)
            woke = quiet = asleep = n
            if state == UNKNOWN:
                woke, quiet = _next(dec.wake, i, n), _next(dec.quiet, i, n)
            elif state == ASLEEP:
                woke = _next(dec.wake, max(i, held + wake_n - 1), n)
            if state == AWAKE or owed:
                asleep = _next(dec.sleep, max(i, held + sleep_n - 1), n)
            at, fresh = min(woke, quiet, asleep), _next(dec.fresh, i, n)
            if state != UNKNOWN and fresh < n and fresh <= at:
                state, i, held, owed = UNKNOWN, fresh, fresh, False  # off the body or not heard: the history cleared
                continue
            if at == n:
                break  # nothing more in this part: the next one goes on from its first epoch
            owed = False  # a wake or a claimed sleep settles it; from UNKNOWN, quiet sets it below
            if asleep == at:  # never with a wake: a sleep window holds one active epoch, a wake window six
                state = ASLEEP
                yield TransitionRow(b.device, sleep_onset(_window(b, at, sleep_n)), "sleep")
            elif woke == at:
                wake_n, sleep_n = _lengths(float(b.epoch_s[at]))
                onset = wake_onset(_window(b, at, wake_n))
                assert onset is not None  # a window active enough for a wake has its onset
                first = max(held, int(dec.start[at]), at - sleep_n + 1)  # the history's oldest epoch
                # The sleep window counts from the wake on (SleepWake.update): the history from its onset
                held = first + int(np.searchsorted(b.t[first : at + 1], onset))
                if state == ASLEEP:
                    yield TransitionRow(b.device, onset, "wake")
                state = AWAKE
            else:
                # quiet from UNKNOWN: its onset claimed once the quiet holds a sleep window
                state, held, owed = ASLEEP, int(dec.start[at]), True
            i = at + 1
        self.state, self.i, self.held, self.owed = state, self.base + n, self.base + held, owed


def _window(b: BandEpochs, i: int, n: int) -> list[tuple[float, bool]]:
    """The (start, active) of the ``n`` epochs to epoch ``i``: SleepWake's history's last ``n``."""
    return list(zip(b.t[i - n + 1 : i + 1].tolist(), b.active[i - n + 1 : i + 1].tolist(), strict=True))
