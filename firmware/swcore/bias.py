"""Gyro bias from still blocks: block-level logic shared by both twins.

The band's front end feeds it once per completed block (sums and roughness
accumulated per sample); the host's numpy twin computes the same block
numbers vectorised and feeds this very class in a loop over blocks (one call
per second of data), so the decision logic exists once.
"""

from array import array

from swcore import consts as C


class GyroBias:
    def __init__(self, block):
        self.block = block  # samples per block
        self._ring = array("i", bytes(4 * 3 * C.BIAS_BLOCKS))
        self.reset()

    def reset(self):
        self.bx = self.by = self.bz = 0  # ddps, for the samples after the last block
        self.still = 0  # still blocks taken so far
        self._refused = 0
        self._sx = self._sy = self._sz = 0
        for k in range(len(self._ring)):
            self._ring[k] = 0

    def seed(self, bx, by, bz):
        """Start from a bias kept from an earlier boot (ddps), as if from one still block:
        later still blocks average it out, and one far from it is refused like any other
        (until BIAS_RESET_BLOCKS refusals waive the test: a stale seed cannot lock the bias)."""
        self.reset()
        b = self.block
        self._ring[0] = self._sx = bx * b
        self._ring[1] = self._sy = by * b
        self._ring[2] = self._sz = bz * b
        self.bx = bx
        self.by = by
        self.bz = bz
        self.still = 1

    def block_done(self, sx, sy, sz, rough):
        """One completed block: per-axis sums (ddps) and roughness (sum over samples and
        axes of |rate - first rate of the block|). Returns True if it was still."""
        b = self.block
        if rough > C.BIAS_ROUGH_DDPS * 3 * b:
            self._refused += 1
            return False
        if self.still and self._refused < C.BIAS_RESET_BLOCKS:
            off = abs(sx // b - self.bx) + abs(sy // b - self.by) + abs(sz // b - self.bz)
            if off > C.BIAS_NEAR_DDPS:
                self._refused += 1
                return False
        self._refused = 0
        ring = self._ring
        slot = 3 * (self.still % C.BIAS_BLOCKS)
        if self.still >= C.BIAS_BLOCKS:
            self._sx -= ring[slot]
            self._sy -= ring[slot + 1]
            self._sz -= ring[slot + 2]
        ring[slot] = sx
        ring[slot + 1] = sy
        ring[slot + 2] = sz
        self._sx += sx
        self._sy += sy
        self._sz += sz
        self.still += 1
        d = (self.still if self.still < C.BIAS_BLOCKS else C.BIAS_BLOCKS) * b
        self.bx = self._sx // d
        self.by = self._sy // d
        self.bz = self._sz // d
        return True
