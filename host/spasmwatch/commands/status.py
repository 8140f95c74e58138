"""``spasmwatch status``: the bands and alerts as the running daemon sees them.

Exit status, for scripts (a cron job, a Home Assistant command sensor): 0 when all is good; 1
while something needs a person: an open alert (an alarm, acknowledged or not, a band fault or
disconnect, held back or not), a notification channel not delivering, or the store not open; 2
when the daemon cannot be asked (none answers, another program on its port). What only a restart
applies (a setting changed in the file, the code upgraded since the daemon started) is said as a
warning, not in the status: the daemon monitors meanwhile, as it started.
"""

from __future__ import annotations

import argparse
import json
import shlex
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from spasmwatch import fwbuild
from spasmwatch.alerts.messages import last_known, page_text
from spasmwatch.codeid import running_code, short
from spasmwatch.commands._daemon import add_config_arg, api, daemon_config_of, after_waking, hm, runs_elsewhere
from spasmwatch.config import Config, Http, default_config_path, existing_config, is_loopback
from spasmwatch.daemon.consts import RATE_REBOOTS
from spasmwatch.daemon.flap import span
from spasmwatch.daemon.rawkeep import size_text
from spasmwatch.daemon.stopping import last_stop_note
from spasmwatch.errors import SpasmwatchError
from spasmwatch.tls import TlsError, cert_lines, load
from spasmwatch.urls import host_port
from spasmwatch.words import cmd, in_quotes, visible


# The exit status while status shows something that needs a person (module docstring); 2 is the
# CLI's for an error, so a script tells "not all good" from "could not ask".
NEEDS_A_PERSON_EXIT = 1


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="band connection, battery, worn, sleep and open alerts (from the running daemon)", description=__doc__)
    add_config_arg(p)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--json", action="store_true", help="the raw JSON of the daemon's /api/status")
    what.add_argument("--qr", action="store_true", help="only the web page's link for phones, with its token, as a QR code for each "
                      "phone's camera (whoever photographs it can open the page: do not share it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = daemon_config_of(args)
    if args.qr:
        return qr_run(cfg, args)
    st = api(cfg, "/api/status")
    code = NEEDS_A_PERSON_EXIT if needs_a_person(st) else 0
    if args.json:
        json.dump(st, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return code
    for line in store_lines(st) + stop_lines(st, cfg):
        print(line)
    for b in st["bands"]:
        print("\n".join(visible(line) for line in band_lines(b, args.config, st["now"], st.get("firmware_build"))))  # a band names itself
    restart = restart_step(args)
    for line in exposure_lines(st) + code_lines(st, restart) + config_lines(st, restart, args.config) + channel_lines(st, args.config) + heartbeat_lines(st):
        print(line)
    for line in raw_lines(st) + backup_lines(st) + page_lines(cfg.daemon.http, args.config):
        print(line)
    for line in alert_lines(st):
        print(line)
    return code


def needs_a_person(st: dict[str, Any]) -> bool:
    """Whether /api/status shows what a person must see to: an open alert, a channel whose latest
    delivery failed, the store not open (.get: a daemon from before the fields). Until 2026-12-06
    status exited 0 with a band disconnected or an alarm open (family review)."""
    return bool(open_alerts(st) or st.get("channels_failing") or st.get("store"))


def open_alerts(st: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts of /api/status that status lists: every one not over."""
    return [a for a in st["alerts"] if a["state"] not in ("CLOSED", "OK", "QUIET")]


def alert_lines(st: dict[str, Any]) -> list[str]:
    """The open alerts of /api/status, each line ``visible``: who acknowledged one is any name an
    MQTT client or the web page sent, and a title or text names the bands and that name."""
    lines = []
    for a in open_alerts(st):
        # Who is on it: 'ack' (no id) passes over an acknowledged alert, so status says so too.
        acked = f" (acknowledged by {visible(a['acked_by'])})" if a.get("acked_by") else ""
        # A band notice raised but not pushed: read as one the phones had (a band off at 23:30, held till 07:00).
        held = " (held back: not sent yet, quiet hours, a mute or the rate limit hold it; sent when they end, if still true)" if a.get("held_back") else ""
        lines.append(f"ALERT #{a['id']} {a['state']}{held}{acked}: {visible(a['title'])}")
        lines += [f"  {visible(text)}" for text in str(a["text"]).split("\n")]  # a text's own lines stay lines
    return lines or ["no open alerts"]


def suggest(words: str, config: str | None) -> str:
    """'spasmwatch ``words``' as status suggests it: with the ``--config`` status was given, since the
    bare command asks the daemon of the default config (another daemon, or none)."""
    return cmd(words, Path(config or "."), config is not None)


def band_lines(b: dict[str, Any], config: str | None = None, now: float | None = None, ours: str | None = None) -> list[str]:
    """One band of /api/status for a person (``config``: status's --config, for the commands it
    names; ``now``: the status's, what its "23 min ago" counts from; ``ours``: its
    ``firmware_build``, the build id of this computer's firmware)."""
    worn = {True: "worn", False: "NOT WORN", None: "worn: unknown"}[b["worn"]]
    sleep = {True: "asleep", False: "awake", None: "sleep: unknown"}[b["asleep"]]
    if b["asleep"] is not None and b["sleep_since"] is not None:  # no onset seen yet: no "since -"
        sleep += f" since {hm(b['sleep_since'])}"
    batt = "?" if b["battery_pct"] is None else f"{b['battery_pct']}%"
    lines = [f"{b['name']} ({b['device'] or 'not seen yet'}): {b['state']}{as_of(b, now)} battery {batt}, {worn}, {sleep}"]
    if b["faults"]:
        lines.append(f"  faults: {', '.join(b['faults'])}")
    if b["state"] == "FAULT" and b.get("detail"):  # what a person must do (e.g. switch the band off and on to pair)
        lines.append(f"  {b['detail']}")
    elif b.get("last_error") and not b.get("connected"):  # .get: a daemon from before the field
        lines.append(f"  not connecting: {b['last_error']}")  # no Bluetooth here is not a band out of reach
    if b.get("muted_until") is not None:  # .get: a daemon from before the field; a forgotten mute must be seen
        by = f" by {b['muted_by']}" if b.get("muted_by") else ""
        off = in_quotes(suggest(f"mute {shlex.quote(b['device'])} --off", config))
        lines.append(f"  notices held back until {hm(b['muted_until'])}{by} (cluster alarms still sound; {off} ends it)")
    flap = b.get("link_unstable")  # .get: a daemon from before the field
    if flap:
        lines.append(f"  link unstable: dropped {flap['drops']} times in {span(flap['over_s'])} (events still come in at each "
                     "reconnect, alarms late by the seconds it is down; reseat the cable or bring the band nearer)")
    lines += rate_lines(b)
    if b.get("firmware_old"):  # .get: a daemon from before the field (firmware_age: before h49)
        lines.append(f"  {page_text('firmware_newer' if b.get('firmware_age') == 'newer' else 'firmware_old', {})}")
        lines += firmware_lines(b, ours)
    raw = b.get("raw_paused")  # .get: a daemon from before the field
    if raw:
        lines.append(f"  raw recording paused since {hm(raw['since'])}: {raw['why']} (events, alarms and status go on)")
    rate = b.get("raw_rate")  # .get: a daemon from before the field
    if rate:
        off = (rate["measured_hz"] / rate["nominal_hz"] - 1) * 100
        lines.append(f"  IMU measured at {rate['measured_hz']:.3f} Hz from the raw stream ({off:+.2f} % of its nominal "
                     f"{rate['nominal_hz']:g} Hz; the raw files are dated by it)")
    c = b["last_cluster"]
    if c:
        lines.append(f"  last cluster: {hm(c['start'])}, {c['count']} spasm-like movements, {after_waking(c['post_wake_s'])}")
    return lines


def firmware_lines(b: dict[str, Any], ours: str | None) -> list[str]:
    """The band's firmware against this computer's, for a band whose firmware is not this
    computer's (.get: a daemon from before the fields): which build each has (fwbuild.py)."""
    band = b.get("firmware")
    if not band:
        return []
    theirs = fwbuild.build_of(band)
    said = f"build {theirs}" if theirs else "no build id: flashed by a spasmwatch from before build ids"
    return [f"  its firmware: {band} ({said}); this computer's: build {ours or 'unknown'}"]


def rate_lines(b: dict[str, Any]) -> list[str]:
    """A configured rate the band would not take (``rate_not_taken``; .get: a daemon from before the
    field): monitored at its own, so a note for the engineer, not what needs a person tonight."""
    rate = b.get("rate_not_taken")
    if not rate:
        return []
    running = "?" if rate["running_hz"] is None else f"{rate['running_hz']:g}"
    return [f"  samples at {running} Hz, not the configured {rate['configured_hz']} Hz: the band's IMU or firmware cannot run that "
            f"rate ({RATE_REBOOTS} reboots did not apply it); check rate_hz in the config, or update the band (spasmwatch flash)"]  # fmt: skip


def as_of(b: dict[str, Any], now: float | None) -> str:
    """"; last known at 02:41 (23 min ago):" before a band's battery, worn and sleep while they are
    its last report's (``last_known_at``, which the page reads too), in the page's words; "," while
    they are now's, none is known, or a daemon from before the field. Printed as now's, a band out
    of reach read "worn, asleep" at 3 a.m. as the baby watched (scripted night)."""
    when = b.get("last_known_at")
    if when is None or now is None or (b["battery_pct"], b["worn"], b["asleep"]) == (None, None, None):
        return ","
    return f"; {last_known(when, now, None)}:"


def restart_step(args: argparse.Namespace) -> str:
    """How the daemon serving this config is restarted: its service's systemctl, else by hand (as
    'config set' says it; status said 'systemctl --user restart' to a daemon started by 'run')."""
    from spasmwatch.commands.service import systemctl_for
    from spasmwatch.firstrun import restart_command

    return restart_command(systemctl_for(existing_config(args.config) or default_config_path()))


def store_lines(st: dict[str, Any]) -> list[str]:
    """The store the daemon could not open (it monitors without it; .get: a daemon from before the field)."""
    store = st.get("store")
    if not store:
        return []
    return [f"STORE NOT OPEN since {hm(store['since'])}: {store['error']}",
            f"  alarms go on; each band keeps its events in its flash until the store opens (tried again every {store['retry_s']:g} s)"]  # fmt: skip


def stop_lines(st: dict[str, Any], cfg: Config) -> list[str]:
    """The daemon's last stop, when it was cut short at its deadline (``last_stop_note``): the
    engineer's to read, past, so not in the exit status. The store of the daemon answering (.get:
    one from before the field: the config's)."""
    last = last_stop_note(Path(st.get("store_path") or cfg.store_path()))
    return [] if last is None else [f"LAST STOP CUT SHORT at {last}"]


def exposure_lines(st: dict[str, Any]) -> list[str]:
    """What the daemon's config hands to whoever looks, as its start (or latest reload) warned in the
    log (daemon/wiring.py exposures; .get: a daemon from before the field): a family that never reads
    the journal sees them here. Not a reason for exit 1: nothing is down."""
    return [f"warning: {words}" for words in st.get("exposures", [])]


# What 'status' says a daemon runs that gives no "code" in /api/status: a release from before the
# field (review h45, 2026-12-07).
BEFORE_CODE_IDS = "from before 2026-12-07, older than this"


def code_lines(st: dict[str, Any], restart: str) -> list[str]:
    """The daemon's code (``code``, taken at its start) when it is not the code installed now, that
    this command runs: an upgrade ('pip install -U', 'git pull') since it started, which it runs only
    once restarted (``restart``: how). Nothing for a daemon on another computer, whose installed code
    is not this one's. Until review h45 nothing said so, and --version said 0.1.0 whatever the code.
    A daemon with no ``code`` is from a release before the field, older than this code which has it:
    said too (until review h47 nothing was, and the releases of 2026-12-05 and 12-06 went on after
    'git pull && make install' until a restart nobody was told of). In the web page's words
    (page.old_code, which the page says from the daemon's ``code_changed``), with the two digests."""
    theirs, ours = st.get("code", BEFORE_CODE_IDS), running_code()
    if not isinstance(theirs, str) or theirs == ours or runs_elsewhere(st) is not None:
        return []
    runs = theirs if theirs == BEFORE_CODE_IDS else short(theirs)
    return [f"{page_text('old_code', {'restart': restart})} (code it runs: {runs}; installed: {short(ours)})"]


def config_lines(st: dict[str, Any], restart: str, config: str | None = None) -> list[str]:
    """A config reload that failed (the daemon runs on the config it had), and the settings changed
    in the file that only a restart applies (``restart``: how; .get: a daemon from before the fields)."""
    lines = []
    err = st.get("config_error")
    if err:
        lines.append(f"CONFIG NOT APPLIED since {hm(err['since'])}: {err['error']} (the daemon runs on the config it had; "
                     f"fix the file, then: {suggest('reload', config)}, which says whether it applied)")  # fmt: skip
    keys = st.get("config_needs_restart") or []
    if keys:  # in the web page's words (page.config_restart, which the page says from the same field)
        lines.append(page_text("config_restart", {"keys": ", ".join(keys), "restart": restart}))
    return lines


def channel_lines(st: dict[str, Any], config: str | None = None) -> list[str]:
    """The notification channels whose latest delivery failed (.get: a daemon from before the
    fields), and what that leaves: it said "the other channels still work" when every one failed,
    and sent a family with no audio player to check its internet connection."""
    failing = st.get("channels_failing", [])
    lines = [
        f"NOT DELIVERED on {c['channel']} since {hm(c['since'])}: {c['error']} (check {fix_hint(c.get('network', True))}, "
        f"then {in_quotes(suggest('test-alarm --channel ' + c['channel'], config))})"
        for c in failing
    ]
    if failing and "channels" in st:
        lines.append(others_line(st["channels"], {c["channel"] for c in failing}, config))
    return lines + [
        f"{c['channel']}: changed since it failed at {hm(c['since'])} ({c['error']}); not known to deliver until it sends: "
        f"test it with {in_quotes(suggest('test-alarm --channel ' + c['channel'], config))}"
        for c in st.get("channels_changed", [])  # (.get: a daemon from before the field)
    ]


def fix_hint(network: bool) -> str:
    """Where to look for a channel that failed: a push over the network may fail on this
    computer's internet; sound and desktop fail on this computer (the error names what)."""
    return "this computer's internet connection and the channel's settings" if network else "the channel's settings and this computer (the error says what is missing)"


def others_line(channels: list[str], failing: set[str], config: str | None = None) -> str:
    """What still carries an alarm while ``failing`` do not: said plainly when nothing does."""
    working = [c for c in channels if c not in failing]
    if not working:
        return ("NO CHANNEL DELIVERS: an alarm now reaches nobody, no phone and no speaker. Until one works, "
                f"spasmwatch cannot tell you of a cluster: fix one, then {in_quotes(suggest('test-alarm', config))}")  # fmt: skip
    return f"the other channels ({', '.join(working)}) are not failing"


def qr_run(cfg: Config, args: argparse.Namespace) -> int:
    """'status --qr': the page's link for phones as a QR code (``qr_lines``) and the page's address
    under it, once the daemon answers (a code for a page that does not would open nothing), with
    what a phone meets next: the certificate's warning over HTTPS, a .local name it may not resolve,
    a setting the daemon reads only at its next start. Printed only when asked: the code carries the
    token (the log and the pushes never carry it)."""
    from spasmwatch import firstrun
    from spasmwatch.qr import qr_lines

    h = cfg.daemon.http
    steps = firstrun.phone_steps(h, existing_config(args.config) or default_config_path(), args.config is not None)
    if steps:  # a phone cannot open the page: the code would only leak the token
        why = "it asks no token ([daemon.http] token), so it is served to this computer alone" if not h.token else \
            "it is served to this computer alone (127.0.0.1: [daemon.http] lan is not set)"
        raise SpasmwatchError(f"no QR code: a phone cannot open the web page, {why}. For the phones: "
                              f"{', then '.join(in_quotes(c) for c in steps)}, then {in_quotes(suggest('status --qr', args.config))} again")
    st = api(cfg, "/api/status")
    host, port, guessed = _phone_address(h)
    print("\n".join(qr_lines(_token_link(h, host, port))))
    print(f"web page for phones: {h.scheme}://{host_port(host, port)}/ (the code holds this address with the page's token)")
    print("whoever photographs this code can open the page and acknowledge alarms: do not share it, nor a photo of it. "
          "Scan it with each phone's camera and open the link once (the phone keeps a cookie), then clear this screen")
    if guessed:  # the link is not printed to edit: the code must carry the address itself
        set_it = suggest(f"config set daemon.http.page_url {h.scheme}://ADDRESS:{port}/", args.config)
        print(f"a phone that cannot open {host} (an older Android's resolves no .local name): {in_quotes(set_it)} with this "
              f"computer's address on the home network ('hostname -I' prints it first), then {in_quotes(suggest('status --qr', args.config))} again")
    for line in (_cert_lines(h) if h.tls else []) + config_lines(st, restart_step(args), args.config):
        print(line)
    return 0


def page_lines(h: Http, config: str | None = None) -> list[str]:
    """The link with the token for the phones, when the page needs one: the 401 page sends a family
    here. Shown only on this computer, to whoever can read the config that holds the token (never
    in the log, which is pasted into questions, nor in a push, which the ntfy server sees). A page
    on 127.0.0.1 asks for a token set too (HttpServer): its link is this computer's. Over HTTPS, the
    certificate's fingerprint a phone's warning is compared with (``tls.cert_lines``). ``config``:
    status's --config, for the 'status --qr' it names."""
    return _link_lines(h, config) + (_cert_lines(h) if h.tls else [])


def _cert_lines(h: Http) -> list[str]:
    """The certificate's words; what is wrong with it since the daemon started (it serves the one it
    read then): at its next start the page would wait for a good one."""
    try:
        return cert_lines(load(Path(h.tls_cert).expanduser(), Path(h.tls_key).expanduser()))
    except TlsError as e:
        return [f"WEB PAGE CERTIFICATE: {e} (the daemon serves the one it started with; from its next start the page waits for a good one)"]


def _link_lines(h: Http, config: str | None) -> list[str]:
    if not h.token:
        return []
    if not h.lan and is_loopback(h.host):
        return [f"web page on this computer: {_token_link(h, h.host, h.port)} (open it once in its browser, which keeps a cookie; "
                "other accounts of this computer are asked for the token)"]  # fmt: skip
    host, port, guessed = _phone_address(h)
    return [f"web page for phones: {_token_link(h, host, port)} (open it once on each phone, which keeps a cookie; it lets a phone "
            f"acknowledge alarms: give it only to the family; {in_quotes(suggest('status --qr', config))} shows it as a QR code "
            f"for a phone's camera){_elsewhere(host) if guessed else ''}"]  # fmt: skip


def _phone_address(h: Http) -> tuple[str, int, bool]:
    """The name (or address) and port phones reach the page by: page_url's (checked by the config),
    else this computer's mDNS name for a page on every interface (guessed: True), else its host."""
    page = urlsplit(h.page_url)
    guessed = not page.hostname and (h.host in ("0.0.0.0", "::") or is_loopback(h.host))
    return page.hostname or (_mdns_name() if guessed else h.host), page.port or h.port, guessed


def _elsewhere(host: str) -> str:
    """What a phone that resolves no .local name (an older Android's) does: 'hostname -I' is how a
    parent finds this computer's address."""
    return (f" (a phone that cannot open it: the same link with this computer's address on the home network in place of {host} "
            "('hostname -I' prints it first), or set [daemon.http] page_url)")  # fmt: skip


def _token_link(h: Http, host: str, port: int) -> str:
    """The page's address with its token, which the browser trades for a cookie at its first visit."""
    return f"{h.scheme}://{host_port(host, port)}/?token={quote(h.token.strip(), safe='')}"


def _mdns_name() -> str:
    """This computer as phones on the home network reach it by name (mDNS, e.g. raspberrypi.local)."""
    name = socket.gethostname()
    return name if "." in name else f"{name}.local"


def raw_lines(st: dict[str, Any]) -> list[str]:
    """The raw files kept, once the daemon has looked (.get: a daemon from before the field); none without any."""
    k = st.get("raw_kept")
    if not k or not k["files"]:
        return []
    days = k["keep_days"]
    rule = (f"deleted {days:g} days after their last sample unless near a cluster or note" if days > 0
            else "all kept: [daemon] raw_keep_days = 0")  # fmt: skip
    return [f"raw recordings: {k['files']} file(s), {size_text(k['bytes'])} ({rule})"]


def backup_lines(st: dict[str, Any]) -> list[str]:
    """The store's daily copies (docs/store.md "Backups"): why the latest due one was not made, else
    how many are kept and when the newest was made (.get: a daemon from before the field says nothing);
    first, why no copy was kept before the daemon's open migrated the store (docs/store.md "Backups")."""
    b = st.get("backups")
    if not b:
        return []
    return [f"STORE NOT COPIED BEFORE ITS UPGRADE: {e}" for e in [b.get("upgrade_copy_error")] if e] + _daily_lines(b)


def _daily_lines(b: dict[str, Any]) -> list[str]:
    """``backup_lines``' of the daily copies."""
    if not b["keep_days"]:
        return ["store backups: off ([daemon] backup_keep_days = 0)"]
    if b["error"]:
        kept = f"{b['files']} kept, the latest made {hm(b['latest'])}" if b["latest"] is not None else "none kept"
        return [f"STORE BACKUP NOT MADE since {hm(b['since'])}: {b['error']} ({kept})"]
    if b["latest"] is None:
        return ["store backups: none yet (the daemon makes one a day)"]
    return [f"store backups: {b['files']} kept ({size_text(b['bytes'])}), the latest made {hm(b['latest'])} ('spasmwatch store backups' lists them)"]


def heartbeat_lines(st: dict[str, Any]) -> list[str]:
    """The dead man's switch ([daemon.heartbeat]): off, pinging, failing, or held back (.get: a
    daemon from before the field says nothing)."""
    if "heartbeat" not in st:
        return []
    hb = st["heartbeat"]
    if hb is None:
        return ["heartbeat: off (nobody is told if this computer goes off: [daemon.heartbeat] url, docs/alerts.md)"]
    last = f"last ping taken {hm(hb['last_ok'])}" if hb["last_ok"] is not None else "no ping taken yet"
    if hb["paused"]:
        return [f"HEARTBEAT HELD BACK to {hb['host']}: {hb['paused']} (its service will say the monitor is down; {last})"]
    if hb["error"]:
        return [f"HEARTBEAT FAILING to {hb['host']} since {hm(hb['failing_since'])}: {hb['error']} ({last}; "
                "check this computer's internet connection and the URL)"]  # fmt: skip
    return [f"heartbeat to {hb['host']} every {hb['every_s']:g} s: {last}"]
