"""``spasmwatch mute DEVICE [--for 30m | --off]``: hold back one band's notices; never a cluster alarm.

For when the band is off the baby on purpose (bath, charging): not-worn,
battery and disconnected notices of that band wait until the mute ends.
A spasm cluster still raises the alarm on every channel.
"""

from __future__ import annotations

import argparse
import re
from typing import Any
from urllib.parse import quote

from spasmwatch.commands._args import command_line_by
from spasmwatch.commands._daemon import add_config_arg, api, daemon_config_of
from spasmwatch.daemon.consts import MAX_MUTE_S
from spasmwatch.errors import SpasmwatchError


def register(sub: Any) -> None:
    p = sub.add_parser("mute", help="hold back one band's fault notices for a while (never a cluster alarm)", description=__doc__)
    add_config_arg(p)
    p.add_argument("device", help="band device id or name (see 'spasmwatch status')")
    p.add_argument("--for", dest="span", default="30m", help=f"how long: 90s, 30m, 2h, at most {MAX_MUTE_S / 3600:g}h (default 30m)")
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
    for_s = 0.0 if args.off else seconds(args.span)
    cfg = daemon_config_of(args)
    # The daemon calls a band by its title (config.Band.title), not always the name given here.
    label = next((b.title for b in cfg.bands if _same(args.device, b.name, b.address, b.port)), None)
    device = _device(api(cfg, "/api/status")["bands"], label or args.device)
    # One path segment, whatever the id holds: a USB serial band's id is its label ("Mila's band").
    api(cfg, f"/api/bands/{quote(device, safe='')}/mute", {"for_s": for_s, "by": args.by})
    print(f"{device}: " + ("unmuted" if for_s == 0 else f"band notices muted for {args.span}; a spasm cluster still raises the alarm"))
    return 0


def _device(status_bands: list[dict[str, Any]], wanted: str) -> str:
    """The device id of the band called ``wanted`` by its id or by the daemon's name for it (the
    name a family wrote in the config, README's example, is not the id a real band reports)."""
    bands: dict[str, str] = {b["device"]: b["name"] for b in status_bands if b["device"]}
    if wanted in bands:
        return wanted
    by_name = [d for d, n in bands.items() if _same(wanted, n)]
    if len(by_name) == 1:
        return by_name[0]
    # The daemon's 404 said only "no band X": status shows a band's name first, its id in brackets.
    known = ", ".join(f"{d} ({n})" for d, n in bands.items()) or "none seen yet"
    raise SpasmwatchError(f"no band with the device id or name {wanted!r}; the daemon's bands: {known}")


def _same(wanted: str, *names: str | None) -> bool:
    """``wanted`` is one of ``names`` whatever the case: a band is one band however its name is
    typed ('config add-band' and the radio match it so); 'mute SPASMWATCH-0001' was refused."""
    return any(n is not None and n.casefold() == wanted.casefold() for n in names)
