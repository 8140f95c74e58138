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
from gitrepo import commit, git, init, owned_by_another

from spasmwatch import fwbuild
from spasmwatch.alerts.messages import page_text
from spasmwatch.commands.status import band_lines
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
            f"crib: its firmware (0.1.0+{ours}) is not this computer's spasmwatch's (build {pulled}); it monitors meanwhile"
        ], said
        assert [m for m in said if "runs this computer's firmware now" in m] == [f"crib: it runs this computer's firmware now (0.1.0+{pulled})"], said


async def _age_told(d: Daemon) -> dict[str, Any]:
    """The band's line in /api/status once the daemon told its firmware's age (its aging task runs)."""
    async def told() -> None:
        while d.bands[0].firmware_aged is None or d.bands[0].firmware_aged[0] != d.bands[0].firmware_seen:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(told(), 30)
    band: dict[str, Any] = d.status()["bands"][0]
    return band


def test_a_band_newer_than_this_computer_s_firmware_is_told_to_update_the_computer_not_to_be_flashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Review h49: a band whose build id was not this computer's was told 'flash it', also when it ran
    a newer firmware (flashed from a newer checkout): the advice downgraded it. In a git checkout the
    daemon looks its build up in the history (fwhistory.py, off the loop): in HEAD's, older, 'flash
    it' as before; in commits past HEAD only (here HEAD checked out back at the commit before, the
    band flashed at main's tip), newer: update this computer's spasmwatch. /api/status firmware_age,
    'spasmwatch status' and the log say which. Old code: no firmware_age, 'flash it' either way."""
    root = _checkout(tmp_path)
    init(root)
    before = commit(root, "the firmware as shipped")
    old = fwbuild.tree_build(root / "firmware")
    bonds = root / "firmware" / "band" / "bonds.py"
    bonds.write_bytes(bonds.read_bytes() + b"\n")
    commit(root, "a change")
    new = fwbuild.tree_build(root / "firmware")
    assert old is not None and new not in (old, None)
    monkeypatch.setenv("SPASMWATCH_ROOT", str(root))
    ours_words, newer_words = page_text("firmware_old", {}), page_text("firmware_newer", {})

    async def scenario(d: Daemon) -> list[dict[str, Any]]:
        aging = asyncio.create_task(d._aging_firmware())
        try:
            _connect(d, f"0.1.0+{old}")  # flashed at the commit before: older
            older = await _age_told(d)
            git(root, "checkout", "-q", before)  # this computer taken back a commit under the daemon
            await _one_look(d, new)
            assert (d.firmware_build, d.status()["bands"][0]["firmware_old"]) == (old, False)
            _connect(d, f"0.1.0+{new}")  # the band flashed from main's tip since: newer
            newer = await _age_told(d)
            _connect(d, "0.1.0")  # flashed before build ids: older whatever the history
            return [older, newer, await _age_told(d)]
        finally:
            aging.cancel()

    with Store(tmp_path / "spasmwatch.db") as store:
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(1_800_000_000.0))  # type: ignore[arg-type]  # driven by hand
        with caplog.at_level(logging.INFO, logger="spasmwatch.daemon.daemon"):
            older, newer, buildless = asyncio.run(scenario(d))
    assert (older["firmware_old"], older["firmware_age"]) == (True, "older")
    assert f"  {ours_words}" in band_lines(older, ours=new) and f"  {newer_words}" not in band_lines(older, ours=new)
    assert (newer["firmware_old"], newer["firmware_age"]) == (True, "newer")
    lines = band_lines(newer, ours=old)
    assert f"  {newer_words}" in lines and f"  {ours_words}" not in lines, lines
    assert f"  its firmware: 0.1.0+{new} (build {new}); this computer's: build {old}" in lines
    assert (buildless["firmware_old"], buildless["firmware_age"]) == (True, "older")
    said = [r.getMessage() for r in caplog.records if "crib: its firmware is" in r.getMessage()]
    assert said == [
        "crib: its firmware is older than this computer's: flash it ('spasmwatch flash')",
        "crib: its firmware is newer than this computer's (in git's history after HEAD): update this computer's "
        "spasmwatch (git pull, make install), not the band",
        "crib: its firmware is older than this computer's: flash it ('spasmwatch flash')",
    ], said


def test_a_band_whose_build_is_in_no_commit_is_told_to_be_flashed_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not found in the history (a band flashed from a changed copy, or no git checkout at all): the
    safe side, today's words (firmware_age null)."""
    root = _checkout(tmp_path)
    monkeypatch.setenv("SPASMWATCH_ROOT", str(root))

    async def scenario(d: Daemon) -> dict[str, Any]:
        aging = asyncio.create_task(d._aging_firmware())
        try:
            _connect(d, "0.1.0+0123456789ab")
            return await _age_told(d)
        finally:
            aging.cancel()

    with Store(tmp_path / "spasmwatch.db") as store:
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(1_800_000_000.0))  # type: ignore[arg-type]  # driven by hand
        band = asyncio.run(scenario(d))
    assert (band["firmware_old"], band["firmware_age"]) == (True, None)
    assert f"  {page_text('firmware_old', {})}" in band_lines(band)


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


def test_a_checkout_git_refuses_is_logged_once_with_git_s_fix_and_the_band_told_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Review h50: the daemon's user is not the checkout's owner, so git refuses the checkout (its
    safe.directory check): a band's age is not told (the safe side, 'flash it'), and the log says
    why once, with git's fix, however many looks (two builds of the band here); the band's line says
    its age is not told for that, not that its build is in no commit. Old code: nothing said of git,
    the band's build 'not in this checkout's git history'."""
    root = _checkout(tmp_path)
    init(root)
    commit(root, "the firmware as shipped")
    monkeypatch.setenv("SPASMWATCH_ROOT", str(root))
    owned_by_another(root, monkeypatch)

    async def scenario(d: Daemon) -> list[dict[str, Any]]:
        aging = asyncio.create_task(d._aging_firmware())
        try:
            _connect(d, "0.1.0+0123456789ab")
            first = await _age_told(d)
            _connect(d, "0.1.0+ba9876543210")
            return [first, await _age_told(d)]
        finally:
            aging.cancel()

    with Store(tmp_path / "spasmwatch.db") as store:
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(1_800_000_000.0))  # type: ignore[arg-type]  # driven by hand
        with caplog.at_level(logging.INFO):
            bands = asyncio.run(scenario(d))
    assert [(b["firmware_old"], b["firmware_age"]) for b in bands] == [(True, None), (True, None)]
    said = [r.getMessage() for r in caplog.records]
    refusals = [m for m in said if "safe.directory" in m]
    assert len(refusals) == 1 and f"git config --global --add safe.directory {root}" in refusals[0], said
    assert [m for m in said if "crib: its firmware is" in m] == [
        "crib: its firmware is of an age git does not tell (it refuses this checkout: see above): flash it ('spasmwatch flash')"
    ] * 2, said


def test_a_fetch_under_the_daemon_that_brings_the_band_s_build_tells_it_newer_at_the_next_code_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Review h50: a band flashed from another clone's newer commit, not fetched here: not told
    (flash it). A look again meanwhile finds nothing new and says nothing again. A 'git fetch' under
    the daemon brings that commit on origin/main, HEAD and the firmware tree unmoved: the daemon's
    next look at its code (every CODE_CHECK_S) looks the untold band up again, and it is newer.
    Old code: a band was looked up only when judged anew (another revision, another build here),
    and fwhistory kept the look per HEAD: 'flash it' (a downgrade) until the daemon restarted."""
    root = _checkout(tmp_path)
    init(root)
    commit(root, "the firmware as shipped")
    upstream = tmp_path / "upstream"
    git(tmp_path, "clone", "-q", str(root), str(upstream))
    bonds = upstream / "firmware" / "band" / "bonds.py"
    bonds.write_bytes(bonds.read_bytes() + b"\n")
    commit(upstream, "a change on another computer")
    newer = fwbuild.tree_build(upstream / "firmware")
    monkeypatch.setenv("SPASMWATCH_ROOT", str(root))

    async def scenario(d: Daemon) -> list[dict[str, Any]]:
        aging = asyncio.create_task(d._aging_firmware())
        try:
            _connect(d, f"0.1.0+{newer}")
            untold = await _age_told(d)
            await d._age_firmware(d.bands[0])  # looked again, nothing fetched: as it was
            git(root, "fetch", "-q", str(upstream), "main:refs/remotes/origin/main")
            watch = asyncio.create_task(d._watching_code())
            try:
                while d.bands[0].firmware_age is None:
                    await asyncio.sleep(0.01)
            finally:
                watch.cancel()
            return [untold, d.status()["bands"][0]]
        finally:
            aging.cancel()

    with Store(tmp_path / "spasmwatch.db") as store:
        d = Daemon(store, [BandSpec("crib", lambda: None)], clock=HandClock(1_800_000_000.0))  # type: ignore[arg-type]  # driven by hand
        ours = d.firmware_build
        with caplog.at_level(logging.INFO, logger="spasmwatch.daemon.daemon"):
            untold, told = asyncio.run(asyncio.wait_for(scenario(d), WAIT_S))
    assert (untold["firmware_age"], told["firmware_age"], d.firmware_build) == (None, "newer", ours)
    said = [r.getMessage() for r in caplog.records if "crib: its firmware is" in r.getMessage()]
    assert said == [
        "crib: its firmware is not in this checkout's git history: flash it ('spasmwatch flash')",
        "crib: its firmware is newer than this computer's (in git's history after HEAD): update this computer's "
        "spasmwatch (git pull, make install), not the band",
    ], said
