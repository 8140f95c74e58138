"""The report's counting alone (report.data.count), as the family page's chart and the daily
summary take it: the same days as the whole report's facts (gather), from one read of the range's
epochs (not a second one for the sleep/wake none of them shows)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from course import DAY0, DAY_S, DEVICE, Expected
from test_report_vectorised import old_sleep_rows

from spasmwatch.daemon.consts import SUMMARY_TREATMENT_DAYS
from spasmwatch.daemon.summary import _treatments
from spasmwatch.export import run_export
from spasmwatch.export.store_source import StoreSource
from spasmwatch.export.timeline import Query
from spasmwatch.report.consts import TREND_DAYS
from spasmwatch.report.data import ReportData, count, gather, trend
from spasmwatch.store import Store


class _Counted(StoreSource):
    """The store's source, counting the epochs it reads of the store (each band's, a chunk at a time)."""

    read = 0

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        chunks = store.activity_chunks

        def counted(device: str, since: float, until: float) -> Iterator[np.ndarray]:
            for c in chunks(device, since, until):
                self.read += len(c)
                yield c

        store.activity_chunks = counted  # type: ignore[method-assign]  # the real read, counted


def _facts(data: ReportData) -> tuple[object, ...]:
    return data.days, data.clusters, data.bands, data.monitored, data.end


@pytest.mark.parametrize("tz", [timezone.utc, ZoneInfo("Europe/Paris")])
def test_the_counting_alone_gives_the_report_s_days_from_one_read_of_the_epochs(course_db: tuple[Path, Expected], tz: timezone) -> None:
    """The page's 14 days took gather's sleep/wake too: each epoch read twice and run through the
    estimate (70 % of its cost, docs/web.md). Old code (Daemon.days = gather): 121,200 epochs read
    for the 7 days' 60,480."""
    path, _ = course_db
    since, until, now = DAY0 + 2 * DAY_S, DAY0 + 9 * DAY_S, DAY0 + 8.5 * DAY_S  # today half over
    with Store.open_readonly(path) as store:
        whole = gather(StoreSource(store), None, since, until, tz, now)
        source = _Counted(store)
        counted = count(source, None, since, until, tz, now)
    assert _facts(counted) == _facts(whole)
    assert sum(d.monitored_s for d in counted.days) > 0 and sum(d.spasms for d in counted.days) > 0
    in_range = int((until - since) / 10)
    assert source.read == in_range, (in_range, source.read)


def test_the_daily_summary_s_treatment_trend_is_the_report_s_from_one_read_of_the_epochs(course_db: tuple[Path, Expected]) -> None:
    """The summary's trend of a drug started in its last week took gather whole: the two weeks'
    epochs read twice and each run through the sleep/wake estimate, every morning of a treatment.
    Now count with the treatments (with_treatments): the same trend. Old code: 172,920 epochs read
    for the range's 86,400."""
    path, _ = course_db
    now = DAY0 + 10.5 * DAY_S  # vigabatrin began on day 7: 3 days ago
    today = datetime.fromtimestamp(now, timezone.utc).date()
    since = datetime.combine(today - timedelta(days=SUMMARY_TREATMENT_DAYS + TREND_DAYS), time(), timezone.utc).timestamp()
    until = datetime.combine(today, time(), timezone.utc).timestamp()
    with Store.open_readonly(path) as store:
        whole = gather(StoreSource(store), DEVICE, since, until, timezone.utc, now)
        in_range = sum(1 for _ in StoreSource(store).activity(DEVICE, since, until))
        source = _Counted(store)
        got = _treatments(source, DEVICE, today, timezone.utc, now)
    assert [t.trend for t in got] == [trend(whole, tr) for tr in whole.treatments if tr.action == "start" and tr.t >= since]
    assert len(got) == 1 and got[0].trend.after.clusters > 0 and got[0].days_ago == 3
    assert source.read == in_range, (in_range, source.read)


def test_the_report_reads_each_epoch_once(course_db: tuple[Path, Expected]) -> None:
    """Its hours and its sleep/wake from one read of each band's epochs (with what the sleep/wake
    reads either side of the range: from each band's last fresh start before it, test_report_vectorised.old_sleep_rows). Old code: 121,200 epochs read for these 7 days' 60,720 (its hours' read,
    then the sleep/wake's; 2 s of a year-long report's 5, bench/dayscost.py)."""
    path, _ = course_db
    since, until, now = DAY0 + 2 * DAY_S, DAY0 + 9 * DAY_S, DAY0 + 8.5 * DAY_S
    with Store.open_readonly(path) as store:
        source = _Counted(store)
        data = gather(source, None, since, until, timezone.utc, now)
        with_lead = len(old_sleep_rows(StoreSource(store), None, since, until))
        # vigabatrin's trend (started day 7) counts its week before from day 0: the 2 days before the
        # range, read once too (report.data._trends), none of the range's again
        trend_days = sum(1 for _ in StoreSource(store).activity(None, DAY0, since))
    assert {tr.kind for tr in data.transitions} == {"sleep", "wake"}
    assert source.read == with_lead + trend_days, (with_lead, trend_days, source.read)


def test_an_export_reads_each_epoch_once(course_db: tuple[Path, Expected], tmp_path: Path) -> None:
    """Its not-worn and disconnected rows, its sidecar's hours and its sleep/wake rows from one read
    of each band's epochs, as the report's. Old code: 121,200 epochs read for these 7 days' 60,720
    (its coverage's read, then its sleep/wake's)."""
    path, _ = course_db
    since, until = DAY0 + 2 * DAY_S, DAY0 + 9 * DAY_S
    with Store.open_readonly(path) as store:
        source = _Counted(store)
        run_export(source, Query(None, since, until), "csv", tmp_path / "x.csv", since)
        with_lead = len(old_sleep_rows(StoreSource(store), None, since, until))
        kinds = {r["kind"] for r in csv.DictReader((tmp_path / "x.csv").open())}
    assert {"sleep", "wake"} <= kinds, kinds
    assert source.read == with_lead, (with_lead, source.read)
