"""The pairing window: a new central bonds only in the first minutes after a power-on, or with a
band that never bonded; bonded centrals re-encrypt at any time (docs/firmware.md, "Security").

The band is the firmware under the real micropython with the simulated radio, whose PAIR
bonds only while the band's stack offers bonding (``ble.config(bond=...)``, NimBLE's
sm_bonding): the centrals here are a phone and a neighbour's phone on its socket.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sim_central import Band, Central, write_csv
from synthetic import supine

from swcore import protocol as P

PHONE = bytes.fromhex("c0ffee0000a1")
LAPTOP = bytes.fromhex("c0ffee0000a2")
NEIGHBOUR = bytes.fromhex("c0ffee0000ee")
WINDOW_S = P.PAIRING_WINDOW_MS // 1000


@pytest.fixture(scope="module")
def past_window_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quiet baby for 40 s longer than the pairing window (50 Hz): the band's clock passes its end."""
    t, acc, gyro = supine(rate_hz=50, duration_s=WINDOW_S + 40, seed=7)
    return write_csv(tmp_path_factory.mktemp("rec") / "quiet.csv", t, acc, gyro)


def _connect(band: Band, addr: bytes, ltk: bytes | None = None) -> tuple[Central, bytes, int]:
    """A central connects and pairs (or re-encrypts with ``ltk``), then sends a command: (central, key, RESP code)."""
    c = Central(band.port, addr)
    c.exchange_mtu(247)
    key = ltk if ltk is not None and c.encrypt(ltk) else c.pair()
    return c, key, c.command(P.encode_info(P.INFO_RATE_MHZ))["code"]


def _status(c: Central) -> dict[str, int]:
    att, value = c.read(P.STATUS_UUID)
    assert att == 0
    return P.decode(value)


def _wait_uptime(c: Central, uptime_s: int, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while _status(c)["uptime_s"] <= uptime_s:
        assert time.monotonic() < end, "the band's clock did not pass %d s in %g s" % (uptime_s, timeout_s)
        time.sleep(0.2)


def _bond_count(flash: Path) -> int:
    return len(json.loads((flash / "bonds.json").read_text()))


def test_a_new_central_bonds_in_the_window_not_after_it_and_a_bonded_one_reconnects_after_it(
    micropython: str, past_window_csv: Path, tmp_path: Path
) -> None:
    flash = tmp_path / "flash"
    band = Band(micropython, past_window_csv, flash, ["--idle-exit-ms", "20000"], timeout_s=150)
    try:
        phone, phone_key, code = _connect(band, PHONE)  # set-up: the band's first bond
        assert phone.bonded and code == P.OK
        phone.close()
        laptop, _, code = _connect(band, LAPTOP)  # a second host, still in the window: bonds too
        assert laptop.bonded and code == P.OK, "a new central must bond in the window"
        assert _status(laptop)["flags"] & P.SF_PAIRING
        _wait_uptime(laptop, WINDOW_S + 2, 120)
        assert not _status(laptop)["flags"] & P.SF_PAIRING
        laptop.close()
        neighbour, _, code = _connect(band, NEIGHBOUR)
        assert not neighbour.bonded, "a new central must not bond after the window"
        assert code == P.E_AUTH, "commands from an unbonded central must be refused"
        assert _status(neighbour)["flags"] & P.SF_ENCRYPTED  # encrypted, yet not trusted
        neighbour.close()
        phone, _, code = _connect(band, PHONE, phone_key)  # bonded in the window: re-encrypts after it
        assert phone.bonded and code == P.OK
        phone.close()
    finally:
        band.kill()
    assert _bond_count(flash) == 2  # the phone and the laptop; the neighbour left no key


def test_a_band_that_never_bonded_keeps_its_window_open_until_its_first_bond(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    """Switched on an hour ago and set up only now: it must still pair, once."""
    band = Band(micropython, many_spasms_csv, tmp_path / "flash", ["--uptime-ms", "3600000"])
    try:
        assert band.up["pairing"] is True
        phone, _, code = _connect(band, PHONE)
        assert phone.bonded and code == P.OK, "a band with no bond must accept its first"
        assert not _status(phone)["flags"] & P.SF_PAIRING  # the command refreshed STATUS after the bond was saved
        phone.close()
        neighbour, _, code = _connect(band, NEIGHBOUR)
        assert not neighbour.bonded and code == P.E_AUTH, "after the first bond the window is past its time"
        neighbour.close()
    finally:
        band.kill()


@pytest.mark.parametrize("cause", ["wdt", "hard"])
def test_only_a_power_on_opens_the_window(micropython: str, many_spasms_csv: Path, tmp_path: Path, cause: str) -> None:
    """A watchdog or machine.reset() (crash, REBOOT) at night opens nothing; switching the band off and on does."""
    flash = tmp_path / "flash"
    first = Band(micropython, many_spasms_csv, flash)
    phone, phone_key, _ = _connect(first, PHONE)
    assert phone.bonded
    phone.close()
    first.end()
    assert _bond_count(flash) >= 1

    rebooted = Band(micropython, many_spasms_csv, flash, ["--reset-cause", cause])
    try:
        assert rebooted.up["pairing"] is False
        neighbour, _, code = _connect(rebooted, NEIGHBOUR)
        assert not neighbour.bonded and code == P.E_AUTH, "a %s reset must not open the pairing window" % cause
        assert not _status(neighbour)["flags"] & P.SF_PAIRING
        neighbour.close()
        phone, _, code = _connect(rebooted, PHONE, phone_key)
        assert phone.bonded and code == P.OK
        phone.close()
    finally:
        rebooted.kill()

    switched_on = Band(micropython, many_spasms_csv, flash, ["--reset-cause", "power_on"])
    try:
        assert switched_on.up["pairing"] is True
        laptop, _, code = _connect(switched_on, LAPTOP)
        assert laptop.bonded and code == P.OK
        laptop.close()
    finally:
        switched_on.kill()


BONDS_SAVE = r'''
import sys
from band.bonds import Bonds
from band.storage import Storage


class Busy(Storage):
    """A flash write during which the stack hands over a key: on a board _IRQ_SET_SECRET runs in
    NimBLE's task, which takes the GIL between any two of the app's bytecodes (the pairing's
    second key, or another central's, while the first is being saved)."""

    def __init__(self, root):
        super().__init__(root)
        self.bonds = None

    def write_atomic(self, name, data):
        b, self.bonds = self.bonds, None
        if b is not None:
            b.set(2, b"peer-key", b"peer-value")
        super().write_atomic(name, data)


st = Busy(sys.argv[1])
b = Bonds(st)
b.set(1, b"our-key", b"our-value")
st.bonds = b
b.save()
print(b.dirty, Bonds(Storage(sys.argv[1])).count())
if b.dirty:
    b.save()  # the link task saves again at its next pass
print(Bonds(Storage(sys.argv[1])).count())
'''


def test_a_key_handed_over_while_the_bonds_are_saved_is_saved_too(micropython: str, tmp_path: Path) -> None:
    """Found by review: ``Bonds.save`` cleared ``dirty`` after writing, so a key the stack handed
    over (an IRQ) while the file was written was never saved: the band lost that central's bond
    at its next reset, and a host bonded after the window's time could not re-encrypt (the window
    opens only at a power-on). Now ``dirty`` is cleared before the bonds are read out."""
    from sim_central import run_mp

    flash = tmp_path / "flash"
    flash.mkdir()
    out = run_mp(micropython, tmp_path / "bonds_save.py", BONDS_SAVE, str(flash)).split("\n")
    assert out[0] == "True 1", "the key that came during the save is still to be saved"
    assert out[1] == "2", "both keys on flash"
