"""The event log's full-flash path (ENOSPC: the oldest segment's room to the new event) on the
file system a board runs, LittleFS (MicroPython's VfsLfs2 on a RAM block device), not the
simulator's model of a full flash (sim/faultfile.py FullFile). LittleFS's maintainers call going
on after a NOSPC "poorly tested" (littlefs-project/littlefs#993): this is the band's own use of it,
and a power cut at each block the file system writes through it."""

from __future__ import annotations

from pathlib import Path

from sim_central import run_mp

RAM_DEVICE = r'''
import vfs, os, sys
from band.storage import Storage
from band.eventlog import EventLog
from swcore import protocol as P


class RAM:
    """A flash of ``blocks`` 4 KB erase blocks; ``ops`` (when a list) records each write and erase."""

    def __init__(self, blocks, size=4096):
        self.size = size
        self.data = bytearray(blocks * size)
        self.ops = None

    def readblocks(self, n, buf, off=0):
        o = n * self.size + off
        buf[:] = self.data[o : o + len(buf)]

    def writeblocks(self, n, buf, off=None):
        self._put(n * self.size + (off or 0), bytes(buf))

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.size
        if op == 5:
            return self.size
        if op == 6:
            self._put(arg * self.size, b"\xff" * self.size)
            return 0

    def _put(self, o, b):
        if self.ops is not None:
            self.ops.append((o, b))
        self.data[o : o + len(b)] = b


def mounted(bd):
    vfs.mount(vfs.VfsLfs2(bd), "/lfs")
    return Storage("/lfs")


def whole(log):
    """Every event from the oldest kept to the newest reads back."""
    b = bytearray(20)
    return all(log.read(s, b) for s in range(log.oldest_seq, log.next_seq))


def counting(log):
    """``log`` with its segment drops counted (drops[0])."""
    drops = [0]
    drop = log._drop_oldest

    def counted():
        drops[0] += 1
        drop()

    log._drop_oldest = counted
    return drops


REC = P.encode_event(0, 1, 0, 0, 0, 0, 50, 0)
'''

RECLAIM = RAM_DEVICE + r'''
blocks, n = int(sys.argv[1]), int(sys.argv[2])
bd = RAM(blocks)
vfs.VfsLfs2.mkfs(bd)
st = mounted(bd)
os.mkdir("/lfs/events")
log = EventLog(st, 4096)  # a ring far bigger than the flash: only ENOSPC makes room
drops = counting(log)
for i in range(n):
    log.append(REC)  # an OSError fails the test
ok = whole(log)
log.close()
vfs.umount("/lfs")
log = EventLog(mounted(bd), 4096)
print(drops[0], log.next_seq, log.next_seq - log.oldest_seq, ok and whole(log))
'''

CUT = RAM_DEVICE + r'''
bd = RAM(6)
vfs.VfsLfs2.mkfs(bd)
st = mounted(bd)
os.mkdir("/lfs/events")
log = EventLog(st, 4096)
drops = counting(log)
while drops[0] == 0:
    log.append(REC)
while log.next_seq % log._seg:  # on to a new segment's start, the flash full
    log.append(REC)
before, first, dropped = bytes(bd.data), log.next_seq, drops[0]
bd.ops = []
while drops[0] == dropped:  # up to the next reclaim, and two after it
    log.append(REC)
log.append(REC)
log.append(REC)
ops, end = bd.ops, log.next_seq
bd.ops = None
vfs.umount("/lfs")
bad = []
for cut in range(len(ops) + 1):  # power lost after ``cut`` block writes and erases
    img = RAM(6)
    img.data[:] = before
    for o, b in ops[:cut]:
        img.data[o : o + len(b)] = b
    l2 = EventLog(mounted(img), 4096)
    if not (first <= l2.next_seq <= end and whole(l2)):
        bad.append((cut, l2.oldest_seq, l2.next_seq))
    l2.append(REC)  # and it logs on
    l2.close()
    vfs.umount("/lfs")
print(len(ops) + 1, end - first, bad)
'''


def test_a_full_littlefs_gives_the_oldest_segment_s_room_to_new_events_for_good(micropython: str, tmp_path: Path) -> None:
    """Thousands of events on LittleFS flashes of 6-12 blocks: each append goes through (a segment
    dropped where the flash is full), and what is kept reads back, before and after a remount."""
    for blocks in (6, 8, 12):
        drops, next_seq, kept, ok = run_mp(micropython, tmp_path / "reclaim.py", RECLAIM, str(blocks), "3000").split()
        assert int(next_seq) == 3000 and ok == "True", (blocks, drops, kept)
        assert int(drops) >= 15 and 0 < int(kept) < 4096, (blocks, drops, kept)  # ENOSPC made the room, not the ring's capacity


def test_a_power_cut_at_each_block_write_around_a_full_flash_s_reclaim_leaves_a_whole_log(micropython: str, tmp_path: Path) -> None:
    tried, appended, bad = run_mp(micropython, tmp_path / "cut.py", CUT, timeout_s=300).split(" ", 2)
    assert int(tried) > 10 and int(appended) > 2, (tried, appended)
    assert bad.strip() == "[]", bad
