"""The report's and the family page's epochs read as numpy columns (``Source.wear``, ``transitions``)
give what the epoch-at-a-time code gave, to the bit, on random stores.

The old code is kept here as the reference: coverage's segments and the sleep/wake transitions made
from one ``ActivityRow`` at a time (2.5 µs an epoch of pure Python: a year-long report took 29 s,
the page's 366 days 10 s; docs/web.md). Each store: two bands in Europe/Berlin over a clock change
(a 23 h or a 25 h day), epochs every 10 s with random gaps (bridged ones of 20 s, and the band out
of range for minutes to a whole day: an empty day), removals dated by the band's own hysteresis and
worn verdicts flipped at random, a boot's 'unknown' verdict, nights of quiet and days of movement,
the wall clock a fraction of a second off the band's, and clusters across local midnights.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spasmwatch.analysis import consts as A
from spasmwatch.analysis.sleepwake import SleepWake
from spasmwatch.export.coverage import DISCONNECTED, GAP_EPOCHS, NOT_WORN, WORN, Segment, data_end, heard_and_slept, recorded
from spasmwatch.export.rows import ActivityRow, BandEpochs, Tables, TransitionRow
from spasmwatch.export.sleep import DECIDED_WITHIN_S, GAP_KEEP_S, LEAD_S, transitions
from spasmwatch.export.store_source import EPOCH_S, StoreSource
from spasmwatch.report.data import ReportData, count, gather
from spasmwatch.store import Store
from swcore import protocol as P
from swcore.epoch import Wear

# the modules (the packages' ``coverage`` and ``data`` are functions of those names)
coverage_module = importlib.import_module("spasmwatch.export.coverage")
report_data = importlib.import_module("spasmwatch.report.data")
store_module = importlib.import_module("spasmwatch.store.store")
BERLIN = ZoneInfo("Europe/Berlin")
DAY_S = 86_400.0
BANDS = ("band-a", "band-b")
DAYS = 4


# --- the reference: the code before the columns (coverage.segments, export.sleep) -----------------
@dataclass
class _OldBand:
    kind: str
    start: float
    last_t: float
    last_end: float
    run_off: bool
    run_start: float
    epoch_s: float


def _old_kind(e: ActivityRow) -> str:
    return WORN if e.worn else NOT_WORN


def old_segments(epochs: Iterable[ActivityRow], end: float | None = None) -> Iterator[Segment]:
    band: _OldBand | None = None
    device = ""
    for e in epochs:
        if band is not None and e.device == device and e.t - band.last_t <= GAP_EPOCHS * e.epoch_s:
            yield from _old_step(band, device, e)
            continue
        if band is not None and e.device == device:
            yield Segment(device, band.start, band.last_end, band.kind)
            yield Segment(device, band.last_end, e.t, DISCONNECTED)
        elif band is not None:
            yield from _old_last(band, device, end)
        device = e.device
        band = _OldBand(_old_kind(e), e.t, e.t, e.t + e.epoch_s, e.off_body, e.t, e.epoch_s)
    if band is not None:
        yield from _old_last(band, device, end)


def _old_last(band: _OldBand, device: str, end: float | None) -> Iterator[Segment]:
    if end is None or end <= band.last_end:
        yield Segment(device, band.start, band.last_end, band.kind)
    elif end - band.last_end <= GAP_EPOCHS * band.epoch_s:
        yield Segment(device, band.start, end, band.kind)
    else:
        yield Segment(device, band.start, band.last_end, band.kind)
        yield Segment(device, band.last_end, end, DISCONNECTED)


def _old_step(band: _OldBand, device: str, e: ActivityRow) -> Iterator[Segment]:
    if e.off_body != band.run_off:
        band.run_off, band.run_start = e.off_body, e.t
    kind = _old_kind(e)
    if kind != band.kind:
        led_here = band.run_off == (kind == NOT_WORN)
        at = max(band.run_start if led_here else e.t, band.start)
        if at > band.start:
            yield Segment(device, band.start, at, band.kind)
        band.kind, band.start = kind, at
    band.last_t, band.last_end = e.t, e.t + e.epoch_s


def old_transitions(epochs: Iterable[ActivityRow]) -> Iterator[TransitionRow]:
    """Each band's SleepWake (a new one where its epoch length changes), which follows the gaps itself
    (SLEEP_GAP_KEEP_MS; before 2026-12-06 a new one after each gap of more than 2 epochs); its onsets
    in order. All held to the end: across kept gaps a sleep is decided any time after its onset."""
    devices: dict[str, SleepWake] = {}
    found: list[tuple[float, str, str]] = []
    for e in epochs:
        sw = devices.get(e.device)
        if sw is None or sw.epoch_s != e.epoch_s:
            sw = devices[e.device] = SleepWake(e.epoch_s)
        tr = sw.update(e.t, e.active, worn=e.worn, moving=e.moving)
        if tr is not None:
            found.append((tr.t, e.device, tr.kind))
    for t, device, kind in sorted(found):
        yield TransitionRow(device, t, kind)


def old_wear(source: StoreSource, device: str | None, since: float, until: float) -> Iterator[ActivityRow]:
    """StoreSource.wear before the columns: the band's epoch before the range, the range's, the one after."""
    for d in [device] if device is not None else sorted(x.device_id for x in source.store.devices()):
        before = source.store.activity_next_to(d, since + EPOCH_S, before=True)
        if before is not None:
            yield source._epoch(before)
        yield from source.activity(d, since, until)
        after = source.store.activity_next_to(d, until + EPOCH_S, before=False)
        if after is not None:
            yield source._epoch(after)


def old_sleep_rows(source: StoreSource, device: str | None, since: float, until: float) -> list[ActivityRow]:
    """The epochs StoreSource reads for the sleep/wake, found an epoch at a time: each band's from its
    last epoch at or before ``since`` that SleepWake.update starts afresh at (after one not worn, or
    more than SLEEP_GAP_KEEP_MS unheard), at most LEAD_S before it, to DECIDED_WITHIN_S after ``until``."""
    out: list[ActivityRow] = []
    for d in [device] if device is not None else sorted(x.device_id for x in source.store.devices()):
        rows = list(source.activity(d, since - LEAD_S, until + DECIDED_WITHIN_S))
        first = 0
        for k, (p, r) in enumerate(zip(rows, rows[1:], strict=False), 1):
            if r.t <= since and (not p.worn or r.t - (p.t + p.epoch_s) > GAP_KEEP_S):
                first = k
        out += rows[first:]
    return out


def old_store_transitions(source: StoreSource, device: str | None, since: float, until: float) -> list[TransitionRow]:
    return [tr for tr in old_transitions(old_sleep_rows(source, device, since, until)) if since <= tr.t < until]


def old_heard_and_slept(source: StoreSource, device: str | None, since: float, until: float, now: float | None) -> tuple[list[Segment], list[TransitionRow]]:
    """coverage.heard_and_slept as the reference gives it: the segments, then the transitions, each of its own read."""
    heard = list(old_segments(old_wear(source, device, since, until), data_end(until, now)))
    return heard, old_store_transitions(source, device, since, until)


def _rows(bands: Iterable[BandEpochs]) -> Iterator[ActivityRow]:
    """The columns back as rows, for the reference."""
    for b in bands:
        for t, es, a, m, w, o in zip(b.t.tolist(), b.epoch_s.tolist(), b.active.tolist(), b.moving.tolist(), b.worn.tolist(), b.off_body.tolist(), strict=True):
            yield ActivityRow(b.device, t, es, a, m, w, o)


# --- random stores --------------------------------------------------------------------------------
def _band_epochs(rng: random.Random, n: int) -> list[dict[str, int]]:
    """``n`` epochs' records of one band (t_ms from its boot); gaps left out."""
    rows, wear, off, asleep, k = [], Wear(), False, rng.random() < 0.5, 0
    while k < n:
        if rng.random() < 0.002:  # unheard: a bridged 20 s, minutes (5 min kept by the sleep estimate, 5 min 10 s not), hours or a whole day
            k += rng.choice([1, 2, rng.randint(3, 60), 30, 31, rng.randint(3, 400), rng.randint(400, 2000), int(DAY_S / EPOCH_S) + rng.randint(0, 500)])
            continue
        if rng.random() < (0.004 if off else 0.0008):
            off = not off  # taken off, put back
        if rng.random() < 0.002:
            asleep = not asleep
        wear.update(off or rng.random() < 0.01)  # an off-body epoch alone now and then
        worn = wear.state if rng.random() > 0.001 else rng.choice([-1, 0, 1])  # now and then a verdict of no run
        quiet = 0.995 if asleep else 0.3
        activity = 0 if off else (rng.randint(0, 120) if rng.random() < quiet else rng.randint(130, 400))
        rows.append({"boot": 1, "t_ms": (k + 1) * 10_000, "activity": activity, "breath": 40, "off_body": int(off or activity == 0 and rng.random() < 0.01), "worn": worn})
        k += 1
    return rows


def _spasm(seq: int, onset_ms: int) -> dict[str, int]:
    return {"boot": 1, "seq": seq, "onset_ms": onset_ms, "duration_ms": 1200, "peak_rate_mrads": 2100, "peak_angle_mrad": 350,
            "confidence": 80, "flags": P.EF_TIME_SYNCED}  # fmt: skip


def build(path: Path, day0: float, seed: int) -> None:
    rng = random.Random(seed)
    with Store(path) as st:
        for b, device in enumerate(BANDS):
            sync = day0 + b * 3.7 + rng.random()  # the band's boot a fraction of a second off the host's second
            st.add_sync(device, 1, 0, sync)
            st.add_activity(device, _band_epochs(rng, int(DAYS * DAY_S / EPOCH_S)), received_wall_s=day0)
            seq = 0
            for day in range(DAYS):
                # a cluster across the local midnight that ends the day, and a lone spasm
                start = datetime(*datetime.fromtimestamp(day0 + (day + 1.5) * DAY_S, BERLIN).timetuple()[:3], tzinfo=BERLIN).timestamp() - rng.uniform(30, 200)
                times = [start + 40.0 * i for i in range(rng.randint(2, 8))]
                lone = day0 + day * DAY_S + rng.uniform(0, DAY_S)
                st.add_events(device, [_spasm(seq + i + 1, round((t - sync) * 1000)) for i, t in enumerate([*times, lone])], start)
                seq += len(times) + 1
                ids = [i for i in st.event_ids_at(device, times, tol_s=0.01) if i is not None]
                cid = st.upsert_cluster(device, f"c{day}", times[0], times[-1] + 1.2, len(times), times[1], 600.0, True, ids, wall_s=start)
                if rng.random() < 0.3:
                    st.label_cluster(cid, "false_alarm", "test", start + 60)


SPRING, AUTUMN = datetime(2027, 3, 26, tzinfo=BERLIN).timestamp(), datetime(2027, 10, 29, tzinfo=BERLIN).timestamp()


@pytest.fixture(scope="module", params=[(SPRING, 1), (AUTUMN, 2), (SPRING, 3), (AUTUMN, 4)], ids=["spring1", "autumn2", "spring3", "autumn4"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, int]:
    day0, seed = request.param
    path = tmp_path_factory.mktemp("vec") / "store.sqlite"
    build(path, day0, seed)
    return path, day0, seed


def _ranges(day0: float, seed: int) -> list[tuple[float, float, float]]:
    """(since, until, now): the whole store (now within and after it), and random parts of it."""
    rng = random.Random(seed)
    end = day0 + DAYS * DAY_S
    out = [(day0 - DAY_S, end + DAY_S, end + DAY_S), (day0, end, end - 3 * 3600.0)]
    for _ in range(6):
        a = rng.uniform(day0 - 3600, end)
        b = rng.uniform(a, end + 3600)
        out.append((a, b, rng.uniform(a, b + 7200)))
    return out


def test_segments_are_the_epoch_at_a_time_ones(store: tuple[Path, float, int]) -> None:
    """Old code: the same (the reference is it); its cost is the point (bench/dayscost.py)."""
    path, day0, seed = store
    kinds: set[str] = set()
    with Store.open_readonly(path) as st:
        source = StoreSource(st)
        for since, until, now in _ranges(day0, seed):
            for device in (None, *BANDS):
                got = recorded(source, device, since, until, now)
                assert got == list(old_segments(old_wear(source, device, since, until), data_end(until, now))), (since, until, device)
                kinds |= {s.kind for s in got}
                tables = Tables(activity_rows=list(source.activity(None, -1e12, 1e12)))
                assert list(coverage_module.segments(tables.wear(device, since, until))) == list(old_segments(_rows(tables.wear(device, since, until))))
    assert kinds == {WORN, NOT_WORN, DISCONNECTED}


def test_sleep_and_wake_are_the_epoch_at_a_time_ones(store: tuple[Path, float, int]) -> None:
    path, day0, seed = store
    found = 0
    with Store.open_readonly(path) as st:
        source = StoreSource(st)
        tables = Tables(activity_rows=list(source.activity(None, -1e12, 1e12)))
        for since, until, _ in _ranges(day0, seed):
            for device in (None, *BANDS):
                got = list(source.transitions(device, since, until))
                assert got == old_store_transitions(source, device, since, until), (since, until, device)
                found += len(got)
                old = (tr for tr in old_transitions(tables.activity_rows if device is None else [a for a in tables.activity_rows if a.device == device]))
                assert list(tables.transitions(device, since, until)) == [tr for tr in old if since <= tr.t < until]
    assert found > 20


def _facts(data: ReportData) -> tuple[object, ...]:
    return data.days, data.clusters, data.bands, data.monitored, data.transitions, data.trends, data.end


def test_the_report_and_the_page_are_the_epoch_at_a_time_ones(store: tuple[Path, float, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's days (their hours cut at Berlin's midnights: a 23 h or 25 h day) and sleep."""
    path, day0, seed = store
    with Store.open_readonly(path) as st:
        ranges = [(since, until, now) for since, until, now in _ranges(day0, seed)[:4]]
        new = [(gather(StoreSource(st), d, a, b, BERLIN, now), count(StoreSource(st), d, a, b, BERLIN, now)) for a, b, now in ranges for d in (None, BANDS[0])]
        monkeypatch.setattr(coverage_module, "segments", lambda bands, end=None: old_segments(_rows(bands), end))
        monkeypatch.setattr(report_data, "heard_and_slept", old_heard_and_slept)
        old = [(gather(StoreSource(st), d, a, b, BERLIN, now), count(StoreSource(st), d, a, b, BERLIN, now)) for a, b, now in ranges for d in (None, BANDS[0])]
    assert [(_facts(g), _facts(c)) for g, c in new] == [(_facts(g), _facts(c)) for g, c in old]
    hours = sorted({round(d.monitored_s) for g, _ in new for d in g.days})
    assert hours[0] == 0 and hours[-1] > 6 * 3600, hours  # a day of no data (out of range) and days worn


@pytest.mark.parametrize("chunk", [7, 59, 60, 61, 997])
def test_the_store_read_a_chunk_at_a_time_is_the_epoch_at_a_time_ones(
    store: tuple[Path, float, int], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A band's epochs read ``chunk`` at a time (ACTIVITY_CHUNK is 65,536, more than these bands
    hold): borders inside worn and not-worn spans, right after a gap, on the clock change's day, about
    the sleep window's 60 epochs. The segments, the onsets and the report's facts are the reference's.
    Old code: no chunks (a band's epochs held at once)."""
    path, day0, seed = store
    report = _ranges(day0, seed)[1]
    with Store.open_readonly(path) as st:
        whole = _facts(gather(StoreSource(st), None, *report[:2], BERLIN, report[2]))  # a band's epochs in one chunk
    monkeypatch.setattr(store_module, "ACTIVITY_CHUNK", chunk)
    borders: set[tuple[str, float]] = set()  # (band, the start of a chunk's first epoch), but the first chunk's
    seen: list[Segment] = []
    with Store.open_readonly(path) as st:
        chunks = st.activity_chunks

        def noted(device: str, since: float, until: float) -> Iterator[object]:
            for i, c in enumerate(chunks(device, since, until)):
                borders.update([(device, float(c["wall_t"][0]) - EPOCH_S)] if i else [])
                yield c

        st.activity_chunks = noted  # type: ignore[method-assign]  # the real read, its borders noted
        source = StoreSource(st)
        for since, until, now in _ranges(day0, seed)[:3]:
            for device in (None, BANDS[0]):
                heard, found = heard_and_slept(source, device, since, until, now)
                assert (heard, found) == old_heard_and_slept(source, device, since, until, now), (since, until, device)
                assert (recorded(source, device, since, until, now), list(source.transitions(device, since, until))) == (heard, found)
                seen += heard
        assert _facts(gather(source, None, *report[:2], BERLIN, report[2])) == whole
    assert {WORN, NOT_WORN} <= {s.kind for s in seen for d, b in borders if d == s.device and s.t < b < s.end}
    clock_change = datetime.fromtimestamp(day0 + 2 * DAY_S, BERLIN).date()
    assert any(datetime.fromtimestamp(b, BERLIN).date() == clock_change for _, b in borders)
    if chunk == 7:  # a chunk begun by the epoch after a gap
        assert {(s.device, s.end) for s in seen if s.kind == DISCONNECTED} & borders


def _random_rows(rng: random.Random, n: int) -> list[ActivityRow]:
    """One band's epochs: stretches of 10 s or 5 s epochs, asleep or awake, now and then off the
    body or unheard: a bridged 1-2 epoch gap, any from 3 s to 20 min (the estimate kept across those
    up to SLEEP_GAP_KEEP_MS), the longest kept and a hair over it; now and then a band rebooting
    every few epochs (a window's unheard past SLEEP_WINDOW_UNHEARD_MAX_MS, and up to it)."""
    rows, t, epoch_s, asleep, off, flaky = [], 0.0, 10.0, False, False, False
    for _ in range(n):
        if rng.random() < 0.002:
            epoch_s = 15.0 - epoch_s
        if rng.random() < 0.01:
            asleep = not asleep
        if rng.random() < (0.05 if off else 0.002):
            off = not off
        if rng.random() < 0.004:
            flaky = not flaky
        keep = 1.0 + A.SLEEP_GAP_KEEP_MS / 1000.0 / epoch_s  # from one start to the next: the kept span and an epoch
        gap = rng.random() < (0.2 if flaky else 0.005)
        t += epoch_s * (rng.choice([2.0, 3.0, 4.0, 6.0, 40.0, rng.uniform(1.3, 120.0), keep, keep + 1e-9]) if gap else 1.0)
        active = rng.random() < (0.01 if asleep else 0.7)
        rows.append(ActivityRow("band", t, epoch_s, active, active and rng.random() < (0.2 if asleep else 0.6), not off))
    return rows


@pytest.mark.parametrize("seed", range(40))
def test_sleep_and_wake_of_random_epochs_are_the_epoch_at_a_time_ones(seed: int) -> None:
    """Of epochs of two lengths, one band (the store's are all 10 s)."""
    rows = _random_rows(random.Random(seed), 20_000)
    got = transitions([BandEpochs.of("band", rows)], -1e12, 1e12)
    assert got == list(old_transitions(rows))
    assert {tr.kind for tr in got} == {"wake", "sleep"}


def test_the_daily_summary_s_worn_hours_are_the_report_s_monitored_hours(store: tuple[Path, float, int]) -> None:
    """Hostile review: the daily summary (its push and /api/summary's worn_h) summed the 10 s of each
    epoch worn, the report and /api/days coverage's worn hours (bridged gaps of up to 20 s, a removal
    dated to its first off-body epoch, not 2 min later): one 24 h read 13.47 h in the summary and
    13.29 h in the report (seed 1, band-a). Old code: those two numbers."""
    from spasmwatch.daemon.summary import summary_facts

    path, day0, seed = store
    with Store.open_readonly(path) as st:
        for k in range(1, DAYS + 1):
            now = day0 + k * DAY_S + 7.3 * 3600
            for device in BANDS:
                worn_s = summary_facts(st, device, device, now, BERLIN).worn_s
                days = count(StoreSource(st), device, now - DAY_S, now, BERLIN, now).days
                assert worn_s == (sum(d.monitored_s for d in days) if worn_s is not None else None), (device, k)
