"""MQTT: alert state, events and band status, with Home Assistant discovery.

Topics (``prefix`` defaults to ``spasmwatch``; ``dev`` is the device id with
anything but letters, digits, ``_`` and ``-`` replaced by ``_``):

* ``{prefix}/{dev}/alert``        retained: the cluster alert state (JSON)
* ``{prefix}/{dev}/event``        every notification (JSON, schema spasmwatch.alert/1), once per
  notification as far as this end can tell (``_Link.publish_once``); ``key`` names it for consumers
* ``{prefix}/{dev}/status``       retained: band state, faults, battery, worn, asleep, last cluster, mute
* ``{prefix}/{dev}/availability`` retained: ``online``, or ``offline`` from the broker
  (last will) when spasmwatch dies without saying goodbye
* ``{prefix}/{dev}/band_availability`` retained: ``online`` while the band's battery, worn and
  asleep are now's, ``offline`` while they are its last report's (``BandStatus.last_known_at``,
  the daemon's ``last_known_at``: the page and CLI say "last known at" by the same decision)
  and until the daemon said which; Home Assistant's entities of those three want both topics
  ``online`` (``availability_mode: all``)
* ``{prefix}/{dev}/command``      subscribed (QoS 1, with ``commands`` on and a daemon to act):
  ``ack`` or ``test``, or JSON ``{"command": "ack", "by": "Anna"}``; Home Assistant's buttons
* ``{discovery_prefix}/{component}/spasmwatch_{dev}_{entity}/config`` retained: HA discovery

Given an ``Outbox`` (the daemon's Store), an event is kept on disk before paho gets it and
forgotten once the broker acknowledged it: one still unacknowledged when the daemon stops
(or dies) is sent by the next start (``resend_kept``), under the same ``key``, while still
true (``why_not_resend``, the daemon's ``outbox.why_not_resend``: not an alarm acknowledged
since). The same rule decides on the events paho held while the broker was unreachable, as a
link reconnects within a run (``_Link._on_connect``); one this run handed over within
``timeout_s`` is not late but still being sent (``in_flight``: a test alarm right after the
start, before the first CONNACK, goes on that connection). The latest ``alert`` state is kept too;
the next start re-says it unless it is an alarm (the restore's).

A channel a config reload replaces (another prefix, device id or broker) or removes deletes its
retained topics as it goes (``retire``: an empty retained payload on each), except those a
channel configured after the reload retains on the same broker; so do a band's, when a reload
takes the band out (``forget_device``). A stop (``close``) keeps them, and says ``offline``: a
restart must not take Home Assistant's entities away. A band an earlier run left ``connected:
true`` and this run has not heard (so has no device id for) is said not connected at the start
(``say_unheard_away``), not ``online``.

A last will belongs to a connection, so each device gets its own MQTT
connection: that is what lets Home Assistant show one band as unavailable.
Payloads are documented in docs/alerts.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import re
import os
import socket
import ssl
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from spasmwatch import __version__
from spasmwatch.alerts.channels.base import ChannelError, SettingsChannel, same_host, same_path, written_as
from spasmwatch.alerts.channels.outbox import OPEN_ALARM_STATES, KeepsOutgoing, Outbox, WhyNotResend, from_json
from spasmwatch.alerts.model import CLUSTER_KINDS, BandFault, Notification, NoticeKind, Urgency
from spasmwatch.store.rows import RetainedRow
from spasmwatch.threads import DetachedThreads

log = logging.getLogger(__name__)
T = TypeVar("T")

_KEEP_EVENTS = 256  # notifications whose event a link remembers (retries come within a minute)
# Threads of MQTT's own for what blocks in paho with no callback to wait on (a network thread's
# join as a link stops: up to its 1 s select, or paho's 5 s connect timeout; a broker name's DNS
# lookup as a reload compares brokers). Not asyncio's default pool: that one (min(32, cpus + 4),
# 6 on 2 cores) reads the serial bands and reopens the store, which must never wait on a home
# automation broker. Bounded: a broker away makes each link's stop block, and 4 stop 4 links at once.
# Daemon threads (threads.py): a stop during a hung lookup does not wait for it (tests/alerts/test_mqtt_exit.py).
MQTT_THREADS = 4
# paho's reconnect delay (s: first, cap; doubling while the broker stays away, back to the first
# after a CONNACK): a restarted broker is back within a second or two, one away long costs a
# connect attempt every 30 s.
RECONNECT_DELAY_S = (1, 30)
COMMANDS = frozenset({"ack", "test"})  # what {prefix}/{dev}/command takes (docs/alerts.md)
# The longest command payload read (bytes): ``{"command": "ack", "by": <100 characters>}`` fits
# many times over; anything longer is no command of ours and is not parsed.
MAX_COMMAND_BYTES = 1024


@dataclass(frozen=True)
class MqttCommand:
    """A command from ``{prefix}/{dev}/command`` (a Home Assistant button, an automation), for the daemon."""

    device: str
    command: str  # one of COMMANDS
    by: str | None  # who, when the payload names someone (untrimmed: the daemon bounds it)
    topic: str  # where it came from, for the log


@dataclass(frozen=True)
class MqttSettings:
    host: str = field(default="127.0.0.1", metadata=written_as(same_host))
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False  # TLS, the broker's certificate checked against ca_file ("": the system's CAs)
    ca_file: str = field(default="", metadata=written_as(same_path))
    prefix: str = "spasmwatch"
    discovery_prefix: str = "homeassistant"
    discovery: bool = True
    name: str = "mqtt"
    keepalive_s: int = 30
    timeout_s: float = 10.0
    min_urgency: Urgency = Urgency.INFO  # a state mirror needs every change
    # Take commands (acknowledge, test alarm) on {prefix}/{dev}/command, with Home Assistant
    # buttons for them. On by default: the broker already carries the alarm Home Assistant shows
    # (whoever can publish there can already hide it), and a family with Home Assistant expects
    # to acknowledge there; the broker's authentication is what guards both (docs/alerts.md).
    commands: bool = True


@dataclass(frozen=True)
class FailingChannel:
    """A notification channel whose latest delivery failed (``Dispatcher.failing``), as ``status`` says it."""

    channel: str
    since: float  # wall s of its first failure in a row
    error: str


@dataclass(frozen=True)
class HeartbeatState:
    """The daemon's heartbeat ([daemon.heartbeat]) as ``status`` says it: what changes on its
    state changes only (not ``last_ok``, which moves at every ping: a retained publish a minute
    for nothing). The host only: the URL's path and query are its secret."""

    host: str
    failing_since: float | None  # wall s of the first failed ping in a row; None: not failing
    error: str | None  # the latest failed ping's, as the status was built
    paused: str | None  # why the daemon holds the pings back; None: it does not


@dataclass(frozen=True)
class LinkUnstable:
    """A flapping link (the daemon's ``link_unstable``, daemon/flap.py): it never raises 'band
    disconnected', and each alarm comes late by the seconds the link is down."""

    drops: int  # since the flapping began (its first short links too)
    since: float  # wall s of its first drop: fixed while it lasts (its duration would move every status)


@dataclass(frozen=True)
class RateNotTaken:
    """A configured rate_hz the band would not take (the daemon's ``rate_not_taken``, after
    RATE_REBOOTS reboots): monitored at the rate it runs, a note for whoever set the rate."""

    configured_hz: int
    running_hz: float | None  # None: a rate the band did not report


@dataclass(frozen=True)
class BandStatus:
    """What the daemon knows of a band; None = unknown. Published retained on ``status``."""

    connected: bool | None = None
    battery_pct: float | None = None
    worn: bool | None = None
    asleep: bool | None = None
    faults: tuple[str, ...] = ()
    last_cluster: dict[str, Any] | None = None
    # While a mute holds back the band's notices: its end (unix s) and who set it; None: not muted
    # (a mute forgotten after a bath must be seen in Home Assistant too).
    muted_until: float | None = None
    muted_by: str | None = None
    # The daemon's other channels whose latest delivery failed (never this one: it cannot say its
    # own failure). Daemon-wide, repeated in each band's status: a family watching Home Assistant
    # must see that its phone gets no alarms, as the page's red banner says.
    channels_failing: tuple[FailingChannel, ...] = ()
    # Those whose failure was under settings changed since (/api/status' channels_changed): not known
    # to deliver until they send, to be tested; not failing, and not fine either.
    channels_changed: tuple[FailingChannel, ...] = ()
    # The dead man's switch, daemon-wide too (None: not configured). Failing or held back, the
    # service it feeds will tell the phones "down" while the monitor may be fine (or miss it when not).
    heartbeat: HeartbeatState | None = None
    # When battery_pct, worn and asleep were reported, while they are the band's last report's and
    # not now's (the daemon's ``last_known_at``: not connected, or STALE); None: now's, or never heard.
    last_known_at: float | None = None
    link_unstable: LinkUnstable | None = None  # None: the link is steady (or down)
    rate_not_taken: RateNotTaken | None = None  # None: the band runs the configured rate (or none is configured)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self, device: str, t: float) -> dict[str, Any]:
        state = "STALE" if BandFault.DISCONNECTED.value in self.faults else "FAULT" if self.faults else "OK"
        return {
            "schema": "spasmwatch.status/1",
            "device": device,
            "band_state": state,
            "faults": sorted(self.faults),
            "connected": self.connected,
            "battery_pct": self.battery_pct,
            "worn": self.worn,
            "asleep": self.asleep,
            "last_known_at": _iso(self.last_known_at),
            "last_cluster": self.last_cluster,
            "muted_until": _iso(self.muted_until),
            "muted_by": self.muted_by,
            "channels_failing": _channels_json(self.channels_failing),
            "channels_changed": _channels_json(self.channels_changed),
            "heartbeat": _heartbeat_json(self.heartbeat),
            "link_unstable": None if (u := self.link_unstable) is None else {"drops": u.drops, "since": _iso(u.since)},
            "rate_not_taken": None if (r := self.rate_not_taken) is None else {"configured_hz": r.configured_hz, "running_hz": r.running_hz},
            "updated_t": t,
            **self.extra,
        }


def slug(device: str) -> str:
    """A device id safe in a topic level and an HA object id."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", device) or "_"


def topics(s: MqttSettings, device: str) -> dict[str, str]:
    base = f"{s.prefix}/{slug(device)}"
    return {k: f"{base}/{k}" for k in ("alert", "event", "status", "availability", "band_availability", "command")}


def retained_topics(s: MqttSettings, device: str) -> set[str]:
    """Every topic a channel on ``s`` may retain for ``device``: its state, its availability and
    (with discovery) each entity's config, the optional ones too (what ``retire`` deletes)."""
    t = topics(s, device)
    out = {t["alert"], t["status"], t["availability"], t["band_availability"]}
    if s.discovery:
        out |= set(discovery_configs(s, device, commands=True, heartbeat=True))
    return out


def same_broker(a: MqttSettings, b: MqttSettings) -> bool:
    """Whether ``a`` and ``b`` reach one broker: the same port, and the same host name or an address
    in common (``localhost`` and ``127.0.0.1``). Resolves names: call it in MQTT's threads (``_off_loop``)."""
    if a.port != b.port:
        return False
    return a.host.lower() == b.host.lower() or bool(_addresses(a.host, a.port) & _addresses(b.host, b.port))


def _addresses(host: str, port: int) -> set[str]:
    try:
        return {str(ai[4][0]) for ai in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except OSError:  # not resolvable (now): no address in common
        return set()


def parse_command(payload: bytes) -> tuple[str, str | None] | None:
    """``(command, by)`` from a command payload, or None when it is none of ours.

    Plain ``ack`` / ``test`` (what the buttons send; case and spaces ignored), or a JSON object
    ``{"command": "ack", "by": "Anna"}`` for an automation that names who pressed."""
    if len(payload) > MAX_COMMAND_BYTES:
        return None
    try:
        text = payload.decode().strip()
    except UnicodeDecodeError:
        return None
    by: Any = None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        text, by = str(obj.get("command", "")), obj.get("by")
    command = text.strip().lower()
    if command not in COMMANDS or not (by is None or isinstance(by, str)):
        return None
    return command, by


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()


def _channels_json(channels: tuple[FailingChannel, ...]) -> list[dict[str, Any]]:
    return [{"channel": c.channel, "since": _iso(c.since), "error": c.error} for c in channels]


def _heartbeat_json(h: HeartbeatState | None) -> dict[str, Any] | None:
    if h is None:
        return None
    return {"host": h.host, "failing_since": _iso(h.failing_since), "error": h.error, "paused": h.paused}


def _tristate(field_name: str) -> str:
    # HA reads the payload "None" as unknown (the band has not said yet).
    return f"{{% if value_json.{field_name} is none %}}None{{% elif value_json.{field_name} %}}ON{{% else %}}OFF{{% endif %}}"


def config_topic(s: MqttSettings, device: str, component: str, key: str) -> str:
    """Where an entity's discovery config is retained (an empty payload there removes it)."""
    return f"{s.discovery_prefix}/{component}/spasmwatch_{slug(device)}_{key}/config"


# The entities offered only with something configured (discovery_configs), as (component, key):
# without it an earlier run's are removed, or Home Assistant keeps showing them, unavailable.
HEARTBEAT_SENSOR = (("binary_sensor", "heartbeat_failing"),)
# The entities showing what the band reported (its STATUS): unavailable in Home Assistant while that
# is not now's (``band_availability``), not shown as current. The others stay available with the
# daemon: "Band connected" must read OFF (an automation acts on it), the alert is the daemon's now.
BAND_REPORTED = frozenset({"battery", "worn", "asleep"})
BUTTONS = (("button", "acknowledge"), ("button", "test_alarm"))


def discovery_configs(s: MqttSettings, device: str, commands: bool | None = None, heartbeat: bool = False) -> dict[str, dict[str, Any]]:
    """Discovery topic -> config for one band's entities (docs/alerts.md); with ``commands``
    (default ``s.commands``) its buttons too; with ``heartbeat`` (one is configured) its sensor."""
    t, d = topics(s, device), slug(device)
    daemon_only = {"availability_topic": t["availability"], "payload_available": "online", "payload_not_available": "offline"}
    # A list (Home Assistant refuses it beside availability_topic), all of it ``online`` to be available:
    # the daemon's will still makes them unavailable when it dies, whatever the band's topic says.
    with_band = {
        "availability": [{"topic": t[k], "payload_available": "online", "payload_not_available": "offline"}
                         for k in ("availability", "band_availability")],
        "availability_mode": "all",
    }  # fmt: skip
    common = {
        "device": {
            "identifiers": [f"spasmwatch_{d}"],
            "name": f"spasmwatch {device}",
            "manufacturer": "spasmwatch",
            "model": "IMU band",
            "sw_version": __version__,
        },
        "origin": {"name": "spasmwatch", "sw": __version__},
        "has_entity_name": True,
    }
    entities: list[tuple[str, str, dict[str, Any]]] = [
        ("binary_sensor", "alarm", {"name": "Spasm alarm", "state_topic": t["alert"], "device_class": "safety",
         "value_template": "{{ 'ON' if value_json.alarm else 'OFF' }}", "json_attributes_topic": t["alert"]}),
        ("binary_sensor", "cluster_active", {"name": "Spasm cluster going on", "state_topic": t["alert"],
         "value_template": "{{ 'ON' if value_json.cluster_active else 'OFF' }}", "icon": "mdi:pulse"}),
        ("sensor", "alert_state", {"name": "Alert state", "state_topic": t["alert"],
         "value_template": "{{ value_json.state }}", "icon": "mdi:alarm-light"}),
        ("sensor", "battery", {"name": "Battery", "state_topic": t["status"], "device_class": "battery",
         "unit_of_measurement": "%", "state_class": "measurement", "value_template": "{{ value_json.battery_pct }}"}),
        ("binary_sensor", "worn", {"name": "Worn", "state_topic": t["status"], "value_template": _tristate("worn"),
         "icon": "mdi:baby-face-outline"}),
        ("binary_sensor", "asleep", {"name": "Asleep", "state_topic": t["status"], "value_template": _tristate("asleep"),
         "icon": "mdi:sleep"}),
        ("binary_sensor", "connected", {"name": "Band connected", "state_topic": t["status"],
         "device_class": "connectivity", "value_template": _tristate("connected")}),
        ("sensor", "last_cluster", {"name": "Last cluster", "state_topic": t["status"], "device_class": "timestamp",
         "value_template": "{{ value_json.last_cluster.started if value_json.last_cluster else None }}",
         "json_attributes_topic": t["status"], "json_attributes_template": "{{ value_json.last_cluster | tojson }}"}),
        ("sensor", "muted_until", {"name": "Notices muted until", "state_topic": t["status"], "device_class": "timestamp",
         "value_template": "{{ value_json.muted_until }}", "icon": "mdi:bell-off",
         "json_attributes_topic": t["status"], "json_attributes_template": "{{ {'muted_by': value_json.muted_by} | tojson }}"}),
        # Daemon-wide, on each band's device: where the family looks (docs/alerts.md). Attributes
        # must be a JSON object for Home Assistant, so the list is under its field's name.
        ("binary_sensor", "channels_failing", {"name": "Notifications failing", "state_topic": t["status"],
         "device_class": "problem", "value_template": "{{ 'ON' if value_json.channels_failing else 'OFF' }}",
         "json_attributes_topic": t["status"],
         "json_attributes_template": "{{ {'channels_failing': value_json.channels_failing} | tojson }}"}),
        # Apart from it, as the page's yellow notice is apart from its red banner: a channel whose
        # settings changed since it failed is not known to deliver; a test alarm tells (its button).
        ("binary_sensor", "channels_changed", {"name": "Notifications to test", "state_topic": t["status"],
         "icon": "mdi:bell-alert-outline", "value_template": "{{ 'ON' if value_json.channels_changed else 'OFF' }}",
         "json_attributes_topic": t["status"],
         "json_attributes_template": "{{ {'channels_changed': value_json.channels_changed} | tojson }}"}),
        # The daemon's finding, as "Band connected" (never unavailable with the band): a link that
        # drops and reconnects, alarms late by its down seconds; a cable to reseat, a band to bring nearer.
        ("binary_sensor", "link_unstable", {"name": "Band link unstable", "state_topic": t["status"],
         "device_class": "problem", "icon": "mdi:connection", "value_template": "{{ 'ON' if value_json.link_unstable else 'OFF' }}",
         "json_attributes_topic": t["status"], "json_attributes_template": "{{ (value_json.link_unstable or {}) | tojson }}"}),
        # Diagnostic, not a problem (off the default dashboard): the band is monitored at the rate it
        # runs; the engineer who set rate_hz looks at the device's page (a rate to change, a band to flash).
        ("binary_sensor", "rate_not_taken", {"name": "Configured rate not taken", "state_topic": t["status"],
         "entity_category": "diagnostic", "icon": "mdi:sine-wave", "value_template": "{{ 'ON' if value_json.rate_not_taken else 'OFF' }}",
         "json_attributes_topic": t["status"], "json_attributes_template": "{{ (value_json.rate_not_taken or {}) | tojson }}"}),
    ]  # fmt: skip
    if heartbeat:
        # Apart from "Notifications failing": the alarms still reach the phones, but the service
        # will soon say the monitor is down (or would miss it); the fix is elsewhere (the network,
        # the check's URL). ON while failing or held back; which one, in the attributes.
        entities.append(("binary_sensor", "heartbeat_failing", {"name": "Heartbeat failing", "state_topic": t["status"],
            "device_class": "problem", "icon": "mdi:heart-broken",
            "value_template": "{{ 'ON' if value_json.heartbeat and (value_json.heartbeat.failing_since or value_json.heartbeat.paused) else 'OFF' }}",
            "json_attributes_topic": t["status"], "json_attributes_template": "{{ (value_json.heartbeat or {}) | tojson }}"}))  # fmt: skip
    if s.commands if commands is None else commands:
        # Pressed, Home Assistant publishes payload_press on command_topic (not retained: a
        # retained one would act again at each reconnect; the channel ignores those anyway).
        press = {"command_topic": t["command"], "qos": 1, "retain": False}
        entities += [
            ("button", "acknowledge", {"name": "Acknowledge alarm", "payload_press": "ack", "icon": "mdi:alarm-check", **press}),
            ("button", "test_alarm", {"name": "Send test alarm", "payload_press": "test", "icon": "mdi:bell-ring-outline", **press}),
        ]
    out = {}
    for component, key, cfg in entities:
        uid = f"spasmwatch_{d}_{key}"
        availability = with_band if key in BAND_REPORTED else daemon_only
        out[config_topic(s, device, component, key)] = {**cfg, "unique_id": uid, **availability, **common}
    return out


# A cluster alert's states from its alarm to its close (WARNING is before one, CLOSED after).
_ALARMED_STATES = (*OPEN_ALARM_STATES, "ACKNOWLEDGED")


def alert_state(n: Notification) -> dict[str, Any]:
    """The retained ``alert`` payload after a cluster notification."""
    return {
        "schema": "spasmwatch.alert_state/1",
        "device": n.device,
        "state": n.state,
        # An alarm nobody has acknowledged: a parent is wanted, also once its cluster ended (a siren).
        "alarm": n.state in OPEN_ALARM_STATES,
        # The alarmed cluster goes on now, acknowledged or not (a light while it lasts).
        "cluster_active": n.state in _ALARMED_STATES and not n.cluster_ended,
        "alert_id": n.alert_id,
        "cluster_key": n.cluster_key,
        "count": n.count,
        "started": _iso(n.started_t),
        "urgency": n.urgency.name.lower(),
        "title": n.title,
        "text": n.text,
        "updated_t": n.created_t,
    }


class _Client(paho.Client):
    """paho's client, whose ``shut`` ends it for good: its broker's name lookup, TCP connect or TLS
    handshake cut short, its thread joined, its sockets closed (the lookup: ``_broker_addresses``).

    paho's thread blocks in a TCP connect and in a TLS handshake for its connect timeout (5 s: on
    a blocking socket, which nothing wakes), and ``loop_stop`` joins it: a stop while a broker's
    host never answered the connect (its machine off, its SYNs dropped), or while a broker never
    answered the handshake, took 5 s. So the socket being set up has a second descriptor here
    (``dup``) that ``shut`` shuts down: the connect or handshake fails at once. It is closed as
    soon as that step ends (an open duplicate would keep the connection up after paho closes its
    own, and ``shut`` never touches a descriptor number another socket may have taken since).
    And paho closes its sockets (the broker's, the pair that wakes its thread) only in
    ``__del__``, while a link's client is in a cycle through its callbacks: each client the channel
    was done with held 2 or 3 until the garbage collector ran (4 more at each broker restart).
    Reads paho 2.x internals (``_create_socket_connection``, ``_get_proxy``, ``_ssl_wrap_socket``,
    ``_reset_sockets``: pyproject pins paho < 3)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._shake_lock = threading.Lock()
        self._shaking: socket.socket | None = None  # the socket being connected or under TLS handshake, duplicated
        self._looking: threading.Event | None = None  # set: the broker's name lookup no longer waited for
        self._shut = False

    @contextlib.contextmanager
    def _cuttable(self, sock: socket.socket) -> Iterator[None]:
        """``sock``, in a step that blocks (a connect, a TLS handshake), shut down by ``shut``
        meanwhile; closed and refused (ECONNABORTED) when ``shut`` came first."""
        with self._shake_lock:
            if self._shut:
                sock.close()
                raise OSError(errno.ECONNABORTED, "the MQTT channel stops")
            self._shaking = sock.dup()
        try:
            yield
        finally:
            with self._shake_lock:
                shaking, self._shaking = self._shaking, None
            if shaking is not None:
                shaking.close()

    def _create_socket_connection(self) -> socket.socket:  # paho's thread
        if self._get_proxy():  # its connect is the SOCKS library's
            return super()._create_socket_connection()
        # socket.create_connection's, with each address's connect cuttable
        error: OSError = OSError(errno.EADDRNOTAVAIL, f"no address for {self._host}")
        for family, kind, proto, _, address in self._broker_addresses():
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self._connect_timeout)
                if self._bind_address or self._bind_port:
                    sock.bind((self._bind_address, self._bind_port))
                with self._cuttable(sock):
                    sock.connect(address)
                return sock
            except OSError as e:
                sock.close()
                if self._shut:
                    raise
                error = e
        raise error

    def _broker_addresses(self) -> list[tuple[Any, ...]]:  # paho's thread
        """The broker's ``getaddrinfo``, in a thread of its own that ``shut`` stops waiting for
        (ECONNABORTED): a lookup a DNS server does not answer (or mDNS, a ``.local`` name whose
        host is off) blocks for seconds, which nothing wakes. The thread ends with its lookup."""
        with contextlib.suppress(socket.gaierror):  # an address, not a name: nothing to wait for, no thread
            return socket.getaddrinfo(self._host, self._port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
        found: list[list[tuple[Any, ...]] | OSError] = []
        done = threading.Event()

        def look_up() -> None:
            try:
                found.append(socket.getaddrinfo(self._host, self._port, 0, socket.SOCK_STREAM))
            except OSError as e:
                found.append(e)
            finally:
                done.set()

        with self._shake_lock:
            if self._shut:
                raise OSError(errno.ECONNABORTED, "the MQTT channel stops")
            self._looking = done
        try:
            threading.Thread(target=look_up, name="spasmwatch-mqtt-lookup", daemon=True).start()
            done.wait()
        finally:
            with self._shake_lock:
                self._looking = None
        if not found:  # shut() woke us
            raise OSError(errno.ECONNABORTED, "the MQTT channel stops")
        if isinstance(found[0], OSError):
            raise found[0]
        return found[0]

    def _ssl_wrap_socket(self, tcp_sock: socket.socket) -> ssl.SSLSocket:  # paho's thread
        with self._cuttable(tcp_sock):
            return super()._ssl_wrap_socket(tcp_sock)

    def shut(self) -> None:
        """Stop paho's thread now (a TCP connect or TLS handshake under way fails) and close its
        sockets. Blocks: the thread joined (up to paho's 1 s select), call it in MQTT's threads
        (``_off_loop``)."""
        with self._shake_lock:
            self._shut = True
            if self._looking is not None:
                self._looking.set()
            if self._shaking is not None:
                with contextlib.suppress(OSError):
                    self._shaking.shutdown(socket.SHUT_RDWR)
        self.loop_stop()
        self._reset_sockets()


def _client(s: MqttSettings, name: str) -> _Client:
    """A paho client for the broker of ``s``: its credentials, TLS and reconnect delays; ``name`` in
    its client id (a band's slug, or what the connection is for)."""
    cid = f"spasmwatch-{name}-{uuid.uuid4().hex[:8]}"  # unique: a duplicate id kicks the other client
    client = _Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=True)
    if s.username is not None:
        client.username_pw_set(s.username, s.password)
    if s.tls:
        try:  # certificate and host name checked (paho's defaults): TLS that trusts anyone guards no password
            client.tls_set(ca_certs=os.path.expanduser(s.ca_file) if s.ca_file else None)
        except (OSError, ssl.SSLError, ValueError) as e:
            raise ChannelError(s.name, f"TLS to MQTT broker {s.host}:{s.port}: cannot use ca_file {s.ca_file or '(the system CAs)'}: "
                               f"{getattr(e, 'strerror', None) or e}", retryable=False) from None  # fmt: skip
    client.reconnect_delay_set(*RECONNECT_DELAY_S)
    return client


def _refused(s: MqttSettings, reason: str) -> ChannelError:
    """The broker of ``s`` refused a connection (its CONNACK's ``reason``: credentials, mostly)."""
    return ChannelError(s.name, f"MQTT broker {s.host}:{s.port} refused the connection: {reason}", retryable=False)


_THREADS = DetachedThreads(MQTT_THREADS, "spasmwatch-mqtt")


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, which blocks, in MQTT's own threads (``MQTT_THREADS``), not asyncio's default pool."""
    return await _THREADS.call(fn, *args)


class _Wake:
    """Tells the event loop's waits on a paho client (``_until``) that something they look at may
    have changed, from paho's thread: a CONNACK, a disconnect, a PUBACK (it is the client's
    ``on_publish`` too). The waits hold no thread: in ``asyncio.to_thread`` a stalled broker held
    the default pool's (6 on 2 cores: the serial bands' reads and the store's waited ``timeout_s``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def __call__(self, *_paho_args: object) -> None:
        with self._lock:
            waiting = list(self._waiting)
        for loop, event in waiting:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed: nobody waits there any more
                pass

    def add(self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._waiting.add(waiter)

    def discard(self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._waiting.discard(waiter)


async def _until(done: Callable[[], bool], wakes: Collection[_Wake], timeout_s: float) -> bool:
    """Whether ``done()`` came true within ``timeout_s``: asked now and again each time one of
    ``wakes`` fires (no polling: on a loop whose clock stands still too). Its exceptions propagate.
    A timer, not ``asyncio.wait_for``: that one (3.11) can swallow a cancellation that comes as the
    wait ends, and a daemon's stop then never ended (its MQTT mirror went on)."""
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    waiter = (loop, event)
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        event.set()

    for wake in wakes:
        wake.add(waiter)
    timer = loop.call_later(timeout_s, expire)
    try:
        while True:
            event.clear()  # before asking: a change after the question sets it again
            if done():
                return True
            if expired:
                return False
            await event.wait()
    finally:
        timer.cancel()
        for wake in wakes:
            wake.discard(waiter)


def _acked(client: paho.Client, info: paho.MQTTMessageInfo) -> bool:
    """``info.is_published()`` (raising as it does for a message never queued), as a wait woken by
    ``on_publish`` must see it: paho calls on_publish before it marks the message published, both
    under its lock of outgoing messages, which taken here is free only once the mark is made."""
    if info.is_published():
        return True
    held = _held_messages(client)
    if held is None:
        return False
    with held[1]:
        return info.is_published()


def _pending(client: paho.Client, info: paho.MQTTMessageInfo) -> bool:
    """Whether the broker may still acknowledge ``info``: queued, and not acknowledged yet."""
    try:
        return not _acked(client, info)
    except (RuntimeError, ValueError):
        return False  # never queued: nothing to wait for


class _Scan:
    """A connection of its own that speaks for no band (no will, no ``online``): what the broker
    retains on some topic filters read, then corrections published (``MqttChannel.say_unheard_away``).
    ``close`` blocks (paho's thread joined): call it in MQTT's threads (``_off_loop``)."""

    def __init__(self, s: MqttSettings, filters: Sequence[str]) -> None:
        self.s, self.filters = s, filters
        self.client = _client(s, "scan")
        self.got: dict[str, bytes] = {}
        self.done = threading.Event()
        self.wake = _Wake()
        self.refused: str | None = None  # the broker's reason, at its CONNACK
        # Under the prefix (a broker's ACL may allow nothing else), on a level no band's topic has.
        self.probe = f"{s.prefix}/_probe/{uuid.uuid4().hex}"
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda c, *_: c.publish(self.probe, b"end", qos=1)
        self.client.on_message = self._on_message
        self.client.on_publish = self.wake

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:  # said now, not as a read that timed out (paho would retry it each second)
            self.refused = str(rc)
            self.done.set()
            self.wake()
        else:
            # QoS 0: at QoS 1 mosquitto queues a client at most max_queued_messages (1000 by
            # default) and drops the rest, the probe that ends the list among them (600 bands'
            # status and availability timed the scan out). A lost one is the read's timeout.
            client.subscribe([(f, 0) for f in (*self.filters, self.probe)])

    def _on_message(self, _c: paho.Client, _u: Any, m: paho.MQTTMessage) -> None:
        if m.topic == self.probe:
            self.done.set()  # the broker sends the retained messages right after the SUBACK, before this
            self.wake()
        elif m.payload:
            # Retained, or said live since (another daemon up meanwhile says its band online): the latest.
            self.got[m.topic] = bytes(m.payload)
        else:
            self.got.pop(m.topic, None)  # deleted (a reload took the band out)

    async def read(self) -> dict[str, bytes]:
        """Topic -> payload of the retained messages on ``filters``; ChannelError without them within ``timeout_s``."""
        self.client.connect_async(self.s.host, self.s.port, self.s.keepalive_s)
        self.client.loop_start()
        if not await _until(self.done.is_set, [self.wake], self.s.timeout_s):
            raise ChannelError(self.s.name, f"MQTT broker {self.s.host}:{self.s.port}: its retained messages not read within {self.s.timeout_s:g} s")
        if self.refused is not None:
            raise _refused(self.s, self.refused)
        return dict(self.got)

    async def publish(self, messages: dict[str, bytes]) -> list[str]:
        """``messages`` published retained, waited for up to ``timeout_s`` together: the topics the broker did not take."""
        sent = [(topic, self.client.publish(topic, payload, qos=1, retain=True)) for topic, payload in messages.items()]
        await _until(lambda: not any(_pending(self.client, info) for _, info in sent), [self.wake], self.s.timeout_s)
        return [topic for topic, info in sent if not _published(info)]  # (never queued: listed too)

    def close(self) -> None:
        self.client.disconnect()
        self.client.shut()


class _Link:
    """One device's MQTT connection (paho's network thread), with its last will."""

    def __init__(
        self,
        s: MqttSettings,
        device: str,
        late: Callable[[bytes], bool] = lambda payload: False,
        command: Callable[[_Link, paho.MQTTMessage], None] | None = None,
        up: Callable[[], None] = lambda: None,
        heartbeat: bool = False,
        leaving: bool = False,
    ) -> None:
        self.s, self.device, self.t = s, device, topics(s, device)
        self.up = up  # told (in paho's thread) after each CONNACK that took us, the re-say handed over
        # Whether a held event (its payload) is no longer worth sending, asked in paho's thread as
        # the link reconnects; True: the channel has logged it and forgotten it in the outbox.
        self.late = late
        # What takes a message on the command topic (paho's thread); None: not subscribed, no buttons.
        self.command = command
        self.odd_commands = 0  # payloads on the command topic that were none of ours (the first is a WARNING)
        # Set as a reload retires the channel (``clear``), or from the start for a link opened only
        # to delete: a (re)connect says ``online`` and the discovery configs no more, or it would
        # bring back what is being deleted.
        self.leaving = leaving
        self.connected = threading.Event()
        self.answered = threading.Event()  # any CONNACK, good or bad
        self.refused: str | None = None
        self._lock = threading.Lock()
        self._retained: dict[str, bytes] = {}
        # The id of the newest cluster notification the retained alert shows (ids come from one engine,
        # in the order it made them): an older one (a restored alarm mirrored late) never replaces it.
        self.alert_notice: int | None = None
        # Notification key -> its event as handed to paho, so that a retry waits for it (event loop only).
        self._events: OrderedDict[str, paho.MQTTMessageInfo] = OrderedDict()
        self.client = _client(s, slug(device))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.wake = _Wake()  # the event loop's waits on this link (CONNACK, PUBACKs, DISCONNECT)
        self.client.on_publish = self.wake
        if not leaving:  # one that only deletes never says 'online': its will could only bring back a topic it deleted
            self.client.will_set(self.t["availability"], "offline", qos=1, retain=True)
        self.disconnected = threading.Event()  # our DISCONNECT went out (``stop``)
        self.heartbeat = heartbeat  # whether its "Heartbeat failing" sensor is discovered (else removed)
        if s.discovery and not leaving:
            for topic, cfg in discovery_configs(s, device, commands=command is not None, heartbeat=heartbeat).items():
                self._retained[topic] = json.dumps(cfg).encode()
            # an earlier run's sensor or buttons, the heartbeat or commands taken out of the config since: removed
            gone = (() if heartbeat else HEARTBEAT_SENSOR) + (() if command is not None else BUTTONS)
            for component, key in gone:
                self._retained[config_topic(s, device, component, key)] = b""

    def set_heartbeat(self, on: bool) -> None:
        """The heartbeat switched on or off while the link runs (a config reload): its sensor's
        discovery config said now (an empty payload removes it), not at the next connect."""
        if on == self.heartbeat:
            return
        self.heartbeat = on
        if not self.s.discovery:
            return
        configs = discovery_configs(self.s, self.device, commands=self.command is not None, heartbeat=True)
        for component, key in HEARTBEAT_SENSOR:
            topic = config_topic(self.s, self.device, component, key)
            self.say(topic, json.dumps(configs[topic]).encode() if on else b"")

    def start(self) -> None:
        self.client.connect_async(self.s.host, self.s.port, self.s.keepalive_s)
        self.client.loop_start()

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            self.refused = str(rc)
            self.answered.set()
            self.wake()
            return
        # The events held while the broker was unreachable go out late: only those still true
        # (an alarm acknowledged meanwhile would run Home Assistant's automations on it: lights,
        # a phone call). A retry of a dropped one is refused (MqttChannel._hand_event).
        self._drop_held(client, lambda m: not m.retain and m.topic == self.t["event"] and self.late(m.payload))
        # Re-say everything retained: the broker may have restarted without persistence.
        online = {} if self.leaving else {self.t["availability"]: b"online"}
        with self._lock:
            latest = {**self._retained, **online}
            # A retained message held from before that ``latest`` replaces: sent after the re-say, a
            # cluster's CLOSED left unacknowledged by a dying connection would overwrite the ALARM of
            # the next cluster, remembered while the broker was unreachable, and Home Assistant show
            # no alarm. Whoever waited for it times out, and a retry publishes anew.
            self._drop_held(client, lambda m: bool(m.retain) and latest.get(m.topic, m.payload) != m.payload)
            for topic, payload in self._retained.items():
                client.publish(topic, payload, qos=1, retain=True)
        for topic, payload in online.items():
            client.publish(topic, payload, qos=1, retain=True)
        if self.command is not None:
            # Here, not once at start: the session is clean, so the broker forgets the
            # subscription with each connection, and a reconnect must subscribe again.
            client.subscribe(self.t["command"], qos=1)
        self.connected.set()
        self.answered.set()
        self.wake()
        self.up()

    def _on_message(self, _c: paho.Client, _u: Any, m: paho.MQTTMessage) -> None:
        if self.command is not None and m.topic == self.t["command"]:
            self.command(self, m)

    @staticmethod
    def _drop_held(client: paho.Client, unwanted: Callable[[Any], bool]) -> None:
        """Drop the messages paho holds that ``unwanted`` refuses (in on_connect: paho sends them once it returns).

        They are all in state "publish" here (paho reset them for the reconnect and counts none in
        flight), those handed over while the link was down among them; one published on this
        connection is sent already and left alone. ``unwanted`` is asked outside paho's lock (it
        may read the store): this is paho's thread, which sends them, so none goes meanwhile.
        """
        held = _held_messages(client)
        if held is None:
            return
        out, lock = held
        with lock:
            waiting = [(mid, m) for mid, m in out.items() if m.state == paho.mqtt_ms_publish]
        drop = [(mid, m) for mid, m in waiting if unwanted(m)]
        with lock:
            for mid, m in drop:
                if out.get(mid) is m:
                    del out[mid]

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        self.connected.clear()
        self.disconnected.set()
        self.wake()

    async def wait_connected(self) -> None:
        s = self.s
        if not await _until(self.answered.is_set, [self.wake], s.timeout_s):
            tls = (" (TLS: is it the broker's TLS port, and did ca_file's CA sign its certificate, for this host name?)"
                   if s.tls else "")  # a failed handshake is retried by paho as silently as a broker that is down
            raise ChannelError(s.name, f"no answer from MQTT broker {s.host}:{s.port} within {s.timeout_s:g} s{tls}")
        if self.refused is not None:
            raise _refused(s, self.refused)
        if not await _until(self.connected.is_set, [self.wake], s.timeout_s):
            raise ChannelError(s.name, f"MQTT broker {s.host}:{s.port} not reachable (reconnecting)")

    def remember(self, topic: str, payload: bytes) -> None:
        """The latest retained payload of ``topic``: (re)published on every connect."""
        with self._lock:
            self._retained[topic] = payload

    def remembers(self, topic: str) -> bool:
        """Whether this run gave ``topic`` a payload (sent, or to be sent as the link connects)."""
        with self._lock:
            return topic in self._retained

    def say(self, topic: str, payload: bytes) -> None:
        """Remember ``payload`` as ``topic``'s retained one and hand it to paho now, not waited for:
        remembering alone reaches the broker only at the next connect, and this link may be up
        already (it connects in paho's thread as soon as it is opened)."""
        self.remember(topic, payload)
        self._send(topic, payload, retain=True)

    async def publish(self, topic: str, payload: bytes, retain: bool) -> None:
        if retain:
            self.remember(topic, payload)
        await self.confirmed(topic, self._send(topic, payload, retain))

    async def publish_latest(self, topic: str) -> None:
        """Publish (retained) the latest payload remembered for ``topic``, and wait for the broker.

        Not one worked out before an await: a notification waiting for the broker and a status
        or mirror published meanwhile (outside the dispatcher's lock) would each send its own
        last, the older one over the newer. Sending the latest, whoever sends last sends it.
        """
        with self._lock:
            payload = self._retained[topic]
        await self.confirmed(topic, self._send(topic, payload, retain=True))

    def publish_once(
        self, key: str, topic: str, payload: bytes, keep: Callable[[], object] | None = None
    ) -> paho.MQTTMessageInfo:
        """Hand ``payload`` (non-retained) to paho once for notification ``key``; ``confirmed`` waits for it.

        paho keeps a QoS 1 message until the broker acknowledges it and sends it again after
        each reconnect, whatever ``clean_session`` says (that only makes the broker forget what
        it keeps for us: subscriptions, messages to us; we have none). So a retry of a
        notification whose event paho holds, or that the broker acknowledged, must not publish
        it again: that was a second event, and a second run of every Home Assistant automation
        on it (lights, a phone call). Called before the link is up too: paho sends it after the
        CONNACK, so an event is not lost to a broker down longer than the dispatcher retries.
        ``keep`` runs just before paho gets it (the channel keeps it on disk: a stop or a crash
        right after the hand-over must not lose it).
        """
        info = self._events.get(key)
        if info is not None and self._held_or_published(info):
            return info
        # Never handed over, forgotten (more than _KEEP_EVENTS ago) or dropped by paho unacknowledged
        # (drop_out_messages, reinitialise; not in paho 2.x on its own): publish it (again). Whether
        # the broker got the dropped one cannot be known: at worst a duplicate, which a consumer can
        # drop by ``key``, rather than maybe a lost alarm.
        if keep is not None:
            keep()
        info = self._events[key] = self._send(topic, payload, retain=False)
        while len(self._events) > _KEEP_EVENTS:
            self._events.popitem(last=False)
        return info

    def _send(self, topic: str, payload: bytes, retain: bool) -> paho.MQTTMessageInfo:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
            # No socket (yet, or any more): at QoS 1 paho keeps the message and sends it after the
            # next CONNACK. ``confirmed`` would fail at once and a retry publish it a second time.
            info.rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        return info

    def _held_or_published(self, info: paho.MQTTMessageInfo) -> bool:
        """paho still has the message, to send until the broker acknowledges it, or it was acknowledged."""
        held = _held_messages(self.client)
        if held is None:
            return _published(info)  # publish again rather than maybe lose it
        out, lock = held
        with lock:  # paho takes a message out and marks it published under it: never neither
            m = out.get(info.mid)
            return (m is not None and m.info is info) or _published(info)  # `is`: not another under a recycled mid

    async def confirmed(self, topic: str, info: paho.MQTTMessageInfo) -> None:
        """Wait up to ``timeout_s`` for the broker's PUBACK of ``info``; ChannelError without it."""
        try:
            acked = await _until(lambda: _acked(self.client, info), [self.wake], self.s.timeout_s)
        except (RuntimeError, ValueError) as e:
            raise ChannelError(self.s.name, f"publish to {topic} failed: {e}") from e
        if not acked:
            raise ChannelError(self.s.name, f"publish to {topic} not confirmed within {self.s.timeout_s:g} s")

    async def clear(self, gone: Collection[str]) -> None:
        """Delete the retained messages of ``gone`` (an empty retained payload each: how MQTT deletes
        one) and wait up to ``timeout_s`` for the broker; ChannelError naming those it did not take.

        Everything else this link remembered is forgotten first: a reconnect meanwhile re-says the
        empty payloads only, not a discovery config a successor publishes on the same topic now."""
        self.leaving = True
        with self._lock:
            self._retained = {topic: b"" for topic in gone}
        sent = [(topic, self._send(topic, b"", retain=True)) for topic in sorted(gone)]
        await self.wait_connected()
        await _wait_all([(self, info) for _, info in sent], self.s.timeout_s)
        left = [topic for topic, info in sent if not _published(info)]
        if left:
            raise ChannelError(self.s.name, f"MQTT broker {self.s.host}:{self.s.port} did not take the deletion of "
                                            f"{len(left)} retained topic(s) within {self.s.timeout_s:g} s: {', '.join(left)}")  # fmt: skip

    async def stop(self, offline: bool = True) -> None:
        """Say goodbye cleanly: ``offline`` retained (unless not ``offline``: the retained topics were
        deleted), then DISCONNECT (so the will is not sent: it would say ``offline`` retained)."""
        if offline and self.connected.is_set():
            try:
                await self.publish(self.t["availability"], b"offline", retain=True)
            except ChannelError:
                pass  # the broker is gone; its last will covers it
        was = self.connected.is_set()
        self.disconnected.clear()
        self.client.disconnect()
        if was:  # stopping paho's thread before it wrote the DISCONNECT left the broker to send the
            # will ('offline' retained): on a loaded host, over a topic a reload had just deleted
            await _until(self.disconnected.is_set, [self.wake], self.s.timeout_s)
        await _off_loop(self.client.shut)


class MqttChannel(SettingsChannel[MqttSettings], KeepsOutgoing):
    network = True

    def __init__(
        self,
        settings: MqttSettings | None = None,
        outbox: Outbox | None = None,
        why_not_resend: WhyNotResend | None = None,
        on_command: Callable[[MqttCommand], None] | None = None,
    ) -> None:
        super().__init__(settings or MqttSettings())
        self.outbox = outbox
        # Why an event held late must not go out now, or None to send it: the daemon's rule for
        # pushes (``outbox.why_not_resend``; the daemon sets it). None: every event goes, however late.
        self.why_not_resend: WhyNotResend | None = why_not_resend
        # What acts on a command (the daemon sets it), called on the event loop that opened the
        # link. None (no daemon): the links subscribe to nothing and offer no buttons, which would
        # do nothing; nor with ``commands`` off.
        self.on_command = on_command
        # Told on the event loop that opened the links when paho (re)connected them all (the
        # daemon sets it: a broker back ends the channel's failure at once, not at the next
        # notification or status change). None: nobody is told.
        self.on_connected: Callable[[], None] | None = None
        # Whether the daemon has a heartbeat configured (it sets it): its "Heartbeat failing"
        # sensor is discovered; without one it is removed (an earlier run's would stay OFF for good).
        self.heartbeat_sensor = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the links were opened from
        self._links: dict[str, _Link] = {}
        self._status: dict[str, BandStatus] = {}
        # Device -> whether its band's reported values are now's, as the daemon's latest
        # ``publish_status`` said (``last_known_at`` None). Not from a notification, nor defaulted:
        # until the daemon says, a restart's retained values are an earlier run's (``band_availability``).
        self._band_now: dict[str, bool] = {}
        # Key -> (its link, the event as handed to paho), for those kept in the outbox and not yet acknowledged.
        self._unacked: dict[str, tuple[_Link, paho.MQTTMessageInfo]] = {}
        # Key -> why, of the events dropped as no longer true (written in paho's threads as links
        # reconnect: single dict operations, under the lock): a retry must not hand them over again.
        self._late_dropped: OrderedDict[str, str] = OrderedDict()
        # Key -> time.monotonic() as this run handed its event to paho (``_hand_event``; read in
        # paho's threads, under the lock): within timeout_s of it the event is in flight, not late.
        self._handed: OrderedDict[str, float] = OrderedDict()
        self._late_lock = threading.Lock()

    def set_heartbeat_sensor(self, on: bool) -> None:
        """The daemon's heartbeat configured (``on``) or not, as a reload changed it: each open
        link offers or removes Home Assistant's "Heartbeat failing" sensor at once; links opened
        later do so as they connect."""
        self.heartbeat_sensor = on
        for link in self._links.values():
            link.set_heartbeat(on)

    def resend_kept(self) -> int:
        """Hand to paho, oldest first, the events an earlier run kept unacknowledged (the daemon
        calls it at start, before anything new): same payload and ``key``, so a consumer that
        got one after all (acknowledged as the run stopped) can tell; those ``why_not_resend``
        refuses are dropped, logged (``_late``: a Home Assistant automation on an alarm
        acknowledged since must not run). Returns how many.

        And the earlier run's latest ``alert`` state, as the one to re-say on connect, when it
        cannot turn an alarm on: a CLOSED the broker never had (unreachable as the alarm was
        acknowledged and the daemon stopped) left Home Assistant's alarm on for good, as nothing
        after the restart published an alert. An alarm is not taken from there: the restore
        knows whether it is still open (and mirrors it, replacing this); one closed since must
        not come back. ``status`` is the new run's (the band's, from the daemon).
        """
        for state in self._outbox_call("read the states kept", lambda o: o.kept_retained(self.name)) or []:
            if state.topic == "alert":
                self._resay_alert(state)
        sent = 0
        for n in self.kept_notifications():
            if self._late(n):
                continue
            link = self._open(n.device)
            self._unacked[n.key] = (link, link.publish_once(n.key, link.t["event"], json.dumps(n.to_json()).encode()))
            sent += 1
        if sent:
            log.info("%s: %d event(s) an earlier run kept unacknowledged handed to the broker again", self.name, sent)
        return sent

    async def announce(self, device: str) -> None:
        """Connect for ``device`` and publish discovery and ``online`` (the daemon calls it at start)."""
        await self._link(device)

    async def send(self, n: Notification) -> None:
        await self._publish(n, announce=True)

    async def mirror(self, n: Notification) -> None:
        """The retained alert and status ``n`` leads to, without announcing it on ``event``:
        an alarm a restarted daemon carries on (a fresh broker had no alarm at all)."""
        await self._publish(n, announce=False)

    async def _publish(self, n: Notification, announce: bool) -> None:
        # The state is remembered, and the event handed to paho, before the broker is waited for:
        # a broker down (restarting) past the retries still gets them when the link reconnects.
        # On a reconnect the retained state goes out first (on_connect), then paho's held events.
        # Whatever was published meanwhile, the retained payloads sent last are the latest (publish_latest).
        link = self._open(n.device)
        cluster = n.kind in CLUSTER_KINDS
        if cluster and (link.alert_notice is None or n.id >= link.alert_notice):  # equal: a retry
            link.alert_notice = n.id
            alert = json.dumps(alert_state(n))
            link.remember(link.t["alert"], alert.encode())
            self._outbox_call("keep the alert state", lambda o: o.keep_retained(self.name, n.device, "alert", alert))
            self._note_cluster(n)
        elif not cluster:
            self._note_band(n)
        link.remember(link.t["status"], self._status_payload(link.device, n.created_t))
        event = self._hand_event(link, n) if announce else None
        await self._connected(link)
        if event is not None:
            await link.confirmed(link.t["event"], event)
            self.forget_acknowledged()
        if cluster:
            await link.publish_latest(link.t["alert"])
        await link.publish_latest(link.t["status"])

    async def publish_status(self, device: str, status: BandStatus, t: float) -> None:
        """The daemon's view of the band (battery, worn, asleep, faults), published retained.

        ``faults`` are the alert engine's, as they are now: also a fault raised or
        cleared without a notification (held by quiet hours, a mute or the rate
        limit). The last cluster comes from the notifications this channel sends;
        none in ``status`` keeps what the channel has.
        """
        await self._send_status(self._say_status(device, status, t))

    def band_away(self, device: str, last_known_at: float | None, t: float) -> Coroutine[Any, Any, None] | None:
        """A band a reload renamed, its device's topics kept: the new entry knows its device only once
        it reconnects, and until then nothing else says it is away (a band out of range by then kept
        its values ``online``, and Band connected ON, for good). Said not connected, its values last
        known at ``last_known_at`` (its own if it was away already), at once: a status published
        after it (its reconnect's) is the one sent last. Returns the sending; None: nothing said for
        it this run."""
        st = self._status.get(device)
        if st is None:
            return None
        away = replace(st, connected=False, last_known_at=st.last_known_at or last_known_at)
        return self._send_status(self._say_status(device, away, t))

    async def say_unheard_away(self, t: float) -> list[str]:
        """Each band an earlier run left on the broker as connected (its retained ``status`` says
        ``connected: true``) that this run has said nothing of: said not connected, its values last
        known when that status was published, ``band_availability`` offline (the daemon calls it at
        start). Such a band is not heard under that id this run: the store could not be read to
        know it, its entry was renamed, or it was taken out of the config while the daemon was
        stopped; left, Home Assistant's "Band connected" read ON (an automation believed the band
        on the baby) as soon as anything said the device ``online``, until the band connected.

        Over a connection of its own, which says no band ``online``: an earlier run's ``offline``
        stays (Home Assistant shows the band's entities unavailable). Not a band another daemon on
        the broker streams now (its ``availability`` ``online`` while this channel has no link for
        it). Returns the slugs (topic levels) said. ChannelError: the broker not reached."""
        base = f"{self.settings.prefix}/"
        scan = _Scan(self.settings, [f"{base}+/status", f"{base}+/availability"])
        try:
            found = await scan.read()
            away: dict[str, bytes] = {}
            for level, old in _connected_left(found, base).items():
                said = self._link_of(level)
                if said is None and found.get(f"{base}{level}/availability") == b"online":
                    continue  # another daemon's, live: not ours to correct
                if said is not None and said.remembers(said.t["status"]):
                    continue  # this run's own word on it is there already
                said_then = {"connected": False, "last_known_at": _known_at(old), "link_unstable": None, "updated_t": t}
                away[f"{base}{level}/status"] = json.dumps({**old, **said_then}).encode()
                away[f"{base}{level}/band_availability"] = b"offline"
            left = await scan.publish(away)
        finally:
            await _off_loop(scan.close)
        levels = sorted({topic[len(base):].split("/")[0] for topic in away})
        # A status this run said meanwhile (its band connecting as this went) went on its own link,
        # maybe ahead of ours: said again, the latest last; also when the broker did not take some
        # correction (another's may have landed over it all the same).
        for level in levels:
            link = self._link_of(level)
            if link is not None and link.remembers(link.t["status"]):
                try:
                    await self._send_status(link)
                except ChannelError:
                    pass  # its link is down: it re-says its status as it reconnects (_Link._on_connect)
        if left:
            raise ChannelError(self.name, f"MQTT broker {self.broker} did not take {', '.join(left)} within {self.settings.timeout_s:g} s")
        if levels:
            log.info("%s: %s said not connected on %s: left connected by an earlier run, not heard this run",
                     self.name, ", ".join(levels), self.broker)  # fmt: skip
        return levels

    def _link_of(self, level: str) -> _Link | None:
        """This run's link for the band whose topics are on ``level`` (its slug)."""
        return next((link for device, link in self._links.items() if slug(device) == level), None)

    def _say_status(self, device: str, status: BandStatus, t: float) -> _Link:
        """``publish_status``'s taking in of ``status`` (what its link sends when it (re)connects)."""
        old = self._status.get(device, BandStatus())
        self._status[device] = replace(status, last_cluster=status.last_cluster or old.last_cluster)
        # Now's only while it streams: a band not connected and never heard (a reload renamed it
        # before its first STATUS) has no values that are now's either.
        self._band_now[device] = status.connected is True and status.last_known_at is None
        link = self._open(device)
        link.remember(link.t["status"], self._status_payload(device, t))
        link.remember(link.t["band_availability"], self._band_availability(device))
        return link

    async def _send_status(self, link: _Link) -> None:
        await self._connected(link)
        # The values first, then whether they are now's: a band back is available with its new ones.
        await link.publish_latest(link.t["status"])
        await link.publish_latest(link.t["band_availability"])

    def _band_availability(self, device: str) -> bytes:
        """``band_availability``'s payload: ``online`` only once the daemon said the values are now's."""
        return b"online" if self._band_now.get(device, False) else b"offline"

    async def close(self) -> None:
        """Wait up to ``timeout_s`` for the events not yet acknowledged while their link is up, then
        say goodbye; those still unacknowledged stay in the outbox for the next start.

        A link that is down (the broker unreachable), or goes down meanwhile, brings no PUBACK
        before it reconnects: its events are not waited for (a stop took ``timeout_s`` longer for
        nothing); they are kept already."""
        links = await self._settle()
        for link in links:
            await link.stop()
        self._closed()

    async def retire(self, successors: Sequence[MqttSettings] = ()) -> None:
        """Closed for good by a config reload that replaced or removed it (``successors``: the MQTT
        channels configured after the reload). Its events are waited for and kept as by ``close``;
        then, instead of ``offline``, each band's retained topics are deleted (``retained_topics``:
        state, availability, Home Assistant's entities), but those a successor on the same broker
        retains (the discovery configs of a new prefix are on the same topics, and say it now).
        Left, with a WARNING naming them, when the broker does not take it within ``timeout_s``
        (the bands' links at once: a broker gone costs that once, not once per band)."""
        links = await self._settle()
        same = [s for s in successors if await _off_loop(same_broker, self.settings, s)]
        await asyncio.gather(*(self._clear(link, same) for link in links))
        self._closed()

    async def _clear(self, link: _Link, same: list[MqttSettings]) -> None:
        """``link``'s retained topics deleted but those of ``same`` (successors on this broker), then DISCONNECT."""
        kept = set().union(*(retained_topics(s, link.device) for s in same))
        gone = retained_topics(self.settings, link.device) - kept
        if not gone:  # a successor on the same topics (say a new timeout_s): nothing to delete, nor 'offline' to say
            await link.stop(offline=False)
            return
        try:
            await link.clear(gone)
            log.info("%s: %d retained topic(s) of %s deleted from %s: a reload took it out", self.name,
                     len(gone), link.device, self.broker)  # fmt: skip
        except ChannelError as e:
            log.warning("%s: the retained topics of %s stay on the broker (%s); delete each with "
                        "'mosquitto_pub -h %s -p %d -r -n -t TOPIC'", self.name, link.device, e,
                        self.settings.host, self.settings.port)  # fmt: skip
        await link.stop(offline=False)

    async def forget_device(self, device: str) -> None:
        """A band a reload took out of the config for good: its retained topics deleted (Home
        Assistant's device for it goes), its link closed without ``offline``, and the alert state
        kept for it forgotten (the next start re-said it, bringing the device back). Other bands'
        links, and this channel, go on."""
        self._status.pop(device, None)
        self._band_now.pop(device, None)
        self._outbox_call("forget the band's alert state", lambda o: o.forget_retained(self.name, device))
        link = self._links.pop(device, None)
        if link is None:
            # None this run (the band not seen since the start, or the channel new with the reload):
            # one that connects only to delete what an earlier run or channel left retained.
            link = _Link(self.settings, device, leaving=True)
            link.start()
        await self._clear(link, [])

    async def _settle(self) -> list[_Link]:
        """The links taken out of use, once the events not yet acknowledged are (while their link
        is up, within ``timeout_s``): the start of ``close`` and ``retire``."""
        links, self._links = list(self._links.values()), {}
        self.forget_acknowledged()
        waiting = [(link, info) for link, info in self._unacked.values() if not _published(info)]
        if waiting:
            await _wait_all(waiting, self.settings.timeout_s)
        return links

    def _closed(self) -> None:
        self.forget_acknowledged()  # paho's threads are stopped: nothing is acknowledged after this
        if self._unacked:
            log.warning("%s: %d event(s) not acknowledged by the broker, kept for the next start", self.name, len(self._unacked))

    def _resay_alert(self, r: RetainedRow) -> None:
        try:
            state = json.loads(r.payload)
            alarm, last = state["alarm"], {k: state[k] for k in ("started", "count", "state", "cluster_key")}
        except (ValueError, TypeError, KeyError) as e:
            log.warning("%s: the alert state kept for %s is unreadable (%s): not re-said", self.name, r.device, e)
            return
        if alarm:
            return
        link = self._open(r.device)
        link.say(link.t["alert"], r.payload.encode())
        st = self._status.get(r.device, BandStatus())
        self._status[r.device] = replace(st, last_cluster=st.last_cluster or last)

    def _late(self, n: Notification, in_flight: bool = False) -> bool:
        """Whether ``why_not_resend`` refuses ``n``'s event now (kept by an earlier run, or held by
        paho while the broker was unreachable); if so it is dropped: logged, forgotten in the
        outbox, and refused to a retry (``_hand_event``). Runs in paho's thread too (``_held_late``)."""
        why = None if self.why_not_resend is None else self.why_not_resend(n, in_flight=in_flight)
        if why is None:
            return False
        with self._late_lock:
            self._late_dropped[n.key] = why
            while len(self._late_dropped) > _KEEP_EVENTS:
                self._late_dropped.popitem(last=False)
        self.drop_kept(n.key, why)
        return True

    def _held_late(self, payload: bytes) -> bool:
        """``_late`` for an event paho held (its payload, ``n.to_json()``), asked as its link (re)connects:
        one this run handed over within ``timeout_s`` is in flight (the send still waits for it),
        not late: a test alarm made as the first connection was set up goes on it."""
        try:
            n = from_json(json.loads(payload))
            return self._late(n, in_flight=self._in_flight(n.key))
        except Exception:  # in paho's thread: a bug here must neither stop the link nor lose the event
            log.exception("%s: could not tell whether a held event is still worth sending; sent", self.name)
            return False

    def _hand_event(self, link: _Link, n: Notification) -> paho.MQTTMessageInfo:
        """The notification's event to paho once (``publish_once``), kept in the outbox first;
        ChannelError (not retried) when it was dropped as no longer true (``_late``)."""
        self.forget_acknowledged()
        why = self._late_dropped.get(n.key)
        if why is not None:
            raise ChannelError(self.name, f"event {n.key} not sent: {why}", retryable=False)
        kept = False

        def keep() -> None:  # just before paho gets it
            nonlocal kept
            self._handed_now(n.key)
            dropped = self.keep(n)
            kept = dropped is not None and n.key not in dropped
            for key in dropped or ():
                self._unacked.pop(key, None)

        info = link.publish_once(n.key, link.t["event"], json.dumps(n.to_json()).encode(), keep)
        if kept:
            self._unacked[n.key] = (link, info)
        return info

    def _handed_now(self, key: str) -> None:
        with self._late_lock:
            self._handed[key] = time.monotonic()
            self._handed.move_to_end(key)
            while len(self._handed) > _KEEP_EVENTS:
                self._handed.popitem(last=False)

    def _in_flight(self, key: str) -> bool:
        """Whether this run handed ``key``'s event to paho within ``timeout_s``: the send (or the
        test alarm's one attempt) still waits for it. Not an event an earlier run kept (``resend_kept``)."""
        with self._late_lock:
            t = self._handed.get(key)
        return t is not None and time.monotonic() - t <= self.settings.timeout_s

    def forget_acknowledged(self) -> None:
        """Forget in the outbox the events the broker acknowledged (and those dropped as late: forgotten
        already). Also called each minute by the daemon: events the broker acknowledged as paho
        reconnected were otherwise forgotten only at the next notification, and a crash before it
        (hours later) sent them again at the next start."""
        done = [key for key, (_, info) in self._unacked.items() if _published(info) or key in self._late_dropped]
        if self._forget(done):
            for key in done:
                del self._unacked[key]

    async def _link(self, device: str) -> _Link:
        link = self._open(device)
        await self._connected(link)
        return link

    def _open(self, device: str) -> _Link:
        """The device's connection, started (paho connects and reconnects in its own thread)."""
        link = self._links.get(device)
        if link is None:
            takes = self.settings.commands and self.on_command is not None
            try:
                self._loop = asyncio.get_running_loop()  # commands and (re)connects are handed over to it
            except RuntimeError:
                if takes:
                    log.warning("%s: opened outside an event loop: %s takes no commands", self.name, device)
                takes = False
            link = self._links[device] = _Link(
                self.settings, device, self._held_late, self._command if takes else None, self._link_up, self.heartbeat_sensor
            )
            # Said at its first connect: an earlier run's retained ``online`` (it was killed while the
            # band streamed) must not pass its values off as now's before the daemon says otherwise.
            link.remember(link.t["band_availability"], self._band_availability(device))
            link.start()
        return link

    @property
    def broker(self) -> str:
        """``host:port`` of the broker, as the channel's errors and logs name it."""
        return f"{self.settings.host}:{self.settings.port}"

    def _link_up(self) -> None:
        """A link (re)connected, in paho's thread: the event loop is told (``on_connected``
        belongs to it, as the dispatcher's failing record does)."""
        loop = self._loop
        if loop is None or self.on_connected is None:
            return
        try:
            loop.call_soon_threadsafe(self._tell_connected)
        except RuntimeError:  # the loop is closed: the daemon has stopped
            pass

    def _tell_connected(self) -> None:
        """``on_connected``, once every link is up (one band's link back while another's is still
        down does not mean the broker is reached for all)."""
        act = self.on_connected
        if act is None or not self._links or not all(link.connected.is_set() for link in self._links.values()):
            return
        try:
            act()
        except Exception:  # a bug there must not be lost silently, nor stop the loop's callbacks
            log.exception("%s: telling of the connection to %s failed", self.name, self.broker)

    def _command(self, link: _Link, m: paho.MQTTMessage) -> None:
        """A message on ``link``'s command topic, in paho's thread: handed to the event loop
        (``on_command`` touches the engine, which is the loop's alone)."""
        if m.retain:
            # Retained: the broker's copy of an old command, sent again at every (re)subscribe. An
            # "ack" kept there would acknowledge the next alarm the moment the link reconnects
            # (a broker restart, a Wi-Fi drop), before anyone saw it. A press is live; this is
            # not one. Cleared (an empty retained payload deletes it) so it stops coming back.
            if m.payload:
                log.warning("%s: a retained command on %s ignored and cleared (%r): publish commands without retain",
                            self.name, m.topic, m.payload[:60])  # fmt: skip
                link.client.publish(m.topic, b"", qos=1, retain=True)
            return
        parsed = parse_command(bytes(m.payload))
        if parsed is None:
            if m.payload:  # (empty: our own clearing of a retained one, echoed back)
                link.odd_commands += 1
                level = logging.WARNING if link.odd_commands == 1 else logging.DEBUG
                log.log(level, "%s: %r on %s is no command (ack or test): ignored%s", self.name, m.payload[:60], m.topic,
                        "; further ones are logged at DEBUG" if level == logging.WARNING else "")  # fmt: skip
            return
        cmd = MqttCommand(link.device, parsed[0], parsed[1], m.topic)
        loop, act = self._loop, self.on_command
        if loop is None or act is None:
            return
        try:
            loop.call_soon_threadsafe(self._act, act, cmd)
        except RuntimeError:  # the loop is closed: the daemon has stopped
            log.warning("%s: %s on %s not acted on: the daemon is stopping", self.name, cmd.command, m.topic)

    def _act(self, act: Callable[[MqttCommand], None], cmd: MqttCommand) -> None:
        try:
            act(cmd)
        except Exception:  # a bad command must not be lost silently, nor stop the loop's callbacks
            log.exception("%s: %s from %s failed", self.name, cmd.command, cmd.topic)

    async def _connected(self, link: _Link) -> None:
        try:
            await link.wait_connected()
        except ChannelError as e:
            if not e.retryable and self._links.get(link.device) is link:  # refused (credentials): start afresh next time
                del self._links[link.device]
                await _off_loop(link.client.shut)
            raise

    def _note_cluster(self, n: Notification) -> None:
        st = self._status.get(n.device, BandStatus())
        last = {"started": _iso(n.started_t), "count": n.count, "state": n.state, "cluster_key": n.cluster_key}
        self._status[n.device] = replace(st, last_cluster=last)

    def _note_band(self, n: Notification) -> None:
        if n.fault is None:
            return
        st = self._status.get(n.device, BandStatus())
        faults = set(st.faults)
        active = n.kind is NoticeKind.BAND_FAULT
        (faults.add if active else faults.discard)(n.fault.value)
        st = replace(st, faults=tuple(sorted(faults)))
        if n.fault is BandFault.DISCONNECTED:
            st = replace(st, connected=not active)
        elif n.fault is BandFault.NOT_WORN:
            st = replace(st, worn=not active)
        self._status[n.device] = st

    def _status_payload(self, device: str, t: float) -> bytes:
        return json.dumps(self._status.get(device, BandStatus()).to_json(device, t)).encode()


def _connected_left(retained: dict[str, bytes], base: str) -> dict[str, dict[str, Any]]:
    """Topic level (a band's slug) -> its retained ``status`` under ``base`` (the prefix and a
    slash), of those saying ``connected: true``."""
    out = {}
    for topic, payload in retained.items():
        level, _, leaf = topic.removeprefix(base).partition("/")
        if not topic.startswith(base) or leaf != "status":
            continue
        try:
            status = json.loads(payload)
        except (ValueError, RecursionError):  # (JSON nested too deep for the decoder)
            continue  # not a status of ours
        if isinstance(status, dict) and status.get("connected") is True:
            out[level] = status
    return out


def _known_at(status: dict[str, Any]) -> str | None:
    """When an earlier run's retained ``status`` had its values from the band: its ``last_known_at``,
    else (they were now's then) when it was published; None when that is no time (NaN, 1e300:
    JSON takes them, and another writer's status is on the broker too)."""
    t = status.get("updated_t")
    known = status.get("last_known_at")
    if known or not isinstance(t, (int, float)):
        return known or None
    try:
        return _iso(t)
    except (OverflowError, ValueError, OSError):
        return None


async def _wait_all(waiting: list[tuple[_Link, paho.MQTTMessageInfo]], timeout_s: float) -> None:
    """Wait for the broker to acknowledge each event while its link is up, all within ``timeout_s``:
    one whose link is down, or goes down meanwhile, is not waited for (no PUBACK comes over it
    before it reconnects); nor one never queued (it stays kept)."""

    def settled() -> bool:
        return not any(link.connected.is_set() and _pending(link.client, info) for link, info in waiting)

    await _until(settled, {link.wake for link, _ in waiting}, timeout_s)


def _held_messages(client: paho.Client) -> tuple[dict[int, Any], Any] | None:
    """paho 2.x's outgoing QoS>0 messages by mid and the lock guarding them (internals: paho is
    pinned below 3 and tests/alerts/test_mqtt.py fails if they move), or None without them."""
    out = getattr(client, "_out_messages", None)
    lock = getattr(client, "_out_message_mutex", None)
    return None if out is None or lock is None else (out, lock)


def _published(info: paho.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except (RuntimeError, ValueError):  # never queued (queue full): not published, nor held
        return False
