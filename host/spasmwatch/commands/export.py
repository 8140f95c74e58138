"""``spasmwatch export``: events, clusters, sleep/wake, notes and treatments of a device
and time range as CSV, JSONL, Parquet, EDF+ annotations or BIDS events.tsv; and
``spasmwatch export raw FILE.swraw --csv OUT.csv``: a raw recording as the replay CSV.

The store is opened read-only (docs/exports.md); progress goes to stderr on a terminal.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spasmwatch.clock import local_zone
from spasmwatch.errors import InputError, SpasmwatchError
from spasmwatch.export import FORMATS, Exported, Query, iso, parse_iso, run_export
from spasmwatch.export.columns import KINDS
from spasmwatch.export.coverage import HOUR_S, Segment
from spasmwatch.export.edfheader import offset_text
from spasmwatch.export.formats import SILENT_TEXT
from spasmwatch.export.participants import participant_id
from spasmwatch.export.timeline import check_kinds
from spasmwatch.export.store_source import DEFAULT_RATE_HZ, StoreSource
from spasmwatch.io import rawfile
from spasmwatch.io.rawboot import open_rawparts
from spasmwatch.io.limits import MAX_RATE_HZ, MIN_RATE_HZ
from spasmwatch.commands._args import add_strict, check_not_kept, zone
from spasmwatch.commands._daemon import add_store_args, resolve_device, store_path_of
from spasmwatch.commands._progress import Progress
from spasmwatch.commands._rawdamage import damage_notes, reading_past_damage
from spasmwatch.outfile import check_writable
from spasmwatch.words import either

if TYPE_CHECKING:
    from spasmwatch.store.rows import Linked

# Without --until: up to a day from now (anything the clock may still place).
_FUTURE_S = 86_400.0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export events, clusters, sleep/wake, notes and treatments (CSV, JSONL, Parquet, EDF+, BIDS)",
        description="Export one device's (or every device's) events for a time range. Times are UTC "
        "ISO 8601 and seconds from the recording start (--since, or the first row, rounded down to the "
        "second). Column meanings and units: docs/exports.md and the sidecar JSON written next to the file.",
    )
    p.add_argument("--format", choices=FORMATS, help="output format (default: from the --out suffix)")
    p.add_argument("--out", type=Path, help="output file (BIDS: <entities>_events.tsv)")
    p.add_argument("--device", help="a band's name or device id (default: every band)")
    p.add_argument("--since", help="start, ISO 8601 (no zone: local time); also the recording start")
    p.add_argument("--until", help="end (exclusive), ISO 8601; default: a day from now (all that is stored)")
    p.add_argument("--tz", help="time zone of the EDF+ start date/time, and of --since/--until without an offset, e.g. "
                   "Europe/Berlin; UTC for a UTC start (default: this computer's, as hospital EEG files give the ward's clock)")  # fmt: skip
    p.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)} (default: all of them)")
    p.add_argument("--patient", help="BIDS only: the participant's label, letters and digits (e.g. 01: participant_id sub-01; "
                   "a pseudonym, not a name): the events file must be named sub-01_..., and sub-01 is added to the "
                   "dataset's participants.tsv (default: no participant)")  # fmt: skip
    add_store_args(p)
    p.add_argument("--rate-hz", type=rate_hz, help=RATE_HELP)
    p.set_defaults(func=run)
    what = p.add_subparsers(dest="what", metavar="[raw FILE.swraw ...]")
    r = what.add_parser(
        "raw", help="convert a raw recording (.swraw) to the replay CSV",
        description="A raw recording the daemon kept (band raw = true) as the CSV 'spasmwatch replay' reads (docs/rawfile.md).",
    )  # fmt: skip
    r.add_argument("file", nargs="+", help="raw recording (.swraw); several parts of one band boot make one CSV, in index order")
    r.add_argument("--csv", type=Path, help="output CSV (default: FILE with .csv; needed with several parts)")
    r.add_argument("--force", action="store_true", help="replace an existing output CSV (without it, an existing one is refused)")
    add_strict(r)
    r.set_defaults(func=run_raw)


_SUFFIX_FORMAT = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet", ".edf": "edf", ".tsv": "bids"}
_FORMAT_SUFFIX = {fmt: suffix[1:] for suffix, fmt in _SUFFIX_FORMAT.items()}


def _format(args: argparse.Namespace) -> str:
    fmt = _SUFFIX_FORMAT.get(args.out.suffix.lower())
    if args.format:
        if fmt is not None and fmt != args.format:  # found by the researcher audit: a CSV written as y.parquet
            raise SpasmwatchError(
                f"--format {args.format} with --out {args.out.name}: {args.out.suffix} is the suffix of {fmt}, and a "
                f"tool opening the file by it would fail; name it .{_FORMAT_SUFFIX[args.format]}, or leave --format out"
            )
        return str(args.format)
    if fmt is None:
        suffixes = [f"{suffix} (bids)" if fmt == "bids" else suffix for suffix, fmt in _SUFFIX_FORMAT.items()]
        raise SpasmwatchError(f"--format is needed: cannot tell the format from {args.out.name!r}: give --format "
                              f"{either(list(FORMATS))}, or an --out ending {either(suffixes)}")  # fmt: skip
    return fmt


def query(args: argparse.Namespace, tz: tzinfo) -> Query:
    """The rows asked for; ``--since``/``--until`` without an offset are in ``tz``."""
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    try:  # checked here to name the option: Query's own message cannot (found by the docs run)
        check_kinds(kinds)
    except ValueError as exc:
        raise SpasmwatchError(f"--kinds: {exc}") from exc
    try:
        since = parse_iso(args.since, "--since", tz) if args.since else 0.0
        until = parse_iso(args.until, "--until", tz) if args.until else time.time() + _FUTURE_S
        if not since < until:  # named by the options, as events and clusters do (input audit)
            raise ValueError(f"--since {args.since or '(none)'} is not before --until {args.until or '(none: a day from now)'}: an empty time range")
        return Query(args.device, since, until, kinds)
    except ValueError as exc:
        raise SpasmwatchError(str(exc)) from exc


def rate_hz(text: str) -> float:
    """--rate-hz: a sample rate a band can have (nan and inf went on to a traceback, 0 or less to
    a silently different wake/sleep; found by the docs run)."""
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:  # nan fails too
        raise argparse.ArgumentTypeError(f"expected a sample rate in Hz, {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g}, got {text!r}")
    return rate


RATE_HELP = f"band IMU rate for the epochs' activity threshold (default: each band's as it reported it, else {DEFAULT_RATE_HZ:g})"


def open_source(args: argparse.Namespace) -> StoreSource:
    """The store (--db / --config) read-only; a ``--device`` it has never seen is an error (a
    typo would give an export or report with nothing of the band in it)."""
    path = store_path_of(args)
    if not path.exists():
        raise InputError(str(path), "no such store (give --db, or run the daemon first)")
    source = StoreSource.open(path, args.rate_hz)
    try:
        resolve_device(source.store, args, str(path))  # a band's name: its id in args.device from here
    except SpasmwatchError:
        source.close()
        raise
    return source


def run(args: argparse.Namespace) -> int:
    if args.out is None:
        raise SpasmwatchError("--out is required")
    # The EDF+ start's wall clock, and the zone of --since/--until without an offset, as in 'report':
    # one zone for both, so a --since typed from the ward's clock is the header's start.
    tz = zone(args.tz)
    q, fmt = query(args, tz), _format(args)
    participant = _participant(args, fmt)
    source = open_source(args)
    q = replace(q, device=args.device)  # a band's name given: its id
    progress = Progress[int](lambda n: f"{n} rows") if sys.stderr.isatty() else None
    try:
        done = run_export(source, q, fmt, args.out, q.since if args.since else None, progress, participant, tz)
        notes = [unplaced_note(source.store.unplaced_events(args.device)), linked_note(source.store.linked_events(args.device))] if "spasm" in q.kinds else []
    finally:
        source.close()
    if progress is not None:
        progress.end()
    print(f"{args.out}: {done.rows} rows ({fmt})", file=sys.stderr)
    if fmt == "edf" and "disconnected" in q.kinds:
        notes += [silent_note(s, done.bands_named) for s in done.silent]
    if done.changes:
        notes.append(dst_note(done))
    for note in notes:
        if note:
            print(note, file=sys.stderr)
    return 0


def silent_note(s: Segment, band_named: bool = False) -> str:
    """A band's silence up to the export's time, which the EDF+ file does not run on for (export/edf.py):
    it ends at the last thing heard of any band, this band's silence or a later row of another's.
    ``band_named``: the file's annotations end with their band's id (formats.names_bands)."""
    from spasmwatch.export.edf import with_band  # pyedflib: an EDF+ export's alone (the file is written)

    days = (s.end - s.t) / (24 * HOUR_S)
    said = with_band(SILENT_TEXT, s.device) if band_named else SILENT_TEXT
    return (
        f"note: {s.device} not heard from {iso(s.t)} up to this export ({days:.1f} days): the EDF+ file has "
        f"'{said}' at that time with no duration and does not run on to now for it (the other formats give "
        "the span up to now); --until gives the range an end, and the file runs to it"
    )


def dst_note(done: Exported) -> str:
    """The zone's offset changes within an EDF+ file (found by the researcher review): its header
    holds the wall time at its start, its onsets are seconds from it, so an EEG that starts after a
    change, its header on the ward's clock, lines up an hour off by the two start times."""
    assert done.start is not None and done.zone is not None
    start_offset = done.changes[0][1]
    name = getattr(done.zone, "key", None) or "this computer's zone"
    each = "; ".join(
        f"at {iso(t)} ({offset_text(before)} to {offset_text(after)}), {(t - done.start) / HOUR_S:.1f} h after its start: "
        f"an EEG starting after that gets these annotations {_off(start_offset - after)}"
        for t, before, after in done.changes
    )
    return (
        f"note: the clocks in {name} changed within this EDF+ file, whose header holds the wall time at its start "
        f"({offset_text(start_offset)}) and whose onsets are seconds from it: {each}, lined up with an EEG whose header "
        f"is on the ward's clock by the two start times (as MNE's read_raw_edf and set_annotations do). Export each "
        f"EEG's recording on its own, --since its start and --until its end, or give --tz UTC for an EEG whose header "
        f"holds UTC (docs/exports.md, EDF+)"
    )


def _off(shift: timedelta) -> str:
    """How annotations land in an EEG whose header's offset is ``shift`` less than this file's."""
    hours = shift / timedelta(hours=1)
    return "at their times" if hours == 0 else f"{abs(hours):.1f} h {'late' if hours > 0 else 'early'}"


def _participant(args: argparse.Namespace, fmt: str) -> str | None:
    """--patient as a BIDS participant_id (None: not given). Only the BIDS export has a participant:
    given with another format it would be dropped without a word."""
    if args.patient is None:
        return None
    if fmt != "bids":
        raise SpasmwatchError(f"--patient: only the BIDS export has a participant (participants.tsv); the {fmt} export has none: leave --patient out")
    return participant_id(args.patient)


def unplaced_note(boots: list[tuple[str, int, int]], what: str = "the export") -> str | None:
    """What an export (or the report, ``what``) otherwise leaves out without a word (found by the
    researcher audit): the events of a band boot that never got a time sync have no wall time, so
    no range holds them."""
    if not boots:
        return None
    where = ", ".join(f"{device} boot {boot}: {n}" for device, boot, n in boots)
    return (
        f"note: {sum(n for _, _, n in boots)} spasm event(s) are not in {what}: their band boot never got a time "
        f"sync, so they have no wall time ({where}; the band rebooted while out of range, docs/host.md); the store keeps them"
    )


def linked_note(boots: Sequence[Linked]) -> str | None:
    """The stored spasms placed through the band's reset links (``Store.linked_events``; in the
    range or not, as ``unplaced_note``): their band boot got no time sync of its own, so they are
    dated from a boot that did, within the links' error."""
    if not (n := sum(b.events for b in boots)):
        return None
    where = "; ".join(f"{b.device} boot {b.boot}: {b.events}, from boot {b.via} through {b.hops} link(s), +-{b.err_s:.3f} s" for b in boots)
    return (
        f"note: {n} spasm event(s) are dated through the band's reset links, not by a time sync of their "
        f"own band boot: within +-{max(b.err_s for b in boots):.3f} s of their time ({where}; docs/host.md)"
    )


def run_raw(args: argparse.Namespace) -> int:
    if args.csv is None and len(args.file) > 1:
        raise SpasmwatchError(f"--csv is needed to convert {len(args.file)} parts into one CSV")
    out = args.csv if args.csv is not None else rawfile.default_csv_path(args.file[0])
    # The input first (its header and first chunk: quick): a CSV given as FILE is its own default
    # output, and was said as 'is the raw recording being converted: choose another --csv' (CLI input audit).
    rec = open_rawparts(args.file, 1 << 18, args.strict)
    check_writable(out, "--csv")
    if any(out.resolve() == Path(f).resolve() for f in args.file):
        raise InputError(str(out), "is the raw recording being converted: choose another --csv")
    check_not_kept(out, "--csv")
    # Found by the docs run: 'export raw rec.swraw' replaced a rec.csv recording. The CSV's header is
    # a recording's (t,ax,...), so an earlier conversion cannot be told apart: only --force replaces.
    if out.exists() and not args.force:
        raise InputError(str(out), "exists and may be a recording (same header): not written over; --force replaces it, or choose another --csv")
    # On a terminal, how far it has got: a day's part at 100 Hz takes 40 s or more, a week's parts minutes.
    progress = Progress[float](lambda s: f"{rec.name}: {s / 3600:.1f} h converted")
    with reading_past_damage(), progress:
        n, filled = rawfile.to_csv(rec, out, progress=progress if sys.stderr.isatty() else None)
    damaged = rec.read_gaps.damaged_missing
    where = f"; {damaged} of those where the .swraw is damaged, said below" if damaged else ""
    gaps = f", {filled} of them filling gaps (last sample held{where})" if filled else ""
    print(f"{out}: {n} samples{gaps}", file=sys.stderr)
    for line in damage_notes(rec, "written as a gap (the last sample held)"):
        print(line, file=sys.stderr)
    # The CSV's t carries no wall time (its contract): what 'truth --wall-clock' needs to date it.
    # In this computer's zone as the other commands read it (local_zone), not C's: it keeps the zone it first read.
    start = datetime.fromtimestamp(rec.wall_at(0.0), local_zone()).isoformat(timespec="milliseconds")
    print(f"t = 0 s is {start} (the band's dating): label it on a video's clock with "
          f"'spasmwatch truth {shlex.quote(str(out))} EVENTS.tsv --wall-clock --start {start}'", file=sys.stderr)  # fmt: skip
    drift = _drift_note(rec, n)
    if drift:
        print(drift, file=sys.stderr)
    return 0


def _drift_note(rec: rawfile.RawRecording, n: int) -> str:
    """How far the band's measured rate is from the nominal one the CSV's t counts at: '' unmeasured, or
    when over the ``n`` samples the CSV's t and the wall part by less than a sample (it said "the IMU
    ran at 50.00 Hz, not 50: ... 0.00 % fast of the wall (0 s an hour)" of a band at its nominal rate)."""
    if not rec.dating.points:
        return ""
    measured, nominal = rec.dating.rate_hz(), rec.rate_hz
    if abs(measured / nominal - 1.0) * n < 1.0:
        return ""
    pct = (measured / nominal - 1.0) * 100.0
    way = "fast" if pct > 0 else "slow"
    files = "the .swraw parts" if len(rec.files) > 1 else "the .swraw"
    return (f"the band's IMU ran at {measured:.2f} Hz, not {nominal:g}: the CSV's t runs {abs(pct):.2f} % {way} of the "
            f"wall ({abs(pct) * 36:.0f} s an hour); label {files} with --wall-clock, not the CSV: they carry the measured dating")  # fmt: skip
