"""The rows exports and reports read, and where they come from.

Every time here is wall time, unix seconds (UTC). A ``Source`` yields each
kind of row for one device (or every device, ``device=None``) in a half-open
wall-time range ``[since, until)``, ordered by time, one row at a time (a band's
epochs a chunk at a time), so a huge range never sits in memory. ``store_source.StoreSource`` reads the SQLite
store (read-only); ``Tables`` holds rows in lists (tests, small tools).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

P = TypeVar("P")
NOTE_KINDS = ("video", "medication", "note")
TREATMENT_ACTIONS = ("start", "change", "stop")
LABELS = ("confirmed", "false_alarm")


@dataclass(frozen=True, slots=True)
class SpasmRow:
    device: str
    boot: int
    seq: int
    t: float  # onset, wall s
    duration_s: float
    peak_rate_dps: float
    peak_angle_deg: float
    confidence: int
    matched: bool = False  # a cluster-counter match (EF_MATCHED)
    alike: bool = False  # shaped like a full spasm up to 40 s before it (EF_ALIKE)


@dataclass(frozen=True, slots=True)
class ClusterRow:
    id: int
    device: str
    t: float  # start (first spasm onset), wall s
    end: float
    count: int
    alert_t: float | None
    post_wake_s: float | None
    label: str | None  # "confirmed", "false_alarm" or None (not labelled)
    label_by: str | None = None  # who gave the label; dropped until 2026-12-05 (researcher audit)


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """One activity epoch of the band: start time, length, and its verdicts."""

    device: str
    t: float  # epoch start, wall s
    epoch_s: float
    active: bool
    moving: bool  # at least WAKE_MOVE_PCT of its samples active (a wake's window needs one)
    worn: bool  # not the band's "not worn" verdict (its "unknown", at a boot, counts as worn)
    off_body: bool = False  # this epoch alone looked off the body (what the verdict's hysteresis counts)


@dataclass(frozen=True)
class BandEpochs:
    """One band's activity epochs in time order, as columns (``ActivityRow``'s fields): what coverage
    and the sleep/wake estimate read, a year's 3 million epochs, with no Python object for each
    (in pure Python 3.4 µs an epoch of the page's 366 days, 9.5 µs of a year-long report's: docs/web.md).
    A source gives a band's epochs in parts, one after another (``StoreSource``: a chunk of the store
    at a time); what reads them takes a band's consecutive parts as one band."""

    device: str
    t: NDArray[np.float64]
    epoch_s: NDArray[np.float64]
    active: NDArray[np.bool_]
    moving: NDArray[np.bool_]
    worn: NDArray[np.bool_]
    off_body: NDArray[np.bool_]

    @classmethod
    def of(cls, device: str, rows: Sequence[ActivityRow]) -> BandEpochs:
        """The band's epochs of ``rows`` (all of that band), in their order."""
        return cls(
            device,
            np.array([r.t for r in rows], dtype=np.float64),
            np.array([r.epoch_s for r in rows], dtype=np.float64),
            np.array([r.active for r in rows], dtype=np.bool_),
            np.array([r.moving for r in rows], dtype=np.bool_),
            np.array([r.worn for r in rows], dtype=np.bool_),
            np.array([r.off_body for r in rows], dtype=np.bool_),
        )

    @classmethod
    def cat(cls, parts: Sequence[BandEpochs]) -> BandEpochs:
        """One band's epochs of ``parts`` (of that band) one after another."""
        return cls(
            parts[0].device,
            np.concatenate([p.t for p in parts]),
            _lengths_cat([p.epoch_s for p in parts]),
            np.concatenate([p.active for p in parts]),
            np.concatenate([p.moving for p in parts]),
            np.concatenate([p.worn for p in parts]),
            np.concatenate([p.off_body for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, part: slice) -> BandEpochs:
        """The epochs of ``part`` (views, no copy)."""
        return BandEpochs(
            self.device, self.t[part], self.epoch_s[part], self.active[part], self.moving[part], self.worn[part], self.off_body[part]
        )


def _lengths_cat(parts: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Epoch lengths ``parts`` one after another; all of one length: that length for all, no array
    of it (StoreSource's epochs: a year's would be 25 MB, docs/web.md)."""
    held = [p for p in parts if len(p)]
    if held and min(p.min() for p in held) == max(p.max() for p in held):
        return np.broadcast_to(held[0][:1], (sum(map(len, held)),))
    return np.concatenate(parts)


def by_device(parts: Iterable[P], device: Callable[[P], str]) -> Iterator[Iterator[P]]:
    """Each band's consecutive ``parts`` (``device``: a part's band), a band at a time (to be read in turn)."""
    return (band for _, band in groupby(parts, key=device))


def by_band(rows: Iterable[ActivityRow]) -> list[BandEpochs]:
    """``rows`` of any bands as each band's epochs, in their order; bands by name."""
    bands: dict[str, list[ActivityRow]] = {}
    for r in rows:
        bands.setdefault(r.device, []).append(r)
    return [BandEpochs.of(d, bands[d]) for d in sorted(bands)]


@dataclass(frozen=True, slots=True)
class TransitionRow:
    device: str
    t: float  # onset, wall s
    kind: str  # "wake" or "sleep"


@dataclass(frozen=True, slots=True)
class LostRow:
    """A range of seqs the band logged and no longer held when the host asked (the store's
    ``lost``), dated between the stored events on either side of it."""

    device: str
    t: float | None  # the stored event before it, wall s; None: none (the events cannot be dated)
    end: float  # the stored event after it, else when the band reported the loss, wall s
    first_seq: int
    n: int  # events lost


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    device: str | None
    t: float
    kind: str  # video, medication, note
    text: str
    by: str | None = None  # who wrote it


@dataclass(frozen=True, slots=True)
class TreatmentRow:
    id: int
    t: float
    drug: str
    dose: float | None
    unit: str | None
    action: str  # start, change, stop
    note: str | None = None  # treatment add --note
    by: str | None = None  # who recorded it (treatment add --by); dropped until 2026-12-05 (researcher audit)


class Source(Protocol):
    """Rows by wall-time range, each iterator ordered by ``t``."""

    def spasms(self, device: str | None, since: float, until: float) -> Iterable[SpasmRow]: ...

    def clusters(self, device: str | None, since: float, until: float) -> Iterable[ClusterRow]: ...

    def transitions(self, device: str | None, since: float, until: float) -> Iterable[TransitionRow]: ...

    def notes(self, device: str | None, since: float, until: float) -> Iterable[NoteRow]: ...

    def treatments(self, since: float, until: float) -> Iterable[TreatmentRow]: ...

    def wear(self, device: str | None, since: float, until: float) -> Iterable[BandEpochs]:
        """Each band's epochs (one band after another, each in time order) starting in [since, until),
        with the band's last epoch before the range and its first after it (coverage sees a span
        that crosses either end)."""
        ...

    def wear_and_sleep(self, device: str | None, since: float, until: float) -> Iterable[tuple[BandEpochs, BandEpochs]]:
        """``wear``'s epochs and those ``transitions`` reads (each band's from its last fresh start at
        or before ``since``, export/sleep.py's LEAD_S at most, to DECIDED_WITHIN_S after ``until``) of
        one read of the store: pairs of parts of one band, each band's after the
        other's. The report takes its hours and its sleep/wake from it (two reads cost 2 s of a
        year-long report's 5, docs/web.md)."""
        ...

    def lost(self, device: str | None) -> Iterable[LostRow]:
        """Every lost seq range of the band (or all bands), dated; the caller picks by time."""
        ...


class _Timed(Protocol):
    @property
    def t(self) -> float: ...


R = TypeVar("R", bound=_Timed)


def _window(rows: Sequence[R], device: str | None, since: float, until: float) -> Iterator[R]:
    for r in sorted(rows, key=lambda r: r.t):
        if since <= r.t < until and (device is None or getattr(r, "device", None) in (device, None)):
            yield r


@dataclass
class Tables:
    """Rows held in lists: a ``Source`` for tests and small tools."""

    spasm_rows: list[SpasmRow] = field(default_factory=list)
    cluster_rows: list[ClusterRow] = field(default_factory=list)
    activity_rows: list[ActivityRow] = field(default_factory=list)
    note_rows: list[NoteRow] = field(default_factory=list)
    treatment_rows: list[TreatmentRow] = field(default_factory=list)
    lost_rows: list[LostRow] = field(default_factory=list)

    def spasms(self, device: str | None, since: float, until: float) -> Iterator[SpasmRow]:
        return _window(self.spasm_rows, device, since, until)

    def clusters(self, device: str | None, since: float, until: float) -> Iterator[ClusterRow]:
        return _window(self.cluster_rows, device, since, until)

    def transitions(self, device: str | None, since: float, until: float) -> Iterator[TransitionRow]:
        from spasmwatch.export.sleep import transitions

        return iter(transitions(self._sleep(device, until), since, until))

    def _sleep(self, device: str | None, until: float) -> list[BandEpochs]:
        """The epochs ``transitions`` reads: each band's from its first to LEAD_S (a day) after
        ``until``, past any onset's decision whatever its epochs' length (DECIDED_WITHIN_S is the
        store's 10 s epochs')."""
        from spasmwatch.export.sleep import LEAD_S

        return by_band(_window(self.activity_rows, device, -float("inf"), until + LEAD_S))

    def wear_and_sleep(self, device: str | None, since: float, until: float) -> Iterator[tuple[BandEpochs, BandEpochs]]:
        wear = {b.device: b for b in self.wear(device, since, until)}
        sleep = {b.device: b for b in self._sleep(device, until)}
        for d in sorted(wear.keys() | sleep.keys()):
            none = BandEpochs.of(d, [])
            yield wear.get(d, none), sleep.get(d, none)

    def notes(self, device: str | None, since: float, until: float) -> Iterator[NoteRow]:
        return _window(self.note_rows, device, since, until)

    def treatments(self, since: float, until: float) -> Iterator[TreatmentRow]:
        return _window(self.treatment_rows, None, since, until)

    def wear(self, device: str | None, since: float, until: float) -> Iterator[BandEpochs]:
        for d in sorted({a.device for a in self.activity_rows if device in (None, a.device)}):
            mine = sorted((a for a in self.activity_rows if a.device == d), key=lambda a: a.t)
            before = [a for a in mine if a.t < since][-1:]
            after = [a for a in mine if a.t >= until][:1]
            yield BandEpochs.of(d, before + [a for a in mine if since <= a.t < until] + after)

    def lost(self, device: str | None) -> Iterator[LostRow]:
        return (r for r in self.lost_rows if device in (None, r.device))
