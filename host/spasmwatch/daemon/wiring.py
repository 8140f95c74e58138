"""From the validated config to the objects the daemon runs: channels, caregivers, links."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from spasmwatch.alerts import AlertSettings, BandFault, QuietHours, Urgency
from spasmwatch.alerts.channels.base import Channel
from spasmwatch.alerts.channels.desktop import DesktopChannel, DesktopSettings
from spasmwatch.alerts.channels.dispatch import Caregiver
from spasmwatch.alerts.channels.mqtt import MqttChannel, MqttSettings
from spasmwatch.alerts.channels.ntfy import NtfyChannel, NtfySettings
from spasmwatch.alerts.channels.sound import SoundChannel, SoundSettings
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings
from spasmwatch.alerts.messages import page_text, past_bound_text
from spasmwatch.config import Band, Config, bind_host, is_home, is_loopback, ntfy_topic
from spasmwatch.daemon.api import Msg
from spasmwatch.daemon.consts import MIN_NTFY_TOPIC_CHARS, MIN_TOKEN_CHARS
from spasmwatch.daemon.heartbeat import HeartbeatSettings
from spasmwatch.errors import ConfigError
from spasmwatch.transport import Link, open_link
from spasmwatch.urls import host_port, url_origin

log = logging.getLogger(__name__)


def channels_from(cfg: Config) -> dict[str, Channel]:
    ch = cfg.channels
    page_url = cfg.daemon.http.page_url or None  # what a push links to (checked: no token in it)
    out: dict[str, Channel] = {}
    if ch.sound.enabled:
        cmd = tuple(shlex.split(ch.sound.command)) if ch.sound.command else ()
        out["sound"] = SoundChannel(SoundSettings(command=cmd, repeat_every_s=ch.sound.repeat_every_s, repeat_for_s=ch.sound.repeat_for_s))
    if ch.desktop.enabled:
        out["desktop"] = DesktopChannel(DesktopSettings())
    for w in ch.webhook:
        name = f"webhook:{w.ref_name}"
        out[name] = WebhookChannel(WebhookSettings(url=w.url, name=name, page_url=page_url))
    for i, n in enumerate(ch.ntfy, 1):
        name = f"ntfy:{n.ref_name}"
        if not n.name:
            # Said at each start, without the topic (the secret): the name it got in its stead,
            # which the journal, the status and Home Assistant show, and a better one to give.
            log.warning("[channels.ntfy #%d] (%s) has no name: called %s (its server and a hash of its URL, not its topic); "
                        "set name = \"phones\" (and list it as ntfy:phones in [[caregivers]])", i, url_origin(n.url), name)  # fmt: skip
        out[name] = NtfyChannel(NtfySettings(url=n.url, name=name, token=n.token, page_url=page_url))
    if ch.mqtt.enabled:
        m = ch.mqtt
        out["mqtt"] = MqttChannel(
            MqttSettings(
                host=m.host, port=m.port, username=m.username, password=m.password, tls=m.tls, ca_file=m.ca_file,
                prefix=m.topic_prefix, discovery_prefix=m.discovery_prefix, commands=m.commands,
            )
        )
    return out


class Exposure(NamedTuple):
    """One thing a config hands to whoever looks, as the page words it: the page word
    ``page.exposure.<key>`` and its values (``/api/status`` ``exposures_msg``)."""

    key: str
    args: dict[str, Any]

    @property
    def text(self) -> str:
        """Its words in English: the log's, and 'spasmwatch status''s (``exposures``)."""
        return past_bound_text(self.args) if self.key == "past_bound" else page_text(f"exposure.{self.key}", self.args)

    def msg(self) -> Msg:
        return {"key": self.key, "args": self.args}


def found_exposures(cfg: Config) -> list[Exposure]:
    """What ``cfg`` hands to whoever looks (the security reviews of 2026-12-07), each said without
    its secret, and the values of its file past a bound, taken as the bound (``past_bound``, review
    h47): in the log at each start and reload (``warn_exposures``), by 'spasmwatch status' and on the
    web page (the daemon's /api/status ``exposures`` and ``exposures_msg``), for a family that never
    reads the journal. Warnings, not refusals: the monitor must still start."""
    return _past_bounds(cfg) + _web_exposures(cfg) + _ntfy_exposures(cfg) + _webhook_exposures(cfg) + _mqtt_exposures(cfg)


def _past_bounds(cfg: Config) -> list[Exposure]:
    return [Exposure("past_bound", p.args()) for p in cfg.past_bounds]


def exposures(cfg: Config) -> list[str]:
    """``found_exposures(cfg)`` in the log's words."""
    return [e.text for e in found_exposures(cfg)]


def warn_exposures(cfg: Config) -> list[Exposure]:
    """``found_exposures(cfg)``, each logged as a warning."""
    said = found_exposures(cfg)
    for e in said:
        log.warning("%s", e.text)
    return said


def _web_exposures(cfg: Config) -> list[Exposure]:
    h = cfg.daemon.http
    token = h.token.strip()  # (one set is asked for on 127.0.0.1 too: daemon/http.py)
    out: list[Exposure] = []
    if 0 < len(token) < MIN_TOKEN_CHARS:
        out.append(Exposure("short_token", {"n": len(token), "min": MIN_TOKEN_CHARS}))
    if not h.tls and not is_loopback(bind_host(h.host, h.lan)):
        out.append(Exposure("plain_page", {}))
    return out


def _ntfy_exposures(cfg: Config) -> list[Exposure]:
    out: list[Exposure] = []
    for i, n in enumerate(cfg.channels.ntfy, 1):
        which = {"i": i, "channel": f"ntfy:{n.ref_name}"}
        if not n.token and len(ntfy_topic(n.url)) < MIN_NTFY_TOPIC_CHARS:
            out.append(Exposure("short_topic", {**which, "n": len(ntfy_topic(n.url)), "min": MIN_NTFY_TOPIC_CHARS}))
        if in_clear(n.url):  # its access token crosses too, when it has one
            out.append(Exposure("plain_ntfy_token" if n.token else "plain_ntfy", {**which, "origin": url_origin(n.url)}))
    return out


def _webhook_exposures(cfg: Config) -> list[Exposure]:
    return [
        Exposure("plain_webhook", {"i": i, "channel": f"webhook:{w.ref_name}", "origin": url_origin(w.url)})
        for i, w in enumerate(cfg.channels.webhook, 1) if in_clear(w.url)
    ]  # fmt: skip


def _mqtt_exposures(cfg: Config) -> list[Exposure]:
    m = cfg.channels.mqtt
    out: list[Exposure] = []
    if not m.enabled or is_loopback(m.host):
        return out
    if m.password and not m.tls:
        out.append(Exposure("mqtt_no_tls", {"broker": host_port(m.host, m.port)}))
    if m.commands and not m.username:
        # It took spasmwatch without a login, so it takes anyone's (its ACLs aside, which spasmwatch cannot see).
        out.append(Exposure("mqtt_no_login", {"broker": host_port(m.host, m.port)}))
    return out


def in_clear(url: str) -> bool:
    """Whether ``url`` is plain http:// to a host past the home network (``config.is_home``)."""
    u = urlsplit(url)
    return u.scheme.lower() == "http" and not is_home(u.hostname or "")


def caregivers_from(cfg: Config, channels: dict[str, Channel]) -> list[Caregiver]:
    out = []
    aliases = cfg.channels.aliases()
    for i, cg in enumerate(cfg.caregivers, 1):
        names = [aliases.get(c, c) for c in cg.channels]
        for old in dict.fromkeys(c for c in cg.channels if c in aliases):
            # Routed all the same; said at each start without the old name (it may be the topic).
            log.warning("[caregivers #%d] %s lists an ntfy channel by an old name (its topic, or the name it had without one): "
                        "it is %s now; write that in channels (or give the table a name)", i, cg.name, aliases[old])  # fmt: skip
        missing = [c for c in names if c not in channels]
        if missing:
            raise ConfigError(f"[[caregivers]] {cg.name}: channel(s) not enabled: {', '.join(missing)}")
        out.append(Caregiver(cg.name, tuple(dict.fromkeys(names)), Urgency[cg.min_urgency.upper()]))
    return out


def alert_settings_from(cfg: Config) -> AlertSettings:
    a = cfg.alerts
    quiet = QuietHours.parse(a.quiet_hours) if a.quiet_hours else None
    return AlertSettings(
        escalate_after_s=a.escalate_after_s,
        rate_limit_s=a.rate_limit_s,
        quiet_hours=quiet,
        quiet_faults=frozenset(BandFault(f) for f in a.quiet_faults),
        daily_summary_min=a.daily_summary_min(),
        language=a.language,
    )


def heartbeat_from(cfg: Config) -> HeartbeatSettings | None:
    hb = cfg.daemon.heartbeat
    return HeartbeatSettings(hb.url, hb.every_s) if hb.url else None


def band_target(b: Band) -> str:
    """What to connect to: a serial port, or a name / address (BLE and the simulated radio)."""
    target = b.port if b.transport == "serial" else (b.address or b.name)
    if not target:
        raise ConfigError(f"[[bands]] entry needs {'port' if b.transport == 'serial' else 'name or address'}")
    return target


def link_factory(b: Band, **kw: Any) -> Callable[[], Link]:
    target = band_target(b)
    return lambda: open_link(b.transport, target, **kw)


def band_link(b: Band, store_path: Path) -> Callable[[], Link]:
    """The links to one [[bands]] band as the daemon of the store at ``store_path`` makes them: a
    simulated band's bond keys in the file beside the store (what the OS keeps for a real one), so
    'spasmwatch bonds' is the same central as that daemon."""
    return link_factory(b, **({"bond_file": store_path.parent / "sim-bonds.json"} if b.transport == "sim" else {}))
