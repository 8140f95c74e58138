"""Home Assistant sees a notification channel that fails: the band's retained MQTT ``status`` lists it
(``channels_failing``) and the discovered binary_sensor "Notifications failing" turns ON.

A real mosquitto, a real Daemon in-process (a band that never connects, known to the store so its
status is mirrored), a webhook on 127.0.0.1 that refuses (HTTP 403, as a wrong token) and then
takes, and a plain paho client reading what the broker retains. The Home Assistant templates are
rendered with jinja2's sandbox, as Home Assistant renders them. Until 2026-12-04 the page, the CLI
and /api/status said so, and Home Assistant showed everything fine.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment
from servers import MqttProxy, Watcher, http_recorder, run_then_close, mqtt_topic

from spasmwatch.alerts.channels import MqttChannel, MqttSettings, RetrySettings, WebhookChannel, WebhookSettings
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.store import Store

from .conftest import Broker
from .cot_daemon import NOW, alarm, cot_daemon

STATUS = "sw/cot/status"
SENSOR = "homeassistant/binary_sensor/spasmwatch_cot_channels_failing/config"


def _render(template: str, payload: dict[str, Any]) -> str:
    return ImmutableSandboxedEnvironment().from_string(template).render(value_json=payload).strip()


def _status_when(w: Watcher, ok: Any, what: str) -> dict[str, Any]:
    w.wait_until(lambda: STATUS in w.last and ok(json.loads(w.last[STATUS][0])), what)
    status: dict[str, Any] = json.loads(w.last[STATUS][0])
    return status


def test_home_assistant_shows_a_channel_that_fails_until_it_delivers_again(tmp_path: Path, broker: Broker) -> None:
    w = Watcher(broker.port)

    async def main() -> None:
        async with http_recorder([403]) as phone:  # refused for good (a wrong token), then taken
            with Store(tmp_path / "db.sqlite") as store:
                hook = WebhookChannel(WebhookSettings(url=phone.url + "/hook", name="webhook:phone"))
                d = cot_daemon(store, {"mqtt": MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="sw")), "webhook:phone": hook})
                await d.start()
                try:
                    await _checks(d, w, phone.seen)
                finally:
                    await d.stop()

    run_then_close(main, w.stop)


async def _checks(d: Daemon, w: Watcher, pushes: list[Any]) -> None:
    ok = await asyncio.to_thread(_status_when, w, lambda s: s.get("connected") is False, "the first status")
    assert ok.get("channels_failing") == [], ok
    cfg = json.loads((await asyncio.to_thread(w.wait, SENSOR)).decode())
    assert _render(cfg["value_template"], ok) == "OFF"

    alert_id = alarm(d)
    bad = await asyncio.to_thread(_status_when, w, lambda s: s["channels_failing"] != [], "the refused push in the status")
    [f] = bad["channels_failing"]
    since = datetime.fromtimestamp(NOW, timezone.utc).isoformat()  # ISO 8601 UTC, as muted_until
    assert (f["channel"], f["since"]) == ("webhook:phone", since) and "403" in f["error"], f
    assert [c["channel"] for c in d.status()["channels_failing"]] == ["webhook:phone"]  # the same fact as the page's
    assert _render(cfg["value_template"], bad) == "ON"
    assert json.loads(_render(cfg["json_attributes_template"], bad)) == {"channels_failing": bad["channels_failing"]}

    d.ack(alert_id, "Mum")  # its acknowledgement goes to the webhook too, which takes it now
    good = await asyncio.to_thread(_status_when, w, lambda s: s["channels_failing"] == [], "the status after a good push")
    assert _render(cfg["value_template"], good) == "OFF"
    assert [json.loads(p.body)["state"] for p in pushes] == ["ALARM", "ACKNOWLEDGED"]
    # Every status that lists it says the same: the first failure in a row, as the page does.
    listed = [s for s in w.all(STATUS) if s["channels_failing"]]
    assert {json.dumps(s["channels_failing"]) for s in listed} == {json.dumps(bad["channels_failing"])}, listed


def test_mqtts_own_failure_is_not_in_its_status(tmp_path: Path, broker: Broker) -> None:
    """MQTT cannot say that MQTT fails: an alarm's event the broker never acknowledged makes the
    channel failing (the page and CLI say it), and the status it publishes after lists nothing."""
    w = Watcher(broker.port)
    proxy = MqttProxy(broker.port)
    proxy.lose = lambda p: mqtt_topic(p) == "sw/cot/event"  # the events never reach the broker; the rest do

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            d = cot_daemon(store, {"mqtt": MqttChannel(MqttSettings(port=proxy.port, timeout_s=0.5, prefix="sw"))})
            d.dispatcher.retry = RetrySettings(attempts=2, first_delay_s=0.05)
            await d.start()
            try:
                await asyncio.to_thread(_status_when, w, lambda s: True, "the first status")
                alarm(d)
                await d.dispatcher.drain()
                assert [c["channel"] for c in d.status()["channels_failing"]] == ["mqtt"]
                d.mute("cot", 600, "Mum")  # a change the mirror publishes: after the failure
                st = await asyncio.to_thread(_status_when, w, lambda s: s["muted_by"] == "Mum", "the muted status")
                assert st["channels_failing"] == [], st
            finally:
                await d.stop()

    run_then_close(main, w.stop, proxy.close)


def test_the_notifications_failing_sensor_is_discovered_retained(tmp_path: Path, broker: Broker) -> None:
    w = Watcher(broker.port)

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            d = cot_daemon(store, {"mqtt": MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="sw"))})
            await d.start()
            try:
                await asyncio.to_thread(_status_when, w, lambda s: True, "the first status")  # (after the discovery)
            finally:
                await d.stop()

    run_then_close(main, w.stop)
    late = Watcher(broker.port, "homeassistant/#")  # after the daemon: what it gets was retained
    try:
        cfg = json.loads(late.wait(SENSOR))
        assert late.last[SENSOR][1] is True
    finally:
        late.stop()
    assert (cfg["name"], cfg["device_class"], cfg["state_topic"], cfg["json_attributes_topic"]) == (
        "Notifications failing", "problem", STATUS, STATUS), cfg  # fmt: skip
    assert cfg["value_template"] == "{{ 'ON' if value_json.channels_failing else 'OFF' }}", cfg
    assert cfg["json_attributes_template"] == "{{ {'channels_failing': value_json.channels_failing} | tojson }}", cfg
    assert cfg["unique_id"] == "spasmwatch_cot_channels_failing" and cfg["has_entity_name"] is True, cfg
    assert (cfg["availability_topic"], cfg["payload_available"], cfg["payload_not_available"]) == ("sw/cot/availability", "online", "offline")
    assert cfg["device"]["identifiers"] == ["spasmwatch_cot"] and cfg["origin"]["name"] == "spasmwatch", cfg
    assert "entity_category" not in cfg  # a diagnostic entity is left out of Home Assistant's default dashboard


CHANGED_SENSOR = "homeassistant/binary_sensor/spasmwatch_cot_channels_changed/config"


def test_home_assistant_shows_a_channel_changed_since_it_failed_until_it_sends(tmp_path: Path, broker: Broker) -> None:
    """The webhook refused the alarm, then its URL was fixed and the daemon restarted: not failing
    (the old URL's error says nothing of the new one) and not known to deliver. Home Assistant must
    say what the page and /api/status say, "changed since it failed: test it" (``channels_changed``
    and the binary_sensor "Notifications to test"), until it sends. Until this test MQTT listed the
    failing ones only: Home Assistant showed all fine for a channel nobody had tested."""
    w = Watcher(broker.port)

    async def main() -> None:
        async with http_recorder([403]) as phone:  # the old URL refused; the fixed one takes
            with Store(tmp_path / "db.sqlite") as store:
                d = cot_daemon(store, {"webhook:phone": WebhookChannel(WebhookSettings(url=phone.url + "/old", name="webhook:phone"))})
                alarm(d)
                await d.dispatcher.drain()
                [failed] = d.status()["channels_failing"]
                await d.dispatcher.close()
            with Store(tmp_path / "db.sqlite") as store:  # restarted with the URL fixed
                fixed = WebhookChannel(WebhookSettings(url=phone.url + "/new", name="webhook:phone"))
                d = cot_daemon(store, {"mqtt": MqttChannel(MqttSettings(port=broker.port, timeout_s=5, prefix="sw")), "webhook:phone": fixed})
                await d.start()
                try:
                    await _changed_checks(d, w, failed)
                finally:
                    await d.stop()

    run_then_close(main, w.stop)


async def _changed_checks(d: Daemon, w: Watcher, failed: dict[str, Any]) -> None:
    st = await asyncio.to_thread(_status_when, w, lambda s: s.get("channels_changed"), "the changed channel in the status")
    since = datetime.fromtimestamp(failed["since"], timezone.utc).isoformat()
    assert st["channels_failing"] == [] and st["channels_changed"] == [{"channel": "webhook:phone", "since": since, "error": failed["error"]}], st
    assert [c["channel"] for c in d.status()["channels_changed"]] == ["webhook:phone"]  # the same fact as the page's
    failing_cfg = json.loads((await asyncio.to_thread(w.wait, SENSOR)).decode())
    cfg = json.loads((await asyncio.to_thread(w.wait, CHANGED_SENSOR)).decode())
    assert (cfg["name"], cfg["state_topic"], cfg["unique_id"]) == ("Notifications to test", STATUS, "spasmwatch_cot_channels_changed"), cfg
    assert _render(cfg["value_template"], st) == "ON" and _render(failing_cfg["value_template"], st) == "OFF"
    assert json.loads(_render(cfg["json_attributes_template"], st)) == {"channels_changed": st["channels_changed"]}

    out = await d.send_test("webhook:phone", "Mum")  # the fixed URL takes it: it delivers
    assert [(r["channel"], r["ok"]) for r in out["results"]] == [("webhook:phone", True)], out
    done = await asyncio.to_thread(_status_when, w, lambda s: s.get("channels_changed") == [], "the status after the test")
    assert _render(cfg["value_template"], done) == "OFF" and done["channels_failing"] == [], done
