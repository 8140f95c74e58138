"""``spasmwatch reload``: the running daemon applies its config file now, and says what happened.

It sends SIGHUP (what ``systemctl --user reload spasmwatch`` and ``kill -HUP`` do) to the daemon
serving this config, found by the pid in its store's lock, waits for the daemon's own report
(its /api/status, asked where the lock says it listens) and prints it: what changed, the keys only a restart applies, or why the edit
was NOT applied (the daemon then runs on the config it had). Exit 0: applied; 1: not applied, or
no report in time; 2: no daemon serves this config.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from spasmwatch.commands._daemon import DaemonNotRunning, add_config_arg, answers, api, daemon_config_of, page_not_up, serves
from spasmwatch.config import Config, default_config_path, existing_config
from spasmwatch.daemon import consts as K
from spasmwatch.daemon.lock import LockHolder, lock_held, lock_holder, same_file
from spasmwatch.errors import SpasmwatchError
from spasmwatch.words import cmd


def register(sub: Any) -> None:
    p = sub.add_parser("reload", help="apply the config file to the running daemon now and say what changed (or why not)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_config_arg(p)
    p.add_argument("--json", action="store_true", help="the outcome as JSON (the daemon's report, and the round trip in ms)")
    p.add_argument("--wait", type=float, default=K.RELOAD_WAIT_S, metavar="S",
                   help=f"how long to wait for the daemon's report (default {K.RELOAD_WAIT_S:g} s)")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.wait <= K.RELOAD_WAIT_MAX_S:  # (nan too)
        raise SpasmwatchError(f"--wait {args.wait:g}: give seconds above 0, at most {K.RELOAD_WAIT_MAX_S:g}")
    given = args.config is not None
    path = (existing_config(args.config) or default_config_path()).absolute()
    shown = Path(args.config) if given else path  # as the family typed it, in the commands suggested
    # The file need not load: the daemon says what is wrong, once reloaded. The daemon asked is the
    # one holding the store's lock, by its pid (``_daemon_holder``), and the answer is checked below.
    cfg = daemon_config_of(args, quiet=True, asks=False)
    held = _daemon_holder(cfg, path, cmd("run", shown, given))
    pid = held.pid
    try:
        before = api(cfg, "/api/status")
    except SpasmwatchError as e:
        return _page_not_up(pid, cfg) if held.address is None else _unread(pid, e)
    if held.address is None and not serves(before, cfg.store_path()):  # the port's holder: another config's daemon
        return _page_not_up(pid, cfg)
    if not isinstance(before.get("reload"), dict):
        raise SpasmwatchError(f"the daemon (pid {pid}) is older than 'spasmwatch reload' and cannot say how a reload went: "
                              "restart it once (it then reads the file), or send 'kill -HUP' and read its journal")  # fmt: skip
    wanted = before["reload"]["requested"] + 1
    t0 = time.perf_counter()
    _signal(pid)
    last = _wait(cfg, wanted, args.wait)
    round_ms = (time.perf_counter() - t0) * 1000
    if last is None:
        return _late(args, pid, path, round_ms)
    if args.json:
        json.dump({"pid": pid, "config": str(path), "round_trip_ms": round(round_ms, 1), **last}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(outcome_lines(last, cmd("reload", shown, given))))
    return 0 if last["applied"] else 1


def _unread(pid: int, e: SpasmwatchError) -> int:
    """The daemon serving the file does not answer (or refuses): an edit of [daemon.http] token,
    which only a start applies, or of its host or port with a daemon from before its lock said where
    it listens (``_daemon.daemon_config_of``). The rest is applied all the same."""
    _signal(pid)
    print(f"sent the reload to the daemon (pid {pid}), but cannot read how it went: {e}\n"
          "[daemon.http] host, port and token are read only when the daemon starts: restart it to apply them "
          "(then 'spasmwatch status' answers again)")  # fmt: skip
    return 1


def _page_not_up(pid: int, cfg: Config) -> int:
    """The daemon serving the file runs but its page does not listen yet (its lock has no address:
    the service's daemon waiting for a port another program holds, daemon/main.py ``_listen_later``):
    the reload goes by the pid all the same, said so, and why its report cannot be read. Until the
    cliedges review: 'no daemon answers', and to restart it for [daemon.http]. (The file's port is
    asked first: a daemon from before 2026-12-05 listens there without saying so in its lock.)"""
    _signal(pid)
    print(f"sent the reload to the daemon (pid {pid}), which runs, monitoring, but its web page is not up yet, so how the reload "
          f"went cannot be read: {page_not_up(cfg.daemon.http)}. It applies the file now; its log says what changed, and once the page "
          "listens 'spasmwatch status' shows an edit it refused")  # fmt: skip
    return 1


def _daemon_holder(cfg: Config, path: Path, start: str) -> LockHolder:
    """What the lock of the daemon serving ``path`` says (its pid, where it listens); the reason when none serves it."""
    store = cfg.store_path()
    held = lock_holder(store)
    if held is None:
        if lock_held(store):  # (it said 'started from another config' of the daemon a full disk kept silent)
            raise DaemonNotRunning(f"a daemon holds {store}.lock but could not write its pid there (is the disk full? it writes "
                                   f"it once there is space and its store opens, tried every {K.STORE_RETRY_S:g} s), or is "
                                   "starting: no pid to send the reload to; try again then, or restart it")  # fmt: skip
        if not answers(cfg):
            from spasmwatch.commands.service import systemctl_for

            ctl = systemctl_for(path)  # the service only when one is installed for this file
            service = f" (or '{ctl} start spasmwatch', the service installed for it)" if ctl else ""
            raise DaemonNotRunning(f"no daemon runs on {path.name} (nothing holds {store}.lock): start it with "
                                   f"'{start}'{service}: it reads the file as it starts")  # fmt: skip
        raise DaemonNotRunning(f"a daemon answers on port {cfg.daemon.http.port}, but none runs on this config's store ({store}): "
                               f"it was started from another config (or on another computer); reload that one, or restart it with --config {path}")  # fmt: skip
    pid, serves = held.pid, held.config
    if not held.here:  # its pid is of another PID namespace: here another process's, or none
        raise SpasmwatchError(f"the daemon on this store runs outside this container (pid {pid} in its own PID namespace): no "
                              "process here to send the reload to; run 'spasmwatch reload' where it runs")  # fmt: skip
    if not same_file(serves, path):
        what = f"reloads {serves}" if serves else "was not started from a file (it cannot reload one)"
        raise SpasmwatchError(f"the daemon on this store (pid {pid}) {what}, not {path}: edit that file and reload, "
                              f"or restart the daemon with --config {path}")  # fmt: skip
    return held


def _signal(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise DaemonNotRunning(f"the daemon (pid {pid}) has just stopped: start it again") from None
    except PermissionError:
        raise SpasmwatchError(f"not allowed to signal the daemon (pid {pid}: another user's, the system service?): "
                              "'sudo systemctl reload spasmwatch' applies the file, then 'spasmwatch status' shows whether it loaded") from None  # fmt: skip


def _wait(cfg: Config, wanted: int, wait_s: float) -> dict[str, Any] | None:
    """The daemon's report of a reload that read the file after our SIGHUP, or None after ``wait_s``."""
    end = time.monotonic() + wait_s
    while True:
        last = api(cfg, "/api/status")["reload"]["last"]
        if last is not None and last["covers"] >= wanted:
            return last  # type: ignore[no-any-return]
        if time.monotonic() >= end:
            return None
        time.sleep(K.RELOAD_POLL_S)


def _late(args: argparse.Namespace, pid: int, path: Path, round_ms: float) -> int:
    msg = (f"the daemon (pid {pid}) took SIGHUP but has not reported the reload within {args.wait:g} s: it may still be applying "
           f"{path.name}; 'spasmwatch status' shows a refused edit, the journal (or run's log) says what it did")  # fmt: skip
    if args.json:
        json.dump({"pid": pid, "config": str(path), "round_trip_ms": round(round_ms, 1), "applied": None, "error": msg}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(msg)
    return 1


def outcome_lines(last: dict[str, Any], again: str) -> list[str]:
    """The daemon's report of a reload for a person; ``again``: this command, to run after a fix."""
    if not last["applied"]:
        return [f"NOT applied, the daemon runs on the config it had: {last['error']}", f"fix it and run '{again}' again"]
    took = f"reloaded in {last['ms']:.0f} ms" if last["ms"] >= 1 else f"reloaded in {last['ms']:.1f} ms"
    lines = [f"{took}: {'; '.join(last['changes']) or 'nothing changed'}"]
    if last["cleared"]:
        lines.append("the earlier config error is cleared")
    if last["needs_restart"]:
        lines.append(f"needs a restart: {', '.join(last['needs_restart'])} (read only when the daemon starts; it runs on the value it started with)")
    return lines
