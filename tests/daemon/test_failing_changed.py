"""A channel's kept failure belongs to the channel as it was configured when it failed: a channel
whose settings changed since (a new ntfy server) starts unknown after a restart, and 'spasmwatch
status' says to test it; an unchanged one is still shown failing (test_channels_failing_kept.py).

Real parts: ``spasmwatch run`` as a subprocess (its band a simulated radio nobody runs: no band
is needed to send a test alarm), ntfy receivers on 127.0.0.1 (one answering 500, one 200), the
SQLite store on disk, ``spasmwatch config set``, ``test-alarm`` and ``status`` as subprocesses.
Found by the first-hour review: until 2026-12-06 the restarted daemon showed the old server's
error and "NO CHANNEL DELIVERS" until the next test alarm, though the phone's new server worked.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import stat
from pathlib import Path

from servers import free_port, http_recorder

from .test_reload import Run

TOPIC = "/phone-" + "x" * 20


def _config(port: int, ntfy_url: str) -> str:
    return (f"[daemon.http]\nport = {port}\n\n[channels.sound]\nenabled = false\n\n[channels.desktop]\nenabled = false\n\n"
            f'[[channels.ntfy]]\nurl = "{ntfy_url}"\nname = "phone"\n\n'
            f'[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip


def _up(d: Run) -> None:
    d.wait(lambda: d.status()["channels"] == ["ntfy:phone"], "the daemon to answer")


def test_a_channel_changed_since_it_failed_starts_unknown_after_a_restart_and_status_says_to_test_it(tmp_path: Path) -> None:
    port, config = free_port(), tmp_path / "config.toml"

    async def main() -> None:
        async with http_recorder([500] * 20) as broken, http_recorder() as working:
            config.write_text(_config(port, broken.url + TOPIC))
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(_up, d)
                failed = await asyncio.to_thread(d.cli, "test-alarm")
                assert failed.returncode != 0 and "ntfy:phone" in failed.stdout, failed
                [f] = d.status()["channels_failing"]
                assert "500" in f["error"], f
            finally:
                await asyncio.to_thread(d.stop)

            # The same channel: its failure outlives a restart (deliberate: the family must see it).
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(_up, d)
                assert [c["channel"] for c in d.status()["channels_failing"]] == ["ntfy:phone"]
            finally:
                await asyncio.to_thread(d.stop)

            # Moved to a server that works, then restarted: its old failure is not this channel's.
            set_url = await asyncio.to_thread(d.cli, "config", "set", "channels.ntfy.0.url", working.url + TOPIC)
            assert set_url.returncode == 0, set_url
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(_up, d)
                st = d.status()
                assert st["channels_failing"] == [], st["channels_failing"]
                [changed] = st["channels_changed"]
                assert changed["channel"] == "ntfy:phone" and changed["since"] == f["since"] and "500" in changed["error"], changed
                out = await asyncio.to_thread(d.cli, "status")
                assert out.returncode == 0, out
                assert "NOT DELIVERED" not in out.stdout and "NO CHANNEL DELIVERS" not in out.stdout, out.stdout
                assert ("ntfy:phone: changed since it failed at " in out.stdout
                        and f"not known to deliver until it sends: test it with 'spasmwatch test-alarm --channel ntfy:phone --config {config}'"
                        in out.stdout), out.stdout  # fmt: skip
                assert working.seen == []  # nothing was sent by the restart

                rang = await asyncio.to_thread(d.cli, "test-alarm", "--channel", "ntfy:phone")
                assert rang.returncode == 0 and "ntfy:phone: delivered" in rang.stdout, rang
                st = d.status()
                assert st["channels_failing"] == [] and st["channels_changed"] == [], st
            finally:
                await asyncio.to_thread(d.stop)

            d = Run(tmp_path, config, port)  # and the next start knows nothing of the old failure
            try:
                await asyncio.to_thread(_up, d)
                st = d.status()
                assert st["channels_failing"] == [] and st["channels_changed"] == [], st
            finally:
                await asyncio.to_thread(d.stop)

    asyncio.run(asyncio.wait_for(main(), 240))


def _unkeyed(url: str) -> str:
    """What the store kept until the keyed fingerprint: SHA-256 of the settings as hashed, which
    anyone with a copy of the store could compute for a guessed topic (an ntfy URL at its defaults)."""
    return hashlib.sha256(repr([("url", url)]).encode()).hexdigest()[:16]


def test_the_kept_fingerprint_needs_the_key_beside_the_config_and_a_lost_key_makes_the_channel_changed(tmp_path: Path) -> None:
    """A copy of the store (sent to a clinic) must not confirm a guessed topic: the fingerprint is
    keyed by a random key kept beside the config (0600), never in the store. The key lost (a new
    computer, the config folder restored without it) cannot tell the settings: the channel is
    "changed: test it", the daemon starts, and the next start keeps the new key."""
    port, config = free_port(), tmp_path / "config.toml"
    key = tmp_path / "fingerprint.key"

    async def main() -> None:
        async with http_recorder([500] * 20) as broken:
            url = broken.url + TOPIC
            config.write_text(_config(port, url))
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(_up, d)
                failed = await asyncio.to_thread(d.cli, "test-alarm")
                assert failed.returncode != 0, failed
            finally:
                await asyncio.to_thread(d.stop)
            with sqlite3.connect(tmp_path / "data" / "spasmwatch.db") as db:
                [(kept,)] = db.execute("SELECT fingerprint FROM channels_failing").fetchall()
            assert kept is not None and len(kept) == 16 and kept != _unkeyed(url), kept
            assert stat.S_IMODE(key.stat().st_mode) == 0o600, oct(key.stat().st_mode)
            assert key.read_text().strip() not in (tmp_path / "data" / "spasmwatch.db").read_bytes().hex()

            key.unlink()  # lost: the settings cannot be told the same
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(_up, d)
                st = d.status()
                assert st["channels_failing"] == [] and [c["channel"] for c in st["channels_changed"]] == ["ntfy:phone"], st
                out = await asyncio.to_thread(d.cli, "status")
                assert "NOT DELIVERED" not in out.stdout and "ntfy:phone: changed since it failed at " in out.stdout, out.stdout
            finally:
                await asyncio.to_thread(d.stop)
            assert key.is_file()

            await asyncio.to_thread(_fail_again_then_restart, tmp_path, config, port)

    asyncio.run(asyncio.wait_for(main(), 240))


def _fail_again_then_restart(tmp_path: Path, config: Path, port: int) -> None:
    """With the new key: a failure kept is the channel's again at the next start (failing)."""
    d = Run(tmp_path, config, port)
    try:
        _up(d)
        assert d.cli("test-alarm").returncode != 0
    finally:
        d.stop()
    d = Run(tmp_path, config, port)
    try:
        _up(d)
        st = d.status()
        assert [c["channel"] for c in st["channels_failing"]] == ["ntfy:phone"] and st["channels_changed"] == [], st
    finally:
        d.stop()
