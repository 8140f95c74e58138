"""A new cluster's alarm never waits behind an earlier cluster's push that is retried or held.

A channel served a cluster's notifications in one lane, one after the other, each with all its
retries: an earlier cluster's push refused by a receiver (503s, ntfy.sh busy), answered slowly, or
left unacknowledged by a broker held a new cluster's alarm on that channel for as long, up to ~87 s
of retries. Now a push has the lane to itself for its first attempt only, up to ``turn_s``; its
retries leave the lane to the other alerts, while its own alert's later pushes still wait for it.
Real receivers on 127.0.0.1 (an aiohttp server, mosquitto behind a relay); what is measured is the
order things reach them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from spasmwatch.alerts import NoticeKind, Urgency
from spasmwatch.alerts.channels import (
    Dispatcher,
    MqttChannel,
    MqttSettings,
    RetrySettings,
)
from spasmwatch.store import Store

from servers import MqttProxy, Seen, retained, run_then_close

from .conftest import Broker, home_channel, http_recorder, in_backoff, mqtt_event, notice

# How long a receiver holds, or a retry waits: what the old code made the new alarm wait for. Long
# enough that an alarm sent at once is there well before, short enough for a test that fails.
HOLD_S = 4.0
# The first attempt's turn in these tests: well under HOLD_S.
TURN_S = 0.2
ALARM_1 = notice(id=3, alert_id=3, cluster_key=12)
UPDATE_1 = notice(NoticeKind.CLUSTER_UPDATE, id=4, alert_id=3, cluster_key=12, count=5)
OVER_1 = notice(NoticeKind.CLUSTER_CLOSED, id=5, alert_id=3, state="CLOSED", urgency=Urgency.INFO, cluster_ended=True)
ALARM_2 = notice(id=6, alert_id=4, cluster_key=13, created_t=1_709_629_800.0)


def _key(s: Seen) -> str:
    return s.headers["Idempotency-Key"]


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_a_new_cluster_s_alarm_goes_while_an_earlier_cluster_s_push_waits_for_its_retry(tmp_path: Path, kind: str) -> None:
    """Cluster 1's alarm is answered 503 and waits out its backoff; its update and cluster 2's alarm
    come meanwhile. Old code: cluster 2's alarm went last (seen: alarm 1, alarm 1, update 1, alarm 2)."""
    retry = RetrySettings(attempts=2, first_delay_s=HOLD_S)

    async def main() -> None:
        async with in_backoff(tmp_path, kind, ALARM_1, retry) as (d, srv, store):
            d.submit(UPDATE_1)
            d.submit(ALARM_2)
            await d.close()
            # Cluster 2's alarm at once; cluster 1's update still after its alarm's retry.
            assert [_key(s) for s in srv.seen] == [ALARM_1.key, ALARM_2.key, ALARM_1.key, UPDATE_1.key]
            assert sorted((x.notification_id, x.ok, x.attempts) for x in d.deliveries) == [(3, True, 2), (4, True, 1), (6, True, 1)]
            assert store.outgoing("home") == []

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_a_new_cluster_s_alarm_reaches_a_receiver_that_holds_an_earlier_cluster_s_push(tmp_path: Path, kind: str) -> None:
    """The receiver is slow to answer cluster 1's "over" (ntfy.sh busy). Old code: cluster 2's alarm
    reached it only once that was answered."""

    async def main() -> None:
        async with http_recorder(hold=lambda s: _key(s) == OVER_1.key, hold_s=HOLD_S) as srv:
            with Store(tmp_path / "db.sqlite") as store:
                d = Dispatcher({"home": home_channel(kind, srv.url + "/t", store)}, retry=RetrySettings(turn_s=TURN_S))
                for n in (OVER_1, ALARM_2):
                    d.submit(n)
                await d.close()
                assert [_key(s) for s in srv.seen] == [OVER_1.key, ALARM_2.key]
                assert srv.log.index(("in", 1)) < srv.log.index(("out", 0)), srv.log
                assert all(x.ok and x.attempts == 1 for x in d.deliveries)
                assert store.outgoing("home") == []

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_pushes_a_receiver_answers_at_once_reach_it_in_submit_order_each_answered_before_the_next(tmp_path: Path, kind: str) -> None:
    """What the lane still keeps (old code too): a receiver that answers gets a cluster's "over" and
    the next cluster's alarm in that order, never "over" last, as if the new alarm were over."""

    async def main() -> None:
        async with http_recorder() as srv:
            with Store(tmp_path / "db.sqlite") as store:
                d = Dispatcher({"home": home_channel(kind, srv.url + "/t", store)})
                for n in (ALARM_1, UPDATE_1, OVER_1, ALARM_2):
                    d.submit(n)
                await d.close()
                assert [_key(s) for s in srv.seen] == [ALARM_1.key, UPDATE_1.key, OVER_1.key, ALARM_2.key]
                assert srv.log == [(what, i) for i in range(4) for what in ("in", "out")]

    asyncio.run(asyncio.wait_for(main(), 60))


def _event(packet: bytes) -> str | None:
    event = mqtt_event(packet)
    return None if event is None else str(event["key"])


@pytest.mark.parametrize(
    ("timeout_s", "retry", "attempts"),
    [(10.0, RetrySettings(turn_s=TURN_S), 1), (0.5, RetrySettings(first_delay_s=HOLD_S), 2)],
    ids=["held", "retried"],
)
def test_a_new_cluster_s_alarm_event_reaches_the_broker_while_an_earlier_cluster_s_is_unacknowledged(
    broker: Broker, timeout_s: float, retry: RetrySettings, attempts: int
) -> None:
    """MQTT: a relay holds back the broker's PUBACK of cluster 1's "over" event: its send waits for
    it (held), or gives up after ``timeout_s`` and waits for its retry (retried). Old code: cluster
    2's alarm event was handed to the broker only once that PUBACK came. The retained alert is
    cluster 2's alarm all the same, the latest, though cluster 1's "over" is confirmed after it."""
    proxy = MqttProxy(broker.port)
    proxy.hold_s = HOLD_S

    async def main() -> None:
        ch = MqttChannel(MqttSettings(port=proxy.port, timeout_s=timeout_s, prefix="sw"))
        d = Dispatcher({"mqtt": ch}, retry=retry)
        await ch.announce("cot")  # connected, discovery and state published: only events from here
        proxy.hold = lambda p: _event(p) == OVER_1.key
        for n in (OVER_1, ALARM_2):
            d.submit(n)
        await d.close()
        events = [k for what, p in proxy.log if (k := _event(p) if what == "publish" else what) is not None]
        assert events[:3] == [OVER_1.key, ALARM_2.key, "released"], events
        assert sorted((x.notification_id, x.ok, x.attempts) for x in d.deliveries) == [(5, True, attempts), (6, True, 1)]
        alert = json.loads(retained(broker.port)["sw/cot/alert"])
        assert (alert["state"], alert["cluster_key"]) == ("ALARM", 13), alert

    run_then_close(main, proxy.close)
