"""Home Assistant sees the daemon's heartbeat ([daemon.heartbeat]) fail: the band's retained MQTT
``status`` carries ``heartbeat {host, failing_since, error, paused}`` and the discovered
binary_sensor "Heartbeat failing" (device_class problem) turns ON, apart from "Notifications failing".

A real mosquitto, a real Daemon in-process (a band that never connects, known to the store so its
status is mirrored) with its real ticker and its clock moved by hand, the heartbeat's service a
port on 127.0.0.1 with nothing listening (refused) and then a real HTTP server there (taken), and a
plain paho client reading what the broker retains; held back: a streaming band's records on a
store whose SQLite file is capped full. The templates are rendered with jinja2's
sandbox, as Home Assistant renders them. Until 2026-12-05 the page, the CLI and /api/status said
the heartbeat failed, and Home Assistant showed everything fine.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment
from servers import Watcher, http_recorder, run_then_close
from synthetic import HandClock, event_feed, fill_store, streaming

from spasmwatch.alerts.channels import MqttChannel, MqttSettings
from spasmwatch.alerts.channels.mqtt import BandStatus, discovery_configs
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.api import Json
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.heartbeat import HeartbeatSettings
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.simband import free_port

from .conftest import Broker
from .cot_daemon import NOW, cot_daemon

STATUS = "sw/cot/status"
SENSOR = "homeassistant/binary_sensor/spasmwatch_cot_heartbeat_failing/config"
BAND = "hb0001"  # the streaming band of the held-back test
STATUS_OF_BAND = f"sw/{BAND}/status"
NOTIFICATIONS = "homeassistant/binary_sensor/spasmwatch_cot_channels_failing/config"
SECRET = "/ping/5f1c0a8e-2b7d-4c1e-9a3f-0d6e8b2c4a71"  # what a healthchecks.io URL keeps secret
EVERY_S = 60.0
WAIT_S = 10.0  # real seconds a condition may take under load
# A delay that never comes within a test (s): the away band's reconnects, each a message to the
# daemon's subscribers, are not tried again after its first.
NEVER_S = 3600.0


@pytest.fixture(autouse=True)
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(K, "TICK_S", 0.01)  # the ticker's period in real time; the daemon's clock is the HandClock


def _render(template: str, payload: dict[str, Any]) -> str:
    return ImmutableSandboxedEnvironment().from_string(template).render(value_json=payload).strip()


def _daemon(store: Store, mqtt_port: int, clock: HandClock, url: str | None) -> Daemon:
    ch = MqttChannel(MqttSettings(port=mqtt_port, timeout_s=5, prefix="sw"))
    hb = HeartbeatSettings(url, EVERY_S, 2.0) if url is not None else None
    return cot_daemon(store, {"mqtt": ch}, clock=clock, heartbeat=hb, disconnect_alert_s=1e9)  # the band's absence raises nothing


async def _until(ok: Callable[[], object], what: str) -> None:
    end = time.monotonic() + WAIT_S
    while not ok():
        assert time.monotonic() < end, f"{what}: not within {WAIT_S:g} s"
        await asyncio.sleep(0.01)


async def _ping(d: Daemon, clock: HandClock) -> None:
    """The clock moved one period on: the ticker begins a ping, and its answer (or failure) is in."""
    hb = d.heartbeat
    assert hb is not None
    n = hb.pings
    clock.t += EVERY_S
    await _until(lambda: hb.pings > n and hb._task is not None and hb._task.done(), "the next ping")


def _statuses(w: Watcher) -> list[tuple[float, dict[str, Any]]]:
    """(arrival, payload) of every status heard so far."""
    with w.cond:
        return [(at, json.loads(p)) for (t, p), at in zip(w.seen, w.at) if t == STATUS]


def _first(w: Watcher, ok: Callable[[dict[str, Any]], object], what: str) -> tuple[float, dict[str, Any]]:
    return _first_on(w, STATUS, ok, what)


def _first_on(w: Watcher, topic: str, ok: Callable[[dict[str, Any]], object], what: str) -> tuple[float, dict[str, Any]]:
    """(arrival, payload) of the first status on ``topic`` that is ``ok``, waited for."""
    w.wait_until(lambda: any(ok(json.loads(p)) for t, p in w.seen if t == topic), what, WAIT_S)
    with w.cond:
        heard = [(at, json.loads(p)) for (t, p), at in zip(w.seen, w.at) if t == topic]
    return next((at, s) for at, s in heard if ok(s))


def _away() -> Callable[[], Any]:
    """A band that is away: the simulated radio with nothing listening on its port."""
    address = f"127.0.0.1:{free_port()}"
    return lambda: open_link("sim", address)


def _failing(s: dict[str, Any]) -> bool:
    return bool(s.get("heartbeat") and s["heartbeat"]["failing_since"])


def test_home_assistant_shows_the_heartbeat_failing_until_a_ping_is_taken(tmp_path: Path, broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    """The status that shows the heartbeat failing (and through again) is published at the change:
    the first message the daemon sends its subscribers (the MQTT mirror) from the change on is the
    change's own, and the status is heard after it. An order, not a latency (the old test asserted
    the change-to-status time was under 2 s). The band is tried once only, so no other message
    comes meanwhile: a status that waited for another wake of the mirror would not come."""
    monkeypatch.setattr(K, "BACKOFF_S", {kind: (NEVER_S, NEVER_S) for kind in K.BACKOFF_S})
    port = free_port()  # the service's: taken, then nothing listens (the network down), then taken again
    url = f"http://127.0.0.1:{port}{SECRET}"
    w = Watcher(broker.port)
    clock = HandClock(NOW)
    changed: list[float] = []  # time.monotonic() of each heartbeat state change, as the daemon is told
    # time.monotonic() of each message the daemon sends its subscribers (each wakes the MQTT mirror),
    # and whether a heartbeat change sent it.
    sent: list[tuple[float, bool]] = []

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            d = _daemon(store, broker.port, clock, url)
            hb = d.heartbeat
            assert hb is not None
            told, publish = hb.on_change, d._publish

            def change() -> None:  # the daemon's own handler, noted
                changed.append(time.monotonic())
                n = len(sent)
                told()
                sent[n:] = [(t, True) for t, _ in sent[n:]]  # the messages it sent

            def publish_noted(msg: Json) -> None:  # the daemon's own, noted
                sent.append((time.monotonic(), False))
                publish(msg)

            hb.on_change = change
            d._publish = publish_noted  # type: ignore[method-assign]
            try:
                async with http_recorder(port=port) as service:
                    await d.start()
                    await _until(lambda: hb.last_ok is not None, "the first ping taken")
                    _, ok = await asyncio.to_thread(_first, w, lambda s: s.get("heartbeat"), "a status with the heartbeat")
                    assert len(service.seen) == 1 and not _failing(ok), ok
                await _checks(d, w, clock, port, changed, sent)
            finally:
                await d.stop()

    run_then_close(main, w.stop)


async def _checks(d: Daemon, w: Watcher, clock: HandClock, port: int, changed: list[float], sent: list[tuple[float, bool]]) -> None:
    await _ping(d, clock)  # refused
    at, bad = await asyncio.to_thread(_first, w, _failing, "the failing heartbeat in the status")
    hb = bad["heartbeat"]
    since = datetime.fromtimestamp(NOW + EVERY_S, timezone.utc).isoformat()  # ISO 8601 UTC, as channels_failing's
    assert (hb["host"], hb["failing_since"], hb["paused"]) == (f"127.0.0.1:{port}", since, None), hb
    assert hb["error"].startswith("cannot connect: "), hb
    assert set(hb) == {"host", "failing_since", "error", "paused"}, hb  # no last_ok: it moves at every ping
    cfg = json.loads(await asyncio.to_thread(w.wait, SENSOR))
    assert _render(cfg["value_template"], bad) == "ON"
    assert json.loads(_render(cfg["json_attributes_template"], bad)) == hb
    notifications = json.loads(await asyncio.to_thread(w.wait, NOTIFICATIONS))
    assert _render(notifications["value_template"], bad) == "OFF"  # the alarms still reach the phones: another sensor

    await _ping(d, clock)  # refused again, twice: no new status
    await _ping(d, clock)
    async with http_recorder(port=port) as service:  # back: takes the next ping
        await _ping(d, clock)
        back_at, good = await asyncio.to_thread(_first, w, lambda s: _failing_before(w, s), "the status after a ping taken")
        assert _render(cfg["value_template"], good) == "OFF"
        assert json.loads(_render(cfg["json_attributes_template"], good)) == {**hb, "failing_since": None, "error": None}
        for _ in range(3):  # taken, each a new last_ok: no status each
            await _ping(d, clock)
        assert len(service.seen) == 4 and {s.path for s in service.seen} == {SECRET}
    d.mute("cot", 600, "Mum")  # a change the mirror publishes: after whatever the pings made it publish
    await asyncio.to_thread(_first, w, lambda s: s["muted_by"] == "Mum", "the muted status")

    # From the failed ping (and the first one taken again) to the broker handing the status on:
    # printed (docs/alerts.md), not asserted. Asserted is what woke the mirror: the change's own
    # message, the first sent from the change on, before the status was heard.
    heard = [(changed[0], at), (changed[1], back_at)]
    print("heartbeat change -> retained status heard: " + ", ".join(f"{(b - a) * 1000:.1f} ms" for a, b in heard))
    for change_t, heard_t in heard:
        after = [(t <= heard_t, own) for t, own in sent if t >= change_t]
        assert after[:1] == [(True, True)], f"messages from the change on (sent before the status heard, the change's own): {after}"
    statuses = [s for _, s in _statuses(w)]
    shown = [(_failing(s), s["muted_by"]) for s in statuses]
    first_failing = shown.index((True, None))
    # Published on change only: failing once (over three refused pings), through again once (over
    # four taken ones), then the mute.
    assert shown[first_failing - 1 :] == [(False, None), (True, None), (False, None), (False, "Mum")], shown
    with w.cond:
        assert not [t for t, p in w.seen if b"5f1c0a8e" in p], "the URL's secret path is in no MQTT message"


def _failing_before(w: Watcher, s: dict[str, Any]) -> bool:
    """``s`` is a status with the heartbeat not failing, heard after one that said it failed."""
    if not s.get("heartbeat") or _failing(s):
        return False
    heard = [x for _, x in _statuses(w)]
    return any(_failing(x) for x in heard[: heard.index(s)])


def test_the_heartbeat_sensor_is_discovered_with_a_heartbeat_and_removed_without(tmp_path: Path, broker: Broker) -> None:
    """Retained with its fields while a heartbeat is configured; the heartbeat taken out of the
    config, the next start removes it (an empty retained config: Home Assistant deletes the entity),
    not left OFF for good."""
    clock = HandClock(NOW)

    def run(url: str | None) -> None:
        w = Watcher(broker.port)

        async def main() -> None:
            with Store(tmp_path / "db.sqlite") as store:
                d = _daemon(store, broker.port, clock, url)
                await d.start()
                try:
                    await asyncio.to_thread(_first, w, lambda s: True, "the first status")  # (after the discovery)
                finally:
                    await d.stop()

        run_then_close(main, w.stop)

    async def with_service() -> None:
        async with http_recorder() as service:
            await asyncio.to_thread(run, service.url + SECRET)

    asyncio.run(with_service())
    cfg = json.loads(_retained(broker)[SENSOR])
    assert (cfg["name"], cfg["device_class"], cfg["state_topic"], cfg["json_attributes_topic"]) == (
        "Heartbeat failing", "problem", STATUS, STATUS), cfg  # fmt: skip
    assert cfg["unique_id"] == "spasmwatch_cot_heartbeat_failing" and cfg["has_entity_name"] is True, cfg
    assert (cfg["availability_topic"], cfg["payload_available"], cfg["payload_not_available"]) == ("sw/cot/availability", "online", "offline")
    assert cfg["device"]["identifiers"] == ["spasmwatch_cot"] and "entity_category" not in cfg, cfg  # on the family's dashboard

    run(None)
    retained = _retained(broker)
    assert NOTIFICATIONS in retained and SENSOR not in retained, sorted(retained)


def _retained(broker: Broker) -> dict[str, bytes]:
    """What a newcomer (Home Assistant starting) gets under homeassistant/: every retained config.
    A marker it publishes itself after subscribing comes after them (the broker keeps one client's
    order), so the absent ones are absent, not late."""
    late = Watcher(broker.port, "homeassistant/#")
    try:
        late.c.publish("homeassistant/zz_marker", b"end", qos=1)
        late.wait("homeassistant/zz_marker")
        with late.cond:
            return {t: p for t, (p, retained) in late.last.items() if retained}
    finally:
        late.stop()


def test_the_sensor_is_on_while_the_store_holds_the_pings_back(tmp_path: Path, broker: Broker) -> None:
    """Held back (the store refuses writes: a full disk, SQLite on disk capped): the service will
    say the monitor is down, so ON, the reason in the attributes; OFF again once the store has
    taken writes for STORAGE_OK_S and the pings resume."""
    w = Watcher(broker.port, STATUS_OF_BAND)
    clock = HandClock(NOW)

    async def main() -> None:
        async with http_recorder() as service:
            with Store(tmp_path / "db.sqlite") as store:
                ch = MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="sw"))
                d = Daemon(store, [BandSpec("crib", _away())], {"mqtt": ch}, clock=clock,  # type: ignore[arg-type]
                           heartbeat=HeartbeatSettings(service.url + SECRET, EVERY_S, 2.0))  # fmt: skip
                # The band's session never runs (its records are handed over as it would): the
                # ticker and the MQTT mirror do, as start() runs them.
                d._tasks += [asyncio.create_task(d._ticker(), name="ticker"), asyncio.create_task(d._mqtt_mirror("mqtt", ch), name="mirror")]
                try:
                    await _held_back(d, w, clock, store)
                    assert len(service.seen) == 2  # before the disk filled, and once it took writes again
                finally:
                    await d.stop()

    run_then_close(main, w.stop)


async def _held_back(d: Daemon, w: Watcher, clock: HandClock, store: Store) -> None:
    streaming(d, BAND, NOW)
    hb = d.heartbeat
    assert hb is not None
    await _until(lambda: hb.last_ok is not None, "the first ping taken")
    conn = fill_store(store)  # the disk fills up
    arrives = event_feed(d, BAND, clock)  # the band's next event, as its session hands it over
    for _ in range(200):  # more than the room left in the store's pages
        arrives()
    clock.t += 10
    _, held = await asyncio.to_thread(_first_on, w, STATUS_OF_BAND, lambda s: (s.get("heartbeat") or {}).get("paused"), "the held-back heartbeat")
    assert held["heartbeat"]["paused"] == f"the store refuses writes ({BAND}): events would be lost", held
    assert held["heartbeat"]["failing_since"] is None  # not failing: held back
    cfg = discovery_configs(MqttSettings(prefix="sw"), BAND, heartbeat=True)[f"homeassistant/binary_sensor/spasmwatch_{BAND}_heartbeat_failing/config"]
    assert _render(cfg["value_template"], held) == "ON"
    assert json.loads(_render(cfg["json_attributes_template"], held)) == held["heartbeat"]
    conn.execute("PRAGMA max_page_count = 1073741823")  # space again
    clock.t += K.STORAGE_OK_S  # the latest refusal is at least this old
    arrives()  # taken: the store is trusted again
    clock.t += 10
    _, again = await asyncio.to_thread(
        _first_on, w, STATUS_OF_BAND, lambda s: s.get("heartbeat") and not s["heartbeat"]["paused"] and s["updated_t"] > held["updated_t"], "resumed")
    assert _render(cfg["value_template"], again) == "OFF"
    resumed_t = clock.t
    # The ping that resumes is begun as the status is published, not waited for: its answer may come after.
    await _until(lambda: hb.last_ok is not None and hb.last_ok >= resumed_t, "a ping taken after the resume")


def test_no_heartbeat_is_null_in_the_status_and_offers_no_sensor() -> None:
    assert BandStatus().to_json("cot", NOW)["heartbeat"] is None
    assert SENSOR not in discovery_configs(MqttSettings(prefix="sw"), "cot")
    cfg = discovery_configs(MqttSettings(prefix="sw"), "cot", heartbeat=True)[SENSOR]
    assert _render(cfg["value_template"], BandStatus().to_json("cot", NOW)) == "OFF"  # a status the channel built before the daemon's first
    assert json.loads(_render(cfg["json_attributes_template"], BandStatus().to_json("cot", NOW))) == {}  # an object, as Home Assistant wants
