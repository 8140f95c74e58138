"""The parts of an EDF+ header read or worded without the EDF library (pyedflib, imported only to
write a file: export/edf.py): how long the file is, and how its recording field names a clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

HEADER_BYTES = 256  # the fixed part, before one 256-byte part per signal


def layout(head: bytes) -> tuple[int, float, int]:
    """(data records, record duration s, signals) of an EDF header's fixed part."""
    return int(head[236:244]), float(head[244:252]), int(head[252:256])


def duration_s(path: Path) -> float:
    """The file's nominal duration, s: its data records' (an annotation past it is outside the file)."""
    with open(path, "rb") as f:
        records, record_s, _ = layout(f.read(HEADER_BYTES))
    return records * record_s


def offset_text(offset: timedelta) -> str:
    """``UTC+01:00``, ``UTC-05:00``: a UTC offset as the recording field says it."""
    minutes = round(offset.total_seconds() / 60)
    return f"UTC{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
