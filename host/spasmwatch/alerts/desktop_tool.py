"""The tool this computer shows desktop notifications with: apart from the channel (channels/desktop.py)
so that 'config init' asks without importing every channel (MQTT's paho among them)."""

from __future__ import annotations

import shutil


def tool() -> tuple[str, str] | None:
    """The tool this computer shows notifications with, (name, path): notify-send (Linux) or
    osascript (macOS); None on one without (a Raspberry Pi, a server: 'config init' then writes the
    channel switched off)."""
    for name in ("notify-send", "osascript"):
        exe = shutil.which(name)
        if exe is not None:
            return name, exe
    return None
