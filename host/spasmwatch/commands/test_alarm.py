"""``spasmwatch test-alarm [--channel NAME]``: check that an alarm reaches every phone and speaker.

The running daemon sends a test alarm, as urgent as a real one, on every
notification channel (or the one named) and says which took it. Nothing was
detected and no alert is opened; a test that fails is not sent again later.
Run it after setting up or changing a channel, and when the page shows a
channel as NOT DELIVERED: a test that gets through clears that.
"""

from __future__ import annotations

import argparse
from typing import Any

from spasmwatch.commands._args import command_line_by
from spasmwatch.commands._daemon import add_config_arg, api, daemon_config_of

# One attempt per channel, all at once; a sound channel may try player after player (30 s each).
WAIT_S = 120.0


def register(sub: Any) -> None:
    p = sub.add_parser("test-alarm", help="send a test alarm on every notification channel and say which took it",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_config_arg(p)
    p.add_argument("--channel", help="only this channel, named as caregivers name it (sound, desktop, mqtt, ntfy:NAME, ...); "
                   "a wrong name lists the configured ones")
    p.add_argument("--by", default=command_line_by(), help="who sends it, said in the message (default: 'command line (<your login>)')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """0 when every channel took the test, 1 when one did not (the reason is printed)."""
    cfg = daemon_config_of(args)
    channel = cfg.channels.aliases().get(args.channel, args.channel) if args.channel else None
    if channel != args.channel:  # an ntfy channel by its topic, its name until 2026-12-05: said by its name now
        print(f"(that is the channel {channel} now: name it so, or give its [[channels.ntfy]] a name)")
    print(f"Sending a test alarm on {channel or 'every channel'} (waiting up to {WAIT_S:.0f} s)...", flush=True)
    out = api(cfg, "/api/test-alarm", {"channel": channel, "by": args.by}, timeout_s=WAIT_S)
    for r in out["results"]:
        print(f"  {r['channel']}: {outcome(r)}")
    failed = [r for r in out["results"] if not r["ok"]]
    if failed:
        print(check_line(failed, every=channel is None and len(failed) == len(out["results"])))
        return 1
    print(f"Every channel took it. Check that it arrived: \"{out['title']}\".")
    return 0


def outcome(r: dict[str, Any]) -> str:
    """One channel's outcome. A sound played is not said "delivered": its player exits 0 with no
    speaker plugged in (a Raspberry Pi 4's jack), so only someone listening knows it rang (.get:
    a daemon from before the field)."""
    if not r["ok"]:
        return f"NOT delivered: {r['error']}"
    if r.get("heard"):
        return "played on this computer: did you hear it? (the player ran, which does not show that a speaker is plugged in and turned up)"
    return "delivered"


def check_line(failed: list[dict[str, Any]], every: bool) -> str:
    """What to check for the channels that did not take the test. The internet only for one that
    sends over it (.get: a daemon from before the field): a speaker with no audio player was
    sent to check the internet. ``every``: no channel took it, said as what it means."""
    names = ", ".join(r["channel"] for r in failed)
    where = "this computer's internet connection" if any(r.get("network", True) for r in failed) else "this computer"
    if every:
        return (f"No channel took it: a real alarm now would reach nobody. Check {names}: their settings in the "
                f"config, and {where} (each error above says what). Until one works, spasmwatch cannot tell you of a cluster.")
    return f"Check {names}: the settings in the config, and {where}. Until it works, alarms do not reach you there."
