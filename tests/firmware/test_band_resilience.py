"""Power loss, a full log, bad control writes, repeated crashes, low battery: the band keeps its log."""

from __future__ import annotations

import contextlib
import json
import os
import struct
import subprocess
import time
from pathlib import Path

from sim_central import ATT_INSUFFICIENT_AUTHENTICATION, EXIT_POWER_LOSS, EXIT_RESET, EXIT_WDT, MICROPYPATH, ROOT, Band, Central, band_module, read_flash_log, run_mp, secure_connect

from swcore import protocol as P

batt = band_module("battery")

# A cell under the critical bar stops sensing this long (ms) at most after it got there: the band
# takes its charge as the best of its last CONFIRM_READINGS readings, read READ_MS apart at most.
CRIT_BOUND_MS = batt.CONFIRM_READINGS * batt.READ_MS


def _backfill_all(c: Central, from_seq: int = 0) -> tuple[dict, list[dict]]:
    resp = c.command(P.encode_backfill(from_seq))
    assert resp["code"] == P.OK
    infos = c.loginfos
    c.wait_for(lambda: any(i["flags"] & P.LF_DONE for i in infos()), 20, "backfill done")
    return infos()[0], c.events()


def test_torn_flash_write_is_detected_skipped_and_overwritten(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    band = Band(micropython, many_spasms_csv, flash, ["--tear-at-seq", "3"])
    assert band.wait() == EXIT_POWER_LOSS
    log = flash / "events" / "0"  # the first segment (band/eventlog.py)
    assert log.stat().st_size == 3 * 24 + 11, "half a record on flash"
    # Garbage in a middle slot too (a flash bit error): boot must not care.
    data = bytearray(log.read_bytes())
    data[24 + 9] ^= 0xFF
    log.write_bytes(bytes(data))

    band2 = Band(micropython, many_spasms_csv, flash, ["--csv-skip-s", "40", "--idle-exit-ms", "200"])
    assert band2.up["torn"] == 2 and band2.up["errors"] & P.ERR_LOG_TORN
    assert band2.up["next_seq"] == 3, "the torn record never counted"
    assert band2.up["crashed"], "power loss is an unclean end"
    end = band2.end()
    assert band2.proc.returncode == 0
    stored = read_flash_log(flash / "events")
    assert 1 not in stored, "the corrupted record is skipped"
    assert sorted(stored) == [0, 2] + list(range(3, end["next_seq"])), "seq 3 rewritten over the torn slot"

    # A central asking for everything gets every readable record, in order.
    band3 = Band(micropython, many_spasms_csv, flash, ["--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200"])
    try:
        c, _ = secure_connect(band3.port)
        info, events = _backfill_all(c)
        assert info["oldest_seq"] == 0 and info["next_seq"] == end["next_seq"]
        assert [e["seq"] for e in events] == sorted(stored)
        c.close()
        band3.end()
    finally:
        band3.kill()


def test_full_log_wraps_and_tells_the_host(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    band = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--log-slots", "8", "--hold", "--idle-exit-ms", "500"])
    try:
        c, _ = secure_connect(band.port)
        c.wait_for(lambda: any(r["uptime_s"] >= 150 for r in c.records(P.STATUS_UUID)), 60, "end of recording")
        assert c.command(P.encode_time_sync(1_764_000_000, 0))["code"] == P.OK
        st = P.decode(c.read(P.STATUS_UUID)[1])
        assert st["next_seq"] == 14
        assert st["flags"] & P.SF_LOG_WRAPPED and st["log_fill_pct"] == 0  # each event went out live
        info, _ = _backfill_all(c, 0)
        c.wait_for(lambda: len(c.events()) >= 14 + 10, 10, "backfill")
        assert c.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK  # STATUS is refreshed at a command
        after = P.decode(c.read(P.STATUS_UUID)[1])
        c.close()
        band.end()
    finally:
        band.kill()
    # A wrapped ring is always full; what the log fill counts is what no host has had yet
    # (it stayed at 100 for good, and the host's 'log nearly full' fault with it).
    assert after["flags"] & P.SF_LOG_WRAPPED and after["log_fill_pct"] == 0, after
    # Rebooted, the band does not know what a host has had: its whole log counts until a
    # host's BACKFILL says where that host's run of events ends.
    band2 = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--log-slots", "8", "--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200"])
    try:
        c2, _ = secure_connect(band2.port)
        before = P.decode(c2.read(P.STATUS_UUID)[1])
        _backfill_all(c2, 12)
        assert c2.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
        mid = P.decode(c2.read(P.STATUS_UUID)[1])
        c2.close()
        band2.end()
    finally:
        band2.kill()
    assert (before["next_seq"], before["log_fill_pct"]) == (14, 100), before
    assert mid["log_fill_pct"] == 0, mid  # 12 and 13 went out in the backfill
    assert info["flags"] & P.LF_WRAPPED and info["flags"] & P.LF_GAP, "asked for seq 0 which was overwritten"
    # 8 slots: segments of 2, the oldest dropped while the rest hold 8 with the new event: 4-13 kept.
    assert (info["oldest_seq"], info["next_seq"], info["capacity"]) == (4, 14, 8)
    backfilled = c.events()[14:]
    assert [e["seq"] for e in backfilled] == list(range(4, 14))
    assert sorted(read_flash_log(tmp_path / "flash" / "events")) == list(range(4, 14))


# A harmless command (it only reads the band's sample step) for the write flood.
INFO = P.encode_info(P.INFO_RATE_MHZ)
# ... and a command refused with its own code (no such config key) to mark the flood's end.
MARK = P.encode_config(99, 1)

BAD_WRITES = [
    (bytes([7, P.OP_BACKFILL, 0, 0, 0, 0]), P.E_VERSION),
    (bytes([P.VERSION, 0x7E, 0]), P.E_OPCODE),
    (bytes([P.VERSION]), P.E_LENGTH),
    (P.encode_backfill(0)[:-1], P.E_LENGTH),
    (P.encode_backfill(0) + b"\x00", P.E_LENGTH),
    (P.encode_config(P.CFG_MIN_CONFIDENCE, 101), P.E_VALUE),
    (P.encode_config(P.CFG_RATE_HZ, 60), P.E_VALUE),
    (P.encode_config(P.CFG_STATUS_PERIOD_S, 0), P.E_VALUE),
    (P.encode_config(99, 1), P.E_KEY),
    (P.encode_time_sync(1_764_000_000, 1000), P.E_VALUE),
    (bytes([P.VERSION, P.OP_RAW, 2]), P.E_VALUE),
    (bytes([P.VERSION, P.OP_REBOOT]) + b"NOPE", P.E_VALUE),
    (bytes([P.VERSION, P.OP_INFO, 9]), P.E_KEY),
    (P.encode_backfill(1_000_000), P.E_VALUE),
    (bytes(32), P.E_VERSION),
]


def test_bad_control_writes_are_refused_and_change_nothing(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    band = Band(micropython, many_spasms_csv, flash, ["--hold", "--speed", "5", "--idle-exit-ms", "200"])
    try:
        c = Central(band.port)
        # Not encrypted: the stack itself refuses the write.
        assert c.write(P.CONTROL_UUID, P.encode_config(P.CFG_MIN_CONFIDENCE, 50)) == ATT_INSUFFICIENT_AUTHENTICATION  # no bond with this central
        # Encrypted but not bonded: the band refuses with E_AUTH.
        c.pair(bond=False)
        assert c.command(P.encode_config(P.CFG_MIN_CONFIDENCE, 50))["code"] == P.E_AUTH
        c.close()
        c, _ = secure_connect(band.port)
        before = P.decode(c.read(P.STATUS_UUID)[1])
        for data, code in BAD_WRITES:
            r = c.command(data)
            assert r["code"] == code, "write %s: got %s" % (data.hex(), r)
        after = P.decode(c.read(P.STATUS_UUID)[1])
        assert not (flash / "config.json").exists(), "no refused write reached flash"
        assert after["flags"] & ~P.SF_ENCRYPTED == before["flags"] & ~P.SF_ENCRYPTED
        assert after["errors"] == before["errors"] and after["boot"] == before["boot"]
        assert not c.loginfos(), "no refused backfill started"
        # INFO: the IMU's own step (the sim board's MPU6886 at the default 52 Hz samples at 50).
        r = c.command(P.encode_info(P.INFO_RATE_MHZ))
        assert (r["code"], r["arg"]) == (P.OK, 50000)
        # A good write is applied and stored with its version.
        r = c.command(P.encode_config(P.CFG_RATE_HZ, 104))
        assert (r["code"], r["arg"]) == (P.OK, 1), "rate applies after a reboot"
        r = c.command(P.encode_config(P.CFG_MIN_CONFIDENCE, 101 - 1))
        assert r["code"] == P.OK
        doc = json.loads((flash / "config.json").read_text())
        assert doc["version"] == 1 and doc["rate_hz"] == 104 and doc["min_confidence"] == 100
        # Safe reboot: acknowledged, then the band resets cleanly.
        assert c.command(P.encode_reboot())["code"] == P.OK
        assert band.wait() == EXIT_RESET
    finally:
        band.kill()
    band2 = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "100"])
    assert not band2.up["crashed"] and band2.up["boot"] == 2
    assert band2.up["rate_hz"] == 100, "MPU6886 at the configured 104 Hz runs at its 100 Hz step"
    end = band2.end()
    assert end["suppressed"] > 0 and end["next_seq"] == 0, "min_confidence 100 keeps every event out of the log"


def test_a_flood_of_control_writes_is_bounded_counted_and_survived(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """A central that writes faster than the band reads: writes past the _WRITE_SLOTS ring are
    dropped and counted (writes_dropped), never queued without bound; every one kept is answered,
    and the band goes on answering."""
    flood = 40
    band = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--hold", "--idle-exit-ms", "200"])
    try:
        c, _ = secure_connect(band.port)
        before = len(c.records(P.CONTROL_UUID))
        write = struct.pack("<HBH", 3 + len(INFO), 0x04, c.handles[P.CONTROL_UUID]) + INFO
        c.sock.sendall(write * flood)  # in one go: the band's radio takes them in before its control task runs
        for _ in range(flood):  # the stack accepts each (ATT OK); the app keeps what its ring holds
            op, body = c._responses.get(timeout=10)
            assert (op, body[2]) == (0x84, 0)
        # Still answering: a last write, refused (E_KEY) to tell its RESP apart. The control task
        # answers its ring in order, so the kept writes of the flood are answered before it. It can
        # itself find the ring still full (and be dropped, counted): then it is written again.
        marks = 0
        while not any(r["code"] == P.E_KEY for r in c.records(P.CONTROL_UUID)[before:]):
            assert marks < 5, "the band stopped answering after the flood"
            assert c.write(P.CONTROL_UUID, MARK) == 0
            marks += 1
            with contextlib.suppress(AssertionError):
                c.wait_for(lambda: any(r["code"] == P.E_KEY for r in c.records(P.CONTROL_UUID)[before:]), 10, "the last RESP")
        resps = c.records(P.CONTROL_UUID)[before:]
        c.close()
        end = band.end()
    finally:
        band.kill()
    answered = resps[: [r["code"] for r in resps].index(P.E_KEY)]
    assert all((r["code"], r["arg"]) == (P.OK, 50000) for r in answered), resps
    dropped = end["writes_dropped"] - (marks - 1)  # of the flood: less the marks written again
    assert 0 < dropped < flood, end
    assert len(answered) + dropped == flood, (len(answered), dropped, marks)


def test_corrupt_config_falls_back_to_defaults_and_says_so(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text('{"version": 1, "min_confidence": 250}')
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "100"])
    assert band.up["errors"] & P.ERR_CONFIG_RESET and band.up["rate_hz"] == 50
    assert band.end()["next_seq"] == 14
    (flash / "config.json").write_text('{"version": 9, "rate_hz": 104}')
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "100"])
    assert band.up["errors"] & P.ERR_CONFIG_RESET and band.up["rate_hz"] == 50
    band.kill()


def test_safe_mode_after_repeated_crashes_still_reports_and_serves_the_log(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    flash = tmp_path / "flash"
    # Boot 1 logs some events, then the sampler hangs: watchdog reset after watchdog reset, each
    # within a minute of its boot. (Until 2026-12-06 an IMU that stopped answering crashed the
    # band; it is now said and retried: test_band_imu_fault.py.)
    for boot in range(1, 4):
        band = Band(micropython, many_spasms_csv, flash, ["--stall-at-s", "40"])
        assert band.wait() == EXIT_WDT, band.lines
        assert band.up["boot"] == boot and not band.up["safe_mode"]
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "3000"])
    try:
        assert band.up["safe_mode"] and band.up["rate_hz"] == 0, "safe mode: no sensing"
        c, _ = secure_connect(band.port)
        st = P.decode(c.read(P.STATUS_UUID)[1])
        assert st["flags"] & P.SF_SAFE_MODE and st["errors"] & P.ERR_CRASHED
        info, events = _backfill_all(c)
        assert [e["seq"] for e in events] == list(range(info["next_seq"])) and info["next_seq"] >= 3
        assert c.command(P.encode_raw_stream(True))["code"] == P.E_STATE
        assert c.command(P.encode_reboot())["code"] == P.OK
        assert band.wait() == EXIT_RESET
    finally:
        band.kill()
    # After a deliberate reboot the band tries normal operation again.
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "100"])
    assert not band.up["safe_mode"] and band.up["rate_hz"] == 50
    band.kill()


def test_critical_battery_stops_sensing_and_writes_then_resumes(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    # Critical from 30 s to 90 s of the recording (charger plugged in at 90 s).
    band = Band(
        micropython,
        many_spasms_csv,
        tmp_path / "flash",
        ["--hold", "--battery-step-s", "30:3330,90:4000", "--idle-exit-ms", "300"],
    )
    try:
        c, _ = secure_connect(band.port)
        c.wait_for(lambda: any(r["flags"] & P.SF_CRITICAL_BATTERY for r in c.records(P.STATUS_UUID)), 30, "critical")
        crit = [r for r in c.records(P.STATUS_UUID) if r["flags"] & P.SF_CRITICAL_BATTERY]
        assert crit[0]["flags"] & P.SF_LOW_BATTERY and crit[0]["battery_pct"] <= 3
        stop_ms = crit[0]["uptime_s"] * 1000
        assert stop_ms <= 30_000 + CRIT_BOUND_MS + 2000, "stopped within the bound (a notify may take 2 s)"
        c.close()
        end = band.end()
    finally:
        band.kill()
    stored = read_flash_log(tmp_path / "flash" / "events")
    onsets = sorted(e["onset_ms"] for e in stored.values())
    assert onsets and all(not (stop_ms <= t <= 88_000) for t in onsets), "no events logged while critical"
    assert any(t > 90_000 for t in onsets), "sensing resumed after charging"
    assert end["next_seq"] == len(stored)


def test_raw_sample_indexes_go_on_across_a_critical_battery_pause(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: sensing resumed after a critical battery restarted the sample count at 0
    within the boot, so RAW's first_index went back and the host's raw file for that boot refused
    every sample after the pause. The count now goes on as if sensing had not paused."""
    band = Band(
        micropython,
        many_spasms_csv,
        tmp_path / "flash",
        # Paced: the band's virtual clock follows its samples, as on a board.
        ["--hold", "--speed", "10", "--paced", "--battery-step-s", "30:3330,70:4000", "--idle-exit-ms", "300"],
    )
    try:
        assert band.up["rate_hz"] == 50  # the sim board's MPU6886 at the default 52 Hz
        c, _ = secure_connect(band.port)
        st = lambda: c.records(P.STATUS_UUID)  # noqa: E731
        c.wait_for(lambda: any(r["flags"] & P.SF_CRITICAL_BATTERY for r in st()), 60, "critical")
        c.wait_for(lambda: st()[-1]["uptime_s"] >= 72 and not st()[-1]["flags"] & P.SF_CRITICAL_BATTERY, 60, "resumed")
        assert c.command(P.encode_raw_stream(True))["code"] == P.OK
        before_s = P.decode(c.read(P.STATUS_UUID)[1])["uptime_s"]  # refreshed by the command
        c.wait_for(lambda: c.records(P.RAW_UUID), 20, "raw samples")
        first = c.records(P.RAW_UUID)[0]["first_index"]
        after_s = P.decode(c.read(P.STATUS_UUID)[1])["uptime_s"]
        c.close()
    finally:
        band.kill()
    # Samples since sensing began (just after boot): the uptime when they were taken.
    assert before_s - 2 <= first / 50 <= after_s + 1, (before_s, first / 50, after_s)


def test_a_hung_sampler_is_reset_by_the_watchdog(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    band = Band(micropython, many_spasms_csv, flash, ["--stall-at-s", "50"])
    assert band.wait() == EXIT_WDT, band.lines
    end = band.end()
    # Fed while the sampler ran; starved 5 s after it hung; the 8 s watchdog fired.
    assert end["why"] == "watchdog" and 50_000 + 5_000 + 8_000 - 1_000 <= end["uptime_ms"] <= 50_000 + 5_000 + 8_000 + 1_500
    band2 = Band(micropython, many_spasms_csv, flash, ["--csv-skip-s", "63", "--idle-exit-ms", "100"])
    assert band2.up["crashed"] and band2.up["errors"] & P.ERR_CRASHED and band2.up["boot"] == 2
    assert band2.up["next_seq"] == end["next_seq"] >= 3, "what was logged before the hang is kept"
    band2.kill()


def test_low_battery_is_flagged_and_refuses_raw_streaming(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    band = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--hold", "--battery-mv", "3500", "--idle-exit-ms", "200"])
    try:
        c, _ = secure_connect(band.port)
        # Low from the CONFIRM_READINGS-th reading on (band/battery.py), notified at once.
        c.wait_for(lambda: any(r["flags"] & P.SF_LOW_BATTERY for r in c.records(P.STATUS_UUID)), 30, "low")
        assert c.command(P.encode_raw_stream(True))["code"] == P.E_STATE
        st = P.decode(c.read(P.STATUS_UUID)[1])
        assert st["flags"] & P.SF_LOW_BATTERY and not st["flags"] & (P.SF_CRITICAL_BATTERY | P.SF_RAW_ON)
        assert 3 < st["battery_pct"] < 15 and c.read("2a19")[1][0] == st["battery_pct"]
        c.wait_for(lambda: len(c.events()) >= 3, 30, "events still logged and sent on low battery")
        c.close()
    finally:
        band.kill()


def test_a_harness_reboot_is_paced_from_the_last_boots_end_not_from_its_own_start(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """bench/faults.py restarts the band at 60x: a second spent starting a process would be a minute
    missing from the recording's time line on the host (it split a cluster on a loaded CI machine).
    With --paced-from-ms the reboot's virtual time is due from the given moment and catches up."""
    speed, reset_s = 20, 10.0
    flash = tmp_path / "flash"
    first = Band(micropython, many_spasms_csv, flash, ["--speed", str(speed), "--paced", "--reset-at-s", str(reset_s)])
    assert first.wait() == EXIT_RESET
    end = first.end()
    assert end["due_ms"] is not None, "a paced band reports when its end was due"
    time.sleep(1.0)  # a slow machine: the reboot starts 1 s (20 s of virtual time) after the end
    from_ms = end["due_ms"]
    band = Band(micropython, many_spasms_csv, flash, ["--speed", str(speed), "--paced", "--paced-from-ms", str(from_ms),
                                                      "--csv-skip-s", str(reset_s), "--reset-at-s", str(reset_s)])  # fmt: skip
    assert band.wait() == EXIT_RESET
    due = band.end()["due_ms"]
    batch_ms = 200 // speed  # the sampler paces by IMU batches (200 ms of virtual time)
    assert abs(due - (from_ms + reset_s * 1000 / speed)) <= 2 * batch_ms, (due, from_ms)


def test_a_band_catching_up_answers_no_time_sync_until_its_clock_is_due(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """A rebooted band paced from the past runs its backlog first; a time sync answered meanwhile
    would give the host a band ms behind real time and place the whole boot that far off."""
    # 40 s of virtual time to catch up, and 110 s of recording after it: 11 s of real time for
    # the band to start and the central to sync. At speed 25 (100 s to catch up, 2 s left) a
    # start slowed to 2.6 s by a loaded host let the recording end first; the band's clock then
    # ran on in real time and answered 150 s where 166 s were due.
    speed = 10
    from_ms = time.time_ns() // 1_000_000 - 4000
    band = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--speed", str(speed), "--paced", "--paced-from-ms", str(from_ms)])
    try:
        c, _ = secure_connect(band.port)
        sent_ms = time.time_ns() // 1_000_000
        resp = c.command(P.encode_time_sync(1_764_000_000, 0))
        got_ms = time.time_ns() // 1_000_000
        assert resp["code"] == P.OK
        assert (sent_ms - from_ms) * speed < 150_000, "the recording was over before the sync was sent: no catching up to test"
        behind_ms, batch_ms = 1000, 200  # sim/clock.py BEHIND_MS; the sampler's batch
        assert (sent_ms - from_ms) * speed - behind_ms - batch_ms <= resp["arg"] <= (got_ms - from_ms) * speed + batch_ms, (resp, sent_ms - from_ms)
        c.close()
    finally:
        band.kill()


SEEK_CHECK = """
import sys, hw
path = sys.argv[1]
for skip in (0.01, 0.5, 37.13, 75.0, 149.97, 149.99, 160.0):
    ref = hw.CsvSource(path, 0.0)
    got = hw.CsvSource(path, skip)
    for dt in (0.0, 0.013, 0.02, 1.0):
        a, b = got.at(dt), ref.at(skip + dt)
        assert a == b, (skip, dt, a, b)
print("same")
"""


def test_a_reboot_late_in_a_recording_seeks_to_the_same_samples_a_full_read_gives(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """--csv-skip-s bisects on byte offsets instead of parsing every row before the skip."""
    out = run_mp(micropython, tmp_path / "seek.py", SEEK_CHECK, str(many_spasms_csv), timeout_s=60)
    assert out.strip() == "same", out


def test_minutes_of_healthy_running_clear_the_crash_streak_whatever_the_status_period(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """Found by review: the streak was cleared in the status loop, which sleeps the configured
    status period (up to an hour): with 10 min, three crashes each after two healthy minutes
    put the band in safe mode, and it stopped detecting."""
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text(json.dumps({"version": 1, "status_period_s": 600}))
    for boot in range(1, 4):
        band = Band(micropython, many_spasms_csv, flash, ["--stall-at-s", "120"])
        assert band.wait() == EXIT_WDT, band.lines
        assert band.up["boot"] == boot and not band.up["safe_mode"]
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "100"])
    assert not band.up["safe_mode"] and band.up["rate_hz"] == 50, "healthy minutes between crashes: no safe mode"
    band.kill()


def test_a_flash_that_refuses_the_gyro_bias_file_costs_only_the_bias(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: a failed write of bias.bin (a convenience) ended the status task with
    an OSError: the band crashed 10 s after every boot and went to safe mode by the fourth."""
    flash = tmp_path / "flash"
    band = Band(micropython, many_spasms_csv, flash, ["--refuse-write", "bias.bin", "--idle-exit-ms", "100"])
    end = band.end()
    assert end["why"] != "crash" and end["next_seq"] == 14, end
    assert not (flash / "bias.bin").exists() and not (flash / "crash.txt").exists()


def test_a_flash_that_refuses_the_event_log_sets_the_log_write_error(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by running the docs: ``--refuse-write events.log`` did nothing, as the band wrote its
    log through a file opened "r+b", and the refusal was only made at an open for writing. The
    band's handling of a failed log write (ERR_LOG_WRITE, the host's band_log_failing) could not
    be run on the real firmware at all."""
    flash = tmp_path / "flash"
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "100"])
    assert band.end()["next_seq"] == 14
    log = (flash / "events" / "0").read_bytes()
    band = Band(micropython, many_spasms_csv, flash, ["--refuse-write", "events", "--idle-exit-ms", "100"])
    end = band.end()
    assert band.proc.returncode == 0 and end["why"] == "done", end
    assert end["errors"] & P.ERR_LOG_WRITE and end["next_seq"] == 14, "nothing logged, the failure reported"
    assert (flash / "events" / "0").read_bytes() == log and not (flash / "crash.txt").exists()


def test_a_simulated_band_starts_with_an_empty_flash_where_none_was(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by a run of docs/firmware.md's command: a --flash folder that did not exist ended in a traceback."""
    out = subprocess.run(
        [micropython, str(ROOT / "firmware" / "sim" / "run.py"), "--csv", str(many_spasms_csv), "--flash", str(tmp_path / "new"),
         "--socket", "0", "--idle-exit-ms", "100", "--timeout-s", "30"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ, MICROPYPATH=MICROPYPATH),
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert '"kind": "up"' in out.stdout and (tmp_path / "new" / "events").is_dir()


def test_a_flash_that_refuses_the_boot_state_file_still_senses_and_logs(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: state.bin was written at start-up with nothing to catch a refused write
    (ENOSPC, a worn block): App() raised, main.py noted a crash and reset, and every boot did the
    same: a band that never sensed again, and never even advertised."""
    flash = tmp_path / "flash"
    for boot in range(2):
        band = Band(micropython, many_spasms_csv, flash, ["--refuse-write", "state.bin", "--idle-exit-ms", "100"])
        end = band.end()
        assert band.proc.returncode == 0 and end["why"] == "done", end
        assert band.up["rate_hz"] == 50 and not band.up["safe_mode"]
        assert end["next_seq"] == 14 * (boot + 1), "every spasm logged, the seq carried on"
    assert not (flash / "state.bin").exists() and not (flash / "crash.txt").exists()


def test_a_long_status_period_does_not_delay_the_critical_battery_stop_or_the_resume(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """Found by review: the battery was read only in the status loop, which sleeps the configured
    status period (up to an hour): with 3600 s the band went on writing flash for up to an hour
    below 3 % (what the critical stop exists to prevent before a brown-out), and a band put on
    the charger went on not sensing for up to an hour."""
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text(json.dumps({"version": 1, "status_period_s": 3600}))
    # A band that never resumes never reads the recording to its end: --timeout-s ends it.
    band = Band(micropython, many_spasms_csv, flash, ["--battery-step-s", "30:3330,90:4000", "--idle-exit-ms", "300", "--timeout-s", "30"])
    end = band.end()
    assert band.proc.returncode == 0 and end["why"] == "done", end
    stored = read_flash_log(flash / "events")
    onsets = sorted(e["onset_ms"] for e in stored.values())
    stop_ms = 30_000 + CRIT_BOUND_MS + 2000  # at the latest (a notify may take 2 s): spasms at 63-87 s
    assert onsets and all(not (stop_ms <= t <= 88_000) for t in onsets), "no events logged while critical"
    assert any(t > 90_000 for t in onsets), "sensing resumed after charging"


def test_after_a_config_reset_the_rate_in_use_needs_no_reboot(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by review: once a bad config.json had been replaced by the defaults, storing the rate
    the band already ran at answered 'applies after a reboot' (arg 1), and the host's session
    rebooted the band for nothing (seconds without sensing); the flag stayed up for the whole
    boot, so every write of an unchanged value rewrote flash."""
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text('{"version": 9, "rate_hz": 104}')
    band = Band(micropython, many_spasms_csv, flash, ["--hold", "--idle-exit-ms", "200"])
    try:
        assert band.up["errors"] & P.ERR_CONFIG_RESET
        c, _ = secure_connect(band.port)
        r = c.command(P.encode_config(P.CFG_RATE_HZ, 52))  # the default, in use
        assert (r["code"], r["arg"]) == (P.OK, 0), r
        doc = json.loads((flash / "config.json").read_text())
        assert doc["version"] == 1 and doc["rate_hz"] == 52, "the bad file is replaced by a good one"
        mtime = (flash / "config.json").stat().st_mtime_ns
        time.sleep(0.05)
        assert c.command(P.encode_config(P.CFG_RATE_HZ, 52))["arg"] == 0
        assert (flash / "config.json").stat().st_mtime_ns == mtime, "an unchanged value is not written again"
        r = c.command(P.encode_config(P.CFG_RATE_HZ, 104))
        assert (r["code"], r["arg"]) == (P.OK, 1), "a real change still applies after a reboot"
        c.close()
    finally:
        band.kill()


# The band's App on the simulator's hardware (as firmware/sim/run.py builds it): sensing resumes as
# after a critical battery; the heap in use is noted as the new detector (built first) starts.
RESUME_HEAP = """
import gc, sys
from sim import run
import band.app as A

hw = run.build(run.parse_args(["--csv", sys.argv[1], "--flash", sys.argv[2], "--socket", "0"]))[0]
app = A.App(hw)
seen = []
Detector = A.Detector

def counted(rate_hz, has_gyro):
    gc.collect()
    seen.append(gc.mem_alloc())
    return Detector(rate_hz, has_gyro)

A.Detector = counted
gc.collect()
steady = gc.mem_alloc()
app.sampling = False
app._paused_ms = app.uptime_ms()
app._start_imu()
print(steady, seen[0], app.sampling)
"""


def test_resuming_after_critical_battery_frees_the_old_sensing_state_first(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by a CI run out of heap: each resume builds the detector, epoch features and cluster
    counter again (~15 KB at 50 Hz). Built while the old ones were still held, a resume needed
    twice that, in a heap split by hours of running: the band crashed and rebooted."""
    out = run_mp(micropython, tmp_path / "resume.py", RESUME_HEAP, str(many_spasms_csv), str(tmp_path / "flash"))
    steady, building, sampling = out.split()
    assert sampling == "True"
    # The state is ~15 KB at 50 Hz (detector ~5, epoch features ~2, cluster counter ~8).
    assert int(steady) - int(building) >= 12_000, "while the new state is built, the old one is no longer held"


def test_a_central_gone_before_its_answers_is_a_disconnect_not_a_crash(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by the fault audit (bench/faults.py --quick --seed 5, 2 runs of 3): the daemon killed
    with -9 while requests of its were on their way, the simulated radio's answer met a reset
    socket and the band crashed (crash.txt: OSError 32 in sim/bluetooth.py _send), the campaign's
    recording cut short with no event logged. Here two requests come in one segment and their
    central is gone at once: the first answer draws the reset, the second meets it."""
    band = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--hold", "--speed", "5", "--idle-exit-ms", "200"])
    try:
        c = Central(band.port)
        read = struct.pack("<HBH", 3, 0x03, c.handles[P.STATUS_UUID])
        c.sock.sendall(read * 2)
        c.sock.close()
        c.wait_closed()
        end = time.monotonic() + 30
        while True:  # the band lives on and takes the next central once it advertises again
            assert band.proc.poll() is None, band.stderr()
            try:
                c = Central(band.port)
                break
            except (ConnectionRefusedError, AssertionError):  # not advertising yet: refused, or hung up on
                assert time.monotonic() < end, "the band never took a central again"
                time.sleep(0.05)
        assert c.read(P.STATUS_UUID)[0] == 0
        c.close()
        assert band.proc.poll() is None, band.stderr()
    finally:
        band.kill()
    assert not (tmp_path / "flash" / "crash.txt").exists()


def test_a_full_flash_gives_the_oldest_events_room_to_the_new_ones(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """Found by the firmware's fault review: a file system with no room left (a small partition,
    other files) refused every append of a log still under its capacity, for good: ERR_LOG_WRITE,
    and every spasm from then on neither logged nor sent, live included, while the oldest events
    (those a host has had first) kept their room. A full flash now drops the oldest segment, as a
    full log does, and says so as a full log does (wrapped; a BACKFILL from before it: the gap)."""
    flash = tmp_path / "flash"
    # 16 slots (segments of 4, 14 events: the log's own rule drops none), room for ~9 events.
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "16", "--flash-bytes", "250", "--idle-exit-ms", "100"])
    end = band.end()
    assert not end["errors"] & P.ERR_LOG_WRITE and end["next_seq"] == 14, end
    stored = read_flash_log(flash / "events")
    assert max(stored) == 13 and min(stored) > 0, sorted(stored)
    band = Band(micropython, many_spasms_csv, flash, ["--log-slots", "16", "--flash-bytes", "250", "--hold", "--csv-skip-s", "149", "--idle-exit-ms", "200"])
    try:
        c, _ = secure_connect(band.port)
        info, events = _backfill_all(c, 0)
        st = P.decode(c.read(P.STATUS_UUID)[1])
        c.close()
        band.end()
    finally:
        band.kill()
    assert info["flags"] & P.LF_GAP and info["flags"] & P.LF_WRAPPED and info["oldest_seq"] == min(stored), info
    assert [e["seq"] for e in events] == sorted(stored) == list(range(min(stored), 14))
    assert st["flags"] & P.SF_LOG_WRAPPED


def test_a_flash_that_refuses_every_write_loses_one_segment_to_it_not_the_log(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """A refused append (ENOSPC) gives the oldest segment's room to the new event once; a flash
    that still refuses it (every write fails: a worn block read as full) must not then lose a
    segment at each spasm until the log is gone."""
    flash = tmp_path / "flash"
    assert Band(micropython, many_spasms_csv, flash, ["--log-slots", "16", "--idle-exit-ms", "100"]).end()["next_seq"] == 14
    end = Band(micropython, many_spasms_csv, flash, ["--log-slots", "16", "--refuse-write", "events", "--idle-exit-ms", "100"]).end()
    assert end["errors"] & P.ERR_LOG_WRITE and end["next_seq"] == 14, end
    assert sorted(read_flash_log(flash / "events")) == list(range(4, 14)), "one segment (0-3) given up, the rest kept"
