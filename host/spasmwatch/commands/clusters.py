"""``spasmwatch clusters``: list clusters, or label one confirmed / false alarm."""

from __future__ import annotations

import argparse
from typing import Any

from spasmwatch.clock import local_zone
from spasmwatch.commands._args import command_line_by
from spasmwatch.commands._daemon import add_store_args, add_window_args, api, band_labels, daemon_config_of, hm, minutes, open_store_at, window_of
from spasmwatch.errors import SpasmwatchError
from spasmwatch.store.rows import LABELS, ClusterRow
from spasmwatch.words import visible


def register(sub: Any) -> None:
    p = sub.add_parser("clusters", help="list spasm clusters; --label ID confirmed|false_alarm", description=__doc__)
    add_store_args(p)  # --db: a store no config names (a copy, the demo's), as events, summary and report take
    add_window_args(p, "7d")
    p.add_argument("--label", nargs=2, metavar=("ID", "LABEL"), help="label cluster ID as confirmed or false_alarm (via the daemon: a false alarm tells everyone alerted)")
    p.add_argument("--by", default=command_line_by(), help="who labels, as the family reads it (default: 'command line (<your login>)')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.label and args.db is not None:
        raise SpasmwatchError("--db lists a store's clusters; --label goes through the daemon, to its own store: not both")
    if args.label:
        return _label(args)
    since, until = window_of(args)
    # The listing reads the store only: the config's (as the daemon reaches it) unless --db names one.
    path = args.db if args.db is not None else daemon_config_of(args, asks=False).store_path()
    with open_store_at(path, args) as store:
        rows = list(store.clusters(args.device, since, until))
        bands = band_labels(store)  # as 'status' calls them: the name, the id where it differs
    _print(rows, bands)
    return 0


def _label(args: argparse.Namespace) -> int:
    """--label ID LABEL, through the daemon (a false alarm tells everyone alerted)."""
    cid, label = args.label
    if not cid.isdigit():
        raise SpasmwatchError(f"--label: the first value is a cluster number (see 'spasmwatch clusters'), not {cid!r}")
    if label not in LABELS:  # checked here: without a daemon it said only 'no daemon answers' (input audit)
        raise SpasmwatchError(f"--label: the second value is {' or '.join(LABELS)}, not {label!r}")
    cfg = daemon_config_of(args)
    look = "'spasmwatch clusters' lists the clusters with their numbers (add --since 30d for older ones)"
    c = api(cfg, f"/api/clusters/{int(cid)}/label", {"label": label, "by": args.by}, look=look)
    print(f"cluster #{c['id']} labelled {c['label']}")
    return 0


def _print(rows: list[ClusterRow], bands: dict[str, str]) -> None:
    """The listing, one cluster a line, bands as 'status' calls them."""
    width = max([10] + [len(bands.get(c.device, c.device)) for c in rows])
    zone = local_zone()  # once for the listing (hm)
    starts = [hm(c.start_t, zone) for c in rows]  # wider in the hour the clocks go back: its zone is said
    at = max([19] + [len(s) for s in starts])
    # 'spasm-like', as the alarms, the summary, events and the report say: the band's classification
    print(f"{'id':>4}  {'start':{at}}  {'band':{width}} {'spasm-like':>10} {'minutes':>7}  {'after waking':>12}  label")
    for c, start in zip(rows, starts):
        band = bands.get(c.device, c.device)
        print(visible(f"{c.id:>4}  {start:{at}}  {band:{width}} {c.count:>10} {(c.end_t - c.start_t) / 60:>7.1f}  "
                      f"{minutes(c.post_wake_s):>12}  {c.label or ''}"))
    print(f"{len(rows)} cluster(s)")
