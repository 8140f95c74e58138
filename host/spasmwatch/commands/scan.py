"""``spasmwatch scan``: bands in range (BLE), on USB serial, or simulated."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
from typing import TYPE_CHECKING, Any

from spasmwatch.errors import SpasmwatchError
from spasmwatch.words import visible

if TYPE_CHECKING:  # the transports are imported when a scan runs, not for --help
    from spasmwatch.transport.base import Found


def register(sub: Any) -> None:
    p = sub.add_parser("scan", help="find bands: BLE in range, USB serial, simulated radios", description=__doc__)
    p.add_argument("--timeout", type=_seconds, default=5.0, metavar="SECONDS", help="seconds to listen on the radios, ble and sim (default 5; USB ports are listed at once)")
    p.add_argument("--transport", default="ble,serial", help="comma list of ble, serial, sim (default ble,serial)")
    p.set_defaults(func=run)


def _seconds(text: str) -> float:
    """--timeout: a time to listen (-1 or nan scanned for nothing and said no band was near)."""
    try:
        t = float(text)
    except ValueError:
        t = math.nan
    if not 0 < t < math.inf:  # nan fails too
        raise argparse.ArgumentTypeError(f"expected seconds to listen, more than 0, got {text!r}")
    return t


def run(args: argparse.Namespace) -> int:
    from spasmwatch.transport import scan

    transports = _transports(args.transport)
    print(f"{_what_is_scanned(transports, args.timeout)}...")
    skipped: dict[str, BaseException] = {}
    found = asyncio.run(scan(args.timeout, transports, skipped=skipped))
    for error in skipped.values():
        print(f"{error} (skipped)", file=sys.stderr)
    for f in found:
        print(found_line(f))
    # The band firmware has no USB link to the daemon yet (docs/transport.md): a board on USB is
    # one to flash, not one to configure; a band is added by the name it advertises.
    usb = [f for f in found if f.transport == "serial"]
    bands = [f for f in found if f.transport != "serial"]
    if usb:
        print(
            f"(serial: a board on USB, for 'spasmwatch flash --port {usb[0].address}'; the band firmware reaches the "
            "daemon over Bluetooth only, advertising as spasmwatch- and the last 4 characters of its device id)"
        )
    elif "serial" in transports and "serial" not in skipped and not bands:
        # docs/flashing.md sends a flash that found no board here: said, with the ports there are, as flash says it.
        # Not beside a band found on a radio (unplugged as it is worn): 'plug the band in' sent the family
        # to plug in the band the scan had just found.
        from spasmwatch.flashing.link import list_ports, no_board_seen

        print(f"(serial: {no_board_seen(list_ports())}; plug the band in with a data cable, not a charge-only one)")
    if not bands:
        _no_band(transports, skipped)
        return 1
    return _next_step(bands)


def _what_is_scanned(transports: list[str], timeout_s: float) -> str:
    """The radios listened to for --timeout, and the USB ports, listed at once (they were said to be
    scanned for 5 s too)."""
    radios = [t for t in transports if t != "serial"]
    said = [f"scanning {', '.join(radios)} for {timeout_s:g} s"] if radios else []
    if "serial" in transports:
        said.append("listing the USB serial ports")
    return ", and ".join(said)


def _transports(text: str) -> list[str]:
    """--transport: the comma-separated transports to scan, each a known one, at least one."""
    from spasmwatch.transport import TRANSPORTS

    transports = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in transports if t not in TRANSPORTS]
    if bad:
        raise SpasmwatchError(f"--transport: unknown {', '.join(bad)} (one of {', '.join(TRANSPORTS)})")
    if not transports:  # scanned nothing and said no band was near (input audit)
        raise SpasmwatchError(f"--transport: none given (one or more of {', '.join(TRANSPORTS)}, comma-separated)")
    return transports


def _no_band(transports: list[str], skipped: dict[str, BaseException]) -> None:
    """Why no band was found: nobody listened (Bluetooth skipped, USB only), or none answered."""
    from spasmwatch.transport.simradio import RADIOS_ENV

    sim_probed = "sim" in transports and "sim" not in skipped and bool(os.environ.get(RADIOS_ENV))
    if "ble" in skipped and sim_probed:
        # Not "none could be": the simulated radios were listened to, only Bluetooth was not.
        print(f'no band found: Bluetooth was not scanned (the "(skipped)" line says why and what to do), and {_sim_advice()}')
        return
    if "ble" in skipped:
        # Not "is it charged, nearby": nobody listened. Bands are found over Bluetooth only.
        print('no band found, and none could be: Bluetooth was not scanned (the "(skipped)" line says why and what to do)')
    elif set(transports) <= {"serial"}:
        # Not "is it charged, nearby" either: USB lists boards to flash, and no band was listened for.
        print("no band found, and none could be: only USB was scanned, which lists boards to flash; bands are found "
              "over Bluetooth ('spasmwatch scan', or --transport ble)")  # fmt: skip
        return
    elif "ble" not in transports:
        # Only simulated radios were listened to: a real band's "is it charged, nearby" does not fit.
        print(f"no band found: {_sim_advice()}")
        return
    else:
        print("no band found: is it charged, nearby, and not connected to another host?")
    if "sim" in transports and "sim" not in skipped:  # skipped: its "(skipped)" line says why
        print(f"({_sim_advice()})")


def found_line(f: Found) -> str:
    """A band found, as scan lists it: its name is what any device in radio range advertises with
    the spasmwatch service, so its control characters are shown ('\\x1b'), not sent to the terminal."""
    rssi = "" if f.rssi is None else f"  {f.rssi} dBm"
    return visible(f"{f.transport:6}  {f.name:24}  {f.address}{rssi}")


def _next_step(bands: list[Found]) -> int:
    """The bands found: which are configured already, and the command that adds a new one."""
    from spasmwatch.firstrun import configured_as, next_step_for

    known = {f.name: configured_as(f.name) for f in bands}
    moved = False  # a band configured for another transport than the one it was found on
    for f in bands:
        if (where := known[f.name]) is not None:
            print(visible(where.said(f.name, f.transport, f.address)))
            moved |= where.transport != f.transport
    new = [f for f in bands if known[f.name] is None]
    if not new:
        if not moved:  # (a moved one's line says the edit: "nothing to add" would say all is well)
            print("nothing to add: 'spasmwatch run' connects to the bands configured ('spasmwatch status' says how they are)")
        return 0
    # The command that writes it (checked), not TOML to copy by hand: a family's first run.
    print(visible(f"{len(bands)} band(s) found; add yours: {next_step_for(new[0].name, new[0].transport)}"))
    return 0


def _sim_advice() -> str:
    """Why no simulated radio answered: the sim scan probes only the radios named in the environment
    (none named is nothing listened to); a named one that is silent is a band process not started,
    on another port, or connected (then it does not advertise, as on air)."""
    from spasmwatch.transport.simradio import RADIOS_ENV

    radios = os.environ.get(RADIOS_ENV)
    if not radios:
        return f"no simulated radio to probe: set {RADIOS_ENV}=host:port of each simulated band, docs/transport.md"
    return (f"no simulated radio answered at {RADIOS_ENV}={radios}: is the simulated band running (firmware/sim/run.py "
            "--socket PORT, docs/firmware.md), on that port, and not connected to a daemon (a connected band does not advertise)?")  # fmt: skip
