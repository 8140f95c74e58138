"""The zone history (schema v13, docs/store.md "Time zones"): the daemon records the zone it words
the family's times in, and the report and 'summary' say when their span had more than one, or
another than theirs, and in which zone their days are cut. Real stores on disk; the commands run
as the family runs them."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest
from synthetic import HandClock, spasm_record
from tzenv import set_tz

from spasmwatch import clock
from spasmwatch.clock import said_zone_of, wall_text
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon.summary import read_summaries
from spasmwatch.report.text import zones_line
from spasmwatch.store import Store, StoreError

DEV = "band0001"
# 2026-11-01 00:00 UTC: Berlin on CET (+1), New York on EST (-5) from that night on
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
DAY = 86400.0


def _all_in(zone: str) -> str:
    return f"All days and times here are {zone} time, also those spent in another zone: each is shown at the {zone} date and time it happened."


def test_the_daemon_records_its_zone_at_its_first_tick_and_a_change_while_it_runs(tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Found by the zone review: nothing kept which zone a day was cut in. Now the first tick records
    the zone, a change of it (the box's /etc/localtime, here TZ) is recorded within ZONE_CHECK_S, and a
    restart in the same zone adds nothing. Old code: no zone history (Store had no ``zones``)."""
    set_tz(tz_env, "Europe/Berlin")
    clock = HandClock(T0)
    with Store(tmp_path / "sw.db") as store:
        d = Daemon(store, [], clock=clock)  # type: ignore[arg-type]  # a hand clock: ticks driven below
        d._tick()
        assert store.zones(0.0, T0 + DAY) == [(T0, "Europe/Berlin")]
        set_tz(tz_env, "America/New_York")
        clock.t += K.ZONE_CHECK_S / 2
        d._tick()
        assert store.zones(0.0, T0 + DAY) == [(T0, "Europe/Berlin")]  # read again once a check is due
        clock.t += K.ZONE_CHECK_S / 2
        d._tick()
        assert store.zones(0.0, T0 + DAY) == [(T0, "Europe/Berlin"), (T0 + K.ZONE_CHECK_S, "America/New_York")]
        clock.t += 3600
        Daemon(store, [], clock=clock)._tick()  # type: ignore[arg-type]  # restarted, in the same zone
        assert len(store.zones(0.0, T0 + DAY)) == 2


def _travelled(path: Path) -> None:
    """A fortnight in Berlin but for 3 nights in New York (the box taken along), a cluster each day at
    09:00 UTC, as the daemon records its zone (Store.record_zone)."""
    with Store(path) as store:
        store.upsert_device(DEV, name="cot", wall_s=T0)
        store.add_sync(DEV, 1, 0, T0)
        for day in range(14):
            start = T0 + day * DAY + 9 * 3600
            ms = int((start - T0) * 1000)
            store.add_events(DEV, [spasm_record(3 * day + i, ms + 5000 * i) for i in range(3)], start)
            ids = [e.id for e in store.events(DEV, start, start + 15)]
            store.upsert_cluster(DEV, f"c{day}", start, start + 10, 3, start + 10, None, True, event_ids=ids, wall_s=start + 20)
        store.record_zone(T0 - 30 * DAY, "Europe/Berlin")
        store.record_zone(T0 + 5 * DAY + 12 * 3600, "America/New_York")
        store.record_zone(T0 + 8 * DAY + 16 * 3600, "Europe/Berlin")


def _spasmwatch(*args: str, tz: str = "Europe/Berlin") -> str:
    env = dict(os.environ, TZ=tz)
    done = subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _report_text(db: Path, out: Path, *args: str, tz: str = "Europe/Berlin") -> str:
    _spasmwatch("report", "--db", str(db), "--out", str(out), *args, tz=tz)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", out.read_text(encoding="utf-8"))))


def test_the_report_says_the_zones_it_spans_and_where_its_days_are_cut(tmp_path: Path) -> None:
    """Old code: a fortnight with three nights in New York read as Berlin's days with no word of it."""
    db = tmp_path / "sw.db"
    _travelled(db)
    window = ("--since", "2026-11-01", "--until", "2026-11-15")
    text = _report_text(db, tmp_path / "r.html", *window)
    assert (
        "The monitor's time zone changed over these days: Europe/Berlin, then America/New_York from 2026-11-06 13:00, "
        "then Europe/Berlin from 2026-11-09 17:00. " + _all_in("Europe/Berlin")
    ) in text, text
    # A report made in another zone than the monitor's says that too; one in the monitor's alone says nothing
    early = ("--since", "2026-11-01", "--until", "2026-11-04")
    assert "The monitor ran in Europe/Berlin over these days. " + _all_in("Asia/Tokyo") in _report_text(
        db, tmp_path / "tokyo.html", *early, "--tz", "Asia/Tokyo"
    )
    assert "The monitor" not in _report_text(db, tmp_path / "berlin.html", *early)


def test_summary_says_a_zone_change_in_its_24_hours(tmp_path: Path) -> None:
    """Old code: the summary of the day the box moved to New York said nothing of it."""
    db = tmp_path / "sw.db"
    _travelled(db)
    moved = _spasmwatch("summary", "--db", str(db), "--at", "2026-11-06T20:00", tz="America/New_York")
    # the push's own line, once (the report's longer line was printed after it too: said twice)
    assert moved.count("Time zone in the last 24 h: Europe/Berlin, 07:00 → America/New_York; times here are America/New_York time.") == 1, moved
    assert "The monitor's time zone" not in moved, moved
    assert "time zone" not in _spasmwatch("summary", "--db", str(db), "--at", "2026-11-04T12:00").lower()
    # --json too (it had no zone line): each band's object carries the report's line, null where the text says nothing
    said = json.loads(_spasmwatch("summary", "--db", str(db), "--at", "2026-11-06T20:00", "--json", tz="America/New_York").splitlines()[0])
    assert said["zones"] == (
        "The monitor's time zone changed over the last 24 h: Europe/Berlin, then America/New_York from 2026-11-06 07:00. "
        + _all_in("America/New_York")
    ), said
    assert json.loads(_spasmwatch("summary", "--db", str(db), "--at", "2026-11-04T12:00", "--json").splitlines()[0])["zones"] is None


def test_a_history_begun_inside_the_span_says_before_when_none_is_known() -> None:
    """A store migrated to v13 mid-report: the zone before its first record is not known, and said so,
    as the zone: the zone review found '(none recorded before 2026-11-01 01:00)' in a doctor's report,
    which reads as no data recorded before then. Old code: that wording."""

    history = [(T0, "Europe/Berlin"), (T0 + DAY, "Asia/Tokyo")]
    assert zones_line(history, ZoneInfo("Europe/Berlin"), T0 - DAY, T0 + 2 * DAY, "these days") == (
        "The monitor's time zone changed over these days: Europe/Berlin, then Asia/Tokyo from 2026-11-02 01:00. "
        "Which zone it ran in before 2026-11-01 01:00 is not recorded. " + _all_in("Europe/Berlin")
    )
    assert zones_line(history[1:], ZoneInfo("Europe/Berlin"), T0 - DAY, T0 + 2 * DAY, "these days") == (
        "The monitor ran in Asia/Tokyo over these days. Which zone it ran in before 2026-11-02 01:00 is not "
        "recorded. " + _all_in("Europe/Berlin")
    )
    assert zones_line(history[:1], ZoneInfo("Europe/Berlin"), T0 - DAY, T0 + 2 * DAY, "these days") is None  # the report's zone alone


@pytest.mark.parametrize(
    ("recorded", "here"),
    [("Etc/UTC", "UTC"), ("UTC", "Etc/UTC"), ("US/Eastern", "America/New_York"), ("Asia/Calcutta", "Asia/Kolkata")],
)
def test_a_zone_by_another_name_of_the_same_clock_is_not_said_as_another(tmp_path: Path, recorded: str, here: str) -> None:
    """Zone review: the daemon records its zone by the name it found it by (a box's /etc/localtime
    links Etc/UTC; a systemd unit's TZ=UTC); a report made under another name of the same zone said
    'The monitor ran in Etc/UTC over these days. Every day and time here is cut in UTC: what happened
    in another zone ...', a journey that never was, to the doctor. Zones are compared by their clocks
    over the span: the same offset and the same changes of it. Old code: that line."""
    db = tmp_path / "sw.db"
    with Store(db) as store:
        store.upsert_device(DEV, name="cot", wall_s=T0)
        store.record_zone(T0 - 30 * DAY, recorded)
    assert "The monitor" not in _report_text(db, tmp_path / "r.html", "--since", "2026-11-01", "--until", "2026-11-04", tz=here)
    assert zones_line([(T0 - DAY, recorded)], ZoneInfo(here), T0, T0 + 200 * DAY, "these days") is None  # DST changes too
    assert zones_line([(T0 - DAY, recorded), (T0 + DAY, "Asia/Tokyo")], ZoneInfo(here), T0, T0 + 3 * DAY, "these days") == (
        f"The monitor's time zone changed over these days: {recorded}, then Asia/Tokyo from "
        f"{wall_text(T0 + DAY, '%Y-%m-%d %H:%M', ZoneInfo(here))}. " + _all_in(here)
    )


def test_a_store_from_before_the_zone_history_is_read_as_it_is(tmp_path: Path) -> None:
    """Zone review: schema v13 only added the zones table, yet every reader (report, summary, events,
    export) refused a v12 store, 'store schema version 12, this spasmwatch reads version 13; start the
    daemon once to migrate it': a copy sent to the clinic, or the family's own store just after an
    upgrade while the daemon that still runs is the old one. A read-only open reads it as it is and
    leaves it so; its zones are not known, so the report says nothing of them. Old code: refused."""
    db = tmp_path / "sw.db"
    _travelled(db)
    with contextlib.closing(sqlite3.connect(db)) as c:  # the v12 store that v13's step alone made v13
        c.executescript("DROP TABLE zones; PRAGMA user_version = 12; PRAGMA journal_mode = DELETE;")
    before = db.read_bytes()
    with Store.open_readonly(db) as store:
        assert (store.schema_version, store.zones(0.0, T0 + 30 * DAY), len(list(store.clusters(None, T0, T0 + 30 * DAY)))) == (12, [], 14)
    text = _report_text(db, tmp_path / "r.html", "--since", "2026-11-01", "--until", "2026-11-15")
    assert "14 clusters" in text and "time zone" not in text, text
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "sw.db"]
    with contextlib.closing(sqlite3.connect(db)) as c:  # a step before v12 changed what readers read
        c.execute("PRAGMA user_version = 11")
    # (refused; its tables, v15's but zones, are no version's from 11 on: the daemon refuses it as damaged,
    # and so does a reader, with the way out, not 'start the daemon once to migrate it': store review 2026-12-06)
    with pytest.raises(StoreError, match="store schema version 11 by its header, but its tables are no .*'spasmwatch store recover --db"):
        Store.open_readonly(db)


def test_a_restart_under_another_name_of_the_same_zone_is_no_change() -> None:
    """Zone review: a daemon restarted under TZ=UTC after /etc/localtime's Etc/UTC records a second
    row; a report in a third zone said 'changed over these days: Etc/UTC, then UTC from ...', a
    journey that never was. Rows naming the clock of the row before are one zone. Old code: that line."""
    history = [(T0 - DAY, "Etc/UTC"), (T0 + DAY, "UTC"), (T0 + 2 * DAY, "Asia/Tokyo")]
    assert zones_line(history[:2], ZoneInfo("UTC"), T0, T0 + 3 * DAY, "these days") is None
    assert zones_line(history[:2], ZoneInfo("Europe/Berlin"), T0, T0 + 3 * DAY, "these days") == (
        "The monitor ran in Etc/UTC over these days. " + _all_in("Europe/Berlin"))
    assert zones_line(history, ZoneInfo("Europe/Berlin"), T0, T0 + 3 * DAY, "these days") == (
        "The monitor's time zone changed over these days: Etc/UTC, then Asia/Tokyo from 2026-11-03 01:00. " + _all_in("Europe/Berlin"))


def test_a_posix_rule_or_an_unnamed_zone_is_said_by_its_offsets(tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Zone review: a zone recorded as a POSIX rule ('CET-1CEST,M3.5.0,M10.5.0/3', TZ on some Pi
    images) or as 'localtime' (an /etc/localtime copied, not linked) went to the doctor as that raw
    string. A rule is said by its offsets; 'localtime' rows already stored as an unnamed zone; and a
    daemon under a copied file now records the zone it copies. Old code: the raw strings, and
    'localtime' recorded."""
    rule = "CET-1CEST,M3.5.0,M10.5.0/3"
    history = [(T0 - DAY, rule), (T0 + DAY, "localtime"), (T0 + 2 * DAY, "Asia/Tokyo")]
    assert zones_line(history, ZoneInfo("Europe/Berlin"), T0, T0 + 3 * DAY, "these days") == (
        "The monitor's time zone changed over these days: UTC+01/UTC+02, then an unnamed time zone from 2026-11-02 01:00, "
        "then Asia/Tokyo from 2026-11-03 01:00. " + _all_in("Europe/Berlin"))
    # the report's own zone, a rule: by its offsets too (was 'All days and times here are CET-1CEST,... time')
    db = tmp_path / "sw.db"
    with Store(db) as store:
        store.upsert_device(DEV, name="cot", wall_s=T0)
        store.record_zone(T0 - 30 * DAY, "Asia/Tokyo")
    assert "The monitor ran in Asia/Tokyo over these days. " + _all_in("UTC+01/UTC+02") in _report_text(
        db, tmp_path / "r.html", "--since", "2026-11-01", "--until", "2026-11-04", tz=rule)
    copy = tmp_path / "localtime"
    copy.write_bytes(Path("/usr/share/zoneinfo/America/New_York").read_bytes())
    set_tz(tz_env, str(copy))
    with Store(tmp_path / "copied.db") as store:
        Daemon(store, [], clock=HandClock(T0))._tick()  # type: ignore[arg-type]  # a hand clock: one tick
        assert store.zones(0.0, T0 + DAY) == [(T0, "America/New_York")]


@pytest.mark.parametrize(("recorded", "said"), [("Etc/GMT-3", "UTC+03"), ("Etc/GMT+5", "UTC-05"), ("Etc/GMT-14", "UTC+14"), ("GMT+0", "UTC")])
def test_a_fixed_offset_zone_is_said_by_its_offset_not_by_its_posix_signed_name(tmp_path: Path, recorded: str, said: str) -> None:
    """Zone re-review: the tz database's fixed-offset zones take POSIX's sign, 'Etc/GMT-3' is three
    hours ahead of UTC (its abbreviation '+03'); the report said 'The monitor ran in Etc/GMT-3' and
    'All days and times here are Etc/GMT-3 time', read by a doctor as UTC-3, six hours off, and the
    family's daily push named it so too. Said by its offset, as a POSIX rule is. Old code: the names."""
    history = [(T0 - DAY, recorded), (T0 + DAY, "Asia/Tokyo")]
    assert zones_line(history, ZoneInfo("Asia/Tokyo"), T0, T0 + 3 * DAY, "these days") == (
        f"The monitor's time zone changed over these days: {said}, then Asia/Tokyo from 2026-11-02 09:00. " + _all_in("Asia/Tokyo"))
    assert said_zone_of(ZoneInfo(recorded), T0) == said  # the report's own zone: its 'times in', its plots' axes
    db = tmp_path / "sw.db"
    with Store(db) as store:
        store.upsert_device(DEV, name="cot", wall_s=T0)
        store.record_zone(T0 - 30 * DAY, "Asia/Tokyo")
    assert "The monitor ran in Asia/Tokyo over these days. " + _all_in(said) in _report_text(
        db, tmp_path / "r.html", "--since", "2026-11-01", "--until", "2026-11-04", tz=recorded)
    with Store(db) as store:
        store.record_zone(T0 + DAY, recorded)
        store.upsert_cluster(DEV, "c", T0 + 1.5 * DAY, T0 + 1.5 * DAY + 300, 8, T0 + 1.5 * DAY + 20, None, True, wall_s=T0 + 2 * DAY)
    [push] = read_summaries(db, {DEV: "cot"}, T0 + 1.75 * DAY, ZoneInfo("Asia/Tokyo"), local="de")
    assert f"Zeitzone der letzten 24 h: Asia/Tokyo, 09:00 → {said};" in push["local"]["text"], push["local"]


def _berlin_localtime(tmp_path: Path, tz_env: pytest.MonkeyPatch) -> tuple[Path, bytes]:
    """TZ unset, and /etc/localtime taken as a file in ``tmp_path`` holding Berlin's bytes (a copy,
    not a link): the file and the bytes."""
    tz_env.delenv("TZ", raising=False)
    localtime = tmp_path / "localtime"
    tz_env.setattr(clock, "LOCALTIME", localtime)
    berlin = Path("/usr/share/zoneinfo/Europe/Berlin").read_bytes()
    localtime.write_bytes(berlin)
    return localtime, berlin

def test_a_zone_file_read_while_it_is_replaced_is_no_trip(tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Zone fix review: the minute check landing while /etc/localtime (a copy) was written again read
    its first 100 bytes as UTC: the store recorded Berlin, then UTC, then Berlin again, a journey the
    report, summary and push told the doctor of, and times were worded in UTC meanwhile. Old code:
    [Berlin, UTC, Berlin] and the zone UTC in between."""
    localtime, berlin = _berlin_localtime(tmp_path, tz_env)
    hand = HandClock(T0)
    with Store(tmp_path / "sw.db") as store:
        d = Daemon(store, [], clock=hand)  # type: ignore[arg-type]  # a hand clock: ticks driven below
        d._tick()
        localtime.write_bytes(berlin[:100])  # being copied over
        hand.t += K.ZONE_CHECK_S
        d._tick()
        assert clock.zone_name(d._zone()) == "Europe/Berlin"
        localtime.write_bytes(berlin)
        hand.t += K.ZONE_CHECK_S
        d._tick()
        assert store.zones(0.0, T0 + DAY) == [(T0, "Europe/Berlin")]


def test_a_zone_file_gone_for_good_is_utc_for_the_daemon_as_for_the_commands(
    tmp_path: Path, tz_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Zone loose ends: a deleted /etc/localtime kept the daemon in the zone last read there for good
    (the store said Berlin to the end), while 'report', 'summary' and 'note' (which never read it
    whole) said UTC, as C does. A file gone at one check and back by the next is still a replace in
    flight; one gone ZONE_FILE_GONE_S is UTC for the daemon too, logged once, and its zone again
    once it is back. Old code: Europe/Berlin after the file had been gone two checks."""
    localtime, berlin = _berlin_localtime(tmp_path, tz_env)
    hand = HandClock(T0)
    caplog.set_level("INFO", logger="spasmwatch.daemon")
    caplog.set_level("INFO", logger="spasmwatch.clock")
    with Store(tmp_path / "sw.db") as store:
        d = Daemon(store, [], clock=hand)  # type: ignore[arg-type]  # a hand clock: ticks driven below
        d._tick()
        for gone_for_good in (False, True):
            localtime.unlink()  # ln -sf unlinks, then links: gone at one check
            hand.t += K.ZONE_CHECK_S
            d._tick()
            assert clock.zone_name(d._zone()) == "Europe/Berlin"
            if not gone_for_good:
                localtime.write_bytes(berlin)  # linked again by the next check, which reads it whole
                hand.t += K.ZONE_CHECK_S
                d._tick()
        hand.t += clock.ZONE_FILE_GONE_S
        gone = (timezone.utc, f"{localtime}: no time zone file there; times are in UTC")
        assert (d._zone(), clock.resolve_local_zone()) == (timezone.utc, gone)  # the daemon's zone is the commands'
        for _ in range(3):
            hand.t += K.ZONE_CHECK_S
            d._tick()
        utc_from = T0 + 4 * K.ZONE_CHECK_S + clock.ZONE_FILE_GONE_S  # the check after the wait
        assert store.zones(0.0, T0 + DAY) == [(T0, "Europe/Berlin"), (utc_from, "UTC")]
        said = [r.getMessage() for r in caplog.records if "localtime" in r.getMessage()]
        assert sum("times are in UTC" in m for m in said) == 1, said
        localtime.write_bytes(berlin)
        hand.t += K.ZONE_CHECK_S
        d._tick()
        assert store.zones(0.0, T0 + DAY)[-1] == (hand.t, "Europe/Berlin")


def test_a_zone_file_gone_at_two_checks_but_back_between_them_is_no_trip(tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Review of the zone-file wait: the wait was timed from the check that found the file gone to the
    next that found it so, a minute later; one back in between (a replace done) and gone again at
    that check (the next replace, in flight) had been gone 60 s by that count, and was UTC: the store
    recorded a trip to UTC and back, times were worded in UTC for a minute. While a file is in doubt
    the daemon reads it each tick, so a wait is of reads a tick apart. Old code: [Berlin, UTC, Berlin]."""
    localtime, berlin = _berlin_localtime(tmp_path, tz_env)
    hand = HandClock(T0)
    with Store(tmp_path / "sw.db") as store:
        d = Daemon(store, [], clock=hand)  # type: ignore[arg-type]  # a hand clock: ticks driven below
        d._tick()
        check = int(K.ZONE_CHECK_S)
        for s in range(1, 3 * check):
            if s in (check - 1, 2 * check - 1):
                localtime.unlink()  # a replace in flight at the check (ln -sf: unlinked, then linked)
            if s in (check + 2, 2 * check + 2):
                localtime.write_bytes(berlin)  # done
            hand.t = T0 + s
            d._tick()
        assert store.zones(0.0, T0 + DAY) == [(T0, "Europe/Berlin")]


def test_the_page_s_days_are_cut_and_ended_in_one_zone(tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Zone fix review: Daemon.days (the page's chart) ended its days by the C library's zone, which
    keeps the one it first read until tzset, and cut them by local_zone, which reads the zone again:
    after the box's zone changed from Berlin to New York, 3 days asked gave 4, the first a stray 6 h
    from Berlin's midnight. Old code: 2026-11-07 first, four days."""
    set_tz(tz_env, "Europe/Berlin")
    tz_env.setenv("TZ", "America/New_York")  # the zone changed; C keeps Berlin's until tzset
    with Store(tmp_path / "sw.db") as store:
        d = Daemon(store, [], clock=HandClock(T0 + 9 * DAY + 12 * 3600))  # type: ignore[arg-type]  # a hand clock
        assert [day["date"] for day in d.days(3)] == ["2026-11-08", "2026-11-09", "2026-11-10"]


def test_a_posix_rule_with_a_named_zone_s_clock_is_no_change() -> None:
    """Zone fix review: a rule ('CET-1CEST,M3.5.0,M10.5.0/3', TZ on some Pi images) and Berlin were
    compared by name only, so a restart from one to the other read as a journey. The rule's clock is
    compared now; a rule of another clock is still said. Old code: 'UTC+01/UTC+02, then Europe/Berlin'."""
    berlin, rule = ZoneInfo("Europe/Berlin"), "CET-1CEST,M3.5.0,M10.5.0/3"
    assert zones_line([(T0 - DAY, rule), (T0 + DAY, "Europe/Berlin")], berlin, T0, T0 + 3 * DAY, "x") is None
    assert zones_line([(T0 - DAY, rule)], berlin, T0, T0 + 3 * DAY, "x") is None
    line = zones_line([(T0 - DAY, "EST5EDT,M3.2.0,M11.1.0"), (T0 + DAY, rule)], berlin, T0, T0 + 3 * DAY, "x")
    assert line is not None and line.startswith("The monitor's time zone changed over x: UTC-05/UTC-04, then UTC+01/UTC+02 from 2026-11-02 01:00.")


_NO_TZDATA = """
import sys
from pathlib import Path
from synthetic import HandClock
from spasmwatch import clock
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.report.text import zones_line
from spasmwatch.store import Store
folder, t0 = Path(sys.argv[1]), float(sys.argv[2])
clock.LOCALTIME = folder / "localtime"
hand = HandClock(t0)
with Store(folder / "sw.db") as store:
    store.record_zone(t0 - 86400, "localtime")  # an older daemon's row, before names were found
    d = Daemon(store, [], clock=hand)
    for zone in ("Europe/Berlin", "America/New_York"):
        clock.LOCALTIME.write_bytes(Path("/usr/share/zoneinfo", zone).read_bytes())
        d._tick()
        hand.t += K.ZONE_CHECK_S
    print(store.zones(0.0, hand.t))
    print(zones_line(store.zones(t0, hand.t), d._zone(), t0, hand.t, "x"))
"""


def test_a_move_between_zone_files_that_name_no_zone_is_recorded(tmp_path: Path) -> None:
    """Zone fix review: in a container with no tz database (PYTHONTZPATH nowhere, TZ unset) a copied
    /etc/localtime names no zone, and every one was recorded as 'localtime': Berlin's file replaced by
    New York's was no change. Such a file is recorded by its rule line now, said by its offsets, and an
    older store's 'localtime' row is said as before. In a child (no tz database; clock's caches).
    Old code: [(t0 - 1 d, 'localtime')] alone, and no line."""
    env = {k: v for k, v in os.environ.items() if k != "TZ"}
    env.update(PYTHONTZPATH=str(tmp_path / "nowhere"), PYTHONPATH=os.pathsep.join([os.environ.get("PYTHONPATH", ""), str(Path(__file__).parents[1])]))
    done = subprocess.run([sys.executable, "-c", _NO_TZDATA, str(tmp_path), str(T0)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    rows, line = done.stdout.splitlines()
    berlin, new_york = "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0"
    assert rows == str([(T0 - DAY, "localtime"), (T0, berlin), (T0 + K.ZONE_CHECK_S, new_york)])
    assert line.startswith(f"The monitor's time zone changed over x: UTC+01/UTC+02, then UTC-05/UTC-04 from {wall_text(T0 + K.ZONE_CHECK_S, '%Y-%m-%d %H:%M', ZoneInfo('America/New_York'))}.")


def test_a_recorded_rule_of_a_day_s_offset_is_said_not_a_crash(tmp_path: Path) -> None:
    """A POSIX rule of a day's offset ('<+24>-24': POSIX hours reach 24) recorded by an older daemon:
    comparing its clock with the report's raised ValueError (no Python time holds an offset of a day),
    and 'report' and 'summary' ended in a traceback. It has no clock here: compared by name, said by
    its offset. Made under it, the report is in UTC, said naming it (test_local_zone). Old code: the
    ValueError, exit 1 and 2."""
    db = tmp_path / "sw.db"
    with Store(db) as store:
        store.upsert_device(DEV, name="cot", wall_s=T0)
        store.record_zone(T0 - 30 * DAY, "<+24>-24")
        store.record_zone(T0 + DAY, "Europe/Berlin")
    window = ("--since", "2026-11-01", "--until", "2026-11-04")
    assert "The monitor's time zone changed over these days: UTC+24, then Europe/Berlin from 2026-11-02 01:00. " in _report_text(
        db, tmp_path / "r.html", *window)
    moved = _spasmwatch("summary", "--db", str(db), "--at", "2026-11-02T20:00")
    assert "Time zone in the last 24 h: UTC+24, 01:00 → Europe/Berlin; times here are Europe/Berlin time." in moved, moved
    env = dict(os.environ, TZ="<+24>-24")
    done = subprocess.run([sys.executable, "-m", "spasmwatch", "report", "--db", str(db), "--out", str(tmp_path / "u.html"), *window],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0 and "warning: TZ=<+24>-24: a UTC offset of a day or more (UTC+24)" in done.stderr, done.stderr


@pytest.mark.parametrize("changed_since", [False, True], ids=["file's time before the row", "file written since"])
def test_an_older_daemon_s_unnamed_zone_stays_unnamed_whatever_its_file_s_times(tmp_path: Path, tz_env: pytest.MonkeyPatch, changed_since: bool) -> None:
    """A daemon before names were found by content recorded a copied /etc/localtime as 'localtime'.
    Until h42 the first start after the upgrade named that row by the file's zone where the file's
    status change time was before the row; the same times come from a store moved here and the other
    cases in the test below, where the row was another file's, so the row is kept as it is and the
    zone read now is a row of its own (the report says the zone before it not known, h42i).
    A store on disk as the old daemon left it."""
    localtime, _ = _berlin_localtime(tmp_path, tz_env)  # copied, not linked
    written = localtime.stat().st_ctime
    old_row = written - 100 if changed_since else written + 1  # the old daemon's start, after the copy or before a rewrite
    db = tmp_path / "sw.db"
    with Store(db) as store:
        store.upsert_device(DEV, name="cot", wall_s=old_row)
        store.record_zone(old_row, "localtime")  # as the older daemon recorded it
    upgraded = old_row + 3 * DAY
    with Store(db) as store:
        Daemon(store, [], clock=HandClock(upgraded))._tick()  # type: ignore[arg-type]  # a hand clock: one tick
        rows = store.zones(0.0, upgraded + DAY)
    line = zones_line(rows, ZoneInfo("Europe/Berlin"), old_row + DAY, upgraded + DAY, "these days")
    assert rows == [(old_row, "localtime"), (upgraded, "Europe/Berlin")]
    assert line is not None and line.startswith("The monitor ran in Europe/Berlin over these days. Which zone it ran in before ")
    assert "is not known: the monitor's version then recorded no name for it." in line  # not a change (h42i)


def test_an_older_daemon_s_unnamed_zone_in_a_store_moved_here_is_not_named_by_this_computer_s_file(
    tmp_path: Path, tz_env: pytest.MonkeyPatch
) -> None:
    """Review of the rename (h42): an older daemon's 'localtime' row was named by this computer's zone
    file wherever that file's status change time was before the row. That time is no proof the row was
    read from the file: a store moved from another computer, or restored from a backup, brings rows read
    from another file; a zone file restored from a disk image, bind-mounted from a host into a container
    made again elsewhere, or copied while the clock was behind (a Pi with no clock battery, before NTP)
    has a time before rows it never gave. Here a box whose copied /etc/localtime was New York's wrote the
    row; the store, moved to a box whose Berlin copy was made before the row, said Berlin all along: the
    family's days in New York hidden from the doctor. Old code: [(row, 'Europe/Berlin')] and no line."""
    localtime, _ = _berlin_localtime(tmp_path, tz_env)  # this box's copy, made before the row
    old_row = localtime.stat().st_ctime + 1
    other_box = tmp_path / "other-box"
    other_box.mkdir()
    with Store(other_box / "sw.db") as store:
        store.upsert_device(DEV, name="cot", wall_s=old_row)
        store.record_zone(old_row, "localtime")  # New York's copy there, which the older daemon could not name
    assert sorted(p.name for p in other_box.iterdir()) == ["sw.db"]  # closed: all in the one file
    db = tmp_path / "sw.db"
    shutil.copy(other_box / "sw.db", db)  # moved here (its mode kept)
    moved = old_row + 3 * DAY
    with Store(db) as store:
        Daemon(store, [], clock=HandClock(moved))._tick()  # type: ignore[arg-type]  # a hand clock: one tick
        rows = store.zones(0.0, moved + DAY)
    assert rows == [(old_row, "localtime"), (moved, "Europe/Berlin")]
    line = zones_line(rows, ZoneInfo("Europe/Berlin"), old_row + DAY, moved + DAY, "these days")
    assert line is not None and line.startswith("The monitor ran in Europe/Berlin over these days. Which zone it ran in before ")
    assert "is not known: the monitor's version then recorded no name for it." in line  # not a change (h42i)


@pytest.mark.parametrize("now_read_by", ["TZ path into the tz database", "/etc/localtime linked into it"])
def test_an_older_daemon_s_unnamed_zone_is_not_named_by_a_file_it_would_have_named(
    tmp_path: Path, tz_env: pytest.MonkeyPatch, now_read_by: str
) -> None:
    """Review of the rename: the 'localtime' row an older daemon wrote came from a copy, a file it
    could not name; the zone file checked for 'unchanged since' is the one read now. Given
    TZ=/usr/share/zoneinfo/Europe/Paris (or /etc/localtime linked there) after the upgrade, a file
    unchanged since the tz database was installed, long before the row, the row was named Paris
    though it had been another file's zone (here New York's copy): a real move hidden from the
    doctor. A file the tz database names, an older daemon named too: its 'localtime' row was another
    file, and stays so. Old code: [(row, 'Europe/Paris')]."""
    paris = Path("/usr/share/zoneinfo/Europe/Paris")
    assert paris.stat().st_ctime < T0  # installed before the row
    localtime = tmp_path / "localtime"
    tz_env.setattr(clock, "LOCALTIME", localtime)
    if now_read_by.startswith("TZ"):
        set_tz(tz_env, str(paris))
        localtime.write_bytes(Path("/usr/share/zoneinfo/America/New_York").read_bytes())
    else:
        tz_env.delenv("TZ", raising=False)
        localtime.symlink_to(paris)
    db = tmp_path / "sw.db"
    link_made = os.lstat(localtime).st_ctime
    old_row = max(T0, link_made + 1)  # the older daemon's row, after the file (and the link) were made
    with Store(db) as store:
        store.upsert_device(DEV, name="cot", wall_s=old_row)
        store.record_zone(old_row, "localtime")
    upgraded = old_row + 3 * DAY
    with Store(db) as store:
        Daemon(store, [], clock=HandClock(upgraded))._tick()  # type: ignore[arg-type]  # a hand clock: one tick
        assert store.zones(0.0, upgraded + DAY) == [(old_row, "localtime"), (upgraded, "Europe/Paris")]


def test_an_older_daemon_s_unnamed_zone_before_a_named_one_is_said_not_known_not_a_change() -> None:
    """h42i: an older daemon's 'localtime' row (a copied /etc/localtime it could not name) followed
    by the zone an upgraded daemon names was said 'The monitor's time zone changed over these days:
    an unnamed time zone, then Europe/Berlin from ...': a journey the store does not show (the copy
    was most likely Berlin's own). The named zone is said, and the time before it as not known.
    Old code: 'The monitor's time zone changed over these days: an unnamed time zone, then ...'."""
    berlin = ZoneInfo("Europe/Berlin")
    not_known = "Which zone it ran in before 2026-11-02 01:00 is not known: the monitor's version then recorded no name for it."
    history = [(T0 - DAY, "localtime"), (T0 + DAY, "Europe/Berlin")]
    assert zones_line(history, berlin, T0, T0 + 3 * DAY, "these days") == (
        f"The monitor ran in Europe/Berlin over these days. {not_known} " + _all_in("Europe/Berlin"))
    moved = [*history, (T0 + 2 * DAY, "Asia/Tokyo")]  # a journey after the upgrade is still one
    assert zones_line(moved, berlin, T0, T0 + 3 * DAY, "these days") == (
        f"The monitor's time zone changed over these days: Europe/Berlin, then Asia/Tokyo from 2026-11-03 01:00. {not_known} "
        + _all_in("Europe/Berlin"))
    assert zones_line(history[:1], berlin, T0, T0 + 3 * DAY, "these days") == (  # no named one: said as before
        "The monitor ran in an unnamed time zone over these days. " + _all_in("Europe/Berlin"))
