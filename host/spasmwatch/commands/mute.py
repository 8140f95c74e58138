"""``spasmwatch mute DEVICE [--for 30m | --off]``: hold back one band's notices; never a cluster alarm.

For when the band is off the baby on purpose (bath, charging): not-worn,
battery and disconnected notices of that band wait until the mute ends.
A spasm cluster still raises the alarm on every channel.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import quote

from spasmwatch.commands._args import command_line_by
from spasmwatch.commands._daemon import add_config_arg, api, daemon_config_of, hm
from spasmwatch.daemon.consts import MAX_MUTE_S
from spasmwatch.errors import SpasmwatchError
from spasmwatch.words import cmd, in_quotes, visible


# How long a mute lasts without --for: a bath, a change of band.
DEFAULT_SPAN = "30m"


def register(sub: Any) -> None:
    p = sub.add_parser("mute", help="hold back one band's fault notices for a while (never a cluster alarm)", description=__doc__)
    add_config_arg(p)
    p.add_argument("device", help="band device id or name (see 'spasmwatch status')")
    p.add_argument("--for", dest="span", help=f"how long: 90s, 30m, 2h, at most {MAX_MUTE_S / 3600:g}h (default {DEFAULT_SPAN}; "
                   "without --for a longer mute already set is kept)")
    p.add_argument("--off", action="store_true", help="unmute now")
    p.add_argument("--by", default=command_line_by(), help="who mutes, as the family reads it (default: 'command line (<your login>)')")
    p.set_defaults(func=run)


def seconds(span: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh])", span.strip())
    if not m:
        raise SpasmwatchError(f"--for: expected a span like 90s, 30m or 2h, got {span!r}")
    for_s = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]
    if for_s > MAX_MUTE_S:  # named here: the daemon's refusal spoke of its API field, for_s
        raise SpasmwatchError(f"--for: at most {MAX_MUTE_S / 3600:g}h (a longer mute is forgotten, not chosen), got {span!r}")
    return for_s


def run(args: argparse.Namespace) -> int:
    span = args.span or DEFAULT_SPAN
    for_s = 0.0 if args.off else seconds(span)
    cfg = daemon_config_of(args)
    # The daemon calls a band by its title (config.Band.title), not always the name given here.
    label = next((b.title for b in cfg.bands if _same(args.device, b.name, b.address, b.port)), None)
    st = api(cfg, "/api/status")
    band = _band(st["bands"], label or args.device)
    device, until = band["device"], band.get("muted_until")  # .get: a daemon from before the field
    longer = bool(for_s) and until is not None and until > st["now"] + for_s  # a mute set that ends later
    if longer and args.span is None:
        # The default 30 min cut a 2 h mute set for the charger without a word (family review).
        off = in_quotes(cmd(f"mute {shlex.quote(device)} --off", Path(args.config or "."), args.config is not None))
        print(f"{device}: already {_muted(band)}, longer than {span}: kept (--for {span} to shorten it, {off} to end it)")
        return 0
    # One path segment, whatever the id holds: a USB serial band's id is its label ("Mila's band").
    api(cfg, f"/api/bands/{quote(device, safe='')}/mute", {"for_s": for_s, "by": args.by})
    replaced = f" (it was {_muted(band)})" if longer else ""  # shortened on purpose: said
    print(f"{device}: " + ("unmuted" if for_s == 0 else f"band notices muted for {span}{replaced}; a spasm cluster still raises the alarm"))
    return 0


def _muted(band: dict[str, Any]) -> str:
    """"muted until 14:30 by Mum": the band's mute as /api/status has it."""
    by = band.get("muted_by")
    return f"muted until {hm(band['muted_until'])}" + (f" by {visible(by)}" if by else "")


def _band(status_bands: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """The band of /api/status called ``wanted`` by its id or by the daemon's name for it (the
    name a family wrote in the config, README's example, is not the id a real band reports)."""
    bands: dict[str, dict[str, Any]] = {b["device"]: b for b in status_bands if b["device"]}
    if wanted in bands:
        return bands[wanted]
    by_name = [b for b in bands.values() if _same(wanted, b["name"])]
    if len(by_name) == 1:
        return by_name[0]
    # The daemon's 404 said only "no band X": status shows a band's name first, its id in brackets.
    known = ", ".join(f"{d} ({b['name']})" for d, b in bands.items()) or "none seen yet"
    raise SpasmwatchError(f"no band with the device id or name {wanted!r}; the daemon's bands: {known}")


def _same(wanted: str, *names: str | None) -> bool:
    """``wanted`` is one of ``names`` whatever the case: a band is one band however its name is
    typed ('config add-band' and the radio match it so); 'mute SPASMWATCH-0001' was refused."""
    return any(n is not None and n.casefold() == wanted.casefold() for n in names)
