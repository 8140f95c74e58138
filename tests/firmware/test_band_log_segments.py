"""The event log's segments (band/eventlog.py): a new ``log_slots`` between boots, the move of a
one-file ring (firmware before 2026-12-06) into segments, and power cuts at a segment's start.

A log is a folder of segment files named by their first seq, appended to and never rewritten
(a write inside a LittleFS file copies the rest of the file: bench/log_flash_cost.py). A new
capacity needs no rewrite: every event stays readable under its seq, ``next_seq`` goes on, and
the new capacity applies when the next segment starts (the oldest go then, as in a full log).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim_central import EXIT_RESET, Band, Central, read_flash_log, run_mp, secure_connect

from swcore import protocol as P

# The log on its own under micropython.
COMMON = r'''
import os, sys
from band.storage import Storage
from band.eventlog import EventLog, SLOT_SIZE, seg_slots
from swcore import protocol as P
from swcore.crc import crc16

root = sys.argv[1]
st = Storage(root)


class Cut(Exception):
    pass


class Counting(Storage):
    """A flash whose power goes at the ``k``-th operation a subclass counts (``_op``)."""

    def __init__(self, root, k):
        super().__init__(root)
        self.k = k

    def _op(self):
        self.k -= 1
        if self.k == 0:
            raise Cut()


def rec(seq, boot=1):  # the onset names the seq: a record read back under another seq shows
    return P.encode_event(seq, boot, seq * 1000 + boot, 500, 100, 50, 90, 0)


def wipe():
    for d in ("events", "events.new"):
        for f in st.listdir(d):
            st.remove(d + "/" + f)
        st.rmdir(d)
    for f in os.listdir(root):
        os.remove(root + "/" + f)


def fresh(cap, n):
    """A log of ``cap`` slots that logged events 0..n-1."""
    wipe()
    log = EventLog(st, cap)
    for i in range(n):
        assert log.append(rec(i)) == i
    log.close()


def check(log, lo, n, what):
    assert (log.oldest_seq, log.next_seq) == (lo, n), (what, log.oldest_seq, log.next_seq, lo, n)
    out = bytearray(20)
    for s in range(lo, n):
        assert log.read(s, out), (what, "seq %d unreadable" % s)
        e = P.decode(out)
        assert e["seq"] == s and e["onset_ms"] in (s * 1000 + 1, s * 1000 + 2), (what, s, e)
    assert not log.read(lo - 1, out) and not log.read(n, out), what


def kept(log, cap, what, floor=0, seg=0):
    """The log holds every event from ``floor`` (the oldest it had) or the newest ``cap``, and no
    more than ``cap + 2 x seg - 2`` (``seg``: its largest segment, seg_slots(cap) by default), every
    one readable."""
    seg = seg or seg_slots(cap)
    held = log.next_seq - log.oldest_seq
    assert log.oldest_seq <= max(floor, log.next_seq - cap) and held <= cap + 2 * seg - 2, (what, log.oldest_seq, held)
    check(log, log.oldest_seq, log.next_seq, what)
'''

# (old capacity, events logged, new capacity): bigger with a wrapped log, smaller than what an
# unwrapped log holds, smaller with a wrapped one.
CAPACITY = COMMON + r'''
for n_cap, n, m_cap in ((8, 14, 16), (16, 14, 4), (16, 40, 8), (40, 100, 600), (600, 1300, 40)):
    fresh(n_cap, n)
    before = EventLog(st, n_cap)
    lo = before.oldest_seq
    before.close()
    log = EventLog(st, m_cap)
    check(log, lo, n, ("opened with a new capacity", n_cap, m_cap))  # nothing lost, nothing rewritten
    seg = max(seg_slots(n_cap), seg_slots(m_cap))
    for i in range(n, n + 2 * m_cap + 2 * seg):
        assert log.append(rec(i, 2)) == i
        if i % 7 == 0 or m_cap < 20:
            kept(log, m_cap, ("new capacity", n_cap, m_cap, i), lo, seg if i < n + m_cap + seg else 0)
    log.close()
    log = EventLog(st, m_cap)
    kept(log, m_cap, ("rebooted", n_cap, m_cap))
    names = st.listdir("events")
    assert len(names) * seg_slots(m_cap) <= log.next_seq - log.oldest_seq + 2 * seg_slots(m_cap), names
    log.close()
print("ok")
'''


def test_a_new_capacity_keeps_every_event_and_applies_at_the_next_segment(micropython: str, tmp_path: Path) -> None:
    (tmp_path / "flash").mkdir()
    assert run_mp(micropython, tmp_path / "cap.py", CAPACITY, str(tmp_path / "flash")).split()[-1] == "ok"


# A power cut at every flash operation of a log's segment starts (the new file, the oldest ones'
# removal) over four laps of an 8-slot log (segments of 2): the next boot has every event logged.
ROLL = COMMON + r'''
class CutStorage(Counting):
    def open(self, name, mode):
        if "w" in mode:
            self._op()
        return super().open(name, mode)

    def remove(self, name):
        if name.startswith("events/"):
            self._op()
        super().remove(name)


cuts = 0
k = 1
while True:
    wipe()
    log = EventLog(CutStorage(root, k), 8)
    n = 0
    try:
        for n in range(32):
            assert log.append(rec(n)) == n
        n = 32
    except Cut:
        cuts += 1
    log = EventLog(st, 8)
    kept(log, 8, ("cut", k))
    assert log.next_seq == n, (k, log.next_seq, n)  # the cut event's append never returned
    for i in range(n, n + 20):  # goes on, and a segment whose removal was cut goes at a later start
        assert log.append(rec(i, 2)) == i
    kept(log, 8, ("after the cut", k))
    assert len(st.listdir("events")) <= 6, st.listdir("events")
    log.close()
    if n == 32:
        break
    k += 1
print(cuts)
'''


def test_a_power_cut_at_a_segment_start_loses_no_event(micropython: str, tmp_path: Path) -> None:
    (tmp_path / "flash").mkdir()
    cuts = int(run_mp(micropython, tmp_path / "roll.py", ROLL, str(tmp_path / "flash")).split()[-1])
    assert cuts == 16 + 11, "every new segment's file (16) and every removal (11: 5 segments stay) of four laps"


# A one-file ring of firmware before 2026-12-06 (``events.log``, seq in slot seq % its slots, and
# the ``events.log.old`` a capacity change set beside it): ``cap`` slots written full of empty ones
# (as that firmware's capacity change did; ``slots``: a file of so many), the ``damaged`` seqs with
# a bit error.
ONE_FILE = r'''
def one_file(name, cap, seqs, damaged=(), slots=0):
    with open(root + "/" + name, "wb") as f:
        f.write(bytes(SLOT_SIZE * (slots or cap)))
        for s in seqs:
            b = bytearray(SLOT_SIZE)
            b[0], b[1] = 0x53, 0x57
            b[2:22] = rec(s)
            b[4:8] = s.to_bytes(4, "little")
            c = crc16(b, 0, 22)
            b[22], b[23] = c & 0xFF, c >> 8
            if s in damaged:
                b[9] ^= 0xFF
            f.seek((s % cap) * SLOT_SIZE)
            f.write(b)
'''

# Such a ring moved into segments at the first boot of this firmware; the power goes at every
# flash operation of the move.
MOVE = COMMON + ONE_FILE + r'''
def legacy(case):
    wipe()
    if case == 0:  # unwrapped, its newest record damaged: the seq stays used
        one_file("events.log", 16, range(10), damaged=(9,))
        with open(root + "/events.log", "r+b") as f:  # the file ends at the last slot written
            data = f.read(10 * SLOT_SIZE)
        with open(root + "/events.log", "wb") as f:
            f.write(data)
        return 0, 10
    if case == 1:  # wrapped, one damaged inside
        one_file("events.log", 8, range(13, 21), damaged=(15,))
        return 13, 21
    # a capacity change's old file (8 slots, seqs 6-13) and its new ring (4 slots, seqs 14-16)
    one_file("events.log.old", 8, range(6, 14))
    one_file("events.log", 4, range(14, 17))
    return 6, 17


class CutStorage(Counting):
    def open(self, name, mode):
        f = super().open(name, mode)
        if "w" not in mode:
            return f
        st = self

        class W:
            def write(self, b):
                st._op()
                return f.write(b)

            def close(self):
                f.close()

        return W()

    def rename(self, a, b):
        self._op()
        super().rename(a, b)

    def remove(self, name):
        self._op()
        super().remove(name)

    def mkdir(self, name):
        self._op()
        super().mkdir(name)


cuts = 0
for case in range(3):
    k = 1
    while True:
        lo, n = legacy(case)
        try:
            EventLog(CutStorage(root, k), 16).close()
            done = True
        except Cut:
            done = False
            cuts += 1
        log = EventLog(st, 16)
        out = bytearray(20)
        held = [s for s in range(n) if log.read(s, out)]
        damaged = {0: [9], 1: [15], 2: []}[case]
        assert log.next_seq == n and held == [s for s in range(lo, n) if s not in damaged], (case, k, log.next_seq, held)
        assert sorted(os.listdir(root)) == ["events"], (case, k, os.listdir(root))
        assert log.append(rec(n, 2)) == n and log.read(n, out)
        log.close()
        if done:
            break
        k += 1
print(cuts)
'''


def test_a_one_file_ring_moves_into_segments_whole_when_the_power_goes_at_any_step(micropython: str, tmp_path: Path) -> None:
    (tmp_path / "flash").mkdir()
    cuts = int(run_mp(micropython, tmp_path / "move.py", MOVE, str(tmp_path / "flash")).split()[-1])
    assert cuts > 30, "every write, folder, rename and removal of three moves"


# A capacity change's old file (8 slots, seqs 6-13) beside its new ring (4 slots; 64 slots, written
# full of empty ones: the ring not wrapped yet), whose first record (seq 14) is damaged.
OLD_FILE_KEPT = COMMON + ONE_FILE + r'''
for cap in (4, 64):
    wipe()
    one_file("events.log.old", 8, range(6, 14))
    one_file("events.log", cap, range(14, 21 if cap == 64 else 17), damaged=(14,))
    n = 21 if cap == 64 else 17
    log = EventLog(st, 16)
    out = bytearray(20)
    print(log.next_seq, log.oldest_seq, [s for s in range(n) if log.read(s, out)])
    log.close()
'''


def test_a_damaged_first_record_of_a_new_ring_keeps_the_old_file_s_events(micropython: str, tmp_path: Path) -> None:
    """Found by review: the move dropped the capacity change's old file when the new ring's oldest
    record that reads back came after the old file's newest + 1, its rule for a ring that had
    overwritten what followed the old file. A damaged (or unreadable) first record of the new ring
    looked the same: every event of the old file (up to a whole earlier ring, 4096) was lost at the
    move. The old firmware kept it (its rule: the ring's newest seq, less its slots, not past the
    old file's newest); so does the move now."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "kept.py", OLD_FILE_KEPT, str(tmp_path / "flash")).splitlines()
    assert out == [f"{n} 6 {list(range(6, 14)) + list(range(15, n))}" for n in (17, 21)], out


# One-file rings with no record that reads back: an unwrapped one (a file of 10 slots) with a bit
# error in each, one whose block the file system cannot read (its reads raise, as LittleFS's
# LFS_ERR_CORRUPT does), and a capacity change's new ring, 64 slots (seqs 14-20) and 4 (14-16),
# all damaged beside its old file (6-13).
NOTHING_READS = COMMON + ONE_FILE + r'''
class Unreadable:
    def __init__(self, f):
        self._f = f

    def readinto(self, b):
        raise OSError(5)

    def __getattr__(self, name):
        return getattr(self._f, name)


class Damaged(Storage):
    def open(self, name, mode):
        f = super().open(name, mode)
        return Unreadable(f) if name == "events.log" else f


def show(log, n):
    out = bytearray(20)
    print(log.next_seq, log.oldest_seq, [s for s in range(n) if log.read(s, out)], sorted(st.listdir("events")))
    log.close()


wipe()
one_file("events.log", 10, range(10), damaged=range(10))
show(EventLog(st, 16), 10)
wipe()
one_file("events.log", 100, range(100))
show(EventLog(Damaged(root), 128), 100)
for cap, n in ((64, 21), (4, 17)):
    wipe()
    one_file("events.log.old", 8, range(6, 14))
    one_file("events.log", cap, range(14, n), damaged=range(14, n))
    show(EventLog(st, 16), n)
log = EventLog(st, 16)
print(log.append(rec(14, 2)))
'''


def test_a_one_file_ring_with_no_record_that_reads_back_keeps_its_seqs_used(micropython: str, tmp_path: Path) -> None:
    """Found by review: the move took a one-file ring none of whose records reads back (a new band's
    few events in one block the file system cannot read, or bit errors) for an empty one: the log
    started again at seq 0, below seqs a host holds; the daemon reads that as an erased log (a new
    log life, every later event stored again). The old firmware kept them used (an unwrapped ring:
    slot i holds seq i, its last whole slot was appended); so does the move now. The ring of a
    capacity change, beside its old file, keeps them used only past the old file's newest."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "none.py", NOTHING_READS, str(tmp_path / "flash")).splitlines()
    assert out[:2] == ["10 10 [] ['9']", "100 100 [] ['99']"], out
    assert out[2] == f"21 6 {list(range(6, 14))} ['10', '20', '6']", out  # (segments of 4)
    assert out[3:] == [f"14 6 {list(range(6, 14))} ['10', '6']", "14"], out


# A one-file ring of 100 events (segments of 32) moved on a flash that refuses new files from the
# ``k``-th on (a full file system: 0, the folder; 3, the move's third segment), then with room.
NO_ROOM = COMMON + ONE_FILE + r'''
class Full(Storage):
    def __init__(self, root, k):
        super().__init__(root)
        self.k = k

    def _new(self):
        self.k -= 1
        if self.k < 0:
            raise OSError(28)  # ENOSPC

    def mkdir(self, name):
        self._new()
        super().mkdir(name)

    def open(self, name, mode):
        if "w" in mode:
            self._new()
        return super().open(name, mode)


out = bytearray(20)
for k in (0, 3):
    wipe()
    one_file("events.log", 100, range(100))
    log = EventLog(Full(root, k), 128)
    try:
        log.append(rec(100, 2))
        wrote = "logged"
    except OSError:
        wrote = "refused"
    print(log.next_seq, log.oldest_seq, log.torn, wrote, sorted(os.listdir(root)))
    log.close()
    log = EventLog(st, 128)  # room again: the move is done
    print(log.next_seq, log.oldest_seq, [s for s in range(100) if log.read(s, out)] == list(range(100)))
    log.close()
'''


def test_a_move_the_flash_refuses_keeps_next_seq(micropython: str, tmp_path: Path) -> None:
    """Found by review: when the move of a one-file ring failed (a full file system: the folder, a
    segment file refused), the old files stayed whole as meant, but the log read as empty:
    ``next_seq`` 0, below every seq a host holds, which the daemon reads as an erased log (a new
    log life; when the move was done at a later boot, ``next_seq`` jumped back up). Now the log
    says the ring's ``next_seq`` and nothing readable (``oldest_seq`` = ``next_seq``, a BACKFILL's
    gap) until a boot with room moves it."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "full.py", NO_ROOM, str(tmp_path / "flash")).splitlines()
    assert out == ["100 100 1 refused ['events.log']", "100 0 True"] * 2, out


# Rings whose capacity is not their file's slot count, as that firmware left them after a capacity
# change it took for none (the records sat where the new capacity puts them, so it used that one):
# an 8-slot ring holding seqs 16-23, taken as 16 slots, its file grown to 13 by seqs 24-28; and a
# capacity change's 16-slot file, taken as an 8-slot ring (seqs 124-131 in its first 8 slots).
OTHER_CAPACITY = COMMON + ONE_FILE + r'''
for cap, slots, seqs in ((16, 13, range(16, 29)), (8, 16, range(124, 132))):
    wipe()
    one_file("events.log", cap, seqs, slots=slots)
    log = EventLog(st, cap)  # the board's log_slots, as that firmware had it
    out = bytearray(20)
    print(log.next_seq, log.oldest_seq, [s for s in seqs if log.read(s, out)] == list(seqs))
    log.close()
'''


def test_a_one_file_ring_of_the_capacity_asked_for_moves_whole(micropython: str, tmp_path: Path) -> None:
    """Found by review (the old firmware's files, opened by this one): the move read a one-file ring
    as a ring of its file's slot count, but that firmware used the board's ``log_slots`` when the
    records sat where it puts them (after a capacity change, a wrapped ring whose seqs fit the new
    capacity was not rewritten), and then its file grew by its appends or kept slots it no longer
    used. Such a ring's records read as misplaced: every one lost and ``next_seq`` back to 0 (a
    13-slot file of seqs 16-28), or the older half lost (seqs 124-127 of a 16-slot file of an
    8-slot ring). Now the move tries the board's capacity first, as that firmware did, and its
    file's slot count if that explains more."""
    (tmp_path / "flash").mkdir()
    out = run_mp(micropython, tmp_path / "other.py", OTHER_CAPACITY, str(tmp_path / "flash")).splitlines()
    assert out == ["29 16 True", "132 124 True"], out


# --- the band over the simulated radio -------------------------------------------------------------


def _backfill(c: Central, from_seq: int) -> dict[str, Any]:
    before = len(c.loginfos())
    assert c.command(P.encode_backfill(from_seq))["code"] == P.OK
    infos = lambda: c.loginfos()[before:]  # noqa: E731
    c.wait_for(lambda: any(i["flags"] & P.LF_DONE for i in infos()), 20, "backfill done")
    return infos()[0]


def _boot1(micropython: str, csv: Path, flash: Path, slots: int, reset_s: int) -> dict[int, dict[str, Any]]:
    """The band with ``slots`` slots, hard reset at ``reset_s``: its flash log, seq -> event."""
    band = Band(micropython, csv, flash, ["--log-slots", str(slots), "--reset-at-s", str(reset_s)])
    assert band.wait() == EXIT_RESET
    end = band.report("end")
    assert end is not None
    log = read_flash_log(flash / "events")
    assert max(log) == end["next_seq"] - 1
    return log


def _last_boot_backfill(micropython: str, csv: Path, flash: Path) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A boot with 4 slots after the recording's end: its up report, the LOGINFO of a BACKFILL
    from 0 (a host asking for more than the ring holds) and the events it sent."""
    band = Band(micropython, csv, flash, ["--log-slots", "4", "--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200"])
    try:
        c, _ = secure_connect(band.port)
        info = _backfill(c, 0)
        c.close()
        band.end()
    finally:
        band.kill()
    return band.up, info, c.events()


def _until_the_end(c: Central, seconds: int) -> None:
    c.wait_for(lambda: any(r["uptime_s"] >= seconds for r in c.records(P.STATUS_UUID)), 60, "end of recording")
    assert c.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK  # a fresh STATUS
    last = P.decode(c.read(P.STATUS_UUID)[1])
    c.wait_for(lambda: bool(c.events()) and c.events()[-1]["seq"] == last["next_seq"] - 1, 10, "every event")


def test_more_slots_serve_the_wrapped_log_and_seq_goes_on(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    old = _boot1(micropython, many_spasms_csv, flash, 8, 100)
    n = max(old) + 1
    lo = min(old)
    assert lo > 0 and sorted(old) == list(range(lo, n)) and 8 <= n - lo <= 10, "the log of 8 wrapped (segments of 2)"
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "16", "--hold", "--csv-skip-s", "100", "--idle-exit-ms", "300"])
    try:
        assert (band.up["next_seq"], band.up["oldest_seq"], band.up["torn"]) == (n, lo, 0), "the log read as it was"
        assert band.up["capacity"] == 16
        c, _ = secure_connect(band.port, ready=False)  # the backfill first: then each event comes once
        info = _backfill(c, 0)
        assert (info["oldest_seq"], info["capacity"]) == (lo, 16)
        assert info["flags"] & P.LF_GAP and info["flags"] & P.LF_WRAPPED, "seqs 0.. were dropped by the log of 8, long ago"
        _until_the_end(c, 49)
        events = c.events()
        last = events[-1]["seq"]
        c.close()
        band.end()
    finally:
        band.kill()
    assert [e["seq"] for e in events] == list(range(lo, last + 1)) and last >= n, "every old event once, then new ones"
    assert [e for e in events if e["seq"] < n] == [old[s] for s in range(lo, n)], "as logged"
    assert all(e["boot"] == 2 for e in events if e["seq"] >= n)
    held = sorted(read_flash_log(flash / "events"))
    assert held == list(range(held[0], last + 1)) and held[0] <= max(lo, last + 1 - 16), "the newest 16 at least"


def test_fewer_slots_keep_every_event_until_the_next_segment(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    old = _boot1(micropython, many_spasms_csv, flash, 16, 100)
    n = max(old) + 1
    assert n > 4 and sorted(old) == list(range(n))
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "4", "--hold", "--csv-skip-s", "100", "--idle-exit-ms", "300"])
    try:
        assert (band.up["next_seq"], band.up["oldest_seq"]) == (n, 0), "every event kept at the change"
        assert band.up["capacity"] == 4
        c, _ = secure_connect(band.port, ready=False)  # the backfill first: then each event comes once
        info = _backfill(c, 0)
        assert (info["oldest_seq"], info["capacity"], info["flags"] & (P.LF_GAP | P.LF_WRAPPED)) == (0, 4, 0), "nothing dropped"
        _until_the_end(c, 49)
        events = c.events()
        last = events[-1]["seq"]
        assert last + 1 > n, "new events"
        c.close()
        band.end()
    finally:
        band.kill()
    assert [e["seq"] for e in events] == list(range(last + 1))
    assert events[:n] == [old[s] for s in range(n)]
    # The new events' segments (1 slot for 4) dropped the old ones (of 4 slots each) but the newest 4.
    held = sorted(read_flash_log(flash / "events"))
    assert held == list(range(held[0], last + 1)) and last - 3 - 6 <= held[0] <= last - 3, held
    up, info, again = _last_boot_backfill(micropython, many_spasms_csv, flash)
    assert (up["next_seq"], up["oldest_seq"], up["capacity"]) == (last + 1, held[0], 4)
    assert info["flags"] & P.LF_GAP and info["flags"] & P.LF_WRAPPED and info["oldest_seq"] == held[0]
    assert again == events[held[0] :]
