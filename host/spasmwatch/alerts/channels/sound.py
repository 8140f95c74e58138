"""The local alarm: it must work with no internet and no account anywhere.

A two-tone alarm WAV is generated with the ``wave`` module (no binary assets
in the repository) and played through the first audio player that works. If
none does, the terminal bell is rung when there is a terminal, and the
channel still reports the failure: a caregiver relying on sound has to know
there was none.

An alarm nobody has acknowledged plays again every ``repeat_every_s``, for at
most ``repeat_for_s``: one two-second pattern is easy to sleep through. The
daemon's ticker calls ``ring_due(now)`` with its own clock (the engine's); the
channel asks ``alarm_open`` (the daemon's alert engine) before each repeat, so
an acknowledgement (or "false alarm") stops it. Without a daemon it plays once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import struct
import sys
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import platformdirs

from spasmwatch import private
from spasmwatch.alerts import sound_tool
from spasmwatch.alerts.channels._proc import run
from spasmwatch.alerts.channels.base import NOT_HOW_IT_DELIVERS, ChannelError, SettingsChannel, same_path, written_as
from spasmwatch.alerts.channels.outbox import OPEN_ALARM_STATES
from spasmwatch.alerts.model import SOUND_REPEAT_EVERY_S, SOUND_REPEAT_FOR_S, Notification, Urgency

log = logging.getLogger(__name__)

RATE_HZ = 16000


@dataclass(frozen=True)
class SoundSettings:
    """``command``: a player of your own, ``{wav}`` replaced by the file (appended if absent)."""

    name: str = "sound"
    command: tuple[str, ...] = ()
    wav_path: Path | None = field(default=None, metadata=written_as(same_path))  # default: default_wav_path(), the user's own cache folder
    repeats: int = 3  # beep pairs per alarm
    timeout_s: float = 30.0
    bell: bool = True
    min_urgency: Urgency = Urgency.URGENT  # alarms and escalations only
    repeat_every_s: float = field(default=SOUND_REPEAT_EVERY_S, metadata=NOT_HOW_IT_DELIVERS)  # an unacknowledged alarm plays again this often (0: once)
    repeat_for_s: float = field(default=SOUND_REPEAT_FOR_S, metadata=NOT_HOW_IT_DELIVERS)  # ... for at most this long after it first played


def default_wav_path() -> Path:
    """Where the alarm WAV is written: ``alarm.wav`` in the user's cache folder
    (``~/.cache/spasmwatch``, made 0700), else in a temp folder of this process's own.

    Until 2026-12-05 it was ``/tmp/spasmwatch-alarm.wav``, one name for every account in a folder
    anyone writes: once another account's spasmwatch (a demo, a test) had made it, this one could
    not write it (measured: PermissionError, so the sound channel failed and the local alarm did
    not sound), and an account that made it first could swap its sound for silence, or make it a
    link to one of this user's files, which the daemon then overwrote."""
    cache = Path(platformdirs.user_cache_dir("spasmwatch"))
    try:
        private.make_dir(cache)
    except OSError:  # no home to write in (a system user): a name nobody can take first
        return Path(tempfile.mkdtemp(prefix="spasmwatch-sound-")) / "alarm.wav"
    return cache / "alarm.wav"


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


@dataclass
class _Ringing:
    """An unanswered alarm's repeats (times on the daemon's clock)."""

    first_t: float
    next_t: float
    played: int = 0
    failed: int = 0


class SoundChannel(SettingsChannel[SoundSettings]):
    def __init__(self, settings: SoundSettings | None = None, terminal: TextIO | None = None) -> None:
        super().__init__(settings or SoundSettings())
        self._terminal = terminal if terminal is not None else sys.stderr
        self._wav: Path | None = None
        # Whether alert ``id`` is an alarm nobody has acknowledged yet (the daemon sets it to its
        # engine's ``alarm_open``); None: nothing to ask, each alarm plays once.
        self.alarm_open: Callable[[int], bool] | None = None
        # Alert id -> its repeats: when it first played and when the next is due (the daemon's
        # clock), and how many played. Bounded: an entry goes when its alarm is answered or
        # repeat_for_s has passed.
        self._ringing: dict[int, _Ringing] = {}
        self._repeat: asyncio.Task[None] | None = None  # the repeat playing now (one at a time)
        self._playing = asyncio.Lock()  # a repeat and a new alarm never play over each other

    def wav(self) -> Path:
        if self._wav is None or not self._wav.exists():
            path = self.settings.wav_path or default_wav_path()
            self._wav = write_alarm_wav(path, self.settings.repeats)
        return self._wav

    def players(self, wav: Path) -> list[list[str]]:
        """Command lines to try, in order: the configured one, else every known player found."""
        s = self.settings
        if s.command:
            argv = [a.replace("{wav}", str(wav)) for a in s.command]
            return [argv if any("{wav}" in a for a in s.command) else [*argv, str(wav)]]
        return [[exe, *args, str(wav)] for exe, args in sound_tool.players()]

    def player_name(self) -> str | None:
        """What it plays with first: its own command's program, else the first known player found
        (None: neither, no alarm can sound here)."""
        found = self.players(Path("alarm.wav"))
        return Path(found[0][0]).name if found else None

    def cannot_sound(self) -> str | None:
        """Why no alarm can sound at all on this computer (None: one may): its own command's program
        not found (a typo, or uninstalled), or no command and none of the known players (Raspberry
        Pi OS Lite, a server). The daemon asks at its start and each reload, so that the family sees
        it before an alarm is lost; a player found may still fail, or play to no speaker, which only
        a test alarm listened to tells."""
        program = self.settings.command[:1]
        if program and shutil.which(program[0]) is None:
            return sound_tool.command_missing(program[0])
        return sound_tool.CANNOT_SOUND if self.player_name() is None else None

    async def send(self, n: Notification) -> None:
        await self._play()
        if n.state in OPEN_ALARM_STATES:
            self.keep_ringing(n.alert_id, n.created_t)

    async def close(self) -> None:
        if self._repeat is not None:
            self._repeat.cancel()
            await asyncio.gather(self._repeat, return_exceptions=True)

    def ringing(self) -> dict[int, float]:
        """The alarms it repeats: alert id -> when each first played (a channel a config reload
        puts in its place carries them on, ``keep_ringing``)."""
        return {alert_id: r.first_t for alert_id, r in self._ringing.items()}

    def keep_ringing(self, alert_id: int, first_t: float) -> None:
        """Play ``alert_id``'s alarm again while it is open, until ``repeat_for_s`` after ``first_t``
        (when it first played, on the daemon's clock: a daemon restarted during an alarm carries
        on with what is left)."""
        s = self.settings
        if self.alarm_open is None or s.repeat_every_s <= 0 or alert_id in self._ringing:
            return  # an escalation of an alarm already repeating changes nothing
        self._ringing[alert_id] = _Ringing(first_t, first_t + s.repeat_every_s)

    def ring_due(self, now: float) -> None:
        """The daemon's tick: start the repeat that is due (one at a time), forget the alarms
        answered or past ``repeat_for_s``."""
        for alert_id, r in list(self._ringing.items()):
            answered = self.alarm_open is None or not self.alarm_open(alert_id)
            if answered or now >= r.first_t + self.settings.repeat_for_s:
                del self._ringing[alert_id]
                failed = f", {r.failed} failed" if r.failed else ""
                log.info("alert %d: alarm sound repeated %d time(s)%s", alert_id, r.played, failed)
            elif now >= r.next_t and (self._repeat is None or self._repeat.done()):
                r.next_t = now + self.settings.repeat_every_s
                self._repeat = asyncio.get_running_loop().create_task(self._play_again(alert_id, r))

    async def _play_again(self, alert_id: int, r: _Ringing) -> None:
        try:
            await self._play()
            r.played += 1
        except ChannelError as e:
            r.failed += 1
            if r.failed == 1:  # the first play's failure went through the dispatcher already
                log.warning("alert %d: the repeated alarm sound failed: %s", alert_id, e)

    async def _play(self) -> None:
        async with self._playing:
            await self._play_once()

    async def _play_once(self) -> None:
        wav = self.wav()
        tried: list[str] = []
        for argv in self.players(wav):
            code, out = await run(argv, self.settings.timeout_s)
            if code == 0:
                return
            tried.append(f"{Path(argv[0]).name} exit {code}{': ' + out if out else ''}")
        if not tried:
            tried.append(sound_tool.NO_PLAYER)
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
