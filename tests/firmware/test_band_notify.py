"""Notifications that wait on a busy BLE stack, under the real micropython (found by review).

The stack's buffers fill up and ``Peripheral.notify`` retries every 10 ms for up to 2 s.
Whatever happens meanwhile (a BACKFILL from the host, the link dropping and another
central taking the same connection handle) must neither skip an event nor send one to
the wrong central.
"""

from __future__ import annotations

from pathlib import Path

from sim_central import run_mp

# The band's own App (firmware/sim/run.build, as the simulator runs it) with a peripheral whose
# stack is busy for the first event notify: while it waits, the host asks for a BACKFILL from 0.
BACKFILL_RACE = """
import sys, asyncio
from sim import run
from band.app import App
from swcore import protocol as P

class BusyOnce:
    def __init__(self, real):
        self.real = real
        self.link_id = real.link_id
        self.conn = 0
        self.sent = []
        self.busy = asyncio.Event()
        self.free = asyncio.Event()
    def secure(self):
        return True
    async def notify(self, handle, data):
        rec = P.decode(bytes(data))
        if rec["type"] == "event" and not self.busy.is_set():
            self.busy.set()  # the stack's buffers are full: notify waits
            await self.free.wait()
        self.sent.append(rec["seq"] if rec["type"] == "event" else rec["type"])
        return True

async def main():
    hw = run.build(run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"]))[0]
    app = App(hw)
    p = app.periph = BusyOnce(app.periph)
    ev = bytearray(P.EVENT_SIZE)
    for i in range(5):  # logged while no host listened
        P.pack_event_into(ev, 0, 0, 1, 1000 * i, 500, 100, 100, 80, 0)
        app.log.append(ev)
    app._ready_link = p.link_id  # its host has written a first command (it has subscribed)
    sender = asyncio.create_task(app._sender())
    app._wake.set()
    await asyncio.sleep_ms(0)  # a new link: the cursor starts at the live end (5)
    P.pack_event_into(ev, 0, 0, 1, 9000, 500, 100, 100, 80, 0)
    app.log.append(ev)  # a live spasm: its notify meets the busy stack
    app._wake.set()
    await p.busy.wait()
    await app._apply(P.OP_BACKFILL, (0,))  # the host asks for everything from 0
    p.free.set()
    for _ in range(50):
        await asyncio.sleep_ms(1)
    sender.cancel()
    print(" ".join(str(x) for x in p.sent))

asyncio.run(main())
"""


def test_a_backfill_while_a_notify_waits_skips_no_event(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "race.py", BACKFILL_RACE, str(many_spasms_csv), str(tmp_path / "flash"))
    sent = out.split()
    events = [int(x) for x in sent if x.isdigit()]
    # The live event 5 (sent once the stack is free), then every event from 0: none skipped.
    assert "loginfo" in sent and events == [5, 0, 1, 2, 3, 4, 5], sent


# A stack whose first notify finds its buffers full. While the band waits to retry, the
# bonded central drops and a new, unencrypted one connects on the same handle (0), as an
# ESP32 stack commonly reuses handles.
NOTIFY_REUSE = """
import asyncio
from band.ble import Peripheral

# The stack's IRQ events (band/ble.py's consts, which a module does not export)
_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_ENCRYPTION_UPDATE = 28

class Stack:
    def __init__(self):
        self.handler = None
        self.full = True
        self.delivered = []
    def active(self, on=None):
        return True
    def config(self, *a, **k):
        return None
    def irq(self, handler):
        self.handler = handler
    def gatts_notify(self, conn, handle, data):
        if self.full:
            self.full = False
            raise OSError(12)  # ENOMEM: no buffer now
        self.delivered.append((conn, bytes(data)))

class Bonds:
    def get(self, *a):
        return None
    def set(self, *a):
        return True

async def main():
    st = Stack()
    p = Peripheral(st, Bonds(), asyncio.Event)
    st.handler(_IRQ_CENTRAL_CONNECT, (0, 0, b"A" * 6))
    st.handler(_IRQ_ENCRYPTION_UPDATE, (0, 1, 0, 1, 16))
    task = asyncio.create_task(p.notify(7, b"EVENT-health-data"))
    await asyncio.sleep_ms(1)  # the first attempt met full buffers; it waits to retry
    st.handler(_IRQ_CENTRAL_DISCONNECT, (0, 0, b"A" * 6))
    st.handler(_IRQ_CENTRAL_CONNECT, (0, 0, b"B" * 6))  # someone else, same handle, not encrypted
    ok = await task
    print(ok, p.secure(), len(st.delivered))

asyncio.run(main())
"""


def test_a_notify_waiting_on_the_stack_never_goes_to_the_next_central(micropython: str, tmp_path: Path) -> None:
    out = run_mp(micropython, tmp_path / "reuse.py", NOTIFY_REUSE).split()
    assert out == ["False", "False", "0"], out  # not sent: the link it was for has gone


# The band's own App, not sensing (safe mode, a critical battery: no epoch wakes its sender), with
# a stack that stays busy through notify's 2 s once for an event and once for the backfill's end
# (LOGINFO done): notify gives up, the link stays up and nothing else happens on it.
GIVES_UP_ONCE = """
import sys, asyncio
from sim import run
from band.app import App
from swcore import protocol as P

class GivesUpOnce:
    def __init__(self, real):
        self.link_id = real.link_id
        self.conn = 0
        self.sent = []
        self.refused = []
    def secure(self):
        return True
    async def notify(self, handle, data):
        rec = P.decode(bytes(data))
        what = rec["seq"] if rec["type"] == "event" else rec["type"] + str(rec["flags"] & P.LF_DONE)
        if what in (1, "loginfo4") and what not in self.refused:
            self.refused.append(what)
            return False  # ENOMEM for 2 s: notify gave up
        self.sent.append(what)
        return True

async def main():
    hw = run.build(run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"]))[0]
    app = App(hw)
    hw.clock.free_run()  # no sampler: virtual time follows real time, as the simulator runs a band not sensing
    p = app.periph = GivesUpOnce(app.periph)
    ev = bytearray(P.EVENT_SIZE)
    for i in range(3):
        P.pack_event_into(ev, 0, 0, 1, 1000 * i, 500, 100, 100, 80, 0)
        app.log.append(ev)
    app._ready_link = p.link_id
    sender = asyncio.create_task(app._sender())
    await app._apply(P.OP_BACKFILL, (0,))
    for _ in range(100):
        await asyncio.sleep_ms(50)
        if "loginfo4" in p.sent:
            break
    sender.cancel()
    print(" ".join(str(x) for x in p.sent))

asyncio.run(main())
"""


def test_a_notify_the_stack_gave_up_on_is_tried_again_without_another_wake(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: after a notify gave up (the stack busy for 2 s) on a link still up, the
    sender waited for its next wake, an epoch's (10 s) while sensing; a band not sensing (safe
    mode, a critical battery: serving its log is all it does) sent nothing more until the host's
    next command, up to an hour. And the backfill's end (LOGINFO done) was dropped for good: the
    daemon, which holds the band's epochs and closes no cluster by time until it comes, stayed
    'backfilling' for the whole connection. Now both are tried again _SEND_RETRY_MS later."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "gives_up.py", GIVES_UP_ONCE, str(many_spasms_csv), str(tmp_path / "flash"))
    assert out.split() == ["loginfo0", "0", "1", "2", "loginfo4"], out


# The band's own App and Peripheral on the simulated stack, driven by the IRQs a board's stack
# would raise. Central A asks for a BACKFILL; the first notify of its answer (a boot link) finds
# the stack's buffers full, and while it waits to retry, A drops and central B connects on the
# same handle, not encrypted yet. B then bonds and writes its first command (TIME_SYNC).
ANSWER_TO_NEXT_CENTRAL = """
import sys, asyncio
from sim import run
from band.app import App
from swcore import protocol as P

# The stack's IRQ events (band/ble.py's consts, which a module does not export)
_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_ENCRYPTION_UPDATE = 28

async def main():
    hw = run.build(run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"]))[0]
    app = App(hw)
    hw.clock.free_run()  # no sampler: virtual time follows real time
    p = app.periph
    ble = p._ble
    sent = []  # "link:type" of each notification the stack sent (a RESP with its opcode)
    busy = [True]

    def gatts_notify(conn, handle, data=None):
        if busy[0]:
            busy[0] = False
            raise OSError(12)  # ENOMEM: no buffer now
        rec = P.decode(bytes(data))
        sent.append("%d:%s%s" % (p.link_id, rec["type"], rec["opcode"] if rec["type"] == "resp" else ""))

    ble.gatts_notify = gatts_notify

    def write(data):
        ble.gatts_write(app.h_control, data)
        p._irq(_IRQ_GATTS_WRITE, (0, app.h_control))

    ev = bytearray(P.EVENT_SIZE)
    for i in range(3):
        P.pack_event_into(ev, 0, 0, 1, 1000 * i, 500, 100, 100, 80, 0)
        app.log.append(ev)
    app.links = P.encode_bootlink(2, 1, 1, 0, 1000, 10, 5) * 2
    tasks = [asyncio.create_task(app._control()), asyncio.create_task(app._sender())]
    p._irq(_IRQ_CENTRAL_CONNECT, (0, 0, b"A" * 6))
    p._irq(_IRQ_ENCRYPTION_UPDATE, (0, 1, 0, 1, 16))
    write(P.encode_backfill(0))
    await asyncio.sleep_ms(1)  # the control task takes it; its first boot link waits on the stack
    p._irq(_IRQ_CENTRAL_DISCONNECT, (0, 0, b"A" * 6))
    p._irq(_IRQ_CENTRAL_CONNECT, (0, 0, b"B" * 6))
    await asyncio.sleep_ms(50)
    p._irq(_IRQ_ENCRYPTION_UPDATE, (0, 1, 0, 1, 16))
    write(P.encode_time_sync(1700000000, 0))
    await asyncio.sleep_ms(50)
    for t in tasks:
        t.cancel()
    print(" ".join(sent))

asyncio.run(main())
"""


def test_a_command_is_answered_only_to_the_central_that_sent_it(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: once one of a BACKFILL's notifies had waited on a busy stack, the rest of
    its answer went to whichever central was up then. A central that connected meanwhile got, before
    it was even encrypted, the previous central's boot links, LOGINFO and RESP; and the backfill's
    cursor was set for its link, so at its first command it was sent that backfill's events and
    its end (LOGINFO done) before it had asked for any. Now the answer goes to the asker's link
    alone, and a BACKFILL whose central went moves no cursor: the next central asks for its own."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "next_central.py", ANSWER_TO_NEXT_CENTRAL, str(many_spasms_csv), str(tmp_path / "flash"))
    to_b = [x for x in out.split() if x.startswith("2:")]
    assert to_b == ["2:resp1"], out  # the RESP to its TIME_SYNC (opcode 1), nothing else
