"""The hour the clocks go back in the family's language: a time in it names its pass, and in de, es
and fr not by the tz database's English abbreviations ('CEST'), which a German, Spanish or French
parent does not read as summer time. German says MESZ/MEZ where the zone's are CEST/CET (the
words on German clocks and radio), elsewhere, and in es and fr, the UTC offset: 'UTC+2', 'UTC+1'
(docs/alerts.md "Languages"). A real store on disk for the daily summary; TZ set per test."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tzenv import set_tz

from spasmwatch.alerts import messages as M
from spasmwatch.clock import wall_text
from spasmwatch.daemon.summary import read_summaries
from spasmwatch.store import Store

DEV = "cot0001"
BERLIN = ZoneInfo("Europe/Berlin")
# 2026-10-25: Berlin's clocks go back at 03:00 CEST to 02:00 CET; 02:30 comes at 00:30 and 01:30 UTC
FIRST, SECOND = (datetime(2026, 10, 25, h, 30, tzinfo=timezone.utc).timestamp() for h in (0, 1))
WORDS = {"en": ("CEST", "CET"), "de": ("MESZ", "MEZ"), "es": ("UTC+2", "UTC+1"), "fr": ("UTC+2", "UTC+1")}


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_the_alarm_names_the_pass_of_the_repeated_hour_in_the_family_s_words(tz_env: pytest.MonkeyPatch, lang: str) -> None:
    """Old code: 'seit 02:30 CEST' in German, 'desde las 02:30 CEST' in Spanish."""
    set_tz(tz_env, "Europe/Berlin")
    summer, winter = WORDS[lang]
    for t, word in ((FIRST, summer), (SECOND, winter)):
        text = M.alarm(M.ClusterFacts("cot", 3, t, None), None, lang).text
        assert f"02:30 {word}" in text, text
        assert lang == "en" or not re.search(r"\bCES?T\b", text), text
    later = M.alarm(M.ClusterFacts("cot", 3, SECOND + 3600, None), BERLIN, lang).text
    assert "03:30," in later or "03:30 " in later, later  # bare outside the repeated hour
    assert not any(w in later for w in ("CET", "MEZ", "UTC")), later


@pytest.mark.parametrize(("lang", "words"), [("de", ("UTC-4", "UTC-5")), ("es", ("UTC-4", "UTC-5")), ("en", ("EDT", "EST"))])
def test_a_zone_without_german_names_is_said_by_its_offset(tz_env: pytest.MonkeyPatch, lang: str, words: tuple[str, str]) -> None:
    """MESZ/MEZ are Central Europe's alone: New York's repeated hour is 'UTC-4'/'UTC-5' in German."""
    set_tz(tz_env, "America/New_York")
    ny = ZoneInfo("America/New_York")
    first, second = (datetime(2026, 11, 1, h, 30, tzinfo=timezone.utc).timestamp() for h in (5, 6))  # 01:30 EDT, 01:30 EST
    assert [M.hhmm(t, ny, lang) for t in (first, second)] == [f"01:30 {w}" for w in words]
    # a half-hour zone west of Greenwich (St. John's, NDT/NST): the minutes kept, the sign too
    johns = ZoneInfo("America/St_Johns")
    if lang != "en":
        passes = (datetime(2026, 11, 1, h, 0, tzinfo=timezone.utc).timestamp() for h in (4, 5))  # 01:30 NDT, 01:30 NST
        assert [M.hhmm(t, johns, lang) for t in passes] == ["01:30 UTC-2:30", "01:30 UTC-3:30"]


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_the_daily_summary_lists_the_two_passes_in_the_family_s_words(tmp_path: Path, tz_env: pytest.MonkeyPatch, lang: str) -> None:
    """Two clusters at 02:30, an hour apart, in the morning's summary from a real store."""
    set_tz(tz_env, "Europe/Berlin")
    path = tmp_path / "db.sqlite"
    with Store(path) as store:
        store.upsert_device(DEV, name="cot", wall_s=FIRST - 86400)
        for i, t in enumerate((FIRST, SECOND)):
            store.upsert_cluster(DEV, f"c{i}", t, t + 300, 8, t + 20, None, True, wall_s=t + 400)
    now = datetime(2026, 10, 25, 7, 30, tzinfo=BERLIN).timestamp()
    [said] = read_summaries(path, {DEV: "cot"}, now, BERLIN, local=lang)
    summer, winter = WORDS[lang]
    assert f"(02:30 {summer}, 02:30 {winter})" in said["local"]["text"], said["local"]


# Passes whose abbreviations tell nothing apart (Pyongyang 2015, KST both) or are numbers (Troll: '+02'
# then '+00'), each said by its UTC offset: in the project's one form (clock.utc_offset_text, as the
# report's zone lines give it) in English and the report, its short form in de, es, fr pushes.
PYONGYANG = [datetime(2015, 8, 14, h, m, tzinfo=timezone.utc).timestamp() for h, m in ((14, 45), (15, 15))]  # 23:45 +0900, +0830
TROLL = [datetime(2026, 10, 25, h, 30, tzinfo=timezone.utc).timestamp() for h in (0, 2)]  # 02:30 +02, +00


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", ["UTC+09", "UTC+0830", "UTC+02", "UTC"]), ("de", ["UTC+9", "UTC+8:30", "UTC+2", "UTC"]),
     ("es", ["UTC+9", "UTC+8:30", "UTC+2", "UTC"]), ("fr", ["UTC+9", "UTC+8:30", "UTC+2", "UTC"])],
)
def test_an_offset_named_in_english_is_in_the_project_s_form(lang: str, said: list[str]) -> None:
    """Zone loose ends: English (and the report, wall_text's own words) said these passes 'UTC+0900'
    (strftime's %z) and 'UTC+00' (the abbreviation's digits), where the report's zone lines say
    'UTC+09' and 'UTC' and the other languages 'UTC+9' and 'UTC'. Old code: 'UTC+0900', 'UTC+00'."""
    times = [(t, ZoneInfo("Asia/Pyongyang")) for t in PYONGYANG] + [(t, ZoneInfo("Antarctica/Troll")) for t in TROLL]
    assert [M.hhmm(t, zone, lang).split(" ", 1)[1] for t, zone in times] == said
    if lang == "en":
        assert [wall_text(t, "%H:%M", zone).split(" ", 1)[1] for t, zone in times] == said
