"""Writers: CSV, JSON Lines, Parquet, EDF+ annotations, BIDS events.tsv + sidecar.

Every writer takes the rows of ``timeline`` (already relative to the
recording start) and writes them as they come: CSV and JSONL line by line,
Parquet by row groups of ``BATCH_ROWS``. EDF+ is the exception: the EDF
library (edflib, under pyedflib) holds annotations until the file is closed,
a few hundred bytes each.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from spasmwatch import __version__, private
from spasmwatch.clock import local_zone
from spasmwatch.errors import SpasmwatchError
from spasmwatch.export import participants
from spasmwatch.export.columns import COLUMNS, FREE_TEXT, KINDS, NAMES, TIMESTAMPS
from spasmwatch.export.coverage import Coverage
from spasmwatch.export.timeline import Query, Row, iso
from spasmwatch.outfile import whole_file, whole_path
from spasmwatch.words import one_line

FORMATS = ("csv", "jsonl", "parquet", "edf", "bids")
BATCH_ROWS = 10_000


class ExportError(SpasmwatchError):
    """An export could not be written."""


@dataclass(frozen=True)
class Meta:
    query: Query
    start: float | None  # recording start, unix s (None: nothing to export)
    # No --since: the query starts at 0 (1970-01-01), which the sidecar said as the range's start
    # (found by an audit); the range then starts at the recording start, the first row's second.
    from_first_row: bool = False
    # The range's recorded, worn and monitored hours and lost events (None: not computed, a test's Meta).
    coverage: Coverage | None = None
    # BIDS only: the participant_id ('sub-01', export --patient; export/participants.py), None: none given
    participant: str | None = None
    # EDF+ only: the zone whose wall time the header's start is (None: this computer's, local_zone);
    # every other format gives UTC.
    zone: tzinfo | None = None
    # (device, onset_utc) of the disconnected rows that run to the export's time (coverage.silent_to_now):
    # EDF+ ends its file before them.
    silent: frozenset[tuple[str, str]] = frozenset()

    @property
    def range_start(self) -> float | None:
        """Where the exported range starts: --since, else the recording start (None: nothing exported).
        '--since RangeStartUTC --until RangeEndUTC' exports the same rows, with the same onset_s."""
        return self.start if self.from_first_row else self.query.since


Progress = Callable[[int], None]


def describe(r: Row) -> str:
    """A one-line human description: the EDF+ annotation text and the BIDS ``value`` (``one_line``
    makes it one line)."""
    kind = r["kind"]
    if kind == "cluster":
        label = f" ({r['label']})" if r["label"] else ""
        return f"cluster of {r['count']} spasms{label}"
    if kind == "note":
        return f"note ({r['note_kind']}): {r['text']}"
    if kind == "treatment":
        dose = f" {r['dose']:g}" if isinstance(r["dose"], float | int) else ""
        unit = f" {r['unit']}" if r["unit"] else ""
        return f"{r['drug']} {r['action']}{dose}{unit}"
    if kind == "spasm" and r["matched"]:
        return "spasm (matched)"
    if kind == "lost":
        first = r["seq"]
        last = first + r["count"] - 1 if isinstance(first, int) and isinstance(r["count"], int) else "?"
        return f"{r['count']} events lost (seq {first}-{last})"
    if kind == "not_worn":
        return "band not worn"
    if kind == "disconnected":
        return "band not heard (disconnected)"
    return str(kind)


# The EDF+ text of a band's silence up to the export's time: at its last epoch, with no duration.
SILENT_TEXT = "band not heard since (disconnected)"


def sidecar(meta: Meta, fmt: str) -> dict[str, Any]:
    """Export-level facts and every column's meaning and units (BIDS sidecar style)."""
    q = meta.query
    doc: dict[str, Any] = {
        "GeneratedBy": [{"Name": "spasmwatch", "Version": __version__}],
        "Format": fmt,
        "Device": q.device if q.device is not None else "all",
        "RangeStartUTC": iso(meta.range_start) if meta.range_start is not None else None,
        "RangeEndUTC": iso(q.until),
        "RecordingStartUTC": iso(meta.start) if meta.start is not None else None,
        # What a rate is divided by (researcher audit: no export said when the band was worn).
        "Coverage": meta.coverage.doc() if meta.coverage is not None else None,
        "Description": "spasmwatch screening log (infantile spasm monitor): events detected from a "
        "movement band. A screening and logging aid, not a diagnosis.",
    }
    doc["FormulaCells"] = FORMULA_RULE  # (in every format's: a CSV and a JSONL of the same rows share theirs)
    for c in COLUMNS + (TIMESTAMPS if fmt == "parquet" else ()):
        entry: dict[str, Any] = {"Description": c.description}
        if c.units:
            entry["Units"] = c.units
        if c.name == "kind":
            entry["Levels"] = {k: k for k in KINDS}
        doc[c.name] = entry
    return doc


def sidecar_path(out: Path) -> Path:
    """``events.csv`` -> ``events.json`` (``x_events.tsv`` -> ``x_events.json`` for BIDS)."""
    return out.with_suffix(".json")


def _json_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _counted(rows: Iterable[Row], progress: Progress | None) -> Iterator[Row]:
    for n, r in enumerate(rows, 1):
        yield r
        if progress is not None and n % 1000 == 0:
            progress(n)


# A text a spreadsheet (Excel, LibreOffice: they open a .csv or .tsv without asking) takes for a formula
# and runs (OWASP, "CSV Injection"): '=HYPERLINK(...)' a link that sends the sheet's cells away, '=cmd|...'
# a program (DDE). Such a text of a free-text column (columns.Column.free_text) is written in the CSV and
# BIDS exports with a ' in front; so is one that begins with ' itself, so that one leading ' taken off
# gives every text back as typed (docs/exports.md, "Spreadsheets"). Never a number, time or id.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
FORMULA_RULE = (
    f"CSV and BIDS exports: a text of the columns {', '.join(sorted(FREE_TEXT))} (BIDS: and value) that begins with "
    "= + - @, a tab, a carriage return or ' is written with a ' in front, so that a spreadsheet shows it as text and "
    "never runs it as a formula: one leading ' taken off gives the text as typed. Numbers, times and ids are never "
    "changed; JSON Lines, Parquet and EDF+ keep every text as typed."
)


def spreadsheet_text(text: str) -> str:
    """``text`` as a free-text cell of a CSV or BIDS export (FORMULA_STARTS)."""
    return TEXT_MARK + text if text.startswith((*FORMULA_STARTS, TEXT_MARK)) else text


def write_csv(out: Path, rows: Iterable[Row], progress: Progress | None = None) -> int:
    n = 0
    line = _Line()
    # A line ends in "\n", as ever; the writer is told "\r\n" so that it quotes a cell with a carriage
    # return as one with a line break (RFC 4180). With "\n" Python's csv.writer (3.11) left a carriage
    # return alone bare: pyarrow (and a spreadsheet) starts a row there, so a note's text after one was a row's
    # first cell (a formula again: 'seen' CR '=HYPERLINK(...)') and every cell after it a column off.
    w = csv.writer(line, lineterminator="\r\n")
    with open(out, "w", encoding="utf-8", newline="") as f:
        w.writerow(NAMES)
        f.write(line.ended())
        for n, r in enumerate(_counted(rows, progress), 1):
            w.writerow([_text_cell(r[k], k in FREE_TEXT) for k in NAMES])
            f.write(line.ended())
    return n


class _Line:
    """The file csv.writer writes a row into: one line, handed on ending in "\n" (``write_csv``)."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text

    def ended(self) -> str:
        return self.text[:-2] + "\n"


def _text_cell(v: object, free: bool) -> object:
    """A CSV cell's value: "" for none, a free text's by ``spreadsheet_text``."""
    if v is None:
        return ""
    return spreadsheet_text(v) if free and isinstance(v, str) else v


def write_jsonl(out: Path, rows: Iterable[Row], progress: Progress | None = None) -> int:
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        for n, r in enumerate(_counted(rows, progress), 1):
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    return n


def write_parquet(out: Path, rows: Iterable[Row], meta: Meta, progress: Progress | None = None) -> int:
    from spasmwatch.export import arrow

    return arrow.write_parquet(out, _counted(rows, progress), sidecar(meta, "parquet"), BATCH_ROWS)


def edf_start(out: Path, meta: Meta) -> float:
    """The EDF+ file's start date/time. An EDF+ header must carry one and EEG viewers line the
    annotations up with an EEG by it: with no rows and no --since there is none to give, and a
    made-up one (1970, or today) would put the file on the wrong night, so that is refused."""
    if meta.start is None:
        raise ExportError(
            f"{out}: nothing to export and no --since: an EDF+ file needs the date/time its recording starts "
            "(--since, else the first row's), and there is no row to take it from; give --since "
            "(the start of the EEG it goes with) to write an EDF+ file with no annotations"
        )
    return meta.start


def edf_zone(meta: Meta) -> tzinfo:
    """The zone whose wall time the EDF+ header's start is: --tz, else this computer's."""
    return local_zone() if meta.zone is None else meta.zone


def names_bands(meta: Meta) -> bool:
    """Whether an EDF+ file's annotations name their band (``edf.with_band``): more than one band was
    heard in the range (twins, a band replaced). Found by the researcher's hostile review of
    2026-12-07: one band's 'band not worn' read as the child's only band off, beside the other's spasms."""
    return meta.query.device is None and meta.coverage is not None and len(meta.coverage.by_device) > 1


def write_edf(out: Path, rows: Iterable[Row], meta: Meta, progress: Progress | None = None) -> int:
    from spasmwatch.export import edf

    zone = edf_zone(meta)

    def silent(r: Row) -> bool:
        return r["kind"] == "disconnected" and (r["device"], r["onset_utc"]) in meta.silent

    several = names_bands(meta)

    def text(r: Row) -> str:
        said = SILENT_TEXT if silent(r) else one_line(describe(r))
        return edf.with_band(said, str(r["device"])) if several and r["device"] else said

    return edf.write_annotations(out, _counted(rows, progress), edf_start(out, meta), zone, text, silent)


# BIDS: the four standard columns first, then ours (onset/duration/kind are not repeated).
BIDS_EXTRA = tuple(n for n in NAMES if n not in ("onset_s", "duration_s", "kind"))
BIDS_COLUMNS = ("onset", "duration", "trial_type", "value") + BIDS_EXTRA


def bids_path(out: Path) -> Path:
    if not out.name.endswith("_events.tsv"):
        raise ExportError(f"{out}: a BIDS events file is named '<entities>_events.tsv' (e.g. sub-01_task-sleep_events.tsv)")
    return out


# BIDS: 'n/a' is a missing value. A text that is itself 'n/a' (a caregiver's note) is written in
# single quotes so it is not read as none (researcher audit: the two looked the same); double
# quotes would be taken off by CSV readers (pandas) and the cell read as missing again.
BIDS_MISSING = "n/a"
BIDS_LITERAL_MISSING = "'n/a'"


def _tsv_cell(v: object, free: bool = False) -> str:
    """``free``: a free text's (``spreadsheet_text``; 'n/a' itself is written 'n/a', as above)."""
    text = "" if v is None else one_line(v) if isinstance(v, str) else str(v)
    if not text:  # also a text of control characters only, once on one line
        return BIDS_MISSING
    if text == BIDS_MISSING:
        return BIDS_LITERAL_MISSING
    return spreadsheet_text(text) if free else text


def write_bids(out: Path, rows: Iterable[Row], progress: Progress | None = None) -> int:
    n = 0
    with open(out, "w", encoding="utf-8", newline="") as f:  # named as BIDS asks: checked by export()
        f.write("\t".join(BIDS_COLUMNS) + "\n")
        for n, r in enumerate(_counted(rows, progress), 1):
            cells = [_tsv_cell(r["onset_s"]), _tsv_cell(r["duration_s"]), _tsv_cell(r["kind"]), _tsv_cell(describe(r), free=True)]
            f.write("\t".join(cells + [_tsv_cell(r[k], k in FREE_TEXT) for k in BIDS_EXTRA]) + "\n")
    return n


def bids_sidecar(meta: Meta) -> dict[str, Any]:
    """Column descriptions only: BIDS reads every key of an events.json as a column's, and the
    validator refused the export-level facts ``sidecar`` puts beside them ("GeneratedBy should be
    object", found by tests/export/test_research_tools.py). The recording start is told in
    ``onset``'s description, the rest (tool, band, range) in ``trial_type``'s."""
    doc = sidecar(meta, "bids")
    cols = {k: doc[k] for k in NAMES}
    start = doc["RecordingStartUTC"] or "none: nothing was exported"
    bands = "all bands" if meta.query.device is None else f"band {meta.query.device}"
    if meta.participant is not None:
        bands = f"participant {meta.participant}, {bands}"
    since = doc["RangeStartUTC"]
    span = f"{since} to {doc['RangeEndUTC']}" if since else f"up to {doc['RangeEndUTC']} (nothing was exported)"
    out: dict[str, Any] = {
        "onset": {**cols["onset_s"], "Description": f"Onset in seconds from the recording start, {start} (UTC): "
                  "the start of the recording this file accompanies (spasmwatch export --since)."},
        "duration": cols["duration_s"],
        "trial_type": {**cols["kind"], "LongName": "Event kind", "Description": f"{cols['kind']['Description']} "
                       f"{BIDS_ORIGIN} {__version__} from {bands}, "
                       f"{span} (UTC). {meta.coverage.sentence() + ' ' if meta.coverage else ''}{doc['Description']}"},
        "value": {"Description": f"Human-readable description of the event (also the EDF+ annotation text). {_MARKED}"},
    }
    for k in BIDS_EXTRA:
        out[k] = {**cols[k], "Description": f"{cols[k]['Description']} {_LITERAL} {_MARKED}"} if k in FREE_TEXT else cols[k]
    return out


# A free-text column's rule (FORMULA_RULE), in its BIDS description: a BIDS events.json holds columns alone.
_MARKED = "A text that begins with = + - @ or ' has a ' in front (a spreadsheet would run it as a formula): one leading ' off gives it as typed."
# And its n/a (_tsv_cell), said first: a cell 'n/a' is the text n/a, not n/a' (found by review: a drug, unit
# or name typed as n/a is written so too, and only the text column's description said it).
_LITERAL = f"n/a: none; a text that is itself n/a is written {BIDS_LITERAL_MISSING}, in single quotes."


# How a BIDS events.json an export wrote says so (it has no room for GeneratedBy), in trial_type's description.
BIDS_ORIGIN = "Exported by spasmwatch"


# How each format's file begins (its first line, or for EDF+ the recording field), so an
# export writes over an earlier export only. Prefixes: columns are only ever added at the end.
_CSV_HEAD = "onset_utc,onset_s,duration_s,kind,"
_BIDS_HEAD = "onset\tduration\ttrial_type\tvalue\tonset_utc\t"


def _is_export(fmt: str, path: Path) -> bool:
    """Whether the file at ``path`` is one an export (or its sidecar, ``fmt`` "json") wrote."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return True  # nothing readable to keep: the write says what is wrong
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    if not head or fmt == "csv" and first.startswith(_CSV_HEAD) or fmt == "bids" and first.startswith(_BIDS_HEAD):
        return True
    if fmt == "edf":
        return b"spasmwatch" in head[88:168]  # EDF+ recording field: setEquipment("spasmwatch")
    if fmt == "parquet":
        from spasmwatch.export import arrow

        return arrow.is_export(path)
    try:
        doc = json.loads(first if fmt == "jsonl" else head)
    except ValueError:
        return False
    if fmt == "jsonl":
        return isinstance(doc, dict) and {"onset_utc", "kind"} <= doc.keys()
    if not isinstance(doc, dict):
        return False
    trial_type = doc.get("trial_type")
    if isinstance(trial_type, dict) and BIDS_ORIGIN in str(trial_type.get("Description", "")):
        return True  # a BIDS events.json
    return any(g.get("Name") == "spasmwatch" for g in doc.get("GeneratedBy", []) if isinstance(g, dict))


# The suffix of each format that writes a sidecar: the data file an earlier sidecar describes.
SIDECAR_SUFFIX = {"csv": ".csv", "jsonl": ".jsonl", "bids": ".tsv"}


def _sidecar_doc(path: Path) -> tuple[str, dict[str, Any]] | None:
    """(format, content) of the export whose sidecar ``path`` is (an export's sidecar, checked before)."""
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    trial_type = doc.get("trial_type")
    if isinstance(trial_type, dict) and BIDS_ORIGIN in str(trial_type.get("Description", "")):
        return "bids", doc
    fmt = doc.get("Format")
    return (fmt, doc) if isinstance(fmt, str) else None


# What may differ between the sidecars of a CSV and a JSONL export of the same rows: the format,
# the range's end (without --until a day from now, a little later at each export), and so its
# coverage (a band not heard now is disconnected up to each export's time: export/coverage.py).
_SIDECAR_FREE = ("Format", "RangeEndUTC", "Coverage")


def _same_rows(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def kept(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in _SIDECAR_FREE}

    return kept(a) == kept(b)


def _check_sidecar_owner(fmt: str, out: Path, meta: Meta) -> None:
    """A sidecar is shared by every file of its stem ('out.csv' and 'out.jsonl' both have 'out.json'):
    an export of another format must not replace the one that describes a file still there (found
    by the researcher audit: 'out.csv --since 06:10' then 'out.jsonl --since 06:00' left out.csv's
    onset_s counted from 06:10 beside a sidecar saying RecordingStartUTC 06:00; and a CSV beside a
    BIDS events.tsv replaced its events.json with keys the BIDS validator refuses). A CSV and a
    JSONL export of the same range describe the same rows: the second is written."""
    side = sidecar_path(out)
    found = _sidecar_doc(side) if side.is_file() else None
    if found is None or found[0] == fmt or found[0] not in SIDECAR_SUFFIX:
        return
    other, doc = found
    described = out.with_suffix(SIDECAR_SUFFIX[other])
    if described == out or not described.is_file():
        return
    if "bids" not in (fmt, other) and _same_rows(doc, sidecar(meta, fmt)):
        return
    raise ExportError(
        f"{side}: is the sidecar of {described} (an earlier {other} export: its recording start, range and columns); "
        f"the {fmt} export to {out} would replace it: choose another --out, or delete {described} and {side} first"
    )


def _check_replaceable(fmt: str, out: Path, meta: Meta) -> None:
    """An export writes over an earlier export (the same range again) and nothing else: found by
    the docs run, '--out rec.csv' replaced a recording, and a sidecar someone's own JSON."""
    kept = [(fmt, out)] + ([("json", sidecar_path(out))] if fmt in SIDECAR_SUFFIX else [])
    for kind, path in kept:
        if path.exists() and not _is_export(kind, path):
            raise ExportError(f"{path}: exists and is not an earlier spasmwatch export: not written over (choose another --out)")
    if fmt in SIDECAR_SUFFIX:
        _check_sidecar_owner(fmt, out, meta)


def export(fmt: str, out: Path, rows: Iterable[Row], meta: Meta, progress: Progress | None = None) -> int:
    """Write ``rows`` to ``out`` in ``fmt`` (plus its sidecar); returns the number of rows."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt in ("csv", "jsonl", "bids") and sidecar_path(out) == out:
        raise ExportError(f"{out}: its .json sidecar would overwrite it: name the {fmt} file .{'tsv' if fmt == 'bids' else fmt}")
    _check_replaceable(fmt, out, meta)
    if fmt == "edf":
        edf_start(out, meta)  # before anything is written
    if fmt == "bids":
        bids_path(out)
        if meta.participant is not None:
            participants.check_participants(out, meta.participant)
    try:
        private.make_dirs(out.parent)  # the user's alone, as the files in them
    except OSError as exc:
        raise ExportError(f"{out}: cannot create its folder: {exc.strerror or exc}") from exc
    # Written beside ``out`` and renamed onto it once complete (found by the input audit: ^C or an
    # error part-way left a cut file, which the next export took for an earlier one, and none
    # was told). Its sidecar is put in place just before it, whole too.
    with whole_path(out, f"the {fmt} export") as part:
        n = _export(fmt, part, rows, meta, progress)
        if fmt in ("csv", "jsonl", "bids"):
            with whole_file(sidecar_path(out), "the sidecar") as f:
                f.write(_json_text(bids_sidecar(meta) if fmt == "bids" else sidecar(meta, fmt)).encode())
    if fmt == "bids" and meta.participant is not None:
        participants.add_participant(out, meta.participant)
    return n


def _export(fmt: str, out: Path, rows: Iterable[Row], meta: Meta, progress: Progress | None) -> int:
    if fmt == "parquet":
        return write_parquet(out, rows, meta, progress)
    if fmt == "edf":
        return write_edf(out, rows, meta, progress)
    if fmt == "bids":
        return write_bids(out, rows, progress)
    return write_csv(out, rows, progress) if fmt == "csv" else write_jsonl(out, rows, progress)
