"""Simulated trunk-worn IMU recordings of infants, with and without spasm clusters.

>>> from spasmwatch.sim import Scenario, simulate, write_recording
>>> rec = simulate(Scenario(kind="morning", duration_s=600, seed=3))
>>> write_recording(rec, "out/morning.csv")  # + out/morning.truth.json

See docs/simulator.md for the movement models and their sources.
"""

from spasmwatch.analysis.truthfile import truth_path
from spasmwatch.sim.output import write_recording, write_stream
from spasmwatch.sim.recording import Recording, Simulation, simulate
from spasmwatch.sim.scenario import KINDS, Scenario

__all__ = [
    "KINDS",
    "Recording",
    "Scenario",
    "Simulation",
    "simulate",
    "truth_path",
    "write_recording",
    "write_stream",
]
