"""The ground-truth file beside a recording (``X.csv`` -> ``X.truth.json``).

Both simulators write it, ``spasmwatch truth`` writes it from video labels,
and ``spasmwatch evaluate`` reads it. What scoring reads of it is checked
here (docs/detector.md, "Scoring your own recordings").
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spasmwatch.errors import InputError, parser_limit, said

# top-level field -> (type, fields of each list item)
TRUTH_FIELDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "duration_s": (float, ()),
    "spasms": (list, ("t",)),
    "clusters": (list, ("start", "end", "subtle", "third_end")),
    "wake_onsets": (list, ()),
    "not_worn": (list, ("start", "end")),
}
_SECONDS, _SECONDS_OR_NULL, _FLAG = "seconds", "seconds or null", "flag"
# What each item field must hold (scoring compares times and reads the flag as a truth value:
# a time written as a string crashed it, a flag written "false" read as true).
ITEM_KINDS = {"t": _SECONDS, "start": _SECONDS, "end": _SECONDS, "third_end": _SECONDS, "subtle": _FLAG}
# Read when present: what was going on, to put false and missed clusters and missed wakes in context.
OPTIONAL_TRUTH_FIELDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "confounders": (list, ("start", "end", "kind")),
    "places": (list, ("start", "end", "context")),
}


def truth_path(recording: str | os.PathLike[str]) -> Path:
    """``day.csv`` -> ``day.truth.json`` in the same directory."""
    p = Path(recording)
    return p.with_name(p.stem + ".truth.json")


# A part's name as the daemon writes it: <device>-boot<N>-<part>.swraw (docs/rawfile.md).
_PART_NAME = re.compile(r"^(?P<boot>.+-boot\d+)-(?P<part>\d{3,})$")
# Truth times are written rounded to the ms (analysis/labels.py): they may end that far past the last sample.
_TIME_SLACK_S = 0.001
# How far a truth's duration_s may be from its parts' span: a hand-written one rounded to the
# second. Further off, it was written for other samples (before the last part was complete: the
# daemon still writing it), and the false clusters of the rest would be scored against no label.
DURATION_SLACK_S = 1.0


def parts_truth_path(files: Sequence[str | os.PathLike[str]]) -> Path:
    """The truth of a recording: one file's ``truth_path``; several parts of a boot (in index
    order) ``band-boot3-000-003.truth.json`` beside the first (its first and last part; never a
    part's own truth's name), ``<first stem>--<last stem>.truth.json`` for parts named otherwise."""
    if len(files) == 1:
        return truth_path(files[0])
    first, last = Path(files[0]), Path(files[-1])
    a, b = _PART_NAME.match(first.stem), _PART_NAME.match(last.stem)
    if a and b and a["boot"] == b["boot"]:
        return first.with_name(f"{first.stem}-{b['part']}.truth.json")
    return first.with_name(f"{first.stem}--{last.stem}.truth.json")


def check_parts(path: str, truth: dict[str, Any], files: Sequence[str], t0: float, t_end: float) -> None:
    """A truth for several parts must be of these parts: its ``parts`` (when it lists them: ``spasmwatch
    truth`` does) the files' names, and its times within their span [t0, t_end] (s); one file's is
    checked against that file (``check_span``)."""
    names = [os.path.basename(f) for f in files]
    listed = truth.get("parts")
    if listed is not None and listed != names:
        raise InputError(path, f"written for {', '.join(map(str, listed))}; given {', '.join(names)}: give the parts it was written for", field="parts")
    if len(files) < 2:
        check_span(path, truth, names[0], t0, t_end)
        return
    _check_within(path, truth, t0, t_end, "the parts hold",
                  "written before the last part was complete, or for other parts? Write it again for these",
                  f"the parts' {{span}} ({names[0]} .. {names[-1]}): a truth of other parts, or times not counted from "
                  "the first part's noon (its index_origin)")  # fmt: skip


def check_span(path: str, truth: dict[str, Any], recording: str, t0: float, t_end: float) -> None:
    """A truth for one recording must be of it: its ``duration_s`` the recording's (scoring counts
    false clusters per 24 h of it) and its times within [t0, t_end] (s). Found by the researcher
    audit: a truth of 2 h beside a CSV of 30 min was scored as 2 h ('evaluated 2.0 h', a false-alarm
    rate 4 times too low), and a spasm at 99999 s of it as missed, without a word."""
    name = os.path.basename(recording)
    _check_within(path, truth, t0, t_end, f"{name} holds",
                  "a truth written for another recording, or before this one was complete? Write it again for this one",
                  f"{name}'s {{span}}: a truth of another recording, or times not on its t")  # fmt: skip


def _check_within(path: str, truth: dict[str, Any], t0: float, t_end: float, holds: str, redo: str, outside: str) -> None:
    """The truth's ``duration_s`` is [t0, t_end]'s and its times lie in it, else an InputError:
    "``holds`` <s>: ``redo``" and "<t> lies outside ``outside``" (``{span}``: "<t0>-<t_end> s")."""
    if abs(truth["duration_s"] - (t_end - t0)) > DURATION_SLACK_S:
        raise InputError(path, f"{truth['duration_s']:.3f} s here, {holds} {t_end - t0:.3f} s: {redo} ('spasmwatch truth ... --force')",
                         field="duration_s")  # fmt: skip
    for field, t in _times(truth):
        if not t0 - _TIME_SLACK_S <= t <= t_end + _TIME_SLACK_S:
            raise InputError(path, f"{t:.3f} s lies outside {outside.replace('{span}', f'{t0:.3f}-{t_end:.3f} s')}", field=field)


def _times(truth: dict[str, Any]) -> list[tuple[str, float]]:
    """Every time the truth holds, with its field, in the order of TRUTH_FIELDS."""
    out = [(f"spasms[{i}].t", s["t"]) for i, s in enumerate(truth["spasms"])]
    for name in ("clusters", "not_worn"):
        out += [(f"{name}[{i}].{k}", c[k]) for i, c in enumerate(truth[name]) for k in ("start", "end")]
    return out + [(f"wake_onsets[{i}]", w) for i, w in enumerate(truth["wake_onsets"])]


def load_truth(recording: str | os.PathLike[str], path: Path | None = None) -> dict[str, Any]:
    """The checked truth beside ``recording`` (or at ``path``); InputError naming the file (and
    line or field) at fault."""
    path = truth_path(recording) if path is None else path
    try:
        # Bytes: JSON is UTF-8 (json finds UTF-16/32 by their bytes), whatever the locale's encoding.
        truth = _json(str(path), path.read_bytes())
    except FileNotFoundError:
        raise InputError(str(path), "ground truth file not found (expected beside the recording)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        line = bytes(exc.object[: exc.start]).count(b"\n") + 1
        raise InputError(str(path), f"byte 0x{exc.object[exc.start]:02x} is not UTF-8 text: JSON files are UTF-8", line=line) from None
    check_truth(str(path), truth)
    assert isinstance(truth, dict)
    return truth


def _json(path: str, data: bytes) -> Any:
    """``json.loads``, its failures that are no JSONDecodeError (``errors.parser_limit``) an InputError."""
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise  # load_truth names them
    except (RecursionError, ValueError) as exc:
        limit = parser_limit(data.decode("utf-8", "replace"), exc, "arrays or objects")
        if limit is None:
            raise
        raise InputError(path, f"not valid JSON: {limit[0]}", line=limit[1]) from None


def check_truth(path: str, truth: Any) -> None:
    """InputError naming the first field scoring needs and the truth file lacks."""
    if not isinstance(truth, dict):
        raise InputError(path, "not a JSON object")
    for name in TRUTH_FIELDS:
        if name not in truth:
            raise InputError(path, "missing", field=name)
    fields = {**TRUTH_FIELDS, **{k: v for k, v in OPTIONAL_TRUTH_FIELDS.items() if k in truth}}
    for name, (kind, item_fields) in fields.items():
        value = truth[name]
        if kind is float and not (_is_seconds(value) and value > 0):
            raise InputError(path, f"must be a positive number of seconds, not {said(value)}", field=name)
        if kind is list:
            if not isinstance(value, list):
                raise InputError(path, f"must be a list, not {type(value).__name__}", field=name)
            for i, item in enumerate(value):
                if not item_fields:  # a list of times (wake_onsets)
                    _check_value(path, f"{name}[{i}]", item, _SECONDS)
                for f in item_fields:
                    if not isinstance(item, dict) or f not in item:
                        raise InputError(path, "missing", field=f"{name}[{i}].{f}")
                    _check_value(path, f"{name}[{i}].{f}", item[f], ITEM_KINDS.get(f, ""))
                if isinstance(item, dict) and name == "clusters" and item.get("post_wake_s") is not None:
                    _check_value(path, f"{name}[{i}].post_wake_s", item["post_wake_s"], _SECONDS_OR_NULL)


def _check_value(path: str, field: str, value: Any, kind: str) -> None:
    """A value scoring compares: a finite number of seconds (never a bool or a string), or a flag."""
    if kind in (_SECONDS, _SECONDS_OR_NULL):
        if not _is_seconds(value):
            what = "a number of seconds or null" if kind == _SECONDS_OR_NULL else "a number of seconds"
            raise InputError(path, f"must be {what}, not {said(value)}", field=field)
    elif kind == _FLAG and not isinstance(value, bool):
        raise InputError(path, f"must be true or false, not {said(value)}", field=field)


def _is_seconds(value: Any) -> bool:
    """A number scoring can compare: an int or a float (never a bool), finite as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # a whole number no float holds (found by the hostile-input review)
        return False
