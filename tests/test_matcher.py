"""The band's cluster counter (``swcore.matcher``) on hand-made rate series.

Its equality with the host's twin, on CPython and under ``micropython``, is in
``test_detector_twin.py``; here is what it decides: which movements near a
full spasm count as its likeness, and which do not.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from swcore import consts as C
from swcore.matcher import Matcher

RATE = 50.0


def profile(amp_ddps: float, axis: int = 1) -> NDArray[np.int64]:
    """A spasm's rate: a quick bend (0.25 s), a hold (0.8 s), a slower release (0.5 s)."""
    rise = np.sin(np.linspace(0, np.pi, int(0.25 * RATE)))
    back = -0.5 * np.sin(np.linspace(0, np.pi, int(0.5 * RATE)))
    y = np.concatenate([rise, np.zeros(int(0.8 * RATE)), back]) * amp_ddps
    out = np.zeros((len(y), 3))
    out[:, axis] = y
    return np.rint(out).astype(np.int64)


class Run:
    def __init__(self, seconds: float, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.rate = rng.integers(-8, 9, (int(seconds * RATE), 3))  # +-0.8 deg/s: breathing and noise
        self.full: list[tuple[int, int]] = []  # (onset, duration) of the detector's full spasms
        self.alike: list[bool] = []  # ``Matcher.alike`` after each, once run

    def put(self, t_s: float, x: NDArray[np.int64]) -> int:
        i = int(t_s * RATE)
        self.rate[i : i + len(x)] += x
        return i

    def put_full(self, t_s: float, x: NDArray[np.int64]) -> None:
        """A movement the detector confirms as a full spasm (POST_MS after its end)."""
        self.full.append((self.put(t_s, x), len(x) - 1))

    def run(self) -> list[tuple[float, int, float]]:
        """(onset s, confidence, decided s) of each match."""
        m = Matcher(RATE)
        out = []
        post = int(C.POST_MS * RATE / 1000)
        confirm = {on + dur + post: (on, dur) for on, dur in self.full}
        for i, (x, y, z) in enumerate(self.rate.tolist()):
            n = 0
            if i in confirm:
                on, dur = confirm[i]
                n = m.spasm(i - on, dur)
                self.alike.append(m.alike)
                out += [((i - m.out_age[k]) / RATE, m.out_conf[k], i / RATE) for k in range(n)]
            if m.step(x, y, z):
                n = m.examine()
                out += [((i - m.out_age[k]) / RATE, m.out_conf[k], i / RATE) for k in range(n)]
        return out


def test_likeness_near_a_full_spasm_is_counted_before_and_after_it() -> None:
    r = Run(110.0)
    full = profile(800)  # 80 deg/s
    r.put_full(45.0, full)
    r.put(20.0, profile(350))  # 25 s before: reached back to once the shape is kept
    r.put(55.0, profile(450))  # 10 s after
    r.put(65.0, profile(450, axis=0))  # the same movement about another axis: not alike
    r.put(74.0, np.random.default_rng(1).integers(-250, 250, (50, 3)))  # fidgeting ...
    r.put(75.0, profile(450))  # ... right before: not calm
    r.put(5.0, profile(450))  # 40 s before: out of reach
    r.put(95.0, profile(450))  # 50 s after: out of reach
    r.put(84.0, profile(30))  # alike but 27x weaker (in energy 700x): breathing-sized
    got = r.run()
    assert [round(t, 1) for t, _, _ in got] == [20.0, 55.0]
    # The backward match is decided when the full spasm's shape is kept, the forward one
    # as soon as its shape and the second after it are in.
    assert got[0][2] == pytest.approx(45.0 + len(full) / RATE + C.POST_MS / 1000, abs=0.05)
    assert 55.0 < got[1][2] <= 55.0 + 4.5
    assert all(1 <= c < C.STRONG_CONFIDENCE for _, c, _ in got)


def test_no_full_spasm_no_match() -> None:
    r = Run(60.0)
    for t in (10.0, 18.0, 26.0, 34.0):
        r.put(t, profile(800))  # alike movements, but the detector confirmed none of them
    assert r.run() == []


def test_bounded_buffers_on_a_storm_of_edges() -> None:
    """Edges every few samples for minutes, no shape: nothing grows, the oldest waiting edges go."""
    m = Matcher(RATE)
    spikes = np.zeros((int(120 * RATE), 3), np.int64)
    spikes[::4, 1] = 400
    for x, y, z in spikes.tolist():
        if m.step(x, y, z):
            assert m.examine() == 0
    assert m._wn == len(m._wait) and m.dropped > 0


def test_a_full_spasm_shaped_like_an_earlier_one_is_alike() -> None:
    r = Run(120.0)
    r.put_full(10.0, profile(800))  # the first: nothing kept before it
    r.put_full(18.0, profile(500))  # the same movement, weaker: alike
    r.put_full(30.0, profile(700, axis=0))  # about another axis: not alike
    r.put_full(75.0, profile(800))  # like the first two, but 57 s after the second and
    # 45 s after the third, the only shape kept within 40 s: not alike
    r.put_full(100.0, profile(800))  # 25 s after the last alike one
    r.run()
    assert r.alike == [False, True, False, False, True]
