"""``spasmwatch summary``: the daily summary's words for each band now (its last 24 h), any time.

The same text ``[alerts] daily_summary`` sends each morning, read from the store read-only: no
daemon needed, and it works whether or not the daily summary is configured.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from spasmwatch.commands._args import zone
from spasmwatch.commands._daemon import add_store_args, config_of, hm, open_store_at, parse_when, store_path_of
from spasmwatch.config import Config
from spasmwatch.daemon.summary import DAY_S, summaries
from spasmwatch.store.rows import DeviceRow
from spasmwatch.words import visible


def register(sub: Any) -> None:
    p = sub.add_parser("summary", help="the daily summary of each band's last 24 h, now", description=__doc__)
    add_store_args(p)
    p.add_argument("--device", help="only this band (its name or device id)")
    p.add_argument("--at", help="the summary as it was at this ISO local time, e.g. this morning's 2027-01-15T07:30 (default: now), or a span back: 12h")
    p.add_argument("--json", action="store_true", help="the facts (counts, times, worn hours, clusters per 24 h monitored since a treatment started and before it, the zone line) as JSON, one object a line per band")
    p.set_defaults(func=run)


def band_names(cfg: Config, rows: list[DeviceRow]) -> dict[str, str]:
    """device -> the name the daemon titles its summary with (config.Band.title): the config's label
    for the band, else its name, else its address; a band the config does not list keeps its device
    id. The one lookup of a band's name for the commands that read the store (summary, report).
    A band is matched by its stored name, which the daemon writes as the band's title (its label
    when it has one: daemon.on_connected), or by its advertised name or address: matched by the
    name only, a labelled band kept its device id."""
    out = {}
    for r in rows:
        for b in cfg.bands:
            if (r.name is not None and r.name in (b.name, b.title)) or (b.address and b.address == r.address):
                out[r.device_id] = b.title
    return out


def names_of(args: argparse.Namespace, rows: list[DeviceRow]) -> dict[str, str]:
    """The bands' names for a command reading the store: by the config (``band_names``), or with
    ``--db`` (a store on its own, no config read) the name each band is stored under, which the
    daemon writes as the band's title (its label when it had one). Before, a --db report or
    summary named every band by its device id."""
    if args.db is None:
        return band_names(config_of(args), rows)
    return {r.device_id: r.name for r in rows if r.name}


def _no_data_said(path: Path, rows: list[DeviceRow], args: argparse.Namespace, at: float) -> str | None:
    """For an ``--at`` whose 24 h all lie after the last the bands summarised (``--device``'s, else
    every one) were heard, that the store holds no data for them and when its latest is from; None
    otherwise. Summarised, each band's day read 'not monitored (no data from the band): nothing was
    counted', exit 0, as if it had failed that day (CLI input audit of review h51: '--at 2999-01-01',
    a year mistyped). Only for a day still to come by this computer's clock too: one past, after
    the bands went quiet (a band off for two days), is a day not monitored, said so. Not by the
    clock alone, which may run behind (a Raspberry Pi has none of its own until it reaches the
    network). A day before the first is not said so: a band's flash may hold events from before
    it was first heard, sent at its first connection."""
    seen = [r.last_seen_wall_s for r in rows if args.device in (None, r.device_id)]
    if not seen or at - DAY_S <= max(seen) or at <= time.time():
        return None
    return f"no data in the store {path} for the 24 h up to --at {args.at} ({hm(at)}): the latest it holds is from {hm(max(seen))}: nothing to summarise"


def run(args: argparse.Namespace) -> int:
    path = store_path_of(args)
    at = parse_when(args.at, what="--at")
    now = time.time() if at is None else at
    tz = zone(None)  # this computer's, a TZ naming no zone said once, as 'report' and 'export' say it
    with open_store_at(path, args) as store:
        rows = store.devices()
        if at is not None and not args.json and (none := _no_data_said(path, rows, args, at)) is not None:
            print(none)
            return 0
        names = names_of(args, rows)
        out = summaries(store, names, now, tz, args.device)
    if not out:
        print(f"no band in the store {path} yet: nothing to summarise (a band shows here once the daemon has heard from it)")
        return 0
    if args.json:  # each band's object carries the report's longer zone line too ("zones", null when none)
        for o in out:
            print(json.dumps(o))
        return 0
    said = "\n\n".join(f"{o['title']}\n{o['text']}" for o in out)  # the push's own zone line is in the text
    print("\n".join(visible(line) for line in said.split("\n")))  # band names and notes: shown, not obeyed
    return 0
