"""``spasmwatch test-alarm [--channel NAME]``: check that an alarm reaches every phone and speaker.

The running daemon sends a test alarm, as urgent as a real one, on every
notification channel (or the one named) and says which took it. Nothing was
detected and no alert is opened; a test that fails is not sent again later.
Run it after setting up or changing a channel, and when the page shows a
channel as NOT DELIVERED: a test that gets through clears that.
"""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from spasmwatch.commands._daemon import add_config_arg, api, daemon_config_of

# One attempt per channel, all at once; a sound channel may try player after player (30 s each).
WAIT_S = 120.0


def register(sub: Any) -> None:
    p = sub.add_parser("test-alarm", help="send a test alarm on every notification channel and say which took it",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_config_arg(p)
    p.add_argument("--channel", help="only this channel, named as caregivers name it (sound, desktop, mqtt, ntfy:NAME, ...); "
                   "a wrong name lists the configured ones")
    p.add_argument("--by", default=getpass.getuser(), help="who sends it, said in the message (default: your user name)")
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
        print(f"  {r['channel']}: delivered" if r["ok"] else f"  {r['channel']}: NOT delivered: {r['error']}")
    failed = [r["channel"] for r in out["results"] if not r["ok"]]
    if failed:
        print(f"Check {', '.join(failed)}: its settings in the config, and this computer's internet connection. "
              "Until it works, alarms do not reach you there.")  # fmt: skip
        return 1
    print(f"Every channel took it. Check that it arrived: \"{out['title']}\".")
    return 0
