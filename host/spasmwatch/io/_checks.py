"""Vectorised checks of parsed samples: finite, plausible, constant rate.

Each block is checked with a handful of numpy passes; only when one fails is
the first bad row located and described, so a good file costs no per-row
Python.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from spasmwatch.errors import InputError
from spasmwatch.io._format import ACC, GYRO, TIME, Block, Column
from spasmwatch.io.limits import MAX_ACC_G, MAX_GAP_RATIO, MAX_GYRO_DPS, MAX_RATE_CHANGE, MAX_RUN_RATE_CHANGE, MIN_STEP_RATIO, RATE_CHECK_ROWS, RATE_SPAN_ROWS

_LIMITS = {**{a: (MAX_ACC_G, "g") for a in ACC}, **{g: (MAX_GYRO_DPS, "deg/s") for g in GYRO}}
# A found fault: (row in block, rank among faults on the same row, describe).
_Fault = tuple[int, int, Callable[[], InputError]]


def _first_false(ok: NDArray[np.bool_]) -> int | None:
    return None if bool(ok.all()) else int(np.argmin(ok))


class Checker:
    """Checks blocks in file order; remembers the last time across blocks."""

    def __init__(self, path: str, fields: tuple[str, ...], interval_s: float, slack_s: float = 0.0, whole_rate: bool = True) -> None:
        """``whole_rate``: ``interval_s`` is the file's rate (from a span), not a median step, and
        each block's mean step must keep to it (a median step of rounded times is not the rate)."""
        self.path = path
        self.fields = fields
        self.interval_s = interval_s
        self.whole_rate = whole_rate
        # Steps may be off the interval by this much more: times rounded coarser than
        # the samples (at 104 Hz written to 10 ms, steps of 0, 10 and 20 ms).
        self.slack_s = slack_s
        self.min_step_s = max(MIN_STEP_RATIO * interval_s - slack_s, 0.0)
        self.max_step_s = MAX_GAP_RATIO * interval_s + slack_s
        self._prev_t: float | None = None
        # The rate windows' view of earlier blocks (``_remember``): their last times, those times'
        # lines, and how many samples the file had before this block.
        self._times: Column = np.empty(0)
        self._lines: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._seen = 0

    def check(self, block: Block) -> tuple[int, InputError | None]:
        """Return (rows valid before the first fault, that fault or None)."""
        faults = [f for f in self._value_faults(block) if f is not None]
        interval = self._interval_fault(block) or self._rate_fault(block)
        if interval is not None:
            faults.append(interval)
        if not faults:
            self._prev_t = float(block.cols[0][-1]) if len(block) else self._prev_t
            if self.whole_rate:
                self._remember(block)
            return len(block), None
        row, _, describe = min(faults, key=lambda f: (f[0], f[1]))
        return row, describe()

    def _value_faults(self, block: Block) -> list[_Fault | None]:
        return [self._value_fault(block, rank, name, col) for rank, (name, col) in enumerate(zip(self.fields, block.cols))]

    def _value_fault(self, block: Block, rank: int, name: str, col: Column) -> _Fault | None:
        if name == TIME:
            ok = np.isfinite(col)
        else:
            # NaN compares False, so this one pass also rejects nan and inf.
            ok = np.abs(col) <= _LIMITS[name][0]
        row = _first_false(ok)
        if row is None:
            return None
        value = float(col[row])
        return row, rank, lambda: InputError(self.path, self._value_message(name, value), block.first_line + row, name)

    @staticmethod
    def _value_message(name: str, value: float) -> str:
        if not np.isfinite(value):
            return f"{value!r} is not a finite number"
        limit, unit = _LIMITS[name]
        return f"{value!r} {unit} is beyond the +-{limit:g} {unit} an IMU can report (corrupt data or wrong unit?)"

    def _interval_fault(self, block: Block) -> _Fault | None:
        t = block.cols[0]
        with np.errstate(over="ignore", invalid="ignore"):  # -1e308 -> 1e308 is a gap of inf: named below
            if self._prev_t is None:
                dt, skip = np.diff(t), 1  # the file's first sample has no interval
            else:
                dt, skip = np.diff(t, prepend=self._prev_t), 0
        # min_step_s >= 0: a step is never negative, and zero only where rounding allows it.
        ok = (dt >= self.min_step_s) & (dt <= self.max_step_s)
        bad = _first_false(ok)
        if bad is None:
            return None
        row = bad + skip
        if row > 0:
            prev = float(t[row - 1])
        else:
            assert self._prev_t is not None  # row 0 is only compared with an earlier block
            prev = self._prev_t
        now = float(t[row])
        # Rank after every value check: a nan time explains its own interval.
        return row, len(self.fields), lambda: InputError(self.path, self._step_message(prev, now), block.first_line + row, TIME)

    def _rate_fault(self, block: Block) -> _Fault | None:
        """Steps each within bounds can still add up to another rate: the mean step of each run of
        RATE_CHECK_ROWS steps (MAX_RUN_RATE_CHANGE) and of each span of RATE_SPAN_ROWS steps
        (MAX_RATE_CHANGE), counted from the file's first sample, and of the last run before the
        block's end (the file's last steps may be in it; its last span is ``finish``'s). They reach
        back into earlier blocks: a parse block is 1 MiB of lines, wherever that falls, and its
        ends decide nothing."""
        if not self.whole_rate:
            return None
        t = np.concatenate([self._times, block.cols[0]])
        before = len(self._times)  # t[before] is this block's row 0, sample self._seen of the file
        for steps, change in ((RATE_CHECK_ROWS, MAX_RUN_RATE_CHANGE), (RATE_SPAN_ROWS, MAX_RATE_CHANGE)):
            starts, ends = self._windows(len(t), before, steps)
            if (k := self._first_off(t, starts, ends, change)) is not None:
                lines = np.concatenate([self._lines, block.first_line + np.arange(len(block))])
                return self._rate_change(max(int(starts[k]) - before, 0), lines, int(starts[k]), int(ends[k]), t)
        return None

    def finish(self) -> InputError | None:
        """At the file's end: its last span (all of a shorter file, of at least RATE_CHECK_ROWS
        samples) held to MAX_RATE_CHANGE, as each span before it; None if it keeps to it."""
        t, end = self._times, len(self._times) - 1
        starts, ends = np.array([max(end - RATE_SPAN_ROWS, 0)]), np.array([end])
        if not self.whole_rate or end < RATE_CHECK_ROWS - 1 or self._first_off(t, starts, ends, MAX_RATE_CHANGE) is None:
            return None
        return self._rate_change(0, self._lines, int(starts[0]), end, t)[2]()

    def _windows(self, n: int, before: int, steps: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(starts, ends) in the n times of ``_rate_fault``: each window of ``steps`` steps that ends
        in the block at a multiple of them from the file's first sample; for runs also the one ending
        at the block's last row (shorter near the file's start, of at least RATE_CHECK_ROWS samples)."""
        ends = np.arange(before + (-self._seen) % steps, n, steps)  # file samples that are multiples of steps
        if steps == RATE_CHECK_ROWS:
            ends = np.unique(np.append(ends, n - 1))
        starts = np.maximum(ends - steps, 0)
        keep = ends - starts >= RATE_CHECK_ROWS - 1
        return starts[keep], ends[keep]

    def _first_off(self, t: Column, starts: NDArray[np.int64], ends: NDArray[np.int64], change: float) -> int | None:
        """The first window whose mean step is more than ``change`` off the interval."""
        steps_s = (t[ends] - t[starts]) / (ends - starts)
        # Times rounded coarser than the samples move each end of a window by up to the slack.
        allowed = change + 2.0 * self.slack_s / ((ends - starts) * self.interval_s)
        return _first_false(np.abs(steps_s / self.interval_s - 1.0) <= allowed)

    def _rate_change(self, row: int, lines: NDArray[np.int64], start: int, end: int, t: Column) -> _Fault:
        """The fault of the window of times t[start..end] (file lines ``lines[start]``..), at ``row`` of the block."""
        first, last, interval_s = int(lines[start]), int(lines[end]), float(t[end] - t[start]) / (end - start)
        message = (
            f"lines {first}-{last} run at {1.0 / interval_s:.6g} Hz, but the file's first samples give {1.0 / self.interval_s:.6g} Hz; "
            "the sample rate must be constant (split the file where it changes)"
        )
        return row, len(self.fields), lambda: InputError(self.path, message, first, TIME)

    def _remember(self, block: Block) -> None:
        """Keep the times of the last RATE_SPAN_ROWS steps and their lines, which the next block's
        windows and ``finish`` reach back into."""
        self._times = np.concatenate([self._times, block.cols[0]])[-RATE_SPAN_ROWS - 1 :]
        self._lines = np.concatenate([self._lines, block.first_line + np.arange(len(block))])[-RATE_SPAN_ROWS - 1 :]
        self._seen += len(block)

    def _step_message(self, prev: float, now: float) -> str:
        step = now - prev
        nominal = f"{self.interval_s:.6g} s ({1.0 / self.interval_s:.6g} Hz)"
        if step < 0:
            return f"time {now!r} is earlier than {prev!r} on the previous line; times must increase"
        if step == 0 and self.min_step_s > 0:
            return f"time {now!r} repeats the previous line's time; each line must be a new sample"
        if step < self.min_step_s:
            return (
                f"time step of {step:.6g} s from the previous line ({prev!r} -> {now!r}) is under half the "
                f"sample interval {nominal}; the sample rate must be constant"
            )
        return (
            f"gap of {step:.6g} s from the previous line ({prev!r} -> {now!r}); the sample interval is "
            f"{nominal} and must be constant (split the recording at the gap)"
        )
