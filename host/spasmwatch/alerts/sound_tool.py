"""The audio players the sound channel plays its alarm with (channels/sound.py): apart from the
channel so that 'config init' asks whether this computer has one without importing every channel
(MQTT's paho among them), as desktop_tool.py does for desktop notifications."""

from __future__ import annotations

import shutil

# Player name -> arguments before the file. ffplay needs flags to quit when done.
PLAYERS: dict[str, list[str]] = {
    "paplay": [],
    "aplay": ["-q"],
    "ffplay": ["-nodisp", "-autoexit", "-loglevel", "error"],
    "afplay": [],
}

# What a computer with none of them lacks, and how it gets one (Debian, Raspberry Pi OS: alsa-utils).
NO_PLAYER = (f"no audio player found (looked for {', '.join(PLAYERS)}): 'sudo apt install alsa-utils' gives aplay "
             "(and a speaker plugged in), or [channels.sound] command names another")  # fmt: skip
# What the daemon (its start, each reload) says of a sound channel that cannot sound, before why: a
# failure it noted so is forgotten once a start or reload finds it can (the player installed, the command mended).
CANNOT_SOUND_HERE = "the local alarm cannot sound on this computer"
# What 'config init' and the daemon say of a sound channel on a computer with no player.
CANNOT_SOUND = f"{CANNOT_SOUND_HERE}: {NO_PLAYER}"


def command_missing(program: str) -> str:
    """What the daemon says of a [channels.sound] command whose program this computer lacks."""
    return (f"{CANNOT_SOUND_HERE}: [channels.sound] command's program {program!r} is not "
            "found (not installed, not on the PATH, or not executable): install it, or correct or remove the command")  # fmt: skip


def players() -> list[tuple[str, list[str]]]:
    """Each known player this computer has, (path, arguments before the file), in PLAYERS' order."""
    found = [(shutil.which(name), args) for name, args in PLAYERS.items()]
    return [(exe, args) for exe, args in found if exe is not None]
