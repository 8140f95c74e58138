"""A band's mute is kept across a daemon restart (a crash, an upgrade, a reboot), and so is who
acknowledged a cluster's WARNING.

Until review h50 the mute lived in the daemon's memory alone: a restart during a family's mute
forgot it, so a band muted for the evening pushed again; and a held notice's stored end went stale
once the mute was lifted or lengthened after the notice ended (``Daemon._tell_by``). And an ack of
a WARNING was kept in memory alone: the 409 of an ack of it once expired named the acker before a
restart, nobody after.

Real daemons one after the other on one SQLite store on disk (``test_radio_late._run``), the band
driven as its session drives it, the hand clock in the family's zone; the mute, the status and the
acks through the daemon's own HTTP server on 127.0.0.1, as the page and 'spasmwatch' ask.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from synthetic import HandClock, caught_up, connected, spasm_record, streaming

from spasmwatch.alerts import AlertSettings, BandFault, Notification, QuietHours
from spasmwatch.alerts import messages as M
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon.http import HttpServer
from swcore import consts as C

from .test_radio_late import DEVICE, PARIS, _paris, _run, _status, _told

NO_NIGHT = AlertSettings(tz=PARIS)
NIGHT = AlertSettings(quiet_hours=QuietHours.parse("22:00-07:00"), tz=PARIS)


async def _ask(d: Daemon, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """``method`` ``path`` of the daemon's own HTTP server on 127.0.0.1: the answer's status and body."""
    server = HttpServer(d, host="127.0.0.1", port=0)
    host, port = await server.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.request(method, f"http://{host}:{port}{path}", json=body) as r:
                return r.status, await r.json()
    finally:
        await server.stop()


def _http(d: Daemon, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    return asyncio.run(asyncio.wait_for(_ask(d, method, path, body), 30))


def _mute(d: Daemon, for_s: float, by: str = "Mum") -> None:
    """The page's mute (``for_s`` 0: End mute now): POST /api/bands/DEVICE/mute."""
    code, body = _http(d, "POST", f"/api/bands/{DEVICE}/mute", {"for_s": for_s, "by": by})
    assert code == 200, body


def _muted(d: Daemon) -> tuple[Any, Any]:
    """The band's ``muted_until`` and ``muted_by`` as GET /api/status shows them."""
    code, body = _http(d, "GET", "/api/status")
    assert code == 200, body
    [band] = body["bands"]
    return band["muted_until"], band["muted_by"]


def _off_wrist(d: Daemon, clock: HandClock, worn: bool = False) -> None:
    """The band's STATUS: slipped off (``worn`` 0), or back on."""
    d.on_record(DEVICE, {**_status(1, clock.t - _paris(8, "13:00")), "errors": 0, "worn": int(worn)}, clock.t)


def _not_worn(d: Daemon) -> list[Notification]:
    return [n for n in d.notifications if n.fault is BandFault.NOT_WORN]


def test_a_mute_outlives_a_restart_and_a_band_slipping_off_is_pushed_only_at_its_end(tmp_path: Path) -> None:
    """Mum mutes the band for 2 h at 14:00 (a bath, the charger); the daemon restarts at 14:30 (an
    upgrade). The restarted daemon shows the mute as she set it (its end, her name) and holds the
    band's notices: the band slipping off at 14:40 is pushed at 16:00, the mute's end, not before.
    Old code: the restart forgot the mute (muted_until null) and "Band not worn" went out at 14:40."""
    with _run(tmp_path, _paris(8, "14:00"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        _mute(d, 7200)
        before = _muted(d)
    with _run(tmp_path, _paris(8, "14:30"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        after = _muted(d)
        clock.t = _paris(8, "14:40")
        _off_wrist(d, clock)
        held: list[list[Notification]] = []
        for hhmm in ("14:40", "15:59"):
            clock.t = _paris(8, hhmm)
            d._tick()
            held.append(_not_worn(d))
        clock.t = _paris(8, "16:00")
        d._tick()
        sent = _not_worn(d)
        ended = _muted(d)
    assert before == (_paris(8, "16:00"), "Mum"), before
    assert after == before, f"old code: the restart forgot the mute: {after}"
    assert held == [[], []], held
    assert [(n.fault, n.created_t) for n in sent] == [(BandFault.NOT_WORN, _paris(8, "16:00"))], sent
    assert ended == (None, None), ended


def test_a_mute_that_ended_or_was_lifted_before_a_restart_is_not_restored(tmp_path: Path) -> None:
    """A mute run out (30 min from 14:00) and one lifted (End mute now at 14:10 of a 2 h mute): the
    daemon restarted at 14:45 holds nothing back, and says no mute."""
    with _run(tmp_path, _paris(8, "14:00"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        _mute(d, 1800)
    with _run(tmp_path, _paris(8, "14:45"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        ran_out = _muted(d)
        _mute(d, 7200, "Dad")
        clock.t = _paris(8, "14:55")
        _mute(d, 0)
    with _run(tmp_path, _paris(8, "15:00"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        lifted = _muted(d)
        _off_wrist(d, clock)
        d._tick()
        told = _not_worn(d)
        mute = d.store.mute(DEVICE)
    assert (ran_out, lifted) == ((None, None), (None, None)), (ran_out, lifted)
    assert [n.created_t for n in told] == [_paris(8, "15:00")], told
    assert mute is not None and (mute.since_wall_s, mute.until_wall_s, mute.by) == (_paris(8, "14:45"), _paris(8, "14:55"), "Dad"), mute


def _late_ended_under_a_mute(tmp_path: Path, settings: AlertSettings, muted: str, for_s: float, ended: str) -> None:
    """Mum mutes the band at ``muted`` for ``for_s``; its radio starts late and it streams at once
    at ``ended`` (a radio_late raised and ended while held, its raise untold: ``_untold``)."""
    with _run(tmp_path, _paris(8, muted), alert_settings=settings) as (d, clock):
        connected(d, DEVICE)
        _mute(d, for_s)
        clock.t = _paris(8, ended)
        d.on_record(DEVICE, _status(1, 360), clock.t)
        caught_up(d, DEVICE, clock.t)  # streaming: it ends
        d._tick()
        assert _told(d) == []


def _back(tmp_path: Path, settings: AlertSettings, ticks: tuple[str, ...]) -> list[tuple[str, list[Notification]]]:
    """The daemon restarted at the first of ``ticks``, the band streaming; the radio_late pushes
    told by each tick's time."""
    told = []
    with _run(tmp_path, _paris(8, ticks[0]), alert_settings=settings) as (d, clock):
        streaming(d, DEVICE, clock.t)
        for hhmm in ticks:
            clock.t = _paris(8, hhmm)
            d.on_record(DEVICE, {**_status(2, 600), "errors": 0}, clock.t)  # a boot of its own since, its radio on time
            d._tick()
            told.append((hhmm, list(_told(d))))
    return told


LATE = M.band_fault("cot", BandFault.RADIO_LATE, count=6).text


def test_a_notice_held_by_a_mute_lengthened_after_it_ended_is_not_dropped_by_a_restart(tmp_path: Path) -> None:
    """Muted for 1 h at 14:00; the radio late at 14:05, ended at once (its row names 15:00, the
    mute's end then); Mum lengthens the mute to 17:00 at 14:30; the daemon restarts at 15:30, past
    the row's end plus 15 min (RESEND_MAX_AGE_S): the notice is still held by the mute and told at
    17:00, its end. Old code: restored without the mute, past its telling, dropped at 15:30 ('too
    late to be news'): the family never told."""
    _late_ended_under_a_mute(tmp_path, NO_NIGHT, "14:00", 3600, "14:05")
    with _run(tmp_path, _paris(8, "14:30"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        _mute(d, 2.5 * 3600)
        d._tick()
        assert _told(d) == []
    told = _back(tmp_path, NO_NIGHT, ("15:30", "16:59", "17:00"))
    assert [(t, [n.text for n in ns]) for t, ns in told] == [("15:30", []), ("16:59", []), ("17:00", [LATE])], told


def test_a_notice_held_by_a_mute_lifted_after_it_ended_is_told_by_the_hold_it_had_then(tmp_path: Path) -> None:
    """Muted at 05:00 for 4 h (to 09:00), quiet hours until 07:00; the radio late at 05:30, ended at
    once (its row names 09:00); Mum lifts the mute at 06:00 (quiet hours hold it still, to 07:00); the
    daemon stopped at 06:30. Restarted at 07:10 it is told at once (not held to the mute's old end);
    restarted at 08:00 it is no news, 1 h after its hold ended: not pushed. Old code: pushed at 08:00,
    the row's stale 09:00 still its bound."""
    told: dict[str, list[tuple[str, list[Notification]]]] = {}
    for back in ("07:10", "08:00"):
        path = tmp_path / back.replace(":", "")
        path.mkdir()
        _late_ended_under_a_mute(path, NIGHT, "05:00", 4 * 3600, "05:30")
        with _run(path, _paris(8, "06:00"), alert_settings=NIGHT) as (d, clock):
            streaming(d, DEVICE, clock.t)
            _mute(d, 0)
            clock.t = _paris(8, "06:30")
            d._tick()
            assert _told(d) == []  # quiet hours
        told[back] = _back(path, NIGHT, (back,))
    assert [(t, [n.text for n in ns]) for t, ns in told["07:10"]] == [("07:10", [LATE])], told
    assert told["08:00"] == [("08:00", [])], told


T0 = _paris(8, "20:00")  # the band's clock synced here: band ms 0 is this wall second


def test_an_acknowledged_warning_names_its_acker_in_the_409_of_an_ack_after_it_expired_and_a_restart(tmp_path: Path) -> None:
    """A cluster of 3 spasms under an alarm at 4 (the analysis reports a cluster from its third: a
    WARNING, a heads-up, needs ``alarm_count`` above it); Anna acknowledges it on the page; no fourth
    comes, it expires (warning_expire_s). The daemon restarted, Ben's ack from a page still showing
    it is answered 409 alert_over naming Anna, as before the restart. Old code: acked_by null after
    the restart (the WARNING's ack was kept in memory alone)."""
    settings = AlertSettings(tz=PARIS, warning_count=3, alarm_count=4, warning_expire_s=600)
    with _run(tmp_path, T0, alert_settings=settings) as (d, clock):
        streaming(d, DEVICE, T0)
        for seq, onset in enumerate((10_000, 17_000, 24_000)):
            clock.t = T0 + (onset + 1500 + int(C.POST_MS)) / 1000
            d.on_record(DEVICE, spasm_record(seq, onset), clock.t)
        [warning] = [a for a in d.status()["alerts"] if a["kind"] == "cluster"]
        assert warning["state"] == "WARNING", warning
        acked = _http(d, "POST", f"/api/alerts/{warning['id']}/ack", {"by": "Anna"})
        clock.t += 700
        d._tick()
        kept = _http(d, "POST", f"/api/alerts/{warning['id']}/ack", {"by": "Ben"})
    with _run(tmp_path, clock.t + 60, alert_settings=settings) as (d, clock):
        streaming(d, DEVICE, clock.t)
        stored = _http(d, "POST", f"/api/alerts/{warning['id']}/ack", {"by": "Ben"})
        history = d.store.alert_history(DEVICE, warning["id"])
    assert acked[0] == 200 and acked[1]["acked_by"] == "Anna", acked
    over = (409, {"error": f"alert {warning['id']} had already ended", "code": "alert_over", "acked_by": "Anna"})
    assert kept == over, kept
    assert stored == over, f"old code: nobody named after the restart: {stored}"
    assert [(r.state, r.by) for r in history] == [("WARNING", None), ("WARNING", "Anna"), ("CLOSED", None)], history


def test_a_notice_carried_over_a_restart_whose_mute_the_restarted_daemon_lengthens_is_told_at_the_new_end(tmp_path: Path) -> None:
    """Muted for 1 h at 14:00; the radio late at 14:05, ended at once; the daemon restarts at 14:30
    (the notice carried on, held by the mute restored, its telling bounded by 15:15); Mum lengthens
    the mute to 17:00 at 14:40, the daemon running on: told at 17:00, not dropped at 15:16."""
    _late_ended_under_a_mute(tmp_path, NO_NIGHT, "14:00", 3600, "14:05")
    told = []
    with _run(tmp_path, _paris(8, "14:30"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        clock.t = _paris(8, "14:40")
        _mute(d, 2 * 3600 + 20 * 60)
        for hhmm in ("15:16", "16:59", "17:00"):
            clock.t = _paris(8, hhmm)
            d._tick()
            told.append((hhmm, [n.text for n in _told(d)]))
    assert told == [("15:16", []), ("16:59", []), ("17:00", [LATE])], told
