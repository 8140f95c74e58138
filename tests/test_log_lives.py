"""Log lives: a band whose flash was erased counts boots and seqs from the start
again; the store maps each life into numbers of its own (docs/store.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spasmwatch.daemon.session import Offsets
from spasmwatch.store import LogLife, Store
from swcore import protocol as P

DEV = "SW-0001"
T0 = 1_800_000_000.0


def ev(seq: int, boot: int = 1, onset_ms: int | None = None) -> dict[str, Any]:
    return {"type": "event", "seq": seq, "boot": boot, "onset_ms": 1000 * (seq + 1) if onset_ms is None else onset_ms,
            "duration_ms": 800, "peak_rate_mrads": 3000, "peak_angle_mrad": 500, "confidence": 80, "flags": 1}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store(tmp_path / "sw.db") as st:
        yield st


def first_life(store: Store, n: int = 5, boot: int = 1) -> None:
    """A band's first life: ``n`` events of ``boot``, synced, the last at band ms 1000 * n."""
    store.add_sync(DEV, boot, 0, T0)
    store.add_events(DEV, [ev(s, boot) for s in range(n)], T0)


def check(store: Store, boot: int, next_seq: int, band_ms: int, erased: bool = False) -> tuple[LogLife, bool]:
    return store.check_log_life(DEV, boot, next_seq, band_ms, T0 + 3600, erased)


def test_an_empty_store_keeps_the_first_life(store: Store) -> None:
    assert check(store, 7, 123, 5000) == (LogLife(DEV, None, 0, 0), False)
    assert store.log_lives(DEV) == [] and store.next_backfill_seq(DEV) == 0


def test_reconnects_and_reboots_stay_in_the_life(store: Store) -> None:
    first_life(store)
    assert check(store, 1, 5, 60_000) == (LogLife(DEV, None, 0, 0), False)  # a radio drop: same boot, clock on
    assert check(store, 2, 5, 100) == (LogLife(DEV, None, 0, 0), False)  # rebooted: boot + 1, seq going on
    assert check(store, 2, 9, 100)[1] is False  # ... and logged more while away
    assert store.log_lives(DEV) == []


def test_an_erased_band_starts_a_life_past_everything_stored(store: Store) -> None:
    first_life(store)
    life, started = check(store, 1, 0, 50)
    assert started and life == LogLife(DEV, T0 + 3600, 1, 5)
    assert store.next_backfill_seq(DEV) == 5  # band seq 0
    # The new life's events, numbered by the session: stored beside the old ones, placed by their own sync.
    store.add_sync(DEV, 1 + life.boot_offset, 50, T0 + 3600)
    off = Offsets(life.boot_offset, life.seq_offset)
    assert store.add_events(DEV, [off.to_host(ev(s)) for s in range(3)]) == 3
    assert store.next_backfill_seq(DEV) == 8 and store.count_events(DEV) == 8
    new = [e for e in store.events(DEV) if e.seq >= 5]
    assert [(e.boot, e.seq, e.wall_t) for e in new] == [(2, 5 + s, T0 + 3600 + (1000 * (s + 1) - 50) / 1000) for s in range(3)]
    # The same band later: no further life, also after a host restart.
    assert check(store, 1, 3, 9000) == (life, False)
    assert check(store, 2, 3, 10) == (life, False)
    assert store.log_life(DEV) == life and store.log_lives(DEV) == [life]


def test_a_boot_counter_gone_back_renumbers_boots_and_keeps_seqs_going_on(store: Store) -> None:
    """Boot 1 after boot 3 with seqs going on: the boot counter (state.bin) was reset, the log kept."""
    first_life(store, n=2, boot=3)
    life, started = check(store, 1, 10, 50)
    assert started and (life.boot_offset, life.seq_offset) == (3, 0)
    assert store.next_backfill_seq(DEV) == 2
    assert check(store, 0, 12, 50)[0].boot_offset == 4  # boot 0 (the u16 counter wrapped) -> 4: past all stored


def test_a_reset_boot_counter_with_the_log_kept_renumbers_boots_only(store: Store) -> None:
    """state.bin lost (bad CRC): boot 1 again, its clock behind what boot 1 reached; seqs go on."""
    first_life(store)
    life, started = check(store, 1, 5, 2000)  # boot 1's event 4 was at band ms 5000
    assert started and (life.boot_offset, life.seq_offset) == (1, 0)
    assert store.next_backfill_seq(DEV) == 5  # nothing fetched twice


def test_a_refused_backfill_starts_a_life_and_old_holes_are_not_asked_for(store: Store) -> None:
    first_life(store)
    store.add_events(DEV, [ev(s) for s in (7, 8)])  # 5 and 6 never arrived
    assert store.next_backfill_seq(DEV) == 5
    life, started = check(store, 2, 6, 100, erased=True)  # the band said E_VALUE to BACKFILL 5
    assert started and (life.boot_offset, life.seq_offset) == (0, 9)
    assert store.next_backfill_seq(DEV) == 9


def test_offsets_shift_every_boot_and_seq_field() -> None:
    off = Offsets(boot=3, seq=100)
    assert off.to_host(P.decode(P.encode_event(2, 1, 500, 800, 1, 1, 90)))["seq"] == 102
    assert off.to_host(P.decode(P.encode_event(2, 1, 500, 800, 1, 1, 90)))["boot"] == 4
    st = off.to_host(P.decode(P.encode_status(90, 1, 5, 0, 0, 2, 60, 7)))
    assert (st["boot"], st["next_seq"], st["uptime_s"]) == (5, 107, 60)
    assert off.to_host(P.decode(P.encode_activity(1, 10_000, 3, 40, 0, 1)))["boot"] == 4
    li = off.to_host(P.decode(P.encode_loginfo(P.LF_GAP, 4, 9, 512)))
    assert (li["oldest_seq"], li["next_seq"], li["capacity"]) == (104, 109, 512)
    rec = P.decode(P.encode_event(2, 1, 500, 800, 1, 1, 90))
    assert Offsets().to_host(rec) is rec
