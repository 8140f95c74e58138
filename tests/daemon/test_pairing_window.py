"""A band that will not bond tells the family what to do (docs/host.md "Pairing").

Through the real parts: a phone bonded with the band when it was switched on; the
band was then reset by its watchdog (``--reset-cause wdt``), so its pairing window
stayed shut, and a new computer's daemon pairs with it: encrypted, not bonded, every
command refused. The daemon's FAULT must say how to open the window; once the band
is switched off and on, the daemon bonds and streams by itself.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from bleak import BleakClient

from spasmwatch.commands.status import band_lines
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.session import NOT_BONDED, State
from spasmwatch.transport.simband import SimBand
from spasmwatch.transport.simradio import SimRadioClient

from .conftest import rig


async def _phone_bonds(csv: Path, flash: Path, bond_file: Path) -> None:
    """The band's first boot: a phone pairs and bonds, then the band goes down."""
    band = SimBand(csv, flash, hold=True, speed=4, device_id="band0000")
    try:
        async with BleakClient(band.address, backend=SimRadioClient, bond_file=bond_file, timeout=10) as phone:
            await phone.pair()
        for _ in range(100):  # the band saves its bonds from a task, after the pairing
            if (flash / "bonds.json").exists():
                break
            await asyncio.sleep(0.05)
        assert (flash / "bonds.json").exists(), "the phone's bond was never saved"
    finally:
        band.kill()


def test_a_band_past_its_pairing_window_faults_with_the_instruction_then_bonds_after_a_power_cycle(
    tmp_path: Path, quick_cluster_csv: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The test cannot wait 30 real seconds between retries; the retries themselves are what run.
    monkeypatch.setattr(K, "PAIRING_RETRY_S", 0.3)
    caplog.set_level(logging.DEBUG, "spasmwatch")

    def attempts() -> int:  # pairings that the band left unbonded
        return sum("encrypted but not bonded" in r.getMessage() for r in caplog.records)

    async def main() -> None:
        await _phone_bonds(quick_cluster_csv, tmp_path / "flash0", tmp_path / "phone-bonds.json")
        async with rig(tmp_path, quick_cluster_csv, band_args=("--reset-cause", "wdt")) as r:
            d = r.daemon
            assert d is not None
            session = d.bands[0].session
            await r.wait_for(lambda: session.state is State.FAULT, 30, "the FAULT of a band that will not bond")
            assert session.detail == NOT_BONDED
            band = d.status()["bands"][0]
            assert band["state"] == "FAULT" and "switch it off and on" in band["detail"], band
            assert "first 5 minutes after it is switched on" in band["detail"]
            assert f"  {NOT_BONDED}" in band_lines(band)  # what 'spasmwatch status' prints
            # The instruction as a page word and its value: the page words it in the family's language.
            assert band["detail_msg"] == {"key": "not_bonded", "args": {"min": 5}}, band
            assert r.store.count_events("band0000") == 0  # nothing was read from a band that did not trust us
            # Tried again and again, said once: the FAULT (and the steps to it) are one INFO line each,
            # not one per retry all night.
            await r.wait_for(lambda: attempts() >= 4, 30, "four tries")
            faults = [x for x in caplog.records if x.levelno >= logging.INFO and "-> fault" in x.getMessage()]
            assert len(faults) == 1, [x.getMessage() for x in faults]

            old = r.bands[0]  # the family switches it off and on
            old.kill()
            r.start_band(0, port=old.port)
            await r.wait_for(lambda: session.state is State.STREAMING, 30, "the daemon to bond and stream")
            assert r.bands[0].up["pairing"] is True

    asyncio.run(main())
