"""A config change applied to the running daemon (SIGHUP, ``systemctl --user reload spasmwatch``).

The file is read and checked by the loader 'run' uses, and every object the change needs is
built, before anything is touched: a bad edit (a typo, a missing table) leaves the daemon on
the config it runs, says why once in the journal, and shows it on the status, the CLI and the
page until a reload succeeds. A good one applies what changed and nothing else: a band whose
table is the same keeps its connection and its cluster in progress; a channel whose settings
are the same keeps its object (its connection, its failing state); MQTT reconnects only when
its settings changed. What only a start can apply (the store, the web server's address) is
left, said as "needs a restart: KEY".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spasmwatch.alerts.channels.base import Channel
from spasmwatch.alerts.channels.dispatch import Caregiver
from spasmwatch.clock import log_time
from spasmwatch.config import Band, Config, is_default_config, load_config, plain
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.wiring import alert_settings_from, caregivers_from, channels_from, heartbeat_from, warn_exposures
from spasmwatch.errors import ConfigError
from spasmwatch.words import cmd, in_quotes

log = logging.getLogger(__name__)

# The [daemon] keys a running daemon cannot take: the store and its lock are opened at start, the
# web server listens on its address with its token, logging and the raw folder's keeper are set up
# once. ([daemon.heartbeat] and [daemon.http] page_url, which the pushes carry, are applied.)
RESTART_KEYS = (
    "daemon.data_dir", "daemon.log_level", "daemon.raw_reserve_mb", "daemon.raw_keep_days", "daemon.backup_keep_days",
    "daemon.http.host", "daemon.http.port", "daemon.http.lan", "daemon.http.token", "daemon.http.tls_cert", "daemon.http.tls_key",
)  # fmt: skip


def reload_command(path: Path) -> str:
    """'spasmwatch reload' for the daemon of ``path``, between quotes, as the page's config banner
    names it (page.config_error {command}): with ``--config`` and the absolute path unless ``path``
    is the default config, since a bare reload asks the default config's daemon (another, or none)
    and the family's shell is not in the daemon's folder."""
    return in_quotes(cmd("reload", path.absolute(), not is_default_config(path)))


@dataclass
class Plan:
    """What a checked config changes in the daemon, built before anything is applied."""

    cfg: Config
    channels: dict[str, Channel]  # the old object where its settings are the same
    caregivers: list[Caregiver]
    added: list[Band] = field(default_factory=list)
    removed: list[Band] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # the summary line's parts
    needs_restart: list[str] = field(default_factory=list)


class Reloader:
    """Reloads ``path`` into ``daemon``; ``started`` is the config the daemon started with (what
    the restart-only keys are compared with), ``band_spec`` how 'run' makes a band's spec."""

    def __init__(self, daemon: Daemon, path: Path, started: Config, band_spec: Callable[[Band], BandSpec]) -> None:
        self.daemon, self.path, self.band_spec = daemon, path, band_spec
        self.started = self.current = started
        self._running: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        """From the loop's signal callback: reload in a task of the loop. A SIGHUP during a reload
        gives one more after it (the file may have changed again meanwhile)."""
        self.daemon.reload_requested += 1
        if self._running is not None and not self._running.done():
            self._again = True
            return
        self._running = asyncio.get_running_loop().create_task(self._loop(), name="config reload")

    async def close(self) -> None:
        """At a stop: a reload in progress is cancelled (the daemon stops whatever it applied)."""
        self._again = False
        if self._running is not None and not self._running.done():
            self._running.cancel()
            await asyncio.gather(self._running, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            self._again = False
            covers = self.daemon.reload_requested  # the SIGHUPs this reload answers: it reads the file after them
            try:
                await self.reload(covers)
            except Exception as e:  # a bug in applying must not end the daemon: said, and it runs on
                log.exception("config reload failed while applying it; the daemon runs on (a restart applies the file)")
                self._outcome(covers, None, error=f"failed while applying it ({type(e).__name__}: {e}): a restart applies the file")
            if not self._again:
                return

    async def reload(self, covers: int | None = None) -> None:
        """Read, check and apply the file; its outcome is in the status's ``reload.last``
        (``covers``: the number of the latest SIGHUP it answers; None: the latest taken)."""
        covers = self.daemon.reload_requested if covers is None else covers
        t0 = time.perf_counter()
        try:
            plan = self._plan(load_config(self.path))
        except (ConfigError, ValueError) as e:
            self._failed(str(e))
            self._outcome(covers, t0, error=str(e))
            return
        await self._apply(plan)
        ms = (time.perf_counter() - t0) * 1000
        cleared = self.daemon.config_error is not None
        if cleared:
            log.warning("%s: the config loads again: the earlier error is cleared", self.path)
        for key in plan.needs_restart:
            log.warning("%s: needs a restart: %s (changed in the file; the daemon runs on with the value it started with)", self.path, key)
        self.daemon.set_config_state(None, plan.needs_restart)
        log.info("config reloaded from %s in %.0f ms: %s", self.path, ms, "; ".join(plan.words) or "nothing changed")
        self._outcome(covers, t0, changes=plan.words, needs_restart=plan.needs_restart, cleared=cleared)

    def _outcome(self, covers: int, t0: float | None, error: str | None = None, changes: list[str] | None = None,
                 needs_restart: list[str] | None = None, cleared: bool = False) -> None:
        """The latest reload as the status says it ('spasmwatch reload' prints it)."""
        d = self.daemon
        d.last_reload = {
            "covers": covers, "t": d.clock.wall(), "ms": None if t0 is None else round((time.perf_counter() - t0) * 1000, 2),
            "applied": error is None, "error": error, "changes": changes or [], "cleared": cleared,
            "needs_restart": d.config_needs_restart if needs_restart is None else needs_restart, "path": str(self.path),
        }  # fmt: skip

    def _failed(self, error: str) -> None:
        """Keep running on the current config; said once per distinct error, shown until a good reload."""
        d = self.daemon
        same = d.config_error is not None and d.config_error["error"] == error
        if same:  # its words once; that the reload was tried and refused, each time
            assert d.config_error is not None
            log.info("config reload failed again, the same error as at %s: not applied", log_time(d.config_error["since"]))
            return
        log.error("config reload failed, the daemon runs on with the config it had: %s", error)
        since = d.config_error["since"] if d.config_error is not None else d.clock.wall()
        d.set_config_state({"error": error, "since": since, "path": str(self.path), "reload": reload_command(self.path)}, d.config_needs_restart)

    # --- what changes --------------------------------------------------------------------------
    def _plan(self, new: Config) -> Plan:
        """Everything built and checked (channels, caregivers, band links) before anything changes."""
        if not new.bands:
            raise ConfigError(f"{self.path}: no [[bands]]: a daemon without a band watches nobody (not applied)")
        old = self.current
        built = channels_from(new)
        caregivers = caregivers_from(new, built)
        channels = {name: _kept(self.daemon.dispatcher.channels.get(name), ch) for name, ch in built.items()}
        plan = Plan(new, channels, caregivers)
        for b in new.bands:
            self.band_spec(b)  # its target checked (wiring.band_target)
        self._plan_bands(plan, old, new)
        self._plan_channels(plan, old, new)
        alerts = _changed_keys("alerts", plain(old.alerts), plain(new.alerts))
        if alerts:
            plan.words.append("alerts: " + ", ".join(alerts))
        if heartbeat_from(old) != heartbeat_from(new):
            plan.words.append("heartbeat")
        plan.needs_restart = [k for k in RESTART_KEYS if _at(self.started, k) != _at(new, k)]
        return plan

    def _plan_bands(self, plan: Plan, old: Config, new: Config) -> None:
        """Bands match by their whole table: one whose table is unchanged is left alone."""
        left = list(new.bands)
        for b in old.bands:
            if b in left:
                left.remove(b)
            else:
                plan.removed.append(b)
        plan.added = left
        changed = {b.title for b in plan.removed} & {b.title for b in plan.added}
        for sign, bands in (("+", plan.added), ("-", plan.removed)):
            plan.words += [f"band {sign}{b.title}" for b in bands if b.title not in changed]
        plan.words += [f"band ~{t} (reconnected)" for t in sorted(changed)]

    def _plan_channels(self, plan: Plan, old: Config, new: Config) -> None:
        now = self.daemon.dispatcher.channels
        for name, ch in plan.channels.items():
            if name not in now:
                plan.words.append(f"channel +{name}")
            elif now[name] is not ch:
                plan.words.append(f"channel ~{name}" + (" (reconnects)" if name == "mqtt" else ""))
        plan.words += [f"channel -{name}" for name in now if name not in plan.channels]
        if plain(old.caregivers) != plain(new.caregivers):
            plan.words.append("caregivers")

    async def _apply(self, plan: Plan) -> None:
        d, new = self.daemon, plan.cfg
        d.set_channels(plan.channels, plan.caregivers, new.channels.aliases())
        d.set_alert_settings(alert_settings_from(new))
        d.set_exposures(warn_exposures(new))  # (its token's, as the file has it: a change of it needs a restart)
        hb = heartbeat_from(new)
        if hb != heartbeat_from(self.current):
            await d.set_heartbeat(hb)
        gone: list[str] = []
        kept: list[str] = []
        for b in plan.removed:
            device, ids = await d.remove_band(b.title)
            # A band changed or renamed keeps its device's topics (they come back as it reconnects).
            same = any(_same_band(b, other) for other in new.bands)
            gone += [i for i in ids if not (same and i == device)]
            kept += [device] if same and device is not None else []
        for b in plan.added:
            d.add_band(self.band_spec(b))
        d.forget_in_mqtt(gone)
        # Away until they reconnect (a renamed band's new entry knows its device only then).
        d.away_in_mqtt(kept)
        self.current = new


def _same_band(a: Band, b: Band) -> bool:
    """Whether ``b`` may be ``a``'s band under an edited table (the same title, BLE name, address or
    serial port): its device's MQTT topics stay (a band renamed is known by its device's id, but
    only once it connects again, not by the new title)."""
    return a.title == b.title or any(x is not None and x == y for x, y in ((a.name, b.name), (a.address, b.address), (a.port, b.port)))


def _kept(old: Channel | None, new: Channel) -> Channel:
    """The running channel when the new one is the same kind with the same settings."""
    if old is not None and type(old) is type(new) and getattr(old, "settings", None) == getattr(new, "settings", object()):
        return old
    return new


def _changed_keys(prefix: str, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [f"{prefix}.{k}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]


def _at(cfg: Config, key: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node
