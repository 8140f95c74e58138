"""The family's host lists the band's bonds and revokes every other (OP_BONDS; docs/protocol.md,
"BONDS"; docs/firmware.md, "Threat model" 5): a neighbour who bonded in the pairing window kept
full control (CONFIG min_confidence: it could hide spasms) until 24 newer bonds pushed it out.

The band is the firmware under the real micropython with the simulated radio; the centrals are
the family's phone and a neighbour's on its socket. The simulated stack keys a central's LTK by
its address and looks it up in the band's bond store, as NimBLE's store callbacks do.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim_central import Band, Central

from swcore import protocol as P

PHONE = bytes.fromhex("c0ffee0000a1")
NEIGHBOUR = bytes.fromhex("c0ffee0000ee")


def _connect(band: Band, addr: bytes, ltk: bytes | None = None) -> tuple[Central, bytes]:
    """A central connects and pairs, or re-encrypts with ``ltk`` (pairs again when the band lost it)."""
    c = Central(band.port, addr)
    c.exchange_mtu(247)
    key = ltk if ltk is not None and c.encrypt(ltk) else c.pair()
    return c, key


def _bonded_keys(flash: Path) -> set[str]:
    """The centrals (their addresses: the simulated stack's keys) in the band's bonds.json."""
    return {k for _, k, _ in json.loads((flash / "bonds.json").read_text())}


def test_the_family_s_host_lists_the_bonds_and_revokes_a_neighbour_s_which_stays_revoked_after_a_reboot(
    micropython: str, many_spasms_csv: Path, tmp_path: Path
) -> None:
    flash = tmp_path / "flash"
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "20000"], timeout_s=150)
    try:
        phone, phone_key = _connect(band, PHONE)  # set-up, just after switching the band on
        assert phone.bonded
        assert phone.command(P.encode_bonds(P.BONDS_COUNT))["arg"] == 1 | P.BONDS_ASKER_KNOWN
        phone.close()

        neighbour, neighbour_key = _connect(band, NEIGHBOUR)  # still in the window: bonds, Just Works
        assert neighbour.bonded
        assert neighbour.command(P.encode_config(P.CFG_MIN_CONFIDENCE, 100))["code"] == P.OK  # could hide every spasm
        assert neighbour.command(P.encode_config(P.CFG_MIN_CONFIDENCE, 0))["code"] == P.OK
        neighbour.close()

        phone, _ = _connect(band, PHONE, phone_key)
        assert phone.command(P.encode_bonds(P.BONDS_COUNT)) == {
            "type": "resp", "opcode": P.OP_BONDS, "code": P.OK, "error": "ok", "arg": 2 | P.BONDS_ASKER_KNOWN,
        }  # fmt: skip
        assert _bonded_keys(flash) == {PHONE.hex(), NEIGHBOUR.hex()}
        resp = phone.command(P.encode_bonds(P.BONDS_REVOKE_OTHERS))
        assert (resp["code"], resp["arg"]) == (P.OK, 1), resp  # one central's bond removed
        assert _bonded_keys(flash) == {PHONE.hex()}, "the revocation must be in flash at its answer"
        assert phone.command(P.encode_bonds(P.BONDS_COUNT))["arg"] == 1 | P.BONDS_ASKER_KNOWN
        # The window shut with it: the neighbour cannot simply bond again in what is left of it.
        assert not P.decode(phone.read(P.STATUS_UUID)[1])["flags"] & P.SF_PAIRING
        assert phone.command(P.encode_bonds(P.BONDS_REVOKE_OTHERS))["arg"] == 0  # nothing more to remove
        phone.close()

        neighbour = Central(band.port, NEIGHBOUR)
        assert not neighbour.encrypt(neighbour_key), "a revoked key must not re-encrypt"
        neighbour.pair()
        assert not neighbour.bonded
        assert neighbour.command(P.encode_config(P.CFG_MIN_CONFIDENCE, 100))["code"] == P.E_AUTH
        assert neighbour.command(P.encode_bonds(P.BONDS_REVOKE_OTHERS))["code"] == P.E_AUTH
        neighbour.close()

        phone, _ = _connect(band, PHONE, phone_key)
        assert phone.bonded and phone.command(P.encode_info(P.INFO_RATE_MHZ))["code"] == P.OK
        phone.close()
    finally:
        band.kill()  # no clean stop: what holds after it was written at the command

    # Switched off and on (its window opens again: a new central may bond in it, by design); and a
    # REBOOT's or a crash's reset (none opens it).
    for cause in ("power_on", "hard"):
        band = Band(micropython, many_spasms_csv, flash, ["--reset-cause", cause], timeout_s=150)
        try:
            neighbour = Central(band.port, NEIGHBOUR)
            assert not neighbour.encrypt(neighbour_key), "the revocation must hold after a %s reset" % cause
            neighbour.close()
            phone, _ = _connect(band, PHONE, phone_key)
            assert phone.bonded, "the family's bond must hold after a %s reset" % cause
            assert phone.command(P.encode_bonds(P.BONDS_COUNT))["arg"] == 1 | P.BONDS_ASKER_KNOWN
            phone.close()
        finally:
            band.kill()


def test_a_refused_bonds_command_changes_nothing(micropython: str, many_spasms_csv: Path, tmp_path: Path) -> None:
    """An unknown action, a short write, and a revocation whose flash write fails are refused
    (E_VALUE, E_LENGTH, E_FLASH) before anything changes: the neighbour still re-encrypts."""
    flash = tmp_path / "flash"
    band = Band(micropython, many_spasms_csv, flash, ["--idle-exit-ms", "20000", "--refuse-write", "bonds.json"], timeout_s=150)
    try:
        neighbour, neighbour_key = _connect(band, NEIGHBOUR)  # its bond kept in RAM: the flash refuses it
        assert neighbour.bonded
        neighbour.close()
        phone, _ = _connect(band, PHONE)
        assert phone.bonded
        assert phone.command(bytes((P.VERSION, P.OP_BONDS, 3)))["code"] == P.E_VALUE
        assert phone.command(bytes((P.VERSION, P.OP_BONDS)))["code"] == P.E_LENGTH
        assert phone.command(P.encode_bonds(P.BONDS_REVOKE_OTHERS))["code"] == P.E_FLASH
        assert phone.command(P.encode_bonds(P.BONDS_COUNT))["arg"] == 2 | P.BONDS_ASKER_KNOWN
        phone.close()
        neighbour = Central(band.port, NEIGHBOUR)
        assert neighbour.encrypt(neighbour_key) and neighbour.bonded
        neighbour.close()
        assert not (flash / "bonds.json").exists()
    finally:
        band.kill()
