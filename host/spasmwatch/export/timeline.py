"""Merge a source's rows into one time-ordered stream of export rows.

Each kind comes from the source already ordered by time; ``heapq.merge``
interleaves them lazily, so a year of events streams through with memory for
one row per kind.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from spasmwatch.analysis.wallclock import local_instants
from spasmwatch.export.columns import KINDS, NAMES
from spasmwatch.export.coverage import DISCONNECTED, NOT_WORN, Segment, lost_in, spans
from spasmwatch.export.rows import ClusterRow, LostRow, NoteRow, Source, SpasmRow, TransitionRow, TreatmentRow

Value = str | int | float | None
Row = dict[str, Value]


@dataclass(frozen=True)
class Query:
    """What to export: one device or all (None), a wall-time range, some kinds."""

    device: str | None
    since: float
    until: float
    kinds: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        if not self.since < self.until:
            raise ValueError(f"empty time range: since {iso(self.since)} is not before until {iso(self.until)}")
        check_kinds(self.kinds)


def check_kinds(kinds: tuple[str, ...]) -> None:
    """ValueError unless every kind is one of KINDS, and there is one (an export of nothing)."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    if not kinds:
        raise ValueError(f"no kind given; choose from {', '.join(KINDS)}")


def iso(t: float) -> str:
    """Unix seconds -> ``2024-03-05T06:12:40.125Z`` (UTC, milliseconds, rounded as ``onset_s`` is)."""
    return datetime.fromtimestamp(round(t, 3), tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str, what: str = "time", tz: tzinfo | None = None) -> float:
    """ISO 8601 -> unix seconds; a time without a zone is in ``tz`` (default: this computer's)."""
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{what}: not an ISO 8601 date/time: {text!r}") from exc
    if dt.tzinfo is None:
        return _local_instant(dt, tz, what, text.strip())
    try:
        return dt.timestamp()
    except (OverflowError, ValueError) as exc:
        raise _beyond(what, text.strip(), exc) from None


def _beyond(what: str, text: str, exc: Exception) -> ValueError:
    """A time whose instant is before year 1 or after 9999 in UTC or in this computer's zone, as the
    option names it: datetime's 'year 0 is out of range' named neither (hostile-input review)."""
    return ValueError(f"{what}: {text} is beyond the dates a computer's clock can give ({exc})")


def _local_instant(naive: datetime, tz: tzinfo | None, what: str, text: str) -> float:
    """Unix seconds of a local time in ``tz`` (None: this computer's), refused when it names no
    instant or two (DST), as 'truth --wall-clock' refuses them: found by the researcher audit,
    '--since 2026-10-25T02:30' (Europe/Paris, the hour gone through twice) was taken as the first
    without a word, and '2026-03-29T02:30' (skipped) as 00:30Z, for a recording start the EEG's."""
    try:
        found = local_instants(naive, tz)
    except (OverflowError, ValueError) as exc:
        raise _beyond(what, text, exc) from None
    zone = str(tz) if tz is not None else "this computer's time zone"
    if not found:
        raise ValueError(f"{what}: {text} did not happen in {zone}: the clocks skipped that hour (DST); give its offset, {_skipped(naive, tz)}")
    if len(found) > 1:
        both = " or ".join(datetime.fromtimestamp(u, tz).astimezone(tz).isoformat() for u in found)  # tz None: local
        raise ValueError(f"{what}: {text} happened twice in {zone} (the clocks went back an hour): give its offset, {both}")
    return found[0]


def _skipped(naive: datetime, tz: tzinfo | None) -> str:
    """A skipped local time with the zone's offset before and after the change, each with what the
    clocks read then: '2024-03-31T02:30:00+01:00 (03:30 on the clocks) or 2024-03-31T02:30:00+02:00
    (01:30 on the clocks)'. The refusal said 'e.g. +01:00', Europe's offset whatever the zone (New
    York's is -05:00), and not which instant each offset names (doctor review)."""
    said: list[str] = []
    for fold in (0, 1):
        aware = naive.replace(fold=fold, tzinfo=tz) if tz is not None else naive.replace(fold=fold).astimezone()
        offset = aware.utcoffset()
        if offset is None:
            continue
        exact = naive.replace(tzinfo=timezone(offset))
        clocks = datetime.fromtimestamp(exact.timestamp(), tz) if tz is not None else datetime.fromtimestamp(exact.timestamp())
        choice = f"{exact.isoformat()} ({clocks:%H:%M} on the clocks)"
        if choice not in said:
            said.append(choice)
    return " or ".join(said)


def _blank(t: float, kind: str, device: str | None, duration_s: float = 0.0) -> Row:
    row: Row = dict.fromkeys(NAMES)
    row.update(onset_utc=iso(t), onset_s=t, duration_s=round(duration_s, 3), kind=kind, device=device)
    return row


def spasm_row(s: SpasmRow) -> Row:
    row = _blank(s.t, "spasm", s.device, s.duration_s)
    row.update(
        boot=s.boot,
        seq=s.seq,
        confidence=s.confidence,
        peak_rate_dps=round(s.peak_rate_dps, 1),
        peak_angle_deg=round(s.peak_angle_deg, 1),
        matched=int(s.matched),
        alike=int(s.alike),
    )
    return row


def cluster_row(c: ClusterRow) -> Row:
    row = _blank(c.t, "cluster", c.device, c.end - c.t)
    row.update(
        cluster_id=c.id,
        count=c.count,
        alert_utc=iso(c.alert_t) if c.alert_t is not None else None,
        post_wake_s=round(c.post_wake_s, 1) if c.post_wake_s is not None else None,
        label=c.label,
        by=c.label_by,  # who labelled it, as a note's and a treatment's author (researcher audit)
    )
    return row


def transition_row(tr: TransitionRow) -> Row:
    return _blank(tr.t, tr.kind, tr.device)


def note_row(n: NoteRow) -> Row:
    row = _blank(n.t, "note", n.device)
    row.update(note_kind=n.kind, text=n.text, by=n.by)
    return row


def treatment_row(tr: TreatmentRow) -> Row:
    row = _blank(tr.t, "treatment", None)
    # the note and who recorded it were dropped (researcher audits)
    row.update(drug=tr.drug, dose=tr.dose, unit=tr.unit, action=tr.action, text=tr.note, by=tr.by)
    return row


def segment_row(s: Segment) -> Row:
    """A span the band was not worn, or not heard from (export/coverage.py)."""
    return _blank(s.t, s.kind, s.device, s.end - s.t)


def lost_row(r: LostRow) -> Row:
    assert r.t is not None  # only dated ones are rows; the others are counted in the sidecar
    row = _blank(r.t, "lost", r.device, max(r.end - r.t, 0.0))
    row.update(seq=r.first_seq, count=r.n)
    return row


def _gaps(segs: Iterable[Segment]) -> Iterator[Row]:
    return (segment_row(s) for s in segs if s.kind in (NOT_WORN, DISCONNECTED))


def _streams(source: Source, q: Query, segs: Sequence[Segment] | None, found: Sequence[TransitionRow] | None) -> list[Iterable[Row]]:
    d, a, b = q.device, q.since, q.until
    makers: dict[str, Callable[[], Iterable[Row]]] = {
        "spasm": lambda: map(spasm_row, source.spasms(d, a, b)),
        "cluster": lambda: map(cluster_row, source.clusters(d, a, b)),
        "wake": lambda: map(transition_row, found if found is not None else source.transitions(d, a, b)),
        "note": lambda: map(note_row, source.notes(d, a, b)),
        "treatment": lambda: map(treatment_row, source.treatments(a, b)),
        "not_worn": lambda: _gaps(segs if segs is not None else spans(source, d, a, b)),
        "lost": lambda: map(lost_row, lost_in(source, d, a, b)[0]),
    }
    same = {"sleep": "wake", "disconnected": "not_worn"}  # one stream gives both kinds
    wanted = {same.get(k, k) for k in q.kinds}
    return [makers[k]() for k in makers if k in wanted]


def rows(source: Source, q: Query, segs: Sequence[Segment] | None = None, found: Sequence[TransitionRow] | None = None) -> Iterator[Row]:
    """Export rows in onset order; ``onset_s`` is still wall time (see ``relative``). ``segs``: the
    range's coverage segments (``coverage.spans``), and ``found`` its sleep/wake onsets (``transitions``'),
    when the caller has them already (one read of the epochs for both: ``coverage.heard_and_slept``)."""
    keep = set(q.kinds)
    merged = heapq.merge(*_streams(source, q, segs, found), key=_onset)
    return (r for r in merged if r["kind"] in keep)


def _onset(r: Row) -> float:
    t = r["onset_s"]
    assert isinstance(t, float | int)
    return float(t)


def relative(stream: Iterator[Row], start: float | None) -> tuple[float | None, Iterator[Row]]:
    """Recording start (``start`` or the first row, rounded down to the second) and the
    rows with ``onset_s`` made relative to it. Start is None when there are no rows."""
    first = next(stream, None)
    if first is None:
        return (math.floor(start) if start is not None else None), iter(())
    t0 = float(math.floor(start if start is not None else _onset(first)))

    def shifted() -> Iterator[Row]:
        for r in _chain(first, stream):
            r["onset_s"] = round(_onset(r) - t0, 3)
            yield r

    return t0, shifted()


def _chain(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest
