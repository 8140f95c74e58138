# Runs under the real MicroPython binary: the band's streaming detector, epoch
# features and (with a gyro) cluster counter over a file of int samples,
# printing what the band decides, called as band/app.py calls them.
# usage: micropython detector_stream.py SAMPLES.txt RATE_HZ HAS_GYRO(0/1) [REBASE_AT [MATCH_REBASE_AT [LOCK(0/1)]]]
# SAMPLES.txt: one sample per line, "ax ay az gx gy gz" (mg, 0.1 deg/s).
# REBASE_AT > 0: shift sample indexes down past it, after every 64 samples as
# the band does after each IMU batch; indexes are printed with the shifts added back.
# MATCH_REBASE_AT > 0: the same for the cluster counter's decimated indexes.
# LOCK 1: each sample's steps run with the heap locked, as the band's per-sample path must
# run without allocating (an allocation raises MemoryError); the rare paths stay unlocked.
import sys

import micropython

from swcore.consts import STRONG_CONFIDENCE
from swcore.detector import Detector
from swcore.epoch import EpochFeatures
from swcore.matcher import Matcher


def matches(mt, n, now):
    for m in range(n):
        print("M", now - mt.out_age[m], mt.out_dur[m], mt.out_rate[m], mt.out_conf[m], now)


def main(path, rate_hz, has_gyro, rebase_at, match_rebase_at, lock):
    det = Detector(rate_hz, has_gyro, rebase_at) if rebase_at else Detector(rate_hz, has_gyro)
    ep = EpochFeatures(det.fe)
    mt = None
    if has_gyro:
        mt = Matcher(rate_hz, match_rebase_at) if match_rebase_at else Matcher(rate_hz)
    fe = det.fe
    off = 0
    k = 0
    with open(path) as f:
        for line in f:
            v = line.split()
            ax, ay, az, gx, gy, gz = int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]), int(v[5])
            if lock:
                micropython.heap_lock()
            try:
                hit = det.step(ax, ay, az, gx, gy, gz)
            finally:  # unlocked before a MemoryError goes on: its traceback needs the heap
                if lock:
                    micropython.heap_unlock()
            if hit:
                n = alike = 0
                if mt is not None and det.ev_confidence >= STRONG_CONFIDENCE:
                    n = mt.spasm(fe.i - det.ev_onset_n, det.ev_duration_n)
                    alike = 1 if mt.alike else 0
                print("S", det.ev_onset_n + off, det.ev_duration_n, det.ev_peak_rate, det.ev_peak_angle, det.ev_confidence, det.n - 1 + off, alike)
                matches(mt, n, k)
            if mt is not None:
                if lock:
                    micropython.heap_lock()
                try:
                    edge = mt.step(fe.dx, fe.dy, fe.dz)
                finally:
                    if lock:
                        micropython.heap_unlock()
                if edge:
                    matches(mt, mt.examine(), k)
            # An epoch's last sample (every EPOCH_MS) is a rare path: on a 32-bit board a busy
            # epoch's variance sums pass 2^30 there and are heap ints (docs/firmware.md).
            lock_epoch = lock and ep._n + 1 < ep.p.epoch
            if lock_epoch:
                micropython.heap_lock()
            try:
                epoch = ep.step()
            finally:
                if lock_epoch:
                    micropython.heap_unlock()
            if epoch:
                print("E", ep.index, ep.activity, ep.breath_acc, ep.breath_gyro)
            k += 1
            if rebase_at and k % 64 == 0:
                off += det.rebase()
                if mt is not None:
                    mt.rebase()


main(sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]) if len(sys.argv) > 4 else 0,
     int(sys.argv[5]) if len(sys.argv) > 5 else 0, len(sys.argv) > 6 and sys.argv[6] == "1")
