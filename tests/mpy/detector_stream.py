# Runs under the real MicroPython binary: the band's streaming detector and
# epoch features over a file of int samples, printing what the band decides.
# usage: micropython detector_stream.py SAMPLES.txt RATE_HZ HAS_GYRO(0/1)
# SAMPLES.txt: one sample per line, "ax ay az gx gy gz" (mg, 0.1 deg/s).
import sys

from swcore.detector import Detector
from swcore.epoch import EpochFeatures


def main(path, rate_hz, has_gyro):
    det = Detector(rate_hz, has_gyro)
    ep = EpochFeatures(det.fe)
    with open(path) as f:
        for line in f:
            v = line.split()
            if det.step(int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]), int(v[5])):
                print("S", det.ev_onset_n, det.ev_duration_n, det.ev_peak_rate, det.ev_peak_angle, det.ev_confidence, det.n - 1)
            if ep.step():
                print("E", ep.index, ep.activity, ep.breath_acc, ep.breath_gyro, ep.gx_mg, ep.gy_mg, ep.gz_mg)


main(sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1")
