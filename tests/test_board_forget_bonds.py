"""``spasmwatch board forget-bonds``: every bond a band on USB keeps removed, over its raw REPL (a
unix: band here: the same programs a board runs, on a folder as its flash)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spasmwatch import cli

ROOT = Path(__file__).resolve().parents[1]


def test_forget_bonds_removes_every_central_s_keys(tmp_path: Path, micropython: str, capsys: pytest.CaptureFixture[str]) -> None:
    band = tmp_path / "band"
    data = band / "data"
    data.mkdir(parents=True)
    # Two centrals, each with our key and its own (the stack's sec types 1 and 2) under its address.
    keys = [(t, addr, "00" * 16) for addr in ("c0ffee0000a1", "c0ffee0000ee") for t in (1, 2)]
    (data / "bonds.json").write_text(json.dumps(keys))
    (data / "bonds.json.tmp").write_text(json.dumps(keys))  # a save cut short: keys too, removed with them
    (data / "config.json").write_text("{}")
    port = f"unix:{band}"
    assert cli.main(["board", "forget-bonds", "--port", port, "--firmware", str(ROOT / "firmware")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{port}: removed the bonds of 2 phone(s) or computer(s). It pairs the next one that asks"), out
    assert sorted(p.name for p in data.iterdir()) == ["config.json"]  # the band's other data stays
    assert cli.main(["board", "forget-bonds", "--port", port, "--firmware", str(ROOT / "firmware")]) == 0
    assert capsys.readouterr().out == f"{port}: no bonds to remove (no /data/bonds.json)\n"
