"""EDF+ annotations through pyedflib: a signal-less EDF+ file of timed annotations.

EEG viewers (EDFbrowser, MNE, ...) line the annotations up with an EEG of the
same night by onset: the file's start date/time is the export's recording
start (whole seconds, UTC), each annotation's onset is seconds from it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

import pyedflib

from spasmwatch.export.timeline import Row

# EDF+ annotation texts are limited: edflib keeps 40 bytes of UTF-8; keep them short.
MAX_TEXT = 40
# EDF+ data record length, s: the longest edflib allows. The file's records must span the last
# annotation (MNE's read_raw_edf drops every annotation past the file's end), and each record costs
# 114 bytes: 60 s records span two weeks in 2.3 MB (1 s records would take 140 MB).
RECORD_S = 60


def cut(text: str) -> str:
    """``text`` cut to MAX_TEXT bytes of UTF-8 at a character boundary (edflib cuts bytes: half a
    character left at the end makes the annotation invalid UTF-8, read back as mojibake)."""
    return text.encode("utf-8")[:MAX_TEXT].decode("utf-8", errors="ignore")


def write_annotations(out: Path, rows: Iterable[Row], start: float, describe: Callable[[Row], str]) -> int:
    """``start``: the recording start, unix s (never a fallback: the header date is what viewers align by)."""
    w = pyedflib.EdfWriter(str(out), 0, file_type=pyedflib.FILETYPE_EDFPLUS)
    n, end_s = 0, 0.0
    try:
        w.setStartdatetime(datetime.fromtimestamp(start, tz=timezone.utc).replace(tzinfo=None))
        w.setEquipment("spasmwatch")
        with warnings.catch_warnings():  # its warning is about signals' sample rates: this file has none
            warnings.simplefilter("ignore", UserWarning)
            w.setDatarecordDuration(RECORD_S)
        for r in rows:
            onset, duration = r["onset_s"], r["duration_s"]
            assert isinstance(onset, float | int) and isinstance(duration, float | int)
            w.writeAnnotation(float(onset), float(duration) if duration > 0 else -1.0, cut(describe(r)))
            n += 1
            end_s = max(end_s, float(onset) + max(float(duration), 0.0))
    finally:
        w.close()
    _span(out, end_s)
    return n


def _span(out: Path, end_s: float) -> None:
    """Add data records holding only their time-keeping annotation until the file spans ``end_s``.
    edflib writes one record per annotation, so the file's nominal end fell before most onsets and
    MNE's read_raw_edf dropped them all ('outside data range'); without annotations it wrote no
    record at all, which EDF readers refuse, so there is always at least one."""
    with open(out, "r+b") as f:
        head = f.read(256)
        ns, have = int(head[252:256]), int(head[236:244])
        if ns != 1 or float(head[244:252]) != RECORD_S:  # not the signal-less file this module writes
            return
        want = math.floor(end_s / RECORD_S) + 1  # past end_s: an onset on the file's last instant is outside it
        if want <= have:
            return
        f.seek(256 + ns * 216)  # the annotation signal's samples per data record
        size = int(f.read(8)) * 2
        f.seek(236)
        f.write(str(want).encode().ljust(8))
        f.seek(0, 2)
        for k in range(have, want):
            f.write(f"+{k * RECORD_S}\x14\x14\x00".encode().ljust(size, b"\x00"))
