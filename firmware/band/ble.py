"""A small asyncio layer over MicroPython's low-level ``bluetooth`` module (peripheral role).

Modelled on micropython-lib's aioble, cut down to what the band needs: one
connection at a time, GATT server, LE Secure Connections bonding. The IRQ
handler only records state and sets flags; tasks do the work:

- connection, MTU and encryption state are plain attributes, changes wake
  ``wait_change()``;
- GATT writes are copied (the stack reuses its buffer) into a bounded ring of
  ``_WRITE_SLOTS`` preallocated buffers; when it is full further writes are
  counted in ``writes_dropped`` and ignored, so a flooding central cannot
  exhaust RAM. On a board the IRQ runs between the app's bytecodes, so no
  variable of the ring is written by both sides: the IRQ alone moves its tail,
  the tasks alone its head; a disconnect notes where the tail was, and the
  old link's writes up to there are skipped, by the control task at its next
  read or, if sooner, as advertising restarts (before any central can connect);
- one connection, and no advertising while it is up: ``drop_unsecured`` ends a link that is not
  encrypted and bonded in time, so a stranger cannot keep the family's host out;
- ``notify`` applies backpressure: the stack raises OSError(ENOMEM) when its
  transmit buffers are full, so it retries every ``_NOTIFY_RETRY_MS`` and gives
  up (returns False) after ``_NOTIFY_TIMEOUT_MS`` or on disconnect.
"""

import asyncio
import time

from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)
_IRQ_PASSKEY_ACTION = const(31)

FLAG_READ = const(0x0002)
FLAG_WRITE = const(0x0008)
FLAG_NOTIFY = const(0x0010)
FLAG_WRITE_ENCRYPTED = const(0x1000)

_IO_NO_INPUT_OUTPUT = const(3)
# Largest ATT MTU we ask for: a RAW record of 19 samples fits in 244 bytes.
_MTU_MAX = const(247)
_WRITE_SLOTS = const(4)
# The ring's head and tail count modulo twice the slots: equal is empty, _WRITE_SLOTS apart full,
# with no count that both the IRQ and the task would update.
_WRAP = const(2 * _WRITE_SLOTS)
WRITE_MAX = const(32)  # longest control write accepted (longer ones are truncated and refused)
_NOTIFY_RETRY_MS = const(10)
_NOTIFY_TIMEOUT_MS = const(2000)

_ADV_FLAGS = const(0x01)
_ADV_NAME = const(0x09)
_ADV_UUID128_ALL = const(0x07)
_ADV_UUID16_MORE = const(0x02)


def adv_payloads(name, service_uuid):
    """(adv_data, resp_data): flags + 128-bit service UUID, and the name in the scan response.

    Both do not fit in one 31-byte advertisement (3 + 18 + 2 + 15 = 38 bytes). Advertising data
    carries the UUID's 16 bytes little-endian.
    """
    h = service_uuid.replace("-", "")
    u = bytearray(16)
    for i in range(16):
        u[15 - i] = int(h[2 * i : 2 * i + 2], 16)
    adv = bytes((2, _ADV_FLAGS, 0x06, 17, _ADV_UUID128_ALL)) + u
    n = name.encode()
    resp = bytes((len(n) + 1, _ADV_NAME)) + n
    return adv, resp


class Peripheral:
    def __init__(self, ble, bonds, flag=None):
        # The stack calls the IRQ handler from outside the asyncio loop's control
        # (a scheduled callback on a board), hence ThreadSafeFlag. The simulator,
        # whose radio runs as an asyncio task, passes a plain Event-based flag:
        # ThreadSafeFlag costs ~2 ms per loop pass on the unix port.
        flag = flag or asyncio.ThreadSafeFlag
        self._ble = ble
        self._bonds = bonds
        self.conn = None
        self.link_id = 0  # counts connections: the stack may reuse a conn handle
        self.mtu = 23
        self.encrypted = False
        self.bonded = False
        # The bond store's key of this link's central (its address, in the stack's form), once the
        # stack looked its secrets up or stored them: how the band tells the asker's bond from the
        # others (OP_BONDS) without knowing the stack's key format. None: not seen on this link.
        self.peer_key = None
        self._conn_ms = 0  # real ticks_ms of the connect: the radio's time, as notify's waits
        self.writes_dropped = 0
        self.notify_failures = 0
        self.notify_busy = 0  # times the stack's buffers were full and a notify waited
        self._wbuf = [bytearray(WRITE_MAX) for _ in range(_WRITE_SLOTS)]
        self._wlen = bytearray(_WRITE_SLOTS)
        self._whandle = [0] * _WRITE_SLOTS
        self._wtail = 0  # the IRQ's: next slot to fill
        self._whead = 0  # the task's: oldest slot not yet read
        # The IRQ's, at each disconnect: link_id * _WRAP + the tail then, so it differs at every
        # disconnect and the task learns both from one read, which no IRQ can split.
        self._wcut = 0
        self._wseen = 0  # the task's: the last _wcut it has skipped to
        self._write_flag = flag()
        self._change_flag = flag()
        self._adv = None
        self.start()

    def start(self):
        """Start the stack if it is off and set it up; False if it refused to start (OSError: MicroPython
        1.28's failed NimBLE start, micropython#18948). While it is off nothing goes to it (``active``):
        the band senses and logs to flash, and the app tries again later (App._status)."""
        ble = self._ble
        # On already (main.py, sim/run.py: before the app's modules grew the heap). Not again:
        # active(True) on an active stack restarts it (mp_bluetooth_init deinits first), and its
        # memory would then come from what the grown heap left to ESP-IDF.
        if not ble.active():
            try:
                ble.active(True)
            except OSError:
                return False
        ble.config(bond=True, le_secure=True, mitm=False, io=_IO_NO_INPUT_OUTPUT, mtu=_MTU_MAX)
        ble.irq(self._irq)
        return True

    def active(self):
        # (The stack's own name for it: a new name would cost the band a qstr, docs/firmware.md.)
        return self._ble.active()

    def set_bonding(self, on):
        """Offer bonding to a central that pairs (the pairing window), or pair it unbonded.

        NimBLE puts ``bond`` (ble_hs_cfg.sm_bonding) in its pairing response; without it the
        link is encrypted but the stack reports bonded=0 and stores no key, while a central
        bonded earlier still re-encrypts with its stored key and is reported bonded. Refusing
        the key in _IRQ_SET_SECRET instead would not work there: NimBLE reports bonded=1
        before it stores keys, and a refused store makes it unpair the oldest bonded peer and
        try again, until none is left (ble_store_util_status_rr; docs/firmware.md, "Security").
        """
        if self.active():
            self._ble.config(bond=bool(on))

    def register(self, services):
        return self._ble.gatts_register_services(services)

    def set_value(self, handle, data):
        if self.active():
            self._ble.gatts_write(handle, data)

    def set_buffer(self, handle, size):
        self._ble.gatts_set_buffer(handle, size)

    def advertise(self, name, service_uuid, interval_us=250000):
        self._adv = (interval_us,) + adv_payloads(name, service_uuid)
        if self.active():
            self._ble.gap_advertise(interval_us, adv_data=self._adv[1], resp_data=self._adv[2])

    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            self.conn = data[0]
            self.link_id += 1
            self._conn_ms = time.ticks_ms()
            self.mtu = 23
            self.encrypted = False
            self.bonded = False
            self.peer_key = None
            self._change_flag.set()
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self.conn:
                self.conn = None
                self.encrypted = False
                self.bonded = False
                self.peer_key = None
                self._wcut = self.link_id * _WRAP + self._wtail  # its writes left are skipped
                self._change_flag.set()
        elif event == _IRQ_GATTS_WRITE:
            self._capture(data[1])
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self.conn:
                self.mtu = data[1]
                self._change_flag.set()
        elif event == _IRQ_ENCRYPTION_UPDATE:
            if data[0] == self.conn:
                self.encrypted = bool(data[1])
                self.bonded = bool(data[3])
                self._change_flag.set()
        elif event == _IRQ_GET_SECRET:
            key = None if data[2] is None else bytes(data[2])
            v = self._bonds.get(data[0], data[1], key)
            if v is not None and key is not None:
                # Looked up by address, while one central is connected: its own (the stack reads
                # other bonds by index alone, to count them or find the oldest)
                self.peer_key = key
            return v
        elif event == _IRQ_SET_SECRET:
            r = self._bonds.set(data[0], data[1], data[2])
            if data[2] is not None:  # stored as this link's central bonds (a removal may be another's)
                self.peer_key = bytes(data[1])
            self._change_flag.set()  # bonds are saved from a task, not the IRQ
            return r
        elif event == _IRQ_PASSKEY_ACTION:
            pass  # io=NoInputNoOutput: Just Works, the stack never asks
        return None

    def _capture(self, handle):
        t = self._wtail
        if (t - self._whead) % _WRAP >= _WRITE_SLOTS:
            self.writes_dropped += 1
            return
        i = t % _WRITE_SLOTS
        v = self._ble.gatts_read(handle)
        n = len(v)
        if n > WRITE_MAX:
            n = WRITE_MAX
            v = v[:WRITE_MAX]
            self._wlen[i] = 0  # too long: delivered as empty, refused as bad length
        else:
            self._wlen[i] = n
        self._wbuf[i][0:n] = v
        self._whandle[i] = handle
        self._wtail = (t + 1) % _WRAP  # last: the task sees the slot only once it is whole
        self._write_flag.set()

    async def next_write(self):
        """Wait for the next GATT write of the link up: (attr_handle, a bytearray copy of the data)."""
        while True:
            while self._whead == self._wtail:
                await self._write_flag.wait()
            if self._skip_gone():
                continue
            h = self._whead
            i = h % _WRITE_SLOTS
            # A copy: once the head moves on, the IRQ may fill the slot while the caller decodes.
            w = self._whandle[i], self._wbuf[i][: self._wlen[i]]
            self._whead = (h + 1) % _WRAP
            return w

    def _skip_gone(self):
        """Move the head past the writes of links gone since the last look; True if it moved.
        Task side only: the IRQ never moves the head."""
        cut = self._wcut
        if cut == self._wseen:
            return False
        self._wseen = cut
        self._whead = cut % _WRAP
        return True

    async def wait_change(self):
        await self._change_flag.wait()

    def secure(self):
        return self.conn is not None and self.encrypted and self.bonded

    def drop_unsecured(self, within_ms):
        """Disconnect a central whose link is not secure ``within_ms`` real ms after it connected:
        the band takes one connection and does not advertise while it is up, so a stranger that
        connected and stayed kept the family's host out (docs/firmware.md, "Threat model")."""
        if self.conn is not None and not self.secure() and time.ticks_diff(time.ticks_ms(), self._conn_ms) >= within_ms:
            self.disconnect()

    def payload_max(self):
        return self.mtu - 3

    async def notify(self, handle, data):
        """Notify the connected central; False if it went away or the stack stayed busy."""
        conn = self.conn
        link = self.link_id  # the stack may hand the same conn handle to the next central
        waited = 0
        while conn is not None and conn == self.conn and link == self.link_id:
            try:
                self._ble.gatts_notify(conn, handle, data)
                return True
            except OSError:
                self.notify_busy += 1
                if waited >= _NOTIFY_TIMEOUT_MS:
                    break
                await asyncio.sleep_ms(_NOTIFY_RETRY_MS)
                waited += _NOTIFY_RETRY_MS
        self.notify_failures += 1
        return False

    def disconnect(self):
        if self.conn is not None:
            try:
                self._ble.gap_disconnect(self.conn)
            except OSError:
                pass

    def restart_advertising(self):
        # A central connects only once the band advertises again: a gone link's writes, which the
        # control task skips only when it next reads (after the command it is busy with), are
        # skipped first, so a host that reconnects at once finds their slots free (they filled the
        # ring and its first commands were dropped). Tasks never run inside next_write's reads.
        self._skip_gone()
        if self._adv is not None and self.active():
            self._ble.gap_advertise(self._adv[0], adv_data=self._adv[1], resp_data=self._adv[2])
