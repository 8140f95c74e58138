"""What a stranger in range gets from the band (docs/firmware.md, "Threat model"): a phone with
nRF Connect that connects and reads, or pairs while the pairing window is shut, then just stays.

The band is the firmware under the real micropython with the simulated radio; the centrals are
the family's phone and a neighbour's on its socket. Waits are the radio's real time: the band
drops a link that is not secure within P.SECURE_WITHIN_MS (real ms, as on a board).
"""

from __future__ import annotations

import time
from pathlib import Path

from sim_central import Band, Central

from swcore import protocol as P

PHONE = bytes.fromhex("c0ffee0000a1")
NEIGHBOUR = bytes.fromhex("c0ffee0000ee")
WITHIN_S = P.SECURE_WITHIN_MS / 1000
# The band checks its link at each status pass, every battery.READ_MS (10 s) at most.
CHECK_S = 10
# A Central's socket timeout is also how long its reader waits for the band to say anything
# before it takes the link for gone: longer than a stranger is let stay, so only the band hangs up.
PATIENT_S = WITHIN_S + CHECK_S + 30


def _status(c: Central) -> dict[str, int]:
    att, value = c.read(P.STATUS_UUID)
    assert att == 0
    return P.decode(value)


def _told_nothing(status: dict[str, int]) -> bool:
    """A STATUS with none of the baby's or the log's story in it: no wear, no log, no boots, no uptime
    (the band's own faults, flags and battery are said: a stranger learns no health from them)."""
    return (status["worn"], status["log_fill_pct"], status["boot"], status["uptime_s"], status["next_seq"]) == (-1, 0, 0, 0, 0)


def test_a_stranger_reads_no_health_from_status_and_cannot_hold_the_band_s_only_connection(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """Found by review: STATUS (worn, next_seq: a count of the logged spasms, uptime, boots) was
    readable by any central, paired or not, and notified to it every status period; and a central
    that connected and did nothing kept the band's one connection all night: it does not advertise
    while connected, so the family's host could not connect, and no alarm came (a denial of the
    alarm by a phone left open next door). Now a link not secure (encrypted and bonded) reads a
    STATUS that says only the link's state, gets no STATUS notification, and is dropped
    SECURE_WITHIN_MS after it connected; a bonded link is never dropped for idling."""
    # An hour after its power-on and never bonded: its window is open until the phone's bond.
    band = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--uptime-ms", "3600000", "--idle-exit-ms", "60000"], timeout_s=300)
    try:
        phone = Central(band.port, PHONE, timeout_s=PATIENT_S)
        phone.exchange_mtu(247)
        key = phone.pair()
        assert phone.bonded and phone.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
        end = time.monotonic() + 60
        while _status(phone)["next_seq"] == 0:  # the family's host sees the spasms logged
            assert time.monotonic() < end, "no spasm logged within 60 s"
            time.sleep(0.2)
        assert not _told_nothing(_status(phone))
        time.sleep(WITHIN_S + CHECK_S + 2)  # idle, as a host between events all night
        assert not phone.closed, "a bonded host must not be dropped for idling"
        assert phone.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
        phone.close()

        neighbour = Central(band.port, NEIGHBOUR, timeout_s=PATIENT_S)
        plain = _status(neighbour)
        assert _told_nothing(plain) and not plain["flags"] & P.SF_ENCRYPTED
        neighbour.pair()  # Just Works, with the window shut: encrypted, not bonded
        assert not neighbour.bonded
        paired = _status(neighbour)
        assert _told_nothing(paired) and paired["flags"] & P.SF_ENCRYPTED
        neighbour.wait_closed(PATIENT_S - 5)  # then it only stays, and is dropped
        assert neighbour.records(P.STATUS_UUID) == [], "STATUS notified to a stranger's link"

        phone = Central(band.port, PHONE)  # the band advertises again: the family's host gets back in
        assert phone.encrypt(key) and phone.bonded
        assert phone.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
        assert not _told_nothing(_status(phone))
        phone.close()
    finally:
        band.kill()
