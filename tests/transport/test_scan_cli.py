"""``spasmwatch scan``: what it tells a newcomer to put in config.toml."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import serial.tools.list_ports  # type: ignore[import-untyped]

from spasmwatch import cli
from spasmwatch.transport.simband import SimBand
from spasmwatch.transport.simradio import RADIOS_ENV


@dataclass
class UsbPort:
    """What pyserial lists for a XIAO ESP32-C3 running MicroPython (no USB device on a test machine)."""

    device: str = "/dev/ttyACM0"
    description: str = "USB JTAG/serial debug unit"
    vid: int = 0x303A
    pid: int = 0x1001


@pytest.fixture
def usb_board(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: [UsbPort()])


def test_a_board_on_usb_is_offered_for_flashing_not_as_a_band_to_configure(usb_board: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by running the docs: after 'spasmwatch flash', the board still on its cable was the one
    'band' scan found, and scan said to add it as name = "USB JTAG/serial debug unit", transport = "serial":
    a config the daemon refuses (serial needs a port), and with a port a link the band never answers
    (its firmware has no USB link yet, docs/transport.md)."""
    assert cli.main(["scan", "--transport", "serial", "--timeout", "0.1"]) == 1
    out = capsys.readouterr().out
    assert 'transport = "serial"' not in out and "[[bands]]" not in out, out
    assert "serial  USB JTAG/serial debug unit  /dev/ttyACM0" in out
    assert "for 'spasmwatch flash --port /dev/ttyACM0'; the band firmware reaches the daemon over Bluetooth only" in out
    # Found by an audit: it ended 'no band found: is it charged, nearby, ...' though no band was listened for.
    assert "is it charged, nearby" not in out, out
    assert out.endswith("no band found, and none could be: only USB was scanned, which lists boards to flash; bands are found "
                        "over Bluetooth ('spasmwatch scan', or --transport ble)\n"), out  # fmt: skip


@pytest.mark.parametrize(
    "port, listed",
    [
        (UsbPort("/dev/ttyUSB0", "FT232R USB UART", 0x0403, 0x6001), True),  # an ESP32 board behind an FTDI bridge
        (UsbPort("/dev/ttyUSB1", "CP2105 Dual USB to UART Bridge", 0x10C4, 0xEA70), False),  # not a board 'flash' picks
    ],
)
def test_scan_lists_the_boards_on_usb_that_flash_would_pick(
    port: UsbPort, listed: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the engineer's audit: scan listed USB serial ports by its own vendor list (303A, 10C4,
    1A86, any product), flash picked them by its table (with FTDI 0403:6001/6015, CP210x EA60 only):
    'spasmwatch scan' did not list an FTDI board that 'spasmwatch flash' found, and listed a CP2105
    flash would not pick, though docs/flashing.md sends a reader to scan for the port to pass."""
    from spasmwatch.flashing.link import Port, pick_port

    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: [port])
    assert cli.main(["scan", "--transport", "serial", "--timeout", "0.1"]) == 1
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("serial ")]
    assert ([port.device] == [row[-1] for row in rows]) is listed, out
    assert (f"'spasmwatch flash --port {port.device}'" in out) is listed, out
    if listed:  # the same port, as flash finds it
        assert pick_port([Port(port.device, port.vid, port.pid, port.description)]).device == port.device


def test_a_scan_that_finds_no_board_on_usb_says_so_with_the_ports_it_saw(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the engineer's hostile review: docs/flashing.md sends a reader whose flash finds no board
    to 'spasmwatch scan', which lists the boards on USB; with none (a charge-only cable, a board not
    plugged in) it said nothing of USB at all, where 'flash' names the serial ports it saw."""
    seen = UsbPort("/dev/ttyUSB1", "CP2105 Dual USB to UART Bridge", 0x10C4, 0xEA70)
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: [seen])
    assert cli.main(["scan", "--transport", "serial", "--timeout", "0.1"]) == 1
    out = capsys.readouterr().out
    assert ("(serial: no ESP32 board found on USB (USB serial ports seen: /dev/ttyUSB1 (CP2105 Dual USB to UART Bridge)); "
            "plug the band in with a data cable, not a charge-only one)\n") in out, out  # fmt: skip


def test_a_scan_that_finds_the_band_on_the_radio_does_not_ask_for_it_on_usb(
    bands: Callable[..., SimBand], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile review (h42r2): after a flash, docs/flashing.md runs 'spasmwatch scan' (USB and the
    radios) to see the band advertise; found over the radio, unplugged as it is worn, the scan still
    ended with '(serial: no ESP32 board found on USB ...; plug the band in with a data cable, not a
    charge-only one)', sending the family to plug in the band it had just found. USB's ports are said
    when the scan finds no band to configure, where the USB is the lead left (the flash's)."""
    band = bands()
    monkeypatch.setenv(RADIOS_ENV, band.address)
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: [])
    assert cli.main(["scan", "--transport", "serial,sim", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    assert band.name in out and "plug the band in" not in out and "no ESP32 board found" not in out, out
    monkeypatch.setenv(RADIOS_ENV, "")  # none on the radio either: the USB ports are said
    assert cli.main(["scan", "--transport", "serial,sim", "--timeout", "0.2"]) == 1
    assert "(serial: no ESP32 board found on USB (USB serial ports seen: none); plug the band in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "transports, said",
    [
        ("serial", "listing the USB serial ports...\n"),
        ("ble,serial", "scanning ble for 0.1 s, and listing the USB serial ports...\n"),
        ("sim", "scanning sim for 0.1 s...\n"),
    ],
)
def test_the_scan_says_it_listens_only_on_the_radios(
    transports: str, said: str, usb_board: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: 'scan --transport serial' said 'scanning serial for 5 s...', though listing the
    USB ports is at once and --timeout is how long the radios are listened to."""
    monkeypatch.delenv(RADIOS_ENV, raising=False)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/h42l-no-bus")  # no Bluetooth: skipped at once
    cli.main(["scan", "--transport", transports, "--timeout", "0.1"])
    assert capsys.readouterr().out.startswith(said)


def test_the_band_on_the_radio_is_the_one_to_configure_beside_a_board_on_usb(
    usb_board: None, bands: Callable[..., SimBand], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    band = bands()
    monkeypatch.setenv(RADIOS_ENV, band.address)
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(tmp_path / "config.toml"))
    assert cli.main(["scan", "--transport", "serial,sim", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    # The commands that write it, not TOML to copy: 'config init' first on a fresh machine, then 'add-band'.
    assert f"1 band(s) found; add yours: spasmwatch config init, then spasmwatch config add-band {band.name} --transport sim\n" in out, out
    (tmp_path / "config.toml").write_text("")
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.5"]) == 0
    assert f"1 band(s) found; add yours: spasmwatch config add-band {band.name} --transport sim\n" in capsys.readouterr().out
    # Found by the family audit: once added, scan still said "add yours: ... add-band NAME", which is refused.
    assert cli.main(["config", "add-band", band.name.upper(), "--transport", "sim"]) == 0
    capsys.readouterr()
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    assert f"{band.name}: configured already ([bands #1] of {tmp_path / 'config.toml'})\n" in out and "add yours" not in out, out


def test_a_band_configured_under_another_transport_is_said_so_with_the_edit_that_moves_it(
    bands: Callable[..., SimBand], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the first-hour review: a band configured with transport = "ble" and found by
    'scan --transport sim' was "configured already", though the daemon looks for it over Bluetooth
    and never on the simulated radio. A band is known by its name, address or port whatever its
    transport (config.band_key_shared: 'add-band' refuses it, the loader refuses two tables for it):
    it is the configured one, on the wrong transport, and scan says the edit that moves it."""
    band = bands()
    monkeypatch.setenv(RADIOS_ENV, band.address)
    config = tmp_path / "config.toml"
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(config))
    config.write_text(f'[[bands]]\nname = "{band.name.upper()}"\nlabel = "cot"\n')  # transport: the default, ble
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "configured already" not in out and "add yours" not in out, out
    assert (f"{band.name}: configured for ble in [bands #1] of {config}, not sim: the daemon looks for it over ble only; "
            f"to use it over sim: spasmwatch config set bands.0.transport sim\n") in out, out  # fmt: skip
    assert cli.main(["config", "set", "bands.0.transport", "sim"]) == 0  # the edit it names is taken
    capsys.readouterr()
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.5"]) == 0
    assert f"{band.name}: configured already ([bands #1] of {config})\n" in capsys.readouterr().out


def test_a_band_configured_by_its_address_under_another_transport_is_given_an_edit_that_is_taken(
    bands: Callable[..., SimBand], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the review of the scan change (2026-12-06): a band configured with its BLE address
    was told "config set bands.0.transport sim", which the config refuses (a MAC is not the
    simulated radio's host:port), and setting the address first is refused the other way round:
    no 'config set' moved it. scan says the table's edit, with the address it was found at, and
    that edit is taken: the next scan finds it configured."""
    band = bands()
    monkeypatch.setenv(RADIOS_ENV, band.address)
    config = tmp_path / "config.toml"
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(config))
    config.write_text(f'[[bands]]\nname = "{band.name}"\naddress = "AA:BB:CC:DD:EE:FF"\nlabel = "cot"\n')
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "config set bands.0.transport" not in out, out  # refused whatever is set first
    assert (f"{band.name}: configured for ble in [bands #1] of {config}, not sim: the daemon looks for it over ble only; "
            f'to use it over sim, edit that table: transport = "sim", address = "{band.address}" (one \'config set\' '
            "at a time is refused: each is checked against the other)\n") in out, out  # fmt: skip
    config.write_text(f'[[bands]]\nname = "{band.name}"\naddress = "{band.address}"\ntransport = "sim"\nlabel = "cot"\n')
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.5"]) == 0
    assert f"{band.name}: configured already ([bands #1] of {config})\n" in capsys.readouterr().out


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "5s"])
def test_a_bad_timeout_is_refused_naming_the_option(timeout: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the docs run: 'scan --timeout -1' listened for nothing and said no band was near."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["scan", "--transport", "sim", "--timeout", timeout])
    assert exit_.value.code == 2 and f"--timeout: expected seconds to listen, more than 0, got '{timeout}'" in capsys.readouterr().err


@pytest.mark.parametrize("transports", ["", ",", " , "])
def test_no_transport_is_refused_naming_the_option(transports: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the input audit: 'scan --transport ""' printed 'scanning  for 5 s...', listened on
    nothing and said no band was near (exit 1)."""
    assert cli.main(["scan", "--transport", transports, "--timeout", "0.1"]) == 2
    captured = capsys.readouterr()
    assert "spasmwatch scan: error: --transport: none given (one or more of ble, serial, sim" in captured.err and captured.out == "", captured


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="BlueZ's D-Bus system bus is Linux's")
def test_no_bluetooth_is_not_reported_as_no_band_near(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the engineer's audit, on a computer without BlueZ: 'spasmwatch scan' logged "Bluetooth is
    not available here (no BlueZ on the D-Bus system bus: ...) (skipped)", without what to do, and ended
    "no band found: is it charged, nearby, and not connected to another host?": advice about the band
    when nothing had listened for it. A system bus socket that is not there is that computer."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-system-bus'}")
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: [])
    assert cli.main(["scan", "--timeout", "0.1"]) == 1
    captured = capsys.readouterr()
    assert "is it charged, nearby" not in captured.out, captured.out
    assert 'no band found, and none could be: Bluetooth was not scanned (the "(skipped)" line says why and what to do)' in captured.out
    assert "Bluetooth is not available here (no BlueZ on the D-Bus system bus: No such file or directory): install and start BlueZ, e.g. " in captured.err
    assert "'sudo systemctl enable --now bluetooth' (skipped)" in captured.err, captured.err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="BlueZ's D-Bus system bus is Linux's")
def test_no_bluetooth_beside_simulated_radios_that_were_probed_is_not_none_could_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the docs pass: 'scan --transport ble,sim' on a computer without Bluetooth ended "no band
    found, and none could be" though the simulated radios named in the environment were probed."""
    import socket

    with socket.socket() as s:  # a 127.0.0.1 port nobody listens on: a simulated radio that is off
        s.bind(("127.0.0.1", 0))
        radio = f"127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-system-bus'}")
    monkeypatch.setenv(RADIOS_ENV, radio)
    assert cli.main(["scan", "--transport", "ble,sim", "--timeout", "0.1"]) == 1
    out = capsys.readouterr().out
    assert "none could be" not in out, out
    assert out.endswith('no band found: Bluetooth was not scanned (the "(skipped)" line says why and what to do), '
                        f"and no simulated radio answered at {RADIOS_ENV}={radio}: is the simulated band running "
                        "(firmware/sim/run.py --socket PORT, docs/firmware.md), on that port, and not connected to a daemon "
                        "(a connected band does not advertise)?\n"), out  # fmt: skip
    monkeypatch.delenv(RADIOS_ENV)  # no radio named: the sim scan listened to nothing, and says what to set
    assert cli.main(["scan", "--transport", "ble,sim", "--timeout", "0.1"]) == 1
    out = capsys.readouterr().out
    assert "no band found, and none could be: Bluetooth was not scanned" in out and f"set {RADIOS_ENV}=host:port" in out, out


def test_a_simulated_radio_that_does_not_answer_gets_advice_for_a_simulated_band(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a newcomer review: 'scan --transport sim' with nothing listening on the radio named
    asked "is it charged, nearby, and not connected to another host?", a real band's advice: a
    simulated band has no battery nor distance, it is a process that may not run, or on another port."""
    import socket

    with socket.socket() as s:  # a 127.0.0.1 port nobody listens on: a simulated band not started
        s.bind(("127.0.0.1", 0))
        radio = f"127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv(RADIOS_ENV, radio)
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.1"]) == 1
    out = capsys.readouterr().out
    assert "charged" not in out and "nearby" not in out, out
    assert out.endswith(f"no band found: no simulated radio answered at {RADIOS_ENV}={radio}: is the simulated band running "
                        "(firmware/sim/run.py --socket PORT, docs/firmware.md), on that port, and not connected to a daemon "
                        "(a connected band does not advertise)?\n"), out  # fmt: skip
    monkeypatch.delenv(RADIOS_ENV)  # none named: nothing was listened to, and it says what to set
    assert cli.main(["scan", "--transport", "sim", "--timeout", "0.1"]) == 1
    out = capsys.readouterr().out
    assert "charged" not in out and out.endswith(f"no band found: no simulated radio to probe: set {RADIOS_ENV}=host:port "
                                                 "of each simulated band, docs/transport.md\n"), out  # fmt: skip
