"""Coverage of a range: when each band was heard from and worn, and which of its events were lost.

A rate (spasms per day, per hour awake) means nothing without the time the band was recording:
this is the one place exports (rows and sidecars) and the report take it from (docs/exports.md,
"Coverage"). From each band's ACTIVITY epochs, one every 10 s while the host hears the band, its
time is cut into segments of three kinds that do not overlap:

- ``worn``: epochs came and the band's verdict was worn (or not yet known, at a boot): monitored;
- ``not_worn``: the band's verdict was not worn, dated as replay dates it (docs/detector.md): from
  the start of the off-body epochs that made the verdict (2 min of them) to the start of the
  on-body ones that ended it (20 s);
- ``disconnected``: no epoch came for more than ``GAP_EPOCHS`` epochs (out of range, switched off,
  restarting, this computer off), between two epochs or after the band's latest one up to the end
  of data: a band not heard now, or switched off since yesterday, is disconnected until the export
  (the time it reads the store). The band goes on logging spasm events meanwhile, and they arrive
  by backfill; whether it was worn is not known.

A range's every second is one of those, or of two kinds no row is made of: ``before_heard``, the
range before the band's first epoch ever (it was not yet in use here), and ``after_data``, the
range after the end of data (the export's clock: nothing later can be stored yet). So a band's
segments of a range add up to its length (researcher audit: a band not heard since yesterday had
no row and no hour for it, and the recorded hours of a range ended at its latest epoch). Lost
events (seqs the band no longer held when the host asked) are dated between the stored events on
either side of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from spasmwatch.analysis.consts import GAP_EPOCHS
from spasmwatch.export.rows import BandEpochs, LostRow, Source, TransitionRow, by_device
from spasmwatch.export.sleep import BandSleep, in_order

WORN, NOT_WORN, DISCONNECTED = "worn", "not_worn", "disconnected"
# A range's time outside a band's recording: not rows (the range's ends say them), hours only.
BEFORE_HEARD, AFTER_DATA = "before_heard", "after_data"
HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class Segment:
    device: str
    t: float  # start, wall s
    end: float
    kind: str  # WORN, NOT_WORN, DISCONNECTED; BEFORE_HEARD or AFTER_DATA (of a range: spans)


def segments(bands: Iterable[BandEpochs], end: float | None = None) -> Iterator[Segment]:
    """The segments of each band's epochs (``Source.wear``; a band's consecutive parts one band).
    ``end``: the end of data; a band silent from its latest epoch to it is disconnected there (None:
    not said)."""
    for parts in by_device(bands, lambda b: b.device):
        band = BandSegments()
        for p in parts:
            yield from band.feed(p)
        yield from band.close(end)


@dataclass(frozen=True)
class _Open:
    """A band's segment open at its latest epoch ``last``: its kind and start, where that epoch's
    run of off-body (or on-body) epochs began, and the first epoch length of its stretch (no gap)."""

    last: BandEpochs
    kind: str
    start: float
    run_start: float
    first_s: float


@dataclass
class BandSegments:
    """One band's segments, fed its epochs a part at a time: each part's epochs compared with numpy,
    Python only where the band's state changes (a year's 3 million epochs taken one by one cost 0.8 µs
    each: docs/web.md); what is open at a part's end goes on into the next."""

    open: _Open | None = None

    def feed(self, part: BandEpochs) -> list[Segment]:
        if not len(part):
            return []
        o = self.open
        b = part if o is None else BandEpochs.cat([o.last, part])
        n, t, epoch_s, worn = len(b), b.t, b.epoch_s, b.worn
        # The next epoch goes on with the band's state: no more than GAP_EPOCHS of its length after one
        heard = t[1:] - t[:-1] <= GAP_EPOCHS * epoch_s[1:]
        # Where each epoch's run of off-body (or on-body) epochs began: a change is dated from it
        runs = np.flatnonzero(np.concatenate(([True], (b.off_body[1:] != b.off_body[:-1]) | ~heard)))
        run_t = t[runs]
        if o is not None:
            run_t[0] = o.run_start  # the open epoch's run began in an earlier part
        at_changes = np.flatnonzero((worn[1:] != worn[:-1]) & heard) + 1
        # ... of the changes' epochs only (of every epoch, 3 arrays of a year's 25 MB each: docs/web.md)
        run_start = run_t[np.searchsorted(runs, at_changes, "right") - 1].tolist()
        changes = at_changes.tolist()
        bounds = [0, *(np.flatnonzero(~heard) + 1).tolist(), n]
        out: list[Segment] = []
        k = 0
        for c0, c1 in zip(bounds[:-1], bounds[1:], strict=True):
            if c0 == 0 and o is not None:
                kind, start, first_s = o.kind, o.start, o.first_s
            else:
                kind, start, first_s = _kind(bool(worn[c0])), float(t[c0]), float(epoch_s[c0])
            while k < len(changes) and changes[k] < c1:
                i = changes[k]
                # The verdict changes after a run of epochs that says so (the band's hysteresis): the
                # change happened where that run began, as replay's not_worn start and end say.
                new = _kind(bool(worn[i]))
                led_here = bool(b.off_body[i]) == (new == NOT_WORN)
                at = max(run_start[k] if led_here else float(t[i]), start)
                k += 1
                if at > start:
                    out.append(Segment(b.device, start, at, kind))
                kind, start = new, at
            if c1 < n:
                last_end = float(t[c1 - 1] + epoch_s[c1 - 1])
                out.append(Segment(b.device, start, last_end, kind))
                out.append(Segment(b.device, last_end, float(t[c1]), DISCONNECTED))  # a gap: nothing heard from the band in between
        self.open = _Open(BandEpochs.cat([b[n - 1 :]]), kind, start, float(run_t[-1]), first_s)
        return out

    def close(self, end: float | None) -> Iterator[Segment]:
        """The band's last segment, and its silence from its latest epoch to the end of data ``end``."""
        if self.open is not None:
            o = self.open
            yield from _last(o.last.device, o.kind, o.start, float(o.last.t[0] + o.last.epoch_s[0]), o.first_s, end)


def _kind(worn: bool) -> str:
    return WORN if worn else NOT_WORN


def _last(device: str, kind: str, start: float, last_end: float, epoch_s: float, end: float | None) -> Iterator[Segment]:
    """A band's last segment (``epoch_s``: its first epoch's), and its silence from its latest epoch
    to the end of data."""
    if end is None or end <= last_end:
        yield Segment(device, start, last_end, kind)
    elif end - last_end <= GAP_EPOCHS * epoch_s:
        # Silent no longer than between the arrivals of two epochs whose gap is bridged (an epoch
        # is sent as it ends; arrivals up to GAP_EPOCHS epochs apart): its next epoch may be on its
        # way, so the band's state goes on, as over such a gap (a live export has no 10 s stub).
        yield Segment(device, start, end, kind)
    else:
        yield Segment(device, start, last_end, kind)
        yield Segment(device, last_end, end, DISCONNECTED)


def clipped(segs: Iterable[Segment], since: float, until: float) -> Iterator[Segment]:
    """The segments cut to [since, until): one crossing an end is cut there."""
    for s in segs:
        a, b = max(s.t, since), min(s.end, until)
        if a < b:
            yield Segment(s.device, a, b, s.kind)


def data_end(until: float, now: float | None = None) -> float:
    """The end of a range's data: ``until``, or before it the export's clock (``now``, None: this
    computer's): no epoch can be stored later, so a band silent up to it is disconnected now."""
    return min(until, time.time() if now is None else now)


def silent_to_now(recorded: Iterable[Segment], until: float, now: float) -> list[Segment]:
    """The ``disconnected`` segments of ``recorded(..., now)`` that run to the export's clock: a band not
    heard up to ``now``, the end of data when it comes before ``until``. Their end is the time of the
    export, not anything the band did (the EDF+ file ends before it: export/edf.py). Not clipped to
    the range: a band last heard before its start is said by when it was last heard."""
    end = data_end(until, now)
    return [s for s in recorded if s.kind == DISCONNECTED and s.end == end < until]


def recorded(source: Source, device: str | None, since: float, until: float, now: float | None = None) -> list[Segment]:
    """Every band's (or one's) segments from its latest epoch before ``since`` (``wear`` gives it) to
    the end of data, not clipped to the range (``now``: see ``data_end``). Held in a list: a band's
    segments are few (a few a day: each removal, each disconnection), its epochs are streamed."""
    return list(segments(source.wear(device, since, until), data_end(until, now)))


def heard_and_slept(
    source: Source, device: str | None, since: float, until: float, now: float | None = None
) -> tuple[list[Segment], list[TransitionRow]]:
    """``recorded``'s segments and ``source.transitions``' onsets of one read of each band's epochs
    (``Source.wear_and_sleep``), a part at a time: the report's hours and its sleep/wake."""
    end = data_end(until, now)
    segs: list[Segment] = []
    found: list[TransitionRow] = []
    for band in by_device(source.wear_and_sleep(device, since, until), lambda p: p[0].device):
        worn, sleep = BandSegments(), BandSleep()
        for w, s in band:
            segs += worn.feed(w)
            found += sleep.feed(s) if len(s) else []
        segs += worn.close(end)
    return segs, in_order(found, since, until)


def spans(source: Source, device: str | None, since: float, until: float, now: float | None = None) -> list[Segment]:
    """The range's segments of every band (or one), in time order, each second of the range one of
    each band's (``now``: see ``data_end``)."""
    return in_range(recorded(source, device, since, until, now), since, until)


def in_range(recorded: list[Segment], since: float, until: float) -> list[Segment]:
    """``recorded``'s segments and each band's time outside them, clipped to the range, in time order."""
    return sorted(clipped(recorded + _outside(recorded, since, until), since, until), key=lambda s: (s.t, s.device))


def _outside(recorded: list[Segment], since: float, until: float) -> list[Segment]:
    """Each band's range before its first epoch (none before the range: ``wear`` gives the latest
    one before it) and after its end of data (its segments run to it, or past ``until``)."""
    ends: dict[str, tuple[float, float]] = {}
    for s in recorded:
        first, last = ends.get(s.device, (s.t, s.end))
        ends[s.device] = (min(first, s.t), max(last, s.end))
    out = [Segment(d, since, first, BEFORE_HEARD) for d, (first, _) in ends.items()]
    return out + [Segment(d, last, until, AFTER_DATA) for d, (_, last) in ends.items()]


def lost_in(source: Source, device: str | None, since: float, until: float) -> tuple[list[LostRow], int]:
    """The lost ranges dated in [since, until), in time order, and the events of those that cannot
    be dated (no stored event before them) whose end is in the range."""
    dated: list[LostRow] = []
    undated = 0
    for r in source.lost(device):
        if r.t is not None and since <= r.t < until:
            dated.append(r)
        elif r.t is None and since <= r.end < until:
            undated += r.n
    return sorted(dated, key=lambda r: (r.t or 0.0, r.device, r.first_seq)), undated


@dataclass
class Hours:
    """Seconds of each kind (the sidecar gives them in hours)."""

    worn_s: float = 0.0
    not_worn_s: float = 0.0
    disconnected_s: float = 0.0
    before_heard_s: float = 0.0
    after_data_s: float = 0.0
    lost_events: int = 0
    lost_undated: int = 0

    def add(self, s: Segment) -> None:
        d = s.end - s.t
        if s.kind == WORN:
            self.worn_s += d
        elif s.kind == NOT_WORN:
            self.not_worn_s += d
        elif s.kind == DISCONNECTED:
            self.disconnected_s += d
        elif s.kind == BEFORE_HEARD:
            self.before_heard_s += d
        else:
            self.after_data_s += d

    def doc(self) -> dict[str, float | int]:
        """The sidecar's words. Recorded = monitored + not worn + disconnected (the band's first
        epoch, or the range's start, to the end of data); recorded + before first heard + after the
        end of data = the range; worn = recorded - not worn (disconnected time included: not seen
        off); monitored = worn and heard from, the hours to divide counts by."""
        h = {
            "RecordedHours": self.worn_s + self.not_worn_s + self.disconnected_s,
            "WornHours": self.worn_s + self.disconnected_s,
            "MonitoredHours": self.worn_s,
            "NotWornHours": self.not_worn_s,
            "DisconnectedHours": self.disconnected_s,
            "BeforeFirstHeardHours": self.before_heard_s,
            "AfterDataEndHours": self.after_data_s,
        }
        return {k: round(v / HOUR_S, 3) for k, v in h.items()} | {"LostEvents": self.lost_events, "LostEventsUndated": self.lost_undated}


@dataclass
class Coverage:
    """The range's hours, in all and per band."""

    since: float
    until: float
    total: Hours = field(default_factory=Hours)
    by_device: dict[str, Hours] = field(default_factory=dict)

    def doc(self) -> dict[str, object]:
        return self.total.doc() | {"ByDevice": {d: h.doc() for d, h in sorted(self.by_device.items())}}

    def sentence(self) -> str:
        """The same in words (the BIDS events.json has no room for keys of its own)."""
        d = self.total.doc()
        lost = f"; {d['LostEvents']} events lost (sequence gaps)" if d["LostEvents"] else ""
        undated = f", {d['LostEventsUndated']} more undated" if d["LostEventsUndated"] else ""
        before = f"; {d['BeforeFirstHeardHours']} h before the band was first heard" if d["BeforeFirstHeardHours"] else ""
        after = f"; {d['AfterDataEndHours']} h after the end of data (the export's time)" if d["AfterDataEndHours"] else ""
        return (
            f"Coverage: recorded {d['RecordedHours']} h, worn {d['WornHours']} h, monitored (worn and heard from) "
            f"{d['MonitoredHours']} h; not worn {d['NotWornHours']} h, disconnected {d['DisconnectedHours']} h{lost}{undated}"
            f"{before}{after}."
        )


def coverage(
    source: Source, device: str | None, since: float, until: float, segs: Iterable[Segment] | None = None, now: float | None = None
) -> Coverage:
    """The range's hours and lost events. ``segs``: the ``spans`` of a range holding this one and
    ending with it, when the caller has them already (an export: its rows came from them; one pass
    over the epochs); ``now``: see ``data_end``."""
    cov = Coverage(since, until)
    for s in clipped(segs if segs is not None else spans(source, device, since, until, now), since, until):
        cov.total.add(s)
        cov.by_device.setdefault(s.device, Hours()).add(s)
    dated, undated = lost_in(source, device, since, until)
    for r in dated:
        cov.total.lost_events += r.n
        cov.by_device.setdefault(r.device, Hours()).lost_events += r.n
    cov.total.lost_undated = undated
    return cov
