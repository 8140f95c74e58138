"""A family's first run: a starter config.toml (``spasmwatch config init``), bands and phones
added to it (``spasmwatch config add-band``, ``add-ntfy``), and what ``run`` says when the config
or its band is missing.

Each checks the resulting text with tomllib and the real loader (``from_dict``) before writing
the whole file (``config.write_atomic``: old or new, never half). ``init`` never replaces a
file unasked; the ``add-*`` commands append array-of-tables entries (``append_entries``) after
the file's last byte, so every comment and line above them stays as the family wrote it (an
array-of-tables entry may follow any other table in TOML).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shlex
import shutil
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

import tomlkit

from spasmwatch.alerts import sound_tool
from spasmwatch.alerts.desktop_tool import tool as desktop_tool
from spasmwatch.alerts.messages import EN
from spasmwatch.alerts.model import LANGUAGES
from spasmwatch.config import (Band, Config, Http, Ntfy, Webhook, band_key_shared, default_config_path, from_dict, get, load_config, toml_error,
                               is_loopback, toml_loads, write_atomic, write_mode)
from spasmwatch.errors import ConfigError
from spasmwatch.words import cmd

NTFY_SERVER = "https://ntfy.sh"
# secrets.token_urlsafe(18): 24 characters of [-_A-Za-z0-9] (ntfy topics take up to 64 of them),
# 144 random bits: a topic nobody guesses or tries through, since anyone who knows it reads the alarms.
NTFY_TOPIC_BYTES = 18
TOPIC_PREFIX = "spasmwatch-"


@dataclass(frozen=True)
class NewBand:
    """One ``[[bands]]`` table as the command line gives it (None: not written, the default)."""

    name: str
    transport: str | None = None
    address: str | None = None
    port: str | None = None
    label: str | None = None

    def entry(self) -> Entry:
        return Entry("bands", vars(self), "the band")


@dataclass(frozen=True)
class Entry:
    """One array-of-tables entry to append: its dotted key (``channels.ntfy``), its keys (None: not
    written, the default) and what it is, for the messages ("the band")."""

    key: str
    values: Mapping[str, object]
    what: str

    def block(self) -> str:
        """``[[KEY]]`` and its keys, as TOML (tomlkit quotes and escapes the values)."""
        *outer, last = self.key.split(".")
        table: dict[str, object] = {last: [{k: v for k, v in self.values.items() if v is not None}]}
        for part in reversed(outer):
            table = {part: table}
        return tomlkit.dumps(table)


# [daemon.http] token as 'config set daemon.http.token new' makes it: as many random bits as a topic
# (24 characters, over daemon/consts.py MIN_TOKEN_CHARS): nobody on the home network guesses it.
TOKEN_BYTES = NTFY_TOPIC_BYTES
TOKEN_NEW = "new"


def new_token() -> str:
    """A [daemon.http] token nobody guesses (secrets: it lets a phone acknowledge alarms)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_topic_url() -> str:
    """An unguessable ntfy.sh topic (secrets, not random: the topic is the only key to the alarms)."""
    return f"{NTFY_SERVER}/{TOPIC_PREFIX}{secrets.token_urlsafe(NTFY_TOPIC_BYTES)}"


# The topics ntfy takes (docs.ntfy.sh; its app refuses others to subscribe to, ntfy.sh answers 404
# to a push there). Checked where the family gives a URL, not by the loader: a config that loads
# today keeps loading.
NTFY_TOPIC_RE = re.compile(r"[-_A-Za-z0-9]{1,64}")
# The names ntfy keeps for its own pages (its server/config.go DefaultDisallowedTopics): a push there
# is answered 400 'topic name is not allowed'. 'https://ntfy.sh/app' is its web app's address bar.
NTFY_RESERVED = frozenset({"docs", "static", "file", "app", "metrics", "account", "settings", "signup", "login", "v1"})


def check_ntfy_url(url: str, option: str = "--ntfy") -> str:
    """``url`` if the config's own rule for [[channels.ntfy]] url takes it and its topic is one ntfy
    takes, else an error naming ``option``."""
    rule = {f.name: f for f in fields(Ntfy)}["url"].metadata
    if not rule["ok"](url):
        raise ConfigError(f'{option}: expected "new" or {rule["expect"]}, got {url!r}')
    parts = urlsplit(url)
    if parts.path.endswith("/"):  # ntfy publishes at ^/TOPIC$ only: every push answered 404
        # (the URL not repeated: its topic is the secret, maybe given on standard input to keep it unseen)
        raise ConfigError(f"{option}: the URL ends in '/', where ntfy answers every push 'not found': give it without the '/'")
    topic = parts.path.rsplit("/", 1)[-1]
    if not NTFY_TOPIC_RE.fullmatch(topic):
        raise ConfigError(f"{option}: the topic {topic!r}: ntfy takes letters, digits, - and _ only (1 to 64 of them): 'new' makes one")
    if topic in NTFY_RESERVED:
        raise ConfigError(f"{option}: the topic {topic!r}: ntfy keeps that name for its own pages and refuses a push there: 'new' makes one")
    return url


# The name an ntfy channel added with neither --name nor --caregiver gets ("phones", then "phones-2",
# ...): without one the config calls it by its topic, which is the secret (docs/alerts.md).
NTFY_DEFAULT_NAME = "phones"


def ntfy_howto(url: str, made: bool, whose: str = NTFY_DEFAULT_NAME, said: bool = True) -> str:
    """How to get the alarms on a phone, and why the topic stays private. ``whose``: the phones it is
    for ('config add-ntfy new --caregiver grandma' said "phones:" of grandma's own topic). ``said``
    False: a URL the family gave on standard input, not repeated (the point of giving it there)."""
    server, topic = url.rstrip("/").rsplit("/", 1)
    other = "" if server == NTFY_SERVER else f", 'Use another server': {server}"
    why = f" it holds {NTFY_TOPIC_BYTES * 8} random bits, so nobody can guess it" if made else " make it long and random"
    at, open_it = (f"{topic} ({url})", f" (or open {url} in a browser)") if said else (f"you gave, on {server}", "")
    return (
        f"{whose}: the alarms go to the ntfy topic {at}\n"
        f"  on each phone: install the ntfy app (Android: Google Play or F-Droid; iPhone: App Store), tap +,\n"
        f"  topic {topic if said else '(the one you gave)'}{other}, Subscribe, and allow its notifications{open_it}\n"
        f"  keep the topic private, like a password: anyone who knows it reads the alarms (and can send false ones);{why}"
    )


def sound_note(phones: bool) -> str | None:
    """What 'config init' says on a computer with no audio player (None: it has one): the local
    alarm, on by default, fails every alarm there, which until now only the first test alarm
    showed. ``phones``: whether the new config has an ntfy channel, which still rings."""
    if sound_tool.players():
        return None
    who = "only the phones hear an alarm" if phones else "an alarm reaches nobody"
    return f"sound: {sound_tool.CANNOT_SOUND}; until then {who}"


def bak_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


# --- config init --------------------------------------------------------------------------------------------

_HEAD = """\
# spasmwatch config, started by 'spasmwatch config init' on {date}.
# Every key is checked when the daemon starts: a mistake is reported with this file, its line,
# the key and what was expected. A line starting with '#' is off: remove the '#' to use it.
# 'spasmwatch config set KEY VALUE' changes one value and keeps these comments;
# 'spasmwatch config show' prints every setting with its default. More: README.md, docs/alerts.md.
#
# Bands: one [[bands]] table each, at the end of this file ('spasmwatch scan' lists the bands
# in range; 'spasmwatch config add-band NAME' adds one there). A band's keys:
# [[bands]]
# name = "spasmwatch-0001"        # as 'spasmwatch scan' shows it
# label = "Sam"                   # the child's name, shown in alerts

[alerts]
{language}
# escalate_after_s = 120          # re-sent to everyone if nobody acknowledges
# quiet_hours = "22:00-07:00"     # holds the band notices below, never a cluster alarm
# quiet_faults = ["log_nearly_full", "clock_unsynced"]   # which (default: all but those that stop detection:
#                                 # a band that drops, runs low, slips off the baby or stops detecting at
#                                 # night still wakes you; add "not_worn" only if it is off at night on purpose)
# daily_summary = "07:30"         # each morning on the phones: last 24 h

[channels.sound]
# enabled = true                  # the local alarm (on by default): works with no internet; it plays
#                                 # again every 30 s until someone acknowledges (at most 10 min)
{sound}{desktop}
"""

# Written where this computer has no audio player: the channel stays on, to sound once one is
# installed, and each alarm until then is reported as not delivered (channels/sound.py).
_SOUND_NONE = """\
#                                 # this computer had no audio player when this file was written:
#                                 # 'sudo apt install alsa-utils' (and a speaker plugged in) makes it sound
"""

# Written where this computer has no notify-send (nor osascript): on by default, the channel failed every
# alarm there, and the first 'test-alarm' and every 'status' said "NOT DELIVERED on desktop".
_DESKTOP_OFF = """
[channels.desktop]
enabled = false                   # this computer showed no desktop notifications when this file was written
#                                 # (no notify-send: a Raspberry Pi, a server); on a desktop:
#                                 # 'sudo apt install libnotify-bin', then set this to true
"""

_NTFY_ON = """\
# Phones, also away from home: the ntfy app subscribed to this topic. The topic is the only key:
# anyone who knows it reads the alarms (and can send false ones). Keep it private, like a password.
[[channels.ntfy]]
url = {url}
name = "phones"  # the journal, the status and Home Assistant name the channel by it, never by the topic
"""

_NTFY_OFF = """\
# Phones, also away from home: the ntfy app subscribed to a topic. This one was made at random for
# you: remove the two '#' to use it. The topic is the only key: anyone who knows it reads the alarms.
# [[channels.ntfy]]
# url = {url}
# name = "phones"  # the journal, the status and Home Assistant name the channel by it, never by the topic
"""

_MORE = """
# A caregiver's own phone: 'spasmwatch config add-ntfy new --caregiver grandma' adds both tables.
# [[caregivers]]                  # a channel named here reaches only its caregivers
# name = "grandma"
# channels = ["ntfy:grandma"]     # an [[channels.ntfy]] table with name = "grandma"
# min_urgency = "urgent"          # only alarms (default "low": warnings and band notices too)

# [channels.mqtt]                 # Home Assistant: sensors appear by MQTT discovery
# enabled = true
# host = "homeassistant.local"
# username = "..." and password = "..." as the broker wants; tls = true and port = 8883 to
# encrypt them (ca_file = "/path/to/ca.crt" for a broker with its own CA: docs/alerts.md)

[daemon.http]
# port = 8765                     # the family web page on http://127.0.0.1:8765/
# lan = true and a token ('spasmwatch config set daemon.http.token new') to open it to phones on the home network;
# then 'spasmwatch config tls new' serves it over https:// (each phone warns once: compare the fingerprint it prints);
# 'spasmwatch status --qr' shows the link a phone opens it by as a QR code for its camera
"""


def language_line(code: str | None) -> str:
    """[alerts] language as init writes it: set when given, else the default commented with the choices."""
    what = f"the pushes' language: {', '.join(LANGUAGES)} (the page's too; the commands stay English)"
    return f'language = "{code}"  # {what}' if code else f'# language = "en"                # {what}'


def starter_text(bands: list[NewBand], ntfy_url: str | None, language: str | None = None) -> str:
    """The commented starter config: ``bands`` at its end (none: only the commented example at its
    top) and the ntfy topic (None: a commented one, made at random). Nothing but blank lines comes
    between the last table and the bands: tomlkit ('config set') adds a key to a table after the
    comments that follow it, and a band's heading would then end up above the new key."""
    ntfy = (_NTFY_ON if ntfy_url else _NTFY_OFF).format(url=tomlkit.string(ntfy_url or new_topic_url()).as_string())
    desktop = "" if desktop_tool() is not None else _DESKTOP_OFF
    sound = "" if sound_tool.players() else _SOUND_NONE
    text = _HEAD.format(date=dt.date.today().isoformat(), language=language_line(language), sound=sound, desktop=desktop) + ntfy + _MORE
    return text + "".join("\n" + band_block(b) for b in bands)


def band_block(band: NewBand) -> str:
    return band.entry().block()


def check_text(text: str, path: Path) -> Config:
    """What the daemon would read from ``text`` at ``path``; its errors name the file."""
    try:
        data = toml_loads(text)
    except tomllib.TOMLDecodeError as e:
        raise toml_error(path, e, text) from e
    return from_dict(data, str(path))


def check_band_name(name: str, option: str) -> None:
    """A band's name from the command line, not blank: '--band ""' was refused as the file's
    '[bands #1] name: set name ... or address' (a file not written), and '--band "  "' written."""
    if not name.strip():
        raise ConfigError(f"{option}: a band's name as 'spasmwatch scan' shows it (e.g. spasmwatch-0001), got {name!r}")


def init(path: Path, bands: list[NewBand], ntfy_url: str | None, force: bool, language: str | None = None) -> Path | None:
    """Write the starter config at ``path``; with ``force`` an existing one is kept as
    ``config.toml.bak`` (its path is returned), else refused. Nothing is written on an error."""
    if path.is_symlink() or path.exists() and not path.is_file():  # the rename would replace a link, not its file
        raise ConfigError(f"{path}: is a link, a folder or a device, not a config file: give another --config")
    for b in bands:
        check_band_name(b.name, "--band")
    names = [b.name.casefold() for b in bands]
    twice = [b.name for i, b in enumerate(bands) if b.name.casefold() in names[:i]]
    if twice:
        raise ConfigError(f"--band {twice[0]}: given twice")
    text = starter_text(bands, ntfy_url, language)
    check_text(text, path)
    kept = None
    if path.exists():
        if not force:
            raise ConfigError(
                f"{path}: a config is already there: not replacing it (--force replaces it and keeps it as "
                f"{bak_path(path).name}; 'spasmwatch config add-band NAME' adds a band to it)"
            )
        kept = bak_path(path)
        shutil.copy2(path, kept)  # its mode too: it may hold tokens
    _write(path, text.encode("utf-8"), 0o600)  # the ntfy topic is a secret
    return kept


# --- config add-band ---------------------------------------------------------------------------------------


def _no_twice(path: Path, have: list[Band], new: NewBand) -> None:
    """Refuse a band already configured (same name, address or serial port), naming its table."""
    for i, old in enumerate(have, 1):
        key = band_key_shared(new, old)
        if key is not None:
            raise ConfigError(f'{path}: [bands #{i}] already has {key} = "{getattr(old, key)}": not adding it twice')


def add_band(path: Path, band: NewBand, given: bool) -> Config:
    """Append ``band`` as a ``[[bands]]`` table (``append_entries``); refused when it is there already."""
    check_band_name(band.name, "NAME")
    start = cmd("config init --band " + shlex.quote(band.name), path, given)
    return append_entries(path, [band.entry()], lambda old: _no_twice(path, old.bands, band), start)


def append_entries(path: Path, entries: list[Entry], refuse: Callable[[Config], None], start: str) -> Config:
    """Append ``entries`` after the file's last byte (all above it kept as it is, a BOM and CRLF
    too), once the loader takes the result and reads each as one more entry of its key.
    ``refuse`` raises for what the file already has (checked on the file as it is); ``start``:
    the command that makes a file, when there is none. Nothing is written on an error."""
    if path.is_symlink() or not path.is_file():
        if path.exists():
            raise ConfigError(f"{path}: is a link, a folder or a device, not a config file: give another --config")
        raise ConfigError(f"no config at {path} yet: start one with '{start}'")
    old = load_config(path)  # the file's own errors first, as 'run' would report them
    refuse(old)
    raw = path.read_bytes()
    nl = b"\r\n" if b"\r\n" in raw else b"\n"
    lead = b"" if not raw.strip() else nl * ((0 if raw.endswith(nl * 2) else 1) + (0 if raw.endswith(nl) else 1))
    new = raw + lead + "\n".join(e.block() for e in entries).encode("utf-8").replace(b"\n", nl)
    what = " and ".join(e.what for e in entries)
    tables = " and ".join(f"[[{e.key}]]" for e in entries)
    tables = f"a {tables} table" if len(entries) == 1 else f"the {tables} tables"
    try:
        data = toml_loads(new.decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as e:  # e.g. the file writes its bands inline: bands = [{...}]
        raise ConfigError(f"{path}: {tables} cannot be added at its end ({e}): add {what} by hand") from e
    cfg = from_dict(data, str(path))
    for key, n in Counter(e.key for e in entries).items():
        if len(get(cfg, key)) != len(get(old, key)) + n:  # the new table was not read as one more entry
            raise ConfigError(f"{path}: the [[{key}]] table added at its end was not read as one more: add {what} by hand")
    _write(path, new, write_mode(path, cfg))  # the bytes as read (a BOM, CRLF too) + the tables
    return cfg


# --- config add-ntfy (and add-webhook) ----------------------------------------------------------------

# The [[channels.KIND]] tables a channel can be added to, by the schema that names them (ref_name).
_CHANNEL_SCHEMAS: dict[str, type[Ntfy] | type[Webhook]] = {"ntfy": Ntfy, "webhook": Webhook}
_UNNAMED = {"ntfy": "server and a hash of its URL name it", "webhook": "URL's host names it"}  # what ref_name falls back to


@dataclass(frozen=True)
class NewChannel:
    """A ``[[channels.KIND]]`` table and, with ``caregiver``, the ``[[caregivers]]`` it reaches."""

    kind: str  # "ntfy" or "webhook"
    url: str
    name: str | None = None
    caregiver: str | None = None
    min_urgency: str | None = None  # None: not written (the loader's default, "low")

    @property
    def ref(self) -> str:
        """How caregivers and 'test-alarm --channel' name it, as the config does (no name: unnamed_ntfy_name, the host)."""
        return f"{self.kind}:{_CHANNEL_SCHEMAS[self.kind](url=self.url, name=self.name).ref_name}"

    def entries(self) -> list[Entry]:
        out = [Entry(f"channels.{self.kind}", {"url": self.url, "name": self.name}, f"the {self.kind} channel")]
        if self.caregiver is not None:
            cg = {"name": self.caregiver, "channels": [self.ref], "min_urgency": self.min_urgency}
            out.append(Entry("caregivers", cg, "the caregiver"))
        return out



def named(path: Path, new: NewChannel) -> NewChannel:
    """``new`` with a name: its own, else, for ntfy, the first of NTFY_DEFAULT_NAME, -2, -3... the
    config at ``path`` has not given a channel (a missing file: left to add_channel to refuse)."""
    if new.name is not None or new.kind != "ntfy" or not path.is_file():
        return new
    taken = {ch.ref_name.casefold() for ch in load_config(path).channels.ntfy}
    names = (NTFY_DEFAULT_NAME if n == 1 else f"{NTFY_DEFAULT_NAME}-{n}" for n in range(1, len(taken) + 2))
    return replace(new, name=next(n for n in names if n not in taken))


def add_channel(path: Path, new: NewChannel, start: str) -> Config:
    """Append ``new``'s tables (``append_entries``); refused when its URL or name, or its caregiver,
    is configured already. ``start``: the command that makes a file, when there is none."""
    return append_entries(path, new.entries(), lambda old: _no_twin_channel(path, old, new), start)


def _no_twin_channel(path: Path, old: Config, new: NewChannel) -> None:
    """Refuse a channel already there (same URL, or same name as caregivers give it) or a second
    caregiver of the same name, naming the table; names compare case-insensitively, as add-band's."""
    for i, ch in enumerate(getattr(old.channels, new.kind), 1):
        where = f"{path}: [channels.{new.kind} #{i}]"
        if _same_url(ch.url, new.url):
            raise ConfigError(f'{where} already has url = "{ch.url}": not adding it twice')
        if f"{new.kind}:{ch.ref_name}".casefold() == new.ref.casefold():
            named = f'already has name = "{ch.name}"' if ch.name else f"is {new.kind}:{ch.ref_name} already (no name: its {_UNNAMED[new.kind]})"
            raise ConfigError(f"{where} {named}: give this one another --name")
        if new.ref.casefold() in {f"{new.kind}:{r}".casefold() for r in getattr(ch, "old_refs", ())}:
            # Its old name (the topic, or its unnamed name): caregivers may list it still, and would reach the new one.
            raise ConfigError(f"{where} went by {new.ref} before (caregivers may still list it so): give this one another --name")
    for i, cg in enumerate(old.caregivers, 1):
        if new.caregiver is not None and cg.name.casefold() == new.caregiver.casefold():
            both = json.dumps(cg.channels + [new.ref])
            raise ConfigError(
                f'{path}: [caregivers #{i}] already has name = "{cg.name}": not adding a second one (add the channel '
                f"without --caregiver, then: spasmwatch config set caregivers.{i - 1}.channels '{both}')"
            )


def _same_url(a: str, b: str) -> bool:
    """One endpoint whatever the case of its scheme and server, or a '/' at its end."""
    ua, ub = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))
    return (ua.scheme.lower(), ua.netloc.lower(), ua.path, ua.query) == (ub.scheme.lower(), ub.netloc.lower(), ub.path, ub.query)


def routing(new: NewChannel) -> str:
    """What the added channel will carry (the dispatcher's routes: alerts/channels/dispatch.py)."""
    if new.caregiver is None:
        return f"{new.ref}: no caregiver names it, so it gets what every house channel gets (alarms, warnings, band notices)"
    level = new.min_urgency or "low"
    if level == "urgent":  # 'alerted' notices follow an alarm to the channels it reached (docs/alerts.md)
        gets = "alarms only, and the news of those (updated, acknowledged, false alarm)"
    else:
        gets = f"every alarm, and their other notifications from {level} urgency up"
    return f"{new.ref} reaches {new.caregiver} only ([[caregivers]] {new.caregiver}): {gets}"


def restart_step(ref: str, path: Path, given: bool, running: bool, systemctl: str | None, pid: int | None = None) -> str:
    """What comes after adding ``ref``: a running daemon applies its config when told to reload
    (SIGHUP, daemon/reload.py), so it sends nothing to ``ref`` until then; then the test alarm on
    it. ``systemctl``: "systemctl --user" when the installed service runs this config; ``pid``:
    the daemon found serving this config (its store's lock says: daemon/lock.py)."""
    check = "does that phone ring?" if ref.startswith("ntfy:") else "does it arrive?"
    test = f"{cmd('test-alarm --channel ' + shlex.quote(ref), path, given)} ({check})"
    how = apply_step(path, given, running, systemctl, pid)
    if how is None:
        return run_then(path, given, test)
    if how.restarts:
        now = "the daemon running now" if running else "the service's daemon"
        return f"{now} has not read this {path.name}: {ref} gets nothing until it {how.verb}.\nnext: {how.command}, then {test}"
    said = reload_said(how, systemctl)
    return f"the daemon running now applies {path.name} when told to reload: {ref} gets nothing until then.\nnext: {how.command}{said}, then {test}"


def run_then(path: Path, given: bool, test: str) -> str:
    """The next steps when no daemon runs ``path``: 'run', then ``test`` (a test alarm). 'run' is
    the monitor and does not return, so the test goes in another window: 'run, then test-alarm'
    read as one after the other, and a parent pressed Ctrl+C to type the test, which then found
    no daemon (family review)."""
    return f"next: {cmd('run', path, given)} (the monitor: it keeps running in its window until Ctrl+C), then in another window: {test}"


def reload_said(how: ApplyStep, systemctl: str | None) -> str:
    """What 'spasmwatch reload' adds over a bare SIGHUP, said after it (nothing for another step)."""
    if not how.command.startswith("spasmwatch reload"):
        return ""
    also = f"; '{systemctl} reload spasmwatch' does the same without a word" if systemctl else ""
    return f" (it says what changed, or why the edit was not applied{also})"


@dataclass(frozen=True)
class ApplyStep:
    command: str  # what to run
    restarts: bool  # a start or a restart (not a reload: the band's connection is dropped)
    verb: str  # what the daemon does, for the sentence


def apply_step(path: Path, given: bool, running: bool, systemctl: str | None, pid: int | None) -> ApplyStep | None:
    """How an edit of ``path`` reaches the daemon, from what can be known here: a daemon serving
    this file (its pid in the store's lock; the installed user service's too) takes 'spasmwatch
    reload', which says whether the edit applied; the system service's (another user's process)
    'sudo systemctl reload'; a stopped service is started ('reload' would fail); one that answers
    but was started otherwise is restarted; None: nothing runs it."""
    if systemctl is not None and not running:
        return ApplyStep(f"{systemctl} restart spasmwatch", True, "starts")
    if pid is not None and (systemctl is None or not systemctl.startswith("sudo")):
        return ApplyStep(cmd("reload", path, given), False, "reloads")
    if systemctl is not None:
        return ApplyStep(f"{systemctl} reload spasmwatch", False, "reloads")
    if running:
        return ApplyStep(restart_command(None), True, "restarts")
    return None


def restart_command(systemctl: str | None) -> str:
    """How a running daemon is restarted: its service's ``systemctl`` (``service.systemctl_for``),
    else the 'spasmwatch run' started by hand."""
    return f"{systemctl} restart spasmwatch" if systemctl else EN["page.restart_by_hand"]  # (the page's words for it)


def phone_steps(h: Http, path: Path, given: bool) -> list[str]:
    """The 'config set' commands that open the page to the phones on the home network (none when
    it is open to them): a token, then ``lan`` (the config refuses lan without a token)."""
    if h.lan or not is_loopback(h.host):
        return []
    return ([] if h.token else [cmd(f"config set daemon.http.token {TOKEN_NEW}", path, given)]) + [cmd("config set daemon.http.lan true", path, given)]


def _write(path: Path, data: bytes, mode: int) -> None:
    """The whole file or nothing (``config.write_atomic``, as 'config set' writes), its errors
    named as the config's."""
    try:
        write_atomic(path, data, mode)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the config: {exc.strerror or exc}") from exc


# --- what 'run' (and 'service install') say without a band ------------------------------------------------


def no_band_message(path: Path, given: bool) -> str:
    """The next step when ``path`` has no band: make the file, or add a band to it."""
    if not path.exists():
        return (
            f"no config at {path} yet: find your band's name with 'spasmwatch scan', then "
            f"'{cmd('config init --band NAME', path, given)}' writes one (README.md, 'For families')"
        )
    return (
        f"{path}: no [[bands]]: find your band's name with 'spasmwatch scan', then add it with "
        f"'{cmd('config add-band NAME', path, given)}'"
    )


@dataclass(frozen=True)
class Configured:
    """Where the default config has a band scan found: its table (from 1), that table's transport
    and address (None: found by its name), the file."""

    index: int
    transport: str
    path: Path
    address: str | None = None

    @property
    def where(self) -> str:
        return f"[bands #{self.index}] of {self.path}"

    def said(self, name: str, found_on: str, found_at: str) -> str:
        """What scan says of band ``name`` found on transport ``found_on`` at address ``found_at``. A
        band is one by its name whatever its transport (``config.band_key_shared``: add-band refuses
        it, the loader two tables for it), so one configured for another transport is the configured
        one, which the daemon looks for only over that one: "configured already" left it unreachable."""
        if self.transport == found_on:
            return f"{name}: configured already ({self.where})"
        said = (f"{name}: configured for {self.transport} in {self.where}, not {found_on}: the daemon looks for it over "
                f"{self.transport} only; to use it over {found_on}")  # fmt: skip
        if self.address is None:
            return f"{said}: spasmwatch config set bands.{self.index - 1}.transport {found_on}"
        # Its address is the other transport's kind (a MAC, a host:port): the config refuses the
        # transport set alone, and the address set first the other way round.
        return (f'{said}, edit that table: transport = "{found_on}", address = "{found_at}" (one \'config set\' at a '
                "time is refused: each is checked against the other)")  # fmt: skip


def configured_as(name: str) -> Configured | None:
    """Where the default config has band ``name`` (whatever the case), None if it has not, or no
    config loads: 'scan' said "add yours: config add-band NAME" of a band configured already, a
    command that is refused."""
    path = default_config_path()
    try:
        bands = load_config(path).bands if path.is_file() else []
    except ConfigError:
        return None  # a broken file: 'add-band' says what is wrong with it
    for i, b in enumerate(bands, 1):
        if b.name is not None and b.name.casefold() == name.casefold():
            return Configured(i, b.transport, path, b.address)
    return None


def next_step_for(name: str, transport: str) -> str:
    """What 'scan' and 'flash' suggest for a band they found: init or add-band, whichever fits."""
    path, band = default_config_path(), shlex.quote(name)
    extra = "" if transport == "ble" else f" --transport {transport}"
    if path.exists():
        return f"spasmwatch config add-band {band}{extra}"
    if extra:
        return f"spasmwatch config init, then spasmwatch config add-band {band}{extra}"
    return f"spasmwatch config init --band {band} --ntfy new"
