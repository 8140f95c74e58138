"""``spasmwatch config``: show, get or set settings in the TOML config (validated before writing)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from spasmwatch.config import default_config_path, dump, existing_config, get, load_config, plain, set_value


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="show, get or set settings (config.toml)", description=__doc__)
    p.add_argument("--config", default=None, help=f"config file (default {default_config_path()})")
    csub = p.add_subparsers(dest="action", metavar="ACTION")
    csub.add_parser("show", help="the whole effective config, as TOML")
    csub.add_parser("path", help="where the config file is")
    g = csub.add_parser("get", help="one value, e.g. alerts.escalate_after_s", description="Print one value of the effective config.")
    g.add_argument("key", help="dotted key; list items by number: bands.0.name")
    set_help = "set one value (the whole file is checked first; its comments and layout are kept)"
    s = csub.add_parser("set", help=set_help, description=set_help[0].upper() + set_help[1:] + ".")
    s.add_argument("key", help="dotted key; list items by number: caregivers.0.min_urgency")
    s.add_argument("value", help="a TOML value (300, true, '[\"not_worn\"]'); for a text key, the text")
    for action in (csub.choices.values()):
        # --config also after the action (spasmwatch config get KEY --config F)
        action.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    path = Path(args.config) if args.config else None
    action = args.action or "show"
    if action in ("show", "get"):  # 'set' may start a new file
        path = existing_config(path)
    if action == "path":
        print(path or default_config_path())
    elif action == "get":
        v = get(load_config(path), args.key)
        print(v if isinstance(v, str) else json.dumps(plain(v)))
    elif action == "set":
        cfg = set_value(path, args.key, args.value)
        print(f"{args.key} = {json.dumps(plain(get(cfg, args.key)))}  ({path or default_config_path()})")
    else:
        print(dump(load_config(path)), end="")
    return 0
