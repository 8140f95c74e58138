"""Several ``.swraw`` files that are consecutive parts of one band boot, opened as ONE recording.

The daemon cuts a boot's raw samples into a part per local day (docs/rawfile.md, "Files of a
band boot"). Replayed one by one, a cluster across noon is split and every part starts the
detector (gyro bias, background windows, sleep/wake) from nothing; replayed together, the
samples go through one detector in index order, exactly as one file of the same samples would
(tested byte for byte), and the gaps between parts are held as gaps within a file are.

The parts must agree on what they are: the same band (``device_id``), rate, channels and
units, one dating (each header's ``wall_start_s`` where the first part's dating puts its
``index_origin``) and, when named as the daemon names them, one boot number. They are taken
in index order whatever the order given (a shell glob puts ``<device>-boot<N>.swraw``, the
boot's start from before parts, after its ``-000``); two that hold the same samples are refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from spasmwatch.errors import InputError
from spasmwatch.io.csvread import Recording, open_recording
from spasmwatch.io.limits import CHUNK_ROWS, PART_DATING_SAMPLES
from spasmwatch.io.rawfile import RawReader, RawRecording, is_rawfile, open_rawfile

# Header fields the parts of one boot share, with the name the error gives each.
_SHARED = (("device_id", "device_id"), ("rate_hz", "rate_hz"), ("has_gyro", "flags (has_gyro: channels)"),
           ("accel_lsb_g", "accel_lsb_g"), ("gyro_lsb_dps", "gyro_lsb_dps"))  # fmt: skip
_BOOT_NAME = re.compile(r"-boot(\d+)(?:-\d{3,})?\.swraw")


def open_recordings(paths: Sequence[str | os.PathLike[str]], chunk_rows: int = CHUNK_ROWS, strict: bool = False) -> Recording | RawRecording:
    """What replay, truth and evaluate take as one recording: one file (CSV or .swraw), or
    several .swraw parts of one band boot (``open_rawparts``); ``strict``: a .swraw damaged in its
    middle is refused, not read past (``rawfile.RawReader``)."""
    if len(paths) == 1:
        return open_recording(paths[0], chunk_rows=chunk_rows, strict=strict)
    return open_rawparts(paths, chunk_rows, strict)


def time_span(rec: RawRecording) -> tuple[float, float]:
    """(time of the first sample, time after the last) of a raw recording, s on its time base,
    from its good chunks (``RawReader.index_span``: no sample array made)."""
    ends = [span[1] for f in rec.files if (span := RawReader(f, rec.strict).index_span()) is not None]
    h = rec.header
    return rec.t0, (max(ends) - h.index_origin) / h.rate_hz if ends else rec.t0


def open_rawparts(paths: Sequence[str | os.PathLike[str]], chunk_rows: int = CHUNK_ROWS, strict: bool = False) -> RawRecording:
    """One recording of the parts ``paths`` (one path: ``open_rawfile``); InputError naming the
    file and field when they are not consecutive parts of one band boot (``strict``: or when one
    is damaged in its middle)."""
    names = [os.fspath(p) for p in paths]
    if len(names) == 1:
        return open_rawfile(names[0], chunk_rows, strict)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    readers = [_reader(n, strict) for n in names]
    for r in readers[1:]:
        _same_boot(readers[0], r)
    readers.sort(key=lambda r: r.header.index_origin)
    spans = _spans(readers)
    if not spans:
        raise InputError(names[0], f"no samples: none of the {len(names)} parts holds a complete chunk")
    h = readers[0].header
    t0 = (spans[0][1] - h.index_origin) / h.rate_hz
    files = tuple(r.path for r in readers)
    return RawRecording(files[0], h.rate_hz, h.has_gyro, t0, chunk_rows, h, parts=files, strict=strict)


def _reader(path: str, strict: bool) -> RawReader:
    if not is_rawfile(path):
        why = "cannot be read" if not os.path.isfile(path) else "is not a raw recording (.swraw)"
        raise InputError(path, f"{why}: several files are replayed as one only when each is a .swraw part of one band boot")
    return RawReader(path, strict)


def _same_boot(a: RawReader, b: RawReader) -> None:
    for attr, field in _SHARED:
        mine, theirs = getattr(b.header, attr), getattr(a.header, attr)
        if mine != theirs:
            raise InputError(b.path, f"{mine!r} here, {theirs!r} in {a.path}: not parts of one band boot", field=field)
    boots = [m[1] if (m := _BOOT_NAME.search(os.path.basename(r.path))) else None for r in (a, b)]
    if None not in boots and boots[0] != boots[1]:
        raise InputError(b.path, f"boot {boots[1]} here, boot {boots[0]} in {a.path}: not parts of one band boot", field="boot (file name)")
    expected = a.header.wall_at(b.header.index_origin)
    if abs(b.header.wall_start_s - expected) > PART_DATING_SAMPLES / a.header.rate_hz:
        raise InputError(
            b.path,
            f"index_origin {b.header.index_origin} is dated {b.header.wall_start_s:.3f} here, {expected:.3f} by "
            f"{a.path}'s dating: not parts of one band boot (another boot counts its samples from 0 again)",
            field="wall_start_s",
        )


def _spans(readers: list[RawReader]) -> list[tuple[RawReader, int, int]]:
    """(reader, first index, index after the last) of the parts with samples, in index order;
    InputError for two that overlap."""
    spans: list[tuple[RawReader, int, int]] = []
    for r in readers:
        span = r.index_span()
        if span is None:
            continue
        if spans and span[0] < spans[-1][2]:
            prev = spans[-1]
            raise InputError(
                r.path,
                f"samples {span[0]}-{span[1] - 1} overlap {prev[0].path}'s {prev[1]}-{prev[2] - 1}: "
                "the same part given twice, or files of different boots",
                field="first_index",
            )
        spans.append((r, span[0], span[1]))
    return spans
