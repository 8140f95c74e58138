"""Flash files that fail as a simulated board's would (never flashed): a power cut in the middle
of one event-log write, a flash that refuses writes. Its own module, loaded only when a run asks
for such a fault (run.py --tear-at-seq, --refuse-write, --flash-bytes, --flash-stall-ms: its
FaultStorage is then the band's flash): the simulator shares the heap the memory-budget test
gives the band.
"""

import struct
import sys

from band.storage import Storage
from hw import EXIT_POWER_LOSS


class FaultStorage(Storage):
    """The band's flash (a directory) with the faults a run asked for: a power cut in the middle of
    writing event ``tear_seq``, writes of the ``refuse``d files failing, files that may take
    ``limit`` bytes in all, each event-log flush holding the band ``slow_ms``."""

    def __init__(self, root, tear_seq, clock, refuse, limit, slow_ms):
        super().__init__(root)
        self.tear_seq = tear_seq
        self.clock = clock
        self.refuse = refuse  # file names whose writes fail (a worn block, a full file system)
        self.limit = limit  # bytes the files may take in all (a small file system), or None
        self.slow_ms = slow_ms  # each flush of an event-log segment holds the band this long (a flash erase)

    def open(self, name, mode):
        f = self._open(name, mode)
        if self.limit is not None and ("w" in mode or "+" in mode):
            f = FullFile(f, self)
        if self.slow_ms and name.startswith("events/") and "+" in mode:
            f = SlowFile(f, self.clock, self.slow_ms)
        return f

    def _open(self, name, mode):
        # A name or its folder (the event log's segments: "events/4096" is refused as "events").
        refused = name.split(".tmp")[0] in self.refuse or name.split("/")[0] in self.refuse
        if refused and "r" not in mode:
            raise OSError(28)  # ENOSPC
        f = super().open(name, mode)
        if refused and "+" in mode:
            return RefusingFile(f)  # reads work, every write fails
        if self.tear_seq is not None and name.startswith("events/") and "+" in mode:
            return TearingFile(f, self.tear_seq, self.clock)
        return f


class FileProxy:
    """A flash file that behaves as ``f`` except where a subclass overrides (its writes)."""

    def __init__(self, f):
        self._f = f

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self._f.close()


class TearingFile(FileProxy):
    """Event-log file that loses power in the middle of writing record ``tear_seq``."""

    def __init__(self, f, tear_seq, clock=None):
        super().__init__(f)
        self._tear = tear_seq
        self._clock = clock

    def write(self, b):
        if len(b) == 24 and struct.unpack_from("<I", b, 4)[0] == self._tear:
            self._f.write(bytes(b)[:11])
            self._f.close()
            print("SIM power lost while writing seq %d" % self._tear)
            # When, in virtual time: a harness restarts the band there (--csv-skip-s).
            t_ms = self._clock.ticks_ms() if self._clock is not None else -1
            due = self._clock.due_epoch_ms() if self._clock is not None else None
            print('SIM {"kind": "power_loss", "seq": %d, "t_ms": %d, "due_ms": %s}' % (self._tear, t_ms, "null" if due is None else due))
            sys.exit(EXIT_POWER_LOSS)
        return self._f.write(b)


class RefusingFile(FileProxy):
    """A file opened for update ("r+b": the event log's newest segment) on a flash that refuses its writes."""

    def write(self, b):
        raise OSError(28)  # ENOSPC


class FullFile(FileProxy):
    """A file on a small file system: a write past ``storage.limit`` bytes in all fails, as
    LittleFS's LFS_ERR_NOSPC does (ENOSPC)."""

    def __init__(self, f, storage):
        super().__init__(f)
        self._st = storage

    def write(self, b):
        if _used(self._st.root) + len(b) > self._st.limit:
            raise OSError(28)  # ENOSPC
        return self._f.write(b)


class SlowFile(FileProxy):
    """An event-log segment whose every flush holds the band ``ms`` (a flash erase on the sampler's
    path): the IMU's FIFO fills meanwhile, and may overrun."""

    def __init__(self, f, clock, ms):
        super().__init__(f)
        self._clock = clock
        self._ms = ms

    def flush(self):
        self._f.flush()
        self._clock.block_ms(self._ms)


def _used(path):
    """Bytes of the files under ``path``."""
    import os

    n = 0
    for name in os.listdir(path):
        st = os.stat(path + "/" + name)
        n += _used(path + "/" + name) if st[0] & 0x4000 else st[6]
    return n
