"""The cluster alarm is fast by construction, shown without a wall-clock assertion.

The issue asks for the alarm within 2 s of the third spasm (the design notes, docs/engineering.md:
within 1 s of it being complete). The band's part is its calm-after wait: it confirms a spasm POST_MS after the
release, on its own sample clock (tests/firmware/test_band_confirm.py). The host's part is
meant to be no wait at all: the daemon raises the alarm while it processes the third counted
spasm's EVENT record, and hands it to the channels at once, with no timer, poll interval or
batching in between. That is what these tests hold, on a clock that stands still: the daemon's
injected clock (a HandClock) and the event loop's time (a HandLoop on the same clock), so a
timer anywhere on the way (an ``asyncio.sleep``, a ``call_later``, a tick) never comes due, and
the delivery never comes. The real-time latency, loaded machine and all, is measured by
bench/alarm_latency.py, as a number, not asserted.

Real parts: the Daemon in-process, its store on disk, the webhook channel posting to aiohttp on
127.0.0.1, the MQTT channel publishing to a real mosquitto, read back by a plain paho subscriber.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from servers import Watcher, http_recorder, start_broker, stop_broker
from synthetic import HandClock, HandLoop, spasm_record, streaming

from spasmwatch.alerts import BandFault, NoticeKind, Notification
from spasmwatch.alerts.channels.dispatch import DISK_WAIT_S
from spasmwatch.alerts.channels.mqtt import MqttChannel, MqttSettings
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store
from swcore import consts as C

T = TypeVar("T")
T0 = 1_800_000_000.0  # the band's clock synced here: band ms 0 is this wall second
DEV = "cot0001"
ONSETS_MS = (10_000, 17_000, 24_000)  # three full spasms 7 s apart: a cluster at the third
DURATION_MS = 1500  # spasm_record's onset to release
HANG_S = 20.0  # real seconds before a wait that cannot end is given up: a hang guard, not a latency bound


def confirmed_at(onset_ms: int) -> float:
    """Wall s when the band confirms (and so sends) the spasm with this onset: POST_MS after its release."""
    return T0 + (onset_ms + DURATION_MS + int(C.POST_MS)) / 1000.0


async def still(work: Awaitable[T], what: str) -> T:
    """``work``'s result, awaited with the clock standing still. Its guard is a thread, not a loop
    timer (none would come due): past HANG_S real seconds the work is cancelled and the test fails."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    guard = threading.Timer(HANG_S, loop.call_soon_threadsafe, (task.cancel,))
    guard.start()
    try:
        return await task
    except asyncio.CancelledError:
        raise AssertionError(f"{what}: not done with the clock standing still: something on the way waits on a timer") from None
    finally:
        guard.cancel()


def test_the_third_spasms_record_raises_the_alarm_and_sends_it_with_the_clock_standing_still(tmp_path: Path) -> None:
    broker = start_broker(tmp_path)
    watcher = Watcher(broker.port, "#")
    clock = HandClock(T0)

    async def main() -> None:
        async with http_recorder() as hook:
            channels = {
                "webhook": WebhookChannel(WebhookSettings(url=hook.url + "/alert", name="webhook")),
                "mqtt": MqttChannel(MqttSettings(host="127.0.0.1", port=broker.port)),
            }
            with Store(tmp_path / "db.sqlite") as store:
                d = Daemon(store, [BandSpec("cot", lambda: None)], channels, clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
                try:
                    streaming(d, DEV, T0)
                    for seq, onset in enumerate(ONSETS_MS[:2]):  # two spasms: a warning, no alarm
                        clock.t = confirmed_at(onset)
                        d.on_record(DEV, spasm_record(seq, onset), clock.t)
                    await still(d.dispatcher.drain(), "the warning's deliveries")
                    assert [n.kind for n in d.notifications] == [NoticeKind.CLUSTER_WARNING]

                    # The third spasm's record arrives; from here on the clock stands still.
                    now = clock.t = confirmed_at(ONSETS_MS[2])
                    d.on_record(DEV, spasm_record(2, ONSETS_MS[2]), now)
                    # Raised while the record was processed (no await since), sent to both channels.
                    [warning, alarm] = d.notifications
                    assert (alarm.kind, alarm.count, alarm.created_t, alarm.state) == (NoticeKind.CLUSTER_ALARM, 3, now, "ALARM")
                    assert alarm.alert_id == warning.alert_id  # the heads-up goes on as the alarm
                    [row] = [a for a in store.alerts(DEV) if a.state == "ALARM"]
                    assert row.wall_s == now and set(row.channels) == {"webhook", "mqtt"}

                    await still(d.dispatcher.drain(), "the alarm's deliveries")
                    assert clock.t == now and asyncio.get_running_loop().time() == now
                    sent = {x.channel: x for x in d.dispatcher.deliveries if x.alert_id == alarm.alert_id}
                    assert {c: (x.ok, x.attempts, x.t) for c, x in sent.items()} == {"webhook": (True, 1, now), "mqtt": (True, 1, now)}
                    [body] = [json.loads(s.body) for s in hook.seen if json.loads(s.body)["kind"] == "cluster_alarm"]
                    assert (body["created_t"], body["count"], body["state"]) == (now, 3, "ALARM")
                    assert "film" in body["text"] and "pediatrician" in body["text"]
                    topic = f"spasmwatch/{DEV}/alert"
                    await still(asyncio.to_thread(watcher.wait_until, lambda: watcher.latest(topic).get("state") == "ALARM", "ALARM on MQTT"), "MQTT")
                    assert watcher.latest(topic)["updated_t"] == now
                finally:
                    await d.dispatcher.close()

    try:
        with asyncio.Runner(loop_factory=lambda: HandLoop(clock)) as runner:
            runner.run(main())
    finally:
        watcher.stop()
        stop_broker(broker)


class Snapshots(WebhookChannel):
    """The real webhook channel, noting at each send's start what ``at_send()`` says then."""

    def __init__(self, settings: WebhookSettings, at_send: Callable[[], object]) -> None:
        super().__init__(settings)
        self.at_send, self.seen_at_send = at_send, list[object]()

    async def send(self, n: Notification) -> None:
        self.seen_at_send.append((n.kind, self.at_send()))
        await super().send(n)


def test_a_clusters_records_and_sends_sync_nothing_on_the_loop_and_the_alarm_goes_once_its_record_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by bench/slow_disk.py: each spasm's record made its synced commits on the event loop
    one after the other, the event's, its cluster row's, then the transition's with its kept push:
    3 fsyncs before the alarm could go out. On an SD card whose fsync takes 1 s the alarm left 4.2 s
    after the third spasm's end (1.2 s with no wait). The event and the cluster row became lazy
    commits (a power cut loses neither: the band's flash sends the event again, the analysis
    rebuilds the row from it), the transition's synced commit taking them to disk with it: 1, 1, 3
    syncs on the loop, then 0, 0, 1, the loop still served nothing for that one (1 s). Then the
    alarm's sends, once the receiver took the push, made two more: the webhook's keep again (a FULL
    commit that wrote nothing) and the outbox's forget. None of them on the loop now: the
    transition is a lazy commit whose WAL the store's thread syncs, the push sent once it is done
    (checked at the send's start: that sync made, off the loop); the keep sees the push kept; the
    forget is lazy (a power cut may have the next start send it again, never lose it). Counted as
    the store's COMMITs at synchronous=FULL, and the WAL syncs (the real os.fsync) on the loop's
    thread and off it; the store's clock stands still, so no lazy commit is a minute past a sync."""
    from test_store_wear import HANG_S as SYNC_HANG_S
    from test_store_wear import SyncedCommits, WalSyncs

    clock = HandClock(T0)
    db = tmp_path / "db.sqlite"
    walsyncs = WalSyncs(monkeypatch)
    on_loop = lambda: sum(loop for _, loop in walsyncs.made)  # noqa: E731  (asyncio.Runner's loop: the main thread)

    async def main() -> None:
        async with http_recorder() as hook:
            hooked = Snapshots(WebhookSettings(url=hook.url + "/alert", name="webhook"), lambda: list(walsyncs.made))
            with Store(db) as store:
                store._clock = lambda: T0
                d = Daemon(store, [BandSpec("cot", lambda: None)], {"webhook": hooked}, clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
                try:
                    streaming(d, DEV, T0)
                    store._walsync.sync().result(SYNC_HANG_S)  # (its first lazy commit's sync: made)
                    walsyncs.made.clear()
                    seen = SyncedCommits(store)
                    synced, sending = [], []
                    for seq, onset in enumerate(ONSETS_MS):  # two spasms (no cluster yet), then the alarm
                        clock.t = confirmed_at(onset)
                        before = seen.synced + on_loop()
                        d.on_record(DEV, spasm_record(seq, onset), clock.t)
                        synced.append(seen.synced + on_loop() - before)
                        before = seen.synced + on_loop()
                        await still(d.dispatcher.drain(), "the deliveries")
                        sending.append(seen.synced + on_loop() - before)
                    assert [n.kind for n in d.notifications] == [NoticeKind.CLUSTER_WARNING, NoticeKind.CLUSTER_ALARM]
                    # The second spasm's heads-up is its transition with its push (since review h50:
                    # before, no heads-up came live), lazy as the alarm's: synced by the store's thread.
                    assert synced == [0, 0, 0]  # (before: [1, 1, 3], then [0, 0, 1])
                    assert sending == [0, 0, 0]  # (before: [0, 0, 2])
                    wal = (f"{db}-wal", False)  # (the WAL's syncs made so far, each off the loop)
                    assert hooked.seen_at_send == [(NoticeKind.CLUSTER_WARNING, [wal]), (NoticeKind.CLUSTER_ALARM, [wal, wal])]
                    assert store.outgoing("webhook") == []  # (forgotten: the receiver took it)
                    # Each committed: the events, the cluster with them, the heads-up and the alarm with their pushes sent.
                    [c] = list(store.clusters(DEV))
                    assert [e.seq for e in store.cluster_events(c.id)] == [0, 1, 2] and c.count == 3
                    assert [a.state for a in store.alerts(DEV)] == ["WARNING", "ALARM"]
                finally:
                    await d.dispatcher.close()

    with asyncio.Runner(loop_factory=lambda: HandLoop(clock)) as runner:
        runner.run(main())


async def told_hung_then_ended(d: Daemon, clock: HandClock, released: threading.Event) -> None:
    """The family told of a store whose sync has not ended in SYNC_HUNG_S, as of one failing
    (``storage_failing``: on the page, in the heartbeat's reason), then of its end once it ends
    (review h51: only logged, each push past DISK_WAIT_S, while the events never reached the disk)."""

    def faults() -> list[tuple[NoticeKind, BandFault | None]]:
        return [(n.kind, n.fault) for n in d.notifications if n.kind in (NoticeKind.BAND_FAULT, NoticeKind.BAND_CLEARED)]

    clock.t += K.SYNC_HUNG_S - DISK_WAIT_S - 1.0
    await asyncio.sleep(0)
    assert faults() == [] and d._unhealthy() is None  # (a slow disk's sync is not told)
    clock.t += 1.0
    await asyncio.sleep(0)
    assert faults() == [(NoticeKind.BAND_FAULT, BandFault.STORAGE_FAILING)]
    assert d._unhealthy() is not None
    released.set()
    await still(until(lambda: len(faults()) == 2), "the end of the sync told")
    assert faults()[1] == (NoticeKind.BAND_CLEARED, BandFault.STORAGE_FAILING) and d._unhealthy() is None


async def until(done: Callable[[], bool]) -> None:
    """Loop turns until ``done()``, the clock standing still (the store's thread calls back through
    the loop; ``still`` guards it)."""
    while not done():
        await asyncio.sleep(0)


@pytest.mark.parametrize("sync", ["stalled, then done", "failed", "stalled for good"])
def test_the_alarms_push_waits_for_its_transitions_sync_and_goes_if_that_sync_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync: str) -> None:
    """The alarm's transition is a lazy commit whose WAL the store's thread syncs: its push waits
    for that sync (a push goes out only once what records it is on disk), held here as on a stalled
    disk: raised, stored, not sent until the sync is done. A sync that fails (EIO) is the store
    failing, told as a synced commit's failure was (``storage_failing``), and the alarm goes all
    the same: the store never holds an alarm back. Nor does a disk whose sync never ends (a card
    failing, a USB disk pulled): the push goes after DISK_WAIT_S of the loop's clock (review h50:
    it waited for good)."""
    from test_store_wear import HANG_S as SYNC_HANG_S
    from test_store_wear import WalSyncs

    clock = HandClock(T0)

    async def main() -> None:
        async with http_recorder() as hook:
            hooked = Snapshots(WebhookSettings(url=hook.url + "/alert", name="webhook"), lambda: None)
            with Store(tmp_path / "db.sqlite") as store:
                store._clock = lambda: T0
                d = Daemon(store, [BandSpec("cot", lambda: None)], {"webhook": hooked}, clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
                try:
                    streaming(d, DEV, T0)
                    store._walsync.sync().result(SYNC_HANG_S)  # (its first lazy commit's sync: made)
                    syncs = WalSyncs(monkeypatch, hold=True, fail=sync == "failed")
                    for seq, onset in enumerate(ONSETS_MS):
                        clock.t = confirmed_at(onset)
                        d.on_record(DEV, spasm_record(seq, onset), clock.t)
                    [alarm] = [n for n in d.notifications if n.kind is NoticeKind.CLUSTER_ALARM]
                    assert [a.state for a in store.alerts(DEV)] == ["WARNING", "ALARM"]  # (committed: in the WAL; the heads-up, held too, given up for its alarm)
                    drained = asyncio.ensure_future(d.dispatcher.drain())
                    for _ in range(50):  # the loop's turns: the send's task waits, in its lane
                        await asyncio.sleep(0)
                    assert hooked.seen_at_send == [] and not drained.done()
                    if sync == "stalled for good":
                        clock.t += DISK_WAIT_S + 0.5  # past the wait (the loop's time: its timers come due)
                    else:
                        syncs.released.set()
                    await still(drained, "the alarm's delivery")
                    if sync == "stalled for good":
                        await told_hung_then_ended(d, clock, syncs.released)
                    syncs.released.set()  # (the store's thread, free for its close)
                    told = [NoticeKind.BAND_FAULT] if sync == "failed" else []  # (its push too, its sync failed too)
                    assert [kind for kind, _ in hooked.seen_at_send] == [NoticeKind.CLUSTER_ALARM, *told]
                    [x] = [x for x in d.dispatcher.deliveries if x.alert_id == alarm.alert_id]
                    assert x.ok
                    faults = [n.fault for n in d.notifications if n.kind is NoticeKind.BAND_FAULT]
                    assert faults == ([BandFault.STORAGE_FAILING] if sync != "stalled, then done" else [])
                finally:
                    await d.dispatcher.close()

    with asyncio.Runner(loop_factory=lambda: HandLoop(clock)) as runner:
        runner.run(main())
