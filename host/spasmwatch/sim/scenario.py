"""What to simulate: the scenario knobs and their validation."""

from __future__ import annotations

import math
from dataclasses import dataclass

from spasmwatch.errors import ConfigError

# kind -> (default duration s, default number of clusters, description)
KINDS: dict[str, tuple[float, int, str]] = {
    "day": (86400.0, 4, "24 h from midnight: night sleep with feeds, naps, wake play, outings, bath; clusters mostly after waking"),
    "morning": (1800.0, 1, "a few minutes asleep, wake up, a cluster within minutes, then ordinary wake activity"),
    "night": (8 * 3600.0, 0, "night sleep with sleep cycles, twitches, myoclonus and feeds; no clusters unless asked"),
    "confounders": (3600.0, 0, "wake activities that look like spasms (startles, hiccups, patting, car...) and no spasms"),
    "subtle": (1800.0, 1, "like morning, but the cluster is of subtle spasms (head nods, belly tensing)"),
    "clusters": (7200.0, 4, "short naps and wake windows with several clusters, for detector evaluation"),
}
# Room a tap triple takes (s): three taps at most 0.6 s apart, rung out (confounders.taps).
TAPS_S = 2.0
# ~22 % of spasms occur outside clusters (Kellaway 1979); a day carries a few.
_ISOLATED_DEFAULT: dict[str, int] = {"day": 2, "clusters": 1}


@dataclass(frozen=True)
class Scenario:
    """Parameters of one simulated recording.

    ``duration_s``, ``clusters`` and ``isolated_spasms`` (spasms outside any
    cluster) default to the kind's values when None.
    ``subtle`` forces every cluster to be of subtle spasms; ``subtle_fraction``
    is the chance that a cluster is subtle otherwise. Scales multiply the
    randomly drawn spasm amplitudes and sensor noise; ``cluster_size`` bounds
    the number of spasms per cluster. ``taps`` places a triple of firm taps on the band at
    each time (the first tap), as a researcher marks the video's start and end.
    """

    duration_s: float | None = None
    rate_hz: float = 100.0
    seed: int = 1
    has_gyro: bool = True
    kind: str = "morning"
    clusters: int | None = None
    isolated_spasms: int | None = None
    subtle: bool = False
    subtle_fraction: float = 0.2
    cluster_size: tuple[int, int] = (3, 30)
    spasm_amplitude_scale: float = 1.0
    noise_scale: float = 1.0
    not_worn: bool = True
    random_mounting: bool = True
    taps: tuple[float, ...] = ()  # times (s) of tap triples on the band, the video's sync mark

    def __post_init__(self) -> None:
        _check(self.kind in KINDS, f"unknown kind {self.kind!r}; choose from {', '.join(KINDS)}")
        _check(math.isfinite(self.rate_hz) and 5.0 <= self.rate_hz <= 2000.0, "rate_hz must be in 5..2000")
        _check(self.resolved_duration_s >= 10.0, "duration_s must be at least 10 s")
        _check(self.resolved_duration_s <= 14 * 86400.0, "duration_s must be at most 14 days")
        _check(self.resolved_clusters >= 0, "clusters must be >= 0")
        _check(self.resolved_isolated >= 0, "isolated_spasms must be >= 0")
        lo, hi = self.cluster_size
        _check(3 <= lo <= hi <= 60, "cluster_size must satisfy 3 <= min <= max <= 60")
        _check(0.0 <= self.subtle_fraction <= 1.0, "subtle_fraction must be in 0..1")
        _check(0.0 < self.spasm_amplitude_scale <= 5.0, "spasm_amplitude_scale must be in (0, 5]")
        _check(0.0 <= self.noise_scale <= 20.0, "noise_scale must be in [0, 20]")
        _check(self.seed >= 0, "seed must be >= 0")
        last = self.resolved_duration_s - TAPS_S
        out = [t for t in self.taps if not (math.isfinite(t) and 0.0 <= t <= last)]
        _check(not out, f"taps must lie within 0..duration - {TAPS_S:g} s (0-{last:g} s here): {out[0]:g}" if out else "")
        ordered = sorted(self.taps)
        close = [(a, b) for a, b in zip(ordered, ordered[1:]) if b - a < TAPS_S]
        _check(not close, f"taps must be at least {TAPS_S:g} s apart: {close[0][0]:g} and {close[0][1]:g}" if close else "")

    @property
    def resolved_duration_s(self) -> float:
        return KINDS[self.kind][0] if self.duration_s is None else float(self.duration_s)

    @property
    def resolved_clusters(self) -> int:
        return KINDS[self.kind][1] if self.clusters is None else int(self.clusters)

    @property
    def resolved_isolated(self) -> int:
        return _ISOLATED_DEFAULT.get(self.kind, 0) if self.isolated_spasms is None else int(self.isolated_spasms)

    @property
    def n_samples(self) -> int:
        return int(math.floor(self.resolved_duration_s * self.rate_hz))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(f"scenario: {message}")
