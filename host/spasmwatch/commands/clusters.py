"""``spasmwatch clusters``: list clusters, or label one confirmed / false alarm."""

from __future__ import annotations

import argparse
from typing import Any

from spasmwatch.commands._args import command_line_by
from spasmwatch.commands._daemon import add_config_arg, add_window_args, api, band_labels, daemon_config_of, hm, minutes, open_store, window_of
from spasmwatch.daemon.clock import local_zone
from spasmwatch.errors import SpasmwatchError
from spasmwatch.store.rows import LABELS
from spasmwatch.words import visible


def register(sub: Any) -> None:
    p = sub.add_parser("clusters", help="list spasm clusters; --label ID confirmed|false_alarm", description=__doc__)
    add_config_arg(p)
    add_window_args(p, "7d")
    p.add_argument("--label", nargs=2, metavar=("ID", "LABEL"), help="label cluster ID as confirmed or false_alarm (via the daemon: a false alarm tells everyone alerted)")
    p.add_argument("--by", default=command_line_by(), help="who labels, as the family reads it (default: 'command line (<your login>)')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = daemon_config_of(args, asks=args.label is not None)  # the listing reads the store only
    if args.label:
        cid, label = args.label
        if not cid.isdigit():
            raise SpasmwatchError(f"--label: the first value is a cluster number (see 'spasmwatch clusters'), not {cid!r}")
        if label not in LABELS:  # checked here: without a daemon it said only 'no daemon answers' (input audit)
            raise SpasmwatchError(f"--label: the second value is {' or '.join(LABELS)}, not {label!r}")
        look = "'spasmwatch clusters' lists the clusters with their numbers (add --since 30d for older ones)"
        c = api(cfg, f"/api/clusters/{int(cid)}/label", {"label": label, "by": args.by}, look=look)
        print(f"cluster #{c['id']} labelled {c['label']}")
        return 0
    since, until = window_of(args)
    with open_store(cfg, args) as store:
        rows = list(store.clusters(args.device, since, until))
        bands = band_labels(store)  # as 'status' calls them: the name, the id where it differs
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
    return 0
