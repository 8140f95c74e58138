"""The band's part of the alarm's latency: it confirms a spasm POST_MS after the release, on its
own sample clock, and queues the EVENT record for sending in that same sample's batch.

The band's own App on the simulated IMU (firmware/sim/run.build, as the simulator runs it) under
the real micropython, fed a recording batch by batch with the IMU's clock moved by hand; no
wall-clock time is read. The host's part (no wait at all) is tests/daemon/test_alarm_path.py;
the two together, in real time, are measured by bench/alarm_latency.py.
"""

from __future__ import annotations

from pathlib import Path

from sim_central import run_mp, write_csv

from swcore import consts as C

# Each confirmed spasm: the detector's sample index then, the event's onset and duration in
# samples, its post_n, the logged record's onset_ms and duration_ms, the band's ms at the
# confirming sample, and whether the record was logged and the sender woken at that sample.
CONFIRM = """
import sys
from sim import run
from band.app import App
from swcore import protocol as P
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"])
hardware, source, clock, wdts = run.build(opts)
app = App(hardware)
on_event = app._on_event
def confirmed():
    d = app.det
    before = app.log.next_seq
    app._wake.clear()
    on_event()
    print("E", d.fe.i, d.ev_onset_n, d.ev_duration_n, d.p.post_n, app._ms_at(d.fe.i), app.log.next_seq - before, int(app._wake.is_set()))
app._on_event = confirmed
append = app.log.append
def log_append(buf):
    r = P.decode(bytes(buf))
    if not r["flags"] & P.EF_MATCHED:
        print("R", r["onset_ms"], r["duration_ms"])
    append(buf)
app.log.append = log_append
while not source.done:
    clock._v += 200
    n = hardware.imu.read(app._samples, 64)
    if n:
        app._batch(n)
print("HZ", app.rate_hz)
"""


def test_the_band_sends_a_spasm_post_ms_after_its_release_on_its_sample_clock(micropython: str, tmp_path: Path) -> None:
    from synthetic import supine

    spasms = (12.0, 19.0, 26.0, 33.0)
    t, acc, gyro = supine(rate_hz=52, duration_s=45, spasms=spasms, seed=5)
    csv = write_csv(tmp_path / "rec.csv", t, acc, gyro)
    (tmp_path / "flash").mkdir()
    lines = run_mp(micropython, tmp_path / "confirm.py", CONFIRM, str(csv), str(tmp_path / "flash")).splitlines()
    [rate] = [int(line.split()[1]) for line in lines if line.startswith("HZ")]
    events = [[int(x) for x in line.split()[1:]] for line in lines if line.startswith("E")]
    records = [[int(x) for x in line.split()[1:]] for line in lines if line.startswith("R")]
    assert rate == 50 and len(events) == len(records) == len(spasms), lines  # the sim's MPU6886: its 50 Hz step
    for (at, onset_n, duration_n, post_n, at_ms, logged, woken), (onset_ms, duration_ms) in zip(events, records):
        assert post_n == C.POST_MS * rate // 1000  # 50 samples: 1 s of the band's clock
        assert at - (onset_n + duration_n) == post_n, "confirmed POST_MS after the release, not later"
        assert (logged, woken) == (1, 1), "logged, and the sender woken, at the confirming sample"
        # The same on the band's ms clock, as the record dates it (duration to the ms: a sample's rounding).
        assert 0 <= at_ms - (onset_ms + duration_ms) - C.POST_MS < 1000 // rate, (at_ms, onset_ms, duration_ms)
