"""The family page on the night the clocks go back, in headless Chromium: Europe/Berlin, 2026-10-25,
03:00 CEST -> 02:00 CET at 01:00 UTC, so 02:30 comes twice. The daemon's zone is Europe/Berlin
(TZ, as its computer's: by name, or by the POSIX rule no browser knows); the phone is there too, or
in New York. Every time the page prints is the daemon's wall time, worded as its pushes word it
(alerts.messages.hhmm): the zone named only in the repeated hour (clock.wall_text),
whatever the phone's zone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fake_daemon import FakeDaemon
from tzenv import set_tz
from web_harness import ServerThread, Watch, open_context

from spasmwatch.alerts import messages as M

BERLIN = ZoneInfo("Europe/Berlin")
BERLIN_RULE = "CET-1CEST,M3.5.0,M10.5.0/3"  # the same zone as a POSIX TZ rule (clock.LibcZone)


def utc(hour: int, minute: int, day: int = 25) -> float:
    return datetime(2026, 10, day, hour, minute, tzinfo=timezone.utc).timestamp()


CEST_0130 = utc(23, 30, day=24)
CEST_0230 = utc(0, 30)
CEST_0240 = utc(0, 40)
CET_0230 = utc(1, 30)
CET_0231 = utc(1, 31)
CET_0315 = utc(2, 15)
NOW = utc(2, 30)  # 03:30 CET
CET_2300 = utc(22, 0)  # the same day in Berlin, the next in New York


@contextmanager
def phone(browser: Any, zone: str) -> Iterator[Any]:
    """A page on a phone whose clock is in ``zone``; nothing left 127.0.0.1, no script error."""
    watch = Watch()
    ctx = open_context(browser, watch, timezone_id=zone)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()
    assert watch.non_local() == [] and watch.errors == [], (watch.non_local(), watch.errors)


@contextmanager
def serving(fake: FakeDaemon) -> Iterator[ServerThread]:
    with ServerThread(fake, heartbeat_s=1.0, clock=fake.now) as served:  # the page's "today" is the daemon's
        yield served


def load(page: Any, served: ServerThread) -> None:
    page.goto(served.url)
    page.wait_for_selector("body[data-loaded='1']")


@pytest.fixture(params=["Europe/Berlin", BERLIN_RULE])
def night(tz_env: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[tuple[FakeDaemon, ServerThread]]:
    """The daemon at 03:30 CET with clusters at 01:30 CEST, in both 02:30s and at 03:15 CET (the
    second 02:30's alarm open), a note in the second 02:30, its band last heard at 02:40 CEST and
    its notices muted until 23:00 CET."""
    set_tz(tz_env, request.param)
    fake = FakeDaemon(now=NOW)
    for start in (CEST_0130, CEST_0230, CET_0315):
        fake.add_cluster(start, closed=True, alarm=False)
    cluster = fake.add_cluster(CET_0230, closed=True)
    alert = fake.alerts[max(fake.alerts)]
    alert["text"] = M.alarm(M.ClusterFacts("Mila's band", 3, CET_0230, cluster["post_wake_s"]), None).text  # the push's
    fake.note_rows.append({"id": 99, "t": CET_0231, "kind": "note", "text": "stiffened again", "device": None, "by": "Mum"})
    fake.set_band(connected=False, state="BACKOFF", last_seen=CEST_0240, muted_until=CET_2300, muted_by="Mum")
    with serving(fake) as served:
        yield fake, served


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_the_page_names_the_zone_in_the_repeated_hour_as_the_pushes_do_on_a_phone_in_any_zone(
    browser: Any, night: tuple[FakeDaemon, ServerThread], zone: str
) -> None:
    """Old code: both clusters '02:30' on a Berlin phone (and the alarm's 'since 02:30', the push's
    own text saying which); '20:30' and '21:30' on a New York one, the push having said 02:30, and
    the mute 'until 18:00 tomorrow' there."""
    fake, served = night
    push = {t: M.hhmm(t, None) for t in (CEST_0130, CEST_0230, CEST_0240, CET_0230, CET_0231, CET_0315, CET_2300)}  # the daemon's zone
    assert [push[t] for t in (CEST_0130, CEST_0230, CET_0230, CET_0315)] == ["01:30", "02:30 CEST", "02:30 CET", "03:15"]
    with phone(browser, zone) as page:
        load(page, served)
        times = page.locator(".cluster .cluster-time").all_inner_texts()
        assert times == [push[t] for t in (CET_0315, CET_0230, CEST_0230, CEST_0130)], times
        alarm = page.locator(".alert.alarm")
        said = alarm.locator(".alert-text").inner_text()  # the push's own words, as the daemon sent them
        assert f"since {push[CET_0230]}," in said and said == fake.alerts[max(fake.alerts)]["text"], said
        assert f"since {push[CET_0230]}" in alarm.locator(".facts").inner_text()  # the page's
        assert page.locator(".note .note-time").all_inner_texts() == [push[CET_0231]]
        battery = page.locator(".band [data-fact='battery'] .sub").inner_text()
        assert battery.startswith(f"last known at {push[CEST_0240]} ("), battery
        # Labelling a cluster names it by the same words (its buttons' group).
        group = page.locator(f".cluster[data-cluster-id='{fake.alerts[max(fake.alerts)]['cluster_id']}'] .labels")
        assert group.get_attribute("aria-label") == f"Label the cluster of {push[CET_0230]}"
        mute = page.locator(".band [data-fact='mute'] p").inner_text()
        assert mute == f"Band notices held back until {push[CET_2300]} by Mum (cluster alarms still sound).", mute


@pytest.mark.parametrize(("lang", "words"), [("de", ("MESZ", "MEZ")), ("fr", ("UTC+2", "UTC+1"))])
def test_a_page_in_the_family_s_language_names_the_passes_as_its_pushes_do(
    browser: Any, tz_env: pytest.MonkeyPatch, lang: str, words: tuple[str, str]
) -> None:
    """[alerts] language de: the pushes say '02:30 MESZ' / '02:30 MEZ' (messages.pass_word), so do
    the page's times, by /api/status's zone spans. Old code: 'CEST'/'CET' on a German page (the
    tz database's English abbreviations), and in its pushes too."""
    set_tz(tz_env, "Europe/Berlin")
    fake = FakeDaemon(now=NOW)
    fake.language = lang
    for start in (CEST_0230, CET_0230):
        fake.add_cluster(start, closed=True, alarm=False)
    push = [M.hhmm(t, None, lang) for t in (CET_0230, CEST_0230)]
    assert push == [f"02:30 {words[1]}", f"02:30 {words[0]}"]
    with ServerThread(fake, heartbeat_s=1.0, clock=fake.now, language=lambda: lang) as served, phone(browser, "America/New_York") as page:
        load(page, served)
        assert page.locator(".cluster .cluster-time").all_inner_texts() == push


def test_where_both_passes_have_one_abbreviation_the_page_names_them_by_their_utc_offset(browser: Any, tz_env: pytest.MonkeyPatch) -> None:
    """Pyongyang, 2015-08-15: 00:00 KST (+09:00) became 23:30 KST (+08:30), so 23:45 came twice,
    KST both times: the pushes say '23:45 UTC+09' and '23:45 UTC+0830' (wall_text), so does the
    page. Old code: '23:45' twice (a Pyongyang phone)."""
    set_tz(tz_env, "Asia/Pyongyang")
    first, second = (datetime(2015, 8, 14, 14, 45, tzinfo=timezone.utc).timestamp() + d for d in (0, 1800))
    fake = FakeDaemon(now=second + 600)  # 23:55, still the 14th
    for start in (first, second):
        fake.add_cluster(start, closed=True, alarm=False)
    push = [M.hhmm(t, None) for t in (second, first)]
    assert push == ["23:45 UTC+0830", "23:45 UTC+09"]
    with serving(fake) as served, phone(browser, "Asia/Pyongyang") as page:
        load(page, served)
        assert page.locator(".cluster .cluster-time").all_inner_texts() == push


def test_a_zone_that_changes_while_the_page_is_open_words_the_times_shown_again(
    browser: Any, night: tuple[FakeDaemon, ServerThread], tz_env: pytest.MonkeyPatch
) -> None:
    """The daemon's computer moved to Europe/London (its clocks went back at the same instant, from
    BST to GMT): a status message re-words the clusters already listed, with no new cluster read.
    Old code: the phone's zone, whatever the daemon's."""
    fake, served = night
    with phone(browser, "Europe/Berlin") as page:
        load(page, served)
        times = page.locator(".cluster .cluster-time")
        assert times.all_inner_texts() == ["03:15", "02:30 CET", "02:30 CEST", "01:30"]
        set_tz(tz_env, "Europe/London")
        london = [M.hhmm(t, None) for t in (CET_0315, CET_0230, CEST_0230, CEST_0130)]
        assert london == ["02:15", "01:30 GMT", "01:30 BST", "00:30"]
        served.call(fake.publish, {"type": "status"})
        page.wait_for_function("want => [...document.querySelectorAll('.cluster .cluster-time')].map(e => e.textContent).join() === want",
                               arg=",".join(london))
