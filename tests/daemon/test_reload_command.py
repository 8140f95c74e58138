"""``spasmwatch reload``: the running daemon applies its config now and the command says what
happened (a SIGHUP, and ``systemctl --user reload``, which only sends one, say nothing back).

Real parts: ``spasmwatch run`` as a subprocess on a simulated band (the band firmware under
micropython over the simulated radio), ntfy and webhook receivers on 127.0.0.1, a real mosquitto
with a plain paho subscriber standing in for Home Assistant, the CLI as a subprocess. Until
2026-12-05 there was no such command (``invalid choice: 'reload'``), the config commands said
``kill -HUP PID``, and Home Assistant's "Heartbeat failing" sensor followed a reload only at
MQTT's next connect."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

from servers import Watcher, free_port, http_recorder, start_broker, stop_broker

from spasmwatch.firstrun import apply_step
from spasmwatch.transport.simband import SimBand

from .test_reload import Run, band_table, base

SENSOR = "homeassistant/binary_sensor/spasmwatch_cot_heartbeat_failing/config"
ROUND_TRIPS = 20  # reloads timed as the command sees them
# what the loader adds to tomllib's "Invalid value" (config.toml_error): the likely fix
FIX = ': text goes between double quotes, name = "spasmwatch-0001"; true, false and numbers without'


def _cli(d: Run, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with the daemon's environment, its arguments as given (no --config added)."""
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=120, env=d.env)


def test_reload_says_what_changed_and_why_an_edit_was_refused(tmp_path: Path, cluster_csv: Path) -> None:
    band = SimBand(cluster_csv, tmp_path / "flash", hold=True, speed=1, device_id="reloadc001", idle_exit_ms=500, timeout_s=400)
    port, config = free_port(), tmp_path / "config.toml"

    async def main() -> list[float]:
        async with http_recorder() as home, http_recorder() as phone:
            config.write_text(base(port, home) + band_table("crib", band))
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(d.wait, lambda: d.streaming("crib"), "the band to stream")
                url = f"{phone.url}/grandma-{'x' * 20}"
                added = await asyncio.to_thread(d.cli, "config", "add-ntfy", url, "--caregiver", "grandma")
                assert added.returncode == 0 and added.stdout.endswith(
                    f"next: spasmwatch reload --config {config} (it says what changed, or why the edit was not applied), "
                    f"then spasmwatch test-alarm --channel ntfy:grandma --config {config} (does that phone ring?)\n"
                ), added.stdout + added.stderr

                done = await asyncio.to_thread(d.cli, "reload")
                assert done.returncode == 0 and re.fullmatch(r"reloaded in [\d.]+ ms: channel \+ntfy:grandma; caregivers\n", done.stdout), done
                rang = await asyncio.to_thread(d.cli, "test-alarm", "--channel", "ntfy:grandma", "--by", "Mum")
                assert rang.returncode == 0 and "  ntfy:grandma: delivered\n" in rang.stdout, rang.stdout + rang.stderr
                (push,) = phone.seen
                assert push.path == f"/grandma-{'x' * 20}" and "Mum" in push.body.decode()

                good = config.read_text()
                config.write_text(good.replace("[channels.sound]\nenabled = false", "[channels.sound]\nenabled = flase"))
                bad = await asyncio.to_thread(d.cli, "reload")
                assert bad.returncode == 1 and bad.stdout == (
                    f"NOT applied, the daemon runs on the config it had: {config}: TOML syntax error: Invalid value (at line 5, column 11)"
                    f'{FIX}\n'  # fmt: skip
                    f"fix it and run 'spasmwatch reload --config {config}' again\n"
                ), bad
                config.write_text(good + "\n[alerts]\nescalate_after = 60\n")  # a key misspelt: named, with the one meant
                bad = await asyncio.to_thread(d.cli, "reload")
                assert bad.returncode == 1 and bad.stdout.startswith(
                    f"NOT applied, the daemon runs on the config it had: {config}, line {len(good.splitlines()) + 3}: [alerts] escalate_after: "
                    "unknown key (did you mean 'escalate_after_s'?); or a newer spasmwatch's key"
                ), bad
                # Still alarming on the channels it had (the webhook and the phone the good reload added).
                sent = await asyncio.to_thread(d.cli, "test-alarm")
                assert sent.returncode == 0 and "  webhook:home: delivered\n" in sent.stdout and "  ntfy:grandma: delivered\n" in sent.stdout, sent.stdout
                assert len(home.seen) == 1 and len(phone.seen) == 2

                config.write_text(good + "\n[alerts]\nescalate_after_s = 60\n")
                fixed = await asyncio.to_thread(d.cli, "reload")
                assert fixed.returncode == 0 and re.fullmatch(
                    r"reloaded in [\d.]+ ms: alerts: alerts\.escalate_after_s\nthe earlier config error is cleared\n", fixed.stdout
                ), fixed.stdout
                assert d.status()["config_error"] is None

                # Another file on the same store is not the one this daemon reloads: refused, named.
                other = tmp_path / "other.toml"
                other.write_text(config.read_text())
                wrong = await asyncio.to_thread(_cli, d, "reload", "--config", str(other))
                assert wrong.returncode == 2 and f"(pid {d.proc.pid}) reloads {config}, not {other}" in wrong.stderr, wrong.stderr

                config.write_text(config.read_text() + "\n[daemon]\nraw_keep_days = 30\n")
                later = await asyncio.to_thread(d.cli, "reload", "--json")
                out = json.loads(later.stdout)
                assert later.returncode == 0 and out["applied"] and out["needs_restart"] == ["daemon.raw_keep_days"] and out["pid"] == d.proc.pid, out
                assert (await asyncio.to_thread(d.cli, "reload")).stdout.endswith(
                    "needs a restart: daemon.raw_keep_days (read only when the daemon starts; it runs on the value it started with)\n"
                )
                ms = []
                for _ in range(ROUND_TRIPS):
                    r = await asyncio.to_thread(d.cli, "reload", "--json")
                    assert r.returncode == 0, r
                    ms.append(json.loads(r.stdout)["round_trip_ms"])
                assert d.connects("crib") == 1 and d.streaming("crib"), d.text()  # never dropped
            finally:
                await asyncio.to_thread(d.stop)
            gone = await asyncio.to_thread(d.cli, "reload")
            assert gone.returncode == 2 and gone.stderr.startswith(
                f"spasmwatch reload: error: no daemon runs on config.toml (nothing holds {tmp_path / 'data' / 'spasmwatch.db.lock'}): "
                f"start it with 'spasmwatch run --config {config}': it reads the file as it starts\n"
            ), gone.stderr  # no service installed: none named (it said 'or systemctl --user start spasmwatch')
            return ms

    try:
        ms = asyncio.run(asyncio.wait_for(main(), 300))
    finally:
        band.kill()
    print(f"spasmwatch reload round trip (SIGHUP to the daemon's report, as the command sees it) over {len(ms)} reloads: "
          f"median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms")


def _daemon_clients(log: Path) -> int:
    """The daemon's MQTT connections the broker took (its client ids start "spasmwatch-"), but its
    start scan's short one (spasmwatch-scan-: docs/alerts.md)."""
    return len(re.findall(r"New client connected from \S+ as spasmwatch-(?!scan-)", log.read_text()))


def test_home_assistant_sees_the_heartbeat_sensor_come_and_go_on_reload(tmp_path: Path) -> None:
    """Real mosquitto: the discovery of "Heartbeat failing" is published (and removed, an empty
    retained payload) by the reload that adds (removes) [daemon.heartbeat], with the MQTT client
    kept (no reconnect: until now the sensor followed only at the next connect)."""
    broker = start_broker(tmp_path)
    ha = Watcher(broker.port, "homeassistant/#")
    port, config = free_port(), tmp_path / "config.toml"
    head = (f"[daemon.http]\nport = {port}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n"
            f'[channels.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker.port}\ntopic_prefix = "sw"\n\n'
            f'[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip

    async def main() -> None:
        async with http_recorder() as checks:
            config.write_text(head)
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(d.wait, d.status, "the daemon to answer")
                tested = await asyncio.to_thread(d.cli, "test-alarm", "--channel", "mqtt")  # the band's MQTT link opened
                assert tested.returncode == 0, tested.stdout + tested.stderr
                await asyncio.to_thread(ha.wait, SENSOR, b"")  # no heartbeat: removed
                clients = _daemon_clients(broker.log)

                config.write_text(head + f'\n[daemon.heartbeat]\nurl = "{checks.url}/ping/abc"\n')
                added = await asyncio.to_thread(d.cli, "reload")
                assert added.returncode == 0 and added.stdout.endswith(": heartbeat\n"), added
                await asyncio.to_thread(ha.wait_until, lambda: bool(ha.last.get(SENSOR, (b"",))[0]), "the sensor discovered")
                cfg = json.loads(ha.last[SENSOR][0])
                assert cfg["name"] == "Heartbeat failing" and cfg["state_topic"] == "sw/cot/status", cfg
                fresh = Watcher(broker.port, SENSOR)  # Home Assistant started later: the broker retains it
                try:
                    assert json.loads(fresh.wait(SENSOR))["unique_id"] == "spasmwatch_cot_heartbeat_failing"
                finally:
                    fresh.stop()

                config.write_text(head)
                removed = await asyncio.to_thread(d.cli, "reload")
                assert removed.returncode == 0 and removed.stdout.endswith(": heartbeat\n"), removed
                await asyncio.to_thread(ha.wait, SENSOR, b"")
                assert _daemon_clients(broker.log) == clients == 1, broker.log.read_text()  # never reconnected
            finally:
                await asyncio.to_thread(d.stop)

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        ha.stop()
        stop_broker(broker)


def test_the_step_the_config_commands_suggest() -> None:
    """'spasmwatch reload' wherever a daemon serves the file and is ours to signal; the system
    unit's (root's) keeps 'sudo systemctl reload'; a stopped unit is started; no pid: a restart."""
    f = Path("/home/me/c.toml")
    steps = {
        (True, "systemctl --user", 41): "spasmwatch reload --config /home/me/c.toml",
        (True, None, 41): "spasmwatch reload --config /home/me/c.toml",
        (True, "sudo systemctl", 41): "sudo systemctl reload spasmwatch",
        (False, "systemctl --user", None): "systemctl --user restart spasmwatch",
        (True, None, None): "stop 'spasmwatch run' (Ctrl+C) and start it again",
    }
    for (running, systemctl, pid), command in steps.items():
        how = apply_step(f, True, running, systemctl, pid)
        assert how is not None and how.command == command, (running, systemctl, pid, how)
    assert apply_step(f, True, False, None, None) is None


def test_an_edited_port_still_reaches_the_daemon_where_it_listens(tmp_path: Path) -> None:
    """[daemon.http] port edited while the daemon runs (read only at a start): the commands asked
    the file's new port, where nothing answers, until a restart ('reload' exit 1 "cannot read how
    it went", 'status' and 'ack' exit 2 "no daemon answers"). The store's lock now says where the
    daemon listens (line 3): they reach it there and say once on stderr how the edit is applied.
    A lock from a daemon from before (two lines) leaves the file's port, as before."""
    port, new, config = free_port(), free_port(), tmp_path / "config.toml"
    config.write_text(f"[daemon.http]\nport = {port}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n"
                      f'[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip
    d = Run(tmp_path, config, port)
    try:
        d.wait(d.status, "the daemon to answer")
        lock = tmp_path / "data" / "spasmwatch.db.lock"
        assert lock.read_text() == f"{d.proc.pid}\n{config}\n127.0.0.1:{port}\n"  # pid, the file it reloads, where it listens
        config.write_text(config.read_text().replace(f"port = {port}", f"port = {new}"))
        note = (f"spasmwatch: reaching the daemon (pid {d.proc.pid}) where it listens, 127.0.0.1:{port}: [daemon.http] port {new} "
                "in config.toml is applied at its next start: next: stop 'spasmwatch run' (Ctrl+C) and start it again\n")  # fmt: skip

        done = d.cli("reload")
        assert done.returncode == 0 and re.fullmatch(
            r"reloaded in [\d.]+ ms: nothing changed\nneeds a restart: daemon\.http\.port \(read only when the daemon starts; "
            r"it runs on the value it started with\)\n", done.stdout), done  # fmt: skip
        assert done.stderr == note, done.stderr
        out = json.loads(d.cli("reload", "--json").stdout)
        assert out["applied"] and out["needs_restart"] == ["daemon.http.port"], out
        shown = d.cli("status")
        assert shown.returncode == 0 and shown.stderr == note, shown
        assert shown.stdout.startswith("cot (not seen yet): ") and (
            "Changed in the config file, applied only when the monitor starts: daemon.http.port. Restart the monitor: stop "
            "'spasmwatch run' (Ctrl+C) and start it again. It monitors meanwhile, on the settings it started with.\n"
        ) in shown.stdout, shown.stdout
        acked = d.cli("ack")  # it asked the daemon, which has no alert open
        assert acked.returncode == 2 and acked.stderr == note + "spasmwatch ack: error: no open alert to acknowledge\n", acked.stderr

        # A daemon from before wrote two lines: the file's port is asked, as before (nothing there)...
        lock.write_text(f"{d.proc.pid}\n{config}\n")
        lost = d.cli("status")
        assert lost.returncode == 2 and f"no daemon answers at http://127.0.0.1:{new}/api/status" in lost.stderr, lost.stderr
        # ...and with the file's port the one it listens on, it is found, by its pid too ('reload')
        config.write_text(config.read_text().replace(f"port = {new}", f"port = {port}"))
        again = d.cli("reload")
        assert again.returncode == 0 and again.stdout.startswith("reloaded in ") and again.stderr == "", again
        assert d.cli("status").returncode == 0
    finally:
        d.stop()


def test_the_config_commands_find_the_daemon_by_its_lock_after_a_hand_edit_of_its_port(tmp_path: Path) -> None:
    """'config set' and 'config add-*' tell whether a daemon runs this file, and so whether to say
    'next: spasmwatch reload' or a restart, by the store's lock (the daemon's pid, the file it
    reloads). They asked the file's port: after a hand edit of [daemon.http] port (read only at a
    start) nothing answered there, and 'config set alerts.escalate_after_s 600' printed the value
    alone, 'config set daemon.http.port N' no restart, 'config add-band' 'next: spasmwatch run' (a
    second daemon on the store), 'config add-ntfy' for the installed service 'systemctl --user
    restart' (a reload applies it, the band kept). A daemon started from another file on the
    store, and none at all: as before."""
    port, new, config = free_port(), free_port(), tmp_path / "config.toml"
    config.write_text(f"[daemon.http]\nport = {port}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n"
                      f'[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip
    reload = f"next: spasmwatch reload --config {config} (it says what changed, or why the edit was not applied"
    restart = "daemon.http.port is read only when the daemon starts: next: "
    d = Run(tmp_path, config, port)
    try:
        d.wait(d.status, "the daemon to answer")
        other = tmp_path / "other.toml"  # another file on the store, with the port the daemon listens on
        other.write_text(config.read_text())
        config.write_text(config.read_text().replace(f"port = {port}", f"port = {new}"))  # by hand, while it runs

        said = d.cli("config", "set", "alerts.escalate_after_s", "600")
        assert said.returncode == 0 and said.stderr == "" and said.stdout == (
            f"alerts.escalate_after_s = 600  ({config})\n"
            f"the daemon running now applies it when told to reload (the bands stay connected): {reload})\n"
        ), said  # fmt: skip
        moved = d.cli("config", "set", "daemon.http.port", str(free_port()))
        assert moved.returncode == 0 and moved.stdout.endswith(f"\n{restart}stop 'spasmwatch run' (Ctrl+C) and start it again\n"), moved
        added = d.cli("config", "add-ntfy", "new", "--name", "aunt")
        assert added.returncode == 0 and added.stdout.endswith(
            "the daemon running now applies config.toml when told to reload: ntfy:aunt gets nothing until then.\n"
            f"{reload}), then spasmwatch test-alarm --channel ntfy:aunt --config {config} (does that phone ring?)\n"
        ), added.stdout
        band = d.cli("config", "add-band", "crib", "--transport", "sim", "--address", f"127.0.0.1:{free_port()}")
        assert band.returncode == 0 and band.stdout.endswith(
            f"the daemon running now applies the new band when told to reload (the bands stay connected): {reload})\n"
        ), band.stdout
        done = d.cli("reload")  # what they said to do
        assert done.returncode == 0 and "channel +ntfy:aunt" in done.stdout and "band +crib" in done.stdout, done

        # Started from another file on the store: a restart with this one, as before (its port answered)
        elsewhere = _cli(d, "config", "set", "alerts.escalate_after_s", "300", "--config", str(other))
        assert elsewhere.returncode == 0 and elsewhere.stdout.endswith(
            "\nthe daemon running now has not read this other.toml: next: stop 'spasmwatch run' (Ctrl+C) and start it again\n"
        ), elsewhere  # fmt: skip

        # The user service installed for this file: its own restart, and its reload named
        unit = d.cli("service", "install", "--no-start")
        assert unit.returncode == 0 and (tmp_path / "xdg" / "systemd" / "user" / "spasmwatch.service").exists(), unit
        moved = d.cli("config", "set", "daemon.http.port", str(free_port()))
        assert moved.returncode == 0 and moved.stdout.endswith(f"\n{restart}systemctl --user restart spasmwatch\n"), moved
        said = d.cli("config", "set", "alerts.escalate_after_s", "450")
        service = "; 'systemctl --user reload spasmwatch' does the same without a word)"
        assert said.returncode == 0 and said.stdout.endswith(f"{reload}{service}\n"), said
        added = d.cli("config", "add-ntfy", "new", "--name", "uncle")
        assert added.returncode == 0 and added.stdout.endswith(
            "the daemon running now applies config.toml when told to reload: ntfy:uncle gets nothing until then.\n"
            f"{reload}{service}, then spasmwatch test-alarm --channel ntfy:uncle --config {config} (does that phone ring?)\n"
        ), added.stdout
    finally:
        d.stop()
    alone = d.cli("config", "set", "alerts.escalate_after_s", "120")  # no daemon: the value alone, as before
    assert alone.returncode == 0 and alone.stdout == f"alerts.escalate_after_s = 120  ({config})\n", alone
