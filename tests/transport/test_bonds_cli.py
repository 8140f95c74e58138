"""``spasmwatch bonds``: the family's computer sees who is bonded to the band and removes a
stranger's bond, end to end on the simulated band (the firmware under the real micropython).

The family's computer is the config's: its simulated bond keys beside its store, as its daemon's.
The stranger is another central (its own bond file: another address and keys) that paired in the
band's pairing window.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from swcore import protocol as P

from spasmwatch import cli
from spasmwatch.daemon.lock import one_daemon
from spasmwatch.transport import open_link
from spasmwatch.transport.base import AuthError
from spasmwatch.transport.simband import SimBand, firmware_dir


def _config(tmp_path: Path, address: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[daemon]\ndata_dir = "{tmp_path / "data"}"\n\n[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "{address}"\n')
    return path


async def _command_as(address: str, bond_file: Path, data: bytes) -> int:
    """Connect as the central of ``bond_file``, secure the link, send ``data``: the band's RESP code."""
    link = open_link("sim", address, bond_file=bond_file)
    answers: asyncio.Queue[int] = asyncio.Queue()
    await link.connect(10)
    try:
        await link.secure()
        await link.subscribe(P.CONTROL_UUID, lambda d: answers.put_nowait(int(P.decode(d)["code"])))
        await link.write(P.CONTROL_UUID, data)
        return await asyncio.wait_for(answers.get(), 10)
    finally:
        await link.disconnect()


def _bonds(config: Path, capsys: pytest.CaptureFixture[str], *more: str) -> tuple[int, str, str]:
    code = cli.main(["bonds", "--config", str(config), *more])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_family_s_computer_sees_a_stranger_s_bond_and_revokes_it(
    bands: Callable[..., SimBand], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    band = bands(hold=False, idle_exit_ms=60000, timeout_s=150)
    config = _config(tmp_path, band.address)
    assert _bonds(config, capsys) == (0, "crib: 1 bonded: this computer\n", "")  # it paired: the band's first bond

    stranger = tmp_path / "stranger-bonds.json"
    assert asyncio.run(_command_as(band.address, stranger, P.encode_config(P.CFG_MIN_CONFIDENCE, 100))) == P.OK  # could hide every spasm
    code, out, _ = _bonds(config, capsys)
    assert code == 0 and out.startswith("crib: 2 bonded: this computer and 1 other(s): "), out
    assert "'spasmwatch bonds --revoke-others'" in out

    code, out, _ = _bonds(config, capsys, "--revoke-others")
    assert code == 0 and out.startswith("crib: removed the bonds of 1 other phone(s) or computer(s); only this computer is bonded now."), out

    with pytest.raises(AuthError, match="no longer has our bond"):  # its key no longer re-encrypts
        asyncio.run(_command_as(band.address, stranger, P.encode_config(P.CFG_MIN_CONFIDENCE, 100)))
    stranger.unlink()  # it forgets the band and pairs again: encrypted, not bonded (the window shut)
    assert asyncio.run(_command_as(band.address, stranger, P.encode_config(P.CFG_MIN_CONFIDENCE, 100))) == P.E_AUTH
    assert _bonds(config, capsys) == (0, "crib: 1 bonded: this computer\n", "")


def test_an_older_band_is_said_too_old_and_a_running_daemon_to_be_stopped(
    bands: Callable[..., SimBand], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The firmware before OP_BONDS, as it decodes commands: the opcode unknown (E_OPCODE).
    old = tmp_path / "old-firmware"
    shutil.copytree(firmware_dir(), old)
    wire = old / "swcore" / "wire.py"
    wire.write_text(wire.read_text().replace('    OP_BONDS: "<BBB",\n', ""))
    band = bands(hold=False, idle_exit_ms=60000, timeout_s=150, firmware=old)
    config = _config(tmp_path, band.address)
    code, out, err = _bonds(config, capsys)
    assert (code, out) == (2, "")
    assert err.startswith("spasmwatch bonds: error: this band's firmware is too old to list or remove its bonds: update it"), err

    (tmp_path / "data").mkdir(exist_ok=True)
    with one_daemon(tmp_path / "data" / "spasmwatch.db"):
        code, out, err = _bonds(config, capsys, "--revoke-others")
    assert (code, out) == (2, "")
    assert "is connected to the band, which takes one connection at a time: stop it (it was started by hand: press Ctrl+C" in err, err
