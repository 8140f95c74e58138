"""Simulated flash that loses power at one flash operation of an event-log resize (``--cut-resize-op K``).

A resize (band/eventlog.py) writes a new ring ``events.log.new`` one empty
slot at a time, renames ``events.log`` to ``events.log.old`` and the new ring
to ``events.log``, and later removes the old file. Each of these counts as
one operation; at the K-th the power goes: half of a write reaches the
flash, a rename or removal does not happen (both are atomic on LittleFS).
Imported only when asked for: the simulator shares the heap the
memory-budget test gives the band.
"""

import sys

from faultfile import FileProxy
from hw import EXIT_POWER_LOSS, SimStorage


def _ours(name):
    return name.startswith("events.log.")


class _CutFile(FileProxy):
    def __init__(self, f, storage):
        super().__init__(f)
        self._st = storage

    def write(self, b):
        if self._st.due():
            self._f.write(bytes(b)[: len(b) // 2])
            self._f.close()
            self._st.lose_power("write")
        return self._f.write(b)


class CutStorage(SimStorage):
    def __init__(self, root, cut_op, *args):
        super().__init__(root, *args)
        self.cut_op = cut_op
        self.ops = 0

    def due(self):
        self.ops += 1
        return self.ops == self.cut_op

    def lose_power(self, what):
        """Power is gone: the process ends as a board would (exit code 6). A test running the
        log in its own process replaces this to go on with the flash as it was left."""
        print('SIM {"kind": "power_loss", "op": %d, "what": "%s"}' % (self.ops, what))
        sys.exit(EXIT_POWER_LOSS)

    def open(self, name, mode):
        f = super().open(name, mode)
        return _CutFile(f, self) if _ours(name) and "w" in mode else f

    def rename(self, src, dst):
        if (_ours(src) or _ours(dst)) and self.due():
            self.lose_power("rename %s %s" % (src, dst))
        super().rename(src, dst)

    def remove(self, name):
        if _ours(name) and self.due():
            self.lose_power("remove " + name)
        super().remove(name)
