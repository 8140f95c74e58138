"""Engine + Dispatcher + real HTTP channels: who gets what, retries, isolation, order."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spasmwatch.alerts import AlertEngine, AlertSettings, NoticeKind, Urgency
from spasmwatch.alerts.channels import (
    Caregiver,
    Delivery,
    Dispatcher,
    NtfyChannel,
    NtfySettings,
    RetrySettings,
    SoundChannel,
    SoundSettings,
    WebhookChannel,
    WebhookSettings,
)

from spasmwatch.commands.status import channel_lines
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.store import Store

from .conftest import free_port, http_recorder, in_lanes, notice
from .cot_daemon import StillClock

FAST = RetrySettings(attempts=3, first_delay_s=0.05, factor=2.0, attempt_timeout_s=5.0)


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _kinds_by_path(seen: list) -> dict[str, list[str]]:  # type: ignore[type-arg]
    out: dict[str, list[str]] = {}
    for s in seen:
        kind = s.headers.get("X-Spasmwatch-Event") or s.headers["Tags"].split(",")[-1]
        out.setdefault(s.path, []).append(kind)
    return out


def test_caregivers_routes_alerted_follow_up_and_escalation_to_everyone() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            channels = {
                "anna_push": NtfyChannel(NtfySettings(url=srv.url + "/anna", name="anna_push")),
                "ben_push": NtfyChannel(NtfySettings(url=srv.url + "/ben", name="ben_push")),
                "grandma_push": NtfyChannel(NtfySettings(url=srv.url + "/grandma", name="grandma_push")),
                "home": WebhookChannel(WebhookSettings(url=srv.url + "/home", name="home")),
            }
            people = [
                Caregiver("Anna", ("anna_push",)),
                Caregiver("Ben", ("ben_push",), min_urgency=Urgency.HIGH),
                Caregiver("Grandma", ("grandma_push",), min_urgency=Urgency.HIGH),
            ]
            d = Dispatcher(channels, people, retry=FAST)
            clock = Clock(1_709_629_200.0)
            e = AlertEngine(clock, d.submit, AlertSettings(tz=ZoneInfo("UTC"), escalate_after_s=120))
            e.on_band_state("cot", "log_nearly_full", True)  # NORMAL: Anna and the house webhook (battery_low: HIGH)
            e.on_spasm("cot", 1, 2)  # WARNING (LOW): Anna and home
            await d.drain()  # (a heads-up not through when its alarm comes is given up: Dispatcher._supersede)
            e.on_spasm("cot", 1, 3)  # ALARM: everyone
            await d.drain()
            e.label(1, "false_alarm", "Anna")  # to everyone who got cluster 1
            e.on_spasm("cot", 2, 3)  # a second cluster, left unacknowledged
            clock.t += 120
            e.tick()
            await d.close()
            got = {path: in_lanes(kinds) for path, kinds in _kinds_by_path(srv.seen).items()}
            assert got["/anna"] == ["band_fault", "cluster_warning", "cluster_alarm", "false_alarm",
                                    "cluster_alarm", "cluster_escalated"]  # fmt: skip
            assert got["/ben"] == ["cluster_alarm", "false_alarm", "cluster_alarm", "cluster_escalated"]
            assert got["/grandma"] == got["/ben"]
            assert got["/home"] == got["/anna"]
            alarm = next(x for x in d.deliveries if x.channel == "anna_push" and x.notification_id == 3)
            assert alarm.ok and alarm.caregivers == ("Anna",) and alarm.attempts == 1

    asyncio.run(main())


def test_false_alarm_reaches_only_those_alerted() -> None:
    async def main() -> None:
        async with http_recorder() as srv:
            channels = {
                "anna": WebhookChannel(WebhookSettings(url=srv.url + "/anna", name="anna")),
                "ben": WebhookChannel(WebhookSettings(url=srv.url + "/ben", name="ben")),
            }
            d = Dispatcher(channels, [Caregiver("Anna", ("anna",)), Caregiver("Ben", ("ben",), Urgency.HIGH)])
            e = AlertEngine(Clock(0.0), d.submit, AlertSettings(tz=ZoneInfo("UTC")))
            e.on_spasm("cot", 9, 2)  # only Anna gets a WARNING
            e.label(9, "false_alarm", "Anna")
            await d.close()
            assert _kinds_by_path(srv.seen) == {"/anna": ["cluster_warning", "false_alarm"]}

    asyncio.run(main())


def test_a_failing_channel_blocks_neither_the_others_nor_its_own_order() -> None:
    async def main() -> None:
        async with http_recorder([500]) as flaky, http_recorder() as good:
            done: list[Delivery] = []
            dead_url = f"http://127.0.0.1:{free_port()}/"
            channels = {
                "dead": WebhookChannel(WebhookSettings(url=dead_url, name="dead", timeout_s=2)),
                "flaky": WebhookChannel(WebhookSettings(url=flaky.url, name="flaky")),
                "good": WebhookChannel(WebhookSettings(url=good.url, name="good")),
            }
            d = Dispatcher(channels, retry=FAST, on_delivery=done.append)
            d.submit(notice(id=1))
            d.submit(notice(NoticeKind.CLUSTER_CLOSED, id=2, state="CLOSED", urgency=Urgency.INFO))
            await d.close()
            order = [(x.channel, x.notification_id, x.ok) for x in done]
            # Both good deliveries land before the dead channel has used up its retries.
            assert order.index(("good", 2, True)) < order.index(("dead", 1, False))
            assert [json.loads(s.body)["id"] for s in flaky.seen] == [1, 1, 2]  # ALARM retried, then CLOSED
            dead = [x for x in done if x.channel == "dead"]
            assert [x.attempts for x in dead] == [3, 3] and "failed" in (dead[0].error or "")

    asyncio.run(main())


def test_a_notification_is_kept_as_it_is_submitted_not_once_the_channel_is_free(tmp_path: Path) -> None:
    """Found by review: a push was kept for a resend (the outbox) only by its send, once it had the
    channel's lock; an earlier push of its alert still being sent or retried holds it (up to ~87 s), and a daemon
    killed meanwhile lost the later one. Now ``submit`` keeps it before anything waits (the daemon's
    alarms even in the commit of their transition: tests/daemon/test_faults.py, "...after a kill")."""

    async def main() -> None:
        async with http_recorder(delay_s=1.0) as slow:  # answers each push after a second
            with Store(tmp_path / "db.sqlite") as store:
                d = Dispatcher({"home": WebhookChannel(WebhookSettings(url=slow.url, name="home"), outbox=store)}, retry=FAST)
                first, update = notice(id=1), notice(NoticeKind.CLUSTER_UPDATE, id=2, urgency=Urgency.HIGH)
                d.submit(first)
                while not slow.seen:  # its POST is on the way: its alert's sends after it wait
                    await asyncio.sleep(0.01)
                d.submit(update)
                assert [r.key for r in store.outgoing("home")] == [first.key, update.key]  # at once
                await d.close()
                assert [json.loads(s.body)["id"] for s in slow.seen] == [1, 2]
                assert store.outgoing("home") == []

    asyncio.run(asyncio.wait_for(main(), 20))


def test_unknown_channel_for_a_caregiver_is_refused() -> None:
    with pytest.raises(ValueError, match="caregiver 'Anna': unknown channel"):
        Dispatcher({}, [Caregiver("Anna", ("phone",))])


def test_unknown_channel_for_a_caregiver_is_refused_at_a_reload_too_and_nothing_changes() -> None:
    """A reload (reconfigure) checks the caregivers as the start does (one _check_caregivers),
    before it routes anything anew: the old channels and caregivers stay."""
    d = Dispatcher({}, [])
    with pytest.raises(ValueError, match=r"caregiver 'Anna': unknown channel\(s\) phone"):
        d.reconfigure({}, [Caregiver("Anna", ("phone",))])
    assert (d.channels, d.caregivers) == ({}, [])


def test_a_failing_channel_shows_in_the_status_until_it_delivers_again(tmp_path: Path) -> None:
    """A phone that gets no alarms (ntfy refusing a wrong topic's token, a receiver away) was told
    only to the journal: now /api/status, 'spasmwatch status' and the page say so, live."""

    async def main() -> None:
        async with http_recorder([403]) as rx:  # refused for good: as a wrong token or topic is
            with Store(tmp_path / "db.sqlite") as store:
                hook = WebhookChannel(WebhookSettings(url=rx.url + "/hook", name="phone"))
                d = Daemon(store, [], {"phone": hook}, clock=StillClock())
                d.dispatcher.retry = FAST
                live = d.subscribe()
                assert d.status()["channels_failing"] == [] and channel_lines(d.status()) == []
                await d.dispatcher.dispatch(notice(id=1))
                [f] = d.status()["channels_failing"]
                assert (f["channel"], f["since"]) == ("phone", 1_800_000_000.0) and "403" in f["error"], f
                [line, nobody] = channel_lines(d.status())  # its one channel: nobody is reached
                assert line.startswith("NOT DELIVERED on phone since ") and "403" in line, line
                assert nobody.startswith("NO CHANNEL DELIVERS"), nobody
                assert live.get_nowait() == {"type": "status"}  # the page re-reads the status at once
                await d.dispatcher.dispatch(notice(id=2))  # answered 200: delivering again
                assert d.status()["channels_failing"] == [] and live.get_nowait() == {"type": "status"}
                assert [json.loads(s.body)["id"] for s in rx.seen] == [1, 2]
                await d.dispatcher.close()

    asyncio.run(main())


def test_status_says_when_no_channel_delivers_and_sends_a_speaker_to_this_computer_not_the_internet(tmp_path: Path) -> None:
    """Every channel failing was shown as each one's line ending "the other channels still work",
    and a speaker with no audio player was sent to check the internet connection. Real channels:
    a sound player that fails (a real process) and a webhook refused by a receiver on 127.0.0.1."""

    async def main() -> None:
        async with http_recorder([403, 403]) as rx:
            with Store(tmp_path / "db.sqlite") as store:
                hook = WebhookChannel(WebhookSettings(url=rx.url + "/hook", name="webhook:home"))
                sound = SoundChannel(SoundSettings(command=("false",), bell=False))
                d = Daemon(store, [], {"sound": sound, "webhook:home": hook}, clock=StillClock())
                d.dispatcher.retry = FAST
                await d.dispatcher.send_test(notice(id=1), ["webhook:home"])
                [hook_line, others] = channel_lines(d.status())
                assert "internet connection" in hook_line and "still work" not in hook_line, hook_line
                assert others == "the other channels (sound) are not failing", others
                await d.dispatcher.dispatch(notice(id=2))
                sound_line, hook_line, nobody = channel_lines(d.status())
                assert sound_line.startswith("NOT DELIVERED on sound since ") and "internet" not in sound_line, sound_line
                assert nobody.startswith("NO CHANNEL DELIVERS: an alarm now reaches nobody"), nobody
                # Found by the docs run: 'status --config F' sent the family to a bare 'spasmwatch test-alarm',
                # which asks the daemon of the default config (another daemon, or none).
                *_, hook_line, nobody = channel_lines(d.status(), config="/media/usb disk/cot.toml")
                assert "then \"spasmwatch test-alarm --channel webhook:home --config '/media/usb disk/cot.toml'\")" in hook_line, hook_line
                assert nobody.endswith("fix one, then \"spasmwatch test-alarm --config '/media/usb disk/cot.toml'\""), nobody
                await d.dispatcher.close()

    asyncio.run(main())


def test_a_channel_removed_by_a_reload_right_after_a_submit_still_sends_what_was_submitted() -> None:
    """A reload (reconfigure) between a submit and its send task's first step: the send looked its
    channel up by name when the task began, and a channel taken out of the config raised KeyError
    there (the push was never sent). It goes out on the object it was routed to."""

    async def main() -> None:
        async with http_recorder() as srv:
            hook = WebhookChannel(WebhookSettings(url=srv.url + "/home", name="home"))
            d = Dispatcher({"home": hook}, [Caregiver("Anna", ("home",))], retry=FAST)
            e = AlertEngine(Clock(1_709_629_200.0), d.submit, AlertSettings(tz=ZoneInfo("UTC")))
            e.on_spasm("cot", 1, 3)  # ALARM: its send task is created, not yet run
            retired = d.reconfigure({}, [])  # the reload takes the webhook out, in the same step
            await d.drain()
            assert retired == [hook]
            assert [x.ok for x in d.deliveries] == [True] and [s.path for s in srv.seen] == ["/home"]
            await hook.close()

    asyncio.run(main())
