"""An IMU that stops giving samples, or gives the same one over and over, while it still answers on
I2C: the band says so (STATUS ERR_IMU, the host's sensor_error FAULT), starts the part again, and
senses on once it is back. An IMU that stops answering on I2C at all is said the same way and
started again, less often while it stays silent (band/app.py _IMU_RETRY_MAX_MS): no reset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sim_central import APP_HOOKS, Band, read_flash_log, run_mp, secure_connect, write_csv

from spasmwatch.daemon import consts as K
from spasmwatch.daemon.daemon import Overruns, _overruns
from swcore import protocol as P

END_S = 150  # many_spasms_csv: 14 spasms 8 s apart from 15 s


def _boot(micropython: str, csv: Path, flash: Path, fault: list[str]) -> tuple[Band, list[dict[str, Any]]]:
    """One boot of the band over the recording with ``fault`` (ended), and its STATUS notifications."""
    band = Band(micropython, csv, flash, ["--hold", "--idle-exit-ms", "300", *fault])
    try:
        c, _ = secure_connect(band.port)
        c.wait_for(lambda: any(r["uptime_s"] >= END_S for r in c.records(P.STATUS_UUID)), 60, "end of recording")
        statuses = c.records(P.STATUS_UUID)
        c.close()
        band.wait()
    finally:
        band.kill()
    return band, statuses


def _night(micropython: str, csv: Path, flash: Path, fault: list[str]) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The band's STATUS notifications over the recording with ``fault``, and its flash log."""
    band, statuses = _boot(micropython, csv, flash, fault)
    band.end()
    return statuses, read_flash_log(flash / "events")


def _flagged(statuses: list[dict[str, Any]]) -> list[int]:
    return [r["uptime_s"] for r in statuses if r["errors"] & P.ERR_IMU]


def _onsets(log: dict[int, dict[str, Any]], after_ms: int) -> list[int]:
    return sorted(e["onset_ms"] for e in log.values() if e["onset_ms"] >= after_ms)


# The simulator's own board (an MPU6886), and the ICM-42688-P's (review h46: its driver's start
# must set the part up again from whatever state it is in, as the others' do).
ICM_BOARD = Path(__file__).resolve().parents[2] / "hardware" / "boards" / "xiao-esp32c3-icm42688.json"


@pytest.mark.parametrize("board", [[], ["--board", str(ICM_BOARD)]], ids=["sim-mpu6886", "icm42688"])
def test_an_imu_that_lost_its_set_up_is_reported_and_started_again(micropython: str, many_spasms_csv: Path, tmp_path: Path, board: list[str]) -> None:
    """Found by the firmware's fault review: an IMU that reset itself (its own power glitch, ESD)
    answers on I2C with an empty FIFO. The sampler read no sample, batch after batch, fed the
    watchdog and said nothing: STATUS worn, no error, and the spasms at 47-119 s never logged,
    for the rest of the night."""
    _, clean = _night(micropython, many_spasms_csv, tmp_path / "clean", board)
    statuses, log = _night(micropython, many_spasms_csv, tmp_path / "flash", ["--imu-reset-at-s", "40", *board])
    flagged = [r["uptime_s"] for r in statuses if r["errors"] & P.ERR_IMU]
    assert flagged and 40 <= flagged[0] <= 50, [(r["uptime_s"], r["errors"]) for r in statuses]
    assert not statuses[-1]["errors"] & P.ERR_IMU, "cleared once the part gave a whole epoch again"
    assert _onsets(log, 45_000) == _onsets(clean, 45_000), "every spasm after the restart logged"


def test_an_imu_stuck_on_one_sample_is_reported_not_read_as_a_band_taken_off(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by the fault review: a part whose output froze gives the same six values at every
    sample; no live sensor does (~1 mg of noise). The band read it as a still band with no
    breathing: nothing for 2 min, then 'not worn', and the family was sent to check a band that
    was on the baby."""
    statuses, _ = _night(micropython, many_spasms_csv, tmp_path / "flash", ["--imu-stuck-at-s", "40"])
    flagged = [r["uptime_s"] for r in statuses if r["errors"] & P.ERR_IMU]
    # The first whole epoch of it ends at 60 s (the one from 40 s begins with a change), the next
    # STATUS (every 10 s) says so.
    assert flagged and 60 <= flagged[0] <= 70, [(r["uptime_s"], r["errors"]) for r in statuses]
    assert all(r["worn"] != 0 for r in statuses), "a frozen sensor is no band taken off"


def test_a_fifo_overrun_is_said_while_it_happens_not_for_the_rest_of_the_boot(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by the fault review: ERR_FIFO_OVERRUN was set once the driver had counted any overrun
    and never cleared, so one slow flash write (an erase holding the sampler past the FIFO's
    0.73 s at 100 Hz) put the host's sensor_error FAULT up for the rest of the night ('it is
    not detecting: restart the band') on a band that detected on. Now it stays until a whole
    epoch without one, as ERR_IMU does."""
    # Each logged spasm holds the band 1.6 s: the MPU6886's FIFO (1.46 s at 50 Hz) overruns. The
    # spasms come every 8 s up to 119 s; the epochs from 130 s have none.
    statuses, log = _night(micropython, many_spasms_csv, tmp_path / "flash", ["--flash-stall-ms", "1600"])
    over = [r["uptime_s"] for r in statuses if r["errors"] & P.ERR_FIFO_OVERRUN]
    assert over and over[0] <= 30, [(r["uptime_s"], r["errors"]) for r in statuses]
    assert not statuses[-1]["errors"] & P.ERR_FIFO_OVERRUN, [(r["uptime_s"], r["errors"]) for r in statuses]
    assert not any(r["errors"] & P.ERR_IMU for r in statuses), "samples lost to an overrun are no silent IMU"
    assert len(log) >= 14


def test_a_stall_past_the_silent_wait_that_overruns_the_fifo_is_no_silent_imu(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by the fault review of 2026-12-06: the MPU6886's driver answers an overrun FIFO with no
    samples (it resets the FIFO), so a flash write that held the band 2.1 s (past _SILENT_MS: the
    watchdog allows 5 s) read as a silent IMU: ERR_IMU (the host's sensor_error FAULT, pushed at
    once) and the part reset, at every logged spasm of a cluster. An overrun is a part that
    senses: ERR_FIFO_OVERRUN only."""
    statuses, log = _night(micropython, many_spasms_csv, tmp_path / "flash", ["--flash-stall-ms", "2100"])
    assert any(r["errors"] & P.ERR_FIFO_OVERRUN for r in statuses)
    assert not any(r["errors"] & P.ERR_IMU for r in statuses), [(r["uptime_s"], r["errors"]) for r in statuses]
    assert len(log) >= 14


def test_an_imu_that_stops_answering_past_the_stable_minute_of_every_boot_is_said_and_no_reset_loop(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """Found by review: an I2C error from the IMU ended the sampler, a crash: main.py reset the band.
    Past bootstate.STABLE_MS (60 s) into the boot the crash streak had been cleared, so a part that
    failed 70 s into every boot reset the band every 70 s all night, never in safe mode, and the host
    only saw the link drop and ERR_CRASHED (old code: every boot ends in a crash, exit 4). Now the band
    says ERR_IMU (the host's sensor_error) and keeps trying the part; the log and radio go on."""
    flash = tmp_path / "flash"
    for boot in (1, 2):
        band, statuses = _boot(micropython, many_spasms_csv, flash, ["--imu-fault-at-s", "70"])
        end = band.report("end")
        assert end is not None and end["why"] == "done", band.lines
        assert band.up["boot"] == boot and not band.up["safe_mode"]
        flagged = _flagged(statuses)
        assert flagged and 70 <= flagged[0] <= 80, [(r["uptime_s"], r["errors"]) for r in statuses]
        assert statuses[-1]["errors"] & P.ERR_IMU, "still said: the part never came back"
        assert not any(r["errors"] & P.ERR_IMU for r in statuses if r["uptime_s"] < 70)
    assert not (flash / "crash.txt").exists()


def test_an_imu_bus_that_comes_back_is_sensed_again_without_a_reset(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """The part stops answering from 40 s to 60 s: ERR_IMU at once, its starts tried 2, 4, 8 s apart,
    then every _IMU_RETRY_MAX_MS (10 s): back by 64 s, every spasm from 70 s on logged as without the
    fault, the error cleared. Old code: a crash at 40 s."""
    _, clean = _night(micropython, many_spasms_csv, tmp_path / "clean", [])
    statuses, log = _night(micropython, many_spasms_csv, tmp_path / "flash", ["--imu-fault-at-s", "40:60"])
    flagged = _flagged(statuses)
    assert flagged and 40 <= flagged[0] <= 50, [(r["uptime_s"], r["errors"]) for r in statuses]
    assert not statuses[-1]["errors"] & P.ERR_IMU, "cleared once the part gave a whole epoch again"
    assert _onsets(log, 70_000) == _onsets(clean, 70_000), "every spasm after the part came back logged"


def test_an_imu_that_does_not_answer_at_boot_is_started_once_it_does(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Follow-up of 04de0d81: the part does not answer on I2C at boot, until 30 s (a bus that comes
    back). Its start at boot failed and was said (ERR_IMU) but never tried again that boot: the band
    sensed nothing all night, the host told "not detecting: restart the band" (old code: ERR_IMU to
    the end, not one spasm logged). Now the start is tried again with the same back-off as a part
    lost later, at the band's next status pass (every 10 s or sooner)."""
    _, clean = _night(micropython, many_spasms_csv, tmp_path / "clean", [])
    statuses, log = _night(micropython, many_spasms_csv, tmp_path / "flash", ["--imu-fault-at-s", "0:30"])
    flagged = _flagged(statuses)
    assert flagged and flagged[0] <= 10, [(r["uptime_s"], r["errors"]) for r in statuses]
    assert not statuses[-1]["errors"] & P.ERR_IMU, "cleared once the part gave a whole epoch"
    assert _onsets(log, 50_000) == _onsets(clean, 50_000), "every spasm after the part started logged"


# The band's App over many_spasms_csv, its sampler's loop (_sampler: a batch every 200 virtual ms, an
# OSError said by _imu_lost) driven by hand: the IMU's output is frozen from 40 s to 70 s, and if
# argv[3] is 1 its start fails (it stops answering on I2C) from 59 s to 61 s, so the restart for
# the flat epoch ending at 60 s raises; the sampler is held from 58.8 s to 60 s (a slow flash write),
# so that epoch ends in the second batch of one drain. Prints each event's onset and each RAW sample.
FROZEN = """
import sys
import run
from band.app import App
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"])
hardware, source, clock, wdts = run.build(opts)
app = App(hardware)
fails = sys.argv[3] == "1"
at = source.at
frozen = []
def stuck(t_s):
    v = at(t_s)
    if v is None or not 40 <= t_s < 70:
        return v
    if not frozen:
        frozen.append(v)
    return frozen[0]
source.at = stuck
start = hardware.imu.start
def start_fails(rate):
    if fails and 59000 <= clock._v < 61000:
        print("F", clock._v)
        raise OSError(5)
    return start(rate)
hardware.imu.start = start_fails
""" + APP_HOOKS + """
on_event(lambda r: print("S", r["onset_ms"]))
def said_raw(r):
    for j, x in enumerate(r["samples"]):
        print("R", r["first_index"] + j, ",".join(str(v) for v in x))
on_raw(said_raw)
while not source.done:
    clock._v += 200
    if 58800 <= clock._v < 60000:
        continue
    try:
        app._drain()
    except OSError:
        app._imu_lost()
"""


def _frozen(micropython: str, csv: Path, tmp: Path, fails: bool) -> tuple[list[str], dict[int, str], list[str]]:
    """FROZEN's run: its event onsets (ms), RAW samples by index, and its failed starts."""
    flash = tmp / ("flash-fails" if fails else "flash")
    flash.mkdir()
    lines = run_mp(micropython, tmp / "frozen.py", FROZEN, str(csv), str(flash), "1" if fails else "0").splitlines()
    raw = {int(x.split()[1]): x.split()[2] for x in lines if x.startswith("R ")}
    return [x for x in lines if x.startswith("S ")], raw, [x for x in lines if x.startswith("F ")]


def test_a_frozen_imu_whose_restart_fails_keeps_raw_indexes_and_event_times(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Review of _process: the restart of a frozen IMU (a flat epoch) raised OSError from inside the
    batch, which skipped the rest of the batch, its _count(n) and the detector's rebase, and left
    _heard_ms before the batch; the silent span counted at the part's next start then began there.
    When the epoch ended in a drain's second batch (the sampler held by a slow write), the first
    batch was counted twice: every RAW index after it 64 samples (1.28 s) ahead of the sample it
    carries. Now the batch runs to its end and the part is tried again later, as one lost on I2C."""
    events, raw, failed = _frozen(micropython, many_spasms_csv, tmp_path, True)
    want_events, want_raw, _ = _frozen(micropython, many_spasms_csv, tmp_path, False)
    assert failed, "the restart at 60 s should have failed"
    assert events == want_events
    after = [i for i in raw if i >= 72 * 50]  # sensing again, past the frozen output
    assert len(after) > 3000
    wrong = [i for i in after if raw[i] != want_raw.get(i)]
    assert not wrong, (len(wrong), wrong[:3])


def _loss_span(statuses: list[dict[str, Any]]) -> int:
    """The longest run of overruns the daemon's samples_lost rule makes of ``statuses`` (band s)."""
    run: Overruns | None = None
    span = 0
    for r in statuses:
        run = _overruns(run, r)
        if run is not None:
            span = max(span, run.latest_s - run.first_s)
    return span


def _run_ends(statuses: list[dict[str, Any]]) -> list[int]:
    """The band's uptime_s at each STATUS that ends a run of overruns for the daemon's rule."""
    run: Overruns | None = None
    ends = []
    for r in statuses:
        was, run = run, _overruns(run, r)
        if was is not None and run is None:
            ends.append(r["uptime_s"])
    return ends


def _statuses_at_period(micropython: str, csv: Path, flash: Path, period: int, args: list[str]) -> list[dict[str, Any]]:
    """The STATUS notifications of a band set to ``period`` (s) over the whole recording."""
    flash.mkdir()
    (flash / "config.json").write_text(json.dumps({"version": 1, "status_period_s": period}))
    band = Band(micropython, csv, flash, ["--hold", "--idle-exit-ms", "300", *args])
    try:
        c, _ = secure_connect(band.port)
        band.wait_report("played", 60)
        statuses = c.records(P.STATUS_UUID)
        c.close()
        band.end()
    finally:
        band.kill()
    return statuses


def test_a_samples_lost_run_ends_a_minute_after_its_last_overrun_whatever_the_status_period(
    micropython: str, overruns_then_calm_csv: Path, tmp_path: Path
) -> None:
    """Found by review of 9f552a9c: the daemon ends a run of overruns (and clears samples_lost) at the
    first STATUS without the bit SAMPLES_LOST_CLEAN_S (60 s) or more after the run's latest. The
    STATUS at once when the bit clears comes 10-20 s after it, too soon; the next came at the band's
    period, up to an hour later (old code at 600 s: no end within the 117 s of calm recorded after it).
    Now the band sends one _LOSS_CLEAN_MS (61 s) after the last saying the bit."""
    args = ["--flash-stall-ms", "1600"]  # an overrun at each logged spasm, 15-119 s; calm from 120 s
    for period in (10, 600):
        statuses = _statuses_at_period(micropython, overruns_then_calm_csv, tmp_path / f"flash{period}", period, args)
        said = [r["uptime_s"] for r in statuses if r["errors"] & P.ERR_FIFO_OVERRUN]
        seen = (period, [(r["uptime_s"], r["errors"]) for r in statuses])
        assert said and said[-1] < 150, seen
        ends = _run_ends(statuses)
        assert ends and said[-1] + K.SAMPLES_LOST_CLEAN_S <= ends[-1] <= said[-1] + K.SAMPLES_LOST_CLEAN_S + 10, seen


def test_samples_lost_runs_reach_the_host_whatever_the_status_period(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: the host joins STATUSes saying ERR_FIFO_OVERRUN at most SAMPLES_LOST_CLEAN_S
    (60 s) apart into a run (samples_lost once it spans 5 min), and the band notified STATUS only
    every status_period_s, which the protocol allows up to 3600 s: at 600 s the host never saw a run
    past its first STATUS, however long overruns went on (config.py only said the period needed to
    stay under a minute; old code: a run of 0 s against 90-110 s at the default 10 s). Now a STATUS
    goes at once when its errors change, and at least every 10 s while the overrun bit is set."""
    args = ["--flash-stall-ms", "1600"]  # an overrun at each logged spasm, 15-119 s
    spans = []
    for period in (10, 600):
        statuses = _statuses_at_period(micropython, many_spasms_csv, tmp_path / f"flash{period}", period, args)
        gaps = [b["uptime_s"] - a["uptime_s"] for a, b in zip(statuses, statuses[1:]) if a["errors"] & P.ERR_FIFO_OVERRUN]
        assert all(g < K.SAMPLES_LOST_CLEAN_S for g in gaps), (period, [(r["uptime_s"], r["errors"]) for r in statuses])
        spans.append(_loss_span(statuses))
    assert spans[0] >= 90, spans
    assert spans[1] >= spans[0] - 10, spans


# The band's App on a 52 Hz part (the LSM6DS3 board) over a 52 Hz recording, its sampler's loop
# driven by hand with a board's jitter (a batch 200-209 virtual ms after the last, not 200 exactly):
# if argv[4] is 1 the part gives no sample from 40 s to 90 s (reads return nothing; each restart
# starts it anew, on the recording's time line), so the band restarts it every _SILENT_MS and a
# batch, 24 times. Prints each RAW sample by its index.
SILENT_52HZ = """
import sys
import run
from band.app import App
opts = run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0", "--board", sys.argv[3]])
hardware, source, clock, wdts = run.build(opts)
app = App(hardware)
silent = sys.argv[4] == "1"
read = hardware.imu.read
def silent_read(buf, n):
    if silent and 40000 <= clock._v < 90000:
        return 0
    return read(buf, n)
hardware.imu.read = silent_read
""" + APP_HOOKS + """
def said_raw(r):
    for j, x in enumerate(r["samples"]):
        print("R", r["first_index"] + j, ",".join(str(v) for v in x))
on_raw(said_raw)
k = 0
while not source.done:
    clock._v += 200 + k * 7 % 10
    k += 1
    app._drain()
print("rate", app.rate_hz)
"""


def _raw_52hz(micropython: str, csv: Path, tmp: Path, silent: bool) -> dict[int, str]:
    """SILENT_52HZ's RAW samples by index."""
    flash = tmp / ("flash-silent" if silent else "flash")
    flash.mkdir()
    board = Path(__file__).resolve().parents[2] / "hardware" / "boards" / "xiao-esp32s3-lsm6ds3.json"
    lines = run_mp(micropython, tmp / "silent.py", SILENT_52HZ, str(csv), str(flash), str(board), "1" if silent else "0").splitlines()
    assert "rate 52" in lines
    return {int(x.split()[1]): x.split()[2] for x in lines if x.startswith("R ")}


def test_a_silent_imu_restarted_many_times_keeps_raw_index_on_time_at_52_hz(micropython: str, tmp_path: Path) -> None:
    """Found by review: each restart of a silent part counted its silent span at the nominal rate
    rounded down (app.py _restart_silent, gap * rate_hz // 1000), and at 52 Hz a span is a fraction
    of a sample over: here every span is 2,045 ms, 106.3 samples, counted 106. Every restart put
    RAW's index (the samples since sensing began, by which the host dates RAW) a further fraction
    of a sample behind: after the 24 restarts of 50 s silent, the samples carried indexes 9 below
    their own (old code). Now the fraction is carried to the next span: the index is off only by where in
    its period the part's last sample fell before the silence, which the band cannot see (at most
    one sample)."""
    from synthetic import supine

    t, acc, gyro = supine(rate_hz=52, duration_s=100, spasms=(20.0, 95.0), seed=3)
    csv = write_csv(tmp_path / "rec52.csv", t, acc, gyro)
    clean = _raw_52hz(micropython, csv, tmp_path, False)
    raw = _raw_52hz(micropython, csv, tmp_path, True)
    after = [i for i in raw if 91 * 52 <= i < max(clean) - 20]  # sensing again (each shift tried below has its sample)
    assert len(after) > 300
    # The samples' own index (in the run without the silence) against the one the band gave them.
    shifts = {d: sum(raw[i] == clean.get(i + d) for i in after) for d in range(-20, 21)}
    shift = max(shifts, key=lambda d: shifts[d])
    assert shifts[shift] == len(after), (shift, shifts[shift], len(after))
    assert shift in (0, 1), "RAW index %d samples behind the sample it carries" % shift
