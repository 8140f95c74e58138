"""A band notice held back follows the quiet hours a config reload sets, and one held by the rate
limit is told once, at its end, across a daemon restart.

Until review h51 a held notice carried over a daemon stop was bounded by the end of the hold its row
named, the quiet hours as they were when it was held (``Daemon._tell_by``): quiet hours lengthened
by a reload (before the stop or after the restart) dropped it at the old end plus RESEND_MAX_AGE_S,
"too late to be news", though the family's quiet hours held it still. And a notice held by the rate
limit was told by a restarted daemon at its first tick, before the rate limit's end its row named.

Real daemons one after the other on one SQLite store on disk (``test_radio_late._run``), the band
driven as its session drives it, the hand clock in the family's zone; a reload's new alert settings
applied as the Reloader applies them (``Daemon.set_alert_settings``).
"""

from __future__ import annotations

from pathlib import Path

from synthetic import caught_up, connected, streaming

from spasmwatch.alerts import AlertSettings, BandFault, Notification, QuietHours
from spasmwatch.daemon.daemon import Daemon

from .test_mute_kept import LATE, NIGHT, _back
from .test_radio_late import DEVICE, PARIS, _paris, _run, _status, _told

LONG_NIGHT = AlertSettings(quiet_hours=QuietHours.parse("22:00-09:00"), tz=PARIS)
SHORT_NIGHT = AlertSettings(quiet_hours=QuietHours.parse("22:00-05:00"), tz=PARIS)
NO_NIGHT = AlertSettings(tz=PARIS)


def _late_at_night(tmp_path: Path, reload_to: AlertSettings | None = None) -> None:
    """The radio late at 23:30 under quiet hours 22:00-07:00, ended at once (its row names 07:00);
    at 23:45, with ``reload_to``, a reload sets those alert settings; the daemon stopped at 23:50."""
    with _run(tmp_path, _paris(7, "23:30"), alert_settings=NIGHT) as (d, clock):
        connected(d, DEVICE)
        d.on_record(DEVICE, _status(1, 360), clock.t)
        caught_up(d, DEVICE, clock.t)  # streaming: it ends, its raise untold
        d._tick()
        if reload_to is not None:
            clock.t = _paris(7, "23:45")
            d.set_alert_settings(reload_to)
        clock.t = _paris(7, "23:50")
        d._tick()
        assert _told(d) == []


def _ticks(d: Daemon, day: int, hhmms: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """The radio_late pushes told by each tick at ``hhmms`` of ``day``, the band streaming on."""
    told = []
    for hhmm in hhmms:
        d.clock.t = _paris(day, hhmm)  # type: ignore[attr-defined]
        d.on_record(DEVICE, {**_status(2, 600), "errors": 0}, d.clock.t)  # type: ignore[attr-defined]
        d._tick()
        told.append((hhmm, [n.text for n in _told(d)]))
    return told


def test_a_notice_carried_over_a_restart_is_held_by_quiet_hours_a_reload_lengthens_and_told_at_their_new_end(tmp_path: Path) -> None:
    """Late at 23:30, held to 07:00; the daemon restarted at 03:00 (its telling bounded by 07:15);
    at 04:00 a reload lengthens the quiet hours to 09:00: held at 07:16, told at 09:00. Old code:
    dropped at 07:16, 'too late to be news', the family never told."""
    _late_at_night(tmp_path)
    with _run(tmp_path, _paris(8, "03:00"), alert_settings=NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        assert _ticks(d, 8, ("03:00",)) == [("03:00", [])]
        clock.t = _paris(8, "04:00")
        d.set_alert_settings(LONG_NIGHT)
        told = _ticks(d, 8, ("07:16", "08:59", "09:00", "09:10"))
    assert told == [("07:16", []), ("08:59", []), ("09:00", [LATE]), ("09:10", [LATE])], told


def test_a_notice_whose_quiet_hours_a_reload_lengthened_before_a_stop_is_told_at_their_new_end_after_a_restart(tmp_path: Path) -> None:
    """Late at 23:30, its row naming 07:00; a reload at 23:45 lengthens the quiet hours to 09:00;
    the daemon stopped at 23:50 and restarted at 07:30, past the row's end plus 15 min: the quiet
    hours as they are hold it still, told at 09:00. Old code: dropped at 07:30 by the row's stale end."""
    _late_at_night(tmp_path, LONG_NIGHT)
    told = _back(tmp_path, LONG_NIGHT, ("07:30", "08:59", "09:00"))
    assert [(t, [n.text for n in ns]) for t, ns in told] == [("07:30", []), ("08:59", []), ("09:00", [LATE])], told


def test_a_notice_carried_over_a_restart_is_told_at_the_end_of_quiet_hours_a_reload_shortens_or_at_once_if_it_removes_them(
    tmp_path: Path,
) -> None:
    """Late at 23:30, held to 07:00; the daemon restarted at 03:00; at 04:00 a reload shortens the
    quiet hours to 05:00: told at 05:00, not 07:00; one removing them: told at once."""
    told: dict[str, list[tuple[str, list[str]]]] = {}
    for name, settings in (("short", SHORT_NIGHT), ("none", NO_NIGHT)):
        path = tmp_path / name
        path.mkdir()
        _late_at_night(path)
        with _run(path, _paris(8, "03:00"), alert_settings=NIGHT) as (d, clock):
            streaming(d, DEVICE, clock.t)
            clock.t = _paris(8, "04:00")
            d.set_alert_settings(settings)
            told[name] = _ticks(d, 8, ("04:00", "04:59", "05:00"))
    assert told["short"] == [("04:00", []), ("04:59", []), ("05:00", [LATE])], told
    assert told["none"] == [("04:00", [LATE]), ("04:59", [LATE]), ("05:00", [LATE])], told


def _log_full(d: Daemon, full: bool = True) -> None:
    """The band's STATUS: its log nearly full (a fault quiet hours hold by default), or not."""
    d.on_record(DEVICE, {**_status(2, 600), "errors": 0, "log_fill_pct": 95 if full else 3}, d.clock.t)  # type: ignore[attr-defined]


def _log_notices(d: Daemon) -> list[Notification]:
    return [n for n in d.notifications if n.fault is BandFault.LOG_NEARLY_FULL]


def test_an_open_notice_held_by_quiet_hours_follows_a_reload_that_shortens_or_lengthens_them(tmp_path: Path) -> None:
    """The band's log nearly full at 23:00, held by quiet hours to 07:00; a reload at 23:30 sets
    them to end at 05:00 (told at 05:00) or at 09:00 (held at 07:00, told at 09:00)."""
    told: dict[str, list[tuple[str, int]]] = {}
    for name, settings, hhmms in (("short", SHORT_NIGHT, ("04:59", "05:00")), ("long", LONG_NIGHT, ("07:00", "08:59", "09:00"))):
        path = tmp_path / name
        path.mkdir()
        with _run(path, _paris(8, "23:00"), alert_settings=NIGHT) as (d, clock):
            streaming(d, DEVICE, clock.t)
            _log_full(d)
            clock.t = _paris(8, "23:30")
            d.set_alert_settings(settings)
            told[name] = []
            for hhmm in hhmms:
                clock.t = _paris(9, hhmm)
                _log_full(d)
                d._tick()
                told[name].append((hhmm, len(_log_notices(d))))
    assert told == {"short": [("04:59", 0), ("05:00", 1)], "long": [("07:00", 0), ("08:59", 0), ("09:00", 1)]}, told


def test_a_notice_held_by_the_rate_limit_is_told_once_at_its_end_across_a_restart(tmp_path: Path) -> None:
    """No quiet hours; the band's log nearly full at 14:00 (told), emptied at 14:01, full again at
    14:02: held by the rate limit (5 min) to 14:05, as its row names. The daemon stopped at once and
    restarted at 14:03, the band full still: told once, at 14:05, not before (the rate limit's end
    known from the row). Old code: told at 14:03, 3 min after the first."""
    with _run(tmp_path, _paris(8, "14:00"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        for hhmm, full in (("14:00", True), ("14:01", False), ("14:02", True)):
            clock.t = _paris(8, hhmm)
            _log_full(d, full)
            d._tick()
        before = [n.created_t for n in _log_notices(d) if n.kind.value == "band_fault"]
    told = []
    with _run(tmp_path, _paris(8, "14:03"), alert_settings=NO_NIGHT) as (d, clock):
        streaming(d, DEVICE, clock.t)
        for hhmm in ("14:03", "14:04", "14:05", "14:10"):
            clock.t = _paris(8, hhmm)
            _log_full(d)
            d._tick()
            told.append((hhmm, [n.created_t for n in _log_notices(d)]))
    assert before == [_paris(8, "14:00")], before
    at_end = [_paris(8, "14:05")]
    assert told == [("14:03", []), ("14:04", []), ("14:05", at_end), ("14:10", at_end)], told


def test_a_radio_late_held_by_the_rate_limit_and_ended_is_told_once_at_its_end_across_a_restart(tmp_path: Path) -> None:
    """The radio late at 14:00 (told), and again at the band's next boot at 14:02: held by the rate
    limit to 14:05, ended at once as the band streams (its raise untold). The daemon stopped and
    restarted at 14:03: the repeat told once, at 14:05. Old code: told at 14:03."""
    with _run(tmp_path, _paris(8, "14:00"), alert_settings=NO_NIGHT) as (d, clock):
        for boot, hhmm, up in ((1, "14:00", 360), (2, "14:02", 60)):  # boot 2 began at 14:01
            clock.t = _paris(8, hhmm)
            connected(d, DEVICE)
            d.on_record(DEVICE, _status(boot, up), clock.t)
            caught_up(d, DEVICE, clock.t)  # streaming: it ends
            d._tick()
        before = [n.created_t for n in _told(d)]
    told = _back(tmp_path, NO_NIGHT, ("14:03", "14:04", "14:05", "14:10"))
    assert before == [_paris(8, "14:00")], before
    at_end = [_paris(8, "14:05")]
    assert [(t, [n.created_t for n in ns]) for t, ns in told] == [("14:03", []), ("14:04", []), ("14:05", at_end), ("14:10", at_end)], told
