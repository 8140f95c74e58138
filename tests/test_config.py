"""spasmwatch.config: defaults, a full file, every kind of error, get/set, round trip."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import re
import stat
import tomllib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import platformdirs
import pytest

import spasmwatch
from spasmwatch.commands.config import shown_config, shown_set
from spasmwatch.config import (
    SECRET_KEYS,
    Band,
    Config,
    default_config_path,
    dump,
    from_dict,
    get,
    load_config,
    reach_part,
    set_value,
)
from spasmwatch.alerts import QuietHours
from spasmwatch.daemon.wiring import alert_settings_from
from spasmwatch.errors import ConfigError, SpasmwatchError

FULL = """
[daemon]
log_level = "debug"
data_dir = "/var/lib/spasmwatch"
raw_reserve_mb = 500
raw_keep_days = 14
http = { host = "127.0.0.1", port = 9000, lan = true, token = "s3cret" }

[[bands]]
name = "spasmwatch-0001"
transport = "ble"
label = "Ada"

[[bands]]
transport = "serial"
port = "/dev/ttyACM0"

[alerts]
escalate_after_s = 90
quiet_hours = "22:00-07:00"
rate_limit_s = 600
quiet_faults = ["not_worn", "battery_low"]

[channels.sound]
enabled = true
command = "paplay /usr/share/sounds/alarm.oga"

[channels.desktop]
enabled = false

[[channels.webhook]]
url = "https://example.org/hook"
name = "family"

[[channels.ntfy]]
url = "https://ntfy.sh/ada-band"
token = "tk_1"

[channels.mqtt]
enabled = true
host = "homeassistant.local"
username = "sw"
password = "pw"

[[caregivers]]
name = "mum"
channels = ["ntfy:ada-band", "sound"]

[[caregivers]]
name = "dad"
channels = ["webhook:family", "mqtt"]
min_urgency = "urgent"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def error_of(tmp_path: Path, text: str) -> str:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    assert isinstance(ei.value, SpasmwatchError)
    msg = str(ei.value)
    assert msg.startswith((f"{p}: ", f"{p}, line "))  # every error names the file (and the line it can)
    return msg


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "absent.toml")
    assert cfg == Config()
    assert cfg.daemon.http.port == 8765 and cfg.daemon.http.host == "127.0.0.1" and not cfg.daemon.http.lan
    assert cfg.alerts.escalate_after_s == 120.0 and cfg.alerts.rate_limit_s == 300.0
    assert alert_settings_from(cfg).quiet_hours is None
    assert cfg.channels.mqtt.port == 1883 and cfg.channels.mqtt.discovery_prefix == "homeassistant"
    assert not (tmp_path / "absent.toml").exists()


def test_full_file_is_read_into_types(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, FULL))
    assert cfg.daemon.log_level == "debug" and cfg.daemon.http.port == 9000 and cfg.daemon.http.lan
    assert cfg.daemon.raw_reserve_mb == 500.0 and Config().daemon.raw_reserve_mb == 1000.0
    assert cfg.daemon.raw_keep_days == 14.0 and Config().daemon.raw_keep_days == 0.0  # default: every raw file kept
    assert cfg.bands == [
        Band(name="spasmwatch-0001", transport="ble", label="Ada"),
        Band(transport="serial", port="/dev/ttyACM0"),
    ]
    assert isinstance(cfg.alerts.escalate_after_s, float) and cfg.alerts.escalate_after_s == 90.0
    assert alert_settings_from(cfg).quiet_hours == QuietHours(22 * 60, 7 * 60)  # as the daemon reads it
    assert cfg.channels.desktop.enabled is False
    # Unnamed: called after its server and a hash of its URL, not its topic (the secret); the
    # topic, its name until 2026-12-05, still routes mum's alarms (Channels.aliases).
    assert cfg.channels.ntfy[0].ref_name == "ntfy.sh-" + hashlib.sha256(b"https://ntfy.sh/ada-band").hexdigest()[:6]
    assert cfg.channels.ntfy[0].token == "tk_1"
    assert cfg.channels.aliases() == {"ntfy:ada-band": f"ntfy:{cfg.channels.ntfy[0].ref_name}"}
    assert cfg.channels.mqtt.port == 1883 and cfg.channels.mqtt.host == "homeassistant.local"
    assert [c.channels for c in cfg.caregivers] == [["ntfy:ada-band", "sound"], ["webhook:family", "mqtt"]]
    assert cfg.alerts.quiet_faults == ["not_worn", "battery_low"]
    assert [c.min_urgency for c in cfg.caregivers] == ["low", "urgent"]  # mum: the default


def test_an_unnamed_webhook_is_named_by_its_host_without_the_password_in_front(tmp_path: Path) -> None:
    """An unnamed webhook was called after the URL's whole authority, 'webhook:bob:s3cretpw@hooks.
    example.org', in every log line, channels_failing and MQTT's retained status. Now its host; the
    old name still routes a caregiver that lists it (and the daemon moves rows kept under it)."""
    old = "webhook:bob:s3cretpw@hooks.example.org"
    cfg = load_config(write(tmp_path, f'[[channels.webhook]]\nurl = "https://bob:s3cretpw@hooks.example.org/x"\n\n'
                                      f'[[caregivers]]\nname = "dad"\nchannels = ["{old}"]\n'))
    assert cfg.channels.webhook[0].ref_name == "hooks.example.org"
    assert cfg.channels.aliases() == {old: "webhook:hooks.example.org"}
    named = load_config(write(tmp_path, '[[channels.webhook]]\nurl = "https://bob:pw@h.example.org/x"\nname = "home"\n'))
    assert named.channels.aliases() == {}  # a named table never went by its authority


def test_alert_defaults_are_the_engines_and_dispatchers() -> None:
    """Unset, the new keys change nothing: quiet hours hold every fault, a caregiver gets LOW and up."""
    from spasmwatch.alerts import AlertSettings
    from spasmwatch.alerts.channels import Caregiver as EngineCaregiver, SoundChannel, SoundSettings
    from spasmwatch.daemon.wiring import alert_settings_from, caregivers_from

    cfg = from_dict({"caregivers": [{"name": "mum", "channels": ["sound"]}]}, "x")
    got, engine = alert_settings_from(cfg), AlertSettings()
    assert (got.quiet_faults, got.rate_limit_s, got.escalate_after_s) == (engine.quiet_faults, engine.rate_limit_s, engine.escalate_after_s)
    (mum,) = caregivers_from(cfg, {"sound": SoundChannel(SoundSettings())})
    assert mum.min_urgency == EngineCaregiver("mum", ("sound",)).min_urgency


def test_dump_round_trips(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, FULL))
    text = dump(cfg)
    assert from_dict(tomllib.loads(text), "dumped") == cfg
    assert dump(from_dict(tomllib.loads(text), "dumped")) == text
    assert from_dict(tomllib.loads(dump(Config())), "d") == Config()


def test_default_path_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(tmp_path / "my.toml"))
    assert default_config_path() == tmp_path / "my.toml"
    (tmp_path / "my.toml").write_text("[alerts]\nrate_limit_s = 5\n")
    assert load_config().alerts.rate_limit_s == 5.0
    monkeypatch.delenv("SPASMWATCH_CONFIG")
    assert default_config_path() == Path(platformdirs.user_config_dir("spasmwatch")) / "config.toml"


def test_store_path_from_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    cfg = from_dict({"daemon": {"data_dir": str(tmp_path / "d")}}, "x")
    assert cfg.store_path() == tmp_path / "d" / "spasmwatch.db"
    monkeypatch.setenv("SPASMWATCH_DATA_DIR", str(tmp_path / "env"))
    assert cfg.store_path() == tmp_path / "env" / "spasmwatch.db"


# --- errors ------------------------------------------------------------------------------


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "[alerts]\nescalate_after_s = 120\nquiet_hours = 22:00\n")
    assert "TOML syntax error" in msg and "line 3" in msg


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[bands]]\nname = "spasmwatch-0001\n', "Illegal character '\\n' (at line 2, column 24): is a closing quote missing?"),
        ("[[bands]]\nname = 'spasmwatch-0001\n", "Expected \"'\" (at end of document): is a closing quote missing?"),
        ("[[bands]]\nname = spasmwatch-0001\n", 'Invalid value (at line 2, column 8): text goes between double quotes, '
                                               'name = "spasmwatch-0001"; true, false and numbers without'),
        ("[alerts]\nescalate_after_s = 60\nescalate_after_s = 90\n", "Cannot overwrite a value (at line 3, column 22): "
                                                                   "a key given twice in one table: keep one"),
        ("[alerts]\n[channels.sound]\n[alerts]\n", "Cannot declare ('alerts',) twice (at line 3, column 8): "
                                                 "a [table] given twice: move its keys under the first and remove the second"),
        # A second band's table with one bracket pair (either way round): 'move its keys under the first'
        # (or 'a key given twice') would have made one band of the two
        ('[[bands]]\nname = "spasmwatch-0001"\n\n[bands]\nname = "spasmwatch-0002"\n',
         "Cannot declare ('bands',) twice (at line 4, column 7): [bands] and [[bands]] both: "
         "each table of the list has two brackets, [[bands]], one table per item"),
        ('[bands]\nname = "spasmwatch-0001"\n\n[[ bands ]]  # the cot\nname = "spasmwatch-0002"\n',
         "Cannot overwrite a value (at line 4, column 10): [bands] and [[bands]] both: "
         "each table of the list has two brackets, [[bands]], one table per item"),
        ('[[channels.ntfy]]\nurl = "https://ntfy.sh/a"\n[channels.ntfy]\nurl = "https://ntfy.sh/b"\n',
         "Cannot declare ('channels', 'ntfy') twice (at line 3, column 15): [channels.ntfy] and [[channels.ntfy]] both: "
         "each table of the list has two brackets, [[channels.ntfy]], one table per item"),
    ],
)
def test_a_syntax_error_says_the_likely_fix(tmp_path: Path, text: str, said: str) -> None:
    """Found by the first-run audit: a value left unquoted (name = spasmwatch-0001) or a quote not
    closed said only tomllib's 'Invalid value' or 'Illegal character '\\n''. The line and
    column stay; what such an error most often is follows (never the line itself: it may hold a
    secret)."""
    msg = error_of(tmp_path, text)
    assert "TOML syntax error: " in msg and msg.endswith(said), msg


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_bytes(b'[bands]\nlabel = "\xe9"\n')
    with pytest.raises(ConfigError, match="config.toml"):
        load_config(p)


def test_a_file_saved_with_a_byte_order_mark_is_read_and_set(tmp_path: Path) -> None:
    """Found by the input audit: a config saved as 'UTF-8 with BOM' (Windows Notepad), CRLF line
    ends, was refused as 'TOML syntax error: Invalid statement (at line 1, column 1)'."""
    p = tmp_path / "config.toml"
    p.write_bytes(b"\xef\xbb\xbf# mine\r\n[alerts]\r\nescalate_after_s = 90\r\n")
    assert load_config(p).alerts.escalate_after_s == 90
    set_value(p, "alerts.rate_limit_s", "60")
    assert p.read_bytes().startswith(b"# mine\r\n")  # comments kept; the mark dropped
    cfg = load_config(p)
    assert (cfg.alerts.escalate_after_s, cfg.alerts.rate_limit_s) == (90, 60)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_file_saved_as_utf16_is_named_so(tmp_path: Path, encoding: str) -> None:
    """Found by the input audit: a config saved as UTF-16 (Notepad's "Unicode", with a byte-order
    mark FF FE or FE FF) said only 'not UTF-8 text (invalid start byte at byte 0)'."""
    p = tmp_path / "config.toml"
    mark = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")  # 'utf-16' writes its own
    p.write_bytes(mark + "[alerts]\r\nescalate_after_s = 90\r\n".encode(encoding))
    for read in (lambda: load_config(p), lambda: set_value(p, "alerts.rate_limit_s", "60")):
        with pytest.raises(ConfigError) as e:
            read()
        assert str(e.value) == f"{p}: saved as UTF-16 (Windows Notepad: 'Unicode'): save it as UTF-8"
    assert p.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")  # left as it was


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[channels.mqtt]\nport = "abc"', '[channels.mqtt] port: expected an integer 1-65535, got "abc"'),
        ("[channels.mqtt]\nport = 70000", "[channels.mqtt] port: expected an integer 1-65535, got 70000"),
        ("[daemon.http]\nport = true", "[daemon.http] port: expected an integer 1-65535, got true"),
        ('[daemon]\ndata_dir = "spasmwatch-data"', '[daemon] data_dir: expected an absolute path (or ~/...), got "spasmwatch-data"'),
        ('[channels.sound]\ncommand = "aplay \'my alarm.wav"', "[channels.sound] command: expected a command line with balanced quotes"),
        ("[daemon]\nlog_level = \"loud\"", '[daemon] log_level: expected one of "debug", "info", "warning", "error", got "loud"'),
        ("[daemon]\nraw_reserve_mb = -5", "[daemon] raw_reserve_mb: expected a number of MB >= 0 (0: no reserve), got -5"),
        ('[daemon]\nraw_reserve_mb = "1GB"', '[daemon] raw_reserve_mb: expected a number of MB >= 0 (0: no reserve), got "1GB"'),
        ("[daemon]\nraw_keep_days = -1", "[daemon] raw_keep_days: expected a number of days 0-366 (0: keep every raw file), got -1"),
        ('[daemon]\nraw_keep_days = "2 weeks"', '[daemon] raw_keep_days: expected a number of days 0-366 (0: keep every raw file), got "2 weeks"'),
        ("[daemon]\nraw_keep_days = inf", "[daemon] raw_keep_days: expected a number of days 0-366 (0: keep every raw file), got inf"),
        ("[daemon]\nbackup_keep_days = 2.5", "[daemon] backup_keep_days: expected a number of whole days 0-92 (0: no backups), got 2.5"),
        ("[daemon]\nbackup_keep_days = -1", "[daemon] backup_keep_days: expected a number of whole days 0-92 (0: no backups), got -1"),
        ("[alerts]\nescalate_after_s = -1", "[alerts] escalate_after_s: expected a number of seconds 0-600, got -1"),
        ("[alerts]\nescalate_after_s = nan", "[alerts] escalate_after_s: expected a number of seconds 0-600, got nan"),
        ('[alerts]\nquiet_hours = "10pm-7am"', '[alerts] quiet_hours: expected "HH:MM-HH:MM", the end not the start, at most 14 h (e.g. "22:00-07:00"; "" for none), got "10pm-7am"'),
        ('[channels.sound]\nenabled = "yes"', '[channels.sound] enabled: expected true or false, got "yes"'),
        ('[[bands]]\nname = "a"\ntransport = "usb"', '[bands #1] transport: expected one of "ble", "serial", "sim", got "usb"'),
        ('[[bands]]\nname = "a"\n[[bands]]\ntransport = "serial"', "[bands #2] port: required for transport = \"serial\""),
        ("[[bands]]\nlabel = \"Ada\"", "[bands #1] name: set name"),
        ("bands = 3", "bands: expected a list, got 3"),
        ("[daemon]\nhttp = 5", "[daemon] http: expected a table, got 5"),
        ('[[channels.webhook]]\nurl = "ftp://x/y"', '[channels.webhook #1] url: expected an http:// or https:// URL, got "ftp://x" and a path, not repeated here (it may be the secret)'),
        ('[[channels.webhook]]\nname = "a"', "[channels.webhook #1] url: required"),
        ('[[channels.ntfy]]\nurl = "https://ntfy.sh/"', '[channels.ntfy #1] url: expected an http(s) URL ending in the topic'),
        ("[channels.mqtt]\nenabled = true", "[channels.mqtt] host: required when enabled = true"),
        # A wildcard in a prefix made every topic unpublishable: paho refuses it in its own thread, and
        # the channel said only "no answer from MQTT broker within 10 s" (the broker was fine).
        ('[channels.mqtt]\ntopic_prefix = "home/+"', '[channels.mqtt] topic_prefix: expected a topic without MQTT\'s wildcards + and #, got "home/+"'),
        ('[channels.mqtt]\ntopic_prefix = "sw#"', '[channels.mqtt] topic_prefix: expected a topic without MQTT\'s wildcards + and #, got "sw#"'),
        ('[channels.mqtt]\ndiscovery_prefix = "ha/#"', '[channels.mqtt] discovery_prefix: expected a topic without MQTT\'s wildcards + and #, got "ha/#"'),
        ("[daemon.http]\nlan = true", "[daemon.http] token: required when lan = true"),
        ('[daemon.http]\nhost = "0.0.0.0"', '[daemon.http] token: required when host = "0.0.0.0", which other machines can reach'),
        ('[[bands]]\ntransport = "sim"', "[bands #1] name: set name"),
        ('[[caregivers]]\nchannels = ["sound"]', "[caregivers #1] name: required"),
        ('[[caregivers]]\nname = "mum"\nchannels = ["sond"]', "[caregivers #1] channels: unknown channel \"sond\" (did you mean 'sound'?)"),
        # Found by the docs run: the hint offered mqtt as "configured" while it was switched off (the default).
        ('[[caregivers]]\nname = "mum"\nchannels = ["pager"]', '[caregivers #1] channels: unknown channel "pager" (channels switched on: sound, desktop)'),
        (
            '[channels.desktop]\nenabled = false\n[[channels.ntfy]]\nurl = "https://ntfy.sh/cot"\n[[caregivers]]\nname = "mum"\nchannels = ["pager"]',
            # Not ntfy:cot: an unnamed ntfy is called after its server and a hash, never its topic (the secret).
            '[caregivers #1] channels: unknown channel "pager" (channels switched on: sound, ntfy:ntfy.sh-'
            + hashlib.sha256(b"https://ntfy.sh/cot").hexdigest()[:6] + ")",
        ),
        ('[[caregivers]]\nname = "mum"\nchannels = ["mqt"]', "unknown channel \"mqt\" (did you mean 'mqtt'? it is switched off: set [channels.mqtt] enabled = true)"),
        ('[[caregivers]]\nname = "mum"\nchannels = [1]', "[caregivers #1] channels: expected a string, got 1"),
        (
            '[[caregivers]]\nname = "mum"\nmin_urgency = "alarm"',
            '[caregivers #1] min_urgency: expected one of "info", "low", "normal", "high", "urgent", got "alarm"',
        ),
        # Everyone gets alarms: "critical" (escalations only) would be a promise the dispatcher breaks.
        ('[[caregivers]]\nname = "mum"\nmin_urgency = "critical"', '[caregivers #1] min_urgency: expected one of "info", "low", "normal", "high", "urgent", got "critical"'),
        ('[[caregivers]]\nname = "mum"\nmin_urgency = 5', '[caregivers #1] min_urgency: expected one of "info", "low", "normal", "high", "urgent", got 5'),
        (
            '[alerts]\nquiet_faults = ["not_worn", "batery_low"]',
            '[alerts] quiet_faults: expected one of "disconnected", "not_worn", "battery_low", "log_nearly_full", "clock_unsynced", '
            '"safe_mode", "sensor_error", "storage_failing", "store_damaged", "store_newer", "band_log_failing", "samples_lost", "other_bonds", "radio_late", got "batery_low"',
        ),
        (
            '[alerts]\nquiet_faults = "battery_low"',
            '[alerts] quiet_faults: expected a list of "disconnected", "not_worn", "battery_low", "log_nearly_full", "clock_unsynced", '
            '"safe_mode", "sensor_error", "storage_failing", "store_damaged", "store_newer", "band_log_failing", "samples_lost", "other_bonds", "radio_late", got "battery_low"',
        ),
        (
            '[[channels.ntfy]]\nurl = "https://a/t"\nname = "t"\n[[channels.ntfy]]\nurl = "https://b/u"\nname = "t"',
            '[channels.ntfy #2] name: "t" is used twice',
        ),
        (  # one topic on two servers, unnamed: its old name (ntfy:t) was neither's alone, so no alias
            '[[channels.ntfy]]\nurl = "https://a/t"\n[[channels.ntfy]]\nurl = "https://b/t"\n[[caregivers]]\nname = "mum"\nchannels = ["ntfy:t"]',
            '[caregivers #1] channels: unknown channel "ntfy:t"',
        ),
        (  # one URL twice, unnamed: one name (a hash of the URL), refused as before
            '[[channels.ntfy]]\nurl = "https://a/t"\n[[channels.ntfy]]\nurl = "https://a/t/"',
            f'[channels.ntfy #2] name: "a-{hashlib.sha256(b"https://a/t").hexdigest()[:6]}" is used twice',
        ),
    ],
)
def test_bad_values_name_table_key_expectation_and_value(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "secret", "expected"),
    [
        ('[channels.mqtt]\nhost = "h"\nusername = "u"\npassword = 20240611', "20240611",
         "[channels.mqtt] password: expected a string, got a number, not repeated here (it is a secret)"),
        ("[daemon.http]\ntoken = 8675309123456789", "8675309123456789",
         "[daemon.http] token: expected a string, got a number, not repeated here (it is a secret)"),
        ('[[channels.ntfy]]\nurl = "https://ntfy.sh/t"\ntoken = ["tk_abcdefgh"]', "tk_abcdefgh",
         "[channels.ntfy #1] token: expected a string, got a list, not repeated here (it is a secret)"),
    ],
)
def test_a_mistyped_secret_is_not_repeated_in_the_error(tmp_path: Path, text: str, secret: str, expected: str) -> None:
    """A password written without quotes is a number: the error quoted it ("got 20240611"), and the
    error goes to the journal, stderr, and the page's and 'spasmwatch status''s config error."""
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text))
    assert expected in str(e.value) and secret not in str(e.value)


def _schema_keys(tp: Any = Config, prefix: str = "") -> Iterator[str]:
    """Every value key of the schema, as 'config set' names it (any item of a list of tables: "*")."""
    hints = get_type_hints(tp)
    for f in dataclasses.fields(tp):
        hint = hints[f.name]
        if isinstance(hint, types.UnionType):  # X | None: X
            (hint,) = (a for a in get_args(hint) if a is not type(None))
        inner = get_args(hint)[0] if get_origin(hint) is list else None
        if dataclasses.is_dataclass(hint):
            yield from _schema_keys(hint, f"{prefix}{f.name}.")
        elif inner is not None and dataclasses.is_dataclass(inner):
            yield from _schema_keys(inner, f"{prefix}{f.name}.*.")
        else:
            yield prefix + f.name


# Keys that look like a secret by their name and are none (with why): the test below holds every
# other such key of the schema to be one.
NOT_SECRET = {"daemon.http.page_url": "refused with a token in it (config._check_page_url): what the pushes carry",
              "daemon.http.tls_key": "the key file's path, not the key: the file is 0600 ('config tls new')"}
SECRET_LOOKING = re.compile(r"(^|_)(url|token|password|secret|key)$")
SECRET_SHOWN = "s3cr3t-Qw8Jx2Lm"  # a secret value no message may say
# Every list of tables has its one item (a webhook and an ntfy table need their url).
BASE = {"channels": {"ntfy": [{"url": "https://ntfy.sh/base-topic"}], "webhook": [{"url": "https://example.org/hook"}]}}


def _with(key: str, v: object) -> dict[str, Any]:
    """BASE with ``key`` (a list's item: its first) set to ``v``."""
    data = copy.deepcopy(BASE)
    node: Any = data
    parts = key.replace("*", "0").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[parts[-1]] = v
    return data


SCHEMA_SECRETS = [k for k in _schema_keys() if SECRET_LOOKING.search(k.rsplit(".", 1)[-1]) and k not in NOT_SECRET]


@pytest.mark.parametrize("key", SCHEMA_SECRETS)
def test_every_secret_of_the_schema_is_hidden_by_config_show_and_set_and_not_repeated_in_errors(key: str) -> None:
    """config.SECRET_KEYS is the one list of the secrets: the loader's errors and 'config show' and
    'config set' (commands/config.py) each had their own until 2026-12-05, and a secret added to
    one only would be said by the other. Every key of the schema named as a secret (a token, a
    password, a URL whose path is the secret) is held to all three; a key taken off the list fails."""
    is_url = key.endswith("url")
    value = f"https://example.org/{SECRET_SHOWN}" if is_url else SECRET_SHOWN
    concrete = key.replace("*", "0")
    shown = shown_config(from_dict(_with(key, value), "c.toml"), secrets=False)
    assert SECRET_SHOWN not in shown, shown
    hidden = shown.splitlines()[0]
    assert hidden.startswith("# hidden: ") and concrete in re.split(r"[ ,]+", hidden), hidden
    assert SECRET_SHOWN not in shown_set(concrete, value)
    # Mistyped: a URL without its scheme (its host is said), a token or password unquoted (a number).
    with pytest.raises(ConfigError) as e:
        from_dict(_with(key, f"example.org/{SECRET_SHOWN}" if is_url else 86753091234), "c.toml")
    assert "not repeated here" in str(e.value) and SECRET_SHOWN not in str(e.value) and "86753091234" not in str(e.value), e.value


def test_the_secret_keys_are_keys_of_the_schema() -> None:
    """A key of config.SECRET_KEYS the schema does not have (a typo, a renamed key) hides nothing."""
    assert set(SECRET_KEYS) <= set(_schema_keys()), set(SECRET_KEYS) - set(_schema_keys())
    assert sorted(SCHEMA_SECRETS) == sorted(SECRET_KEYS)  # and the test above held them all


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        ('address = "zz:11:22"', 'address: expected a BLE address as \'spasmwatch scan\' shows it, "AA:BB:CC:DD:EE:FF" (macOS: a UUID), got "zz:11:22"'),
        ('address = "AA:BB:CC:DD:EE:FF:00"', 'got "AA:BB:CC:DD:EE:FF:00"'),
        ('address = "spasmwatch-0001"', 'got "spasmwatch-0001"'),  # a name in the address key
        ('transport = "sim"\naddress = "localhost"', 'address: expected the simulated radio\'s "host:port", got "localhost"'),
        ('address = "aa:bb:cc:dd:ee:ff"', None),
        ('address = "12345678-1234-1234-1234-123456789ABC"', None),  # macOS
        ('transport = "sim"\naddress = "127.0.0.1:4000"', None),
        ('transport = "sim"\naddress = "4000"', None),  # a bare port: 127.0.0.1
    ],
)
def test_a_band_address_that_can_never_be_found_is_refused(tmp_path: Path, band: str, expected: str | None) -> None:
    """Found by the input audit: address = "zz:11:22" was accepted, and the daemon would scan for it all night."""
    text = f'[[bands]]\nname = "crib"\n{band}\n'
    if expected is None:
        p = tmp_path / "config.toml"
        p.write_text(text)
        assert load_config(p).bands[0].address
    else:
        assert "[bands #1] address: expected " in (msg := error_of(tmp_path, text)) and expected in msg, msg


def test_a_bad_whole_number_is_quoted_as_written(tmp_path: Path) -> None:
    """Found by the docs run: 'config set alerts.escalate_after_s -5' said "got -5.0"."""
    assert error_of(tmp_path, "[alerts]\nescalate_after_s = -5").endswith("[alerts] escalate_after_s: expected a number of seconds 0-600, got -5")


def test_an_unknown_key_may_be_a_newer_versions_after_a_rollback(tmp_path: Path) -> None:
    """Found by review h45: a key a newer spasmwatch wrote ('config set'), spasmwatch then put back to
    this version: the daemon refuses the file at every start, and the error listed the known keys
    only, as for a typo. It says the key may be a newer version's, and the two ways out."""
    said = error_of(tmp_path, "[daemon]\nstore_keep_years = 3")
    assert "[daemon] store_keep_years: unknown key (did you mean 'raw_keep_days'?)" in said  # a typo, or a newer key
    assert f"or a newer spasmwatch's key (this is {spasmwatch.__version__})" in said  # old code: not said
    assert said.endswith("remove the key or upgrade again"), said


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[alerts]\nescalate_after = 60", "[alerts] escalate_after: unknown key (did you mean 'escalate_after_s'?)"),
        ("[channels.mqtt]\nhots = \"x\"", "[channels.mqtt] hots: unknown key (did you mean 'host'?)"),
        ("[alert]\nrate_limit_s = 1", "alert: unknown key (did you mean 'alerts'?)"),
        ("[[bands]]\nname = \"a\"\nadress = \"x\"", "[bands #1] adress: unknown key (did you mean 'address'?)"),
        ("[daemon]\nzzz = 1", "[daemon] zzz: unknown key (known: log_level, data_dir, http, raw_reserve_mb, raw_keep_days, backup_keep_days, heartbeat)"),
        ("[daemon]\nraw_reserve = 500", "[daemon] raw_reserve: unknown key (did you mean 'raw_reserve_mb'?)"),
    ],
)
def test_unknown_keys_are_errors_with_a_hint(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[alerts]\nquiet_hours = "22:00-07:00"\n\nescalate_after = 60\n', ", line 4: [alerts] escalate_after: unknown key"),
        ('# a comment\n[alerts]\nescalate_after_s = "2 min"\n', ', line 3: [alerts] escalate_after_s: expected a number of seconds 0-600, got "2 min"'),
        ('lable = "Sam"\n[alerts]\n', ", line 1: lable: unknown key"),
        ("[alert]\nrate_limit_s = 1", ", line 1: alert: unknown key"),
        # CLI input audit: a list's table under a misspelt name said no line (old code: 'config.toml: band: unknown key')
        ('[alerts]\n\n[[band]]\nname = "a"', ", line 3: band: unknown key (did you mean 'bands'?)"),
        ('[[channels.ntfi]]\nurl = "https://a/t"', ", line 1: [channels] ntfi: unknown key (did you mean 'ntfy'?)"),
        ('[[bands]]\nname = "a"\n\n[[bands]]\nname = "b"\nadress = "x"', ", line 6: [bands #2] adress: unknown key"),
        ('[daemon]\nhttp.port = 0\n', ", line 2: [daemon.http] port: expected an integer 1-65535, got 0"),
        ('[[bands]]\nname = "a"\n[[bands]]\ntransport = "serial"', ', line 3: [bands #2] port: required for transport = "serial"'),  # its table
        ('[[channels.ntfy]]\nurl = "https://a/t"\nname = "t"\n[[channels.ntfy]]\nurl = "https://b/u"\nname = "t"',
         ', line 6: [channels.ntfy #2] name: "t" is used twice'),
        ('[channels.desktop]\nenabled = false\n[[caregivers]]\nname = "mum"\nchannels = ["desktop"]',
         ', line 5: [caregivers #1] channels: "desktop" is not enabled'),
        # Family review: accepted, and meaning no quiet hours at all (nor 24 h of them)
        ('[alerts]\n\nquiet_hours = "22:00-22:00"\n', ', line 3: [alerts] quiet_hours: expected "HH:MM-HH:MM", the end not the start, '
         'at most 14 h (e.g. "22:00-07:00"; "" for none), got "22:00-22:00"'),
    ],
)
def test_a_mistake_names_its_line(tmp_path: Path, text: str, expected: str) -> None:
    """Family review: the error named the file and the key but not the line, and a family with a
    [[bands]] table per band, or a key given under the wrong table, had to hunt for it. Old code:
    'config.toml: [alerts] escalate_after: unknown key ...', no line."""
    msg = error_of(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'config.toml'}{expected}")


def test_unreadable_path_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "config.toml")


# --- get and set ----------------------------------------------------------------------------


def test_get_by_dotted_key(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, FULL))
    assert get(cfg, "alerts.escalate_after_s") == 90.0
    assert get(cfg, "daemon.http.port") == 9000
    assert get(cfg, "bands.1.port") == "/dev/ttyACM0"
    assert get(cfg, "channels.mqtt") == cfg.channels.mqtt
    with pytest.raises(ConfigError, match="did you mean 'escalate_after_s'"):
        get(cfg, "alerts.escalate_after")
    with pytest.raises(ConfigError, match="no item 5"):
        get(cfg, "bands.5.name")


def test_set_value_writes_typed_values_and_keeps_the_rest(tmp_path: Path) -> None:
    p = write(tmp_path, FULL)
    cfg = set_value(p, "alerts.escalate_after_s", "300")
    assert cfg.alerts.escalate_after_s == 300.0
    set_value(p, "alerts.quiet_hours", "21:30-06:45")  # not TOML: taken as the string
    set_value(p, "daemon.http.token", "123456")  # a string key stays a string
    set_value(p, "channels.desktop.enabled", "true")
    set_value(p, "bands.0.label", "Ada Lovelace")
    set_value(p, "caregivers.1.channels", '["mqtt", "sound"]')
    set_value(p, "caregivers.0.min_urgency", "high")  # a bare word: the string
    set_value(p, "alerts.quiet_faults", '["disconnected"]')
    again = load_config(p)
    assert again.alerts.escalate_after_s == 300.0
    assert alert_settings_from(again).quiet_hours == QuietHours(21 * 60 + 30, 6 * 60 + 45)
    assert again.daemon.http.token == "123456" and again.channels.desktop.enabled
    assert again.bands[0].label == "Ada Lovelace" and again.caregivers[1].channels == ["mqtt", "sound"]
    assert again.caregivers[0].min_urgency == "high" and again.alerts.quiet_faults == ["disconnected"]
    assert again.channels.mqtt.host == "homeassistant.local"  # untouched keys survive
    assert [x.name for x in tmp_path.iterdir()] == ["config.toml"]  # no temp files left


def test_set_value_keeps_the_files_comments_order_and_layout(tmp_path: Path) -> None:
    text = (
        "# the nursery band\n"
        "[[bands]]\n"
        'name = "spasmwatch-0001"  # as scan shows it\n'
        "\n"
        "[alerts]\n"
        "# the pediatrician asked for 3 min\n"
        "escalate_after_s = 180  # seconds\n"
        "rate_limit_s = 60\n"
    )
    p = write(tmp_path, text)
    set_value(p, "alerts.escalate_after_s", "300")
    set_value(p, "channels.mqtt.port", "1884")  # a new table goes at the end
    assert p.read_text() == text.replace("= 180  #", "= 300  #") + "\n[channels.mqtt]\nport = 1884\n"
    assert load_config(p).alerts.escalate_after_s == 300.0


def test_set_value_creates_a_new_private_file(tmp_path: Path) -> None:
    p = tmp_path / "new" / "config.toml"
    set_value(p, "channels.mqtt.port", "1884")
    assert load_config(p).channels.mqtt.port == 1884
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600  # tokens and passwords live here


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("alerts.escalate_after_s", "abc", '[alerts] escalate_after_s: expected a number of seconds 0-600, got "abc"'),
        ("channels.mqtt.port", "0", "[channels.mqtt] port: expected an integer 1-65535, got 0"),
        ("alerts.escalate_afters", "3", "did you mean 'escalate_after_s'"),
        ("channels.mqtt", "3", "is a table"),
        ("daemon.http.lan", "true", None),  # valid alone, but the FULL file has a token: ok
        ("channels.mqtt.host", "", "[channels.mqtt] host: required when enabled = true"),
        ("bands.7.name", "x", "no item 7"),
        ("caregivers.0.min_urgency", "URGENT", '[caregivers #1] min_urgency: expected one of "info", "low", "normal", "high", "urgent", got "URGENT"'),
        ("alerts.quiet_faults", '["not_worn", "asleep"]', '[alerts] quiet_faults: expected one of "disconnected", "not_worn",'),
        ("alerts.quiet_faults", "not_worn", '[alerts] quiet_faults: expected a list of "disconnected", "not_worn",'),
    ],
)
def test_set_value_refuses_invalid_and_keeps_the_old_file(tmp_path: Path, key: str, value: str, expected: str | None) -> None:
    p = write(tmp_path, FULL)
    before = p.read_bytes()
    if expected is None:
        set_value(p, key, value)
        return
    with pytest.raises(ConfigError) as ei:
        set_value(p, key, value)
    assert expected in str(ei.value)
    assert p.read_bytes() == before
    assert [x.name for x in tmp_path.iterdir()] == ["config.toml"]


def test_set_value_on_a_broken_file_refuses(tmp_path: Path) -> None:
    p = write(tmp_path, "[alerts\n")
    with pytest.raises(ConfigError, match="syntax"):
        set_value(p, "alerts.rate_limit_s", "10")
    assert p.read_text() == "[alerts\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[caregivers]]\nname = "mum"\nchannels = ["mqtt"]', '[caregivers #1] channels: "mqtt" is not enabled (set [channels.mqtt] enabled = true'),
        (
            '[channels.sound]\nenabled = false\n[[caregivers]]\nname = "mum"\nchannels = ["sound"]',
            '[caregivers #1] channels: "sound" is not enabled (set [channels.sound] enabled = true',
        ),
        (
            '[channels.desktop]\nenabled = false\n[[caregivers]]\nname = "dad"\nchannels = ["desktop"]',
            '[caregivers #1] channels: "desktop" is not enabled (set [channels.desktop] enabled = true',
        ),
    ],
)
def test_a_caregiver_channel_that_is_switched_off_is_refused_when_read(tmp_path: Path, text: str, expected: str) -> None:
    """Found by review: the channel names were checked against every channel there could be,
    so a caregiver on "mqtt" (off by default) passed 'config show' and 'config set' and
    'spasmwatch run' then refused to start, without naming the file."""
    assert expected in error_of(tmp_path, text)


LAN = '[daemon.http]\nlan = true\ntoken = "s3cret-lan-token-0123"\n'


def test_page_url_is_read() -> None:
    cfg = from_dict(tomllib.loads(LAN + 'page_url = "http://raspberrypi.local:8765/"'), "config.toml")
    assert cfg.daemon.http.page_url == "http://raspberrypi.local:8765/"
    assert from_dict({}, "config.toml").daemon.http.page_url == ""  # unset: pushes open nothing


@pytest.mark.parametrize(
    ("page_url", "expected"),
    [
        ("raspberrypi.local:8765", '[daemon.http] page_url: expected an http:// or https:// URL, or "", got "raspberrypi.local:8765"'),
        # ntfy.sh sees every push's headers: the LAN token in them would let anyone who reads them in.
        (
            "http://raspberrypi.local:8765/?token=s3cret-lan-token-0123",
            "[daemon.http] page_url: must not carry the token (or a user name or password): the ntfy server sees every push's "
            'headers. Give "http://raspberrypi.local:8765/" alone (the page is at /); a phone that opened the link with ?token= '
            "once keeps a cookie for 400 days (docs/web.md)",
        ),
        ("http://raspberrypi.local:8765/?token=other", "[daemon.http] page_url: must not carry the token"),
        ("http://raspberrypi.local:8765/s3cret-lan-token-0123", "[daemon.http] page_url: must not carry the token"),
        ("http://mum:pw@raspberrypi.local:8765/", "[daemon.http] page_url: must not carry the token (or a user name or password)"),
        ("http://127.0.0.1:8765/", '[daemon.http] page_url: "127.0.0.1:8765" is this computer: a phone cannot open it'),
        ("http://raspberrypi.local:87x/", '[daemon.http] page_url: "raspberrypi.local:87x": the port is not a number 1-65535'),
        ("http://raspberrypi.local:8765/a,b", "[daemon.http] page_url: \",\" cannot go into ntfy's Actions header: percent-encode it"),
    ],
)
def test_a_page_url_that_pushes_cannot_carry_is_refused_naming_why(tmp_path: Path, page_url: str, expected: str) -> None:
    assert expected in error_of(tmp_path, LAN + f'page_url = "{page_url}"')


def test_a_page_url_for_a_page_that_serves_only_this_computer_is_refused(tmp_path: Path) -> None:
    msg = error_of(tmp_path, '[daemon.http]\npage_url = "http://raspberrypi.local:8765/"')
    assert msg.endswith("[daemon.http] page_url: the page serves only this computer: set lan = true (and a token) so phones can open it")


def test_a_heartbeat_is_read_and_off_without_a_url(tmp_path: Path) -> None:
    from spasmwatch.daemon.main import build
    from spasmwatch.store import Store

    cfg = from_dict(tomllib.loads('[daemon.heartbeat]\nurl = "https://hc-ping.com/0f1e2d3c"\nevery_s = 120'), "config.toml")
    assert (cfg.daemon.heartbeat.url, cfg.daemon.heartbeat.every_s) == ("https://hc-ping.com/0f1e2d3c", 120.0)
    assert from_dict({}, "config.toml").daemon.heartbeat.every_s == 60.0
    with Store(tmp_path / "s.db") as store:
        assert build(from_dict({}, "config.toml"), store).heartbeat is None  # no url: off
        on = build(cfg, store).heartbeat
    assert on is not None and (on.host, on.settings.every_s) == ("hc-ping.com", 120.0)
    assert set_value(write(tmp_path, ""), "daemon.heartbeat.url", "https://hc-ping.com/abc").daemon.heartbeat.url == "https://hc-ping.com/abc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('url = "hc-ping.com/0f1e2d3c"', '[daemon.heartbeat] url: expected an http:// or https:// URL, or "", got "hc-ping.com" and a path, not repeated here (it may be the secret)'),
        ("url = 60", '[daemon.heartbeat] url: expected an http:// or https:// URL, or "", got 60'),
        ('url = "https://hc-ping.com/x"\nevery_s = 5', "[daemon.heartbeat] every_s: expected a number of seconds 20-900, got 5"),
        ('url = "https://hc-ping.com/x"\nevery_s = 3600', "[daemon.heartbeat] every_s: expected a number of seconds 20-900, got 3600"),
        ('url = "https://hc-ping.com/x"\nevery_s = "1m"', '[daemon.heartbeat] every_s: expected a number of seconds 20-900, got "1m"'),
        ('url = "https://kuma.example:3001x/api/push/a"', '[daemon.heartbeat] url: "kuma.example:3001x": the port is not a number 1-65535'),
        ('url = "https://hc-ping.com/0f1e 2d3c"', '[daemon.heartbeat] url: " " cannot stand in a URL as it is: copy the URL the service shows'),
        # The LAN token opens the family page (acknowledge alarms): it must not go to a service outside the home.
        ('url = "https://kuma.example/api/push/s3cret-lan-token-0123"', "[daemon.heartbeat] url: must not carry [daemon.http] token"),
        ("urll = 1", "[daemon.heartbeat] urll: unknown key (did you mean 'url'?)"),
    ],
)
def test_a_heartbeat_the_daemon_could_not_ping_is_refused_naming_why(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, LAN + "[daemon.heartbeat]\n" + text)


def test_every_config_that_is_read_builds_a_daemon(tmp_path: Path) -> None:
    from spasmwatch.daemon.main import build
    from spasmwatch.store import Store

    cfg = load_config(write(tmp_path, FULL))
    with Store(tmp_path / "s.db") as store:
        daemon = build(cfg, store)
    assert [c.name for c in daemon.dispatcher.caregivers] == ["mum", "dad"]
    assert [c.min_urgency.name for c in daemon.dispatcher.caregivers] == ["LOW", "URGENT"]
    assert {f.value for f in daemon.engine.settings.quiet_faults} == {"not_worn", "battery_low"}


def test_config_set_refuses_switching_off_a_channel_a_caregiver_uses(tmp_path: Path) -> None:
    p = write(tmp_path, FULL)
    before = p.read_text()
    with pytest.raises(ConfigError, match=r'\[caregivers #2\] channels: "mqtt" is not enabled'):
        set_value(p, "channels.mqtt.enabled", "false")
    assert p.read_text() == before


def test_the_readme_and_alerts_doc_examples_are_valid_configs(repo_root: Path) -> None:
    """The examples families copy: a key renamed or a value refused here is caught by this."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    cfg = from_dict(tomllib.loads(readme.split("```toml\n", 1)[1].split("```", 1)[0]), "README.md")
    assert cfg.caregivers[0].min_urgency == "urgent" and "disconnected" not in cfg.alerts.quiet_faults
    assert cfg.daemon.heartbeat.url.startswith("https://hc-ping.com/")
    doc = (repo_root / "docs" / "alerts.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    assert from_dict(tomllib.loads(example), "docs/alerts.md").caregivers[0].min_urgency == "urgent"  # as written


def test_the_heartbeat_examples_of_the_alerts_doc_are_valid_configs(repo_root: Path) -> None:
    doc = (repo_root / "docs" / "alerts.md").read_text(encoding="utf-8")
    section = doc.split("## When the monitor itself goes down", 1)[1].split("\n## ", 1)[0]
    examples = [block.split("```", 1)[0] for block in section.split("```toml\n")[1:]]
    urls = [from_dict(tomllib.loads(e), "docs/alerts.md").daemon.heartbeat.url for e in examples]
    assert [u.split("/")[2] for u in urls] == ["hc-ping.com", "kuma.example.org"]


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ('name = "SPASMWATCH-0001"', '[bands #2] name: "SPASMWATCH-0001" is the band of [bands #1] too'),  # the radio matches either case
        ('name = "cot"\naddress = "AA:BB:CC:DD:EE:FF"', '[bands #2] address: "AA:BB:CC:DD:EE:FF" is the band of [bands #1] too'),
        ('name = "spasmwatch-0002"\naddress = "AA:BB:CC:DD:EE:01"', None),
        # a name copied with the table, each its own address: two sessions, each connecting to its
        # address (the name is not what they connect by), which ran until the refusal stopped the
        # daemon's start (the service restarted all night, no band monitored)
        ('name = "spasmwatch-0001"\naddress = "AA:BB:CC:DD:EE:01"', None),
        ('name = "spasmwatch-0001"\ntransport = "serial"\nport = "/dev/ttyACM0"', None),
    ],
)
def test_one_band_in_two_tables_is_refused(tmp_path: Path, second: str, expected: str | None) -> None:
    """Found by the first-run audit: the same band in two [[bands]] tables (an edit by hand) was
    taken, and the daemon ran a second session for it that never connected: 'not connected' in
    status all day and a false 'Band disconnected' push a minute after the start, while the band
    streamed to the first ('config add-band' refused it; the loader did not)."""
    text = f'[[bands]]\nname = "spasmwatch-0001"\naddress = "aa:bb:cc:dd:ee:ff"\n\n[[bands]]\n{second}\n'
    if expected is None:
        p = tmp_path / "config.toml"
        p.write_text(text)
        assert len(load_config(p).bands) == 2
    else:
        msg = error_of(tmp_path, text)
        assert expected in msg and "remove one of the two tables" in msg, msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A whole number too big for a float (a key held down): OverflowError in the check
        ("[alerts]\nescalate_after_s = " + "9" * 400 + "\n", "line 2: [alerts] escalate_after_s: expected a number of seconds 0-600, got a number of 400 digits"),
        # Past Python's 4300 digits tomllib itself fails, with a ValueError that is no TOMLDecodeError
        ("[alerts]\nescalate_after_s = " + "9" * 5000 + "\n", "TOML syntax error: a number of 5000 digits (at line 2)"),
        # Nested past Python's recursion limit: tomllib's RecursionError
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "TOML syntax error: arrays or tables nested too deeply (at line 1)"),
        ("a = " + "{b = " * 5000 + "1" + "}" * 5000 + "\n", "TOML syntax error: arrays or tables nested too deeply (at line 1)"),
    ],
)
def test_a_hostile_file_is_a_config_error_not_a_traceback(tmp_path: Path, text: str, expected: str) -> None:
    """Found by the hostile-input review: these were an OverflowError, a ValueError and a
    RecursionError traceback out of 'config show', 'run' and every command reading the config."""
    assert expected in (msg := error_of(tmp_path, text)), msg
    p = write(tmp_path, text)
    with pytest.raises(ConfigError):
        set_value(p, "alerts.rate_limit_s", "60")  # refused before anything is written
    assert reach_part(p).daemon.http.port == 8765  # the CLI's way to its daemon around the broken part
