"""A cluster's alarm never waits behind a band notice on the same channel (found by the bonds review).

Each channel served every notification in one queue (one lock): a "battery low" sent just before a
cluster's alarm, to a receiver slow to answer it (ntfy.sh busy, a webhook's home server swapping), or
being retried with backoff (503s, a broker not acknowledging), held the alarm for as long: up to
~87 s of retries. Real receivers on 127.0.0.1 (an aiohttp server, mosquitto behind a relay) that
hold the notice's request; what is measured is the order things reach them: the alarm must reach
the receiver while the notice is still held, or before it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from pathlib import Path

import pytest

from spasmwatch.alerts import BandFault, NoticeKind, Urgency
from spasmwatch.alerts.channels import (
    Dispatcher,
    MqttChannel,
    MqttSettings,
    RetrySettings,
)
from spasmwatch.store import Store

from servers import MqttProxy, Seen, run_then_close

from .conftest import Broker, band_notice, home_channel, http_recorder, in_backoff, mqtt_event, notice

# How long a receiver holds the notice at most: what the old code made the alarm wait for. Long
# enough that an alarm sent at once is there well before, short enough for a test that fails.
HOLD_S = 4.0
BATTERY_LOW = band_notice(BandFault.BATTERY_LOW, True, id=1, alert_id=1)
DISCONNECTED = band_notice(BandFault.DISCONNECTED, True, id=2, alert_id=2)
ALARM = notice(id=3, alert_id=3)
ALARM_OVER = notice(NoticeKind.CLUSTER_CLOSED, id=4, alert_id=3, state="CLOSED", urgency=Urgency.INFO, cluster_ended=True)


def _kind(s: Seen) -> str:
    return s.headers.get("X-Spasmwatch-Event") or s.headers["Tags"].split(",")[-1]


def _is_notice(s: Seen) -> bool:
    return _kind(s) == "band_fault"


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_an_alarm_reaches_a_slow_receiver_while_the_band_notices_before_it_are_held(tmp_path: Path, kind: str) -> None:
    """Old code: the alarm's request came only once the receiver had answered both notices."""

    async def main() -> None:
        async with http_recorder(hold=_is_notice, hold_s=HOLD_S) as srv:
            with Store(tmp_path / "db.sqlite") as store:
                d = Dispatcher({"home": home_channel(kind, srv.url + "/t", store)})
                for n in (BATTERY_LOW, DISCONNECTED, ALARM, ALARM_OVER):
                    d.submit(n)
                await d.close()
                kinds = [_kind(s) for s in srv.seen]
                alarm = kinds.index("cluster_alarm")
                for i in (i for i, k in enumerate(kinds) if k == "band_fault"):
                    assert srv.log.index(("in", alarm)) < srv.log.index(("out", i)), srv.log
                # The same alert's pushes in their order: its "over" after the alarm was answered.
                assert srv.log.index(("out", alarm)) < srv.log.index(("in", kinds.index("cluster_closed"))), srv.log
                assert sorted(kinds) == ["band_fault", "band_fault", "cluster_alarm", "cluster_closed"]
                assert all(x.ok and x.attempts == 1 for x in d.deliveries)
                assert store.outgoing("home") == []

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_a_band_notice_retried_with_backoff_never_holds_the_alarm_after_it(tmp_path: Path, kind: str) -> None:
    """The notice is answered 503 and waits out its backoff before its next try. Old code: the alarm
    waited for that try, and its answer (seen: notice, notice, alarm)."""
    retry = RetrySettings(attempts=2, first_delay_s=HOLD_S)

    async def main() -> None:
        async with in_backoff(tmp_path, kind, BATTERY_LOW, retry) as (d, srv, _):
            d.submit(ALARM)
            await d.close()
            assert [_kind(s) for s in srv.seen] == ["band_fault", "cluster_alarm", "band_fault"]
            assert sorted((x.notification_id, x.ok, x.attempts) for x in d.deliveries) == [(1, True, 2), (3, True, 1)]

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_a_heads_up_in_its_backoff_is_given_up_for_its_alarm_which_goes_at_once(tmp_path: Path, kind: str) -> None:
    """The cluster's heads-up (WARNING, the same alert as its alarm since review h50) answered 503,
    in its backoff when the third spasm's alarm comes. An alert's sends go one after the other: the
    alarm waited for the heads-up's retries (seen: warning, warning, alarm). Now the heads-up is
    given up there, its kept push dropped; the alarm goes at once."""
    retry = RetrySettings(attempts=2, first_delay_s=HOLD_S)
    warning = notice(NoticeKind.CLUSTER_WARNING, id=2, state="WARNING", urgency=Urgency.LOW, count=2)

    async def main() -> None:
        async with in_backoff(tmp_path, kind, warning, retry) as (d, srv, store):
            d.submit(notice(id=3))
            await d.close()
            assert [_kind(s) for s in srv.seen] == ["cluster_warning", "cluster_alarm"]  # not retried
            assert [(x.notification_id, x.ok) for x in d.deliveries] == [(3, True)]
            assert store.outgoing("home") == []

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("steps", range(4))
def test_a_heads_up_given_up_for_its_alarm_as_its_record_reaches_the_disk_is_not_sent(tmp_path: Path, steps: int) -> None:
    """The heads-up waits for the sync of its record (``send_after``) when its alarm comes, the sync
    done by the store's thread ``steps`` loop passes before. Old code waited with ``asyncio.wait_for``,
    which on Python 3.11 lets a cancel go unheeded when what it waits for is done in the same pass:
    the heads-up given up (``_supersede``) was sent all the same and counted as delivered (a
    daemon killed in a test went on to keep its alarm again); and its send, begun in the same pass
    as its alarm, kept its push again after ``_supersede`` had dropped it."""
    warning = notice(NoticeKind.CLUSTER_WARNING, id=2, state="WARNING", urgency=Urgency.LOW, count=2)

    async def main() -> None:
        async with http_recorder() as srv:
            with Store(tmp_path / "db.sqlite") as store:
                d = Dispatcher({"home": home_channel("webhook", srv.url + "/t", store)})
                on_disk: concurrent.futures.Future[None] = concurrent.futures.Future()
                d.send_after(warning, on_disk)
                d.submit(warning)
                for _ in range(3):  # its send waits for the sync in its lane
                    await asyncio.sleep(0)
                on_disk.set_result(None)  # (as the sync thread does: the loop hears of it in its next passes)
                for _ in range(steps):
                    await asyncio.sleep(0)
                d.submit(notice(id=3))
                await d.close()
                assert [_kind(s) for s in srv.seen] == ["cluster_alarm"]
                assert [(x.notification_id, x.ok) for x in d.deliveries] == [(3, True)]
                assert store.outgoing("home") == []

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_a_resend_pass_sends_a_kept_alarm_before_the_older_band_notices_kept_with_it(tmp_path: Path, kind: str) -> None:
    """After a receiver outage or a daemon stop, the pass of the kept pushes: old code sent them
    oldest first, so a kept "battery low" the receiver held made the kept alarm after it wait."""

    async def main() -> None:
        async with http_recorder(hold=_is_notice, hold_s=HOLD_S) as srv:
            with Store(tmp_path / "db.sqlite") as store:
                for n in (BATTERY_LOW, DISCONNECTED, ALARM, ALARM_OVER):
                    store.keep_outgoing("home", n.key, n.device, json.dumps(n.to_json()), n.created_t, int(n.urgency), 500)
                d = Dispatcher({"home": home_channel(kind, srv.url + "/t", store)})
                d.resend_kept(lambda n: None)
                await d.drain()
                await d.close()
                assert [_kind(s) for s in srv.seen] == ["cluster_alarm", "cluster_closed", "band_fault", "band_fault"]
                assert [s.headers["Idempotency-Key"] for s in srv.seen[2:]] == [BATTERY_LOW.key, DISCONNECTED.key]  # each lane oldest first
                assert store.outgoing("home") == []

    asyncio.run(asyncio.wait_for(main(), 60))


def _event_kind(packet: bytes) -> str | None:
    event = mqtt_event(packet)
    return None if event is None else str(event["kind"])


def test_an_alarm_event_reaches_the_broker_while_the_band_notice_before_it_is_unacknowledged(broker: Broker) -> None:
    """MQTT: a relay holds back the broker's PUBACK of the notice's event (the send waits for it).
    Old code: the alarm's event was handed to the broker only once that PUBACK came."""
    proxy = MqttProxy(broker.port)
    proxy.hold_s = HOLD_S

    async def main() -> None:
        ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=10, prefix="sw"))
        d = Dispatcher({"mqtt": ch})
        await ch.announce("cot")  # connected, discovery and state published: only events from here
        proxy.hold = lambda p: _event_kind(p) == "band_fault"
        for n in (BATTERY_LOW, ALARM, ALARM_OVER):
            d.submit(n)
        await d.close()
        events = [k for what, p in proxy.log if (k := _event_kind(p) if what == "publish" else what) is not None]
        assert events.index("cluster_alarm") < events.index("released"), events
        assert events.index("cluster_alarm") < events.index("cluster_closed"), events
        assert all(x.ok and x.attempts == 1 for x in d.deliveries), d.deliveries

    run_then_close(main, proxy.close)
