"""EDF+ annotations through pyedflib: a signal-less EDF+ file of timed annotations.

EEG viewers (EDFbrowser, MNE, ...) line the annotations up with an EEG of the
same night by onset: the file's start date/time is the export's recording
start (whole seconds, UTC), each annotation's onset is seconds from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

import pyedflib

from spasmwatch.export.timeline import Row

# EDF+ annotation texts are limited: edflib keeps 40 bytes of UTF-8; keep them short.
MAX_TEXT = 40


def cut(text: str) -> str:
    """``text`` cut to MAX_TEXT bytes of UTF-8 at a character boundary (edflib cuts bytes: half a
    character left at the end makes the annotation invalid UTF-8, read back as mojibake)."""
    return text.encode("utf-8")[:MAX_TEXT].decode("utf-8", errors="ignore")


def write_annotations(out: Path, rows: Iterable[Row], start: float, describe: Callable[[Row], str]) -> int:
    """``start``: the recording start, unix s (never a fallback: the header date is what viewers align by)."""
    w = pyedflib.EdfWriter(str(out), 0, file_type=pyedflib.FILETYPE_EDFPLUS)
    n = 0
    try:
        w.setStartdatetime(datetime.fromtimestamp(start, tz=timezone.utc).replace(tzinfo=None))
        w.setEquipment("spasmwatch")
        for r in rows:
            onset, duration = r["onset_s"], r["duration_s"]
            assert isinstance(onset, float | int) and isinstance(duration, float | int)
            w.writeAnnotation(float(onset), float(duration) if duration > 0 else -1.0, cut(describe(r)))
            n += 1
    finally:
        w.close()
    if n == 0:
        _add_empty_record(out)
    return n


def _add_empty_record(out: Path) -> None:
    """edflib writes a file without annotations with no data record, which EDF readers refuse:
    give it one holding only the time-keeping annotation (onset 0, no text)."""
    with open(out, "r+b") as f:
        head = f.read(256)
        ns = int(head[252:256])
        if int(head[236:244]) != 0 or ns != 1:  # not the signal-less file this module writes
            return
        f.seek(256 + ns * 216)  # the annotation signal's samples per data record
        size = int(f.read(8)) * 2
        f.seek(236)
        f.write(b"1".ljust(8))
        f.seek(0, 2)
        f.write(b"+0\x14\x14\x00".ljust(size, b"\x00"))
