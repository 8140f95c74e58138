"""A report's range held to the store's data (hostile-input review): a wrong year ('--since
2016-01-01' on a store of weeks) rendered years of empty days for minutes, with no word. The
real CLI on real stores; what is asserted is the days rendered and the words said."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cli_runner import run_cli

from spasmwatch.errors import SpasmwatchError
from spasmwatch.report.consts import EMPTY_DAYS_MAX
from spasmwatch.store import Store
from swcore import protocol as P

DEVICE = "band-1"
FIRST = datetime(2024, 3, 4, 9, tzinfo=timezone.utc).timestamp()  # the band's first data


class _Page(HTMLParser):
    """The day rows ('Mon 2024-03-04', ...) and the text of a report's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def days(self) -> list[str]:
        return sorted({t for t in self.text if len(t) == 14 and t[3] == " " and t[4:8].isdigit()}, key=lambda t: t[4:])


def _store(path: Path, at: float) -> Path:
    """A store whose one band was synced and logged one spasm at ``at``."""
    spasm = {"boot": 1, "seq": 0, "onset_ms": 1000, "duration_ms": 1000, "peak_rate_mrads": 2000,
             "peak_angle_mrad": 300, "confidence": 80, "flags": P.EF_TIME_SYNCED}  # fmt: skip
    with Store(path) as store:
        store.add_sync(DEVICE, 1, 0, at)
        store.add_events(DEVICE, [spasm], received_wall_s=at + 60)
    return path


def _report(tmp_path: Path, db: Path, *rng: str) -> tuple[list[str], str]:
    out = tmp_path / "r.html"
    assert run_cli("report", "--db", str(db), "--out", str(out), *rng, "--tz", "UTC") == 0
    page = _Page()
    page.feed(out.read_text(encoding="utf-8"))
    return page.days(), " ".join(page.text)


def test_a_range_opening_years_before_the_data_starts_on_its_first_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'--since 2016-01-01' (for 2024) drew 2016's days, all 'no data': now the report starts on the
    band's first day of data and says so, in the report and on stderr. (Here a lead of 95 days,
    not 8 years, so that the old code, which drew them all, fails soon.)"""
    db = _store(tmp_path / "s.db", FIRST)
    capsys.readouterr()
    days, text = _report(tmp_path, db, "--since", "2023-12-01", "--until", "2024-03-06")
    assert days == ["Mon 2024-03-04", "Tue 2024-03-05"], days
    assert "No data before 2024-03-04: the report starts there." in text, text
    err = capsys.readouterr().err
    assert "note: no data before 2024-03-04: the report starts there\n" in err, err
    assert "r.html: 2 days, 0 clusters" in err


def test_a_few_weeks_before_the_data_are_drawn_as_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A month's report of a band first worn mid-month keeps its empty days (EMPTY_DAYS_MAX): they
    show when the monitoring began, and the range means what was typed."""
    db = _store(tmp_path / "s.db", FIRST)
    since = date(2024, 3, 4) - timedelta(days=EMPTY_DAYS_MAX)
    capsys.readouterr()
    days, text = _report(tmp_path, db, "--since", since.isoformat(), "--until", "2024-03-05")
    assert len(days) == EMPTY_DAYS_MAX + 1 and days[0].endswith(since.isoformat()), days
    assert "the report starts there" not in text + capsys.readouterr().err


def test_a_range_running_months_past_the_data_ends_on_its_last_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'--until' a slip of the year ahead (9999) never ended: days past EMPTY_DAYS_MAX after the last
    data (today's, for a store in use) are cut at the end of that day, said; the month's end (a
    report made on the 1st) is kept, as docs say. (Here 100 days ahead, so the old code fails soon.)"""
    now = time.time()
    db = _store(tmp_path / "s.db", now - 2 * 86400)
    with Store(db) as store:
        store.add_note(now - 60, "video", "filmed a cluster")  # the last data: today's
    today = datetime.fromtimestamp(now, timezone.utc).date()
    since = (today - timedelta(days=2)).isoformat()
    capsys.readouterr()
    days, text = _report(tmp_path, db, "--since", since, "--until", (today + timedelta(days=100)).isoformat())
    assert len(days) == 3 and days[-1].endswith(today.isoformat()), days
    said = f"no data after {today.isoformat()}: the report ends there"
    assert said[0].upper() + said[1:] + "." in text
    assert f"note: {said}\n" in capsys.readouterr().err
    days, text = _report(tmp_path, db, "--since", since, "--until", (today + timedelta(days=20)).isoformat())
    assert len(days) == 2 + 20 and "the report ends there" not in text, days


def test_a_store_whose_data_ended_years_ago_ends_the_report_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A band last worn in 2024 and '--until 9999-12-31': the report ends on 2024's last day of data,
    not today's (some 1000 empty days), and a range wholly after the data is refused."""
    db = _store(tmp_path / "s.db", FIRST)
    capsys.readouterr()
    days, text = _report(tmp_path, db, "--since", "2024-03-04", "--until", "9999-12-31")
    assert days == ["Mon 2024-03-04"] and "No data after 2024-03-04: the report ends there." in text, days
    with pytest.raises(SpasmwatchError) as e:
        run_cli("report", "--db", str(db), "--out", str(tmp_path / "r2.html"), "--since", "2025-01-01", "--until", "9999-12-31", "--tz", "UTC")
    assert str(e.value) == "the store holds no data after 2024-03-04: nothing to report after --since"


@pytest.mark.parametrize(
    ("since", "until", "said"),
    [
        ("2016-01-01", "2016-03-01", "the store holds no data before 2024-03-04: nothing to report before --until"),
        ("2016-01-01", None, "the store holds no data yet: nothing to report"),
    ],
)
def test_a_range_with_no_data_at_all_is_refused(tmp_path: Path, since: str, until: str | None, said: str) -> None:
    """Years without data and none in the range: refused with the reason, not minutes of empty days
    (an empty store: 'no data yet')."""
    db = _store(tmp_path / "s.db", FIRST) if until else tmp_path / "empty.db"
    if not until:
        Store(db).close()
    with pytest.raises(SpasmwatchError) as e:
        run_cli("report", "--db", str(db), "--out", str(tmp_path / "r.html"), "--since", since, *(("--until", until) if until else ()), "--tz", "UTC")
    assert str(e.value) == said
