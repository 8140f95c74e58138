"""SerialLink against the real firmware, through the USB CDC stand-in (transport/cdcbridge.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Callable

import pytest
from swcore import protocol as P
from transport_helpers import N_SPASMS, run, until

from spasmwatch.transport import NotFoundError, open_link
from spasmwatch.transport.cdcbridge import CdcBridge
from spasmwatch.transport.serial import SerialLink
from spasmwatch.transport.simband import SimBand, free_port


@asynccontextmanager
async def bridged(band: SimBand, tmp_path: Path, noise_bytes: int = 0) -> AsyncIterator[CdcBridge]:
    bridge = CdcBridge(band.address, bond_file=tmp_path / "bridge-bonds.json", noise_bytes=noise_bytes, seed=7)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.close()


async def stream_over_serial(link: SerialLink) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The session's sequence over serial: subscribe, STATUS, TIME_SYNC, BACKFILL from 0, all events."""
    events: dict[int, dict[str, Any]] = {}
    resps: list[dict[str, Any]] = []

    def on_events(data: bytes) -> None:
        rec = P.decode(data)
        if rec["type"] == "event":
            events[rec["seq"]] = rec

    await link.connect(5)
    await link.subscribe(P.EVENTS_UUID, on_events)
    await link.subscribe(P.CONTROL_UUID, lambda d: resps.append(P.decode(d)))
    await link.secure()
    status = P.decode(await link.read(P.STATUS_UUID))
    await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
    await link.write(P.CONTROL_UUID, P.encode_backfill(0))
    await until(lambda: len(events) >= N_SPASMS, 30, "every event over serial")
    await until(lambda: len(resps) >= 2, 5, "two RESPs")
    return events, resps, status


async def backfill_over_ble(band: SimBand, bond_file: Path) -> dict[int, dict[str, Any]]:
    events: dict[int, dict[str, Any]] = {}
    link = open_link("sim", band.address, bond_file=bond_file)
    await link.connect(5)
    await link.subscribe(P.EVENTS_UUID, lambda d: events.update({r["seq"]: r for r in [P.decode(d)] if r["type"] == "event"}))
    await link.secure()
    await link.write(P.CONTROL_UUID, P.encode_backfill(0))
    await until(lambda: len(events) >= N_SPASMS, 20, "backfill over BLE")
    await link.disconnect()
    return events


@pytest.mark.parametrize("noise_bytes", [0, 12])
def test_serial_link_gets_the_same_events_as_ble(bands: Callable[..., SimBand], tmp_path: Path, bond_file: Path, noise_bytes: int) -> None:
    band = bands()

    async def body() -> None:
        async with bridged(band, tmp_path, noise_bytes) as bridge:
            link = SerialLink(bridge.url)
            events, resps, status = await stream_over_serial(link)
            await link.disconnect()
        assert status["type"] == "status" and status["boot"] == 1
        assert [(r["opcode"], r["code"]) for r in resps[:2]] == [(P.OP_TIME_SYNC, P.OK), (P.OP_BACKFILL, P.OK)]
        assert sorted(events) == list(range(N_SPASMS))
        if noise_bytes:
            assert link.decoder.errors > 0  # garbage and bad-CRC frames were there, and skipped
        else:
            assert link.decoder.errors == 0
        assert await backfill_over_ble(band, bond_file) == events  # the flash log, read back over BLE

    run(body())


def test_serial_port_closes_when_the_band_dies(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    band = bands()

    async def body() -> None:
        async with bridged(band, tmp_path) as bridge:
            link = SerialLink(bridge.url)
            lost = asyncio.Event()
            link.on_disconnect(lost.set)
            await link.connect(5)
            await link.read(P.STATUS_UUID)  # the bridge is attached to the band
            await until(lambda: (band.flash / "bonds.json").exists(), 5, "the bridge's bond stored")
            band.kill()
            await asyncio.wait_for(lost.wait(), 5)
            assert not link.connected

    run(body())


def test_the_bridge_says_when_no_band_answers_at_its_address(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Found by the engineer's audit: 'python -m spasmwatch.transport.cdcbridge --band 127.0.0.1:47999'
    with no band there served the port, a serial host opened it, read nothing ('no STATUS within 5 s',
    as from a hung band) and the bridge closed it ten seconds later without a word."""
    nobody = "127.0.0.1:%d" % free_port()

    async def body() -> None:
        bridge = CdcBridge(nobody, bond_file=tmp_path / "bonds.json", connect_timeout_s=1.0)
        await bridge.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", bridge.port)
            assert await asyncio.wait_for(reader.read(), 10) == b"", "the port closes, having sent nothing"
            writer.close()
        finally:
            await bridge.close()

    with caplog.at_level("WARNING", logger="spasmwatch.transport.cdcbridge"):
        run(body())
    said = [r.getMessage() for r in caplog.records if r.name == "spasmwatch.transport.cdcbridge"]
    assert len(said) == 1 and said[0].startswith(f"cdcbridge: the band at {nobody} did not answer ("), said
    assert said[0].endswith("the serial port closes; is the simulated band running there (firmware/sim/run.py --socket PORT)?"), said


def test_nobody_on_the_port_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        run(SerialLink("socket://127.0.0.1:%d" % free_port()).connect(2))
    with pytest.raises(NotFoundError):
        run(open_link("serial", "/dev/ttyNO-SUCH-BAND").connect(2))


@pytest.mark.parametrize("port, why", [("/dev/null", "a device that is not a terminal"), ("FILE", "a file or a folder")])
def test_a_port_that_is_no_serial_port_is_named_so(tmp_path: Path, port: str, why: str) -> None:
    """A [bands] port set to /dev/null or a file: the daemon retried for ever with "io:
    /dev/null: Could not configure port: (25, 'Inappropriate ioctl for device')". Now it says the
    path is not a serial port and how to find the band's (the words 'spasmwatch flash' uses)."""
    if port == "FILE":
        port = str(tmp_path / "band.txt")
        Path(port).write_text("")
    with pytest.raises(NotFoundError) as e:
        run(SerialLink(port).connect(2))
    assert str(e.value) == f"{port}: not a serial port ({why}): set the band's port, e.g. /dev/ttyACM0 ('spasmwatch scan' lists them)"


def test_a_status_read_right_after_a_command_sees_its_effect(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """Found by review: the bridge (the spec of the band's CDC port) sent STATUS only when the port
    opened, so read(status) after a command gave the STATUS from before it (over BLE the band
    refreshes STATUS before it answers): the session stored, after its BACKFILL, a STATUS whose
    log fill still counted every event of a rebooted band, and the TIME_SYNC not yet done."""
    band = bands(speed=1)  # real time: no periodic STATUS (10 s) within the test

    async def body() -> None:
        async with bridged(band, tmp_path) as bridge:
            link = SerialLink(bridge.url)
            resps: list[dict[str, Any]] = []
            await link.connect(5)
            await link.subscribe(P.CONTROL_UUID, lambda d: resps.append(P.decode(d)))
            assert not P.decode(await link.read(P.STATUS_UUID))["flags"] & P.SF_TIME_SYNCED
            await link.write(P.CONTROL_UUID, P.encode_time_sync(int(time.time()), 0))
            await until(lambda: bool(resps), 5, "the TIME_SYNC RESP")
            assert P.decode(await link.read(P.STATUS_UUID))["flags"] & P.SF_TIME_SYNCED
            await link.disconnect()

    run(body())
