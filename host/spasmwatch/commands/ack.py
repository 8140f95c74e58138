"""``spasmwatch ack [ID]``: acknowledge an alert (all open ones without an ID); stops escalation."""

from __future__ import annotations

import argparse
from typing import Any

from spasmwatch.commands._args import command_line_by
from spasmwatch.commands._daemon import add_config_arg, api, daemon_config_of
from spasmwatch.daemon.api import who as kept_as
from spasmwatch.errors import SpasmwatchError
from spasmwatch.words import visible

# Said after the daemon's 'no alert N': where the numbers are (an open alert is 'ALERT #N' there).
LOOK = "'spasmwatch status' lists the open alerts with their numbers (ALERT #N)"


def register(sub: Any) -> None:
    p = sub.add_parser("ack", help="acknowledge an alert (stops escalation)", description=__doc__)
    add_config_arg(p)
    p.add_argument("alert_id", nargs="?", type=int, help="alert id (see 'spasmwatch status'); default: every open alert")
    p.add_argument("--by", default=command_line_by(), help="who acknowledges, as the family reads it (default: 'command line (<your login>)')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = daemon_config_of(args)
    ids = [args.alert_id] if args.alert_id is not None else [
        a["id"] for a in api(cfg, "/api/status")["alerts"] if a["state"] in ("WARNING", "ALARM", "ESCALATED", "FAULT", "STALE") and not a.get("acked_by")
    ]
    if not ids:
        raise SpasmwatchError("no open alert to acknowledge")
    # As the daemon keeps it (trimmed, cut, storable), so its answer compares equal; a blank --by
    # is the command line, not the daemon's "web page".
    by = kept_as(args.by, command_line_by())
    for i in ids:
        a = api(cfg, f"/api/alerts/{i}/ack", {"by": by}, look=LOOK)
        # Who the daemon has: the first to acknowledge stays (a second ack changes nothing).
        who = a.get("acked_by") or by
        # the first may be anyone's: an MQTT client's or the web page's name, shown not obeyed
        print(f"alert #{a['id']} {a['state']}: acknowledged by {visible(who)}" + ("" if who == by else " (before you)"))
    return 0
