"""``spasmwatch replay FILE.csv [--jsonl]``: run a recording through the detector.

``spasmwatch replay PART.swraw PART.swraw ...``: the parts of one band boot as one recording
(``io.rawboot``).

Output follows the replay contract (docs/engineering.md, "Design notes"): with ``--jsonl`` one
JSON object per line, in the order the live system would have decided them;
without it, a readable table and a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TextIO

from spasmwatch.analysis.pipeline import Record
from spasmwatch.analysis.replay import Block, CountBlock, replay
from spasmwatch.clock import said_zone_of, wall_text
from spasmwatch.commands._args import add_strict, whole_number, zone as computer_zone
from spasmwatch.commands._progress import Progress
from spasmwatch.commands._rawdamage import damage_notes, reading_past_damage
from spasmwatch.errors import SpasmwatchError
from spasmwatch.export.timeline import iso
from spasmwatch.io.csvread import Recording, open_recording
from spasmwatch.io.rawboot import open_recordings
from spasmwatch.io.rawfile import RawRecording
from spasmwatch.io.limits import CHUNK_ROWS, MAX_CHUNK_ROWS, UNIX_T_FROM_S
from spasmwatch.io.units import GyroUnitsWarning


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="run a recorded CSV (t,ax,ay,az[,gx,gy,gz]) through the spasm detector",
        description="Replay a recording (header t,ax,ay,az,gx,gy,gz; seconds, g, deg/s; "
        "gyro columns optional) through the band's detector, clustering and sleep/wake "
        "estimation, causally, as the live system would.",
    )
    p.add_argument(
        "file",
        nargs="+",
        help="recording CSV or raw recording (.swraw); several .swraw parts of one band boot "
        "(e.g. raw/band-boot3-*.swraw) are replayed as one recording, in index order",
    )
    p.add_argument("--jsonl", action="store_true", help="one JSON object per line (the replay contract)")
    p.add_argument(
        "--gyro-units-ok",
        action="store_true",
        help="the gyro is in deg/s: do not warn when its turns look too small for the accelerometer's (rad/s)",
    )
    p.add_argument("--chunk-rows", type=whole_number(1, MAX_CHUNK_ROWS), default=CHUNK_ROWS, help=f"rows per processing chunk (bounds memory; default {CHUNK_ROWS}, at most {MAX_CHUNK_ROWS})")
    add_strict(p)
    p.set_defaults(func=run)


# Bands carry a gyro; recordings from elsewhere may not. Measured on both simulators
# (docs/detector.md): several times the false clusters, and fewer clusters found.
ACCEL_ONLY_NOTE = (
    "{path}: no gyro columns: the detector runs on the accelerometer alone, which finds fewer "
    "clusters and raises several times more false ones (docs/detector.md, 'Accel only')"
)


def records(path: str, chunk_rows: int = CHUNK_ROWS) -> Iterator[Record]:
    return replay_recording(open_recording(path, chunk_rows=chunk_rows))


def replay_recording(rec: Recording | RawRecording, progress: Progress[float] | None = None) -> Iterator[Record]:
    """The recording's records; ``progress`` is told the seconds replayed after each chunk."""
    blocks: Iterator[Block | CountBlock]
    if isinstance(rec, RawRecording) and rec.band_units:  # no round trip through floats
        blocks = (CountBlock(t, c) for t, c in rec.counts())
    else:
        blocks = (Block(c.t, c.acc, c.gyro) for c in rec.chunks())
    return replay(blocks if progress is None else _told(blocks, rec.t0, progress), rec.rate_hz, rec.has_gyro)


def _told(blocks: Iterator[Block | CountBlock], t0: float, progress: Progress[float]) -> Iterator[Block | CountBlock]:
    for b in blocks:
        yield b
        progress(float(b.t[-1]) - t0)  # asked for the next: this one is replayed


def gaps_note(rec: RawRecording) -> str | None:
    """What a raw file's gaps mean for its replay (None: no gap), as its read found them: those
    around damage read past apart."""
    g = rec.read_gaps
    if not g.gaps:
        return None
    parts = f" ({g.between} between parts, e.g. a part not given)" if g.between else ""
    why = ("dropped by the band, lost on the radio, or not kept while the daemon paused raw recording "
           "(docs/host.md, 'Raw samples')")
    if g.damaged_missing == g.missing:
        why = "where the file is damaged (said below)"
    elif g.damaged:
        why = (f"{g.damaged_missing} samples ({g.damaged_missing / rec.rate_hz:.1f} s) in {g.damaged} where the file is "
               f"damaged (said below), the others {why}")
    return (
        f"{rec.name}: {g.missing} samples ({g.missing / rec.rate_hz:.1f} s) missing in {g.gaps} gap(s){parts}: {why}; "
        "replayed as a still band (the last sample held), in which no spasm is found"
    )


def run(args: argparse.Namespace) -> int:
    if args.gyro_units_ok:
        warnings.filterwarnings("ignore", category=GyroUnitsWarning)
    rec = open_recordings(args.file, args.chunk_rows, args.strict)
    if not rec.has_gyro:  # on stderr: --jsonl output stays the contract's
        print(ACCEL_ONLY_NOTE.format(path=rec.name if isinstance(rec, RawRecording) else rec.path), file=sys.stderr)
    # On a terminal the records are not on (they go to a file, a pipe): how far it has got.
    name = rec.name if isinstance(rec, RawRecording) else rec.path
    progress = Progress[float](lambda s: f"{name}: {s / 3600:.1f} h replayed")
    with reading_past_damage(), progress:
        _replay_out(rec, args.jsonl, progress if sys.stderr.isatty() and not sys.stdout.isatty() else None)
    if isinstance(rec, RawRecording):  # the read counted the gaps and met any damage: said once it is done
        note = gaps_note(rec)
        for line in ([note] if note else []) + damage_notes(rec, "replayed as a gap"):
            print(line, file=sys.stderr)
    return 0


def _replay_out(rec: Recording | RawRecording, jsonl: bool, progress: Progress[float] | None) -> None:
    """The records on stdout; a write that fails (a full disk under '> rec.jsonl') is an error in
    one line: it was a traceback. Flushed here, so the failure is not left to the exit."""
    try:
        _write_records(rec, jsonl, sys.stdout, progress)
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # '| head': the reader has all it wanted (cli.main)
    except OSError as exc:
        raise SpasmwatchError(f"standard output: cannot write the records: {exc.strerror or exc}") from exc


def _write_records(rec: Recording | RawRecording, jsonl: bool, out: TextIO, progress: Progress[float] | None = None) -> None:
    if jsonl:
        wall_at = _wall_of(rec)
        for r in replay_recording(rec, progress):
            out.write(json.dumps(r if wall_at is None else with_utc(r, wall_at), separators=(",", ":")) + "\n")
        return
    when: Callable[[float], str] = clock
    if isinstance(rec, RawRecording):  # dated: its table reads the band's wall clock
        zone = computer_zone(None)  # a TZ that names no zone: UTC, said on stderr
        when = wall_clock(rec.wall_at, zone, 0.0)
        out.write(wall_note(rec, zone) + "\n")
    elif rec.unix_time:  # hours since 1970 read as nothing
        zone = computer_zone(None)  # a TZ that names no zone: UTC, said on stderr
        when = wall_clock(float, zone, rec.t0)
        out.write(unix_note(rec, zone) + "\n")
    print_table(replay_recording(rec, progress), out, color=out.isatty(), when=when)


# A record's file times, and the name of each one's UTC wall time in a dated recording's --jsonl (in
# the exports' form, their onset_utc and alert_utc: the records join an export's rows by time).
UTC_NAMES = {"t": "t_utc", "start": "start_utc", "end": "end_utc", "alert_t": "alert_utc", "detected_t": "detected_utc"}


def _wall_of(rec: Recording | RawRecording) -> Callable[[float], float] | None:
    """File time -> unix s of a dated recording: a raw one's by its dating (a band off its nominal
    rate drifts from t_0 + t: 36 s an hour at 1 %), a CSV's whose t is unix time by t itself."""
    if isinstance(rec, RawRecording):
        return rec.wall_at
    return float if rec.unix_time else None


def with_utc(r: Record, wall_at: Callable[[float], float]) -> Record:
    """``r`` with the UTC wall time of each of its times (``UTC_NAMES``); the contract's fields kept
    as they are (shared/design.md: extra fields are fine). Found by the researcher's hostile review
    of 2026-12-07: --jsonl of a .swraw gave file times alone, the wall time only in Python."""
    return {**r, **{u: iso(wall_at(float(r[k]))) for k, u in UTC_NAMES.items() if r.get(k) is not None}}


def clock(t: float) -> str:
    """``HH:MM:SS.f``, rounded to the tenth (truncated, 43.87 s read 43.8 while --jsonl said 43.87);
    a time before the file's zero signed, ``-00:06:00.0`` (divmod of -360 s read '-1:54:00.0')."""
    s, tenth = tenths(t)  # 59.96 s carries to 00:01:00.0
    sign = "-" if t < 0 and (s or tenth) else ""
    return f"{sign}{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{tenth}"


_TENTH = Decimal("0.1")  # the table's resolution, s


def tenths(t: float) -> tuple[int, int]:
    """``|t|`` rounded to the tenth, as (whole seconds, tenth): half up from its shortest decimal, the
    time --jsonl writes, so the table reads what rounding that by hand gives. ``round(t * 10)``
    rounded the product's float half to even: 43.85 s and 0.05 s (floats a hair above the half)
    read 43.8 and 0.0, 0.25 s 0.2 beside 0.15 s 0.2."""
    return divmod(int(Decimal(repr(abs(t))).quantize(_TENTH, ROUND_HALF_UP) * 10), 10)


def wall_clock(wall_at: Callable[[float], float], zone: tzinfo, t0: float) -> Callable[[float], str]:
    """File time -> the time of day in ``zone`` that ``wall_at`` (unix s) puts it at (``HH:MM:SS.f``):
    a raw recording's dating, or a CSV's t itself when it is unix time. Found by the researcher audit: a
    part runs from noon, and its table's elapsed '00:10:34.4' read as ten past midnight for a spasm
    ten minutes after noon. In the hour the clocks go back the time names its pass
    ('02:00:34.5 CET', ``wall_text``): bare, a cluster read as before the wake 5 min earlier. A time
    on another day than file time ``t0``'s (the first line's) carries its date ('Mon 2026-12-07
    00:16:34.5'): bare, a week of parts read each day's 06:40 alike."""
    first = datetime.fromtimestamp(wall_at(t0), zone).date()

    def when(t: float) -> str:
        s, tenth = tenths(wall_at(t))  # unix s after 1970: never negative
        day = "" if datetime.fromtimestamp(s, zone).date() == first else "%a %Y-%m-%d "
        return wall_text(s, f"{day}%H:%M:%S.{tenth}", zone)

    return when


def _start(unix_s: float, zone: tzinfo) -> tuple[str, str]:
    """A unix time in ``zone`` as ISO 8601 with its offset, and the zone's name (``said_zone_of``): its
    offset there alone was said as the file's, though a night's file may change it."""
    local = datetime.fromtimestamp(unix_s, zone)
    return local.isoformat(timespec="milliseconds"), said_zone_of(zone, unix_s)


def wall_note(rec: RawRecording, zone: tzinfo) -> str:
    """The table's first line for a raw recording: what its times are, and the t they come from."""
    start, name = _start(rec.wall_at(0.0), zone)
    return (
        f"{rec.name}: times of day on the band's clock, by its dating, in this computer's time zone "
        f"({name}); t = 0 s, which --jsonl's t counts from, is {start}"
    )


def unix_note(rec: Recording, zone: tzinfo) -> str:
    """The table's first line for a CSV whose t is unix time (io.limits.UNIX_T_FROM_S)."""
    first, name = _start(rec.t0, zone)
    return (
        f"{rec.path}: t is unix time (s since 1970-01-01 UTC, as its first sample's t >= {UNIX_T_FROM_S:.0f} s says): "
        f"times of day in this computer's time zone ({name}); the first sample is at {first}"
    )


def record_line(r: Record, when: Callable[[float], str] = clock) -> str:
    kind = r["type"]
    if kind == "spasm" and r.get("matched"):
        return (
            f"{when(r['t'])}  spasm      {r['duration_s']:.1f} s, shaped like its cluster's spasms "
            f"(counted by likeness), confidence {r['confidence']}"
        )
    if kind == "spasm":
        alike = ", shaped like the one before" if r.get("alike") else ""
        return (
            f"{when(r['t'])}  spasm      {r['duration_s']:.1f} s, posture change "
            f"{r['peak_angle_deg']:.0f} deg, confidence {r['confidence']}{alike}"
        )
    if kind == "cluster":
        pw = r["post_wake_s"]
        after = f", {pw / 60:.0f} min after waking" if pw is not None else ""
        by_likeness = f" ({r['matched']} by likeness)" if r.get("matched") else ""
        return (
            f"{when(r['start'])}  CLUSTER    {r['count']} spasms{by_likeness} until {when(r['end'])}, "
            f"alarm at {when(r['alert_t'])}{after}"
        )
    if kind == "not_worn":
        return f"{when(r['start'])}  not worn   until {when(r['end'])}"
    return f"{when(r['t'])}  {kind}"


def print_table(recs: Iterator[Record], out: TextIO, color: bool, when: Callable[[float], str] = clock) -> None:
    counts: Counter[str] = Counter()
    red, dim, reset = ("\033[1;31m", "\033[2m", "\033[0m") if color else ("", "", "")
    for r in recs:
        counts[r["type"]] += 1
        line = record_line(r, when)
        if r["type"] == "cluster":
            line = red + line + reset
        elif r["type"] in ("wake", "sleep", "not_worn"):
            line = dim + line + reset
        out.write(line + "\n")
    summary = ", ".join(f"{counts[k]} {k}" for k in ("spasm", "cluster", "wake", "sleep", "not_worn"))
    out.write(f"-- {summary}\n")
    if counts["cluster"]:
        out.write(
            "A cluster of spasm-like movements was seen. This is a screening aid, not a "
            "diagnosis: film the baby if it happens again and contact your pediatrician.\n"
        )
