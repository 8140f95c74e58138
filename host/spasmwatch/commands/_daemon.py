"""What the daemon-facing subcommands share: the config, the store, the running daemon's API."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import re
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spasmwatch.clock import wall_text
from spasmwatch.config import Config, Http, bind_host, default_config_path, existing_config, is_default_config, load_config, reach_part
from spasmwatch.daemon.lock import LockHolder, lock_holder, same_file
from spasmwatch.daemon.stopping import last_stop_note
from spasmwatch.errors import ConfigError, SpasmwatchError
from spasmwatch.store import Store
from spasmwatch.tls import TlsError, client_context, load
from spasmwatch.words import cmd, in_quotes


class DaemonNotRunning(SpasmwatchError):
    pass


class TokenRefused(SpasmwatchError):
    """The daemon refused the request for its token (401): missing, or not the one it takes."""


class Refused(SpasmwatchError):
    """The daemon refused what was asked (``api``), in its words; ``code``: the one its answer
    names for a caller to act on (``"alert_over"``: an ack of an alert that had already ended,
    which 'spasmwatch ack' says calmly), None where it names none; ``answer``: its whole JSON
    answer (an alert over's ``acked_by``), {} when it was none."""

    def __init__(self, message: str, code: str | None = None, answer: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.answer = code, answer or {}


class DaemonSilent(DaemonNotRunning):
    """Something took the connection but sent no answer in time: a daemon stopped (SIGSTOP, a
    debugger), hung or slowed by a loaded machine; a request left with it may be served later."""


def sudo_note(euid: int, env: Mapping[str, str], config: Path) -> str | None:
    """What 'run' and 'config' say first when started with sudo by another user: the files made are
    root's (the family's own daemon cannot open them later: private.not_this_users), and without
    sudo -E the config is root's (/root/...); None otherwise (a root login's own setup means its files)."""
    user = env.get("SUDO_USER", "")
    if euid != 0 or user in ("", "root"):
        return None
    return (f"spasmwatch: note: started with sudo, as root: it reads {config} and the files it makes (the store, the "
            f"config) are root's, not {user}'s, whose own spasmwatch cannot open them later. spasmwatch needs no sudo: "
            f"run it as {user} (Bluetooth: 'sudo usermod -aG bluetooth {user}', then log in again; docs/host.md)")


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help=f"config file (default {default_config_path()})")


def config_of(args: argparse.Namespace) -> Config:
    """The config --config names (it must exist: a typo gave the defaults, and 'run' a daemon with
    no bands in the default store), else the default file (absent: the defaults)."""
    return load_config(existing_config(args.config))


def daemon_config_of(args: argparse.Namespace, quiet: bool = False, asks: bool = True) -> Config:
    """The config to reach the running daemon by: ``config_of``, or when the file does not load,
    only what reaches the daemon (its [daemon.http], ``config.reach_part``), said on stderr unless
    ``quiet`` ('reload': the daemon reports the error itself): the daemon runs on the config it
    had (a reload keeps it), and 'status', 'ack', 'mute' and 'test-alarm' must still work then.
    Its [daemon.http] host and port are where the daemon on its store listens (``_where_served``).
    ``asks``: the command asks the daemon, which must be this config's (``_not_anothers``); False
    for one that reads the store only ('clusters' listing), which another config's daemon
    answering on the port does not concern."""
    path = existing_config(args.config) or default_config_path()
    try:
        cfg = load_config(path)
    except ConfigError as e:
        try:
            cfg = reach_part(path)
        except ConfigError:
            raise e from None
        if not quiet:
            print(f"spasmwatch: {e}\n  (reaching the daemon by the file's [daemon.http]: a daemon running keeps the config it had)", file=sys.stderr)
    cfg = _where_served(cfg, path)
    if asks:
        _not_anothers(cfg, path)
    return cfg


def _not_anothers(cfg: Config, path: Path) -> None:
    """DaemonNotRunning when no daemon holds ``cfg``'s store and the one answering on its
    [daemon.http] port runs on another store, started from another file (its status's
    ``store_path``, ``config_path``): another config's daemon at the same port (two configs left at
    8765). Its bands, alarms and phones were taken for this config's: 'test-alarm' rang them, 'ack'
    acknowledged them. The daemon started from ``path`` is this config's whatever store it runs on
    (a service given another SPASMWATCH_DATA_DIR than this shell); one on another computer
    (``runs_elsewhere``) by the token of ``cfg`` it takes alone (``_takes_only_its_token``). A daemon from before the fields, or none answering (each
    command says so itself): nothing said. One that takes the connection and is silent past
    ``DAEMON_CONFIRM_S`` (stopped, hung): not confirmed, said, and nothing sent; the check gave up
    after 2 s until the cliedges review and the command then sent its request, which such a daemon
    serves once it runs again, whichever config's it is. Asked before the command acts.

    A daemon holding the store's lock whose page does not listen yet (its lock has no address: the
    service's daemon waiting for its port) is not the one answering at the file's port: that one
    must run on this store too. Until the second cliedges review it was not asked, and the daemon
    holding the port (another config's, at the same 8765) answered 'status' and 'ack' as this one."""
    from spasmwatch.daemon import consts as K

    store = cfg.store_path()
    held = lock_holder(store)
    if held is not None and held.address is not None:  # this store's daemon, reached where its lock says it listens
        return
    try:
        st = api(cfg, "/api/status", timeout_s=K.DAEMON_CONFIRM_S)
    except DaemonSilent:  # the command's own request would have gone to whichever it is
        if held is not None:
            raise  # (its words: this store's daemon runs, its page not up, _no_answer)
        raise DaemonNotRunning(f"could not confirm which daemon answers at {_host_port(cfg)}, nor that it is the one of {path}: nothing "
                               f"answered within {K.DAEMON_CONFIRM_S:g} s (a daemon stopped, hung or slowed by a loaded machine?); "
                               "nothing was sent to it. Try again once it answers ('spasmwatch status' says which it is)") from None  # fmt: skip
    except SpasmwatchError:
        return
    if not isinstance(st, dict):
        return
    elsewhere = runs_elsewhere(st)
    if elsewhere is not None and _takes_only_its_token(cfg):
        return
    theirs = st.get("config_path") or ""  # "": not started from a file
    if serves(st, store) or same_file(theirs, path):
        return
    served = st["store_path"]
    started, reach = (f"started from {theirs}", f"For that daemon: --config {theirs}; to") if theirs else ("not started from a file", "To")
    if held is not None:
        from spasmwatch.commands.service import systemctl_for
        from spasmwatch.firstrun import restart_command

        raise DaemonNotRunning(
            f"the daemon answering at {_host_port(cfg)} is not the one of {path}: it runs on {served} ({started}); the daemon "
            f"of {path} runs (pid {held.pid}), monitoring, but its web page cannot listen, that daemon holding the port (both "
            f"ask for {cfg.daemon.http.port}); nothing was sent to it. Give one of them another [daemon.http] port, then "
            f"restart it: {restart_command(systemctl_for(path))} for the daemon of {path}")  # fmt: skip
    if elsewhere is not None:
        raise DaemonNotRunning(_untied(elsewhere, cfg, path))
    raise DaemonNotRunning(
        f"the daemon answering at {_host_port(cfg)} is not the one of {path}: it runs on {served} ({started}), and no "
        f"daemon runs on {store}, the store of {path}; nothing was sent to it. {reach} run the daemon of {path} beside "
        f"it, give it another [daemon.http] port (both ask for {cfg.daemon.http.port}), then {in_quotes(cmd('run', path, not is_default_config(path)))}"
    )


def serves(st: Any, store: Path) -> bool:
    """Whether the daemon whose status is ``st`` runs on ``store`` (one from before its status said
    its store, or that said nothing readable: taken to, as before the field)."""
    served = st.get("store_path") if isinstance(st, dict) else None
    return not isinstance(served, str) or Path(served).resolve() == store.resolve()


def runs_elsewhere(st: dict[str, Any]) -> str | None:
    """The host name of the computer the daemon whose status is ``st`` runs on, when it is not this
    one's (a laptop's config naming the Pi's [daemon.http] host); else None (a daemon from before
    the field too: compared as one of this computer). Its store and file are that computer's paths,
    which never equal this config's."""
    theirs = st.get("hostname")
    return theirs if isinstance(theirs, str) and theirs != socket.gethostname() else None


def _takes_only_its_token(cfg: Config) -> bool:
    """Whether the daemon answering ``cfg``'s [daemon.http] took its token and refuses a request
    without it: then it is the daemon whose config holds that token, on whichever computer. Its host
    name alone says nothing: a container (with the host's network) or a UTS namespace is another
    host name on this computer, and a daemon that takes any request answers any config's commands
    (found by the second cliedges review: B's 'ack' went to a container's A on 127.0.0.1)."""
    from spasmwatch.daemon import consts as K

    h = cfg.daemon.http
    if not h.token:
        return False
    try:
        api(replace(cfg, daemon=replace(cfg.daemon, http=replace(h, token=""))), "/api/status", timeout_s=K.DAEMON_CONFIRM_S)
    except TokenRefused:
        return True
    except SpasmwatchError:
        return False
    return False  # it answered without the token: it takes any request


def _untied(host: str, cfg: Config, path: Path) -> str:
    """Why a daemon on another computer (``host``) that takes any request was not taken for the
    config at ``path``'s, and what ties them: one token in both configs. Reached through a port
    forwarded to it (ssh -L to the Pi's loopback-only daemon, which then needs no token), or at its
    address. The refusal came after the way to run a daemon of ``path`` beside it, and said to
    give that daemon ``path``'s token when ``path`` had none (found by the exit review)."""
    from spasmwatch.daemon import consts as K

    given = not is_default_config(path)
    ours = "this config's token is not asked for" if cfg.daemon.http.token else f"{path} has none"
    return (
        f"the daemon answering at {_host_port(cfg)} is not known to be the one of {path}: it runs on another computer ({host}: "
        f"a port forwarded to it, ssh -L, or its address) and takes requests without a token ({ours}), so nothing was sent to it. To use it from here, give both configs the same [daemon.http] token, a random string of at least "
        f"{K.MIN_TOKEN_CHARS} characters: on {host}, 'spasmwatch config set daemon.http.token -', then restart that daemon; here, "
        f"{in_quotes(cmd('config set daemon.http.token -', path, given))}. To run a daemon of {path} on this computer "
        f"instead, give it another [daemon.http] port (both ask for {cfg.daemon.http.port}), then {in_quotes(cmd('run', path, given))}"
    )


def answers(cfg: Config) -> bool:
    """Whether a spasmwatch daemon answers on ``cfg``'s [daemon.http] within ``DAEMON_PROBE_S``
    (one that refuses, a token say, answers). For where no daemon holds the config's store's lock:
    the lock finds the daemons that run on it, whatever port they listen on."""
    from spasmwatch.daemon import consts as K

    try:
        api(cfg, "/api/status", timeout_s=K.DAEMON_PROBE_S)
    except (DaemonNotRunning, TlsError):  # (TlsError: the config's certificate unusable here, nothing was asked)
        return False
    except SpasmwatchError:
        return True  # it answered as the daemon and refused
    return True


def _where_served(cfg: Config, path: Path) -> Config:
    """``cfg`` with [daemon.http] host and port where the daemon holding its store listens (its lock
    says: daemon/lock.py), the file's when none does or an older one said nothing. The file's are
    read only at a start: after an edit of them every command asked where nothing answered until
    a restart ('reload' could not read its own report). An edit is said once on stderr, with how
    the daemon takes it. The token stays the file's (an edited one is refused, as it says)."""
    held = lock_holder(cfg.store_path())
    if held is None or held.address is None:
        return cfg
    h = cfg.daemon.http
    host, port = held.address
    edited = ([f"host {h.host}"] if not _listens_at(h, host) else []) + ([f"port {h.port}"] if h.port != port else [])
    if edited:
        print(f"spasmwatch: {_edit_note(held, path, ' and '.join(edited))}", file=sys.stderr)
    return replace(cfg, daemon=replace(cfg.daemon, http=replace(h, host=host, port=port)))


def _listens_at(h: Http, bound: str) -> bool:
    """Whether the file's [daemon.http] host (and lan) asks for the address the daemon listens on
    (``bound``, from its lock): the file may name it ('localhost', a host name) or give any
    address (0.0.0.0: 'lan')."""
    asked = bind_host(h.host, h.lan)
    if asked == bound or {asked, bound} <= {"", "0.0.0.0", "::"}:
        return True
    try:
        return ipaddress.ip_address(asked.strip("[]")) == ipaddress.ip_address(bound)
    except ValueError:  # a name: the daemon bound to one of its addresses (the lookup it made too)
        try:
            return bound in {a[4][0] for a in socket.getaddrinfo(asked, None, proto=socket.IPPROTO_TCP)}
        except OSError:
            return False


def _edit_note(held: LockHolder, path: Path, edited: str) -> str:
    """Why the command reaches the daemon elsewhere than the file says, and what applies the file."""
    host, port = held.address or ("", 0)
    at = f"reaching the daemon (pid {held.pid}) where it listens, {host}:{port}"
    if not same_file(held.config, path):
        return f"{at}: it was started from {held.config or 'no file'}, not {path}, whose [daemon.http] {edited} it does not read"
    from spasmwatch.commands.service import systemctl_for
    from spasmwatch.firstrun import restart_command

    return f"{at}: [daemon.http] {edited} in {path.name} is applied at its next start: next: {restart_command(systemctl_for(path))}"


def add_store_args(p: argparse.ArgumentParser) -> None:
    """--db, or --config to use the store a (non-default) config names, as 'run --config' does."""
    p.add_argument("--db", type=Path, help="store file (default: the one the config names)")
    add_config_arg(p)


def store_path_of(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db is not None else config_of(args).store_path()


def open_store_at(path: Path, args: argparse.Namespace) -> Store:
    """The store at ``path`` (the config's or --db), read-only: these commands never change it
    (labels and notes go through the daemon). ``args.device`` (a band's id or name) it has never
    seen is an error naming the bands it holds (a typo listed nothing, as if the band had seen
    nothing); a name becomes its id in ``args``."""
    if not path.exists():
        raise SpasmwatchError(f"no store at {path} yet: start the daemon with 'spasmwatch run'")
    store = Store.open_readonly(path)
    try:
        resolve_device(store, args, str(path))
    except SpasmwatchError:
        store.close()
        raise
    return store


def resolve_device(store: Store, args: argparse.Namespace, where: str) -> None:
    """``args.device`` as the store's device id: a band is known by its name (the config's, first in
    'status') as by its id; one the store never saw is an error naming the bands it holds."""
    if args.device is None:
        return
    if (why := store.unknown_device(args.device, where)) is not None:
        raise SpasmwatchError(f"--device: {why}")
    args.device = store.band_id(args.device)


def band_labels(store: Store) -> dict[str, str]:
    """Each stored band's device id -> how 'status' and the page call it: its name, with the id in
    brackets where they differ ('cot (sim0001)'); the listings showed the bare id ('sim0001')."""
    return {d.device_id: d.device_id if not d.name or d.name == d.device_id else f"{d.name} ({d.device_id})" for d in store.devices()}


def _host_port(cfg: Config) -> str:
    """Where the commands ask the daemon of ``cfg``: its [daemon.http] host (any address: loopback) and port."""
    h = cfg.daemon.http
    host = "127.0.0.1" if h.host in ("0.0.0.0", "::", "") else h.host
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address (e.g. ::1) in a URL, and so in the Host header the daemon checks
    return f"{host}:{h.port}"


def api(cfg: Config, path: str, body: dict[str, Any] | None = None, timeout_s: float = 5.0, look: str = "") -> Any:
    """GET (or POST ``body``) the running daemon's local API; DaemonNotRunning if nobody answers.
    A refusal is the daemon's own words ('no alert 7'), then ``look``: where the right one is
    listed (``refusal``)."""
    h = cfg.daemon.http
    url = f"{h.scheme}://{_host_port(cfg)}{path}"
    # HTTPS: the daemon's own certificate, the config's, is the one trusted (pinned), never none
    context = client_context(Path(h.tls_cert).expanduser()) if h.tls else None
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    req.add_header("Content-Type", "application/json")
    if h.token:
        req.add_header("Authorization", f"Bearer {h.token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s, context=context) as r:
            body_bytes = r.read()
    except urllib.error.HTTPError as e:
        msg, code, answer = e.read().decode("utf-8", "replace"), None, {}
        try:
            answer = json.loads(msg)
            msg, code = answer.get("error", msg), answer.get("code")
        except ValueError:
            if not _AIOHTTP_REFUSAL.fullmatch(msg.strip()):  # an HTML page, say: not the daemon's words
                raise DaemonNotRunning(_not_the_daemon(url, h.port)) from None
        if e.code == 401:
            raise TokenRefused(refusal(e.code, str(e.reason), msg, url, look)) from None
        raise Refused(refusal(e.code, str(e.reason), msg, url, look), code, answer) from None
    except (urllib.error.URLError, OSError) as e:
        why = getattr(e, "reason", e)
        if isinstance(why, ssl.SSLError):
            raise SpasmwatchError(_not_its_certificate(url, h.tls_cert, why)) from None
        if isinstance(why, TimeoutError):  # (the connect's, in URLError; the answer's, bare)
            raise DaemonSilent(_no_answer(cfg, url, f"{why}")) from None
        raise DaemonNotRunning(_no_answer(cfg, url, f"{why}")) from None
    try:
        return json.loads(body_bytes or b"null")
    except ValueError:  # another program on the port (it is a common one)
        raise DaemonNotRunning(_not_the_daemon(url, h.port)) from None


# The daemon answers JSON; without it, only aiohttp's own refusal ("404: Not Found": an older
# daemon that has no such path) is still the daemon's. Anything else came from another program: its
# HTML page was printed as the command's error (found by the first-run audit).
_AIOHTTP_REFUSAL = re.compile(r"\d{3}: [^<\n]*")


# No daemon holds the store: said as what it means and how to start one (a question about a URL until 2026-12-07).
NOT_RUNNING = ("spasmwatch is not running, so nothing watches the band and no alarm can go out: start it with 'spasmwatch run' "
               "(in a window left open) or 'spasmwatch service install' (in the background, from every boot)")  # fmt: skip


def _no_answer(cfg: Config, url: str, why: str) -> str:
    """Why nothing answered at ``url``: the daemon on the config's store runs but does not listen yet
    (its lock has its pid, no address: the service's daemon waiting for a port another program holds,
    daemon/main.py ``_listen_later``, or one starting), else no daemon runs. 'status' asked 'is
    spasmwatch run running?' of a daemon that was, monitoring."""
    held = lock_holder(cfg.store_path())
    if held is None or held.address is not None:
        last = last_stop_note(cfg.store_path())
        said = "" if last is None else f" (its last stop was cut short at {last})"
        if held is None:  # what matters to a parent checking at night: nothing is watching, and how to start it
            return f"no daemon answers at {url} ({why}): {NOT_RUNNING}{said}"
        return f"no daemon answers at {url} ({why}): is 'spasmwatch run' running?{said}"
    return f"no daemon answers at {url} ({why}), though the daemon on this store runs (pid {held.pid}), monitoring: its web page does not listen there (yet): {page_not_up(cfg.daemon.http)}"


def page_not_up(h: Http) -> str:
    """Why a daemon that runs (its lock has its pid) does not listen yet (its lock has no address):
    the page's certificate ([daemon.http] tls_cert) when it cannot be used, as the daemon checks it."""
    from spasmwatch.daemon import consts as K

    if h.tls:
        try:
            load(Path(h.tls_cert).expanduser(), Path(h.tls_key).expanduser())
        except TlsError as e:
            return (f"the page's HTTPS certificate cannot be used: {e} (its log says 'web page: HTTPS'; it reads the files again "
                    f"every {K.HTTP_RETRY_S:g} s)")  # fmt: skip
    return f"another program holds the port (its log says 'web page: cannot listen'; it tries again every {K.HTTP_RETRY_S:g} s), or it is starting"


def _not_its_certificate(url: str, cert: str, why: ssl.SSLError) -> str:
    """What a TLS failure at ``url`` means: the certificate it showed is not [daemon.http] tls_cert
    (made anew since the daemon started: it reads it at its start), or it speaks no TLS there."""
    return (f"{url}: the daemon there did not show the certificate {cert} ([daemon.http] tls_cert) ({why.reason or why}): "
            "one made anew since the daemon started is served from its next start; or the program at that port speaks no HTTPS")


def _not_the_daemon(url: str, port: int) -> str:
    return (f"{url} answered, but not as the spasmwatch daemon (no JSON): is another program using port {port}? "
            "Check [daemon.http] port in the config")


def refusal(code: int, reason: str, msg: str, url: str, look: str) -> str:
    """The daemon's refusal for a person. It says what is wrong ('no alert 7', 'no notification
    channel ...; configured: ...'): its URL path meant nothing to a family ("the daemon refused
    /api/alerts/7/ack: 404 no alert 7"). The path stays where it is the point: a token or host
    the daemon does not take (401 / 403), a path it does not know (an older daemon: the router's
    bare reason), an error inside it (500, in its log)."""
    if code == 401:
        return (f"the daemon at {url} did not take the token the commands send ([daemon.http] token in the config): "
                f"it must be the one the daemon started with (a changed token applies at its next start) ({code})")
    if code == 403 or code >= 500 or msg == reason:
        return f"the daemon refused {url}: {code} {msg}"
    return f"{msg}: {look}" if look else msg


_REL = re.compile(r"^(\d+(?:\.\d+)?)([mhd])$")


def parse_when(text: str | None, default: float | None = None, what: str = "time") -> float | None:
    """ISO 8601 (local time without a zone), or a span back from now: 30m, 12h, 7d."""
    if text is None:
        return default
    m = _REL.match(text.strip())
    if m:
        return time.time() - float(m.group(1)) * {"m": 60, "h": 3600, "d": 86400}[m.group(2)]
    from spasmwatch.export.timeline import parse_iso

    try:
        return parse_iso(text, what)
    except ValueError as e:
        raise SpasmwatchError(f"{e} (or a span like 12h, 7d)") from None


def add_window_args(p: argparse.ArgumentParser, since_default: str) -> None:
    """--device, --since and --until, as the listing commands take them."""
    p.add_argument("--device", help="only this band (its name or device id)")
    p.add_argument("--since", default=since_default, help=f"ISO time or a span back from now (default {since_default})")
    p.add_argument("--until", default=None, help="ISO time (default: no end, all that is stored)")


def window_of(args: argparse.Namespace) -> tuple[float | None, float | None]:
    """(since, until) from ``add_window_args``' options; a bad one is named in the error, and so
    is a --since not before --until (found by the input audit: 'events --until 2024-03-05' under
    the default --since 24h said 'nothing in this time range', exit 0, over a store full of events)."""
    since, until = parse_when(args.since, what="--since"), parse_when(args.until, what="--until")
    if since is not None and until is not None and since >= until:
        raise SpasmwatchError(
            f"--since {args.since} ({hm(since)}) is not before --until {args.until} ({hm(until)}): "
            "nothing can lie between them; give an earlier --since"
        )
    return since, until


def hm(t: float | None, zone: dt.tzinfo | None = None) -> str:
    """A stored time as the listings give it: local time in ``zone`` (None: this computer's, read
    again), its zone said in the hour the clocks go back (``wall_text``). A listing reads the zone
    once (``local_zone``) and passes it: read per line, with TZ unset (/etc/localtime's link
    resolved each time) it took 'events' from 0.28 s to 0.60 s for 20,000 lines (zone review)."""
    return "-" if t is None else wall_text(t, zone=zone)


def minutes(s: float | None) -> str:
    return "-" if s is None else f"{s / 60:.1f} min"


def after_waking(s: float | None) -> str:
    """A cluster's post_wake_s for a person: null (no wake seen, or the band was off) said as such."""
    return "waking time unknown" if s is None else f"{minutes(s)} after waking"
