"""The store's schema versions across releases: a store of a newer schema, read and written by an
older spasmwatch where the store's marker allows it, and refused with both versions named where it
does not (docs/store.md "Schema versions"). Real SQLite files on disk; "older code" is this code run
on a store built by hand at a higher version, or this code with a lower ``SCHEMA_VERSION``."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from spasmwatch.store import Store

DEV = "SW-0001"
T0 = 1_700_000_000.0


def _event(seq: int, boot: int = 1, confidence: int = 80) -> dict[str, Any]:
    return {"type": "event", "seq": seq, "boot": boot, "onset_ms": 1000 * seq + 500, "duration_ms": 800,
            "peak_rate_mrads": 3000, "peak_angle_mrad": 500, "confidence": confidence, "flags": 1}  # fmt: skip


def _epoch(t_ms: int) -> dict[str, Any]:
    return {"type": "activity", "boot": 1, "t_ms": t_ms, "activity": 12, "breath": 40, "off_body": 0, "worn": 1}


def _link(boot: int, gap_ms: int) -> dict[str, Any]:
    return {"type": "bootlink", "boot": boot, "prev_boot": boot - 1, "cause": 2, "flags": 1, "prev_ms": 40_000, "gap_ms": gap_ms, "err_ms": 3}


def _write_round(st: Store, n: int) -> None:
    """One of every write the daemon and the CLI's writers make, in round ``n`` (each round adds rows;
    its conflicts and lost ranges, made from round 0's, go through the INSERTs that named no columns)."""
    t = T0 + 1000.0 * n
    st.upsert_device(DEV, name="cot", wall_s=t)
    st.add_sync(DEV, 1, 10 * n, t)
    st.add_events(DEV, [_event(10 * n + 1), _event(10 * n + 2)], t)
    st.add_events(DEV, [_event(1, confidence=81 + n)], t)  # a conflict with round 0's seq 1
    st.add_activity(DEV, [_epoch(100_000 * n)], t)
    st.add_status(DEV, t, {"battery_pct": 90 - n, "worn": 1, "next_seq": 10 * n + 3})
    st.mark_lost(DEV, 100 + 10 * n, 105 + 10 * n, t)
    st.add_boot_link(DEV, _link(2 + n, 1500), t)
    st.add_boot_link(DEV, _link(2, 1600 + n), t)  # a conflict with round 0's link
    ids = [i for i in st.event_ids_at(DEV, [t - 1.0]) if i is not None]
    cid = st.upsert_cluster(DEV, f"k{n}", t, t + 5.0, 2, t + 1.0, None, False, event_ids=ids, wall_s=t)
    st.label_cluster(cid, "confirmed", "mum", t)
    st.add_alert(cid, DEV, "cluster", "ALARM", t, "a cluster", ("ntfy",), alert_id=n + 1)
    st.add_note(t, "note", f"note {n}", DEV, "dad")
    st.add_treatment(t, "acth", "start", 1.0, "mg", None, "mum")
    st.keep_failing(f"ntfy{n}", t, "refused")
    st.record_zone(t, "Europe/Paris" if n % 2 else "Europe/London")


def _read_all(st: Store) -> list[Any]:
    """Everything the store's readers give, row objects as they are read."""
    now = T0 + 10_000.0
    clusters = list(st.clusters(DEV, None, None))
    return [
        st.devices(), st.syncs(DEV), list(st.events(DEV)), list(st.activity(DEV)), st.conflicts(DEV), st.latest_status(DEV),
        list(st.status_history(DEV)), st.lost_ranges(DEV), st.boot_links(DEV), clusters,
        [st.cluster_events(c.id) for c in clusters], [st.labels(c.id) for c in clusters], [st.label_of(c.id) for c in clusters],
        list(st.alerts(DEV)), list(st.notes()), list(st.treatments()), st.failing_channels(), st.zones(0.0, now),
    ]  # fmt: skip


def _widen(path: Path) -> None:
    """A column more in every table, as a later schema step may add one (nullable, as an additive step's is)."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            c.execute(f"ALTER TABLE {table} ADD COLUMN later_step TEXT")


def test_a_store_whose_tables_have_columns_more_is_read_and_written_as_one_without(tmp_path: Path) -> None:
    """What lets this version read and write a newer store an additive step changed: every read and
    write names its columns. Old code: devices(), syncs(), status, lost ranges, boot links and labels
    were read by SELECT * (TypeError: a field more), and conflicts, link conflicts, lost ranges and
    cluster events written by INSERTs that named no columns ('table has 5 columns but 4 values')."""
    plain, wide = tmp_path / "plain.db", tmp_path / "wide.db"
    for path in (plain, wide):
        with Store(path) as st:
            _write_round(st, 0)
    _widen(wide)
    for path in (plain, wide):
        with Store(path) as st:
            _write_round(st, 1)
    with Store.open_readonly(plain) as a, Store.open_readonly(wide) as b:
        assert _read_all(b) == _read_all(a)
        assert len(a.conflicts(DEV)) == 4 and len(a.lost_ranges(DEV)) == 2 and len(a.boot_links(DEV)) == 2
