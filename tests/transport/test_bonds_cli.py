"""``spasmwatch bonds``: the family's computer sees who is bonded to the band and removes a
stranger's bond, end to end on the simulated band (the firmware under the real micropython).

The family's computer is the config's: its simulated bond keys beside its store, as its daemon's.
The stranger is another central (its own bond file: another address and keys) that paired in the
band's pairing window.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from heldbonds import revoke_answer_held
from servers import free_port
from transport_helpers import N_SPASMS

from swcore import protocol as P

from spasmwatch import cli, fwbuild
from spasmwatch.daemon.lock import one_daemon
from spasmwatch.flashing.install import flash
from spasmwatch.flashing.link import open_link as open_unix_link
from spasmwatch.hardware import boards
from spasmwatch.store import Store
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
    with one_daemon(tmp_path / "data" / "spasmwatch.db"):  # a daemon whose page does not listen: nothing to ask it by
        code, out, err = _bonds(config, capsys, "--revoke-others")
    assert (code, out) == (2, "")
    assert "though the daemon on this store runs (pid " in err and "its web page does not listen there (yet)" in err, err


def _store_events(db: Path) -> int:
    store = Store.open_readonly(db)
    try:
        return store.count_events()
    finally:
        store.close()


def _until(pred: Callable[[], object], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < deadline, f"no {what} in {timeout_s:g} s"
        time.sleep(0.2)


def test_bonds_goes_through_the_running_daemon_which_keeps_monitoring(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """The daemon holds the band's one connection: 'bonds' asks it to send BONDS on that link (old
    code: 'stop it'), and the band goes on being monitored. A stranger bonded in the window first."""
    # Its recording from the stranger's connect at twice real time: a spasm every 4 s from 7.5 s on.
    band = bands(hold=True, speed=2, idle_exit_ms=60000, timeout_s=150)
    stranger = tmp_path / "stranger-bonds.json"
    assert asyncio.run(_command_as(band.address, stranger, P.encode_info(P.INFO_RATE_MHZ))) == P.OK
    config = _config(tmp_path, band.address)
    config.write_text(config.read_text() + f"\n[daemon.http]\nport = {free_port()}\n")
    db = tmp_path / "data" / "spasmwatch.db"
    env = dict(os.environ, LOGNAME="pi")
    daemon = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def bonds(*more: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "spasmwatch", "bonds", "--config", str(config), *more]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)

    def connected() -> bool:
        st = subprocess.run([sys.executable, "-m", "spasmwatch", "status", "--json", "--config", str(config)],
                            capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
        return st.stdout.startswith("{") and json.loads(st.stdout)["bands"][0]["connected"] is True

    try:
        _until(connected, "link from the daemon")  # (its store made and open by then)
        listed = bonds()
        assert (listed.returncode, listed.stderr) == (0, ""), listed.stderr
        assert listed.stdout.startswith("crib: 2 bonded: this computer and 1 other(s): "), listed.stdout
        revoked = bonds("--revoke-others")
        assert (revoked.returncode, revoked.stderr) == (0, ""), revoked.stderr
        assert revoked.stdout.startswith("crib: removed the bonds of 1 other phone(s) or computer(s); only this computer"), revoked.stdout
        assert bonds().stdout == "crib: 1 bonded: this computer\n"

        stored = _store_events(db)  # the band's spasms: most still to come
        assert stored < N_SPASMS, stored
        _until(lambda: _store_events(db) > stored, "event stored after the revocation")
        assert connected()

        band.kill()  # out of reach: said at once, not waited for
        _until(lambda: not connected(), "drop seen by the daemon")
        away = bonds()
        assert (away.returncode, away.stdout) == (2, ""), away.stdout
        assert away.stderr.startswith("spasmwatch bonds: error: band crib is not connected now ("), away.stderr
        assert away.stderr.endswith("): try again when it is in reach\n"), away.stderr
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=60)
    assert log.count("the band removed the bonds of 1 other phone(s) or computer(s), asked by command line (pi)") == 1, log


class _Daemon:
    """A real 'spasmwatch run' on the config, and the command lines a family types beside it."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.env = dict(os.environ, LOGNAME="pi")
        self.proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "spasmwatch", *args, "--config", str(self.config)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=self.env)

    def status(self) -> dict[str, Any] | None:
        st = self.cli("status", "--json")
        return json.loads(st.stdout) if st.stdout.startswith("{") else None

    def connected(self) -> bool:
        st = self.status()
        return st is not None and st["bands"][0]["connected"] is True

    def other_bonds(self) -> list[dict[str, Any]]:
        """The open other_bonds alerts of /api/status."""
        st = self.status()
        return [a for a in (st or {"alerts": []})["alerts"] if a["kind"] == "other_bonds" and a["state"] != "OK"]

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        _, log = self.proc.communicate(timeout=60)
        return log


def _other_bonds_rows(db: Path) -> list[str]:
    """The states the store recorded for other_bonds alerts, in order."""
    store = Store.open_readonly(db)
    try:
        return [r.state for r in store.alerts() if r.kind == "other_bonds"]
    finally:
        store.close()


def _reconnect(daemon: _Daemon, bands: Callable[..., SimBand], band: SimBand, **kw: Any) -> SimBand:
    """The band off and on (its flash, and so its bonds, kept): the daemon's next connection."""
    band.kill()
    _until(lambda: not daemon.connected(), "drop seen by the daemon")
    again = bands(port=band.port, **kw)
    _until(daemon.connected, "link from the daemon again")
    return again


def test_a_stranger_s_bond_is_told_once_until_revoked(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """The daemon asks BONDS COUNT once per connection: a stranger bonded in the window raises
    other_bonds (old code: nothing told), said once, not again at the next connection, cleared by
    'bonds --revoke-others'."""
    kw: dict[str, Any] = {"hold": True, "speed": 2, "idle_exit_ms": 60000, "timeout_s": 150}
    band = bands(**kw)
    stranger = tmp_path / "stranger-bonds.json"
    assert asyncio.run(_command_as(band.address, stranger, P.encode_info(P.INFO_RATE_MHZ))) == P.OK
    config = _config(tmp_path, band.address)
    config.write_text(config.read_text() + f"\n[daemon.http]\nport = {free_port()}\n")
    db = tmp_path / "data" / "spasmwatch.db"
    daemon = _Daemon(config)
    try:
        _until(daemon.other_bonds, "other_bonds alert")
        (alert,) = daemon.other_bonds()
        assert alert["urgency"] == "high" and alert["notified"] is True, alert
        assert alert["text"] == ("Another device is paired with band crib (1). If it is not one of yours (a second computer "
                                 "or phone you paired), run `spasmwatch bonds --revoke-others`."), alert  # fmt: skip
        shown = daemon.cli("status")
        assert "Another device is paired with band crib (1)" in shown.stdout and "faults: other_bonds" in shown.stdout, shown.stdout

        band = _reconnect(daemon, bands, band, **kw)
        # Its COUNT goes first on the link (commands take turns), then this one: both answered by now.
        assert daemon.cli("bonds").stdout.startswith("crib: 2 bonded: this computer and 1 other(s): ")
        assert [a["id"] for a in daemon.other_bonds()] == [alert["id"]]  # the same alert, not said again
        assert _other_bonds_rows(db) == ["FAULT"]

        revoked = daemon.cli("bonds", "--revoke-others")
        assert (revoked.returncode, revoked.stderr) == (0, ""), revoked.stderr
        assert daemon.other_bonds() == []
        assert _other_bonds_rows(db) == ["FAULT", "OK"]
        band = _reconnect(daemon, bands, band, **kw)
        assert daemon.cli("bonds").stdout == "crib: 1 bonded: this computer\n"
        assert _other_bonds_rows(db) == ["FAULT", "OK"]
    finally:
        daemon.stop()


def test_an_older_band_raises_no_bonds_alert_and_is_said_once(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """A firmware before OP_BONDS answers E_OPCODE: no alert; one log line for the daemon's run (its build
    is not this computer's), not one a connection."""
    old = tmp_path / "old-firmware"
    shutil.copytree(firmware_dir(), old)
    wire = old / "swcore" / "wire.py"
    wire.write_text(wire.read_text().replace('    OP_BONDS: "<BBB",\n', ""))
    kw: dict[str, Any] = {"hold": True, "speed": 2, "idle_exit_ms": 60000, "timeout_s": 150, "firmware": old}
    band = bands(**kw)
    stranger = tmp_path / "stranger-bonds.json"
    assert asyncio.run(_command_as(band.address, stranger, P.encode_info(P.INFO_RATE_MHZ))) == P.OK
    config = _config(tmp_path, band.address)
    config.write_text(config.read_text() + f"\n[daemon.http]\nport = {free_port()}\n")
    daemon = _Daemon(config)
    try:
        _until(daemon.connected, "link from the daemon")
        # Each after the daemon's COUNT of that connection, if it sent one (commands take turns).
        assert "firmware is too old to list or remove its bonds" in daemon.cli("bonds").stderr
        band = _reconnect(daemon, bands, band, **kw)
        assert "firmware is too old to list or remove its bonds" in daemon.cli("bonds").stderr
        assert daemon.other_bonds() == []
    finally:
        log = daemon.stop()
    assert _other_bonds_rows(tmp_path / "data" / "spasmwatch.db") == []
    assert log.count(NOT_OURS_LOGGED) == 1, log  # its build id (another tree's): said once, not at each connection


def test_a_stranger_s_bond_is_told_once_per_count_across_daemon_restarts(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """The same SQLite store, the daemon stopped and started again (as a parent may do to fix
    something), the band on all along. Old code: the alert lived in the daemon's memory alone:
    each restart told the same stranger's bond again, acknowledged or not (a second FAULT), and
    left the run before's alert open in the store for ever."""
    kw: dict[str, Any] = {"hold": True, "speed": 1, "idle_exit_ms": 60000, "timeout_s": 200}
    band = bands(**kw)
    assert asyncio.run(_command_as(band.address, tmp_path / "stranger-bonds.json", P.encode_info(P.INFO_RATE_MHZ))) == P.OK
    config = _config(tmp_path, band.address)
    config.write_text(config.read_text() + f"\n[daemon.http]\nport = {free_port()}\n")
    db = tmp_path / "data" / "spasmwatch.db"

    def run(until: Callable[[_Daemon], object], what: str) -> tuple[_Daemon, list[dict[str, Any]]]:
        """A daemon started, ``until`` it shows ``what``; its open other_bonds alerts then (its COUNT answered)."""
        daemon = _Daemon(config)
        _until(lambda: until(daemon), what)
        assert daemon.cli("bonds").returncode == 0  # after the daemon's own COUNT of this connection (commands take turns)
        return daemon, daemon.other_bonds()

    daemon, (alert,) = run(_Daemon.other_bonds, "other_bonds alert")
    assert "paired with band crib (1)" in alert["text"], alert
    acked = daemon.cli("ack", str(alert["id"]))
    assert acked.returncode == 0, acked.stderr
    daemon.stop()
    assert _other_bonds_rows(db) == ["FAULT", "FAULT"]  # its raise, its ack (kept for the next run)

    daemon, shown = run(_Daemon.connected, "link from the restarted daemon")  # the same stranger: not told again
    daemon.stop()
    assert [(a["id"], a["text"], a["acked_by"]) for a in shown] == [(alert["id"], alert["text"], "command line (pi)")]
    assert _other_bonds_rows(db) == ["FAULT", "FAULT"]

    # A second stranger in the window (the band on since its power-on 5 min ago at most): a new count, told.
    assert asyncio.run(_command_as(band.address, tmp_path / "stranger2-bonds.json", P.encode_info(P.INFO_RATE_MHZ))) == P.OK
    daemon, shown = run(lambda d: "(2)" in str(d.other_bonds()), "the new count")
    daemon.stop()
    assert [a["id"] for a in shown] == [alert["id"]]
    assert _other_bonds_rows(db) == ["FAULT", "FAULT", "FAULT"]

    # Both removed while no daemon ran ('bonds' itself on the band): the next run clears the alert.
    revoked = subprocess.run([sys.executable, "-m", "spasmwatch", "bonds", "--revoke-others", "--config", str(config)],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert revoked.stdout.startswith("crib: removed the bonds of 2 other phone(s)"), (revoked.stdout, revoked.stderr)
    daemon, shown = run(_Daemon.connected, "link from the restarted daemon")
    daemon.stop()
    assert shown == []
    assert _other_bonds_rows(db) == ["FAULT", "FAULT", "FAULT", "OK"]


def test_a_band_the_daemon_reaches_over_usb_is_said_why_its_bonds_are_not_counted(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """A band on USB (transport = "serial"; the bridge plays its USB port): this computer holds no
    bond there, so the band cannot tell this computer's bond from a stranger's. Old code: asked
    through the daemon, 'bonds' printed "crib: 2 bonded: this computer and 1 other(s)" (the
    bridge's Bluetooth bond taken for this computer's over USB) and the daemon raised other_bonds
    from it, against its own rule that bonds are not counted over USB. Now nothing is asked: the
    words say why and what to do, as they do with no daemon running."""
    band = bands(hold=True, speed=1, idle_exit_ms=60000, timeout_s=150)
    assert asyncio.run(_command_as(band.address, tmp_path / "stranger-bonds.json", P.encode_info(P.INFO_RATE_MHZ))) == P.OK
    port = free_port()
    bridge = subprocess.Popen([sys.executable, "-m", "spasmwatch.transport.cdcbridge", "--band", band.address, "--port", str(port),
                               "--bond-file", str(tmp_path / "bridge-bonds.json")], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert bridge.stdout is not None and bridge.stdout.readline().startswith("serving the band at ")
        usb = f"socket://127.0.0.1:{port}"
        config = tmp_path / "config.toml"
        config.write_text(f'[daemon]\ndata_dir = "{tmp_path / "data"}"\n\n[daemon.http]\nport = {free_port()}\n\n'
                          f'[[bands]]\nname = "crib"\ntransport = "serial"\nport = "{usb}"\n')  # fmt: skip
        words = (f"spasmwatch bonds: error: crib is on USB (transport = \"serial\"): this computer holds no bond there, so the band "
                 "cannot tell this computer's bond from another phone's or computer's; its bonds are neither counted nor removed "
                 "over USB. To count them and remove the others, connect it over Bluetooth (transport = \"ble\") and run "
                 f"'spasmwatch bonds' again. To remove every bond meanwhile: 'spasmwatch board forget-bonds --port {usb}' with the "
                 "daemon stopped (it holds the port); the band then bonds the next phone or computer that pairs, so pair this "
                 "computer over Bluetooth soon after.\n")  # fmt: skip
        alone = subprocess.run([sys.executable, "-m", "spasmwatch", "bonds", "--config", str(config)], capture_output=True, text=True, timeout=60)
        assert (alone.returncode, alone.stdout, alone.stderr) == (2, "", words)

        daemon = _Daemon(config)
        try:
            _until(daemon.connected, "link from the daemon over USB")
            for more in ((), ("--revoke-others",)):
                said = daemon.cli("bonds", *more)
                assert (said.returncode, said.stdout, said.stderr) == (2, "", words)
            assert daemon.other_bonds() == []
        finally:
            daemon.stop()
    finally:
        bridge.kill()
        bridge.wait()
    assert _other_bonds_rows(tmp_path / "data" / "spasmwatch.db") == []


def _bonded(flash: Path) -> int:
    """How many centrals the band's bonds.json keeps (the simulated stack keys each by its address)."""
    path = flash / "bonds.json"
    return len({k for _, k, _ in json.loads(path.read_text())}) if path.exists() else 0


def test_a_revoke_the_band_went_away_before_answering_is_said_maybe_done(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """The band removed the stranger's bond and went (switched off, out of reach) before its
    answer came. Old code: "band crib is not connected now (...): try again when it is in reach",
    as of a revocation that never reached it; the family could not tell it was done. Its return:
    the daemon's count clears other_bonds."""
    gate = tmp_path / "answer"
    kw: dict[str, Any] = {"hold": True, "speed": 1, "idle_exit_ms": 60000, "timeout_s": 150,
                          "firmware": revoke_answer_held(tmp_path, gate, after=True)}  # fmt: skip
    band = bands(**kw)
    assert asyncio.run(_command_as(band.address, tmp_path / "stranger-bonds.json", P.encode_info(P.INFO_RATE_MHZ))) == P.OK
    config = _config(tmp_path, band.address)
    config.write_text(config.read_text() + f"\n[daemon.http]\nport = {free_port()}\n")
    daemon = _Daemon(config)
    try:
        _until(daemon.other_bonds, "other_bonds alert")
        assert _bonded(band.flash) == 2
        cmd = [sys.executable, "-m", "spasmwatch", "bonds", "--revoke-others", "--config", str(config)]
        revoke = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=daemon.env)
        _until(lambda: _bonded(band.flash) == 1, "the stranger's bond removed")
        band.kill()  # its answer not sent
        out, err = revoke.communicate(timeout=60)
        assert (revoke.returncode, out) == (2, ""), err
        assert err.startswith("spasmwatch bonds: error: band crib is not connected now ("), err
        assert err.endswith("): try again when it is in reach. The band may have removed the other bonds before it went: "
                            "'spasmwatch bonds' says how many are left once it is back\n"), err  # fmt: skip
        assert [a["state"] for a in daemon.other_bonds()] == ["FAULT"]  # not known yet

        gate.touch()
        band = bands(port=band.port, **kw)
        _until(daemon.connected, "link from the daemon again")
        assert daemon.cli("bonds").stdout == "crib: 1 bonded: this computer\n"  # (after the daemon's own count)
        assert daemon.other_bonds() == []
    finally:
        daemon.stop()
    assert _other_bonds_rows(tmp_path / "data" / "spasmwatch.db") == ["FAULT", "OK"]


def _band_config(flash: Path) -> dict[str, Any]:
    path = flash / "config.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def test_a_stranger_s_settings_are_set_back_at_the_daemon_s_next_connection(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """A stranger bonded in the window set min_confidence to 100 (no spasm is logged: detection
    stopped for all the family can tell). Old code: the host never wrote that setting, so it held
    after the stranger went, and after 'bonds --revoke-others' too, while the family read "Only this
    computer is paired with the band now": no event stored all along. Now the daemon writes the
    settings it keeps (every one but the rate, which the session applies) at each connection."""
    band = bands(hold=True, speed=2, idle_exit_ms=60000, timeout_s=150)
    stranger = tmp_path / "stranger-bonds.json"
    assert asyncio.run(_command_as(band.address, stranger, P.encode_config(P.CFG_MIN_CONFIDENCE, 100))) == P.OK
    assert asyncio.run(_command_as(band.address, stranger, P.encode_config(P.CFG_LOW_BATTERY_PCT, 5))) == P.OK
    assert _band_config(band.flash)["min_confidence"] == 100
    config = _config(tmp_path, band.address)
    config.write_text(config.read_text() + f"\n[daemon.http]\nport = {free_port()}\n")
    daemon = _Daemon(config)
    try:
        _until(lambda: (_band_config(band.flash)["min_confidence"], _band_config(band.flash)["low_battery_pct"]) == (0, 15),
               "the settings written back")  # fmt: skip
        _until(lambda: _store_events(tmp_path / "data" / "spasmwatch.db") > 0, "a spasm stored")
    finally:
        daemon.stop()


# What 'status' says of a band whose firmware is not this computer's (page.firmware_old).
FIRMWARE_OLD = "  The band's firmware is not this computer's spasmwatch: flash it with this computer's ('spasmwatch flash'). It monitors meanwhile."
NOT_OURS_LOGGED = "is not this computer's spasmwatch's (build "


def _flashed_by_an_older_spasmwatch(tree: Path, root: Path) -> Path:
    """``tree`` flashed to a unix-port band at ``root`` as a spasmwatch from before build ids left it:
    its compiled files without the build module; the simulator's sim/ beside them, to run it."""
    link = open_unix_link(f"unix:{root}")
    try:
        flash(link, boards.load("xiao-esp32c3-lsm6dsox"), tree)
    finally:
        link.close()
    (root / "swbuild.mpy").unlink()
    shutil.copytree(tree / "sim", root / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_a_band_whose_firmware_is_not_this_computer_s_is_told_to_be_flashed_until_it_is(bands: Callable[..., SimBand], tmp_path: Path) -> None:
    """Found by the upgrade review h47: the band of a family who upgraded the computer but not the
    band was said only in the daemon's log. Review h47 told a firmware from before BONDS by its
    E_OPCODE, which no later change would be: every firmware says 0.1.0. Now each band reports the
    build id the flash wrote (fwbuild.py), and the daemon compares it with the one of the firmware
    it would flash at each connection: a band with none (flashed before build ids, here the
    firmware of 2026-12-06, which has no BONDS either), or another (a tree with one byte changed:
    older or newer alike) is to be flashed, on the page and in 'status', which names both builds;
    once it runs this computer's firmware, no longer. Logged once per change, not per connection."""
    before = tmp_path / "before-bonds"
    shutil.copytree(firmware_dir(), before, ignore=shutil.ignore_patterns("__pycache__"))
    wire = before / "swcore" / "wire.py"
    wire.write_text(wire.read_text().replace('    OP_BONDS: "<BBB",\n', ""))
    old = _flashed_by_an_older_spasmwatch(before, tmp_path / "old-band")
    other = tmp_path / "one-byte-changed"
    shutil.copytree(firmware_dir(), other, ignore=shutil.ignore_patterns("__pycache__"))
    (other / "band" / "bonds.py").write_bytes((other / "band" / "bonds.py").read_bytes() + b" ")
    ours = fwbuild.tree_build(firmware_dir())
    kw: dict[str, Any] = {"hold": True, "speed": 2, "idle_exit_ms": 60000, "timeout_s": 150}
    band = bands(firmware=old, **kw)
    config = _config(tmp_path, band.address)
    config.write_text(config.read_text() + f"\n[daemon.http]\nport = {free_port()}\n")
    daemon = _Daemon(config)

    def said() -> dict[str, Any]:
        return dict((daemon.status() or {"bands": [{}]})["bands"][0])

    try:
        _until(lambda: said().get("firmware_old") is True, "a firmware without a build id said")
        assert said()["firmware"] == "0.1.0" and (daemon.status() or {})["firmware_build"] == ours
        lines = daemon.cli("status").stdout.splitlines()
        assert FIRMWARE_OLD in lines and (
            f"  its firmware: 0.1.0 (no build id: flashed by a spasmwatch from before build ids); this computer's: build {ours}"
        ) in lines, lines
        band = _reconnect(daemon, bands, band, **{**kw, "firmware": old})  # the same band again: not logged again
        band = _reconnect(daemon, bands, band, **{**kw, "firmware": other})  # another build
        assert band.build is not None and band.build != ours
        _until(lambda: said().get("firmware") == f"0.1.0+{band.build}", "the other build read")
        assert said()["firmware_old"] is True
        assert f"  its firmware: 0.1.0+{band.build} (build {band.build}); this computer's: build {ours}" in daemon.cli("status").stdout.splitlines()
        band = _reconnect(daemon, bands, band, **kw)  # flashed with this computer's firmware, its flash kept
        _until(lambda: said().get("firmware_old") is False, "this computer's firmware seen")
        assert said()["firmware"] == f"0.1.0+{ours}"
        assert FIRMWARE_OLD not in daemon.cli("status").stdout.splitlines()
    finally:
        log = daemon.stop()
    assert log.count(NOT_OURS_LOGGED) == 2, log  # the build-less one (two connections) and the other build
    assert log.count("crib: its firmware (0.1.0) is not this computer's") == 1, log
    assert log.count("it runs this computer's firmware now") == 1, log
