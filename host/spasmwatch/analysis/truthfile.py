"""The ground-truth file beside a recording (``X.csv`` -> ``X.truth.json``).

Both simulators write it, ``spasmwatch truth`` writes it from video labels,
and ``spasmwatch evaluate`` reads it. What scoring reads of it is checked
here (docs/detector.md, "Scoring your own recordings").
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from spasmwatch.errors import InputError

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


def load_truth(recording: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked truth beside ``recording``; InputError naming the file (and line or field) at fault."""
    path = truth_path(recording)
    try:
        # Bytes: JSON is UTF-8 (json finds UTF-16/32 by their bytes), whatever the locale's encoding.
        truth = json.loads(path.read_bytes())
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
        if kind is float and not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
            raise InputError(path, f"must be a positive number of seconds, not {value!r}", field=name)
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
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            what = "a number of seconds or null" if kind == _SECONDS_OR_NULL else "a number of seconds"
            raise InputError(path, f"must be {what}, not {value!r}", field=field)
    elif kind == _FLAG and not isinstance(value, bool):
        raise InputError(path, f"must be true or false, not {value!r}", field=field)
