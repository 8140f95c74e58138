"""``spasmwatch ack [ID | --all]``: acknowledge an alert; stops its escalation.

Without a number it acknowledges the one open alert; with more than one open (twins, or an alarm
and a band notice) it lists them and asks which: one parent's 'ack' for one baby must not stop the
escalation of the other baby's alarm. ``--all`` acknowledges every open one on purpose.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spasmwatch.commands._args import command_line_by, whole_number
from spasmwatch.commands._daemon import Refused, add_config_arg, api, daemon_config_of
from spasmwatch.daemon.api import who as kept_as
from spasmwatch.errors import SpasmwatchError
from spasmwatch.words import cmd, in_quotes, visible

# Said after the daemon's 'no alert N': where the numbers are (an open alert is 'ALERT #N' there).
LOOK = "'spasmwatch status' lists the open alerts with their numbers (ALERT #N)"
# What an ack of an alert that ended before it came says (the daemon's 409 alert_over), in the page's
# words (docs/web.md): nothing to see to, so no error (exit 0), and 'ack --all' goes on with the others.
ALREADY_ENDED = "alert #{id} had already ended: nothing more to do for it"
# The same, the daemon naming who had acknowledged it (the 409's acked_by): whether anyone saw to it.
ALREADY_SEEN_TO = "alert #{id} had already ended; {by} had acknowledged it"
# What an ack the daemon could not answer says (its 503 store_not_open: the alert not open, and whether it
# had ended unreadable while its store is not open): nothing acknowledged, so exit 1, but no alert of it
# sounds (the daemon holds none), so no error: a line, and 'ack --all' goes on with the others.
NOT_OPEN_NOW = ("alert #{id} is not open now: nothing was acknowledged (whether it had ended cannot be read while the "
                "daemon's store is not open; 'spasmwatch status' says why). If it shows again, acknowledge it then")
# The daemon's refusals of an ack said in a line, by their code.
_CALM = {"alert_over": ALREADY_ENDED, "store_not_open": NOT_OPEN_NOW}
# The states an acknowledgement answers (status lists them as open; CLOSED, OK and QUIET are not).
OPEN_STATES = ("WARNING", "ALARM", "ESCALATED", "FAULT", "STALE")


def register(sub: Any) -> None:
    p = sub.add_parser("ack", help="acknowledge an alert (stops escalation)", description=__doc__)
    add_config_arg(p)
    # (from 1: a number below went to the daemon, whose 404 named its API path: CLI input audit)
    p.add_argument("alert_id", nargs="?", type=whole_number(1), help="alert number (see 'spasmwatch status'); default: the one open alert")
    p.add_argument("--all", action="store_true", help="acknowledge every open alert, of every band")
    p.add_argument("--by", default=command_line_by(), help="who acknowledges, as the family reads it (default: 'command line (<your login>)')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.all and args.alert_id is not None:
        raise SpasmwatchError(f"either an alert number or --all, not both ({args.alert_id} and --all)")
    cfg = daemon_config_of(args)
    ids = [args.alert_id] if args.alert_id is not None else _open_ids(api(cfg, "/api/status")["alerts"], args.all, args.config)
    # As the daemon keeps it (trimmed, cut, storable), so its answer compares equal; a blank --by
    # is the command line, not the daemon's "web page".
    by = kept_as(args.by, command_line_by())
    rc = 0
    for i in ids:
        try:
            a = api(cfg, f"/api/alerts/{i}/ack", {"by": by}, look=LOOK)
        except Refused as e:
            if e.code not in _CALM:
                raise
            print(_calm(e, i))
            rc = 1 if e.code == "store_not_open" else rc  # (nothing done, for a reason the daemon could not read)
            continue
        # Who the daemon has: the first to acknowledge stays (a second ack changes nothing).
        who = a.get("acked_by") or by
        # the first may be anyone's: an MQTT client's or the web page's name, shown not obeyed
        print(f"alert #{a['id']} {a['state']}: acknowledged by {visible(who)}" + ("" if who == by else " (before you)"))
    return rc


def _calm(e: Refused, alert_id: int) -> str:
    """The line for the daemon's calm refusal ``e`` of the ack of ``alert_id`` (its code in _CALM)."""
    seen_to = e.answer.get("acked_by") if e.code == "alert_over" else None
    if isinstance(seen_to, str):  # (anyone's name: an MQTT client's or the web page's, shown not obeyed)
        return ALREADY_SEEN_TO.format(id=alert_id, by=visible(seen_to))
    return _CALM[str(e.code)].format(id=alert_id)


def _open_ids(alerts: list[dict[str, Any]], every: bool, config: str | None) -> list[int]:
    """The open alerts nobody acknowledged yet: all with ``every``, else the only one; more than one
    is an error that lists them (which baby's alarm is for the parent to say; ``config``: the
    --config given, which the command it suggests repeats)."""
    waiting = [a for a in alerts if a["state"] in OPEN_STATES and not a.get("acked_by")]
    if not waiting:
        raise SpasmwatchError("no open alert to acknowledge")
    if every or len(waiting) == 1:
        return [a["id"] for a in waiting]
    listed = "\n".join(visible(f"  #{a['id']} {a['state']}: {a['title']}") for a in waiting)
    example = in_quotes(cmd(f"ack {waiting[0]['id']}", Path(config or "."), config is not None))
    raise SpasmwatchError(f"{len(waiting)} alerts are open; acknowledge one by its number, e.g. {example}, "
                          f"or all of them with --all:\n{listed}")  # fmt: skip
