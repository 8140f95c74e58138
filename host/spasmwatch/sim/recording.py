"""Public entry points: ``simulate(scenario) -> Recording`` and chunked generation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from spasmwatch.sim.body import draw_baby
from spasmwatch.sim.breathing import Breathing
from spasmwatch.sim.render import Renderer
from spasmwatch.sim.rotation import FloatArray
from spasmwatch.sim.scenario import Scenario
from spasmwatch.sim.sensor import draw_sensor, remount
from spasmwatch.sim.timeline import build_plan
from spasmwatch.sim.truth import build_truth

Chunk = tuple[FloatArray, FloatArray, FloatArray | None]


@dataclass
class Recording:
    """A simulated recording: t (s), acc (N, 3) in g, gyro (N, 3) in deg/s or None, truth."""

    t: FloatArray
    acc: FloatArray
    gyro: FloatArray | None
    truth: dict[str, Any]

    @property
    def rate_hz(self) -> float:
        return float(self.truth["rate_hz"])


class Simulation:
    """A planned recording whose samples are produced chunk by chunk (bounded memory)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        # Independent streams: changing the sensor model must not reshuffle the story.
        plan_rng, sensor_rng, breath_rng = (np.random.default_rng([scenario.seed, k]) for k in (1, 2, 3))
        baby = draw_baby(plan_rng)
        plan = build_plan(scenario, baby, plan_rng)
        duration = scenario.resolved_duration_s
        sensor = draw_sensor(sensor_rng, scenario.rate_hz, duration, scenario.noise_scale, scenario.random_mounting)
        # Back on after each band-off, in a new position: switch mid-way, while it lies on the table.
        remounts = [remount(sensor_rng, sensor, 0.5 * (n.start + n.end), scenario.random_mounting) for n in plan.not_worn]
        sensor.mounting_info["remounts"] = remounts
        breathing = Breathing(breath_rng, baby, plan.states(), plan.world.breath_mods, duration)
        self.truth = build_truth(scenario, plan, sensor.mounting_info)
        self.renderer = Renderer(plan, breathing, sensor, scenario.rate_hz, scenario.n_samples, scenario.seed)

    @property
    def n_chunks(self) -> int:
        return self.renderer.n_chunks

    def chunks(self) -> Iterator[Chunk]:
        for k in range(self.n_chunks):
            t, acc, gyro = self.renderer.chunk(k)
            yield t, acc, (gyro if self.scenario.has_gyro else None)


def simulate(scenario: Scenario) -> Recording:
    """Generate a whole recording in memory (24 h at 100 Hz is ~0.5 GB of float64)."""
    sim = Simulation(scenario)
    n = scenario.n_samples
    t = np.empty(n)
    acc = np.empty((n, 3))
    gyro = np.empty((n, 3)) if scenario.has_gyro else None
    i = 0
    for ct, cacc, cgyro in sim.chunks():
        j = i + ct.shape[0]
        t[i:j], acc[i:j] = ct, cacc
        if gyro is not None and cgyro is not None:
            gyro[i:j] = cgyro
        i = j
    return Recording(t, acc, gyro, sim.truth)
