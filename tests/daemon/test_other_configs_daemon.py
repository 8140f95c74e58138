"""A command given one config does not act on another config's daemon listening on the same port.

Real parts: ``spasmwatch run --config A`` as a subprocess (its own data folder, its band a
simulated radio nobody runs), an ntfy receiver on 127.0.0.1, ``status``, ``ack`` and
``test-alarm --config B`` as subprocesses (B: another data folder, the same [daemon.http] port, as
two configs left at the default 8765 are), and, for a daemon from before /api/status said its
store, A's own status served without the field by a plain aiohttp server on that port. Found by
the first-hour review: until 2026-12-06 every command for B answered with A's bands and channels,
and 'test-alarm' rang A's phones. A daemon on another computer (A in a UTS namespace of its own,
under another host name: unshare) is B's by where it answers; one stopped (SIGSTOP) is not
confirmed, and nothing is sent to it (the cliedges review).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web
from servers import free_port, http_recorder

from .test_reload import UP_S

TOPIC = "/a-phone-" + "x" * 20


def _config(folder: Path, port: int, extra: str = "", http: str = "") -> Path:
    path = folder / "config.toml"
    folder.mkdir()
    path.write_text(f'[daemon]\ndata_dir = "{folder / "data"}"\n\n[daemon.http]\nport = {port}\n{http}\n[channels.sound]\nenabled = false\n\n'
                    f"[channels.desktop]\nenabled = false\n{extra}\n"
                    f'[[bands]]\nname = "cot-{folder.name}"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip
    return path


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "xdg"), SPASMWATCH_CONFIG=str(tmp / "none.toml"))
    env.pop("SPASMWATCH_DATA_DIR", None)  # each config's data_dir counts
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=120, env=env)


def _status(port: int, token: str = "") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers=headers), timeout=5) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def _wait_up(proc: subprocess.Popen[str], port: int, token: str = "") -> dict[str, Any]:
    end = time.monotonic() + UP_S
    while True:
        assert proc.poll() is None, f"daemon A exited ({proc.returncode})"
        try:
            return _status(port, token)
        except OSError:
            assert time.monotonic() < end, "daemon A did not answer"
            time.sleep(0.1)


def _a_running_beside_b(tmp_path: Path, port: int, env: dict[str, str], phone_url: str) -> tuple[Path, Path, subprocess.Popen[str]]:
    """Config A (its band cot-a, its ntfy channel 'phone' to ``phone_url``) with its daemon started
    (log in a.log), and config B asking for the same ``port``."""
    a = _config(tmp_path / "a", port, f'\n[[channels.ntfy]]\nurl = "{phone_url}{TOPIC}"\nname = "phone"\n')
    b = _config(tmp_path / "b", port)
    with open(tmp_path / "a.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(a)], env=env, stderr=log, text=True)
    return a, b, proc


def test_commands_for_one_config_refuse_another_configs_daemon_naming_both(tmp_path: Path) -> None:
    port, env = free_port(), _env(tmp_path)

    async def main() -> None:
        async with http_recorder() as phone:
            a, b, proc = _a_running_beside_b(tmp_path, port, env, phone.url)
            try:
                st = await asyncio.to_thread(_wait_up, proc, port)
                assert [x["name"] for x in st["bands"]] == ["cot-a"]
                a_store, b_store = tmp_path / "a" / "data" / "spasmwatch.db", tmp_path / "b" / "data" / "spasmwatch.db"
                said = (f"the daemon answering at 127.0.0.1:{port} is not the one of {b}: it runs on {a_store} (started from {a}), "
                        f"and no daemon runs on {b_store}, the store of {b}; nothing was sent to it. ")  # fmt: skip
                for args in (["status"], ["ack"], ["test-alarm"]):
                    out = await asyncio.to_thread(_cli, env, *args, "--config", str(b))
                    assert out.returncode != 0 and "cot-a" not in out.stdout and "ntfy:phone" not in out.stdout, out
                    assert said in out.stderr, out.stderr
                    assert (f"For that daemon: --config {a}; to run the daemon of {b} beside it, give it another [daemon.http] "
                            f"port (both ask for {port})") in out.stderr, out.stderr  # fmt: skip
                assert phone.seen == []  # A's phone did not ring for B's test alarm

                ok = await asyncio.to_thread(_cli, env, "status", "--config", str(a))  # A's own config: as before
                assert ok.returncode == 0 and "cot-a" in ok.stdout, ok
                older = {k: v for k, v in st.items() if k not in ("store_path", "config_path")}
            finally:
                proc.terminate()
                await asyncio.to_thread(proc.wait, 30)

            # A daemon from before the field (A's status without it, on the port): nothing said, as before.
            async def older_status(_: web.Request) -> web.Response:
                return web.json_response(older)

            app = web.Application()
            app.router.add_get("/api/status", older_status)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            try:
                out = await asyncio.to_thread(_cli, env, "status", "--config", str(b))
                assert out.returncode == 0 and "cot-a" in out.stdout and "is not the one of" not in out.stderr, out
            finally:
                await runner.cleanup()

    asyncio.run(asyncio.wait_for(main(), 180))


def test_listing_one_configs_clusters_reads_its_store_whatever_daemon_answers_on_the_port(tmp_path: Path) -> None:
    """Found by the review of the check (2026-12-06): 'clusters' without --label reads its config's
    store only and sends nothing to any daemon, yet it was refused (exit 2) whenever another
    config's daemon answered on the same port: B's own clusters could not be listed while A ran.
    A's status is served on the port by a plain aiohttp server, with A's store and file."""
    from spasmwatch.store import Store

    port, env = free_port(), _env(tmp_path)
    a, b = _config(tmp_path / "a", port), _config(tmp_path / "b", port)
    (tmp_path / "b" / "data").mkdir()
    with Store(tmp_path / "b" / "data" / "spasmwatch.db") as store:  # B's store, its daemon stopped
        store.upsert_device("cot-b", name="cot-b", wall_s=time.time() - 3600)
        store.upsert_cluster("cot-b", "c1", time.time() - 600, time.time() - 540, 4, time.time() - 540, None, False, wall_s=time.time())
    a_status = {"now": time.time(), "bands": [], "alerts": [], "store_path": str(tmp_path / "a" / "data" / "spasmwatch.db"), "config_path": str(a)}

    async def main() -> None:
        async def status(_: web.Request) -> web.Response:
            return web.json_response(a_status)

        app = web.Application()
        app.router.add_get("/api/status", status)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            out = await asyncio.to_thread(_cli, env, "clusters", "--config", str(b), "--since", "1d")
            assert out.returncode == 0 and "1 cluster(s)" in out.stdout and "cot-b" in out.stdout, out
            label = await asyncio.to_thread(_cli, env, "clusters", "--config", str(b), "--label", "1", "confirmed")
            assert label.returncode != 0 and f"is not the one of {b}" in label.stderr, label  # a label goes to the daemon: refused
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(main(), 120))


def _another_computer(*command: str) -> list[str]:
    """``command`` under the host name 'nursery-pi' (a UTS namespace of its own; as this user
    mapped to root in a user namespace when not root): to the daemon, another computer."""
    ns = ["unshare", "--uts"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--uts"]
    return [*ns, "sh", "-c", 'hostname nursery-pi && exec "$@"', "sh", *command]


PI_TOKEN = "pi-token-" + "t" * 24


def test_a_daemon_on_another_computer_is_this_configs_whatever_its_paths(tmp_path: Path) -> None:
    """Found by the cliedges review: a laptop's config naming the Pi's daemon ([daemon.http] host)
    was refused by every command: the Pi's store and file are never the laptop's paths. It is the
    laptop config's by the Pi's token, which the Pi's daemon takes alone (lan = true)."""
    port, env = free_port(), _env(tmp_path)
    a = _config(tmp_path / "a", port, http=f'lan = true\ntoken = "{PI_TOKEN}"\n')
    b = _config(tmp_path / "b", port, http=f'host = "127.0.0.1"\ntoken = "{PI_TOKEN}"\n')
    with open(tmp_path / "a.log", "w") as log:
        proc = subprocess.Popen(_another_computer(sys.executable, "-m", "spasmwatch", "run", "--config", str(a)), env=env, stderr=log, text=True)
    try:
        st = _wait_up(proc, port, PI_TOKEN)
        assert st["hostname"] == "nursery-pi" != socket.gethostname()
        out = _cli(env, "status", "--config", str(b))
        assert out.returncode in (0, 1) and "cot-a" in out.stdout and "is not the one of" not in out.stderr, out
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_daemon_under_another_host_name_taking_any_request_is_not_this_configs(tmp_path: Path) -> None:
    """Found by the second cliedges review: a daemon under another host name (a container's, with the
    host's network) answering on 127.0.0.1 without a token was taken for any config's naming that
    port, its paths not compared: B's 'status' showed A's band, and B's 'ack' or 'test-alarm' went
    to A. Nothing ties it to B unless it takes B's token alone: compared by its paths, as on this
    computer, whether B sends no token or one A does not ask for. A's port stands for one forwarded
    to another computer's daemon (ssh -L to a Pi's, which needs no token on its loopback): the
    refusal leads with what ties them, one [daemon.http] token in both configs (since the exit
    review; before, the way to run B's daemon beside it, and to give A B's token when B had none).
    Following it ties them: ``test_a_daemon_on_another_computer_is_this_configs_whatever_its_paths``."""
    port, env = free_port(), _env(tmp_path)
    a = _config(tmp_path / "a", port)
    b, b2 = _config(tmp_path / "b", port), _config(tmp_path / "b2", port, http=f'token = "{PI_TOKEN}"\n')
    with open(tmp_path / "a.log", "w") as log:
        proc = subprocess.Popen(_another_computer(sys.executable, "-m", "spasmwatch", "run", "--config", str(a)), env=env, stderr=log, text=True)
    try:
        assert _wait_up(proc, port)["hostname"] == "nursery-pi"
        for config in (b, b2):
            for args in (["status"], ["ack"]):
                out = _cli(env, *args, "--config", str(config))
                assert out.returncode == 2 and "cot-a" not in out.stdout, out
                assert f"the daemon answering at 127.0.0.1:{port} is not known to be the one of {config}: it runs on another computer (nursery-pi: a port forwarded to it, ssh -L, or its address) and takes requests without a token" in out.stderr, out.stderr
                # the way to tie them first (one token in both configs, named by its key), the daemon beside it after
                ours = "this config's token is not asked for" if config == b2 else f"{config} has none"
                tie = (f"({ours}), so nothing was sent to it. To use it from here, give both configs the same [daemon.http] token, a random "
                       "string of at least 16 characters: on nursery-pi, 'spasmwatch config set daemon.http.token -', then restart that daemon; here, "
                       f"'spasmwatch config set daemon.http.token - --config {config}'. To run a daemon of {config} on this computer instead")  # fmt: skip
                assert tie in out.stderr, out.stderr
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_daemon_silent_on_the_port_is_not_confirmed_and_nothing_is_sent_to_it(tmp_path: Path) -> None:
    """Found by the cliedges review: the check gave up after 2 s without a word, and the command then
    sent its request; a daemon stopped meanwhile (SIGSTOP, a debugger, a loaded machine) served it
    once it ran again: A's phone rang for B's 'test-alarm'. Now nothing is sent, and it says why."""
    port, env = free_port(), _env(tmp_path)

    async def main() -> None:
        async with http_recorder() as phone:
            a, b, proc = _a_running_beside_b(tmp_path, port, env, phone.url)
            try:
                await asyncio.to_thread(_wait_up, proc, port)
                proc.send_signal(signal.SIGSTOP)
                try:
                    out = await asyncio.to_thread(_cli, env, "test-alarm", "--config", str(b))
                finally:
                    proc.send_signal(signal.SIGCONT)
                assert out.returncode == 2 and "nothing was sent to it" in out.stderr, out
                assert f"could not confirm which daemon answers at 127.0.0.1:{port}, nor that it is the one of {b}: nothing answered within 5 s" in out.stderr
                # A's own test alarm, after whatever it was left with: its phone rings once, for it alone
                own = await asyncio.to_thread(_cli, env, "test-alarm", "--config", str(a))
                assert own.returncode == 0, own
                assert len(phone.seen) == 1, phone.seen
            finally:
                proc.terminate()
                await asyncio.to_thread(proc.wait, 30)

    asyncio.run(asyncio.wait_for(main(), 180))
