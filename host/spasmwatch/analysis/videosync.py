"""A video's clock lined up with a recording's by tap pairs: ``truth --sync VIDEO_S=REC_S``.

Each pair is one tap triple's first tap as the video shows it and as ``spasmwatch taps``
found it in the recording. One pair is an offset; two or more give the least-squares line
``rec = a * video + b``: a band's IMU runs ~1 % off its nominal rate and a camera's clock
drifts too, so over a night one offset leaves the far end's labels minutes off, while the
line corrects both. A label's onset is mapped by the line and its duration scaled by ``a``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spasmwatch.analysis.labels import Label, parse_time
from spasmwatch.analysis.wallclock import WallClock
from spasmwatch.errors import SpasmwatchError

# Largest drift |a - 1| a fit may give. An IMU runs on its own oscillator, ~1 % off its
# nominal rate, and a camera's clock is far closer than that: more than 5 % is a pair of the
# wrong taps (two triples mixed up, a typo), which would stretch every label.
MAX_DRIFT = 0.05
# Two pairs closer than this on the video (s) cannot give a drift: their taps are one mark.
MIN_PAIR_SPAN_S = 1.0
# Largest distance (s) of a pair from the line through three or more. A video frame is 33-40
# ms, taps finds a tap within a sample, and a crystal's drift changes by a few ppm over a
# night (0.1 s in 8 h); a triple's taps are 0.3-0.6 s apart, so a pair further off is the
# second tap read for the first, or another triple: it would bend every label.
MAX_RESIDUAL_S = 0.3

PPM = 1e6


@dataclass(frozen=True)
class SyncFit:
    """rec = a * video + b, from ``pairs`` (video s, rec s) as given, ``texts`` their options."""

    a: float
    b: float
    pairs: tuple[tuple[float, float], ...]
    texts: tuple[str, ...]

    @property
    def drift_ppm(self) -> float:
        """How much faster the recording's clock runs than the video's (ppm; 0 for one pair)."""
        return (self.a - 1.0) * PPM

    def residuals_s(self) -> list[float]:
        return [rec - (self.a * video + self.b) for video, rec in self.pairs]

    def apply(self, labels: Sequence[Label]) -> list[Label]:
        """Labels on the video's time -> the recording's: onset on the line, duration scaled."""
        return [
            dataclasses.replace(x, onset=self.a * x.onset + self.b, duration=None if x.duration is None else self.a * x.duration)
            for x in labels
        ]

    def describe(self) -> str:
        """What the fit did, for stderr."""
        if len(self.pairs) == 1:
            return (f"--sync: one pair: the labels moved by {self.b:+.3f} s (an offset, no drift correction; a "
                    "second pair from taps at the recording's other end corrects the drift)")
        res = self.residuals_s()
        worst = int(np.argmax(np.abs(res)))
        exact = " (two pairs fit exactly: a third would check them)" if len(self.pairs) == 2 else ""
        return (f"--sync: {len(self.pairs)} pairs: rec = {self.a:.7f} * video {self.b:+.3f} s; the recording's clock "
                f"runs {self.drift_ppm:+.0f} ppm against the video's ({self.drift_ppm * 86400 / PPM:+.1f} s a day); "
                f"largest residual {abs(res[worst]):.3f} s, at --sync {self.texts[worst]}{exact}")


def parse_pair(text: str, video: Callable[[str], float] = parse_time) -> tuple[float, float]:
    """(video s, rec s) of ``VIDEO=REC``; ``video`` reads the video side (a time of day with
    --wall-clock). SpasmwatchError naming the option and value."""
    parts = text.split("=")
    if len(parts) != 2:
        raise SpasmwatchError(f"--sync {text!r}: expected VIDEO=REC, the video's time of a tap triple's first tap "
                              "and the recording's (spasmwatch taps), e.g. 0:00:41.200=30.010")
    try:
        v = video(parts[0])
    except ValueError as exc:  # a wall clock's reader says why; parse_time's ValueError is the text alone
        why = "not seconds or hh:mm:ss[.fff]" if video is parse_time else str(exc)
        raise SpasmwatchError(f"--sync {text!r}: the video time {parts[0]!r}: {why}") from None
    try:
        r = parse_time(parts[1])
    except ValueError:
        raise SpasmwatchError(f"--sync {text!r}: the recording time {parts[1]!r} is not seconds or hh:mm:ss[.fff]") from None
    return v, r


def fit(texts: Sequence[str], t_first: float, duration_s: float, video: Callable[[str], float] = parse_time) -> SyncFit:
    """The line through the pairs ``texts`` (``--sync`` values) for a recording of ``duration_s``
    from ``t_first`` (s); SpasmwatchError naming the pair for one outside the recording, two on
    one video time, or a drift beyond MAX_DRIFT."""
    pairs = [parse_pair(x, video) for x in texts]
    t_last = t_first + duration_s
    for (_, rec), text in zip(pairs, texts):
        if not t_first <= rec <= t_last:
            raise SpasmwatchError(f"--sync {text}: the recording time {rec:.3f} s lies outside the recording "
                                  f"({t_first:.3f}-{t_last:.3f} s): take it from 'spasmwatch taps' on this recording")
    order = sorted(range(len(pairs)), key=lambda k: pairs[k][0])
    for i, j in zip(order, order[1:]):
        if pairs[j][0] - pairs[i][0] < MIN_PAIR_SPAN_S:
            raise SpasmwatchError(f"--sync {texts[i]} and --sync {texts[j]}: video times under {MIN_PAIR_SPAN_S:g} s apart "
                                  "are one mark: give the taps at the recording's start and at its end")
    if len(pairs) == 1:
        video_s, rec_s = pairs[0]
        return SyncFit(1.0, rec_s - video_s, tuple(pairs), tuple(texts))
    v, r = np.array(pairs).T
    a, b = np.polyfit(v, r, 1)
    if abs(a - 1.0) > MAX_DRIFT:
        given = " ".join(f"--sync {x}" for x in texts)
        raise SpasmwatchError(f"{given}: the recording's clock would run {(a - 1.0) * 100:+.1f} % against the video's, "
                              f"beyond the {MAX_DRIFT * 100:g} % any band or camera drifts: a pair of the wrong taps?")
    found = SyncFit(float(a), float(b), tuple(pairs), tuple(texts))
    res = np.abs(found.residuals_s())
    worst = int(np.argmax(res))
    if res[worst] > MAX_RESIDUAL_S:
        raise SpasmwatchError(f"--sync {texts[worst]}: {res[worst]:.3f} s off the line through the pairs (at most "
                              f"{MAX_RESIDUAL_S:g} s): another tap of the triple, or another triple? Check its video frame")
    return found


def widen(clock: WallClock, duration_s: float) -> WallClock:
    """``clock`` with room for the drift --sync corrects: times of day on a video clock 1 % fast
    run past the band's dating of the recording's end (by 5 min over 8 h), and are placed in
    the span before the line maps them; ``build_truth`` then checks the mapped times."""
    slack = MAX_DRIFT * duration_s
    return dataclasses.replace(clock, first_s=clock.first_s - slack, last_s=clock.last_s + slack)
