"""A copy of the band's firmware whose answer to BONDS REVOKE_OTHERS is held until a file exists
(the band's other tasks run on: a flash write that stalls, a busy stack): before the band removes
the bonds, or after (removed, the answer not sent yet). The rest as it is."""

from __future__ import annotations

import shutil
from pathlib import Path

from spasmwatch.transport.simband import firmware_dir

_BRANCH = "        if op == P.OP_BONDS:\n"
_RUN = "            r = bondcmd.run(self, args[0])\n"


def revoke_answer_held(tmp_path: Path, gate: Path, after: bool = False) -> Path:
    """The tree (under ``tmp_path``); ``after``: the bonds removed first, then the answer held."""
    tree = tmp_path / "held-firmware"
    shutil.copytree(firmware_dir(), tree)
    app = tree / "band" / "app.py"
    text = app.read_text()
    at = _RUN if after else _BRANCH
    assert text.count(at) == 1, at
    hold = f"""            while args[0] == P.BONDS_REVOKE_OTHERS:
                try:
                    __import__("os").stat({str(gate)!r})
                    break
                except OSError:
                    await asyncio.sleep_ms(20)
"""
    app.write_text(text.replace(at, at + hold))
    return tree
