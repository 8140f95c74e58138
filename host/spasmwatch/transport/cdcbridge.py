"""A stand-in for the band's USB CDC serial port, which the firmware does not have yet.

The firmware speaks the protocol over BLE only. To run ``SerialLink`` against
the real firmware, this bridge plays the band's USB port on a TCP socket
(pyserial URL ``socket://127.0.0.1:PORT``): when a serial host opens it, the
bridge connects to the simulated band's radio as a bonded central and relays
every record the band notifies (events, status, control RESP, raw) as a
serial frame, and every framed command it receives as a control write. The
serial host sees what a USB CDC firmware would send: framed records, a STATUS
when the port opens, and nothing else. Closing the port drops the radio link
(as unplugging would end a CDC session); the band dying closes the port.

``noise_bytes`` inserts that many random bytes, and now and then a frame with
a bad CRC, before every frame: a noisy UART, to show the framing resyncs.
``garble``: a record it says True of goes out with a byte of its frame's CRC
flipped (a burst of noise inside a record's frame: the host's decoder drops
it). ``connections`` counts the serial hosts served. ``drop()`` closes the port being served
(a cable pulled out); ``drop_after_s``, while set, closes each port that long (real s) after its
first STATUS (a flapping link: a loose connector, a band at the edge of range).

    python -m spasmwatch.transport.cdcbridge --band 127.0.0.1:47001 [--port 47101]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from pathlib import Path

from bleak import BleakClient
from bleak.exc import BleakError
from swcore import protocol as P

from spasmwatch.transport.simradio import SimRadioClient

RELAYED = (P.EVENTS_UUID, P.STATUS_UUID, P.CONTROL_UUID, P.RAW_UUID)
# Reads of STATUS, STATUS_POLL_S apart, until it is the whole one (see _whole_status).
STATUS_TRIES = 50
STATUS_POLL_S = 0.02
log = logging.getLogger(__name__)


async def _whole_status(client: BleakClient) -> bytes:
    """The STATUS a CDC port sends as it opens: the whole one. The band packs it once its link task
    has seen the link secure, which may come after the pairing's answer; before, any link reads a
    short one, boot 0 (a band counts its boots from 1: docs/firmware.md, "Threat model")."""
    raw = b""
    for _ in range(STATUS_TRIES):
        raw = bytes(await client.read_gatt_char(P.STATUS_UUID))
        if P.decode(raw)["boot"]:  # type: ignore[no-untyped-call]
            break
        await asyncio.sleep(STATUS_POLL_S)
    return raw


class CdcBridge:
    """Serves one serial host at a time on 127.0.0.1:``port`` (0: any free port)."""

    def __init__(
        self,
        band_address: str,
        *,
        bond_file: Path | str | None = None,
        port: int = 0,
        noise_bytes: int = 0,
        seed: int = 0,
        connect_timeout_s: float = 10.0,
        garble: Callable[[bytes], bool] | None = None,
        drop_after_s: float | None = None,
    ) -> None:
        self.band_address = band_address
        self.connect_timeout_s = connect_timeout_s
        self.bond_file = bond_file
        self.port = port
        self.noise_bytes = noise_bytes
        self._rng = random.Random(seed)
        self._garble = garble
        self.connections = 0
        self.drop_after_s = drop_after_s
        self._writer: asyncio.StreamWriter | None = None  # the serial port being served
        self._server: asyncio.Server | None = None
        self._busy = False
        self._answering: asyncio.Future[None] | None = None  # the RESP being relayed

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop(self) -> None:
        """Close the serial port being served, if any: the host sees its cable pulled out."""
        if self._writer is not None:
            self._writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._busy:  # a serial port has one owner
            writer.close()
            return
        self._busy = True
        self._writer = writer
        self._answering = None  # this port's RESPs wait for none of the last one's (its read of STATUS: h47a)
        self.connections += 1
        client = BleakClient(
            self.band_address, lambda _c: writer.close(), backend=SimRadioClient, bond_file=self.bond_file, timeout=self.connect_timeout_s
        )
        try:
            try:
                await client.connect()
                await client.pair()
                for uuid in RELAYED:
                    if uuid == P.CONTROL_UUID:
                        await client.start_notify(uuid, lambda _c, data: self._answer(client, writer, bytes(data)))
                    else:
                        await client.start_notify(uuid, lambda _c, data: self._send(writer, bytes(data)))
                self._send(writer, await _whole_status(client))
                if self.drop_after_s is not None:
                    asyncio.get_running_loop().call_later(self.drop_after_s, writer.close)
            except (BleakError, OSError, asyncio.TimeoutError) as e:
                # Said, not swallowed: the serial host only sees a port that sends nothing and closes
                # ("no STATUS within 5 s"), which reads as a hung band, not as a wrong --band.
                log.warning("cdcbridge: the band at %s did not answer (%s: %s): the serial port closes; is the simulated band "
                            "running there (firmware/sim/run.py --socket PORT)?", self.band_address, type(e).__name__, e)
                return
            await self._commands(reader, client)
        except (BleakError, OSError, asyncio.IncompleteReadError):
            pass  # the band went away, or the serial host did: the port closes, as a CDC port would
        finally:
            self._busy = False
            self._writer = None
            with contextlib.suppress(Exception):
                await client.disconnect()
            writer.close()

    async def _commands(self, reader: asyncio.StreamReader, client: BleakClient) -> None:
        decoder = P.FrameDecoder()  # type: ignore[no-untyped-call]
        while data := await reader.read(512):
            for command in decoder.feed(data):  # type: ignore[no-untyped-call]
                await client.write_gatt_char(P.CONTROL_UUID, bytes(command), response=True)

    def _answer(self, client: BleakClient, writer: asyncio.StreamWriter, resp: bytes) -> None:
        """A RESP goes out after the STATUS the band refreshed before answering, as a CDC port must
        send them: a host reading status right after a command sees its effect, as over BLE."""
        prev = self._answering

        async def relay() -> None:
            if prev is not None:
                with contextlib.suppress(asyncio.CancelledError, BleakError, OSError):
                    await prev  # RESPs in the band's order
            with contextlib.suppress(BleakError, OSError):
                self._send(writer, bytes(await client.read_gatt_char(P.STATUS_UUID)))
            self._send(writer, resp)

        self._answering = asyncio.ensure_future(relay())

    def _send(self, writer: asyncio.StreamWriter, record: bytes) -> None:
        if writer.is_closing():
            return
        framed = bytearray(P.frame(record))  # type: ignore[no-untyped-call]
        if self._garble is not None and self._garble(record):
            framed[-1] ^= 0xFF  # the CRC's last byte: the frame is refused whole, as noise inside it would be
        writer.write(self._noise() + bytes(framed))

    def _noise(self) -> bytes:
        if not self.noise_bytes:
            return b""
        junk = bytes(b for b in self._rng.randbytes(self.noise_bytes) if b != P.SYNC0)
        if self._rng.random() < 0.3:  # a short frame with a bad CRC: the decoder must skip it and resync
            junk += bytes((P.SYNC0, P.SYNC1, 2, 0x01, 0x02, 0x00, 0x00))
        return junk


async def _main(band: str, port: int, bond_file: str | None, noise: int) -> None:
    bridge = CdcBridge(band, bond_file=bond_file, port=port, noise_bytes=noise)
    await bridge.start()
    print(f"serving the band at {band} as {bridge.url} (Ctrl-C to stop)", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="USB CDC stand-in for a simulated band (the firmware has no USB serial yet)")
    ap.add_argument("--band", required=True, help="the simulated band's radio, host:port")
    ap.add_argument("--port", type=int, default=0, help="TCP port for socket:// (default: any free)")
    ap.add_argument("--bond-file", default=None)
    ap.add_argument("--noise-bytes", type=int, default=0)
    a = ap.parse_args(argv)
    logging.basicConfig(format="%(message)s")  # the bridge's warnings on stderr
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(a.band, a.port, a.bond_file, a.noise_bytes))


if __name__ == "__main__":
    main()
