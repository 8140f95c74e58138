"""EDF+ annotations through pyedflib: a signal-less EDF+ file of timed annotations.

EEG viewers (EDFbrowser, MNE, ...) line the annotations up with an EEG of the
same night by onset: the file's start date/time is the export's recording
start (whole seconds), each annotation's onset is seconds from it. EDF has no
zone field and hospital EEG systems write the ward's wall clock there, so the
start is the wall time in the family's zone (``--tz UTC``: in UTC), and the
recording field's free text says which (``UTC+01:00_Europe/Berlin``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import pyedflib

from spasmwatch.export.edfheader import HEADER_BYTES, layout, offset_text
from spasmwatch.export.timeline import Row

# EDF+ annotation texts are limited: edflib keeps 40 bytes of UTF-8; keep them short.
MAX_TEXT = 40
# EDF+ data record length, s: the longest edflib allows. The file's records must span the last
# annotation (MNE's read_raw_edf drops every annotation past the file's end), and each record costs
# 114 bytes: 60 s records span two weeks in 2.3 MB (1 s records would take 140 MB).
RECORD_S = 60
# Characters edflib keeps of the recording field's free text (after "Startdate dd-MMM-yyyy X X
# spasmwatch"), measured with pyedflib 0.1.42: the start's offset always fits, a zone's name only
# when it fits whole ('UTC-08:00_America/Los_Angeles' is 29).
MAX_CLOCK_TEXT = 29
# Zone names that add nothing to the offset: UTC's, and the one local_zone gives /etc/localtime
# when it is a file, not a link to a named zone (a reader elsewhere cannot tell what it was).
_NAMELESS = frozenset({"UTC", "Etc/UTC", "localtime"})


def cut(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` bytes of UTF-8 at a character boundary (edflib cuts bytes: half a
    character left at the end makes the annotation invalid UTF-8, read back as mojibake)."""
    return text.encode("utf-8")[: max(limit, 0)].decode("utf-8", errors="ignore")


def with_band(text: str, device: str) -> str:
    """``text`` ending with its band's id, 'spasm [band-2]', the text cut so the id stays whole:
    an EDF+ annotation has no field for the band (the other formats' device column)."""
    tag = f" [{device}]"
    return cut(text, MAX_TEXT - len(tag.encode("utf-8"))) + tag


def clock_text(local: datetime) -> str:
    """Which clock the header's start is on: 'UTC+01:00_Europe/Berlin', the offset at the start
    (a DST change later in the file does not change it) and the zone's name where it fits."""
    text = offset_text(local.utcoffset() or timedelta())
    name = getattr(local.tzinfo, "key", None)
    if name and name not in _NAMELESS and len(text) + 1 + len(name) <= MAX_CLOCK_TEXT:
        text += f"_{name}"  # '_': EDF+ subfields are split at spaces
    return text


def write_annotations(
    out: Path, rows: Iterable[Row], start: float, zone: tzinfo, describe: Callable[[Row], str], silent: Callable[[Row], bool]
) -> int:
    """``start``: the recording start, unix s (never a fallback: the header date is what viewers
    align by), written as the wall time in ``zone``. ``silent``: whether a row is a band's silence
    up to the export's time, written at its start with no duration."""
    w = pyedflib.EdfWriter(str(out), 0, file_type=pyedflib.FILETYPE_EDFPLUS)
    n, end_s = 0, 0.0
    try:
        local = datetime.fromtimestamp(start, zone)
        w.setStartdatetime(local.replace(tzinfo=None))
        w.setEquipment("spasmwatch")
        w.setRecordingAdditional(clock_text(local))
        with warnings.catch_warnings():  # its warning is about signals' sample rates: this file has none
            warnings.simplefilter("ignore", UserWarning)
            w.setDatarecordDuration(RECORD_S)
        for r in rows:
            onset, duration = r["onset_s"], r["duration_s"]
            assert isinstance(onset, float | int) and isinstance(duration, float | int)
            if silent(r):
                # No duration, so the file ends where the silence starts: its end is the time of the
                # export, and records up to it cost 114 bytes a minute (a band returned a year ago:
                # 60 MB, 0.9 GB to open in MNE), which MNE's read_raw_edf cut at the file's end anyway.
                duration = 0.0
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
        have, record_s, ns = layout(f.read(HEADER_BYTES))
        if ns != 1 or record_s != RECORD_S:  # not the signal-less file this module writes
            return
        want = math.floor(end_s / RECORD_S) + 1  # past end_s: an onset on the file's last instant is outside it
        if want <= have:
            return
        f.seek(HEADER_BYTES + ns * 216)  # the annotation signal's samples per data record
        size = int(f.read(8)) * 2
        f.seek(236)
        f.write(str(want).encode().ljust(8))
        f.seek(0, 2)
        for k in range(have, want):
            f.write(f"+{k * RECORD_S}\x14\x14\x00".encode().ljust(size, b"\x00"))
