"""Simulated MicroPython ``bluetooth`` module for the unix port: only the radio is fake.

Implements the subset of ``bluetooth.BLE`` the band uses (peripheral role,
GATT server, LE Secure Connections bonding) and bridges it to one TCP socket
on 127.0.0.1, where a test or a host transport plays the central. The band's
real BLE layer (band.ble) runs on top unchanged: its IRQ handler is called with
the same events and tuples the real stack produces.

Wire format, both directions: ``u16 length (LE) | u8 op | body`` where
length counts op + body. Central -> band:

    0x01 HELLO    addr_type u8, addr 6 bytes    connect (only while advertising)
    0x02 MTU      mtu u16                        exchange MTU
    0x03 READ     handle u16                     read a characteristic
    0x04 WRITE    handle u16, data               write with response
    0x05 PAIR     [bond u8, default 1]           LE Secure Connections, Just Works; bond=0: encrypt only; so
                                                 too while the band offers no bonding (config bond=False, as
                                                 NimBLE's sm_bonding: its pairing window is shut)
    0x06 ENCRYPT  ltk 16 bytes                   re-encrypt with the key from an earlier bond
    0x07 BYE      (empty)                        disconnect (closing the socket does too)
    0x08 SCAN     (empty)                        scan probe: ADV reply, then the socket closes; the band sees no connection

Band -> central:

    0x81 INFO     JSON {"adv","resp" (hex), "services": [{"uuid", "chars": [{"uuid","handle","flags"}]}]}
    0x82 MTU      mtu u16 (negotiated)
    0x83 READ     handle u16, att_status u8, value
    0x84 WRITE    handle u16, att_status u8
    0x85 SECURITY encrypted u8, authenticated u8, bonded u8, key_size u8, ltk 16 bytes (zeros if none)
    0x88 ADV      JSON {"adv","resp" (hex)}: what a scanner would receive
    0x90 NOTIFY   handle u16, value
    0x8F REFUSED  reason (utf-8), then the socket closes

ATT status codes are Bluetooth's: 0 ok, 0x02 read not permitted, 0x03 write
not permitted, 0x05 insufficient authentication, 0x0F insufficient
encryption. A characteristic with FLAG_WRITE_ENCRYPTED refuses writes on an
unencrypted link as NimBLE does: 0x0F from a central the band has a bond
with, 0x05 from one it has none with.

Transmit backpressure: at most ``TX_PER_EVENT`` notifications are accepted
between two pump cycles (a "connection event"); more raise OSError(ENOMEM)
like the real stack when its buffers are full.
"""

import errno
import json
import os
import socket
import struct
import sys

import asyncio

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_WRITE_ENCRYPTED = 0x1000
FLAG_READ_ENCRYPTED = 0x0200

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30

ATT_INSUFFICIENT_AUTHENTICATION = 0x05
ATT_INSUFFICIENT_ENCRYPTION = 0x0F
_SEC_LTK = 1  # the sec_type under which the simulated stack keeps a peer's long-term key
TX_PER_EVENT = 12
POLL_MS = 2

_port = 0
_refuse = 0  # starts the stack still refuses (sim_refuse)
_instance = None
_IPPROTO_TCP = 6  # Linux's numbers: the unix port's socket module names neither
_TCP_NODELAY = 1


def _nodelay(sock):
    """Each message leaves at once, as a notification leaves at the next connection event.

    With Nagle's algorithm on, a message written while the one before was unacknowledged
    waited for the central's delayed ACK (40 ms on Linux): a TIME_SYNC's answer written just
    after a RAW record reached the host 42-48 ms late, while the command had taken 1-2 ms,
    and the host's midpoint put every event of the boot 90-100 ms late at --speed 4.
    """
    try:
        sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
    except (OSError, TypeError, AttributeError):
        pass  # a port without the option (e.g. WebAssembly's): the link stays as it was


def sim_configure(port):
    """Called by sim/run.py before the app starts: the TCP port to listen on. The radio is on by
    then (run.py turns it on first, as main.py does on a board): it listens there from now."""
    global _port
    _port = port
    if _instance is not None and _instance._active:
        _instance.listen()


def sim_refuse(n):
    """The stack refuses its next ``n`` starts: OSError(EIO), as MicroPython 1.28's ESP32 port raises
    for a NimBLE that could not start (micropython#18948; 1.22-1.27 panicked). sim/run.py --radio-refuse."""
    global _refuse
    _refuse = n


class UUID:
    def __init__(self, value):
        if isinstance(value, int):
            self._s = "%04x" % value
        else:
            self._s = str(value).lower()

    def __eq__(self, other):
        return isinstance(other, UUID) and other._s == self._s

    def __str__(self):
        return self._s

    def __repr__(self):
        return "UUID(%r)" % self._s


class _Attr:
    def __init__(self, uuid, flags):
        self.uuid = uuid
        self.flags = flags
        self.value = b""
        self.size = 20


class BLE:
    """Singleton, like the real ``bluetooth.BLE()``."""

    def __new__(cls):
        global _instance
        if _instance is None:
            _instance = object.__new__(cls)
            _instance._init()
        return _instance

    def _init(self):
        self._active = False
        # Each start of the stack (active(True)): the band's modules loaded then. A real stack
        # restarts at each (micropython's mp_bluetooth_init), and it must start before the band's
        # modules grow the heap (micropython#14293; tests/firmware/test_main_entry.py).
        self.starts = []
        self.encryptions = 0  # links encrypted so far: sim/run.py's --hold ends at the first
        self._irq = None
        self._cfg = {"mtu": 23, "bond": False, "le_secure": False, "mitm": False, "io": 3}
        self._attrs = {}
        self._services = []
        self._next_handle = 1
        self._adv = None
        self._adv_last = (b"", b"")
        self._lsock = None
        self._sock = None
        self._rx = b""
        self._gone = False  # a send met a reset socket: the central is gone, dropped at the next poll
        self._conn = None
        self._conn_n = 0
        self._peer = None
        self._encrypted = False
        self._tx_budget = TX_PER_EVENT
        # callable set by the harness: while it returns True the radio neither accepts a
        # central nor reads from one (sim/run.py: while virtual time lags its pace)
        self.quiet = None

    # --- the MicroPython API ---------------------------------------------------------

    def active(self, on=None):
        if on is None:
            return self._active
        global _refuse
        if on:
            self.starts.append(sorted(k for k in sys.modules if k.split(".")[0] in ("band", "swcore")))
            if _refuse and not self._active:
                _refuse -= 1
                raise OSError(errno.EIO)
        if on and not self._active:
            self.listen()
        self._active = bool(on)
        return self._active

    def listen(self):
        """Listen on the port sim/run.py gave (sim_configure), or any while it gave none."""
        if self._lsock is not None:
            self._lsock.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo("127.0.0.1", _port)[0][-1])
        s.listen(1)
        s.setblocking(False)
        self._lsock = s

    def config(self, *args, **kw):
        if args:
            if args[0] == "mac":
                return (0, bytes((0x02, 0x53, 0x57, 0, 0, 1)))
            return self._cfg[args[0]]
        for k, v in kw.items():
            if k not in self._cfg and k not in ("gap_name",):
                raise ValueError("unknown config param")
            self._cfg[k] = v

    def irq(self, handler):
        self._irq = handler

    def gatts_register_services(self, services):
        out = []
        self._services = []
        for svc_uuid, chars in services:
            handles = []
            sdesc = {"uuid": str(svc_uuid), "chars": []}
            self._next_handle += 1  # the service declaration
            for c in chars:
                uuid, flags = c[0], c[1]
                self._next_handle += 1  # characteristic declaration
                h = self._next_handle
                self._next_handle += 1
                if flags & (FLAG_NOTIFY | 0x0020):
                    self._next_handle += 1  # CCCD, added by the stack
                self._attrs[h] = _Attr(uuid, flags)
                handles.append(h)
                sdesc["chars"].append({"uuid": str(uuid), "handle": h, "flags": flags})
            self._services.append(sdesc)
            out.append(tuple(handles))
        return tuple(out)

    def gatts_read(self, handle):
        return self._attrs[handle].value

    def gatts_write(self, handle, data, send_update=False):
        self._attrs[handle].value = bytes(data)

    def gatts_set_buffer(self, handle, size, append=False):
        self._attrs[handle].size = size

    def gatts_notify(self, conn_handle, value_handle, data=None):
        if conn_handle != self._conn or self._sock is None:
            raise OSError(errno.ENOTCONN)
        if self._tx_budget <= 0:
            raise OSError(errno.ENOMEM)
        self._tx_budget -= 1
        if data is None:
            data = self._attrs[value_handle].value
        self._send(0x90, struct.pack("<H", value_handle) + bytes(data))
        if self._gone:  # not sent: the app hears it as from a stack whose link just went
            raise OSError(errno.ENOTCONN)

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        if interval_us is None:
            self._adv = None
        else:
            self._adv = (bytes(adv_data or b""), bytes(resp_data or b""))
            self._adv_last = self._adv

    def gap_disconnect(self, conn_handle):
        if conn_handle != self._conn:
            return False
        self._drop()
        return True

    # --- the bridge --------------------------------------------------------------------------

    def _send(self, op, body):
        """Send one message; a central gone meanwhile (EPIPE, ECONNRESET: its process killed with
        a request on its way) marks the link gone, as a stack notices a peer that went away, never
        an error for the app. Found by the fault audit: the band crashed on it (OSError 32 in
        this method, bench/faults.py --quick --seed 5), its recording cut short."""
        msg = struct.pack("<HB", len(body) + 1, op) + body
        sock = self._sock
        view = memoryview(msg)
        while view and not self._gone:
            try:
                n = sock.send(view)
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    continue
                self._gone = True
                return
            view = view[n:]

    def _drop(self):
        """The link is gone (either side): tell the app like the stack does."""
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._rx = b""
        self._gone = False
        conn = self._conn
        self._conn = None
        self._encrypted = False
        if conn is not None and self._irq:
            self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, 0, self._peer or bytes(6)))

    def _accept(self):
        try:
            s, _ = self._lsock.accept()
        except OSError:
            return
        s.setblocking(False)
        _nodelay(s)
        if self._sock is not None or self._adv is None:
            try:
                s.send(struct.pack("<HB", 15, 0x8F) + b"not advertising")
            except OSError:
                pass
            s.close()
            return
        self._sock = s
        self._rx = b""

    def _recv(self):
        """Read what the central sent and act on whole messages; False when nothing more to read."""
        try:
            data = self._sock.recv(512)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return False
            data = b""
        if not data:
            self._drop()
            return False
        self._rx += data
        while len(self._rx) >= 2:
            n = self._rx[0] | (self._rx[1] << 8)
            if len(self._rx) < 2 + n:
                break
            op = self._rx[2]
            body = self._rx[3 : 2 + n]
            self._rx = self._rx[2 + n :]
            self._handle(op, body)
            if self._gone:
                self._drop()
            if self._sock is None:
                return False
        return True

    def _handle(self, op, body):
        irq = self._irq
        if op == 0x01:  # HELLO: connect
            if self._adv is None:
                self._send(0x8F, b"not advertising")
                self._drop()
                return
            self._conn_n += 1
            self._conn = 64 + self._conn_n
            self._peer = bytes(body[1:7])
            self._adv = None  # a connection stops advertising, as on NimBLE
            info = {"adv": _hex(self._adv_last[0]), "resp": _hex(self._adv_last[1]), "services": self._services}
            self._send(0x81, json.dumps(info).encode())
            irq(_IRQ_CENTRAL_CONNECT, (self._conn, body[0], memoryview(self._peer)))
        elif op == 0x08 and self._conn is None:  # SCAN: a scanner hears the advertisement, no link is made
            if self._adv is None:
                self._send(0x8F, b"not advertising")
            else:
                self._send(0x88, json.dumps({"adv": _hex(self._adv[0]), "resp": _hex(self._adv[1])}).encode())
            self._drop()
        elif self._conn is None:
            return
        elif op == 0x02:  # MTU
            mtu = min(struct.unpack("<H", body)[0], self._cfg["mtu"])
            mtu = max(mtu, 23)
            self._send(0x82, struct.pack("<H", mtu))
            irq(_IRQ_MTU_EXCHANGED, (self._conn, mtu))
        elif op == 0x03:  # READ
            h = struct.unpack("<H", body[:2])[0]
            a = self._attrs.get(h)
            if a is None or not a.flags & FLAG_READ:
                self._send(0x83, struct.pack("<HB", h, 0x02))
            elif a.flags & FLAG_READ_ENCRYPTED and not self._encrypted:
                self._send(0x83, struct.pack("<HB", h, self._unencrypted_status()))
            else:
                self._send(0x83, struct.pack("<HB", h, 0) + a.value)
        elif op == 0x04:  # WRITE
            h = struct.unpack("<H", body[:2])[0]
            a = self._attrs.get(h)
            if a is None or not a.flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE):
                self._send(0x84, struct.pack("<HB", h, 0x03))
            elif a.flags & FLAG_WRITE_ENCRYPTED and not self._encrypted:
                self._send(0x84, struct.pack("<HB", h, self._unencrypted_status()))
            else:
                a.value = bytes(body[2 : 2 + a.size])
                self._send(0x84, struct.pack("<HB", h, 0))
                irq(_IRQ_GATTS_WRITE, (self._conn, h))
        elif op == 0x05:  # PAIR: LE Secure Connections, Just Works (no MITM), bonding
            if not self._cfg["le_secure"]:
                self._send(0x85, bytes(20))
                return
            ltk = os.urandom(16)
            bonded = 0
            want_bond = body[0] if len(body) else 1
            if want_bond and self._cfg["bond"] and irq(_IRQ_SET_SECRET, (_SEC_LTK, memoryview(self._peer), memoryview(ltk))):
                bonded = 1
            self._encrypted = True
            self.encryptions += 1
            self._send(0x85, bytes((1, 0, bonded, 16)) + ltk)
            irq(_IRQ_ENCRYPTION_UPDATE, (self._conn, 1, 0, bonded, 16))
        elif op == 0x06:  # ENCRYPT with a stored key
            known = irq(_IRQ_GET_SECRET, (_SEC_LTK, 0, memoryview(self._peer)))
            if known is not None and bytes(known) == bytes(body[:16]):
                self._encrypted = True
                self.encryptions += 1
                self._send(0x85, bytes((1, 0, 1, 16)) + bytes(body[:16]))
                irq(_IRQ_ENCRYPTION_UPDATE, (self._conn, 1, 0, 1, 16))
            else:
                self._send(0x85, bytes(20))  # key missing: the central must pair again
        elif op == 0x07:
            self._drop()

    def _unencrypted_status(self):
        """NimBLE's answer to an encrypted-only access on a plain link (ble_att_svr_check_perms): 0x0F
        Insufficient Encryption if it holds a key for the peer (re-encrypt), else 0x05 Insufficient
        Authentication (pair). The key is looked up in the band's bond store, as NimBLE's store is."""
        known = self._irq(_IRQ_GET_SECRET, (_SEC_LTK, 0, memoryview(self._peer)))
        return ATT_INSUFFICIENT_ENCRYPTION if known is not None else ATT_INSUFFICIENT_AUTHENTICATION

    async def pump(self):
        """The radio: accept a central, deliver its requests as IRQs, refill tx credits."""
        while True:
            if self.quiet is None or not self.quiet():
                if self._gone:  # a notify met a reset socket since the last poll
                    self._drop()
                if self._lsock is not None and self._sock is None:
                    self._accept()
                while self._sock is not None and self._recv():
                    pass
            self._tx_budget = TX_PER_EVENT
            await asyncio.sleep_ms(POLL_MS)

    def connected(self):
        return self._conn is not None


class Flag:
    """ThreadSafeFlag's interface on an asyncio.Event: the simulated IRQs come from a task."""

    def __init__(self):
        self._e = asyncio.Event()

    def set(self):
        self._e.set()

    async def wait(self):
        await self._e.wait()
        self._e.clear()


def _hex(b):
    return "".join("%02x" % x for x in b)
