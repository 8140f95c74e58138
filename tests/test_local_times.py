"""Local times a family or a doctor reads, on the night the clocks go back (clock.wall_text):
Europe/Berlin, 2026-10-25, 03:00 CEST -> 02:00 CET at 01:00 UTC, so 02:30 comes twice. A real store
on disk with a cluster in each 02:30, read by 'events', 'clusters', the report and the daily summary."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from synthetic import spasm_record
from tzenv import set_tz

from spasmwatch.alerts.messages import daily_summary
from spasmwatch.clock import wall_text, zone_spans
from spasmwatch.daemon.summary import summary_facts
from spasmwatch.export.store_source import StoreSource
from spasmwatch.report.data import gather
from spasmwatch.report.text import cluster_rows, log_rows
from spasmwatch.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
DEV = "band0001"
T0 = datetime(2026, 10, 24, 22, 0, tzinfo=timezone.utc).timestamp()  # 00:00 CEST, the band's ms 0
CEST_0230 = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc).timestamp()
CET_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc).timestamp()
CET_0400 = datetime(2026, 10, 25, 3, 0, tzinfo=timezone.utc).timestamp()


def _cluster(store: Store, key: str, seq: int, start: float) -> None:
    """Three spasms 5 s apart from ``start``, and their cluster."""
    ms = int((start - T0) * 1000)
    store.add_events(DEV, [spasm_record(seq + i, ms + 5000 * i) for i in range(3)], start)
    ids = [e.id for e in store.events(DEV, start, start + 15)]
    store.upsert_cluster(DEV, key, start, start + 10, 3, start + 10, None, True, event_ids=ids, wall_s=start + 20)


@pytest.fixture
def fold_store(tmp_path: Path) -> Path:
    """Clusters at 02:30 CEST and 02:30 CET, a note at 02:30 CET and another at 04:00 CET."""
    path = tmp_path / "spasmwatch.db"
    with Store(path) as store:
        store.upsert_device(DEV, name="cot", wall_s=T0)
        store.add_sync(DEV, 1, 0, T0)
        _cluster(store, "first", 0, CEST_0230)
        _cluster(store, "second", 3, CET_0230)
        store.add_note(CET_0230 + 30, "note", "stiffened again")
        store.add_note(CET_0400, "note", "asleep")
    return path


def _spasmwatch(*args: str, data_dir: Path) -> str:
    env = dict(os.environ, TZ="Europe/Berlin", SPASMWATCH_DATA_DIR=str(data_dir))
    done = subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


WINDOW = ("--since", "2026-10-24T12:00", "--until", "2026-10-26T00:00")


def test_events_and_clusters_tell_the_two_0230s_apart(fold_store: Path) -> None:
    """Old code: both clusters read '2026-10-25 02:30:00', the second an hour after the first; the
    times outside the repeated hour stay bare (04:00)."""
    events = _spasmwatch("events", "--db", str(fold_store), *WINDOW, data_dir=fold_store.parent).splitlines()
    assert [line[:24] for line in events] == [
        "2026-10-25 02:30:00 CEST", "2026-10-25 02:30:00 CET ", "2026-10-25 02:30:30 CET ", "2026-10-25 04:00:00  not"
    ], events
    assert "CLUSTER #1" in events[0] and "CLUSTER #2" in events[1] and "stiffened again" in events[2]
    config = fold_store.parent / "config.toml"
    config.write_text("")
    rows = _spasmwatch("clusters", "--config", str(config), *WINDOW, data_dir=fold_store.parent).splitlines()
    assert rows[1].split()[:4] == ["1", "2026-10-25", "02:30:00", "CEST"], rows
    assert rows[2].split()[:4] == ["2", "2026-10-25", "02:30:00", "CET"], rows
    assert rows[0].index("band") == rows[1].index("cot") == rows[2].index("cot"), rows  # columns kept


def test_the_report_and_the_daily_summary_tell_them_apart(fold_store: Path) -> None:
    """Old code: the report's cluster table and log gave '2026-10-25 02:30' twice, the daily summary
    'at 02:30, 02:30'."""
    with Store.open_readonly(fold_store) as store:
        source = StoreSource(store)
        data = gather(source, None, T0, T0 + 86400, BERLIN, now=T0 + 86400)
        starts = [row[0] for row in cluster_rows(data)]
        logged = [row[0] for row in log_rows(data)]
        facts = summary_facts(store, DEV, "cot", CET_0400, BERLIN)
    assert starts == ["2026-10-25 02:30 CEST", "2026-10-25 02:30 CET"]
    assert cluster_rows(data)[1][-1] == "note 02:30 CET: stiffened again"
    assert logged == ["2026-10-25 02:30 CET", "2026-10-25 04:00"]
    assert "02:30 CEST, 02:30 CET" in daily_summary(facts, BERLIN).text


@pytest.mark.parametrize(
    ("zone", "utc", "want"),
    [
        ("Europe/Berlin", (2026, 10, 24, 23, 59), "01:59"),  # the only 01:59 that night
        ("Europe/Berlin", (2026, 10, 25, 0, 0), "02:00 CEST"),  # the repeated hour's first pass
        ("Europe/Berlin", (2026, 10, 25, 0, 59), "02:59 CEST"),
        ("Europe/Berlin", (2026, 10, 25, 1, 0), "02:00 CET"),  # the first minute of the second pass
        ("Europe/Berlin", (2026, 10, 25, 2, 0), "03:00"),  # after it
        ("Europe/Berlin", (2026, 3, 29, 1, 0), "03:00"),  # spring: a gap, nothing named twice
        ("Asia/Pyongyang", (2015, 8, 14, 15, 15), "23:45 UTC+0830"),  # KST on both passes: the offset
        ("Asia/Pyongyang", (2015, 8, 14, 14, 45), "23:45 UTC+09"),
        # Zones whose abbreviations are numbers ('-03'): 'since 23:30 -03' read as a subtraction
        ("America/Santiago", (2026, 4, 5, 2, 30), "23:30 UTC-03"),
        ("America/Santiago", (2026, 4, 5, 3, 30), "23:30 UTC-04"),
        ("Australia/Lord_Howe", (2026, 4, 4, 14, 45), "01:45 UTC+11"),  # a 30-minute fold
        ("Australia/Lord_Howe", (2026, 4, 4, 15, 15), "01:45 UTC+1030"),
        ("Australia/Lord_Howe", (2026, 4, 4, 14, 29), "01:29"),  # before the fold: one instant
        ("Antarctica/Troll", (2026, 10, 25, 0, 30), "02:30 UTC+02"),  # a 2-hour fold
        ("Antarctica/Troll", (2026, 10, 25, 2, 30), "02:30 UTC"),  # +00: no offset, as utc_offset_text says it
        ("Pacific/Apia", (2011, 12, 30, 10, 0), "00:00"),  # the day skipped: a gap, nothing twice
    ],
)
def test_wall_text_names_the_zone_only_where_the_time_is_ambiguous(zone: str, utc: tuple[int, ...], want: str) -> None:
    """Zone review: a tz database abbreviation that is a number ('-03', '+1030': zones with no letters
    in use) was given bare, 'seit 23:30 -03'; it is said as the offset it is, 'UTC-03'. Old code:
    '23:30 -03', '01:45 +1030', '02:30 +00'."""
    t = datetime(*utc, tzinfo=timezone.utc).timestamp()
    assert wall_text(t, "%H:%M", ZoneInfo(zone)) == want


@pytest.mark.parametrize(("zone", "utc", "names"), [
    ("America/Santiago", (2026, 4, 5), {"UTC-03", "UTC-04"}),
    ("Europe/Berlin", (2026, 10, 25), {"CEST", "CET"}),
])
def test_the_pages_zone_spans_name_the_zone_as_the_pushes_do(zone: str, utc: tuple[int, ...], names: set[str]) -> None:
    """The page words a time in the repeated hour by /api/status's zone spans (clock.zone_spans):
    their names are wall_text's, so the page beside the push reads 'UTC-03' as it does. Old code:
    the spans kept the tz database's bare '-03' / '-04' after wall_text said them 'UTC-03'."""
    day = datetime(*utc, tzinfo=timezone.utc).timestamp()
    spans = zone_spans(ZoneInfo(zone), day - 86400, day + 86400)
    assert {name for _, _, name in spans} == names
    assert all(wall_text(t + 1, "%H:%M", ZoneInfo(zone)).split(" ")[-1] in names for t, _, _ in spans[1:])


def test_wall_text_in_a_posix_rule_with_numeric_names(tz_env: pytest.MonkeyPatch) -> None:
    """A POSIX rule in TZ (LibcZone) whose names are numbers, as the tz database writes Santiago's
    ('<-04>4<-03>,M9.1.6/24,M4.1.6/24'): the offset said as one. Old code: '23:30 -03'."""
    set_tz(tz_env, "<-04>4<-03>,M9.1.6/24,M4.1.6/24")
    assert [wall_text(datetime(2026, 4, 5, h, 30, tzinfo=timezone.utc).timestamp(), "%H:%M") for h in (1, 2, 3, 4)] == [
        "22:30", "23:30 UTC-03", "23:30 UTC-04", "00:30"
    ]


@pytest.mark.parametrize("bands", [1, 2])
def test_the_pdf_tables_keep_a_time_that_names_its_zone_in_its_column(bands: int) -> None:
    """Found by the zone review: the PDF's cluster table sized its start column for '2026-10-25 02:30';
    '2026-10-25 02:30 CEST' ran 18 px into the count beside it (the log's time column 5 px into
    'what'), on the one night a doctor reads those times most carefully."""
    import matplotlib.pyplot as plt

    from spasmwatch.export.rows import ClusterRow, NoteRow, Tables
    from spasmwatch.report.pages import figures

    clusters = [ClusterRow(i, f"b{i % bands}", t, t + 60, 5, None, None, None) for i, t in enumerate((CEST_0230, CET_0230))]
    notes = [NoteRow(i, "b0", t + 30, "video", "stiffened, arms up") for i, t in enumerate((CEST_0230, CET_0230))]
    data = gather(Tables(cluster_rows=clusters, note_rows=notes), None, T0, T0 + 86400, BERLIN, now=T0 + 86400)
    figs = figures(data)
    try:
        starts = []
        for f in figs:
            f.canvas.draw()
            for tab in (t for ax in f.axes for t in ax.tables):
                for (row, col), cell in tab.get_celld().items():
                    text = cell.get_text()
                    if col == 0 and text.get_text().startswith("2026-10-25 02:30"):
                        starts.append(text.get_text())
                        assert text.get_window_extent().x1 <= cell.get_window_extent().x1, text.get_text()
    finally:
        for f in figs:
            plt.close(f)
    assert sorted(starts) == ["2026-10-25 02:30 CEST", "2026-10-25 02:30 CEST", "2026-10-25 02:30 CET", "2026-10-25 02:30 CET"]


def test_a_listing_reads_this_computers_zone_once_not_per_line(fold_store: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Zone review: with TZ unset (a family's shell, a systemd unit) each line of 'events' and
    'clusters' read /etc/localtime's link again (a realpath, ~7 lstat calls) to word its time: 20,000
    events listed in 0.60 s, 0.28 s before wall_text, 0.31 s now. The zone is read once per listing
    now; its times are still /etc/localtime's, the fold named. Old code: the reads grew with the
    lines (events 4 -> 44, clusters 2 -> 22)."""
    from spasmwatch.cli import build_parser
    from spasmwatch import clock

    link = fold_store.parent / "localtime"
    link.symlink_to("/usr/share/zoneinfo/Europe/Berlin")
    tz_env.setattr(clock, "LOCALTIME", link)
    tz_env.delenv("TZ", raising=False)
    time.tzset()
    reads = 0
    resolve = clock.resolve_local_zone

    def counted(mono: float | None = None) -> tuple[object, str | None]:
        nonlocal reads
        reads += 1
        return resolve(mono)

    tz_env.setattr(clock, "resolve_local_zone", counted)
    tz_env.setenv("SPASMWATCH_DATA_DIR", str(fold_store.parent))
    config = fold_store.parent / "config.toml"
    config.write_text("")

    def listed(*argv: str) -> tuple[int, str]:
        nonlocal reads
        reads = 0
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            args = build_parser().parse_args(list(argv))
            assert args.func(args) == 0
        return reads, out.getvalue()

    few = [listed("events", "--db", str(fold_store), *WINDOW), listed("clusters", "--config", str(config), *WINDOW)]
    assert few[0][1].startswith("2026-10-25 02:30:00 CEST  CLUSTER #1"), few[0][1]
    assert "2026-10-25 02:30:00 CET " in few[1][1], few[1][1]
    with Store(fold_store) as store:
        for i in range(20):
            store.add_note(CET_0400 + 60 * i, "note", f"note {i}")
            _cluster(store, f"more{i}", 10 + 3 * i, CET_0400 + 600 * i + 30)
    many = [listed("events", "--db", str(fold_store), *WINDOW), listed("clusters", "--config", str(config), *WINDOW)]
    assert [len(out.splitlines()) for _, out in many] == [len(few[0][1].splitlines()) + 40, len(few[1][1].splitlines()) + 20]
    assert [n for n, _ in many] == [n for n, _ in few]


def test_taps_export_raw_and_truth_read_this_computers_zone_as_the_other_commands(tmp_path: Path, tz_env: pytest.MonkeyPatch) -> None:
    """Researcher review: 'taps', 'export raw' and 'truth --wall-clock' without --tz took the local
    zone from the C library (astimezone(), a naive local time), the others from clock.local_zone:
    with TZ unset they parted whenever C's zone was not the file's (an /etc/localtime replaced while
    they ran, which C keeps until tzset). Here the zone file is Berlin's and C's stays UTC. Old code:
    +00:00 for taps and export raw, and a label read at 01:05 Berlin time outside the recording."""
    import numpy as np

    from spasmwatch.cli import build_parser
    from spasmwatch import clock
    from spasmwatch.io.rawfile import RawHeader, RawWriter
    from spasmwatch.sim import Scenario, simulate

    wall0 = datetime(2024, 3, 4, 0, 0, tzinfo=timezone.utc).timestamp()  # 01:00 CET
    rec = simulate(Scenario(duration_s=900.0, seed=4, rate_hz=52.0, taps=(200.0,)))
    counts = np.column_stack([np.rint(rec.acc * 1000), np.rint(np.asarray(rec.gyro) * 10)]).astype(np.int16)
    swraw = tmp_path / "night.swraw"
    with RawWriter(swraw, RawHeader("band-1", 52.0, True, wall0)) as w:
        for i in range(0, len(counts), 52):
            w.append(i, counts[i : i + 52], 0)
    events = tmp_path / "video.tsv"
    events.write_text("onset\tduration\ttrial_type\n01:05:00\t1.0\tspasm\n")
    tz_env.setattr(clock, "LOCALTIME", Path("/usr/share/zoneinfo/Europe/Berlin"))
    tz_env.delenv("TZ", raising=False)
    time.tzset()
    assert time.localtime(wall0).tm_gmtoff == 0  # C's zone is this computer's /etc/localtime, UTC

    def run(*argv: str) -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = build_parser().parse_args(list(argv))
            assert args.func(args) == 0
        return out.getvalue(), err.getvalue()

    taps = run("taps", str(swraw), "--json")[0]
    assert '"wall": "2024-03-04T01:03:20' in taps and "+01:00" in taps, taps
    said = run("export", "raw", str(swraw), "--csv", str(tmp_path / "night.csv"))[1]
    assert "t = 0 s is 2024-03-04T01:00:00.000+01:00 (the band's dating)" in said, said
    run("truth", str(swraw), str(events), "--wall-clock", "-o", str(tmp_path / "night.truth.json"))
    (spasm,) = json.loads((tmp_path / "night.truth.json").read_text())["spasms"]
    assert abs(spasm["t"] - 300.0) < 0.05, spasm
