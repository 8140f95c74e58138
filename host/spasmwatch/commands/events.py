"""``spasmwatch events``: what the band saw, grouped by cluster (never a flood of rows)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import tzinfo
from typing import Any

from spasmwatch.clock import local_zone
from spasmwatch.commands._daemon import add_store_args, add_window_args, band_labels, after_waking, hm, open_store_at, store_path_of, window_of
from spasmwatch.words import visible


def register(sub: Any) -> None:
    p = sub.add_parser("events", help="spasm events, grouped by cluster, with caregiver notes beside them", description=__doc__)
    add_store_args(p)  # --db: a store no config names (the demo's kept with --data-dir, a copy)
    add_window_args(p, "24h")
    p.add_argument("--json", action="store_true", help="one JSON object per cluster / lone event / note")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    since, until = window_of(args)
    with open_store_at(store_path_of(args), args) as store:
        bands = band_labels(store)
        clusters = list(store.clusters(args.device, since, until))
        in_cluster = {e.id: c.id for c in clusters for e in store.cluster_events(c.id)}
        lone = [e for e in store.events(args.device, since, until) if e.id not in in_cluster]
        items: list[tuple[float, dict[str, Any]]] = []
        for c in clusters:
            evs = store.cluster_events(c.id)
            items.append((c.start_t, {"type": "cluster", "id": c.id, "device": c.device, "start": c.start_t, "end": c.end_t,
                                      "count": c.count, "post_wake_s": c.post_wake_s, "label": c.label,
                                      "events": [{"t": e.wall_t, "duration_s": e.duration_s, "confidence": e.confidence} for e in evs]}))
        for e in lone:
            items.append((e.wall_t or 0.0, {"type": "event", "device": e.device, "t": e.wall_t, "duration_s": e.duration_s, "confidence": e.confidence}))
        for n in store.notes(since, until, args.device):
            items.append((n.wall_s, {"type": "note", "t": n.wall_s, "kind": n.kind, "text": n.text, "device": n.device, "by": n.by}))
    items.sort(key=lambda x: x[0])
    if args.json:
        for _, it in items:
            sys.stdout.write(json.dumps(it) + "\n")
        return 0
    zone = local_zone()  # once for the listing (hm)
    for _, it in items:
        # a note's text and who wrote it come from the web page and the API too: shown, not obeyed
        sys.stdout.write(visible(_line(it, bands, zone)) + "\n")
    if not items:
        print("nothing in this time range")
    return 0


def _line(it: dict[str, Any], bands: dict[str, str], zone: tzinfo | None = None) -> str:
    """One item for a person: a band as 'status' calls it (--json keeps the device id); its time in
    ``zone`` (None: this computer's, read again: ``hm``)."""
    band = bands.get(it["device"], it["device"]) if it["device"] else ""
    if it["type"] == "cluster":
        label = f" [{it['label']}]" if it["label"] else ""
        span = (it["end"] - it["start"]) / 60
        return (f"{hm(it['start'], zone)}  CLUSTER #{it['id']} {band}: {it['count']} spasm-like movements over {span:.1f} min, "
                f"{after_waking(it['post_wake_s'])}{label}")
    if it["type"] == "note":
        return f"{hm(it['t'], zone)}  note ({it['kind']}): {it['text']}" + (f" - {it['by']}" if it["by"] else "")
    return f"{hm(it['t'], zone)}  single event {band} ({it['duration_s']:.1f} s, confidence {it['confidence']})"
