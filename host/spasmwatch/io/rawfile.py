"""Raw recordings (``.swraw``): the band's raw sample stream, as the daemon received it.

Byte layout (docs/rawfile.md; all little-endian):

File header, 96 bytes::

    0  8s  magic          b"SWRAW\\r\\n\\x1a" (catches text-mode and truncating transfers)
    8  H   version        2 (1: files without dating records, still read)
   10  H   header_size    96
   12  H   flags          bit 0: has_gyro
   14  H   reserved       0
   16  d   rate_hz        nominal sample rate
   24  d   wall_start_s   unix seconds (UTC) of sample index ``index_origin``
   32  Q   index_origin   the sample index of file time 0
   40  d   accel_lsb_g    g per accel count (0.001: mg, as the protocol's RAW record)
   48  d   gyro_lsb_dps   deg/s per gyro count (0.1, as RAW)
   56  36s device_id      UTF-8, NUL padded
   92  I   header_crc     CRC-32 of bytes 0-91

Then chunks, appended one after the other::

    0  4s  magic          b"SWCK"
    4  Q   first_index    sample index of the chunk's first sample
   12  I   n_samples      >= 1
   16  I   dropped        samples the band reported dropped just before this chunk
   20  I   crc            CRC-32 of bytes 0-19 and the payload
   24  n_samples x channels x h   payload: ax ay az [gx gy gz] per sample, int16

Version 2 puts dating records between chunks (the band's measured rate, docs/rawfile.md)::

    0  4s  magic          b"SWTM"
    4  Q   index          a sample index
   12  d   wall_s         unix seconds (UTC) of that sample, measured by the host
   20  d   rate_hz        the band's measured sample rate there
   28  I   crc            CRC-32 of bytes 0-27

Sample ``i`` lies at file time ``(i - index_origin) / rate_hz`` (the nominal rate: the time base
replay, the detector and truth files count in). Its wall time is ``RawDating.wall_at(i)``:
between dating records linear, beyond them at their measured rate; without any (version 1) the
header's nominal dating ``wall_start_s + (i - index_origin) / rate_hz``. Chunks follow in increasing index order; a jump
in index between chunks is a gap (samples the band dropped or the radio
lost), kept as it is. A crash while writing loses at most the unwritten
samples and leaves at most one partial chunk at the end: the reader skips it
with a warning. A damaged chunk or dating record in the middle (a flipped bit,
a bad sector) is read past from the next good record, its samples a gap, with a
``RawDamageWarning`` naming the file, the record, its byte offset and the samples
lost (``strict``: an ``InputError`` naming them, as before). What no damage explains
(a good chunk's index going back, dating out of order, a bad file header) is an
``InputError`` either way.

Replaying a file with gaps fills each gap by holding the last sample, so the
detector sees a constant time base (a still band: no movement, no spasm).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import os
import struct
import warnings
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from spasmwatch import private
from spasmwatch.errors import InputError
from spasmwatch.io._spancrc import SpanCrc
from spasmwatch.io.limits import CHUNK_ROWS, MAX_LISTED_DAMAGE
from spasmwatch.outfile import whole_file

MAGIC = b"SWRAW\r\n\x1a"
VERSION = 2
VERSIONS = (1, 2)  # read; version 1 has no dating records
HEADER_FMT = "<8sHHHHddQdd36sI"
HEADER_SIZE = struct.calcsize(HEADER_FMT)
CHUNK_MAGIC = b"SWCK"
CHUNK_FMT = "<4sQIII"
CHUNK_HEAD_SIZE = struct.calcsize(CHUNK_FMT)
DATING_MAGIC = b"SWTM"
DATING_FMT = "<4sQddI"
DATING_SIZE = struct.calcsize(DATING_FMT)
FLAG_GYRO = 0x01
ACCEL_LSB_G = 0.001  # mg, as swcore.protocol's RAW record
GYRO_LSB_DPS = 0.1  # 0.1 deg/s (ddps)
DEVICE_ID_BYTES = 36
# Samples per chunk the writer collects before writing (a crash loses at most these).
CHUNK_SAMPLES = 256
# A chunk claiming more samples than this is corrupt (bounds the reader's memory).
MAX_CHUNK_SAMPLES = 1 << 20
# Bytes the reader reads at a time looking for the next good record past damage (bounds its
# memory beside the largest chunk's payload; as the reader's own 1 MiB buffer).
RESYNC_BYTES = 1 << 20
# A payload longer than this has its CRC checked from the registers of ``_spancrc.SpanCrc`` before
# it is read (~4 us whatever its length), not by reading it: a crafted stretch of fake headers each
# claiming 12 MB cost the sum of the claims (2 s per 10 kB of them). Up to it, the payload is read
# and summed as before (5 us for 16 KiB; a writer's chunk of 256 samples is 3 KiB).
DIRECT_CRC_BYTES = 1 << 14

assert HEADER_SIZE == 96 and CHUNK_HEAD_SIZE == 24 and DATING_SIZE == 32

I16 = NDArray[np.int16]
F64 = NDArray[np.float64]


class RawWarning(UserWarning):
    """A raw file's torn last chunk was skipped, or a damaged record read past (``RawDamageWarning``)."""


@dataclass(frozen=True)
class RawHeader:
    device_id: str
    rate_hz: float
    has_gyro: bool
    wall_start_s: float
    index_origin: int = 0
    accel_lsb_g: float = ACCEL_LSB_G
    gyro_lsb_dps: float = GYRO_LSB_DPS

    @property
    def channels(self) -> int:
        return 6 if self.has_gyro else 3

    def wall_at(self, index: int) -> float:
        """Wall time (unix s) of sample ``index`` by this header's dating."""
        return self.wall_start_s + (index - self.index_origin) / self.rate_hz

    def pack(self, version: int = VERSION) -> bytes:
        dev = self.device_id.encode("utf-8")
        if len(dev) > DEVICE_ID_BYTES:
            raise ValueError(f"device id longer than {DEVICE_ID_BYTES} bytes: {self.device_id!r}")
        if not (self.rate_hz > 0 and np.isfinite(self.rate_hz)):
            raise ValueError(f"rate_hz must be a positive number, not {self.rate_hz!r}")
        head = struct.pack(
            HEADER_FMT[:-1],
            MAGIC,
            version,
            HEADER_SIZE,
            FLAG_GYRO if self.has_gyro else 0,
            0,
            self.rate_hz,
            self.wall_start_s,
            self.index_origin,
            self.accel_lsb_g,
            self.gyro_lsb_dps,
            dev,
        )
        return head + struct.pack("<I", zlib.crc32(head))


@dataclass(frozen=True)
class DatingPoint:
    """A dating record: sample ``index`` was taken at ``wall_s`` (unix s), the band sampling at
    ``rate_hz`` there (measured by the host, daemon/rawdating.py)."""

    index: int
    wall_s: float
    rate_hz: float

    def pack(self) -> bytes:
        head = struct.pack(DATING_FMT[:-1], DATING_MAGIC, self.index, self.wall_s, self.rate_hz)
        return head + struct.pack("<I", zlib.crc32(head))


@dataclass(frozen=True)
class RawDating:
    """When each sample of a raw file (or of a boot's parts) was taken: THE place a sample index
    becomes a wall time and back. Linear between the dating points, at the first point's measured
    rate before it and the last's beyond it (continuous: no jump at a point); without points, the
    header's nominal dating (a version 1 file, or the minute before the host's first fit)."""

    header: RawHeader
    points: tuple[DatingPoint, ...] = ()
    _idx: list[int] = field(init=False, repr=False, compare=False)
    _wall: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_idx", [p.index for p in self.points])
        object.__setattr__(self, "_wall", [p.wall_s for p in self.points])

    def wall_at(self, index: float) -> float:
        """Wall time (unix s) of sample ``index`` (fractional: between two samples)."""
        pts = self.points
        if not pts:
            h = self.header
            return h.wall_start_s + (index - h.index_origin) / h.rate_hz
        k = bisect.bisect_right(self._idx, index)
        if k == 0 or k == len(pts):
            p = pts[0] if k == 0 else pts[-1]
            return p.wall_s + (index - p.index) / p.rate_hz
        a, b = pts[k - 1], pts[k]
        return a.wall_s + (index - a.index) * (b.wall_s - a.wall_s) / (b.index - a.index)

    def index_at(self, wall_s: float) -> float:
        """The (fractional) sample index taken at ``wall_s``: ``wall_at``'s inverse."""
        pts = self.points
        if not pts:
            h = self.header
            return h.index_origin + (wall_s - h.wall_start_s) * h.rate_hz
        k = bisect.bisect_right(self._wall, wall_s)
        if k == 0 or k == len(pts):
            p = pts[0] if k == 0 else pts[-1]
            return p.index + (wall_s - p.wall_s) * p.rate_hz
        a, b = pts[k - 1], pts[k]
        return a.index + (wall_s - a.wall_s) * (b.index - a.index) / (b.wall_s - a.wall_s)

    def rate_hz(self) -> float:
        """The band's measured rate over the points (the last point's for one; nominal for none)."""
        pts = self.points
        if len(pts) < 2:
            return pts[0].rate_hz if pts else self.header.rate_hz
        return (pts[-1].index - pts[0].index) / (pts[-1].wall_s - pts[0].wall_s)

    def joined(self, other: RawDating) -> RawDating:
        """This dating followed by a later part's points (``io.rawboot``)."""
        return RawDating(self.header, self.points + tuple(p for p in other.points if not self.points or p.index > self.points[-1].index))


def _unpack_header(path: str, data: bytes) -> RawHeader:
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise InputError(path, "not a spasmwatch raw recording (bad magic at byte 0)")
    if len(data) < HEADER_SIZE:
        raise InputError(path, f"file header truncated: {len(data)} of {HEADER_SIZE} bytes")
    magic, version, size, flags, _, rate, wall, origin, alsb, glsb, dev, crc = struct.unpack(HEADER_FMT, data)
    if version not in VERSIONS:
        raise InputError(path, f"raw format version {version} is not supported (this program reads {VERSIONS[0]} to {VERSIONS[-1]})", field="version")
    if zlib.crc32(data[:-4]) != crc:
        raise InputError(path, "file header CRC mismatch at byte 92: the header is damaged", field="header_crc")
    if size != HEADER_SIZE or not (rate > 0 and np.isfinite(rate)):
        raise InputError(path, f"bad header: header_size {size}, rate_hz {rate}", field="header")
    device = bytes(dev).rstrip(b"\0").decode("utf-8", errors="replace")
    return RawHeader(device, float(rate), bool(flags & FLAG_GYRO), float(wall), int(origin), float(alsb), float(glsb))


def _version(data: bytes) -> int:
    return int(struct.unpack_from("<H", data, 8)[0])


def is_rawfile(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with the raw format's magic."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


# --- writing ------------------------------------------------------------------------


class RawWriter:
    """Append-only writer: ``RawWriter(path, header).append(first_index, samples, dropped)``.

    Samples are int rows (ax, ay, az[, gx, gy, gz]) in the header's units,
    as the protocol's RAW record carries them. Contiguous records are
    collected into chunks of ``chunk_samples``; a gap or ``flush()`` writes
    the pending chunk. An existing file is continued (its header must match)
    after cutting off a torn last chunk (a version 1 file becomes version 2: its header is
    rewritten in place, so its dating records are read). ``date(point)`` adds a dating record.
    """

    def __init__(self, path: str | os.PathLike[str], header: RawHeader, chunk_samples: int = CHUNK_SAMPLES, fsync: bool = False) -> None:
        self.path = os.fspath(path)
        self.header = header
        self.chunk_samples = chunk_samples
        self.fsync = fsync
        self._pending: list[I16] = []
        self._pending_n = 0
        self._first = 0
        self._dropped = 0
        self.points: list[DatingPoint] = []  # the file's dating records, in order
        self.next_index = self._open()

    def _open(self) -> int:
        if os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            return self._resume()
        self._f: BinaryIO = open(self.path, "wb", opener=private.opener)  # the baby's movement: 0600
        try:
            self._f.write(self.header.pack())
            self._f.flush()
        except OSError:  # (ENOSPC) closed here, not by the garbage collector retrying the write
            with contextlib.suppress(OSError):
                self._f.close()
            raise
        return self.header.index_origin

    def _resume(self) -> int:
        reader = RawReader(self.path, strict=True)  # never writes on past damage: as before
        if reader.header != self.header:
            raise InputError(self.path, f"cannot append: file header {reader.header} differs from {self.header}")
        end, next_index = reader.scan_end()
        self.points = list(reader.dating().points)
        self._f = open(self.path, "r+b")
        if reader.version != VERSION:
            self._f.write(self.header.pack())
        self._f.truncate(end)
        self._f.seek(end)
        return next_index if next_index is not None else self.header.index_origin

    def append(self, first_index: int, samples: Sequence[Sequence[int]] | I16, dropped: int = 0) -> None:
        """One RAW record's samples, starting at sample index ``first_index``."""
        block = np.asarray(samples, dtype=np.int16).reshape(-1, self.header.channels)
        if len(block) == 0:
            return
        expected = self._first + self._pending_n if self._pending_n else self.next_index
        if first_index < expected:
            raise ValueError(f"{self.path}: sample index {first_index} goes back (next is {expected})")
        if first_index != expected or dropped:
            self.flush()
            self._first, self._dropped = first_index, dropped
        elif not self._pending_n:
            self._first = first_index
        self._pending.append(block)
        self._pending_n += len(block)
        if self._pending_n >= self.chunk_samples:
            self.flush()

    def dating(self) -> RawDating:
        """The file's dating as written so far (``RawReader.dating`` of the file, without reading it)."""
        return RawDating(self.header, tuple(self.points))

    def date(self, point: DatingPoint) -> None:
        """A dating record after the samples so far (flushed first, so the records stay in file
        order); one whose index or wall time does not come after the last record's is not written
        (a host clock stepped back by more than the points' spacing)."""
        last = self.points[-1] if self.points else None
        if last is not None and (point.index <= last.index or point.wall_s <= last.wall_s):
            return
        self.flush()
        self._f.write(point.pack())
        self._f.flush()
        self.points.append(point)

    def flush(self) -> None:
        """Write the pending samples as one chunk (to the OS; to disk too with fsync=True)."""
        if not self._pending_n:
            return
        samples = np.concatenate(self._pending).astype("<i2")
        for i in range(0, len(samples), self.chunk_samples):
            self._write_chunk(self._first + i, samples[i : i + self.chunk_samples], self._dropped if i == 0 else 0)
        self._f.flush()
        if self.fsync:
            os.fsync(self._f.fileno())
        self.next_index = self._first + self._pending_n
        self._pending, self._pending_n, self._dropped = [], 0, 0

    def _write_chunk(self, first: int, samples: I16, dropped: int) -> None:
        payload = samples.tobytes()
        head = struct.pack(CHUNK_FMT[:-1], CHUNK_MAGIC, first, len(samples), dropped)
        self._f.write(head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + payload)

    def close(self) -> None:
        """Flush and close; the file is closed also when the flush fails (ENOSPC: the error is raised)."""
        if self._f.closed:
            return
        try:
            self.flush()
        finally:
            self._pending, self._pending_n = [], 0
            self._f.close()

    def __enter__(self) -> RawWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class RawChunk:
    """One stored chunk: ``samples`` (n, channels) int16 from index ``first_index``."""

    number: int  # 0-based chunk number in the file
    offset: int  # byte offset of its header
    first_index: int
    dropped: int
    samples: I16


@dataclass(frozen=True)
class RawDamage:
    """A damaged chunk or dating record in the middle of a raw file, read past (``RawReader``)."""

    path: str
    what: str  # "chunk 17", "dating record 3": numbered as the reader counts them
    offset: int  # byte offset of its header
    reason: str  # "CRC mismatch", "bad chunk magic b'SWCx'", ...
    resumed_at: int  # byte offset of the good record read on from (the file's size: none)
    after: int | None  # sample index after the last good chunk before it (None: none before)
    before: int | None  # first sample index of the next good chunk (None: none after it)
    claimed: int | None = None  # samples its own header claims, when that header looked intact

    @property
    def lost(self) -> int | None:
        """Samples lost with it: the span between the good chunks around it (held as a gap), else what
        its intact header claims; None: not known (nothing readable after it and its header damaged)."""
        if self.after is not None and self.before is not None:
            return self.before - self.after
        return self.claimed

    def where(self) -> str:
        return f"{self.what} at byte {self.offset} is damaged ({self.reason})"

    def message(self) -> str:
        lost = self.lost
        if self.before is None:
            cost = f"nothing readable follows it: the file's last {self.resumed_at - self.offset} bytes are lost"
            cost += f" ({lost} samples)" if lost is not None else ""
        elif lost is None:
            cost = "it comes before the first good chunk: the samples in it are lost"
        elif self.after is not None and lost:
            cost = f"samples {self.after}-{self.before - 1} ({lost}) are lost"
        else:
            cost = f"{lost} samples are lost" if lost else "no sample is lost (the records around it date the samples)"
        return f"{self.path}: {self.where()}: read on from byte {self.resumed_at}; {cost}"


class RawDamageWarning(RawWarning):
    """A damaged record in the middle of a raw file was read past; ``damage`` says which, where, and
    how many samples it cost."""

    def __init__(self, damage: RawDamage) -> None:
        super().__init__(damage.message())
        self.damage = damage


@dataclass
class DamageTotals:
    """The damage one read of a raw file read past: its totals exact, its first MAX_LISTED_DAMAGE
    stretches one by one (a crafted file can hold a million: kept whole, they took 605 MB)."""

    path: str
    listed: list[RawDamage] = field(default_factory=list)  # the first ones, in file order
    count: int = 0  # damaged stretches (RawDamage records), listed or not
    damaged_bytes: int = 0  # bytes read past: from each damaged record to where the read went on
    lost: int = 0  # samples lost, where known (held as gaps)
    unknown: bool = False  # some loss not known: damage before the first good chunk, its header damaged
    last: RawDamage | None = None  # the latest (``RawRecording`` tells its gap apart)
    tail: RawDamage | None = None  # the first with nothing readable after it

    @property
    def left_out(self) -> int:
        """Stretches counted but not listed."""
        return self.count - len(self.listed)

    def add(self, group: list[RawDamage]) -> list[RawDamage]:
        """The damaged records between two good chunks (they share the samples between: counted
        once); returns those listed."""
        first = group[0]
        if first.after is not None and first.before is not None:
            self.lost += first.before - first.after
        else:
            self.lost += sum(d.claimed or 0 for d in group)
            self.unknown = self.unknown or any(d.claimed is None for d in group)
        self.count += len(group)
        self.damaged_bytes += sum(d.resumed_at - d.offset for d in group)
        self.last = group[-1]
        if self.tail is None and first.before is None:
            self.tail = first
        kept = group[: max(0, MAX_LISTED_DAMAGE - len(self.listed))]
        self.listed += kept
        return kept


class RawDamageLeftOutWarning(RawDamageWarning):
    """More damaged stretches were read past than are warned of one by one (``MAX_LISTED_DAMAGE``):
    ``totals`` counts them all; ``damage`` is the last."""

    def __init__(self, totals: DamageTotals, last: RawDamage) -> None:
        RawWarning.__init__(
            self,
            f"{totals.path}: {totals.left_out} more damaged stretches read past, not listed one by one (the first "
            f"{len(totals.listed)} are): {totals.count} in all over {totals.damaged_bytes} bytes, {totals.lost} samples lost",
        )
        self.damage, self.totals = last, totals


class _Damaged(Exception):
    """A damaged record met while reading: read past (RawReader) or, strict, the InputError ``error()``."""

    def __init__(self, path: str, what: str, offset: int, reason: str, field: str, detail: str | None = None, *,
                 claimed: int | None = None, dating: bool = False, torn: str = "") -> None:  # fmt: skip
        super().__init__(reason)
        self.path, self.what, self.offset, self.reason, self.field = path, what, offset, reason, field
        self.detail = detail or reason
        self.claimed = claimed
        self.dating = dating
        self.torn = torn  # it runs to the end of the file: torn by a crash when nothing good follows

    def error(self) -> InputError:
        return InputError(self.path, f"{self.what} at byte {self.offset}: {self.detail}", field=self.field)


@dataclass
class _Walk:
    """Where a walk through a raw file's records is."""

    next_index: int  # a good chunk's first index may not be below this
    spans: SpanCrc  # long payloads' CRCs (``_crc_ok``): each byte read once however many claim it
    number: int = 0  # chunks met
    dated: int = 0  # dating records met
    last_end: int | None = None  # index after the last good chunk
    last: DatingPoint | None = None  # the last good dating record
    pending: list[tuple[_Damaged, int]] = field(default_factory=list)  # damage since it, and where read on

    def chunk(self) -> str:
        """The chunk met now, as messages name it (made only for them: a walk's time goes by chunk)."""
        return f"chunk {self.number}"


def _sums_to(head: bytes, payload: bytes) -> bool:
    """A chunk's CRC (its header's last 4 bytes) is that of its header's first 20 and ``payload``."""
    return bool(zlib.crc32(payload, zlib.crc32(head[:20])) == struct.unpack_from("<I", head, 20)[0])


def _finds(buf: bytes, magics: tuple[bytes, ...], limit: int) -> Iterator[int]:
    """Offsets below ``limit`` where one of ``magics`` (one or two) starts in ``buf``, in order: the
    next find of each, the nearer first. Plain ints: per candidate as cheap as one find (a stretch of
    fakes is a candidate every 24 bytes), and no setup (heapq.merge's cost ~3 us a scan, and every
    damaged chunk is one)."""
    one, two = magics[0], magics[1] if len(magics) > 1 else b""
    a, b = buf.find(one), buf.find(two) if two else -1
    while True:
        if 0 <= a < limit and (b < 0 or a < b):
            yield a
            a = buf.find(one, a + 1)
        elif 0 <= b < limit:
            yield b
            b = buf.find(two, b + 1)
        else:
            return


class RawReader:
    """A raw file's records. A damaged chunk or dating record in the middle of the file (a flipped
    bit, a bad sector) is read past from the next good record, with a ``RawDamageWarning`` per
    damaged record and the record in ``damage``; ``strict`` makes it an InputError instead (as
    every damage was before 2026-12-05). A sample index going back, dating records out of order or
    a bad file header are errors either way: a good record holds them, no damage explains them."""

    def __init__(self, path: str | os.PathLike[str], strict: bool = False) -> None:
        self.path = os.fspath(path)
        self.strict = strict
        self.damage_totals = DamageTotals(self.path)  # read past by the last ``chunks()``
        try:
            with open(self.path, "rb") as f:
                data = f.read(HEADER_SIZE)
                self.header = _unpack_header(self.path, data)
                self.version = _version(data)
                self._width = 2 * self.header.channels  # bytes a sample
        except OSError as exc:
            raise InputError(self.path, f"cannot open the file: {exc.strerror or exc}") from exc

    @property
    def damage(self) -> list[RawDamage]:
        """The damaged records the last ``chunks()`` read past, in file order: the first
        MAX_LISTED_DAMAGE (``damage_totals`` counts them all)."""
        return self.damage_totals.listed

    def chunks(self) -> Generator[RawChunk, None, None]:
        """Every whole chunk in order (dating records checked and passed over); a torn last chunk
        or dating record is skipped with a ``RawWarning``, a damaged one read past (class doc)."""
        size = os.path.getsize(self.path)
        self.damage_totals = DamageTotals(self.path)
        with open(self.path, "rb", buffering=1 << 20) as f:
            f.seek(HEADER_SIZE)
            for _, rec in self._scan(f, size, payloads=True):
                if type(rec) is RawChunk:
                    yield rec

    def dating(self) -> RawDating:
        """The file's dating: its dating records (version 2), the chunks between checked as ``gaps``
        checks them (0.09 s for a day's file; a damaged count no longer hides the records under
        it); the header's nominal dating alone without any."""
        return self.outline()[0]

    def outline(self) -> tuple[RawDating, tuple[int, int] | None]:
        """``dating()`` and ``index_span()`` from one walk: pruning asks both of every file, and
        walked it twice (0.19 s for a day's file, 0.09 s a walk)."""
        points: list[DatingPoint] = []
        first = end = None
        for _, rec in self._records(payloads=False):
            if isinstance(rec, DatingPoint):
                points.append(rec)
            elif isinstance(rec, tuple):
                first = rec[0] if first is None else first
                end = rec[0] + rec[1]
        return RawDating(self.header, tuple(points)), None if first is None or end is None else (first, end)

    def _records(self, payloads: bool) -> Generator[tuple[int, RawChunk | DatingPoint | tuple[int, int]], None, None]:
        """(byte offset after it, record) of each whole chunk and dating record in order, each checked
        as ``chunks`` checks it. With ``payloads`` False a chunk is its (first_index, n_samples), its
        samples not made an array, and damage is passed over quietly (``chunks`` names it; strict: the
        scan stops quietly at a damaged chunk)."""
        size = os.path.getsize(self.path)
        with open(self.path, "rb", buffering=1 << 20) as f:
            f.seek(HEADER_SIZE)
            yield from self._scan(f, size, payloads)

    def _scan(self, f: BinaryIO, size: int, payloads: bool) -> Generator[tuple[int, RawChunk | DatingPoint | tuple[int, int]], None, None]:
        with contextlib.closing(SpanCrc(self.path)) as spans:
            w = _Walk(self.header.index_origin, spans)
            yield from self._walk(f, size, payloads, w)
            if payloads:  # read to the end: damage after the last good chunk has nothing after it
                self._settle(w, None)
                totals = self.damage_totals
                if totals.left_out and totals.last is not None:
                    warnings.warn(RawDamageLeftOutWarning(totals, totals.last), stacklevel=4)

    def _walk(self, f: BinaryIO, size: int, payloads: bool, w: _Walk) -> Generator[tuple[int, RawChunk | DatingPoint | tuple[int, int]], None, None]:
        offset = HEADER_SIZE
        while offset < size:
            try:
                end, rec = self._record(f, offset, size, w, payloads)
            except _Damaged as d:
                if self.strict and not payloads and not d.dating:
                    return  # as before: a header walk stops at a damaged chunk, ``chunks`` names it
                if self.strict:
                    raise d.error() from None
                resumed = self._read_past(f, offset, size, d, w, payloads)
                if resumed is None:
                    return
                offset = resumed
                continue
            if rec is None:
                return
            if payloads and type(rec) is RawChunk:
                if w.pending:
                    self._settle(w, rec.first_index)
                w.last_end = rec.first_index + len(rec.samples)
            yield end, rec
            offset = end

    def _record(self, f: BinaryIO, offset: int, size: int, w: _Walk, payloads: bool) -> tuple[int, RawChunk | DatingPoint | tuple[int, int] | None]:
        """The record at ``offset`` (``f`` there) and the offset after it; None: a torn last record
        (warned with ``payloads``). _Damaged for a damaged one, InputError for an impossible one."""
        head = f.read(CHUNK_HEAD_SIZE)
        if head[:4] == DATING_MAGIC and self.version >= 2:
            point = self._point(head + f.read(DATING_SIZE - CHUNK_HEAD_SIZE), w.dated, offset, size, w.last, payloads)
            if point is not None:
                w.last, w.dated = point, w.dated + 1
            return offset + DATING_SIZE, point
        if len(head) < CHUNK_HEAD_SIZE:
            if payloads:
                self._torn(w.chunk(), offset, "header")
            return 0, None
        magic, first, n, dropped, _ = struct.unpack(CHUNK_FMT, head)
        end = offset + CHUNK_HEAD_SIZE + n * self._width
        if magic != CHUNK_MAGIC:
            raise _Damaged(self.path, w.chunk(), offset, f"bad chunk magic {magic!r}", "magic")
        if not 0 < n <= MAX_CHUNK_SAMPLES:
            raise _Damaged(self.path, w.chunk(), offset, f"bad sample count {n}", "n_samples")
        if end > size:  # cut short by a crash; or, with good records after it, a damaged count
            if self.strict:
                if payloads:
                    self._torn(w.chunk(), offset, "payload")
                return 0, None
            raise _Damaged(self.path, w.chunk(), offset, f"sample count {n} runs past the end of the file", "n_samples", torn="payload")
        # Checked as ``chunks`` checks it with ``payloads`` False too (``gaps``, ``index_span``,
        # ``dating``): going by the count alone, those walks stepped over the good chunks under a count
        # grown by damage, and took a chunk whose index or samples are damaged, or a last one cut by a
        # crash, as read. Reading and summing the samples costs them 0.09 s for a day's file, against
        # 0.06 s seeking past them (bench/raw_damage.py; ``chunks``: 0.14 s).
        payload = self._payload(f, head, offset, end, w)
        if payload is None:
            if end == size:  # a last chunk whose bytes never all reached the disk
                if payloads:
                    self._torn(w.chunk(), offset, "CRC")
                return 0, None
            # Its header may be intact (a flipped bit in the samples): then its count is the samples lost
            # when nothing readable follows it.
            intact = first >= w.next_index
            raise _Damaged(self.path, w.chunk(), offset, "CRC mismatch", "crc", "CRC mismatch, the chunk is damaged",
                           claimed=n if intact else None)  # fmt: skip
        if first < w.next_index:
            raise InputError(self.path, f"{w.chunk()} at byte {offset}: sample index {first} goes back (expected >= {w.next_index})", field="first_index")
        w.number, w.next_index = w.number + 1, first + n
        if not payloads:
            return end, (first, n)
        samples = np.frombuffer(payload, dtype="<i2").reshape(n, self.header.channels)
        return end, RawChunk(w.number - 1, offset, first, dropped, samples)

    def _payload(self, f: BinaryIO, head: bytes, at: int, end: int, w: _Walk) -> bytes | None:
        """The payload of the chunk at ``at`` (``f`` after its header); None when its CRC fails. A long
        one is read only once its CRC checks (a fake header's claim is never read whole)."""
        n = end - at - CHUNK_HEAD_SIZE
        if n > DIRECT_CRC_BYTES:
            w.spans.start_at(at)
            return f.read(n) if self._crc_ok(f, head, at, end, w.spans) else None
        payload = f.read(n)
        return payload if _sums_to(head, payload) else None

    def _point(self, body: bytes, number: int, offset: int, size: int, last: DatingPoint | None, warn: bool) -> DatingPoint | None:
        """A dating record checked (None: torn at the end of the file, warned with ``warn``);
        _Damaged when damaged, InputError when impossible."""
        where = f"dating record {number} at byte {offset}"
        torn = len(body) < DATING_SIZE
        _, index, wall, rate, crc = struct.unpack(DATING_FMT, body) if not torn else (b"", 0, 0.0, 0.0, 0)
        if torn or zlib.crc32(body[:-4]) != crc:
            if not torn and offset + DATING_SIZE != size:
                raise _Damaged(self.path, f"dating record {number}", offset, "CRC mismatch", "crc",
                               "CRC mismatch, the dating record is damaged", dating=True)  # fmt: skip
            if warn:  # a last record whose bytes never all reached the disk
                self._torn(f"dating record {number}", offset, "record" if torn else "CRC")
            return None
        if not (np.isfinite(wall) and np.isfinite(rate) and rate > 0):
            raise InputError(self.path, f"{where}: bad dating: wall_s {wall}, rate_hz {rate}", field="dating")
        if last is not None and (index <= last.index or wall <= last.wall_s):
            raise InputError(self.path, f"{where}: index {index} at {wall:.3f} does not come after the record before "
                             f"(index {last.index} at {last.wall_s:.3f})", field="dating")  # fmt: skip
        return DatingPoint(int(index), float(wall), float(rate))

    def _read_past(self, f: BinaryIO, offset: int, size: int, d: _Damaged, w: _Walk, payloads: bool) -> int | None:
        """Where to read on after the damaged record at ``offset`` (``f`` there); None: nothing good
        follows a record cut short by a crash (warned as torn with ``payloads``)."""
        w.spans.start_at(offset)  # every record checked from here on starts after it
        # Scanned for from the byte after its start, never stepped over to where its header says it
        # ends: a fake header that looks intact could claim 12 MB and hide the good chunks in them (a
        # crafted file lost ~1M samples so). A flipped bit in a 3 KiB chunk costs the same: the scan
        # reads a 4 KiB piece and finds the next record's magic, as the step over read its header.
        resumed = self._next_good(f, offset + 1, size, w.spans)
        if d.dating:
            w.dated += 1
        else:
            w.number += 1
        if resumed >= size and d.torn:
            if payloads:
                self._torn(d.what, offset, d.torn)
            return None
        if payloads:
            w.pending.append((d, resumed))
        f.seek(resumed)
        return resumed

    def _next_good(self, f: BinaryIO, start: int, size: int, spans: SpanCrc) -> int:
        """Byte offset of the first record at or after ``start`` that parses and whose CRC checks (the
        file's size: none). Reads pieces of at most RESYNC_BYTES, growing from 4 KiB (the next chunk
        is usually a few kB on), and checks only where a record's magic is: a megabyte of garbage costs
        a millisecond or so; a long payload's CRC comes from ``spans``, so a stretch of fake headers
        costs its own bytes, not their claims (docs/rawfile.md, 'Reading')."""
        magics = (CHUNK_MAGIC, DATING_MAGIC) if self.version >= 2 else (CHUNK_MAGIC,)
        pos, piece = start, 4096
        while pos < size:
            f.seek(pos)
            buf = f.read(piece + len(CHUNK_MAGIC) - 1)  # a magic across the piece's end is seen
            # In order as found: the first candidate is often good (fakes met one after another).
            for k in _finds(buf, magics, piece):
                if self._good_at(f, pos + k, size, spans):
                    return pos + k
            pos, piece = pos + piece, min(2 * piece, RESYNC_BYTES)
        return size

    def _good_at(self, f: BinaryIO, at: int, size: int, spans: SpanCrc) -> bool:
        """A record starts at ``at`` that parses and whose CRC checks."""
        f.seek(at)
        head = f.read(CHUNK_HEAD_SIZE)
        if self.version >= 2 and head[:4] == DATING_MAGIC:
            body = head + f.read(DATING_SIZE - CHUNK_HEAD_SIZE)
            return len(body) == DATING_SIZE and zlib.crc32(body[:-4]) == int(struct.unpack_from("<I", body, DATING_SIZE - 4)[0])
        if len(head) < CHUNK_HEAD_SIZE or head[:4] != CHUNK_MAGIC:
            return False
        n = struct.unpack_from("<I", head, 12)[0]
        end = at + CHUNK_HEAD_SIZE + n * 2 * self.header.channels
        return 0 < n <= MAX_CHUNK_SAMPLES and end <= size and self._crc_ok(f, head, at, end, spans)

    @staticmethod
    def _crc_ok(f: BinaryIO, head: bytes, at: int, end: int, spans: SpanCrc) -> bool:
        """The chunk at ``at`` (``f`` after its header) ending at ``end`` has a good CRC: a long
        payload's from ``spans``, without reading it; a short one read and summed."""
        if end - at - CHUNK_HEAD_SIZE > DIRECT_CRC_BYTES:
            return bool(spans.crc(head[:20], at + CHUNK_HEAD_SIZE, end) == struct.unpack_from("<I", head, 20)[0])
        return _sums_to(head, f.read(end - at - CHUNK_HEAD_SIZE))

    def _settle(self, w: _Walk, before: int | None) -> None:
        """The damage read past since the last good chunk, now that the next one (its first index
        ``before``; None: none) says how many samples it cost: counted in ``damage_totals``, listed in
        ``damage`` and warned of up to MAX_LISTED_DAMAGE."""
        if not w.pending:
            return
        group = [RawDamage(self.path, d.what, d.offset, d.reason, resumed, w.last_end, before, d.claimed) for d, resumed in w.pending]
        w.pending.clear()
        for damage in self.damage_totals.add(group):  # the rest counted, warned of once at the end (_scan)
            warnings.warn(RawDamageWarning(damage), stacklevel=5)

    def _torn(self, what: str, offset: int, part: str) -> None:
        warnings.warn(
            f"{self.path}: {what} at byte {offset} is incomplete ({part}): skipped "
            "(the recording was cut off while writing)",
            RawWarning,
            stacklevel=4,
        )

    def scan_end(self) -> tuple[int, int | None]:
        """Byte offset after the last whole chunk or dating record, and the next sample index
        (None: no chunk)."""
        end, nxt = HEADER_SIZE, None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RawWarning)
            for end, rec in self._records(payloads=True):
                if isinstance(rec, RawChunk):
                    nxt = rec.first_index + len(rec.samples)
        return end, nxt

    def gaps(self) -> tuple[int, int]:
        """(gaps, samples missing in them) between the good chunks, those ``chunks`` reads, each
        checked as it checks them, no array made of their samples (0.09 s for a day's file, 0.14 s
        for ``chunks``); damage is left for ``chunks`` to name."""
        gaps = missing = 0
        nxt = None
        for first, n in self._heads():
            if nxt is not None and first > nxt:
                gaps, missing = gaps + 1, missing + first - nxt
            nxt = first + n
        return gaps, missing

    def index_span(self) -> tuple[int, int] | None:
        """(first sample index, index after the last) of the good chunks, as ``gaps``; None for a
        file with no chunk yet."""
        return self.outline()[1]

    def _heads(self) -> Iterator[tuple[int, int]]:
        """(first_index, n_samples) of each chunk ``chunks`` reads, quietly (strict: until the first
        damaged one)."""
        for _, rec in self._records(payloads=False):
            if isinstance(rec, tuple):
                yield rec

    def scaled(self, samples: I16) -> tuple[F64, F64 | None]:
        """int16 counts -> accel (n, 3) g and gyro (n, 3) deg/s (None without a gyro).

        Dividing by the counts per unit (1000, 10) when they are whole gives the
        nearest doubles to the decimal values (0.981, not 0.9810000000000001).
        """
        return scale(self.header, samples)


def scale(h: RawHeader, samples: I16) -> tuple[F64, F64 | None]:
    """``RawReader.scaled`` by a header."""
    return _scale(samples[:, :3], h.accel_lsb_g), (_scale(samples[:, 3:6], h.gyro_lsb_dps) if h.has_gyro else None)


def _scale(counts: I16, lsb: float) -> F64:
    per_unit = _whole_per_unit(lsb)
    if per_unit:
        return counts.astype(np.float64) / per_unit
    return counts.astype(np.float64) * lsb


def _whole_per_unit(lsb: float) -> int:
    """Counts per unit when they are whole (1000 for 0.001 g), else 0."""
    per_unit = 1.0 / lsb
    return round(per_unit) if abs(per_unit - round(per_unit)) < 1e-6 else 0


# --- as a replay recording -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """Consecutive samples (gaps filled): row i is sample ``start_index + i``."""

    start_index: int
    first_line: int  # 0: a raw file has no lines (the field mirrors csvread.Chunk)
    t: F64
    acc: F64
    gyro: F64 | None
    filled: int  # samples in this block that fill a gap (held last sample)

    def __len__(self) -> int:
        return len(self.t)


def filled_samples(chunks: Iterable[RawChunk]) -> Iterator[tuple[int, I16, int]]:
    """(first_index, samples, how many of them fill a gap) with every gap filled by the last sample."""
    last: I16 | None = None
    nxt: int | None = None
    for c in chunks:
        if last is not None and nxt is not None and c.first_index > nxt:
            gap = c.first_index - nxt
            for i in range(0, gap, MAX_CHUNK_SAMPLES):
                k = min(MAX_CHUNK_SAMPLES, gap - i)
                yield nxt + i, np.repeat(last[None, :], k, axis=0), k
        yield c.first_index, c.samples, 0
        last, nxt = c.samples[-1], c.first_index + len(c.samples)


@dataclass(frozen=True)
class RawRecording:
    """A raw file, or consecutive parts of one band boot (``io.rawboot``), opened for replay:
    the same face as ``csvread.Recording``. Times count from ``header``'s (the first file's)
    ``index_origin``; the files are read one after the other, one chunk in memory at a time."""

    path: str
    rate_hz: float
    has_gyro: bool
    t0: float  # file time of the first sample, s
    chunk_rows: int
    header: RawHeader
    parts: tuple[str, ...] = ()  # the files in index order when several; () is ``path`` alone
    strict: bool = False  # damage in a file's middle is an InputError (``RawReader``), not read past
    _seen: _Seen = field(default_factory=lambda: _Seen(), compare=False, repr=False)

    @functools.cached_property
    def dating(self) -> RawDating:
        """The files' dating records as one dating (read when first asked: replay never needs it)."""
        dating = RawDating(self.header)
        for path in self.files:
            dating = dating.joined(RawReader(path, self.strict).dating())
        return dating

    def wall_at(self, t: float) -> float:
        """Wall time (unix s) of file time ``t`` (s on the nominal time base replay counts in)."""
        h = self.header
        return self.dating.wall_at(h.index_origin + t * h.rate_hz)

    def t_at(self, wall_s: float) -> float:
        """File time ``t`` (s) of the sample taken at ``wall_s``: ``wall_at``'s inverse."""
        h = self.header
        return (self.dating.index_at(wall_s) - h.index_origin) / h.rate_hz

    @property
    def files(self) -> tuple[str, ...]:
        return self.parts or (self.path,)

    @property
    def name(self) -> str:
        """The file, or the parts as a span, for messages."""
        f = self.files
        return f[0] if len(f) == 1 else f"{f[0]} .. {f[-1]} ({len(f)} parts)"

    def _chunks(self) -> Generator[RawChunk, None, None]:
        """Every chunk of the files in order, counting the gaps between them (``read_gaps``)."""
        seen = self._seen
        seen.readers, seen.gaps = [], ReadGaps()
        nxt: int | None = None
        for path in self.files:
            reader = RawReader(path, self.strict)
            seen.readers.append(reader)
            for k, c in enumerate(reader.chunks()):
                if nxt is not None and c.first_index > nxt:  # the damage before c is settled when c comes
                    last = reader.damage_totals.last
                    d = last if last is not None and last.before == c.first_index else None
                    gap = c.first_index - nxt
                    # A file's first chunk damaged: its header's count, the rest lies between the files.
                    lost = 0 if d is None else gap if d.lost is None else min(d.lost, gap)
                    seen.gaps.add(gap, k == 0, lost)
                nxt = c.first_index + len(c.samples)
                yield c

    def chunks(self) -> Generator[Block, None, None]:
        """Every sample (gaps filled) in blocks of ``chunk_rows``; reads the file(s) afresh."""
        return (_block(self.header, parts) for parts in _groups(self._chunks(), self.chunk_rows))

    @property
    def band_units(self) -> bool:
        """The counts are the band's own ints (accel mg, gyro 0.1 deg/s), which
        ``twin.to_units`` makes of the scaled samples exactly (count / 1000 * 1000
        rounds back to the count)."""
        h = self.header
        return _whole_per_unit(h.accel_lsb_g) == 1000 and (not h.has_gyro or _whole_per_unit(h.gyro_lsb_dps) == 10)

    def counts(self) -> Generator[tuple[F64, I16], None, None]:
        """As ``chunks``, but (times s, counts (n, channels) int16) without scaling to g
        and deg/s: for a replay that would round them straight back (``band_units``)."""
        for parts in _groups(self._chunks(), self.chunk_rows):
            start, samples = _joined(parts)
            yield _times(self.header, start, len(samples)), samples

    @property
    def read_gaps(self) -> ReadGaps:
        """The gaps the last read through ``chunks``/``counts`` held (read to its end: all of them),
        those around damage apart: unlike the headers (``RawReader.gaps``), the read sees a chunk
        whose samples alone are damaged."""
        return self._seen.gaps

    @property
    def damage(self) -> list[RawDamage]:
        """The damaged records the last read through ``chunks``/``counts`` read past, file by file
        (each file's first MAX_LISTED_DAMAGE: ``damage_totals`` counts them all)."""
        return [d for r in self._seen.readers for d in r.damage]

    @property
    def damage_totals(self) -> list[DamageTotals]:
        """What the last read through ``chunks``/``counts`` read past, file by file (those with damage)."""
        return [r.damage_totals for r in self._seen.readers if r.damage_totals.count]


@dataclass
class ReadGaps:
    """Gaps held while reading a raw recording (``RawRecording.read_gaps``)."""

    gaps: int = 0
    missing: int = 0  # samples held in them
    between: int = 0  # of the gaps, those between two files
    damaged: int = 0  # of the gaps, those around damage read past (RawDamage)
    damaged_missing: int = 0

    def add(self, missing: int, between: bool, damaged: int) -> None:
        """A gap of ``missing`` samples, ``damaged`` of them lost with damage read past."""
        self.gaps, self.missing, self.between = self.gaps + 1, self.missing + missing, self.between + between
        if damaged:
            self.damaged, self.damaged_missing = self.damaged + 1, self.damaged_missing + damaged


@dataclass
class _Seen:
    """What the last read through a RawRecording met (its readers hold their ``damage``)."""

    readers: list[RawReader] = field(default_factory=list)
    gaps: ReadGaps = field(default_factory=ReadGaps)


def _groups(chunks: Iterable[RawChunk], rows: int) -> Generator[list[tuple[int, I16, int]], None, None]:
    """(first index, samples, filled) parts of each block of ``rows`` samples, gaps filled."""
    parts: list[tuple[int, I16, int]] = []
    have = 0
    for first, samples, filled in filled_samples(chunks):
        pos = 0
        while pos < len(samples):
            take = min(len(samples) - pos, rows - have)
            parts.append((first + pos, samples[pos : pos + take], take if filled else 0))
            have += take
            pos += take
            if have == rows:
                yield parts
                parts, have = [], 0
    if parts:
        yield parts


def _joined(parts: list[tuple[int, I16, int]]) -> tuple[int, I16]:
    samples = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    return parts[0][0], samples


def _times(header: RawHeader, start: int, n: int) -> F64:
    idx = np.arange(start, start + n, dtype=np.float64)
    t: F64 = (idx - header.index_origin) / header.rate_hz
    return t


def _block(header: RawHeader, parts: list[tuple[int, I16, int]]) -> Block:
    start, samples = _joined(parts)
    acc, gyro = scale(header, samples)
    return Block(start, 0, _times(header, start, len(samples)), acc, gyro, sum(p[2] for p in parts))


def open_rawfile(path: str | os.PathLike[str], chunk_rows: int = CHUNK_ROWS, strict: bool = False) -> RawRecording:
    """Open a raw recording for replay; InputError for a bad or empty file (``strict``: also for
    damage in its middle, which is otherwise read past: ``RawReader``)."""
    name = os.fspath(path)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    reader = RawReader(name, strict)
    first = next(iter(_quiet_chunks(reader)), None)
    if first is None:
        raise InputError(name, "no samples: the raw recording holds no complete chunk")
    t0 = (first.first_index - reader.header.index_origin) / reader.header.rate_hz
    return RawRecording(name, reader.header.rate_hz, reader.header.has_gyro, t0, chunk_rows, reader.header, strict=strict)


def _quiet_chunks(reader: RawReader) -> Iterator[RawChunk]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RawWarning)
        yield from reader.chunks()


# --- conversion to the replay CSV -----------------------------------------------------------


def to_csv(
    src: str | os.PathLike[str] | RawRecording, out: str | os.PathLike[str], chunk_rows: int = 1 << 18,
    progress: Callable[[float], None] | None = None,
) -> tuple[int, int]:
    """Write the replay CSV (t,ax,ay,az[,gx,gy,gz]; s, g, deg/s) of a raw recording (a file,
    or an opened one: the parts of a boot, ``io.rawboot``); ``progress`` is told the seconds
    written after each chunk.

    Returns (samples written, samples that fill gaps). Times are file time
    (``(index - index_origin) / rate_hz``), 6 decimals; accel 3 decimals (mg),
    gyro 1 decimal (0.1 deg/s): exactly the stored counts.
    """
    from spasmwatch.sim.output import format_rows, header

    rec = src if isinstance(src, RawRecording) else open_rawfile(src, chunk_rows)
    n = filled = 0
    # A damaged chunk, a full disk or ^C leaves any earlier ``out`` whole (export raw --force
    # replaces it only with a finished CSV).
    with whole_file(out, "the CSV") as f:
        f.write(header(rec.has_gyro).encode())
        for b in rec.chunks():
            cols: list[tuple[F64, int]] = [(b.t, 6)] + [(b.acc[:, k], 3) for k in range(3)]
            if b.gyro is not None:
                cols += [(b.gyro[:, k], 1) for k in range(3)]
            f.write(format_rows(cols))
            n, filled = n + len(b), filled + b.filled
            if progress is not None and len(b):
                progress(float(b.t[-1]) - rec.t0)
    return n, filled


def default_csv_path(src: str | os.PathLike[str]) -> Path:
    return Path(src).with_suffix(".csv")
