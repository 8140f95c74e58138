"""Causal sleep/wake estimation from epoch activity (infant actigraphy).

States: UNKNOWN (start of data, or band just put back on), ASLEEP, AWAKE.
An epoch is active when at least EPOCH_ACTIVE_PCT of its samples move.

    ASLEEP  -> AWAKE   >= WAKE_ACTIVE_PCT of the epochs of the last WAKE_WINDOW
                       active, one of them moving (>= WAKE_MOVE_PCT of its samples
                       move: twitching sleep hovers around the active bar); onset =
                       earliest active epoch from which on that share holds (the
                       baby wakes abruptly)
    AWAKE   -> ASLEEP  <= SLEEP_ACTIVE_PCT active over SLEEP_WINDOW, all of it
                       after the wake onset; onset = the first quiet epoch of
                       that window
    UNKNOWN -> ASLEEP  quiet over WAKE_WINDOW; the sleep onset is claimed only once
                       the quiet holds over a SLEEP_WINDOW of the history (as
                       from AWAKE, onset its first quiet epoch), so a night after
                       the band is put on is a night, not an unexplained wake; a
                       wake after the short quiet is claimed (a recording begun on a
                       sleeping baby; a still, awake one gives a false wake:
                       docs/detector.md says why it stays)
    UNKNOWN -> AWAKE   as from ASLEEP, but no wake onset is claimed: it was
                       not seen
Epochs off the body, and a span of more than SLEEP_GAP_KEEP_MS unheard (the band off or
restarting), reset to UNKNOWN; across a shorter one the state and the history go on (the unheard
epochs neither active nor quiet), so a wake after a band's reboot in the night is seen. A window
(wake or sleep) with more than SLEEP_WINDOW_UNHEARD_MAX_MS unheard inside it, the sum of its kept
gaps, decides nothing: a band rebooting every few minutes made windows hours long.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from spasmwatch.analysis import consts as A
from swcore import consts as C
from swcore import epoch as E

UNKNOWN = "UNKNOWN"
ASLEEP = "ASLEEP"
AWAKE = "AWAKE"
UNHEARD_MAX_S = A.SLEEP_WINDOW_UNHEARD_MAX_MS / 1000.0


@dataclass(frozen=True)
class Transition:
    kind: str  # "wake" or "sleep"
    t: float  # onset time (start of the onset epoch)
    detected_t: float  # end of the epoch that decided it


class SleepWake:
    def __init__(self, epoch_s: float = C.EPOCH_MS / 1000.0) -> None:
        self.epoch_s = epoch_s
        self.wake_n = max(2, round(A.WAKE_WINDOW_MS / 1000.0 / epoch_s))
        self.sleep_n = max(self.wake_n, round(A.SLEEP_WINDOW_MS / 1000.0 / epoch_s))
        self.state = UNKNOWN
        # Asleep from UNKNOWN, its onset not yet claimed: a wake after the band was put back on
        # needs only the short quiet, a sleep onset the same SLEEP_WINDOW as from AWAKE.
        self.owed = False
        self._hist: deque[tuple[float, bool]] = deque(maxlen=self.sleep_n)
        self._moved: float | None = None  # start of the history's latest moving epoch

    def update(self, t_start: float, active: bool, worn: bool = True, *, moving: bool) -> Transition | None:
        """One epoch starting at ``t_start``; returns a transition when one is decided. ``moving``:
        at least WAKE_MOVE_PCT of its samples active (an awake baby's epoch, not a twitching sleep's)."""
        if not worn or self._hist and t_start - (self._hist[-1][0] + self.epoch_s) > A.SLEEP_GAP_KEEP_MS / 1000.0:
            # Unheard longer, the history reached across the gap: a sleep decided after it was dated
            # to a quiet epoch before it (hours earlier). The export's twin computes the gap alike.
            self.state, self.owed, self._moved = UNKNOWN, False, None
            self._hist.clear()
            if not worn:
                return None
        self._hist.append((t_start, active))
        if moving:
            self._moved = t_start
        now = t_start + self.epoch_s
        if self.state != AWAKE:
            onset = self._wake_onset()
            if onset is not None:
                seen = self.state == ASLEEP
                self.state, self.owed = AWAKE, False
                # The sleep window counts from the wake on: reaching back into the sleep
                # before it, one active minute was a wake and at once a sleep dated before it.
                while self._hist[0][0] < onset:
                    self._hist.popleft()
                if seen:
                    return Transition("wake", onset, now)
                return None
        if (self.state == AWAKE or self.owed) and self._quiet(self.sleep_n):
            self.state, self.owed = ASLEEP, False
            return Transition("sleep", self._sleep_onset(), now)
        if self.state == UNKNOWN and self._quiet(self.wake_n):
            self.state, self.owed = ASLEEP, True
        return None

    def _quiet(self, n: int) -> bool:
        if len(self._hist) < n:
            return False
        recent = list(self._hist)[-n:]
        if not self._heard(recent):
            return False
        active = sum(1 for _, a in recent if a)
        return bool(active * 100 <= A.SLEEP_ACTIVE_PCT * n)

    def _sleep_onset(self) -> float:
        return sleep_onset(list(self._hist)[-self.sleep_n :])

    def _wake_onset(self) -> float | None:
        if len(self._hist) < self.wake_n:
            return None
        recent = list(self._hist)[-self.wake_n :]
        if not self._heard(recent) or sum(1 for _, a in recent if a) * 100 < A.WAKE_ACTIVE_PCT * self.wake_n:
            return None
        if self._moved is None or self._moved < recent[0][0]:
            return None  # no epoch in it moving as an awake baby does
        return wake_onset(recent)

    def _heard(self, recent: Sequence[tuple[float, bool]]) -> bool:
        """The window ``recent`` has at most SLEEP_WINDOW_UNHEARD_MAX_MS unheard inside it. The
        export's twin computes it alike (the same float operations, in that order)."""
        unheard = recent[-1][0] + self.epoch_s - recent[0][0] - len(recent) * self.epoch_s
        return bool(unheard <= UNHEARD_MAX_S)


def counts_worn(verdict: int, off_body: bool) -> bool:
    """The band's wear verdict (1 worn, 0 not worn, -1 unknown) as the sleep estimate and the coverage
    take it: not worn at its NOT_WORN, and at its 'unknown' (a boot's first epochs, before its
    hysteresis decides: 20 s on the body, 2 min off it) on an epoch off the body. Until 2026-12-06
    'unknown' counted as worn: a band rebooted on its charger and put on a sleeping baby within its
    2 min counted the charger's minute as worn, and the sleep was dated to it, up to 2 min early. On
    the body 'unknown' stays worn: a sleeping baby's band rebooted goes on at once."""
    return verdict != E.NOT_WORN and not (verdict == E.UNKNOWN and off_body)


def sleep_onset(recent: Sequence[tuple[float, bool]]) -> float:
    """Start of the quiet window ``recent`` ((start, active) of its epochs), past the active epochs
    it begins with."""
    for t, a in recent:
        if not a:
            return t
    return recent[-1][0]


def wake_onset(recent: Sequence[tuple[float, bool]]) -> float | None:
    """Of a wake window ``recent`` ((start, active) of its epochs, active enough for a wake): its
    earliest active epoch from which the active share still holds."""
    active = 0
    onset = None
    for k in range(len(recent) - 1, -1, -1):
        t, a = recent[k]
        if a:
            active += 1
            if active * 100 >= A.WAKE_ACTIVE_PCT * (len(recent) - k):
                onset = t
    return onset
