"""Boot links (band/bootlink.py): a reset that kept the RTC memory gives the next boot a BOOTLINK
record placing the previous boot on its ms clock; the band sends its kept links at every BACKFILL.

The simulated band's RTC memory is a file (run.py --retained) and its RTC timer the recording's
time line (--csv-skip-s x 1000 + virtual ms): a boot restarted BOOT_MS after the last one ended,
as bench/faults.py restarts it, started BOOT_MS of virtual time after that end. So the previous
boot's end (its end report's uptime) is this boot's ms -BOOT_MS, and the link must say so within
its err_ms.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sim_central import EXIT_RESET, Band, Central, secure_connect

from swcore import protocol as P

BOOT_MS = 1500  # bench/faults.py BOOT_S: the reboot's blind time between two boots
RESET_S = 20.0
# band/bootlink.py: links kept in links.bin, and an estimated link's error (a checkpoint period
# and the board's boot time, 1-2 s).
LINKS_KEPT = 16
ESTIMATED_ERR_MS = 1000


def _reset_boot(micropython: str, csv: Path, flash: Path, retained: Path, extra: list[str]) -> dict[str, Any]:
    """One boot reset with no warning RESET_S into the recording: its end report."""
    band = Band(micropython, csv, flash, ["--retained", str(retained), "--reset-at-s", str(RESET_S), *extra])
    try:
        assert band.wait() == EXIT_RESET, "".join(band.lines) + band.stderr()
        end = band.report("end")
        assert end is not None and end["why"] == "hard_reset"
        return end
    finally:
        band.kill()


def _next_boot(micropython: str, csv: Path, flash: Path, retained: Path, cause: str, extra: Sequence[str] = ()) -> Band:
    skip = RESET_S + BOOT_MS / 1000
    return Band(micropython, csv, flash, ["--retained", str(retained), "--reset-cause", cause, "--csv-skip-s", str(skip),
                                          "--hold", "--idle-exit-ms", "300", *extra])  # fmt: skip


def _backfill(c: Central) -> list[dict[str, Any]]:
    """BACKFILL from 0: the records the band sent for it, up to its LOGINFO(done)."""
    n0 = len(c.records(P.EVENTS_UUID))
    assert c.command(P.encode_backfill(0))["code"] == P.OK
    done = lambda: any(r["type"] == "loginfo" and r["flags"] & P.LF_DONE for r in c.records(P.EVENTS_UUID)[n0:])  # noqa: E731
    c.wait_for(done, 30, "the backfill's end")
    return c.records(P.EVENTS_UUID)[n0:]


def _links_sent(band: Band) -> list[dict[str, Any]]:
    """The BOOTLINKs one connection's BACKFILL brings; the band then ended."""
    c, _ = secure_connect(band.port)
    sent = [r for r in _backfill(c) if r["type"] == "bootlink"]
    c.close()
    band.end()
    return sent


@pytest.mark.parametrize("rtc", [True, False], ids=["rtc", "estimated"])
def test_a_hard_reset_links_the_next_boot_to_the_previous_one_within_its_error(
    micropython: str, many_spasms_csv: Path, tmp_path: Path, rtc: bool
) -> None:
    """The old code kept nothing through a reset (no --retained, no BOOTLINK): a boot no host
    synced could not be placed. Now the next boot's link puts the previous boot's end
    BOOT_MS before its own ms 0, within err_ms: a few ms measured by the RTC timer, a second
    estimated without it."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    extra: list[str] = [] if rtc else ["--no-rtc"]
    end = _reset_boot(micropython, many_spasms_csv, flash, retained, extra)
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "hard", extra)
    try:
        link = band.up["link"]
        assert link is not None, "".join(band.lines)
        assert (link["boot"], link["prev_boot"], link["cause"]) == (band.up["boot"], band.up["boot"] - 1, P.RC_HARD)
        assert link["flags"] == (P.BLF_RTC if rtc else 0)
        # The previous boot's last ms on this boot's clock: m - prev_ms - gap_ms.
        placed = end["uptime_ms"] - link["prev_ms"] - link["gap_ms"]
        assert abs(placed - -BOOT_MS) <= link["err_ms"], (placed, link)
        assert link["err_ms"] <= (10 if rtc else ESTIMATED_ERR_MS)
        assert end["uptime_ms"] - link["prev_ms"] <= 1000, "prev_ms is the last checkpoint, a period before the reset at most"
        sent = _links_sent(band)
    finally:
        band.kill()
    assert sent == [link]


def test_a_watchdog_reset_widens_an_estimated_link_by_the_watchdog_s_timeout(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """A watchdog reset may follow a loop hung since its last checkpoint: the estimate allows it."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    end = _reset_boot(micropython, many_spasms_csv, flash, retained, ["--no-rtc"])
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "wdt", ["--no-rtc"])
    band.kill()
    link = band.up["link"]
    assert link["cause"] == P.RC_WDT and link["flags"] == 0
    placed = end["uptime_ms"] - link["prev_ms"] - link["gap_ms"]
    assert abs(placed - -BOOT_MS) <= link["err_ms"] and link["err_ms"] > 4000, link


def test_a_power_on_gives_no_link(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """A power-on loses the RTC memory (the simulator removes its file): nothing to link from."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    _reset_boot(micropython, many_spasms_csv, flash, retained, [])
    assert retained.exists()
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "power_on")
    try:
        assert band.up["link"] is None and band.up["links_kept"] == 0
        c, _ = secure_connect(band.port)
        assert not [r for r in _backfill(c) if r["type"] == "bootlink"]
        c.close()
        band.end()
    finally:
        band.kill()
    assert not (flash / "links.bin").exists()


def test_a_brownout_links_the_next_boot_by_its_measured_gap(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """A brown-out (a cell sagging under the radio at night) reads as a power-on on the ESP32, but
    keeps the RTC memory and timer: the next boot links the previous one, measured, cause
    RC_POWER_ON, and opens the pairing window as a power-on does. The old code took it for a
    power-up (cause 0): no link, so a brown-out loop was a run of boots no host could place."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    end = _reset_boot(micropython, many_spasms_csv, flash, retained, [])
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "brownout")
    try:
        link = band.up["link"]
        assert link is not None, "".join(band.lines)
        assert (link["boot"], link["prev_boot"], link["cause"], link["flags"]) == (2, 1, P.RC_POWER_ON, P.BLF_RTC)
        placed = end["uptime_ms"] - link["prev_ms"] - link["gap_ms"]
        assert abs(placed - -BOOT_MS) <= link["err_ms"] <= 10, (placed, link)
        assert band.up["pairing"] is True, "read as a power-on: the window opens as after one"
        sent = _links_sent(band)
    finally:
        band.kill()
    assert sent == [link]


@pytest.mark.parametrize(
    "first,then",
    [
        (["--no-rtc"], ["--no-rtc"]),  # no RTC timer: only an estimate, and nothing bounds a power-on's
        ([], ["--rtc-restarted", str(BOOT_MS)]),  # the timer restarted: it reads before the checkpoint
        # The previous boot itself began at a power-up and was cut in its first second: its one
        # checkpoint's RTC ms (a boot's time) is no later than this restarted timer's at ms 0.
        (["--rtc-restarted", str(BOOT_MS), "--reset-at-s", "0.5"], ["--rtc-restarted", str(BOOT_MS)]),
    ],
    ids=["no-rtc", "rtc-restarted", "rtc-restarted-after-a-first-second"],
)
def test_a_boot_read_as_a_power_on_links_only_by_a_measured_gap(
    micropython: str, many_spasms_csv: Path, tmp_path: Path, first: list[str], then: list[str]
) -> None:
    """A reset read as a power-on may be a true power-up, after the power was off for any time,
    whose RTC memory kept a valid checkpoint (stale RAM): the simulator's brownout keeps the file,
    and here the RTC timer restarted (or there is none). No link, not even an estimated one. Fails
    on a bootlink.py that treats RC_POWER_ON as any other reset (an estimated link each time)."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    if "--reset-at-s" in first:
        cut = Band(micropython, many_spasms_csv, flash, ["--retained", str(retained), *first])
        try:
            assert cut.wait() == EXIT_RESET, "".join(cut.lines) + cut.stderr()
        finally:
            cut.kill()
    else:
        _reset_boot(micropython, many_spasms_csv, flash, retained, first)
    assert len(retained.read_bytes()) == 14, "the checkpoint is there for the next boot to read"
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "brownout", then)
    band.kill()
    assert band.up["boot"] == 2 and band.up["pairing"] is True
    assert band.up["link"] is None and band.up["links_kept"] == 0, band.up["link"]
    assert not (flash / "links.bin").exists()


def test_a_corrupt_checkpoint_gives_no_link(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """One flipped bit in the retained checkpoint (its CRC fails): no link, and the boot runs."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    _reset_boot(micropython, many_spasms_csv, flash, retained, [])
    data = bytearray(retained.read_bytes())
    data[3] ^= 0x10
    retained.write_bytes(bytes(data))
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "hard")
    band.kill()
    assert band.up["link"] is None and band.up["boot"] == 2


def _links_file(links: list[bytes]) -> bytes:
    payload = b"".join(links)
    return payload + binascii.crc_hqx(payload, 0xFFFF).to_bytes(2, "little")


def test_links_are_resent_at_every_backfill_and_the_file_keeps_the_last_16(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """links.bin as 16 earlier boots left it (boots 2-17); a reset of boot 18 links boot 19: the
    file keeps boots 3-19, the oldest gone, written with the same seal the band reads back. Each
    BACKFILL (two on one link, one on a second connection) starts with all 16, before its LOGINFO."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    flash.mkdir()
    old = [P.encode_bootlink(b, b - 1, P.RC_WDT, P.BLF_RTC, 3600000 + b, 1500, 5) for b in range(2, 18)]
    (flash / "links.bin").write_bytes(_links_file(old))
    # Boot 18 (a state.bin of boot 17: the band counts on from it).
    state = bytes((17, 0, 0, 0))
    (flash / "state.bin").write_bytes(state + binascii.crc_hqx(state, 0xFFFF).to_bytes(2, "little"))
    _reset_boot(micropython, many_spasms_csv, flash, retained, [])
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "hard")
    try:
        assert band.up["boot"] == 19 and band.up["links_kept"] == LINKS_KEPT
        new = P.encode_bootlink(**{k: v for k, v in band.up["link"].items() if k != "type"})
        want = old[1:] + [new]
        c, key = secure_connect(band.port)
        for _ in range(2):
            got = [r for r in _backfill(c) if r["type"] in ("bootlink", "loginfo")]  # (live events go on meanwhile)
            assert [r["type"] for r in got[: LINKS_KEPT + 1]] == ["bootlink"] * LINKS_KEPT + ["loginfo"]
            assert [P.encode_bootlink(**{k: v for k, v in r.items() if k != "type"}) for r in got[:LINKS_KEPT]] == want
        c.close()
        c2, _ = secure_connect(band.port, key)
        assert [r for r in _backfill(c2) if r["type"] == "bootlink"] == [P.decode(x) for x in want]
        c2.close()
        band.end()
    finally:
        band.kill()
    assert (flash / "links.bin").read_bytes() == _links_file(want)


def test_a_flash_that_refuses_links_bin_costs_only_the_link_s_keeping(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """As band/bootstate.py: a refused write is no crash; this boot still sends its link."""
    flash, retained = tmp_path / "flash", tmp_path / "rtc.bin"
    _reset_boot(micropython, many_spasms_csv, flash, retained, [])
    band = _next_boot(micropython, many_spasms_csv, flash, retained, "hard", ["--refuse-write", "links.bin"])
    try:
        assert band.up["link"] is not None and band.up["boot"] == 2
        assert _links_sent(band) == [band.up["link"]]
    finally:
        band.kill()
    assert not (flash / "links.bin").exists()


def test_the_checkpoint_layout_is_one_in_bootstate_and_bootlink() -> None:
    """bootstate.py writes the checkpoint with private constants (they cost no RAM on the band)
    and bootlink.py reads it with its own: the two must agree."""
    import ast

    from sim_central import FIRMWARE

    def consts(name: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for node in ast.parse((FIRMWARE / "band" / name).read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and "CP" in node.targets[0].id:
                v = node.value
                value = v.args[0] if isinstance(v, ast.Call) else v
                out[node.targets[0].id.lstrip("_")] = ast.literal_eval(value)
        return out

    writer, reader = consts("bootstate.py"), consts("bootlink.py")
    assert writer and {k: reader.get(k) for k in writer} == writer, (writer, reader)


def test_links_of_another_boot_count_are_dropped_from_links_bin(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """links.bin outlives the boot count: a state.bin the band could not read starts it again at 1
    (as its u16 wrap does at 0). The links of boots 2-17 kept from the old count would be sent as
    this count's boots 2-17, and the host would place those boots by them (review). Boot 1 drops
    them and rewrites the file. Old code: the band kept and sent all 16."""
    flash = tmp_path / "flash"
    flash.mkdir()
    old = [P.encode_bootlink(b, b - 1, P.RC_WDT, P.BLF_RTC, 3600000 + b, 1500, 5) for b in range(2, 18)]
    (flash / "links.bin").write_bytes(_links_file(old))
    band = Band(micropython, many_spasms_csv, flash, ["--retained", str(tmp_path / "rtc.bin"), "--hold", "--idle-exit-ms", "300"])
    try:
        assert band.up["boot"] == 1 and band.up["links_kept"] == 0, band.up
        assert _links_sent(band) == []
    finally:
        band.kill()
    assert (flash / "links.bin").read_bytes() == _links_file([])


def test_the_measured_gap_is_read_before_the_flash(micropython: str) -> None:
    """The RTC is read with the uptime the app hands over, before links.bin is read and checked:
    read after it (review), a slow flash read (40 ms here) counted into the gap, beyond the link's
    err_ms of a few ms. Boot 1's checkpoint at its 20 s, RTC 97,000 ms; boot 2 at its 1.5 s reads
    RTC 100,000 ms: the reset and boot took 1.5 s. Old code: gap_ms 1540."""
    import subprocess

    from sim_central import FIRMWARE

    script = """
import struct
from swcore import protocol as P
from swcore.crc import seal
rtc = [100000]
class Retained:
    def read(self):
        return seal(struct.pack("<BHIIB", 0x4C, 1, 20000, 97000, 1))
    def write(self, data):
        pass
    def rtc_ms(self):
        return rtc[0]
class Storage:
    def read(self, name):
        rtc[0] += 40  # a slow flash
        return None
    def write_atomic(self, name, data):
        pass
from band import bootlink
link = P.decode(bootlink.kept(Storage(), Retained(), 2, P.RC_HARD, 1500))
print(link["prev_boot"], link["prev_ms"], link["gap_ms"], link["err_ms"], link["flags"])
"""
    out = subprocess.run([micropython, "-c", script], env={"MICROPYPATH": f".frozen:{FIRMWARE}"}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    prev_boot, prev_ms, gap_ms, err_ms, flags = (int(x) for x in out.stdout.split())
    assert (prev_boot, prev_ms, flags) == (1, 20000, P.BLF_RTC)
    assert gap_ms == 1500 and err_ms < 40, (gap_ms, err_ms)
