"""A ``Source`` over the SQLite store, opened read-only: exports never change it.

Store rows are turned into the export's rows on the fly (the store streams
them from one snapshot, a band's epochs a chunk at a time), so memory does not
grow with the range.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spasmwatch.analysis import consts as A
from spasmwatch.analysis.sleepwake import counts_worn
from swcore import consts as C
from swcore import protocol as P

from spasmwatch.export.rows import ActivityRow, BandEpochs, ClusterRow, LostRow, NoteRow, SpasmRow, TransitionRow, TreatmentRow
from spasmwatch.export.sleep import DECIDED_WITHIN_S, GAP_KEEP_S, LEAD_S, transitions
from spasmwatch.store import Store
from spasmwatch.store.rows import ActivityRow as StoredEpoch
from spasmwatch.store.store import ACTIVITY_COLUMNS

# The band's default IMU rate (firmware/band/config.py), for a band that has not
# reported its own: the rate sets how many samples an epoch holds, hence when an
# epoch counts as active.
DEFAULT_RATE_HZ = 52.0
EPOCH_S = C.EPOCH_MS / 1000.0


def _epoch_n(rate_hz: float) -> int:
    """Samples per epoch, as swcore.frontend.Params counts them."""
    return max(10, int(C.EPOCH_MS * rate_hz / 1000 + 0.5))


def _active_min(rate_hz: float, pct: int = A.EPOCH_ACTIVE_PCT) -> int:
    """An epoch is active when its active samples reach this: EPOCH_ACTIVE_PCT of its samples
    (``pct``: moving at WAKE_MOVE_PCT), rounded up (compared as is, not x 100: a stored count past
    int64 / 100 wrapped in numpy)."""
    return -(-_epoch_n(rate_hz) * pct // 100)


def _mins(rate_hz: float) -> tuple[int, int]:
    """The active samples an epoch at ``rate_hz`` is active at, and moving at (WAKE_MOVE_PCT)."""
    return _active_min(rate_hz), _active_min(rate_hz, A.WAKE_MOVE_PCT)


def _ends(since: float, until: float) -> tuple[float, float]:
    """The epochs' end times (the store's wall_t) of epochs starting in [since, until)."""
    return since + EPOCH_S, until + EPOCH_S


def _columns(a: StoredEpoch | None) -> np.ndarray:
    """The store's epoch ``a`` (none: no epoch) as ``Store.activity_chunks`` gives it."""
    return np.array([] if a is None else [(a.wall_t, a.activity, a.off_body, counts_worn(a.worn, a.off_body))], ACTIVITY_COLUMNS)


class StoreSource:
    def __init__(self, store: Store, rate_hz: float | None = None) -> None:
        """``rate_hz``: every band's IMU rate; None: each band's as it reported it (else the default)."""
        self.store = store
        self._default_mins = _mins(rate_hz or DEFAULT_RATE_HZ)
        self._mins = {d.device_id: _mins(rate_hz or d.rate_hz or DEFAULT_RATE_HZ) for d in store.devices()}

    @classmethod
    def open(cls, path: Path, rate_hz: float | None = None) -> StoreSource:
        return cls(Store.open_readonly(path), rate_hz)

    def close(self) -> None:
        self.store.close()

    def spasms(self, device: str | None, since: float, until: float) -> Iterator[SpasmRow]:
        for e in self.store.events(device, since, until):
            assert e.wall_t is not None  # a ranged query returns placed events only
            matched = bool(e.flags & P.EF_MATCHED)
            alike = bool(e.flags & P.EF_ALIKE)
            yield SpasmRow(
                e.device, e.boot, e.seq, e.wall_t, e.duration_s, e.peak_rate_dps, e.peak_angle_deg, e.confidence, matched, alike
            )

    def clusters(self, device: str | None, since: float, until: float) -> Iterator[ClusterRow]:
        for c in self.store.clusters(device, since, until):
            if since <= c.start_t < until:  # the store gives clusters overlapping the range
                yield ClusterRow(c.id, c.device, c.start_t, c.end_t, c.count, c.alert_t, c.post_wake_s, c.label, c.label_by)

    def activity(self, device: str | None, since: float, until: float) -> Iterator[ActivityRow]:
        # The store's wall_t is the epoch's end. Worn is the band's verdict (its hysteresis: two
        # minutes of off-body epochs), as the daemon and replay follow it: one still epoch with no
        # breathing seen (off_body) does not mean the band came off.
        return map(self._epoch, self.store.activity(device, *_ends(since, until)))

    def _epoch(self, a: StoredEpoch) -> ActivityRow:
        assert a.wall_t is not None  # a ranged query returns placed epochs only
        active, moving = (a.activity >= m for m in self._mins.get(a.device, self._default_mins))
        return ActivityRow(a.device, a.wall_t - EPOCH_S, EPOCH_S, active, moving, counts_worn(a.worn, a.off_body), a.off_body)

    def _band(self, device: str, cols: np.ndarray) -> BandEpochs:
        """The band's epochs of the store's columns, as ``_epoch`` makes each."""
        active, moving = (cols["activity"] >= m for m in self._mins.get(device, self._default_mins))
        t = cols["wall_t"] - EPOCH_S
        # Copies of the flags and one length for all (no array of it): nothing holds ``cols`` on
        # and the epochs take 12 B each, not 35 (docs/web.md)
        epoch_s = np.broadcast_to(np.float64(EPOCH_S), t.shape)
        return BandEpochs(device, t, epoch_s, active, moving, cols["worn"].copy(), cols["off_body"].copy())

    def _reads(self, device: str | None, since: float, until: float, sleep: bool) -> Iterator[tuple[BandEpochs, BandEpochs]]:
        """Pairs of parts of each band's epochs: ``wear``'s and (``sleep``) those ``transitions`` reads,
        a chunk of the store at a time: wear's part of each chunk is a slice of it (its range in it);
        a band's parts one after another, the next band's after."""
        lo, hi = _ends(since, until)
        for d in self._bands(device):
            none = self._band(d, _columns(None))
            yield self._band(d, _columns(self.store.activity_next_to(d, lo, before=True))), none
            for cols in self.store.activity_chunks(d, *(self._sleep_ends(d, since, until) if sleep else (lo, hi))):
                band, ends = self._band(d, cols), cols["wall_t"]
                yield band[int(np.searchsorted(ends, lo)) : int(np.searchsorted(ends, hi))], band
            yield self._band(d, _columns(self.store.activity_next_to(d, hi, before=False))), none

    def _sleep_ends(self, device: str, since: float, until: float) -> tuple[float, float]:
        """The ends of the band's epochs ``transitions`` reads for [since, until): from its last fresh
        start at or before ``since`` (its estimate there is the one begun at its first epoch), at
        most LEAD_S before it, to DECIDED_WITHIN_S after ``until`` (export/sleep.py says why)."""
        cap, _ = _ends(since - LEAD_S, until)
        start = self.store.activity_run_start(device, cap, since + EPOCH_S, EPOCH_S, GAP_KEEP_S)
        return (cap if start is None else start), until + DECIDED_WITHIN_S + EPOCH_S

    def _bands(self, device: str | None) -> list[str]:
        return [device] if device is not None else sorted(d.device_id for d in self.store.devices())

    def wear(self, device: str | None, since: float, until: float) -> Iterator[BandEpochs]:
        return (w for w, _ in self._reads(device, since, until, False))

    def wear_and_sleep(self, device: str | None, since: float, until: float) -> Iterator[tuple[BandEpochs, BandEpochs]]:
        return self._reads(device, since, until, True)

    def lost(self, device: str | None) -> Iterator[LostRow]:
        for d in self._bands(device):
            for r in self.store.lost_ranges(d):
                t = self.store.event_time_next_to(d, r.first_seq, before=True)
                after = self.store.event_time_next_to(d, r.last_seq, before=False)
                yield LostRow(d, t, after if after is not None else r.wall_s, r.first_seq, r.last_seq - r.first_seq + 1)

    def transitions(self, device: str | None, since: float, until: float) -> Iterator[TransitionRow]:
        return iter(transitions((s for _, s in self._reads(device, since, until, True)), since, until))

    def notes(self, device: str | None, since: float, until: float) -> Iterator[NoteRow]:
        for n in self.store.notes(since, until, device):
            yield NoteRow(n.id, n.device, n.wall_s, n.kind, n.text, n.by)

    def treatments(self, since: float, until: float) -> Iterator[TreatmentRow]:
        for t in self.store.treatments(since, until):
            yield TreatmentRow(t.id, t.wall_s, t.drug, t.dose, t.unit, t.action, t.note, t.by)
