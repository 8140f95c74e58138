"""``spasmwatch config``: start the TOML config, add a band or a phone to it, show, get or set
settings (every change validated before writing)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from spasmwatch.config import (CAREGIVER_URGENCIES, TRANSPORTS, Config, as_written, default_config_path, dump, existing_config, get,
                               holds_secret, is_secret_key, key_parts, load_config, reach_part, secret_places, set_value,
                               set_values, to_dict, write_atomic)
from spasmwatch.urls import REDACTED, redact, url_origin, url_secrets
from spasmwatch.alerts.messages import past_bound_text
from spasmwatch.alerts.model import LANGUAGES
from spasmwatch.errors import ConfigError, SpasmwatchError
from spasmwatch.words import cmd, in_quotes


# A value given as "-" is read from standard input: a prompt that does not echo on a terminal, else
# what is piped or redirected in. A secret on the command line lands in the shell's history and,
# while the command runs, in every account's 'ps' (found by the security review of 2026-12-05).
STDIN = "-"
STDIN_HELP = '"-" reads it from standard input (a prompt that does not echo, or a pipe), out of the shell history and ps'


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="start config.toml, add a band or a phone, show, get or set settings", description=__doc__)
    p.add_argument("--config", default=None, help=f"config file (default {default_config_path()})")
    csub = p.add_subparsers(dest="action", metavar="ACTION")
    _register_first_run(csub)  # first in the help: a family's first run starts here
    sh = csub.add_parser("show", help="the whole effective config, as TOML (its secrets hidden)",
                         description="Print the whole effective config as TOML. Its secrets (the web token, the MQTT "
                         "password, ntfy tokens, the paths of ntfy, webhook and heartbeat URLs) are hidden, as it is "
                         "pasted into questions; --secrets prints them.")  # fmt: skip
    sh.add_argument("--secrets", action="store_true", help="print the secrets too (a config to copy as it is)")
    csub.add_parser("path", help="where the config file is",
                    description="Print the config file's path: --config, else $SPASMWATCH_CONFIG, else the platform's "
                    "config folder; the file need not exist (no file there means the defaults).")  # fmt: skip
    g = csub.add_parser("get", help="one value, e.g. alerts.escalate_after_s", description="Print one value of the effective config.")
    g.add_argument("key", help='dotted key; list items by number or name: bands.0.name, bands."cot.1".name')
    set_help = "set one value (the whole file is checked first; its comments and layout are kept)"
    s = csub.add_parser("set", help=set_help, description=set_help[0].upper() + set_help[1:] + ".")
    s.add_argument("key", help="dotted key; list items by number: caregivers.0.min_urgency")
    s.add_argument("value", help="a TOML value (300, true, '[\"not_worn\"]'); for a text key, the text; "
                   f"for a token, a password or a secret URL, {STDIN_HELP}; daemon.http.token new makes a random one")
    t = csub.add_parser("tls", help="HTTPS for the web page: 'tls new' makes a certificate for this computer",
                        description="Make a self-signed certificate and key for this computer's names (its host name, "
                        "NAME.local, its address on the home network, localhost), 0600 beside the config, and set "
                        "[daemon.http] tls_cert and tls_key to them (a new pair replaces the last one made here). The "
                        "page is then served over https:// from the daemon's next start. Each phone warns once about "
                        "the self-signed certificate: the command prints its fingerprint to compare (as 'spasmwatch "
                        "status' does).")  # fmt: skip
    t.add_argument("tls_action", choices=("new",), metavar="new", help="make a new certificate and key")
    t.add_argument("--name", action="append", default=[], metavar="NAME",
                   help="another name the phones reach this computer by (repeatable), e.g. nursery.example.net")  # fmt: skip
    for action in (csub.choices.values()):
        # --config also after the action (spasmwatch config get KEY --config F)
        action.add_argument("--config", default=argparse.SUPPRESS, help=f"config file (default {default_config_path()})")
    p.set_defaults(func=run)


def _register_first_run(csub: Any) -> None:
    i = csub.add_parser(
        "init", help="write a commented starter config.toml (first run)",
        description="Write a commented starter config at the config path, checked as the daemon reads it. "
        "An existing file is never replaced unasked.",
    )  # fmt: skip
    i.add_argument("--band", action="append", default=[], metavar="NAME", help="a band by the name 'spasmwatch scan' shows (repeatable)")
    i.add_argument("--ntfy", metavar="URL|new|-", help='phone alarms through ntfy: "new" makes an unguessable topic on ntfy.sh, or give its URL; '
                   f"the topic is a secret: {STDIN_HELP}")
    i.add_argument("--language", choices=LANGUAGES, help="the language of the alarms and notices on the phones (default en)")
    i.add_argument("--force", action="store_true", help="replace an existing config, keeping it as config.toml.bak")
    a = csub.add_parser(
        "add-band", help="add a [[bands]] table at the end of the config (its comments kept)",
        description="Append a [[bands]] table to the existing config, checked as the daemon reads it; "
        "everything above it is kept byte for byte.",
    )  # fmt: skip
    a.add_argument("name", metavar="NAME", help="the band's name as 'spasmwatch scan' shows it")
    a.add_argument("--transport", choices=TRANSPORTS, help="how the daemon reaches it (default ble)")
    a.add_argument("--address", help="its address as 'spasmwatch scan' shows it (BLE; host:port for sim)")
    a.add_argument("--port", help="serial device, for --transport serial (e.g. /dev/ttyACM0)")
    a.add_argument("--label", help="the child's name, shown in alerts")
    for kind, what, url_help, example in (
        ("ntfy", "a phone's ntfy topic", '"new" makes an unguessable topic on ntfy.sh (as config init --ntfy new), or give its URL; '
         f"the topic is a secret: {STDIN_HELP}", "grandma"),
        ("webhook", "a webhook", f"where each notification is POSTed as JSON (docs/alerts.md, webhook); its path may be a secret: {STDIN_HELP}",
         "home"),
    ):
        c = csub.add_parser(
            f"add-{kind}", help=f"add {what} ([[channels.{kind}]]) at the end of the config, and its caregiver",
            description=f"Append a [[channels.{kind}]] table (and, with --caregiver, a [[caregivers]] table routed to it) "
            "to the existing config, checked as the daemon reads it; everything above is kept byte for byte.",
        )  # fmt: skip
        c.add_argument("url", metavar="URL|new|-" if kind == "ntfy" else "URL|-", help=url_help)
        _channel_args(c, kind, example)


def _channel_args(p: argparse.ArgumentParser, kind: str, example: str) -> None:
    p.add_argument("--name", help=f"the channel's name: caregivers and test-alarm call it {kind}:NAME (default: --caregiver's name, else "
                   + ("\"phones\", \"phones-2\"...)" if kind == "ntfy" else "the URL's host)"))
    p.add_argument("--caregiver", metavar="NAME", help=f"also add a caregiver NAME (e.g. {example}) routed to this channel: it then carries what they get, "
                   "no one else's notices")
    p.add_argument("--min-urgency", choices=CAREGIVER_URGENCIES, help='with --caregiver: the least urgent notice they get (default "low"; '
                   '"urgent": alarms only; every alarm reaches them whatever it says)')


def run(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else None
    action = args.action or "show"
    if action in ("init", "add-band", "add-ntfy", "add-webhook"):
        return _first_run(args, path or default_config_path(), path is not None)
    if action in ("show", "get"):  # 'set' may start a new file
        path = existing_config(path)
    if action == "tls":
        return _tls_new(args.name, path or default_config_path(), path is not None)
    if action == "path":
        print(path or default_config_path())
    elif action == "get":
        v = get(_loaded(path), args.key)
        print(shown(args.key, v))
    elif action == "set":
        from spasmwatch import firstrun

        file = path or default_config_path()
        made = args.key == "daemon.http.token" and args.value == firstrun.TOKEN_NEW
        value = firstrun.new_token() if made else read_value(args.value, args.key)
        daemon = _daemon_for(file)  # before the edit, which may move the store (daemon.data_dir)
        with unsaid(value if args.value == STDIN else None):
            cfg = set_value(path, args.key, value)
        print(f"{args.key} = {shown_set(args.key, get(cfg, args.key))}  ({file})")
        if made:
            print(f"a random token was made ({firstrun.TOKEN_BYTES * 8} random bits): '{cmd('status', file, path is not None)}' shows the page's "
                  f"link with it, '{cmd('status --qr', file, path is not None)}' as a QR code for each phone's camera")
        hint = _reload_hint(file, path is not None, "it", daemon or _daemon_for(file), args.key)
        if hint is not None:
            print(hint)
    else:
        print(shown_config(_loaded(path), getattr(args, "secrets", False)), end="")
    return 0


def _loaded(path: Path | None) -> Config:
    """``load_config(path)``, each value of the file past a bound said on stderr, as the daemon's
    start logs it and 'spasmwatch status' repeats it (taken as the bound: config.PastBound)."""
    cfg = load_config(path)
    for p in cfg.past_bounds:
        print(f"warning: {past_bound_text(p.args())}", file=sys.stderr)
    return cfg


def read_value(value: str, what: str) -> str:
    """``value`` as given on the command line, or, for STDIN, read from standard input: asked for
    without echo when it is a terminal (getpass), else all that is piped in, its line ending(s) at
    the end cut (echo and files add one). Nothing read is refused: a failed 'pass show X |' would
    otherwise set an empty token (to empty a key, give '""')."""
    if value != STDIN:
        return value
    if sys.stdin is None:
        raise ConfigError(f'{what}: "-" reads the value from standard input, and this command has none')
    text = getpass.getpass(f"{what} (not shown): ") if sys.stdin.isatty() else sys.stdin.read()
    text = text.rstrip("\r\n")
    if not text:
        raise ConfigError(f'{what}: "-" reads the value from standard input, and nothing came: '
                          "pipe or redirect it in, or run the command at a terminal to be asked for it")  # fmt: skip
    return text


@contextmanager
def unsaid(secret: str | None) -> Iterator[None]:
    """Errors raised inside with ``secret`` (read from standard input) cut out of their words: its
    URL's path, query and user parts too ('URL: expected ..., got ...' repeated a mistyped one)."""
    try:
        yield
    except SpasmwatchError as e:
        if secret is None:
            raise
        said = redact(str(e), [secret, *url_secrets(secret)])
        if said == str(e):
            raise
        raise ConfigError(said) from None


def shown_set(key: str, v: Any) -> str:
    """The value 'config set' says it wrote: JSON, or for a secret key what 'config show' prints
    (the terminal's scrollback and a pasted transcript are no place for it either)."""
    field = key_parts(key)[-1]
    if is_secret_key(key) and holds_secret(v, field):
        return json.dumps(_hidden(field, v), ensure_ascii=False)
    return json.dumps(as_written(v))


def _hidden(field: str, v: str) -> str:
    """A secret as 'config show' prints it: a URL as ``scheme://host/[…]``, anything else HIDDEN."""
    return f"{url_origin(v)}/{REDACTED}" if field == "url" else HIDDEN


def shown_config(cfg: Config, secrets: bool) -> str:
    """The config as 'config show' prints it: with ``secrets`` as it is (it reads back as the same
    config), else each secret replaced by HIDDEN or its URL by ``scheme://host/[…]`` and listed in a
    first comment. Until 2026-12-05 it printed them all, and it is what a family pastes to ask
    for help (the daemon's log already never says them: spasmwatch/urls.py)."""
    if secrets:
        return dump(cfg)
    data, hid = to_dict(cfg), []
    for key, table, field in secret_places(data):
        v = table.get(field)
        if not holds_secret(v, field):
            continue
        table[field] = _hidden(field, v)
        hid.append(key)
    if not hid:
        return tomlkit.dumps(data)
    return f"# hidden: {', '.join(hid)} ('spasmwatch config show --secrets' prints them)\n" + tomlkit.dumps(data)


HIDDEN = "[hidden]"


# What an empty value of these keys means: 'config get alerts.daily_summary' printed an empty line.
EMPTY_MEANS = {
    "alerts.daily_summary": "off: no daily summary; 'spasmwatch config set alerts.daily_summary 07:30' sends one each morning",
    "alerts.quiet_hours": "off: no quiet hours, band notices come at any time",
    "daemon.http.token": "none: the page and commands on this computer need none",
    "daemon.http.page_url": "none: a tapped push opens no page",
    "daemon.http.tls_cert": "none: the page is plain HTTP; 'spasmwatch config tls new' makes a certificate",
    "daemon.http.tls_key": "none: the page is plain HTTP; 'spasmwatch config tls new' makes a certificate",
    "daemon.heartbeat.url": "off: no heartbeat service is told the daemon runs",
}


def shown(key: str, v: Any) -> str:
    """A value as 'config get' prints it: a string as it is, else JSON; an empty string as ""
    and what it means (nothing printed read as a broken command)."""
    if v == "":
        return f'"" ({EMPTY_MEANS.get(key, "empty")})'
    return v if isinstance(v, str) else json.dumps(as_written(v))


def _first_run(args: argparse.Namespace, path: Path, given: bool) -> int:
    from spasmwatch import firstrun
    from spasmwatch.commands._daemon import sudo_note

    note = sudo_note(os.geteuid(), os.environ, path)  # the config it writes would be root's, or in root's home
    if note is not None:
        print(note, file=sys.stderr)

    if args.action in ("add-ntfy", "add-webhook"):
        return _add_channel(args, path, given)
    if args.action == "add-band":
        band = firstrun.NewBand(args.name, args.transport, args.address, args.port, args.label)
        cfg = firstrun.add_band(path, band, given)
        print(f"added [bands #{len(cfg.bands)}] {args.name} at the end of {path}")
        hint = _reload_hint(path, given, "the new band", _daemon_for(path))
        print(hint or _start_step(path, given, args.name))
        return 0
    ntfy = None if args.ntfy is None else read_value(args.ntfy, "--ntfy")
    hide = args.ntfy == STDIN and ntfy != "new"  # a topic they gave is not repeated; one made here must be
    with unsaid(ntfy if hide else None):
        url = None if ntfy is None else firstrun.new_topic_url() if ntfy == "new" else firstrun.check_ntfy_url(ntfy)
    had_bak = firstrun.bak_path(path).exists()
    kept = firstrun.init(path, [firstrun.NewBand(n) for n in args.band], url, args.force, args.language)
    print(f"wrote {path}" + (f" with {len(args.band)} band(s): {', '.join(args.band)}" if args.band else " (no band yet)"))
    if kept is not None:
        print(f"kept the old one as {kept}" + (" (replacing the earlier .bak)" if had_bak else ""))
    if url is not None:
        print(firstrun.ntfy_howto(url, made=ntfy == "new", said=not hide))
    else:
        print(f"phones: none yet ({path.name} holds an ntfy topic made for you, commented out: remove its two '#' to use it); "
              f"or '{cmd('config add-ntfy new', path, given)}' adds one")  # fmt: skip
    note = firstrun.sound_note(url is not None)
    if note is not None:
        print(note)
    if args.band:
        print(firstrun.run_then(path, given, f"{cmd('test-alarm', path, given)} (does every phone ring?)"))
    else:
        print(f"next: spasmwatch scan (lists the bands in range), then {cmd('config add-band NAME', path, given)}, "
              f"then {cmd('run', path, given)}")  # fmt: skip
    return 0


def _add_channel(args: argparse.Namespace, path: Path, given: bool) -> int:
    """add-ntfy / add-webhook: the tables appended, how to subscribe (ntfy), whom it reaches, and
    the restart and test alarm that prove it rings."""
    from spasmwatch import firstrun
    from spasmwatch.commands.service import systemctl_for

    if args.min_urgency is not None and args.caregiver is None:
        raise ConfigError("--min-urgency: only with --caregiver (it is that caregiver's filter)")
    kind = args.action.removeprefix("add-")
    raw = read_value(args.url, "URL")
    made = kind == "ntfy" and raw == "new"
    hide = args.url == STDIN and not made  # a URL they gave is not repeated; a topic made here must be
    with unsaid(raw if hide else None):
        url = firstrun.new_topic_url() if made else firstrun.check_ntfy_url(raw, "URL") if kind == "ntfy" else raw
        new = firstrun.named(path, firstrun.NewChannel(kind, url, args.name or args.caregiver, args.caregiver, args.min_urgency))
        start = cmd("config init" + ("" if args.caregiver or kind != "ntfy" else f" --ntfy {shlex.quote(args.url)}"), path, given)
        cfg = firstrun.add_channel(path, new, start)
    added = f"[channels.{kind} #{len(getattr(cfg.channels, kind))}] {new.ref}"
    if args.caregiver is not None:
        added += f" and [caregivers #{len(cfg.caregivers)}] {args.caregiver}"
    print(f"added {added} at the end of {path}")
    if kind == "ntfy":
        whose = f"{args.caregiver}'s phone" if args.caregiver else new.name or firstrun.NTFY_DEFAULT_NAME
        print(firstrun.ntfy_howto(url, made, whose, said=not hide))
    print(firstrun.routing(new))
    daemon = _daemon_for(path) or _Daemon(False, None)  # (None: not after a checked edit)
    print(firstrun.restart_step(new.ref, path, given, daemon.running, systemctl_for(path), daemon.pid))
    return 0


@dataclass(frozen=True)
class _Daemon:
    """The daemon an edit of a config file concerns (``_daemon_for``)."""

    running: bool  # one runs on the file's store (its lock), or, with the lock free, answers on the file's port
    pid: int | None  # the one that reloads this very file ('spasmwatch reload' signals it); None: none, or another file's


def _daemon_for(path: Path) -> _Daemon | None:
    """The daemon on the store ``path`` names, by the store's lock (daemon/lock.py: its pid, the
    file it reloads), whatever port it listens on: the file's port was asked, and after a hand
    edit of it (read only at a start) nothing answered there: 'config set alerts.escalate_after_s
    600' named no reload, 'config set daemon.http.port N' no restart, 'add-band' 'spasmwatch run'
    (a second daemon on the store). With the lock free: whether a daemon answers on the file's
    port all the same, as before (another store's, started from another file; the system
    service's, whose lock this user may not read). None: no file yet, or its [daemon] does not
    read (``config.reach_part``); 'set' then asks again after its edit."""
    from spasmwatch.commands._daemon import answers
    from spasmwatch.daemon.lock import lock_holder, same_file

    if not path.is_file():
        return None
    try:
        at = reach_part(path)
    except ConfigError:
        return None
    held = lock_holder(at.store_path())
    if held is None:
        return _Daemon(answers(at), None)
    return _Daemon(True, held.pid if same_file(held.config, path) and held.here else None)  # (no pid here to signal: lock.py LockHolder.here)


def _start_step(path: Path, given: bool, band: str) -> str:
    """What comes after adding ``band`` with no daemon running this config: the installed service
    started (as 'add-ntfy' says: firstrun.apply_step), else 'spasmwatch run'. It said 'spasmwatch
    run' beside an installed service too: a daemon by hand, gone when its terminal closes."""
    from spasmwatch import firstrun
    from spasmwatch.commands.service import systemctl_for

    test = f"{cmd('test-alarm', path, given)} (does every phone ring?)"
    how = firstrun.apply_step(path, given, False, systemctl_for(path), None)
    if how is None:
        return firstrun.run_then(path, given, test)
    return f"the service's daemon has not read this {path.name}: {band} is not monitored until it {how.verb}.\nnext: {how.command}, then {test}"


_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.?)*")  # what a certificate names a host by (a DNS name, ASCII)


def _tls_new(more_names: list[str], path: Path, given: bool) -> int:
    """'config tls new': a self-signed certificate and key for this computer (and ``more_names``)
    written 0600 beside the config at ``path``, and the config set to them in one write (the two
    go together). The key is written first: a daemon started between the writes reads the old
    pair's certificate with a new key, refused as not a pair, and reads both again 10 s later."""
    from spasmwatch import firstrun, private
    from spasmwatch.tls import CERT_NAME, KEY_NAME, cert_lines, load, self_signed, this_computers_names

    bad = [n for n in more_names if not _HOST_NAME.fullmatch(n)]
    if bad:
        raise SpasmwatchError(f"--name {bad[0]!r}: a host name is letters, digits, '-' and '.' (an address is put in by itself)")
    names, addresses = this_computers_names()
    names += [n for n in more_names if n not in names]
    cert_pem, key_pem = self_signed(names, addresses)
    folder = path.absolute().parent
    cert, key = folder / CERT_NAME, folder / KEY_NAME
    daemon = _daemon_for(path)
    write_atomic(key, key_pem, private.FILE_MODE)
    write_atomic(cert, cert_pem, private.FILE_MODE)
    cfg = set_values(path, {"daemon.http.tls_cert": str(cert), "daemon.http.tls_key": str(key)})
    made = load(cert, key)
    print(f"made {cert} and {key} (0600) for {', '.join(made.names)}; [daemon.http] tls_cert and tls_key set ({path})")
    print("\n".join(cert_lines(made)))
    h = cfg.daemon.http
    steps = firstrun.phone_steps(h, path, given)
    if steps:
        print(f"the page serves this computer only: for the phones, {', then '.join(in_quotes(c) for c in steps)}")
    hint = _reload_hint(path, given, "it", daemon or _daemon_for(path), "daemon.http.tls_cert")
    if hint is not None:
        print(hint)
    return 0


def _reload_hint(path: Path, given: bool, what: str, daemon: _Daemon | None, key: str | None = None) -> str | None:
    """How the running ``daemon`` takes the edit (None: none runs this config): a reload, or a
    restart for a key only a start applies (daemon/reload.py RESTART_KEYS)."""
    from spasmwatch import firstrun
    from spasmwatch.commands.service import systemctl_for
    from spasmwatch.daemon.reload import RESTART_KEYS

    systemctl = systemctl_for(path)
    how = None if daemon is None or not daemon.running else firstrun.apply_step(path, given, True, systemctl, daemon.pid)
    if how is None:
        return None
    if key is not None and key in RESTART_KEYS:
        return f"{key} is read only when the daemon starts: next: {firstrun.restart_command(systemctl)}"
    if how.restarts:
        return f"the daemon running now has not read this {path.name}: next: {how.command}"
    return f"the daemon running now applies {what} when told to reload (the bands stay connected): next: {how.command}{firstrun.reload_said(how, systemctl)}"
