"""A config edit applied to the running daemon by SIGHUP (``systemctl --user reload spasmwatch``),
and a bad edit that must not stop the monitor (daemon/reload.py).

Real parts: ``spasmwatch run`` as a subprocess on simulated bands (the band firmware under
micropython over the simulated radio), ntfy and webhook receivers on 127.0.0.1
(servers.http_recorder), the CLI as a subprocess. The band's connection is judged by the
daemon's own log: each connect attempt logs "<band>: ... -> connecting"."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from servers import Broker, Recorder, Watcher, free_port, http_recorder, retained, start_broker, stop_broker

from spasmwatch.alerts import NoticeKind
from spasmwatch.alerts.channels import MqttChannel
from spasmwatch.config import load_config
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.main import band_spec, build
from spasmwatch.daemon.reload import Reloader, reload_command
from spasmwatch.daemon.session import State
from spasmwatch.daemon.wiring import channels_from
from spasmwatch.store import Store
from spasmwatch.transport.simband import SimBand

from .conftest import rig

UP_S = 60.0  # the daemon answers and the band streams within seconds on the shared test machine
RELOADED_S = 30.0
# what the loader adds to tomllib's "Invalid value" (config.toml_error): the likely fix
FIX = ': text goes between double quotes, name = "spasmwatch-0001"; true, false and numbers without'


class Run:
    """``spasmwatch run --config CONFIG`` with its log in a file."""

    def __init__(self, tmp: Path, config: Path, port: int) -> None:
        self.tmp, self.config, self.port = tmp, config, port
        self.log = tmp / "daemon.log"
        self.env = dict(os.environ, SPASMWATCH_DATA_DIR=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp / "xdg"),
                        SPASMWATCH_CONFIG=str(tmp / "none.toml"))  # fmt: skip
        with open(self.log, "w") as out:  # a file: nobody reads a pipe while the daemon logs
            self.proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], env=self.env, stderr=out, text=True)

    def text(self) -> str:
        return self.log.read_text()

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/status", timeout=5) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def wait(self, pred: Callable[[], object], what: str, timeout_s: float = UP_S) -> None:
        end = time.monotonic() + timeout_s
        while True:
            assert self.proc.poll() is None, f"the daemon exited ({self.proc.returncode}) waiting for {what}:\n{self.text()}"
            try:
                if pred():
                    return
            except OSError:
                pass  # not answering yet
            assert time.monotonic() < end, f"timed out after {timeout_s:g} s waiting for {what}:\n{self.text()}"
            time.sleep(0.1)

    def streaming(self, *names: str) -> bool:
        bands = {b["name"]: b["state"] for b in self.status()["bands"]}
        return sorted(bands) == sorted(names) and all(s == "STREAMING" for s in bands.values())

    def connects(self, band: str) -> int:
        return len(re.findall(rf"{band}: \w+ -> connecting", self.text()))

    def reload(self, n: int) -> None:
        """SIGHUP, and wait for the ``n``-th reload's outcome in the log."""
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: len(re.findall(r"config reloaded from|config reload failed", self.text())) >= n, f"reload #{n}", RELOADED_S)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "spasmwatch", *args, "--config", str(self.config)],
                              capture_output=True, text=True, timeout=120, env=self.env)  # fmt: skip

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def band_table(name: str, band: SimBand) -> str:
    return f'\n[[bands]]\nname = "{name}"\ntransport = "sim"\naddress = "{band.address}"\n'


def base(port: int, home: Recorder) -> str:
    return (
        f"[daemon.http]\nport = {port}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n"
        f'[[channels.webhook]]\nurl = "{home.url}/hook"\nname = "home"\n'
    )


def ntfy_table(phone: Recorder) -> str:
    return f'\n[[channels.ntfy]]\nurl = "{phone.url}/grandma-{"x" * 20}"\nname = "grandma"\n'


def test_a_phone_added_by_reload_rings_without_dropping_the_band_and_a_bad_edit_keeps_the_monitor(tmp_path: Path, cluster_csv: Path) -> None:
    """Until now the daemon read its config only at start: a phone added meant a restart (the band
    dropped, monitoring off for a while), and a hand edit with a typo made that restart fail, with
    no monitor at all until someone read the journal. SIGHUP's default action ended the daemon."""
    band = SimBand(cluster_csv, tmp_path / "flash", hold=True, speed=1, device_id="reload0001", idle_exit_ms=500, timeout_s=400)
    port, config = free_port(), tmp_path / "config.toml"

    async def main() -> dict[str, float]:
        async with http_recorder() as home, http_recorder() as phone:
            config.write_text(base(port, home) + band_table("crib", band))
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(d.wait, lambda: d.streaming("crib"), "the band to stream")
                assert d.connects("crib") == 1, d.text()
                before = await asyncio.to_thread(d.cli, "test-alarm", "--channel", "ntfy:grandma")
                assert before.returncode == 2 and "no notification channel 'ntfy:grandma'" in before.stderr, before.stderr

                config.write_text(config.read_text() + ntfy_table(phone))  # the phone added by hand
                await asyncio.to_thread(d.reload, 1)
                line = re.search(r"config reloaded from .* in (\d+) ms: (.*)", d.text())
                assert line is not None and line.group(2) == "channel +ntfy:grandma", d.text()
                rang = await asyncio.to_thread(d.cli, "test-alarm", "--channel", "ntfy:grandma", "--by", "Mum")
                assert rang.returncode == 0 and "  ntfy:grandma: delivered\n" in rang.stdout, rang.stdout + rang.stderr
                (push,) = phone.seen
                assert (push.path, push.headers["Priority"]) == (f"/grandma-{'x' * 20}", "urgent") and "Mum" in push.body.decode()
                # The band was never dropped: one connect in the log, streaming all along.
                assert d.connects("crib") == 1 and d.streaming("crib") and "crib: streaming ->" not in d.text(), d.text()

                good = config.read_text()
                config.write_text(good.replace("[channels.sound]\nenabled = false", "[channels.sound]\nenabled = flase"))
                await asyncio.to_thread(d.reload, 2)
                assert d.proc.poll() is None, d.text()
                st = d.status()
                err = st["config_error"]
                assert err is not None and err["error"].startswith(f"{config}: TOML syntax error: ") and err["error"].endswith("Invalid value (at line 5, column 11)" + FIX), st
                shown = await asyncio.to_thread(d.cli, "status")
                assert shown.returncode == 0 and "CONFIG NOT APPLIED since " in shown.stdout and err["error"] in shown.stdout, shown.stdout
                # Found by the docs run: status --config F said "then: spasmwatch reload", which reloads another config's daemon.
                assert f"fix the file, then: spasmwatch reload --config {config}, which says whether it applied" in shown.stdout, shown.stdout
                # The page's banner names the same command (page.config_error {command}): it said a bare 'spasmwatch reload'.
                assert err["reload"] == f"'spasmwatch reload --config {config}'", err
                # Still alarming on the channels it had: both the old webhook and the phone the good reload added.
                sent = await asyncio.to_thread(d.cli, "test-alarm")
                assert sent.returncode == 0 and "  webhook:home: delivered\n" in sent.stdout and "  ntfy:grandma: delivered\n" in sent.stdout, sent.stdout
                assert len(home.seen) == 1 and len(phone.seen) == 2
                await asyncio.to_thread(d.reload, 3)  # the same error again: said once
                assert d.text().count("config reload failed,") == 1 and "config reload failed again, the same error as at" in d.text() and d.status()["config_error"] == err, d.text()

                config.write_text(good.replace('name = "home"', 'name = "home"\n\n[alerts]\nescalate_after_s = 60'))
                await asyncio.to_thread(d.reload, 4)
                st = d.status()
                assert st["config_error"] is None and "the earlier error is cleared" in d.text(), d.text()
                assert "CONFIG" not in (await asyncio.to_thread(d.cli, "status")).stdout
                assert re.findall(r"config reloaded from .* in \d+ ms: (.*)", d.text())[-1] == "alerts: alerts.escalate_after_s"
                assert d.connects("crib") == 1 and d.streaming("crib"), d.text()
                ms = [float(x) for x in re.findall(r"config reloaded from .* in (\d+) ms", d.text())]
                return {"reload_ms_max": max(ms), "connects": d.connects("crib")}
            finally:
                await asyncio.to_thread(d.stop)

    try:
        out = asyncio.run(asyncio.wait_for(main(), 300))
    finally:
        band.kill()
    print(f"reloads: at most {out['reload_ms_max']:.0f} ms each; the band connected {out['connects']:.0f} time(s) over 4 reloads")


def test_the_reload_a_failed_one_names_carries_the_config_unless_it_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's banner (config_error.reload): a bare 'spasmwatch reload' asks the daemon of the
    default config, so a daemon started with another --config names its file (absolute, quoted)."""
    default = tmp_path / "config.toml"
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(default))
    assert reload_command(default) == "'spasmwatch reload'"
    usb = tmp_path / "usb disk" / "band.toml"
    assert reload_command(usb) == f"\"spasmwatch reload --config '{usb}'\""


def test_a_band_added_and_one_removed_by_reload(tmp_path: Path, cluster_csv: Path) -> None:
    """The new band is connected and monitored; the removed one is disconnected and no longer in
    the status; neither needs a restart."""
    old = SimBand(cluster_csv, tmp_path / "flash-a", hold=True, speed=1, device_id="reload000a", idle_exit_ms=500, timeout_s=400)
    new = SimBand(cluster_csv, tmp_path / "flash-b", hold=True, speed=1, device_id="reload000b", idle_exit_ms=500, timeout_s=400)
    port, config = free_port(), tmp_path / "config.toml"

    async def main() -> None:
        async with http_recorder() as home:
            config.write_text(base(port, home) + band_table("nursery", old))
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(d.wait, lambda: d.streaming("nursery"), "the first band to stream")
                added = await asyncio.to_thread(d.cli, "config", "add-band", "cot", "--transport", "sim", "--address", new.address)
                assert added.returncode == 0 and added.stdout.endswith(
                    "the daemon running now applies the new band when told to reload (the bands stay connected): "
                    f"next: spasmwatch reload --config {config} (it says what changed, or why the edit was not applied)\n"
                ), added.stdout + added.stderr
                config.write_text(config.read_text().replace(band_table("nursery", old), "") + '\n[daemon]\nraw_keep_days = 30\n')
                assert "nursery" not in config.read_text() and 'name = "cot"' in config.read_text()
                await asyncio.to_thread(d.reload, 1)
                line = re.findall(r"config reloaded from .* in \d+ ms: (.*)", d.text())
                assert line == ["band +cot; band -nursery"], d.text()
                assert "needs a restart: daemon.raw_keep_days" in d.text(), d.text()
                await asyncio.to_thread(d.wait, lambda: d.streaming("cot"), "the added band to stream")
                st = d.status()
                assert [b["name"] for b in st["bands"]] == ["cot"] and st["config_needs_restart"] == ["daemon.raw_keep_days"], st
                assert "nursery: disconnected and no longer monitored: it is not in the config any more" in d.text(), d.text()
                assert d.connects("nursery") == 1 and d.connects("cot") == 1, d.text()
                shown = await asyncio.to_thread(d.cli, "status")
                restart = ("Changed in the config file, applied only when the monitor starts: daemon.raw_keep_days. Restart the monitor: "
                           "stop 'spasmwatch run' (Ctrl+C) and start it again.")  # fmt: skip
                assert restart in shown.stdout, shown.stdout  # started by hand, not by the service

                # A band whose table changed (here: raw on) is reconnected; 'config set' says how.
                said = await asyncio.to_thread(d.cli, "config", "set", "bands.0.raw", "true")
                assert said.returncode == 0 and said.stdout.endswith(
                    "the daemon running now applies it when told to reload (the bands stay connected): "
                    f"next: spasmwatch reload --config {config} (it says what changed, or why the edit was not applied)\n"
                ), said.stdout + said.stderr
                await asyncio.to_thread(d.reload, 2)
                assert re.findall(r"config reloaded from .* in \d+ ms: (.*)", d.text())[-1] == "band ~cot (reconnected)", d.text()
                await asyncio.to_thread(d.wait, lambda: d.streaming("cot") and d.connects("cot") == 2, "the changed band to reconnect")
                port_set = await asyncio.to_thread(d.cli, "config", "set", "daemon.http.lan", "false")
                assert port_set.stdout.endswith(
                    "daemon.http.lan is read only when the daemon starts: next: stop 'spasmwatch run' (Ctrl+C) and start it again\n"
                ), port_set.stdout
                # the port itself: the daemon is looked for at the port it runs on, not the new one (it said nothing)
                port_set = await asyncio.to_thread(d.cli, "config", "set", "daemon.http.port", str(free_port()))
                assert port_set.stdout.endswith(
                    "daemon.http.port is read only when the daemon starts: next: stop 'spasmwatch run' (Ctrl+C) and start it again\n"
                ), port_set.stdout
            finally:
                await asyncio.to_thread(d.stop)

    try:
        asyncio.run(asyncio.wait_for(main(), 300))
    finally:
        old.kill()
        new.kill()


# --- in-process: what a reload leaves alone ------------------------------------------------------


def test_an_unchanged_band_keeps_its_link_and_its_cluster_in_progress(tmp_path: Path, cluster_csv: Path) -> None:
    """A reload in the middle of a cluster alarm, changing a channel and an alert setting: the
    band's session, link and live analysis are the same objects, the open cluster goes on to
    close as one cluster, alarmed once (a reconnect would rebuild it from the store)."""

    async def main() -> None:
        async with http_recorder() as home, rig(tmp_path, cluster_csv, speed=4) as r:
            d = r.daemon
            assert d is not None
            config = tmp_path / "config.toml"
            head = f"[daemon.http]\nport = {free_port()}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n"
            config.write_text(head + band_table("band0", r.bands[0]))
            reloader = Reloader(d, config, load_config(config), lambda b: BandSpec(b.title, r.link_factory(0)))
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 90, "the cluster alarm")
            (b,) = d.bands
            session, link, analysis = b.session, b.session.link, b.analysis
            assert analysis is not None and link is not None
            tracked = list(analysis.tracked)
            (open_cluster,) = [tc for tc in tracked if not tc.closed]
            alert_ids = [a["id"] for a in d.engine.snapshot()["alerts"]]

            config.write_text(config.read_text() + f'\n[[channels.webhook]]\nurl = "{home.url}/hook"\nname = "home"\n\n[alerts]\nescalate_after_s = 600\n')
            await reloader.reload()
            assert d.config_error is None and list(d.dispatcher.channels) == ["webhook:home"] and d.engine.settings.escalate_after_s == 600
            assert d.bands == [b] and b.session is session and session.link is link and b.analysis is analysis
            assert session.state is State.STREAMING and analysis.tracked[: len(tracked)] == tracked and not open_cluster.closed
            assert [a["id"] for a in d.engine.snapshot()["alerts"]] == alert_ids

            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_CLOSED), 120, "the cluster to close")
            assert open_cluster.closed and len(r.notices(NoticeKind.CLUSTER_ALARM)) == 1
            assert len(list(r.store.clusters(b.device))) == 1 and session.link is link

    asyncio.run(asyncio.wait_for(main(), 240))


def _connects(broker: Broker) -> int:
    return broker.log.read_text().count("New client connected")


def test_mqtt_reconnects_only_when_its_settings_change(tmp_path: Path) -> None:
    """Real mosquitto: a reload that changes something else keeps the MQTT channel and its
    connection (the broker sees no new client); a new topic_prefix replaces it (the old client
    leaves, the test alarm goes out under the new prefix)."""
    broker = start_broker(tmp_path)
    watcher = Watcher(broker.port)
    config = tmp_path / "config.toml"
    head = (f'[daemon]\ndata_dir = "{tmp_path / "data"}"\n\n[daemon.http]\nport = {free_port()}\n\n[channels.sound]\nenabled = false\n\n'
            f'[channels.desktop]\nenabled = false\n\n[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n\n'
            f'[channels.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker.port}\n')  # fmt: skip

    async def main() -> None:
        config.write_text(head + 'topic_prefix = "sw"\n')
        async with _started(config) as (d, reloader):
            await d.send_test("mqtt", "Mum")
            await asyncio.to_thread(watcher.wait, "sw/cot/event")
            mqtt, clients = d.dispatcher.channels["mqtt"], _connects(broker)
            config.write_text(head + 'topic_prefix = "sw"\n\n[alerts]\nrate_limit_s = 60\n')
            await reloader.reload()
            assert d.dispatcher.channels["mqtt"] is mqtt and _connects(broker) == clients
            out = await d.send_test("mqtt", "Mum")
            assert out["results"][0]["ok"] and _connects(broker) == clients, out

            config.write_text(head + 'topic_prefix = "sw2"\n\n[alerts]\nrate_limit_s = 60\n')
            await reloader.reload()
            assert d.dispatcher.channels["mqtt"] is not mqtt
            out = await d.send_test("mqtt", "Dad")
            assert out["results"][0]["ok"], out
            got = json.loads(await asyncio.to_thread(watcher.wait, "sw2/cot/event"))
            assert "Dad" in got["text"], got
            await asyncio.to_thread(lambda: watcher.wait_until(lambda: "disconnected" in broker.log.read_text(), "the old client to leave"))

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        watcher.stop()
        stop_broker(broker)


def test_the_heartbeat_follows_a_reload(tmp_path: Path) -> None:
    """[daemon.heartbeat] url changed: the next tick pings the new URL (real receivers on
    127.0.0.1); taken out: the status says the heartbeat is off."""
    config = tmp_path / "config.toml"

    async def main() -> None:
        async with http_recorder() as first, http_recorder() as second:
            head = (f'[daemon]\ndata_dir = "{tmp_path / "data"}"\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n'
                    f'[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip
            config.write_text(head + f'\n[daemon.heartbeat]\nurl = "{first.url}/ping/one"\n')
            async with _started(config) as (d, reloader):
                await _until(lambda: first.seen, "the first ping")
                config.write_text(head + f'\n[daemon.heartbeat]\nurl = "{second.url}/ping/two"\n')
                await reloader.reload()
                await _until(lambda: second.seen, "a ping to the new URL")
                assert [s.path for s in second.seen] == ["/ping/two"] and d.status()["heartbeat"]["host"] == second.url.split("//")[1]
                config.write_text(head)
                await reloader.reload()
                assert d.heartbeat is None and d.status()["heartbeat"] is None

    asyncio.run(asyncio.wait_for(main(), 60))


@contextlib.asynccontextmanager
async def _started(config: Path) -> AsyncIterator[tuple[Daemon, Reloader]]:
    """The daemon 'run' builds from ``config`` (its data folder made), started in this loop, and
    the Reloader a SIGHUP would run; stopped at the end."""
    cfg = load_config(config)
    cfg.store_path().parent.mkdir(parents=True, exist_ok=True)
    with Store(cfg.store_path()) as store:
        d = build(cfg, store)
        await d.start()
        try:
            yield d, Reloader(d, config, cfg, lambda b: band_spec(b, store.path))
        finally:
            await d.stop()


async def _until(pred: Callable[[], object], what: str, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)



@pytest.mark.parametrize("edit", ["raw = true\n", 'label = "Ada"\n'], ids=["changed", "named"])
def test_a_band_changed_or_named_by_reload_mid_alarm_keeps_the_alarm_open_and_the_cluster_one(
    tmp_path: Path, cluster_csv: Path, edit: str
) -> None:
    """A reload that changes the alarming band's table (raw switched on: the reconnect a change
    takes) or names it (label: the same band under a new title, removed and added): its open
    cluster alarm is the same alert afterwards, still open (escalation goes on; restored from the
    store as at a start), and the cluster closes as one, alarmed once, as after a radio drop."""

    def open_alerts(d: Daemon) -> list[Any]:
        return [a["id"] for a in d.engine.snapshot()["alerts"] if a["state"] != "CLOSED"]

    async def main() -> None:
        async with rig(tmp_path, cluster_csv, speed=4) as r:
            d = r.daemon
            assert d is not None
            config = tmp_path / "config.toml"
            head = f"[daemon.http]\nport = {free_port()}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n"
            config.write_text(head + band_table("band0", r.bands[0]))
            reloader = Reloader(d, config, load_config(config), lambda b: BandSpec(b.title, r.link_factory(0), raw=b.raw))
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 90, "the cluster alarm")
            before = open_alerts(d)
            assert before, d.engine.snapshot()

            config.write_text(head + band_table("band0", r.bands[0]) + edit)
            await reloader.reload()
            assert d.config_error is None
            await _until(lambda: open_alerts(d) == before, "the alarm open (again)", 30)
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_CLOSED), 120, "the cluster to close")
            assert len(r.notices(NoticeKind.CLUSTER_ALARM)) == 1
            (b,) = d.bands
            assert (b.session.raw if edit.startswith("raw") else b.label == "Ada") and len(list(r.store.clusters(b.device))) == 1

    asyncio.run(asyncio.wait_for(main(), 240))


async def _retained_until(port: int, ok: Callable[[dict[str, bytes]], bool], what: str, timeout_s: float = 15.0) -> dict[str, bytes]:
    """The broker's retained messages once ``ok`` holds for them (a retired channel clears its
    topics in the background, once its sends are done); AssertionError naming them otherwise."""
    end = time.monotonic() + timeout_s
    while True:
        now = await asyncio.to_thread(retained, port)
        if ok(now):
            return now
        assert time.monotonic() < end, f"timed out after {timeout_s:g} s waiting for {what}; retained: {sorted(now)}"
        await asyncio.sleep(0.1)


async def _test_alarm(d: Daemon, by: str, device: str = "cot") -> dict[str, Any]:
    """A test alarm on the MQTT channel, its link to the band's topics connected first: a test
    handed to paho before the link's first CONNACK is dropped there as late ('a test ... is
    sent when it is made, never later', the reconnect's rule) when the CONNACK comes after it,
    as it does on a loaded machine (a flake of its own, apart from what these tests check)."""
    mqtt = d.dispatcher.channels["mqtt"]
    assert isinstance(mqtt, MqttChannel)
    await mqtt.announce(device)
    return await d.send_test("mqtt", by, device=device)


def _mqtt_head(tmp_path: Path) -> str:
    return (f'[daemon]\ndata_dir = "{tmp_path / "data"}"\n\n[daemon.http]\nport = {free_port()}\n\n[channels.sound]\nenabled = false\n\n'
            f'[channels.desktop]\nenabled = false\n\n[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip


def _mqtt_table(broker: Broker, prefix: str) -> str:
    return f'\n[channels.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker.port}\ntopic_prefix = "{prefix}"\n'


def test_a_reload_to_another_topic_prefix_clears_the_old_retained_topics_and_a_stop_keeps_the_new(tmp_path: Path) -> None:
    """Real mosquitto: MQTT on prefix "swa" (a test alarm opens the band's topics: availability,
    status, Home Assistant's discovery), reloaded to "swb": nothing stays retained under "swa/"
    (Home Assistant would keep an entity and a subscriber a stale state for ever), while "swb"'s
    topics and the discovery configs (the same topics for both prefixes, now pointing at "swb")
    stay, also once the old channel's clearing is done after the new one published them. A plain
    stop then clears nothing: "swb" stays, "offline", and Home Assistant keeps its entities."""
    broker = start_broker(tmp_path)
    config = tmp_path / "config.toml"
    head = _mqtt_head(tmp_path)

    def under(prefix: str, r: dict[str, bytes]) -> list[str]:
        return sorted(t for t in r if t.startswith(prefix + "/"))

    async def main() -> None:
        config.write_text(head + _mqtt_table(broker, "swa"))
        async with _started(config) as (d, reloader):
            assert (await _test_alarm(d, "Mum"))["results"][0]["ok"]
            before = await _retained_until(broker.port, lambda r: "swa/cot/availability" in r, "swa's topics")
            assert under("swa", before) == ["swa/cot/availability", "swa/cot/band_availability", "swa/cot/status"], sorted(before)
            discovery = [t for t in before if t.startswith("homeassistant/")]
            assert len(discovery) >= 9, sorted(before)

            config.write_text(head + _mqtt_table(broker, "swb"))
            await reloader.reload()
            assert (await _test_alarm(d, "Dad"))["results"][0]["ok"]
            after = await _retained_until(broker.port, lambda r: not under("swa", r), "swa's retained topics cleared")
            assert under("swb", after) == ["swb/cot/availability", "swb/cot/band_availability", "swb/cot/status"], sorted(after)
            assert after["swb/cot/availability"] == b"online"
            assert [t for t in after if t.startswith("homeassistant/")] == discovery, sorted(after)
            for t in discovery:
                cfg = json.loads(after[t])  # (Battery, Worn, Asleep: a list, the band's availability too)
                got = {a["topic"] for a in cfg["availability"]} if "availability" in cfg else {cfg["availability_topic"]}
                assert "swb/cot/availability" in got and got <= {"swb/cot/availability", "swb/cot/band_availability"}, (t, after[t])
        stopped = await asyncio.to_thread(retained, broker.port)
        assert under("swb", stopped) == ["swb/cot/availability", "swb/cot/band_availability", "swb/cot/status"] and stopped["swb/cot/availability"] == b"offline"
        assert [t for t in stopped if t.startswith("homeassistant/")] == discovery and not under("swa", stopped)

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        stop_broker(broker)


def test_a_reload_that_removes_mqtt_clears_its_retained_topics(tmp_path: Path) -> None:
    """Real mosquitto: [channels.mqtt] taken out of the config by a reload: its band's retained
    topics and Home Assistant discovery configs are deleted from the broker (the entities go),
    not left "offline" for ever."""
    broker = start_broker(tmp_path)
    config = tmp_path / "config.toml"
    head = _mqtt_head(tmp_path)

    async def main() -> None:
        config.write_text(head + _mqtt_table(broker, "swa"))
        async with _started(config) as (d, reloader):
            assert (await _test_alarm(d, "Mum"))["results"][0]["ok"]
            await _retained_until(broker.port, lambda r: "swa/cot/availability" in r and any(t.startswith("homeassistant/") for t in r), "swa's topics")
            config.write_text(head)
            await reloader.reload()
            assert "mqtt" not in d.dispatcher.channels
            await _retained_until(broker.port, lambda r: not r, "every retained topic cleared")

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        stop_broker(broker)


def _topics_of(band: str, r: dict[str, bytes]) -> list[str]:
    """The retained topics ``r`` holds of ``band``: its own under prefix "sw" and its Home Assistant entities."""
    return sorted(t for t in r if t.startswith(f"sw/{band}/") or f"/spasmwatch_{band}_" in t)


def test_a_band_removed_by_reload_has_its_retained_mqtt_topics_deleted_and_a_changed_one_keeps_them(tmp_path: Path) -> None:
    """Real mosquitto, two bands ("cot", "pram"; a test alarm for each opens its topics). A reload
    that changes pram's table (raw on: the band reconnected, not gone) deletes nothing; one that
    takes pram out deletes its retained topics and its Home Assistant entities, and cot's stay
    (the MQTT channel itself is the same)."""
    broker = start_broker(tmp_path)
    config = tmp_path / "config.toml"
    pram = f'\n[[bands]]\nname = "pram"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n'
    head = _mqtt_head(tmp_path) + _mqtt_table(broker, "sw")

    async def main() -> None:
        config.write_text(head + pram)
        async with _started(config) as (d, reloader):
            for band in ("cot", "pram"):
                assert (await _test_alarm(d, "Mum", band))["results"][0]["ok"]
            both = await _retained_until(broker.port, lambda r: len(_topics_of("cot", r)) == len(_topics_of("pram", r)) == 18, "both bands' topics")  # 15 configs, 3 of its own
            mqtt = d.dispatcher.channels["mqtt"]

            config.write_text(head + pram + "raw = true\n")
            await reloader.reload()
            await _until(lambda: not d._errands, "the reload's errands (a deletion would be one)")
            assert sorted(await asyncio.to_thread(retained, broker.port)) == sorted(both)

            config.write_text(head)
            await reloader.reload()
            after = await _retained_until(broker.port, lambda r: not _topics_of("pram", r), "pram's retained topics deleted")
            assert _topics_of("cot", after) == _topics_of("cot", both) and after["sw/cot/availability"] == b"online", sorted(after)
            assert d.dispatcher.channels["mqtt"] is mqtt

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        stop_broker(broker)


def test_a_band_renamed_by_reload_keeps_its_devices_retained_mqtt_topics(tmp_path: Path, cluster_csv: Path) -> None:
    """A band seen (the simulated band firmware, connected: its device id is its own) renamed by a
    reload (label "Ada": the same address, removed and added under a new title, its device not yet
    known to the new entry): its device's retained topics stay; Home Assistant's entities for it
    must not go (they come back only when it reconnects, and its alarm state with the next cluster)."""
    broker = start_broker(tmp_path)
    config = tmp_path / "config.toml"
    head = _mqtt_head(tmp_path) + _mqtt_table(broker, "sw")

    async def main() -> None:
        config.write_text(head)  # (its band is the rig's, below)
        async with rig(tmp_path, cluster_csv, channels=channels_from(load_config(config))) as r:
            d = r.daemon
            assert d is not None
            config.write_text(head.split("[[bands]]")[0] + band_table("band0", r.bands[0]) + _mqtt_table(broker, "sw"))
            reloader = Reloader(d, config, load_config(config), lambda b: BandSpec(b.title, r.link_factory(0), raw=b.raw))
            await _until(lambda: d.bands[0].device is not None, "the band seen", 60)
            device = d.bands[0].device
            topics = await _retained_until(broker.port, lambda g: f"sw/{device}/status" in g, "the band's status")
            mine = sorted(t for t in topics if t.startswith(f"sw/{device}/") or f"/spasmwatch_{device}_" in t)
            assert len(mine) >= 13, sorted(topics)  # (its alert too, once a cluster came)

            # Watched from before the reload: the band reconnects at once here and would publish its
            # topics again, so a deletion shows as the empty payloads it sent, not in what is left.
            watcher = await asyncio.to_thread(Watcher, broker.port)
            try:
                config.write_text(head.split("[[bands]]")[0] + band_table("band0", r.bands[0]) + 'label = "Ada"\n' + _mqtt_table(broker, "sw"))
                await reloader.reload()
                assert [b.label for b in d.bands] == ["Ada"]
                await _until(lambda: not d._errands, "the reload's errands (a deletion would be one)")
                after = await asyncio.to_thread(retained, broker.port)
                deleted = [t for t, payload in watcher.seen if t in mine and not payload]
            finally:
                watcher.stop()
            assert not deleted and all(t in after for t in mine), (deleted, sorted(set(mine) - set(after)))

    try:
        asyncio.run(asyncio.wait_for(main(), 180))
    finally:
        stop_broker(broker)


def test_a_band_changed_by_reload_that_does_not_come_back_has_its_values_unavailable_in_home_assistant(tmp_path: Path, cluster_csv: Path) -> None:
    """Hostile review: a band streaming when a reload renamed it (label "Ada": its device's topics
    kept until it reconnects, its device not known to the new entry until then) that does not
    reconnect (out of range by then: here a link to nothing) kept its retained band_availability
    ``online`` and status ``connected: true`` for good: Home Assistant showed its battery, worn and
    asleep as now's, and Band connected ON, for a band the daemon no longer heard. They must say it
    is away, its values last known."""
    broker = start_broker(tmp_path)
    config = tmp_path / "config.toml"
    head = _mqtt_head(tmp_path) + _mqtt_table(broker, "sw")
    away = f"127.0.0.1:{free_port()}"  # nothing listens there: the band out of range

    async def main() -> None:
        from spasmwatch.transport import open_link

        config.write_text(head)  # (its band is the rig's, below)
        async with rig(tmp_path, cluster_csv, channels=channels_from(load_config(config))) as r:
            d = r.daemon
            assert d is not None
            config.write_text(head.split("[[bands]]")[0] + band_table("band0", r.bands[0]) + _mqtt_table(broker, "sw"))

            def spec(b: Any) -> BandSpec:
                link = r.link_factory(0) if b.title != "Ada" else (lambda: open_link("sim", away))
                return BandSpec(b.title, link, raw=b.raw)

            reloader = Reloader(d, config, load_config(config), spec)
            await _until(lambda: d.bands[0].device is not None, "the band seen", 60)
            device = d.bands[0].device
            # Its first STATUS heard (online alone came before it under load: nothing known to keep)
            await _retained_until(
                broker.port,
                lambda g: g.get(f"sw/{device}/band_availability") == b"online" and json.loads(g.get(f"sw/{device}/status", b"{}")).get("battery_pct") is not None,
                "its values now's")
            config.write_text(head.split("[[bands]]")[0] + band_table("band0", r.bands[0]) + 'label = "Ada"\n' + _mqtt_table(broker, "sw"))
            await reloader.reload()
            assert [b.device for b in d.bands] == [None]  # (not seen under its new entry)
            got = await _retained_until(
                broker.port, lambda g: g.get(f"sw/{device}/band_availability") == b"offline", "its values no longer now's")
            status = json.loads(got[f"sw/{device}/status"])
            assert status["connected"] is False and status["last_known_at"] is not None, status

    try:
        asyncio.run(asyncio.wait_for(main(), 180))
    finally:
        stop_broker(broker)


def test_a_band_removed_by_reload_after_a_restart_has_the_earlier_runs_topics_deleted(tmp_path: Path) -> None:
    """The band's topics were published by the run before a restart (a test alarm each), and this
    run has not seen it (no link open for it): the reload that takes it out still deletes them,
    over a connection opened only for that (it says no 'online' nor a discovery config first)."""
    broker = start_broker(tmp_path)
    config = tmp_path / "config.toml"
    pram = f'\n[[bands]]\nname = "pram"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n'
    head = _mqtt_head(tmp_path) + _mqtt_table(broker, "sw")

    async def main() -> None:
        config.write_text(head + pram)
        watcher = await asyncio.to_thread(Watcher, broker.port)  # (on an empty broker: all it hears is live)
        try:
            async with _started(config) as (d, _):
                for band in ("cot", "pram"):
                    assert (await _test_alarm(d, "Mum", band))["results"][0]["ok"]
            before = await _retained_until(broker.port, lambda r: len(_topics_of("pram", r)) == 18, "pram's topics after the stop")
            assert before["sw/pram/availability"] == b"offline"
            mark = len(watcher.seen)
            async with _started(config) as (d, reloader):
                config.write_text(head)
                await reloader.reload()
                after = await _retained_until(broker.port, lambda r: not _topics_of("pram", r), "pram's retained topics deleted")
                assert _topics_of("cot", after) == _topics_of("cot", before), sorted(after)
                said = [(t, p) for t, p in watcher.seen[mark:] if t in _topics_of("pram", before) and p]
                assert not said, said  # only empty payloads went to pram's topics (no 'online', no config)
        finally:
            watcher.stop()

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        stop_broker(broker)
