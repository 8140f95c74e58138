"""A new ``log_slots`` between boots (a new board.json, ``--log-slots``): no event is lost, seq goes on.

Before, a band rebooted with another capacity read its ring as if it had
always had the new one: the events of a wrapped ring, or past the new end,
were skipped as torn and ``next_seq`` went back, so the host's next events
collided with stored ones. Now the old file is read with its own capacity and
set aside whole (read-only) while a new ring of the new capacity goes on from
``next_seq`` (band/eventlog.py, docs/firmware.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sim_central import EXIT_POWER_LOSS, EXIT_RESET, MICROPYPATH, ROOT, Band, Central, read_flash_log, run_mp, secure_connect

from swcore import protocol as P

SLOT = 24

# The log on its own under micropython: the flash as the band leaves it at every step of a resize.
COMMON = r'''
import os, sys
from band.storage import Storage
from band.eventlog import EventLog
from swcore import protocol as P
from swcore.crc import crc16

root = sys.argv[1]
st = Storage(root)


def rec(seq, boot=1):  # the onset names the seq: a record read back under another seq shows
    return P.encode_event(seq, boot, seq * 1000 + boot, 500, 100, 50, 90, 0)


def fresh(cap, n):
    """A log of ``cap`` slots that logged events 0..n-1."""
    for f in os.listdir(root):
        os.remove(root + "/" + f)
    log = EventLog(st, cap)
    for i in range(n):
        assert log.append(rec(i)) == i
    log.close()


def files():
    return sorted(os.listdir(root))


def check(log, lo, n, what):
    assert (log.oldest_seq, log.next_seq) == (lo, n), (what, log.oldest_seq, log.next_seq, lo, n)
    out = bytearray(20)
    for s in range(lo, n):
        assert log.read(s, out), (what, "seq %d unreadable" % s)
        e = P.decode(out)
        assert e["seq"] == s and e["onset_ms"] in (s * 1000 + 1, s * 1000 + 2), (what, s, e)
    assert not log.read(lo - 1, out) and not log.read(n, out), what


from cutflash import CutStorage


class Cut(Exception):
    pass


class Cutting(CutStorage):
    def lose_power(self, what):  # the power goes here: this "boot" ends with the flash as it is
        raise Cut(what)
'''

# (old capacity, events logged, new capacity, oldest seq kept): bigger with a wrapped ring, smaller
# than what an unwrapped ring holds, smaller with a wrapped one.
CUTS = COMMON + r'''
CASES = ((8, 14, 16, 6), (16, 14, 4, 0), (16, 40, 8, 24))

# Without a cut first (the old firmware fails here: next_seq went back).
for n_cap, n, m_cap, lo in CASES:
    fresh(n_cap, n)
    log = EventLog(st, m_cap)
    check(log, lo, n, "opened")
    assert log.resize() and log.capacity == m_cap
    check(log, lo, n, "resized")
    log.close()

def boot(storage, m_cap):
    """One boot of the band's log: open, fit to the board's capacity; False if the power went."""
    try:
        log = EventLog(storage, m_cap)
        log.resize()
        log.close()
        return True
    except Cut:
        return False


def after(m_cap, lo, n, what):
    log = EventLog(st, m_cap)
    assert log.resize() and log.capacity == m_cap, what
    check(log, lo, n, what)
    assert log.append(rec(n, 2)) == n, what  # seq goes on
    check(log, lo, n + 1, what)
    log.close()
    assert files() == ["events.log", "events.log.old"], (what, files())
    assert os.stat(root + "/events.log")[6] == m_cap * 24, what


cuts = 0
for case, (n_cap, n, m_cap, lo) in enumerate(CASES):
    k = 1
    while True:  # the power goes at the k-th flash operation of the resize, then the next boot runs
        fresh(n_cap, n)
        done = boot(Cutting(root, k), m_cap)
        after(m_cap, lo, n, (case, k))
        if done:
            break
        cuts += 1
        if case == 0:  # and again at each operation of the boot after the first cut
            j = 1
            while True:
                fresh(n_cap, n)
                assert not boot(Cutting(root, k), m_cap)
                again = boot(Cutting(root, j), m_cap)
                after(m_cap, lo, n, (case, k, j))
                if again:
                    break
                cuts += 1
                j += 1
        k += 1
    assert k == m_cap + 3, "a resize is the new ring's slots written one by one and two renames"
print(cuts)
'''

EDGES = COMMON + r'''
# A ring smaller than what is logged: every event stays until the new ring turns over past them.
fresh(16, 6)
log = EventLog(st, 4)
check(log, 0, 6, "read with its own capacity")  # the old firmware read 4 slots: next_seq 4
assert log.capacity == 6 and files() == ["events.log"], "opening writes nothing (spasmwatch board info)"
assert log.resize() and log.capacity == 4 and files() == ["events.log", "events.log.old"]
for s in range(6, 10):
    log.append(rec(s, 2))
check(log, 0, 10, "4 new events: the ring is full, the old file still follows on")
assert not log.wrapped and files() == ["events.log", "events.log.old"]
log.append(rec(10, 2))  # overwrites seq 6: the old events would be a run before a hole
check(log, 7, 11, "turned over")
assert log.wrapped and files() == ["events.log"]
log.close()
log = EventLog(st, 4)
check(log, 7, 11, "turned over, rebooted")
assert log.wrapped and log.capacity == 4
log.close()

# Bigger: the old file (seqs 6..13) stays through the new ring's 16 slots, whatever a host has
# (no BACKFILL reaches the log), and goes when the ring overwrites its first seq, 14. The power
# goes at that removal (after the 16 slot writes and 2 renames of the resize): the next boot
# finds the ring turned over past the old file and removes it.
fresh(8, 14)
log = EventLog(Cutting(root, 16 + 2 + 1), 16)
assert log.resize()
for s in range(14, 30):
    log.append(rec(s, 2))
check(log, 6, 30, "the new ring full, the old file still follows on")
assert files() == ["events.log", "events.log.old"]
try:
    log.append(rec(30, 2))
    raise AssertionError("the ring turned over and did not remove the old file")
except Cut as e:
    assert str(e) == "remove events.log.old", e
log = EventLog(st, 16)
check(log, 15, 31, "turned over, the removal cut short, rebooted")
assert files() == ["events.log"] and log.wrapped
log.close()


class Full(Storage):
    """A flash with no room for the new ring, or refusing the renames, or the second one only."""

    def __init__(self, root, where):
        super().__init__(root)
        self.where = where

    def open(self, name, mode):
        if self.where == "open" and name.endswith(".new"):
            raise OSError(28)
        return super().open(name, mode)

    def rename(self, a, b):
        if self.where == "rename" or (self.where == "finish" and a.endswith(".new")):
            raise OSError(28)
        super().rename(a, b)


for where in ("open", "rename", "finish"):
    fresh(16, 14)
    log = EventLog(Full(root, where), 4)
    assert not log.resize() and log.write_errors == 1, where
    assert log.capacity == 14 and files() == ["events.log"], (where, files())
    check(log, 0, 14, where)
    log.close()
    log = EventLog(st, 4)
    assert log.resize()
    check(log, 0, 14, where + ", room again")
    log.close()


class NoRemove(Storage):
    """A flash refusing removals (a worn block)."""

    def remove(self, name):
        raise OSError(5)


# The old file's removal at the turnover refused: the append stands (its seq stored, the log read
# as turned over), and the next boot removes the file.
fresh(16, 6)
log = EventLog(NoRemove(root), 4)
assert log.resize()
for s in range(6, 11):
    assert log.append(rec(s, 2)) == s
check(log, 7, 11, "turned over, the removal refused")
assert files() == ["events.log", "events.log.old"]
log.close()
log = EventLog(st, 4)
check(log, 7, 11, "turned over, the removal refused, rebooted")
assert files() == ["events.log"]
log.close()

# Twice before an event: an empty new ring takes the newest capacity as it is.
fresh(8, 14)
log = EventLog(st, 16)
assert log.resize()
log.close()
log = EventLog(st, 32)
assert log.resize() and log.capacity == 32
log.append(rec(14, 2))
check(log, 6, 15, "changed twice")
log.close()
log = EventLog(st, 32)
check(log, 6, 15, "changed twice, rebooted")
# A third while the old file is still read: the ring is read as it lies (its file's 16 slots:
# 32 placed seq 14 where 16 does) and keeps that capacity until the old file has gone, when the
# ring turns over past it.
log.close()
log = EventLog(st, 8)
assert not log.resize() and log.capacity == 16 and log.write_errors == 0
check(log, 6, 15, "deferred")
for s in range(15, 30):
    log.append(rec(s, 2))
check(log, 6, 30, "deferred, the ring full")
log.close()
log = EventLog(st, 8)
assert not log.resize() and log.capacity == 16, "still deferred"
log.append(rec(30, 2))
check(log, 15, 31, "turned over")
log.close()
log = EventLog(st, 8)
assert log.resize() and log.capacity == 8
check(log, 15, 31, "applied")
log.close()

# A log the old firmware left after its own capacity change (16 slots, 10 events, then 8 slots:
# seqs 8.. rewritten from slot 0, stale 8 and 9 past the end): read as the 8-slot ring it is.
for f in os.listdir(root):
    os.remove(root + "/" + f)
with open(root + "/events.log", "wb") as f:
    slots = [bytearray(24) for _ in range(10)]
    for seq, slot, boot in [(s, s % 8, 2 if s > 7 else 1) for s in range(6, 14)] + [(8, 8, 1), (9, 9, 1)]:
        b = slots[slot]
        b[0] = 0x53  # magic 0x5753, little-endian
        b[1] = 0x57
        b[2:22] = rec(seq, boot)
        c = crc16(b, 0, 22)
        b[22] = c & 0xFF
        b[23] = c >> 8
    for b in slots:
        f.write(b)
log = EventLog(st, 8)
assert log.capacity == 8 and log.resize() and files() == ["events.log"]
check(log, 6, 14, "old firmware's file")
out = bytearray(20)
assert log.read(8, out) and P.decode(out)["boot"] == 2
print("ok")
'''


def test_a_capacity_change_loses_nothing_when_the_power_goes_at_any_step(micropython: str, tmp_path: Path) -> None:
    (tmp_path / "flash").mkdir()
    cuts = int(run_mp(micropython, tmp_path / "cuts.py", CUTS, str(tmp_path / "flash")).split()[-1])
    assert cuts > 300, "every operation of three resizes, and of a second boot after each cut of one"


def test_a_capacity_change_turning_over_full_flash_and_old_logs(micropython: str, tmp_path: Path) -> None:
    (tmp_path / "flash").mkdir()
    assert run_mp(micropython, tmp_path / "edges.py", EDGES, str(tmp_path / "flash")).split()[-1] == "ok"


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
    log = read_flash_log(flash / "events.log", slots)
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
    assert n > 8 and sorted(old) == list(range(n - 8, n)), "the ring of 8 wrapped"
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "16", "--hold", "--csv-skip-s", "100", "--idle-exit-ms", "300"])
    try:
        assert (band.up["next_seq"], band.up["oldest_seq"], band.up["torn"]) == (n, n - 8, 0), "the old ring read as it was"
        assert band.up["capacity"] == 16
        c, _ = secure_connect(band.port, ready=False)  # the backfill first: then each event comes once
        info = _backfill(c, 0)
        assert (info["oldest_seq"], info["capacity"]) == (n - 8, 16)
        assert info["flags"] & P.LF_GAP and info["flags"] & P.LF_WRAPPED, "seqs 0.. were overwritten by the ring of 8, long ago"
        _until_the_end(c, 49)
        events = c.events()
        last = events[-1]["seq"]
        _backfill(c, last + 1)  # a host that holds everything: its word removes nothing
        assert (flash / "events.log.old").exists(), "the old ring stays until the new one turns over"
        c.close()
        band.end()
    finally:
        band.kill()
    assert [e["seq"] for e in events] == list(range(n - 8, last + 1)) and last >= n, "every old event once, then new ones"
    assert [e for e in events if e["seq"] < n] == [old[s] for s in range(n - 8, n)], "as logged"
    assert all(e["boot"] == 2 for e in events if e["seq"] >= n)
    assert (flash / "events.log").stat().st_size == 16 * SLOT
    assert sorted(read_flash_log(flash / "events.log", 16)) == list(range(n, last + 1))


def test_fewer_slots_keep_every_event_until_the_new_ring_turns_over(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    old = _boot1(micropython, many_spasms_csv, flash, 16, 100)
    n = max(old) + 1
    assert n > 4 and sorted(old) == list(range(n))
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "4", "--hold", "--csv-skip-s", "100", "--idle-exit-ms", "300"])
    try:
        assert (band.up["next_seq"], band.up["oldest_seq"]) == (n, 0), "every event kept"
        assert band.up["capacity"] == 4
        c, _ = secure_connect(band.port, ready=False)  # the backfill first: then each event comes once
        info = _backfill(c, 0)
        assert (info["oldest_seq"], info["capacity"], info["flags"] & (P.LF_GAP | P.LF_WRAPPED)) == (0, 4, 0), "nothing dropped"
        _until_the_end(c, 49)
        events = c.events()
        last = events[-1]["seq"]
        assert n < last + 1 <= n + 4, "new events, fewer than the new ring holds"
        _backfill(c, last + 1)
        c.close()
        band.end()
    finally:
        band.kill()
    assert [e["seq"] for e in events] == list(range(last + 1))
    assert events[:n] == [old[s] for s in range(n)]
    assert (flash / "events.log").stat().st_size == 4 * SLOT
    # A host's BACKFILL past them removed nothing: the next boot still serves them all.
    up, info, again = _last_boot_backfill(micropython, many_spasms_csv, flash)
    assert (up["next_seq"], up["oldest_seq"], up["capacity"]) == (last + 1, 0, 4)
    assert (info["oldest_seq"], info["flags"] & (P.LF_GAP | P.LF_WRAPPED)) == (0, 0)
    assert again == events
    assert (flash / "events.log.old").exists()


PHONE = bytes.fromhex("a4c138000002")  # a second central bonded to the band (a phone app, another laptop)


def test_a_backfill_from_a_high_seq_leaves_the_old_events_to_the_host_that_lacks_them(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """A phone bonded to the band asks BACKFILL from past everything it holds (the live events it
    saw) while the old ring's events are still only on the band; then the daemon connects and asks
    from 0. Before, the phone's from_seq removed the old file: the daemon got LF_GAP and lost them."""
    flash = tmp_path / "flash"
    old = _boot1(micropython, many_spasms_csv, flash, 16, 100)
    n = max(old) + 1
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "4", "--hold", "--csv-skip-s", "100", "--idle-exit-ms", "1000"])
    try:
        assert (band.up["next_seq"], band.up["oldest_seq"], band.up["capacity"]) == (n, 0, 4)
        phone, _ = secure_connect(band.port, addr=PHONE)  # live events only, from seq n
        _until_the_end(phone, 49)
        live = phone.events()
        last = live[-1]["seq"]
        assert [e["seq"] for e in live] == list(range(n, last + 1)) and n < last + 1 <= n + 4, "the new ring has events, not turned over"
        _backfill(phone, last + 1)  # "I hold everything before last + 1"; it holds none of 0..n-1
        phone.close()
        daemon, _ = secure_connect(band.port, ready=False)  # its own bond, its own address
        info = _backfill(daemon, 0)  # LF_DONE follows the last event sent
        daemon.close()
        band.end()
    finally:
        band.kill()
    assert (info["oldest_seq"], info["flags"] & P.LF_GAP) == (0, 0), "the phone's BACKFILL dropped the old ring's events"
    got = daemon.events()
    assert [e["seq"] for e in got] == list(range(last + 1))
    assert got[:n] == [old[s] for s in range(n)] and got[n:] == live, "as logged"
    assert (flash / "events.log.old").exists()


def test_a_new_ring_that_turns_over_drops_the_old_file_and_says_so(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    old = _boot1(micropython, many_spasms_csv, flash, 16, 60)
    n = max(old) + 1
    cut = tmp_path / "cut"
    shutil.copytree(flash, cut)
    # 4 slots and no host for the rest of the recording: more new events than the new ring holds.
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "4", "--csv-skip-s", "60", "--idle-exit-ms", "100"])
    assert band.up["next_seq"] == n
    end = band.end()["next_seq"]
    assert end > n + 4
    assert not (flash / "events.log.old").exists(), "older than what the ring overwrote: no log with a hole"
    up, info, events = _last_boot_backfill(micropython, many_spasms_csv, flash)
    assert (up["next_seq"], up["oldest_seq"]) == (end, end - 4)
    assert info["flags"] & P.LF_GAP and info["flags"] & P.LF_WRAPPED and info["oldest_seq"] == end - 4
    assert [e["seq"] for e in events] == list(range(end - 4, end))
    # The power goes at that removal (operation 7: after the resize's 4 slot writes and 2 renames),
    # just after seq n + 4 overwrote seq n: the next boot removes the old file.
    band = Band(micropython, many_spasms_csv, cut, ["--log-slots", "4", "--csv-skip-s", "60", "--cut-resize-op", "7"])
    assert band.wait() == EXIT_POWER_LOSS
    assert (band.report("power_loss") or {}).get("what") == "remove events.log.old", "".join(band.lines)
    assert (cut / "events.log.old").exists()
    up, info, events = _last_boot_backfill(micropython, many_spasms_csv, cut)
    assert (up["next_seq"], up["oldest_seq"], info["flags"] & P.LF_WRAPPED) == (n + 5, n + 1, P.LF_WRAPPED)
    assert [e["seq"] for e in events] == list(range(n + 1, n + 5))
    assert sorted(p.name for p in cut.glob("events.*")) == ["events.log"]


def test_power_loss_or_a_full_flash_during_the_change_loses_nothing(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    logged = tmp_path / "logged"
    band = Band(micropython, many_spasms_csv, logged, ["--log-slots", "8", "--idle-exit-ms", "100"])
    assert band.end()["next_seq"] == 14
    old = read_flash_log(logged / "events.log", 8)
    assert sorted(old) == list(range(6, 14))

    def boot(flash: Path, *args: str, capacity: int = 16) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "16", "--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200", *args])
        try:
            assert (band.up["next_seq"], band.up["oldest_seq"]) == (14, 6), band.up
            assert band.up["capacity"] == capacity
            c, _ = secure_connect(band.port)
            _backfill(c, 0)
            c.close()
            band.end()
        finally:
            band.kill()
        assert c.events() == [old[s] for s in range(6, 14)]
        return band.up, c.events()

    # No room for the new ring: the band goes on with its ring as it is, and says the flash refused.
    full = tmp_path / "full"
    shutil.copytree(logged, full)
    up, _ = boot(full, "--refuse-write", "events.log.new", capacity=8)
    assert up["errors"] & P.ERR_LOG_WRITE
    assert sorted(p.name for p in full.glob("events.*")) == ["events.log"]

    # The power goes half-way through writing the new ring, before the old ring is set aside,
    # and between the two renames (no events.log at all): the next boot finishes or starts again.
    for op in (5, 17, 18):
        flash = tmp_path / ("cut%d" % op)
        shutil.copytree(logged, flash)
        out = subprocess.run(
            [micropython, str(ROOT / "firmware" / "sim" / "run.py"), "--csv", str(many_spasms_csv), "--flash", str(flash),
             "--socket", "0", "--log-slots", "16", "--cut-resize-op", str(op), "--timeout-s", "30"],
            capture_output=True, text=True, timeout=60, env=dict(os.environ, MICROPYPATH=MICROPYPATH),
        )  # fmt: skip
        assert out.returncode == EXIT_POWER_LOSS and '"op": %d' % op in out.stdout, out.stdout + out.stderr
        if op == 18:
            assert sorted(p.name for p in flash.glob("events.*")) == ["events.log.new", "events.log.old"]
        up, _ = boot(flash)
        assert up["crashed"], "a power loss is an unclean end"
        assert sorted(p.name for p in flash.glob("events.*")) == ["events.log", "events.log.old"]
        assert (flash / "events.log").stat().st_size == 16 * SLOT
