"""Append-only ring of spasm events in flash: fixed slots, CRC, u32 sequence numbers.

Slot layout (``SLOT_SIZE`` = 24 bytes):

    magic u16 (0x5753 "SW") | EVENT record (20 bytes, protocol.EVENT_FMT) | crc16 u16

The CRC (swcore.crc) covers magic and record. Event ``seq`` lives in slot
``seq % capacity``, so a stored event is found without an index and the ring
wraps by itself. Boot recovery reads every slot once: the highest valid seq
gives ``next_seq``; a slot whose CRC, magic, version or seq/slot pairing is
wrong (a write torn by power loss, or garbage) is counted in ``torn`` and
skipped, and the next append overwrites it. Nothing in recovery raises on bad
data. Once ``next_seq`` passes ``capacity`` the oldest events are being
overwritten: ``wrapped`` is set and the host is told (STATUS and LOGINFO flags).
"""

import struct

from micropython import const

from swcore import protocol
from swcore.crc import crc16

MAGIC = const(0x5753)
SLOT_SIZE = const(24)
REC_SIZE = const(20)
FILE_NAME = "events.log"


class EventLog:
    def __init__(self, storage, capacity, name=FILE_NAME):
        self.capacity = capacity
        self.next_seq = 0
        self.oldest_seq = 0
        self.torn = 0
        self.write_errors = 0
        self._slot = bytearray(SLOT_SIZE)
        self._mv = memoryview(self._slot)
        self._storage = storage
        self._name = name
        self._f = None
        self.open()

    @property
    def wrapped(self):
        return self.next_seq > self.capacity

    def fill_pct(self, delivered=0):
        """Share (%) of the slots holding events no host has had (every seq below
        ``delivered`` went to one): a wrapped ring is always full of delivered ones."""
        low = delivered if delivered > self.oldest_seq else self.oldest_seq
        n = self.next_seq - low
        return n * 100 // self.capacity if n > 0 else 0

    def open(self):
        if self._f is not None:
            return
        st = self._storage
        if st.size(self._name) < 0:
            st.open(self._name, "wb").close()
        self._f = st.open(self._name, "r+b")
        self._recover()

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None

    def _valid(self, index):
        """True if the slot buffer holds a good record for slot ``index``; returns its seq or -1."""
        b = self._slot
        if b[0] != (MAGIC & 0xFF) or b[1] != (MAGIC >> 8):
            return -1
        if crc16(b, 0, SLOT_SIZE - 2) != (b[SLOT_SIZE - 2] | (b[SLOT_SIZE - 1] << 8)):
            return -1
        if b[2] != protocol.VERSION or b[3] != protocol.T_EVENT:
            return -1
        seq = struct.unpack_from("<I", b, 4)[0]
        if seq % self.capacity != index:
            return -1
        return seq

    def _recover(self):
        size = self._storage.size(self._name)
        n = size // SLOT_SIZE
        if n > self.capacity:
            n = self.capacity
        if size > n * SLOT_SIZE and n < self.capacity:
            self.torn += 1  # a partial slot at the end: an append cut short
        f = self._f
        hi = -1
        lo = -1
        f.seek(0)
        for i in range(n):
            got = f.readinto(self._slot)
            seq = self._valid(i) if got == SLOT_SIZE else -1
            if seq < 0:
                self.torn += 1
                continue
            if seq > hi:
                hi = seq
            if lo < 0 or seq < lo:
                lo = seq
        self.next_seq = hi + 1
        floor = self.next_seq - self.capacity
        self.oldest_seq = lo if lo > floor else (floor if floor > 0 else 0)
        if hi < 0:
            self.oldest_seq = 0

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
            self.oldest_seq = floor
        return seq

    def read(self, seq, out):
        """Copy stored event ``seq`` into ``out`` (20 bytes); False if gone, torn or not yet written."""
        if seq < self.oldest_seq or seq >= self.next_seq or self._f is None:
            return False
        f = self._f
        f.seek((seq % self.capacity) * SLOT_SIZE)
        if f.readinto(self._slot) != SLOT_SIZE or self._valid(seq % self.capacity) != seq:
            return False
        out[0:REC_SIZE] = self._mv[2 : 2 + REC_SIZE]
        return True
