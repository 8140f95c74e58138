"""Append-only ring of spasm events in flash: fixed slots, CRC, u32 sequence numbers.

Slot layout (``SLOT_SIZE`` = 24 bytes):

    magic u16 (0x5753 "SW") | EVENT record (20 bytes, wire.EVENT_FMT) | crc16 u16

The CRC (swcore.crc) covers magic and record. Event ``seq`` lives in slot
``seq % capacity``, so a stored event is found without an index and the ring
wraps by itself. Boot recovery reads every slot once: the highest valid seq
gives ``next_seq`` (in a ring not yet wrapped, the last whole slot not empty,
valid or not: a damaged newest record keeps its seq used); a slot whose CRC,
magic, version or seq/slot pairing is
wrong (a write torn by power loss, or garbage) is counted in ``torn`` and
skipped, and the next append overwrites it; an all-zero slot is empty. Nothing
in recovery raises on bad data. Once ``next_seq`` passes ``capacity`` the
oldest events are being overwritten: ``wrapped`` is set and the host is told
(STATUS and LOGINFO flags).

Capacity changes (a new ``log_slots``): a file whose records do not all sit
where the wanted capacity puts them was written with another one; it is
opened with its own (its slot count: a wrapped ring fills its file, an
unwrapped one has ``seq == slot``), so nothing is lost and ``next_seq`` goes
on. ``resize()`` then sets it aside whole as ``<name>.old`` (read-only) and
starts a new ring of the wanted capacity, its file written full of empty
slots (so its own size names its capacity), at ``next_seq``. Nothing is
copied: the old events are read from the old file until the new ring has
turned over past them, then the old file is removed: the ring's own rule for
its slots. A BACKFILL's ``from_seq`` removes nothing: it is one host's word,
and another bonded host (the daemon, when a phone asked) may still lack them.
Power-safe at every step: the new file holds no event until the renames
(``log`` -> ``old``, ``new`` -> ``log``) are done, boot finishes or drops a
resize cut short, and an old file whose removal was cut short is removed at
the next boot (the ring still shows it turned over).
"""

import struct

from micropython import const

from swcore import wire
from swcore.crc import crc16

MAGIC = const(0x5753)
SLOT_SIZE = const(24)
REC_SIZE = const(20)
FILE_NAME = "events.log"


class EventLog:
    def __init__(self, storage, capacity, name=FILE_NAME):
        self.want = capacity  # the capacity asked for (board log_slots)
        self.capacity = capacity  # the ring's: its file's own until resize() makes it the wanted one
        self.next_seq = 0
        self.oldest_seq = 0
        self.torn = 0
        self.write_errors = 0
        self._slot = bytearray(SLOT_SIZE)
        self._mv = memoryview(self._slot)
        self._storage = storage
        self._name = name
        self._f = None
        self._old = None  # the file of an earlier capacity, read-only, while it holds events the ring lacks
        self._old_cap = 0
        self._base = 0  # the ring's first seq: the ones below are in the old file
        self.open()

    @property
    def wrapped(self):
        return self.next_seq > self._base + self.capacity or (self._old is not None and self._base > self._old_cap)

    def fill_pct(self, delivered=0):
        """Share (%) of the slots holding events no host has had (every seq below
        ``delivered`` went to one): a wrapped ring is always full of delivered ones."""
        low = delivered if delivered > self.oldest_seq else self.oldest_seq
        n = self.next_seq - low
        return 0 if n <= 0 else (100 if n >= self.capacity else n * 100 // self.capacity)

    def open(self):
        """Read the ring's file(s) (boot recovery, band/logscan.py) unless open."""
        if self._f is None:
            from band import logscan

            logscan.open_ring(self)

    def _valid(self, index, cap):
        """The seq of the good record in the slot buffer (for slot ``index`` of ``cap``; -1: any slot), or -1."""
        b = self._slot
        if b[0] != (MAGIC & 0xFF) or b[1] != (MAGIC >> 8):
            return -1
        if crc16(b, 0, SLOT_SIZE - 2) != (b[SLOT_SIZE - 2] | (b[SLOT_SIZE - 1] << 8)):
            return -1
        if b[2] != wire.VERSION or b[3] != wire.T_EVENT:
            return -1
        seq = struct.unpack_from("<I", b, 4)[0]
        if index >= 0 and seq % cap != index:
            return -1
        return seq

    def resize(self):
        """Give the ring the wanted capacity (see the module doc). False, the log unchanged and
        whole, if the flash refused (a full file system) or an old file is still read (until the
        ring turns over past it)."""
        if self.capacity == self.want:
            return True
        from band import logscan

        return logscan.resize(self)

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None
        if self._old is not None:
            self._old.close()
            self._old = None

    def append(self, record):
        """Store a 20-byte EVENT record under the next seq (patched in); returns the seq.

        Raises OSError if the flash write fails: the seq is not consumed.
        """
        seq = self.next_seq
        b = self._slot
        b[0] = MAGIC & 0xFF
        b[1] = MAGIC >> 8
        self._mv[2 : 2 + REC_SIZE] = record
        struct.pack_into("<I", b, 4, seq)
        struct.pack_into("<H", b, SLOT_SIZE - 2, crc16(b, 0, SLOT_SIZE - 2))
        f = self._f
        f.seek((seq % self.capacity) * SLOT_SIZE)
        f.write(b)
        f.flush()
        self.next_seq = seq + 1
        floor = self.next_seq - self.capacity
        if floor > self.oldest_seq:
            if self._old is not None:
                if floor <= self._base:
                    return seq  # the ring has not reached its first seq: the old file's events still follow on
                # Turned over: what the old file holds is older than what was just overwritten.
                self._old.close()
                self._old = None
                self._base = 0
                try:
                    self._storage.remove(self._name + ".old")
                except OSError:
                    pass  # the next boot removes it: the ring it finds has turned over past it
            self.oldest_seq = floor
        return seq

    def read(self, seq, out):
        """Copy stored event ``seq`` into ``out`` (20 bytes); False if gone, torn or not yet written."""
        if seq < self.oldest_seq or seq >= self.next_seq or self._f is None:
            return False
        f = self._f
        cap = self.capacity
        if seq < self._base:
            f = self._old
            cap = self._old_cap
        i = seq % cap
        try:
            f.seek(i * SLOT_SIZE)
            n = f.readinto(self._slot)
        except OSError:  # a block the file system cannot read (LittleFS: damaged): as a torn slot
            return False
        if n != SLOT_SIZE or self._valid(i, cap) != seq:
            return False
        out[0:REC_SIZE] = self._mv[2 : 2 + REC_SIZE]
        return True

    def first_readable(self, seq):
        """The first seq from ``seq`` on (from ``oldest_seq`` if older) that reads back whole, or
        ``next_seq``: those before it are gone, overwritten or damaged in flash (a BACKFILL's gap)."""
        if seq < self.oldest_seq:
            seq = self.oldest_seq
        while seq < self.next_seq and not self.read(seq, self._mv):  # the record is not needed: read into the slot itself
            seq += 1
        return seq
