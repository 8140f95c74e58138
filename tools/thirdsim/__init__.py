"""thirdsim: a third, independently written infant-movement simulator for spasmwatch.

Written without reading the detector or the other simulators, to score the
detector on data it was not tuned on. See docs/thirdsim.md.
"""

from tools.thirdsim.sim import RATES_HZ, generate

__all__ = ["RATES_HZ", "generate"]
