"""``spasmwatch truth X.csv EVENTS.tsv``: write ``X.truth.json`` from video labels.

``spasmwatch truth PART.swraw PART.swraw ... EVENTS.tsv``: the truth of several parts of one band
boot as one recording (``io.rawboot``, as replay takes them), ``band-boot3-000-003.truth.json``
beside the first part (``truthfile.parts_truth_path``), listing its parts.

Turns a labelled events table (analysis/labels.py) into the ground-truth file
``spasmwatch evaluate`` scores a real recording against, with the clusters,
their ``third_end`` and ``post_wake_s`` derived by one rule
(docs/real-recordings.md, "Labelling").

``--wall-clock``: onsets are local times read off the video's clock (``analysis.wallclock``), placed
within the recording's wall span: a .swraw dates its samples (its dating records: the band's
measured rate, ``RawRecording.t_at``), a CSV needs ``--start``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from spasmwatch.analysis.labels import CLUSTER_MAX_GAP_S, DEFAULT_SPASM_S, SPASM, SUBTLE, build_truth, parse_time, read_labels
from spasmwatch.analysis.truthfile import check_truth, parts_truth_path
from spasmwatch.analysis import videosync
from spasmwatch.analysis.wallclock import THIS_COMPUTERS_ZONE, WallClock, instant_s
from spasmwatch.clock import local_zone, offset_changes
from spasmwatch.commands._args import add_strict, check_not_kept
from spasmwatch.commands._rawdamage import damage_notes, reading_past_damage
from spasmwatch.errors import InputError, SpasmwatchError
from spasmwatch.io.csvread import Recording
from spasmwatch.io.rawboot import open_recordings
from spasmwatch.io.rawfile import RawRecording
from spasmwatch.outfile import check_writable, whole_file


def register(sub: Any) -> None:
    p = sub.add_parser(
        "truth",
        help="write X.truth.json for a recording from a labelled events table",
        description="Write the ground truth `spasmwatch evaluate` scores a recording against, from an "
        "events table (BIDS events.tsv columns onset, duration, trial_type; tab or comma separated; "
        "seconds or hh:mm:ss from the video's start, or with --wall-clock the times of day its clock shows). Labels: spasm, subtle_spasm, wake, not_worn, place:<where>, or what the "
        "baby was doing (crying, feeding, ...). Clusters are derived: spasms at most --max-gap-s apart, "
        "three or more.",
    )
    p.add_argument(
        "recording",
        nargs="+",
        help="the recording the labels belong to (CSV or .swraw), or several .swraw parts of one band boot "
        "(e.g. raw/band-boot3-*.swraw) as one recording, times from the first part's noon, as replay takes them",
    )
    p.add_argument("events", help="the labels: an events table (.tsv or .csv)")
    p.add_argument("--offset-s", type=float, default=None,
                   help="seconds to add to every label's onset: video time -> the recording's t (default 0)")
    p.add_argument("--sync", action="append", metavar="VIDEO=REC",
                   help="a tap triple's first tap on the video and in the recording ('spasmwatch taps'), seconds or "
                   "h:mm:ss.fff (with --wall-clock the video's time of day); once: an offset; from the start and "
                   "the end: the line rec = a * video + b, drift corrected (instead of --offset-s)")
    p.add_argument("--wall-clock", action="store_true",
                   help="onsets are local times read off the video's clock: a time of day HH:MM:SS[.fff] (placed "
                   "within the recording's span, after midnight too) or a date and time 2026-12-05T06:40:12[+01:00]; "
                   "a .swraw dates them itself, a CSV needs --start (unless its t is unix time); --offset-s still adds the tap correction")
    p.add_argument("--tz", metavar="ZONE",
                   help="with --wall-clock: the time zone the video's clock shows, e.g. Europe/Paris "
                   "(default: this computer's)")
    p.add_argument("--start", metavar="DATETIME",
                   help="with --wall-clock, for a CSV whose t is not unix time (it carries no wall time): the date and time of its t = 0, "
                   "e.g. 2026-12-04T21:30:00 (in --tz unless it has a zone)")
    p.add_argument("--max-gap-s", type=float, default=CLUSTER_MAX_GAP_S,
                   help=f"longest gap between spasm onsets within one cluster (default {CLUSTER_MAX_GAP_S:g})")
    p.add_argument("--spasm-s", type=float, default=DEFAULT_SPASM_S,
                   help=f"length given to a spasm labelled with no duration (default {DEFAULT_SPASM_S:g})")
    p.add_argument("-o", "--out", help="where to write (default: X.truth.json beside the recording; for parts "
                   "band-boot3-000-003.truth.json, its first and last part, where evaluate --parts looks)")
    p.add_argument("--force", action="store_true", help="replace an existing truth file")
    add_strict(p)
    p.set_defaults(func=run)


def _span(rec: Recording | RawRecording) -> tuple[float, float]:
    """(time of the first sample, duration) of a recording, in s: every sample is read (and checked)."""
    n = sum(len(c) for c in rec.chunks())
    return rec.t0, n / rec.rate_hz


def _origin_note(rec: RawRecording, duration_s: float) -> str:
    """When t = 0 is on the wall clock: what a label read off a video's time of day is offset by, and
    by how much more after the clocks changed within the recording (an hour, a night part of DST's)."""
    zone = local_zone()
    local = datetime.fromtimestamp(rec.wall_at(0.0), zone)
    day_s = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return (
        f"t = 0 s is {local.isoformat(timespec='milliseconds')} in this computer's time zone ({rec.files[0]}'s "
        f"dating): labels read off a video clock's time of day need --offset-s {0.0 - day_s:.3f} "
        f"plus the tap correction, and a time after midnight 24 h more (29:22:01 for 05:22:01){_changes(rec, duration_s, zone)}; "
        "--wall-clock reads such times as they are"
    )


def _changes(rec: RawRecording, duration_s: float, zone: tzinfo) -> str:
    """'; a time of day read after 2024-10-27 03:00 (the clocks went back to 02:00) needs 3600 s more'
    for each change of the zone's offset within the recording ('' for none): the offset for the
    time of day at t = 0 put every label after it an hour off, inside the recording, unsaid."""
    said, more_s = [], 0.0
    for t, before, after in offset_changes(zone, rec.wall_at(0.0), rec.wall_at(duration_s)):
        more_s += (before - after).total_seconds()
        went = "back" if after < before else "forward"
        at, to = datetime.fromtimestamp(t, timezone(before)), datetime.fromtimestamp(t, timezone(after))
        more = f"{more_s:.0f} s more" if more_s >= 0 else f"{-more_s:.0f} s less"
        said.append(f"; a time of day read after {at:%Y-%m-%d %H:%M} (the clocks went {went} to {to:%H:%M}) needs {more}")
    return "".join(said)


def _zone(args: argparse.Namespace) -> tzinfo | None:
    """--tz as a zoneinfo zone; None for this computer's. --tz and --start only mean something with --wall-clock."""
    for opt, given in (("--tz", args.tz), ("--start", args.start)):
        if given is not None and not args.wall_clock:
            raise SpasmwatchError(f"{opt}: only with --wall-clock (onsets read off the video's clock)")
    if args.tz is None:
        return None
    try:
        return ZoneInfo(args.tz)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError; a path-like name a ValueError; a region's folder an OSError
        raise SpasmwatchError(f"--tz: no time zone {args.tz!r}: give a zoneinfo name, e.g. Europe/Paris or America/New_York") from None


def _wall_clock(args: argparse.Namespace, rec: Recording | RawRecording, tz: tzinfo | None, t0: float, duration_s: float) -> WallClock:
    """The recording's span on the video's clock: t = 0 dated by a .swraw's header (the band's dating),
    by --start for a CSV, or by its t when that is unix time (io.limits.UNIX_T_FROM_S); --offset-s
    moves video time to the band's."""
    # No --tz: this computer's zone as the other commands read it (local_zone), not C's, which keeps
    # the zone it first read (an /etc/localtime replaced since): 'taps' and 'export raw' word it so.
    zone, said = (tz, None) if tz is not None else (local_zone(), THIS_COMPUTERS_ZONE)
    if isinstance(rec, RawRecording):
        if args.start is not None:
            raise InputError(rec.files[0], "--start: a .swraw dates its samples itself (wall_start_s); correct the "
                             "video clock's offset with --offset-s")
        # The samples' measured wall times, not t = 0 plus t: the band's IMU runs ~1 % off nominal.
        shift = args.offset_s
        first, last = rec.wall_at(t0) - shift, rec.wall_at(t0 + duration_s) - shift
        return WallClock(rec.wall_at(0.0) - shift, first, last, zone, said, to_t=lambda video_s: rec.t_at(video_s + shift))
    elif args.start is not None:
        try:
            origin = instant_s(args.start, zone)
        except ValueError as exc:
            raise SpasmwatchError(f"--start: {exc}") from None
    elif rec.unix_time:  # as replay reads it: t = 0 is 1970
        origin = 0.0
    else:
        raise InputError(args.recording[0], "a CSV's t carries no wall time: --wall-clock needs --start, the date and "
                         "time of its t = 0 (or label the band's .swraw parts, which are dated)")
    video_origin = origin - args.offset_s  # the video-clock instant that is t = 0
    # What moved it there: --start, --offset-s or both
    given = " with ".join(([f"--start {args.start}"] if args.start is not None else []) + ([f"--offset-s {args.offset_s:g}"] if args.offset_s else []))
    return _on_the_calendar(WallClock(video_origin, video_origin + t0, video_origin + t0 + duration_s, zone, said), given)


def _on_the_calendar(clock: WallClock, given: str) -> WallClock:
    """``clock``, unless its span, and the day each side of it a time of day may fall on, leaves the
    dates a computer's clock can give (years 1-9999): '--start 9999-12-31T23:59:00' was an
    OverflowError traceback at the first label (hostile-input review)."""
    try:
        clock.local(clock.first_s).date() - timedelta(days=1)
        clock.local(clock.last_s).date() + timedelta(days=1)
    except (OverflowError, ValueError, OSError) as exc:
        raise SpasmwatchError(f"{given}: the recording's span lies beyond the dates a computer's clock can give ({exc})") from None
    return clock


def _sync_or_offset(args: argparse.Namespace) -> None:
    """--sync replaces --offset-s: both given is refused; otherwise --offset-s defaults to 0."""
    if args.sync and args.offset_s is not None:
        raise SpasmwatchError(f"--sync {args.sync[0]} with --offset-s {args.offset_s:g}: give one; --sync measures the "
                              "offset (and, from two tap triples, the drift)")
    args.offset_s = 0.0 if args.offset_s is None else args.offset_s
    if args.sync and not args.wall_clock:  # the form, before the recording is read (a time of day needs its span)
        for text in args.sync:
            videosync.parse_pair(text)


def run(args: argparse.Namespace) -> int:
    with reading_past_damage():
        rec = _run(args)
    for line in damage_notes(rec, "held as a gap (a still band: a spasm labelled in it cannot be found)"):
        print(line, file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> Recording | RawRecording:
    """The truth written; the recording it read (its damage is said once it is done)."""
    _sync_or_offset(args)
    for option, seconds in (("--max-gap-s", args.max_gap_s), ("--spasm-s", args.spasm_s)):
        if not 0 < seconds < math.inf:  # (was blamed on the labels table, both options named: CLI input audit)
            raise SpasmwatchError(f"{option}: expected a positive number of seconds, got {seconds:g}")
    if not math.isfinite(args.offset_s):  # nan was blamed on the output's 'spasms[0].t' (input audit)
        raise SpasmwatchError(f"--offset-s: expected a number of seconds, got {args.offset_s}")
    rec = open_recordings(args.recording, strict=args.strict) if len(args.recording) > 1 else None  # parts: checked, in index order
    files = rec.files if isinstance(rec, RawRecording) else args.recording
    out = Path(args.out) if args.out else parts_truth_path(files)
    check_writable(out, "--out")  # before the whole recording is read
    for given, what in [*((f, "the recording") for f in args.recording), (args.events, "the labels table")]:
        # --force replaces a truth file, never these (found by the input audit: '-o REC.csv --force'
        # replaced the recording with the truth's JSON, '-o EVENTS.tsv --force' the labels)
        if Path(given).exists() and out.resolve() == Path(given).resolve():
            raise InputError(str(out), f"is {what}: choose another --out")
    check_not_kept(out, "--out")
    if out.exists() and not args.force:
        raise InputError(str(out), "exists; --force replaces it")
    tz = _zone(args)
    if args.wall_clock:  # the span places each time of day: read it first
        rec = rec or open_recordings(args.recording, strict=args.strict)
        t0, duration_s = _span(rec)
        clock = _wall_clock(args, rec, tz, t0, duration_s)
        clock = videosync.widen(clock, duration_s) if args.sync else clock
        labels = read_labels(args.events, 0.0, clock.t)  # clock.t adds --offset-s
    else:
        labels = read_labels(args.events, args.offset_s)
        rec = rec or open_recordings(args.recording, strict=args.strict)
        t0, duration_s = _span(rec)
    fit = None
    if args.sync:  # the video's time -> the recording's, by the taps' line
        fit = videosync.fit(args.sync, t0, duration_s, clock.t if args.wall_clock else parse_time)
        labels = fit.apply(labels)
    # Times read off the video's clock without --wall-clock land hours past a .swraw's t: the refusal
    # says when t = 0 is and names --wall-clock (the note after a truth written, seen too late).
    hint = f" {_origin_note(rec, duration_s)}" if isinstance(rec, RawRecording) and not (args.wall_clock or args.sync) else ""
    truth = build_truth(args.events, labels, t0, duration_s, args.max_gap_s, args.spasm_s, hint)
    if len(files) > 1:  # evaluate checks it is given these parts (truthfile.check_parts)
        truth["parts"] = [os.path.basename(f) for f in files]
    check_truth(str(out), truth)
    with whole_file(out, "the truth") as f:  # never a half-written truth file
        f.write((json.dumps(truth, indent=1) + "\n").encode())
    spasms, clusters = truth["spasms"], truth["clusters"]
    no_len = sum(1 for x in labels if x.kind in (SPASM, SUBTLE) and not x.duration)
    print(
        f"{out}: {duration_s / 3600:.2f} h, {len(spasms)} spasms ({sum(s['subtle'] for s in spasms)} subtle), "
        f"{len(clusters)} clusters ({sum(c['subtle'] for c in clusters)} subtle), "
        f"{sum(c['count'] for c in clusters)} spasms in clusters, {len(truth['wake_onsets'])} wake onsets, "
        f"{len(truth['not_worn'])} not-worn spells, {len(truth['confounders']) + len(truth['places'])} context labels"
    )
    if args.wall_clock:  # with --sync: the span the times were placed in, not the recording's (and no offset)
        span = (f"the times were placed within {clock.span_text()}, the recording's span widened by "
                f"{videosync.MAX_DRIFT:.0%} for the video clock's drift --sync corrects") if args.sync else (
                f"the recording is {clock.span_text()} on the video's clock (--offset-s {args.offset_s:g})")  # fmt: skip
        print(f"note: onsets read as local times in {clock.zone_name()}: {span}", file=sys.stderr)
    elif hint:  # the offset --sync replaces
        print(f"note:{hint}", file=sys.stderr)
    if fit is not None:
        print(f"note: {fit.describe()}", file=sys.stderr)
    if no_len:
        print(f"note: {no_len} spasms have no duration: each ends {args.spasm_s:g} s after its onset (--spasm-s)", file=sys.stderr)
    return rec
