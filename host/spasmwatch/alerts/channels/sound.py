"""The local alarm: it must work with no internet and no account anywhere.

A two-tone alarm WAV is generated with the ``wave`` module (no binary assets
in the repository) and played through the first audio player that works. If
none does, the terminal bell is rung when there is a terminal, and the
channel still reports the failure: a caregiver relying on sound has to know
there was none.
"""

from __future__ import annotations

import math
import shutil
import struct
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from spasmwatch.alerts.channels._proc import run
from spasmwatch.alerts.channels.base import ChannelError, SettingsChannel
from spasmwatch.alerts.model import Notification, Urgency

RATE_HZ = 16000
# Player name -> arguments before the file. ffplay needs flags to quit when done.
PLAYERS: dict[str, list[str]] = {
    "paplay": [],
    "aplay": ["-q"],
    "ffplay": ["-nodisp", "-autoexit", "-loglevel", "error"],
    "afplay": [],
}


@dataclass(frozen=True)
class SoundSettings:
    """``command``: a player of your own, ``{wav}`` replaced by the file (appended if absent)."""

    name: str = "sound"
    command: tuple[str, ...] = ()
    wav_path: Path | None = None  # default: a file in the temp directory
    repeats: int = 3  # beep pairs per alarm
    timeout_s: float = 30.0
    bell: bool = True
    min_urgency: Urgency = Urgency.URGENT  # alarms and escalations only


def write_alarm_wav(path: Path, repeats: int = 3, rate_hz: int = RATE_HZ) -> Path:
    """A loud, unmistakable two-tone pattern (960/640 Hz, 0.25 s each, short gap), 16-bit mono."""
    frames = bytearray()
    for _ in range(max(1, repeats)):
        for freq in (960.0, 640.0):
            frames += _tone(freq, 0.25, rate_hz)
        frames += bytes(2 * int(0.1 * rate_hz))  # silence
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(bytes(frames))
    return path


def _tone(freq: float, dur_s: float, rate_hz: int) -> bytes:
    n = int(dur_s * rate_hz)
    ramp = int(0.005 * rate_hz)  # 5 ms fades, so the speaker does not click
    out = bytearray()
    for i in range(n):
        env = min(1.0, i / ramp, (n - 1 - i) / ramp)
        out += struct.pack("<h", int(0.8 * 32767 * env * math.sin(2 * math.pi * freq * i / rate_hz)))
    return bytes(out)


class SoundChannel(SettingsChannel[SoundSettings]):
    def __init__(self, settings: SoundSettings | None = None, terminal: TextIO | None = None) -> None:
        super().__init__(settings or SoundSettings())
        self._terminal = terminal if terminal is not None else sys.stderr
        self._wav: Path | None = None

    def wav(self) -> Path:
        if self._wav is None or not self._wav.exists():
            path = self.settings.wav_path or Path(tempfile.gettempdir()) / "spasmwatch-alarm.wav"
            self._wav = write_alarm_wav(path, self.settings.repeats)
        return self._wav

    def players(self, wav: Path) -> list[list[str]]:
        """Command lines to try, in order: the configured one, else every known player found."""
        s = self.settings
        if s.command:
            argv = [a.replace("{wav}", str(wav)) for a in s.command]
            return [argv if any("{wav}" in a for a in s.command) else [*argv, str(wav)]]
        found = [(shutil.which(p), args) for p, args in PLAYERS.items()]
        return [[exe, *args, str(wav)] for exe, args in found if exe is not None]

    async def send(self, n: Notification) -> None:
        wav = self.wav()
        tried: list[str] = []
        for argv in self.players(wav):
            code, out = await run(argv, self.settings.timeout_s)
            if code == 0:
                return
            tried.append(f"{Path(argv[0]).name} exit {code}{': ' + out if out else ''}")
        if not tried:
            tried.append(f"no audio player found (looked for {', '.join(PLAYERS)})")
        rang = self._bell()
        raise ChannelError(
            self.name,
            "could not play the alarm sound: " + "; ".join(tried) + ("; rang the terminal bell" if rang else ""),
            retryable=False,
        )

    def _bell(self) -> bool:
        # A bell nobody hears is no fallback; only ring a real terminal.
        if not self.settings.bell or not self._terminal.isatty():
            return False
        self._terminal.write("\a")
        self._terminal.flush()
        return True
