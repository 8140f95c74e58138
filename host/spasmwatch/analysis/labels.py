"""Ground truth from a video-labelled recording: an events table -> ``X.truth.json``.

The table is the BIDS ``events.tsv`` form (tab- or comma-separated; UTF-8, or
UTF-16 with a byte-order mark; ``onset`` and ``duration`` in seconds on the
recording's own ``t``, or ``hh:mm:ss.fff``; ``n/a`` for no duration;
``trial_type`` the label), which ELAN, BORIS and a spreadsheet can all write. Labels (docs/real-recordings.md):

- ``spasm``, ``subtle_spasm``: one row per spasm, from its first frame;
- ``wake``: a wake onset (its duration is ignored);
- ``not_worn``: the band off the baby, with its duration;
- ``place:<context>`` (``place:car``): where the baby was, with its duration;
- anything else (``crying``, ``feeding``...): what the baby was doing.

Clusters are derived, not labelled, by the design notes' rule (docs/engineering.md): runs of
spasms whose onsets are at most ``max_gap_s`` apart, three or more in a run.
So every recording is clustered alike, and ``third_end`` and ``post_wake_s``
(which ``spasmwatch evaluate`` scores) are computed, not typed in.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import math
import re
import warnings
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any, Callable

from spasmwatch.errors import InputError
from spasmwatch.io import InputWarning

# The design notes (docs/engineering.md): a cluster's intervals are mostly 3-30 s; both simulators
# keep every gap within a cluster at or under 30 s.
CLUSTER_MAX_GAP_S = 30.0
CLUSTER_MIN_SPASMS = 3
# A spasm lasts 1-2 s; a labeller who marks onsets only gets this end.
DEFAULT_SPASM_S = 1.0
# Two spasm onsets closer than this are one spasm labelled twice (the
# detector itself counts events within 2 s once, CLUSTER_MIN_GAP_MS).
SAME_SPASM_S = 0.5

ONSET_NAMES = ("onset", "start", "begin")
DURATION_NAMES = ("duration",)
LABEL_NAMES = ("trial_type", "label", "annotation")
SPASM, SUBTLE, WAKE, NOT_WORN, PLACE = "spasm", "subtle_spasm", "wake", "not_worn", "place:"
RESERVED = (SPASM, SUBTLE, WAKE, NOT_WORN)
# difflib similarity above which a context label is warned of as a near miss of a RESERVED one:
# 0.8 catches one letter off in 'spasm' ('spazm' 0.8, 'spasms' 0.91, 'not_warn' 0.875).
NEAR_MISS = 0.8
_CLOCK = re.compile(r"^(-?)(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d*)?)$")


@dataclass(frozen=True)
class Label:
    line: int
    onset: float
    duration: float | None
    kind: str


def parse_time(text: str) -> float:
    """Seconds from ``12.5``, ``01:02.5`` (mm:ss) or ``1:02:03.25`` (hh:mm:ss), each may be after a
    ``-``; ValueError otherwise."""
    text = text.strip()
    m = _CLOCK.match(text)
    if m:
        sign, h, mins, s = m.groups()
        if float(s) >= 60 or (h is not None and int(mins) >= 60):
            raise ValueError(text)
        # A sign before all of it: a time before t = 0 as 'spasmwatch taps' shows it (-0:16:19.980).
        return (-1 if sign else 1) * (int(h or 0) * 3600 + int(mins) * 60 + float(s))
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_labels(path: str, offset_s: float = 0.0, onset: Callable[[str], float] | None = None) -> list[Label]:
    """The table's rows as labels, ``offset_s`` added to every onset (video -> sensor time).

    ``onset`` reads the onset column instead of ``parse_time`` (``wallclock.WallClock.t``: times on
    the video's clock); its ValueError's text is the reason given for the line."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None
    lines = _decode(path, data).splitlines()
    if not lines:
        raise InputError(path, "empty: expected a header with onset, duration and trial_type")
    delim = "\t" if "\t" in lines[0] else ","
    rows = _rows(path, lines, delim)
    header = [h.strip().lower() for h in next(rows)[1]]
    cols = {kind: _column(path, header, names) for kind, names in (("onset", ONSET_NAMES), ("duration", DURATION_NAMES), ("label", LABEL_NAMES))}
    out = []
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise InputError(path, f"{len(row)} fields, the header has {len(header)}", line=number)
        start = _time(path, number, header[cols["onset"]], row[cols["onset"]], onset)
        dur_text = row[cols["duration"]].strip()
        duration = None if dur_text.lower() in ("", "n/a", "na") else _time(path, number, "duration", dur_text)
        if duration is not None and duration < 0:
            raise InputError(path, f"negative duration {dur_text!r}", line=number, field="duration")
        kind = re.sub(r"[\s-]+", "_", row[cols["label"]].strip().lower())
        if not kind or kind == PLACE:
            raise InputError(path, "empty label", line=number, field=header[cols["label"]])
        out.append(Label(number, start + offset_s, duration, kind))
    _warn_near_misses(path, out)
    return out


def _rows(path: str, lines: list[str], delim: str) -> Iterator[tuple[int, list[str]]]:
    """The table's rows, each with its line. InputError for a line csv cannot read (a cell past its
    field size limit was a csv.Error traceback) and for a cell running over several lines: a quote
    left open read the rows after it into its cell, so a spasm labelled there was lost without a
    word (both found by the hostile-input review). A label never holds a line break."""
    reader = csv.reader(lines, delimiter=delim)
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(path, f"unreadable line: {exc}", line=reader.line_num) from None
        first, last = last + 1, reader.line_num
        if last > first:
            raise InputError(path, f'a quote (") opens a cell that runs on to line {last}: close it on its line, or take it out', line=first)
        yield first, row


def _warn_near_misses(path: str, labels: list[Label]) -> None:
    """A label close to one the truth reads ('spazm', 'spasms', 'not_warn') is taken as what the
    baby was doing: say so once per label, as its spasms would be missing from the truth (found
    by the input audit: 'spazm' became '1 context labels' without a word). A warning, not an
    error: a context such as 'awake' may be meant."""
    seen: dict[str, int] = {}
    for lab in labels:
        if lab.kind not in RESERVED and not lab.kind.startswith(PLACE):
            seen.setdefault(lab.kind, lab.line)
    for kind, line in seen.items():
        near = difflib.get_close_matches(kind, RESERVED, n=1, cutoff=NEAR_MISS)
        if near:
            warnings.warn(InputWarning(f"{path}:{line}: label {kind!r} is read as what the baby was doing, not as {near[0]!r}: a typo?"), stacklevel=2)


def _decode(path: str, data: bytes) -> str:
    """UTF-8 (a byte-order mark skipped), or UTF-16 with its byte-order mark: spreadsheets save
    a tab-separated table as 'Unicode Text' that way. Anything else names the line at fault."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(path, "starts as UTF-16 text but is not: save the table as UTF-8") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            path, f"byte 0x{data[exc.start]:02x} is not UTF-8 text: save the table as UTF-8 (CSV UTF-8 or tab-separated)", line=line
        ) from None


def _column(path: str, header: list[str], names: tuple[str, ...]) -> int:
    for name in names:
        if name in header:
            return header.index(name)
    # A spreadsheet's CSV in many languages (Excel in German, French) is ';'-separated: one column.
    hint = "" if len(header) > 1 or ";" not in header[0] else (
        ": the table looks ';'-separated (a spreadsheet's CSV in some languages): save it tab-separated (Unicode Text) "
        "or comma-separated")  # fmt: skip
    raise InputError(path, f"no column {' or '.join(names)} in the header {','.join(header)!r}{hint}", line=1)


def _time(path: str, line: int, field: str, text: str, read: Callable[[str], float] | None = None) -> float:
    if read is not None:
        try:
            return read(text)
        except ValueError as exc:
            raise InputError(path, str(exc), line=line, field=field) from None
    try:
        return parse_time(text)
    except ValueError:
        raise InputError(path, f"not a time in seconds or hh:mm:ss: {text!r}", line=line, field=field) from None


def build_truth(
    path: str,
    labels: list[Label],
    t_first: float,
    duration_s: float,
    max_gap_s: float = CLUSTER_MAX_GAP_S,
    spasm_s: float = DEFAULT_SPASM_S,
    outside_hint: str = "",
) -> dict[str, Any]:
    """The truth file's content for a recording of ``duration_s`` from ``t_first`` (s); ``outside_hint``
    follows the refusal of a label outside it (what the offset would be)."""
    t_last = t_first + duration_s
    for lab in labels:
        end = lab.onset + (lab.duration or 0.0)
        if lab.onset < t_first or end > t_last:
            # The field at fault, and the span as words: '-41716.580--41715.580 s' named no field
            # and read badly for a negative offset (found by the researcher audit).
            span = f"{lab.onset:.3f} s" + (f" (to {end:.3f} s)" if lab.duration else "")
            raise InputError(
                path, f"{lab.kind} at {span} lies outside the recording ({t_first:.3f}-{t_last:.3f} s); is the offset right?{outside_hint}",
                line=lab.line, field="onset" if not t_first <= lab.onset <= t_last else "duration")
        if lab.kind not in (SPASM, SUBTLE, WAKE) and not lab.duration:
            raise InputError(path, f"{lab.kind} is a span: it needs a duration", line=lab.line, field="duration")
    marked = sorted((x for x in labels if x.kind in (SPASM, SUBTLE)), key=lambda x: x.onset)
    for a, b in zip(marked, marked[1:]):
        if b.onset - a.onset < SAME_SPASM_S:
            raise InputError(path, f"spasm {b.onset - a.onset:.3f} s after the one on line {a.line}: one spasm labelled twice?", line=b.line)
    spasms = [{"t": _r(x.onset), "end": _r(x.onset + (x.duration or spasm_s)), "subtle": x.kind == SUBTLE} for x in marked]
    wakes = sorted(_r(x.onset) for x in labels if x.kind == WAKE)
    spans = [(x, {"start": _r(x.onset), "end": _r(x.onset + (x.duration or 0.0))}) for x in labels if x.kind not in (SPASM, SUBTLE, WAKE)]
    return {
        "source": "labels",
        "duration_s": duration_s,
        "spasms": spasms,
        "clusters": clusters(spasms, wakes, max_gap_s),
        "wake_onsets": wakes,
        "not_worn": [s for x, s in spans if x.kind == NOT_WORN],
        "places": [{**s, "context": x.kind[len(PLACE):]} for x, s in spans if x.kind.startswith(PLACE)],
        "confounders": [{**s, "kind": x.kind} for x, s in spans if x.kind != NOT_WORN and not x.kind.startswith(PLACE)],
    }


def clusters(spasms: list[dict[str, Any]], wake_onsets: list[float], max_gap_s: float = CLUSTER_MAX_GAP_S) -> list[dict[str, Any]]:
    """Runs of spasms (sorted by ``t``) at most ``max_gap_s`` apart, of three or more."""
    runs: list[list[dict[str, Any]]] = []
    for s in spasms:
        if runs and s["t"] - runs[-1][-1]["t"] <= max_gap_s:
            runs[-1].append(s)
        else:
            runs.append([s])
    out = []
    for run in runs:
        if len(run) < CLUSTER_MIN_SPASMS:
            continue
        start = run[0]["t"]
        before = [t for t in wake_onsets if t <= start]
        out.append({
            "start": start,
            "end": max(s["end"] for s in run),
            "count": len(run),
            "subtle": all(s["subtle"] for s in run),
            "third_end": run[2]["end"],
            "post_wake_s": _r(start - before[-1]) if before else None,
        })
    return out


def _r(t: float) -> float:
    return round(float(t), 3)
