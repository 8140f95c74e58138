"""Webhook and ntfy channels against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from spasmwatch.alerts import BandFault, Notification, NoticeKind, Urgency
from spasmwatch.alerts.channels import (
    ChannelError,
    Dispatcher,
    NtfyChannel,
    NtfySettings,
    RetrySettings,
    WebhookChannel,
    WebhookSettings,
)
from spasmwatch.alerts.channels.ntfy import sequence_id
from spasmwatch.alerts.channels.outbox import from_json, why_not_resend
from spasmwatch.store import Store

from servers import Seen

from .conftest import band_notice, free_port, http_recorder, notice

FAST = RetrySettings(attempts=3, first_delay_s=0.01, factor=2.0, attempt_timeout_s=5.0)


def test_webhook_posts_the_documented_json() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = WebhookChannel(WebhookSettings(url=srv.url + "/hook", headers={"Authorization": "Bearer abc"}))
            await ch.send(notice())
            await ch.close()
            [req] = srv.seen
            assert req.method == "POST" and req.path == "/hook"
            assert req.headers["Content-Type"] == "application/json"
            assert req.headers["Authorization"] == "Bearer abc"
            assert req.headers["X-Spasmwatch-Event"] == "cluster_alarm"
            assert req.headers["User-Agent"].startswith("spasmwatch/")
            assert req.headers["Idempotency-Key"] == "cot-3-7-1709629200000"
            body = json.loads(req.body)
            assert body == {
                "schema": "spasmwatch.alert/1", "key": "cot-3-7-1709629200000", "id": 7, "alert_id": 3, "device": "cot",
                "kind": "cluster_alarm", "state": "ALARM", "urgency": "urgent", "urgency_level": 5,
                "title": "ALARM: possible spasm cluster (cot)",
                "text": "3 spasm-like movements in a cluster since 10:00.",
                "created_t": 1709629200.0, "cluster_key": 12, "fault": None, "count": 3, "started_t": 1709629100.0,
                "cluster_ended": False,
            }  # fmt: skip

    asyncio.run(main())


def test_webhook_500_then_200_is_retried_by_the_dispatcher() -> None:
    async def main() -> None:
        async with http_recorder([500]) as srv:
            d = Dispatcher({"hook": WebhookChannel(WebhookSettings(url=srv.url, name="hook"))}, retry=FAST)
            [res] = await d.dispatch(notice())
            await d.close()
            assert res.ok and res.attempts == 2 and res.error is None
            assert len(srv.seen) == 2
            assert srv.seen[0].headers["Idempotency-Key"] == srv.seen[1].headers["Idempotency-Key"]

    asyncio.run(main())


def test_webhook_errors_say_what_happened() -> None:
    async def main() -> None:
        async with http_recorder([404, 500, 500, 500]) as srv:
            ch = WebhookChannel(WebhookSettings(url=srv.url, name="hook"))
            with pytest.raises(ChannelError, match="HTTP 404") as e:
                await ch.send(notice())
            assert not e.value.retryable  # our URL is wrong: trying again will not help
            d = Dispatcher({"hook": ch}, retry=FAST)
            [res] = await d.dispatch(notice())
            assert not res.ok and res.attempts == 3 and "HTTP 500" in (res.error or "")
            await d.close()
        dead = WebhookChannel(WebhookSettings(url=f"http://127.0.0.1:{free_port()}/", name="hook", timeout_s=2))
        with pytest.raises(ChannelError, match=r"^hook: POST to http://127\.0\.0\.1:\d+ failed: cannot connect: ") as e:
            await dead.send(notice())
        assert e.value.retryable
        await dead.close()

    asyncio.run(main())


def test_webhook_timeout() -> None:
    async def main() -> None:
        async with http_recorder(delay_s=1.0) as srv:
            ch = WebhookChannel(WebhookSettings(url=srv.url, timeout_s=0.2))
            with pytest.raises(ChannelError, match="no answer within 0.2 s"):
                await ch.send(notice())
            await ch.close()

    asyncio.run(main())


def test_ntfy_alarm_is_urgent_with_title_tags_and_token() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = NtfyChannel(NtfySettings(url=srv.url + "/baby-xyz", token="tk_secret"))
            await ch.send(notice())
            await ch.send(notice(NoticeKind.CLUSTER_WARNING, urgency=Urgency.LOW, title="Heads-up: Léa's band"))
            await ch.close()
            alarm, warn = srv.seen
            assert alarm.method == "POST" and alarm.path == "/baby-xyz"
            assert alarm.body.decode() == "3 spasm-like movements in a cluster since 10:00."
            assert alarm.headers["Title"] == "ALARM: possible spasm cluster (cot)"
            assert alarm.headers["Priority"] == "urgent"
            assert alarm.headers["Tags"] == "rotating_light,cluster_alarm"
            assert alarm.headers["Authorization"] == "Bearer tk_secret"
            assert warn.headers["Priority"] == "low"
            assert warn.headers["Title"].startswith("=?UTF-8?B?")  # RFC 2047: headers are Latin-1 only

    asyncio.run(main())


def test_a_band_fault_that_stops_detection_is_pushed_urgent_the_others_default() -> None:
    """Family review: "Band disconnected" went out at ntfy priority "default", so a phone on
    do-not-disturb stayed silent at night while nothing watched the baby. ntfy's Android app lets
    only priority 5 ("urgent", its "max" channel) through do-not-disturb. The real engine raises each
    fault at 10:00 into a real ntfy channel (one channel sends in order). Old code: every fault
    "default" (engine urgency NORMAL)."""
    from spasmwatch.alerts import AlertEngine, AlertSettings

    async def main() -> dict[str, tuple[str, str]]:
        async with http_recorder() as srv:
            d = Dispatcher({"ntfy:phone": NtfyChannel(NtfySettings(url=srv.url + "/baby-xyz", name="phone"))}, retry=FAST)
            sent: list[Notification] = []

            def submit(n: Notification) -> None:
                sent.append(n)
                d.submit(n)

            engine = AlertEngine(lambda: 1709629200.0, submit, AlertSettings())
            for f in BandFault:
                engine.on_band_state("cot", f, True)
            await d.close()
            assert len(srv.seen) == len(sent) == len(BandFault)
            return {n.fault.value: (s.headers["Priority"], n.urgency.name) for n, s in zip(sent, srv.seen) if n.fault is not None}

    got = asyncio.run(main())
    stops = {f.value for f in BandFault if f.stops_detection}
    assert stops == {"disconnected", "not_worn", "battery_low", "safe_mode", "sensor_error", "band_log_failing"}
    # Another device bonded may hide every spasm (min_confidence): HIGH, through no do-not-disturb (detection goes on).
    others = {f.value: ("urgent", "HIGH") if f.value in stops else ("default", "NORMAL") for f in BandFault}
    assert got == {**others, "other_bonds": ("high", "HIGH")}


def test_ntfy_without_token_sends_no_authorization() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = NtfyChannel(NtfySettings(url=srv.url + "/t"))
            await ch.send(notice())
            await ch.close()
            assert "Authorization" not in srv.seen[0].headers

    asyncio.run(main())


# --- the outbox: a push kept until its receiver took it (outbox.py, docs/alerts.md) ------------------

ALARM = notice()
UPDATE = notice(NoticeKind.CLUSTER_UPDATE, id=8, urgency=Urgency.HIGH, title="Cluster continues: 5 movements (cot)", count=5,
                created_t=1_709_629_260.0)  # fmt: skip


def _channel(kind: str, url: str, outbox: Store | None) -> WebhookChannel | NtfyChannel:
    if kind == "webhook":
        return WebhookChannel(WebhookSettings(url=url, name="webhook:phone", timeout_s=2), outbox)
    return NtfyChannel(NtfySettings(url=url, name="ntfy:phone", timeout_s=2), outbox)


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_pushes_a_receiver_never_took_are_sent_by_a_new_dispatcher_oldest_first_once_with_their_keys(tmp_path: Path, kind: str) -> None:
    """Found by review: a push still retried when the daemon stopped (the receiver down, the network
    out), or whose retries had run out, was lost: a parent's phone never heard of the alarm."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/phone"
    name = f"{kind}:phone"

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            first = Dispatcher({name: _channel(kind, url, store)}, retry=FAST)  # nobody listens on the port
            assert [d.ok for d in await first.dispatch(ALARM) + await first.dispatch(UPDATE)] == [False, False]
            await first.close()
            assert [r.key for r in store.outgoing(name)] == [ALARM.key, UPDATE.key]
            async with http_recorder(port=port) as srv:  # the receiver is back; a new daemon starts
                nxt = Dispatcher({name: _channel(kind, url, store)}, retry=FAST)
                nxt.resend_kept(lambda n: None)
                await nxt.drain()
                nxt.resend_kept(lambda n: None)  # nothing left: nothing twice
                await nxt.drain()
                await nxt.close()
            assert [s.headers["Idempotency-Key"] for s in srv.seen] == [ALARM.key, UPDATE.key]
            if kind == "webhook":  # the payload the receiver would have had
                assert [json.loads(s.body) for s in srv.seen] == [ALARM.to_json(), UPDATE.to_json()]
            else:
                assert [(s.headers["Title"], s.headers["Priority"], s.body.decode()) for s in srv.seen] == [
                    (ALARM.title, "urgent", ALARM.text), (UPDATE.title, "high", UPDATE.text)]  # fmt: skip
            assert store.outgoing(name) == []

    asyncio.run(asyncio.wait_for(main(), 30))


@pytest.mark.parametrize("kind", ["webhook", "ntfy"])
def test_a_stop_while_a_kept_push_waits_for_its_answer_lets_it_be_answered_and_sends_no_more(tmp_path: Path, kind: str) -> None:
    """The next start's pass resends the kept alarm and update; the daemon stops while the alarm's
    answer is on its way (a receiver 0.3 s slow). Old code: the stop cancelled the pass at once, the
    alarm the phone had was kept and pushed again at the following start. Now the send under way is
    given its answer (``PASS_GRACE_S``); the update, not started, stays kept."""
    name = f"{kind}:phone"

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            async with http_recorder(delay_s=0.3) as srv:
                d = Dispatcher({name: _channel(kind, srv.url + "/phone", store)}, retry=FAST)
                for n in (ALARM, UPDATE):
                    d.keep(n)
                d.resend_kept(lambda n: None)
                while not srv.seen:  # the alarm is at the receiver, its answer 0.3 s away
                    await asyncio.sleep(0.01)
                await d.close()
            assert [s.headers["Idempotency-Key"] for s in srv.seen] == [ALARM.key]
            assert [r.key for r in store.outgoing(name)] == [UPDATE.key]

    asyncio.run(asyncio.wait_for(main(), 30))


def test_an_ntfy_push_the_phone_already_has_is_resent_under_its_sequence_id_so_it_replaces_not_repeats(tmp_path: Path) -> None:
    """The ntfy server took the alarm but its answer never came (here: later than the attempt's
    timeout; in life a network cut or the daemon killed mid-POST), so it was kept and sent again by
    the retries and by the next daemon. ntfy ignores Idempotency-Key and the phone showed it once per
    send. Every send of one notification now carries one X-Sequence-ID, which ntfy (>= 2.16) and its
    apps use to replace the shown notification in place; another notification has another. Old code:
    no X-Sequence-ID."""
    slow = RetrySettings(attempts=2, first_delay_s=0.01, factor=2.0, attempt_timeout_s=0.2)

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            async with http_recorder(delay_s=0.6) as srv:
                first = Dispatcher({"ntfy:phone": _channel("ntfy", srv.url + "/t", store)}, retry=slow)
                assert [d.ok for d in await first.dispatch(ALARM)] == [False]
                await first.close()
                assert [r.key for r in store.outgoing("ntfy:phone")] == [ALARM.key]
            async with http_recorder(port=int(srv.url.rsplit(":", 1)[1])) as again:  # the next daemon
                nxt = Dispatcher({"ntfy:phone": _channel("ntfy", srv.url + "/t", store)}, retry=FAST)
                nxt.resend_kept(lambda n: None)
                await nxt.drain()
                await nxt.dispatch(UPDATE)
                await nxt.close()
        sends = srv.seen + again.seen
        assert len(sends) == 4, sends  # 2 attempts, the resend, the update
        assert {s.headers["Idempotency-Key"] for s in sends[:3]} == {ALARM.key}
        assert {s.headers["X-Sequence-ID"] for s in sends[:3]} == {sequence_id(ALARM)}
        assert sends[3].headers["X-Sequence-ID"] == sequence_id(UPDATE) != sequence_id(ALARM)
        assert re.fullmatch(r"[-_A-Za-z0-9]{1,64}", sequence_id(ALARM))  # what ntfy allows in a topic name

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_push_stays_kept_until_a_2xx_and_a_refused_one_is_not_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Kept before the first attempt, kept after a failure worth trying again (503), forgotten on a
    2xx; a 4xx (a wrong topic or token) fails the same way on every resend: not kept for ever."""

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            async with http_recorder([503, 404]) as srv:
                ch = _channel("ntfy", srv.url + "/topic", store)
                with pytest.raises(ChannelError, match="HTTP 503"):
                    await ch.send(ALARM)
                assert [r.key for r in store.outgoing("ntfy:phone")] == [ALARM.key]
                with pytest.raises(ChannelError, match="HTTP 404"):
                    await ch.send(UPDATE)
                assert [r.key for r in store.outgoing("ntfy:phone")] == [ALARM.key]
                await ch.send(ALARM)
                assert store.outgoing("ntfy:phone") == []
                await ch.close()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert f"notification {UPDATE.key} refused (ntfy:phone: HTTP 404" in caplog.text


def test_a_resend_pass_skips_a_push_being_delivered_and_stops_at_the_first_failure(tmp_path: Path) -> None:
    """A pass never sends what a live delivery is sending (it would arrive twice), and a receiver
    still away costs one series of attempts per pass, not one per kept push."""

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            async with http_recorder([503] * 3, delay_s=0.2) as srv:
                d = Dispatcher({"ntfy:phone": _channel("ntfy", srv.url, store)}, retry=FAST)
                d.submit(ALARM)
                await asyncio.sleep(0.1)  # its first attempt is under way (the receiver answers in 0.2 s)
                assert [r.key for r in store.outgoing("ntfy:phone")] == [ALARM.key]
                d.resend_kept(lambda n: None)
                await d.drain()  # 503, 503, 503: the live delivery gave up
                assert [s.headers["Idempotency-Key"] for s in srv.seen] == [ALARM.key] * 3
                store.keep_outgoing("ntfy:phone", UPDATE.key, "cot", json.dumps(UPDATE.to_json()), UPDATE.created_t, 4, 500)
                srv.seen.clear()
                d.resend_kept(lambda n: None)
                await d.drain()
                assert [s.headers["Idempotency-Key"] for s in srv.seen] == [ALARM.key, UPDATE.key]
                await d.close()
            for n in (ALARM, UPDATE):
                store.keep_outgoing("ntfy:phone", n.key, "cot", json.dumps(n.to_json()), n.created_t, int(n.urgency), 500)
            away = Dispatcher({"ntfy:phone": _channel("ntfy", f"http://127.0.0.1:{free_port()}/", store)}, retry=FAST)
            away.resend_kept(lambda n: None)
            await away.drain()
            assert [(x.notification_id, x.ok, x.attempts) for x in away.deliveries] == [(ALARM.id, False, 3)]
            assert len(store.outgoing("ntfy:phone")) == 2
            await away.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_kept_push_reads_back_as_the_same_notification_and_an_altered_one_is_refused() -> None:
    ended = notice(NoticeKind.CLUSTER_CLOSED, cluster_ended=True)  # an unacknowledged alarm's "Cluster ended"
    for n in (ALARM, band_notice(BandFault.NOT_WORN, True), notice(cluster_key="c-7", count=None, started_t=None), ended):
        back = from_json(json.loads(json.dumps(n.to_json())))
        assert back.to_json() == n.to_json() and back.key == n.key
    old = {k: v for k, v in ended.to_json().items() if k != "cluster_ended"}  # kept before 2026-12-06
    assert from_json(old).cluster_ended is False
    altered = {**ALARM.to_json(), "created_t": ALARM.created_t + 1}
    with pytest.raises(ValueError, match="does not match"):
        from_json(altered)


MAX = 900.0


@pytest.mark.parametrize(
    "n, state_now, age_s, sent",
    [
        (ALARM, "ALARM", 3 * 3600, True),  # nobody has seen to it: however late
        (ALARM, "ACKNOWLEDGED", 60, False),  # someone has: the acknowledgement says so
        (ALARM, "ESCALATED", 60, False),  # the escalation says more
        (ALARM, "CLOSED", 60, False),
        (notice(NoticeKind.CLUSTER_ESCALATED, state="ESCALATED", urgency=Urgency.CRITICAL), "ESCALATED", 3 * 3600, True),
        (notice(NoticeKind.CLUSTER_ACKNOWLEDGED, state="ACKNOWLEDGED", urgency=Urgency.NORMAL), "ACKNOWLEDGED", 300, True),
        (notice(NoticeKind.CLUSTER_ACKNOWLEDGED, state="ACKNOWLEDGED", urgency=Urgency.NORMAL), "ACKNOWLEDGED", 3600, False),
        (notice(NoticeKind.CLUSTER_CLOSED, state="CLOSED", urgency=Urgency.INFO), "CLOSED", 300, True),
        (notice(NoticeKind.CLUSTER_CLOSED, state="CLOSED", urgency=Urgency.INFO), "CLOSED", 3600, False),
        (band_notice(BandFault.DISCONNECTED, True), "STALE", 300, True),
        (band_notice(BandFault.DISCONNECTED, True), "OK", 60, False),  # the band came back
        (band_notice(BandFault.BATTERY_LOW, True), "FAULT", 3600, False),  # the new run says it if still so
        (band_notice(BandFault.RADIO_LATE, True), "OK", 300, True),  # its raise the news: true after its end (news_once)
        (band_notice(BandFault.RADIO_LATE, True), "OK", 3600, False),  # but not for ever
        (ALARM, None, 300, True),  # no state stored: the age decides
        (ALARM, None, 3600, False),
    ],
)
def test_what_is_sent_late_is_what_is_still_true(n: Notification, state_now: str | None, age_s: float, sent: bool) -> None:
    assert (why_not_resend(n, state_now, age_s, MAX) is None) is sent


@pytest.mark.parametrize("in_flight", [False, True])
@pytest.mark.parametrize("fault", [BandFault.BATTERY_LOW, BandFault.RADIO_LATE])
def test_a_band_push_is_not_sent_late_once_its_alert_was_acknowledged_after_it_was_made(fault: BandFault, in_flight: bool) -> None:
    """A band alert's ack leaves its state as it was: when it came after the push was made, the
    push is seen to (acknowledged on the page: not pushed after); an ack before it (a new count
    said again since) is none of its."""
    n = band_notice(fault, True)
    assert why_not_resend(n, "FAULT", 60, MAX, in_flight, acked_t=n.created_t + 30) == "its alert was acknowledged after it was made: seen to"
    assert why_not_resend(n, "FAULT", 60, MAX, in_flight, acked_t=n.created_t - 30) is None
    assert why_not_resend(n, "FAULT", 60, MAX, in_flight) is None


TEST_ALARM = notice(NoticeKind.TEST, id=9, alert_id=0, state="TEST", cluster_key=None, count=None, started_t=None)


@pytest.mark.parametrize(
    "n, state_now, age_s, sent",
    [
        (TEST_ALARM, None, 5, True),  # made as the MQTT link connected: goes on that connection
        (ALARM, "ALARM", 5, True),
        (ALARM, "ACKNOWLEDGED", 5, False),  # seen to while the link connected: no longer true
        (notice(NoticeKind.CLUSTER_CLOSED, state="CLOSED", urgency=Urgency.INFO), "CLOSED", 3600, True),  # the send's, not the late rule's
    ],
)
def test_a_push_still_being_sent_is_not_late_but_must_still_be_true(n: Notification, state_now: str | None, age_s: float, sent: bool) -> None:
    """``in_flight`` (MqttChannel: handed over within its timeout_s, held for the CONNACK): the
    never-later rule and the age are not asked, whether it is still true is."""
    assert (why_not_resend(n, state_now, age_s, MAX, in_flight=True) is None) is sent
    assert why_not_resend(TEST_ALARM, None, 5, MAX) == "a test belongs to no alert: it is sent when it is made, never later"



# --- [daemon.http] page_url: a tap on the push opens the family page (docs/alerts.md "ntfy") -------

PAGE = "http://raspberrypi.local:8765/"
# What aiohttp adds to any request; the rest is what spasmwatch chose to send, compared exactly.
TRANSPORT_HEADERS = {"Host", "Content-Length", "Accept", "Accept-Encoding", "User-Agent"}
ACK_BUTTON = f"view, Open to acknowledge, {PAGE}, clear=true"


def ntfy_headers(seen: Seen) -> dict[str, str]:
    return {k: v for k, v in seen.headers.items() if k not in TRANSPORT_HEADERS}


def test_ntfy_with_page_url_opens_the_page_and_offers_the_button_on_an_open_alarm() -> None:
    """Found by review: tapping the 3 am push did nothing, and the parent had to find the page to
    acknowledge by hand. The exact headers: nothing else goes to the ntfy server (no LAN token)."""
    band = band_notice(BandFault.NOT_WORN, True)
    escalated = notice(NoticeKind.CLUSTER_ESCALATED, state="ESCALATED", urgency=Urgency.CRITICAL)
    acked_update = notice(NoticeKind.CLUSTER_UPDATE, state="ACKNOWLEDGED", urgency=Urgency.NORMAL)
    test = notice(NoticeKind.TEST, state="TEST", alert_id=0, cluster_key=None, count=None, started_t=None)

    async def main() -> None:
        async with http_recorder() as srv:
            ch = NtfyChannel(NtfySettings(url=srv.url + "/baby-xyz", page_url=PAGE))
            for n in (ALARM, band, UPDATE, escalated, acked_update, test):
                await ch.send(n)
            await ch.close()
            alarm, fault, update, esc, acked, tst = (ntfy_headers(s) for s in srv.seen)
            assert alarm == {
                "Title": "ALARM: possible spasm cluster (cot)", "Priority": "urgent", "Tags": "rotating_light,cluster_alarm",
                "Content-Type": "text/plain; charset=utf-8", "Idempotency-Key": "cot-3-7-1709629200000",
                "X-Sequence-ID": "sw5dbbf11d078a9127c894ca7ad2ec6f61", "Click": "http://raspberrypi.local:8765/",
                "Actions": "view, Open to acknowledge, http://raspberrypi.local:8765/, clear=true",
            }  # fmt: skip
            assert fault == {
                "Title": "not_worn (cot)", "Priority": "urgent", "Tags": "warning,band_fault",  # the band watches nothing
                "Content-Type": "text/plain; charset=utf-8", "Idempotency-Key": "cot-3-7-1709629200000",
                "X-Sequence-ID": "sw5dbbf11d078a9127c894ca7ad2ec6f61", "Click": "http://raspberrypi.local:8765/",
            }  # fmt: skip
            assert (update["Actions"], esc["Actions"], tst["Actions"]) == (ACK_BUTTON,) * 3
            assert acked["Click"] == PAGE and "Actions" not in acked  # acknowledged: nothing left to acknowledge

    asyncio.run(main())


def test_ntfy_without_page_url_sends_no_click_or_actions() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = NtfyChannel(NtfySettings(url=srv.url + "/baby-xyz"))
            await ch.send(ALARM)
            await ch.send(band_notice(BandFault.NOT_WORN, True))
            await ch.close()
            alarm, fault = (ntfy_headers(s) for s in srv.seen)
            assert alarm == {
                "Title": "ALARM: possible spasm cluster (cot)", "Priority": "urgent", "Tags": "rotating_light,cluster_alarm",
                "Content-Type": "text/plain; charset=utf-8", "Idempotency-Key": "cot-3-7-1709629200000",
                "X-Sequence-ID": "sw5dbbf11d078a9127c894ca7ad2ec6f61",
            }  # fmt: skip
            assert fault == {
                "Title": "not_worn (cot)", "Priority": "urgent", "Tags": "warning,band_fault",  # the band watches nothing
                "Content-Type": "text/plain; charset=utf-8", "Idempotency-Key": "cot-3-7-1709629200000",
                "X-Sequence-ID": "sw5dbbf11d078a9127c894ca7ad2ec6f61",
            }  # fmt: skip

    asyncio.run(main())


def test_webhook_with_page_url_adds_it_to_the_documented_json() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            ch = WebhookChannel(WebhookSettings(url=srv.url + "/hook", page_url=PAGE))
            await ch.send(ALARM)
            await ch.close()
            assert json.loads(srv.seen[0].body) == {**ALARM.to_json(), "page_url": "http://raspberrypi.local:8765/"}

    asyncio.run(main())



@pytest.mark.parametrize(
    ("status", "said"),
    [
        (404, "HTTP 404 from http://127.0.0.1:{port}: ok (no such topic there: check [channels.ntfy] url, "
              "https://SERVER/TOPIC, a topic of letters, digits, - and _ only)"),
        (403, "HTTP 403 from http://127.0.0.1:{port}: ok (this topic needs a login on that server: its access token "
              "as [channels.ntfy] token, or another topic: 'spasmwatch config add-ntfy new' makes one)"),
    ],
)
def test_an_ntfy_refusal_says_what_to_fix(status: int, said: str) -> None:
    """Found by the first-run audit: a mistyped topic ('https://ntfy.sh/my topic') or a reserved
    one failed the test alarm with 'HTTP 404 from https://ntfy.sh: {"code":40401,...}' alone,
    which a parent cannot act on. The server's own words are kept; ntfy's meaning follows."""

    async def main() -> None:
        async with http_recorder([status]) as srv:
            ch = NtfyChannel(NtfySettings(url=srv.url + "/my%20topic"))
            with pytest.raises(ChannelError) as e:
                await ch.send(notice())
            await ch.close()
            assert str(e.value) == "ntfy: " + said.format(port=srv.url.rsplit(":", 1)[1]), e.value
            assert not e.value.retryable

    asyncio.run(main())
