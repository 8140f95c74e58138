"""A sound channel on a computer with no audio player (Raspberry Pi OS Lite, a server) is a failing
channel from the daemon's start and each reload, not from the first alarm that does not sound.

Real parts: ``spasmwatch run`` as a subprocess (its band a simulated radio nobody runs), its PATH a
folder of this test's, where an ``aplay`` (a tiny script that exits 0) is put and taken away; an
ntfy receiver on 127.0.0.1; the SQLite store on disk; ``status`` and ``test-alarm`` as subprocesses.
Found by the family review of 2026-12-07: 'config init' said it, but 'spasmwatch status', the page
and /api/status showed the local alarm as fine until the first alarm failed.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from servers import free_port, http_recorder

from .test_reload import Run

NO_PLAYER = ("sound: the local alarm cannot sound on this computer: no audio player found (looked for paplay, aplay, ffplay, afplay): "
             "'sudo apt install alsa-utils' gives aplay (and a speaker plugged in), or [channels.sound] command names another")  # fmt: skip


def _config(port: int, ntfy_url: str | None) -> str:
    ntfy = f'[[channels.ntfy]]\nurl = "{ntfy_url}"\nname = "phone"\n\n' if ntfy_url else ""
    return (f"[daemon.http]\nport = {port}\n\n[channels.desktop]\nenabled = false\n\n{ntfy}"
            f'[[bands]]\nname = "cot"\ntransport = "sim"\naddress = "127.0.0.1:{free_port()}"\n')  # fmt: skip


def _said(d: Run, words: str) -> int:
    return len(re.findall(re.escape(words), d.text()))


def test_a_sound_channel_with_no_audio_player_is_failing_from_the_start_and_each_reload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port, config, players = free_port(), tmp_path / "config.toml", tmp_path / "bin"
    players.mkdir()
    monkeypatch.setenv("PATH", str(players))  # the daemon's and the commands' (Run copies os.environ): no player there yet
    aplay = players / "aplay"

    async def main() -> None:
        async with http_recorder() as phones:
            config.write_text(_config(port, None))
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(d.wait, lambda: d.status()["channels"] == ["sound"], "the daemon to answer")
                [f] = d.status()["channels_failing"]
                assert (f["channel"], f["error"], f["network"]) == ("sound", NO_PLAYER, False), f
                assert _said(d, f"{NO_PLAYER}; until then an alarm reaches nobody (no other channel delivers)") == 1, d.text()
                out = await asyncio.to_thread(d.cli, "status")
                assert out.returncode == 1, out
                assert "NOT DELIVERED on sound since " in out.stdout and f": {NO_PLAYER} (check the channel's settings and this computer" in out.stdout, out.stdout
                assert "NO CHANNEL DELIVERS: an alarm now reaches nobody, no phone and no speaker" in out.stdout, out.stdout

                # The phones added by a reload: what still carries an alarm; the sound said once, not at each reload.
                config.write_text(_config(port, phones.url + "/phone-" + "x" * 20))
                await asyncio.to_thread(d.reload, 1)
                st = d.status()
                assert [c["channel"] for c in st["channels_failing"]] == ["sound"] and st["channels_failing"][0]["since"] == f["since"], st
                out = await asyncio.to_thread(d.cli, "status")
                assert "NOT DELIVERED on sound since " in out.stdout and "the other channels (ntfy:phone) are not failing" in out.stdout, out.stdout
                assert _said(d, "the local alarm cannot sound on this computer") == 1, d.text()
            finally:
                await asyncio.to_thread(d.stop)

            # A player installed, then a restart: the failure kept for want of one is gone (a test alarm tells whether it is heard).
            aplay.write_text("#!/bin/sh\nexit 0\n")
            aplay.chmod(0o755)
            d = Run(tmp_path, config, port)
            try:
                await asyncio.to_thread(d.wait, lambda: d.status()["channels"] == ["ntfy:phone", "sound"], "the daemon to answer")
                assert d.status()["channels_failing"] == []
                assert _said(d, "sound: an audio player is found now (aplay): the local alarm is no longer shown failing for want of one; "
                                "'spasmwatch test-alarm --channel sound' tells whether it is heard") == 1, d.text()  # fmt: skip
                out = await asyncio.to_thread(d.cli, "status")
                assert out.returncode == 0 and "NOT DELIVERED" not in out.stdout, out

                # The player taken away, then a reload: failing again, said again (a change).
                aplay.unlink()
                await asyncio.to_thread(d.reload, 1)
                assert [c["channel"] for c in d.status()["channels_failing"]] == ["sound"]
                assert _said(d, f"{NO_PLAYER}; until then an alarm goes only to ntfy:phone") == 1, d.text()
                assert phones.seen == []  # nothing was sent by the starts and reloads
            finally:
                await asyncio.to_thread(d.stop)

    asyncio.run(asyncio.wait_for(main(), 240))
