"""Spasm events in flash: a ring of small segment files, CRC'd slots, u32 sequence numbers.

Slot layout (``SLOT_SIZE`` = 24 bytes):

    magic u16 (0x5753 "SW") | EVENT record (20 bytes, wire.EVENT_FMT) | crc16 u16

The CRC (swcore.crc) covers magic and record. The log is a folder (``events``) of
segment files, each named by the seq of its first slot (``events/4096``) and holding
consecutive events: slot i of segment ``base`` is seq ``base + i``. An event is
appended at the end of the newest segment and never rewritten: LittleFS keeps a
file as copy-on-write blocks, and a write inside a file copies everything after it
at the flush, so the one-file ring this replaces (slot ``seq % capacity``) rewrote
13-25 erase blocks per event once it had wrapped, ~0.7-1.4 s with the sampler
blocked, longer than the IMU's FIFO (bench/log_flash_cost.py). A segment holds at
most ``seg`` slots (``seg_slots``); when a new one starts, the oldest go while the
others, with the new event, still hold ``capacity`` events, so the log keeps the
newest ``capacity`` to ``capacity + 2 x seg - 2`` events, and a new ``capacity``
(the board's ``log_slots``) needs no rewrite: it applies at the next segment.

Boot recovery (band/logscan.py) reads every slot once: a slot whose magic, CRC,
version, type or seq is wrong (a flash bit error, a block the file system refuses)
is counted in ``torn``, skipped, and a BACKFILL's gap (``first_readable``); a whole
slot at the end of the newest segment keeps its seq used, valid or not, and a
partial one (an append cut short; on LittleFS a flush is atomic, on other file
systems not) is overwritten by the next append. Nothing in recovery raises on bad
data. ``wrapped``: events older than the oldest segment were dropped.
"""

import struct

from micropython import const

from swcore import wire
from swcore.crc import crc16

_MAGIC = const(0x5753)
SLOT_SIZE = const(24)
_REC_SIZE = const(20)
# Slots per segment file: 128 x 24 = 3 KB, under one 4 KB erase block of an ESP32's flash, so an
# append rewrites at most the file's last block; and 33 files for the default 4096 slots, a
# directory LittleFS lists at boot in a few metadata blocks.
_SEG_SLOTS = const(128)
_DIR_NAME = const("events")
_ENOSPC = const(28)  # errno of a write to a file system with no room left (LittleFS LFS_ERR_NOSPC)


def seg_slots(capacity):
    """Slots per new segment for ``capacity``: _SEG_SLOTS, a quarter of a small ring (a test's few
    slots), so the log keeps about ``capacity`` events, not a segment's worth more."""
    s = capacity // 4
    return _SEG_SLOTS if s > _SEG_SLOTS else (s if s > 0 else 1)


class EventLog:
    def __init__(self, storage, capacity, name=_DIR_NAME):
        self.capacity = capacity
        self.next_seq = 0
        self.oldest_seq = 0
        self.torn = 0
        self._seg = seg_slots(capacity)
        self._slot = bytearray(SLOT_SIZE)
        self._mv = memoryview(self._slot)
        self._storage = storage
        self._name = name
        self._bases = []  # the segments' first seqs, oldest first
        self._f = None  # the newest segment, appended to
        self._rf = None  # an older segment being read (a backfill), and its base
        self._rbase = -1
        self._refused = False  # a full flash refused the last append after its oldest segment went
        from band import logscan

        logscan.open_log(self)

    @property
    def wrapped(self):
        return len(self._bases) > 0 and self._bases[0] > 0

    def fill_pct(self, delivered=0):
        """Share (%) of ``capacity`` taken by events no host has had (every seq below
        ``delivered`` went to one): a wrapped log is always full of delivered ones."""
        low = delivered if delivered > self.oldest_seq else self.oldest_seq
        n = self.next_seq - low
        return 0 if n <= 0 else (100 if n >= self.capacity else n * 100 // self.capacity)

    def _valid(self, want):
        """The seq of the good record in the slot buffer (it must be ``want`` unless -1), or -1."""
        b = self._slot
        if b[0] != (_MAGIC & 0xFF) or b[1] != (_MAGIC >> 8):
            return -1
        if crc16(b, 0, SLOT_SIZE - 2) != (b[SLOT_SIZE - 2] | (b[SLOT_SIZE - 1] << 8)):
            return -1
        if b[2] != wire.VERSION or b[3] != wire.T_EVENT:
            return -1
        seq = struct.unpack_from("<I", b, 4)[0]
        return seq if want < 0 or seq == want else -1

    def path(self, base):
        return self._name + "/" + str(base)

    def close(self):
        self._unread()
        if self._f is not None:
            self._f.close()
            self._f = None

    def _unread(self):
        """Close the older segment being read, if any."""
        if self._rf is not None:
            self._rf.close()
        self._rf = None
        self._rbase = -1

    def append(self, record):
        """Store a 20-byte EVENT record under the next seq (patched in); returns the seq.

        A file system with no room left (ENOSPC) first gives the oldest segment's room to it, as a
        full log does (its events are those a host had first), and the write is tried again.
        Raises OSError if the flash write fails: the seq is not consumed.
        """
        seq = self.next_seq
        b = self._slot
        b[0] = _MAGIC & 0xFF
        b[1] = _MAGIC >> 8
        self._mv[2 : 2 + _REC_SIZE] = record
        struct.pack_into("<I", b, 4, seq)
        struct.pack_into("<H", b, SLOT_SIZE - 2, crc16(b, 0, SLOT_SIZE - 2))
        try:
            self._put(seq)
        except OSError as e:
            # Never the newest segment (the log's last events); and once until a write goes
            # through: a flash that refuses every write (a worn block read as full) loses one
            # segment, not one per event. Another error (EIO) drops nothing.
            if e.errno != _ENOSPC or len(self._bases) < 2 or self._refused:
                raise
            self._refused = True
            self._drop_oldest()
            self._put(seq)
        self._refused = False
        self.next_seq = seq + 1
        return seq

    def _put(self, seq):
        """Write the slot buffer as event ``seq`` (a new segment first when it starts one)."""
        bases = self._bases
        if self._f is None or seq - bases[-1] >= self._seg:
            self._roll(seq)
        f = self._f
        f.seek((seq - bases[-1]) * SLOT_SIZE)
        f.write(self._slot)
        f.flush()

    def _drop_oldest(self):
        """Remove the oldest segment: its events are gone (``oldest_seq``, ``wrapped``)."""
        bases = self._bases
        if self._rbase == bases[0]:
            self._unread()
        self._storage.remove(self.path(bases.pop(0)))
        self.oldest_seq = bases[0] if bases[0] > self.oldest_seq else self.oldest_seq

    def _roll(self, seq):
        """Start segment ``seq``, first dropping the oldest ones while the rest, with event ``seq``,
        hold ``capacity``."""
        bases = self._bases
        while len(bases) > 1 and seq - bases[1] >= self.capacity - 1:
            self._drop_oldest()  # first: a full flash gets the room back
        f = self._storage.open(self.path(seq), "w+b")  # an OSError here consumes no seq
        if self._f is not None:
            self._f.close()
        self._f = f
        if not bases or bases[-1] != seq:  # (an empty newest segment the boot could not open: the same file)
            bases.append(seq)

    def read(self, seq, out):
        """Copy stored event ``seq`` into ``out`` (20 bytes); False if gone, damaged or not yet written."""
        if seq < self.oldest_seq or seq >= self.next_seq:
            return False
        bases = self._bases
        i = len(bases) - 1
        while i > 0 and bases[i] > seq:
            i -= 1
        base = bases[i]
        f = self._f if i == len(bases) - 1 else self._reader(base)
        if f is None:
            return False
        try:
            f.seek((seq - base) * SLOT_SIZE)
            n = f.readinto(self._slot)
        except OSError:  # a block the file system cannot read (LittleFS: damaged)
            return False
        if n != SLOT_SIZE or self._valid(seq) != seq:
            return False
        out[0:_REC_SIZE] = self._mv[2 : 2 + _REC_SIZE]
        return True

    def _reader(self, base):
        """The older segment ``base`` opened for reading (one kept open: a backfill reads in order)."""
        if self._rbase != base:
            self._unread()
            try:
                self._rf = self._storage.open(self.path(base), "rb")
            except OSError:
                return None
            self._rbase = base
        return self._rf

    async def first_readable(self, seq):
        """The first seq from ``seq`` on (from ``oldest_seq`` if older) that reads back whole, or
        ``next_seq``: those before it are gone, dropped or damaged in flash (a BACKFILL's gap).

        A flash read per damaged slot, up to a full log's 4349 after its oldest: in one go that
        held the event loop, and the sampler with it, for the whole scan (37 ms on the unix port,
        1.1-1.9 s at a board's 30-50x, past the MPU6886 FIFO's 0.73 s). So the other tasks get a
        turn every _SEG_SLOTS slots read (a segment's: 1.4 ms here, 40-70 ms on a board, inside
        the sampler's 200 ms batch; docs/firmware.md). Meanwhile events may be logged and the
        oldest segment dropped: the scan goes on from ``oldest_seq`` then, up to the
        ``next_seq`` of the moment."""
        n = 0
        while True:
            if seq < self.oldest_seq:
                seq = self.oldest_seq
            if seq >= self.next_seq or self.read(seq, self._mv):  # the record is not needed: read into the slot itself
                return seq
            seq += 1
            n += 1
            if n == _SEG_SLOTS:
                n = 0
                # Imported here: the log also runs where there is no asyncio (MicroPython before
                # 1.23 loads it alone, tests/firmware/test_old_micropython.py).
                import asyncio

                await asyncio.sleep_ms(0)
