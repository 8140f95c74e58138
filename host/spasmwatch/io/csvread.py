"""Read replay recordings (CSV): fast, in bounded memory, with precise errors.

The format (the design's replay contract):

- Line 1 is a header naming ``t,ax,ay,az`` and optionally ``gx,gy,gz``
  (seconds, g, deg/s). Columns may come in any order; names are matched
  without case, surrounding spaces or double quotes; a UTF-8 byte-order mark
  is skipped. The gyro columns come as a set or not at all. Other columns
  are read past and ignored, with an ``InputWarning`` and listed in
  ``Recording.ignored_columns``: loggers often add temperature or a
  magnetometer, and refusing such files would help nobody (their names may
  even be in a legacy code page, 'temp (°C)' in cp1252; the file is UTF-8).
- Every later line is one sample: plain numbers (no quotes) separated by
  commas, as many cells as the header. Lines end with \\n, \\r\\n or \\r;
  the last line may lack its line end, and blank lines at the very end are
  ignored. A blank line anywhere else is an error. A bad last line without a
  line end is read past with an ``InputWarning``: a logger whose battery died
  stopped writing it halfway, and the rest of the recording stands.
- Times increase at a constant rate: every step within 0.5-1.5 times the
  nominal interval, and the mean step within 5% of it over each run of 1000
  steps and 1% over each span of 20 000 (a rate that changes partway; see ``limits``). Values are finite and plausible, and
  the acceleration is in g with gravity in it: the first rows' median
  magnitude is about 1 g (m/s^2, as phone apps write it, reads ~9.8).
- The gyro is in deg/s. A gyro in rad/s cannot be refused by its values;
  ``units`` tells it from the posture changes the accelerometer sees, and
  the chunks warn of it (``GyroUnitsWarning``) once it shows.

Every fault raises ``spasmwatch.errors.InputError`` naming the file, the
1-based line (the header is line 1) and the field, e.g.
``rec.csv:1042: field 'ay': not a number: 'abc'``. Faults in the first rows
are raised by ``open_recording``; later ones while iterating, after every
good sample before the faulty line has been yielded (replay is causal).

Speed: pyarrow parses ~1 MiB pieces of the file into float64 columns on two
threads (``_pieces``), numpy checks whole blocks at once on a third, all
ahead of and overlapping the consumer; only after pyarrow refuses a piece is
it re-read line by line to name the line and field (``_rescan``). Memory
holds a few parsed pieces and the chunks of ``chunk_rows`` samples being
filled and consumed, never the whole file.
"""

from __future__ import annotations

import math
import os
import stat
import warnings
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spasmwatch.errors import InputError
from spasmwatch.io._checks import Checker
from spasmwatch.io._format import ACC, Block, Column, Header, InputWarning, read_header
from spasmwatch.io._pieces import parsed_blocks
from spasmwatch.io._prefetch import prefetch
from spasmwatch.io.limits import (
    CHUNK_ROWS,
    MAX_GRAVITY_G,
    MAX_RATE_HZ,
    MIN_GRAVITY_G,
    MIN_RATE_HZ,
    MIN_SAMPLES,
    MS2_GRAVITY_MAX,
    MS2_GRAVITY_MIN,
    PREFETCH_BLOCKS,
    RATE_ROWS,
    ROUNDED_MIN_ROWS,
    ROUNDED_OFF_RATIO,
    ROUNDED_SHARE,
    UNIX_T_FROM_S,
    UNIX_T_UNTIL_S,
)
from spasmwatch.io.rawfile import RawRecording, is_rawfile, open_rawfile
from spasmwatch.io.units import GyroUnitsCheck, GyroUnitsWarning, gyro_units_message

__all__ = ["Chunk", "InputWarning", "Recording", "estimate_rate_hz", "open_recording"]

Matrix = NDArray[np.float64]

# The rate is reported with at most this many decimals (when the time
# resolution allows it): 0.001 Hz is far below any IMU's clock accuracy.
_MAX_RATE_DECIMALS = 3
# Rounding never moves the rate by more than this fraction, however coarse
# the times: a few samples written in 0.1 s steps must not become "3 Hz".
_SNAP_REL = 1e-4


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive samples; row i is sample start_index + i, from line first_line + i."""

    start_index: int
    first_line: int
    t: Column  # (n,) seconds
    acc: Matrix  # (n, 3) g
    gyro: Matrix | None  # (n, 3) deg/s, None when the file has no gyro columns

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class Recording:
    """An opened recording: its header and rate are known, samples come in chunks."""

    path: str
    rate_hz: float
    has_gyro: bool
    t0: float  # time of the first sample, s
    columns: tuple[str, ...]  # header names as found (cleaned), in file order
    ignored_columns: tuple[str, ...]
    chunk_rows: int
    header: Header = field(repr=False)
    # How far rounded times move a step off the interval (s), as seen in the first rows.
    time_slack_s: float = 0.0

    @property
    def unix_time(self) -> bool:
        """Whether t is unix time, as loggers write it (io.limits.UNIX_T_FROM_S): it dates the samples."""
        return UNIX_T_FROM_S <= self.t0 < UNIX_T_UNTIL_S

    def chunks(self) -> Generator[Chunk, None, None]:
        """Every sample, in order, in chunks of chunk_rows (the last, or one before a fault, shorter).

        Each call reads the file afresh. A fault raises InputError after the
        good samples before it have been yielded.
        """
        checker = Checker(self.path, self.header.fields, 1.0 / self.rate_hz, self.time_slack_s)
        units = GyroUnitsCheck(self.rate_hz) if self.has_gyro else None
        # Parse (parallel threads) and check (one thread, in order) ahead of
        # the caller; only filling chunks runs in the caller's thread.
        blocks = prefetch(_checked(parsed_blocks(self.path, self.header), checker, units), PREFETCH_BLOCKS)
        return _assemble(blocks, self.chunk_rows, self.has_gyro)


def open_recording(path: str | os.PathLike[str], chunk_rows: int = CHUNK_ROWS, strict: bool = False) -> Recording | RawRecording:
    """Read the header and the first rows (rate, t0); raise InputError for a bad file.

    A raw recording (``.swraw``, known by its magic bytes) opens as a
    ``rawfile.RawRecording``: same fields used by replay, chunks with gaps filled; ``strict``
    refuses one damaged in its middle (``rawfile.RawReader``) instead of reading past the damage.
    """
    name = os.fspath(path)
    _check_a_file(name)
    if is_rawfile(name):
        return open_rawfile(name, chunk_rows, strict)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    header = _open_header(name)
    # Times far apart (-1e308, 1e308) overflow their differences: the checks
    # below name the fault, numpy need not warn about it.
    with np.errstate(over="ignore", invalid="ignore"):
        t, slack = _checked_head(name, header)
        rate_hz = _plausible_rate(name, t)
    if header.ignored:
        ignored = ", ".join(repr(n) for n in header.ignored)
        warnings.warn(f"{name}:1: ignoring column(s) {ignored}", InputWarning, stacklevel=2)
    return Recording(
        path=name,
        rate_hz=rate_hz,
        has_gyro=header.has_gyro,
        t0=float(t[0]),
        columns=header.names,
        ignored_columns=header.ignored,
        chunk_rows=chunk_rows,
        header=header,
        time_slack_s=slack,
    )


def _check_a_file(path: str) -> None:
    """InputError for a pipe (/dev/stdin fed by zcat, a process substitution) or a device: each read
    of it goes on where the last stopped, and its header read as a sample's tail was blamed."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # the open names it
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode):
        raise InputError(path, "is a pipe or a device, not a file: a recording is read more than once (its first rows "
                         "for the sample rate, then all of it); save it to a file first (zcat rec.csv.gz > rec.csv)")  # fmt: skip


def _open_header(path: str) -> Header:
    try:
        with open(path, "rb") as f:
            return read_header(path, f)
    except OSError as exc:
        raise InputError(path, f"cannot open the file: {exc.strerror or exc}") from exc


def _checked_head(path: str, header: Header) -> tuple[Column, float]:
    """Times of the first rows and their rounding slack, after checking those rows
    against their median interval."""
    blocks, fault = _read_head(path, header)
    t = np.concatenate([b.cols[0] for b in blocks]) if blocks else np.empty(0)
    interval = _median_interval_s(t)
    slack = _rounding_slack_s(t[:RATE_ROWS], interval)
    checker = Checker(path, header.fields, interval, slack, whole_rate=False)  # chunks() checks the rate
    for block in blocks:
        # Check the good rows before raising a parse fault: an earlier fault wins.
        if (found := checker.check(block)[1]) is not None:
            if found.field in ACC:
                # m/s^2 reads a hard jolt past 32 "g": the unit is at fault, not the value.
                _check_gravity(path, blocks)
            raise found
    if fault is not None:
        raise fault
    if len(t) < MIN_SAMPLES:
        what = "no samples after the header" if len(t) == 0 else f"only {len(t)} sample"
        need = f"; at least {MIN_SAMPLES} are needed to know the sample rate"
        raise InputError(path, what + need, line=2 + len(t))
    _check_gravity(path, blocks)
    return t[:RATE_ROWS], slack


def _check_gravity(path: str, blocks: list[Block]) -> None:
    """InputError unless the first rows' median |acceleration| is gravity in g (MIN_GRAVITY_G..MAX_GRAVITY_G)."""
    acc = np.column_stack([np.concatenate([b.cols[k] for b in blocks])[:RATE_ROWS] for k in (1, 2, 3)])
    with np.errstate(over="ignore", invalid="ignore"):  # a corrupt value is named by the checker
        magnitude = np.sqrt(np.sum(acc * acc, axis=1))
    magnitude = magnitude[np.isfinite(magnitude)]
    if not magnitude.size:
        return  # nothing to judge: the checker names the first value
    g = float(np.median(magnitude))
    if MIN_GRAVITY_G <= g <= MAX_GRAVITY_G:
        return
    if MS2_GRAVITY_MIN <= g <= MS2_GRAVITY_MAX:
        hint = "the acceleration looks like m/s^2: divide ax, ay, az by 9.80665 for g"
    elif g < MIN_GRAVITY_G:
        hint = "gravity looks taken out (a 'linear acceleration'); the detector needs the accelerometer's own readings, in g"
    else:
        hint = "the acceleration is not in g"
    raise InputError(
        path,
        f"the median |acceleration| of the first {len(magnitude)} samples reads {g:.3g} g, but a band reads gravity, "
        f"about 1 g, worn or not ({MIN_GRAVITY_G:g}-{MAX_GRAVITY_G:g} g allowed): {hint}",
        line=2,
    )


def _rounding_slack_s(t: Column, interval_s: float) -> float:
    """How far rounding the times may move a step off the interval (s).

    Only for times written coarser than the samples (resolution over a quarter
    of the interval) whose first rows show it (at least ROUNDED_SHARE of the
    steps that far off): 104 Hz written to 10 ms has steps of 0, 10 and 20 ms,
    all samples and none a gap. Times on the sample grid (100 Hz to 10 ms), or
    a few rows, get none: a dropped sample or a repeated time there is still
    named.
    """
    if len(t) <= ROUNDED_MIN_ROWS or not math.isfinite(interval_s):
        return 0.0
    resolution = _time_resolution_s(t)
    if resolution < ROUNDED_OFF_RATIO * interval_s:
        return 0.0
    with np.errstate(invalid="ignore"):
        off = np.abs(np.diff(t) - interval_s) > ROUNDED_OFF_RATIO * interval_s
    return resolution if float(np.mean(off)) >= ROUNDED_SHARE else 0.0


def _plausible_rate(path: str, t: Column) -> float:
    """The rate of the first rows' times, if within MIN_RATE_HZ..MAX_RATE_HZ; else InputError."""
    rate = estimate_rate_hz(t)
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:  # nan fails too
        raise InputError(
            path,
            f"times {float(t[0])!r} .. {float(t[-1])!r} over {len(t) - 1} step(s) give a sample rate of {rate:.6g} Hz, "
            f"outside {MIN_RATE_HZ:g}..{MAX_RATE_HZ:g} Hz (times must be in seconds)",
            line=2,
            field="t",
        )
    return rate


def _read_head(path: str, header: Header) -> tuple[list[Block], InputError | None]:
    """Blocks holding at least RATE_ROWS rows (fewer at the end), and a parse fault met on the way."""
    blocks: list[Block] = []
    # A last line cut short is warned of by the read of the samples (chunks): a file within one
    # parse piece reached it here too, and it was said twice (found by the hostile-input review).
    source = parsed_blocks(path, header, warn_cut=False)
    try:
        for block in source:
            blocks.append(block)
            if sum(len(b) for b in blocks) >= RATE_ROWS:
                break
    except InputError as exc:
        return blocks, exc
    finally:
        source.close()
    return blocks, None


def _median_interval_s(t: Column) -> float:
    steps = np.diff(t)
    good = steps[np.isfinite(steps) & (steps > 0)]
    # No usable step at all: nan makes every step fail, and the checker names the first.
    return float(np.median(good)) if good.size else math.nan


def estimate_rate_hz(t: Column) -> float:
    """Samples per second of gap-free increasing times, rounded as far as their resolution allows.

    The span of many samples gives the rate far more precisely than one
    median step (25.6 Hz logged in whole ms steps 39 or 40 ms). Rounding then
    picks the fewest decimals within the uncertainty the span's rounded ends
    leave (and within 0.01 %), so 25.6 Hz reads as 25.6, not 25.60004.
    """
    intervals = len(t) - 1
    span = float(t[-1] - t[0])
    raw = intervals / span
    q = _time_resolution_s(t)
    low = max(intervals / (span + q), raw * (1 - _SNAP_REL))
    high = min(intervals / (span - q) if span > q else math.inf, raw * (1 + _SNAP_REL))
    for decimals in range(_MAX_RATE_DECIMALS + 1):
        if low <= (rate := round(raw, decimals)) <= high:
            return rate
    return raw


def _time_resolution_s(t: Column) -> float:
    """The coarsest power of ten all times are multiples of (how finely they were written)."""
    for decimals in range(10):
        scaled = t * 10.0**decimals
        if bool(np.all(np.abs(scaled - np.rint(scaled)) < 1e-3)):
            return 10.0**-decimals
    return float(np.spacing(np.max(np.abs(t))))


def _checked(blocks: Generator[Block, None, None], checker: Checker, units: GyroUnitsCheck | None) -> Generator[Block, None, None]:
    """Blocks that pass the checks; at a fault, the good rows before it, then the fault.
    A gyro that looks like rad/s is warned of (GyroUnitsWarning) as soon as it shows."""
    try:
        for block in blocks:
            good, fault = checker.check(block)
            if fault is not None:
                if good:
                    yield block.head(good)
                raise fault
            if units is not None and (evidence := units.feed(block.cols[1:])) is not None and evidence.looks_rad_s:
                warnings.warn(gyro_units_message(checker.path, evidence), GyroUnitsWarning, stacklevel=2)
            yield block
        if (fault := checker.finish()) is not None:
            raise fault
    finally:
        blocks.close()


class _Filler:
    """The arrays of one chunk, filled block by block."""

    def __init__(self, rows: int, has_gyro: bool) -> None:
        self.t: Column = np.empty(rows)
        self.acc: Matrix = np.empty((rows, 3))
        self.gyro: Matrix | None = np.empty((rows, 3)) if has_gyro else None
        self.fill = 0
        self.first_line = 0

    def room(self) -> int:
        return len(self.t) - self.fill

    def add(self, block: Block, start: int, count: int) -> None:
        if self.fill == 0:
            self.first_line = block.first_line + start
        dst, src = slice(self.fill, self.fill + count), slice(start, start + count)
        self.t[dst] = block.cols[0][src]
        for axis in range(3):
            self.acc[dst, axis] = block.cols[1 + axis][src]
            if self.gyro is not None:
                self.gyro[dst, axis] = block.cols[4 + axis][src]
        self.fill += count

    def chunk(self, start_index: int) -> Chunk:
        n = self.fill
        gyro = None if self.gyro is None else self.gyro[:n]
        return Chunk(start_index, self.first_line, self.t[:n], self.acc[:n], gyro)


def _assemble(blocks: Generator[Block, None, None], rows: int, has_gyro: bool) -> Generator[Chunk, None, None]:
    """Re-cut blocks (sized by bytes) into chunks of `rows` samples."""
    filler, start_index = _Filler(rows, has_gyro), 0
    try:
        for block in blocks:
            pos = 0
            while pos < len(block):
                count = min(len(block) - pos, filler.room())
                filler.add(block, pos, count)
                pos += count
                if not filler.room():
                    yield filler.chunk(start_index)
                    filler, start_index = _Filler(rows, has_gyro), start_index + rows
    except InputError:
        if filler.fill:  # the samples before the fault are good; a streaming consumer gets them
            yield filler.chunk(start_index)
        raise
    finally:
        blocks.close()
    if filler.fill:
        yield filler.chunk(start_index)
