"""The daemon judges a band's firmware by its build id (spasmwatch/fwbuild.py, docs/host.md
"Upgrading") against the firmware tree it would flash from: read at its start and again with its
code (``_watching_code``), so a ``git pull`` under a running daemon is judged without a restart.
The daemon and its store are real; the band's session is driven by hand (its BandInfo, as a
connection's Device Information read gives it), but over USB serial, where a real session asks the
revision with INFO of the real firmware under micropython (the CDC stand-in, tests/cdcdaemon.py)."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from cdcdaemon import serial_daemon

from spasmwatch import fwbuild
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.session import BandInfo, State
from spasmwatch.store import Store
from synthetic import HandClock

ROOT = Path(__file__).resolve().parents[2]
DEVICE = "sw-0a1b2c"
USB_DEVICE = "cot-usb"
WAIT_S = 90.0  # real s: a bound for a loaded machine, not a measure


def _checkout(tmp_path: Path) -> Path:
    """What the daemon reads of a checkout: its boards (repo_root's mark) and its firmware."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "hardware" / "boards", root / "hardware" / "boards")
    shutil.copytree(ROOT / "firmware", root / "firmware", ignore=shutil.ignore_patterns("__pycache__", "sim"))
    return root


def _connect(d: Daemon, revision: str, transport: str = "ble") -> None:
    b = d.bands[0]
    b.session.info = BandInfo(DEVICE, "Simulated band", revision, "sim-mpu6886", "sim:0", transport)
    d.on_connected(b.session.info)


async def _one_look(d: Daemon, before: str | None) -> None:
    """The daemon's watch of its code and firmware run until it has read the tree again."""
    task = asyncio.create_task(d._watching_code())
    try:
        await asyncio.wait_for(_until_changed(d, before), 30)
    finally:
        task.cancel()


async def _until_changed(d: Daemon, before: str | None) -> None:
    while d.firmware_build == before:
        await asyncio.sleep(0.01)


def test_a_git_pull_under_the_daemon_makes_the_band_s_firmware_not_its_own_until_flashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A band on the checkout's firmware is its own; a 'git pull' that changes one byte of the
    firmware makes it not, seen by the running daemon's next look (old code: only a firmware
    without BONDS was ever told); flashed from the new tree, it is its own again. No revision read
    (nor asked with INFO) the band is not judged: the last judgement stands."""
    root = _checkout(tmp_path)
    monkeypatch.setenv("SPASMWATCH_ROOT", str(root))
    ours = fwbuild.tree_build(root / "firmware")
    assert ours is not None
    with Store(tmp_path / "spasmwatch.db") as store:
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(1_800_000_000.0))  # type: ignore[arg-type]  # driven by hand
        assert d.status()["firmware_build"] == ours
        _connect(d, f"0.1.0+{ours}")
        band = d.status()["bands"][0]
        assert (band["firmware_old"], band["firmware"]) == (False, f"0.1.0+{ours}")

        bonds = root / "firmware" / "band" / "bonds.py"
        bonds.write_bytes(bonds.read_bytes() + b" ")  # the pull
        with caplog.at_level(logging.INFO, logger="spasmwatch.daemon.daemon"):
            asyncio.run(_one_look(d, ours))
            pulled = d.firmware_build
            assert pulled is not None and pulled != ours
            assert d.status()["bands"][0]["firmware_old"] is True
            _connect(d, f"0.1.0+{ours}")  # its next connection, still unflashed: not logged again
            assert d.status()["bands"][0]["firmware_old"] is True
            _connect(d, "", transport="serial")  # no revision read nor asked: nothing judged
            band = d.status()["bands"][0]
            assert (band["firmware_old"], band["firmware"]) == (True, None)
            _connect(d, f"0.1.0+{pulled}")  # flashed from the pulled tree
            assert d.status()["bands"][0]["firmware_old"] is False
        said = [r.getMessage() for r in caplog.records]
        assert [m for m in said if "is not this computer's" in m] == [
            f"crib: its firmware (0.1.0+{ours}) is not this computer's spasmwatch's (build {pulled}): flash it ('spasmwatch flash'); "
            "it monitors meanwhile"
        ], said
        assert [m for m in said if "runs this computer's firmware now" in m] == [f"crib: it runs this computer's firmware now (0.1.0+{pulled})"], said


def test_a_daemon_without_a_firmware_tree_judges_no_band(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed package without a checkout cannot say which firmware is its own (nor flash
    one): no band is told its firmware is not this computer's, a build-less one neither."""
    root = _checkout(tmp_path)
    shutil.rmtree(root / "firmware")
    monkeypatch.setenv("SPASMWATCH_ROOT", str(root))
    with Store(tmp_path / "spasmwatch.db") as store:
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(1_800_000_000.0))  # type: ignore[arg-type]  # driven by hand
        _connect(d, "0.1.0")
        st = d.status()
        assert (st["firmware_build"], st["bands"][0]["firmware_old"], st["bands"][0]["firmware"]) == (None, False, "0.1.0")


def test_a_band_flashed_from_a_crlf_checkout_of_the_same_firmware_is_this_computer_s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review h48e: a band flashed from a Windows checkout (git's core.autocrlf: every line ends
    CRLF) runs the code of this computer's LF checkout of the same commit (MicroPython reads CRLF
    as LF: the same bytecode), yet its build id differed, and the page told the family to flash it
    again. The build id reads a source's line ends as LF; any other change of a byte still tells."""
    root = _checkout(tmp_path)
    monkeypatch.setenv("SPASMWATCH_ROOT", str(root))
    windows = tmp_path / "windows-firmware"
    shutil.copytree(root / "firmware", windows)
    for f in windows.rglob("*.py"):
        f.write_bytes(f.read_bytes().replace(b"\n", b"\r\n"))
    theirs = fwbuild.tree_build(windows)
    with Store(tmp_path / "spasmwatch.db") as store:
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(1_800_000_000.0))  # type: ignore[arg-type]  # driven by hand
        _connect(d, f"0.1.0+{theirs}")
        assert (d.firmware_build, d.status()["bands"][0]["firmware_old"]) == (theirs, False)
    app = windows / "band" / "app.py"
    app.write_bytes(app.read_bytes().replace(b"\r\n", b"\r\n#\r\n", 1))  # a line more
    assert fwbuild.tree_build(windows) not in (theirs, None)


def _firmware(tmp_path: Path, name: str) -> Path:
    """A copy of the checkout's firmware tree, the simulator's sim/ with it (SimBand runs it)."""
    fw = tmp_path / name
    shutil.copytree(ROOT / "firmware", fw, ignore=shutil.ignore_patterns("__pycache__"))
    return fw


async def _judged_over_usb(csv: Path, tmp_path: Path, firmware: Path | None) -> dict[str, Any]:
    """The band's line in /api/status once a daemon has connected to it over USB serial (the CDC
    stand-in, the real firmware under micropython) and the band streams."""
    async with serial_daemon(csv, tmp_path, USB_DEVICE, "usb0b1d", firmware=firmware) as rig:
        end = time.monotonic() + WAIT_S
        while rig.daemon.bands[0].session.state is not State.STREAMING and time.monotonic() < end:
            await asyncio.sleep(0.05)
        band: dict[str, Any] = rig.daemon.status()["bands"][0]
        band["streaming"] = rig.daemon.bands[0].session.state is State.STREAMING
        band["daemon_build"] = rig.daemon.firmware_build
        return band


def test_a_band_over_usb_serial_is_judged_by_the_revision_info_carries(quick_cluster_csv: Path, tmp_path: Path) -> None:
    """Serial carries no Device Information, so a band monitored over USB was never judged: the
    daemon could not say it ran another firmware. INFO carries its firmware revision now (items
    INFO_REVISION.., 4 bytes each: docs/protocol.md), the same text as 0x2A26: the checkout's
    firmware is its own; another tree's (a byte changed) is not, named by its revision; a
    firmware from before those items (it answers E_KEY to them) is not either, its revision unknown."""
    ours = fwbuild.tree_build(ROOT / "firmware")
    band = asyncio.run(_judged_over_usb(quick_cluster_csv, tmp_path / "ours", None))
    assert band["streaming"] and band["daemon_build"] == ours
    assert (band["firmware_old"], band["firmware"]) == (False, f"0.1.0+{ours}")

    other = _firmware(tmp_path, "other")
    bonds = other / "band" / "bonds.py"
    bonds.write_bytes(bonds.read_bytes() + b" ")
    theirs = fwbuild.tree_build(other)
    assert theirs is not None and theirs != ours
    band = asyncio.run(_judged_over_usb(quick_cluster_csv, tmp_path / "other-run", other))
    assert band["streaming"] and (band["firmware_old"], band["firmware"]) == (True, f"0.1.0+{theirs}")

    before = _firmware(tmp_path, "before")  # INFO knew only its rate: the revision items are E_KEY
    wire = before / "swcore" / "wire.py"
    text = wire.read_text()
    assert text.count("INFO_ITEMS = ") == 1
    wire.write_text(re.sub(r"INFO_ITEMS = .*", "INFO_ITEMS = (INFO_RATE_MHZ,)", text))
    band = asyncio.run(_judged_over_usb(quick_cluster_csv, tmp_path / "before-run", before))
    assert band["streaming"] and (band["firmware_old"], band["firmware"]) == (True, None)
