"""The flash event log on its own (under micropython) and a large backfill through the radio's backpressure."""

from __future__ import annotations

import binascii
import struct
from pathlib import Path

from sim_central import Band, read_flash_log, run_mp, secure_connect

from swcore import protocol as P

FUZZ = r'''
import os, random, sys
from band.storage import Storage
from band.eventlog import EventLog, SLOT_SIZE
from swcore import protocol as P

root = sys.argv[1]
st = Storage(root)
random.seed(int(sys.argv[2]))
checked = 0
for trial in range(60):
    for f in st.listdir("events"):
        st.remove("events/" + f)
    cap = random.choice((4, 7, 16))
    log = EventLog(st, cap)
    n = random.randint(0, 3 * cap)
    for i in range(n):
        log.append(P.encode_event(0, 1, i * 1000, 500, 100, 50, 90, 0))
    log.close()
    # Damage one segment: flip random bytes, cut it short, or append junk.
    segs = sorted(int(f) for f in st.listdir("events"))
    if not segs:
        continue
    path = st.path("events/%d" % random.choice(segs))
    with open(path, "rb") as f:
        data = bytearray(f.read())
    kind = random.randint(0, 2)
    if kind == 0 and data:
        for _ in range(random.randint(1, 5)):
            data[random.randint(0, len(data) - 1)] ^= 1 << random.randint(0, 7)
    elif kind == 1 and data:
        data = data[: random.randint(0, len(data))]
    else:
        data += bytes(random.getrandbits(8) for _ in range(random.randint(1, 30)))
    with open(path, "wb") as f:
        f.write(data)
    log = EventLog(st, cap)  # must never raise
    # A whole slot of junk past the end of the newest segment reads as a damaged appended record:
    # its seq stays used (band/logscan.py).
    assert log.next_seq <= (n + 1 if kind == 2 else n) and log.oldest_seq <= log.next_seq
    out = bytearray(20)
    for seq in range(max(0, n - cap), n):
        if log.read(seq, out):
            e = P.decode(out)  # whatever is returned is a whole, valid record
            assert e["seq"] == seq and e["onset_ms"] == seq * 1000
            checked += 1
    # It keeps working: the next append lands and reads back.
    s = log.append(P.encode_event(0, 2, 1, 2, 3, 4, 5, 0))
    assert s == log.next_seq - 1 and log.read(s, out) and P.decode(out)["boot"] == 2
    log.close()
print(checked)
'''


def test_recovery_survives_random_damage(micropython: str, tmp_path: Path) -> None:
    for seed in (1, 2, 3):
        assert int(run_mp(micropython, tmp_path / "fuzz.py", FUZZ, str(tmp_path), str(seed))) > 100


def _slot(seq: int) -> bytes:
    """Event ``seq`` as the band stores it (band/eventlog.py's slot layout), built on the host side."""
    slot = struct.pack("<H", 0x5753) + P.encode_event(seq, 1, seq * 700, 800, 900, 60, 80, 0)
    return slot + struct.pack("<H", binascii.crc_hqx(slot, 0xFFFF))


def write_log(flash: Path, first: int, n: int, seg: int, damaged: tuple[int, ...] = ()) -> None:
    """A log written by an earlier boot: events ``first``..``n-1`` in segments of ``seg`` slots
    (the band's own for its capacity, eventlog.seg_slots), the ``damaged`` seqs with a bit error."""
    (flash / "events").mkdir()
    for base in range(first, n, seg):
        data = bytearray(b"".join(_slot(seq) for seq in range(base, min(base + seg, n))))
        for seq in damaged:
            if base <= seq < base + seg:
                data[24 * (seq - base) + 9] ^= 0xFF
        (flash / "events" / str(base)).write_bytes(bytes(data))


def write_one_file_log(path: Path, n: int, capacity: int) -> None:
    """The one-file ring of firmware before 2026-12-06 (``events.log``, event seq in slot seq % capacity)."""
    data = bytearray(24 * min(n, capacity))
    for seq in range(max(0, n - capacity), n):
        i = seq % capacity
        data[24 * i : 24 * i + 24] = _slot(seq)
    path.write_bytes(bytes(data))


def test_large_backfill_under_backpressure_is_complete_and_ordered(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    write_one_file_log(flash / "events.log", 1500, 4096)  # moved into segments at boot
    band = Band(micropython, many_spasms_csv, flash, ["--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200"])
    try:
        assert band.up["next_seq"] == 1500 and band.up["torn"] == 0
        c, _ = secure_connect(band.port, mtu=23)
        assert c.command(P.encode_backfill(0))["code"] == P.OK
        c.wait_for(lambda: any(r["type"] == "loginfo" and r["flags"] & P.LF_DONE for r in c.records(P.EVENTS_UUID)), 60, "backfill")
        c.close()
        end = band.end()
    finally:
        band.kill()
    assert [e["seq"] for e in c.events()] == list(range(1500))
    assert end["notify_busy"] > 0 and end["notify_failures"] == 0, "the radio pushed back and the band waited"

    assert [e["onset_ms"] for e in c.events()][:3] == [0, 700, 1400]
    assert sorted(read_flash_log(flash / "events")) == list(range(1500))
    assert not (flash / "events.log").exists()


def test_a_backfill_from_an_unreadable_record_tells_the_host_it_is_gone(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: a record damaged in flash (a bit error) inside the log is skipped, never sent.
    The host asks every BACKFILL from the first seq it lacks (Store.next_backfill_seq), i.e. that
    one, and marks seqs lost only on LOGINFO's gap flag: the band said no gap (the seq is not older
    than its oldest), so the host asked for it again at every connection until the ring turned over
    (months at 4096 slots), each time taking every later event again, ahead of the live ones. Now
    the BACKFILL's LOGINFO has the gap flag and ``oldest_seq`` is the first seq from there that
    reads back: the host marks the damaged ones lost and asks from past them."""
    flash = tmp_path / "flash"
    flash.mkdir()
    write_log(flash, 0, 8, 128, damaged=(2, 3, 6))  # a damaged run and a damaged record
    band = Band(micropython, many_spasms_csv, flash, ["--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200"])
    try:
        assert band.up["next_seq"] == 8 and band.up["torn"] == 3
        c, _ = secure_connect(band.port)
        infos = []
        for start in (0, 2, 3, 4, 6):
            n = len(c.loginfos())
            assert c.command(P.encode_backfill(start))["code"] == P.OK
            c.wait_for(lambda: any(i["flags"] & P.LF_DONE for i in c.loginfos()[n:]), 20, "backfill done")
            infos.append(c.loginfos()[n])
        c.close()
        band.end()
    finally:
        band.kill()
    got = [(i["flags"] & P.LF_GAP, i["oldest_seq"], i["next_seq"]) for i in infos]
    assert got == [(0, 0, 8), (P.LF_GAP, 4, 8), (P.LF_GAP, 4, 8), (0, 0, 8), (P.LF_GAP, 7, 8)], got
    # Each backfill sends every readable event from where it starts, in order.
    seqs = [e["seq"] for e in c.events()]
    assert seqs == [0, 1, 4, 5, 7] + [4, 5, 7] + [4, 5, 7] + [4, 5, 7] + [7], seqs


# A log of 8 events (0-7) in a 16-slot ring (segments of 4), and a storage whose log files cannot
# read the seqs in BAD: a read there raises an OSError (LittleFS's LFS_ERR_CORRUPT, EIO), as a
# damaged block of a file does. Each script sets BAD first.
UNREADABLE_LOG = r'''
import asyncio, sys
from band.storage import Storage
from band.eventlog import EventLog, SLOT_SIZE
from swcore import protocol as P


class Unreadable:
    def __init__(self, f, base):
        self._f = f
        self._base = base  # the segment's first seq
        self._pos = 0

    def seek(self, pos):
        self._pos = pos
        return self._f.seek(pos)

    def readinto(self, b):
        if self._base + self._pos // SLOT_SIZE in BAD:
            raise OSError(5)
        n = self._f.readinto(b)
        self._pos += n
        return n

    def __getattr__(self, name):
        return getattr(self._f, name)


class Damaged(Storage):
    def open(self, name, mode):
        f = super().open(name, mode)
        return Unreadable(f, int(name[7:])) if name.startswith("events/") else f


root = sys.argv[1]
log = EventLog(Storage(root), 16)
for i in range(8):
    log.append(P.encode_event(0, 1, i * 1000, 500, 100, 50, 90, 0))
log.close()
'''

EIO = "BAD = (3,)  # the slot whose flash the file system cannot read\n" + UNREADABLE_LOG + r'''
log = EventLog(Damaged(root), 16)  # boot recovery: must not raise (a reset loop, safe mode too)
out = bytearray(20)
print(log.next_seq, log.torn, [s for s in range(8) if log.read(s, out)])
print(log.append(P.encode_event(0, 2, 1, 2, 3, 4, 5, 0)), log.read(8, out))
'''


def test_a_log_block_the_file_system_cannot_read_is_skipped_not_a_reset_loop(micropython: str, tmp_path: Path) -> None:
    """Found by review: a read the file system refuses (LittleFS's LFS_ERR_CORRUPT for a damaged
    block of the file: an OSError, not bad bytes) raised out of the boot scan, so App() failed at
    every boot, safe mode too (it opens the log as well): a reset loop that never sensed nor served
    the log again; and out of the sender's read, a crash at every backfill over it. Now such a slot
    is counted torn at boot and unreadable after, as a slot of bad bytes is."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "eio.py", EIO, str(tmp_path / "flash")).split("\n")
    assert out[0] == "8 1 [0, 1, 2, 4, 5, 6, 7]", out
    assert out[1] == "8 True", out


# A power cut at every byte of every append: rings of 3-5 slots, 0 to 3 x capacity + 1 events
# committed before the cut (so through two wraps), 0-23 bytes of the cut record on flash.
TEAR_EVERY_BYTE = r'''
import os, sys
from band.storage import Storage
from band.eventlog import EventLog
from swcore import protocol as P

root = sys.argv[1]

class Cut(Exception):
    pass


class CutFile:
    """The log's file: at the storage's ``cut_w``-th write only ``cut_b`` bytes reach the flash."""

    def __init__(self, f, st):
        self._f = f
        self._st = st

    def write(self, b):
        st = self._st
        st.w += 1
        if st.w == st.cut_w:
            self._f.write(bytes(b)[: st.cut_b])
            self._f.close()
            raise Cut()
        return self._f.write(b)

    def __getattr__(self, name):
        return getattr(self._f, name)


class CutStorage(Storage):
    def __init__(self, root, w, b):
        super().__init__(root)
        self.w = 0
        self.cut_w = w
        self.cut_b = b

    def open(self, name, mode):
        f = super().open(name, mode)
        return CutFile(f, self) if "+" in mode or "w" in mode else f


def rec(seq, boot):
    return P.encode_event(seq, boot, seq * 1000 + boot, 500, 100, 50, 90, 0)

st = Storage(root)
cases = 0
for cap in (3, 4, 5):
    for n in range(0, 3 * cap + 2):   # events committed before the cut
        for b in range(0, 24):         # bytes of the torn write that reach the flash
            for f in st.listdir("events"):
                st.remove("events/" + f)
            cs = CutStorage(root, n + 1, b)
            log = EventLog(cs, cap)
            try:
                for i in range(n + 1):
                    log.append(rec(i, 1))
                raise SystemExit("no cut")
            except Cut:
                pass
            log2 = EventLog(st, cap)
            out = bytearray(20)
            # every committed event that the ring still holds is found, with its seq
            assert log2.next_seq == n, (cap, n, b, log2.next_seq)
            for s in range(max(0, n - cap + 1), n):
                assert log2.read(s, out), (cap, n, b, s)
                e = P.decode(out)
                assert e["seq"] == s and e["onset_ms"] == s * 1000 + 1
            assert log2.oldest_seq <= max(0, n - cap + 1), (cap, n, b, log2.oldest_seq)
            for s in range(log2.oldest_seq, n):
                assert log2.read(s, out), ("oldest unreadable", cap, n, b, s, log2.oldest_seq)
            # goes on: the torn seq is reused (never delivered), then more
            for i in range(n, n + cap + 1):
                assert log2.append(rec(i, 2)) == i
            log2.close()
            log3 = EventLog(st, cap)
            assert log3.next_seq == n + cap + 1 and log3.oldest_seq <= n + 1, (cap, n, b, log3.oldest_seq)
            for s in range(log3.oldest_seq, n + cap + 1):
                assert log3.read(s, out) and P.decode(out)["seq"] == s
                assert P.decode(out)["boot"] == (2 if s >= n else 1)
            log3.close()
            cases += 1
        print("cut at every byte after", n, "events, capacity", cap)  # progress: what the test waits on
print("ok", cases)
'''


def test_a_power_cut_at_any_byte_of_any_append_loses_no_committed_event(micropython: str, tmp_path: Path) -> None:
    """Review (no defect found): after a cut at any byte of an append, unwrapped or wrapped, the next
    boot finds every committed event the ring still holds, with its seq and in order; next_seq is
    the cut one (never sent: the append had not returned); the slot's old record stands when the
    cut left it whole (its first 4 bytes are the new one's too); appends go on over it."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "tear.py", TEAR_EVERY_BYTE, str(tmp_path / "flash"), stall_s=60)
    assert out.splitlines()[-1] == "ok 1008", out


def _fill_after_backfill(micropython: str, csv: Path, flash: Path, start: int) -> tuple[dict, int]:
    """One boot: BACKFILL from ``start`` to its end, then STATUS's log fill (refreshed at a command)."""
    band = Band(micropython, csv, flash, ["--log-slots", "8", "--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200"])
    try:
        c, _ = secure_connect(band.port)
        assert c.command(P.encode_backfill(start))["code"] == P.OK
        c.wait_for(lambda: any(i["flags"] & P.LF_DONE for i in c.loginfos()), 20, "backfill done")
        assert c.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
        fill = P.decode(c.read(P.STATUS_UUID)[1])["log_fill_pct"]
        info = c.loginfos()[0]
        c.close()
        band.end()
    finally:
        band.kill()
    return info, fill


def test_a_backfill_past_damaged_records_counts_them_delivered(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: since a BACKFILL starts its cursor at the first seq that reads back
    (EventLog.first_readable), the sender never met the damaged seq the host asked from, and the run
    of delivered events (STATUS ``log_fill_pct``: the slots holding events no host has had) stayed
    there for the connection: a damaged record asked for (the host asks from the first seq it lacks)
    grew the fill by one per event logged after (62 % here at once with 8 slots; at 4096, the host's
    'log nearly full' fault after ~3,700 more events on one connection). The damaged seqs are gone,
    the host told so: none counts as undelivered. (A damaged oldest one behind a gap was never
    counted: the boot scan starts the log past it.)"""
    flash = tmp_path / "flash"
    flash.mkdir()
    # A wrapped log of 8 slots (segments of 2): seqs 4-13, its oldest and one inside damaged.
    write_log(flash, 4, 14, 2, damaged=(4, 9))
    # A host behind the log: the gap ends past the damaged oldest.
    info, fill = _fill_after_backfill(micropython, many_spasms_csv, flash, 0)
    assert (info["flags"] & P.LF_GAP, info["oldest_seq"]) == (P.LF_GAP, 5), info
    assert fill == 0, fill
    # Rebooted (nothing delivered yet), a host that asks from the damaged seq it lacks.
    info, fill = _fill_after_backfill(micropython, many_spasms_csv, flash, 9)
    assert (info["flags"] & P.LF_GAP, info["oldest_seq"]) == (P.LF_GAP, 10), info
    assert fill == 0, fill


# The band's App on the simulator's hardware over a log an earlier boot wrote, answering a BACKFILL
# from seq argv[3] with another task scheduled beside it (as the sampler is): it counts its turns and
# the most log slots the flash gave between two of them (every read of a log file goes through
# the simulated storage's files, wrapped here). Prints the BACKFILL's answer and the log's range,
# then: turns during the BACKFILL, the most slots read between two turns, slots read in all.
BACKFILL_TURNS = r'''
import sys
import asyncio
from sim import run
import band.app as A
from swcore import wire as P

hw = run.build(run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"]))[0]
reads = [0]


class Counted:
    def __init__(self, f):
        self._f = f

    def readinto(self, b):
        reads[0] += 1
        return self._f.readinto(b)

    def __getattr__(self, name):
        return getattr(self._f, name)


opened = hw.storage.open
hw.storage.open = lambda name, mode: Counted(opened(name, mode))
app = A.App(hw)
state = {"done": False, "turns": 0, "most": 0}


async def other():
    last = reads[0]
    while not state["done"]:
        await asyncio.sleep_ms(0)
        state["turns"] += 1
        state["most"] = max(state["most"], reads[0] - last)
        last = reads[0]


async def main():
    asyncio.create_task(other())
    await asyncio.sleep_ms(0)  # the other task waits for its next turn
    reads[0] = 0
    state["turns"] = 0
    code, arg = await app._apply(P.OP_BACKFILL, (int(sys.argv[3]),))
    turns = state["turns"]
    state["done"] = True
    print(code, arg, app._cursor, app.log.oldest_seq, app.log.next_seq, app.log._seg)
    print(turns, state["most"], reads[0])


asyncio.run(main())
'''


def test_a_backfill_over_a_damaged_log_lets_the_sampler_run(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: the BACKFILL's handler found the first seq that reads back from where the
    host asks (EventLog.first_readable) in one synchronous loop, a flash read per damaged slot: over
    a log none of whose records after the oldest reads back (a full one: up to capacity + 2
    segments - 2 = 4350 slots), asked from the seq after the oldest (the first the host lacks), it
    held the event loop for the whole scan, and the sampler with it (the MPU6886's FIFO holds
    0.73 s; a board reads a slot 30-50x slower than this port). Now the scan gives the other tasks
    a turn every segment's slots read, and answers the same seq. (A log none of whose records
    reads back starts past them at boot: its oldest_seq is its next_seq, nothing to scan.)"""
    for keep in (None, 3000):  # every record after the oldest damaged; all but seq 3000
        flash = tmp_path / f"flash-{keep}"
        flash.mkdir()
        n = 4096 + 2 * 128 - 2  # the sim board's 4096-slot log, full: segments of 128
        write_log(flash, 0, n, 128, damaged=tuple(s for s in range(1, n) if s != keep))
        out = run_mp(micropython, tmp_path / "turns.py", BACKFILL_TURNS, str(many_spasms_csv), str(flash), "1").split("\n")
        code, arg, cursor, oldest, next_seq, seg = (int(x) for x in out[0].split())
        turns, most, reads = (int(x) for x in out[1].split())
        assert (code, arg, oldest, next_seq) == (P.OK, n, 0, n), out
        assert cursor == (n if keep is None else keep), "the first seq that reads back, or next_seq"
        assert reads >= (n - 128 if keep is None else keep - 1), "the damaged slots were read, one by one"
        assert turns >= reads // seg - 1 and most <= seg, (turns, most, reads)


NEWEST = "BAD = (5, 6, 7)  # the newest slots (a block of the newest segment)\n" + UNREADABLE_LOG + r'''
# A bit error in the newest record (slot 3 of segment 4).
with open(root + "/events/4", "r+b") as f:
    f.seek(3 * SLOT_SIZE + 9)
    b = f.read(1)
    f.seek(3 * SLOT_SIZE + 9)
    f.write(bytes((b[0] ^ 0xFF,)))
log = EventLog(Storage(root), 16)
print(log.next_seq, log.oldest_seq, asyncio.run(log.first_readable(7)))
log.close()
log = EventLog(Damaged(root), 16)  # the file's last block unreadable
print(log.next_seq, log.oldest_seq, asyncio.run(log.first_readable(5)))
print(log.append(P.encode_event(0, 2, 1, 2, 3, 4, 5, 0)))
'''


def test_a_damaged_newest_record_keeps_its_seq_used(micropython: str, tmp_path: Path) -> None:
    """Found by review: the boot scan took the highest seq that reads back as the newest, so a
    damaged newest record (a bit error; a block of the file the file system refuses, its last ~170
    slots) gave a ``next_seq`` back by one (or by the block), below seqs a host already holds: the
    daemon read it as an erased log, started a new log life and stored every event in the ring
    again under new seqs (tests/daemon/test_damaged_record.py), and the band reused the seqs. In a
    ring not yet wrapped (months at 4096 slots) slot i holds seq i and a whole slot in the file was
    appended: ``next_seq`` is past it, and the damaged seqs are a BACKFILL's gap."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "newest.py", NEWEST, str(tmp_path / "flash")).split("\n")
    assert out[0] == "8 0 8", out
    assert out[1:3] == ["8 0 8", "8"], out


# As BACKFILL_TURNS, with a central connected (link 1) when the host's BACKFILL from argv[3] comes;
# at the first turn the scan gives the other tasks, it goes and another connects (link 2), as the
# radio's interrupt tells the band. Prints the link, then the BACKFILL's answer and what the new
# link's sender starts from (band/app.py _follow_link): its cursor, the log's next_seq, whether a
# backfill's end is due, and the control RESPs the band sent to the new link.
BACKFILL_RELINK = r'''
import sys
import asyncio
from sim import run
import band.app as A
from swcore import protocol as P

hw = run.build(run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"]))[0]
app = A.App(hw)
p = app.periph
p._irq(1, (1, 0, bytes(6)))  # _IRQ_CENTRAL_CONNECT: link 1
p.encrypted = p.bonded = True
resps = []
writes = [(app.h_control, P.encode_backfill(int(sys.argv[3])))]


async def next_write():
    if writes:
        return writes.pop(0)
    await asyncio.sleep_ms(60000)


async def notify(h, data):
    if h == app.h_control:
        resps.append((p.link_id, P.decode(bytes(data))["code"]))
    return True


p.next_write = next_write
p.notify = notify


async def other():
    await asyncio.sleep_ms(0)  # the scan's first turn
    p._irq(2, (1, 0, bytes(6)))  # _IRQ_CENTRAL_DISCONNECT
    p._irq(1, (2, 0, bytes(6)))  # the next central: link 2
    p.encrypted = p.bonded = True


async def main():
    control = asyncio.create_task(app._control())
    await asyncio.sleep_ms(0)
    asyncio.create_task(other())
    await asyncio.sleep_ms(200)
    control.cancel()
    app._follow_link()  # as the sender does first
    print(p.link_id, app._cursor, app.log.next_seq, int(app._done_pending), [c for l, c in resps if l == 2])


asyncio.run(main())
'''


def test_a_host_gone_during_the_backfill_scan_leaves_the_next_link_alone(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: since the BACKFILL's scan gives the other tasks turns (bf89f8e; 1-2 s on a
    board over a damaged log), its host may go and another connect meanwhile; the handler then set
    the new link's cursor to where the gone host asked from (events the new one had not asked
    for), sent it the gap LOGINFO (a host that has not asked yet takes its seqs from 0 as lost)
    and a backfill's end, and the control task sent it the RESP (taken by a host waiting for the
    RESP of its own BACKFILL). A new link starts with live events only, and gets nothing of the
    gone host's command."""
    flash = tmp_path / "flash"
    flash.mkdir()
    n = 4096 + 2 * 128 - 2
    write_log(flash, 0, n, 128, damaged=tuple(range(1, n - 1)))  # the newest, n - 1, reads back
    out = run_mp(micropython, tmp_path / "relink.py", BACKFILL_RELINK, str(many_spasms_csv), str(flash), "1").strip()
    link, cursor, next_seq, done_pending, resps = out.split(" ", 4)
    assert (int(link), int(next_seq)) == (2, n), out
    assert (int(cursor), int(done_pending)) == (n, 0), "the new link starts at next_seq, no backfill end due: " + out
    assert resps == "[]", "no RESP to the new link: " + out
