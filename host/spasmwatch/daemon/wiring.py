"""From the validated config to the objects the daemon runs: channels, caregivers, links."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from typing import Any

from spasmwatch.alerts import AlertSettings, BandFault, QuietHours, Urgency
from spasmwatch.alerts.channels.base import Channel
from spasmwatch.alerts.channels.desktop import DesktopChannel, DesktopSettings
from spasmwatch.alerts.channels.dispatch import Caregiver
from spasmwatch.alerts.channels.mqtt import MqttChannel, MqttSettings
from spasmwatch.alerts.channels.ntfy import NtfyChannel, NtfySettings
from spasmwatch.alerts.channels.sound import SoundChannel, SoundSettings
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings
from spasmwatch.config import Band, Config, is_loopback, ntfy_topic
from spasmwatch.daemon.consts import MIN_NTFY_TOPIC_CHARS
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
        if not n.token and len(ntfy_topic(n.url)) < MIN_NTFY_TOPIC_CHARS:
            log.warning("[channels.ntfy #%d] (%s): its topic has %d characters, fewer than %d: whoever guesses it reads every push "
                        "(the band's label, the clusters) and can send false alarms. 'spasmwatch config add-ntfy new' makes one "
                        "nobody guesses (then subscribe the phones to it)", i, name, len(ntfy_topic(n.url)), MIN_NTFY_TOPIC_CHARS)  # fmt: skip
        out[name] = NtfyChannel(NtfySettings(url=n.url, name=name, token=n.token, page_url=page_url))
    if ch.mqtt.enabled:
        m = ch.mqtt
        if m.password and not m.tls and not is_loopback(m.host):
            log.warning("[channels.mqtt]: its password goes to %s unencrypted (tls = false), and every status with it: whoever "
                        "watches the home network reads both. Set tls = true (the broker's TLS port, 8883 mostly; docs/alerts.md "
                        "\"mqtt\")", host_port(m.host, m.port))  # fmt: skip
        if m.commands and not m.username and not is_loopback(m.host):
            # It took spasmwatch without a login, so it takes anyone's (its ACLs aside, which spasmwatch cannot see).
            log.warning("[channels.mqtt]: no username, so the broker at %s takes clients without a login: whoever on the network "
                        "reaches it can acknowledge an alarm (commands = true) and read every status. Give the broker a login "
                        "(username and password here), or set commands = false", host_port(m.host, m.port))  # fmt: skip
        out["mqtt"] = MqttChannel(
            MqttSettings(
                host=m.host, port=m.port, username=m.username, password=m.password, tls=m.tls, ca_file=m.ca_file,
                prefix=m.topic_prefix, discovery_prefix=m.discovery_prefix, commands=m.commands,
            )
        )
    return out


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
