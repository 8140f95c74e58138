"""A band whose radio refused to start at boot (STATUS ERR_RADIO; docs/firmware.md, "Starting the radio
first"): the real firmware under micropython with run.py --radio-refuse, the real daemon. The band
senses and logs to flash until its radio comes up (band/app.py _RADIO_RETRY_MS); the family is told
once why it showed as disconnected and that nothing was lost; what to do only when it repeats (an
earlier boot of the band had it too: once is a one-off); the log says it once per boot. The radio up
(the band streaming), the band card needs no attention: the fault ends, nothing pushed for it, its
raise kept in the alert history. Until 2026-12-07 the host ignored ERR_RADIO: the family heard only
"band disconnected", with no word of why, nor of the events that came in the backfill; then, until
review h47, the first late start was already told what to do if it kept happening, and the band
card said the band needed attention for the rest of the boot, its radio up and streaming."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from servers import http_recorder
from synthetic import HandClock, caught_up, connected, streaming, supine, write_csv

from spasmwatch.alerts import AlertSettings, BandFault, Notification, NoticeKind, QuietHours, Urgency
from spasmwatch.alerts.channels import NtfyChannel, NtfySettings, RetrySettings
from spasmwatch.alerts import messages as M
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.http import HttpServer
from spasmwatch.store import Store
from spasmwatch.store.rows import StatusRow
from spasmwatch.transport.simband import firmware_dir
from swcore import protocol as P

from .conftest import RATE_HZ, rig

# The app's wait between starts of a radio that refused (a MicroPython module, read as text here).
_found = re.search(r"_RADIO_RETRY_MS = const\((\d+)\)", (firmware_dir() / "band" / "app.py").read_text())
assert _found
RETRY_S = int(_found[1]) / 1000
SPEED = 20  # virtual s per real s: the radio's retry in 15 real s
DEVICE = "band0000"  # the band's own id; "band0" its label (rig)
SAID = "its radio refused to start at boot"
PARIS = ZoneInfo("Europe/Paris")


def test_a_band_whose_radio_started_late_is_told_once_its_card_clears_once_streaming_and_a_repeat_says_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A cluster in the first 2 minutes, the recording running on past the radio's start.
    t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=2 * RETRY_S + 240, spasms=tuple(20.0 + 8 * i for i in range(8)), seed=4)
    csv = write_csv(tmp_path / "late.csv", t, acc, gyro)
    # Both starts at boot refused: run.py's (main.py's on a board) and the app's as it builds.
    refuse = ("--radio-refuse", "2")

    async def main() -> tuple[list[StatusRow], list[Notification], list[list[str]], list[str], int]:
        # No hold: the band's time runs on while no radio can reach it, as a board's does.
        async with rig(tmp_path, csv, speed=SPEED, band_args=refuse, hold=False) as r:
            assert r.daemon is not None
            d, st = r.daemon, r.store
            heard: set[float] = set()  # the times of the STATUS the daemon heard

            def statuses(n: int) -> bool:
                heard.update(b.status_t for b in d.bands if b.status_t is not None)
                return len(heard) >= n

            def streaming() -> bool:
                return d.status()["bands"][0]["state"] == "STREAMING"

            def told() -> list[Notification]:
                return [n for n in d.notifications if n.fault is BandFault.RADIO_LATE]

            await r.wait_for(lambda: statuses(1), 90, "the band's first STATUS")
            first = st.latest_status(DEVICE)
            assert first is not None and first.next_seq is not None
            logged = first.next_seq
            await r.wait_for(streaming, 60, "the band streaming")
            await r.wait_for(lambda: len(list(st.events(DEVICE))) >= logged, 60, "the backfill of the events logged meanwhile")
            await r.wait_for(lambda: statuses(3), 60, "more STATUS of the same boot")  # none says it again
            faults = [d.status()["bands"][0]["faults"]]
            events = len(list(st.events(DEVICE)))
            # The band switched off and on: its radio late again (boot + 1, the same flash and address: its bond kept).
            off = r.bands[0]
            off.kill()
            r.start_band(0, refuse, port=off.port, hold=False)
            await r.wait_for(lambda: len(told()) >= 2, 120, "the second boot's radio_late")
            again = st.latest_status(DEVICE)
            assert again is not None
            await r.wait_for(streaming, 60, "the band streaming again")
            await r.wait_for(lambda: "disconnected" not in d.status()["bands"][0]["faults"], 60, "'Band reconnected'")
            faults.append(d.status()["bands"][0]["faults"])
            kinds = [a.state for a in st.alerts(DEVICE) if a.kind == BandFault.RADIO_LATE.value]
            cleared = [n for n in d.notifications if n.kind is NoticeKind.BAND_CLEARED and n.fault is BandFault.RADIO_LATE]
            assert cleared == [], cleared  # its end no news: the raise said the radio is up
            return [first, again], told(), faults, kinds, events

    with caplog.at_level(logging.INFO, logger="spasmwatch.daemon"):
        (first, again), notices, faults, kinds, events = asyncio.run(asyncio.wait_for(main(), 360))
    for rec in (first, again):
        assert rec.errors is not None and rec.errors & P.ERR_RADIO, rec
        assert rec.uptime_s is not None and rec.uptime_s >= RETRY_S, rec
    assert again.boot == first.boot + 1, (first, again)
    assert events >= 8, "the cluster logged while the radio was off came in the backfill"
    minutes = [round(rec.uptime_s / 60) for rec in (first, again) if rec.uptime_s is not None]
    assert [(n.kind, n.urgency) for n in notices] == [(NoticeKind.BAND_FAULT, Urgency.NORMAL)] * 2, notices  # once a boot, no alarm
    once, repeat = (n.text for n in notices)
    assert once == M.band_fault("band0", BandFault.RADIO_LATE, count=minutes[0]).text, once
    assert f"about {minutes[0]} min later" in once and "switch the band off and on" not in once, once  # a one-off: nothing to do
    assert repeat == M.band_fault("band0", BandFault.RADIO_LATE, way="again", count=minutes[1]).text, repeat
    assert f"about {minutes[1]} min later" in repeat and "switch the band off and on" in repeat, repeat
    # Streaming, the card needs no attention (the page's band card, 'spasmwatch status', MQTT's band state).
    assert faults == [[], []], faults
    assert kinds == ["FAULT", "OK", "FAULT", "OK"], kinds  # each raise and its end kept in the alert history
    said = [m for m in caplog.messages if SAID in m]
    assert len(said) == 2 and f"about {minutes[0]} min later" in said[0], said


def _status(boot: int, uptime_s: float) -> dict[str, Any]:
    """The band's STATUS of ``boot``, ``uptime_s`` into it, its radio late (ERR_RADIO)."""
    return {"type": "status", "battery_pct": 80, "worn": 1, "log_fill_pct": 3, "flags": 0x50, "errors": P.ERR_RADIO,
            "boot": boot, "uptime_s": int(uptime_s), "next_seq": 0}  # fmt: skip


@contextmanager
def _run(tmp_path: Path, t: float, **kw: Any) -> Iterator[tuple[Daemon, HandClock]]:
    """A daemon's run from ``t`` on the store in ``tmp_path`` (a real file, kept across runs), its
    band "cot" driven by hand (``synthetic.streaming``); ``kw``: the Daemon's."""
    store = Store(tmp_path / "spasmwatch.db")
    try:
        clock = HandClock(t)
        kw.setdefault("disconnect_alert_s", 1e9)
        yield Daemon(store, [BandSpec("cot", lambda: None)], clock=clock, **kw), clock  # type: ignore[arg-type,return-value]
    finally:
        store.close()


def _told(d: Daemon) -> list[Notification]:
    return [n for n in d.notifications if n.fault is BandFault.RADIO_LATE]


def _shown(d: Daemon) -> list[dict[str, Any]]:
    """The radio_late alerts open, as the page and 'spasmwatch status' show them (/api/status)."""
    return [a for a in d.status()["alerts"] if a["kind"] == BandFault.RADIO_LATE.value]


def test_a_daemon_restarted_within_the_boot_tells_it_no_more_and_the_next_late_boot_says_what_to_do(tmp_path: Path) -> None:
    """The daemon's side alone (its session driven by hand, ``synthetic.streaming``; a real store):
    the raise ended as the band streams is in the alert history, so a daemon restarted within that
    boot hears its STATUS repeat ERR_RADIO as told (a raise since the boot began: the STATUS's time
    less its uptime), and the band's next late boot is a repeat."""
    t0 = float(int(time.time()))

    def run(t: float, *heard: tuple[int, int]) -> list[Notification]:
        """A daemon's run from ``t``: the band streaming, then its STATUS (boot, uptime) 10 s apart."""
        with _run(tmp_path, t) as (d, clock):
            streaming(d, DEVICE, t)
            for boot, uptime_s in heard:
                d.on_record(DEVICE, _status(boot, uptime_s), clock.t)
                assert d.status()["bands"][0]["faults"] == [], "streaming: no fault on the card"
                clock.t += 10
            return _told(d)

    first = run(t0, (1, 360), (1, 370))
    assert [n.text for n in first] == [M.band_fault("cot", BandFault.RADIO_LATE, count=6).text]
    assert run(t0 + 60, (1, 420)) == []  # restarted within boot 1: told already
    again = run(t0 + 3600, (2, 330))  # switched off and on, late again
    assert [n.text for n in again] == [M.band_fault("cot", BandFault.RADIO_LATE, way="again", count=6).text]


def test_a_radio_late_open_at_a_restart_is_carried_on_in_the_words_it_was_told(tmp_path: Path) -> None:
    """A run stopped after a repeat's radio_late was told and before its band streamed (which ends
    it): the next run carries it on with its "again". Until review h47 (task G) it came back in a
    first late start's words ("Once is nothing to act on") on the page and in 'spasmwatch status'
    until the band streamed."""
    t0 = float(int(time.time()))
    with _run(tmp_path, t0) as (d, clock):  # boot 1 late: a one-off, ended as the band streams
        streaming(d, DEVICE, t0)
        d.on_record(DEVICE, _status(1, 360), clock.t)
    with _run(tmp_path, t0 + 3600) as (d, clock):  # boot 2 late again; the run stops before it streams
        connected(d, DEVICE)
        d.on_record(DEVICE, _status(2, 330), clock.t)
        [told] = _shown(d)
    with _run(tmp_path, t0 + 3660) as (d, clock):
        connected(d, DEVICE)
        carried = _shown(d)
        d.on_record(DEVICE, _status(2, 390), clock.t)  # its boot's STATUS: told already
        card = d.status()["bands"][0]["faults"]
        caught_up(d, DEVICE, clock.t)
        assert _told(d) == [] and _shown(d) == [] and d.status()["bands"][0]["faults"] == []  # streaming ends it
    again = M.band_fault("cot", BandFault.RADIO_LATE, way="again", count=6)
    assert (told["title"], told["text"]) == (again.title, again.text), told
    assert [(a["id"], a["text"]) for a in carried] == [(told["id"], again.text)], carried
    assert card == [BandFault.RADIO_LATE.value], card


def _paris(day: int, hhmm: str) -> float:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 12, day, h, m, tzinfo=PARIS).timestamp()


# Quiet hours hold radio_late (QUIET_FAULTS_DEFAULT): the family's zone given, not the machine's.
NIGHT = AlertSettings(quiet_hours=QuietHours.parse("22:00-07:00"), tz=PARIS)


def test_a_radio_late_held_by_quiet_hours_and_ended_is_told_when_they_end_across_a_restart(tmp_path: Path) -> None:
    """Late at 23:30, held by quiet hours, ended as the band streams; the daemon restarted at 03:00.
    Until review h47 (task G) the held notice was in memory only: the restart forgot it and the
    family never heard why the band showed as disconnected, nor that its events came in late. Once
    sent, it is told: a restart after 07:00 carries on nothing, its card clear (its sending stored as
    a raise, it came back open until the band streamed)."""
    boot_t = _paris(7, "23:24")  # boot 1 began; its radio came up 6 min later

    def at(d: Daemon, clock: HandClock, t: float) -> list[Notification]:
        clock.t = t
        d.on_record(DEVICE, _status(1, t - boot_t), t)  # its boot's STATUS, ERR_RADIO set all along
        d._tick()
        assert d.status()["bands"][0]["faults"] == [] and _shown(d) == [], "streaming: nothing on the card"
        return _told(d)

    with _run(tmp_path, _paris(7, "23:30"), alert_settings=NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        assert at(d, clock, clock.t) == []  # held back; ended at once
    with _run(tmp_path, _paris(8, "03:00"), alert_settings=NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        assert at(d, clock, clock.t) == [] and at(d, clock, _paris(8, "06:59")) == []
        sent = at(d, clock, _paris(8, "07:00"))
        assert at(d, clock, _paris(8, "07:10")) == sent  # once
    with _run(tmp_path, _paris(8, "07:30"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        assert _shown(d) == [], "told, ended: nothing carried on, not even before the band streams"
        caught_up(d, DEVICE, clock.t)
        assert at(d, clock, clock.t) == [] and at(d, clock, _paris(8, "08:00")) == []
    assert [(n.kind, n.text) for n in sent] == [(NoticeKind.BAND_FAULT, M.band_fault("cot", BandFault.RADIO_LATE, count=6).text)], sent


@pytest.mark.parametrize("held", [False, True], ids=["at_once", "after_quiet_hours"])
def test_a_radio_late_push_a_channel_failed_goes_in_the_resend_pass_after_its_band_streams(tmp_path: Path, held: bool) -> None:
    """The phone's receiver answers the push 503 (kept in the outbox); the band streams, which ends
    the fault (its end no news); the resend pass sends the push. Its raise is the news, still true
    ("the radio started late; nothing lost"): until review h47 (task G) the pass dropped it, as
    "its alert is OK now, no longer FAULT", and the family never heard of it."""
    t = _paris(7, "23:30" if held else "21:30")

    async def main() -> tuple[list[Notification], int, int, list[Any]]:
        async with http_recorder([503]) as phone:
            ntfy = NtfyChannel(NtfySettings(url=phone.url + "/ada", name="ntfy:phone", min_urgency=Urgency.INFO))
            with _run(tmp_path, t, channels={"ntfy:phone": ntfy}, alert_settings=NIGHT) as (d, clock):
                d.dispatcher.retry = RetrySettings(attempts=1)
                connected(d, DEVICE)
                d.on_record(DEVICE, _status(1, 360), clock.t)
                caught_up(d, DEVICE, clock.t)  # the fault ends
                if held:
                    clock.t = _paris(8, "07:00")
                    d.engine.tick()
                await d.dispatcher.drain()
                failed = len(phone.seen)
                d._resend_kept()
                await d.dispatcher.drain()
                kept = d.store.outgoing("ntfy:phone")
                await d.dispatcher.close()
                return _told(d), failed, len(phone.seen), kept

    told, failed, seen, kept = asyncio.run(asyncio.wait_for(main(), 60))
    assert [n.kind for n in told] == [NoticeKind.BAND_FAULT], told
    assert (failed, seen, kept) == (1, 2, []), (failed, seen, kept)


async def _acked_on_page(d: Daemon, alert_id: int) -> tuple[int, Any]:
    """Anna acknowledges alert ``alert_id`` on the page: POST /api/alerts/ID/ack to the daemon's own
    HTTP server on 127.0.0.1; the answer's status and body."""
    server = HttpServer(d, host="127.0.0.1", port=0)
    host, port = await server.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.post(f"http://{host}:{port}/api/alerts/{alert_id}/ack", json={"by": "Anna"}) as r:
                return r.status, await r.json()
    finally:
        await server.stop()


def _page_ack(d: Daemon, alert_id: int) -> tuple[int, Any]:
    """``_acked_on_page`` from outside a loop."""
    return asyncio.run(asyncio.wait_for(_acked_on_page(d, alert_id), 30))


# The band notices quiet hours hold when listed (radio_late by default), each held at 23:30 and
# acknowledged on the page, with how the band's STATUS says it (radio_late ends as the band streams);
# None: disconnected, the band away (the daemon's finding, raised after DISCONNECT_S).
HELD_KINDS: dict[BandFault, dict[str, int] | None] = {
    BandFault.RADIO_LATE: {},
    BandFault.BATTERY_LOW: {"errors": 0, "flags": 0x50 | P.SF_LOW_BATTERY},
    BandFault.NOT_WORN: {"errors": 0, "worn": 0},
    BandFault.DISCONNECTED: None,
}
NIGHT_ALL = AlertSettings(quiet_hours=QuietHours.parse("22:00-07:00"), tz=PARIS, quiet_faults=frozenset(HELD_KINDS))
DISCONNECT_S = 60.0


@pytest.mark.parametrize(
    ("fault", "restart"),
    [pytest.param(f, r, id=f"{f.value}-{'restart_at_3' if r else 'same_run'}") for f in HELD_KINDS for r in (False, True)
     if not (r and f is BandFault.DISCONNECTED)],  # (a band away is carried on as it connects: test_restart_link_alert)
)  # fmt: skip
def test_a_held_back_band_notice_acknowledged_on_the_page_is_not_pushed_when_the_hold_ends(
    tmp_path: Path, fault: BandFault, restart: bool
) -> None:
    """Held back by quiet hours at 23:30, shown on the page, acknowledged there (POST
    /api/alerts/ID/ack, as the page does): at 07:00 nothing is pushed for it, neither by the run
    that held it nor by one restarted at 03:00, and its stored ack says it was not sent. Until
    review h48 the release at 07:00 pushed it all the same: "Battery low" to the phones of a family
    that had seen to it the night before; a radio_late too, its end meanwhile (the band streaming)
    making it an untold raise; and a restart read the held raise as held still, the ack after it
    unread."""
    boot_t = _paris(7, "23:24")
    said = HELD_KINDS[fault]

    def band(d: Daemon, t: float) -> None:
        """The band's STATUS at ``t`` (none for a band away)."""
        if said is not None:
            d.on_record(DEVICE, {**_status(1, t - boot_t), **said}, t)

    def pushed(d: Daemon) -> list[Notification]:
        return [n for n in d.notifications if n.fault is fault]

    def at_seven(d: Daemon, clock: HandClock) -> list[Notification]:
        for hhmm in ("06:59", "07:00", "07:10"):
            clock.t = _paris(8, hhmm)
            band(d, clock.t)
            d._tick()
        return pushed(d)

    with _run(tmp_path, _paris(7, "23:30"), alert_settings=NIGHT_ALL, disconnect_alert_s=DISCONNECT_S) as (d, clock):
        if said is None:
            clock.t += DISCONNECT_S
            d._tick()
        else:
            connected(d, DEVICE)
            band(d, clock.t)
        [shown] = [a for a in d.status()["alerts"] if a["kind"] == fault.value]
        assert shown["held_back"] is True, shown
        code, acked = _page_ack(d, shown["id"])
        assert code == 200 and acked["acked_by"] == "Anna", acked
        if said is not None:
            caught_up(d, DEVICE, clock.t)  # streaming: a radio_late ends
        d._tick()
        late = [] if restart else at_seven(d, clock)
        history = d.store.alert_history(shown["device"], shown["id"])
    if restart:
        with _run(tmp_path, _paris(8, "03:00"), alert_settings=NIGHT_ALL) as (d, clock):
            streaming(d, DEVICE, clock.t)
            band(d, clock.t)
            d._tick()
            late = at_seven(d, clock)
    assert late == [], late
    [row] = [r for r in history if r.by is not None]
    assert row.by == "Anna" and row.channels == () and "not sent" in row.text, row


def _rows_before_way(store: Store, ended: bool) -> None:
    """What the code before ``; way`` (until ea8d1ca6; its 40cf872b run by hand, NIGHT, two runs)
    stored of a band late at boot 1 (20:00, told at once, ended as it streamed), then late again at
    boot 2 and held by quiet hours at 23:30 (its run stopped after it streamed, ``ended``, or
    before): the repeat's "again" was in its push's words and its log line, in no row."""
    late = _paris(7, "23:30")
    for t, alert_id, text in ((_paris(7, "20:00"), 1, "band reported it; count 6"), (late, 2, "held back: quiet hours; count 6")):
        store.add_alert(None, DEVICE, BandFault.RADIO_LATE.value, "FAULT", t, text, alert_id=alert_id)
        if alert_id == 1 or ended:
            store.add_alert(None, DEVICE, BandFault.RADIO_LATE.value, "OK", t, "band reported it", alert_id=alert_id)
    store.add_status(DEVICE, late, _status(2, 360))


@pytest.mark.parametrize("ended", [True, False], ids=["ended", "open"])
def test_a_repeat_stored_before_its_way_was_kept_is_told_after_an_upgrade_in_a_repeat_s_words_once(tmp_path: Path, ended: bool) -> None:
    """The store of a run of the code before ``; way``: the repeat held at 23:30 and untold. The
    upgraded daemon, started at 03:00, tells it at 07:00 in a repeat's words (what to do), as the
    run before would have, and shows them on the page meanwhile; a restart after tells nothing. A
    row without ``; way`` tells nothing of the way: until review h48 it was read as a first late
    start's, "Once is nothing to act on", to a family whose band's radio had failed twice."""
    store = Store(tmp_path / "spasmwatch.db")
    _rows_before_way(store, ended)
    store.close()
    with _run(tmp_path, _paris(8, "03:00"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        shown = [a["text"] for a in _shown(d)]
        caught_up(d, DEVICE, clock.t)
        for hhmm in ("06:59", "07:00", "07:10"):
            clock.t = _paris(8, hhmm)
            d.on_record(DEVICE, _status(2, clock.t - _paris(7, "23:24")), clock.t)
            d._tick()
        sent = [n.text for n in _told(d)]
    with _run(tmp_path, _paris(8, "07:30"), alert_settings=NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        d._tick()
        assert _told(d) == [] and _shown(d) == []
    again = M.band_fault("cot", BandFault.RADIO_LATE, way="again", count=6).text
    assert shown == ([] if ended else [again]), shown
    assert sent == [again], sent


@pytest.mark.parametrize("restart", [False, True], ids=["same_run", "restart"])
def test_a_late_boot_after_one_that_never_streamed_is_told_as_its_own(tmp_path: Path, restart: bool) -> None:
    """Boot 2's radio late, told, and the band switched off before it streamed (which ends it), or
    the daemon stopped then and started again as the band came back; boot 3's radio late too, its
    minutes the same: told, in a repeat's words, as an alert of its own. Until review h48 boot 2's
    alert, open (carried on by the restart), took boot 3's raise as a repeat of its own with the
    same count: nothing told, the log alone said it."""
    t0 = float(int(time.time()))
    with _run(tmp_path, t0) as (d, clock):  # boot 1 late: a one-off, ended as the band streams
        streaming(d, DEVICE, t0)
        d.on_record(DEVICE, _status(1, 360), clock.t)
    with _run(tmp_path, t0 + 3600) as (d, clock):
        connected(d, DEVICE)
        d.on_record(DEVICE, _status(2, 360), clock.t)
        first = [(a["id"], a["text"]) for a in _shown(d)]
        if not restart:
            clock.t += 600
            connected(d, DEVICE)  # switched off and on: connected again
            d.on_record(DEVICE, _status(3, 360), clock.t)
            told = _told(d)[1:]
            shown = _shown(d)
    if restart:
        with _run(tmp_path, t0 + 4200) as (d, clock):
            connected(d, DEVICE)
            d.on_record(DEVICE, _status(3, 360), clock.t)
            told = _told(d)
            shown = _shown(d)
    again = M.band_fault("cot", BandFault.RADIO_LATE, way="again", count=6).text
    assert [n.text for n in told] == [again], told
    assert len(first) == 1 and [(a["text"], a["id"] != first[0][0]) for a in shown] == [(again, True)], (first, shown)


@pytest.mark.parametrize("restart", [False, True], ids=["same_run", "restart_at_3"])
def test_a_held_radio_late_acknowledged_on_the_page_just_after_it_ended_is_not_pushed(tmp_path: Path, restart: bool) -> None:
    """Held by quiet hours at 23:30 and shown on the page; the band streams seconds later, which
    ends it (the page showing it still), and Anna acknowledges it there: taken (200), and at 07:00
    nothing is pushed, by that run or one restarted at 03:00. Until review h48 the ack found no alert
    (404 'no alert N': ended, only its untold raise kept) and the raise was pushed at 07:00."""
    boot_t = _paris(7, "23:24")

    def at(d: Daemon, clock: HandClock, hhmm: str) -> list[Notification]:
        clock.t = _paris(8, hhmm)
        d.on_record(DEVICE, _status(1, clock.t - boot_t), clock.t)
        d._tick()
        return _told(d)

    with _run(tmp_path, _paris(7, "23:30"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        d.on_record(DEVICE, _status(1, clock.t - boot_t), clock.t)
        [shown] = _shown(d)
        clock.t += 5
        caught_up(d, DEVICE, clock.t)  # streaming: it ends
        assert _shown(d) == []
        code, acked = _page_ack(d, shown["id"])
        late = [] if restart else at(d, clock, "07:00") + at(d, clock, "07:10")
        history = d.store.alert_history(DEVICE, shown["id"])
    if restart:
        with _run(tmp_path, _paris(8, "03:00"), alert_settings=NIGHT) as (d, clock):
            streaming(d, DEVICE, clock.t)
            late = at(d, clock, "03:00") + at(d, clock, "07:00") + at(d, clock, "07:10")
            assert _shown(d) == []
    assert code == 200 and (acked["acked_by"], acked["state"]) == ("Anna", "OK"), (code, acked)
    assert late == [], late
    assert [(r.state, r.by) for r in history] == [("FAULT", None), ("OK", None), ("OK", "Anna")], history


@pytest.mark.parametrize("fault", [BandFault.RADIO_LATE, BandFault.BATTERY_LOW], ids=lambda f: f.value)
def test_a_band_push_a_channel_failed_is_not_sent_late_once_acknowledged_on_the_page(tmp_path: Path, fault: BandFault) -> None:
    """The phone's receiver answers the push 503 (kept in the outbox for the resend pass); Anna
    acknowledges the alert on the page meanwhile (the real HTTP API); the resend pass drops the
    push, the receiver asked nothing more: seen to, as a held one acknowledged is never sent. Until
    review h48 a band alert's ack left its state as it was, and the pass sent it after the ack."""
    said = HELD_KINDS[fault] or {}

    async def main(d: Daemon, clock: HandClock, phone: Any) -> tuple[int, int, list[Any]]:
        d.dispatcher.retry = RetrySettings(attempts=1)
        connected(d, DEVICE)
        d.on_record(DEVICE, {**_status(1, 360), **said}, clock.t)
        await d.dispatcher.drain()
        failed = len(phone.seen)
        [shown] = [a for a in d.status()["alerts"] if a["kind"] == fault.value]
        code, _ = await _acked_on_page(d, shown["id"])
        assert code == 200
        caught_up(d, DEVICE, clock.t)  # streaming: a radio_late ends
        clock.t += 60
        d._resend_kept()
        await d.dispatcher.drain()
        kept = d.store.outgoing("ntfy:phone")
        await d.dispatcher.close()
        return failed, len(phone.seen), kept

    async def rig() -> tuple[int, int, list[Any]]:
        async with http_recorder([503]) as phone:
            ntfy = NtfyChannel(NtfySettings(url=phone.url + "/ada", name="ntfy:phone", min_urgency=Urgency.INFO))
            with _run(tmp_path, _paris(7, "21:30"), channels={"ntfy:phone": ntfy}, alert_settings=NIGHT) as (d, clock):
                return await main(d, clock, phone)

    failed, seen, kept = asyncio.run(asyncio.wait_for(rig(), 60))
    assert (failed, seen, kept) == (1, 1, []), (failed, seen, kept)


def test_a_radio_late_told_ended_by_the_code_before_its_sending_row_was_ok_is_not_carried_on_open(tmp_path: Path) -> None:
    """The code until fcb714f4 (its 40cf872b run by hand) stored the sending of a held radio_late
    that had ended meanwhile as a raise (FAULT, 'sent: held back until now, ended meanwhile'). The
    upgraded daemon reads it as what it is, told and ended: nothing on the page nor the band's card
    as the band connects, nothing told at its boot's STATUS. Until review h48 it carried it on open,
    'needs attention' until the band streamed."""
    store = Store(tmp_path / "spasmwatch.db")
    _rows_before_way(store, ended=True)
    store.add_alert(None, DEVICE, BandFault.RADIO_LATE.value, "FAULT", _paris(8, "07:00"),
                    "sent: held back until now, ended meanwhile; count 6", alert_id=2)  # fmt: skip
    store.close()
    with _run(tmp_path, _paris(8, "07:30"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        shown, card = _shown(d), d.status()["bands"][0]["faults"]
        d.on_record(DEVICE, _status(2, clock.t - _paris(7, "23:24")), clock.t)
        caught_up(d, DEVICE, clock.t)
        d._tick()
        assert _told(d) == [] and _shown(d) == []
    assert (shown, card) == ([], []), (shown, card)


@pytest.mark.parametrize("back", ["10 12:00", "10 03:00", "8 07:05"], ids=["3_days_later_at_noon", "3_days_later_at_3", "at_7_05"])
def test_a_held_radio_late_that_ended_is_not_pushed_by_a_daemon_restarted_days_later(tmp_path: Path, back: str) -> None:
    """Late at 23:30, held by quiet hours (22:00-07:00), ended a minute later as the band streamed;
    the daemon then stopped, and started again 3 days later (at noon, or at 03:00 and on past 07:00),
    or at 07:05 the next morning. Days late, its news ("the radio started late, nothing lost") is
    none: it is not pushed, stored as not sent and why, and a restart after carries nothing on. The
    morning after, it is still sent (the hold was the family's choice). Until review h48 the
    restarted daemon pushed it, 3 days late."""
    day, hhmm = back.split()
    boot_t = _paris(7, "23:24")
    with _run(tmp_path, _paris(7, "23:30"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        d.on_record(DEVICE, _status(1, clock.t - boot_t), clock.t)
        [shown] = _shown(d)
        clock.t += 60
        caught_up(d, DEVICE, clock.t)  # streaming: it ends
        d._tick()
        assert _told(d) == []
    told: list[Notification] = []
    start = _paris(int(day), hhmm)
    for t in (start, start + 5, _paris(int(day), "07:00") if start < _paris(int(day), "07:00") else start + 600):
        with _run(tmp_path, t, alert_settings=NIGHT) as (d, clock):
            streaming(d, DEVICE, clock.t)
            d.on_record(DEVICE, {**_status(2, 600), "errors": 0}, clock.t)  # a boot of its own since, its radio on time
            d._tick()
            told += _told(d)
            history = d.store.alert_history(DEVICE, shown["id"])
    if back == "8 07:05":
        assert [n.text for n in told] == [M.band_fault("cot", BandFault.RADIO_LATE, count=6).text], told
        return
    assert told == [], told
    dropped = [r for r in history if "too late to be news" in r.text]
    assert [(r.state, r.by, r.channels) for r in dropped] == [("OK", None, ())], history
    assert dropped[0].text.startswith("not sent: carried over a daemon stop"), dropped


def test_a_held_battery_low_still_low_after_days_away_is_told_as_it_is_now(tmp_path: Path) -> None:
    """A fault still open is no old news: "Battery low" held at 23:30, the daemon stopped, started
    again 3 days later at 03:00, the band's STATUS saying it still: pushed at 07:00 (the age limit of
    a held notice carried over a stop is for a raise untold that ended, ``Daemon._tell_by``)."""
    low = {**_status(1, 360), **(HELD_KINDS[BandFault.BATTERY_LOW] or {})}
    with _run(tmp_path, _paris(7, "23:30"), alert_settings=NIGHT_ALL) as (d, clock):
        streaming(d, DEVICE, clock.t)
        d.on_record(DEVICE, low, clock.t)
        d._tick()
        assert [a["held_back"] for a in d.status()["alerts"] if a["kind"] == "battery_low"] == [True]
    with _run(tmp_path, _paris(10, "03:00"), alert_settings=NIGHT_ALL) as (d, clock):
        streaming(d, DEVICE, clock.t)
        for hhmm in ("03:00", "06:59", "07:00", "07:10"):
            clock.t = _paris(10, hhmm)
            d.on_record(DEVICE, low, clock.t)
            d._tick()
        told = [(n.fault, _paris(10, "07:00") <= n.created_t) for n in d.notifications]
    assert told == [(BandFault.BATTERY_LOW, True)], told


@pytest.mark.parametrize("fault", [f for f in HELD_KINDS if f is not BandFault.RADIO_LATE], ids=lambda f: f.value)
def test_an_ack_of_a_band_alert_that_had_already_ended_is_answered_409_alert_over(tmp_path: Path, fault: BandFault) -> None:
    """The page shows a band alert; it ends (the battery charged, the band put back on, the band in
    reach again) before Anna's ack reaches the daemon (POST /api/alerts/ID/ack, the real HTTP API):
    answered 409 ``{"error": "alert N had already ended", "code": "alert_over", "acked_by": null}``, which the page
    words calmly; nothing stored for it (nothing was seen to). An id never used is still 404. Until
    review h48 it was 404 'no alert N', read on the page as 'Not saved: no alert N'."""
    said = HELD_KINDS[fault]
    with _run(tmp_path, _paris(7, "21:30"), disconnect_alert_s=DISCONNECT_S) as (d, clock):
        if said is None:
            clock.t += DISCONNECT_S
            d._tick()
        else:
            connected(d, DEVICE)
            d.on_record(DEVICE, {**_status(1, 360), **said}, clock.t)
        [shown] = [a for a in d.status()["alerts"] if a["kind"] == fault.value]
        clock.t += 60
        streaming(d, DEVICE, clock.t)  # in reach again
        d.on_record(DEVICE, {**_status(1, 420), "errors": 0}, clock.t)  # charged, worn
        d._tick()
        assert [a for a in d.status()["alerts"] if a["kind"] == fault.value] == []
        answer = _page_ack(d, shown["id"])
        unknown = _page_ack(d, shown["id"] + 100)
        history = d.store.alert_history(shown["device"], shown["id"])
    assert answer == (409, {"error": f"alert {shown['id']} had already ended", "code": "alert_over", "acked_by": None}), answer
    assert unknown == (404, {"error": f"no alert {shown['id'] + 100}"}), unknown
    assert [r.by for r in history if r.by is not None] == [] and history[-1].state == "OK", history


def test_a_held_radio_late_open_at_a_stop_and_ended_days_later_is_not_pushed(tmp_path: Path) -> None:
    """Late at 23:30, held by quiet hours, the daemon stopped before the band streamed (carried on
    open); started again 3 days later at noon, the band streaming, which ends it: its untold raise
    is past its telling from its raise (``Daemon._tell_by``), not pushed, its row saying why. Until
    review h48 it was pushed at noon, 3 days late."""
    with _run(tmp_path, _paris(7, "23:30"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        d.on_record(DEVICE, _status(1, 360), clock.t)
        [shown] = _shown(d)
    with _run(tmp_path, _paris(10, "12:00"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        d.on_record(DEVICE, _status(1, clock.t - _paris(7, "23:24")), clock.t)
        caught_up(d, DEVICE, clock.t)  # streaming: it ends
        d._tick()
        told, left = _told(d), _shown(d)
        history = d.store.alert_history(DEVICE, shown["id"])
    assert (told, left) == ([], []), (told, left)
    assert history[-1].state == "OK" and history[-1].text.startswith("not sent: carried over a daemon stop, 60.5 h"), history


def _autumn(day: int, hhmm: str) -> float:
    """Paris, October 2026: its clocks go back from 03:00 CEST to 02:00 CET on the night of the 24th."""
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 10, day, h, m, tzinfo=PARIS).timestamp()


def test_a_held_radio_late_ended_the_night_the_clocks_go_back_is_told_at_the_end_of_quiet_hours_after_a_restart(tmp_path: Path) -> None:
    """Late at 22:05, held by quiet hours (22:00-07:00), ended as the band streams; the daemon
    restarted at 03:30, the night Paris' clocks go back an hour. Its hold ends at 07:00 CET, 10 h
    after its end, not 9: until review h48e ``Daemon._tell_by`` counted the quiet hours' 540 min as
    9 h, its telling past at 06:20, and the raise was dropped as 'too late to be news' 40 min
    before the hold ended: the family never told (each such end from 22:00 to 22:45)."""
    boot_t = _autumn(24, "21:59")  # boot 1 began; its radio came up 6 min later

    def at(d: Daemon, clock: HandClock, t: float) -> list[Notification]:
        clock.t = t
        d.on_record(DEVICE, _status(1, t - boot_t), t)
        d._tick()
        return _told(d)

    with _run(tmp_path, _autumn(24, "22:05"), alert_settings=NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        assert at(d, clock, clock.t) == []  # held back; ended at once
    with _run(tmp_path, _autumn(25, "03:30"), alert_settings=NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        assert at(d, clock, clock.t) == [] and at(d, clock, _autumn(25, "06:30")) == [] and at(d, clock, _autumn(25, "06:59")) == []
        sent = at(d, clock, _autumn(25, "07:00"))
        history = d.store.alert_history(DEVICE, d.store.latest_alert_id(DEVICE, BandFault.RADIO_LATE.value) or 0)
    assert [(n.kind, n.text) for n in sent] == [(NoticeKind.BAND_FAULT, M.band_fault("cot", BandFault.RADIO_LATE, count=6).text)], history


def _spring(day: int, hhmm: str) -> float:
    """Paris, March 2026: its clocks go forward from 02:00 CET to 03:00 CEST on the night of the 28th."""
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 3, day, h, m, tzinfo=PARIS).timestamp()


# A night whose end the spring-forward jump skips (02:30 is never read on 2026-03-29).
SHORT_NIGHT = AlertSettings(quiet_hours=QuietHours.parse("22:00-02:30"), tz=PARIS)
NO_NIGHT = AlertSettings(tz=PARIS)


@pytest.mark.parametrize(
    ("settings", "ended", "muted_s", "back", "told"),
    [
        pytest.param(NIGHT, _paris(8, "06:50"), 0, _paris(8, "07:10"), True, id="quiet_0650_back_0710"),
        pytest.param(NIGHT, _paris(8, "06:50"), 0, _paris(8, "09:00"), False, id="quiet_0650_back_0900"),
        pytest.param(SHORT_NIGHT, _spring(28, "23:05"), 0, _spring(29, "03:10"), True, id="spring_gap_back_0310"),
        pytest.param(SHORT_NIGHT, _spring(28, "23:05"), 0, _spring(29, "03:30"), False, id="spring_gap_back_0330"),
        # The night the clocks go back, 02:30 read twice: the hold ends at the first.
        pytest.param(SHORT_NIGHT, _autumn(24, "22:05"), 0, _autumn(25, "02:40"), True, id="autumn_back_first_0240"),
        pytest.param(SHORT_NIGHT, _autumn(24, "22:05"), 0, datetime(2026, 10, 25, 2, 20, tzinfo=PARIS, fold=1).timestamp(), False,
                     id="autumn_back_second_0220"),
        pytest.param(NO_NIGHT, _paris(8, "14:05"), 7200, _paris(8, "15:30"), True, id="muted_back_within_the_mute"),
        pytest.param(NO_NIGHT, _paris(8, "14:05"), 7200, _paris(8, "16:20"), False, id="muted_back_past_the_mute"),
    ],
)  # fmt: skip
def test_a_held_radio_late_carried_over_a_stop_is_told_within_the_end_of_the_hold_it_was_under(
    tmp_path: Path, settings: AlertSettings, ended: float, muted_s: float, back: float, told: bool
) -> None:
    """Late, held back (quiet hours, or a mute set 5 min before), ended at once as the band streamed;
    the daemon stopped, then started again at ``back``. Its raise is told if ``back`` is within
    RESEND_MAX_AGE_S (15 min) of the end of the hold it was under when it ended (the quiet hours'
    end after it, 07:00; the clock's jump to 03:00 the spring night a 02:30 end is never read; the
    first 02:30 the autumn night it is read twice; the mute's end, 16:00, the mute restored holding
    it to then), not pushed past it. Until review h49 the bound was its end plus the
    quiet hours' length: a raise ended at 06:50 was pushed at 09:00 (up to 9 h late), one ended in
    a mute with no quiet hours set was dropped 15 min after its end, the mute holding it 2 h more."""
    boot_t = ended - 360
    mute_end = ended - 300 + muted_s
    with _run(tmp_path, ended - 300, alert_settings=settings) as (d, clock):
        connected(d, DEVICE)
        if muted_s:
            d.mute(DEVICE, muted_s, "Mum")
        clock.t = ended
        caught_up(d, DEVICE, clock.t)  # streaming
        d.on_record(DEVICE, _status(1, clock.t - boot_t), clock.t)
        d._tick()
        assert _told(d) == []  # held back; ended at once
    with _run(tmp_path, back, alert_settings=settings) as (d, clock):
        streaming(d, DEVICE, clock.t)
        d.on_record(DEVICE, {**_status(2, 600), "errors": 0}, clock.t)  # a boot of its own since, its radio on time
        d._tick()
        if back < mute_end:  # the mute restored holds it to its end (until review h50 a restart forgot it: told at once)
            assert _told(d) == []
            clock.t = mute_end
            d._tick()
        sent = _told(d)
        history = d.store.alert_history(DEVICE, d.store.latest_alert_id(DEVICE, BandFault.RADIO_LATE.value) or 0)
    assert [n.text for n in sent] == ([M.band_fault("cot", BandFault.RADIO_LATE, count=6).text] if told else []), history
    if not told:
        assert history[-1].state == "OK" and history[-1].text.startswith("not sent: carried over a daemon stop"), history
