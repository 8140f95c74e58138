"""``spasmwatch service`` and the daemon under a service manager's notify protocol.

Real parts: the unit is checked by systemd's own ``systemd-analyze verify``; the daemon is the
command line of the generated unit's ExecStart, run as a process on a simulated band
(the real firmware under micropython) with NOTIFY_SOCKET on a real AF_UNIX datagram socket
the test binds, as systemd's manager would. Not here: a systemd user manager (none runs in
this container), so enable/start and restart by systemd itself are not tested (docs/host.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import free_port

from spasmwatch.commands.service import HEADER, Unit, mount_units, unit_for, unit_text
from spasmwatch.config import load_config
from spasmwatch.daemon.lock import lock_holder
from spasmwatch.daemon.main import serve
from spasmwatch.transport.simband import SimBand

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
WATCHDOG_USEC = 1_000_000  # pings every 0.5 s


def run_cli(*args: str, env: dict[str, str], python: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(python or sys.executable), "-m", "spasmwatch", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def no_user_manager_env(tmp: Path) -> dict[str, str]:
    """The environment of a shell with no systemd user manager to reach (as this container, or
    ssh without lingering): also on a developer's desktop, so a test never installs anything."""
    runtime = tmp / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "NOTIFY_SOCKET", "SPASMWATCH_CONFIG")}
    return dict(env, XDG_CONFIG_HOME=str(tmp / "xdg"), XDG_RUNTIME_DIR=str(runtime), SPASMWATCH_DATA_DIR=str(tmp / "data"))


def write_config(folder: Path, address: str, port: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "config.toml"
    cfg.write_text(
        f'[daemon.http]\nport = {port}\n\n[[bands]]\nname = "crib"\ntransport = "sim"\naddress = "{address}"\n\n'
        "[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n"
    )
    return cfg


def systemd_analyze() -> str:
    if not os.access(SYSTEMD_ANALYZE, os.X_OK):
        pytest.fail(f"{SYSTEMD_ANALYZE} is missing (Debian package 'systemd'): run make install (tools/install-system-deps)")
    return SYSTEMD_ANALYZE


def verify(unit: Path, env: dict[str, str], system: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [systemd_analyze(), *([] if system else ["--user"]), "verify", str(unit)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def exec_start(text: str) -> list[str]:
    """ExecStart's words as systemd reads them: C-style quotes, '%%' for '%', and in the
    arguments (not the program: systemd-analyze says so) '$$' for '$'."""
    (line,) = [x for x in text.splitlines() if x.startswith("ExecStart=")]
    words = [w.replace("%%", "%") for w in shlex.split(line.removeprefix("ExecStart="), posix=True)]
    return words[:1] + [w.replace("$$", "$") for w in words[1:]]


ODD = "night 100% $HOME"  # a space, a systemd specifier ('%') and a variable ('$')


@pytest.fixture
def odd_venv(tmp_path: Path) -> Path:
    """This venv again, at a path only right quoting survives: its python (a symlink, as a venv's
    is), its site-packages, its spasmwatch script. systemd-analyze checks that the unit's
    program is an executable file: the check of the quoting by systemd itself."""
    real = Path(sys.executable).parent.parent
    venv = tmp_path / f"venv {ODD}"
    (venv / "bin").mkdir(parents=True)
    shutil.copy(real / "pyvenv.cfg", venv / "pyvenv.cfg")
    (venv / "lib").symlink_to(real / "lib")
    (venv / "bin" / "python").symlink_to(sys.executable)
    shutil.copy(real / "bin" / "spasmwatch", venv / "bin" / "spasmwatch")
    return venv / "bin" / "python"


def setting(text: str, key: str) -> str:
    (line,) = [x for x in text.splitlines() if x.startswith(key + "=")]
    return line.split("=", 1)[1]


# --- the unit ---------------------------------------------------------------------------------


def test_unit_text_quotes_every_word_as_systemd_reads_it(tmp_path: Path, odd_venv: Path) -> None:
    """The pure function, directly: awkward words come back whole from systemd's parser."""
    program = str(odd_venv.parent / "spasmwatch")
    args = ("run", "--config", f"/x/{ODD}/c.toml", 'say "hi"', "back\\slash", ";", "it's")
    text = unit_text(Unit((program, *args), (("SPASMWATCH_DATA_DIR", f"/d/{ODD}"),), 120))
    unit = tmp_path / "spasmwatch.service"
    unit.write_text(text)
    v = verify(unit, no_user_manager_env(tmp_path))
    assert v.returncode == 0 and v.stderr == "" and v.stdout == "", f"{v.stdout}{v.stderr}\n{text}"
    assert exec_start(text) == [program, *args]
    assert 'Environment="SPASMWATCH_DATA_DIR=/d/night 100%% $HOME"' in text  # no '$' expansion in Environment=
    assert text.startswith(HEADER) and "User=" not in text and unit_text(Unit((program,), (), 120, "nina")).count("User=nina") == 1


def test_the_unit_passes_systemd_analyze_and_its_exec_start_runs_this_install(tmp_path: Path, odd_venv: Path) -> None:
    env = dict(no_user_manager_env(tmp_path), SPASMWATCH_DATA_DIR=str(tmp_path / ODD / "usb-disk"))  # (its mount units' names escaped)
    cfg = write_config(tmp_path / ODD, "127.0.0.1:9", free_port())
    for system in (False, True):
        shown = run_cli("service", "show", "--config", str(cfg), *(["--system"] if system else []), env=env, python=odd_venv)
        assert shown.returncode == 0, shown.stderr
        unit = tmp_path / ("system" if system else "user") / "spasmwatch.service"
        unit.parent.mkdir()
        unit.write_text(shown.stdout)
        v = verify(unit, env, system)
        assert v.returncode == 0 and v.stderr == "" and v.stdout == "", f"systemd-analyze verify:\n{v.stdout}{v.stderr}\n{shown.stdout}"
        argv = exec_start(shown.stdout)
        assert argv == [str(odd_venv.parent / "spasmwatch"), "run", "--config", str(cfg)], argv
        assert setting(shown.stdout, "WantedBy") == ("multi-user.target" if system else "default.target")
        # The system unit starts after the mount of the store's disk (its folder: SPASMWATCH_DATA_DIR).
        mounts = [x.removeprefix("After=").split() for x in shown.stdout.splitlines() if x.startswith("After=") and ".mount" in x]
        assert mounts == ([mount_units(tmp_path / ODD / "usb-disk")] if system else []), shown.stdout
        # Hardening: a user manager's too (no namespace needed); the system unit's sandbox, its store
        # folder being under none of the folders ProtectSystem=full makes read-only.
        assert setting(shown.stdout, "UMask") == "0077" and setting(shown.stdout, "NoNewPrivileges") == "yes", shown.stdout
        sandbox = ["ProtectSystem", "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "RestrictSUIDSGID", "LockPersonality"]
        assert [k for k in sandbox if f"\n{k}=" in shown.stdout] == (sandbox if system else []), shown.stdout
        assert "PrivateTmp" not in shown.stdout and "ProtectHome" not in shown.stdout  # the lock's /tmp; the store in the home
    assert setting(shown.stdout, "ProtectSystem") == "full"
    text = shown.stdout
    assert setting(text, "Type") == "notify" and setting(text, "NotifyAccess") == "main" and setting(text, "Restart") == "always"
    assert setting(text, "WatchdogSec") == "30" and setting(text, "RestartSec") == "5"
    # A stop waits for a delivery's retries (87 s) and MQTT's acknowledgements (timeout_s 10 s).
    assert int(setting(text, "TimeoutStopSec")) >= 87 + 10
    helped = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert helped.returncode == 0 and "usage: spasmwatch run" in helped.stdout, helped.stderr


@pytest.mark.parametrize(("folder", "protected"), [
    ("/home/nina/.local/share/spasmwatch", True), ("/var/lib/spasmwatch", True), ("/media/usb/spasmwatch", True),
    ("/etcetera/spasmwatch", True),  # not under /etc
    ("/etc/spasmwatch", False), ("/usr/local/share/spasmwatch", False), ("/boot/../etc/x", False),
])  # fmt: skip
def test_a_system_unit_makes_the_system_read_only_unless_the_store_is_in_it(tmp_path: Path, folder: str, protected: bool) -> None:
    """ProtectSystem=full makes /usr, /boot, /efi and /etc read-only: a store in one would not open."""
    text = unit_text(Unit((sys.executable, "-m", "spasmwatch", "run"), (), 120, "nina", Path(folder)))
    assert ("ProtectSystem=full" in text.splitlines()) == protected
    unit = tmp_path / "spasmwatch.service"
    unit.write_text(text)
    v = verify(unit, no_user_manager_env(tmp_path), system=True)
    assert v.returncode == 0 and v.stderr == "" and v.stdout == "", f"{v.stdout}{v.stderr}\n{text}"


@pytest.mark.parametrize("folder", ["/media/usb-disk/.spasmwatch", f"/mnt/{ODD}/ü-x_y:z", "/srv//data/", "/.hidden/x"])
def test_the_store_folders_mount_units_are_named_as_systemd_names_them(folder: str) -> None:
    """A system unit is ordered after the mount units that may hold the store's folder (its disk
    mounted at boot before the daemon starts): named as systemd-escape names them, or the order
    names units that are never there."""
    escape = shutil.which("systemd-escape")
    assert escape is not None, "systemd-escape is missing (Debian package 'systemd')"
    prefixes = [str(Path(*Path(folder).parts[: i + 1])) for i in range(1, len(Path(folder).parts))]
    theirs = subprocess.run([escape, "--path", "--suffix=mount", *prefixes], capture_output=True, text=True, check=True).stdout.split()
    assert mount_units(Path(folder)) == theirs


def test_a_unit_with_a_wrong_key_fails_the_check(tmp_path: Path) -> None:
    """The check above can fail: systemd-analyze reports an unknown key (exit 0, a line on stderr)."""
    bad = tmp_path / "spasmwatch.service"
    bad.write_text("[Service]\nType=notify\nExecStart=/bin/true\nWatchdogSek=30\n")
    v = verify(bad, no_user_manager_env(tmp_path))
    assert "Unknown key 'WatchdogSek'" in v.stderr, v.stderr


# --- install / remove ---------------------------------------------------------------------------


def test_install_no_start_writes_the_unit_and_refuses_a_foreign_one(tmp_path: Path) -> None:
    env = no_user_manager_env(tmp_path)
    cfg = write_config(tmp_path / "cfg", "127.0.0.1:9", free_port())
    unit = tmp_path / "xdg" / "systemd" / "user" / "spasmwatch.service"

    typo = run_cli("service", "install", "--no-start", "--config", str(tmp_path / "cfg" / "confg.toml"), env=env)
    assert typo.returncode == 2 and f"--config: no such file {tmp_path}/cfg/confg.toml" in typo.stderr, typo.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    nobands = run_cli("service", "install", "--no-start", "--config", str(empty), env=env)
    assert nobands.returncode == 2 and f"{empty}: no [[bands]]" in nobands.stderr, nobands.stderr
    assert not unit.exists()

    r = run_cli("service", "install", "--no-start", "--config", str(cfg), env=env)
    assert r.returncode == 0, r.stderr
    assert f"wrote {unit}" in r.stdout and "systemctl --user enable --now spasmwatch.service" in r.stdout
    assert "loginctl enable-linger $USER" in r.stdout
    text = unit.read_text()
    assert text.startswith("# Written by 'spasmwatch service install'") and exec_start(text)[1:] == ["run", "--config", str(cfg)]
    assert f"Environment=SPASMWATCH_DATA_DIR={tmp_path}/data" in text  # the store the other commands read
    assert [p.name for p in unit.parent.iterdir()] == ["spasmwatch.service"], "no temporary file left"

    again = run_cli("service", "install", "--no-start", "--config", str(cfg), env=env)  # over its own: fine
    assert again.returncode == 0, again.stderr

    unit.write_text("[Service]\nExecStart=/usr/bin/my-own-thing\n")  # someone's own unit of that name
    refused = run_cli("service", "install", "--no-start", "--config", str(cfg), env=env)
    assert refused.returncode == 2 and f"{unit}: exists and was not written by 'spasmwatch service install'" in refused.stderr
    gone = run_cli("service", "remove", "--no-stop", env=env)
    assert gone.returncode == 2 and f"{unit}: exists and was not written by" in gone.stderr
    assert unit.read_text() == "[Service]\nExecStart=/usr/bin/my-own-thing\n", "a foreign unit is left alone"


def test_a_relative_data_dir_goes_into_the_unit_as_the_folder_it_names_where_install_ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPASMWATCH_DATA_DIR=usb/spasmwatch at install, in the folder the family ran it from. Old code:
    carried as it was, the unit's daemon read it from its own working folder (a user unit's: the home;
    a system unit's: /): a new, empty store there (the history looked gone, recorded as the daemon's
    from then on), while 'spasmwatch events' in the family's shell read the other one, and the unit
    was ordered after the mounts of the folder install saw."""
    cfg = write_config(tmp_path / "cfg", "127.0.0.1:9", free_port())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPASMWATCH_DATA_DIR", "usb/spasmwatch")
    unit = unit_for(argparse.Namespace(config=cfg), system=True)
    assert dict(unit.environment)["SPASMWATCH_DATA_DIR"] == f"{tmp_path}/usb/spasmwatch"
    assert unit.store_folder == tmp_path / "usb" / "spasmwatch"


def test_the_unit_carries_the_xdg_folders_the_store_and_its_record_are_found_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XDG_DATA_HOME (the default store's folder) and XDG_STATE_HOME (stores-opened.json, the record of
    the daemon's stores and their ids) set in the family's shell, which a user manager does not have.
    Old code: not carried, so 'spasmwatch store adopt' in that shell wrote a record the daemon never
    read ("adopted: the daemon opens it as its store"; the daemon went on refusing it), and the
    daemon's default store was another than the one 'spasmwatch events' read."""
    cfg = write_config(tmp_path / "cfg", "127.0.0.1:9", free_port())
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    unit = unit_for(argparse.Namespace(config=cfg))
    assert dict(unit.environment) == {"XDG_DATA_HOME": f"{tmp_path}/data", "XDG_STATE_HOME": f"{tmp_path}/state"}
    assert unit.store_folder == tmp_path / "data" / "spasmwatch"


def test_remove_deletes_only_its_own_unit(tmp_path: Path) -> None:
    env = no_user_manager_env(tmp_path)
    cfg = write_config(tmp_path / "cfg", "127.0.0.1:9", free_port())
    unit = tmp_path / "xdg" / "systemd" / "user" / "spasmwatch.service"
    assert run_cli("service", "install", "--no-start", "--config", str(cfg), env=env).returncode == 0
    # Without a user manager the stop cannot be done: the unit stays, and the way out is named.
    kept = run_cli("service", "remove", env=env)
    assert kept.returncode == 2 and unit.exists(), kept.stderr
    assert "systemctl --user disable --now spasmwatch.service" in kept.stderr and "remove --no-stop" in kept.stderr
    r = run_cli("service", "remove", "--no-stop", env=env)
    assert r.returncode == 0 and f"removed {unit}" in r.stdout and not unit.exists(), r.stderr
    twice = run_cli("service", "remove", "--no-stop", env=env)
    assert twice.returncode == 0 and "nothing to remove" in twice.stdout


def test_install_without_a_user_manager_says_so_and_keeps_the_unit(tmp_path: Path) -> None:
    """What this container (and ssh without lingering) gives: systemctl cannot reach a user bus.
    The unit stays written (it is valid; starting it is the one step left) and the error gives
    the exact commands and the linger hint. Without systemctl at all, the same."""
    env = no_user_manager_env(tmp_path)
    cfg = write_config(tmp_path / "cfg", "127.0.0.1:9", free_port())
    unit = tmp_path / "xdg" / "systemd" / "user" / "spasmwatch.service"
    if shutil.which("systemctl", path=env.get("PATH")) is None:
        pytest.fail("systemctl is missing (Debian package 'systemd'): run make install (tools/install-system-deps)")
    r = run_cli("service", "install", "--config", str(cfg), env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "'systemctl --user daemon-reload' failed: Failed to connect to bus" in r.stderr, r.stderr
    assert "systemctl --user daemon-reload\n    systemctl --user enable --now spasmwatch.service" in r.stderr
    assert "loginctl enable-linger $USER" in r.stderr and unit.exists()

    bare = dict(env, PATH=str(tmp_path / "empty-bin"))
    r = subprocess.run([sys.executable, "-m", "spasmwatch", "service", "install", "--config", str(cfg)], capture_output=True, text=True, timeout=60, env=bare)
    assert r.returncode == 2 and "systemctl not found" in r.stderr and "systemctl --user enable --now spasmwatch.service" in r.stderr, r.stderr


def test_install_while_a_run_by_hand_holds_the_store_says_to_stop_it_first(tmp_path: Path) -> None:
    """Found by the family audit: 'service install' beside a 'spasmwatch run' started by hand
    wrote and enabled the unit without a word; its daemon then failed on the store's lock and
    systemd restarted it every 5 s until the other stopped. Now nothing is written and the family
    is told to stop that one (the command never stops it: it may be watching the baby)."""
    env = no_user_manager_env(tmp_path)
    cfg = write_config(tmp_path / "cfg", f"127.0.0.1:{free_port()}", free_port())
    unit = tmp_path / "xdg" / "systemd" / "user" / "spasmwatch.service"
    by_hand = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(cfg)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        end = time.monotonic() + 30
        while (held := lock_holder(tmp_path / "data" / "spasmwatch.db")) is None or held.address is None:
            assert time.monotonic() < end and by_hand.poll() is None, "the daemon by hand did not start"
            time.sleep(0.05)
        r = run_cli("service", "install", "--config", str(cfg), env=env)
        stop = (f"a 'spasmwatch run' started by hand is using the store (pid {by_hand.pid}, started from {cfg}, listening on "
                f"127.0.0.1:{held.address[1]}): the service's daemon cannot start beside it (systemd would retry every 5 s). "
                f"Stop it first: press Ctrl+C in the terminal where it runs, or 'kill {by_hand.pid}'")
        assert r.returncode == 2 and r.stderr == f"spasmwatch service: error: {stop}, then run 'spasmwatch service install' again (nothing was written)\n", r.stderr
        assert not unit.exists() and by_hand.poll() is None, "nothing written, and the daemon by hand left running"
        only = run_cli("service", "install", "--no-start", "--config", str(cfg), env=env)  # only the unit: said, not refused
        assert only.returncode == 0 and unit.exists() and f"note: {stop}, before you start the service\n" in only.stdout, only.stdout + only.stderr
    finally:
        by_hand.terminate()
        by_hand.wait(20)
    after = run_cli("service", "install", "--no-start", "--config", str(cfg), env=env)
    assert after.returncode == 0 and "note:" not in after.stdout, after.stdout


# --- the daemon under the notify protocol ----------------------------------------------------


class Manager:
    """The service manager's side of sd_notify: a datagram socket, messages with arrival times."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.messages: list[tuple[float, str]] = []

    def read(self, timeout_s: float) -> None:
        """Everything that arrives within ``timeout_s``."""
        end = time.monotonic() + timeout_s
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
            except TimeoutError:
                return

    def wait_for(self, key: str, timeout_s: float, what: str, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> float:
        end = time.monotonic() + timeout_s
        while True:
            for t, m in self.messages:
                if key in m.split("\n"):
                    return t
            left = end - time.monotonic()
            if left <= 0 or (proc is not None and proc.poll() is not None):
                said = log.read_text() if log is not None else ""
                raise AssertionError(f"no {key} within {timeout_s} s ({what}); got {[m for _, m in self.messages]}\n{said}")
            self.sock.settimeout(min(left, 0.2))
            try:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
            except TimeoutError:
                pass

    def pings(self, after: float = 0.0, before: float = float("inf")) -> list[float]:
        return [t for t, m in self.messages if m == "WATCHDOG=1" and after <= t < before]


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Manager]:
    m = Manager(str(tmp_path / "notify.sock"))
    yield m
    m.sock.close()


def api_status(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
        return int(r.status)


def test_the_units_daemon_says_ready_pings_while_alive_and_stops_cleanly(
    tmp_path: Path, quick_cluster_csv: Path, manager: Manager, odd_venv: Path
) -> None:
    env = no_user_manager_env(tmp_path)
    band = SimBand(quick_cluster_csv, tmp_path / "flash", hold=True, speed=1, device_id="svc00001", idle_exit_ms=500, timeout_s=120)
    port = free_port()
    cfg = write_config(tmp_path / ODD, band.address, port)
    shown = run_cli("service", "show", "--config", str(cfg), env=env, python=odd_venv)
    assert shown.returncode == 0, shown.stderr
    argv = exec_start(shown.stdout)  # the daemon exactly as the unit starts it
    log = tmp_path / "daemon.log"
    denv = dict(env, NOTIFY_SOCKET=manager.sock.getsockname(), WATCHDOG_USEC=str(WATCHDOG_USEC))
    # Under the unit's hardening as systemd applies it: its UMask, and NoNewPrivileges (setpriv sets
    # the same prctl, then execs the daemon: its pid is the daemon's).
    assert setting(shown.stdout, "NoNewPrivileges") == "yes"
    t0 = time.monotonic()
    with open(log, "wb") as f:
        proc = subprocess.Popen(["setpriv", "--no-new-privs", *argv], stdout=f, stderr=f, env=denv, umask=int(setting(shown.stdout, "UMask"), 8))
    try:
        ready = manager.wait_for("READY=1", 60, "the daemon's start", proc, log)
        assert api_status(port) == 200, "READY=1 came before the web API answered"
        manager.read(3.0)
        pings = manager.pings(after=ready)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        # every WATCHDOG_USEC/2 = 0.5 s; a gap of WATCHDOG_USEC would be a watchdog kill
        assert len(pings) >= 5 and max(gaps) < WATCHDOG_USEC / 1e6, f"ping gaps {gaps}"
        # The band connects: STATUS follows the status line (systemctl status shows it).
        end = time.monotonic() + 30
        while not any(m.startswith("STATUS=[crib] connected") for _, m in manager.messages):
            assert time.monotonic() < end, [m for _, m in manager.messages if m.startswith("STATUS")]
            manager.read(0.2)
        statuses = [m for _, m in manager.messages if m.startswith("STATUS=")]
        assert len(statuses) == len(set(statuses)), f"STATUS on change only: {statuses}"

        # 'systemctl reload': the unit's ExecReload with $MAINPID as systemd sets it. The daemon
        # reloads its config and runs on (SIGHUP's default action would end it).
        (reload_line,) = [x for x in shown.stdout.splitlines() if x.startswith("ExecReload=")]
        assert reload_line == "ExecReload=/bin/kill -HUP $MAINPID"
        subprocess.run(shlex.split(reload_line.removeprefix("ExecReload=").replace("$MAINPID", str(proc.pid))), check=True)
        end = time.monotonic() + 30
        while "config reloaded from" not in log.read_text():
            assert time.monotonic() < end and proc.poll() is None, log.read_text()
            time.sleep(0.1)
        assert api_status(port) == 200

        # A hung process (stopped: no tick, no event loop) sends nothing; systemd would kill it.
        proc.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        manager.read(2.5)
        proc.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        assert manager.pings(stopped + 0.1, resumed) == []
        manager.read(1.5)
        assert len(manager.pings(after=resumed)) >= 2, "pings resume once the daemon runs again"

        proc.send_signal(signal.SIGTERM)
        sigterm = time.monotonic()
        stopping = manager.wait_for("STOPPING=1", 10, "the stop")
        assert proc.wait(30) == 0, log.read_text()
        made = list((tmp_path / "data").rglob("*"))
        assert made and not [p for p in made if p.stat().st_mode & 0o077], "the daemon's files are the user's alone"
    finally:
        if proc.poll() is None:
            proc.kill()
        band.kill()
    print(f"\nREADY {ready - t0:.2f} s after start; ping gaps {min(gaps):.2f}-{max(gaps):.2f} s; STOPPING {stopping - sigterm:.3f} s after SIGTERM")


def test_a_dead_ticker_stops_the_pings_while_the_loop_still_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pings follow the daemon's ticks, not a timer: with the ticker task dead (escalation
    and STALE checks would stop) the web page still answers, yet the pings stop within
    ``watchdog_late_s``, so systemd restarts the daemon. An abstract notify socket ('@')."""
    name = f"spasmwatch-svc-{os.getpid()}"
    manager = Manager("\0" + name)
    port = free_port()
    cfg = load_config(write_config(tmp_path / "cfg", f"127.0.0.1:{free_port()}", port))
    monkeypatch.setenv("SPASMWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # pings every 0.2 s
    seen: dict[str, object] = {}

    async def scenario() -> None:
        await asyncio.to_thread(manager.wait_for, "READY=1", 30, "the start")
        await asyncio.to_thread(manager.read, 1.0)
        seen["before"] = len(manager.pings())
        (ticker,) = [t for t in asyncio.all_tasks() if t.get_name() == "ticker"]
        ticker.cancel()
        killed = time.monotonic()
        await asyncio.to_thread(manager.read, 3.0)
        seen["late"] = manager.pings(after=killed + 1.0 + 0.6)  # late_s, then 2 s in which a timer would ping 7 times
        seen["api"] = await asyncio.to_thread(api_status, port)

    try:
        code = asyncio.run(serve(cfg, until=scenario, watchdog_late_s=1.0))
        manager.read(0.5)
    finally:
        manager.sock.close()
    assert code == 0 and seen["before"] >= 3, seen  # type: ignore[operator]
    assert seen["api"] == 200, "the event loop was alive"
    assert seen["late"] == [], f"pings went on without ticks: {seen['late']}"
    assert "STOPPING=1" in manager.messages[-1][1].split("\n"), manager.messages[-3:]
    assert "NOTIFY_SOCKET" not in os.environ and "WATCHDOG_USEC" not in os.environ, "not passed on to children"
