"""An [[channels.ntfy]] without ``name`` is called after its server and a hash of its URL, never
after its topic (the secret: whoever knows it reads the alarms and sends false ones), and what an
older spasmwatch kept under the topic's name is carried over, not orphaned.

Until 2026-12-05 such a table was the channel ``ntfy:<topic>``: the topic was in every log line,
the store's ``channels_failing``, outbox and alerts, 'spasmwatch status', /api/status, the page
and MQTT's retained status. Real parts: the config loaded from a file and wired as 'spasmwatch
run' does (daemon/main.py ``build``), the SQLite store on disk reopened by each run (a restart,
an update in between), an ntfy receiver on 127.0.0.1 that answers 500 then 200, the daemon's
HTTP API and 'spasmwatch test-alarm' against it; the expected name is computed here from the
rule (sha256), not by the code under test.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from servers import Recorder, free_port, http_recorder, run_then_close

from spasmwatch.alerts.channels import NtfyChannel, NtfySettings, RetrySettings
from spasmwatch.config import load_config
from spasmwatch.daemon.http import HttpServer
from spasmwatch.daemon.main import build
from spasmwatch.store import Store

from .cot_daemon import NOW, StillClock, alarm, cot_daemon

TOPIC = "ada-band-5c9e1f7a3b28"  # the secret
LATER = NOW + 60.0  # the updated daemon's start: the alarm is still open, so its kept push is resent
FAST = RetrySettings(attempts=2, first_delay_s=0.05)


def _config(path: Path, url: str, http_port: int) -> None:
    """A hand-written config as families have them: the ntfy table without a name, the caregiver
    listing it by its topic (its name until 2026-12-05); no sound or desktop in a test."""
    path.write_text(
        f'[daemon.http]\nport = {http_port}\n[channels.sound]\nenabled = false\n[channels.desktop]\nenabled = false\n'
        f'[[channels.ntfy]]\nurl = "{url}"\n[[caregivers]]\nname = "mum"\nchannels = ["ntfy:{TOPIC}"]\n'
    )  # fmt: skip


def _store_text(db: Path) -> str:
    with sqlite3.connect(db) as c:
        return "\n".join(c.iterdump())


async def _until(ok: object, what: str, timeout_s: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not ok():  # type: ignore[operator]
        assert loop.time() < deadline, f"{what}: not within {timeout_s:g} s"
        await asyncio.sleep(0.02)


async def _older_run(db: Path, phone: Recorder) -> None:
    """What an older spasmwatch left: its channel named after the topic refused the 03:00 alarm
    (HTTP 500 twice): kept in the outbox for a resend, listed failing, the alert's channels."""
    old = f"ntfy:{TOPIC}"
    with Store(db) as store:
        d = cot_daemon(store, {old: NtfyChannel(NtfySettings(url=f"{phone.url}/{TOPIC}", name=old))}, retry=FAST)
        await d.start()
        try:
            alarm(d)
            await d.dispatcher.drain()
        finally:
            await d.stop()
        assert [r.channel for r in store.failing_channels()] == [old] and len(store.outgoing(old)) == 1


def test_an_unnamed_ntfy_is_named_without_its_topic_and_keeps_what_was_kept_under_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    # (the daemon's store is the config's: the commands refuse another store's daemon)
    db, config, http_port = tmp_path / "spasmwatch.db", tmp_path / "config.toml", free_port()
    seen: dict[str, object] = {}

    async def main() -> None:
        async with http_recorder([500, 500]) as phone:  # refuses the older run's alarm, takes all after
            url = f"{phone.url}/{TOPIC}"
            name = "ntfy:127.0.0.1-" + hashlib.sha256(url.encode()).hexdigest()[:6]
            seen["name"] = name
            await _older_run(db, phone)
            assert TOPIC in _store_text(db)  # the older run's rows: what must be moved
            caplog.clear()
            _config(config, url, http_port)
            with Store(db) as store:  # the updated spasmwatch starts on the same store
                d = build(load_config(config), store, clock=StillClock(LATER))
                assert list(d.dispatcher.channels) == [name]
                assert [(cg.name, cg.channels) for cg in d.dispatcher.caregivers] == [("mum", (name,))]  # the topic still routes
                # Before start: the failure kept under the topic shows under the new name, its error too.
                [f] = d.status()["channels_failing"]
                assert f["channel"] == name and f["since"] == NOW and f["error"].startswith(f"{name}: HTTP 500"), f
                seen["failing_before"] = json.dumps(f)
                assert [r.channel for r in store.outgoing(name)] == [name]
                server = HttpServer(d, host="127.0.0.1", port=http_port)
                await server.start()
                await d.start()
                try:
                    # The kept alarm is resent at start, under the new name, and taken.
                    await _until(lambda: store.outgoing(name) == [] and d.status()["channels_failing"] == [], "the kept alarm resent")
                    assert [s.path for s in phone.seen] == [f"/{TOPIC}"] * 3, phone.seen
                    assert phone.seen[2].headers["Priority"] == "urgent", phone.seen[2].headers
                    # 'spasmwatch test-alarm --channel ntfy:<topic>': the old name still reaches it.
                    monkeypatch.setenv("SPASMWATCH_CONFIG", str(config))
                    monkeypatch.setenv("SPASMWATCH_DATA_DIR", str(tmp_path))
                    from spasmwatch.commands import test_alarm

                    rc = await asyncio.to_thread(test_alarm.run, argparse.Namespace(config=None, channel=f"ntfy:{TOPIC}", by="mum"))
                    seen["cli"] = capsys.readouterr().out
                    assert rc == 0 and len(phone.seen) == 4, seen["cli"]
                    async with aiohttp.ClientSession() as http:
                        # The daemon takes the old name too (an older CLI, a script on the API).
                        async with http.post(f"http://127.0.0.1:{http_port}/api/test-alarm", json={"channel": f"ntfy:{TOPIC}", "by": "dad"}) as r:
                            seen["api_test"] = await r.text()
                            assert r.status == 200 and json.loads(seen["api_test"])["results"][0]["ok"], seen["api_test"]
                        async with http.get(f"http://127.0.0.1:{http_port}/api/status") as r:
                            seen["api"] = await r.text()
                    assert len(phone.seen) == 5, phone.seen
                    seen["history"] = json.dumps([list(a.channels) for a in store.alerts()])
                finally:
                    await d.stop()
                    await server.stop()

    run_then_close(main)
    name = str(seen["name"])
    assert f"(that is the channel {name} now: " in str(seen["cli"]) and f"  {name}: delivered" in str(seen["cli"]), seen["cli"]
    assert json.loads(str(seen["history"])) == [[name]], seen["history"]  # the alert's channels, renamed
    ours = "\n".join(logging.Formatter().format(r) for r in caplog.records if r.name.startswith("spasmwatch"))
    # Said at start: the name it got, the caregiver's old name, the rows moved; none with the topic.
    assert "[channels.ntfy #1] (http://127.0.0.1:" in ours and f"has no name: called {name} " in ours, ours
    assert f"[caregivers #1] mum lists an ntfy channel by an old name (its topic, or the name it had without one): it is {name} now" in ours, ours
    assert f"{name}: 3 row(s) the store kept under its old name" in ours, ours
    for where, text in [("spasmwatch's log", ours), ("the store", _store_text(db)), ("/api/status", seen["api"]), ("/api/test-alarm", seen["api_test"]),
                        ("'spasmwatch test-alarm'", seen["cli"]), ("the failing channel restored", seen["failing_before"])]:  # fmt: skip
        assert TOPIC not in str(text), f"{where} holds the topic: {text}"


def test_naming_an_unnamed_ntfy_later_keeps_its_rows_and_its_old_names_route(tmp_path: Path) -> None:
    """The start's advice followed (name = "phones"): what was kept under the topic or under the
    hash name moves to ntfy:phones, and caregivers listing either old name reach it."""
    url = f"https://ntfy.sh/{TOPIC}"
    hashed = "ntfy:ntfy.sh-" + hashlib.sha256(url.encode()).hexdigest()[:6]
    db, config = tmp_path / "db.sqlite", tmp_path / "config.toml"
    with Store(db) as store:
        store.keep_failing(f"ntfy:{TOPIC}", NOW, f"ntfy:{TOPIC}: HTTP 403 from https://ntfy.sh: forbidden")
        store.keep_outgoing(hashed, "alert-1-ALARM", "cot", "{}", NOW, 4, 500)
        store.keep_outgoing(f"ntfy:{TOPIC}", "alert-1-ALARM", "cot", "{}", NOW, 4, 500)  # the same push under both: kept once
    config.write_text(
        f'[channels.sound]\nenabled = false\n[channels.desktop]\nenabled = false\n[[channels.ntfy]]\nurl = "{url}"\nname = "phones"\n'
        f'[[caregivers]]\nname = "mum"\nchannels = ["ntfy:{TOPIC}"]\n[[caregivers]]\nname = "dad"\nchannels = ["{hashed}", "ntfy:phones"]\n'
    )  # fmt: skip

    async def main() -> None:
        with Store(db) as store:
            d = build(load_config(config), store, clock=StillClock(LATER))
            assert [(cg.name, cg.channels) for cg in d.dispatcher.caregivers] == [("mum", ("ntfy:phones",)), ("dad", ("ntfy:phones",))]
            assert [(r.channel, r.error) for r in store.failing_channels()] == [("ntfy:phones", "ntfy:phones: HTTP 403 from https://ntfy.sh: forbidden")]
            assert [(r.channel, r.key) for r in store.outgoing("ntfy:phones")] == [("ntfy:phones", "alert-1-ALARM")]
            await d.dispatcher.close()

    asyncio.run(main())
    assert TOPIC not in _store_text(db)
