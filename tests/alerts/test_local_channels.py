"""Sound and desktop channels: the real external-command invocation, with recording scripts."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from synthetic import HandClock

from spasmwatch.alerts import AlertSettings, NoticeKind, Urgency, sound_tool
from spasmwatch.alerts.channels import (
    ChannelError,
    DesktopChannel,
    DesktopSettings,
    Dispatcher,
    RetrySettings,
    SoundChannel,
    SoundSettings,
)

from spasmwatch.daemon.daemon import Daemon
from spasmwatch.store import Store

from .conftest import notice

RECORDER = """#!{python}
import json, os, shutil, sys
out = os.environ["SW_RECORD"]
wav = [a for a in sys.argv[1:] if a.endswith(".wav")]
if wav:
    shutil.copy(wav[0], out + ".wav")
with open(out + ".json", "w") as f:
    json.dump(sys.argv, f)
sys.exit(int(os.environ.get("SW_EXIT", "0")))
"""


def _script(path: Path) -> Path:
    path.write_text(RECORDER.format(python=sys.executable))
    path.chmod(0o755)
    return path


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_sound_plays_a_valid_alarm_wav_through_the_configured_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    player = _script(tmp_path / "player")
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "played"))
    ch = SoundChannel(SoundSettings(command=(str(player), "--file", "{wav}"), wav_path=tmp_path / "alarm.wav"))
    asyncio.run(ch.send(notice()))
    argv = json.loads((tmp_path / "played.json").read_text())
    assert argv[1:] == ["--file", str(tmp_path / "alarm.wav")]
    with wave.open(str(tmp_path / "played.wav"), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        frames = w.readframes(w.getnframes())
        duration_s = w.getnframes() / w.getframerate()
    assert 1.0 < duration_s < 5.0
    peak = max(abs(int.from_bytes(frames[i : i + 2], "little", signed=True)) for i in range(0, len(frames), 2))
    assert peak > 20000  # loud, not a whisper


def test_sound_reports_clearly_when_nothing_can_play(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no paplay, aplay, ffplay or afplay here
    ch = SoundChannel(SoundSettings(wav_path=tmp_path / "a.wav"), terminal=io.StringIO())
    with pytest.raises(ChannelError, match=r"sound: could not play the alarm sound: no audio player found") as e:
        asyncio.run(ch.send(notice()))
    assert not e.value.retryable


def test_sound_failing_player_then_terminal_bell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _script(tmp_path / "aplay")  # an aplay with no sound card fails like this one
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "played"))
    monkeypatch.setenv("SW_EXIT", "1")
    tty = Tty()
    ch = SoundChannel(SoundSettings(wav_path=tmp_path / "a.wav"), terminal=tty)
    with pytest.raises(ChannelError, match="aplay exit 1; rang the terminal bell"):
        asyncio.run(ch.send(notice()))
    assert tty.getvalue() == "\a"
    assert json.loads((tmp_path / "played.json").read_text())[1] == "-q"


def test_sound_only_for_alarms_in_the_dispatcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    player = _script(tmp_path / "player")
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "played"))
    d = Dispatcher({"sound": SoundChannel(SoundSettings(command=(str(player),), wav_path=tmp_path / "a.wav"))})

    async def main() -> list[int]:
        low = await d.dispatch(notice(NoticeKind.CLUSTER_WARNING, urgency=Urgency.LOW))
        high = await d.dispatch(notice())
        return [len(low), len(high)]

    assert asyncio.run(main()) == [0, 1]


def test_desktop_invokes_notify_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _script(tmp_path / "notify-send")
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "ns"))
    asyncio.run(DesktopChannel().send(notice()))
    argv = json.loads((tmp_path / "ns.json").read_text())
    assert argv[1:] == [
        "--app-name", "spasmwatch", "--urgency", "critical", "--",
        "ALARM: possible spasm cluster (cot)", "3 spasm-like movements in a cluster since 10:00.",
    ]  # fmt: skip


def test_desktop_body_is_escaped_as_markup_and_the_title_is_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by review: a band named ``Tom & <Jerry>`` went to notify-send as it is. The Desktop
    Notifications spec makes the body markup on many servers (KDE, dunst): ``&`` and ``<`` there
    are a broken entity and a tag, and the server drops the body or cuts it. The body is escaped
    (``&amp; &lt; &gt;``, the spec's); the summary is plain text and passed as it is."""
    _script(tmp_path / "notify-send")
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "ns"))
    asyncio.run(DesktopChannel().send(notice(title="ALARM (Tom & <Jerry>)", text="Acknowledged by Anna & Bo <mum> > 3 at 10:00.")))
    argv = json.loads((tmp_path / "ns.json").read_text())
    assert argv[-2:] == ["ALARM (Tom & <Jerry>)", "Acknowledged by Anna &amp; Bo &lt;mum&gt; &gt; 3 at 10:00."], argv


def test_desktop_not_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ChannelError, match="desktop: desktop notifications not available"):
        asyncio.run(DesktopChannel(DesktopSettings()).send(notice()))


def test_a_computer_without_a_player_or_a_screen_is_told_the_way_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the first-run audit: on a Raspberry Pi without a screen (no notify-send) the desktop
    channel, on by default, failed every test alarm ('test-alarm' exit 1) and stayed NOT DELIVERED
    in 'status', saying only what was missing; a parent learns to read past such lines. Each now says
    what to do: switch the channel off, or install the tool."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ChannelError) as d:
        asyncio.run(DesktopChannel(DesktopSettings()).send(notice()))
    assert "without a screen: 'spasmwatch config set channels.desktop.enabled false'" in str(d.value), d.value
    assert "'sudo apt install libnotify-bin'" in str(d.value)
    with pytest.raises(ChannelError) as s:
        asyncio.run(SoundChannel(SoundSettings(wav_path=tmp_path / "a.wav"), terminal=io.StringIO()).send(notice()))
    assert "(looked for paplay, aplay, ffplay, afplay): 'sudo apt install alsa-utils' gives aplay" in str(s.value), s.value


def test_a_hung_player_gives_way_to_the_next_and_the_bell_under_the_dispatcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by review: the dispatcher cut the sound channel off at its network deadline, shorter
    than one player's own timeout, so a hung player left no fallback, no bell, and a process behind."""
    hung = tmp_path / "paplay"  # a stalled PulseAudio: the first player tried
    hung.write_text(f"#!{sys.executable}\nimport os, time\nopen(os.environ['SW_PID'], 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    hung.chmod(0o755)
    _script(tmp_path / "aplay")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "played"))
    monkeypatch.setenv("SW_EXIT", "1")
    monkeypatch.setenv("SW_PID", str(tmp_path / "hung.pid"))
    tty = Tty()
    sound = SoundChannel(SoundSettings(wav_path=tmp_path / "a.wav", timeout_s=1.0), terminal=tty)
    d = Dispatcher({"sound": sound}, retry=RetrySettings(attempt_timeout_s=0.5))
    (delivery,) = asyncio.run(asyncio.wait_for(d.dispatch(notice()), 20))
    assert not delivery.ok and "no exit within 1 s" in (delivery.error or "") and "rang the terminal bell" in (delivery.error or "")
    assert (tmp_path / "played.json").exists() and tty.getvalue() == "\a"  # aplay was tried, then the bell
    pid = int((tmp_path / "hung.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the hung player was killed


def test_a_configured_player_that_is_not_installed_still_rings_the_bell(tmp_path: Path) -> None:
    """Found by review: a configured player missing from the computer (a typo, or uninstalled)
    raised FileNotFoundError out of the channel: logged as a channel crash, and no bell rang."""
    tty = Tty()
    sound = SoundChannel(SoundSettings(command=(str(tmp_path / "mpv"), "{wav}"), wav_path=tmp_path / "a.wav"), terminal=tty)
    (delivery,) = asyncio.run(asyncio.wait_for(Dispatcher({"sound": sound}).dispatch(notice()), 20))
    assert not delivery.ok and tty.getvalue() == "\a"
    assert "mpv exit 127: cannot run" in (delivery.error or "") and "rang the terminal bell" in (delivery.error or "")


COUNTER = """#!/bin/sh
echo played >> "$SW_PLAYS"
"""


def _counting_player(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Callable[[], int]]:
    plays, player = tmp_path / "plays", tmp_path / "player"
    player.write_text(COUNTER)
    player.chmod(0o755)
    monkeypatch.setenv("SW_PLAYS", str(plays))
    return player, lambda: len(plays.read_text().splitlines()) if plays.exists() else 0


async def _ticks(d: Daemon, clock: HandClock, played: Callable[[], int], steps: int, step_s: float = 30.0) -> list[int]:
    """Move the daemon's clock on by ``step_s`` and tick, ``steps`` times; the play count after each
    (a repeat started by a tick is let finish first)."""
    counts = []
    for _ in range(steps):
        clock.t += step_s
        before = played()
        d._tick()
        repeat = next(iter(d._sounds))._repeat
        if repeat is not None and not repeat.done():
            await asyncio.wait_for(repeat, 10)
        assert played() - before <= 1
        counts.append(played())
    return counts


@pytest.mark.parametrize("answer", ["acknowledged", "false alarm"])
def test_an_unanswered_alarm_sounds_again_until_someone_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    """The sound played one two-second pattern per alarm (and one at the escalation): a parent asleep
    through it heard nothing more. It now plays again every ``repeat_every_s`` (30 s) of the daemon's
    clock while its engine says the alarm is open, and stops at the acknowledgement or "false alarm"."""
    player, played = _counting_player(tmp_path, monkeypatch)

    async def main() -> None:
        clock = HandClock(1_800_000_000.0)
        with Store(tmp_path / "db.sqlite") as store:
            store.upsert_device("cot", wall_s=clock.t)  # the alert history names a band the store knows
            sound = SoundChannel(SoundSettings(command=(str(player),), wav_path=tmp_path / "a.wav"))
            d = Daemon(store, [], {"sound": sound}, clock=clock, alert_settings=AlertSettings(escalate_after_s=3600))
            d.engine.on_spasm("cot", 1, 3, started_t=clock.t - 20)  # the third spasm: the alarm
            await d.dispatcher.drain()
            [alert] = d.engine.snapshot()["alerts"]
            assert alert["state"] == "ALARM" and played() == 1
            assert await _ticks(d, clock, played, 6, 10.0) == [1, 1, 2, 2, 2, 3]  # every 30 s
            if answer == "acknowledged":
                d.ack(alert["id"], "Mum")
            else:
                d.engine.label(1, "false_alarm", "Mum")
            await d.dispatcher.drain()
            assert await _ticks(d, clock, played, 4) == [3, 3, 3, 3], f"played after it was {answer}"
            assert sound._ringing == {}
            await d.dispatcher.close()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_the_repeats_stop_repeat_for_s_after_the_alarm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded: an alarm nobody answers rings for ``repeat_for_s`` (600 s), then the room is quiet
    and the channel keeps nothing of it (the soak's unanswered alarms: nothing grows)."""
    player, played = _counting_player(tmp_path, monkeypatch)

    async def main() -> None:
        clock = HandClock(1_800_000_000.0)
        with Store(tmp_path / "db.sqlite") as store:
            store.upsert_device("cot", wall_s=clock.t)
            sound = SoundChannel(SoundSettings(command=(str(player),), wav_path=tmp_path / "a.wav"))
            d = Daemon(store, [], {"sound": sound}, clock=clock, alert_settings=AlertSettings(escalate_after_s=3600))
            d.engine.on_spasm("cot", 1, 3)
            await d.dispatcher.drain()
            counts = await _ticks(d, clock, played, 24)
            assert d.engine.snapshot()["alerts"][0]["state"] == "ALARM"  # still open, nobody answered
            assert counts[18:] == [20] * 6  # the alarm, then 19 repeats at 30-570 s; none from 600 s
            assert sound._ringing == {}
            await d.dispatcher.close()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_sound_channel_a_reload_replaces_carries_on_repeating_the_unanswered_alarm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config reload that changes [channels.sound] puts a new channel in its place
    (daemon/reload.py): the alarm nobody answered goes on repeating on the new settings (every
    60 s here), counted from when it first played; the old channel plays no more."""
    player, played = _counting_player(tmp_path, monkeypatch)

    async def main() -> None:
        clock = HandClock(1_800_000_000.0)
        with Store(tmp_path / "db.sqlite") as store:
            store.upsert_device("cot", wall_s=clock.t)
            old = SoundChannel(SoundSettings(command=(str(player),), wav_path=tmp_path / "a.wav"))
            d = Daemon(store, [], {"sound": old}, clock=clock, alert_settings=AlertSettings(escalate_after_s=3600))
            d.engine.on_spasm("cot", 1, 3, started_t=clock.t - 20)
            await d.dispatcher.drain()
            assert await _ticks(d, clock, played, 3, 10.0) == [1, 1, 2]  # the alarm, its first repeat at 30 s
            new = SoundChannel(SoundSettings(command=(str(player),), wav_path=tmp_path / "b.wav", repeat_every_s=60.0))
            d.set_channels({"sound": new}, [], {})
            assert d._sounds == [new] and list(new.ringing()) == list(old.ringing())
            assert await _ticks(d, clock, played, 9, 10.0) == [2, 2, 3, 3, 3, 3, 3, 3, 4]  # at 60 s after it first played, then 120 s
            await d.dispatcher.close()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_the_default_alarm_wav_is_the_users_own_not_a_shared_temp_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It was /tmp/spasmwatch-alarm.wav for every account: one that made it first (another
    account's demo) left this one unable to write it (PermissionError: no sound), or could make it
    a link to this user's file, which the daemon then overwrote (old code: the file below replaced
    by the WAV). Now ~/.cache/spasmwatch/alarm.wav, made 0700."""
    import tempfile

    shared = tmp_path / "tmp"  # the world-writable temp folder
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    precious = tmp_path / "home" / "notes.txt"
    precious.parent.mkdir()
    precious.write_text("the baby's first words\n")
    (shared / "spasmwatch-alarm.wav").symlink_to(precious)  # laid by another account
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))
    player = _script(tmp_path / "player")
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "played"))
    asyncio.run(SoundChannel(SoundSettings(command=(str(player), "{wav}"))).send(notice()))
    assert precious.read_text() == "the baby's first words\n"
    played = json.loads((tmp_path / "played.json").read_text())[1]
    assert played == str(tmp_path / "home" / ".cache" / "spasmwatch" / "alarm.wav")
    assert (os.stat(Path(played).parent).st_mode & 0o777) == 0o700
    with wave.open(played, "rb") as w:
        assert w.getnframes() > 0


def test_without_a_home_to_write_in_the_alarm_wav_goes_to_a_temp_folder_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))  # e.g. a system user's /nonexistent
    wav = SoundChannel(SoundSettings()).wav()
    assert wav.parent.parent == tmp_path and wav.parent.name.startswith("spasmwatch-sound-") and wav.name == "alarm.wav"
    assert (os.stat(wav.parent).st_mode & 0o777) == 0o700 and wav.stat().st_size > 0


def test_a_configured_player_that_is_not_installed_cannot_sound_before_any_alarm(tmp_path: Path) -> None:
    """What the daemon asks at its start and each reload (family review follow-up): a [channels.sound]
    command whose program is not there (a typo, or uninstalled) was only found at the first alarm
    ('mpv exit 127: cannot run'), the channel shown fine until then. A command whose program is
    there, by path or on the PATH, can sound."""
    missing = SoundChannel(SoundSettings(command=(str(tmp_path / "mpv"), "{wav}"), wav_path=tmp_path / "a.wav"))
    why = missing.cannot_sound()
    assert why is not None and why.startswith(sound_tool.CANNOT_SOUND_HERE) and repr(str(tmp_path / "mpv")) in why, why
    player = tmp_path / "player"
    player.write_text(COUNTER)
    player.chmod(0o755)
    assert SoundChannel(SoundSettings(command=(str(player), "{wav}"), wav_path=tmp_path / "a.wav")).cannot_sound() is None
    assert SoundChannel(SoundSettings(command=("sh", "-c", "true"), wav_path=tmp_path / "a.wav")).cannot_sound() is None
