"""A store whose band was taken off, went out of range and lost events (for coverage tests).

Epochs every 10 s from ``t0`` as the band sends them: off the body in the ``off`` spans, its worn
verdict made by the band's own hysteresis (``swcore.epoch.Wear``: 2 min off, 20 s on), none stored
in the ``gaps`` (the host heard nothing). Times are seconds from ``t0``.
"""

from __future__ import annotations

from pathlib import Path

from spasmwatch.store import Store
from swcore import protocol as P
from swcore.epoch import Wear

DEVICE = "band-1"
BOOT = 1
EPOCH_S = 10.0

Spans = tuple[tuple[float, float], ...]


def inside(t: float, spans: Spans) -> bool:
    return any(a <= t < b for a, b in spans)


def epochs(seconds: float, off: Spans) -> list[tuple[float, bool, int]]:
    """(start, off body, the band's worn verdict) of every epoch the band made, heard or not."""
    wear = Wear()
    out = []
    for k in range(int(seconds / EPOCH_S)):
        t = k * EPOCH_S
        wear.update(inside(t, off))
        out.append((t, inside(t, off), wear.state))
    return out


def spasm(seq: int, t: float) -> dict[str, int]:
    return {"boot": BOOT, "seq": seq, "onset_ms": int(t * 1000), "duration_ms": 1200, "peak_rate_mrads": 2100,
            "peak_angle_mrad": 350, "confidence": 80, "flags": P.EF_TIME_SYNCED}  # fmt: skip


def build(path: Path, t0: float, seconds: float, off: Spans = (), gaps: Spans = (), spasms: tuple[float, ...] = (),
          lost: tuple[int, int, float] | None = None, clusters: tuple[tuple[float, int], ...] = (),
          device: str = DEVICE) -> None:  # fmt: skip
    """``spasms``: onsets, given seqs 1, 2, ... with the ``lost`` (first seq, last seq, when reported)
    left out of the numbering. ``clusters``: (start, spasms counted) of closed clusters a minute long,
    as the daemon stores them (their spasm events are not stored: the report counts the count).
    ``device``: the band's id (another band of the same store: build again with another)."""
    with Store(path) as store:
        store.add_sync(device, BOOT, 0, t0)
        rows = [
            {"boot": BOOT, "t_ms": int((t + EPOCH_S) * 1000), "activity": 3 if is_off else 400, "breath": 40,
             "off_body": int(is_off), "worn": worn}  # fmt: skip
            for t, is_off, worn in epochs(seconds, off)
            if not inside(t, gaps)
        ]
        store.add_activity(device, rows, received_wall_s=t0)
        seq = 0
        for t in spasms:
            seq += 1
            if lost is not None and seq == lost[0]:
                seq = lost[1] + 1
            store.add_events(device, [spasm(seq, t)], received_wall_s=t0 + t)
        if lost is not None:
            store.mark_lost(device, lost[0], lost[1], t0 + lost[2])
        for i, (t, count) in enumerate(clusters):
            store.upsert_cluster(device, f"c{i}", t0 + t, t0 + t + 60, count, t0 + t + 20, None, True, wall_s=t0 + t + 120)
