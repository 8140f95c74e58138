"""The numpy columns (``Source.wear``, ``transitions``) against the epoch-at-a-time reference kept in
test_report_vectorised.py, on what its random stores never hold: stored values no band sends (an
activity beyond the wire's u16, an off_body or worn of neither 0 nor 1), two epochs at one wall_t and
a boot placed back over another's (a clock stepped back after a sync), bands of one epoch or none,
ranges that cut an epoch or end on one; and, of ``Tables``, epochs of any length, bands interleaved.
"""

from __future__ import annotations

import importlib
import random
import tracemalloc
from datetime import timezone
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_report_vectorised import _rows, old_segments, old_sleep_rows, old_store_transitions, old_transitions, old_wear

from spasmwatch.export.coverage import data_end, heard_and_slept, recorded
from spasmwatch.export.rows import ActivityRow, Tables
from spasmwatch.export.sleep import LEAD_S, transitions
from spasmwatch.export.store_source import EPOCH_S, StoreSource
from spasmwatch.report.data import gather
from spasmwatch.store import Store

coverage_module = importlib.import_module("spasmwatch.export.coverage")
store_module = importlib.import_module("spasmwatch.store.store")
T0 = 1_800_000_000.25  # the band's boot a quarter second off the host's second
# activity values no band sends (a u16 on the wire), each side of where the numpy columns overflowed:
# x 100 past int64 (1e17), x 4 (the packed column) past it (2^61), the store's largest and smallest
HUGE = (10**17, 2**61, 2**62, 2**63 - 1, -(2**61) - 1, -(2**63), 65_535, -1)


def _epoch(boot: int, k: int, activity: int, off_body: int = 0, worn: int = 1, ms: int = 0) -> dict[str, int]:
    """The boot's ``k``-th epoch (``ms`` off the 10 s beat)."""
    return {"boot": boot, "t_ms": k * 10_000 + ms, "activity": activity, "breath": 40, "off_body": off_body, "worn": worn}


def _same(source: StoreSource, device: str | None, since: float, until: float, now: float) -> None:
    """The columns' epochs (wear's, and the sleep/wake's with its lead), segments and transitions are
    the reference's."""
    assert list(_rows(source.wear(device, since, until))) == list(old_wear(source, device, since, until))
    pairs = list(source.wear_and_sleep(device, since, until))
    assert list(_rows(w for w, _ in pairs)) == list(old_wear(source, device, since, until))
    assert list(_rows(s for _, s in pairs)) == old_sleep_rows(source, device, since, until)
    got = recorded(source, device, since, until, now)
    assert got == list(old_segments(old_wear(source, device, since, until), data_end(until, now))), (device, since, until)
    assert list(source.transitions(device, since, until)) == old_store_transitions(source, device, since, until), (device, since, until)
    assert heard_and_slept(source, device, since, until, now) == (got, old_store_transitions(source, device, since, until))


def test_activity_no_band_sends_reads_as_the_rows_do(tmp_path: Path) -> None:
    """Old code: an activity of 2^61 or more (or below -2^61) packed into one SQL integer went past
    int64, SQLite made it a float and ``Store.activity_columns`` raised OverflowError (no report, no
    page); one of 1e17 x 100 wrapped negative in numpy, an active epoch read as quiet: a wake lost."""
    path = tmp_path / "s.sqlite"
    with Store(path) as s:
        s.add_sync("a", 1, 0, T0)
        quiet = [_epoch(1, k, 0) for k in range(1, 80)]  # asleep: 13 min without a movement
        s.add_activity("a", [*quiet, *(_epoch(1, 80 + i, v) for i, v in enumerate(HUGE * 2))], received_wall_s=T0)
    with Store.open_readonly(path) as s:
        source = StoreSource(s)
        _same(source, "a", T0, T0 + 3600, T0 + 3600)
        _same(source, "a", T0, T0 + 790, T0 + 3600)  # the first of HUGE the epoch after the range
        assert [tr.kind for tr in source.transitions("a", T0, T0 + 3600)] == ["sleep", "wake"]  # asleep from its start: the onset claimed (the band put on)


def _boot_epochs(rng: random.Random, boot: int, n: int) -> list[dict[str, int]]:
    """A boot's ``n`` epochs: asleep or awake, now and then off the body or unheard, two at one
    band time a millisecond apart, and now and then a value no band sends."""
    rows, k, asleep, off = [], 0, False, False
    for _ in range(n):
        asleep, off = asleep != (rng.random() < 0.005), off != (rng.random() < (0.1 if off else 0.003))
        k += rng.choice([1] * 50 + [0, 2, 3, 30, 200])
        activity = 0 if off else (rng.randint(0, 10) if asleep else rng.randint(0, 300))
        odd = rng.random() < 0.03
        values = (rng.choice(HUGE), rng.choice([2, -1, 255]), rng.choice([-1, 2, -7])) if odd else (activity, int(off), int(not off))
        rows.append(_epoch(boot, k, *values, ms=rng.choice([0, 0, 0, 1, -1, 5000])))
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_stores_of_odd_epochs_are_the_epoch_at_a_time_ones(tmp_path: Path, seed: int) -> None:
    """Bands of up to three boots placed over each other (a clock stepped back: epochs out of band
    order, some at one wall_t), of one epoch or none; ranges from an epoch's start, its middle, or
    its end, and empty ones."""
    rng = random.Random(seed)
    path = tmp_path / "s.sqlite"
    with Store(path) as s:
        for device in ("a", "b", "c")[: rng.randint(1, 3)]:
            for boot in range(1, rng.randint(1, 3) + 1):
                s.add_sync(device, boot, 0, T0 + rng.choice([0.0, 0.5, 10.0, 1000.0, -1000.0, 3600.0]))
                n = rng.choice([0, 1, 1, 2, 300, 1500])
                if n:
                    s.add_activity(device, _boot_epochs(rng, boot, n), received_wall_s=T0)
    with Store.open_readonly(path) as s:
        source = StoreSource(s)
        ends = [a.wall_t for a in s.activity()] or [T0]
        lo, hi = min(ends), max(ends)
        ranges = [(lo - 20, hi + 20, hi + 1e5), (lo - EPOCH_S, hi - EPOCH_S, hi)]
        for _ in range(4):
            a = rng.choice([rng.uniform(lo - 500, hi + 500), rng.choice(ends) - EPOCH_S, rng.choice(ends) - 5, rng.choice(ends)])
            b = rng.choice([rng.uniform(a, hi + 1000), rng.choice(ends) - EPOCH_S, rng.choice(ends) - 5, a])
            ranges.append((min(a, b), max(a, b), rng.uniform(min(a, b), max(a, b) + 3000)))
        for since, until, now in ranges:
            for device in (None, "a", "b"):
                _same(source, device, since, until, now)


# --- memory: a band's epochs are read a chunk at a time; what is held grows with its segments only ---
def _long_store(path: Path, n: int) -> None:
    """One band's ``n`` epochs: nights of quiet, days of movement, now and then off the body."""
    with Store(path) as s:
        s.add_sync("a", 1, 0, T0)
        day = int(86_400 / EPOCH_S)
        s.add_activity("a", [_epoch(1, k, 0 if k % day < day // 3 else 200 * (k % 3), int(k % 977 < 40), int(k % 977 < 28)) for k in range(1, n + 1)], T0)


def _peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_bands_epochs_take_the_memory_of_a_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The traced peak of each reading grows by so few bytes an epoch between stores of 30k and 90k
    epochs (read 4096 at a time, so both are many chunks: what stays the same, the code and a chunk's
    arrays, cancels), the report's facts too. Old code (each band's epochs held at once): 18 B an epoch
    for the columns, 42 for the transitions, 29 for the segments, 42 for the report's facts."""
    monkeypatch.setattr(store_module, "ACTIVITY_CHUNK", 4096)
    per_epoch = {}
    for n in (30_000, 90_000):
        _long_store(tmp_path / f"{n}.sqlite", n)
    for what in ("columns", "transitions", "segments", "report"):
        peaks = []
        for n in (30_000, 30_000, 90_000):  # the first: what a first call leaves (imports, caches)
            with Store.open_readonly(tmp_path / f"{n}.sqlite") as s:
                source, until = StoreSource(s), T0 + n * EPOCH_S
                read = {"columns": lambda: sum(len(c) for c in s.activity_chunks("a", T0, until + EPOCH_S)),
                        "transitions": lambda: list(source.transitions("a", T0, until)),
                        "segments": lambda: recorded(source, "a", T0, until, until),
                        "report": lambda: gather(source, "a", T0, until, timezone.utc, until)}  # fmt: skip
                peaks.append(_peak(read[what]))
        per_epoch[what] = (peaks[2] - peaks[1]) / 60_000
    assert all(b < 2 for b in per_epoch.values()), per_epoch


# --- Tables: epochs of any length, out of order, two at one time, bands interleaved ----------------
PATTERNS = {"quiet": lambda i: False, "active": lambda i: True, "mixed": lambda i: i % 2 == 0, "twitch": lambda i: i % 30 == 0}
# after a stretch: none, a bridged gap (2 epochs, and a hair over), a gap, the clock back, two at one t,
# and gaps the sleep estimate goes on across or not (SLEEP_GAP_KEEP_MS, 300 s: of 10 s epochs 31 from
# one start to the next, and a hair over; of 5 s 61)
STEPS = (1.0, 1.0, 2.0, 2.0 + 1e-9, 7.0, -3.0, 0.0, 31.0, 31.0 + 1e-9, 61.0, 61.0 + 1e-9)
# from one epoch's start to the next inside a stretch (in epochs): mostly in a row; a band rebooting
# every epoch, its windows' unheard summing past SLEEP_WINDOW_UNHEARD_MAX_MS or not (of 10 s epochs
# 1.5: a sleep window's 59 gaps 295 s, 2.5: 885 s; 31: each gap the longest kept)
APART = (1.0, 1.0, 1.0, 1.5, 2.5, 31.0)


@st.composite
def stretches(draw: st.DrawFn) -> list[ActivityRow]:
    """Stretches of epochs: each of one band, one length, one pattern of movement and one wear."""
    rows: list[ActivityRow] = []
    t = draw(st.sampled_from([0.0, 1_800_000_000.3, 1_790_035_199.99]))  # the last: just before a UTC midnight
    device, epoch_s = "a", 10.0
    for _ in range(draw(st.integers(0, 16))):
        if draw(st.integers(0, 3)) == 0:  # mostly the band and length go on: the estimate too
            device, epoch_s = draw(st.sampled_from(["a", "b"])), draw(st.sampled_from([10.0, 5.0, 1.0, 7.5, 30.0, 60.0, 300.0]))
        active, worn, off = PATTERNS[draw(st.sampled_from(sorted(PATTERNS)))], draw(st.sampled_from([True, True, True, False])), draw(st.booleans())
        moves = PATTERNS[draw(st.sampled_from(sorted(PATTERNS)))]  # of the active epochs, those moving
        t += epoch_s * draw(st.sampled_from(STEPS))
        apart = epoch_s * draw(st.sampled_from(APART))
        for i in range(draw(st.integers(1, 150))):
            rows.append(ActivityRow(device, t + i * apart, epoch_s, active(i), active(i) and moves(i), worn or i % 40 == 39, off != (i % 25 == 0)))
        t = rows[-1].t
    return rows


@settings(max_examples=300, deadline=None)
@given(stretches(), st.one_of(st.just(-0.1), st.floats(-0.2, 1.2)), st.one_of(st.just(1.0), st.floats(0.0, 1.0)), st.sampled_from([None, "a", "b"]))
def test_tables_of_any_epochs_are_the_epoch_at_a_time_ones(rows: list[ActivityRow], a: float, width: float, device: str | None) -> None:
    """Tables sorts each band's epochs by time (stably: two at one t keep their order); the columns
    give what the reference gives on them, over a range anywhere, cutting an epoch or not."""
    lo, hi = (min(r.t for r in rows), max(r.t for r in rows)) if rows else (0.0, 1.0)
    since = lo + a * (hi - lo)
    until = since + width * (hi - lo + 600)
    tables = Tables(activity_rows=rows)
    bands = list(tables.wear(device, since, until))
    assert list(coverage_module.segments(bands, until)) == list(old_segments(_rows(bands), until))
    mine = sorted((r for r in rows if device in (None, r.device) and r.t < until + LEAD_S), key=lambda r: r.t)
    assert list(tables.transitions(device, since, until)) == [tr for tr in old_transitions(mine) if since <= tr.t < until]


@settings(max_examples=300, deadline=None)
@given(stretches(), st.lists(st.integers(0, 2400), max_size=12), st.floats(0.0, 1.0))
def test_any_epochs_in_parts_are_the_epochs_whole(rows: list[ActivityRow], cuts: list[int], end: float) -> None:
    """Each band's epochs cut into parts anywhere (as the store's chunks cut them): inside a stretch
    of one wear or of one length, at a gap, a sleep window (of 60 epochs of 10 s, 600 of 1 s) after a
    wake or a fresh start, parts of one epoch or none. The segments and the onsets are those of the
    epochs whole (the reference's: test_tables_of_any_epochs_are_the_epoch_at_a_time_ones). Old code:
    each part read as a band of its own (a span cut, a sleep window restarted)."""
    bands = list(Tables(activity_rows=rows).wear(None, -1e12, 1e12))
    parts = [b[a:z] for b in bands for a, z in pairwise([0, *sorted(c for c in cuts if c < len(b)), len(b)])]
    end_t = max((r.t for r in rows), default=0.0) + 1200 * end
    assert list(coverage_module.segments(parts, end_t)) == list(coverage_module.segments(bands, end_t))
    assert transitions(parts, -1e12, 1e12) == transitions(bands, -1e12, 1e12)
