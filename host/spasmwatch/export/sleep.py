"""Sleep/wake transitions from stored activity epochs, with the same code as replay.

The store keeps the band's ACTIVITY epochs (active or not, worn or not); the
onsets of sleep and wake are derived here with ``analysis.sleepwake`` so an
export says what the live system and replay would have said. Epochs of
different devices are followed separately; a gap of more than two epochs
between epochs of one device (band off, out of range) starts that device's
estimate afresh, as taking the band off does.

An onset is decided up to one sleep window after it happened, so onsets are
held in a small heap and released in time order once no later epoch can
decide an earlier one: memory stays bounded whatever the range.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from spasmwatch.analysis import consts as A
from spasmwatch.analysis.sleepwake import SleepWake
from spasmwatch.export.rows import ActivityRow, TransitionRow

# Sleep onsets are decided up to a sleep window after them: a range's transitions
# come from epochs read this long before it (one near its start is found) and
# this long after it (one near its end is too, so adjacent ranges hold it once).
LEAD_S = 2 * A.SLEEP_WINDOW_MS / 1000.0
GAP_EPOCHS = 2.0


class _Device:
    def __init__(self, epoch_s: float) -> None:
        self.sw = SleepWake(epoch_s)
        self.last_t = -float("inf")

    @property
    def lag_s(self) -> float:
        return float((self.sw.sleep_n + 2) * self.sw.epoch_s)


def transitions_from_activity(epochs: Iterable[ActivityRow]) -> Iterator[TransitionRow]:
    """Wake and sleep onsets of time-ordered epochs, in onset order."""
    devices: dict[str, _Device] = {}
    pending: list[tuple[float, str, str]] = []
    for e in epochs:
        dev = devices.get(e.device)
        if dev is None or e.t - dev.last_t > GAP_EPOCHS * e.epoch_s or dev.sw.epoch_s != e.epoch_s:
            dev = devices[e.device] = _Device(e.epoch_s)
        dev.last_t = e.t
        tr = dev.sw.update(e.t, e.active, worn=e.worn)
        if tr is not None:
            heapq.heappush(pending, (tr.t, e.device, tr.kind))
        while pending and pending[0][0] < e.t - dev.lag_s:
            t, device, kind = heapq.heappop(pending)
            yield TransitionRow(device, t, kind)
    while pending:
        t, device, kind = heapq.heappop(pending)
        yield TransitionRow(device, t, kind)
