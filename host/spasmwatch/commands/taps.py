"""``spasmwatch taps RECORDING...``: the tap triples of a recording, the video's sync marks.

Three firm taps on the band in view of the camera, at the start and the end of a recording
(docs/real-recordings.md, "Synchronising with the video"), are found by ``analysis.taps``;
each triple's first tap, here in the recording's seconds, paired with its video frame's time,
is what ``spasmwatch truth --sync VIDEO_S=REC_S`` lines the labels up with.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from spasmwatch.analysis.taps import F64, Triple, find_triples
from spasmwatch.clock import local_zone
from spasmwatch.commands._args import add_strict
from spasmwatch.commands._progress import Progress
from spasmwatch.commands._rawdamage import damage_notes, reading_past_damage
from spasmwatch.io.csvread import Recording
from spasmwatch.io.rawboot import open_recordings
from spasmwatch.io.rawfile import RawRecording


def register(sub: Any) -> None:
    p = sub.add_parser(
        "taps",
        help="find the tap triples (three firm taps on the band) that line a video up with a recording",
        description="Find tap triples in a recording: three sharp spikes of a few g within 2 s, alone in "
        "a quiet second around them, as docs/real-recordings.md asks for at the start and the end of each "
        "recording. Prints each triple's first tap in the recording's seconds (and, for a .swraw, on the "
        "band's wall clock): pair it with the video time of that tap for 'spasmwatch truth --sync'.",
    )
    p.add_argument("recording", nargs="+", help="a recording (CSV or .swraw), or several .swraw parts of one band boot")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    add_strict(p)
    p.set_defaults(func=run)


def clock(t: float) -> str:
    """``h:mm:ss.fff``, the form labels and --sync take; ``-h:mm:ss.fff`` before t = 0 (the sign
    apart: divmod's floor put -979.98 s at '-1:43:40.020')."""
    ms = int(round(abs(t) * 1000))
    s, ms = divmod(ms, 1000)
    return f"{'-' if t < 0 and (s or ms) else ''}{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}.{ms:03d}"


def _dated(rec: Recording | RawRecording) -> bool:
    """Whether the recording's t has a wall time: a .swraw's dating, or a CSV's t that is unix time."""
    return isinstance(rec, RawRecording) or rec.unix_time


def _wall(rec: Recording | RawRecording, t: float, zone: tzinfo) -> str | None:
    """The wall time of ``t``, ISO in ``zone``: a .swraw's by the band's dating (its dating records: the
    measured rate), a CSV's t itself when it is unix time (as replay reads it); None for another CSV."""
    if not _dated(rec):
        return None
    wall_s = rec.wall_at(t) if isinstance(rec, RawRecording) else t
    return datetime.fromtimestamp(wall_s, zone).isoformat(timespec="milliseconds")


def _chunks(rec: Recording | RawRecording, count: list[int], progress: Progress[float] | None = None) -> Iterator[tuple[F64, F64]]:
    for c in rec.chunks():
        count[0] += len(c.t)
        yield c.t, c.acc
        if progress is not None and len(c.t):
            progress(float(c.t[-1]) - rec.t0)  # asked for the next: this one is searched


def as_dict(rec: Recording | RawRecording, tr: Triple, zone: tzinfo) -> dict[str, Any]:
    return {"t": tr.t[0], "clock": clock(tr.t[0]), "wall": _wall(rec, tr.t[0], zone),
            "taps": list(tr.t), "peaks_g": [round(p, 2) for p in tr.peak_g]}


def run(args: argparse.Namespace) -> int:
    rec = open_recordings(args.recording, strict=args.strict)
    name = rec.name if isinstance(rec, RawRecording) else rec.path
    count = [0]
    # On a terminal, how far it has got (found by the researcher's hostile review of 2026-12-07: 6 h
    # at 100 Hz took 5.5 s, a week's parts minutes, with nothing said until done).
    progress = Progress[float](lambda s: f"{name}: {s / 3600:.1f} h read")
    with reading_past_damage(), progress:
        found = find_triples(rec.rate_hz, _chunks(rec, count, progress if sys.stderr.isatty() else None))
        zone = local_zone()  # this computer's, as the other commands read it (C's keeps the zone it first read)
        rows = [as_dict(rec, tr, zone) for tr in found]
    duration_s = count[0] / rec.rate_hz
    for line in damage_notes(rec, "held as a gap (a still band: no tap in it is found)"):
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps({"recording": name, "rate_hz": rec.rate_hz, "duration_s": duration_s, "triples": rows}, indent=1))
        return 0
    print(f"{name}: {len(rows)} tap triple(s) in {duration_s / 3600:.2f} h at {rec.rate_hz:g} Hz")
    if rows:
        wall = _dated(rec)
        heading = "wall (band's dating)" if isinstance(rec, RawRecording) else "wall (t is unix time)"
        print(f"  #  {'t (s)':>12}  {'h:mm:ss.fff':>13}" + (f"  {heading:<29}" if wall else "") + "  taps at (+s)     peaks (g)")
        for k, r in enumerate(rows, 1):
            rel = ", ".join(f"{x - r['t']:.2f}" for x in r["taps"])
            peaks = " ".join(f"{p:.1f}" for p in r["peaks_g"])
            print(f"{k:>3}  {r['t']:>12.3f}  {r['clock']:>13}" + (f"  {r['wall']:<29}" if wall else "") + f"  {rel:<16} {peaks}")
        print("next: note the video time of each triple's first tap, then 'spasmwatch truth RECORDING EVENTS.tsv "
              "--sync VIDEO=REC' once per triple (e.g. --sync 0:00:41.200=" + f"{rows[0]['t']:.3f})", file=sys.stderr)
    else:
        print("no tap triple found: three firm taps on the band, within 2 s, with the band still for a second "
              "before and after (docs/real-recordings.md, 'Synchronising with the video')", file=sys.stderr)
    return 0
