"""The caregiver's configuration: one TOML file, typed, validated with clear errors.

Every error names the file, the TOML table and key, what was expected and
what was found, e.g. ``config.toml: [channels.mqtt] port: expected an
integer 1-65535, got "abc"``. Unknown keys are errors (a typo would
otherwise silently switch a channel off) with a did-you-mean hint.

``set_value`` validates the whole file with the change before writing it
atomically (temp file + ``os.replace``), so a bad value never replaces a
working file. It edits the file's own text (tomlkit): comments, order and
layout stay as the caregiver wrote them.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import json
import math
import os
import re
import shlex
import tempfile
import tomllib
import types
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Protocol, TypeGuard, Union, get_args, get_origin, get_type_hints
from urllib.parse import parse_qs, urlsplit

import platformdirs
from swcore.protocol import RATES_HZ
import tomlkit

from spasmwatch import __version__, private
from spasmwatch.alerts.model import (
    ESCALATE_AFTER_MAX_S, LANGUAGES, QUIET_HOURS_MAX_MIN, RATE_LIMIT_MAX_S, SOUND_REPEAT_EVERY_MAX_S, SOUND_REPEAT_EVERY_MIN_S,
    SOUND_REPEAT_EVERY_S, SOUND_REPEAT_FOR_MAX_S, SOUND_REPEAT_FOR_S, AlertSettings, BandFault, QuietHours, Urgency,
)  # fmt: skip
from spasmwatch.daemon.consts import (
    BACKUP_KEEP_DAYS, BACKUP_KEEP_DAYS_MAX, HEARTBEAT_EVERY_MAX_S, HEARTBEAT_EVERY_MIN_S, HEARTBEAT_EVERY_S, HOME_NAME_SUFFIXES,
    NTFY_NAME_HASH_HEX, RAW_KEEP_DAYS, RAW_KEEP_DAYS_MAX, RAW_RESERVE_MB,
)  # fmt: skip
from spasmwatch.errors import ConfigError, parser_limit, said
from spasmwatch.outfile import replace_durably
from spasmwatch.urls import scrub_urls, url_host, url_origin
from spasmwatch.words import cmd, in_quotes

CONFIG_ENV = "SPASMWATCH_CONFIG"
LOG_LEVELS = ("debug", "info", "warning", "error")
TRANSPORTS = ("ble", "serial", "sim")
# Taken from the engine's enums, so a fault or urgency added there is accepted here too.
BAND_FAULTS = tuple(f.value for f in BandFault)
# Everyone gets URGENT and above (the ALARM), so a caregiver's filter ends there: "critical"
# would read as "escalations only" and still let every alarm through.
CAREGIVER_URGENCIES = tuple(u.name.lower() for u in Urgency if u <= Urgency.URGENT)
_QUIET_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# A band's address as bleak takes it: a MAC (Linux, Windows) or the UUID macOS gives a device;
# for the simulated radio host:port (docs/transport.md). Anything else is never found.
_BLE_ADDRESS_RE = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
_SIM_ADDRESS_RE = re.compile(r"([^\s:]+:)?\d{1,5}")


# A value past a bound -> (what it is taken as, the page word of why: bound_why.<why>), or None: not past one.
Past = Callable[[Any], "tuple[Any, str] | None"]


def _rule(expect: str, ok: Callable[[Any], bool], required: bool = False, past: Past | None = None, bound: str = "") -> dict[str, Any]:
    """Field metadata: what a valid value is (for the message), the test, and
    whether the key must be written (a URL has no sensible default). ``past``: for a value of the
    right kind that ``ok`` refuses for being past a bound (``bound``, as said), what it is taken as
    and why (a page word ``bound_why.<why>``): ``_scalar``, ``PastBound``."""
    return {"expect": expect, "ok": ok, "required": required, "past": past, "bound": bound}


def _shell_words(line: str) -> list[str] | None:
    """The words of a shell-like command line, or None when its quotes do not close."""
    try:
        return shlex.split(line)
    except ValueError:
        return None


def _quiet_hours(text: str) -> QuietHours | None:
    """Two-digit HH:MM-HH:MM the engine takes (``QuietHours.parse``: not an end that is the start,
    "22:00-22:00", which was taken for no quiet hours at all), else None."""
    try:
        q = QuietHours.parse(text)
    except ValueError:
        return None
    return q if _QUIET_RE.match(text) else None


def _quiet_hours_ok(text: str) -> bool:
    """Quiet hours (``_quiet_hours``) of at most QUIET_HOURS_MAX_MIN."""
    q = _quiet_hours(text)
    return q is not None and q.length_min <= QUIET_HOURS_MAX_MIN


def _quiet_hours_past(text: str) -> tuple[str, str] | None:
    """Quiet hours longer than QUIET_HOURS_MAX_MIN taken from their start for that long: shorter,
    they hold back fewer band faults (a fault that stops detection is never held)."""
    q = _quiet_hours(text)
    if q is None or q.length_min <= QUIET_HOURS_MAX_MIN:
        return None
    end = (q.start_min + QUIET_HOURS_MAX_MIN) % (24 * 60)
    return f"{text[:5]}-{end // 60:02d}:{end % 60:02d}", "quiet_hours"


def _choice(*options: str) -> dict[str, Any]:
    return _rule("one of " + ", ".join(f'"{o}"' for o in options), lambda v: v in options)


def _list_of(*options: str) -> dict[str, Any]:
    """A list whose items are each one of ``options``; both messages name them all."""
    item = _choice(*options)
    return {"expect": "a list of " + item["expect"].removeprefix("one of "), "item": item}


# Every secret of the config, as 'config set' names its key (any item of a list of tables: "*"), in
# the order 'config show' lists what it hid. The one list for all that must not say them: the
# loader's errors (``_raise``: a mistake in one, password = 12345678 unquoted, is said without its
# value; the message goes to the journal, stderr, and the page's and 'status''s config error) and
# 'config show' and 'config set' (commands/config.py). A key ``url`` is a secret in its path and
# query (an ntfy topic, a webhook or heartbeat token: its scheme and host are said), any other is
# one whole. [daemon.http] page_url is none: it is refused with a token in it (_check_page_url).
SECRET_KEYS = ("daemon.http.token", "daemon.heartbeat.url", "channels.mqtt.password",
               "channels.ntfy.*.url", "channels.ntfy.*.token", "channels.webhook.*.url")  # fmt: skip


def _url(v: str) -> bool:
    return v.startswith(("http://", "https://")) and bool(_host(v))


def _host(url: str) -> str:
    return url.split("/", 3)[2] if url.count("/") >= 2 else ""


def _absolute(v: str) -> bool:
    """An absolute path (or ~/...): relative to whatever folder a command runs in, the daemon and
    the CLI would each read another file."""
    return Path(v).expanduser().is_absolute()


def _ntfy_url(v: str) -> bool:
    return _url(v) and v.count("/") >= 3 and bool(v.rstrip("/").split("/", 3)[3:])


_PORT = _rule("an integer 1-65535", lambda v: 1 <= v <= 65535)


def _upto(most: float, unit: str, why: str, zero: str = "", symbol: str = "", taken: float | None = None) -> dict[str, Any]:
    """A number from 0 to ``most`` (a bound past which a safety function is off: alerts/model.py,
    daemon/consts.py give each its reason); ``zero``: what 0 means, said with it. A larger one (the
    releases before the bounds took it) is taken as ``most``, or ``taken`` (what it meant), and said
    (``PastBound``, why: the page word ``bound_why.<why>``): refused, the config failed to load after
    an upgrade and the daemon did not start, no monitoring at all (review h47). ``symbol``: the unit
    as the warning says the bound, in every language ("s")."""
    return _rule(f"a number of {unit} 0-{most:g}" + (f" (0: {zero})" if zero else ""), lambda v: 0 <= v <= most,
                 past=lambda v: (most if taken is None else taken, why) if v > most else None,
                 bound=f"0-{most:g}" + (f" {symbol}" if symbol else ""))  # fmt: skip


def _sound_repeat_past(v: float) -> tuple[float, str] | None:
    """repeat_every_s past its bounds taken as the nearest: 0 < v < 2 s plays it at 2 s (players no
    longer pile up), more than 300 s at 300 s (it repeats at least twice in its 10 min)."""
    if 0 < v < SOUND_REPEAT_EVERY_MIN_S:
        return SOUND_REPEAT_EVERY_MIN_S, "repeat_every_s_min"
    return (SOUND_REPEAT_EVERY_MAX_S, "repeat_every_s") if v > SOUND_REPEAT_EVERY_MAX_S else None


# An MQTT prefix: paho refuses a topic with a wildcard (or NUL) in its network thread, and the
# channel then said only that the broker did not answer.
_TOPIC = _rule("a topic without MQTT's wildcards + and #", lambda v: not any(c in v for c in "+#\0"))
_NAME = _rule("a non-empty name without ':'", lambda v: bool(v.strip()) and ":" not in v)
_REQUIRED_NAME = {**_NAME, "required": True}


# --- the schema ---------------------------------------------------------------------------


@dataclass
class Http:
    host: str = "127.0.0.1"
    port: int = field(default=8765, metadata=_PORT)
    lan: bool = False  # serve on every interface (needs a token)
    token: str = ""
    # The page as a phone on the home network opens it, e.g. "http://raspberrypi.local:8765/" (https:// with tls_cert):
    # ntfy pushes open it when tapped (more checks in _check_page_url). "": pushes open nothing.
    page_url: str = field(default="", metadata=_rule('an http:// or https:// URL, or ""', lambda v: v == "" or _url(v)))
    # HTTPS for the page: a PEM certificate and its key ('spasmwatch config tls new' makes both). The
    # files are checked when the daemon starts its page, not here: a bad one costs the page, never the
    # alarms (spasmwatch/tls.py). "" for both: plain HTTP.
    tls_cert: str = field(default="", metadata=_rule('"" or an absolute path (or ~/...)', lambda v: v == "" or _absolute(v)))
    tls_key: str = field(default="", metadata=_rule('"" or an absolute path (or ~/...)', lambda v: v == "" or _absolute(v)))

    @property
    def tls(self) -> bool:
        """Whether the page is served over HTTPS."""
        return bool(self.tls_cert)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"


@dataclass
class Heartbeat:
    # A dead man's switch (docs/alerts.md, "When the monitor itself goes down"): fetched every every_s
    # while the daemon is healthy; the service behind it (healthchecks.io, an Uptime Kuma push
    # monitor) tells the phones when the fetches stop. "": off. More checks in _check_heartbeat.
    url: str = field(default="", metadata=_rule('an http:// or https:// URL, or ""', lambda v: v == "" or _url(v)))
    every_s: float = field(
        default=HEARTBEAT_EVERY_S,
        metadata=_rule(f"a number of seconds {HEARTBEAT_EVERY_MIN_S:g}-{HEARTBEAT_EVERY_MAX_S:g}",
                       lambda v: HEARTBEAT_EVERY_MIN_S <= v <= HEARTBEAT_EVERY_MAX_S),
    )  # fmt: skip


@dataclass
class Daemon:
    log_level: str = field(default="info", metadata=_choice(*LOG_LEVELS))
    # The store's folder; default: the platform's user data dir. Absolute (or ~/...): relative to
    # whatever folder a command runs in, the daemon and the CLI would each open a store of their own.
    data_dir: str | None = field(default=None, metadata=_rule("an absolute path (or ~/...)", _absolute))
    http: Http = field(default_factory=Http)
    # Free space (MB) raw recording leaves for the store's events; raw pauses below it (0: none).
    raw_reserve_mb: float = field(default=RAW_RESERVE_MB, metadata=_rule("a number of MB >= 0 (0: no reserve)", lambda v: v >= 0))
    # Raw files whose newest sample is older than this many days are deleted, except near a cluster
    # or a note (daemon/rawkeep.py); 0 (the default): every file is kept.
    raw_keep_days: float = field(default=RAW_KEEP_DAYS, metadata=_upto(RAW_KEEP_DAYS_MAX, "days", "raw_keep_days", "keep every raw file", taken=0.0))
    # The store's daily copies beside it (<store>.backups/): the newest of this many latest days kept,
    # and of the 4 latest weeks (daemon/backups.py, docs/store.md "Backups"); 0: none made.
    backup_keep_days: int = field(default=BACKUP_KEEP_DAYS, metadata=_upto(BACKUP_KEEP_DAYS_MAX, "whole days", "backup_keep_days", "no backups"))
    heartbeat: Heartbeat = field(default_factory=Heartbeat)


@dataclass
class Band:
    name: str | None = None  # advertised name, e.g. "spasmwatch-0001"
    address: str | None = None  # BLE address (or the OS's id for it)
    transport: str = field(default="ble", metadata=_choice(*TRANSPORTS))
    port: str | None = None  # serial device, e.g. /dev/ttyACM0
    label: str | None = None  # the child's name, shown in alerts
    rate_hz: int = field(default=52, metadata=_rule(f"one of {', '.join(map(str, RATES_HZ))}", lambda v: v in RATES_HZ))  # the band's IMU rate
    raw: bool = False  # keep the raw sample stream in <data dir>/raw/*.swraw (for research; costs battery)

    @property
    def title(self) -> str:
        """What the daemon calls the band in its log, alerts and summaries: its label, else its
        name, address or port."""
        return self.label or self.name or self.address or self.port or "band"


@dataclass
class Alerts:
    escalate_after_s: float = field(default=AlertSettings.escalate_after_s, metadata=_upto(ESCALATE_AFTER_MAX_S, "seconds", "escalate_after_s", symbol="s"))  # the engine's defaults
    # Band alerts only (battery, not worn, ...); a cluster alarm is never muted.
    quiet_hours: str = field(default="", metadata=_rule(f'"HH:MM-HH:MM", the end not the start, at most {QUIET_HOURS_MAX_MIN // 60} h (e.g. "22:00-07:00"; "" for none)',
                                                        lambda v: v == "" or _quiet_hours_ok(v), past=_quiet_hours_past,
                                                        bound=f"{QUIET_HOURS_MAX_MIN // 60} h"))  # fmt: skip
    rate_limit_s: float = field(default=AlertSettings.rate_limit_s, metadata=_upto(RATE_LIMIT_MAX_S, "seconds", "rate_limit_s", symbol="s"))
    # The band faults quiet hours hold back; default: those the band goes on detecting through
    # (the engine's default), so a band that drops or stops detecting at night is said at once.
    quiet_faults: list[str] = field(default_factory=lambda: [f.value for f in BandFault if f in AlertSettings.quiet_faults],
                                    metadata=_list_of(*BAND_FAULTS))  # fmt: skip
    # A summary of each band's last 24 h sent once a day at this local time (the zone of quiet_hours), e.g. "07:30".
    daily_summary: str = field(default="", metadata=_rule('"HH:MM" (e.g. "07:30") or ""', lambda v: v == "" or bool(_HHMM_RE.match(v))))
    # The language of every push (alarms, band alerts, the daily summary) and of the web page; the CLI stays English.
    language: str = field(default=AlertSettings.language, metadata=_choice(*LANGUAGES))

    def daily_summary_min(self) -> int | None:
        """Minutes after local midnight of the daily summary (None: off)."""
        m = _HHMM_RE.match(self.daily_summary)
        return None if m is None else int(m.group(1)) * 60 + int(m.group(2))


@dataclass
class Sound:
    enabled: bool = True
    # Plays the alarm; default: the platform's player. Split like a shell line, checked here.
    command: str | None = field(default=None, metadata=_rule("a command line with balanced quotes", lambda v: _shell_words(v) is not None))
    # An unacknowledged alarm plays again this often, for at most repeat_for_s (0: once); reasons in alerts/model.py.
    repeat_every_s: float = field(
        default=SOUND_REPEAT_EVERY_S,
        metadata=_rule(f"a number of seconds 0 (once) or {SOUND_REPEAT_EVERY_MIN_S:g}-{SOUND_REPEAT_EVERY_MAX_S:g}",
                       lambda v: v == 0 or SOUND_REPEAT_EVERY_MIN_S <= v <= SOUND_REPEAT_EVERY_MAX_S,
                       past=_sound_repeat_past, bound=f"0, {SOUND_REPEAT_EVERY_MIN_S:g}-{SOUND_REPEAT_EVERY_MAX_S:g} s"),
    )  # fmt: skip
    repeat_for_s: float = field(default=SOUND_REPEAT_FOR_S, metadata=_upto(SOUND_REPEAT_FOR_MAX_S, "seconds", "repeat_for_s", symbol="s"))


@dataclass
class Desktop:
    enabled: bool = True


@dataclass
class Webhook:
    url: str = field(default="", metadata=_rule("an http:// or https:// URL", _url, required=True))
    name: str | None = field(default=None, metadata=_NAME)  # default: the URL's host[:port]

    @property
    def ref_name(self) -> str:
        return self.name if self.name else url_host(self.url)

    @property
    def old_refs(self) -> tuple[str, ...]:
        """The name an unnamed table went by until 2026-12-05 (``webhook:`` left out) when it
        differs: the URL's whole authority, with a user name and password in front of the host."""
        return tuple(n for n in (_host(self.url),) if not self.name and n != self.ref_name)


@dataclass
class Ntfy:
    url: str = field(
        default="", metadata=_rule('an http(s) URL ending in the topic, "https://ntfy.sh/topic"', _ntfy_url, required=True)
    )
    name: str | None = field(default=None, metadata=_NAME)  # default: unnamed_ntfy_name(url), not the topic
    token: str | None = None

    @property
    def ref_name(self) -> str:
        return self.name if self.name else unnamed_ntfy_name(self.url)

    @property
    def old_refs(self) -> tuple[str, ...]:
        """The names this table went by before (``ntfy:`` left out): its topic (an unnamed table's
        name until 2026-12-05) and its unnamed name (a table named since). Caregivers, 'test-alarm
        --channel' and the store's rows may still use them (docs/alerts.md, ntfy)."""
        return tuple(n for n in dict.fromkeys((ntfy_topic(self.url), unnamed_ntfy_name(self.url))) if n != self.ref_name)


def ntfy_topic(url: str) -> str:
    """The topic of an ntfy URL (its last path part): the secret."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def unnamed_ntfy_name(url: str) -> str:
    """What an [[channels.ntfy]] without ``name`` is called: its server's host name and the first
    NTFY_NAME_HASH_HEX hex digits of sha256(URL), "ntfy.sh-3f9a1c". The topic is the secret and the
    name is in every log line, the status, the store and MQTT's retained status: the hash tells two
    topics on one server apart and is the same at every start (the URL's, nothing random)."""
    host = (urlsplit(url).hostname or "ntfy").replace(":", ".")  # an IPv6 literal: no ':' in a name
    return f"{host}-{hashlib.sha256(url.rstrip('/').encode()).hexdigest()[:NTFY_NAME_HASH_HEX]}"


@dataclass
class Mqtt:
    enabled: bool = False
    host: str = ""
    port: int = field(default=1883, metadata=_PORT)
    username: str | None = None
    password: str | None = None
    # TLS to the broker (its port is then usually 8883): without it the user name, password and
    # every status cross the home network as they are. The broker's certificate is checked against
    # ca_file (a self-signed broker's CA, PEM), or the system's CAs when it is "".
    tls: bool = False
    ca_file: str = field(default="", metadata=_rule('"" (the system\'s CAs) or a PEM file of the CA that signed the broker\'s certificate',
                                                    lambda v: v == "" or Path(v).expanduser().is_file()))
    topic_prefix: str = field(default="spasmwatch", metadata=_TOPIC)
    discovery_prefix: str = field(default="homeassistant", metadata=_TOPIC)
    # Acknowledge / test alarm from Home Assistant (buttons; {topic_prefix}/{band}/command): on, as
    # a family with Home Assistant expects; the broker's authentication guards it (docs/alerts.md).
    commands: bool = True


@dataclass
class Channels:
    sound: Sound = field(default_factory=Sound)
    desktop: Desktop = field(default_factory=Desktop)
    webhook: list[Webhook] = field(default_factory=list)
    ntfy: list[Ntfy] = field(default_factory=list)
    mqtt: Mqtt = field(default_factory=Mqtt)

    def refs(self) -> list[str]:
        """Names caregivers may list: sound, desktop, mqtt, webhook:NAME, ntfy:NAME."""
        return ["sound", "desktop", "mqtt"] + [f"webhook:{w.ref_name}" for w in self.webhook] + [f"ntfy:{n.ref_name}" for n in self.ntfy]

    def aliases(self) -> dict[str, str]:
        """The names channels went by before -> the name each has now ("ntfy:<topic>" ->
        "ntfy:ntfy.sh-3f9a1c", "webhook:user:pw@host" -> "webhook:host"): caregivers and
        'test-alarm --channel' may still say them, and the daemon moves the store's rows kept under
        them at start. A current name is never an alias, nor one two tables went by (one topic on
        two servers: neither had it alone)."""
        refs = set(self.refs())
        out: dict[str, set[str]] = {}
        tables: list[tuple[str, Ntfy | Webhook]] = [("ntfy", n) for n in self.ntfy] + [("webhook", w) for w in self.webhook]
        for kind, t in tables:
            for old in t.old_refs:
                if f"{kind}:{old}" not in refs:
                    out.setdefault(f"{kind}:{old}", set()).add(f"{kind}:{t.ref_name}")
        return {old: next(iter(new)) for old, new in out.items() if len(new) == 1}


@dataclass
class Caregiver:
    name: str = field(default="", metadata=_REQUIRED_NAME)
    channels: list[str] = field(default_factory=list)
    # The least urgent notification this person wants; alarms reach everyone whatever it says.
    min_urgency: str = field(default="low", metadata=_choice(*CAREGIVER_URGENCIES))


@dataclass
class Config:
    daemon: Daemon = field(default_factory=Daemon)
    bands: list[Band] = field(default_factory=list)
    alerts: Alerts = field(default_factory=Alerts)
    channels: Channels = field(default_factory=Channels)
    caregivers: list[Caregiver] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The values of the file past a bound the loader took as the bound (``PastBound``, in the
        # file's order): no key of the file, so no field (not compared, shown nor written).
        self.past_bounds: list[PastBound] = []

    def store_path(self) -> Path:
        """$SPASMWATCH_DATA_DIR, else ``daemon.data_dir``, else the platform's user data dir."""
        from spasmwatch.store import Store  # the store is not needed to read a config

        if os.environ.get("SPASMWATCH_DATA_DIR") or not self.daemon.data_dir:
            return Store.default_path()
        return Path(self.daemon.data_dir).expanduser() / "spasmwatch.db"


# --- paths and loading ----------------------------------------------------------------------


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(platformdirs.user_config_dir("spasmwatch")) / "config.toml"


def is_default_config(path: Path) -> bool:
    """Whether ``path`` is the default config (a link to it too): a bare command, with no --config,
    finds it."""
    return path.resolve() == default_config_path().resolve()


def existing_config(path: Path | None) -> Path | None:
    """``path`` itself once a file is there (None passes: the default config, absent = defaults).
    For a --config given on the command line: a typo read as the defaults, and 'run' then
    started a daemon with no band on the default store."""
    if path is not None and not path.is_file():
        if path.exists():  # a folder was called 'no such file' (input audit)
            raise ConfigError(f"--config: {path} is a {'folder' if path.is_dir() else 'device'}, not a config file")
        raise ConfigError(f"--config: no such file {path}. {_configs_near(path)}")
    return path


# At most this many config files are named beside a --config that is not there: the ones a typo
# meant are among them; a folder of hundreds (a home folder) would drown the line.
CONFIGS_LISTED = 5


def _configs_near(path: Path) -> str:
    """What a --config that is not there may have meant: the .toml files in its folder, and the
    default config. It suggested 'config init --config TYPO', a new config at the typo, also
    beside the config meant; that is said only where no config is written yet (a first run)."""
    try:
        near = sorted(p.name for p in path.absolute().parent.glob("*.toml") if p.is_file())
    except OSError:
        near = []
    listed = ", ".join(near[:CONFIGS_LISTED]) + (f" and {len(near) - CONFIGS_LISTED} more" if len(near) > CONFIGS_LISTED else "")
    there = f"Config files in {path.absolute().parent}: {listed}. " if near else ""
    default = default_config_path()
    if default.is_file():
        return f"{there}Without --config: {default}."
    if near:
        return f"{there}The default, {default}, is not written yet."
    return (f"No config is written yet: 'spasmwatch config init' writes the default, {default} (then no --config is "
            f"needed), or 'spasmwatch config init --config {shlex.quote(str(path))}' one there.")


def load_config(path: Path | None = None) -> Config:
    """The validated configuration; a missing file gives the defaults."""
    path = default_config_path() if path is None else path
    text = _read_text(path)
    cfg = from_dict(_parse(path, text), str(path), text)
    keep_private(path, cfg)
    return cfg


def from_dict(data: Mapping[str, Any], source: str, text: str = "", refuse_past: frozenset[str] = frozenset()) -> Config:
    """Validate parsed TOML; ``source`` names it in errors, with the line of ``text`` (the file as
    it is on disk) that holds the key when it is given. Not for text not written yet (config set,
    add-band): a line of it would point into a file that does not hold it. A value past a bound is
    taken as the bound (``Config.past_bounds`` says each), but refused for the dotted keys of
    ``refuse_past`` ('config set': the family is there to give another)."""
    where = _Where(source, "", tuple(text.splitlines()), [], refuse_past)
    cfg: Config = _build(Config, data, where)
    _check_config(cfg, where)
    cfg.past_bounds = where.past
    return cfg


@dataclass(frozen=True)
class PastBound:
    """A value of the file past its bound (``_rule`` ``past``), taken as ``taken``: the warning the
    daemon's start and reload log, 'spasmwatch status' and the page repeat (daemon/wiring.py), and
    'config show' and 'get' print (the page word ``exposure.past_bound``, why ``bound_why.<why>``).
    Values as TOML writes them."""

    source: str
    line: int | None
    table: str
    key: str
    value: str
    bound: str
    taken: str
    why: str

    def args(self) -> dict[str, Any]:
        """The page word's values (``page.exposure.past_bound``; "?" for a line not found)."""
        return {"file": self.source, "line": "?" if self.line is None else self.line, "table": self.table, "setting": self.key,
                "value": self.value, "bound": self.bound, "taken": self.taken, "why": self.why}  # fmt: skip


def reach_part(path: Path) -> Config:
    """Only ``[daemon] data_dir`` and ``[daemon.http]`` of a file the loader refuses (an edit with
    a mistake further down, or a TOML error: the tables above and below the broken one), as
    defaults otherwise: what the CLI needs to reach a daemon that runs on the config it had (a
    reload keeps it, daemon/reload.py), and to show it the error. ConfigError when even these fail."""
    # A byte that is not UTF-8 (a file saved in a legacy code page) is read past as a syntax error
    # is: the daemon is still reached (found by the hostile-input review: a traceback out of 'ack').
    text = _read_text(path, errors="replace")
    try:
        part = _daemon_reach(text)
    except tomllib.TOMLDecodeError as e:
        raise toml_error(path, e, text) from e
    return from_dict({"daemon": part}, str(path))


_TABLE_HEADER = re.compile(r"^\s*\[")
_AT_LINE = re.compile(r"at line (\d+)")  # (in tomllib's words)


def _daemon_reach(text: str) -> dict[str, Any]:
    """``[daemon]`` data_dir and http of TOML text, around its syntax errors: the text above an
    error's line, and the tables from the next table header after it (checked the same way). The
    broken table is left out: 'config init' puts [daemon.http] near the end, so a typo in [alerts]
    used to leave only the defaults (port 8765) and the CLI lost the daemon it had reached."""
    try:
        data = toml_loads(text)
    except tomllib.TOMLDecodeError as e:
        line = _AT_LINE.search(str(e))
        if line is None:
            raise
        lines = text.splitlines()
        cut = int(line.group(1)) - 1
        try:
            above = _daemon_part(toml_loads("\n".join(lines[:cut])))
        except tomllib.TOMLDecodeError:
            raise e from None  # the file's own error, with its line
        nxt = next((i for i in range(cut + 1, len(lines)) if _TABLE_HEADER.match(lines[i])), None)
        try:
            below = {} if nxt is None else _daemon_reach("\n".join(lines[nxt:]))
        except tomllib.TOMLDecodeError:
            below = {}  # a header line inside a broken array or string: the part above only
        return above | below
    return _daemon_part(data)


def _daemon_part(data: dict[str, Any]) -> dict[str, Any]:
    d = data.get("daemon", {})
    return {k: d[k] for k in ("http", "data_dir") if k in d} if isinstance(d, dict) else {}


def toml_loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``, with its failures that are no TOMLDecodeError (``errors.parser_limit``:
    nesting past Python's recursion limit, a whole number past its digits) as one naming the line
    as tomllib's own do: they were a traceback out of every command reading the config."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except (RecursionError, ValueError) as e:
        limit = parser_limit(text, e, "arrays or tables")
        if limit is None:
            raise
        raise tomllib.TOMLDecodeError(f"{limit[0]} (at line {limit[1]})") from None


# What tomllib's errors most often are in a family's edit, by the start of its message (the line and
# column stay; the line itself is never quoted: it may hold a secret).
_TOML_FIXES = (
    (("Illegal character '\\n'", "Expected \"'\"", "Expected '\"'", "Unterminated string"), "is a closing quote missing?"),
    (("Invalid value",), 'text goes between double quotes, name = "spasmwatch-0001"; true, false and numbers without'),
    (("Cannot overwrite a value",), "a key given twice in one table: keep one"),
    (("Cannot declare",), "a [table] given twice: move its keys under the first and remove the second"),
)


def toml_error(path: Path, e: tomllib.TOMLDecodeError, text: str) -> ConfigError:
    """``e`` as the loader says it: the file, tomllib's words with the line, and the likely fix
    (``text``, the file's, tells a list's table written with one bracket pair from a table twice)."""
    fix = _mixed_brackets(text, str(e)) or next((f for starts, f in _TOML_FIXES if str(e).startswith(starts)), "")
    return ConfigError(f"{path}: TOML syntax error: {e}" + (f": {fix}" if fix else ""))


_HEADER = re.compile(r"\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?")


def _mixed_brackets(text: str, said: str) -> str:
    """The fix when the error's line is a table header whose name the file also gives with the other
    bracket pair ([bands] and [[bands]]): tomllib says 'Cannot declare ... twice' or 'Cannot
    overwrite a value', whose fixes (merge the tables, keep one key) made one band of two; else ""."""
    at = _AT_LINE.search(said)
    if at is None or not said.startswith(("Cannot declare", "Cannot overwrite a value")):
        return ""
    lines = text.splitlines()
    headers = [(m.group(1), re.sub(r"\s*\.\s*", ".", m.group(2))) for line in lines if (m := _HEADER.fullmatch(line))]
    n = int(at.group(1))
    here = _HEADER.fullmatch(lines[n - 1]) if 0 < n <= len(lines) else None
    if here is None:
        return ""
    key = re.sub(r"\s*\.\s*", ".", here.group(2))
    if {b for b, k in headers if k == key} != {"[", "[["}:
        return ""
    return f"[{key}] and [[{key}]] both: each table of the list has two brackets, [[{key}]], one table per item"


def _read_raw(path: Path) -> dict[str, Any]:
    return _parse(path, _read_text(path))


def _read_text(path: Path, errors: str = "strict") -> str:
    """The file's text; "" for no file (the defaults). ``errors``: as ``bytes.decode`` takes it."""
    try:
        return _text(path, errors)
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return toml_loads(text)
    except tomllib.TOMLDecodeError as e:  # its message carries the line and column
        raise toml_error(path, e, text) from e


def _text(path: Path, errors: str = "strict") -> str:
    """The file's text; a UTF-8 byte-order mark (Windows Notepad, 'UTF-8 with BOM' in editors) is
    dropped: TOML has none, and tomllib said 'Invalid statement (at line 1, column 1)' for it,
    pointing at nothing visible (found by the input audit). A UTF-16 one (Notepad's "Unicode") is
    refused saying so: its text was 'not UTF-8 text (invalid start byte at byte 0)'."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ConfigError(f"{path}: saved as UTF-16 (Windows Notepad: 'Unicode'): save it as UTF-8")
    return data.decode("utf-8-sig", errors)


# --- generic validation -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    source: str
    section: str  # "" for the top level
    lines: tuple[str, ...] = ()  # the file's, to name the line of a mistake; () when not known
    past: list[PastBound] = field(default_factory=list)  # the values past a bound taken so far, whole file's
    refuse_past: frozenset[str] = frozenset()  # the dotted keys whose value past a bound is refused (from_dict)

    def error(self, key: str, problem: str) -> ConfigError:
        where = f"[{self.section}] {key}" if self.section else key
        line = key_line(self.lines, self.section, key)
        return ConfigError(f"{self.source}{'' if line is None else f', line {line}'}: {where}: {problem}")

    def sub(self, name: str) -> _Where:
        return _Where(self.source, f"{self.section}.{name}" if self.section else name, self.lines, self.past, self.refuse_past)

    def taken_past(self, key: str, written: Any, taken: Any, bound: str, why: str) -> Any:
        """``written`` (past its bound) taken as ``taken``: noted for the warning (``PastBound``)."""
        self.past.append(PastBound(self.source, key_line(self.lines, self.section, key), self.section, key, _got(written), bound,
                                   _got(as_written(taken)), why))  # fmt: skip
        return taken


_HEADER_LINE = re.compile(r"\s*(\[\[?)([^\[\]]+)\]\]?\s*(#.*)?")
_KEY_LINE = re.compile(r"\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_KEY_PART = re.compile(r"[A-Za-z0-9_\-]+|\"([^\"]*)\"|'([^']*)'")


def key_line(lines: tuple[str, ...], section: str, key: str) -> int | None:
    """The line (from 1) that sets ``key`` of ``section`` as the loader names them ("bands #2",
    "daemon.http"), else the header of that table (a required key left out), else None. A family
    with a [[bands]] table per band, or a key under the wrong table, had to hunt for the mistake.
    Read line by line, as a family writes the file: a key inside an inline table is not found."""
    want = f"{section}.{key}" if section else key
    table, header = "", None
    counts: dict[str, int] = {}  # [[name]] headers so far: the loader numbers a list's tables from 1
    for n, line in enumerate(lines, 1):
        if m := _HEADER_LINE.fullmatch(line):
            name = _dotted(m.group(2))
            counts[name] = counts.get(name, 0) + 1
            table = f"{name} #{counts[name]}" if m.group(1) == "[[" else name
            if table == want or name == want or name.startswith(f"{want}."):  # an unknown table ([[band]] too): its header is the mistake
                return n
            header = n if table == section and header is None else header
        elif (k := _KEY_LINE.match(line)) and (f"{table}.{_dotted(k.group(1))}" if table else _dotted(k.group(1))) == want:
            return n
    return header


def _dotted(name: str) -> str:
    """A TOML key or table name as the loader joins it: 'daemon . "http"' -> 'daemon.http'."""
    return ".".join(m.group(1) or m.group(2) or m.group(0) for m in _KEY_PART.finditer(name))


def _got(v: Any) -> str:
    """A found value as the user wrote it in TOML."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return "a list"
    return said(v) if isinstance(v, int) else str(v)  # a long whole number by its length


def _build(cls: Any, data: Mapping[str, Any], where: _Where) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where.source}: [{where.section}]: expected a table, got {_got(data)}")
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    for key in data:
        if key not in known:
            raise where.error(key, "unknown key" + _did_you_mean(key, known) + _NEWER_KEY)
    for name, f in known.items():
        if f.metadata.get("required") and name not in data:
            raise where.error(name, "required")
    kwargs = {name: _value(hints[name], data[name], f, where) for name, f in known.items() if name in data}
    return cls(**kwargs)


# A key in the file this version does not know may be a newer version's, written by it ('config
# set') before spasmwatch was put back to this one: the daemon then refuses the file at every start
# (the service restarted every 5 s, no band monitored), and the known keys alone did not say why.
_NEWER_KEY = (
    f"; or a newer spasmwatch's key (this is {__version__}): if spasmwatch was put back to an older version, "
    "remove the key or upgrade again"
)


def _did_you_mean(key: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"


def _value(tp: Any, v: Any, f: Any, where: _Where) -> Any:
    tp = _strip_optional(tp)
    if is_dataclass(tp):
        return _build(tp, v, where.sub(f.name)) if isinstance(v, Mapping) else _raise(where, f.name, "a table", v)
    if get_origin(tp) is list:
        if not isinstance(v, list):
            _raise(where, f.name, f.metadata.get("expect", "a list"), v)
        (inner,) = get_args(tp)
        if is_dataclass(inner):
            return [_build(inner, item, where.sub(f"{f.name} #{i + 1}")) for i, item in enumerate(v)]
        # "item": the rule each element must pass (a list of choices), reported like a single value.
        return [_scalar(inner, item, f.name, f.metadata.get("item", {}), where) for item in v]
    return _scalar(tp, v, f.name, f.metadata, where)


def _strip_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


_TYPE_EXPECT = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _scalar(tp: type[Any], v: Any, key: str, meta: Mapping[str, Any], where: _Where) -> Any:
    expect = meta.get("expect", _TYPE_EXPECT[tp])
    written = v  # for the message: -5, as the file says, not -5.0
    if tp is float and isinstance(v, int) and not isinstance(v, bool):
        try:
            v = float(v)
        except OverflowError:  # more digits than a float holds (a key held down)
            _raise(where, key, expect, written)
    ok_type = isinstance(v, tp) and not (tp is not bool and isinstance(v, bool))
    if tp is float and ok_type and not math.isfinite(v):
        ok_type = False
    if not ok_type:
        _raise(where, key, expect, written)
    if "ok" in meta and not meta["ok"](v):
        past_of: Past | None = meta.get("past") if where.sub(key).section not in where.refuse_past else None
        past = None if past_of is None else past_of(v)
        if past is not None:
            return where.taken_past(key, written, past[0], meta["bound"], past[1])
        _raise(where, key, expect, written)  # nonsense in kind (negative, a malformed time), or 'config set' writing it
    return v


def _raise(where: _Where, key: str, expect: str, v: Any) -> Any:
    secret = re.sub(r" #\d+", ".*", where.sub(key).section) in SECRET_KEYS  # "channels.ntfy #1" -> "channels.ntfy.*"
    if secret and key != "url":
        kind = "a string" if isinstance(v, str) else "true or false" if isinstance(v, bool) else _got(v) if isinstance(v, (dict, list)) else "a number"
        raise where.error(key, f"expected {expect}, got {kind}, not repeated here (it is a secret)")
    if secret and isinstance(v, str):
        # Its path and query are the secret (an ntfy topic, a webhook or heartbeat token) and the
        # daemon's start, where this is said, writes to the journal: the rest shows the mistake.
        shown = scrub_urls(v) if "://" in v else v.split("/", 1)[0]
        if shown != v:
            raise where.error(key, f"expected {expect}, got {_got(shown)} and a path, not repeated here (it may be the secret)")
    raise where.error(key, f"expected {expect}, got {_got(v)}")


# --- checks across fields ----------------------------------------------------------------------------


def _token_how(source: str) -> str:
    """The command that sets the token of the file ``source``: a family told only the key had to find
    how (and to keep it out of the shell's history). With --config unless it is the default config,
    which a bare command edits."""
    path = Path(source)
    given = not is_default_config(path)
    made, own = cmd("config set daemon.http.token new", path, given), cmd("config set daemon.http.token -", path, given)
    return f"set one with {in_quotes(made)} (a long random one, made for you), or yours with {in_quotes(own)} (it asks for it without showing it)"


def _check_config(cfg: Config, root: _Where) -> None:
    source, http, web = root.source, cfg.daemon.http, root.sub("daemon.http")
    if http.lan and not http.token:
        raise web.error("token", f"required when lan = true (the page can acknowledge alarms); {_token_how(source)}")
    if not is_loopback(http.host) and not http.token:
        raise web.error("token", f"required when host = {json.dumps(http.host)}, which other machines can reach; {_token_how(source)}")
    if bool(http.tls_cert) != bool(http.tls_key):
        given, missing = ("tls_cert", "tls_key") if http.tls_cert else ("tls_key", "tls_cert")
        raise web.error(missing, f"required with {given}: the certificate and its key go together "
                        "('spasmwatch config tls new' sets both)")  # fmt: skip
    if http.page_url:
        _check_page_url(http, web)
    if cfg.daemon.heartbeat.url:
        _check_heartbeat(cfg.daemon.heartbeat.url, http.token, root.sub("daemon.heartbeat"))
    for i, b in enumerate(cfg.bands, 1):
        _check_band(b, root.sub(f"bands #{i}"))
        _check_band_once(b, cfg.bands[: i - 1], root.sub(f"bands #{i}"))
    _check_unique(root, "channels.webhook", [w.ref_name for w in cfg.channels.webhook])
    _check_unique(root, "channels.ntfy", [n.ref_name for n in cfg.channels.ntfy])
    if cfg.channels.mqtt.enabled and not cfg.channels.mqtt.host:
        raise root.sub("channels.mqtt").error("host", "required when enabled = true")
    refs = cfg.channels.refs()
    aliases = cfg.channels.aliases()  # an ntfy channel's topic, its name until 2026-12-05: still taken
    switches = {"sound": cfg.channels.sound.enabled, "desktop": cfg.channels.desktop.enabled, "mqtt": cfg.channels.mqtt.enabled}
    for i, c in enumerate(cfg.caregivers, 1):
        for ch in c.channels:
            if not switches.get(ch, True):  # the daemon builds no such channel: 'run' would refuse to start
                raise root.sub(f"caregivers #{i}").error(
                    "channels", f"{json.dumps(ch)} is not enabled (set [channels.{ch}] enabled = true, or take it off this list)"
                )
            if ch not in refs and ch not in aliases:
                # Only channels switched on are offered: the hint listed mqtt, off by default (found by the docs run).
                on = [r for r in refs if switches.get(r, True)]
                hint = difflib.get_close_matches(ch, refs, n=1, cutoff=0.5)
                if hint and hint[0] in on:
                    more = f" (did you mean '{hint[0]}'?)"
                elif hint:
                    more = f" (did you mean '{hint[0]}'? it is switched off: set [channels.{hint[0]}] enabled = true)"
                else:
                    more = f" (channels switched on: {', '.join(on)})" if on else " (no channel is switched on)"
                raise root.sub(f"caregivers #{i}").error("channels", f"unknown channel {json.dumps(ch)}{more}")


def bind_host(host: str, lan: bool) -> str:
    """The address the web server listens on for [daemon.http] ``host`` and ``lan``: every
    interface for ``lan`` on a loopback host (daemon/http.py; the CLI compares it with the lock's)."""
    return "0.0.0.0" if lan and is_loopback(host) else host


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    h = host.strip().strip("[]").lower().rstrip(".")
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


_SHARED_RANGE = ipaddress.ip_network("100.64.0.0/10")  # CGNAT, not is_private: see HOME_NAME_SUFFIXES


def is_home(host: str) -> bool:
    """True for this computer and the home network as a name or address says it (consts
    HOME_NAME_SUFFIXES): what a plain http:// may reach without crossing the internet."""
    h = host.strip().strip("[]").lower().rstrip(".")
    if is_loopback(h):
        return True
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        return "." not in h or any(h.endswith("." + s) for s in HOME_NAME_SUFFIXES)
    return ip.is_private or ip in _SHARED_RANGE


# ntfy's Actions header separates its fields with ',' and an action from the next with ';'
# (docs.ntfy.sh/publish, "Action buttons"); headers are Latin-1, and a URL is printable ASCII.
_PAGE_URL_BAD = re.compile(r"[,;'\"]|[^\x21-\x7e]")


def _check_page_url(http: Http, where: _Where) -> None:
    """What ntfy pushes carry: never the LAN token (the ntfy server, ntfy.sh for most families,
    sees every header), an address a phone can reach, characters ntfy's header keeps apart."""
    u = urlsplit(http.page_url)
    address = u.netloc.rsplit("@", 1)[-1]
    if "token" in parse_qs(u.query) or (http.token and http.token in http.page_url) or "@" in u.netloc:
        raise where.error(
            "page_url", "must not carry the token (or a user name or password): the ntfy server sees every push's "
            f'headers. Give "{u.scheme}://{address}/" alone (the page is at /); a phone that opened the link with ?token= '
            "once keeps a cookie for 400 days (docs/web.md)",
        )  # fmt: skip
    try:
        _ = u.port  # raises for a port that is no number 0-65535
    except ValueError:
        raise where.error("page_url", f"{json.dumps(address)}: the port is not a number 1-65535") from None
    if is_loopback(u.hostname or ""):
        raise where.error("page_url", f"{json.dumps(address)} is this computer: a phone cannot open it. Use the name or "
                          f'address the phones reach it by, e.g. "{http.scheme}://raspberrypi.local:8765/"')  # fmt: skip
    if http.tls and u.scheme.lower() == "http":
        raise where.error("page_url", f"the page is served over HTTPS (tls_cert is set): give \"https://{address}/\"")
    if not http.lan and is_loopback(http.host):
        raise where.error("page_url", "the page serves only this computer: set lan = true (and a token) so phones can open it")
    bad = _PAGE_URL_BAD.search(http.page_url)
    if bad:
        raise where.error("page_url", f"{json.dumps(bad.group(), ensure_ascii=False)} cannot go into ntfy's Actions header: "
                          "percent-encode it")  # fmt: skip


def _check_heartbeat(url: str, token: str, where: _Where) -> None:
    """A URL the daemon can fetch every minute all night: never the LAN token (it goes to a
    service outside the home), a port that is a number, no space or other character a URL
    cannot hold as it is (it would fail at every ping, in the dark)."""
    if token and token in url:
        raise where.error("url", "must not carry [daemon.http] token: it goes to a service outside the home. "
                          "Give the URL the service shows for this check")  # fmt: skip
    u = urlsplit(url)
    try:
        _ = u.port
    except ValueError:
        raise where.error("url", f"{json.dumps(u.netloc.rsplit('@', 1)[-1])}: the port is not a number 1-65535") from None
    bad = re.search(r"[^\x21-\x7e]", url)
    if bad:
        raise where.error("url", f"{json.dumps(bad.group(), ensure_ascii=False)} cannot stand in a URL as it is: "
                          "copy the URL the service shows, or percent-encode it")  # fmt: skip


def _check_band(b: Band, where: _Where) -> None:
    if b.transport == "serial" and not b.port:
        raise where.error("port", 'required for transport = "serial" (e.g. "/dev/ttyACM0")')
    if b.transport in ("ble", "sim") and not (b.name or b.address):
        raise where.error("name", 'set name (e.g. "spasmwatch-0001") or address')
    # Found by the input audit: address = "zz:11:22" was taken, and the daemon would look for it all night.
    if b.address is not None and b.transport == "ble" and not _BLE_ADDRESS_RE.fullmatch(b.address):
        raise where.error("address", f'expected a BLE address as \'spasmwatch scan\' shows it, "AA:BB:CC:DD:EE:FF" (macOS: a UUID), got {_got(b.address)}')
    if b.address is not None and b.transport == "sim" and not _SIM_ADDRESS_RE.fullmatch(b.address):
        raise where.error("address", f'expected the simulated radio\'s "host:port", got {_got(b.address)}')


class _BandKeys(Protocol):
    """A [[bands]] table, or one the command line gives (firstrun.NewBand)."""

    @property
    def name(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def port(self) -> str | None: ...


def band_key_shared(a: _BandKeys, b: _BandKeys) -> str | None:
    """The key by which two band tables name one band (its BLE address, serial port or name, in any
    case, as the radio matches a name), or None: two bands. A name counts only where one of the two
    connects by it: two tables each with its own address or port connect to two bands whatever their
    names say (a table copied with its name ran both until 2026-12-06, when the loader refused it
    and the daemon's start with it)."""
    for key in ("address", "port", "name"):
        mine, theirs = getattr(a, key), getattr(b, key)
        if mine is not None and theirs is not None and mine.casefold() == theirs.casefold():
            if key == "name" and (a.address or a.port) and (b.address or b.port):
                return None
            return key
    return None


def _check_band_once(b: Band, before: list[Band], where: _Where) -> None:
    """One band in two tables ran two sessions for it: the second never connected, and said 'Band
    disconnected' to the phones a minute after every start while the band streamed to the first."""
    for j, old in enumerate(before, 1):
        key = band_key_shared(b, old)
        if key is not None:
            raise where.error(key, f"{_got(getattr(b, key))} is the band of [bands #{j}] too: remove one of the two tables "
                              "(a second one would wait for the band all night and say it is disconnected)")  # fmt: skip


def _check_unique(root: _Where, section: str, names: list[str]) -> None:
    for i, n in enumerate(names):
        if n in names[:i]:
            raise root.sub(f"{section} #{i + 1}").error("name", f"{json.dumps(n)} is used twice")


# --- get, set, dump -----------------------------------------------------------------------------------


def get(config: Config, key: str) -> Any:
    """``get(cfg, "alerts.escalate_after_s")``; list items by index from 0 or by name:
    ``"bands.0.transport"``, ``"bands.cot.transport"``."""
    node: Any = config
    parts = key_parts(key)
    for i, part in enumerate(parts):
        if isinstance(node, list):
            part = str(_item_index([plain(x) for x in node], part, ".".join(parts[:i]), key))
        node = _step(node, part, key)
    return node


def _item_index(items: list[Any], part: str, prefix: str, key: str) -> int:
    """Which item of the list at ``prefix`` ``part`` names: its number from 0, or its name (a
    band's [[bands]] name or label, a channel's or caregiver's name), whatever the case. Messages
    count tables from 1 ('[bands #1]') while the keys counted from 0: a name is what a family knows."""
    if part.isdigit():
        if int(part) < len(items):
            return int(part)
        raise ConfigError(f"{key}: no item {part}: {_items_said(items, prefix)}")
    named = [i for i, x in enumerate(items) if isinstance(x, Mapping)
             and any(isinstance(x.get(k), str) and x[k].casefold() == part.casefold() for k in ("name", "label"))]  # fmt: skip
    if len(named) == 1:
        return named[0]
    why = "two are named" if named else "none is named"
    raise ConfigError(f"{key}: {why} '{part}': {_items_said(items, prefix)}")


def _items_said(items: list[Any], prefix: str) -> str:
    """The items of the list at ``prefix`` as 'config set' and 'get' take them (``item_key``)."""
    if not items:
        return f"{prefix} has none in the file"
    return f"{prefix} has {len(items)}: " + ", ".join(item_key(prefix, i, x) for i, x in enumerate(items))


_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")  # TOML's bare keys; any other part is quoted, as TOML does


def key_parts(key: str) -> list[str]:
    """A dotted key's parts, each bare or quoted as in TOML: 'bands."cot.1".transport' is
    ['bands', 'cot.1', 'transport'] (a band's name may hold a '.': 'cot.1' split into 'cot' and '1')."""
    parts, rest = [], key
    while True:
        m = re.match(r'"((?:[^"\\]|\\.)*)"(?=\.|$)|\'([^\']*)\'(?=\.|$)|([^.]*)', rest)
        assert m is not None  # the last branch (bare: anything but '.', as before quotes were read) matches even ""
        if m.group(1) is not None:
            try:
                parts.append(json.loads(f'"{m.group(1)}"'))  # TOML's basic-string escapes are JSON's
            except ValueError:
                raise ConfigError(f"{key}: {m.group(0)} is not a TOML quoted key (a \\ starts an escape such as \\\" or \\\\)") from None
        else:
            parts.append(m.group(2) if m.group(2) is not None else m.group(3))
        rest = rest[m.end():]
        if not rest:
            return parts
        rest = rest[1:]  # the '.' (every branch stops at one or at the end)


def holds_secret(v: object, field: str) -> TypeGuard[str]:
    """Whether the value ``v`` of a secret ``field`` has anything to hide: a text, and for a URL more
    than scheme://host[:port] (a URL of that alone holds no secret)."""
    return isinstance(v, str) and bool(v) and not (field == "url" and v.rstrip("/") == url_origin(v))


def secret_places(data: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(dotted key, its table, its field) of every secret of ``data`` (``to_dict``'s): config.SECRET_KEYS,
    a list's items each in turn with its secret fields together (channels.ntfy.0.url, .0.token, .1.url)."""
    fields_of: dict[str, list[str]] = {}
    for key in SECRET_KEYS:
        table, _, field = key.rpartition(".")
        fields_of.setdefault(table, []).append(field)
    return [(f"{at}.{f}", t, f) for table, fs in fields_of.items() for at, t in _tables_at(data, table.split(".")) for f in fs]


def _tables_at(data: dict[str, Any], parts: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(dotted key, table) of each table of ``data`` at ``parts``, a "*" being each item of a list; a
    table ``data`` lacks is an empty one of its own."""
    found: list[tuple[str, Any]] = [("", data)]
    for part in parts:
        if part == "*":
            found = [(f"{at}.{i}", item) for at, node in found for i, item in enumerate(node if isinstance(node, list) else [])]
        else:
            found = [(f"{at}.{part}" if at else part, node.get(part, {}) if isinstance(node, dict) else {}) for at, node in found]
    return found


def secrets_in(cfg: Config) -> list[str]:
    """The dotted keys of the secrets ``cfg`` holds (``secret_places``), in SECRET_KEYS' order."""
    return [key for key, table, field in secret_places(to_dict(cfg)) if holds_secret(table.get(field), field)]


def write_mode(path: Path, cfg: Config) -> int:
    """The mode to write the config ``path`` with when it is to hold ``cfg``: its own (0600 for a new
    one: ``private.mode_for``), closed to other accounts when ``cfg`` holds a secret (``keep_private``),
    so a secret never lands in a file others can read, not even until the next load."""
    mode = private.mode_for(path)
    return mode & ~private.OTHERS if secrets_in(cfg) else mode


def keep_private(path: Path, cfg: Config) -> None:
    """Close the config file ``path`` to other accounts when it holds a secret (``private.tighten``,
    said once in the log with the secrets' keys, never their values), as ssh refuses a private key
    others can read: one written with an editor under umask 022 was 0644, and 'config set' kept that
    mode when it wrote a token into it (the security review of 2026-12-07). One without a secret
    keeps its mode: the family may share it on purpose."""
    held = secrets_in(cfg)
    if held:
        private.tighten(path, f"the config (it holds {', '.join(held)})")


def is_secret_key(key: str) -> bool:
    """Whether ``key`` ('config set''s form: a list's item by number or name) is one of SECRET_KEYS."""
    parts = key_parts(key)
    return any(len(s) == len(parts) and all(a in ("*", b) for a, b in zip(s, parts)) for s in (k.split(".") for k in SECRET_KEYS))


def quoted_part(part: str) -> str:
    """``part`` as a key part 'config set' takes back (``key_parts``): bare when TOML allows it."""
    return part if _BARE_KEY_RE.fullmatch(part) else json.dumps(part, ensure_ascii=False)


def item_key(prefix: str, i: int, item: Any) -> str:
    """How 'config set' names item ``i`` of the list at ``prefix``: by its name when it has one
    (quoted as TOML does when not a bare key: 'bands."cot.1"'), with its number from 0:
    'bands.cot (bands.0)'."""
    name = _item_name_key(prefix, i, item)
    return f"{name} ({prefix}.{i})" if name else f"{prefix}.{i}"


def _item_name_key(prefix: str, i: int, item: Any) -> str | None:
    name = next((item[k] for k in ("name", "label") if isinstance(item, Mapping) and isinstance(item.get(k), str)
                 and item[k].strip()), None)  # fmt: skip
    return f"{prefix}.{quoted_part(name)}" if name else None


def _step(node: Any, part: str, key: str) -> Any:
    if isinstance(node, list):
        return node[int(part)]  # (_item_index checked it)
    if is_dataclass(node):
        names = {f.name: f for f in fields(node)}
        if part in names:
            return getattr(node, part)
        raise ConfigError(f"{key}: unknown key '{part}'" + _did_you_mean(part, names))
    raise ConfigError(f"{key}: '{part}' is inside a value, not a table")


def set_value(path: Path | None, key: str, value: str) -> Config:
    """Set one key from its command-line text, validate the whole file, write atomically.

    ``value`` is read as a TOML value (``300``, ``true``, ``["a", "b"]``);
    for a string key, or text that is no TOML value, it is the string itself.
    """
    return set_values(path, {key: value})


def set_values(path: Path | None, values: Mapping[str, str]) -> Config:
    """``set_value`` of several keys in one write, checked together: keys that go together
    ([daemon.http] tls_cert and tls_key) are refused one at a time."""
    path = default_config_path() if path is None else path
    _read_raw(path)  # tomllib's errors name the line; the text is then edited in place
    doc = tomlkit.parse(_text(path)) if path.exists() else tomlkit.document()
    for key, value in values.items():
        target = _field_type(key_parts(key), key)
        parts = _numbered(doc.unwrap(), key)
        container = _container(doc, parts, key)
        container[parts[-1]] = value if _strip_optional(target) is str else _parse_value(value)
    try:  # raises before anything is written; a value past a bound the file has is taken (it warns at each load)
        cfg = from_dict(doc.unwrap(), str(path), refuse_past=frozenset(_numbered_dotted(doc.unwrap(), key) for key in values))
    except ConfigError as e:
        raise ConfigError(f"{e}{_set_form(doc.unwrap(), str(e))}") from None
    write_atomic(path, tomlkit.dumps(doc), write_mode(path, cfg))
    return cfg


def _numbered_dotted(raw: Mapping[str, Any], key: str) -> str:
    """``key`` as the loader names its table and key ("bands #1.transport" for bands.cot.transport)."""
    parts = _numbered(raw, key)
    out = ""
    for part in parts:
        out = f"{out} #{int(part) + 1}" if part.isdigit() else f"{out}.{part}" if out else part
    return out


def _numbered(raw: Mapping[str, Any], key: str) -> list[str]:
    """``key``'s parts (``_field_type`` checked them) with each list item's name or number made
    its number in the file (``_item_index``); a list the file lacks has no items."""
    parts, tp = key_parts(key), Config
    node: Any = raw
    for i, part in enumerate(parts):
        tp = _strip_optional(tp)
        if get_origin(tp) is list:
            items: list[Any] = node if isinstance(node, list) else []
            parts[i] = str(_item_index(items, part, ".".join(parts[:i]), key))
            node, tp = items[int(parts[i])], get_args(tp)[0]
            continue
        if not is_dataclass(tp):
            break
        tp = get_type_hints(tp)[part]
        node = node.get(part) if isinstance(node, Mapping) else None
    return parts


_TABLE_ITEM_RE = re.compile(r"\[([a-z_.]+) #(\d+)\] (\w+):")


def _set_form(raw: Mapping[str, Any], message: str) -> str:
    """For the loader's '[bands #1] transport: ...' after a 'config set': the key as 'config set'
    takes it (' (config set bands.cot.transport)'): the message counts from 1, the keys from 0."""
    m = _TABLE_ITEM_RE.search(message)
    if m is None:
        return ""
    node: Any = raw
    for part in m.group(1).split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    i = int(m.group(2)) - 1
    if not isinstance(node, list) or not 0 <= i < len(node):
        return ""
    return f" (config set {_item_name_key(m.group(1), i, node[i]) or f'{m.group(1)}.{i}'}.{m.group(3)})"


def _field_type(parts: list[str], key: str) -> Any:
    """The annotation of the field ``parts`` names (list indices skipped)."""
    tp: Any = Config
    for part in parts:
        tp = _strip_optional(tp)
        if get_origin(tp) is list:  # an item's number or name (``_numbered``)
            tp = get_args(tp)[0]
            continue
        if not is_dataclass(tp):
            raise ConfigError(f"{key}: '{part}' is inside a value, not a table")
        hints = get_type_hints(tp)
        if part not in hints:
            raise ConfigError(f"{key}: unknown key '{part}'" + _did_you_mean(part, hints))
        tp = hints[part]
    bare = _strip_optional(tp)
    if is_dataclass(bare) or (get_origin(bare) is list and is_dataclass(get_args(bare)[0])):
        raise ConfigError(f"{key}: is a table; set one of its keys")
    return tp


def _container(raw: MutableMapping[str, Any], parts: list[str], key: str) -> MutableMapping[str, Any]:
    """The TOML table that holds the last part, created as needed."""
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = node[int(part)]  # (``_numbered`` checked it)
        elif isinstance(node, dict):
            node = node.setdefault(part, [] if parts[i + 1].isdigit() else {})
        else:
            break
    if not isinstance(node, dict):
        raise ConfigError(f"{key}: '{parts[-2]}' is not a table in the file")
    return node


def _parse_value(text: str) -> Any:
    try:
        return toml_loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write beside the file (never readable by others on the way), then rename over it, both
    synced to disk (outfile.py ``replace_durably``): old or new, never half (a full disk, a power
    cut on a Pi). ``data``: text (UTF-8) or the bytes as they are (a BOM, CRLF). ``mode`` None
    keeps an existing file's, else 0o600 (a config holds tokens and passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = private.mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        replace_durably(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_dict(config: Config) -> dict[str, Any]:
    """Plain TOML-ready data (None values left out: TOML has no null), numbers as written."""
    return as_written(config)  # type: ignore[no-any-return]


def plain(v: Any) -> Any:
    """A config value (a table, a list of tables, a scalar) as plain dicts and lists."""
    if is_dataclass(v) and not isinstance(v, type):
        return {f.name: plain(getattr(v, f.name)) for f in fields(v) if getattr(v, f.name) is not None}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


# Up to here a whole float is shown as an integer (2^53: every float below it is exact). A larger
# one, e.g. 1e300 MB of raw reserve, stays 1e+300: as an integer it would be 301 digits, past TOML's 64-bit ints.
_WHOLE_SHOWN_MAX = 2**53


def as_written(v: Any) -> Any:
    """A config value as plain dicts and lists (``plain``), its numbers as a family writes them in
    the TOML: 600 for a seconds key read from 600 (into 600.0), 2.5 as 2.5 (a float key takes
    either). What every 'config' subcommand shows (get, set, show)."""
    return _numbers_as_written(plain(v))


def _numbers_as_written(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _numbers_as_written(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_numbers_as_written(x) for x in v]
    if isinstance(v, float) and v.is_integer() and abs(v) < _WHOLE_SHOWN_MAX:
        return int(v)
    return v


def dump(config: Config) -> str:
    return tomlkit.dumps(to_dict(config))

