"""The key of the failing channels' fingerprints (alerts/channels/fingerprint_key.py) for a config in
a folder the daemon may not write: root's /etc/spasmwatch under a service account, a config on a
read-only disk. The key cannot be made beside it; it is kept in the account's state folder
($XDG_STATE_HOME/spasmwatch) and found there at every start. Found by the second cliedges review:
each start made a key for its run alone, so a channel that failed and still fails was shown
"changed: test it" after every restart, off the page's red banner and Home Assistant's
"Notifications failing", as if someone had fixed it.

Real parts: ``spasmwatch run`` as nobody (as this user when not root, the config's folder then
made read-only), a folder of root's holding the config, an ntfy receiver on 127.0.0.1 answering
500, ``test-alarm`` as a subprocess, the SQLite store on disk."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemonproc import UP_S, api_status, one_band_config, status_once_up, unprivileged
from servers import free_port, http_recorder

NOBODY = 65534
TOPIC = "/phone-" + "x" * 20


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder the daemon may not write (root's, 0755; as another user its own, made 0555 in the
    test), holding the config; in it, folders the daemon may write: its data, runtime and state."""
    made = Path(tempfile.mkdtemp(prefix="sw-keykept-", dir="/tmp"))  # not under pytest's 0700 folder: nobody reaches it
    made.chmod(0o755)
    try:
        for sub in ("data", "run", "state"):
            (made / sub).mkdir(mode=0o700)
            if os.geteuid() == 0:
                os.chown(made / sub, NOBODY, NOBODY)
        yield made
    finally:
        made.chmod(0o755)
        shutil.rmtree(made)


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(unprivileged(cmd), stderr=subprocess.PIPE, text=True, env=env)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    log = proc.communicate(timeout=UP_S)[1]
    assert proc.returncode == 0 and "Traceback" not in log, log
    return log


def _failing_and_changed(port: int) -> tuple[list[Any], list[Any]]:
    st = api_status(port)
    assert st is not None
    return [c["channel"] for c in st["channels_failing"]], [c["channel"] for c in st["channels_changed"]]


def test_a_failing_channel_stays_failing_across_restarts_when_the_configs_folder_may_not_be_written(folder: Path) -> None:
    port = free_port()
    env = dict(os.environ, XDG_RUNTIME_DIR=str(folder / "run"), XDG_STATE_HOME=str(folder / "state"))
    run = [sys.executable, "-m", "spasmwatch", "run", "--config", str(folder / "config.toml")]

    async def main() -> None:
        async with http_recorder([500] * 50) as broken:
            config = one_band_config(folder / "config.toml", folder / "data", port)
            with config.open("a") as f:
                f.write(f'\n[[channels.ntfy]]\nurl = "{broken.url}{TOPIC}"\nname = "phone"\n')
            config.chmod(0o644)
            if os.geteuid() != 0:
                folder.chmod(0o555)
            proc = _run(run, env)
            try:
                await asyncio.to_thread(status_once_up, proc, port)
                alarm = await asyncio.to_thread(subprocess.run, unprivileged([*run[:-3], "test-alarm", "--config", str(config)]),
                                                env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
                assert alarm.returncode != 0 and "ntfy:phone" in alarm.stdout, alarm
                assert _failing_and_changed(port) == (["ntfy:phone"], [])
            finally:
                first = await asyncio.to_thread(_stop, proc)
            for _ in range(2):  # restarted, twice: still failing, never "changed", its settings the same
                proc = _run(run, env)
                try:
                    await asyncio.to_thread(status_once_up, proc, port)
                    assert _failing_and_changed(port) == (["ntfy:phone"], []), (proc.pid, len(broken.seen))
                finally:
                    await asyncio.to_thread(_stop, proc)
            assert "one for this run alone" not in first, first
            kept = folder / "state" / "spasmwatch" / "fingerprint.key"
            assert not (folder / "fingerprint.key").exists() and stat.S_IMODE(kept.stat().st_mode) == 0o600
            assert kept.stat().st_uid == (NOBODY if os.geteuid() == 0 else os.getuid())

    asyncio.run(asyncio.wait_for(main(), 240))
