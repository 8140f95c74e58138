"""``spasmwatch report --since ISO --until ISO --out report.pdf|report.html``: the pediatrician report."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from spasmwatch.commands._args import zone
from spasmwatch.commands._daemon import add_store_args
from spasmwatch.commands.export import RATE_HELP, linked_note, open_source, rate_hz, unplaced_note
from spasmwatch.commands.summary import names_of
from spasmwatch.errors import SpasmwatchError
from spasmwatch.export.timeline import parse_iso
from spasmwatch.report import write_report
from spasmwatch.report.consts import EMPTY_DAYS_MAX
from spasmwatch.report.data import midnight
from spasmwatch.store import Store
from spasmwatch.words import counted

DEFAULT_DAYS = 14


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="PDF or HTML report for the pediatrician (a screening log, not a diagnosis)",
        description="Spasms and clusters per day, their time of day and after waking, sleep by night, "
        "caregiver notes and treatments, and the trend since each treatment started.",
    )
    p.add_argument("--out", type=Path, required=True, help="report.pdf or report.html")
    p.add_argument("--since", help=f"first day, ISO 8601 (default: the start of the {DEFAULT_DAYS} calendar days up to --until)")
    p.add_argument("--until", help="end (exclusive), ISO 8601 (default: now)")
    p.add_argument("--device", help="a band's name or device id (default: every band)")
    p.add_argument("--tz", help="time zone for days and times of day, e.g. Europe/Berlin (default: this computer's)")
    p.add_argument("--patient", help="the child's name, date of birth or clinic number: printed on every page (not stored)")
    add_store_args(p)
    p.add_argument("--rate-hz", type=rate_hz, help=RATE_HELP)
    p.set_defaults(func=run)


def _days_back(until: float, days: int, tz: tzinfo) -> float:
    """Midnight (in ``tz``) starting the ``days`` calendar days that end at ``until``, its own day
    included: 14 x 24 h back from 10:00 would open the report on a stub of a 15th day."""
    last = datetime.fromtimestamp(until, tz)
    if last.time() == datetime.min.time():  # --until at midnight: that day is not in the range
        last -= timedelta(days=1)
    first = last.date() - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()


def held_to_data(store: Store, device: str | None, since: float, until: float, now: float, tz: tzinfo) -> tuple[float, float, list[str]]:
    """The range with over EMPTY_DAYS_MAX days before the store's first data, or after its last data
    (or today), cut off, and what was cut said: a wrong year gave minutes of empty days
    (hostile-input review). A range inside the data keeps its meaning; one wholly outside it
    is refused, as it holds nothing to report."""
    first, last = store.first_data(device), store.last_data(device)
    of = f" of {device}" if device else ""
    if first is None or last is None:
        if until - since > EMPTY_DAYS_MAX * 86400.0:
            raise SpasmwatchError(f"the store holds no data{of} yet: nothing to report")
        return since, until, []
    said: list[str] = []
    start = midnight(datetime.fromtimestamp(first, tz).date(), tz)
    if start - since > EMPTY_DAYS_MAX * 86400.0:
        day = datetime.fromtimestamp(start, tz).date().isoformat()
        if until <= start:
            raise SpasmwatchError(f"the store holds no data{of} before {day}: nothing to report before --until")
        since = start
        said.append(f"no data{of} before {day}: the report starts there")
    # The day of the last data, today at the latest (a row dated ahead by a wrong clock is no data to come)
    final = datetime.fromtimestamp(min(last, now), tz).date()
    stop = midnight(final + timedelta(days=1), tz)
    if until - stop > EMPTY_DAYS_MAX * 86400.0:
        if since >= stop:
            raise SpasmwatchError(f"the store holds no data{of} after {final.isoformat()}: nothing to report after --since")
        until = stop
        said.append(f"no data{of} after {final.isoformat()}: the report ends there")
    return since, until, said


def run(args: argparse.Namespace) -> int:
    tz = zone(args.tz)  # the report's days are this zone's, and so are --since/--until without one
    now = time.time()
    try:
        until = parse_iso(args.until, "--until", tz) if args.until else now
        since = parse_iso(args.since, "--since", tz) if args.since else _days_back(until, DEFAULT_DAYS, tz)
    except ValueError as exc:
        raise SpasmwatchError(str(exc)) from exc
    if since >= now:  # a report of days to come: all 'no data' (its hours were once negative)
        raise SpasmwatchError(f"--since {args.since} is after now: nothing can have been recorded yet")
    if not since < until:
        raise SpasmwatchError("--since must be before --until")
    source = open_source(args)
    try:
        # Spasms of a boot never synced have no wall time: on no day, said in the report and here.
        unplaced = source.store.unplaced_events(args.device)
        linked = source.store.linked_events(args.device)  # dated through the band's reset links: said as export says it
        # The bands by the names the family gave them, as 'summary' titles them
        names = names_of(args, source.store.devices())
        since, until, held = held_to_data(source.store, args.device, since, until, now, tz)
        for line in held:  # before a report that may still take long
            print(f"note: {line}", file=sys.stderr)
        zones = source.store.zones(since, until)  # said in the report when not tz alone
        data = write_report(source, args.device, since, until, tz, args.out, unplaced, args.patient, names, zones, held)
    finally:
        source.close()
    print(f"{args.out}: {counted(len(data.days), 'day')}, {counted(sum(d.clusters for d in data.days), 'cluster')}", file=sys.stderr)
    for note in (unplaced_note(unplaced, "the report"), linked_note(linked)):
        if note:
            print(note, file=sys.stderr)
    return 0
