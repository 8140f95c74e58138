"""``spasmwatch service``: keep the daemon running with systemd (start at boot, restart on a
crash or a hang), as a user service: install, remove, or show the unit."""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spasmwatch import __version__
from spasmwatch.commands._daemon import add_config_arg
from spasmwatch.config import default_config_path, existing_config, load_config, write_atomic
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.lock import LockHolder, StoreInUse, held_by, lock_holder, same_file
from spasmwatch.errors import SpasmwatchError
from spasmwatch.firstrun import no_band_message

UNIT_NAME = "spasmwatch.service"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")  # where 'service show --system' says to put it
# The first line of every unit this command writes: how it knows its own (and only its own) to
# write over or remove.
HEADER = "# Written by 'spasmwatch service install'"
# Carried into the unit when set at install (a user manager has not the shell's): without them the
# daemon would use another store than the one 'spasmwatch events' and 'export' read (XDG_DATA_HOME:
# the default store's folder), and another record of its stores than the one 'spasmwatch store
# adopt' writes (XDG_STATE_HOME: store/known.py).
CARRIED_ENV = ("SPASMWATCH_DATA_DIR", "XDG_DATA_HOME", "XDG_STATE_HOME")
SYSTEMCTL_TIMEOUT_S = 120.0  # 'enable --now' waits for READY=1 (a start takes seconds)
# What a system unit's ProtectSystem=full makes read-only (systemd.exec(5)): given only when the
# store's folder is under none of them (the daemon writes its store, raw/, backups and lock there).
READ_ONLY_UNDER_FULL = ("/usr", "/boot", "/efi", "/etc")


class ServiceError(SpasmwatchError):
    """The unit could not be written, removed, or started."""


@dataclass(frozen=True)
class Unit:
    """What the unit says: the daemon's command line and what the service manager needs."""

    argv: tuple[str, ...]  # ExecStart, absolute
    environment: tuple[tuple[str, str], ...] = ()
    stop_timeout_s: int = 120
    system_user: str | None = None  # a system-wide unit running as this user (None: a user unit)
    store_folder: Path | None = None  # the store's folder: a system unit starts after its disk's mount


def register(sub: Any) -> None:
    p = sub.add_parser("service", help="start the daemon at boot, restart it on a crash or hang (systemd user service)", description=__doc__)
    ssub = p.add_subparsers(dest="action", metavar="ACTION")
    i = ssub.add_parser("install", help="write the systemd user unit, then enable and start it", description=install.__doc__)
    add_config_arg(i)
    i.add_argument("--no-start", action="store_true", help="only write the unit (no systemctl): start it yourself later")
    r = ssub.add_parser("remove", help="stop, disable and delete the unit this command wrote", description=remove.__doc__)
    r.add_argument("--no-stop", action="store_true", help="only delete the unit file (no systemctl): when you stopped it yourself")
    s = ssub.add_parser("show", help="print the unit without installing it", description=show.__doc__)
    add_config_arg(s)
    s.add_argument("--system", action="store_true", help="a system-wide unit (/etc/systemd/system) running as you, instead of a user unit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    action = args.action or "show"
    if action == "install":
        return install(args)
    if action == "remove":
        return remove(args)
    return show(args)


# --- the unit text (pure) -----------------------------------------------------------------


def unit_text(unit: Unit) -> str:
    """The unit file for ``unit``: a user unit (``systemctl --user``), or a system one when
    ``unit.system_user`` is set."""
    system = unit.system_user is not None
    lines = [
        f"{HEADER} (spasmwatch {__version__}): 'spasmwatch service remove' removes it.",
        "# Change the config file, not this one; run 'spasmwatch service install' again after moving",
        "# spasmwatch or its config. What each setting is for: docs/host.md, 'Keep it running'.",
        "[Unit]",
        "Description=spasmwatch daemon: infantile spasm monitor (bands, alarms, web page)",
    ]
    if system:  # a user manager cannot order itself after system units; a system unit can
        lines += ["After=bluetooth.target network-online.target", "Wants=network-online.target"]
        if unit.store_folder is not None:
            # After the mount of the store's disk (an fstab entry) at boot: not RequiresMountsFor=,
            # whose Requires= would keep the daemon from starting when the disk fails to mount, and
            # stop it when the disk is unmounted: it monitors without its store (docs/store.md).
            lines += ["After=" + " ".join(mount_units(unit.store_folder))]
    lines += [
        "",
        "[Service]",
        # notify: 'start' returns once the store is open and the web page listens, and the
        # watchdog below works (daemon/notify.py)
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={exec_line(unit.argv)}",
        # 'systemctl reload' applies a config edit without a restart (the bands stay connected); a
        # bad edit leaves the daemon on the config it had (daemon/reload.py)
        "ExecReload=/bin/kill -HUP $MAINPID",
    ]
    lines += [f"Environment={_quote(f'{k}={v}', variables=False)}" for k, v in unit.environment]
    lines += ["Environment=PYTHONUNBUFFERED=1"]
    if system:
        lines += [f"User={unit.system_user}"]
    lines += [
        # Cheap hardening that needs no namespace, so a user manager applies it too: what the daemon
        # creates is the user's alone whatever its code asks (private.py asks so already), and
        # nothing it runs (the sound command) gains privileges by a setuid program.
        "UMask=0077",
        "NoNewPrivileges=yes",
    ]
    if system:
        lines += system_hardening(unit.store_folder)
    lines += [
        # always: the only stop meant is 'systemctl stop', which is never restarted; a stray
        # SIGTERM (exit 0) would leave the baby unwatched under on-failure. A stop cut short at its
        # deadline (STOP_DEADLINE_EXIT, daemon/stopping.py) is restarted as any other end; after
        # 'systemctl stop' it leaves the service failed: no SuccessExitStatus=, a hung stop is to be seen
        "Restart=always",
        f"RestartSec={K.RESTART_SEC}",
        f"WatchdogSec={K.WATCHDOG_SEC}",
        f"TimeoutStopSec={unit.stop_timeout_s}",
        "",
        "[Install]",
        f"WantedBy={'multi-user.target' if system else 'default.target'}",
        "",
    ]
    return "\n".join(lines)


def system_hardening(store_folder: Path | None) -> list[str]:
    """A system unit's sandbox (a user manager's would need user namespaces, which some systems
    refuse: the unit would not start). The system's own folders read-only (ProtectSystem=full) when
    the store is not in one (a config under /etc still loads: its fingerprint key is then kept in
    the state folder, fingerprint_key.py), and the kernel's settings, modules and cgroups out of
    reach. Not PrivateTmp=: a daemon that cannot write in its data folder keeps its lock in /tmp
    (daemon/lock.py), where 'spasmwatch status' must find it; nor ProtectHome=: the store, the
    config and the state folder are in the home."""
    folder = None if store_folder is None else os.path.abspath(store_folder)
    protect = folder is not None and not any(folder == d or folder.startswith(d + "/") for d in READ_ONLY_UNDER_FULL)
    return (["ProtectSystem=full"] if protect else []) + [
        "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectControlGroups=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes",
    ]  # fmt: skip


def mount_units(folder: Path) -> list[str]:
    """The mount units that may hold ``folder``: one per folder on its path from the root's first
    (the root itself is mounted before any service), named as systemd names a mount point
    ('systemd-escape --path --suffix=mount'): '/' between names is '-', a byte other than a
    letter, a digit, ':', '_' or '.' (a '.' first too) is \\xNN."""
    parts = list(Path(os.path.abspath(folder)).parts[1:])
    return [_escape_path(parts[: i + 1]) + ".mount" for i in range(len(parts))]


def _escape_path(names: list[str]) -> str:
    text = "-".join("".join(_escape_char(c) for c in name) for name in names)
    return "\\x2e" + text[1:] if text.startswith(".") else text


def _escape_char(c: str) -> str:
    if c.isascii() and (c.isalnum() or c in ":_."):
        return c
    return "".join(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogateescape"))


def _quote(arg: str, variables: bool = True) -> str:
    """One word of an ExecStart= (or Environment=) line: '%' starts a systemd specifier, and in
    ExecStart='s arguments (``variables``; not its program, nor Environment=) '$' a variable:
    each doubled to stay literal; quoted when it holds a space, a quote, a backslash or ';'."""
    word = arg.replace("%", "%%")
    if variables:
        word = word.replace("$", "$$")
    if word and not any(c in word for c in " \t\"'\\;"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def exec_line(argv: tuple[str, ...]) -> str:
    """ExecStart='s value (systemd expands '$' in the arguments only: checked with
    systemd-analyze verify, which found '$$' in the program's path not undone)."""
    return " ".join([_quote(argv[0], variables=False)] + [_quote(a) for a in argv[1:]])


def stop_timeout_s() -> int:
    """TimeoutStopSec: the worst of a stop (K.STOP_MARGIN_S): one network delivery's retries, then
    MQTT's wait for acknowledgements, plus the margin."""
    from spasmwatch.alerts.channels.dispatch import RetrySettings
    from spasmwatch.alerts.channels.mqtt import MqttSettings

    r = RetrySettings()
    delivery_s = r.attempts * r.attempt_timeout_s + sum(r.delay_s(a) for a in range(1, r.attempts))
    return int(delivery_s + MqttSettings(host="").timeout_s + K.STOP_MARGIN_S + 0.999)


# --- what is installed ----------------------------------------------------------------------


def unit_dir() -> Path:
    """Where systemd looks for a user's own units: $XDG_CONFIG_HOME/systemd/user (a relative
    XDG_CONFIG_HOME is ignored, as the XDG spec says), else ~/.config/systemd/user."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".config") / "systemd" / "user"


def daemon_argv(config: Path) -> tuple[str, ...]:
    """``spasmwatch run --config CONFIG`` with absolute paths: the console script beside this
    interpreter (a venv's bin/), else this interpreter with ``-m spasmwatch`` (a pip --user install)."""
    script = Path(sys.executable).parent / "spasmwatch"  # not resolved: a venv's python is a symlink
    start = (str(script),) if os.access(script, os.X_OK) else (sys.executable, "-m", "spasmwatch")
    return start + ("run", "--config", str(config.absolute()))


def checked_config(arg: Path | None) -> Path:
    """The config the daemon will run with, checked now: a unit whose daemon cannot start would
    be restarted every RestartSec all night without a word to the family."""
    path = existing_config(arg) or default_config_path()
    if "\n" in str(path.absolute()) or "\n" in sys.executable:  # a unit's line ends there
        raise ServiceError(f"{str(path.absolute())!r} or {sys.executable!r}: a path with a line break cannot go in a unit")
    if not path.is_file() or not load_config(path).bands:
        raise ServiceError(no_band_message(path, arg is not None))
    return path.absolute()


def unit_for(args: argparse.Namespace, system: bool = False) -> Unit:
    # Folders, absolute as they are here: the unit's daemon runs in its own working folder (a user
    # unit's: the home; a system unit's: /), where a relative one named another store.
    env = tuple((k, os.path.abspath(os.environ[k])) for k in CARRIED_ENV if os.environ.get(k))
    config = checked_config(args.config)
    folder = Path(os.path.abspath(load_config(config).store_path().parent))
    return Unit(daemon_argv(config), env, stop_timeout_s(), getpass.getuser() if system else None, folder)


def is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().startswith(HEADER)
    except OSError:
        return False


def systemctl_for(config: Path) -> str | None:
    """How to reload (or start) the service that runs ``config``: "systemctl --user" for the user unit
    'service install' wrote, "sudo systemctl" for the system one 'service show --system' printed
    (installed as printed); None when neither runs this config."""
    tail = f" --config {_quote(str(config.absolute()))}"
    for folder, ctl in ((unit_dir(), "systemctl --user"), (SYSTEM_UNIT_DIR, "sudo systemctl")):
        unit = folder / UNIT_NAME
        if is_ours(unit):
            lines = unit.read_text(encoding="utf-8", errors="replace").splitlines()
            if any(line.startswith("ExecStart=") and line.endswith(tail) for line in lines):
                return ctl
    return None


def service_of(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The systemctl that stops the daemon ``pid`` when it runs as our unit ("systemctl --user", or
    "sudo systemctl" for the system one), else None: started by hand (or not Linux). Its cgroup
    says so, not the unit file: a 'spasmwatch run' started by hand on the config a service was
    installed for is not stopped by systemctl."""
    try:
        groups = (proc / str(pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in groups:
        group = line.rpartition(":")[2]
        if group.endswith("/" + UNIT_NAME):
            return "systemctl --user" if "/user@" in group else "sudo systemctl"
    return None


def in_use(e: StoreInUse, proc: Path = Path("/proc")) -> str:
    """'Another daemon is using the store' for a family: which one (its lock: pid, config, where it
    listens), that 'spasmwatch status' talks to it, and how to stop it, should this one run
    instead (the message said 'stop it first', with no pid and no way)."""
    held = e.holder
    if held is None and e.unread_pid is not None:  # another account's, its lock unreadable: the kernel's flocks gave its pid
        ctl = service_of(e.unread_pid, proc)
        return (f"another spasmwatch daemon is using {e.store_path} (pid {e.unread_pid}, another account's: its lock, which this "
                f"user may not read, says no more; a 'sudo spasmwatch run'?). To run this one instead, stop that one first: "
                f"'{ctl or 'sudo kill'} {'stop spasmwatch' if ctl else e.unread_pid}'")  # fmt: skip
    if held is None and e.folder_held:  # its lock in runtime folders this process does not see (daemon/lock.py _hold_store_folder)
        return (f"another spasmwatch daemon is using {e.store_path}: it holds the store's folder locked, its own lock being in "
                "runtime folders not seen here (it could not write in the data folder: another container sharing it, with a "
                "/tmp of its own?). 'spasmwatch status' where it runs talks to it; to run this one instead, stop it there first")  # fmt: skip
    if held is None:  # it had not written its pid yet: it is starting (or could not: a full disk, daemon/lock.py)
        return (f"another spasmwatch daemon is starting on {e.store_path} (or runs and could not write its pid there: "
                "is the disk full?): 'spasmwatch status' talks to it once it is up")  # fmt: skip
    config = f" --config {shlex.quote(held.config)}" if held.config and not same_file(held.config, default_config_path()) else ""
    return (
        f"another spasmwatch daemon is using {e.store_path}{held_by(held)}.\n"
        f"  'spasmwatch status{config}' talks to the one running: another is not needed.\n"
        f"  To run this one instead, stop that one first: {how_to_stop(held, proc)}."
    )


def how_to_stop(held: LockHolder, proc: Path = Path("/proc")) -> str:
    """How the family stops the daemon whose lock says ``held``: the service's command, Ctrl+C or kill."""
    ctl = service_of(held.pid, proc) if held.here else None
    return (
        f"it runs as the spasmwatch service: '{ctl} stop spasmwatch' (it starts again at the next boot; 'spasmwatch service remove' ends that)"
        if ctl else f"it was started by hand: press Ctrl+C in the terminal where it runs, or 'kill {held.pid}'"
    ) if held.here else "stop it where it runs (no process here has its pid: this command runs in a container)"  # fmt: skip


def _check_ours(path: Path, doing: str) -> None:
    if (path.exists() or path.is_symlink()) and not is_ours(path):
        raise ServiceError(f"{path}: exists and was not written by 'spasmwatch service install': not {doing} (move it away first)")


def _write_unit(path: Path, text: str) -> None:
    try:
        write_atomic(path, text, 0o644)
    except OSError as exc:
        raise ServiceError(f"{path}: cannot write: {exc.strerror or exc}") from exc


# --- systemctl ------------------------------------------------------------------------------

LINGER_HINT = (
    "to start it at boot with nobody logged in (and keep it running after you log out), "
    "run once: sudo loginctl enable-linger $USER"
)


def systemctl(*args: str) -> str | None:
    """Run ``systemctl --user ARGS``; None when it worked, else why not (its own words)."""
    exe = shutil.which("systemctl")
    if exe is None:
        return "systemctl not found (is this a systemd system? 'spasmwatch service show' prints the unit for another init)"
    try:
        r = subprocess.run([exe, "--user", *args], capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"'systemctl --user {' '.join(args)}' did not finish within {SYSTEMCTL_TIMEOUT_S:g} s"
    if r.returncode != 0:
        said = " ".join((r.stderr or r.stdout).split()) or f"exit code {r.returncode}"
        why = f"'systemctl --user {' '.join(args)}' failed: {said}"
        if "bus" in said.lower():  # no user manager: ssh or su without lingering, a container
            why += " (no systemd user manager can be reached from this shell)"
        return why
    return None


def _lingering() -> bool:
    """Whether logind starts this user's manager at boot (what 'loginctl enable-linger' sets)."""
    return Path("/var/lib/systemd/linger", getpass.getuser()).exists()


# --- the actions ----------------------------------------------------------------------------


def install(args: argparse.Namespace) -> int:
    """Write ~/.config/systemd/user/spasmwatch.service (respecting $XDG_CONFIG_HOME) to run
    'spasmwatch run --config CONFIG' with this installation, restarted on a crash, a hang
    (watchdog) or any exit not asked for; then 'systemctl --user daemon-reload' and
    'enable --now' it. Only a unit this command wrote is written over. If systemctl cannot
    reach your user manager (e.g. over ssh), the unit stays written and the commands to
    run are printed."""
    unit = unit_for(args)
    path = unit_dir() / UNIT_NAME
    _check_ours(path, "written over")
    by_hand = _started_by_hand(Path(unit.argv[-1]))
    if by_hand is not None and not args.no_start:
        raise ServiceError(f"{by_hand}, then run 'spasmwatch service install' again (nothing was written)")
    _write_unit(path, unit_text(unit))
    print(f"wrote {path}\n  it runs: {shlex.join(unit.argv)}")
    start = [("daemon-reload",), ("enable", "--now", UNIT_NAME)]
    if args.no_start:
        if by_hand is not None:
            print(f"note: {by_hand}, before you start the service")
        print("not started (--no-start); to start it now and at every boot:")
        print("".join(f"  systemctl --user {' '.join(a)}\n" for a in start), end="")
        if not _lingering():
            print(LINGER_HINT)
        return 0
    for a in start:
        why = systemctl(*a)
        if why is not None:
            raise ServiceError(
                f"{why}\n  The unit is written ({path}); to start it, in a login session on this machine "
                f"(a desktop or a console, where your user manager runs) run:\n"
                + "".join(f"    systemctl --user {' '.join(b)}\n" for b in start)
                + f"  and, {LINGER_HINT}"
            )
        print(f"systemctl --user {' '.join(a)}: done")
    print("spasmwatch is running and starts at every boot; its log: journalctl --user -u spasmwatch")
    if not _lingering():
        print(f"note: {LINGER_HINT}")
    return 0


def _started_by_hand(config: Path) -> str | None:
    """Why the service's daemon could not start now: a 'spasmwatch run' started by hand holds the
    store the unit's config names (its lock says; daemon/lock.py), else None. The unit was written
    and enabled without a word, and its daemon failed on the lock and was restarted every
    RestartSec until the other stopped. That one is the family's to stop, never this command's:
    it may be watching the baby now."""
    held = lock_holder(load_config(config).store_path())
    if held is None or (held.here and service_of(held.pid) is not None):  # none, or our service itself: an install again
        return None
    stop = f"press Ctrl+C in the terminal where it runs, or 'kill {held.pid}'" if held.here else "it runs outside this container, stop it there"
    return (
        f"a 'spasmwatch run' started by hand is using the store{held_by(held)}: the service's daemon cannot start "
        f"beside it (systemd would retry every {K.RESTART_SEC} s). Stop it first: {stop}"
    )


def remove(args: argparse.Namespace) -> int:
    """Stop and disable the daemon's unit ('systemctl --user disable --now'), then delete it;
    only a unit 'spasmwatch service install' wrote."""
    path = unit_dir() / UNIT_NAME
    if not (path.exists() or path.is_symlink()):
        print(f"no {path}: nothing to remove")
        return 0
    _check_ours(path, "removed")
    if not args.no_stop:
        why = systemctl("disable", "--now", UNIT_NAME)
        if why is not None:
            raise ServiceError(
                f"{why}\n  The unit is left in place ({path}): in a login session on this machine run\n"
                f"    systemctl --user disable --now {UNIT_NAME}\n"
                "  then 'spasmwatch service remove --no-stop'"
            )
        print(f"systemctl --user disable --now {UNIT_NAME}: done")
    try:
        path.unlink()
    except OSError as exc:
        raise ServiceError(f"{path}: cannot remove: {exc.strerror or exc}") from exc
    print(f"removed {path}")
    if not args.no_stop and systemctl("daemon-reload") is None:
        print("systemctl --user daemon-reload: done")
    return 0


def show(args: argparse.Namespace) -> int:
    """Print the unit 'install' would write, without writing it: for another init, or (--system)
    as a system-wide unit: save it as /etc/systemd/system/spasmwatch.service, then
    'sudo systemctl daemon-reload && sudo systemctl enable --now spasmwatch'."""
    print(unit_text(unit_for(args, system=getattr(args, "system", False))), end="")
    return 0

